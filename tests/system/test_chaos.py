#!/usr/bin/python3
"""test_chaos.py MODE [COUNT] (system tests a and b): 3 controllers, 3
brokers, a topic of 6 partitions, replication factor 3, min.insync.replicas
2. A producer writes COUNT (default 200,000) numbered messages with
acks=all while, every few seconds,
  MODE=leader:      the broker leading the most partitions is SIGKILLed and
                    restarted at once;
  MODE=controller:  the active controller is SIGKILLed and restarted.
A checker then reads every partition from the beginning and asserts: every
acknowledged message is present at exactly the offset its acknowledgement
gave; offsets are contiguous; copies of a message at several offsets are
reported separately (producer retries of unacknowledged sends)."""
import collections
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sys_harness import ReplCluster  # noqa: E402
from riffle_harness import ControllerCluster, Workdir, wait_until  # noqa: E402,E501
import test_replication as tr  # noqa: E402

tr.NPART = 6
KILL_EVERY_S = 3.0
RATE = 8000  # msgs/s: long enough a run for several kills
DEADLINE_S = 300


class Writer(threading.Thread):
    def __init__(self, bs, count):
        super().__init__(daemon=True)
        self.bs, self.count = bs, count
        self.acked, self.errors, self.done = {}, 0, threading.Event()

    def run(self):
        from confluent_kafka import Producer

        def on_delivery(err, msg):
            if err is None:
                self.acked[msg.value()] = (msg.partition(), msg.offset())
            else:
                self.errors += 1
        p = Producer({"bootstrap.servers": self.bs, "acks": "all",
                      "linger.ms": 5, "message.timeout.ms": 120000,
                      "queue.buffering.max.messages": 50000})
        i = 0
        start = time.monotonic()
        while i < self.count:
            if i % 100 == 0:
                ahead = start + i / RATE - time.monotonic()
                if ahead > 0:
                    time.sleep(ahead)
            try:
                p.produce(tr.TOPIC, value=b"c%08d" % i,
                          partition=i % tr.NPART, on_delivery=on_delivery)
                i += 1
            except BufferError:
                p.poll(0.05)
            p.poll(0)
        p.flush(180)
        self.done.set()


def busiest_broker(b):
    ls = b.leaders(tr.TOPIC)
    if not ls:
        return None
    c = collections.Counter(v for v in ls.values() if v >= 0)
    return c.most_common(1)[0][0] if c else None


def watermarks(bs):
    from confluent_kafka import Consumer, TopicPartition
    c = Consumer({"bootstrap.servers": bs, "group.id": "unused"})
    try:
        return [c.get_watermark_offsets(TopicPartition(tr.TOPIC, i),
                                        timeout=5)[1]
                for i in range(tr.NPART)]
    except Exception as e:  # noqa: BLE001 (a broker still starting)
        print("watermarks: %s" % e)
        return None
    finally:
        c.close()


def wait_hwm(b, acked):
    """Every acknowledged offset below its partition's high watermark."""
    need = [0] * tr.NPART
    for part, off in acked.values():
        need[part] = max(need[part], off + 1)
    last = [None]

    def ok():
        last[0] = watermarks(b.bootstrap())
        return last[0] is not None and all(
            h >= n for h, n in zip(last[0], need))
    try:
        wait_until(ok, 60, "high watermarks past the acknowledged offsets",
                   interval=1)
    finally:
        print("high watermarks %s, acknowledged ends %s" % (last[0], need))


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else "leader"
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 200000
    assert mode in ("leader", "controller"), mode
    with Workdir(prefix="riffle-chaos-") as wd:
        ctl = ControllerCluster(wd, n=3, extra={
            "broker.session.timeout.ms": "3000",
            "broker.heartbeat.interval.ms": "500"}).start()
        ctl.wait_active()
        b = ReplCluster(wd, ctl, n=3, extra={
            "min.insync.replicas": "2",
            "replica.lag.time.max.ms": "5000"}).start()
        ctl.ctl("create", tr.TOPIC, tr.NPART, 3)
        b.wait_topic(tr.TOPIC, tr.NPART)
        w = Writer(b.bootstrap(), count)
        w.start()
        kills = 0
        end = time.monotonic() + DEADLINE_S
        while not w.done.wait(KILL_EVERY_S) and time.monotonic() < end:
            if mode == "leader":
                victim = busiest_broker(b)
                procs = b.procs
            else:
                victim = ctl.active()
                procs = ctl.procs
            if victim is None:
                continue
            procs[victim].kill9()
            procs[victim].start()
            kills += 1
            print("kill %d: %s %d, %d acknowledged" % (kills, mode, victim,
                                                        len(w.acked)))
        assert w.done.wait(120), "producer did not finish"
        print("%d kills; sent %d, acknowledged %d, failed %d"
              % (kills, count, len(w.acked), w.errors))
        b.wait_ready(timeout=60)
        b.wait_topic(tr.TOPIC, tr.NPART, timeout=60)
        wait_hwm(b, w.acked)
        tr.check(w.acked, tr.read_all(b.bootstrap()))
        assert kills >= 1, "nothing was killed"
        b.stop()
        ctl.stop()
    print("1 passed, 0 failed")


if __name__ == "__main__":
    main()
