/* obs.h: the broker's observability: its metrics registry, the per-request
 * instrumentation the front-end calls, the collectors that read broker
 * state at scrape time, and the HTTP endpoint (metrics.listener) serving
 * /metrics, /healthz and /readyz (docs/metrics.md).
 *
 * Happy path: main.c creates it (rf_obs_new) before the modules start, so
 * they can register their series (flusher, replication); server.c counts
 * each decoded request (rf_obs_request), the Fetch bytes it answers
 * (rf_obs_response) and the request's latency once its answer is queued
 * (rf_obs_done); rf_obs_listen starts the endpoint.
 *
 * Failure modes: a listener that cannot bind is a start-up error (errmsg);
 * collectors tolerate modules already closed during shutdown (NULL
 * pointers in struct rf_broker). Loop thread only. */
#ifndef RF_OBS_H
#define RF_OBS_H

#include <stdint.h>

#include "metrics.h"
#include "server.h"

struct rf_obs;
struct rf_repl;

/* Returns owned; b is borrowed and must outlive it. Free with rf_obs_free
 * once the loop has stopped (after rf_obs_stop). */
struct rf_obs *rf_obs_new(struct rf_broker *b);
void rf_obs_free(struct rf_obs *o);
/* The registry, for modules that keep their own series. */
struct rf_metrics *rf_obs_registry(struct rf_obs *o);

/* Serve HTTP on host:port (IPv4 literal). Logs the bound address.
 * Errors: rf_http_start's, errmsg set. */
int rf_obs_listen(struct rf_obs *o, const char *host, uint16_t port,
                  char *errmsg);
/* Close the HTTP listener if any (its handles close on the loop). */
void rf_obs_stop(struct rf_obs *o);

/* A request decoded and about to be dispatched (served ApiKey). Counts
 * it, and for Produce the record bytes per existing topic. */
void rf_obs_request(struct rf_obs *o, const struct rf_kreq *r);
/* Its answer body, before encoding: Fetch record bytes per topic. */
void rf_obs_response(struct rf_obs *o, const struct rf_kreq *r,
                     const void *body);
/* Its answer was queued (or it needs none): latency since the frame
 * arrived. */
void rf_obs_done(struct rf_obs *o, const struct rf_kreq *r);

/* Whether the broker is ready for traffic: NULL, or why not (static). */
const char *rf_obs_not_ready(const struct rf_broker *b);

#endif
