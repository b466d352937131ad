/* image.c: the metadata image's containers (brokers, controllers, topics,
 * configs), request-id dedup, command history, and the read-only queries. */
#include <string.h>

#include "alloc.h"
#include "err.h"
#include "meta_int.h"

struct rf_meta_image *rf_meta_image_new(void)
{
    struct rf_meta_image *img = rf_calloc(1, sizeof(*img));
    img->recent_max = RF_META_RECENT_MAX;
    img->hist_max_cmds = RF_META_HIST_MAX_CMDS;
    img->hist_max_bytes = RF_META_HIST_MAX_BYTES;
    return img;
}

void rf__meta_broker_clear(struct meta_broker *b)
{
    for (size_t i = 0; i < b->n_endpoints; i++)
        rf__meta_pb_free(&b->endpoints[i]->base);
    rf_free(b->endpoints);
    rf_free(b->rack);
    memset(b, 0, sizeof(*b));
}

void rf__meta_part_clear(struct meta_part *p)
{
    rf_free(p->replicas);
    rf_free(p->isr);
    rf_free(p->target);
    memset(p, 0, sizeof(*p));
}

void rf__meta_topic_free(struct meta_topic *t)
{
    for (size_t i = 0; i < t->n_parts; i++)
        rf__meta_part_clear(&t->parts[i]);
    rf_free(t->parts);
    rf_free(t->name);
    rf_free(t);
}

static void hist_clear(struct rf_meta_image *img)
{
    for (size_t i = 0; i < img->hist_count; i++)
        rf_free(img->hist[(img->hist_head + i) % img->hist_cap].bytes);
    rf_free(img->hist);
    img->hist = NULL;
    img->hist_cap = img->hist_head = img->hist_count = img->hist_bytes = 0;
}

void rf_meta_image_free(struct rf_meta_image *img)
{
    if (img == NULL)
        return;
    for (size_t i = 0; i < img->n_brokers; i++)
        rf__meta_broker_clear(&img->brokers[i]);
    rf_free(img->brokers);
    for (size_t i = 0; i < img->n_ctrls; i++)
        rf__meta_pb_free(&img->ctrls[i]->base);
    rf_free(img->ctrls);
    for (size_t i = 0; i < img->n_topics; i++)
        rf__meta_topic_free(img->by_name[i]);
    rf_free(img->by_name);
    rf_free(img->by_id);
    for (size_t i = 0; i < img->n_configs; i++) {
        rf_free(img->configs[i].resource);
        rf_free(img->configs[i].name);
        rf_free(img->configs[i].value);
    }
    rf_free(img->configs);
    rf_free(img->recent);
    rf_free(img->rindex);
    hist_clear(img);
    rf_free(img);
}

int64_t rf_meta_offset(const struct rf_meta_image *img)
{
    return img->offset;
}

void rf_meta_advance(struct rf_meta_image *img, int64_t offset)
{
    if (offset > img->offset)
        img->offset = offset;
}

bool rf__meta_is_internal(const char *name)
{
    return strncmp(name, "__", 2) == 0;
}

/* ---- sorted containers ---- */

size_t rf__meta_broker_pos(const struct rf_meta_image *img, int32_t id)
{
    size_t lo = 0, hi = img->n_brokers;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (img->brokers[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

struct meta_broker *rf__meta_broker_find(const struct rf_meta_image *img,
                                         int32_t id)
{
    size_t i = rf__meta_broker_pos(img, id);
    if (i < img->n_brokers && img->brokers[i].id == id)
        return &img->brokers[i];
    return NULL;
}

size_t rf__meta_topic_pos_name(const struct rf_meta_image *img,
                               const char *name)
{
    size_t lo = 0, hi = img->n_topics;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(img->by_name[mid]->name, name) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

size_t rf__meta_topic_pos_id(const struct rf_meta_image *img,
                             const struct rf_uuid *id)
{
    size_t lo = 0, hi = img->n_topics;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (memcmp(img->by_id[mid]->id.b, id->b, sizeof(id->b)) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

struct meta_topic *rf__meta_topic_by_name(const struct rf_meta_image *img,
                                          const char *name)
{
    size_t i = rf__meta_topic_pos_name(img, name);
    if (i < img->n_topics && strcmp(img->by_name[i]->name, name) == 0)
        return img->by_name[i];
    return NULL;
}

struct meta_topic *rf__meta_topic_by_id(const struct rf_meta_image *img,
                                        const struct rf_uuid *id)
{
    size_t i = rf__meta_topic_pos_id(img, id);
    if (i < img->n_topics && rf_uuid_equal(&img->by_id[i]->id, id))
        return img->by_id[i];
    return NULL;
}

static void ptr_insert(struct meta_topic **arr, size_t n, size_t pos,
                       struct meta_topic *t)
{
    memmove(&arr[pos + 1], &arr[pos], (n - pos) * sizeof(*arr));
    arr[pos] = t;
}

static void ptr_remove(struct meta_topic **arr, size_t n, size_t pos)
{
    memmove(&arr[pos], &arr[pos + 1], (n - pos - 1) * sizeof(*arr));
}

void rf__meta_topic_insert(struct rf_meta_image *img, struct meta_topic *t)
{
    if (img->n_topics == img->cap_topics) {
        img->cap_topics = img->cap_topics ? img->cap_topics * 2 : 16;
        img->by_name =
            rf_realloc(img->by_name, img->cap_topics * sizeof(*img->by_name));
        img->by_id =
            rf_realloc(img->by_id, img->cap_topics * sizeof(*img->by_id));
    }
    ptr_insert(img->by_name, img->n_topics,
               rf__meta_topic_pos_name(img, t->name), t);
    ptr_insert(img->by_id, img->n_topics, rf__meta_topic_pos_id(img, &t->id),
               t);
    img->n_topics++;
}

void rf__meta_topic_unlink(struct rf_meta_image *img, struct meta_topic *t)
{
    ptr_remove(img->by_name, img->n_topics,
               rf__meta_topic_pos_name(img, t->name));
    ptr_remove(img->by_id, img->n_topics, rf__meta_topic_pos_id(img, &t->id));
    img->n_topics--;
}

static int config_cmp(const struct meta_config *c, int32_t type,
                      const char *resource, const char *name)
{
    if (c->type != type)
        return c->type < type ? -1 : 1;
    int r = strcmp(c->resource, resource);
    return r != 0 ? r : strcmp(c->name, name);
}

size_t rf__meta_config_pos(const struct rf_meta_image *img, int32_t type,
                           const char *resource, const char *name, bool *found)
{
    size_t lo = 0, hi = img->n_configs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (config_cmp(&img->configs[mid], type, resource, name) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = lo < img->n_configs &&
             config_cmp(&img->configs[lo], type, resource, name) == 0;
    return lo;
}

size_t rf__meta_ctrl_pos(const struct rf_meta_image *img, int32_t node_id,
                         bool *found)
{
    size_t lo = 0, hi = img->n_ctrls;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (img->ctrls[mid]->node_id < node_id)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = lo < img->n_ctrls && img->ctrls[lo]->node_id == node_id;
    return lo;
}

/* ---- request-id dedup ---- */

static uint64_t id_hash(const uint8_t id[16])
{
    uint64_t h = 1469598103934665603ull;
    for (int i = 0; i < 16; i++)
        h = (h ^ id[i]) * 1099511628211ull;
    return h;
}

static struct meta_recent *recent_at(const struct rf_meta_image *img,
                                     uint64_t seq)
{
    return &img->recent[seq % img->recent_max];
}

/* Slot of id in the index, or of the empty slot where it would go. */
static size_t rindex_slot(const struct rf_meta_image *img, const uint8_t id[16])
{
    size_t mask = img->rindex_cap - 1;
    size_t i = (size_t)id_hash(id) & mask;
    while (img->rindex[i] != 0 &&
           memcmp(recent_at(img, img->rindex[i] - 1)->id, id, 16) != 0)
        i = (i + 1) & mask;
    return i;
}

static void rindex_grow(struct rf_meta_image *img)
{
    rf_free(img->rindex);
    img->rindex_cap = img->rindex_cap ? img->rindex_cap * 2 : 64;
    img->rindex = rf_calloc(img->rindex_cap, sizeof(*img->rindex));
    for (uint64_t s = img->recent_head; s < img->recent_next; s++)
        img->rindex[rindex_slot(img, recent_at(img, s)->id)] = s + 1;
}

/* Backward-shift deletion keeps linear probing correct without tombstones. */
static void rindex_remove(struct rf_meta_image *img, const uint8_t id[16])
{
    size_t mask = img->rindex_cap - 1;
    size_t i = rindex_slot(img, id);
    if (img->rindex[i] == 0)
        return;
    size_t j = i;
    for (;;) {
        j = (j + 1) & mask;
        if (img->rindex[j] == 0)
            break;
        size_t home =
            (size_t)id_hash(recent_at(img, img->rindex[j] - 1)->id) & mask;
        /* move j back to i unless its home lies cyclically in (i, j] */
        bool in_range =
            i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (!in_range) {
            img->rindex[i] = img->rindex[j];
            i = j;
        }
    }
    img->rindex[i] = 0;
}

void rf__meta_recent_add(struct rf_meta_image *img, const uint8_t id[16],
                         int64_t offset, int32_t result)
{
    if (img->recent_next - img->recent_head == img->recent_max) {
        rindex_remove(img, recent_at(img, img->recent_head)->id);
        img->recent_head++;
    }
    size_t count = (size_t)(img->recent_next - img->recent_head) + 1;
    if (img->recent_alloc < img->recent_max && count > img->recent_alloc) {
        size_t n = img->recent_alloc ? img->recent_alloc * 2 : 64;
        img->recent_alloc = n < img->recent_max ? n : img->recent_max;
        img->recent =
            rf_realloc(img->recent, img->recent_alloc * sizeof(*img->recent));
    }
    if (count * 2 > img->rindex_cap) {
        /* new entry is not in the ring yet: grow before writing it */
        rindex_grow(img);
    }
    struct meta_recent *r = recent_at(img, img->recent_next);
    memcpy(r->id, id, 16);
    r->offset = offset;
    r->result = result;
    img->rindex[rindex_slot(img, id)] = img->recent_next + 1;
    img->recent_next++;
}

bool rf_meta_request_result(const struct rf_meta_image *img,
                            const uint8_t request_id[16], int *result,
                            int64_t *offset)
{
    if (img->rindex_cap == 0)
        return false;
    size_t i = rindex_slot(img, request_id);
    if (img->rindex[i] == 0)
        return false;
    const struct meta_recent *r = recent_at(img, img->rindex[i] - 1);
    if (result != NULL)
        *result = r->result;
    if (offset != NULL)
        *offset = r->offset;
    return true;
}

/* ---- history ---- */

void rf__meta_set_history_limits(struct rf_meta_image *img, size_t max_cmds,
                                 size_t max_bytes)
{
    img->hist_max_cmds = max_cmds > 0 ? max_cmds : 1;
    img->hist_max_bytes = max_bytes;
}

static void hist_drop_oldest(struct rf_meta_image *img)
{
    struct meta_hist *h = &img->hist[img->hist_head];
    img->hist_base = h->offset;
    img->hist_bytes -= h->len;
    rf_free(h->bytes);
    img->hist_head = (img->hist_head + 1) % img->hist_cap;
    img->hist_count--;
}

void rf__meta_hist_add(struct rf_meta_image *img, int64_t offset,
                       const uint8_t *bytes, size_t len)
{
    if (img->hist_count == img->hist_cap) {
        size_t cap = img->hist_cap ? img->hist_cap * 2 : 64;
        struct meta_hist *n = rf_malloc(cap * sizeof(*n));
        for (size_t i = 0; i < img->hist_count; i++)
            n[i] = img->hist[(img->hist_head + i) % img->hist_cap];
        rf_free(img->hist);
        img->hist = n;
        img->hist_cap = cap;
        img->hist_head = 0;
    }
    struct meta_hist *h =
        &img->hist[(img->hist_head + img->hist_count) % img->hist_cap];
    h->offset = offset;
    h->len = len;
    h->bytes = rf_malloc(len == 0 ? 1 : len);
    if (len > 0)
        memcpy(h->bytes, bytes, len);
    img->hist_count++;
    img->hist_bytes += len;
    while (img->hist_count > img->hist_max_cmds ||
           (img->hist_bytes > img->hist_max_bytes && img->hist_count > 0))
        hist_drop_oldest(img);
}

static const struct meta_hist *hist_at(const struct rf_meta_image *img,
                                       size_t i)
{
    return &img->hist[(img->hist_head + i) % img->hist_cap];
}

/* First history entry with offset > since (binary search; offsets rise). */
static size_t hist_first_after(const struct rf_meta_image *img, int64_t since)
{
    size_t lo = 0, hi = img->hist_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (hist_at(img, mid)->offset <= since)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void delta_append(Riffle__FetchMetadataResponse *resp,
                         const struct meta_hist *h)
{
    Riffle__MetadataCommand *cmd =
        riffle__metadata_command__unpack(&rf__meta_pb_alloc, h->len, h->bytes);
    Riffle__MetadataDelta *d = rf_malloc(sizeof(*d));
    riffle__metadata_delta__init(d);
    d->offset = h->offset;
    if (cmd != NULL) { /* history holds only commands that unpacked */
        d->records = cmd->records;
        d->n_records = cmd->n_records;
        cmd->records = NULL;
        cmd->n_records = 0;
        rf__meta_pb_free(&cmd->base);
    }
    resp->deltas =
        rf__meta_grow(resp->deltas, resp->n_deltas, sizeof(*resp->deltas));
    resp->deltas[resp->n_deltas++] = d;
}

int rf_meta_deltas_since(const struct rf_meta_image *img, int64_t since_offset,
                         size_t max_bytes, Riffle__FetchMetadataResponse *resp)
{
    if (since_offset >= img->offset) {
        resp->offset = img->offset;
        return 0;
    }
    if (since_offset < img->hist_base)
        return RF_ERANGE;
    size_t bytes = 0;
    for (size_t i = hist_first_after(img, since_offset); i < img->hist_count;
         i++) {
        const struct meta_hist *h = hist_at(img, i);
        if (resp->n_deltas > 0 && bytes + h->len > max_bytes) {
            resp->offset = hist_at(img, i - 1)->offset;
            return 0;
        }
        delta_append(resp, h);
        bytes += h->len;
    }
    resp->offset = img->offset;
    return 0;
}

void rf_meta_response_free(ProtobufCMessage *msg)
{
    rf__meta_pb_free_fields(msg);
    msg->descriptor->message_init(msg);
}

void rf_meta_deltas_free(Riffle__FetchMetadataResponse *resp)
{
    rf_meta_response_free(&resp->base);
}

/* ---- queries ---- */

static void broker_view(const struct meta_broker *b, struct rf_meta_broker *out)
{
    out->id = b->id;
    out->epoch = b->epoch;
    out->state = b->state;
    out->incarnation = b->inc;
    out->rack = b->rack;
    out->n_endpoints = b->n_endpoints;
    out->endpoints = b->endpoints;
}

size_t rf_meta_broker_count(const struct rf_meta_image *img)
{
    return img->n_brokers;
}

bool rf_meta_broker_at(const struct rf_meta_image *img, size_t i,
                       struct rf_meta_broker *out)
{
    if (i >= img->n_brokers)
        return false;
    broker_view(&img->brokers[i], out);
    return true;
}

bool rf_meta_broker_get(const struct rf_meta_image *img, int32_t id,
                        struct rf_meta_broker *out)
{
    const struct meta_broker *b = rf__meta_broker_find(img, id);
    if (b == NULL)
        return false;
    broker_view(b, out);
    return true;
}

const Riffle__RegisterControllerRecord *
rf_meta_controller_get(const struct rf_meta_image *img, int32_t node_id)
{
    bool found;
    size_t i = rf__meta_ctrl_pos(img, node_id, &found);
    return found ? img->ctrls[i] : NULL;
}

size_t rf_meta_controller_count(const struct rf_meta_image *img)
{
    return img->n_ctrls;
}

const Riffle__RegisterControllerRecord *
rf_meta_controller_at(const struct rf_meta_image *img, size_t i)
{
    return i < img->n_ctrls ? img->ctrls[i] : NULL;
}

void rf_meta_cluster_id(const struct rf_meta_image *img, struct rf_uuid *out)
{
    if (img->has_cluster_id)
        *out = img->cluster_id;
    else
        memset(out, 0, sizeof(*out));
}

int64_t rf_meta_next_producer_id(const struct rf_meta_image *img)
{
    return img->next_producer_id;
}

int32_t rf_meta_leaderships(const struct rf_meta_image *img, int32_t broker_id)
{
    int32_t n = 0;
    for (size_t i = 0; i < img->n_topics; i++) {
        const struct meta_topic *t = img->by_name[i];
        for (size_t p = 0; p < t->n_parts; p++)
            n += t->parts[p].leader == broker_id;
    }
    return n;
}

size_t rf_meta_topic_count(const struct rf_meta_image *img)
{
    return img->n_topics;
}

static void topic_view(const struct meta_topic *t, struct rf_meta_topic *out)
{
    out->name = t->name;
    out->id = t->id;
    out->n_partitions = (int32_t)t->n_parts;
    out->internal = rf__meta_is_internal(t->name);
}

bool rf_meta_topic_at(const struct rf_meta_image *img, size_t i,
                      struct rf_meta_topic *out)
{
    if (i >= img->n_topics)
        return false;
    topic_view(img->by_name[i], out);
    return true;
}

bool rf_meta_topic_get(const struct rf_meta_image *img, const char *name,
                       struct rf_meta_topic *out)
{
    const struct meta_topic *t = rf__meta_topic_by_name(img, name);
    if (t == NULL)
        return false;
    topic_view(t, out);
    return true;
}

bool rf_meta_topic_get_by_id(const struct rf_meta_image *img,
                             const struct rf_uuid *id,
                             struct rf_meta_topic *out)
{
    const struct meta_topic *t = rf__meta_topic_by_id(img, id);
    if (t == NULL)
        return false;
    topic_view(t, out);
    return true;
}

bool rf_meta_partition_get(const struct rf_meta_image *img,
                           const struct rf_uuid *topic_id, int32_t partition,
                           struct rf_meta_partition *out)
{
    const struct meta_topic *t = rf__meta_topic_by_id(img, topic_id);
    if (t == NULL || partition < 0 || (size_t)partition >= t->n_parts)
        return false;
    const struct meta_part *p = &t->parts[partition];
    out->partition = partition;
    out->leader = p->leader;
    out->leader_epoch = p->leader_epoch;
    out->partition_epoch = p->partition_epoch;
    out->n_replicas = p->n_replicas;
    out->replicas = p->replicas;
    out->n_isr = p->n_isr;
    out->isr = p->isr;
    out->n_target = p->n_target;
    out->target = p->target;
    return true;
}

const char *rf_meta_topic_config(const struct rf_meta_image *img,
                                 const char *topic, const char *name)
{
    bool found;
    size_t i = rf__meta_config_pos(
        img, RIFFLE__CONFIG_RESOURCE_TYPE__CONFIG_RESOURCE_TOPIC, topic, name,
        &found);
    return found ? img->configs[i].value : NULL;
}

/* ---- admin responses ---- */

static void summary_fill(const struct meta_topic *t, Riffle__TopicSummary *s)
{
    s->name = rf__meta_strdup(t->name);
    rf__meta_bytes_set(&s->topic_id, t->id.b, sizeof(t->id.b));
    s->partitions = (int32_t)t->n_parts;
    s->replication_factor =
        t->n_parts > 0 ? (int32_t)t->parts[0].n_replicas : 0;
    s->internal = rf__meta_is_internal(t->name);
}

void rf_meta_list_topics(const struct rf_meta_image *img, bool include_internal,
                         Riffle__ListTopicsResponse *resp)
{
    resp->topics = rf_malloc((img->n_topics + 1) * sizeof(*resp->topics));
    resp->n_topics = 0;
    for (size_t i = 0; i < img->n_topics; i++) {
        const struct meta_topic *t = img->by_name[i];
        if (!include_internal && rf__meta_is_internal(t->name))
            continue;
        Riffle__TopicSummary *s = rf_malloc(sizeof(*s));
        riffle__topic_summary__init(s);
        summary_fill(t, s);
        resp->topics[resp->n_topics++] = s;
    }
}

static Riffle__PartitionDescription *part_describe(const struct meta_part *p,
                                                   int32_t index)
{
    Riffle__PartitionDescription *d = rf_malloc(sizeof(*d));
    riffle__partition_description__init(d);
    d->partition = index;
    d->leader = p->leader;
    d->leader_epoch = p->leader_epoch;
    d->partition_epoch = p->partition_epoch;
    d->n_replicas = p->n_replicas;
    d->replicas = rf__meta_i32dup(p->replicas, p->n_replicas);
    d->n_isr = p->n_isr;
    d->isr = rf__meta_i32dup(p->isr, p->n_isr);
    if (p->n_target > 0) {
        d->reassigning = true;
        d->n_target_replicas = p->n_target;
        d->target_replicas = rf__meta_i32dup(p->target, p->n_target);
    }
    return d;
}

static void describe_configs(const struct rf_meta_image *img,
                             const struct meta_topic *t,
                             Riffle__TopicDescription *d)
{
    bool found;
    size_t i = rf__meta_config_pos(
        img, RIFFLE__CONFIG_RESOURCE_TYPE__CONFIG_RESOURCE_TOPIC, t->name, "",
        &found);
    for (; i < img->n_configs; i++) {
        const struct meta_config *c = &img->configs[i];
        if (c->type != RIFFLE__CONFIG_RESOURCE_TYPE__CONFIG_RESOURCE_TOPIC ||
            strcmp(c->resource, t->name) != 0)
            break;
        Riffle__ConfigEntry *e = rf_malloc(sizeof(*e));
        riffle__config_entry__init(e);
        e->name = rf__meta_strdup(c->name);
        e->value = rf__meta_strdup(c->value);
        d->configs =
            rf__meta_grow(d->configs, d->n_configs, sizeof(*d->configs));
        d->configs[d->n_configs++] = e;
    }
}

static Riffle__TopicDescription *topic_describe(const struct rf_meta_image *img,
                                                const struct meta_topic *t,
                                                const char *name)
{
    Riffle__TopicDescription *d = rf_malloc(sizeof(*d));
    riffle__topic_description__init(d);
    d->name = rf__meta_strdup(name);
    if (t == NULL) {
        d->error = RIFFLE__ERROR_CODE__UNKNOWN_TOPIC;
        return d;
    }
    rf__meta_bytes_set(&d->topic_id, t->id.b, sizeof(t->id.b));
    d->partitions = rf_malloc((t->n_parts + 1) * sizeof(*d->partitions));
    for (size_t p = 0; p < t->n_parts; p++)
        d->partitions[p] = part_describe(&t->parts[p], (int32_t)p);
    d->n_partitions = t->n_parts;
    describe_configs(img, t, d);
    return d;
}

void rf_meta_describe_topics(const struct rf_meta_image *img,
                             const Riffle__DescribeTopicsRequest *req,
                             Riffle__DescribeTopicsResponse *resp)
{
    size_t n = req->n_names > 0 ? req->n_names : img->n_topics;
    resp->topics = rf_malloc((n + 1) * sizeof(*resp->topics));
    resp->n_topics = 0;
    for (size_t i = 0; i < n; i++) {
        const struct meta_topic *t;
        const char *name;
        if (req->n_names > 0) {
            name = req->names[i] != NULL ? req->names[i] : "";
            t = rf__meta_topic_by_name(img, name);
        } else {
            t = img->by_name[i];
            name = t->name;
        }
        resp->topics[resp->n_topics++] = topic_describe(img, t, name);
    }
}
