/* json.c: the CLI's JSON emitter: comma/nesting state and string escaping. */
#include "json.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

void rf_json_init(struct rf_json *j, struct rf_wr *wr)
{
    memset(j, 0, sizeof(*j));
    j->wr = wr;
}

static void put(struct rf_json *j, const char *s)
{
    rf_wr_bytes(j->wr, s, strlen(s));
}

/* Separator before a value (or key) at the current level. */
static void before_value(struct rf_json *j)
{
    if (j->after_key) {
        j->after_key = false;
        return;
    }
    if (j->need_comma[j->depth])
        rf_wr_u8(j->wr, ',');
    j->need_comma[j->depth] = true;
}

static void open_level(struct rf_json *j, char c)
{
    before_value(j);
    rf_wr_u8(j->wr, (uint8_t)c);
    assert(j->depth < RF_JSON_MAX_DEPTH);
    j->depth++;
    j->need_comma[j->depth] = false;
}

static void close_level(struct rf_json *j, char c)
{
    assert(j->depth > 0);
    j->depth--;
    rf_wr_u8(j->wr, (uint8_t)c);
}

void rf_json_obj_begin(struct rf_json *j)
{
    open_level(j, '{');
}

void rf_json_obj_end(struct rf_json *j)
{
    close_level(j, '}');
}

void rf_json_arr_begin(struct rf_json *j)
{
    open_level(j, '[');
}

void rf_json_arr_end(struct rf_json *j)
{
    close_level(j, ']');
}

void rf_json_key(struct rf_json *j, const char *key)
{
    before_value(j);
    rf_json_escape(j->wr, key, strlen(key));
    rf_wr_u8(j->wr, ':');
    j->after_key = true;
}

/* Length of the valid UTF-8 sequence at s[0..n), or 0 when invalid
 * (overlong forms, surrogates and code points above U+10FFFF included). */
static size_t utf8_seq_len(const uint8_t *s, size_t n)
{
    size_t len, i;
    uint8_t lo = 0x80, hi = 0xBF;

    if (s[0] >= 0xC2 && s[0] <= 0xDF)
        len = 2;
    else if (s[0] >= 0xE0 && s[0] <= 0xEF)
        len = 3;
    else if (s[0] >= 0xF0 && s[0] <= 0xF4)
        len = 4;
    else
        return 0;
    if (len > n)
        return 0;
    if (s[0] == 0xE0)
        lo = 0xA0;
    else if (s[0] == 0xED)
        hi = 0x9F;
    else if (s[0] == 0xF0)
        lo = 0x90;
    else if (s[0] == 0xF4)
        hi = 0x8F;
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (i = 2; i < len; i++) {
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    }
    return len;
}

static void escape_ascii(struct rf_wr *wr, uint8_t c)
{
    char tmp[8];

    switch (c) {
        case '"':
            rf_wr_bytes(wr, "\\\"", 2);
            return;
        case '\\':
            rf_wr_bytes(wr, "\\\\", 2);
            return;
        case '\n':
            rf_wr_bytes(wr, "\\n", 2);
            return;
        case '\r':
            rf_wr_bytes(wr, "\\r", 2);
            return;
        case '\t':
            rf_wr_bytes(wr, "\\t", 2);
            return;
        case '\b':
            rf_wr_bytes(wr, "\\b", 2);
            return;
        case '\f':
            rf_wr_bytes(wr, "\\f", 2);
            return;
        default:
            break;
    }
    if (c < 0x20 || c == 0x7f) {
        snprintf(tmp, sizeof(tmp), "\\u%04x", (unsigned)c);
        rf_wr_bytes(wr, tmp, 6);
        return;
    }
    rf_wr_u8(wr, c);
}

void rf_json_escape(struct rf_wr *wr, const char *s, size_t n)
{
    const uint8_t *p = (const uint8_t *)s;
    size_t i = 0, len;

    rf_wr_u8(wr, '"');
    while (i < n) {
        if (p[i] < 0x80) {
            escape_ascii(wr, p[i]);
            i++;
            continue;
        }
        len = utf8_seq_len(p + i, n - i);
        if (len == 0) {
            rf_wr_bytes(wr, "\\ufffd", 6);
            i++;
            continue;
        }
        rf_wr_bytes(wr, p + i, len);
        i += len;
    }
    rf_wr_u8(wr, '"');
}

void rf_json_str(struct rf_json *j, const char *s)
{
    rf_json_strn(j, s ? s : "", s ? strlen(s) : 0);
}

void rf_json_strn(struct rf_json *j, const char *s, size_t n)
{
    before_value(j);
    rf_json_escape(j->wr, s, n);
}

void rf_json_int(struct rf_json *j, int64_t v)
{
    char tmp[32];

    before_value(j);
    snprintf(tmp, sizeof(tmp), "%" PRId64, v);
    put(j, tmp);
}

void rf_json_uint(struct rf_json *j, uint64_t v)
{
    char tmp[32];

    before_value(j);
    snprintf(tmp, sizeof(tmp), "%" PRIu64, v);
    put(j, tmp);
}

void rf_json_bool(struct rf_json *j, bool v)
{
    before_value(j);
    put(j, v ? "true" : "false");
}

void rf_json_null(struct rf_json *j)
{
    before_value(j);
    put(j, "null");
}
