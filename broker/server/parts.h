/* parts.h: the broker's partition table: every partition in the metadata
 * image (for Metadata answers), with the partition log opened where this
 * broker is a replica, the leader's state, and the waiters (long-polling
 * fetches, acks=all produces) woken by appends and durability.
 *
 * Happy path: rf_parts_sync() after every metadata change rebuilds the
 * table from the image: new partitions hosted here get their log opened,
 * partitions whose topic was deleted are closed and their directory
 * removed, leadership changes update role and epoch (waiting produces of a
 * partition that lost leadership are failed with NOT_LEADER_OR_FOLLOWER).
 *
 * Failure modes: a log that fails to open stays NULL with its error kept in
 * the partition (answers KAFKA_STORAGE_ERROR / NOT_LEADER_OR_FOLLOWER);
 * logs in the corrupt state refuse reads and writes. */
#ifndef RF_PARTS_H
#define RF_PARTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "meta.h"
#include "partition_log.h"
#include "uuid.h"

struct rf_parts;

/* Leader: what one replica reported in its last replica fetch
 * (broker/replication). Reset whenever this broker becomes leader. */
struct rf_replica_state {
    int64_t log_end;       /* -1: unknown in this leadership */
    int64_t durable;       /* offsets below it are on its disk; -1 unknown */
    uint64_t caught_up_ms; /* monotonic: last time it had everything */
    int64_t last_fetch_leo;  /* leader's log end at its previous fetch */
    uint64_t last_fetch_ms;  /* monotonic time of that fetch */
};

struct rf_part {
    char *topic;              /* owned */
    struct rf_uuid topic_id;
    int32_t index;
    bool internal;            /* topic name starts with "__" */
    int32_t leader;           /* -1: none */
    int32_t leader_epoch;
    int32_t partition_epoch;
    int32_t *replicas;        /* owned */
    size_t n_replicas;
    int32_t *isr;             /* owned */
    size_t n_isr;
    bool hosted;              /* this broker is a replica */
    bool is_leader;           /* leader == this broker */
    struct rf_log *log;       /* open when hosted; NULL if it failed */
    int open_error;           /* RF_E* from rf_log_open, 0 if fine */
    int64_t high_watermark;   /* leader: what consumers may read */
    struct rf_replica_state *rstate; /* owned, one per replicas[i] */
    void *waiters;            /* owned by the data-path handlers */
};

struct rf_parts_opts {
    int32_t broker_id;
    const char *log_dir;                 /* log.dirs */
    struct rf_log_config log_conf;       /* defaults from the broker config */
    struct rf_flusher *flusher;          /* borrowed */
};

int rf_parts_new(uv_loop_t *loop, const struct rf_parts_opts *opts,
                 struct rf_parts **out);
/* Close every log (clean shutdown marker) and free. */
void rf_parts_free(struct rf_parts *ps);

/* Bring the table in line with img (see above). */
void rf_parts_sync(struct rf_parts *ps, const struct rf_meta_image *img);

/* Lookup by topic name (not NUL-terminated) and partition; NULL if absent. */
struct rf_part *rf_parts_get(struct rf_parts *ps, const char *topic,
                             size_t topic_len, int32_t index);
/* Number of partitions of a topic (0: unknown topic). */
int32_t rf_parts_topic_partitions(struct rf_parts *ps, const char *topic,
                                  size_t topic_len);

/* Iterate topics: i-th topic name (in name order) and its partitions
 * (index order); false past the end. */
bool rf_parts_topic_at(struct rf_parts *ps, size_t i, const char **name,
                       struct rf_part *const **parts, size_t *n);
size_t rf_parts_topic_count(const struct rf_parts *ps);

/* ISR shrinks and expansions of partitions this broker led before and
 * after the metadata change, since start (for metrics). */
void rf_parts_isr_changes(const struct rf_parts *ps, uint64_t *shrinks,
                          uint64_t *expands);

/* The data path calls this after an append or a durability change on a
 * partition it leads: recompute the high watermark and wake waiters. */
void rf_parts_on_progress(struct rf_parts *ps, struct rf_part *p);

/* Leader with other ISR members: make the leader's own log durable up to
 * its end (at most one flush in flight per partition); when it completes
 * the high watermark is recomputed (rf_parts_on_progress). */
void rf_parts_flush_leader(struct rf_parts *ps, struct rf_part *p);

#endif
