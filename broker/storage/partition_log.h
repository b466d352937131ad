/* partition_log.h: the partition log: segments, indexes, offsets, durability. */
#ifndef RF_STORAGE_PARTITION_LOG_H
#define RF_STORAGE_PARTITION_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "flush.h"

/* Happy path: rf_log_open() recovers <dir>/<topic>-<partition>/, the loop
 * thread appends batches (write() to the page cache at once), asks for
 * durability with rf_log_flush() (one fdatasync on a flusher thread serves
 * every waiter queued meanwhile: group commit) and reads whole batches back.
 * rf_log_close() syncs everything and leaves a clean-shutdown marker.
 * Failure modes: a failed write is undone (ftruncate) and reported; a failed
 * fdatasync puts the log in the failed state (RF_EIO) for good, since the
 * page cache can no longer be trusted; corruption found in the middle of a
 * segment (at open or while reading) puts it in the corrupt state
 * (RF_ECORRUPT): every call then refuses with rf_log_state()'s message until
 * the partition is deleted and re-fetched from a replica.
 * All functions are loop-thread only. See docs/storage.md. */
struct rf_log;

/* The largest record batch a partition log holds: Produce refuses bigger
 * ones with MESSAGE_TOO_LARGE whatever message.max.bytes says. */
#define RF_LOG_MAX_BATCH_BYTES (64u * 1024 * 1024)

struct rf_log_config {
    uint64_t segment_bytes;        /* log.segment.bytes (<= 2 GiB) */
    int64_t segment_ms;            /* log.roll.ms: roll by age, -1 never */
    uint32_t index_interval_bytes; /* log.index.interval.bytes */
    int64_t retention_ms;          /* log.retention.ms, -1 unlimited */
    int64_t retention_bytes;       /* log.retention.bytes, -1 unlimited */
    uint32_t max_batch_bytes;      /* largest batch recovery/reads accept
                                    * (default RF_LOG_MAX_BATCH_BYTES) */
};

/* Kafka's defaults: 1 GiB segments, 7 days roll and retention, 4 KiB index
 * interval, no size retention, 64 MiB batch bound. */
void rf_log_config_default(struct rf_log_config *conf);

/* Open (creating if needed) the partition directory under base_dir and
 * recover it (docs/storage.md "Recovery"). conf is copied; fl is borrowed
 * and must outlive the log. *out is returned owned; close with
 * rf_log_close(). A partition whose older segment is corrupt still opens,
 * in the corrupt state (check rf_log_state()). Errors: RF_EINVAL (bad
 * name/config), RF_EIO/RF_ENOSPC (filesystem), with errmsg set. */
int rf_log_open(const char *base_dir, const char *topic, int32_t partition,
                const struct rf_log_config *conf, struct rf_flusher *fl,
                struct rf_log **out, char *errmsg);

/* Clean shutdown: sync all data, write the active segment's indexes, leave
 * the marker that lets the next open skip the scan, free the log. Flush
 * waiters still pending are called from here with RF_ECANCELED (they must
 * not call into this log). A log in the corrupt or failed state is closed
 * without the marker. Tolerates NULL. */
void rf_log_close(struct rf_log *log);

struct rf_log_append_opts {
    int32_t leader_epoch;  /* stored as partitionLeaderEpoch */
    bool log_append_time;  /* topic uses LogAppendTime */
    int64_t now_ms;        /* wall clock: LogAppendTime and roll by age */
};

struct rf_log_append_result {
    int64_t base_offset;
    int64_t last_offset;
    int64_t log_append_time; /* -1 unless opts->log_append_time */
    int64_t log_start_offset;
};

/* Append one batch that rf_batch_validate() accepted (len == its size).
 * batch is borrowed and rewritten in place: baseOffset = log end offset,
 * partitionLeaderEpoch, and with log_append_time the attribute bit and
 * maxTimestamp (CRC recomputed). The bytes are in the page cache on return.
 * A new leader epoch is recorded in the leader-epoch checkpoint.
 * Errors: RF_EINVAL (not one whole batch), RF_ETOOBIG (over the config's
 * max_batch_bytes), RF_ECORRUPT/RF_EIO (log state),
 * RF_EIO/RF_ENOSPC (write failed, nothing appended), errmsg set. */
int rf_log_append(struct rf_log *log, uint8_t *batch, size_t len,
                  const struct rf_log_append_opts *opts,
                  struct rf_log_append_result *res, char *errmsg);

/* Follower append: batches (borrowed, one or more whole batches, offsets
 * assigned by the leader) must start at the log end offset and be
 * contiguous; they are stored as is. Leader epochs are taken from each
 * batch, and segments roll by the batches' own timestamps. Errors as
 * rf_log_append, plus RF_EOFFSET when the first base offset is not the log
 * end offset. */
int rf_log_append_replica(struct rf_log *log, const uint8_t *batches,
                          size_t len, char *errmsg);

/* Read stored batches starting with the one that contains offset, adding
 * whole batches while the total stays <= max_bytes, but always at least one
 * whole batch; stops at the end of that segment. Bytes are appended to out
 * (a growable writer owned by the caller); every batch is checked (header
 * chain and CRC32C) before it is returned. offset == log end offset gives
 * no bytes. Errors: RF_EOFFSET (offset < log start or > log end),
 * RF_ECORRUPT (the log is, or just became, corrupt), RF_EIO. */
int rf_log_read(struct rf_log *log, int64_t offset, size_t max_bytes,
                struct rf_wr *out, char *errmsg);

/* ListOffsets by timestamp: the first record at or after log start whose
 * timestamp >= ts: exact for uncompressed CreateTime batches, else the
 * batch's first offset >= log start and its maxTimestamp. RF_ENOENT when
 * no record qualifies. */
int rf_log_offset_for_time(struct rf_log *log, int64_t ts, int64_t *offset,
                           int64_t *timestamp, char *errmsg);

/* Follower truncation: remove every batch whose last offset >= offset (a
 * batch containing offset goes whole), so the new log end offset is <=
 * offset. Below the log start offset the log is emptied and restarts at
 * offset. The leader-epoch cache forgets epochs starting at or after the
 * new end. Errors: RF_EIO with errmsg. */
int rf_log_truncate(struct rf_log *log, int64_t offset, char *errmsg);
/* Follower whose log ends below the leader's log start: drop everything and
 * restart empty at offset (any offset >= 0, also above the log end).
 * Errors: RF_EINVAL (negative), the log's state error, RF_EIO. */
int rf_log_reset(struct rf_log *log, int64_t offset, char *errmsg);

/* DeleteRecords: raise the log start offset to offset (<= log end offset,
 * else RF_EOFFSET), delete segments wholly below it, persist it. */
int rf_log_advance_start(struct rf_log *log, int64_t offset, char *errmsg);

/* Retention: delete old non-active segments by time (segment maxTimestamp
 * older than now_ms - retention_ms) and size (total bytes above
 * retention_bytes), advancing the log start offset. Returns the number of
 * segments deleted (>= 0) or an RF_E* error. */
int rf_log_retain(struct rf_log *log, int64_t now_ms, char *errmsg);

/* status 0: every offset < durable_offset is on disk. Called on the loop. */
typedef void (*rf_log_flush_cb)(void *data, int status,
                                int64_t durable_offset);

/* Ask for offsets < up_to to be durable; cb runs on the loop (never from
 * inside this call) once rf_log_durable_offset() >= up_to, or with an error
 * (RF_EIO) when a sync fails, or RF_ECANCELED from rf_log_close. Waiters
 * that arrive while a sync runs share the next one. Errors (cb not called):
 * RF_ERANGE when up_to > log end offset, the log's state error. */
int rf_log_flush(struct rf_log *log, int64_t up_to, rf_log_flush_cb cb,
                 void *data);

/* Offsets. durable: the log end offset known to be on disk. */
int64_t rf_log_start_offset(const struct rf_log *log);
int64_t rf_log_end_offset(const struct rf_log *log);
int64_t rf_log_durable_offset(const struct rf_log *log);

/* High watermark checkpoint: remembered value (clamped to the log end
 * offset at open), and an atomic write of a new one. */
int64_t rf_log_high_watermark(const struct rf_log *log);
int rf_log_checkpoint_high_watermark(struct rf_log *log, int64_t hwm,
                                     char *errmsg);

/* Leader epochs (KIP-101): the latest epoch (-1 if none), and for a given
 * epoch the largest epoch <= it and the start offset of the next epoch (or
 * the log end offset). RF_ENOENT when epoch is below every known epoch. */
int32_t rf_log_latest_epoch(const struct rf_log *log);
int rf_log_epoch_end_offset(const struct rf_log *log, int32_t epoch,
                            int32_t *found_epoch, int64_t *end_offset);

/* 0, or RF_ECORRUPT / RF_EIO with *msg (points into the log) saying why. */
int rf_log_state(const struct rf_log *log, const char **msg);

/* Number of segments and the partition directory (for tests and tools). */
size_t rf_log_segment_count(const struct rf_log *log);
const char *rf_log_dir(const struct rf_log *log);

#endif
