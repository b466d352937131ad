/* repl_int.h: what the replication files share, and the pure checks the
 * unit tests and fuzz targets drive. Not a contract outside this folder. */
#ifndef RF_REPL_INT_H
#define RF_REPL_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "replication.pb-c.h"
#include "repl.h"
#include "rpc.h"

#define RF_REPL_MAX_PARTITIONS 100000u /* per ReplicaFetch */
#define RF_REPL_MAX_WAIT_MS 10000u

struct rf_repl {
    uv_loop_t *loop;
    struct rf_parts *ps;
    struct rf_bmeta *bm;
    int32_t broker_id;
    uint32_t max_wait_ms;
    uint32_t max_bytes;
    uint64_t lag_max_ms;         /* replica.lag.time.max.ms */
    uv_timer_t *isr_timer;       /* owned; freed by its close callback */
    struct rf__alter *alters;    /* AlterPartition calls in flight */
    struct rf_rpc_server *srv;
    struct rf__hold *holds;      /* leader: fetches held (long poll) */
    struct rf__session *sessions; /* follower: one per leader broker */
    bool closing;
};

/* Leader: the RPC handler (leader.c) and shutdown of held fetches. */
void rf__repl_on_call(struct rf_rpc_server *srv, struct rf_rpc_call *call,
                      const Riffle__Envelope *req);
void rf__repl_holds_close(struct rf_repl *repl);

/* ISR maintenance (isr.c): check every partition led here; forget the
 * AlterPartition calls in flight at close (their callbacks free them). */
void rf__repl_isr_check(struct rf_repl *repl);
void rf__repl_isr_close(struct rf_repl *repl);

/* Follower (follower.c). */
void rf__repl_sessions_sync(struct rf_repl *repl,
                            const struct rf_meta_image *img);
void rf__repl_sessions_close(struct rf_repl *repl);

/* A ReplicaFetchRequest's shape (check.c): every partition names a topic
 * (1..249 bytes), an index >= 0, a 0- or 16-byte topic id, fetch offset >=
 * 0, durable offset <= fetch offset; at most RF_REPL_MAX_PARTITIONS. 0 or
 * RF_EINVAL with *why (static string). */
int rf__repl_check_request(const Riffle__ReplicaFetchRequest *req,
                           const char **why);

/* Records received by a follower (check.c): p[0..len) must be whole v2
 * batches, each passing its CRC and header checks, the first starting at
 * expect_base and each next one right after the previous. *next gets the
 * offset after the last batch (expect_base when len == 0). Reads only
 * p[0..len). 0, or RF_ECORRUPT (CRC / header), RF_EOFFSET (not contiguous),
 * RF_ETRUNC (a batch cut short). */
int rf__repl_check_records(const uint8_t *p, size_t len, int64_t expect_base,
                           int64_t *next);

#endif
