#!/usr/bin/python3
"""test_restart.py: a broker killed with SIGKILL mid-stream and restarted at
once registers again (its new incarnation is accepted once the old session
expires: regression test for rejected registrations keeping the dead
incarnation's session alive), recovers its partition logs, and serves every
message acknowledged before the kill (acks=all, so fdatasync'ed), at the
offsets the acknowledgements gave, with producing continuing afterwards."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "lib"))
from broker_harness import BrokerCluster  # noqa: E402
from riffle_harness import ControllerCluster, Workdir, wait_until  # noqa: E402


def produce(bs, topic, start, n, acked):
    from confluent_kafka import Producer

    def on_delivery(err, msg):
        if err is None:
            acked[msg.value()] = (msg.partition(), msg.offset())

    p = Producer({"bootstrap.servers": bs, "acks": "all", "linger.ms": 2,
                  "message.timeout.ms": 20000})
    for i in range(start, start + n):
        p.produce(topic, value=b"m%06d" % i, partition=i % 2,
                  on_delivery=on_delivery)
        p.poll(0)
    p.flush(30)


def read_all(bs, topic):
    from confluent_kafka import Consumer, TopicPartition
    c = Consumer({"bootstrap.servers": bs, "group.id": "unused",
                  "enable.auto.commit": False})
    c.assign([TopicPartition(topic, 0, -2), TopicPartition(topic, 1, -2)])
    got = {}
    idle = time.monotonic() + 10
    while time.monotonic() < idle:
        m = c.poll(0.5)
        if m is None or m.error():
            continue
        got[m.value()] = (m.partition(), m.offset())
        idle = time.monotonic() + 3
    c.close()
    return got


def main():
    with Workdir(prefix="riffle-restart-") as wd:
        # A process crash (not a power cut): what reached the page cache
        # survives, so the harness's tmpfs directory is fine here.
        ctl = ControllerCluster(wd, n=3).start()
        ctl.wait_active()
        b = BrokerCluster(wd, ctl, n=1).start()
        ctl.ctl("create", "crash", 2, 1)
        b.wait_topic("crash", 2)
        acked = {}
        produce(b.bootstrap(), "crash", 0, 3000, acked)
        assert len(acked) == 3000, len(acked)
        b.procs[1].kill9()
        b.procs[1].start()
        t0 = time.monotonic()
        b.wait_ready(timeout=60)
        b.wait_topic("crash", 2, timeout=60)
        print("broker back after %.1fs" % (time.monotonic() - t0))
        produce(b.bootstrap(), "crash", 3000, 1000, acked)
        assert len(acked) == 4000, len(acked)
        got = read_all(b.bootstrap(), "crash")
        missing = [v for v in acked if v not in got]
        moved = [v for v in acked if v in got and got[v] != acked[v]]
        assert not missing, "%d acknowledged messages missing" % len(missing)
        assert not moved, "%d messages at another offset" % len(moved)
        for part in (0, 1):
            offs = sorted(o for p, o in got.values() if p == part)
            assert offs == list(range(len(offs))), "gap in partition %d" % part
        b.stop()
        ctl.stop()
    print("1 passed, 0 failed")


if __name__ == "__main__":
    main()
