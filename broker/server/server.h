/* server.h: the broker's Kafka front-end: one rf_kreq per request in flight,
 * dispatched by ApiKey to one handler per API (api_<name>.c).
 *
 * Happy path: the listener hands a frame to rf_server_on_frame(), which
 * decodes header and body into the request's arena (broker/kafka codec) and
 * calls the API's handler. A handler builds its response body in the arena
 * and calls rf_kreq_respond() now or later (long polls, acks=all waits), or
 * rf_kreq_no_response() (Produce with acks=0).
 *
 * Failure modes: an unknown ApiKey or a version we do not advertise closes
 * the connection (Kafka does the same) except ApiVersions, which is answered
 * with UNSUPPORTED_VERSION; a body that does not decode closes the
 * connection with a debug log line. A handler whose connection died still
 * answers: the answer is dropped (rf_kconn_alive). */
#ifndef RF_SERVER_H
#define RF_SERVER_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "arena.h"
#include "config.h"
#include "header.h"
#include "controller.pb-c.h"
#include "kconn.h"

struct rf_broker;
struct rf_parts;

/* One request in flight; owned by the front-end, freed by respond. */
struct rf_kreq {
    struct rf_broker *b;
    struct rf_kconn *conn;
    struct rf_arena arena;  /* every decode and response allocation */
    struct rf_kafka_req req; /* hdr, api, body (struct rf_<Api>Request) */
    uint64_t start_ns;
    void *data;             /* free for the handler (waiter lists etc.) */
};

/* Send body (struct rf_<Api>Response for this request's version, usually in
 * r->arena) and free r. Encoding failures close the connection. */
void rf_kreq_respond(struct rf_kreq *r, const void *body);
/* Finish r without a response, and free it. */
void rf_kreq_no_response(struct rf_kreq *r);
/* r waits (its handler answers later): let its connection's next requests
 * be read and handled meanwhile; answers still leave in request order. */
void rf_kreq_pipeline(struct rf_kreq *r);
/* Answer nothing, close the connection (malformed request), free r. */
void rf_kreq_close(struct rf_kreq *r);
/* Arena allocation that aborts the request cleanly on exhaustion is not
 * possible in C: rf_kreq_alloc returns zeroed memory or NULL (arena cap);
 * handlers answer with an error code or close on NULL. */
void *rf_kreq_alloc(struct rf_kreq *r, size_t n);
/* A NUL-terminated copy of a Kafka string in the arena ("" for null). */
char *rf_kreq_strdup(struct rf_kreq *r, struct rf_kstr s);

/* The broker: everything the handlers reach. Owned by main.c. */
struct rf_broker {
    uv_loop_t *loop;
    struct rf_broker_conf *conf;
    int32_t id;
    struct rf_bmeta *bmeta;
    struct rf_parts *parts;
    struct rf_klistener *listener;
    struct rf_flusher *flusher;
    struct rf_kafka_limits limits;
    char cluster_id[32]; /* Kafka base64 form, "" until known */
    bool shutting_down;
    struct rf_group_srv *group; /* group coordinator (api_group.c) */
    struct rf_obs *obs;         /* metrics (obs.h); NULL: none */
};

/* The handler of each API; api_<name>.c defines them. */
void rf_api_api_versions(struct rf_kreq *r);
void rf_api_metadata(struct rf_kreq *r);
void rf_api_produce(struct rf_kreq *r);
void rf_api_fetch(struct rf_kreq *r);
void rf_api_list_offsets(struct rf_kreq *r);
void rf_api_create_topics(struct rf_kreq *r);
void rf_api_delete_topics(struct rf_kreq *r);
void rf_api_create_partitions(struct rf_kreq *r);
void rf_api_describe_configs(struct rf_kreq *r);
void rf_api_find_coordinator(struct rf_kreq *r);
void rf_api_join_group(struct rf_kreq *r);
void rf_api_sync_group(struct rf_kreq *r);
void rf_api_heartbeat(struct rf_kreq *r);
void rf_api_leave_group(struct rf_kreq *r);
void rf_api_offset_commit(struct rf_kreq *r);
void rf_api_offset_fetch(struct rf_kreq *r);
void rf_api_describe_groups(struct rf_kreq *r);
void rf_api_list_groups(struct rf_kreq *r);
void rf_api_delete_groups(struct rf_kreq *r);
void rf_api_offset_delete(struct rf_kreq *r);
/* Start the group coordinator (b->group) / stop it: held group requests
 * are answered NOT_COORDINATOR; later group requests get
 * NOT_COORDINATOR / COORDINATOR_NOT_AVAILABLE. Stop before freeing
 * b->parts. */
void rf_api_group_start(struct rf_broker *b);
void rf_api_group_stop(struct rf_broker *b);

/* A controller ErrorCode as a Kafka ErrorCode (admin results). */
int16_t rf_server_kafka_code(Riffle__ErrorCode code);

/* Whether this broker serves ApiKey key (advertised in ApiVersions). */
bool rf_server_serves(int16_t key);

/* The listener's frame callback (data is the struct rf_broker). */
void rf_server_on_frame(struct rf_kconn *conn, uint8_t *frame, size_t len,
                        void *data);

#endif
