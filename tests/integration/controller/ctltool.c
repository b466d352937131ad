/* ctltool.c: a small controller RPC client for tests and benchmarks: sends
 * one admin request (following NOT_CONTROLLER hints and retrying
 * OUTCOME_UNKNOWN with the same request id), runs request mixes, or plays a
 * fake broker that registers and heartbeats until SIGTERM.
 *
 * usage: ctltool [-t timeout_ms] host:port[,host:port...] CMD [args]
 *   status                      NodeStatus of the first endpoint (no follow)
 *   create NAME PARTS RF        create one topic
 *   delete NAME                 delete one topic
 *   list | describe [NAME...] | cluster
 *   create-many PREFIX N WINDOW [PARTS RF]   N creates, WINDOW in flight
 *   churn PREFIX N WINDOW       N create+delete pairs, WINDOW in flight
 *   broker ID HB_MS             fake broker: register + heartbeat
 *   poll SINCE WAIT_MS          one FetchMetadata long-poll
 *   broker ID HB_MS cs          as broker, ControlledShutdown on SIGTERM
 *   alter-isr BROKER EPOCH TOPIC PART ISR   AlterPartition as the leader
 *   create-partitions NAME COUNT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <uv.h>

#include "clock.h"
#include "net.h"
#include "rpc.h"
#include "uuid.h"

#define MAX_EPS 16

struct tool {
    uv_loop_t loop;
    struct rf_hostport eps[MAX_EPS];
    struct rf_rpc_client *clients[MAX_EPS];
    int n_eps;
    int cur;
    uint32_t timeout_ms;
    int exit_code;
    int inflight;
    /* mixes */
    const char *prefix;
    long next, total, done, failed;
    int parts, rf;
    bool churn;
    uint64_t start_ns;
    /* broker */
    int32_t broker_id;
    int64_t epoch;
    int64_t meta_offset;
    uint32_t hb_ms;
    bool stopping;
    bool cs_on_stop;
    bool shutting_down;
    /* alter-isr */
    int32_t alt_broker;
    int64_t alt_epoch;
    int32_t alt_part;
    int32_t alt_isr[16];
    size_t alt_n_isr;
    int last_fenced;
    uv_timer_t hb_timer;
    uv_signal_t sigterm;
};

struct op;
typedef void (*op_done)(struct op *op, const Riffle__Envelope *resp);

struct op {
    struct tool *t;
    uint8_t *packed;
    size_t len;
    int resp_case;
    op_done cb;
    void *data;
    uint64_t deadline;
    uv_timer_t timer;
    int ep;
};

static const char *code_name(int code)
{
    const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(
        &riffle__error_code__descriptor, code);
    return v != NULL ? v->name : "?";
}

static struct rf_rpc_client *client_for(struct tool *t, int i)
{
    if (t->clients[i] == NULL) {
        struct rf_rpc_client_opts o = {0, 500, 50, 300};
        if (rf_rpc_client_new(&t->loop, t->eps[i].host, t->eps[i].port, &o,
                              &t->clients[i]) != 0) {
            t->clients[i] = NULL;
        }
    }
    return t->clients[i];
}

static Riffle__Status *status_of(const Riffle__Envelope *env)
{
    const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field(
        &riffle__envelope__descriptor, (unsigned)env->body_case);
    const ProtobufCMessage *body;
    const ProtobufCFieldDescriptor *sf;

    if (f == NULL) {
        return NULL;
    }
    body = *(ProtobufCMessage *const *)((const char *)env + f->offset);
    if (env->body_case == RIFFLE__ENVELOPE__BODY_ERROR) {
        return (Riffle__Status *)body;
    }
    sf = protobuf_c_message_descriptor_get_field_by_name(body->descriptor,
                                                         "status");
    return sf == NULL
               ? NULL
               : *(Riffle__Status *const *)((const char *)body + sf->offset);
}

static int ep_index(struct tool *t, const Riffle__Endpoint *ep)
{
    int i;

    for (i = 0; i < t->n_eps; i++) {
        if (strcmp(t->eps[i].host, ep->host) == 0 &&
            t->eps[i].port == ep->port) {
            return i;
        }
    }
    if (t->n_eps < MAX_EPS && strlen(ep->host) < RF_HOST_MAX && ep->port > 0 &&
        ep->port < 65536) {
        snprintf(t->eps[t->n_eps].host, RF_HOST_MAX, "%s", ep->host);
        t->eps[t->n_eps].port = (uint16_t)ep->port;
        return t->n_eps++;
    }
    return -1;
}

static void op_send(struct op *op);

static void op_free_cb(uv_handle_t *h)
{
    struct op *op = h->data;
    free(op->packed);
    free(op);
}

static void op_finish(struct op *op, const Riffle__Envelope *resp)
{
    op->t->inflight--;
    op->cb(op, resp);
    uv_close((uv_handle_t *)&op->timer, op_free_cb);
}

static void op_timer_cb(uv_timer_t *timer)
{
    op_send(timer->data);
}

static void op_retry(struct op *op, uint64_t delay_ms)
{
    if (rf_clock_mono_ms() + delay_ms > op->deadline) {
        op_finish(op, NULL);
        return;
    }
    uv_timer_start(&op->timer, op_timer_cb, delay_ms, 0);
}

static void op_resp_cb(void *data, int status, const Riffle__Envelope *resp)
{
    struct op *op = data;
    struct tool *t = op->t;
    Riffle__Status *st;

    if (status != 0) {
        op->ep = (op->ep + 1) % t->n_eps;
        t->cur = op->ep;
        op_retry(op, 100);
        return;
    }
    st = status_of(resp);
    if (st != NULL && st->code == RIFFLE__ERROR_CODE__NOT_CONTROLLER &&
        op->resp_case != RIFFLE__ENVELOPE__BODY_NODE_STATUS_RESP) {
        int i = st->leader_rpc != NULL ? ep_index(t, st->leader_rpc) : -1;
        op->ep = i >= 0 && i != op->ep ? i : (op->ep + 1) % t->n_eps;
        t->cur = op->ep;
        op_retry(op, i >= 0 ? 10 : 100);
        return;
    }
    if (st != NULL && st->code == RIFFLE__ERROR_CODE__OUTCOME_UNKNOWN) {
        op_retry(op, 100);
        return;
    }
    op_finish(op, resp);
}

static void op_send(struct op *op)
{
    Riffle__Envelope *env = riffle__envelope__unpack(NULL, op->len, op->packed);
    struct rf_rpc_client *c = client_for(op->t, op->ep);

    if (env == NULL || c == NULL ||
        rf_rpc_call(c, env, 35000, op_resp_cb, op) != 0) {
        if (env != NULL) {
            riffle__envelope__free_unpacked(env, NULL);
        }
        op_retry(op, 100);
        return;
    }
    riffle__envelope__free_unpacked(env, NULL);
}

/* Start a request (env borrowed; packed now). */
static void op_start(struct tool *t,
                     Riffle__Envelope *env,
                     int resp_case,
                     op_done cb,
                     void *data)
{
    struct op *op = calloc(1, sizeof(*op));

    op->t = t;
    op->len = riffle__envelope__get_packed_size(env);
    op->packed = malloc(op->len + 1);
    riffle__envelope__pack(env, op->packed);
    op->resp_case = resp_case;
    op->cb = cb;
    op->data = data;
    op->ep = t->cur;
    op->deadline = rf_clock_mono_ms() + t->timeout_ms;
    uv_timer_init(&t->loop, &op->timer);
    op->timer.data = op;
    t->inflight++;
    op_send(op);
}

static void close_clients(struct tool *t)
{
    int i;

    for (i = 0; i < t->n_eps; i++) {
        if (t->clients[i] != NULL) {
            rf_rpc_client_close(t->clients[i], NULL, NULL);
            t->clients[i] = NULL;
        }
    }
}

static int check_resp(struct tool *t,
                      const Riffle__Envelope *resp,
                      const char *what)
{
    Riffle__Status *st = resp != NULL ? status_of(resp) : NULL;

    if (resp == NULL) {
        printf("%s: timed out\n", what);
        t->exit_code = 2;
        return -1;
    }
    if (st != NULL && st->code != RIFFLE__ERROR_CODE__NONE) {
        printf("%s: %s %s\n", what, code_name(st->code),
               st->message != NULL ? st->message : "");
        t->exit_code = 3;
        return -1;
    }
    return 0;
}

static void rid_new(ProtobufCBinaryData *rid, struct rf_uuid *u)
{
    rf_uuid_generate(u);
    rid->data = u->b;
    rid->len = 16;
}

static void maybe_done(struct tool *t)
{
    if (t->inflight == 0 && !(t->broker_id > 0 && !t->stopping)) {
        if (t->broker_id > 0 && !uv_is_closing((uv_handle_t *)&t->hb_timer)) {
            uv_close((uv_handle_t *)&t->hb_timer, NULL);
        }
        close_clients(t);
    }
}

/* ---- one-shot commands ---- */

static void print_status(const Riffle__NodeStatusResponse *ns)
{
    printf(
        "node_id=%d role=%s term=%llu commit=%llu applied=%llu leader=%d "
        "active=%d offset=%lld hash=%016llx last_index=%llu\n",
        ns->node_id, ns->role, (unsigned long long)ns->term,
        (unsigned long long)ns->commit_index,
        (unsigned long long)ns->applied_index, ns->leader_id,
        ns->active ? 1 : 0, (long long)ns->metadata_offset,
        (unsigned long long)ns->image_hash, (unsigned long long)ns->last_index);
}

static void status_done(struct op *op, const Riffle__Envelope *resp)
{
    if (check_resp(op->t, resp, "status") == 0) {
        print_status(resp->node_status_resp);
    }
    maybe_done(op->t);
}

static void simple_done(struct op *op, const Riffle__Envelope *resp)
{
    struct tool *t = op->t;
    size_t i;

    if (check_resp(t, resp, (const char *)op->data) != 0) {
        maybe_done(t);
        return;
    }
    if (resp->body_case == RIFFLE__ENVELOPE__BODY_CREATE_TOPICS_RESP) {
        const Riffle__CreateTopicsResponse *r = resp->create_topics_resp;
        for (i = 0; i < r->n_topics; i++) {
            printf("create %s: %s %s\n", r->topics[i]->name,
                   code_name(r->topics[i]->error), r->topics[i]->error_message);
            if (r->topics[i]->error != 0) {
                t->exit_code = 3;
            }
        }
    } else if (resp->body_case == RIFFLE__ENVELOPE__BODY_DELETE_TOPICS_RESP) {
        const Riffle__DeleteTopicsResponse *r = resp->delete_topics_resp;
        for (i = 0; i < r->n_topics; i++) {
            printf("delete %s: %s\n", r->topics[i]->name,
                   code_name(r->topics[i]->error));
            if (r->topics[i]->error != 0) {
                t->exit_code = 3;
            }
        }
    } else if (resp->body_case ==
               RIFFLE__ENVELOPE__BODY_CREATE_PARTITIONS_RESP) {
        const Riffle__CreatePartitionsResponse *r =
            resp->create_partitions_resp;
        for (i = 0; i < r->n_results; i++) {
            printf("create-partitions %s: %s %s\n", r->results[i]->name,
                   code_name(r->results[i]->error),
                   r->results[i]->error_message);
            if (r->results[i]->error != 0) {
                t->exit_code = 3;
            }
        }
    } else if (resp->body_case == RIFFLE__ENVELOPE__BODY_LIST_TOPICS_RESP) {
        const Riffle__ListTopicsResponse *r = resp->list_topics_resp;
        for (i = 0; i < r->n_topics; i++) {
            printf("topic %s partitions=%d rf=%d\n", r->topics[i]->name,
                   r->topics[i]->partitions, r->topics[i]->replication_factor);
        }
    } else if (resp->body_case == RIFFLE__ENVELOPE__BODY_DESCRIBE_TOPICS_RESP) {
        const Riffle__DescribeTopicsResponse *r = resp->describe_topics_resp;
        for (i = 0; i < r->n_topics; i++) {
            const Riffle__TopicDescription *td = r->topics[i];
            printf("topic %s error=%s partitions=%zu\n", td->name,
                   code_name(td->error), td->n_partitions);
            for (size_t p = 0; p < td->n_partitions; p++) {
                const Riffle__PartitionDescription *pd = td->partitions[p];
                printf("  partition %d leader=%d epoch=%d replicas=",
                       pd->partition, pd->leader, pd->leader_epoch);
                for (size_t k = 0; k < pd->n_replicas; k++) {
                    printf("%s%d", k ? "," : "", pd->replicas[k]);
                }
                printf(" isr=");
                for (size_t k = 0; k < pd->n_isr; k++) {
                    printf("%s%d", k ? "," : "", pd->isr[k]);
                }
                printf("\n");
            }
        }
    } else if (resp->body_case ==
               RIFFLE__ENVELOPE__BODY_DESCRIBE_CLUSTER_RESP) {
        const Riffle__DescribeClusterResponse *r = resp->describe_cluster_resp;
        char cid[RF_UUID_STR_LEN + 1] = "";
        if (r->cluster_id.len == 16) {
            rf_uuid_format((const struct rf_uuid *)r->cluster_id.data, cid);
        }
        printf("cluster_id=%s active=%d offset=%lld\n", cid,
               r->active_controller_id, (long long)r->metadata_offset);
        for (i = 0; i < r->n_controllers; i++) {
            const Riffle__ControllerInfo *c = r->controllers[i];
            printf(
                "controller %d raft=%s rpc=%s:%u role=%s term=%llu "
                "applied=%llu\n",
                c->node_id, c->raft_address, c->rpc ? c->rpc->host : "-",
                c->rpc ? c->rpc->port : 0, c->role, (unsigned long long)c->term,
                (unsigned long long)c->applied_index);
        }
        for (i = 0; i < r->n_brokers; i++) {
            const Riffle__BrokerInfo *b = r->brokers[i];
            printf("broker %d epoch=%lld state=%d hb_age_ms=%lld\n",
                   b->broker_id, (long long)b->broker_epoch, b->state,
                   (long long)b->last_heartbeat_age_ms);
        }
    }
    maybe_done(t);
}

static void send_create(struct tool *t,
                        const char *name,
                        int parts,
                        int rf,
                        op_done cb,
                        void *data)
{
    Riffle__Envelope env = RIFFLE__ENVELOPE__INIT;
    Riffle__CreateTopicsRequest req = RIFFLE__CREATE_TOPICS_REQUEST__INIT;
    Riffle__CreatableTopic topic = RIFFLE__CREATABLE_TOPIC__INIT;
    Riffle__CreatableTopic *tp = &topic;
    struct rf_uuid u;

    rid_new(&req.request_id, &u);
    topic.name = (char *)name;
    topic.num_partitions = parts;
    topic.replication_factor = rf;
    req.n_topics = 1;
    req.topics = &tp;
    env.body_case = RIFFLE__ENVELOPE__BODY_CREATE_TOPICS_REQ;
    env.create_topics_req = &req;
    op_start(t, &env, RIFFLE__ENVELOPE__BODY_CREATE_TOPICS_RESP, cb, data);
}

static void send_delete(struct tool *t,
                        const char *name,
                        op_done cb,
                        void *data)
{
    Riffle__Envelope env = RIFFLE__ENVELOPE__INIT;
    Riffle__DeleteTopicsRequest req = RIFFLE__DELETE_TOPICS_REQUEST__INIT;
    char *names[1] = {(char *)name};
    struct rf_uuid u;

    rid_new(&req.request_id, &u);
    req.n_names = 1;
    req.names = names;
    env.body_case = RIFFLE__ENVELOPE__BODY_DELETE_TOPICS_REQ;
    env.delete_topics_req = &req;
    op_start(t, &env, RIFFLE__ENVELOPE__BODY_DELETE_TOPICS_RESP, cb, data);
}

/* ---- mixes: create-many / churn ---- */

static void mix_next(struct tool *t);

static bool item_ok(const Riffle__Envelope *resp)
{
    Riffle__Status *st = resp != NULL ? status_of(resp) : NULL;

    if (resp == NULL || (st != NULL && st->code != 0)) {
        return false;
    }
    if (resp->body_case == RIFFLE__ENVELOPE__BODY_CREATE_TOPICS_RESP) {
        return resp->create_topics_resp->n_topics == 1 &&
               resp->create_topics_resp->topics[0]->error == 0;
    }
    if (resp->body_case == RIFFLE__ENVELOPE__BODY_DELETE_TOPICS_RESP) {
        return resp->delete_topics_resp->n_topics == 1 &&
               resp->delete_topics_resp->topics[0]->error == 0;
    }
    return false;
}

static void mix_done(struct op *op, const Riffle__Envelope *resp)
{
    struct tool *t = op->t;
    long idx = (long)(intptr_t)op->data;
    char name[200];

    if (!item_ok(resp)) {
        t->failed++;
        if (t->failed <= 5) {
            Riffle__Status *st = resp ? status_of(resp) : NULL;
            fprintf(stderr, "item %ld failed: %s\n", idx,
                    resp == NULL ? "timeout"
                    : st         ? code_name(st->code)
                                 : "item");
        }
    } else if (t->churn &&
               resp->body_case == RIFFLE__ENVELOPE__BODY_CREATE_TOPICS_RESP) {
        snprintf(name, sizeof(name), "%s%ld", t->prefix, idx);
        send_delete(t, name, mix_done, op->data);
        return;
    }
    t->done++;
    mix_next(t);
}

static void mix_next(struct tool *t)
{
    char name[200];

    if (t->next < t->total) {
        long idx = t->next++;
        /* names of varying length: entries of every size mod 8 */
        snprintf(name, sizeof(name), "%s%ld%.*s", t->prefix, idx,
                 (int)(idx % 11), "xxxxxxxxxxx");
        if (t->churn) {
            snprintf(name, sizeof(name), "%s%ld", t->prefix, idx);
        }
        send_create(t, name, t->parts, t->rf, mix_done, (void *)(intptr_t)idx);
        return;
    }
    if (t->inflight == 0) {
        double secs = (double)(rf_clock_mono_ns() - t->start_ns) / 1e9;
        printf("%s done=%ld failed=%ld seconds=%.3f ops_per_sec=%.1f\n",
               t->churn ? "churn" : "create-many", t->done, t->failed, secs,
               (double)t->done / (secs > 0 ? secs : 1));
        if (t->failed > 0) {
            t->exit_code = 3;
        }
        maybe_done(t);
    }
}

/* ---- fake broker ---- */

static void hb_schedule(struct tool *t);
static void send_controlled_shutdown(struct tool *t);

static void hb_done(struct op *op, const Riffle__Envelope *resp)
{
    struct tool *t = op->t;
    Riffle__Status *st = resp ? status_of(resp) : NULL;

    if (resp != NULL && st != NULL &&
        (st->code == RIFFLE__ERROR_CODE__STALE_BROKER_EPOCH ||
         st->code == RIFFLE__ERROR_CODE__UNKNOWN_BROKER)) {
        printf("broker %d: %s, re-registering\n", t->broker_id,
               code_name(st->code));
        t->epoch = -1;
    } else if (resp != NULL &&
               resp->body_case ==
                   RIFFLE__ENVELOPE__BODY_BROKER_HEARTBEAT_RESP) {
        int fenced = resp->broker_heartbeat_resp->is_fenced ? 1 : 0;
        if (fenced != t->last_fenced) {
            printf("broker %d fenced=%d offset=%lld\n", t->broker_id, fenced,
                   (long long)t->meta_offset);
            t->last_fenced = fenced;
        }
    }
    hb_schedule(t);
}

static void fetch_done(struct op *op, const Riffle__Envelope *resp)
{
    struct tool *t = op->t;
    Riffle__Envelope env = RIFFLE__ENVELOPE__INIT;
    Riffle__BrokerHeartbeatRequest hb = RIFFLE__BROKER_HEARTBEAT_REQUEST__INIT;

    if (resp != NULL &&
        resp->body_case == RIFFLE__ENVELOPE__BODY_FETCH_METADATA_RESP &&
        resp->fetch_metadata_resp->status != NULL &&
        resp->fetch_metadata_resp->status->code == 0) {
        t->meta_offset = resp->fetch_metadata_resp->offset;
    }
    if (t->stopping) {
        maybe_done(t);
        return;
    }
    hb.broker_id = t->broker_id;
    hb.broker_epoch = t->epoch;
    hb.current_metadata_offset = t->meta_offset;
    env.body_case = RIFFLE__ENVELOPE__BODY_BROKER_HEARTBEAT_REQ;
    env.broker_heartbeat_req = &hb;
    op_start(t, &env, RIFFLE__ENVELOPE__BODY_BROKER_HEARTBEAT_RESP, hb_done,
             NULL);
}

static void register_done(struct op *op, const Riffle__Envelope *resp)
{
    struct tool *t = op->t;

    if (resp != NULL &&
        resp->body_case == RIFFLE__ENVELOPE__BODY_REGISTER_BROKER_RESP &&
        resp->register_broker_resp->status != NULL &&
        resp->register_broker_resp->status->code == 0) {
        t->epoch = resp->register_broker_resp->broker_epoch;
        printf("broker %d registered epoch=%lld\n", t->broker_id,
               (long long)t->epoch);
    } else {
        Riffle__Status *st = resp ? status_of(resp) : NULL;
        printf("broker %d register failed: %s\n", t->broker_id,
               resp == NULL ? "timeout"
               : st         ? code_name(st->code)
                            : "?");
    }
    hb_schedule(t);
}

static void send_register(struct tool *t)
{
    static struct rf_uuid inc;
    Riffle__Envelope env = RIFFLE__ENVELOPE__INIT;
    Riffle__RegisterBrokerRequest req = RIFFLE__REGISTER_BROKER_REQUEST__INIT;
    Riffle__Endpoint ep = RIFFLE__ENDPOINT__INIT;
    Riffle__Endpoint *eps = &ep;
    struct rf_uuid u;

    if (rf_uuid_is_zero(&inc)) {
        rf_uuid_generate(&inc);
    }
    rid_new(&req.request_id, &u);
    req.broker_id = t->broker_id;
    req.incarnation_id.data = inc.b;
    req.incarnation_id.len = 16;
    ep.name = "PLAINTEXT";
    ep.host = "127.0.0.1";
    ep.port = 19000u + (uint32_t)t->broker_id;
    req.n_endpoints = 1;
    req.endpoints = &eps;
    env.body_case = RIFFLE__ENVELOPE__BODY_REGISTER_BROKER_REQ;
    env.register_broker_req = &req;
    op_start(t, &env, RIFFLE__ENVELOPE__BODY_REGISTER_BROKER_RESP,
             register_done, NULL);
}

static void hb_tick(uv_timer_t *timer)
{
    struct tool *t = timer->data;
    Riffle__Envelope env = RIFFLE__ENVELOPE__INIT;
    Riffle__FetchMetadataRequest fm = RIFFLE__FETCH_METADATA_REQUEST__INIT;

    if (t->stopping) {
        return;
    }
    if (t->epoch < 0) {
        send_register(t);
        return;
    }
    if (t->shutting_down) {
        send_controlled_shutdown(t);
        return;
    }
    fm.since_offset = t->meta_offset;
    fm.broker_id = t->broker_id;
    fm.broker_epoch = t->epoch;
    fm.max_wait_ms = 0;
    env.body_case = RIFFLE__ENVELOPE__BODY_FETCH_METADATA_REQ;
    env.fetch_metadata_req = &fm;
    op_start(t, &env, RIFFLE__ENVELOPE__BODY_FETCH_METADATA_RESP, fetch_done,
             NULL);
}

static void hb_schedule(struct tool *t)
{
    if (t->stopping) {
        maybe_done(t);
        return;
    }
    uv_timer_start(&t->hb_timer, hb_tick, t->hb_ms, 0);
}

static void cs_done(struct op *op, const Riffle__Envelope *resp)
{
    struct tool *t = op->t;
    Riffle__Status *st = resp ? status_of(resp) : NULL;

    if (resp != NULL && st != NULL && st->code == 0 &&
        resp->body_case == RIFFLE__ENVELOPE__BODY_CONTROLLED_SHUTDOWN_RESP) {
        int32_t left = resp->controlled_shutdown_resp->remaining_leaderships;
        printf("broker %d controlled shutdown remaining=%d\n", t->broker_id,
               left);
        if (left == 0) {
            t->stopping = true;
            maybe_done(t);
            return;
        }
    } else {
        printf("broker %d controlled shutdown: %s\n", t->broker_id,
               resp == NULL ? "timeout"
               : st         ? code_name(st->code)
                            : "?");
        if (resp == NULL) {
            t->exit_code = 2;
            t->stopping = true;
            maybe_done(t);
            return;
        }
    }
    uv_timer_start(&t->hb_timer, hb_tick, 100, 0);
}

static void send_controlled_shutdown(struct tool *t)
{
    Riffle__Envelope env = RIFFLE__ENVELOPE__INIT;
    Riffle__ControlledShutdownRequest req =
        RIFFLE__CONTROLLED_SHUTDOWN_REQUEST__INIT;

    req.broker_id = t->broker_id;
    req.broker_epoch = t->epoch;
    env.body_case = RIFFLE__ENVELOPE__BODY_CONTROLLED_SHUTDOWN_REQ;
    env.controlled_shutdown_req = &req;
    op_start(t, &env, RIFFLE__ENVELOPE__BODY_CONTROLLED_SHUTDOWN_RESP, cs_done,
             NULL);
}

static void broker_stop(uv_signal_t *h, int signum)
{
    struct tool *t = h->data;

    (void)signum;
    uv_close((uv_handle_t *)&t->sigterm, NULL);
    if (t->cs_on_stop && t->epoch >= 0) {
        t->cs_on_stop = false;
        t->shutting_down = true; /* heartbeats go on until it is done */
        return;
    }
    t->stopping = true;
    maybe_done(t);
}

static void start_broker(struct tool *t, int32_t id, uint32_t hb_ms)
{
    t->broker_id = id;
    t->hb_ms = hb_ms;
    t->epoch = -1;
    t->meta_offset = -1;
    t->timeout_ms = hb_ms * 4 + 1000;
    uv_timer_init(&t->loop, &t->hb_timer);
    t->hb_timer.data = t;
    uv_signal_init(&t->loop, &t->sigterm);
    t->sigterm.data = t;
    uv_signal_start(&t->sigterm, broker_stop, SIGTERM);
    send_register(t);
}

static void send_describe(struct tool *t, char *name, op_done cb)
{
    Riffle__Envelope env = RIFFLE__ENVELOPE__INIT;
    Riffle__DescribeTopicsRequest req = RIFFLE__DESCRIBE_TOPICS_REQUEST__INIT;

    req.n_names = 1;
    req.names = &name;
    env.body_case = RIFFLE__ENVELOPE__BODY_DESCRIBE_TOPICS_REQ;
    env.describe_topics_req = &req;
    op_start(t, &env, RIFFLE__ENVELOPE__BODY_DESCRIBE_TOPICS_RESP, cb, NULL);
}

static void alter_done(struct op *op, const Riffle__Envelope *resp)
{
    struct tool *t = op->t;

    if (check_resp(t, resp, "alter-isr") == 0) {
        const Riffle__AlterPartitionResponse *r = resp->alter_partition_resp;
        for (size_t i = 0; i < r->n_partitions; i++) {
            const Riffle__AlterPartitionResult *p = r->partitions[i];
            printf("alter partition=%d error=%s leader=%d isr=", p->partition,
                   code_name(p->error), p->leader);
            for (size_t k = 0; k < p->n_isr; k++) {
                printf("%s%d", k ? "," : "", p->isr[k]);
            }
            printf("\n");
            if (p->error != 0) {
                t->exit_code = 3;
            }
        }
    }
    maybe_done(t);
}

/* alter-isr step 2: AlterPartition with the epochs just described. */
static void alter_describe_done(struct op *op, const Riffle__Envelope *resp)
{
    struct tool *t = op->t;
    Riffle__Envelope env = RIFFLE__ENVELOPE__INIT;
    Riffle__AlterPartitionRequest req = RIFFLE__ALTER_PARTITION_REQUEST__INIT;
    Riffle__AlterPartitionItem item = RIFFLE__ALTER_PARTITION_ITEM__INIT;
    Riffle__AlterPartitionItem *itp = &item;
    const Riffle__TopicDescription *td;
    struct rf_uuid u;
    size_t i;

    if (check_resp(t, resp, "alter-isr describe") != 0 ||
        resp->describe_topics_resp->n_topics != 1) {
        t->exit_code = 3;
        maybe_done(t);
        return;
    }
    td = resp->describe_topics_resp->topics[0];
    for (i = 0; i < td->n_partitions; i++) {
        if (td->partitions[i]->partition == t->alt_part) {
            item.leader_epoch = td->partitions[i]->leader_epoch;
            item.partition_epoch = td->partitions[i]->partition_epoch;
        }
    }
    item.topic_id = td->topic_id;
    item.partition = t->alt_part;
    item.n_new_isr = t->alt_n_isr;
    item.new_isr = t->alt_isr;
    rid_new(&req.request_id, &u);
    req.broker_id = t->alt_broker;
    req.broker_epoch = t->alt_epoch;
    req.n_partitions = 1;
    req.partitions = &itp;
    env.body_case = RIFFLE__ENVELOPE__BODY_ALTER_PARTITION_REQ;
    env.alter_partition_req = &req;
    op_start(t, &env, RIFFLE__ENVELOPE__BODY_ALTER_PARTITION_RESP, alter_done,
             NULL);
    maybe_done(t);
}

static void poll_done(struct op *op, const Riffle__Envelope *resp)
{
    if (check_resp(op->t, resp, "poll") == 0) {
        const Riffle__FetchMetadataResponse *r = resp->fetch_metadata_resp;
        size_t records = 0;
        for (size_t i = 0; i < r->n_deltas; i++) {
            records += r->deltas[i]->n_records;
        }
        printf("poll offset=%lld deltas=%zu records=%zu image=%d\n",
               (long long)r->offset, r->n_deltas, records,
               r->image != NULL ? 1 : 0);
    }
    maybe_done(op->t);
}

static int run_cmd(struct tool *t, int argc, char **argv)
{
    const char *cmd = argv[0];

    if (strcmp(cmd, "status") == 0) {
        Riffle__Envelope env = RIFFLE__ENVELOPE__INIT;
        Riffle__NodeStatusRequest ns = RIFFLE__NODE_STATUS_REQUEST__INIT;
        env.body_case = RIFFLE__ENVELOPE__BODY_NODE_STATUS_REQ;
        env.node_status_req = &ns;
        op_start(t, &env, RIFFLE__ENVELOPE__BODY_NODE_STATUS_RESP, status_done,
                 NULL);
    } else if (strcmp(cmd, "create") == 0 && argc == 4) {
        send_create(t, argv[1], atoi(argv[2]), atoi(argv[3]), simple_done,
                    "create");
    } else if (strcmp(cmd, "delete") == 0 && argc == 2) {
        send_delete(t, argv[1], simple_done, "delete");
    } else if (strcmp(cmd, "list") == 0) {
        Riffle__Envelope env = RIFFLE__ENVELOPE__INIT;
        Riffle__ListTopicsRequest req = RIFFLE__LIST_TOPICS_REQUEST__INIT;
        env.body_case = RIFFLE__ENVELOPE__BODY_LIST_TOPICS_REQ;
        env.list_topics_req = &req;
        op_start(t, &env, RIFFLE__ENVELOPE__BODY_LIST_TOPICS_RESP, simple_done,
                 "list");
    } else if (strcmp(cmd, "describe") == 0) {
        Riffle__Envelope env = RIFFLE__ENVELOPE__INIT;
        Riffle__DescribeTopicsRequest req =
            RIFFLE__DESCRIBE_TOPICS_REQUEST__INIT;
        req.n_names = (size_t)(argc - 1);
        req.names = argv + 1;
        env.body_case = RIFFLE__ENVELOPE__BODY_DESCRIBE_TOPICS_REQ;
        env.describe_topics_req = &req;
        op_start(t, &env, RIFFLE__ENVELOPE__BODY_DESCRIBE_TOPICS_RESP,
                 simple_done, "describe");
    } else if (strcmp(cmd, "cluster") == 0) {
        Riffle__Envelope env = RIFFLE__ENVELOPE__INIT;
        Riffle__DescribeClusterRequest req =
            RIFFLE__DESCRIBE_CLUSTER_REQUEST__INIT;
        env.body_case = RIFFLE__ENVELOPE__BODY_DESCRIBE_CLUSTER_REQ;
        env.describe_cluster_req = &req;
        op_start(t, &env, RIFFLE__ENVELOPE__BODY_DESCRIBE_CLUSTER_RESP,
                 simple_done, "cluster");
    } else if ((strcmp(cmd, "create-many") == 0 || strcmp(cmd, "churn") == 0) &&
               (argc == 4 || argc == 6)) {
        long w;
        t->churn = strcmp(cmd, "churn") == 0;
        t->prefix = argv[1];
        t->total = atol(argv[2]);
        w = atol(argv[3]);
        t->parts = argc == 6 ? atoi(argv[4]) : 1;
        t->rf = argc == 6 ? atoi(argv[5]) : 1;
        t->start_ns = rf_clock_mono_ns();
        while (w-- > 0 && t->next < t->total) {
            mix_next(t);
        }
        if (t->total == 0) {
            mix_next(t);
        }
    } else if (strcmp(cmd, "poll") == 0 && argc == 3) {
        Riffle__Envelope env = RIFFLE__ENVELOPE__INIT;
        Riffle__FetchMetadataRequest fm = RIFFLE__FETCH_METADATA_REQUEST__INIT;
        fm.since_offset = atoll(argv[1]);
        fm.broker_id = -1;
        fm.max_wait_ms = (uint32_t)atoi(argv[2]);
        env.body_case = RIFFLE__ENVELOPE__BODY_FETCH_METADATA_REQ;
        env.fetch_metadata_req = &fm;
        op_start(t, &env, RIFFLE__ENVELOPE__BODY_FETCH_METADATA_RESP, poll_done,
                 NULL);
    } else if (strcmp(cmd, "broker") == 0 && (argc == 3 || argc == 4)) {
        t->cs_on_stop = argc == 4 && strcmp(argv[3], "cs") == 0;
        start_broker(t, atoi(argv[1]), (uint32_t)atoi(argv[2]));
    } else if (strcmp(cmd, "alter-isr") == 0 && argc == 6) {
        char *tok, *save = NULL;
        t->alt_broker = atoi(argv[1]);
        t->alt_epoch = atoll(argv[2]);
        t->alt_part = atoi(argv[4]);
        for (tok = strtok_r(argv[5], ",", &save); tok && t->alt_n_isr < 16;
             tok = strtok_r(NULL, ",", &save)) {
            t->alt_isr[t->alt_n_isr++] = atoi(tok);
        }
        send_describe(t, argv[3], alter_describe_done);
    } else if (strcmp(cmd, "create-partitions") == 0 && argc == 3) {
        Riffle__Envelope env = RIFFLE__ENVELOPE__INIT;
        Riffle__CreatePartitionsRequest req =
            RIFFLE__CREATE_PARTITIONS_REQUEST__INIT;
        Riffle__CreatePartitionsTopic tp =
            RIFFLE__CREATE_PARTITIONS_TOPIC__INIT;
        Riffle__CreatePartitionsTopic *tpp = &tp;
        struct rf_uuid u;
        rid_new(&req.request_id, &u);
        tp.name = argv[1];
        tp.count = atoi(argv[2]);
        req.n_topics = 1;
        req.topics = &tpp;
        env.body_case = RIFFLE__ENVELOPE__BODY_CREATE_PARTITIONS_REQ;
        env.create_partitions_req = &req;
        op_start(t, &env, RIFFLE__ENVELOPE__BODY_CREATE_PARTITIONS_RESP,
                 simple_done, "create-partitions");
    } else {
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct tool t;
    int a = 1;
    int rv;

    memset(&t, 0, sizeof(t));
    t.timeout_ms = 15000;
    t.last_fenced = -1;
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (a + 1 < argc && strcmp(argv[a], "-t") == 0) {
        t.timeout_ms = (uint32_t)atoi(argv[a + 1]);
        a += 2;
    }
    if (argc - a < 2) {
        fprintf(stderr, "usage: ctltool [-t ms] host:port[,..] CMD [args]\n");
        return 64;
    }
    t.n_eps = rf_hostport_list_parse(argv[a], t.eps, MAX_EPS);
    if (t.n_eps < 1) {
        fprintf(stderr, "ctltool: bad endpoint list %s\n", argv[a]);
        return 64;
    }
    uv_loop_init(&t.loop);
    rv = run_cmd(&t, argc - a - 1, argv + a + 1);
    if (rv != 0) {
        fprintf(stderr, "ctltool: bad command\n");
        t.exit_code = 64;
    }
    uv_run(&t.loop, UV_RUN_DEFAULT);
    close_clients(&t);
    uv_run(&t.loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&t.loop) != 0) {
        fprintf(stderr, "ctltool: loop not closed\n");
        return 70;
    }
    return t.exit_code;
}
