#!/usr/bin/python3
"""clients_python.py: drives confluent_kafka (librdkafka 2.0.2) or
kafka-python 2.0.2 against the capture server so it records their real
requests. Usage: clients_python.py confluent|kafkapython BOOTSTRAP TOPIC"""
import sys
import time


def confluent(bs, topic):
    from confluent_kafka import Consumer, Producer, TopicPartition
    from confluent_kafka.admin import AdminClient, NewTopic
    base = {"bootstrap.servers": bs, "client.id": "cap-confluent"}
    p = Producer(dict(base, **{"enable.idempotence": True, "linger.ms": 5}))
    for i in range(3):
        p.produce(topic, key=b"k%d" % i, value=b"value-%d" % i)
    p.flush(10)
    c = Consumer(dict(base, **{"group.id": "cap-group",
                               "auto.offset.reset": "earliest",
                               "enable.auto.commit": False}))
    c.subscribe([topic])
    end = time.time() + 8
    while time.time() < end:
        c.poll(0.2)
        try:
            if c.assignment():
                c.commit(offsets=[TopicPartition(topic, 0, 1)],
                         asynchronous=False)
                break
        except Exception:
            pass
    c.close()
    a = AdminClient(base)
    for f in a.create_topics([NewTopic("cap-new", 3, 1)],
                             request_timeout=5).values():
        try:
            f.result(10)
        except Exception:
            pass
    for f in a.delete_topics(["cap-new"], request_timeout=5).values():
        try:
            f.result(10)
        except Exception:
            pass


def kafkapython(bs, topic):
    from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
    from kafka import TopicPartition
    from kafka.admin import NewTopic
    p = KafkaProducer(bootstrap_servers=bs, client_id="cap-kafkapython",
                      acks=1)
    for i in range(3):
        p.send(topic, key=b"k%d" % i, value=b"value-%d" % i)
    p.flush(10)
    p.close(5)
    c = KafkaConsumer(bootstrap_servers=bs, client_id="cap-kafkapython",
                      group_id="cap-group", enable_auto_commit=False,
                      consumer_timeout_ms=2000)
    tp = TopicPartition(topic, 0)
    c.assign([tp])
    c.seek_to_beginning(tp)
    c.position(tp)
    c.offsets_for_times({tp: 1000})
    c.poll(timeout_ms=500)
    c.commit({tp: __import__("kafka").OffsetAndMetadata(1, "meta")})
    c.committed(tp)
    c.close()
    a = KafkaAdminClient(bootstrap_servers=bs, client_id="cap-kafkapython")
    a.create_topics([NewTopic("cap-new", 3, 1)])
    a.delete_topics(["cap-new"])
    a.close()


if __name__ == "__main__":
    {"confluent": confluent, "kafkapython": kafkapython}[sys.argv[1]](
        sys.argv[2], sys.argv[3])
