/* storage_fixture.h: temp directory, loop, flusher and log for storage tests. */
#ifndef RF_TEST_STORAGE_FIXTURE_H
#define RF_TEST_STORAGE_FIXTURE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "alloc.h"
#include "batch.h"
#include "builder.h"
#include "err.h"
#include "partition_log.h"

struct fixture {
    char dir[64];
    uv_loop_t loop;
    struct rf_flusher *fl;
    struct rf_log *log;
    struct rf_log_config conf;
    char errmsg[RF_ERRMSG_SIZE];
};

static inline void fx_rm_rf(const char *dir)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "cleanup of %s failed\n", dir);
    }
}

static inline struct fixture *fx_new(void)
{
    struct fixture *f = rf_calloc(1, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/rf-storage-test-XXXXXX");
    if (mkdtemp(f->dir) == NULL) {
        abort();
    }
    uv_loop_init(&f->loop);
    if (rf_flusher_new(&f->loop, 1, &f->fl) != 0) {
        abort();
    }
    rf_log_config_default(&f->conf);
    return f;
}

static inline int fx_open(struct fixture *f)
{
    return rf_log_open(f->dir, "t", 0, &f->conf, f->fl, &f->log, f->errmsg);
}

static inline void fx_close_log(struct fixture *f)
{
    rf_log_close(f->log);
    f->log = NULL;
    uv_run(&f->loop, UV_RUN_NOWAIT); /* deliver detached jobs */
}

static inline void fx_free(struct fixture *f)
{
    if (f->log != NULL) {
        fx_close_log(f);
    }
    rf_flusher_close(f->fl);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    uv_loop_close(&f->loop);
    fx_rm_rf(f->dir);
    rf_free(f);
}

/* Path of a file in the partition directory. */
static inline void fx_path(struct fixture *f, char *out, size_t n,
                           const char *name)
{
    snprintf(out, n, "%s/t-0/%s", f->dir, name);
}

/* Append one builder batch; returns its base offset (asserts success). */
static inline int64_t fx_append(struct fixture *f, int nrecords,
                                size_t value_size, int64_t base_ts,
                                int32_t epoch, int64_t now_ms)
{
    struct rf_test_batch_spec spec = {nrecords, value_size, base_ts,
                                      (uint32_t)base_ts, 0};
    struct rf_log_append_opts opts = {epoch, false, now_ms};
    struct rf_log_append_result res;
    struct rf_wr wr;
    int rv;

    rf_wr_init(&wr, 256);
    rf_test_build_batch(&wr, &spec);
    rv = rf_log_append(f->log, wr.base, wr.len, &opts, &res, f->errmsg);
    rf_wr_free(&wr);
    if (rv != 0) {
        fprintf(stderr, "append: %s (%s)\n", rf_strerror(rv), f->errmsg);
        abort();
    }
    return res.base_offset;
}

#endif
