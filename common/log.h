/* log.h: one-line, key=value structured logging to stderr. */
#ifndef RF_LOG_H
#define RF_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum rf_log_level {
    RF_LOG_OFF = -1, /* for rf_log_set_level only: nothing is written */
    RF_LOG_ERROR = 0,
    RF_LOG_WARN = 1,
    RF_LOG_INFO = 2,
    RF_LOG_DEBUG = 3,
    RF_LOG_TRACE = 4,
};

extern int rf_log_level_current;

/* Checks the level before formatting anything. Messages are written as
 *   ts=2026-11-23T23:20:11.123Z level=info proc=controller.1 src=file.c:42 <msg>
 * and <msg> should itself be "what happened key=value ...". */
#define RF_LOG(level, ...)                                                   \
    do {                                                                     \
        if ((int)(level) <= rf_log_level_current)                            \
            rf_log_write((level), __FILE__, __LINE__, __VA_ARGS__);          \
    } while (0)
#define RF_ERROR(...) RF_LOG(RF_LOG_ERROR, __VA_ARGS__)
#define RF_WARN(...) RF_LOG(RF_LOG_WARN, __VA_ARGS__)
#define RF_INFO(...) RF_LOG(RF_LOG_INFO, __VA_ARGS__)
#define RF_DEBUG(...) RF_LOG(RF_LOG_DEBUG, __VA_ARGS__)
#define RF_TRACE(...) RF_LOG(RF_LOG_TRACE, __VA_ARGS__)

void rf_log_write(int level, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

void rf_log_set_level(int level);
/* "error"|"warn"|"info"|"debug"|"trace" -> level; RF_EINVAL otherwise. */
int rf_log_level_parse(const char *name, int *level);
/* Process label shown as proc=...; the string is copied (max 63 chars). */
void rf_log_set_proc(const char *proc);

/* Escape untrusted bytes for a log line: printable ASCII kept, everything
 * else as \xNN, output truncated to fit dst (always NUL-terminated, "..."
 * appended when cut). Returns dst. Never log peer bytes any other way. */
char *rf_log_escape(char *dst, size_t dstsz, const void *src, size_t n);

/* Broker ids as "1,2,3" for a log line, truncated to fit dst ("..." when
 * cut; always NUL-terminated; "" for none). Returns dst. */
char *rf_log_ids(char *dst, size_t dstsz, const int32_t *ids, size_t n);

/* SIGTERM and SIGINT held pending (block true) or delivered again (false),
 * for the calling thread and the threads it starts later. A daemon holds
 * them from the first line of main() until its handlers are installed, so
 * a stop during start-up becomes a clean shutdown, not a death by signal. */
void rf_log_hold_stop_signals(bool block);

#endif
