/* capture.c: produces small batches with librdkafka against its in-process
 * mock cluster; run under strace by capture.sh to record the real
 * Produce request bytes (test data only, not part of the build). */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void set(rd_kafka_conf_t *conf, const char *k, const char *v)
{
    char err[256];
    if (rd_kafka_conf_set(conf, k, v, err, sizeof(err)) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "%s: %s\n", k, err);
        exit(1);
    }
}

int main(int argc, char **argv)
{
    const char *codec = argc > 1 ? argv[1] : "none";
    int nmsgs = argc > 2 ? atoi(argv[2]) : 5;
    const char *idem = argc > 3 ? argv[3] : "false";
    char err[256];
    rd_kafka_conf_t *mconf = rd_kafka_conf_new();
    rd_kafka_t *mrk = rd_kafka_new(RD_KAFKA_PRODUCER, mconf, err, sizeof(err));
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(mrk, 1);
    rd_kafka_mock_topic_create(mc, "cap", 1, 1);

    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    set(conf, "bootstrap.servers", rd_kafka_mock_cluster_bootstraps(mc));
    set(conf, "compression.codec", codec);
    set(conf, "linger.ms", "200");
    set(conf, "enable.idempotence", idem);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    for (int i = 0; i < nmsgs; i++) {
        char key[32], val[128];
        snprintf(key, sizeof(key), "key-%d", i);
        snprintf(val, sizeof(val), "value %d: the quick brown fox jumps over "
                 "the lazy dog %d", i, i * 7);
        rd_kafka_producev(rk, RD_KAFKA_V_TOPIC("cap"), RD_KAFKA_V_PARTITION(0),
                          RD_KAFKA_V_KEY(key, strlen(key)),
                          RD_KAFKA_V_VALUE(val, strlen(val)),
                          RD_KAFKA_V_HEADER("h", "hv", 2),
                          RD_KAFKA_V_TIMESTAMP(1700000000000LL + i),
                          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                          RD_KAFKA_V_END);
    }
    rd_kafka_flush(rk, 10000);
    rd_kafka_destroy(rk);
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(mrk);
    return 0;
}
