/* api_admin.c: CreateTopics 0-4, DeleteTopics 0-3 and CreatePartitions 0-1,
 * forwarded to the active controller (as KRaft brokers forward them).
 *
 * Happy path: translate to controller RPC (one request id for every retry),
 * send through the broker's controller client, translate the per-topic
 * results back; for successes, wait (bounded by the request's TimeoutMs,
 * at least 1 s and at most 30 s) until this broker's own metadata image shows
 * the change, so that a client polling Metadata right after sees it.
 *
 * Failure modes: controllers unreachable until the deadline -> every topic
 * gets REQUEST_TIMED_OUT; a result not yet visible locally at the deadline
 * is still answered as the controller decided (it will appear). */
#include <string.h>

#include "alloc.h"
#include "bmeta.h"
#include "err.h"
#include "kerr.h"
#include "log.h"
#include "parts.h"
#include "server.h"

#define VISIBILITY_POLL_MS 10u

/* Controller result -> Kafka ErrorCode. */
int16_t rf_server_kafka_code(Riffle__ErrorCode code)
{
    switch (code) {
    case RIFFLE__ERROR_CODE__NONE:
        return RF_KERR_NONE;
    case RIFFLE__ERROR_CODE__TOPIC_ALREADY_EXISTS:
        return 36;
    case RIFFLE__ERROR_CODE__UNKNOWN_TOPIC:
        return RF_KERR_UNKNOWN_TOPIC_OR_PARTITION;
    case RIFFLE__ERROR_CODE__INVALID_TOPIC_NAME:
        return RF_KERR_INVALID_TOPIC_EXCEPTION;
    case RIFFLE__ERROR_CODE__INVALID_PARTITIONS:
        return 37;
    case RIFFLE__ERROR_CODE__INVALID_REPLICATION_FACTOR:
        return 38;
    case RIFFLE__ERROR_CODE__INVALID_REPLICA_ASSIGNMENT:
        return 39;
    case RIFFLE__ERROR_CODE__INVALID_CONFIG:
        return 40;
    case RIFFLE__ERROR_CODE__NOT_CONTROLLER:
        return 41;
    case RIFFLE__ERROR_CODE__INVALID_REQUEST:
        return 42;
    case RIFFLE__ERROR_CODE__TIMED_OUT:
    case RIFFLE__ERROR_CODE__OUTCOME_UNKNOWN:
        return RF_KERR_REQUEST_TIMED_OUT;
    default:
        return RF_KERR_UNKNOWN_SERVER_ERROR;
    }
}

enum admin_kind { ADMIN_CREATE, ADMIN_DELETE, ADMIN_PARTITIONS };

/* One forwarded request: results are filled in place, then we wait for
 * local visibility of the successes. */
struct admin {
    struct rf_kreq *r;
    enum admin_kind kind;
    int32_t n;
    struct rf_kstr *names;   /* per topic, into the request */
    int16_t *codes;          /* per topic */
    char **messages;         /* per topic, arena, NULL if none */
    int32_t *want_partitions; /* ADMIN_PARTITIONS/CREATE: count to see */
    uint64_t deadline_ms;
    uv_timer_t timer;
};

static uint32_t timeout_of(int32_t ms)
{
    if (ms < 1000)
        return 1000;
    return ms > 30000 ? 30000u : (uint32_t)ms;
}

static void answer(struct admin *a);

static void admin_timer_closed(uv_handle_t *h)
{
    rf_free(h->data);
}

static bool visible(struct admin *a)
{
    struct rf_parts *ps = a->r->b->parts;
    for (int32_t i = 0; i < a->n; i++) {
        if (a->codes[i] != RF_KERR_NONE)
            continue;
        int32_t np = rf_parts_topic_partitions(ps, a->names[i].ptr,
                                               (size_t)a->names[i].len);
        if (a->kind == ADMIN_DELETE ? np != 0 : np < a->want_partitions[i])
            return false;
    }
    return true;
}

static void on_visibility_timer(uv_timer_t *t)
{
    struct admin *a = t->data;
    if (!visible(a) && uv_now(t->loop) < a->deadline_ms)
        return;
    uv_timer_stop(t);
    answer(a);
}

static void finish(struct admin *a)
{
    if (visible(a)) {
        answer(a);
        return;
    }
    uv_timer_start(&a->timer, on_visibility_timer, VISIBILITY_POLL_MS,
                   VISIBILITY_POLL_MS);
}

static struct rf_kstr kstr_of(const char *s)
{
    return s ? (struct rf_kstr){s, (int32_t)strlen(s)} : RF_KSTR_NULL;
}

static void answer(struct admin *a)
{
    struct rf_kreq *r = a->r;
    int16_t ver = r->req.hdr.RequestApiVersion;
    switch (a->kind) {
    case ADMIN_CREATE: {
        struct rf_CreateTopicsResponse resp;
        rf_kmsg_init(&rf_CreateTopicsResponse_msg, ver, &resp);
        resp.Topics.items =
            rf_kreq_alloc(r, (size_t)(a->n + 1) * sizeof *resp.Topics.items);
        resp.Topics.count = a->n;
        for (int32_t i = 0; resp.Topics.items && i < a->n; i++) {
            resp.Topics.items[i].Name = a->names[i];
            resp.Topics.items[i].ErrorCode = a->codes[i];
            resp.Topics.items[i].ErrorMessage = kstr_of(a->messages[i]);
        }
        if (resp.Topics.items)
            rf_kreq_respond(r, &resp);
        else
            rf_kreq_close(r);
        break;
    }
    case ADMIN_DELETE: {
        struct rf_DeleteTopicsResponse resp;
        rf_kmsg_init(&rf_DeleteTopicsResponse_msg, ver, &resp);
        resp.Responses.items = rf_kreq_alloc(
            r, (size_t)(a->n + 1) * sizeof *resp.Responses.items);
        resp.Responses.count = a->n;
        for (int32_t i = 0; resp.Responses.items && i < a->n; i++) {
            resp.Responses.items[i].Name = a->names[i];
            resp.Responses.items[i].ErrorCode = a->codes[i];
        }
        if (resp.Responses.items)
            rf_kreq_respond(r, &resp);
        else
            rf_kreq_close(r);
        break;
    }
    case ADMIN_PARTITIONS: {
        struct rf_CreatePartitionsResponse resp;
        rf_kmsg_init(&rf_CreatePartitionsResponse_msg, ver, &resp);
        resp.Results.items =
            rf_kreq_alloc(r, (size_t)(a->n + 1) * sizeof *resp.Results.items);
        resp.Results.count = a->n;
        for (int32_t i = 0; resp.Results.items && i < a->n; i++) {
            resp.Results.items[i].Name = a->names[i];
            resp.Results.items[i].ErrorCode = a->codes[i];
            resp.Results.items[i].ErrorMessage = kstr_of(a->messages[i]);
        }
        if (resp.Results.items)
            rf_kreq_respond(r, &resp);
        else
            rf_kreq_close(r);
        break;
    }
    }
    uv_close((uv_handle_t *)&a->timer, admin_timer_closed);
}

/* Copy the controller's per-topic results (matched by name) into a. */
static void take_results(struct admin *a, const Riffle__Envelope *resp)
{
    for (int32_t i = 0; i < a->n; i++) {
        const char *name = NULL, *msg = NULL;
        Riffle__ErrorCode code = RIFFLE__ERROR_CODE__UNKNOWN_SERVER_ERROR;
        bool found = false;
        size_t m = 0;
        if (a->kind == ADMIN_CREATE &&
            resp->body_case == RIFFLE__ENVELOPE__BODY_CREATE_TOPICS_RESP)
            m = resp->create_topics_resp->n_topics;
        else if (a->kind == ADMIN_DELETE &&
                 resp->body_case == RIFFLE__ENVELOPE__BODY_DELETE_TOPICS_RESP)
            m = resp->delete_topics_resp->n_topics;
        else if (a->kind == ADMIN_PARTITIONS &&
                 resp->body_case ==
                     RIFFLE__ENVELOPE__BODY_CREATE_PARTITIONS_RESP)
            m = resp->create_partitions_resp->n_results;
        for (size_t j = 0; j < m && !found; j++) {
            int32_t parts = 0;
            if (a->kind == ADMIN_CREATE) {
                const Riffle__CreateTopicResult *t =
                    resp->create_topics_resp->topics[j];
                name = t->name, code = t->error, msg = t->error_message;
                parts = t->num_partitions;
            } else if (a->kind == ADMIN_DELETE) {
                const Riffle__DeleteTopicResult *t =
                    resp->delete_topics_resp->topics[j];
                name = t->name, code = t->error, msg = t->error_message;
            } else {
                const Riffle__DeleteTopicResult *t =
                    resp->create_partitions_resp->results[j];
                name = t->name, code = t->error, msg = t->error_message;
            }
            found = name && strlen(name) == (size_t)a->names[i].len &&
                    memcmp(name, a->names[i].ptr, (size_t)a->names[i].len) == 0;
            if (found && parts > 0 && a->want_partitions[i] != 0)
                a->want_partitions[i] = parts;
        }
        a->codes[i] = found ? rf_server_kafka_code(code)
                            : RF_KERR_UNKNOWN_SERVER_ERROR;
        if (found && msg && msg[0])
            a->messages[i] = rf_kreq_strdup(a->r, kstr_of(msg));
    }
}

static void on_controller(void *data, int status, const Riffle__Envelope *resp)
{
    struct admin *a = data;
    const Riffle__Status *st = resp ? rf_ctlclient_status(resp) : NULL;
    if (status != 0 || (st && st->code != RIFFLE__ERROR_CODE__NONE)) {
        int16_t code = status == RF_ETIMEDOUT || status == RF_ECLOSED ||
                               status == RF_ECONNECT
                           ? RF_KERR_REQUEST_TIMED_OUT
                           : st ? rf_server_kafka_code(st->code)
                                : RF_KERR_UNKNOWN_SERVER_ERROR;
        for (int32_t i = 0; i < a->n; i++)
            a->codes[i] = code;
        answer(a);
        return;
    }
    take_results(a, resp);
    finish(a);
}

static struct admin *admin_new(struct rf_kreq *r, enum admin_kind kind,
                               int32_t n, int32_t timeout_ms)
{
    struct admin *a = rf_calloc(1, sizeof *a);
    size_t cnt = n > 0 ? (size_t)n : 1;
    a->r = r;
    a->kind = kind;
    a->n = n > 0 ? n : 0;
    a->names = rf_kreq_alloc(r, cnt * sizeof *a->names);
    a->codes = rf_kreq_alloc(r, cnt * sizeof *a->codes);
    a->messages = rf_kreq_alloc(r, cnt * sizeof *a->messages);
    a->want_partitions = rf_kreq_alloc(r, cnt * sizeof *a->want_partitions);
    a->deadline_ms = uv_now(r->b->loop) + timeout_of(timeout_ms);
    uv_timer_init(r->b->loop, &a->timer);
    a->timer.data = a;
    if (!a->names || !a->codes || !a->messages || !a->want_partitions) {
        uv_close((uv_handle_t *)&a->timer, admin_timer_closed);
        return NULL;
    }
    return a;
}

static void send_or_fail(struct admin *a, Riffle__Envelope *env,
                         int32_t timeout_ms)
{
    struct rf_ctlclient *cc = rf_bmeta_client(a->r->b->bmeta);
    if (rf_ctlclient_call(cc, env, -1, timeout_of(timeout_ms), on_controller,
                          a) != 0) {
        for (int32_t i = 0; i < a->n; i++)
            a->codes[i] = RF_KERR_REQUEST_TIMED_OUT;
        answer(a);
    }
}

void rf_api_create_topics(struct rf_kreq *r)
{
    const struct rf_CreateTopicsRequest *req = r->req.body;
    int32_t n = req->Topics.count > 0 ? req->Topics.count : 0;
    struct admin *a = admin_new(r, ADMIN_CREATE, n, req->TimeoutMs);
    Riffle__Envelope env = RIFFLE__ENVELOPE__INIT;
    Riffle__CreateTopicsRequest creq = RIFFLE__CREATE_TOPICS_REQUEST__INIT;
    struct rf_uuid rid;
    bool ok = a != NULL;
    if (!ok) {
        rf_kreq_close(r);
        return;
    }
    creq.topics = rf_kreq_alloc(r, ((size_t)n + 1) * sizeof *creq.topics);
    ok = creq.topics != NULL;
    for (int32_t i = 0; ok && i < n; i++) {
        const struct rf_CreateTopicsRequest_CreatableTopic *t =
            &req->Topics.items[i];
        Riffle__CreatableTopic *ct = rf_kreq_alloc(r, sizeof *ct);
        int32_t na = t->Assignments.count > 0 ? t->Assignments.count : 0;
        int32_t nc = t->Configs.count > 0 ? t->Configs.count : 0;
        if (ct == NULL) {
            ok = false; /* arena cap: refuse rather than send a part */
            break;
        }
        riffle__creatable_topic__init(ct);
        a->names[i] = t->Name;
        ct->name = rf_kreq_strdup(r, t->Name);
        ct->num_partitions = t->NumPartitions;
        ct->replication_factor = t->ReplicationFactor;
        a->want_partitions[i] = na > 0 ? na : t->NumPartitions;
        ct->assignments = rf_kreq_alloc(r, ((size_t)na + 1) * sizeof(void *));
        ct->configs = rf_kreq_alloc(r, ((size_t)nc + 1) * sizeof(void *));
        ok = ct->name && ct->assignments && ct->configs;
        for (int32_t j = 0; ok && j < na; j++) {
            Riffle__ReplicaAssignment *ra = rf_kreq_alloc(r, sizeof *ra);
            if ((ok = ra != NULL)) {
                riffle__replica_assignment__init(ra);
                ra->partition = t->Assignments.items[j].PartitionIndex;
                ra->broker_ids = t->Assignments.items[j].BrokerIds.items;
                ra->n_broker_ids =
                    t->Assignments.items[j].BrokerIds.count > 0
                        ? (size_t)t->Assignments.items[j].BrokerIds.count
                        : 0;
                ct->assignments[ct->n_assignments++] = ra;
            }
        }
        for (int32_t j = 0; ok && j < nc; j++) {
            Riffle__ConfigEntry *ce = rf_kreq_alloc(r, sizeof *ce);
            if ((ok = ce != NULL)) {
                riffle__config_entry__init(ce);
                ce->name = rf_kreq_strdup(r, t->Configs.items[j].Name);
                ce->value = rf_kreq_strdup(r, t->Configs.items[j].Value);
                ok = ce->name && ce->value;
                ct->configs[ct->n_configs++] = ce;
            }
        }
        creq.topics[creq.n_topics++] = ct;
    }
    if (!ok) {
        uv_close((uv_handle_t *)&a->timer, admin_timer_closed);
        rf_kreq_close(r);
        return;
    }
    rf_uuid_generate(&rid);
    creq.request_id.data = rid.b;
    creq.request_id.len = sizeof rid.b;
    creq.validate_only = req->ValidateOnly;
    env.body_case = RIFFLE__ENVELOPE__BODY_CREATE_TOPICS_REQ;
    env.create_topics_req = &creq;
    if (req->ValidateOnly) /* nothing will change: answer when decided */
        for (int32_t i = 0; i < n; i++)
            a->want_partitions[i] = 0;
    send_or_fail(a, &env, req->TimeoutMs);
}

void rf_api_delete_topics(struct rf_kreq *r)
{
    const struct rf_DeleteTopicsRequest *req = r->req.body;
    int32_t n = req->TopicNames.count > 0 ? req->TopicNames.count : 0;
    struct admin *a = admin_new(r, ADMIN_DELETE, n, req->TimeoutMs);
    Riffle__Envelope env = RIFFLE__ENVELOPE__INIT;
    Riffle__DeleteTopicsRequest dreq = RIFFLE__DELETE_TOPICS_REQUEST__INIT;
    struct rf_uuid rid;
    if (a == NULL) {
        rf_kreq_close(r);
        return;
    }
    dreq.names = rf_kreq_alloc(r, ((size_t)n + 1) * sizeof(char *));
    for (int32_t i = 0; dreq.names && i < n; i++) {
        a->names[i] = req->TopicNames.items[i];
        dreq.names[i] = rf_kreq_strdup(r, req->TopicNames.items[i]);
        if (dreq.names[i] == NULL)
            dreq.names = NULL;
    }
    if (dreq.names == NULL) {
        uv_close((uv_handle_t *)&a->timer, admin_timer_closed);
        rf_kreq_close(r);
        return;
    }
    dreq.n_names = (size_t)n;
    rf_uuid_generate(&rid);
    dreq.request_id.data = rid.b;
    dreq.request_id.len = sizeof rid.b;
    env.body_case = RIFFLE__ENVELOPE__BODY_DELETE_TOPICS_REQ;
    env.delete_topics_req = &dreq;
    send_or_fail(a, &env, req->TimeoutMs);
}

void rf_api_create_partitions(struct rf_kreq *r)
{
    const struct rf_CreatePartitionsRequest *req = r->req.body;
    int32_t n = req->Topics.count > 0 ? req->Topics.count : 0;
    struct admin *a = admin_new(r, ADMIN_PARTITIONS, n, req->TimeoutMs);
    Riffle__Envelope env = RIFFLE__ENVELOPE__INIT;
    Riffle__CreatePartitionsRequest preq =
        RIFFLE__CREATE_PARTITIONS_REQUEST__INIT;
    struct rf_uuid rid;
    bool ok = a != NULL;
    if (!ok) {
        rf_kreq_close(r);
        return;
    }
    preq.topics = rf_kreq_alloc(r, ((size_t)n + 1) * sizeof(void *));
    ok = preq.topics != NULL;
    for (int32_t i = 0; ok && i < n; i++) {
        const struct rf_CreatePartitionsRequest_CreatePartitionsTopic *t =
            &req->Topics.items[i];
        Riffle__CreatePartitionsTopic *pt = rf_kreq_alloc(r, sizeof *pt);
        int32_t na = t->Assignments.count > 0 ? t->Assignments.count : 0;
        if (!(ok = pt != NULL))
            break;
        riffle__create_partitions_topic__init(pt);
        a->names[i] = t->Name;
        a->want_partitions[i] = req->ValidateOnly ? 0 : t->Count;
        pt->name = rf_kreq_strdup(r, t->Name);
        pt->count = t->Count;
        pt->assignments = rf_kreq_alloc(r, ((size_t)na + 1) * sizeof(void *));
        ok = pt->name && pt->assignments;
        /* Kafka lists the new partitions' assignments in order, starting at
         * the current count; the controller numbers them the same way. */
        int32_t first = t->Count - na;
        for (int32_t j = 0; ok && j < na; j++) {
            Riffle__ReplicaAssignment *ra = rf_kreq_alloc(r, sizeof *ra);
            if ((ok = ra != NULL)) {
                riffle__replica_assignment__init(ra);
                ra->partition = first + j;
                ra->broker_ids = t->Assignments.items[j].BrokerIds.items;
                ra->n_broker_ids =
                    t->Assignments.items[j].BrokerIds.count > 0
                        ? (size_t)t->Assignments.items[j].BrokerIds.count
                        : 0;
                pt->assignments[pt->n_assignments++] = ra;
            }
        }
        preq.topics[preq.n_topics++] = pt;
    }
    if (!ok) {
        uv_close((uv_handle_t *)&a->timer, admin_timer_closed);
        rf_kreq_close(r);
        return;
    }
    rf_uuid_generate(&rid);
    preq.request_id.data = rid.b;
    preq.request_id.len = sizeof rid.b;
    preq.validate_only = req->ValidateOnly;
    env.body_case = RIFFLE__ENVELOPE__BODY_CREATE_PARTITIONS_REQ;
    env.create_partitions_req = &preq;
    send_or_fail(a, &env, req->TimeoutMs);
}
