/* cli_args.c: riffle's command line: global flags, commands, per-command
 * flags and the --help texts. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ctlclient.h"
#include "err.h"
#include "net.h"

#define MAX_POS 8

struct cmd_def {
    const char *group;
    const char *verb;
    const char *full; /* "topic create": the --help key */
    enum rf_cli_cmd cmd;
    int min_names, max_names;
};

static const struct cmd_def CMDS[] = {
    {"cluster", "status", "cluster status", RF_CLI_CLUSTER_STATUS, 0, 0},
    {"broker", "list", "broker list", RF_CLI_BROKER_LIST, 0, 0},
    {"topic", "create", "topic create", RF_CLI_TOPIC_CREATE, 1, 1},
    {"topic", "list", "topic list", RF_CLI_TOPIC_LIST, 0, 0},
    {"topic", "describe", "topic describe", RF_CLI_TOPIC_DESCRIBE, 0, 1},
    {"topic", "delete", "topic delete", RF_CLI_TOPIC_DELETE, 1, 1},
    {"group", "list", "group list", RF_CLI_GROUP_LIST, 0, 0},
    {"group", "describe", "group describe", RF_CLI_GROUP_DESCRIBE, 1, 1},
    {"partition", "reassign", "partition reassign", RF_CLI_PARTITION_REASSIGN,
     2, 2},
    {"broker", "drain", "broker drain", RF_CLI_BROKER_DRAIN, 1, 1},
};
#define NCMDS (sizeof(CMDS) / sizeof(CMDS[0]))

#define GLOBAL_FLAGS                                                           \
    "Global flags:\n"                                                          \
    "  --controllers HOST:PORT[,HOST:PORT...]  controller RPC endpoints\n"     \
    "                          (default: $RIFFLE_CONTROLLERS)\n"               \
    "  --json                  one JSON document on stdout\n"                  \
    "  --timeout MS            overall deadline, retries included "            \
    "(default 15000)\n"                                                        \
    "  --verbose               log RPC activity to stderr\n"                   \
    "  --help                  this help\n"

/* Groups live on the brokers: these commands speak Kafka, not to the
 * controllers. */
#define GROUP_FLAGS                                                            \
    "Flags:\n"                                                                 \
    "  --bootstrap-server HOST:PORT[,HOST:PORT...]  Kafka listeners of "       \
    "brokers\n"                                                                \
    "  --json                  one JSON document on stdout\n"                  \
    "  --timeout MS            overall deadline (default 15000)\n"             \
    "  --verbose               librdkafka logs on stderr\n"                    \
    "  --help                  this help\n"

static const struct {
    const char *what;
    const char *text;
} USAGE[] = {
    {"",
     "Usage: riffle [global flags] <command> [args]\n\n"
     "Commands:\n"
     "  cluster status          controllers, their Raft state, broker counts\n"
     "  broker list             registered brokers\n"
     "  broker drain ID         move every replica off a broker\n"
     "  topic create NAME       create a topic\n"
     "  topic list              list topics\n"
     "  topic describe [NAME]   partitions: leader, epoch, replicas, ISR\n"
     "  topic delete NAME       delete a topic\n"
     "  group list              consumer groups (--bootstrap-server)\n"
     "  group describe GROUP    members, committed offsets, lag\n"
     "  partition reassign TOPIC PARTITION --replicas LIST\n"
     "                          move a partition to new brokers\n\n" GLOBAL_FLAGS
     "\nExit status: 0 success, 1 failed operation, 2 usage error; on error\n"
     "one line \"riffle: <reason>\" on stderr.\n"
     "Run 'riffle <command> --help' for a command's flags.\n"},
    {"cluster",
     "Usage: riffle cluster status [global flags]\n\n"
     "Subcommands:\n  status   cluster id, active controller, "
     "metadata offset,\n           each controller's role/term/"
     "commit/applied, broker counts\n\n" GLOBAL_FLAGS},
    {"cluster status",
     "Usage: riffle cluster status [global flags]\n\n"
     "Shows the cluster id, the active controller, the metadata offset, each\n"
     "controller (id, raft address, RPC endpoint, role, term, commit,\n"
     "applied; \"unreachable\" when it does not answer) and broker counts by\n"
     "state.\n\n" GLOBAL_FLAGS},
    {"broker",
     "Usage: riffle broker <list|drain> ...\n\n"
     "Subcommands:\n  list\n  drain ID [--to LIST]\n\n" GLOBAL_FLAGS},
    {"broker drain",
     "Usage: riffle broker drain ID [--to ID,ID...] [global flags]\n\n"
     "Moves every replica off broker ID: each partition that has ID in its\n"
     "replicas (or in the target of a move in flight) is reassigned to the\n"
     "same list with ID replaced by the least-loaded unfenced broker not\n"
     "already in it (fewest replicas, then lowest id). The moves complete\n"
     "in the background once the new replicas have caught up; 'riffle topic\n"
     "describe' shows each TARGET until then. ID stays registered: stop it\n"
     "once no partition lists it.\n\n"
     "  --to ID,ID...   only these brokers may take the replicas\n\n"
     "Nothing is submitted when some partition has no broker to go to\n"
     "(exit 1). Moves: one line per partition, or JSON.\n\n" GLOBAL_FLAGS},
    {"partition",
     "Usage: riffle partition reassign ...\n\n"
     "Subcommands:\n  reassign TOPIC PARTITION --replicas ID,ID...\n\n"
     GLOBAL_FLAGS},
    {"partition reassign",
     "Usage: riffle partition reassign TOPIC PARTITION --replicas ID,ID...\n"
     "                                 [global flags]\n\n"
     "Starts moving the partition to the given replica list (the first is\n"
     "the preferred leader). The new brokers copy the log from the leader;\n"
     "once every one of them is in the ISR the controller makes the list\n"
     "the partition's replicas, moves the leadership if the leader is not\n"
     "in it, and the removed brokers stop serving the partition. Until then\n"
     "'riffle topic describe TOPIC' shows the list under TARGET. A new\n"
     "--replicas for a partition that is moving replaces its target; the\n"
     "current replica list is a no-op.\n\n"
     "  --replicas ID,ID...   1..64 distinct registered broker ids\n\n"
     "Errors (unknown topic or partition, unregistered broker) exit 1.\n\n"
     GLOBAL_FLAGS},
    {"broker list",
     "Usage: riffle broker list [global flags]\n\n"
     "Lists registered brokers: id, epoch, state, rack, endpoints, time "
     "since\nthe last heartbeat the active controller saw.\n\n" GLOBAL_FLAGS},
    {"topic",
     "Usage: riffle topic <create|list|describe|delete> ...\n\n"
     "Subcommands:\n"
     "  create NAME [--partitions N] [--replication-factor R]\n"
     "              [--config KEY=VALUE ...]\n"
     "  list\n  describe [NAME]\n  delete NAME\n\n" GLOBAL_FLAGS},
    {"topic create",
     "Usage: riffle topic create NAME [--partitions N] "
     "[--replication-factor R]\n"
     "                          [--config KEY=VALUE ...] [global flags]\n\n"
     "  --partitions N            1..1000000 (default: the controller's\n"
     "                            num.partitions)\n"
     "  --replication-factor R    1..32767 (default: the controller's\n"
     "                            default.replication.factor)\n"
     "  --config KEY=VALUE        topic config override; repeatable\n\n"
     "Errors such as TOPIC_ALREADY_EXISTS exit 1 naming the "
     "topic.\n\n" GLOBAL_FLAGS},
    {"topic list",
     "Usage: riffle topic list [global flags]\n\n"
     "Lists topics: name, topic id, partitions, replication "
     "factor.\n\n" GLOBAL_FLAGS},
    {"topic describe",
     "Usage: riffle topic describe [NAME] [global flags]\n\n"
     "Per partition: leader, leader epoch, partition epoch, replicas, ISR.\n"
     "Without NAME, every topic.\n\n" GLOBAL_FLAGS},
    {"topic delete",
     "Usage: riffle topic delete NAME [global flags]\n\n" GLOBAL_FLAGS},
    {"group",
     "Usage: riffle group <list|describe> --bootstrap-server HOST:PORT[,...]\n"
     "\nSubcommands:\n  list\n  describe GROUP\n\n" GROUP_FLAGS},
    {"group list",
     "Usage: riffle group list --bootstrap-server HOST:PORT[,...] "
     "[flags]\n\n"
     "Lists the consumer groups of every broker: group, state, protocol "
     "type,\nmembers.\n\n" GROUP_FLAGS},
    {"group describe",
     "Usage: riffle group describe GROUP --bootstrap-server "
     "HOST:PORT[,...] [flags]\n\n"
     "State, protocol, coordinator, members (member id, client id, host,\n"
     "assigned partitions) and per partition the committed offset, the log\n"
     "end offset and the lag. An unknown group exits 1.\n\n" GROUP_FLAGS},
};

const char *rf_cli_usage(const char *what)
{
    size_t i;

    for (i = 0; what && i < sizeof(USAGE) / sizeof(USAGE[0]); i++) {
        if (strcmp(USAGE[i].what, what) == 0)
            return USAGE[i].text;
    }
    return USAGE[0].text;
}

static int parse_int(const char *flag,
                     const char *s,
                     long long min,
                     long long max,
                     long long *out,
                     char *errmsg)
{
    char *end;
    long long v;

    errno = 0;
    v = strtoll(s, &end, 10);
    if (*s == '\0' || *end != '\0' || errno != 0 || v < min || v > max) {
        rf_errmsg_set(errmsg, "%s: '%s' is not an integer in %lld..%lld", flag,
                      s, min, max);
        return RF_EINVAL;
    }
    *out = v;
    return 0;
}

static int add_config(struct rf_cli_args *args, const char *kv, char *errmsg)
{
    const char *eq = strchr(kv, '=');
    size_t klen = eq ? (size_t)(eq - kv) : 0;

    if (eq == NULL || klen == 0) {
        rf_errmsg_set(errmsg, "--config: expected KEY=VALUE, got '%s'", kv);
        return RF_EINVAL;
    }
    if (klen >= sizeof(args->config_buf[0])) {
        rf_errmsg_set(errmsg, "--config: key longer than %zu bytes",
                      sizeof(args->config_buf[0]) - 1);
        return RF_EINVAL;
    }
    if (args->nconfigs >= RF_CLI_MAX_CONFIGS) {
        rf_errmsg_set(errmsg, "--config: more than %d entries",
                      RF_CLI_MAX_CONFIGS);
        return RF_EINVAL;
    }
    memcpy(args->config_buf[args->nconfigs], kv, klen);
    args->config_buf[args->nconfigs][klen] = '\0';
    args->config_keys[args->nconfigs] = args->config_buf[args->nconfigs];
    args->config_vals[args->nconfigs] = eq + 1;
    args->nconfigs++;
    return 0;
}

/* Flags that take a value accept "--flag V" and "--flag=V". Returns the
 * value or NULL (errmsg set) when it is missing. */
static const char *flag_value(const char *flag,
                              int argc,
                              char **argv,
                              int *i,
                              char *errmsg)
{
    size_t n = strlen(flag);
    const char *arg = argv[*i];

    if (arg[n] == '=')
        return arg + n + 1;
    if (*i + 1 >= argc) {
        rf_errmsg_set(errmsg, "%s needs a value", flag);
        return NULL;
    }
    return argv[++*i];
}

static bool is_flag(const char *arg, const char *flag)
{
    size_t n = strlen(flag);

    return strncmp(arg, flag, n) == 0 && (arg[n] == '\0' || arg[n] == '=');
}

/* One "-..." argument at argv[*i]; *create_only counts create flags. */
static int parse_flag(struct rf_cli_args *args,
                      int argc,
                      char **argv,
                      int *i,
                      int *create_only,
                      char *errmsg)
{
    const char *arg = argv[*i], *v;
    long long n;

    if (strcmp(arg, "--json") == 0) {
        args->json = true;
        return 0;
    }
    if (strcmp(arg, "--verbose") == 0 || strcmp(arg, "-v") == 0) {
        args->verbose = true;
        return 0;
    }
    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
        args->help = true;
        return 0;
    }
    if (is_flag(arg, "--controllers")) {
        v = flag_value("--controllers", argc, argv, i, errmsg);
        args->controllers = v;
        return v ? 0 : RF_EINVAL;
    }
    if (is_flag(arg, "--bootstrap-server")) {
        v = flag_value("--bootstrap-server", argc, argv, i, errmsg);
        args->bootstrap = v;
        return v ? 0 : RF_EINVAL;
    }
    if (is_flag(arg, "--replicas") || is_flag(arg, "--to")) {
        bool r = is_flag(arg, "--replicas");
        v = flag_value(r ? "--replicas" : "--to", argc, argv, i, errmsg);
        *(r ? &args->replicas_arg : &args->to_arg) = v;
        return v ? 0 : RF_EINVAL;
    }
    if (is_flag(arg, "--timeout")) {
        if (!(v = flag_value("--timeout", argc, argv, i, errmsg)) ||
            parse_int("--timeout", v, 1, 3600000, &n, errmsg) != 0)
            return RF_EINVAL;
        args->timeout_ms = (uint32_t)n;
        return 0;
    }
    if (is_flag(arg, "--partitions")) {
        ++*create_only;
        if (!(v = flag_value("--partitions", argc, argv, i, errmsg)) ||
            parse_int("--partitions", v, 1, 1000000, &n, errmsg) != 0)
            return RF_EINVAL;
        args->partitions = (int32_t)n;
        return 0;
    }
    if (is_flag(arg, "--replication-factor")) {
        ++*create_only;
        if (!(v = flag_value("--replication-factor", argc, argv, i, errmsg)) ||
            parse_int("--replication-factor", v, 1, 32767, &n, errmsg) != 0)
            return RF_EINVAL;
        args->replication_factor = (int32_t)n;
        return 0;
    }
    if (is_flag(arg, "--config")) {
        ++*create_only;
        if (!(v = flag_value("--config", argc, argv, i, errmsg)))
            return RF_EINVAL;
        return add_config(args, v, errmsg);
    }
    rf_errmsg_set(errmsg, "unknown flag '%s' (try 'riffle --help')", arg);
    return RF_EINVAL;
}

/* Match pos[0..npos) against CMDS; sets args->cmd/topic/help_for. */
static int resolve_command(struct rf_cli_args *args,
                           const char **pos,
                           int npos,
                           char *errmsg)
{
    const struct cmd_def *def = NULL;
    bool group_known = false;
    size_t k;

    if (npos == 0) {
        if (args->help)
            return 0;
        rf_errmsg_set(errmsg, "missing command (try 'riffle --help')");
        return RF_EINVAL;
    }
    for (k = 0; k < NCMDS; k++) {
        if (strcmp(CMDS[k].group, pos[0]) != 0)
            continue;
        group_known = true;
        args->help_for = CMDS[k].group;
        if (npos > 1 && strcmp(CMDS[k].verb, pos[1]) == 0)
            def = &CMDS[k];
    }
    if (!group_known) {
        rf_errmsg_set(errmsg, "unknown command '%s' (try 'riffle --help')",
                      pos[0]);
        return RF_EINVAL;
    }
    if (def == NULL) {
        if (args->help && npos == 1)
            return 0;
        if (npos == 1)
            rf_errmsg_set(errmsg,
                          "missing subcommand for '%s' (try 'riffle "
                          "%s --help')",
                          pos[0], pos[0]);
        else
            rf_errmsg_set(errmsg,
                          "unknown command '%s %s' (try 'riffle %s "
                          "--help')",
                          pos[0], pos[1], pos[0]);
        return RF_EINVAL;
    }
    args->help_for = def->full;
    if (args->help)
        return 0;
    if (npos - 2 < def->min_names) {
        rf_errmsg_set(errmsg, "'%s' needs %s", def->full,
                      def->cmd == RF_CLI_BROKER_DRAIN ? "a broker id"
                      : def->cmd == RF_CLI_PARTITION_REASSIGN
                          ? "TOPIC and PARTITION"
                      : strcmp(def->group, "group") == 0 ? "a group name"
                                                         : "a topic name");
        return RF_EINVAL;
    }
    if (npos - 2 > def->max_names) {
        rf_errmsg_set(errmsg, "unexpected argument '%s' for '%s'",
                      pos[2 + def->max_names], def->full);
        return RF_EINVAL;
    }
    args->cmd = def->cmd;
    args->name2 = npos > 3 ? pos[3] : NULL;
    if (strcmp(def->group, "group") == 0)
        args->group = npos > 2 ? pos[2] : NULL;
    else
        args->topic = npos > 2 ? pos[2] : NULL;
    return 0;
}

static int check_controllers(struct rf_cli_args *args,
                             const char *env_controllers,
                             char *errmsg)
{
    struct rf_hostport hps[RF_CTLCLIENT_MAX_ENDPOINTS];

    if (args->controllers == NULL)
        args->controllers = env_controllers;
    if (args->controllers == NULL || args->controllers[0] == '\0') {
        rf_errmsg_set(errmsg,
                      "no controllers: use --controllers "
                      "HOST:PORT[,HOST:PORT...] or set RIFFLE_CONTROLLERS");
        return RF_EINVAL;
    }
    if (rf_hostport_list_parse(args->controllers, hps,
                               RF_CTLCLIENT_MAX_ENDPOINTS) < 1) {
        rf_errmsg_set(errmsg,
                      "bad controller list '%s': expected "
                      "HOST:PORT[,HOST:PORT...] (at most %d)",
                      args->controllers, RF_CTLCLIENT_MAX_ENDPOINTS);
        return RF_EINVAL;
    }
    return 0;
}

static int check_bootstrap(struct rf_cli_args *args, char *errmsg)
{
    struct rf_hostport hps[RF_CTLCLIENT_MAX_ENDPOINTS];

    if (args->bootstrap == NULL || args->bootstrap[0] == '\0') {
        rf_errmsg_set(errmsg, "'%s' needs --bootstrap-server "
                      "HOST:PORT[,HOST:PORT...] (a broker's Kafka listener)",
                      args->help_for);
        return RF_EINVAL;
    }
    if (rf_hostport_list_parse(args->bootstrap, hps,
                               RF_CTLCLIENT_MAX_ENDPOINTS) < 1) {
        rf_errmsg_set(errmsg,
                      "bad bootstrap server list '%s': expected "
                      "HOST:PORT[,HOST:PORT...] (at most %d)",
                      args->bootstrap, RF_CTLCLIENT_MAX_ENDPOINTS);
        return RF_EINVAL;
    }
    return 0;
}

int rf_cli_parse(int argc,
                 char **argv,
                 const char *env_controllers,
                 struct rf_cli_args *args,
                 char *errmsg)
{
    const char *pos[MAX_POS];
    char flag_err[RF_ERRMSG_SIZE];
    int npos = 0, create_only = 0, flag_rv = 0, i, rv;

    memset(args, 0, sizeof(*args));
    args->timeout_ms = RF_CLI_DEFAULT_TIMEOUT_MS;
    args->partitions = -1;
    args->replication_factor = -1;
    for (i = 1; i < argc; i++) {
        if (argv[i][0] == '-' && argv[i][1] != '\0') {
            /* Keep the first bad flag; a later --help still wins. */
            rv = parse_flag(args, argc, argv, &i, &create_only,
                            flag_rv ? flag_err : errmsg);
            if (rv != 0 && flag_rv == 0)
                flag_rv = rv;
            continue;
        }
        if (npos == MAX_POS) {
            rf_errmsg_set(errmsg, "too many arguments (try 'riffle --help')");
            args->help = false;
            return RF_EINVAL;
        }
        pos[npos++] = argv[i];
    }
    if (flag_rv != 0 && !args->help)
        return flag_rv;
    rv = resolve_command(args, pos, npos, errmsg);
    if (rv != 0) {
        args->help = false; /* an unknown command is an error even so */
        return rv;
    }
    if (args->help)
        return 0;
    if (create_only > 0 && args->cmd != RF_CLI_TOPIC_CREATE) {
        rf_errmsg_set(errmsg,
                      "--partitions, --replication-factor and "
                      "--config apply to 'topic create' only");
        return RF_EINVAL;
    }
    if (rf_cli_partition_check(args, errmsg) != 0)
        return RF_EINVAL;
    if (args->cmd == RF_CLI_GROUP_LIST || args->cmd == RF_CLI_GROUP_DESCRIBE)
        return check_bootstrap(args, errmsg);
    if (args->bootstrap) {
        rf_errmsg_set(errmsg,
                      "--bootstrap-server applies to 'group' commands only");
        return RF_EINVAL;
    }
    return check_controllers(args, env_controllers, errmsg);
}
