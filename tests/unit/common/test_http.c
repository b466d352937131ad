/* test_http.c: the libmicrohttpd endpoint on a libuv loop, queried by a
 * blocking HTTP client on another thread: a served path, 404, 405 for POST,
 * many requests in a row, and a clean close (no handle left). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>

#include "http.h"

struct fx {
    uv_loop_t loop;
    uv_async_t done;
    struct rf_http *h;
    uint16_t port;
    int served;
    int failures;
    char failmsg[200];
    bool closed;
};

static int handler(void *data, const char *path, struct rf_wr *body,
                   const char **ctype)
{
    struct fx *f = data; /* runs on the loop thread */
    char buf[64];
    f->served++;
    if (strcmp(path, "/metrics") == 0) {
        int n = snprintf(buf, sizeof buf, "riffle_served_total %d\n",
                         f->served);
        rf_wr_bytes(body, buf, (size_t)n);
        *ctype = "text/plain; version=0.0.4";
        return 200;
    }
    rf_wr_bytes(body, "not found\n", 10);
    return 404;
}

/* One request; returns the status and copies the body into out. */
static int get(struct fx *f, const char *req, char *out, size_t outsz)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(f->port)};
    struct timeval tv = {.tv_sec = 10};
    char resp[4096];
    size_t got = 0;
    int status = -1, fd = socket(AF_INET, SOCK_STREAM, 0);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    send(fd, req, strlen(req), 0);
    for (;;) {
        ssize_t n = recv(fd, resp + got, sizeof resp - 1 - got, 0);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    resp[got] = '\0';
    sscanf(resp, "HTTP/1.%*d %d", &status);
    const char *b = strstr(resp, "\r\n\r\n");
    snprintf(out, outsz, "%s", b ? b + 4 : "");
    return status;
}

#define CHECK(f, c)                                                          \
    do {                                                                     \
        if (!(c) && (f)->failures++ == 0)                                    \
            snprintf((f)->failmsg, sizeof (f)->failmsg, "%d: %s", __LINE__, #c); \
    } while (0)

static void *client(void *arg)
{
    struct fx *f = arg;
    char body[1024];
    CHECK(f, get(f, "GET /metrics HTTP/1.0\r\n\r\n", body, sizeof body) == 200);
    CHECK(f, strcmp(body, "riffle_served_total 1\n") == 0);
    CHECK(f, get(f, "GET /nope HTTP/1.0\r\n\r\n", body, sizeof body) == 404);
    CHECK(f, get(f, "POST /metrics HTTP/1.0\r\nContent-Length: 0\r\n\r\n", body,
                 sizeof body) == 405);
    for (int i = 0; i < 50; i++)
        CHECK(f, get(f, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                     body, sizeof body) == 200);
    CHECK(f, strcmp(body, "riffle_served_total 52\n") == 0);
    uv_async_send(&f->done);
    return NULL;
}

static void on_closed(void *data)
{
    ((struct fx *)data)->closed = true;
}

static void on_done(uv_async_t *a)
{
    struct fx *f = a->data;
    rf_http_close(f->h, on_closed, f);
    uv_close((uv_handle_t *)a, NULL);
}

static void test_serve(void **state)
{
    struct fx f;
    pthread_t th;
    char errmsg[256];
    (void)state;
    memset(&f, 0, sizeof f);
    uv_loop_init(&f.loop);
    assert_int_equal(rf_http_start(&f.loop, "127.0.0.1", 0, handler, &f, &f.h,
                                   errmsg),
                     0);
    f.port = rf_http_port(f.h);
    assert_true(f.port != 0);
    uv_async_init(&f.loop, &f.done, on_done);
    f.done.data = &f;
    pthread_create(&th, NULL, client, &f);
    uv_run(&f.loop, UV_RUN_DEFAULT);
    pthread_join(th, NULL);
    assert_true(f.closed);
    assert_int_equal(uv_loop_close(&f.loop), 0);
    if (f.failures)
        fail_msg("%d check(s) failed, first at line %s", f.failures, f.failmsg);
}

static void test_bad_address(void **state)
{
    uv_loop_t loop;
    struct rf_http *h = NULL;
    char errmsg[256];
    (void)state;
    uv_loop_init(&loop);
    assert_true(rf_http_start(&loop, "localhost", 0, handler, NULL, &h,
                              errmsg) < 0);
    assert_true(rf_http_start(&loop, "192.0.2.7", 9, handler, NULL, &h,
                              errmsg) < 0);
    assert_null(h);
    assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_serve),
        cmocka_unit_test(test_bad_address),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
