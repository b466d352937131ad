/* fuzz_batch.c: libFuzzer driver for the record-batch validator. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rf_batch_info info;
    int64_t off, ts;

    /* Produce and follower modes, a tight and a loose size limit. */
    rf_batch_validate(data, size, 3, 1000, 0, &info);
    rf_batch_validate(data, size, 7, 1 << 20, RF_BATCH_F_FOLLOWER, &info);
    if (rf_batch_validate(data, size, 9, 1 << 20, 0, &info) == RF_BATCH_OK) {
        /* Rewrites of an accepted batch keep it acceptable. */
        uint8_t *copy = malloc(size);
        memcpy(copy, data, size);
        rf_batch_find_timestamp(copy, size, info.base_timestamp + 1, &off,
                                &ts);
        rf_batch_set_base_offset(copy, 12345);
        rf_batch_set_log_append_time(copy, size, 1700000000000LL);
        if (rf_batch_validate(copy, size, 9, 1 << 20, 0, &info) !=
            RF_BATCH_OK) {
            abort();
        }
        free(copy);
    }
    return 0;
}
