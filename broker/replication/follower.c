/* follower.c: the follower fetchers: one session per leader broker pulls
 * every partition this broker follows from it in one ReplicaFetch, checks
 * and appends what comes back, truncates on a diverging-epoch marker,
 * fdatasyncs, and only then asks again (so the durable offset it reports
 * covers what it appended).
 *
 * Happy path: rf__repl_sessions_sync() rebuilds each session's partition
 * list from the table; an idle session sends a fetch at once; the answer
 * is applied partition by partition (records: CRC and offset checks, then
 * rf_log_append_replica; the high watermark: the leader's, capped by the
 * local log end), the logs that grew are flushed (group commit), and the
 * last flush sends the next fetch.
 *
 * Failure modes: a call that fails (leader down, timeout) or a request-level
 * refusal retries after BACKOFF_MS; a partition refused (fenced epoch, not
 * leader) is asked again with the next fetch, which the metadata usually
 * corrects meanwhile; records that fail their checks are logged and
 * fetched again; a failed append or truncation leaves the log as it was. */
#include <inttypes.h>
#include <string.h>

#include "alloc.h"
#include "err.h"
#include "kerr.h"
#include "log.h"
#include "repl_int.h"

#define BACKOFF_MS 200u
#define CALL_SLACK_MS 5000u

struct fpart {
    char *topic; /* owned */
    int32_t index;
};

struct rf__session {
    struct rf__session *next;
    struct rf_repl *repl; /* NULL once closing */
    int32_t leader;
    char *host; /* owned */
    uint16_t port;
    struct rf_rpc_client *c;
    uv_timer_t timer; /* backoff */
    struct fpart *parts;
    size_t n, cap;
    bool busy;   /* a call or its flushes outstanding, or backing off */
    int flushes; /* flushes of this round still pending */
    int refs;    /* the client, the timer, one per pending flush */
    bool seen;   /* sync bookkeeping */
};

static void session_unref(struct rf__session *s)
{
    if (--s->refs > 0)
        return;
    for (size_t i = 0; i < s->n; i++)
        rf_free(s->parts[i].topic);
    rf_free(s->parts);
    rf_free(s->host);
    rf_free(s);
}

static void on_closed_cb(void *data)
{
    session_unref(data);
}

static void on_timer_closed(uv_handle_t *h)
{
    session_unref(h->data);
}

/* The partition if this broker still follows it from s's leader. */
static struct rf_part *followed(struct rf__session *s, const char *topic,
                                int32_t index)
{
    struct rf_part *p =
        rf_parts_get(s->repl->ps, topic, strlen(topic), index);
    if (p == NULL || !p->hosted || p->is_leader || p->leader != s->leader ||
        p->log == NULL || rf_log_state(p->log, &(const char *){NULL}) != 0)
        return NULL;
    return p;
}

static void send_fetch(struct rf__session *s);

static void on_backoff(uv_timer_t *t)
{
    struct rf__session *s = t->data;
    s->busy = false;
    send_fetch(s);
}

static void backoff(struct rf__session *s)
{
    s->busy = true;
    uv_timer_start(&s->timer, on_backoff, BACKOFF_MS, 0);
}

/* ---- applying an answer ---- */

/* Truncate to offset (below the log end), or with reset start over empty
 * at offset (a log that ends below the leader's log start). */
static void truncate_to(struct rf_part *p, int64_t offset, bool reset,
                        const char *why)
{
    char errmsg[RF_ERRMSG_SIZE];
    if (!reset && offset >= rf_log_end_offset(p->log))
        return;
    RF_INFO("tp=%s-%" PRId32 ": %s to %" PRId64 " (%s)", p->topic, p->index,
            reset ? "restarting empty" : "truncating", offset, why);
    if ((reset ? rf_log_reset(p->log, offset, errmsg)
               : rf_log_truncate(p->log, offset, errmsg)) != 0)
        RF_WARN("tp=%s-%" PRId32 ": truncate: %s", p->topic, p->index,
                errmsg);
    if (p->high_watermark > rf_log_end_offset(p->log))
        p->high_watermark = rf_log_end_offset(p->log);
}

/* KIP-320: truncate to the smaller of the leader's end offset for the
 * diverging epoch and our own end of that epoch. */
static void apply_diverging(struct rf_part *p,
                            const Riffle__ReplicaFetchResult *res)
{
    int32_t found;
    int64_t end, target = res->diverging_end_offset;
    if (rf_log_epoch_end_offset(p->log, res->diverging_epoch, &found, &end) ==
            0 &&
        end < target)
        target = end;
    if (target < 0)
        target = 0;
    truncate_to(p, target, false, "diverging epoch");
}

static bool apply_records(struct rf_part *p,
                          const Riffle__ReplicaFetchResult *res)
{
    char errmsg[RF_ERRMSG_SIZE];
    int64_t next;
    int rc = rf__repl_check_records(res->records.data, res->records.len,
                                    rf_log_end_offset(p->log), &next);
    if (rc != 0) {
        RF_WARN("tp=%s-%" PRId32 ": replicated records refused: %s", p->topic,
                p->index, rf_strerror(rc));
        return false;
    }
    rc = rf_log_append_replica(p->log, res->records.data, res->records.len,
                               errmsg);
    if (rc != 0) {
        RF_WARN("tp=%s-%" PRId32 ": replica append: %s", p->topic, p->index,
                errmsg);
        return false;
    }
    return true;
}

static void on_flushed(void *data, int status, int64_t durable_offset)
{
    struct rf__session *s = data;
    (void)durable_offset;
    if (status != 0 && status != RF_ECANCELED && s->repl != NULL)
        RF_WARN("replication from broker %" PRId32 ": flush: %s", s->leader,
                rf_strerror(status));
    if (--s->flushes == 0 && s->repl != NULL) {
        s->busy = false;
        send_fetch(s);
    }
    session_unref(s);
}

/* Apply one result; returns whether the log grew. */
static bool apply_result(struct rf__session *s,
                         const Riffle__ReplicaFetchResult *res, bool *failed)
{
    if (res == NULL || res->topic == NULL)
        return false;
    struct rf_part *p = followed(s, res->topic, res->partition);
    if (p == NULL)
        return false;
    if (res->error == RF_KERR_OFFSET_OUT_OF_RANGE) {
        int64_t before = rf_log_end_offset(p->log);
        if (before < res->log_start_offset)
            truncate_to(p, res->log_start_offset, true,
                        "below leader's start");
        else if (res->log_end_offset >= 0)
            truncate_to(p, res->log_end_offset, false, "beyond leader's end");
        if (rf_log_end_offset(p->log) == before)
            *failed = true; /* nothing changed: back off, do not spin */
        return false;
    }
    if (res->error != RF_KERR_NONE) {
        *failed = true;
        return false;
    }
    if (res->diverging_epoch >= 0) {
        apply_diverging(p, res);
        return false;
    }
    bool grew = res->records.len > 0 && apply_records(p, res);
    if (res->high_watermark >= 0) {
        int64_t leo = rf_log_end_offset(p->log);
        p->high_watermark =
            res->high_watermark < leo ? res->high_watermark : leo;
    }
    return grew;
}

static void flush_part(struct rf__session *s, const char *topic, int32_t idx)
{
    struct rf_part *p = followed(s, topic, idx);
    if (p == NULL)
        return;
    if (rf_log_flush(p->log, rf_log_end_offset(p->log), on_flushed, s) == 0) {
        s->refs++;
        s->flushes++;
    }
}

static void on_response(void *data, int status, const Riffle__Envelope *env)
{
    struct rf__session *s = data;
    const Riffle__ReplicaFetchResponse *resp = NULL;
    bool failed = false;
    if (s->repl == NULL)
        return; /* closing: the client's close callback frees s */
    if (status == 0 && env->body_case ==
                           RIFFLE__ENVELOPE__BODY_REPLICA_FETCH_RESP)
        resp = env->replica_fetch_resp;
    if (resp == NULL) {
        RF_DEBUG("replication from broker %" PRId32 ": %s", s->leader,
                 status != 0 ? rf_strerror(status) : "refused");
        backoff(s);
        return;
    }
    s->flushes = 1; /* held while applying */
    for (size_t i = 0; i < resp->n_results; i++)
        if (apply_result(s, resp->results[i], &failed))
            flush_part(s, resp->results[i]->topic,
                       resp->results[i]->partition);
    if (--s->flushes > 0)
        return;
    if (failed)
        backoff(s);
    else {
        s->busy = false;
        send_fetch(s);
    }
}

/* ---- sending ---- */

static void fill_partition(struct rf_part *p, Riffle__ReplicaFetchPartition *rp)
{
    riffle__replica_fetch_partition__init(rp);
    rp->topic = p->topic;
    rp->topic_id.data = p->topic_id.b;
    rp->topic_id.len = sizeof(p->topic_id.b);
    rp->partition = p->index;
    rp->current_leader_epoch = p->leader_epoch;
    rp->fetch_offset = rf_log_end_offset(p->log);
    rp->last_fetched_epoch = rf_log_latest_epoch(p->log);
    rp->durable_offset = rf_log_durable_offset(p->log);
    if (rp->durable_offset > rp->fetch_offset)
        rp->durable_offset = rp->fetch_offset;
    rp->high_watermark = p->high_watermark;
}

static void send_fetch(struct rf__session *s)
{
    if (s->busy || s->repl == NULL)
        return;
    Riffle__ReplicaFetchPartition *v = rf_calloc(s->n + 1, sizeof(*v));
    Riffle__ReplicaFetchPartition **pv = rf_calloc(s->n + 1, sizeof(*pv));
    Riffle__ReplicaFetchRequest req = RIFFLE__REPLICA_FETCH_REQUEST__INIT;
    Riffle__Envelope env = RIFFLE__ENVELOPE__INIT;
    size_t n = 0;
    for (size_t i = 0; i < s->n; i++) {
        struct rf_part *p = followed(s, s->parts[i].topic, s->parts[i].index);
        if (p == NULL)
            continue;
        fill_partition(p, &v[n]);
        pv[n] = &v[n];
        n++;
    }
    if (n > 0 && rf_bmeta_epoch(s->repl->bm) > 0) {
        req.replica_id = s->repl->broker_id;
        req.broker_epoch = rf_bmeta_epoch(s->repl->bm);
        req.max_wait_ms = s->repl->max_wait_ms;
        req.max_bytes = s->repl->max_bytes;
        req.n_partitions = n;
        req.partitions = pv;
        env.body_case = RIFFLE__ENVELOPE__BODY_REPLICA_FETCH_REQ;
        env.replica_fetch_req = &req;
        if (rf_rpc_call(s->c, &env, s->repl->max_wait_ms + CALL_SLACK_MS,
                        on_response, s) == 0)
            s->busy = true;
    }
    rf_free(pv);
    rf_free(v);
}

/* ---- sessions ---- */

static void session_close(struct rf__session *s)
{
    s->repl = NULL;
    uv_timer_stop(&s->timer);
    uv_close((uv_handle_t *)&s->timer, on_timer_closed);
    rf_rpc_client_close(s->c, on_closed_cb, s);
}

static struct rf__session *session_new(struct rf_repl *repl, int32_t leader,
                                       const char *host, uint16_t port)
{
    struct rf__session *s = rf_calloc(1, sizeof(*s));
    if (rf_rpc_client_new(repl->loop, host, port, NULL, &s->c) != 0) {
        rf_free(s);
        return NULL;
    }
    s->repl = repl;
    s->leader = leader;
    s->host = rf_strdup(host);
    s->port = port;
    s->refs = 2; /* client, timer */
    uv_timer_init(repl->loop, &s->timer);
    s->timer.data = s;
    s->next = repl->sessions;
    repl->sessions = s;
    RF_INFO("replication: following broker %" PRId32 " at %s:%u", leader, host,
            (unsigned)port);
    return s;
}

static const Riffle__Endpoint *repl_endpoint(const struct rf_meta_image *img,
                                             int32_t id)
{
    struct rf_meta_broker mb;
    if (!rf_meta_broker_get(img, id, &mb))
        return NULL;
    for (size_t i = 0; i < mb.n_endpoints; i++) {
        const Riffle__Endpoint *ep = mb.endpoints[i];
        if (ep->name != NULL && strcmp(ep->name, "REPLICATION") == 0 &&
            ep->host != NULL && ep->port > 0 && ep->port <= 65535)
            return ep;
    }
    return NULL;
}

/* The session for leader at ep (a new one if none or it moved). */
static struct rf__session *session_for(struct rf_repl *repl, int32_t leader,
                                       const Riffle__Endpoint *ep)
{
    for (struct rf__session *s = repl->sessions; s != NULL; s = s->next)
        if (s->leader == leader && s->repl != NULL) {
            if (strcmp(s->host, ep->host) == 0 && s->port == ep->port)
                return s;
            s->seen = false; /* moved: closed below, a new one follows */
            s->leader = -1;
        }
    return session_new(repl, leader, ep->host, (uint16_t)ep->port);
}

static void session_add(struct rf__session *s, const struct rf_part *p)
{
    if (!s->seen) {
        for (size_t i = 0; i < s->n; i++)
            rf_free(s->parts[i].topic);
        s->n = 0;
        s->seen = true;
    }
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 8;
        s->parts = rf_realloc(s->parts, s->cap * sizeof(*s->parts));
    }
    s->parts[s->n].topic = rf_strdup(p->topic);
    s->parts[s->n].index = p->index;
    s->n++;
}

static void sync_topic(struct rf_repl *repl, const struct rf_meta_image *img,
                       struct rf_part *const *parts, size_t n)
{
    for (size_t j = 0; j < n; j++) {
        const struct rf_part *p = parts[j];
        if (!p->hosted || p->is_leader || p->leader < 0 || p->log == NULL ||
            p->leader == repl->broker_id)
            continue;
        const Riffle__Endpoint *ep = repl_endpoint(img, p->leader);
        if (ep == NULL)
            continue;
        struct rf__session *s = session_for(repl, p->leader, ep);
        if (s != NULL)
            session_add(s, p);
    }
}

void rf__repl_sessions_sync(struct rf_repl *repl,
                            const struct rf_meta_image *img)
{
    const char *name;
    struct rf_part *const *parts;
    size_t n;
    for (struct rf__session *s = repl->sessions; s != NULL; s = s->next)
        s->seen = false;
    for (size_t i = 0; rf_parts_topic_at(repl->ps, i, &name, &parts, &n); i++)
        sync_topic(repl, img, parts, n);
    struct rf__session **link = &repl->sessions;
    while (*link != NULL) {
        struct rf__session *s = *link;
        if (!s->seen) {
            *link = s->next;
            session_close(s);
            continue;
        }
        link = &s->next;
        send_fetch(s);
    }
}

void rf__repl_sessions_close(struct rf_repl *repl)
{
    while (repl->sessions != NULL) {
        struct rf__session *s = repl->sessions;
        repl->sessions = s->next;
        session_close(s);
    }
}
