/* metrics.c: Prometheus text exposition of counters, gauges, histograms and
 * collector-emitted samples. */
#include "metrics.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"

const double rf_metrics_latency_buckets[] = {0.0001, 0.00025, 0.0005, 0.001,
                                             0.0025, 0.005,   0.01,   0.025,
                                             0.05,   0.1,     0.25,   0.5,
                                             1,      2.5,     5,      10};
const size_t rf_metrics_latency_nbuckets =
    sizeof rf_metrics_latency_buckets / sizeof rf_metrics_latency_buckets[0];

struct rf_metric {
    char *labels; /* owned, "" when none */
    double value; /* counter/gauge value; histogram sum */
    uint64_t count;      /* histogram */
    uint64_t *buckets;   /* histogram: per bound, not cumulative; owned */
    struct rf_metric_family *fam;
};

struct rf_metric_family {
    char *name;
    char *help;
    enum rf_metric_type type;
    double *bounds; /* histograms; owned */
    size_t nbounds;
    struct rf_metric **series; /* owned */
    size_t nseries, capseries;
};

struct collector {
    rf_metrics_collect_cb cb;
    void *data;
};

struct rf_metrics {
    struct rf_metric_family **fams; /* sorted by name */
    size_t nfams, capfams;
    struct collector *cols;
    size_t ncols;
};

struct rf_metrics_out {
    struct rf_wr *wr;
    char last[128]; /* name of the family the previous sample belonged to */
};

struct rf_metrics *rf_metrics_new(void)
{
    return rf_calloc(1, sizeof(struct rf_metrics));
}

void rf_metrics_free(struct rf_metrics *m)
{
    if (m == NULL)
        return;
    for (size_t i = 0; i < m->nfams; i++) {
        struct rf_metric_family *f = m->fams[i];
        for (size_t j = 0; j < f->nseries; j++) {
            rf_free(f->series[j]->labels);
            rf_free(f->series[j]->buckets);
            rf_free(f->series[j]);
        }
        rf_free(f->series);
        rf_free(f->name);
        rf_free(f->help);
        rf_free(f->bounds);
        rf_free(f);
    }
    rf_free(m->fams);
    rf_free(m->cols);
    rf_free(m);
}

static bool name_valid(const char *name)
{
    if (name == NULL || !(isalpha((unsigned char)name[0]) || name[0] == '_' ||
                          name[0] == ':'))
        return false;
    for (const char *p = name; *p; p++) {
        if (!isalnum((unsigned char)*p) && *p != '_' && *p != ':')
            return false;
    }
    return strlen(name) < 128;
}

static struct rf_metric_family *family(struct rf_metrics *m, const char *name,
                                       const char *help,
                                       enum rf_metric_type type)
{
    size_t lo = 0, hi = m->nfams;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(m->fams[mid]->name, name);
        if (c == 0)
            return m->fams[mid]->type == type ? m->fams[mid] : NULL;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    struct rf_metric_family *f = rf_calloc(1, sizeof *f);
    f->name = rf_strdup(name);
    f->help = rf_strdup(help ? help : "");
    f->type = type;
    if (m->nfams == m->capfams) {
        m->capfams = m->capfams ? m->capfams * 2 : 32;
        m->fams = rf_realloc(m->fams, m->capfams * sizeof *m->fams);
    }
    memmove(&m->fams[lo + 1], &m->fams[lo], (m->nfams - lo) * sizeof *m->fams);
    m->fams[lo] = f;
    m->nfams++;
    return f;
}

static struct rf_metric *series(struct rf_metrics *m, const char *name,
                                const char *help, enum rf_metric_type type,
                                const char *labels)
{
    struct rf_metric_family *f;
    struct rf_metric *s;
    if (!name_valid(name))
        return NULL;
    f = family(m, name, help, type);
    if (f == NULL)
        return NULL;
    if (labels == NULL)
        labels = "";
    for (size_t i = 0; i < f->nseries; i++) {
        if (strcmp(f->series[i]->labels, labels) == 0)
            return f->series[i];
    }
    s = rf_calloc(1, sizeof *s);
    s->labels = rf_strdup(labels);
    s->fam = f;
    if (f->nseries == f->capseries) {
        f->capseries = f->capseries ? f->capseries * 2 : 4;
        f->series = rf_realloc(f->series, f->capseries * sizeof *f->series);
    }
    f->series[f->nseries++] = s;
    return s;
}

struct rf_metric *rf_metrics_counter(struct rf_metrics *m, const char *name,
                                     const char *help, const char *labels)
{
    return series(m, name, help, RF_METRIC_COUNTER, labels);
}

struct rf_metric *rf_metrics_gauge(struct rf_metrics *m, const char *name,
                                   const char *help, const char *labels)
{
    return series(m, name, help, RF_METRIC_GAUGE, labels);
}

struct rf_metric *rf_metrics_histogram(struct rf_metrics *m, const char *name,
                                       const char *help, const char *labels,
                                       const double *bounds, size_t n)
{
    struct rf_metric *s = series(m, name, help, RF_METRIC_HISTOGRAM, labels);
    if (s == NULL)
        return NULL;
    if (s->fam->bounds == NULL) {
        s->fam->bounds = rf_malloc((n ? n : 1) * sizeof(double));
        memcpy(s->fam->bounds, bounds, n * sizeof(double));
        s->fam->nbounds = n;
    }
    if (s->buckets == NULL)
        s->buckets = rf_calloc(s->fam->nbounds + 1, sizeof(uint64_t));
    return s;
}

void rf_metric_inc(struct rf_metric *c, double by)
{
    if (by > 0)
        c->value += by;
}

void rf_metric_set(struct rf_metric *g, double v)
{
    g->value = v;
}

void rf_metric_add(struct rf_metric *g, double by)
{
    g->value += by;
}

void rf_metric_observe(struct rf_metric *h, double v)
{
    size_t i = 0;
    const struct rf_metric_family *f = h->fam;
    while (i < f->nbounds && v > f->bounds[i])
        i++;
    h->buckets[i]++; /* i == nbounds: the +Inf bucket */
    h->count++;
    h->value += v;
}

double rf_metric_value(const struct rf_metric *s)
{
    return s->value;
}

void rf_metrics_add_collector(struct rf_metrics *m, rf_metrics_collect_cb cb,
                              void *data)
{
    m->cols = rf_realloc(m->cols, (m->ncols + 1) * sizeof *m->cols);
    m->cols[m->ncols].cb = cb;
    m->cols[m->ncols].data = data;
    m->ncols++;
}

/* ---- rendering ---- */

static void put(struct rf_wr *wr, const char *s)
{
    rf_wr_bytes(wr, s, strlen(s));
}

/* The shortest decimal form of v that reads back as v. */
static void fmt_double(char *buf, size_t n, double v)
{
    if (isnan(v)) {
        snprintf(buf, n, "NaN");
        return;
    }
    if (isinf(v)) {
        snprintf(buf, n, v > 0 ? "+Inf" : "-Inf");
        return;
    }
    if (v == (double)(long long)v && fabs(v) < 1e15) {
        snprintf(buf, n, "%lld", (long long)v);
        return;
    }
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, n, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            return;
    }
}

static void put_value(struct rf_wr *wr, double v)
{
    char buf[40];
    fmt_double(buf, sizeof buf, v);
    put(wr, buf);
}

static const char *type_name(enum rf_metric_type t)
{
    return t == RF_METRIC_COUNTER ? "counter"
           : t == RF_METRIC_GAUGE ? "gauge"
                                  : "histogram";
}

/* HELP text escaping: backslash and newline. */
static void put_help(struct rf_wr *wr, const char *name, const char *help,
                     enum rf_metric_type type)
{
    put(wr, "# HELP ");
    put(wr, name);
    put(wr, " ");
    for (const char *p = help; *p; p++) {
        if (*p == '\\')
            put(wr, "\\\\");
        else if (*p == '\n')
            put(wr, "\\n");
        else
            rf_wr_u8(wr, (uint8_t)*p);
    }
    put(wr, "\n# TYPE ");
    put(wr, name);
    put(wr, " ");
    put(wr, type_name(type));
    put(wr, "\n");
}

/* name[suffix]{labels[,extra]} value */
static void put_sample(struct rf_wr *wr, const char *name, const char *suffix,
                       const char *labels, const char *extra, double v)
{
    put(wr, name);
    put(wr, suffix);
    if (labels[0] || extra) {
        put(wr, "{");
        put(wr, labels);
        if (extra) {
            if (labels[0])
                put(wr, ",");
            put(wr, extra);
        }
        put(wr, "}");
    }
    put(wr, " ");
    put_value(wr, v);
    put(wr, "\n");
}

static void render_histogram(struct rf_wr *wr, const struct rf_metric *s)
{
    const struct rf_metric_family *f = s->fam;
    uint64_t cum = 0;
    char le[64], num[40];
    for (size_t i = 0; i <= f->nbounds; i++) {
        cum += s->buckets[i];
        if (i < f->nbounds)
            fmt_double(num, sizeof num, f->bounds[i]);
        else
            snprintf(num, sizeof num, "+Inf");
        snprintf(le, sizeof le, "le=\"%s\"", num);
        put_sample(wr, f->name, "_bucket", s->labels, le, (double)cum);
    }
    put_sample(wr, f->name, "_sum", s->labels, NULL, s->value);
    put_sample(wr, f->name, "_count", s->labels, NULL, (double)s->count);
}

void rf_metrics_render(struct rf_metrics *m, struct rf_wr *wr)
{
    struct rf_metrics_out out = {wr, ""};
    for (size_t i = 0; i < m->nfams; i++) {
        const struct rf_metric_family *f = m->fams[i];
        put_help(wr, f->name, f->help, f->type);
        for (size_t j = 0; j < f->nseries; j++) {
            if (f->type == RF_METRIC_HISTOGRAM)
                render_histogram(wr, f->series[j]);
            else
                put_sample(wr, f->name, "", f->series[j]->labels, NULL,
                           f->series[j]->value);
        }
    }
    for (size_t i = 0; i < m->ncols; i++)
        m->cols[i].cb(m->cols[i].data, &out);
}

void rf_metrics_emit(struct rf_metrics_out *out, const char *name,
                     enum rf_metric_type type, const char *help,
                     const char *labels, double value)
{
    if (!name_valid(name) || type == RF_METRIC_HISTOGRAM)
        return;
    if (strcmp(out->last, name) != 0) {
        put_help(out->wr, name, help ? help : "", type);
        snprintf(out->last, sizeof out->last, "%s", name);
    }
    put_sample(out->wr, name, "", labels ? labels : "", NULL, value);
}

char *rf_metrics_label_escape(char *out, size_t outsz, const char *value)
{
    size_t o = 0;
    if (outsz == 0)
        return out;
    for (const char *p = value; *p; p++) {
        const char *rep = *p == '\\' ? "\\\\" : *p == '"' ? "\\\"" : *p == '\n' ? "\\n" : NULL;
        size_t need = rep ? 2 : 1;
        if (o + need >= outsz)
            break;
        if (rep) {
            out[o++] = rep[0];
            out[o++] = rep[1];
        } else {
            out[o++] = *p;
        }
    }
    out[o] = '\0';
    return out;
}
