/* test_ctlclient.c: rf_ctlclient leader following and retries against fake
 * controllers (real rf_rpc servers on 127.0.0.1 with scripted answers). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ctlclient.h"
#include "err.h"
#include "rpc.h"

#define MAX_SCRIPT 8

/* A fake controller: answers CreateTopics with the scripted Status codes in
 * order (the last one repeats), records every request id it saw. */
struct fake {
    struct rf_rpc_server *srv;
    uint16_t port;
    int script[MAX_SCRIPT];
    int nscript;
    int32_t hint_id;    /* leader_id in NOT_CONTROLLER; -1 none */
    uint16_t hint_port; /* leader_rpc port; 0: no endpoint */
    int calls;
    uint8_t rids[16][16]; /* request ids seen, first 16 calls */
    bool closed;
    struct rf_rpc_call *held; /* script code HOLD: never answered */
};

#define HOLD (-1)

struct result {
    int fired;
    int status;
    int code; /* Status code of the answer, -1 when none */
    int body;
};

struct fixture {
    uv_loop_t loop;
    struct fake a, b;
    struct rf_ctlclient *cc;
    bool cc_closed;
};

static void fake_handler(struct rf_rpc_server *srv,
                         struct rf_rpc_call *call,
                         const Riffle__Envelope *req)
{
    struct fake *f = rf_rpc_server_data(srv);
    Riffle__CreateTopicsResponse ctr = RIFFLE__CREATE_TOPICS_RESPONSE__INIT;
    Riffle__Status st = RIFFLE__STATUS__INIT;
    Riffle__Endpoint ep = RIFFLE__ENDPOINT__INIT;
    Riffle__Envelope resp = RIFFLE__ENVELOPE__INIT;
    int idx = f->calls < f->nscript ? f->calls : f->nscript - 1;

    if (req->body_case == RIFFLE__ENVELOPE__BODY_CREATE_TOPICS_REQ &&
        f->calls < 16 && req->create_topics_req->request_id.len == 16)
        memcpy(f->rids[f->calls], req->create_topics_req->request_id.data, 16);
    f->calls++;
    if (f->script[idx] == HOLD) {
        if (f->held)
            rf_rpc_call_drop(f->held);
        f->held = call;
        return;
    }
    st.code = (Riffle__ErrorCode)f->script[idx];
    st.leader_id = -1;
    if (st.code == RIFFLE__ERROR_CODE__NOT_CONTROLLER) {
        st.leader_id = f->hint_id;
        if (f->hint_port) {
            ep.name = "RPC";
            ep.host = "127.0.0.1";
            ep.port = f->hint_port;
            st.leader_rpc = &ep;
        }
    }
    ctr.status = &st;
    resp.body_case = RIFFLE__ENVELOPE__BODY_CREATE_TOPICS_RESP;
    resp.create_topics_resp = &ctr;
    rf_rpc_reply(call, &resp);
}

static void fake_start(uv_loop_t *loop, struct fake *f)
{
    char errmsg[RF_ERRMSG_SIZE];

    memset(f, 0, sizeof(*f));
    f->hint_id = -1;
    f->nscript = 1;
    assert_int_equal(rf_rpc_server_start(loop, "127.0.0.1", 0, NULL,
                                         fake_handler, f, &f->srv, errmsg),
                     0);
    f->port = rf_rpc_server_port(f->srv);
}

static void fake_closed(void *data)
{
    ((struct fake *)data)->closed = true;
}

static void fake_stop(uv_loop_t *loop, struct fake *f)
{
    if (f->held) {
        rf_rpc_call_drop(f->held);
        f->held = NULL;
    }
    if (f->srv == NULL)
        return;
    rf_rpc_server_close(f->srv, fake_closed, f);
    f->srv = NULL;
    while (!f->closed)
        uv_run(loop, UV_RUN_ONCE);
}

static void fake_script(struct fake *f, int n, ...)
{
    va_list ap;
    int i;

    va_start(ap, n);
    for (i = 0; i < n; i++)
        f->script[i] = va_arg(ap, int);
    va_end(ap);
    f->nscript = n;
}

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));

    assert_int_equal(uv_loop_init(&fx->loop), 0);
    fake_start(&fx->loop, &fx->a);
    fake_start(&fx->loop, &fx->b);
    *state = fx;
    return 0;
}

static void cc_closed(void *data)
{
    ((struct fixture *)data)->cc_closed = true;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;

    if (fx->cc) {
        rf_ctlclient_close(fx->cc, cc_closed, fx);
        while (!fx->cc_closed)
            uv_run(&fx->loop, UV_RUN_ONCE);
    }
    fake_stop(&fx->loop, &fx->a);
    fake_stop(&fx->loop, &fx->b);
    uv_run(&fx->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&fx->loop), 0);
    free(fx);
    return 0;
}

/* Client over the given ports, with short backoffs to keep tests quick. */
static void client_over(struct fixture *fx, int n, const uint16_t *ports)
{
    struct rf_hostport hps[4];
    struct rf_ctlclient_opts opts = {
        .attempt_timeout_ms = 2000, .backoff_min_ms = 5, .backoff_max_ms = 20};
    int i;

    for (i = 0; i < n; i++) {
        strcpy(hps[i].host, "127.0.0.1");
        hps[i].port = ports[i];
    }
    assert_int_equal(rf_ctlclient_new(&fx->loop, hps, n, &opts, &fx->cc), 0);
}

static void on_result(void *data, int status, const Riffle__Envelope *resp)
{
    struct result *r = data;
    const Riffle__Status *st = resp ? rf_ctlclient_status(resp) : NULL;

    r->fired++;
    r->status = status;
    r->code = st ? (int)st->code : -1;
    r->body = resp ? (int)resp->body_case : -1;
}

/* Send one CreateTopics with request id 0x11.. and run until answered. */
static struct result call_and_wait(struct fixture *fx,
                                   int target,
                                   uint32_t deadline_ms)
{
    Riffle__CreateTopicsRequest req = RIFFLE__CREATE_TOPICS_REQUEST__INIT;
    Riffle__Envelope env = RIFFLE__ENVELOPE__INIT;
    uint8_t rid[16];
    struct result r = {0, 1, -1, -1};

    memset(rid, 0x11, sizeof(rid));
    req.request_id.len = sizeof(rid);
    req.request_id.data = rid;
    env.body_case = RIFFLE__ENVELOPE__BODY_CREATE_TOPICS_REQ;
    env.create_topics_req = &req;
    assert_int_equal(
        rf_ctlclient_call(fx->cc, &env, target, deadline_ms, on_result, &r), 0);
    assert_int_equal(r.fired, 0); /* never inside the call */
    while (r.fired == 0)
        uv_run(&fx->loop, UV_RUN_ONCE);
    assert_int_equal(r.fired, 1);
    return r;
}

static void assert_rid(const struct fake *f, int i)
{
    uint8_t want[16];

    memset(want, 0x11, sizeof(want));
    assert_memory_equal(f->rids[i], want, sizeof(want));
}

/* A knows nothing of B but hints it: the client adds B and gets the answer
 * there, with the same request id. */
static void test_follows_hint_to_new_endpoint(void **state)
{
    struct fixture *fx = *state;
    struct result r;

    fake_script(&fx->a, 1, RIFFLE__ERROR_CODE__NOT_CONTROLLER);
    fx->a.hint_id = 2;
    fx->a.hint_port = fx->b.port;
    client_over(fx, 1, &fx->a.port);
    r = call_and_wait(fx, -1, 5000);
    assert_int_equal(r.status, 0);
    assert_int_equal(r.code, RIFFLE__ERROR_CODE__NONE);
    assert_int_equal(r.body, RIFFLE__ENVELOPE__BODY_CREATE_TOPICS_RESP);
    assert_int_equal(fx->a.calls, 1);
    assert_int_equal(fx->b.calls, 1);
    assert_rid(&fx->a, 0);
    assert_rid(&fx->b, 0);
    assert_int_equal(rf_ctlclient_endpoint_count(fx->cc), 2);
    /* The next call goes straight to the known active controller. */
    r = call_and_wait(fx, -1, 5000);
    assert_int_equal(r.status, 0);
    assert_int_equal(fx->a.calls, 1);
    assert_int_equal(fx->b.calls, 2);
}

/* NOT_CONTROLLER without a hint: try the next endpoint. */
static void test_no_hint_tries_next(void **state)
{
    struct fixture *fx = *state;
    uint16_t ports[2] = {fx->a.port, fx->b.port};
    struct result r;

    fake_script(&fx->a, 1, RIFFLE__ERROR_CODE__NOT_CONTROLLER);
    client_over(fx, 2, ports);
    r = call_and_wait(fx, -1, 5000);
    assert_int_equal(r.status, 0);
    assert_int_equal(r.code, RIFFLE__ERROR_CODE__NONE);
    assert_int_equal(fx->a.calls, 1);
    assert_int_equal(fx->b.calls, 1);
}

/* A dead first endpoint (connection refused) is skipped. */
static void test_unreachable_endpoint_skipped(void **state)
{
    struct fixture *fx = *state;
    uint16_t ports[2] = {fx->a.port, fx->b.port};
    struct result r;

    fake_stop(&fx->loop, &fx->a);
    client_over(fx, 2, ports);
    r = call_and_wait(fx, -1, 5000);
    assert_int_equal(r.status, 0);
    assert_int_equal(r.code, RIFFLE__ERROR_CODE__NONE);
    assert_int_equal(fx->b.calls, 1);
}

/* OUTCOME_UNKNOWN retries with the same request id until an answer. */
static void test_outcome_unknown_retried_same_request_id(void **state)
{
    struct fixture *fx = *state;
    struct result r;

    fake_script(&fx->a, 3, RIFFLE__ERROR_CODE__OUTCOME_UNKNOWN,
                RIFFLE__ERROR_CODE__OUTCOME_UNKNOWN,
                RIFFLE__ERROR_CODE__TOPIC_ALREADY_EXISTS);
    client_over(fx, 1, &fx->a.port);
    r = call_and_wait(fx, -1, 5000);
    assert_int_equal(r.status, 0);
    assert_int_equal(r.code, RIFFLE__ERROR_CODE__TOPIC_ALREADY_EXISTS);
    assert_int_equal(fx->a.calls, 3);
    assert_rid(&fx->a, 0);
    assert_rid(&fx->a, 1);
    assert_rid(&fx->a, 2);
}

/* A non-retriable error is the caller's: delivered after one attempt. */
static void test_non_retriable_delivered(void **state)
{
    struct fixture *fx = *state;
    uint16_t ports[2] = {fx->a.port, fx->b.port};
    struct result r;

    fake_script(&fx->a, 1, RIFFLE__ERROR_CODE__INVALID_REQUEST);
    client_over(fx, 2, ports);
    r = call_and_wait(fx, -1, 5000);
    assert_int_equal(r.status, 0);
    assert_int_equal(r.code, RIFFLE__ERROR_CODE__INVALID_REQUEST);
    assert_int_equal(fx->a.calls, 1);
    assert_int_equal(fx->b.calls, 0);
}

/* Nobody is active: after the deadline, RF_ENOTCONTROLLER. */
static void test_deadline_not_controller(void **state)
{
    struct fixture *fx = *state;
    uint16_t ports[2] = {fx->a.port, fx->b.port};
    struct result r;

    fake_script(&fx->a, 1, RIFFLE__ERROR_CODE__NOT_CONTROLLER);
    fake_script(&fx->b, 1, RIFFLE__ERROR_CODE__NOT_CONTROLLER);
    client_over(fx, 2, ports);
    r = call_and_wait(fx, -1, 300);
    assert_int_equal(r.status, RF_ENOTCONTROLLER);
    assert_int_equal(r.body, -1);
    assert_true(fx->a.calls >= 2); /* retried, with backoff between rounds */
    assert_true(fx->b.calls >= 1);
}

/* Two nodes hinting at each other do not spin: bounded by the deadline. */
static void test_hint_ping_pong_bounded(void **state)
{
    struct fixture *fx = *state;
    struct result r;

    fake_script(&fx->a, 1, RIFFLE__ERROR_CODE__NOT_CONTROLLER);
    fake_script(&fx->b, 1, RIFFLE__ERROR_CODE__NOT_CONTROLLER);
    fx->a.hint_port = fx->b.port;
    fx->b.hint_port = fx->a.port;
    client_over(fx, 1, &fx->a.port);
    r = call_and_wait(fx, -1, 300);
    assert_int_equal(r.status, RF_ENOTCONTROLLER);
    /* 300 ms with backoff of at least ~4 ms per round of two: far fewer
     * calls than a tight loop would make. */
    assert_true(fx->a.calls + fx->b.calls < 300);
}

/* Every endpoint dead: the transport error after the deadline. */
static void test_all_unreachable(void **state)
{
    struct fixture *fx = *state;
    uint16_t ports[2] = {fx->a.port, fx->b.port};
    struct result r;

    fake_stop(&fx->loop, &fx->a);
    fake_stop(&fx->loop, &fx->b);
    client_over(fx, 2, ports);
    r = call_and_wait(fx, -1, 300);
    assert_true(r.status == RF_ECONNECT || r.status == RF_ECLOSED ||
                r.status == RF_ETIMEDOUT);
}

/* A pinned call does not follow hints: NOT_CONTROLLER is the answer. */
static void test_pinned_target(void **state)
{
    struct fixture *fx = *state;
    uint16_t ports[2] = {fx->a.port, fx->b.port};
    struct result r;

    fake_script(&fx->b, 1, RIFFLE__ERROR_CODE__NOT_CONTROLLER);
    fx->b.hint_port = fx->a.port;
    client_over(fx, 2, ports);
    r = call_and_wait(fx, 1, 5000);
    assert_int_equal(r.status, 0);
    assert_int_equal(r.code, RIFFLE__ERROR_CODE__NOT_CONTROLLER);
    assert_int_equal(fx->a.calls, 0);
    assert_int_equal(fx->b.calls, 1);
}

static void test_bad_args(void **state)
{
    struct fixture *fx = *state;
    Riffle__Envelope env = RIFFLE__ENVELOPE__INIT;
    struct result r = {0, 1, -1, -1};
    struct rf_ctlclient *cc;

    assert_int_equal(rf_ctlclient_new(&fx->loop, NULL, 0, NULL, &cc),
                     RF_EINVAL);
    client_over(fx, 1, &fx->a.port);
    assert_int_equal(rf_ctlclient_call(fx->cc, &env, 5, 100, on_result, &r),
                     RF_EINVAL);
    assert_int_equal(rf_ctlclient_add_endpoint(fx->cc, "127.0.0.1", 0),
                     RF_EINVAL);
    assert_int_equal(rf_ctlclient_add_endpoint(fx->cc, "127.0.0.1", fx->a.port),
                     0);
    assert_int_equal(r.fired, 0);
}

/* Closing with a call pending fails it with RF_ECANCELED. */
static void test_close_cancels(void **state)
{
    struct fixture *fx = *state;
    Riffle__ListTopicsRequest req = RIFFLE__LIST_TOPICS_REQUEST__INIT;
    Riffle__Envelope env = RIFFLE__ENVELOPE__INIT;
    struct result r = {0, 1, -1, -1};

    env.body_case = RIFFLE__ENVELOPE__BODY_LIST_TOPICS_REQ;
    env.list_topics_req = &req;
    client_over(fx, 1, &fx->a.port);
    assert_int_equal(rf_ctlclient_call(fx->cc, &env, -1, 5000, on_result, &r),
                     0);
    rf_ctlclient_close(fx->cc, cc_closed, fx);
    fx->cc = NULL;
    while (!fx->cc_closed)
        uv_run(&fx->loop, UV_RUN_ONCE);
    assert_int_equal(r.fired, 1);
    assert_int_equal(r.status, RF_ECANCELED);
}

/* A hung controller (accepts, never answers) costs one attempt timeout, then
 * the next endpoint answers. */
static void test_hung_controller_skipped(void **state)
{
    struct fixture *fx = *state;
    uint16_t ports[2] = {fx->a.port, fx->b.port};
    struct result r;

    fake_script(&fx->a, 1, HOLD);
    client_over(fx, 2, ports);
    r = call_and_wait(fx, -1, 5000);
    assert_int_equal(r.status, 0);
    assert_int_equal(r.code, RIFFLE__ERROR_CODE__NONE);
    assert_int_equal(fx->a.calls, 1);
    assert_int_equal(fx->b.calls, 1);
    /* Only the hung one: RF_ETIMEDOUT once the deadline passes. */
    fx->b.script[0] = HOLD;
    r = call_and_wait(fx, -1, 300);
    assert_int_equal(r.status, RF_ETIMEDOUT);
}

/* Closing with a call in flight (sent, unanswered) also fails it with
 * RF_ECANCELED, once the RPC client closes. */
static void test_close_cancels_in_flight(void **state)
{
    struct fixture *fx = *state;
    Riffle__ListTopicsRequest req = RIFFLE__LIST_TOPICS_REQUEST__INIT;
    Riffle__Envelope env = RIFFLE__ENVELOPE__INIT;
    struct result r = {0, 1, -1, -1};

    fake_script(&fx->a, 1, HOLD);
    env.body_case = RIFFLE__ENVELOPE__BODY_LIST_TOPICS_REQ;
    env.list_topics_req = &req;
    client_over(fx, 1, &fx->a.port);
    assert_int_equal(rf_ctlclient_call(fx->cc, &env, -1, 5000, on_result, &r),
                     0);
    while (fx->a.calls == 0)
        uv_run(&fx->loop, UV_RUN_ONCE);
    assert_int_equal(r.fired, 0);
    rf_ctlclient_close(fx->cc, cc_closed, fx);
    fx->cc = NULL;
    while (!fx->cc_closed)
        uv_run(&fx->loop, UV_RUN_ONCE);
    assert_int_equal(r.fired, 1);
    assert_int_equal(r.status, RF_ECANCELED);
}

/* The blocking wrapper against a fake served from another thread. */
struct server_thread {
    uv_loop_t loop;
    uv_async_t stop;
    struct fake f;
    uv_sem_t ready;
};

static void on_stop(uv_async_t *a)
{
    struct server_thread *st = a->data;

    rf_rpc_server_close(st->f.srv, NULL, NULL);
    st->f.srv = NULL;
    uv_close((uv_handle_t *)a, NULL);
}

static void server_main(void *arg)
{
    struct server_thread *st = arg;

    uv_loop_init(&st->loop);
    fake_start(&st->loop, &st->f);
    fake_script(&st->f, 2, RIFFLE__ERROR_CODE__OUTCOME_UNKNOWN,
                RIFFLE__ERROR_CODE__NONE);
    uv_async_init(&st->loop, &st->stop, on_stop);
    st->stop.data = st;
    uv_sem_post(&st->ready);
    uv_run(&st->loop, UV_RUN_DEFAULT);
    uv_loop_close(&st->loop);
}

static void test_sync_call(void **state)
{
    struct server_thread st;
    uv_thread_t tid;
    struct rf_hostport hp;
    struct rf_ctlsync *s;
    Riffle__CreateTopicsRequest req = RIFFLE__CREATE_TOPICS_REQUEST__INIT;
    Riffle__Envelope env = RIFFLE__ENVELOPE__INIT, *resp = NULL;
    struct rf_ctlclient_opts opts = {.backoff_min_ms = 5, .backoff_max_ms = 20};

    (void)state;
    memset(&st, 0, sizeof(st));
    uv_sem_init(&st.ready, 0);
    assert_int_equal(uv_thread_create(&tid, server_main, &st), 0);
    uv_sem_wait(&st.ready);
    strcpy(hp.host, "127.0.0.1");
    hp.port = st.f.port;
    assert_int_equal(rf_ctlsync_open(&hp, 1, &opts, &s), 0);
    env.body_case = RIFFLE__ENVELOPE__BODY_CREATE_TOPICS_REQ;
    env.create_topics_req = &req;
    assert_int_equal(rf_ctlsync_call(s, &env, 5000, &resp), 0);
    assert_non_null(resp);
    assert_int_equal(resp->body_case,
                     RIFFLE__ENVELOPE__BODY_CREATE_TOPICS_RESP);
    assert_int_equal(rf_ctlclient_status(resp)->code, RIFFLE__ERROR_CODE__NONE);
    riffle__envelope__free_unpacked(resp, NULL);
    rf_ctlsync_close(s);
    uv_async_send(&st.stop);
    uv_thread_join(&tid);
    uv_sem_destroy(&st.ready);
    assert_int_equal(st.f.calls, 2);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_follows_hint_to_new_endpoint),
        T(test_no_hint_tries_next),
        T(test_unreachable_endpoint_skipped),
        T(test_outcome_unknown_retried_same_request_id),
        T(test_non_retriable_delivered),
        T(test_deadline_not_controller),
        T(test_hint_ping_pong_bounded),
        T(test_all_unreachable),
        T(test_pinned_target),
        T(test_bad_args),
        T(test_hung_controller_skipped),
        T(test_close_cancels),
        T(test_close_cancels_in_flight),
        cmocka_unit_test(test_sync_call),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
