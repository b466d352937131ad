/* rpc_int.h: the RPC layer's pure frame codec, shared with its tests and
 * fuzz target only (not part of the rpc.h contract). */
#ifndef RF_RPC_INT_H
#define RF_RPC_INT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "rpc.pb-c.h"

/* Size of the frame header: a u32 big-endian body length. */
#define RF__RPC_HDR 4u

/* Parse one frame at the start of buf[0..len). On success returns the bytes
 * consumed (header plus body) and sets *body (points into buf) and
 * *body_len. Returns RF_EAGAIN when more bytes are needed, RF_ETOOBIG as soon
 * as the header announces more than max_frame bytes (before any body byte
 * has arrived), RF_EPARSE for a zero-length body. Never allocates. */
ssize_t rf__rpc_frame_parse(const uint8_t *buf, size_t len, uint32_t max_frame,
                            const uint8_t **body, size_t *body_len);

/* Unpack a frame body (borrowed) into *out: returns owned; free with
 * riffle__envelope__free_unpacked(*out, NULL). RF_EPARSE when the bytes
 * are not an Envelope. */
int rf__rpc_envelope_unpack(const uint8_t *body, size_t body_len,
                            Riffle__Envelope **out);

/* Size of env (borrowed) packed as a whole frame, header included. Returns
 * RF_ETOOBIG when the body would exceed max_frame, RF_EPARSE when it would be
 * empty (a zero-length frame is invalid on the wire). */
ssize_t rf__rpc_frame_size(const Riffle__Envelope *env, uint32_t max_frame);
/* Pack env as a frame into out, which holds exactly frame_len bytes as
 * returned by rf__rpc_frame_size() for the same, unchanged env. */
void rf__rpc_frame_write(const Riffle__Envelope *env, uint8_t *out,
                         size_t frame_len);

/* Reconnect backoff: the delay after `cur` doubles, capped at max. */
uint32_t rf__rpc_backoff_next(uint32_t cur, uint32_t max);
/* ms scaled by a random factor in [0.80, 1.20] drawn from *rng (xorshift64,
 * state must be non-zero), so clients that lost the same peer spread out. */
uint32_t rf__rpc_jitter(uint64_t *rng, uint32_t ms);

#endif
