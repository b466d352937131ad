/* kconn.c: Kafka connections: accept, size-checked framing, ordered
 * responses, requests pipelined only when their handler allows it, idle and
 * partial-frame timeouts.
 *
 * Happy path: bytes arrive in the listener's shared read buffer and are fed
 * to feed(): 4 size bytes, a size check, a frame buffer grown as bytes
 * arrive, then the handler gets the request (struct rf_kconn, one per
 * request, queued on its connection in arrival order). While the newest
 * request is with its handler, reading is stopped and bytes already
 * received for later requests wait in `pending`; a handler that calls
 * rf_kconn_pipeline() (a Produce waiting for acks) lets the next request in
 * meanwhile. Answers are written in request order: one given early waits
 * for those before it (flush_answers).
 *
 * Failure modes: bad size, timeouts, read errors and EOF close the
 * connection (conn_close). A connection is freed once both its handles are
 * closed AND none of its requests is with a handler (conn_maybe_free). */
#include "kconn.h"

#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "buf.h"
#include "err.h"
#include "log.h"

#define READ_BUF_SIZE (64u * 1024u)
/* Stop taking new requests while this much response data is unsent. */
#define WRITE_QUEUE_HIGH (16u * 1024u * 1024u)
/* First allocation for a frame body; it doubles as the bytes arrive. */
#define FRAME_FIRST_ALLOC (64u * 1024u)
/* Pipelining bounds: requests and frame bytes held per connection. */
#define PIPELINE_MAX_REQUESTS 64u
#define PIPELINE_MAX_BYTES (64u * 1024u * 1024u)

enum conn_state {
    CONN_READ_SIZE, /* waiting for (the rest of) the 4-byte size */
    CONN_READ_BODY, /* frame allocated, filling it */
};

struct kconn;

/* One request, from its last byte read until its answer is written (or
 * dropped): what handlers hold. */
struct rf_kconn {
    struct kconn *c;
    uint8_t *frame;   /* owned */
    size_t frame_len;
    uint8_t *resp;    /* owned: an answer waiting for earlier ones */
    size_t resp_len;
    bool answered;
    bool pipelined;   /* the handler lets later requests in */
    struct rf_kconn *next;
};

struct kconn {
    struct rf_klistener *l;
    uv_tcp_t tcp;
    uv_timer_t timer;
    enum conn_state state;
    uint8_t size_buf[4];
    size_t size_got;
    uint8_t *frame; /* owned; the frame being read */
    size_t frame_cap; /* grows as bytes arrive, up to frame_len */
    size_t frame_len;
    size_t frame_got;
    struct rf_wr pending; /* bytes read past the current request */
    size_t pending_off;
    struct rf_kconn *head, *tail; /* requests not yet answered and written */
    unsigned nreq;
    size_t held_bytes; /* frame bytes of those requests */
    int handles_open; /* tcp + timer not yet closed */
    bool closing;
    bool finishing; /* listener closing: flushing writes, then close */
    bool reading;
    bool write_blocked; /* next request waits for the write queue to drain */
    bool feeding;       /* inside feed(): a synchronous answer must not
                           re-enter it, the running loop continues */
    uint64_t id;
    char peer[64];
    struct kconn *prev, *next;
};

struct rf_klistener {
    uv_loop_t *loop;
    uv_tcp_t server;
    struct rf_klistener_opts opts;
    rf_kconn_request_cb cb;
    void *data;
    struct kconn *conns;
    uint32_t nconns;
    uint64_t next_id;
    uint64_t accepted; /* connections accepted since start (metrics) */
    uint8_t read_buf[READ_BUF_SIZE];
    bool read_buf_busy;
    bool closing;
    uv_timer_t drain_timer; /* bounds the graceful close */
    bool drain_timer_open;
    int handles_open; /* server + every connection's handles */
    void (*close_cb)(void *data);
    void *close_data;
};

struct write_req {
    uv_write_t req;
    uint8_t *frame; /* owned */
    struct kconn *conn;
};

static void conn_close(struct kconn *conn, const char *why);
static void conn_finish(struct kconn *conn);
static void stop_reading(struct kconn *conn);
static void drain_timer_close(struct rf_klistener *l);

static void listener_handle_closed(struct rf_klistener *l)
{
    if (--l->handles_open == 0 && l->closing) {
        void (*cb)(void *) = l->close_cb;
        void *data = l->close_data;
        rf_free(l);
        if (cb)
            cb(data);
    }
}

static void conn_maybe_free(struct kconn *conn)
{
    struct rf_klistener *l = conn->l;
    if (conn->handles_open > 0 || conn->nreq > 0)
        return;
    rf_free(conn->frame);
    rf_wr_free(&conn->pending);
    rf_free(conn);
    listener_handle_closed(l);
}

/* The newest request holds the next one back: it is with its handler and
 * did not allow pipelining, or the pipeline is full. */
static bool blocked(const struct kconn *conn)
{
    const struct rf_kconn *t = conn->tail;
    if (t == NULL)
        return false;
    return (!t->answered && !t->pipelined) ||
           conn->nreq >= PIPELINE_MAX_REQUESTS ||
           conn->held_bytes >= PIPELINE_MAX_BYTES;
}

/* A new request may be read now. */
static bool can_take(const struct kconn *conn)
{
    return !conn->closing && !conn->finishing && !conn->l->closing &&
           !blocked(conn);
}

static void conn_handle_closed(uv_handle_t *h)
{
    struct kconn *conn = h->data;
    conn->handles_open--;
    conn_maybe_free(conn);
}

static void conn_close(struct kconn *conn, const char *why)
{
    struct rf_klistener *l = conn->l;
    if (conn->closing)
        return;
    conn->closing = true;
    if (why != NULL)
        RF_INFO("kafka connection closed conn=%llu peer=%s reason=\"%s\"",
                (unsigned long long)conn->id, conn->peer, why);
    if (conn->prev)
        conn->prev->next = conn->next;
    else
        l->conns = conn->next;
    if (conn->next)
        conn->next->prev = conn->prev;
    l->nconns--;
    uv_close((uv_handle_t *)&conn->tcp, conn_handle_closed);
    uv_close((uv_handle_t *)&conn->timer, conn_handle_closed);
    if (l->closing && l->nconns == 0)
        drain_timer_close(l);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    struct kconn *conn = req->data;
    (void)status;
    rf_free(req);
    conn_close(conn, NULL);
}

/* Graceful end while the listener closes: no new request is read, the
 * answers already queued are written out (uv_shutdown waits for them), then
 * the connection closes. */
static void conn_finish(struct kconn *conn)
{
    uv_shutdown_t *req;
    if (conn->closing || conn->finishing)
        return;
    conn->finishing = true;
    stop_reading(conn);
    uv_timer_stop(&conn->timer);
    req = rf_malloc(sizeof *req);
    req->data = conn;
    if (uv_shutdown(req, (uv_stream_t *)&conn->tcp, on_shutdown) != 0) {
        rf_free(req);
        conn_close(conn, NULL);
    }
}

static void on_timeout(uv_timer_t *t)
{
    struct kconn *conn = t->data;
    if (conn->state == CONN_READ_SIZE && conn->size_got == 0)
        conn_close(conn, "idle timeout");
    else
        conn_close(conn, "request not received in time");
}

static void arm_timer(struct kconn *conn)
{
    const struct rf_klistener_opts *o = &conn->l->opts;
    if (conn->closing)
        return;
    if (conn->state == CONN_READ_SIZE && conn->size_got == 0) {
        if (conn->nreq > 0) /* requests outstanding: not idle */
            uv_timer_stop(&conn->timer);
        else
            uv_timer_start(&conn->timer, on_timeout, o->idle_timeout_ms, 0);
    }
    /* mid-frame: the deadline set by feed() when its first byte arrived
     * keeps running (later reads must not push it back) */
}

/* A whole frame arrived: queue it as a request and hand it over. */
static void dispatch(struct kconn *conn)
{
    struct rf_kconn *r = rf_calloc(1, sizeof *r);
    r->c = conn;
    r->frame = conn->frame;
    r->frame_len = conn->frame_len;
    conn->frame = NULL;
    conn->state = CONN_READ_SIZE;
    conn->size_got = 0;
    if (conn->tail)
        conn->tail->next = r;
    else
        conn->head = r;
    conn->tail = r;
    conn->nreq++;
    conn->held_bytes += r->frame_len;
    arm_timer(conn);
    conn->l->cb(r, r->frame, r->frame_len, conn->l->data);
}

/* Feed received bytes into the frame state machine. Returns the number of
 * bytes consumed: it stops when a request holds the next one back. */
static size_t feed(struct kconn *conn, const uint8_t *p, size_t n)
{
    size_t used = 0;
    while (used < n && can_take(conn)) {
        if (conn->state == CONN_READ_SIZE) {
            size_t take = 4 - conn->size_got;
            bool first = conn->size_got == 0;
            if (take > n - used)
                take = n - used;
            memcpy(conn->size_buf + conn->size_got, p + used, take);
            conn->size_got += take;
            used += take;
            if (conn->size_got < 4) {
                if (first) /* a frame started: its deadline starts now */
                    uv_timer_start(&conn->timer, on_timeout,
                                   conn->l->opts.partial_timeout_ms, 0);
                break;
            }
            uint32_t size = rf_be32_load(conn->size_buf);
            if (size < RF_KCONN_MIN_FRAME || size > conn->l->opts.max_frame) {
                char why[96];
                snprintf(why, sizeof why, "frame size %u outside [%u, %u]",
                         size, RF_KCONN_MIN_FRAME, conn->l->opts.max_frame);
                conn_close(conn, why);
                break;
            }
            /* Bounded by max_frame above, and grown only as bytes arrive: a
             * peer announcing 100 MB and sending 5 bytes costs 64 KiB. */
            conn->frame_cap = size < FRAME_FIRST_ALLOC ? size
                                                       : FRAME_FIRST_ALLOC;
            conn->frame = rf_malloc(conn->frame_cap);
            conn->frame_len = size;
            conn->frame_got = 0;
            conn->state = CONN_READ_BODY;
            if (first)
                uv_timer_start(&conn->timer, on_timeout,
                               conn->l->opts.partial_timeout_ms, 0);
            continue;
        }
        size_t take = conn->frame_len - conn->frame_got;
        if (take > n - used)
            take = n - used;
        if (conn->frame_got + take > conn->frame_cap) {
            size_t cap = conn->frame_cap * 2;
            if (cap < conn->frame_got + take)
                cap = conn->frame_got + take;
            if (cap > conn->frame_len)
                cap = conn->frame_len;
            conn->frame = rf_realloc(conn->frame, cap);
            conn->frame_cap = cap;
        }
        memcpy(conn->frame + conn->frame_got, p + used, take);
        conn->frame_got += take;
        used += take;
        if (conn->frame_got == conn->frame_len)
            dispatch(conn);
    }
    return used;
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct kconn *conn = h->data;
    struct rf_klistener *l = conn->l;
    (void)suggested;
    if (l->read_buf_busy) { /* cannot happen on one loop; be safe */
        buf->base = NULL;
        buf->len = 0;
        return;
    }
    l->read_buf_busy = true;
    buf->base = (char *)l->read_buf;
    buf->len = sizeof l->read_buf;
}

static void stop_reading(struct kconn *conn)
{
    if (conn->reading) {
        uv_read_stop((uv_stream_t *)&conn->tcp);
        conn->reading = false;
    }
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct kconn *conn = s->data;
    if (buf->base == (char *)conn->l->read_buf)
        conn->l->read_buf_busy = false;
    if (nread < 0) {
        conn_close(conn, nread == UV_EOF ? NULL : uv_strerror((int)nread));
        return;
    }
    if (nread == 0)
        return;
    size_t n = (size_t)nread;
    /* feed() may call handlers, which may answer (and even close) at once;
     * conn stays allocated until its close callbacks run. */
    conn->feeding = true;
    size_t used = feed(conn, (const uint8_t *)buf->base, n);
    conn->feeding = false;
    if (conn->closing)
        return;
    if (used < n) {
        rf_wr_bytes(&conn->pending, buf->base + used, n - used);
        stop_reading(conn);
    } else if (!can_take(conn)) {
        stop_reading(conn);
    } else {
        arm_timer(conn);
    }
}

static void start_reading(struct kconn *conn)
{
    if (conn->reading || conn->closing)
        return;
    if (uv_read_start((uv_stream_t *)&conn->tcp, on_alloc, on_read) != 0) {
        conn_close(conn, "read start failed");
        return;
    }
    conn->reading = true;
}

/* Take requests already received, then read more. */
static void drain(struct kconn *conn)
{
    if (uv_stream_get_write_queue_size((uv_stream_t *)&conn->tcp) >
        WRITE_QUEUE_HIGH) {
        conn->write_blocked = true;
        stop_reading(conn);
        return;
    }
    conn->feeding = true;
    while (conn->pending_off < conn->pending.len && can_take(conn)) {
        conn->pending_off += feed(conn, conn->pending.base + conn->pending_off,
                                  conn->pending.len - conn->pending_off);
    }
    conn->feeding = false;
    if (conn->pending_off == conn->pending.len) {
        rf_wr_reset(&conn->pending);
        conn->pending_off = 0;
    }
    if (!can_take(conn))
        return;
    arm_timer(conn);
    start_reading(conn);
}

static void on_resume(uv_timer_t *t)
{
    struct kconn *conn = t->data;
    if (can_take(conn))
        drain(conn);
}

/* Later requests may be taken now: on the next loop turn, never from
 * inside the call that made it possible (handlers answer from their own
 * loops: a group coordinator walking its members, a wake-up list, and
 * dispatching the connection's next request there would let it change
 * what they walk). A feed() further up the stack continues by itself; a
 * connection still reading gets its bytes from on_read. */
static void maybe_resume(struct kconn *conn)
{
    if (!conn->feeding && !conn->reading && can_take(conn))
        uv_timer_start(&conn->timer, on_resume, 0, 0);
}

static void on_write(uv_write_t *req, int status)
{
    struct write_req *w = (struct write_req *)req;
    struct kconn *conn = w->conn;
    rf_free(w->frame);
    rf_free(w);
    if (status < 0 && status != UV_ECANCELED) {
        conn_close(conn, uv_strerror(status));
        return;
    }
    if (conn->write_blocked && !conn->closing &&
        uv_stream_get_write_queue_size((uv_stream_t *)&conn->tcp) <=
            WRITE_QUEUE_HIGH) {
        conn->write_blocked = false;
        if (can_take(conn))
            drain(conn);
    }
}

static void write_frame(struct kconn *conn, uint8_t *frame, size_t len)
{
    struct write_req *w = rf_malloc(sizeof *w);
    uv_buf_t buf = uv_buf_init((char *)frame, (unsigned)len);
    w->frame = frame;
    w->conn = conn;
    if (uv_write(&w->req, (uv_stream_t *)&conn->tcp, &buf, 1, on_write) != 0) {
        rf_free(frame);
        rf_free(w);
        conn_close(conn, "write failed");
    }
}

/* Write the answers at the head of the queue, in request order, and free
 * their requests; then take the next request if nothing holds it back. */
static void flush_answers(struct kconn *conn)
{
    while (conn->head != NULL && conn->head->answered) {
        struct rf_kconn *r = conn->head;
        conn->head = r->next;
        if (conn->head == NULL)
            conn->tail = NULL;
        conn->nreq--;
        conn->held_bytes -= r->frame_len;
        if (r->resp != NULL && !conn->closing)
            write_frame(conn, r->resp, r->resp_len);
        else
            rf_free(r->resp);
        rf_free(r->frame);
        rf_free(r);
    }
    if (conn->closing) {
        conn_maybe_free(conn);
        return;
    }
    if (conn->l->closing) { /* answered in time: flush it, then close */
        if (conn->nreq == 0)
            conn_finish(conn);
        return;
    }
    if (conn->reading) /* pipelined: the idle clock restarts when idle */
        arm_timer(conn);
    maybe_resume(conn);
}

static void answer(struct rf_kconn *r, uint8_t *frame, size_t len)
{
    r->answered = true;
    r->resp = frame;
    r->resp_len = len;
    flush_answers(r->c);
}

void rf_kconn_respond(struct rf_kconn *r, uint8_t *frame, size_t len)
{
    if (r->c->closing) {
        rf_free(frame);
        answer(r, NULL, 0);
        return;
    }
    if (len < 4 || len - 4 > UINT32_MAX || rf_be32_load(frame) != len - 4) {
        rf_free(frame);
        conn_close(r->c, "internal error: response frame size mismatch");
        answer(r, NULL, 0);
        return;
    }
    answer(r, frame, len);
}

void rf_kconn_done(struct rf_kconn *r)
{
    answer(r, NULL, 0);
}

void rf_kconn_close(struct rf_kconn *r)
{
    conn_close(r->c, "malformed request");
    answer(r, NULL, 0);
}

void rf_kconn_pipeline(struct rf_kconn *r)
{
    if (r->answered || r->pipelined)
        return;
    r->pipelined = true;
    if (r == r->c->tail && !r->c->closing)
        maybe_resume(r->c);
}

bool rf_kconn_alive(const struct rf_kconn *r)
{
    return !r->c->closing;
}

const char *rf_kconn_peer(const struct rf_kconn *r)
{
    return r->c->peer;
}

uint64_t rf_kconn_id(const struct rf_kconn *r)
{
    return r->c->id;
}

static void peer_name(uv_tcp_t *tcp, char *out, size_t outsz)
{
    struct sockaddr_storage ss;
    int len = sizeof ss;
    char ip[64] = "?";
    int port = 0;
    if (uv_tcp_getpeername(tcp, (struct sockaddr *)&ss, &len) == 0) {
        if (ss.ss_family == AF_INET) {
            struct sockaddr_in *a = (struct sockaddr_in *)&ss;
            uv_ip4_name(a, ip, sizeof ip);
            port = ntohs(a->sin_port);
        } else if (ss.ss_family == AF_INET6) {
            struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
            uv_ip6_name(a, ip, sizeof ip);
            port = ntohs(a->sin6_port);
        }
    }
    snprintf(out, outsz, "%s:%d", ip, port);
}

static void reject_closed(uv_handle_t *h)
{
    rf_free(h);
}

static void failed_server_closed(uv_handle_t *h)
{
    rf_free(h->data);
}

static void on_connection(uv_stream_t *server, int status)
{
    struct rf_klistener *l = server->data;
    struct kconn *conn;
    if (status < 0 || l->closing)
        return;
    if (l->nconns >= l->opts.max_connections) {
        uv_tcp_t *tmp = rf_malloc(sizeof *tmp);
        uv_tcp_init(l->loop, tmp);
        if (uv_accept(server, (uv_stream_t *)tmp) == 0)
            RF_WARN("kafka connection refused reason=\"max connections %u\"",
                    l->opts.max_connections);
        uv_close((uv_handle_t *)tmp, reject_closed);
        return;
    }
    conn = rf_calloc(1, sizeof *conn);
    conn->l = l;
    conn->id = ++l->next_id;
    rf_wr_init(&conn->pending, 0);
    uv_tcp_init(l->loop, &conn->tcp);
    uv_timer_init(l->loop, &conn->timer);
    conn->tcp.data = conn;
    conn->timer.data = conn;
    conn->handles_open = 2;
    l->handles_open++;
    conn->next = l->conns;
    if (l->conns)
        l->conns->prev = conn;
    l->conns = conn;
    l->nconns++;
    if (uv_accept(server, (uv_stream_t *)&conn->tcp) != 0) {
        conn_close(conn, "accept failed");
        return;
    }
    l->accepted++;
    uv_tcp_nodelay(&conn->tcp, 1);
    peer_name(&conn->tcp, conn->peer, sizeof conn->peer);
    RF_DEBUG("kafka connection accepted conn=%llu peer=%s",
             (unsigned long long)conn->id, conn->peer);
    arm_timer(conn);
    start_reading(conn);
}

int rf_klistener_start(uv_loop_t *loop, const char *host, uint16_t port,
                       const struct rf_klistener_opts *opts,
                       rf_kconn_request_cb cb, void *data,
                       struct rf_klistener **out, char *errmsg)
{
    struct rf_klistener *l = rf_calloc(1, sizeof *l);
    struct sockaddr_in addr;
    int rv;
    l->loop = loop;
    l->cb = cb;
    l->data = data;
    if (opts)
        l->opts = *opts;
    if (l->opts.max_frame == 0)
        l->opts.max_frame = 100u * 1024u * 1024u;
    if (l->opts.max_connections == 0)
        l->opts.max_connections = 10000;
    if (l->opts.idle_timeout_ms == 0)
        l->opts.idle_timeout_ms = 600000;
    if (l->opts.partial_timeout_ms == 0)
        l->opts.partial_timeout_ms = 30000;
    rv = uv_ip4_addr(host, port, &addr);
    if (rv != 0) {
        rf_errmsg_set(errmsg, "kafka listener %s:%u: not an IPv4 address",
                      host, port);
        rf_free(l);
        return RF_EINVAL;
    }
    uv_tcp_init(loop, &l->server);
    l->server.data = l;
    l->handles_open = 1;
    rv = uv_tcp_bind(&l->server, (const struct sockaddr *)&addr, 0);
    if (rv == 0)
        rv = uv_listen((uv_stream_t *)&l->server, 1024, on_connection);
    if (rv != 0) {
        rf_errmsg_set(errmsg, "kafka listener %s:%u: %s", host, port,
                      uv_strerror(rv));
        /* The handle was initialised: l may only be freed in its close
         * callback. */
        uv_close((uv_handle_t *)&l->server, failed_server_closed);
        *out = NULL;
        return rf_err_from_errno(rv);
    }
    *out = l;
    return 0;
}

uint16_t rf_klistener_port(const struct rf_klistener *l)
{
    struct sockaddr_storage ss;
    int len = sizeof ss;
    if (uv_tcp_getsockname(&l->server, (struct sockaddr *)&ss, &len) != 0)
        return 0;
    return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

uint32_t rf_klistener_connections(const struct rf_klistener *l)
{
    return l->nconns;
}

uint64_t rf_klistener_accepted(const struct rf_klistener *l)
{
    return l->accepted;
}

static void server_closed(uv_handle_t *h)
{
    listener_handle_closed(h->data);
}

static void drain_timer_closed(uv_handle_t *h)
{
    listener_handle_closed(h->data);
}

static void drain_timer_close(struct rf_klistener *l)
{
    if (!l->drain_timer_open)
        return;
    l->drain_timer_open = false;
    uv_close((uv_handle_t *)&l->drain_timer, drain_timer_closed);
}

static void on_drain_timeout(uv_timer_t *t)
{
    struct rf_klistener *l = t->data;
    RF_WARN("kafka listener: %u connection(s) still busy after the drain "
            "timeout: closing them",
            l->nconns);
    while (l->conns)
        conn_close(l->conns, "shutting down");
    drain_timer_close(l);
}

void rf_klistener_close(struct rf_klistener *l, uint32_t drain_ms,
                        void (*cb)(void *data), void *data)
{
    struct kconn *conn, *next;
    l->closing = true;
    l->close_cb = cb;
    l->close_data = data;
    uv_close((uv_handle_t *)&l->server, server_closed);
    if (l->nconns > 0 && drain_ms > 0) {
        uv_timer_init(l->loop, &l->drain_timer);
        l->drain_timer.data = l;
        l->drain_timer_open = true;
        l->handles_open++;
        uv_timer_start(&l->drain_timer, on_drain_timeout, drain_ms, 0);
    }
    for (conn = l->conns; conn != NULL; conn = next) {
        next = conn->next;
        if (drain_ms == 0)
            conn_close(conn, NULL);
        else if (conn->nreq == 0)
            conn_finish(conn);
        else /* finished when its last request is answered */
            stop_reading(conn);
    }
}
