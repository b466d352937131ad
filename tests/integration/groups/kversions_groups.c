/* kversions_groups.c: the group APIs' checks for kversions.c (through
 * tests/integration/broker/kversions.h: roundtrip, check_code, fail, KS).
 * One broker: it leads every __consumer_offsets partition, so it
 * coordinates every group once FindCoordinator has created the topic.
 * kversions_group(key, v) returns 0 when key is not a group API. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "kafka_msgs.h"
#include "kversions.h"

static char kv_member[256];   /* a Stable member of group kv-g */
static int32_t kv_generation = -1;

static void kv_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void do_find_coordinator(int16_t v)
{
    struct rf_FindCoordinatorRequest req;
    struct rf_FindCoordinatorResponse resp;
    for (int tries = 0;; tries++) {
        rf_kmsg_init(&rf_FindCoordinatorRequest_msg, v, &req);
        req.Key = KS("kv-g");
        roundtrip(10, v, "FindCoordinator", &req, &resp);
        /* COORDINATOR_NOT_AVAILABLE while __consumer_offsets is created */
        if (resp.ErrorCode != 15 || tries == 200)
            break;
        rf_arena_reset(&arena);
        kv_sleep_ms(100);
    }
    check_code("FindCoordinator", v, resp.ErrorCode);
    if (resp.NodeId < 0 || resp.Port <= 0)
        fail("FindCoordinator", v, "no coordinator");
}

/* JoinGroup at v as a new member of group (v4+: the MEMBER_ID_REQUIRED
 * round first); the answer in *resp. */
static void join(int16_t v, const char *group,
                 struct rf_JoinGroupResponse *resp)
{
    struct rf_JoinGroupRequest req;
    struct rf_JoinGroupRequest_JoinGroupRequestProtocol p = {
        KS("range"), {(const uint8_t *)"\0\0\0\0\0\0\0\0\0\0", 10}};
    char id[256] = "";
    do_find_coordinator(2);
    for (int round = 0; round < 2; round++) {
        rf_kmsg_init(&rf_JoinGroupRequest_msg, v, &req);
        req.GroupId = KS(group);
        req.SessionTimeoutMs = 60000; /* outlives the other checks */
        req.RebalanceTimeoutMs = 10000;
        req.MemberId = KS(id);
        req.ProtocolType = KS("consumer");
        req.Protocols.items = &p;
        req.Protocols.count = 1;
        roundtrip(11, v, "JoinGroup", &req, resp);
        if (resp->ErrorCode != 79 || v < 4 || round == 1)
            break;
        snprintf(id, sizeof id, "%.*s", (int)resp->MemberId.len,
                 resp->MemberId.ptr);
    }
    check_code("JoinGroup", v, resp->ErrorCode);
    if (resp->GenerationId < 1 || resp->MemberId.len <= 0 ||
        resp->Members.count != 1)
        fail("JoinGroup", v, "not the leader of a one-member group");
}

static void do_join_group(int16_t v)
{
    struct rf_JoinGroupResponse resp;
    char group[32];
    snprintf(group, sizeof group, "kv-join-%d", v);
    join(v, group, &resp);
}

static void sync_group(int16_t v, const char *group, const char *member,
                       int32_t gen)
{
    struct rf_SyncGroupRequest req;
    struct rf_SyncGroupResponse resp;
    struct rf_SyncGroupRequest_SyncGroupRequestAssignment a = {
        KS(member), {(const uint8_t *)"assignment", 10}};
    rf_kmsg_init(&rf_SyncGroupRequest_msg, v, &req);
    req.GroupId = KS(group);
    req.GenerationId = gen;
    req.MemberId = KS(member);
    req.Assignments.items = &a;
    req.Assignments.count = 1;
    roundtrip(14, v, "SyncGroup", &req, &resp);
    check_code("SyncGroup", v, resp.ErrorCode);
    if (resp.Assignment.len != 10 ||
        memcmp(resp.Assignment.ptr, "assignment", 10) != 0)
        fail("SyncGroup", v, "assignment");
}

/* kv-g has one Stable member (kv_member, kv_generation). */
static void ensure_member(void)
{
    struct rf_JoinGroupResponse resp;
    if (kv_generation > 0)
        return;
    join(5, "kv-g", &resp);
    snprintf(kv_member, sizeof kv_member, "%.*s", (int)resp.MemberId.len,
             resp.MemberId.ptr);
    kv_generation = resp.GenerationId;
    sync_group(3, "kv-g", kv_member, kv_generation);
    rf_arena_reset(&arena);
}

static void do_sync_group(int16_t v)
{
    ensure_member();
    sync_group(v, "kv-g", kv_member, kv_generation);
}

static void do_heartbeat(int16_t v)
{
    struct rf_HeartbeatRequest req;
    struct rf_HeartbeatResponse resp;
    ensure_member();
    rf_kmsg_init(&rf_HeartbeatRequest_msg, v, &req);
    req.GroupId = KS("kv-g");
    req.GenerationId = kv_generation;
    req.MemberId = KS(kv_member);
    roundtrip(12, v, "Heartbeat", &req, &resp);
    check_code("Heartbeat", v, resp.ErrorCode);
}

static void do_leave_group(int16_t v)
{
    struct rf_JoinGroupResponse jr;
    struct rf_LeaveGroupRequest req;
    struct rf_LeaveGroupResponse resp;
    struct rf_LeaveGroupRequest_MemberIdentity who;
    char group[32], member[256];
    snprintf(group, sizeof group, "kv-leave-%d", v);
    join(4, group, &jr);
    snprintf(member, sizeof member, "%.*s", (int)jr.MemberId.len,
             jr.MemberId.ptr);
    rf_kmsg_init(&rf_LeaveGroupRequest_msg, v, &req);
    req.GroupId = KS(group);
    req.MemberId = KS(member);
    who.MemberId = KS(member);
    who.GroupInstanceId = (struct rf_kstr){NULL, -1};
    req.Members.items = &who;
    req.Members.count = 1;
    roundtrip(13, v, "LeaveGroup", &req, &resp);
    check_code("LeaveGroup", v, resp.ErrorCode);
    if (v >= 3 && (resp.Members.count != 1 || resp.Members.items[0].ErrorCode))
        fail("LeaveGroup", v, "member result");
}

/* Simple commits (generation -1, no member) to group kv-c-<v>. */
static void do_offset_commit(int16_t v)
{
    struct rf_OffsetCommitRequest req;
    struct rf_OffsetCommitResponse resp;
    struct rf_OffsetCommitRequest_OffsetCommitRequestPartition p;
    struct rf_OffsetCommitRequest_OffsetCommitRequestTopic t;
    char group[32];
    do_find_coordinator(2);
    snprintf(group, sizeof group, "kv-c-%d", v);
    rf_kmsg_init(&rf_OffsetCommitRequest_msg, v, &req);
    memset(&p, 0, sizeof p);
    p.PartitionIndex = 0;
    p.CommittedOffset = 100 + v;
    p.CommittedLeaderEpoch = -1;
    p.CommittedMetadata = KS("m");
    t.Name = KS(topic);
    t.Partitions.items = &p;
    t.Partitions.count = 1;
    req.GroupId = KS(group);
    req.GenerationId = -1;
    req.MemberId = KS("");
    req.GroupInstanceId = (struct rf_kstr){NULL, -1};
    req.RetentionTimeMs = -1;
    req.Topics.items = &t;
    req.Topics.count = 1;
    roundtrip(8, v, "OffsetCommit", &req, &resp);
    if (resp.Topics.count != 1 || resp.Topics.items[0].Partitions.count != 1)
        fail("OffsetCommit", v, "answer shape");
    check_code("OffsetCommit", v,
               resp.Topics.items[0].Partitions.items[0].ErrorCode);
}

/* Reads back what OffsetCommit v2 stored (OffsetCommit precedes it). */
static void do_offset_fetch(int16_t v)
{
    struct rf_OffsetFetchRequest req;
    struct rf_OffsetFetchResponse resp;
    struct rf_OffsetFetchRequest_OffsetFetchRequestTopic t;
    int32_t idx = 0;
    rf_kmsg_init(&rf_OffsetFetchRequest_msg, v, &req);
    t.Name = KS(topic);
    t.PartitionIndexes.items = &idx;
    t.PartitionIndexes.count = 1;
    req.GroupId = KS("kv-c-2");
    req.Topics.items = &t;
    req.Topics.count = 1;
    roundtrip(9, v, "OffsetFetch", &req, &resp);
    check_code("OffsetFetch", v, resp.ErrorCode);
    if (resp.Topics.count != 1 || resp.Topics.items[0].Partitions.count != 1)
        fail("OffsetFetch", v, "answer shape");
    check_code("OffsetFetch", v,
               resp.Topics.items[0].Partitions.items[0].ErrorCode);
    if (resp.Topics.items[0].Partitions.items[0].CommittedOffset != 102)
        fail("OffsetFetch", v, "committed offset");
}

static void do_describe_groups(int16_t v)
{
    struct rf_DescribeGroupsRequest req;
    struct rf_DescribeGroupsResponse resp;
    struct rf_kstr g = KS("kv-g");
    ensure_member();
    rf_kmsg_init(&rf_DescribeGroupsRequest_msg, v, &req);
    req.Groups.items = &g;
    req.Groups.count = 1;
    roundtrip(15, v, "DescribeGroups", &req, &resp);
    if (resp.Groups.count != 1)
        fail("DescribeGroups", v, "answer shape");
    check_code("DescribeGroups", v, resp.Groups.items[0].ErrorCode);
    if (resp.Groups.items[0].Members.count != 1)
        fail("DescribeGroups", v, "members");
}

static void do_list_groups(int16_t v)
{
    struct rf_ListGroupsRequest req;
    struct rf_ListGroupsResponse resp;
    ensure_member();
    rf_kmsg_init(&rf_ListGroupsRequest_msg, v, &req);
    roundtrip(16, v, "ListGroups", &req, &resp);
    check_code("ListGroups", v, resp.ErrorCode);
    if (resp.Groups.count < 1)
        fail("ListGroups", v, "no groups");
}

/* Deletes the (Empty) group kv-c-<v+3> that OffsetCommit v<v+3> made. */
static void do_delete_groups(int16_t v)
{
    struct rf_DeleteGroupsRequest req;
    struct rf_DeleteGroupsResponse resp;
    char group[32];
    snprintf(group, sizeof group, "kv-c-%d", v + 3);
    struct rf_kstr g = KS(group);
    rf_kmsg_init(&rf_DeleteGroupsRequest_msg, v, &req);
    req.GroupsNames.items = &g;
    req.GroupsNames.count = 1;
    roundtrip(42, v, "DeleteGroups", &req, &resp);
    if (resp.Results.count != 1)
        fail("DeleteGroups", v, "answer shape");
    check_code("DeleteGroups", v, resp.Results.items[0].ErrorCode);
}

/* Deletes the offset OffsetCommit v5 stored in the Empty group kv-c-5,
 * then reads it back: gone (-1). */
static void do_offset_delete(int16_t v)
{
    struct rf_OffsetDeleteRequest req;
    struct rf_OffsetDeleteResponse resp;
    struct rf_OffsetDeleteRequest_OffsetDeleteRequestPartition p = {0};
    struct rf_OffsetDeleteRequest_OffsetDeleteRequestTopic t;
    struct rf_OffsetFetchRequest freq;
    struct rf_OffsetFetchResponse fresp;
    struct rf_OffsetFetchRequest_OffsetFetchRequestTopic ft;
    int32_t idx = 0;
    rf_kmsg_init(&rf_OffsetDeleteRequest_msg, v, &req);
    t.Name = KS(topic);
    t.Partitions.items = &p;
    t.Partitions.count = 1;
    req.GroupId = KS("kv-c-5");
    req.Topics.items = &t;
    req.Topics.count = 1;
    roundtrip(47, v, "OffsetDelete", &req, &resp);
    check_code("OffsetDelete", v, resp.ErrorCode);
    if (resp.Topics.count != 1 || resp.Topics.items[0].Partitions.count != 1)
        fail("OffsetDelete", v, "answer shape");
    check_code("OffsetDelete", v,
               resp.Topics.items[0].Partitions.items[0].ErrorCode);
    rf_kmsg_init(&rf_OffsetFetchRequest_msg, 5, &freq);
    ft.Name = KS(topic);
    ft.PartitionIndexes.items = &idx;
    ft.PartitionIndexes.count = 1;
    freq.GroupId = KS("kv-c-5");
    freq.Topics.items = &ft;
    freq.Topics.count = 1;
    roundtrip(9, 5, "OffsetFetch", &freq, &fresp);
    if (fresp.Topics.count != 1 ||
        fresp.Topics.items[0].Partitions.count != 1 ||
        fresp.Topics.items[0].Partitions.items[0].CommittedOffset != -1)
        fail("OffsetDelete", v, "offset still there");
}

int kversions_group(int16_t key, int16_t v)
{
    switch (key) {
    case 8: do_offset_commit(v); return 1;
    case 9: do_offset_fetch(v); return 1;
    case 10: do_find_coordinator(v); return 1;
    case 11: do_join_group(v); return 1;
    case 12: do_heartbeat(v); return 1;
    case 13: do_leave_group(v); return 1;
    case 14: do_sync_group(v); return 1;
    case 15: do_describe_groups(v); return 1;
    case 16: do_list_groups(v); return 1;
    case 42: do_delete_groups(v); return 1;
    case 47: do_offset_delete(v); return 1;
    default: return 0;
    }
}
