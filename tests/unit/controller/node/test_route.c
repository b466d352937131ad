/* test_route.c: controller request routing: every request body has a
 * response body, only NodeStatus and Ping are served by non-active nodes,
 * and a NOT_CONTROLLER answer packs as the matching response type. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "node_int.h"

struct route_case {
    int req;
    int resp;
    bool active;
};

static const struct route_case cases[] = {
    {RIFFLE__ENVELOPE__BODY_PING, RIFFLE__ENVELOPE__BODY_PONG, false},
    {RIFFLE__ENVELOPE__BODY_NODE_STATUS_REQ,
     RIFFLE__ENVELOPE__BODY_NODE_STATUS_RESP, false},
    {RIFFLE__ENVELOPE__BODY_CREATE_TOPICS_REQ,
     RIFFLE__ENVELOPE__BODY_CREATE_TOPICS_RESP, true},
    {RIFFLE__ENVELOPE__BODY_DELETE_TOPICS_REQ,
     RIFFLE__ENVELOPE__BODY_DELETE_TOPICS_RESP, true},
    {RIFFLE__ENVELOPE__BODY_CREATE_PARTITIONS_REQ,
     RIFFLE__ENVELOPE__BODY_CREATE_PARTITIONS_RESP, true},
    {RIFFLE__ENVELOPE__BODY_LIST_TOPICS_REQ,
     RIFFLE__ENVELOPE__BODY_LIST_TOPICS_RESP, true},
    {RIFFLE__ENVELOPE__BODY_DESCRIBE_TOPICS_REQ,
     RIFFLE__ENVELOPE__BODY_DESCRIBE_TOPICS_RESP, true},
    {RIFFLE__ENVELOPE__BODY_DESCRIBE_CLUSTER_REQ,
     RIFFLE__ENVELOPE__BODY_DESCRIBE_CLUSTER_RESP, true},
    {RIFFLE__ENVELOPE__BODY_REGISTER_BROKER_REQ,
     RIFFLE__ENVELOPE__BODY_REGISTER_BROKER_RESP, true},
    {RIFFLE__ENVELOPE__BODY_BROKER_HEARTBEAT_REQ,
     RIFFLE__ENVELOPE__BODY_BROKER_HEARTBEAT_RESP, true},
    {RIFFLE__ENVELOPE__BODY_CONTROLLED_SHUTDOWN_REQ,
     RIFFLE__ENVELOPE__BODY_CONTROLLED_SHUTDOWN_RESP, true},
    {RIFFLE__ENVELOPE__BODY_ALTER_PARTITION_REQ,
     RIFFLE__ENVELOPE__BODY_ALTER_PARTITION_RESP, true},
    {RIFFLE__ENVELOPE__BODY_FETCH_METADATA_REQ,
     RIFFLE__ENVELOPE__BODY_FETCH_METADATA_RESP, true},
    {RIFFLE__ENVELOPE__BODY_REGISTER_CONTROLLER_REQ,
     RIFFLE__ENVELOPE__BODY_REGISTER_CONTROLLER_RESP, true},
    {RIFFLE__ENVELOPE__BODY_ALTER_REASSIGNMENTS_REQ,
     RIFFLE__ENVELOPE__BODY_ALTER_REASSIGNMENTS_RESP, true},
};

static void test_routes(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        bool needs_active = !cases[i].active;
        assert_int_equal(rf__node_route(cases[i].req, &needs_active),
                         cases[i].resp);
        assert_int_equal(needs_active, cases[i].active);
    }
}

static void test_not_requests(void **state)
{
    static const int not_req[] = {RIFFLE__ENVELOPE__BODY__NOT_SET,
                                  RIFFLE__ENVELOPE__BODY_PONG,
                                  RIFFLE__ENVELOPE__BODY_ERROR,
                                  RIFFLE__ENVELOPE__BODY_CREATE_TOPICS_RESP,
                                  RIFFLE__ENVELOPE__BODY_FETCH_METADATA_RESP,
                                  9999};
    size_t i;
    bool na;

    (void)state;
    for (i = 0; i < sizeof(not_req) / sizeof(not_req[0]); i++) {
        assert_int_equal(rf__node_route(not_req[i], &na), 0);
    }
}

/* NOT_CONTROLLER for each active-only request packs and unpacks as its own
 * response type with the status and hint intact. */
static void test_status_responses(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        Riffle__Status st = RIFFLE__STATUS__INIT;
        Riffle__Endpoint ep = RIFFLE__ENDPOINT__INIT;
        Riffle__Envelope env;
        Riffle__Envelope *back;
        ProtobufCMessage *m;
        uint8_t buf[256];
        size_t len;

        if (!cases[i].active) {
            continue;
        }
        st.code = RIFFLE__ERROR_CODE__NOT_CONTROLLER;
        st.leader_id = 3;
        ep.host = "127.0.0.1";
        ep.port = 9103;
        st.leader_rpc = &ep;
        m = rf__node_status_response(cases[i].resp, &st, &env);
        assert_non_null(m);
        len = riffle__envelope__get_packed_size(&env);
        assert_true(len < sizeof(buf));
        riffle__envelope__pack(&env, buf);
        back = riffle__envelope__unpack(NULL, len, buf);
        assert_non_null(back);
        assert_int_equal(back->body_case, cases[i].resp);
        /* every response message has Status as field 1 */
        {
            const ProtobufCFieldDescriptor *f =
                protobuf_c_message_descriptor_get_field(
                    &riffle__envelope__descriptor, (unsigned)cases[i].resp);
            ProtobufCMessage *body =
                *(ProtobufCMessage **)((char *)back + f->offset);
            Riffle__Status *got =
                *(Riffle__Status *
                      *)((char *)body +
                         protobuf_c_message_descriptor_get_field_by_name(
                             body->descriptor, "status")
                             ->offset);
            assert_non_null(got);
            assert_int_equal(got->code, RIFFLE__ERROR_CODE__NOT_CONTROLLER);
            assert_int_equal(got->leader_id, 3);
            assert_int_equal(got->leader_rpc->port, 9103);
        }
        riffle__envelope__free_unpacked(back, NULL);
        rf__node_status_free(m);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_routes),
        cmocka_unit_test(test_not_requests),
        cmocka_unit_test(test_status_responses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
