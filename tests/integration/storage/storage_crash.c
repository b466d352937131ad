/* storage_crash.c: crash-test tool. `writer DIR` appends and flushes until
 * killed, printing "durable N" once offsets < N are reported on disk;
 * `verify DIR N` recovers DIR and checks it is a prefix of what the writer
 * appends (batch contents are a function of their base offset) holding at
 * least offsets < N. crash_test.py kills writers with SIGKILL. */
#include <inttypes.h>
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

#define EPOCH 1

/* The batch the writer appends at base offset `base`. */
static void expected_batch(struct rf_wr *wr, int64_t base)
{
    struct rf_test_batch_spec spec = {(int)(1 + base % 5),
                                      (size_t)(20 + base % 700),
                                      1700000000000LL + base, (uint32_t)base,
                                      0};
    rf_wr_reset(wr);
    rf_test_build_batch(wr, &spec);
    rf_batch_set_base_offset(wr->base, base);
    rf_batch_set_leader_epoch(wr->base, EPOCH);
}

static void config(struct rf_log_config *conf)
{
    rf_log_config_default(conf);
    conf->segment_bytes = 256 * 1024;
    conf->index_interval_bytes = 1024;
}

struct writer {
    struct rf_log *log;
    struct rf_wr wr;
    int inflight;
};

static void on_durable(void *data, int status, int64_t durable)
{
    struct writer *w = data;
    char line[64];
    int n;

    w->inflight = 0;
    if (status != 0) {
        fprintf(stderr, "flush failed: %s\n", rf_strerror(status));
        exit(2);
    }
    n = snprintf(line, sizeof(line), "durable %" PRId64 "\n", durable);
    if (write(1, line, (size_t)n) != n) { /* unbuffered: survives SIGKILL */
        exit(2);
    }
}

static void on_tick(uv_timer_t *timer)
{
    struct writer *w = timer->data;
    struct rf_log_append_opts opts = {EPOCH, false, 1700000000000LL};
    struct rf_log_append_result res;
    char errmsg[RF_ERRMSG_SIZE];

    for (int i = 0; i < 8; i++) {
        expected_batch(&w->wr, rf_log_end_offset(w->log));
        if (rf_log_append(w->log, w->wr.base, w->wr.len, &opts, &res,
                          errmsg) != 0) {
            fprintf(stderr, "append: %s\n", errmsg);
            exit(2);
        }
    }
    if (!w->inflight) {
        w->inflight = 1;
        rf_log_flush(w->log, rf_log_end_offset(w->log), on_durable, w);
    }
}

static int run_writer(const char *dir)
{
    char errmsg[RF_ERRMSG_SIZE];
    struct rf_log_config conf;
    struct rf_flusher *fl;
    struct writer w = {0};
    uv_timer_t timer;
    uv_loop_t *loop = uv_default_loop();

    config(&conf);
    rf_wr_init(&w.wr, 4096);
    if (rf_flusher_new(loop, 1, &fl) != 0 ||
        rf_log_open(dir, "crash", 0, &conf, fl, &w.log, errmsg) != 0) {
        fprintf(stderr, "writer open: %s\n", errmsg);
        return 2;
    }
    uv_timer_init(loop, &timer);
    timer.data = &w;
    uv_timer_start(&timer, on_tick, 0, 1);
    return uv_run(loop, UV_RUN_DEFAULT); /* until SIGKILL */
}

static int check_log(struct rf_log *log, int64_t durable)
{
    char errmsg[RF_ERRMSG_SIZE];
    struct rf_wr got, want;
    int64_t off = 0, end = rf_log_end_offset(log);
    int rv = 0;

    if (end < durable) {
        fprintf(stderr, "LOST DATA: log end %" PRId64 " < durable %" PRId64
                "\n", end, durable);
        return 1;
    }
    rf_wr_init(&got, 1 << 16);
    rf_wr_init(&want, 4096);
    while (rv == 0 && off < end) {
        rf_wr_reset(&got);
        if (rf_log_read(log, off, 1 << 16, &got, errmsg) != 0) {
            fprintf(stderr, "read %" PRId64 ": %s\n", off, errmsg);
            rv = 1;
            break;
        }
        for (size_t pos = 0; pos < got.len && rv == 0;) {
            expected_batch(&want, off);
            if (want.len > got.len - pos ||
                memcmp(got.base + pos, want.base, want.len) != 0) {
                fprintf(stderr, "NOT A PREFIX: batch at offset %" PRId64
                        " differs\n", off);
                rv = 1;
            }
            pos += want.len;
            off += 1 + off % 5;
        }
    }
    printf("verified log_end=%" PRId64 " durable=%" PRId64 " segments=%zu\n",
           end, durable, rf_log_segment_count(log));
    rf_wr_free(&got);
    rf_wr_free(&want);
    return rv;
}

static int run_verify(const char *dir, int64_t durable)
{
    char errmsg[RF_ERRMSG_SIZE];
    struct rf_log_config conf;
    struct rf_flusher *fl;
    struct rf_log *log;
    const char *msg;
    int rv;

    config(&conf);
    if (rf_flusher_new(uv_default_loop(), 1, &fl) != 0 ||
        rf_log_open(dir, "crash", 0, &conf, fl, &log, errmsg) != 0) {
        fprintf(stderr, "verify open: %s\n", errmsg);
        return 1;
    }
    rv = rf_log_state(log, &msg) != 0 ? 1 : check_log(log, durable);
    if (rf_log_state(log, &msg) != 0) {
        fprintf(stderr, "log state: %s\n", msg);
        rv = 1;
    }
    rf_log_close(log);
    rf_flusher_close(fl);
    uv_run(uv_default_loop(), UV_RUN_DEFAULT);
    uv_loop_close(uv_default_loop());
    return rv;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "writer") == 0) {
        return run_writer(argv[2]);
    }
    if (argc == 4 && strcmp(argv[1], "verify") == 0) {
        return run_verify(argv[2], strtoll(argv[3], NULL, 10));
    }
    fprintf(stderr, "usage: storage-crash writer DIR | verify DIR DURABLE\n");
    return 2;
}
