/* test_kconn.c: the Kafka listener over real loopback sockets: request
 * order under pipelining, no-response requests, size limits, timeouts, the
 * connection cap, byte-at-a-time frames, answers after the peer left, and a
 * clean shutdown. The loop runs on the main thread; each scenario is a
 * blocking client on a second thread. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>

#include "alloc.h"
#include "buf.h"
#include "kconn.h"

struct fixture {
    uv_loop_t loop;
    uv_async_t done;
    uv_async_t close_now; /* a scenario closes the listener mid-way */
    bool closed_early;
    struct rf_klistener *l;
    uint16_t port;
    pthread_t thread;
    void (*scenario)(struct fixture *f);
    int failures;
    char failmsg[256];
    int handled;
    int closed_cb;
};

/* ---- handler: echo the frame; 'D' answers after 50 ms, 'N' answers
 * nothing, 'X' closes. ---- */

struct delayed {
    uv_timer_t timer;
    struct rf_kconn *conn;
    uint8_t *frame;
    size_t len;
};

/* Requests handed over and not yet answered, and the most at once. */
static int outstanding, max_outstanding;

/* Non-zero while rf_kconn_respond runs: the handler must never be entered
 * from inside it (the next request starts on a later loop turn). */
static int in_respond;
static int reentered;

static void echo(struct rf_kconn *conn, const uint8_t *frame, size_t len)
{
    uint8_t *resp = rf_malloc(len + 4);
    uint32_t be = htonl((uint32_t)len);
    memcpy(resp, &be, 4);
    memcpy(resp + 4, frame, len);
    in_respond++;
    rf_kconn_respond(conn, resp, len + 4);
    in_respond--;
}

static void delayed_closed(uv_handle_t *h)
{
    rf_free(h->data);
}

static void on_delay(uv_timer_t *t)
{
    struct delayed *d = t->data;
    outstanding--;
    echo(d->conn, d->frame, d->len); /* conn may be gone: must be safe */
    uv_close((uv_handle_t *)&d->timer, delayed_closed);
}

static void handler(struct rf_kconn *conn, uint8_t *frame, size_t len,
                    void *data)
{
    struct fixture *f = data;
    f->handled++;
    if (in_respond)
        reentered++;
    switch (frame[0]) {
    case 'D':   /* answers after 50 ms */
    case 'P': { /* pipelined; answers after (30 - len) * 20 ms */
        struct delayed *d = rf_calloc(1, sizeof *d);
        d->conn = conn;
        d->frame = frame;
        d->len = len;
        uv_timer_init(&f->loop, &d->timer);
        d->timer.data = d;
        if (++outstanding > max_outstanding)
            max_outstanding = outstanding;
        if (frame[0] == 'P') {
            uv_timer_start(&d->timer, on_delay, (30 - len) * 20, 0);
            in_respond++; /* rf_kconn_pipeline never dispatches inline */
            rf_kconn_pipeline(conn);
            in_respond--;
        } else {
            uv_timer_start(&d->timer, on_delay, 50, 0);
        }
        break;
    }
    case 'N':
        rf_kconn_done(conn);
        break;
    case 'X':
        rf_kconn_close(conn);
        break;
    case 'L': { /* large frame: answer 'L' + the sum of all its bytes */
        uint8_t sum[5] = {'L', 0, 0, 0, 0};
        uint32_t total = 0;
        for (size_t i = 0; i < len; i++)
            total += frame[i];
        sum[1] = (uint8_t)(total >> 24);
        sum[2] = (uint8_t)(total >> 16);
        sum[3] = (uint8_t)(total >> 8);
        sum[4] = (uint8_t)total;
        echo(conn, sum, sizeof sum);
        break;
    }
    default:
        echo(conn, frame, len);
    }
}

/* ---- client helpers (blocking, client thread) ---- */

#define CHECK(f, cond)                                                       \
    do {                                                                     \
        if (!(cond) && (f)->failures++ == 0)                                 \
            snprintf((f)->failmsg, sizeof (f)->failmsg, "%s:%d: %s",         \
                     __FILE__, __LINE__, #cond);                             \
    } while (0)

static int client_connect(struct fixture *f)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(f->port)};
    struct timeval tv = {.tv_sec = 10};
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* A frame: size prefix + body of `len` bytes starting with tag. */
static size_t make_frame(uint8_t *out, char tag, size_t len)
{
    uint32_t be = htonl((uint32_t)len);
    memcpy(out, &be, 4);
    memset(out + 4, 'a' + (tag % 26), len);
    out[4] = (uint8_t)tag;
    return len + 4;
}

static int read_full(int fd, uint8_t *p, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = recv(fd, p + got, n - got, 0);
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    return 0;
}

/* Reads one response; returns its first byte, or -1 on EOF/error. */
static int read_response(int fd, size_t *len)
{
    uint8_t hdr[4], body[4096];
    uint32_t n;
    if (read_full(fd, hdr, 4) != 0)
        return -1;
    memcpy(&n, hdr, 4);
    n = ntohl(n);
    if (n == 0 || n > sizeof body || read_full(fd, body, n) != 0)
        return -1;
    *len = n;
    return body[0];
}

static int is_closed(int fd)
{
    uint8_t b;
    return recv(fd, &b, 1, 0) <= 0;
}

/* ---- scenarios ---- */

static void sc_pipelined_order(struct fixture *f)
{
    uint8_t buf[256];
    size_t n = 0, len;
    int fd = client_connect(f);
    CHECK(f, fd >= 0);
    n += make_frame(buf + n, 'D', 20); /* slow first: answers must wait */
    n += make_frame(buf + n, 'N', 12); /* no response at all */
    n += make_frame(buf + n, 'B', 30);
    n += make_frame(buf + n, 'C', 11);
    CHECK(f, send(fd, buf, n, 0) == (ssize_t)n);
    CHECK(f, read_response(fd, &len) == 'D' && len == 20);
    CHECK(f, read_response(fd, &len) == 'B' && len == 30);
    CHECK(f, read_response(fd, &len) == 'C' && len == 11);
    close(fd);
}

/* Pipelined requests answered in reverse order still leave in request
 * order; a request that does not pipeline holds the next one back. */
static void sc_pipeline(struct fixture *f)
{
    uint8_t buf[512];
    size_t n = 0, len;
    int fd = client_connect(f);
    CHECK(f, fd >= 0);
    for (size_t i = 20; i < 25; i++)
        n += make_frame(buf + n, 'P', i); /* answers 200, 180 ... 120 ms */
    n += make_frame(buf + n, 'E', 15);    /* answered at once */
    n += make_frame(buf + n, 'D', 16);    /* 50 ms, not pipelined */
    n += make_frame(buf + n, 'F', 17);    /* waits for D's answer */
    CHECK(f, send(fd, buf, n, 0) == (ssize_t)n);
    for (size_t i = 20; i < 25; i++)
        CHECK(f, read_response(fd, &len) == 'P' && len == i);
    CHECK(f, read_response(fd, &len) == 'E' && len == 15);
    CHECK(f, read_response(fd, &len) == 'D' && len == 16);
    CHECK(f, read_response(fd, &len) == 'F' && len == 17);
    close(fd);
}

static void sc_size_limits(struct fixture *f)
{
    static const uint8_t huge[4] = {0x80, 0, 0, 0};   /* 2 GiB */
    static const uint8_t small[4] = {0, 0, 0, 5};     /* below the header */
    uint8_t buf[64];
    size_t len, n;
    int fd = client_connect(f), other = client_connect(f);
    CHECK(f, fd >= 0 && other >= 0);
    CHECK(f, send(fd, huge, 4, 0) == 4);
    CHECK(f, is_closed(fd));
    close(fd);
    fd = client_connect(f);
    CHECK(f, send(fd, small, 4, 0) == 4);
    CHECK(f, is_closed(fd));
    close(fd);
    /* the other connection still works */
    n = make_frame(buf, 'Q', 40);
    CHECK(f, send(other, buf, n, 0) == (ssize_t)n);
    CHECK(f, read_response(other, &len) == 'Q' && len == 40);
    close(other);
}

static void sc_byte_at_a_time(struct fixture *f)
{
    uint8_t buf[64];
    size_t len, n = make_frame(buf, 'S', 25);
    int fd = client_connect(f);
    for (size_t i = 0; i < n; i++) {
        CHECK(f, send(fd, buf + i, 1, 0) == 1);
        usleep(2000);
    }
    CHECK(f, read_response(fd, &len) == 'S' && len == 25);
    close(fd);
}

/* The server closed fd (EOF or reset) within ms; a silent socket is not
 * closed. */
static int closed_within(int fd, int ms)
{
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
    uint8_t b;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ssize_t r = recv(fd, &b, 1, 0);
    return r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

static void sc_timeouts(struct fixture *f)
{
    uint8_t buf[64];
    size_t len, n;
    int idle = client_connect(f), partial = client_connect(f);
    int piped = client_connect(f);
    make_frame(buf, 'P', 30);
    CHECK(f, send(partial, buf, 6, 0) == 6); /* size + 2 body bytes */
    /* a connection whose last request was pipelined idles out too */
    n = make_frame(buf, 'P', 28); /* answered after 40 ms */
    CHECK(f, send(piped, buf, n, 0) == (ssize_t)n);
    CHECK(f, read_response(piped, &len) == 'P' && len == 28);
    CHECK(f, is_closed(partial));            /* partial timeout */
    CHECK(f, is_closed(idle));               /* idle timeout */
    CHECK(f, closed_within(piped, 3000));    /* idle timeout (200 ms) */
    close(idle);
    close(partial);
    close(piped);
}

static void sc_max_connections(struct fixture *f)
{
    int a = client_connect(f), b = client_connect(f);
    uint8_t buf[64];
    size_t len, n;
    usleep(50000);
    int c = client_connect(f);
    CHECK(f, a >= 0 && b >= 0);
    CHECK(f, c < 0 || is_closed(c));
    n = make_frame(buf, 'M', 12);
    CHECK(f, send(a, buf, n, 0) == (ssize_t)n);
    CHECK(f, read_response(a, &len) == 'M');
    close(a);
    close(b);
    if (c >= 0)
        close(c);
}

static void sc_peer_leaves_during_request(struct fixture *f)
{
    uint8_t buf[64];
    size_t n = make_frame(buf, 'D', 16), len;
    int fd = client_connect(f);
    CHECK(f, send(fd, buf, n, 0) == (ssize_t)n);
    close(fd); /* the handler answers 50 ms later into a closed conn */
    usleep(150000);
    n = make_frame(buf, 'X', 16); /* a handler-closed connection */
    fd = client_connect(f);
    CHECK(f, send(fd, buf, n, 0) == (ssize_t)n);
    CHECK(f, is_closed(fd));
    close(fd);
    fd = client_connect(f); /* still serving */
    n = make_frame(buf, 'Z', 16);
    CHECK(f, send(fd, buf, n, 0) == (ssize_t)n);
    CHECK(f, read_response(fd, &len) == 'Z');
    close(fd);
}

/* A frame far larger than the first buffer, arriving in uneven pieces: the
 * buffer grows as bytes come and every byte reaches the handler (it answers
 * the sum of the bytes, checked here). */
static void sc_large_frame(struct fixture *f)
{
    size_t len = 300 * 1000;
    uint8_t *buf = malloc(len + 4);
    uint8_t ans[9];
    uint32_t total = 0, be = htonl((uint32_t)len);
    int fd = client_connect(f);
    memcpy(buf, &be, 4);
    for (size_t i = 0; i < len; i++)
        buf[4 + i] = (uint8_t)(i * 7 + 3);
    buf[4] = 'L';
    for (size_t i = 0; i < len; i++)
        total += buf[4 + i];
    for (size_t off = 0, step = 1; off < len + 4;
         off += step, step = step * 3 + 1) {
        size_t n = off + step > len + 4 ? len + 4 - off : step;
        CHECK(f, send(fd, buf + off, n, 0) == (ssize_t)n);
    }
    CHECK(f, read_full(fd, ans, sizeof ans) == 0);
    CHECK(f, ans[3] == 5 && ans[4] == 'L');
    CHECK(f, rf_be32_load(ans + 5) == total);
    free(buf);
    close(fd);
}

/* Closing the listener while a request is with its handler: the answer is
 * still delivered, then the connection ends; no new connection is taken. */
static void sc_graceful_close(struct fixture *f)
{
    uint8_t buf[64];
    size_t len, n = make_frame(buf, 'D', 24);
    int fd = client_connect(f), idle = client_connect(f);
    CHECK(f, fd >= 0 && idle >= 0);
    CHECK(f, send(fd, buf, n, 0) == (ssize_t)n);
    usleep(10000); /* the request is now with the handler (50 ms) */
    uv_async_send(&f->close_now);
    CHECK(f, read_response(fd, &len) == 'D' && len == 24);
    CHECK(f, is_closed(fd));
    CHECK(f, is_closed(idle));
    usleep(50000);
    int late = client_connect(f);
    CHECK(f, late < 0 || is_closed(late));
    close(fd);
    close(idle);
    if (late >= 0)
        close(late);
}

/* ---- harness ---- */

static void *client_thread(void *arg)
{
    struct fixture *f = arg;
    f->scenario(f);
    uv_async_send(&f->done);
    return NULL;
}

static void listener_closed(void *data)
{
    struct fixture *f = data;
    f->closed_cb++;
}

static void on_done(uv_async_t *a)
{
    struct fixture *f = a->data;
    if (!f->closed_early)
        rf_klistener_close(f->l, 1000, listener_closed, f);
    uv_close((uv_handle_t *)&f->done, NULL);
    uv_close((uv_handle_t *)&f->close_now, NULL);
}

static void on_close_now(uv_async_t *a)
{
    struct fixture *f = a->data;
    f->closed_early = true;
    rf_klistener_close(f->l, 2000, listener_closed, f);
}

static void run(void (*scenario)(struct fixture *),
                const struct rf_klistener_opts *opts)
{
    struct fixture f;
    char errmsg[256];
    memset(&f, 0, sizeof f);
    f.scenario = scenario;
    reentered = 0;
    outstanding = max_outstanding = 0;
    assert_int_equal(uv_loop_init(&f.loop), 0);
    assert_int_equal(rf_klistener_start(&f.loop, "127.0.0.1", 0, opts,
                                        handler, &f, &f.l, errmsg),
                     0);
    f.port = rf_klistener_port(f.l);
    assert_true(f.port > 0);
    uv_async_init(&f.loop, &f.done, on_done);
    f.done.data = &f;
    uv_async_init(&f.loop, &f.close_now, on_close_now);
    f.close_now.data = &f;
    pthread_create(&f.thread, NULL, client_thread, &f);
    uv_run(&f.loop, UV_RUN_DEFAULT);
    pthread_join(f.thread, NULL);
    assert_int_equal(f.closed_cb, 1);
    assert_int_equal(uv_loop_close(&f.loop), 0); /* no leaked handle */
    assert_int_equal(reentered, 0);
    if (f.failures)
        fail_msg("%d check(s) failed, first: %s", f.failures, f.failmsg);
}

static void test_pipelined_order(void **state)
{
    (void)state;
    run(sc_pipelined_order, NULL);
}

static void test_pipeline(void **state)
{
    (void)state;
    run(sc_pipeline, NULL);
    /* the five P and then D were with their handlers at once; F never
     * joined them */
    assert_int_equal(max_outstanding, 6);
}

static void test_size_limits(void **state)
{
    struct rf_klistener_opts o = {.max_frame = 1024};
    (void)state;
    run(sc_size_limits, &o);
}

static void test_byte_at_a_time(void **state)
{
    (void)state;
    run(sc_byte_at_a_time, NULL);
}

static void test_timeouts(void **state)
{
    struct rf_klistener_opts o = {.idle_timeout_ms = 200,
                                  .partial_timeout_ms = 300};
    (void)state;
    run(sc_timeouts, &o);
}

static void test_max_connections(void **state)
{
    struct rf_klistener_opts o = {.max_connections = 2};
    (void)state;
    run(sc_max_connections, &o);
}

static void test_peer_leaves(void **state)
{
    (void)state;
    run(sc_peer_leaves_during_request, NULL);
}

static void test_graceful_close(void **state)
{
    (void)state;
    run(sc_graceful_close, NULL);
}

static void test_large_frame(void **state)
{
    (void)state;
    run(sc_large_frame, NULL);
}

static void test_bind_failure(void **state)
{
    uv_loop_t loop;
    struct rf_klistener *l = NULL;
    char errmsg[256];
    (void)state;
    uv_loop_init(&loop);
    assert_true(rf_klistener_start(&loop, "not-an-ip", 1, NULL, handler, NULL,
                                   &l, errmsg) < 0);
    assert_true(rf_klistener_start(&loop, "192.0.2.1", 9, NULL, handler,
                                   NULL, &l, errmsg) < 0); /* not ours */
    assert_null(l);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pipeline),
        cmocka_unit_test(test_pipelined_order),
        cmocka_unit_test(test_size_limits),
        cmocka_unit_test(test_byte_at_a_time),
        cmocka_unit_test(test_timeouts),
        cmocka_unit_test(test_max_connections),
        cmocka_unit_test(test_peer_leaves),
        cmocka_unit_test(test_graceful_close),
        cmocka_unit_test(test_large_frame),
        cmocka_unit_test(test_bind_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
