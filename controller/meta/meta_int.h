/* meta_int.h: the image's native structures, shared only by controller/meta
 * files and their tests (rf__meta_* is not part of the contract). */
#ifndef RF_META_INT_H
#define RF_META_INT_H

#include "meta.h"

#define RF_META_MAX_COMMAND_BYTES (64u << 20)
#define RF_META_MAX_REPLICAS 64
#define RF_META_MAX_PARTITIONS (1 << 20) /* per topic, hard apply bound */
#define RF_META_MAX_ENDPOINTS 16
#define RF_META_MAX_STR 255
#define RF_META_MAX_CONFIG_VALUE 4096
#define RF_META_RECENT_MAX 100000
#define RF_META_HIST_MAX_CMDS 20000
#define RF_META_HIST_MAX_BYTES (8u << 20)
#define RF_META_TOPIC_NAME_MAX 249

struct meta_broker {
    int32_t id;
    int64_t epoch;
    Riffle__BrokerState state;
    struct rf_uuid inc;
    char *rack; /* owned, never NULL */
    size_t n_endpoints;
    Riffle__Endpoint **endpoints; /* owned deep copies */
};

struct meta_part {
    int32_t leader; /* -1: none */
    int32_t leader_epoch;
    int32_t partition_epoch;
    uint32_t n_replicas;
    uint32_t n_isr;
    int32_t *replicas; /* owned */
    int32_t *isr;      /* owned */
    /* In-flight reassignment: n_target > 0 (target is a subset of
     * replicas); 0 and NULL otherwise. */
    uint32_t n_target;
    int32_t *target; /* owned */
};

struct meta_topic {
    char *name; /* owned */
    struct rf_uuid id;
    size_t n_parts;
    size_t cap_parts;
    struct meta_part *parts; /* indexed by partition id */
};

/* A config override: key (type, resource, name), value. */
struct meta_config {
    int32_t type;
    char *resource; /* owned */
    char *name;     /* owned */
    char *value;    /* owned; NULL in an undo entry means "was absent" */
};

struct meta_recent {
    uint8_t id[16];
    int64_t offset;
    int32_t result;
};

struct meta_hist {
    int64_t offset;
    uint8_t *bytes; /* owned packed MetadataCommand */
    size_t len;
};

struct rf_meta_image {
    int64_t offset;
    bool has_cluster_id;
    struct rf_uuid cluster_id;
    int64_t next_producer_id;

    struct meta_broker *brokers; /* sorted by id */
    size_t n_brokers, cap_brokers;
    Riffle__RegisterControllerRecord **ctrls; /* owned, sorted by node_id */
    size_t n_ctrls, cap_ctrls;
    struct meta_topic **by_name; /* owns the topics; sorted by name */
    struct meta_topic **by_id;   /* same topics sorted by id */
    size_t n_topics, cap_topics;
    struct meta_config *configs; /* sorted by (type, resource, name) */
    size_t n_configs, cap_configs;

    /* request-id dedup: ring of the last recent_max ids + linear-probing
     * index of (sequence + 1) values, 0 = empty slot. */
    struct meta_recent *recent;
    size_t recent_alloc;
    size_t recent_max;
    uint64_t recent_head; /* sequence of the oldest entry */
    uint64_t recent_next; /* sequence of the next entry */
    uint64_t *rindex;
    size_t rindex_cap; /* power of two, or 0 */

    /* history of applied commands since the last restore (a ring) */
    struct meta_hist *hist;
    size_t hist_cap, hist_head, hist_count, hist_bytes;
    int64_t hist_base; /* history holds every command with offset > base */
    size_t hist_max_cmds, hist_max_bytes;
};

/* ---- pb.c: protobuf helpers (everything through rf_malloc/rf_free) ---- */
extern ProtobufCAllocator rf__meta_pb_alloc;
/* Frees every field of m (strings, bytes, sub-messages, arrays, unknown
 * fields), not m itself; leaves the pointers dangling. */
void rf__meta_pb_free_fields(ProtobufCMessage *m);
void rf__meta_pb_free(ProtobufCMessage *m); /* fields then m */
/* Room for element n of an array grown only through this function
 * (geometric; the capacity is implied by n). */
void *rf__meta_grow(void *arr, size_t n, size_t elem);
char *rf__meta_strdup(const char *s);       /* NULL -> "" copy */
void rf__meta_bytes_set(ProtobufCBinaryData *b, const void *p, size_t n);
int32_t *rf__meta_i32dup(const int32_t *v, size_t n);
Riffle__Endpoint *rf__meta_endpoint_dup(const Riffle__Endpoint *e);
Riffle__RegisterControllerRecord *
rf__meta_controller_dup(const Riffle__RegisterControllerRecord *r);
/* Appends a fresh zeroed record of the given case to cmd; returns the
 * sub-record (already initialised). */
void *rf__meta_cmd_add(Riffle__MetadataCommand *cmd,
                       Riffle__MetadataRecord__RecordCase which);
bool rf__meta_uuid_from(const ProtobufCBinaryData *b, struct rf_uuid *out);

/* ---- image.c ---- */
struct meta_topic *rf__meta_topic_by_name(const struct rf_meta_image *img,
                                          const char *name);
struct meta_topic *rf__meta_topic_by_id(const struct rf_meta_image *img,
                                        const struct rf_uuid *id);
struct meta_broker *rf__meta_broker_find(const struct rf_meta_image *img,
                                         int32_t id);
/* Index where id is or would be inserted. */
size_t rf__meta_broker_pos(const struct rf_meta_image *img, int32_t id);
size_t rf__meta_topic_pos_name(const struct rf_meta_image *img,
                               const char *name);
size_t rf__meta_topic_pos_id(const struct rf_meta_image *img,
                             const struct rf_uuid *id);
void rf__meta_topic_insert(struct rf_meta_image *img, struct meta_topic *t);
void rf__meta_topic_unlink(struct rf_meta_image *img, struct meta_topic *t);
void rf__meta_topic_free(struct meta_topic *t);
void rf__meta_broker_clear(struct meta_broker *b);
void rf__meta_part_clear(struct meta_part *p);
size_t rf__meta_config_pos(const struct rf_meta_image *img, int32_t type,
                           const char *resource, const char *name, bool *found);
size_t rf__meta_ctrl_pos(const struct rf_meta_image *img, int32_t node_id,
                         bool *found);
void rf__meta_recent_add(struct rf_meta_image *img, const uint8_t id[16],
                         int64_t offset, int32_t result);
void rf__meta_hist_add(struct rf_meta_image *img, int64_t offset,
                       const uint8_t *bytes, size_t len);
/* Test seam: shrink the history bounds. */
void rf__meta_set_history_limits(struct rf_meta_image *img, size_t max_cmds,
                                 size_t max_bytes);
bool rf__meta_is_internal(const char *name);

/* ---- apply.c ---- */
/* Apply the records of one command; replay = records of an image snapshot
 * (keep epochs as recorded, skip cross-entity checks). All or nothing. */
int rf__meta_apply_records(struct rf_meta_image *img, int64_t offset,
                           Riffle__MetadataRecord **recs, size_t n,
                           bool replay);

/* ---- reassign.c ---- */
/* Fill a PartitionChangeRecord's target fields from cur (every change built
 * from the image carries the target through). */
void rf__meta_change_keep_target(Riffle__PartitionChangeRecord *r,
                                 const struct meta_part *cur);

/* ---- build.c ---- */
/* Validate a topic config override; RIFFLE__ERROR_CODE__NONE or
 * INVALID_CONFIG. */
int rf__meta_topic_config_check(const char *name, const char *value);

#endif
