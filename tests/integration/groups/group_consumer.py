#!/usr/bin/python3
"""group_consumer.py: one consumer-group member for test_groups.py.

Usage: group_consumer.py confluent|kafka-python BOOTSTRAP GROUP TOPIC [ASSIGNOR]

Prints "ASSIGN p,p,..." after every assignment and "MSG part offset key"
for every record, committing each record's offset synchronously before the
next poll; exits cleanly (commit, LeaveGroup) on SIGTERM.
"""
import signal
import sys

stop = False


def on_term(signum, frame):
    global stop
    stop = True


def say(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def run_confluent(bs, group, topic, assignor):
    from confluent_kafka import Consumer
    conf = {"bootstrap.servers": bs, "group.id": group,
            "enable.auto.commit": False, "auto.offset.reset": "earliest",
            "session.timeout.ms": 6000, "heartbeat.interval.ms": 500}
    if assignor:
        conf["partition.assignment.strategy"] = assignor
    c = Consumer(conf)

    def on_assign(cons, parts):
        say("ASSIGN " + ",".join(str(p.partition) for p in parts))

    c.subscribe([topic], on_assign=on_assign)
    while not stop:
        m = c.poll(0.2)
        if m is None or m.error():
            continue
        say("MSG %d %d %s" % (m.partition(), m.offset(), m.key().decode()))
        try:
            c.commit(message=m, asynchronous=False)
        except Exception as e:  # a rebalance: the record may come again
            say("COMMITFAIL %s %s" % (m.key().decode(), e))
    c.close()


def run_kafka_python(bs, group, topic, assignor):
    from kafka import KafkaConsumer, OffsetAndMetadata, TopicPartition
    from kafka.consumer.subscription_state import ConsumerRebalanceListener
    c = KafkaConsumer(bootstrap_servers=bs, group_id=group,
                      enable_auto_commit=False, auto_offset_reset="earliest",
                      session_timeout_ms=6000, heartbeat_interval_ms=500)

    class L(ConsumerRebalanceListener):
        def on_partitions_revoked(self, revoked):
            pass

        def on_partitions_assigned(self, assigned):
            say("ASSIGN " + ",".join(str(p.partition) for p in assigned))

    c.subscribe([topic], listener=L())
    while not stop:
        batches = c.poll(timeout_ms=200)
        for tp, recs in batches.items():
            for m in recs:
                say("MSG %d %d %s" % (m.partition, m.offset, m.key.decode()))
                try:
                    c.commit({TopicPartition(tp.topic, tp.partition):
                              OffsetAndMetadata(m.offset + 1, None)})
                except Exception as e:
                    say("COMMITFAIL %s %s" % (m.key.decode(), e))
    c.close()


def main():
    signal.signal(signal.SIGTERM, on_term)
    which, bs, group, topic = sys.argv[1:5]
    assignor = sys.argv[5] if len(sys.argv) > 5 else None
    {"confluent": run_confluent,
     "kafka-python": run_kafka_python}[which](bs, group, topic, assignor)
    say("CLOSED")


if __name__ == "__main__":
    main()
