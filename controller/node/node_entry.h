/* node_entry.h: the framing of every Raft entry the controller submits, padded
 * to 8 bytes because canonical/raft 0.15 corrupts other sizes (raft notes P1).
 */
#ifndef RF_NODE_ENTRY_H
#define RF_NODE_ENTRY_H

#include <stddef.h>
#include <stdint.h>

#include <raft.h>

/* Layout: [u32 be payload len][u32 be type][payload][zero pad to 8 bytes]. */
#define RF_ENTRY_HEADER 8u
/* Bound on one payload: a metadata command is far smaller. */
#define RF_ENTRY_MAX_PAYLOAD (16u * 1024u * 1024u)

enum rf_entry_type {
    RF_ENTRY_METADATA_COMMAND = 1, /* a packed riffle.MetadataCommand */
};

/* Total framed size of a payload of len bytes (a multiple of 8). */
size_t rf_entry_framed_size(size_t len);

/* Frame payload (borrowed) into out->base, a fresh raft_malloc buffer whose
 * length is a multiple of 8. Returns 0, RF_ETOOBIG over the payload bound,
 * or RF_ENOMEM when raft_malloc fails. On success the caller owns out->base
 * (raft takes it on a successful raft_apply). */
int rf_entry_frame(uint32_t type,
                   const void *payload,
                   size_t len,
                   struct raft_buffer *out);

/* Parse a framed entry (borrowed bytes, e.g. raft's apply buffer): *payload
 * points into buf. Returns 0; RF_ETRUNC when shorter than the header or the
 * announced payload; RF_EPARSE when the total is not a multiple of 8, the
 * padding is longer than 7 bytes or not zero; RF_ETOOBIG when the announced
 * length is over RF_ENTRY_MAX_PAYLOAD. */
int rf_entry_parse(const void *buf,
                   size_t len,
                   uint32_t *type,
                   const uint8_t **payload,
                   size_t *payload_len);

/* Fault injection for the negative integration test only: frame without
 * padding and accept unpadded entries, reproducing raft 0.15's
 * multi-entry decode bug (raft notes P1). Enabled when the environment has
 * RIFFLE_TEST_UNPADDED_ENTRIES=1 at startup; never set it in production. */
void rf_entry_set_unpadded(int on);

#endif
