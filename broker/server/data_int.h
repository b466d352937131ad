/* data_int.h: what the data-path files (parts.c, api_produce.c, api_fetch.c,
 * api_list_offsets.c) share: per-topic settings and the per-partition waiter
 * lists. Not part of any contract outside broker/server. */
#ifndef RF_SERVER_DATA_INT_H
#define RF_SERVER_DATA_INT_H

#include <stdbool.h>
#include <stdint.h>

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

/* For the handlers: the loop the table runs on. */
uv_loop_t *rf__parts_loop(const struct rf_parts *ps);

#endif
