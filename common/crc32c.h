/* crc32c.h: CRC-32C (Castagnoli), SSE4.2 when the CPU has it, else a
 * slicing-by-8 table. Chainable like zlib's crc32: start with 0. */
#ifndef RF_CRC32C_H
#define RF_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* crc32c("123456789") == 0xE3069283. rf_crc32c(rf_crc32c(0, a), b) equals
 * the CRC of a||b. */
uint32_t rf_crc32c(uint32_t crc, const void *data, size_t len);

/* The two implementations, exposed for tests and benchmarks. */
uint32_t rf__crc32c_sw(uint32_t crc, const void *data, size_t len);
uint32_t rf__crc32c_hw(uint32_t crc, const void *data, size_t len);
/* 1 when the SSE4.2 path is usable on this CPU. */
int rf__crc32c_hw_available(void);

#endif
