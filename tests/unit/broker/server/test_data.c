/* test_data.c: the data path: partition table sync against a real metadata
 * image and real logs, and Produce/Fetch/ListOffsets through a fake
 * front-end (the rf_kreq_* functions below encode every answer with the
 * real codec and decode it back for the assertions). Broker id 1 is "us". */
#define _GNU_SOURCE /* nftw */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <ftw.h>

#include <cmocka.h>

#include "alloc.h"
#include "batch.h"
#include "builder.h"
#include "clock.h"
#include "data_int.h"
#include "err.h"
#include "kafka_msgs.h"
#include "kerr.h"
#include "meta.h"
#include "parts.h"
#include "partition_log.h"
#include "server.h"

#define ME   1
#define E(x) RIFFLE__ERROR_CODE__##x
#define K(x) RF_KERR_##x

/* ---- fixture ---- */

struct tkreq {
    struct rf_kreq r;   /* first */
    struct rf_wr frame; /* encoded request: Records point into it */
};

struct fx {
    char dir[64];
    uv_loop_t loop;
    struct rf_flusher *fl;
    struct rf_parts *ps;
    struct rf_meta_image *img;
    struct rf_meta_defaults defs;
    int64_t off;
    uint32_t next_req;
    struct rf_broker_conf conf;
    struct rf_broker b;
    /* what the fake front-end saw */
    int answers, silent, closes, pipelined;
    int16_t last_key, last_ver;
    struct rf_wr resp_wr;
    struct rf_arena resp_arena;
    void *resp;
    bool track_durable;        /* record durable_at_answer */
    int64_t durable_at_answer; /* of "t"-0, when an answer was sent */
};

static struct fx *g;
/* Record timestamps near the wall clock, so the log never rolls by age. */
static int64_t T0;

static void kreq_free(struct rf_kreq *r)
{
    struct tkreq *t = (struct tkreq *)r;
    rf_arena_close(&r->arena);
    rf_wr_free(&t->frame);
    free(t);
}

void *rf_kreq_alloc(struct rf_kreq *r, size_t n)
{
    return rf_arena_alloc(&r->arena, n);
}

void rf_kreq_respond(struct rf_kreq *r, const void *body)
{
    const struct rf_kmsg *msg = r->req.api->response;
    int16_t ver = r->req.hdr.RequestApiVersion;
    if (g->track_durable) {
        struct rf_part *p = rf_parts_get(g->ps, "t", 1, 0);
        g->durable_at_answer = rf_log_durable_offset(p->log);
    }
    rf_wr_reset(&g->resp_wr);
    rf_arena_reset(&g->resp_arena);
    assert_int_equal(rf_kmsg_encode(msg, ver, body, &g->resp_wr), 0);
    g->resp = rf_arena_alloc(&g->resp_arena, msg->root->size);
    assert_int_equal(rf_kmsg_decode(msg, ver, g->resp_wr.base, g->resp_wr.len,
                                    &g->resp_arena, NULL, g->resp),
                     (ssize_t)g->resp_wr.len);
    g->answers++;
    g->last_key = r->req.hdr.RequestApiKey;
    g->last_ver = ver;
    kreq_free(r);
}

void rf_kreq_no_response(struct rf_kreq *r)
{
    g->silent++;
    kreq_free(r);
}

void rf_kreq_close(struct rf_kreq *r)
{
    g->closes++;
    kreq_free(r);
}

void rf_kreq_pipeline(struct rf_kreq *r)
{
    (void)r;
    g->pipelined++;
}

static int rm_one(const char *path, const struct stat *st, int flag,
                  struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void register_broker(struct fx *f, int32_t id);
static void unfence(struct fx *f, int32_t id);

static int fx_setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    struct rf_parts_opts po;
    g = f;
    T0 = rf_clock_wall_ms() - 60000;
    strcpy(f->dir, "/tmp/rf-test-data-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    assert_int_equal(uv_loop_init(&f->loop), 0);
    assert_int_equal(rf_flusher_new(&f->loop, 1, &f->fl), 0);
    memset(&po, 0, sizeof(po));
    po.broker_id = ME;
    po.log_dir = f->dir;
    rf_log_config_default(&po.log_conf);
    po.flusher = f->fl;
    assert_int_equal(rf_parts_new(&f->loop, &po, &f->ps), 0);
    f->img = rf_meta_image_new();
    f->defs.num_partitions = 1;
    f->defs.default_replication = 1;
    f->defs.max_partitions_per_topic = 1000;
    f->conf.message_max_bytes = 1048588;
    f->conf.fetch_max_bytes = 57671680;
    f->conf.min_insync_replicas = 1;
    f->b.loop = &f->loop;
    f->b.conf = &f->conf;
    f->b.id = ME;
    f->b.parts = f->ps;
    f->b.flusher = f->fl;
    rf_wr_init(&f->resp_wr, 256);
    rf_arena_init(&f->resp_arena, 4096, 0);
    for (int32_t id = 1; id <= 3; id++) {
        register_broker(f, id);
        unfence(f, id);
    }
    *state = f;
    return 0;
}

static int fx_teardown(void **state)
{
    struct fx *f = *state;
    rf_parts_free(f->ps);
    rf_flusher_close(f->fl);
    for (int i = 0; i < 100 && uv_run(&f->loop, UV_RUN_NOWAIT) != 0; i++)
        usleep(1000);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    rf_meta_image_free(f->img);
    rf_wr_free(&f->resp_wr);
    rf_arena_close(&f->resp_arena);
    nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    g = NULL;
    return 0;
}

/* Run the loop until *counter reaches want (bounded: never hangs). */
static void run_until(struct fx *f, const int *counter, int want)
{
    for (int i = 0; i < 10000 && *counter < want; i++)
        uv_run(&f->loop, UV_RUN_ONCE);
    assert_int_equal(*counter, want);
}

/* ---- metadata image helpers ---- */

static void req_id(struct fx *f, ProtobufCBinaryData *b, uint8_t *store)
{
    memset(store, 0x5a, 16);
    memcpy(store, &f->next_req, sizeof(f->next_req));
    f->next_req++;
    b->data = store;
    b->len = 16;
}

static void apply_cmd(struct fx *f, Riffle__MetadataCommand *cmd)
{
    size_t len = riffle__metadata_command__get_packed_size(cmd);
    uint8_t *buf = malloc(len + 1);
    riffle__metadata_command__pack(cmd, buf);
    assert_int_equal(rf_meta_apply(f->img, ++f->off, buf, len), E(NONE));
    free(buf);
    rf_meta_command_free(cmd);
}

static void register_broker(struct fx *f, int32_t id)
{
    Riffle__RegisterBrokerRequest req = RIFFLE__REGISTER_BROKER_REQUEST__INIT;
    Riffle__RegisterBrokerResponse resp =
        RIFFLE__REGISTER_BROKER_RESPONSE__INIT;
    Riffle__MetadataCommand cmd = RIFFLE__METADATA_COMMAND__INIT;
    Riffle__Endpoint ep = RIFFLE__ENDPOINT__INIT, *eps[1] = {&ep};
    uint8_t inc[16], rid[16];
    memset(inc, 0x22, sizeof(inc));
    inc[0] = (uint8_t)id;
    req_id(f, &req.request_id, rid);
    req.broker_id = id;
    req.incarnation_id.data = inc;
    req.incarnation_id.len = 16;
    ep.name = "PLAINTEXT";
    ep.host = "127.0.0.1";
    ep.port = (uint32_t)(9092 + id);
    req.n_endpoints = 1;
    req.endpoints = eps;
    req.rack = "";
    assert_int_equal(
        rf_meta_build_register_broker(f->img, &req, false, &cmd, &resp), 0);
    apply_cmd(f, &cmd);
    rf_meta_response_free(&resp.base);
}

static void unfence(struct fx *f, int32_t id)
{
    Riffle__MetadataCommand cmd = RIFFLE__METADATA_COMMAND__INIT;
    assert_int_equal(rf_meta_build_unfence(f->img, id, &cmd), 0);
    apply_cmd(f, &cmd);
}

static void fence(struct fx *f, int32_t id)
{
    Riffle__MetadataCommand cmd = RIFFLE__METADATA_COMMAND__INIT;
    assert_int_equal(rf_meta_build_fence(f->img, &f->defs, id, &cmd), 0);
    apply_cmd(f, &cmd);
}

/* A topic with one replica list per partition (a list of up to 3 ids,
 * 0-terminated), and optionally one config. */
static void create_topic(struct fx *f, const char *name, int nparts,
                         const int32_t reps[][4], const char *cfg_name,
                         const char *cfg_value)
{
    Riffle__CreatableTopic t = RIFFLE__CREATABLE_TOPIC__INIT, *ts[1] = {&t};
    Riffle__CreateTopicsRequest req = RIFFLE__CREATE_TOPICS_REQUEST__INIT;
    Riffle__CreateTopicsResponse resp = RIFFLE__CREATE_TOPICS_RESPONSE__INIT;
    Riffle__MetadataCommand cmd = RIFFLE__METADATA_COMMAND__INIT;
    Riffle__ReplicaAssignment as[8], *asp[8];
    Riffle__ConfigEntry c = RIFFLE__CONFIG_ENTRY__INIT, *cs[1] = {&c};
    int32_t ids[8][4];
    uint8_t rid[16];
    assert_true(nparts <= 8);
    for (int i = 0; i < nparts; i++) {
        riffle__replica_assignment__init(&as[i]);
        as[i].partition = i;
        as[i].broker_ids = ids[i];
        as[i].n_broker_ids = 0;
        for (int k = 0; k < 4 && reps[i][k] != 0; k++)
            ids[i][as[i].n_broker_ids++] = reps[i][k];
        asp[i] = &as[i];
    }
    req_id(f, &req.request_id, rid);
    t.name = (char *)name;
    t.num_partitions = -1;
    t.replication_factor = -1;
    t.assignments = asp;
    t.n_assignments = (size_t)nparts;
    if (cfg_name != NULL) {
        c.name = (char *)cfg_name;
        c.value = (char *)cfg_value;
        t.configs = cs;
        t.n_configs = 1;
    }
    req.topics = ts;
    req.n_topics = 1;
    int rc = rf_meta_build_create_topics(f->img, &f->defs, &req, &cmd, &resp);
    if (rc != 0)
        print_error("create %s: %s\n", name, resp.topics[0]->error_message);
    assert_int_equal(rc, 0);
    assert_int_equal(resp.topics[0]->error, E(NONE));
    rf_meta_response_free(&resp.base);
    apply_cmd(f, &cmd);
}

static void delete_topic(struct fx *f, const char *name)
{
    char *names[1] = {(char *)name};
    Riffle__DeleteTopicsRequest req = RIFFLE__DELETE_TOPICS_REQUEST__INIT;
    Riffle__DeleteTopicsResponse resp = RIFFLE__DELETE_TOPICS_RESPONSE__INIT;
    Riffle__MetadataCommand cmd = RIFFLE__METADATA_COMMAND__INIT;
    uint8_t rid[16];
    req_id(f, &req.request_id, rid);
    req.names = names;
    req.n_names = 1;
    assert_int_equal(rf_meta_build_delete_topics(f->img, &req, &cmd, &resp), 0);
    rf_meta_response_free(&resp.base);
    apply_cmd(f, &cmd);
}

/* The leader shrinks/sets the ISR of topic-p (AlterPartition). */
static void set_isr(struct fx *f, const char *topic, int32_t p, int32_t *isr,
                    size_t n)
{
    struct rf_meta_topic t;
    struct rf_meta_partition mp;
    struct rf_meta_broker b;
    Riffle__AlterPartitionItem it = RIFFLE__ALTER_PARTITION_ITEM__INIT,
                               *its[1] = {&it};
    Riffle__AlterPartitionRequest req = RIFFLE__ALTER_PARTITION_REQUEST__INIT;
    Riffle__AlterPartitionResponse resp =
        RIFFLE__ALTER_PARTITION_RESPONSE__INIT;
    Riffle__MetadataCommand cmd = RIFFLE__METADATA_COMMAND__INIT;
    assert_true(rf_meta_topic_get(f->img, topic, &t));
    assert_true(rf_meta_partition_get(f->img, &t.id, p, &mp));
    assert_true(rf_meta_broker_get(f->img, mp.leader, &b));
    it.topic_id.data = t.id.b;
    it.topic_id.len = 16;
    it.partition = p;
    it.leader_epoch = mp.leader_epoch;
    it.partition_epoch = mp.partition_epoch;
    it.new_isr = isr;
    it.n_new_isr = n;
    req.broker_id = mp.leader;
    req.broker_epoch = b.epoch;
    req.partitions = its;
    req.n_partitions = 1;
    assert_int_equal(rf_meta_build_alter_partition(f->img, &req, &cmd, &resp),
                     0);
    assert_int_equal(resp.partitions[0]->error, E(NONE));
    rf_meta_response_free(&resp.base);
    apply_cmd(f, &cmd);
}

static bool dir_exists(struct fx *f, const char *topic, int32_t p)
{
    char path[256];
    struct stat st;
    snprintf(path, sizeof(path), "%s/%s-%d", f->dir, topic, p);
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* ---- requests through the fake front-end ---- */

static void submit(struct fx *f, int16_t key, int16_t ver, const void *body)
{
    struct tkreq *t = calloc(1, sizeof(*t));
    const struct rf_kafka_api *api = rf_kafka_api_find(key);
    assert_non_null(api);
    rf_wr_init(&t->frame, 256);
    assert_int_equal(rf_kmsg_encode(api->request, ver, body, &t->frame), 0);
    rf_arena_init(&t->r.arena, 4096, 0);
    t->r.b = &f->b;
    t->r.req.api = api;
    t->r.req.hdr.RequestApiKey = key;
    t->r.req.hdr.RequestApiVersion = ver;
    t->r.req.hdr.CorrelationId = 7;
    t->r.req.body = rf_arena_alloc(&t->r.arena, api->request->root->size);
    assert_int_equal(rf_kmsg_decode(api->request, ver, t->frame.base,
                                    t->frame.len, &t->r.arena, NULL,
                                    t->r.req.body),
                     (ssize_t)t->frame.len);
    switch (key) {
    case RF_API_PRODUCE:
        rf_api_produce(&t->r);
        break;
    case RF_API_FETCH:
        rf_api_fetch(&t->r);
        break;
    default:
        rf_api_list_offsets(&t->r);
        break;
    }
}

/* One batch of nrec records (timestamps ts, ts+1, ...) into wr. */
static size_t make_batch(struct rf_wr *wr, int nrec, int64_t ts)
{
    struct rf_test_batch_spec spec = {
        .nrecords = nrec, .value_size = 10, .base_ts = ts, .seed = 3};
    rf_wr_reset(wr);
    return rf_test_build_batch(wr, &spec);
}

static void produce_records(struct fx *f, int16_t ver, int16_t acks,
                            int32_t timeout, const char *topic, int32_t part,
                            struct rf_kbytes records);

static void produce(struct fx *f, int16_t ver, int16_t acks, int32_t timeout,
                    const char *topic, int32_t part, const uint8_t *batch,
                    size_t len)
{
    struct rf_kbytes rec = {batch, (int32_t)len};
    produce_records(f, ver, acks, timeout, topic, part, rec);
}

static void produce_records(struct fx *f, int16_t ver, int16_t acks,
                            int32_t timeout, const char *topic, int32_t part,
                            struct rf_kbytes records)
{
    struct rf_ProduceRequest req;
    struct rf_ProduceRequest_TopicProduceData td;
    struct rf_ProduceRequest_PartitionProduceData pd;
    rf_ProduceRequest_init(&req, ver);
    memset(&td, 0, sizeof(td));
    pd.Index = part;
    pd.Records = records;
    td.Name.ptr = topic;
    td.Name.len = (int32_t)strlen(topic);
    td.PartitionData.items = &pd;
    td.PartitionData.count = 1;
    req.Acks = acks;
    req.TimeoutMs = timeout;
    req.TopicData.items = &td;
    req.TopicData.count = 1;
    submit(f, RF_API_PRODUCE, ver, &req);
}

static const struct rf_ProduceResponse_PartitionProduceResponse *
produce_answer(struct fx *f)
{
    const struct rf_ProduceResponse *resp = f->resp;
    assert_int_equal(f->last_key, RF_API_PRODUCE);
    assert_int_equal(resp->Responses.count, 1);
    assert_int_equal(resp->Responses.items[0].PartitionResponses.count, 1);
    return &resp->Responses.items[0].PartitionResponses.items[0];
}

/* Produce nbatches batches of nrec records with acks=1; returns nothing,
 * asserts success. */
static void fill(struct fx *f, const char *topic, int32_t part, int nbatches,
                 int nrec)
{
    struct rf_wr wr;
    rf_wr_init(&wr, 256);
    for (int i = 0; i < nbatches; i++) {
        size_t len = make_batch(&wr, nrec, T0 + i * 100);
        int before = f->answers;
        produce(f, 7, 1, 1000, topic, part, wr.base, len);
        assert_int_equal(f->answers, before + 1);
        assert_int_equal(produce_answer(f)->ErrorCode, K(NONE));
    }
    rf_wr_free(&wr);
}

struct fetch_part_spec {
    const char *topic;
    int32_t part;
    int64_t offset;
    int32_t part_max;
};

static void fetch(struct fx *f, int16_t ver, int32_t replica, int32_t max_wait,
                  int32_t min_bytes, int32_t max_bytes,
                  const struct fetch_part_spec *ps, int n)
{
    struct rf_FetchRequest req;
    struct rf_FetchRequest_FetchTopic ts[4];
    struct rf_FetchRequest_FetchPartition fp[4];
    assert_true(n <= 4);
    rf_FetchRequest_init(&req, ver);
    memset(ts, 0, sizeof(ts));
    memset(fp, 0, sizeof(fp));
    for (int i = 0; i < n; i++) {
        fp[i].Partition = ps[i].part;
        fp[i].FetchOffset = ps[i].offset;
        fp[i].CurrentLeaderEpoch = -1;
        fp[i].LogStartOffset = -1;
        fp[i].PartitionMaxBytes = ps[i].part_max;
        ts[i].Topic.ptr = ps[i].topic;
        ts[i].Topic.len = (int32_t)strlen(ps[i].topic);
        ts[i].Partitions.items = &fp[i];
        ts[i].Partitions.count = 1;
    }
    req.ReplicaId = replica;
    req.MaxWaitMs = max_wait;
    req.MinBytes = min_bytes;
    req.MaxBytes = max_bytes;
    req.Topics.items = ts;
    req.Topics.count = n;
    req.ForgottenTopicsData.count = 0;
    req.RackId.ptr = "";
    req.RackId.len = 0;
    submit(f, RF_API_FETCH, ver, &req);
}

static const struct rf_FetchResponse_PartitionData *fetch_part(struct fx *f,
                                                               int i)
{
    const struct rf_FetchResponse *resp = f->resp;
    assert_int_equal(f->last_key, RF_API_FETCH);
    assert_true(i < resp->Responses.count);
    assert_int_equal(resp->Responses.items[i].Partitions.count, 1);
    return &resp->Responses.items[i].Partitions.items[0];
}

/* Walk returned records: number of whole batches, first base offset and
 * last offset (bounded walk; asserts every batch is whole and valid). */
static int batches_in(const struct rf_kbytes *rec, int64_t *first_base,
                      int64_t *last)
{
    int n = 0;
    size_t off = 0, len = rec->len > 0 ? (size_t)rec->len : 0;
    *first_base = *last = -1;
    while (off < len) {
        struct rf_batch_info info;
        assert_int_equal(rf_batch_header(rec->ptr + off, len - off, &info), 0);
        assert_true(info.size <= len - off);
        assert_int_equal(rf_batch_check_crc(rec->ptr + off, info.size), 0);
        if (n == 0)
            *first_base = info.base_offset;
        *last = info.base_offset + info.last_offset_delta;
        off += info.size;
        n++;
    }
    return n;
}

static const int32_t R1[][4] = {{1}};
static const int32_t R12[][4] = {{1, 2}};

/* ---- partition table ---- */

static void test_sync_hosting_and_leadership(void **state)
{
    struct fx *f = *state;
    const int32_t reps[][4] = {{1, 2}, {2, 1}, {2, 3}};
    create_topic(f, "zeta", 1, R1, NULL, NULL);
    create_topic(f, "alpha", 3, reps, NULL, NULL);
    rf_parts_sync(f->ps, f->img);
    const struct {
        int32_t part;
        bool hosted, leader;
        int32_t leader_id;
    } cases[] = {
        {0, true, true, 1},
        {1, true, false, 2},
        {2, false, false, 2},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct rf_part *p = rf_parts_get(f->ps, "alpha", 5, cases[i].part);
        assert_non_null(p);
        assert_string_equal(p->topic, "alpha");
        assert_int_equal(p->index, cases[i].part);
        assert_int_equal(p->hosted, cases[i].hosted);
        assert_int_equal(p->is_leader, cases[i].leader);
        assert_int_equal(p->leader, cases[i].leader_id);
        assert_int_equal(p->log != NULL, cases[i].hosted);
        assert_int_equal(p->open_error, 0);
        assert_int_equal(dir_exists(f, "alpha", cases[i].part),
                         cases[i].hosted);
        assert_int_equal(p->n_replicas, 2);
        assert_false(p->internal);
    }
    /* lookups by length-delimited name, name order, counts */
    assert_null(rf_parts_get(f->ps, "alphabet", 5 + 3, 0));
    assert_non_null(rf_parts_get(f->ps, "alphabet", 5, 0));
    assert_null(rf_parts_get(f->ps, "alpha", 5, 3));
    assert_null(rf_parts_get(f->ps, "alpha", 5, -1));
    assert_null(rf_parts_get(f->ps, "beta", 4, 0));
    assert_int_equal(rf_parts_topic_partitions(f->ps, "alpha", 5), 3);
    assert_int_equal(rf_parts_topic_partitions(f->ps, "nope", 4), 0);
    assert_int_equal(rf_parts_topic_count(f->ps), 2);
    const char *name;
    struct rf_part *const *parts;
    size_t n;
    assert_true(rf_parts_topic_at(f->ps, 0, &name, &parts, &n));
    assert_string_equal(name, "alpha");
    assert_int_equal(n, 3);
    assert_int_equal(parts[2]->index, 2);
    assert_true(rf_parts_topic_at(f->ps, 1, &name, &parts, &n));
    assert_string_equal(name, "zeta");
    assert_false(rf_parts_topic_at(f->ps, 2, &name, &parts, &n));
    /* broker 2 fenced: alpha-1 moves to us, alpha-0 stays ours */
    fence(f, 2);
    rf_parts_sync(f->ps, f->img);
    struct rf_part *p1 = rf_parts_get(f->ps, "alpha", 5, 1);
    assert_true(p1->is_leader);
    assert_int_equal(p1->leader, 1);
    assert_int_equal(p1->leader_epoch, 1);
    /* and we get fenced: nothing is ours any more, logs stay open */
    unfence(f, 2);
    fence(f, 1);
    rf_parts_sync(f->ps, f->img);
    for (int32_t i = 0; i < 2; i++) {
        struct rf_part *p = rf_parts_get(f->ps, "alpha", 5, i);
        assert_false(p->is_leader);
        assert_true(p->hosted);
        assert_non_null(p->log);
    }
}

static void test_delete_removes_directory(void **state)
{
    struct fx *f = *state;
    create_topic(f, "t", 1, R1, NULL, NULL);
    create_topic(f, "keep", 1, R1, NULL, NULL);
    rf_parts_sync(f->ps, f->img);
    fill(f, "t", 0, 2, 3);
    assert_int_equal(rf_log_end_offset(rf_parts_get(f->ps, "t", 1, 0)->log), 6);
    assert_true(dir_exists(f, "t", 0));
    delete_topic(f, "t");
    rf_parts_sync(f->ps, f->img);
    assert_false(dir_exists(f, "t", 0));
    assert_true(dir_exists(f, "keep", 0));
    assert_null(rf_parts_get(f->ps, "t", 1, 0));
    assert_int_equal(rf_parts_topic_count(f->ps), 1);
    /* same name again: a new topic id, an empty log */
    create_topic(f, "t", 1, R1, NULL, NULL);
    rf_parts_sync(f->ps, f->img);
    struct rf_part *p = rf_parts_get(f->ps, "t", 1, 0);
    assert_non_null(p->log);
    assert_int_equal(rf_log_end_offset(p->log), 0);
    assert_int_equal(p->high_watermark, 0);
    /* a sync with nothing new changes nothing */
    rf_parts_sync(f->ps, f->img);
    assert_ptr_equal(rf_parts_get(f->ps, "t", 1, 0), p);
}

static void test_high_watermark_rule(void **state)
{
    struct fx *f = *state;
    int32_t only_me[] = {1};
    create_topic(f, "t", 1, R12, NULL, NULL);
    rf_parts_sync(f->ps, f->img);
    struct rf_part *p = rf_parts_get(f->ps, "t", 1, 0);
    assert_int_equal(p->n_isr, 2);
    fill(f, "t", 0, 1, 3);
    /* another ISR member: the HWM waits for replication */
    assert_int_equal(rf_log_end_offset(p->log), 3);
    assert_int_equal(p->high_watermark, 0);
    /* ISR shrinks to us: HWM = log end offset at once */
    set_isr(f, "t", 0, only_me, 1);
    rf_parts_sync(f->ps, f->img);
    assert_int_equal(p->n_isr, 1);
    assert_int_equal(p->high_watermark, 3);
    fill(f, "t", 0, 1, 2);
    assert_int_equal(p->high_watermark, 5);
}

/* ---- Produce ---- */

static void test_produce_errors_table(void **state)
{
    struct fx *f = *state;
    const int32_t reps[][4] = {{1, 3}, {2, 1}};
    create_topic(f, "t", 2, reps, NULL, NULL);
    int32_t only_me[] = {1};
    create_topic(f, "strict", 1, R12, "min.insync.replicas", "2");
    set_isr(f, "strict", 0, only_me, 1);
    create_topic(f, "small", 1, R1, "max.message.bytes", "100");
    create_topic(f, "__internal", 1, R1, NULL, NULL);
    rf_parts_sync(f->ps, f->img);
    struct rf_wr wr;
    rf_wr_init(&wr, 256);
    const struct {
        const char *topic;
        int32_t part;
        int16_t acks;
        int16_t ver;
        int corrupt; /* 1: flip a CRC-covered byte, 2: magic 1,
                      * 3: null records, 4: empty records */
        int16_t expect;
    } cases[] = {
        {"t", 0, 1, 7, 0, K(NONE)},
        {"t", 0, 2, 7, 0, K(INVALID_REQUIRED_ACKS)},
        {"t", 0, -2, 3, 0, K(INVALID_REQUIRED_ACKS)},
        {"nope", 0, 1, 7, 0, K(UNKNOWN_TOPIC_OR_PARTITION)},
        {"t", 2, 1, 7, 0, K(UNKNOWN_TOPIC_OR_PARTITION)},
        {"t", 1, 1, 7, 0, K(NOT_LEADER_OR_FOLLOWER)},
        {"t", 0, 1, 7, 1, K(CORRUPT_MESSAGE)},
        {"t", 0, 1, 5, 2, K(INVALID_RECORD)},
        {"strict", 0, -1, 7, 0, K(NOT_ENOUGH_REPLICAS)},
        {"strict", 0, 1, 7, 0, K(NONE)},
        {"small", 0, 1, 7, 0, K(MESSAGE_TOO_LARGE)},
        {"t", 0, 1, 7, 3, K(INVALID_RECORD)},
        {"t", 0, 1, 7, 4, K(INVALID_RECORD)},
        {"__internal", 0, 1, 7, 0, K(INVALID_TOPIC_EXCEPTION)},
    };
    int64_t expect_leo = 0;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t len = make_batch(&wr, 5, T0);
        if (cases[i].corrupt == 1)
            wr.base[len - 1] ^= 0xff;
        if (cases[i].corrupt == 2)
            wr.base[RF_BATCH_OFF_MAGIC] = 1;
        struct rf_kbytes rec = {wr.base, (int32_t)len};
        if (cases[i].corrupt == 3)
            rec = (struct rf_kbytes){NULL, -1};
        if (cases[i].corrupt == 4)
            rec.len = 0;
        int before = f->answers;
        produce_records(f, cases[i].ver, cases[i].acks, 1000, cases[i].topic,
                        cases[i].part, rec);
        assert_int_equal(f->answers, before + 1);
        const struct rf_ProduceResponse_PartitionProduceResponse *out =
            produce_answer(f);
        assert_int_equal(out->Index, cases[i].part);
        assert_int_equal(out->ErrorCode, cases[i].expect);
        if (cases[i].expect == K(NONE) && strcmp(cases[i].topic, "t") == 0) {
            assert_int_equal(out->BaseOffset, expect_leo);
            expect_leo += 5;
        } else if (cases[i].expect != K(NONE)) {
            assert_int_equal(out->BaseOffset, -1);
        }
        assert_int_equal(rf_log_end_offset(rf_parts_get(f->ps, "t", 1, 0)->log),
                         expect_leo);
    }
    /* acks=0: appended, no answer; an error closes the connection */
    size_t len = make_batch(&wr, 2, T0);
    produce(f, 7, 0, 1000, "t", 0, wr.base, len);
    assert_int_equal(f->silent, 1);
    assert_int_equal(rf_log_end_offset(rf_parts_get(f->ps, "t", 1, 0)->log),
                     expect_leo + 2);
    len = make_batch(&wr, 2, T0);
    produce(f, 7, 0, 1000, "t", 1, wr.base, len);
    assert_int_equal(f->closes, 1);
    rf_wr_free(&wr);
}

static void test_produce_offsets_and_log_append_time(void **state)
{
    struct fx *f = *state;
    create_topic(f, "lat", 1, R1, "message.timestamp.type", "LogAppendTime");
    rf_parts_sync(f->ps, f->img);
    struct rf_wr wr;
    rf_wr_init(&wr, 256);
    for (int i = 0; i < 3; i++) {
        size_t len = make_batch(&wr, 4, T0);
        produce(f, 7, 1, 1000, "lat", 0, wr.base, len);
        const struct rf_ProduceResponse_PartitionProduceResponse *out =
            produce_answer(f);
        assert_int_equal(out->ErrorCode, 0);
        assert_int_equal(out->BaseOffset, i * 4);
        assert_true(out->LogAppendTimeMs > 1000000000000LL);
        assert_int_equal(out->LogStartOffset, 0);
    }
    rf_wr_free(&wr);
}

static void test_produce_acks_all_waits_for_fsync(void **state)
{
    struct fx *f = *state;
    create_topic(f, "t", 1, R1, NULL, NULL);
    rf_parts_sync(f->ps, f->img);
    struct rf_wr wr;
    rf_wr_init(&wr, 256);
    size_t len = make_batch(&wr, 3, T0);
    f->track_durable = true;
    produce(f, 7, -1, 30000, "t", 0, wr.base, len);
    /* never answered from inside the handler: the fdatasync runs on the
     * flusher thread and reports back through the loop */
    assert_int_equal(f->answers, 0);
    /* ... and lets the connection's next request in while it waits */
    assert_int_equal(f->pipelined, 1);
    run_until(f, &f->answers, 1);
    assert_int_equal(produce_answer(f)->ErrorCode, K(NONE));
    assert_int_equal(produce_answer(f)->BaseOffset, 0);
    assert_true(f->durable_at_answer >= 3);
    rf_wr_free(&wr);
}

static void test_produce_acks_all_timeout_and_leader_loss(void **state)
{
    struct fx *f = *state;
    create_topic(f, "t", 1, R12, NULL, NULL); /* ISR {1,2}: HWM stays */
    rf_parts_sync(f->ps, f->img);
    struct rf_wr wr;
    rf_wr_init(&wr, 256);
    size_t len = make_batch(&wr, 3, T0);
    produce(f, 7, -1, 20, "t", 0, wr.base, len);
    run_until(f, &f->answers, 1);
    assert_int_equal(produce_answer(f)->ErrorCode, K(REQUEST_TIMED_OUT));
    /* appended all the same (retries may duplicate, as in Kafka) */
    len = make_batch(&wr, 3, T0);
    produce(f, 7, -1, 60000, "t", 0, wr.base, len);
    assert_int_equal(f->answers, 1);
    /* let the flush complete so only the HWM holds the answer back */
    for (int i = 0; i < 50; i++)
        uv_run(&f->loop, UV_RUN_NOWAIT), usleep(1000);
    assert_int_equal(f->answers, 1);
    fence(f, 1);
    rf_parts_sync(f->ps, f->img);
    assert_int_equal(f->answers, 1); /* never from inside the sync */
    run_until(f, &f->answers, 2);
    assert_int_equal(produce_answer(f)->ErrorCode, K(NOT_LEADER_OR_FOLLOWER));
    rf_wr_free(&wr);
}

/* acks=all waits for the HWM too: answered once the ISR shrinks to us. */
static void test_produce_acks_all_waits_for_hwm(void **state)
{
    struct fx *f = *state;
    int32_t only_me[] = {1};
    create_topic(f, "t", 1, R12, NULL, NULL);
    rf_parts_sync(f->ps, f->img);
    struct rf_wr wr;
    rf_wr_init(&wr, 256);
    size_t len = make_batch(&wr, 3, T0);
    produce(f, 7, -1, 60000, "t", 0, wr.base, len);
    /* durable soon, but the HWM stays at 0 while broker 2 is in the ISR */
    for (int i = 0; i < 50; i++)
        uv_run(&f->loop, UV_RUN_NOWAIT), usleep(1000);
    assert_int_equal(f->answers, 0);
    set_isr(f, "t", 0, only_me, 1);
    rf_parts_sync(f->ps, f->img);
    run_until(f, &f->answers, 1);
    assert_int_equal(produce_answer(f)->ErrorCode, K(NONE));
    assert_int_equal(produce_answer(f)->BaseOffset, 0);
    rf_wr_free(&wr);
}

/* Durable and under the HWM, but the ISR fell below min.insync.replicas
 * meanwhile: code 20 (Kafka's DelayedProduce). */
static void test_produce_acks_all_isr_shrank(void **state)
{
    struct fx *f = *state;
    int32_t only_me[] = {1};
    create_topic(f, "t", 1, R12, "min.insync.replicas", "2");
    rf_parts_sync(f->ps, f->img);
    struct rf_wr wr;
    rf_wr_init(&wr, 256);
    size_t len = make_batch(&wr, 3, T0);
    produce(f, 7, -1, 60000, "t", 0, wr.base, len);
    set_isr(f, "t", 0, only_me, 1);
    rf_parts_sync(f->ps, f->img); /* HWM jumps, but the ISR is too small */
    run_until(f, &f->answers, 1);
    assert_int_equal(produce_answer(f)->ErrorCode,
                     K(NOT_ENOUGH_REPLICAS_AFTER_APPEND));
    /* and a timeout with a too small ISR says the same */
    int32_t both[] = {1, 2};
    set_isr(f, "t", 0, both, 2);
    rf_parts_sync(f->ps, f->img);
    len = make_batch(&wr, 3, T0);
    produce(f, 7, -1, 30, "t", 0, wr.base, len);
    assert_int_equal(f->answers, 1);
    run_until(f, &f->answers, 2);
    assert_int_equal(produce_answer(f)->ErrorCode, K(REQUEST_TIMED_OUT));
    rf_wr_free(&wr);
}

static void test_produce_acks_all_topic_deleted(void **state)
{
    struct fx *f = *state;
    create_topic(f, "t", 1, R12, NULL, NULL);
    rf_parts_sync(f->ps, f->img);
    struct rf_wr wr;
    rf_wr_init(&wr, 256);
    size_t len = make_batch(&wr, 3, T0);
    produce(f, 7, -1, 60000, "t", 0, wr.base, len);
    delete_topic(f, "t");
    rf_parts_sync(f->ps, f->img);
    assert_int_equal(f->answers, 0);
    run_until(f, &f->answers, 1);
    assert_int_equal(produce_answer(f)->ErrorCode, K(NOT_LEADER_OR_FOLLOWER));
    rf_wr_free(&wr);
}

/* ---- Fetch ---- */

static void test_fetch_offsets_table(void **state)
{
    struct fx *f = *state;
    create_topic(f, "t", 1, R1, NULL, NULL);
    const int32_t reps[][4] = {{2, 1}};
    create_topic(f, "other", 1, reps, NULL, NULL);
    rf_parts_sync(f->ps, f->img);
    fill(f, "t", 0, 3, 3); /* batches [0,2] [3,5] [6,8] */
    const struct {
        const char *topic;
        int64_t offset;
        int16_t ver;
        int16_t err;
        int nbatches;
        int64_t first_base;
    } cases[] = {
        {"t", 0, 11, K(NONE), 3, 0},
        {"t", 4, 11, K(NONE), 2, 3}, /* starts with the batch holding 4 */
        {"t", 5, 4, K(NONE), 2, 3},
        {"t", 8, 7, K(NONE), 1, 6},
        {"t", 9, 11, K(NONE), 0, -1}, /* at the end: nothing, no error */
        {"t", 10, 11, K(OFFSET_OUT_OF_RANGE), 0, -1},
        {"t", -1, 11, K(OFFSET_OUT_OF_RANGE), 0, -1},
        {"nope", 0, 11, K(UNKNOWN_TOPIC_OR_PARTITION), 0, -1},
        {"other", 0, 11, K(NOT_LEADER_OR_FOLLOWER), 0, -1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct fetch_part_spec s = {cases[i].topic, 0, cases[i].offset,
                                    1 << 20};
        int before = f->answers;
        fetch(f, cases[i].ver, -1, 0, 1, 1 << 20, &s, 1);
        assert_int_equal(f->answers, before + 1);
        const struct rf_FetchResponse *resp = f->resp;
        assert_int_equal(resp->ErrorCode, 0);
        assert_int_equal(resp->SessionId, 0);
        const struct rf_FetchResponse_PartitionData *pd = fetch_part(f, 0);
        int64_t base, last;
        assert_int_equal(pd->ErrorCode, cases[i].err);
        assert_int_equal(batches_in(&pd->Records, &base, &last),
                         cases[i].nbatches);
        assert_int_equal(base, cases[i].first_base);
        if (cases[i].nbatches > 0)
            assert_true(last >= cases[i].offset);
        if (strcmp(cases[i].topic, "t") == 0) {
            assert_int_equal(pd->HighWatermark, 9);
            if (cases[i].ver >= 5)
                assert_int_equal(pd->LogStartOffset, 0);
            if (cases[i].ver >= 11)
                assert_int_equal(pd->PreferredReadReplica, -1);
            assert_int_equal(pd->LastStableOffset, 9);
            assert_int_equal(pd->AbortedTransactions.count, 0);
        }
    }
}

static void test_fetch_size_limits(void **state)
{
    struct fx *f = *state;
    const int32_t reps[][4] = {{1}, {1}};
    create_topic(f, "t", 2, reps, NULL, NULL);
    rf_parts_sync(f->ps, f->img);
    fill(f, "t", 0, 3, 3);
    fill(f, "t", 1, 3, 3);
    struct fetch_part_spec s[2] = {{"t", 0, 0, 1}, {"t", 1, 0, 1 << 20}};
    int64_t base, last;
    /* PartitionMaxBytes 1: still the first whole batch of the first
     * partition; MaxBytes then used up: nothing for the second */
    fetch(f, 11, -1, 0, 1, 1 << 20, s, 2);
    assert_int_equal(batches_in(&fetch_part(f, 0)->Records, &base, &last), 1);
    assert_int_equal(batches_in(&fetch_part(f, 1)->Records, &base, &last), 3);
    fetch(f, 11, -1, 0, 1, 1, s, 2);
    assert_int_equal(batches_in(&fetch_part(f, 0)->Records, &base, &last), 1);
    assert_int_equal(batches_in(&fetch_part(f, 1)->Records, &base, &last), 0);
    assert_int_equal(fetch_part(f, 1)->ErrorCode, 0);
    /* first partition has nothing: the second's first batch goes over */
    s[0].offset = 9;
    s[1].part_max = 1;
    fetch(f, 11, -1, 0, 1, 1, s, 2);
    assert_int_equal(batches_in(&fetch_part(f, 0)->Records, &base, &last), 0);
    assert_int_equal(batches_in(&fetch_part(f, 1)->Records, &base, &last), 1);
    /* fetch.max.bytes caps a client's larger MaxBytes: with a cap of one
     * byte the answer is what MaxBytes 1 gives (first batch of the first
     * partition with data), however much the client asks for */
    s[0].offset = 0;
    s[0].part_max = 1 << 20;
    s[1].part_max = 1 << 20;
    fetch(f, 11, -1, 0, 1, 1 << 30, s, 2);
    assert_int_equal(batches_in(&fetch_part(f, 0)->Records, &base, &last), 3);
    assert_int_equal(batches_in(&fetch_part(f, 1)->Records, &base, &last), 3);
    f->conf.fetch_max_bytes = 1;
    fetch(f, 11, -1, 0, 1, 1 << 30, s, 2);
    assert_int_equal(batches_in(&fetch_part(f, 0)->Records, &base, &last), 1);
    assert_int_equal(batches_in(&fetch_part(f, 1)->Records, &base, &last), 0);
}

static void test_fetch_high_watermark_cut(void **state)
{
    struct fx *f = *state;
    create_topic(f, "t", 1, R12, NULL, NULL); /* HWM stays at 0 */
    rf_parts_sync(f->ps, f->img);
    fill(f, "t", 0, 2, 3);
    struct fetch_part_spec s = {"t", 0, 0, 1 << 20};
    int64_t base, last;
    fetch(f, 11, -1, 0, 1, 1 << 20, &s, 1); /* consumer */
    assert_int_equal(fetch_part(f, 0)->HighWatermark, 0);
    assert_int_equal(batches_in(&fetch_part(f, 0)->Records, &base, &last), 0);
    fetch(f, 11, 2, 0, 1, 1 << 20, &s, 1); /* a replica reads to the end */
    assert_int_equal(batches_in(&fetch_part(f, 0)->Records, &base, &last), 2);
    /* HWM in the middle: whole batches below it only */
    rf_parts_get(f->ps, "t", 1, 0)->high_watermark = 3;
    fetch(f, 11, -1, 0, 1, 1 << 20, &s, 1);
    assert_int_equal(batches_in(&fetch_part(f, 0)->Records, &base, &last), 1);
    assert_int_equal(last, 2);
}

static void test_fetch_long_poll(void **state)
{
    struct fx *f = *state;
    create_topic(f, "t", 1, R1, NULL, NULL);
    rf_parts_sync(f->ps, f->img);
    fill(f, "t", 0, 1, 3);
    int64_t base, last;
    struct fetch_part_spec s = {"t", 0, 3, 1 << 20};
    /* nothing at 3: held until an append makes data available */
    fetch(f, 11, -1, 60000, 1, 1 << 20, &s, 1);
    assert_int_equal(f->answers, 1);
    fill(f, "t", 0, 1, 2); /* the produce answer is #2 */
    assert_int_equal(f->answers, 2);
    run_until(f, &f->answers, 3);
    assert_int_equal(batches_in(&fetch_part(f, 0)->Records, &base, &last), 1);
    assert_int_equal(base, 3);
    assert_int_equal(fetch_part(f, 0)->HighWatermark, 5);
    /* MinBytes not reached: answered at MaxWaitMs with what is there */
    s.offset = 0;
    fetch(f, 11, -1, 30, 1 << 20, 1 << 20, &s, 1);
    assert_int_equal(f->answers, 3);
    run_until(f, &f->answers, 4);
    assert_int_equal(batches_in(&fetch_part(f, 0)->Records, &base, &last), 2);
    /* leadership lost while waiting: answered at once with 6 */
    s.offset = 5;
    fetch(f, 11, -1, 60000, 1, 1 << 20, &s, 1);
    assert_int_equal(f->answers, 4);
    fence(f, 1);
    rf_parts_sync(f->ps, f->img);
    assert_int_equal(f->answers, 4);
    run_until(f, &f->answers, 5);
    assert_int_equal(fetch_part(f, 0)->ErrorCode, K(NOT_LEADER_OR_FOLLOWER));
}

static void test_fetch_waiting_at_shutdown(void **state)
{
    struct fx *f = *state;
    create_topic(f, "t", 1, R1, NULL, NULL);
    rf_parts_sync(f->ps, f->img);
    struct fetch_part_spec s = {"t", 0, 0, 1 << 20};
    fetch(f, 11, -1, 60000, 1, 1 << 20, &s, 1);
    assert_int_equal(f->answers, 0);
    rf_parts_free(f->ps); /* the waiting fetch answers next iteration */
    f->b.parts = NULL;    /* as main.c does: no lookups after this */
    run_until(f, &f->answers, 1);
    assert_int_equal(fetch_part(f, 0)->ErrorCode, K(NOT_LEADER_OR_FOLLOWER));
    struct rf_parts_opts po = {
        .broker_id = ME, .log_dir = f->dir, .flusher = f->fl};
    rf_log_config_default(&po.log_conf);
    assert_int_equal(rf_parts_new(&f->loop, &po, &f->ps), 0);
    f->b.parts = f->ps;
}

/* ---- the high-watermark cut over stored batches (rf__fetch_cut) ---- */

/* Three batches with offsets [0,2] [3,5] [6,8]; sizes in sz[]. */
static void three_batches(struct rf_wr *wr, size_t sz[3])
{
    struct rf_test_batch_spec spec = {
        .nrecords = 3, .value_size = 7, .base_ts = 1, .seed = 9};
    rf_wr_reset(wr);
    for (int i = 0; i < 3; i++) {
        size_t at = wr->len;
        sz[i] = rf_test_build_batch(wr, &spec);
        rf_batch_set_base_offset(wr->base + at, 3 * i);
    }
}

static void test_fetch_cut_table(void **state)
{
    (void)state;
    struct rf_wr wr;
    size_t sz[3];
    rf_wr_init(&wr, 512);
    three_batches(&wr, sz);
    size_t all = sz[0] + sz[1] + sz[2];
    const struct {
        int64_t limit;
        size_t expect;
    } limits[] = {
        {0, 0},   {2, 0},           {3, sz[0]}, {5, sz[0]}, {6, sz[0] + sz[1]},
        {9, all}, {INT64_MAX, all},
    };
    for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++)
        assert_int_equal(rf__fetch_cut(wr.base, wr.len, limits[i].limit),
                         limits[i].expect);
    /* every truncation point keeps the whole batches before it */
    for (size_t len = 0; len <= all; len++) {
        size_t expect = len >= all             ? all
                        : len >= sz[0] + sz[1] ? sz[0] + sz[1]
                        : len >= sz[0]         ? sz[0]
                                               : 0;
        assert_int_equal(rf__fetch_cut(wr.base, len, INT64_MAX), expect);
    }
    /* oversized / undersized / negative fields in the second batch */
    const struct {
        int which;  /* batch edited; the ones before it are kept */
        size_t off; /* in that batch */
        int64_t value;
        int width;
        int64_t limit;
    } bad[] = {
        {1, RF_BATCH_OFF_LENGTH, INT32_MAX, 4, INT64_MAX},
        {1, RF_BATCH_OFF_LENGTH, -1, 4, INT64_MAX},
        {1, RF_BATCH_OFF_LENGTH, RF_BATCH_MIN_LENGTH - 1, 4, INT64_MAX},
        {2, RF_BATCH_OFF_LENGTH, (int64_t)sz[2] - 12 + 1, 4, INT64_MAX},
        {1, RF_BATCH_OFF_LAST_DELTA, -1, 4, INT64_MAX},
        {1, RF_BATCH_OFF_LAST_DELTA, INT32_MAX, 4, 9}, /* last >= 9 */
        {1, 0, -5, 8, INT64_MAX},
        {1, 0, INT64_MAX, 8, INT64_MAX}, /* base + delta overflows */
        {0, 0, INT64_MAX, 8, INT64_MAX},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        three_batches(&wr, sz);
        size_t expect = 0;
        for (int k = 0; k < bad[i].which; k++)
            expect += sz[k];
        uint8_t *b = wr.base + expect + bad[i].off;
        if (bad[i].width == 4)
            rf_be32_store(b, (uint32_t)(int32_t)bad[i].value);
        else
            rf_be64_store(b, (uint64_t)bad[i].value);
        assert_int_equal(rf__fetch_cut(wr.base, wr.len, bad[i].limit), expect);
    }
    rf_wr_free(&wr);
}

/* ---- ListOffsets ---- */

static void list_offsets(struct fx *f, int16_t ver, int8_t iso, int32_t replica,
                         const char *topic, int64_t ts)
{
    struct rf_ListOffsetsRequest req;
    struct rf_ListOffsetsRequest_ListOffsetsTopic t;
    struct rf_ListOffsetsRequest_ListOffsetsPartition p;
    rf_ListOffsetsRequest_init(&req, ver);
    memset(&t, 0, sizeof(t));
    memset(&p, 0, sizeof(p));
    p.PartitionIndex = 0;
    p.CurrentLeaderEpoch = -1;
    p.Timestamp = ts;
    t.Name.ptr = topic;
    t.Name.len = (int32_t)strlen(topic);
    t.Partitions.items = &p;
    t.Partitions.count = 1;
    req.ReplicaId = replica;
    req.IsolationLevel = iso;
    req.Topics.items = &t;
    req.Topics.count = 1;
    submit(f, RF_API_LIST_OFFSETS, ver, &req);
}

static void test_list_offsets_table(void **state)
{
    struct fx *f = *state;
    create_topic(f, "t", 1, R1, NULL, NULL);
    const int32_t reps[][4] = {{2, 1}};
    create_topic(f, "other", 1, reps, NULL, NULL);
    rf_parts_sync(f->ps, f->img);
    fill(f, "t", 0, 3, 3); /* timestamps T0+{0-2, 100-102, 200-202} */
    const struct {
        const char *topic;
        int16_t ver;
        int8_t iso;
        int64_t ts;
        int16_t err;
        int64_t offset, timestamp;
    } cases[] = {
        {"t", 1, 0, -2, K(NONE), 0, -1},
        {"t", 1, 0, -1, K(NONE), 9, -1},
        {"t", 2, 1, -1, K(NONE), 9, -1},
        {"t", 3, 0, 0, K(NONE), 0, 0},
        {"t", 3, 0, 101, K(NONE), 4, 101},
        {"t", 2, 0, 150, K(NONE), 6, 200},
        {"t", 1, 0, 5000, K(NONE), -1, -1},
        {"nope", 1, 0, -1, K(UNKNOWN_TOPIC_OR_PARTITION), -1, -1},
        {"other", 1, 0, -1, K(NOT_LEADER_OR_FOLLOWER), -1, -1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int before = f->answers;
        list_offsets(f, cases[i].ver, cases[i].iso, -1, cases[i].topic,
                     cases[i].ts < 0 ? cases[i].ts : T0 + cases[i].ts);
        assert_int_equal(f->answers, before + 1);
        const struct rf_ListOffsetsResponse *resp = f->resp;
        assert_int_equal(resp->Topics.count, 1);
        const struct rf_ListOffsetsResponse_ListOffsetsPartitionResponse *pr =
            &resp->Topics.items[0].Partitions.items[0];
        assert_int_equal(pr->ErrorCode, cases[i].err);
        assert_int_equal(pr->Offset, cases[i].offset);
        assert_int_equal(pr->Timestamp,
                         cases[i].timestamp < 0 ? -1 : T0 + cases[i].timestamp);
    }
}

/* Consumers see the HWM, a replica the log end offset. */
static void test_list_offsets_replica(void **state)
{
    struct fx *f = *state;
    create_topic(f, "t", 1, R12, NULL, NULL); /* HWM stays at 0 */
    rf_parts_sync(f->ps, f->img);
    fill(f, "t", 0, 2, 3);
    const struct {
        int32_t replica;
        int64_t ts_rel; /* < 0: as is; else T0 + ts_rel */
        int64_t offset;
    } cases[] = {
        {-1, -1, 0}, {2, -1, 6}, {-1, 0, -1}, {2, 0, 0}, {2, 150, -1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int64_t ts =
            cases[i].ts_rel < 0 ? cases[i].ts_rel : T0 + cases[i].ts_rel;
        list_offsets(f, 2, 0, cases[i].replica, "t", ts);
        const struct rf_ListOffsetsResponse *resp = f->resp;
        assert_int_equal(resp->Topics.items[0].Partitions.items[0].ErrorCode,
                         0);
        assert_int_equal(resp->Topics.items[0].Partitions.items[0].Offset,
                         cases[i].offset);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
        T(test_sync_hosting_and_leadership),
        T(test_delete_removes_directory),
        T(test_high_watermark_rule),
        T(test_produce_errors_table),
        T(test_produce_offsets_and_log_append_time),
        T(test_produce_acks_all_waits_for_fsync),
        T(test_produce_acks_all_timeout_and_leader_loss),
        T(test_produce_acks_all_waits_for_hwm),
        T(test_produce_acks_all_isr_shrank),
        T(test_produce_acks_all_topic_deleted),
        T(test_fetch_offsets_table),
        T(test_fetch_size_limits),
        T(test_fetch_high_watermark_cut),
        T(test_fetch_long_poll),
        T(test_fetch_waiting_at_shutdown),
        T(test_list_offsets_table),
        T(test_list_offsets_replica),
        cmocka_unit_test(test_fetch_cut_table),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
