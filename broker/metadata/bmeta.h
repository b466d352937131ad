/* bmeta.h: the broker's side of the controller quorum: registration,
 * heartbeats, the FetchMetadata long-poll into a local metadata image, and
 * controlled shutdown.
 *
 * Happy path: rf_bmeta_start() registers (a fresh incarnation id, a new
 * broker epoch), then keeps one FetchMetadata long-poll outstanding and
 * applies what it returns (deltas, or a whole image when far behind) to a
 * local rf_meta image, calling change_cb after each batch; a heartbeat
 * timer reports the applied offset, and the controller unfences the broker
 * once it has caught up.
 *
 * Failure modes: controllers unreachable -> the controller client retries
 * and follows the active controller; a heartbeat answered STALE_BROKER_EPOCH,
 * UNKNOWN_BROKER or FENCED_BROKER with should_shutdown -> register again
 * (new epoch); a FetchMetadata answer that cannot be applied -> fetch the
 * whole image. The image only ever moves forward. */
#ifndef RF_BMETA_H
#define RF_BMETA_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "ctlclient.h"
#include "meta.h"
#include "net.h"

struct rf_bmeta;

struct rf_bmeta_opts {
    int32_t broker_id;
    const struct rf_hostport *controllers; /* borrowed, copied */
    int n_controllers;
    const Riffle__Endpoint *const *endpoints; /* advertised; copied */
    size_t n_endpoints;
    const char *rack;               /* may be NULL */
    uint32_t heartbeat_interval_ms; /* broker.heartbeat.interval.ms */
    uint32_t fetch_max_wait_ms;     /* long-poll hold, 0: 5000 */
};

/* Called on the loop after the image moved from old_offset to its current
 * offset (img borrowed for the call). */
typedef void (*rf_bmeta_change_cb)(void *data, const struct rf_meta_image *img,
                                   int64_t old_offset);

/* Start registering and following metadata. Returns owned; free with
 * rf_bmeta_close(). Errors: RF_EINVAL (bad options). */
int rf_bmeta_start(uv_loop_t *loop, const struct rf_bmeta_opts *opts,
                   rf_bmeta_change_cb cb, void *data, struct rf_bmeta **out);

const struct rf_meta_image *rf_bmeta_image(const struct rf_bmeta *bm);
/* 0 until registered. */
int64_t rf_bmeta_epoch(const struct rf_bmeta *bm);
/* True until a heartbeat answer said unfenced. */
bool rf_bmeta_fenced(const struct rf_bmeta *bm);
/* What the last heartbeat answer said: the controller saw this broker's
 * metadata offset caught up with the log (false until then). */
bool rf_bmeta_caught_up(const struct rf_bmeta *bm);
/* The controller client, for forwarding admin requests. */
struct rf_ctlclient *rf_bmeta_client(struct rf_bmeta *bm);

/* Ask for controlled shutdown and repeat until the controller reports no
 * leaderships left or timeout_ms passes; then cb(data, 0 or RF_ETIMEDOUT). */
void rf_bmeta_controlled_shutdown(struct rf_bmeta *bm, uint32_t timeout_ms,
                                  void (*cb)(void *data, int status),
                                  void *data);

/* Stop timers and polls, close the controller client, free bm, then cb
 * (may be NULL). */
void rf_bmeta_close(struct rf_bmeta *bm, void (*cb)(void *data), void *data);

#endif
