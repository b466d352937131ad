/* cli_format.c: riffle's output: controller responses as aligned tables or
 * one JSON document, and the one-line error of a failed answer. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "cli.h"
#include "ctlclient.h"
#include "err.h"
#include "json.h"
#include "table.h"
#include "uuid.h"

#define ID_STR_SIZE 40
#define LIST_STR_SIZE 512

const char *rf_cli_error_name(int code)
{
    const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(
        &riffle__error_code__descriptor, code);

    return v ? v->name : "UNKNOWN_ERROR_CODE";
}

/* Kafka's printable id for 16-byte UUIDs, hex for anything else. */
static void fmt_id(ProtobufCBinaryData id, char *out)
{
    struct rf_uuid u;
    size_t i;

    out[0] = '\0';
    if (id.len == sizeof(u.b)) {
        memcpy(u.b, id.data, sizeof(u.b));
        rf_uuid_format_b64(&u, out);
        return;
    }
    for (i = 0; i < id.len && i < (ID_STR_SIZE - 1) / 2; i++)
        snprintf(out + 2 * i, 3, "%02x", id.data[i]);
}

static void fmt_ep(const Riffle__Endpoint *ep, char *out, size_t size)
{
    if (ep == NULL || ep->host == NULL || ep->host[0] == '\0')
        snprintf(out, size, "-");
    else
        snprintf(out, size, "%s:%" PRIu32, ep->host, ep->port);
}

/* "1,2,3" (cut with "..." when it does not fit). */
static void fmt_ints(const int32_t *v, size_t n, char *out, size_t size)
{
    size_t off = 0, i;
    int w;

    out[0] = '\0';
    for (i = 0; i < n; i++) {
        w = snprintf(out + off, size - off, "%s%" PRId32, i ? "," : "", v[i]);
        if (w < 0 || (size_t)w >= size - off) {
            snprintf(out + (size > 4 ? size - 4 : 0), 4, "...");
            return;
        }
        off += (size_t)w;
    }
}

static void json_ints(struct rf_json *j, const int32_t *v, size_t n)
{
    size_t i;

    rf_json_arr_begin(j);
    for (i = 0; i < n; i++)
        rf_json_int(j, v[i]);
    rf_json_arr_end(j);
}

static const char *broker_state_name(int state)
{
    switch (state) {
        case RIFFLE__BROKER_STATE__BROKER_FENCED:
            return "fenced";
        case RIFFLE__BROKER_STATE__BROKER_UNFENCED:
            return "unfenced";
        case RIFFLE__BROKER_STATE__BROKER_CONTROLLED_SHUTDOWN:
            return "controlled_shutdown";
        default:
            return "unknown";
    }
}

void rf_cli_put_str(struct rf_wr *out, const char *s)
{
    rf_wr_bytes(out, s, strlen(s));
}

void rf_cli_putf(struct rf_wr *out, const char *fmt, ...)
{
    char tmp[1024];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n > 0)
        rf_wr_bytes(out, tmp,
                    (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* ---- cluster status ---- */

/* One controller row, merged from DescribeCluster and its own NodeStatus. */
struct ctl_row {
    int32_t id;
    const char *raft;
    char rpc[RF_HOST_MAX + 8];
    const char *role;
    uint64_t term, commit, applied;
};

static void ctl_row_fill(struct ctl_row *row,
                         const Riffle__ControllerInfo *ci,
                         const Riffle__NodeStatusResponse *const *ns,
                         size_t i)
{
    row->id = ci->node_id;
    row->raft = ci->raft_address ? ci->raft_address : "";
    fmt_ep(ci->rpc, row->rpc, sizeof(row->rpc));
    row->role = ci->role && ci->role[0] ? ci->role : "unknown";
    row->term = ci->term;
    row->commit = ci->commit_index;
    row->applied = ci->applied_index;
    /* Without an RPC endpoint (not registered yet) nobody asked the node:
     * keep the active controller's view of it. */
    if (ns == NULL || (ns[i] == NULL && row->rpc[0] == '-'))
        return;
    if (ns[i] == NULL) {
        row->role = "unreachable";
        return;
    }
    row->role = ns[i]->role && ns[i]->role[0] ? ns[i]->role : "unknown";
    row->term = ns[i]->term;
    row->commit = ns[i]->commit_index;
    row->applied = ns[i]->applied_index;
}

static int cmp_row(const void *a, const void *b)
{
    const struct ctl_row *x = a, *y = b;

    return (x->id > y->id) - (x->id < y->id);
}

struct broker_counts {
    size_t total, unfenced, fenced, shutdown;
};

static struct broker_counts count_brokers(
    const Riffle__DescribeClusterResponse *dc)
{
    struct broker_counts c = {dc->n_brokers, 0, 0, 0};
    size_t i;

    for (i = 0; i < dc->n_brokers; i++) {
        switch (dc->brokers[i]->state) {
            case RIFFLE__BROKER_STATE__BROKER_UNFENCED:
                c.unfenced++;
                break;
            case RIFFLE__BROKER_STATE__BROKER_CONTROLLED_SHUTDOWN:
                c.shutdown++;
                break;
            default:
                c.fenced++;
                break;
        }
    }
    return c;
}

static void cluster_json(const Riffle__DescribeClusterResponse *dc,
                         const struct ctl_row *rows,
                         struct rf_wr *out)
{
    struct broker_counts c = count_brokers(dc);
    char id[ID_STR_SIZE];
    struct rf_json j;
    size_t i;

    fmt_id(dc->cluster_id, id);
    rf_json_init(&j, out);
    rf_json_obj_begin(&j);
    rf_json_key(&j, "cluster_id");
    rf_json_str(&j, id);
    rf_json_key(&j, "active_controller");
    rf_json_int(&j, dc->active_controller_id);
    rf_json_key(&j, "metadata_offset");
    rf_json_int(&j, dc->metadata_offset);
    rf_json_key(&j, "controllers");
    rf_json_arr_begin(&j);
    for (i = 0; i < dc->n_controllers; i++) {
        rf_json_obj_begin(&j);
        rf_json_key(&j, "id");
        rf_json_int(&j, rows[i].id);
        rf_json_key(&j, "raft_address");
        rf_json_str(&j, rows[i].raft);
        rf_json_key(&j, "rpc");
        rf_json_str(&j, rows[i].rpc);
        rf_json_key(&j, "role");
        rf_json_str(&j, rows[i].role);
        rf_json_key(&j, "term");
        rf_json_uint(&j, rows[i].term);
        rf_json_key(&j, "commit");
        rf_json_uint(&j, rows[i].commit);
        rf_json_key(&j, "applied");
        rf_json_uint(&j, rows[i].applied);
        rf_json_obj_end(&j);
    }
    rf_json_arr_end(&j);
    rf_json_key(&j, "brokers");
    rf_json_obj_begin(&j);
    rf_json_key(&j, "total");
    rf_json_uint(&j, c.total);
    rf_json_key(&j, "unfenced");
    rf_json_uint(&j, c.unfenced);
    rf_json_key(&j, "fenced");
    rf_json_uint(&j, c.fenced);
    rf_json_key(&j, "controlled_shutdown");
    rf_json_uint(&j, c.shutdown);
    rf_json_obj_end(&j);
    rf_json_obj_end(&j);
    rf_wr_u8(out, '\n');
}

static void cluster_text(const Riffle__DescribeClusterResponse *dc,
                         const struct ctl_row *rows,
                         struct rf_wr *out)
{
    static const char *const hdr[] = {"ID",     "RAFT ADDRESS", "RPC ENDPOINT",
                                      "ROLE",   "TERM",         "COMMIT",
                                      "APPLIED"};
    struct broker_counts c = count_brokers(dc);
    char id[ID_STR_SIZE];
    struct rf_table t;
    size_t i;

    fmt_id(dc->cluster_id, id);
    rf_cli_putf(out, "Cluster ID:         %s\n", id[0] ? id : "-");
    if (dc->active_controller_id > 0)
        rf_cli_putf(out, "Active controller:  %" PRId32 "\n",
                    dc->active_controller_id);
    else
        rf_cli_put_str(out, "Active controller:  none\n");
    rf_cli_putf(out, "Metadata offset:    %" PRId64 "\n", dc->metadata_offset);
    rf_cli_putf(out,
                "Brokers:            %zu total, %zu unfenced, %zu fenced, "
                "%zu in controlled shutdown\n\n",
                c.total, c.unfenced, c.fenced, c.shutdown);
    rf_table_init(&t, 7, hdr);
    for (i = 0; i < dc->n_controllers; i++) {
        rf_table_addf(&t, "%" PRId32, rows[i].id);
        rf_table_add(&t, rows[i].raft);
        rf_table_add(&t, rows[i].rpc);
        rf_table_add(&t, rows[i].role);
        rf_table_addf(&t, "%" PRIu64, rows[i].term);
        rf_table_addf(&t, "%" PRIu64, rows[i].commit);
        rf_table_addf(&t, "%" PRIu64, rows[i].applied);
    }
    rf_table_render(&t, out);
    rf_table_free(&t);
}

void rf_cli_fmt_cluster(const Riffle__DescribeClusterResponse *dc,
                        const Riffle__NodeStatusResponse *const *ns,
                        bool json,
                        struct rf_wr *out)
{
    struct ctl_row *rows = rf_calloc(dc->n_controllers + 1, sizeof(*rows));
    size_t i;

    for (i = 0; i < dc->n_controllers; i++)
        ctl_row_fill(&rows[i], dc->controllers[i], ns, i);
    qsort(rows, dc->n_controllers, sizeof(*rows), cmp_row);
    if (json)
        cluster_json(dc, rows, out);
    else
        cluster_text(dc, rows, out);
    rf_free(rows);
}

/* ---- broker list ---- */

static void fmt_broker_eps(const Riffle__BrokerInfo *b, char *out, size_t size)
{
    size_t off = 0, i;
    int w;

    out[0] = '\0';
    for (i = 0; i < b->n_endpoints; i++) {
        const Riffle__Endpoint *ep = b->endpoints[i];
        w = snprintf(out + off, size - off, "%s%s://%s:%" PRIu32, i ? "," : "",
                     ep->name ? ep->name : "", ep->host ? ep->host : "",
                     ep->port);
        if (w < 0 || (size_t)w >= size - off)
            return;
        off += (size_t)w;
    }
}

static void brokers_json(const Riffle__DescribeClusterResponse *dc,
                         struct rf_wr *out)
{
    struct rf_json j;
    size_t i, k;

    rf_json_init(&j, out);
    rf_json_obj_begin(&j);
    rf_json_key(&j, "brokers");
    rf_json_arr_begin(&j);
    for (i = 0; i < dc->n_brokers; i++) {
        const Riffle__BrokerInfo *b = dc->brokers[i];
        rf_json_obj_begin(&j);
        rf_json_key(&j, "id");
        rf_json_int(&j, b->broker_id);
        rf_json_key(&j, "epoch");
        rf_json_int(&j, b->broker_epoch);
        rf_json_key(&j, "state");
        rf_json_str(&j, broker_state_name((int)b->state));
        rf_json_key(&j, "rack");
        rf_json_str(&j, b->rack);
        rf_json_key(&j, "endpoints");
        rf_json_arr_begin(&j);
        for (k = 0; k < b->n_endpoints; k++) {
            rf_json_obj_begin(&j);
            rf_json_key(&j, "name");
            rf_json_str(&j, b->endpoints[k]->name);
            rf_json_key(&j, "host");
            rf_json_str(&j, b->endpoints[k]->host);
            rf_json_key(&j, "port");
            rf_json_uint(&j, b->endpoints[k]->port);
            rf_json_obj_end(&j);
        }
        rf_json_arr_end(&j);
        rf_json_key(&j, "last_heartbeat_age_ms");
        rf_json_int(&j, b->last_heartbeat_age_ms);
        rf_json_obj_end(&j);
    }
    rf_json_arr_end(&j);
    rf_json_obj_end(&j);
    rf_wr_u8(out, '\n');
}

void rf_cli_fmt_brokers(const Riffle__DescribeClusterResponse *dc,
                        bool json,
                        struct rf_wr *out)
{
    static const char *const hdr[] = {"ID",   "EPOCH",     "STATE",
                                      "RACK", "ENDPOINTS", "HEARTBEAT AGE"};
    char eps[LIST_STR_SIZE];
    struct rf_table t;
    size_t i;

    if (json) {
        brokers_json(dc, out);
        return;
    }
    rf_table_init(&t, 6, hdr);
    for (i = 0; i < dc->n_brokers; i++) {
        const Riffle__BrokerInfo *b = dc->brokers[i];
        rf_table_addf(&t, "%" PRId32, b->broker_id);
        rf_table_addf(&t, "%" PRId64, b->broker_epoch);
        rf_table_add(&t, broker_state_name((int)b->state));
        rf_table_add(&t, b->rack && b->rack[0] ? b->rack : "-");
        fmt_broker_eps(b, eps, sizeof(eps));
        rf_table_add(&t, eps);
        if (b->last_heartbeat_age_ms < 0)
            rf_table_add(&t, "-");
        else
            rf_table_addf(&t, "%" PRId64 "ms", b->last_heartbeat_age_ms);
    }
    rf_table_render(&t, out);
    rf_table_free(&t);
}

/* ---- topics ---- */

void rf_cli_fmt_topic_list(const Riffle__ListTopicsResponse *lt,
                           bool json,
                           struct rf_wr *out)
{
    static const char *const hdr[] = {"NAME", "TOPIC ID", "PARTITIONS",
                                      "REPLICATION FACTOR"};
    char id[ID_STR_SIZE];
    struct rf_table t;
    struct rf_json j;
    size_t i;

    rf_json_init(&j, out);
    rf_table_init(&t, 4, hdr);
    if (json) {
        rf_json_obj_begin(&j);
        rf_json_key(&j, "topics");
        rf_json_arr_begin(&j);
    }
    for (i = 0; i < lt->n_topics; i++) {
        const Riffle__TopicSummary *ts = lt->topics[i];
        fmt_id(ts->topic_id, id);
        if (!json) {
            rf_table_add(&t, ts->name);
            rf_table_add(&t, id);
            rf_table_addf(&t, "%" PRId32, ts->partitions);
            rf_table_addf(&t, "%" PRId32, ts->replication_factor);
            continue;
        }
        rf_json_obj_begin(&j);
        rf_json_key(&j, "name");
        rf_json_str(&j, ts->name);
        rf_json_key(&j, "topic_id");
        rf_json_str(&j, id);
        rf_json_key(&j, "partitions");
        rf_json_int(&j, ts->partitions);
        rf_json_key(&j, "replication_factor");
        rf_json_int(&j, ts->replication_factor);
        rf_json_key(&j, "internal");
        rf_json_bool(&j, ts->internal);
        rf_json_obj_end(&j);
    }
    if (json) {
        rf_json_arr_end(&j);
        rf_json_obj_end(&j);
        rf_wr_u8(out, '\n');
    } else {
        rf_table_render(&t, out);
    }
    rf_table_free(&t);
}

static void describe_json_topic(struct rf_json *j,
                                const Riffle__TopicDescription *td)
{
    char id[ID_STR_SIZE];
    size_t i;

    fmt_id(td->topic_id, id);
    rf_json_obj_begin(j);
    rf_json_key(j, "name");
    rf_json_str(j, td->name);
    rf_json_key(j, "topic_id");
    rf_json_str(j, id);
    rf_json_key(j, "partitions");
    rf_json_arr_begin(j);
    for (i = 0; i < td->n_partitions; i++) {
        const Riffle__PartitionDescription *pd = td->partitions[i];
        rf_json_obj_begin(j);
        rf_json_key(j, "partition");
        rf_json_int(j, pd->partition);
        rf_json_key(j, "leader");
        rf_json_int(j, pd->leader);
        rf_json_key(j, "leader_epoch");
        rf_json_int(j, pd->leader_epoch);
        rf_json_key(j, "partition_epoch");
        rf_json_int(j, pd->partition_epoch);
        rf_json_key(j, "replicas");
        json_ints(j, pd->replicas, pd->n_replicas);
        rf_json_key(j, "isr");
        json_ints(j, pd->isr, pd->n_isr);
        rf_json_key(j, "target_replicas"); /* null: not reassigning */
        if (pd->reassigning)
            json_ints(j, pd->target_replicas, pd->n_target_replicas);
        else
            rf_json_null(j);
        rf_json_obj_end(j);
    }
    rf_json_arr_end(j);
    rf_json_key(j, "configs");
    rf_json_obj_begin(j);
    for (i = 0; i < td->n_configs; i++) {
        rf_json_key(j, td->configs[i]->name ? td->configs[i]->name : "");
        rf_json_str(j, td->configs[i]->value);
    }
    rf_json_obj_end(j);
    rf_json_obj_end(j);
}

static void describe_text_topic(struct rf_wr *out,
                                const Riffle__TopicDescription *td)
{
    static const char *const hdr[] = {"PARTITION",    "LEADER",
                                      "LEADER EPOCH", "PARTITION EPOCH",
                                      "REPLICAS",     "ISR",
                                      "TARGET"};
    char id[ID_STR_SIZE], list[LIST_STR_SIZE];
    struct rf_table t;
    size_t i;

    fmt_id(td->topic_id, id);
    rf_cli_putf(out, "Topic: %s  TopicId: %s  PartitionCount: %zu  Configs: ",
                td->name, id, td->n_partitions);
    for (i = 0; i < td->n_configs; i++)
        rf_cli_putf(out, "%s%s=%s", i ? "," : "", td->configs[i]->name,
                    td->configs[i]->value);
    rf_cli_put_str(out, "\n");
    rf_table_init(&t, 7, hdr);
    for (i = 0; i < td->n_partitions; i++) {
        const Riffle__PartitionDescription *pd = td->partitions[i];
        rf_table_addf(&t, "%" PRId32, pd->partition);
        if (pd->leader < 0)
            rf_table_add(&t, "none");
        else
            rf_table_addf(&t, "%" PRId32, pd->leader);
        rf_table_addf(&t, "%" PRId32, pd->leader_epoch);
        rf_table_addf(&t, "%" PRId32, pd->partition_epoch);
        fmt_ints(pd->replicas, pd->n_replicas, list, sizeof(list));
        rf_table_add(&t, list);
        fmt_ints(pd->isr, pd->n_isr, list, sizeof(list));
        rf_table_add(&t, list);
        /* "-" unless a reassignment is moving the partition there */
        fmt_ints(pd->target_replicas, pd->n_target_replicas, list,
                 sizeof(list));
        rf_table_add(&t, pd->reassigning ? list : "-");
    }
    rf_table_render(&t, out);
    rf_table_free(&t);
}

void rf_cli_fmt_topic_describe(const Riffle__DescribeTopicsResponse *dt,
                               bool json,
                               struct rf_wr *out)
{
    struct rf_json j;
    size_t i;

    if (!json) {
        for (i = 0; i < dt->n_topics; i++) {
            if (i > 0)
                rf_cli_put_str(out, "\n");
            describe_text_topic(out, dt->topics[i]);
        }
        return;
    }
    rf_json_init(&j, out);
    rf_json_obj_begin(&j);
    rf_json_key(&j, "topics");
    rf_json_arr_begin(&j);
    for (i = 0; i < dt->n_topics; i++)
        describe_json_topic(&j, dt->topics[i]);
    rf_json_arr_end(&j);
    rf_json_obj_end(&j);
    rf_wr_u8(out, '\n');
}

void rf_cli_fmt_topic_created(const Riffle__CreateTopicsResponse *ct,
                              bool json,
                              struct rf_wr *out)
{
    char id[ID_STR_SIZE];
    struct rf_json j;
    size_t i;

    rf_json_init(&j, out);
    if (json) {
        rf_json_obj_begin(&j);
        rf_json_key(&j, "created");
        rf_json_arr_begin(&j);
    }
    for (i = 0; i < ct->n_topics; i++) {
        const Riffle__CreateTopicResult *r = ct->topics[i];
        fmt_id(r->topic_id, id);
        if (!json) {
            rf_cli_putf(out,
                        "Created topic %s (TopicId %s, %" PRId32
                        " partitions, replication factor %" PRId32 ")\n",
                        r->name, id, r->num_partitions, r->replication_factor);
            continue;
        }
        rf_json_obj_begin(&j);
        rf_json_key(&j, "name");
        rf_json_str(&j, r->name);
        rf_json_key(&j, "topic_id");
        rf_json_str(&j, id);
        rf_json_key(&j, "partitions");
        rf_json_int(&j, r->num_partitions);
        rf_json_key(&j, "replication_factor");
        rf_json_int(&j, r->replication_factor);
        rf_json_obj_end(&j);
    }
    if (json) {
        rf_json_arr_end(&j);
        rf_json_obj_end(&j);
        rf_wr_u8(out, '\n');
    }
}

void rf_cli_fmt_topic_deleted(const Riffle__DeleteTopicsResponse *dt,
                              bool json,
                              struct rf_wr *out)
{
    struct rf_json j;
    size_t i;

    if (!json) {
        for (i = 0; i < dt->n_topics; i++)
            rf_cli_putf(out, "Deleted topic %s\n", dt->topics[i]->name);
        return;
    }
    rf_json_init(&j, out);
    rf_json_obj_begin(&j);
    rf_json_key(&j, "deleted");
    rf_json_arr_begin(&j);
    for (i = 0; i < dt->n_topics; i++)
        rf_json_str(&j, dt->topics[i]->name);
    rf_json_arr_end(&j);
    rf_json_obj_end(&j);
    rf_wr_u8(out, '\n');
}

/* ---- errors ---- */

/* Append "topic NAME: CODE[: message]" for each failed topic, "; " apart. */
static void topic_error(char *errmsg,
                        size_t *off,
                        const char *name,
                        int code,
                        const char *msg)
{
    int w;

    if (*off >= RF_ERRMSG_SIZE - 1)
        return;
    w = snprintf(errmsg + *off, RF_ERRMSG_SIZE - *off, "%stopic %s: %s%s%s",
                 *off ? "; " : "", name ? name : "", rf_cli_error_name(code),
                 msg && msg[0] ? ": " : "", msg ? msg : "");
    if (w > 0)
        *off += (size_t)w;
}

static size_t topic_errors(const Riffle__Envelope *resp, char *errmsg)
{
    size_t off = 0, i;

    errmsg[0] = '\0';
    if (resp->body_case == RIFFLE__ENVELOPE__BODY_CREATE_TOPICS_RESP) {
        const Riffle__CreateTopicsResponse *r = resp->create_topics_resp;
        for (i = 0; i < r->n_topics; i++)
            if (r->topics[i]->error != RIFFLE__ERROR_CODE__NONE)
                topic_error(errmsg, &off, r->topics[i]->name,
                            (int)r->topics[i]->error,
                            r->topics[i]->error_message);
    } else if (resp->body_case == RIFFLE__ENVELOPE__BODY_DELETE_TOPICS_RESP) {
        const Riffle__DeleteTopicsResponse *r = resp->delete_topics_resp;
        for (i = 0; i < r->n_topics; i++)
            if (r->topics[i]->error != RIFFLE__ERROR_CODE__NONE)
                topic_error(errmsg, &off, r->topics[i]->name,
                            (int)r->topics[i]->error,
                            r->topics[i]->error_message);
    } else if (resp->body_case == RIFFLE__ENVELOPE__BODY_DESCRIBE_TOPICS_RESP) {
        const Riffle__DescribeTopicsResponse *r = resp->describe_topics_resp;
        for (i = 0; i < r->n_topics; i++)
            if (r->topics[i]->error != RIFFLE__ERROR_CODE__NONE)
                topic_error(errmsg, &off, r->topics[i]->name,
                            (int)r->topics[i]->error, NULL);
    }
    return off;
}

int rf_cli_check_response(const Riffle__Envelope *resp,
                          int expected,
                          char *errmsg)
{
    const Riffle__Status *st = rf_ctlclient_status(resp);

    if (st && st->code != RIFFLE__ERROR_CODE__NONE) {
        rf_errmsg_set(errmsg, "%s%s%s", rf_cli_error_name((int)st->code),
                      st->message && st->message[0] ? ": " : "",
                      st->message ? st->message : "");
        return RF_EPROTO;
    }
    if ((int)resp->body_case != expected) {
        rf_errmsg_set(errmsg,
                      "unexpected answer from the controller "
                      "(body %d, expected %d)",
                      (int)resp->body_case, expected);
        return RF_EPROTO;
    }
    if (topic_errors(resp, errmsg) > 0)
        return RF_EPROTO;
    return 0;
}
