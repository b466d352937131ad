/* group.h: the classic consumer-group coordinator: one state machine per
 * group (shared/notes/kafka-protocol.md §7.2) and the committed offsets.
 *
 * The coordinator knows nothing of sockets or clocks: callers pass the
 * time (now_ms, monotonic) and get answers through callbacks, so the unit
 * tests drive it with a fake clock. Held requests (JoinGroup until the
 * join completes, a follower's SyncGroup until the leader's) are answered
 * later through their callback; every held request is answered exactly
 * once, at the latest by rf_group_unload() or rf_group_coord_free().
 *
 * Each group belongs to one partition of __consumer_offsets and is kept
 * only while the epoch_of callback says this broker leads that partition
 * at the epoch the group was created under; otherwise it is dropped (its
 * held requests get NOT_COORDINATOR) at the next tick or lookup.
 *
 * Error results are Kafka ErrorCodes (int16, kerr.h). */
#ifndef RF_GROUP_H
#define RF_GROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RF_GROUP_MIN_SESSION_MS 6000
#define RF_GROUP_MAX_SESSION_MS 1800000
#define RF_GROUP_OFFSET_METADATA_MAX 4096

struct rf_group_coord;

struct rf_group_coord_opts {
    int64_t initial_rebalance_delay_ms; /* group.initial.rebalance.delay.ms */
    int64_t offsets_retention_ms;       /* offsets.retention.minutes; 0:
                                         * offsets never expire */
    /* Leader epoch of __consumer_offsets partition p if this broker leads
     * it, else -1. */
    int32_t (*epoch_of)(void *data, int32_t partition);
    void *data;
};

/* returns owned; free with rf_group_coord_free(). */
struct rf_group_coord *rf_group_coord_new(const struct rf_group_coord_opts *o);
/* Answer every held request with NOT_COORDINATOR and free everything. */
void rf_group_coord_free(struct rf_group_coord *c);

/* ---- JoinGroup ---- */
struct rf_group_proto {
    const char *name;     /* borrowed */
    const uint8_t *meta;  /* borrowed */
    size_t meta_len;
};
struct rf_group_join_req {
    const char *group_id, *member_id; /* member_id "" for a new member */
    const char *client_id, *client_host, *protocol_type;
    int32_t session_timeout_ms, rebalance_timeout_ms;
    bool require_known_member;        /* JoinGroup v4+ */
    const struct rf_group_proto *protocols;
    size_t n_protocols;
    int32_t partition, epoch;         /* the group's offsets partition */
};
struct rf_group_member_info {
    const char *member_id;
    const uint8_t *meta;
    size_t meta_len;
};
/* Every pointer is valid during the callback only. members: leader only. */
struct rf_group_join_res {
    int16_t error;
    int32_t generation;
    const char *protocol, *leader, *member_id;
    const struct rf_group_member_info *members;
    size_t n_members;
};
typedef void (*rf_group_join_cb)(void *ctx, const struct rf_group_join_res *res);
/* req borrowed. cb runs now or when the join completes, exactly once. */
void rf_group_join(struct rf_group_coord *c, const struct rf_group_join_req *req,
                   int64_t now_ms, rf_group_join_cb cb, void *ctx);

/* ---- SyncGroup ---- */
struct rf_group_assignment {
    const char *member_id;
    const uint8_t *data;
    size_t len;
};
/* assignment valid during the callback only. */
typedef void (*rf_group_sync_cb)(void *ctx, int16_t error,
                                 const uint8_t *assignment, size_t len);
/* assignments borrowed (leader's SyncGroup; ignored from others). cb runs
 * now or when the leader's SyncGroup arrives, exactly once. */
void rf_group_sync(struct rf_group_coord *c, const char *group_id,
                   const char *member_id, int32_t generation,
                   const struct rf_group_assignment *assignments, size_t n,
                   int64_t now_ms, rf_group_sync_cb cb, void *ctx);

/* ---- Heartbeat, LeaveGroup ---- */
int16_t rf_group_heartbeat(struct rf_group_coord *c, const char *group_id,
                           const char *member_id, int32_t generation,
                           int64_t now_ms);
int16_t rf_group_leave(struct rf_group_coord *c, const char *group_id,
                       const char *member_id, int64_t now_ms);

/* ---- offsets ---- */
/* Whether a commit by (member_id, generation) is accepted now. A simple
 * commit (generation -1, member "") creates an Empty group under
 * (partition, epoch) if there is none. */
int16_t rf_group_commit_check(struct rf_group_coord *c, const char *group_id,
                              const char *member_id, int32_t generation,
                              int32_t partition, int32_t epoch,
                              int64_t now_ms);
/* Store a committed offset (after a successful commit check). metadata
 * may be NULL (null string); commit_ts: wall-clock ms of the commit.
 * Everything borrowed. */
void rf_group_offset_put(struct rf_group_coord *c, const char *group_id,
                         const char *topic, int32_t partition, int64_t offset,
                         int32_t leader_epoch, const char *metadata,
                         int64_t commit_ts);
/* Loading __consumer_offsets partition `partition` at `epoch`: make sure
 * the group exists (Empty if new) under that partition and epoch. */
void rf_group_ensure(struct rf_group_coord *c, const char *group_id,
                     int32_t partition, int32_t epoch);
/* Forget a committed offset (a tombstone); no-op if absent. */
void rf_group_offset_delete(struct rf_group_coord *c, const char *group_id,
                            const char *topic, int32_t partition);
struct rf_group_offset {
    char *topic;      /* owned by the coordinator */
    int32_t partition;
    int64_t offset;
    int32_t leader_epoch;
    char *metadata;   /* NULL: null */
    int64_t commit_ts;
};
/* The committed offset of (topic, partition), or NULL. Valid until the
 * next call into the coordinator. */
const struct rf_group_offset *rf_group_offset_get(struct rf_group_coord *c,
                                                  const char *group_id,
                                                  const char *topic,
                                                  int32_t partition);
/* Every committed offset of the group; *n = 0 if none. Valid until the
 * next call into the coordinator. */
const struct rf_group_offset *rf_group_offsets(struct rf_group_coord *c,
                                               const char *group_id,
                                               size_t *n);

/* Expire sessions and pending members, complete joins whose rebalance
 * timeout or initial delay ran out, drop groups whose partition is no
 * longer led here. Call every ~100 ms. */
void rf_group_tick(struct rf_group_coord *c, int64_t now_ms);

/* Offsets retention (Kafka 2.1+): once a group has been Empty for
 * offsets_retention_ms (counted from the first call that saw it Empty),
 * its offsets committed more than offsets_retention_ms before now_wall_ms
 * expire: cb gets each (with the group's offsets partition, to write a
 * tombstone) before it is forgotten; an Empty group left with no offsets
 * is dropped. Call periodically. Returns the number expired. */
typedef void (*rf_group_expire_cb)(void *ctx, const char *group_id,
                                   int32_t partition,
                                   const struct rf_group_offset *o);
size_t rf_group_expire_offsets(struct rf_group_coord *c, int64_t now_wall_ms,
                               rf_group_expire_cb cb, void *ctx);

/* ---- DescribeGroups, ListGroups, DeleteGroups ---- */
struct rf_group_member_desc {
    const char *member_id, *client_id, *client_host;
    const uint8_t *meta;        /* for the chosen protocol (Stable only) */
    size_t meta_len;
    const uint8_t *assignment;  /* Stable only */
    size_t assignment_len;
};
struct rf_group_desc {
    const char *state, *protocol_type, *protocol;
    struct rf_group_member_desc *members; /* owned by the coordinator */
    size_t n_members;
};
/* Fill d for group_id; false if unknown (Kafka answers "Dead"). Valid
 * until the next call into the coordinator. */
bool rf_group_describe(struct rf_group_coord *c, const char *group_id,
                       struct rf_group_desc *d);
/* Call cb for each group this coordinator holds. */
void rf_group_each(struct rf_group_coord *c,
                   void (*cb)(void *ctx, const char *group_id,
                              const char *protocol_type, const char *state),
                   void *ctx);
/* DeleteGroups: NONE if the group exists and is Empty, else
 * GROUP_ID_NOT_FOUND or NON_EMPTY_GROUP. */
int16_t rf_group_deletable(struct rf_group_coord *c, const char *group_id);
/* OffsetDelete: whether the group's members consume topic (their
 * ConsumerProtocol subscriptions for the chosen protocol, or for their
 * first protocol before one is chosen; metadata that does not parse counts
 * as subscribed). False for an Empty or unknown group. */
bool rf_group_subscribed(struct rf_group_coord *c, const char *group_id,
                         const char *topic);
/* Drop an Empty group and its offsets (no-op otherwise). */
void rf_group_remove(struct rf_group_coord *c, const char *group_id);

/* For tests and DescribeGroups: state name ("Empty", "PreparingRebalance",
 * "CompletingRebalance", "Stable"), or NULL if the group is unknown. */
const char *rf_group_state(struct rf_group_coord *c, const char *group_id,
                           int32_t *generation, size_t *n_members);

#endif
