/* test_cli_args.c: riffle argument parsing, table-driven: every command,
 * flag forms, defaults, the environment fallback and each usage error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cli.h"
#include "err.h"

#define C "--controllers 127.0.0.1:9000 "

struct parse_case {
    const char *line; /* arguments, split on spaces */
    const char *env;  /* RIFFLE_CONTROLLERS */
    int rv;
    enum rf_cli_cmd cmd;
    const char *topic;
    int32_t partitions, rf;
    bool json;
    uint32_t timeout;
    int nconfigs;
    const char *err; /* substring of errmsg when rv != 0 */
};

#define OK(line, cmd, topic, p, r, json, tmo, ncfg)                            \
    {                                                                          \
        line, NULL, 0, cmd, topic, p, r, json, tmo, ncfg, NULL                 \
    }
#define BAD(line, err)                                                         \
    {                                                                          \
        line, NULL, RF_EINVAL, 0, NULL, -1, -1, 0, 0, 0, err                   \
    }

static const struct parse_case CASES[] = {
    OK(C "cluster status",
       RF_CLI_CLUSTER_STATUS,
       NULL,
       -1,
       -1,
       false,
       15000,
       0),
    OK("cluster status " C "--json",
       RF_CLI_CLUSTER_STATUS,
       NULL,
       -1,
       -1,
       true,
       15000,
       0),
    OK("--controllers=127.0.0.1:9000,127.0.0.1:9001 broker list",
       RF_CLI_BROKER_LIST,
       NULL,
       -1,
       -1,
       false,
       15000,
       0),
    OK(C "--timeout 2500 topic list",
       RF_CLI_TOPIC_LIST,
       NULL,
       -1,
       -1,
       false,
       2500,
       0),
    OK(C "--timeout=1 topic list",
       RF_CLI_TOPIC_LIST,
       NULL,
       -1,
       -1,
       false,
       1,
       0),
    OK(C "topic create orders --partitions 3 --replication-factor 2",
       RF_CLI_TOPIC_CREATE,
       "orders",
       3,
       2,
       false,
       15000,
       0),
    OK(C "topic create orders",
       RF_CLI_TOPIC_CREATE,
       "orders",
       -1,
       -1,
       false,
       15000,
       0),
    OK(C "topic create t --partitions=1 --config a=b --config c= --json",
       RF_CLI_TOPIC_CREATE,
       "t",
       1,
       -1,
       true,
       15000,
       2),
    OK(C "topic describe orders",
       RF_CLI_TOPIC_DESCRIBE,
       "orders",
       -1,
       -1,
       false,
       15000,
       0),
    OK(C "topic describe",
       RF_CLI_TOPIC_DESCRIBE,
       NULL,
       -1,
       -1,
       false,
       15000,
       0),
    OK(C "topic delete orders",
       RF_CLI_TOPIC_DELETE,
       "orders",
       -1,
       -1,
       false,
       15000,
       0),
    BAD(C "", "missing command"),
    BAD(C "frobnicate", "unknown command 'frobnicate'"),
    BAD(C "topic", "missing subcommand for 'topic'"),
    BAD(C "topic frob", "unknown command 'topic frob'"),
    BAD(C "cluster status extra", "unexpected argument 'extra'"),
    BAD(C "topic create", "needs a topic name"),
    BAD(C "topic delete", "needs a topic name"),
    BAD(C "topic create a b", "unexpected argument 'b'"),
    BAD(C "topic list --bogus", "unknown flag '--bogus'"),
    BAD(C "topic list -x", "unknown flag '-x'"),
    BAD(C "topic list --timeout", "--timeout needs a value"),
    BAD(C "topic list --timeout 0", "--timeout: '0' is not an integer"),
    BAD(C "topic list --timeout 12ms", "--timeout: '12ms'"),
    BAD(C "topic list --timeout 99999999999999999999", "--timeout"),
    BAD(C "topic create t --partitions 0", "--partitions: '0'"),
    BAD(C "topic create t --partitions -3", "--partitions: '-3'"),
    BAD(C "topic create t --replication-factor 40000",
        "--replication-factor: '40000'"),
    BAD(C "topic create t --config novalue", "expected KEY=VALUE"),
    BAD(C "topic create t --config =v", "expected KEY=VALUE"),
    BAD(C "topic list --partitions 3", "apply to 'topic create' only"),
    BAD("topic list", "no controllers"),
    BAD("--controllers nocolon topic list", "bad controller list"),
    BAD("--controllers 127.0.0.1:0 topic list", "bad controller list"),
    BAD(C "a b c d e f g h i", "too many arguments"),
    BAD(C "partition reassign t", "needs TOPIC and PARTITION"),
    BAD(C "partition reassign t 0", "needs --replicas"),
    BAD(C "partition reassign t x --replicas 1", "PARTITION: 'x'"),
    BAD(C "partition reassign t -1 --replicas 1", "unknown flag '-1'"),
    BAD(C "partition reassign t 0 --replicas 1,,2", "expected ID,ID"),
    BAD(C "partition reassign t 0 --replicas 1,2,1", "broker 1 named twice"),
    BAD(C "partition reassign t 0 --replicas 1,-2", "'-2' is not an integer"),
    BAD(C "partition reassign t 0 --replicas 1, ", "expected ID,ID"),
    BAD(C "partition reassign t 0 1 --replicas 1", "unexpected argument '1'"),
    BAD(C "partition reassign t 0 --to 1", "--to applies to 'broker drain'"),
    BAD(C "topic list --replicas 1", "--replicas applies to 'partition"),
    BAD(C "broker drain", "needs a broker id"),
    BAD(C "broker drain b1", "broker id: 'b1'"),
    BAD(C "broker drain 1 --to 2,x", "--to: 'x'"),
    BAD(C "broker drain 1 --replicas 2", "--replicas applies"),
};

/* Split line into argv (argv[0] = "riffle"); returns argc. */
static int split(char *line, char **argv, int max)
{
    int argc = 0;
    char *tok, *save = NULL;

    argv[argc++] = "riffle";
    for (tok = strtok_r(line, " ", &save); tok && argc < max;
         tok = strtok_r(NULL, " ", &save))
        argv[argc++] = tok;
    return argc;
}

static void run_case(const struct parse_case *c)
{
    static struct rf_cli_args args;
    char line[512], errmsg[RF_ERRMSG_SIZE] = "";
    char *argv[32];
    int argc, rv;

    snprintf(line, sizeof(line), "%s", c->line);
    argc = split(line, argv, 32);
    rv = rf_cli_parse(argc, argv, c->env, &args, errmsg);
    if (rv != c->rv)
        fail_msg("'%s': rv %d, want %d (%s)", c->line, rv, c->rv, errmsg);
    if (rv != 0) {
        if (strstr(errmsg, c->err) == NULL)
            fail_msg("'%s': errmsg '%s' lacks '%s'", c->line, errmsg, c->err);
        assert_false(args.help);
        return;
    }
    assert_int_equal(args.cmd, c->cmd);
    if (c->topic)
        assert_string_equal(args.topic, c->topic);
    else
        assert_null(args.topic);
    assert_int_equal(args.partitions, c->partitions);
    assert_int_equal(args.replication_factor, c->rf);
    assert_int_equal(args.json, c->json);
    assert_int_equal(args.timeout_ms, c->timeout);
    assert_int_equal(args.nconfigs, c->nconfigs);
    assert_non_null(args.controllers);
}

static void test_parse_table(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(CASES) / sizeof(CASES[0]); i++)
        run_case(&CASES[i]);
}

static void test_configs_split(void **state)
{
    static struct rf_cli_args args;
    char errmsg[RF_ERRMSG_SIZE];
    char *argv[] = {"riffle",   "topic",
                    "create",   "t",
                    "--config", "retention.ms=1000",
                    "--config", "cleanup.policy=a=b"};

    (void)state;
    assert_int_equal(rf_cli_parse(8, argv, "127.0.0.1:1", &args, errmsg), 0);
    assert_int_equal(args.nconfigs, 2);
    assert_string_equal(args.config_keys[0], "retention.ms");
    assert_string_equal(args.config_vals[0], "1000");
    assert_string_equal(args.config_keys[1], "cleanup.policy");
    assert_string_equal(args.config_vals[1], "a=b");
}

static void test_env_and_flag_precedence(void **state)
{
    static struct rf_cli_args args;
    char errmsg[RF_ERRMSG_SIZE];
    char *argv1[] = {"riffle", "topic", "list"};
    char *argv2[] = {"riffle", "--controllers", "127.0.0.1:2", "topic", "list"};

    (void)state;
    assert_int_equal(rf_cli_parse(3, argv1, "127.0.0.1:1", &args, errmsg), 0);
    assert_string_equal(args.controllers, "127.0.0.1:1");
    assert_int_equal(rf_cli_parse(5, argv2, "127.0.0.1:1", &args, errmsg), 0);
    assert_string_equal(args.controllers, "127.0.0.1:2");
    assert_int_equal(rf_cli_parse(3, argv1, "", &args, errmsg), RF_EINVAL);
}

/* --help works without controllers and picks the command's text. */
static void test_help(void **state)
{
    static const struct {
        const char *line, *help_for, *needle;
    } H[] = {
        {"--help", NULL, "Usage: riffle [global flags]"},
        {"topic --help", "topic", "create NAME"},
        {"topic create --help", "topic create", "--replication-factor R"},
        {"-h cluster status", "cluster status", "unreachable"},
        {"broker list --help", "broker list", "heartbeat"},
        {"topic create --partitions bad --help", "topic create", "--config"},
    };
    static struct rf_cli_args args;
    char line[256], errmsg[RF_ERRMSG_SIZE];
    char *argv[16];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(H) / sizeof(H[0]); i++) {
        snprintf(line, sizeof(line), "%s", H[i].line);
        rf_cli_parse(split(line, argv, 16), argv, NULL, &args, errmsg);
        assert_true(args.help);
        if (H[i].help_for)
            assert_string_equal(args.help_for, H[i].help_for);
        else
            assert_null(args.help_for);
        if (strstr(rf_cli_usage(args.help_for ? args.help_for : ""),
                   H[i].needle) == NULL)
            fail_msg("help for '%s' lacks '%s'", H[i].line, H[i].needle);
    }
    /* An unknown command is an error even with --help. */
    snprintf(line, sizeof(line), "frob --help");
    assert_int_equal(
        rf_cli_parse(split(line, argv, 16), argv, NULL, &args, errmsg),
        RF_EINVAL);
    assert_string_equal(rf_cli_usage("nonsense"), rf_cli_usage(""));
}

static void test_reassign_and_drain_args(void **state)
{
    static struct rf_cli_args args;
    char errmsg[RF_ERRMSG_SIZE], line[512];
    char *argv[16];
    char big[400];
    int argc, off = 0;

    (void)state;
    snprintf(line, sizeof(line),
             C "partition reassign orders 7 --replicas=4,2,3 --json");
    argc = split(line, argv, 16);
    assert_int_equal(rf_cli_parse(argc, argv, NULL, &args, errmsg), 0);
    assert_int_equal(args.cmd, RF_CLI_PARTITION_REASSIGN);
    assert_string_equal(args.topic, "orders");
    assert_int_equal(args.partition, 7);
    assert_int_equal(args.n_replicas, 3);
    assert_int_equal(args.replicas[0], 4);
    assert_int_equal(args.replicas[2], 3);
    assert_true(args.json);

    snprintf(line, sizeof(line), C "broker drain 3 --to 5,6");
    argc = split(line, argv, 16);
    assert_int_equal(rf_cli_parse(argc, argv, NULL, &args, errmsg), 0);
    assert_int_equal(args.cmd, RF_CLI_BROKER_DRAIN);
    assert_int_equal(args.broker_id, 3);
    assert_int_equal(args.n_to, 2);
    assert_int_equal(args.to[1], 6);

    snprintf(line, sizeof(line), C "broker drain 3");
    argc = split(line, argv, 16);
    assert_int_equal(rf_cli_parse(argc, argv, NULL, &args, errmsg), 0);
    assert_int_equal(args.n_to, 0);

    /* 65 brokers: over the bound */
    for (int i = 0; i <= RF_CLI_MAX_REPLICAS; i++)
        off += snprintf(big + off, sizeof(big) - (size_t)off, "%s%d",
                        i ? "," : "", i);
    snprintf(line, sizeof(line), C "partition reassign t 0 --replicas %s",
             big);
    argc = split(line, argv, 16);
    assert_int_equal(rf_cli_parse(argc, argv, NULL, &args, errmsg),
                     RF_EINVAL);
    assert_non_null(strstr(errmsg, "more than 64 brokers"));
    snprintf(line, sizeof(line), "partition reassign --help");
    rf_cli_parse(split(line, argv, 16), argv, NULL, &args, errmsg);
    assert_true(args.help);
    assert_non_null(strstr(rf_cli_usage(args.help_for), "TARGET"));
    snprintf(line, sizeof(line), "broker drain --help");
    rf_cli_parse(split(line, argv, 16), argv, NULL, &args, errmsg);
    assert_non_null(strstr(rf_cli_usage(args.help_for), "least-loaded"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_table),
        cmocka_unit_test(test_configs_split),
        cmocka_unit_test(test_env_and_flag_precedence),
        cmocka_unit_test(test_help),
        cmocka_unit_test(test_reassign_and_drain_args),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
