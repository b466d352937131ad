/* pb.c: protobuf-c helpers for controller/meta: one allocator, a generic
 * deep free driven by the message descriptors, and small copy helpers. */
#include <string.h>

#include "alloc.h"
#include "meta_int.h"

static void *pb_alloc(void *data, size_t size)
{
    (void)data;
    return rf_malloc(size == 0 ? 1 : size);
}

static void pb_free(void *data, void *p)
{
    (void)data;
    rf_free(p);
}

ProtobufCAllocator rf__meta_pb_alloc = {pb_alloc, pb_free, NULL};

static size_t elem_size(const ProtobufCFieldDescriptor *f)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_STRING:
    case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof(void *);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof(ProtobufCBinaryData);
    default:
        return 0; /* scalars: nothing to free per element */
    }
}

static void free_value(const ProtobufCFieldDescriptor *f, void *member)
{
    if (f->type == PROTOBUF_C_TYPE_STRING) {
        char *s = *(char **)member;
        if (s != NULL && s != protobuf_c_empty_string &&
            s != (const char *)f->default_value)
            rf_free(s);
    } else if (f->type == PROTOBUF_C_TYPE_BYTES) {
        ProtobufCBinaryData *b = member;
        const ProtobufCBinaryData *def = f->default_value;
        if (b->data != NULL && (def == NULL || b->data != def->data))
            rf_free(b->data);
    } else if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
        ProtobufCMessage *sub = *(ProtobufCMessage **)member;
        if (sub != NULL)
            rf__meta_pb_free(sub);
    }
}

void rf__meta_pb_free_fields(ProtobufCMessage *m)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;
    char *base = (char *)m;

    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
            uint32_t which = *(uint32_t *)(base + f->quantifier_offset);
            if (which != f->id)
                continue;
        }
        if (f->label != PROTOBUF_C_LABEL_REPEATED) {
            free_value(f, base + f->offset);
            continue;
        }
        size_t n = *(size_t *)(base + f->quantifier_offset);
        char *arr = *(char **)(base + f->offset);
        size_t sz = elem_size(f);
        if (arr == NULL)
            continue;
        for (size_t j = 0; sz != 0 && j < n; j++)
            free_value(f, arr + j * sz);
        rf_free(arr);
    }
    for (unsigned i = 0; i < m->n_unknown_fields; i++)
        rf_free(m->unknown_fields[i].data);
    rf_free(m->unknown_fields);
}

void rf__meta_pb_free(ProtobufCMessage *m)
{
    rf__meta_pb_free_fields(m);
    rf_free(m);
}

char *rf__meta_strdup(const char *s)
{
    return rf_strdup(s != NULL ? s : "");
}

void rf__meta_bytes_set(ProtobufCBinaryData *b, const void *p, size_t n)
{
    b->len = n;
    b->data = NULL;
    if (n > 0) {
        b->data = rf_malloc(n);
        memcpy(b->data, p, n);
    }
}

int32_t *rf__meta_i32dup(const int32_t *v, size_t n)
{
    int32_t *out = rf_malloc(n == 0 ? sizeof(int32_t) : n * sizeof(int32_t));
    if (n > 0)
        memcpy(out, v, n * sizeof(int32_t));
    return out;
}

Riffle__Endpoint *rf__meta_endpoint_dup(const Riffle__Endpoint *e)
{
    Riffle__Endpoint *c = rf_malloc(sizeof(*c));
    riffle__endpoint__init(c);
    c->name = rf__meta_strdup(e->name);
    c->host = rf__meta_strdup(e->host);
    c->port = e->port;
    return c;
}

Riffle__RegisterControllerRecord *
rf__meta_controller_dup(const Riffle__RegisterControllerRecord *r)
{
    Riffle__RegisterControllerRecord *c = rf_malloc(sizeof(*c));
    riffle__register_controller_record__init(c);
    c->node_id = r->node_id;
    c->raft_address = rf__meta_strdup(r->raft_address);
    if (r->rpc != NULL)
        c->rpc = rf__meta_endpoint_dup(r->rpc);
    return c;
}

void *rf__meta_grow(void *arr, size_t n, size_t elem)
{
    /* capacity is implied by n: 4, then every power of two */
    if (n >= 4 && (n & (n - 1)) != 0)
        return arr;
    return rf_realloc(arr, (n < 4 ? 4 : 2 * n) * elem);
}

static void *record_new(Riffle__MetadataRecord *rec,
                        Riffle__MetadataRecord__RecordCase which)
{
#define RECORD_CASE(CASE, field, type, init)                                   \
    case RIFFLE__METADATA_RECORD__RECORD_##CASE: {                             \
        type *r = rf_malloc(sizeof(*r));                                       \
        init(r);                                                               \
        rec->field = r;                                                        \
        return r;                                                              \
    }
    rec->record_case = which;
    switch (which) {
        RECORD_CASE(REGISTER_BROKER, register_broker,
                    Riffle__RegisterBrokerRecord,
                    riffle__register_broker_record__init)
        RECORD_CASE(UNREGISTER_BROKER, unregister_broker,
                    Riffle__UnregisterBrokerRecord,
                    riffle__unregister_broker_record__init)
        RECORD_CASE(BROKER_CHANGE, broker_change,
                    Riffle__BrokerRegistrationChangeRecord,
                    riffle__broker_registration_change_record__init)
        RECORD_CASE(TOPIC, topic, Riffle__TopicRecord,
                    riffle__topic_record__init)
        RECORD_CASE(PARTITION, partition, Riffle__PartitionRecord,
                    riffle__partition_record__init)
        RECORD_CASE(PARTITION_CHANGE, partition_change,
                    Riffle__PartitionChangeRecord,
                    riffle__partition_change_record__init)
        RECORD_CASE(REMOVE_TOPIC, remove_topic, Riffle__RemoveTopicRecord,
                    riffle__remove_topic_record__init)
        RECORD_CASE(CONFIG, config, Riffle__ConfigRecord,
                    riffle__config_record__init)
        RECORD_CASE(PRODUCER_IDS, producer_ids, Riffle__ProducerIdsRecord,
                    riffle__producer_ids_record__init)
        RECORD_CASE(REGISTER_CONTROLLER, register_controller,
                    Riffle__RegisterControllerRecord,
                    riffle__register_controller_record__init)
        RECORD_CASE(CLUSTER_ID, cluster_id, Riffle__ClusterIdRecord,
                    riffle__cluster_id_record__init)
    default:
        break;
    }
#undef RECORD_CASE
    rec->record_case = RIFFLE__METADATA_RECORD__RECORD__NOT_SET;
    return NULL;
}

void *rf__meta_cmd_add(Riffle__MetadataCommand *cmd,
                       Riffle__MetadataRecord__RecordCase which)
{
    Riffle__MetadataRecord *rec = rf_malloc(sizeof(*rec));
    riffle__metadata_record__init(rec);
    cmd->records =
        rf__meta_grow(cmd->records, cmd->n_records, sizeof(*cmd->records));
    cmd->records[cmd->n_records++] = rec;
    return record_new(rec, which);
}

bool rf__meta_uuid_from(const ProtobufCBinaryData *b, struct rf_uuid *out)
{
    if (b->len != sizeof(out->b) || b->data == NULL)
        return false;
    memcpy(out->b, b->data, sizeof(out->b));
    return !rf_uuid_is_zero(out);
}
