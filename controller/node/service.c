/* service.c: the controller RPC service: request routing, admin reads and
 * writes through Raft, FetchMetadata long-polls, DescribeCluster fan-out and
 * controller endpoint registration.
 *
 * Happy path: a request is routed by its Envelope body; writes are built
 * against the image (rf_meta_build_*), submitted as one Raft entry and
 * answered from the apply callback; reads are answered from the image.
 *
 * Failure modes: a non-active node answers NOT_CONTROLLER with the leader
 * hint; leadership lost mid-commit answers OUTCOME_UNKNOWN (the client
 * retries with the same request id and dedup applies it once); a body that
 * is not a request gets a generic Status INVALID_REQUEST. */
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "clock.h"
#include "err.h"
#include "log.h"
#include "node_int.h"

#define POLL_MAX_WAIT_MS 30000u
#define POLL_MAX_BYTES (4u * 1024u * 1024u)
#define POLL_MAX_HELD 4096u /* beyond this, polls are answered at once */

typedef void (*handler_fn)(struct rf_node *node,
                           struct rf_rpc_call *call,
                           const Riffle__Envelope *req);
typedef int (*build_fn)(struct rf_node *node,
                        const ProtobufCMessage *req,
                        Riffle__MetadataCommand *cmd,
                        ProtobufCMessage *resp);

struct route {
    int req_case;
    int resp_case;
    bool needs_active;
    handler_fn handle; /* NULL: a write through build */
    build_fn build;
};

struct pending {
    struct rf_node *node;
    struct rf_rpc_call *call;
    const struct route *route;
    ProtobufCMessage *resp;
    int32_t broker_id;
};

/* ---- generic message helpers (protobuf-c descriptors) ---- */

static const ProtobufCFieldDescriptor *env_field(int body_case)
{
    return protobuf_c_message_descriptor_get_field(
        &riffle__envelope__descriptor, (unsigned)body_case);
}

static ProtobufCMessage *env_body(const Riffle__Envelope *env)
{
    const ProtobufCFieldDescriptor *f = env_field((int)env->body_case);

    return f == NULL
               ? NULL
               : *(ProtobufCMessage *const *)((const char *)env + f->offset);
}

static ProtobufCMessage *msg_new(int body_case)
{
    const ProtobufCMessageDescriptor *d = env_field(body_case)->descriptor;
    ProtobufCMessage *m = rf_malloc(d->sizeof_message);

    d->message_init(m);
    return m;
}

static void *msg_field(const ProtobufCMessage *m, const char *name)
{
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field_by_name(m->descriptor, name);

    return f == NULL ? NULL : (char *)m + f->offset;
}

static Riffle__Status *get_status(const ProtobufCMessage *m)
{
    Riffle__Status **p = msg_field(m, "status");

    return p == NULL ? NULL : *p;
}

static void set_status(ProtobufCMessage *m, Riffle__Status *st)
{
    Riffle__Status **p = msg_field(m, "status");

    if (p != NULL) {
        *p = st;
    }
}

void rf__node_reply_msg(struct rf_rpc_call *call,
                        int resp_case,
                        ProtobufCMessage *msg)
{
    Riffle__Envelope env = RIFFLE__ENVELOPE__INIT;

    env.body_case = (Riffle__Envelope__BodyCase)resp_case;
    *(ProtobufCMessage **)((char *)&env + env_field(resp_case)->offset) = msg;
    rf_rpc_reply(call, &env);
}

ProtobufCMessage *rf__node_status_response(int resp_case,
                                           Riffle__Status *st,
                                           Riffle__Envelope *env)
{
    ProtobufCMessage *m;

    riffle__envelope__init(env);
    if (resp_case == RIFFLE__ENVELOPE__BODY_ERROR) {
        env->body_case = RIFFLE__ENVELOPE__BODY_ERROR;
        env->error = st;
        return NULL;
    }
    m = msg_new(resp_case);
    set_status(m, st);
    env->body_case = (Riffle__Envelope__BodyCase)resp_case;
    *(ProtobufCMessage **)((char *)env + env_field(resp_case)->offset) = m;
    return m;
}

void rf__node_status_free(ProtobufCMessage *msg)
{
    rf_free(msg);
}

/* Status with the leader hint for NOT_CONTROLLER; ep is storage for it. */
void rf__node_status_fill(struct rf_node *node,
                          Riffle__Status *st,
                          Riffle__Endpoint *ep,
                          int code,
                          const char *message)
{
    const Riffle__RegisterControllerRecord *rec;

    riffle__status__init(st);
    st->code = (Riffle__ErrorCode)code;
    st->message = (char *)(message != NULL ? message : "");
    st->leader_id = -1;
    if (code != RIFFLE__ERROR_CODE__NOT_CONTROLLER || node->leader_id == 0) {
        return;
    }
    st->leader_id = (int32_t)node->leader_id;
    rec = rf_meta_controller_get(node->img, (int32_t)node->leader_id);
    if (rec != NULL && rec->rpc != NULL) {
        *ep = *rec->rpc; /* borrowed strings: packed at once */
        st->leader_rpc = ep;
    }
}

static void reply_status(struct rf_node *node,
                         struct rf_rpc_call *call,
                         int resp_case,
                         int code,
                         const char *message)
{
    Riffle__Status st;
    Riffle__Endpoint ep;
    Riffle__Envelope env;
    ProtobufCMessage *m;

    rf__node_status_fill(node, &st, &ep, code, message);
    m = rf__node_status_response(resp_case, &st, &env);
    rf_rpc_reply(call, &env);
    rf__node_status_free(m);
}

/* ---- writes ---- */

static const uint8_t *request_id_of(const ProtobufCMessage *req)
{
    ProtobufCBinaryData *rid = msg_field(req, "request_id");

    return rid != NULL && rid->len == 16 ? rid->data : NULL;
}

static void mark_items(ProtobufCMessage *resp, int code)
{
    size_t i;

    if (resp->descriptor == &riffle__create_topics_response__descriptor) {
        Riffle__CreateTopicsResponse *r = (void *)resp;
        for (i = 0; i < r->n_topics; i++) {
            if (r->topics[i]->error == RIFFLE__ERROR_CODE__NONE) {
                r->topics[i]->error = (Riffle__ErrorCode)code;
            }
        }
    } else if (resp->descriptor ==
               &riffle__delete_topics_response__descriptor) {
        Riffle__DeleteTopicsResponse *r = (void *)resp;
        for (i = 0; i < r->n_topics; i++) {
            if (r->topics[i]->error == RIFFLE__ERROR_CODE__NONE) {
                r->topics[i]->error = (Riffle__ErrorCode)code;
            }
        }
    } else if (resp->descriptor ==
               &riffle__alter_reassignments_response__descriptor) {
        Riffle__AlterReassignmentsResponse *r = (void *)resp;
        for (i = 0; i < r->n_results; i++) {
            if (r->results[i]->error == RIFFLE__ERROR_CODE__NONE) {
                r->results[i]->error = (Riffle__ErrorCode)code;
            }
        }
    } else if (resp->descriptor ==
               &riffle__create_partitions_response__descriptor) {
        Riffle__CreatePartitionsResponse *r = (void *)resp;
        for (i = 0; i < r->n_results; i++) {
            if (r->results[i]->error == RIFFLE__ERROR_CODE__NONE) {
                r->results[i]->error = (Riffle__ErrorCode)code;
            }
        }
    }
}

/* A registration the builder refused (DUPLICATE_BROKER...) also ends with
 * code NONE (no command was built): its own status tells. Only a real
 * registration may start a session; refusing must not keep the previous
 * incarnation's session alive or hand out its epoch. */
static bool registered(const struct pending *p)
{
    const Riffle__RegisterBrokerResponse *r = (const void *)p->resp;
    return r->status == NULL || r->status->code == RIFFLE__ERROR_CODE__NONE;
}

/* Per-kind fields known only once the command applied. */
static void finish_fields(struct pending *p, int code)
{
    struct rf_meta_broker b;
    struct rf_node *node = p->node;

    if (code != RIFFLE__ERROR_CODE__NONE) {
        mark_items(p->resp, code);
        return;
    }
    if (p->route->req_case == RIFFLE__ENVELOPE__BODY_REGISTER_BROKER_REQ &&
        registered(p) && rf_meta_broker_get(node->img, p->broker_id, &b)) {
        struct rf_node_session *s =
            node->active ? rf__node_session_get(node, b.id, true) : NULL;
        ((Riffle__RegisterBrokerResponse *)p->resp)->broker_epoch = b.epoch;
        if (s != NULL) {
            s->epoch = b.epoch;
            s->last_hb_ms = rf_clock_mono_ms();
        }
    } else if (p->route->req_case ==
               RIFFLE__ENVELOPE__BODY_CONTROLLED_SHUTDOWN_REQ) {
        ((Riffle__ControlledShutdownResponse *)p->resp)->remaining_leaderships =
            rf_meta_movable_leaderships(node->img, p->broker_id);
    }
}

static void pending_finish(struct pending *p, int code, const char *message)
{
    Riffle__Status st;
    Riffle__Endpoint ep;
    Riffle__Status *old = get_status(p->resp);

    rf__node_status_fill(p->node, &st, &ep, code, message);
    if (old == NULL || code != RIFFLE__ERROR_CODE__NONE) {
        set_status(p->resp, &st); /* the builder's own status, if any, wins */
    }
    finish_fields(p, code);
    rf__node_reply_msg(p->call, p->route->resp_case, p->resp);
    set_status(p->resp, old);
    rf_meta_response_free(p->resp);
    rf_free(p->resp);
    rf_free(p);
}

static void write_applied(struct rf_node *node,
                          void *data,
                          int status,
                          int result)
{
    struct pending *p = data;

    (void)node;
    if (status == 0) {
        pending_finish(p, result,
                       result == 0 ? "" : "command rejected when applied");
    } else if (status == RF_ECANCELED) {
        pending_finish(p, RIFFLE__ERROR_CODE__OUTCOME_UNKNOWN,
                       "leadership lost during commit; retry with the same "
                       "request_id");
    } else {
        pending_finish(p, RIFFLE__ERROR_CODE__UNKNOWN_SERVER_ERROR,
                       rf_strerror(status));
    }
}

static bool is_validate_only(const ProtobufCMessage *req)
{
    protobuf_c_boolean *v = msg_field(req, "validate_only");

    return v != NULL && *v;
}

static void run_write(struct rf_node *node,
                      struct pending *p,
                      const ProtobufCMessage *req)
{
    Riffle__MetadataCommand cmd = RIFFLE__METADATA_COMMAND__INIT;
    const uint8_t *rid = request_id_of(req);
    int64_t off;
    int res;
    int rv;

    if (rid != NULL && rf_meta_request_result(node->img, rid, &res, &off)) {
        pending_finish(p, res, "request already applied");
        return;
    }
    rv = p->route->build(node, req, &cmd, p->resp);
    if (rv == RF_ENOENT || (rv == 0 && is_validate_only(req))) {
        rf_meta_command_free(&cmd);
        pending_finish(p, RIFFLE__ERROR_CODE__NONE, "");
        return;
    }
    if (rv != 0) {
        rf_meta_command_free(&cmd);
        pending_finish(p, RIFFLE__ERROR_CODE__INVALID_REQUEST, rf_strerror(rv));
        return;
    }
    {
        char reason[128];
        snprintf(reason, sizeof(reason), "%s from %s",
                 req->descriptor->short_name, rf_rpc_call_peer(p->call));
        rf__node_log_partition_changes(node, &cmd, reason);
    }
    rv = rf__node_submit(node, &cmd, rid, write_applied, p);
    rf_meta_command_free(&cmd);
    if (rv != 0) {
        pending_finish(p,
                       rv == RF_ENOTCONTROLLER
                           ? RIFFLE__ERROR_CODE__NOT_CONTROLLER
                           : RIFFLE__ERROR_CODE__UNKNOWN_SERVER_ERROR,
                       rf_strerror(rv));
    }
}

static struct pending *pending_new(struct rf_node *node,
                                   struct rf_rpc_call *call,
                                   const struct route *route)
{
    struct pending *p = rf_calloc(1, sizeof(*p));

    p->node = node;
    p->call = call;
    p->route = route;
    p->resp = msg_new(route->resp_case);
    p->broker_id = -1;
    return p;
}

static int build_create_topics(struct rf_node *node,
                               const ProtobufCMessage *req,
                               Riffle__MetadataCommand *cmd,
                               ProtobufCMessage *resp)
{
    return rf_meta_build_create_topics(node->img, &node->defs,
                                       (const void *)req, cmd, (void *)resp);
}

static int build_delete_topics(struct rf_node *node,
                               const ProtobufCMessage *req,
                               Riffle__MetadataCommand *cmd,
                               ProtobufCMessage *resp)
{
    return rf_meta_build_delete_topics(node->img, (const void *)req, cmd,
                                       (void *)resp);
}

static int build_create_partitions(struct rf_node *node,
                                   const ProtobufCMessage *req,
                                   Riffle__MetadataCommand *cmd,
                                   ProtobufCMessage *resp)
{
    return rf_meta_build_create_partitions(
        node->img, &node->defs, (const void *)req, cmd, (void *)resp);
}

static int build_alter_partition(struct rf_node *node,
                                 const ProtobufCMessage *req,
                                 Riffle__MetadataCommand *cmd,
                                 ProtobufCMessage *resp)
{
    return rf_meta_build_alter_partition(node->img, (const void *)req, cmd,
                                         (void *)resp);
}

static int build_reassign(struct rf_node *node,
                          const ProtobufCMessage *req,
                          Riffle__MetadataCommand *cmd,
                          ProtobufCMessage *resp)
{
    return rf_meta_build_reassign(node->img, (const void *)req, cmd,
                                  (void *)resp);
}

static int build_register_controller(struct rf_node *node,
                                     const ProtobufCMessage *req,
                                     Riffle__MetadataCommand *cmd,
                                     ProtobufCMessage *resp)
{
    (void)resp;
    return rf_meta_build_register_controller(node->img, (const void *)req, cmd);
}

static bool alive_other(struct rf_node *node,
                        const Riffle__RegisterBrokerRequest *req)
{
    struct rf_meta_broker b;
    struct rf_node_session *s;

    if (!rf_meta_broker_get(node->img, req->broker_id, &b) ||
        b.state == RIFFLE__BROKER_STATE__BROKER_FENCED) {
        return false;
    }
    if (req->incarnation_id.len == 16 &&
        memcmp(req->incarnation_id.data, b.incarnation.b, 16) == 0) {
        return false;
    }
    s = rf__node_session_get(node, req->broker_id, false);
    return s != NULL && s->last_hb_ms != 0 &&
           rf_clock_mono_ms() - s->last_hb_ms <=
               (uint64_t)node->conf->session_timeout_ms;
}

static int build_register_broker(struct rf_node *node,
                                 const ProtobufCMessage *req,
                                 Riffle__MetadataCommand *cmd,
                                 ProtobufCMessage *resp)
{
    const Riffle__RegisterBrokerRequest *r = (const void *)req;

    return rf_meta_build_register_broker(node->img, r, alive_other(node, r),
                                         cmd, (void *)resp);
}

static int build_controlled_shutdown(struct rf_node *node,
                                     const ProtobufCMessage *req,
                                     Riffle__MetadataCommand *cmd,
                                     ProtobufCMessage *resp)
{
    const Riffle__ControlledShutdownRequest *r = (const void *)req;
    struct rf_meta_broker b;

    (void)resp;
    if (!rf_meta_broker_get(node->img, r->broker_id, &b)) {
        return RF_EINVAL;
    }
    return rf_meta_build_controlled_shutdown(node->img, r->broker_id, cmd);
}

/* ---- reads ---- */

static void handle_ping(struct rf_node *node,
                        struct rf_rpc_call *call,
                        const Riffle__Envelope *req)
{
    Riffle__Envelope env = RIFFLE__ENVELOPE__INIT;
    Riffle__Pong pong = RIFFLE__PONG__INIT;

    (void)node;
    pong.nonce = req->ping->nonce;
    pong.payload = req->ping->payload;
    env.body_case = RIFFLE__ENVELOPE__BODY_PONG;
    env.pong = &pong;
    rf_rpc_reply(call, &env);
}

static void handle_node_status(struct rf_node *node,
                               struct rf_rpc_call *call,
                               const Riffle__Envelope *req)
{
    Riffle__NodeStatusResponse resp = RIFFLE__NODE_STATUS_RESPONSE__INIT;
    Riffle__Status st;
    Riffle__Endpoint ep = RIFFLE__ENDPOINT__INIT;
    Riffle__Endpoint hint;

    (void)req;
    rf__node_status_fill(node, &st, &hint, RIFFLE__ERROR_CODE__NONE, "");
    resp.status = &st;
    resp.node_id = (int32_t)node->conf->node_id;
    resp.role = (char *)rf__node_role(node);
    resp.term = node->raft.current_term;
    resp.commit_index = node->raft.commit_index;
    resp.applied_index = node->raft.last_applied;
    resp.leader_id = (int32_t)node->leader_id;
    resp.active = node->active;
    resp.metadata_offset = rf_meta_offset(node->img);
    resp.image_hash = rf_meta_hash(node->img);
    resp.last_index = raft_last_index(&node->raft);
    ep.name = "RPC";
    ep.host = node->conf->rpc.host;
    ep.port = node->conf->rpc.port;
    resp.rpc = &ep;
    rf__node_reply_msg(call, RIFFLE__ENVELOPE__BODY_NODE_STATUS_RESP,
                       &resp.base);
}

static void handle_list_topics(struct rf_node *node,
                               struct rf_rpc_call *call,
                               const Riffle__Envelope *req)
{
    Riffle__ListTopicsResponse resp = RIFFLE__LIST_TOPICS_RESPONSE__INIT;
    Riffle__Status st;
    Riffle__Endpoint ep;

    rf_meta_list_topics(node->img, req->list_topics_req->include_internal,
                        &resp);
    rf__node_status_fill(node, &st, &ep, RIFFLE__ERROR_CODE__NONE, "");
    resp.status = &st;
    rf__node_reply_msg(call, RIFFLE__ENVELOPE__BODY_LIST_TOPICS_RESP,
                       &resp.base);
    resp.status = NULL;
    rf_meta_response_free(&resp.base);
}

static void handle_describe_topics(struct rf_node *node,
                                   struct rf_rpc_call *call,
                                   const Riffle__Envelope *req)
{
    Riffle__DescribeTopicsResponse resp =
        RIFFLE__DESCRIBE_TOPICS_RESPONSE__INIT;
    Riffle__Status st;
    Riffle__Endpoint ep;

    rf_meta_describe_topics(node->img, req->describe_topics_req, &resp);
    rf__node_status_fill(node, &st, &ep, RIFFLE__ERROR_CODE__NONE, "");
    resp.status = &st;
    rf__node_reply_msg(call, RIFFLE__ENVELOPE__BODY_DESCRIBE_TOPICS_RESP,
                       &resp.base);
    resp.status = NULL;
    rf_meta_response_free(&resp.base);
}

static void handle_heartbeat(struct rf_node *node,
                             struct rf_rpc_call *call,
                             const Riffle__Envelope *req)
{
    rf__node_heartbeat(node, call, req->broker_heartbeat_req);
}

/* ---- FetchMetadata long-poll ---- */

static void poll_answer(struct rf_node *node,
                        struct rf_rpc_call *call,
                        int64_t since)
{
    Riffle__FetchMetadataResponse resp = RIFFLE__FETCH_METADATA_RESPONSE__INIT;
    Riffle__Status st;
    Riffle__Endpoint ep;
    int64_t off = rf_meta_offset(node->img);
    int rv = RF_ERANGE;

    resp.offset = off;
    if (since >= 0 && since < off) {
        rv = rf_meta_deltas_since(node->img, since, POLL_MAX_BYTES, &resp);
        if (rv == 0 && resp.n_deltas > 0) {
            resp.offset = resp.deltas[resp.n_deltas - 1]->offset;
        } else if (rv != 0) {
            rf_meta_deltas_free(&resp);
            riffle__fetch_metadata_response__init(&resp);
            resp.offset = off;
        }
    }
    if (since != off && rv != 0) {
        rf_meta_image_export(node->img, &resp);
        if (resp.image != NULL) {
            resp.offset = resp.image->offset;
        }
    }
    rf__node_status_fill(node, &st, &ep, RIFFLE__ERROR_CODE__NONE, "");
    resp.status = &st;
    rf__node_reply_msg(call, RIFFLE__ENVELOPE__BODY_FETCH_METADATA_RESP,
                       &resp.base);
    resp.status = NULL;
    rf_meta_deltas_free(&resp);
}

static void handle_fetch(struct rf_node *node,
                         struct rf_rpc_call *call,
                         const Riffle__Envelope *req)
{
    const Riffle__FetchMetadataRequest *r = req->fetch_metadata_req;
    uint32_t wait = r->max_wait_ms;
    struct rf_node_poll *poll;

    if (r->since_offset != rf_meta_offset(node->img) || wait == 0 ||
        node->n_polls >= POLL_MAX_HELD) {
        poll_answer(node, call, r->since_offset);
        return;
    }
    if (wait > POLL_MAX_WAIT_MS) {
        wait = POLL_MAX_WAIT_MS;
    }
    poll = rf_calloc(1, sizeof(*poll));
    poll->call = call;
    poll->since = r->since_offset;
    poll->deadline_ms = rf_clock_mono_ms() + wait;
    poll->next = node->polls;
    node->polls = poll;
    node->n_polls++;
}

/* Answer (or drop) the held polls that are done: connection gone, offset
 * moved, deadline passed, or every one when flush_code >= 0. */
static void polls_each(struct rf_node *node, uint64_t now_ms, int flush_code)
{
    struct rf_node_poll **pp = &node->polls;
    int64_t off = rf_meta_offset(node->img);

    while (*pp != NULL) {
        struct rf_node_poll *poll = *pp;
        bool done = flush_code >= 0 || !rf_rpc_call_alive(poll->call) ||
                    poll->since != off || now_ms >= poll->deadline_ms;
        if (!done) {
            pp = &poll->next;
            continue;
        }
        *pp = poll->next;
        node->n_polls--;
        if (!rf_rpc_call_alive(poll->call)) {
            rf_rpc_call_drop(poll->call);
        } else if (flush_code >= 0) {
            reply_status(node, poll->call,
                         RIFFLE__ENVELOPE__BODY_FETCH_METADATA_RESP, flush_code,
                         "long-poll ended");
        } else {
            poll_answer(node, poll->call, poll->since);
        }
        rf_free(poll);
    }
}

void rf__node_polls_wake(struct rf_node *node)
{
    if (node->active) {
        polls_each(node, 0, -1);
    }
}

void rf__node_polls_sweep(struct rf_node *node, uint64_t now_ms)
{
    polls_each(node, now_ms, -1);
}

void rf__node_polls_flush(struct rf_node *node, int code)
{
    polls_each(node, 0, code);
}

static const struct route routes[] = {
    {RIFFLE__ENVELOPE__BODY_PING, RIFFLE__ENVELOPE__BODY_PONG, false,
     handle_ping, NULL},
    {RIFFLE__ENVELOPE__BODY_NODE_STATUS_REQ,
     RIFFLE__ENVELOPE__BODY_NODE_STATUS_RESP, false, handle_node_status, NULL},
    {RIFFLE__ENVELOPE__BODY_CREATE_TOPICS_REQ,
     RIFFLE__ENVELOPE__BODY_CREATE_TOPICS_RESP, true, NULL,
     build_create_topics},
    {RIFFLE__ENVELOPE__BODY_DELETE_TOPICS_REQ,
     RIFFLE__ENVELOPE__BODY_DELETE_TOPICS_RESP, true, NULL,
     build_delete_topics},
    {RIFFLE__ENVELOPE__BODY_CREATE_PARTITIONS_REQ,
     RIFFLE__ENVELOPE__BODY_CREATE_PARTITIONS_RESP, true, NULL,
     build_create_partitions},
    {RIFFLE__ENVELOPE__BODY_LIST_TOPICS_REQ,
     RIFFLE__ENVELOPE__BODY_LIST_TOPICS_RESP, true, handle_list_topics, NULL},
    {RIFFLE__ENVELOPE__BODY_DESCRIBE_TOPICS_REQ,
     RIFFLE__ENVELOPE__BODY_DESCRIBE_TOPICS_RESP, true, handle_describe_topics,
     NULL},
    {RIFFLE__ENVELOPE__BODY_DESCRIBE_CLUSTER_REQ,
     RIFFLE__ENVELOPE__BODY_DESCRIBE_CLUSTER_RESP, true,
     rf__node_describe_cluster, NULL},
    {RIFFLE__ENVELOPE__BODY_REGISTER_BROKER_REQ,
     RIFFLE__ENVELOPE__BODY_REGISTER_BROKER_RESP, true, NULL,
     build_register_broker},
    {RIFFLE__ENVELOPE__BODY_BROKER_HEARTBEAT_REQ,
     RIFFLE__ENVELOPE__BODY_BROKER_HEARTBEAT_RESP, true, handle_heartbeat,
     NULL},
    {RIFFLE__ENVELOPE__BODY_CONTROLLED_SHUTDOWN_REQ,
     RIFFLE__ENVELOPE__BODY_CONTROLLED_SHUTDOWN_RESP, true, NULL,
     build_controlled_shutdown},
    {RIFFLE__ENVELOPE__BODY_ALTER_PARTITION_REQ,
     RIFFLE__ENVELOPE__BODY_ALTER_PARTITION_RESP, true, NULL,
     build_alter_partition},
    {RIFFLE__ENVELOPE__BODY_FETCH_METADATA_REQ,
     RIFFLE__ENVELOPE__BODY_FETCH_METADATA_RESP, true, handle_fetch, NULL},
    {RIFFLE__ENVELOPE__BODY_REGISTER_CONTROLLER_REQ,
     RIFFLE__ENVELOPE__BODY_REGISTER_CONTROLLER_RESP, true, NULL,
     build_register_controller},
    {RIFFLE__ENVELOPE__BODY_ALTER_REASSIGNMENTS_REQ,
     RIFFLE__ENVELOPE__BODY_ALTER_REASSIGNMENTS_RESP, true, NULL,
     build_reassign},
};

static const struct route *route_find(int req_case)
{
    size_t i;

    for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        if (routes[i].req_case == req_case) {
            return &routes[i];
        }
    }
    return NULL;
}

int rf__node_route(int req_case, bool *needs_active)
{
    const struct route *r = route_find(req_case);

    if (r == NULL) {
        return 0;
    }
    *needs_active = r->needs_active;
    return r->resp_case;
}

void rf__node_on_call(struct rf_rpc_server *srv,
                      struct rf_rpc_call *call,
                      const Riffle__Envelope *req)
{
    struct rf_node *node = rf_rpc_server_data(srv);
    const struct route *r = route_find((int)req->body_case);
    struct pending *p;

    if (r == NULL || env_body(req) == NULL) {
        RF_DEBUG("not a request peer=%s body=%d", rf_rpc_call_peer(call),
                 (int)req->body_case);
        reply_status(node, call, RIFFLE__ENVELOPE__BODY_ERROR,
                     RIFFLE__ERROR_CODE__INVALID_REQUEST, "not a request");
        return;
    }
    if (r->needs_active && (!node->active || node->stopping)) {
        reply_status(node, call, r->resp_case,
                     RIFFLE__ERROR_CODE__NOT_CONTROLLER,
                     "not the active controller");
        return;
    }
    if (r->handle != NULL) {
        r->handle(node, call, req);
        return;
    }
    p = pending_new(node, call, r);
    if (req->body_case == RIFFLE__ENVELOPE__BODY_REGISTER_BROKER_REQ) {
        p->broker_id = req->register_broker_req->broker_id;
    } else if (req->body_case ==
               RIFFLE__ENVELOPE__BODY_CONTROLLED_SHUTDOWN_REQ) {
        p->broker_id = req->controlled_shutdown_req->broker_id;
    }
    run_write(node, p, env_body(req));
}
