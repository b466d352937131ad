/* api_fetch.c: the Fetch handler (v4-v11): stored batches verbatim, the
 * long-poll, and the per-partition offsets.
 *
 * Happy path: build the response (per partition, the batches starting with
 * the one containing the fetch offset, whole batches only, below the high
 * watermark for consumers, within PartitionMaxBytes and MaxBytes but always
 * the first batch of the first partition with data). If it holds at least
 * MinBytes (or has an error, or MaxWaitMs <= 0) answer at once; otherwise
 * wait on every partition's waiter list and a timer. A wake-up from an
 * append re-arms the timer at 0 ms, so the rebuild runs from the loop and
 * never inside rf_parts_sync(); it answers once MinBytes is there or the
 * deadline passed.
 *
 * Failure modes: unknown partition (3), not the leader or no log (6), fetch
 * offset outside [log start, log end] (1): only these codes, since
 * kafka-python raises anything else out of poll(). A waiting partition that
 * loses leadership or is removed answers the request on the next loop
 * iteration, from the last build without records (no lookups: at shutdown
 * the table is gone by then). */
#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "alloc.h"
#include "batch.h"
#include "buf.h"
#include "data_int.h"
#include "err.h"
#include "kafka_msgs.h"
#include "kerr.h"
#include "log.h"
#include "server.h"

typedef struct rf_FetchResponse_PartitionData part_resp;

struct fetch;

/* One requested partition. */
struct fpart {
    struct rf__waiter w; /* first: the waiter converts back to fpart */
    struct fetch *f;
    part_resp *out;  /* in the request's arena */
    bool forced;     /* lost leadership or removed while waiting */
    size_t data_off; /* records of the last build, in f->data */
    size_t data_len;
};

struct fetch {
    struct rf_kreq *r;
    const struct rf_FetchRequest *req;
    struct rf_FetchResponse *resp;
    struct rf_wr data; /* records of the last build */
    uv_timer_t timer;
    bool timer_inited;
    bool forced;       /* a partition was forced: answer without a rebuild */
    uint64_t deadline; /* loop time (ms) */
    size_t n;
    struct fpart parts[];
};

/* Budget of one build. */
struct budget {
    size_t left;    /* response MaxBytes still free */
    bool have_data; /* a partition already returned records */
    bool any_error;
};

/* Read p's records for in into f->data, within the budget. */
static int16_t read_records(struct fetch *f, struct rf_part *p,
                            const struct rf_FetchRequest_FetchPartition *in,
                            int64_t limit, struct fpart *fp, struct budget *b)
{
    char errmsg[RF_ERRMSG_SIZE];
    size_t pmax = in->PartitionMaxBytes > 0 ? (size_t)in->PartitionMaxBytes : 0;
    size_t max = pmax < b->left ? pmax : b->left;
    size_t before = f->data.len;
    if (in->FetchOffset >= limit || (b->have_data && max == 0))
        return RF_KERR_NONE;
    int rc = rf_log_read(p->log, in->FetchOffset, max, &f->data, errmsg);
    if (rc != 0) {
        f->data.len = before;
        if (rc == RF_EOFFSET)
            return RF_KERR_OFFSET_OUT_OF_RANGE;
        RF_WARN("tp=%s-%" PRId32 " api=Fetch: read: %s", p->topic, p->index,
                errmsg);
        return RF_KERR_NOT_LEADER_OR_FOLLOWER;
    }
    f->data.len = before + rf__fetch_cut(f->data.base + before,
                                         f->data.len - before, limit);
    size_t got = f->data.len - before;
    /* Only the first partition with data may go over (KIP-74). */
    if (b->have_data && got > max) {
        f->data.len = before;
        got = 0;
    }
    if (got > 0) {
        b->have_data = true;
        b->left -= got < b->left ? got : b->left;
    }
    fp->data_off = before;
    fp->data_len = got;
    return RF_KERR_NONE;
}

static int16_t fill_partition(struct fetch *f, struct rf_kstr topic,
                              const struct rf_FetchRequest_FetchPartition *in,
                              struct fpart *fp, struct budget *b)
{
    part_resp *out = fp->out;
    struct rf_part *p = rf_parts_get(f->r->b->parts, topic.ptr,
                                     (size_t)topic.len, in->Partition);
    if (p == NULL)
        return RF_KERR_UNKNOWN_TOPIC_OR_PARTITION;
    if (!p->is_leader || p->log == NULL)
        return RF_KERR_NOT_LEADER_OR_FOLLOWER;
    int64_t start = rf_log_start_offset(p->log);
    int64_t leo = rf_log_end_offset(p->log);
    out->HighWatermark = p->high_watermark;
    out->LastStableOffset = p->high_watermark; /* no transactions */
    out->LogStartOffset = start;
    if (in->FetchOffset < start || in->FetchOffset > leo)
        return RF_KERR_OFFSET_OUT_OF_RANGE;
    /* Consumers read below the high watermark; a replica up to the end. */
    int64_t limit = f->req->ReplicaId < 0 ? p->high_watermark : leo;
    return read_records(f, p, in, limit, fp, b);
}

static void reset_partition(part_resp *out, int32_t index)
{
    out->PartitionIndex = index;
    out->ErrorCode = RF_KERR_NONE;
    out->HighWatermark = -1;
    out->LastStableOffset = -1;
    out->LogStartOffset = -1;
    out->AbortedTransactions.items = NULL;
    out->AbortedTransactions.count = 0;
    out->PreferredReadReplica = -1;
    out->Records.ptr = NULL;
    out->Records.len = 0;
}

/* Rebuild every partition from the table; returns the record bytes. */
static size_t build(struct fetch *f, bool *any_error)
{
    struct budget b = {0};
    size_t k = 0;
    /* The client's MaxBytes, capped by fetch.max.bytes: a response is
     * built in memory (the first partition with data may still go over,
     * KIP-74, so a consumer always progresses). */
    b.left = f->req->MaxBytes > 0 ? (size_t)f->req->MaxBytes : 0;
    if (b.left > (size_t)f->r->b->conf->fetch_max_bytes)
        b.left = (size_t)f->r->b->conf->fetch_max_bytes;
    rf_wr_reset(&f->data);
    for (int32_t i = 0; i < f->req->Topics.count; i++) {
        const struct rf_FetchRequest_FetchTopic *t = &f->req->Topics.items[i];
        for (int32_t j = 0; j < t->Partitions.count; j++, k++) {
            struct fpart *fp = &f->parts[k];
            const struct rf_FetchRequest_FetchPartition *in =
                &t->Partitions.items[j];
            reset_partition(fp->out, in->Partition);
            fp->data_len = 0;
            int16_t code = fill_partition(f, t->Topic, in, fp, &b);
            fp->out->ErrorCode = code;
            b.any_error |= code != RF_KERR_NONE;
        }
    }
    /* The writer may have moved while growing: point records last. */
    for (size_t i = 0; i < f->n; i++)
        if (f->parts[i].data_len > 0) {
            f->parts[i].out->Records.ptr = f->data.base + f->parts[i].data_off;
            f->parts[i].out->Records.len = (int32_t)f->parts[i].data_len;
        }
    *any_error = b.any_error;
    return f->data.len;
}

static void on_timer_closed(uv_handle_t *h)
{
    rf_free(h->data);
}

static void answer(struct fetch *f)
{
    for (size_t i = 0; i < f->n; i++)
        rf__parts_unwait(&f->parts[i].w);
    rf_kreq_respond(f->r, f->resp);
    rf_wr_free(&f->data);
    if (f->timer_inited) {
        uv_timer_stop(&f->timer);
        uv_close((uv_handle_t *)&f->timer, on_timer_closed);
    } else {
        rf_free(f);
    }
}

/* Answer from the last build, without records, with the partitions that
 * lost leadership (or went away) set to NOT_LEADER_OR_FOLLOWER: no lookups,
 * the table may be gone (shutdown). */
static void answer_forced(struct fetch *f)
{
    for (size_t i = 0; i < f->n; i++) {
        f->parts[i].out->Records.ptr = NULL;
        f->parts[i].out->Records.len = 0;
        if (f->parts[i].forced)
            f->parts[i].out->ErrorCode = RF_KERR_NOT_LEADER_OR_FOLLOWER;
    }
    answer(f);
}

static void on_timer(uv_timer_t *t)
{
    struct fetch *f = t->data;
    uint64_t now = uv_now(t->loop);
    bool any_error;
    if (f->forced) {
        answer_forced(f);
        return;
    }
    size_t bytes = build(f, &any_error);
    if (bytes >= (size_t)(f->req->MinBytes > 0 ? f->req->MinBytes : 0) ||
        any_error || now >= f->deadline) {
        answer(f);
        return;
    }
    uv_timer_start(&f->timer, on_timer, f->deadline - now, 0);
}

/* May run inside rf_parts_sync(): no lookups and no answer here (answering
 * can make the connection dispatch its next request at once); the timer
 * callback does the work on the next loop iteration. */
static void fpart_wake(struct rf__waiter *w, enum rf__wake why)
{
    struct fpart *fp = (struct fpart *)w;
    struct fetch *f = fp->f;
    if (why != RF__WAKE_PROGRESS) {
        fp->forced = true;
        f->forced = true;
    }
    uv_timer_start(&f->timer, on_timer, 0, 0);
}

static struct rf_FetchResponse *new_response(struct rf_kreq *r,
                                             const struct rf_FetchRequest *req,
                                             size_t *n_parts)
{
    struct rf_FetchResponse *resp = rf_kreq_alloc(r, sizeof(*resp));
    int32_t nt = req->Topics.count > 0 ? req->Topics.count : 0;
    if (resp == NULL)
        return NULL;
    rf_FetchResponse_init(resp, r->req.hdr.RequestApiVersion);
    resp->ErrorCode = RF_KERR_NONE;
    resp->SessionId = 0;
    resp->Responses.items =
        rf_kreq_alloc(r, (size_t)nt * sizeof(*resp->Responses.items));
    if (resp->Responses.items == NULL)
        return NULL;
    resp->Responses.count = nt;
    *n_parts = 0;
    for (int32_t i = 0; i < nt; i++) {
        const struct rf_FetchRequest_FetchTopic *t = &req->Topics.items[i];
        struct rf_FetchResponse_FetchableTopicResponse *tr =
            &resp->Responses.items[i];
        int32_t np = t->Partitions.count > 0 ? t->Partitions.count : 0;
        tr->Topic = t->Topic;
        tr->Partitions.items = rf_kreq_alloc(r, (size_t)np * sizeof(part_resp));
        if (tr->Partitions.items == NULL)
            return NULL;
        tr->Partitions.count = np;
        *n_parts += (size_t)np;
    }
    return resp;
}

static struct fetch *fetch_new(struct rf_kreq *r, struct rf_FetchResponse *resp,
                               size_t n)
{
    const struct rf_FetchRequest *req = r->req.body;
    struct fetch *f = rf_calloc(1, sizeof(*f) + n * sizeof(struct fpart));
    size_t k = 0;
    f->r = r;
    f->req = req;
    f->resp = resp;
    f->n = n;
    rf_wr_init(&f->data, 0);
    for (int32_t i = 0; i < resp->Responses.count; i++) {
        struct rf_FetchResponse_FetchableTopicResponse *tr =
            &resp->Responses.items[i];
        for (int32_t j = 0; j < tr->Partitions.count; j++, k++) {
            f->parts[k].f = f;
            f->parts[k].out = &tr->Partitions.items[j];
            f->parts[k].w.wake = fpart_wake;
        }
    }
    return f;
}

/* Link a waiter on every partition we lead; false if there is none. */
static bool wait_all(struct fetch *f)
{
    size_t k = 0;
    bool any = false;
    for (int32_t i = 0; i < f->req->Topics.count; i++) {
        const struct rf_FetchRequest_FetchTopic *t = &f->req->Topics.items[i];
        for (int32_t j = 0; j < t->Partitions.count; j++, k++) {
            struct rf_part *p =
                rf_parts_get(f->r->b->parts, t->Topic.ptr, (size_t)t->Topic.len,
                             t->Partitions.items[j].Partition);
            if (p != NULL && p->is_leader && p->log != NULL) {
                rf__parts_wait(p, &f->parts[k].w);
                any = true;
            }
        }
    }
    return any;
}

void rf_api_fetch(struct rf_kreq *r)
{
    const struct rf_FetchRequest *req = r->req.body;
    size_t n;
    bool any_error;
    struct rf_FetchResponse *resp = new_response(r, req, &n);
    if (resp == NULL) {
        RF_WARN("api=Fetch corr=%" PRId32 ": response over the arena cap",
                r->req.hdr.CorrelationId);
        rf_kreq_close(r);
        return;
    }
    struct fetch *f = fetch_new(r, resp, n);
    size_t bytes = build(f, &any_error);
    if (bytes >= (size_t)(req->MinBytes > 0 ? req->MinBytes : 0) || any_error ||
        req->MaxWaitMs <= 0 || r->b->shutting_down || !wait_all(f)) {
        answer(f);
        return;
    }
    uv_timer_init(r->b->loop, &f->timer);
    f->timer.data = f;
    f->timer_inited = true;
    f->deadline = uv_now(r->b->loop) + (uint64_t)req->MaxWaitMs;
    uv_timer_start(&f->timer, on_timer, (uint64_t)req->MaxWaitMs, 0);
}
