/* node_conf.c: riffle-controller option table and startup checks. */
#include "node_conf.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "log.h"

#define OFF(f) offsetof(struct rf_node_conf, f)

static int validate_roles(const char *value, char *errmsg)
{
    if (strcmp(value, "controller") != 0) {
        rf_errmsg_set(errmsg, "must be \"controller\" (got \"%s\")", value);
        return RF_ECONFIG;
    }
    return 0;
}

static int validate_voters(const char *value, char *errmsg)
{
    struct rf_voter v[RF_NODE_MAX_VOTERS];
    int n = rf_voters_parse(value, v, RF_NODE_MAX_VOTERS);

    if (n < 1) {
        rf_errmsg_set(errmsg,
                      "expected id@ipv4:port[,id@ipv4:port...] with unique "
                      "ids >= 1 and IPv4 literals (at most %d): %s",
                      RF_NODE_MAX_VOTERS, rf_strerror(n));
        return RF_ECONFIG;
    }
    return 0;
}

static int validate_listeners(const char *value, char *errmsg)
{
    char name[32];
    struct rf_hostport hp;

    if (rf_listener_parse(value, name, &hp) != 0) {
        rf_errmsg_set(errmsg, "expected host:port or CONTROLLER://host:port");
        return RF_ECONFIG;
    }
    return 0;
}

static int validate_metrics_listener(const char *value, char *errmsg)
{
    struct rf_hostport hp;

    if (value[0] == '\0') {
        return 0;
    }
    if (rf_hostport_parse(value, &hp) != 0 || !rf_is_ipv4(hp.host)) {
        rf_errmsg_set(errmsg, "expected ipv4:port (or empty for none)");
        return RF_ECONFIG;
    }
    return 0;
}

const struct rf_conf_opt rf_node_conf_table[] = {
    {"node.id", RF_CONF_INT, NULL, 1, INT32_MAX, OFF(node_id), NULL,
     "this controller's id; must appear in controller.quorum.voters"},
    {"process.roles", RF_CONF_STRING, NULL, 0, 0, OFF(process_roles),
     validate_roles, "must be \"controller\""},
    {"controller.quorum.voters", RF_CONF_STRING, NULL, 0, 0, OFF(voters_text),
     validate_voters,
     "Raft voters id@ipv4:port,... (every voter bootstraps with this list)"},
    {"listeners", RF_CONF_STRING, NULL, 0, 0, OFF(listeners),
     validate_listeners, "controller RPC endpoint host:port"},
    {"metadata.log.dir", RF_CONF_STRING, NULL, 0, 0, OFF(metadata_log_dir),
     NULL, "data directory (controller.lock, raft/)"},
    {"controller.quorum.election.timeout.ms", RF_CONF_INT, "1000", 50, 60000,
     OFF(election_timeout_ms), NULL, "Raft election timeout"},
    {"controller.quorum.heartbeat.timeout.ms", RF_CONF_INT, "100", 10, 12000,
     OFF(heartbeat_timeout_ms), NULL,
     "Raft heartbeat timeout; <= election timeout / 5"},
    {"broker.session.timeout.ms", RF_CONF_INT, "9000", 100, 3600000,
     OFF(session_timeout_ms), NULL,
     "a broker without heartbeats this long is fenced"},
    {"broker.heartbeat.interval.ms", RF_CONF_INT, "2000", 10, 3600000,
     OFF(heartbeat_interval_ms), NULL, "informational"},
    {"broker.disconnect.fence.ms", RF_CONF_INT, "1000", 0, 3600000,
     OFF(disconnect_fence_ms), NULL,
     "fence a broker this long after the connection carrying its "
     "heartbeats closes, unless it heartbeats again; 0: off"},
    {"num.partitions", RF_CONF_INT, "1", 1, 10000, OFF(num_partitions), NULL,
     "default partition count of a new topic"},
    {"default.replication.factor", RF_CONF_INT, "1", 1, 16,
     OFF(default_replication), NULL, "default replication factor"},
    {"unclean.leader.election.enable", RF_CONF_BOOL, "false", 0, 0,
     OFF(unclean_leader_election), NULL, "elect leaders outside the ISR"},
    {"auto.leader.rebalance.enable", RF_CONF_BOOL, "true", 0, 0,
     OFF(auto_leader_rebalance), NULL, "preferred leader rebalancing"},
    {"leader.imbalance.check.interval.seconds", RF_CONF_INT, "300", 1, 86400,
     OFF(imbalance_check_interval_s), NULL,
     "period of preferred leader rebalancing"},
    {"log.level", RF_CONF_STRING, "info", 0, 0, OFF(log_level),
     rf_conf_validate_log_level, "error|warn|info|debug|trace"},
    {"metrics.listener", RF_CONF_STRING, "", 0, 0, OFF(metrics_listener),
     validate_metrics_listener,
     "ipv4:port serving /metrics /healthz /readyz over HTTP; empty: none"},
    {"controller.snapshot.threshold", RF_CONF_INT, "16384", 8, 1 << 30,
     OFF(snapshot_threshold), NULL,
     "hidden/test: Raft entries between snapshots"},
    {"controller.snapshot.trailing", RF_CONF_INT, "4096", 0, 1 << 30,
     OFF(snapshot_trailing), NULL,
     "hidden/test: entries kept behind a snapshot"},
    RF_CONF_END,
};

static int find_self(struct rf_node_conf *conf, const char *path, char *errmsg)
{
    int i;

    conf->n_voters =
        rf_voters_parse(conf->voters_text, conf->voters, RF_NODE_MAX_VOTERS);
    for (i = 0; i < conf->n_voters; i++) {
        if (conf->voters[i].id == (uint64_t)conf->node_id) {
            conf->self = &conf->voters[i];
        }
    }
    if (conf->self == NULL) {
        rf_errmsg_set(errmsg,
                      "%s: node.id %lld is not in controller.quorum.voters",
                      path, (long long)conf->node_id);
        return RF_ECONFIG;
    }
    snprintf(conf->raft_address, sizeof(conf->raft_address), "%s:%u",
             conf->self->hp.host, (unsigned)conf->self->hp.port);
    return 0;
}

static int check_cross(struct rf_node_conf *conf,
                       const char *path,
                       char *errmsg)
{
    char name[32];

    if (conf->heartbeat_timeout_ms * 5 > conf->election_timeout_ms) {
        rf_errmsg_set(errmsg,
                      "%s: controller.quorum.heartbeat.timeout.ms (%lld) must "
                      "be <= controller.quorum.election.timeout.ms / 5 (%lld)",
                      path, (long long)conf->heartbeat_timeout_ms,
                      (long long)(conf->election_timeout_ms / 5));
        return RF_ECONFIG;
    }
    if (conf->metadata_log_dir[0] == '\0') {
        rf_errmsg_set(errmsg, "%s: metadata.log.dir must not be empty", path);
        return RF_ECONFIG;
    }
    (void)rf_listener_parse(conf->listeners, name, &conf->rpc);
    if (conf->metrics_listener[0] != '\0') {
        (void)rf_hostport_parse(conf->metrics_listener, &conf->metrics);
    }
    (void)rf_log_level_parse(conf->log_level, &conf->log_level_num);
    return find_self(conf, path, errmsg);
}

int rf_node_conf_load(struct rf_node_conf *conf,
                      const char *path,
                      const char *text,
                      char *errmsg)
{
    int rv;

    memset(conf, 0, sizeof(*conf));
    if (text != NULL) {
        rv = rf_conf_load_string(rf_node_conf_table, conf, text, path, errmsg);
    } else {
        rv = rf_conf_load(rf_node_conf_table, conf, path, errmsg);
    }
    if (rv != 0) {
        return rv;
    }
    return check_cross(conf, path, errmsg);
}

void rf_node_conf_free(struct rf_node_conf *conf)
{
    rf_conf_free(rf_node_conf_table, conf);
}

static int make_dir(const char *dir, const char *what, char *errmsg)
{
    struct stat st;

    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        rf_errmsg_set(errmsg, "%s %s: cannot create: %s", what, dir,
                      strerror(errno));
        return RF_EIO;
    }
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        rf_errmsg_set(errmsg, "%s %s: not a directory", what, dir);
        return RF_EIO;
    }
    if (access(dir, W_OK | X_OK) != 0) {
        rf_errmsg_set(errmsg, "%s %s: not writable: %s", what, dir,
                      strerror(errno));
        return RF_EIO;
    }
    return 0;
}

static int take_lock(const char *dir, int *lock_fd, char *errmsg)
{
    char path[PATH_MAX];
    int fd;

    snprintf(path, sizeof(path), "%s/controller.lock", dir);
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        rf_errmsg_set(errmsg, "metadata.log.dir %s: open controller.lock: %s",
                      dir, strerror(errno));
        return RF_EIO;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        close(fd);
        if (e == EWOULDBLOCK) {
            rf_errmsg_set(errmsg,
                          "metadata.log.dir %s is locked by another "
                          "controller (%s)",
                          dir, path);
            return RF_ELOCKED;
        }
        rf_errmsg_set(errmsg, "metadata.log.dir %s: flock: %s", dir,
                      strerror(e));
        return RF_EIO;
    }
    *lock_fd = fd;
    return 0;
}

int rf_node_dir_prepare(const char *dir,
                        int *lock_fd,
                        char *raft_dir,
                        char *errmsg)
{
    int rv;

    *lock_fd = -1;
    rv = make_dir(dir, "metadata.log.dir", errmsg);
    if (rv != 0) {
        return rv;
    }
    rv = take_lock(dir, lock_fd, errmsg);
    if (rv != 0) {
        return rv;
    }
    snprintf(raft_dir, PATH_MAX, "%s/raft", dir);
    rv = make_dir(raft_dir, "raft dir", errmsg);
    if (rv != 0) {
        close(*lock_fd);
        *lock_fd = -1;
    }
    return rv;
}
