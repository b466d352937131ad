/* log_trim.c: removing data: follower truncation, DeleteRecords, retention. */
#include "storage_int.h"

#include "alloc.h"
#include "batch.h"
#include "checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

static void drop_front(struct rf_log *log)
{
    RF_INFO("deleting segment tp=%s base=%" PRId64, log->name,
            log->segs[0].base);
    rf__log_drop_segment_files(log, log->segs[0].base);
    memmove(log->segs, log->segs + 1, (log->nsegs - 1) * sizeof(*log->segs));
    log->nsegs--;
}

static int set_log_start(struct rf_log *log, int64_t offset, char *errmsg)
{
    log->log_start = offset;
    if (log->hwm < offset) {
        log->hwm = offset;
        log->hwm_saved = false;
    }
    return rf__log_write_single(log, RF__START_FILE, offset, errmsg);
}

/* Drop every segment and restart empty at offset. */
static int truncate_fully(struct rf_log *log, int64_t offset, char *errmsg)
{
    char *path = rf__segment_path(log->dir, offset, "log");
    int fd;

    RF_WARN("truncating whole log tp=%s restart_at=%" PRId64, log->name,
            offset);
    close(log->fd);
    log->fd = -1;
    while (log->nsegs > 0) {
        drop_front(log);
    }
    fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    rf_free(path);
    if (fd < 0) {
        rf__log_fail(log, RF_EIO, "truncate: create segment: %s",
                     strerror(errno));
        return RF_EIO;
    }
    log->fd = fd;
    rf__log_push_segment(log, offset);
    rf__index_reset(&log->idx);
    log->since_index = 0;
    log->leo = offset;
    return set_log_start(log, offset, errmsg);
}

/* Make segment si the active one, dropping every later segment. */
static int reactivate(struct rf_log *log, size_t si)
{
    char *path;

    if (si + 1 == log->nsegs) {
        return 0;
    }
    while (log->nsegs > si + 1) {
        int64_t base = log->segs[log->nsegs - 1].base;
        RF_INFO("deleting segment tp=%s base=%" PRId64 " (truncation)",
                log->name, base);
        rf__log_drop_segment_files(log, base);
        log->nsegs--;
    }
    close(log->fd);
    path = rf__segment_path(log->dir, log->segs[si].base, "log");
    log->fd = open(path, O_RDWR | O_CLOEXEC);
    rf_free(path);
    if (log->fd < 0) {
        rf__log_fail(log, RF_EIO, "truncate: reopen segment: %s",
                     strerror(errno));
        return RF_EIO;
    }
    return 0;
}

/* Position of the first batch whose last offset >= offset in the active
 * segment, by a header walk (the chain was checked at open or append). */
static int cut_position(struct rf_log *log, int64_t offset, uint64_t *pos)
{
    struct rf__segment *seg = &log->segs[log->nsegs - 1];
    struct rf__scan scan;
    uint8_t hdr[RF_BATCH_HEADER_SIZE];
    struct rf_batch_info info;
    uint64_t p = 0;

    while (p < seg->size) {
        if (rf__pread_all(log->fd, hdr, sizeof(hdr), p) != 0 ||
            rf_batch_header(hdr, sizeof(hdr), &info) != 0 ||
            info.size > seg->size - p) {
            rf__log_fail(log, RF_ECORRUPT, "truncate: bad batch at %" PRIu64
                         " in segment %" PRId64, p, seg->base);
            return RF_ECORRUPT;
        }
        if (info.base_offset + info.last_offset_delta >= offset) {
            break;
        }
        p += info.size;
    }
    *pos = p;
    /* Rebuild the in-memory indexes and timestamps of what stays. */
    rf__index_reset(&log->idx);
    rf__segment_scan(log->fd, p, 0, seg->base, false, log->conf.max_batch_bytes,
                     log->conf.index_interval_bytes, seg->base, &log->idx,
                     &scan);
    seg->max_ts = scan.max_ts;
    seg->first_ts = scan.first_ts;
    log->leo = scan.next;
    log->since_index = 0;
    return 0;
}

/* Bookkeeping once the log end moved back (truncate, reset). */
static int after_truncate(struct rf_log *log, size_t nsegs_before, int rv,
                          int64_t offset, char *errmsg)
{
    if (rv == 0 && log->nsegs != nsegs_before) {
        rv = rf_checkpoint_sync_dir(log->dir, errmsg);
    }
    RF_INFO("truncated log tp=%s to=%" PRId64 " log_end=%" PRId64, log->name,
            offset, log->leo);
    if (log->hwm > log->leo) {
        log->hwm = log->leo;
        log->hwm_saved = false;
    }
    rf__log_trim_epochs(log, log->leo);
    rf__log_commit_truncated(log, log->leo);
    return rv;
}

int rf_log_reset(struct rf_log *log, int64_t offset, char *errmsg)
{
    size_t before = log->nsegs;
    if (log->state != 0) {
        rf_errmsg_set(errmsg, "%s", log->state_msg);
        return log->state;
    }
    if (offset < 0) {
        rf_errmsg_set(errmsg, "reset %s: negative offset", log->name);
        return RF_EINVAL;
    }
    return after_truncate(log, before, truncate_fully(log, offset, errmsg),
                          offset, errmsg);
}

int rf_log_truncate(struct rf_log *log, int64_t offset, char *errmsg)
{
    uint64_t pos;
    size_t si, before = log->nsegs;
    int rv = 0;

    if (log->state != 0) {
        rf_errmsg_set(errmsg, "%s", log->state_msg);
        return log->state;
    }
    if (offset >= log->leo) {
        return 0;
    }
    if (offset < log->log_start || offset < log->segs[0].base) {
        rv = truncate_fully(log, offset, errmsg);
    } else {
        /* A segment starting exactly at offset goes whole. */
        si = 0;
        while (si + 1 < log->nsegs && log->segs[si + 1].base < offset) {
            si++;
        }
        rv = reactivate(log, si);
        if (rv == 0) {
            rv = cut_position(log, offset, &pos);
        }
        if (rv == 0 && ftruncate(log->fd, (off_t)pos) != 0) {
            rf__log_fail(log, RF_EIO, "truncate: %s", strerror(errno));
            rv = RF_EIO;
        }
        if (rv == 0) {
            log->segs[log->nsegs - 1].size = pos;
        }
    }
    return after_truncate(log, before, rv, offset, errmsg);
}

int rf_log_advance_start(struct rf_log *log, int64_t offset, char *errmsg)
{
    if (log->state != 0) {
        rf_errmsg_set(errmsg, "%s", log->state_msg);
        return log->state;
    }
    if (offset > log->leo) {
        rf_errmsg_set(errmsg, "log start %" PRId64 " beyond log end %" PRId64,
                      offset, log->leo);
        return RF_EOFFSET;
    }
    if (offset <= log->log_start) {
        return 0;
    }
    while (log->nsegs > 1 && log->segs[1].base <= offset) {
        drop_front(log);
    }
    return set_log_start(log, offset, errmsg);
}

static bool expired(const struct rf_log *log, int64_t now_ms, uint64_t total)
{
    const struct rf__segment *seg = &log->segs[0];

    if (log->conf.retention_ms >= 0 && seg->max_ts >= 0 &&
        now_ms - seg->max_ts > log->conf.retention_ms) {
        return true;
    }
    return log->conf.retention_bytes >= 0 &&
           total - seg->size >= (uint64_t)log->conf.retention_bytes;
}

int rf_log_retain(struct rf_log *log, int64_t now_ms, char *errmsg)
{
    uint64_t total = 0;
    int deleted = 0, rv = 0;

    if (log->state != 0) {
        rf_errmsg_set(errmsg, "%s", log->state_msg);
        return log->state;
    }
    for (size_t i = 0; i < log->nsegs; i++) {
        total += log->segs[i].size;
    }
    /* The active segment is never deleted here. */
    while (log->nsegs > 1 && expired(log, now_ms, total)) {
        total -= log->segs[0].size;
        drop_front(log);
        deleted++;
    }
    if (deleted > 0 && log->segs[0].base > log->log_start) {
        rv = set_log_start(log, log->segs[0].base, errmsg);
    }
    return rv == 0 ? deleted : rv;
}
