/* server.c: Kafka request lifecycle: decode a frame into an rf_kreq,
 * dispatch it by ApiKey, encode and send the handler's answer.
 *
 * Happy path: rf_server_on_frame -> rf_kafka_request_decode (header and
 * body into the request's arena) -> handler -> rf_kreq_respond ->
 * rf_kafka_response_encode -> rf_kconn_respond (takes the frame) -> free.
 *
 * Failure modes: an ApiVersions request at a version we do not serve gets
 * the v0 UNSUPPORTED_VERSION answer (librdkafka and kafkajs then step
 * down); any other unknown key or version, or a body that does not decode,
 * closes the connection after a debug line (rate-limited by the peer's own
 * reconnect pace: one line per connection). */
#include "server.h"

#include <string.h>

#include "alloc.h"
#include "clock.h"
#include "err.h"
#include "kerr.h"
#include "log.h"
#include "obs.h"

/* Decoded structures are at most a small multiple of the frame; responses
 * (Metadata of many topics) need room too. */
#define ARENA_CHUNK (16u * 1024u)
#define ARENA_MAX (256u * 1024u * 1024u)

static void kreq_free(struct rf_kreq *r)
{
    rf_arena_close(&r->arena);
    rf_free(r);
}

void *rf_kreq_alloc(struct rf_kreq *r, size_t n)
{
    return rf_arena_alloc(&r->arena, n);
}

char *rf_kreq_strdup(struct rf_kreq *r, struct rf_kstr s)
{
    size_t n = s.len > 0 ? (size_t)s.len : 0;
    char *p = rf_arena_alloc(&r->arena, n + 1);
    if (p == NULL)
        return NULL;
    if (n > 0)
        memcpy(p, s.ptr, n);
    p[n] = '\0';
    return p;
}

static void log_request(const struct rf_kreq *r, const char *what)
{
    char cid[96];
    const struct rf_kstr *c = &r->req.hdr.ClientId;
    rf_log_escape(cid, sizeof cid, c->ptr, c->len > 0 ? (size_t)c->len : 0);
    RF_DEBUG("kafka request %s conn=%llu peer=%s api=%s/v%d corr=%d "
             "client_id=%s",
             what, (unsigned long long)rf_kconn_id(r->conn),
             rf_kconn_peer(r->conn), r->req.api ? r->req.api->name : "?",
             r->req.hdr.RequestApiVersion, r->req.hdr.CorrelationId, cid);
}

void rf_kreq_respond(struct rf_kreq *r, const void *body)
{
    struct rf_wr wr;
    const struct rf_RequestHeader *h = &r->req.hdr;
    int rv;
    if (r->b->obs != NULL)
        rf_obs_response(r->b->obs, r, body);
    rf_wr_init(&wr, 256);
    rv = rf_kafka_response_encode(h->RequestApiKey, h->RequestApiVersion,
                                  h->CorrelationId, body, &wr);
    if (rv != 0) {
        RF_ERROR("kafka response did not encode api=%s/v%d corr=%d err=%s",
                 r->req.api ? r->req.api->name : "?", h->RequestApiVersion,
                 h->CorrelationId, rf_err_name(rv));
        rf_wr_free(&wr);
        rf_kreq_close(r);
        return;
    }
    size_t len;
    uint8_t *frame = rf_wr_steal(&wr, &len);
    rf_kconn_respond(r->conn, frame, len);
    if (r->b->obs != NULL)
        rf_obs_done(r->b->obs, r);
    kreq_free(r);
}

void rf_kreq_pipeline(struct rf_kreq *r)
{
    rf_kconn_pipeline(r->conn);
}

void rf_kreq_no_response(struct rf_kreq *r)
{
    rf_kconn_done(r->conn);
    if (r->b->obs != NULL)
        rf_obs_done(r->b->obs, r);
    kreq_free(r);
}

void rf_kreq_close(struct rf_kreq *r)
{
    rf_kconn_close(r->conn);
    kreq_free(r);
}

static void dispatch(struct rf_kreq *r)
{
    switch (r->req.hdr.RequestApiKey) {
    case 0:
        rf_api_produce(r);
        return;
    case 1:
        rf_api_fetch(r);
        return;
    case 2:
        rf_api_list_offsets(r);
        return;
    case 3:
        rf_api_metadata(r);
        return;
    case 18:
        rf_api_api_versions(r);
        return;
    case 19:
        rf_api_create_topics(r);
        return;
    case 20:
        rf_api_delete_topics(r);
        return;
    case 32:
        rf_api_describe_configs(r);
        return;
    case 37:
        rf_api_create_partitions(r);
        return;
    case 8:
        rf_api_offset_commit(r);
        return;
    case 9:
        rf_api_offset_fetch(r);
        return;
    case 10:
        rf_api_find_coordinator(r);
        return;
    case 11:
        rf_api_join_group(r);
        return;
    case 12:
        rf_api_heartbeat(r);
        return;
    case 13:
        rf_api_leave_group(r);
        return;
    case 14:
        rf_api_sync_group(r);
        return;
    case 15:
        rf_api_describe_groups(r);
        return;
    case 16:
        rf_api_list_groups(r);
        return;
    case 42:
        rf_api_delete_groups(r);
        return;
    case 47:
        rf_api_offset_delete(r);
        return;
    default:
        /* In the codec's table but not served by this broker yet. */
        log_request(r, "for an API not served: closing");
        rf_kconn_close(r->conn);
        kreq_free(r);
        return;
    }
}

/* Whether the broker serves key: the advertised list (ApiVersions) is
 * exactly this set, so every advertised version really works. */
bool rf_server_serves(int16_t key)
{
    switch (key) {
    case 0:
    case 1:
    case 2:
    case 3:
    case 18:
    case 19:
    case 20:
    case 32:
    case 37:
    case 8:  /* group APIs: api_group.c */
    case 9:
    case 10:
    case 11:
    case 12:
    case 13:
    case 14:
    case 15:
    case 16:
    case 42:
    case 47:
        return true;
    default:
        return false;
    }
}

static void answer_unsupported_api_versions(struct rf_kreq *r)
{
    struct rf_wr wr;
    size_t len;
    rf_wr_init(&wr, 64);
    if (rf_kafka_api_versions_unsupported(r->req.hdr.CorrelationId, &wr) !=
        0) {
        rf_wr_free(&wr);
        rf_kconn_close(r->conn);
        kreq_free(r);
        return;
    }
    uint8_t *frame = rf_wr_steal(&wr, &len);
    rf_kconn_respond(r->conn, frame, len);
    kreq_free(r);
}

void rf_server_on_frame(struct rf_kconn *conn, uint8_t *frame, size_t len,
                        void *data)
{
    struct rf_broker *b = data;
    struct rf_kreq *r = rf_calloc(1, sizeof *r);
    int rv;
    r->b = b;
    r->conn = conn;
    r->start_ns = rf_clock_mono_ns();
    rf_arena_init(&r->arena, ARENA_CHUNK, ARENA_MAX);
    rv = rf_kafka_request_decode(frame, len, &r->arena, &b->limits, &r->req);
    if (rv == RF_EUNSUPPORTED && r->req.hdr.RequestApiKey == 18) {
        answer_unsupported_api_versions(r);
        return;
    }
    if (rv != 0 || !rf_server_serves(r->req.hdr.RequestApiKey)) {
        log_request(r, rv != 0 ? rf_err_name(rv) : "for an API not served");
        rf_kconn_close(conn);
        kreq_free(r);
        return;
    }
    log_request(r, "received");
    if (r->req.trailing > 0)
        RF_DEBUG("kafka request conn=%llu: %zu byte(s) after the body "
                 "ignored", (unsigned long long)rf_kconn_id(conn),
                 r->req.trailing);
    if (b->obs != NULL)
        rf_obs_request(b->obs, r);
    dispatch(r);
}
