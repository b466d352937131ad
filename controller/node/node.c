/* node.c: the raft side of riffle-controller: startup, the FSM, the apply
 * wrapper, the leadership watcher and the shutdown drain.
 *
 * Happy path: raft_uv + raft_uv_tcp on the loop; the uv_check_t watcher sees
 * every state change in the iteration it happens; on becoming leader it
 * submits a barrier and turns active only when that barrier applied in the
 * same term (raft notes §3.3).
 *
 * Failure modes: raft UNAVAILABLE while not closing -> log raft_errmsg and
 * exit(2); apply never fails the Raft apply (a bad entry is logged and only
 * advances the offset); drain stuck for RF_NODE_DRAIN_MS -> _exit(1). */
#include "node.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "clock.h"
#include "node_entry.h"
#include "err.h"
#include "log.h"
#include "node_int.h"
#include "uuid.h"

#define RF_NODE_DRAIN_MS 5000
#define RF_NODE_TICK_MS 100
#define RF_NODE_CONNECT_RETRY_MS 200

struct node_req {
    struct raft_apply apply;
    struct rf_node *node;
    uint8_t request_id[16];
    rf_node_applied_cb cb;
    void *data;
};

const char *rf__node_role(const struct rf_node *node)
{
    switch (raft_state((struct raft *)&node->raft)) {
    case RAFT_LEADER:
        return "leader";
    case RAFT_FOLLOWER:
        return "follower";
    case RAFT_CANDIDATE:
        return "candidate";
    default:
        return "unavailable";
    }
}

/* ---- FSM ---- */

static int fsm_apply(struct raft_fsm *fsm,
                     const struct raft_buffer *buf,
                     void **result)
{
    struct rf_node *node = fsm->data;
    /* Inside apply, last_applied is the previous index (raft notes P6). */
    int64_t index = (int64_t)node->raft.last_applied + 1;
    const uint8_t *payload;
    size_t plen;
    uint32_t type;
    int rv;

    *result = NULL; /* results are read by request id (P17) */
    rv = rf_entry_parse(buf->base, buf->len, &type, &payload, &plen);
    if (rv != 0 || type != RF_ENTRY_METADATA_COMMAND) {
        RF_ERROR(
            "skip malformed raft entry index=%lld len=%zu type=%u "
            "err=%s",
            (long long)index, buf->len, rv == 0 ? type : 0, rf_err_name(rv));
        rf_meta_advance(node->img, index);
        return 0; /* never wedge the node (P17) */
    }
    rv = rf_meta_apply(node->img, index, payload, plen);
    if (rv != RIFFLE__ERROR_CODE__NONE) {
        RF_DEBUG("command rejected at apply index=%lld code=%d",
                 (long long)index, rv);
    }
    node->wake_polls = true;
    return 0;
}

static int fsm_snapshot(struct raft_fsm *fsm,
                        struct raft_buffer *bufs[],
                        unsigned *n_bufs)
{
    struct rf_node *node = fsm->data;
    uint8_t *data;
    size_t len;

    /* Barrier and configuration entries carry no command: catch up. */
    if ((int64_t)node->raft.last_applied > rf_meta_offset(node->img)) {
        rf_meta_advance(node->img, (int64_t)node->raft.last_applied);
    }
    if (rf_meta_snapshot(node->img, &data, &len) != 0) {
        return RAFT_NOMEM;
    }
    /* A stable copy: raft writes it from a worker thread (notes §2.4). */
    *bufs = rf_malloc(sizeof(**bufs));
    (*bufs)[0].base = data;
    (*bufs)[0].len = len;
    *n_bufs = 1;
    RF_INFO("snapshot taken offset=%lld bytes=%zu",
            (long long)rf_meta_offset(node->img), len);
    return 0;
}

static int fsm_snapshot_finalize(struct raft_fsm *fsm,
                                 struct raft_buffer *bufs[],
                                 unsigned *n_bufs)
{
    unsigned i;

    (void)fsm;
    for (i = 0; i < *n_bufs; i++) {
        rf_free((*bufs)[i].base);
    }
    rf_free(*bufs);
    *bufs = NULL;
    *n_bufs = 0;
    return 0;
}

static int fsm_restore(struct raft_fsm *fsm, struct raft_buffer *buf)
{
    struct rf_node *node = fsm->data;
    int rv = rf_meta_restore(node->img, buf->base, buf->len);

    if (rv != 0) {
        RF_ERROR("snapshot restore failed bytes=%zu err=%s", buf->len,
                 rf_err_name(rv));
        return RAFT_MALFORMED; /* raft frees buf */
    }
    raft_free(buf->base);
    RF_INFO("snapshot restored offset=%lld hash=%016llx",
            (long long)rf_meta_offset(node->img),
            (unsigned long long)rf_meta_hash(node->img));
    node->wake_polls = true;
    return 0;
}

/* ---- apply wrapper ---- */

static void apply_cb(struct raft_apply *apply, int status, void *result)
{
    struct node_req *req = apply->data;
    struct rf_node *node = req->node;
    int64_t off;
    int res = RIFFLE__ERROR_CODE__UNKNOWN_SERVER_ERROR;
    int st = 0;

    (void)result; /* P17: read the result by request id instead */
    node->outstanding--;
    if (status == 0) {
        if (!rf_meta_request_result(node->img, req->request_id, &res, &off)) {
            RF_WARN("applied command has no recorded result");
        }
    } else if (status == RAFT_LEADERSHIPLOST || status == RAFT_SHUTDOWN) {
        st = RF_ECANCELED; /* P7: maybe committed, the client retries */
    } else {
        RF_ERROR("raft apply failed: %s (%s)", raft_strerror(status),
                 raft_errmsg(&node->raft));
        st = RF_EIO;
    }
    if (req->cb != NULL) {
        req->cb(node, req->data, st, res);
    }
    rf_free(req);
}

static int pack_command(Riffle__MetadataCommand *cmd,
                        const uint8_t *rid,
                        struct raft_buffer *buf)
{
    ProtobufCBinaryData saved = cmd->request_id;
    uint8_t *packed;
    size_t len;
    int rv;

    cmd->request_id.data = (uint8_t *)rid;
    cmd->request_id.len = 16;
    cmd->timestamp_ms = rf_clock_wall_ms();
    len = riffle__metadata_command__get_packed_size(cmd);
    packed = rf_malloc(len > 0 ? len : 1);
    riffle__metadata_command__pack(cmd, packed);
    cmd->request_id = saved; /* the builder owns what it put there */
    rv = rf_entry_frame(RF_ENTRY_METADATA_COMMAND, packed, len, buf);
    rf_free(packed);
    return rv;
}

int rf__node_submit(struct rf_node *node,
                    Riffle__MetadataCommand *cmd,
                    const uint8_t *request_id,
                    rf_node_applied_cb cb,
                    void *data)
{
    struct node_req *req;
    struct raft_buffer buf;
    struct rf_uuid u;
    int rv;

    if (!node->active || node->stopping) {
        return RF_ENOTCONTROLLER;
    }
    req = rf_calloc(1, sizeof(*req));
    if (request_id == NULL) {
        rf_uuid_generate(&u);
        request_id = u.b;
    }
    memcpy(req->request_id, request_id, 16);
    rv = pack_command(cmd, req->request_id, &buf);
    if (rv != 0) {
        rf_free(req);
        return rv;
    }
    req->node = node;
    req->cb = cb;
    req->data = data;
    req->apply.data = req;
    rv = raft_apply(&node->raft, &req->apply, &buf, 1, apply_cb);
    if (rv != 0) {
        raft_free(buf.base);
        rf_free(req);
        return rv == RAFT_NOTLEADER ? RF_ENOTCONTROLLER : RF_EIO;
    }
    node->outstanding++;
    return 0;
}

/* ---- becoming / leaving the active controller ---- */

static void internal_done(struct rf_node *node,
                          void *data,
                          int status,
                          int result)
{
    (void)node;
    RF_INFO("internal command %s status=%s result=%d", (const char *)data,
            rf_err_name(status), result);
}

static void submit_internal(struct rf_node *node,
                            int (*build)(const struct rf_meta_image *,
                                         Riffle__MetadataCommand *),
                            const char *what)
{
    Riffle__MetadataCommand cmd = RIFFLE__METADATA_COMMAND__INIT;

    if (build(node->img, &cmd) == 0) {
        int rv = rf__node_submit(node, &cmd, NULL, internal_done, (void *)what);
        if (rv != 0) {
            RF_WARN("submit %s failed: %s", what, rf_err_name(rv));
        }
    }
    rf_meta_command_free(&cmd);
}

static void become_active(struct rf_node *node)
{
    uint64_t now = rf_clock_mono_ms();

    node->active = true;
    node->active_term = node->raft.current_term;
    RF_INFO("active controller term=%llu offset=%lld",
            (unsigned long long)node->active_term,
            (long long)rf_meta_offset(node->img));
    submit_internal(node, rf_meta_build_cluster_id, "cluster-id");
    node->next_register_ms = 0;
    rf__node_register_self(node, now);
    rf__node_sessions_reset(node, now);
    node->next_rebalance_ms =
        now + (uint64_t)node->conf->imbalance_check_interval_s * 1000u;
}

static void become_inactive(struct rf_node *node)
{
    if (!node->active) {
        return;
    }
    node->active = false;
    RF_INFO("no longer active controller state=%s", rf__node_role(node));
    rf__node_polls_flush(node, RIFFLE__ERROR_CODE__NOT_CONTROLLER);
    rf__node_sessions_free(node);
}

static void barrier_cb(struct raft_barrier *req, int status)
{
    struct rf_node *node = req->data;

    node->barrier_pending = false;
    if (status != 0) {
        RF_WARN("election barrier failed: %s", raft_strerror(status));
        return;
    }
    if (!node->stopping && raft_state(&node->raft) == RAFT_LEADER &&
        node->raft.current_term == node->barrier_term) {
        become_active(node);
    }
}

static void start_barrier(struct rf_node *node)
{
    int rv;

    node->barrier.data = node;
    node->barrier_term = node->raft.current_term;
    rv = raft_barrier(&node->raft, &node->barrier, barrier_cb);
    if (rv != 0) {
        RF_WARN("election barrier not submitted: %s", raft_strerror(rv));
        return;
    }
    node->barrier_pending = true;
}

static void watch_leadership(struct rf_node *node)
{
    int state = raft_state(&node->raft);
    raft_id id = 0;
    const char *addr = NULL;

    raft_leader(&node->raft, &id, &addr);
    if (state != node->last_state || id != node->leader_id ||
        node->raft.current_term != node->last_term) {
        RF_INFO("raft state=%s term=%llu leader=%llu", rf__node_role(node),
                (unsigned long long)node->raft.current_term,
                (unsigned long long)id);
    }
    node->last_state = state;
    node->leader_id = id;
    node->last_term = node->raft.current_term;
    if (node->active && (state != RAFT_LEADER ||
                         node->raft.current_term != node->active_term)) {
        become_inactive(node);
    }
    if (state == RAFT_LEADER && !node->active && !node->barrier_pending &&
        !node->stopping) {
        start_barrier(node);
    }
}

/* ---- shutdown ---- */

static void close_handle(uv_handle_t *h)
{
    if (!uv_is_closing(h)) {
        uv_close(h, NULL);
    }
}

static void on_raft_closed(struct raft *r)
{
    struct rf_node *node = r->data;

    raft_uv_close(&node->io);
    raft_uv_tcp_close(&node->transport);
    close_handle((uv_handle_t *)&node->watcher);
    close_handle((uv_handle_t *)&node->tick);
    close_handle((uv_handle_t *)&node->watchdog);
    close_handle((uv_handle_t *)&node->sigterm);
    close_handle((uv_handle_t *)&node->sigint);
    RF_INFO("raft closed");
}

static void maybe_close(struct rf_node *node)
{
    /* P2: raft_close with queued leader appends double-frees in 0.15. */
    if (node->closing || node->transfer_pending || node->outstanding > 0 ||
        node->barrier_pending ||
        node->raft.last_stored != raft_last_index(&node->raft)) {
        return;
    }
    node->closing = true;
    RF_INFO("drained, closing raft last_index=%llu",
            (unsigned long long)raft_last_index(&node->raft));
    rf__node_peers_close(node);
    raft_close(&node->raft, on_raft_closed);
}

static void transfer_cb(struct raft_transfer *req)
{
    struct rf_node *node = req->data;
    raft_id id = 0;
    const char *addr = NULL;

    node->transfer_pending = false;
    raft_leader(&node->raft, &id, &addr);
    RF_INFO("leadership transfer done leader=%llu", (unsigned long long)id);
}

static void watchdog_cb(uv_timer_t *t)
{
    (void)t;
    RF_ERROR("shutdown drain did not finish in %d ms, exiting",
             RF_NODE_DRAIN_MS);
    _exit(1);
}

static void begin_stop(struct rf_node *node)
{
    int rv;

    node->stopping = true;
    RF_INFO("stopping: closing RPC listener, state=%s", rf__node_role(node));
    rf__node_polls_flush(node, RIFFLE__ERROR_CODE__SHUTTING_DOWN);
    if (node->srv != NULL) {
        rf_rpc_server_close(node->srv, NULL, NULL);
        node->srv = NULL;
    }
    rf__node_obs_stop(node);
    become_inactive(node);
    uv_timer_start(&node->watchdog, watchdog_cb, RF_NODE_DRAIN_MS, 0);
    if (raft_state(&node->raft) == RAFT_LEADER && node->conf->n_voters > 1) {
        node->transfer.data = node;
        rv = raft_transfer(&node->raft, &node->transfer, 0, transfer_cb);
        node->transfer_pending = rv == 0;
        if (rv != 0) {
            RF_WARN("leadership transfer not started: %s", raft_strerror(rv));
        }
    }
    maybe_close(node);
}

static void signal_cb(uv_signal_t *h, int signum)
{
    struct rf_node *node = h->data;

    RF_INFO("signal %d received", signum);
    if (!node->stopping) {
        begin_stop(node);
    }
}

/* ---- loop hooks ---- */

static void check_cb(uv_check_t *h)
{
    struct rf_node *node = h->data;

    if (node->closing) {
        return;
    }
    if (raft_state(&node->raft) == RAFT_UNAVAILABLE) {
        RF_ERROR("raft became unavailable: %s", raft_errmsg(&node->raft));
        _exit(2); /* a supervisor restarts us; raft state is on disk */
    }
    watch_leadership(node);
    if ((int64_t)node->raft.last_applied > rf_meta_offset(node->img)) {
        rf_meta_advance(node->img, (int64_t)node->raft.last_applied);
    }
    if (node->wake_polls) {
        node->wake_polls = false;
        rf__node_polls_wake(node);
    }
    if (node->stopping) {
        maybe_close(node);
    }
}

static void tick_cb(uv_timer_t *t)
{
    struct rf_node *node = t->data;
    uint64_t now = rf_clock_mono_ms();

    if (node->closing || node->stopping) {
        if (node->stopping) {
            maybe_close(node);
        }
        return;
    }
    rf__node_polls_sweep(node, now);
    rf__node_register_self(node, now);
    if (node->active) {
        rf__node_sessions_check(node, now);
        rf__node_rebalance(node, now);
        rf__node_reassign_check(node);
    }
}

/* ---- startup ---- */

static int start_raft_io(struct rf_node *node,
                         const char *raft_dir,
                         char *errmsg)
{
    int rv;

    rv = raft_uv_tcp_init(&node->transport, &node->loop);
    if (rv != 0) {
        rf_errmsg_set(errmsg, "raft_uv_tcp_init: %s", raft_strerror(rv));
        return RF_EIO;
    }
    rv = raft_uv_init(&node->io, &node->loop, raft_dir, &node->transport);
    if (rv != 0) {
        rf_errmsg_set(errmsg, "raft_uv_init %s: %s", raft_dir,
                      raft_strerror(rv));
        raft_uv_tcp_close(&node->transport);
        return RF_EIO;
    }
    raft_uv_set_connect_retry_delay(&node->io, RF_NODE_CONNECT_RETRY_MS);
    return 0;
}

static void init_fsm(struct rf_node *node)
{
    memset(&node->fsm, 0, sizeof(node->fsm));
    node->fsm.version = 2; /* P4: 0 segfaults, 3 is rejected */
    node->fsm.data = node;
    node->fsm.apply = fsm_apply;
    node->fsm.snapshot = fsm_snapshot;
    node->fsm.restore = fsm_restore;
    node->fsm.snapshot_finalize = fsm_snapshot_finalize;
}

static int bootstrap(struct rf_node *node, char *errmsg)
{
    struct raft_configuration cfg;
    char addr[RF_HOST_MAX + 8];
    int i;
    int rv = 0;

    raft_configuration_init(&cfg);
    for (i = 0; i < node->conf->n_voters && rv == 0; i++) {
        const struct rf_voter *v = &node->conf->voters[i];
        snprintf(addr, sizeof(addr), "%s:%u", v->hp.host, (unsigned)v->hp.port);
        rv = raft_configuration_add(&cfg, v->id, addr, RAFT_VOTER);
    }
    if (rv == 0) {
        rv = raft_bootstrap(&node->raft, &cfg);
        if (rv == RAFT_CANTBOOTSTRAP) {
            rv = 0; /* already bootstrapped: normal on restart */
        }
    }
    raft_configuration_close(&cfg);
    if (rv != 0) {
        rf_errmsg_set(errmsg, "raft bootstrap: %s (%s)", raft_strerror(rv),
                      raft_errmsg(&node->raft));
        return RF_EIO;
    }
    return 0;
}

static void set_raft_options(struct rf_node *node)
{
    struct raft *r = &node->raft;

    r->data = node;
    raft_set_election_timeout(r, (unsigned)node->conf->election_timeout_ms);
    raft_set_heartbeat_timeout(r, (unsigned)node->conf->heartbeat_timeout_ms);
    raft_set_pre_vote(r, true); /* P10 */
    raft_set_snapshot_threshold(r, (unsigned)node->conf->snapshot_threshold);
    raft_set_snapshot_trailing(r, (unsigned)node->conf->snapshot_trailing);
}

static void init_handles(struct rf_node *node)
{
    /* Before raft_start, so every close path can close them (P18). */
    node->handles_init = true;
    uv_check_init(&node->loop, &node->watcher);
    node->watcher.data = node;
    uv_timer_init(&node->loop, &node->tick);
    node->tick.data = node;
    uv_timer_init(&node->loop, &node->watchdog);
    node->watchdog.data = node;
    uv_signal_init(&node->loop, &node->sigterm);
    node->sigterm.data = node;
    uv_signal_init(&node->loop, &node->sigint);
    node->sigint.data = node;
}

static void defaults_from_conf(struct rf_node *node)
{
    node->defs.num_partitions = (int32_t)node->conf->num_partitions;
    node->defs.default_replication = (int32_t)node->conf->default_replication;
    node->defs.max_partitions_per_topic = 10000;
    node->defs.unclean_leader_election = node->conf->unclean_leader_election;
}

static int start_services(struct rf_node *node, char *errmsg)
{
    int rv;

    struct rf_rpc_server_opts opts = {0};

    /* A broker process that dies closes its connection at once: fence it
     * after broker.disconnect.fence.ms rather than the whole session. */
    opts.on_conn_closed = rf__node_conn_closed;
    rv = rf_rpc_server_start(&node->loop, node->conf->rpc.host,
                             node->conf->rpc.port, &opts, rf__node_on_call,
                             node, &node->srv, errmsg);
    if (rv != 0) {
        rf_errmsg_prefix(errmsg, "listeners %s:%u", node->conf->rpc.host,
                         (unsigned)node->conf->rpc.port);
        return rv;
    }
    rv = rf__node_obs_start(node, errmsg);
    if (rv != 0) {
        rf_rpc_server_close(node->srv, NULL, NULL);
        node->srv = NULL;
        return rv;
    }
    uv_check_start(&node->watcher, check_cb);
    uv_timer_start(&node->tick, tick_cb, RF_NODE_TICK_MS, RF_NODE_TICK_MS);
    uv_signal_start(&node->sigterm, signal_cb, SIGTERM);
    uv_signal_start(&node->sigint, signal_cb, SIGINT);
    /* main() held them until now (a stop during start waits here). */
    rf_log_hold_stop_signals(false);
    return 0;
}

/* Everything after raft_init: bootstrap, start, services. On failure the
 * caller closes raft (which closes our handles) and runs the loop dry. */
static int node_start(struct rf_node *node, char *errmsg)
{
    int rv;

    set_raft_options(node);
    rv = bootstrap(node, errmsg);
    if (rv != 0) {
        return rv;
    }
    init_handles(node);
    rv = raft_start(&node->raft);
    if (rv != 0) {
        rf_errmsg_set(errmsg,
                      "raft_start on %s: %s (%s); is the raft port in use?",
                      node->conf->raft_address, raft_strerror(rv),
                      raft_errmsg(&node->raft));
        return RF_EIO;
    }
    node->started = true;
    RF_INFO("raft started id=%lld address=%s last_index=%llu",
            (long long)node->conf->node_id, node->conf->raft_address,
            (unsigned long long)raft_last_index(&node->raft));
    return start_services(node, errmsg);
}

static int node_run_loop(struct rf_node *node,
                         const char *raft_dir,
                         char *errmsg)
{
    int rv;
    int code = 0;

    rv = start_raft_io(node, raft_dir, errmsg);
    if (rv != 0) {
        uv_run(&node->loop, UV_RUN_DEFAULT);
        return 1;
    }
    init_fsm(node);
    rv = raft_init(&node->raft, &node->io, &node->fsm,
                   (raft_id)node->conf->node_id, node->conf->raft_address);
    if (rv != 0) {
        rf_errmsg_set(errmsg, "raft_init: %s (%s)", raft_strerror(rv),
                      raft_errmsg(&node->raft));
        /* Nothing sane to unwind into: report and leave. */
        RF_ERROR("riffle-controller: %s", errmsg);
        _exit(1);
    }
    rv = node_start(node, errmsg);
    if (rv != 0) {
        code = 1;
        node->stopping = true;
        if (!node->handles_init) {
            init_handles(node);
        }
        maybe_close(node);
    }
    uv_run(&node->loop, UV_RUN_DEFAULT);
    return code;
}

int rf_node_run(struct rf_node_conf *conf, char *errmsg)
{
    struct rf_node *node;
    char raft_dir[PATH_MAX];
    int lock_fd;
    int code;

    signal(SIGPIPE, SIG_IGN); /* P3 */
    if (getenv("RIFFLE_TEST_UNPADDED_ENTRIES") != NULL &&
        strcmp(getenv("RIFFLE_TEST_UNPADDED_ENTRIES"), "1") == 0) {
        RF_WARN(
            "RIFFLE_TEST_UNPADDED_ENTRIES=1: entries are NOT padded; "
            "followers will diverge (fault injection for tests)");
        rf_entry_set_unpadded(1);
    }
    setenv("UV_THREADPOOL_SIZE", "8", 0); /* before the first pool use */
    if (rf_node_dir_prepare(conf->metadata_log_dir, &lock_fd, raft_dir,
                            errmsg) != 0) {
        return 1;
    }
    node = rf_calloc(1, sizeof(*node));
    node->conf = conf;
    node->img = rf_meta_image_new();
    node->last_state = -1;
    defaults_from_conf(node);
    uv_loop_init(&node->loop);
    code = node_run_loop(node, raft_dir, errmsg);
    if (uv_loop_close(&node->loop) != 0) {
        rf_errmsg_set(errmsg, "uv_loop_close: handles still open");
        code = 1;
    } else {
        if (code == 0) {
            RF_INFO("stopped cleanly");
        }
        rf__node_sessions_free(node);
        rf__node_obs_free(node);
        rf_meta_image_free(node->img);
        rf_free(node);
    }
    close(lock_fd);
    return code;
}
