/* conf.h: properties-file configuration driven by a per-process option
 * table (name, type, default, range, validator), model: redis config.c. */
#ifndef RF_CONF_H
#define RF_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum rf_conf_type {
    RF_CONF_INT,    /* int64_t field, range [min, max] */
    RF_CONF_BOOL,   /* bool field: true/false */
    RF_CONF_STRING, /* char * field, owned by the target, rf_conf_free()s it */
};

struct rf_conf_opt {
    const char *name; /* Kafka's key name where the meaning matches */
    enum rf_conf_type type;
    const char *def;  /* default as text; NULL = required (string: may be "") */
    int64_t min, max; /* RF_CONF_INT only */
    size_t offset;    /* offsetof(target struct, field) */
    /* Optional extra check on the parsed text value; on failure write the
     * reason into errmsg (RF_ERRMSG_SIZE) and return a negative RF_E*. */
    int (*validate)(const char *value, char *errmsg);
    const char *doc;  /* one line, used by docs and --help */
};

/* A table ends with an entry whose name is NULL. */
#define RF_CONF_END {NULL, RF_CONF_INT, NULL, 0, 0, 0, NULL, NULL}

/* Set every option to its default, then apply the file at path. Fails on an
 * unreadable file, a malformed line, an unknown key, a bad value or a missing
 * required key; errmsg then reads "FILE:LINE: why" (no line for a missing
 * key). On failure the target may be partly set: call rf_conf_free(). */
int rf_conf_load(const struct rf_conf_opt *table, void *target,
                 const char *path, char *errmsg);
/* Same, from text in memory; name stands in for the path in messages. */
int rf_conf_load_string(const struct rf_conf_opt *table, void *target,
                        const char *text, const char *name, char *errmsg);
/* Set one key (already trimmed) from text; RF_ENOENT for an unknown key. */
int rf_conf_set(const struct rf_conf_opt *table, void *target,
                const char *key, const char *value, char *errmsg);
/* Free owned strings in target. Tolerates a partly loaded target. */
void rf_conf_free(const struct rf_conf_opt *table, void *target);
/* Shared validator for `log.level` keys: error|warn|info|debug|trace. */
int rf_conf_validate_log_level(const char *value, char *errmsg);

/* Log the effective configuration at info level, one line per key. */
void rf_conf_log(const struct rf_conf_opt *table, const void *target);

#endif
