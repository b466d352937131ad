/* http.c: libmicrohttpd on the libuv loop (external epoll mode).
 *
 * Happy path: MHD owns the listening socket and its connections; its epoll
 * fd becomes readable -> MHD_run() accepts, reads and answers (calling our
 * access handler, which renders the body at once) -> the next MHD timeout
 * is armed on a uv timer.
 *
 * Failure modes: start errors (bind) are reported with errmsg; a handler
 * that cannot build a response makes MHD close that connection. */
#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "err.h"
#include "log.h"

struct rf_http {
    struct MHD_Daemon *d;
    uv_poll_t poll;
    uv_timer_t timer;
    int open_handles;
    rf_http_handler_cb cb;
    void *data;
    uint16_t port;
    void (*close_cb)(void *data);
    void *close_data;
};

static void arm_timer(struct rf_http *h);

static void drive(struct rf_http *h)
{
    MHD_run(h->d);
    arm_timer(h);
}

static void on_timer(uv_timer_t *t)
{
    drive(t->data);
}

static void arm_timer(struct rf_http *h)
{
    MHD_UNSIGNED_LONG_LONG ms;
    if (MHD_get_timeout(h->d, &ms) == MHD_YES)
        uv_timer_start(&h->timer, on_timer, (uint64_t)ms, 0);
    else
        uv_timer_stop(&h->timer);
}

static void on_poll(uv_poll_t *p, int status, int events)
{
    (void)status;
    (void)events;
    drive(p->data);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
                                  const char *url, const char *method,
                                  const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    struct rf_http *h = cls;
    struct rf_wr body;
    const char *ctype = "text/plain; charset=utf-8";
    struct MHD_Response *resp;
    enum MHD_Result rv;
    size_t len;
    uint8_t *buf;
    int status;
    (void)version;
    (void)upload;
    (void)upload_size;
    (void)con_cls;
    rf_wr_init(&body, 256);
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        status = MHD_HTTP_METHOD_NOT_ALLOWED;
        rf_wr_bytes(&body, "method not allowed\n", 19);
    } else {
        status = h->cb(h->data, url, &body, &ctype);
    }
    buf = rf_wr_steal(&body, &len);
    /* MHD frees the buffer with free(): rf_malloc is malloc. */
    resp = MHD_create_response_from_buffer(len, buf ? buf : rf_malloc(1),
                                           MHD_RESPMEM_MUST_FREE);
    if (resp == NULL)
        return MHD_NO;
    MHD_add_response_header(resp, "Content-Type", ctype);
    rv = MHD_queue_response(conn, (unsigned)status, resp);
    MHD_destroy_response(resp);
    return rv;
}

int rf_http_start(uv_loop_t *loop, const char *host, uint16_t port,
                  rf_http_handler_cb cb, void *data, struct rf_http **out,
                  char *errmsg)
{
    struct sockaddr_in addr;
    const union MHD_DaemonInfo *info;
    struct rf_http *h;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
        rf_errmsg_set(errmsg, "http listener %s:%u: not an IPv4 address",
                      host, port);
        return RF_EINVAL;
    }
    h = rf_calloc(1, sizeof *h);
    h->cb = cb;
    h->data = data;
    errno = 0;
    h->d = MHD_start_daemon(MHD_USE_EPOLL, port, NULL, NULL, on_request, h,
                            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned)64,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
                            MHD_OPTION_END);
    if (h->d == NULL) {
        rf_errmsg_set(errmsg, "http listener %s:%u: cannot listen%s%s",
                      host, port, errno != 0 ? ": " : "",
                      errno != 0 ? strerror(errno) : "");
        rf_free(h);
        return RF_EIO;
    }
    info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_EPOLL_FD);
    uv_poll_init(loop, &h->poll, info->epoll_fd);
    uv_timer_init(loop, &h->timer);
    h->poll.data = h->timer.data = h;
    h->open_handles = 2;
    info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
    h->port = info != NULL ? info->port : port;
    uv_poll_start(&h->poll, UV_READABLE, on_poll);
    arm_timer(h);
    *out = h;
    return 0;
}

uint16_t rf_http_port(const struct rf_http *h)
{
    return h->port;
}

static void handle_closed(uv_handle_t *handle)
{
    struct rf_http *h = handle->data;
    if (--h->open_handles > 0)
        return;
    void (*cb)(void *) = h->close_cb;
    void *data = h->close_data;
    rf_free(h);
    if (cb)
        cb(data);
}

void rf_http_close(struct rf_http *h, void (*cb)(void *data), void *data)
{
    h->close_cb = cb;
    h->close_data = data;
    uv_poll_stop(&h->poll);
    /* MHD closes its sockets (and the epoll fd the poll watched) here. */
    MHD_stop_daemon(h->d);
    h->d = NULL;
    uv_close((uv_handle_t *)&h->poll, handle_closed);
    uv_close((uv_handle_t *)&h->timer, handle_closed);
}
