/* header.c: request/response headers, whole-request decoding and framing of
 * encoded requests and responses. */
#include "header.h"

#include <string.h>

#include "err.h"
#include "kerr.h"

/* Tag section of a header: skipped (no header tags are used by us). */
static int skip_tags(struct rf_rd *rd)
{
    uint32_t n, tag, size;
    int rc = rf_rd_uvarint32(rd, &n);
    if (rc < 0) {
        return rc;
    }
    if (n > rf_rd_remaining(rd)) {
        return RF_ETRUNC;
    }
    for (uint32_t i = 0; i < n; i++) {
        if ((rc = rf_rd_uvarint32(rd, &tag)) < 0 ||
            (rc = rf_rd_uvarint32(rd, &size)) < 0 ||
            (rc = rf_rd_skip(rd, size)) < 0) {
            return rc;
        }
    }
    return 0;
}

ssize_t rf_kafka_header_decode(const void *p, size_t len,
                               struct rf_RequestHeader *hdr)
{
    struct rf_rd rd;
    int16_t n;
    int rc;
    const uint8_t *s = NULL;
    rf_rd_init(&rd, p, len);
    memset(hdr, 0, sizeof(*hdr));
    if ((rc = rf_rd_i16(&rd, &hdr->RequestApiKey)) < 0 ||
        (rc = rf_rd_i16(&rd, &hdr->RequestApiVersion)) < 0 ||
        (rc = rf_rd_i32(&rd, &hdr->CorrelationId)) < 0 ||
        (rc = rf_rd_i16(&rd, &n)) < 0) {
        return rc;
    }
    if (n < -1) {
        return RF_EPARSE;
    }
    if (n >= 0 && (rc = rf_rd_bytes(&rd, (size_t)n, &s)) < 0) {
        return rc;
    }
    hdr->ClientId.ptr = (const char *)s;
    hdr->ClientId.len = n;
    const struct rf_kafka_api *api = rf_kafka_api_find(hdr->RequestApiKey);
    if (api != NULL && rf_kafka_api_flexible(api, hdr->RequestApiVersion) &&
        (rc = skip_tags(&rd)) < 0) {
        return rc;
    }
    return (ssize_t)rd.off;
}

int rf_kafka_request_decode(const void *p, size_t len, struct rf_arena *arena,
                            const struct rf_kafka_limits *lim,
                            struct rf_kafka_req *req)
{
    memset(req, 0, sizeof(*req));
    ssize_t hlen = rf_kafka_header_decode(p, len, &req->hdr);
    if (hlen < 0) {
        return (int)hlen;
    }
    req->api = rf_kafka_api_find(req->hdr.RequestApiKey);
    if (req->api == NULL ||
        !rf_kafka_api_supports(req->api, req->hdr.RequestApiVersion)) {
        return RF_EUNSUPPORTED;
    }
    const struct rf_kmsg *msg = req->api->request;
    void *body = rf_arena_alloc(arena, msg->root->size);
    if (body == NULL) {
        return RF_ETOOBIG;
    }
    size_t rest = len - (size_t)hlen;
    ssize_t blen = rf_kmsg_decode(msg, req->hdr.RequestApiVersion,
                                  (const uint8_t *)p + hlen, rest, arena, lim,
                                  body);
    if (blen < 0) {
        return (int)blen;
    }
    /* Bytes after a well-formed body are ignored, as Kafka brokers do:
     * librdkafka 2.0.2's admin API sends some (ListGroups v4, OffsetFetch
     * v7). Every field was read within the frame's bounds. */
    req->trailing = rest - (size_t)blen;
    req->body = body;
    return 0;
}

/* Frame = int32 size, patched once the content is written. */
static size_t frame_begin(struct rf_wr *wr)
{
    size_t at = wr->len;
    rf_wr_i32(wr, 0);
    return at;
}

static int frame_end(struct rf_wr *wr, size_t at, int rc)
{
    size_t n = wr->len - at - 4;
    if (rc < 0) {
        wr->len = at; /* drop the partial frame */
        return rc;
    }
    if (n > (size_t)INT32_MAX) {
        wr->len = at;
        return RF_ETOOBIG;
    }
    rf_wr_put_i32_at(wr, at, (int32_t)n);
    return 0;
}

int rf_kafka_request_encode(const struct rf_RequestHeader *hdr,
                            const void *body, struct rf_wr *wr)
{
    const struct rf_kafka_api *api = rf_kafka_api_find(hdr->RequestApiKey);
    if (api == NULL) {
        return RF_ENOENT;
    }
    int16_t ver = hdr->RequestApiVersion;
    if (hdr->ClientId.len < -1 || hdr->ClientId.len > INT16_MAX) {
        return RF_EINVAL;
    }
    size_t at = frame_begin(wr);
    rf_wr_i16(wr, hdr->RequestApiKey);
    rf_wr_i16(wr, ver);
    rf_wr_i32(wr, hdr->CorrelationId);
    rf_wr_i16(wr, (int16_t)hdr->ClientId.len);
    if (hdr->ClientId.len > 0) {
        rf_wr_bytes(wr, hdr->ClientId.ptr, (size_t)hdr->ClientId.len);
    }
    if (rf_kafka_api_flexible(api, ver)) {
        rf_wr_u8(wr, 0); /* empty tag section */
    }
    return frame_end(wr, at, rf_kmsg_encode(api->request, ver, body, wr));
}

/* ApiVersions keeps response header v0 in every version (KIP-511), so a
 * client can read the error of a version it guessed too high. */
static bool response_header_flexible(const struct rf_kafka_api *api,
                                     int16_t ver)
{
    return api->ApiKey != RF_API_API_VERSIONS &&
           rf_kafka_api_flexible(api, ver);
}

int rf_kafka_response_encode(int16_t api_key, int16_t ver, int32_t corr_id,
                             const void *body, struct rf_wr *wr)
{
    const struct rf_kafka_api *api = rf_kafka_api_find(api_key);
    if (api == NULL) {
        return RF_ENOENT;
    }
    size_t at = frame_begin(wr);
    rf_wr_i32(wr, corr_id);
    if (response_header_flexible(api, ver)) {
        rf_wr_u8(wr, 0);
    }
    return frame_end(wr, at, rf_kmsg_encode(api->response, ver, body, wr));
}

int rf_kafka_response_decode(int16_t api_key, int16_t ver, const void *p,
                             size_t len, struct rf_arena *arena,
                             const struct rf_kafka_limits *lim,
                             int32_t *corr_id, void *body)
{
    const struct rf_kafka_api *api = rf_kafka_api_find(api_key);
    struct rf_rd rd;
    int rc;
    if (api == NULL) {
        return RF_ENOENT;
    }
    rf_rd_init(&rd, p, len);
    if ((rc = rf_rd_i32(&rd, corr_id)) < 0) {
        return rc;
    }
    if (response_header_flexible(api, ver) && (rc = skip_tags(&rd)) < 0) {
        return rc;
    }
    ssize_t n = rf_kmsg_decode(api->response, ver, (const uint8_t *)p + rd.off,
                               len - rd.off, arena, lim, body);
    if (n < 0) {
        return (int)n;
    }
    return (size_t)n == len - rd.off ? 0 : RF_EPARSE;
}

int rf_kafka_api_versions_unsupported(int32_t corr_id, struct rf_wr *wr)
{
    const struct rf_kafka_api *api = rf_kafka_api_find(RF_API_API_VERSIONS);
    struct rf_ApiVersionsResponse_ApiVersion key = {
        .ApiKey = RF_API_API_VERSIONS,
        .MinVersion = api->MinVersion,
        .MaxVersion = api->MaxVersion,
    };
    struct rf_ApiVersionsResponse resp;
    rf_ApiVersionsResponse_init(&resp, 0);
    resp.ErrorCode = RF_KERR_UNSUPPORTED_VERSION;
    resp.ApiKeys.items = &key;
    resp.ApiKeys.count = 1;
    return rf_kafka_response_encode(RF_API_API_VERSIONS, 0, corr_id, &resp,
                                    wr);
}
