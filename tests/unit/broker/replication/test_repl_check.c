/* test_repl_check.c: the replication RPC's input checks (check.c): the
 * ReplicaFetchRequest shape table and the follower's record checks (valid
 * chains, every truncation point, CRC, offsets, oversized lengths). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "builder.h"
#include "err.h"
#include "repl_int.h"

/* ---- request shape ---- */

struct req_case {
    const char *name;
    const char *topic;
    size_t id_len;
    int32_t partition;
    int64_t fetch_offset, durable_offset;
    int32_t replica_id;
    int want;
};


static const struct req_case req_cases[] = {
    {"valid", "t", 16, 0, 10, 5, 1, 0},
    {"valid no id", "t", 0, 3, 0, 0, 2, 0},
    {"durable equals fetch", "t", 16, 0, 7, 7, 1, 0},
    {"null topic", NULL, 16, 0, 0, 0, 1, RF_EINVAL},
    {"empty topic", "", 16, 0, 0, 0, 1, RF_EINVAL},
    {"topic id 15 bytes", "t", 15, 0, 0, 0, 1, RF_EINVAL},
    {"topic id 17 bytes", "t", 17, 0, 0, 0, 1, RF_EINVAL},
    {"negative partition", "t", 16, -1, 0, 0, 1, RF_EINVAL},
    {"negative fetch offset", "t", 16, 0, -1, -1, 1, RF_EINVAL},
    {"durable above fetch", "t", 16, 0, 5, 6, 1, RF_EINVAL},
    {"negative replica", "t", 16, 0, 0, 0, -1, RF_EINVAL},
};

static void test_request_table(void **state)
{
    (void)state;
    uint8_t id[17] = {0};
    for (size_t i = 0; i < sizeof req_cases / sizeof req_cases[0]; i++) {
        const struct req_case *c = &req_cases[i];
        Riffle__ReplicaFetchPartition rp =
            RIFFLE__REPLICA_FETCH_PARTITION__INIT;
        Riffle__ReplicaFetchPartition *rpp = &rp;
        Riffle__ReplicaFetchRequest req = RIFFLE__REPLICA_FETCH_REQUEST__INIT;
        const char *why = NULL;
        rp.topic = (char *)c->topic;
        rp.topic_id.data = id;
        rp.topic_id.len = c->id_len;
        rp.partition = c->partition;
        rp.fetch_offset = c->fetch_offset;
        rp.durable_offset = c->durable_offset;
        req.replica_id = c->replica_id;
        req.n_partitions = 1;
        req.partitions = &rpp;
        int rc = rf__repl_check_request(&req, &why);
        if (rc != c->want)
            fail_msg("%s: got %d want %d", c->name, rc, c->want);
        if (rc != 0)
            assert_non_null(why);
    }
}

static void test_request_limits(void **state)
{
    (void)state;
    char name[251];
    Riffle__ReplicaFetchPartition rp = RIFFLE__REPLICA_FETCH_PARTITION__INIT;
    Riffle__ReplicaFetchPartition *rpp = &rp;
    Riffle__ReplicaFetchRequest req = RIFFLE__REPLICA_FETCH_REQUEST__INIT;
    const char *why;
    req.n_partitions = 1;
    req.partitions = &rpp;
    memset(name, 'x', sizeof name - 1);
    name[249] = '\0';
    rp.topic = name; /* 249 bytes: the longest allowed */
    assert_int_equal(rf__repl_check_request(&req, &why), 0);
    name[249] = 'x';
    name[250] = '\0'; /* 250 */
    assert_int_equal(rf__repl_check_request(&req, &why), RF_EINVAL);
    /* A count above the maximum is refused before any element is read. */
    req.partitions = NULL;
    req.n_partitions = RF_REPL_MAX_PARTITIONS + 1;
    assert_int_equal(rf__repl_check_request(&req, &why), RF_EINVAL);
    /* A NULL element is refused. */
    Riffle__ReplicaFetchPartition *null_p = NULL;
    req.partitions = &null_p;
    req.n_partitions = 1;
    assert_int_equal(rf__repl_check_request(&req, &why), RF_EINVAL);
    /* No partitions at all is a valid (idle) fetch. */
    req.n_partitions = 0;
    assert_int_equal(rf__repl_check_request(&req, &why), 0);
}

/* ---- records ---- */

/* Three batches of 1, 3 and 2 records at offsets 100.., contiguous. */
static size_t build_chain(struct rf_wr *wr, size_t sizes[3])
{
    static const int counts[3] = {1, 3, 2};
    int64_t base = 100;
    for (int i = 0; i < 3; i++) {
        struct rf_test_batch_spec spec = {.nrecords = counts[i],
                                          .value_size = 20,
                                          .base_ts = 1000,
                                          .seed = (uint32_t)i};
        size_t at = wr->len;
        sizes[i] = rf_test_build_batch(wr, &spec);
        uint8_t *p = wr->base + at;
        for (int k = 0; k < 8; k++)
            p[k] = (uint8_t)((uint64_t)base >> (56 - 8 * k));
        base += counts[i];
    }
    return wr->len;
}

static void test_records_valid(void **state)
{
    (void)state;
    struct rf_wr wr;
    size_t sizes[3];
    int64_t next = -1;
    rf_wr_init(&wr, 0);
    size_t len = build_chain(&wr, sizes);
    assert_int_equal(rf__repl_check_records(wr.base, len, 100, &next), 0);
    assert_int_equal(next, 106);
    assert_int_equal(rf__repl_check_records(wr.base, sizes[0], 100, &next),
                     0);
    assert_int_equal(next, 101);
    assert_int_equal(rf__repl_check_records(wr.base, 0, 42, &next), 0);
    assert_int_equal(next, 42);
    rf_wr_free(&wr);
}

static void test_records_truncated(void **state)
{
    (void)state;
    struct rf_wr wr;
    size_t sizes[3];
    int64_t next;
    rf_wr_init(&wr, 0);
    size_t len = build_chain(&wr, sizes);
    size_t b1 = sizes[0], b2 = sizes[0] + sizes[1];
    for (size_t cut = 0; cut < len; cut++) {
        int rc = rf__repl_check_records(wr.base, cut, 100, &next);
        if (cut == 0 || cut == b1 || cut == b2)
            assert_int_equal(rc, 0);
        else if (rc != RF_ETRUNC && rc != RF_ECORRUPT)
            fail_msg("cut %zu: got %d", cut, rc);
    }
    rf_wr_free(&wr);
}

static void test_records_bad(void **state)
{
    (void)state;
    struct rf_wr wr;
    size_t sizes[3];
    int64_t next;
    rf_wr_init(&wr, 0);
    size_t len = build_chain(&wr, sizes);
    /* Not starting at the follower's end. */
    assert_int_equal(rf__repl_check_records(wr.base, len, 99, &next),
                     RF_EOFFSET);
    /* A flipped record byte fails the CRC. */
    wr.base[sizes[0] + 70] ^= 0x40;
    assert_int_equal(rf__repl_check_records(wr.base, len, 100, &next),
                     RF_ECORRUPT);
    wr.base[sizes[0] + 70] ^= 0x40;
    /* A gap between batches: second batch's base moved (CRC does not cover
     * the base offset). */
    wr.base[sizes[0] + 7] = (uint8_t)(wr.base[sizes[0] + 7] + 1);
    assert_int_equal(rf__repl_check_records(wr.base, len, 100, &next),
                     RF_EOFFSET);
    wr.base[sizes[0] + 7] = (uint8_t)(wr.base[sizes[0] + 7] - 1);
    /* batchLength far beyond the bytes: cut short, nothing read past. */
    wr.base[8] = 0x7f;
    assert_int_equal(rf__repl_check_records(wr.base, len, 100, &next),
                     RF_ETRUNC);
    /* batchLength below the minimum. */
    wr.base[8] = 0;
    wr.base[9] = 0;
    wr.base[10] = 0;
    wr.base[11] = 10;
    assert_int_equal(rf__repl_check_records(wr.base, len, 100, &next),
                     RF_ECORRUPT);
    rf_wr_free(&wr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_table),
        cmocka_unit_test(test_request_limits),
        cmocka_unit_test(test_records_valid),
        cmocka_unit_test(test_records_truncated),
        cmocka_unit_test(test_records_bad),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
