/* segment.c: segment files: naming, positional I/O and the batch walk. */
#include "storage_int.h"

#include "alloc.h"
#include "batch.h"

#include <errno.h>
#include <inttypes.h>
#include <unistd.h>

char *rf__segment_path(const char *dir, int64_t base, const char *ext)
{
    return rf_asprintf("%s/%020" PRId64 ".%s", dir, base, ext);
}

int rf__pread_all(int fd, void *buf, size_t n, uint64_t pos)
{
    size_t off = 0;

    while (off < n) {
        ssize_t got = pread(fd, (uint8_t *)buf + off, n - off,
                            (off_t)(pos + off));
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got < 0) {
            return RF_EIO;
        }
        if (got == 0) {
            return RF_ETRUNC;
        }
        off += (size_t)got;
    }
    return 0;
}

int rf__pwrite_all(int fd, const void *buf, size_t n, uint64_t pos)
{
    size_t off = 0;

    while (off < n) {
        ssize_t put = pwrite(fd, (const uint8_t *)buf + off, n - off,
                             (off_t)(pos + off));
        if (put < 0 && errno == EINTR) {
            continue;
        }
        if (put <= 0) {
            return errno == ENOSPC ? RF_ENOSPC : RF_EIO;
        }
        off += (size_t)put;
    }
    return 0;
}

/* Scanner state: a reused buffer for whole batches in full mode. */
struct scanner {
    int fd;
    uint64_t file_size;
    bool full;
    uint32_t max_batch;
    uint8_t *buf;
    size_t cap;
};

/* Read and check the batch at pos. Returns NULL and fills info, or why. */
static const char *check_batch(struct scanner *sc, uint64_t pos,
                               int64_t expect, struct rf_batch_info *info)
{
    uint8_t hdr[RF_BATCH_HEADER_SIZE];
    uint64_t left = sc->file_size - pos;

    if (left < RF_BATCH_HEADER_SIZE) {
        return "torn batch header";
    }
    if (rf__pread_all(sc->fd, hdr, sizeof(hdr), pos) != 0) {
        return "read error";
    }
    if (rf_batch_header(hdr, sizeof(hdr), info) != 0) {
        return "bad batch header (magic, length or offset delta)";
    }
    if (info->size > sc->max_batch) {
        return "batch length over the limit";
    }
    if (info->size > left) {
        return "torn batch (length past end of file)";
    }
    if (info->base_offset != expect) {
        return "batch base offset out of sequence";
    }
    if (info->last_offset_delta > INT64_MAX - info->base_offset - 1) {
        return "batch offset overflow";
    }
    if (!sc->full) {
        return NULL;
    }
    if (info->size > sc->cap) {
        sc->cap = info->size;
        sc->buf = rf_realloc(sc->buf, sc->cap);
    }
    if (rf__pread_all(sc->fd, sc->buf, info->size, pos) != 0) {
        return "read error";
    }
    if (rf_batch_check_crc(sc->buf, info->size) != 0) {
        return "CRC32C mismatch";
    }
    return NULL;
}

static void index_batch(struct rf__index *idx, uint64_t *since,
                        uint32_t interval, int64_t *ts_so_far,
                        uint32_t rel, uint64_t pos)
{
    if (pos > 0 && *since >= interval) {
        rf__index_add_offset(idx, rel, (uint32_t)pos);
        if (*ts_so_far >= 0 &&
            (idx->ntime == 0 || *ts_so_far > idx->tts[idx->ntime - 1])) {
            rf__index_add_time(idx, *ts_so_far, rel);
        }
        *since = 0;
    }
}

int rf__segment_scan(int fd, uint64_t file_size, uint64_t from,
                     int64_t expect, bool full, uint32_t max_batch,
                     uint32_t interval, int64_t seg_base,
                     struct rf__index *idx, struct rf__scan *out)
{
    struct scanner sc = {fd, file_size, full, max_batch, NULL, 0};
    struct rf_batch_info info;
    uint64_t pos = from, since = interval; /* index the first batch > 0 */
    int64_t ts_so_far = -1;

    out->max_ts = -1;
    out->first_ts = -1;
    out->why = NULL;
    while (pos < file_size) {
        out->why = check_batch(&sc, pos, expect, &info);
        if (out->why != NULL) {
            break;
        }
        if (info.base_offset - seg_base > (int64_t)UINT32_MAX) {
            out->why = "relative offset over 32 bits";
            break;
        }
        if (idx != NULL) {
            index_batch(idx, &since, interval, &ts_so_far,
                        (uint32_t)(info.base_offset - seg_base), pos);
        }
        if (pos == 0) {
            out->first_ts = info.max_timestamp;
        }
        if (info.max_timestamp > ts_so_far) {
            ts_so_far = info.max_timestamp;
        }
        since += info.size;
        pos += info.size;
        expect = info.base_offset + info.last_offset_delta + 1;
    }
    out->end = pos;
    out->next = expect;
    out->max_ts = ts_so_far;
    rf_free(sc.buf);
    return 0;
}
