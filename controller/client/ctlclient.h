/* ctlclient.h: controller RPC client that finds the active controller,
 * follows NOT_CONTROLLER hints and retries within a deadline; plus a
 * blocking wrapper with a private loop for tools.
 *
 * Happy path: rf_ctlclient_call() packs the request once, sends it to the
 * endpoint that last answered as active controller (the first one at start)
 * and hands the answer to the callback.
 *
 * Failure modes: an answer whose Status (or generic Envelope.error) says
 * NOT_CONTROLLER moves to the hinted leader_rpc endpoint (added to the list
 * when new), or to the next endpoint when there is no hint. OUTCOME_UNKNOWN,
 * SHUTTING_DOWN and transport failures (RF_ECLOSED, RF_ECONNECT,
 * RF_ETIMEDOUT) retry the next endpoint after a capped, jittered exponential
 * backoff. The same packed bytes (same request_id) go out on every attempt.
 * When the deadline passes, the callback gets the last failure: the
 * transport code, RF_ENOTCONTROLLER, or RF_ETIMEDOUT for OUTCOME_UNKNOWN.
 * Any other answer, success or not, is the caller's to interpret. */
#ifndef RF_CTLCLIENT_H
#define RF_CTLCLIENT_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "net.h"
#include "rpc.pb-c.h"

#define RF_CTLCLIENT_MAX_ENDPOINTS 64

struct rf_ctlclient;

struct rf_ctlclient_opts {
    uint32_t attempt_timeout_ms; /* per attempt; 0: 3000 */
    uint32_t connect_timeout_ms; /* 0: 1000 */
    uint32_t backoff_min_ms;     /* 0: 50 */
    uint32_t backoff_max_ms;     /* 0: 1000; jittered within +-20% */
};

/* status 0 with resp (borrowed, valid during the callback only: its Status
 * may still carry a non-retriable error code), or a negative RF_E* with resp
 * NULL (deadline passed: last failure; RF_ECANCELED on close). */
typedef void (*rf_ctlclient_cb)(void *data,
                                int status,
                                const Riffle__Envelope *resp);

/* Create a client over eps[0..n) (borrowed, copied; 1 <= n <=
 * RF_CTLCLIENT_MAX_ENDPOINTS). opts may be NULL. Returns owned client; free
 * with rf_ctlclient_close(). Errors: RF_EINVAL. */
int rf_ctlclient_new(uv_loop_t *loop,
                     const struct rf_hostport *eps,
                     int n,
                     const struct rf_ctlclient_opts *opts,
                     struct rf_ctlclient **out);

/* Add an endpoint (or find it when known); returns its index (>= 0) or
 * RF_ERANGE when the list is full. */
int rf_ctlclient_add_endpoint(struct rf_ctlclient *cc,
                              const char *host,
                              uint16_t port);
int rf_ctlclient_endpoint_count(const struct rf_ctlclient *cc);
/* "host:port" of endpoint i; valid while the client lives. */
const char *rf_ctlclient_endpoint_name(const struct rf_ctlclient *cc, int i);

/* Send req (borrowed: packed at once) to the active controller and retry as
 * described above until deadline_ms from now. target >= 0 pins the call to
 * that endpoint index (for per-node requests such as NodeStatus): no hint
 * following, transport failures retried on the same endpoint. The callback
 * fires exactly once, never inside this call. Errors (then cb never fires):
 * RF_EINVAL (bad target), RF_ESHUTDOWN (client closing). */
int rf_ctlclient_call(struct rf_ctlclient *cc,
                      const Riffle__Envelope *req,
                      int target,
                      uint32_t deadline_ms,
                      rf_ctlclient_cb cb,
                      void *data);

/* Fail every pending call with RF_ECANCELED (their callbacks may run inside
 * this call), close every connection, free the client once its handles are
 * closed, then call cb (may be NULL). */
void rf_ctlclient_close(struct rf_ctlclient *cc,
                        void (*cb)(void *data),
                        void *data);

/* The Status of a controller response (its status field, or the generic
 * Envelope.error); NULL when the body has none. Borrowed from resp. */
const Riffle__Status *rf_ctlclient_status(const Riffle__Envelope *resp);

/* ---- blocking wrapper for tools ---- */

struct rf_ctlsync;

/* A client on a private uv loop. Returns owned; free with
 * rf_ctlsync_close(). Errors: RF_EINVAL, RF_EIO (loop init). */
int rf_ctlsync_open(const struct rf_hostport *eps,
                    int n,
                    const struct rf_ctlclient_opts *opts,
                    struct rf_ctlsync **out);
/* The async client inside (to add endpoints). */
struct rf_ctlclient *rf_ctlsync_client(struct rf_ctlsync *s);

/* One request in a batch: req and target are inputs (as rf_ctlclient_call);
 * status and resp are outputs. resp is returned owned; free with
 * riffle__envelope__free_unpacked(resp, NULL). */
struct rf_ctlsync_op {
    const Riffle__Envelope *req; /* borrowed */
    int target;                  /* -1: active controller */
    int status;                  /* 0 or negative RF_E* */
    Riffle__Envelope *resp;      /* owned by the caller when set */
};

/* Run ops[0..n) concurrently until each completes or deadline_ms passes.
 * Returns 0 (look at each op's status) or RF_EINVAL. */
int rf_ctlsync_run(struct rf_ctlsync *s,
                   struct rf_ctlsync_op *ops,
                   int n,
                   uint32_t deadline_ms);
/* One request to the active controller; *resp returned owned as above. */
int rf_ctlsync_call(struct rf_ctlsync *s,
                    const Riffle__Envelope *req,
                    uint32_t deadline_ms,
                    Riffle__Envelope **resp);
/* Close the client, drain and close the loop, free s. */
void rf_ctlsync_close(struct rf_ctlsync *s);

#endif
