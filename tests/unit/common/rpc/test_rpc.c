/* test_rpc.c: the RPC layer over loopback in one libuv loop: round trips,
 * concurrency, ordering, timeouts, reconnects, hostile frames, shutdown. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "alloc.h"
#include "err.h"
#include "rpc.h"
#include "rpc_int.h"

#define MAX_HELD 64
#define WATCHDOG_MS 30000 /* hang guard only; never reached when working */

enum mode { MODE_ECHO, MODE_HOLD };

struct held {
    struct rf_rpc_call *call;
    const Riffle__Envelope *req;
};

/* A raw TCP peer, for bytes no well-behaved client sends. */
struct raw {
    uv_tcp_t tcp;
    uv_connect_t creq;
    uv_write_t wreq;
    uint8_t *bytes;
    size_t len;
    bool self_close; /* we leave after writing, instead of waiting */
    bool no_read;    /* do not read until told to */
    size_t received;
    bool ended, closed;
};

struct fx {
    uv_loop_t loop;
    uv_timer_t watchdog;
    bool watchdog_fired;
    struct rf_rpc_server *srv;
    struct rf_rpc_server_opts sopts;
    uint16_t port;
    enum mode mode;
    struct held held[MAX_HELD];
    int nheld;
    int handled;
    int srv_closed;
    struct rf_rpc_client *cli[4];
    int cli_closed;
    int seq;
    int done; /* client callbacks fired */
    struct raw raw;   /* at most one raw peer at a time */
    bool raw_used;
    uv_timer_t sleep; /* lets time pass without asserting on it */
    bool slept;
    uint64_t last_conn_id;   /* of the last call handled */
    uint64_t closed_ids[8];  /* on_conn_closed, in order */
    int nclosed_ids;
};

/* One client call's outcome. */
struct res {
    struct fx *fx;
    int fired;
    int status;
    int seq;
    bool pong;
    uint64_t nonce;
    size_t plen;
};

/* ---- helpers ---- */

static void on_watchdog(uv_timer_t *t)
{
    struct fx *fx = t->data;
    fx->watchdog_fired = true;
}

#define RUN_UNTIL(fx, cond)                                                  \
    do {                                                                     \
        uv_timer_start(&(fx)->watchdog, on_watchdog, WATCHDOG_MS, 0);        \
        while (!(cond) && !(fx)->watchdog_fired)                             \
            uv_run(&(fx)->loop, UV_RUN_ONCE);                                \
        uv_timer_stop(&(fx)->watchdog);                                      \
        assert_false((fx)->watchdog_fired);                                  \
    } while (0)

static void fill_payload(uint8_t *p, size_t n, uint64_t nonce)
{
    size_t i;
    for (i = 0; i < n; i++)
        p[i] = (uint8_t)(nonce + i * 31);
}

static void check_payload(const uint8_t *p, size_t n, uint64_t nonce)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (p[i] != (uint8_t)(nonce + i * 31))
            fail_msg("payload byte %zu differs", i);
}

static void reply_pong(struct rf_rpc_call *call, const Riffle__Envelope *req)
{
    Riffle__Envelope resp = RIFFLE__ENVELOPE__INIT;
    Riffle__Pong pong = RIFFLE__PONG__INIT;

    assert_int_equal(req->body_case, RIFFLE__ENVELOPE__BODY_PING);
    pong.nonce = req->ping->nonce;
    pong.payload = req->ping->payload;
    resp.body_case = RIFFLE__ENVELOPE__BODY_PONG;
    resp.pong = &pong;
    rf_rpc_reply(call, &resp);
}

static void handler(struct rf_rpc_server *srv, struct rf_rpc_call *call,
                    const Riffle__Envelope *req)
{
    struct fx *fx = rf_rpc_server_data(srv);

    fx->handled++;
    fx->last_conn_id = rf_rpc_call_conn_id(call);
    assert_true(fx->last_conn_id != 0);
    assert_true(rf_rpc_call_alive(call));
    assert_non_null(strstr(rf_rpc_call_peer(call), "127.0.0.1:"));
    if (fx->mode == MODE_HOLD) {
        assert_true(fx->nheld < MAX_HELD);
        fx->held[fx->nheld].call = call;
        fx->held[fx->nheld].req = req;
        fx->nheld++;
        return;
    }
    reply_pong(call, req);
}

static void on_srv_closed(void *data)
{
    struct fx *fx = data;
    fx->srv_closed++;
}

static void on_cli_closed(void *data)
{
    struct fx *fx = data;
    fx->cli_closed++;
    fx->seq++;
}

static void server_start_on(struct fx *fx, const char *host, uint16_t port)
{
    char errmsg[RF_ERRMSG_SIZE] = "";
    int rc = rf_rpc_server_start(&fx->loop, host, port, &fx->sopts, handler,
                                 fx, &fx->srv, errmsg);
    if (rc != 0)
        fail_msg("server start: %s", errmsg);
    fx->port = rf_rpc_server_port(fx->srv);
    assert_true(fx->port != 0);
}

static void server_start(struct fx *fx, uint16_t port)
{
    server_start_on(fx, "127.0.0.1", port);
}

static void server_stop(struct fx *fx)
{
    int before = fx->srv_closed;
    rf_rpc_server_close(fx->srv, on_srv_closed, fx);
    fx->srv = NULL;
    RUN_UNTIL(fx, fx->srv_closed > before);
}

static struct rf_rpc_client *client_new(struct fx *fx, int i,
                                        const char *host,
                                        const struct rf_rpc_client_opts *o)
{
    assert_int_equal(rf_rpc_client_new(&fx->loop, host, fx->port, o,
                                       &fx->cli[i]),
                     0);
    return fx->cli[i];
}

static void on_resp(void *data, int status, const Riffle__Envelope *resp)
{
    struct res *r = data;

    r->fired++;
    r->fx->done++;
    r->status = status;
    r->seq = ++r->fx->seq;
    if (status != 0) {
        assert_null(resp);
        return;
    }
    assert_non_null(resp);
    if (resp->body_case == RIFFLE__ENVELOPE__BODY_PONG) {
        r->pong = true;
        r->nonce = resp->pong->nonce;
        r->plen = resp->pong->payload.len;
        check_payload(resp->pong->payload.data, r->plen, r->nonce);
    }
}

/* Send a Ping with a recognisable payload; asserts nothing fired inline. */
static void send_ping(struct fx *fx, struct rf_rpc_client *c, uint64_t nonce,
                      size_t plen, uint32_t timeout_ms, struct res *r)
{
    Riffle__Envelope req = RIFFLE__ENVELOPE__INIT;
    Riffle__Ping ping = RIFFLE__PING__INIT;
    uint8_t *payload = rf_malloc(plen + 1);

    memset(r, 0, sizeof(*r));
    r->fx = fx;
    fill_payload(payload, plen, nonce);
    ping.nonce = nonce;
    ping.payload.data = payload;
    ping.payload.len = plen;
    req.body_case = RIFFLE__ENVELOPE__BODY_PING;
    req.ping = &ping;
    assert_int_equal(rf_rpc_call(c, &req, timeout_ms, on_resp, r), 0);
    assert_int_equal(r->fired, 0); /* never synchronous */
    rf_free(payload);
}

/* One round trip that must succeed. */
static void ping_ok(struct fx *fx, struct rf_rpc_client *c, uint64_t nonce)
{
    struct res r;

    send_ping(fx, c, nonce, 16, 10000, &r);
    RUN_UNTIL(fx, r.fired);
    assert_int_equal(r.status, 0);
    assert_true(r.pong);
    assert_int_equal(r.nonce, nonce);
    assert_int_equal(r.plen, 16);
}

static void reply_held(struct fx *fx)
{
    int i;
    for (i = 0; i < fx->nheld; i++)
        reply_pong(fx->held[i].call, fx->held[i].req);
    fx->nheld = 0;
}

/* ---- fixture ---- */

static int setup(void **state)
{
    struct fx *fx = rf_calloc(1, sizeof(*fx));

    assert_int_equal(uv_loop_init(&fx->loop), 0);
    uv_timer_init(&fx->loop, &fx->watchdog);
    fx->watchdog.data = fx;
    uv_timer_init(&fx->loop, &fx->sleep);
    fx->sleep.data = fx;
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fx *fx = *state;
    int i, want = fx->cli_closed;

    /* replies to calls whose connection is gone are freed quietly */
    reply_held(fx);
    for (i = 0; i < 4; i++) {
        if (fx->cli[i] != NULL) {
            rf_rpc_client_close(fx->cli[i], on_cli_closed, fx);
            fx->cli[i] = NULL;
            want++;
        }
    }
    if (fx->srv != NULL)
        rf_rpc_server_close(fx->srv, on_srv_closed, fx);
    if (fx->raw_used && !fx->raw.ended)
        uv_close((uv_handle_t *)&fx->raw.tcp, NULL);
    uv_close((uv_handle_t *)&fx->sleep, NULL);
    uv_close((uv_handle_t *)&fx->watchdog, NULL);
    uv_run(&fx->loop, UV_RUN_DEFAULT);
    assert_int_equal(fx->cli_closed, want);
    assert_int_equal(uv_loop_close(&fx->loop), 0); /* no leaked handles */
    rf_free(fx);
    return 0;
}

/* ---- tests ---- */

static void test_ping_roundtrip(void **state)
{
    struct fx *fx = *state;
    struct rf_rpc_client *c;

    server_start(fx, 0);
    c = client_new(fx, 0, "127.0.0.1", NULL);
    assert_false(rf_rpc_client_connected(c));
    ping_ok(fx, c, 1);
    assert_true(rf_rpc_client_connected(c));
    ping_ok(fx, c, 2);
    assert_int_equal(fx->handled, 2);
}

static void test_hostname(void **state)
{
    struct fx *fx = *state;

    server_start_on(fx, "localhost", 0);
    ping_ok(fx, client_new(fx, 0, "localhost", NULL), 99);
    ping_ok(fx, client_new(fx, 1, "127.0.0.1", NULL), 98);
}

/* Start failures report errmsg and leave nothing behind once the loop runs. */
static void test_server_start_errors(void **state)
{
    struct fx *fx = *state;
    struct rf_rpc_server *dup = NULL;
    char errmsg[RF_ERRMSG_SIZE] = "";

    server_start(fx, 0);
    assert_true(rf_rpc_server_start(&fx->loop, "127.0.0.1", fx->port, NULL,
                                    handler, fx, &dup, errmsg) < 0);
    assert_null(dup);
    assert_non_null(strstr(errmsg, "listen 127.0.0.1:"));
    errmsg[0] = '\0';
    /* not an address of this host (TEST-NET-1): bind fails, no DNS asked */
    assert_true(rf_rpc_server_start(&fx->loop, "192.0.2.1", 0, NULL, handler,
                                    fx, &dup, errmsg) < 0);
    assert_null(dup);
    assert_non_null(strstr(errmsg, "listen 192.0.2.1:0"));
    ping_ok(fx, client_new(fx, 0, "127.0.0.1", NULL), 1);
}

#define NCONC 2000

static void test_many_concurrent(void **state)
{
    struct fx *fx = *state;
    struct res *r = rf_calloc(NCONC, sizeof(*r));
    struct rf_rpc_client *c;
    int i;

    server_start(fx, 0);
    c = client_new(fx, 0, "127.0.0.1", NULL);
    for (i = 0; i < NCONC; i++)
        send_ping(fx, c, (uint64_t)i + 1000, (size_t)(i % 200), 20000, &r[i]);
    RUN_UNTIL(fx, fx->done == NCONC);
    for (i = 0; i < NCONC; i++) {
        assert_int_equal(r[i].fired, 1);
        assert_int_equal(r[i].status, 0);
        assert_int_equal(r[i].nonce, (uint64_t)i + 1000);
        assert_int_equal(r[i].plen, (size_t)(i % 200));
    }
    assert_int_equal(fx->handled, NCONC);
    rf_free(r);
}

/* Frames of 1 MiB each: the read buffer grows past its minimum and the
 * client queues more than its write high-water mark. */
static void test_large_payloads(void **state)
{
    struct fx *fx = *state;
    struct res r[8];
    struct rf_rpc_client *c;
    int i;

    server_start(fx, 0);
    c = client_new(fx, 0, "127.0.0.1", NULL);
    for (i = 0; i < 8; i++)
        send_ping(fx, c, (uint64_t)i, 1u << 20, 30000, &r[i]);
    RUN_UNTIL(fx, fx->done == 8);
    for (i = 0; i < 8; i++) {
        assert_int_equal(r[i].status, 0);
        assert_int_equal(r[i].plen, 1u << 20);
        assert_int_equal(r[i].nonce, (uint64_t)i);
    }
}

static void test_out_of_order(void **state)
{
    struct fx *fx = *state;
    struct res r[10];
    struct rf_rpc_client *c;
    int i;

    server_start(fx, 0);
    fx->mode = MODE_HOLD;
    c = client_new(fx, 0, "127.0.0.1", NULL);
    for (i = 0; i < 10; i++)
        send_ping(fx, c, (uint64_t)i + 500, 8, 20000, &r[i]);
    RUN_UNTIL(fx, fx->nheld == 10);
    /* answer newest first, then wait for every answer */
    for (i = 9; i >= 0; i--)
        reply_pong(fx->held[i].call, fx->held[i].req);
    fx->nheld = 0;
    RUN_UNTIL(fx, r[0].fired);
    for (i = 0; i < 10; i++) {
        assert_int_equal(r[i].fired, 1);
        assert_int_equal(r[i].status, 0);
        assert_int_equal(r[i].nonce, (uint64_t)i + 500);
        if (i > 0)
            assert_true(r[i].seq < r[i - 1].seq);
    }
}

static void test_timeouts(void **state)
{
    struct fx *fx = *state;
    struct res r[3], late;
    struct rf_rpc_client *c;

    server_start(fx, 0);
    fx->mode = MODE_HOLD;
    c = client_new(fx, 0, "127.0.0.1", NULL);
    send_ping(fx, c, 1, 4, 300, &r[0]);
    send_ping(fx, c, 2, 4, 100, &r[1]);
    send_ping(fx, c, 3, 4, 200, &r[2]);
    RUN_UNTIL(fx, r[0].fired && r[1].fired && r[2].fired);
    assert_int_equal(r[0].status, RF_ETIMEDOUT);
    assert_int_equal(r[1].status, RF_ETIMEDOUT);
    assert_int_equal(r[2].status, RF_ETIMEDOUT);
    /* deadlines fire in deadline order, whatever the call order */
    assert_true(r[1].seq < r[2].seq && r[2].seq < r[0].seq);
    /* late answers are dropped; the connection keeps working */
    RUN_UNTIL(fx, fx->nheld == 3);
    reply_held(fx);
    fx->mode = MODE_ECHO;
    send_ping(fx, c, 4, 4, 10000, &late);
    RUN_UNTIL(fx, late.fired);
    assert_int_equal(late.status, 0);
    assert_int_equal(r[0].fired + r[1].fired + r[2].fired, 3);
    assert_true(rf_rpc_client_connected(c));
}

static void test_server_gone_then_back(void **state)
{
    struct fx *fx = *state;
    struct rf_rpc_client_opts o = {.backoff_min_ms = 10,
                                   .backoff_max_ms = 100};
    struct rf_rpc_client *c;
    struct res r[3], down;
    uint16_t port;
    int i;

    server_start(fx, 0);
    port = fx->port;
    c = client_new(fx, 0, "127.0.0.1", &o);
    ping_ok(fx, c, 1);
    fx->mode = MODE_HOLD;
    for (i = 0; i < 3; i++)
        send_ping(fx, c, (uint64_t)i, 4, 20000, &r[i]);
    RUN_UNTIL(fx, fx->nheld == 3);
    server_stop(fx);
    /* the held calls outlive their connection and their server */
    for (i = 0; i < 3; i++)
        assert_false(rf_rpc_call_alive(fx->held[i].call));
    RUN_UNTIL(fx, r[0].fired && r[1].fired && r[2].fired);
    for (i = 0; i < 3; i++)
        assert_int_equal(r[i].status, RF_ECLOSED);
    assert_false(rf_rpc_client_connected(c));
    rf_rpc_call_drop(fx->held[0].call);
    reply_pong(fx->held[1].call, fx->held[1].req);
    reply_pong(fx->held[2].call, fx->held[2].req);
    fx->nheld = 0;
    /* nobody listening: the next attempt fails */
    send_ping(fx, c, 7, 4, 20000, &down);
    RUN_UNTIL(fx, down.fired);
    assert_int_equal(down.status, RF_ECONNECT);
    /* back on the same port: the client reconnects */
    fx->mode = MODE_ECHO;
    server_start(fx, port);
    ping_ok(fx, c, 8);
    assert_true(rf_rpc_client_connected(c));
}

static void test_connect_refused(void **state)
{
    struct fx *fx = *state;
    struct res r;

    server_start(fx, 0);
    server_stop(fx); /* its port is now (very likely) unused */
    send_ping(fx, client_new(fx, 0, "127.0.0.1", NULL), 1, 4, 20000, &r);
    RUN_UNTIL(fx, r.fired);
    assert_int_equal(r.status, RF_ECONNECT);
}

static void test_request_too_big(void **state)
{
    struct fx *fx = *state;
    struct rf_rpc_client_opts o = {.max_frame = 64};
    struct rf_rpc_client *c;
    struct res big, small;

    server_start(fx, 0);
    c = client_new(fx, 0, "127.0.0.1", &o);
    send_ping(fx, c, 1, 100, 10000, &big);
    send_ping(fx, c, 2, 10, 10000, &small);
    RUN_UNTIL(fx, big.fired && small.fired);
    assert_int_equal(big.status, RF_ETOOBIG);
    assert_int_equal(small.status, 0);
    assert_int_equal(fx->handled, 1);
}

/* A reply over the server's frame limit becomes a Status error instead. */
static void test_reply_too_big(void **state)
{
    struct fx *fx = *state;
    struct res r;
    struct rf_rpc_client *c;

    fx->sopts.max_frame = 200;
    server_start(fx, 0);
    fx->mode = MODE_HOLD;
    c = client_new(fx, 0, "127.0.0.1", NULL);
    send_ping(fx, c, 1, 150, 10000, &r);
    RUN_UNTIL(fx, fx->nheld == 1);
    {
        Riffle__Envelope resp = RIFFLE__ENVELOPE__INIT;
        Riffle__Pong pong = RIFFLE__PONG__INIT;
        uint8_t big[300];
        memset(big, 'x', sizeof(big));
        pong.payload.data = big;
        pong.payload.len = sizeof(big);
        resp.body_case = RIFFLE__ENVELOPE__BODY_PONG;
        resp.pong = &pong;
        rf_rpc_reply(fx->held[0].call, &resp);
        fx->nheld = 0;
    }
    RUN_UNTIL(fx, r.fired);
    assert_int_equal(r.status, 0);
    assert_false(r.pong); /* it was the error Status */
}

static void test_client_close_cancels(void **state)
{
    struct fx *fx = *state;
    struct rf_rpc_client *c;
    struct res r[3], queued, after;
    Riffle__Envelope req = RIFFLE__ENVELOPE__INIT;
    Riffle__Ping ping = RIFFLE__PING__INIT;
    int i;

    server_start(fx, 0);
    fx->mode = MODE_HOLD;
    c = client_new(fx, 0, "127.0.0.1", NULL);
    for (i = 0; i < 3; i++)
        send_ping(fx, c, (uint64_t)i, 4, 20000, &r[i]);
    RUN_UNTIL(fx, fx->nheld == 3);
    send_ping(fx, c, 9, 4, 20000, &queued); /* written, maybe not received */
    rf_rpc_client_close(c, on_cli_closed, fx);
    fx->cli[0] = NULL;
    memset(&after, 0, sizeof(after));
    req.body_case = RIFFLE__ENVELOPE__BODY_PING;
    req.ping = &ping;
    assert_int_equal(rf_rpc_call(c, &req, 1000, on_resp, &after),
                     RF_ESHUTDOWN);
    RUN_UNTIL(fx, fx->cli_closed == 1);
    for (i = 0; i < 3; i++) {
        assert_int_equal(r[i].fired, 1);
        assert_int_equal(r[i].status, RF_ECANCELED);
        assert_true(r[i].seq < fx->seq); /* before the close callback */
    }
    assert_int_equal(queued.status, RF_ECANCELED);
    assert_int_equal(after.fired, 0);
    /* the server notices the client left; held calls die with it */
    RUN_UNTIL(fx, !rf_rpc_call_alive(fx->held[0].call));
    reply_held(fx);
}

static void on_conn_closed(struct rf_rpc_server *srv, uint64_t conn_id)
{
    struct fx *fx = rf_rpc_server_data(srv);

    assert_true(fx->nclosed_ids < 8);
    fx->closed_ids[fx->nclosed_ids++] = conn_id;
}

/* on_conn_closed names the connection a call came on when its peer leaves,
 * each connection has its own id, and closing the server reports nothing. */
static void test_conn_closed_hook(void **state)
{
    struct fx *fx = *state;
    struct rf_rpc_client *a, *b;
    uint64_t id_a, id_b;

    fx->sopts.on_conn_closed = on_conn_closed;
    server_start(fx, 0);
    a = client_new(fx, 0, "127.0.0.1", NULL);
    b = client_new(fx, 1, "127.0.0.1", NULL);
    ping_ok(fx, a, 1);
    id_a = fx->last_conn_id;
    ping_ok(fx, b, 2);
    id_b = fx->last_conn_id;
    assert_true(id_a != id_b);
    ping_ok(fx, a, 3);
    assert_int_equal(fx->last_conn_id, id_a); /* same connection reused */
    assert_int_equal(fx->nclosed_ids, 0);
    rf_rpc_client_close(a, on_cli_closed, fx);
    fx->cli[0] = NULL;
    RUN_UNTIL(fx, fx->nclosed_ids == 1);
    assert_int_equal(fx->closed_ids[0], id_a);
    server_stop(fx); /* b's connection closes with the server: not reported */
    assert_int_equal(fx->nclosed_ids, 1);
}

/* Close the client after 0, 1, 2 ... loop iterations, so the close lands
 * in every state of the connect sequence (waiting, resolving, connecting,
 * connected, answered). Each call's callback fires exactly once, with a
 * result or RF_ECANCELED, and nothing leaks. */
static void test_close_at_every_step(void **state)
{
    struct fx *fx = *state;
    const char *hosts[] = {"127.0.0.1", "localhost"};
    int h, steps, i;

    server_start(fx, 0);
    for (h = 0; h < 2; h++) {
        for (steps = 0; steps < 12; steps++) {
            struct rf_rpc_client *c = client_new(fx, 0, hosts[h], NULL);
            int closed = fx->cli_closed;
            struct res r;
            send_ping(fx, c, (uint64_t)steps, 4, 10000, &r);
            for (i = 0; i < steps; i++)
                uv_run(&fx->loop, UV_RUN_NOWAIT);
            rf_rpc_client_close(c, on_cli_closed, fx);
            fx->cli[0] = NULL;
            RUN_UNTIL(fx, fx->cli_closed > closed);
            assert_int_equal(r.fired, 1);
            assert_true(r.status == 0 || r.status == RF_ECANCELED);
            print_message("%s steps=%d status=%d\n", hosts[h], steps, r.status);
        }
    }
}

static void test_connection_limit(void **state)
{
    struct fx *fx = *state;
    struct rf_rpc_client *a, *b;
    struct res r;

    fx->sopts.max_connections = 1;
    server_start(fx, 0);
    a = client_new(fx, 0, "127.0.0.1", NULL);
    b = client_new(fx, 1, "127.0.0.1", NULL);
    ping_ok(fx, a, 1);
    send_ping(fx, b, 2, 4, 10000, &r);
    RUN_UNTIL(fx, r.fired);
    assert_true(r.status == RF_ECLOSED);
    ping_ok(fx, a, 3);
    assert_int_equal(fx->handled, 2);
}

static void on_sleep(uv_timer_t *t)
{
    struct fx *fx = t->data;
    fx->slept = true;
}

static void sleep_ms(struct fx *fx, uint64_t ms)
{
    fx->slept = false;
    uv_timer_start(&fx->sleep, on_sleep, ms, 0);
    RUN_UNTIL(fx, fx->slept);
}

static void test_idle_timeout(void **state)
{
    struct fx *fx = *state;
    struct rf_rpc_client *c;
    struct res r;

    fx->sopts.idle_timeout_ms = 100;
    server_start(fx, 0);
    c = client_new(fx, 0, "127.0.0.1", NULL);
    ping_ok(fx, c, 1);
    /* an outstanding call keeps the connection busy past the idle time */
    fx->mode = MODE_HOLD;
    send_ping(fx, c, 2, 4, 20000, &r);
    RUN_UNTIL(fx, fx->nheld == 1);
    sleep_ms(fx, 400);
    assert_true(rf_rpc_call_alive(fx->held[0].call));
    reply_held(fx);
    RUN_UNTIL(fx, r.fired);
    assert_int_equal(r.status, 0);
    /* then, with nothing outstanding, the server closes it */
    RUN_UNTIL(fx, !rf_rpc_client_connected(c));
    fx->mode = MODE_ECHO;
    ping_ok(fx, c, 3);
}

/* ---- hostile peers: raw TCP connections sending bad bytes ---- */


static void raw_closed(uv_handle_t *h)
{
    struct raw *rc = h->data;
    rc->closed = true;
}

static void raw_alloc(uv_handle_t *h, size_t sz, uv_buf_t *buf)
{
    static char sink[65536];
    (void)h;
    (void)sz;
    *buf = uv_buf_init(sink, sizeof(sink));
}

static void raw_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    struct raw *rc = s->data;
    (void)buf;
    if (n > 0)
        rc->received += (size_t)n;
    if (n < 0 && !rc->ended) {
        rc->ended = true; /* EOF or reset: the server closed us */
        uv_close((uv_handle_t *)s, raw_closed);
    }
}

static void raw_written(uv_write_t *req, int status)
{
    struct raw *rc = req->handle->data;

    (void)status; /* EPIPE/ECONNRESET are fine: the server may close first */
    if (rc->self_close && !rc->ended) {
        rc->ended = true;
        uv_close((uv_handle_t *)&rc->tcp, raw_closed);
    }
}

static void raw_connected(uv_connect_t *req, int status)
{
    struct raw *rc = req->handle->data;
    uv_buf_t b = uv_buf_init((char *)rc->bytes, (unsigned)rc->len);

    assert_int_equal(status, 0);
    assert_int_equal(uv_write(&rc->wreq, (uv_stream_t *)&rc->tcp, &b, 1,
                              raw_written),
                     0);
    if (!rc->no_read)
        assert_int_equal(uv_read_start((uv_stream_t *)&rc->tcp, raw_alloc,
                                       raw_read),
                         0);
}

/* Connect, send bytes, and wait for the connection to close: closed by the
 * server, or by us once written when self_close. */
static struct raw *raw_open(struct fx *fx, uint8_t *bytes, size_t len,
                            bool self_close, bool no_read)
{
    struct raw *rc = &fx->raw;
    struct sockaddr_in sa;

    assert_true(!fx->raw_used || rc->closed);
    memset(rc, 0, sizeof(*rc));
    fx->raw_used = true;
    rc->bytes = bytes;
    rc->len = len;
    rc->self_close = self_close;
    rc->no_read = no_read;
    uv_tcp_init(&fx->loop, &rc->tcp);
    rc->tcp.data = rc;
    uv_ip4_addr("127.0.0.1", fx->port, &sa);
    assert_int_equal(uv_tcp_connect(&rc->creq, &rc->tcp,
                                    (struct sockaddr *)&sa, raw_connected),
                     0);
    return rc;
}

static void raw_send(struct fx *fx, uint8_t *bytes, size_t len,
                     bool self_close)
{
    struct raw *rc = raw_open(fx, bytes, len, self_close, false);
    RUN_UNTIL(fx, rc->closed);
}

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

struct bad_case {
    const char *name;
    uint8_t head[24];
    size_t head_len;
    size_t random_len; /* seeded random bytes appended */
    int handled;       /* requests the handler sees before the close */
};

static const struct bad_case BAD_CASES[] = {
    {"claims 2 GiB", {0x80, 0, 0, 0, 1, 2, 3}, 7, 0, 0},
    {"claims 4 GiB - 1", {0xff, 0xff, 0xff, 0xff}, 4, 0, 0},
    {"just over max_frame", {0x04, 0, 0, 1}, 4, 0, 0},
    {"zero length", {0, 0, 0, 0}, 4, 0, 0},
    {"garbage body", {0, 0, 0, 4, 0xff, 0xff, 0xff, 0xff}, 8, 0, 0},
    {"field 0 body", {0, 0, 0, 2, 0x00, 0x01}, 6, 0, 0},
    {"1 MiB random, length byte forced big", {0x7e}, 1, (1u << 20) - 1, 0},
    {"512 KiB frame of random bytes", {0, 0x08, 0, 0}, 4, 512u * 1024u, 0},
    {"good ping then garbage",
     {0, 0, 0, 4, 0x52, 0x02, 0x08, 0x05, 0, 0, 0, 1, 0x0f},
     13, 0, 1},
};

static void test_bad_frames(void **state)
{
    struct fx *fx = *state;
    struct rf_rpc_client *good;
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    size_t i, j;

    server_start(fx, 0); /* default max_frame: 64 MiB */
    good = client_new(fx, 0, "127.0.0.1", NULL);
    ping_ok(fx, good, 1);
    for (i = 0; i < sizeof(BAD_CASES) / sizeof(BAD_CASES[0]); i++) {
        const struct bad_case *bc = &BAD_CASES[i];
        size_t len = bc->head_len + bc->random_len;
        uint8_t *bytes = rf_malloc(len);
        int before = fx->handled;

        print_message("case %s\n", bc->name);
        memcpy(bytes, bc->head, bc->head_len);
        for (j = bc->head_len; j < len; j++)
            bytes[j] = (uint8_t)rng_next(&seed);
        raw_send(fx, bytes, len, false);
        rf_free(bytes);
        assert_int_equal(fx->handled - before, bc->handled);
        /* the other client is unaffected */
        ping_ok(fx, good, 100 + i);
    }
}

/* Peers that send part of a frame and leave must not upset the server. */
static void test_peer_leaves_mid_frame(void **state)
{
    struct fx *fx = *state;
    struct rf_rpc_client *good;
    uint8_t half_header[2] = {0, 0};
    uint8_t half_body[10] = {0, 0, 0, 100, 0x08, 0x01};

    server_start(fx, 0);
    good = client_new(fx, 0, "127.0.0.1", NULL);
    ping_ok(fx, good, 1);
    raw_send(fx, half_header, sizeof(half_header), true);
    raw_send(fx, half_body, sizeof(half_body), true);
    ping_ok(fx, good, 2);
    assert_int_equal(fx->handled, 2);
}

#define BP_CALLS 96
#define BP_PAYLOAD (256u * 1024u)

/* Append a Ping frame (corr, payload of plen) to buf at *off. */
static size_t put_ping(uint8_t *buf, size_t off, uint64_t corr, size_t plen,
                       size_t *reply_len)
{
    Riffle__Envelope env = RIFFLE__ENVELOPE__INIT;
    Riffle__Ping ping = RIFFLE__PING__INIT;
    Riffle__Pong pong = RIFFLE__PONG__INIT;
    static uint8_t zeros[BP_PAYLOAD];
    ssize_t n;


    assert_true(plen <= sizeof(zeros));
    ping.payload.data = zeros;
    ping.payload.len = plen;
    env.correlation_id = corr;
    env.body_case = RIFFLE__ENVELOPE__BODY_PING;
    env.ping = &ping;
    n = rf__rpc_frame_size(&env, RF_RPC_MAX_FRAME_DEFAULT);
    assert_true(n > 0);
    rf__rpc_frame_write(&env, buf + off, (size_t)n);
    /* the echo handler answers with the same nonce and payload */
    pong.payload.len = plen;
    env.body_case = RIFFLE__ENVELOPE__BODY_PONG;
    env.pong = &pong;
    *reply_len += (size_t)rf__rpc_frame_size(&env, RF_RPC_MAX_FRAME_DEFAULT);
    return (size_t)n;
}

/* A peer that sends requests but does not read the replies: the server
 * stops reading once its unsent replies pile up (so it cannot have answered
 * all of them), and resumes when the peer reads. */
static void test_backpressure(void **state)
{
    struct fx *fx = *state;
    size_t cap = BP_CALLS * (BP_PAYLOAD + 64), len = 0, want = 0;
    uint8_t *bytes = rf_calloc(1, cap);
    struct raw *rc;
    int i;

    server_start(fx, 0);
    for (i = 0; i < BP_CALLS; i++)
        len += put_ping(bytes, len, (uint64_t)i + 1, BP_PAYLOAD, &want);
    rc = raw_open(fx, bytes, len, false, true);
    RUN_UNTIL(fx, fx->handled > 0);
    /* let the server run as far as it can (correct however long it takes:
     * it can never answer everything while we do not read) */
    sleep_ms(fx, 300);
    print_message("requests handled before the peer reads: %d of %d\n",
                  fx->handled, BP_CALLS);
    assert_true(fx->handled < BP_CALLS);
    assert_int_equal(uv_read_start((uv_stream_t *)&rc->tcp, raw_alloc,
                                   raw_read),
                     0);
    RUN_UNTIL(fx, rc->received >= want || rc->ended);
    assert_int_equal(rc->received, want);
    assert_int_equal(fx->handled, BP_CALLS);
    rc->ended = true;
    uv_close((uv_handle_t *)&rc->tcp, raw_closed);
    RUN_UNTIL(fx, rc->closed);
    rf_free(bytes);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_ping_roundtrip),
        T(test_hostname),
        T(test_server_start_errors),
        T(test_many_concurrent),
        T(test_large_payloads),
        T(test_out_of_order),
        T(test_timeouts),
        T(test_server_gone_then_back),
        T(test_connect_refused),
        T(test_request_too_big),
        T(test_reply_too_big),
        T(test_conn_closed_hook),
        T(test_client_close_cancels),
        T(test_close_at_every_step),
        T(test_connection_limit),
        T(test_idle_timeout),
        T(test_bad_frames),
        T(test_peer_leaves_mid_frame),
        T(test_backpressure),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
