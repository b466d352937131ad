/* api_describe_configs.c: DescribeConfigs 0-2 for topics (overrides from
 * the metadata image over the broker's defaults) and for this broker (its
 * effective configuration). Synonyms are not reported. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "bmeta.h"
#include "kerr.h"
#include "meta.h"
#include "server.h"

#define RESOURCE_TOPIC 2
#define RESOURCE_BROKER 4
#define SOURCE_DYNAMIC_TOPIC 1
#define SOURCE_STATIC_BROKER 4
#define SOURCE_DEFAULT 5

typedef struct rf_DescribeConfigsResponse_DescribeConfigsResult dresult;
typedef struct rf_DescribeConfigsResponse_DescribeConfigsResourceResult dentry;

struct topic_default {
    const char *name;
    const char *value; /* NULL: take it from the broker config */
    const char *broker_key;
};

/* Topic configs we know, with the broker key providing the default. */
static const struct topic_default topic_defaults[] = {
    {"cleanup.policy", "delete", NULL},
    {"compression.type", "producer", NULL},
    {"max.message.bytes", NULL, "message.max.bytes"},
    {"message.timestamp.type", "CreateTime", NULL},
    {"min.insync.replicas", NULL, "min.insync.replicas"},
    {"retention.bytes", NULL, "log.retention.bytes"},
    {"retention.ms", NULL, "log.retention.ms"},
    {"segment.bytes", NULL, "log.segment.bytes"},
    {"segment.ms", NULL, "log.roll.ms"},
    {"unclean.leader.election.enable", "false", NULL},
};

/* The broker config value of key, formatted into the arena. */
static char *broker_value(struct rf_kreq *r, const char *key)
{
    const struct rf_conf_opt *o;
    const char *field;
    char buf[64];
    for (o = rf_broker_conf_table; o->name; o++) {
        if (strcmp(o->name, key) == 0)
            break;
    }
    if (o->name == NULL)
        return NULL;
    field = (const char *)r->b->conf + o->offset;
    switch (o->type) {
    case RF_CONF_INT: {
        int64_t v;
        memcpy(&v, field, sizeof v);
        snprintf(buf, sizeof buf, "%" PRId64, v);
        return rf_kreq_strdup(r, (struct rf_kstr){buf, (int32_t)strlen(buf)});
    }
    case RF_CONF_BOOL: {
        bool v;
        memcpy(&v, field, sizeof v);
        return v ? "true" : "false";
    }
    case RF_CONF_STRING: {
        const char *v;
        memcpy(&v, field, sizeof v);
        return (char *)(v ? v : "");
    }
    }
    return NULL;
}

static struct rf_kstr ks(const char *s)
{
    return s ? (struct rf_kstr){s, (int32_t)strlen(s)} : RF_KSTR_NULL;
}

static bool wanted(const struct rf_DescribeConfigsRequest_DescribeConfigsResource *res,
                   const char *name)
{
    if (res->ConfigurationKeys.count < 0)
        return true;
    for (int32_t i = 0; i < res->ConfigurationKeys.count; i++) {
        struct rf_kstr k = res->ConfigurationKeys.items[i];
        if (k.len == (int32_t)strlen(name) &&
            memcmp(k.ptr, name, (size_t)k.len) == 0)
            return true;
    }
    return false;
}

static int add_entry(struct rf_kreq *r, dresult *out, const char *name,
                     const char *value, int8_t source)
{
    dentry *e = &out->Configs.items[out->Configs.count++];
    (void)r;
    e->Name = ks(name);
    e->Value = ks(value);
    e->ReadOnly = source != SOURCE_DYNAMIC_TOPIC;
    e->IsDefault = source == SOURCE_DEFAULT;
    e->ConfigSource = source;
    e->IsSensitive = false;
    e->Synonyms.count = 0;
    return 0;
}

static void describe_topic(struct rf_kreq *r,
                           const struct rf_DescribeConfigsRequest_DescribeConfigsResource *res,
                           dresult *out)
{
    const struct rf_meta_image *img = rf_bmeta_image(r->b->bmeta);
    Riffle__DescribeTopicsRequest dreq = RIFFLE__DESCRIBE_TOPICS_REQUEST__INIT;
    Riffle__DescribeTopicsResponse dresp = RIFFLE__DESCRIBE_TOPICS_RESPONSE__INIT;
    char *name = rf_kreq_strdup(r, res->ResourceName);
    size_t n = sizeof topic_defaults / sizeof topic_defaults[0];
    dreq.names = &name;
    dreq.n_names = 1;
    rf_meta_describe_topics(img, &dreq, &dresp);
    if (dresp.n_topics != 1 ||
        dresp.topics[0]->error != RIFFLE__ERROR_CODE__NONE) {
        out->ErrorCode = RF_KERR_UNKNOWN_TOPIC_OR_PARTITION;
        out->ErrorMessage = ks("unknown topic");
        rf_meta_response_free(&dresp.base);
        return;
    }
    const Riffle__TopicDescription *td = dresp.topics[0];
    out->Configs.items = rf_kreq_alloc(r, (n + td->n_configs + 1) * sizeof(dentry));
    if (out->Configs.items == NULL) {
        out->ErrorCode = RF_KERR_UNKNOWN_SERVER_ERROR;
        rf_meta_response_free(&dresp.base);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const struct topic_default *d = &topic_defaults[i];
        const char *value = NULL;
        int8_t source = SOURCE_DEFAULT;
        if (!wanted(res, d->name))
            continue;
        for (size_t j = 0; j < td->n_configs; j++) {
            if (strcmp(td->configs[j]->name, d->name) == 0) {
                value = rf_kreq_strdup(r, ks(td->configs[j]->value));
                source = SOURCE_DYNAMIC_TOPIC;
            }
        }
        if (value == NULL)
            value = d->value ? d->value : broker_value(r, d->broker_key);
        add_entry(r, out, d->name, value, source);
    }
    rf_meta_response_free(&dresp.base);
}

static void describe_broker(struct rf_kreq *r,
                            const struct rf_DescribeConfigsRequest_DescribeConfigsResource *res,
                            dresult *out)
{
    char self[16];
    size_t n = 0;
    snprintf(self, sizeof self, "%d", r->b->id);
    if (res->ResourceName.len > 0 &&
        !(res->ResourceName.len == (int32_t)strlen(self) &&
          memcmp(res->ResourceName.ptr, self, strlen(self)) == 0)) {
        out->ErrorCode = 42; /* INVALID_REQUEST: another broker's configs */
        out->ErrorMessage = ks("ask that broker for its configuration");
        return;
    }
    for (const struct rf_conf_opt *o = rf_broker_conf_table; o->name; o++)
        n++;
    out->Configs.items = rf_kreq_alloc(r, (n + 1) * sizeof(dentry));
    if (out->Configs.items == NULL) {
        out->ErrorCode = RF_KERR_UNKNOWN_SERVER_ERROR;
        return;
    }
    for (const struct rf_conf_opt *o = rf_broker_conf_table; o->name; o++) {
        if (wanted(res, o->name))
            add_entry(r, out, o->name, broker_value(r, o->name),
                      SOURCE_STATIC_BROKER);
    }
}

void rf_api_describe_configs(struct rf_kreq *r)
{
    const struct rf_DescribeConfigsRequest *req = r->req.body;
    int16_t ver = r->req.hdr.RequestApiVersion;
    struct rf_DescribeConfigsResponse resp;
    int32_t n = req->Resources.count > 0 ? req->Resources.count : 0;
    rf_kmsg_init(&rf_DescribeConfigsResponse_msg, ver, &resp);
    resp.Results.items = rf_kreq_alloc(r, ((size_t)n + 1) * sizeof(dresult));
    if (resp.Results.items == NULL) {
        rf_kreq_close(r);
        return;
    }
    resp.Results.count = n;
    for (int32_t i = 0; i < n; i++) {
        const struct rf_DescribeConfigsRequest_DescribeConfigsResource *res =
            &req->Resources.items[i];
        dresult *out = &resp.Results.items[i];
        out->ResourceType = res->ResourceType;
        out->ResourceName = res->ResourceName;
        out->ErrorMessage = RF_KSTR_NULL;
        if (res->ResourceType == RESOURCE_TOPIC) {
            describe_topic(r, res, out);
        } else if (res->ResourceType == RESOURCE_BROKER) {
            describe_broker(r, res, out);
        } else {
            out->ErrorCode = 42; /* INVALID_REQUEST */
            out->ErrorMessage = ks("unsupported resource type");
        }
    }
    rf_kreq_respond(r, &resp);
}
