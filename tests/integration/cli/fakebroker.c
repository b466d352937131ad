/* fakebroker.c: a stand-in broker for CLI integration tests, built on the
 * async rf_ctlclient as real brokers will be: registers, heartbeats as
 * caught up until SIGTERM/SIGINT, re-registers when the controller forgets
 * it. Prints "registered ID epoch=E" and "unfenced ID" lines on stdout.
 *
 * usage: fakebroker host:port[,host:port...] BROKER_ID [HB_MS] */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "ctlclient.h"
#include "err.h"
#include "log.h"
#include "net.h"
#include "uuid.h"

#define CALL_DEADLINE_MS 5000u

struct fb {
    uv_loop_t loop;
    struct rf_ctlclient *cc;
    uv_timer_t hb;
    uv_signal_t sigterm, sigint;
    int32_t id;
    uint32_t hb_ms;
    int64_t epoch; /* 0: not registered */
    bool fenced_reported;
    bool busy;
    bool stopping;
    struct rf_uuid incarnation;
};

static void send_register(struct fb *fb);

static void on_register(void *data, int status, const Riffle__Envelope *resp)
{
    struct fb *fb = data;
    const Riffle__Status *st = resp ? rf_ctlclient_status(resp) : NULL;

    fb->busy = false;
    if (fb->stopping)
        return;
    if (status != 0 || (st && st->code != RIFFLE__ERROR_CODE__NONE) ||
        resp->body_case != RIFFLE__ENVELOPE__BODY_REGISTER_BROKER_RESP) {
        fprintf(stderr, "fakebroker %d: register failed: %s\n", (int)fb->id,
                status ? rf_strerror(status) : "error answer");
        return; /* the heartbeat timer tries again */
    }
    fb->epoch = resp->register_broker_resp->broker_epoch;
    fb->fenced_reported = false;
    printf("registered %d epoch=%lld\n", (int)fb->id, (long long)fb->epoch);
}

static void send_register(struct fb *fb)
{
    Riffle__RegisterBrokerRequest req = RIFFLE__REGISTER_BROKER_REQUEST__INIT;
    Riffle__Envelope env = RIFFLE__ENVELOPE__INIT;
    Riffle__Endpoint ep = RIFFLE__ENDPOINT__INIT;
    Riffle__Endpoint *eps[1] = {&ep};
    struct rf_uuid rid;

    rf_uuid_generate(&rid);
    req.request_id.len = sizeof(rid.b);
    req.request_id.data = rid.b;
    req.broker_id = fb->id;
    req.incarnation_id.len = sizeof(fb->incarnation.b);
    req.incarnation_id.data = fb->incarnation.b;
    ep.name = "PLAINTEXT";
    ep.host = "127.0.0.1";
    ep.port = (uint32_t)(9000 + fb->id); /* never dialled in these tests */
    req.n_endpoints = 1;
    req.endpoints = eps;
    env.body_case = RIFFLE__ENVELOPE__BODY_REGISTER_BROKER_REQ;
    env.register_broker_req = &req;
    if (rf_ctlclient_call(fb->cc, &env, -1, CALL_DEADLINE_MS, on_register,
                          fb) == 0)
        fb->busy = true;
}

static void on_heartbeat(void *data, int status, const Riffle__Envelope *resp)
{
    struct fb *fb = data;
    const Riffle__Status *st = resp ? rf_ctlclient_status(resp) : NULL;

    fb->busy = false;
    if (fb->stopping || status != 0)
        return;
    if (st && (st->code == RIFFLE__ERROR_CODE__UNKNOWN_BROKER ||
               st->code == RIFFLE__ERROR_CODE__STALE_BROKER_EPOCH)) {
        fb->epoch = 0; /* register again on the next tick */
        return;
    }
    if (resp->body_case == RIFFLE__ENVELOPE__BODY_BROKER_HEARTBEAT_RESP &&
        !resp->broker_heartbeat_resp->is_fenced && !fb->fenced_reported) {
        printf("unfenced %d\n", (int)fb->id);
        fb->fenced_reported = true;
    }
}

static void on_tick(uv_timer_t *t)
{
    struct fb *fb = t->data;
    Riffle__BrokerHeartbeatRequest req = RIFFLE__BROKER_HEARTBEAT_REQUEST__INIT;
    Riffle__Envelope env = RIFFLE__ENVELOPE__INIT;

    if (fb->busy || fb->stopping)
        return;
    if (fb->epoch == 0) {
        send_register(fb);
        return;
    }
    req.broker_id = fb->id;
    req.broker_epoch = fb->epoch;
    req.current_metadata_offset = fb->epoch; /* claims to be caught up */
    env.body_case = RIFFLE__ENVELOPE__BODY_BROKER_HEARTBEAT_REQ;
    env.broker_heartbeat_req = &req;
    if (rf_ctlclient_call(fb->cc, &env, -1, fb->hb_ms * 2, on_heartbeat, fb) ==
        0)
        fb->busy = true;
}

static void on_signal(uv_signal_t *s, int signum)
{
    struct fb *fb = s->data;

    (void)signum;
    fb->stopping = true;
    uv_timer_stop(&fb->hb);
    uv_close((uv_handle_t *)&fb->hb, NULL);
    uv_close((uv_handle_t *)&fb->sigterm, NULL);
    uv_close((uv_handle_t *)&fb->sigint, NULL);
    rf_ctlclient_close(fb->cc, NULL, NULL);
}

int main(int argc, char **argv)
{
    static struct fb fb;
    struct rf_hostport eps[RF_CTLCLIENT_MAX_ENDPOINTS];
    int n;

    if (argc < 3 || argc > 4) {
        fprintf(stderr,
                "usage: fakebroker host:port[,...] BROKER_ID [HB_MS]\n");
        return 64;
    }
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, NULL, _IOLBF, 0);
    rf_log_set_level(RF_LOG_WARN);
    n = rf_hostport_list_parse(argv[1], eps, RF_CTLCLIENT_MAX_ENDPOINTS);
    fb.id = (int32_t)atoi(argv[2]);
    fb.hb_ms = argc == 4 ? (uint32_t)atoi(argv[3]) : 200u;
    if (n < 1 || fb.id < 0 || fb.hb_ms < 10) {
        fprintf(stderr, "fakebroker: bad arguments\n");
        return 64;
    }
    rf_uuid_generate(&fb.incarnation);
    uv_loop_init(&fb.loop);
    rf_ctlclient_new(&fb.loop, eps, n, NULL, &fb.cc);
    uv_timer_init(&fb.loop, &fb.hb);
    fb.hb.data = &fb;
    uv_timer_start(&fb.hb, on_tick, 0, fb.hb_ms);
    uv_signal_init(&fb.loop, &fb.sigterm);
    uv_signal_init(&fb.loop, &fb.sigint);
    fb.sigterm.data = fb.sigint.data = &fb;
    uv_signal_start(&fb.sigterm, on_signal, SIGTERM);
    uv_signal_start(&fb.sigint, on_signal, SIGINT);
    uv_run(&fb.loop, UV_RUN_DEFAULT);
    return uv_loop_close(&fb.loop) == 0 ? 0 : 70;
}
