/* batch.c: record-batch v2 validation (Produce and replication) and rewrites. */
#include "batch.h"

#include "buf.h"
#include "crc32c.h"
#include "err.h"

#include <string.h>

#define CODEC_ZSTD 4
#define ZSTD_MIN_PRODUCE_VERSION 7
/* Smallest record: length, attributes, timestampDelta, offsetDelta,
 * keyLength, valueLength, headerCount: one byte each. */
#define MIN_RECORD_SIZE 7

int rf_batch_header(const uint8_t *p, size_t len, struct rf_batch_info *info)
{
    struct rf_rd rd;
    int32_t blen;
    int8_t magic;
    uint32_t crc;
    int rv = 0;

    rf_rd_init(&rd, p, len);
    if (len < RF_BATCH_HEADER_SIZE) {
        return RF_ETRUNC;
    }
    /* Header fields, in v2 schema order; len was checked above so these
     * reads cannot fail, but each result is still checked. */
    rv |= rf_rd_i64(&rd, &info->base_offset);
    rv |= rf_rd_i32(&rd, &blen);
    rv |= rf_rd_i32(&rd, &info->leader_epoch);
    rv |= rf_rd_i8(&rd, &magic);
    rv |= rf_rd_u32(&rd, &crc);
    rv |= rf_rd_i16(&rd, &info->attributes);
    rv |= rf_rd_i32(&rd, &info->last_offset_delta);
    rv |= rf_rd_i64(&rd, &info->base_timestamp);
    rv |= rf_rd_i64(&rd, &info->max_timestamp);
    rv |= rf_rd_i64(&rd, &info->producer_id);
    rv |= rf_rd_i16(&rd, &info->producer_epoch);
    rv |= rf_rd_i32(&rd, &info->base_sequence);
    rv |= rf_rd_i32(&rd, &info->record_count);
    if (rv != 0) {
        return RF_ETRUNC;
    }
    if (magic != 2 || blen < RF_BATCH_MIN_LENGTH ||
        info->last_offset_delta < 0) {
        return RF_ECORRUPT;
    }
    info->size = (size_t)blen + RF_BATCH_LOG_OVERHEAD;
    info->codec = info->attributes & RF_BATCH_ATTR_CODEC_MASK;
    info->transactional = (info->attributes & RF_BATCH_ATTR_TRANSACTIONAL) != 0;
    info->control = (info->attributes & RF_BATCH_ATTR_CONTROL) != 0;
    return 0;
}

int rf_batch_check_crc(const uint8_t *p, size_t size)
{
    uint32_t stored = rf_be32_load(p + RF_BATCH_OFF_CRC);
    uint32_t crc = rf_crc32c(0, p + RF_BATCH_OFF_ATTRIBUTES,
                             size - RF_BATCH_OFF_ATTRIBUTES);
    return crc == stored ? 0 : RF_ECORRUPT;
}

/* A nullable length-prefixed field inside a record: varint length (-1 =
 * null when nullable), then that many bytes. */
static int skip_field(struct rf_rd *rd, bool nullable)
{
    int32_t n;

    if (rf_rd_varint32(rd, &n) != 0) {
        return RF_ECORRUPT;
    }
    if (n == -1 && nullable) {
        return 0;
    }
    if (n < 0) {
        return RF_EPARSE;
    }
    return rf_rd_skip(rd, (size_t)n) == 0 ? 0 : RF_ECORRUPT;
}

/* One record body (after its length varint), bounded by rd. Returns 0,
 * RF_ECORRUPT (structure overruns) or RF_EPARSE (bad value). */
static int walk_record(struct rf_rd *rd, int32_t index, int64_t *ts_delta)
{
    int8_t attrs;
    int32_t offset_delta, nheaders;

    if (rf_rd_i8(rd, &attrs) != 0 || rf_rd_varint64(rd, ts_delta) != 0 ||
        rf_rd_varint32(rd, &offset_delta) != 0) {
        return RF_ECORRUPT;
    }
    if (offset_delta != index) {
        return RF_EPARSE;
    }
    int rv = skip_field(rd, true); /* key */
    if (rv == 0) {
        rv = skip_field(rd, true); /* value */
    }
    if (rv != 0) {
        return rv;
    }
    if (rf_rd_varint32(rd, &nheaders) != 0) {
        return RF_ECORRUPT;
    }
    /* Each header is at least two bytes; bound the count by what is left. */
    if (nheaders < 0 || (size_t)nheaders > rf_rd_remaining(rd) / 2) {
        return nheaders < 0 ? RF_EPARSE : RF_ECORRUPT;
    }
    for (int32_t i = 0; i < nheaders && rv == 0; i++) {
        rv = skip_field(rd, false); /* headers[i].key */
        if (rv == 0) {
            rv = skip_field(rd, true); /* headers[i].value */
        }
    }
    if (rv == 0 && rf_rd_remaining(rd) != 0) {
        rv = RF_EPARSE; /* record length disagrees with its fields */
    }
    return rv;
}

/* Visit every record of an uncompressed batch (p, size already bounded).
 * visit may stop the walk by returning 1. */
typedef int (*record_visit_fn)(void *arg, int32_t index, int64_t ts_delta);

static int walk_records(const uint8_t *p, size_t size, int32_t count,
                        record_visit_fn visit, void *arg)
{
    struct rf_rd rd, rec;
    const uint8_t *body;
    int32_t len;
    int64_t ts_delta;

    rf_rd_init(&rd, p + RF_BATCH_HEADER_SIZE, size - RF_BATCH_HEADER_SIZE);
    if (count < 0 || (size_t)count > rf_rd_remaining(&rd) / MIN_RECORD_SIZE) {
        return RF_ECORRUPT;
    }
    for (int32_t i = 0; i < count; i++) {
        if (rf_rd_varint32(&rd, &len) != 0 || len < 0 ||
            rf_rd_bytes(&rd, (size_t)len, &body) != 0) {
            return RF_ECORRUPT;
        }
        rf_rd_init(&rec, body, (size_t)len);
        int rv = walk_record(&rec, i, &ts_delta);
        if (rv != 0) {
            return rv;
        }
        if (visit != NULL && visit(arg, i, ts_delta) == 1) {
            return 0;
        }
    }
    return rf_rd_remaining(&rd) == 0 ? 0 : RF_EPARSE;
}

static enum rf_batch_result check_fields(const struct rf_batch_info *info,
                                         int produce_version, unsigned flags)
{
    bool follower = (flags & RF_BATCH_F_FOLLOWER) != 0;

    if (info->codec > CODEC_ZSTD) {
        return RF_BATCH_UNSUPPORTED_COMPRESSION_TYPE;
    }
    if (!follower && info->codec == CODEC_ZSTD &&
        produce_version < ZSTD_MIN_PRODUCE_VERSION) {
        return RF_BATCH_UNSUPPORTED_COMPRESSION_TYPE;
    }
    if (follower) {
        /* Offsets already assigned; record_count may be below the delta
         * span only for compacted batches, never above it. */
        if (info->record_count < 0 ||
            (int64_t)info->record_count > (int64_t)info->last_offset_delta + 1) {
            return RF_BATCH_INVALID_RECORD;
        }
        return RF_BATCH_OK;
    }
    if (info->control || info->record_count <= 0 ||
        (int64_t)info->last_offset_delta + 1 != info->record_count) {
        return RF_BATCH_INVALID_RECORD;
    }
    if (info->producer_id >= 0 && info->base_sequence < 0) {
        return RF_BATCH_INVALID_RECORD;
    }
    return RF_BATCH_OK;
}

enum rf_batch_result rf_batch_validate(const uint8_t *p, size_t len,
                                       int produce_version,
                                       int64_t max_message_bytes,
                                       unsigned flags,
                                       struct rf_batch_info *info)
{
    enum rf_batch_result res;

    memset(info, 0, sizeof(*info));
    if (len > RF_BATCH_OFF_MAGIC && p[RF_BATCH_OFF_MAGIC] != 2) {
        return RF_BATCH_INVALID_RECORD; /* v0/v1 message sets are refused */
    }
    if (rf_batch_header(p, len, info) != 0) {
        return RF_BATCH_CORRUPT_MESSAGE;
    }
    if (info->size > len) {
        return RF_BATCH_CORRUPT_MESSAGE;
    }
    if ((int64_t)info->size > max_message_bytes) {
        return RF_BATCH_MESSAGE_TOO_LARGE;
    }
    if (info->size < len && !(flags & RF_BATCH_F_FOLLOWER)) {
        return RF_BATCH_INVALID_RECORD; /* more than one batch */
    }
    if (rf_batch_check_crc(p, info->size) != 0) {
        return RF_BATCH_CORRUPT_MESSAGE;
    }
    res = check_fields(info, produce_version, flags);
    if (res != RF_BATCH_OK || info->codec != 0) {
        return res; /* compressed records pass through untouched */
    }
    switch (walk_records(p, info->size, info->record_count, NULL, NULL)) {
    case 0:
        return RF_BATCH_OK;
    case RF_EPARSE:
        return RF_BATCH_INVALID_RECORD;
    default:
        return RF_BATCH_CORRUPT_MESSAGE;
    }
}

int16_t rf_batch_kafka_error(enum rf_batch_result res)
{
    return (int16_t)res;
}

const char *rf_batch_result_name(enum rf_batch_result res)
{
    switch (res) {
    case RF_BATCH_OK:
        return "NONE";
    case RF_BATCH_CORRUPT_MESSAGE:
        return "CORRUPT_MESSAGE";
    case RF_BATCH_MESSAGE_TOO_LARGE:
        return "MESSAGE_TOO_LARGE";
    case RF_BATCH_UNSUPPORTED_COMPRESSION_TYPE:
        return "UNSUPPORTED_COMPRESSION_TYPE";
    case RF_BATCH_INVALID_RECORD:
        return "INVALID_RECORD";
    }
    return "UNKNOWN";
}

void rf_batch_set_base_offset(uint8_t *p, int64_t base_offset)
{
    rf_be64_store(p, (uint64_t)base_offset);
}

void rf_batch_set_leader_epoch(uint8_t *p, int32_t epoch)
{
    rf_be32_store(p + RF_BATCH_OFF_EPOCH, (uint32_t)epoch);
}

void rf_batch_set_log_append_time(uint8_t *p, size_t size, int64_t ts)
{
    uint16_t attrs = (uint16_t)((p[RF_BATCH_OFF_ATTRIBUTES] << 8) |
                                p[RF_BATCH_OFF_ATTRIBUTES + 1]);

    attrs |= RF_BATCH_ATTR_LOG_APPEND_TIME;
    p[RF_BATCH_OFF_ATTRIBUTES] = (uint8_t)(attrs >> 8);
    p[RF_BATCH_OFF_ATTRIBUTES + 1] = (uint8_t)attrs;
    rf_be64_store(p + RF_BATCH_OFF_MAX_TS, (uint64_t)ts);
    rf_be32_store(p + RF_BATCH_OFF_CRC,
                  rf_crc32c(0, p + RF_BATCH_OFF_ATTRIBUTES,
                            size - RF_BATCH_OFF_ATTRIBUTES));
}

struct ts_search {
    int64_t base_ts;
    int64_t want;
    int32_t found; /* index, -1 while searching */
    int64_t found_ts;
};

static int visit_ts(void *arg, int32_t index, int64_t ts_delta)
{
    struct ts_search *s = arg;
    int64_t ts;

    if (__builtin_add_overflow(s->base_ts, ts_delta, &ts)) {
        return 0; /* nonsense delta: cannot be the record we want */
    }
    if (ts >= s->want) {
        s->found = index;
        s->found_ts = ts;
        return 1;
    }
    return 0;
}

int rf_batch_find_timestamp(const uint8_t *p, size_t size, int64_t ts,
                            int64_t *offset, int64_t *timestamp)
{
    struct rf_batch_info info;
    struct ts_search s;

    if (rf_batch_header(p, size, &info) != 0 || info.size > size) {
        return RF_ECORRUPT;
    }
    if (info.codec != 0 ||
        (info.attributes & RF_BATCH_ATTR_LOG_APPEND_TIME) != 0) {
        return RF_EUNSUPPORTED;
    }
    s.base_ts = info.base_timestamp;
    s.want = ts;
    s.found = -1;
    s.found_ts = -1;
    if (walk_records(p, info.size, info.record_count, visit_ts, &s) != 0) {
        return RF_ECORRUPT;
    }
    if (s.found < 0) {
        return RF_ENOENT;
    }
    *offset = info.base_offset + s.found;
    *timestamp = s.found_ts;
    return 0;
}
