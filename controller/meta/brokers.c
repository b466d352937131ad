/* brokers.c: builders for broker lifecycle (register, fence, unfence,
 * controlled shutdown), leader election, AlterPartition, preferred leaders,
 * controllers, cluster id and producer id blocks. */
#include <string.h>

#include "alloc.h"
#include "err.h"
#include "meta_int.h"

#define E_NONE RIFFLE__ERROR_CODE__NONE

static bool has(const int32_t *v, size_t n, int32_t x)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] == x)
            return true;
    return false;
}

static bool unfenced(const struct rf_meta_image *img, int32_t id)
{
    const struct meta_broker *b = rf__meta_broker_find(img, id);
    return b != NULL && b->state == RIFFLE__BROKER_STATE__BROKER_UNFENCED;
}

static Riffle__Status *status_new(Riffle__ErrorCode code, const char *msg)
{
    Riffle__Status *st = rf_malloc(sizeof(*st));
    riffle__status__init(st);
    st->code = code;
    st->message = rf_strdup(msg);
    st->leader_id = -1;
    return st;
}

static void set_status(Riffle__Status **st, Riffle__ErrorCode code,
                       const char *msg)
{
    if (*st != NULL)
        rf__meta_pb_free(&(*st)->base);
    *st = status_new(code, msg);
}

/* One PartitionChange: the partition's replicas, the new ISR and leader,
 * partition epoch + 1, leader epoch + 1 when the leader changes. */
static void add_change(Riffle__MetadataCommand *cmd, const struct meta_topic *t,
                       size_t p, const int32_t *isr, size_t n_isr,
                       int32_t leader)
{
    const struct meta_part *cur = &t->parts[p];
    Riffle__PartitionChangeRecord *r =
        rf__meta_cmd_add(cmd, RIFFLE__METADATA_RECORD__RECORD_PARTITION_CHANGE);
    rf__meta_bytes_set(&r->topic_id, t->id.b, sizeof(t->id.b));
    r->partition_id = (int32_t)p;
    r->n_replicas = cur->n_replicas;
    r->replicas = rf__meta_i32dup(cur->replicas, cur->n_replicas);
    r->n_isr = n_isr;
    r->isr = rf__meta_i32dup(isr, n_isr);
    r->leader = leader;
    r->leader_epoch = cur->leader_epoch + (leader != cur->leader);
    r->partition_epoch = cur->partition_epoch + 1;
    rf__meta_change_keep_target(r, cur);
}

static void add_broker_change(Riffle__MetadataCommand *cmd,
                              const struct meta_broker *b,
                              Riffle__BrokerState state)
{
    Riffle__BrokerRegistrationChangeRecord *r =
        rf__meta_cmd_add(cmd, RIFFLE__METADATA_RECORD__RECORD_BROKER_CHANGE);
    r->broker_id = b->id;
    r->broker_epoch = b->epoch;
    r->state = state;
}

/* First replica (in replica order) in isr, not `gone`, unfenced; -1. */
static int32_t elect(const struct rf_meta_image *img, const struct meta_part *p,
                     const int32_t *isr, size_t n_isr, int32_t gone)
{
    for (size_t i = 0; i < p->n_replicas; i++) {
        int32_t r = p->replicas[i];
        if (r != gone && (isr == NULL || has(isr, n_isr, r)) &&
            unfenced(img, r))
            return r;
    }
    return -1;
}

/* Take broker `id` out of one partition: drop it from the ISR (unless it is
 * the last member) and move its leadership inside the ISR. Fence: no
 * eligible leader gives -1 (or an unclean pick). Shutdown: the partition
 * is left alone when its leadership cannot move. */
static void evict_one(const struct rf_meta_image *img,
                      Riffle__MetadataCommand *cmd, const struct meta_topic *t,
                      size_t p, int32_t id, bool shutdown, bool unclean)
{
    const struct meta_part *cur = &t->parts[p];
    bool in_isr = has(cur->isr, cur->n_isr, id), leads = cur->leader == id;
    int32_t isr[RF_META_MAX_REPLICAS], leader = cur->leader;
    size_t n_isr = 0;
    if (!in_isr && !leads)
        return;
    for (size_t i = 0; i < cur->n_isr; i++)
        if (cur->isr[i] != id)
            isr[n_isr++] = cur->isr[i];
    if (n_isr == 0)
        isr[n_isr++] = id; /* never empty: KRaft keeps the last member */
    if (leads) {
        leader = elect(img, cur, isr, n_isr, id);
        if (leader == -1 && shutdown)
            return;
        if (leader == -1 && unclean &&
            (leader = elect(img, cur, NULL, 0, id)) != -1) {
            isr[0] = leader;
            n_isr = 1;
        }
    }
    if (leader == cur->leader && n_isr == cur->n_isr)
        return; /* the ISR kept only `id`: nothing changes */
    add_change(cmd, t, p, isr, n_isr, leader);
}

static void evict_all(const struct rf_meta_image *img,
                      Riffle__MetadataCommand *cmd, int32_t id, bool shutdown,
                      bool unclean)
{
    for (size_t i = 0; i < img->n_topics; i++) {
        const struct meta_topic *t = img->by_name[i];
        for (size_t p = 0; p < t->n_parts; p++)
            evict_one(img, cmd, t, p, id, shutdown, unclean);
    }
}

/* ---- registration and fencing ---- */

static bool endpoints_ok(const Riffle__RegisterBrokerRequest *req)
{
    if (req->n_endpoints > RF_META_MAX_ENDPOINTS || req->rack == NULL ||
        strlen(req->rack) > RF_META_MAX_STR)
        return false;
    for (size_t i = 0; i < req->n_endpoints; i++) {
        const Riffle__Endpoint *e = req->endpoints[i];
        if (strlen(e->name) > RF_META_MAX_STR ||
            strlen(e->host) > RF_META_MAX_STR || e->port > 65535)
            return false;
    }
    return true;
}

int rf_meta_build_register_broker(const struct rf_meta_image *img,
                                  const Riffle__RegisterBrokerRequest *req,
                                  bool alive_other,
                                  Riffle__MetadataCommand *cmd,
                                  Riffle__RegisterBrokerResponse *resp)
{
    struct rf_uuid inc;
    if (req->broker_id < 0 || !rf__meta_uuid_from(&req->incarnation_id, &inc) ||
        !endpoints_ok(req)) {
        set_status(&resp->status, RIFFLE__ERROR_CODE__INVALID_REQUEST,
                   "bad broker id, incarnation id or endpoints");
        return RF_ENOENT;
    }
    const struct meta_broker *old = rf__meta_broker_find(img, req->broker_id);
    if (old != NULL && alive_other && !rf_uuid_equal(&old->inc, &inc) &&
        old->state != RIFFLE__BROKER_STATE__BROKER_FENCED) {
        set_status(&resp->status, RIFFLE__ERROR_CODE__DUPLICATE_BROKER,
                   "broker id held by a live incarnation");
        return RF_ENOENT;
    }
    rf__meta_bytes_set(&cmd->request_id, req->request_id.data,
                       req->request_id.len);
    Riffle__RegisterBrokerRecord *r =
        rf__meta_cmd_add(cmd, RIFFLE__METADATA_RECORD__RECORD_REGISTER_BROKER);
    r->broker_id = req->broker_id;
    rf__meta_bytes_set(&r->incarnation_id, inc.b, sizeof(inc.b));
    r->broker_epoch = 0; /* apply sets it to the Raft index */
    r->endpoints = rf_malloc((req->n_endpoints + 1) * sizeof(*r->endpoints));
    for (size_t i = 0; i < req->n_endpoints; i++)
        r->endpoints[i] = rf__meta_endpoint_dup(req->endpoints[i]);
    r->n_endpoints = req->n_endpoints;
    r->rack = rf_strdup(req->rack);
    r->fenced = true;
    if (old != NULL && old->state != RIFFLE__BROKER_STATE__BROKER_FENCED)
        evict_all(img, cmd, old->id, false, false);
    return 0;
}

int rf_meta_build_fence(const struct rf_meta_image *img,
                        const struct rf_meta_defaults *defs, int32_t broker_id,
                        Riffle__MetadataCommand *cmd)
{
    const struct meta_broker *b = rf__meta_broker_find(img, broker_id);
    if (b == NULL || b->state == RIFFLE__BROKER_STATE__BROKER_FENCED)
        return RF_ENOENT;
    add_broker_change(cmd, b, RIFFLE__BROKER_STATE__BROKER_FENCED);
    evict_all(img, cmd, broker_id, false, defs->unclean_leader_election);
    return 0;
}

int rf_meta_build_unfence(const struct rf_meta_image *img, int32_t broker_id,
                          Riffle__MetadataCommand *cmd)
{
    const struct meta_broker *b = rf__meta_broker_find(img, broker_id);
    if (b == NULL || b->state != RIFFLE__BROKER_STATE__BROKER_FENCED)
        return RF_ENOENT;
    add_broker_change(cmd, b, RIFFLE__BROKER_STATE__BROKER_UNFENCED);
    for (size_t i = 0; i < img->n_topics; i++) {
        const struct meta_topic *t = img->by_name[i];
        for (size_t p = 0; p < t->n_parts; p++) {
            const struct meta_part *cur = &t->parts[p];
            if (cur->leader == -1 && has(cur->isr, cur->n_isr, broker_id))
                add_change(cmd, t, p, cur->isr, cur->n_isr, broker_id);
        }
    }
    return 0;
}

int rf_meta_build_controlled_shutdown(const struct rf_meta_image *img,
                                      int32_t broker_id,
                                      Riffle__MetadataCommand *cmd)
{
    const struct meta_broker *b = rf__meta_broker_find(img, broker_id);
    if (b == NULL || b->state == RIFFLE__BROKER_STATE__BROKER_FENCED)
        return RF_ENOENT;
    if (b->state == RIFFLE__BROKER_STATE__BROKER_UNFENCED)
        add_broker_change(cmd, b,
                          RIFFLE__BROKER_STATE__BROKER_CONTROLLED_SHUTDOWN);
    evict_all(img, cmd, broker_id, true, false);
    return cmd->n_records > 0 ? 0 : RF_ENOENT;
}

/* ---- AlterPartition ---- */

static Riffle__AlterPartitionResult *
alter_result(const Riffle__AlterPartitionItem *it, const struct meta_part *cur)
{
    Riffle__AlterPartitionResult *r = rf_malloc(sizeof(*r));
    riffle__alter_partition_result__init(r);
    rf__meta_bytes_set(&r->topic_id, it->topic_id.data, it->topic_id.len);
    r->partition = it->partition;
    if (cur != NULL) {
        r->leader = cur->leader;
        r->leader_epoch = cur->leader_epoch;
        r->partition_epoch = cur->partition_epoch;
        r->n_isr = cur->n_isr;
        r->isr = rf__meta_i32dup(cur->isr, cur->n_isr);
    }
    return r;
}

static int check_new_isr(const struct rf_meta_image *img,
                         const struct meta_part *cur,
                         const Riffle__AlterPartitionItem *it)
{
    if (it->n_new_isr == 0 || it->n_new_isr > cur->n_replicas ||
        !has(it->new_isr, it->n_new_isr, cur->leader))
        return RIFFLE__ERROR_CODE__INVALID_REQUEST;
    for (size_t i = 0; i < it->n_new_isr; i++) {
        int32_t r = it->new_isr[i];
        if (has(it->new_isr, i, r))
            return RIFFLE__ERROR_CODE__INVALID_REQUEST;
        if (!has(cur->replicas, cur->n_replicas, r) ||
            (r != cur->leader && !unfenced(img, r)))
            return RIFFLE__ERROR_CODE__INELIGIBLE_REPLICA;
    }
    return E_NONE;
}

static bool item_earlier(const Riffle__AlterPartitionRequest *req, size_t i)
{
    const Riffle__AlterPartitionItem *it = req->partitions[i];
    for (size_t j = 0; j < i; j++) {
        const Riffle__AlterPartitionItem *o = req->partitions[j];
        if (o->partition == it->partition &&
            o->topic_id.len == it->topic_id.len &&
            (it->topic_id.len == 0 ||
             memcmp(o->topic_id.data, it->topic_id.data, it->topic_id.len) ==
                 0))
            return true;
    }
    return false;
}

static int alter_one(const struct rf_meta_image *img,
                     const Riffle__AlterPartitionRequest *req, size_t i,
                     const struct meta_topic **tout,
                     const struct meta_part **pout)
{
    const Riffle__AlterPartitionItem *it = req->partitions[i];
    struct rf_uuid id;
    *tout = NULL;
    *pout = NULL;
    if (!rf__meta_uuid_from(&it->topic_id, &id) ||
        (*tout = rf__meta_topic_by_id(img, &id)) == NULL)
        return RIFFLE__ERROR_CODE__UNKNOWN_TOPIC;
    if (it->partition < 0 || (size_t)it->partition >= (*tout)->n_parts)
        return RIFFLE__ERROR_CODE__UNKNOWN_PARTITION;
    const struct meta_part *cur = *pout = &(*tout)->parts[it->partition];
    if (item_earlier(req, i))
        return RIFFLE__ERROR_CODE__INVALID_REQUEST;
    if (cur->leader != req->broker_id)
        return RIFFLE__ERROR_CODE__NOT_LEADER;
    if (it->leader_epoch != cur->leader_epoch)
        return RIFFLE__ERROR_CODE__FENCED_LEADER_EPOCH;
    if (it->partition_epoch != cur->partition_epoch)
        return RIFFLE__ERROR_CODE__INVALID_UPDATE_VERSION;
    return check_new_isr(img, cur, it);
}

int rf_meta_build_alter_partition(const struct rf_meta_image *img,
                                  const Riffle__AlterPartitionRequest *req,
                                  Riffle__MetadataCommand *cmd,
                                  Riffle__AlterPartitionResponse *resp)
{
    const struct meta_broker *b = rf__meta_broker_find(img, req->broker_id);
    if (b == NULL || b->epoch != req->broker_epoch) {
        set_status(&resp->status,
                   b == NULL ? RIFFLE__ERROR_CODE__UNKNOWN_BROKER
                             : RIFFLE__ERROR_CODE__STALE_BROKER_EPOCH,
                   b == NULL ? "unknown broker" : "stale broker epoch");
        return RF_ENOENT;
    }
    rf__meta_bytes_set(&cmd->request_id, req->request_id.data,
                       req->request_id.len);
    resp->partitions =
        rf_malloc((req->n_partitions + 1) * sizeof(*resp->partitions));
    resp->n_partitions = 0;
    for (size_t i = 0; i < req->n_partitions; i++) {
        const Riffle__AlterPartitionItem *it = req->partitions[i];
        const struct meta_topic *t;
        const struct meta_part *cur;
        int rc = alter_one(img, req, i, &t, &cur);
        Riffle__AlterPartitionResult *res = alter_result(it, cur);
        resp->partitions[resp->n_partitions++] = res;
        res->error = (Riffle__ErrorCode)rc;
        if (rc != E_NONE ||
            (it->n_new_isr == cur->n_isr &&
             memcmp(it->new_isr, cur->isr, cur->n_isr * sizeof(int32_t)) == 0))
            continue;
        add_change(cmd, t, (size_t)it->partition, it->new_isr, it->n_new_isr,
                   cur->leader);
        res->partition_epoch = cur->partition_epoch + 1;
        rf_free(res->isr);
        res->n_isr = it->n_new_isr;
        res->isr = rf__meta_i32dup(it->new_isr, it->n_new_isr);
    }
    return cmd->n_records > 0 ? 0 : RF_ENOENT;
}

/* ---- preferred leaders, controllers, cluster id, producer ids ---- */

int rf_meta_build_preferred_leaders(const struct rf_meta_image *img,
                                    Riffle__MetadataCommand *cmd)
{
    for (size_t i = 0; i < img->n_topics; i++) {
        const struct meta_topic *t = img->by_name[i];
        for (size_t p = 0; p < t->n_parts; p++) {
            const struct meta_part *cur = &t->parts[p];
            int32_t pref = cur->replicas[0];
            if (cur->leader != pref && has(cur->isr, cur->n_isr, pref) &&
                unfenced(img, pref))
                add_change(cmd, t, p, cur->isr, cur->n_isr, pref);
        }
    }
    return cmd->n_records > 0 ? 0 : RF_ENOENT;
}

static bool endpoint_eq(const Riffle__Endpoint *a, const Riffle__Endpoint *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    return strcmp(a->name, b->name) == 0 && strcmp(a->host, b->host) == 0 &&
           a->port == b->port;
}

int rf_meta_build_register_controller(
    const struct rf_meta_image *img,
    const Riffle__RegisterControllerRequest *req, Riffle__MetadataCommand *cmd)
{
    const Riffle__RegisterControllerRecord *old =
        rf_meta_controller_get(img, req->node_id);
    if (old != NULL && strcmp(old->raft_address, req->raft_address) == 0 &&
        endpoint_eq(old->rpc, req->rpc))
        return RF_ENOENT;
    Riffle__RegisterControllerRecord *r = rf__meta_cmd_add(
        cmd, RIFFLE__METADATA_RECORD__RECORD_REGISTER_CONTROLLER);
    r->node_id = req->node_id;
    r->raft_address = rf__meta_strdup(req->raft_address);
    if (req->rpc != NULL)
        r->rpc = rf__meta_endpoint_dup(req->rpc);
    return 0;
}

int rf_meta_build_cluster_id(const struct rf_meta_image *img,
                             Riffle__MetadataCommand *cmd)
{
    struct rf_uuid id;
    if (img->has_cluster_id)
        return RF_ENOENT;
    do
        rf_uuid_generate(&id);
    while (rf_uuid_is_zero(&id));
    Riffle__ClusterIdRecord *r =
        rf__meta_cmd_add(cmd, RIFFLE__METADATA_RECORD__RECORD_CLUSTER_ID);
    rf__meta_bytes_set(&r->cluster_id, id.b, sizeof(id.b));
    return 0;
}

int rf_meta_build_producer_ids(const struct rf_meta_image *img,
                               int32_t broker_id, int64_t broker_epoch,
                               int64_t block_size, Riffle__MetadataCommand *cmd,
                               int64_t *first_id)
{
    const struct meta_broker *b = rf__meta_broker_find(img, broker_id);
    if (b == NULL)
        return RF_ENOENT;
    if (b->epoch != broker_epoch)
        return RF_ESTALE;
    if (block_size < 1 || img->next_producer_id > INT64_MAX - block_size)
        return RF_ERANGE;
    Riffle__ProducerIdsRecord *r =
        rf__meta_cmd_add(cmd, RIFFLE__METADATA_RECORD__RECORD_PRODUCER_IDS);
    r->broker_id = broker_id;
    r->broker_epoch = broker_epoch;
    r->next_producer_id = img->next_producer_id + block_size;
    *first_id = img->next_producer_id;
    return 0;
}

void rf_meta_command_free(Riffle__MetadataCommand *cmd)
{
    rf__meta_pb_free_fields(&cmd->base);
    riffle__metadata_command__init(cmd);
}

int32_t rf_meta_movable_leaderships(const struct rf_meta_image *img,
                                    int32_t broker_id)
{
    int32_t n = 0;
    for (size_t i = 0; i < img->n_topics; i++) {
        const struct meta_topic *t = img->by_name[i];
        for (size_t p = 0; p < t->n_parts; p++) {
            const struct meta_part *mp = &t->parts[p];
            if (mp->leader != broker_id)
                continue;
            for (uint32_t k = 0; k < mp->n_isr; k++) {
                if (mp->isr[k] != broker_id && unfenced(img, mp->isr[k])) {
                    n++;
                    break;
                }
            }
        }
    }
    return n;
}
