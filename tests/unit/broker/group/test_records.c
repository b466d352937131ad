/* test_records.c: offset-commit records of __consumer_offsets: round trips,
 * every truncation point, bad CRC, oversized lengths and counts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "batch.h"
#include "buf.h"
#include "crc32c.h"
#include "err.h"
#include "records.h"

#define S(x) ((struct rf_group_str){(x), sizeof(x) - 1})

struct seen {
    size_t n;
    struct rf_group_rec recs[8];
    char text[8][3][64];
};

static void copy_str(char *dst, struct rf_group_str s)
{
    memcpy(dst, s.p, s.n);
    dst[s.n] = '\0';
}

static int collect(void *data, const struct rf_group_rec *rec)
{
    struct seen *s = data;
    if (s->n == 8)
        return RF_ERANGE;
    s->recs[s->n] = *rec;
    copy_str(s->text[s->n][0], rec->group);
    copy_str(s->text[s->n][1], rec->topic);
    copy_str(s->text[s->n][2], rec->tombstone ? S("") : rec->metadata);
    s->n++;
    return 0;
}

static void fix_crc(uint8_t *p, size_t len)
{
    rf_be32_store(p + RF_BATCH_OFF_CRC,
                  rf_crc32c(0, p + RF_BATCH_OFF_ATTRIBUTES,
                            len - RF_BATCH_OFF_ATTRIBUTES));
}

static const struct rf_group_rec RECS[] = {
    {S("g1"), S("orders"), S(""), 0, false, 42, -1, 1000},
    {S("g1"), S("orders"), S("meta data"), 5, false, 7, 3, 1001},
    {S("group-two"), S("t"), S(""), 2, true, 0, 0, 0},
};

static void encode(struct rf_wr *wr, size_t n)
{
    rf_wr_init(wr, 64);
    rf_group_rec_encode(wr, RECS, n, 123456);
}

static void test_round_trip(void **state)
{
    (void)state;
    for (size_t n = 1; n <= 3; n++) {
        struct rf_wr wr;
        struct seen s = {0};
        encode(&wr, n);
        assert_int_equal(rf_group_rec_decode(wr.base, wr.len, collect, &s), 0);
        assert_int_equal(s.n, n);
        for (size_t i = 0; i < n; i++) {
            assert_int_equal(s.recs[i].partition, RECS[i].partition);
            assert_int_equal(s.recs[i].tombstone, RECS[i].tombstone);
            assert_memory_equal(s.text[i][0], RECS[i].group.p,
                                RECS[i].group.n);
            assert_memory_equal(s.text[i][1], RECS[i].topic.p,
                                RECS[i].topic.n);
            if (RECS[i].tombstone)
                continue;
            assert_int_equal(s.recs[i].offset, RECS[i].offset);
            assert_int_equal(s.recs[i].leader_epoch, RECS[i].leader_epoch);
            assert_int_equal(s.recs[i].commit_ts, RECS[i].commit_ts);
            assert_string_equal(s.text[i][2], RECS[i].metadata.p);
        }
        /* The storage layer accepts it as a batch it can append. */
        struct rf_batch_info info;
        assert_int_equal(rf_batch_validate(wr.base, wr.len, 7, 1 << 20, 0,
                                           &info), RF_BATCH_OK);
        assert_int_equal(info.record_count, (int32_t)n);
        rf_wr_free(&wr);
    }
}

static void test_every_truncation(void **state)
{
    struct rf_wr wr;
    (void)state;
    encode(&wr, 3);
    for (size_t cut = 0; cut < wr.len; cut++) {
        struct seen s = {0};
        /* As a shorter batch: the header claims more (or is cut). */
        assert_int_equal(rf_group_rec_decode(wr.base, cut, collect, &s),
                         RF_ECORRUPT);
    }
    /* The batch length rewritten to each cut, CRC fixed: records are
     * cut inside the batch. */
    for (size_t cut = RF_BATCH_HEADER_SIZE; cut < wr.len; cut++) {
        uint8_t buf[512];
        struct seen s = {0};
        memcpy(buf, wr.base, cut);
        rf_be32_store(buf + RF_BATCH_OFF_LENGTH,
                      (uint32_t)(cut - RF_BATCH_LOG_OVERHEAD));
        fix_crc(buf, cut);
        assert_int_equal(rf_group_rec_decode(buf, cut, collect, &s),
                         RF_ECORRUPT);
    }
    rf_wr_free(&wr);
}

static void test_bad_crc_and_counts(void **state)
{
    struct rf_wr wr;
    uint8_t buf[512];
    struct seen s = {0};
    (void)state;
    encode(&wr, 2);
    memcpy(buf, wr.base, wr.len);
    buf[wr.len - 1] ^= 1;
    assert_int_equal(rf_group_rec_decode(buf, wr.len, collect, &s),
                     RF_ECORRUPT);
    static const int32_t counts[] = {-1, 3, 1000000, INT32_MAX};
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        memcpy(buf, wr.base, wr.len);
        rf_be32_store(buf + RF_BATCH_OFF_COUNT, (uint32_t)counts[i]);
        fix_crc(buf, wr.len);
        s.n = 0;
        assert_int_not_equal(rf_group_rec_decode(buf, wr.len, collect, &s), 0);
    }
    /* Compressed: not ours. */
    memcpy(buf, wr.base, wr.len);
    buf[RF_BATCH_OFF_ATTRIBUTES + 1] |= 1;
    fix_crc(buf, wr.len);
    assert_int_equal(rf_group_rec_decode(buf, wr.len, collect, &s),
                     RF_EUNSUPPORTED);
    rf_wr_free(&wr);
}

/* Oversized lengths inside a record: the record length, the key length and
 * the group string length, each set far beyond what is there. */
static void test_oversized_lengths(void **state)
{
    struct rf_wr wr;
    uint8_t buf[512];
    (void)state;
    encode(&wr, 1);
    /* Offsets in the single record: [61] record length varint (1 byte for
     * small records), [62] attributes, [63] ts delta, [64] offset delta,
     * [65] key length varint, [66..] key: version i16, group i16 len. */
    static const struct {
        size_t at;
        uint8_t v;
    } cases[] = {
        {61, 0x7e}, /* record length 63 > the bytes left */
        {65, 0x7e}, /* key length 63 > the record */
        {65, 0x01}, /* key length -1 */
        {69, 0x7f}, /* group length low byte: 127 > key */
        {68, 0x80}, /* group length negative */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct seen s = {0};
        memcpy(buf, wr.base, wr.len);
        buf[cases[i].at] = cases[i].v;
        fix_crc(buf, wr.len);
        assert_int_equal(rf_group_rec_decode(buf, wr.len, collect, &s),
                         RF_ECORRUPT);
        assert_int_equal(s.n, 0);
    }
    rf_wr_free(&wr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_every_truncation),
        cmocka_unit_test(test_bad_crc_and_counts),
        cmocka_unit_test(test_oversized_lengths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
