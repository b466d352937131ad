/* leader.c: the leader side of replication: answers ReplicaFetch with
 * stored batches, the high watermark and log start, or a diverging-epoch
 * marker; records each follower's position and durable offset (which moves
 * the high watermark) and holds empty fetches until data arrives.
 *
 * Happy path: on_call checks the request and the caller (a registered,
 * unfenced broker with the current broker epoch), then fill() walks its
 * partitions. If nothing is to be said (no records, no errors, every high
 * watermark as the follower knows it) the fetch is held: one waiter per
 * partition plus a max-wait timer; a wake-up (append, HWM, leadership)
 * fills it again from a zero timer, never from inside the wake-up.
 *
 * Failure modes: a malformed request or an unknown / fenced / stale caller
 * gets a request-level error; per partition: UNKNOWN_TOPIC_OR_PARTITION,
 * NOT_LEADER_OR_FOLLOWER, FENCED_LEADER_EPOCH / UNKNOWN_LEADER_EPOCH (the
 * follower's view differs), REPLICA_NOT_AVAILABLE (not a replica),
 * OFFSET_OUT_OF_RANGE, KAFKA_STORAGE_ERROR (read failed). */
#include <inttypes.h>
#include <string.h>

#include "alloc.h"
#include "buf.h"
#include "clock.h"
#include "data_int.h"
#include "err.h"
#include "kerr.h"
#include "log.h"
#include "repl_int.h"

#define TOTAL_MAX_BYTES (16u * 1024u * 1024u)

struct hwaiter {
    struct rf__waiter w; /* first */
    struct rf__hold *h;
};

/* A fetch held by the leader. Freed by the timer's close callback. */
struct rf__hold {
    struct rf__hold *next, *prev;
    struct rf_repl *repl;
    struct rf_rpc_call *call; /* NULL once answered */
    const Riffle__ReplicaFetchRequest *req; /* points into the call */
    uv_timer_t timer;
    uint64_t deadline_ms; /* monotonic: answer even if empty */
    bool expired;
    size_t n;
    struct hwaiter waits[];
};

/* ---- one partition ---- */

static void result_init(Riffle__ReplicaFetchResult *res,
                        const Riffle__ReplicaFetchPartition *rp)
{
    riffle__replica_fetch_result__init(res);
    res->topic = rp->topic;
    res->partition = rp->partition;
    res->high_watermark = -1;
    res->log_start_offset = -1;
    res->log_end_offset = -1;
    res->diverging_epoch = -1;
    res->diverging_end_offset = -1;
}

static int16_t partition_error(const struct rf_part *p,
                               const Riffle__ReplicaFetchPartition *rp,
                               int32_t replica, size_t *ri)
{
    if (p == NULL)
        return RF_KERR_UNKNOWN_TOPIC_OR_PARTITION;
    if (!p->is_leader || p->log == NULL || p->rstate == NULL)
        return RF_KERR_NOT_LEADER_OR_FOLLOWER;
    if (rp->current_leader_epoch < p->leader_epoch)
        return RF_KERR_FENCED_LEADER_EPOCH;
    if (rp->current_leader_epoch > p->leader_epoch)
        return RF_KERR_UNKNOWN_LEADER_EPOCH;
    for (*ri = 0; *ri < p->n_replicas; (*ri)++)
        if (p->replicas[*ri] == replica)
            return RF_KERR_NONE;
    return RF_KERR_REPLICA_NOT_AVAILABLE;
}

/* KIP-320: does the follower's log end in an epoch the leader ended
 * earlier? Fills the marker and returns true if so. */
static bool diverging(const struct rf_part *p,
                      const Riffle__ReplicaFetchPartition *rp,
                      Riffle__ReplicaFetchResult *res)
{
    int32_t found;
    int64_t end;
    if (rp->last_fetched_epoch < 0 || rp->fetch_offset == 0)
        return false;
    int rc = rf_log_epoch_end_offset(p->log, rp->last_fetched_epoch, &found,
                                     &end);
    if (rc != 0) {
        found = rp->last_fetched_epoch;
        end = rf_log_start_offset(p->log);
    } else if (found == rp->last_fetched_epoch && end >= rp->fetch_offset) {
        return false;
    }
    res->diverging_epoch = found;
    res->diverging_end_offset = end;
    return true;
}

/* Record what the follower reported; true if it changed. */
static bool note_follower(struct rf_part *p, size_t ri,
                          const Riffle__ReplicaFetchPartition *rp)
{
    struct rf_replica_state *rs = &p->rstate[ri];
    bool changed = rs->log_end != rp->fetch_offset ||
                   rs->durable != rp->durable_offset;
    uint64_t now = rf_clock_mono_ms();
    int64_t leo = rf_log_end_offset(p->log);
    rs->log_end = rp->fetch_offset;
    rs->durable = rp->durable_offset;
    /* Kafka's rule: caught up now if it has the leader's end; else caught
     * up as of its previous fetch if it now has what the leader had then
     * (a follower under steady load is never exactly at the end). */
    if (rp->fetch_offset >= leo)
        rs->caught_up_ms = now;
    else if (rp->fetch_offset >= rs->last_fetch_leo &&
             rs->last_fetch_ms > rs->caught_up_ms)
        rs->caught_up_ms = rs->last_fetch_ms;
    rs->last_fetch_leo = leo;
    rs->last_fetch_ms = now;
    return changed;
}

static int16_t read_records(struct rf_repl *repl, struct rf_part *p,
                            const Riffle__ReplicaFetchPartition *rp,
                            struct rf_wr *wr, size_t *budget)
{
    char errmsg[RF_ERRMSG_SIZE];
    size_t max = repl->max_bytes < *budget ? repl->max_bytes : *budget;
    size_t before = wr->len;
    if (max == 0 || rp->fetch_offset >= rf_log_end_offset(p->log))
        return RF_KERR_NONE;
    if (rf_log_read(p->log, rp->fetch_offset, max, wr, errmsg) != 0) {
        RF_WARN("tp=%s-%" PRId32 " replica fetch: read: %s", p->topic,
                p->index, errmsg);
        wr->len = before;
        return RF_KERR_KAFKA_STORAGE_ERROR;
    }
    *budget -= wr->len - before < *budget ? wr->len - before : *budget;
    return RF_KERR_NONE;
}

/* One partition of a fetch; records are appended to wr (res->records is
 * fixed up once wr stops moving). Returns whether the answer says
 * something the follower does not know yet. */
static bool fill_one(struct rf_repl *repl, int32_t replica,
                     const Riffle__ReplicaFetchPartition *rp,
                     Riffle__ReplicaFetchResult *res, struct rf_wr *wr,
                     size_t *rec_off, size_t *budget)
{
    size_t ri = 0;
    struct rf_part *p = rf_parts_get(repl->ps, rp->topic, strlen(rp->topic),
                                     rp->partition);
    result_init(res, rp);
    *rec_off = wr->len;
    res->error = partition_error(p, rp, replica, &ri);
    if (res->error != RF_KERR_NONE)
        return true;
    res->log_start_offset = rf_log_start_offset(p->log);
    res->log_end_offset = rf_log_end_offset(p->log);
    if (diverging(p, rp, res))
        return true;
    if (rp->fetch_offset < res->log_start_offset ||
        rp->fetch_offset > res->log_end_offset) {
        res->error = RF_KERR_OFFSET_OUT_OF_RANGE;
        return true;
    }
    if (note_follower(p, ri, rp))
        rf_parts_on_progress(repl->ps, p);
    rf_parts_flush_leader(repl->ps, p);
    res->high_watermark = p->high_watermark;
    res->error = read_records(repl, p, rp, wr, budget);
    return res->error != RF_KERR_NONE || wr->len > *rec_off ||
           res->high_watermark != rp->high_watermark;
}

/* ---- the whole fetch ---- */

static void reply_status(struct rf_rpc_call *call, Riffle__ErrorCode code,
                         const char *msg)
{
    Riffle__Envelope env = RIFFLE__ENVELOPE__INIT;
    Riffle__Status st = RIFFLE__STATUS__INIT;
    st.code = code;
    st.message = (char *)msg;
    env.body_case = RIFFLE__ENVELOPE__BODY_ERROR;
    env.error = &st;
    rf_rpc_reply(call, &env);
}

/* Fill every partition; answer if there is news or force, and return
 * whether it answered. */
static bool fill(struct rf_repl *repl, struct rf_rpc_call *call,
                 const Riffle__ReplicaFetchRequest *req, bool force)
{
    size_t n = req->n_partitions, budget = TOTAL_MAX_BYTES;
    Riffle__ReplicaFetchResult *res = rf_calloc(n + 1, sizeof(*res));
    Riffle__ReplicaFetchResult **resp_v = rf_calloc(n + 1, sizeof(*resp_v));
    size_t *off = rf_calloc(n + 1, sizeof(*off));
    struct rf_wr wr;
    bool news = false;
    rf_wr_init(&wr, 0);
    for (size_t i = 0; i < n; i++)
        news |= fill_one(repl, req->replica_id, req->partitions[i], &res[i],
                         &wr, &off[i], &budget);
    if (news || force) {
        Riffle__Envelope env = RIFFLE__ENVELOPE__INIT;
        Riffle__ReplicaFetchResponse resp =
            RIFFLE__REPLICA_FETCH_RESPONSE__INIT;
        for (size_t i = 0; i < n; i++) {
            size_t end = i + 1 < n ? off[i + 1] : wr.len;
            res[i].records.len = end - off[i];
            res[i].records.data = end > off[i] ? wr.base + off[i] : NULL;
            resp_v[i] = &res[i];
        }
        resp.n_results = n;
        resp.results = resp_v;
        env.body_case = RIFFLE__ENVELOPE__BODY_REPLICA_FETCH_RESP;
        env.replica_fetch_resp = &resp;
        rf_rpc_reply(call, &env);
    }
    rf_wr_free(&wr);
    rf_free(off);
    rf_free(resp_v);
    rf_free(res);
    return news || force;
}

static void hold_closed(uv_handle_t *h)
{
    rf_free(h->data);
}

static void hold_end(struct rf__hold *h)
{
    for (size_t i = 0; i < h->n; i++)
        rf__parts_unwait(&h->waits[i].w);
    if (h->prev != NULL)
        h->prev->next = h->next;
    else
        h->repl->holds = h->next;
    if (h->next != NULL)
        h->next->prev = h->prev;
    uv_timer_stop(&h->timer);
    uv_close((uv_handle_t *)&h->timer, hold_closed);
}

static void on_hold_expired(uv_timer_t *t);

static void on_hold_timer(uv_timer_t *t)
{
    struct rf__hold *h = t->data;
    if (!rf_rpc_call_alive(h->call)) {
        rf_rpc_call_drop(h->call);
        hold_end(h);
        return;
    }
    if (fill(h->repl, h->call, h->req, h->expired)) {
        hold_end(h);
        return;
    }
    uint64_t now = rf_clock_mono_ms();
    uv_timer_start(&h->timer, on_hold_expired,
                   h->deadline_ms > now ? h->deadline_ms - now : 0, 0);
}

static void on_hold_expired(uv_timer_t *t)
{
    struct rf__hold *h = t->data;
    h->expired = true;
    on_hold_timer(t);
}

static void hold_wake(struct rf__waiter *w, enum rf__wake why)
{
    struct rf__hold *h = ((struct hwaiter *)w)->h;
    (void)why;
    /* Answer from the loop, not from inside the wake-up. */
    uv_timer_start(&h->timer, on_hold_timer, 0, 0);
}

static void hold(struct rf_repl *repl, struct rf_rpc_call *call,
                 const Riffle__ReplicaFetchRequest *req)
{
    size_t n = req->n_partitions;
    struct rf__hold *h = rf_calloc(1, sizeof(*h) + n * sizeof(h->waits[0]));
    uint32_t wait = req->max_wait_ms < RF_REPL_MAX_WAIT_MS
                        ? req->max_wait_ms
                        : RF_REPL_MAX_WAIT_MS;
    h->repl = repl;
    h->call = call;
    h->req = req;
    h->deadline_ms = rf_clock_mono_ms() + wait;
    uv_timer_init(repl->loop, &h->timer);
    h->timer.data = h;
    for (size_t i = 0; i < n; i++) {
        const Riffle__ReplicaFetchPartition *rp = req->partitions[i];
        struct rf_part *p = rf_parts_get(repl->ps, rp->topic,
                                         strlen(rp->topic), rp->partition);
        h->waits[i].h = h;
        h->waits[i].w.wake = hold_wake;
        if (p != NULL)
            rf__parts_wait(p, &h->waits[i].w);
    }
    h->n = n;
    h->next = repl->holds;
    if (repl->holds != NULL)
        repl->holds->prev = h;
    repl->holds = h;
    /* A wake-up's zero timer replaces this one; on_hold_timer re-arms. */
    uv_timer_start(&h->timer, on_hold_expired, wait, 0);
}

void rf__repl_holds_close(struct rf_repl *repl)
{
    while (repl->holds != NULL) {
        struct rf__hold *h = repl->holds;
        rf_rpc_call_drop(h->call);
        hold_end(h);
    }
}

/* The caller must be a registered, unfenced broker with its current epoch. */
static bool caller_ok(struct rf_repl *repl,
                      const Riffle__ReplicaFetchRequest *req, const char **why)
{
    struct rf_meta_broker mb;
    if (req->replica_id == repl->broker_id) {
        /* would overwrite the leader's own replica state */
        *why = "a fetch from this broker's own id";
        return false;
    }
    if (!rf_meta_broker_get(rf_bmeta_image(repl->bm), req->replica_id, &mb)) {
        *why = "unknown broker";
        return false;
    }
    if (mb.epoch != req->broker_epoch) {
        *why = "stale broker epoch";
        return false;
    }
    if (mb.state == RIFFLE__BROKER_STATE__BROKER_FENCED) {
        *why = "fenced broker";
        return false;
    }
    return true;
}

void rf__repl_on_call(struct rf_rpc_server *srv, struct rf_rpc_call *call,
                      const Riffle__Envelope *env)
{
    struct rf_repl *repl = rf_rpc_server_data(srv);
    const char *why = NULL;
    if (env->body_case != RIFFLE__ENVELOPE__BODY_REPLICA_FETCH_REQ ||
        env->replica_fetch_req == NULL) {
        reply_status(call, RIFFLE__ERROR_CODE__INVALID_REQUEST,
                     "replication listener: ReplicaFetch only");
        return;
    }
    const Riffle__ReplicaFetchRequest *req = env->replica_fetch_req;
    if (rf__repl_check_request(req, &why) != 0) {
        RF_DEBUG("replica fetch from %s refused: %s", rf_rpc_call_peer(call),
                 why);
        reply_status(call, RIFFLE__ERROR_CODE__INVALID_REQUEST, why);
        return;
    }
    if (repl->closing || !caller_ok(repl, req, &why)) {
        RF_DEBUG("replica fetch from broker %" PRId32 " refused: %s",
                 req->replica_id, why != NULL ? why : "shutting down");
        reply_status(call,
                     why != NULL ? RIFFLE__ERROR_CODE__STALE_BROKER_EPOCH
                                 : RIFFLE__ERROR_CODE__SHUTTING_DOWN,
                     why != NULL ? why : "shutting down");
        return;
    }
    if (!fill(repl, call, req, req->max_wait_ms == 0))
        hold(repl, call, req);
}
