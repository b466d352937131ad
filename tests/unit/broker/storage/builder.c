/* builder.c: test-side record batch encoder (the broker never encodes). */
#include "builder.h"

#include "crc32c.h"

static void put_record(struct rf_wr *rec, int i,
                       const struct rf_test_batch_spec *spec)
{
    rf_wr_i8(rec, 0);          /* attributes */
    rf_wr_varint64(rec, i);    /* timestampDelta */
    rf_wr_varint32(rec, i);    /* offsetDelta */
    rf_wr_varint32(rec, 4);    /* keyLength */
    rf_wr_u32(rec, (uint32_t)i);
    rf_wr_varint32(rec, (int32_t)spec->value_size);
    for (size_t b = 0; b < spec->value_size; b++) {
        rf_wr_u8(rec, (uint8_t)(spec->seed + (uint32_t)i * 31 + b));
    }
    rf_wr_varint32(rec, 1);    /* headerCount */
    rf_wr_varint32(rec, 1);
    rf_wr_u8(rec, 'h');
    rf_wr_varint32(rec, -1);   /* null header value */
}

size_t rf_test_build_batch(struct rf_wr *wr,
                           const struct rf_test_batch_spec *spec)
{
    size_t start = wr->len;
    struct rf_wr rec;

    rf_wr_i64(wr, 0);                                  /* baseOffset */
    rf_wr_i32(wr, 0);                                  /* batchLength */
    rf_wr_i32(wr, -1);                                 /* leader epoch */
    rf_wr_i8(wr, 2);                                   /* magic */
    rf_wr_u32(wr, 0);                                  /* crc */
    rf_wr_i16(wr, spec->attributes);
    rf_wr_i32(wr, spec->nrecords - 1);                 /* lastOffsetDelta */
    rf_wr_i64(wr, spec->base_ts);
    rf_wr_i64(wr, spec->base_ts + spec->nrecords - 1); /* maxTimestamp */
    rf_wr_i64(wr, -1);                                 /* producerId */
    rf_wr_i16(wr, -1);
    rf_wr_i32(wr, -1);
    rf_wr_i32(wr, spec->nrecords);
    rf_wr_init(&rec, 256);
    for (int i = 0; i < spec->nrecords; i++) {
        rf_wr_reset(&rec);
        put_record(&rec, i, spec);
        rf_wr_varint32(wr, (int32_t)rec.len);
        rf_wr_bytes(wr, rec.base, rec.len);
    }
    rf_wr_free(&rec);
    rf_wr_put_i32_at(wr, start + 8, (int32_t)(wr->len - start - 12));
    rf_test_fix_crc(wr->base + start, wr->len - start);
    return wr->len - start;
}

void rf_test_fix_crc(uint8_t *p, size_t size)
{
    rf_be32_store(p + 17, rf_crc32c(0, p + 21, size - 21));
}
