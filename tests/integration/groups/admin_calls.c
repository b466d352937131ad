/* admin_calls.c: librdkafka's group admin calls against a broker, for
 * test_groups.py admin: rd_kafka_ListConsumerGroups (ListGroups v4) and
 * rd_kafka_ListConsumerGroupOffsets without a partition list (OffsetFetch
 * for all topics). librdkafka 2.0.2 sends both with bytes after the body,
 * which Kafka brokers ignore; Riffle must answer them too.
 *
 * Usage: admin_calls BOOTSTRAP GROUP
 * Prints "group NAME STATE" per listed group, then "offset TOPIC PARTITION
 * OFFSET" per committed offset of GROUP; exits 1 with a line on stderr if a
 * call fails or times out. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#define TIMEOUT_MS 20000

/* Wait for the admin result of type want on q; NULL (and a message) on
 * timeout or error. */
static rd_kafka_event_t *wait_result(rd_kafka_queue_t *q,
                                     rd_kafka_event_type_t want,
                                     const char *what)
{
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, TIMEOUT_MS);
    if (ev == NULL) {
        fprintf(stderr, "admin_calls: %s: timed out\n", what);
        return NULL;
    }
    if (rd_kafka_event_type(ev) != want || rd_kafka_event_error(ev)) {
        fprintf(stderr, "admin_calls: %s: %s\n", what,
                rd_kafka_event_error_string(ev));
        rd_kafka_event_destroy(ev);
        return NULL;
    }
    return ev;
}

static int list_groups(rd_kafka_t *rk, rd_kafka_queue_t *q)
{
    const rd_kafka_ConsumerGroupListing_t **valid;
    const rd_kafka_error_t **errs;
    size_t n, nerr;
    rd_kafka_ListConsumerGroups(rk, NULL, q);
    rd_kafka_event_t *ev = wait_result(
        q, RD_KAFKA_EVENT_LISTCONSUMERGROUPS_RESULT, "ListConsumerGroups");
    if (ev == NULL)
        return 1;
    const rd_kafka_ListConsumerGroups_result_t *res =
        rd_kafka_event_ListConsumerGroups_result(ev);
    errs = rd_kafka_ListConsumerGroups_result_errors(res, &nerr);
    for (size_t i = 0; i < nerr; i++)
        fprintf(stderr, "admin_calls: ListConsumerGroups: %s\n",
                rd_kafka_error_string(errs[i]));
    valid = rd_kafka_ListConsumerGroups_result_valid(res, &n);
    for (size_t i = 0; i < n; i++)
        printf("group %s %s\n", rd_kafka_ConsumerGroupListing_group_id(valid[i]),
               rd_kafka_consumer_group_state_name(
                   rd_kafka_ConsumerGroupListing_state(valid[i])));
    rd_kafka_event_destroy(ev);
    return nerr > 0;
}

static int list_offsets(rd_kafka_t *rk, rd_kafka_queue_t *q, const char *group)
{
    rd_kafka_ListConsumerGroupOffsets_t *req =
        rd_kafka_ListConsumerGroupOffsets_new(group, NULL);
    size_t n;
    int rc = 0;
    rd_kafka_ListConsumerGroupOffsets(rk, &req, 1, NULL, q);
    rd_kafka_ListConsumerGroupOffsets_destroy(req);
    rd_kafka_event_t *ev =
        wait_result(q, RD_KAFKA_EVENT_LISTCONSUMERGROUPOFFSETS_RESULT,
                    "ListConsumerGroupOffsets");
    if (ev == NULL)
        return 1;
    const rd_kafka_group_result_t **groups =
        rd_kafka_ListConsumerGroupOffsets_result_groups(
            rd_kafka_event_ListConsumerGroupOffsets_result(ev), &n);
    for (size_t i = 0; i < n; i++) {
        const rd_kafka_error_t *err = rd_kafka_group_result_error(groups[i]);
        if (err != NULL) {
            fprintf(stderr, "admin_calls: offsets of %s: %s\n", group,
                    rd_kafka_error_string(err));
            rc = 1;
            continue;
        }
        const rd_kafka_topic_partition_list_t *parts =
            rd_kafka_group_result_partitions(groups[i]);
        for (int j = 0; parts != NULL && j < parts->cnt; j++)
            printf("offset %s %" PRId32 " %" PRId64 "\n",
                   parts->elems[j].topic, parts->elems[j].partition,
                   parts->elems[j].offset);
    }
    rd_kafka_event_destroy(ev);
    return rc;
}

int main(int argc, char **argv)
{
    char err[256];
    if (argc != 3) {
        fprintf(stderr, "usage: admin_calls BOOTSTRAP GROUP\n");
        return 2;
    }
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", argv[1], err,
                          sizeof err) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "admin_calls: %s\n", err);
        rd_kafka_conf_destroy(conf);
        return 2;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (rk == NULL) {
        fprintf(stderr, "admin_calls: %s\n", err);
        return 1;
    }
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    int rc = list_groups(rk, q);
    rc |= list_offsets(rk, q, argv[2]);
    rd_kafka_queue_destroy(q);
    rd_kafka_destroy(rk);
    fflush(stdout);
    return rc;
}
