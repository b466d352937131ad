/* test_codec.c: every (API, version) of the Kafka codec, requests and
 * responses: round trips, every truncation, oversized lengths and counts,
 * unknown versions, tagged fields, headers and the API table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "api_table.h"
#include "err.h"
#include "frame.h"
#include "header.h"
#include "kerr.h"
#include "kfill.h"

struct fixture {
    struct rf_arena arena;  /* decode side */
    struct rf_arena fill;   /* test data */
    struct rf_wr wr, wr2;
    unsigned char *a, *b;   /* message structs (largest size) */
};

#define MAX_MSG 512

static int setup(void **state)
{
    struct fixture *fx = test_calloc(1, sizeof(*fx));
    rf_arena_init(&fx->arena, 4096, 0);
    rf_arena_init(&fx->fill, 4096, 0);
    rf_wr_init(&fx->wr, 256);
    rf_wr_init(&fx->wr2, 256);
    fx->a = test_calloc(1, MAX_MSG);
    fx->b = test_calloc(1, MAX_MSG);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    rf_arena_close(&fx->arena);
    rf_arena_close(&fx->fill);
    rf_wr_free(&fx->wr);
    rf_wr_free(&fx->wr2);
    test_free(fx->a);
    test_free(fx->b);
    test_free(fx);
    return 0;
}

/* ---- the API table: exactly the ranges the issue asks for ------------- */

static const struct {
    int16_t key, min, max, flex;
} want_ranges[] = {
    {0, 0, 7, 9},   {1, 4, 11, 12}, {2, 1, 3, 6},   {3, 0, 8, 9},
    {8, 2, 7, 8},   {9, 1, 7, 6},   {10, 0, 2, 3},  {11, 0, 5, 6},
    {12, 0, 3, 4},  {13, 0, 3, 4},  {14, 0, 3, 4},  {15, 0, 4, 5},
    {16, 0, 4, 3},  {18, 0, 3, 3},  {19, 0, 4, 5},  {20, 0, 3, 4},
    {21, 0, 1, 2},  {22, 0, 4, 2},  {32, 0, 2, 4},  {37, 0, 1, 2},
    {42, 0, 1, 2},  {47, 0, 0, RF_KAFKA_NO_FLEX},
};
#define NWANT (sizeof(want_ranges) / sizeof(want_ranges[0]))

static void test_api_table_ranges(void **state)
{
    size_t n;
    const struct rf_kafka_api *apis = rf_kafka_api_all(&n);
    (void)state;
    assert_int_equal(n, NWANT);
    for (size_t i = 0; i < n; i++) {
        const struct rf_kafka_api *api = &apis[i];
        assert_int_equal(api->ApiKey, want_ranges[i].key);
        assert_int_equal(api->MinVersion, want_ranges[i].min);
        assert_int_equal(api->MaxVersion, want_ranges[i].max);
        assert_int_equal(api->FlexibleFrom, want_ranges[i].flex);
        assert_ptr_equal(rf_kafka_api_find(api->ApiKey), api);
        /* descriptors agree with the row */
        const struct rf_kmsg *msgs[2] = {api->request, api->response};
        for (int m = 0; m < 2; m++) {
            /* the codec covers at least the advertised range */
            assert_int_equal(msgs[m]->api_key, api->ApiKey);
            assert_true(msgs[m]->min_ver <= api->MinVersion);
            assert_int_equal(msgs[m]->max_ver, api->MaxVersion);
            assert_int_equal(msgs[m]->min_ver,
                             api->ApiKey == RF_API_PRODUCE ? 0
                                                           : api->MinVersion);
            assert_int_equal(msgs[m]->flex_min, api->FlexibleFrom);
            assert_true(msgs[m]->root->size <= MAX_MSG);
        }
        assert_true(api->request->is_request);
        assert_false(api->response->is_request);
    }
    assert_null(rf_kafka_api_find(4));  /* LeaderAndIsr: not served */
    assert_null(rf_kafka_api_find(-1));
    assert_int_equal(rf_kafka_api_set_handler(4, NULL), RF_ENOENT);
}

/* ---- round trips ------------------------------------------------------- */

/* Encode a filled message, decode it back, compare, re-encode identically,
 * then check that every proper prefix fails cleanly. */
static void round_trip(struct fixture *fx, const struct rf_kmsg *msg,
                       int16_t ver, enum kfill_mode mode, uint64_t seed)
{
    char what[96];
    snprintf(what, sizeof(what), "%s v%d mode %d seed %llu", msg->name, ver,
             mode, (unsigned long long)seed);
    rf_arena_reset(&fx->fill);
    rf_arena_reset(&fx->arena);
    rf_wr_reset(&fx->wr);
    rf_wr_reset(&fx->wr2);
    kfill_msg(msg, ver, mode, seed, &fx->fill, fx->a);
    int rc = rf_kmsg_encode(msg, ver, fx->a, &fx->wr);
    if (rc != 0) {
        fail_msg("%s: encode %d", what, rc);
    }
    memset(fx->b, 0xa5, MAX_MSG);
    ssize_t n = rf_kmsg_decode(msg, ver, fx->wr.base, fx->wr.len, &fx->arena,
                               NULL, fx->b);
    if (n != (ssize_t)fx->wr.len) {
        fail_msg("%s: decode %zd of %zu", what, n, fx->wr.len);
    }
    if (!rf_kmsg_equal(msg, ver, fx->a, fx->b)) {
        fail_msg("%s: decoded message differs", what);
    }
    assert_int_equal(rf_kmsg_encode(msg, ver, fx->b, &fx->wr2), 0);
    if (fx->wr2.len != fx->wr.len ||
        memcmp(fx->wr2.base, fx->wr.base, fx->wr.len) != 0) {
        fail_msg("%s: re-encoding differs", what);
    }
    for (size_t cut = 0; cut < fx->wr.len; cut++) {
        rf_arena_reset(&fx->arena);
        n = rf_kmsg_decode(msg, ver, fx->wr.base, cut, &fx->arena, NULL,
                           fx->b);
        if (n >= 0) {
            fail_msg("%s: prefix %zu of %zu decoded", what, cut, fx->wr.len);
        }
    }
}

static void test_round_trip_every_version(void **state)
{
    struct fixture *fx = *state;
    size_t n, count = 0;
    const struct rf_kafka_api *apis = rf_kafka_api_all(&n);
    for (size_t i = 0; i < n; i++) {
        for (int16_t v = apis[i].request->min_ver;
             v <= apis[i].request->max_ver; v++) {
            const struct rf_kmsg *msgs[2] = {apis[i].request,
                                             apis[i].response};
            for (int m = 0; m < 2; m++) {
                for (uint64_t seed = 1; seed <= 6; seed++) {
                    round_trip(fx, msgs[m], v, KFILL_SMALL, seed);
                }
                round_trip(fx, msgs[m], v, KFILL_NULLS, 7);
                round_trip(fx, msgs[m], v, KFILL_BIG, 8);
                count++;
            }
        }
    }
    /* 22 APIs, 97 advertised versions + Produce v0-2, request + response */
    assert_int_equal(count, 2 * 100);
}

/* Whole frames: header v1/v2 on requests, v0/v1 on responses. */
static void test_frames_every_version(void **state)
{
    struct fixture *fx = *state;
    size_t n;
    const struct rf_kafka_api *apis = rf_kafka_api_all(&n);
    for (size_t i = 0; i < n; i++) {
        const struct rf_kafka_api *api = &apis[i];
        for (int16_t v = api->MinVersion; v <= api->MaxVersion; v++) {
            struct rf_RequestHeader hdr = {api->ApiKey, v, 1000 + v,
                                           RF_KSTR("cli")};
            struct rf_kafka_req req;
            uint32_t size;
            const uint8_t *body;
            rf_arena_reset(&fx->fill);
            rf_arena_reset(&fx->arena);
            rf_wr_reset(&fx->wr);
            kfill_msg(api->request, v, KFILL_SMALL, 42, &fx->fill, fx->a);
            assert_int_equal(rf_kafka_request_encode(&hdr, fx->a, &fx->wr), 0);
            assert_int_equal(rf_kafka_frame_decode(fx->wr.base, fx->wr.len,
                                                   RF_KAFKA_MIN_REQUEST,
                                                   1 << 20, &size, &body),
                             (ssize_t)fx->wr.len);
            assert_int_equal(rf_kafka_request_decode(body, size, &fx->arena,
                                                     NULL, &req), 0);
            assert_int_equal(req.hdr.RequestApiKey, api->ApiKey);
            assert_int_equal(req.hdr.RequestApiVersion, v);
            assert_int_equal(req.hdr.CorrelationId, 1000 + v);
            assert_int_equal(req.hdr.ClientId.len, 3);
            assert_memory_equal(req.hdr.ClientId.ptr, "cli", 3);
            /* header v2 carries one tag-section byte after ClientId */
            bool flex = v >= api->FlexibleFrom;
            assert_int_equal(body[10 + 3], flex ? 0 : body[13]);
            assert_true(rf_kmsg_equal(api->request, v, fx->a, req.body));
            assert_int_equal(req.trailing, 0);
            /* bytes after the body are ignored (as Kafka does; librdkafka
             * 2.0.2's admin API sends some) and the body is the same */
            rf_wr_u8(&fx->wr, 0);
            rf_wr_u8(&fx->wr, 0);
            rf_wr_put_i32_at(&fx->wr, 0, (int32_t)size + 2);
            assert_int_equal(rf_kafka_request_decode(fx->wr.base + 4,
                                                     size + 2, &fx->arena,
                                                     NULL, &req),
                             0);
            assert_int_equal(req.trailing, 2);
            assert_true(rf_kmsg_equal(api->request, v, fx->a, req.body));
            /* response frame */
            rf_wr_reset(&fx->wr);
            kfill_msg(api->response, v, KFILL_SMALL, 43, &fx->fill, fx->a);
            assert_int_equal(rf_kafka_response_encode(api->ApiKey, v, 77,
                                                      fx->a, &fx->wr), 0);
            int32_t corr;
            assert_int_equal(rf_be32_load(fx->wr.base), fx->wr.len - 4);
            assert_int_equal(rf_kafka_response_decode(
                                 api->ApiKey, v, fx->wr.base + 4,
                                 fx->wr.len - 4, &fx->arena, NULL, &corr,
                                 fx->b), 0);
            assert_int_equal(corr, 77);
            assert_true(rf_kmsg_equal(api->response, v, fx->a, fx->b));
        }
    }
}

/* ---- hand-made vectors: exact bytes from the Kafka protocol guide -------- */

static void test_api_versions_v3_request_bytes(void **state)
{
    struct fixture *fx = *state;
    /* header v2: key 18, ver 3, corr 1, client id "k", no tags; body:
     * compact "rd" (len+1 = 3), compact "2" (2), no tags */
    static const uint8_t frame[] = {0, 18, 0, 3, 0, 0, 0, 1, 0, 1, 'k', 0,
                                    3, 'r', 'd', 2, '2', 0};
    struct rf_kafka_req req;
    assert_int_equal(rf_kafka_request_decode(frame, sizeof(frame), &fx->arena,
                                             NULL, &req), 0);
    const struct rf_ApiVersionsRequest *body = req.body;
    assert_int_equal(body->ClientSoftwareName.len, 2);
    assert_memory_equal(body->ClientSoftwareName.ptr, "rd", 2);
    assert_int_equal(body->ClientSoftwareVersion.len, 1);
    /* and we produce the same bytes */
    rf_wr_reset(&fx->wr);
    assert_int_equal(rf_kafka_request_encode(&req.hdr, body, &fx->wr), 0);
    assert_int_equal(fx->wr.len, sizeof(frame) + 4);
    assert_memory_equal(fx->wr.base + 4, frame, sizeof(frame));
}

static void test_api_versions_response_header_v0(void **state)
{
    struct fixture *fx = *state;
    struct rf_ApiVersionsResponse resp;
    assert_int_equal(rf_kafka_api_versions_fill(&resp, &fx->arena), 0);
    rf_wr_reset(&fx->wr);
    assert_int_equal(rf_kafka_response_encode(18, 3, 9, &resp, &fx->wr), 0);
    /* size, corr 9, then straight into ErrorCode (no header tag byte) */
    const uint8_t *p = fx->wr.base;
    assert_int_equal(rf_be32_load(p + 4), 9);
    assert_int_equal(p[8], 0);
    assert_int_equal(p[9], 0);
    /* compact array: 22 APIs -> uvarint 23 */
    assert_int_equal(p[10], 23);
    /* first entry Produce 0..7 then an empty tag section */
    static const uint8_t produce[] = {0, 0, 0, 0, 0, 7, 0};
    assert_memory_equal(p + 11, produce, sizeof(produce));
    /* v0 layout: int32 count */
    rf_wr_reset(&fx->wr);
    assert_int_equal(rf_kafka_response_encode(18, 0, 9, &resp, &fx->wr), 0);
    assert_int_equal(rf_be32_load(fx->wr.base + 10), 22);
    /* OffsetFetch v6 response: header v1 has a tag byte */
    struct rf_OffsetFetchResponse of;
    rf_OffsetFetchResponse_init(&of, 6);
    rf_wr_reset(&fx->wr);
    assert_int_equal(rf_kafka_response_encode(9, 6, 5, &of, &fx->wr), 0);
    /* corr(4) tag(1) throttle(4) topics(1) error(2) tags(1) */
    assert_int_equal(fx->wr.len, 4 + 4 + 1 + 4 + 1 + 2 + 1);
}

static void test_api_versions_unsupported(void **state)
{
    struct fixture *fx = *state;
    struct rf_ApiVersionsResponse resp;
    int32_t corr;
    rf_wr_reset(&fx->wr);
    assert_int_equal(rf_kafka_api_versions_unsupported(31, &fx->wr), 0);
    assert_int_equal(rf_kafka_response_decode(18, 0, fx->wr.base + 4,
                                              fx->wr.len - 4, &fx->arena,
                                              NULL, &corr, &resp), 0);
    assert_int_equal(corr, 31);
    assert_int_equal(resp.ErrorCode, RF_KERR_UNSUPPORTED_VERSION);
    assert_int_equal(resp.ApiKeys.count, 1);
    assert_int_equal(resp.ApiKeys.items[0].ApiKey, 18);
    assert_int_equal(resp.ApiKeys.items[0].MaxVersion, 3);
    /* An ApiVersions v4 request (flexible header) still yields its header */
    static const uint8_t v4[] = {0, 18, 0, 4, 0, 0, 0, 8, 0xff, 0xff, 0,
                                 1, 1, 0};
    struct rf_kafka_req req;
    assert_int_equal(rf_kafka_request_decode(v4, sizeof(v4), &fx->arena, NULL,
                                             &req), RF_EUNSUPPORTED);
    assert_non_null(req.api);
    assert_int_equal(req.hdr.CorrelationId, 8);
    assert_int_equal(req.hdr.ClientId.len, -1);
}

/* ---- malformed input: table-driven ------------------------------------- */

struct bad_case {
    const char *what;
    int16_t key, ver;
    uint8_t body[24];
    size_t len;
    int want;
};

static const struct bad_case bad_cases[] = {
    /* Metadata v0: Topics int32 count, non-nullable in v0 */
    {"metadata v0 null topics", 3, 0, {0xff, 0xff, 0xff, 0xff}, 4, RF_EPARSE},
    {"metadata v0 count -2", 3, 0, {0xff, 0xff, 0xff, 0xfe}, 4, RF_EPARSE},
    {"metadata v1 count huge", 3, 1, {0x7f, 0xff, 0xff, 0xff}, 4,
     RF_ETOOBIG},
    {"metadata v1 count > bytes", 3, 1, {0, 0, 0, 9, 0, 0}, 6, RF_ETRUNC},
    {"metadata v1 name len -1", 3, 1, {0, 0, 0, 1, 0xff, 0xff}, 6,
     RF_EPARSE},
    {"metadata v1 name len -2", 3, 1, {0, 0, 0, 1, 0xff, 0xfe}, 6,
     RF_EPARSE},
    {"metadata v1 name len 32767", 3, 1, {0, 0, 0, 1, 0x7f, 0xff, 'a'}, 7,
     RF_ETRUNC},
    /* Produce v3: records int32 length */
    {"produce records len huge", 0, 3,
     {0xff, 0xff, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0,
      0x7f, 0xff},
     24, RF_ETRUNC},
    {"produce records len -2", 0, 3,
     {0xff, 0xff, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0,
      0xff, 0xff},
     24, RF_ETRUNC},
    {"produce acks only", 0, 3, {0xff, 0xff, 0, 1}, 4, RF_ETRUNC},
    /* InitProducerId v2 (flexible): compact nullable string + tags */
    {"initpid compact len huge", 22, 2, {0xff, 0xff, 0xff, 0xff, 0x0f}, 5,
     RF_EPARSE},
    {"initpid varint too long", 22, 2,
     {0x80, 0x80, 0x80, 0x80, 0x80, 0x01}, 6, RF_EPARSE},
    {"initpid compact len > bytes", 22, 2, {0x20, 'a'}, 2, RF_ETRUNC},
    {"initpid tags count > bytes", 22, 2, {0, 0, 0, 0, 1, 5}, 6, RF_ETRUNC},
    {"initpid tag size > bytes", 22, 2, {0, 0, 0, 0, 1, 1, 1, 9}, 8,
     RF_ETRUNC},
    /* OffsetFetch v6: compact array count 0 = null is fine, huge is not */
    {"offsetfetch compact count huge", 9, 6, {1, 0x80, 0x80, 0x80, 0x80, 0x08},
     6, RF_ETOOBIG},
    /* unknown versions */
    {"produce v-1", 0, -1, {0}, 1, RF_EUNSUPPORTED},
    {"produce v8", 0, 8, {0}, 1, RF_EUNSUPPORTED},
    {"fetch v12", 1, 12, {0}, 1, RF_EUNSUPPORTED},
    {"metadata v9", 3, 9, {0}, 1, RF_EUNSUPPORTED},
    {"metadata v-1", 3, -1, {0}, 1, RF_EUNSUPPORTED},
};

static void test_bad_bodies(void **state)
{
    struct fixture *fx = *state;
    for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        const struct bad_case *c = &bad_cases[i];
        const struct rf_kafka_api *api = rf_kafka_api_find(c->key);
        rf_arena_reset(&fx->arena);
        ssize_t n = rf_kmsg_decode(api->request, c->ver, c->body, c->len,
                                   &fx->arena, NULL, fx->a);
        if (n != c->want) {
            fail_msg("%s: got %zd want %d", c->what, n, c->want);
        }
    }
}

static void test_limits_and_arena_cap(void **state)
{
    struct fixture *fx = *state;
    /* DeleteTopics v0 with 50 names: over max_array 10, over a tiny arena */
    struct rf_DeleteTopicsRequest req;
    struct rf_kstr names[50];
    for (int i = 0; i < 50; i++) {
        names[i] = RF_KSTR("topic");
    }
    rf_DeleteTopicsRequest_init(&req, 0);
    req.TopicNames.items = names;
    req.TopicNames.count = 50;
    rf_wr_reset(&fx->wr);
    assert_int_equal(rf_DeleteTopicsRequest_encode(&req, 0, &fx->wr), 0);
    struct rf_kafka_limits lim = {.max_array = 10};
    assert_int_equal(rf_DeleteTopicsRequest_decode(&req, 0, fx->wr.base,
                                                   fx->wr.len, &fx->arena,
                                                   &lim),
                     RF_ETOOBIG);
    struct rf_arena tiny;
    rf_arena_init(&tiny, 256, 256);
    assert_int_equal(rf_DeleteTopicsRequest_decode(&req, 0, fx->wr.base,
                                                   fx->wr.len, &tiny, NULL),
                     RF_ETOOBIG);
    rf_arena_close(&tiny);
    lim.max_array = 50;
    assert_int_equal(rf_DeleteTopicsRequest_decode(&req, 0, fx->wr.base,
                                                   fx->wr.len, &fx->arena,
                                                   &lim),
                     (ssize_t)fx->wr.len);
    assert_int_equal(req.TopicNames.count, 50);
}

/* Every 1-, 2- and 4-byte window of a valid encoding overwritten with -1,
 * 0x7f.. and 0x80..: decoding must fail or succeed, never misbehave, and a
 * success must re-encode to something decodable. */
static void test_oversize_mutations(void **state)
{
    struct fixture *fx = *state;
    static const uint8_t pats[][4] = {{0xff, 0xff, 0xff, 0xff},
                                      {0x7f, 0xff, 0xff, 0xff},
                                      {0x80, 0x80, 0x80, 0x80}};
    size_t n;
    const struct rf_kafka_api *apis = rf_kafka_api_all(&n);
    for (size_t i = 0; i < n; i++) {
        for (int16_t v = apis[i].MinVersion; v <= apis[i].MaxVersion; v++) {
            const struct rf_kmsg *msg = apis[i].request;
            rf_arena_reset(&fx->fill);
            rf_wr_reset(&fx->wr);
            kfill_msg(msg, v, KFILL_SMALL, 5, &fx->fill, fx->a);
            assert_int_equal(rf_kmsg_encode(msg, v, fx->a, &fx->wr), 0);
            uint8_t buf[4096];
            assert_true(fx->wr.len <= sizeof(buf));
            for (size_t off = 0; off < fx->wr.len; off++) {
                for (size_t p = 0; p < 3; p++) {
                    for (size_t w = 1; w <= 4; w *= 2) {
                        memcpy(buf, fx->wr.base, fx->wr.len);
                        size_t k = off + w <= fx->wr.len ? w : fx->wr.len - off;
                        memcpy(buf + off, pats[p], k);
                        rf_arena_reset(&fx->arena);
                        ssize_t r = rf_kmsg_decode(msg, v, buf, fx->wr.len,
                                                   &fx->arena, NULL, fx->b);
                        if (r >= 0) {
                            rf_wr_reset(&fx->wr2);
                            assert_int_equal(
                                rf_kmsg_encode(msg, v, fx->b, &fx->wr2), 0);
                        }
                    }
                }
            }
        }
    }
}

/* ---- nullable vs empty, tagged fields --------------------------------- */

static void test_null_vs_empty(void **state)
{
    struct fixture *fx = *state;
    struct rf_MetadataRequest req;
    static const uint8_t null_topics[] = {0xff, 0xff, 0xff, 0xff, 1};
    static const uint8_t empty_topics[] = {0, 0, 0, 0, 1};
    assert_int_equal(rf_MetadataRequest_decode(&req, 4, null_topics, 5,
                                               &fx->arena, NULL), 5);
    assert_int_equal(req.Topics.count, -1);
    assert_true(req.AllowAutoTopicCreation);
    assert_int_equal(rf_MetadataRequest_decode(&req, 4, empty_topics, 5,
                                               &fx->arena, NULL), 5);
    assert_int_equal(req.Topics.count, 0);
    /* v0: absent AllowAutoTopicCreation takes its default (true) */
    assert_int_equal(rf_MetadataRequest_decode(&req, 0, empty_topics, 4,
                                               &fx->arena, NULL), 4);
    assert_true(req.AllowAutoTopicCreation);
    /* encoding refuses null where the version does not allow it */
    req.Topics.count = -1;
    rf_wr_reset(&fx->wr);
    assert_int_equal(rf_MetadataRequest_encode(&req, 0, &fx->wr), RF_EINVAL);
    /* nullable string: null and "" stay distinct */
    struct rf_InitProducerIdRequest ip;
    static const uint8_t null_tid[] = {0xff, 0xff, 0, 0, 0, 1};
    static const uint8_t empty_tid[] = {0, 0, 0, 0, 0, 1};
    assert_int_equal(rf_InitProducerIdRequest_decode(&ip, 1, null_tid, 6,
                                                     &fx->arena, NULL), 6);
    assert_int_equal(ip.TransactionalId.len, -1);
    assert_int_equal(ip.ProducerId, -1); /* default, absent before v3 */
    assert_int_equal(rf_InitProducerIdRequest_decode(&ip, 1, empty_tid, 6,
                                                     &fx->arena, NULL), 6);
    assert_int_equal(ip.TransactionalId.len, 0);
}

static void test_tagged_fields(void **state)
{
    struct fixture *fx = *state;
    struct rf_ApiVersionsResponse resp;
    /* ErrorCode 0, ApiKeys empty (1), throttle 0, tags: 2 fields:
     * tag 1 (FinalizedFeaturesEpoch, 8 bytes = 7), tag 9 unknown (2 bytes) */
    static const uint8_t body[] = {0, 0, 1, 0, 0, 0, 0, 2,
                                   1, 8, 0, 0, 0, 0, 0, 0, 0, 7,
                                   9, 2, 0xaa, 0xbb};
    assert_int_equal(rf_ApiVersionsResponse_decode(&resp, 3, body,
                                                   sizeof(body), &fx->arena,
                                                   NULL),
                     (ssize_t)sizeof(body));
    assert_int_equal(resp.FinalizedFeaturesEpoch, 7);
    assert_int_equal(resp.SupportedFeatures.count, 0);
    assert_false(resp.ZkMigrationReady);
    /* re-encoding keeps the known tag, drops the unknown one */
    rf_wr_reset(&fx->wr);
    assert_int_equal(rf_ApiVersionsResponse_encode(&resp, 3, &fx->wr), 0);
    static const uint8_t want[] = {0, 0, 1, 0, 0, 0, 0, 1,
                                   1, 8, 0, 0, 0, 0, 0, 0, 0, 7};
    assert_int_equal(fx->wr.len, sizeof(want));
    assert_memory_equal(fx->wr.base, want, sizeof(want));
    /* a known tag whose size does not match its content */
    static const uint8_t bad[] = {0, 0, 1, 0, 0, 0, 0, 1, 1, 4, 0, 0, 0, 7};
    assert_int_equal(rf_ApiVersionsResponse_decode(&resp, 3, bad, sizeof(bad),
                                                   &fx->arena, NULL),
                     RF_EPARSE);
    /* v2: no tag section at all */
    rf_ApiVersionsResponse_init(&resp, 2);
    assert_int_equal(resp.FinalizedFeaturesEpoch, -1);
}

/* ---- header, frame, kerr, arena ---------------------------------------- */

static void test_request_header_errors(void **state)
{
    struct fixture *fx = *state;
    struct rf_kafka_req req;
    static const uint8_t unknown_key[] = {0, 99, 0, 0, 0, 0, 0, 5, 0, 0};
    static const uint8_t bad_client[] = {0, 3, 0, 1, 0, 0, 0, 5, 0xff, 0xfe};
    static const uint8_t short_client[] = {0, 3, 0, 1, 0, 0, 0, 5, 0, 9, 'a'};
    static const uint8_t garbage[] = {0, 3, 0, 1, 0, 0, 0, 5, 0, 0, 0x12};
    assert_int_equal(rf_kafka_request_decode(unknown_key, sizeof(unknown_key),
                                             &fx->arena, NULL, &req),
                     RF_EUNSUPPORTED);
    assert_null(req.api);
    assert_int_equal(req.hdr.CorrelationId, 5);
    assert_int_equal(rf_kafka_request_decode(bad_client, sizeof(bad_client),
                                             &fx->arena, NULL, &req),
                     RF_EPARSE);
    assert_int_equal(rf_kafka_request_decode(short_client,
                                             sizeof(short_client), &fx->arena,
                                             NULL, &req),
                     RF_ETRUNC);
    assert_true(rf_kafka_request_decode(garbage, sizeof(garbage), &fx->arena,
                                        NULL, &req) < 0);
    /* Produce v2 is advertised (librdkafka's compression check needs v0 in
     * the range): it decodes. v8 is beyond the range: refused, with the
     * header still filled in. */
    static const uint8_t produce_v2[] = {0, 0, 0, 2, 0, 0, 0, 6, 0, 0,
                                         0, 1, 0, 0, 0, 0, 0, 0, 0, 0};
    assert_int_equal(rf_kafka_request_decode(produce_v2, sizeof(produce_v2),
                                             &fx->arena, NULL, &req),
                     0);
    static const uint8_t produce_v8[] = {0, 0, 0, 8, 0, 0, 0, 6, 0, 0,
                                         0, 1, 0, 0, 0, 0, 0, 0, 0, 0};
    assert_int_equal(rf_kafka_request_decode(produce_v8, sizeof(produce_v8),
                                             &fx->arena, NULL, &req),
                     RF_EUNSUPPORTED);
    assert_non_null(req.api);
    assert_int_equal(req.hdr.CorrelationId, 6);
    for (size_t cut = 0; cut < 10; cut++) {
        assert_true(rf_kafka_request_decode(unknown_key, cut, &fx->arena,
                                            NULL, &req) < 0);
    }
}

static void test_frame_decode(void **state)
{
    static const struct {
        uint8_t b[16];
        size_t len;
        ssize_t want;
        uint32_t size;
    } cases[] = {
        {{0, 0, 0}, 3, RF_EAGAIN, 0},
        {{0x7f, 0xff, 0xff, 0xff}, 4, RF_ETOOBIG, 0x7fffffff},
        {{0x80, 0, 0, 0}, 4, RF_ETOOBIG, 0x80000000u},
        {{0xff, 0xff, 0xff, 0xff}, 4, RF_ETOOBIG, 0xffffffffu},
        {{0, 0x10, 0, 1}, 4, RF_ETOOBIG, 0x100001},
        {{0, 0, 0, 9}, 4, RF_EPARSE, 9},
        {{0, 0, 0, 10, 1, 2}, 6, RF_EAGAIN, 10},
        {{0, 0, 0, 10, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, 15, 14, 10},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint32_t size = 0;
        const uint8_t *body;
        ssize_t n = rf_kafka_frame_decode(cases[i].b, cases[i].len,
                                          RF_KAFKA_MIN_REQUEST, 1 << 20,
                                          &size, &body);
        assert_int_equal(n, cases[i].want);
        assert_int_equal(size, cases[i].size);
        if (n > 0) {
            assert_ptr_equal(body, cases[i].b + 4);
        }
    }
}

static void test_kerr(void **state)
{
    (void)state;
    assert_string_equal(rf_kerr_name(6), "NOT_LEADER_OR_FOLLOWER");
    assert_string_equal(rf_kerr_name(-1), "UNKNOWN_SERVER_ERROR");
    assert_string_equal(rf_kerr_name(79), "MEMBER_ID_REQUIRED");
    assert_string_equal(rf_kerr_name(500), "UNKNOWN");
    assert_string_equal(rf_kerr_name(-2), "UNKNOWN");
    assert_true(rf_kerr_retriable(RF_KERR_NOT_LEADER_OR_FOLLOWER));
    assert_true(rf_kerr_retriable(RF_KERR_LEADER_NOT_AVAILABLE));
    assert_true(rf_kerr_retriable(RF_KERR_CORRUPT_MESSAGE));
    assert_false(rf_kerr_retriable(RF_KERR_OFFSET_OUT_OF_RANGE));
    assert_false(rf_kerr_retriable(RF_KERR_NONE));
    assert_false(rf_kerr_retriable(500));
    for (int16_t c = -1; c <= 108; c++) {
        assert_true(rf_kerr_known(c));
    }
    static const struct {
        int err;
        int16_t code;
    } map[] = {
        {RF_OK, 0},           {RF_ENOTLEADER, 6},       {RF_ECORRUPT, 2},
        {RF_ENOENT, 3},       {RF_ENOTCONTROLLER, 41},  {RF_EOFFSET, 1},
        {RF_ETIMEDOUT, 7},    {RF_EUNSUPPORTED, 35},    {RF_EPARSE, 42},
        {RF_ETOOBIG, 10},     {RF_EEXIST, 36},          {RF_EIO, 56},
        {-1000, -1},
    };
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        assert_int_equal(rf_err_to_kafka(map[i].err), map[i].code);
    }
}

static void test_arena(void **state)
{
    struct rf_arena a;
    (void)state;
    rf_arena_init(&a, 256, 4096);
    uint8_t *p = rf_arena_alloc(&a, 10);
    assert_non_null(p);
    assert_int_equal((uintptr_t)p % 8, 0);
    memset(p, 7, 10);
    /* latest allocation grows in place and keeps its bytes */
    uint8_t *q = rf_arena_realloc(&a, p, 10, 100);
    assert_ptr_equal(p, q);
    assert_int_equal(q[9], 7);
    assert_int_equal(q[50], 0);
    uint8_t *r = rf_arena_alloc(&a, 8);
    /* not the latest any more: moves, keeps content */
    q = rf_arena_realloc(&a, q, 100, 200);
    assert_ptr_not_equal(q, p);
    assert_int_equal(q[9], 7);
    assert_non_null(r);
    /* a large allocation gets its own chunk */
    assert_non_null(rf_arena_alloc(&a, 2000));
    /* the cap */
    assert_null(rf_arena_alloc(&a, 4096));
    assert_null(rf_arena_alloc(&a, SIZE_MAX));
    rf_arena_reset(&a);
    assert_int_equal(a.used, 0);
    assert_non_null(rf_arena_alloc(&a, 4000));
    assert_null(rf_arena_alloc(&a, 200));
    rf_arena_close(&a);
    rf_arena_close(&a); /* tolerated twice */
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_api_table_ranges),
        T(test_round_trip_every_version),
        T(test_frames_every_version),
        T(test_api_versions_v3_request_bytes),
        T(test_api_versions_response_header_v0),
        T(test_api_versions_unsupported),
        T(test_bad_bodies),
        T(test_limits_and_arena_cap),
        T(test_oversize_mutations),
        T(test_null_vs_empty),
        T(test_tagged_fields),
        T(test_request_header_errors),
        T(test_frame_decode),
        T(test_kerr),
        T(test_arena),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
