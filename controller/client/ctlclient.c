/* ctlclient.c: active-controller discovery, hint following and retries over
 * rf_rpc (contract and failure modes in ctlclient.h). */
#include "ctlclient.h"

#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "err.h"
#include "log.h"
#include "rpc.h"

#define EP_NAME_SIZE (RF_HOST_MAX + 8)

struct ctl_ep {
    struct rf_hostport hp;
    char name[EP_NAME_SIZE];
    struct rf_rpc_client *rpc; /* created on first use */
};

struct ctl_req {
    struct rf_ctlclient *cc;
    struct ctl_req *prev, *next;
    uint8_t *packed; /* the request, packed once: same bytes every attempt */
    size_t packed_len;
    int target;        /* -1: active controller; else pinned endpoint */
    int cur;           /* endpoint of the current or next attempt */
    uint64_t deadline; /* uv_now() based, ms */
    unsigned round_tries;
    unsigned backoffs;
    int last_err;
    bool in_flight;
    uv_timer_t timer;
    rf_ctlclient_cb cb;
    void *data;
};

struct rf_ctlclient {
    uv_loop_t *loop;
    struct rf_ctlclient_opts opts;
    struct ctl_ep eps[RF_CTLCLIENT_MAX_ENDPOINTS];
    int n_eps;
    int preferred; /* last endpoint that answered as active controller */
    struct ctl_req *reqs;
    unsigned live; /* requests not yet freed + rpc clients closing */
    bool closing;
    uint64_t rng;
    void (*close_cb)(void *data);
    void *close_data;
};

static void send_attempt(struct ctl_req *req);

static uint32_t or_default(uint32_t v, uint32_t def)
{
    return v ? v : def;
}

static uint64_t next_rand(struct rf_ctlclient *cc)
{
    /* xorshift64: jitter only, not security */
    cc->rng ^= cc->rng << 13;
    cc->rng ^= cc->rng >> 7;
    cc->rng ^= cc->rng << 17;
    return cc->rng;
}

int rf_ctlclient_new(uv_loop_t *loop,
                     const struct rf_hostport *eps,
                     int n,
                     const struct rf_ctlclient_opts *opts,
                     struct rf_ctlclient **out)
{
    struct rf_ctlclient *cc;
    int i;

    if (n < 1 || n > RF_CTLCLIENT_MAX_ENDPOINTS)
        return RF_EINVAL;
    cc = rf_calloc(1, sizeof(*cc));
    cc->loop = loop;
    if (opts)
        cc->opts = *opts;
    cc->opts.attempt_timeout_ms = or_default(cc->opts.attempt_timeout_ms, 3000);
    cc->opts.connect_timeout_ms = or_default(cc->opts.connect_timeout_ms, 1000);
    cc->opts.backoff_min_ms = or_default(cc->opts.backoff_min_ms, 50);
    cc->opts.backoff_max_ms = or_default(cc->opts.backoff_max_ms, 1000);
    if (cc->opts.backoff_max_ms < cc->opts.backoff_min_ms)
        cc->opts.backoff_max_ms = cc->opts.backoff_min_ms;
    cc->rng = uv_hrtime() ^ (uint64_t)(uintptr_t)cc;
    if (cc->rng == 0)
        cc->rng = 0x9e3779b97f4a7c15ull;
    for (i = 0; i < n; i++) {
        if (rf_ctlclient_add_endpoint(cc, eps[i].host, eps[i].port) < 0) {
            rf_free(cc);
            return RF_EINVAL;
        }
    }
    *out = cc;
    return 0;
}

int rf_ctlclient_add_endpoint(struct rf_ctlclient *cc,
                              const char *host,
                              uint16_t port)
{
    struct ctl_ep *ep;
    size_t hlen = strlen(host);
    int i;

    if (hlen == 0 || hlen >= RF_HOST_MAX || port == 0)
        return RF_EINVAL;
    for (i = 0; i < cc->n_eps; i++) {
        if (cc->eps[i].hp.port == port && strcmp(cc->eps[i].hp.host, host) == 0)
            return i;
    }
    if (cc->n_eps >= RF_CTLCLIENT_MAX_ENDPOINTS)
        return RF_ERANGE;
    ep = &cc->eps[cc->n_eps];
    memcpy(ep->hp.host, host, hlen + 1);
    ep->hp.port = port;
    snprintf(ep->name, sizeof(ep->name), "%s:%u", host, (unsigned)port);
    ep->rpc = NULL;
    return cc->n_eps++;
}

int rf_ctlclient_endpoint_count(const struct rf_ctlclient *cc)
{
    return cc->n_eps;
}

const char *rf_ctlclient_endpoint_name(const struct rf_ctlclient *cc, int i)
{
    return cc->eps[i].name;
}

const Riffle__Status *rf_ctlclient_status(const Riffle__Envelope *resp)
{
    switch (resp->body_case) {
        case RIFFLE__ENVELOPE__BODY_ERROR:
            return resp->error;
        case RIFFLE__ENVELOPE__BODY_CREATE_TOPICS_RESP:
            return resp->create_topics_resp->status;
        case RIFFLE__ENVELOPE__BODY_DELETE_TOPICS_RESP:
            return resp->delete_topics_resp->status;
        case RIFFLE__ENVELOPE__BODY_CREATE_PARTITIONS_RESP:
            return resp->create_partitions_resp->status;
        case RIFFLE__ENVELOPE__BODY_LIST_TOPICS_RESP:
            return resp->list_topics_resp->status;
        case RIFFLE__ENVELOPE__BODY_DESCRIBE_TOPICS_RESP:
            return resp->describe_topics_resp->status;
        case RIFFLE__ENVELOPE__BODY_DESCRIBE_CLUSTER_RESP:
            return resp->describe_cluster_resp->status;
        case RIFFLE__ENVELOPE__BODY_NODE_STATUS_RESP:
            return resp->node_status_resp->status;
        case RIFFLE__ENVELOPE__BODY_REGISTER_BROKER_RESP:
            return resp->register_broker_resp->status;
        case RIFFLE__ENVELOPE__BODY_BROKER_HEARTBEAT_RESP:
            return resp->broker_heartbeat_resp->status;
        case RIFFLE__ENVELOPE__BODY_CONTROLLED_SHUTDOWN_RESP:
            return resp->controlled_shutdown_resp->status;
        case RIFFLE__ENVELOPE__BODY_ALTER_PARTITION_RESP:
            return resp->alter_partition_resp->status;
        case RIFFLE__ENVELOPE__BODY_FETCH_METADATA_RESP:
            return resp->fetch_metadata_resp->status;
        case RIFFLE__ENVELOPE__BODY_REGISTER_CONTROLLER_RESP:
            return resp->register_controller_resp->status;
        case RIFFLE__ENVELOPE__BODY_ALTER_REASSIGNMENTS_RESP:
            return resp->alter_reassignments_resp->status;
        default:
            return NULL;
    }
}

/* ---- request lifecycle ---- */

static void maybe_free_client(struct rf_ctlclient *cc)
{
    void (*cb)(void *data);
    void *data;

    if (!cc->closing || cc->live > 0)
        return;
    cb = cc->close_cb;
    data = cc->close_data;
    rf_free(cc);
    if (cb)
        cb(data);
}

static void req_free_cb(uv_handle_t *h)
{
    struct ctl_req *req = h->data;
    struct rf_ctlclient *cc = req->cc;

    rf_free(req->packed);
    rf_free(req);
    cc->live--;
    maybe_free_client(cc);
}

/* Unlink, run the user's callback once, then free after the timer closes. */
static void finish(struct ctl_req *req,
                   int status,
                   const Riffle__Envelope *resp)
{
    struct rf_ctlclient *cc = req->cc;

    if (req->prev)
        req->prev->next = req->next;
    else
        cc->reqs = req->next;
    if (req->next)
        req->next->prev = req->prev;
    uv_timer_stop(&req->timer);
    req->cb(req->data, status, resp);
    uv_close((uv_handle_t *)&req->timer, req_free_cb);
}

static uint64_t backoff_ms(struct rf_ctlclient *cc, unsigned n)
{
    uint64_t d = cc->opts.backoff_min_ms;
    uint64_t jitter;

    while (n-- > 0 && d < cc->opts.backoff_max_ms)
        d *= 2;
    if (d > cc->opts.backoff_max_ms)
        d = cc->opts.backoff_max_ms;
    jitter = d / 5; /* +-20% */
    if (jitter > 0)
        d = d - jitter + next_rand(cc) % (2 * jitter + 1);
    return d;
}

static void on_retry_timer(uv_timer_t *t)
{
    struct ctl_req *req = t->data;

    if (uv_now(req->cc->loop) >= req->deadline) {
        finish(req, req->last_err, NULL);
        return;
    }
    send_attempt(req);
}

/* Schedule the next attempt on endpoint next: at once while this round still
 * has untried endpoints, else after a backoff; give up at the deadline. */
static void retry(struct ctl_req *req, int next)
{
    struct rf_ctlclient *cc = req->cc;
    uint64_t now = uv_now(cc->loop);
    uint64_t delay = 0;

    if (now >= req->deadline) {
        finish(req, req->last_err, NULL);
        return;
    }
    req->round_tries++;
    if (next == req->cur || req->round_tries >= (unsigned)cc->n_eps) {
        delay = backoff_ms(cc, req->backoffs++);
        req->round_tries = 0;
        if (delay > req->deadline - now)
            delay = req->deadline - now;
    }
    req->cur = next;
    uv_timer_start(&req->timer, on_retry_timer, delay, 0);
}

/* The endpoint to try after a NOT_CONTROLLER from req->cur. */
static int hinted_endpoint(struct ctl_req *req, const Riffle__Status *st)
{
    struct rf_ctlclient *cc = req->cc;
    const Riffle__Endpoint *hint = st->leader_rpc;
    int i;

    if (hint && hint->host && hint->port > 0 && hint->port <= 65535) {
        i = rf_ctlclient_add_endpoint(cc, hint->host, (uint16_t)hint->port);
        if (i >= 0)
            return i;
    }
    return (req->cur + 1) % cc->n_eps;
}

static bool transport_retriable(int status)
{
    return status == RF_ECLOSED || status == RF_ECONNECT ||
           status == RF_ETIMEDOUT;
}

static void on_answer(struct ctl_req *req, const Riffle__Envelope *resp)
{
    struct rf_ctlclient *cc = req->cc;
    const Riffle__Status *st = rf_ctlclient_status(resp);
    int code = st ? (int)st->code : RIFFLE__ERROR_CODE__NONE;
    int next = req->target >= 0 ? req->cur : (req->cur + 1) % cc->n_eps;

    if (code == RIFFLE__ERROR_CODE__NOT_CONTROLLER && req->target < 0) {
        RF_DEBUG("not controller ep=%s leader_id=%d", cc->eps[req->cur].name,
                 (int)st->leader_id);
        req->last_err = RF_ENOTCONTROLLER;
        retry(req, hinted_endpoint(req, st));
        return;
    }
    if (code == RIFFLE__ERROR_CODE__OUTCOME_UNKNOWN ||
        code == RIFFLE__ERROR_CODE__SHUTTING_DOWN) {
        req->last_err = code == RIFFLE__ERROR_CODE__SHUTTING_DOWN
                            ? RF_ESHUTDOWN
                            : RF_ETIMEDOUT;
        retry(req, next);
        return;
    }
    if (req->target < 0)
        cc->preferred = req->cur;
    finish(req, 0, resp);
}

static void on_rpc_response(void *data,
                            int status,
                            const Riffle__Envelope *resp)
{
    struct ctl_req *req = data;
    struct rf_ctlclient *cc = req->cc;

    req->in_flight = false;
    if (cc->closing) {
        finish(req, RF_ECANCELED, NULL);
        return;
    }
    if (status == 0) {
        on_answer(req, resp);
        return;
    }
    RF_DEBUG("controller call failed ep=%s err=%s", cc->eps[req->cur].name,
             rf_err_name(status));
    if (!transport_retriable(status)) {
        finish(req, status, NULL);
        return;
    }
    req->last_err = status;
    retry(req, req->target >= 0 ? req->cur : (req->cur + 1) % cc->n_eps);
}

static int ensure_rpc(struct rf_ctlclient *cc, struct ctl_ep *ep)
{
    struct rf_rpc_client_opts ro;

    if (ep->rpc)
        return 0;
    memset(&ro, 0, sizeof(ro));
    ro.connect_timeout_ms = cc->opts.connect_timeout_ms;
    ro.backoff_min_ms = cc->opts.backoff_min_ms;
    ro.backoff_max_ms = cc->opts.backoff_max_ms;
    return rf_rpc_client_new(cc->loop, ep->hp.host, ep->hp.port, &ro, &ep->rpc);
}

static void send_attempt(struct ctl_req *req)
{
    struct rf_ctlclient *cc = req->cc;
    struct ctl_ep *ep = &cc->eps[req->cur];
    uint64_t left = req->deadline - uv_now(cc->loop);
    uint32_t timeout = cc->opts.attempt_timeout_ms;
    Riffle__Envelope *env;
    int rv;

    if (left < timeout)
        timeout = left > 0 ? (uint32_t)left : 1;
    rv = ensure_rpc(cc, ep);
    if (rv == 0) {
        env = riffle__envelope__unpack(NULL, req->packed_len, req->packed);
        if (env == NULL) { /* our own bytes: cannot happen short of OOM */
            finish(req, RF_ENOMEM, NULL);
            return;
        }
        rv = rf_rpc_call(ep->rpc, env, timeout, on_rpc_response, req);
        riffle__envelope__free_unpacked(env, NULL);
    }
    if (rv == 0) {
        req->in_flight = true;
        return;
    }
    req->last_err = RF_ECONNECT;
    retry(req, req->target >= 0 ? req->cur : (req->cur + 1) % cc->n_eps);
}

int rf_ctlclient_call(struct rf_ctlclient *cc,
                      const Riffle__Envelope *req_env,
                      int target,
                      uint32_t deadline_ms,
                      rf_ctlclient_cb cb,
                      void *data)
{
    struct ctl_req *req;

    if (cc->closing)
        return RF_ESHUTDOWN;
    if (target >= cc->n_eps || target < -1)
        return RF_EINVAL;
    req = rf_calloc(1, sizeof(*req));
    req->cc = cc;
    req->packed_len = riffle__envelope__get_packed_size(req_env);
    req->packed = rf_malloc(req->packed_len ? req->packed_len : 1);
    riffle__envelope__pack(req_env, req->packed);
    req->target = target;
    req->cur = target >= 0 ? target : cc->preferred;
    req->deadline = uv_now(cc->loop) + deadline_ms;
    req->last_err = RF_ETIMEDOUT;
    req->cb = cb;
    req->data = data;
    uv_timer_init(cc->loop, &req->timer);
    req->timer.data = req;
    req->next = cc->reqs;
    if (cc->reqs)
        cc->reqs->prev = req;
    cc->reqs = req;
    cc->live++;
    /* Through the timer so that cb never runs inside this call. */
    uv_timer_start(&req->timer, on_retry_timer, 0, 0);
    return 0;
}

static void rpc_closed_cb(void *data)
{
    struct rf_ctlclient *cc = data;

    cc->live--;
    maybe_free_client(cc);
}

void rf_ctlclient_close(struct rf_ctlclient *cc,
                        void (*cb)(void *data),
                        void *data)
{
    struct ctl_req *req, *next;
    int i;

    cc->closing = true;
    cc->close_cb = cb;
    cc->close_data = data;
    cc->live++; /* hold the client while we walk it */
    for (req = cc->reqs; req; req = next) {
        next = req->next;
        if (!req->in_flight) /* in-flight ones get RF_ECANCELED from rpc */
            finish(req, RF_ECANCELED, NULL);
    }
    for (i = 0; i < cc->n_eps; i++) {
        if (cc->eps[i].rpc) {
            cc->live++;
            rf_rpc_client_close(cc->eps[i].rpc, rpc_closed_cb, cc);
            cc->eps[i].rpc = NULL;
        }
    }
    cc->live--;
    maybe_free_client(cc);
}
