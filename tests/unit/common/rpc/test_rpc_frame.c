/* test_rpc_frame.c: table-driven tests of the RPC layer's pure parts: frame
 * parser, Envelope unpack/pack, backoff and jitter (common/rpc_int.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "alloc.h"
#include "err.h"
#include "rpc_int.h"

/* Envelope{correlation_id=1, ping{nonce=7, payload="abc"}} */
static const uint8_t PING_BODY[] = {0x08, 0x01, 0x52, 0x07, 0x08, 0x07,
                                    0x12, 0x03, 'a',  'b',  'c'};

struct parse_case {
    const char *name;
    uint8_t bytes[16];
    size_t len;
    uint32_t max_frame;
    ssize_t want;       /* consumed, or an RF_E* code */
    size_t want_body;   /* body length when want > 0 */
};

static const struct parse_case PARSE_CASES[] = {
    {"empty input", {0}, 0, 1024, RF_EAGAIN, 0},
    {"partial header", {0, 0, 0}, 3, 1024, RF_EAGAIN, 0},
    {"zero length", {0, 0, 0, 0}, 4, 1024, RF_EPARSE, 0},
    {"zero length then bytes", {0, 0, 0, 0, 1, 2}, 6, 1024, RF_EPARSE, 0},
    {"one byte body", {0, 0, 0, 1, 0x08}, 5, 1024, 5, 1},
    {"one byte body missing", {0, 0, 0, 1}, 4, 1024, RF_EAGAIN, 0},
    {"max+1 header only", {0, 0, 4, 1}, 4, 1024, RF_ETOOBIG, 0},
    {"exactly max, incomplete", {0, 0, 4, 0, 1}, 5, 1024, RF_EAGAIN, 0},
    {"claims 2 GiB", {0x80, 0, 0, 0}, 4, 64u << 20, RF_ETOOBIG, 0},
    {"claims 4 GiB - 1", {0xff, 0xff, 0xff, 0xff}, 4, 0xffffffffu - 1,
     RF_ETOOBIG, 0},
    {"max_frame 0 rejects all", {0, 0, 0, 1, 0x08}, 5, 0, RF_ETOOBIG, 0},
    {"two frames: first only", {0, 0, 0, 1, 0x08, 0, 0, 0, 1, 0x10}, 10,
     1024, 5, 1},
    {"frame then partial header", {0, 0, 0, 2, 0x08, 0x01, 0, 0}, 8, 1024, 6,
     2},
};

static void test_parse_table(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(PARSE_CASES) / sizeof(PARSE_CASES[0]); i++) {
        const struct parse_case *tc = &PARSE_CASES[i];
        const uint8_t *body = NULL;
        size_t body_len = 0;
        ssize_t n = rf__rpc_frame_parse(tc->bytes, tc->len, tc->max_frame,
                                        &body, &body_len);
        print_message("case %s\n", tc->name);
        assert_int_equal(n, tc->want);
        if (tc->want > 0) {
            assert_ptr_equal(body, tc->bytes + RF__RPC_HDR);
            assert_int_equal(body_len, tc->want_body);
        }
    }
}

static size_t make_ping_frame(uint8_t *out)
{
    out[0] = 0;
    out[1] = 0;
    out[2] = 0;
    out[3] = (uint8_t)sizeof(PING_BODY);
    memcpy(out + 4, PING_BODY, sizeof(PING_BODY));
    return 4 + sizeof(PING_BODY);
}

/* Every strict prefix of a valid frame needs more input; the whole frame
 * parses and unpacks to the expected Envelope. */
static void test_parse_every_truncation(void **state)
{
    uint8_t frame[64];
    size_t len = make_ping_frame(frame), cut;
    const uint8_t *body;
    size_t body_len;
    Riffle__Envelope *env;

    (void)state;
    for (cut = 0; cut < len; cut++)
        assert_int_equal(rf__rpc_frame_parse(frame, cut, 1024, &body,
                                             &body_len),
                         RF_EAGAIN);
    assert_int_equal(rf__rpc_frame_parse(frame, len, 1024, &body, &body_len),
                     (ssize_t)len);
    assert_int_equal(rf__rpc_envelope_unpack(body, body_len, &env), 0);
    assert_int_equal(env->correlation_id, 1);
    assert_int_equal(env->body_case, RIFFLE__ENVELOPE__BODY_PING);
    assert_int_equal(env->ping->nonce, 7);
    assert_int_equal(env->ping->payload.len, 3);
    assert_memory_equal(env->ping->payload.data, "abc", 3);
    riffle__envelope__free_unpacked(env, NULL);
}

/* Every strict prefix of a valid body either fails to unpack or unpacks to
 * something other than the full message; none crashes or leaks. */
static void test_unpack_every_truncation(void **state)
{
    size_t cut;

    (void)state;
    for (cut = 1; cut < sizeof(PING_BODY); cut++) {
        Riffle__Envelope *env = NULL;
        int rc = rf__rpc_envelope_unpack(PING_BODY, cut, &env);
        if (rc == 0) {
            /* only prefixes ending on a field boundary can unpack */
            assert_true(env->body_case != RIFFLE__ENVELOPE__BODY_PING ||
                        env->ping->payload.len < 3);
            riffle__envelope__free_unpacked(env, NULL);
        } else {
            assert_int_equal(rc, RF_EPARSE);
            assert_null(env);
        }
    }
}

struct bad_body {
    const char *name;
    uint8_t bytes[16];
    size_t len;
};

static const struct bad_body BAD_BODIES[] = {
    {"field number 0", {0x00, 0x01}, 2},
    {"wire type 7", {0x0f, 0x01}, 2},
    {"unterminated varint", {0x08, 0x80}, 2},
    {"over-long varint",
     {0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
     12},
    {"submessage longer than input", {0x52, 0x7f, 0x08}, 3},
    {"submessage length 2^32", {0x52, 0x80, 0x80, 0x80, 0x80, 0x10}, 6},
    {"submessage as varint", {0x50, 0x01}, 2},
    {"bad nested field", {0x52, 0x02, 0x0f, 0x00}, 4},
    {"lone tag", {0x52}, 1},
    /* protobuf-c alone accepts these (field 0 in an over-long tag) */
    {"field 0, over-long tag", {0x08, 0x00, 0x80, 0x00, 0x00}, 5},
    {"field 0 inside ping", {0x52, 0x03, 0x80, 0x00, 0x00}, 5},
    {"field 0 inside status endpoint",
     {0x62, 0x05, 0x22, 0x03, 0x80, 0x00, 0x00}, 7},
    {"field 0 in 2nd repeated topic",
     {0xa2, 0x01, 0x09, 0x12, 0x02, 0x0a, 0x00, 0x12, 0x03, 0x80, 0x00, 0x00},
     12},
};

static void test_unpack_bad(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(BAD_BODIES) / sizeof(BAD_BODIES[0]); i++) {
        Riffle__Envelope *env = (Riffle__Envelope *)1;
        print_message("case %s\n", BAD_BODIES[i].name);
        assert_int_equal(rf__rpc_envelope_unpack(BAD_BODIES[i].bytes,
                                                 BAD_BODIES[i].len, &env),
                         RF_EPARSE);
        assert_null(env);
    }
}

/* The nested walk that rejects field 0 accepts nested valid messages. */
static void test_unpack_nested_ok(void **state)
{
    static const uint8_t body[] = {0xa2, 0x01, 0x08, 0x12, 0x02, 0x0a, 0x00,
                                   0x12, 0x02, 0x0a, 0x00};
    Riffle__Envelope *env;

    (void)state;
    assert_int_equal(rf__rpc_envelope_unpack(body, sizeof(body), &env), 0);
    assert_int_equal(env->body_case,
                     RIFFLE__ENVELOPE__BODY_CREATE_TOPICS_REQ);
    assert_int_equal(env->create_topics_req->n_topics, 2);
    riffle__envelope__free_unpacked(env, NULL);
}

/* Pack -> parse -> unpack returns the same message. */
static void test_pack_roundtrip(void **state)
{
    Riffle__Envelope env = RIFFLE__ENVELOPE__INIT;
    Riffle__Ping ping = RIFFLE__PING__INIT;
    uint8_t payload[300];
    uint8_t *buf;
    const uint8_t *body;
    size_t body_len, i;
    ssize_t n;
    Riffle__Envelope *got;

    (void)state;
    for (i = 0; i < sizeof(payload); i++)
        payload[i] = (uint8_t)(i * 7);
    ping.nonce = 0x1122334455667788ull;
    ping.payload.data = payload;
    ping.payload.len = sizeof(payload);
    env.correlation_id = 42;
    env.body_case = RIFFLE__ENVELOPE__BODY_PING;
    env.ping = &ping;

    n = rf__rpc_frame_size(&env, 1024);
    assert_true(n > (ssize_t)(RF__RPC_HDR + sizeof(payload)));
    buf = rf_malloc((size_t)n);
    rf__rpc_frame_write(&env, buf, (size_t)n);
    assert_int_equal(rf__rpc_frame_parse(buf, (size_t)n, 1024, &body,
                                         &body_len),
                     n);
    assert_int_equal(rf__rpc_envelope_unpack(body, body_len, &got), 0);
    assert_int_equal(got->correlation_id, 42);
    assert_int_equal(got->body_case, RIFFLE__ENVELOPE__BODY_PING);
    assert_true(got->ping->nonce == 0x1122334455667788ull);
    assert_memory_equal(got->ping->payload.data, payload, sizeof(payload));
    riffle__envelope__free_unpacked(got, NULL);
    /* the same frame is too big for a smaller limit on either side */
    assert_int_equal(rf__rpc_frame_size(&env, 100), RF_ETOOBIG);
    assert_int_equal(rf__rpc_frame_parse(buf, (size_t)n, 100, &body,
                                         &body_len),
                     RF_ETOOBIG);
    rf_free(buf);
}

/* An Envelope with nothing set packs to zero bytes: not a valid frame. */
static void test_pack_empty(void **state)
{
    Riffle__Envelope env = RIFFLE__ENVELOPE__INIT;

    (void)state;
    assert_int_equal(rf__rpc_frame_size(&env, 1024), RF_EPARSE);
    env.correlation_id = 1;
    assert_int_equal(rf__rpc_frame_size(&env, 1024), (ssize_t)(4 + 2));
}

/* Backoff doubles from min to the cap and stays there; no overflow near
 * UINT32_MAX. */
static void test_backoff_sequence(void **state)
{
    static const struct {
        uint32_t cur, max, want;
    } cases[] = {
        {50, 2000, 100},   {100, 2000, 200},   {800, 2000, 1600},
        {1600, 2000, 2000}, {2000, 2000, 2000}, {1000, 2000, 2000},
        {1001, 2000, 2000}, {50, 50, 50},       {0x80000000u, 0xffffffffu,
                                                 0xffffffffu},
        {0x7fffffffu, 0xffffffffu, 0xfffffffeu},
    };
    size_t i;
    uint32_t cur = 50;
    int steps = 0;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_int_equal(rf__rpc_backoff_next(cases[i].cur, cases[i].max),
                         cases[i].want);
    while (cur < 2000 && steps < 100) {
        cur = rf__rpc_backoff_next(cur, 2000);
        steps++;
    }
    assert_int_equal(cur, 2000);
    assert_int_equal(steps, 6); /* 100 200 400 800 1600 2000 */
}

/* Jitter stays within +-20% and really varies. */
static void test_jitter_bounds(void **state)
{
    uint64_t rng = 0x1234567u;
    uint32_t lo = UINT32_MAX, hi = 0, v;
    int i;

    (void)state;
    for (i = 0; i < 10000; i++) {
        v = rf__rpc_jitter(&rng, 1000);
        assert_true(v >= 800 && v <= 1200);
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
    }
    assert_true(lo <= 810 && hi >= 1190);
    assert_int_equal(rf__rpc_jitter(&rng, 0), 0);
    v = rf__rpc_jitter(&rng, UINT32_MAX);
    assert_true(v >= (uint32_t)(UINT32_MAX / 100u * 80u));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_table),
        cmocka_unit_test(test_parse_every_truncation),
        cmocka_unit_test(test_unpack_every_truncation),
        cmocka_unit_test(test_unpack_bad),
        cmocka_unit_test(test_unpack_nested_ok),
        cmocka_unit_test(test_pack_roundtrip),
        cmocka_unit_test(test_pack_empty),
        cmocka_unit_test(test_backoff_sequence),
        cmocka_unit_test(test_jitter_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
