/* crc32c.c: CRC-32C (Castagnoli, reflected polynomial 0x82F63B78): SSE4.2
 * crc32 instructions when the CPU has them, else slicing-by-8 tables. */
#include "crc32c.h"

#include <pthread.h>
#include <string.h>

#define POLY 0x82F63B78u

static uint32_t table[8][256];
static pthread_once_t table_once = PTHREAD_ONCE_INIT;
static int hw_checked;
static int hw_available;

static void table_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t crc = i;
        for (int k = 0; k < 8; k++)
            crc = (crc & 1) ? (crc >> 1) ^ POLY : crc >> 1;
        table[0][i] = crc;
    }
    for (uint32_t i = 0; i < 256; i++) {
        for (int t = 1; t < 8; t++)
            table[t][i] = (table[t - 1][i] >> 8) ^ table[0][table[t - 1][i] & 0xff];
    }
}

uint32_t rf__crc32c_sw(uint32_t crc, const void *data, size_t len)
{
    const uint8_t *p = data;
    pthread_once(&table_once, table_init);
    crc = ~crc;
    while (len && ((uintptr_t)p & 7)) {
        crc = (crc >> 8) ^ table[0][(crc ^ *p++) & 0xff];
        len--;
    }
    while (len >= 8) {
        uint32_t lo, hi;
        memcpy(&lo, p, 4);
        memcpy(&hi, p + 4, 4);
        lo ^= crc; /* little-endian host assumed (x86_64, aarch64) */
        crc = table[7][lo & 0xff] ^ table[6][(lo >> 8) & 0xff] ^
              table[5][(lo >> 16) & 0xff] ^ table[4][lo >> 24] ^
              table[3][hi & 0xff] ^ table[2][(hi >> 8) & 0xff] ^
              table[1][(hi >> 16) & 0xff] ^ table[0][hi >> 24];
        p += 8;
        len -= 8;
    }
    while (len--)
        crc = (crc >> 8) ^ table[0][(crc ^ *p++) & 0xff];
    return ~crc;
}

#if defined(__x86_64__)
#include <cpuid.h>

__attribute__((target("sse4.2"))) uint32_t
rf__crc32c_hw(uint32_t crc, const void *data, size_t len)
{
    const uint8_t *p = data;
    uint64_t c = ~crc;
    while (len && ((uintptr_t)p & 7)) {
        c = __builtin_ia32_crc32qi((uint32_t)c, *p++);
        len--;
    }
    while (len >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        c = __builtin_ia32_crc32di(c, w);
        p += 8;
        len -= 8;
    }
    while (len--)
        c = __builtin_ia32_crc32qi((uint32_t)c, *p++);
    return ~(uint32_t)c;
}

int rf__crc32c_hw_available(void)
{
    if (!hw_checked) {
        unsigned eax, ebx, ecx, edx;
        hw_available = __get_cpuid(1, &eax, &ebx, &ecx, &edx) &&
                       (ecx & bit_SSE4_2) != 0;
        hw_checked = 1;
    }
    return hw_available;
}
#else
uint32_t rf__crc32c_hw(uint32_t crc, const void *data, size_t len)
{
    return rf__crc32c_sw(crc, data, len);
}

int rf__crc32c_hw_available(void)
{
    (void)hw_checked;
    (void)hw_available;
    return 0;
}
#endif

uint32_t rf_crc32c(uint32_t crc, const void *data, size_t len)
{
    if (rf__crc32c_hw_available())
        return rf__crc32c_hw(crc, data, len);
    return rf__crc32c_sw(crc, data, len);
}
