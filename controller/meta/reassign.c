/* reassign.c: partition reassignment (Kafka's AlterPartitionReassignments,
 * KIP-455): the builder that starts moves and the completion rule the
 * active controller runs. Both only build PartitionChange records; apply
 * re-validates them (apply.c check_target). */
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "err.h"
#include "meta_int.h"

#define E_NONE RIFFLE__ERROR_CODE__NONE
/* Items per AlterReassignments request (the duplicate check is quadratic;
 * the CLI sends larger drains in several requests). */
#define MAX_ITEMS 10000

static bool has(const int32_t *v, size_t n, int32_t x)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] == x)
            return true;
    return false;
}

static bool same_list(const int32_t *a, size_t na, const int32_t *b, size_t nb)
{
    return na == nb && (na == 0 || memcmp(a, b, na * sizeof(*a)) == 0);
}

static bool unfenced(const struct rf_meta_image *img, int32_t id)
{
    const struct meta_broker *b = rf__meta_broker_find(img, id);
    return b != NULL && b->state == RIFFLE__BROKER_STATE__BROKER_UNFENCED;
}

void rf__meta_change_keep_target(Riffle__PartitionChangeRecord *r,
                                 const struct meta_part *cur)
{
    if (cur->n_target == 0)
        return;
    r->reassigning = true;
    r->n_target_replicas = cur->n_target;
    r->target_replicas = rf__meta_i32dup(cur->target, cur->n_target);
}

/* A PartitionChange for partition p of t from explicit fields; the caller
 * fills the target. */
static Riffle__PartitionChangeRecord *
add_change(Riffle__MetadataCommand *cmd, const struct meta_topic *t, size_t p,
           const int32_t *replicas, size_t n_replicas, const int32_t *isr,
           size_t n_isr, int32_t leader)
{
    const struct meta_part *cur = &t->parts[p];
    Riffle__PartitionChangeRecord *r =
        rf__meta_cmd_add(cmd, RIFFLE__METADATA_RECORD__RECORD_PARTITION_CHANGE);
    rf__meta_bytes_set(&r->topic_id, t->id.b, sizeof(t->id.b));
    r->partition_id = (int32_t)p;
    r->n_replicas = n_replicas;
    r->replicas = rf__meta_i32dup(replicas, n_replicas);
    r->n_isr = n_isr;
    r->isr = rf__meta_i32dup(isr, n_isr);
    r->leader = leader;
    r->leader_epoch = cur->leader_epoch + (leader != cur->leader);
    r->partition_epoch = cur->partition_epoch + 1;
    return r;
}

/* ---- AlterReassignments ---- */

static bool item_earlier(const Riffle__AlterReassignmentsRequest *req,
                         size_t i)
{
    const Riffle__PartitionReassignment *it = req->partitions[i];
    for (size_t j = 0; j < i; j++) {
        const Riffle__PartitionReassignment *o = req->partitions[j];
        if (o->partition == it->partition && strcmp(o->topic, it->topic) == 0)
            return true;
    }
    return false;
}

/* Replicas while moving: the current ones, then the target's new members.
 * Returns the count, or 0 when it would exceed RF_META_MAX_REPLICAS. */
static size_t moving_replicas(const struct meta_part *cur,
                              const int32_t *target, size_t n_target,
                              int32_t *out)
{
    size_t n = cur->n_replicas;
    memcpy(out, cur->replicas, n * sizeof(*out));
    for (size_t i = 0; i < n_target; i++) {
        if (has(out, n, target[i]))
            continue;
        if (n == RF_META_MAX_REPLICAS)
            return 0;
        out[n++] = target[i];
    }
    return n;
}

static int check_target_list(const struct rf_meta_image *img,
                             const Riffle__PartitionReassignment *it,
                             char *why, size_t why_size)
{
    if (it->n_replicas < 1 || it->n_replicas > RF_META_MAX_REPLICAS) {
        snprintf(why, why_size, "the replica list must name 1..%d brokers",
                 RF_META_MAX_REPLICAS);
        return RIFFLE__ERROR_CODE__INVALID_REPLICA_ASSIGNMENT;
    }
    for (size_t i = 0; i < it->n_replicas; i++) {
        int32_t b = it->replicas[i];
        if (has(it->replicas, i, b)) {
            snprintf(why, why_size, "broker %d named twice", (int)b);
            return RIFFLE__ERROR_CODE__INVALID_REPLICA_ASSIGNMENT;
        }
        if (b < 0 || rf__meta_broker_find(img, b) == NULL) {
            snprintf(why, why_size, "broker %d is not registered", (int)b);
            return RIFFLE__ERROR_CODE__INVALID_REPLICA_ASSIGNMENT;
        }
    }
    return E_NONE;
}

/* Validates item i; *tout is its topic on success. */
static int check_item(const struct rf_meta_image *img,
                      const Riffle__AlterReassignmentsRequest *req, size_t i,
                      const struct meta_topic **tout, char *why,
                      size_t why_size)
{
    const Riffle__PartitionReassignment *it = req->partitions[i];
    const struct meta_topic *t = rf__meta_topic_by_name(img, it->topic);
    *tout = t;
    if (i >= MAX_ITEMS) {
        snprintf(why, why_size, "more than %d partitions in one request",
                 MAX_ITEMS);
        return RIFFLE__ERROR_CODE__INVALID_REQUEST;
    }
    if (t == NULL) {
        snprintf(why, why_size, "unknown topic");
        return RIFFLE__ERROR_CODE__UNKNOWN_TOPIC;
    }
    if (it->partition < 0 || (size_t)it->partition >= t->n_parts) {
        snprintf(why, why_size, "unknown partition");
        return RIFFLE__ERROR_CODE__UNKNOWN_PARTITION;
    }
    if (item_earlier(req, i)) {
        snprintf(why, why_size, "partition named twice in the request");
        return RIFFLE__ERROR_CODE__INVALID_REQUEST;
    }
    return check_target_list(img, it, why, why_size);
}

/* Adds the record that starts (or retargets) one move; false when the
 * replica list during the move would be too long. */
static bool start_move(Riffle__MetadataCommand *cmd, const struct meta_topic *t,
                       const Riffle__PartitionReassignment *it)
{
    const struct meta_part *cur = &t->parts[it->partition];
    int32_t replicas[RF_META_MAX_REPLICAS];
    size_t n = moving_replicas(cur, it->replicas, it->n_replicas, replicas);
    if (n == 0)
        return false;
    Riffle__PartitionChangeRecord *r =
        add_change(cmd, t, (size_t)it->partition, replicas, n, cur->isr,
                   cur->n_isr, cur->leader);
    r->reassigning = true;
    r->n_target_replicas = it->n_replicas;
    r->target_replicas = rf__meta_i32dup(it->replicas, it->n_replicas);
    return true;
}

static bool is_noop(const struct meta_part *cur,
                    const Riffle__PartitionReassignment *it)
{
    if (cur->n_target > 0)
        return same_list(it->replicas, it->n_replicas, cur->target,
                         cur->n_target);
    return same_list(it->replicas, it->n_replicas, cur->replicas,
                     cur->n_replicas);
}

int rf_meta_build_reassign(const struct rf_meta_image *img,
                           const Riffle__AlterReassignmentsRequest *req,
                           Riffle__MetadataCommand *cmd,
                           Riffle__AlterReassignmentsResponse *resp)
{
    rf__meta_bytes_set(&cmd->request_id, req->request_id.data,
                       req->request_id.len);
    resp->results = rf_malloc((req->n_partitions + 1) * sizeof(*resp->results));
    resp->n_results = 0;
    for (size_t i = 0; i < req->n_partitions; i++) {
        const Riffle__PartitionReassignment *it = req->partitions[i];
        const struct meta_topic *t;
        char why[128] = "";
        Riffle__ReassignmentResult *res = rf_malloc(sizeof(*res));
        riffle__reassignment_result__init(res);
        resp->results[resp->n_results++] = res;
        res->topic = rf__meta_strdup(it->topic);
        res->partition = it->partition;
        res->error =
            (Riffle__ErrorCode)check_item(img, req, i, &t, why, sizeof(why));
        if (res->error == E_NONE && !is_noop(&t->parts[it->partition], it) &&
            !start_move(cmd, t, it)) {
            res->error = RIFFLE__ERROR_CODE__INVALID_REPLICA_ASSIGNMENT;
            snprintf(why, sizeof(why), "more than %d replicas during the move",
                     RF_META_MAX_REPLICAS);
        }
        res->error_message = rf_strdup(why);
    }
    return cmd->n_records > 0 ? 0 : RF_ENOENT;
}

/* ---- completion ---- */

/* The leader after the move: the current one if it stays, else the first
 * target member (target order: the preferred replica first) in the new
 * ISR that is unfenced; -1 when none is (the move waits). */
static int32_t next_leader(const struct rf_meta_image *img,
                           const struct meta_part *cur, const int32_t *isr,
                           size_t n_isr)
{
    if (cur->leader != -1 && has(cur->target, cur->n_target, cur->leader))
        return cur->leader;
    for (size_t i = 0; i < cur->n_target; i++)
        if (has(isr, n_isr, cur->target[i]) && unfenced(img, cur->target[i]))
            return cur->target[i];
    return -1;
}

static void complete_one(const struct rf_meta_image *img,
                         Riffle__MetadataCommand *cmd,
                         const struct meta_topic *t, size_t p)
{
    const struct meta_part *cur = &t->parts[p];
    int32_t isr[RF_META_MAX_REPLICAS];
    size_t n_isr = 0;
    for (size_t i = 0; i < cur->n_target; i++)
        if (!has(cur->isr, cur->n_isr, cur->target[i]))
            return; /* a target replica is still catching up */
    for (size_t i = 0; i < cur->n_isr; i++)
        if (has(cur->target, cur->n_target, cur->isr[i]))
            isr[n_isr++] = cur->isr[i];
    int32_t leader = next_leader(img, cur, isr, n_isr);
    if (leader == -1)
        return;
    add_change(cmd, t, p, cur->target, cur->n_target, isr, n_isr, leader);
}

int rf_meta_build_reassign_complete(const struct rf_meta_image *img,
                                    Riffle__MetadataCommand *cmd)
{
    for (size_t i = 0; i < img->n_topics; i++) {
        const struct meta_topic *t = img->by_name[i];
        for (size_t p = 0; p < t->n_parts; p++)
            if (t->parts[p].n_target > 0)
                complete_one(img, cmd, t, p);
    }
    return cmd->n_records > 0 ? 0 : RF_ENOENT;
}

size_t rf_meta_reassigning_count(const struct rf_meta_image *img)
{
    size_t n = 0;
    for (size_t i = 0; i < img->n_topics; i++) {
        const struct meta_topic *t = img->by_name[i];
        for (size_t p = 0; p < t->n_parts; p++)
            n += t->parts[p].n_target > 0;
    }
    return n;
}
