/* storage_bench.c: storage-bench: partition-log append rates with and
 * without group-commit fsync, against raw write()+fdatasync of the same
 * bytes on the same disk. A program that prints figures, not a test.
 * Usage: storage-bench [DIR] [BATCHES] [PRODUCERS]   (DIR default ".") */
#define _XOPEN_SOURCE 700 /* nftw */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <ftw.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "alloc.h"
#include "builder.h"
#include "err.h"
#include "log.h"
#include "partition_log.h"

#define RECORD_BYTES 100
#define TARGET_BATCH (16 * 1024)
#define REPEATS 3

struct bench {
    const char *dir;
    int nbatches;
    int producers;
    struct rf_wr batch; /* one ~16 KiB batch, re-appended (offsets change) */
    uv_loop_t loop;
    struct rf_flusher *fl;
    struct rf_log *log;
    int appended, done;
    unsigned long syncs;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void build_batch(struct bench *b)
{
    /* Each record: ~100 value bytes + ~15 bytes of record framing. */
    struct rf_test_batch_spec spec = {TARGET_BATCH / 115, RECORD_BYTES,
                                      1700000000000LL, 1, 0};
    rf_wr_init(&b->batch, TARGET_BATCH + 1024);
    rf_test_build_batch(&b->batch, &spec);
}

static void die(const char *what, const char *msg)
{
    fprintf(stderr, "storage-bench: %s: %s\n", what, msg);
    exit(1);
}

static void open_log(struct bench *b, const char *topic)
{
    char errmsg[RF_ERRMSG_SIZE];
    struct rf_log_config conf;

    rf_log_config_default(&conf);
    if (rf_log_open(b->dir, topic, 0, &conf, b->fl, &b->log, errmsg) != 0) {
        die("open", errmsg);
    }
}

static void append_one(struct bench *b)
{
    char errmsg[RF_ERRMSG_SIZE];
    struct rf_log_append_opts opts = {1, false, 1700000000000LL};
    struct rf_log_append_result res;

    if (rf_log_append(b->log, b->batch.base, b->batch.len, &opts, &res,
                      errmsg) != 0) {
        die("append", errmsg);
    }
    b->appended++;
}

static void on_durable(void *data, int status, int64_t durable)
{
    struct bench *b = data;
    (void)durable;

    if (status != 0) {
        die("flush", rf_strerror(status));
    }
    b->done++;
    if (b->appended < b->nbatches) { /* this producer sends its next batch */
        append_one(b);
        rf_log_flush(b->log, rf_log_end_offset(b->log), on_durable, b);
    }
}

static int remove_entry(const char *path, const struct stat *st, int flag,
                        struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* rm -rf without a shell: the path is never interpreted. */
static void remove_tree(const char *path)
{
    if (nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0 &&
        errno != ENOENT) {
        die("cleanup", path);
    }
}

static void remove_partition(struct bench *b, const char *topic)
{
    char *path = rf_asprintf("%s/%s-0", b->dir, topic);
    remove_tree(path);
    rf_free(path);
}

/* Closed loop: `producers` appends in flight, each waiting for its own
 * durability before the next. producers 0 = no fsync at all. */
static double run_log(struct bench *b, const char *topic, int producers)
{
    double t0;
    unsigned long s0 = rf_flusher_syncs(b->fl);

    remove_partition(b, topic);
    open_log(b, topic);
    b->appended = b->done = 0;
    t0 = now_s();
    if (producers == 0) {
        while (b->appended < b->nbatches) {
            append_one(b);
        }
    } else {
        for (int i = 0; i < producers && b->appended < b->nbatches; i++) {
            append_one(b);
            rf_log_flush(b->log, rf_log_end_offset(b->log), on_durable, b);
        }
        while (b->done < b->nbatches) {
            uv_run(&b->loop, UV_RUN_ONCE);
        }
    }
    double secs = now_s() - t0;
    b->syncs = rf_flusher_syncs(b->fl) - s0;
    rf_log_close(b->log);
    uv_run(&b->loop, UV_RUN_NOWAIT);
    remove_partition(b, topic);
    return secs;
}

/* Raw reference: write() each batch, fdatasync every `group` batches. */
static double run_raw(struct bench *b, int group)
{
    char path[1024];
    double t0;
    int fd;

    snprintf(path, sizeof(path), "%s/storage-bench-raw.dat", b->dir);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        die("open raw", strerror(errno));
    }
    t0 = now_s();
    for (int i = 0; i < b->nbatches; i++) {
        if (write(fd, b->batch.base, b->batch.len) != (ssize_t)b->batch.len) {
            die("write raw", strerror(errno));
        }
        if (group > 0 && ((i + 1) % group == 0 || i + 1 == b->nbatches) &&
            fdatasync(fd) != 0) {
            die("fdatasync raw", strerror(errno));
        }
    }
    double secs = now_s() - t0;
    close(fd);
    unlink(path);
    return secs;
}

static long rss_kib(void)
{
    long pages = 0, rss = 0;
    FILE *f = fopen("/proc/self/statm", "r");

    if (f != NULL) {
        if (fscanf(f, "%ld %ld", &pages, &rss) != 2) {
            rss = 0;
        }
        fclose(f);
    }
    return rss * (sysconf(_SC_PAGESIZE) / 1024);
}

/* Memory and fds of many idle partitions (each with one small batch). */
static void run_idle(struct bench *b, int n)
{
    char errmsg[RF_ERRMSG_SIZE];
    struct rf_log_config conf;
    struct rf_log **logs = rf_calloc((size_t)n, sizeof(*logs));
    struct rf_wr small;
    struct rf_test_batch_spec spec = {1, RECORD_BYTES, 1700000000000LL, 1, 0};
    struct rf_log_append_opts opts = {1, false, 1700000000000LL};
    struct rf_log_append_result res;
    char *base = rf_asprintf("%s/storage-bench-idle", b->dir);
    long before;

    remove_tree(base);
    if (mkdir(base, 0755) != 0) {
        die("idle setup", base);
    }
    rf_log_config_default(&conf);
    rf_wr_init(&small, 256);
    before = rss_kib();
    for (int i = 0; i < n; i++) {
        if (rf_log_open(base, "idle", i, &conf, b->fl, &logs[i], errmsg) != 0) {
            die("idle open", errmsg);
        }
        rf_wr_reset(&small);
        rf_test_build_batch(&small, &spec);
        if (rf_log_append(logs[i], small.base, small.len, &opts, &res,
                          errmsg) != 0) {
            die("idle append", errmsg);
        }
    }
    printf("idle partitions: %d open, RSS +%ld KiB (%.1f KiB each), "
           "1 fd each\n", n, rss_kib() - before,
           (double)(rss_kib() - before) / n);
    for (int i = 0; i < n; i++) {
        rf_log_close(logs[i]);
    }
    uv_run(&b->loop, UV_RUN_NOWAIT);
    remove_tree(base);
    rf_wr_free(&small);
    rf_free(logs);
    rf_free(base);
}

static void report(const struct bench *b, const char *name, double secs)
{
    double bytes = (double)b->nbatches * (double)b->batch.len;
    printf("  %-44s %9.1f MB/s %10.0f batches/s\n", name,
           bytes / secs / 1e6, b->nbatches / secs);
}

int main(int argc, char **argv)
{
    struct bench b = {0};

    if (argc > 1 && argv[1][0] == '-') {
        printf("usage: storage-bench [DIR] [BATCHES] [PRODUCERS]\n"
               "  DIR must be an existing directory on the disk to measure.\n");
        return strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0
                   ? 0
                   : 2;
    }
    b.dir = argc > 1 ? argv[1] : ".";
    b.nbatches = argc > 2 ? atoi(argv[2]) : 2000;
    b.producers = argc > 3 ? atoi(argv[3]) : 32;
    if (b.nbatches < 1 || b.producers < 1) {
        die("usage", "storage-bench [DIR] [BATCHES>0] [PRODUCERS>0]");
    }
    rf_log_set_level(RF_LOG_WARN);
    build_batch(&b);
    uv_loop_init(&b.loop);
    if (rf_flusher_new(&b.loop, 1, &b.fl) != 0) {
        die("flusher", "cannot start");
    }
    printf("storage-bench: dir=%s batches=%d batch_bytes=%zu records/batch=%d "
           "record_value_bytes=%d best_of=%d\n", b.dir, b.nbatches,
           b.batch.len, TARGET_BATCH / 115, RECORD_BYTES, REPEATS);

    /* Interleaved repetitions, best of each: the machine is shared. */
    double no_sync = 1e9, raw_nosync = 1e9, one = 1e9, raw_one = 1e9;
    double grp = 1e9, raw_grp = 1e9;
    unsigned long one_syncs = 0, grp_syncs = 1;
    int per_sync = 1;
    for (int rep = 0; rep < REPEATS; rep++) {
        no_sync = fmin(no_sync, run_log(&b, "bench-nosync", 0));
        raw_nosync = fmin(raw_nosync, run_raw(&b, 0));
        one = fmin(one, run_log(&b, "bench-sync1", 1));
        one_syncs = b.syncs;
        raw_one = fmin(raw_one, run_raw(&b, 1));
        grp = fmin(grp, run_log(&b, "bench-group", b.producers));
        grp_syncs = b.syncs ? b.syncs : 1;
        per_sync = (int)((b.nbatches + grp_syncs - 1) / grp_syncs);
        raw_grp = fmin(raw_grp, run_raw(&b, per_sync));
    }

    printf("without fsync (page cache):\n");
    report(&b, "riffle log append", no_sync);
    report(&b, "raw write()", raw_nosync);
    printf("  ratio %.2f\n", raw_nosync / no_sync);
    printf("fsync, 1 producer (one fdatasync per batch, %lu syncs):\n",
           one_syncs);
    report(&b, "riffle append + rf_log_flush", one);
    report(&b, "raw write() + fdatasync per batch", raw_one);
    printf("  ratio %.2f\n", raw_one / one);
    printf("fsync, group commit, %d producers (%lu syncs, ~%d batches "
           "each):\n", b.producers, grp_syncs, per_sync);
    report(&b, "riffle append + rf_log_flush (group commit)", grp);
    report(&b, "raw write() x N + one fdatasync (same N)", raw_grp);
    printf("  ratio %.2f\n", raw_grp / grp);
    printf("  group commit vs raw per-batch fdatasync: %.1fx\n", raw_one / grp);
    run_idle(&b, 1000);

    rf_flusher_close(b.fl);
    uv_run(&b.loop, UV_RUN_DEFAULT);
    uv_loop_close(&b.loop);
    rf_wr_free(&b.batch);
    return 0;
}
