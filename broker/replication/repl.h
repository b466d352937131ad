/* repl.h: partition replication between brokers (docs/replication.md): the
 * leader side (a replication RPC server answering ReplicaFetch) and the
 * follower fetchers (one session per leader broker, every partition it
 * follows from that leader in one request).
 *
 * Happy path: rf_repl_start() listens on the REPLICATION listener;
 * rf_repl_sync() after every rf_parts_sync() opens or closes follower
 * sessions to match the partitions this broker follows; followers append
 * what the leader sends, fdatasync it, and report their durable offset in
 * the next fetch, which moves the leader's high watermark.
 *
 * Failure modes: a leader that cannot be reached is retried with backoff;
 * a fetch refused (fenced epoch, not leader) waits for the next metadata;
 * records that fail their CRC or offset checks are dropped and fetched
 * again. Loop thread only. */
#ifndef RF_REPL_H
#define RF_REPL_H

#include <stdint.h>
#include <uv.h>

#include "bmeta.h"
#include "parts.h"

struct rf_repl;

struct rf_repl_opts {
    int32_t broker_id;
    const char *host;     /* REPLICATION listener to bind */
    uint16_t port;        /* 0: pick a free one */
    uint32_t max_wait_ms; /* leader holds an empty fetch; 0: 500 */
    uint32_t max_bytes;   /* per partition per fetch; 0: 1 MiB */
    uint32_t replica_lag_time_max_ms; /* ISR shrink; 0: 30000 */
};

/* Start the replication server. ps and bm are borrowed and must outlive
 * the returned object (owned; close with rf_repl_close). Errors: the RPC
 * server's (bind), errmsg set. */
int rf_repl_start(uv_loop_t *loop, struct rf_parts *ps, struct rf_bmeta *bm,
                  const struct rf_repl_opts *opts, struct rf_repl **out,
                  char *errmsg);
uint16_t rf_repl_port(const struct rf_repl *repl);

/* Call after rf_parts_sync(ps, img): follow the partitions img says. */
void rf_repl_sync(struct rf_repl *repl, const struct rf_meta_image *img);

/* Answer held fetches, stop the server and the followers, free repl. Must
 * run before rf_parts_free (followers' pending flushes finish or are
 * cancelled by the logs' close). */
void rf_repl_close(struct rf_repl *repl);

#endif
