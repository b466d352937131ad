/* cli.h: the riffle admin CLI's pieces: argument parsing, response
 * formatting (tables or JSON) and command execution over rf_ctlsync. */
#ifndef RF_CLI_H
#define RF_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "rpc.pb-c.h"

#define RF_CLI_MAX_CONFIGS 64
#define RF_CLI_DEFAULT_TIMEOUT_MS 15000u
#define RF_CLI_MAX_REPLICAS 64 /* --replicas, --to */

enum rf_cli_cmd {
    RF_CLI_NONE = 0, /* only --help given */
    RF_CLI_CLUSTER_STATUS,
    RF_CLI_BROKER_LIST,
    RF_CLI_TOPIC_CREATE,
    RF_CLI_TOPIC_LIST,
    RF_CLI_TOPIC_DESCRIBE,
    RF_CLI_TOPIC_DELETE,
    RF_CLI_GROUP_LIST, /* cli_group.c: Kafka admin API to the brokers */
    RF_CLI_GROUP_DESCRIBE,
    RF_CLI_PARTITION_REASSIGN, /* cli_partition.c: reassignment */
    RF_CLI_BROKER_DRAIN,
};

/* Exit codes: 0 success, 1 a failed operation, 2 a usage error. */
enum { RF_CLI_EXIT_OK = 0, RF_CLI_EXIT_FAIL = 1, RF_CLI_EXIT_USAGE = 2 };

/* Strings point into argv or the environment (borrowed) unless noted. */
struct rf_cli_args {
    const char *controllers; /* --controllers, else RIFFLE_CONTROLLERS */
    const char *bootstrap;   /* --bootstrap-server: group commands only */
    const char *group;       /* group describe */
    bool json;
    bool verbose;
    bool help;            /* print rf_cli_usage(cmd or group) and exit 0 */
    const char *help_for; /* "topic", "topic create", ... or NULL: global */
    uint32_t timeout_ms;
    enum rf_cli_cmd cmd;
    const char *topic;  /* create/describe/delete; describe: NULL = all */
    int32_t partitions; /* -1: the controller's num.partitions */
    int32_t replication_factor; /* -1: default.replication.factor */
    int nconfigs;
    const char *config_keys[RF_CLI_MAX_CONFIGS]; /* point into config_buf */
    const char *config_vals[RF_CLI_MAX_CONFIGS]; /* point into argv */
    char config_buf[RF_CLI_MAX_CONFIGS][256];    /* KEY copies (split at '=') */
    /* partition reassign TOPIC PARTITION --replicas LIST; broker drain ID
     * [--to LIST] (raw strings; rf_cli_partition_check parses them) */
    const char *name2;    /* second positional argument */
    const char *replicas_arg;
    const char *to_arg;
    int32_t partition;    /* reassign: PARTITION */
    int32_t broker_id;    /* drain: ID */
    int n_replicas;       /* reassign: --replicas */
    int32_t replicas[RF_CLI_MAX_REPLICAS];
    int n_to;             /* drain: --to (0: every other unfenced broker) */
    int32_t to[RF_CLI_MAX_REPLICAS];
};

/* Parse argv[1..argc) (argv[0] is the program name). env_controllers is
 * RIFFLE_CONTROLLERS or NULL. Returns 0, or RF_EINVAL with the reason in
 * errmsg (RF_ERRMSG_SIZE). A --help anywhere wins over other errors except
 * an unknown command. */
int rf_cli_parse(int argc,
                 char **argv,
                 const char *env_controllers,
                 struct rf_cli_args *args,
                 char *errmsg);

/* Usage text for "" (global), "cluster", "cluster status", "topic",
 * "topic create", ... Never NULL (falls back to the global text). */
const char *rf_cli_usage(const char *what);

/* ---- formatters: responses (borrowed) -> text or JSON appended to out ---- */

/* ns: for each dc->controllers[i], its own NodeStatus answer, or NULL when
 * it did not answer (shown as "unreachable"; a controller without an RPC
 * endpoint keeps dc's values); ns == NULL: use dc as is. */
void rf_cli_fmt_cluster(const Riffle__DescribeClusterResponse *dc,
                        const Riffle__NodeStatusResponse *const *ns,
                        bool json,
                        struct rf_wr *out);
void rf_cli_fmt_brokers(const Riffle__DescribeClusterResponse *dc,
                        bool json,
                        struct rf_wr *out);
void rf_cli_fmt_topic_list(const Riffle__ListTopicsResponse *lt,
                           bool json,
                           struct rf_wr *out);
void rf_cli_fmt_topic_describe(const Riffle__DescribeTopicsResponse *dt,
                               bool json,
                               struct rf_wr *out);
void rf_cli_fmt_topic_created(const Riffle__CreateTopicsResponse *ct,
                              bool json,
                              struct rf_wr *out);
void rf_cli_fmt_topic_deleted(const Riffle__DeleteTopicsResponse *dt,
                              bool json,
                              struct rf_wr *out);

/* Check an answer: the body must be `expected` (an Envelope body case),
 * its Status NONE and, for topic responses, every topic's error NONE.
 * Returns 0, or RF_EPROTO with one line in errmsg such as
 * "topic orders: TOPIC_ALREADY_EXISTS: Topic 'orders' already exists". */
int rf_cli_check_response(const Riffle__Envelope *resp,
                          int expected,
                          char *errmsg);

/* Append s / a formatted line (at most 1023 bytes) to out. */
void rf_cli_put_str(struct rf_wr *out, const char *s);
void rf_cli_putf(struct rf_wr *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Name of a controller ErrorCode ("TOPIC_ALREADY_EXISTS"); never NULL. */
const char *rf_cli_error_name(int code);

/* Run the parsed command against the controllers; output on stdout, the
 * one-line reason in errmsg on failure. Returns an RF_CLI_EXIT_* code. */
int rf_cli_run(const struct rf_cli_args *args, char *errmsg);

/* One controller command in progress (cli_run.c sets it up for every
 * command file): the deadline starts at start_ms, output collects in out
 * and goes to stdout once the command succeeded. */
struct rf_ctlsync;
struct rf_cli_ctx {
    const struct rf_cli_args *args;
    struct rf_ctlsync *sync;
    uint64_t start_ms;
    struct rf_wr out;
    char *errmsg;
};
/* What is left of --timeout. */
uint32_t rf_cli_remaining_ms(const struct rf_cli_ctx *ctx);
/* Send env to the active controller (retries within the deadline) and
 * check the answer as rf_cli_check_response; *resp owned on success. */
int rf_cli_call_checked(struct rf_cli_ctx *ctx, Riffle__Envelope *env,
                        int expected, Riffle__Envelope **resp);

/* cli_group.c: run RF_CLI_GROUP_* against args->bootstrap with librdkafka's
 * admin API (groups live on the brokers); same contract as rf_cli_run. */
int rf_cli_group_run(const struct rf_cli_args *args, char *errmsg);

/* cli_partition.c: after parsing, check and convert the reassign / drain
 * arguments (PARTITION, ID, --replicas, --to; those flags with any other
 * command are an error). Returns 0 or RF_EINVAL with errmsg. */
int rf_cli_partition_check(struct rf_cli_args *args, char *errmsg);
/* Run RF_CLI_PARTITION_REASSIGN / RF_CLI_BROKER_DRAIN within ctx (output
 * in ctx->out); 0 or an RF_E* code with ctx->errmsg set. */
int rf_cli_partition_dispatch(struct rf_cli_ctx *ctx);

#endif
