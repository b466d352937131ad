/* test_entry.c: Raft entry framing: padding to 8 bytes for every size, and
 * the bounded parser (valid vectors, every truncation, bad padding,
 * oversized lengths). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "node_entry.h"
#include "err.h"

static void test_frame_sizes(void **state)
{
    uint8_t payload[64];
    size_t len;

    (void)state;
    for (len = 0; len < sizeof(payload); len++) {
        payload[len] = (uint8_t)(0xA0 + len);
    }
    for (len = 0; len <= sizeof(payload); len++) {
        struct raft_buffer buf;
        const uint8_t *out;
        size_t out_len;
        uint32_t type;
        size_t i;

        assert_int_equal(
            rf_entry_frame(RF_ENTRY_METADATA_COMMAND, payload, len, &buf), 0);
        assert_int_equal(buf.len % 8, 0);
        assert_true(buf.len >= len + 8 && buf.len < len + 16);
        assert_int_equal(buf.len, rf_entry_framed_size(len));
        for (i = 8 + len; i < buf.len; i++) {
            assert_int_equal(((uint8_t *)buf.base)[i], 0);
        }
        assert_int_equal(
            rf_entry_parse(buf.base, buf.len, &type, &out, &out_len), 0);
        assert_int_equal(type, RF_ENTRY_METADATA_COMMAND);
        assert_int_equal(out_len, len);
        assert_memory_equal(out, payload, len);
        raft_free(buf.base);
    }
}

static void test_truncations(void **state)
{
    const uint8_t payload[13] = "hello, raft!";
    struct raft_buffer buf;
    const uint8_t *out;
    size_t out_len, cut;
    uint32_t type;

    (void)state;
    assert_int_equal(rf_entry_frame(1, payload, sizeof(payload), &buf), 0);
    assert_int_equal(buf.len, 24);
    for (cut = 0; cut < buf.len; cut++) {
        int rv = rf_entry_parse(buf.base, cut, &type, &out, &out_len);
        if (cut < 8 + sizeof(payload)) {
            assert_int_equal(rv, RF_ETRUNC);
        } else {
            assert_int_equal(rv, RF_EPARSE); /* not a multiple of 8 */
        }
    }
    raft_free(buf.base);
}

struct bad_case {
    uint8_t bytes[24];
    size_t len;
    int rv;
};

static const struct bad_case bad[] = {
    /* valid: 3-byte payload, 5 zero pad bytes */
    {{0, 0, 0, 3, 0, 0, 0, 1, 'a', 'b', 'c', 0, 0, 0, 0, 0}, 16, 0},
    /* non-zero padding */
    {{0, 0, 0, 3, 0, 0, 0, 1, 'a', 'b', 'c', 0, 0, 9, 0, 0}, 16, RF_EPARSE},
    /* 8 bytes of padding: too much */
    {{0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0}, 16, RF_EPARSE},
    /* length beyond the buffer */
    {{0, 0, 0, 17, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0}, 16, RF_ETRUNC},
    /* 2 GiB claimed */
    {{0x80, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0}, 16, RF_ETOOBIG},
    /* 4 GiB - 1 claimed */
    {{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1}, 8, RF_ETOOBIG},
    /* just over the payload bound */
    {{0x01, 0x00, 0x00, 0x01, 0, 0, 0, 1}, 8, RF_ETOOBIG},
    /* empty payload */
    {{0, 0, 0, 0, 0, 0, 0, 7}, 8, 0},
};

static void test_bad_vectors(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const uint8_t *out;
        size_t out_len;
        uint32_t type;
        int rv =
            rf_entry_parse(bad[i].bytes, bad[i].len, &type, &out, &out_len);
        if (rv != bad[i].rv) {
            fail_msg("case %zu: got %d want %d", i, rv, bad[i].rv);
        }
    }
}

static void test_frame_too_big(void **state)
{
    struct raft_buffer buf;

    (void)state;
    assert_int_equal(rf_entry_frame(1, "", RF_ENTRY_MAX_PAYLOAD + 1, &buf),
                     RF_ETOOBIG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_frame_sizes),
        cmocka_unit_test(test_truncations),
        cmocka_unit_test(test_bad_vectors),
        cmocka_unit_test(test_frame_too_big),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
