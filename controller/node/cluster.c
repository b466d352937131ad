/* cluster.c: talking to the other controllers: DescribeCluster's NodeStatus
 * fan-out and registration of this controller's RPC endpoint.
 *
 * Happy path: DescribeCluster asks every other voter's NodeStatus over
 * rf_rpc (PEER_TIMEOUT_MS) and answers once all calls have called back; a
 * follower registers its endpoint with the active controller by RPC, the
 * active controller writes its own record directly.
 *
 * Failure modes: a peer with no registered endpoint, or whose call fails,
 * is listed as "unreachable"; registration retries every second. */
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "clock.h"
#include "err.h"
#include "log.h"
#include "node_int.h"

#define PEER_TIMEOUT_MS 500u
#define REGISTER_PERIOD_MS 1000u

/* ---- peer clients ---- */

static struct rf_rpc_client *peer_client(struct rf_node *node,
                                         int idx,
                                         const Riffle__Endpoint *ep)
{
    struct rf_node_peer *peer = &node->peers[idx];

    if (peer->client != NULL &&
        (strcmp(peer->host, ep->host) != 0 || peer->port != ep->port)) {
        rf_rpc_client_close(peer->client, NULL, NULL);
        peer->client = NULL;
    }
    if (peer->client == NULL) {
        struct rf_rpc_client_opts opts = {0, 300, 50, 500};
        if (ep->port == 0 || ep->port > 65535 ||
            strlen(ep->host) >= sizeof(peer->host) ||
            rf_rpc_client_new(&node->loop, ep->host, (uint16_t)ep->port, &opts,
                              &peer->client) != 0) {
            peer->client = NULL;
            return NULL;
        }
        snprintf(peer->host, sizeof(peer->host), "%s", ep->host);
        peer->port = (uint16_t)ep->port;
    }
    return peer->client;
}

void rf__node_peers_close(struct rf_node *node)
{
    int i;

    for (i = 0; i < RF_NODE_MAX_VOTERS; i++) {
        if (node->peers[i].client != NULL) {
            rf_rpc_client_close(node->peers[i].client, NULL, NULL);
            node->peers[i].client = NULL;
        }
    }
}

/* Client for voter i, from its record in the image; NULL if unknown. */
static struct rf_rpc_client *voter_client(struct rf_node *node, int i)
{
    const Riffle__RegisterControllerRecord *rec =
        rf_meta_controller_get(node->img, (int32_t)node->conf->voters[i].id);

    if (rec == NULL || rec->rpc == NULL || node->stopping) {
        return NULL;
    }
    return peer_client(node, i, rec->rpc);
}

/* ---- DescribeCluster ---- */

struct dc_ctl {
    Riffle__ControllerInfo info;
    Riffle__Endpoint ep;
    char raft_addr[RF_HOST_MAX + 8];
    char host[RF_HOST_MAX];
    char role[16];
    struct dc_req *dc;
};

struct dc_req {
    struct rf_node *node;
    struct rf_rpc_call *call;
    int waiting;
    int n;
    struct dc_ctl ctl[RF_NODE_MAX_VOTERS];
    Riffle__ControllerInfo *ctlp[RF_NODE_MAX_VOTERS];
};

struct dc_brokers {
    size_t n;
    Riffle__BrokerInfo *info;
    Riffle__BrokerInfo **infop;
    uint8_t (*inc)[16];
};

static void fill_brokers(struct rf_node *node, struct dc_brokers *bs)
{
    struct rf_meta_broker b;
    uint64_t now = rf_clock_mono_ms();
    size_t i;

    bs->n = rf_meta_broker_count(node->img);
    bs->info = rf_calloc(bs->n + 1, sizeof(*bs->info));
    bs->infop = rf_calloc(bs->n + 1, sizeof(*bs->infop));
    bs->inc = rf_calloc(bs->n + 1, sizeof(*bs->inc));
    for (i = 0; i < bs->n && rf_meta_broker_at(node->img, i, &b); i++) {
        Riffle__BrokerInfo *bi = &bs->info[i];
        struct rf_node_session *s = rf__node_session_get(node, b.id, false);
        riffle__broker_info__init(bi);
        bi->broker_id = b.id;
        bi->broker_epoch = b.epoch;
        bi->state = b.state;
        bi->n_endpoints = b.n_endpoints;
        bi->endpoints = b.endpoints; /* borrowed: packed at once */
        bi->rack = (char *)(b.rack != NULL ? b.rack : "");
        memcpy(bs->inc[i], b.incarnation.b, 16);
        bi->incarnation_id.data = bs->inc[i];
        bi->incarnation_id.len = 16;
        bi->last_heartbeat_age_ms =
            s != NULL && s->seen ? (int64_t)(now - s->last_hb_ms) : -1;
        bs->infop[i] = bi;
    }
    bs->n = i;
}

static void dc_finish(struct dc_req *dc)
{
    struct rf_node *node = dc->node;
    Riffle__DescribeClusterResponse resp =
        RIFFLE__DESCRIBE_CLUSTER_RESPONSE__INIT;
    Riffle__Status st;
    Riffle__Endpoint ep;
    struct rf_uuid cid;
    struct dc_brokers bs;

    rf__node_status_fill(node, &st, &ep, RIFFLE__ERROR_CODE__NONE, "");
    resp.status = &st;
    rf_meta_cluster_id(node->img, &cid);
    resp.cluster_id.data = cid.b;
    resp.cluster_id.len = 16;
    resp.active_controller_id =
        node->active ? (int32_t)node->conf->node_id : (int32_t)node->leader_id;
    resp.metadata_offset = rf_meta_offset(node->img);
    resp.n_controllers = (size_t)dc->n;
    resp.controllers = dc->ctlp;
    fill_brokers(node, &bs);
    resp.n_brokers = bs.n;
    resp.brokers = bs.infop;
    rf__node_reply_msg(dc->call, RIFFLE__ENVELOPE__BODY_DESCRIBE_CLUSTER_RESP,
                       &resp.base);
    rf_free(bs.info);
    rf_free(bs.infop);
    rf_free(bs.inc);
    rf_free(dc);
}

static void dc_status_cb(void *data, int status, const Riffle__Envelope *resp)
{
    struct dc_ctl *c = data;
    struct dc_req *dc = c->dc;

    if (status == 0 &&
        resp->body_case == RIFFLE__ENVELOPE__BODY_NODE_STATUS_RESP) {
        const Riffle__NodeStatusResponse *ns = resp->node_status_resp;
        snprintf(c->role, sizeof(c->role), "%s",
                 ns->role != NULL ? ns->role : "");
        c->info.term = ns->term;
        c->info.commit_index = ns->commit_index;
        c->info.applied_index = ns->applied_index;
    }
    if (--dc->waiting == 0) {
        dc_finish(dc);
    }
}

static void dc_local(struct rf_node *node, struct dc_ctl *c)
{
    snprintf(c->role, sizeof(c->role), "%s", rf__node_role(node));
    c->info.term = node->raft.current_term;
    c->info.commit_index = node->raft.commit_index;
    c->info.applied_index = node->raft.last_applied;
}

static void dc_ask(struct rf_node *node, struct dc_req *dc, int i)
{
    Riffle__Envelope env = RIFFLE__ENVELOPE__INIT;
    Riffle__NodeStatusRequest ns = RIFFLE__NODE_STATUS_REQUEST__INIT;
    struct rf_rpc_client *client = voter_client(node, i);

    if (client == NULL) {
        return;
    }
    env.body_case = RIFFLE__ENVELOPE__BODY_NODE_STATUS_REQ;
    env.node_status_req = &ns;
    dc->waiting++;
    if (rf_rpc_call(client, &env, PEER_TIMEOUT_MS, dc_status_cb, &dc->ctl[i]) !=
        0) {
        dc->waiting--;
    }
}

static void dc_init_ctl(struct rf_node *node, struct dc_req *dc, int i)
{
    const struct rf_voter *v = &node->conf->voters[i];
    const Riffle__RegisterControllerRecord *rec =
        rf_meta_controller_get(node->img, (int32_t)v->id);
    struct dc_ctl *c = &dc->ctl[i];

    c->dc = dc;
    riffle__controller_info__init(&c->info);
    riffle__endpoint__init(&c->ep);
    c->info.node_id = (int32_t)v->id;
    snprintf(c->raft_addr, sizeof(c->raft_addr), "%s:%u", v->hp.host,
             (unsigned)v->hp.port);
    c->info.raft_address = c->raft_addr;
    snprintf(c->role, sizeof(c->role), "unreachable");
    c->info.role = c->role;
    if (rec != NULL && rec->rpc != NULL) {
        snprintf(c->host, sizeof(c->host), "%s", rec->rpc->host);
        c->ep.name = "RPC";
        c->ep.host = c->host;
        c->ep.port = rec->rpc->port;
        c->info.rpc = &c->ep;
    }
    dc->ctlp[i] = &c->info;
}

void rf__node_describe_cluster(struct rf_node *node,
                               struct rf_rpc_call *call,
                               const Riffle__Envelope *req)
{
    struct dc_req *dc = rf_calloc(1, sizeof(*dc));
    int i;

    (void)req;
    dc->node = node;
    dc->call = call;
    dc->n = node->conf->n_voters;
    dc->waiting = 1; /* held until every call is out */
    for (i = 0; i < dc->n; i++) {
        dc_init_ctl(node, dc, i);
        if (node->conf->voters[i].id == (uint64_t)node->conf->node_id) {
            dc_local(node, &dc->ctl[i]);
        } else {
            dc_ask(node, dc, i);
        }
    }
    if (--dc->waiting == 0) {
        dc_finish(dc);
    }
}

/* ---- controller endpoint registration ---- */

static bool self_registered(struct rf_node *node)
{
    const Riffle__RegisterControllerRecord *rec =
        rf_meta_controller_get(node->img, (int32_t)node->conf->node_id);

    return rec != NULL && rec->rpc != NULL && rec->rpc->host != NULL &&
           strcmp(rec->rpc->host, node->conf->rpc.host) == 0 &&
           rec->rpc->port == node->conf->rpc.port &&
           rec->raft_address != NULL &&
           strcmp(rec->raft_address, node->conf->raft_address) == 0;
}

static void register_done(struct rf_node *node,
                          void *data,
                          int status,
                          int result)
{
    (void)data;
    node->register_inflight = false;
    RF_INFO("registered own RPC endpoint status=%s result=%d",
            rf_err_name(status), result);
}

static void register_rpc_cb(void *data,
                            int status,
                            const Riffle__Envelope *resp)
{
    struct rf_node *node = data;
    int code = -1;

    node->register_inflight = false;
    if (status == 0 &&
        resp->body_case == RIFFLE__ENVELOPE__BODY_REGISTER_CONTROLLER_RESP &&
        resp->register_controller_resp->status != NULL) {
        code = resp->register_controller_resp->status->code;
    }
    RF_INFO("register with active controller status=%s code=%d",
            rf_err_name(status), code);
}

static void fill_register(struct rf_node *node,
                          Riffle__RegisterControllerRequest *req,
                          Riffle__Endpoint *ep)
{
    riffle__register_controller_request__init(req);
    riffle__endpoint__init(ep);
    req->node_id = (int32_t)node->conf->node_id;
    req->raft_address = node->conf->raft_address;
    ep->name = "RPC";
    ep->host = node->conf->rpc.host;
    ep->port = node->conf->rpc.port;
    req->rpc = ep;
}

static void register_active(struct rf_node *node,
                            Riffle__RegisterControllerRequest *req)
{
    Riffle__MetadataCommand cmd = RIFFLE__METADATA_COMMAND__INIT;

    if (rf_meta_build_register_controller(node->img, req, &cmd) == 0 &&
        rf__node_submit(node, &cmd, NULL, register_done, NULL) == 0) {
        node->register_inflight = true;
    }
    rf_meta_command_free(&cmd);
}

static void register_remote(struct rf_node *node,
                            Riffle__RegisterControllerRequest *req)
{
    Riffle__Envelope env = RIFFLE__ENVELOPE__INIT;
    int i = node->leader_id != 0 ? -1 : -2;
    struct rf_rpc_client *client;

    for (int k = 0; k < node->conf->n_voters && i == -1; k++) {
        if (node->conf->voters[k].id == node->leader_id) {
            i = k;
        }
    }
    if (i < 0 || (client = voter_client(node, i)) == NULL) {
        return; /* leader or its endpoint not known yet */
    }
    env.body_case = RIFFLE__ENVELOPE__BODY_REGISTER_CONTROLLER_REQ;
    env.register_controller_req = req;
    if (rf_rpc_call(client, &env, 2000, register_rpc_cb, node) == 0) {
        node->register_inflight = true;
    }
}

void rf__node_register_self(struct rf_node *node, uint64_t now_ms)
{
    Riffle__RegisterControllerRequest req;
    Riffle__Endpoint ep;

    if (node->register_inflight || node->stopping ||
        now_ms < node->next_register_ms || self_registered(node)) {
        return;
    }
    node->next_register_ms = now_ms + REGISTER_PERIOD_MS;
    fill_register(node, &req, &ep);
    if (node->active) {
        register_active(node, &req);
    } else if (node->leader_id != (raft_id)node->conf->node_id) {
        register_remote(node, &req);
    }
}
