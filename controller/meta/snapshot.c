/* snapshot.c: the image as a MetadataImage (snapshot, FetchMetadata full
 * image, hash) and its restore by replaying those records. */
#include <string.h>

#include "alloc.h"
#include "err.h"
#include "meta_int.h"

static void snap_brokers(const struct rf_meta_image *img,
                         Riffle__MetadataCommand *c)
{
    for (size_t i = 0; i < img->n_brokers; i++) {
        const struct meta_broker *b = &img->brokers[i];
        Riffle__RegisterBrokerRecord *r = rf__meta_cmd_add(
            c, RIFFLE__METADATA_RECORD__RECORD_REGISTER_BROKER);
        r->broker_id = b->id;
        rf__meta_bytes_set(&r->incarnation_id, b->inc.b, sizeof(b->inc.b));
        r->broker_epoch = b->epoch;
        r->endpoints = rf_malloc((b->n_endpoints + 1) * sizeof(*r->endpoints));
        for (size_t e = 0; e < b->n_endpoints; e++)
            r->endpoints[e] = rf__meta_endpoint_dup(b->endpoints[e]);
        r->n_endpoints = b->n_endpoints;
        r->rack = rf__meta_strdup(b->rack);
        r->fenced = b->state == RIFFLE__BROKER_STATE__BROKER_FENCED;
        if (b->state == RIFFLE__BROKER_STATE__BROKER_CONTROLLED_SHUTDOWN) {
            Riffle__BrokerRegistrationChangeRecord *ch = rf__meta_cmd_add(
                c, RIFFLE__METADATA_RECORD__RECORD_BROKER_CHANGE);
            ch->broker_id = b->id;
            ch->broker_epoch = b->epoch;
            ch->state = b->state;
        }
    }
}

static void snap_topic(const struct meta_topic *t, Riffle__MetadataCommand *c)
{
    Riffle__TopicRecord *tr =
        rf__meta_cmd_add(c, RIFFLE__METADATA_RECORD__RECORD_TOPIC);
    tr->name = rf__meta_strdup(t->name);
    rf__meta_bytes_set(&tr->topic_id, t->id.b, sizeof(t->id.b));
    for (size_t p = 0; p < t->n_parts; p++) {
        const struct meta_part *mp = &t->parts[p];
        Riffle__PartitionRecord *pr =
            rf__meta_cmd_add(c, RIFFLE__METADATA_RECORD__RECORD_PARTITION);
        rf__meta_bytes_set(&pr->topic_id, t->id.b, sizeof(t->id.b));
        pr->partition_id = (int32_t)p;
        pr->n_replicas = mp->n_replicas;
        pr->replicas = rf__meta_i32dup(mp->replicas, mp->n_replicas);
        pr->n_isr = mp->n_isr;
        pr->isr = rf__meta_i32dup(mp->isr, mp->n_isr);
        pr->leader = mp->leader;
        pr->leader_epoch = mp->leader_epoch;
        pr->partition_epoch = mp->partition_epoch;
        if (mp->n_target > 0) {
            pr->reassigning = true;
            pr->n_target_replicas = mp->n_target;
            pr->target_replicas = rf__meta_i32dup(mp->target, mp->n_target);
        }
    }
}

static void snap_misc(const struct rf_meta_image *img,
                      Riffle__MetadataCommand *c)
{
    if (img->has_cluster_id) {
        Riffle__ClusterIdRecord *r =
            rf__meta_cmd_add(c, RIFFLE__METADATA_RECORD__RECORD_CLUSTER_ID);
        rf__meta_bytes_set(&r->cluster_id, img->cluster_id.b, 16);
    }
    for (size_t i = 0; i < img->n_ctrls; i++) {
        Riffle__RegisterControllerRecord *r = rf__meta_cmd_add(
            c, RIFFLE__METADATA_RECORD__RECORD_REGISTER_CONTROLLER);
        r->node_id = img->ctrls[i]->node_id;
        r->raft_address = rf__meta_strdup(img->ctrls[i]->raft_address);
        if (img->ctrls[i]->rpc != NULL)
            r->rpc = rf__meta_endpoint_dup(img->ctrls[i]->rpc);
    }
    if (img->next_producer_id != 0) {
        Riffle__ProducerIdsRecord *r =
            rf__meta_cmd_add(c, RIFFLE__METADATA_RECORD__RECORD_PRODUCER_IDS);
        r->broker_id = -1;
        r->broker_epoch = -1;
        r->next_producer_id = img->next_producer_id;
    }
}

static void snap_configs(const struct rf_meta_image *img,
                         Riffle__MetadataCommand *c)
{
    for (size_t i = 0; i < img->n_configs; i++) {
        const struct meta_config *mc = &img->configs[i];
        Riffle__ConfigRecord *r =
            rf__meta_cmd_add(c, RIFFLE__METADATA_RECORD__RECORD_CONFIG);
        r->resource_type = (Riffle__ConfigResourceType)mc->type;
        r->resource_name = rf__meta_strdup(mc->resource);
        r->name = rf__meta_strdup(mc->name);
        r->value = rf__meta_strdup(mc->value);
    }
}

/* returns owned; free with rf__meta_pb_free */
static Riffle__MetadataImage *image_msg(const struct rf_meta_image *img)
{
    Riffle__MetadataCommand c = RIFFLE__METADATA_COMMAND__INIT;
    Riffle__MetadataImage *m = rf_malloc(sizeof(*m));
    riffle__metadata_image__init(m);
    m->offset = img->offset;
    snap_misc(img, &c);
    snap_brokers(img, &c);
    for (size_t i = 0; i < img->n_topics; i++)
        snap_topic(img->by_name[i], &c);
    snap_configs(img, &c);
    m->records = c.records;
    m->n_records = c.n_records;
    size_t n = (size_t)(img->recent_next - img->recent_head);
    m->recent_requests = rf_malloc((n + 1) * sizeof(*m->recent_requests));
    for (uint64_t s = img->recent_head; s < img->recent_next; s++) {
        const struct meta_recent *r = &img->recent[s % img->recent_max];
        Riffle__RecentRequest *rr = rf_malloc(sizeof(*rr));
        riffle__recent_request__init(rr);
        rf__meta_bytes_set(&rr->request_id, r->id, 16);
        rr->offset = r->offset;
        rr->result = r->result;
        m->recent_requests[m->n_recent_requests++] = rr;
    }
    return m;
}

int rf_meta_image_export(const struct rf_meta_image *img,
                         Riffle__FetchMetadataResponse *resp)
{
    if (resp->image != NULL)
        rf__meta_pb_free(&resp->image->base);
    resp->image = image_msg(img);
    resp->offset = img->offset;
    return 0;
}

int rf_meta_snapshot(const struct rf_meta_image *img, uint8_t **out,
                     size_t *len)
{
    Riffle__MetadataImage *m = image_msg(img);
    size_t n = riffle__metadata_image__get_packed_size(m);
    *out = rf_malloc(n == 0 ? 1 : n);
    *len = riffle__metadata_image__pack(m, *out);
    rf__meta_pb_free(&m->base);
    return 0;
}

uint64_t rf_meta_hash(const struct rf_meta_image *img)
{
    uint8_t *buf;
    size_t len;
    uint64_t h = 1469598103934665603ull;
    rf_meta_snapshot(img, &buf, &len);
    for (size_t i = 0; i < len; i++)
        h = (h ^ buf[i]) * 1099511628211ull;
    rf_free(buf);
    return h;
}

static int restore_recent(struct rf_meta_image *img,
                          const Riffle__MetadataImage *m)
{
    if (m->n_recent_requests > img->recent_max)
        return RF_ETOOBIG;
    for (size_t i = 0; i < m->n_recent_requests; i++) {
        const Riffle__RecentRequest *r = m->recent_requests[i];
        if (r->request_id.len != 16 ||
            rf_meta_request_result(img, r->request_id.data, NULL, NULL))
            return RF_EPARSE;
        rf__meta_recent_add(img, r->request_id.data, r->offset, r->result);
    }
    return 0;
}

/* Swap the whole state of a and b, keeping each one's history bounds. */
static void image_swap(struct rf_meta_image *a, struct rf_meta_image *b)
{
    struct rf_meta_image tmp = *a;
    *a = *b;
    *b = tmp;
    b->hist_max_cmds = a->hist_max_cmds;
    b->hist_max_bytes = a->hist_max_bytes;
    a->hist_max_cmds = tmp.hist_max_cmds;
    a->hist_max_bytes = tmp.hist_max_bytes;
}

int rf_meta_restore(struct rf_meta_image *img, const uint8_t *buf, size_t len)
{
    if (len > RF_META_MAX_COMMAND_BYTES * 4u)
        return RF_ETOOBIG;
    Riffle__MetadataImage *m =
        riffle__metadata_image__unpack(&rf__meta_pb_alloc, len, buf);
    if (m == NULL)
        return RF_EPARSE;
    int rc = RF_EPARSE;
    struct rf_meta_image *fresh = rf_meta_image_new();
    if (m->offset < 0)
        goto out;
    if (rf__meta_apply_records(fresh, m->offset, m->records, m->n_records,
                               true) != RIFFLE__ERROR_CODE__NONE)
        goto out;
    rc = restore_recent(fresh, m);
    if (rc != 0)
        goto out;
    fresh->offset = m->offset;
    fresh->hist_base = m->offset;
    image_swap(img, fresh);
out:
    rf_meta_image_free(fresh);
    rf__meta_pb_free(&m->base);
    return rc;
}
