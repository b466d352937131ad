#!/usr/bin/python3
"""test_python_clients.py: confluent-kafka (librdkafka) and kafka-python
against 3 controllers + 3 brokers: produce, consume from the beginning,
seek to an offset and by timestamp; admin create and delete topics with
both clients' admin APIs.

Usage: test_python_clients.py confluent|kafka-python|admin
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "lib"))
from broker_harness import BrokerCluster  # noqa: E402
from riffle_harness import ControllerCluster, Workdir, wait_until  # noqa: E402

N = 2000


def check_confluent(bs, brokers, ctl):
    from confluent_kafka import Consumer, Producer, TopicPartition
    topic = "py-confluent"
    ctl.ctl("create", topic, 2, 1)
    brokers.wait_topic(topic, 2)
    p = Producer({"bootstrap.servers": bs, "acks": "all", "linger.ms": 5})
    acked = []

    def on_delivery(err, msg):
        assert err is None, err
        acked.append((msg.partition(), msg.offset(), msg.key()))

    t_mid = None
    for i in range(N):
        if i == N // 2:
            p.flush(30)
            time.sleep(0.05)
            t_mid = int(time.time() * 1000)
            time.sleep(0.05)
        p.produce(topic, key=b"k%d" % i, value=b"v%d" % i, partition=i % 2,
                  on_delivery=on_delivery)
        p.poll(0)
    assert p.flush(30) == 0
    assert len(acked) == N, len(acked)
    for part in (0, 1):
        offs = sorted(o for pp, o, k in acked if pp == part)
        assert offs == list(range(N // 2)), "partition %d offsets" % part

    def consume(assign, want):
        c = Consumer({"bootstrap.servers": bs, "group.id": "unused",
                      "enable.auto.commit": False,
                      "auto.offset.reset": "earliest"})
        c.assign(assign)
        got = []
        deadline = time.monotonic() + 30
        while len(got) < want and time.monotonic() < deadline:
            m = c.poll(0.5)
            if m is None or m.error():
                continue
            got.append((m.partition(), m.offset(), m.key(), m.value()))
        c.close()
        return got

    # from the beginning
    got = consume([TopicPartition(topic, 0, -2), TopicPartition(topic, 1, -2)],
                  N)
    assert len(got) == N, len(got)
    assert sorted(k for _, _, k, _ in got) == sorted(b"k%d" % i
                                                    for i in range(N))
    # from an offset
    got = consume([TopicPartition(topic, 1, 700)], N // 2 - 700)
    assert [o for _, o, _, _ in got] == list(range(700, N // 2)), got[:3]
    assert got[0][2] == b"k%d" % (700 * 2 + 1), got[0]
    # by timestamp: the first record at or after t_mid is message N/2
    c = Consumer({"bootstrap.servers": bs, "group.id": "unused"})
    tps = c.offsets_for_times([TopicPartition(topic, 0, t_mid),
                               TopicPartition(topic, 1, t_mid)], timeout=10)
    c.close()
    offs = sorted(tp.offset for tp in tps)
    assert offs == [N // 4, N // 4], offs
    print("confluent_kafka: produce, consume, seek offset/time ok")


def check_kafka_python(bs, brokers, ctl):
    from kafka import KafkaConsumer, KafkaProducer, TopicPartition
    topic = "py-kafka"
    ctl.ctl("create", topic, 1, 1)
    brokers.wait_topic(topic, 1)
    p = KafkaProducer(bootstrap_servers=bs, acks="all", retries=3,
                      linger_ms=5)
    futs = []
    t_mid = None
    for i in range(N):
        if i == N // 2:
            p.flush(30)
            time.sleep(0.05)
            t_mid = int(time.time() * 1000)
            time.sleep(0.05)
        futs.append(p.send(topic, key=b"k%d" % i, value=b"v%d" % i))
    p.flush(30)
    offs = [f.get(timeout=30).offset for f in futs]
    assert offs == list(range(N)), offs[:5]
    p.close()
    tp = TopicPartition(topic, 0)
    c = KafkaConsumer(bootstrap_servers=bs, enable_auto_commit=False,
                      consumer_timeout_ms=10000)
    c.assign([tp])
    c.seek_to_beginning(tp)
    got = [m for _, m in zip(range(N), c)]
    assert [m.offset for m in got] == list(range(N))
    assert got[123].key == b"k123" and got[123].value == b"v123"
    c.seek(tp, 1500)
    m = next(c)
    assert m.offset == 1500 and m.key == b"k1500", m
    ot = c.offsets_for_times({tp: t_mid})
    assert ot[tp].offset == N // 2, ot
    assert c.end_offsets([tp])[tp] == N
    assert c.beginning_offsets([tp])[tp] == 0
    c.close()
    print("kafka-python: produce, consume, seek offset/time ok")


def check_admin(bs, brokers, ctl):
    from confluent_kafka.admin import AdminClient, NewTopic
    from kafka.admin import KafkaAdminClient
    from kafka.admin import NewTopic as KNewTopic
    a = AdminClient({"bootstrap.servers": bs})
    fs = a.create_topics([NewTopic("adm-c1", num_partitions=3,
                                   replication_factor=1)])
    fs["adm-c1"].result(30)
    brokers.wait_topic("adm-c1", 3)
    fs = a.create_topics([NewTopic("adm-c1", num_partitions=3,
                                   replication_factor=1)])
    try:
        fs["adm-c1"].result(30)
        raise AssertionError("duplicate create succeeded")
    except Exception as e:  # TOPIC_ALREADY_EXISTS
        assert "TOPIC_ALREADY_EXISTS" in str(e) or "already exists" in str(e), e
    fs = a.create_partitions([__import__("confluent_kafka").admin
                              .NewPartitions("adm-c1", 5)])
    fs["adm-c1"].result(30)
    brokers.wait_topic("adm-c1", 5)
    fs = a.delete_topics(["adm-c1"])
    fs["adm-c1"].result(30)
    wait_until(lambda: "adm-c1" not in a.list_topics(timeout=10).topics, 30,
               "adm-c1 gone")
    k = KafkaAdminClient(bootstrap_servers=bs)
    k.create_topics([KNewTopic("adm-k1", 2, 1)])
    brokers.wait_topic("adm-k1", 2)
    assert "adm-k1" in k.list_topics()
    k.delete_topics(["adm-k1"])
    wait_until(lambda: "adm-k1" not in k.list_topics(), 30, "adm-k1 gone")
    k.close()
    print("admin: confluent AdminClient and KafkaAdminClient ok")


def check_large(bs, brokers, ctl):
    """message.max.bytes set above what a partition log holds (64 MiB): a
    batch over 64 MiB is refused with MESSAGE_TOO_LARGE and stores nothing;
    one over the 1 MiB default but within the limit is stored, and read back
    although fetch.max.bytes is 1 MiB."""
    from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition
    topic = "py-large"
    ctl.ctl("create", topic, 1, 1)
    brokers.wait_topic(topic, 1)
    results = []
    p = Producer({"bootstrap.servers": bs, "acks": "all",
                  "message.max.bytes": 100000000,
                  "message.timeout.ms": 60000,
                  "compression.type": "none"})

    def on_delivery(err, msg):
        results.append(err)

    p.produce(topic, value=b"x" * (64 * 1024 * 1024 + 1000), partition=0,
              on_delivery=on_delivery)
    assert p.flush(90) == 0
    assert len(results) == 1 and results[0] is not None, results
    assert results[0].code() == KafkaError.MSG_SIZE_TOO_LARGE, results[0]
    p.produce(topic, value=b"y" * (3 * 1024 * 1024), partition=0,
              on_delivery=on_delivery)
    assert p.flush(90) == 0
    assert results[1] is None, results[1]
    c = Consumer({"bootstrap.servers": bs, "group.id": "unused",
                  "fetch.message.max.bytes": 8 * 1024 * 1024})
    lo, hi = c.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)
    assert (lo, hi) == (0, 1), (lo, hi)
    c.assign([TopicPartition(topic, 0, 0)])
    m = None
    deadline = time.monotonic() + 30
    while m is None and time.monotonic() < deadline:
        m = c.poll(0.5)
        if m is not None and m.error():
            m = None
    c.close()
    assert m is not None and len(m.value()) == 3 * 1024 * 1024
    print("confluent_kafka: a 64 MiB + 1000 batch is MESSAGE_TOO_LARGE, "
          "a 3 MiB one is stored")


def main():
    which = sys.argv[1]
    # "large": the 3 MiB record must still be consumed although an answer
    # may hold only 1 MiB (fetch.max.bytes; the first batch may go over).
    extra = {"message.max.bytes": "1073741824",
             "fetch.max.bytes": "1048576"} if which == "large" else None
    with Workdir(prefix="riffle-py-") as wd:
        ctl = ControllerCluster(wd, n=3).start()
        ctl.wait_active()
        brokers = BrokerCluster(wd, ctl, n=3, extra=extra).start()
        bs = brokers.bootstrap()
        {"confluent": check_confluent, "kafka-python": check_kafka_python,
         "admin": check_admin, "large": check_large}[which](bs, brokers, ctl)
        brokers.stop()
        ctl.stop()
    print("1 passed, 0 failed")


if __name__ == "__main__":
    main()
