/* uuid.h: random (v4) UUIDs, as Kafka uses for topic ids, cluster ids and
 * broker incarnations. */
#ifndef RF_UUID_H
#define RF_UUID_H

#include <stdbool.h>
#include <stdint.h>

struct rf_uuid {
    uint8_t b[16];
};

#define RF_UUID_STR_LEN 36    /* 8-4-4-4-12 hex */
#define RF_UUID_B64_LEN 22    /* Kafka's base64url form without padding */

/* Fills u with 122 random bits from getrandom(2) (version 4, variant 1). */
void rf_uuid_generate(struct rf_uuid *u);
bool rf_uuid_is_zero(const struct rf_uuid *u);
bool rf_uuid_equal(const struct rf_uuid *a, const struct rf_uuid *b);
/* out must hold RF_UUID_STR_LEN + 1 bytes. */
void rf_uuid_format(const struct rf_uuid *u, char *out);
/* Parses the 36-char form; RF_EPARSE otherwise. */
int rf_uuid_parse(const char *s, struct rf_uuid *u);
/* Kafka's printable form (e.g. topic ids in kafka-topics): out >= 23 bytes. */
void rf_uuid_format_b64(const struct rf_uuid *u, char *out);
int rf_uuid_parse_b64(const char *s, struct rf_uuid *u);

#endif
