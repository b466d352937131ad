/* node_conf.h: riffle-controller's configuration (option table, cross-key
 * validation, metadata.log.dir preparation and locking). */
#ifndef RF_NODE_CONFIG_H
#define RF_NODE_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "conf.h"
#include "net.h"

#define RF_NODE_MAX_VOTERS 16

struct rf_node_conf {
    /* Fields set from the option table. */
    int64_t node_id;
    char *process_roles;
    char *voters_text;
    char *listeners;
    char *metadata_log_dir;
    int64_t election_timeout_ms;
    int64_t heartbeat_timeout_ms;
    int64_t session_timeout_ms;
    int64_t heartbeat_interval_ms;
    int64_t disconnect_fence_ms;
    int64_t num_partitions;
    int64_t default_replication;
    bool unclean_leader_election;
    bool auto_leader_rebalance;
    int64_t imbalance_check_interval_s;
    char *log_level;
    char *metrics_listener; /* host:port of /metrics; "" for none */
    int64_t snapshot_threshold; /* hidden: controller.snapshot.threshold */
    int64_t snapshot_trailing;  /* hidden: controller.snapshot.trailing */
    /* Derived by rf_node_conf_load. */
    int n_voters;
    struct rf_voter voters[RF_NODE_MAX_VOTERS];
    const struct rf_voter *self; /* points into voters */
    char raft_address[RF_HOST_MAX + 8];
    struct rf_hostport rpc;
    struct rf_hostport metrics; /* port 0: no metrics listener */
    int log_level_num;
};

/* The option table (ends with RF_CONF_END). */
extern const struct rf_conf_opt rf_node_conf_table[];

/* Load and validate a controller configuration from a file (path) or, when
 * text is not NULL, from text named path. errmsg gets one line naming the
 * file (and line, for a bad line) and why. Free with rf_node_conf_free()
 * on every path. */
int rf_node_conf_load(struct rf_node_conf *conf,
                      const char *path,
                      const char *text,
                      char *errmsg);
void rf_node_conf_free(struct rf_node_conf *conf);

/* Create metadata.log.dir if its parent exists, check it is a writable
 * directory, take an exclusive flock on <dir>/controller.lock (the fd goes
 * to *lock_fd, held until exit) and create <dir>/raft. raft_dir must hold
 * PATH_MAX bytes. RF_ELOCKED when another process holds the lock. */
int rf_node_dir_prepare(const char *dir,
                        int *lock_fd,
                        char *raft_dir,
                        char *errmsg);

#endif
