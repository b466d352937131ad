/* fuzz_varint.c: the bounded reader never reads out of bounds, and every
 * varint it accepts re-encodes to the same value. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rf_rd rd;
    rf_rd_init(&rd, data, size);
    while (rf_rd_remaining(&rd) > 0) {
        uint8_t sel;
        if (rf_rd_u8(&rd, &sel) != 0)
            break;
        size_t before = rd.off;
        int rv;
        switch (sel % 6) {
        case 0: {
            uint64_t v;
            rv = rf_rd_uvarint64(&rd, &v);
            if (rv == 0) {
                struct rf_wr wr;
                struct rf_rd back;
                uint64_t w;
                rf_wr_init(&wr, 0);
                rf_wr_uvarint64(&wr, v);
                rf_rd_init(&back, wr.base, wr.len);
                if (rf_rd_uvarint64(&back, &w) != 0 || w != v)
                    abort();
                rf_wr_free(&wr);
            }
            break;
        }
        case 1: {
            int32_t v;
            rv = rf_rd_varint32(&rd, &v);
            break;
        }
        case 2: {
            int64_t v;
            rv = rf_rd_varint64(&rd, &v);
            break;
        }
        case 3: {
            uint32_t v;
            rv = rf_rd_uvarint32(&rd, &v);
            break;
        }
        case 4: {
            int64_t v;
            rv = rf_rd_i64(&rd, &v);
            break;
        }
        default: {
            const uint8_t *p;
            uint8_t n = 0;
            rv = rf_rd_u8(&rd, &n);
            if (rv == 0)
                rv = rf_rd_bytes(&rd, n, &p);
            break;
        }
        }
        if (rd.off > rd.len)
            abort();
        if (rv != 0 && sel % 6 != 5 && rd.off != before)
            abort(); /* a failed read must not move the cursor */
        if (rv != 0)
            break;
    }
    return 0;
}
