/* api_table.h: the Kafka APIs and version ranges this broker serves, one row
 * per API: {ApiKey, min, max, first flexible version, handler}. */
#ifndef RF_KAFKA_API_TABLE_H
#define RF_KAFKA_API_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kafka_msgs.h"

struct rf_kafka_conn; /* the listener's per-connection state */
struct rf_kafka_req;  /* header.h */

/* Serves one decoded request; the listener defines the contract. */
typedef int (*rf_kafka_handler_cb)(struct rf_kafka_conn *conn,
                                   struct rf_kafka_req *req);

struct rf_kafka_api {
    int16_t ApiKey;
    const char *name;       /* "Produce" */
    int16_t MinVersion;     /* advertised range, every version implemented */
    int16_t MaxVersion;
    int16_t FlexibleFrom;   /* first flexible version; INT16_MAX = none */
    /* Codec descriptors; their version range may be wider than the
     * advertised one (Produce: the codec does 0-7, we advertise 3-7). */
    const struct rf_kmsg *request;
    const struct rf_kmsg *response;
    rf_kafka_handler_cb handler; /* NULL until the front-end registers it */
};

#define RF_KAFKA_NO_FLEX INT16_MAX

/* Row for key, or NULL when the API is not served. */
const struct rf_kafka_api *rf_kafka_api_find(int16_t key);

/* Rows in ApiKey order; *n gets the count. Every broker advertises exactly
 * this list (kafkajs reuses the seed broker's answer for all brokers). */
const struct rf_kafka_api *rf_kafka_api_all(size_t *n);

/* Whether ver is inside the advertised range of api. */
static inline bool rf_kafka_api_supports(const struct rf_kafka_api *api,
                                         int16_t ver)
{
    return ver >= api->MinVersion && ver <= api->MaxVersion;
}

/* Flexible request header (v2) / response header (v1) for this version?
 * Versions above the range are flexible when the API ever is (so an
 * ApiVersions v4 header can still be parsed). */
static inline bool rf_kafka_api_flexible(const struct rf_kafka_api *api,
                                         int16_t ver)
{
    return ver >= api->FlexibleFrom;
}

/* Register the handler of key (process start-up, before serving).
 * Returns RF_ENOENT when key is not in the table. */
int rf_kafka_api_set_handler(int16_t key, rf_kafka_handler_cb cb);

/* Fill resp->ApiKeys with the table (items allocated in arena) and zero the
 * rest: the body of every ApiVersions answer. RF_ETOOBIG if arena is full. */
int rf_kafka_api_versions_fill(struct rf_ApiVersionsResponse *resp,
                               struct rf_arena *arena);

#endif
