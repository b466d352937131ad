/* frame.h: Kafka's size-prefixed framing (int32 big-endian length + body). */
#ifndef RF_KAFKA_FRAME_H
#define RF_KAFKA_FRAME_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Smallest request body: request header v1 with a null ClientId
 * (ApiKey int16, ApiVersion int16, CorrelationId int32, ClientId int16). */
#define RF_KAFKA_MIN_REQUEST 10
/* Smallest response body: the CorrelationId. */
#define RF_KAFKA_MIN_RESPONSE 4

/* Look at the start of a byte stream. With fewer than 4 bytes, RF_EAGAIN.
 * Otherwise the size is checked *before* the body is needed: below min_size
 * -> RF_EPARSE, above max_size (socket.request.max.bytes) -> RF_ETOOBIG,
 * so a caller can refuse a 2 GiB frame without reading or allocating it.
 * *size always gets the announced body size once 4 bytes are there. If the
 * whole body is present, *body points into p and the frame length (4 +
 * size) is returned; else RF_EAGAIN. */
ssize_t rf_kafka_frame_decode(const void *p, size_t len, size_t min_size,
                              size_t max_size, uint32_t *size,
                              const uint8_t **body);

#endif
