/* log.c: the partition log: open/close, append, read, timestamp lookup. */
#include "storage_int.h"

#include "alloc.h"
#include "batch.h"
#include "checkpoint.h"
#include "partition_log.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_SEGMENT_BYTES ((uint64_t)INT32_MAX)

static void seal_active_index(struct rf_log *log,
                              const struct rf__segment *seg);

void rf_log_config_default(struct rf_log_config *conf)
{
    conf->segment_bytes = 1024 * 1024 * 1024;
    conf->segment_ms = 7LL * 24 * 3600 * 1000;
    conf->index_interval_bytes = 4096;
    conf->retention_ms = 7LL * 24 * 3600 * 1000;
    conf->retention_bytes = -1;
    conf->max_batch_bytes = RF_LOG_MAX_BATCH_BYTES;
}

static int check_config(const struct rf_log_config *conf, const char *topic,
                        int32_t partition, char *errmsg)
{
    if (conf->segment_bytes < 1024 || conf->segment_bytes > MAX_SEGMENT_BYTES ||
        conf->index_interval_bytes == 0 ||
        conf->max_batch_bytes < RF_BATCH_HEADER_SIZE) {
        rf_errmsg_set(errmsg, "invalid log config");
        return RF_EINVAL;
    }
    /* The topic name becomes a path component. */
    if (partition < 0 || topic[0] == '\0' || strlen(topic) > 249 ||
        strchr(topic, '/') != NULL || strcmp(topic, ".") == 0 ||
        strcmp(topic, "..") == 0) {
        rf_errmsg_set(errmsg, "invalid topic or partition");
        return RF_EINVAL;
    }
    return 0;
}

static int make_dir(const char *base_dir, const char *dir, char *errmsg)
{
    if (mkdir(dir, 0755) == 0) {
        return rf_checkpoint_sync_dir(base_dir, errmsg);
    }
    if (errno == EEXIST) {
        return 0;
    }
    rf_errmsg_set(errmsg, "mkdir %s: %s", dir, strerror(errno));
    return RF_EIO;
}

static void log_free(struct rf_log *log)
{
    struct rf__waiter *w;

    while ((w = log->wait_head) != NULL) {
        log->wait_head = w->next;
        w->cb(w->data, RF_ECANCELED, log->durable);
        rf_free(w);
    }
    for (int i = 0; i < log->npending; i++) {
        close(log->pending[i]);
    }
    if (log->inflight != NULL) {
        log->inflight->cb = NULL; /* the job frees itself on the loop */
    }
    if (log->fd >= 0) {
        close(log->fd);
    }
    rf__index_free(&log->idx);
    rf_free(log->segs);
    rf_free(log->epochs);
    rf_free(log->state_msg);
    rf_free(log->name);
    rf_free(log->dir);
    rf_free(log);
}

int rf_log_open(const char *base_dir, const char *topic, int32_t partition,
                const struct rf_log_config *conf, struct rf_flusher *fl,
                struct rf_log **out, char *errmsg)
{
    struct rf_log *log;
    int rv = check_config(conf, topic, partition, errmsg);

    if (rv != 0) {
        return rv;
    }
    log = rf_calloc(1, sizeof(*log));
    log->fd = -1;
    log->conf = *conf;
    log->fl = fl;
    log->name = rf_asprintf("%s-%d", topic, partition);
    log->dir = rf_asprintf("%s/%s", base_dir, log->name);
    rv = make_dir(base_dir, log->dir, errmsg);
    if (rv == 0) {
        rv = rf__log_recover(log, errmsg);
    }
    if (rv != 0) {
        rf_errmsg_prefix(errmsg, "open partition %s", log->name);
        log_free(log);
        return rv;
    }
    *out = log;
    return 0;
}

static int write_marker(struct rf_log *log)
{
    char errmsg[RF_ERRMSG_SIZE];
    char *path = rf_asprintf("%s/%s", log->dir, RF__CLEAN_MARKER);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int rv = fd >= 0 ? 0 : RF_EIO;

    if (fd >= 0) {
        close(fd);
        rv = rf_checkpoint_sync_dir(log->dir, errmsg);
    }
    rf_free(path);
    return rv;
}

void rf_log_close(struct rf_log *log)
{
    char errmsg[RF_ERRMSG_SIZE];
    struct rf__segment *seg;
    bool ok;

    if (log == NULL) {
        return;
    }
    seg = &log->segs[log->nsegs - 1];
    ok = log->state == 0;
    for (int i = 0; ok && i < log->npending; i++) {
        ok = (log->pending_dir[i] ? fsync(log->pending[i])
                                  : fdatasync(log->pending[i])) == 0;
    }
    ok = ok && fdatasync(log->fd) == 0;
    if (ok) {
        seal_active_index(log, seg); /* the log is freed below */
        ok = rf__index_write(log->dir, seg->base, &log->idx, NULL, errmsg) == 0;
    }
    if (ok && write_marker(log) == 0) {
        RF_INFO("closed partition log tp=%s log_end=%" PRId64, log->name,
                log->leo);
    } else {
        RF_WARN("unclean close tp=%s: next open will scan", log->name);
    }
    log_free(log);
}

int rf_log_state(const struct rf_log *log, const char **msg)
{
    *msg = log->state_msg != NULL ? log->state_msg : "ok";
    return log->state;
}

static int refuse(const struct rf_log *log, char *errmsg)
{
    if (log->state != 0 && errmsg != NULL) {
        rf_errmsg_set(errmsg, "%s", log->state_msg);
    }
    return log->state;
}

/* Add the closing time entry (segment max, end) so an older segment's
 * maxTimestamp comes back from its time index at the next open. */
static void seal_active_index(struct rf_log *log, const struct rf__segment *seg)
{
    struct rf__index *idx = &log->idx;

    if (seg->max_ts >= 0 &&
        (idx->ntime == 0 || seg->max_ts > idx->tts[idx->ntime - 1])) {
        rf__index_add_time(idx, seg->max_ts, (uint32_t)(log->leo - seg->base));
    }
}

/* Seal the active segment (indexes to files, fd handed to the next flush)
 * and start a new one at the log end offset. */
static int roll(struct rf_log *log, char *errmsg)
{
    struct rf__segment *seg = &log->segs[log->nsegs - 1];
    char *path;
    int fd, dfd, ifds[2];

    if (log->npending + 4 > RF_FLUSH_JOB_MAX_FDS - 1) {
        rf__log_flush_pending_sync(log); /* rare: many rolls, no flush */
    }
    seal_active_index(log, seg);
    /* Index files are synced by the next flush job, not on the loop. */
    if (rf__index_write(log->dir, seg->base, &log->idx, ifds, errmsg) != 0) {
        return RF_EIO;
    }
    path = rf__segment_path(log->dir, log->leo, "log");
    fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    dfd = open(log->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || dfd < 0) {
        rf_errmsg_set(errmsg, "roll: open %s: %s", path, strerror(errno));
        rf_free(path);
        if (fd >= 0) {
            close(fd);
        }
        if (dfd >= 0) {
            close(dfd);
        }
        close(ifds[0]);
        close(ifds[1]);
        return RF_EIO;
    }
    rf_free(path);
    log->pending[log->npending] = ifds[0];
    log->pending_dir[log->npending++] = 0;
    log->pending[log->npending] = ifds[1];
    log->pending_dir[log->npending++] = 0;
    log->pending[log->npending] = log->fd;
    log->pending_dir[log->npending++] = 0;
    log->pending[log->npending] = dfd; /* makes the new name durable */
    log->pending_dir[log->npending++] = 1;
    log->fd = fd;
    rf__index_reset(&log->idx);
    log->since_index = 0;
    rf__log_push_segment(log, log->leo);
    RF_INFO("rolled segment tp=%s base=%" PRId64, log->name, log->leo);
    return 0;
}

/* Roll by size, by offset range, or by age. Age is measured as Kafka does:
 * the incoming batch's timestamp (ts) minus the segment's first timestamp,
 * not the wall clock, so a producer sending old CreateTime timestamps does
 * not get a segment per batch. */
static bool should_roll(const struct rf_log *log, size_t len, int64_t ts)
{
    const struct rf__segment *seg = &log->segs[log->nsegs - 1];

    if (seg->size == 0) {
        return false;
    }
    if (seg->size + len > log->conf.segment_bytes ||
        log->leo - seg->base > (int64_t)UINT32_MAX - (1 << 24)) {
        return true;
    }
    return log->conf.segment_ms >= 0 && seg->first_ts >= 0 && ts >= 0 &&
           ts - seg->first_ts >= log->conf.segment_ms;
}

/* Write whole batches (already rewritten) at the end of the active
 * segment, with index entries; undone on failure. */
static int write_batches(struct rf_log *log, const uint8_t *p, size_t len,
                         const struct rf_batch_info *first, char *errmsg)
{
    struct rf__segment *seg = &log->segs[log->nsegs - 1];
    size_t noff = log->idx.noff, ntime = log->idx.ntime;
    int rv;

    if (log->since_index >= log->conf.index_interval_bytes && seg->size > 0) {
        uint32_t rel = (uint32_t)(first->base_offset - seg->base);
        rf__index_add_offset(&log->idx, rel, (uint32_t)seg->size);
        if (seg->max_ts >= 0 && (log->idx.ntime == 0 ||
                                 seg->max_ts > log->idx.tts[log->idx.ntime - 1])) {
            rf__index_add_time(&log->idx, seg->max_ts, rel);
        }
        log->since_index = 0;
    }
    rv = rf__pwrite_all(log->fd, p, len, seg->size);
    if (rv != 0) {
        rf_errmsg_set(errmsg, "append to %s segment %" PRId64 ": %s",
                      log->name, seg->base, strerror(errno));
        log->idx.noff = noff;
        log->idx.ntime = ntime;
        if (ftruncate(log->fd, (off_t)seg->size) != 0) {
            rf__log_fail(log, RF_EIO, "cannot undo a failed append: %s",
                         strerror(errno));
        }
        return rv;
    }
    seg->size += len;
    log->since_index += len;
    return 0;
}

static void account_batch(struct rf_log *log, const struct rf_batch_info *info)
{
    struct rf__segment *seg = &log->segs[log->nsegs - 1];

    if (seg->first_ts < 0) {
        seg->first_ts = info->max_timestamp;
    }
    if (info->max_timestamp > seg->max_ts) {
        seg->max_ts = info->max_timestamp;
    }
    log->leo = info->base_offset + info->last_offset_delta + 1;
}

int rf_log_append(struct rf_log *log, uint8_t *batch, size_t len,
                  const struct rf_log_append_opts *opts,
                  struct rf_log_append_result *res, char *errmsg)
{
    struct rf_batch_info info;
    int rv = refuse(log, errmsg);

    if (rv != 0) {
        return rv;
    }
    if (rf_batch_header(batch, len, &info) != 0 || info.size != len) {
        rf_errmsg_set(errmsg, "append to %s: not one whole batch", log->name);
        return RF_EINVAL;
    }
    if (len > log->conf.max_batch_bytes) {
        rf_errmsg_set(errmsg, "append to %s: batch of %zu bytes over %u",
                      log->name, len, log->conf.max_batch_bytes);
        return RF_ETOOBIG;
    }
    if (should_roll(log, len,
                    opts->log_append_time ? opts->now_ms : info.max_timestamp) &&
        (rv = roll(log, errmsg)) != 0) {
        return rv;
    }
    rf_batch_set_base_offset(batch, log->leo);
    rf_batch_set_leader_epoch(batch, opts->leader_epoch);
    info.base_offset = log->leo;
    res->log_append_time = -1;
    if (opts->log_append_time) {
        rf_batch_set_log_append_time(batch, len, opts->now_ms);
        info.max_timestamp = opts->now_ms;
        res->log_append_time = opts->now_ms;
    }
    rv = write_batches(log, batch, len, &info, errmsg);
    if (rv != 0) {
        return rv;
    }
    account_batch(log, &info);
    rf__log_note_epoch(log, opts->leader_epoch, info.base_offset);
    res->base_offset = info.base_offset;
    res->last_offset = log->leo - 1;
    res->log_start_offset = log->log_start;
    return 0;
}

/* Check a replicated chunk: whole, contiguous batches from the log end. */
static int check_replica_chunk(struct rf_log *log, const uint8_t *p,
                               size_t len, char *errmsg)
{
    struct rf_batch_info info;
    int64_t expect = log->leo;
    size_t off = 0;

    while (off < len) {
        if (rf_batch_header(p + off, len - off, &info) != 0 ||
            info.size > len - off || info.size > log->conf.max_batch_bytes ||
            rf_batch_check_crc(p + off, info.size) != 0) {
            rf_errmsg_set(errmsg, "replica append to %s: bad batch at %zu",
                          log->name, off);
            return RF_EINVAL;
        }
        if (info.base_offset != expect) {
            rf_errmsg_set(errmsg, "replica append to %s: offset %" PRId64
                          " where %" PRId64 " expected",
                          log->name, info.base_offset, expect);
            return RF_EOFFSET;
        }
        expect = info.base_offset + info.last_offset_delta + 1;
        off += info.size;
    }
    return 0;
}

int rf_log_append_replica(struct rf_log *log, const uint8_t *batches,
                          size_t len, char *errmsg)
{
    struct rf_batch_info info;
    size_t off = 0;
    int rv = refuse(log, errmsg);

    if (rv == 0) {
        rv = check_replica_chunk(log, batches, len, errmsg);
    }
    /* Batch by batch, so rolls and index entries fall on batch edges. */
    while (rv == 0 && off < len) {
        rf_batch_header(batches + off, len - off, &info);
        if (should_roll(log, info.size, info.max_timestamp)) {
            rv = roll(log, errmsg);
        }
        if (rv == 0) {
            rv = write_batches(log, batches + off, info.size, &info, errmsg);
        }
        if (rv == 0) {
            account_batch(log, &info);
            rf__log_note_epoch(log, info.leader_epoch, info.base_offset);
            off += info.size;
        }
    }
    return rv;
}

/* Index the segment holding offset: the last one with base <= offset. */
static size_t find_segment(const struct rf_log *log, int64_t offset)
{
    size_t lo = 0, hi = log->nsegs; /* first segment with base > offset */

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (log->segs[mid].base <= offset) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo == 0 ? 0 : lo - 1;
}

/* A segment opened for reading: the active fd, or a fresh read-only one. */
struct seg_reader {
    int fd;
    bool owned;
    uint64_t size;
    int64_t base;
    uint32_t max_batch; /* no batch length above this is trusted */
};

static int reader_open(struct rf_log *log, size_t si, struct seg_reader *r,
                       char *errmsg)
{
    r->size = log->segs[si].size;
    r->base = log->segs[si].base;
    r->max_batch = log->conf.max_batch_bytes;
    r->owned = si + 1 < log->nsegs;
    r->fd = log->fd;
    if (r->owned) {
        char *path = rf__segment_path(log->dir, r->base, "log");
        r->fd = open(path, O_RDONLY | O_CLOEXEC);
        if (r->fd < 0) {
            rf_errmsg_set(errmsg, "open %s: %s", path, strerror(errno));
            rf_free(path);
            return RF_EIO;
        }
        rf_free(path);
    }
    return 0;
}

static void reader_close(struct seg_reader *r)
{
    if (r->owned && r->fd >= 0) {
        close(r->fd);
    }
}

/* Header of the batch at pos, bounded by the segment: 0, or why not. */
static const char *read_header(const struct seg_reader *r, uint64_t pos,
                               struct rf_batch_info *info)
{
    uint8_t hdr[RF_BATCH_HEADER_SIZE];

    if (r->size - pos < RF_BATCH_HEADER_SIZE ||
        rf__pread_all(r->fd, hdr, sizeof(hdr), pos) != 0) {
        return "batch header past segment end";
    }
    if (rf_batch_header(hdr, sizeof(hdr), info) != 0) {
        return "bad batch header";
    }
    if (info->size > r->size - pos || info->size > r->max_batch ||
        info->base_offset < r->base ||
        info->last_offset_delta > INT64_MAX - info->base_offset - 1) {
        return "batch length or offset out of bounds";
    }
    return NULL;
}

/* Walk from pos to the first batch whose last offset >= offset. Returns 0
 * (*pos updated), RF_ENOENT (not in this segment) or RF_ECORRUPT. */
static int walk_to(const struct seg_reader *r, uint64_t *pos, int64_t offset,
                   struct rf_batch_info *info, const char **why)
{
    uint64_t p = *pos;

    while (p < r->size) {
        *why = read_header(r, p, info);
        if (*why != NULL) {
            return RF_ECORRUPT;
        }
        if (info->base_offset + info->last_offset_delta >= offset) {
            *pos = p;
            return 0;
        }
        p += info->size;
    }
    return RF_ENOENT;
}

static uint64_t index_position(struct rf_log *log, size_t si, int64_t offset)
{
    const struct rf__segment *seg = &log->segs[si];
    int64_t rel = offset - seg->base;

    if (rel < 0) {
        return 0;
    }
    if (rel > (int64_t)UINT32_MAX) {
        rel = UINT32_MAX;
    }
    if (si + 1 == log->nsegs) {
        return rf__index_lookup(&log->idx, (uint32_t)rel);
    }
    return rf__index_file_lookup(log->dir, seg->base, (uint32_t)rel,
                                 seg->size);
}

/* Locate offset in segment si: the index gives a start, and a walk that
 * fails from there is retried from 0 (the index may be stale). */
static int locate(struct rf_log *log, size_t si, const struct seg_reader *r,
                  int64_t offset, uint64_t *pos, struct rf_batch_info *info)
{
    const char *why = NULL;
    int rv;

    *pos = index_position(log, si, offset);
    rv = walk_to(r, pos, offset, info, &why);
    if (rv == RF_ECORRUPT && *pos != 0) {
        RF_WARN("stale index entry tp=%s segment=%" PRId64 ", walking from 0",
                log->name, r->base);
        *pos = 0;
        rv = walk_to(r, pos, offset, info, &why);
    }
    if (rv == RF_ECORRUPT) {
        rf__log_fail(log, RF_ECORRUPT,
                     "segment %020" PRId64 ".log: %s near position %" PRIu64,
                     r->base, why, *pos);
    }
    return rv;
}

/* Copy whole batches from pos into out within budget (first always). */
static int collect(struct rf_log *log, const struct seg_reader *r,
                   uint64_t pos, size_t max_bytes, struct rf_wr *out)
{
    struct rf_batch_info info;
    size_t taken = 0;
    int64_t expect = -1;
    const char *why = NULL;

    while (pos < r->size) {
        why = read_header(r, pos, &info);
        if (why == NULL && expect >= 0 && info.base_offset != expect) {
            why = "batch base offset out of sequence";
        }
        if (why != NULL) {
            break;
        }
        if (taken > 0 && taken + info.size > max_bytes) {
            return 0;
        }
        uint8_t *dst = rf_wr_reserve(out, info.size);
        if (dst == NULL || rf__pread_all(r->fd, dst, info.size, pos) != 0) {
            return RF_EIO;
        }
        if (rf_batch_check_crc(dst, info.size) != 0) {
            why = "CRC32C mismatch";
            break;
        }
        rf_wr_advance(out, info.size);
        taken += info.size;
        pos += info.size;
        expect = info.base_offset + info.last_offset_delta + 1;
    }
    if (why != NULL) {
        rf__log_fail(log, RF_ECORRUPT,
                     "segment %020" PRId64 ".log: %s at position %" PRIu64,
                     r->base, why, pos);
        return RF_ECORRUPT;
    }
    return 0;
}

int rf_log_read(struct rf_log *log, int64_t offset, size_t max_bytes,
                struct rf_wr *out, char *errmsg)
{
    struct rf_batch_info info;
    struct seg_reader r;
    uint64_t pos;
    size_t start_len = out->len;
    int rv = refuse(log, errmsg);

    if (rv != 0) {
        return rv;
    }
    if (offset < log->log_start || offset > log->leo) {
        rf_errmsg_set(errmsg, "read %s: offset %" PRId64 " outside [%" PRId64
                      ", %" PRId64 "]", log->name, offset, log->log_start,
                      log->leo);
        return RF_EOFFSET;
    }
    for (size_t si = find_segment(log, offset); si < log->nsegs; si++) {
        rv = reader_open(log, si, &r, errmsg);
        if (rv != 0) {
            return rv;
        }
        rv = locate(log, si, &r, offset, &pos, &info);
        if (rv == 0) {
            rv = collect(log, &r, pos, max_bytes, out);
        }
        reader_close(&r);
        if (rv != RF_ENOENT) {
            break;
        }
        rv = 0;
    }
    if (rv != 0) {
        out->len = start_len; /* nothing half-read leaks out */
        refuse(log, errmsg);
    }
    return rv;
}

/* Start position for a timestamp search in segment si. */
static uint64_t time_position(struct rf_log *log, size_t si, int64_t ts)
{
    const struct rf__segment *seg = &log->segs[si];
    int64_t rel;

    if (si + 1 == log->nsegs) {
        rel = rf__index_time_lookup(&log->idx, ts);
    } else {
        rel = rf__index_file_time_lookup(log->dir, seg->base, ts);
    }
    return rel < 0 ? 0 : index_position(log, si, seg->base + rel);
}

/* In segment si: the first batch at/after log start with maxTimestamp >=
 * ts, refined to the record for uncompressed batches. */
static int time_in_segment(struct rf_log *log, size_t si,
                           const struct seg_reader *r, int64_t ts,
                           int64_t *offset, int64_t *timestamp)
{
    struct rf_batch_info info;
    uint64_t pos = time_position(log, si, ts);
    const char *why = NULL;
    int rv;

    for (;;) {
        rv = walk_to(r, &pos, log->log_start, &info, &why);
        if (rv != 0 || info.max_timestamp >= ts) {
            break;
        }
        pos += info.size;
    }
    if (rv == RF_ECORRUPT) {
        rf__log_fail(log, RF_ECORRUPT,
                     "segment %020" PRId64 ".log: %s near position %" PRIu64,
                     r->base, why, pos);
        return rv;
    }
    if (rv != 0) {
        return rv;
    }
    *offset = info.base_offset;
    *timestamp = info.max_timestamp;
    if (info.codec == 0 && info.size <= log->conf.max_batch_bytes) {
        uint8_t *buf = rf_malloc(info.size);
        int64_t o, t;
        if (rf__pread_all(r->fd, buf, info.size, pos) == 0 &&
            rf_batch_find_timestamp(buf, info.size, ts, &o, &t) == 0) {
            *offset = o;
            *timestamp = t;
        }
        rf_free(buf);
    }
    if (*offset < log->log_start) {
        *offset = log->log_start;
    }
    return 0;
}

int rf_log_offset_for_time(struct rf_log *log, int64_t ts, int64_t *offset,
                           int64_t *timestamp, char *errmsg)
{
    struct seg_reader r;
    int rv = refuse(log, errmsg);

    for (size_t si = 0; rv == 0 && si < log->nsegs; si++) {
        if (log->segs[si].max_ts < ts || log->segs[si].size == 0 ||
            (si + 1 < log->nsegs && log->segs[si + 1].base <= log->log_start)) {
            continue;
        }
        rv = reader_open(log, si, &r, errmsg);
        if (rv != 0) {
            break;
        }
        rv = time_in_segment(log, si, &r, ts, offset, timestamp);
        reader_close(&r);
        if (rv == 0) {
            return 0;
        }
        if (rv == RF_ENOENT) {
            rv = 0;
        }
    }
    if (rv != 0) {
        refuse(log, errmsg);
        return rv;
    }
    return RF_ENOENT;
}

void rf__log_push_segment(struct rf_log *log, int64_t base)
{
    if (log->nsegs == log->capsegs) {
        log->capsegs = log->capsegs ? log->capsegs * 2 : 4;
        log->segs = rf_realloc(log->segs, log->capsegs * sizeof(*log->segs));
    }
    log->segs[log->nsegs].base = base;
    log->segs[log->nsegs].size = 0;
    log->segs[log->nsegs].max_ts = -1;
    log->segs[log->nsegs].first_ts = -1;
    log->nsegs++;
}

int64_t rf_log_start_offset(const struct rf_log *log)
{
    return log->log_start;
}

int64_t rf_log_end_offset(const struct rf_log *log)
{
    return log->leo;
}

int64_t rf_log_durable_offset(const struct rf_log *log)
{
    return log->durable;
}

int64_t rf_log_high_watermark(const struct rf_log *log)
{
    return log->hwm;
}

size_t rf_log_segment_count(const struct rf_log *log)
{
    return log->nsegs;
}

const char *rf_log_dir(const struct rf_log *log)
{
    return log->dir;
}

int rf__log_write_single(struct rf_log *log, const char *file, int64_t v,
                         char *errmsg)
{
    char *path = rf_asprintf("%s/%s", log->dir, file);
    int rv = rf_checkpoint_write(path, 1, &v, 1, errmsg);

    rf_free(path);
    return rv;
}

int rf_log_checkpoint_high_watermark(struct rf_log *log, int64_t hwm,
                                     char *errmsg)
{
    int rv;

    if (hwm < log->log_start || hwm > log->leo) {
        rf_errmsg_set(errmsg, "high watermark %" PRId64 " outside the log",
                      hwm);
        return RF_ERANGE;
    }
    if (hwm == log->hwm && log->hwm_saved) {
        return 0; /* unchanged: no write, no fsync */
    }
    rv = rf__log_write_single(log, RF__HWM_FILE, hwm, errmsg);
    if (rv == 0) {
        log->hwm = hwm;
        log->hwm_saved = true;
    }
    return rv;
}
