/* rpc.h: Riffle's internal RPC over libuv TCP: frames of a u32 big-endian
 * length plus one packed riffle.Envelope (proto/rpc.proto).
 *
 * Happy path: a server accepts connections, reads frames, unpacks each into
 * an Envelope and hands it to the handler as a call; the handler answers now
 * or later with rf_rpc_reply(). Many calls may be outstanding per connection
 * (a broker long-polls metadata while it heartbeats); replies carry the
 * request's correlation id and may go out in any order. A client keeps one
 * connection to one endpoint, reconnecting with capped, jittered backoff;
 * every call has a timeout.
 *
 * Failure modes: a frame longer than max_frame (checked before anything is
 * allocated), shorter than 1 byte, or that does not unpack closes that
 * connection with a log line naming the peer; other connections and calls are
 * unaffected. A call whose connection dies gets RF_ECLOSED; one not answered
 * in time gets RF_ETIMEDOUT; closing the client cancels the rest with
 * RF_ECANCELED. */
#ifndef RF_RPC_H
#define RF_RPC_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "rpc.pb-c.h"

#define RF_RPC_MAX_FRAME_DEFAULT (64u * 1024u * 1024u)

struct rf_rpc_server;
struct rf_rpc_call;
struct rf_rpc_client;

/* ---- server ---- */

/* req is owned by the call (freed when the call is answered or dropped);
 * the handler must eventually call rf_rpc_reply() or rf_rpc_call_drop(). */
typedef void (*rf_rpc_handler_cb)(struct rf_rpc_server *srv,
                                  struct rf_rpc_call *call,
                                  const Riffle__Envelope *req);

struct rf_rpc_server_opts {
    uint32_t max_frame;        /* 0: RF_RPC_MAX_FRAME_DEFAULT; max 1 GiB */
    uint32_t max_connections;  /* 0: 1024; more are accepted and closed */
    uint32_t idle_timeout_ms;  /* 0: none. Idle = nothing received and no
                                * call unanswered or reply unsent */
    /* Optional: an accepted connection closed (the peer left, failed, or
     * was cut off), not at rf_rpc_server_close. Runs inside the
     * connection's teardown: it may note the fact, not close the server. */
    void (*on_conn_closed)(struct rf_rpc_server *srv, uint64_t conn_id);
};

/* Bind and listen on host:port (port 0 picks a free one; see
 * rf_rpc_server_port). host is an IPv4/IPv6 literal or a name (resolved once,
 * synchronously). Returns owned server; free with rf_rpc_server_close. On
 * failure returns a negative RF_E* with errmsg set and *out untouched; the
 * loop must still run once to release the listener handle. Ignores SIGPIPE
 * if its action is still the default (writes to a vanished peer raise it). */
int rf_rpc_server_start(uv_loop_t *loop, const char *host, uint16_t port,
                        const struct rf_rpc_server_opts *opts,
                        rf_rpc_handler_cb handler, void *data,
                        struct rf_rpc_server **out, char *errmsg);
uint16_t rf_rpc_server_port(const struct rf_rpc_server *srv);
void *rf_rpc_server_data(const struct rf_rpc_server *srv);
/* Stop listening, close every connection. Pending calls stay valid objects
 * until answered or dropped (their replies then go nowhere). cb may be NULL;
 * it runs once every handle is closed. May be called from the handler. */
void rf_rpc_server_close(struct rf_rpc_server *srv,
                         void (*cb)(void *data), void *data);

/* Answer a call: resp is borrowed (packed at once); its correlation_id is
 * overwritten with the request's. Frees the call. A reply packing larger
 * than max_frame is logged and replaced by an `error` Status
 * (UNKNOWN_SERVER_ERROR). If the peer stops reading its replies, the
 * connection stops reading requests until they drain. */
void rf_rpc_reply(struct rf_rpc_call *call, Riffle__Envelope *resp);
/* Free a call without answering. */
void rf_rpc_call_drop(struct rf_rpc_call *call);
/* False once the call's connection is gone (a reply would go nowhere). */
bool rf_rpc_call_alive(const struct rf_rpc_call *call);
/* "ip:port" of the caller, for logs. */
const char *rf_rpc_call_peer(const struct rf_rpc_call *call);
/* The id of the connection the call came on: unique per server, never 0
 * (see on_conn_closed). */
uint64_t rf_rpc_call_conn_id(const struct rf_rpc_call *call);
/* A free pointer for the handler's use. */
void rf_rpc_call_set_data(struct rf_rpc_call *call, void *data);
void *rf_rpc_call_get_data(const struct rf_rpc_call *call);

/* ---- client ---- */

/* status 0 with resp (borrowed, valid during the callback only), or a
 * negative RF_E* with resp NULL: RF_ETIMEDOUT, RF_ECLOSED (the connection
 * dropped after the call was queued on it), RF_ECONNECT (the connect attempt
 * it waited for failed), RF_ECANCELED (client closed), RF_ETOOBIG (req packs
 * larger than max_frame). A response may be an Envelope with `error` set
 * (e.g. the server's reply exceeded its frame limit). */
typedef void (*rf_rpc_response_cb)(void *data, int status,
                                   const Riffle__Envelope *resp);

struct rf_rpc_client_opts {
    uint32_t max_frame;          /* 0: RF_RPC_MAX_FRAME_DEFAULT; max 1 GiB */
    uint32_t connect_timeout_ms; /* 0: 2000 (resolve + connect) */
    uint32_t backoff_min_ms;     /* 0: 50 */
    uint32_t backoff_max_ms;     /* 0: 2000; jittered within +-20% */
};

/* Create a client for host:port (IPv4 literal or name resolved with
 * uv_getaddrinfo). Connects lazily on the first call and reconnects after a
 * failure. Returns owned client; free with rf_rpc_client_close. */
int rf_rpc_client_new(uv_loop_t *loop, const char *host, uint16_t port,
                      const struct rf_rpc_client_opts *opts,
                      struct rf_rpc_client **out);
/* Send req (borrowed; packed at once, correlation id set by the client).
 * timeout_ms counts from now (0: 30 s) and covers connecting too. The
 * callback always fires exactly once, never inside this call. Returns 0,
 * or RF_ESHUTDOWN if the client is closing (then cb never fires). */
int rf_rpc_call(struct rf_rpc_client *c, Riffle__Envelope *req,
                uint32_t timeout_ms, rf_rpc_response_cb cb, void *data);
/* Cancel every pending call (RF_ECANCELED), close the connection, free the
 * client once its handles are closed, then call cb (may be NULL). The
 * RF_ECANCELED callbacks run from the loop after this returns, just before
 * cb; rf_rpc_call() on a closing client returns RF_ESHUTDOWN. Call once. */
void rf_rpc_client_close(struct rf_rpc_client *c, void (*cb)(void *data),
                         void *data);
bool rf_rpc_client_connected(const struct rf_rpc_client *c);

#endif
