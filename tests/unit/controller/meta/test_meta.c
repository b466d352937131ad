/* test_meta.c: metadata image apply/snapshot/restore, dedup, deltas, and the
 * controller builders (placement, election, AlterPartition, fencing,
 * reassignment). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "alloc.h"
#include "err.h"
#include "meta.h"
#include "meta_int.h"

#define E(x) RIFFLE__ERROR_CODE__##x
#define REC(x) RIFFLE__METADATA_RECORD__RECORD_##x
#define ST(x) RIFFLE__BROKER_STATE__BROKER_##x

struct fx {
    struct rf_meta_image *img;
    int64_t off;
    uint32_t next_req;
    struct rf_meta_defaults defs;
};

static int fx_setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    f->img = rf_meta_image_new();
    f->defs.num_partitions = 3;
    f->defs.default_replication = 3;
    f->defs.max_partitions_per_topic = 1000;
    f->defs.unclean_leader_election = false;
    *state = f;
    return 0;
}

static int fx_teardown(void **state)
{
    struct fx *f = *state;
    rf_meta_image_free(f->img);
    free(f);
    return 0;
}

static void req_id(struct fx *f, ProtobufCBinaryData *b, uint8_t *store)
{
    memset(store, 0xa5, 16);
    memcpy(store, &f->next_req, sizeof(f->next_req));
    f->next_req++;
    b->data = store;
    b->len = 16;
}

static uint8_t *pack_cmd(const Riffle__MetadataCommand *cmd, size_t *len)
{
    *len = riffle__metadata_command__get_packed_size(cmd);
    uint8_t *buf = malloc(*len + 1);
    riffle__metadata_command__pack(cmd, buf);
    return buf;
}

/* Packs cmd, applies it at the next offset and frees cmd's contents. */
static int apply_cmd(struct fx *f, Riffle__MetadataCommand *cmd)
{
    size_t len;
    uint8_t *buf = pack_cmd(cmd, &len);
    int rc = rf_meta_apply(f->img, ++f->off, buf, len);
    free(buf);
    rf_meta_command_free(cmd);
    return rc;
}

/* Hash of the image with the offset zeroed: "nothing but the offset moved". */
static uint64_t state_hash(const struct rf_meta_image *img)
{
    uint8_t *buf, *buf2;
    size_t len;
    uint64_t h = 1469598103934665603ull;
    assert_int_equal(rf_meta_snapshot(img, &buf, &len), 0);
    Riffle__MetadataImage *m = riffle__metadata_image__unpack(NULL, len, buf);
    assert_non_null(m);
    m->offset = 0;
    len = riffle__metadata_image__get_packed_size(m);
    buf2 = malloc(len + 1);
    riffle__metadata_image__pack(m, buf2);
    for (size_t i = 0; i < len; i++)
        h = (h ^ buf2[i]) * 1099511628211ull;
    riffle__metadata_image__free_unpacked(m, NULL);
    free(buf2);
    rf_free(buf);
    return h;
}

static void register_broker(struct fx *f, int32_t id, const char *rack)
{
    Riffle__RegisterBrokerRequest req = RIFFLE__REGISTER_BROKER_REQUEST__INIT;
    Riffle__RegisterBrokerResponse resp =
        RIFFLE__REGISTER_BROKER_RESPONSE__INIT;
    Riffle__MetadataCommand cmd = RIFFLE__METADATA_COMMAND__INIT;
    Riffle__Endpoint ep = RIFFLE__ENDPOINT__INIT, *eps[1] = {&ep};
    uint8_t inc[16], rid[16];
    memset(inc, 0x11, sizeof(inc));
    memcpy(inc, &f->next_req, sizeof(f->next_req));
    req_id(f, &req.request_id, rid);
    req.broker_id = id;
    req.incarnation_id.data = inc;
    req.incarnation_id.len = 16;
    ep.name = "PLAINTEXT";
    ep.host = "127.0.0.1";
    ep.port = (uint32_t)(9092 + id);
    req.n_endpoints = 1;
    req.endpoints = eps;
    req.rack = (char *)(rack ? rack : "");
    assert_int_equal(
        rf_meta_build_register_broker(f->img, &req, false, &cmd, &resp), 0);
    assert_int_equal(apply_cmd(f, &cmd), E(NONE));
    rf_meta_response_free(&resp.base);
}

static void unfence(struct fx *f, int32_t id)
{
    Riffle__MetadataCommand cmd = RIFFLE__METADATA_COMMAND__INIT;
    assert_int_equal(rf_meta_build_unfence(f->img, id, &cmd), 0);
    assert_int_equal(apply_cmd(f, &cmd), E(NONE));
}

static void fence(struct fx *f, int32_t id)
{
    Riffle__MetadataCommand cmd = RIFFLE__METADATA_COMMAND__INIT;
    assert_int_equal(rf_meta_build_fence(f->img, &f->defs, id, &cmd), 0);
    assert_int_equal(apply_cmd(f, &cmd), E(NONE));
}

static void add_brokers(struct fx *f, int n, const char *const *racks)
{
    for (int i = 1; i <= n; i++) {
        register_broker(f, i, racks ? racks[i - 1] : NULL);
        unfence(f, i);
    }
}

/* CreateTopics for one topic; returns the per-topic error and applies. */
static int create_topic_cfg(struct fx *f, const char *name, int32_t np,
                            int32_t rf, Riffle__ConfigEntry **cfgs, size_t ncfg)
{
    Riffle__CreatableTopic t = RIFFLE__CREATABLE_TOPIC__INIT, *ts[1] = {&t};
    Riffle__CreateTopicsRequest req = RIFFLE__CREATE_TOPICS_REQUEST__INIT;
    Riffle__CreateTopicsResponse resp = RIFFLE__CREATE_TOPICS_RESPONSE__INIT;
    Riffle__MetadataCommand cmd = RIFFLE__METADATA_COMMAND__INIT;
    uint8_t rid[16];
    req_id(f, &req.request_id, rid);
    t.name = (char *)name;
    t.num_partitions = np;
    t.replication_factor = rf;
    t.configs = cfgs;
    t.n_configs = ncfg;
    req.topics = ts;
    req.n_topics = 1;
    int rc = rf_meta_build_create_topics(f->img, &f->defs, &req, &cmd, &resp);
    assert_int_equal(resp.n_topics, 1);
    int err = resp.topics[0]->error;
    assert_int_equal(rc, err == E(NONE) ? 0 : RF_ENOENT);
    if (rc == 0)
        assert_int_equal(apply_cmd(f, &cmd), E(NONE));
    else
        rf_meta_command_free(&cmd);
    rf_meta_response_free(&resp.base);
    return err;
}

static int create_topic(struct fx *f, const char *name, int32_t np, int32_t rf)
{
    return create_topic_cfg(f, name, np, rf, NULL, 0);
}

static struct rf_meta_partition part_of(struct fx *f, const char *name,
                                        int32_t p)
{
    struct rf_meta_topic t;
    struct rf_meta_partition mp;
    assert_true(rf_meta_topic_get(f->img, name, &t));
    assert_true(rf_meta_partition_get(f->img, &t.id, p, &mp));
    return mp;
}

static bool in_list(const int32_t *v, size_t n, int32_t x)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] == x)
            return true;
    return false;
}

/* ---- names ---- */

static void test_topic_name_table(void **state)
{
    char long_ok[250], long_bad[251];
    (void)state;
    memset(long_ok, 'a', 249);
    long_ok[249] = '\0';
    memset(long_bad, 'a', 250);
    long_bad[250] = '\0';
    const struct {
        const char *name;
        bool valid;
    } cases[] = {
        {"orders", true}, {"a.b_c-D9", true},     {"__consumer_offsets", true},
        {"...", true},    {long_ok, true},        {"", false},
        {".", false},     {"..", false},          {"a b", false},
        {"a/b", false},   {"caf\xc3\xa9", false}, {long_bad, false},
        {"x\n", false},   {"a:b", false},         {NULL, false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_int_equal(rf_meta_topic_name_valid(cases[i].name),
                         cases[i].valid);
}

/* ---- placement ---- */

static void test_placement_balance(void **state)
{
    struct fx *f = *state;
    int leads[4] = {0}, holds[4] = {0};
    add_brokers(f, 3, NULL);
    assert_int_equal(create_topic(f, "orders", 6, 3), E(NONE));
    for (int32_t p = 0; p < 6; p++) {
        struct rf_meta_partition mp = part_of(f, "orders", p);
        assert_int_equal(mp.n_replicas, 3);
        assert_int_equal(mp.n_isr, 3);
        assert_int_equal(mp.leader, mp.replicas[0]);
        assert_int_equal(mp.leader_epoch, 0);
        assert_int_equal(mp.partition_epoch, 0);
        leads[mp.leader]++;
        for (size_t r = 0; r < mp.n_replicas; r++)
            holds[mp.replicas[r]]++;
    }
    for (int b = 1; b <= 3; b++) {
        assert_int_equal(leads[b], 2);
        assert_int_equal(holds[b], 6);
        assert_int_equal(rf_meta_leaderships(f->img, b), 2);
    }
    /* single-partition topics rotate their leader */
    assert_int_equal(create_topic(f, "a", 1, 1), E(NONE));
    assert_int_equal(create_topic(f, "b", 1, 1), E(NONE));
    assert_int_equal(create_topic(f, "c", 1, 1), E(NONE));
    int32_t la = part_of(f, "a", 0).leader, lb = part_of(f, "b", 0).leader,
            lc = part_of(f, "c", 0).leader;
    assert_true(la != lb && lb != lc && la != lc);
}

static void test_placement_rack_aware(void **state)
{
    struct fx *f = *state;
    static const char *const racks[] = {"r1", "r1", "r2", "r2", "r3", "r3"};
    add_brokers(f, 6, racks);
    assert_int_equal(create_topic(f, "racked", 12, 3), E(NONE));
    int leads[7] = {0};
    for (int32_t p = 0; p < 12; p++) {
        struct rf_meta_partition mp = part_of(f, "racked", p);
        bool rack_seen[3] = {false, false, false};
        for (size_t r = 0; r < 3; r++) {
            int rack = (mp.replicas[r] - 1) / 2;
            assert_false(rack_seen[rack]);
            rack_seen[rack] = true;
        }
        leads[mp.leader]++;
    }
    for (int b = 1; b <= 6; b++)
        assert_int_equal(leads[b], 2);
}

static void test_placement_only_unfenced(void **state)
{
    struct fx *f = *state;
    add_brokers(f, 3, NULL);
    register_broker(f, 4, NULL); /* registered, still fenced */
    assert_int_equal(create_topic(f, "t", 8, 3), E(NONE));
    for (int32_t p = 0; p < 8; p++) {
        struct rf_meta_partition mp = part_of(f, "t", p);
        assert_false(in_list(mp.replicas, mp.n_replicas, 4));
    }
    assert_int_equal(create_topic(f, "t4", 1, 4),
                     E(INVALID_REPLICATION_FACTOR));
}

/* ---- CreateTopics validation table ---- */

static void test_create_topics_table(void **state)
{
    struct fx *f = *state;
    Riffle__ConfigEntry c_ok = RIFFLE__CONFIG_ENTRY__INIT,
                        c_bad = RIFFLE__CONFIG_ENTRY__INIT,
                        c_unknown = RIFFLE__CONFIG_ENTRY__INIT,
                        c_list = RIFFLE__CONFIG_ENTRY__INIT;
    Riffle__ConfigEntry *ok[] = {&c_ok, &c_list}, *bad[] = {&c_bad},
                        *unk[] = {&c_unknown}, *dup[] = {&c_ok, &c_ok};
    c_ok.name = "retention.ms";
    c_ok.value = "-1";
    c_list.name = "cleanup.policy";
    c_list.value = "compact,delete";
    c_bad.name = "min.insync.replicas";
    c_bad.value = "0";
    c_unknown.name = "no.such.config";
    c_unknown.value = "1";
    add_brokers(f, 3, NULL);
    const struct {
        const char *name;
        int32_t np, rf;
        Riffle__ConfigEntry **cfg;
        size_t ncfg;
        int expect;
    } cases[] = {
        {"ok", 2, 2, ok, 2, E(NONE)},
        {"ok", 2, 2, NULL, 0, E(TOPIC_ALREADY_EXISTS)},
        {"defaults", -1, -1, NULL, 0, E(NONE)},
        {"bad name", 1, 1, NULL, 0, E(INVALID_TOPIC_NAME)},
        {"..", 1, 1, NULL, 0, E(INVALID_TOPIC_NAME)},
        {"zero", 0, 1, NULL, 0, E(INVALID_PARTITIONS)},
        {"toomany", 1001, 1, NULL, 0, E(INVALID_PARTITIONS)},
        {"neg", -5, 1, NULL, 0, E(INVALID_PARTITIONS)},
        {"rf0", 1, 0, NULL, 0, E(INVALID_REPLICATION_FACTOR)},
        {"rf4", 1, 4, NULL, 0, E(INVALID_REPLICATION_FACTOR)},
        {"badcfg", 1, 1, bad, 1, E(INVALID_CONFIG)},
        {"unkcfg", 1, 1, unk, 1, E(INVALID_CONFIG)},
        {"dupcfg", 1, 1, dup, 2, E(INVALID_CONFIG)},
        {"o.k", 1, 1, NULL, 0, E(NONE)},
        {"o_k", 1, 1, NULL, 0, E(INVALID_TOPIC_NAME)}, /* '.' vs '_' clash */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_int_equal(create_topic_cfg(f, cases[i].name, cases[i].np,
                                          cases[i].rf, cases[i].cfg,
                                          cases[i].ncfg),
                         cases[i].expect);
    assert_string_equal(rf_meta_topic_config(f->img, "ok", "retention.ms"),
                        "-1");
    assert_int_equal(part_of(f, "defaults", 2).n_replicas, 3);
    assert_int_equal(rf_meta_topic_count(f->img), 3);
}

static void test_config_values_table(void **state)
{
    (void)state;
    const struct {
        const char *name, *value;
        int expect;
    } cases[] = {
        {"retention.ms", "604800000", E(NONE)},
        {"retention.ms", "-2", E(INVALID_CONFIG)},
        {"retention.ms", "12x", E(INVALID_CONFIG)},
        {"retention.ms", "", E(INVALID_CONFIG)},
        {"retention.bytes", "99999999999999999999", E(INVALID_CONFIG)},
        {"segment.bytes", "13", E(INVALID_CONFIG)},
        {"segment.bytes", "1048576", E(NONE)},
        {"segment.ms", "0", E(INVALID_CONFIG)},
        {"max.message.bytes", "1000000", E(NONE)},
        {"message.timestamp.type", "LogAppendTime", E(NONE)},
        {"message.timestamp.type", "logappendtime", E(INVALID_CONFIG)},
        {"unclean.leader.election.enable", "true", E(NONE)},
        {"unclean.leader.election.enable", "yes", E(INVALID_CONFIG)},
        {"compression.type", "zstd", E(NONE)},
        {"compression.type", "brotli", E(INVALID_CONFIG)},
        {"cleanup.policy", "compact", E(NONE)},
        {"cleanup.policy", "compact,", E(INVALID_CONFIG)},
        {"cleanup.policy", "", E(INVALID_CONFIG)},
        {"Retention.ms", "1", E(INVALID_CONFIG)},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_int_equal(
            rf__meta_topic_config_check(cases[i].name, cases[i].value),
            cases[i].expect);
}

static int create_assigned(struct fx *f, const char *name,
                           Riffle__ReplicaAssignment **as, size_t n)
{
    Riffle__CreatableTopic t = RIFFLE__CREATABLE_TOPIC__INIT, *ts[1] = {&t};
    Riffle__CreateTopicsRequest req = RIFFLE__CREATE_TOPICS_REQUEST__INIT;
    Riffle__CreateTopicsResponse resp = RIFFLE__CREATE_TOPICS_RESPONSE__INIT;
    Riffle__MetadataCommand cmd = RIFFLE__METADATA_COMMAND__INIT;
    t.name = (char *)name;
    t.num_partitions = -1;
    t.replication_factor = -1;
    t.assignments = as;
    t.n_assignments = n;
    req.topics = ts;
    req.n_topics = 1;
    int rc = rf_meta_build_create_topics(f->img, &f->defs, &req, &cmd, &resp);
    int err = resp.topics[0]->error;
    if (rc == 0)
        assert_int_equal(apply_cmd(f, &cmd), E(NONE));
    else
        rf_meta_command_free(&cmd);
    rf_meta_response_free(&resp.base);
    return err;
}

static void test_manual_assignment_table(void **state)
{
    struct fx *f = *state;
    int32_t r123[] = {1, 2, 3}, r321[] = {3, 2, 1}, r12[] = {1, 2},
            r11[] = {1, 1, 2}, r19[] = {1, 9, 2}, r44[] = {4, 2, 1}, r4[] = {4};
    Riffle__ReplicaAssignment a0 = RIFFLE__REPLICA_ASSIGNMENT__INIT,
                              a1 = RIFFLE__REPLICA_ASSIGNMENT__INIT,
                              a2 = RIFFLE__REPLICA_ASSIGNMENT__INIT;
    Riffle__ReplicaAssignment *as[] = {&a0, &a1, &a2};
    add_brokers(f, 3, NULL);
    register_broker(f, 4, NULL); /* fenced */
#define SET(a, p, v)                                                           \
    (a.partition = p, a.broker_ids = v,                                        \
     a.n_broker_ids = sizeof(v) / sizeof(v[0]))
    const struct {
        int32_t *v0, *v1;
        size_t n0, n1;
        int32_t p1;
        int expect;
    } cases[] = {
        {r123, r321, 3, 3, 1, E(NONE)},
        {r123, r12, 3, 2, 1, E(INVALID_REPLICA_ASSIGNMENT)},
        {r123, r11, 3, 3, 1, E(INVALID_REPLICA_ASSIGNMENT)},
        {r123, r19, 3, 3, 1, E(INVALID_REPLICA_ASSIGNMENT)},
        {r123, r321, 3, 3, 2, E(INVALID_REPLICA_ASSIGNMENT)},
        {r123, r321, 3, 3, 0, E(INVALID_REPLICA_ASSIGNMENT)},
        {r44, r123, 3, 3, 1, E(NONE)},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char name[16];
        snprintf(name, sizeof(name), "m%zu", i);
        a0.partition = 0;
        a0.broker_ids = cases[i].v0;
        a0.n_broker_ids = cases[i].n0;
        a1.partition = cases[i].p1;
        a1.broker_ids = cases[i].v1;
        a1.n_broker_ids = cases[i].n1;
        assert_int_equal(create_assigned(f, name, as, 2), cases[i].expect);
    }
    /* fenced broker 4 is a replica but not in the ISR nor the leader */
    struct rf_meta_partition mp = part_of(f, "m6", 0);
    assert_int_equal(mp.leader, 2);
    assert_int_equal(mp.n_isr, 2);
    assert_false(in_list(mp.isr, mp.n_isr, 4));
    /* all replicas fenced */
    SET(a0, 0, r4);
    assert_int_equal(create_assigned(f, "fenced", as, 1),
                     E(INVALID_REPLICA_ASSIGNMENT));
    (void)a2;
#undef SET
}

/* ---- dedup ---- */

static void test_retried_command_applies_once(void **state)
{
    struct fx *f = *state;
    Riffle__CreatableTopic t = RIFFLE__CREATABLE_TOPIC__INIT, *ts[1] = {&t};
    Riffle__CreateTopicsRequest req = RIFFLE__CREATE_TOPICS_REQUEST__INIT;
    Riffle__CreateTopicsResponse resp = RIFFLE__CREATE_TOPICS_RESPONSE__INIT;
    Riffle__MetadataCommand cmd = RIFFLE__METADATA_COMMAND__INIT;
    uint8_t rid[16];
    size_t len;
    int result;
    int64_t at;
    add_brokers(f, 1, NULL);
    req_id(f, &req.request_id, rid);
    t.name = "once";
    t.num_partitions = 1;
    t.replication_factor = 1;
    req.topics = ts;
    req.n_topics = 1;
    assert_int_equal(
        rf_meta_build_create_topics(f->img, &f->defs, &req, &cmd, &resp), 0);
    uint8_t *buf = pack_cmd(&cmd, &len);
    rf_meta_command_free(&cmd);
    rf_meta_response_free(&resp.base);
    assert_int_equal(rf_meta_apply(f->img, ++f->off, buf, len), E(NONE));
    int64_t first = f->off;
    uint64_t h = state_hash(f->img);
    /* the same bytes again: the earlier result, no second apply */
    assert_int_equal(rf_meta_apply(f->img, ++f->off, buf, len), E(NONE));
    assert_int_equal(state_hash(f->img), h);
    assert_int_equal(rf_meta_offset(f->img), f->off);
    assert_true(rf_meta_request_result(f->img, rid, &result, &at));
    assert_int_equal(result, E(NONE));
    assert_int_equal(at, first);
    /* a different command under the same id is not applied either */
    t.name = "other";
    cmd = (Riffle__MetadataCommand)RIFFLE__METADATA_COMMAND__INIT;
    assert_int_equal(
        rf_meta_build_create_topics(f->img, &f->defs, &req, &cmd, &resp), 0);
    rf_meta_response_free(&resp.base);
    assert_int_equal(apply_cmd(f, &cmd), E(NONE));
    assert_int_equal(state_hash(f->img), h);
    assert_int_equal(rf_meta_topic_count(f->img), 1);
    free(buf);
}

static void test_rejected_command_remembers_result(void **state)
{
    struct fx *f = *state;
    uint8_t rid[16];
    int result;
    add_brokers(f, 1, NULL);
    assert_int_equal(create_topic(f, "dup", 1, 1), E(NONE));
    /* a topic record for a name that exists: rejected, result remembered */
    Riffle__MetadataCommand cmd = RIFFLE__METADATA_COMMAND__INIT;
    ProtobufCBinaryData tmp;
    req_id(f, &tmp, rid);
    Riffle__TopicRecord *tr = rf__meta_cmd_add(&cmd, REC(TOPIC));
    uint8_t tid[16];
    memset(tid, 7, 16);
    tr->name = rf_strdup("dup");
    rf__meta_bytes_set(&tr->topic_id, tid, 16);
    rf__meta_bytes_set(&cmd.request_id, rid, 16);
    uint64_t h = state_hash(f->img);
    assert_int_equal(apply_cmd(f, &cmd), E(TOPIC_ALREADY_EXISTS));
    assert_true(rf_meta_request_result(f->img, rid, &result, NULL));
    assert_int_equal(result, E(TOPIC_ALREADY_EXISTS));
    assert_true(state_hash(f->img) != h); /* only the dedup entry */
}

static void test_dedup_table_bounded(void **state)
{
    struct fx *f = *state;
    uint8_t first[16], rid[16];
    for (int i = 0; i < RF_META_RECENT_MAX + 10; i++) {
        Riffle__MetadataCommand cmd = RIFFLE__METADATA_COMMAND__INIT;
        req_id(f, &cmd.request_id, rid);
        if (i == 0)
            memcpy(first, rid, 16);
        size_t len;
        uint8_t *buf = pack_cmd(&cmd, &len);
        assert_int_equal(rf_meta_apply(f->img, ++f->off, buf, len), E(NONE));
        free(buf);
    }
    assert_false(rf_meta_request_result(f->img, first, NULL, NULL));
    assert_true(rf_meta_request_result(f->img, rid, NULL, NULL));
    for (uint32_t k = 10; k < 200; k += 37) { /* spot check survivors */
        uint8_t id[16];
        memset(id, 0xa5, 16);
        memcpy(id, &k, sizeof(k));
        assert_true(rf_meta_request_result(f->img, id, NULL, NULL));
    }
}

/* ---- AlterPartition ---- */

static int alter_isr(struct fx *f, const char *topic, int32_t p, int32_t broker,
                     int32_t leader_epoch, int32_t partition_epoch,
                     int32_t *isr, size_t n_isr, bool apply)
{
    struct rf_meta_topic t;
    struct rf_meta_broker b;
    Riffle__AlterPartitionItem it = RIFFLE__ALTER_PARTITION_ITEM__INIT,
                               *its[1] = {&it};
    Riffle__AlterPartitionRequest req = RIFFLE__ALTER_PARTITION_REQUEST__INIT;
    Riffle__AlterPartitionResponse resp =
        RIFFLE__ALTER_PARTITION_RESPONSE__INIT;
    Riffle__MetadataCommand cmd = RIFFLE__METADATA_COMMAND__INIT;
    assert_true(rf_meta_topic_get(f->img, topic, &t));
    assert_true(rf_meta_broker_get(f->img, broker, &b));
    it.topic_id.data = t.id.b;
    it.topic_id.len = 16;
    it.partition = p;
    it.leader_epoch = leader_epoch;
    it.partition_epoch = partition_epoch;
    it.new_isr = isr;
    it.n_new_isr = n_isr;
    req.broker_id = broker;
    req.broker_epoch = b.epoch;
    req.partitions = its;
    req.n_partitions = 1;
    int rc = rf_meta_build_alter_partition(f->img, &req, &cmd, &resp);
    assert_int_equal(resp.n_partitions, 1);
    int err = resp.partitions[0]->error;
    if (rc == 0 && apply) {
        assert_int_equal(apply_cmd(f, &cmd), E(NONE));
        struct rf_meta_partition mp = part_of(f, topic, p);
        assert_int_equal(mp.partition_epoch,
                         resp.partitions[0]->partition_epoch);
    } else {
        rf_meta_command_free(&cmd);
    }
    rf_meta_response_free(&resp.base);
    return err;
}

static void test_alter_partition(void **state)
{
    struct fx *f = *state;
    add_brokers(f, 3, NULL);
    assert_int_equal(create_topic(f, "ap", 1, 3), E(NONE));
    struct rf_meta_partition mp = part_of(f, "ap", 0);
    int32_t leader = mp.leader, other = mp.replicas[1];
    int32_t shrink[] = {leader, other}, bad_dup[] = {leader, leader},
            no_leader[] = {other}, outsider[] = {leader, 9};
    const struct {
        int32_t broker, le, pe;
        int32_t *isr;
        size_t n;
        int expect;
    } cases[] = {
        {other, 0, 0, shrink, 2, E(NOT_LEADER)},
        {leader, 1, 0, shrink, 2, E(FENCED_LEADER_EPOCH)},
        {leader, 0, 3, shrink, 2, E(INVALID_UPDATE_VERSION)},
        {leader, 0, 0, bad_dup, 2, E(INVALID_REQUEST)},
        {leader, 0, 0, no_leader, 1, E(INVALID_REQUEST)},
        {leader, 0, 0, outsider, 2, E(INELIGIBLE_REPLICA)},
        {leader, 0, 0, NULL, 0, E(INVALID_REQUEST)},
        {leader, 0, 0, shrink, 2, E(NONE)},
        /* the same request again: its partition epoch is now stale */
        {leader, 0, 0, shrink, 2, E(INVALID_UPDATE_VERSION)},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_int_equal(alter_isr(f, "ap", 0, cases[i].broker, cases[i].le,
                                   cases[i].pe, cases[i].isr, cases[i].n, true),
                         cases[i].expect);
    mp = part_of(f, "ap", 0);
    assert_int_equal(mp.partition_epoch, 1);
    assert_int_equal(mp.leader_epoch, 0);
    assert_int_equal(mp.n_isr, 2);
}

static void test_stale_partition_change_rejected_at_apply(void **state)
{
    struct fx *f = *state;
    int32_t isr2[2];
    add_brokers(f, 3, NULL);
    assert_int_equal(create_topic(f, "st", 1, 3), E(NONE));
    struct rf_meta_partition mp = part_of(f, "st", 0);
    struct rf_meta_topic t;
    struct rf_meta_broker b;
    assert_true(rf_meta_topic_get(f->img, "st", &t));
    assert_true(rf_meta_broker_get(f->img, mp.leader, &b));
    isr2[0] = mp.leader;
    isr2[1] = mp.replicas[1];
    /* two AlterPartition commands built against the same image */
    Riffle__AlterPartitionItem it = RIFFLE__ALTER_PARTITION_ITEM__INIT,
                               *its[1] = {&it};
    Riffle__AlterPartitionRequest req = RIFFLE__ALTER_PARTITION_REQUEST__INIT;
    Riffle__AlterPartitionResponse r1 = RIFFLE__ALTER_PARTITION_RESPONSE__INIT,
                                   r2 = RIFFLE__ALTER_PARTITION_RESPONSE__INIT;
    Riffle__MetadataCommand c1 = RIFFLE__METADATA_COMMAND__INIT,
                            c2 = RIFFLE__METADATA_COMMAND__INIT;
    it.topic_id.data = t.id.b;
    it.topic_id.len = 16;
    it.new_isr = isr2;
    it.n_new_isr = 2;
    req.broker_id = mp.leader;
    req.broker_epoch = b.epoch;
    req.partitions = its;
    req.n_partitions = 1;
    assert_int_equal(rf_meta_build_alter_partition(f->img, &req, &c1, &r1), 0);
    it.n_new_isr = 1;
    assert_int_equal(rf_meta_build_alter_partition(f->img, &req, &c2, &r2), 0);
    assert_int_equal(apply_cmd(f, &c1), E(NONE));
    uint64_t h = state_hash(f->img);
    assert_int_equal(apply_cmd(f, &c2), E(INVALID_UPDATE_VERSION));
    assert_int_equal(state_hash(f->img), h);
    assert_int_equal(part_of(f, "st", 0).n_isr, 2);
    rf_meta_response_free(&r1.base);
    rf_meta_response_free(&r2.base);
}

/* ---- fencing and election ---- */

static void test_fence_moves_leadership_inside_isr(void **state)
{
    struct fx *f = *state;
    add_brokers(f, 4, NULL);
    assert_int_equal(create_topic(f, "fx", 8, 3), E(NONE));
    /* shrink every ISR to two members (leader + first follower) */
    for (int32_t p = 0; p < 8; p++) {
        struct rf_meta_partition mp = part_of(f, "fx", p);
        int32_t isr[] = {mp.leader, mp.replicas[1]};
        assert_int_equal(alter_isr(f, "fx", p, mp.leader, 0, 0, isr, 2, true),
                         E(NONE));
    }
    struct rf_meta_partition before[8];
    int32_t isr_copy[8][RF_META_MAX_REPLICAS];
    for (int32_t p = 0; p < 8; p++) { /* the image's arrays change: copy */
        before[p] = part_of(f, "fx", p);
        memcpy(isr_copy[p], before[p].isr, before[p].n_isr * sizeof(int32_t));
        before[p].isr = isr_copy[p];
        before[p].replicas = NULL;
    }
    int32_t victim = before[0].leader;
    fence(f, victim);
    for (int32_t p = 0; p < 8; p++) {
        struct rf_meta_partition mp = part_of(f, "fx", p);
        const struct rf_meta_partition *old = &before[p];
        bool was_isr = in_list(old->isr, old->n_isr, victim);
        assert_false(in_list(mp.isr, mp.n_isr, victim));
        if (old->leader == victim) {
            assert_true(in_list(old->isr, old->n_isr, mp.leader));
            assert_true(mp.leader != victim && mp.leader != -1);
            assert_int_equal(mp.leader_epoch, old->leader_epoch + 1);
        } else {
            assert_int_equal(mp.leader, old->leader);
            assert_int_equal(mp.leader_epoch, old->leader_epoch);
        }
        assert_int_equal(mp.partition_epoch,
                         old->partition_epoch + (was_isr ? 1 : 0));
    }
    assert_int_equal(rf_meta_leaderships(f->img, victim), 0);
    /* fencing again: nothing to do */
    Riffle__MetadataCommand cmd = RIFFLE__METADATA_COMMAND__INIT;
    assert_int_equal(rf_meta_build_fence(f->img, &f->defs, victim, &cmd),
                     RF_ENOENT);
    rf_meta_command_free(&cmd);
}

static void test_fence_last_isr_member_and_unfence(void **state)
{
    struct fx *f = *state;
    add_brokers(f, 3, NULL);
    assert_int_equal(create_topic(f, "last", 1, 3), E(NONE));
    struct rf_meta_partition mp = part_of(f, "last", 0);
    int32_t a = mp.replicas[0], b = mp.replicas[1], c = mp.replicas[2];
    int32_t only_a[] = {a};
    assert_int_equal(alter_isr(f, "last", 0, a, 0, 0, only_a, 1, true),
                     E(NONE));
    fence(f, a);
    mp = part_of(f, "last", 0);
    /* b and c are out of the ISR: never elected (unclean off) */
    assert_int_equal(mp.leader, -1);
    assert_int_equal(mp.n_isr, 1);
    assert_int_equal(mp.isr[0], a);
    assert_int_equal(mp.leader_epoch, 1);
    assert_int_equal(mp.partition_epoch, 2);
    /* a comes back: it is the ISR of a leaderless partition, so it leads */
    unfence(f, a);
    mp = part_of(f, "last", 0);
    assert_int_equal(mp.leader, a);
    assert_int_equal(mp.leader_epoch, 2);
    assert_int_equal(mp.partition_epoch, 3);
    (void)b;
    (void)c;
}

static void test_fence_unclean_election(void **state)
{
    struct fx *f = *state;
    add_brokers(f, 3, NULL);
    assert_int_equal(create_topic(f, "unc", 1, 3), E(NONE));
    struct rf_meta_partition mp = part_of(f, "unc", 0);
    int32_t a = mp.replicas[0], b = mp.replicas[1];
    int32_t only_a[] = {a};
    assert_int_equal(alter_isr(f, "unc", 0, a, 0, 0, only_a, 1, true), E(NONE));
    fence(f, b); /* b fenced: never a leader, even unclean */
    f->defs.unclean_leader_election = true;
    fence(f, a);
    mp = part_of(f, "unc", 0);
    assert_int_equal(mp.leader, mp.replicas[2]);
    assert_int_equal(mp.n_isr, 1);
    assert_int_equal(mp.isr[0], mp.replicas[2]);
}

static void test_fence_never_elects_fenced(void **state)
{
    struct fx *f = *state;
    add_brokers(f, 3, NULL);
    assert_int_equal(create_topic(f, "nf", 3, 3), E(NONE));
    fence(f, 2);
    fence(f, 3);
    for (int32_t p = 0; p < 3; p++) {
        struct rf_meta_partition mp = part_of(f, "nf", p);
        assert_int_equal(mp.leader, 1);
    }
    fence(f, 1);
    for (int32_t p = 0; p < 3; p++) {
        struct rf_meta_partition mp = part_of(f, "nf", p);
        assert_int_equal(mp.leader, -1);
        assert_int_equal(mp.n_isr, 1);
        assert_int_equal(mp.isr[0], 1);
    }
    unfence(f, 3); /* not in any ISR: stays leaderless */
    assert_int_equal(part_of(f, "nf", 0).leader, -1);
    unfence(f, 1);
    assert_int_equal(part_of(f, "nf", 0).leader, 1);
}

static void test_controlled_shutdown_and_preferred(void **state)
{
    struct fx *f = *state;
    Riffle__MetadataCommand cmd = RIFFLE__METADATA_COMMAND__INIT;
    add_brokers(f, 3, NULL);
    assert_int_equal(create_topic(f, "cs", 6, 2), E(NONE));
    assert_int_equal(rf_meta_leaderships(f->img, 1), 2);
    assert_int_equal(rf_meta_build_controlled_shutdown(f->img, 1, &cmd), 0);
    assert_int_equal(apply_cmd(f, &cmd), E(NONE));
    assert_int_equal(rf_meta_leaderships(f->img, 1), 0);
    struct rf_meta_broker b;
    assert_true(rf_meta_broker_get(f->img, 1, &b));
    assert_int_equal(b.state, ST(CONTROLLED_SHUTDOWN));
    for (int32_t p = 0; p < 6; p++) {
        struct rf_meta_partition mp = part_of(f, "cs", p);
        assert_false(in_list(mp.isr, mp.n_isr, 1));
    }
    /* broker 1 restarts: register (fenced) then unfence, ISR rejoin via
     * AlterPartition, then preferred leader election gives leads back */
    register_broker(f, 1, NULL);
    unfence(f, 1);
    for (int32_t p = 0; p < 6; p++) {
        struct rf_meta_partition mp = part_of(f, "cs", p);
        if (!in_list(mp.replicas, mp.n_replicas, 1))
            continue;
        int32_t isr[] = {mp.leader, 1};
        assert_int_equal(alter_isr(f, "cs", p, mp.leader, mp.leader_epoch,
                                   mp.partition_epoch, isr, 2, true),
                         E(NONE));
    }
    cmd = (Riffle__MetadataCommand)RIFFLE__METADATA_COMMAND__INIT;
    assert_int_equal(rf_meta_build_preferred_leaders(f->img, &cmd), 0);
    assert_int_equal(apply_cmd(f, &cmd), E(NONE));
    for (int b2 = 1; b2 <= 3; b2++)
        assert_int_equal(rf_meta_leaderships(f->img, b2), 2);
    cmd = (Riffle__MetadataCommand)RIFFLE__METADATA_COMMAND__INIT;
    assert_int_equal(rf_meta_build_preferred_leaders(f->img, &cmd), RF_ENOENT);
    rf_meta_command_free(&cmd);
}

/* A broker alone in a partition's ISR cannot hand that leadership over:
 * controlled shutdown must not wait for it (movable leaderships reach 0). */
static void test_controlled_shutdown_unmovable(void **state)
{
    struct fx *f = *state;
    Riffle__MetadataCommand cmd = RIFFLE__METADATA_COMMAND__INIT;
    add_brokers(f, 2, NULL);
    assert_int_equal(create_topic(f, "solo", 2, 1), E(NONE));
    assert_int_equal(create_topic(f, "pair", 2, 2), E(NONE));
    assert_int_equal(rf_meta_leaderships(f->img, 1), 2);
    assert_int_equal(rf_meta_movable_leaderships(f->img, 1), 1);
    assert_int_equal(rf_meta_build_controlled_shutdown(f->img, 1, &cmd), 0);
    assert_int_equal(apply_cmd(f, &cmd), E(NONE));
    /* the RF-1 partition stays with broker 1; nothing else can move */
    assert_int_equal(rf_meta_leaderships(f->img, 1), 1);
    assert_int_equal(rf_meta_movable_leaderships(f->img, 1), 0);
    /* and broker 2 alone leads nothing that could move either */
    fence(f, 1);
    assert_int_equal(rf_meta_movable_leaderships(f->img, 2), 0);
}

static void test_register_broker_epoch_and_duplicate(void **state)
{
    struct fx *f = *state;
    struct rf_meta_broker b;
    register_broker(f, 7, "rackA");
    assert_true(rf_meta_broker_get(f->img, 7, &b));
    assert_int_equal(b.epoch, f->off); /* epoch = Raft offset of the record */
    assert_int_equal(b.state, ST(FENCED));
    assert_string_equal(b.rack, "rackA");
    assert_int_equal(b.n_endpoints, 1);
    assert_int_equal(b.endpoints[0]->port, 9099);
    unfence(f, 7);
    /* another incarnation while this one is alive */
    Riffle__RegisterBrokerRequest req = RIFFLE__REGISTER_BROKER_REQUEST__INIT;
    Riffle__RegisterBrokerResponse resp =
        RIFFLE__REGISTER_BROKER_RESPONSE__INIT;
    Riffle__MetadataCommand cmd = RIFFLE__METADATA_COMMAND__INIT;
    uint8_t inc[16];
    memset(inc, 0x77, 16);
    req.broker_id = 7;
    req.incarnation_id.data = inc;
    req.incarnation_id.len = 16;
    assert_int_equal(
        rf_meta_build_register_broker(f->img, &req, true, &cmd, &resp),
        RF_ENOENT);
    assert_non_null(resp.status);
    assert_int_equal(resp.status->code, E(DUPLICATE_BROKER));
    rf_meta_response_free(&resp.base);
    rf_meta_command_free(&cmd);
    /* bad incarnation */
    req.incarnation_id.len = 3;
    assert_int_equal(
        rf_meta_build_register_broker(f->img, &req, false, &cmd, &resp),
        RF_ENOENT);
    assert_int_equal(resp.status->code, E(INVALID_REQUEST));
    rf_meta_response_free(&resp.base);
    rf_meta_command_free(&cmd);
}

static void test_partitions_and_delete(void **state)
{
    struct fx *f = *state;
    Riffle__ConfigEntry c = RIFFLE__CONFIG_ENTRY__INIT, *cs[] = {&c};
    c.name = "segment.bytes";
    c.value = "1048576";
    add_brokers(f, 3, NULL);
    assert_int_equal(create_topic_cfg(f, "grow", 2, 2, cs, 1), E(NONE));
    assert_int_equal(create_topic(f, "__internal", 1, 1), E(NONE));
    Riffle__CreatePartitionsTopic t = RIFFLE__CREATE_PARTITIONS_TOPIC__INIT,
                                  u = RIFFLE__CREATE_PARTITIONS_TOPIC__INIT,
                                  *ts[] = {&t, &u};
    Riffle__CreatePartitionsRequest req =
        RIFFLE__CREATE_PARTITIONS_REQUEST__INIT;
    Riffle__CreatePartitionsResponse resp =
        RIFFLE__CREATE_PARTITIONS_RESPONSE__INIT;
    Riffle__MetadataCommand cmd = RIFFLE__METADATA_COMMAND__INIT;
    t.name = "grow";
    t.count = 5;
    u.name = "nope";
    u.count = 3;
    req.topics = ts;
    req.n_topics = 2;
    assert_int_equal(
        rf_meta_build_create_partitions(f->img, &f->defs, &req, &cmd, &resp),
        0);
    assert_int_equal(resp.results[0]->error, E(NONE));
    assert_int_equal(resp.results[1]->error, E(UNKNOWN_TOPIC));
    rf_meta_response_free(&resp.base);
    assert_int_equal(apply_cmd(f, &cmd), E(NONE));
    struct rf_meta_topic mt;
    assert_true(rf_meta_topic_get(f->img, "grow", &mt));
    assert_int_equal(mt.n_partitions, 5);
    assert_int_equal(part_of(f, "grow", 4).n_replicas, 2);
    /* shrinking is refused */
    t.count = 4;
    req.n_topics = 1;
    assert_int_equal(
        rf_meta_build_create_partitions(f->img, &f->defs, &req, &cmd, &resp),
        RF_ENOENT);
    assert_int_equal(resp.results[0]->error, E(INVALID_PARTITIONS));
    rf_meta_response_free(&resp.base);
    rf_meta_command_free(&cmd);
    /* delete */
    char *names[] = {"grow", "missing", "__internal"};
    Riffle__DeleteTopicsRequest dreq = RIFFLE__DELETE_TOPICS_REQUEST__INIT;
    Riffle__DeleteTopicsResponse dresp = RIFFLE__DELETE_TOPICS_RESPONSE__INIT;
    dreq.names = names;
    dreq.n_names = 3;
    assert_int_equal(rf_meta_build_delete_topics(f->img, &dreq, &cmd, &dresp),
                     0);
    assert_int_equal(dresp.topics[0]->error, E(NONE));
    assert_int_equal(dresp.topics[1]->error, E(UNKNOWN_TOPIC));
    assert_int_equal(dresp.topics[2]->error, E(INVALID_REQUEST));
    rf_meta_response_free(&dresp.base);
    assert_int_equal(apply_cmd(f, &cmd), E(NONE));
    assert_false(rf_meta_topic_get(f->img, "grow", &mt));
    assert_null(rf_meta_topic_config(f->img, "grow", "segment.bytes"));
    /* re-create under the same name: a new id, no old configs */
    assert_int_equal(create_topic(f, "grow", 1, 1), E(NONE));
    assert_null(rf_meta_topic_config(f->img, "grow", "segment.bytes"));
}

static void test_list_and_describe(void **state)
{
    struct fx *f = *state;
    add_brokers(f, 2, NULL);
    assert_int_equal(create_topic(f, "b-topic", 2, 2), E(NONE));
    assert_int_equal(create_topic(f, "a-topic", 1, 1), E(NONE));
    assert_int_equal(create_topic(f, "__consumer_offsets", 3, 2), E(NONE));
    Riffle__ListTopicsResponse lr = RIFFLE__LIST_TOPICS_RESPONSE__INIT;
    rf_meta_list_topics(f->img, false, &lr);
    assert_int_equal(lr.n_topics, 2);
    assert_string_equal(lr.topics[0]->name, "a-topic");
    assert_int_equal(lr.topics[1]->replication_factor, 2);
    rf_meta_response_free(&lr.base);
    rf_meta_list_topics(f->img, true, &lr);
    assert_int_equal(lr.n_topics, 3);
    assert_true(lr.topics[0]->internal);
    rf_meta_response_free(&lr.base);
    char *names[] = {"b-topic", "zzz"};
    Riffle__DescribeTopicsRequest dr = RIFFLE__DESCRIBE_TOPICS_REQUEST__INIT;
    Riffle__DescribeTopicsResponse dresp =
        RIFFLE__DESCRIBE_TOPICS_RESPONSE__INIT;
    dr.names = names;
    dr.n_names = 2;
    rf_meta_describe_topics(f->img, &dr, &dresp);
    assert_int_equal(dresp.n_topics, 2);
    assert_int_equal(dresp.topics[0]->n_partitions, 2);
    assert_int_equal(dresp.topics[0]->partitions[1]->n_replicas, 2);
    assert_int_equal(dresp.topics[1]->error, E(UNKNOWN_TOPIC));
    rf_meta_response_free(&dresp.base);
    dr.n_names = 0;
    rf_meta_describe_topics(f->img, &dr, &dresp);
    assert_int_equal(dresp.n_topics, 3);
    rf_meta_response_free(&dresp.base);
}

/* ---- snapshot / restore ---- */

static void build_rich_image(struct fx *f)
{
    static const char *const racks[] = {"r1", "r2", "r1", "r2"};
    Riffle__MetadataCommand cmd = RIFFLE__METADATA_COMMAND__INIT;
    Riffle__RegisterControllerRequest rc =
        RIFFLE__REGISTER_CONTROLLER_REQUEST__INIT;
    Riffle__Endpoint ep = RIFFLE__ENDPOINT__INIT;
    Riffle__ConfigEntry c = RIFFLE__CONFIG_ENTRY__INIT, *cs[] = {&c};
    int64_t first_pid;
    assert_int_equal(rf_meta_build_cluster_id(f->img, &cmd), 0);
    assert_int_equal(apply_cmd(f, &cmd), E(NONE));
    assert_int_equal(rf_meta_build_cluster_id(f->img, &cmd), RF_ENOENT);
    rf_meta_command_free(&cmd);
    for (int32_t id = 1; id <= 3; id++) {
        ep.name = "RPC";
        ep.host = "127.0.0.1";
        ep.port = (uint32_t)(7000 + id);
        rc.node_id = id;
        rc.raft_address = "127.0.0.1:9000";
        rc.rpc = &ep;
        assert_int_equal(rf_meta_build_register_controller(f->img, &rc, &cmd),
                         0);
        assert_int_equal(apply_cmd(f, &cmd), E(NONE));
    }
    assert_int_equal(rf_meta_build_register_controller(f->img, &rc, &cmd),
                     RF_ENOENT);
    rf_meta_command_free(&cmd);
    add_brokers(f, 4, racks);
    c.name = "compression.type";
    c.value = "lz4";
    assert_int_equal(create_topic_cfg(f, "orders", 6, 3, cs, 1), E(NONE));
    assert_int_equal(create_topic(f, "__consumer_offsets", 5, 2), E(NONE));
    assert_int_equal(create_topic(f, "payments", 3, 2), E(NONE));
    fence(f, 2);
    cmd = (Riffle__MetadataCommand)RIFFLE__METADATA_COMMAND__INIT;
    assert_int_equal(rf_meta_build_controlled_shutdown(f->img, 3, &cmd), 0);
    assert_int_equal(apply_cmd(f, &cmd), E(NONE));
    struct rf_meta_broker b;
    assert_true(rf_meta_broker_get(f->img, 4, &b));
    assert_int_equal(
        rf_meta_build_producer_ids(f->img, 4, b.epoch, 1000, &cmd, &first_pid),
        0);
    assert_int_equal(first_pid, 0);
    assert_int_equal(apply_cmd(f, &cmd), E(NONE));
    assert_int_equal(
        rf_meta_build_producer_ids(f->img, 4, b.epoch, 1000, &cmd, &first_pid),
        0);
    assert_int_equal(first_pid, 1000);
    assert_int_equal(apply_cmd(f, &cmd), E(NONE));
    assert_int_equal(rf_meta_next_producer_id(f->img), 2000);
    assert_int_equal(rf_meta_build_producer_ids(f->img, 4, b.epoch - 1, 10,
                                                &cmd, &first_pid),
                     RF_ESTALE);
    rf_meta_command_free(&cmd);
    /* a broker config override */
    Riffle__ConfigRecord *cr = rf__meta_cmd_add(&cmd, REC(CONFIG));
    cr->resource_type = RIFFLE__CONFIG_RESOURCE_TYPE__CONFIG_RESOURCE_BROKER;
    cr->resource_name = rf_strdup("4");
    cr->name = rf_strdup("log.retention.ms");
    cr->value = rf_strdup("1000");
    assert_int_equal(apply_cmd(f, &cmd), E(NONE));
}

static void test_snapshot_restore_round_trip(void **state)
{
    struct fx *f = *state;
    uint8_t *snap, *snap2;
    size_t len, len2;
    build_rich_image(f);
    assert_int_equal(rf_meta_snapshot(f->img, &snap, &len), 0);
    struct rf_meta_image *copy = rf_meta_image_new();
    assert_int_equal(rf_meta_restore(copy, snap, len), 0);
    assert_int_equal(rf_meta_hash(copy), rf_meta_hash(f->img));
    assert_int_equal(rf_meta_offset(copy), f->off);
    assert_int_equal(rf_meta_snapshot(copy, &snap2, &len2), 0);
    assert_int_equal(len2, len);
    assert_memory_equal(snap2, snap, len);
    struct rf_uuid a, b;
    rf_meta_cluster_id(f->img, &a);
    rf_meta_cluster_id(copy, &b);
    assert_false(rf_uuid_is_zero(&a));
    assert_true(rf_uuid_equal(&a, &b));
    assert_int_equal(rf_meta_controller_count(copy), 3);
    assert_int_equal(rf_meta_controller_get(copy, 2)->rpc->port, 7002);
    struct rf_meta_broker br;
    assert_true(rf_meta_broker_get(copy, 3, &br));
    assert_int_equal(br.state, ST(CONTROLLED_SHUTDOWN));
    assert_true(rf_meta_broker_get(copy, 2, &br));
    assert_int_equal(br.state, ST(FENCED));
    assert_string_equal(br.rack, "r2");
    /* the same next entries keep both replicas identical */
    Riffle__MetadataCommand c1 = RIFFLE__METADATA_COMMAND__INIT;
    assert_int_equal(rf_meta_build_unfence(f->img, 2, &c1), 0);
    size_t clen;
    uint8_t *cbuf = pack_cmd(&c1, &clen);
    rf_meta_command_free(&c1);
    assert_int_equal(rf_meta_apply(f->img, f->off + 1, cbuf, clen), E(NONE));
    assert_int_equal(rf_meta_apply(copy, f->off + 1, cbuf, clen), E(NONE));
    assert_int_equal(rf_meta_hash(copy), rf_meta_hash(f->img));
    /* a retried request id from before the snapshot is still deduplicated */
    uint8_t rid[16];
    uint32_t k = 3;
    memset(rid, 0xa5, 16);
    memcpy(rid, &k, sizeof(k));
    assert_true(rf_meta_request_result(copy, rid, NULL, NULL));
    free(cbuf);
    rf_free(snap);
    rf_free(snap2);
    rf_meta_image_free(copy);
}

static void test_restore_truncations_and_garbage(void **state)
{
    struct fx *f = *state;
    uint8_t *snap;
    size_t len;
    build_rich_image(f);
    assert_int_equal(rf_meta_snapshot(f->img, &snap, &len), 0);
    struct rf_meta_image *img = rf_meta_image_new();
    uint64_t empty = rf_meta_hash(img);
    int failures = 0;
    for (size_t cut = 0; cut < len; cut++) {
        int rc = rf_meta_restore(img, snap, cut);
        if (rc != 0) {
            failures++;
            assert_true(rc < 0);
            assert_int_equal(rf_meta_hash(img), empty); /* unchanged */
        } else {
            rf_meta_image_free(img); /* a prefix that parsed: start over */
            img = rf_meta_image_new();
        }
    }
    assert_true(failures > (int)len / 2);
    /* flipped bytes: never a crash, either restored or refused */
    for (size_t i = 0; i < len; i += 7) {
        snap[i] ^= 0x5a;
        (void)rf_meta_restore(img, snap, len);
        snap[i] ^= 0x5a;
    }
    static const uint8_t garbage[][8] = {
        {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
        {0x12, 0xff, 0xff, 0xff, 0xff, 0x0f, 0, 0}, /* huge length */
        {0x08, 0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80},
        {0x1a, 0x02, 0x0a, 0x05, 0, 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++)
        (void)rf_meta_restore(img, garbage[i], sizeof(garbage[i]));
    /* negative offset */
    Riffle__MetadataImage m = RIFFLE__METADATA_IMAGE__INIT;
    uint8_t small[32];
    m.offset = -5;
    size_t n = riffle__metadata_image__pack(&m, small);
    assert_int_equal(rf_meta_restore(img, small, n), RF_EPARSE);
    rf_free(snap);
    rf_meta_image_free(img);
}

/* ---- malformed and invalid commands ---- */

static void test_malformed_command_bytes(void **state)
{
    struct fx *f = *state;
    add_brokers(f, 3, NULL);
    assert_int_equal(create_topic(f, "t", 2, 3), E(NONE));
    static const struct {
        uint8_t b[10];
        size_t n;
    } cases[] = {
        {{0xff}, 1},
        {{0x0a, 0x10}, 2},          /* id length past the end */
        {{0x0a, 0x03, 1, 2, 3}, 5}, /* 3-byte request id */
        {{0x1a, 0x00}, 2},          /* record with no case */
        {{0x1a, 0x05, 0x22, 0x03, 0x0a, 0x01, 'x'}, 7}, /* topic, no id */
        {{0x1a, 0xff, 0xff, 0xff, 0xff, 0x0f}, 6},      /* huge record length */
        {{0x10, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80}, 10},
    };
    uint64_t h = state_hash(f->img);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc = rf_meta_apply(f->img, ++f->off, cases[i].b, cases[i].n);
        assert_true(rc != E(NONE));
        assert_int_equal(rf_meta_offset(f->img), f->off);
        assert_int_equal(state_hash(f->img), h);
    }
    /* an old offset is never applied */
    assert_int_equal(rf_meta_apply(f->img, 1, cases[0].b, 0),
                     E(INVALID_REQUEST));
    assert_int_equal(rf_meta_offset(f->img), f->off);
    /* every truncation of a valid command: all or nothing */
    Riffle__CreatableTopic t = RIFFLE__CREATABLE_TOPIC__INIT, *ts[1] = {&t};
    Riffle__CreateTopicsRequest req = RIFFLE__CREATE_TOPICS_REQUEST__INIT;
    Riffle__CreateTopicsResponse resp = RIFFLE__CREATE_TOPICS_RESPONSE__INIT;
    Riffle__MetadataCommand cmd = RIFFLE__METADATA_COMMAND__INIT;
    t.name = "trunc";
    t.num_partitions = 4;
    t.replication_factor = 3;
    req.topics = ts;
    req.n_topics = 1;
    assert_int_equal(
        rf_meta_build_create_topics(f->img, &f->defs, &req, &cmd, &resp), 0);
    rf_meta_response_free(&resp.base);
    size_t len;
    uint8_t *buf = pack_cmd(&cmd, &len);
    rf_meta_command_free(&cmd);
    for (size_t cut = 0; cut < len; cut++) {
        int rc = rf_meta_apply(f->img, ++f->off, buf, cut);
        struct rf_meta_topic mt;
        if (rf_meta_topic_get(f->img, "trunc", &mt)) {
            /* a prefix ending on a record boundary is a valid command */
            assert_int_equal(rc, E(NONE));
            rf_meta_image_free(f->img);
            f->img = rf_meta_image_new();
            f->off = 0;
            add_brokers(f, 3, NULL);
            assert_int_equal(create_topic(f, "t", 2, 3), E(NONE));
            h = state_hash(f->img);
        } else {
            assert_int_equal(state_hash(f->img), h);
        }
    }
    assert_int_equal(rf_meta_apply(f->img, ++f->off, buf, len), E(NONE));
    assert_int_equal(part_of(f, "trunc", 3).n_isr, 3);
    free(buf);
}

/* One raw record in its own command; checks the result and that a rejected
 * command changed nothing but the offset. */
static void expect_record(struct fx *f, Riffle__MetadataCommand *cmd, int want)
{
    uint64_t h = state_hash(f->img);
    assert_int_equal(apply_cmd(f, cmd), want);
    if (want != E(NONE))
        assert_int_equal(state_hash(f->img), h);
}

static Riffle__PartitionChangeRecord *
change_rec(Riffle__MetadataCommand *cmd, const struct rf_uuid *id, int32_t p,
           const struct rf_meta_partition *mp)
{
    Riffle__PartitionChangeRecord *r =
        rf__meta_cmd_add(cmd, REC(PARTITION_CHANGE));
    rf__meta_bytes_set(&r->topic_id, id->b, 16);
    r->partition_id = p;
    r->n_replicas = mp->n_replicas;
    r->replicas = rf__meta_i32dup(mp->replicas, mp->n_replicas);
    r->n_isr = mp->n_isr;
    r->isr = rf__meta_i32dup(mp->isr, mp->n_isr);
    r->leader = mp->leader;
    r->leader_epoch = mp->leader_epoch;
    r->partition_epoch = mp->partition_epoch + 1;
    return r;
}

static void test_invalid_records_table(void **state)
{
    struct fx *f = *state;
    struct rf_meta_topic mt;
    struct rf_uuid unknown;
    memset(unknown.b, 0x42, 16);
    add_brokers(f, 3, NULL);
    register_broker(f, 4, NULL); /* fenced */
    assert_int_equal(create_topic(f, "t", 2, 3), E(NONE));
    assert_true(rf_meta_topic_get(f->img, "t", &mt));
    struct rf_meta_partition mp = part_of(f, "t", 0);
    int32_t big[RF_META_MAX_REPLICAS + 1];
    for (int i = 0; i <= RF_META_MAX_REPLICAS; i++)
        big[i] = i;
    enum {
        C_OK,
        C_STALE,
        C_BACKWARDS,
        C_UNKNOWN_TOPIC,
        C_UNKNOWN_PART,
        C_ISR_NOT_REPLICA,
        C_LEADER_NOT_ISR,
        C_FENCED_LEADER,
        C_EMPTY_ISR,
        C_TOO_MANY,
        C_DUP_REPLICA,
        C_LEADER_EPOCH_BACK,
        C_SECOND_BAD,
        C_COUNT
    };
    const int want[C_COUNT] = {
        E(NONE),
        E(INVALID_UPDATE_VERSION),
        E(INVALID_UPDATE_VERSION),
        E(UNKNOWN_TOPIC),
        E(UNKNOWN_PARTITION),
        E(INELIGIBLE_REPLICA),
        E(INVALID_REQUEST),
        E(INELIGIBLE_REPLICA),
        E(INELIGIBLE_REPLICA),
        E(INVALID_REPLICA_ASSIGNMENT),
        E(INVALID_REPLICA_ASSIGNMENT),
        E(FENCED_LEADER_EPOCH),
        E(UNKNOWN_TOPIC),
    };
    for (int c = 0; c < C_COUNT; c++) {
        Riffle__MetadataCommand cmd = RIFFLE__METADATA_COMMAND__INIT;
        mp = part_of(f, "t", 0);
        Riffle__PartitionChangeRecord *r = change_rec(&cmd, &mt.id, 0, &mp);
        switch (c) {
        case C_STALE:
            r->partition_epoch = mp.partition_epoch;
            break;
        case C_BACKWARDS:
            r->partition_epoch = mp.partition_epoch - 1;
            break;
        case C_UNKNOWN_TOPIC:
            memcpy(r->topic_id.data, unknown.b, 16);
            break;
        case C_UNKNOWN_PART:
            r->partition_id = 2;
            break;
        case C_ISR_NOT_REPLICA:
            r->isr[1] = 4;
            break;
        case C_LEADER_NOT_ISR:
            r->n_isr = 1;
            r->isr[0] = mp.replicas[1];
            r->leader = mp.replicas[2];
            r->leader_epoch++;
            break;
        case C_FENCED_LEADER:
            r->replicas[2] = 4;
            r->isr[2] = 4;
            r->leader = 4;
            r->leader_epoch++;
            break;
        case C_EMPTY_ISR:
            r->n_isr = 0;
            break;
        case C_TOO_MANY:
            rf_free(r->replicas);
            r->replicas = rf__meta_i32dup(big, RF_META_MAX_REPLICAS + 1);
            r->n_replicas = RF_META_MAX_REPLICAS + 1;
            break;
        case C_DUP_REPLICA:
            r->replicas[1] = r->replicas[0];
            break;
        case C_LEADER_EPOCH_BACK:
            r->leader_epoch = -1;
            break;
        case C_SECOND_BAD: { /* first record valid, second not: all-or-none */
            Riffle__TopicRecord *tr = rf__meta_cmd_add(&cmd, REC(TOPIC));
            struct rf_uuid nid;
            memset(nid.b, 0x31, 16);
            tr->name = rf_strdup("fresh");
            rf__meta_bytes_set(&tr->topic_id, nid.b, 16);
            change_rec(&cmd, &unknown, 0, &mp);
            break;
        }
        default:
            break;
        }
        expect_record(f, &cmd, want[c]);
    }
    assert_false(rf_meta_topic_get(f->img, "fresh", &mt));
    assert_int_equal(part_of(f, "t", 0).partition_epoch, 1);
}

static void test_invalid_other_records(void **state)
{
    struct fx *f = *state;
    struct rf_uuid tid;
    memset(tid.b, 0x21, 16);
    add_brokers(f, 1, NULL);
    assert_int_equal(create_topic(f, "t", 1, 1), E(NONE));
    struct rf_meta_topic mt;
    assert_true(rf_meta_topic_get(f->img, "t", &mt));
    enum {
        T_DUP_NAME,
        T_DUP_ID,
        T_BAD_NAME,
        T_ZERO_ID,
        T_PART_GAP,
        T_CFG_UNKNOWN_TOPIC,
        T_CFG_BAD,
        T_CFG_BROKER_RES,
        T_CHANGE_UNKNOWN_BROKER,
        T_PID_BACKWARDS,
        T_UNREG_ALIVE,
        T_EP_TOO_MANY,
        T_RACK_LONG,
        T_COUNT
    };
    const int want[T_COUNT] = {
        E(TOPIC_ALREADY_EXISTS), E(TOPIC_ALREADY_EXISTS), E(INVALID_TOPIC_NAME),
        E(INVALID_REQUEST),      E(INVALID_PARTITIONS),   E(UNKNOWN_TOPIC),
        E(INVALID_CONFIG),       E(INVALID_REQUEST),      E(UNKNOWN_BROKER),
        E(INVALID_REQUEST),      E(INVALID_REQUEST),
        E(INVALID_REQUEST), E(INVALID_REQUEST),
    };
    struct rf_meta_broker b;
    assert_true(rf_meta_broker_get(f->img, 1, &b));
    for (int c = 0; c < T_COUNT; c++) {
        Riffle__MetadataCommand cmd = RIFFLE__METADATA_COMMAND__INIT;
        if (c <= T_ZERO_ID) {
            Riffle__TopicRecord *tr = rf__meta_cmd_add(&cmd, REC(TOPIC));
            tr->name = rf_strdup(c == T_DUP_NAME   ? "t"
                                 : c == T_BAD_NAME ? "a b"
                                                   : "u");
            rf__meta_bytes_set(&tr->topic_id, c == T_DUP_ID ? mt.id.b : tid.b,
                               16);
            if (c == T_ZERO_ID)
                memset(tr->topic_id.data, 0, 16);
        } else if (c == T_PART_GAP) {
            Riffle__PartitionRecord *pr =
                rf__meta_cmd_add(&cmd, REC(PARTITION));
            int32_t one = 1;
            rf__meta_bytes_set(&pr->topic_id, mt.id.b, 16);
            pr->partition_id = 5;
            pr->replicas = rf__meta_i32dup(&one, 1);
            pr->n_replicas = 1;
            pr->isr = rf__meta_i32dup(&one, 1);
            pr->n_isr = 1;
            pr->leader = 1;
        } else if (c <= T_CFG_BROKER_RES) {
            Riffle__ConfigRecord *cr = rf__meta_cmd_add(&cmd, REC(CONFIG));
            cr->resource_type =
                c == T_CFG_BROKER_RES
                    ? RIFFLE__CONFIG_RESOURCE_TYPE__CONFIG_RESOURCE_BROKER
                    : RIFFLE__CONFIG_RESOURCE_TYPE__CONFIG_RESOURCE_TOPIC;
            cr->resource_name = rf_strdup(c == T_CFG_UNKNOWN_TOPIC ? "zz"
                                          : c == T_CFG_BAD         ? "t"
                                                                   : "1x");
            cr->name = rf_strdup("retention.ms");
            cr->value = rf_strdup(c == T_CFG_BAD ? "-9" : "5");
        } else if (c == T_CHANGE_UNKNOWN_BROKER) {
            Riffle__BrokerRegistrationChangeRecord *r =
                rf__meta_cmd_add(&cmd, REC(BROKER_CHANGE));
            r->broker_id = 99;
        } else if (c == T_PID_BACKWARDS) {
            Riffle__ProducerIdsRecord *r =
                rf__meta_cmd_add(&cmd, REC(PRODUCER_IDS));
            r->broker_id = 1;
            r->broker_epoch = b.epoch;
            r->next_producer_id = 0;
        } else if (c >= T_EP_TOO_MANY) {
            Riffle__RegisterBrokerRecord *r =
                rf__meta_cmd_add(&cmd, REC(REGISTER_BROKER));
            size_t n = c == T_EP_TOO_MANY ? RF_META_MAX_ENDPOINTS + 1 : 0;
            char rack[300];
            memset(rack, 'r', sizeof(rack) - 1);
            rack[sizeof(rack) - 1] = '\0';
            r->broker_id = 5;
            rf__meta_bytes_set(&r->incarnation_id, tid.b, 16);
            r->endpoints = rf_malloc((n + 1) * sizeof(*r->endpoints));
            for (size_t e = 0; e < n; e++) {
                Riffle__Endpoint ep = RIFFLE__ENDPOINT__INIT;
                r->endpoints[e] = rf__meta_endpoint_dup(&ep);
            }
            r->n_endpoints = n;
            r->rack = rf_strdup(c == T_RACK_LONG ? rack : "");
        } else {
            Riffle__UnregisterBrokerRecord *r =
                rf__meta_cmd_add(&cmd, REC(UNREGISTER_BROKER));
            r->broker_id = 1;
            r->broker_epoch = b.epoch;
        }
        expect_record(f, &cmd, want[c]);
    }
}

/* ---- deltas ---- */

static void test_deltas_and_history_overflow(void **state)
{
    struct fx *f = *state;
    Riffle__FetchMetadataResponse resp = RIFFLE__FETCH_METADATA_RESPONSE__INIT;
    add_brokers(f, 1, NULL); /* offsets 1..2 */
    int64_t base = f->off;
    for (int i = 0; i < 5; i++) {
        char name[8];
        snprintf(name, sizeof(name), "d%d", i);
        assert_int_equal(create_topic(f, name, 1, 1), E(NONE));
    }
    rf_meta_advance(f->img, ++f->off); /* a barrier entry */
    assert_int_equal(rf_meta_deltas_since(f->img, base, SIZE_MAX, &resp), 0);
    assert_int_equal(resp.n_deltas, 5);
    assert_int_equal(resp.offset, f->off);
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(resp.deltas[i]->offset, base + 1 + (int64_t)i);
        assert_int_equal(resp.deltas[i]->n_records, 2); /* topic + partition */
        assert_int_equal(resp.deltas[i]->records[0]->record_case, REC(TOPIC));
    }
    rf_meta_deltas_free(&resp);
    assert_int_equal(resp.n_deltas, 0);
    /* max_bytes: at least one delta, offset = the last one sent */
    assert_int_equal(rf_meta_deltas_since(f->img, base, 1, &resp), 0);
    assert_int_equal(resp.n_deltas, 1);
    assert_int_equal(resp.offset, base + 1);
    rf_meta_deltas_free(&resp);
    /* caught up: nothing, same offset */
    assert_int_equal(rf_meta_deltas_since(f->img, f->off, SIZE_MAX, &resp), 0);
    assert_int_equal(resp.n_deltas, 0);
    assert_int_equal(resp.offset, f->off);
    assert_int_equal(rf_meta_deltas_since(f->img, -1, SIZE_MAX, &resp),
                     RF_ERANGE);
    /* a tiny history: older offsets need the full image */
    rf__meta_set_history_limits(f->img, 3, SIZE_MAX);
    assert_int_equal(create_topic(f, "z", 1, 1), E(NONE));
    assert_int_equal(rf_meta_deltas_since(f->img, base, SIZE_MAX, &resp),
                     RF_ERANGE);
    assert_int_equal(resp.n_deltas, 0);
    int64_t oldest_ok = f->off - 4; /* 3 commands + the barrier */
    assert_int_equal(rf_meta_deltas_since(f->img, oldest_ok, SIZE_MAX, &resp),
                     0);
    assert_int_equal(resp.n_deltas, 3);
    rf_meta_deltas_free(&resp);
    assert_int_equal(
        rf_meta_deltas_since(f->img, oldest_ok - 1, SIZE_MAX, &resp),
        RF_ERANGE);
    /* full image instead: it rebuilds the same state */
    assert_int_equal(rf_meta_image_export(f->img, &resp), 0);
    assert_non_null(resp.image);
    assert_int_equal(resp.offset, f->off);
    size_t n = riffle__metadata_image__get_packed_size(resp.image);
    uint8_t *buf = malloc(n + 1);
    riffle__metadata_image__pack(resp.image, buf);
    struct rf_meta_image *copy = rf_meta_image_new();
    assert_int_equal(rf_meta_restore(copy, buf, n), 0);
    assert_int_equal(rf_meta_hash(copy), rf_meta_hash(f->img));
    /* after a restore the history starts at the restored offset */
    assert_int_equal(rf_meta_deltas_since(copy, f->off - 1, SIZE_MAX, &resp),
                     RF_ERANGE);
    rf_meta_deltas_free(&resp);
    free(buf);
    rf_meta_image_free(copy);
}

static void test_history_byte_bound(void **state)
{
    struct fx *f = *state;
    Riffle__FetchMetadataResponse resp = RIFFLE__FETCH_METADATA_RESPONSE__INIT;
    add_brokers(f, 1, NULL);
    rf__meta_set_history_limits(f->img, 1000, 200);
    int64_t base = f->off;
    for (int i = 0; i < 20; i++) {
        char name[8];
        snprintf(name, sizeof(name), "h%d", i);
        assert_int_equal(create_topic(f, name, 1, 1), E(NONE));
    }
    assert_int_equal(rf_meta_deltas_since(f->img, base, SIZE_MAX, &resp),
                     RF_ERANGE);
    assert_int_equal(rf_meta_deltas_since(f->img, f->off - 1, SIZE_MAX, &resp),
                     0);
    assert_int_equal(resp.n_deltas, 1);
    rf_meta_deltas_free(&resp);
}

static void test_reregister_moves_leaderships(void **state)
{
    struct fx *f = *state;
    add_brokers(f, 3, NULL);
    assert_int_equal(create_topic(f, "rr", 3, 3), E(NONE));
    assert_int_equal(rf_meta_leaderships(f->img, 2), 1);
    register_broker(f, 2, NULL); /* restarted before its session expired */
    struct rf_meta_broker b;
    assert_true(rf_meta_broker_get(f->img, 2, &b));
    assert_int_equal(b.state, ST(FENCED));
    assert_int_equal(b.epoch, f->off);
    assert_int_equal(rf_meta_leaderships(f->img, 2), 0);
    for (int32_t p = 0; p < 3; p++) {
        struct rf_meta_partition mp = part_of(f, "rr", p);
        assert_false(in_list(mp.isr, mp.n_isr, 2));
        assert_true(mp.leader == 1 || mp.leader == 3);
    }
}

static void test_validate_only_and_alter_status(void **state)
{
    struct fx *f = *state;
    add_brokers(f, 2, NULL);
    Riffle__CreatableTopic t = RIFFLE__CREATABLE_TOPIC__INIT, *ts[1] = {&t};
    Riffle__CreateTopicsRequest req = RIFFLE__CREATE_TOPICS_REQUEST__INIT;
    Riffle__CreateTopicsResponse resp = RIFFLE__CREATE_TOPICS_RESPONSE__INIT;
    Riffle__MetadataCommand cmd = RIFFLE__METADATA_COMMAND__INIT;
    t.name = "dry";
    t.num_partitions = 4;
    t.replication_factor = 2;
    req.topics = ts;
    req.n_topics = 1;
    req.validate_only = true;
    assert_int_equal(
        rf_meta_build_create_topics(f->img, &f->defs, &req, &cmd, &resp),
        RF_ENOENT);
    assert_int_equal(resp.topics[0]->error, E(NONE));
    assert_int_equal(resp.topics[0]->num_partitions, 4);
    assert_int_equal(cmd.n_records, 0);
    rf_meta_response_free(&resp.base);
    rf_meta_command_free(&cmd);
    /* AlterPartition from an unknown broker or with a stale epoch */
    Riffle__AlterPartitionRequest ar = RIFFLE__ALTER_PARTITION_REQUEST__INIT;
    Riffle__AlterPartitionResponse aresp =
        RIFFLE__ALTER_PARTITION_RESPONSE__INIT;
    ar.broker_id = 9;
    assert_int_equal(rf_meta_build_alter_partition(f->img, &ar, &cmd, &aresp),
                     RF_ENOENT);
    assert_int_equal(aresp.status->code, E(UNKNOWN_BROKER));
    rf_meta_response_free(&aresp.base);
    ar.broker_id = 1;
    ar.broker_epoch = 12345;
    assert_int_equal(rf_meta_build_alter_partition(f->img, &ar, &cmd, &aresp),
                     RF_ENOENT);
    assert_int_equal(aresp.status->code, E(STALE_BROKER_EPOCH));
    rf_meta_response_free(&aresp.base);
    rf_meta_command_free(&cmd);
}

/* ---- partition reassignment (reassign.c) ---- */

/* One AlterReassignments item; returns its error, *built the builder's rc.
 * apply: apply a built command (must succeed). */
static int reassign(struct fx *f, const char *topic, int32_t p,
                    const int32_t *replicas, size_t n, bool apply, int *built)
{
    Riffle__PartitionReassignment it = RIFFLE__PARTITION_REASSIGNMENT__INIT,
                                  *its[1] = {&it};
    Riffle__AlterReassignmentsRequest req =
        RIFFLE__ALTER_REASSIGNMENTS_REQUEST__INIT;
    Riffle__AlterReassignmentsResponse resp =
        RIFFLE__ALTER_REASSIGNMENTS_RESPONSE__INIT;
    Riffle__MetadataCommand cmd = RIFFLE__METADATA_COMMAND__INIT;
    uint8_t rid[16];
    req_id(f, &req.request_id, rid);
    it.topic = (char *)topic;
    it.partition = p;
    it.replicas = (int32_t *)replicas;
    it.n_replicas = n;
    req.partitions = its;
    req.n_partitions = 1;
    int rc = rf_meta_build_reassign(f->img, &req, &cmd, &resp);
    assert_int_equal(resp.n_results, 1);
    int err = resp.results[0]->error;
    assert_int_equal(rc, err == E(NONE) && cmd.n_records > 0 ? 0 : RF_ENOENT);
    if (err != E(NONE))
        assert_true(resp.results[0]->error_message[0] != '\0');
    if (built != NULL)
        *built = rc;
    if (rc == 0 && apply)
        assert_int_equal(apply_cmd(f, &cmd), E(NONE));
    else
        rf_meta_command_free(&cmd);
    rf_meta_response_free(&resp.base);
    return err;
}

/* Runs the completion builder; returns its rc (applied when 0). */
static int reassign_complete(struct fx *f)
{
    Riffle__MetadataCommand cmd = RIFFLE__METADATA_COMMAND__INIT;
    int rc = rf_meta_build_reassign_complete(f->img, &cmd);
    if (rc == 0)
        assert_int_equal(apply_cmd(f, &cmd), E(NONE));
    else
        rf_meta_command_free(&cmd);
    return rc;
}

/* The broker in 1..n that is not a replica of mp. */
static int32_t outsider(const struct rf_meta_partition *mp, int32_t n)
{
    for (int32_t b = 1; b <= n; b++)
        if (!in_list(mp->replicas, mp->n_replicas, b))
            return b;
    fail();
    return -1;
}

static void assert_list(const int32_t *v, size_t n, const int32_t *want,
                        size_t n_want)
{
    assert_int_equal(n, n_want);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(v[i], want[i]);
}

static void test_reassign_validation_table(void **state)
{
    struct fx *f = *state;
    add_brokers(f, 4, NULL);
    register_broker(f, 5, NULL); /* registered, fenced */
    assert_int_equal(create_topic(f, "r", 2, 3), E(NONE));
    struct rf_meta_partition mp = part_of(f, "r", 0);
    int32_t cur[3] = {mp.replicas[0], mp.replicas[1], mp.replicas[2]};
    int32_t ok[3] = {2, 3, 4}, dup[3] = {2, 2, 3}, unreg[2] = {2, 9},
            neg[2] = {-1, 2}, fenced[2] = {5, 1}, big[RF_META_MAX_REPLICAS + 1];
    for (int i = 0; i <= RF_META_MAX_REPLICAS; i++)
        big[i] = i + 1;
    const struct {
        const char *topic;
        int32_t p;
        const int32_t *v;
        size_t n;
        int err, built;
    } cases[] = {
        {"nope", 0, ok, 3, E(UNKNOWN_TOPIC), RF_ENOENT},
        {"r", 2, ok, 3, E(UNKNOWN_PARTITION), RF_ENOENT},
        {"r", -1, ok, 3, E(UNKNOWN_PARTITION), RF_ENOENT},
        {"r", 0, ok, 0, E(INVALID_REPLICA_ASSIGNMENT), RF_ENOENT},
        {"r", 0, big, RF_META_MAX_REPLICAS + 1, E(INVALID_REPLICA_ASSIGNMENT),
         RF_ENOENT},
        {"r", 0, dup, 3, E(INVALID_REPLICA_ASSIGNMENT), RF_ENOENT},
        {"r", 0, unreg, 2, E(INVALID_REPLICA_ASSIGNMENT), RF_ENOENT},
        {"r", 0, neg, 2, E(INVALID_REPLICA_ASSIGNMENT), RF_ENOENT},
        {"r", 0, cur, 3, E(NONE), RF_ENOENT}, /* target == current: no-op */
        {"r", 0, fenced, 2, E(NONE), 0},     /* registered is enough */
        {"r", 1, ok, 3, E(NONE), -1},        /* -1: 0 unless already there */
    };
    uint64_t h = state_hash(f->img);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int built;
        assert_int_equal(reassign(f, cases[i].topic, cases[i].p, cases[i].v,
                                  cases[i].n, false, &built),
                         cases[i].err);
        if (cases[i].built != -1)
            assert_int_equal(built, cases[i].built);
    }
    assert_int_equal(state_hash(f->img), h); /* nothing applied */

    /* the same partition twice in one request: the later one is refused */
    Riffle__PartitionReassignment a = RIFFLE__PARTITION_REASSIGNMENT__INIT,
                                  b = RIFFLE__PARTITION_REASSIGNMENT__INIT,
                                  *its[2] = {&a, &b};
    Riffle__AlterReassignmentsRequest req =
        RIFFLE__ALTER_REASSIGNMENTS_REQUEST__INIT;
    Riffle__AlterReassignmentsResponse resp =
        RIFFLE__ALTER_REASSIGNMENTS_RESPONSE__INIT;
    Riffle__MetadataCommand cmd = RIFFLE__METADATA_COMMAND__INIT;
    a.topic = b.topic = "r";
    a.replicas = b.replicas = fenced;
    a.n_replicas = b.n_replicas = 2;
    req.partitions = its;
    req.n_partitions = 2;
    assert_int_equal(rf_meta_build_reassign(f->img, &req, &cmd, &resp), 0);
    assert_int_equal(resp.n_results, 2);
    assert_int_equal(resp.results[0]->error, E(NONE));
    assert_int_equal(resp.results[1]->error, E(INVALID_REQUEST));
    assert_int_equal(cmd.n_records, 1);
    assert_int_equal(apply_cmd(f, &cmd), E(NONE));
    rf_meta_response_free(&resp.base);
}

/* {r0,r1,r2} led by r0 -> {r1,r2,x}: the leader leaves, x joins. */
static void test_reassign_moves_off_leader(void **state)
{
    struct fx *f = *state;
    add_brokers(f, 4, NULL);
    assert_int_equal(create_topic(f, "mv", 1, 3), E(NONE));
    struct rf_meta_partition mp = part_of(f, "mv", 0);
    int32_t r0 = mp.replicas[0], r1 = mp.replicas[1], r2 = mp.replicas[2];
    int32_t x = outsider(&mp, 4), pe = mp.partition_epoch;
    assert_int_equal(mp.leader, r0);
    int32_t target[3] = {r1, r2, x}, moving[4] = {r0, r1, r2, x};
    assert_int_equal(reassign(f, "mv", 0, target, 3, true, NULL), E(NONE));
    mp = part_of(f, "mv", 0);
    assert_list(mp.replicas, mp.n_replicas, moving, 4);
    assert_list(mp.target, mp.n_target, target, 3);
    assert_int_equal(mp.partition_epoch, pe + 1);
    assert_int_equal(mp.leader, r0);
    assert_int_equal(mp.leader_epoch, 0);
    assert_int_equal(mp.n_isr, 3);
    assert_int_equal(rf_meta_reassigning_count(f->img), 1);
    /* the same target again: nothing to do */
    int built;
    assert_int_equal(reassign(f, "mv", 0, target, 3, true, &built), E(NONE));
    assert_int_equal(built, RF_ENOENT);

    /* x has not caught up: no completion */
    assert_int_equal(reassign_complete(f), RF_ENOENT);

    /* an in-flight target survives snapshot -> restore byte for byte */
    uint8_t *snap, *snap2;
    size_t len, len2;
    assert_int_equal(rf_meta_snapshot(f->img, &snap, &len), 0);
    struct rf_meta_image *copy = rf_meta_image_new();
    assert_int_equal(rf_meta_restore(copy, snap, len), 0);
    assert_int_equal(rf_meta_hash(copy), rf_meta_hash(f->img));
    assert_int_equal(rf_meta_snapshot(copy, &snap2, &len2), 0);
    assert_int_equal(len, len2);
    assert_memory_equal(snap, snap2, len);
    assert_int_equal(rf_meta_reassigning_count(copy), 1);
    rf_meta_image_free(copy);
    rf_free(snap);
    rf_free(snap2);

    /* the leader adds x to the ISR: the target is carried through */
    int32_t isr4[4] = {r0, r1, r2, x};
    assert_int_equal(alter_isr(f, "mv", 0, r0, 0, pe + 1, isr4, 4, true),
                     E(NONE));
    mp = part_of(f, "mv", 0);
    assert_list(mp.target, mp.n_target, target, 3);

    /* complete: replicas = target, r0 out of the ISR, r1 leads */
    assert_int_equal(reassign_complete(f), 0);
    mp = part_of(f, "mv", 0);
    assert_list(mp.replicas, mp.n_replicas, target, 3);
    int32_t isr3[3] = {r1, r2, x};
    assert_list(mp.isr, mp.n_isr, isr3, 3);
    assert_int_equal(mp.leader, r1);
    assert_int_equal(mp.leader_epoch, 1);
    assert_int_equal(mp.partition_epoch, pe + 3);
    assert_int_equal(mp.n_target, 0);
    assert_null(mp.target);
    assert_int_equal(rf_meta_reassigning_count(f->img), 0);
    assert_int_equal(reassign_complete(f), RF_ENOENT);
}

/* Shrink to {leader, x}: the leader stays; a new target replaces the old;
 * a fence while moving keeps the target. */
static void test_reassign_replace_fence_keep_leader(void **state)
{
    struct fx *f = *state;
    add_brokers(f, 4, NULL);
    assert_int_equal(create_topic(f, "kp", 1, 3), E(NONE));
    struct rf_meta_partition mp = part_of(f, "kp", 0);
    int32_t r0 = mp.replicas[0], r1 = mp.replicas[1], r2 = mp.replicas[2];
    int32_t x = outsider(&mp, 4);
    int32_t first[2] = {x, r1}, second[2] = {x, r0};
    assert_int_equal(reassign(f, "kp", 0, first, 2, true, NULL), E(NONE));
    /* replace the target: the replicas keep everyone until completion */
    assert_int_equal(reassign(f, "kp", 0, second, 2, true, NULL), E(NONE));
    mp = part_of(f, "kp", 0);
    int32_t moving[4] = {r0, r1, r2, x};
    assert_list(mp.replicas, mp.n_replicas, moving, 4);
    assert_list(mp.target, mp.n_target, second, 2);

    /* fence r2 (not leader, not in the target): the target stays */
    fence(f, r2);
    mp = part_of(f, "kp", 0);
    assert_false(in_list(mp.isr, mp.n_isr, r2));
    assert_list(mp.target, mp.n_target, second, 2);
    assert_int_equal(reassign_complete(f), RF_ENOENT);

    int32_t isr[3] = {r0, r1, x};
    assert_int_equal(alter_isr(f, "kp", 0, r0, mp.leader_epoch,
                               mp.partition_epoch, isr, 3, true),
                     E(NONE));
    assert_int_equal(reassign_complete(f), 0);
    mp = part_of(f, "kp", 0);
    assert_list(mp.replicas, mp.n_replicas, second, 2);
    int32_t isr2[2] = {r0, x};
    assert_list(mp.isr, mp.n_isr, isr2, 2);
    assert_int_equal(mp.leader, r0); /* in the target: keeps leading */
    assert_int_equal(mp.leader_epoch, 0);
    assert_int_equal(mp.n_target, 0);
}

/* A completion built before a concurrent change applies is refused whole
 * (stale partition epoch) and the rebuilt one completes. */
static void test_reassign_complete_race(void **state)
{
    struct fx *f = *state;
    add_brokers(f, 4, NULL);
    assert_int_equal(create_topic(f, "rc", 1, 3), E(NONE));
    struct rf_meta_partition mp = part_of(f, "rc", 0);
    int32_t r0 = mp.replicas[0], r1 = mp.replicas[1], r2 = mp.replicas[2];
    int32_t x = outsider(&mp, 4), target[3] = {x, r0, r1};
    assert_int_equal(reassign(f, "rc", 0, target, 3, true, NULL), E(NONE));
    int32_t isr4[4] = {r0, r1, r2, x};
    assert_int_equal(alter_isr(f, "rc", 0, r0, 0, 1, isr4, 4, true), E(NONE));
    Riffle__MetadataCommand stale = RIFFLE__METADATA_COMMAND__INIT;
    assert_int_equal(rf_meta_build_reassign_complete(f->img, &stale), 0);
    int32_t isr3[3] = {r0, r1, x}; /* the leader drops r2 meanwhile */
    assert_int_equal(alter_isr(f, "rc", 0, r0, 0, 2, isr3, 3, true), E(NONE));
    uint64_t h = state_hash(f->img);
    assert_int_equal(apply_cmd(f, &stale), E(INVALID_UPDATE_VERSION));
    assert_int_equal(state_hash(f->img), h);
    assert_int_equal(part_of(f, "rc", 0).n_target, 3);
    assert_int_equal(reassign_complete(f), 0);
    mp = part_of(f, "rc", 0);
    assert_list(mp.replicas, mp.n_replicas, target, 3);
    assert_int_equal(mp.leader, r0);
    assert_int_equal(mp.n_target, 0);
}

/* Apply refuses malformed target fields deterministically. */
static void test_reassign_invalid_records(void **state)
{
    struct fx *f = *state;
    struct rf_meta_topic mt;
    add_brokers(f, 3, NULL);
    assert_int_equal(create_topic(f, "iv", 1, 3), E(NONE));
    assert_true(rf_meta_topic_get(f->img, "iv", &mt));
    struct rf_meta_partition mp = part_of(f, "iv", 0);
    int32_t big[RF_META_MAX_REPLICAS + 1];
    for (int i = 0; i <= RF_META_MAX_REPLICAS; i++)
        big[i] = mp.replicas[0];
    const struct {
        bool flag;
        int32_t t[2];
        const int32_t *tv;
        size_t n;
        int want;
    } cases[] = {
        {false, {1, 0}, NULL, 1, E(INVALID_REQUEST)},   /* list, no flag */
        {true, {0, 0}, NULL, 0, E(INVALID_REPLICA_ASSIGNMENT)}, /* empty */
        {true, {9, 0}, NULL, 1, E(INVALID_REPLICA_ASSIGNMENT)}, /* not replica */
        {true, {1, 1}, NULL, 2, E(INVALID_REPLICA_ASSIGNMENT)}, /* duplicate */
        {true, {0, 0}, big, RF_META_MAX_REPLICAS + 1,
         E(INVALID_REPLICA_ASSIGNMENT)},
        {true, {2, 3}, NULL, 2, E(NONE)},
    };
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        Riffle__MetadataCommand cmd = RIFFLE__METADATA_COMMAND__INIT;
        mp = part_of(f, "iv", 0);
        Riffle__PartitionChangeRecord *r = change_rec(&cmd, &mt.id, 0, &mp);
        r->reassigning = cases[c].flag;
        r->n_target_replicas = cases[c].n;
        r->target_replicas = rf__meta_i32dup(
            cases[c].tv ? cases[c].tv : cases[c].t, cases[c].n);
        uint64_t h = state_hash(f->img);
        assert_int_equal(apply_cmd(f, &cmd), cases[c].want);
        if (cases[c].want != E(NONE))
            assert_int_equal(state_hash(f->img), h);
    }
    assert_int_equal(part_of(f, "iv", 0).n_target, 2);

    /* a snapshot whose target is not a subset of the replicas is refused
     * and leaves the image as it was */
    uint8_t *snap, *bad;
    size_t len;
    assert_int_equal(rf_meta_snapshot(f->img, &snap, &len), 0);
    Riffle__MetadataImage *m = riffle__metadata_image__unpack(NULL, len, snap);
    assert_non_null(m);
    bool patched = false;
    for (size_t i = 0; i < m->n_records; i++) {
        if (m->records[i]->record_case == REC(PARTITION) &&
            m->records[i]->partition->reassigning) {
            m->records[i]->partition->target_replicas[0] = 9;
            patched = true;
        }
    }
    assert_true(patched);
    len = riffle__metadata_image__get_packed_size(m);
    bad = malloc(len + 1);
    riffle__metadata_image__pack(m, bad);
    uint64_t h = rf_meta_hash(f->img);
    assert_int_equal(rf_meta_restore(f->img, bad, len), RF_EPARSE);
    assert_int_equal(rf_meta_hash(f->img), h);
    riffle__metadata_image__free_unpacked(m, NULL);
    free(bad);
    rf_free(snap);
}

#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_topic_name_table),
        T(test_placement_balance),
        T(test_placement_rack_aware),
        T(test_placement_only_unfenced),
        T(test_create_topics_table),
        T(test_config_values_table),
        T(test_manual_assignment_table),
        T(test_retried_command_applies_once),
        T(test_rejected_command_remembers_result),
        T(test_dedup_table_bounded),
        T(test_alter_partition),
        T(test_stale_partition_change_rejected_at_apply),
        T(test_fence_moves_leadership_inside_isr),
        T(test_fence_last_isr_member_and_unfence),
        T(test_fence_unclean_election),
        T(test_fence_never_elects_fenced),
        T(test_controlled_shutdown_and_preferred),
        T(test_controlled_shutdown_unmovable),
        T(test_register_broker_epoch_and_duplicate),
        T(test_partitions_and_delete),
        T(test_list_and_describe),
        T(test_reregister_moves_leaderships),
        T(test_validate_only_and_alter_status),
        T(test_snapshot_restore_round_trip),
        T(test_restore_truncations_and_garbage),
        T(test_malformed_command_bytes),
        T(test_invalid_records_table),
        T(test_invalid_other_records),
        T(test_deltas_and_history_overflow),
        T(test_history_byte_bound),
        T(test_reassign_validation_table),
        T(test_reassign_moves_off_leader),
        T(test_reassign_replace_fence_keep_leader),
        T(test_reassign_complete_race),
        T(test_reassign_invalid_records),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
