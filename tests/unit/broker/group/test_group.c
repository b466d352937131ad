/* test_group.c: the consumer-group state machine (broker/group) driven with a
 * fake clock and fake partition leadership. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "alloc.h"
#include "group.h"
#include "kerr.h"

#define MAX_ANS 8
#define SESSION 10000
#define REBAL 30000
#define RETENTION 60000

/* A held request's answer, captured by the callbacks. */
struct ans {
    bool done;
    int calls;
    int16_t error;
    int32_t generation;
    char protocol[64], leader[128], member[128];
    size_t n_members;
    char members[MAX_ANS][128];
    uint8_t assignment[64];
    size_t assignment_len;
};

struct fx {
    struct rf_group_coord *c;
    int32_t epoch; /* epoch_of answers this for every partition */
    int64_t now;
};

static int32_t fake_epoch(void *data, int32_t partition)
{
    struct fx *f = data;
    (void)partition;
    return f->epoch;
}

static int setup_delay(void **state, int64_t delay)
{
    struct fx *f = rf_calloc(1, sizeof *f);
    struct rf_group_coord_opts o = {.initial_rebalance_delay_ms = delay,
                                    .offsets_retention_ms = RETENTION,
                                    .epoch_of = fake_epoch,
                                    .data = f};
    f->epoch = 7;
    f->c = rf_group_coord_new(&o);
    *state = f;
    return 0;
}

static int setup(void **state)
{
    return setup_delay(state, 0);
}

static int setup_delayed(void **state)
{
    return setup_delay(state, 3000);
}

static int teardown(void **state)
{
    struct fx *f = *state;
    rf_group_coord_free(f->c);
    rf_free(f);
    return 0;
}

static void on_join(void *ctx, const struct rf_group_join_res *res)
{
    struct ans *a = ctx;
    a->done = true;
    a->calls++;
    a->error = res->error;
    a->generation = res->generation;
    strncpy(a->protocol, res->protocol, sizeof a->protocol - 1);
    strncpy(a->leader, res->leader, sizeof a->leader - 1);
    strncpy(a->member, res->member_id, sizeof a->member - 1);
    a->n_members = res->n_members;
    for (size_t i = 0; i < res->n_members && i < MAX_ANS; i++)
        strncpy(a->members[i], res->members[i].member_id,
                sizeof a->members[i] - 1);
}

static void on_sync(void *ctx, int16_t error, const uint8_t *data, size_t len)
{
    struct ans *a = ctx;
    a->done = true;
    a->calls++;
    a->error = error;
    a->assignment_len = len < sizeof a->assignment ? len : 0;
    if (a->assignment_len)
        memcpy(a->assignment, data, len);
}

static const struct rf_group_proto P_RANGE_RR[] = {
    {"range", (const uint8_t *)"m", 1}, {"roundrobin", (const uint8_t *)"m", 1}};
static const struct rf_group_proto P_RR_RANGE[] = {
    {"roundrobin", (const uint8_t *)"m", 1}, {"range", (const uint8_t *)"m", 1}};
static const struct rf_group_proto P_RR[] = {
    {"roundrobin", (const uint8_t *)"m", 1}};
static const struct rf_group_proto P_JS[] = {
    {"RoundRobinAssigner", (const uint8_t *)"j", 1}};

/* Join as member (""=new) with protocols; v4 requires a known member. */
static void join_p(struct fx *f, const char *member, bool v4,
                   const struct rf_group_proto *p, size_t n, struct ans *a)
{
    struct rf_group_join_req jr = {
        .group_id = "g", .member_id = member, .client_id = "cli",
        .client_host = "/127.0.0.1", .protocol_type = "consumer",
        .session_timeout_ms = SESSION, .rebalance_timeout_ms = REBAL,
        .require_known_member = v4, .protocols = p, .n_protocols = n,
        .partition = 3, .epoch = f->epoch};
    memset(a, 0, sizeof *a);
    rf_group_join(f->c, &jr, f->now, on_join, a);
}

static void join(struct fx *f, const char *member, struct ans *a)
{
    join_p(f, member, false, P_RANGE_RR, 2, a);
}

static void sync_(struct fx *f, const char *member, int32_t gen,
                  const struct rf_group_assignment *as, size_t n,
                  struct ans *a)
{
    memset(a, 0, sizeof *a);
    rf_group_sync(f->c, "g", member, gen, as, n, f->now, on_sync, a);
}

static const char *state(struct fx *f, int32_t *gen)
{
    size_t n;
    int32_t g;
    return rf_group_state(f->c, "g", gen ? gen : &g, &n);
}

/* ---- join validation: a table ---- */

static void test_join_invalid(void **state_)
{
    struct fx *f = *state_;
    static const struct {
        const char *group;
        int32_t session;
        const char *type;
        int16_t want;
    } cases[] = {
        {"", SESSION, "consumer", RF_KERR_INVALID_GROUP_ID},
        {"g", 5999, "consumer", RF_KERR_INVALID_SESSION_TIMEOUT},
        {"g", 1800001, "consumer", RF_KERR_INVALID_SESSION_TIMEOUT},
        {"g", SESSION, "", RF_KERR_INCONSISTENT_GROUP_PROTOCOL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ans a;
        struct rf_group_join_req jr = {
            .group_id = cases[i].group, .member_id = "", .client_id = "c",
            .client_host = "h", .protocol_type = cases[i].type,
            .session_timeout_ms = cases[i].session,
            .rebalance_timeout_ms = REBAL, .protocols = P_RR,
            .n_protocols = 1, .partition = 0, .epoch = f->epoch};
        memset(&a, 0, sizeof a);
        rf_group_join(f->c, &jr, f->now, on_join, &a);
        assert_true(a.done);
        assert_int_equal(a.error, cases[i].want);
    }
    assert_null(state(f, NULL));
}

static void test_member_id_required_v4_only(void **state_)
{
    struct fx *f = *state_;
    struct ans a, b;
    join_p(f, "", true, P_RR, 1, &a);
    assert_true(a.done);
    assert_int_equal(a.error, RF_KERR_MEMBER_ID_REQUIRED);
    assert_true(strncmp(a.member, "cli-", 4) == 0);
    /* Rejoining with the given id is accepted and completes the join. */
    char id[128];
    strcpy(id, a.member);
    join_p(f, id, true, P_RR, 1, &b);
    assert_true(b.done);
    assert_int_equal(b.error, RF_KERR_NONE);
    assert_int_equal(b.generation, 1);
    assert_string_equal(b.member, id);
    assert_string_equal(b.leader, id);
    assert_int_equal(b.n_members, 1);
    /* Below v4 a new member is created at once: no error 79. */
    join_p(f, "", false, P_RR, 1, &a);
    assert_false(a.done); /* held: a rebalance started */
    assert_string_equal(state(f, NULL), "PreparingRebalance");
    /* An unknown id is refused. */
    join_p(f, "nobody", true, P_RR, 1, &b);
    assert_int_equal(b.error, RF_KERR_UNKNOWN_MEMBER_ID);
}

/* Two members reach Stable: returns their ids in m1, m2. */
static void two_stable(struct fx *f, char *m1, char *m2)
{
    struct ans a, b, s1, s2;
    join(f, "", &a);
    assert_true(a.done);
    strcpy(m1, a.member);
    join(f, "", &b); /* held until m1 rejoins */
    assert_false(b.done);
    assert_int_equal(rf_group_heartbeat(f->c, "g", m1, 1, f->now),
                     RF_KERR_REBALANCE_IN_PROGRESS);
    join(f, m1, &a);
    assert_true(a.done && b.done);
    strcpy(m2, b.member);
    assert_int_equal(a.generation, 2);
    assert_int_equal(b.generation, 2);
    assert_string_equal(a.leader, m1);
    assert_int_equal(a.n_members, 2); /* only the leader gets the list */
    assert_int_equal(b.n_members, 0);
    assert_string_equal(a.protocol, "range");
    assert_string_equal(state(f, NULL), "CompletingRebalance");
    /* The follower's SyncGroup waits for the leader's. */
    sync_(f, m2, 2, NULL, 0, &s2);
    assert_false(s2.done);
    struct rf_group_assignment as[2] = {{m1, (const uint8_t *)"A1", 2},
                                        {m2, (const uint8_t *)"B22", 3}};
    sync_(f, m1, 2, as, 2, &s1);
    assert_true(s1.done && s2.done);
    assert_int_equal(s1.error, 0);
    assert_int_equal(s2.error, 0);
    assert_int_equal(s1.assignment_len, 2);
    assert_memory_equal(s1.assignment, "A1", 2);
    assert_int_equal(s2.assignment_len, 3);
    assert_memory_equal(s2.assignment, "B22", 3);
    assert_string_equal(state(f, NULL), "Stable");
}

static void test_join_sync_stable(void **state_)
{
    struct fx *f = *state_;
    char m1[128], m2[128];
    struct ans s;
    two_stable(f, m1, m2);
    assert_int_equal(rf_group_heartbeat(f->c, "g", m2, 2, f->now), 0);
    assert_int_equal(rf_group_heartbeat(f->c, "g", m2, 1, f->now),
                     RF_KERR_ILLEGAL_GENERATION);
    assert_int_equal(rf_group_heartbeat(f->c, "g", "x", 2, f->now),
                     RF_KERR_UNKNOWN_MEMBER_ID);
    /* SyncGroup errors. */
    sync_(f, m2, 1, NULL, 0, &s);
    assert_int_equal(s.error, RF_KERR_ILLEGAL_GENERATION);
    sync_(f, "x", 2, NULL, 0, &s);
    assert_int_equal(s.error, RF_KERR_UNKNOWN_MEMBER_ID);
    sync_(f, m2, 2, NULL, 0, &s); /* Stable: its stored assignment */
    assert_int_equal(s.assignment_len, 3);
    /* A follower rejoining unchanged gets the same generation back. */
    struct ans j;
    join(f, m2, &j);
    assert_true(j.done);
    assert_int_equal(j.generation, 2);
    assert_string_equal(state(f, NULL), "Stable");
}

static void test_session_expiry(void **state_)
{
    struct fx *f = *state_;
    char m1[128], m2[128];
    struct ans a;
    int32_t gen;
    two_stable(f, m1, m2);
    f->now += SESSION - 1;
    assert_int_equal(rf_group_heartbeat(f->c, "g", m1, 2, f->now), 0);
    rf_group_tick(f->c, f->now);
    assert_string_equal(state(f, NULL), "Stable");
    f->now += 2; /* m2's session ran out, m1's did not */
    rf_group_tick(f->c, f->now);
    assert_string_equal(state(f, NULL), "PreparingRebalance");
    assert_int_equal(rf_group_heartbeat(f->c, "g", m2, 2, f->now),
                     RF_KERR_UNKNOWN_MEMBER_ID);
    assert_int_equal(rf_group_heartbeat(f->c, "g", m1, 2, f->now),
                     RF_KERR_REBALANCE_IN_PROGRESS);
    join(f, m1, &a);
    assert_true(a.done);
    assert_int_equal(a.generation, 3);
    assert_int_equal(a.n_members, 1);
    assert_string_equal(state(f, &gen), "CompletingRebalance");
}

static void test_rebalance_timeout(void **state_)
{
    struct fx *f = *state_;
    char m1[128], m2[128];
    struct ans a, c;
    two_stable(f, m1, m2);
    join(f, "", &c); /* m3: a rebalance */
    join(f, m1, &a);
    assert_false(a.done || c.done); /* m2 has not rejoined */
    for (int i = 0; i < 10; i++) { /* m2 heartbeats but never rejoins */
        f->now += REBAL / 10 - 1;
        assert_int_equal(rf_group_heartbeat(f->c, "g", m2, 2, f->now),
                         RF_KERR_REBALANCE_IN_PROGRESS);
        rf_group_tick(f->c, f->now);
    }
    assert_false(a.done);
    f->now += 20;
    rf_group_tick(f->c, f->now);
    assert_true(a.done && c.done);
    assert_int_equal(a.generation, 3);
    assert_int_equal(a.n_members, 2);
    assert_int_equal(rf_group_heartbeat(f->c, "g", m2, 3, f->now),
                     RF_KERR_UNKNOWN_MEMBER_ID);
}

static void test_leave(void **state_)
{
    struct fx *f = *state_;
    char m1[128], m2[128];
    struct ans a;
    int32_t gen;
    two_stable(f, m1, m2);
    assert_int_equal(rf_group_leave(f->c, "g", "x", f->now),
                     RF_KERR_UNKNOWN_MEMBER_ID);
    assert_int_equal(rf_group_leave(f->c, "g", m2, f->now), 0);
    assert_string_equal(state(f, NULL), "PreparingRebalance");
    join(f, m1, &a);
    assert_true(a.done);
    assert_int_equal(a.generation, 3);
    assert_int_equal(rf_group_leave(f->c, "g", m1, f->now), 0);
    assert_string_equal(state(f, &gen), "Empty");
    assert_int_equal(gen, 4);
}

static void test_initial_delay(void **state_)
{
    struct fx *f = *state_;
    struct ans a, b;
    join(f, "", &a);
    f->now = 100;
    join(f, "", &b);
    rf_group_tick(f->c, 2999);
    assert_false(a.done || b.done);
    rf_group_tick(f->c, 3000); /* b arrived during the delay: extended */
    assert_false(a.done || b.done);
    rf_group_tick(f->c, 5999);
    assert_false(a.done);
    rf_group_tick(f->c, 6000);
    assert_true(a.done && b.done);
    assert_int_equal(a.generation, 1);
    assert_int_equal(a.n_members + b.n_members, 2);
}

static void test_protocol_vote(void **state_)
{
    struct fx *f = *state_;
    struct ans a, b, c, d;
    /* range, roundrobin / roundrobin, range / roundrobin: only roundrobin
     * is supported by everyone. */
    join_p(f, "", false, P_RANGE_RR, 2, &a);
    char m1[128];
    strcpy(m1, a.member);
    join_p(f, "", false, P_RR_RANGE, 2, &b);
    join_p(f, "", false, P_RR, 1, &c);
    join_p(f, "", false, P_JS, 1, &d);
    assert_int_equal(d.error, RF_KERR_INCONSISTENT_GROUP_PROTOCOL);
    join_p(f, m1, false, P_RANGE_RR, 2, &a);
    assert_true(a.done && b.done && c.done);
    assert_string_equal(a.protocol, "roundrobin");
    assert_string_equal(c.protocol, "roundrobin");
}

static void test_protocol_majority(void **state_)
{
    struct fx *f = *state_;
    struct ans a, b, c;
    join_p(f, "", false, P_RR_RANGE, 2, &a);
    char m1[128];
    strcpy(m1, a.member);
    join_p(f, "", false, P_RANGE_RR, 2, &b);
    join_p(f, "", false, P_RANGE_RR, 2, &c);
    join_p(f, m1, false, P_RR_RANGE, 2, &a);
    assert_true(a.done && b.done && c.done);
    assert_string_equal(a.protocol, "range"); /* two votes to one */
}

static void test_commits(void **state_)
{
    struct fx *f = *state_;
    char m1[128], m2[128];
    struct ans a;
    const struct rf_group_offset *o;
    size_t n;
    /* Simple commits create an Empty group. */
    assert_int_equal(rf_group_commit_check(f->c, "g", "", -1, 3, f->epoch,
                                           f->now), 0);
    rf_group_offset_put(f->c, "g", "t", 0, 42, -1, NULL, 0);
    rf_group_offset_put(f->c, "g", "t", 1, 7, 5, "meta", 0);
    rf_group_offset_put(f->c, "g", "t", 0, 43, -1, "x", 0);
    o = rf_group_offset_get(f->c, "g", "t", 0);
    assert_non_null(o);
    assert_int_equal(o->offset, 43);
    assert_string_equal(o->metadata, "x");
    o = rf_group_offset_get(f->c, "g", "t", 1);
    assert_int_equal(o->leader_epoch, 5);
    assert_null(rf_group_offset_get(f->c, "g", "t", 2));
    assert_null(rf_group_offset_get(f->c, "g", "u", 0));
    rf_group_offsets(f->c, "g", &n);
    assert_int_equal(n, 2);
    two_stable(f, m1, m2);
    assert_int_equal(rf_group_commit_check(f->c, "g", "", -1, 3, f->epoch,
                                           f->now),
                     RF_KERR_UNKNOWN_MEMBER_ID);
    assert_int_equal(rf_group_commit_check(f->c, "g", m1, 2, 3, f->epoch,
                                           f->now), 0);
    assert_int_equal(rf_group_commit_check(f->c, "g", m1, 1, 3, f->epoch,
                                           f->now),
                     RF_KERR_ILLEGAL_GENERATION);
    assert_int_equal(rf_group_commit_check(f->c, "g", "x", 2, 3, f->epoch,
                                           f->now),
                     RF_KERR_UNKNOWN_MEMBER_ID);
    /* Allowed during PreparingRebalance, refused while completing. */
    assert_int_equal(rf_group_leave(f->c, "g", m2, f->now), 0);
    assert_int_equal(rf_group_commit_check(f->c, "g", m1, 2, 3, f->epoch,
                                           f->now), 0);
    join(f, m1, &a);
    assert_int_equal(rf_group_commit_check(f->c, "g", m1, 3, 3, f->epoch,
                                           f->now),
                     RF_KERR_REBALANCE_IN_PROGRESS);
    /* Offsets survive the rebalances. */
    assert_int_equal(rf_group_offset_get(f->c, "g", "t", 0)->offset, 43);
}

static void count_expired(void *ctx, const char *group, int32_t partition,
                          const struct rf_group_offset *o)
{
    size_t *n = ctx;
    assert_string_equal(group, "g");
    assert_int_equal(partition, 3);
    assert_string_equal(o->topic, "t");
    (*n)++;
}

static void test_offsets_retention(void **state_)
{
    struct fx *f = *state_;
    char m1[128], m2[128];
    size_t n = 0;
    assert_int_equal(rf_group_commit_check(f->c, "g", "", -1, 3, f->epoch,
                                           f->now), 0);
    rf_group_offset_put(f->c, "g", "t", 0, 1, -1, NULL, 1000);
    rf_group_offset_put(f->c, "g", "t", 1, 1, -1, NULL, 5000);
    /* Not while the group has members, however old the commits. */
    two_stable(f, m1, m2);
    assert_int_equal(rf_group_expire_offsets(f->c, 100000000, count_expired,
                                             &n), 0);
    assert_int_equal(rf_group_leave(f->c, "g", m1, f->now), 0);
    assert_int_equal(rf_group_leave(f->c, "g", m2, f->now), 0);
    assert_string_equal(state(f, NULL), "Empty");
    /* Empty since the check at t=200000: kept for the retention period
     * even though both commits are older than that. */
    assert_int_equal(rf_group_expire_offsets(f->c, 200000, count_expired,
                                             &n), 0);
    assert_int_equal(rf_group_expire_offsets(f->c, 200000 + RETENTION - 1,
                                             count_expired, &n), 0);
    assert_non_null(rf_group_offset_get(f->c, "g", "t", 0));
    /* Then every offset older than the retention period goes, and the
     * group with them. */
    rf_group_offset_put(f->c, "g", "t", 2, 1, -1, NULL, 200000 + 10);
    assert_int_equal(rf_group_expire_offsets(f->c, 200000 + RETENTION,
                                             count_expired, &n), 2);
    assert_int_equal(n, 2);
    assert_null(rf_group_offset_get(f->c, "g", "t", 0));
    assert_non_null(rf_group_offset_get(f->c, "g", "t", 2)); /* recent */
    assert_int_equal(rf_group_expire_offsets(f->c, 200000 + 10 + RETENTION,
                                             count_expired, &n), 1);
    assert_null(state(f, NULL)); /* no offsets left: the group goes */
}

/* ConsumerProtocol subscriptions: v0, topics ["orders", "t2"], empty
 * userdata; and one that does not parse. */
static const uint8_t SUB[] = {0, 0, 0, 0, 0, 2, 0, 6, 'o', 'r', 'd', 'e',
                              'r', 's', 0, 2, 't', '2', 0, 0, 0, 0};
static const uint8_t SUB_BAD[] = {0, 0, 0x7f, 0xff, 0xff, 0xff};

static void test_subscribed(void **state_)
{
    struct fx *f = *state_;
    struct rf_group_proto p[] = {{"range", SUB, sizeof SUB}};
    struct rf_group_proto bad[] = {{"range", SUB_BAD, sizeof SUB_BAD}};
    struct ans a, b;
    assert_false(rf_group_subscribed(f->c, "g", "orders")); /* unknown */
    join_p(f, "", false, p, 1, &a);
    assert_true(a.done);
    assert_true(rf_group_subscribed(f->c, "g", "orders"));
    assert_true(rf_group_subscribed(f->c, "g", "t2"));
    assert_false(rf_group_subscribed(f->c, "g", "order"));
    assert_false(rf_group_subscribed(f->c, "g", "other"));
    join_p(f, "", false, bad, 1, &b); /* malformed: counts as subscribed */
    assert_true(rf_group_subscribed(f->c, "g", "other"));
    assert_int_equal(rf_group_leave(f->c, "g", a.member, f->now), 0);
    assert_int_equal(rf_group_leave(f->c, "g", b.member, f->now), 0);
    assert_false(rf_group_subscribed(f->c, "g", "orders")); /* Empty */
}

static void test_leadership_lost(void **state_)
{
    struct fx *f = *state_;
    char m1[128], m2[128];
    struct ans j, s;
    two_stable(f, m1, m2);
    rf_group_offset_put(f->c, "g", "t", 0, 1, -1, NULL, 0);
    join(f, "", &j); /* held */
    sync_(f, m1, 2, NULL, 0, &s);
    assert_int_equal(s.error, RF_KERR_REBALANCE_IN_PROGRESS);
    f->epoch = -1;
    rf_group_tick(f->c, f->now);
    assert_true(j.done);
    assert_int_equal(j.error, RF_KERR_NOT_COORDINATOR);
    assert_int_equal(j.calls, 1);
    assert_null(state(f, NULL));
    /* Leader again at a new epoch: the old state is not reused. */
    f->epoch = 9;
    assert_null(rf_group_offset_get(f->c, "g", "t", 0));
}

static void test_free_answers_held(void **state_)
{
    struct fx *f = *state_;
    char m1[128], m2[128];
    struct ans j, s;
    two_stable(f, m1, m2);
    join(f, "", &j);
    join(f, m1, &s); /* m2 missing: both held */
    assert_false(j.done || s.done);
    rf_group_coord_free(f->c);
    f->c = rf_group_coord_new(&(struct rf_group_coord_opts){
        .epoch_of = fake_epoch, .data = f});
    assert_true(j.done && s.done);
    assert_int_equal(j.error, RF_KERR_NOT_COORDINATOR);
    assert_int_equal(j.calls + s.calls, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_join_invalid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_member_id_required_v4_only, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_join_sync_stable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_session_expiry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rebalance_timeout, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_leave, setup, teardown),
        cmocka_unit_test_setup_teardown(test_initial_delay, setup_delayed,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_protocol_vote, setup, teardown),
        cmocka_unit_test_setup_teardown(test_protocol_majority, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_commits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_offsets_retention, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_subscribed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_leadership_lost, setup, teardown),
        cmocka_unit_test_setup_teardown(test_free_answers_held, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
