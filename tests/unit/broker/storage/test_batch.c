/* test_batch.c: the record-batch validator against real librdkafka output,
 * every truncation point, flipped bits and bad fields. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "alloc.h"
#include "batch.h"
#include "buf.h"
#include "builder.h"
#include "err.h"

#define BIG (1 << 20)

struct captured {
    const char *file;
    int codec;
    int32_t records;
    int producer_id_set;
};

/* Batches produced by librdkafka 2.0.2 (data/capture.sh). */
static const struct captured captured[] = {
    {"rdkafka_none.bin", 0, 5, 0},   {"rdkafka_one.bin", 0, 1, 0},
    {"rdkafka_idempotent.bin", 0, 3, 1}, {"rdkafka_gzip.bin", 1, 20, 0},
    {"rdkafka_snappy.bin", 2, 20, 0}, {"rdkafka_lz4.bin", 3, 20, 0},
    {"rdkafka_zstd.bin", 4, 20, 0},
};

static uint8_t *load(const char *name, size_t *len)
{
    char path[512];
    FILE *f;
    uint8_t *buf = rf_malloc(1 << 16);

    snprintf(path, sizeof(path), "%s/%s", RF_STORAGE_TEST_DATA, name);
    f = fopen(path, "rb");
    assert_non_null(f);
    *len = fread(buf, 1, 1 << 16, f);
    fclose(f);
    assert_true(*len > RF_BATCH_HEADER_SIZE);
    return buf;
}

static void test_captured_valid(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(captured) / sizeof(captured[0]); i++) {
        const struct captured *c = &captured[i];
        struct rf_batch_info info;
        size_t len;
        uint8_t *p = load(c->file, &len);

        assert_int_equal(rf_batch_validate(p, len, 7, BIG, 0, &info),
                         RF_BATCH_OK);
        assert_int_equal(info.size, len);
        assert_int_equal(info.codec, c->codec);
        assert_int_equal(info.record_count, c->records);
        assert_int_equal(info.last_offset_delta, c->records - 1);
        assert_int_equal(info.producer_id >= 0, c->producer_id_set);
        assert_int_equal(info.base_sequence >= 0, c->producer_id_set);
        assert_true(info.max_timestamp >= info.base_timestamp);
        /* Follower mode accepts what a produce accepted. */
        assert_int_equal(rf_batch_validate(p, len, 7, BIG, RF_BATCH_F_FOLLOWER,
                                           &info), RF_BATCH_OK);
        /* zstd needs Produce v7+; others are fine at v3. */
        assert_int_equal(rf_batch_validate(p, len, 3, BIG, 0, &info),
                         c->codec == 4 ? RF_BATCH_UNSUPPORTED_COMPRESSION_TYPE
                                       : RF_BATCH_OK);
        /* One byte over max.message.bytes. */
        assert_int_equal(rf_batch_validate(p, len, 7, (int64_t)len - 1, 0,
                                           &info), RF_BATCH_MESSAGE_TOO_LARGE);
        assert_int_equal(rf_batch_validate(p, len, 7, (int64_t)len, 0, &info),
                         RF_BATCH_OK);
        rf_free(p);
    }
}

static void test_every_truncation(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(captured) / sizeof(captured[0]); i++) {
        struct rf_batch_info info;
        size_t len;
        uint8_t *p = load(captured[i].file, &len);

        for (size_t cut = 0; cut < len; cut++) {
            /* A copy of exactly cut bytes, so ASan sees any over-read. */
            uint8_t *q = rf_malloc(cut + 1);
            memcpy(q, p, cut);
            enum rf_batch_result res =
                rf_batch_validate(q, cut, 7, BIG, 0, &info);
            assert_int_equal(res, RF_BATCH_CORRUPT_MESSAGE);
            res = rf_batch_validate(q, cut, 7, BIG, RF_BATCH_F_FOLLOWER, &info);
            assert_int_equal(res, RF_BATCH_CORRUPT_MESSAGE);
            rf_free(q);
        }
        rf_free(p);
    }
}

/* Expected result of flipping one bit at byte i of a valid batch. */
static enum rf_batch_result flip_expect(size_t i)
{
    if (i < 8 || (i >= 12 && i < 16)) {
        return RF_BATCH_OK; /* baseOffset, partitionLeaderEpoch: not CRC'd */
    }
    if (i == 16) {
        return RF_BATCH_INVALID_RECORD; /* magic */
    }
    return RF_BATCH_CORRUPT_MESSAGE; /* batchLength, CRC, covered bytes */
}

static void test_flipped_bits(void **state)
{
    (void)state;
    for (size_t f = 0; f < sizeof(captured) / sizeof(captured[0]); f++) {
        struct rf_batch_info info;
        size_t len;
        uint8_t *p = load(captured[f].file, &len);

        for (size_t i = 0; i < len; i++) {
            for (int bit = 0; bit < 8; bit += 3) {
                p[i] ^= (uint8_t)(1u << bit);
                enum rf_batch_result res =
                    rf_batch_validate(p, len, 7, BIG, 0, &info);
                if (i >= 8 && i < 12 && res == RF_BATCH_INVALID_RECORD) {
                    res = RF_BATCH_CORRUPT_MESSAGE; /* shorter: trailing */
                }
                if (i >= 8 && i < 12 && res == RF_BATCH_MESSAGE_TOO_LARGE) {
                    res = RF_BATCH_CORRUPT_MESSAGE;
                }
                assert_int_equal(res, flip_expect(i));
                p[i] ^= (uint8_t)(1u << bit);
            }
        }
        rf_free(p);
    }
}

/* A builder batch with one field patched (CRC fixed afterwards). */
struct patch {
    const char *name;
    size_t at;   /* byte offset in the batch */
    int width;   /* 1, 2, 4 or 8; 0 = no patch */
    int64_t value;
    unsigned flags;
    int version;
    enum rf_batch_result expect;
};

static const struct patch patches[] = {
    {"valid", 0, 0, 0, 0, 7, RF_BATCH_OK},
    {"lastOffsetDelta too small", 23, 4, 2, 0, 7, RF_BATCH_INVALID_RECORD},
    {"lastOffsetDelta too big", 23, 4, 4, 0, 7, RF_BATCH_INVALID_RECORD},
    {"lastOffsetDelta negative", 23, 4, -1, 0, 7, RF_BATCH_CORRUPT_MESSAGE},
    {"recordCount 0", 57, 4, 0, 0, 7, RF_BATCH_INVALID_RECORD},
    {"recordCount -1", 57, 4, -1, 0, 7, RF_BATCH_INVALID_RECORD},
    {"recordCount huge", 57, 4, 0x7fffffff, 0, 7, RF_BATCH_INVALID_RECORD},
    {"codec 5", 21, 2, 5, 0, 7, RF_BATCH_UNSUPPORTED_COMPRESSION_TYPE},
    {"codec 7", 21, 2, 7, 0, 7, RF_BATCH_UNSUPPORTED_COMPRESSION_TYPE},
    {"control bit from client", 21, 2, 0x20, 0, 7, RF_BATCH_INVALID_RECORD},
    {"control bit from leader", 21, 2, 0x20, RF_BATCH_F_FOLLOWER, 7,
     RF_BATCH_OK},
    {"transactional bit", 21, 2, 0x10, 0, 7, RF_BATCH_OK},
    {"producerId without sequence", 43, 8, 1000, 0, 7,
     RF_BATCH_INVALID_RECORD},
    {"magic 1", 16, 1, 1, 0, 7, RF_BATCH_INVALID_RECORD},
    {"batchLength under minimum", 8, 4, 48, 0, 7, RF_BATCH_CORRUPT_MESSAGE},
    {"batchLength negative", 8, 4, -1, 0, 7, RF_BATCH_CORRUPT_MESSAGE},
    {"batchLength past buffer", 8, 4, 0x7fffffff, 0, 7,
     RF_BATCH_CORRUPT_MESSAGE},
    /* First record (at 61): length varint 1 byte, then attributes,
     * timestampDelta, offsetDelta (zigzag), keyLength... */
    {"record offsetDelta 1", 64, 1, 2, 0, 7, RF_BATCH_INVALID_RECORD},
    {"record length spans records", 61, 1, 0x7e, 0, 7,
     RF_BATCH_INVALID_RECORD},
    {"record length negative", 61, 1, 0x01, 0, 7, RF_BATCH_CORRUPT_MESSAGE},
    {"record keyLength -2", 65, 1, 0x03, 0, 7, RF_BATCH_INVALID_RECORD},
    {"record keyLength past record", 65, 1, 0x7e, 0, 7,
     RF_BATCH_CORRUPT_MESSAGE},
};

static void put_be(uint8_t *p, int width, int64_t v)
{
    for (int i = width - 1; i >= 0; i--) {
        p[i] = (uint8_t)v;
        v >>= 8;
    }
}

static void test_patched_fields(void **state)
{
    struct rf_test_batch_spec spec = {4, 10, 1700000000000LL, 7, 0};
    (void)state;

    for (size_t i = 0; i < sizeof(patches) / sizeof(patches[0]); i++) {
        const struct patch *pt = &patches[i];
        struct rf_batch_info info;
        struct rf_wr wr;
        size_t len;

        rf_wr_init(&wr, 256);
        len = rf_test_build_batch(&wr, &spec);
        if (pt->width > 0) {
            put_be(wr.base + pt->at, pt->width, pt->value);
        }
        rf_test_fix_crc(wr.base, len);
        enum rf_batch_result res =
            rf_batch_validate(wr.base, len, pt->version, BIG, pt->flags, &info);
        rf_wr_free(&wr);
        if (res != pt->expect) {
            fail_msg("%s: got %s want %s", pt->name, rf_batch_result_name(res),
                     rf_batch_result_name(pt->expect));
        }
        rf_wr_free(&wr);
    }
}

static void test_record_headers(void **state)
{
    struct rf_test_batch_spec spec = {1, 3, 0, 1, 0};
    struct rf_batch_info info;
    struct rf_wr wr;
    size_t len;
    (void)state;

    rf_wr_init(&wr, 256);
    len = rf_test_build_batch(&wr, &spec);
    /* Record: len(1) attrs ts off keyLen key(4) valLen val(3) hdrCount ... */
    size_t hdr_count_at = 61 + 1 + 1 + 1 + 1 + 1 + 4 + 1 + 3;
    assert_int_equal(wr.base[hdr_count_at], 2); /* zigzag 1 */
    wr.base[hdr_count_at] = 0x7e;               /* 63 headers: too many */
    rf_test_fix_crc(wr.base, len);
    assert_int_equal(rf_batch_validate(wr.base, len, 7, BIG, 0, &info),
                     RF_BATCH_CORRUPT_MESSAGE);
    wr.base[hdr_count_at] = 0x01; /* -1 headers */
    rf_test_fix_crc(wr.base, len);
    assert_int_equal(rf_batch_validate(wr.base, len, 7, BIG, 0, &info),
                     RF_BATCH_INVALID_RECORD);
    wr.base[hdr_count_at] = 0x00; /* 0 headers: record too long now */
    rf_test_fix_crc(wr.base, len);
    assert_int_equal(rf_batch_validate(wr.base, len, 7, BIG, 0, &info),
                     RF_BATCH_INVALID_RECORD);
    rf_wr_free(&wr);
}

static void test_last_record_overrun(void **state)
{
    struct rf_test_batch_spec spec = {1, 3, 0, 1, 0};
    struct rf_batch_info info;
    struct rf_wr wr;
    size_t len;
    (void)state;

    rf_wr_init(&wr, 256);
    len = rf_test_build_batch(&wr, &spec);
    wr.base[61] = 0x7e; /* single record claims 63 bytes: past the batch */
    rf_test_fix_crc(wr.base, len);
    assert_int_equal(rf_batch_validate(wr.base, len, 7, BIG, 0, &info),
                     RF_BATCH_CORRUPT_MESSAGE);
    rf_wr_free(&wr);
}

static void test_two_batches(void **state)
{
    struct rf_test_batch_spec spec = {2, 5, 0, 1, 0};
    struct rf_batch_info info;
    struct rf_wr wr;
    size_t one;
    (void)state;

    rf_wr_init(&wr, 256);
    one = rf_test_build_batch(&wr, &spec);
    rf_test_build_batch(&wr, &spec);
    assert_int_equal(rf_batch_validate(wr.base, wr.len, 7, BIG, 0, &info),
                     RF_BATCH_INVALID_RECORD);
    assert_int_equal(rf_batch_validate(wr.base, wr.len, 7, BIG,
                                       RF_BATCH_F_FOLLOWER, &info),
                     RF_BATCH_OK);
    assert_int_equal(info.size, one);
    rf_wr_free(&wr);
}

static void test_rewrites(void **state)
{
    struct rf_batch_info info;
    size_t len;
    uint8_t *p = load("rdkafka_none.bin", &len);
    int64_t off, ts;
    (void)state;

    rf_batch_set_base_offset(p, 1234);
    rf_batch_set_leader_epoch(p, 9);
    assert_int_equal(rf_batch_validate(p, len, 7, BIG, 0, &info), RF_BATCH_OK);
    assert_int_equal(info.base_offset, 1234);
    assert_int_equal(info.leader_epoch, 9);
    /* Record timestamps are 1700000000000 + i (capture.c). */
    assert_int_equal(rf_batch_find_timestamp(p, len, 1700000000002LL, &off,
                                             &ts), 0);
    assert_int_equal(off, 1236);
    assert_int_equal(ts, 1700000000002LL);
    assert_int_equal(rf_batch_find_timestamp(p, len, 1700000000005LL, &off,
                                             &ts), RF_ENOENT);
    rf_batch_set_log_append_time(p, len, 1800000000000LL);
    assert_int_equal(rf_batch_validate(p, len, 7, BIG, 0, &info), RF_BATCH_OK);
    assert_int_equal(info.max_timestamp, 1800000000000LL);
    assert_true(info.attributes & RF_BATCH_ATTR_LOG_APPEND_TIME);
    assert_int_equal(rf_batch_find_timestamp(p, len, 0, &off, &ts),
                     RF_EUNSUPPORTED);
    rf_free(p);
    assert_int_equal(rf_batch_kafka_error(RF_BATCH_CORRUPT_MESSAGE), 2);
    assert_int_equal(rf_batch_kafka_error(RF_BATCH_INVALID_RECORD), 87);
    assert_int_equal(rf_batch_kafka_error(RF_BATCH_UNSUPPORTED_COMPRESSION_TYPE),
                     76);
    assert_int_equal(rf_batch_kafka_error(RF_BATCH_MESSAGE_TOO_LARGE), 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_captured_valid),
        cmocka_unit_test(test_every_truncation),
        cmocka_unit_test(test_flipped_bits),
        cmocka_unit_test(test_patched_fields),
        cmocka_unit_test(test_record_headers),
        cmocka_unit_test(test_last_record_overrun),
        cmocka_unit_test(test_two_batches),
        cmocka_unit_test(test_rewrites),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
