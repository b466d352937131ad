/* fuzz_kafka_request.c: libFuzzer driver for Kafka request decoding (header +
 * body of every API and version in the table). A decoded request must
 * re-encode and decode back to an equal message. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "header.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_round_trip(const struct rf_kafka_req *req)
{
    struct rf_wr wr;
    struct rf_arena arena;
    struct rf_kafka_req again;
    rf_wr_init(&wr, 256);
    rf_arena_init(&arena, 4096, 0);
    if (rf_kafka_request_encode(&req->hdr, req->body, &wr) != 0) {
        abort(); /* whatever we decoded, we must be able to encode */
    }
    if (rf_kafka_request_decode(wr.base + 4, wr.len - 4, &arena, NULL,
                                &again) != 0 ||
        !rf_kmsg_equal(req->api->request, req->hdr.RequestApiVersion,
                       req->body, again.body)) {
        abort();
    }
    rf_arena_close(&arena);
    rf_wr_free(&wr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rf_arena arena;
    struct rf_kafka_req req;
    struct rf_kafka_limits lim = {.max_array = 100000};
    /* a copy of exactly size bytes so ASan catches any over-read */
    uint8_t *buf = malloc(size ? size : 1);
    memcpy(buf, data, size);
    rf_arena_init(&arena, 4096, 8u << 20);
    if (rf_kafka_request_decode(buf, size, &arena, &lim, &req) == 0) {
        check_round_trip(&req);
    }
    rf_arena_close(&arena);
    free(buf);
    return 0;
}
