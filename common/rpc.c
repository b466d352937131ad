/* rpc.c: the internal RPC layer: framing, server connections and calls,
 * client connection state machine, per-call timeouts.
 *
 * Happy path (server): the listener accepts a connection; reads append to a
 * per-connection buffer; every complete frame is unpacked into an Envelope
 * and becomes a struct rf_rpc_call handed to the handler, which answers with
 * rf_rpc_reply() now or later. Replies are packed into one allocation that
 * also holds the uv_write_t, so the bytes stay valid until the write cb.
 *
 * Happy path (client): the first rf_rpc_call() arms the state timer at 0 ms
 * (so nothing can fail inside rf_rpc_call); the timer starts a connect
 * attempt (uv_getaddrinfo unless the host is an IPv4 literal). Calls queue
 * in `unsent` until connected, then are written while the kernel keeps up and
 * move to the `sent` table keyed by correlation id. A response removes its
 * call and fires the callback. Every call also sits on one list sorted by
 * deadline, watched by a single call timer.
 *
 * Failure modes: a frame announcing more than max_frame bytes or zero bytes,
 * or a body that does not unpack, closes that connection with a warn line
 * naming the peer. A lost client connection fails its sent and unsent calls
 * with RF_ECLOSED and waits a jittered, doubling backoff before the next
 * attempt; a failed attempt fails the queued calls with RF_ECONNECT. A call
 * past its deadline gets RF_ETIMEDOUT (a late response is dropped). Closing
 * the client cancels everything left with RF_ECANCELED once its handles are
 * closed. A server connection that dies leaves its calls alive but detached
 * (rf_rpc_call_alive() false; a reply is freed quietly).
 *
 * Memory: a connection's read buffer grows by doubling towards the length
 * the frame header announced, so a peer cannot make us hold much more than
 * twice what it really sent (and never more than max_frame plus 4).
 *
 * Backpressure: a server connection whose unsent reply bytes exceed
 * RPC_WQ_HIGH stops reading requests until they drain below RPC_WQ_LOW; a
 * client writes queued calls only while its unsent bytes stay below
 * RPC_WQ_HIGH, so calls that time out in the queue are never sent. */
#include "rpc.h"

#include <assert.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "buf.h"
#include "err.h"
#include "log.h"
#include "rpc_int.h"

#define RPC_PEER_MAX 64
#define RPC_RBUF_MIN (64u * 1024u)
#define RPC_WQ_HIGH (4u * 1024u * 1024u)
#define RPC_WQ_LOW (1u * 1024u * 1024u)
#define RPC_BACKLOG 128
#define RPC_TABLE_MIN 64u
#define RPC_CALL_TIMEOUT_DEFAULT 30000u
#define RPC_LOG_BYTES 32u
#define RPC_KEEPALIVE_IDLE_S 10u
#define RPC_KEEPALIVE_INTVL_S 3
#define RPC_KEEPALIVE_CNT 3
#define RPC_USER_TIMEOUT_MS 20000u
#define RPC_MAX_FRAME_LIMIT (1u << 30) /* larger max_frame values are cut */

/* ---- intrusive list ---- */

struct link {
    struct link *prev, *next;
};

#define link_entry(ptr, type, member)                                        \
    ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

static void link_init(struct link *h)
{
    h->prev = h->next = h;
}
static bool link_empty(const struct link *h)
{
    return h->next == h;
}
/* Insert n right after pos. */
static void link_insert_after(struct link *pos, struct link *n)
{
    n->prev = pos;
    n->next = pos->next;
    pos->next->prev = n;
    pos->next = n;
}
static void link_push_back(struct link *h, struct link *n)
{
    link_insert_after(h->prev, n);
}
static void link_remove(struct link *n)
{
    n->prev->next = n->next;
    n->next->prev = n->prev;
    link_init(n);
}

/* ---- frame codec (pure; rpc_int.h) ---- */

ssize_t rf__rpc_frame_parse(const uint8_t *buf, size_t len, uint32_t max_frame,
                            const uint8_t **body, size_t *body_len)
{
    struct rf_rd rd;
    uint32_t n;

    rf_rd_init(&rd, buf, len);
    if (rf_rd_u32(&rd, &n) != 0)
        return RF_EAGAIN;
    if (n == 0)
        return RF_EPARSE;
    if (n > max_frame)
        return RF_ETOOBIG;
    if (rf_rd_bytes(&rd, n, body) != 0)
        return RF_EAGAIN;
    *body_len = n;
    return (ssize_t)(RF__RPC_HDR + (size_t)n);
}

/* protobuf-c 1.4 accepts an over-long varint tag for field number 0 (which
 * protobuf forbids), keeps it as an unknown field and would repack it as a
 * bare 0x00 tag that nothing can unpack. Reject it anywhere in the tree.
 * Depth is bounded by the schema; the limit only guards against a future
 * recursive message. */
static bool msg_has_field0(const ProtobufCMessage *m, unsigned depth)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;
    unsigned i;
    size_t j;

    if (depth > 64)
        return true;
    for (i = 0; i < m->n_unknown_fields; i++)
        if (m->unknown_fields[i].tag == 0)
            return true;
    for (i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        const char *base = (const char *)m;
        if (f->type != PROTOBUF_C_TYPE_MESSAGE)
            continue;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(const size_t *)(const void *)(base +
                                                       f->quantifier_offset);
            ProtobufCMessage *const *v =
                *(ProtobufCMessage *const *const *)(const void *)(base +
                                                                  f->offset);
            for (j = 0; j < n; j++)
                if (msg_has_field0(v[j], depth + 1))
                    return true;
            continue;
        }
        if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
            *(const uint32_t *)(const void *)(base + f->quantifier_offset) !=
                f->id)
            continue;
        {
            const ProtobufCMessage *sub =
                *(const ProtobufCMessage *const *)(const void *)(base +
                                                                 f->offset);
            if (sub != NULL && msg_has_field0(sub, depth + 1))
                return true;
        }
    }
    return false;
}

int rf__rpc_envelope_unpack(const uint8_t *body, size_t body_len,
                            Riffle__Envelope **out)
{
    *out = riffle__envelope__unpack(NULL, body_len, body);
    if (*out == NULL)
        return RF_EPARSE;
    if (msg_has_field0(&(*out)->base, 0)) {
        riffle__envelope__free_unpacked(*out, NULL);
        *out = NULL;
        return RF_EPARSE;
    }
    return 0;
}

ssize_t rf__rpc_frame_size(const Riffle__Envelope *env, uint32_t max_frame)
{
    size_t n = riffle__envelope__get_packed_size(env);

    if (n == 0)
        return RF_EPARSE;
    if (n > max_frame)
        return RF_ETOOBIG;
    return (ssize_t)(RF__RPC_HDR + n);
}

void rf__rpc_frame_write(const Riffle__Envelope *env, uint8_t *out,
                         size_t frame_len)
{
    size_t n;

    assert(frame_len > RF__RPC_HDR && frame_len - RF__RPC_HDR <= UINT32_MAX);
    rf_be32_store(out, (uint32_t)(frame_len - RF__RPC_HDR));
    n = riffle__envelope__pack(env, out + RF__RPC_HDR);
    assert(n == frame_len - RF__RPC_HDR);
    (void)n;
}

/* ---- shared connection ---- */

enum conn_role { CONN_SERVER, CONN_CLIENT };

/* One TCP connection, either accepted by a server or dialled by a client.
 * Freed only once every handle it owns has closed. */
struct rpc_conn {
    uv_tcp_t tcp;
    uv_timer_t idle;    /* server side, when idle_timeout_ms > 0 */
    uv_connect_t creq;  /* client side */
    enum conn_role role;
    struct rf_rpc_server *srv; /* server side; valid until the conn is freed */
    struct rf_rpc_client *cli; /* client side; valid until the conn is freed */
    struct link node;          /* in srv->conns while open */
    struct link calls;         /* server side: calls not yet answered */
    char peer[RPC_PEER_MAX];
    uint8_t *rbuf;             /* owned; unparsed bytes at the front */
    size_t rlen, rcap;
    uint32_t max_frame;
    uint64_t last_active;      /* uv_now() of the last read or busy check */
    uint64_t id;               /* server side: 1, 2, ... */
    unsigned handles;          /* handles still open */
    bool has_idle, counted, closing, paused, broken;
};

/* A server-side request awaiting its answer. */
struct rf_rpc_call {
    struct link node;      /* in conn->calls while the conn is open */
    struct rpc_conn *conn; /* NULL once the connection is gone */
    Riffle__Envelope *req; /* owned */
    uint64_t corr;
    uint64_t conn_id;
    void *data;
    char peer[RPC_PEER_MAX];
};

/* A frame on its way out: the uv request and the bytes in one allocation,
 * freed in the write cb (or unsent, by whoever drops it). */
struct rpc_wreq {
    uv_write_t req;
    struct rpc_conn *conn;
    size_t len;
    uint8_t data[];
};

struct rf_rpc_server {
    uv_loop_t *loop;
    uv_tcp_t listener;
    struct rf_rpc_server_opts opts; /* defaults filled in */
    rf_rpc_handler_cb handler;
    void *data;
    uint16_t port;
    struct link conns;   /* open connections */
    uint32_t nconns;     /* open connections counted against the cap */
    unsigned refs;       /* listener + every conn not yet freed */
    uint64_t refused;    /* connections refused at the cap, ever */
    uint64_t refused_logged_ms;
    uint64_t next_conn_id;
    bool closing;
    void (*close_cb)(void *data);
    void *close_data;
};

static void conn_close(struct rpc_conn *conn);
static void conn_fail(struct rpc_conn *conn);
static void conn_dispatch(struct rpc_conn *conn, Riffle__Envelope *env);
static void conn_write_done(struct rpc_conn *conn);
static void server_conn_freed(struct rf_rpc_server *srv);
static void client_ref_put(struct rf_rpc_client *c);

static struct rpc_wreq *wreq_new(size_t len)
{
    struct rpc_wreq *w = rf_malloc(sizeof(*w) + len);

    w->conn = NULL;
    w->len = len;
    return w;
}

static size_t conn_wq_size(const struct rpc_conn *conn)
{
    return uv_stream_get_write_queue_size((const uv_stream_t *)&conn->tcp);
}

/* "ip:port" (or "[ip6]:port") of a socket address into out. */
static void format_addr(const struct sockaddr_storage *ss, char *out,
                        size_t outsz)
{
    char ip[64] = "?";

    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
        uv_ip4_name(sin, ip, sizeof(ip));
        snprintf(out, outsz, "%s:%u", ip, (unsigned)ntohs(sin->sin_port));
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
        uv_ip6_name(sin6, ip, sizeof(ip));
        snprintf(out, outsz, "[%s]:%u", ip, (unsigned)ntohs(sin6->sin6_port));
    } else {
        snprintf(out, outsz, "?");
    }
}

static void conn_set_peer(struct rpc_conn *conn)
{
    struct sockaddr_storage ss;
    int len = (int)sizeof(ss);

    memset(&ss, 0, sizeof(ss));
    if (uv_tcp_getpeername(&conn->tcp, (struct sockaddr *)&ss, &len) == 0)
        format_addr(&ss, conn->peer, sizeof(conn->peer));
}

/* Low latency, and notice a peer whose host died or was cut off: keepalive
 * probes an idle connection (dead after 10 + 3 * 3 s), and TCP_USER_TIMEOUT
 * aborts one whose sent bytes stay unacknowledged for 20 s. Either then
 * fails the connection's calls with RF_ECLOSED instead of letting every
 * call time out on a socket that will never answer. Best effort. */
static void conn_tune(struct rpc_conn *conn)
{
    uv_os_fd_t fd;

    uv_tcp_nodelay(&conn->tcp, 1);
    uv_tcp_keepalive(&conn->tcp, 1, RPC_KEEPALIVE_IDLE_S);
    if (uv_fileno((const uv_handle_t *)&conn->tcp, &fd) != 0)
        return;
#if defined(TCP_KEEPINTVL) && defined(TCP_KEEPCNT) && defined(TCP_USER_TIMEOUT)
    {
        int intvl = RPC_KEEPALIVE_INTVL_S, cnt = RPC_KEEPALIVE_CNT;
        unsigned int user_timeout = RPC_USER_TIMEOUT_MS;
        setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
        setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
        setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout,
                   sizeof(user_timeout));
    }
#endif
}

static struct rpc_conn *conn_new(uv_loop_t *loop, enum conn_role role,
                                 uint32_t max_frame)
{
    struct rpc_conn *conn = rf_calloc(1, sizeof(*conn));

    conn->role = role;
    conn->max_frame = max_frame;
    link_init(&conn->node);
    link_init(&conn->calls);
    snprintf(conn->peer, sizeof(conn->peer), "?");
    uv_tcp_init(loop, &conn->tcp); /* cannot fail for AF_UNSPEC */
    conn->tcp.data = conn;
    conn->handles = 1;
    return conn;
}

static void conn_handle_closed(uv_handle_t *h)
{
    struct rpc_conn *conn = h->data;

    if (--conn->handles > 0)
        return;
    rf_free(conn->rbuf);
    if (conn->role == CONN_SERVER) {
        struct rf_rpc_server *srv = conn->srv;
        rf_free(conn);
        server_conn_freed(srv);
    } else {
        struct rf_rpc_client *c = conn->cli;
        rf_free(conn);
        client_ref_put(c);
    }
}

/* Stop all I/O and start closing the handles; idempotent. Pending write
 * callbacks run (UV_ECANCELED) before the close callback frees the conn. */
static void conn_close(struct rpc_conn *conn)
{
    if (conn->closing)
        return;
    conn->closing = true;
    link_remove(&conn->node);
    if (conn->role == CONN_SERVER) {
        while (!link_empty(&conn->calls)) {
            struct rf_rpc_call *call =
                link_entry(conn->calls.next, struct rf_rpc_call, node);
            link_remove(&call->node);
            call->conn = NULL; /* outlives us: rf_rpc_call_alive() false */
        }
        if (conn->counted)
            conn->srv->nconns--;
        if (!conn->srv->closing && conn->srv->opts.on_conn_closed != NULL)
            conn->srv->opts.on_conn_closed(conn->srv, conn->id);
    }
    uv_close((uv_handle_t *)&conn->tcp, conn_handle_closed);
    if (conn->has_idle)
        uv_close((uv_handle_t *)&conn->idle, conn_handle_closed);
}

/* Make room for the next read. The frame in progress (its length checked
 * against max_frame when its header arrived) gets room by doubling, so what
 * we hold stays within twice what the peer really sent: announcing 64 MiB
 * and sending 5 bytes costs RPC_RBUF_MIN, not 64 MiB. */
static void conn_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct rpc_conn *conn = h->data;
    size_t want = RPC_RBUF_MIN;

    (void)suggested;
    if (conn->rlen >= RF__RPC_HDR && conn->rlen == conn->rcap) {
        size_t frame = RF__RPC_HDR + (size_t)rf_be32_load(conn->rbuf);
        want = conn->rcap * 2 < frame ? conn->rcap * 2 : frame;
    }
    if (conn->rcap < want) {
        conn->rbuf = rf_realloc(conn->rbuf, want);
        conn->rcap = want;
    }
    assert(conn->rcap > conn->rlen);
    *buf = uv_buf_init((char *)conn->rbuf + conn->rlen,
                       (unsigned)(conn->rcap - conn->rlen));
}

/* One warn line per closed connection; peer bytes only escaped. */
static void log_bad_frame(const struct rpc_conn *conn, ssize_t rc,
                          const uint8_t *p, size_t avail)
{
    char esc[4 * RPC_LOG_BYTES + 8];

    if (rc == RF_ETOOBIG) {
        RF_WARN("rpc closing connection peer=%s reason=frame_too_big len=%u "
                "max=%u",
                conn->peer, (unsigned)rf_be32_load(p), conn->max_frame);
    } else if (rc == RF_EPARSE) {
        RF_WARN("rpc closing connection peer=%s reason=empty_frame",
                conn->peer);
    } else {
        rf_log_escape(esc, sizeof(esc), p,
                      avail < RPC_LOG_BYTES ? avail : RPC_LOG_BYTES);
        RF_WARN("rpc closing connection peer=%s reason=bad_envelope len=%zu "
                "bytes=\"%s\"",
                conn->peer, avail, esc);
    }
}

/* Shrink a buffer that grew for one big frame once it is no longer needed. */
static void conn_rbuf_trim(struct rpc_conn *conn)
{
    size_t want = 0;

    if (conn->rcap <= RPC_RBUF_MIN)
        return;
    if (conn->rlen >= RF__RPC_HDR)
        want = RF__RPC_HDR + (size_t)rf_be32_load(conn->rbuf);
    if (want <= RPC_RBUF_MIN) {
        conn->rbuf = rf_realloc(conn->rbuf, RPC_RBUF_MIN);
        conn->rcap = RPC_RBUF_MIN;
    }
}

/* Parse and dispatch every complete frame in the buffer. */
static void conn_process(struct rpc_conn *conn)
{
    size_t off = 0;

    while (!conn->closing) {
        const uint8_t *body = NULL;
        size_t body_len = 0;
        Riffle__Envelope *env;
        ssize_t n = rf__rpc_frame_parse(conn->rbuf + off, conn->rlen - off,
                                        conn->max_frame, &body, &body_len);
        if (n == RF_EAGAIN)
            break;
        if (n < 0) {
            log_bad_frame(conn, n, conn->rbuf + off, conn->rlen - off);
            conn_fail(conn);
            return;
        }
        if (rf__rpc_envelope_unpack(body, body_len, &env) != 0) {
            log_bad_frame(conn, RF_EPROTO, body, body_len);
            conn_fail(conn);
            return;
        }
        off += (size_t)n;
        conn_dispatch(conn, env); /* may close conn; rbuf stays valid */
    }
    if (conn->closing)
        return;
    memmove(conn->rbuf, conn->rbuf + off, conn->rlen - off);
    conn->rlen -= off;
    conn_rbuf_trim(conn);
}

static void conn_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct rpc_conn *conn = s->data;

    (void)buf;
    if (nread == 0)
        return;
    if (nread < 0) {
        RF_DEBUG("rpc connection ended peer=%s err=%s", conn->peer,
                 uv_err_name((int)nread));
        conn_fail(conn);
        return;
    }
    conn->rlen += (size_t)nread;
    conn->last_active = uv_now(s->loop);
    conn_process(conn);
}

static void conn_written(uv_write_t *req, int status)
{
    struct rpc_wreq *w = (struct rpc_wreq *)(void *)req;
    struct rpc_conn *conn = w->conn;

    rf_free(w);
    if (status < 0) {
        if (status != UV_ECANCELED)
            RF_DEBUG("rpc write failed peer=%s err=%s", conn->peer,
                     uv_err_name(status));
        conn_fail(conn);
        return;
    }
    if (!conn->closing)
        conn_write_done(conn);
}

/* Queue w (takes ownership) on conn. Returns 0 or a uv error (w freed). */
static int conn_write(struct rpc_conn *conn, struct rpc_wreq *w)
{
    uv_buf_t b = uv_buf_init((char *)w->data, (unsigned)w->len);
    int rc;

    w->conn = conn;
    rc = uv_write(&w->req, (uv_stream_t *)&conn->tcp, &b, 1, conn_written);
    if (rc != 0)
        rf_free(w);
    return rc;
}

static int conn_start_reading(struct rpc_conn *conn)
{
    conn->last_active = uv_now(conn->tcp.loop);
    return uv_read_start((uv_stream_t *)&conn->tcp, conn_alloc, conn_read);
}

/* ---- server ---- */

static void server_conn_freed(struct rf_rpc_server *srv)
{
    void (*cb)(void *data);
    void *data;

    if (--srv->refs > 0)
        return;
    assert(srv->closing);
    cb = srv->close_cb;
    data = srv->close_data;
    rf_free(srv);
    if (cb != NULL)
        cb(data);
}

static void server_listener_closed(uv_handle_t *h)
{
    server_conn_freed(h->data);
}

static void server_idle_check(uv_timer_t *t)
{
    struct rpc_conn *conn = t->data;
    struct rf_rpc_server *srv = conn->srv;
    uint64_t now = uv_now(t->loop);
    uint64_t limit = srv->opts.idle_timeout_ms;

    if (!link_empty(&conn->calls) || conn_wq_size(conn) > 0)
        conn->last_active = now;
    if (now - conn->last_active < limit) {
        uv_timer_start(t, server_idle_check,
                       limit - (now - conn->last_active), 0);
        return;
    }
    RF_INFO("rpc closing idle connection peer=%s idle_ms=%llu", conn->peer,
            (unsigned long long)(now - conn->last_active));
    conn_close(conn);
}

static int server_conn_setup(struct rf_rpc_server *srv, struct rpc_conn *conn)
{
    int rc = uv_accept((uv_stream_t *)&srv->listener,
                       (uv_stream_t *)&conn->tcp);
    if (rc != 0) {
        RF_WARN("rpc accept failed err=%s", uv_err_name(rc));
        return rc;
    }
    conn_set_peer(conn);
    if (srv->nconns >= srv->opts.max_connections) {
        uint64_t now = uv_now(srv->loop);
        srv->refused++;
        if (now - srv->refused_logged_ms >= 1000 || srv->refused == 1) {
            /* at most one line a second, however hard we are hammered */
            RF_WARN("rpc refusing connection peer=%s reason=connection_limit "
                    "max=%u refused=%llu",
                    conn->peer, srv->opts.max_connections,
                    (unsigned long long)srv->refused);
            srv->refused_logged_ms = now;
        }
        return UV_EMFILE;
    }
    conn_tune(conn);
    if (srv->opts.idle_timeout_ms > 0) {
        uv_timer_init(srv->loop, &conn->idle);
        conn->idle.data = conn;
        conn->has_idle = true;
        conn->handles++;
        uv_timer_start(&conn->idle, server_idle_check,
                       srv->opts.idle_timeout_ms, 0);
    }
    conn->counted = true;
    srv->nconns++;
    return conn_start_reading(conn);
}

static void server_on_connection(uv_stream_t *listener, int status)
{
    struct rf_rpc_server *srv = listener->data;
    struct rpc_conn *conn;

    if (status < 0) {
        RF_WARN("rpc listen error port=%u err=%s", (unsigned)srv->port,
                uv_err_name(status));
        return;
    }
    conn = conn_new(srv->loop, CONN_SERVER, srv->opts.max_frame);
    conn->srv = srv;
    conn->id = ++srv->next_conn_id;
    srv->refs++;
    link_push_back(&srv->conns, &conn->node);
    if (server_conn_setup(srv, conn) != 0) {
        conn_close(conn);
        return;
    }
    RF_DEBUG("rpc connection accepted peer=%s", conn->peer);
}

/* Our listeners are IPv4 (canonical/raft needs it), and "localhost" often
 * lists ::1 first: prefer the first IPv4 address. */
static const struct sockaddr *pick_addr(const struct addrinfo *res)
{
    const struct addrinfo *ai;

    for (ai = res; ai != NULL; ai = ai->ai_next)
        if (ai->ai_family == AF_INET)
            return ai->ai_addr;
    return res->ai_addr;
}

/* Resolve host (IPv4/IPv6 literal, or a name resolved synchronously: this
 * runs once at startup) into ss. */
static int server_resolve(uv_loop_t *loop, const char *host, uint16_t port,
                          struct sockaddr_storage *ss)
{
    uv_getaddrinfo_t req;
    const struct sockaddr *sa;
    struct addrinfo hints;
    char portstr[8];
    int rc;

    memset(ss, 0, sizeof(*ss));
    if (uv_ip4_addr(host, port, (struct sockaddr_in *)ss) == 0)
        return 0;
    if (uv_ip6_addr(host, port, (struct sockaddr_in6 *)ss) == 0)
        return 0;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    snprintf(portstr, sizeof(portstr), "%u", (unsigned)port);
    rc = uv_getaddrinfo(loop, &req, NULL, host, portstr, &hints);
    if (rc != 0)
        return rc;
    sa = pick_addr(req.addrinfo);
    memcpy(ss, sa, sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                             : sizeof(struct sockaddr_in));
    uv_freeaddrinfo(req.addrinfo);
    return 0;
}

static int server_listen(struct rf_rpc_server *srv, const char *host,
                         uint16_t port, char *errmsg)
{
    struct sockaddr_storage ss;
    int len = (int)sizeof(ss);
    int rc = server_resolve(srv->loop, host, port, &ss);

    if (rc != 0) {
        rf_errmsg_set(errmsg, "resolve %s: %s", host, uv_strerror(rc));
        return rc;
    }
    rc = uv_tcp_bind(&srv->listener, (struct sockaddr *)&ss, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&srv->listener, RPC_BACKLOG,
                       server_on_connection);
    if (rc == 0)
        rc = uv_tcp_getsockname(&srv->listener, (struct sockaddr *)&ss, &len);
    if (rc != 0) {
        rf_errmsg_set(errmsg, "listen %s:%u: %s", host, (unsigned)port,
                      uv_strerror(rc));
        return rc;
    }
    srv->port = ntohs(ss.ss_family == AF_INET6
                          ? ((struct sockaddr_in6 *)&ss)->sin6_port
                          : ((struct sockaddr_in *)&ss)->sin_port);
    return 0;
}

static uint32_t max_frame_norm(uint32_t v)
{
    if (v == 0)
        return RF_RPC_MAX_FRAME_DEFAULT;
    return v > RPC_MAX_FRAME_LIMIT ? RPC_MAX_FRAME_LIMIT : v;
}

/* Writing to a peer that has gone raises SIGPIPE; a process that forgot to
 * ignore it would die (raft notes P3). Only touches the default action. */
static void rpc_ignore_sigpipe(void)
{
    struct sigaction sa;

    if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL)
        signal(SIGPIPE, SIG_IGN);
}

int rf_rpc_server_start(uv_loop_t *loop, const char *host, uint16_t port,
                        const struct rf_rpc_server_opts *opts,
                        rf_rpc_handler_cb handler, void *data,
                        struct rf_rpc_server **out, char *errmsg)
{
    struct rf_rpc_server *srv = rf_calloc(1, sizeof(*srv));
    int rc;

    rpc_ignore_sigpipe();
    srv->loop = loop;
    if (opts != NULL)
        srv->opts = *opts;
    srv->opts.max_frame = max_frame_norm(srv->opts.max_frame);
    if (srv->opts.max_connections == 0)
        srv->opts.max_connections = 1024;
    srv->handler = handler;
    srv->data = data;
    link_init(&srv->conns);
    uv_tcp_init(loop, &srv->listener);
    srv->listener.data = srv;
    srv->refs = 1;
    rc = server_listen(srv, host, port, errmsg);
    if (rc != 0) {
        /* freed by the close callback once the loop runs */
        srv->closing = true;
        uv_close((uv_handle_t *)&srv->listener, server_listener_closed);
        return rf_err_from_errno(rc);
    }
    RF_INFO("rpc listening addr=%s:%u", host, (unsigned)srv->port);
    *out = srv;
    return 0;
}

uint16_t rf_rpc_server_port(const struct rf_rpc_server *srv)
{
    return srv->port;
}

void *rf_rpc_server_data(const struct rf_rpc_server *srv)
{
    return srv->data;
}

void rf_rpc_server_close(struct rf_rpc_server *srv, void (*cb)(void *data),
                         void *data)
{
    assert(!srv->closing);
    srv->closing = true;
    srv->close_cb = cb;
    srv->close_data = data;
    uv_close((uv_handle_t *)&srv->listener, server_listener_closed);
    while (!link_empty(&srv->conns))
        conn_close(link_entry(srv->conns.next, struct rpc_conn, node));
}

static void server_dispatch(struct rpc_conn *conn, Riffle__Envelope *env)
{
    struct rf_rpc_server *srv = conn->srv;
    struct rf_rpc_call *call = rf_calloc(1, sizeof(*call));

    call->conn = conn;
    call->req = env;
    call->corr = env->correlation_id;
    call->conn_id = conn->id;
    memcpy(call->peer, conn->peer, sizeof(call->peer));
    link_push_back(&conn->calls, &call->node);
    srv->handler(srv, call, env);
}

static void call_free(struct rf_rpc_call *call)
{
    if (call->conn != NULL)
        link_remove(&call->node);
    riffle__envelope__free_unpacked(call->req, NULL);
    rf_free(call);
}

/* Pack env into a new write request; a reply too big for the frame limit is
 * replaced by an UNKNOWN_SERVER_ERROR Status so the caller is not left
 * waiting for its timeout. */
static struct rpc_wreq *reply_pack(struct rpc_conn *conn,
                                   Riffle__Envelope *resp)
{
    Riffle__Status st = RIFFLE__STATUS__INIT;
    Riffle__Envelope err = RIFFLE__ENVELOPE__INIT;
    struct rpc_wreq *w;
    ssize_t n = rf__rpc_frame_size(resp, conn->max_frame);

    if (n == RF_ETOOBIG) {
        RF_ERROR("rpc reply over frame limit peer=%s corr=%llu size=%zu "
                 "max=%u",
                 conn->peer, (unsigned long long)resp->correlation_id,
                 riffle__envelope__get_packed_size(resp), conn->max_frame);
        st.code = RIFFLE__ERROR_CODE__UNKNOWN_SERVER_ERROR;
        st.message = (char *)"response exceeds the RPC frame limit";
        st.leader_id = -1;
        err.correlation_id = resp->correlation_id;
        err.body_case = RIFFLE__ENVELOPE__BODY_ERROR;
        err.error = &st;
        resp = &err;
        n = rf__rpc_frame_size(resp, conn->max_frame);
    }
    if (n < 0) {
        RF_ERROR("rpc reply not sent peer=%s corr=%llu err=%s", conn->peer,
                 (unsigned long long)resp->correlation_id, rf_err_name((int)n));
        return NULL;
    }
    w = wreq_new((size_t)n);
    rf__rpc_frame_write(resp, w->data, (size_t)n);
    return w;
}

void rf_rpc_reply(struct rf_rpc_call *call, Riffle__Envelope *resp)
{
    struct rpc_conn *conn = call->conn;
    struct rpc_wreq *w;

    if (conn != NULL && !conn->closing) {
        resp->correlation_id = call->corr;
        w = reply_pack(conn, resp);
        if (w != NULL && conn_write(conn, w) != 0)
            conn_fail(conn);
        else if (!conn->paused && conn_wq_size(conn) > RPC_WQ_HIGH) {
            /* the peer is not reading its replies: stop taking requests */
            uv_read_stop((uv_stream_t *)&conn->tcp);
            conn->paused = true;
        }
    }
    call_free(call);
}

void rf_rpc_call_drop(struct rf_rpc_call *call)
{
    call_free(call);
}

bool rf_rpc_call_alive(const struct rf_rpc_call *call)
{
    return call->conn != NULL && !call->conn->closing;
}

const char *rf_rpc_call_peer(const struct rf_rpc_call *call)
{
    return call->peer;
}

uint64_t rf_rpc_call_conn_id(const struct rf_rpc_call *call)
{
    return call->conn_id;
}

void rf_rpc_call_set_data(struct rf_rpc_call *call, void *data)
{
    call->data = data;
}

void *rf_rpc_call_get_data(const struct rf_rpc_call *call)
{
    return call->data;
}

/* ---- client ---- */

enum client_state {
    CLI_IDLE,       /* no connection, nothing scheduled */
    CLI_WAIT,       /* state timer runs: backoff, or 0 ms before a first try */
    CLI_CONNECTING, /* resolving or connecting; state timer = connect timeout */
    CLI_CONNECTED,
    CLI_CLOSING,
};

struct rpc_pending {
    struct rf_rpc_client *c;
    uint64_t corr;
    uint64_t deadline; /* uv_now() ms */
    int status;        /* reported at the deadline: RF_ETIMEDOUT, or a
                        * failure found inside rf_rpc_call and deferred */
    rf_rpc_response_cb cb;
    void *data;
    struct rpc_wreq *w;        /* owned while unsent */
    struct link q;             /* in c->unsent, or a local failure list */
    struct link dl;            /* in c->by_deadline */
    struct rpc_pending *hnext; /* chain in c->sent */
    bool sent;
};

struct rpc_resolve {
    uv_getaddrinfo_t req;
    struct rf_rpc_client *c;
};

struct rf_rpc_client {
    uv_loop_t *loop;
    char *host; /* owned */
    uint16_t port;
    bool literal;
    struct sockaddr_in addr4;
    struct rf_rpc_client_opts opts; /* defaults filled in */
    enum client_state state;
    struct rpc_conn *conn;         /* CONNECTING/CONNECTED only */
    struct rpc_resolve *resolving; /* the current attempt's lookup */
    uv_timer_t state_timer;
    uv_timer_t call_timer;
    uint64_t next_corr;
    uint32_t backoff_ms;
    uint64_t rng;
    struct link unsent;      /* calls not yet written, oldest first */
    struct link by_deadline; /* every pending call, earliest first */
    struct rpc_pending **sent; /* written calls by corr: chained buckets */
    size_t sent_mask, nsent;
    unsigned refs; /* timers, conns and lookups not yet finished */
    void (*close_cb)(void *data);
    void *close_data;
};

static void client_attempt(struct rf_rpc_client *c);

/* -- sent table: correlation ids are sequential, so corr & mask spreads
 * them evenly -- */

static void sent_put(struct rf_rpc_client *c, struct rpc_pending *p)
{
    size_t i;

    if (c->nsent > c->sent_mask) {
        size_t nb = 2 * (c->sent_mask + 1);
        struct rpc_pending **b = rf_calloc(nb, sizeof(*b));
        for (i = 0; i <= c->sent_mask; i++) {
            while (c->sent[i] != NULL) {
                struct rpc_pending *q = c->sent[i];
                c->sent[i] = q->hnext;
                q->hnext = b[q->corr & (nb - 1)];
                b[q->corr & (nb - 1)] = q;
            }
        }
        rf_free(c->sent);
        c->sent = b;
        c->sent_mask = nb - 1;
    }
    i = p->corr & c->sent_mask;
    p->hnext = c->sent[i];
    c->sent[i] = p;
    p->sent = true;
    c->nsent++;
}

static struct rpc_pending *sent_take(struct rf_rpc_client *c, uint64_t corr)
{
    struct rpc_pending **pp = &c->sent[corr & c->sent_mask];

    for (; *pp != NULL; pp = &(*pp)->hnext) {
        struct rpc_pending *p = *pp;
        if (p->corr == corr) {
            *pp = p->hnext;
            p->hnext = NULL;
            p->sent = false;
            c->nsent--;
            return p;
        }
    }
    return NULL;
}

/* -- deadlines -- */

static void pending_insert_deadline(struct rf_rpc_client *c,
                                    struct rpc_pending *p)
{
    struct link *pos = c->by_deadline.prev;

    /* usually the newest call has the latest deadline: scan from the back */
    while (pos != &c->by_deadline &&
           link_entry(pos, struct rpc_pending, dl)->deadline > p->deadline)
        pos = pos->prev;
    link_insert_after(pos, &p->dl);
}

static void on_call_timer(uv_timer_t *t);

static void call_timer_rearm(struct rf_rpc_client *c)
{
    struct rpc_pending *p;
    uint64_t now = uv_now(c->loop);

    if (c->state == CLI_CLOSING)
        return;
    if (link_empty(&c->by_deadline)) {
        uv_timer_stop(&c->call_timer);
        return;
    }
    p = link_entry(c->by_deadline.next, struct rpc_pending, dl);
    uv_timer_start(&c->call_timer, on_call_timer,
                   p->deadline > now ? p->deadline - now : 0, 0);
}

/* Unlink p from every client structure, free it and its unsent bytes, then
 * fire its callback (last: the callback may re-enter the client). */
static void pending_finish(struct rpc_pending *p, int status,
                           const Riffle__Envelope *resp)
{
    struct rf_rpc_client *c = p->c;
    rf_rpc_response_cb cb = p->cb;
    void *data = p->data;

    if (p->sent)
        sent_take(c, p->corr);
    link_remove(&p->q);
    link_remove(&p->dl);
    rf_free(p->w);
    rf_free(p);
    cb(data, status, resp);
}

static void on_call_timer(uv_timer_t *t)
{
    struct rf_rpc_client *c = t->data;
    uint64_t now = uv_now(c->loop);

    while (c->state != CLI_CLOSING && !link_empty(&c->by_deadline)) {
        struct rpc_pending *p =
            link_entry(c->by_deadline.next, struct rpc_pending, dl);
        if (p->deadline > now)
            break;
        if (p->status == RF_ETIMEDOUT)
            RF_DEBUG("rpc call timed out peer=%s:%u corr=%llu", c->host,
                     (unsigned)c->port, (unsigned long long)p->corr);
        pending_finish(p, p->status, NULL);
    }
    call_timer_rearm(c);
}

/* Fail every sent and unsent call with status. Collected first: callbacks
 * may queue new calls, which this must not touch. */
static void client_fail_queued(struct rf_rpc_client *c, int status)
{
    struct link fail;
    size_t i;

    link_init(&fail);
    for (i = 0; c->nsent > 0 && i <= c->sent_mask; i++) {
        while (c->sent[i] != NULL) {
            struct rpc_pending *p = c->sent[i];
            c->sent[i] = p->hnext;
            p->hnext = NULL;
            p->sent = false;
            c->nsent--;
            link_push_back(&fail, &p->q);
        }
    }
    while (!link_empty(&c->unsent)) {
        struct link *n = c->unsent.next;
        link_remove(n);
        link_push_back(&fail, n);
    }
    while (!link_empty(&fail))
        pending_finish(link_entry(fail.next, struct rpc_pending, q), status,
                       NULL);
    call_timer_rearm(c);
}

/* -- connection state machine -- */

uint32_t rf__rpc_jitter(uint64_t *rng, uint32_t ms)
{
    uint64_t x = *rng, v;

    /* xorshift64 */
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *rng = x;
    v = (uint64_t)ms * (80u + x % 41u) / 100u;
    return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

uint32_t rf__rpc_backoff_next(uint32_t cur, uint32_t max)
{
    return cur > max / 2 ? max : cur * 2;
}

static void on_state_timer(uv_timer_t *t);

static void client_backoff(struct rf_rpc_client *c)
{
    uint32_t delay = rf__rpc_jitter(&c->rng, c->backoff_ms);

    c->backoff_ms = rf__rpc_backoff_next(c->backoff_ms, c->opts.backoff_max_ms);
    c->state = CLI_WAIT;
    uv_timer_start(&c->state_timer, on_state_timer, delay, 0);
}

static void client_attempt_failed(struct rf_rpc_client *c, int uverr)
{
    RF_INFO("rpc connect failed peer=%s:%u err=%s", c->host,
            (unsigned)c->port, uv_err_name(uverr));
    if (c->conn != NULL) {
        conn_close(c->conn);
        c->conn = NULL;
    }
    c->resolving = NULL;
    client_backoff(c);
    client_fail_queued(c, RF_ECONNECT);
}

static void client_conn_lost(struct rf_rpc_client *c)
{
    RF_INFO("rpc connection lost peer=%s", c->conn->peer);
    conn_close(c->conn);
    c->conn = NULL;
    client_backoff(c);
    client_fail_queued(c, RF_ECLOSED);
}

/* Write queued calls while the kernel keeps up. A write refused at once is
 * handled from the state timer so no callback fires inside rf_rpc_call. */
static void client_flush(struct rf_rpc_client *c)
{
    struct rpc_conn *conn = c->conn;

    while (!conn->broken && !link_empty(&c->unsent) &&
           conn_wq_size(conn) < RPC_WQ_HIGH) {
        struct rpc_pending *p =
            link_entry(c->unsent.next, struct rpc_pending, q);
        struct rpc_wreq *w = p->w;
        link_remove(&p->q);
        p->w = NULL;
        sent_put(c, p);
        if (conn_write(conn, w) != 0) {
            conn->broken = true;
            uv_read_stop((uv_stream_t *)&conn->tcp);
            uv_timer_start(&c->state_timer, on_state_timer, 0, 0);
        }
    }
}

static void client_on_connect(uv_connect_t *req, int status)
{
    struct rpc_conn *conn = req->handle->data;
    struct rf_rpc_client *c = conn->cli;
    int rc;

    if (c->conn != conn)
        return; /* abandoned attempt (timed out or client closing) */
    rc = status;
    if (rc == 0) {
        conn_set_peer(conn);
        conn_tune(conn);
        rc = conn_start_reading(conn);
    }
    if (rc != 0) {
        client_attempt_failed(c, rc);
        return;
    }
    uv_timer_stop(&c->state_timer);
    c->state = CLI_CONNECTED;
    RF_DEBUG("rpc connected peer=%s", conn->peer);
    client_flush(c);
}

static void client_connect_addr(struct rf_rpc_client *c,
                                const struct sockaddr *sa)
{
    struct rpc_conn *conn = conn_new(c->loop, CONN_CLIENT, c->opts.max_frame);
    int rc;

    conn->cli = c;
    c->refs++;
    c->conn = conn;
    rc = uv_tcp_connect(&conn->creq, &conn->tcp, sa, client_on_connect);
    if (rc != 0)
        client_attempt_failed(c, rc);
}

static void client_on_resolved(uv_getaddrinfo_t *req, int status,
                               struct addrinfo *res)
{
    struct rpc_resolve *r = (struct rpc_resolve *)(void *)req;
    struct rf_rpc_client *c = r->c;
    bool current = c->state == CLI_CONNECTING && c->resolving == r;

    rf_free(r);
    if (current) {
        c->resolving = NULL;
        if (status != 0)
            client_attempt_failed(c, status);
        else
            client_connect_addr(c, pick_addr(res));
    }
    uv_freeaddrinfo(res);
    client_ref_put(c);
}

static void client_attempt(struct rf_rpc_client *c)
{
    struct rpc_resolve *r;
    struct addrinfo hints;
    char portstr[8];
    int rc;

    c->state = CLI_CONNECTING;
    uv_timer_start(&c->state_timer, on_state_timer,
                   c->opts.connect_timeout_ms, 0);
    if (c->literal) {
        client_connect_addr(c, (const struct sockaddr *)&c->addr4);
        return;
    }
    r = rf_calloc(1, sizeof(*r));
    r->c = c;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    snprintf(portstr, sizeof(portstr), "%u", (unsigned)c->port);
    rc = uv_getaddrinfo(c->loop, &r->req, client_on_resolved, c->host,
                        portstr, &hints);
    if (rc != 0) {
        rf_free(r);
        client_attempt_failed(c, rc);
        return;
    }
    c->refs++;
    c->resolving = r;
}

static void on_state_timer(uv_timer_t *t)
{
    struct rf_rpc_client *c = t->data;

    switch (c->state) {
    case CLI_WAIT:
        if (link_empty(&c->unsent))
            c->state = CLI_IDLE;
        else
            client_attempt(c);
        break;
    case CLI_CONNECTING:
        client_attempt_failed(c, UV_ETIMEDOUT);
        break;
    case CLI_CONNECTED:
        if (c->conn->broken)
            client_conn_lost(c);
        break;
    default:
        break;
    }
}

static void client_dispatch(struct rpc_conn *conn, Riffle__Envelope *env)
{
    struct rf_rpc_client *c = conn->cli;
    struct rpc_pending *p = NULL;

    if (c->conn == conn)
        p = sent_take(c, env->correlation_id);
    if (p == NULL) {
        RF_DEBUG("rpc response for no pending call peer=%s corr=%llu",
                 conn->peer, (unsigned long long)env->correlation_id);
    } else {
        c->backoff_ms = c->opts.backoff_min_ms; /* the peer works */
        pending_finish(p, 0, env);
        call_timer_rearm(c);
    }
    riffle__envelope__free_unpacked(env, NULL);
}

static void client_free(struct rf_rpc_client *c)
{
    void (*cb)(void *data) = c->close_cb;
    void *data = c->close_data;

    /* every pending call is on by_deadline, sent or not */
    while (!link_empty(&c->by_deadline))
        pending_finish(link_entry(c->by_deadline.next, struct rpc_pending, dl),
                       RF_ECANCELED, NULL);
    assert(c->nsent == 0);
    rf_free(c->sent);
    rf_free(c->host);
    rf_free(c);
    if (cb != NULL)
        cb(data);
}

static void client_ref_put(struct rf_rpc_client *c)
{
    if (--c->refs == 0 && c->state == CLI_CLOSING)
        client_free(c);
}

static void client_timer_closed(uv_handle_t *h)
{
    client_ref_put(h->data);
}

int rf_rpc_client_new(uv_loop_t *loop, const char *host, uint16_t port,
                      const struct rf_rpc_client_opts *opts,
                      struct rf_rpc_client **out)
{
    struct rf_rpc_client *c;

    if (host == NULL || host[0] == '\0' || port == 0)
        return RF_EINVAL;
    rpc_ignore_sigpipe();
    c = rf_calloc(1, sizeof(*c));
    c->loop = loop;
    c->host = rf_strdup(host);
    c->port = port;
    c->literal = uv_ip4_addr(host, port, &c->addr4) == 0;
    if (opts != NULL)
        c->opts = *opts;
    c->opts.max_frame = max_frame_norm(c->opts.max_frame);
    if (c->opts.connect_timeout_ms == 0)
        c->opts.connect_timeout_ms = 2000;
    if (c->opts.backoff_min_ms == 0)
        c->opts.backoff_min_ms = 50;
    if (c->opts.backoff_max_ms == 0)
        c->opts.backoff_max_ms = 2000;
    if (c->opts.backoff_max_ms < c->opts.backoff_min_ms)
        c->opts.backoff_max_ms = c->opts.backoff_min_ms;
    c->backoff_ms = c->opts.backoff_min_ms;
    c->rng = (uv_hrtime() ^ (uint64_t)(uintptr_t)c) | 1u;
    c->state = CLI_IDLE;
    link_init(&c->unsent);
    link_init(&c->by_deadline);
    c->sent_mask = RPC_TABLE_MIN - 1;
    c->sent = rf_calloc(RPC_TABLE_MIN, sizeof(*c->sent));
    uv_timer_init(loop, &c->state_timer);
    uv_timer_init(loop, &c->call_timer);
    c->state_timer.data = c;
    c->call_timer.data = c;
    c->refs = 2;
    *out = c;
    return 0;
}

int rf_rpc_call(struct rf_rpc_client *c, Riffle__Envelope *req,
                uint32_t timeout_ms, rf_rpc_response_cb cb, void *data)
{
    struct rpc_pending *p;
    ssize_t n;

    if (c->state == CLI_CLOSING)
        return RF_ESHUTDOWN;
    p = rf_calloc(1, sizeof(*p));
    p->c = c;
    p->corr = ++c->next_corr;
    p->cb = cb;
    p->data = data;
    link_init(&p->q);
    req->correlation_id = p->corr;
    n = rf__rpc_frame_size(req, c->opts.max_frame);
    p->status = n < 0 ? (int)n : RF_ETIMEDOUT;
    if (timeout_ms == 0)
        timeout_ms = RPC_CALL_TIMEOUT_DEFAULT;
    /* a call that cannot be sent fails at the next timer run, not inline */
    p->deadline = uv_now(c->loop) + (n < 0 ? 0 : timeout_ms);
    pending_insert_deadline(c, p);
    if (n >= 0) {
        p->w = wreq_new((size_t)n);
        rf__rpc_frame_write(req, p->w->data, (size_t)n);
        link_push_back(&c->unsent, &p->q);
        if (c->state == CLI_IDLE) {
            c->state = CLI_WAIT;
            uv_timer_start(&c->state_timer, on_state_timer, 0, 0);
        } else if (c->state == CLI_CONNECTED) {
            client_flush(c);
        }
    }
    if (c->by_deadline.next == &p->dl)
        call_timer_rearm(c);
    return 0;
}

void rf_rpc_client_close(struct rf_rpc_client *c, void (*cb)(void *data),
                         void *data)
{
    assert(c->state != CLI_CLOSING);
    c->state = CLI_CLOSING;
    c->close_cb = cb;
    c->close_data = data;
    if (c->conn != NULL) {
        conn_close(c->conn);
        c->conn = NULL;
    }
    if (c->resolving != NULL) {
        uv_cancel((uv_req_t *)&c->resolving->req); /* may be too late */
        c->resolving = NULL;
    }
    uv_close((uv_handle_t *)&c->state_timer, client_timer_closed);
    uv_close((uv_handle_t *)&c->call_timer, client_timer_closed);
}

bool rf_rpc_client_connected(const struct rf_rpc_client *c)
{
    return c->state == CLI_CONNECTED;
}

/* ---- shared connection: role dispatch ---- */

static void conn_dispatch(struct rpc_conn *conn, Riffle__Envelope *env)
{
    if (conn->role == CONN_SERVER)
        server_dispatch(conn, env);
    else
        client_dispatch(conn, env);
}

/* The connection is unusable: for a client's current connection that also
 * fails its calls and schedules a reconnect. */
static void conn_fail(struct rpc_conn *conn)
{
    if (conn->closing)
        return;
    if (conn->role != CONN_CLIENT || conn->cli->conn != conn)
        conn_close(conn);
    else if (conn->cli->state == CLI_CONNECTED)
        client_conn_lost(conn->cli);
    else
        client_attempt_failed(conn->cli, UV_ECONNRESET);
}

static void conn_write_done(struct rpc_conn *conn)
{
    if (conn->role == CONN_CLIENT) {
        if (conn->cli->conn == conn && conn->cli->state == CLI_CONNECTED)
            client_flush(conn->cli);
        return;
    }
    if (conn->paused && conn_wq_size(conn) <= RPC_WQ_LOW) {
        conn->paused = false;
        if (conn_start_reading(conn) != 0)
            conn_close(conn);
    }
}
