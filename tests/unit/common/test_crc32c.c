/* test_crc32c.c: published CRC-32C vectors, both implementations. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "crc32c.h"

typedef uint32_t (*crc_fn)(uint32_t, const void *, size_t);

/* RFC 3720 (iSCSI) appendix B.4 vectors, plus the classic check value. */
static void check_vectors(crc_fn fn)
{
    uint8_t buf[48];
    assert_int_equal(fn(0, "123456789", 9), 0xE3069283u);
    assert_int_equal(fn(0, "", 0), 0);
    memset(buf, 0, 32);
    assert_int_equal(fn(0, buf, 32), 0x8A9136AAu);
    memset(buf, 0xff, 32);
    assert_int_equal(fn(0, buf, 32), 0x62A8AB43u);
    for (int i = 0; i < 32; i++)
        buf[i] = (uint8_t)i;
    assert_int_equal(fn(0, buf, 32), 0x46DD794Eu);
    for (int i = 0; i < 32; i++)
        buf[i] = (uint8_t)(31 - i);
    assert_int_equal(fn(0, buf, 32), 0x113FDB5Cu);
    static const uint8_t iscsi_read[48] = {
        0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00,
        0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18, 0x28, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
    assert_int_equal(fn(0, iscsi_read, 48), 0xD9963A56u);
}

static void test_sw_vectors(void **state)
{
    (void)state;
    check_vectors(rf__crc32c_sw);
}

static void test_hw_vectors(void **state)
{
    (void)state;
    if (!rf__crc32c_hw_available())
        skip();
    check_vectors(rf__crc32c_hw);
}

static void test_dispatch_vectors(void **state)
{
    (void)state;
    check_vectors(rf_crc32c);
}

/* Chaining and every alignment/length agree between the two paths. */
static void test_chaining_and_alignment(void **state)
{
    uint8_t buf[1100];
    (void)state;
    srand(7);
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (uint8_t)rand();
    for (size_t off = 0; off < 9; off++) {
        for (size_t len = 0; len < 70; len++) {
            uint32_t a = rf__crc32c_sw(0, buf + off, len);
            assert_int_equal(a, rf_crc32c(0, buf + off, len));
            for (size_t cut = 0; cut <= len; cut += 7) {
                uint32_t c = rf_crc32c(0, buf + off, cut);
                c = rf_crc32c(c, buf + off + cut, len - cut);
                assert_int_equal(c, a);
            }
        }
    }
    assert_int_equal(rf__crc32c_sw(0, buf, sizeof buf),
                     rf_crc32c(0, buf, sizeof buf));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sw_vectors),
        cmocka_unit_test(test_hw_vectors),
        cmocka_unit_test(test_dispatch_vectors),
        cmocka_unit_test(test_chaining_and_alignment),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
