/* index.c: sparse offset and time indexes, in memory and in files. */
#include "storage_int.h"

#include "alloc.h"
#include "buf.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Index files are capped so a damaged size can never drive an allocation. */
#define MAX_INDEX_FILE (64u * 1024 * 1024)

void rf__index_free(struct rf__index *idx)
{
    rf_free(idx->off);
    rf_free(idx->tts);
    rf_free(idx->trel);
    memset(idx, 0, sizeof(*idx));
}

void rf__index_reset(struct rf__index *idx)
{
    idx->noff = 0;
    idx->ntime = 0;
}

void rf__index_add_offset(struct rf__index *idx, uint32_t rel, uint32_t pos)
{
    if (idx->noff == idx->capoff) {
        idx->capoff = idx->capoff ? idx->capoff * 2 : 16;
        idx->off = rf_realloc(idx->off, idx->capoff * 2 * sizeof(uint32_t));
    }
    idx->off[idx->noff * 2] = rel;
    idx->off[idx->noff * 2 + 1] = pos;
    idx->noff++;
}

void rf__index_add_time(struct rf__index *idx, int64_t ts, uint32_t rel)
{
    if (idx->ntime == idx->captime) {
        idx->captime = idx->captime ? idx->captime * 2 : 16;
        idx->tts = rf_realloc(idx->tts, idx->captime * sizeof(int64_t));
        idx->trel = rf_realloc(idx->trel, idx->captime * sizeof(uint32_t));
    }
    idx->tts[idx->ntime] = ts;
    idx->trel[idx->ntime] = rel;
    idx->ntime++;
}

uint64_t rf__index_lookup(const struct rf__index *idx, uint32_t rel)
{
    size_t lo = 0, hi = idx->noff; /* first entry with rel > want */

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (idx->off[mid * 2] <= rel) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo == 0 ? 0 : idx->off[(lo - 1) * 2 + 1];
}

int64_t rf__index_time_lookup(const struct rf__index *idx, int64_t want)
{
    size_t lo = 0, hi = idx->ntime; /* first entry with ts >= want */

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (idx->tts[mid] < want) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo == 0 ? -1 : (int64_t)idx->trel[lo - 1];
}

/* Write buf as path. With keep_fd the file is left unsynced and its fd
 * returned in *keep_fd (the caller hands it to a flush job); otherwise it
 * is fdatasync'd and closed. */
static int write_file(const char *path, const uint8_t *buf, size_t len,
                      int *keep_fd, char *errmsg)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int rv = 0;

    if (fd < 0) {
        rf_errmsg_set(errmsg, "open %s: %s", path, strerror(errno));
        return RF_EIO;
    }
    rv = rf__pwrite_all(fd, buf, len, 0);
    if (rv == 0 && keep_fd == NULL && fdatasync(fd) != 0) {
        rv = RF_EIO;
    }
    if (rv != 0) {
        rf_errmsg_set(errmsg, "write %s: %s", path, rf_strerror(rv));
    }
    if (rv == 0 && keep_fd != NULL) {
        *keep_fd = fd;
    } else {
        close(fd);
    }
    return rv;
}

int rf__index_write(const char *dir, int64_t base, const struct rf__index *idx,
                    int keep_fds[2], char *errmsg)
{
    size_t olen = idx->noff * RF__INDEX_ENTRY;
    size_t tlen = idx->ntime * RF__TIMEINDEX_ENTRY;
    uint8_t *buf = rf_malloc(olen > tlen ? olen + 1 : tlen + 1);
    char *path;
    int rv;

    for (size_t i = 0; i < idx->noff; i++) {
        rf_be32_store(buf + i * 8, idx->off[i * 2]);
        rf_be32_store(buf + i * 8 + 4, idx->off[i * 2 + 1]);
    }
    path = rf__segment_path(dir, base, "index");
    rv = write_file(path, buf, olen, keep_fds ? &keep_fds[0] : NULL, errmsg);
    rf_free(path);
    for (size_t i = 0; rv == 0 && i < idx->ntime; i++) {
        rf_be64_store(buf + i * 12, (uint64_t)idx->tts[i]);
        rf_be32_store(buf + i * 12 + 8, idx->trel[i]);
    }
    if (rv == 0) {
        path = rf__segment_path(dir, base, "timeindex");
        rv = write_file(path, buf, tlen, keep_fds ? &keep_fds[1] : NULL,
                        errmsg);
        rf_free(path);
        if (rv != 0 && keep_fds != NULL) {
            close(keep_fds[0]);
        }
    }
    rf_free(buf);
    return rv;
}

/* Read a whole index file (bounded by MAX_INDEX_FILE) into *buf (owned). */
static int read_index_file(const char *dir, int64_t base, const char *ext,
                           size_t entry, uint8_t **buf, size_t *len)
{
    char *path = rf__segment_path(dir, base, ext);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    int rv = 0;

    rf_free(path);
    *buf = NULL;
    if (fd < 0) {
        return errno == ENOENT ? RF_ENOENT : RF_EIO;
    }
    if (fstat(fd, &st) != 0 || st.st_size < 0 ||
        (uint64_t)st.st_size > MAX_INDEX_FILE ||
        (uint64_t)st.st_size % entry != 0) {
        close(fd);
        return RF_ECORRUPT;
    }
    *len = (size_t)st.st_size;
    *buf = rf_malloc(*len + 1);
    rv = rf__pread_all(fd, *buf, *len, 0);
    close(fd);
    if (rv != 0) {
        rf_free(*buf);
        *buf = NULL;
    }
    return rv;
}

static int load_offsets(const uint8_t *buf, size_t len, uint64_t log_size,
                        struct rf__index *idx)
{
    for (size_t i = 0; i < len / RF__INDEX_ENTRY; i++) {
        uint32_t rel = rf_be32_load(buf + i * 8);
        uint32_t pos = rf_be32_load(buf + i * 8 + 4);
        if (pos == 0 || pos >= log_size ||
            (idx->noff > 0 && (rel <= idx->off[(idx->noff - 1) * 2] ||
                               pos <= idx->off[(idx->noff - 1) * 2 + 1]))) {
            return RF_ECORRUPT;
        }
        rf__index_add_offset(idx, rel, pos);
    }
    return 0;
}

static int load_times(const uint8_t *buf, size_t len, struct rf__index *idx)
{
    for (size_t i = 0; i < len / RF__TIMEINDEX_ENTRY; i++) {
        int64_t ts = (int64_t)rf_be64_load(buf + i * 12);
        uint32_t rel = rf_be32_load(buf + i * 12 + 8);
        if (idx->ntime > 0 && (ts <= idx->tts[idx->ntime - 1] ||
                               rel < idx->trel[idx->ntime - 1])) {
            return RF_ECORRUPT;
        }
        rf__index_add_time(idx, ts, rel);
    }
    return 0;
}

int rf__index_load(const char *dir, int64_t base, uint64_t log_size,
                   struct rf__index *idx)
{
    uint8_t *buf;
    size_t len = 0;
    int rv;

    rf__index_reset(idx);
    rv = read_index_file(dir, base, "index", RF__INDEX_ENTRY, &buf, &len);
    if (rv == 0) {
        rv = load_offsets(buf, len, log_size, idx);
        rf_free(buf);
    }
    if (rv == 0) {
        rv = read_index_file(dir, base, "timeindex", RF__TIMEINDEX_ENTRY, &buf,
                             &len);
    }
    if (rv == 0) {
        rv = load_times(buf, len, idx);
        rf_free(buf);
    }
    if (rv != 0) {
        rf__index_reset(idx);
    }
    return rv;
}

static int open_index(const char *dir, int64_t base, const char *ext,
                      size_t entry, size_t *n)
{
    char *path = rf__segment_path(dir, base, ext);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;

    rf_free(path);
    if (fd >= 0 && (fstat(fd, &st) != 0 || st.st_size < 0)) {
        close(fd);
        return -1;
    }
    if (fd >= 0) {
        *n = (size_t)st.st_size / entry;
    }
    return fd;
}

uint64_t rf__index_file_lookup(const char *dir, int64_t base, uint32_t rel,
                               uint64_t log_size)
{
    size_t n = 0, lo = 0, hi;
    uint8_t e[RF__INDEX_ENTRY];
    uint64_t pos = 0;
    int fd = open_index(dir, base, "index", RF__INDEX_ENTRY, &n);

    if (fd < 0) {
        return 0;
    }
    hi = n;
    while (lo < hi) { /* first entry with rel > want */
        size_t mid = lo + (hi - lo) / 2;
        if (rf__pread_all(fd, e, sizeof(e), mid * RF__INDEX_ENTRY) != 0) {
            lo = 0;
            break;
        }
        if (rf_be32_load(e) <= rel) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    if (lo > 0 &&
        rf__pread_all(fd, e, sizeof(e), (lo - 1) * RF__INDEX_ENTRY) == 0) {
        pos = rf_be32_load(e + 4);
    }
    close(fd);
    return pos < log_size ? pos : 0; /* the caller's walk verifies it */
}

int64_t rf__index_file_time_lookup(const char *dir, int64_t base,
                                   int64_t want)
{
    size_t n = 0, lo = 0, hi;
    uint8_t e[RF__TIMEINDEX_ENTRY];
    int64_t rel = -1;
    int fd = open_index(dir, base, "timeindex", RF__TIMEINDEX_ENTRY, &n);

    if (fd < 0) {
        return -1;
    }
    hi = n;
    while (lo < hi) { /* first entry with ts >= want */
        size_t mid = lo + (hi - lo) / 2;
        if (rf__pread_all(fd, e, sizeof(e), mid * RF__TIMEINDEX_ENTRY) != 0) {
            lo = 0;
            break;
        }
        if ((int64_t)rf_be64_load(e) < want) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    if (lo > 0 &&
        rf__pread_all(fd, e, sizeof(e), (lo - 1) * RF__TIMEINDEX_ENTRY) == 0) {
        rel = rf_be32_load(e + 8);
    }
    close(fd);
    return rel;
}

void rf__index_unlink(const char *dir, int64_t base)
{
    static const char *const exts[] = {"index", "timeindex"};

    for (size_t i = 0; i < 2; i++) {
        char *path = rf__segment_path(dir, base, exts[i]);
        unlink(path);
        rf_free(path);
    }
}
