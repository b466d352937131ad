/* riffle-bench.c: Kafka produce/consume benchmark built on librdkafka, the
 * real client. Three phases against a cluster: produce COUNT messages as
 * fast as possible (or at --rate), consume them back from the beginning,
 * and an end-to-end latency run (producer at a fixed rate, consumer
 * concurrently, latency = receive time - send time carried in the value).
 * With --mock (default on) it runs the same phases against librdkafka's
 * in-memory mock cluster (rd_kafka_mock_cluster_new) as the reference.
 *
 * usage: riffle-bench [--bootstrap HOST:PORT,...] [--topic T]
 *          [--acks 0|1|all] [--size BYTES] [--count N] [--rate MSGS_PER_S]
 *          [--latency-rate MSGS_PER_S] [--latency-count N] [--partitions P]
 *          [--linger-ms MS] [--no-mock] [--mock-only]
 *        riffle-bench --group-rounds N [--bootstrap B] [--topic T]
 *          [--partitions P] [--session-timeout-ms MS] [--heartbeat-ms MS]
 * Prints one line per phase; exits non-zero if a phase lost messages.
 *
 * Consumer-group mode (--group-rounds N, Riffle only, no produce phases):
 * a group of 3 librdkafka consumers (one thread each) subscribed to T, which
 * must exist with P partitions. Each round times, from the event until the
 * live members' assignments again split all P partitions once:
 *   kill:  one member stops without leaving (destroyed without
 *          consumer_close, like a SIGKILL): its session has to lapse;
 *   join:  a new member joins the 2 others;
 *   leave: one member closes cleanly (LeaveGroup);
 *   join again. Prints min/median/max of each over the N rounds.
 * RB_DEBUG=<librdkafka debug contexts> turns on client debug logs. */
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

struct opts {
    const char *bootstrap;
    const char *topic;
    const char *acks;
    int size;
    long count;
    double rate;
    double latency_rate;
    long latency_count;
    int partitions;
    int linger_ms;
    int mock;
    int mock_only;
    int group_rounds;
    int session_timeout_ms;
    int heartbeat_ms;
};

struct counts {
    long delivered;
    long failed;
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    struct counts *c = opaque;
    (void)rk;
    if (m->err)
        c->failed++;
    else
        c->delivered++;
}

static rd_kafka_t *new_producer(const char *bs, const struct opts *o,
                                int linger_ms, struct counts *c)
{
    char err[512], buf[32];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    snprintf(buf, sizeof buf, "%d", linger_ms);
    if (rd_kafka_conf_set(conf, "bootstrap.servers", bs, err, sizeof err) ||
        rd_kafka_conf_set(conf, "acks", o->acks, err, sizeof err) ||
        rd_kafka_conf_set(conf, "linger.ms", buf, err, sizeof err) ||
        rd_kafka_conf_set(conf, "queue.buffering.max.messages", "1000000",
                          err, sizeof err) ||
        rd_kafka_conf_set(conf, "batch.size", "1000000", err, sizeof err)) {
        fprintf(stderr, "riffle-bench: producer config: %s\n", err);
        exit(2);
    }
    rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
    rd_kafka_conf_set_opaque(conf, c);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (rk == NULL) {
        fprintf(stderr, "riffle-bench: producer: %s\n", err);
        exit(2);
    }
    return rk;
}

/* starts: per-partition start offsets, or NULL (at_end: the end, else the
 * beginning). */
static rd_kafka_t *new_consumer(const char *bs, const char *topic,
                                int partitions, int at_end,
                                const int64_t *starts)
{
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", bs, err, sizeof err) ||
        rd_kafka_conf_set(conf, "group.id", "riffle-bench", err, sizeof err) ||
        (getenv("RB_DEBUG") && rd_kafka_conf_set(conf, "debug", getenv("RB_DEBUG"), err, sizeof err)) ||
        rd_kafka_conf_set(conf, "enable.auto.commit", "false", err,
                          sizeof err) ||
        rd_kafka_conf_set(conf, "fetch.wait.max.ms", "100", err, sizeof err) ||
        rd_kafka_conf_set(conf, "fetch.error.backoff.ms", "5", err,
                          sizeof err)) {
        fprintf(stderr, "riffle-bench: consumer config: %s\n", err);
        exit(2);
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (rk == NULL) {
        fprintf(stderr, "riffle-bench: consumer: %s\n", err);
        exit(2);
    }
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_topic_partition_list_t *l =
        rd_kafka_topic_partition_list_new(partitions);
    for (int p = 0; p < partitions; p++)
        rd_kafka_topic_partition_list_add(l, topic, p)->offset =
            starts   ? starts[p]
            : at_end ? RD_KAFKA_OFFSET_END
                     : RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_assign(rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    return rk;
}

/* Produce count messages of o->size bytes, at most rate per second (0: as
 * fast as possible). The first 8 bytes of each value are the send time. */
static double produce(rd_kafka_t *rk, const struct opts *o, long count,
                      double rate, struct counts *c)
{
    char *value = calloc(1, (size_t)o->size > 8 ? (size_t)o->size : 8);
    uint64_t t0 = now_ns();
    for (long i = 0; i < count; i++) {
        if (rate > 0) {
            uint64_t due = t0 + (uint64_t)((double)i * 1e9 / rate);
            while (now_ns() < due)
                rd_kafka_poll(rk, 0);
        }
        uint64_t ts = now_ns();
        memcpy(value, &ts, 8);
        while (rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(o->topic),
                                 RD_KAFKA_V_PARTITION((int32_t)(i % o->partitions)),
                                 RD_KAFKA_V_VALUE(value, (size_t)o->size),
                                 RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                 RD_KAFKA_V_END) ==
               RD_KAFKA_RESP_ERR__QUEUE_FULL)
            rd_kafka_poll(rk, 1);
        rd_kafka_poll(rk, 0);
    }
    rd_kafka_flush(rk, 60000);
    double secs = (double)(now_ns() - t0) / 1e9;
    free(value);
    (void)c;
    return secs;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Consume until count messages or timeout; latencies (ns) if lat != NULL. */
static long consume(rd_kafka_t *rk, long count, uint64_t *lat, double *secs,
                    int timeout_s)
{
    long got = 0;
    uint64_t t0 = 0, deadline = now_ns() + (uint64_t)timeout_s * 1000000000u;
    while (got < count && now_ns() < deadline) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (m == NULL)
            continue;
        if (!m->err) {
            uint64_t now = now_ns();
            if (got == 0)
                t0 = now;
            if (lat && m->len >= 8) {
                uint64_t sent;
                memcpy(&sent, m->payload, 8);
                lat[got] = now > sent ? now - sent : 0;
            }
            got++;
        } else if (getenv("RB_DEBUG")) {
            fprintf(stderr, "consume error: %s\n", rd_kafka_err2str(m->err));
        }
        rd_kafka_message_destroy(m);
    }
    *secs = got > 1 ? (double)(now_ns() - t0) / 1e9 : 0;
    return got;
}

struct lat_run {
    rd_kafka_t *c;
    long want;
    uint64_t *lat;
    long got;
    double secs;
};

static void *latency_consumer(void *arg)
{
    struct lat_run *lr = arg;
    lr->got = consume(lr->c, lr->want, lr->lat, &lr->secs, 60);
    return NULL;
}

/* High watermarks of every partition (-1 where unknown). */
static void watermarks(rd_kafka_t *rk, const struct opts *o, int64_t *lo,
                       int64_t *hi)
{
    for (int part = 0; part < o->partitions; part++) {
        lo[part] = hi[part] = -1;
        rd_kafka_query_watermark_offsets(rk, o->topic, part, &lo[part],
                                         &hi[part], 10000);
    }
}

static int run(const char *label, const char *bs, const struct opts *o)
{
    struct counts pc = {0, 0}, lc = {0, 0};
    int bad = 0;
    double ps, cs;
    int64_t *lo = calloc((size_t)o->partitions, sizeof *lo);
    int64_t *before = calloc((size_t)o->partitions, sizeof *before);
    int64_t *after = calloc((size_t)o->partitions, sizeof *after);
    rd_kafka_t *p = new_producer(bs, o, o->linger_ms, &pc);
    /* This run reads back what it wrote: from the end offsets before it. */
    watermarks(p, o, lo, before);
    ps = produce(p, o, o->count, o->rate, &pc);
    rd_kafka_destroy(p);
    printf("%-7s produce: %ld msgs x %d B acks=%s: %.0f msgs/s, %.1f MB/s "
           "(%ld failed)\n",
           label, pc.delivered, o->size, o->acks, (double)pc.delivered / ps,
           (double)pc.delivered * o->size / ps / 1e6, pc.failed);
    bad |= pc.delivered != o->count;

    /* What the cluster still holds of it (librdkafka's mock keeps only a
     * bounded tail of each partition, so its log start moves): read that. */
    long held = 0;
    p = new_producer(bs, o, o->linger_ms, &pc);
    watermarks(p, o, lo, after);
    rd_kafka_destroy(p);
    for (int part = 0; part < o->partitions; part++) {
        if (before[part] < 0)
            before[part] = 0;
        if (lo[part] > before[part])
            before[part] = lo[part];
        held += (long)(after[part] - before[part]);
    }
    rd_kafka_t *c = new_consumer(bs, o->topic, o->partitions, 0, before);
    long got = consume(c, held, NULL, &cs, 120);
    rd_kafka_consumer_close(c);
    rd_kafka_destroy(c);
    printf("%-7s consume: %ld msgs: %.0f msgs/s, %.1f MB/s%s\n", label, got,
           cs > 0 ? (double)got / cs : 0,
           cs > 0 ? (double)got * o->size / cs / 1e6 : 0,
           held < pc.delivered ? " (the cluster retained only these)" : "");
    bad |= got != held || (strcmp(label, "mock") != 0 && held != pc.delivered);

    uint64_t *lat = calloc((size_t)o->latency_count, sizeof *lat);
    c = new_consumer(bs, o->topic, o->partitions, 1, NULL);
    /* let the consumer reach the end before producing */
    double warm;
    consume(c, 1, NULL, &warm, 3);
    /* The consumer polls on its own thread while the producer sends, so a
     * message's latency is its receive time minus its send time. */
    struct lat_run lr = {c, o->latency_count, lat, 0, 0};
    pthread_t th;
    pthread_create(&th, NULL, latency_consumer, &lr);
    p = new_producer(bs, o, 0, &lc);
    produce(p, o, o->latency_count, o->latency_rate, &lc);
    pthread_join(th, NULL);
    got = lr.got;

    rd_kafka_destroy(p);
    rd_kafka_consumer_close(c);
    rd_kafka_destroy(c);
    if (got > 0) {
        qsort(lat, (size_t)got, sizeof *lat, cmp_u64);
        printf("%-7s e2e latency at %.0f msgs/s (linger.ms=0): p50 %.2f ms, "
               "p99 %.2f ms, p99.9 %.2f ms (%ld msgs)\n",
               label, o->latency_rate, (double)lat[got / 2] / 1e6,
               (double)lat[(long)((double)got * 0.99)] / 1e6,
               (double)lat[(long)((double)got * 0.999)] / 1e6, got);
    }
    bad |= got != o->latency_count;
    free(lat);
    free(lo);
    free(before);
    free(after);
    return bad;
}

static int run_mock(const struct opts *o)
{
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (rk == NULL) {
        fprintf(stderr, "riffle-bench: mock handle: %s\n", err);
        return 1;
    }
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, 1);
    rd_kafka_mock_topic_create(mc, o->topic, o->partitions, 1);
    int rv = run("mock", rd_kafka_mock_cluster_bootstraps(mc), o);
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
    return rv;
}

/* ---- consumer-group mode ---- */

#define GROUP_SIZE 3
#define GROUP_SLOTS (GROUP_SIZE + 1)
#define GROUP_WAIT_S 120

enum member_stop { RUNNING = 0, STOP_CLOSE, STOP_ABANDON };

struct member {
    rd_kafka_t *rk;
    pthread_t th;
    int used;
    enum member_stop stop; /* written by main under group_mu */
    int assigned;          /* 0 after revoke / before the first assign */
    uint64_t mask;         /* partitions held (bit i = partition i) */
};

static pthread_mutex_t group_mu = PTHREAD_MUTEX_INITIALIZER;
static struct member members[GROUP_SLOTS];

static void group_rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                               rd_kafka_topic_partition_list_t *parts,
                               void *opaque)
{
    struct member *mb = opaque;
    uint64_t mask = 0;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        for (int i = 0; i < parts->cnt; i++)
            if (parts->elems[i].partition >= 0 &&
                parts->elems[i].partition < 64)
                mask |= 1ull << parts->elems[i].partition;
        rd_kafka_assign(rk, parts);
    } else {
        rd_kafka_assign(rk, NULL);
    }
    pthread_mutex_lock(&group_mu);
    mb->assigned = err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS;
    mb->mask = mask;
    pthread_mutex_unlock(&group_mu);
}

static void *member_main(void *arg)
{
    struct member *mb = arg;
    enum member_stop stop;
    for (;;) {
        pthread_mutex_lock(&group_mu);
        stop = mb->stop;
        pthread_mutex_unlock(&group_mu);
        if (stop != RUNNING)
            break;
        rd_kafka_message_t *m = rd_kafka_consumer_poll(mb->rk, 20);
        if (m)
            rd_kafka_message_destroy(m);
    }
    if (stop == STOP_CLOSE) {
        rd_kafka_consumer_close(mb->rk);
        rd_kafka_destroy(mb->rk);
    } else {
        /* No LeaveGroup, no final commit: the coordinator only learns of
         * it when the session times out. */
        rd_kafka_destroy_flags(mb->rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
    }
    return NULL;
}

static int member_start(const struct opts *o, const char *group, int slot)
{
    char err[512], st[16], hb[16];
    struct member *mb = &members[slot];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    snprintf(st, sizeof st, "%d", o->session_timeout_ms);
    snprintf(hb, sizeof hb, "%d", o->heartbeat_ms);
    if (rd_kafka_conf_set(conf, "bootstrap.servers", o->bootstrap, err,
                          sizeof err) ||
        rd_kafka_conf_set(conf, "group.id", group, err, sizeof err) ||
        rd_kafka_conf_set(conf, "session.timeout.ms", st, err, sizeof err) ||
        rd_kafka_conf_set(conf, "heartbeat.interval.ms", hb, err,
                          sizeof err) ||
        rd_kafka_conf_set(conf, "enable.auto.commit", "false", err,
                          sizeof err)) {
        fprintf(stderr, "riffle-bench: group member config: %s\n", err);
        rd_kafka_conf_destroy(conf);
        return -1;
    }
    rd_kafka_conf_set_rebalance_cb(conf, group_rebalance_cb);
    rd_kafka_conf_set_opaque(conf, mb);
    memset(mb, 0, sizeof *mb);
    mb->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (mb->rk == NULL) {
        fprintf(stderr, "riffle-bench: group member: %s\n", err);
        rd_kafka_conf_destroy(conf);
        return -1;
    }
    rd_kafka_poll_set_consumer(mb->rk);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, o->topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_subscribe(mb->rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    mb->used = 1;
    pthread_create(&mb->th, NULL, member_main, mb);
    return 0;
}

static void member_stop(int slot, enum member_stop how)
{
    pthread_mutex_lock(&group_mu);
    members[slot].stop = how;
    pthread_mutex_unlock(&group_mu);
    pthread_join(members[slot].th, NULL);
    members[slot].used = 0;
}

/* Forget every live member's assignment (call before an event), so that
 * "split" below means "split again after the event". */
static void group_forget(void)
{
    pthread_mutex_lock(&group_mu);
    for (int i = 0; i < GROUP_SLOTS; i++)
        members[i].assigned = 0;
    pthread_mutex_unlock(&group_mu);
}

/* Every live member assigned since group_forget, together holding each of
 * the partitions exactly once. */
static int group_split(int partitions)
{
    uint64_t all = 0;
    uint64_t want = partitions == 64 ? ~0ull : (1ull << partitions) - 1;
    int total = 0, ok = 1;
    pthread_mutex_lock(&group_mu);
    for (int i = 0; i < GROUP_SLOTS; i++) {
        if (!members[i].used)
            continue;
        if (!members[i].assigned)
            ok = 0;
        all |= members[i].mask;
        total += __builtin_popcountll(members[i].mask);
    }
    pthread_mutex_unlock(&group_mu);
    return ok && all == want && total == partitions;
}

/* Seconds from t0 until the group is split again; -1 after GROUP_WAIT_S. */
static double group_wait(int partitions, uint64_t t0)
{
    uint64_t deadline = t0 + (uint64_t)GROUP_WAIT_S * 1000000000u;
    while (now_ns() < deadline) {
        if (group_split(partitions))
            return (double)(now_ns() - t0) / 1e9;
        usleep(2000);
    }
    return -1;
}

static int free_slot(void)
{
    for (int i = 0; i < GROUP_SLOTS; i++)
        if (!members[i].used)
            return i;
    return -1;
}

static int oldest_slot(const int *started, int n)
{
    for (int k = 0; k < n; k++)
        if (members[started[k]].used)
            return started[k];
    return -1;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void group_report(const char *what, double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    double med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    printf("riffle  group rebalance, %s: median %.2f s (min %.2f, max %.2f, "
           "n=%d)\n", what, med, v[0], v[n - 1], n);
}

/* One timed event: stop slot `victim` (how) or start a member (victim -1). */
static double group_event(const struct opts *o, const char *group,
                          int victim, enum member_stop how, int *started,
                          int *nstarted)
{
    group_forget();
    uint64_t t0 = now_ns();
    if (victim >= 0) {
        member_stop(victim, how);
    } else {
        int slot = free_slot();
        if (slot < 0 || member_start(o, group, slot) != 0)
            return -1;
        started[(*nstarted)++] = slot;
    }
    return group_wait(o->partitions, t0);
}

static int run_group(const struct opts *o)
{
    char group[64];
    int n = o->group_rounds, nstarted = 0, bad = 0;
    int *started = calloc((size_t)(GROUP_SIZE + 2 * n + 1), sizeof *started);
    double *kill = calloc((size_t)n, sizeof *kill);
    double *leave = calloc((size_t)n, sizeof *leave);
    double *join = calloc((size_t)(2 * n), sizeof *join);
    snprintf(group, sizeof group, "riffle-bench-%ld-%ld", (long)getpid(),
             (long)time(NULL));
    for (int i = 0; i < GROUP_SIZE && !bad; i++) {
        bad = member_start(o, group, i) != 0;
        if (!bad)
            started[nstarted++] = i;
    }
    if (bad) {
        n = 0;
    } else if (group_wait(o->partitions, now_ns()) < 0) {
        fprintf(stderr, "riffle-bench: the group of %d never split %d "
                        "partitions\n", GROUP_SIZE, o->partitions);
        bad = 1;
        n = 0;
    }
    for (int r = 0; r < n && !bad; r++) {
        kill[r] = group_event(o, group, oldest_slot(started, nstarted),
                              STOP_ABANDON, started, &nstarted);
        join[2 * r] = group_event(o, group, -1, RUNNING, started, &nstarted);
        leave[r] = group_event(o, group, oldest_slot(started, nstarted),
                               STOP_CLOSE, started, &nstarted);
        join[2 * r + 1] =
            group_event(o, group, -1, RUNNING, started, &nstarted);
        bad = kill[r] < 0 || join[2 * r] < 0 || leave[r] < 0 ||
              join[2 * r + 1] < 0;
        printf("round %d: kill %.2f s, join %.2f s, leave %.2f s, join "
               "%.2f s\n", r + 1, kill[r], join[2 * r], leave[r],
               join[2 * r + 1]);
        if (bad)
            fprintf(stderr, "riffle-bench: a rebalance did not complete "
                            "within %d s (-1 above)\n", GROUP_WAIT_S);
    }
    if (!bad && n > 0) {
        printf("riffle  group of %d over %d partitions, session.timeout.ms=%d "
               "heartbeat.interval.ms=%d:\n", GROUP_SIZE, o->partitions,
               o->session_timeout_ms, o->heartbeat_ms);
        group_report("member killed (no LeaveGroup)", kill, n);
        group_report("member left (LeaveGroup)", leave, n);
        group_report("member joined a group of 2", join, 2 * n);
    }
    for (int i = 0; i < GROUP_SLOTS; i++)
        if (members[i].used)
            member_stop(i, STOP_CLOSE);
    free(started);
    free(kill);
    free(leave);
    free(join);
    return bad;
}

int main(int argc, char **argv)
{
    struct opts o = {"127.0.0.1:9092", "riffle-bench", "1", 100, 1000000, 0,
                     5000, 20000, 1, 5, 1, 0, 0, 6000, 500};
    static const struct option lopts[] = {
        {"bootstrap", required_argument, 0, 'b'},
        {"topic", required_argument, 0, 't'},
        {"acks", required_argument, 0, 'a'},
        {"size", required_argument, 0, 's'},
        {"count", required_argument, 0, 'n'},
        {"rate", required_argument, 0, 'r'},
        {"latency-rate", required_argument, 0, 'L'},
        {"latency-count", required_argument, 0, 'N'},
        {"partitions", required_argument, 0, 'p'},
        {"linger-ms", required_argument, 0, 'l'},
        {"no-mock", no_argument, 0, 'M'},
        {"mock-only", no_argument, 0, 'O'},
        {"group-rounds", required_argument, 0, 'G'},
        {"session-timeout-ms", required_argument, 0, 'S'},
        {"heartbeat-ms", required_argument, 0, 'H'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    int ch;
    while ((ch = getopt_long(argc, argv, "b:t:a:s:n:r:L:N:p:l:MOG:S:H:h", lopts,
                             NULL)) != -1) {
        switch (ch) {
        case 'b': o.bootstrap = optarg; break;
        case 't': o.topic = optarg; break;
        case 'a': o.acks = optarg; break;
        case 's': o.size = atoi(optarg); break;
        case 'n': o.count = atol(optarg); break;
        case 'r': o.rate = atof(optarg); break;
        case 'L': o.latency_rate = atof(optarg); break;
        case 'N': o.latency_count = atol(optarg); break;
        case 'p': o.partitions = atoi(optarg); break;
        case 'l': o.linger_ms = atoi(optarg); break;
        case 'M': o.mock = 0; break;
        case 'O': o.mock_only = 1; break;
        case 'G': o.group_rounds = atoi(optarg); break;
        case 'S': o.session_timeout_ms = atoi(optarg); break;
        case 'H': o.heartbeat_ms = atoi(optarg); break;
        default:
            fprintf(ch == 'h' ? stdout : stderr,
                    "usage: riffle-bench [--bootstrap B] [--topic T] "
                    "[--acks 0|1|all] [--size BYTES] [--count N] [--rate R]\n"
                    "       [--latency-rate R] [--latency-count N] "
                    "[--partitions P] [--linger-ms MS] "
                    "[--no-mock|--mock-only]\n"
                    "       riffle-bench --group-rounds N [--bootstrap B] "
                    "[--topic T] [--partitions P]\n"
                    "       [--session-timeout-ms MS] [--heartbeat-ms MS]\n");
            return ch == 'h' ? 0 : 2;
        }
    }
    if (o.size < 8 || o.count < 1 || o.partitions < 1 || o.latency_count < 1) {
        fprintf(stderr, "riffle-bench: --size >= 8, counts and partitions >= 1\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (o.group_rounds != 0) {
        if (o.group_rounds < 1 || o.partitions < 3 || o.partitions > 64 ||
            o.session_timeout_ms < 1 || o.heartbeat_ms < 1) {
            fprintf(stderr, "riffle-bench: --group-rounds >= 1 needs "
                            "--partitions 3..64 and positive timeouts\n");
            return 2;
        }
        return run_group(&o);
    }
    int bad = 0;
    if (!o.mock_only)
        bad |= run("riffle", o.bootstrap, &o);
    if (o.mock || o.mock_only)
        bad |= run_mock(&o);
    return bad ? 1 : 0;
}
