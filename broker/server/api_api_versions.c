/* api_api_versions.c: ApiVersions 0-3: the APIs this broker serves, with
 * the codec table's ranges. Every broker answers the same list (kafkajs
 * reuses its seed broker's answer for all brokers). */
#include "kerr.h"
#include "server.h"

void rf_api_api_versions(struct rf_kreq *r)
{
    int16_t ver = r->req.hdr.RequestApiVersion;
    struct rf_ApiVersionsResponse resp;
    size_t n, k = 0;
    const struct rf_kafka_api *all = rf_kafka_api_all(&n);
    rf_kmsg_init(&rf_ApiVersionsResponse_msg, ver, &resp);
    resp.ApiKeys.items = rf_kreq_alloc(r, n * sizeof *resp.ApiKeys.items);
    if (resp.ApiKeys.items == NULL) {
        rf_kreq_close(r);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (!rf_server_serves(all[i].ApiKey))
            continue;
        resp.ApiKeys.items[k].ApiKey = all[i].ApiKey;
        resp.ApiKeys.items[k].MinVersion = all[i].MinVersion;
        resp.ApiKeys.items[k].MaxVersion = all[i].MaxVersion;
        k++;
    }
    resp.ApiKeys.count = (int32_t)k;
    resp.ErrorCode = RF_KERR_NONE;
    rf_kreq_respond(r, &resp);
}
