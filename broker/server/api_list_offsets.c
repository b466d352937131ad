/* api_list_offsets.c: the ListOffsets handler (v1-v3): earliest (-2),
 * latest (-1: the high watermark, which is also the last stable offset
 * since there are no transactions) and offset-for-timestamp (t >= 0).
 * Errors per partition: unknown partition (3), not the leader or no log
 * (6). A timestamp with no record at or after it (or only records at or
 * above the high watermark) answers offset -1, timestamp -1. A replica
 * (ReplicaId >= 0) gets the log end offset instead of the HWM. */
#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>

#include "data_int.h"
#include "err.h"
#include "kafka_msgs.h"
#include "kerr.h"
#include "log.h"
#include "server.h"

#define EARLIEST_TIMESTAMP (-2)
#define LATEST_TIMESTAMP   (-1)

typedef struct rf_ListOffsetsResponse_ListOffsetsPartitionResponse part_resp;

static void by_time(struct rf_part *p, int64_t ts, int64_t limit,
                    part_resp *out)
{
    char errmsg[RF_ERRMSG_SIZE];
    int64_t offset, timestamp;
    int rc = rf_log_offset_for_time(p->log, ts, &offset, &timestamp, errmsg);
    if (rc == RF_ENOENT || (rc == 0 && offset >= limit))
        return; /* -1 / -1 */
    if (rc != 0) {
        RF_WARN("tp=%s-%" PRId32 " api=ListOffsets: %s", p->topic, p->index,
                errmsg);
        out->ErrorCode = RF_KERR_NOT_LEADER_OR_FOLLOWER;
        return;
    }
    out->Offset = offset;
    out->Timestamp = timestamp;
}

static void
list_one(struct rf_kreq *r, bool replica, struct rf_kstr topic,
         const struct rf_ListOffsetsRequest_ListOffsetsPartition *in,
         part_resp *out)
{
    struct rf_part *p = rf_parts_get(r->b->parts, topic.ptr, (size_t)topic.len,
                                     in->PartitionIndex);
    out->PartitionIndex = in->PartitionIndex;
    out->Timestamp = -1;
    out->Offset = -1;
    out->LeaderEpoch = -1;
    if (p == NULL) {
        out->ErrorCode = RF_KERR_UNKNOWN_TOPIC_OR_PARTITION;
        return;
    }
    if (!p->is_leader || p->log == NULL) {
        out->ErrorCode = RF_KERR_NOT_LEADER_OR_FOLLOWER;
        return;
    }
    out->LeaderEpoch = p->leader_epoch;
    /* Consumers see up to the HWM (= LSO: no transactions), replicas up to
     * the end of the log. */
    int64_t limit = replica ? rf_log_end_offset(p->log) : p->high_watermark;
    if (in->Timestamp == EARLIEST_TIMESTAMP)
        out->Offset = rf_log_start_offset(p->log);
    else if (in->Timestamp == LATEST_TIMESTAMP)
        out->Offset = limit;
    else if (in->Timestamp >= 0)
        by_time(p, in->Timestamp, limit, out);
}

void rf_api_list_offsets(struct rf_kreq *r)
{
    const struct rf_ListOffsetsRequest *req = r->req.body;
    struct rf_ListOffsetsResponse *resp = rf_kreq_alloc(r, sizeof(*resp));
    int32_t nt = req->Topics.count > 0 ? req->Topics.count : 0;
    if (resp == NULL)
        goto err_alloc;
    rf_ListOffsetsResponse_init(resp, r->req.hdr.RequestApiVersion);
    resp->Topics.items =
        rf_kreq_alloc(r, (size_t)nt * sizeof(*resp->Topics.items));
    if (resp->Topics.items == NULL)
        goto err_alloc;
    resp->Topics.count = nt;
    for (int32_t i = 0; i < nt; i++) {
        const struct rf_ListOffsetsRequest_ListOffsetsTopic *t =
            &req->Topics.items[i];
        struct rf_ListOffsetsResponse_ListOffsetsTopicResponse *tr =
            &resp->Topics.items[i];
        int32_t np = t->Partitions.count > 0 ? t->Partitions.count : 0;
        tr->Name = t->Name;
        tr->Partitions.items = rf_kreq_alloc(r, (size_t)np * sizeof(part_resp));
        if (tr->Partitions.items == NULL)
            goto err_alloc;
        tr->Partitions.count = np;
        for (int32_t j = 0; j < np; j++)
            list_one(r, req->ReplicaId >= 0, t->Name, &t->Partitions.items[j],
                     &tr->Partitions.items[j]);
    }
    rf_kreq_respond(r, resp);
    return;
err_alloc:
    RF_WARN("api=ListOffsets corr=%" PRId32 ": response over the arena cap",
            r->req.hdr.CorrelationId);
    rf_kreq_close(r);
}
