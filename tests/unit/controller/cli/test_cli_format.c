/* test_cli_format.c: riffle's output from canned controller responses:
 * tables, JSON documents, string escaping and the one-line errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cli.h"
#include "err.h"
#include "json.h"
#include "table.h"

/* Render with fn into a string and compare it with want. */
#define ASSERT_OUTPUT(want, call)                                              \
    do {                                                                       \
        struct rf_wr out_;                                                     \
        rf_wr_init(&out_, 64);                                                 \
        call;                                                                  \
        rf_wr_u8(&out_, 0);                                                    \
        assert_string_equal((const char *)out_.base, (want));                  \
        rf_wr_free(&out_);                                                     \
    } while (0)
#define OUT (&out_)

static const uint8_t CLUSTER_ID[16] = {0x0f, 0x1e, 0x2d, 0x3c, 0x4b, 0x5a,
                                       0x69, 0x78, 0x87, 0x96, 0xa5, 0xb4,
                                       0xc3, 0xd2, 0xe1, 0xf0};

/* ---- json ---- */

static void test_json_escaping(void **state)
{
    static const struct {
        const char *in;
        size_t len;
        const char *want;
    } V[] = {
        {"plain", 5, "\"plain\""},
        {"", 0, "\"\""},
        {"q\"b\\s/", 6, "\"q\\\"b\\\\s/\""},
        {"\n\r\t\b\f", 5, "\"\\n\\r\\t\\b\\f\""},
        {"\x01\x1f\x7f", 3, "\"\\u0001\\u001f\\u007f\""},
        {"a\0b", 3, "\"a\\u0000b\""},
        {"caf\xc3\xa9", 5, "\"caf\xc3\xa9\""},            /* valid 2-byte */
        {"\xe2\x82\xac", 3, "\"\xe2\x82\xac\""},          /* euro sign */
        {"\xf0\x9f\x98\x80", 4, "\"\xf0\x9f\x98\x80\""},  /* 4-byte */
        {"\xff", 1, "\"\\ufffd\""},                       /* invalid lead */
        {"\xc3", 1, "\"\\ufffd\""},                       /* truncated */
        {"\xc0\xaf", 2, "\"\\ufffd\\ufffd\""},            /* overlong */
        {"\xed\xa0\x80", 3, "\"\\ufffd\\ufffd\\ufffd\""}, /* surrogate */
        {"\xf4\x90\x80\x80", 4, "\"\\ufffd\\ufffd\\ufffd\\ufffd\""},
        {"\xe2\x82", 2, "\"\\ufffd\\ufffd\""},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(V) / sizeof(V[0]); i++)
        ASSERT_OUTPUT(V[i].want, rf_json_escape(OUT, V[i].in, V[i].len));
}

static void test_json_structure(void **state)
{
    struct rf_json j;

    (void)state;
    ASSERT_OUTPUT(
        "{\"a\":1,\"b\":[true,false,null,\"x\"],\"c\":{},"
        "\"d\":[],\"e\":-5,\"f\":18446744073709551615,"
        "\"g\":[{\"h\":\"\"}]}",
        {
            rf_json_init(&j, OUT);
            rf_json_obj_begin(&j);
            rf_json_key(&j, "a");
            rf_json_int(&j, 1);
            rf_json_key(&j, "b");
            rf_json_arr_begin(&j);
            rf_json_bool(&j, true);
            rf_json_bool(&j, false);
            rf_json_null(&j);
            rf_json_str(&j, "x");
            rf_json_arr_end(&j);
            rf_json_key(&j, "c");
            rf_json_obj_begin(&j);
            rf_json_obj_end(&j);
            rf_json_key(&j, "d");
            rf_json_arr_begin(&j);
            rf_json_arr_end(&j);
            rf_json_key(&j, "e");
            rf_json_int(&j, -5);
            rf_json_key(&j, "f");
            rf_json_uint(&j, UINT64_MAX);
            rf_json_key(&j, "g");
            rf_json_arr_begin(&j);
            rf_json_obj_begin(&j);
            rf_json_key(&j, "h");
            rf_json_str(&j, NULL);
            rf_json_obj_end(&j);
            rf_json_arr_end(&j);
            rf_json_obj_end(&j);
        });
}

/* ---- table ---- */

static void test_table_alignment(void **state)
{
    static const char *const hdr[] = {"ID", "NAME", "X"};
    struct rf_table t;

    (void)state;
    rf_table_init(&t, 3, hdr);
    rf_table_add(&t, "1");
    rf_table_add(&t, "orders");
    rf_table_add(&t, "yes");
    rf_table_addf(&t, "%d", 100);
    rf_table_add(&t, "a");
    rf_table_add(&t, "");         /* empty last cell: no trailing spaces */
    rf_table_add(&t, "dangling"); /* incomplete row: not rendered */
    ASSERT_OUTPUT(
        "ID   NAME    X\n"
        "1    orders  yes\n"
        "100  a\n",
        rf_table_render(&t, OUT));
    rf_table_free(&t);
}

/* ---- cluster status ---- */

struct canned_cluster {
    Riffle__DescribeClusterResponse dc;
    Riffle__ControllerInfo ci[3];
    Riffle__ControllerInfo *cip[3];
    Riffle__Endpoint rpc[3];
    Riffle__BrokerInfo bi[3];
    Riffle__BrokerInfo *bip[3];
    Riffle__Endpoint bep[3];
    Riffle__Endpoint *bepp[3];
};

static void canned_cluster(struct canned_cluster *c)
{
    static char *raft[] = {"127.0.0.1:19091", "127.0.0.1:19093",
                           "127.0.0.1:19095"};
    static char *roles[] = {"follower", "leader", "follower"};
    static const Riffle__BrokerState bstate[] = {
        RIFFLE__BROKER_STATE__BROKER_UNFENCED,
        RIFFLE__BROKER_STATE__BROKER_FENCED,
        RIFFLE__BROKER_STATE__BROKER_CONTROLLED_SHUTDOWN};
    int i;

    memset(c, 0, sizeof(*c));
    riffle__describe_cluster_response__init(&c->dc);
    c->dc.cluster_id.len = 16;
    c->dc.cluster_id.data = (uint8_t *)CLUSTER_ID;
    c->dc.active_controller_id = 2;
    c->dc.metadata_offset = 42;
    for (i = 0; i < 3; i++) {
        /* listed out of order: the formatter sorts by id */
        riffle__controller_info__init(&c->ci[i]);
        riffle__endpoint__init(&c->rpc[i]);
        c->rpc[i].name = "RPC";
        c->rpc[i].host = "127.0.0.1";
        c->rpc[i].port = (uint32_t)(19092 + 2 * i);
        c->ci[i].node_id = i + 1;
        c->ci[i].raft_address = raft[i];
        c->ci[i].rpc = &c->rpc[i];
        c->ci[i].role = roles[i];
        c->ci[i].term = 3;
        c->ci[i].commit_index = (uint64_t)(40 + i);
        c->ci[i].applied_index = (uint64_t)(40 + i);
        c->cip[2 - i] = &c->ci[i];
        riffle__broker_info__init(&c->bi[i]);
        riffle__endpoint__init(&c->bep[i]);
        c->bep[i].name = "PLAINTEXT";
        c->bep[i].host = "127.0.0.1";
        c->bep[i].port = (uint32_t)(9092 + i);
        c->bepp[i] = &c->bep[i];
        c->bi[i].broker_id = i + 1;
        c->bi[i].broker_epoch = 10 + i;
        c->bi[i].state = bstate[i];
        c->bi[i].n_endpoints = 1;
        c->bi[i].endpoints = &c->bepp[i];
        c->bi[i].rack = i == 0 ? "r1" : "";
        c->bi[i].last_heartbeat_age_ms = i == 1 ? -1 : 120;
        c->bip[i] = &c->bi[i];
    }
    c->dc.n_controllers = 3;
    c->dc.controllers = c->cip;
}

static void test_cluster_text(void **state)
{
    struct canned_cluster c;

    (void)state;
    canned_cluster(&c);
    c.dc.n_brokers = 3;
    c.dc.brokers = c.bip;
    ASSERT_OUTPUT(
        "Cluster ID:         Dx4tPEtaaXiHlqW0w9Lh8A\n"
        "Active controller:  2\n"
        "Metadata offset:    42\n"
        "Brokers:            3 total, 1 unfenced, 1 fenced, 1 in controlled "
        "shutdown\n\n"
        "ID  RAFT ADDRESS     RPC ENDPOINT     ROLE      TERM  COMMIT  "
        "APPLIED\n"
        "1   127.0.0.1:19091  127.0.0.1:19092  follower  3     40      40\n"
        "2   127.0.0.1:19093  127.0.0.1:19094  leader    3     41      41\n"
        "3   127.0.0.1:19095  127.0.0.1:19096  follower  3     42      42\n",
        rf_cli_fmt_cluster(&c.dc, NULL, false, OUT));
}

/* Each controller's own NodeStatus wins; no answer reads "unreachable". */
static void test_cluster_json_with_node_status(void **state)
{
    struct canned_cluster c;
    Riffle__NodeStatusResponse n1 = RIFFLE__NODE_STATUS_RESPONSE__INIT;
    Riffle__NodeStatusResponse n3 = RIFFLE__NODE_STATUS_RESPONSE__INIT;
    const Riffle__NodeStatusResponse *ns[3];

    (void)state;
    canned_cluster(&c);
    n1.role = "leader";
    n1.term = 4;
    n1.commit_index = 50;
    n1.applied_index = 49;
    n3.role = "follower";
    n3.term = 4;
    n3.commit_index = 50;
    n3.applied_index = 50;
    /* ns follows dc->controllers order: ids 3, 2, 1 */
    ns[0] = &n3;
    ns[1] = NULL;
    ns[2] = &n1;
    c.dc.active_controller_id = 1;
    c.dc.cluster_id.len = 0;
    ASSERT_OUTPUT(
        "{\"cluster_id\":\"\",\"active_controller\":1,\"metadata_offset\":42,"
        "\"controllers\":["
        "{\"id\":1,\"raft_address\":\"127.0.0.1:19091\",\"rpc\":"
        "\"127.0.0.1:19092\",\"role\":\"leader\",\"term\":4,\"commit\":50,"
        "\"applied\":49},"
        "{\"id\":2,\"raft_address\":\"127.0.0.1:19093\",\"rpc\":"
        "\"127.0.0.1:19094\",\"role\":\"unreachable\",\"term\":3,\"commit\":"
        "41,\"applied\":41},"
        "{\"id\":3,\"raft_address\":\"127.0.0.1:19095\",\"rpc\":"
        "\"127.0.0.1:19096\",\"role\":\"follower\",\"term\":4,\"commit\":50,"
        "\"applied\":50}],"
        "\"brokers\":{\"total\":0,\"unfenced\":0,\"fenced\":0,"
        "\"controlled_shutdown\":0}}\n",
        rf_cli_fmt_cluster(&c.dc, ns, true, OUT));
}

/* A controller that has not registered its RPC endpoint was not asked: its
 * row keeps the active controller's view instead of "unreachable". */
static void test_cluster_unregistered_controller(void **state)
{
    struct canned_cluster c;
    const Riffle__NodeStatusResponse *ns[3] = {NULL, NULL, NULL};

    (void)state;
    canned_cluster(&c);
    c.ci[1].rpc = NULL;
    ASSERT_OUTPUT(
        "Cluster ID:         Dx4tPEtaaXiHlqW0w9Lh8A\n"
        "Active controller:  2\n"
        "Metadata offset:    42\n"
        "Brokers:            0 total, 0 unfenced, 0 fenced, 0 in controlled "
        "shutdown\n\n"
        "ID  RAFT ADDRESS     RPC ENDPOINT     ROLE         TERM  COMMIT  "
        "APPLIED\n"
        "1   127.0.0.1:19091  127.0.0.1:19092  unreachable  3     40      40\n"
        "2   127.0.0.1:19093  -                leader       3     41      41\n"
        "3   127.0.0.1:19095  127.0.0.1:19096  unreachable  3     42      42\n",
        rf_cli_fmt_cluster(&c.dc, ns, false, OUT));
}

static void test_cluster_no_controllers(void **state)
{
    Riffle__DescribeClusterResponse dc =
        RIFFLE__DESCRIBE_CLUSTER_RESPONSE__INIT;

    (void)state;
    ASSERT_OUTPUT(
        "Cluster ID:         -\n"
        "Active controller:  none\n"
        "Metadata offset:    0\n"
        "Brokers:            0 total, 0 unfenced, 0 fenced, 0 in "
        "controlled shutdown\n\n"
        "ID  RAFT ADDRESS  RPC ENDPOINT  ROLE  TERM  COMMIT  "
        "APPLIED\n",
        rf_cli_fmt_cluster(&dc, NULL, false, OUT));
}

static void test_brokers(void **state)
{
    struct canned_cluster c;

    (void)state;
    canned_cluster(&c);
    c.dc.n_brokers = 3;
    c.dc.brokers = c.bip;
    ASSERT_OUTPUT(
        "ID  EPOCH  STATE                RACK  ENDPOINTS                   "
        "HEARTBEAT AGE\n"
        "1   10     unfenced             r1    PLAINTEXT://127.0.0.1:9092  "
        "120ms\n"
        "2   11     fenced               -     PLAINTEXT://127.0.0.1:9093  "
        "-\n"
        "3   12     controlled_shutdown  -     PLAINTEXT://127.0.0.1:9094  "
        "120ms\n",
        rf_cli_fmt_brokers(&c.dc, false, OUT));
    c.dc.n_brokers = 1;
    ASSERT_OUTPUT(
        "{\"brokers\":[{\"id\":1,\"epoch\":10,\"state\":\"unfenced\","
        "\"rack\":\"r1\",\"endpoints\":[{\"name\":\"PLAINTEXT\","
        "\"host\":\"127.0.0.1\",\"port\":9092}],"
        "\"last_heartbeat_age_ms\":120}]}\n",
        rf_cli_fmt_brokers(&c.dc, true, OUT));
}

/* ---- topics ---- */

static void test_topic_list(void **state)
{
    Riffle__TopicSummary ts[2] = {RIFFLE__TOPIC_SUMMARY__INIT,
                                  RIFFLE__TOPIC_SUMMARY__INIT};
    Riffle__TopicSummary *tsp[2] = {&ts[0], &ts[1]};
    Riffle__ListTopicsResponse lt = RIFFLE__LIST_TOPICS_RESPONSE__INIT;

    (void)state;
    ts[0].name = "orders";
    ts[0].topic_id.len = 16;
    ts[0].topic_id.data = (uint8_t *)CLUSTER_ID;
    ts[0].partitions = 12;
    ts[0].replication_factor = 3;
    ts[1].name = "a\"b";
    ts[1].partitions = 1;
    ts[1].replication_factor = 1;
    lt.n_topics = 2;
    lt.topics = tsp;
    ASSERT_OUTPUT(
        "NAME    TOPIC ID                PARTITIONS  "
        "REPLICATION FACTOR\n"
        "orders  Dx4tPEtaaXiHlqW0w9Lh8A  12          3\n"
        "a\"b                             1           1\n",
        rf_cli_fmt_topic_list(&lt, false, OUT));
    ASSERT_OUTPUT(
        "{\"topics\":[{\"name\":\"orders\",\"topic_id\":"
        "\"Dx4tPEtaaXiHlqW0w9Lh8A\",\"partitions\":12,"
        "\"replication_factor\":3,\"internal\":false},"
        "{\"name\":\"a\\\"b\",\"topic_id\":\"\",\"partitions\":1,"
        "\"replication_factor\":1,\"internal\":false}]}\n",
        rf_cli_fmt_topic_list(&lt, true, OUT));
    lt.n_topics = 0;
    ASSERT_OUTPUT("{\"topics\":[]}\n", rf_cli_fmt_topic_list(&lt, true, OUT));
}

static void test_topic_describe(void **state)
{
    int32_t replicas[3] = {1, 2, 3}, isr[2] = {1, 3}, target[2] = {3, 4};
    Riffle__PartitionDescription pd[2] = {RIFFLE__PARTITION_DESCRIPTION__INIT,
                                          RIFFLE__PARTITION_DESCRIPTION__INIT};
    Riffle__PartitionDescription *pdp[2] = {&pd[0], &pd[1]};
    Riffle__ConfigEntry cfg = RIFFLE__CONFIG_ENTRY__INIT;
    Riffle__ConfigEntry *cfgp[1] = {&cfg};
    Riffle__TopicDescription td = RIFFLE__TOPIC_DESCRIPTION__INIT;
    Riffle__TopicDescription *tdp[1] = {&td};
    Riffle__DescribeTopicsResponse dt = RIFFLE__DESCRIBE_TOPICS_RESPONSE__INIT;

    (void)state;
    pd[0].partition = 0;
    pd[0].leader = 1;
    pd[0].leader_epoch = 5;
    pd[0].partition_epoch = 7;
    pd[0].n_replicas = 3;
    pd[0].replicas = replicas;
    pd[0].n_isr = 2;
    pd[0].isr = isr;
    pd[1].partition = 1;
    pd[1].leader = -1;
    pd[1].reassigning = true; /* moving to 3,4 */
    pd[1].n_target_replicas = 2;
    pd[1].target_replicas = target;
    cfg.name = "retention.ms";
    cfg.value = "1000";
    td.name = "orders";
    td.topic_id.len = 16;
    td.topic_id.data = (uint8_t *)CLUSTER_ID;
    td.n_partitions = 2;
    td.partitions = pdp;
    td.n_configs = 1;
    td.configs = cfgp;
    dt.n_topics = 1;
    dt.topics = tdp;
    ASSERT_OUTPUT(
        "Topic: orders  TopicId: Dx4tPEtaaXiHlqW0w9Lh8A  "
        "PartitionCount: 2  Configs: retention.ms=1000\n"
        "PARTITION  LEADER  LEADER EPOCH  PARTITION EPOCH  "
        "REPLICAS  ISR  TARGET\n"
        "0          1       5             7                1,2,3"
        "     1,3  -\n"
        "1          none    0             0                     "
        "          3,4\n",
        rf_cli_fmt_topic_describe(&dt, false, OUT));
    ASSERT_OUTPUT(
        "{\"topics\":[{\"name\":\"orders\",\"topic_id\":"
        "\"Dx4tPEtaaXiHlqW0w9Lh8A\",\"partitions\":["
        "{\"partition\":0,\"leader\":1,\"leader_epoch\":5,"
        "\"partition_epoch\":7,\"replicas\":[1,2,3],\"isr\":[1,3],"
        "\"target_replicas\":null},"
        "{\"partition\":1,\"leader\":-1,\"leader_epoch\":0,"
        "\"partition_epoch\":0,\"replicas\":[],\"isr\":[],"
        "\"target_replicas\":[3,4]}],"
        "\"configs\":{\"retention.ms\":\"1000\"}}]}\n",
        rf_cli_fmt_topic_describe(&dt, true, OUT));
}

static void test_topic_created_deleted(void **state)
{
    Riffle__CreateTopicResult cr = RIFFLE__CREATE_TOPIC_RESULT__INIT;
    Riffle__CreateTopicResult *crp[1] = {&cr};
    Riffle__CreateTopicsResponse ct = RIFFLE__CREATE_TOPICS_RESPONSE__INIT;
    Riffle__DeleteTopicResult dr = RIFFLE__DELETE_TOPIC_RESULT__INIT;
    Riffle__DeleteTopicResult *drp[1] = {&dr};
    Riffle__DeleteTopicsResponse dt = RIFFLE__DELETE_TOPICS_RESPONSE__INIT;

    (void)state;
    cr.name = "orders";
    cr.topic_id.len = 16;
    cr.topic_id.data = (uint8_t *)CLUSTER_ID;
    cr.num_partitions = 3;
    cr.replication_factor = 2;
    ct.n_topics = 1;
    ct.topics = crp;
    ASSERT_OUTPUT(
        "Created topic orders (TopicId Dx4tPEtaaXiHlqW0w9Lh8A, 3 "
        "partitions, replication factor 2)\n",
        rf_cli_fmt_topic_created(&ct, false, OUT));
    ASSERT_OUTPUT(
        "{\"created\":[{\"name\":\"orders\",\"topic_id\":"
        "\"Dx4tPEtaaXiHlqW0w9Lh8A\",\"partitions\":3,"
        "\"replication_factor\":2}]}\n",
        rf_cli_fmt_topic_created(&ct, true, OUT));
    dr.name = "orders";
    dt.n_topics = 1;
    dt.topics = drp;
    ASSERT_OUTPUT("Deleted topic orders\n",
                  rf_cli_fmt_topic_deleted(&dt, false, OUT));
    ASSERT_OUTPUT("{\"deleted\":[\"orders\"]}\n",
                  rf_cli_fmt_topic_deleted(&dt, true, OUT));
}

/* ---- errors ---- */

static void test_check_response(void **state)
{
    Riffle__Status st = RIFFLE__STATUS__INIT;
    Riffle__CreateTopicResult cr[2] = {RIFFLE__CREATE_TOPIC_RESULT__INIT,
                                       RIFFLE__CREATE_TOPIC_RESULT__INIT};
    Riffle__CreateTopicResult *crp[2] = {&cr[0], &cr[1]};
    Riffle__CreateTopicsResponse ct = RIFFLE__CREATE_TOPICS_RESPONSE__INIT;
    Riffle__TopicDescription td = RIFFLE__TOPIC_DESCRIPTION__INIT;
    Riffle__TopicDescription *tdp[1] = {&td};
    Riffle__DescribeTopicsResponse dtr = RIFFLE__DESCRIBE_TOPICS_RESPONSE__INIT;
    Riffle__Envelope env = RIFFLE__ENVELOPE__INIT;
    char errmsg[RF_ERRMSG_SIZE];
    const int create = RIFFLE__ENVELOPE__BODY_CREATE_TOPICS_RESP;

    (void)state;
    env.body_case = RIFFLE__ENVELOPE__BODY_CREATE_TOPICS_RESP;
    env.create_topics_resp = &ct;
    cr[0].name = "ok";
    cr[1].name = "orders";
    ct.n_topics = 2;
    ct.topics = crp;
    assert_int_equal(rf_cli_check_response(&env, create, errmsg), 0);
    /* status missing entirely means NONE */
    cr[1].error = RIFFLE__ERROR_CODE__TOPIC_ALREADY_EXISTS;
    cr[1].error_message = "Topic 'orders' already exists";
    assert_int_equal(rf_cli_check_response(&env, create, errmsg), RF_EPROTO);
    assert_string_equal(errmsg,
                        "topic orders: TOPIC_ALREADY_EXISTS: Topic "
                        "'orders' already exists");
    cr[0].error = RIFFLE__ERROR_CODE__INVALID_PARTITIONS;
    assert_int_equal(rf_cli_check_response(&env, create, errmsg), RF_EPROTO);
    assert_string_equal(errmsg,
                        "topic ok: INVALID_PARTITIONS; topic orders: "
                        "TOPIC_ALREADY_EXISTS: Topic 'orders' "
                        "already exists");
    /* a Status error wins over per-topic ones */
    st.code = RIFFLE__ERROR_CODE__INVALID_REQUEST;
    st.message = "bad";
    ct.status = &st;
    assert_int_equal(rf_cli_check_response(&env, create, errmsg), RF_EPROTO);
    assert_string_equal(errmsg, "INVALID_REQUEST: bad");
    /* the generic error body */
    env.body_case = RIFFLE__ENVELOPE__BODY_ERROR;
    env.error = &st;
    st.code = RIFFLE__ERROR_CODE__UNKNOWN_SERVER_ERROR;
    st.message = "";
    assert_int_equal(rf_cli_check_response(&env, create, errmsg), RF_EPROTO);
    assert_string_equal(errmsg, "UNKNOWN_SERVER_ERROR");
    /* a body of the wrong type */
    env.body_case = RIFFLE__ENVELOPE__BODY_PONG;
    assert_int_equal(rf_cli_check_response(&env, create, errmsg), RF_EPROTO);
    assert_non_null(strstr(errmsg, "unexpected answer"));
    /* describe of an unknown topic */
    td.name = "nope";
    td.error = RIFFLE__ERROR_CODE__UNKNOWN_TOPIC;
    dtr.n_topics = 1;
    dtr.topics = tdp;
    env.body_case = RIFFLE__ENVELOPE__BODY_DESCRIBE_TOPICS_RESP;
    env.describe_topics_resp = &dtr;
    assert_int_equal(
        rf_cli_check_response(&env, RIFFLE__ENVELOPE__BODY_DESCRIBE_TOPICS_RESP,
                              errmsg),
        RF_EPROTO);
    assert_string_equal(errmsg, "topic nope: UNKNOWN_TOPIC");
    assert_string_equal(rf_cli_error_name(999), "UNKNOWN_ERROR_CODE");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_escaping),
        cmocka_unit_test(test_json_structure),
        cmocka_unit_test(test_table_alignment),
        cmocka_unit_test(test_cluster_text),
        cmocka_unit_test(test_cluster_json_with_node_status),
        cmocka_unit_test(test_cluster_unregistered_controller),
        cmocka_unit_test(test_cluster_no_controllers),
        cmocka_unit_test(test_brokers),
        cmocka_unit_test(test_topic_list),
        cmocka_unit_test(test_topic_describe),
        cmocka_unit_test(test_topic_created_deleted),
        cmocka_unit_test(test_check_response),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
