/* kerr.c: Kafka ErrorCode names, retriability and the RF_E* mapping. */
#include "kerr.h"

#include "err.h"

struct kerr_row {
    int16_t code;
    const char *name;
    bool retriable;
};

static const struct kerr_row kerr_rows[] = {
#define RF_KERR_ROW(code, name, retriable) {(code), #name, (retriable)},
    RF_KERR_TABLE(RF_KERR_ROW)
#undef RF_KERR_ROW
};

/* The table is dense from -1 upwards, so a code indexes it directly. */
static const struct kerr_row *find_row(int16_t code)
{
    int idx = code + 1;
    size_t n = sizeof(kerr_rows) / sizeof(kerr_rows[0]);
    if (idx < 0 || (size_t)idx >= n || kerr_rows[idx].code != code) {
        return NULL;
    }
    return &kerr_rows[idx];
}

const char *rf_kerr_name(int16_t code)
{
    const struct kerr_row *row = find_row(code);
    return row != NULL ? row->name : "UNKNOWN";
}

bool rf_kerr_retriable(int16_t code)
{
    const struct kerr_row *row = find_row(code);
    return row != NULL && row->retriable;
}

bool rf_kerr_known(int16_t code)
{
    return find_row(code) != NULL;
}

int16_t rf_err_to_kafka(int err)
{
    switch (err) {
    case RF_OK: return RF_KERR_NONE;
    case RF_EINVAL:
    case RF_ETRUNC:
    case RF_EPARSE:
    case RF_EPROTO: return RF_KERR_INVALID_REQUEST;
    case RF_ETOOBIG: return RF_KERR_MESSAGE_TOO_LARGE;
    case RF_EIO:
    case RF_ENOSPC: return RF_KERR_KAFKA_STORAGE_ERROR;
    case RF_ENOENT: return RF_KERR_UNKNOWN_TOPIC_OR_PARTITION;
    case RF_EEXIST: return RF_KERR_TOPIC_ALREADY_EXISTS;
    case RF_ECORRUPT: return RF_KERR_CORRUPT_MESSAGE;
    case RF_EOFFSET: return RF_KERR_OFFSET_OUT_OF_RANGE;
    case RF_ECLOSED:
    case RF_ECONNECT: return RF_KERR_NETWORK_EXCEPTION;
    case RF_ETIMEDOUT: return RF_KERR_REQUEST_TIMED_OUT;
    case RF_ENOTCONTROLLER: return RF_KERR_NOT_CONTROLLER;
    case RF_ENOTLEADER:
    case RF_EFENCED:
    case RF_ESHUTDOWN: return RF_KERR_NOT_LEADER_OR_FOLLOWER;
    case RF_ESTALE: return RF_KERR_FENCED_LEADER_EPOCH;
    case RF_EUNSUPPORTED: return RF_KERR_UNSUPPORTED_VERSION;
    case RF_ECONFIG: return RF_KERR_INVALID_CONFIG;
    case RF_ERANGE: return RF_KERR_INVALID_REQUEST;
    case RF_EBUSY: return RF_KERR_REQUEST_TIMED_OUT;
    default: return RF_KERR_UNKNOWN_SERVER_ERROR;
    }
}
