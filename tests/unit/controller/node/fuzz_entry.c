/* fuzz_entry.c: libFuzzer driver for rf_entry_parse (Raft entry bytes). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "node_entry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *payload;
    size_t len;
    uint32_t type;

    if (rf_entry_parse(data, size, &type, &payload, &len) == 0) {
        /* the slice must lie inside the input */
        if (payload < data || payload + len > data + size) {
            __builtin_trap();
        }
        if (len > 0 && payload[len - 1] != data[8 + len - 1]) {
            __builtin_trap();
        }
    }
    return 0;
}
