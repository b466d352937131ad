/* kfill.c: descriptor-driven pseudo-random message filler for tests. */
#include "kfill.h"

#include <string.h>

struct kfill {
    uint64_t state;
    enum kfill_mode mode;
    int16_t ver;
    struct rf_arena *arena;
    int depth;
};

static uint64_t next(struct kfill *k)
{
    /* xorshift64*: deterministic, good enough for test data */
    k->state ^= k->state >> 12;
    k->state ^= k->state << 25;
    k->state ^= k->state >> 27;
    return k->state * 2685821657736338717ULL;
}

static void fill_struct(struct kfill *k, const struct rf_kstruct *s,
                        unsigned char *out);

static void fill_scalar(struct kfill *k, uint8_t type, unsigned char *p)
{
    uint64_t v = next(k);
    switch (type) {
    case RF_KT_BOOL: *(bool *)p = (v & 1) != 0; break;
    case RF_KT_INT8: *(int8_t *)p = (int8_t)v; break;
    case RF_KT_INT16: *(int16_t *)p = (int16_t)v; break;
    case RF_KT_INT32: *(int32_t *)p = (int32_t)v; break;
    case RF_KT_INT64: *(int64_t *)p = (int64_t)v; break;
    default: break;
    }
}

static int32_t blob_len(struct kfill *k)
{
    if (k->mode == KFILL_BIG) {
        return (int32_t)(120 + next(k) % 40);
    }
    return (int32_t)(next(k) % 9);
}

static void fill_blob(struct kfill *k, bool nullable, const void **ptr,
                      int32_t *len, bool text)
{
    if (nullable && (k->mode == KFILL_NULLS || next(k) % 4 == 0)) {
        *ptr = NULL;
        *len = -1;
        return;
    }
    *len = k->mode == KFILL_NULLS ? 0 : blob_len(k);
    unsigned char *b = rf_arena_alloc(k->arena, (size_t)*len);
    for (int32_t i = 0; i < *len; i++) {
        uint64_t v = next(k);
        b[i] = text ? (unsigned char)('a' + v % 26) : (unsigned char)v;
    }
    *ptr = b;
}

static void fill_value(struct kfill *k, const struct rf_kfield *f,
                       uint8_t type, bool nullable, unsigned char *p)
{
    if (type == RF_KT_STRING) {
        struct rf_kstr *s = (struct rf_kstr *)p;
        fill_blob(k, nullable, (const void **)&s->ptr, &s->len, true);
    } else if (type == RF_KT_BYTES || type == RF_KT_RECORDS) {
        struct rf_kbytes *b = (struct rf_kbytes *)p;
        fill_blob(k, nullable, (const void **)&b->ptr, &b->len, false);
    } else if (type == RF_KT_STRUCTS) {
        fill_struct(k, f->sub, p);
    } else {
        fill_scalar(k, type, p);
    }
}

static size_t esize(const struct rf_kfield *f)
{
    switch (f->type == RF_KT_ARRAY ? f->elem_type : RF_KT_STRUCTS) {
    case RF_KT_INT32: return 4;
    case RF_KT_INT64: return 8;
    case RF_KT_STRING: return sizeof(struct rf_kstr);
    default: return f->sub->size;
    }
}

static void fill_array(struct kfill *k, const struct rf_kfield *f,
                       unsigned char *base)
{
    int32_t count;
    bool nullable = rf_kfield_nullable(f, k->ver);
    if (nullable && (k->mode == KFILL_NULLS || next(k) % 4 == 0)) {
        count = -1;
    } else if (k->mode == KFILL_NULLS) {
        count = 0;
    } else if (k->mode == KFILL_BIG && f->type == RF_KT_ARRAY) {
        count = 130;
    } else {
        count = (int32_t)(next(k) % (k->depth > 2 ? 2 : 4));
    }
    *(int32_t *)(base + f->count_off) = count;
    void *items = NULL;
    if (count > 0) {
        size_t sz = esize(f);
        items = rf_arena_alloc(k->arena, (size_t)count * sz);
        uint8_t type = f->type == RF_KT_ARRAY ? f->elem_type : RF_KT_STRUCTS;
        for (int32_t i = 0; i < count; i++) {
            fill_value(k, f, type, false, (unsigned char *)items + i * sz);
        }
    }
    memcpy(base + f->off, &items, sizeof(items));
}

static void fill_struct(struct kfill *k, const struct rf_kstruct *s,
                        unsigned char *out)
{
    k->depth++;
    for (size_t i = 0; i < s->nfields; i++) {
        const struct rf_kfield *f = &s->fields[i];
        if (!rf_kfield_present(f, k->ver)) {
            continue; /* stays at its default */
        }
        if (f->type == RF_KT_ARRAY || f->type == RF_KT_STRUCTS) {
            fill_array(k, f, out);
        } else {
            fill_value(k, f, f->type, rf_kfield_nullable(f, k->ver),
                       out + f->off);
        }
    }
    k->depth--;
}

void kfill_msg(const struct rf_kmsg *msg, int16_t ver, enum kfill_mode mode,
               uint64_t seed, struct rf_arena *arena, void *out)
{
    struct kfill k = {.state = seed * 0x9E3779B97F4A7C15ULL + 1,
                      .mode = mode, .ver = ver, .arena = arena};
    rf_kmsg_init(msg, ver, out);
    fill_struct(&k, msg->root, out);
}
