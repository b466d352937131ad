/* fuzz_rpc_frame.c: libFuzzer driver for the RPC frame parser and Envelope
 * unpack, as the connection reader uses them, plus a repack round trip. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "rpc_int.h"

/* Small enough that the fuzzer reaches both sides of the size check. */
#define FUZZ_MAX_FRAME 4096u

/* A body that unpacked must repack, and the repacked frame must parse and
 * unpack to bytes that repack identically. */
static void check_repack(const Riffle__Envelope *env)
{
    ssize_t n = rf__rpc_frame_size(env, UINT32_MAX);
    uint8_t *buf, *buf2;
    const uint8_t *body;
    size_t body_len;
    Riffle__Envelope *again;

    if (n == RF_EPARSE)
        return; /* everything default: packs to nothing */
    if (n < 0)
        abort();
    buf = malloc((size_t)n);
    rf__rpc_frame_write(env, buf, (size_t)n);
    if (rf__rpc_frame_parse(buf, (size_t)n, UINT32_MAX, &body, &body_len) != n)
        abort();
    if (rf__rpc_envelope_unpack(body, body_len, &again) != 0)
        abort();
    if (rf__rpc_frame_size(again, UINT32_MAX) != n)
        abort();
    buf2 = malloc((size_t)n);
    rf__rpc_frame_write(again, buf2, (size_t)n);
    if (memcmp(buf, buf2, (size_t)n) != 0)
        abort();
    riffle__envelope__free_unpacked(again, NULL);
    free(buf2);
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t off = 0;

    /* the reader loop: consume frames until more input is needed or the
     * connection would be closed */
    while (off < size) {
        const uint8_t *body = NULL;
        size_t body_len = 0;
        Riffle__Envelope *env;
        ssize_t n = rf__rpc_frame_parse(data + off, size - off,
                                        FUZZ_MAX_FRAME, &body, &body_len);
        if (n == RF_EAGAIN || n == RF_ETOOBIG || n == RF_EPARSE)
            break;
        if (n < (ssize_t)(RF__RPC_HDR + 1) || (size_t)n > size - off ||
            body != data + off + RF__RPC_HDR ||
            body_len != (size_t)n - RF__RPC_HDR || body_len > FUZZ_MAX_FRAME)
            abort();
        if (rf__rpc_envelope_unpack(body, body_len, &env) != 0)
            break;
        check_repack(env);
        riffle__envelope__free_unpacked(env, NULL);
        off += (size_t)n;
    }
    return 0;
}
