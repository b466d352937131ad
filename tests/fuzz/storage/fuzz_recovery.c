/* fuzz_recovery.c: libFuzzer driver: a partition directory whose segment
 * (and index) bytes come from the input is opened, read, appended to,
 * truncated and closed. Input: flags byte (bit0 clean-shutdown marker,
 * bit1 make the segment an older one), index entry count byte, that many
 * 8-byte index entries, then the segment's bytes. */
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "alloc.h"
#include "builder.h"
#include "err.h"
#include "log.h"
#include "partition_log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char base_dir[64];
static char part_dir[96];
static uv_loop_t loop;
static struct rf_flusher *fl;

static void write_file(const char *name, const uint8_t *p, size_t n)
{
    char path[160];
    int fd;

    snprintf(path, sizeof(path), "%s/%s", part_dir, name);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || (n > 0 && write(fd, p, n) != (ssize_t)n)) {
        abort();
    }
    close(fd);
}

static void clear_dir(void)
{
    DIR *d = opendir(part_dir);
    struct dirent *de;

    if (d == NULL) {
        if (mkdir(part_dir, 0755) != 0) {
            abort();
        }
        return;
    }
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
            unlinkat(dirfd(d), de->d_name, 0);
        }
    }
    closedir(d);
}

/* At exit (libFuzzer ends runs with exit()): leave no temp dir behind. */
static void remove_dirs(void)
{
    clear_dir();
    rmdir(part_dir);
    rmdir(base_dir);
}

static void init_once(void)
{
    if (fl != NULL) {
        return;
    }
    rf_log_set_level(RF_LOG_ERROR - 1); /* quiet: recovery warns a lot */
    /* tmpfs when available: fsync is free there and this runs per input. */
    snprintf(base_dir, sizeof(base_dir), "%s/rf-fuzz-recovery-XXXXXX",
             access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
    if (mkdtemp(base_dir) == NULL) {
        abort();
    }
    snprintf(part_dir, sizeof(part_dir), "%s/f-0", base_dir);
    atexit(remove_dirs);
    uv_loop_init(&loop);
    if (rf_flusher_new(&loop, 1, &fl) != 0) {
        abort();
    }
}

static void exercise(struct rf_log *log)
{
    char errmsg[RF_ERRMSG_SIZE];
    struct rf_wr wr;
    int64_t off, ts, end = rf_log_end_offset(log);
    struct rf_test_batch_spec spec = {2, 8, 5, 1, 0};
    struct rf_log_append_opts opts = {3, false, 10};
    struct rf_log_append_result res;

    rf_wr_init(&wr, 1024);
    for (int64_t o = rf_log_start_offset(log); o <= end && o < 64; o++) {
        rf_wr_reset(&wr);
        if (rf_log_read(log, o, 100, &wr, errmsg) != 0) {
            break;
        }
    }
    rf_log_offset_for_time(log, 3, &off, &ts, errmsg);
    rf_wr_reset(&wr);
    rf_test_build_batch(&wr, &spec);
    if (rf_log_append(log, wr.base, wr.len, &opts, &res, errmsg) == 0) {
        rf_log_truncate(log, end / 2, errmsg);
    }
    rf_wr_free(&wr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char errmsg[RF_ERRMSG_SIZE];
    struct rf_log_config conf;
    struct rf_log *log;
    size_t nidx;

    init_once();
    if (size < 2) {
        return 0;
    }
    nidx = (size_t)data[1] * 8;
    if (nidx > size - 2) {
        nidx = size - 2;
    }
    clear_dir();
    write_file("00000000000000000000.index", data + 2, nidx);
    write_file("00000000000000000000.log", data + 2 + nidx, size - 2 - nidx);
    if (data[0] & 1) {
        write_file(".clean_shutdown", NULL, 0);
    }
    if (data[0] & 2) {
        write_file("00000000000000100000.log", NULL, 0);
    }
    rf_log_config_default(&conf);
    conf.segment_bytes = 4096;
    conf.index_interval_bytes = 64;
    conf.max_batch_bytes = 1 << 16;
    if (rf_log_open(base_dir, "f", 0, &conf, fl, &log, errmsg) == 0) {
        exercise(log);
        rf_log_close(log);
    }
    uv_run(&loop, UV_RUN_NOWAIT);
    return 0;
}
