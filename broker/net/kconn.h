/* kconn.h: the broker's Kafka listener: TCP connections carrying
 * size-prefixed Kafka frames, answered in request order.
 *
 * Happy path: the listener accepts a connection, reads a 4-byte big-endian
 * size, checks it against max_frame and the smallest possible request header
 * BEFORE allocating, reads the frame and hands it to the request callback as
 * a struct rf_kconn (one per request). Reading stops until the handler
 * answers with rf_kconn_respond() (or rf_kconn_done() for a request that
 * gets no response, such as a Produce with acks=0), unless the handler calls
 * rf_kconn_pipeline(): then later requests are read and handled while it
 * waits (at most 64 requests or 64 MiB of frames per connection). Responses
 * leave in request order, as Kafka clients require, whatever order the
 * handlers answer in; a slow handler pushes back on its client only.
 *
 * Failure modes: a size below the minimum header or above max_frame, a peer
 * that sends nothing for idle_timeout_ms between requests, or that takes
 * longer than partial_timeout_ms to deliver a started frame, is closed with a
 * log line naming it. Connections over max_connections are closed at accept.
 * A connection closed while its request is with the handler stays valid
 * until the handler answers (rf_kconn_alive() tells); the answer is then
 * dropped. */
#ifndef RF_KCONN_H
#define RF_KCONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

/* api_key int16 + api_version int16 + correlation_id int32 + client_id
 * length int16: the smallest valid Kafka request header. */
#define RF_KCONN_MIN_FRAME 10u

struct rf_klistener;
struct rf_kconn;

struct rf_klistener_opts {
    uint32_t max_frame;          /* socket.request.max.bytes (0: 100 MiB) */
    uint32_t max_connections;    /* 0: 10000 */
    uint32_t idle_timeout_ms;    /* connections.max.idle.ms (0: 600000) */
    uint32_t partial_timeout_ms; /* a started frame must arrive within (0: 30000) */
};

/* conn is the request (its connection's peer and id are reached through
 * it); frame is the request without its size prefix, owned by the listener
 * and valid until the handler answers. */
typedef void (*rf_kconn_request_cb)(struct rf_kconn *conn, uint8_t *frame,
                                    size_t len, void *data);

/* Listen on host:port (port 0: any free port, see rf_klistener_port).
 * Returns an owned listener; free with rf_klistener_close. */
int rf_klistener_start(uv_loop_t *loop, const char *host, uint16_t port,
                       const struct rf_klistener_opts *opts,
                       rf_kconn_request_cb cb, void *data,
                       struct rf_klistener **out, char *errmsg);
uint16_t rf_klistener_port(const struct rf_klistener *l);
uint32_t rf_klistener_connections(const struct rf_klistener *l);
/* Connections accepted since the listener started (refused ones excluded). */
uint64_t rf_klistener_accepted(const struct rf_klistener *l);
/* Stop accepting, then end every connection gracefully: no new request is
 * read, requests already with their handlers are still answered, queued
 * answers are written out, then the connections close. Whatever is still
 * busy after drain_ms is closed at once (drain_ms 0: close everything now).
 * cb (may be NULL) runs once every handle is closed. */
void rf_klistener_close(struct rf_klistener *l, uint32_t drain_ms,
                        void (*cb)(void *data), void *data);

/* Answer the request: frame (len bytes: the 4-byte big-endian size, then
 * the response) is taken: the connection frees it with rf_free on every
 * path. It is written once every earlier request is answered; the request
 * is gone after this call. A frame whose size prefix does not match len
 * closes the connection (a bug, never sent). */
void rf_kconn_respond(struct rf_kconn *conn, uint8_t *frame, size_t len);
/* Finish the request without a response. */
void rf_kconn_done(struct rf_kconn *conn);
/* Answer nothing and close the connection (malformed request). */
void rf_kconn_close(struct rf_kconn *conn);
/* The handler keeps the request but lets the connection read and hand over
 * the next ones meanwhile (a Produce waiting for acks: appends stay in
 * arrival order because handlers start in that order). Never dispatches
 * from inside this call. */
void rf_kconn_pipeline(struct rf_kconn *conn);
bool rf_kconn_alive(const struct rf_kconn *conn);
/* "ip:port" of the peer, for logs. */
const char *rf_kconn_peer(const struct rf_kconn *conn);
uint64_t rf_kconn_id(const struct rf_kconn *conn);

#endif
