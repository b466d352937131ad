/* apply.c: validate-and-apply of metadata records with an undo log, so a
 * command with any invalid record leaves the image exactly as it was. */
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "err.h"
#include "log.h"
#include "meta_int.h"

enum undo_kind {
    U_BROKER,
    U_CTRL,
    U_TOPIC_ADD,
    U_TOPIC_DEL,
    U_PART_APPEND,
    U_PART_SET,
    U_CONFIG
};

struct undo {
    enum undo_kind kind;
    int32_t id;   /* broker id, controller node id or partition index */
    bool had_old; /* U_BROKER, U_CTRL */
    struct meta_broker broker;              /* old, owned */
    Riffle__RegisterControllerRecord *ctrl; /* old, owned */
    struct meta_topic *topic;
    struct meta_part part;     /* old, owned */
    struct meta_config config; /* key and old value (NULL: absent), owned */
};

struct actx {
    struct rf_meta_image *img;
    int64_t offset;
    bool replay;
    struct undo *undo;
    size_t n_undo, cap_undo;
};

#define E_NONE RIFFLE__ERROR_CODE__NONE
#define E_INVALID RIFFLE__ERROR_CODE__INVALID_REQUEST

static struct undo *undo_push(struct actx *ctx, enum undo_kind kind)
{
    if (ctx->n_undo == ctx->cap_undo) {
        ctx->cap_undo = ctx->cap_undo ? ctx->cap_undo * 2 : 16;
        ctx->undo = rf_realloc(ctx->undo, ctx->cap_undo * sizeof(*ctx->undo));
    }
    struct undo *u = &ctx->undo[ctx->n_undo++];
    memset(u, 0, sizeof(*u));
    u->kind = kind;
    return u;
}

/* ---- container mutations (each pushes its undo entry) ---- */

/* Insert item (elem bytes) at pos of a sorted array, growing it by
 * doubling from min_cap; base, n and cap describe the array. */
static void array_insert_at(void **base, size_t *n, size_t *cap, size_t elem,
                            size_t min_cap, size_t pos, const void *item)
{
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : min_cap;
        *base = rf_realloc(*base, *cap * elem);
    }
    uint8_t *a = *base;
    memmove(a + (pos + 1) * elem, a + pos * elem, (*n - pos) * elem);
    memcpy(a + pos * elem, item, elem);
    (*n)++;
}

static void array_remove_at(void *base, size_t *n, size_t elem, size_t pos)
{
    uint8_t *a = base;
    memmove(a + pos * elem, a + (pos + 1) * elem, (*n - pos - 1) * elem);
    (*n)--;
}

static void broker_insert_at(struct rf_meta_image *img, size_t pos,
                             const struct meta_broker *b)
{
    array_insert_at((void **)&img->brokers, &img->n_brokers, &img->cap_brokers,
                    sizeof(*img->brokers), 8, pos, b);
}

static void broker_remove_at(struct rf_meta_image *img, size_t pos)
{
    array_remove_at(img->brokers, &img->n_brokers, sizeof(*img->brokers), pos);
}

/* nb is moved in (NULL: remove the broker id). */
static void broker_put(struct actx *ctx, int32_t id,
                       const struct meta_broker *nb)
{
    struct rf_meta_image *img = ctx->img;
    struct undo *u = undo_push(ctx, U_BROKER);
    size_t pos = rf__meta_broker_pos(img, id);
    u->id = id;
    if (pos < img->n_brokers && img->brokers[pos].id == id) {
        u->had_old = true;
        u->broker = img->brokers[pos];
        broker_remove_at(img, pos);
    }
    if (nb != NULL)
        broker_insert_at(img, pos, nb);
}

static void broker_copy(const struct meta_broker *src, struct meta_broker *dst)
{
    *dst = *src;
    dst->rack = rf__meta_strdup(src->rack);
    dst->endpoints = rf_malloc((src->n_endpoints + 1) * sizeof(void *));
    for (size_t i = 0; i < src->n_endpoints; i++)
        dst->endpoints[i] = rf__meta_endpoint_dup(src->endpoints[i]);
}

static void ctrl_put(struct actx *ctx, Riffle__RegisterControllerRecord *nc)
{
    struct rf_meta_image *img = ctx->img;
    struct undo *u = undo_push(ctx, U_CTRL);
    bool found;
    size_t pos = rf__meta_ctrl_pos(img, nc->node_id, &found);
    u->id = nc->node_id;
    if (found) {
        u->had_old = true;
        u->ctrl = img->ctrls[pos];
        img->ctrls[pos] = nc;
        return;
    }
    if (img->n_ctrls == img->cap_ctrls) {
        img->cap_ctrls = img->cap_ctrls ? img->cap_ctrls * 2 : 4;
        img->ctrls =
            rf_realloc(img->ctrls, img->cap_ctrls * sizeof(*img->ctrls));
    }
    memmove(&img->ctrls[pos + 1], &img->ctrls[pos],
            (img->n_ctrls - pos) * sizeof(*img->ctrls));
    img->ctrls[pos] = nc;
    img->n_ctrls++;
}

static void part_append(struct actx *ctx, struct meta_topic *t,
                        const struct meta_part *p)
{
    if (t->n_parts == t->cap_parts) {
        t->cap_parts = t->cap_parts ? t->cap_parts * 2 : 4;
        t->parts = rf_realloc(t->parts, t->cap_parts * sizeof(*t->parts));
    }
    t->parts[t->n_parts++] = *p;
    undo_push(ctx, U_PART_APPEND)->topic = t;
}

static void part_set(struct actx *ctx, struct meta_topic *t, size_t idx,
                     const struct meta_part *p)
{
    struct undo *u = undo_push(ctx, U_PART_SET);
    u->topic = t;
    u->id = (int32_t)idx;
    u->part = t->parts[idx];
    t->parts[idx] = *p;
}

static void config_insert_at(struct rf_meta_image *img, size_t pos,
                             const struct meta_config *c)
{
    array_insert_at((void **)&img->configs, &img->n_configs, &img->cap_configs,
                    sizeof(*img->configs), 16, pos, c);
}

static void config_remove_at(struct rf_meta_image *img, size_t pos)
{
    array_remove_at(img->configs, &img->n_configs, sizeof(*img->configs), pos);
}

/* value NULL removes the override. */
static void config_set(struct actx *ctx, int32_t type, const char *resource,
                       const char *name, const char *value)
{
    struct rf_meta_image *img = ctx->img;
    bool found;
    size_t pos = rf__meta_config_pos(img, type, resource, name, &found);
    if (!found && value == NULL)
        return;
    struct undo *u = undo_push(ctx, U_CONFIG);
    u->config.type = type;
    u->config.resource = rf_strdup(resource);
    u->config.name = rf_strdup(name);
    if (found) {
        struct meta_config *c = &img->configs[pos];
        u->config.value = c->value;
        if (value != NULL) {
            c->value = rf_strdup(value);
            return;
        }
        rf_free(c->resource);
        rf_free(c->name);
        config_remove_at(img, pos);
        return;
    }
    struct meta_config nc = {type, rf_strdup(resource), rf_strdup(name),
                             rf_strdup(value)};
    config_insert_at(img, pos, &nc);
}

/* ---- rollback / commit ---- */

static void undo_broker(struct rf_meta_image *img, struct undo *u)
{
    size_t pos = rf__meta_broker_pos(img, u->id);
    if (pos < img->n_brokers && img->brokers[pos].id == u->id) {
        rf__meta_broker_clear(&img->brokers[pos]);
        broker_remove_at(img, pos);
    }
    if (u->had_old)
        broker_insert_at(img, pos, &u->broker);
}

static void undo_ctrl(struct rf_meta_image *img, struct undo *u)
{
    bool found;
    size_t pos = rf__meta_ctrl_pos(img, u->id, &found);
    rf__meta_pb_free(&img->ctrls[pos]->base);
    if (u->had_old) {
        img->ctrls[pos] = u->ctrl;
        return;
    }
    memmove(&img->ctrls[pos], &img->ctrls[pos + 1],
            (img->n_ctrls - pos - 1) * sizeof(*img->ctrls));
    img->n_ctrls--;
}

static void undo_config(struct rf_meta_image *img, struct undo *u)
{
    struct meta_config *k = &u->config;
    bool found;
    size_t pos =
        rf__meta_config_pos(img, k->type, k->resource, k->name, &found);
    if (found) {
        struct meta_config *c = &img->configs[pos];
        rf_free(c->resource);
        rf_free(c->name);
        rf_free(c->value);
        config_remove_at(img, pos);
    }
    if (k->value != NULL) {
        config_insert_at(img, pos, k);
        return;
    }
    rf_free(k->resource);
    rf_free(k->name);
}

static void rollback_one(struct rf_meta_image *img, struct undo *u)
{
    switch (u->kind) {
    case U_BROKER:
        undo_broker(img, u);
        break;
    case U_CTRL:
        undo_ctrl(img, u);
        break;
    case U_TOPIC_ADD:
        rf__meta_topic_unlink(img, u->topic);
        rf__meta_topic_free(u->topic);
        break;
    case U_TOPIC_DEL:
        rf__meta_topic_insert(img, u->topic);
        break;
    case U_PART_APPEND:
        rf__meta_part_clear(&u->topic->parts[--u->topic->n_parts]);
        break;
    case U_PART_SET:
        rf__meta_part_clear(&u->topic->parts[u->id]);
        u->topic->parts[u->id] = u->part;
        break;
    case U_CONFIG:
        undo_config(img, u);
        break;
    }
}

static void commit_one(struct undo *u)
{
    switch (u->kind) {
    case U_BROKER:
        if (u->had_old)
            rf__meta_broker_clear(&u->broker);
        break;
    case U_CTRL:
        if (u->had_old)
            rf__meta_pb_free(&u->ctrl->base);
        break;
    case U_TOPIC_DEL:
        rf__meta_topic_free(u->topic);
        break;
    case U_PART_SET:
        rf__meta_part_clear(&u->part);
        break;
    case U_CONFIG:
        rf_free(u->config.resource);
        rf_free(u->config.name);
        rf_free(u->config.value);
        break;
    default:
        break;
    }
}

/* ---- record validation + apply ---- */

static bool str_ok(const char *s, size_t max)
{
    return s != NULL && strlen(s) <= max;
}

static bool endpoint_ok(const Riffle__Endpoint *e)
{
    return e != NULL && str_ok(e->name, RF_META_MAX_STR) &&
           str_ok(e->host, RF_META_MAX_STR) && e->port <= 65535;
}

static int rec_register_broker(struct actx *ctx,
                               const Riffle__RegisterBrokerRecord *r)
{
    struct meta_broker nb = {0};
    if (r->broker_id < 0 || !rf__meta_uuid_from(&r->incarnation_id, &nb.inc))
        return E_INVALID;
    if (r->n_endpoints > RF_META_MAX_ENDPOINTS ||
        !str_ok(r->rack, RF_META_MAX_STR))
        return E_INVALID;
    for (size_t i = 0; i < r->n_endpoints; i++)
        if (!endpoint_ok(r->endpoints[i]))
            return E_INVALID;
    if (ctx->replay && (r->broker_epoch < 0 ||
                        rf__meta_broker_find(ctx->img, r->broker_id) != NULL))
        return E_INVALID;
    nb.id = r->broker_id;
    nb.epoch = ctx->replay ? r->broker_epoch : ctx->offset;
    nb.state = r->fenced ? RIFFLE__BROKER_STATE__BROKER_FENCED
                         : RIFFLE__BROKER_STATE__BROKER_UNFENCED;
    nb.rack = rf__meta_strdup(r->rack);
    nb.n_endpoints = r->n_endpoints;
    nb.endpoints = rf_malloc((r->n_endpoints + 1) * sizeof(void *));
    for (size_t i = 0; i < r->n_endpoints; i++)
        nb.endpoints[i] = rf__meta_endpoint_dup(r->endpoints[i]);
    broker_put(ctx, nb.id, &nb);
    return E_NONE;
}

static int broker_check(struct actx *ctx, int32_t id, int64_t epoch,
                        struct meta_broker **out)
{
    *out = rf__meta_broker_find(ctx->img, id);
    if (*out == NULL)
        return RIFFLE__ERROR_CODE__UNKNOWN_BROKER;
    if ((*out)->epoch != epoch)
        return RIFFLE__ERROR_CODE__STALE_BROKER_EPOCH;
    return E_NONE;
}

static int rec_unregister_broker(struct actx *ctx,
                                 const Riffle__UnregisterBrokerRecord *r)
{
    struct meta_broker *b;
    int rc = broker_check(ctx, r->broker_id, r->broker_epoch, &b);
    if (rc != E_NONE)
        return rc;
    if (b->state != RIFFLE__BROKER_STATE__BROKER_FENCED)
        return E_INVALID;
    broker_put(ctx, r->broker_id, NULL);
    return E_NONE;
}

static int rec_broker_change(struct actx *ctx,
                             const Riffle__BrokerRegistrationChangeRecord *r)
{
    struct meta_broker *b, nb;
    int rc = broker_check(ctx, r->broker_id, r->broker_epoch, &b);
    if (rc != E_NONE)
        return rc;
    if (r->state != RIFFLE__BROKER_STATE__BROKER_FENCED &&
        r->state != RIFFLE__BROKER_STATE__BROKER_UNFENCED &&
        r->state != RIFFLE__BROKER_STATE__BROKER_CONTROLLED_SHUTDOWN)
        return E_INVALID;
    broker_copy(b, &nb);
    nb.state = r->state;
    broker_put(ctx, r->broker_id, &nb);
    return E_NONE;
}

static int rec_register_controller(struct actx *ctx,
                                   const Riffle__RegisterControllerRecord *r)
{
    if (r->node_id < 0 || !str_ok(r->raft_address, RF_META_MAX_STR) ||
        (r->rpc != NULL && !endpoint_ok(r->rpc)))
        return E_INVALID;
    if (ctx->replay && rf_meta_controller_get(ctx->img, r->node_id) != NULL)
        return E_INVALID;
    ctrl_put(ctx, rf__meta_controller_dup(r));
    return E_NONE;
}

static int rec_topic(struct actx *ctx, const Riffle__TopicRecord *r)
{
    struct rf_uuid id;
    if (!rf_meta_topic_name_valid(r->name))
        return RIFFLE__ERROR_CODE__INVALID_TOPIC_NAME;
    if (!rf__meta_uuid_from(&r->topic_id, &id))
        return E_INVALID;
    if (rf__meta_topic_by_name(ctx->img, r->name) != NULL ||
        rf__meta_topic_by_id(ctx->img, &id) != NULL)
        return RIFFLE__ERROR_CODE__TOPIC_ALREADY_EXISTS;
    struct meta_topic *t = rf_calloc(1, sizeof(*t));
    t->name = rf_strdup(r->name);
    t->id = id;
    rf__meta_topic_insert(ctx->img, t);
    undo_push(ctx, U_TOPIC_ADD)->topic = t;
    return E_NONE;
}

/* The fields PartitionRecord and PartitionChangeRecord share. */
struct part_fields {
    size_t n_replicas;
    const int32_t *replicas;
    size_t n_isr;
    const int32_t *isr;
    int32_t leader, leader_epoch, partition_epoch;
    size_t n_target;
    const int32_t *target;
    bool reassigning;
};

static bool has(const int32_t *v, size_t n, int32_t x)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] == x)
            return true;
    return false;
}

static bool distinct(const int32_t *v, size_t n)
{
    for (size_t i = 1; i < n; i++)
        if (has(v, i, v[i]))
            return false;
    return true;
}

static bool same_list(const int32_t *a, size_t na, const int32_t *b, size_t nb)
{
    return na == nb && (na == 0 || memcmp(a, b, na * sizeof(*a)) == 0);
}

static int check_replicas(struct actx *ctx, const struct part_fields *f,
                          const struct meta_part *cur)
{
    if (f->n_replicas < 1 || f->n_replicas > RF_META_MAX_REPLICAS ||
        !distinct(f->replicas, f->n_replicas))
        return RIFFLE__ERROR_CODE__INVALID_REPLICA_ASSIGNMENT;
    for (size_t i = 0; i < f->n_replicas; i++)
        if (f->replicas[i] < 0)
            return RIFFLE__ERROR_CODE__INVALID_REPLICA_ASSIGNMENT;
    if (ctx->replay ||
        (cur != NULL &&
         same_list(f->replicas, f->n_replicas, cur->replicas, cur->n_replicas)))
        return E_NONE;
    for (size_t i = 0; i < f->n_replicas; i++)
        if (rf__meta_broker_find(ctx->img, f->replicas[i]) == NULL)
            return RIFFLE__ERROR_CODE__INVALID_REPLICA_ASSIGNMENT;
    return E_NONE;
}

/* Reassignment target: absent (flag off, empty list) or 1..64 distinct
 * members of the replica list. */
static int check_target(const struct part_fields *f)
{
    if (!f->reassigning)
        return f->n_target == 0 ? E_NONE : E_INVALID;
    if (f->n_target < 1 || f->n_target > RF_META_MAX_REPLICAS ||
        !distinct(f->target, f->n_target))
        return RIFFLE__ERROR_CODE__INVALID_REPLICA_ASSIGNMENT;
    for (size_t i = 0; i < f->n_target; i++)
        if (!has(f->replicas, f->n_replicas, f->target[i]))
            return RIFFLE__ERROR_CODE__INVALID_REPLICA_ASSIGNMENT;
    return E_NONE;
}

static int check_part(struct actx *ctx, const struct part_fields *f,
                      const struct meta_part *cur)
{
    int rc = check_replicas(ctx, f, cur);
    if (rc != E_NONE)
        return rc;
    if (f->n_isr < 1 || f->n_isr > f->n_replicas || !distinct(f->isr, f->n_isr))
        return RIFFLE__ERROR_CODE__INELIGIBLE_REPLICA;
    for (size_t i = 0; i < f->n_isr; i++)
        if (!has(f->replicas, f->n_replicas, f->isr[i]))
            return RIFFLE__ERROR_CODE__INELIGIBLE_REPLICA;
    if (f->leader != -1 && !has(f->isr, f->n_isr, f->leader))
        return E_INVALID;
    if (f->leader_epoch < 0 || f->partition_epoch < 0)
        return E_INVALID;
    rc = check_target(f);
    if (rc != E_NONE)
        return rc;
    if (!ctx->replay && f->leader != -1 &&
        (cur == NULL || cur->leader != f->leader)) {
        const struct meta_broker *b = rf__meta_broker_find(ctx->img, f->leader);
        if (b == NULL || b->state != RIFFLE__BROKER_STATE__BROKER_UNFENCED)
            return RIFFLE__ERROR_CODE__INELIGIBLE_REPLICA;
    }
    return E_NONE;
}

static void part_from(const struct part_fields *f, struct meta_part *p)
{
    p->leader = f->leader;
    p->leader_epoch = f->leader_epoch;
    p->partition_epoch = f->partition_epoch;
    p->n_replicas = (uint32_t)f->n_replicas;
    p->replicas = rf__meta_i32dup(f->replicas, f->n_replicas);
    p->n_isr = (uint32_t)f->n_isr;
    p->isr = rf__meta_i32dup(f->isr, f->n_isr);
    p->n_target = f->reassigning ? (uint32_t)f->n_target : 0;
    p->target =
        f->reassigning ? rf__meta_i32dup(f->target, f->n_target) : NULL;
}

#define PART_FIELDS(r)                                                         \
    {                                                                          \
        (r)->n_replicas, (r)->replicas, (r)->n_isr, (r)->isr, (r)->leader,     \
            (r)->leader_epoch, (r)->partition_epoch, (r)->n_target_replicas,   \
            (r)->target_replicas, (r)->reassigning                             \
    }

static int rec_partition(struct actx *ctx, const Riffle__PartitionRecord *r)
{
    struct rf_uuid id;
    struct meta_topic *t;
    struct part_fields f = PART_FIELDS(r);
    struct meta_part p;
    if (!rf__meta_uuid_from(&r->topic_id, &id))
        return E_INVALID;
    if ((t = rf__meta_topic_by_id(ctx->img, &id)) == NULL)
        return RIFFLE__ERROR_CODE__UNKNOWN_TOPIC;
    if (r->partition_id < 0 || (size_t)r->partition_id != t->n_parts ||
        t->n_parts >= RF_META_MAX_PARTITIONS)
        return RIFFLE__ERROR_CODE__INVALID_PARTITIONS;
    int rc = check_part(ctx, &f, NULL);
    if (rc != E_NONE)
        return rc;
    part_from(&f, &p);
    part_append(ctx, t, &p);
    return E_NONE;
}

static int rec_partition_change(struct actx *ctx,
                                const Riffle__PartitionChangeRecord *r)
{
    struct rf_uuid id;
    struct meta_topic *t;
    struct part_fields f = PART_FIELDS(r);
    struct meta_part p;
    if (!rf__meta_uuid_from(&r->topic_id, &id))
        return E_INVALID;
    if ((t = rf__meta_topic_by_id(ctx->img, &id)) == NULL)
        return RIFFLE__ERROR_CODE__UNKNOWN_TOPIC;
    if (r->partition_id < 0 || (size_t)r->partition_id >= t->n_parts)
        return RIFFLE__ERROR_CODE__UNKNOWN_PARTITION;
    const struct meta_part *cur = &t->parts[r->partition_id];
    if (cur->partition_epoch == INT32_MAX ||
        r->partition_epoch != cur->partition_epoch + 1)
        return RIFFLE__ERROR_CODE__INVALID_UPDATE_VERSION;
    if (r->leader_epoch < cur->leader_epoch ||
        (r->leader != cur->leader && r->leader_epoch == cur->leader_epoch))
        return RIFFLE__ERROR_CODE__FENCED_LEADER_EPOCH;
    int rc = check_part(ctx, &f, cur);
    if (rc != E_NONE)
        return rc;
    part_from(&f, &p);
    part_set(ctx, t, (size_t)r->partition_id, &p);
    return E_NONE;
}

static int rec_remove_topic(struct actx *ctx,
                            const Riffle__RemoveTopicRecord *r)
{
    struct rf_uuid id;
    struct meta_topic *t;
    const int32_t type = RIFFLE__CONFIG_RESOURCE_TYPE__CONFIG_RESOURCE_TOPIC;
    if (!rf__meta_uuid_from(&r->topic_id, &id))
        return E_INVALID;
    if ((t = rf__meta_topic_by_id(ctx->img, &id)) == NULL)
        return RIFFLE__ERROR_CODE__UNKNOWN_TOPIC;
    for (;;) {
        bool found;
        size_t pos = rf__meta_config_pos(ctx->img, type, t->name, "", &found);
        if (pos >= ctx->img->n_configs || ctx->img->configs[pos].type != type ||
            strcmp(ctx->img->configs[pos].resource, t->name) != 0)
            break;
        char *name = rf_strdup(ctx->img->configs[pos].name);
        config_set(ctx, type, t->name, name, NULL);
        rf_free(name);
    }
    rf__meta_topic_unlink(ctx->img, t);
    undo_push(ctx, U_TOPIC_DEL)->topic = t;
    return E_NONE;
}

static bool broker_resource_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0)
        return true; /* cluster-wide default */
    if (n > 10)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return strtoll(s, NULL, 10) <= INT32_MAX;
}

static int rec_config(struct actx *ctx, const Riffle__ConfigRecord *r)
{
    if (!str_ok(r->resource_name, RF_META_MAX_STR) ||
        !str_ok(r->name, RF_META_MAX_STR) || r->name[0] == '\0' ||
        !str_ok(r->value, RF_META_MAX_CONFIG_VALUE))
        return E_INVALID;
    if (r->resource_type ==
        RIFFLE__CONFIG_RESOURCE_TYPE__CONFIG_RESOURCE_TOPIC) {
        if (rf__meta_topic_by_name(ctx->img, r->resource_name) == NULL)
            return RIFFLE__ERROR_CODE__UNKNOWN_TOPIC;
        if (!r->remove &&
            rf__meta_topic_config_check(r->name, r->value) != E_NONE)
            return RIFFLE__ERROR_CODE__INVALID_CONFIG;
    } else if (r->resource_type ==
               RIFFLE__CONFIG_RESOURCE_TYPE__CONFIG_RESOURCE_BROKER) {
        if (!broker_resource_ok(r->resource_name))
            return E_INVALID;
    } else {
        return E_INVALID;
    }
    config_set(ctx, r->resource_type, r->resource_name, r->name,
               r->remove ? NULL : r->value);
    return E_NONE;
}

static int rec_producer_ids(struct actx *ctx,
                            const Riffle__ProducerIdsRecord *r)
{
    if (!ctx->replay) {
        struct meta_broker *b;
        int rc = broker_check(ctx, r->broker_id, r->broker_epoch, &b);
        if (rc != E_NONE)
            return rc;
    }
    if (r->next_producer_id <= ctx->img->next_producer_id)
        return E_INVALID;
    ctx->img->next_producer_id = r->next_producer_id;
    return E_NONE;
}

static int rec_cluster_id(struct actx *ctx, const Riffle__ClusterIdRecord *r)
{
    struct rf_uuid id;
    if (!rf__meta_uuid_from(&r->cluster_id, &id))
        return E_INVALID;
    if (ctx->img->has_cluster_id)
        return rf_uuid_equal(&id, &ctx->img->cluster_id) ? E_NONE : E_INVALID;
    ctx->img->has_cluster_id = true;
    ctx->img->cluster_id = id;
    return E_NONE;
}

static int apply_one(struct actx *ctx, const Riffle__MetadataRecord *rec)
{
    if (rec == NULL)
        return E_INVALID;
    switch (rec->record_case) {
    case RIFFLE__METADATA_RECORD__RECORD_REGISTER_BROKER:
        return rec_register_broker(ctx, rec->register_broker);
    case RIFFLE__METADATA_RECORD__RECORD_UNREGISTER_BROKER:
        return rec_unregister_broker(ctx, rec->unregister_broker);
    case RIFFLE__METADATA_RECORD__RECORD_BROKER_CHANGE:
        return rec_broker_change(ctx, rec->broker_change);
    case RIFFLE__METADATA_RECORD__RECORD_TOPIC:
        return rec_topic(ctx, rec->topic);
    case RIFFLE__METADATA_RECORD__RECORD_PARTITION:
        return rec_partition(ctx, rec->partition);
    case RIFFLE__METADATA_RECORD__RECORD_PARTITION_CHANGE:
        return rec_partition_change(ctx, rec->partition_change);
    case RIFFLE__METADATA_RECORD__RECORD_REMOVE_TOPIC:
        return rec_remove_topic(ctx, rec->remove_topic);
    case RIFFLE__METADATA_RECORD__RECORD_CONFIG:
        return rec_config(ctx, rec->config);
    case RIFFLE__METADATA_RECORD__RECORD_PRODUCER_IDS:
        return rec_producer_ids(ctx, rec->producer_ids);
    case RIFFLE__METADATA_RECORD__RECORD_REGISTER_CONTROLLER:
        return rec_register_controller(ctx, rec->register_controller);
    case RIFFLE__METADATA_RECORD__RECORD_CLUSTER_ID:
        return rec_cluster_id(ctx, rec->cluster_id);
    default:
        return E_INVALID; /* unknown or unset record type */
    }
}

int rf__meta_apply_records(struct rf_meta_image *img, int64_t offset,
                           Riffle__MetadataRecord **recs, size_t n, bool replay)
{
    struct actx ctx = {.img = img, .offset = offset, .replay = replay};
    int64_t saved_pid = img->next_producer_id;
    bool saved_has_cid = img->has_cluster_id;
    struct rf_uuid saved_cid = img->cluster_id;
    int rc = E_NONE;

    for (size_t i = 0; i < n && rc == E_NONE; i++)
        rc = apply_one(&ctx, recs[i]);
    if (rc == E_NONE) {
        for (size_t i = 0; i < ctx.n_undo; i++)
            commit_one(&ctx.undo[i]);
    } else {
        for (size_t i = ctx.n_undo; i > 0; i--)
            rollback_one(img, &ctx.undo[i - 1]);
        img->next_producer_id = saved_pid;
        img->has_cluster_id = saved_has_cid;
        img->cluster_id = saved_cid;
    }
    rf_free(ctx.undo);
    return rc;
}

int rf_meta_apply(struct rf_meta_image *img, int64_t offset, const uint8_t *cmd,
                  size_t len)
{
    if (offset <= img->offset)
        return E_INVALID; /* replayed index: never apply twice */
    Riffle__MetadataCommand *c = NULL;
    int rc = E_INVALID;
    if (len <= RF_META_MAX_COMMAND_BYTES)
        c = riffle__metadata_command__unpack(&rf__meta_pb_alloc, len, cmd);
    if (c == NULL || (c->request_id.len != 0 && c->request_id.len != 16))
        goto out;
    if (c->request_id.len == 16 &&
        rf_meta_request_result(img, c->request_id.data, &rc, NULL))
        goto out;
    rc = rf__meta_apply_records(img, offset, c->records, c->n_records, false);
    if (rc == E_NONE && c->n_records > 0)
        rf__meta_hist_add(img, offset, cmd, len);
    if (c->request_id.len == 16)
        rf__meta_recent_add(img, c->request_id.data, offset, rc);
out:
    if (rc != E_NONE)
        RF_DEBUG("metadata command rejected offset=%lld len=%zu error=%d",
                 (long long)offset, len, rc);
    if (c != NULL)
        rf__meta_pb_free(&c->base);
    img->offset = offset;
    return rc;
}
