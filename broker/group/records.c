/* records.c: encode and decode offset-commit records of __consumer_offsets
 * (records.h). Every length read from the batch is bounded by what is left
 * of its record before use. */
#include "records.h"

#include "batch.h"
#include "crc32c.h"
#include "err.h"

#define KEY_OFFSET_V1 1
#define VALUE_OFFSET_V3 3

/* ---- encode ---- */

static void wr_str(struct rf_wr *wr, struct rf_group_str s)
{
    rf_wr_i16(wr, (int16_t)s.n);
    rf_wr_bytes(wr, s.p, s.n);
}

static void encode_record(struct rf_wr *wr, const struct rf_group_rec *r,
                          int32_t delta)
{
    struct rf_wr key, val, rec;
    rf_wr_init(&key, 64);
    rf_wr_init(&val, 64);
    rf_wr_init(&rec, 128);
    rf_wr_i16(&key, KEY_OFFSET_V1);
    wr_str(&key, r->group);
    wr_str(&key, r->topic);
    rf_wr_i32(&key, r->partition);
    if (!r->tombstone) {
        rf_wr_i16(&val, VALUE_OFFSET_V3);
        rf_wr_i64(&val, r->offset);
        rf_wr_i32(&val, r->leader_epoch);
        wr_str(&val, r->metadata);
        rf_wr_i64(&val, r->commit_ts);
    }
    rf_wr_i8(&rec, 0);         /* attributes */
    rf_wr_varint64(&rec, 0);   /* timestampDelta */
    rf_wr_varint32(&rec, delta); /* offsetDelta */
    rf_wr_varint32(&rec, (int32_t)key.len);
    rf_wr_bytes(&rec, key.base, key.len);
    if (r->tombstone) {
        rf_wr_varint32(&rec, -1);
    } else {
        rf_wr_varint32(&rec, (int32_t)val.len);
        rf_wr_bytes(&rec, val.base, val.len);
    }
    rf_wr_varint32(&rec, 0); /* headers */
    rf_wr_varint32(wr, (int32_t)rec.len);
    rf_wr_bytes(wr, rec.base, rec.len);
    rf_wr_free(&key);
    rf_wr_free(&val);
    rf_wr_free(&rec);
}

void rf_group_rec_encode(struct rf_wr *wr, const struct rf_group_rec *recs,
                         size_t n, int64_t now_ms)
{
    size_t start = wr->len;
    rf_wr_i64(wr, 0);                     /* baseOffset */
    rf_wr_i32(wr, 0);                     /* batchLength, set below */
    rf_wr_i32(wr, 0);                     /* partitionLeaderEpoch */
    rf_wr_i8(wr, 2);                      /* magic */
    rf_wr_u32(wr, 0);                     /* crc, set below */
    rf_wr_i16(wr, 0);                     /* attributes */
    rf_wr_i32(wr, (int32_t)n - 1);        /* lastOffsetDelta */
    rf_wr_i64(wr, now_ms);                /* baseTimestamp */
    rf_wr_i64(wr, now_ms);                /* maxTimestamp */
    rf_wr_i64(wr, -1);                    /* producerId */
    rf_wr_i16(wr, -1);                    /* producerEpoch */
    rf_wr_i32(wr, -1);                    /* baseSequence */
    rf_wr_i32(wr, (int32_t)n);            /* records count */
    for (size_t i = 0; i < n; i++)
        encode_record(wr, &recs[i], (int32_t)i);
    rf_wr_put_i32_at(wr, start + RF_BATCH_OFF_LENGTH,
                     (int32_t)(wr->len - start - RF_BATCH_LOG_OVERHEAD));
    rf_wr_put_u32_at(wr, start + RF_BATCH_OFF_CRC,
                     rf_crc32c(0, wr->base + start + RF_BATCH_OFF_ATTRIBUTES,
                               wr->len - start - RF_BATCH_OFF_ATTRIBUTES));
}

/* ---- decode ---- */

static int rd_str(struct rf_rd *rd, struct rf_group_str *s)
{
    int16_t n;
    const uint8_t *p;
    if (rf_rd_i16(rd, &n) != 0 || n < 0 || rf_rd_bytes(rd, (size_t)n, &p) != 0)
        return RF_ECORRUPT;
    s->p = (const char *)p;
    s->n = (size_t)n;
    return 0;
}

/* Key and value of one record; *skip when it is not an offset record. */
static int parse_kv(struct rf_rd *key, struct rf_rd *val, bool null_val,
                    struct rf_group_rec *r, bool *skip)
{
    int16_t kv, vv;
    *skip = true;
    if (rf_rd_i16(key, &kv) != 0)
        return RF_ECORRUPT;
    if (kv != 0 && kv != KEY_OFFSET_V1)
        return 0; /* group metadata (2) or unknown */
    if (rd_str(key, &r->group) != 0 || rd_str(key, &r->topic) != 0 ||
        rf_rd_i32(key, &r->partition) != 0)
        return RF_ECORRUPT;
    r->tombstone = null_val;
    if (null_val) {
        *skip = false;
        return 0;
    }
    if (rf_rd_i16(val, &vv) != 0)
        return RF_ECORRUPT;
    if (vv != VALUE_OFFSET_V3)
        return 0;
    if (rf_rd_i64(val, &r->offset) != 0 ||
        rf_rd_i32(val, &r->leader_epoch) != 0 ||
        rd_str(val, &r->metadata) != 0 || rf_rd_i64(val, &r->commit_ts) != 0)
        return RF_ECORRUPT;
    *skip = false;
    return 0;
}

/* A varint length in [min, remaining]. */
static int rd_len(struct rf_rd *rd, int32_t min, int32_t *n)
{
    if (rf_rd_varint32(rd, n) != 0 || *n < min ||
        (*n > 0 && (size_t)*n > rf_rd_remaining(rd)))
        return RF_ECORRUPT;
    return 0;
}

static int skip_headers(struct rf_rd *rd)
{
    int32_t nh, n;
    if (rd_len(rd, 0, &nh) != 0)
        return RF_ECORRUPT;
    for (int32_t i = 0; i < nh; i++) {
        if (rd_len(rd, 0, &n) != 0 || rf_rd_skip(rd, (size_t)n) != 0 ||
            rd_len(rd, -1, &n) != 0 ||
            (n > 0 && rf_rd_skip(rd, (size_t)n) != 0))
            return RF_ECORRUPT;
    }
    return 0;
}

static int decode_record(struct rf_rd *rd, rf_group_rec_cb cb, void *data)
{
    struct rf_rd rec, key, val;
    struct rf_group_rec r = {0};
    const uint8_t *body, *kp, *vp = NULL;
    int32_t len, klen, vlen, i32;
    int64_t i64;
    int8_t attr;
    bool skip;
    int rv;
    if (rd_len(rd, 1, &len) != 0 || rf_rd_bytes(rd, (size_t)len, &body) != 0)
        return RF_ECORRUPT;
    rf_rd_init(&rec, body, (size_t)len);
    if (rf_rd_i8(&rec, &attr) != 0 || rf_rd_varint64(&rec, &i64) != 0 ||
        rf_rd_varint32(&rec, &i32) != 0 || rd_len(&rec, 0, &klen) != 0 ||
        rf_rd_bytes(&rec, (size_t)klen, &kp) != 0 ||
        rd_len(&rec, -1, &vlen) != 0 ||
        (vlen > 0 && rf_rd_bytes(&rec, (size_t)vlen, &vp) != 0) ||
        skip_headers(&rec) != 0 || rf_rd_remaining(&rec) != 0)
        return RF_ECORRUPT;
    rf_rd_init(&key, kp, (size_t)klen);
    rf_rd_init(&val, vp, vlen > 0 ? (size_t)vlen : 0);
    rv = parse_kv(&key, &val, vlen < 0, &r, &skip);
    if (rv != 0 || skip)
        return rv;
    return cb(data, &r);
}

int rf_group_rec_decode(const uint8_t *p, size_t len, rf_group_rec_cb cb,
                        void *data)
{
    struct rf_batch_info info;
    struct rf_rd rd;
    int rv;
    if (rf_batch_header(p, len, &info) != 0 || info.size != len ||
        rf_batch_check_crc(p, len) != 0 || info.record_count < 0)
        return RF_ECORRUPT;
    if (info.codec != 0 || info.control)
        return RF_EUNSUPPORTED;
    rf_rd_init(&rd, p + RF_BATCH_HEADER_SIZE, len - RF_BATCH_HEADER_SIZE);
    for (int32_t i = 0; i < info.record_count; i++) {
        rv = decode_record(&rd, cb, data);
        if (rv != 0)
            return rv;
    }
    return rf_rd_remaining(&rd) == 0 ? 0 : RF_ECORRUPT;
}
