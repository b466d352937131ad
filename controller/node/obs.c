/* obs.c: riffle-controller's metrics and its /metrics, /healthz, /readyz
 * endpoint (metrics.listener, docs/metrics.md).
 *
 * Every value is read from the raft state and the metadata image when a
 * scrape renders (one collector); nothing is updated on the raft path.
 * Failure modes: a listener that cannot bind is a start-up error. */
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "node_int.h"

static void gauge(struct rf_metrics_out *out, const char *name,
                  const char *help, const char *labels, double v)
{
    rf_metrics_emit(out, name, RF_METRIC_GAUGE, help, labels, v);
}

static void collect_raft(struct rf_node *node, struct rf_metrics_out *out)
{
    static const char *const states[] = {"follower", "candidate", "leader",
                                         "unavailable"};
    const char *role = rf__node_role(node);
    char labels[64];
    for (size_t i = 0; i < sizeof states / sizeof states[0]; i++) {
        snprintf(labels, sizeof labels, "state=\"%s\"", states[i]);
        gauge(out, "riffle_controller_raft_state",
              "1 for this voter's current raft state, 0 for the others",
              labels, strcmp(role, states[i]) == 0 ? 1 : 0);
    }
    gauge(out, "riffle_controller_raft_term", "current raft term", NULL,
          (double)node->raft.current_term);
    gauge(out, "riffle_controller_raft_commit_index",
          "highest raft log index known committed", NULL,
          (double)node->raft.commit_index);
    gauge(out, "riffle_controller_raft_last_applied",
          "highest raft log index applied to the metadata image", NULL,
          (double)node->raft.last_applied);
    gauge(out, "riffle_controller_raft_last_index",
          "last raft log index this voter holds", NULL,
          (double)raft_last_index(&node->raft));
    gauge(out, "riffle_controller_raft_leader_id",
          "id of the raft leader this voter knows (0: none)", NULL,
          (double)node->leader_id);
    gauge(out, "riffle_controller_active",
          "1 on the active controller (leader with its barrier applied)",
          NULL, node->active ? 1 : 0);
    gauge(out, "riffle_controller_metadata_offset",
          "metadata image offset (the last applied command's index)", NULL,
          (double)rf_meta_offset(node->img));
}

static void collect_brokers(struct rf_node *node, struct rf_metrics_out *out)
{
    size_t n[3] = {0, 0, 0}; /* by Riffle__BrokerState */
    static const char *const names[] = {"fenced", "unfenced",
                                        "controlled_shutdown"};
    struct rf_meta_broker b;
    char labels[64];
    for (size_t i = 0; rf_meta_broker_at(node->img, i, &b); i++) {
        if ((size_t)b.state < 3) {
            n[b.state]++;
        }
    }
    gauge(out, "riffle_controller_brokers_registered",
          "brokers in the metadata image", NULL,
          (double)rf_meta_broker_count(node->img));
    for (size_t i = 0; i < 3; i++) {
        snprintf(labels, sizeof labels, "state=\"%s\"", names[i]);
        gauge(out, "riffle_controller_brokers",
              "registered brokers by state", labels, (double)n[i]);
    }
}

static void collect_topics(struct rf_node *node, struct rf_metrics_out *out)
{
    struct rf_meta_topic t;
    struct rf_meta_partition p;
    size_t parts = 0, offline = 0, under = 0;
    for (size_t i = 0; rf_meta_topic_at(node->img, i, &t); i++) {
        for (int32_t j = 0; j < t.n_partitions; j++) {
            if (!rf_meta_partition_get(node->img, &t.id, j, &p)) {
                continue;
            }
            parts++;
            offline += p.leader < 0;
            under += p.n_isr < p.n_replicas;
        }
    }
    gauge(out, "riffle_controller_topics", "topics in the metadata image",
          NULL, (double)rf_meta_topic_count(node->img));
    gauge(out, "riffle_controller_partitions",
          "partitions in the metadata image", NULL, (double)parts);
    gauge(out, "riffle_controller_offline_partitions",
          "partitions without a leader", NULL, (double)offline);
    gauge(out, "riffle_controller_under_replicated_partitions",
          "partitions whose ISR is smaller than their replica set", NULL,
          (double)under);
}

static const char *not_ready(const struct rf_node *node)
{
    if (node->stopping) {
        return "shutting down";
    }
    if (node->leader_id == 0) {
        return "no known raft leader";
    }
    return NULL;
}

static void collect(void *data, struct rf_metrics_out *out)
{
    struct rf_node *node = data;
    collect_raft(node, out);
    collect_brokers(node, out);
    collect_topics(node, out);
    gauge(out, "riffle_controller_ready", "1 when /readyz answers 200", NULL,
          not_ready(node) == NULL ? 1 : 0);
}

static void put_str(struct rf_wr *body, const char *s)
{
    rf_wr_bytes(body, s, strlen(s));
}

static int on_http(void *data, const char *path, struct rf_wr *body,
                   const char **content_type)
{
    struct rf_node *node = data;
    if (strcmp(path, "/metrics") == 0) {
        *content_type = "text/plain; version=0.0.4; charset=utf-8";
        rf_metrics_render(node->metrics, body);
        return 200;
    }
    if (strcmp(path, "/healthz") == 0) {
        put_str(body, "ok\n"); /* answered on the loop: it turns */
        return 200;
    }
    if (strcmp(path, "/readyz") == 0) {
        const char *why = not_ready(node);
        put_str(body, why != NULL ? why : "ready");
        put_str(body, "\n");
        return why != NULL ? 503 : 200;
    }
    put_str(body, "not found: try /metrics, /healthz or /readyz\n");
    return 404;
}

int rf__node_obs_start(struct rf_node *node, char *errmsg)
{
    const struct rf_hostport *hp = &node->conf->metrics;
    int rv;
    if (hp->port == 0) {
        return 0;
    }
    node->metrics = rf_metrics_new();
    rf_metrics_add_collector(node->metrics, collect, node);
    rv = rf_http_start(&node->loop, hp->host, hp->port, on_http, node,
                       &node->http, errmsg);
    if (rv != 0) {
        rf_errmsg_prefix(errmsg, "metrics.listener");
        return rv;
    }
    RF_INFO("metrics listening addr=%s:%u", hp->host,
            (unsigned)rf_http_port(node->http));
    return 0;
}

void rf__node_obs_stop(struct rf_node *node)
{
    if (node->http == NULL) {
        return;
    }
    rf_http_close(node->http, NULL, NULL);
    node->http = NULL;
}

void rf__node_obs_free(struct rf_node *node)
{
    rf_metrics_free(node->metrics);
    node->metrics = NULL;
}
