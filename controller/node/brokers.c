/* brokers.c: broker liveness on the active controller: heartbeat sessions
 * kept in memory, fencing on session expiry, unfencing once caught up, and
 * preferred-leader rebalancing.
 *
 * Sessions are not replicated: a new active controller starts every
 * registered broker with a fresh session (no instant fencing after a
 * failover). A fence or unfence command is in flight at most once per
 * broker. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "clock.h"
#include "err.h"
#include "log.h"
#include "node_int.h"

struct rf_node_session *rf__node_session_get(struct rf_node *node,
                                             int32_t broker_id,
                                             bool create)
{
    struct rf_node_session *s;
    size_t i;

    for (i = 0; i < node->n_sessions; i++) {
        if (node->sessions[i].broker_id == broker_id) {
            return &node->sessions[i];
        }
    }
    if (!create) {
        return NULL;
    }
    node->sessions = rf_realloc(
        node->sessions, (node->n_sessions + 1) * sizeof(*node->sessions));
    s = &node->sessions[node->n_sessions++];
    memset(s, 0, sizeof(*s));
    s->broker_id = broker_id;
    s->last_hb_ms = rf_clock_mono_ms();
    return s;
}

void rf__node_sessions_free(struct rf_node *node)
{
    rf_free(node->sessions);
    node->sessions = NULL;
    node->n_sessions = 0;
}

void rf__node_sessions_reset(struct rf_node *node, uint64_t now_ms)
{
    struct rf_meta_broker b;
    size_t i;

    rf__node_sessions_free(node);
    for (i = 0; rf_meta_broker_at(node->img, i, &b); i++) {
        struct rf_node_session *s = rf__node_session_get(node, b.id, true);
        s->epoch = b.epoch;
        s->last_hb_ms = now_ms;
    }
}

static void fence_done(struct rf_node *node, void *data, int status, int result)
{
    int32_t id = (int32_t)(intptr_t)data;
    struct rf_node_session *s = rf__node_session_get(node, id, false);

    if (s != NULL) {
        s->fence_inflight = false;
    }
    RF_INFO("fence broker=%d status=%s result=%d", id, rf_err_name(status),
            result);
}

static void unfence_done(struct rf_node *node,
                         void *data,
                         int status,
                         int result)
{
    int32_t id = (int32_t)(intptr_t)data;
    struct rf_node_session *s = rf__node_session_get(node, id, false);

    if (s != NULL) {
        s->unfence_inflight = false;
    }
    RF_INFO("unfence broker=%d status=%s result=%d", id, rf_err_name(status),
            result);
}

static bool same_ids(const int32_t *a, size_t na, const int32_t *b, size_t nb)
{
    return na == nb && (na == 0 || memcmp(a, b, na * sizeof(*a)) == 0);
}

void rf__node_log_partition_changes(struct rf_node *node,
                                    const Riffle__MetadataCommand *cmd,
                                    const char *reason)
{
    for (size_t i = 0; i < cmd->n_records; i++) {
        const Riffle__MetadataRecord *rec = cmd->records[i];
        const Riffle__PartitionChangeRecord *pc;
        struct rf_meta_topic t;
        struct rf_meta_partition old;
        struct rf_uuid id;
        char isr0[96], isr1[96], rep1[96];

        if (rec->record_case !=
                RIFFLE__METADATA_RECORD__RECORD_PARTITION_CHANGE ||
            rec->partition_change->topic_id.len != sizeof(id.b)) {
            continue;
        }
        pc = rec->partition_change;
        memcpy(id.b, pc->topic_id.data, sizeof(id.b));
        if (!rf_meta_topic_get_by_id(node->img, &id, &t) ||
            !rf_meta_partition_get(node->img, &id, pc->partition_id, &old)) {
            continue;
        }
        bool isr_same = same_ids(old.isr, old.n_isr, pc->isr, pc->n_isr);
        bool rep_same = same_ids(old.replicas, old.n_replicas, pc->replicas,
                                 pc->n_replicas);
        if (old.leader == pc->leader && isr_same && rep_same) {
            continue;
        }
        RF_INFO("tp=%s-%d: leader %d -> %d epoch=%d isr %s -> %s%s%s "
                "reason=\"%s\"",
                t.name, (int)pc->partition_id, (int)old.leader,
                (int)pc->leader, (int)pc->leader_epoch,
                rf_log_ids(isr0, sizeof(isr0), old.isr, old.n_isr),
                rf_log_ids(isr1, sizeof(isr1), pc->isr, pc->n_isr),
                rep_same ? "" : " replicas ",
                rep_same ? "" : rf_log_ids(rep1, sizeof(rep1), pc->replicas,
                                           pc->n_replicas),
                reason);
    }
}

static void fence(struct rf_node *node,
                  struct rf_node_session *s,
                  const char *why)
{
    Riffle__MetadataCommand cmd = RIFFLE__METADATA_COMMAND__INIT;

    if (s->fence_inflight) {
        return;
    }
    if (rf_meta_build_fence(node->img, &node->defs, s->broker_id, &cmd) == 0) {
        char reason[96];
        RF_INFO("fencing broker=%d reason=%s", s->broker_id, why);
        snprintf(reason, sizeof(reason), "broker %d fenced: %s",
                 s->broker_id, why);
        rf__node_log_partition_changes(node, &cmd, reason);
        if (rf__node_submit(node, &cmd, NULL, fence_done,
                            (void *)(intptr_t)s->broker_id) == 0) {
            s->fence_inflight = true;
        }
    }
    rf_meta_command_free(&cmd);
}

static void unfence(struct rf_node *node, struct rf_node_session *s)
{
    Riffle__MetadataCommand cmd = RIFFLE__METADATA_COMMAND__INIT;

    if (s->unfence_inflight) {
        return;
    }
    if (rf_meta_build_unfence(node->img, s->broker_id, &cmd) == 0) {
        RF_INFO("unfencing broker=%d", s->broker_id);
        if (rf__node_submit(node, &cmd, NULL, unfence_done,
                            (void *)(intptr_t)s->broker_id) == 0) {
            s->unfence_inflight = true;
        }
    }
    rf_meta_command_free(&cmd);
}

void rf__node_sessions_check(struct rf_node *node, uint64_t now_ms)
{
    uint64_t timeout = (uint64_t)node->conf->session_timeout_ms;
    uint64_t grace = (uint64_t)node->conf->disconnect_fence_ms;
    struct rf_meta_broker b;
    size_t i;

    for (i = 0; rf_meta_broker_at(node->img, i, &b); i++) {
        struct rf_node_session *s;
        if (b.state == RIFFLE__BROKER_STATE__BROKER_FENCED) {
            continue;
        }
        s = rf__node_session_get(node, b.id, true);
        if (now_ms > s->last_hb_ms && now_ms - s->last_hb_ms > timeout) {
            fence(node, s, "session expired");
        } else if (grace > 0 && s->lost_ms != 0 && now_ms >= s->lost_ms &&
                   now_ms - s->lost_ms >= grace) {
            fence(node, s, "connection closed");
        }
    }
}

void rf__node_conn_closed(struct rf_rpc_server *srv, uint64_t conn_id)
{
    struct rf_node *node = rf_rpc_server_data(srv);
    size_t i;

    for (i = 0; i < node->n_sessions; i++) {
        struct rf_node_session *s = &node->sessions[i];
        if (s->hb_conn == conn_id && s->lost_ms == 0) {
            s->lost_ms = rf_clock_mono_ms();
            if (s->lost_ms == 0)
                s->lost_ms = 1;
            RF_DEBUG("heartbeat connection closed broker=%d", s->broker_id);
        }
    }
}

static void heartbeat_reply(struct rf_node *node,
                            struct rf_rpc_call *call,
                            int code,
                            const struct rf_meta_broker *b,
                            bool caught_up)
{
    Riffle__BrokerHeartbeatResponse resp =
        RIFFLE__BROKER_HEARTBEAT_RESPONSE__INIT;
    Riffle__Status st;
    Riffle__Endpoint ep;

    rf__node_status_fill(node, &st, &ep, code, "");
    resp.status = &st;
    if (b != NULL) {
        resp.is_caught_up = caught_up;
        resp.is_fenced = b->state == RIFFLE__BROKER_STATE__BROKER_FENCED;
        resp.should_shutdown =
            b->state == RIFFLE__BROKER_STATE__BROKER_CONTROLLED_SHUTDOWN &&
            rf_meta_movable_leaderships(node->img, b->id) == 0;
    }
    rf__node_reply_msg(call, RIFFLE__ENVELOPE__BODY_BROKER_HEARTBEAT_RESP,
                       &resp.base);
}

void rf__node_heartbeat(struct rf_node *node,
                        struct rf_rpc_call *call,
                        const Riffle__BrokerHeartbeatRequest *req)
{
    struct rf_meta_broker b;
    struct rf_node_session *s;
    bool caught_up;

    if (!rf_meta_broker_get(node->img, req->broker_id, &b)) {
        heartbeat_reply(node, call, RIFFLE__ERROR_CODE__UNKNOWN_BROKER, NULL,
                        false);
        return;
    }
    if (req->broker_epoch != b.epoch) {
        heartbeat_reply(node, call, RIFFLE__ERROR_CODE__STALE_BROKER_EPOCH,
                        NULL, false);
        return;
    }
    s = rf__node_session_get(node, b.id, true);
    s->epoch = b.epoch;
    s->last_hb_ms = rf_clock_mono_ms();
    s->hb_conn = rf_rpc_call_conn_id(call);
    s->lost_ms = 0;
    s->seen = true;
    /* Caught up: it has applied its own registration record. */
    caught_up = req->current_metadata_offset >= b.epoch;
    if (req->want_fence && b.state != RIFFLE__BROKER_STATE__BROKER_FENCED) {
        fence(node, s, "broker asked");
    } else if (!req->want_fence && caught_up &&
               b.state == RIFFLE__BROKER_STATE__BROKER_FENCED) {
        unfence(node, s);
    }
    heartbeat_reply(node, call, RIFFLE__ERROR_CODE__NONE, &b, caught_up);
}

static void rebalance_done(struct rf_node *node,
                           void *data,
                           int status,
                           int result)
{
    (void)data;
    node->rebalance_inflight = false;
    RF_INFO("preferred leader election status=%s result=%d",
            rf_err_name(status), result);
}

void rf__node_rebalance(struct rf_node *node, uint64_t now_ms)
{
    Riffle__MetadataCommand cmd = RIFFLE__METADATA_COMMAND__INIT;

    if (!node->conf->auto_leader_rebalance || node->rebalance_inflight ||
        now_ms < node->next_rebalance_ms) {
        return;
    }
    node->next_rebalance_ms =
        now_ms + (uint64_t)node->conf->imbalance_check_interval_s * 1000u;
    if (rf_meta_build_preferred_leaders(node->img, &cmd) == 0 &&
        (rf__node_log_partition_changes(node, &cmd,
                                        "preferred leader election"),
         rf__node_submit(node, &cmd, NULL, rebalance_done, NULL) == 0)) {
        node->rebalance_inflight = true;
    }
    rf_meta_command_free(&cmd);
}
