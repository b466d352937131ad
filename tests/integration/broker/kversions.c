/* kversions.c: speaks every (API, version) that a live riffle-broker
 * advertises, with our own codec, and checks each answer decodes and
 * carries no error: "every version in a range really works". An advertised
 * API this tool cannot build a request for is a failure, so a new API must
 * bring its check here.
 *
 * usage: kversions HOST PORT TOPIC   (TOPIC: one partition, led by this
 * broker). Creates and deletes topics named kv-ct-<version>. Prints one line
 * per (API, version) and exits non-zero on the first failure. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "api_table.h"
#include "arena.h"
#include "buf.h"
#include "builder.h"
#include "header.h"
#include "kafka_msgs.h"
#include "kversions.h"

static int fd = -1;
static int32_t corr = 0;
const char *topic;
struct rf_arena arena;


void fail(const char *api, int16_t v, const char *why)
{
    printf("FAIL %s v%d: %s\n", api, v, why);
    exit(1);
}

static int read_full(uint8_t *p, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = recv(fd, p + got, n - got, 0);
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    return 0;
}

/* Send one request, read and decode its answer into resp. */
void roundtrip(int16_t key, int16_t ver, const char *name,
                      const void *req, void *resp)
{
    struct rf_RequestHeader hdr = {key, ver, ++corr, KS("kversions")};
    struct rf_wr wr;
    uint8_t size[4];
    int32_t got_corr;
    rf_wr_init(&wr, 256);
    if (rf_kafka_request_encode(&hdr, req, &wr) != 0)
        fail(name, ver, "request does not encode");
    if (send(fd, wr.base, wr.len, 0) != (ssize_t)wr.len)
        fail(name, ver, "send failed");
    rf_wr_free(&wr);
    if (read_full(size, 4) != 0)
        fail(name, ver, "connection closed instead of an answer");
    uint32_t n = rf_be32_load(size);
    if (n > 64u << 20)
        fail(name, ver, "answer too large");
    uint8_t *body = rf_arena_alloc(&arena, n ? n : 1);
    if (read_full(body, n) != 0)
        fail(name, ver, "answer truncated");
    if (rf_kafka_response_decode(key, ver, body, n, &arena, NULL, &got_corr,
                                 resp) != 0)
        fail(name, ver, "answer does not decode");
    if (got_corr != corr)
        fail(name, ver, "correlation id mismatch");
}

void check_code(const char *name, int16_t ver, int16_t code)
{
    char why[64];
    if (code != 0) {
        snprintf(why, sizeof why, "error code %d", code);
        fail(name, ver, why);
    }
}

static void do_api_versions(int16_t v)
{
    struct rf_ApiVersionsRequest req;
    struct rf_ApiVersionsResponse resp;
    rf_kmsg_init(&rf_ApiVersionsRequest_msg, v, &req);
    req.ClientSoftwareName = KS("kversions");
    req.ClientSoftwareVersion = KS("1.0");
    roundtrip(18, v, "ApiVersions", &req, &resp);
    check_code("ApiVersions", v, resp.ErrorCode);
    if (resp.ApiKeys.count < 1)
        fail("ApiVersions", v, "no APIs");
}

static void do_metadata(int16_t v)
{
    struct rf_MetadataRequest req;
    struct rf_MetadataResponse resp;
    struct rf_MetadataRequest_MetadataRequestTopic t = {KS(topic)};
    rf_kmsg_init(&rf_MetadataRequest_msg, v, &req);
    req.Topics.items = &t;
    req.Topics.count = 1;
    roundtrip(3, v, "Metadata", &req, &resp);
    if (resp.Brokers.count < 1 || resp.Topics.count != 1)
        fail("Metadata", v, "no broker or topic");
    check_code("Metadata", v, resp.Topics.items[0].ErrorCode);
    if (resp.Topics.items[0].Partitions.count != 1)
        fail("Metadata", v, "partition count");
    check_code("Metadata", v, resp.Topics.items[0].Partitions.items[0].ErrorCode);
}

static void do_produce(int16_t v)
{
    struct rf_ProduceRequest req;
    struct rf_ProduceResponse resp;
    struct rf_ProduceRequest_PartitionProduceData pd;
    struct rf_ProduceRequest_TopicProduceData td;
    struct rf_test_batch_spec spec = {3, 20, 1700000000000LL, (uint32_t)v, 0};
    struct rf_wr batch;
    rf_wr_init(&batch, 256);
    rf_test_build_batch(&batch, &spec);
    rf_kmsg_init(&rf_ProduceRequest_msg, v, &req);
    pd.Index = 0;
    pd.Records = (struct rf_kbytes){batch.base, (int32_t)batch.len};
    td.Name = KS(topic);
    td.PartitionData.items = &pd;
    td.PartitionData.count = 1;
    req.Acks = 1;
    req.TimeoutMs = 10000;
    req.TopicData.items = &td;
    req.TopicData.count = 1;
    roundtrip(0, v, "Produce", &req, &resp);
    rf_wr_free(&batch);
    if (resp.Responses.count != 1 ||
        resp.Responses.items[0].PartitionResponses.count != 1)
        fail("Produce", v, "answer shape");
    check_code("Produce", v,
               resp.Responses.items[0].PartitionResponses.items[0].ErrorCode);
    if (resp.Responses.items[0].PartitionResponses.items[0].BaseOffset < 0)
        fail("Produce", v, "no base offset");
}

static void do_fetch(int16_t v)
{
    struct rf_FetchRequest req;
    struct rf_FetchResponse resp;
    struct rf_FetchRequest_FetchPartition fp = {0, -1, 0, -1, 1 << 20};
    struct rf_FetchRequest_FetchTopic ft;
    rf_kmsg_init(&rf_FetchRequest_msg, v, &req);
    ft.Topic = KS(topic);
    ft.Partitions.items = &fp;
    ft.Partitions.count = 1;
    req.ReplicaId = -1;
    req.MaxWaitMs = 100;
    req.MinBytes = 1;
    req.MaxBytes = 1 << 20;
    req.SessionEpoch = -1;
    req.Topics.items = &ft;
    req.Topics.count = 1;
    req.RackId = KS("");
    roundtrip(1, v, "Fetch", &req, &resp);
    if (resp.Responses.count != 1 ||
        resp.Responses.items[0].Partitions.count != 1)
        fail("Fetch", v, "answer shape");
    const struct rf_FetchResponse_PartitionData *pd =
        &resp.Responses.items[0].Partitions.items[0];
    check_code("Fetch", v, pd->ErrorCode);
    if (pd->HighWatermark < 1 || pd->Records.len < 61)
        fail("Fetch", v, "no records below the high watermark");
}

static void do_list_offsets(int16_t v)
{
    struct rf_ListOffsetsRequest req;
    struct rf_ListOffsetsResponse resp;
    struct rf_ListOffsetsRequest_ListOffsetsPartition lp = {0, -1, -1, 1};
    struct rf_ListOffsetsRequest_ListOffsetsTopic lt;
    rf_kmsg_init(&rf_ListOffsetsRequest_msg, v, &req);
    lt.Name = KS(topic);
    lt.Partitions.items = &lp;
    lt.Partitions.count = 1;
    req.ReplicaId = -1;
    req.Topics.items = &lt;
    req.Topics.count = 1;
    roundtrip(2, v, "ListOffsets", &req, &resp);
    if (resp.Topics.count != 1 || resp.Topics.items[0].Partitions.count != 1)
        fail("ListOffsets", v, "answer shape");
    check_code("ListOffsets", v,
               resp.Topics.items[0].Partitions.items[0].ErrorCode);
    if (resp.Topics.items[0].Partitions.items[0].Offset < 1)
        fail("ListOffsets", v, "latest offset");
}

static char *ct_name(int16_t v)
{
    static char names[16][16];
    snprintf(names[v & 15], sizeof names[0], "kv-ct-%d", v);
    return names[v & 15];
}

static void do_create_topics(int16_t v)
{
    struct rf_CreateTopicsRequest req;
    struct rf_CreateTopicsResponse resp;
    struct rf_CreateTopicsRequest_CreatableTopic t;
    rf_kmsg_init(&rf_CreateTopicsRequest_msg, v, &req);
    memset(&t, 0, sizeof t);
    t.Name = KS(ct_name(v));
    t.NumPartitions = 1;
    t.ReplicationFactor = 1;
    req.Topics.items = &t;
    req.Topics.count = 1;
    req.TimeoutMs = 15000;
    roundtrip(19, v, "CreateTopics", &req, &resp);
    if (resp.Topics.count != 1)
        fail("CreateTopics", v, "answer shape");
    check_code("CreateTopics", v, resp.Topics.items[0].ErrorCode);
}

static void do_delete_topics(int16_t v)
{
    struct rf_DeleteTopicsRequest req;
    struct rf_DeleteTopicsResponse resp;
    struct rf_kstr name = KS(ct_name(v));
    rf_kmsg_init(&rf_DeleteTopicsRequest_msg, v, &req);
    req.TopicNames.items = &name;
    req.TopicNames.count = 1;
    req.TimeoutMs = 15000;
    roundtrip(20, v, "DeleteTopics", &req, &resp);
    if (resp.Responses.count != 1)
        fail("DeleteTopics", v, "answer shape");
    check_code("DeleteTopics", v, resp.Responses.items[0].ErrorCode);
}

static void do_describe_configs(int16_t v)
{
    struct rf_DescribeConfigsRequest req;
    struct rf_DescribeConfigsResponse resp;
    struct rf_DescribeConfigsRequest_DescribeConfigsResource r;
    rf_kmsg_init(&rf_DescribeConfigsRequest_msg, v, &req);
    memset(&r, 0, sizeof r);
    r.ResourceType = 2;
    r.ResourceName = KS(topic);
    r.ConfigurationKeys.count = -1;
    req.Resources.items = &r;
    req.Resources.count = 1;
    roundtrip(32, v, "DescribeConfigs", &req, &resp);
    if (resp.Results.count != 1)
        fail("DescribeConfigs", v, "answer shape");
    check_code("DescribeConfigs", v, resp.Results.items[0].ErrorCode);
    if (resp.Results.items[0].Configs.count < 1)
        fail("DescribeConfigs", v, "no configs");
}

static void do_create_partitions(int16_t v)
{
    struct rf_CreatePartitionsRequest req;
    struct rf_CreatePartitionsResponse resp;
    struct rf_CreatePartitionsRequest_CreatePartitionsTopic t;
    rf_kmsg_init(&rf_CreatePartitionsRequest_msg, v, &req);
    memset(&t, 0, sizeof t);
    t.Name = KS("kv-cp");
    t.Count = 2 + v; /* kv-cp starts with 1 partition */
    t.Assignments.count = -1;
    req.Topics.items = &t;
    req.Topics.count = 1;
    req.TimeoutMs = 15000;
    roundtrip(37, v, "CreatePartitions", &req, &resp);
    if (resp.Results.count != 1)
        fail("CreatePartitions", v, "answer shape");
    check_code("CreatePartitions", v, resp.Results.items[0].ErrorCode);
}

static void connect_to(const char *host, int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port)};
    struct timeval tv = {.tv_sec = 30};
    fd = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (inet_pton(AF_INET, host, &a.sin_addr) != 1 ||
        connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        printf("FAIL connect %s:%d\n", host, port);
        exit(1);
    }
}

int main(int argc, char **argv)
{
    struct rf_ApiVersionsRequest avreq;
    struct rf_ApiVersionsResponse av;
    int checked = 0;
    if (argc != 4) {
        fprintf(stderr, "usage: kversions HOST PORT TOPIC\n");
        return 2;
    }
    topic = argv[3];
    connect_to(argv[1], atoi(argv[2]));
    rf_arena_init(&arena, 1 << 16, 256u << 20);
    rf_kmsg_init(&rf_ApiVersionsRequest_msg, 0, &avreq);
    roundtrip(18, 0, "ApiVersions", &avreq, &av);
    check_code("ApiVersions", 0, av.ErrorCode);
    /* The answer lives in the arena, reset after every version: copy it. */
    int32_t napis = av.ApiKeys.count;
    struct rf_ApiVersionsResponse_ApiVersion *apis =
        malloc((size_t)(napis > 0 ? napis : 1) * sizeof *apis);
    memcpy(apis, av.ApiKeys.items, (size_t)napis * sizeof *apis);
    for (int32_t i = 0; i < napis; i++) {
        const struct rf_ApiVersionsResponse_ApiVersion *k = &apis[i];
        for (int16_t v = k->MinVersion; v <= k->MaxVersion; v++) {
            switch (k->ApiKey) {
            case 0: do_produce(v); break;
            case 1: do_fetch(v); break;
            case 2: do_list_offsets(v); break;
            case 3: do_metadata(v); break;
            case 18: do_api_versions(v); break;
            case 19: do_create_topics(v); break;
            case 20: do_delete_topics(v); break;
            case 32: do_describe_configs(v); break;
            case 37: do_create_partitions(v); break;
            default:
                if (kversions_group(k->ApiKey, v))
                    break;
                printf("FAIL ApiKey %d v%d: advertised but not checked here\n",
                       k->ApiKey, v);
                return 1;
            }
            printf("ok ApiKey %d v%d\n", k->ApiKey, v);
            checked++;
            rf_arena_reset(&arena);
        }
    }
    printf("%d (API, version) pairs answered without error\n", checked);
    free(apis);
    rf_arena_close(&arena);
    close(fd);
    return 0;
}
