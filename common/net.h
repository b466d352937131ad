/* net.h: address parsing shared by every process (IPv4 literals only for the
 * Raft ports; host names allowed where we resolve them ourselves). */
#ifndef RF_NET_H
#define RF_NET_H

#include <stdint.h>

#define RF_HOST_MAX 256

struct rf_hostport {
    char host[RF_HOST_MAX];
    uint16_t port;
};

/* "host:port" (port 1-65535; host non-empty, no spaces). RF_EPARSE else. */
int rf_hostport_parse(const char *s, struct rf_hostport *hp);
/* A listener "NAME://host:port" or "host:port" (name then "PLAINTEXT").
 * name must hold 32 bytes. */
int rf_listener_parse(const char *s, char *name, struct rf_hostport *hp);
/* Comma-separated list of host:port; returns the count (>= 1) or a
 * negative RF_E*. At most max entries (RF_ERANGE beyond). */
int rf_hostport_list_parse(const char *s, struct rf_hostport *out, int max);

/* controller.quorum.voters: "1@127.0.0.1:9093,2@127.0.0.1:9094". Each host
 * must be an IPv4 dotted quad (canonical/raft needs it); ids unique, >= 1. */
struct rf_voter {
    uint64_t id;
    struct rf_hostport hp;
};
int rf_voters_parse(const char *s, struct rf_voter *out, int max);

/* True when s is an IPv4 dotted quad. */
int rf_is_ipv4(const char *s);

#endif
