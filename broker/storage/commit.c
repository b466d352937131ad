/* commit.c: group commit: flush waiters share one fdatasync per round. */
#include "storage_int.h"

#include "alloc.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

/* Happy path: rf_log_flush() queues a waiter; if no sync is running, one
 * job takes the log end offset as its target, dup()s the active segment's
 * fd (plus rolled segments and the directory still unsynced) and goes to a
 * flusher thread. When it completes, durable = target, every waiter with
 * up_to <= durable is called, and if waiters remain (they arrived while the
 * sync ran) the next round starts with a new target: each round serves
 * every append made before it started. Failure modes: a failed sync fails
 * the log (RF_EIO) and every waiter; a truncation while a sync runs caps
 * what that sync may claim (trunc_floor). */

static void on_job_done(void *data, int status);

static void push_waiter(struct rf_log *log, struct rf__waiter *w)
{
    w->next = NULL;
    if (log->wait_tail != NULL) {
        log->wait_tail->next = w;
    } else {
        log->wait_head = w;
    }
    log->wait_tail = w;
}

/* Call the waiters that are satisfied (all of them on error). The list is
 * detached first: a callback may queue a new waiter meanwhile. */
static void complete_waiters(struct rf_log *log, int status)
{
    struct rf__waiter *list = log->wait_head, *w;

    log->wait_head = log->wait_tail = NULL;
    while ((w = list) != NULL) {
        list = w->next;
        if (status == 0 && w->up_to > log->durable) {
            push_waiter(log, w);
            continue;
        }
        w->cb(w->data, status, log->durable);
        rf_free(w);
    }
}

static void submit(struct rf_log *log)
{
    struct rf_flush_job *job = rf_flush_job_new();
    int fd = -1;

    if (log->leo > log->durable) {
        fd = dup(log->fd);
        if (fd < 0) {
            rf__log_fail(log, RF_EIO, "dup for fdatasync: %s", strerror(errno));
            rf_free(job);
            complete_waiters(log, RF_EIO);
            return;
        }
        /* Rolled segments and the directory first, then the active one. */
        for (int i = 0; i < log->npending; i++) {
            job->fds[job->nfds] = log->pending[i];
            job->is_dir[job->nfds++] = log->pending_dir[i];
        }
        log->npending = 0;
        job->fds[job->nfds++] = fd;
    }
    job->cb = on_job_done;
    job->data = log;
    log->inflight = job;
    log->inflight_target = log->leo;
    log->trunc_floor = INT64_MAX;
    rf_flusher_submit(log->fl, job);
}

static void on_job_done(void *data, int status)
{
    struct rf_log *log = data;
    int64_t target = log->inflight_target;

    log->inflight = NULL;
    if (status != 0) {
        rf__log_fail(log, RF_EIO, "fdatasync failed (%s): data since offset %"
                     PRId64 " cannot be trusted", rf_strerror(status),
                     log->durable);
        complete_waiters(log, RF_EIO);
        return;
    }
    if (target > log->trunc_floor) {
        target = log->trunc_floor;
    }
    if (target > log->durable) {
        log->durable = target;
    }
    complete_waiters(log, 0);
    /* A waiter callback may have started the next round already. */
    if (log->wait_head != NULL && log->inflight == NULL) {
        if (log->state == 0) {
            submit(log);
        } else {
            complete_waiters(log, log->state);
        }
    }
}

int rf_log_flush(struct rf_log *log, int64_t up_to, rf_log_flush_cb cb,
                 void *data)
{
    struct rf__waiter *w;

    if (log->state != 0) {
        return log->state;
    }
    if (up_to > log->leo) {
        return RF_ERANGE;
    }
    w = rf_malloc(sizeof(*w));
    w->up_to = up_to;
    w->cb = cb;
    w->data = data;
    push_waiter(log, w);
    if (log->inflight == NULL) {
        submit(log);
    }
    return 0;
}

void rf__log_flush_pending_sync(struct rf_log *log)
{
    for (int i = 0; i < log->npending; i++) {
        int rv = log->pending_dir[i] ? fsync(log->pending[i])
                                     : fdatasync(log->pending[i]);
        if (rv != 0) {
            rf__log_fail(log, RF_EIO, "fdatasync rolled segment: %s",
                         strerror(errno));
        }
        close(log->pending[i]);
    }
    log->npending = 0;
}

void rf__log_commit_truncated(struct rf_log *log, int64_t end)
{
    if (log->durable > end) {
        log->durable = end;
    }
    if (log->trunc_floor > end) {
        log->trunc_floor = end;
    }
    /* Waiters beyond the new end can never be satisfied by this data. */
    struct rf__waiter *list = log->wait_head, *w;
    log->wait_head = log->wait_tail = NULL;
    while ((w = list) != NULL) {
        list = w->next;
        if (w->up_to <= end) {
            push_waiter(log, w);
            continue;
        }
        w->cb(w->data, RF_ECANCELED, log->durable);
        rf_free(w);
    }
}
