/* obs.c: the broker's metrics (request counters and latencies, bytes per
 * topic, collectors over the partition table, the listener and the
 * controller session) and its /metrics, /healthz, /readyz endpoint.
 *
 * Hot path: series pointers are resolved once per (ApiKey, version) and
 * per topic, then kept in arrays and a small hash table; nothing looks a
 * series up by name per request. Per-partition values are read from the
 * partition table when a scrape renders, never updated as they change. */
#include "obs.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "bmeta.h"
#include "clock.h"
#include "err.h"
#include "http.h"
#include "kconn.h"
#include "log.h"
#include "parts.h"

#define MAX_KEY 64 /* ApiKeys served are below this */
#define MAX_VER 16
#define TOPICS_INIT 64

struct obs_topic {
    char *name; /* owned; NULL: free slot */
    struct rf_metric *in, *out;
};

struct rf_obs {
    struct rf_broker *b;
    struct rf_metrics *m;
    struct rf_http *http;
    struct rf_metric *requests[MAX_KEY][MAX_VER];
    struct rf_metric *latency[MAX_KEY][MAX_VER];
    struct obs_topic *topics; /* open addressing, cap a power of two */
    size_t ntopics, captopics;
};

static void collect(void *data, struct rf_metrics_out *out);

struct rf_obs *rf_obs_new(struct rf_broker *b)
{
    struct rf_obs *o = rf_calloc(1, sizeof *o);
    o->b = b;
    o->m = rf_metrics_new();
    rf_metrics_add_collector(o->m, collect, o);
    return o;
}

void rf_obs_free(struct rf_obs *o)
{
    if (o == NULL)
        return;
    for (size_t i = 0; i < o->captopics; i++)
        rf_free(o->topics[i].name);
    rf_free(o->topics);
    rf_metrics_free(o->m);
    rf_free(o);
}

struct rf_metrics *rf_obs_registry(struct rf_obs *o)
{
    return o->m;
}

/* ---- per request ---- */

static bool slot(const struct rf_kreq *r, size_t *key, size_t *ver)
{
    int16_t k = r->req.hdr.RequestApiKey, v = r->req.hdr.RequestApiVersion;
    if (k < 0 || k >= MAX_KEY || v < 0 || v >= MAX_VER ||
        r->req.api == NULL)
        return false;
    *key = (size_t)k;
    *ver = (size_t)v;
    return true;
}

static void api_labels(char *out, size_t n, const struct rf_kreq *r)
{
    snprintf(out, n, "api=\"%s\",version=\"%d\"", r->req.api->name,
             (int)r->req.hdr.RequestApiVersion);
}

static uint64_t hash_name(const char *p, size_t n)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)p[i]) * 1099511628211ull;
    return h;
}

static struct obs_topic *topic_slot(struct obs_topic *tab, size_t cap,
                                    const char *p, size_t n)
{
    size_t i = (size_t)hash_name(p, n) & (cap - 1);
    while (tab[i].name != NULL &&
           !(strlen(tab[i].name) == n && memcmp(tab[i].name, p, n) == 0))
        i = (i + 1) & (cap - 1);
    return &tab[i];
}

static void topics_grow(struct rf_obs *o)
{
    size_t cap = o->captopics ? o->captopics * 2 : TOPICS_INIT;
    struct obs_topic *tab = rf_calloc(cap, sizeof *tab);
    for (size_t i = 0; i < o->captopics; i++) {
        struct obs_topic *t = &o->topics[i];
        if (t->name != NULL)
            *topic_slot(tab, cap, t->name, strlen(t->name)) = *t;
    }
    rf_free(o->topics);
    o->topics = tab;
    o->captopics = cap;
}

/* The byte counters of topic (p, n), created on first use for a topic the
 * partition table knows (so clients cannot add series with made-up names);
 * NULL for an unknown topic. */
static struct obs_topic *topic_get(struct rf_obs *o, struct rf_kstr name)
{
    char esc[512], labels[600], *copy;
    size_t n = name.len > 0 ? (size_t)name.len : 0;
    struct obs_topic *t;
    if (n == 0 || n > 255)
        return NULL;
    if (o->captopics > 0) {
        t = topic_slot(o->topics, o->captopics, name.ptr, n);
        if (t->name != NULL)
            return t;
    }
    if (o->b->parts == NULL ||
        rf_parts_topic_partitions(o->b->parts, name.ptr, n) <= 0)
        return NULL;
    if ((o->ntopics + 1) * 2 > o->captopics)
        topics_grow(o);
    t = topic_slot(o->topics, o->captopics, name.ptr, n);
    copy = rf_malloc(n + 1);
    memcpy(copy, name.ptr, n);
    copy[n] = '\0';
    t->name = copy;
    o->ntopics++;
    snprintf(labels, sizeof labels, "topic=\"%s\"",
             rf_metrics_label_escape(esc, sizeof esc, copy));
    t->in = rf_metrics_counter(o->m, "riffle_broker_produce_bytes_total",
                               "record batch bytes received in Produce "
                               "requests, per topic",
                               labels);
    t->out = rf_metrics_counter(o->m, "riffle_broker_fetch_bytes_total",
                                "record bytes sent in Fetch responses to "
                                "clients, per topic",
                                labels);
    return t;
}

static void count_produce(struct rf_obs *o, const struct rf_ProduceRequest *req)
{
    for (int32_t i = 0; i < req->TopicData.count; i++) {
        const struct rf_ProduceRequest_TopicProduceData *td =
            &req->TopicData.items[i];
        int64_t bytes = 0;
        for (int32_t j = 0; j < td->PartitionData.count; j++)
            if (td->PartitionData.items[j].Records.len > 0)
                bytes += td->PartitionData.items[j].Records.len;
        struct obs_topic *t = bytes > 0 ? topic_get(o, td->Name) : NULL;
        if (t != NULL)
            rf_metric_inc(t->in, (double)bytes);
    }
}

void rf_obs_request(struct rf_obs *o, const struct rf_kreq *r)
{
    size_t k, v;
    char labels[96];
    if (!slot(r, &k, &v))
        return;
    if (o->requests[k][v] == NULL) {
        api_labels(labels, sizeof labels, r);
        o->requests[k][v] = rf_metrics_counter(
            o->m, "riffle_broker_requests_total",
            "Kafka requests decoded, per API and version", labels);
        o->latency[k][v] = rf_metrics_histogram(
            o->m, "riffle_broker_request_duration_seconds",
            "time from a request frame's arrival to its answer being queued",
            labels, rf_metrics_latency_buckets, rf_metrics_latency_nbuckets);
    }
    rf_metric_inc(o->requests[k][v], 1);
    if (k == RF_API_PRODUCE && r->req.body != NULL)
        count_produce(o, r->req.body);
}

void rf_obs_response(struct rf_obs *o, const struct rf_kreq *r,
                     const void *body)
{
    const struct rf_FetchResponse *resp = body;
    if (r->req.hdr.RequestApiKey != RF_API_FETCH || body == NULL)
        return;
    for (int32_t i = 0; i < resp->Responses.count; i++) {
        const struct rf_FetchResponse_FetchableTopicResponse *tr =
            &resp->Responses.items[i];
        int64_t bytes = 0;
        for (int32_t j = 0; j < tr->Partitions.count; j++)
            if (tr->Partitions.items[j].Records.len > 0)
                bytes += tr->Partitions.items[j].Records.len;
        struct obs_topic *t = bytes > 0 ? topic_get(o, tr->Topic) : NULL;
        if (t != NULL)
            rf_metric_inc(t->out, (double)bytes);
    }
}

void rf_obs_done(struct rf_obs *o, const struct rf_kreq *r)
{
    size_t k, v;
    if (!slot(r, &k, &v) || o->latency[k][v] == NULL)
        return;
    rf_metric_observe(o->latency[k][v],
                      (double)(rf_clock_mono_ns() - r->start_ns) / 1e9);
}

/* ---- collectors (scrape time) ---- */

static void emit_gauge(struct rf_metrics_out *out, const char *name,
                       const char *help, const char *labels, double v)
{
    rf_metrics_emit(out, name, RF_METRIC_GAUGE, help, labels, v);
}

static void part_labels(char *out, size_t n, const struct rf_part *p)
{
    char esc[512];
    snprintf(out, n, "topic=\"%s\",partition=\"%" PRId32 "\"",
             rf_metrics_label_escape(esc, sizeof esc, p->topic), p->index);
}

static int64_t part_hwm(const struct rf_part *p)
{
    return p->high_watermark;
}

/* One gauge per hosted partition with an open log. */
static void emit_per_part(struct rf_metrics_out *out, struct rf_parts *ps,
                          const char *name, const char *help,
                          int64_t (*value)(const struct rf_part *p))
{
    const char *topic;
    struct rf_part *const *v;
    size_t n;
    char labels[600];
    for (size_t i = 0; rf_parts_topic_at(ps, i, &topic, &v, &n); i++) {
        for (size_t j = 0; j < n; j++) {
            if (!v[j]->hosted || v[j]->log == NULL)
                continue;
            part_labels(labels, sizeof labels, v[j]);
            emit_gauge(out, name, help, labels, (double)value(v[j]));
        }
    }
}

static int64_t part_leo(const struct rf_part *p)
{
    return rf_log_end_offset(p->log);
}

static int64_t part_lso(const struct rf_part *p)
{
    return rf_log_start_offset(p->log);
}

static int64_t part_is_leader(const struct rf_part *p)
{
    return p->is_leader ? 1 : 0;
}

static int64_t part_isr(const struct rf_part *p)
{
    return (int64_t)p->n_isr;
}

/* Leader side: records each follower is behind the leader's log end, from
 * its last replica fetch (-1 until it fetched in this leadership). */
static void emit_lag(struct rf_metrics_out *out, struct rf_parts *ps,
                     int32_t self)
{
    const char *topic;
    struct rf_part *const *v;
    size_t n;
    char pl[600], labels[640];
    for (size_t i = 0; rf_parts_topic_at(ps, i, &topic, &v, &n); i++) {
        for (size_t j = 0; j < n; j++) {
            const struct rf_part *p = v[j];
            if (!p->is_leader || p->log == NULL || p->rstate == NULL)
                continue;
            part_labels(pl, sizeof pl, p);
            for (size_t r = 0; r < p->n_replicas; r++) {
                int64_t leo = p->rstate[r].log_end;
                if (p->replicas[r] == self)
                    continue;
                snprintf(labels, sizeof labels, "%s,replica=\"%" PRId32 "\"",
                         pl, p->replicas[r]);
                emit_gauge(out, "riffle_partition_replica_lag_records",
                           "leader: records a follower is behind the "
                           "leader's log end at its last fetch (-1: not "
                           "fetched yet)",
                           labels,
                           leo < 0 ? -1.0
                                   : (double)(rf_log_end_offset(p->log) - leo));
            }
        }
    }
}

struct part_counts {
    size_t hosted, led, under, offline;
};

static void count_parts(struct rf_parts *ps, struct part_counts *c)
{
    const char *topic;
    struct rf_part *const *v;
    size_t n;
    memset(c, 0, sizeof *c);
    for (size_t i = 0; rf_parts_topic_at(ps, i, &topic, &v, &n); i++) {
        for (size_t j = 0; j < n; j++) {
            const struct rf_part *p = v[j];
            if (!p->hosted)
                continue;
            c->hosted++;
            c->led += p->is_leader;
            c->under += p->is_leader && p->n_isr < p->n_replicas;
            c->offline += p->leader < 0;
        }
    }
}

static void collect_parts(struct rf_metrics_out *out, struct rf_broker *b)
{
    struct part_counts c;
    uint64_t shrinks, expands;
    count_parts(b->parts, &c);
    rf_parts_isr_changes(b->parts, &shrinks, &expands);
    rf_metrics_emit(out, "riffle_broker_isr_shrinks_total", RF_METRIC_COUNTER,
                    "ISR members lost by partitions led here (applied from "
                    "metadata: this leader's request or a fenced follower)",
                    NULL, (double)shrinks);
    rf_metrics_emit(out, "riffle_broker_isr_expands_total", RF_METRIC_COUNTER,
                    "ISR members gained by partitions led here", NULL,
                    (double)expands);
    emit_gauge(out, "riffle_broker_partitions",
               "partitions this broker is a replica of", NULL,
               (double)c.hosted);
    emit_gauge(out, "riffle_broker_partitions_led",
               "partitions this broker leads", NULL, (double)c.led);
    emit_gauge(out, "riffle_broker_under_replicated_partitions",
               "partitions led here whose ISR is smaller than their "
               "replica set",
               NULL, (double)c.under);
    emit_gauge(out, "riffle_broker_offline_partitions",
               "partitions hosted here that have no leader", NULL,
               (double)c.offline);
    emit_per_part(out, b->parts, "riffle_partition_high_watermark",
                  "high watermark (a follower's: the leader's last "
                  "reported, capped by its own log end)",
                  part_hwm);
    emit_per_part(out, b->parts, "riffle_partition_log_end_offset",
                  "offset the next appended record gets", part_leo);
    emit_per_part(out, b->parts, "riffle_partition_log_start_offset",
                  "first offset still in the log", part_lso);
    emit_per_part(out, b->parts, "riffle_partition_leader",
                  "1 when this broker leads the partition, else 0",
                  part_is_leader);
    emit_per_part(out, b->parts, "riffle_partition_isr_size",
                  "in-sync replicas in the metadata", part_isr);
    emit_lag(out, b->parts, b->id);
}

static void collect(void *data, struct rf_metrics_out *out)
{
    struct rf_obs *o = data;
    struct rf_broker *b = o->b;
    if (b->listener != NULL) {
        emit_gauge(out, "riffle_broker_connections",
                   "Kafka client connections open", NULL,
                   (double)rf_klistener_connections(b->listener));
        rf_metrics_emit(out, "riffle_broker_connections_accepted_total",
                        RF_METRIC_COUNTER,
                        "Kafka client connections accepted", NULL,
                        (double)rf_klistener_accepted(b->listener));
    }
    if (b->bmeta != NULL) {
        emit_gauge(out, "riffle_broker_epoch",
                   "broker epoch given at registration (0: unregistered)",
                   NULL, (double)rf_bmeta_epoch(b->bmeta));
        emit_gauge(out, "riffle_broker_fenced",
                   "1 while the controllers have this broker fenced", NULL,
                   rf_bmeta_fenced(b->bmeta) ? 1 : 0);
        emit_gauge(out, "riffle_broker_metadata_offset",
                   "metadata log offset this broker has applied", NULL,
                   (double)rf_meta_offset(rf_bmeta_image(b->bmeta)));
    }
    emit_gauge(out, "riffle_broker_ready",
               "1 when /readyz answers 200", NULL,
               rf_obs_not_ready(b) == NULL ? 1 : 0);
    if (b->parts != NULL)
        collect_parts(out, b);
}

/* ---- HTTP ---- */

const char *rf_obs_not_ready(const struct rf_broker *b)
{
    if (b->shutting_down || b->bmeta == NULL)
        return "shutting down";
    if (rf_bmeta_epoch(b->bmeta) <= 0)
        return "not registered with the controllers";
    if (rf_bmeta_fenced(b->bmeta))
        return "fenced by the controllers";
    if (!rf_bmeta_caught_up(b->bmeta))
        return "metadata not caught up";
    return NULL;
}

static void put_str(struct rf_wr *body, const char *s)
{
    rf_wr_bytes(body, s, strlen(s));
}

static int on_http(void *data, const char *path, struct rf_wr *body,
                   const char **content_type)
{
    struct rf_obs *o = data;
    if (strcmp(path, "/metrics") == 0) {
        *content_type = "text/plain; version=0.0.4; charset=utf-8";
        rf_metrics_render(o->m, body);
        return 200;
    }
    if (strcmp(path, "/healthz") == 0) {
        put_str(body, "ok\n"); /* answered on the loop: it turns */
        return 200;
    }
    if (strcmp(path, "/readyz") == 0) {
        const char *why = rf_obs_not_ready(o->b);
        put_str(body, why != NULL ? why : "ready");
        put_str(body, "\n");
        return why != NULL ? 503 : 200;
    }
    put_str(body, "not found: try /metrics, /healthz or /readyz\n");
    return 404;
}

int rf_obs_listen(struct rf_obs *o, const char *host, uint16_t port,
                  char *errmsg)
{
    int rv = rf_http_start(o->b->loop, host, port, on_http, o, &o->http, errmsg);
    if (rv != 0) {
        rf_errmsg_prefix(errmsg, "metrics.listener");
        return rv;
    }
    RF_INFO("metrics listening addr=%s:%u", host,
            (unsigned)rf_http_port(o->http));
    return 0;
}

void rf_obs_stop(struct rf_obs *o)
{
    if (o == NULL || o->http == NULL)
        return;
    rf_http_close(o->http, NULL, NULL);
    o->http = NULL;
}
