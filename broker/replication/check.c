/* check.c: the replication RPC's input checks: the shape of a
 * ReplicaFetchRequest (leader side) and the records a follower receives. */
#include <limits.h>
#include <string.h>

#include "batch.h"
#include "err.h"
#include "repl_int.h"

static int check_partition(const Riffle__ReplicaFetchPartition *rp,
                           const char **why)
{
    size_t tlen;
    if (rp == NULL || rp->topic == NULL) {
        *why = "partition without a topic";
        return RF_EINVAL;
    }
    tlen = strlen(rp->topic);
    if (tlen == 0 || tlen > 249) {
        *why = "topic name length out of range";
        return RF_EINVAL;
    }
    if (rp->topic_id.len != 0 && rp->topic_id.len != 16) {
        *why = "topic id not 16 bytes";
        return RF_EINVAL;
    }
    if (rp->partition < 0) {
        *why = "negative partition";
        return RF_EINVAL;
    }
    if (rp->fetch_offset < 0 || rp->durable_offset > rp->fetch_offset) {
        *why = "fetch or durable offset out of range";
        return RF_EINVAL;
    }
    return 0;
}

int rf__repl_check_request(const Riffle__ReplicaFetchRequest *req,
                           const char **why)
{
    if (req->replica_id < 0) {
        *why = "negative replica id";
        return RF_EINVAL;
    }
    if (req->n_partitions > RF_REPL_MAX_PARTITIONS) {
        *why = "too many partitions";
        return RF_EINVAL;
    }
    for (size_t i = 0; i < req->n_partitions; i++)
        if (check_partition(req->partitions[i], why) != 0)
            return RF_EINVAL;
    return 0;
}

int rf__repl_check_records(const uint8_t *p, size_t len, int64_t expect_base,
                           int64_t *next)
{
    size_t off = 0;
    *next = expect_base;
    while (off < len) {
        struct rf_batch_info info;
        if (len - off < RF_BATCH_HEADER_SIZE)
            return RF_ETRUNC;
        if (rf_batch_header(p + off, len - off, &info) != 0)
            return RF_ECORRUPT;
        if (info.size > len - off)
            return RF_ETRUNC;
        /* Header chain, CRC32C and the records' own bounds. */
        if (rf_batch_validate(p + off, info.size, 7, INT64_MAX,
                              RF_BATCH_F_FOLLOWER, &info) != RF_BATCH_OK)
            return RF_ECORRUPT;
        if (info.base_offset != *next)
            return RF_EOFFSET;
        if (info.base_offset > INT64_MAX - 1 - info.last_offset_delta)
            return RF_ECORRUPT;
        *next = info.base_offset + info.last_offset_delta + 1;
        off += info.size;
    }
    return 0;
}
