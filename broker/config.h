/* config.h: riffle-broker's configuration: the option table with Kafka's key
 * names, cross-key validation and the derived listener endpoints. */
#ifndef RF_BROKER_CONFIG_H
#define RF_BROKER_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "conf.h"
#include "net.h"

#define RF_BROKER_MAX_CONTROLLERS 16

struct rf_broker_conf {
    /* Fields set from the option table. */
    int64_t node_id;
    char *process_roles;
    char *bootstrap_text;      /* controller.quorum.bootstrap.servers */
    char *listeners;           /* PLAINTEXT://host:port[,REPLICATION://...] */
    char *advertised_listeners;
    char *log_dirs;
    char *rack;
    int64_t num_partitions;
    int64_t default_replication;
    int64_t min_insync_replicas;
    bool auto_create_topics;
    int64_t segment_bytes;
    int64_t segment_ms;
    int64_t retention_ms;
    int64_t retention_bytes;
    int64_t retention_check_ms;
    int64_t message_max_bytes;
    int64_t replica_lag_time_max_ms;
    int64_t session_timeout_ms;
    int64_t heartbeat_interval_ms;
    int64_t offsets_partitions;
    int64_t offsets_replication;
    int64_t socket_request_max_bytes;
    int64_t fetch_max_bytes;
    int64_t connections_max_idle_ms;
    int64_t max_connections;
    int64_t request_timeout_ms;
    char *log_level;
    char *metrics_listener;    /* host:port of /metrics; "" for none */
    /* Derived by rf_broker_conf_load. */
    int n_controllers;
    struct rf_hostport controllers[RF_BROKER_MAX_CONTROLLERS];
    struct rf_hostport kafka;      /* PLAINTEXT listener (bind) */
    struct rf_hostport kafka_adv;  /* PLAINTEXT as advertised */
    struct rf_hostport repl;       /* REPLICATION listener; port 0 if none */
    struct rf_hostport repl_adv;
    struct rf_hostport metrics;    /* port 0: no metrics listener */
    int log_level_num;
};

extern const struct rf_conf_opt rf_broker_conf_table[];

/* Load and validate from the file at path (or from text named path when text
 * is not NULL). errmsg: one line naming the file (and line) and why. Free
 * with rf_broker_conf_free() on every path. */
int rf_broker_conf_load(struct rf_broker_conf *conf, const char *path,
                        const char *text, char *errmsg);
void rf_broker_conf_free(struct rf_broker_conf *conf);

#endif
