/* group.c: the consumer-group state machine and committed offsets (in
 * memory; see group.h for the contract).
 *
 * Happy path: members JoinGroup (held), the join completes when every
 * member has rejoined (or the rebalance timeout / initial delay runs out),
 * everyone gets the generation, the leader the member list; the leader's
 * SyncGroup stores assignments and answers the held ones: Stable.
 *
 * Failure modes: a member whose session runs out, or that leaves, starts a
 * rebalance; a group whose offsets partition moved away is dropped and its
 * held requests answered NOT_COORDINATOR. */
#include "group.h"

#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "buf.h"
#include "kerr.h"
#include "uuid.h"

enum gstate { G_EMPTY, G_PREPARING, G_COMPLETING, G_STABLE };

static const char *const state_names[] = {"Empty", "PreparingRebalance",
                                          "CompletingRebalance", "Stable"};

struct proto {
    char *name;
    uint8_t *meta;
    size_t meta_len;
};

struct member {
    struct member *next;
    char *id, *client_id, *client_host;
    int32_t session_ms, rebalance_ms;
    struct proto *protos;
    size_t n_protos;
    uint8_t *assignment;
    size_t assignment_len;
    int64_t deadline;        /* session expiry */
    rf_group_join_cb join_cb; /* held JoinGroup, NULL if none */
    void *join_ctx;
    rf_group_sync_cb sync_cb; /* held SyncGroup, NULL if none */
    void *sync_ctx;
};

struct pending {
    struct pending *next;
    char *id;
    int64_t deadline;
};

struct group {
    struct group *next;
    char *id;
    int32_t partition, epoch;
    enum gstate state;
    int32_t generation;
    char *protocol_type, *protocol, *leader;
    struct member *members;
    struct pending *pending;
    int64_t join_deadline;  /* PreparingRebalance: complete by then */
    int64_t delay_deadline; /* initial delay end (0: none) */
    int64_t delay_limit;    /* initial delay may not pass this */
    bool joined_in_delay;
    struct rf_group_offset *offsets;
    size_t n_offsets, cap_offsets;
    int64_t empty_seen; /* wall ms of the first retention check that saw
                         * the group Empty (0: not seen Empty) */
};

struct rf_group_coord {
    struct rf_group_coord_opts o;
    struct group *groups;
    struct rf_group_member_desc *desc; /* rf_group_describe's answer */
};

/* ---- small helpers ---- */

static char *dup_or_null(const char *s)
{
    return s ? rf_strdup(s) : NULL;
}

static uint8_t *dup_bytes(const uint8_t *p, size_t n)
{
    uint8_t *d = rf_malloc(n > 0 ? n : 1);
    if (n > 0)
        memcpy(d, p, n);
    return d;
}

static void free_protos(struct member *m)
{
    for (size_t i = 0; i < m->n_protos; i++) {
        rf_free(m->protos[i].name);
        rf_free(m->protos[i].meta);
    }
    rf_free(m->protos);
    m->protos = NULL;
    m->n_protos = 0;
}

static void set_protos(struct member *m, const struct rf_group_join_req *req)
{
    free_protos(m);
    m->protos = rf_calloc(req->n_protocols + 1, sizeof *m->protos);
    for (size_t i = 0; i < req->n_protocols; i++) {
        m->protos[i].name = rf_strdup(req->protocols[i].name);
        m->protos[i].meta =
            dup_bytes(req->protocols[i].meta, req->protocols[i].meta_len);
        m->protos[i].meta_len = req->protocols[i].meta_len;
    }
    m->n_protos = req->n_protocols;
}

static bool same_protos(const struct member *m,
                        const struct rf_group_join_req *req)
{
    if (m->n_protos != req->n_protocols)
        return false;
    for (size_t i = 0; i < m->n_protos; i++) {
        const struct rf_group_proto *p = &req->protocols[i];
        if (strcmp(m->protos[i].name, p->name) != 0 ||
            m->protos[i].meta_len != p->meta_len ||
            (p->meta_len > 0 &&
             memcmp(m->protos[i].meta, p->meta, p->meta_len) != 0))
            return false;
    }
    return true;
}

static const struct proto *member_proto(const struct member *m,
                                        const char *name)
{
    for (size_t i = 0; i < m->n_protos; i++)
        if (strcmp(m->protos[i].name, name) == 0)
            return &m->protos[i];
    return NULL;
}

static void join_answer(struct member *m, int16_t error)
{
    struct rf_group_join_res res;
    rf_group_join_cb cb = m->join_cb;
    if (cb == NULL)
        return;
    m->join_cb = NULL;
    memset(&res, 0, sizeof res);
    res.error = error;
    res.generation = -1;
    res.protocol = res.leader = "";
    res.member_id = m->id;
    cb(m->join_ctx, &res);
}

static void sync_answer(struct member *m, int16_t error)
{
    rf_group_sync_cb cb = m->sync_cb;
    if (cb == NULL)
        return;
    m->sync_cb = NULL;
    if (error == RF_KERR_NONE)
        cb(m->sync_ctx, error, m->assignment, m->assignment_len);
    else
        cb(m->sync_ctx, error, NULL, 0);
}

static void member_free(struct member *m, int16_t error)
{
    join_answer(m, error);
    sync_answer(m, error);
    rf_free(m->id);
    rf_free(m->client_id);
    rf_free(m->client_host);
    free_protos(m);
    rf_free(m->assignment);
    rf_free(m);
}

static void group_free(struct group *g, int16_t error)
{
    while (g->members) {
        struct member *m = g->members;
        g->members = m->next;
        member_free(m, error);
    }
    while (g->pending) {
        struct pending *p = g->pending;
        g->pending = p->next;
        rf_free(p->id);
        rf_free(p);
    }
    for (size_t i = 0; i < g->n_offsets; i++) {
        rf_free(g->offsets[i].topic);
        rf_free(g->offsets[i].metadata);
    }
    rf_free(g->offsets);
    rf_free(g->id);
    rf_free(g->protocol_type);
    rf_free(g->protocol);
    rf_free(g->leader);
    rf_free(g);
}

static bool group_owned(struct rf_group_coord *c, const struct group *g)
{
    return c->o.epoch_of(c->o.data, g->partition) == g->epoch;
}

/* Drop groups whose partition is no longer led here at their epoch. */
static void drop_stale(struct rf_group_coord *c)
{
    struct group **pp = &c->groups;
    while (*pp) {
        struct group *g = *pp;
        if (group_owned(c, g)) {
            pp = &g->next;
            continue;
        }
        *pp = g->next;
        group_free(g, RF_KERR_NOT_COORDINATOR);
    }
}

static struct group *find_group(struct rf_group_coord *c, const char *id)
{
    drop_stale(c);
    for (struct group *g = c->groups; g; g = g->next)
        if (strcmp(g->id, id) == 0)
            return g;
    return NULL;
}

static struct group *new_group(struct rf_group_coord *c, const char *id,
                               int32_t partition, int32_t epoch)
{
    struct group *g = rf_calloc(1, sizeof *g);
    g->id = rf_strdup(id);
    g->partition = partition;
    g->epoch = epoch;
    g->state = G_EMPTY;
    g->next = c->groups;
    c->groups = g;
    return g;
}

static struct member *find_member(struct group *g, const char *id)
{
    for (struct member *m = g->members; m; m = m->next)
        if (strcmp(m->id, id) == 0)
            return m;
    return NULL;
}

static size_t member_count(const struct group *g)
{
    size_t n = 0;
    for (const struct member *m = g->members; m; m = m->next)
        n++;
    return n;
}

static bool take_pending(struct group *g, const char *id)
{
    for (struct pending **pp = &g->pending; *pp; pp = &(*pp)->next) {
        if (strcmp((*pp)->id, id) == 0) {
            struct pending *p = *pp;
            *pp = p->next;
            rf_free(p->id);
            rf_free(p);
            return true;
        }
    }
    return false;
}

/* ---- the rebalance ---- */

/* Protocol names every member (and optionally req) supports; vote. */
static const char *select_protocol(const struct group *g)
{
    const char *best = NULL;
    size_t best_votes = 0;
    const struct member *first = g->members;
    if (first == NULL)
        return NULL;
    /* Candidates: the first member's names that everyone supports. */
    for (size_t i = 0; i < first->n_protos; i++) {
        const char *cand = first->protos[i].name;
        size_t votes = 0;
        bool all = true;
        for (const struct member *m = g->members; m && all; m = m->next)
            all = member_proto(m, cand) != NULL;
        if (!all)
            continue;
        /* Each member votes for its first-listed candidate. */
        for (const struct member *m = g->members; m; m = m->next) {
            for (size_t k = 0; k < m->n_protos; k++) {
                const char *mine = m->protos[k].name;
                bool mine_ok = true;
                for (const struct member *o = g->members; o && mine_ok;
                     o = o->next)
                    mine_ok = member_proto(o, mine) != NULL;
                if (!mine_ok)
                    continue;
                if (strcmp(mine, cand) == 0)
                    votes++;
                break;
            }
        }
        if (best == NULL || votes > best_votes) {
            best = cand;
            best_votes = votes;
        }
    }
    return best;
}

static bool compatible(const struct group *g,
                       const struct rf_group_join_req *req, const char *skip)
{
    if (g->members == NULL)
        return true;
    if (g->protocol_type && strcmp(g->protocol_type, req->protocol_type) != 0)
        return false;
    for (size_t i = 0; i < req->n_protocols; i++) {
        bool all = true;
        for (const struct member *m = g->members; m && all; m = m->next)
            all = (skip && strcmp(m->id, skip) == 0) ||
                  member_proto(m, req->protocols[i].name) != NULL;
        if (all)
            return true;
    }
    return false;
}

static void answer_join(struct group *g, struct member *m)
{
    struct rf_group_join_res res;
    struct rf_group_member_info *infos = NULL;
    rf_group_join_cb cb = m->join_cb;
    bool leader = strcmp(m->id, g->leader) == 0;
    size_t n = 0;
    if (cb == NULL)
        return;
    m->join_cb = NULL;
    memset(&res, 0, sizeof res);
    if (leader) {
        infos = rf_calloc(member_count(g) + 1, sizeof *infos);
        for (struct member *o = g->members; o; o = o->next) {
            const struct proto *p = member_proto(o, g->protocol);
            infos[n].member_id = o->id;
            infos[n].meta = p ? p->meta : NULL;
            infos[n].meta_len = p ? p->meta_len : 0;
            n++;
        }
    }
    res.error = RF_KERR_NONE;
    res.generation = g->generation;
    res.protocol = g->protocol;
    res.leader = g->leader;
    res.member_id = m->id;
    res.members = infos;
    res.n_members = n;
    cb(m->join_ctx, &res);
    rf_free(infos);
}

static void complete_join(struct group *g, int64_t now_ms)
{
    struct member **pp = &g->members;
    while (*pp) { /* members that did not rejoin are removed */
        struct member *m = *pp;
        if (m->join_cb) {
            pp = &m->next;
            continue;
        }
        *pp = m->next;
        member_free(m, RF_KERR_UNKNOWN_MEMBER_ID);
    }
    g->generation++;
    g->delay_deadline = 0;
    rf_free(g->protocol);
    g->protocol = NULL;
    if (g->members == NULL) {
        rf_free(g->leader);
        g->leader = NULL;
        g->state = G_EMPTY;
        return;
    }
    const char *proto = select_protocol(g); /* joins keep one in common */
    g->protocol = rf_strdup(proto ? proto : "");
    if (g->leader == NULL || find_member(g, g->leader) == NULL) {
        rf_free(g->leader);
        g->leader = rf_strdup(g->members->id);
    }
    g->state = G_COMPLETING;
    for (struct member *m = g->members; m; m = m->next) {
        m->deadline = now_ms + m->session_ms;
        rf_free(m->assignment);
        m->assignment = NULL;
        m->assignment_len = 0;
        answer_join(g, m);
    }
}

static bool all_joined(const struct group *g)
{
    if (g->pending)
        return false;
    for (const struct member *m = g->members; m; m = m->next)
        if (m->join_cb == NULL)
            return false;
    return true;
}

static void try_complete_join(struct group *g, int64_t now_ms)
{
    if (g->state == G_PREPARING && g->delay_deadline == 0 && all_joined(g))
        complete_join(g, now_ms);
}

static int32_t max_rebalance_ms(const struct group *g)
{
    int32_t t = 0;
    for (const struct member *m = g->members; m; m = m->next)
        if (m->rebalance_ms > t)
            t = m->rebalance_ms;
    return t;
}

static void prepare_rebalance(struct rf_group_coord *c, struct group *g,
                              int64_t now_ms)
{
    if (g->state == G_COMPLETING)
        for (struct member *m = g->members; m; m = m->next)
            sync_answer(m, RF_KERR_REBALANCE_IN_PROGRESS);
    if (g->state == G_EMPTY && c->o.initial_rebalance_delay_ms > 0) {
        int64_t d = c->o.initial_rebalance_delay_ms;
        if (d > max_rebalance_ms(g))
            d = max_rebalance_ms(g);
        g->delay_deadline = now_ms + d;
        g->delay_limit = now_ms + max_rebalance_ms(g);
        g->joined_in_delay = false;
    }
    g->state = G_PREPARING;
    g->join_deadline = now_ms + max_rebalance_ms(g);
}

/* After a member left or expired. */
static void on_member_gone(struct rf_group_coord *c, struct group *g,
                           int64_t now_ms)
{
    if (g->state == G_STABLE || g->state == G_COMPLETING)
        prepare_rebalance(c, g, now_ms);
    try_complete_join(g, now_ms);
}

static void remove_member(struct group *g, struct member *gone,
                          int16_t error)
{
    for (struct member **pp = &g->members; *pp; pp = &(*pp)->next) {
        if (*pp == gone) {
            *pp = gone->next;
            member_free(gone, error);
            return;
        }
    }
}

/* ---- JoinGroup ---- */

static struct member *add_member(struct group *g, const char *id,
                                 const struct rf_group_join_req *req,
                                 int64_t now_ms)
{
    struct member *m = rf_calloc(1, sizeof *m);
    struct member **tail = &g->members;
    m->id = rf_strdup(id);
    m->client_id = rf_strdup(req->client_id);
    m->client_host = rf_strdup(req->client_host);
    while (*tail)
        tail = &(*tail)->next;
    *tail = m;
    if (g->protocol_type == NULL)
        g->protocol_type = rf_strdup(req->protocol_type);
    (void)now_ms;
    return m;
}

static void join_reply_now(rf_group_join_cb cb, void *ctx, int16_t error,
                           const char *member_id)
{
    struct rf_group_join_res res;
    memset(&res, 0, sizeof res);
    res.error = error;
    res.generation = -1;
    res.protocol = res.leader = "";
    res.member_id = member_id;
    cb(ctx, &res);
}

static int16_t join_validate(struct group *g,
                             const struct rf_group_join_req *req)
{
    if (req->group_id[0] == '\0')
        return RF_KERR_INVALID_GROUP_ID;
    if (req->session_timeout_ms < RF_GROUP_MIN_SESSION_MS ||
        req->session_timeout_ms > RF_GROUP_MAX_SESSION_MS)
        return RF_KERR_INVALID_SESSION_TIMEOUT;
    if (req->protocol_type[0] == '\0' || req->n_protocols == 0)
        return RF_KERR_INCONSISTENT_GROUP_PROTOCOL;
    if (g && g->members && g->protocol_type &&
        strcmp(g->protocol_type, req->protocol_type) != 0)
        return RF_KERR_INCONSISTENT_GROUP_PROTOCOL;
    if (g && !compatible(g, req, req->member_id[0] ? req->member_id : NULL))
        return RF_KERR_INCONSISTENT_GROUP_PROTOCOL;
    return RF_KERR_NONE;
}

static void new_member_id(const struct rf_group_join_req *req, char *out,
                          size_t n)
{
    struct rf_uuid u;
    char text[64];
    rf_uuid_generate(&u);
    rf_uuid_format(&u, text);
    snprintf(out, n, "%.200s-%s", req->client_id, text);
}

/* Park m's join and move the group toward a completed join. */
static void park_join(struct rf_group_coord *c, struct group *g,
                      struct member *m, const struct rf_group_join_req *req,
                      int64_t now_ms, rf_group_join_cb cb, void *ctx)
{
    join_answer(m, RF_KERR_UNKNOWN_MEMBER_ID); /* a duplicate held join */
    set_protos(m, req);
    m->session_ms = req->session_timeout_ms;
    m->rebalance_ms = req->rebalance_timeout_ms > 0 ? req->rebalance_timeout_ms
                                                    : req->session_timeout_ms;
    m->deadline = now_ms + m->session_ms;
    m->join_cb = cb;
    m->join_ctx = ctx;
    if (g->state != G_PREPARING)
        prepare_rebalance(c, g, now_ms);
    else if (g->delay_deadline)
        g->joined_in_delay = true;
    try_complete_join(g, now_ms);
}

static void join_known(struct rf_group_coord *c, struct group *g,
                       struct member *m, const struct rf_group_join_req *req,
                       int64_t now_ms, rf_group_join_cb cb, void *ctx)
{
    bool same = same_protos(m, req);
    bool leader = g->leader && strcmp(g->leader, m->id) == 0;
    if ((g->state == G_COMPLETING && same) ||
        (g->state == G_STABLE && same && !leader)) {
        /* Nothing changed: the current generation again. */
        m->deadline = now_ms + m->session_ms;
        m->join_cb = cb;
        m->join_ctx = ctx;
        answer_join(g, m);
        return;
    }
    park_join(c, g, m, req, now_ms, cb, ctx);
}

void rf_group_join(struct rf_group_coord *c, const struct rf_group_join_req *req,
                   int64_t now_ms, rf_group_join_cb cb, void *ctx)
{
    struct group *g = find_group(c, req->group_id);
    int16_t err = join_validate(g, req);
    char id[320];
    if (err != RF_KERR_NONE) {
        join_reply_now(cb, ctx, err, req->member_id);
        return;
    }
    if (g == NULL)
        g = new_group(c, req->group_id, req->partition, req->epoch);
    if (req->member_id[0] == '\0') {
        new_member_id(req, id, sizeof id);
        if (req->require_known_member) {
            struct pending *p = rf_calloc(1, sizeof *p);
            p->id = rf_strdup(id);
            p->deadline = now_ms + req->session_timeout_ms;
            p->next = g->pending;
            g->pending = p;
            join_reply_now(cb, ctx, RF_KERR_MEMBER_ID_REQUIRED, id);
            return;
        }
        park_join(c, g, add_member(g, id, req, now_ms), req, now_ms, cb, ctx);
        return;
    }
    if (take_pending(g, req->member_id)) {
        park_join(c, g, add_member(g, req->member_id, req, now_ms), req,
                  now_ms, cb, ctx);
        return;
    }
    struct member *m = find_member(g, req->member_id);
    if (m == NULL) {
        join_reply_now(cb, ctx, RF_KERR_UNKNOWN_MEMBER_ID, req->member_id);
        return;
    }
    join_known(c, g, m, req, now_ms, cb, ctx);
}

/* ---- SyncGroup ---- */

static void store_assignments(struct group *g,
                              const struct rf_group_assignment *a, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct member *m = find_member(g, a[i].member_id);
        if (m == NULL)
            continue;
        rf_free(m->assignment);
        m->assignment = dup_bytes(a[i].data, a[i].len);
        m->assignment_len = a[i].len;
    }
}

void rf_group_sync(struct rf_group_coord *c, const char *group_id,
                   const char *member_id, int32_t generation,
                   const struct rf_group_assignment *assignments, size_t n,
                   int64_t now_ms, rf_group_sync_cb cb, void *ctx)
{
    struct group *g = find_group(c, group_id);
    struct member *m = g ? find_member(g, member_id) : NULL;
    if (m == NULL) {
        cb(ctx, RF_KERR_UNKNOWN_MEMBER_ID, NULL, 0);
        return;
    }
    if (generation != g->generation) {
        cb(ctx, RF_KERR_ILLEGAL_GENERATION, NULL, 0);
        return;
    }
    if (g->state == G_PREPARING) {
        cb(ctx, RF_KERR_REBALANCE_IN_PROGRESS, NULL, 0);
        return;
    }
    m->deadline = now_ms + m->session_ms;
    sync_answer(m, RF_KERR_REBALANCE_IN_PROGRESS); /* a duplicate */
    m->sync_cb = cb;
    m->sync_ctx = ctx;
    if (g->state == G_STABLE) {
        sync_answer(m, RF_KERR_NONE);
        return;
    }
    if (strcmp(member_id, g->leader) != 0)
        return; /* held until the leader's SyncGroup */
    store_assignments(g, assignments, n);
    g->state = G_STABLE;
    for (struct member *o = g->members; o; o = o->next)
        sync_answer(o, RF_KERR_NONE);
}

/* ---- Heartbeat, LeaveGroup ---- */

int16_t rf_group_heartbeat(struct rf_group_coord *c, const char *group_id,
                           const char *member_id, int32_t generation,
                           int64_t now_ms)
{
    struct group *g = find_group(c, group_id);
    struct member *m = g ? find_member(g, member_id) : NULL;
    if (m == NULL)
        return RF_KERR_UNKNOWN_MEMBER_ID;
    m->deadline = now_ms + m->session_ms;
    if (g->state == G_PREPARING)
        return RF_KERR_REBALANCE_IN_PROGRESS;
    if (g->state == G_COMPLETING)
        return RF_KERR_NONE;
    return generation == g->generation ? RF_KERR_NONE
                                       : RF_KERR_ILLEGAL_GENERATION;
}

int16_t rf_group_leave(struct rf_group_coord *c, const char *group_id,
                       const char *member_id, int64_t now_ms)
{
    struct group *g = find_group(c, group_id);
    struct member *m = g ? find_member(g, member_id) : NULL;
    if (m == NULL)
        return RF_KERR_UNKNOWN_MEMBER_ID;
    remove_member(g, m, RF_KERR_UNKNOWN_MEMBER_ID);
    on_member_gone(c, g, now_ms);
    return RF_KERR_NONE;
}

/* ---- offsets ---- */

int16_t rf_group_commit_check(struct rf_group_coord *c, const char *group_id,
                              const char *member_id, int32_t generation,
                              int32_t partition, int32_t epoch,
                              int64_t now_ms)
{
    struct group *g = find_group(c, group_id);
    struct member *m;
    if (group_id[0] == '\0')
        return RF_KERR_INVALID_GROUP_ID;
    if (generation < 0 && member_id[0] == '\0') {
        if (g == NULL)
            new_group(c, group_id, partition, epoch);
        else if (g->state != G_EMPTY)
            return RF_KERR_UNKNOWN_MEMBER_ID;
        return RF_KERR_NONE;
    }
    m = g ? find_member(g, member_id) : NULL;
    if (m == NULL)
        return RF_KERR_UNKNOWN_MEMBER_ID;
    if (generation != g->generation)
        return RF_KERR_ILLEGAL_GENERATION;
    if (g->state == G_COMPLETING)
        return RF_KERR_REBALANCE_IN_PROGRESS;
    m->deadline = now_ms + m->session_ms;
    return RF_KERR_NONE;
}

static struct rf_group_offset *offset_slot(struct group *g, const char *topic,
                                           int32_t partition)
{
    for (size_t i = 0; i < g->n_offsets; i++)
        if (g->offsets[i].partition == partition &&
            strcmp(g->offsets[i].topic, topic) == 0)
            return &g->offsets[i];
    return NULL;
}

void rf_group_offset_put(struct rf_group_coord *c, const char *group_id,
                         const char *topic, int32_t partition, int64_t offset,
                         int32_t leader_epoch, const char *metadata,
                         int64_t commit_ts)
{
    struct group *g = find_group(c, group_id);
    struct rf_group_offset *o;
    if (g == NULL)
        return;
    o = offset_slot(g, topic, partition);
    if (o == NULL) {
        if (g->n_offsets == g->cap_offsets) {
            g->cap_offsets = g->cap_offsets ? 2 * g->cap_offsets : 8;
            g->offsets = rf_realloc(g->offsets,
                                    g->cap_offsets * sizeof *g->offsets);
        }
        o = &g->offsets[g->n_offsets++];
        o->topic = rf_strdup(topic);
        o->partition = partition;
        o->metadata = NULL;
    }
    o->offset = offset;
    o->leader_epoch = leader_epoch;
    o->commit_ts = commit_ts;
    rf_free(o->metadata);
    o->metadata = dup_or_null(metadata);
}

void rf_group_ensure(struct rf_group_coord *c, const char *group_id,
                     int32_t partition, int32_t epoch)
{
    if (find_group(c, group_id) == NULL)
        new_group(c, group_id, partition, epoch);
}

void rf_group_offset_delete(struct rf_group_coord *c, const char *group_id,
                            const char *topic, int32_t partition)
{
    struct group *g = find_group(c, group_id);
    struct rf_group_offset *o = g ? offset_slot(g, topic, partition) : NULL;
    if (o == NULL)
        return;
    rf_free(o->topic);
    rf_free(o->metadata);
    *o = g->offsets[--g->n_offsets];
}

const struct rf_group_offset *rf_group_offset_get(struct rf_group_coord *c,
                                                  const char *group_id,
                                                  const char *topic,
                                                  int32_t partition)
{
    struct group *g = find_group(c, group_id);
    return g ? offset_slot(g, topic, partition) : NULL;
}

const struct rf_group_offset *rf_group_offsets(struct rf_group_coord *c,
                                               const char *group_id,
                                               size_t *n)
{
    struct group *g = find_group(c, group_id);
    *n = g ? g->n_offsets : 0;
    return g ? g->offsets : NULL;
}

/* ---- timers ---- */

static void expire_members(struct rf_group_coord *c, struct group *g,
                           int64_t now_ms)
{
    bool gone = false;
    struct member **pp = &g->members;
    while (*pp) {
        struct member *m = *pp;
        /* A member waiting for its join or sync answer is alive. */
        if (m->join_cb || m->sync_cb || m->deadline > now_ms) {
            pp = &m->next;
            continue;
        }
        *pp = m->next;
        member_free(m, RF_KERR_UNKNOWN_MEMBER_ID);
        gone = true;
    }
    for (struct pending **pp2 = &g->pending; *pp2;) {
        struct pending *p = *pp2;
        if (p->deadline > now_ms) {
            pp2 = &p->next;
            continue;
        }
        *pp2 = p->next;
        rf_free(p->id);
        rf_free(p);
        gone = true;
    }
    if (gone)
        on_member_gone(c, g, now_ms);
}

static void tick_delay(struct rf_group_coord *c, struct group *g,
                       int64_t now_ms)
{
    if (g->delay_deadline == 0 || now_ms < g->delay_deadline)
        return;
    if (g->joined_in_delay && now_ms < g->delay_limit) {
        /* New members kept arriving: wait another delay, capped by the
         * rebalance timeout. */
        int64_t d = c->o.initial_rebalance_delay_ms;
        if (d > g->delay_limit - now_ms)
            d = g->delay_limit - now_ms;
        g->joined_in_delay = false;
        g->delay_deadline = now_ms + d;
        return;
    }
    g->delay_deadline = 0;
}

void rf_group_tick(struct rf_group_coord *c, int64_t now_ms)
{
    drop_stale(c);
    for (struct group *g = c->groups; g; g = g->next) {
        expire_members(c, g, now_ms);
        if (g->state != G_PREPARING)
            continue;
        tick_delay(c, g, now_ms);
        if (g->delay_deadline == 0 && now_ms >= g->join_deadline)
            complete_join(g, now_ms);
        else
            try_complete_join(g, now_ms);
    }
}

const char *rf_group_state(struct rf_group_coord *c, const char *group_id,
                           int32_t *generation, size_t *n_members)
{
    struct group *g = find_group(c, group_id);
    if (g == NULL)
        return NULL;
    *generation = g->generation;
    *n_members = member_count(g);
    return state_names[g->state];
}

/* ---- offsets retention ---- */

/* Expire the offsets of g, Empty for the retention period, that were
 * committed more than the retention period ago. */
static size_t expire_group(struct rf_group_coord *c, struct group *g,
                           int64_t now, rf_group_expire_cb cb, void *ctx)
{
    size_t n = 0, i = 0;
    while (i < g->n_offsets) {
        struct rf_group_offset *o = &g->offsets[i];
        if (o->commit_ts > now - c->o.offsets_retention_ms) {
            i++;
            continue;
        }
        cb(ctx, g->id, g->partition, o);
        rf_free(o->topic);
        rf_free(o->metadata);
        *o = g->offsets[--g->n_offsets];
        n++;
    }
    return n;
}

size_t rf_group_expire_offsets(struct rf_group_coord *c, int64_t now_wall_ms,
                               rf_group_expire_cb cb, void *ctx)
{
    size_t n = 0;
    if (c->o.offsets_retention_ms <= 0)
        return 0;
    drop_stale(c);
    for (struct group **pp = &c->groups; *pp;) {
        struct group *g = *pp;
        if (g->state != G_EMPTY || g->empty_seen == 0) {
            /* Kafka keeps the offsets for the retention period after the
             * group became Empty: start counting now. */
            g->empty_seen = g->state == G_EMPTY ? now_wall_ms : 0;
            pp = &g->next;
            continue;
        }
        if (now_wall_ms - g->empty_seen < c->o.offsets_retention_ms) {
            pp = &g->next;
            continue;
        }
        n += expire_group(c, g, now_wall_ms, cb, ctx);
        if (g->n_offsets == 0) {
            *pp = g->next;
            group_free(g, RF_KERR_NOT_COORDINATOR);
            continue;
        }
        pp = &g->next;
    }
    return n;
}

/* ---- DescribeGroups, ListGroups, DeleteGroups ---- */

bool rf_group_describe(struct rf_group_coord *c, const char *group_id,
                       struct rf_group_desc *d)
{
    struct group *g = find_group(c, group_id);
    size_t n = 0;
    bool stable;
    if (g == NULL)
        return false;
    stable = g->state == G_STABLE;
    rf_free(c->desc);
    c->desc = rf_calloc(member_count(g) + 1, sizeof *c->desc);
    for (struct member *m = g->members; m; m = m->next) {
        struct rf_group_member_desc *md = &c->desc[n++];
        const struct proto *p =
            stable && g->protocol ? member_proto(m, g->protocol) : NULL;
        md->member_id = m->id;
        md->client_id = m->client_id;
        md->client_host = m->client_host;
        md->meta = p ? p->meta : NULL;
        md->meta_len = p ? p->meta_len : 0;
        md->assignment = stable ? m->assignment : NULL;
        md->assignment_len = stable ? m->assignment_len : 0;
    }
    d->state = state_names[g->state];
    d->protocol_type = g->protocol_type ? g->protocol_type : "";
    d->protocol = stable && g->protocol ? g->protocol : "";
    d->members = c->desc;
    d->n_members = n;
    return true;
}

void rf_group_each(struct rf_group_coord *c,
                   void (*cb)(void *ctx, const char *group_id,
                              const char *protocol_type, const char *state),
                   void *ctx)
{
    drop_stale(c);
    for (struct group *g = c->groups; g; g = g->next)
        cb(ctx, g->id, g->protocol_type ? g->protocol_type : "",
           state_names[g->state]);
}

int16_t rf_group_deletable(struct rf_group_coord *c, const char *group_id)
{
    struct group *g = find_group(c, group_id);
    if (g == NULL)
        return RF_KERR_GROUP_ID_NOT_FOUND;
    return g->state == G_EMPTY ? RF_KERR_NONE : RF_KERR_NON_EMPTY_GROUP;
}

/* ConsumerProtocol subscription (v0+): Version int16, Topics [string],
 * then fields we do not need. 1: topic listed, 0: not, -1: malformed. */
static int subscription_has(const uint8_t *p, size_t len, const char *topic)
{
    struct rf_rd rd;
    int16_t version, n;
    int32_t count;
    const uint8_t *name;
    size_t tlen = strlen(topic);
    rf_rd_init(&rd, p, len);
    if (rf_rd_i16(&rd, &version) != 0 || version < 0 ||
        rf_rd_i32(&rd, &count) != 0 || count < 0 ||
        (size_t)count > rf_rd_remaining(&rd) / 2)
        return -1;
    for (int32_t i = 0; i < count; i++) {
        if (rf_rd_i16(&rd, &n) != 0 || n < 0 ||
            rf_rd_bytes(&rd, (size_t)n, &name) != 0)
            return -1;
        if ((size_t)n == tlen && memcmp(name, topic, tlen) == 0)
            return 1;
    }
    return 0;
}

bool rf_group_subscribed(struct rf_group_coord *c, const char *group_id,
                         const char *topic)
{
    struct group *g = find_group(c, group_id);
    if (g == NULL || g->state == G_EMPTY)
        return false;
    for (const struct member *m = g->members; m; m = m->next) {
        const struct proto *p = g->protocol && g->protocol[0]
                                    ? member_proto(m, g->protocol)
                                    : (m->n_protos ? &m->protos[0] : NULL);
        if (p == NULL || subscription_has(p->meta, p->meta_len, topic) != 0)
            return true;
    }
    return false;
}

void rf_group_remove(struct rf_group_coord *c, const char *group_id)
{
    for (struct group **pp = &c->groups; *pp; pp = &(*pp)->next) {
        struct group *g = *pp;
        if (strcmp(g->id, group_id) != 0)
            continue;
        if (g->state == G_EMPTY) {
            *pp = g->next;
            group_free(g, RF_KERR_NOT_COORDINATOR);
        }
        return;
    }
}

/* ---- lifecycle ---- */

struct rf_group_coord *rf_group_coord_new(const struct rf_group_coord_opts *o)
{
    struct rf_group_coord *c = rf_calloc(1, sizeof *c);
    c->o = *o;
    return c;
}

void rf_group_coord_free(struct rf_group_coord *c)
{
    if (c == NULL)
        return;
    while (c->groups) {
        struct group *g = c->groups;
        c->groups = g->next;
        group_free(g, RF_KERR_NOT_COORDINATOR);
    }
    rf_free(c->desc);
    rf_free(c);
}
