/* buf.c: bounded reader and writer with big-endian ints and varints. */
#include "buf.h"

#include <string.h>

#include "alloc.h"
#include "err.h"

#define RD_NEED(rd, n)                                                       \
    do {                                                                     \
        if (rf_rd_remaining(rd) < (n))                                       \
            return RF_ETRUNC;                                                \
    } while (0)

int rf_rd_u8(struct rf_rd *rd, uint8_t *v)
{
    RD_NEED(rd, 1);
    *v = rd->p[rd->off++];
    return 0;
}

int rf_rd_i8(struct rf_rd *rd, int8_t *v)
{
    uint8_t u;
    int rv = rf_rd_u8(rd, &u);
    if (rv == 0)
        *v = (int8_t)u;
    return rv;
}

int rf_rd_u16(struct rf_rd *rd, uint16_t *v)
{
    RD_NEED(rd, 2);
    *v = (uint16_t)((rd->p[rd->off] << 8) | rd->p[rd->off + 1]);
    rd->off += 2;
    return 0;
}

int rf_rd_i16(struct rf_rd *rd, int16_t *v)
{
    uint16_t u;
    int rv = rf_rd_u16(rd, &u);
    if (rv == 0)
        *v = (int16_t)u;
    return rv;
}

int rf_rd_u32(struct rf_rd *rd, uint32_t *v)
{
    RD_NEED(rd, 4);
    *v = rf_be32_load(rd->p + rd->off);
    rd->off += 4;
    return 0;
}

int rf_rd_i32(struct rf_rd *rd, int32_t *v)
{
    uint32_t u;
    int rv = rf_rd_u32(rd, &u);
    if (rv == 0)
        *v = (int32_t)u;
    return rv;
}

int rf_rd_u64(struct rf_rd *rd, uint64_t *v)
{
    RD_NEED(rd, 8);
    *v = rf_be64_load(rd->p + rd->off);
    rd->off += 8;
    return 0;
}

int rf_rd_i64(struct rf_rd *rd, int64_t *v)
{
    uint64_t u;
    int rv = rf_rd_u64(rd, &u);
    if (rv == 0)
        *v = (int64_t)u;
    return rv;
}

/* Base-128 decode of at most max_bytes bytes; the last byte may only carry
 * the bits that still fit (bits_last). */
static int rd_uvarint(struct rf_rd *rd, uint64_t *v, unsigned max_bytes,
                      unsigned bits_last)
{
    uint64_t result = 0;
    size_t off = rd->off;
    for (unsigned i = 0; i < max_bytes; i++) {
        uint8_t b;
        if (off >= rd->len)
            return RF_ETRUNC;
        b = rd->p[off++];
        if (i == max_bytes - 1 && (b & 0x80 || (b >> bits_last) != 0))
            return RF_EPARSE;
        result |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            rd->off = off;
            *v = result;
            return 0;
        }
    }
    return RF_EPARSE;
}

int rf_rd_uvarint32(struct rf_rd *rd, uint32_t *v)
{
    uint64_t u;
    int rv = rd_uvarint(rd, &u, 5, 4);
    if (rv == 0)
        *v = (uint32_t)u;
    return rv;
}

int rf_rd_uvarint64(struct rf_rd *rd, uint64_t *v)
{
    return rd_uvarint(rd, v, 10, 1);
}

int rf_rd_varint32(struct rf_rd *rd, int32_t *v)
{
    uint32_t u;
    int rv = rf_rd_uvarint32(rd, &u);
    if (rv == 0)
        *v = (int32_t)((u >> 1) ^ (~(u & 1) + 1));
    return rv;
}

int rf_rd_varint64(struct rf_rd *rd, int64_t *v)
{
    uint64_t u;
    int rv = rf_rd_uvarint64(rd, &u);
    if (rv == 0)
        *v = (int64_t)((u >> 1) ^ (~(u & 1) + 1));
    return rv;
}

int rf_rd_bytes(struct rf_rd *rd, size_t n, const uint8_t **out)
{
    RD_NEED(rd, n);
    *out = rd->p + rd->off;
    rd->off += n;
    return 0;
}

int rf_rd_skip(struct rf_rd *rd, size_t n)
{
    RD_NEED(rd, n);
    rd->off += n;
    return 0;
}

/* ---- writer ---- */

void rf_wr_init(struct rf_wr *wr, size_t initial_cap)
{
    wr->base = initial_cap ? rf_malloc(initial_cap) : NULL;
    wr->len = 0;
    wr->cap = initial_cap;
    wr->fixed = false;
    wr->overflow = false;
}

void rf_wr_init_fixed(struct rf_wr *wr, void *buf, size_t cap)
{
    wr->base = buf;
    wr->len = 0;
    wr->cap = cap;
    wr->fixed = true;
    wr->overflow = false;
}

void rf_wr_free(struct rf_wr *wr)
{
    if (!wr->fixed)
        rf_free(wr->base);
    wr->base = NULL;
    wr->len = wr->cap = 0;
}

uint8_t *rf_wr_steal(struct rf_wr *wr, size_t *len)
{
    uint8_t *p = wr->base;
    *len = wr->len;
    wr->base = NULL;
    wr->len = wr->cap = 0;
    return p;
}

void rf_wr_reset(struct rf_wr *wr)
{
    wr->len = 0;
    wr->overflow = false;
}

uint8_t *rf_wr_reserve(struct rf_wr *wr, size_t n)
{
    if (wr->cap - wr->len >= n)
        return wr->base + wr->len;
    if (wr->fixed) {
        wr->overflow = true;
        return NULL;
    }
    size_t cap = wr->cap ? wr->cap : 64;
    while (cap - wr->len < n) {
        if (cap > SIZE_MAX / 2)
            cap = wr->len + n; /* unreachable in practice; rf_realloc aborts */
        else
            cap *= 2;
    }
    wr->base = rf_realloc(wr->base, cap);
    wr->cap = cap;
    return wr->base + wr->len;
}

void rf_wr_advance(struct rf_wr *wr, size_t n)
{
    wr->len += n;
}

void rf_wr_bytes(struct rf_wr *wr, const void *p, size_t n)
{
    uint8_t *dst;
    if (n == 0)
        return;
    dst = rf_wr_reserve(wr, n);
    if (dst == NULL)
        return;
    memcpy(dst, p, n);
    wr->len += n;
}

void rf_wr_u8(struct rf_wr *wr, uint8_t v)
{
    rf_wr_bytes(wr, &v, 1);
}

void rf_wr_i8(struct rf_wr *wr, int8_t v)
{
    rf_wr_u8(wr, (uint8_t)v);
}

void rf_wr_u16(struct rf_wr *wr, uint16_t v)
{
    uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    rf_wr_bytes(wr, b, 2);
}

void rf_wr_i16(struct rf_wr *wr, int16_t v)
{
    rf_wr_u16(wr, (uint16_t)v);
}

void rf_wr_u32(struct rf_wr *wr, uint32_t v)
{
    uint8_t b[4];
    rf_be32_store(b, v);
    rf_wr_bytes(wr, b, 4);
}

void rf_wr_i32(struct rf_wr *wr, int32_t v)
{
    rf_wr_u32(wr, (uint32_t)v);
}

void rf_wr_u64(struct rf_wr *wr, uint64_t v)
{
    uint8_t b[8];
    rf_be64_store(b, v);
    rf_wr_bytes(wr, b, 8);
}

void rf_wr_i64(struct rf_wr *wr, int64_t v)
{
    rf_wr_u64(wr, (uint64_t)v);
}

void rf_wr_uvarint64(struct rf_wr *wr, uint64_t v)
{
    uint8_t b[10];
    size_t n = 0;
    while (v >= 0x80) {
        b[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    b[n++] = (uint8_t)v;
    rf_wr_bytes(wr, b, n);
}

void rf_wr_uvarint32(struct rf_wr *wr, uint32_t v)
{
    rf_wr_uvarint64(wr, v);
}

void rf_wr_varint32(struct rf_wr *wr, int32_t v)
{
    rf_wr_uvarint64(wr, ((uint32_t)v << 1) ^ (uint32_t)(v >> 31));
}

void rf_wr_varint64(struct rf_wr *wr, int64_t v)
{
    rf_wr_uvarint64(wr, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

void rf_wr_put_u32_at(struct rf_wr *wr, size_t off, uint32_t v)
{
    if (off > wr->len || wr->len - off < 4)
        return; /* caller bug: offset not inside what was written */
    rf_be32_store(wr->base + off, v);
}

void rf_wr_put_i32_at(struct rf_wr *wr, size_t off, int32_t v)
{
    rf_wr_put_u32_at(wr, off, (uint32_t)v);
}
