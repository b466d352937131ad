/* conf.c: properties parsing and option-table driven configuration. */
#include "conf.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "err.h"
#include "log.h"

/* String fields hold a char *; store one without sizeof-on-pointer
 * lookalikes that some compilers flag. */
static void store_str(char *field, char *v)
{
    memcpy(field, &v, sizeof v);
}

static const struct rf_conf_opt *find_opt(const struct rf_conf_opt *table,
                                          const char *key)
{
    for (const struct rf_conf_opt *o = table; o->name; o++) {
        if (strcmp(o->name, key) == 0)
            return o;
    }
    return NULL;
}

static int parse_int(const struct rf_conf_opt *o, const char *value,
                     int64_t *out, char *errmsg)
{
    char *end;
    long long v;
    if (*value == '\0') {
        rf_errmsg_set(errmsg, "%s: empty value, expected an integer", o->name);
        return RF_ECONFIG;
    }
    errno = 0;
    v = strtoll(value, &end, 10);
    if (errno != 0 || *end != '\0') {
        rf_errmsg_set(errmsg, "%s: '%.64s' is not an integer", o->name,
                      value);
        return RF_ECONFIG;
    }
    if (v < o->min || v > o->max) {
        rf_errmsg_set(errmsg, "%s: %lld is out of range [%lld, %lld]",
                      o->name, v, (long long)o->min, (long long)o->max);
        return RF_ECONFIG;
    }
    *out = v;
    return 0;
}

int rf_conf_set(const struct rf_conf_opt *table, void *target,
                const char *key, const char *value, char *errmsg)
{
    const struct rf_conf_opt *o = find_opt(table, key);
    char *field;
    int rv;
    if (o == NULL) {
        rf_errmsg_set(errmsg, "unknown key '%.64s'", key);
        return RF_ENOENT;
    }
    field = (char *)target + o->offset;
    if (o->validate != NULL) {
        rv = o->validate(value, errmsg);
        if (rv != 0) {
            rf_errmsg_prefix(errmsg, "%s", o->name);
            return rv < 0 ? rv : RF_ECONFIG;
        }
    }
    switch (o->type) {
    case RF_CONF_INT: {
        int64_t v;
        rv = parse_int(o, value, &v, errmsg);
        if (rv != 0)
            return rv;
        memcpy(field, &v, sizeof v);
        return 0;
    }
    case RF_CONF_BOOL: {
        bool v;
        if (strcmp(value, "true") == 0) {
            v = true;
        } else if (strcmp(value, "false") == 0) {
            v = false;
        } else {
            rf_errmsg_set(errmsg, "%s: '%.64s' is not true or false",
                          o->name, value);
            return RF_ECONFIG;
        }
        memcpy(field, &v, sizeof v);
        return 0;
    }
    case RF_CONF_STRING: {
        char *old;
        memcpy(&old, field, sizeof old);
        rf_free(old);
        store_str(field, rf_strdup(value));
        return 0;
    }
    }
    return RF_EINVAL;
}

static int set_defaults(const struct rf_conf_opt *table, void *target,
                        char *errmsg)
{
    for (const struct rf_conf_opt *o = table; o->name; o++) {
        char *field = (char *)target + o->offset;
        if (o->type == RF_CONF_STRING)
            store_str(field, NULL);
        if (o->def == NULL)
            continue;
        if (rf_conf_set(table, target, o->name, o->def, errmsg) != 0) {
            rf_errmsg_prefix(errmsg, "default of %s", o->name);
            return RF_ECONFIG;
        }
    }
    return 0;
}

static char *trim(char *s)
{
    char *end;
    while (isspace((unsigned char)*s))
        s++;
    end = s + strlen(s);
    while (end > s && isspace((unsigned char)end[-1]))
        *--end = '\0';
    return s;
}

/* One logical line (continuations already joined): key=value, key: value
 * or key value; '#' and '!' start comments. */
static int apply_line(const struct rf_conf_opt *table, void *target,
                      char *line, bool *seen, char *errmsg)
{
    char *s = trim(line);
    char *sep;
    const struct rf_conf_opt *o;
    if (*s == '\0' || *s == '#' || *s == '!')
        return 0;
    sep = strpbrk(s, "=:");
    if (sep == NULL) {
        sep = strpbrk(s, " \t");
        if (sep == NULL) {
            rf_errmsg_set(errmsg, "expected key=value, got '%.64s'", s);
            return RF_ECONFIG;
        }
    }
    *sep = '\0';
    char *key = trim(s);
    char *value = trim(sep + 1);
    o = find_opt(table, key);
    if (o == NULL) {
        rf_errmsg_set(errmsg, "unknown key '%.64s'", key);
        return RF_ECONFIG;
    }
    seen[o - table] = true;
    return rf_conf_set(table, target, key, value, errmsg) == 0 ? 0
                                                                : RF_ECONFIG;
}

int rf_conf_load_string(const struct rf_conf_opt *table, void *target,
                        const char *text, const char *name, char *errmsg)
{
    size_t nopts = 0;
    bool *seen;
    char *copy, *p;
    int lineno = 0, rv = 0;

    for (const struct rf_conf_opt *o = table; o->name; o++)
        nopts++;
    rv = set_defaults(table, target, errmsg);
    if (rv != 0)
        return rv;
    seen = rf_calloc(nopts + 1, sizeof *seen);
    copy = rf_strdup(text);
    p = copy;
    while (*p != '\0' && rv == 0) {
        char *nl = strchr(p, '\n');
        char *line = p;
        int first = ++lineno;
        p = nl ? nl + 1 : p + strlen(p);
        if (nl)
            *nl = '\0';
        /* Join continuation lines: a trailing backslash. */
        size_t len = strlen(line);
        while (len > 0 && line[len - 1] == '\\' && *p != '\0') {
            char *nl2 = strchr(p, '\n');
            line[len - 1] = '\0';
            if (nl2)
                *nl2 = '\0';
            char *cont = p;
            while (isspace((unsigned char)*cont))
                cont++;
            memmove(line + len - 1, cont, strlen(cont) + 1);
            p = nl2 ? nl2 + 1 : p + strlen(p);
            lineno++;
            len = strlen(line);
        }
        rv = apply_line(table, target, line, seen, errmsg);
        if (rv != 0)
            rf_errmsg_prefix(errmsg, "%s:%d", name, first);
    }
    for (size_t i = 0; rv == 0 && i < nopts; i++) {
        if (table[i].def == NULL && !seen[i]) {
            rf_errmsg_set(errmsg, "%s: required key '%s' is missing", name,
                          table[i].name);
            rv = RF_ECONFIG;
        }
    }
    rf_free(copy);
    rf_free(seen);
    return rv;
}

int rf_conf_load(const struct rf_conf_opt *table, void *target,
                 const char *path, char *errmsg)
{
    FILE *f = fopen(path, "r");
    char *text;
    long size;
    size_t got;
    int rv;
    if (f == NULL) {
        int e = errno;
        /* Defaults still set so rf_conf_free is safe. */
        set_defaults(table, target, errmsg);
        rf_errmsg_set(errmsg, "%s: cannot open: %s", path, strerror(e));
        return RF_ECONFIG;
    }
    if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 ||
        size > 1024 * 1024 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        set_defaults(table, target, errmsg);
        rf_errmsg_set(errmsg, "%s: unreadable or larger than 1 MiB", path);
        return RF_ECONFIG;
    }
    text = rf_malloc((size_t)size + 1);
    got = fread(text, 1, (size_t)size, f);
    fclose(f);
    text[got] = '\0';
    if (strlen(text) != got) {
        rf_free(text);
        set_defaults(table, target, errmsg);
        rf_errmsg_set(errmsg, "%s: contains a NUL byte", path);
        return RF_ECONFIG;
    }
    rv = rf_conf_load_string(table, target, text, path, errmsg);
    rf_free(text);
    return rv;
}

void rf_conf_free(const struct rf_conf_opt *table, void *target)
{
    for (const struct rf_conf_opt *o = table; o->name; o++) {
        if (o->type == RF_CONF_STRING) {
            char *field = (char *)target + o->offset;
            char *v;
            memcpy(&v, field, sizeof v);
            rf_free(v);
            store_str(field, NULL);
        }
    }
}

void rf_conf_log(const struct rf_conf_opt *table, const void *target)
{
    for (const struct rf_conf_opt *o = table; o->name; o++) {
        const char *field = (const char *)target + o->offset;
        switch (o->type) {
        case RF_CONF_INT: {
            int64_t v;
            memcpy(&v, field, sizeof v);
            RF_INFO("config %s=%lld", o->name, (long long)v);
            break;
        }
        case RF_CONF_BOOL: {
            bool v;
            memcpy(&v, field, sizeof v);
            RF_INFO("config %s=%s", o->name, v ? "true" : "false");
            break;
        }
        case RF_CONF_STRING: {
            const char *v;
            memcpy(&v, field, sizeof v);
            RF_INFO("config %s=%s", o->name, v ? v : "");
            break;
        }
        }
    }
}

int rf_conf_validate_log_level(const char *value, char *errmsg)
{
    int level;
    if (rf_log_level_parse(value, &level) != 0) {
        rf_errmsg_set(errmsg, "expected error|warn|info|debug|trace");
        return RF_ECONFIG;
    }
    return 0;
}
