/* api_produce.c: the Produce handler (v3-v7): per partition validate the
 * batch, append it with the leader epoch, and answer by acks.
 *
 * Happy path: acks=1 answers right after the appends; acks=0 appends and
 * sends nothing; acks=all (-1) asks the log for durability up to each
 * batch's end (group commit) and answers once every partition is on disk
 * and under the high watermark.
 *
 * Failure modes (per partition, nothing appended): unknown partition (3),
 * internal topic (17), not the leader (6), log failed to open or broken
 * (56), ISR smaller than min.insync.replicas for acks=all (19), no records
 * (87), a batch rf_batch_validate refuses (its code). While waiting for
 * acks=all: leadership lost or partition removed (6), fdatasync failed (56),
 * TimeoutMs passed (7; 20 if the ISR shrank below min.insync.replicas
 * meanwhile). Acks outside {-1, 0, 1}: every partition gets
 * INVALID_REQUIRED_ACKS (21).
 *
 * Answers never go out from inside a wake-up: they are sent from the
 * request's timer callback (see finish_part). */
#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "alloc.h"
#include "batch.h"
#include "clock.h"
#include "data_int.h"
#include "err.h"
#include "kafka_msgs.h"
#include "kerr.h"
#include "log.h"
#include "server.h"

typedef struct rf_ProduceResponse_PartitionProduceResponse part_resp;

struct produce;

/* One acks=all partition waiting for durability and the high watermark. */
struct pwait {
    struct rf__waiter w; /* first: the waiter converts back to pwait */
    struct produce *pr;
    part_resp *out; /* in the request's arena: touch only while pr->r */
    int64_t end;    /* offsets < end must be durable and under the HWM */
    bool durable;
    bool done;
};

/* An acks=all request in flight. refs: the request itself until answered,
 * the timer handle until closed, and one per rf_log_flush callback pending
 * (those can outlive the answer: a timeout answers first). */
struct produce {
    struct rf_kreq *r; /* NULL once answered */
    struct rf_ProduceResponse *resp;
    uv_timer_t timer;
    int refs;
    size_t pending; /* partitions not done */
    size_t n;       /* waits used */
    struct pwait waits[];
};

static void produce_unref(struct produce *pr)
{
    if (--pr->refs == 0)
        rf_free(pr);
}

static void on_timer_closed(uv_handle_t *h)
{
    produce_unref(h->data);
}

static void answer(struct produce *pr)
{
    struct rf_kreq *r = pr->r;
    for (size_t i = 0; i < pr->n; i++)
        rf__parts_unwait(&pr->waits[i].w);
    pr->r = NULL;
    uv_timer_stop(&pr->timer);
    uv_close((uv_handle_t *)&pr->timer, on_timer_closed);
    rf_kreq_respond(r, pr->resp);
    produce_unref(pr);
}

static void on_timer(uv_timer_t *t);

/* Mark one partition done. The answer itself always goes out from the
 * timer callback: finish_part runs from wake-ups (inside rf_parts_sync,
 * while the table is being rebuilt) and answering may make the connection
 * dispatch its next request at once. */
static void finish_part(struct pwait *pw, int16_t code)
{
    pw->done = true;
    rf__parts_unwait(&pw->w);
    pw->out->ErrorCode = code;
    if (code != 0) {
        pw->out->BaseOffset = -1;
        pw->out->LogAppendTimeMs = -1;
    }
    if (--pw->pr->pending == 0)
        uv_timer_start(&pw->pr->timer, on_timer, 0, 0);
}

static bool enough_isr(const struct rf_kreq *r, const struct rf_part *p);

/* Durable and under the HWM: done; but as Kafka's DelayedProduce, an ISR
 * that shrank below min.insync.replicas meanwhile makes it code 20. */
static void check_done(struct pwait *pw)
{
    struct rf_part *p = pw->w.part;
    if (!pw->durable || p == NULL || p->high_watermark < pw->end)
        return;
    finish_part(pw, enough_isr(pw->pr->r, p)
                        ? RF_KERR_NONE
                        : RF_KERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND);
}

static void pwait_wake(struct rf__waiter *w, enum rf__wake why)
{
    struct pwait *pw = (struct pwait *)w;
    if (pw->done)
        return;
    if (why == RF__WAKE_PROGRESS)
        check_done(pw);
    else
        finish_part(pw, RF_KERR_NOT_LEADER_OR_FOLLOWER);
}

static void on_flushed(void *data, int status, int64_t durable_offset)
{
    struct pwait *pw = data;
    struct produce *pr = pw->pr;
    (void)durable_offset;
    if (pr->r != NULL && !pw->done) {
        if (status == 0 && pw->w.part != NULL) {
            /* The leader's own durable offset moved: with other ISR members
             * that can move the high watermark (wakes pw too). */
            pw->durable = true;
            rf_parts_on_progress(pr->r->b->parts, pw->w.part);
        } else if (status == 0) {
            pw->durable = true;
            check_done(pw);
        } else {
            finish_part(pw, status == RF_ECANCELED
                                ? RF_KERR_NOT_LEADER_OR_FOLLOWER
                                : RF_KERR_KAFKA_STORAGE_ERROR);
        }
    }
    produce_unref(pr);
}

/* Every partition done, or TimeoutMs passed: the rest time out, or report
 * NOT_ENOUGH_REPLICAS_AFTER_APPEND when the ISR shrank below the minimum
 * meanwhile (Kafka's DelayedProduce does the same). */
static void on_timer(uv_timer_t *t)
{
    struct produce *pr = t->data;
    for (size_t i = 0; i < pr->n; i++) {
        struct pwait *pw = &pr->waits[i];
        if (pw->done)
            continue;
        finish_part(pw, pw->w.part != NULL && !enough_isr(pr->r, pw->w.part)
                            ? RF_KERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND
                            : RF_KERR_REQUEST_TIMED_OUT);
    }
    answer(pr);
}

/* Start waiting (acks=all) for offsets < end of p. */
static void wait_durable(struct produce *pr, struct rf_part *p, part_resp *out,
                         int64_t end)
{
    struct pwait *pw = &pr->waits[pr->n++];
    pw->pr = pr;
    pw->out = out;
    pw->end = end;
    pw->w.wake = pwait_wake;
    int rc = rf_log_flush(p->log, end, on_flushed, pw);
    if (rc != 0) {
        RF_WARN("tp=%s-%" PRId32 ": flush: %s", p->topic, p->index,
                rf_strerror(rc));
        pw->done = true;
        out->ErrorCode = RF_KERR_KAFKA_STORAGE_ERROR;
        out->BaseOffset = -1;
        return;
    }
    pr->refs++; /* on_flushed's */
    pr->pending++;
    rf__parts_wait(p, &pw->w);
}

/* message.max.bytes (or the topic's max.message.bytes), but never more
 * than a partition log holds: a bigger batch gets MESSAGE_TOO_LARGE here,
 * not a storage error at append. */
static int64_t max_batch_bytes(const struct rf_kreq *r, const struct rf_part *p)
{
    const struct rf__topic_conf *tc = rf__parts_topic_conf(p);
    int64_t max = tc->max_message_bytes >= 0 ? tc->max_message_bytes
                                             : r->b->conf->message_max_bytes;
    return max < (int64_t)RF_LOG_MAX_BATCH_BYTES ? max
                                                 : (int64_t)RF_LOG_MAX_BATCH_BYTES;
}

static bool enough_isr(const struct rf_kreq *r, const struct rf_part *p)
{
    const struct rf__topic_conf *tc = rf__parts_topic_conf(p);
    int64_t min =
        tc->min_insync >= 0 ? tc->min_insync : r->b->conf->min_insync_replicas;
    return (int64_t)p->n_isr >= min;
}

/* The partition a produce may append to, or the error code why not. */
static int16_t check_partition(struct rf_kreq *r, struct rf_kstr topic,
                               int32_t index, int acks, struct rf_part **out)
{
    struct rf_part *p =
        rf_parts_get(r->b->parts, topic.ptr, (size_t)topic.len, index);
    *out = p;
    if (p == NULL)
        return RF_KERR_UNKNOWN_TOPIC_OR_PARTITION;
    if (p->internal)
        return RF_KERR_INVALID_TOPIC_EXCEPTION; /* Kafka: clients may not */
    if (!p->is_leader)
        return RF_KERR_NOT_LEADER_OR_FOLLOWER;
    if (p->log == NULL)
        return RF_KERR_KAFKA_STORAGE_ERROR;
    if (acks == -1 && !enough_isr(r, p))
        return RF_KERR_NOT_ENOUGH_REPLICAS;
    return RF_KERR_NONE;
}

/* Validate the batch: 0, or the Kafka code; info filled on success. */
static int16_t check_batch(struct rf_kreq *r, const struct rf_part *p,
                           struct rf_kbytes records, struct rf_batch_info *info)
{
    if (records.len <= 0)
        return RF_KERR_INVALID_RECORD; /* null or empty: no batch */
    enum rf_batch_result vr = rf_batch_validate(
        records.ptr, (size_t)records.len, r->req.hdr.RequestApiVersion,
        max_batch_bytes(r, p), 0, info);
    if (vr != RF_BATCH_OK)
        RF_DEBUG("tp=%s-%" PRId32 " api=Produce: batch refused: %s", p->topic,
                 p->index, rf_batch_result_name(vr));
    return rf_batch_kafka_error(vr);
}

/* Validate and append one partition's batch; fills out. Returns the
 * partition appended to (NULL on error, with out->ErrorCode set). */
static struct rf_part *
append_one(struct rf_kreq *r, struct rf_kstr topic,
           const struct rf_ProduceRequest_PartitionProduceData *in,
           part_resp *out, int acks, struct rf_log_append_result *res)
{
    char errmsg[RF_ERRMSG_SIZE];
    struct rf_batch_info info;
    struct rf_part *p;
    out->ErrorCode = check_partition(r, topic, in->Index, acks, &p);
    if (out->ErrorCode == RF_KERR_NONE)
        out->ErrorCode = check_batch(r, p, in->Records, &info);
    if (out->ErrorCode != RF_KERR_NONE)
        return NULL;
    struct rf_log_append_opts opts = {
        .leader_epoch = p->leader_epoch,
        .log_append_time = rf__parts_topic_conf(p)->log_append_time,
        .now_ms = rf_clock_wall_ms(),
    };
    /* Records points into the request frame, which the connection owns
     * and keeps (mutable) until we answer; the log rewrites the batch
     * header (offset, epoch, LogAppendTime) in place. */
    uint8_t *batch = (uint8_t *)(uintptr_t)in->Records.ptr;
    int rc = rf_log_append(p->log, batch, info.size, &opts, res, errmsg);
    if (rc != 0) {
        RF_WARN("tp=%s-%" PRId32 " api=Produce: append: %s", p->topic, p->index,
                errmsg);
        out->ErrorCode = RF_KERR_KAFKA_STORAGE_ERROR;
        return NULL;
    }
    out->BaseOffset = res->base_offset;
    out->LogAppendTimeMs = res->log_append_time;
    out->LogStartOffset = res->log_start_offset;
    rf_parts_on_progress(r->b->parts, p);
    return p;
}

/* The response skeleton: every partition answered -1 / error 0. */
static struct rf_ProduceResponse *
new_response(struct rf_kreq *r, const struct rf_ProduceRequest *req,
             size_t *n_parts)
{
    int16_t ver = r->req.hdr.RequestApiVersion;
    struct rf_ProduceResponse *resp = rf_kreq_alloc(r, sizeof(*resp));
    int32_t nt = req->TopicData.count > 0 ? req->TopicData.count : 0;
    if (resp == NULL)
        return NULL;
    rf_ProduceResponse_init(resp, ver);
    resp->Responses.items =
        rf_kreq_alloc(r, (size_t)nt * sizeof(*resp->Responses.items));
    if (resp->Responses.items == NULL)
        return NULL;
    resp->Responses.count = nt;
    *n_parts = 0;
    for (int32_t i = 0; i < nt; i++) {
        const struct rf_ProduceRequest_TopicProduceData *td =
            &req->TopicData.items[i];
        struct rf_ProduceResponse_TopicProduceResponse *tr =
            &resp->Responses.items[i];
        int32_t np = td->PartitionData.count > 0 ? td->PartitionData.count : 0;
        tr->Name = td->Name;
        tr->PartitionResponses.items =
            rf_kreq_alloc(r, (size_t)np * sizeof(part_resp));
        if (tr->PartitionResponses.items == NULL)
            return NULL;
        tr->PartitionResponses.count = np;
        for (int32_t j = 0; j < np; j++) {
            part_resp *out = &tr->PartitionResponses.items[j];
            out->Index = td->PartitionData.items[j].Index;
            out->BaseOffset = -1;
            out->LogAppendTimeMs = -1;
            out->LogStartOffset = -1;
        }
        *n_parts += (size_t)np;
    }
    return resp;
}

static void set_all_errors(struct rf_ProduceResponse *resp, int16_t code)
{
    for (int32_t i = 0; i < resp->Responses.count; i++) {
        struct rf_ProduceResponse_TopicProduceResponse *tr =
            &resp->Responses.items[i];
        for (int32_t j = 0; j < tr->PartitionResponses.count; j++)
            tr->PartitionResponses.items[j].ErrorCode = code;
    }
}

/* Append every partition; with pr (acks=all) also start the waits. Returns
 * whether any partition failed. */
static bool append_all(struct rf_kreq *r, const struct rf_ProduceRequest *req,
                       struct rf_ProduceResponse *resp, struct produce *pr)
{
    struct rf_log_append_result res;
    bool failed = false;
    for (int32_t i = 0; i < resp->Responses.count; i++) {
        const struct rf_ProduceRequest_TopicProduceData *td =
            &req->TopicData.items[i];
        struct rf_ProduceResponse_TopicProduceResponse *tr =
            &resp->Responses.items[i];
        for (int32_t j = 0; j < tr->PartitionResponses.count; j++) {
            part_resp *out = &tr->PartitionResponses.items[j];
            struct rf_part *p = append_one(
                r, td->Name, &td->PartitionData.items[j], out, req->Acks, &res);
            if (p != NULL && pr != NULL)
                wait_durable(pr, p, out, res.last_offset + 1);
            failed |= p == NULL;
        }
    }
    return failed;
}

static void produce_acks_all(struct rf_kreq *r,
                             const struct rf_ProduceRequest *req,
                             struct rf_ProduceResponse *resp, size_t n_parts)
{
    struct produce *pr =
        rf_calloc(1, sizeof(*pr) + n_parts * sizeof(struct pwait));
    pr->r = r;
    pr->resp = resp;
    pr->refs = 2; /* the request, the timer handle */
    uv_timer_init(r->b->loop, &pr->timer);
    pr->timer.data = pr;
    pr->pending = 1; /* held while appending, so nothing answers early */
    (void)append_all(r, req, resp, pr);
    if (--pr->pending == 0) {
        answer(pr);
        return;
    }
    uint64_t timeout = req->TimeoutMs > 0 ? (uint64_t)req->TimeoutMs : 0;
    uv_timer_start(&pr->timer, on_timer, timeout, 0);
    /* Appended; the answer waits for replication and fdatasync. The
     * connection's next Produce may append meanwhile, so one commit round
     * serves every request in flight (answers stay in order). */
    rf_kreq_pipeline(r);
}

void rf_api_produce(struct rf_kreq *r)
{
    const struct rf_ProduceRequest *req = r->req.body;
    size_t n_parts;
    struct rf_ProduceResponse *resp = new_response(r, req, &n_parts);
    if (resp == NULL) {
        /* Arena cap: no room even for the answer. */
        RF_WARN("api=Produce corr=%" PRId32 ": response over the arena cap",
                r->req.hdr.CorrelationId);
        rf_kreq_close(r);
        return;
    }
    switch (req->Acks) {
    case 0:
        /* No answer; on any error close the connection, as Kafka does, so
         * the producer refreshes its metadata. */
        if (append_all(r, req, resp, NULL))
            rf_kreq_close(r);
        else
            rf_kreq_no_response(r);
        return;
    case 1:
        (void)append_all(r, req, resp, NULL);
        rf_kreq_respond(r, resp);
        return;
    case -1:
        produce_acks_all(r, req, resp, n_parts);
        return;
    default:
        set_all_errors(resp, RF_KERR_INVALID_REQUIRED_ACKS);
        rf_kreq_respond(r, resp);
        return;
    }
}
