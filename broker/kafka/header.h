/* header.h: Kafka request/response headers and whole-request decoding on
 * top of the API table (header v1/v2, response header v0/v1). */
#ifndef RF_KAFKA_HEADER_H
#define RF_KAFKA_HEADER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "api_table.h"
#include "codec.h"

/* Request header v1, or v2 (adds a tag section) for flexible versions.
 * ClientId stays a classic nullable string even in v2. */
struct rf_RequestHeader {
    int16_t RequestApiKey;
    int16_t RequestApiVersion;
    int32_t CorrelationId;
    struct rf_kstr ClientId; /* points into the frame; len -1 = null */
};

/* A decoded request: everything points into the frame or the arena. */
struct rf_kafka_req {
    struct rf_RequestHeader hdr;
    const struct rf_kafka_api *api; /* NULL for an unknown ApiKey */
    void *body; /* struct rf_<Api>Request in the arena, NULL on failure */
    size_t trailing; /* bytes after the body, ignored */
};

/* Decode the request header at the start of a frame body (the bytes after
 * the size). The header version follows the API table; an unknown ApiKey is
 * read as v1. Returns bytes consumed, RF_ETRUNC or RF_EPARSE. */
ssize_t rf_kafka_header_decode(const void *p, size_t len,
                               struct rf_RequestHeader *hdr);

/* Decode header and body of one frame body p[0..len). req->hdr is filled
 * whenever the header parsed, so the caller can answer by CorrelationId.
 * Errors: RF_EUNSUPPORTED (unknown ApiKey: req->api NULL; or a version
 * outside the advertised range: req->api set), RF_ETRUNC, RF_EPARSE
 * (malformed, or bytes left after the body), RF_ETOOBIG (limits/arena). */
int rf_kafka_request_decode(const void *p, size_t len, struct rf_arena *arena,
                            const struct rf_kafka_limits *lim,
                            struct rf_kafka_req *req);

/* Append a whole size-prefixed request frame (header + body of
 * hdr->RequestApiVersion) to wr: for tools and tests that speak Kafka.
 * RF_ENOENT for an unknown key, else as rf_kmsg_encode(). */
int rf_kafka_request_encode(const struct rf_RequestHeader *hdr,
                            const void *body, struct rf_wr *wr);

/* Append a whole size-prefixed response frame: header v0 (v1 when the
 * version is flexible, except ApiVersions, always v0) then body. */
int rf_kafka_response_encode(int16_t api_key, int16_t ver, int32_t corr_id,
                             const void *body, struct rf_wr *wr);

/* Decode a response frame body (after the size) of api_key/ver into body;
 * *corr_id gets the CorrelationId. Trailing bytes are RF_EPARSE. */
int rf_kafka_response_decode(int16_t api_key, int16_t ver, const void *p,
                             size_t len, struct rf_arena *arena,
                             const struct rf_kafka_limits *lim,
                             int32_t *corr_id, void *body);

/* The answer to an ApiVersions request whose version we do not serve: a v0
 * response with UNSUPPORTED_VERSION and only our ApiVersions range, so
 * librdkafka retries with v0 and kafkajs steps down (notes §5). */
int rf_kafka_api_versions_unsupported(int32_t corr_id, struct rf_wr *wr);

#endif
