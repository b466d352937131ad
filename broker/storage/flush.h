/* flush.h: dedicated fdatasync worker threads with completion on the loop. */
#ifndef RF_STORAGE_FLUSH_H
#define RF_STORAGE_FLUSH_H

#include <uv.h>

/* Happy path: the loop thread submits a job holding file descriptors (it
 * hands over ownership: dup()s of the files to sync); a worker thread
 * fdatasyncs them in order (fsync for directories), closes them, and wakes
 * the loop with uv_async; the job's callback then runs on the loop thread.
 * Failure modes: a failing fdatasync gives status RF_EIO (or RF_ENOSPC) to
 * the callback; the remaining fds of that job are closed unsynced.
 * The libuv thread pool is never used (raft shares it). After a job a
 * worker polls the queue for 0.2 ms before sleeping: the next round of a
 * busy log usually arrives within that, and skipping the wake-up is what
 * keeps a single producer at raw fdatasync speed (docs/storage.md). */
struct rf_flusher;

#define RF_FLUSH_JOB_MAX_FDS 16

typedef void (*rf_flush_job_cb)(void *data, int status);

struct rf_flush_job {
    int fds[RF_FLUSH_JOB_MAX_FDS];
    int is_dir[RF_FLUSH_JOB_MAX_FDS]; /* 1: fsync, 0: fdatasync */
    int nfds;
    rf_flush_job_cb cb; /* on the loop thread; NULL: just free the job */
    void *data;
    int status;
    uint64_t sync_ns; /* time the worker spent syncing (set by it) */
    struct rf_flush_job *next;
};

/* Start nthreads (1..16) worker threads bound to loop. Its uv_async
 * handle keeps the loop alive until rf_flusher_close(). *out is owned; close
 * with rf_flusher_close(). Errors: RF_EINVAL, RF_EIO (thread/async init). */
int rf_flusher_new(uv_loop_t *loop, int nthreads, struct rf_flusher **out);

/* Returns owned job (rf_calloc'd) with no fds; fill fds, cb, data. */
struct rf_flush_job *rf_flush_job_new(void);

/* Queue a job; takes ownership of job and its fds. Jobs without fds skip
 * the workers and complete on the next loop iteration. Loop thread only. */
void rf_flusher_submit(struct rf_flusher *fl, struct rf_flush_job *job);

/* Stop the workers after they finish queued jobs (their callbacks still run
 * before the handle closes), then close the async handle; the flusher is
 * freed in its close callback, so run the loop afterwards. */
void rf_flusher_close(struct rf_flusher *fl);

/* Observe each job's sync time (seconds, jobs with fds only) into the
 * histogram h (borrowed, NULL: none); done on the loop thread when the job
 * is handed back, since the registry is not thread-safe. */
struct rf_metric;
void rf_flusher_set_histogram(struct rf_flusher *fl, struct rf_metric *h);

/* Jobs synced so far and fdatasync calls made (for tests and benchmarks). */
unsigned long rf_flusher_syncs(const struct rf_flusher *fl);

#endif
