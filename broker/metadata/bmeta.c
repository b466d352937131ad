/* bmeta.c: broker registration, heartbeats and the metadata long-poll.
 *
 * Happy path: register -> (FetchMetadata since offset -> apply -> poll
 * again) alongside (heartbeat every interval). Every request goes through
 * the controller client, which finds the active controller and retries.
 *
 * Failure modes: a call that fails after the client's deadline is retried
 * after a short pause; a heartbeat saying our epoch is stale or unknown makes
 * us register again; a delta that does not apply cleanly makes the next poll
 * ask for the whole image (since_offset -1). */
#include "bmeta.h"

#include <string.h>

#include "alloc.h"
#include "clock.h"
#include "err.h"
#include "log.h"
#include "uuid.h"

#define CALL_DEADLINE_MS 10000u
#define RETRY_PAUSE_MS 200u
#define DUPLICATE_PAUSE_MS 1000u

struct rf_bmeta {
    uv_loop_t *loop;
    struct rf_ctlclient *cc;
    struct rf_meta_image *img;
    rf_bmeta_change_cb cb;
    void *cb_data;
    int32_t broker_id;
    struct rf_uuid incarnation;
    Riffle__Endpoint *endpoints; /* owned copies, strings owned */
    size_t n_endpoints;
    char *rack;
    uint32_t hb_interval_ms;
    uint32_t fetch_max_wait_ms;
    int64_t epoch; /* 0 while unregistered */
    bool fenced;
    bool caught_up; /* the last heartbeat answer said so */
    bool hb_in_flight;
    bool want_full_image;
    bool closing;
    bool hb_failing; /* the last heartbeat failed in transport */
    int pending; /* calls in flight + handles not yet closed */
    uv_timer_t hb_timer;
    uv_timer_t poll_timer;
    uv_timer_t reg_timer;
    uv_timer_t cs_timer;
    void (*cs_cb)(void *data, int status);
    void *cs_data;
    uint64_t cs_deadline_ms;
    void (*close_cb)(void *data);
    void *close_data;
};

static void do_register(struct rf_bmeta *bm);
static void do_poll(struct rf_bmeta *bm);
static void do_controlled_shutdown(struct rf_bmeta *bm);

static void maybe_finish_close(struct rf_bmeta *bm)
{
    if (!bm->closing || bm->pending > 0)
        return;
    void (*cb)(void *) = bm->close_cb;
    void *data = bm->close_data;
    for (size_t i = 0; i < bm->n_endpoints; i++) {
        rf_free(bm->endpoints[i].name);
        rf_free(bm->endpoints[i].host);
    }
    rf_free(bm->endpoints);
    rf_free(bm->rack);
    rf_meta_image_free(bm->img);
    rf_free(bm);
    if (cb)
        cb(data);
}

/* A call or handle finished. Returns true when bm is closing: the caller
 * must then return without touching bm. */
static bool release(struct rf_bmeta *bm)
{
    bm->pending--;
    if (bm->closing) {
        maybe_finish_close(bm);
        return true;
    }
    return false;
}

static int call(struct rf_bmeta *bm, Riffle__Envelope *env,
                uint32_t deadline_ms, rf_ctlclient_cb cb)
{
    int rv = rf_ctlclient_call(bm->cc, env, -1, deadline_ms, cb, bm);
    if (rv == 0)
        bm->pending++;
    return rv;
}

/* Status of an answer whose body must be `want`; NULL answer or wrong body
 * count as failures (returns false). */
static bool answer_ok(int status, const Riffle__Envelope *resp,
                      Riffle__Envelope__BodyCase want,
                      const Riffle__Status **st)
{
    *st = resp ? rf_ctlclient_status(resp) : NULL;
    if (status != 0 || resp == NULL || resp->body_case != want)
        return false;
    return *st == NULL || (*st)->code == RIFFLE__ERROR_CODE__NONE;
}

static void on_hb_timer(uv_timer_t *t);

/* ---- registration ---- */

static void on_reg_timer(uv_timer_t *t)
{
    do_register(t->data);
}

static void on_register(void *data, int status, const Riffle__Envelope *resp)
{
    struct rf_bmeta *bm = data;
    const Riffle__Status *st;
    if (release(bm))
        return;
    if (!answer_ok(status, resp, RIFFLE__ENVELOPE__BODY_REGISTER_BROKER_RESP,
                   &st)) {
        bool dup = st && st->code == RIFFLE__ERROR_CODE__DUPLICATE_BROKER;
        RF_WARN("broker registration failed broker=%d err=%s code=%d "
                "msg=\"%s\"",
                bm->broker_id, rf_err_name(status), st ? (int)st->code : -1,
                st && st->message ? st->message : "");
        uv_timer_start(&bm->reg_timer, on_reg_timer,
                       dup ? DUPLICATE_PAUSE_MS : RETRY_PAUSE_MS, 0);
        return;
    }
    bool first = bm->epoch == 0;
    bm->epoch = resp->register_broker_resp->broker_epoch;
    bm->fenced = true;
    bm->caught_up = false;
    RF_INFO("broker registered broker=%d epoch=%lld", bm->broker_id,
            (long long)bm->epoch);
    if (first)
        do_poll(bm);
}

static void do_register(struct rf_bmeta *bm)
{
    Riffle__Envelope env = RIFFLE__ENVELOPE__INIT;
    Riffle__RegisterBrokerRequest req = RIFFLE__REGISTER_BROKER_REQUEST__INIT;
    Riffle__Endpoint *eps[16];
    struct rf_uuid rid;
    size_t n = bm->n_endpoints < 16 ? bm->n_endpoints : 16;
    rf_uuid_generate(&rid);
    for (size_t i = 0; i < n; i++)
        eps[i] = &bm->endpoints[i];
    req.request_id.data = rid.b;
    req.request_id.len = sizeof rid.b;
    req.broker_id = bm->broker_id;
    req.incarnation_id.data = bm->incarnation.b;
    req.incarnation_id.len = sizeof bm->incarnation.b;
    req.endpoints = eps;
    req.n_endpoints = n;
    req.rack = bm->rack;
    env.body_case = RIFFLE__ENVELOPE__BODY_REGISTER_BROKER_REQ;
    env.register_broker_req = &req;
    if (call(bm, &env, CALL_DEADLINE_MS, on_register) != 0)
        uv_timer_start(&bm->reg_timer, on_reg_timer, RETRY_PAUSE_MS, 0);
}

/* ---- metadata long-poll ---- */

static void on_poll_timer(uv_timer_t *t)
{
    do_poll(t->data);
}

/* Apply one FetchMetadata answer; false if it did not apply cleanly. */
static bool apply_answer(struct rf_bmeta *bm,
                         const Riffle__FetchMetadataResponse *r)
{
    if (r->image != NULL) {
        size_t len = riffle__metadata_image__get_packed_size(r->image);
        uint8_t *buf = rf_malloc(len ? len : 1);
        riffle__metadata_image__pack(r->image, buf);
        int rv = rf_meta_restore(bm->img, buf, len);
        rf_free(buf);
        if (rv != 0) {
            RF_WARN("metadata image did not restore err=%s", rf_err_name(rv));
            return false;
        }
    }
    for (size_t i = 0; i < r->n_deltas; i++) {
        const Riffle__MetadataDelta *d = r->deltas[i];
        Riffle__MetadataCommand cmd = RIFFLE__METADATA_COMMAND__INIT;
        if (d->offset <= rf_meta_offset(bm->img))
            continue; /* already applied */
        cmd.records = d->records;
        cmd.n_records = d->n_records;
        size_t len = riffle__metadata_command__get_packed_size(&cmd);
        uint8_t *buf = rf_malloc(len ? len : 1);
        riffle__metadata_command__pack(&cmd, buf);
        int res = rf_meta_apply(bm->img, d->offset, buf, len);
        rf_free(buf);
        if (res != RIFFLE__ERROR_CODE__NONE) {
            RF_WARN("metadata delta rejected offset=%lld code=%d: refetching "
                    "the whole image",
                    (long long)d->offset, res);
            return false;
        }
    }
    if (r->offset > rf_meta_offset(bm->img))
        rf_meta_advance(bm->img, r->offset);
    return true;
}

static void on_poll(void *data, int status, const Riffle__Envelope *resp)
{
    struct rf_bmeta *bm = data;
    const Riffle__Status *st;
    if (release(bm))
        return;
    if (!answer_ok(status, resp, RIFFLE__ENVELOPE__BODY_FETCH_METADATA_RESP,
                   &st)) {
        uv_timer_start(&bm->poll_timer, on_poll_timer, RETRY_PAUSE_MS, 0);
        return;
    }
    int64_t old = rf_meta_offset(bm->img);
    bm->want_full_image = !apply_answer(bm, resp->fetch_metadata_resp);
    if (rf_meta_offset(bm->img) != old && bm->cb != NULL)
        bm->cb(bm->cb_data, bm->img, old);
    do_poll(bm);
}

static void do_poll(struct rf_bmeta *bm)
{
    Riffle__Envelope env = RIFFLE__ENVELOPE__INIT;
    Riffle__FetchMetadataRequest req = RIFFLE__FETCH_METADATA_REQUEST__INIT;
    int64_t off = rf_meta_offset(bm->img);
    if (bm->closing)
        return;
    req.since_offset = (bm->want_full_image || off == 0) ? -1 : off;
    req.broker_id = bm->broker_id;
    req.broker_epoch = bm->epoch;
    req.max_wait_ms = bm->fetch_max_wait_ms;
    env.body_case = RIFFLE__ENVELOPE__BODY_FETCH_METADATA_REQ;
    env.fetch_metadata_req = &req;
    if (call(bm, &env, CALL_DEADLINE_MS + bm->fetch_max_wait_ms, on_poll) != 0)
        uv_timer_start(&bm->poll_timer, on_poll_timer, RETRY_PAUSE_MS, 0);
}

/* ---- heartbeats ---- */

static void on_heartbeat(void *data, int status, const Riffle__Envelope *resp)
{
    struct rf_bmeta *bm = data;
    const Riffle__Status *st;
    if (release(bm))
        return;
    bm->hb_in_flight = false;
    if (answer_ok(status, resp, RIFFLE__ENVELOPE__BODY_BROKER_HEARTBEAT_RESP,
                  &st)) {
        bool fenced = resp->broker_heartbeat_resp->is_fenced;
        if (fenced != bm->fenced)
            RF_INFO("broker %s broker=%d epoch=%lld metadata_offset=%lld",
                    fenced ? "fenced" : "unfenced", bm->broker_id,
                    (long long)bm->epoch,
                    (long long)rf_meta_offset(bm->img));
        bm->fenced = fenced;
        bm->caught_up = resp->broker_heartbeat_resp->is_caught_up;
        bm->hb_failing = false;
        return;
    }
    if (status != 0 && !bm->closing) {
        /* The connection failed: heartbeat again as soon as a new one is
         * up, not an interval later (the active controller fences a
         * broker whose heartbeat connection stays closed for
         * broker.disconnect.fence.ms). Once per outage, then at the
         * usual interval. */
        if (!bm->hb_failing)
            uv_timer_start(&bm->hb_timer, on_hb_timer, RETRY_PAUSE_MS / 2,
                           bm->hb_interval_ms);
        bm->hb_failing = true;
        return;
    }
    if (st && (st->code == RIFFLE__ERROR_CODE__STALE_BROKER_EPOCH ||
               st->code == RIFFLE__ERROR_CODE__UNKNOWN_BROKER)) {
        RF_WARN("broker registration lost broker=%d epoch=%lld code=%d: "
                "registering again",
                bm->broker_id, (long long)bm->epoch, (int)st->code);
        bm->fenced = true;
        do_register(bm);
    }
}

static void on_hb_timer(uv_timer_t *t)
{
    struct rf_bmeta *bm = t->data;
    Riffle__Envelope env = RIFFLE__ENVELOPE__INIT;
    Riffle__BrokerHeartbeatRequest req = RIFFLE__BROKER_HEARTBEAT_REQUEST__INIT;
    if (bm->epoch == 0 || bm->hb_in_flight || bm->closing)
        return;
    req.broker_id = bm->broker_id;
    req.broker_epoch = bm->epoch;
    req.current_metadata_offset = rf_meta_offset(bm->img);
    env.body_case = RIFFLE__ENVELOPE__BODY_BROKER_HEARTBEAT_REQ;
    env.broker_heartbeat_req = &req;
    /* A heartbeat older than one interval is worthless: short deadline. */
    if (call(bm, &env, bm->hb_interval_ms, on_heartbeat) == 0)
        bm->hb_in_flight = true;
}

/* ---- controlled shutdown ---- */

static void cs_finish(struct rf_bmeta *bm, int status)
{
    void (*cb)(void *, int) = bm->cs_cb;
    bm->cs_cb = NULL;
    if (cb)
        cb(bm->cs_data, status);
}

static void on_cs_timer(uv_timer_t *t)
{
    do_controlled_shutdown(t->data);
}

static void on_controlled_shutdown(void *data, int status,
                                   const Riffle__Envelope *resp)
{
    struct rf_bmeta *bm = data;
    const Riffle__Status *st;
    if (release(bm))
        return;
    if (answer_ok(status, resp,
                  RIFFLE__ENVELOPE__BODY_CONTROLLED_SHUTDOWN_RESP, &st) &&
        resp->controlled_shutdown_resp->remaining_leaderships == 0) {
        RF_INFO("controlled shutdown granted broker=%d", bm->broker_id);
        cs_finish(bm, 0);
        return;
    }
    if (rf_clock_mono_ms() >= bm->cs_deadline_ms) {
        RF_WARN("controlled shutdown not completed in time broker=%d",
                bm->broker_id);
        cs_finish(bm, RF_ETIMEDOUT);
        return;
    }
    uv_timer_start(&bm->cs_timer, on_cs_timer, RETRY_PAUSE_MS, 0);
}

static void do_controlled_shutdown(struct rf_bmeta *bm)
{
    Riffle__Envelope env = RIFFLE__ENVELOPE__INIT;
    Riffle__ControlledShutdownRequest req =
        RIFFLE__CONTROLLED_SHUTDOWN_REQUEST__INIT;
    uint64_t now = rf_clock_mono_ms();
    if (bm->epoch == 0 || now >= bm->cs_deadline_ms) {
        cs_finish(bm, bm->epoch == 0 ? 0 : RF_ETIMEDOUT);
        return;
    }
    req.broker_id = bm->broker_id;
    req.broker_epoch = bm->epoch;
    env.body_case = RIFFLE__ENVELOPE__BODY_CONTROLLED_SHUTDOWN_REQ;
    env.controlled_shutdown_req = &req;
    if (call(bm, &env, (uint32_t)(bm->cs_deadline_ms - now),
             on_controlled_shutdown) != 0)
        cs_finish(bm, RF_ESHUTDOWN);
}

void rf_bmeta_controlled_shutdown(struct rf_bmeta *bm, uint32_t timeout_ms,
                                  void (*cb)(void *data, int status),
                                  void *data)
{
    bm->cs_cb = cb;
    bm->cs_data = data;
    bm->cs_deadline_ms = rf_clock_mono_ms() + timeout_ms;
    do_controlled_shutdown(bm);
}

/* ---- lifecycle ---- */

int rf_bmeta_start(uv_loop_t *loop, const struct rf_bmeta_opts *opts,
                   rf_bmeta_change_cb cb, void *data, struct rf_bmeta **out)
{
    struct rf_bmeta *bm;
    if (opts->broker_id < 0 || opts->n_controllers < 1 ||
        opts->heartbeat_interval_ms == 0)
        return RF_EINVAL;
    bm = rf_calloc(1, sizeof *bm);
    if (rf_ctlclient_new(loop, opts->controllers, opts->n_controllers, NULL,
                         &bm->cc) != 0) {
        rf_free(bm);
        return RF_EINVAL;
    }
    bm->loop = loop;
    bm->img = rf_meta_image_new();
    bm->cb = cb;
    bm->cb_data = data;
    bm->broker_id = opts->broker_id;
    bm->hb_interval_ms = opts->heartbeat_interval_ms;
    bm->fetch_max_wait_ms = opts->fetch_max_wait_ms ? opts->fetch_max_wait_ms
                                                    : 5000;
    bm->fenced = true;
    bm->rack = opts->rack && opts->rack[0] ? rf_strdup(opts->rack) : NULL;
    bm->n_endpoints = opts->n_endpoints;
    bm->endpoints = rf_calloc(opts->n_endpoints, sizeof *bm->endpoints);
    for (size_t i = 0; i < opts->n_endpoints; i++) {
        riffle__endpoint__init(&bm->endpoints[i]);
        bm->endpoints[i].name = rf_strdup(opts->endpoints[i]->name);
        bm->endpoints[i].host = rf_strdup(opts->endpoints[i]->host);
        bm->endpoints[i].port = opts->endpoints[i]->port;
    }
    rf_uuid_generate(&bm->incarnation);
    uv_timer_t *timers[] = {&bm->hb_timer, &bm->poll_timer, &bm->reg_timer,
                            &bm->cs_timer};
    for (size_t i = 0; i < 4; i++) {
        uv_timer_init(loop, timers[i]);
        timers[i]->data = bm;
        bm->pending++;
    }
    uv_timer_start(&bm->hb_timer, on_hb_timer, bm->hb_interval_ms,
                   bm->hb_interval_ms);
    do_register(bm);
    *out = bm;
    return 0;
}

const struct rf_meta_image *rf_bmeta_image(const struct rf_bmeta *bm)
{
    return bm->img;
}

int64_t rf_bmeta_epoch(const struct rf_bmeta *bm)
{
    return bm->epoch;
}

bool rf_bmeta_fenced(const struct rf_bmeta *bm)
{
    return bm->fenced;
}

bool rf_bmeta_caught_up(const struct rf_bmeta *bm)
{
    return bm->caught_up;
}

struct rf_ctlclient *rf_bmeta_client(struct rf_bmeta *bm)
{
    return bm->cc;
}

static void timer_closed(uv_handle_t *h)
{
    release(h->data);
}

static void client_closed(void *data)
{
    release(data);
}

void rf_bmeta_close(struct rf_bmeta *bm, void (*cb)(void *data), void *data)
{
    bm->closing = true;
    bm->close_cb = cb;
    bm->close_data = data;
    bm->pending++; /* held until the client is closed */
    if (bm->cs_cb)
        cs_finish(bm, RF_ECANCELED);
    uv_close((uv_handle_t *)&bm->hb_timer, timer_closed);
    uv_close((uv_handle_t *)&bm->poll_timer, timer_closed);
    uv_close((uv_handle_t *)&bm->reg_timer, timer_closed);
    uv_close((uv_handle_t *)&bm->cs_timer, timer_closed);
    rf_ctlclient_close(bm->cc, client_closed, bm);
}
