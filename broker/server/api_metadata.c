/* api_metadata.c: Metadata 0-8 from the broker's local metadata image:
 * live brokers, this broker as controller_id (it forwards admin requests to
 * the controller quorum, as KRaft brokers do), topics with leaders,
 * replicas and ISR, and auto topic creation through the controller. */
#include <string.h>

#include "alloc.h"
#include "bmeta.h"
#include "err.h"
#include "kerr.h"
#include "log.h"
#include "meta.h"
#include "parts.h"
#include "server.h"

typedef struct rf_MetadataResponse_MetadataResponseTopic mtopic;
typedef struct rf_MetadataResponse_MetadataResponsePartition mpart;
typedef struct rf_MetadataResponse_MetadataResponseBroker mbroker;

static bool broker_live(const struct rf_meta_broker *mb)
{
    return mb->state != RIFFLE__BROKER_STATE__BROKER_FENCED;
}

static const Riffle__Endpoint *kafka_endpoint(const struct rf_meta_broker *mb)
{
    for (size_t i = 0; i < mb->n_endpoints; i++) {
        if (strcmp(mb->endpoints[i]->name, "PLAINTEXT") == 0)
            return mb->endpoints[i];
    }
    return NULL;
}

static int fill_brokers(struct rf_kreq *r, struct rf_MetadataResponse *resp)
{
    const struct rf_meta_image *img = rf_bmeta_image(r->b->bmeta);
    size_t n = rf_meta_broker_count(img), k = 0;
    struct rf_meta_broker mb;
    resp->Brokers.items = rf_kreq_alloc(r, (n + 1) * sizeof(mbroker));
    if (resp->Brokers.items == NULL)
        return -1;
    for (size_t i = 0; rf_meta_broker_at(img, i, &mb); i++) {
        const Riffle__Endpoint *ep = kafka_endpoint(&mb);
        if (!broker_live(&mb) || ep == NULL)
            continue;
        mbroker *o = &resp->Brokers.items[k++];
        o->NodeId = mb.id;
        o->Host = (struct rf_kstr){ep->host, (int32_t)strlen(ep->host)};
        o->Port = (int32_t)ep->port;
        o->Rack = (mb.rack && mb.rack[0])
                      ? (struct rf_kstr){mb.rack, (int32_t)strlen(mb.rack)}
                      : RF_KSTR_NULL;
    }
    resp->Brokers.count = (int32_t)k;
    return 0;
}

static bool replica_live(const struct rf_meta_image *img, int32_t id)
{
    struct rf_meta_broker mb;
    return rf_meta_broker_get(img, id, &mb) && broker_live(&mb);
}

static int fill_topic(struct rf_kreq *r, mtopic *t, const char *name,
                      struct rf_part *const *parts, size_t n)
{
    const struct rf_meta_image *img = rf_bmeta_image(r->b->bmeta);
    t->ErrorCode = RF_KERR_NONE;
    t->Name = (struct rf_kstr){name, (int32_t)strlen(name)};
    t->IsInternal = name[0] == '_' && name[1] == '_';
    t->TopicAuthorizedOperations = INT32_MIN;
    t->Partitions.items = rf_kreq_alloc(r, (n + 1) * sizeof(mpart));
    if (t->Partitions.items == NULL)
        return -1;
    t->Partitions.count = (int32_t)n;
    for (size_t i = 0; i < n; i++) {
        const struct rf_part *p = parts[i];
        mpart *o = &t->Partitions.items[i];
        size_t off = 0;
        o->PartitionIndex = p->index;
        o->LeaderId = p->leader;
        o->LeaderEpoch = p->leader_epoch;
        o->ErrorCode = p->leader < 0 || !replica_live(img, p->leader)
                           ? RF_KERR_LEADER_NOT_AVAILABLE
                           : RF_KERR_NONE;
        o->ReplicaNodes.items = (int32_t *)p->replicas;
        o->ReplicaNodes.count = (int32_t)p->n_replicas;
        o->IsrNodes.items = (int32_t *)p->isr;
        o->IsrNodes.count = (int32_t)p->n_isr;
        o->OfflineReplicas.items =
            rf_kreq_alloc(r, (p->n_replicas + 1) * sizeof(int32_t));
        if (o->OfflineReplicas.items == NULL)
            return -1;
        for (size_t j = 0; j < p->n_replicas; j++) {
            if (!replica_live(img, p->replicas[j]))
                o->OfflineReplicas.items[off++] = p->replicas[j];
        }
        o->OfflineReplicas.count = (int32_t)off;
    }
    return 0;
}

/* ---- auto topic creation: fire and forget through the controller ---- */

struct autocreate {
    struct rf_broker *b;
    char *name;
};

static void on_autocreate(void *data, int status, const Riffle__Envelope *resp)
{
    struct autocreate *ac = data;
    const Riffle__CreateTopicsResponse *cr =
        status == 0 && resp->body_case ==
                           RIFFLE__ENVELOPE__BODY_CREATE_TOPICS_RESP
            ? resp->create_topics_resp
            : NULL;
    if (cr == NULL || cr->n_topics != 1 ||
        (cr->topics[0]->error != RIFFLE__ERROR_CODE__NONE &&
         cr->topics[0]->error != RIFFLE__ERROR_CODE__TOPIC_ALREADY_EXISTS))
        RF_WARN("auto topic creation failed topic=%s err=%s code=%d",
                ac->name, rf_err_name(status),
                cr && cr->n_topics == 1 ? (int)cr->topics[0]->error : -1);
    else
        RF_INFO("auto-created topic topic=%s", ac->name);
    rf_free(ac->name);
    rf_free(ac);
}

static void autocreate(struct rf_broker *b, const char *name)
{
    Riffle__Envelope env = RIFFLE__ENVELOPE__INIT;
    Riffle__CreateTopicsRequest req = RIFFLE__CREATE_TOPICS_REQUEST__INIT;
    Riffle__CreatableTopic topic = RIFFLE__CREATABLE_TOPIC__INIT;
    Riffle__CreatableTopic *topics[1] = {&topic};
    struct rf_uuid rid;
    struct autocreate *ac = rf_calloc(1, sizeof *ac);
    ac->b = b;
    ac->name = rf_strdup(name);
    rf_uuid_generate(&rid);
    topic.name = ac->name;
    topic.num_partitions = (int32_t)b->conf->num_partitions;
    topic.replication_factor = (int32_t)b->conf->default_replication;
    req.request_id.data = rid.b;
    req.request_id.len = sizeof rid.b;
    req.topics = topics;
    req.n_topics = 1;
    env.body_case = RIFFLE__ENVELOPE__BODY_CREATE_TOPICS_REQ;
    env.create_topics_req = &req;
    if (rf_ctlclient_call(rf_bmeta_client(b->bmeta), &env, -1, 10000,
                          on_autocreate, ac) != 0) {
        rf_free(ac->name);
        rf_free(ac);
    }
}

static int fill_requested(struct rf_kreq *r,
                          const struct rf_MetadataRequest *req,
                          struct rf_MetadataResponse *resp, int16_t ver)
{
    struct rf_parts *ps = r->b->parts;
    bool allow = r->b->conf->auto_create_topics &&
                 (ver < 4 || req->AllowAutoTopicCreation);
    int32_t n = req->Topics.count;
    resp->Topics.items = rf_kreq_alloc(r, ((size_t)n + 1) * sizeof(mtopic));
    if (resp->Topics.items == NULL)
        return -1;
    resp->Topics.count = n;
    for (int32_t i = 0; i < n; i++) {
        mtopic *t = &resp->Topics.items[i];
        struct rf_kstr name = req->Topics.items[i].Name;
        char *cname = rf_kreq_strdup(r, name);
        size_t np;
        if (cname == NULL)
            return -1;
        t->Name = name;
        t->TopicAuthorizedOperations = INT32_MIN;
        np = (size_t)rf_parts_topic_partitions(ps, name.ptr,
                                               name.len > 0 ? (size_t)name.len
                                                            : 0);
        if (np > 0) {
            struct rf_part **parts = rf_kreq_alloc(r, np * sizeof *parts);
            if (parts == NULL)
                return -1;
            for (size_t j = 0; j < np; j++)
                parts[j] = rf_parts_get(ps, name.ptr, (size_t)name.len,
                                        (int32_t)j);
            if (fill_topic(r, t, cname, parts, np) != 0)
                return -1;
            continue;
        }
        if (!rf_meta_topic_name_valid(cname)) {
            t->ErrorCode = RF_KERR_INVALID_TOPIC_EXCEPTION;
        } else if (allow && !(cname[0] == '_' && cname[1] == '_')) {
            autocreate(r->b, cname);
            t->ErrorCode = RF_KERR_LEADER_NOT_AVAILABLE;
        } else {
            t->ErrorCode = RF_KERR_UNKNOWN_TOPIC_OR_PARTITION;
        }
    }
    return 0;
}

static int fill_all(struct rf_kreq *r, struct rf_MetadataResponse *resp)
{
    struct rf_parts *ps = r->b->parts;
    size_t n = rf_parts_topic_count(ps);
    const char *name;
    struct rf_part *const *parts;
    size_t np;
    resp->Topics.items = rf_kreq_alloc(r, (n + 1) * sizeof(mtopic));
    if (resp->Topics.items == NULL)
        return -1;
    resp->Topics.count = (int32_t)n;
    for (size_t i = 0; i < n && rf_parts_topic_at(ps, i, &name, &parts, &np);
         i++) {
        if (fill_topic(r, &resp->Topics.items[i], name, parts, np) != 0)
            return -1;
    }
    return 0;
}

void rf_api_metadata(struct rf_kreq *r)
{
    const struct rf_MetadataRequest *req = r->req.body;
    int16_t ver = r->req.hdr.RequestApiVersion;
    struct rf_MetadataResponse resp;
    int rv;
    rf_kmsg_init(&rf_MetadataResponse_msg, ver, &resp);
    resp.ControllerId = r->b->id;
    resp.ClusterId = r->b->cluster_id[0]
                         ? (struct rf_kstr){r->b->cluster_id,
                                            (int32_t)strlen(r->b->cluster_id)}
                         : RF_KSTR_NULL;
    resp.ClusterAuthorizedOperations = INT32_MIN;
    rv = fill_brokers(r, &resp);
    /* ControllerId must be a listed broker (clients look it up): this one
     * while it is live, else another live one (a restarted broker answers
     * before it is unfenced), -1 when none is. */
    if (rv == 0) {
        bool listed = false;
        for (int32_t i = 0; i < resp.Brokers.count; i++)
            listed |= resp.Brokers.items[i].NodeId == r->b->id;
        if (!listed)
            resp.ControllerId =
                resp.Brokers.count > 0 ? resp.Brokers.items[0].NodeId : -1;
    }
    /* v0: an empty list means all topics; v1+: null means all. */
    if (rv == 0) {
        if (req->Topics.count < 0 || (ver == 0 && req->Topics.count == 0))
            rv = fill_all(r, &resp);
        else
            rv = fill_requested(r, req, &resp, ver);
    }
    if (rv != 0) {
        rf_kreq_close(r);
        return;
    }
    rf_kreq_respond(r, &resp);
}
