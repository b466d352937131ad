/* http.h: a small HTTP endpoint for /metrics and health checks, built on
 * libmicrohttpd in external-epoll mode and driven by the libuv loop: its
 * epoll fd is watched with a uv_poll_t and its timeouts with a uv_timer_t,
 * so request handlers run on the loop thread and may read loop-owned state
 * (the metrics registry, readiness) without locks. No HTTP parsing of ours.
 *
 * Only GET and HEAD are served; anything else gets 405. Connections are
 * capped (64) and time out (10 s). */
#ifndef RF_HTTP_H
#define RF_HTTP_H

#include <stdint.h>
#include <uv.h>

#include "buf.h"

struct rf_http;

/* Fill body (growable writer, empty on entry) for path ("/metrics") and
 * return the HTTP status. *content_type may be set (default text/plain). */
typedef int (*rf_http_handler_cb)(void *data, const char *path,
                                  struct rf_wr *body,
                                  const char **content_type);

/* Listen on host:port (IPv4 literal; port 0 picks a free port). Returns an
 * owned endpoint; close with rf_http_close. errmsg on failure. */
int rf_http_start(uv_loop_t *loop, const char *host, uint16_t port,
                  rf_http_handler_cb cb, void *data, struct rf_http **out,
                  char *errmsg);
uint16_t rf_http_port(const struct rf_http *h);
/* Stop serving, free everything once the loop handles are closed, then cb
 * (may be NULL). */
void rf_http_close(struct rf_http *h, void (*cb)(void *data), void *data);

#endif
