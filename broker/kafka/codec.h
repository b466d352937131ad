/* codec.h: the table-driven Kafka message codec. One descriptor per message
 * (generated from broker/kafka/schema/<Api>.json by gen/gen_kafka.py) drives
 * decode, encode and compare for every version. */
#ifndef RF_KAFKA_CODEC_H
#define RF_KAFKA_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "arena.h"
#include "buf.h"

/* Kafka STRING / NULLABLE_STRING, zero-copy: ptr points into the request
 * buffer (decoded) or into caller memory (to encode). Not NUL-terminated.
 * len == -1 is null, which is distinct from "" (len 0). */
struct rf_kstr {
    const char *ptr;
    int32_t len;
};

/* Kafka BYTES / NULLABLE_BYTES / RECORDS, same conventions as rf_kstr. */
struct rf_kbytes {
    const uint8_t *ptr;
    int32_t len;
};

/* An array field: items (arena memory once decoded) and count; count == -1
 * is a null array, distinct from an empty one (count 0). */
#define RF_KARRAY(T)                                                         \
    struct {                                                                 \
        T *items;                                                            \
        int32_t count;                                                       \
    }

#define RF_KSTR(s) ((struct rf_kstr){(s), (int32_t)(sizeof(s) - 1)})
#define RF_KSTR_NULL ((struct rf_kstr){NULL, -1})

enum rf_ktype {
    RF_KT_BOOL = 1,
    RF_KT_INT8,
    RF_KT_INT16,
    RF_KT_INT32,
    RF_KT_INT64,
    RF_KT_STRING,
    RF_KT_BYTES,
    RF_KT_RECORDS,
    RF_KT_ARRAY,  /* array of elem_type (a scalar, string or bytes) */
    RF_KT_STRUCTS /* array of sub */
};

struct rf_kstruct;

/* One field of one struct, for every version of the message. */
struct rf_kfield {
    const char *name;             /* Kafka's schema name */
    uint8_t type;                 /* enum rf_ktype */
    uint8_t elem_type;            /* RF_KT_ARRAY: element type */
    int16_t min_ver, max_ver;     /* present in [min_ver, max_ver] */
    int16_t null_min, null_max;   /* nullable in [null_min, null_max] */
    int32_t tag;                  /* >= 0: a tagged field (flexible only) */
    size_t off;                   /* offsetof the value (or array items) */
    size_t count_off;             /* arrays: offsetof the count */
    int64_t def;                  /* default of scalars when absent */
    bool def_null;                /* strings: default null (else "") */
    const struct rf_kstruct *sub; /* RF_KT_STRUCTS: element struct */
};

struct rf_kstruct {
    const char *name;
    size_t size; /* sizeof the C struct */
    const struct rf_kfield *fields;
    size_t nfields;
};

/* One request or response message. */
struct rf_kmsg {
    const char *name; /* "ProduceRequest" */
    int16_t api_key;
    int16_t min_ver, max_ver; /* versions this codec implements */
    int16_t flex_min;         /* first flexible version; INT16_MAX = none */
    bool is_request;
    const struct rf_kstruct *root;
};

/* Limits on what a peer may make the decoder do (style.md §7). The arena's
 * own max_bytes caps memory. */
struct rf_kafka_limits {
    int32_t max_array; /* elements in any one array */
};
#define RF_KAFKA_MAX_ARRAY_DEFAULT 1000000

static inline bool rf_kmsg_flexible(const struct rf_kmsg *msg, int16_t ver)
{
    return ver >= msg->flex_min;
}

/* Decode one message body of version ver from p[0..len) into out (a struct
 * of msg->root->size bytes, fully overwritten). Strings, bytes and records
 * point into p; arrays live in arena. lim NULL = defaults.
 * Returns bytes consumed, or RF_EUNSUPPORTED (version outside the range),
 * RF_ETRUNC (input ends early), RF_EPARSE (bad length, count, varint or
 * tag section), RF_ETOOBIG (a count over lim or the arena cap). */
ssize_t rf_kmsg_decode(const struct rf_kmsg *msg, int16_t ver, const void *p,
                       size_t len, struct rf_arena *arena,
                       const struct rf_kafka_limits *lim, void *out);

/* Append the encoding of msg at version ver to wr. Fields absent in ver are
 * ignored. Returns 0, RF_EUNSUPPORTED, or RF_EINVAL when a value cannot be
 * represented (null in a non-nullable field, a string over 32767 bytes, a
 * negative length other than -1); wr may then hold a partial encoding. */
int rf_kmsg_encode(const struct rf_kmsg *msg, int16_t ver, const void *in,
                   struct rf_wr *wr);

/* Set every field of out to its schema default for version ver (absent
 * fields included): the state a handler starts a response from. */
void rf_kmsg_init(const struct rf_kmsg *msg, int16_t ver, void *out);

/* True when a and b hold the same values in every field present in ver
 * (strings and bytes compared by content, null distinct from empty). */
bool rf_kmsg_equal(const struct rf_kmsg *msg, int16_t ver, const void *a,
                   const void *b);

/* Field presence helpers, shared with tests and generators of test data. */
static inline bool rf_kfield_present(const struct rf_kfield *f, int16_t ver)
{
    return ver >= f->min_ver && ver <= f->max_ver;
}
static inline bool rf_kfield_nullable(const struct rf_kfield *f, int16_t ver)
{
    return ver >= f->null_min && ver <= f->null_max;
}

#endif
