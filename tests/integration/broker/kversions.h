/* kversions.h: what kversions.c shares with the per-area checks it runs
 * (tests/integration/groups/kversions_groups.c). */
#ifndef RF_KVERSIONS_H
#define RF_KVERSIONS_H

#include <stdint.h>
#include <string.h>

#include "arena.h"
#include "codec.h"

#define KS(s) ((struct rf_kstr){(s), (int32_t)strlen(s)})

extern const char *topic;     /* the test topic (one partition) */
extern struct rf_arena arena; /* reset after every (API, version) */

/* Print the failure and exit 1. */
void fail(const char *api, int16_t v, const char *why)
    __attribute__((noreturn));
/* Send one request, read and decode its answer into resp. */
void roundtrip(int16_t key, int16_t ver, const char *name, const void *req,
               void *resp);
void check_code(const char *name, int16_t ver, int16_t code);
/* The group APIs: 1 when key is one of them and every check passed. */
int kversions_group(int16_t key, int16_t v);

#endif
