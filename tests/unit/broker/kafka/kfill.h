/* kfill.h: fills any Kafka message with deterministic pseudo-random values
 * from its descriptor (test data for round trips). */
#ifndef RF_TEST_KFILL_H
#define RF_TEST_KFILL_H

#include <stdint.h>

#include "codec.h"

/* Fill mode: SMALL keeps arrays and strings short; BIG crosses the one-byte
 * uvarint boundary (lengths and counts >= 127); NULLS makes every nullable
 * field null and every array empty. */
enum kfill_mode { KFILL_SMALL, KFILL_BIG, KFILL_NULLS };

/* Fill out (a struct for msg) for version ver; memory comes from arena. */
void kfill_msg(const struct rf_kmsg *msg, int16_t ver, enum kfill_mode mode,
               uint64_t seed, struct rf_arena *arena, void *out);

#endif
