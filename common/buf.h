/* buf.h: bounded big-endian reader and growable/fixed writer, with the two
 * varint flavours Kafka uses (unsigned base-128 and zigzag). */
#ifndef RF_BUF_H
#define RF_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Reader: a cursor over borrowed bytes. Every read checks the bounds first;
 * on failure it returns RF_ETRUNC (or RF_EPARSE for an over-long varint) and
 * does not move the cursor. */
struct rf_rd {
    const uint8_t *p; /* borrowed */
    size_t len;
    size_t off;
};

static inline void rf_rd_init(struct rf_rd *rd, const void *p, size_t len)
{
    rd->p = (const uint8_t *)p;
    rd->len = len;
    rd->off = 0;
}
static inline size_t rf_rd_remaining(const struct rf_rd *rd)
{
    return rd->len - rd->off;
}

int rf_rd_u8(struct rf_rd *rd, uint8_t *v);
int rf_rd_i8(struct rf_rd *rd, int8_t *v);
int rf_rd_u16(struct rf_rd *rd, uint16_t *v);
int rf_rd_i16(struct rf_rd *rd, int16_t *v);
int rf_rd_u32(struct rf_rd *rd, uint32_t *v);
int rf_rd_i32(struct rf_rd *rd, int32_t *v);
int rf_rd_u64(struct rf_rd *rd, uint64_t *v);
int rf_rd_i64(struct rf_rd *rd, int64_t *v);
/* Unsigned base-128 varints (Kafka flexible encoding, protobuf style):
 * at most 5 bytes for 32 bits, 10 for 64; longer or overflowing -> RF_EPARSE. */
int rf_rd_uvarint32(struct rf_rd *rd, uint32_t *v);
int rf_rd_uvarint64(struct rf_rd *rd, uint64_t *v);
/* Zigzag varints (record-batch records). */
int rf_rd_varint32(struct rf_rd *rd, int32_t *v);
int rf_rd_varint64(struct rf_rd *rd, int64_t *v);
/* Zero-copy slice of n bytes: *out points into the reader's buffer. */
int rf_rd_bytes(struct rf_rd *rd, size_t n, const uint8_t **out);
int rf_rd_skip(struct rf_rd *rd, size_t n);

/* Writer: growable (rf_wr_init: rf_realloc, aborts on OOM) or fixed
 * (rf_wr_init_fixed: writes past cap set overflow and are dropped). */
struct rf_wr {
    uint8_t *base;
    size_t len;
    size_t cap;
    bool fixed;
    bool overflow;
};

void rf_wr_init(struct rf_wr *wr, size_t initial_cap);
/* buf is borrowed and must outlive the writer. */
void rf_wr_init_fixed(struct rf_wr *wr, void *buf, size_t cap);
/* Frees a growable writer's buffer; no-op for fixed. Leaves wr empty. */
void rf_wr_free(struct rf_wr *wr);
/* Returns owned buffer (free with rf_free) and resets wr; *len gets size. */
uint8_t *rf_wr_steal(struct rf_wr *wr, size_t *len);
void rf_wr_reset(struct rf_wr *wr);

/* Ensure room for n more bytes; returns pointer to write them (then call
 * rf_wr_advance), or NULL on a fixed writer without room (overflow set). */
uint8_t *rf_wr_reserve(struct rf_wr *wr, size_t n);
void rf_wr_advance(struct rf_wr *wr, size_t n);

void rf_wr_u8(struct rf_wr *wr, uint8_t v);
void rf_wr_i8(struct rf_wr *wr, int8_t v);
void rf_wr_u16(struct rf_wr *wr, uint16_t v);
void rf_wr_i16(struct rf_wr *wr, int16_t v);
void rf_wr_u32(struct rf_wr *wr, uint32_t v);
void rf_wr_i32(struct rf_wr *wr, int32_t v);
void rf_wr_u64(struct rf_wr *wr, uint64_t v);
void rf_wr_i64(struct rf_wr *wr, int64_t v);
void rf_wr_uvarint32(struct rf_wr *wr, uint32_t v);
void rf_wr_uvarint64(struct rf_wr *wr, uint64_t v);
void rf_wr_varint32(struct rf_wr *wr, int32_t v);
void rf_wr_varint64(struct rf_wr *wr, int64_t v);
void rf_wr_bytes(struct rf_wr *wr, const void *p, size_t n);
/* Patch a big-endian value at an earlier offset (length prefixes); the
 * offset must be inside what was written. */
void rf_wr_put_u32_at(struct rf_wr *wr, size_t off, uint32_t v);
void rf_wr_put_i32_at(struct rf_wr *wr, size_t off, int32_t v);

/* Raw big-endian helpers for code that holds a verified-length pointer. */
static inline uint32_t rf_be32_load(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
           ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}
static inline uint64_t rf_be64_load(const uint8_t *p)
{
    return ((uint64_t)rf_be32_load(p) << 32) | rf_be32_load(p + 4);
}
static inline void rf_be32_store(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}
static inline void rf_be64_store(uint8_t *p, uint64_t v)
{
    rf_be32_store(p, (uint32_t)(v >> 32));
    rf_be32_store(p + 4, (uint32_t)v);
}

#endif
