/* checkpoint.c: atomic text checkpoints and their bounded parser. */
#include "checkpoint.h"

#include "alloc.h"
#include "err.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_DIGITS 20 /* "-9223372036854775808" */

/* Parse one decimal int64 at buf[*pos..len); stops at the first non-digit. */
static int parse_i64(const char *buf, size_t len, size_t *pos, int64_t *v)
{
    size_t i = *pos, ndig = 0;
    bool neg = false;
    uint64_t acc = 0, limit;

    if (i < len && buf[i] == '-') {
        neg = true;
        i++;
    }
    limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    while (i < len && buf[i] >= '0' && buf[i] <= '9') {
        unsigned d = (unsigned)(buf[i] - '0');
        if (++ndig > MAX_DIGITS || acc > (limit - d) / 10) {
            return RF_EPARSE;
        }
        acc = acc * 10 + d;
        i++;
    }
    if (ndig == 0) {
        return RF_EPARSE;
    }
    *v = neg ? (int64_t)(0 - acc) : (int64_t)acc;
    *pos = i;
    return 0;
}

static int expect_char(const char *buf, size_t len, size_t *pos, char c)
{
    if (*pos >= len || buf[*pos] != c) {
        return RF_EPARSE;
    }
    (*pos)++;
    return 0;
}

/* One line of `width` numbers. */
static int parse_line(const char *buf, size_t len, size_t *pos, int width,
                      int64_t *out)
{
    for (int w = 0; w < width; w++) {
        if ((w > 0 && expect_char(buf, len, pos, ' ') != 0) ||
            parse_i64(buf, len, pos, &out[w]) != 0) {
            return RF_EPARSE;
        }
    }
    return expect_char(buf, len, pos, '\n');
}

int rf_checkpoint_parse(const char *buf, size_t len, int width,
                        size_t max_entries, int64_t **vals, size_t *n)
{
    size_t pos = 0;
    int64_t version, count;
    int64_t *out = NULL;

    *vals = NULL;
    *n = 0;
    if (width < 1 || width > RF_CHECKPOINT_MAX_WIDTH) {
        return RF_EINVAL;
    }
    if (len > RF_CHECKPOINT_MAX_BYTES) {
        return RF_ETOOBIG;
    }
    if (parse_line(buf, len, &pos, 1, &version) != 0 ||
        version != RF_CHECKPOINT_VERSION ||
        parse_line(buf, len, &pos, 1, &count) != 0 || count < 0) {
        return RF_EPARSE;
    }
    /* Bound the count by the limit and by the bytes left (>= 2 per line)
     * before allocating. */
    if ((uint64_t)count > max_entries) {
        return RF_ETOOBIG;
    }
    if ((uint64_t)count > (len - pos) / 2) {
        return RF_EPARSE;
    }
    if (count > 0) {
        out = rf_calloc((size_t)count * (size_t)width, sizeof(*out));
    }
    for (size_t i = 0; i < (size_t)count; i++) {
        if (parse_line(buf, len, &pos, width, &out[i * (size_t)width]) != 0) {
            rf_free(out);
            return RF_EPARSE;
        }
    }
    if (pos != len) {
        rf_free(out);
        return RF_EPARSE;
    }
    *vals = out;
    *n = (size_t)count;
    return 0;
}

static int read_small_file(const char *path, char *buf, size_t cap,
                           size_t *len, char *errmsg)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t got;
    size_t off = 0;

    if (fd < 0) {
        if (errno == ENOENT) {
            return RF_ENOENT;
        }
        rf_errmsg_set(errmsg, "open %s: %s", path, strerror(errno));
        return RF_EIO;
    }
    /* Read up to cap+1 so an oversized file is detected, not cut. */
    while (off <= cap) {
        got = read(fd, buf + off, cap + 1 - off);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got <= 0) {
            break;
        }
        off += (size_t)got;
    }
    close(fd);
    if (got < 0) {
        rf_errmsg_set(errmsg, "read %s: %s", path, strerror(errno));
        return RF_EIO;
    }
    if (off > cap) {
        rf_errmsg_set(errmsg, "%s: larger than %zu bytes", path, cap);
        return RF_ETOOBIG;
    }
    *len = off;
    return 0;
}

int rf_checkpoint_read(const char *path, int width, size_t max_entries,
                       int64_t **vals, size_t *n, char *errmsg)
{
    char *buf = rf_malloc(RF_CHECKPOINT_MAX_BYTES + 1);
    size_t len = 0;
    int rv;

    *vals = NULL;
    *n = 0;
    rv = read_small_file(path, buf, RF_CHECKPOINT_MAX_BYTES, &len, errmsg);
    if (rv == 0) {
        rv = rf_checkpoint_parse(buf, len, width, max_entries, vals, n);
        if (rv != 0) {
            rf_errmsg_set(errmsg, "%s: malformed checkpoint (%s)", path,
                          rf_strerror(rv));
        }
    }
    rf_free(buf);
    return rv;
}

int rf_checkpoint_sync_dir(const char *dir, char *errmsg)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    if (fd < 0 || fsync(fd) != 0) {
        rf_errmsg_set(errmsg, "fsync dir %s: %s", dir, strerror(errno));
        if (fd >= 0) {
            close(fd);
        }
        return RF_EIO;
    }
    close(fd);
    return 0;
}

static char *format_checkpoint(int width, const int64_t *vals, size_t n,
                               size_t *len)
{
    size_t cap = 32 + n * (size_t)width * (MAX_DIGITS + 2), off;
    char *text = rf_malloc(cap);

    off = (size_t)snprintf(text, cap, "%d\n%zu\n", RF_CHECKPOINT_VERSION, n);
    for (size_t i = 0; i < n; i++) {
        for (int w = 0; w < width; w++) {
            off += (size_t)snprintf(text + off, cap - off, "%s%lld",
                                    w > 0 ? " " : "",
                                    (long long)vals[i * (size_t)width + w]);
        }
        off += (size_t)snprintf(text + off, cap - off, "\n");
    }
    *len = off;
    return text;
}

static int write_all_sync(int fd, const char *text, size_t len)
{
    size_t off = 0;

    while (off < len) {
        ssize_t w = write(fd, text + off, len - off);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            return -1;
        }
        off += (size_t)w;
    }
    return fsync(fd);
}

int rf_checkpoint_write(const char *path, int width, const int64_t *vals,
                        size_t n, char *errmsg)
{
    size_t len;
    char *text = format_checkpoint(width, vals, n, &len);
    char *tmp = rf_asprintf("%s.tmp", path);
    char *dircopy = rf_strdup(path);
    int fd, rv = 0;

    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || write_all_sync(fd, text, len) != 0) {
        rv = errno == ENOSPC ? RF_ENOSPC : RF_EIO;
        rf_errmsg_set(errmsg, "write %s: %s", tmp, strerror(errno));
    }
    if (fd >= 0) {
        close(fd);
    }
    if (rv == 0 && rename(tmp, path) != 0) {
        rv = RF_EIO;
        rf_errmsg_set(errmsg, "rename %s: %s", tmp, strerror(errno));
    }
    if (rv == 0) {
        rv = rf_checkpoint_sync_dir(dirname(dircopy), errmsg);
    } else {
        unlink(tmp);
    }
    rf_free(dircopy);
    rf_free(tmp);
    rf_free(text);
    return rv;
}
