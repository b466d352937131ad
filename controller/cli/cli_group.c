/* cli_group.c: `riffle group list` and `riffle group describe GROUP`.
 * Consumer groups live on the brokers (each group on the leader of its
 * __consumer_offsets partition), not in the controllers' metadata, so these
 * commands speak Kafka to --bootstrap-server through librdkafka:
 *   list:     rd_kafka_list_groups (ListGroups to every broker, then
 *             DescribeGroups: state, protocol type, members)
 *   describe: rd_kafka_DescribeConsumerGroups (FindCoordinator +
 *             DescribeGroups), rd_kafka_ListConsumerGroupOffsets (OffsetFetch
 *             for every partition in the cluster's metadata) and
 *             rd_kafka_query_watermark_offsets (log end offsets)
 * rd_kafka_list_groups is used rather than rd_kafka_ListConsumerGroups
 * because it also gives protocol types and member counts.
 *
 * Happy path: metadata probe (is any broker reachable?), the requests,
 * print. Failure modes: no broker answers within --timeout ("no broker
 * reachable ..."), a request fails or times out (librdkafka's error), the
 * group does not exist (state Dead, no members, no offsets: "group 'g' not
 * found"). Each is one line in errmsg and exit 1. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "err.h"

#ifndef RF_HAVE_RDKAFKA

int rf_cli_group_run(const struct rf_cli_args *args, char *errmsg)
{
    (void)args;
    rf_errmsg_set(errmsg, "this riffle was built without librdkafka "
                          "(librdkafka-dev), which the group commands use");
    return RF_CLI_EXIT_FAIL;
}

#else

#include <librdkafka/rdkafka.h>

#include "alloc.h"
#include "clock.h"
#include "json.h"
#include "table.h"

struct grp_ctx {
    const struct rf_cli_args *args;
    rd_kafka_t *rk;
    rd_kafka_queue_t *q;
    uint64_t start_ms;
    struct rf_wr out;
    char *errmsg;
};

/* One row of `group describe`'s partition table. */
struct grp_part {
    const char *topic;     /* points into the describe or offsets result */
    int32_t partition;
    int64_t committed;     /* -1: none */
    int64_t log_end;       /* -1: unknown */
    const char *member_id; /* points into the describe result, or NULL */
};

static int remaining_ms(const struct grp_ctx *ctx)
{
    uint64_t spent = rf_clock_mono_ms() - ctx->start_ms;

    if (spent >= ctx->args->timeout_ms)
        return 1; /* librdkafka: 0 would mean "do not wait" */
    return (int)(ctx->args->timeout_ms - spent);
}


/* A cell from a peer (group, member and client ids, hosts, topics) with
 * control characters shown as '?', so a client id cannot drive the
 * terminal. JSON output escapes them instead. */
static char *safe_dup(const char *s)
{
    size_t n = strlen(s), i;
    char *c = rf_malloc(n + 1);

    for (i = 0; i < n; i++)
        c[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
    c[n] = '\0';
    return c;
}

static void add_safe(struct rf_table *t, const char *s)
{
    char *c = safe_dup(s);

    rf_table_add(t, c);
    rf_free(c);
}

static void quiet_log(const rd_kafka_t *rk, int level, const char *fac,
                      const char *buf)
{
    (void)rk;
    (void)level;
    (void)fac;
    (void)buf;
}

static int client_open(struct grp_ctx *ctx)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char err[512];

    if (rd_kafka_conf_set(conf, "bootstrap.servers", ctx->args->bootstrap, err,
                          sizeof(err)) != RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(conf, "client.id", "riffle-cli", err, sizeof(err)) !=
            RD_KAFKA_CONF_OK) {
        rd_kafka_conf_destroy(conf);
        rf_errmsg_set(ctx->errmsg, "librdkafka configuration: %s", err);
        return RF_EINVAL;
    }
    if (!ctx->args->verbose)
        rd_kafka_conf_set_log_cb(conf, quiet_log);
    /* rd_kafka_new takes conf only on success. */
    ctx->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    if (ctx->rk == NULL) {
        rd_kafka_conf_destroy(conf);
        rf_errmsg_set(ctx->errmsg, "librdkafka client: %s", err);
        return RF_EINVAL;
    }
    ctx->q = rd_kafka_queue_new(ctx->rk);
    return 0;
}

/* Is any broker there? A metadata request for no topics answers that
 * within the deadline, with librdkafka's own error otherwise. */
static int probe(struct grp_ctx *ctx)
{
    const struct rd_kafka_metadata *md;
    rd_kafka_resp_err_t err;

    err = rd_kafka_metadata(ctx->rk, 0, NULL, &md, remaining_ms(ctx));
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        rf_errmsg_set(ctx->errmsg,
                      "no broker reachable at %s within %u ms: %s",
                      ctx->args->bootstrap, (unsigned)ctx->args->timeout_ms,
                      rd_kafka_err2str(err));
        return RF_ETIMEDOUT;
    }
    rd_kafka_metadata_destroy(md);
    return 0;
}

static rd_kafka_AdminOptions_t *admin_options(struct grp_ctx *ctx,
                                              rd_kafka_admin_op_t op)
{
    rd_kafka_AdminOptions_t *opts = rd_kafka_AdminOptions_new(ctx->rk, op);
    char err[256];

    rd_kafka_AdminOptions_set_request_timeout(opts, remaining_ms(ctx), err,
                                              sizeof(err));
    return opts;
}

/* The next event of type `type` on ctx->q, owned (rd_kafka_event_destroy),
 * or NULL with errmsg set on a timeout or a request-level error. */
static rd_kafka_event_t *admin_wait(struct grp_ctx *ctx,
                                    rd_kafka_event_type_t type,
                                    const char *what)
{
    rd_kafka_event_t *ev;

    for (;;) {
        ev = rd_kafka_queue_poll(ctx->q, remaining_ms(ctx) + 1000);
        if (ev == NULL) {
            rf_errmsg_set(ctx->errmsg, "%s: no answer within %u ms", what,
                          (unsigned)ctx->args->timeout_ms);
            return NULL;
        }
        if (rd_kafka_event_type(ev) == type)
            break;
        rd_kafka_event_destroy(ev);
    }
    if (rd_kafka_event_error(ev) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        rf_errmsg_set(ctx->errmsg, "%s: %s", what,
                      rd_kafka_event_error_string(ev));
        rd_kafka_event_destroy(ev);
        return NULL;
    }
    return ev;
}

static const char *state_name(rd_kafka_consumer_group_state_t st)
{
    return rd_kafka_consumer_group_state_name(st);
}

/* librdkafka 2.0.2 reports "simple" (empty protocol type: offsets
 * committed outside a group protocol) rather than the protocol type
 * string; anything else is a group of consumers. */
static const char *protocol_type(int is_simple)
{
    return is_simple ? "" : "consumer";
}

static int is_simple(const rd_kafka_ConsumerGroupDescription_t *g)
{
    return rd_kafka_ConsumerGroupDescription_is_simple_consumer_group(g);
}

/* ---- describe: one or more groups ---- */

static rd_kafka_event_t *describe_groups(struct grp_ctx *ctx,
                                         const char **groups,
                                         size_t n)
{
    rd_kafka_AdminOptions_t *opts =
        admin_options(ctx, RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS);
    rd_kafka_event_t *ev;

    rd_kafka_DescribeConsumerGroups(ctx->rk, groups, n, opts, ctx->q);
    rd_kafka_AdminOptions_destroy(opts);
    ev = admin_wait(ctx, RD_KAFKA_EVENT_DESCRIBECONSUMERGROUPS_RESULT,
                    "DescribeConsumerGroups");
    return ev;
}

/* ---- group list ---- */

struct list_row {
    const char *group; /* these point into the rd_kafka_group_list */
    const char *state;
    const char *protocol_type;
    long members;
};

static int cmp_list_row(const void *a, const void *b)
{
    return strcmp(((const struct list_row *)a)->group,
                  ((const struct list_row *)b)->group);
}

static void list_print(struct grp_ctx *ctx, struct list_row *rows, size_t n)
{
    static const char *const hdr[] = {"GROUP", "STATE", "PROTOCOL TYPE",
                                      "MEMBERS"};
    struct rf_table t;
    struct rf_json j;
    size_t i;

    qsort(rows, n, sizeof(*rows), cmp_list_row);
    if (ctx->args->json) {
        rf_json_init(&j, &ctx->out);
        rf_json_obj_begin(&j);
        rf_json_key(&j, "groups");
        rf_json_arr_begin(&j);
        for (i = 0; i < n; i++) {
            rf_json_obj_begin(&j);
            rf_json_key(&j, "group");
            rf_json_str(&j, rows[i].group);
            rf_json_key(&j, "state");
            rf_json_str(&j, rows[i].state);
            rf_json_key(&j, "protocol_type");
            rf_json_str(&j, rows[i].protocol_type);
            rf_json_key(&j, "members");
            rf_json_int(&j, rows[i].members);
            rf_json_obj_end(&j);
        }
        rf_json_arr_end(&j);
        rf_json_obj_end(&j);
        rf_wr_u8(&ctx->out, '\n');
        return;
    }
    rf_table_init(&t, 4, hdr);
    for (i = 0; i < n; i++) {
        add_safe(&t, rows[i].group);
        add_safe(&t, rows[i].state);
        add_safe(&t, rows[i].protocol_type[0] ? rows[i].protocol_type : "-");
        rf_table_addf(&t, "%ld", rows[i].members);
    }
    rf_table_render(&t, &ctx->out);
    rf_table_free(&t);
}

/* ListGroups through librdkafka's rd_kafka_list_groups (ListGroups v0 to
 * every broker, then DescribeGroups), which also gives the protocol type
 * and the members (rd_kafka_ListConsumerGroups gives neither). */
static int cmd_group_list(struct grp_ctx *ctx)
{
    const struct rd_kafka_group_list *gl = NULL;
    struct list_row *rows;
    rd_kafka_resp_err_t err;
    int i, n = 0;

    err = rd_kafka_list_groups(ctx->rk, NULL, &gl, remaining_ms(ctx));
    if (gl == NULL) {
        rf_errmsg_set(ctx->errmsg, "ListGroups: %s", rd_kafka_err2str(err));
        return RF_EIO;
    }
    /* RD_KAFKA_RESP_ERR__PARTIAL: some brokers did not answer. */
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
        fprintf(stderr, "riffle: warning: ListGroups: %s\n",
                rd_kafka_err2str(err));
    rows = rf_calloc((size_t)gl->group_cnt + 1, sizeof(*rows));
    for (i = 0; i < gl->group_cnt; i++) {
        const struct rd_kafka_group_info *g = &gl->groups[i];
        if (g->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            fprintf(stderr, "riffle: warning: group '%s': %s\n", g->group,
                    rd_kafka_err2str(g->err));
            continue;
        }
        rows[n].group = g->group;
        rows[n].state = g->state && g->state[0] ? g->state : "Unknown";
        rows[n].protocol_type = g->protocol_type ? g->protocol_type : "";
        rows[n].members = g->member_cnt;
        n++;
    }
    list_print(ctx, rows, (size_t)n);
    rf_free(rows);
    rd_kafka_group_list_destroy(gl);
    return 0;
}

/* ---- group describe ---- */

struct describe {
    const rd_kafka_ConsumerGroupDescription_t *desc; /* points into ev */
    rd_kafka_event_t *ev;                            /* owned */
    rd_kafka_event_t *offsets_ev;                    /* owned */
    const rd_kafka_topic_partition_list_t *offsets;  /* points into it */
    struct grp_part *parts;                          /* owned */
    size_t nparts, cap;
};

static struct grp_part *part_get(struct describe *d,
                                 const char *topic,
                                 int32_t partition)
{
    size_t i;

    for (i = 0; i < d->nparts; i++) {
        if (d->parts[i].partition == partition &&
            strcmp(d->parts[i].topic, topic) == 0)
            return &d->parts[i];
    }
    if (d->nparts == d->cap) {
        d->cap = d->cap ? 2 * d->cap : 16;
        d->parts = rf_realloc(d->parts, d->cap * sizeof(*d->parts));
    }
    d->parts[d->nparts] = (struct grp_part){topic, partition, -1, -1, NULL};
    return &d->parts[d->nparts++];
}

static int cmp_part(const void *a, const void *b)
{
    const struct grp_part *x = a, *y = b;
    int c = strcmp(x->topic, y->topic);

    if (c != 0)
        return c;
    return (x->partition > y->partition) - (x->partition < y->partition);
}

static int describe_fetch(struct grp_ctx *ctx, struct describe *d)
{
    const char *names[1] = {ctx->args->group};
    const rd_kafka_ConsumerGroupDescription_t **descs;
    const rd_kafka_error_t *err;
    size_t n;

    if ((d->ev = describe_groups(ctx, names, 1)) == NULL)
        return RF_EIO;
    descs = rd_kafka_DescribeConsumerGroups_result_groups(
        rd_kafka_event_DescribeConsumerGroups_result(d->ev), &n);
    if (n != 1) {
        rf_errmsg_set(ctx->errmsg, "DescribeConsumerGroups: %zu results for "
                      "one group", n);
        return RF_EPROTO;
    }
    d->desc = descs[0];
    if ((err = rd_kafka_ConsumerGroupDescription_error(d->desc)) != NULL) {
        rf_errmsg_set(ctx->errmsg, "group '%s': %s", ctx->args->group,
                      rd_kafka_error_string(err));
        return RF_EIO;
    }
    return 0;
}

/* Every partition of every non-internal topic in the cluster: what
 * ListConsumerGroupOffsets is asked about (only committed ones and the
 * members' assigned partitions become rows).
 * Returns owned (rd_kafka_topic_partition_list_destroy) or NULL. */
static rd_kafka_topic_partition_list_t *all_partitions(struct grp_ctx *ctx)
{
    const struct rd_kafka_metadata *md;
    rd_kafka_topic_partition_list_t *tpl;
    rd_kafka_resp_err_t err;
    int t, p;

    err = rd_kafka_metadata(ctx->rk, 1, NULL, &md, remaining_ms(ctx));
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        rf_errmsg_set(ctx->errmsg, "metadata from %s: %s",
                      ctx->args->bootstrap, rd_kafka_err2str(err));
        return NULL;
    }
    tpl = rd_kafka_topic_partition_list_new(16);
    for (t = 0; t < md->topic_cnt; t++) {
        const rd_kafka_metadata_topic_t *mt = &md->topics[t];
        if (mt->err != RD_KAFKA_RESP_ERR_NO_ERROR ||
            strncmp(mt->topic, "__", 2) == 0)
            continue;
        for (p = 0; p < mt->partition_cnt; p++)
            rd_kafka_topic_partition_list_add(tpl, mt->topic,
                                              mt->partitions[p].id);
    }
    rd_kafka_metadata_destroy(md);
    return tpl;
}

/* Committed offsets of the group on every partition of the cluster. */
static int offsets_fetch(struct grp_ctx *ctx, struct describe *d)
{
    rd_kafka_ListConsumerGroupOffsets_t *req[1];
    const rd_kafka_group_result_t **res;
    const rd_kafka_error_t *err;
    rd_kafka_AdminOptions_t *opts;
    rd_kafka_topic_partition_list_t *tpl;
    size_t n;

    if ((tpl = all_partitions(ctx)) == NULL)
        return RF_EIO;
    if (tpl->cnt == 0) { /* no topics: no offsets */
        rd_kafka_topic_partition_list_destroy(tpl);
        return 0;
    }
    req[0] = rd_kafka_ListConsumerGroupOffsets_new(ctx->args->group, tpl);
    rd_kafka_topic_partition_list_destroy(tpl);
    opts = admin_options(ctx, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS);
    rd_kafka_ListConsumerGroupOffsets(ctx->rk, req, 1, opts, ctx->q);
    rd_kafka_AdminOptions_destroy(opts);
    rd_kafka_ListConsumerGroupOffsets_destroy(req[0]);
    d->offsets_ev =
        admin_wait(ctx, RD_KAFKA_EVENT_LISTCONSUMERGROUPOFFSETS_RESULT,
                   "ListConsumerGroupOffsets");
    if (d->offsets_ev == NULL)
        return RF_EIO;
    res = rd_kafka_ListConsumerGroupOffsets_result_groups(
        rd_kafka_event_ListConsumerGroupOffsets_result(d->offsets_ev), &n);
    if (n != 1) {
        rf_errmsg_set(ctx->errmsg, "ListConsumerGroupOffsets: %zu results "
                      "for one group", n);
        return RF_EPROTO;
    }
    if ((err = rd_kafka_group_result_error(res[0])) != NULL) {
        rf_errmsg_set(ctx->errmsg, "committed offsets of '%s': %s",
                      ctx->args->group, rd_kafka_error_string(err));
        return RF_EIO;
    }
    d->offsets = rd_kafka_group_result_partitions(res[0]);
    return 0;
}

/* Partition rows: assigned ones (with their member) and committed ones,
 * each with its log end offset (high watermark) from the leader. */
static void parts_build(struct grp_ctx *ctx, struct describe *d)
{
    size_t nm = rd_kafka_ConsumerGroupDescription_member_count(d->desc), i;
    const rd_kafka_topic_partition_list_t *tpl;
    struct grp_part *p;
    int64_t low, high;
    int k;

    for (i = 0; i < nm; i++) {
        const rd_kafka_MemberDescription_t *m =
            rd_kafka_ConsumerGroupDescription_member(d->desc, i);
        tpl = rd_kafka_MemberAssignment_partitions(
            rd_kafka_MemberDescription_assignment(m));
        for (k = 0; tpl && k < tpl->cnt; k++) {
            p = part_get(d, tpl->elems[k].topic, tpl->elems[k].partition);
            p->member_id = rd_kafka_MemberDescription_consumer_id(m);
        }
    }
    for (k = 0; d->offsets && k < d->offsets->cnt; k++) {
        const rd_kafka_topic_partition_t *e = &d->offsets->elems[k];
        if (e->err != RD_KAFKA_RESP_ERR_NO_ERROR || e->offset < 0)
            continue; /* nothing committed there */
        p = part_get(d, e->topic, e->partition);
        p->committed = e->offset;
    }
    if (d->nparts > 0)
        qsort(d->parts, d->nparts, sizeof(*d->parts), cmp_part);
    for (i = 0; i < d->nparts; i++) {
        p = &d->parts[i];
        if (rd_kafka_query_watermark_offsets(ctx->rk, p->topic, p->partition,
                                             &low, &high, remaining_ms(ctx)) ==
            RD_KAFKA_RESP_ERR_NO_ERROR)
            p->log_end = high;
    }
}

static void member_partitions(const rd_kafka_MemberDescription_t *m,
                              struct rf_wr *w)
{
    const rd_kafka_topic_partition_list_t *tpl =
        rd_kafka_MemberAssignment_partitions(
            rd_kafka_MemberDescription_assignment(m));
    int k;

    for (k = 0; tpl && k < tpl->cnt; k++)
        rf_cli_putf(w, "%s%s-%" PRId32, k ? "," : "", tpl->elems[k].topic,
                    tpl->elems[k].partition);
    if (tpl == NULL || tpl->cnt == 0)
        rf_cli_put_str(w, "-");
    rf_wr_u8(w, '\0');
}

static void text_opt_int(struct rf_table *t, int64_t v)
{
    if (v >= 0)
        rf_table_addf(t, "%" PRId64, v);
    else
        rf_table_add(t, "-");
}

static void text_members(struct rf_wr *out,
                         const rd_kafka_ConsumerGroupDescription_t *g)
{
    static const char *const hdr[] = {"MEMBER ID", "CLIENT ID", "HOST",
                                      "PARTITIONS"};
    size_t nm = rd_kafka_ConsumerGroupDescription_member_count(g), i;
    struct rf_wr parts;
    struct rf_table t;

    if (nm == 0)
        return;
    rf_table_init(&t, 4, hdr);
    rf_wr_init(&parts, 256);
    for (i = 0; i < nm; i++) {
        const rd_kafka_MemberDescription_t *m =
            rd_kafka_ConsumerGroupDescription_member(g, i);
        rf_wr_reset(&parts);
        member_partitions(m, &parts);
        add_safe(&t, rd_kafka_MemberDescription_consumer_id(m));
        add_safe(&t, rd_kafka_MemberDescription_client_id(m));
        add_safe(&t, rd_kafka_MemberDescription_host(m));
        add_safe(&t, (const char *)parts.base);
    }
    rf_wr_free(&parts);
    rf_table_render(&t, out);
    rf_wr_u8(out, '\n');
    rf_table_free(&t);
}

static void text_partitions(struct rf_wr *out, const struct describe *d)
{
    static const char *const hdr[] = {"TOPIC",   "PARTITION", "COMMITTED",
                                      "LOG END", "LAG",       "MEMBER ID"};
    struct rf_table t;
    size_t i;

    rf_table_init(&t, 6, hdr);
    for (i = 0; i < d->nparts; i++) {
        const struct grp_part *p = &d->parts[i];
        add_safe(&t, p->topic);
        rf_table_addf(&t, "%" PRId32, p->partition);
        text_opt_int(&t, p->committed);
        text_opt_int(&t, p->log_end);
        text_opt_int(&t, p->committed >= 0 && p->log_end >= 0
                             ? p->log_end - p->committed
                             : -1);
        add_safe(&t, p->member_id ? p->member_id : "-");
    }
    rf_table_render(&t, out);
    rf_table_free(&t);
}

static void describe_text(struct grp_ctx *ctx, const struct describe *d)
{
    const rd_kafka_ConsumerGroupDescription_t *g = d->desc;
    const rd_kafka_Node_t *coord =
        rd_kafka_ConsumerGroupDescription_coordinator(g);
    const char *assignor =
        rd_kafka_ConsumerGroupDescription_partition_assignor(g);
    char *safe = safe_dup(assignor ? assignor : "");

    rf_cli_putf(&ctx->out, "Group:        %s\n", ctx->args->group);
    rf_cli_putf(&ctx->out, "State:        %s\n",
                state_name(rd_kafka_ConsumerGroupDescription_state(g)));
    rf_cli_putf(&ctx->out, "Protocol:     %s%s%s\n",
                is_simple(g) ? "-" : "consumer", safe[0] ? "/" : "", safe);
    rf_free(safe);
    if (coord) {
        safe = safe_dup(rd_kafka_Node_host(coord));
        rf_cli_putf(&ctx->out, "Coordinator:  %d (%s:%u)\n",
                    rd_kafka_Node_id(coord), safe,
                    (unsigned)rd_kafka_Node_port(coord));
        rf_free(safe);
    }
    rf_cli_putf(&ctx->out, "Members:      %zu\n\n",
                rd_kafka_ConsumerGroupDescription_member_count(g));
    text_members(&ctx->out, g);
    text_partitions(&ctx->out, d);
}

static void json_opt_int(struct rf_json *j, const char *key, int64_t v)
{
    rf_json_key(j, key);
    if (v >= 0)
        rf_json_int(j, v);
    else
        rf_json_null(j);
}

static void describe_json_members(struct rf_json *j,
                                  const rd_kafka_ConsumerGroupDescription_t *g)
{
    size_t nm = rd_kafka_ConsumerGroupDescription_member_count(g), i;
    const rd_kafka_topic_partition_list_t *tpl;
    int k;

    rf_json_key(j, "members");
    rf_json_arr_begin(j);
    for (i = 0; i < nm; i++) {
        const rd_kafka_MemberDescription_t *m =
            rd_kafka_ConsumerGroupDescription_member(g, i);
        rf_json_obj_begin(j);
        rf_json_key(j, "member_id");
        rf_json_str(j, rd_kafka_MemberDescription_consumer_id(m));
        rf_json_key(j, "client_id");
        rf_json_str(j, rd_kafka_MemberDescription_client_id(m));
        rf_json_key(j, "host");
        rf_json_str(j, rd_kafka_MemberDescription_host(m));
        rf_json_key(j, "assignment");
        rf_json_arr_begin(j);
        tpl = rd_kafka_MemberAssignment_partitions(
            rd_kafka_MemberDescription_assignment(m));
        for (k = 0; tpl && k < tpl->cnt; k++) {
            rf_json_obj_begin(j);
            rf_json_key(j, "topic");
            rf_json_str(j, tpl->elems[k].topic);
            rf_json_key(j, "partition");
            rf_json_int(j, tpl->elems[k].partition);
            rf_json_obj_end(j);
        }
        rf_json_arr_end(j);
        rf_json_obj_end(j);
    }
    rf_json_arr_end(j);
}

static void describe_json(struct grp_ctx *ctx, const struct describe *d)
{
    const rd_kafka_ConsumerGroupDescription_t *g = d->desc;
    const rd_kafka_Node_t *coord =
        rd_kafka_ConsumerGroupDescription_coordinator(g);
    struct rf_json j;
    size_t i;

    rf_json_init(&j, &ctx->out);
    rf_json_obj_begin(&j);
    rf_json_key(&j, "group");
    rf_json_str(&j, ctx->args->group);
    rf_json_key(&j, "state");
    rf_json_str(&j, state_name(rd_kafka_ConsumerGroupDescription_state(g)));
    rf_json_key(&j, "protocol_type");
    rf_json_str(&j, protocol_type(is_simple(g)));
    rf_json_key(&j, "protocol");
    rf_json_str(&j, rd_kafka_ConsumerGroupDescription_partition_assignor(g));
    rf_json_key(&j, "coordinator");
    if (coord) {
        rf_json_obj_begin(&j);
        rf_json_key(&j, "id");
        rf_json_int(&j, rd_kafka_Node_id(coord));
        rf_json_key(&j, "host");
        rf_json_str(&j, rd_kafka_Node_host(coord));
        rf_json_key(&j, "port");
        rf_json_uint(&j, rd_kafka_Node_port(coord));
        rf_json_obj_end(&j);
    } else {
        rf_json_null(&j);
    }
    describe_json_members(&j, g);
    rf_json_key(&j, "partitions");
    rf_json_arr_begin(&j);
    for (i = 0; i < d->nparts; i++) {
        const struct grp_part *p = &d->parts[i];
        rf_json_obj_begin(&j);
        rf_json_key(&j, "topic");
        rf_json_str(&j, p->topic);
        rf_json_key(&j, "partition");
        rf_json_int(&j, p->partition);
        json_opt_int(&j, "committed_offset", p->committed);
        json_opt_int(&j, "log_end_offset", p->log_end);
        json_opt_int(&j, "lag", p->committed >= 0 && p->log_end >= 0
                                    ? p->log_end - p->committed
                                    : -1);
        rf_json_key(&j, "member_id");
        if (p->member_id)
            rf_json_str(&j, p->member_id);
        else
            rf_json_null(&j);
        rf_json_obj_end(&j);
    }
    rf_json_arr_end(&j);
    rf_json_obj_end(&j);
    rf_wr_u8(&ctx->out, '\n');
}

static bool has_commits(const struct describe *d)
{
    int k;

    for (k = 0; d->offsets && k < d->offsets->cnt; k++) {
        if (d->offsets->elems[k].err == RD_KAFKA_RESP_ERR_NO_ERROR &&
            d->offsets->elems[k].offset >= 0)
            return true;
    }
    return false;
}

static int cmd_group_describe(struct grp_ctx *ctx)
{
    struct describe d;
    rd_kafka_consumer_group_state_t st;
    int rv;

    memset(&d, 0, sizeof(d));
    if ((rv = describe_fetch(ctx, &d)) != 0 ||
        (rv = offsets_fetch(ctx, &d)) != 0)
        goto out;
    st = rd_kafka_ConsumerGroupDescription_state(d.desc);
    /* Kafka answers DescribeGroups for an unknown group with state Dead
     * and no members; without committed offsets either, it is not there. */
    if ((st == RD_KAFKA_CONSUMER_GROUP_STATE_DEAD ||
         st == RD_KAFKA_CONSUMER_GROUP_STATE_UNKNOWN) &&
        rd_kafka_ConsumerGroupDescription_member_count(d.desc) == 0 &&
        !has_commits(&d)) {
        rf_errmsg_set(ctx->errmsg, "group '%s' not found", ctx->args->group);
        rv = RF_ENOENT;
        goto out;
    }
    parts_build(ctx, &d);
    if (ctx->args->json)
        describe_json(ctx, &d);
    else
        describe_text(ctx, &d);
out:
    rf_free(d.parts);
    if (d.offsets_ev)
        rd_kafka_event_destroy(d.offsets_ev);
    if (d.ev)
        rd_kafka_event_destroy(d.ev);
    return rv;
}

int rf_cli_group_run(const struct rf_cli_args *args, char *errmsg)
{
    struct grp_ctx ctx;
    int rv;

    memset(&ctx, 0, sizeof(ctx));
    ctx.args = args;
    ctx.errmsg = errmsg;
    ctx.start_ms = rf_clock_mono_ms();
    if (client_open(&ctx) != 0)
        return RF_CLI_EXIT_USAGE;
    rf_wr_init(&ctx.out, 4096);
    rv = probe(&ctx);
    if (rv == 0)
        rv = args->cmd == RF_CLI_GROUP_LIST ? cmd_group_list(&ctx)
                                            : cmd_group_describe(&ctx);
    rd_kafka_queue_destroy(ctx.q);
    rd_kafka_destroy(ctx.rk);
    if (rv == 0 && ctx.out.len > 0 &&
        (fwrite(ctx.out.base, 1, ctx.out.len, stdout) != ctx.out.len ||
         fflush(stdout) != 0)) {
        rf_errmsg_set(errmsg, "write to stdout failed");
        rv = RF_EIO;
    }
    rf_wr_free(&ctx.out);
    return rv == 0 ? RF_CLI_EXIT_OK : RF_CLI_EXIT_FAIL;
}

#endif /* RF_HAVE_RDKAFKA */
