/* cli_partition.c: `riffle partition reassign` and `riffle broker drain`:
 * AlterReassignments requests to the active controller (docs/reassign.md).
 * The drain plan is computed here from DescribeCluster and DescribeTopics;
 * the controller validates every move again. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "cli.h"
#include "clock.h"
#include "ctlclient.h"
#include "err.h"
#include "json.h"
#include "net.h"
#include "table.h"
#include "uuid.h"

/* Moves per AlterReassignments request (the controller takes up to 10000). */
#define DRAIN_CHUNK 1000
#define LIST_STR_SIZE 512

/* ---- argument checks ---- */

static int parse_id(const char *what, const char *s, int32_t *out,
                    char *errmsg)
{
    char *end;
    long long v;

    errno = 0;
    v = strtoll(s, &end, 10);
    if (*s == '\0' || *end != '\0' || errno != 0 || v < 0 || v > INT32_MAX) {
        rf_errmsg_set(errmsg, "%s: '%s' is not an integer in 0..%d", what, s,
                      INT32_MAX);
        return RF_EINVAL;
    }
    *out = (int32_t)v;
    return 0;
}

/* "1,2,4" -> ids: 1..RF_CLI_MAX_REPLICAS distinct ids. */
static int parse_list(const char *flag, const char *s, int32_t *ids, int *n,
                      char *errmsg)
{
    char item[16];
    const char *p = s;

    *n = 0;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len == 0 || len >= sizeof(item)) {
            rf_errmsg_set(errmsg, "%s: expected ID,ID,... got '%s'", flag, s);
            return RF_EINVAL;
        }
        if (*n == RF_CLI_MAX_REPLICAS) {
            rf_errmsg_set(errmsg, "%s: more than %d brokers", flag,
                          RF_CLI_MAX_REPLICAS);
            return RF_EINVAL;
        }
        memcpy(item, p, len);
        item[len] = '\0';
        if (parse_id(flag, item, &ids[*n], errmsg) != 0)
            return RF_EINVAL;
        for (int i = 0; i < *n; i++) {
            if (ids[i] == ids[*n]) {
                rf_errmsg_set(errmsg, "%s: broker %" PRId32 " named twice",
                              flag, ids[i]);
                return RF_EINVAL;
            }
        }
        (*n)++;
        if (comma == NULL)
            return 0;
        p = comma + 1;
    }
}

int rf_cli_partition_check(struct rf_cli_args *args, char *errmsg)
{
    if (args->replicas_arg && args->cmd != RF_CLI_PARTITION_REASSIGN) {
        rf_errmsg_set(errmsg, "--replicas applies to 'partition reassign' "
                              "only");
        return RF_EINVAL;
    }
    if (args->to_arg && args->cmd != RF_CLI_BROKER_DRAIN) {
        rf_errmsg_set(errmsg, "--to applies to 'broker drain' only");
        return RF_EINVAL;
    }
    if (args->cmd == RF_CLI_PARTITION_REASSIGN) {
        if (parse_id("PARTITION", args->name2, &args->partition, errmsg) != 0)
            return RF_EINVAL;
        if (args->replicas_arg == NULL) {
            rf_errmsg_set(errmsg, "'partition reassign' needs --replicas "
                                  "ID,ID...");
            return RF_EINVAL;
        }
        return parse_list("--replicas", args->replicas_arg, args->replicas,
                          &args->n_replicas, errmsg);
    }
    if (args->cmd == RF_CLI_BROKER_DRAIN) {
        if (parse_id("broker id", args->topic, &args->broker_id, errmsg) != 0)
            return RF_EINVAL;
        if (args->to_arg != NULL)
            return parse_list("--to", args->to_arg, args->to, &args->n_to,
                              errmsg);
    }
    return 0;
}

/* ---- talking to the controller ---- */

/* Send items[0..n) in one AlterReassignments; 0 when every item was
 * accepted, else RF_EPROTO with the failed items in errmsg. */
static int send_reassign(struct rf_cli_ctx *ctx,
                         Riffle__PartitionReassignment **items, size_t n)
{
    Riffle__AlterReassignmentsRequest req =
        RIFFLE__ALTER_REASSIGNMENTS_REQUEST__INIT;
    Riffle__Envelope env = RIFFLE__ENVELOPE__INIT, *resp;
    struct rf_uuid rid;
    size_t off = 0;
    int rv;

    /* One id per request, reused by every retry: it applies once. */
    rf_uuid_generate(&rid);
    req.request_id.len = sizeof(rid.b);
    req.request_id.data = rid.b;
    req.n_partitions = n;
    req.partitions = items;
    env.body_case = RIFFLE__ENVELOPE__BODY_ALTER_REASSIGNMENTS_REQ;
    env.alter_reassignments_req = &req;
    rv = rf_cli_call_checked(ctx, &env,
                             RIFFLE__ENVELOPE__BODY_ALTER_REASSIGNMENTS_RESP,
                             &resp);
    if (rv != 0)
        return rv;
    const Riffle__AlterReassignmentsResponse *r =
        resp->alter_reassignments_resp;
    ctx->errmsg[0] = '\0';
    for (size_t i = 0; i < r->n_results; i++) {
        const Riffle__ReassignmentResult *res = r->results[i];
        if (res->error == RIFFLE__ERROR_CODE__NONE || off >= RF_ERRMSG_SIZE - 1)
            continue;
        int w = snprintf(ctx->errmsg + off, RF_ERRMSG_SIZE - off,
                         "%stopic %s partition %" PRId32 ": %s%s%s",
                         off ? "; " : "", res->topic, res->partition,
                         rf_cli_error_name((int)res->error),
                         res->error_message[0] ? ": " : "",
                         res->error_message);
        if (w > 0)
            off += (size_t)w;
    }
    if (off == 0 && r->n_results != n) {
        rf_errmsg_set(ctx->errmsg, "the controller answered %zu results for "
                                   "%zu partitions",
                      r->n_results, n);
        off = 1;
    }
    riffle__envelope__free_unpacked(resp, NULL);
    return off > 0 ? RF_EPROTO : 0;
}

static void fmt_ints(const int32_t *v, size_t n, char *out, size_t size)
{
    size_t off = 0;

    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        int w = snprintf(out + off, size - off, "%s%" PRId32, i ? "," : "",
                         v[i]);
        if (w < 0 || (size_t)w >= size - off) {
            snprintf(out + (size > 4 ? size - 4 : 0), 4, "...");
            return;
        }
        off += (size_t)w;
    }
}

static void json_ints(struct rf_json *j, const int32_t *v, size_t n)
{
    rf_json_arr_begin(j);
    for (size_t i = 0; i < n; i++)
        rf_json_int(j, v[i]);
    rf_json_arr_end(j);
}

/* ---- partition reassign ---- */

static int cmd_reassign(struct rf_cli_ctx *ctx)
{
    const struct rf_cli_args *a = ctx->args;
    Riffle__PartitionReassignment it = RIFFLE__PARTITION_REASSIGNMENT__INIT;
    Riffle__PartitionReassignment *items[1] = {&it};
    int32_t replicas[RF_CLI_MAX_REPLICAS];
    char list[LIST_STR_SIZE];
    int rv;

    memcpy(replicas, a->replicas, (size_t)a->n_replicas * sizeof(int32_t));
    it.topic = (char *)a->topic;
    it.partition = a->partition;
    it.n_replicas = (size_t)a->n_replicas;
    it.replicas = replicas;
    if ((rv = send_reassign(ctx, items, 1)) != 0)
        return rv;
    if (a->json) {
        struct rf_json j;
        rf_json_init(&j, &ctx->out);
        rf_json_obj_begin(&j);
        rf_json_key(&j, "reassignments");
        rf_json_arr_begin(&j);
        rf_json_obj_begin(&j);
        rf_json_key(&j, "topic");
        rf_json_str(&j, a->topic);
        rf_json_key(&j, "partition");
        rf_json_int(&j, a->partition);
        rf_json_key(&j, "target_replicas");
        json_ints(&j, replicas, (size_t)a->n_replicas);
        rf_json_obj_end(&j);
        rf_json_arr_end(&j);
        rf_json_obj_end(&j);
        rf_wr_u8(&ctx->out, '\n');
        return 0;
    }
    fmt_ints(replicas, (size_t)a->n_replicas, list, sizeof(list));
    char line[LIST_STR_SIZE + 512];
    int w = snprintf(line, sizeof(line),
                     "Reassignment of %s partition %" PRId32 " to %s "
                     "accepted; 'riffle topic describe %s' shows it under "
                     "TARGET until it completes.\n",
                     a->topic, a->partition, list, a->topic);
    if (w > 0)
        rf_wr_bytes(&ctx->out, line, strlen(line));
    return 0;
}

/* ---- broker drain ---- */

struct move {
    const char *topic; /* points into the DescribeTopics answer */
    int32_t partition;
    const int32_t *from; /* points into the answer */
    size_t n_from;
    int32_t to[RF_CLI_MAX_REPLICAS];
    size_t n_to;
};

struct load {
    int32_t id;
    size_t replicas;
};

struct plan {
    struct load *cands; /* brokers that may take a replica */
    size_t n_cands;
    struct move *moves;
    size_t n_moves, cap_moves;
};

static bool has(const int32_t *v, size_t n, int32_t x)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] == x)
            return true;
    return false;
}

/* Candidates: unfenced brokers other than the drained one (and in --to when
 * given). Errors: the drained broker or a --to broker is not registered. */
static int plan_candidates(struct rf_cli_ctx *ctx,
                           const Riffle__DescribeClusterResponse *dc,
                           struct plan *pl)
{
    const struct rf_cli_args *a = ctx->args;
    bool found = false;

    for (int i = 0; i < a->n_to; i++) {
        bool known = false;
        for (size_t k = 0; k < dc->n_brokers; k++)
            known = known || dc->brokers[k]->broker_id == a->to[i];
        if (!known || a->to[i] == a->broker_id) {
            rf_errmsg_set(ctx->errmsg, "--to: broker %" PRId32 " is %s",
                          a->to[i], known ? "the one drained"
                                          : "not registered");
            return RF_EINVAL;
        }
    }
    pl->cands = rf_calloc(dc->n_brokers + 1, sizeof(*pl->cands));
    for (size_t k = 0; k < dc->n_brokers; k++) {
        const Riffle__BrokerInfo *b = dc->brokers[k];
        found = found || b->broker_id == a->broker_id;
        if (b->broker_id == a->broker_id ||
            b->state != RIFFLE__BROKER_STATE__BROKER_UNFENCED ||
            (a->n_to > 0 && !has(a->to, (size_t)a->n_to, b->broker_id)))
            continue;
        pl->cands[pl->n_cands++].id = b->broker_id;
    }
    if (!found) {
        rf_errmsg_set(ctx->errmsg, "broker %" PRId32 " is not registered",
                      a->broker_id);
        return RF_EINVAL;
    }
    return 0;
}

/* The replica list a partition is heading to: its target while moving. */
static void part_list(const Riffle__PartitionDescription *pd,
                      const int32_t **v, size_t *n)
{
    *v = pd->reassigning ? pd->target_replicas : pd->replicas;
    *n = pd->reassigning ? pd->n_target_replicas : pd->n_replicas;
}

static void count_loads(const Riffle__DescribeTopicsResponse *dt,
                        struct plan *pl)
{
    for (size_t t = 0; t < dt->n_topics; t++) {
        const Riffle__TopicDescription *td = dt->topics[t];
        for (size_t p = 0; p < td->n_partitions; p++) {
            const int32_t *v;
            size_t n;
            part_list(td->partitions[p], &v, &n);
            for (size_t c = 0; c < pl->n_cands; c++)
                pl->cands[c].replicas += has(v, n, pl->cands[c].id);
        }
    }
}

/* Least-loaded candidate not in v (ties: lowest id); NULL when none. */
static struct load *pick(struct plan *pl, const int32_t *v, size_t n)
{
    struct load *best = NULL;

    for (size_t c = 0; c < pl->n_cands; c++) {
        struct load *l = &pl->cands[c];
        if (has(v, n, l->id))
            continue;
        if (best == NULL || l->replicas < best->replicas ||
            (l->replicas == best->replicas && l->id < best->id))
            best = l;
    }
    return best;
}

static int plan_one(struct rf_cli_ctx *ctx, struct plan *pl, const char *topic,
                    const Riffle__PartitionDescription *pd)
{
    const int32_t *v;
    size_t n;

    part_list(pd, &v, &n);
    if (!has(v, n, ctx->args->broker_id) || n > RF_CLI_MAX_REPLICAS)
        return 0;
    struct load *l = pick(pl, v, n);
    if (l == NULL) {
        rf_errmsg_set(ctx->errmsg,
                      "no broker can take topic %s partition %" PRId32
                      "'s replica from broker %" PRId32
                      " (every eligible broker already holds it); nothing "
                      "submitted",
                      topic, pd->partition, ctx->args->broker_id);
        return RF_EINVAL;
    }
    if (pl->n_moves == pl->cap_moves) {
        pl->cap_moves = pl->cap_moves ? 2 * pl->cap_moves : 16;
        pl->moves = rf_realloc(pl->moves, pl->cap_moves * sizeof(*pl->moves));
    }
    struct move *m = &pl->moves[pl->n_moves++];
    m->topic = topic;
    m->partition = pd->partition;
    m->from = v;
    m->n_from = n;
    m->n_to = n;
    for (size_t i = 0; i < n; i++)
        m->to[i] = v[i] == ctx->args->broker_id ? l->id : v[i];
    l->replicas++;
    return 0;
}

static void drain_output(struct rf_cli_ctx *ctx, const struct plan *pl)
{
    static const char *const hdr[] = {"TOPIC", "PARTITION", "REPLICAS",
                                      "TARGET"};
    char list[LIST_STR_SIZE];
    struct rf_table t;
    struct rf_json j;

    if (ctx->args->json) {
        rf_json_init(&j, &ctx->out);
        rf_json_obj_begin(&j);
        rf_json_key(&j, "broker");
        rf_json_int(&j, ctx->args->broker_id);
        rf_json_key(&j, "reassignments");
        rf_json_arr_begin(&j);
        for (size_t i = 0; i < pl->n_moves; i++) {
            const struct move *m = &pl->moves[i];
            rf_json_obj_begin(&j);
            rf_json_key(&j, "topic");
            rf_json_str(&j, m->topic);
            rf_json_key(&j, "partition");
            rf_json_int(&j, m->partition);
            rf_json_key(&j, "replicas");
            json_ints(&j, m->from, m->n_from);
            rf_json_key(&j, "target_replicas");
            json_ints(&j, m->to, m->n_to);
            rf_json_obj_end(&j);
        }
        rf_json_arr_end(&j);
        rf_json_obj_end(&j);
        rf_wr_u8(&ctx->out, '\n');
        return;
    }
    if (pl->n_moves == 0) {
        snprintf(list, sizeof(list),
                 "Broker %" PRId32 " holds no replicas: nothing to move.\n",
                 ctx->args->broker_id);
        rf_wr_bytes(&ctx->out, list, strlen(list));
        return;
    }
    rf_table_init(&t, 4, hdr);
    for (size_t i = 0; i < pl->n_moves; i++) {
        const struct move *m = &pl->moves[i];
        rf_table_add(&t, m->topic);
        rf_table_addf(&t, "%" PRId32, m->partition);
        fmt_ints(m->from, m->n_from, list, sizeof(list));
        rf_table_add(&t, list);
        fmt_ints(m->to, m->n_to, list, sizeof(list));
        rf_table_add(&t, list);
    }
    rf_table_render(&t, &ctx->out);
    rf_table_free(&t);
}

/* Submit every move, DRAIN_CHUNK per request. */
static int drain_submit(struct rf_cli_ctx *ctx, const struct plan *pl)
{
    Riffle__PartitionReassignment *its, **items;
    size_t n = pl->n_moves < DRAIN_CHUNK ? pl->n_moves : DRAIN_CHUNK;
    int rv = 0;

    its = rf_calloc(n + 1, sizeof(*its));
    items = rf_calloc(n + 1, sizeof(*items));
    for (size_t done = 0; done < pl->n_moves && rv == 0; done += n) {
        size_t k = pl->n_moves - done < n ? pl->n_moves - done : n;
        for (size_t i = 0; i < k; i++) {
            struct move *m = &pl->moves[done + i];
            riffle__partition_reassignment__init(&its[i]);
            its[i].topic = (char *)m->topic;
            its[i].partition = m->partition;
            its[i].n_replicas = m->n_to;
            its[i].replicas = m->to;
            items[i] = &its[i];
        }
        rv = send_reassign(ctx, items, k);
    }
    rf_free(its);
    rf_free(items);
    return rv;
}

static int cmd_drain(struct rf_cli_ctx *ctx)
{
    Riffle__DescribeClusterRequest dcr = RIFFLE__DESCRIBE_CLUSTER_REQUEST__INIT;
    Riffle__DescribeTopicsRequest dtr = RIFFLE__DESCRIBE_TOPICS_REQUEST__INIT;
    Riffle__Envelope env = RIFFLE__ENVELOPE__INIT, *cl = NULL, *tp = NULL;
    struct plan pl;
    int rv;

    memset(&pl, 0, sizeof(pl));
    env.body_case = RIFFLE__ENVELOPE__BODY_DESCRIBE_CLUSTER_REQ;
    env.describe_cluster_req = &dcr;
    rv = rf_cli_call_checked(ctx, &env,
                             RIFFLE__ENVELOPE__BODY_DESCRIBE_CLUSTER_RESP,
                             &cl);
    if (rv != 0)
        goto out;
    if ((rv = plan_candidates(ctx, cl->describe_cluster_resp, &pl)) != 0)
        goto out;
    env.body_case = RIFFLE__ENVELOPE__BODY_DESCRIBE_TOPICS_REQ;
    env.describe_topics_req = &dtr; /* no names: every topic */
    rv = rf_cli_call_checked(ctx, &env,
                             RIFFLE__ENVELOPE__BODY_DESCRIBE_TOPICS_RESP,
                             &tp);
    if (rv != 0)
        goto out;
    const Riffle__DescribeTopicsResponse *dt = tp->describe_topics_resp;
    count_loads(dt, &pl);
    for (size_t t = 0; t < dt->n_topics && rv == 0; t++)
        for (size_t p = 0; p < dt->topics[t]->n_partitions && rv == 0; p++)
            rv = plan_one(ctx, &pl, dt->topics[t]->name,
                          dt->topics[t]->partitions[p]);
    if (rv == 0 && pl.n_moves > 0)
        rv = drain_submit(ctx, &pl);
    if (rv == 0)
        drain_output(ctx, &pl);
out:
    rf_free(pl.cands);
    rf_free(pl.moves);
    if (cl)
        riffle__envelope__free_unpacked(cl, NULL);
    if (tp)
        riffle__envelope__free_unpacked(tp, NULL);
    return rv;
}

int rf_cli_partition_dispatch(struct rf_cli_ctx *ctx)
{
    return ctx->args->cmd == RF_CLI_BROKER_DRAIN ? cmd_drain(ctx)
                                                 : cmd_reassign(ctx);
}
