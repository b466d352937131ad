/* node_entry.c: framing and bounded parsing of the controller's Raft entries.
 */
#include "node_entry.h"

#include <assert.h>
#include <string.h>

#include "buf.h"
#include "err.h"

static int unpadded; /* fault injection, see rf_entry_set_unpadded */

void rf_entry_set_unpadded(int on)
{
    unpadded = on;
}

size_t rf_entry_framed_size(size_t len)
{
    if (unpadded) {
        return RF_ENTRY_HEADER + len;
    }
    return (RF_ENTRY_HEADER + len + 7u) & ~(size_t)7u;
}

int rf_entry_frame(uint32_t type,
                   const void *payload,
                   size_t len,
                   struct raft_buffer *out)
{
    size_t total;
    uint8_t *p;

    if (len > RF_ENTRY_MAX_PAYLOAD) {
        return RF_ETOOBIG;
    }
    total = rf_entry_framed_size(len);
    p = raft_malloc(total);
    if (p == NULL) {
        return RF_ENOMEM;
    }
    rf_be32_store(p, (uint32_t)len);
    rf_be32_store(p + 4, type);
    if (len > 0) {
        memcpy(p + RF_ENTRY_HEADER, payload, len);
    }
    memset(p + RF_ENTRY_HEADER + len, 0, total - RF_ENTRY_HEADER - len);
    /* raft notes P1: every entry a multiple of 8, or followers diverge. */
    assert(unpadded || total % 8 == 0);
    out->base = p;
    out->len = total;
    return 0;
}

int rf_entry_parse(const void *buf,
                   size_t len,
                   uint32_t *type,
                   const uint8_t **payload,
                   size_t *payload_len)
{
    struct rf_rd rd;
    uint32_t plen;
    const uint8_t *pad;
    size_t npad;
    size_t i;

    rf_rd_init(&rd, buf, len);
    if (rf_rd_u32(&rd, &plen) != 0 || rf_rd_u32(&rd, type) != 0) {
        return RF_ETRUNC;
    }
    if (plen > RF_ENTRY_MAX_PAYLOAD) {
        return RF_ETOOBIG;
    }
    if (rf_rd_bytes(&rd, plen, payload) != 0) {
        return RF_ETRUNC;
    }
    npad = rf_rd_remaining(&rd);
    if ((len % 8 != 0 && !unpadded) || npad > 7 ||
        rf_rd_bytes(&rd, npad, &pad) != 0) {
        return RF_EPARSE;
    }
    for (i = 0; i < npad; i++) {
        if (pad[i] != 0) {
            return RF_EPARSE;
        }
    }
    *payload_len = plen;
    return 0;
}
