/* api_group.c: the group APIs (FindCoordinator 0-2, JoinGroup 0-5,
 * SyncGroup 0-3, Heartbeat 0-3, LeaveGroup 0-3, OffsetCommit 2-7,
 * OffsetFetch 1-7) over the coordinator of broker/group, and the
 * coordinator's lifecycle (tick timer, __consumer_offsets creation).
 *
 * Happy path: the coordinator of group G is the leader of partition
 * hash(G) mod N of __consumer_offsets (Java String.hashCode, as Kafka);
 * FindCoordinator creates the topic through the controller on first use
 * and answers COORDINATOR_NOT_AVAILABLE until it has a leader. JoinGroup
 * and a follower's SyncGroup are held (r stays alive) until the
 * coordinator answers through its callback.
 *
 * Failure modes: a group request on a broker that does not lead the
 * group's partition gets NOT_COORDINATOR (clients find the coordinator
 * again); at shutdown rf_api_group_stop() answers every held request. */
#include <inttypes.h>
#include <string.h>
#include <strings.h>

#include "alloc.h"
#include "bmeta.h"
#include "clock.h"
#include "data_int.h"
#include "err.h"
#include "group.h"
#include "kafka_msgs.h"
#include "kerr.h"
#include "log.h"
#include "meta.h"
#include "parts.h"
#include "records.h"
#include "server.h"
#include "uuid.h"

#define OFFSETS_TOPIC "__consumer_offsets"
#define TICK_MS 100u
#define INITIAL_REBALANCE_DELAY_MS 3000
#define COMMIT_TIMEOUT_MS 5000 /* offsets.commit.timeout.ms */
#define LOAD_READ_BYTES (1u << 20)
/* offsets.retention.minutes (Kafka's default, 7 days) and
 * offsets.retention.check.interval.ms (10 minutes). */
#define OFFSETS_RETENTION_MS (7 * 24 * 3600 * 1000LL)
#define RETENTION_CHECK_MS (10 * 60 * 1000LL)

struct commit;

struct rf_group_srv {
    struct rf_broker *b;
    struct rf_group_coord *coord;
    uv_timer_t tick;
    bool creating; /* a CreateTopics for __consumer_offsets in flight */
    bool stopped; /* tick closed: free once no create is in flight */
    int32_t *loaded; /* per offsets partition: epoch loaded, -1 none */
    int32_t n_loaded;
    struct commit *commits; /* waiting to be replicated */
    int64_t next_retention; /* monotonic ms of the next retention check */
};

static void commits_expire(struct rf_group_srv *s, int64_t now, bool all);
static void load_led(struct rf_group_srv *s);

static int64_t now_ms(void)
{
    return (int64_t)rf_clock_mono_ms();
}

static int32_t epoch_of(void *data, int32_t partition)
{
    struct rf_broker *b = data;
    struct rf_part *p;
    if (b->parts == NULL)
        return -1;
    p = rf_parts_get(b->parts, OFFSETS_TOPIC, sizeof OFFSETS_TOPIC - 1,
                     partition);
    return p && p->is_leader && p->log ? p->leader_epoch : -1;
}

/* Retention: a tombstone for the expired offset, not waited for (if it is
 * lost, the next check after a reload expires the offset again). */
static void expire_one(void *ctx, const char *group, int32_t partition,
                       const struct rf_group_offset *o)
{
    struct rf_group_srv *s = ctx;
    char errmsg[RF_ERRMSG_SIZE];
    struct rf_part *p = rf_parts_get(s->b->parts, OFFSETS_TOPIC,
                                     sizeof OFFSETS_TOPIC - 1, partition);
    struct rf_group_rec rec = {
        .group = {group, strlen(group)},
        .topic = {o->topic, strlen(o->topic)},
        .partition = o->partition,
        .tombstone = true};
    struct rf_log_append_result res;
    struct rf_wr wr;
    if (p == NULL || p->log == NULL || !p->is_leader)
        return;
    struct rf_log_append_opts opts = {p->leader_epoch, false,
                                      rf_clock_wall_ms()};
    rf_wr_init(&wr, 128);
    rf_group_rec_encode(&wr, &rec, 1, opts.now_ms);
    if (rf_log_append(p->log, wr.base, wr.len, &opts, &res, errmsg) != 0)
        RF_WARN("tp=%s-%" PRId32 " offsets retention: %s", p->topic,
                p->index, errmsg);
    else
        rf_parts_on_progress(s->b->parts, p);
    rf_wr_free(&wr);
}

static void on_tick(uv_timer_t *t)
{
    struct rf_group_srv *s = t->data;
    load_led(s);
    rf_group_tick(s->coord, now_ms());
    commits_expire(s, now_ms(), false);
    if (now_ms() >= s->next_retention) {
        s->next_retention = now_ms() + RETENTION_CHECK_MS;
        size_t n = rf_group_expire_offsets(s->coord, rf_clock_wall_ms(),
                                           expire_one, s);
        if (n > 0)
            RF_INFO("offsets retention: %zu expired offsets deleted", n);
    }
}

void rf_api_group_start(struct rf_broker *b)
{
    struct rf_group_srv *s = rf_calloc(1, sizeof *s);
    struct rf_group_coord_opts o;
    memset(&o, 0, sizeof o);
    o.initial_rebalance_delay_ms = INITIAL_REBALANCE_DELAY_MS;
    o.offsets_retention_ms = OFFSETS_RETENTION_MS;
    o.epoch_of = epoch_of;
    o.data = b;
    s->b = b;
    s->coord = rf_group_coord_new(&o);
    s->next_retention = now_ms() + RETENTION_CHECK_MS;
    uv_timer_init(b->loop, &s->tick);
    s->tick.data = s;
    uv_timer_start(&s->tick, on_tick, TICK_MS, TICK_MS);
    b->group = s;
}

static void srv_free(struct rf_group_srv *s)
{
    rf_free(s->loaded);
    rf_free(s);
}

/* The state is freed when both the tick handle is closed and no CreateTopics
 * of ours is in flight (its callback still gets s, at the latest when the
 * controller client is closed). */
static void tick_closed(uv_handle_t *h)
{
    struct rf_group_srv *s = h->data;
    s->stopped = true;
    if (!s->creating)
        srv_free(s);
}

void rf_api_group_stop(struct rf_broker *b)
{
    struct rf_group_srv *s = b->group;
    if (s == NULL)
        return;
    b->group = NULL;
    commits_expire(s, 0, true);
    rf_group_coord_free(s->coord); /* answers held requests */
    uv_close((uv_handle_t *)&s->tick, tick_closed);
}

/* ---- which partition, which coordinator ---- */

static int32_t group_hash(const char *id)
{
    uint32_t h = 0; /* Java String.hashCode over the (ASCII) bytes */
    for (const unsigned char *p = (const unsigned char *)id; *p; p++)
        h = 31u * h + *p;
    return (int32_t)(h & 0x7fffffffu);
}

/* ---- loading a partition's groups from __consumer_offsets ---- */

struct load {
    struct rf_group_coord *coord;
    int32_t partition, epoch;
};

static int load_rec(void *data, const struct rf_group_rec *rec)
{
    struct load *l = data;
    char *group = rf_strndup(rec->group.p, rec->group.n);
    char *topic = rf_strndup(rec->topic.p, rec->topic.n);
    rf_group_ensure(l->coord, group, l->partition, l->epoch);
    if (rec->tombstone) {
        rf_group_offset_delete(l->coord, group, topic, rec->partition);
    } else {
        char *meta = rf_strndup(rec->metadata.p, rec->metadata.n);
        rf_group_offset_put(l->coord, group, topic, rec->partition,
                            rec->offset, rec->leader_epoch, meta,
                            rec->commit_ts);
        rf_free(meta);
    }
    rf_free(group);
    rf_free(topic);
    return 0;
}

/* Apply the stored batches p[0..len) (whole batches); returns the offset
 * after the last one, or -1 if none was whole. */
static int64_t load_batches(struct load *l, struct rf_part *part,
                            const uint8_t *p, size_t len)
{
    int64_t next = -1;
    size_t off = 0;
    while (off < len) {
        struct rf_batch_info info;
        if (rf_batch_header(p + off, len - off, &info) != 0 ||
            info.size > len - off)
            break;
        int rv = rf_group_rec_decode(p + off, info.size, load_rec, l);
        if (rv != 0 && rv != RF_EUNSUPPORTED)
            RF_WARN("tp=%s-%" PRId32 " offset=%" PRId64
                    ": offsets batch skipped: %s",
                    part->topic, part->index, info.base_offset,
                    rf_err_name(rv));
        next = info.base_offset + info.last_offset_delta + 1;
        off += info.size;
    }
    return next;
}

/* Read the whole partition log into the coordinator. */
static int load_partition(struct rf_group_srv *s, struct rf_part *p,
                          int32_t epoch)
{
    char errmsg[RF_ERRMSG_SIZE];
    struct load l = {s->coord, p->index, epoch};
    struct rf_wr wr;
    int64_t off = rf_log_start_offset(p->log), end = rf_log_end_offset(p->log);
    int rv = 0;
    rf_wr_init(&wr, LOAD_READ_BYTES);
    while (off < end) {
        rf_wr_reset(&wr);
        rv = rf_log_read(p->log, off, LOAD_READ_BYTES, &wr, errmsg);
        if (rv != 0) {
            RF_WARN("tp=%s-%" PRId32 ": loading groups: %s", p->topic,
                    p->index, errmsg);
            break;
        }
        int64_t next = load_batches(&l, p, wr.base, wr.len);
        if (next <= off) {
            rv = RF_ECORRUPT;
            break;
        }
        off = next;
    }
    rf_wr_free(&wr);
    if (rv == 0)
        RF_INFO("tp=%s-%" PRId32 ": groups loaded epoch=%" PRId32
                " end=%" PRId64, p->topic, p->index, epoch, end);
    return rv;
}

/* Load partition part at epoch unless done: 0, or a Kafka error. */
static int16_t ensure_loaded(struct rf_group_srv *s, int32_t n, int32_t part,
                             int32_t epoch)
{
    struct rf_part *p;
    if (s->n_loaded != n) {
        s->loaded = rf_realloc(s->loaded, (size_t)n * sizeof *s->loaded);
        for (int32_t i = 0; i < n; i++)
            s->loaded[i] = -1;
        s->n_loaded = n;
    }
    if (s->loaded[part] == epoch)
        return RF_KERR_NONE;
    p = rf_parts_get(s->b->parts, OFFSETS_TOPIC, sizeof OFFSETS_TOPIC - 1,
                     part);
    if (p == NULL || p->log == NULL)
        return RF_KERR_NOT_COORDINATOR;
    if (load_partition(s, p, epoch) != 0)
        return RF_KERR_COORDINATOR_LOAD_IN_PROGRESS;
    s->loaded[part] = epoch;
    return RF_KERR_NONE;
}

/* A new leader loads its offsets partitions at once (the next tick), not
 * only when a group request arrives, so ListGroups sees every group. */
static void load_led(struct rf_group_srv *s)
{
    int32_t n;
    if (s->b->parts == NULL)
        return;
    n = rf_parts_topic_partitions(s->b->parts, OFFSETS_TOPIC,
                                  sizeof OFFSETS_TOPIC - 1);
    for (int32_t i = 0; i < n; i++) {
        int32_t epoch = epoch_of(s->b, i);
        if (epoch >= 0)
            (void)ensure_loaded(s, n, i, epoch);
    }
}

/* The group's offsets partition and, if this broker leads it, its epoch
 * (with the partition's groups loaded); a Kafka error code otherwise. */
static int16_t coord_of(struct rf_kreq *r, const char *group, int32_t *part,
                        int32_t *epoch)
{
    int32_t n;
    if (r->b->group == NULL || r->b->parts == NULL)
        return RF_KERR_NOT_COORDINATOR;
    n = rf_parts_topic_partitions(r->b->parts, OFFSETS_TOPIC,
                                  sizeof OFFSETS_TOPIC - 1);
    if (n <= 0)
        return RF_KERR_NOT_COORDINATOR;
    *part = group_hash(group) % n;
    *epoch = epoch_of(r->b, *part);
    if (*epoch < 0)
        return RF_KERR_NOT_COORDINATOR;
    return ensure_loaded(r->b->group, n, *part, *epoch);
}

static struct rf_kstr kstr_copy(struct rf_kreq *r, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    char *p = rf_kreq_alloc(r, n + 1);
    if (p == NULL)
        return (struct rf_kstr){"", 0};
    memcpy(p, s ? s : "", n);
    return (struct rf_kstr){p, (int32_t)n};
}

static struct rf_kbytes kbytes_copy(struct rf_kreq *r, const uint8_t *d,
                                    size_t n)
{
    uint8_t *p = rf_kreq_alloc(r, n + 1);
    if (p == NULL)
        return (struct rf_kbytes){(const uint8_t *)"", 0};
    if (n > 0)
        memcpy(p, d, n);
    return (struct rf_kbytes){p, (int32_t)n};
}

static void alloc_failed(struct rf_kreq *r, const char *api)
{
    RF_WARN("api=%s corr=%" PRId32 ": response over the arena cap", api,
            r->req.hdr.CorrelationId);
    rf_kreq_close(r);
}

/* ---- FindCoordinator ---- */

static void on_offsets_created(void *data, int status,
                               const Riffle__Envelope *resp)
{
    struct rf_group_srv *s = data;
    (void)resp;
    s->creating = false;
    if (s->stopped) {
        srv_free(s);
        return;
    }
    if (status != 0)
        RF_WARN("create %s failed err=%s", OFFSETS_TOPIC, rf_err_name(status));
    else
        RF_INFO("created topic=%s (or it existed)", OFFSETS_TOPIC);
}

static int32_t live_brokers(const struct rf_meta_image *img)
{
    struct rf_meta_broker mb;
    int32_t n = 0;
    for (size_t i = 0; rf_meta_broker_at(img, i, &mb); i++)
        if (mb.state != RIFFLE__BROKER_STATE__BROKER_FENCED)
            n++;
    return n;
}

static void create_offsets_topic(struct rf_group_srv *s)
{
    Riffle__Envelope env = RIFFLE__ENVELOPE__INIT;
    Riffle__CreateTopicsRequest req = RIFFLE__CREATE_TOPICS_REQUEST__INIT;
    Riffle__CreatableTopic topic = RIFFLE__CREATABLE_TOPIC__INIT;
    Riffle__CreatableTopic *topics[1] = {&topic};
    struct rf_uuid rid;
    int32_t live = live_brokers(rf_bmeta_image(s->b->bmeta));
    int32_t rf = (int32_t)s->b->conf->offsets_replication;
    if (s->creating || live <= 0)
        return;
    rf_uuid_generate(&rid);
    topic.name = OFFSETS_TOPIC;
    topic.num_partitions = (int32_t)s->b->conf->offsets_partitions;
    topic.replication_factor = rf < live ? rf : live;
    req.request_id.data = rid.b;
    req.request_id.len = sizeof rid.b;
    req.topics = topics;
    req.n_topics = 1;
    env.body_case = RIFFLE__ENVELOPE__BODY_CREATE_TOPICS_REQ;
    env.create_topics_req = &req;
    if (rf_ctlclient_call(rf_bmeta_client(s->b->bmeta), &env, -1, 10000,
                          on_offsets_created, s) == 0)
        s->creating = true;
}

static const Riffle__Endpoint *kafka_endpoint(const struct rf_meta_broker *mb)
{
    for (size_t i = 0; i < mb->n_endpoints; i++)
        if (strcmp(mb->endpoints[i]->name, "PLAINTEXT") == 0)
            return mb->endpoints[i];
    return NULL;
}

static int16_t find_leader(struct rf_kreq *r, const char *key,
                           struct rf_FindCoordinatorResponse *resp)
{
    struct rf_parts *ps = r->b->parts;
    struct rf_meta_broker mb;
    const Riffle__Endpoint *ep;
    struct rf_part *p;
    int32_t n = rf_parts_topic_partitions(ps, OFFSETS_TOPIC,
                                          sizeof OFFSETS_TOPIC - 1);
    if (n <= 0) {
        create_offsets_topic(r->b->group);
        return RF_KERR_COORDINATOR_NOT_AVAILABLE;
    }
    p = rf_parts_get(ps, OFFSETS_TOPIC, sizeof OFFSETS_TOPIC - 1,
                     group_hash(key) % n);
    if (p == NULL || p->leader < 0 ||
        !rf_meta_broker_get(rf_bmeta_image(r->b->bmeta), p->leader, &mb) ||
        mb.state == RIFFLE__BROKER_STATE__BROKER_FENCED ||
        (ep = kafka_endpoint(&mb)) == NULL)
        return RF_KERR_COORDINATOR_NOT_AVAILABLE;
    resp->NodeId = mb.id;
    resp->Host = kstr_copy(r, ep->host);
    resp->Port = (int32_t)ep->port;
    return RF_KERR_NONE;
}

void rf_api_find_coordinator(struct rf_kreq *r)
{
    const struct rf_FindCoordinatorRequest *req = r->req.body;
    struct rf_FindCoordinatorResponse *resp = rf_kreq_alloc(r, sizeof *resp);
    char *key = rf_kreq_strdup(r, req->Key);
    if (resp == NULL || key == NULL) {
        alloc_failed(r, "FindCoordinator");
        return;
    }
    rf_FindCoordinatorResponse_init(resp, r->req.hdr.RequestApiVersion);
    resp->NodeId = -1;
    resp->Host = RF_KSTR("");
    resp->Port = -1;
    if (r->b->group == NULL)
        resp->ErrorCode = RF_KERR_COORDINATOR_NOT_AVAILABLE;
    else if (req->KeyType != 0)
        resp->ErrorCode = RF_KERR_COORDINATOR_NOT_AVAILABLE; /* no txns */
    else if (key[0] == '\0')
        resp->ErrorCode = RF_KERR_INVALID_GROUP_ID;
    else
        resp->ErrorCode = find_leader(r, key, resp);
    if (resp->ErrorCode != RF_KERR_NONE) {
        resp->NodeId = -1;
        resp->Host = RF_KSTR("");
        resp->Port = -1;
    }
    rf_kreq_respond(r, resp);
}

/* ---- JoinGroup ---- */

static void on_join(void *ctx, const struct rf_group_join_res *res)
{
    struct rf_kreq *r = ctx;
    struct rf_JoinGroupResponse *resp = rf_kreq_alloc(r, sizeof *resp);
    if (resp == NULL) {
        alloc_failed(r, "JoinGroup");
        return;
    }
    rf_JoinGroupResponse_init(resp, r->req.hdr.RequestApiVersion);
    resp->ErrorCode = res->error;
    resp->GenerationId = res->generation;
    resp->ProtocolName = kstr_copy(r, res->protocol);
    resp->Leader = kstr_copy(r, res->leader);
    resp->MemberId = kstr_copy(r, res->member_id);
    resp->Members.items =
        rf_kreq_alloc(r, (res->n_members + 1) * sizeof *resp->Members.items);
    if (resp->Members.items == NULL) {
        alloc_failed(r, "JoinGroup");
        return;
    }
    for (size_t i = 0; i < res->n_members; i++) {
        resp->Members.items[i].MemberId =
            kstr_copy(r, res->members[i].member_id);
        resp->Members.items[i].GroupInstanceId = RF_KSTR_NULL;
        resp->Members.items[i].Metadata =
            kbytes_copy(r, res->members[i].meta, res->members[i].meta_len);
    }
    resp->Members.count = (int32_t)res->n_members;
    rf_kreq_respond(r, resp);
}

static void join_error(struct rf_kreq *r, int16_t err, const char *member)
{
    struct rf_group_join_res res;
    memset(&res, 0, sizeof res);
    res.error = err;
    res.generation = -1;
    res.protocol = res.leader = "";
    res.member_id = member;
    on_join(r, &res);
}

void rf_api_join_group(struct rf_kreq *r)
{
    const struct rf_JoinGroupRequest *req = r->req.body;
    struct rf_group_join_req jr;
    int32_t np = req->Protocols.count > 0 ? req->Protocols.count : 0;
    struct rf_group_proto *protos =
        rf_kreq_alloc(r, ((size_t)np + 1) * sizeof *protos);
    int16_t err;
    memset(&jr, 0, sizeof jr);
    jr.group_id = rf_kreq_strdup(r, req->GroupId);
    jr.member_id = rf_kreq_strdup(r, req->MemberId);
    jr.client_id = rf_kreq_strdup(r, r->req.hdr.ClientId);
    jr.client_host = rf_kconn_peer(r->conn);
    jr.protocol_type = rf_kreq_strdup(r, req->ProtocolType);
    if (protos == NULL || !jr.group_id || !jr.member_id || !jr.client_id ||
        !jr.protocol_type) {
        alloc_failed(r, "JoinGroup");
        return;
    }
    for (int32_t i = 0; i < np; i++) {
        const struct rf_JoinGroupRequest_JoinGroupRequestProtocol *p =
            &req->Protocols.items[i];
        protos[i].name = rf_kreq_strdup(r, p->Name);
        if (protos[i].name == NULL) {
            alloc_failed(r, "JoinGroup");
            return;
        }
        protos[i].meta = p->Metadata.ptr;
        protos[i].meta_len = p->Metadata.len > 0 ? (size_t)p->Metadata.len : 0;
    }
    jr.protocols = protos;
    jr.n_protocols = (size_t)np;
    jr.session_timeout_ms = req->SessionTimeoutMs;
    jr.rebalance_timeout_ms = r->req.hdr.RequestApiVersion >= 1
                                  ? req->RebalanceTimeoutMs
                                  : req->SessionTimeoutMs;
    jr.require_known_member = r->req.hdr.RequestApiVersion >= 4;
    err = coord_of(r, jr.group_id, &jr.partition, &jr.epoch);
    if (err != RF_KERR_NONE) {
        join_error(r, err, jr.member_id);
        return;
    }
    rf_group_join(r->b->group->coord, &jr, now_ms(), on_join, r);
}

/* ---- SyncGroup ---- */

static void on_sync(void *ctx, int16_t error, const uint8_t *assignment,
                    size_t len)
{
    struct rf_kreq *r = ctx;
    struct rf_SyncGroupResponse *resp = rf_kreq_alloc(r, sizeof *resp);
    if (resp == NULL) {
        alloc_failed(r, "SyncGroup");
        return;
    }
    rf_SyncGroupResponse_init(resp, r->req.hdr.RequestApiVersion);
    resp->ErrorCode = error;
    resp->Assignment = kbytes_copy(r, assignment, len);
    rf_kreq_respond(r, resp);
}

void rf_api_sync_group(struct rf_kreq *r)
{
    const struct rf_SyncGroupRequest *req = r->req.body;
    int32_t na = req->Assignments.count > 0 ? req->Assignments.count : 0;
    struct rf_group_assignment *as =
        rf_kreq_alloc(r, ((size_t)na + 1) * sizeof *as);
    char *group = rf_kreq_strdup(r, req->GroupId);
    char *member = rf_kreq_strdup(r, req->MemberId);
    int32_t part, epoch;
    int16_t err;
    if (as == NULL || group == NULL || member == NULL) {
        alloc_failed(r, "SyncGroup");
        return;
    }
    for (int32_t i = 0; i < na; i++) {
        const struct rf_SyncGroupRequest_SyncGroupRequestAssignment *a =
            &req->Assignments.items[i];
        as[i].member_id = rf_kreq_strdup(r, a->MemberId);
        if (as[i].member_id == NULL) {
            alloc_failed(r, "SyncGroup");
            return;
        }
        as[i].data = a->Assignment.ptr;
        as[i].len = a->Assignment.len > 0 ? (size_t)a->Assignment.len : 0;
    }
    err = coord_of(r, group, &part, &epoch);
    if (err != RF_KERR_NONE) {
        on_sync(r, err, NULL, 0);
        return;
    }
    rf_group_sync(r->b->group->coord, group, member, req->GenerationId, as,
                  (size_t)na, now_ms(), on_sync, r);
}

/* ---- Heartbeat, LeaveGroup ---- */

void rf_api_heartbeat(struct rf_kreq *r)
{
    const struct rf_HeartbeatRequest *req = r->req.body;
    struct rf_HeartbeatResponse *resp = rf_kreq_alloc(r, sizeof *resp);
    char *group = rf_kreq_strdup(r, req->GroupId);
    char *member = rf_kreq_strdup(r, req->MemberId);
    int32_t part, epoch;
    if (resp == NULL || group == NULL || member == NULL) {
        alloc_failed(r, "Heartbeat");
        return;
    }
    rf_HeartbeatResponse_init(resp, r->req.hdr.RequestApiVersion);
    resp->ErrorCode = coord_of(r, group, &part, &epoch);
    if (resp->ErrorCode == RF_KERR_NONE)
        resp->ErrorCode = rf_group_heartbeat(r->b->group->coord, group, member,
                                             req->GenerationId, now_ms());
    rf_kreq_respond(r, resp);
}

static int leave_v3(struct rf_kreq *r, const struct rf_LeaveGroupRequest *req,
                    const char *group, struct rf_LeaveGroupResponse *resp)
{
    int32_t n = req->Members.count > 0 ? req->Members.count : 0;
    resp->Members.items =
        rf_kreq_alloc(r, ((size_t)n + 1) * sizeof *resp->Members.items);
    if (resp->Members.items == NULL)
        return -1;
    resp->Members.count = n;
    for (int32_t i = 0; i < n; i++) {
        const struct rf_LeaveGroupRequest_MemberIdentity *in =
            &req->Members.items[i];
        char *member = rf_kreq_strdup(r, in->MemberId);
        if (member == NULL)
            return -1;
        resp->Members.items[i].MemberId = in->MemberId;
        resp->Members.items[i].GroupInstanceId = in->GroupInstanceId;
        resp->Members.items[i].ErrorCode =
            rf_group_leave(r->b->group->coord, group, member, now_ms());
    }
    return 0;
}

void rf_api_leave_group(struct rf_kreq *r)
{
    const struct rf_LeaveGroupRequest *req = r->req.body;
    struct rf_LeaveGroupResponse *resp = rf_kreq_alloc(r, sizeof *resp);
    char *group = rf_kreq_strdup(r, req->GroupId);
    char *member = rf_kreq_strdup(r, req->MemberId);
    int32_t part, epoch;
    if (resp == NULL || group == NULL || member == NULL)
        goto err_alloc;
    rf_LeaveGroupResponse_init(resp, r->req.hdr.RequestApiVersion);
    resp->ErrorCode = coord_of(r, group, &part, &epoch);
    if (resp->ErrorCode == RF_KERR_NONE) {
        if (r->req.hdr.RequestApiVersion >= 3) {
            if (leave_v3(r, req, group, resp) != 0)
                goto err_alloc;
        } else {
            resp->ErrorCode = rf_group_leave(r->b->group->coord, group, member,
                                             now_ms());
        }
    }
    rf_kreq_respond(r, resp);
    return;
err_alloc:
    alloc_failed(r, "LeaveGroup");
}

/* ---- OffsetCommit: append to the group's partition, answer once the
 * records are durable and under the high watermark ---- */

typedef struct rf_OffsetCommitResponse_OffsetCommitResponseTopic ctopic;
typedef struct rf_OffsetCommitResponse_OffsetCommitResponsePartition cpart;

struct commit {
    struct rf__waiter w;  /* on the offsets partition while waiting */
    struct commit *next, *prev;
    struct rf_group_srv *s;
    struct rf_kreq *r;    /* NULL once answered */
    const void *resp;     /* the response body r gets */
    int *pending;         /* commits of r still running; NULL: just this */
    const char *group;    /* in r's arena */
    struct rf_group_rec *recs; /* in r's arena: applied on success */
    int16_t **errs;       /* recs[i]'s ErrorCode in resp */
    size_t n;
    bool delete_group;    /* DeleteGroups: drop the group on success */
    int64_t end, deadline;
    bool durable;
    int refs;             /* the answer + a flush callback */
};

static void commit_unref(struct commit *cm)
{
    if (--cm->refs == 0)
        rf_free(cm);
}

/* Answer with err (NONE: apply the offsets first), unlink, unref. */
static void commit_finish(struct commit *cm, int16_t err)
{
    struct rf_group_srv *s = cm->s;
    struct rf_kreq *r = cm->r;
    if (r == NULL)
        return;
    rf__parts_unwait(&cm->w);
    for (size_t i = 0; i < cm->n; i++) {
        const struct rf_group_rec *rec = &cm->recs[i];
        *cm->errs[i] = err;
        if (err != RF_KERR_NONE)
            continue;
        if (rec->tombstone)
            rf_group_offset_delete(s->coord, cm->group, rec->topic.p,
                                   rec->partition);
        else
            rf_group_offset_put(s->coord, cm->group, rec->topic.p,
                                rec->partition, rec->offset,
                                rec->leader_epoch, rec->metadata.p,
                                rec->commit_ts);
    }
    if (err == RF_KERR_NONE && cm->delete_group)
        rf_group_remove(s->coord, cm->group);
    cm->r = NULL;
    if (cm->pending == NULL || --*cm->pending == 0)
        rf_kreq_respond(r, cm->resp);
    if (cm->prev)
        cm->prev->next = cm->next;
    else
        s->commits = cm->next;
    if (cm->next)
        cm->next->prev = cm->prev;
    commit_unref(cm);
}

static void commit_check(struct commit *cm)
{
    struct rf_part *p = cm->w.part;
    if (cm->r != NULL && cm->durable && p != NULL &&
        p->high_watermark >= cm->end)
        commit_finish(cm, RF_KERR_NONE);
}

static void commit_wake(struct rf__waiter *w, enum rf__wake why)
{
    struct commit *cm = (struct commit *)w;
    if (why == RF__WAKE_PROGRESS)
        commit_check(cm);
    else
        commit_finish(cm, RF_KERR_NOT_COORDINATOR);
}

static void commit_flushed(void *data, int status, int64_t durable_offset)
{
    struct commit *cm = data;
    (void)durable_offset;
    if (cm->r != NULL) {
        if (status != 0) {
            commit_finish(cm, RF_KERR_NOT_COORDINATOR);
        } else {
            cm->durable = true;
            if (cm->w.part != NULL)
                rf_parts_on_progress(cm->s->b->parts, cm->w.part);
            commit_check(cm);
        }
    }
    commit_unref(cm);
}

static void commits_expire(struct rf_group_srv *s, int64_t now, bool all)
{
    struct commit *cm = s->commits;
    while (cm) {
        struct commit *next = cm->next;
        if (all || now >= cm->deadline)
            commit_finish(cm, all ? RF_KERR_NOT_COORDINATOR
                                  : RF_KERR_COORDINATOR_NOT_AVAILABLE);
        cm = next;
    }
}

/* Append cm's records to p and wait; answers on every path. */
static void commit_append(struct commit *cm, struct rf_part *p)
{
    char errmsg[RF_ERRMSG_SIZE];
    struct rf_log_append_opts opts = {p->leader_epoch, false,
                                      rf_clock_wall_ms()};
    struct rf_log_append_result res;
    struct rf_wr wr;
    int rv;
    rf_wr_init(&wr, 256);
    rf_group_rec_encode(&wr, cm->recs, cm->n, opts.now_ms);
    rv = rf_log_append(p->log, wr.base, wr.len, &opts, &res, errmsg);
    rf_wr_free(&wr);
    cm->refs = 1;
    cm->next = cm->s->commits;
    if (cm->next)
        cm->next->prev = cm;
    cm->s->commits = cm;
    if (rv != 0) {
        RF_WARN("tp=%s-%" PRId32 " group commit append: %s", p->topic,
                p->index, errmsg);
        commit_finish(cm, RF_KERR_NOT_COORDINATOR);
        return;
    }
    cm->end = res.last_offset + 1;
    cm->deadline = now_ms() + COMMIT_TIMEOUT_MS;
    cm->w.wake = commit_wake;
    rf__parts_wait(p, &cm->w);
    rf_parts_on_progress(cm->s->b->parts, p); /* HWM, replica fetchers */
    if (cm->r == NULL)
        return;
    if (rf_log_flush(p->log, cm->end, commit_flushed, cm) == 0)
        cm->refs++;
    else
        commit_finish(cm, RF_KERR_NOT_COORDINATOR);
}

/* Fill the response of one topic; valid partitions become records. */
static int commit_topic(struct rf_kreq *r, struct commit *cm, int16_t err,
                        const struct rf_OffsetCommitRequest_OffsetCommitRequestTopic *t,
                        ctopic *out)
{
    int32_t np = t->Partitions.count > 0 ? t->Partitions.count : 0;
    char *topic = rf_kreq_strdup(r, t->Name);
    out->Name = t->Name;
    out->Partitions.items = rf_kreq_alloc(r, ((size_t)np + 1) * sizeof(cpart));
    if (topic == NULL || out->Partitions.items == NULL)
        return -1;
    out->Partitions.count = np;
    for (int32_t j = 0; j < np; j++) {
        const struct rf_OffsetCommitRequest_OffsetCommitRequestPartition *p =
            &t->Partitions.items[j];
        cpart *o = &out->Partitions.items[j];
        o->PartitionIndex = p->PartitionIndex;
        o->ErrorCode = err;
        if (err != RF_KERR_NONE)
            continue;
        if (p->CommittedMetadata.len > RF_GROUP_OFFSET_METADATA_MAX) {
            o->ErrorCode = RF_KERR_OFFSET_METADATA_TOO_LARGE;
            continue;
        }
        struct rf_group_rec *rec = &cm->recs[cm->n];
        char *meta = rf_kreq_strdup(r, p->CommittedMetadata);
        if (meta == NULL)
            return -1;
        rec->group = (struct rf_group_str){cm->group, strlen(cm->group)};
        rec->topic = (struct rf_group_str){topic, strlen(topic)};
        rec->metadata = (struct rf_group_str){meta, strlen(meta)};
        rec->partition = p->PartitionIndex;
        rec->offset = p->CommittedOffset;
        rec->leader_epoch = r->req.hdr.RequestApiVersion >= 6
                                ? p->CommittedLeaderEpoch
                                : -1;
        rec->commit_ts = rf_clock_wall_ms();
        cm->errs[cm->n++] = &o->ErrorCode;
    }
    return 0;
}

static size_t count_partitions(const struct rf_OffsetCommitRequest *req)
{
    size_t n = 0;
    for (int32_t i = 0; i < req->Topics.count; i++)
        if (req->Topics.items[i].Partitions.count > 0)
            n += (size_t)req->Topics.items[i].Partitions.count;
    return n;
}

void rf_api_offset_commit(struct rf_kreq *r)
{
    const struct rf_OffsetCommitRequest *req = r->req.body;
    struct rf_OffsetCommitResponse *resp = rf_kreq_alloc(r, sizeof *resp);
    struct commit *cm = rf_calloc(1, sizeof *cm);
    size_t np = count_partitions(req);
    int32_t nt = req->Topics.count > 0 ? req->Topics.count : 0;
    char *member = rf_kreq_strdup(r, req->MemberId);
    int32_t part = -1, epoch;
    int16_t err;
    cm->r = r;
    cm->s = r->b->group;
    cm->resp = resp;
    cm->group = rf_kreq_strdup(r, req->GroupId);
    cm->recs = rf_kreq_alloc(r, (np + 1) * sizeof *cm->recs);
    cm->errs = rf_kreq_alloc(r, (np + 1) * sizeof *cm->errs);
    if (resp == NULL || cm->group == NULL || member == NULL ||
        cm->recs == NULL || cm->errs == NULL)
        goto err_alloc;
    rf_OffsetCommitResponse_init(resp, r->req.hdr.RequestApiVersion);
    resp->Topics.items = rf_kreq_alloc(r, ((size_t)nt + 1) * sizeof(ctopic));
    if (resp->Topics.items == NULL)
        goto err_alloc;
    resp->Topics.count = nt;
    err = coord_of(r, cm->group, &part, &epoch);
    if (err == RF_KERR_NONE)
        err = rf_group_commit_check(r->b->group->coord, cm->group, member,
                                    req->GenerationId, part, epoch, now_ms());
    for (int32_t i = 0; i < nt; i++)
        if (commit_topic(r, cm, err, &req->Topics.items[i],
                         &resp->Topics.items[i]) != 0)
            goto err_alloc;
    if (cm->n == 0) {
        rf_free(cm);
        rf_kreq_respond(r, resp);
        return;
    }
    commit_append(cm, rf_parts_get(r->b->parts, OFFSETS_TOPIC,
                                   sizeof OFFSETS_TOPIC - 1, part));
    return;
err_alloc:
    rf_free(cm);
    alloc_failed(r, "OffsetCommit");
}

/* ---- OffsetFetch ---- */

typedef struct rf_OffsetFetchResponse_OffsetFetchResponseTopic ftopic;
typedef struct rf_OffsetFetchResponse_OffsetFetchResponsePartition fpart;

static void fill_fetched(struct rf_kreq *r, const struct rf_group_offset *o,
                         int32_t index, int16_t err, fpart *out)
{
    out->PartitionIndex = index;
    out->CommittedOffset = -1;
    out->CommittedLeaderEpoch = -1;
    out->Metadata = RF_KSTR("");
    out->ErrorCode = err;
    if (o == NULL)
        return;
    out->CommittedOffset = o->offset;
    out->CommittedLeaderEpoch = o->leader_epoch;
    out->Metadata = o->metadata ? kstr_copy(r, o->metadata) : RF_KSTR_NULL;
}

static int fetch_listed(struct rf_kreq *r, const char *group, int16_t err,
                        const struct rf_OffsetFetchRequest *req,
                        struct rf_OffsetFetchResponse *resp)
{
    int32_t nt = req->Topics.count;
    resp->Topics.items = rf_kreq_alloc(r, ((size_t)nt + 1) * sizeof(ftopic));
    if (resp->Topics.items == NULL)
        return -1;
    resp->Topics.count = nt;
    for (int32_t i = 0; i < nt; i++) {
        const struct rf_OffsetFetchRequest_OffsetFetchRequestTopic *t =
            &req->Topics.items[i];
        ftopic *ot = &resp->Topics.items[i];
        int32_t np = t->PartitionIndexes.count > 0 ? t->PartitionIndexes.count
                                                    : 0;
        char *topic = rf_kreq_strdup(r, t->Name);
        ot->Name = t->Name;
        ot->Partitions.items = rf_kreq_alloc(r, ((size_t)np + 1) * sizeof(fpart));
        if (topic == NULL || ot->Partitions.items == NULL)
            return -1;
        ot->Partitions.count = np;
        for (int32_t j = 0; j < np; j++) {
            int32_t idx = t->PartitionIndexes.items[j];
            const struct rf_group_offset *o =
                err == RF_KERR_NONE
                    ? rf_group_offset_get(r->b->group->coord, group, topic, idx)
                    : NULL;
            fill_fetched(r, o, idx, err, &ot->Partitions.items[j]);
        }
    }
    return 0;
}

/* Null topic list (v2+): every committed offset, grouped by topic. */
static int fetch_all(struct rf_kreq *r, const char *group,
                     struct rf_OffsetFetchResponse *resp)
{
    size_t n = 0, nt = 0;
    const struct rf_group_offset *offs =
        rf_group_offsets(r->b->group->coord, group, &n);
    resp->Topics.items = rf_kreq_alloc(r, (n + 1) * sizeof(ftopic));
    if (resp->Topics.items == NULL)
        return -1;
    for (size_t i = 0; i < n; i++) {
        ftopic *t = NULL;
        for (size_t k = 0; k < nt && t == NULL; k++)
            if ((size_t)resp->Topics.items[k].Name.len ==
                    strlen(offs[i].topic) &&
                memcmp(resp->Topics.items[k].Name.ptr, offs[i].topic,
                       strlen(offs[i].topic)) == 0)
                t = &resp->Topics.items[k];
        if (t == NULL) {
            t = &resp->Topics.items[nt++];
            t->Name = kstr_copy(r, offs[i].topic);
            t->Partitions.items = rf_kreq_alloc(r, (n + 1) * sizeof(fpart));
            if (t->Partitions.items == NULL)
                return -1;
        }
        fill_fetched(r, &offs[i], offs[i].partition, RF_KERR_NONE,
                     &t->Partitions.items[t->Partitions.count++]);
    }
    resp->Topics.count = (int32_t)nt;
    return 0;
}

void rf_api_offset_fetch(struct rf_kreq *r)
{
    const struct rf_OffsetFetchRequest *req = r->req.body;
    struct rf_OffsetFetchResponse *resp = rf_kreq_alloc(r, sizeof *resp);
    char *group = rf_kreq_strdup(r, req->GroupId);
    int16_t ver = r->req.hdr.RequestApiVersion;
    int32_t part, epoch;
    int16_t err;
    int rv;
    if (resp == NULL || group == NULL)
        goto err_alloc;
    rf_OffsetFetchResponse_init(resp, ver);
    err = coord_of(r, group, &part, &epoch);
    resp->ErrorCode = err;
    resp->Topics.count = 0;
    if (req->Topics.count < 0)
        rv = err == RF_KERR_NONE ? fetch_all(r, group, resp) : 0;
    else /* v1 carries the error per partition only */
        rv = fetch_listed(r, group, err, req, resp);
    if (rv != 0)
        goto err_alloc;
    rf_kreq_respond(r, resp);
    return;
err_alloc:
    alloc_failed(r, "OffsetFetch");
}

/* ---- DescribeGroups ---- */

typedef struct rf_DescribeGroupsResponse_DescribedGroup dgroup;
typedef struct rf_DescribeGroupsResponse_DescribedGroupMember dmember;

static int describe_one(struct rf_kreq *r, const char *group, dgroup *out)
{
    struct rf_group_desc d;
    int32_t part, epoch;
    out->GroupId = kstr_copy(r, group);
    out->AuthorizedOperations = INT32_MIN;
    out->ErrorCode = coord_of(r, group, &part, &epoch);
    out->GroupState = RF_KSTR("Dead");
    out->ProtocolType = RF_KSTR("");
    out->ProtocolData = RF_KSTR("");
    if (out->ErrorCode != RF_KERR_NONE ||
        !rf_group_describe(r->b->group->coord, group, &d))
        return 0;
    out->GroupState = kstr_copy(r, d.state);
    out->ProtocolType = kstr_copy(r, d.protocol_type);
    out->ProtocolData = kstr_copy(r, d.protocol);
    out->Members.items = rf_kreq_alloc(r, (d.n_members + 1) * sizeof(dmember));
    if (out->Members.items == NULL)
        return -1;
    out->Members.count = (int32_t)d.n_members;
    for (size_t i = 0; i < d.n_members; i++) {
        dmember *m = &out->Members.items[i];
        m->MemberId = kstr_copy(r, d.members[i].member_id);
        m->GroupInstanceId = RF_KSTR_NULL;
        m->ClientId = kstr_copy(r, d.members[i].client_id);
        m->ClientHost = kstr_copy(r, d.members[i].client_host);
        m->MemberMetadata =
            kbytes_copy(r, d.members[i].meta, d.members[i].meta_len);
        m->MemberAssignment = kbytes_copy(r, d.members[i].assignment,
                                          d.members[i].assignment_len);
    }
    return 0;
}

void rf_api_describe_groups(struct rf_kreq *r)
{
    const struct rf_DescribeGroupsRequest *req = r->req.body;
    struct rf_DescribeGroupsResponse *resp = rf_kreq_alloc(r, sizeof *resp);
    int32_t n = req->Groups.count > 0 ? req->Groups.count : 0;
    if (resp == NULL)
        goto err_alloc;
    rf_DescribeGroupsResponse_init(resp, r->req.hdr.RequestApiVersion);
    resp->Groups.items = rf_kreq_alloc(r, ((size_t)n + 1) * sizeof(dgroup));
    if (resp->Groups.items == NULL)
        goto err_alloc;
    resp->Groups.count = n;
    for (int32_t i = 0; i < n; i++) {
        char *group = rf_kreq_strdup(r, req->Groups.items[i]);
        if (group == NULL ||
            describe_one(r, group, &resp->Groups.items[i]) != 0)
            goto err_alloc;
    }
    rf_kreq_respond(r, resp);
    return;
err_alloc:
    alloc_failed(r, "DescribeGroups");
}

/* ---- ListGroups: the groups this broker coordinates ---- */

struct list_ctx {
    struct rf_kreq *r;
    const struct rf_ListGroupsRequest *req;
    struct rf_ListGroupsResponse *resp;
    int32_t cap;
    bool failed;
};

static bool state_wanted(const struct rf_ListGroupsRequest *req,
                         const char *state)
{
    if (req->StatesFilter.count <= 0)
        return true;
    for (int32_t i = 0; i < req->StatesFilter.count; i++) {
        struct rf_kstr f = req->StatesFilter.items[i];
        if (f.len >= 0 && (size_t)f.len == strlen(state) &&
            strncasecmp(f.ptr, state, (size_t)f.len) == 0)
            return true;
    }
    return false;
}

static void list_one(void *data, const char *group, const char *type,
                     const char *state)
{
    struct list_ctx *l = data;
    struct rf_ListGroupsResponse *resp = l->resp;
    if (l->failed || !state_wanted(l->req, state))
        return;
    if (resp->Groups.count == l->cap) {
        int32_t cap = l->cap ? 2 * l->cap : 16;
        struct rf_ListGroupsResponse_ListedGroup *items =
            rf_kreq_alloc(l->r, (size_t)cap * sizeof *items);
        if (items == NULL) {
            l->failed = true;
            return;
        }
        if (resp->Groups.count > 0)
            memcpy(items, resp->Groups.items,
                   (size_t)resp->Groups.count * sizeof *items);
        resp->Groups.items = items;
        l->cap = cap;
    }
    struct rf_ListGroupsResponse_ListedGroup *g =
        &resp->Groups.items[resp->Groups.count++];
    g->GroupId = kstr_copy(l->r, group);
    g->ProtocolType = kstr_copy(l->r, type);
    g->GroupState = kstr_copy(l->r, state);
}

void rf_api_list_groups(struct rf_kreq *r)
{
    struct rf_ListGroupsResponse *resp = rf_kreq_alloc(r, sizeof *resp);
    struct list_ctx l = {r, r->req.body, resp, 0, false};
    if (resp == NULL) {
        alloc_failed(r, "ListGroups");
        return;
    }
    rf_ListGroupsResponse_init(resp, r->req.hdr.RequestApiVersion);
    resp->Groups.count = 0;
    if (r->b->group == NULL)
        resp->ErrorCode = RF_KERR_COORDINATOR_NOT_AVAILABLE;
    else
        rf_group_each(r->b->group->coord, list_one, &l);
    if (l.failed) {
        alloc_failed(r, "ListGroups");
        return;
    }
    rf_kreq_respond(r, resp);
}

/* ---- DeleteGroups: tombstones for every offset, then the group goes ---- */

static int delete_one(struct rf_kreq *r, const char *group, int *pending,
                      struct rf_DeleteGroupsResponse_DeletableGroupResult *out)
{
    struct rf_group_srv *s = r->b->group;
    const struct rf_group_offset *offs;
    int32_t part, epoch;
    size_t n;
    out->ErrorCode = coord_of(r, group, &part, &epoch);
    if (out->ErrorCode == RF_KERR_NONE)
        out->ErrorCode = rf_group_deletable(s->coord, group);
    if (out->ErrorCode != RF_KERR_NONE)
        return 0;
    offs = rf_group_offsets(s->coord, group, &n);
    if (n == 0) {
        rf_group_remove(s->coord, group);
        return 0;
    }
    struct commit *cm = rf_calloc(1, sizeof *cm);
    cm->r = r;
    cm->s = s;
    cm->resp = r->data;
    cm->pending = pending;
    cm->group = group;
    cm->delete_group = true;
    cm->recs = rf_kreq_alloc(r, n * sizeof *cm->recs);
    cm->errs = rf_kreq_alloc(r, n * sizeof *cm->errs);
    if (cm->recs == NULL || cm->errs == NULL) {
        rf_free(cm);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        struct rf_group_rec *rec = &cm->recs[i];
        struct rf_kstr t = kstr_copy(r, offs[i].topic);
        rec->group = (struct rf_group_str){group, strlen(group)};
        rec->topic = (struct rf_group_str){t.ptr, (size_t)t.len};
        rec->partition = offs[i].partition;
        rec->tombstone = true;
        cm->errs[i] = &out->ErrorCode;
    }
    cm->n = n;
    (*pending)++;
    commit_append(cm, rf_parts_get(r->b->parts, OFFSETS_TOPIC,
                                   sizeof OFFSETS_TOPIC - 1, part));
    return 0;
}

void rf_api_delete_groups(struct rf_kreq *r)
{
    const struct rf_DeleteGroupsRequest *req = r->req.body;
    struct rf_DeleteGroupsResponse *resp = rf_kreq_alloc(r, sizeof *resp);
    int32_t n = req->GroupsNames.count > 0 ? req->GroupsNames.count : 0;
    int *pending = rf_kreq_alloc(r, sizeof *pending);
    if (resp == NULL || pending == NULL)
        goto err_alloc;
    rf_DeleteGroupsResponse_init(resp, r->req.hdr.RequestApiVersion);
    resp->Results.items =
        rf_kreq_alloc(r, ((size_t)n + 1) * sizeof *resp->Results.items);
    if (resp->Results.items == NULL)
        goto err_alloc;
    resp->Results.count = n;
    r->data = resp;
    *pending = 1; /* this function's own reference */
    for (int32_t i = 0; i < n; i++) {
        char *group = rf_kreq_strdup(r, req->GroupsNames.items[i]);
        resp->Results.items[i].GroupId = req->GroupsNames.items[i];
        if (group == NULL) {
            resp->Results.items[i].ErrorCode = RF_KERR_INVALID_GROUP_ID;
            continue;
        }
        if (delete_one(r, group, pending, &resp->Results.items[i]) != 0)
            resp->Results.items[i].ErrorCode = RF_KERR_INVALID_GROUP_ID;
    }
    if (--*pending == 0)
        rf_kreq_respond(r, resp);
    return;
err_alloc:
    alloc_failed(r, "DeleteGroups");
}

/* ---- OffsetDelete: tombstones for offsets of topics nobody in the group
 * consumes ---- */

typedef struct rf_OffsetDeleteResponse_OffsetDeleteResponseTopic odtopic;
typedef struct rf_OffsetDeleteResponse_OffsetDeleteResponsePartition odpart;

static int offset_delete_topic(
    struct rf_kreq *r, struct commit *cm,
    const struct rf_OffsetDeleteRequest_OffsetDeleteRequestTopic *t,
    odtopic *out)
{
    int32_t np = t->Partitions.count > 0 ? t->Partitions.count : 0;
    char *topic = rf_kreq_strdup(r, t->Name);
    bool subscribed;
    out->Name = t->Name;
    out->Partitions.items = rf_kreq_alloc(r, ((size_t)np + 1) * sizeof(odpart));
    if (topic == NULL || out->Partitions.items == NULL)
        return -1;
    out->Partitions.count = np;
    subscribed = rf_group_subscribed(cm->s->coord, cm->group, topic);
    for (int32_t j = 0; j < np; j++) {
        odpart *o = &out->Partitions.items[j];
        struct rf_group_rec *rec = &cm->recs[cm->n];
        o->PartitionIndex = t->Partitions.items[j].PartitionIndex;
        o->ErrorCode = subscribed ? RF_KERR_GROUP_SUBSCRIBED_TO_TOPIC
                                  : RF_KERR_NONE;
        if (subscribed)
            continue;
        rec->group = (struct rf_group_str){cm->group, strlen(cm->group)};
        rec->topic = (struct rf_group_str){topic, strlen(topic)};
        rec->partition = o->PartitionIndex;
        rec->tombstone = true;
        cm->errs[cm->n++] = &o->ErrorCode;
    }
    return 0;
}

void rf_api_offset_delete(struct rf_kreq *r)
{
    const struct rf_OffsetDeleteRequest *req = r->req.body;
    struct rf_OffsetDeleteResponse *resp = rf_kreq_alloc(r, sizeof *resp);
    struct commit *cm = rf_calloc(1, sizeof *cm);
    int32_t nt = req->Topics.count > 0 ? req->Topics.count : 0;
    size_t np = 0;
    int32_t part = -1, epoch;
    for (int32_t i = 0; i < nt; i++)
        if (req->Topics.items[i].Partitions.count > 0)
            np += (size_t)req->Topics.items[i].Partitions.count;
    cm->r = r;
    cm->s = r->b->group;
    cm->resp = resp;
    cm->group = rf_kreq_strdup(r, req->GroupId);
    cm->recs = rf_kreq_alloc(r, (np + 1) * sizeof *cm->recs);
    cm->errs = rf_kreq_alloc(r, (np + 1) * sizeof *cm->errs);
    if (resp == NULL || cm->group == NULL || cm->recs == NULL ||
        cm->errs == NULL)
        goto err_alloc;
    rf_OffsetDeleteResponse_init(resp, r->req.hdr.RequestApiVersion);
    resp->Topics.count = 0;
    resp->ErrorCode = coord_of(r, cm->group, &part, &epoch);
    if (resp->ErrorCode == RF_KERR_NONE &&
        rf_group_state(cm->s->coord, cm->group, &epoch, &np) == NULL)
        resp->ErrorCode = RF_KERR_GROUP_ID_NOT_FOUND;
    if (resp->ErrorCode != RF_KERR_NONE)
        goto answer_now;
    resp->Topics.items = rf_kreq_alloc(r, ((size_t)nt + 1) * sizeof(odtopic));
    if (resp->Topics.items == NULL)
        goto err_alloc;
    resp->Topics.count = nt;
    for (int32_t i = 0; i < nt; i++)
        if (offset_delete_topic(r, cm, &req->Topics.items[i],
                                &resp->Topics.items[i]) != 0)
            goto err_alloc;
    if (cm->n == 0)
        goto answer_now;
    commit_append(cm, rf_parts_get(r->b->parts, OFFSETS_TOPIC,
                                   sizeof OFFSETS_TOPIC - 1, part));
    return;
answer_now:
    rf_free(cm);
    rf_kreq_respond(r, resp);
    return;
err_alloc:
    rf_free(cm);
    alloc_failed(r, "OffsetDelete");
}
