/* node.h: one riffle-controller process: the canonical/raft 0.15 voter, its
 * metadata state machine and the controller RPC service on one libuv loop.
 *
 * Happy path: rf_node_run() takes the dir lock, starts raft (bootstrapping
 * every voter with the same configuration), watches leadership from a
 * uv_check_t, and once a barrier committed in its own term it acts as the
 * active controller: writes go through rf_node_submit() (one padded entry
 * per command), reads come from the image.
 *
 * Failure modes: raft UNAVAILABLE that we did not cause logs raft_errmsg
 * and exits non-zero; SIGTERM/SIGINT stops the RPC listener, transfers
 * leadership, drains queued appends, then closes raft; a drain that has not
 * finished after a few seconds ends the process with _exit(). */
#ifndef RF_NODE_H
#define RF_NODE_H

#include "node_conf.h"

/* Run a controller with a loaded configuration (borrowed) until it is
 * stopped by a signal. Returns the process exit code: 0 after a clean
 * shutdown (uv_loop_close() == 0), non-zero with errmsg set otherwise. */
int rf_node_run(struct rf_node_conf *conf, char *errmsg);

#endif
