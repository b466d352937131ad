/* main.c: riffle-broker: parse arguments, load the configuration, wire the
 * modules (metadata follower, partition table, flusher, Kafka listener) and
 * run the loop. SIGTERM/SIGINT: controlled shutdown (leaderships move
 * away), stop serving, close the logs cleanly (flushed, clean-shutdown
 * marker), exit 0. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "bmeta.h"
#include "config.h"
#include "err.h"
#include "flush.h"
#include "kconn.h"
#include "log.h"
#include "obs.h"
#include "parts.h"
#include "repl.h"
#include "server.h"
#include "uuid.h"

/* SIGTERM: controlled shutdown for at most CS_TIMEOUT_MS, then in-flight
 * requests get DRAIN_MS to be answered; past EXIT_TIMEOUT_MS the process
 * exits at once (the next start recovers the logs as after a crash). */
#define CS_TIMEOUT_MS 10000u
#define DRAIN_MS 3000u
#define EXIT_TIMEOUT_MS 20000u

struct app {
    uv_loop_t loop;
    struct rf_broker_conf conf;
    struct rf_broker b;
    struct rf_repl *repl; /* NULL without a REPLICATION listener */
    uv_signal_t sigterm, sigint;
    uv_timer_t exit_timer;
    int lock_fd;
    int exit_code;
    bool stopping;
    bool serving_stopped;
};

static void usage(FILE *f)
{
    fprintf(f, "usage: riffle-broker --config FILE\n"
               "  A Riffle broker: serves Kafka clients and stores partition "
               "logs.\n\nkeys (docs/configuration.md):\n");
    for (const struct rf_conf_opt *o = rf_broker_conf_table; o->name; o++)
        fprintf(f, "  %-36s %-12s %s\n", o->name,
                o->def != NULL ? (o->def[0] ? o->def : "\"\"") : "(req.)",
                o->doc);
}

/* Create log.dirs if needed and lock it so that two brokers never share it. */
static int prepare_dir(const char *dir, int *lock_fd, char *errmsg)
{
    char path[PATH_MAX];
    struct stat st;
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        rf_errmsg_set(errmsg, "log.dirs %s: cannot create: %s", dir,
                      strerror(errno));
        return RF_EIO;
    }
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        rf_errmsg_set(errmsg, "log.dirs %s: not a directory", dir);
        return RF_EIO;
    }
    snprintf(path, sizeof path, "%s/broker.lock", dir);
    *lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (*lock_fd < 0) {
        rf_errmsg_set(errmsg, "log.dirs %s: not writable: %s", dir,
                      strerror(errno));
        return RF_EIO;
    }
    if (flock(*lock_fd, LOCK_EX | LOCK_NB) != 0) {
        rf_errmsg_set(errmsg,
                      "log.dirs %s: locked by another broker process", dir);
        close(*lock_fd);
        *lock_fd = -1;
        return RF_ELOCKED;
    }
    return 0;
}

/* Every hosted partition keeps its active segment open: lift the soft fd
 * limit to the hard one (a common default of 1024 would stop a broker at
 * about a thousand partitions). */
static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            RF_WARN("cannot raise the open file limit: %s", strerror(errno));
    }
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
        RF_INFO("open file limit %llu", (unsigned long long)rl.rlim_cur);
}

static void on_metadata(void *data, const struct rf_meta_image *img,
                        int64_t old_offset)
{
    struct app *app = data;
    struct rf_uuid cid;
    (void)old_offset;
    rf_meta_cluster_id(img, &cid);
    if (!rf_uuid_is_zero(&cid))
        rf_uuid_format_b64(&cid, app->b.cluster_id);
    rf_parts_sync(app->b.parts, img);
    if (app->repl != NULL)
        rf_repl_sync(app->repl, img);
}

static void walk_close(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

static void bmeta_closed(void *data)
{
    struct app *app = data;
    app->b.bmeta = NULL;
    rf_flusher_close(app->b.flusher);
    app->b.flusher = NULL;
    uv_close((uv_handle_t *)&app->sigterm, NULL);
    uv_close((uv_handle_t *)&app->sigint, NULL);
    uv_close((uv_handle_t *)&app->exit_timer, NULL);
}

static void listener_closed(void *data)
{
    struct app *app = data;
    app->b.listener = NULL;
    rf_repl_close(app->repl); /* before the logs close */
    app->repl = NULL;
    rf_parts_free(app->b.parts); /* syncs and marks every log clean */
    app->b.parts = NULL;
    rf_bmeta_close(app->b.bmeta, bmeta_closed, app);
}

static void stop_serving(struct app *app)
{
    if (app->serving_stopped)
        return;
    app->serving_stopped = true;
    rf_obs_stop(app->b.obs);
    rf_api_group_stop(&app->b); /* answers held group requests */
    if (app->b.listener)
        rf_klistener_close(app->b.listener, DRAIN_MS, listener_closed, app);
    else
        listener_closed(app);
}

static void on_controlled_shutdown(void *data, int status)
{
    struct app *app = data;
    if (status != 0)
        RF_WARN("controlled shutdown incomplete err=%s: stopping anyway",
                rf_err_name(status));
    stop_serving(app);
}

static void on_exit_timer(uv_timer_t *t)
{
    (void)t;
    RF_ERROR("shutdown took longer than %u ms: exiting now (the logs are "
             "recovered at the next start)",
             EXIT_TIMEOUT_MS);
    _exit(1);
}

static void on_signal(uv_signal_t *s, int signum)
{
    struct app *app = s->data;
    if (app->stopping) {
        RF_WARN("second signal %d: exiting at once", signum);
        _exit(1);
    }
    app->stopping = true;
    app->b.shutting_down = true;
    RF_INFO("shutting down signal=%d broker=%d", signum, app->b.id);
    uv_timer_start(&app->exit_timer, on_exit_timer, EXIT_TIMEOUT_MS, 0);
    rf_bmeta_controlled_shutdown(app->b.bmeta, CS_TIMEOUT_MS,
                                 on_controlled_shutdown, app);
}

static int start_modules(struct app *app, char *errmsg)
{
    struct rf_broker_conf *c = &app->conf;
    struct rf_parts_opts po;
    struct rf_bmeta_opts bo;
    struct rf_klistener_opts ko;
    Riffle__Endpoint eps[2], *epp[2];
    size_t neps = 0;
    int rv;

    rv = rf_flusher_new(&app->loop, 2, &app->b.flusher);
    if (rv != 0) {
        rf_errmsg_set(errmsg, "flusher threads: %s", rf_strerror(rv));
        return rv;
    }
    rf_flusher_set_histogram(
        app->b.flusher,
        rf_metrics_histogram(rf_obs_registry(app->b.obs),
                             "riffle_broker_fsync_seconds",
                             "time the flusher took to sync one job's "
                             "files (fdatasync/fsync)",
                             NULL, rf_metrics_latency_buckets,
                             rf_metrics_latency_nbuckets));
    memset(&po, 0, sizeof po);
    po.broker_id = app->b.id;
    po.log_dir = c->log_dirs;
    rf_log_config_default(&po.log_conf);
    po.log_conf.segment_bytes = (uint64_t)c->segment_bytes;
    po.log_conf.segment_ms = c->segment_ms;
    po.log_conf.retention_ms = c->retention_ms;
    po.log_conf.retention_bytes = c->retention_bytes;
    po.flusher = app->b.flusher;
    rv = rf_parts_new(&app->loop, &po, &app->b.parts);
    if (rv != 0) {
        rf_errmsg_set(errmsg, "partition table: %s", rf_strerror(rv));
        return rv;
    }
    riffle__endpoint__init(&eps[neps]);
    eps[neps].name = "PLAINTEXT";
    eps[neps].host = c->kafka_adv.host;
    eps[neps].port = c->kafka_adv.port;
    neps++;
    if (c->repl_adv.port != 0) {
        riffle__endpoint__init(&eps[neps]);
        eps[neps].name = "REPLICATION";
        eps[neps].host = c->repl_adv.host;
        eps[neps].port = c->repl_adv.port;
        neps++;
    }
    for (size_t i = 0; i < neps; i++)
        epp[i] = &eps[i];
    memset(&bo, 0, sizeof bo);
    bo.broker_id = app->b.id;
    bo.controllers = c->controllers;
    bo.n_controllers = c->n_controllers;
    bo.endpoints = (const Riffle__Endpoint *const *)epp;
    bo.n_endpoints = neps;
    bo.rack = c->rack;
    bo.heartbeat_interval_ms = (uint32_t)c->heartbeat_interval_ms;
    rv = rf_bmeta_start(&app->loop, &bo, on_metadata, app, &app->b.bmeta);
    if (rv != 0) {
        rf_errmsg_set(errmsg, "controller client: %s", rf_strerror(rv));
        return rv;
    }
    if (c->repl.port != 0) {
        struct rf_repl_opts ro = {.broker_id = app->b.id,
                                  .host = c->repl.host,
                                  .port = c->repl.port,
                                  .replica_lag_time_max_ms =
                                      (uint32_t)c->replica_lag_time_max_ms};
        rv = rf_repl_start(&app->loop, app->b.parts, app->b.bmeta, &ro,
                           &app->repl, errmsg);
        if (rv != 0)
            return rv;
    }
    memset(&ko, 0, sizeof ko);
    ko.max_frame = (uint32_t)c->socket_request_max_bytes;
    ko.max_connections = (uint32_t)c->max_connections;
    ko.idle_timeout_ms = (uint32_t)c->connections_max_idle_ms;
    ko.partial_timeout_ms = (uint32_t)c->request_timeout_ms;
    rv = rf_klistener_start(&app->loop, c->kafka.host, c->kafka.port, &ko,
                            rf_server_on_frame, &app->b, &app->b.listener,
                            errmsg);
    if (rv != 0 || c->metrics.port == 0)
        return rv;
    return rf_obs_listen(app->b.obs, c->metrics.host, c->metrics.port,
                         errmsg);
}

int main(int argc, char **argv)
{
    static struct app app;
    char errmsg[RF_ERRMSG_SIZE] = "";
    const char *config = NULL;
    char proc[32];

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            config = argv[++i];
        } else if (strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "riffle-broker: unknown argument '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    if (config == NULL) {
        usage(stderr);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    /* A stop requested while the broker starts waits for the handlers
     * (threads started meanwhile keep the signals blocked). */
    rf_log_hold_stop_signals(true);
    if (rf_broker_conf_load(&app.conf, config, NULL, errmsg) != 0) {
        fprintf(stderr, "riffle-broker: %s\n", errmsg);
        rf_broker_conf_free(&app.conf);
        return 2;
    }
    rf_log_set_level(app.conf.log_level_num);
    snprintf(proc, sizeof proc, "broker.%d", (int)app.conf.node_id);
    rf_log_set_proc(proc);
    if (prepare_dir(app.conf.log_dirs, &app.lock_fd, errmsg) != 0) {
        fprintf(stderr, "riffle-broker: %s\n", errmsg);
        rf_broker_conf_free(&app.conf);
        return 2;
    }
    rf_conf_log(rf_broker_conf_table, &app.conf);
    raise_fd_limit();
    uv_loop_init(&app.loop);
    app.b.loop = &app.loop;
    app.b.conf = &app.conf;
    app.b.id = (int32_t)app.conf.node_id;
    app.b.limits.max_array = RF_KAFKA_MAX_ARRAY_DEFAULT;
    app.b.obs = rf_obs_new(&app.b);
    uv_signal_init(&app.loop, &app.sigterm);
    uv_signal_init(&app.loop, &app.sigint);
    uv_timer_init(&app.loop, &app.exit_timer);
    app.sigterm.data = app.sigint.data = app.exit_timer.data = &app;
    if (start_modules(&app, errmsg) != 0) {
        fprintf(stderr, "riffle-broker: %s\n", errmsg);
        /* Nothing served yet: close what started and leave. */
        uv_walk(&app.loop, walk_close, NULL);
        uv_run(&app.loop, UV_RUN_DEFAULT);
        _exit(1);
    }
    rf_api_group_start(&app.b);
    uv_signal_start(&app.sigterm, on_signal, SIGTERM);
    uv_signal_start(&app.sigint, on_signal, SIGINT);
    rf_log_hold_stop_signals(false);
    RF_INFO("broker started broker=%d kafka=%s:%u", app.b.id,
            app.conf.kafka.host, app.conf.kafka.port);
    uv_run(&app.loop, UV_RUN_DEFAULT);
    int rv = uv_loop_close(&app.loop);
    if (rv != 0)
        RF_ERROR("loop closed with handles open: %s", uv_strerror(rv));
    rf_obs_free(app.b.obs);
    rf_broker_conf_free(&app.conf);
    close(app.lock_fd);
    RF_INFO("broker stopped");
    return rv == 0 ? 0 : 1;
}
