/* metrics.h: a registry of counters, gauges and histograms, rendered in the
 * Prometheus text exposition format (version 0.0.4).
 *
 * Loop-thread only: the HTTP endpoint that renders it (common/http.h) runs
 * on the same libuv loop, so nothing here takes a lock. Series are created
 * once (at start-up, or the first time a label set is seen) and their
 * pointers kept by the code that updates them; rendering walks families in
 * name order. Series whose set changes all the time (one per partition) are
 * better produced by a collector at scrape time. */
#ifndef RF_METRICS_H
#define RF_METRICS_H

#include <stddef.h>

#include "buf.h"

struct rf_metrics;
struct rf_metric;
struct rf_metrics_out;

enum rf_metric_type {
    RF_METRIC_COUNTER,
    RF_METRIC_GAUGE,
    RF_METRIC_HISTOGRAM,
};

/* Returns an owned registry; free with rf_metrics_free(). */
struct rf_metrics *rf_metrics_new(void);
void rf_metrics_free(struct rf_metrics *m);

/* Find or create the series name{labels}. name must match
 * [a-zA-Z_:][a-zA-Z0-9_:]*; labels is NULL or the inside of the braces,
 * e.g. "api=\"Produce\",version=\"7\"" (values escaped with
 * rf_metrics_label_escape). help is used when the family is first created.
 * Strings are copied. Returns NULL when name is invalid or the family
 * exists with another type (a programming error the caller should assert
 * on). */
struct rf_metric *rf_metrics_counter(struct rf_metrics *m, const char *name,
                                     const char *help, const char *labels);
struct rf_metric *rf_metrics_gauge(struct rf_metrics *m, const char *name,
                                   const char *help, const char *labels);
/* bounds: n ascending upper bounds (copied); +Inf is implied. All series of
 * a family should use the same bounds. */
struct rf_metric *rf_metrics_histogram(struct rf_metrics *m, const char *name,
                                       const char *help, const char *labels,
                                       const double *bounds, size_t n);

void rf_metric_inc(struct rf_metric *c, double by); /* counters, by >= 0 */
void rf_metric_set(struct rf_metric *g, double v);  /* gauges */
void rf_metric_add(struct rf_metric *g, double by); /* gauges */
void rf_metric_observe(struct rf_metric *h, double v); /* histograms */
double rf_metric_value(const struct rf_metric *s); /* counter/gauge value */

/* Latency buckets in seconds, 0.1 ms .. 10 s (for *_seconds histograms). */
extern const double rf_metrics_latency_buckets[];
extern const size_t rf_metrics_latency_nbuckets;

/* Collectors run at every render, after the registered series, and emit
 * samples computed then (per-partition gauges and the like). */
typedef void (*rf_metrics_collect_cb)(void *data, struct rf_metrics_out *out);
void rf_metrics_add_collector(struct rf_metrics *m, rf_metrics_collect_cb cb,
                              void *data);
/* One sample from a collector; HELP/TYPE lines are written before the first
 * sample of each run of the same name. type: RF_METRIC_COUNTER or GAUGE. */
void rf_metrics_emit(struct rf_metrics_out *out, const char *name,
                     enum rf_metric_type type, const char *help,
                     const char *labels, double value);

/* Append the whole exposition to wr. */
void rf_metrics_render(struct rf_metrics *m, struct rf_wr *wr);

/* Escape a label value (\\ \" and newline) into out, always NUL-terminated,
 * truncated to fit. Returns out. */
char *rf_metrics_label_escape(char *out, size_t outsz, const char *value);

#endif
