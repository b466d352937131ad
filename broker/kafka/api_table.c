/* api_table.c: one row per Kafka API served, with its version range, first
 * flexible version, codec descriptors and handler slot. */
#include "api_table.h"

#include "err.h"

#define ROW(key, nm, lo, hi, flex)                                           \
    {key, #nm, lo, hi, flex, &rf_##nm##Request_msg, &rf_##nm##Response_msg,  \
     NULL}

/* Ranges: shared/notes/kafka-protocol.md §3 (phase 2 set). Low minimums are
 * deliberate: librdkafka 2.0.2 enables features only when these exact
 * versions are inside the range (FindCoordinator 0, InitProducerId 0,
 * Produce 3, Fetch 4); kafka-python needs Metadata 0 and ApiVersions 0. */
static struct rf_kafka_api api_rows[] = {
    /* Produce from 0, not 3: librdkafka 2.0.2 compresses with gzip, snappy
     * and lz4 only when the Produce range contains v0 (its check in
     * rdkafka_msgset_writer.c); with 3-7 it silently sends uncompressed.
     * v0-2 carry the same request layout; they accept record batch v2 only
     * (docs/protocol.md). */
    ROW(RF_API_PRODUCE, Produce, 0, 7, 9),
    ROW(RF_API_FETCH, Fetch, 4, 11, 12),
    ROW(RF_API_LIST_OFFSETS, ListOffsets, 1, 3, 6),
    ROW(RF_API_METADATA, Metadata, 0, 8, 9),
    ROW(RF_API_OFFSET_COMMIT, OffsetCommit, 2, 7, 8),
    ROW(RF_API_OFFSET_FETCH, OffsetFetch, 1, 7, 6),
    ROW(RF_API_FIND_COORDINATOR, FindCoordinator, 0, 2, 3),
    ROW(RF_API_JOIN_GROUP, JoinGroup, 0, 5, 6),
    ROW(RF_API_HEARTBEAT, Heartbeat, 0, 3, 4),
    ROW(RF_API_LEAVE_GROUP, LeaveGroup, 0, 3, 4),
    ROW(RF_API_SYNC_GROUP, SyncGroup, 0, 3, 4),
    ROW(RF_API_DESCRIBE_GROUPS, DescribeGroups, 0, 4, 5),
    ROW(RF_API_LIST_GROUPS, ListGroups, 0, 4, 3),
    ROW(RF_API_API_VERSIONS, ApiVersions, 0, 3, 3),
    ROW(RF_API_CREATE_TOPICS, CreateTopics, 0, 4, 5),
    ROW(RF_API_DELETE_TOPICS, DeleteTopics, 0, 3, 4),
    ROW(RF_API_DELETE_RECORDS, DeleteRecords, 0, 1, 2),
    ROW(RF_API_INIT_PRODUCER_ID, InitProducerId, 0, 4, 2),
    ROW(RF_API_DESCRIBE_CONFIGS, DescribeConfigs, 0, 2, 4),
    ROW(RF_API_CREATE_PARTITIONS, CreatePartitions, 0, 1, 2),
    ROW(RF_API_DELETE_GROUPS, DeleteGroups, 0, 1, 2),
    ROW(RF_API_OFFSET_DELETE, OffsetDelete, 0, 0, RF_KAFKA_NO_FLEX),
};

#define NROWS (sizeof(api_rows) / sizeof(api_rows[0]))

static struct rf_kafka_api *find_row(int16_t key)
{
    for (size_t i = 0; i < NROWS; i++) {
        if (api_rows[i].ApiKey == key) {
            return &api_rows[i];
        }
    }
    return NULL;
}

const struct rf_kafka_api *rf_kafka_api_find(int16_t key)
{
    return find_row(key);
}

const struct rf_kafka_api *rf_kafka_api_all(size_t *n)
{
    *n = NROWS;
    return api_rows;
}

int rf_kafka_api_set_handler(int16_t key, rf_kafka_handler_cb cb)
{
    struct rf_kafka_api *api = find_row(key);
    if (api == NULL) {
        return RF_ENOENT;
    }
    api->handler = cb;
    return 0;
}

int rf_kafka_api_versions_fill(struct rf_ApiVersionsResponse *resp,
                               struct rf_arena *arena)
{
    rf_ApiVersionsResponse_init(resp, 3);
    struct rf_ApiVersionsResponse_ApiVersion *keys =
        rf_arena_alloc(arena, NROWS * sizeof(*keys));
    if (keys == NULL) {
        return RF_ETOOBIG;
    }
    for (size_t i = 0; i < NROWS; i++) {
        keys[i].ApiKey = api_rows[i].ApiKey;
        keys[i].MinVersion = api_rows[i].MinVersion;
        keys[i].MaxVersion = api_rows[i].MaxVersion;
    }
    resp->ApiKeys.items = keys;
    resp->ApiKeys.count = (int32_t)NROWS;
    return 0;
}
