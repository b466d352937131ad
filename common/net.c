/* net.c: parsing of host:port, listener and voter strings. */
#include "net.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

int rf_is_ipv4(const char *s)
{
    struct in_addr a;
    return inet_pton(AF_INET, s, &a) == 1;
}

static int parse_port(const char *s, uint16_t *port)
{
    char *end;
    long v;
    if (*s == '\0' || !isdigit((unsigned char)*s))
        return RF_EPARSE;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < 1 || v > 65535)
        return RF_EPARSE;
    *port = (uint16_t)v;
    return 0;
}

/* Parses exactly n bytes of s as host:port. */
static int hostport_parse_n(const char *s, size_t n, struct rf_hostport *hp)
{
    char tmp[RF_HOST_MAX + 8];
    const char *colon;
    size_t hlen;
    if (n == 0 || n >= sizeof tmp)
        return RF_EPARSE;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    colon = strrchr(tmp, ':');
    if (colon == NULL)
        return RF_EPARSE;
    hlen = (size_t)(colon - tmp);
    if (hlen == 0 || hlen >= RF_HOST_MAX)
        return RF_EPARSE;
    for (size_t i = 0; i < hlen; i++) {
        unsigned char c = (unsigned char)tmp[i];
        if (!isalnum(c) && c != '.' && c != '-' && c != '_')
            return RF_EPARSE;
    }
    if (parse_port(colon + 1, &hp->port) != 0)
        return RF_EPARSE;
    memcpy(hp->host, tmp, hlen);
    hp->host[hlen] = '\0';
    return 0;
}

int rf_hostport_parse(const char *s, struct rf_hostport *hp)
{
    return hostport_parse_n(s, strlen(s), hp);
}

int rf_listener_parse(const char *s, char *name, struct rf_hostport *hp)
{
    const char *sep = strstr(s, "://");
    if (sep == NULL) {
        snprintf(name, 32, "PLAINTEXT");
        return rf_hostport_parse(s, hp);
    }
    size_t nlen = (size_t)(sep - s);
    if (nlen == 0 || nlen >= 32)
        return RF_EPARSE;
    for (size_t i = 0; i < nlen; i++) {
        if (!isalnum((unsigned char)s[i]) && s[i] != '_')
            return RF_EPARSE;
    }
    memcpy(name, s, nlen);
    name[nlen] = '\0';
    return rf_hostport_parse(sep + 3, hp);
}

int rf_hostport_list_parse(const char *s, struct rf_hostport *out, int max)
{
    int n = 0;
    const char *p = s;
    while (1) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        while (len > 0 && isspace((unsigned char)*p)) {
            p++;
            len--;
        }
        while (len > 0 && isspace((unsigned char)p[len - 1]))
            len--;
        if (n >= max)
            return RF_ERANGE;
        if (hostport_parse_n(p, len, &out[n]) != 0)
            return RF_EPARSE;
        n++;
        if (comma == NULL)
            break;
        p = comma + 1;
    }
    return n;
}

int rf_voters_parse(const char *s, struct rf_voter *out, int max)
{
    int n = 0;
    const char *p = s;
    while (1) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        const char *at = memchr(p, '@', len);
        char idbuf[24];
        char *end;
        unsigned long long id;
        size_t idlen;
        if (n >= max)
            return RF_ERANGE;
        if (at == NULL)
            return RF_EPARSE;
        idlen = (size_t)(at - p);
        if (idlen == 0 || idlen >= sizeof idbuf)
            return RF_EPARSE;
        memcpy(idbuf, p, idlen);
        idbuf[idlen] = '\0';
        if (!isdigit((unsigned char)idbuf[0]))
            return RF_EPARSE;
        errno = 0;
        id = strtoull(idbuf, &end, 10);
        if (errno != 0 || *end != '\0' || id < 1 || id > INT32_MAX)
            return RF_EPARSE;
        if (hostport_parse_n(at + 1, len - idlen - 1, &out[n].hp) != 0)
            return RF_EPARSE;
        if (!rf_is_ipv4(out[n].hp.host))
            return RF_EPARSE;
        for (int i = 0; i < n; i++) {
            if (out[i].id == id)
                return RF_EEXIST;
        }
        out[n].id = id;
        n++;
        if (comma == NULL)
            break;
        p = comma + 1;
    }
    return n;
}
