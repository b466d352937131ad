/* fuzz_fetch_cut.c: libFuzzer driver for rf__fetch_cut, the walk over
 * stored batches that cuts a Fetch answer at the high watermark. Input:
 * 8 bytes of limit (big-endian, made >= 0), then the batch bytes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "data_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 8)
        return 0;
    int64_t limit = (int64_t)(rf_be64_load(data) & INT64_MAX);
    size_t len = size - 8;
    /* a private copy, so reads past len are caught by ASan */
    uint8_t *p = malloc(len > 0 ? len : 1);
    memcpy(p, data + 8, len);
    size_t keep = rf__fetch_cut(p, len, limit);
    /* (not assert(): release-type builds define NDEBUG) */
    if (keep > len)
        abort();
    /* what was kept is a prefix of whole batches: cutting it again keeps
     * all of it */
    if (rf__fetch_cut(p, keep, limit) != keep)
        abort();
    free(p);
    return 0;
}
