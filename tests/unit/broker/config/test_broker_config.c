/* test_broker_config.c: riffle-broker's configuration table and checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "err.h"

#define BASE                                                                 \
    "node.id=1\nprocess.roles=broker\n"                                      \
    "controller.quorum.bootstrap.servers=127.0.0.1:9001,127.0.0.1:9002\n"    \
    "log.dirs=/tmp/x\n"

static const struct {
    const char *text;
    int ok;
    const char *errsub;
} cases[] = {
    {BASE "listeners=PLAINTEXT://127.0.0.1:9092\n", 1, NULL},
    {BASE "listeners=PLAINTEXT://0.0.0.0:9092,REPLICATION://0.0.0.0:9093\n"
          "advertised.listeners=PLAINTEXT://10.0.0.1:9092,"
          "REPLICATION://10.0.0.1:9093\n",
     1, NULL},
    {BASE "listeners=REPLICATION://127.0.0.1:9093\n", 0,
     "a PLAINTEXT://host:port listener is required"},
    {BASE "listeners=SSL://127.0.0.1:9093\n", 0,
     "listener names are PLAINTEXT and REPLICATION"},
    {BASE "listeners=PLAINTEXT://127.0.0.1:9092\nprocess.roles=controller\n",
     0, "t:6: process.roles: must be \"broker\""},
    {BASE "listeners=PLAINTEXT://127.0.0.1:9092\nmin.insync.replicas=0\n", 0,
     "out of range"},
    {BASE "listeners=PLAINTEXT://127.0.0.1:9092\nlog.dirs=/a,/b\n", 0,
     "log.dirs must name exactly one directory"},
    {BASE "listeners=PLAINTEXT://127.0.0.1:9092\n"
          "broker.heartbeat.interval.ms=6000\n",
     0, "at most half of broker.session.timeout.ms"},
    {BASE "listeners=PLAINTEXT://127.0.0.1:9092,REPLICATION://127.0.0.1:1\n"
          "advertised.listeners=PLAINTEXT://127.0.0.1:9092\n",
     0, "must name the same listeners"},
    {"node.id=1\nprocess.roles=broker\nlisteners=PLAINTEXT://127.0.0.1:1\n"
     "log.dirs=/x\ncontroller.quorum.bootstrap.servers=nohostport\n",
     0, "controller.quorum.bootstrap.servers: expected host:port"},
    {BASE "listeners=PLAINTEXT://127.0.0.1:9092\nlog.segment.bytes=10\n", 0,
     "log.segment.bytes: 10 is out of range"},
    {BASE "listeners=PLAINTEXT://127.0.0.1:9092\nsome.unknown=1\n", 0,
     "unknown key 'some.unknown'"},
};

static void test_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct rf_broker_conf c;
        char errmsg[RF_ERRMSG_SIZE] = "";
        int rv = rf_broker_conf_load(&c, "t", cases[i].text, errmsg);
        if ((rv == 0) != cases[i].ok ||
            (cases[i].errsub && strstr(errmsg, cases[i].errsub) == NULL))
            fail_msg("case %zu: rv=%d errmsg='%s'", i, rv, errmsg);
        rf_broker_conf_free(&c);
    }
}

static void test_derived(void **state)
{
    struct rf_broker_conf c;
    char errmsg[RF_ERRMSG_SIZE];
    (void)state;
    assert_int_equal(
        rf_broker_conf_load(&c, "t",
                            BASE "listeners=PLAINTEXT://0.0.0.0:9092,"
                                 "REPLICATION://0.0.0.0:9093\n"
                                 "advertised.listeners=PLAINTEXT://h1:9092,"
                                 "REPLICATION://h1:9093\n",
                            errmsg),
        0);
    assert_int_equal(c.n_controllers, 2);
    assert_int_equal(c.controllers[1].port, 9002);
    assert_string_equal(c.kafka.host, "0.0.0.0");
    assert_string_equal(c.kafka_adv.host, "h1");
    assert_int_equal(c.repl_adv.port, 9093);
    assert_true(c.auto_create_topics);
    assert_int_equal(c.offsets_partitions, 50);
    rf_broker_conf_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_derived),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
