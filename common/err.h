/* err.h: Riffle's internal error codes (negative ints) and errmsg helpers. */
#ifndef RF_ERR_H
#define RF_ERR_H

#include <stddef.h>

/* One table: code, name, message. 0 is success; every failure is negative.
 * Kafka ErrorCodes are a separate type (broker/kafka); never mix the two. */
#define RF_ERR_TABLE(X)                                                      \
    X(0, OK, "success")                                                      \
    X(-1, EINVAL, "invalid argument")                                        \
    X(-2, ENOMEM, "out of memory")                                           \
    X(-3, EAGAIN, "more input needed")                                       \
    X(-4, ETRUNC, "input truncated")                                         \
    X(-5, EPARSE, "malformed input")                                         \
    X(-6, ETOOBIG, "size over limit")                                        \
    X(-7, EIO, "I/O error")                                                  \
    X(-8, ENOENT, "not found")                                               \
    X(-9, EEXIST, "already exists")                                          \
    X(-10, ECORRUPT, "data corrupt")                                         \
    X(-11, ERANGE, "value out of range")                                     \
    X(-12, ECLOSED, "connection closed")                                     \
    X(-13, ETIMEDOUT, "timed out")                                           \
    X(-14, ENOTCONTROLLER, "not the active controller")                      \
    X(-15, ENOTLEADER, "not the leader")                                     \
    X(-16, ECANCELED, "canceled")                                            \
    X(-17, ELOCKED, "locked by another process")                             \
    X(-18, ENOSPC, "no space left")                                          \
    X(-19, EUNSUPPORTED, "unsupported")                                      \
    X(-20, ESTALE, "stale epoch")                                            \
    X(-21, EFENCED, "fenced")                                                \
    X(-22, EBUSY, "busy")                                                    \
    X(-23, ECONFIG, "bad configuration")                                     \
    X(-24, ESHUTDOWN, "shutting down")                                       \
    X(-25, ECONNECT, "connection failed")                                    \
    X(-26, EPROTO, "protocol error")                                         \
    X(-27, EOFFSET, "offset out of range")

enum {
#define RF_ERR_ENUM(code, name, msg) RF_##name = (code),
    RF_ERR_TABLE(RF_ERR_ENUM)
#undef RF_ERR_ENUM
};

/* Size of every errmsg buffer passed down the startup/config/disk/raft paths. */
#define RF_ERRMSG_SIZE 512

/* Human message / symbolic name ("EINVAL") for an RF_E* code; never NULL. */
const char *rf_strerror(int err);
const char *rf_err_name(int err);

/* Map a negative errno (as libuv and syscalls give) to the closest RF_E*. */
int rf_err_from_errno(int errnum);

/* Write a message into errmsg (RF_ERRMSG_SIZE bytes), replacing its content. */
void rf_errmsg_set(char *errmsg, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prepend "prefix: " to the message already in errmsg (one layer's context
 * on the way up: "load partition t-3: open 0042.log: EACCES"). */
void rf_errmsg_prefix(char *errmsg, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
