/* parts.c: the broker's partition table (parts.h): synced from the metadata
 * image, logs opened where this broker is a replica, leader state, the high
 * watermark, and the waiter lists the data path sleeps on.
 *
 * Happy path: rf_parts_sync() walks the image's topics in name order and
 * builds a new sorted topic array, reusing the topic (and its partitions,
 * open logs and waiters) whose name and topic id are unchanged. Topics left
 * over from the old array were deleted (or re-created under a new id): their
 * waiters are woken GONE, their logs closed and their directories removed.
 *
 * Failure modes: a log that fails to open keeps its error in open_error and
 * is retried at the next sync; a directory that cannot be removed is logged
 * and left behind. Removing directories is blocking I/O on the loop thread;
 * it only happens on topic deletion. */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "clock.h"
#include "data_int.h"
#include "err.h"
#include "log.h"

struct topic;

/* rf_part plus what only this file needs; pub must stay first. */
struct part_x {
    struct rf_part pub;
    struct topic *t;
    struct rf_parts *ps;
    bool flush_pending; /* rf_parts_flush_leader's flush in flight */
};

struct topic {
    char *name; /* owned */
    size_t name_len;
    struct rf_uuid id;
    struct rf__topic_conf conf;
    struct rf_log_config log_conf; /* broker defaults + topic overrides */
    struct rf_part **parts;        /* owned, index order */
    size_t n;
    bool kept; /* during a sync: still in the image */
};

struct rf_parts {
    uv_loop_t *loop;
    int32_t broker_id;
    char *log_dir; /* owned */
    struct rf_log_config log_conf;
    struct rf_flusher *flusher;
    struct topic **topics; /* owned, sorted by name */
    size_t n_topics;
    uint64_t wake_round;
    uint64_t isr_shrinks, isr_expands; /* metrics: rf_parts_isr_changes */
};

/* ---- waiters ---- */

void rf__parts_wait(struct rf_part *p, struct rf__waiter *w)
{
    struct rf__waiter *head = p->waiters;
    w->prev = NULL;
    w->next = head;
    if (head != NULL)
        head->prev = w;
    p->waiters = w;
    w->part = p;
}

void rf__parts_unwait(struct rf__waiter *w)
{
    struct rf_part *p = w->part;
    if (p == NULL)
        return;
    if (w->prev != NULL)
        w->prev->next = w->next;
    else
        p->waiters = w->next;
    if (w->next != NULL)
        w->next->prev = w->prev;
    w->next = w->prev = NULL;
    w->part = NULL;
}

/* Wake every waiter of p once. A wake may unlink any waiter (its request's
 * others included), so after each call the walk restarts from the head and
 * skips the waiters already woken in this round. */
static void wake_all(struct rf_parts *ps, struct rf_part *p, enum rf__wake why)
{
    uint64_t round = ++ps->wake_round;
    struct rf__waiter *w = p->waiters;
    while (w != NULL) {
        if (w->woken_round == round) {
            w = w->next;
            continue;
        }
        w->woken_round = round;
        if (why != RF__WAKE_PROGRESS)
            rf__parts_unwait(w);
        w->wake(w, why);
        w = p->waiters;
    }
}

const struct rf__topic_conf *rf__parts_topic_conf(const struct rf_part *p)
{
    return &((const struct part_x *)p)->t->conf;
}

/* ---- high watermark ---- */

static bool isr_is_only_me(const struct rf_part *p, int32_t me)
{
    return p->n_isr == 1 && p->isr[0] == me;
}

/* Leader with other ISR members: the smallest durable offset over the ISR,
 * the leader's own included (docs/replication.md); -1 while a member's is
 * unknown in this leadership. */
static int64_t isr_min_durable(const struct rf_parts *ps,
                               const struct rf_part *p)
{
    int64_t min = rf_log_durable_offset(p->log);
    for (size_t i = 0; i < p->n_isr; i++) {
        if (p->isr[i] == ps->broker_id)
            continue;
        int64_t d = -1;
        for (size_t j = 0; j < p->n_replicas; j++)
            if (p->replicas[j] == p->isr[i] && p->rstate != NULL)
                d = p->rstate[j].durable;
        if (d < min)
            min = d;
    }
    return min;
}

/* The leader moves the high watermark: to the log end offset when the ISR
 * is just this broker (acks=all waits for the leader's own fsync itself),
 * else to the smallest durable offset over the ISR, never backwards.
 * Returns true when it moved. */
static bool update_hwm(struct rf_parts *ps, struct rf_part *p)
{
    int64_t old = p->high_watermark;
    if (p->log == NULL)
        return false;
    if (p->is_leader && isr_is_only_me(p, ps->broker_id)) {
        p->high_watermark = rf_log_end_offset(p->log);
    } else if (p->is_leader) {
        int64_t min = isr_min_durable(ps, p);
        if (min > p->high_watermark)
            p->high_watermark = min;
    }
    if (p->high_watermark > rf_log_end_offset(p->log))
        p->high_watermark = rf_log_end_offset(p->log);
    return p->high_watermark != old;
}

void rf_parts_on_progress(struct rf_parts *ps, struct rf_part *p)
{
    update_hwm(ps, p);
    wake_all(ps, p, RF__WAKE_PROGRESS);
}

static void on_leader_durable(void *data, int status, int64_t durable_offset)
{
    struct part_x *x = data;
    (void)durable_offset;
    /* RF_ECANCELED comes from rf_log_close, before the partition is freed. */
    x->flush_pending = false;
    if (status == 0)
        rf_parts_on_progress(x->ps, &x->pub);
}

void rf_parts_flush_leader(struct rf_parts *ps, struct rf_part *p)
{
    struct part_x *x = (struct part_x *)p;
    (void)ps;
    if (x->flush_pending || p->log == NULL ||
        rf_log_durable_offset(p->log) >= rf_log_end_offset(p->log))
        return;
    if (rf_log_flush(p->log, rf_log_end_offset(p->log), on_leader_durable,
                     x) == 0)
        x->flush_pending = true;
}

/* ---- lifecycle of one partition ---- */

static void checkpoint_hwm(struct rf_part *p)
{
    char errmsg[RF_ERRMSG_SIZE];
    if (p->log == NULL || p->high_watermark == rf_log_high_watermark(p->log))
        return;
    if (rf_log_checkpoint_high_watermark(p->log, p->high_watermark, errmsg) !=
        0)
        RF_WARN("tp=%s-%" PRId32 ": high watermark checkpoint: %s", p->topic,
                p->index, errmsg);
}

static void close_log(struct rf_part *p)
{
    checkpoint_hwm(p);
    rf_log_close(p->log);
    p->log = NULL;
}

static void open_log(struct rf_parts *ps, struct topic *t, struct rf_part *p)
{
    char errmsg[RF_ERRMSG_SIZE];
    int rc = rf_log_open(ps->log_dir, t->name, p->index, &t->log_conf,
                         ps->flusher, &p->log, errmsg);
    if (rc != 0) {
        if (p->open_error == 0)
            RF_ERROR("tp=%s-%" PRId32 ": open log: %s", t->name, p->index,
                     errmsg);
        p->log = NULL;
        p->open_error = rc;
        return;
    }
    p->open_error = 0;
    p->high_watermark = rf_log_high_watermark(p->log);
}

/* Remove <log_dir>/<topic>-<index> and the files in it (the partition
 * directory holds plain files only). */
static void remove_dir(struct rf_parts *ps, const char *topic, int32_t index)
{
    char *dir = rf_asprintf("%s/%s-%" PRId32, ps->log_dir, topic, index);
    DIR *d = opendir(dir);
    if (d == NULL) {
        if (errno != ENOENT)
            RF_WARN("remove %s: %s", dir, strerror(errno));
        rf_free(dir);
        return;
    }
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (unlinkat(dirfd(d), de->d_name, 0) != 0)
            RF_WARN("remove %s/%s: %s", dir, de->d_name, strerror(errno));
    }
    closedir(d);
    if (rmdir(dir) != 0)
        RF_WARN("remove %s: %s", dir, strerror(errno));
    else
        RF_INFO("removed partition directory %s", dir);
    rf_free(dir);
}

static void part_free(struct rf_part *p)
{
    rf_free(p->topic);
    rf_free(p->replicas);
    rf_free(p->isr);
    rf_free(p->rstate);
    rf_free(p);
}

/* The partition is leaving the table: wake its waiters, close its log and,
 * when delete_dir, remove its directory. */
static void part_remove(struct rf_parts *ps, struct rf_part *p, bool delete_dir)
{
    wake_all(ps, p, RF__WAKE_GONE);
    close_log(p);
    if (delete_dir)
        remove_dir(ps, p->topic, p->index);
    part_free(p);
}

static void topic_free(struct topic *t)
{
    rf_free(t->parts);
    rf_free(t->name);
    rf_free(t);
}

static void topic_remove(struct rf_parts *ps, struct topic *t, bool delete_dir)
{
    for (size_t i = 0; i < t->n; i++)
        part_remove(ps, t->parts[i], delete_dir);
    topic_free(t);
}

/* ---- new/free ---- */

int rf_parts_new(uv_loop_t *loop, const struct rf_parts_opts *opts,
                 struct rf_parts **out)
{
    if (opts->log_dir == NULL || opts->log_dir[0] == '\0' ||
        opts->broker_id < 0)
        return RF_EINVAL;
    struct rf_parts *ps = rf_calloc(1, sizeof(*ps));
    ps->loop = loop;
    ps->broker_id = opts->broker_id;
    ps->log_dir = rf_strdup(opts->log_dir);
    ps->log_conf = opts->log_conf;
    ps->flusher = opts->flusher;
    *out = ps;
    return 0;
}

void rf_parts_free(struct rf_parts *ps)
{
    if (ps == NULL)
        return;
    for (size_t i = 0; i < ps->n_topics; i++)
        topic_remove(ps, ps->topics[i], false);
    rf_free(ps->topics);
    rf_free(ps->log_dir);
    rf_free(ps);
}

/* ---- lookup ---- */

static int name_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);
    if (c != 0)
        return c;
    return alen < blen ? -1 : alen > blen ? 1 : 0;
}

static struct topic *topic_find(struct topic *const *v, size_t n,
                                const char *name, size_t len)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = name_cmp(v[mid]->name, v[mid]->name_len, name, len);
        if (c == 0)
            return v[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

struct rf_part *rf_parts_get(struct rf_parts *ps, const char *topic,
                             size_t topic_len, int32_t index)
{
    struct topic *t = topic_find(ps->topics, ps->n_topics, topic, topic_len);
    if (t == NULL || index < 0 || (size_t)index >= t->n)
        return NULL;
    return t->parts[index];
}

int32_t rf_parts_topic_partitions(struct rf_parts *ps, const char *topic,
                                  size_t topic_len)
{
    struct topic *t = topic_find(ps->topics, ps->n_topics, topic, topic_len);
    return t != NULL ? (int32_t)t->n : 0;
}

bool rf_parts_topic_at(struct rf_parts *ps, size_t i, const char **name,
                       struct rf_part *const **parts, size_t *n)
{
    if (i >= ps->n_topics)
        return false;
    *name = ps->topics[i]->name;
    *parts = ps->topics[i]->parts;
    *n = ps->topics[i]->n;
    return true;
}

size_t rf_parts_topic_count(const struct rf_parts *ps)
{
    return ps->n_topics;
}

/* ---- sync ---- */

static bool parse_long(const char *v, int64_t *out)
{
    char *end;
    if (v == NULL || v[0] == '\0')
        return false;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (errno != 0 || *end != '\0')
        return false;
    *out = x;
    return true;
}

/* Topic configs we act on; the controller validated their values. */
static void topic_configs(struct rf_parts *ps, struct topic *t,
                          const Riffle__TopicDescription *td)
{
    int64_t v;
    t->conf.max_message_bytes = -1;
    t->conf.min_insync = -1;
    t->conf.log_append_time = false;
    t->log_conf = ps->log_conf;
    for (size_t i = 0; i < td->n_configs; i++) {
        const char *k = td->configs[i]->name, *s = td->configs[i]->value;
        if (k == NULL || s == NULL)
            continue;
        if (strcmp(k, "message.timestamp.type") == 0)
            t->conf.log_append_time = strcmp(s, "LogAppendTime") == 0;
        else if (!parse_long(s, &v))
            continue;
        else if (strcmp(k, "max.message.bytes") == 0 && v >= 0)
            t->conf.max_message_bytes = v;
        else if (strcmp(k, "min.insync.replicas") == 0 && v >= 1 &&
                 v <= INT32_MAX)
            t->conf.min_insync = (int32_t)v;
        else if (strcmp(k, "segment.bytes") == 0 && v >= 1024)
            t->log_conf.segment_bytes = (uint64_t)v;
        else if (strcmp(k, "segment.ms") == 0)
            t->log_conf.segment_ms = v;
        else if (strcmp(k, "retention.ms") == 0)
            t->log_conf.retention_ms = v;
        else if (strcmp(k, "retention.bytes") == 0)
            t->log_conf.retention_bytes = v;
    }
}

static bool contains(const int32_t *v, size_t n, int32_t x)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] == x)
            return true;
    return false;
}

static void copy_ids(int32_t **dst, size_t *n_dst, const int32_t *src, size_t n)
{
    if (*n_dst != n)
        *dst = rf_realloc(*dst, (n > 0 ? n : 1) * sizeof(**dst));
    if (n > 0)
        memcpy(*dst, src, n * sizeof(**dst));
    *n_dst = n;
}

static struct rf_part *part_new(struct rf_parts *ps, struct topic *t,
                                int32_t index)
{
    struct part_x *x = rf_calloc(1, sizeof(*x));
    x->t = t;
    x->ps = ps;
    x->pub.topic = rf_strdup(t->name);
    x->pub.topic_id = t->id;
    x->pub.index = index;
    x->pub.internal = strncmp(t->name, "__", 2) == 0;
    x->pub.leader = -1;
    x->pub.high_watermark = 0;
    return &x->pub;
}

/* A new leadership (or replica set): forget what followers reported. */
static void reset_rstate(struct rf_part *p)
{
    uint64_t now = rf_clock_mono_ms();
    rf_free(p->rstate);
    p->rstate = rf_calloc(p->n_replicas + 1, sizeof(*p->rstate));
    for (size_t i = 0; i < p->n_replicas; i++) {
        p->rstate[i].log_end = -1;
        p->rstate[i].durable = -1;
        p->rstate[i].caught_up_ms = now;
        p->rstate[i].last_fetch_leo = INT64_MAX;
    }
}

/* A partition led here before and after this change: count ISR members
 * lost and gained, whoever removed them (this leader's AlterPartition, or
 * the controller fencing a follower). */
static void count_isr_change(struct rf_parts *ps, const struct rf_part *p,
                             const Riffle__PartitionDescription *pd)
{
    bool shrink = false, expand = false;
    for (size_t i = 0; i < p->n_isr; i++)
        shrink |= !contains(pd->isr, pd->n_isr, p->isr[i]);
    for (size_t i = 0; i < pd->n_isr; i++)
        expand |= !contains(p->isr, p->n_isr, pd->isr[i]);
    ps->isr_shrinks += shrink;
    ps->isr_expands += expand;
}

/* One info line per leader or ISR change of a partition this broker
 * hosts (the controller logs why: a fence, a controlled shutdown, a
 * preferred-leader election, a reassignment, an AlterPartition). */
static void log_change(const struct rf_parts *ps, const struct rf_part *p,
                       const Riffle__PartitionDescription *pd, bool first)
{
    char isr[128];
    bool hosted = contains(pd->replicas, pd->n_replicas, ps->broker_id);
    bool isr_changed = p->n_isr != pd->n_isr ||
                       (p->n_isr > 0 &&
                        memcmp(p->isr, pd->isr, p->n_isr * sizeof(*p->isr)) !=
                            0);
    if (!hosted && !p->hosted)
        return;
    if (!first && p->leader == pd->leader &&
        p->leader_epoch == pd->leader_epoch && !isr_changed)
        return;
    rf_log_ids(isr, sizeof(isr), pd->isr, pd->n_isr);
    if (first || p->leader != pd->leader || p->leader_epoch != pd->leader_epoch)
        RF_INFO("tp=%s-%" PRId32 ": leader %" PRId32 " -> %" PRId32
                " epoch=%" PRId32 " isr=%s role=%s",
                p->topic, p->index, first ? -1 : p->leader, pd->leader,
                pd->leader_epoch, isr,
                !hosted                        ? "none"
                : pd->leader == ps->broker_id ? "leader"
                                               : "follower");
    else
        RF_INFO("tp=%s-%" PRId32 ": isr %s (leader %" PRId32 " epoch=%" PRId32
                ")", p->topic, p->index, isr, pd->leader, pd->leader_epoch);
}

/* Bring one partition in line with its description. */
static void part_update(struct rf_parts *ps, struct topic *t, struct rf_part *p,
                        const Riffle__PartitionDescription *pd)
{
    bool was_leader = p->is_leader;
    log_change(ps, p, pd, p->rstate == NULL);
    bool reset = p->rstate == NULL || p->n_replicas != pd->n_replicas ||
                 p->leader_epoch != pd->leader_epoch ||
                 (p->n_replicas > 0 &&
                  memcmp(p->replicas, pd->replicas,
                         p->n_replicas * sizeof(*p->replicas)) != 0);
    if (was_leader && pd->leader == ps->broker_id)
        count_isr_change(ps, p, pd);
    copy_ids(&p->replicas, &p->n_replicas, pd->replicas, pd->n_replicas);
    copy_ids(&p->isr, &p->n_isr, pd->isr, pd->n_isr);
    p->leader = pd->leader;
    p->leader_epoch = pd->leader_epoch;
    p->partition_epoch = pd->partition_epoch;
    p->hosted = contains(p->replicas, p->n_replicas, ps->broker_id);
    p->is_leader = p->hosted && p->leader == ps->broker_id;
    if (reset || (p->is_leader && !was_leader))
        reset_rstate(p);
    if (p->hosted && p->log == NULL)
        open_log(ps, t, p);
    if (!p->hosted && p->log != NULL) {
        /* No longer a replica (reassignment): close, keep the data. */
        close_log(p);
        p->open_error = 0;
    }
    if (was_leader && (!p->is_leader || p->log == NULL)) {
        checkpoint_hwm(p);
        wake_all(ps, p, RF__WAKE_NOT_LEADER);
    } else if (update_hwm(ps, p) && p->is_leader) {
        wake_all(ps, p, RF__WAKE_PROGRESS);
    }
}

static void topic_update(struct rf_parts *ps, struct topic *t,
                         const Riffle__TopicDescription *td)
{
    size_t n = td->n_partitions;
    topic_configs(ps, t, td);
    /* Partitions are never removed from a live topic in Kafka; if the image
     * says fewer, drop the extra ones (keeping their data). */
    for (size_t i = n; i < t->n; i++)
        part_remove(ps, t->parts[i], false);
    if (n != t->n)
        t->parts = rf_realloc(t->parts, (n > 0 ? n : 1) * sizeof(*t->parts));
    for (size_t i = t->n; i < n; i++)
        t->parts[i] = part_new(ps, t, (int32_t)i);
    t->n = n;
    for (size_t i = 0; i < n; i++) {
        const Riffle__PartitionDescription *pd = td->partitions[i];
        if (pd != NULL && pd->partition == (int32_t)i)
            part_update(ps, t, t->parts[i], pd);
        else
            RF_WARN("topic %s: partition %zu missing from the image", t->name,
                    i);
    }
}

static struct topic *topic_new(const Riffle__TopicDescription *td,
                               const struct rf_uuid *id)
{
    struct topic *t = rf_calloc(1, sizeof(*t));
    t->name = rf_strdup(td->name);
    t->name_len = strlen(t->name);
    t->id = *id;
    return t;
}

static void topic_id_of(const Riffle__TopicDescription *td, struct rf_uuid *id)
{
    memset(id, 0, sizeof(*id));
    if (td->topic_id.len == sizeof(id->b))
        memcpy(id->b, td->topic_id.data, sizeof(id->b));
}

static int topic_ptr_cmp(const void *a, const void *b)
{
    const struct topic *x = *(struct topic *const *)a;
    const struct topic *y = *(struct topic *const *)b;
    return name_cmp(x->name, x->name_len, y->name, y->name_len);
}

/* The old topic of that name and id, marked kept; NULL if none. */
static struct topic *take_old(struct rf_parts *ps, const char *name,
                              const struct rf_uuid *id)
{
    struct topic *t = topic_find(ps->topics, ps->n_topics, name, strlen(name));
    if (t == NULL || t->kept || !rf_uuid_equal(&t->id, id))
        return NULL;
    t->kept = true;
    return t;
}

void rf_parts_sync(struct rf_parts *ps, const struct rf_meta_image *img)
{
    Riffle__DescribeTopicsRequest req = RIFFLE__DESCRIBE_TOPICS_REQUEST__INIT;
    Riffle__DescribeTopicsResponse resp =
        RIFFLE__DESCRIBE_TOPICS_RESPONSE__INIT;
    rf_meta_describe_topics(img, &req, &resp);
    struct topic **next = rf_calloc(resp.n_topics + 1, sizeof(*next));
    size_t n = 0;
    /* First pair every described topic with its old self. */
    for (size_t i = 0; i < ps->n_topics; i++)
        ps->topics[i]->kept = false;
    for (size_t i = 0; i < resp.n_topics; i++) {
        const Riffle__TopicDescription *td = resp.topics[i];
        struct rf_uuid id;
        if (td == NULL || td->name == NULL || td->name[0] == '\0')
            continue;
        topic_id_of(td, &id);
        struct topic *t = take_old(ps, td->name, &id);
        next[n++] = t != NULL ? t : topic_new(td, &id);
    }
    /* Then drop what the image no longer has (deleted or re-created). */
    for (size_t i = 0; i < ps->n_topics; i++)
        if (!ps->topics[i]->kept)
            topic_remove(ps, ps->topics[i], true);
    rf_free(ps->topics);
    ps->topics = next;
    ps->n_topics = n;
    for (size_t i = 0, j = 0; i < resp.n_topics; i++) {
        const Riffle__TopicDescription *td = resp.topics[i];
        if (td == NULL || td->name == NULL || td->name[0] == '\0')
            continue;
        topic_update(ps, next[j++], td);
    }
    qsort(ps->topics, ps->n_topics, sizeof(*ps->topics), topic_ptr_cmp);
    rf_meta_response_free(&resp.base);
}

void rf_parts_isr_changes(const struct rf_parts *ps, uint64_t *shrinks,
                          uint64_t *expands)
{
    *shrinks = ps->isr_shrinks;
    *expands = ps->isr_expands;
}
