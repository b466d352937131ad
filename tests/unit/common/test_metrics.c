/* test_metrics.c: the Prometheus text exposition: exact output for each
 * metric type, label escaping, collectors, type clashes, and acceptance by
 * the prometheus_client text parser (a real one, when installed). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "alloc.h"
#include "buf.h"
#include "metrics.h"

static char *render(struct rf_metrics *m)
{
    struct rf_wr wr;
    size_t len;
    rf_wr_init(&wr, 0);
    rf_metrics_render(m, &wr);
    rf_wr_u8(&wr, 0);
    return (char *)rf_wr_steal(&wr, &len);
}

static void test_types_exact(void **state)
{
    static const double b[] = {0.001, 0.01};
    struct rf_metrics *m = rf_metrics_new();
    struct rf_metric *c, *g, *h;
    char *text;
    (void)state;
    c = rf_metrics_counter(m, "riffle_requests_total", "Requests.",
                           "api=\"Produce\"");
    g = rf_metrics_gauge(m, "riffle_connections", "Open connections.", NULL);
    h = rf_metrics_histogram(m, "riffle_request_seconds", "Latency.", NULL, b,
                             2);
    assert_non_null(c);
    assert_ptr_equal(rf_metrics_counter(m, "riffle_requests_total", "x",
                                        "api=\"Produce\""),
                     c); /* same series */
    rf_metric_inc(c, 2);
    rf_metric_inc(c, -5); /* counters never go down */
    rf_metric_set(g, 3);
    rf_metric_add(g, -1);
    rf_metric_observe(h, 0.0005);
    rf_metric_observe(h, 0.005);
    rf_metric_observe(h, 7);
    text = render(m);
    assert_string_equal(text,
                        "# HELP riffle_connections Open connections.\n"
                        "# TYPE riffle_connections gauge\n"
                        "riffle_connections 2\n"
                        "# HELP riffle_request_seconds Latency.\n"
                        "# TYPE riffle_request_seconds histogram\n"
                        "riffle_request_seconds_bucket{le=\"0.001\"} 1\n"
                        "riffle_request_seconds_bucket{le=\"0.01\"} 2\n"
                        "riffle_request_seconds_bucket{le=\"+Inf\"} 3\n"
                        "riffle_request_seconds_sum 7.0055\n"
                        "riffle_request_seconds_count 3\n"
                        "# HELP riffle_requests_total Requests.\n"
                        "# TYPE riffle_requests_total counter\n"
                        "riffle_requests_total{api=\"Produce\"} 2\n");
    rf_free(text);
    rf_metrics_free(m);
}

static void test_bad_names_and_clash(void **state)
{
    struct rf_metrics *m = rf_metrics_new();
    (void)state;
    assert_null(rf_metrics_counter(m, "9lives", "", NULL));
    assert_null(rf_metrics_counter(m, "has space", "", NULL));
    assert_null(rf_metrics_counter(m, "", "", NULL));
    assert_non_null(rf_metrics_counter(m, "a_total", "", NULL));
    assert_null(rf_metrics_gauge(m, "a_total", "", NULL)); /* type clash */
    rf_metrics_free(m);
}

static void test_escape(void **state)
{
    char out[16];
    (void)state;
    assert_string_equal(rf_metrics_label_escape(out, sizeof out, "a\"b\\c\nd"),
                        "a\\\"b\\\\c\\nd");
    rf_metrics_label_escape(out, 4, "abcdef");
    assert_string_equal(out, "abc");
    rf_metrics_label_escape(out, 3, "a\"b"); /* never half an escape */
    assert_string_equal(out, "a");
}

static void collect(void *data, struct rf_metrics_out *out)
{
    int *n = data;
    char labels[64];
    for (int p = 0; p < *n; p++) {
        snprintf(labels, sizeof labels, "topic=\"t\",partition=\"%d\"", p);
        rf_metrics_emit(out, "riffle_partition_high_watermark",
                        RF_METRIC_GAUGE, "High watermark.", labels, 10 * p);
    }
}

static void test_collector(void **state)
{
    struct rf_metrics *m = rf_metrics_new();
    int n = 2;
    char *text;
    (void)state;
    rf_metrics_add_collector(m, collect, &n);
    text = render(m);
    assert_string_equal(
        text, "# HELP riffle_partition_high_watermark High watermark.\n"
              "# TYPE riffle_partition_high_watermark gauge\n"
              "riffle_partition_high_watermark{topic=\"t\",partition=\"0\"} 0\n"
              "riffle_partition_high_watermark{topic=\"t\",partition=\"1\"} 10\n");
    rf_free(text);
    rf_metrics_free(m);
}

/* The real parser (python3-prometheus-client) must accept the output. */
static void test_real_parser(void **state)
{
    struct rf_metrics *m = rf_metrics_new();
    char path[] = "/tmp/rf_metrics_XXXXXX";
    char cmd[1024];
    char *text;
    int fd, rc;
    FILE *f;
    int n = 3;
    (void)state;
    if (access("/usr/lib/python3/dist-packages/prometheus_client", F_OK) != 0)
        skip();
    rf_metric_inc(rf_metrics_counter(m, "x_total", "a \\ b\nc", "k=\"v\\\"\""),
                  1.5);
    rf_metric_observe(rf_metrics_histogram(m, "y_seconds", "h", NULL,
                                           rf_metrics_latency_buckets,
                                           rf_metrics_latency_nbuckets),
                      0.3);
    rf_metrics_add_collector(m, collect, &n);
    text = render(m);
    fd = mkstemp(path);
    assert_true(fd >= 0);
    f = fdopen(fd, "w");
    fputs(text, f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s/check_metrics.py %s",
             RF_TEST_DIR, path);
    rc = system(cmd);
    if (rc != 0)
        fprintf(stderr, "rendered:\n%s", text);
    unlink(path);
    rf_free(text);
    rf_metrics_free(m);
    assert_int_equal(rc, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_types_exact),
        cmocka_unit_test(test_bad_names_and_clash),
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_collector),
        cmocka_unit_test(test_real_parser),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
