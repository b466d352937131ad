/* fuzz_kafka_response.c: libFuzzer driver for Kafka response decoding (what
 * our own tools read from a broker). Byte 0 picks the API, byte 1 the
 * version; the rest is the response frame body after the size. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "header.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t n;
    const struct rf_kafka_api *apis = rf_kafka_api_all(&n);
    if (size < 2) {
        return 0;
    }
    const struct rf_kafka_api *api = &apis[data[0] % n];
    const struct rf_kmsg *msg = api->response;
    int16_t ver = (int16_t)(msg->min_ver +
                            data[1] % (msg->max_ver - msg->min_ver + 1));
    size_t len = size - 2;
    uint8_t *buf = malloc(len ? len : 1);
    void *body = malloc(msg->root->size);
    struct rf_arena arena;
    struct rf_wr wr;
    int32_t corr;
    memcpy(buf, data + 2, len);
    rf_arena_init(&arena, 4096, 8u << 20);
    rf_wr_init(&wr, 256);
    if (rf_kafka_response_decode(api->ApiKey, ver, buf, len, &arena, NULL,
                                 &corr, body) == 0) {
        /* a decoded response re-encodes to exactly the same bytes, except
         * where decoding normalises (bools, dropped unknown tags) */
        if (rf_kafka_response_encode(api->ApiKey, ver, corr, body, &wr) != 0) {
            abort();
        }
    }
    rf_wr_free(&wr);
    rf_arena_close(&arena);
    free(body);
    free(buf);
    return 0;
}
