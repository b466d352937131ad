/* storage_int.h: shared among broker/storage files and their tests only. */
#ifndef RF_STORAGE_INT_H
#define RF_STORAGE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "log.h"
#include "partition_log.h"

#define RF__SEG_NAME_DIGITS 20
#define RF__INDEX_ENTRY 8      /* u32 relativeOffset, u32 position */
#define RF__TIMEINDEX_ENTRY 12 /* i64 timestamp, u32 relativeOffset */
#define RF__CLEAN_MARKER ".clean_shutdown"
#define RF__EPOCH_FILE "leader-epoch-checkpoint"
#define RF__HWM_FILE "high-watermark"
#define RF__START_FILE "log-start-offset"
#define RF__MAX_EPOCHS 65536

/* In-memory sparse indexes of one segment (the active one, or a transient
 * copy during open). offset: (rel, pos) pairs; time: (ts, rel). Entries are
 * strictly increasing in every field. */
struct rf__index {
    uint32_t *off; /* 2 per entry: rel, pos */
    size_t noff, capoff;
    int64_t *tts; /* timestamps */
    uint32_t *trel;
    size_t ntime, captime;
};

struct rf__segment {
    int64_t base;     /* base offset = file name */
    uint64_t size;    /* bytes of whole batches */
    int64_t max_ts;   /* largest maxTimestamp, -1 when none */
    int64_t first_ts; /* maxTimestamp of the first batch (roll by age) */
};

/* A waiter for durability (rf_log_flush). */
struct rf__waiter {
    int64_t up_to;
    rf_log_flush_cb cb;
    void *data;
    struct rf__waiter *next;
};

struct rf_log {
    char *dir;  /* <base>/<topic>-<partition> */
    char *name; /* <topic>-<partition>, for log lines */
    struct rf_log_config conf;
    struct rf_flusher *fl; /* borrowed */
    struct rf__segment *segs; /* sorted; segs[nsegs-1] is active */
    size_t nsegs, capsegs;
    int fd; /* active segment's .log (the only fd kept open) */
    struct rf__index idx;     /* active segment's indexes */
    uint64_t since_index;     /* bytes appended since the last index entry */
    int64_t log_start, leo, durable, hwm;
    bool hwm_saved; /* hwm is what the checkpoint file holds */
    int64_t *epochs; /* pairs: epoch, start offset; ascending */
    size_t nepochs;
    int state; /* 0, RF_ECORRUPT or RF_EIO */
    char *state_msg;
    /* Durability: waiters (FIFO), the in-flight job (at most one), fds of
     * rolled segments and the directory still to be synced. */
    struct rf__waiter *wait_head, *wait_tail;
    struct rf_flush_job *inflight;
    int64_t inflight_target;
    int64_t trunc_floor; /* lowest new end from a truncation since submit */
    int pending[RF_FLUSH_JOB_MAX_FDS - 1];
    int pending_dir[RF_FLUSH_JOB_MAX_FDS - 1];
    int npending;
};

/* index.c */
void rf__index_free(struct rf__index *idx);
void rf__index_reset(struct rf__index *idx);
void rf__index_add_offset(struct rf__index *idx, uint32_t rel, uint32_t pos);
void rf__index_add_time(struct rf__index *idx, int64_t ts, uint32_t rel);
/* Largest position whose relative offset <= rel (0 if none). */
uint64_t rf__index_lookup(const struct rf__index *idx, uint32_t rel);
/* Relative offset of the last time entry with ts < want, or -1. */
int64_t rf__index_time_lookup(const struct rf__index *idx, int64_t want);
/* Write both files of a segment (replacing them), fdatasync'd; or, with
 * keep_fds, unsynced with their two fds returned for a flush job. */
int rf__index_write(const char *dir, int64_t base, const struct rf__index *idx,
                    int keep_fds[2], char *errmsg);
/* Load and validate both files against a log of log_size bytes: entries
 * strictly increasing, positions in (0, log_size). RF_ECORRUPT if bad,
 * RF_ENOENT if missing. */
int rf__index_load(const char *dir, int64_t base, uint64_t log_size,
                   struct rf__index *idx);
/* Same lookups straight from the files of an older segment (pread binary
 * search, entries bounds-checked); fall back to 0 / -1 on any problem. */
uint64_t rf__index_file_lookup(const char *dir, int64_t base, uint32_t rel,
                               uint64_t log_size);
int64_t rf__index_file_time_lookup(const char *dir, int64_t base,
                                   int64_t want);
void rf__index_unlink(const char *dir, int64_t base);

/* segment.c */
char *rf__segment_path(const char *dir, int64_t base, const char *ext);
/* Walk batches from position `from` up to file_size, checking the header
 * chain (magic, bounded lengths, base offsets == expect, contiguous) and,
 * when full, the CRC of each whole batch. Index entries are added to idx
 * (may be NULL) every interval bytes. */
struct rf__scan {
    uint64_t end;     /* position after the last good batch */
    int64_t next;     /* offset after the last good batch */
    int64_t max_ts;   /* largest maxTimestamp seen, or -1 */
    int64_t first_ts; /* maxTimestamp of the batch at position 0, or -1 */
    const char *why;  /* NULL: clean to file_size; else why it stopped */
};
int rf__segment_scan(int fd, uint64_t file_size, uint64_t from,
                     int64_t expect, bool full, uint32_t max_batch,
                     uint32_t interval, int64_t seg_base,
                     struct rf__index *idx, struct rf__scan *out);
/* pread/pwrite loops: 0, RF_ETRUNC (short read), RF_EIO/RF_ENOSPC. */
int rf__pread_all(int fd, void *buf, size_t n, uint64_t pos);
int rf__pwrite_all(int fd, const void *buf, size_t n, uint64_t pos);

/* log.c, epoch.c, commit.c */
void rf__log_push_segment(struct rf_log *log, int64_t base);
int rf__log_write_single(struct rf_log *log, const char *file, int64_t v,
                         char *errmsg);
/* Record that epoch starts at offset if it is newer than the latest. */
void rf__log_note_epoch(struct rf_log *log, int32_t epoch, int64_t offset);
/* Forget epochs starting at or after end (truncation). */
void rf__log_trim_epochs(struct rf_log *log, int64_t end);
/* fdatasync the pending (rolled) fds on the loop thread and close them. */
void rf__log_flush_pending_sync(struct rf_log *log);
/* After a truncation to end: durability bookkeeping. */
void rf__log_commit_truncated(struct rf_log *log, int64_t end);

/* recovery.c */
int rf__log_recover(struct rf_log *log, char *errmsg);
void rf__log_drop_segment_files(const struct rf_log *log, int64_t base);
/* Put the log in a failed state (first reason wins) and log it. */
void rf__log_fail(struct rf_log *log, int state, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
