/* fuzz_meta.c: libFuzzer driver for rf_meta_apply and rf_meta_restore on
 * arbitrary bytes. Input: byte 0 odd -> the rest is a snapshot to restore;
 * even -> a seeded image, then records of [op u8][len u16 BE][command]
 * each applied at the next offset, op choosing a builder to run and apply
 * after it. Invariants checked: builders' commands apply cleanly, and every
 * reached image survives snapshot -> restore with the same hash. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "meta.h"

static int64_t apply_built(struct rf_meta_image *img, int64_t off,
                           Riffle__MetadataCommand *cmd)
{
    size_t len = riffle__metadata_command__get_packed_size(cmd);
    uint8_t *buf = rf_malloc(len + 1);
    riffle__metadata_command__pack(cmd, buf);
    int rc = rf_meta_apply(img, ++off, buf, len);
    if (rc != RIFFLE__ERROR_CODE__NONE)
        abort(); /* a command built against this image must apply */
    rf_free(buf);
    rf_meta_command_free(cmd);
    return off;
}

static int64_t seed(struct rf_meta_image *img)
{
    int64_t off = 0;
    uint8_t inc[16];
    Riffle__Endpoint ep = RIFFLE__ENDPOINT__INIT, *eps[1] = {&ep};
    ep.name = "PLAINTEXT";
    ep.host = "127.0.0.1";
    for (int32_t id = 1; id <= 4; id++) {
        Riffle__RegisterBrokerRequest req =
            RIFFLE__REGISTER_BROKER_REQUEST__INIT;
        Riffle__RegisterBrokerResponse resp =
            RIFFLE__REGISTER_BROKER_RESPONSE__INIT;
        Riffle__MetadataCommand cmd = RIFFLE__METADATA_COMMAND__INIT;
        memset(inc, id, sizeof(inc));
        req.broker_id = id;
        req.incarnation_id.data = inc;
        req.incarnation_id.len = 16;
        req.endpoints = eps;
        req.n_endpoints = 1;
        req.rack = id % 2 ? "a" : "b";
        ep.port = (uint32_t)(9000 + id);
        if (rf_meta_build_register_broker(img, &req, false, &cmd, &resp) != 0)
            abort();
        rf_meta_response_free(&resp.base);
        off = apply_built(img, off, &cmd);
        if (rf_meta_build_unfence(img, id, &cmd) != 0)
            abort();
        off = apply_built(img, off, &cmd);
    }
    return off;
}

static int64_t run_builder(struct rf_meta_image *img, int64_t off, uint8_t op)
{
    static const struct rf_meta_defaults defs = {3, 2, 100, false};
    Riffle__MetadataCommand cmd = RIFFLE__METADATA_COMMAND__INIT;
    int32_t broker = 1 + (op >> 3) % 4;
    int rc;
    switch (op & 7) {
    case 0:
        rc = rf_meta_build_fence(img, &defs, broker, &cmd);
        break;
    case 1:
        rc = rf_meta_build_unfence(img, broker, &cmd);
        break;
    case 2:
        rc = rf_meta_build_controlled_shutdown(img, broker, &cmd);
        break;
    case 3:
        rc = rf_meta_build_preferred_leaders(img, &cmd);
        break;
    default:
        rc = -1; /* no builder: only the fuzzed command */
        break;
    }
    if (rc == 0)
        return apply_built(img, off, &cmd);
    rf_meta_command_free(&cmd);
    return off;
}

static void check_round_trip(const struct rf_meta_image *img)
{
    uint8_t *snap;
    size_t len;
    struct rf_meta_image *copy = rf_meta_image_new();
    if (rf_meta_snapshot(img, &snap, &len) != 0 ||
        rf_meta_restore(copy, snap, len) != 0 ||
        rf_meta_hash(copy) != rf_meta_hash(img))
        abort();
    rf_free(snap);
    rf_meta_image_free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rf_meta_image *img = rf_meta_image_new();
    if (size == 0)
        goto out;
    if (data[0] & 1) {
        uint64_t before = rf_meta_hash(img);
        if (rf_meta_restore(img, data + 1, size - 1) == 0)
            check_round_trip(img);
        else if (rf_meta_hash(img) != before)
            abort(); /* a refused restore leaves the image unchanged */
        goto out;
    }
    int64_t off = seed(img);
    size_t pos = 1;
    while (pos + 3 <= size) {
        uint8_t op = data[pos];
        size_t len = (size_t)data[pos + 1] << 8 | data[pos + 2];
        pos += 3;
        if (len > size - pos)
            len = size - pos;
        (void)rf_meta_apply(img, ++off, data + pos, len);
        pos += len;
        off = run_builder(img, off, op);
    }
    check_round_trip(img);
out:
    rf_meta_image_free(img);
    return 0;
}
