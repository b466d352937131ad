/* cli_run.c: riffle's commands: build the controller request, send it with
 * rf_ctlsync (active controller, retries within --timeout), check and print
 * the answer. */
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "cli.h"
#include "clock.h"
#include "ctlclient.h"
#include "err.h"
#include "net.h"
#include "uuid.h"

/* Per-controller NodeStatus for `cluster status`: short, since a dead node
 * only costs this much (the queries run in parallel). */
#define NODE_STATUS_DEADLINE_MS 1000u

uint32_t rf_cli_remaining_ms(const struct rf_cli_ctx *ctx)
{
    uint64_t spent = rf_clock_mono_ms() - ctx->start_ms;

    if (spent >= ctx->args->timeout_ms)
        return 0;
    return ctx->args->timeout_ms - (uint32_t)spent;
}

int rf_cli_call_checked(struct rf_cli_ctx *ctx, Riffle__Envelope *env,
                        int expected, Riffle__Envelope **resp)
{
    int rv = rf_ctlsync_call(ctx->sync, env, rf_cli_remaining_ms(ctx), resp);

    if (rv != 0) {
        rf_errmsg_set(ctx->errmsg,
                      "no answer from an active controller at "
                      "%s within %u ms: %s",
                      ctx->args->controllers, (unsigned)ctx->args->timeout_ms,
                      rf_strerror(rv));
        return rv;
    }
    rv = rf_cli_check_response(*resp, expected, ctx->errmsg);
    if (rv != 0) {
        riffle__envelope__free_unpacked(*resp, NULL);
        *resp = NULL;
    }
    return rv;
}

/* Ask each controller DescribeCluster listed for its own Raft view; ns[i]
 * gets the answer or NULL. Returns the owned envelopes (n entries). */
static Riffle__Envelope **query_nodes(struct rf_cli_ctx *ctx,
                                      const Riffle__DescribeClusterResponse *dc,
                                      const Riffle__NodeStatusResponse **ns)
{
    struct rf_ctlclient *cc = rf_ctlsync_client(ctx->sync);
    Riffle__NodeStatusRequest nreq = RIFFLE__NODE_STATUS_REQUEST__INIT;
    Riffle__Envelope env = RIFFLE__ENVELOPE__INIT;
    size_t n = dc->n_controllers, i, nops = 0;
    struct rf_ctlsync_op *ops = rf_calloc(n + 1, sizeof(*ops));
    size_t *op_of = rf_calloc(n + 1, sizeof(*op_of));
    Riffle__Envelope **resps = rf_calloc(n + 1, sizeof(*resps));
    uint32_t deadline = rf_cli_remaining_ms(ctx);
    const Riffle__Endpoint *ep;
    int target;

    env.body_case = RIFFLE__ENVELOPE__BODY_NODE_STATUS_REQ;
    env.node_status_req = &nreq;
    for (i = 0; i < n; i++) {
        ep = dc->controllers[i]->rpc;
        op_of[i] = SIZE_MAX;
        if (ep == NULL || ep->host == NULL || ep->port == 0 || ep->port > 65535)
            continue;
        target = rf_ctlclient_add_endpoint(cc, ep->host, (uint16_t)ep->port);
        if (target < 0)
            continue;
        ops[nops].req = &env;
        ops[nops].target = target;
        op_of[i] = nops++;
    }
    if (deadline > NODE_STATUS_DEADLINE_MS)
        deadline = NODE_STATUS_DEADLINE_MS;
    if (nops > 0)
        rf_ctlsync_run(ctx->sync, ops, (int)nops, deadline ? deadline : 1);
    for (i = 0; i < n; i++) {
        struct rf_ctlsync_op *op = op_of[i] == SIZE_MAX ? NULL : &ops[op_of[i]];
        ns[i] = NULL;
        if (op == NULL || op->resp == NULL)
            continue;
        resps[i] = op->resp;
        if (op->status == 0 &&
            op->resp->body_case == RIFFLE__ENVELOPE__BODY_NODE_STATUS_RESP)
            ns[i] = op->resp->node_status_resp;
    }
    rf_free(ops);
    rf_free(op_of);
    return resps;
}

static int describe_cluster(struct rf_cli_ctx *ctx, Riffle__Envelope **resp)
{
    Riffle__DescribeClusterRequest req = RIFFLE__DESCRIBE_CLUSTER_REQUEST__INIT;
    Riffle__Envelope env = RIFFLE__ENVELOPE__INIT;

    env.body_case = RIFFLE__ENVELOPE__BODY_DESCRIBE_CLUSTER_REQ;
    env.describe_cluster_req = &req;
    return rf_cli_call_checked(ctx, &env,
                               RIFFLE__ENVELOPE__BODY_DESCRIBE_CLUSTER_RESP,
                               resp);
}

static int cmd_cluster_status(struct rf_cli_ctx *ctx)
{
    const Riffle__DescribeClusterResponse *dc;
    const Riffle__NodeStatusResponse **ns;
    Riffle__Envelope *resp, **node_resps;
    size_t i;
    int rv;

    if ((rv = describe_cluster(ctx, &resp)) != 0)
        return rv;
    dc = resp->describe_cluster_resp;
    ns = rf_calloc(dc->n_controllers + 1, sizeof(*ns));
    node_resps = query_nodes(ctx, dc, ns);
    rf_cli_fmt_cluster(dc, ns, ctx->args->json, &ctx->out);
    for (i = 0; i < dc->n_controllers; i++) {
        if (node_resps[i])
            riffle__envelope__free_unpacked(node_resps[i], NULL);
    }
    rf_free(node_resps);
    rf_free(ns);
    riffle__envelope__free_unpacked(resp, NULL);
    return 0;
}

static int cmd_broker_list(struct rf_cli_ctx *ctx)
{
    Riffle__Envelope *resp;
    int rv;

    if ((rv = describe_cluster(ctx, &resp)) != 0)
        return rv;
    rf_cli_fmt_brokers(resp->describe_cluster_resp, ctx->args->json, &ctx->out);
    riffle__envelope__free_unpacked(resp, NULL);
    return 0;
}

static int cmd_topic_create(struct rf_cli_ctx *ctx, ProtobufCBinaryData rid)
{
    const struct rf_cli_args *a = ctx->args;
    Riffle__ConfigEntry cfg[RF_CLI_MAX_CONFIGS];
    Riffle__ConfigEntry *cfgp[RF_CLI_MAX_CONFIGS];
    Riffle__CreatableTopic topic = RIFFLE__CREATABLE_TOPIC__INIT;
    Riffle__CreatableTopic *topics[1] = {&topic};
    Riffle__CreateTopicsRequest req = RIFFLE__CREATE_TOPICS_REQUEST__INIT;
    Riffle__Envelope env = RIFFLE__ENVELOPE__INIT, *resp;
    int i, rv;

    for (i = 0; i < a->nconfigs; i++) {
        riffle__config_entry__init(&cfg[i]);
        cfg[i].name = (char *)a->config_keys[i];
        cfg[i].value = (char *)a->config_vals[i];
        cfgp[i] = &cfg[i];
    }
    topic.name = (char *)a->topic;
    topic.num_partitions = a->partitions;
    topic.replication_factor = a->replication_factor;
    topic.n_configs = (size_t)a->nconfigs;
    topic.configs = cfgp;
    req.request_id = rid;
    req.n_topics = 1;
    req.topics = topics;
    env.body_case = RIFFLE__ENVELOPE__BODY_CREATE_TOPICS_REQ;
    env.create_topics_req = &req;
    rv = rf_cli_call_checked(ctx, &env,
                             RIFFLE__ENVELOPE__BODY_CREATE_TOPICS_RESP,
                             &resp);
    if (rv != 0)
        return rv;
    rf_cli_fmt_topic_created(resp->create_topics_resp, a->json, &ctx->out);
    riffle__envelope__free_unpacked(resp, NULL);
    return 0;
}

static int cmd_topic_delete(struct rf_cli_ctx *ctx, ProtobufCBinaryData rid)
{
    Riffle__DeleteTopicsRequest req = RIFFLE__DELETE_TOPICS_REQUEST__INIT;
    Riffle__Envelope env = RIFFLE__ENVELOPE__INIT, *resp;
    char *names[1] = {(char *)ctx->args->topic};
    int rv;

    req.request_id = rid;
    req.n_names = 1;
    req.names = names;
    env.body_case = RIFFLE__ENVELOPE__BODY_DELETE_TOPICS_REQ;
    env.delete_topics_req = &req;
    rv = rf_cli_call_checked(ctx, &env,
                             RIFFLE__ENVELOPE__BODY_DELETE_TOPICS_RESP,
                             &resp);
    if (rv != 0)
        return rv;
    rf_cli_fmt_topic_deleted(resp->delete_topics_resp, ctx->args->json,
                             &ctx->out);
    riffle__envelope__free_unpacked(resp, NULL);
    return 0;
}

static int cmd_topic_list(struct rf_cli_ctx *ctx)
{
    Riffle__ListTopicsRequest req = RIFFLE__LIST_TOPICS_REQUEST__INIT;
    Riffle__Envelope env = RIFFLE__ENVELOPE__INIT, *resp;
    int rv;

    env.body_case = RIFFLE__ENVELOPE__BODY_LIST_TOPICS_REQ;
    env.list_topics_req = &req;
    rv =
        rf_cli_call_checked(ctx, &env,
                            RIFFLE__ENVELOPE__BODY_LIST_TOPICS_RESP, &resp);
    if (rv != 0)
        return rv;
    rf_cli_fmt_topic_list(resp->list_topics_resp, ctx->args->json, &ctx->out);
    riffle__envelope__free_unpacked(resp, NULL);
    return 0;
}

static int cmd_topic_describe(struct rf_cli_ctx *ctx)
{
    Riffle__DescribeTopicsRequest req = RIFFLE__DESCRIBE_TOPICS_REQUEST__INIT;
    Riffle__Envelope env = RIFFLE__ENVELOPE__INIT, *resp;
    char *names[1] = {(char *)ctx->args->topic};
    int rv;

    if (ctx->args->topic) {
        req.n_names = 1;
        req.names = names;
    }
    env.body_case = RIFFLE__ENVELOPE__BODY_DESCRIBE_TOPICS_REQ;
    env.describe_topics_req = &req;
    rv = rf_cli_call_checked(ctx, &env,
                             RIFFLE__ENVELOPE__BODY_DESCRIBE_TOPICS_RESP,
                             &resp);
    if (rv != 0)
        return rv;
    rf_cli_fmt_topic_describe(resp->describe_topics_resp, ctx->args->json,
                              &ctx->out);
    riffle__envelope__free_unpacked(resp, NULL);
    return 0;
}

static int dispatch(struct rf_cli_ctx *ctx)
{
    struct rf_uuid uuid;
    ProtobufCBinaryData rid;

    /* One request id per command, reused by every retry (ctlclient sends
     * the same packed bytes), so a retried create/delete applies once. */
    rf_uuid_generate(&uuid);
    rid.len = sizeof(uuid.b);
    rid.data = uuid.b;
    switch (ctx->args->cmd) {
        case RF_CLI_CLUSTER_STATUS:
            return cmd_cluster_status(ctx);
        case RF_CLI_BROKER_LIST:
            return cmd_broker_list(ctx);
        case RF_CLI_TOPIC_CREATE:
            return cmd_topic_create(ctx, rid);
        case RF_CLI_TOPIC_LIST:
            return cmd_topic_list(ctx);
        case RF_CLI_TOPIC_DESCRIBE:
            return cmd_topic_describe(ctx);
        case RF_CLI_TOPIC_DELETE:
            return cmd_topic_delete(ctx, rid);
        default:
            rf_errmsg_set(ctx->errmsg, "no command");
            return RF_EINVAL;
    }
}

int rf_cli_run(const struct rf_cli_args *args, char *errmsg)
{
    struct rf_hostport hps[RF_CTLCLIENT_MAX_ENDPOINTS];
    struct rf_cli_ctx ctx;
    int n, rv;

    if (args->cmd == RF_CLI_GROUP_LIST || args->cmd == RF_CLI_GROUP_DESCRIBE)
        return rf_cli_group_run(args, errmsg);
    memset(&ctx, 0, sizeof(ctx));
    ctx.args = args;
    ctx.errmsg = errmsg;
    ctx.start_ms = rf_clock_mono_ms();
    n = rf_hostport_list_parse(args->controllers, hps,
                               RF_CTLCLIENT_MAX_ENDPOINTS);
    if (n < 1 || rf_ctlsync_open(hps, n, NULL, &ctx.sync) != 0) {
        rf_errmsg_set(errmsg, "bad controller list '%s'", args->controllers);
        return RF_CLI_EXIT_USAGE;
    }
    rf_wr_init(&ctx.out, 4096);
    rv = args->cmd == RF_CLI_PARTITION_REASSIGN ||
                 args->cmd == RF_CLI_BROKER_DRAIN
             ? rf_cli_partition_dispatch(&ctx)
             : dispatch(&ctx);
    rf_ctlsync_close(ctx.sync);
    if (rv == 0 && ctx.out.len > 0 &&
        (fwrite(ctx.out.base, 1, ctx.out.len, stdout) != ctx.out.len ||
         fflush(stdout) != 0)) {
        rf_errmsg_set(errmsg, "write to stdout failed");
        rv = RF_EIO;
    }
    rf_wr_free(&ctx.out);
    return rv == 0 ? RF_CLI_EXIT_OK : RF_CLI_EXIT_FAIL;
}
