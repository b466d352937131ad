/* log.c: one-line structured log records to stderr. */
#include "log.h"

#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "err.h"

int rf_log_level_current = RF_LOG_INFO;
static char log_proc[64] = "riffle";

static const char *const level_names[] = {"error", "warn", "info", "debug",
                                          "trace"};

void rf_log_set_level(int level)
{
    if (level < RF_LOG_OFF)
        level = RF_LOG_OFF;
    if (level > RF_LOG_TRACE)
        level = RF_LOG_TRACE;
    rf_log_level_current = level;
}

int rf_log_level_parse(const char *name, int *level)
{
    for (int i = 0; i <= RF_LOG_TRACE; i++) {
        if (strcmp(name, level_names[i]) == 0) {
            *level = i;
            return 0;
        }
    }
    return RF_EINVAL;
}

void rf_log_set_proc(const char *proc)
{
    snprintf(log_proc, sizeof log_proc, "%s", proc);
}

static const char *basename_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

void rf_log_write(int level, const char *file, int line, const char *fmt, ...)
{
    char ts[40];
    char msg[2048];
    va_list ap;
    if (level < RF_LOG_ERROR || level > RF_LOG_TRACE)
        level = RF_LOG_ERROR;
    rf_clock_format_iso(rf_clock_wall_ms(), ts, sizeof ts);
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* One fprintf per record so concurrent threads do not interleave. */
    fprintf(stderr, "ts=%s level=%s proc=%s src=%s:%d %s\n", ts,
            level_names[level], log_proc, basename_of(file), line, msg);
}

char *rf_log_escape(char *dst, size_t dstsz, const void *src, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = src;
    size_t o = 0;
    if (dstsz == 0)
        return dst;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = s[i];
        size_t need = (c >= 0x20 && c < 0x7f && c != '\\') ? 1 : 4;
        if (o + need + 4 > dstsz) { /* room for "..." and NUL */
            if (o + 4 <= dstsz) {
                memcpy(dst + o, "...", 3);
                o += 3;
            }
            break;
        }
        if (need == 1) {
            dst[o++] = (char)c;
        } else {
            dst[o++] = '\\';
            dst[o++] = 'x';
            dst[o++] = hex[c >> 4];
            dst[o++] = hex[c & 15];
        }
    }
    dst[o < dstsz ? o : dstsz - 1] = '\0';
    return dst;
}

char *rf_log_ids(char *dst, size_t dstsz, const int32_t *ids, size_t n)
{
    size_t used = 0;
    if (dstsz == 0)
        return dst;
    dst[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        char one[16];
        int len = snprintf(one, sizeof one, "%s%d", i ? "," : "", (int)ids[i]);
        if (used + (size_t)len + 4 > dstsz) { /* room for "..." and NUL */
            if (used + 4 <= dstsz)
                memcpy(dst + used, "...", 4);
            return dst;
        }
        memcpy(dst + used, one, (size_t)len + 1);
        used += (size_t)len;
    }
    return dst;
}

void rf_log_hold_stop_signals(bool block)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(block ? SIG_BLOCK : SIG_UNBLOCK, &set, NULL);
}
