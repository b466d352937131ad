/* config.c: riffle-broker option table and cross-key checks. */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "log.h"

#define OFF(f) offsetof(struct rf_broker_conf, f)

static int validate_roles(const char *value, char *errmsg)
{
    if (strcmp(value, "broker") != 0) {
        rf_errmsg_set(errmsg, "must be \"broker\" (got \"%.32s\")", value);
        return RF_ECONFIG;
    }
    return 0;
}

static int validate_bootstrap(const char *value, char *errmsg)
{
    struct rf_hostport hp[RF_BROKER_MAX_CONTROLLERS];
    if (rf_hostport_list_parse(value, hp, RF_BROKER_MAX_CONTROLLERS) < 1) {
        rf_errmsg_set(errmsg, "expected host:port[,host:port...] (at most %d)",
                      RF_BROKER_MAX_CONTROLLERS);
        return RF_ECONFIG;
    }
    return 0;
}

/* "NAME://host:port,NAME://host:port": names PLAINTEXT and REPLICATION. */
static int parse_listeners(const char *value, struct rf_hostport *kafka,
                           struct rf_hostport *repl, char *errmsg)
{
    char buf[1024];
    char *save = NULL;
    bool have_kafka = false;
    if (strlen(value) >= sizeof buf) {
        rf_errmsg_set(errmsg, "too long");
        return RF_ECONFIG;
    }
    snprintf(buf, sizeof buf, "%s", value);
    memset(repl, 0, sizeof *repl);
    for (char *tok = strtok_r(buf, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        char name[32];
        struct rf_hostport hp;
        while (*tok == ' ')
            tok++;
        if (rf_listener_parse(tok, name, &hp) != 0) {
            rf_errmsg_set(errmsg, "'%.64s': expected NAME://host:port", tok);
            return RF_ECONFIG;
        }
        if (strcmp(name, "PLAINTEXT") == 0 && !have_kafka) {
            *kafka = hp;
            have_kafka = true;
        } else if (strcmp(name, "REPLICATION") == 0 && repl->port == 0) {
            *repl = hp;
        } else {
            rf_errmsg_set(errmsg,
                          "'%.64s': listener names are PLAINTEXT and "
                          "REPLICATION, each at most once",
                          tok);
            return RF_ECONFIG;
        }
    }
    if (!have_kafka) {
        rf_errmsg_set(errmsg, "a PLAINTEXT://host:port listener is required");
        return RF_ECONFIG;
    }
    return 0;
}

static int validate_metrics_listener(const char *value, char *errmsg)
{
    struct rf_hostport hp;
    if (value[0] == '\0')
        return 0;
    if (rf_hostport_parse(value, &hp) != 0 || !rf_is_ipv4(hp.host)) {
        rf_errmsg_set(errmsg, "expected ipv4:port (or empty for none)");
        return RF_ECONFIG;
    }
    return 0;
}

static int validate_listeners(const char *value, char *errmsg)
{
    struct rf_hostport k, r;
    if (value[0] == '\0')
        return 0; /* advertised.listeners may be empty: same as listeners */
    return parse_listeners(value, &k, &r, errmsg);
}

const struct rf_conf_opt rf_broker_conf_table[] = {
    {"node.id", RF_CONF_INT, NULL, 0, INT32_MAX, OFF(node_id), NULL,
     "this broker's id (distinct from every other broker's)"},
    {"process.roles", RF_CONF_STRING, NULL, 0, 0, OFF(process_roles),
     validate_roles, "must be \"broker\""},
    {"controller.quorum.bootstrap.servers", RF_CONF_STRING, NULL, 0, 0,
     OFF(bootstrap_text), validate_bootstrap,
     "controller RPC endpoints host:port,..."},
    {"listeners", RF_CONF_STRING, NULL, 0, 0, OFF(listeners),
     validate_listeners,
     "PLAINTEXT://host:port (Kafka clients)[,REPLICATION://host:port]"},
    {"advertised.listeners", RF_CONF_STRING, "", 0, 0,
     OFF(advertised_listeners), validate_listeners,
     "what clients are told; empty: same as listeners"},
    {"log.dirs", RF_CONF_STRING, NULL, 0, 0, OFF(log_dirs), NULL,
     "directory holding the partition logs"},
    {"broker.rack", RF_CONF_STRING, "", 0, 0, OFF(rack), NULL,
     "rack id for rack-aware replica placement"},
    {"num.partitions", RF_CONF_INT, "1", 1, 10000, OFF(num_partitions), NULL,
     "partitions of an auto-created topic"},
    {"default.replication.factor", RF_CONF_INT, "1", 1, 16,
     OFF(default_replication), NULL,
     "replication factor of an auto-created topic"},
    {"min.insync.replicas", RF_CONF_INT, "1", 1, 16,
     OFF(min_insync_replicas), NULL,
     "ISR size an acks=all produce needs (topic config overrides)"},
    {"auto.create.topics.enable", RF_CONF_BOOL, "true", 0, 0,
     OFF(auto_create_topics), NULL,
     "create a topic on Metadata/Produce for an unknown name"},
    {"log.segment.bytes", RF_CONF_INT, "1073741824", 1048576, INT32_MAX,
     OFF(segment_bytes), NULL, "roll a segment at this size"},
    {"log.roll.ms", RF_CONF_INT, "604800000", 1000, INT64_MAX,
     OFF(segment_ms), NULL, "roll a segment at this age"},
    {"log.retention.ms", RF_CONF_INT, "604800000", -1, INT64_MAX,
     OFF(retention_ms), NULL, "delete segments older than this; -1: never"},
    {"log.retention.bytes", RF_CONF_INT, "-1", -1, INT64_MAX,
     OFF(retention_bytes), NULL,
     "delete old segments above this partition size; -1: never"},
    {"log.retention.check.interval.ms", RF_CONF_INT, "300000", 100,
     INT64_MAX, OFF(retention_check_ms), NULL, "retention check period"},
    {"message.max.bytes", RF_CONF_INT, "1048588", 64, 1073741824,
     OFF(message_max_bytes), NULL, "largest record batch accepted"},
    {"replica.lag.time.max.ms", RF_CONF_INT, "30000", 100, 3600000,
     OFF(replica_lag_time_max_ms), NULL,
     "a follower behind this long leaves the ISR"},
    {"broker.session.timeout.ms", RF_CONF_INT, "9000", 100, 3600000,
     OFF(session_timeout_ms), NULL,
     "the controllers fence a broker silent this long"},
    {"broker.heartbeat.interval.ms", RF_CONF_INT, "2000", 10, 3600000,
     OFF(heartbeat_interval_ms), NULL, "heartbeat period"},
    {"offsets.topic.num.partitions", RF_CONF_INT, "50", 1, 1000,
     OFF(offsets_partitions), NULL, "partitions of __consumer_offsets"},
    {"offsets.topic.replication.factor", RF_CONF_INT, "3", 1, 16,
     OFF(offsets_replication), NULL,
     "replication factor of __consumer_offsets (capped by live brokers)"},
    {"socket.request.max.bytes", RF_CONF_INT, "104857600", 1024, INT32_MAX,
     OFF(socket_request_max_bytes), NULL, "largest Kafka request frame"},
    {"fetch.max.bytes", RF_CONF_INT, "57671680", 1024, INT32_MAX,
     OFF(fetch_max_bytes), NULL,
     "record bytes one Fetch answer holds at most (a client's MaxBytes is "
     "capped to it)"},
    {"connections.max.idle.ms", RF_CONF_INT, "600000", 1000, INT32_MAX,
     OFF(connections_max_idle_ms), NULL, "close idle client connections"},
    {"max.connections", RF_CONF_INT, "10000", 1, 1000000,
     OFF(max_connections), NULL, "client connection cap"},
    {"request.timeout.ms", RF_CONF_INT, "30000", 100, 3600000,
     OFF(request_timeout_ms), NULL,
     "a started request frame must arrive within this"},
    {"log.level", RF_CONF_STRING, "info", 0, 0, OFF(log_level),
     rf_conf_validate_log_level, "error|warn|info|debug|trace"},
    {"metrics.listener", RF_CONF_STRING, "", 0, 0, OFF(metrics_listener),
     validate_metrics_listener,
     "ipv4:port serving /metrics /healthz /readyz over HTTP; empty: none"},
    RF_CONF_END,
};

static int check_cross(struct rf_broker_conf *conf, const char *path,
                       char *errmsg)
{
    const char *adv = conf->advertised_listeners[0] ? conf->advertised_listeners
                                                    : conf->listeners;
    conf->n_controllers = rf_hostport_list_parse(
        conf->bootstrap_text, conf->controllers, RF_BROKER_MAX_CONTROLLERS);
    if (parse_listeners(conf->listeners, &conf->kafka, &conf->repl,
                        errmsg) != 0 ||
        parse_listeners(adv, &conf->kafka_adv, &conf->repl_adv, errmsg) != 0) {
        rf_errmsg_prefix(errmsg, "%s: listeners", path);
        return RF_ECONFIG;
    }
    if ((conf->repl.port == 0) != (conf->repl_adv.port == 0)) {
        rf_errmsg_set(errmsg,
                      "%s: listeners and advertised.listeners must name the "
                      "same listeners",
                      path);
        return RF_ECONFIG;
    }
    if (conf->log_dirs[0] == '\0' || strchr(conf->log_dirs, ',') != NULL) {
        rf_errmsg_set(errmsg, "%s: log.dirs must name exactly one directory",
                      path);
        return RF_ECONFIG;
    }
    if (conf->heartbeat_interval_ms * 2 > conf->session_timeout_ms) {
        rf_errmsg_set(errmsg,
                      "%s: broker.heartbeat.interval.ms (%lld) must be at "
                      "most half of broker.session.timeout.ms (%lld)",
                      path, (long long)conf->heartbeat_interval_ms,
                      (long long)conf->session_timeout_ms);
        return RF_ECONFIG;
    }
    if (conf->metrics_listener[0] != '\0')
        (void)rf_hostport_parse(conf->metrics_listener, &conf->metrics);
    (void)rf_log_level_parse(conf->log_level, &conf->log_level_num);
    return 0;
}

int rf_broker_conf_load(struct rf_broker_conf *conf, const char *path,
                        const char *text, char *errmsg)
{
    int rv;
    memset(conf, 0, sizeof *conf);
    if (text != NULL)
        rv = rf_conf_load_string(rf_broker_conf_table, conf, text, path,
                                 errmsg);
    else
        rv = rf_conf_load(rf_broker_conf_table, conf, path, errmsg);
    if (rv != 0)
        return rv;
    return check_cross(conf, path, errmsg);
}

void rf_broker_conf_free(struct rf_broker_conf *conf)
{
    rf_conf_free(rf_broker_conf_table, conf);
}
