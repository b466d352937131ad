/* frame.c: size-prefixed Kafka frames, checked before allocation. */
#include "frame.h"

#include "buf.h"
#include "err.h"

ssize_t rf_kafka_frame_decode(const void *p, size_t len, size_t min_size,
                              size_t max_size, uint32_t *size,
                              const uint8_t **body)
{
    *body = NULL;
    if (len < 4) {
        return RF_EAGAIN;
    }
    uint32_t n = rf_be32_load(p);
    *size = n;
    if (n > (uint32_t)INT32_MAX || (size_t)n > max_size) {
        return RF_ETOOBIG;
    }
    if ((size_t)n < min_size) {
        return RF_EPARSE;
    }
    if (len - 4 < (size_t)n) {
        return RF_EAGAIN;
    }
    *body = (const uint8_t *)p + 4;
    return (ssize_t)(4 + (size_t)n);
}
