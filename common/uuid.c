/* uuid.c: version-4 UUIDs and their text forms (hex and Kafka base64url). */
#include "uuid.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "err.h"

void rf_uuid_generate(struct rf_uuid *u)
{
    size_t got = 0;
    while (got < sizeof u->b) {
        ssize_t n = getrandom(u->b + got, sizeof u->b - got, 0);
        if (n <= 0)
            abort(); /* getrandom never fails on a booted Linux system */
        got += (size_t)n;
    }
    u->b[6] = (uint8_t)((u->b[6] & 0x0f) | 0x40);
    u->b[8] = (uint8_t)((u->b[8] & 0x3f) | 0x80);
}

bool rf_uuid_is_zero(const struct rf_uuid *u)
{
    static const struct rf_uuid zero;
    return memcmp(u->b, zero.b, sizeof zero.b) == 0;
}

bool rf_uuid_equal(const struct rf_uuid *a, const struct rf_uuid *b)
{
    return memcmp(a->b, b->b, sizeof a->b) == 0;
}

void rf_uuid_format(const struct rf_uuid *u, char *out)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[u->b[i] >> 4];
        out[o++] = hex[u->b[i] & 15];
    }
    out[o] = '\0';
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int rf_uuid_parse(const char *s, struct rf_uuid *u)
{
    struct rf_uuid tmp;
    size_t i = 0;
    if (strlen(s) != RF_UUID_STR_LEN)
        return RF_EPARSE;
    for (int b = 0; b < 16; b++) {
        int hi, lo;
        if (b == 4 || b == 6 || b == 8 || b == 10) {
            if (s[i++] != '-')
                return RF_EPARSE;
        }
        hi = hexval(s[i++]);
        lo = hexval(s[i++]);
        if (hi < 0 || lo < 0)
            return RF_EPARSE;
        tmp.b[b] = (uint8_t)(hi << 4 | lo);
    }
    *u = tmp;
    return 0;
}

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

void rf_uuid_format_b64(const struct rf_uuid *u, char *out)
{
    size_t o = 0;
    for (int i = 0; i < 16; i += 3) {
        uint32_t v = (uint32_t)u->b[i] << 16;
        int n = 16 - i >= 3 ? 3 : 16 - i;
        if (n > 1)
            v |= (uint32_t)u->b[i + 1] << 8;
        if (n > 2)
            v |= u->b[i + 2];
        out[o++] = b64[(v >> 18) & 63];
        out[o++] = b64[(v >> 12) & 63];
        if (n > 1)
            out[o++] = b64[(v >> 6) & 63];
        if (n > 2)
            out[o++] = b64[v & 63];
    }
    out[o] = '\0';
}

int rf_uuid_parse_b64(const char *s, struct rf_uuid *u)
{
    struct rf_uuid tmp;
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;
    if (strlen(s) != RF_UUID_B64_LEN)
        return RF_EPARSE;
    for (size_t i = 0; i < RF_UUID_B64_LEN; i++) {
        const char *pos = strchr(b64, s[i]);
        if (pos == NULL || s[i] == '\0')
            return RF_EPARSE;
        acc = (acc << 6) | (uint32_t)(pos - b64);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            tmp.b[o++] = (uint8_t)(acc >> bits);
        }
    }
    /* 22 chars carry 132 bits: the last 4 must be zero padding. */
    if ((acc & ((1u << bits) - 1)) != 0 || o != 16)
        return RF_EPARSE;
    *u = tmp;
    return 0;
}
