/* test_buf.c: bounded reader/writer, big-endian ints and both varint kinds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "alloc.h"
#include "buf.h"
#include "err.h"

static void test_be_ints_round_trip(void **state)
{
    struct rf_wr wr;
    struct rf_rd rd;
    uint8_t u8;
    int8_t i8;
    int16_t i16;
    uint16_t u16;
    int32_t i32;
    uint32_t u32;
    int64_t i64;
    uint64_t u64;
    (void)state;
    rf_wr_init(&wr, 0);
    rf_wr_u8(&wr, 0xab);
    rf_wr_i8(&wr, -2);
    rf_wr_i16(&wr, -12345);
    rf_wr_u16(&wr, 0xbeef);
    rf_wr_i32(&wr, INT32_MIN);
    rf_wr_u32(&wr, 0xdeadbeef);
    rf_wr_i64(&wr, -1234567890123LL);
    rf_wr_u64(&wr, UINT64_MAX - 7);
    assert_int_equal(wr.len, 1 + 1 + 2 + 2 + 4 + 4 + 8 + 8);
    /* big-endian on the wire */
    assert_int_equal(wr.base[2], 0xcf);
    assert_int_equal(wr.base[3], 0xc7);
    rf_rd_init(&rd, wr.base, wr.len);
    assert_int_equal(rf_rd_u8(&rd, &u8), 0);
    assert_int_equal(u8, 0xab);
    assert_int_equal(rf_rd_i8(&rd, &i8), 0);
    assert_int_equal(i8, -2);
    assert_int_equal(rf_rd_i16(&rd, &i16), 0);
    assert_int_equal(i16, -12345);
    assert_int_equal(rf_rd_u16(&rd, &u16), 0);
    assert_int_equal(u16, 0xbeef);
    assert_int_equal(rf_rd_i32(&rd, &i32), 0);
    assert_int_equal(i32, INT32_MIN);
    assert_int_equal(rf_rd_u32(&rd, &u32), 0);
    assert_int_equal(u32, 0xdeadbeef);
    assert_int_equal(rf_rd_i64(&rd, &i64), 0);
    assert_true(i64 == -1234567890123LL);
    assert_int_equal(rf_rd_u64(&rd, &u64), 0);
    assert_true(u64 == UINT64_MAX - 7);
    assert_int_equal(rf_rd_remaining(&rd), 0);
    assert_int_equal(rf_rd_u8(&rd, &u8), RF_ETRUNC);
    rf_wr_free(&wr);
}

/* Every truncation point of a fixed-width read fails without moving. */
static void test_truncation_every_offset(void **state)
{
    uint8_t bytes[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    (void)state;
    for (size_t n = 0; n < 8; n++) {
        struct rf_rd rd;
        uint64_t v;
        uint32_t v32;
        rf_rd_init(&rd, bytes, n);
        assert_int_equal(rf_rd_u64(&rd, &v), RF_ETRUNC);
        assert_int_equal(rd.off, 0);
        assert_int_equal(rf_rd_u32(&rd, &v32), n >= 4 ? 0 : RF_ETRUNC);
    }
}

struct uvarint_case {
    uint64_t value;
    uint8_t bytes[10];
    size_t len;
};

static const struct uvarint_case uvarint_cases[] = {
    {0, {0x00}, 1},
    {1, {0x01}, 1},
    {127, {0x7f}, 1},
    {128, {0x80, 0x01}, 2},
    {300, {0xac, 0x02}, 2},
    {16384, {0x80, 0x80, 0x01}, 3},
    {UINT32_MAX, {0xff, 0xff, 0xff, 0xff, 0x0f}, 5},
    {UINT64_MAX,
     {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
     10},
};

static void test_uvarint_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof uvarint_cases / sizeof uvarint_cases[0];
         i++) {
        const struct uvarint_case *c = &uvarint_cases[i];
        struct rf_wr wr;
        struct rf_rd rd;
        uint64_t v;
        rf_wr_init(&wr, 0);
        rf_wr_uvarint64(&wr, c->value);
        assert_int_equal(wr.len, c->len);
        assert_memory_equal(wr.base, c->bytes, c->len);
        rf_rd_init(&rd, c->bytes, c->len);
        assert_int_equal(rf_rd_uvarint64(&rd, &v), 0);
        assert_true(v == c->value);
        assert_int_equal(rd.off, c->len);
        if (c->value <= UINT32_MAX) {
            uint32_t v32;
            rf_rd_init(&rd, c->bytes, c->len);
            assert_int_equal(rf_rd_uvarint32(&rd, &v32), 0);
            assert_int_equal(v32, c->value);
        }
        /* every truncation point */
        for (size_t n = 0; n < c->len; n++) {
            rf_rd_init(&rd, c->bytes, n);
            assert_int_equal(rf_rd_uvarint64(&rd, &v), RF_ETRUNC);
            assert_int_equal(rd.off, 0);
        }
        rf_wr_free(&wr);
    }
}

static void test_uvarint_overlong(void **state)
{
    /* 6 bytes for 32 bits, a 5th byte with bits above 32, 11 bytes for 64 */
    static const uint8_t six[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x01};
    static const uint8_t big5[] = {0xff, 0xff, 0xff, 0xff, 0x1f};
    static const uint8_t eleven[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
                                     0x80, 0x80, 0x80, 0x80, 0x01};
    static const uint8_t big10[] = {0xff, 0xff, 0xff, 0xff, 0xff,
                                    0xff, 0xff, 0xff, 0xff, 0x02};
    struct rf_rd rd;
    uint32_t v32;
    uint64_t v64;
    (void)state;
    rf_rd_init(&rd, six, sizeof six);
    assert_int_equal(rf_rd_uvarint32(&rd, &v32), RF_EPARSE);
    rf_rd_init(&rd, big5, sizeof big5);
    assert_int_equal(rf_rd_uvarint32(&rd, &v32), RF_EPARSE);
    rf_rd_init(&rd, eleven, sizeof eleven);
    assert_int_equal(rf_rd_uvarint64(&rd, &v64), RF_EPARSE);
    rf_rd_init(&rd, big10, sizeof big10);
    assert_int_equal(rf_rd_uvarint64(&rd, &v64), RF_EPARSE);
    assert_int_equal(rd.off, 0);
}

static void test_zigzag_table(void **state)
{
    /* Kafka record varints: 0->0, -1->1, 1->2, -2->3, 2147483647->0xfffffffe */
    static const struct {
        int64_t v;
        uint64_t zz;
    } cases[] = {{0, 0},          {-1, 1},         {1, 2},
                 {-2, 3},         {63, 126},       {-64, 127},
                 {INT32_MAX, 0xfffffffeu},         {INT32_MIN, 0xffffffffu},
                 {INT64_MAX, UINT64_MAX - 1},      {INT64_MIN, UINT64_MAX}};
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct rf_wr wr, ref;
        struct rf_rd rd;
        int64_t v;
        rf_wr_init(&wr, 0);
        rf_wr_init(&ref, 0);
        rf_wr_varint64(&wr, cases[i].v);
        rf_wr_uvarint64(&ref, cases[i].zz);
        assert_int_equal(wr.len, ref.len);
        assert_memory_equal(wr.base, ref.base, wr.len);
        rf_rd_init(&rd, wr.base, wr.len);
        assert_int_equal(rf_rd_varint64(&rd, &v), 0);
        assert_true(v == cases[i].v);
        if (cases[i].v >= INT32_MIN && cases[i].v <= INT32_MAX) {
            int32_t v32;
            struct rf_wr w32;
            rf_wr_init(&w32, 0);
            rf_wr_varint32(&w32, (int32_t)cases[i].v);
            assert_int_equal(w32.len, wr.len);
            assert_memory_equal(w32.base, wr.base, wr.len);
            rf_rd_init(&rd, wr.base, wr.len);
            assert_int_equal(rf_rd_varint32(&rd, &v32), 0);
            assert_int_equal(v32, cases[i].v);
            rf_wr_free(&w32);
        }
        rf_wr_free(&wr);
        rf_wr_free(&ref);
    }
}

static void test_bytes_and_skip(void **state)
{
    static const uint8_t data[] = "hello world";
    struct rf_rd rd;
    const uint8_t *p;
    (void)state;
    rf_rd_init(&rd, data, 11);
    assert_int_equal(rf_rd_bytes(&rd, 5, &p), 0);
    assert_ptr_equal(p, data);
    assert_int_equal(rf_rd_skip(&rd, 1), 0);
    assert_int_equal(rf_rd_bytes(&rd, 6, &p), RF_ETRUNC);
    assert_int_equal(rf_rd_bytes(&rd, SIZE_MAX, &p), RF_ETRUNC);
    assert_int_equal(rf_rd_skip(&rd, SIZE_MAX), RF_ETRUNC);
    assert_int_equal(rf_rd_bytes(&rd, 5, &p), 0);
    assert_memory_equal(p, "world", 5);
}

static void test_fixed_writer_overflow(void **state)
{
    uint8_t buf[6];
    struct rf_wr wr;
    (void)state;
    rf_wr_init_fixed(&wr, buf, sizeof buf);
    rf_wr_u32(&wr, 1);
    assert_false(wr.overflow);
    rf_wr_u32(&wr, 2);
    assert_true(wr.overflow);
    assert_int_equal(wr.len, 4);
    rf_wr_free(&wr); /* no-op for fixed */
}

static void test_patch_and_steal(void **state)
{
    struct rf_wr wr;
    size_t len, at;
    uint8_t *p;
    (void)state;
    rf_wr_init(&wr, 2); /* forces growth */
    at = wr.len;
    rf_wr_i32(&wr, 0);
    for (int i = 0; i < 1000; i++)
        rf_wr_u8(&wr, (uint8_t)i);
    rf_wr_put_i32_at(&wr, at, (int32_t)(wr.len - 4));
    assert_int_equal(rf_be32_load(wr.base), 1000);
    p = rf_wr_steal(&wr, &len);
    assert_int_equal(len, 1004);
    assert_null(wr.base);
    assert_int_equal(p[4 + 999], (uint8_t)999);
    rf_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_be_ints_round_trip),
        cmocka_unit_test(test_truncation_every_offset),
        cmocka_unit_test(test_uvarint_table),
        cmocka_unit_test(test_uvarint_overlong),
        cmocka_unit_test(test_zigzag_table),
        cmocka_unit_test(test_bytes_and_skip),
        cmocka_unit_test(test_fixed_writer_overflow),
        cmocka_unit_test(test_patch_and_steal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
