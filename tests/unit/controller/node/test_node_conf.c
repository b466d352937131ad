/* test_node_conf.c: riffle-controller configuration validation table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "node_conf.h"
#include "err.h"

#define BASE                                                                  \
    "node.id=2\n"                                                             \
    "process.roles=controller\n"                                              \
    "controller.quorum.voters=1@127.0.0.1:9001,2@127.0.0.1:9002,3@127.0.0.1:" \
    "9003\n"                                                                  \
    "listeners=CONTROLLER://127.0.0.1:9102\n"                                 \
    "metadata.log.dir=/tmp/x\n"

struct conf_case {
    const char *text;
    int ok;
    const char *expect; /* substring of errmsg when !ok */
};

static const struct conf_case cases[] = {
    {BASE, 1, NULL},
    {BASE "controller.quorum.election.timeout.ms=500\n"
          "controller.quorum.heartbeat.timeout.ms=100\n",
     1, NULL},
    {BASE "bogus.key=1\n", 0, "t.properties:6: unknown key 'bogus.key'"},
    {BASE "num.partitions=abc\n", 0, "t.properties:6: num.partitions"},
    {BASE "num.partitions=0\n", 0, "out of range"},
    {BASE "unclean.leader.election.enable=maybe\n", 0, "true or false"},
    {BASE "log.level=loud\n", 0, "log.level"},
    {BASE "controller.quorum.heartbeat.timeout.ms=300\n", 0,
     "must be <= controller.quorum.election.timeout.ms / 5"},
    {"node.id=4\nprocess.roles=controller\n"
     "controller.quorum.voters=1@127.0.0.1:9001\n"
     "listeners=127.0.0.1:9101\nmetadata.log.dir=/tmp/x\n",
     0, "node.id 4 is not in controller.quorum.voters"},
    {"node.id=1\nprocess.roles=broker\n"
     "controller.quorum.voters=1@127.0.0.1:9001\n"
     "listeners=127.0.0.1:9101\nmetadata.log.dir=/tmp/x\n",
     0, "t.properties:2: process.roles"},
    {"node.id=1\nprocess.roles=controller\n"
     "controller.quorum.voters=1@localhost:9001\n"
     "listeners=127.0.0.1:9101\nmetadata.log.dir=/tmp/x\n",
     0, "t.properties:3: controller.quorum.voters"},
    {"node.id=1\nprocess.roles=controller\n"
     "controller.quorum.voters=1@127.0.0.1:9001,1@127.0.0.1:9002\n"
     "listeners=127.0.0.1:9101\nmetadata.log.dir=/tmp/x\n",
     0, "controller.quorum.voters"},
    {"node.id=1\nprocess.roles=controller\n"
     "controller.quorum.voters=1@127.0.0.1:9001\n"
     "listeners=nope\nmetadata.log.dir=/tmp/x\n",
     0, "t.properties:4: listeners"},
    {"node.id=1\nprocess.roles=controller\n"
     "controller.quorum.voters=1@127.0.0.1:9001\n"
     "listeners=127.0.0.1:9101\n",
     0, "metadata.log.dir"},
};

static void test_conf_table(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct rf_node_conf conf;
        char errmsg[RF_ERRMSG_SIZE] = "";
        int rv =
            rf_node_conf_load(&conf, "t.properties", cases[i].text, errmsg);
        if (cases[i].ok) {
            if (rv != 0) {
                fail_msg("case %zu: unexpected error: %s", i, errmsg);
            }
        } else {
            if (rv == 0) {
                fail_msg("case %zu: accepted", i);
            }
            if (strstr(errmsg, cases[i].expect) == NULL) {
                fail_msg("case %zu: errmsg '%s' lacks '%s'", i, errmsg,
                         cases[i].expect);
            }
            assert_null(strchr(errmsg, '\n'));
        }
        rf_node_conf_free(&conf);
    }
}

static void test_conf_derived(void **state)
{
    struct rf_node_conf conf;
    char errmsg[RF_ERRMSG_SIZE] = "";

    (void)state;
    assert_int_equal(rf_node_conf_load(&conf, "t", BASE, errmsg), 0);
    assert_int_equal(conf.n_voters, 3);
    assert_non_null(conf.self);
    assert_int_equal(conf.self->id, 2);
    assert_string_equal(conf.raft_address, "127.0.0.1:9002");
    assert_string_equal(conf.rpc.host, "127.0.0.1");
    assert_int_equal(conf.rpc.port, 9102);
    assert_int_equal(conf.election_timeout_ms, 1000);
    assert_int_equal(conf.heartbeat_timeout_ms, 100);
    assert_int_equal(conf.session_timeout_ms, 9000);
    assert_int_equal(conf.snapshot_threshold, 16384);
    assert_true(conf.auto_leader_rebalance);
    assert_false(conf.unclean_leader_election);
    rf_node_conf_free(&conf);
}

static void test_dir_prepare(void **state)
{
    char tmpl[] = "/tmp/rf-node-test-XXXXXX";
    char dir[512], raft_dir[4096], errmsg[RF_ERRMSG_SIZE];
    int fd1 = -1, fd2 = -1;

    (void)state;
    assert_non_null(mkdtemp(tmpl));
    snprintf(dir, sizeof(dir), "%s/data", tmpl);
    /* created when the parent exists */
    assert_int_equal(rf_node_dir_prepare(dir, &fd1, raft_dir, errmsg), 0);
    assert_true(fd1 >= 0);
    /* a second holder is refused with ELOCKED */
    assert_int_equal(rf_node_dir_prepare(dir, &fd2, raft_dir, errmsg),
                     RF_ELOCKED);
    assert_non_null(strstr(errmsg, "locked by another controller"));
    close(fd1);
    assert_int_equal(rf_node_dir_prepare(dir, &fd2, raft_dir, errmsg), 0);
    close(fd2);
    /* missing parent */
    snprintf(dir, sizeof(dir), "%s/no/such", tmpl);
    assert_int_not_equal(rf_node_dir_prepare(dir, &fd1, raft_dir, errmsg), 0);
    assert_non_null(strstr(errmsg, "cannot create"));
    snprintf(dir, sizeof(dir), "rm -rf '%s'", tmpl);
    assert_int_equal(system(dir), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conf_table),
        cmocka_unit_test(test_conf_derived),
        cmocka_unit_test(test_dir_prepare),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
