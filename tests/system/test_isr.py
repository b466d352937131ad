#!/usr/bin/python3
"""test_isr.py: the ISR follows the followers (system tests c and d, with
3 controllers, 3 brokers, 3 partitions, replication factor 3,
min.insync.replicas 2, replica.lag.time.max.ms 2000).

c. SIGSTOP one follower: the ISR of every partition it follows shrinks
   (AlterPartition from the leaders) and acks=all writes continue; SIGCONT:
   it catches up and rejoins the ISR.
d. Two of three brokers down: acks=all writes fail with NOT_ENOUGH_REPLICAS;
   after the brokers return and rejoin, nothing acknowledged is missing and
   acks=all writes succeed again."""
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sys_harness import ReplCluster  # noqa: E402
from riffle_harness import ControllerCluster, Workdir, wait_until  # noqa: E402
from test_replication import NPART, TOPIC, check, produce, read_all  # noqa

LAG_MS = 2000


def isrs(b):
    md = b.metadata()
    if md is None:
        return None
    for t in md.get("topics", []):
        if t["topic"] == TOPIC:
            return {p["partition"]:
                    sorted(x["id"] if isinstance(x, dict) else x
                           for x in p.get("isrs", []))
                    for p in t.get("partitions", [])}
    return None


def wait_isr(b, pred, what, timeout):
    t0 = time.monotonic()
    wait_until(lambda: (lambda s: s is not None and len(s) == NPART and
                        all(pred(v) for v in s.values()))(isrs(b)),
               timeout, what, interval=0.2)
    print("%s after %.1fs" % (what, time.monotonic() - t0))


def produce_no_retry(bs, n):
    from confluent_kafka import Producer
    errs, oks = [], []

    def on_delivery(err, msg):
        (errs if err is not None else oks).append(err)

    p = Producer({"bootstrap.servers": bs, "acks": "all", "retries": 0,
                  "message.timeout.ms": 10000})
    for i in range(n):
        p.produce(TOPIC, value=b"x%d" % i, partition=i % NPART,
                  on_delivery=on_delivery)
    p.flush(30)
    return oks, [e.name() for e in errs]


def main():
    with Workdir(prefix="riffle-isr-") as wd:
        ctl = ControllerCluster(wd, n=3).start()
        ctl.wait_active()
        b = ReplCluster(wd, ctl, n=3, extra={
            "min.insync.replicas": "2",
            "replica.lag.time.max.ms": str(LAG_MS)}).start()
        ctl.ctl("create", TOPIC, NPART, 3)
        b.wait_topic(TOPIC, NPART)
        acked, failed = {}, []
        produce(b.bootstrap(), 0, 600, acked, failed)
        assert len(acked) == 600, failed[:3]
        wait_isr(b, lambda v: v == [1, 2, 3], "full ISR", 30)

        # c. A stopped follower leaves the ISR; writes continue.
        leaders = b.leaders(TOPIC)
        f = next(i for i in b.ids if i != leaders[0])
        os.kill(b.procs[f].pid, signal.SIGSTOP)
        try:
            wait_isr(b, lambda v: f not in v,
                     "broker %d out of every ISR it was in" % f, 60)
            live = [i for i in b.ids if i != f]
            produce(b.bootstrap(live), 600, 600, acked, failed)
            assert len(acked) == 1200, (len(acked), failed[:3])
        finally:
            os.kill(b.procs[f].pid, signal.SIGCONT)
        wait_isr(b, lambda v: v == [1, 2, 3], "broker %d back in the ISR" % f,
                 60)
        check(acked, read_all(b.bootstrap()))

        # d. Two brokers down: NOT_ENOUGH_REPLICAS, then recovery.
        down = [i for i in b.ids if i != leaders[0]]
        keep = leaders[0]
        for i in down:
            b.procs[i].kill9()
        wait_isr(b, lambda v: v == [keep], "ISR down to broker %d" % keep, 60)
        oks, errs = produce_no_retry(b.bootstrap([keep]), 30)
        print("with one broker: %d ok, errors %s" % (len(oks), set(errs)))
        assert not oks, "acks=all succeeded with an ISR of 1"
        assert set(errs) == {"NOT_ENOUGH_REPLICAS"}, set(errs)
        for i in down:
            b.procs[i].start()
        b.wait_ready(timeout=60)
        wait_isr(b, lambda v: v == [1, 2, 3], "brokers back in the ISR", 60)
        produce(b.bootstrap(), 1200, 600, acked, failed)
        assert len(acked) == 1800, (len(acked), failed[:3])
        check(acked, read_all(b.bootstrap()))
        b.stop()
        ctl.stop()
    print("1 passed, 0 failed")


if __name__ == "__main__":
    main()
