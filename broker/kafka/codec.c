/* codec.c: the descriptor interpreter behind every Kafka message: bounded
 * decoding into arena structs, encoding, defaults and comparison. */
#include "codec.h"

#include <limits.h>
#include <string.h>

#include "err.h"

/* Decoder state shared by every level of one message. */
struct dec {
    struct rf_arena *arena;
    int32_t max_array;
    int16_t ver;
    bool flex;
};

static ssize_t dec_struct(const struct dec *d, struct rf_rd *rd,
                          const struct rf_kstruct *s, unsigned char *out);
static int enc_struct(const struct rf_kstruct *s, int16_t ver, bool flex,
                      const unsigned char *in, struct rf_wr *wr);
static void init_struct(const struct rf_kstruct *s, int16_t ver,
                        unsigned char *out);
static bool equal_struct(const struct rf_kstruct *s, int16_t ver,
                         const unsigned char *a, const unsigned char *b);

static size_t elem_size(const struct rf_kfield *f)
{
    switch (f->type == RF_KT_ARRAY ? f->elem_type : f->type) {
    case RF_KT_BOOL: return sizeof(bool);
    case RF_KT_INT8: return sizeof(int8_t);
    case RF_KT_INT16: return sizeof(int16_t);
    case RF_KT_INT32: return sizeof(int32_t);
    case RF_KT_INT64: return sizeof(int64_t);
    case RF_KT_STRING: return sizeof(struct rf_kstr);
    case RF_KT_BYTES:
    case RF_KT_RECORDS: return sizeof(struct rf_kbytes);
    case RF_KT_STRUCTS: return f->sub->size;
    default: return 0;
    }
}

static void store_int(uint8_t type, unsigned char *p, int64_t v)
{
    switch (type) {
    case RF_KT_BOOL: *(bool *)p = v != 0; break;
    case RF_KT_INT8: *(int8_t *)p = (int8_t)v; break;
    case RF_KT_INT16: *(int16_t *)p = (int16_t)v; break;
    case RF_KT_INT32: *(int32_t *)p = (int32_t)v; break;
    case RF_KT_INT64: *(int64_t *)p = v; break;
    default: break;
    }
}

static int64_t load_int(uint8_t type, const unsigned char *p)
{
    switch (type) {
    case RF_KT_BOOL: return *(const bool *)p ? 1 : 0;
    case RF_KT_INT8: return *(const int8_t *)p;
    case RF_KT_INT16: return *(const int16_t *)p;
    case RF_KT_INT32: return *(const int32_t *)p;
    case RF_KT_INT64: return *(const int64_t *)p;
    default: return 0;
    }
}

static bool is_scalar(uint8_t type)
{
    return type >= RF_KT_BOOL && type <= RF_KT_INT64;
}

/* Array items are typed pointers in the generated structs; move them as
 * object representations so no pointer is accessed through a wrong type. */
static void *load_items(const unsigned char *base, const struct rf_kfield *f)
{
    void *items;
    memcpy(&items, base + f->off, sizeof(items));
    return items;
}

static void store_items(unsigned char *base, const struct rf_kfield *f,
                        void *items)
{
    memcpy(base + f->off, &items, sizeof(items));
}

/* ---- defaults ---------------------------------------------------------- */

static void set_default(const struct rf_kfield *f, unsigned char *base)
{
    unsigned char *p = base + f->off;
    if (is_scalar(f->type)) {
        store_int(f->type, p, f->def);
    } else if (f->type == RF_KT_STRING) {
        struct rf_kstr *s = (struct rf_kstr *)p;
        s->ptr = f->def_null ? NULL : "";
        s->len = f->def_null ? -1 : 0;
    } else if (f->type == RF_KT_BYTES || f->type == RF_KT_RECORDS) {
        struct rf_kbytes *b = (struct rf_kbytes *)p;
        b->ptr = NULL;
        b->len = f->type == RF_KT_RECORDS ? -1 : 0;
    } else {
        store_items(base, f, NULL);
        *(int32_t *)(base + f->count_off) = 0;
    }
}

static void init_struct(const struct rf_kstruct *s, int16_t ver,
                        unsigned char *out)
{
    (void)ver;
    memset(out, 0, s->size);
    for (size_t i = 0; i < s->nfields; i++) {
        set_default(&s->fields[i], out);
    }
}

void rf_kmsg_init(const struct rf_kmsg *msg, int16_t ver, void *out)
{
    init_struct(msg->root, ver, out);
}

/* ---- decoding ---------------------------------------------------------- */

/* Length prefix of a string (int16 / compact) or bytes (int32 / compact):
 * *len gets -1 for null. Null where not allowed is RF_EPARSE. */
static int dec_len(const struct dec *d, struct rf_rd *rd, bool wide,
                   bool nullable, int32_t *len)
{
    int rc;
    if (d->flex) {
        uint32_t n;
        if ((rc = rf_rd_uvarint32(rd, &n)) < 0) {
            return rc;
        }
        if (n != 0 && n - 1 > (uint32_t)INT32_MAX) {
            return RF_EPARSE;
        }
        *len = n == 0 ? -1 : (int32_t)(n - 1);
    } else if (wide) {
        if ((rc = rf_rd_i32(rd, len)) < 0) {
            return rc;
        }
    } else {
        int16_t n16;
        if ((rc = rf_rd_i16(rd, &n16)) < 0) {
            return rc;
        }
        *len = n16;
    }
    if (*len < -1 || (*len == -1 && !nullable)) {
        return RF_EPARSE;
    }
    if (!wide && *len > INT16_MAX) {
        return RF_EPARSE;
    }
    return 0;
}

static int dec_blob(const struct dec *d, struct rf_rd *rd, bool wide,
                    bool nullable, const uint8_t **ptr, int32_t *len)
{
    int rc = dec_len(d, rd, wide, nullable, len);
    if (rc < 0) {
        return rc;
    }
    *ptr = NULL;
    if (*len < 0) {
        return 0;
    }
    return rf_rd_bytes(rd, (size_t)*len, ptr);
}

/* Array count, bounded by the configured maximum and by the bytes left
 * (every element takes at least one byte on the wire). */
static int dec_count(const struct dec *d, struct rf_rd *rd, bool nullable,
                     int32_t *count)
{
    int rc = dec_len(d, rd, true, nullable, count);
    if (rc < 0) {
        return rc;
    }
    if (*count > d->max_array) {
        return RF_ETOOBIG;
    }
    if (*count > 0 && (size_t)*count > rf_rd_remaining(rd)) {
        return RF_ETRUNC;
    }
    return 0;
}

static int dec_scalar(struct rf_rd *rd, uint8_t type, unsigned char *p)
{
    int rc;
    switch (type) {
    case RF_KT_BOOL: {
        uint8_t v;
        rc = rf_rd_u8(rd, &v);
        *(bool *)p = v != 0;
        return rc;
    }
    case RF_KT_INT8: return rf_rd_i8(rd, (int8_t *)p);
    case RF_KT_INT16: return rf_rd_i16(rd, (int16_t *)p);
    case RF_KT_INT32: return rf_rd_i32(rd, (int32_t *)p);
    case RF_KT_INT64: return rf_rd_i64(rd, (int64_t *)p);
    default: return RF_EINVAL;
    }
}

/* One value of type `type` (never an array) at p. */
static int dec_value(const struct dec *d, struct rf_rd *rd,
                     const struct rf_kfield *f, uint8_t type, bool nullable,
                     unsigned char *p)
{
    if (is_scalar(type)) {
        return dec_scalar(rd, type, p);
    }
    if (type == RF_KT_STRING) {
        struct rf_kstr *s = (struct rf_kstr *)p;
        const uint8_t *ptr;
        int rc = dec_blob(d, rd, false, nullable, &ptr, &s->len);
        s->ptr = (const char *)ptr;
        return rc;
    }
    if (type == RF_KT_BYTES || type == RF_KT_RECORDS) {
        struct rf_kbytes *b = (struct rf_kbytes *)p;
        return dec_blob(d, rd, true, nullable, &b->ptr, &b->len);
    }
    if (type == RF_KT_STRUCTS) {
        ssize_t n = dec_struct(d, rd, f->sub, p);
        return n < 0 ? (int)n : 0;
    }
    return RF_EINVAL;
}

/* Arrays grow as elements arrive: memory follows the bytes actually read,
 * never the count the peer announced. */
static int dec_array(const struct dec *d, struct rf_rd *rd,
                     const struct rf_kfield *f, unsigned char *base)
{
    int32_t count;
    int rc = dec_count(d, rd, rf_kfield_nullable(f, d->ver), &count);
    if (rc < 0) {
        return rc;
    }
    *(int32_t *)(base + f->count_off) = count;
    store_items(base, f, NULL);
    size_t esz = elem_size(f), cap = 0;
    unsigned char *items = NULL;
    uint8_t type = f->type == RF_KT_ARRAY ? f->elem_type : RF_KT_STRUCTS;
    for (int32_t i = 0; i < count; i++) {
        if ((size_t)i == cap) {
            size_t ncap = cap == 0 ? 4 : cap * 2;
            if (ncap > (size_t)count) {
                ncap = (size_t)count;
            }
            items = rf_arena_realloc(d->arena, items, cap * esz, ncap * esz);
            if (items == NULL) {
                return RF_ETOOBIG;
            }
            cap = ncap;
            store_items(base, f, items);
        }
        rc = dec_value(d, rd, f, type, false, items + (size_t)i * esz);
        if (rc < 0) {
            return rc;
        }
    }
    return 0;
}

static int dec_field(const struct dec *d, struct rf_rd *rd,
                     const struct rf_kfield *f, unsigned char *base)
{
    if (f->type == RF_KT_ARRAY || f->type == RF_KT_STRUCTS) {
        return dec_array(d, rd, f, base);
    }
    return dec_value(d, rd, f, f->type, rf_kfield_nullable(f, d->ver),
                     base + f->off);
}

static const struct rf_kfield *find_tag(const struct rf_kstruct *s,
                                        uint32_t tag, int16_t ver)
{
    for (size_t i = 0; i < s->nfields; i++) {
        const struct rf_kfield *f = &s->fields[i];
        if (f->tag >= 0 && (uint32_t)f->tag == tag &&
            rf_kfield_present(f, ver)) {
            return f;
        }
    }
    return NULL;
}

/* Tagged-field section: known tags decode from exactly their size bytes,
 * unknown tags are skipped. */
static int dec_tags(const struct dec *d, struct rf_rd *rd,
                    const struct rf_kstruct *s, unsigned char *out)
{
    uint32_t ntags, tag, size;
    int rc = rf_rd_uvarint32(rd, &ntags);
    if (rc < 0) {
        return rc;
    }
    if (ntags > rf_rd_remaining(rd)) {
        return RF_ETRUNC;
    }
    for (uint32_t i = 0; i < ntags; i++) {
        if ((rc = rf_rd_uvarint32(rd, &tag)) < 0 ||
            (rc = rf_rd_uvarint32(rd, &size)) < 0) {
            return rc;
        }
        const uint8_t *body;
        if ((rc = rf_rd_bytes(rd, size, &body)) < 0) {
            return rc;
        }
        const struct rf_kfield *f = find_tag(s, tag, d->ver);
        if (f == NULL) {
            continue;
        }
        struct rf_rd sub;
        rf_rd_init(&sub, body, size);
        if ((rc = dec_field(d, &sub, f, out)) < 0) {
            return rc == RF_ETRUNC ? RF_EPARSE : rc;
        }
        if (rf_rd_remaining(&sub) != 0) {
            return RF_EPARSE;
        }
    }
    return 0;
}

static ssize_t dec_struct(const struct dec *d, struct rf_rd *rd,
                          const struct rf_kstruct *s, unsigned char *out)
{
    size_t start = rd->off;
    int rc;
    memset(out, 0, s->size);
    for (size_t i = 0; i < s->nfields; i++) {
        const struct rf_kfield *f = &s->fields[i];
        if (!rf_kfield_present(f, d->ver) || f->tag >= 0) {
            set_default(f, out); /* tagged: maybe set by the section */
            continue;
        }
        if ((rc = dec_field(d, rd, f, out)) < 0) {
            return rc;
        }
    }
    if (d->flex && (rc = dec_tags(d, rd, s, out)) < 0) {
        return rc;
    }
    return (ssize_t)(rd->off - start);
}

ssize_t rf_kmsg_decode(const struct rf_kmsg *msg, int16_t ver, const void *p,
                       size_t len, struct rf_arena *arena,
                       const struct rf_kafka_limits *lim, void *out)
{
    if (ver < msg->min_ver || ver > msg->max_ver) {
        return RF_EUNSUPPORTED;
    }
    struct dec d = {
        .arena = arena,
        .max_array = lim != NULL ? lim->max_array : RF_KAFKA_MAX_ARRAY_DEFAULT,
        .ver = ver,
        .flex = rf_kmsg_flexible(msg, ver),
    };
    struct rf_rd rd;
    rf_rd_init(&rd, p, len);
    return dec_struct(&d, &rd, msg->root, out);
}

/* ---- encoding ---------------------------------------------------------- */

static int enc_len(struct rf_wr *wr, bool flex, bool wide, bool nullable,
                   int32_t len)
{
    if (len < -1 || (len == -1 && !nullable) || (!wide && len > INT16_MAX)) {
        return RF_EINVAL;
    }
    if (flex) {
        rf_wr_uvarint32(wr, (uint32_t)(len + 1));
    } else if (wide) {
        rf_wr_i32(wr, len);
    } else {
        rf_wr_i16(wr, (int16_t)len);
    }
    return 0;
}

static int enc_value(const struct rf_kfield *f, uint8_t type, int16_t ver,
                     bool flex, bool nullable, const unsigned char *p,
                     struct rf_wr *wr)
{
    int rc;
    switch (type) {
    case RF_KT_BOOL: rf_wr_u8(wr, *(const bool *)p ? 1 : 0); return 0;
    case RF_KT_INT8: rf_wr_i8(wr, *(const int8_t *)p); return 0;
    case RF_KT_INT16: rf_wr_i16(wr, *(const int16_t *)p); return 0;
    case RF_KT_INT32: rf_wr_i32(wr, *(const int32_t *)p); return 0;
    case RF_KT_INT64: rf_wr_i64(wr, *(const int64_t *)p); return 0;
    case RF_KT_STRING: {
        const struct rf_kstr *s = (const struct rf_kstr *)p;
        if ((rc = enc_len(wr, flex, false, nullable, s->len)) < 0) {
            return rc;
        }
        if (s->len > 0) {
            rf_wr_bytes(wr, s->ptr, (size_t)s->len);
        }
        return 0;
    }
    case RF_KT_BYTES:
    case RF_KT_RECORDS: {
        const struct rf_kbytes *b = (const struct rf_kbytes *)p;
        if ((rc = enc_len(wr, flex, true, nullable, b->len)) < 0) {
            return rc;
        }
        if (b->len > 0) {
            rf_wr_bytes(wr, b->ptr, (size_t)b->len);
        }
        return 0;
    }
    case RF_KT_STRUCTS: return enc_struct(f->sub, ver, flex, p, wr);
    default: return RF_EINVAL;
    }
}

static int enc_field(const struct rf_kfield *f, int16_t ver, bool flex,
                     const unsigned char *base, struct rf_wr *wr)
{
    bool nullable = rf_kfield_nullable(f, ver);
    if (f->type != RF_KT_ARRAY && f->type != RF_KT_STRUCTS) {
        return enc_value(f, f->type, ver, flex, nullable, base + f->off, wr);
    }
    int32_t count = *(const int32_t *)(base + f->count_off);
    const unsigned char *items = load_items(base, f);
    int rc = enc_len(wr, flex, true, nullable, count);
    if (rc < 0 || (count > 0 && items == NULL)) {
        return rc < 0 ? rc : RF_EINVAL;
    }
    uint8_t type = f->type == RF_KT_ARRAY ? f->elem_type : RF_KT_STRUCTS;
    size_t esz = elem_size(f);
    for (int32_t i = 0; i < count; i++) {
        rc = enc_value(f, type, ver, flex, false, items + (size_t)i * esz, wr);
        if (rc < 0) {
            return rc;
        }
    }
    return 0;
}

/* A tagged field is written only when it differs from its default. */
static bool tag_is_default(const struct rf_kfield *f, const unsigned char *b)
{
    const unsigned char *p = b + f->off;
    if (is_scalar(f->type)) {
        return load_int(f->type, p) == (f->type == RF_KT_BOOL ? f->def != 0
                                                                : f->def);
    }
    if (f->type == RF_KT_STRING) {
        const struct rf_kstr *s = (const struct rf_kstr *)p;
        return f->def_null ? s->len < 0 : s->len == 0;
    }
    if (f->type == RF_KT_BYTES || f->type == RF_KT_RECORDS) {
        return ((const struct rf_kbytes *)p)->len <= 0;
    }
    return *(const int32_t *)(b + f->count_off) <= 0;
}

static int enc_tags(const struct rf_kstruct *s, int16_t ver,
                    const unsigned char *in, struct rf_wr *wr)
{
    uint32_t n = 0;
    for (size_t i = 0; i < s->nfields; i++) {
        const struct rf_kfield *f = &s->fields[i];
        n += f->tag >= 0 && rf_kfield_present(f, ver) && !tag_is_default(f, in);
    }
    rf_wr_uvarint32(wr, n);
    for (size_t i = 0; i < s->nfields && n > 0; i++) {
        const struct rf_kfield *f = &s->fields[i];
        if (f->tag < 0 || !rf_kfield_present(f, ver) || tag_is_default(f, in)) {
            continue;
        }
        struct rf_wr tmp;
        rf_wr_init(&tmp, 64);
        int rc = enc_field(f, ver, true, in, &tmp);
        if (rc == 0) {
            rf_wr_uvarint32(wr, (uint32_t)f->tag);
            rf_wr_uvarint32(wr, (uint32_t)tmp.len);
            rf_wr_bytes(wr, tmp.base, tmp.len);
        }
        rf_wr_free(&tmp);
        if (rc < 0) {
            return rc;
        }
    }
    return 0;
}

static int enc_struct(const struct rf_kstruct *s, int16_t ver, bool flex,
                      const unsigned char *in, struct rf_wr *wr)
{
    for (size_t i = 0; i < s->nfields; i++) {
        const struct rf_kfield *f = &s->fields[i];
        if (!rf_kfield_present(f, ver) || f->tag >= 0) {
            continue;
        }
        int rc = enc_field(f, ver, flex, in, wr);
        if (rc < 0) {
            return rc;
        }
    }
    return flex ? enc_tags(s, ver, in, wr) : 0;
}

int rf_kmsg_encode(const struct rf_kmsg *msg, int16_t ver, const void *in,
                   struct rf_wr *wr)
{
    if (ver < msg->min_ver || ver > msg->max_ver) {
        return RF_EUNSUPPORTED;
    }
    return enc_struct(msg->root, ver, rf_kmsg_flexible(msg, ver), in, wr);
}

/* ---- comparison -------------------------------------------------------- */

static bool equal_blob(const void *a, int32_t alen, const void *b,
                       int32_t blen)
{
    return alen == blen && (alen <= 0 || memcmp(a, b, (size_t)alen) == 0);
}

static bool equal_value(const struct rf_kfield *f, uint8_t type, int16_t ver,
                        const unsigned char *a, const unsigned char *b)
{
    if (is_scalar(type)) {
        return load_int(type, a) == load_int(type, b);
    }
    if (type == RF_KT_STRING) {
        const struct rf_kstr *x = (const void *)a, *y = (const void *)b;
        return equal_blob(x->ptr, x->len, y->ptr, y->len);
    }
    if (type == RF_KT_BYTES || type == RF_KT_RECORDS) {
        const struct rf_kbytes *x = (const void *)a, *y = (const void *)b;
        return equal_blob(x->ptr, x->len, y->ptr, y->len);
    }
    return equal_struct(f->sub, ver, a, b);
}

static bool equal_field(const struct rf_kfield *f, int16_t ver,
                        const unsigned char *a, const unsigned char *b)
{
    if (f->type != RF_KT_ARRAY && f->type != RF_KT_STRUCTS) {
        return equal_value(f, f->type, ver, a + f->off, b + f->off);
    }
    int32_t n = *(const int32_t *)(a + f->count_off);
    if (n != *(const int32_t *)(b + f->count_off)) {
        return false;
    }
    const unsigned char *ia = load_items(a, f), *ib = load_items(b, f);
    uint8_t type = f->type == RF_KT_ARRAY ? f->elem_type : RF_KT_STRUCTS;
    size_t esz = elem_size(f);
    for (int32_t i = 0; i < n; i++) {
        size_t o = (size_t)i * esz;
        if (!equal_value(f, type, ver, ia + o, ib + o)) {
            return false;
        }
    }
    return true;
}

static bool equal_struct(const struct rf_kstruct *s, int16_t ver,
                         const unsigned char *a, const unsigned char *b)
{
    for (size_t i = 0; i < s->nfields; i++) {
        const struct rf_kfield *f = &s->fields[i];
        if (rf_kfield_present(f, ver) && !equal_field(f, ver, a, b)) {
            return false;
        }
    }
    return true;
}

bool rf_kmsg_equal(const struct rf_kmsg *msg, int16_t ver, const void *a,
                   const void *b)
{
    return equal_struct(msg->root, ver, a, b);
}
