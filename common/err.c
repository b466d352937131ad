/* err.c: RF_E* names and messages, errno mapping, errmsg helpers. */
#include "err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *rf_strerror(int err)
{
    switch (err) {
#define RF_ERR_MSG(code, name, msg)                                          \
    case code:                                                               \
        return msg;
        RF_ERR_TABLE(RF_ERR_MSG)
#undef RF_ERR_MSG
    default:
        return "unknown error";
    }
}

const char *rf_err_name(int err)
{
    switch (err) {
#define RF_ERR_NAME(code, name, msg)                                         \
    case code:                                                               \
        return #name;
        RF_ERR_TABLE(RF_ERR_NAME)
#undef RF_ERR_NAME
    default:
        return "EUNKNOWN";
    }
}

int rf_err_from_errno(int errnum)
{
    if (errnum < 0)
        errnum = -errnum;
    switch (errnum) {
    case 0:
        return RF_OK;
    case EINVAL:
        return RF_EINVAL;
    case ENOMEM:
        return RF_ENOMEM;
    case EAGAIN:
        return RF_EAGAIN;
    case ENOENT:
        return RF_ENOENT;
    case EEXIST:
        return RF_EEXIST;
    case ERANGE:
        return RF_ERANGE;
    case ETIMEDOUT:
        return RF_ETIMEDOUT;
    case ECANCELED:
        return RF_ECANCELED;
    case ENOSPC:
    case EDQUOT:
        return RF_ENOSPC;
    case EBUSY:
        return RF_EBUSY;
    case ECONNREFUSED:
    case EHOSTUNREACH:
    case ENETUNREACH:
        return RF_ECONNECT;
    case ECONNRESET:
    case EPIPE:
    case ENOTCONN:
        return RF_ECLOSED;
    case ENOTSUP:
        return RF_EUNSUPPORTED;
    default:
        return RF_EIO;
    }
}

void rf_errmsg_set(char *errmsg, const char *fmt, ...)
{
    va_list ap;
    if (errmsg == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(errmsg, RF_ERRMSG_SIZE, fmt, ap);
    va_end(ap);
}

void rf_errmsg_prefix(char *errmsg, const char *fmt, ...)
{
    char prefix[RF_ERRMSG_SIZE];
    char joined[2 * RF_ERRMSG_SIZE + 2];
    va_list ap;
    if (errmsg == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    if (errmsg[0] == '\0')
        snprintf(joined, sizeof joined, "%s", prefix);
    else
        snprintf(joined, sizeof joined, "%s: %.*s", prefix,
                 RF_ERRMSG_SIZE - 1, errmsg);
    /* Keep what fits, always NUL-terminated. */
    size_t n = strnlen(joined, RF_ERRMSG_SIZE - 1);
    memcpy(errmsg, joined, n);
    errmsg[n] = '\0';
}
