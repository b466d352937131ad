/* node_int.h: the controller node's state, shared only by the files of
 * controller/node (node.c raft side, service.c RPC, brokers.c liveness). */
#ifndef RF_NODE_INT_H
#define RF_NODE_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <raft.h>
#include <raft/uv.h>
#include <uv.h>

#include "node_conf.h"
#include "meta.h"
#include "rpc.h"

struct rf_node;
struct rf_metrics;
struct rf_http;

/* Called when a submitted command has been applied (status 0, result =
 * the riffle ErrorCode the state machine gave it), when leadership was lost
 * with the outcome unknown (RF_ECANCELED), or on a local raft error
 * (RF_EIO). */
typedef void (*rf_node_applied_cb)(struct rf_node *node,
                                   void *data,
                                   int status,
                                   int result);

struct rf_node_session {
    int32_t broker_id;
    int64_t epoch;
    uint64_t last_hb_ms; /* monotonic; 0: none seen */
    uint64_t hb_conn;    /* RPC connection of the last heartbeat; 0: none */
    uint64_t lost_ms;    /* monotonic: when hb_conn closed; 0: open */
    bool fence_inflight;
    bool unfence_inflight;
    bool seen; /* a heartbeat arrived from this controller */
};

struct rf_node_poll {
    struct rf_node_poll *next;
    struct rf_rpc_call *call;
    int64_t since;
    uint64_t deadline_ms;
};

struct rf_node_peer {
    struct rf_rpc_client *client;
    char host[RF_HOST_MAX];
    uint16_t port;
};

struct rf_node {
    struct rf_node_conf *conf;
    uv_loop_t loop;
    struct raft_uv_transport transport;
    struct raft_io io;
    struct raft_fsm fsm;
    struct raft raft;
    struct rf_meta_image *img;
    struct rf_meta_defaults defs;
    /* our handles */
    uv_check_t watcher;
    uv_timer_t tick;
    uv_timer_t watchdog;
    uv_signal_t sigterm;
    uv_signal_t sigint;
    struct rf_rpc_server *srv;
    /* leadership */
    int last_state;
    raft_term last_term;
    raft_id leader_id;
    bool active;
    raft_term active_term;
    bool barrier_pending;
    raft_term barrier_term;
    struct raft_barrier barrier;
    unsigned outstanding; /* raft_apply requests without a callback yet */
    bool wake_polls;
    /* shutdown */
    bool started;
    bool handles_init;
    bool stopping;
    bool closing;
    bool transfer_pending;
    struct raft_transfer transfer;
    /* controller duties */
    struct rf_node_poll *polls;
    unsigned n_polls;
    struct rf_node_session *sessions;
    size_t n_sessions;
    struct rf_node_peer peers[RF_NODE_MAX_VOTERS];
    bool register_inflight;
    uint64_t next_register_ms;
    uint64_t next_rebalance_ms;
    bool rebalance_inflight;
    bool reassign_inflight; /* reassign.c: a completion command in flight */
    int64_t reassign_seen;  /* image offset of the last check with no work */
    /* metrics.listener (obs.c); NULL without one */
    struct rf_metrics *metrics;
    struct rf_http *http;
};

/* node.c */
/* Pack cmd (borrowed; its request_id is replaced by request_id, or a fresh
 * one when NULL), frame it and raft_apply it. Returns 0 (cb fires later,
 * never inside this call) or RF_ENOTCONTROLLER / RF_ENOMEM / RF_EIO (cb
 * never fires). Active controller only. */
int rf__node_submit(struct rf_node *node,
                    Riffle__MetadataCommand *cmd,
                    const uint8_t *request_id,
                    rf_node_applied_cb cb,
                    void *data);
const char *rf__node_role(const struct rf_node *node);

/* service.c */
void rf__node_on_call(struct rf_rpc_server *srv,
                      struct rf_rpc_call *call,
                      const Riffle__Envelope *req);
void rf__node_polls_wake(struct rf_node *node);
void rf__node_polls_sweep(struct rf_node *node, uint64_t now_ms);
/* Answer every held poll with code (NOT_CONTROLLER, SHUTTING_DOWN). */
void rf__node_polls_flush(struct rf_node *node, int code);
void rf__node_peers_close(struct rf_node *node);
void rf__node_register_self(struct rf_node *node, uint64_t now_ms);
/* Routing (exposed for the unit test): response case of a request case,
 * and whether it needs the active controller; 0 for a body that is not a
 * request. */
int rf__node_route(int req_case, bool *needs_active);
/* Fill env with a response of resp_case that carries only st (borrowed);
 * returns the allocated message (free with rf__node_status_free). */
ProtobufCMessage *rf__node_status_response(int resp_case,
                                           Riffle__Status *st,
                                           Riffle__Envelope *env);
void rf__node_status_free(ProtobufCMessage *msg);
/* Status for code; NOT_CONTROLLER gets the leader hint (ep is storage). */
void rf__node_status_fill(struct rf_node *node,
                          Riffle__Status *st,
                          Riffle__Endpoint *ep,
                          int code,
                          const char *message);
/* Reply with msg (borrowed) as the envelope body resp_case. */
void rf__node_reply_msg(struct rf_rpc_call *call,
                        int resp_case,
                        ProtobufCMessage *msg);

/* obs.c: start the metrics listener when configured (errmsg on a bind
 * failure), close it (shutdown), free the registry (after the loop). */
int rf__node_obs_start(struct rf_node *node, char *errmsg);
void rf__node_obs_stop(struct rf_node *node);
void rf__node_obs_free(struct rf_node *node);

/* cluster.c */
void rf__node_describe_cluster(struct rf_node *node,
                               struct rf_rpc_call *call,
                               const Riffle__Envelope *req);

/* brokers.c */
void rf__node_sessions_reset(struct rf_node *node, uint64_t now_ms);
void rf__node_sessions_check(struct rf_node *node, uint64_t now_ms);
/* One info line per partition whose leader, ISR or replicas cmd changes
 * (against the current image), with the reason; before submitting it. */
void rf__node_log_partition_changes(struct rf_node *node,
                                    const Riffle__MetadataCommand *cmd,
                                    const char *reason);
/* rf_rpc_server_opts.on_conn_closed of the controller RPC listener. */
void rf__node_conn_closed(struct rf_rpc_server *srv, uint64_t conn_id);
void rf__node_sessions_free(struct rf_node *node);
struct rf_node_session *rf__node_session_get(struct rf_node *node,
                                             int32_t broker_id,
                                             bool create);
void rf__node_heartbeat(struct rf_node *node,
                        struct rf_rpc_call *call,
                        const Riffle__BrokerHeartbeatRequest *req);
void rf__node_rebalance(struct rf_node *node, uint64_t now_ms);

/* reassign.c: submit the completion of every reassignment whose target
 * replicas are all in the ISR (one command in flight at a time). */
void rf__node_reassign_check(struct rf_node *node);

#endif
