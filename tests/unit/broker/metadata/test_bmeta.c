/* test_bmeta.c: the broker's metadata follower against an in-process fake
 * controller on the real RPC layer, whose own rf_meta image produces the
 * full image and the deltas: registration retried after DUPLICATE_BROKER,
 * the image then deltas through a held long-poll, re-registration after
 * STALE_BROKER_EPOCH, unfencing from heartbeats, controlled shutdown, and a
 * clean close (no handle left). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "alloc.h"
#include "bmeta.h"
#include "clock.h"
#include "err.h"
#include "meta.h"
#include "rpc.h"
#include "uuid.h"

struct fx {
    uv_loop_t loop;
    struct rf_rpc_server *srv;
    struct rf_meta_image *cimg; /* the controller's image */
    int64_t coffset;
    /* behaviour */
    int dup_left;         /* registrations to refuse as DUPLICATE_BROKER */
    bool stale_next_hb;   /* answer the next heartbeat STALE_BROKER_EPOCH */
    int cs_remaining;     /* controlled shutdown answers before 0 */
    /* observations */
    int registers, heartbeats, polls, changes;
    int64_t last_hb_epoch;
    int64_t last_change_old;
    struct rf_rpc_call *held; /* a held FetchMetadata */
    int64_t held_since;
    int cs_status;
    bool cs_done, closed;
    struct rf_bmeta *bm;
};

/* A command creating topic name (1 partition) at the next offset. */
static void controller_add_topic(struct fx *f, const char *name)
{
    Riffle__MetadataCommand cmd = RIFFLE__METADATA_COMMAND__INIT;
    Riffle__MetadataRecord rt = RIFFLE__METADATA_RECORD__INIT;
    Riffle__MetadataRecord rp = RIFFLE__METADATA_RECORD__INIT;
    Riffle__TopicRecord t = RIFFLE__TOPIC_RECORD__INIT;
    Riffle__PartitionRecord p = RIFFLE__PARTITION_RECORD__INIT;
    Riffle__MetadataRecord *recs[2] = {&rt, &rp};
    struct rf_uuid id;
    int32_t replicas[1] = {7};
    uint8_t *buf;
    size_t len;
    rf_uuid_generate(&id);
    t.name = (char *)name;
    t.topic_id.data = id.b;
    t.topic_id.len = 16;
    p.topic_id = t.topic_id;
    p.partition_id = 0;
    p.replicas = replicas;
    p.n_replicas = 1;
    p.isr = replicas;
    p.n_isr = 1;
    p.leader = 7;
    rt.record_case = RIFFLE__METADATA_RECORD__RECORD_TOPIC;
    rt.topic = &t;
    rp.record_case = RIFFLE__METADATA_RECORD__RECORD_PARTITION;
    rp.partition = &p;
    cmd.records = recs;
    cmd.n_records = 2;
    len = riffle__metadata_command__get_packed_size(&cmd);
    buf = rf_malloc(len);
    riffle__metadata_command__pack(&cmd, buf);
    assert_int_equal(rf_meta_apply(f->cimg, ++f->coffset, buf, len),
                     RIFFLE__ERROR_CODE__NONE);
    rf_free(buf);
}

/* Broker 7 registered (so topics can place replicas on it). */
static void controller_add_broker(struct fx *f)
{
    Riffle__MetadataCommand cmd = RIFFLE__METADATA_COMMAND__INIT;
    Riffle__MetadataRecord r = RIFFLE__METADATA_RECORD__INIT;
    Riffle__MetadataRecord r2 = RIFFLE__METADATA_RECORD__INIT;
    Riffle__RegisterBrokerRecord b = RIFFLE__REGISTER_BROKER_RECORD__INIT;
    Riffle__BrokerRegistrationChangeRecord u =
        RIFFLE__BROKER_REGISTRATION_CHANGE_RECORD__INIT;
    Riffle__MetadataRecord *recs[2] = {&r, &r2};
    struct rf_uuid inc;
    uint8_t *buf;
    size_t len;
    rf_uuid_generate(&inc);
    b.broker_id = 7;
    b.incarnation_id.data = inc.b;
    b.incarnation_id.len = 16;
    b.fenced = true;
    r.record_case = RIFFLE__METADATA_RECORD__RECORD_REGISTER_BROKER;
    r.register_broker = &b;
    /* unfenced at once: its epoch is the offset of this command */
    u.broker_id = 7;
    u.broker_epoch = f->coffset + 1;
    u.state = RIFFLE__BROKER_STATE__BROKER_UNFENCED;
    r2.record_case = RIFFLE__METADATA_RECORD__RECORD_BROKER_CHANGE;
    r2.broker_change = &u;
    cmd.records = recs;
    cmd.n_records = 2;
    len = riffle__metadata_command__get_packed_size(&cmd);
    buf = rf_malloc(len);
    riffle__metadata_command__pack(&cmd, buf);
    assert_int_equal(rf_meta_apply(f->cimg, ++f->coffset, buf, len),
                     RIFFLE__ERROR_CODE__NONE);
    rf_free(buf);
}

static void answer_poll(struct fx *f, struct rf_rpc_call *call, int64_t since)
{
    Riffle__Envelope env = RIFFLE__ENVELOPE__INIT;
    Riffle__FetchMetadataResponse r = RIFFLE__FETCH_METADATA_RESPONSE__INIT;
    if (since < 0)
        assert_int_equal(rf_meta_image_export(f->cimg, &r), 0);
    else
        assert_int_equal(rf_meta_deltas_since(f->cimg, since, 1 << 20, &r), 0);
    r.offset = rf_meta_offset(f->cimg);
    env.body_case = RIFFLE__ENVELOPE__BODY_FETCH_METADATA_RESP;
    env.fetch_metadata_resp = &r;
    rf_rpc_reply(call, &env);
    rf_meta_deltas_free(&r);
}

static void reply_status(struct rf_rpc_call *call,
                         Riffle__Envelope__BodyCase body, void *msg,
                         Riffle__Status *st)
{
    Riffle__Envelope env = RIFFLE__ENVELOPE__INIT;
    env.body_case = body;
    /* every response message starts with its Status field */
    switch (body) {
    case RIFFLE__ENVELOPE__BODY_REGISTER_BROKER_RESP:
        ((Riffle__RegisterBrokerResponse *)msg)->status = st;
        env.register_broker_resp = msg;
        break;
    case RIFFLE__ENVELOPE__BODY_BROKER_HEARTBEAT_RESP:
        ((Riffle__BrokerHeartbeatResponse *)msg)->status = st;
        env.broker_heartbeat_resp = msg;
        break;
    case RIFFLE__ENVELOPE__BODY_CONTROLLED_SHUTDOWN_RESP:
        ((Riffle__ControlledShutdownResponse *)msg)->status = st;
        env.controlled_shutdown_resp = msg;
        break;
    default:
        fail();
    }
    rf_rpc_reply(call, &env);
}

static void handler(struct rf_rpc_server *srv, struct rf_rpc_call *call,
                    const Riffle__Envelope *req)
{
    struct fx *f = rf_rpc_server_data(srv);
    Riffle__Status st = RIFFLE__STATUS__INIT;
    switch (req->body_case) {
    case RIFFLE__ENVELOPE__BODY_REGISTER_BROKER_REQ: {
        Riffle__RegisterBrokerResponse r = RIFFLE__REGISTER_BROKER_RESPONSE__INIT;
        assert_int_equal(req->register_broker_req->broker_id, 7);
        assert_int_equal(req->register_broker_req->incarnation_id.len, 16);
        f->registers++;
        if (f->dup_left > 0) {
            f->dup_left--;
            st.code = RIFFLE__ERROR_CODE__DUPLICATE_BROKER;
        } else {
            r.broker_epoch = 100 + f->registers;
        }
        reply_status(call, RIFFLE__ENVELOPE__BODY_REGISTER_BROKER_RESP, &r, &st);
        return;
    }
    case RIFFLE__ENVELOPE__BODY_BROKER_HEARTBEAT_REQ: {
        Riffle__BrokerHeartbeatResponse r =
            RIFFLE__BROKER_HEARTBEAT_RESPONSE__INIT;
        f->heartbeats++;
        f->last_hb_epoch = req->broker_heartbeat_req->broker_epoch;
        if (f->stale_next_hb) {
            f->stale_next_hb = false;
            st.code = RIFFLE__ERROR_CODE__STALE_BROKER_EPOCH;
        } else {
            /* unfenced once caught up with the controller's image */
            r.is_fenced = req->broker_heartbeat_req->current_metadata_offset <
                          rf_meta_offset(f->cimg);
        }
        reply_status(call, RIFFLE__ENVELOPE__BODY_BROKER_HEARTBEAT_RESP, &r,
                     &st);
        return;
    }
    case RIFFLE__ENVELOPE__BODY_FETCH_METADATA_REQ: {
        int64_t since = req->fetch_metadata_req->since_offset;
        f->polls++;
        if (since >= 0 && since >= rf_meta_offset(f->cimg)) {
            assert_null(f->held); /* one poll outstanding at a time */
            f->held = call;       /* a long-poll: held until a change */
            f->held_since = since;
            return;
        }
        answer_poll(f, call, since);
        return;
    }
    case RIFFLE__ENVELOPE__BODY_CONTROLLED_SHUTDOWN_REQ: {
        Riffle__ControlledShutdownResponse r =
            RIFFLE__CONTROLLED_SHUTDOWN_RESPONSE__INIT;
        r.remaining_leaderships = f->cs_remaining > 0 ? f->cs_remaining-- : 0;
        reply_status(call, RIFFLE__ENVELOPE__BODY_CONTROLLED_SHUTDOWN_RESP, &r,
                     &st);
        return;
    }
    default:
        rf_rpc_call_drop(call);
    }
}

static void on_change(void *data, const struct rf_meta_image *img,
                      int64_t old_offset)
{
    struct fx *f = data;
    (void)img;
    f->changes++;
    f->last_change_old = old_offset;
}

/* Run the loop until cond holds (checked every few ms) or 10 s pass. */
#define RUN_UNTIL(f, cond)                                                   \
    do {                                                                     \
        uint64_t end_ = rf_clock_mono_ms() + 10000;                          \
        while (!(cond) && rf_clock_mono_ms() < end_)                         \
            uv_run(&(f)->loop, UV_RUN_ONCE);                                 \
        assert_true(cond);                                                   \
    } while (0)

static void on_cs(void *data, int status)
{
    struct fx *f = data;
    f->cs_status = status;
    f->cs_done = true;
}

static void on_closed(void *data)
{
    ((struct fx *)data)->closed = true;
}

static void on_srv_closed(void *data)
{
    (void)data;
}

static void test_follow(void **state)
{
    struct fx f;
    char errmsg[RF_ERRMSG_SIZE];
    struct rf_hostport ctl = {"127.0.0.1", 0};
    Riffle__Endpoint ep = RIFFLE__ENDPOINT__INIT;
    const Riffle__Endpoint *eps[1] = {&ep};
    struct rf_bmeta_opts o;
    struct rf_meta_topic t;
    (void)state;
    memset(&f, 0, sizeof f);
    uv_loop_init(&f.loop);
    f.cimg = rf_meta_image_new();
    controller_add_broker(&f);
    controller_add_topic(&f, "t1");
    f.dup_left = 2;
    f.cs_remaining = 2;
    assert_int_equal(rf_rpc_server_start(&f.loop, "127.0.0.1", 0, NULL,
                                         handler, &f, &f.srv, errmsg),
                     0);
    ctl.port = rf_rpc_server_port(f.srv);
    ep.name = "PLAINTEXT";
    ep.host = "127.0.0.1";
    ep.port = 9092;
    memset(&o, 0, sizeof o);
    o.broker_id = 7;
    o.controllers = &ctl;
    o.n_controllers = 1;
    o.endpoints = eps;
    o.n_endpoints = 1;
    o.heartbeat_interval_ms = 20;
    o.fetch_max_wait_ms = 200;
    assert_int_equal(rf_bmeta_start(&f.loop, &o, on_change, &f, &f.bm), 0);

    /* refused twice as a duplicate, then registered (3rd attempt) */
    RUN_UNTIL(&f, rf_bmeta_epoch(f.bm) != 0);
    assert_int_equal(f.registers, 3);
    assert_int_equal(rf_bmeta_epoch(f.bm), 103);
    /* the whole image arrives, then the poll is held */
    RUN_UNTIL(&f, f.held != NULL);
    assert_true(rf_meta_topic_get(rf_bmeta_image(f.bm), "t1", &t));
    assert_int_equal(rf_meta_offset(rf_bmeta_image(f.bm)), 2);
    /* caught up: heartbeats unfence it */
    RUN_UNTIL(&f, !rf_bmeta_fenced(f.bm));
    assert_int_equal(f.last_hb_epoch, 103);
    /* a new command wakes the held poll with a delta */
    controller_add_topic(&f, "t2");
    struct rf_rpc_call *held = f.held;
    f.held = NULL;
    answer_poll(&f, held, f.held_since);
    RUN_UNTIL(&f, rf_meta_topic_get(rf_bmeta_image(f.bm), "t2", &t));
    assert_int_equal(rf_meta_offset(rf_bmeta_image(f.bm)), 3);
    assert_int_equal(f.last_change_old, 2);
    assert_int_equal(rf_meta_hash(rf_bmeta_image(f.bm)), rf_meta_hash(f.cimg));
    /* a stale epoch makes it register again with a new epoch */
    f.stale_next_hb = true;
    RUN_UNTIL(&f, rf_bmeta_epoch(f.bm) == 104);
    RUN_UNTIL(&f, f.last_hb_epoch == 104);
    /* controlled shutdown repeats until nothing is left to move */
    rf_bmeta_controlled_shutdown(f.bm, 5000, on_cs, &f);
    RUN_UNTIL(&f, f.cs_done);
    assert_int_equal(f.cs_status, 0);
    assert_int_equal(f.cs_remaining, 0);

    rf_bmeta_close(f.bm, on_closed, &f);
    RUN_UNTIL(&f, f.closed);
    if (f.held)
        rf_rpc_call_drop(f.held);
    rf_rpc_server_close(f.srv, on_srv_closed, &f);
    uv_run(&f.loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&f.loop), 0);
    rf_meta_image_free(f.cimg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_follow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
