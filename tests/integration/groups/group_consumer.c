/* group_consumer.c: one consumer-group member in C (librdkafka), for
 * test_groups.py, speaking the same line protocol as group_consumer.py:
 * "ASSIGN p,p,..." after every assignment, "MSG part offset key" per record
 * (its offset committed synchronously before the next poll), "COMMITFAIL key
 * error" when that commit fails, "CLOSED" after a clean exit on SIGTERM
 * (commit, LeaveGroup).
 *
 * Usage: group_consumer BOOTSTRAP GROUP TOPIC [ASSIGNOR] */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
    (void)sig;
    stop = 1;
}

static void print_assignment(const rd_kafka_topic_partition_list_t *parts)
{
    printf("ASSIGN ");
    for (int i = 0; i < parts->cnt; i++)
        printf("%s%" PRId32, i ? "," : "", parts->elems[i].partition);
    printf("\n");
    fflush(stdout);
}

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    (void)opaque;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        rd_kafka_assign(rk, parts);
        print_assignment(parts);
    } else {
        rd_kafka_assign(rk, NULL);
    }
}

static int set(rd_kafka_conf_t *conf, const char *k, const char *v)
{
    char err[256];
    if (rd_kafka_conf_set(conf, k, v, err, sizeof err) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "group_consumer: %s\n", err);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    char err[256];
    if (argc < 4 || argc > 5) {
        fprintf(stderr,
                "usage: group_consumer BOOTSTRAP GROUP TOPIC [ASSIGNOR]\n");
        return 2;
    }
    signal(SIGTERM, on_term);
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (set(conf, "bootstrap.servers", argv[1]) ||
        set(conf, "group.id", argv[2]) ||
        set(conf, "enable.auto.commit", "false") ||
        set(conf, "auto.offset.reset", "earliest") ||
        set(conf, "session.timeout.ms", "6000") ||
        set(conf, "heartbeat.interval.ms", "500") ||
        (argc == 5 && set(conf, "partition.assignment.strategy", argv[4]))) {
        rd_kafka_conf_destroy(conf);
        return 2;
    }
    rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (rk == NULL) {
        fprintf(stderr, "group_consumer: %s\n", err);
        return 1;
    }
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_topic_partition_list_t *topics =
        rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(topics, argv[3], RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t e = rd_kafka_subscribe(rk, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        fprintf(stderr, "group_consumer: subscribe: %s\n",
                rd_kafka_err2str(e));
        rd_kafka_destroy(rk);
        return 1;
    }
    while (!stop) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);
        if (m == NULL)
            continue;
        if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            rd_kafka_message_destroy(m);
            continue;
        }
        printf("MSG %" PRId32 " %" PRId64 " %.*s\n", m->partition, m->offset,
               (int)m->key_len, (const char *)m->key);
        fflush(stdout);
        e = rd_kafka_commit_message(rk, m, 0 /* synchronous */);
        if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
            printf("COMMITFAIL %.*s %s\n", (int)m->key_len,
                   (const char *)m->key, rd_kafka_err2name(e));
            fflush(stdout);
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    printf("CLOSED\n");
    fflush(stdout);
    return 0;
}
