/* builder.h: builds valid uncompressed v2 record batches for tests, the
 * crash tool and the benchmark. */
#ifndef RF_TEST_STORAGE_BUILDER_H
#define RF_TEST_STORAGE_BUILDER_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct rf_test_batch_spec {
    int nrecords;       /* records in the batch */
    size_t value_size;  /* bytes of each value (filled from seed) */
    int64_t base_ts;    /* record i has timestamp base_ts + i */
    uint32_t seed;      /* value bytes pattern */
    int16_t attributes; /* written as is; codec bits should be 0 */
};

/* Append one batch to wr (baseOffset 0, CRC valid); returns its size. */
size_t rf_test_build_batch(struct rf_wr *wr,
                           const struct rf_test_batch_spec *spec);
/* Recompute the CRC of the batch at p (after a test edits a field). */
void rf_test_fix_crc(uint8_t *p, size_t size);

#endif
