/* test_uuid.c: generation, hex and Kafka base64 forms. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "err.h"
#include "uuid.h"

static void test_generate_and_format(void **state)
{
    struct rf_uuid a, b, c;
    char s[RF_UUID_STR_LEN + 1], k[RF_UUID_B64_LEN + 1];
    (void)state;
    rf_uuid_generate(&a);
    rf_uuid_generate(&b);
    assert_false(rf_uuid_equal(&a, &b));
    assert_false(rf_uuid_is_zero(&a));
    assert_int_equal(a.b[6] >> 4, 4);       /* version 4 */
    assert_int_equal(a.b[8] & 0xc0, 0x80);  /* variant 1 */
    rf_uuid_format(&a, s);
    assert_int_equal(strlen(s), 36);
    assert_int_equal(rf_uuid_parse(s, &c), 0);
    assert_true(rf_uuid_equal(&a, &c));
    rf_uuid_format_b64(&a, k);
    assert_int_equal(strlen(k), 22);
    memset(&c, 0, sizeof c);
    assert_int_equal(rf_uuid_parse_b64(k, &c), 0);
    assert_true(rf_uuid_equal(&a, &c));
}

static void test_known_vectors(void **state)
{
    /* Kafka's Uuid.toString of 0x00..0f is base64url "AAECAwQFBgcICQoLDA0ODw" */
    struct rf_uuid u, v;
    char k[RF_UUID_B64_LEN + 1], s[RF_UUID_STR_LEN + 1];
    (void)state;
    for (int i = 0; i < 16; i++)
        u.b[i] = (uint8_t)i;
    rf_uuid_format_b64(&u, k);
    assert_string_equal(k, "AAECAwQFBgcICQoLDA0ODw");
    rf_uuid_format(&u, s);
    assert_string_equal(s, "00010203-0405-0607-0809-0a0b0c0d0e0f");
    assert_int_equal(rf_uuid_parse("00010203-0405-0607-0809-0A0B0C0D0E0F", &v), 0);
    assert_true(rf_uuid_equal(&u, &v));
}

static void test_bad_input(void **state)
{
    static const char *bad_hex[] = {"", "00010203-0405-0607-0809-0a0b0c0d0e0",
                                    "00010203x0405-0607-0809-0a0b0c0d0e0f",
                                    "g0010203-0405-0607-0809-0a0b0c0d0e0f"};
    static const char *bad_b64[] = {"", "AAECAwQFBgcICQoLDA0OD",
                                    "AAECAwQFBgcICQoLDA0OD+",
                                    "AAECAwQFBgcICQoLDA0ODx"};
    struct rf_uuid u;
    (void)state;
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(rf_uuid_parse(bad_hex[i], &u), RF_EPARSE);
        assert_int_equal(rf_uuid_parse_b64(bad_b64[i], &u), RF_EPARSE);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generate_and_format),
        cmocka_unit_test(test_known_vectors),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
