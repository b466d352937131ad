/* data_int.h: what the data-path files (parts.c, api_produce.c, api_fetch.c,
 * api_list_offsets.c) share: per-topic settings and the per-partition waiter
 * lists. Not part of any contract outside broker/server. */
#ifndef RF_SERVER_DATA_INT_H
#define RF_SERVER_DATA_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "batch.h"
#include "buf.h"
#include "parts.h"

/* Topic-level overrides parts.c caches from the image at every sync; -1
 * means "unset: use the broker's configuration". */
struct rf__topic_conf {
    int64_t max_message_bytes; /* max.message.bytes */
    int32_t min_insync;        /* min.insync.replicas */
    bool log_append_time;      /* message.timestamp.type=LogAppendTime */
};

/* Why a waiter is woken. */
enum rf__wake {
    RF__WAKE_PROGRESS,   /* append, high watermark or durability moved */
    RF__WAKE_NOT_LEADER, /* the partition lost leadership (or its log) */
    RF__WAKE_GONE,       /* the partition is being removed (topic deleted,
                          * table freed at shutdown) */
};

/* One request's stake in one partition, linked on rf_part.waiters.
 * For NOT_LEADER and GONE, parts.c unlinks the waiter (part = NULL) before
 * calling wake; for PROGRESS it stays linked. wake may run in the middle
 * of rf_parts_sync(), so it must not look partitions up (it may answer its
 * request and unlink any of its own waiters). */
struct rf__waiter {
    struct rf__waiter *next, *prev;
    struct rf_part *part; /* NULL while not linked */
    uint64_t woken_round; /* parts.c bookkeeping for wake-up rounds */
    void (*wake)(struct rf__waiter *w, enum rf__wake why);
};

/* Link w (not linked) on p's waiter list. */
void rf__parts_wait(struct rf_part *p, struct rf__waiter *w);
/* Unlink w if linked; tolerates an unlinked waiter. */
void rf__parts_unwait(struct rf__waiter *w);

/* The partition's topic settings (never NULL; points into the table, valid
 * until the next rf_parts_sync()). */
const struct rf__topic_conf *rf__parts_topic_conf(const struct rf_part *p);

/* Fetch: of the stored batches at p[0..len), the length of the leading
 * whole batches whose last offset (baseOffset + lastOffsetDelta) is below
 * limit (>= 0). Stops at the first batch that is cut short, malformed
 * (batchLength below 49, negative base offset or delta) or reaches limit.
 * Reads only p[0..len). Inline so the fuzz target needs no handler. */
static inline size_t rf__fetch_cut(const uint8_t *p, size_t len, int64_t limit)
{
    size_t keep = 0;
    while (keep < len) {
        struct rf_rd rd;
        int64_t base;
        int32_t blen, delta;
        rf_rd_init(&rd, p + keep, len - keep);
        if (rf_rd_i64(&rd, &base) != 0 || rf_rd_i32(&rd, &blen) != 0 ||
            blen < RF_BATCH_MIN_LENGTH ||
            rf_rd_skip(&rd, RF_BATCH_OFF_LAST_DELTA - RF_BATCH_LOG_OVERHEAD) !=
                0 ||
            rf_rd_i32(&rd, &delta) != 0 || base < 0 || delta < 0)
            break;
        size_t size = RF_BATCH_LOG_OVERHEAD + (size_t)blen;
        /* base + delta >= limit, without overflow (limit >= 0) */
        if (size > len - keep || base > limit - 1 - delta)
            break;
        keep += size;
    }
    return keep;
}

#endif
