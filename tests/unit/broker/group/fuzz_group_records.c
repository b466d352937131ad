/* fuzz_group_records.c: libFuzzer driver for the __consumer_offsets record
 * decoder (broker/group/records.c). */
#include <stddef.h>
#include <stdint.h>

#include "records.h"

static int sink(void *data, const struct rf_group_rec *rec)
{
    size_t *n = data;
    *n += rec->group.n + rec->topic.n + (rec->tombstone ? 0 : rec->metadata.n);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t n = 0;
    (void)rf_group_rec_decode(data, size, sink, &n);
    return 0;
}
