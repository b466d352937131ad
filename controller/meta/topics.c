/* topics.c: CreateTopics / DeleteTopics / CreatePartitions builders and
 * replica placement (Kafka's round-robin with a shifting start, rack-aware
 * when every eligible broker has a rack). */
#include <string.h>

#include "alloc.h"
#include "err.h"
#include "meta_int.h"

#define E_NONE RIFFLE__ERROR_CODE__NONE

/* Eligible brokers for placement: unfenced, in id order (racks arranged). */
struct pool {
    size_t n;
    int32_t *ids;
    const char **racks;
    size_t n_racks;
};

/* Rack-alternated order: one broker from each rack in turn, racks in name
 * order, brokers in id order within a rack (Kafka's arrangement). */
static void pool_arrange_racks(struct pool *pl)
{
    int32_t *ids = rf_malloc(pl->n * sizeof(*ids));
    const char **racks = rf_malloc(pl->n * sizeof(*racks));
    bool *used = rf_calloc(pl->n, sizeof(*used));
    size_t out = 0;
    while (out < pl->n) {
        const char *last = NULL;
        for (;;) { /* next rack name after last, taking its first unused */
            size_t best = pl->n;
            for (size_t i = 0; i < pl->n; i++) {
                if (used[i] || (last && strcmp(pl->racks[i], last) <= 0))
                    continue;
                if (best == pl->n || strcmp(pl->racks[i], pl->racks[best]) < 0)
                    best = i;
            }
            if (best == pl->n)
                break;
            used[best] = true;
            ids[out] = pl->ids[best];
            racks[out++] = pl->racks[best];
            last = pl->racks[best];
        }
    }
    for (size_t i = 0; i < pl->n; i++) {
        bool seen = false;
        for (size_t j = 0; j < i; j++)
            seen = seen || strcmp(racks[i], racks[j]) == 0;
        pl->n_racks += !seen;
    }
    memcpy(pl->ids, ids, pl->n * sizeof(*ids));
    memcpy(pl->racks, racks, pl->n * sizeof(*racks));
    rf_free(ids);
    rf_free(racks);
    rf_free(used);
}

static void pool_init(const struct rf_meta_image *img, struct pool *pl)
{
    bool all_racks = true;
    pl->n = 0;
    pl->ids = rf_malloc((img->n_brokers + 1) * sizeof(*pl->ids));
    pl->racks = rf_malloc((img->n_brokers + 1) * sizeof(*pl->racks));
    pl->n_racks = 0;
    for (size_t i = 0; i < img->n_brokers; i++) {
        const struct meta_broker *b = &img->brokers[i];
        if (b->state != RIFFLE__BROKER_STATE__BROKER_UNFENCED)
            continue;
        pl->ids[pl->n] = b->id;
        pl->racks[pl->n++] = b->rack;
        all_racks = all_racks && b->rack[0] != '\0';
    }
    if (all_racks && pl->n > 0)
        pool_arrange_racks(pl);
}

static void pool_free(struct pool *pl)
{
    rf_free(pl->ids);
    rf_free(pl->racks);
}

static bool rack_taken(const struct pool *pl, const size_t *chosen, size_t n,
                       const char *rack)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(pl->racks[chosen[i]], rack) == 0)
            return true;
    return false;
}

static bool idx_taken(const size_t *chosen, size_t n, size_t idx)
{
    for (size_t i = 0; i < n; i++)
        if (chosen[i] == idx)
            return true;
    return false;
}

/* Replicas of partition p into out[rf]: the first (leader) walks the pool
 * round-robin from start; followers step by a shift that grows every
 * pool-size partitions, skipping used racks until every rack holds one. */
static void place_one(const struct pool *pl, size_t rf, size_t start,
                      size_t shift0, size_t p, int32_t *out)
{
    size_t n = pl->n, chosen[RF_META_MAX_REPLICAS];
    size_t shift = shift0 + p / n, first = (p + start) % n;
    size_t n_chosen = 1, racks_used = 1, k = 0;
    size_t mult = pl->n_racks > 0 ? pl->n_racks : 1;
    chosen[0] = first;
    while (n_chosen < rf) {
        size_t idx = (first + 1 + (shift * mult + k) % (n - 1)) % n;
        bool rack_ok = pl->n_racks == 0 || racks_used == pl->n_racks ||
                       !rack_taken(pl, chosen, n_chosen, pl->racks[idx]) ||
                       k >= 2 * n; /* safety net: never loop forever */
        k++;
        if (!rack_ok || idx_taken(chosen, n_chosen, idx))
            continue;
        if (pl->n_racks > 0 &&
            !rack_taken(pl, chosen, n_chosen, pl->racks[idx]))
            racks_used++;
        chosen[n_chosen++] = idx;
    }
    for (size_t i = 0; i < rf; i++)
        out[i] = pl->ids[chosen[i]];
}

static size_t total_partitions(const struct rf_meta_image *img)
{
    size_t n = 0;
    for (size_t i = 0; i < img->n_topics; i++)
        n += img->by_name[i]->n_parts;
    return n;
}

static void set_error(char **msg, const char *text)
{
    if (*msg != NULL && *msg != protobuf_c_empty_string)
        rf_free(*msg);
    *msg = rf_strdup(text);
}

static void copy_request_id(Riffle__MetadataCommand *cmd,
                            const ProtobufCBinaryData *id)
{
    rf__meta_bytes_set(&cmd->request_id, id->data, id->len);
}

static void add_partition(Riffle__MetadataCommand *cmd,
                          const struct rf_uuid *id, int32_t index,
                          const int32_t *replicas, size_t rf,
                          const int32_t *isr, size_t n_isr)
{
    Riffle__PartitionRecord *r =
        rf__meta_cmd_add(cmd, RIFFLE__METADATA_RECORD__RECORD_PARTITION);
    rf__meta_bytes_set(&r->topic_id, id->b, sizeof(id->b));
    r->partition_id = index;
    r->n_replicas = rf;
    r->replicas = rf__meta_i32dup(replicas, rf);
    r->n_isr = n_isr;
    r->isr = rf__meta_i32dup(isr, n_isr);
    r->leader = isr[0];
}

/* ---- manual assignments ---- */

static bool broker_unfenced(const struct rf_meta_image *img, int32_t id)
{
    const struct meta_broker *b = rf__meta_broker_find(img, id);
    return b != NULL && b->state == RIFFLE__BROKER_STATE__BROKER_UNFENCED;
}

static bool ids_distinct(const int32_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < i; j++)
            if (v[i] == v[j])
                return false;
    return true;
}

/* Checks assignments for partitions [first, first + n): each exactly once,
 * rf replicas each, distinct, registered, at least one unfenced. */
static int check_assignments(const struct rf_meta_image *img,
                             Riffle__ReplicaAssignment **as, size_t n,
                             size_t first, size_t rf, const char **why)
{
    for (size_t i = 0; i < n; i++) {
        const Riffle__ReplicaAssignment *a = as[i];
        size_t seen = 0, unfenced = 0;
        for (size_t j = 0; j < n; j++)
            seen += as[j]->partition == a->partition;
        *why = "partitions must be numbered consecutively, each once";
        if (a->partition < 0 || (size_t)a->partition < first ||
            (size_t)a->partition >= first + n || seen != 1)
            return RIFFLE__ERROR_CODE__INVALID_REPLICA_ASSIGNMENT;
        *why = "every partition needs the same, non-zero replica count";
        if (a->n_broker_ids == 0 || a->n_broker_ids != rf ||
            rf > RF_META_MAX_REPLICAS)
            return RIFFLE__ERROR_CODE__INVALID_REPLICA_ASSIGNMENT;
        *why = "duplicate or unregistered broker in an assignment";
        if (!ids_distinct(a->broker_ids, a->n_broker_ids))
            return RIFFLE__ERROR_CODE__INVALID_REPLICA_ASSIGNMENT;
        for (size_t j = 0; j < a->n_broker_ids; j++) {
            if (rf__meta_broker_find(img, a->broker_ids[j]) == NULL)
                return RIFFLE__ERROR_CODE__INVALID_REPLICA_ASSIGNMENT;
            unfenced += broker_unfenced(img, a->broker_ids[j]);
        }
        *why = "every broker of an assignment is fenced";
        if (unfenced == 0)
            return RIFFLE__ERROR_CODE__INVALID_REPLICA_ASSIGNMENT;
    }
    return E_NONE;
}

static void add_assigned(const struct rf_meta_image *img,
                         Riffle__MetadataCommand *cmd, const struct rf_uuid *id,
                         Riffle__ReplicaAssignment **as, size_t n, size_t first)
{
    for (size_t p = first; p < first + n; p++) {
        const Riffle__ReplicaAssignment *a = NULL;
        for (size_t j = 0; j < n; j++)
            if ((size_t)as[j]->partition == p)
                a = as[j];
        int32_t isr[RF_META_MAX_REPLICAS];
        size_t n_isr = 0;
        for (size_t j = 0; j < a->n_broker_ids; j++)
            if (broker_unfenced(img, a->broker_ids[j]))
                isr[n_isr++] = a->broker_ids[j];
        add_partition(cmd, id, (int32_t)p, a->broker_ids, a->n_broker_ids, isr,
                      n_isr);
    }
}

static void add_placed(const struct pool *pl, Riffle__MetadataCommand *cmd,
                       const struct rf_uuid *id, size_t first, size_t count,
                       size_t rf, size_t start)
{
    int32_t replicas[RF_META_MAX_REPLICAS];
    for (size_t p = first; p < first + count; p++) {
        place_one(pl, rf, start, start, p, replicas);
        add_partition(cmd, id, (int32_t)p, replicas, rf, replicas, rf);
    }
}

/* ---- CreateTopics ---- */

static int check_configs(const Riffle__CreatableTopic *t, const char **why)
{
    *why = "invalid or unknown topic config";
    if (t->n_configs > 64)
        return RIFFLE__ERROR_CODE__INVALID_CONFIG;
    for (size_t i = 0; i < t->n_configs; i++) {
        const Riffle__ConfigEntry *c = t->configs[i];
        if (rf__meta_topic_config_check(c->name, c->value) != E_NONE)
            return RIFFLE__ERROR_CODE__INVALID_CONFIG;
        for (size_t j = 0; j < i; j++)
            if (strcmp(t->configs[j]->name, c->name) == 0)
                return RIFFLE__ERROR_CODE__INVALID_CONFIG;
    }
    return E_NONE;
}

static bool name_earlier(const Riffle__CreateTopicsRequest *req, size_t i)
{
    for (size_t j = 0; j < i; j++)
        if (strcmp(req->topics[j]->name, req->topics[i]->name) == 0)
            return true;
    return false;
}

/* Kafka refuses names that differ only by '.' versus '_' (they clash in
 * metric names). */
static bool collide(const char *a, const char *b)
{
    for (; *a != '\0' && *b != '\0'; a++, b++) {
        char x = *a == '.' ? '_' : *a, y = *b == '.' ? '_' : *b;
        if (x != y)
            return false;
    }
    return *a == *b;
}

static int check_name(const struct rf_meta_image *img,
                      const Riffle__CreateTopicsRequest *req, size_t i,
                      const char **why)
{
    const char *name = req->topics[i]->name;
    *why = "invalid topic name";
    if (!rf_meta_topic_name_valid(name))
        return RIFFLE__ERROR_CODE__INVALID_TOPIC_NAME;
    *why = "topic named twice in the request";
    if (name_earlier(req, i))
        return RIFFLE__ERROR_CODE__INVALID_REQUEST;
    *why = "topic already exists";
    if (rf__meta_topic_by_name(img, name) != NULL)
        return RIFFLE__ERROR_CODE__TOPIC_ALREADY_EXISTS;
    *why = "name collides with another topic ('.' and '_' clash)";
    for (size_t j = 0; j < img->n_topics; j++)
        if (collide(img->by_name[j]->name, name))
            return RIFFLE__ERROR_CODE__INVALID_TOPIC_NAME;
    for (size_t j = 0; j < i; j++)
        if (collide(req->topics[j]->name, name))
            return RIFFLE__ERROR_CODE__INVALID_TOPIC_NAME;
    return E_NONE;
}

/* Validates topic i; fills *np / *rf on success. */
static int check_creatable(const struct rf_meta_image *img,
                           const struct rf_meta_defaults *defs,
                           const struct pool *pl,
                           const Riffle__CreateTopicsRequest *req, size_t i,
                           int32_t *np, int32_t *rf, const char **why)
{
    const Riffle__CreatableTopic *t = req->topics[i];
    int rc = check_name(img, req, i, why);
    if (rc != E_NONE)
        return rc;
    if (t->n_assignments > 0) {
        *why = "counts must be -1 with a manual assignment";
        if (t->num_partitions > 0 || t->replication_factor > 0 ||
            t->n_assignments > (size_t)defs->max_partitions_per_topic)
            return RIFFLE__ERROR_CODE__INVALID_REQUEST;
        *np = (int32_t)t->n_assignments;
        *rf = (int32_t)t->assignments[0]->n_broker_ids;
        rc = check_assignments(img, t->assignments, t->n_assignments, 0,
                               (size_t)*rf, why);
        return rc != E_NONE ? rc : check_configs(t, why);
    }
    *np = t->num_partitions == -1 ? defs->num_partitions : t->num_partitions;
    *rf = t->replication_factor == -1 ? defs->default_replication
                                      : t->replication_factor;
    *why = "partition count out of range";
    if (*np < 1 || *np > defs->max_partitions_per_topic)
        return RIFFLE__ERROR_CODE__INVALID_PARTITIONS;
    *why = "replication factor larger than the unfenced brokers";
    if (*rf < 1 || *rf > RF_META_MAX_REPLICAS || (size_t)*rf > pl->n)
        return RIFFLE__ERROR_CODE__INVALID_REPLICATION_FACTOR;
    return check_configs(t, why);
}

static void add_topic(const struct rf_meta_image *img, const struct pool *pl,
                      Riffle__MetadataCommand *cmd,
                      const Riffle__CreatableTopic *t, const struct rf_uuid *id,
                      int32_t np, int32_t rf, size_t *placed)
{
    Riffle__TopicRecord *tr =
        rf__meta_cmd_add(cmd, RIFFLE__METADATA_RECORD__RECORD_TOPIC);
    tr->name = rf_strdup(t->name);
    rf__meta_bytes_set(&tr->topic_id, id->b, sizeof(id->b));
    if (t->n_assignments > 0)
        add_assigned(img, cmd, id, t->assignments, t->n_assignments, 0);
    else
        add_placed(pl, cmd, id, 0, (size_t)np, (size_t)rf, *placed % pl->n);
    *placed += (size_t)np;
    for (size_t i = 0; i < t->n_configs; i++) {
        Riffle__ConfigRecord *c =
            rf__meta_cmd_add(cmd, RIFFLE__METADATA_RECORD__RECORD_CONFIG);
        c->resource_type = RIFFLE__CONFIG_RESOURCE_TYPE__CONFIG_RESOURCE_TOPIC;
        c->resource_name = rf_strdup(t->name);
        c->name = rf_strdup(t->configs[i]->name);
        c->value = rf_strdup(t->configs[i]->value);
    }
}

int rf_meta_build_create_topics(const struct rf_meta_image *img,
                                const struct rf_meta_defaults *defs,
                                const Riffle__CreateTopicsRequest *req,
                                Riffle__MetadataCommand *cmd,
                                Riffle__CreateTopicsResponse *resp)
{
    struct pool pl;
    size_t placed = total_partitions(img);
    pool_init(img, &pl);
    copy_request_id(cmd, &req->request_id);
    resp->topics = rf_malloc((req->n_topics + 1) * sizeof(*resp->topics));
    resp->n_topics = 0;
    for (size_t i = 0; i < req->n_topics; i++) {
        const Riffle__CreatableTopic *t = req->topics[i];
        Riffle__CreateTopicResult *res = rf_malloc(sizeof(*res));
        const char *why = NULL;
        int32_t np = 0, rf = 0;
        riffle__create_topic_result__init(res);
        resp->topics[resp->n_topics++] = res;
        res->name = rf__meta_strdup(t->name);
        res->error = (Riffle__ErrorCode)check_creatable(img, defs, &pl, req, i,
                                                        &np, &rf, &why);
        if (res->error != E_NONE) {
            set_error(&res->error_message, why);
            continue;
        }
        struct rf_uuid id;
        do
            rf_uuid_generate(&id);
        while (rf__meta_topic_by_id(img, &id) != NULL);
        rf__meta_bytes_set(&res->topic_id, id.b, sizeof(id.b));
        res->num_partitions = np;
        res->replication_factor = rf;
        if (!req->validate_only)
            add_topic(img, &pl, cmd, t, &id, np, rf, &placed);
    }
    pool_free(&pl);
    return cmd->n_records > 0 ? 0 : RF_ENOENT;
}

/* ---- DeleteTopics ---- */

int rf_meta_build_delete_topics(const struct rf_meta_image *img,
                                const Riffle__DeleteTopicsRequest *req,
                                Riffle__MetadataCommand *cmd,
                                Riffle__DeleteTopicsResponse *resp)
{
    copy_request_id(cmd, &req->request_id);
    resp->topics = rf_malloc((req->n_names + 1) * sizeof(*resp->topics));
    resp->n_topics = 0;
    for (size_t i = 0; i < req->n_names; i++) {
        const char *name = req->names[i];
        const struct meta_topic *t = rf__meta_topic_by_name(img, name);
        Riffle__DeleteTopicResult *res = rf_malloc(sizeof(*res));
        riffle__delete_topic_result__init(res);
        resp->topics[resp->n_topics++] = res;
        res->name = rf__meta_strdup(name);
        bool dup = false;
        for (size_t j = 0; j < i; j++)
            dup = dup || strcmp(req->names[j], name) == 0;
        if (t == NULL) {
            res->error = RIFFLE__ERROR_CODE__UNKNOWN_TOPIC;
            set_error(&res->error_message, "unknown topic");
        } else if (rf__meta_is_internal(name) || dup) {
            res->error = RIFFLE__ERROR_CODE__INVALID_REQUEST;
            set_error(&res->error_message,
                      dup ? "topic named twice" : "internal topic");
        } else {
            Riffle__RemoveTopicRecord *r = rf__meta_cmd_add(
                cmd, RIFFLE__METADATA_RECORD__RECORD_REMOVE_TOPIC);
            rf__meta_bytes_set(&r->topic_id, t->id.b, sizeof(t->id.b));
        }
    }
    return cmd->n_records > 0 ? 0 : RF_ENOENT;
}

/* ---- CreatePartitions ---- */

static size_t topic_rf(const struct meta_topic *mt)
{
    return mt->n_parts > 0 ? mt->parts[0].n_replicas : 1;
}

static int check_more(const struct rf_meta_image *img,
                      const struct rf_meta_defaults *defs,
                      const struct pool *pl,
                      const Riffle__CreatePartitionsTopic *t,
                      const struct meta_topic *mt, const char **why)
{
    *why = "unknown topic";
    if (mt == NULL)
        return RIFFLE__ERROR_CODE__UNKNOWN_TOPIC;
    *why = "count must exceed the current partition count";
    if (t->count <= 0 || (size_t)t->count <= mt->n_parts ||
        t->count > defs->max_partitions_per_topic)
        return RIFFLE__ERROR_CODE__INVALID_PARTITIONS;
    size_t rf = topic_rf(mt);
    size_t add = (size_t)t->count - mt->n_parts;
    if (t->n_assignments > 0) {
        *why = "one assignment per new partition";
        if (t->n_assignments != add)
            return RIFFLE__ERROR_CODE__INVALID_REPLICA_ASSIGNMENT;
        return check_assignments(img, t->assignments, add, mt->n_parts, rf,
                                 why);
    }
    *why = "replication factor larger than the unfenced brokers";
    if (rf > pl->n)
        return RIFFLE__ERROR_CODE__INVALID_REPLICATION_FACTOR;
    return E_NONE;
}

int rf_meta_build_create_partitions(const struct rf_meta_image *img,
                                    const struct rf_meta_defaults *defs,
                                    const Riffle__CreatePartitionsRequest *req,
                                    Riffle__MetadataCommand *cmd,
                                    Riffle__CreatePartitionsResponse *resp)
{
    struct pool pl;
    pool_init(img, &pl);
    copy_request_id(cmd, &req->request_id);
    resp->results = rf_malloc((req->n_topics + 1) * sizeof(*resp->results));
    resp->n_results = 0;
    for (size_t i = 0; i < req->n_topics; i++) {
        const Riffle__CreatePartitionsTopic *t = req->topics[i];
        const struct meta_topic *mt = rf__meta_topic_by_name(img, t->name);
        Riffle__DeleteTopicResult *res = rf_malloc(sizeof(*res));
        const char *why = NULL;
        riffle__delete_topic_result__init(res);
        resp->results[resp->n_results++] = res;
        res->name = rf__meta_strdup(t->name);
        for (size_t j = 0; j < i && mt != NULL; j++)
            if (strcmp(req->topics[j]->name, t->name) == 0)
                mt = NULL; /* named twice: the later one is unknown */
        res->error = (Riffle__ErrorCode)check_more(img, defs, &pl, t, mt, &why);
        if (res->error != E_NONE) {
            set_error(&res->error_message, why);
            continue;
        }
        if (req->validate_only)
            continue;
        if (t->n_assignments > 0)
            add_assigned(img, cmd, &mt->id, t->assignments, t->n_assignments,
                         mt->n_parts);
        else
            add_placed(&pl, cmd, &mt->id, mt->n_parts,
                       (size_t)t->count - mt->n_parts, topic_rf(mt),
                       total_partitions(img) % pl.n);
    }
    pool_free(&pl);
    return cmd->n_records > 0 ? 0 : RF_ENOENT;
}
