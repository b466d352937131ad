/* recovery.c: opening a partition directory: segments, indexes, torn tails. */
#include "storage_int.h"

#include "alloc.h"
#include "batch.h"
#include "checkpoint.h"
#include "partition_log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void rf__log_fail(struct rf_log *log, int state, const char *fmt, ...)
{
    char msg[RF_ERRMSG_SIZE];
    va_list ap;

    if (log->state != 0) {
        return; /* the first reason is the one worth reporting */
    }
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    log->state = state;
    log->state_msg = rf_asprintf("partition %s refuses service: %s",
                                 log->name, msg);
    RF_ERROR("%s", log->state_msg);
}

/* "00000000000000001234.log" -> 1234; -1 for anything else. */
static int64_t parse_segment_name(const char *name)
{
    int64_t v = 0;

    if (strlen(name) != RF__SEG_NAME_DIGITS + 4 ||
        strcmp(name + RF__SEG_NAME_DIGITS, ".log") != 0) {
        return -1;
    }
    for (int i = 0; i < RF__SEG_NAME_DIGITS; i++) {
        if (name[i] < '0' || name[i] > '9' || v > (INT64_MAX - 9) / 10) {
            return -1;
        }
        v = v * 10 + (name[i] - '0');
    }
    return v;
}

static int cmp_seg(const void *a, const void *b)
{
    const struct rf__segment *x = a, *y = b;
    return (x->base > y->base) - (x->base < y->base);
}

static int list_segments(struct rf_log *log, bool *clean, char *errmsg)
{
    DIR *d = opendir(log->dir);
    struct dirent *de;

    if (d == NULL) {
        rf_errmsg_set(errmsg, "opendir %s: %s", log->dir, strerror(errno));
        return RF_EIO;
    }
    while ((de = readdir(d)) != NULL) {
        int64_t base = parse_segment_name(de->d_name);
        size_t nlen = strlen(de->d_name);
        if (base >= 0) {
            rf__log_push_segment(log, base);
        } else if (strcmp(de->d_name, RF__CLEAN_MARKER) == 0) {
            *clean = true;
        } else if (nlen > 4 && strcmp(de->d_name + nlen - 4, ".tmp") == 0) {
            unlinkat(dirfd(d), de->d_name, 0); /* interrupted checkpoint */
        }
    }
    closedir(d);
    if (log->nsegs > 1) {
        qsort(log->segs, log->nsegs, sizeof(*log->segs), cmp_seg);
    }
    return 0;
}

static int open_segment_fd(struct rf_log *log, int64_t base, int flags,
                           uint64_t *size, char *errmsg)
{
    char *path = rf__segment_path(log->dir, base, "log");
    int fd = open(path, flags | O_CLOEXEC, 0644);
    struct stat st;

    if (fd < 0 || fstat(fd, &st) != 0) {
        rf_errmsg_set(errmsg, "open %s: %s", path, strerror(errno));
        rf_free(path);
        if (fd >= 0) {
            close(fd);
        }
        return RF_EIO;
    }
    if ((uint64_t)st.st_size > UINT32_MAX) {
        /* Index positions are 32-bit; Riffle rolls at 2 GiB at most, so
         * such a file was not written by it: refuse, never truncate. */
        rf_errmsg_set(errmsg, "%s: %lld bytes, over the 4 GiB a segment may "
                      "hold", path, (long long)st.st_size);
        rf_free(path);
        close(fd);
        return RF_ECORRUPT;
    }
    rf_free(path);
    *size = (uint64_t)st.st_size;
    return fd;
}

/* Add the closing time entry (segment max, end) that gives an older
 * segment's maxTimestamp back at the next open. */
static void seal_time_index(struct rf__index *idx, int64_t max_ts,
                            int64_t end_rel)
{
    if (max_ts >= 0 && (idx->ntime == 0 || max_ts > idx->tts[idx->ntime - 1])) {
        rf__index_add_time(idx, max_ts, (uint32_t)end_rel);
    }
}

/* An older (non-active) segment: trust a valid index, else rebuild it
 * with a header walk; a broken walk makes the partition corrupt. */
static int open_older(struct rf_log *log, struct rf__segment *seg,
                      char *errmsg)
{
    struct rf__index idx = {0};
    struct rf__scan scan;
    uint64_t size;
    int fd = open_segment_fd(log, seg->base, O_RDONLY, &size, errmsg);

    if (fd < 0) {
        return fd;
    }
    seg->size = size;
    if (rf__index_load(log->dir, seg->base, size, &idx) == 0 &&
        (size == 0 || idx.ntime > 0)) {
        seg->max_ts = idx.ntime ? idx.tts[idx.ntime - 1] : -1;
        close(fd);
        rf__index_free(&idx);
        return 0;
    }
    RF_WARN("rebuilding index tp=%s segment=%020" PRId64, log->name,
            seg->base);
    rf__index_reset(&idx);
    /* Full CRC walk: the index was damaged, so the data gets checked too. */
    rf__segment_scan(fd, size, 0, seg->base, true, log->conf.max_batch_bytes,
                     log->conf.index_interval_bytes, seg->base, &idx, &scan);
    close(fd);
    seg->max_ts = scan.max_ts;
    seg->first_ts = scan.first_ts;
    if (scan.why != NULL) {
        rf__log_fail(log, RF_ECORRUPT,
                     "segment %020" PRId64 ".log: %s at position %" PRIu64
                     " (not the last segment)",
                     seg->base, scan.why, scan.end);
    } else {
        seal_time_index(&idx, scan.max_ts, scan.next - seg->base);
        rf__index_write(log->dir, seg->base, &idx, NULL, errmsg);
    }
    rf__index_free(&idx);
    return 0;
}

/* maxTimestamp of the batch at position 0 (roll by age), or -1. */
static int64_t first_batch_ts(int fd, uint64_t size)
{
    uint8_t hdr[RF_BATCH_HEADER_SIZE];
    struct rf_batch_info info;

    if (size < sizeof(hdr) || rf__pread_all(fd, hdr, sizeof(hdr), 0) != 0 ||
        rf_batch_header(hdr, sizeof(hdr), &info) != 0) {
        return -1;
    }
    return info.max_timestamp;
}

/* The active segment after a clean stop: indexes from files, a header walk
 * from the last indexed position. Returns false when anything disagrees
 * (then the caller runs the full scan). */
static bool open_active_clean(struct rf_log *log, struct rf__segment *seg,
                              uint64_t size)
{
    struct rf__scan scan;
    uint64_t from = 0;
    int64_t expect = seg->base;

    if (rf__index_load(log->dir, seg->base, size, &log->idx) != 0) {
        return false;
    }
    if (log->idx.noff > 0) {
        from = log->idx.off[(log->idx.noff - 1) * 2 + 1];
        expect = seg->base + log->idx.off[(log->idx.noff - 1) * 2];
    }
    rf__segment_scan(log->fd, size, from, expect, false,
                     log->conf.max_batch_bytes, 0, seg->base, NULL, &scan);
    if (scan.why != NULL) {
        rf__index_reset(&log->idx);
        return false;
    }
    seg->size = size;
    seg->max_ts = log->idx.ntime ? log->idx.tts[log->idx.ntime - 1] : -1;
    if (scan.max_ts > seg->max_ts) {
        seg->max_ts = scan.max_ts;
    }
    seg->first_ts = from == 0 ? scan.first_ts : first_batch_ts(log->fd, size);
    log->since_index = size - from;
    log->leo = scan.next;
    return true;
}

/* The active segment after an unclean stop: full scan with CRC, rebuild
 * the indexes, cut a torn or corrupt tail. */
static int open_active_scan(struct rf_log *log, struct rf__segment *seg,
                            uint64_t size, char *errmsg)
{
    struct rf__scan scan;

    rf__index_reset(&log->idx);
    rf__segment_scan(log->fd, size, 0, seg->base, true,
                     log->conf.max_batch_bytes, log->conf.index_interval_bytes,
                     seg->base, &log->idx, &scan);
    if (scan.why != NULL) {
        RF_WARN("truncating torn tail tp=%s segment=%020" PRId64
                " position=%" PRIu64 " dropped_bytes=%" PRIu64 " reason=\"%s\"",
                log->name, seg->base, scan.end, size - scan.end, scan.why);
        if (ftruncate(log->fd, (off_t)scan.end) != 0) {
            rf_errmsg_set(errmsg, "truncate segment %020" PRId64 ": %s",
                          seg->base, strerror(errno));
            return RF_EIO;
        }
    }
    seg->size = scan.end;
    seg->max_ts = scan.max_ts;
    seg->first_ts = scan.first_ts;
    log->leo = scan.next;
    log->since_index = 0;
    return 0;
}

void rf__log_drop_segment_files(const struct rf_log *log, int64_t base)
{
    char *path = rf__segment_path(log->dir, base, "log");

    unlink(path);
    rf_free(path);
    rf__index_unlink(log->dir, base);
}

/* Open the active segment; after an unclean stop an empty last segment is
 * dropped so the one before it is scanned too ("last segment(s)"). */
static int open_active(struct rf_log *log, bool clean, char *errmsg)
{
    struct rf__segment *seg;
    uint64_t size;
    int rv;

    for (;;) {
        seg = &log->segs[log->nsegs - 1];
        log->fd = open_segment_fd(log, seg->base, O_RDWR, &size, errmsg);
        if (log->fd < 0) {
            return log->fd;
        }
        if (clean && open_active_clean(log, seg, size)) {
            return 0;
        }
        rv = open_active_scan(log, seg, size, errmsg);
        if (rv != 0 || seg->size > 0 || log->nsegs == 1) {
            return rv;
        }
        RF_WARN("dropping empty last segment tp=%s segment=%020" PRId64,
                log->name, seg->base);
        close(log->fd);
        log->fd = -1;
        rf__log_drop_segment_files(log, seg->base);
        log->nsegs--;
    }
}

static int create_first_segment(struct rf_log *log, int64_t base,
                                 char *errmsg)
{
    uint64_t size;
    int fd;

    rf__log_push_segment(log, base);
    fd = open_segment_fd(log, base, O_RDWR | O_CREAT, &size, errmsg);
    if (fd < 0) {
        return fd;
    }
    close(fd);
    return rf_checkpoint_sync_dir(log->dir, errmsg);
}

static int64_t read_single(const char *dir, const char *file, int64_t dflt)
{
    char errmsg[RF_ERRMSG_SIZE];
    char *path = rf_asprintf("%s/%s", dir, file);
    int64_t *vals = NULL, v = dflt;
    size_t n = 0;
    int rv = rf_checkpoint_read(path, 1, 1, &vals, &n, errmsg);

    if (rv == 0 && n == 1) {
        v = vals[0];
    } else if (rv != 0 && rv != RF_ENOENT) {
        RF_WARN("ignoring checkpoint file=%s err=\"%s\"", path, errmsg);
    }
    rf_free(vals);
    rf_free(path);
    return v;
}

static void load_checkpoints(struct rf_log *log)
{
    char errmsg[RF_ERRMSG_SIZE];
    char *path = rf_asprintf("%s/%s", log->dir, RF__EPOCH_FILE);
    size_t n = 0, keep = 0;
    int rv;

    log->log_start = read_single(log->dir, RF__START_FILE, 0);
    log->hwm = read_single(log->dir, RF__HWM_FILE, 0);
    rv = rf_checkpoint_read(path, 2, RF__MAX_EPOCHS, &log->epochs, &n, errmsg);
    if (rv != 0 && rv != RF_ENOENT) {
        RF_WARN("ignoring checkpoint file=%s err=\"%s\"", path, errmsg);
    }
    /* Keep the ascending prefix of non-negative entries that lies within
     * the log (a damaged or hand-edited file loses its tail, nothing else). */
    while (keep < n && log->epochs[keep * 2] >= 0 &&
           log->epochs[keep * 2 + 1] >= 0 &&
           log->epochs[keep * 2 + 1] <= log->leo &&
           (keep == 0 ||
            (log->epochs[keep * 2] > log->epochs[keep * 2 - 2] &&
             log->epochs[keep * 2 + 1] >= log->epochs[keep * 2 - 1]))) {
        keep++;
    }
    log->nepochs = keep;
    rf_free(path);
}

static int remove_marker(struct rf_log *log, char *errmsg)
{
    char *path = rf_asprintf("%s/%s", log->dir, RF__CLEAN_MARKER);
    int rv = 0;

    if (unlink(path) != 0 && errno != ENOENT) {
        rf_errmsg_set(errmsg, "unlink %s: %s", path, strerror(errno));
        rv = RF_EIO;
    }
    rf_free(path);
    return rv == 0 ? rf_checkpoint_sync_dir(log->dir, errmsg) : rv;
}

static void finish_offsets(struct rf_log *log)
{
    if (log->log_start < log->segs[0].base) {
        log->log_start = log->segs[0].base;
    }
    if (log->log_start > log->leo) {
        log->log_start = log->leo;
    }
    if (log->hwm > log->leo) {
        log->hwm = log->leo;
    }
    if (log->hwm < log->log_start) {
        log->hwm = log->log_start;
    }
    log->durable = log->leo;
}

int rf__log_recover(struct rf_log *log, char *errmsg)
{
    bool clean = false;
    int rv = list_segments(log, &clean, errmsg);

    if (rv == 0 && log->nsegs == 0) {
        rv = create_first_segment(log, read_single(log->dir, RF__START_FILE, 0),
                                  errmsg);
    }
    for (size_t i = 0; rv == 0 && i + 1 < log->nsegs; i++) {
        rv = open_older(log, &log->segs[i], errmsg);
    }
    if (rv == 0) {
        rv = open_active(log, clean, errmsg);
    }
    if (rv == 0 && clean) {
        rv = remove_marker(log, errmsg);
    }
    /* What recovery kept is on disk before it counts as durable. */
    if (rv == 0 && !clean && fdatasync(log->fd) != 0) {
        rf_errmsg_set(errmsg, "fdatasync: %s", strerror(errno));
        rv = RF_EIO;
    }
    if (rv == 0) {
        load_checkpoints(log);
        finish_offsets(log);
        RF_INFO("opened partition log tp=%s segments=%zu log_start=%" PRId64
                " log_end=%" PRId64 " clean=%d",
                log->name, log->nsegs, log->log_start, log->leo, (int)clean);
    }
    return rv;
}
