/* config.c: topic name rules and the table of topic configs we accept. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "meta_int.h"

bool rf_meta_topic_name_valid(const char *name)
{
    if (name == NULL)
        return false;
    size_t n = strlen(name);
    if (n == 0 || n > RF_META_TOPIC_NAME_MAX || strcmp(name, ".") == 0 ||
        strcmp(name, "..") == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
        if (!ok)
            return false;
    }
    return true;
}

enum cfg_type { CFG_LONG, CFG_BOOL, CFG_ENUM, CFG_LIST };

struct cfg_def {
    const char *name;
    enum cfg_type type;
    long long min, max;
    const char *const *choices; /* CFG_ENUM / CFG_LIST, NULL-terminated */
};

static const char *const cleanup_choices[] = {"delete", "compact", NULL};
static const char *const ts_choices[] = {"CreateTime", "LogAppendTime", NULL};
static const char *const compression_choices[] = {
    "uncompressed", "zstd", "lz4", "snappy", "gzip", "producer", NULL};

static const struct cfg_def topic_configs[] = {
    {"cleanup.policy", CFG_LIST, 0, 0, cleanup_choices},
    {"retention.ms", CFG_LONG, -1, INT64_MAX, NULL},
    {"retention.bytes", CFG_LONG, -1, INT64_MAX, NULL},
    {"segment.bytes", CFG_LONG, 14, INT32_MAX, NULL},
    {"segment.ms", CFG_LONG, 1, INT64_MAX, NULL},
    {"min.insync.replicas", CFG_LONG, 1, INT32_MAX, NULL},
    {"max.message.bytes", CFG_LONG, 0, INT32_MAX, NULL},
    {"message.timestamp.type", CFG_ENUM, 0, 0, ts_choices},
    {"unclean.leader.election.enable", CFG_BOOL, 0, 0, NULL},
    {"compression.type", CFG_ENUM, 0, 0, compression_choices},
};

static bool long_ok(const char *v, long long min, long long max)
{
    char *end;
    if (v[0] == '\0' || v[0] == ' ' || v[0] == '+')
        return false;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    return errno == 0 && *end == '\0' && x >= min && x <= max;
}

static bool choice_ok(const char *v, size_t n, const char *const *choices)
{
    for (size_t i = 0; choices[i] != NULL; i++)
        if (strlen(choices[i]) == n && strncmp(choices[i], v, n) == 0)
            return true;
    return false;
}

/* Comma-separated, each item a choice, at least one item. */
static bool list_ok(const char *v, const char *const *choices)
{
    for (;;) {
        const char *comma = strchr(v, ',');
        size_t n = comma ? (size_t)(comma - v) : strlen(v);
        if (!choice_ok(v, n, choices))
            return false;
        if (comma == NULL)
            return true;
        v = comma + 1;
    }
}

int rf__meta_topic_config_check(const char *name, const char *value)
{
    for (size_t i = 0; i < sizeof(topic_configs) / sizeof(topic_configs[0]);
         i++) {
        const struct cfg_def *d = &topic_configs[i];
        if (strcmp(d->name, name) != 0)
            continue;
        bool ok = false;
        switch (d->type) {
        case CFG_LONG:
            ok = long_ok(value, d->min, d->max);
            break;
        case CFG_BOOL:
            ok = strcmp(value, "true") == 0 || strcmp(value, "false") == 0;
            break;
        case CFG_ENUM:
            ok = choice_ok(value, strlen(value), d->choices);
            break;
        case CFG_LIST:
            ok = list_ok(value, d->choices);
            break;
        }
        return ok ? RIFFLE__ERROR_CODE__NONE
                  : RIFFLE__ERROR_CODE__INVALID_CONFIG;
    }
    return RIFFLE__ERROR_CODE__INVALID_CONFIG;
}
