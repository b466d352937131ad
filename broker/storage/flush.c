/* flush.c: the fdatasync worker threads and their uv_async completion. */
#include "flush.h"

#include "alloc.h"
#include "clock.h"
#include "err.h"
#include "log.h"
#include "metrics.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#define MAX_THREADS 16
#define LINGER_NS 200000 /* 0.2 ms */

struct rf_flusher {
    uv_async_t async; /* first: the close callback casts back */
    pthread_mutex_t mu;
    pthread_cond_t cond;
    /* Guarded by mu: pending work (FIFO) and finished jobs (LIFO, reversed
     * before delivery), the stop flag and the sync counter. */
    struct rf_flush_job *todo_head, *todo_tail;
    struct rf_flush_job *done;
    bool stopping;
    unsigned long syncs;
    pthread_t threads[MAX_THREADS];
    int nthreads;
    struct rf_metric *sync_seconds; /* loop thread only; may be NULL */
};

struct rf_flush_job *rf_flush_job_new(void)
{
    return rf_calloc(1, sizeof(struct rf_flush_job));
}

static int sync_fds(struct rf_flush_job *job)
{
    int status = 0;

    for (int i = 0; i < job->nfds; i++) {
        int fd = job->fds[i];
        if (status == 0) {
            int rv = job->is_dir[i] ? fsync(fd) : fdatasync(fd);
            if (rv != 0) {
                status = errno == ENOSPC ? RF_ENOSPC : RF_EIO;
                RF_ERROR("fdatasync failed fd=%d err=%s", fd, strerror(errno));
            }
        }
        close(fd);
    }
    return status;
}

/* After a sync the next job usually follows within microseconds (the
 * waiters' callbacks append and flush again): poll briefly before sleeping
 * so that round trip skips a thread wake-up. Called and returns locked. */
static void linger(struct rf_flusher *fl)
{
    uint64_t until = rf_clock_mono_ns() + LINGER_NS;

    while (fl->todo_head == NULL && !fl->stopping &&
           rf_clock_mono_ns() < until) {
        pthread_mutex_unlock(&fl->mu);
        sched_yield();
        pthread_mutex_lock(&fl->mu);
    }
}

static void *worker_main(void *arg)
{
    struct rf_flusher *fl = arg;
    struct rf_flush_job *job;

    pthread_mutex_lock(&fl->mu);
    for (;;) {
        linger(fl);
        while (fl->todo_head == NULL && !fl->stopping) {
            pthread_cond_wait(&fl->cond, &fl->mu);
        }
        if (fl->todo_head == NULL) {
            break; /* stopping and drained */
        }
        job = fl->todo_head;
        fl->todo_head = job->next;
        if (fl->todo_head == NULL) {
            fl->todo_tail = NULL;
        }
        pthread_mutex_unlock(&fl->mu);
        uint64_t t0 = rf_clock_mono_ns();
        job->status = sync_fds(job);
        job->sync_ns = rf_clock_mono_ns() - t0;
        pthread_mutex_lock(&fl->mu);
        fl->syncs += (unsigned long)job->nfds;
        job->next = fl->done;
        fl->done = job;
        uv_async_send(&fl->async);
    }
    pthread_mutex_unlock(&fl->mu);
    return NULL;
}

static void deliver(struct rf_flusher *fl)
{
    struct rf_flush_job *list, *rev = NULL, *job;

    pthread_mutex_lock(&fl->mu);
    list = fl->done;
    fl->done = NULL;
    pthread_mutex_unlock(&fl->mu);
    while (list != NULL) { /* restore completion order */
        job = list;
        list = job->next;
        job->next = rev;
        rev = job;
    }
    while (rev != NULL) {
        job = rev;
        rev = job->next;
        if (fl->sync_seconds != NULL && job->nfds > 0) {
            rf_metric_observe(fl->sync_seconds, (double)job->sync_ns / 1e9);
        }
        if (job->cb != NULL) {
            job->cb(job->data, job->status);
        }
        rf_free(job);
    }
}

static void on_async(uv_async_t *async)
{
    deliver((struct rf_flusher *)async);
}

int rf_flusher_new(uv_loop_t *loop, int nthreads, struct rf_flusher **out)
{
    struct rf_flusher *fl;

    if (nthreads < 1 || nthreads > MAX_THREADS) {
        return RF_EINVAL;
    }
    fl = rf_calloc(1, sizeof(*fl));
    if (uv_async_init(loop, &fl->async, on_async) != 0) {
        rf_free(fl);
        return RF_EIO;
    }
    pthread_mutex_init(&fl->mu, NULL);
    pthread_cond_init(&fl->cond, NULL);
    for (int i = 0; i < nthreads; i++) {
        if (pthread_create(&fl->threads[i], NULL, worker_main, fl) != 0) {
            fl->nthreads = i;
            rf_flusher_close(fl);
            return RF_EIO;
        }
    }
    fl->nthreads = nthreads;
    *out = fl;
    return 0;
}

void rf_flusher_submit(struct rf_flusher *fl, struct rf_flush_job *job)
{
    pthread_mutex_lock(&fl->mu);
    job->next = NULL;
    if (job->nfds == 0) {
        job->next = fl->done;
        fl->done = job;
        uv_async_send(&fl->async);
    } else {
        if (fl->todo_tail != NULL) {
            fl->todo_tail->next = job;
        } else {
            fl->todo_head = job;
        }
        fl->todo_tail = job;
        pthread_cond_signal(&fl->cond);
    }
    pthread_mutex_unlock(&fl->mu);
}

static void on_close(uv_handle_t *handle)
{
    struct rf_flusher *fl = (struct rf_flusher *)handle;

    pthread_mutex_destroy(&fl->mu);
    pthread_cond_destroy(&fl->cond);
    rf_free(fl);
}

void rf_flusher_close(struct rf_flusher *fl)
{
    pthread_mutex_lock(&fl->mu);
    fl->stopping = true;
    pthread_cond_broadcast(&fl->cond);
    pthread_mutex_unlock(&fl->mu);
    for (int i = 0; i < fl->nthreads; i++) {
        pthread_join(fl->threads[i], NULL);
    }
    deliver(fl); /* callbacks of jobs that finished during the join */
    uv_close((uv_handle_t *)&fl->async, on_close);
}

void rf_flusher_set_histogram(struct rf_flusher *fl, struct rf_metric *h)
{
    fl->sync_seconds = h;
}

unsigned long rf_flusher_syncs(const struct rf_flusher *fl)
{
    unsigned long n;

    pthread_mutex_lock((pthread_mutex_t *)&fl->mu);
    n = fl->syncs;
    pthread_mutex_unlock((pthread_mutex_t *)&fl->mu);
    return n;
}
