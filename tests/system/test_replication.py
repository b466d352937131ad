#!/usr/bin/python3
"""test_replication.py: 3 controllers, 3 brokers, a topic of 3 partitions
with replication factor 3 and min.insync.replicas 2.

1. acks=all produces are acknowledged (the high watermark moves only when
   the followers report the batches durable), every acknowledged message is
   read back at its offset with contiguous offsets, and the segment files
   of all three replicas of every partition end byte-identical.
2. The leader of partition 0 is killed with SIGKILL: once the controller
   moves leadership, acks=all produces succeed on the new leader; the old
   leader is restarted, follows (truncating per epoch if needed), and all
   replicas end byte-identical with nothing acknowledged missing.
3. Divergence (KIP-101/320): both followers of partition 0 are stopped,
   the leader appends acks=1 batches they never see, then is killed; a
   follower becomes leader and takes new acks=all writes; the old leader
   returns, truncates its divergent tail by leader epoch (its log says
   so) and ends byte-identical with the others."""
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sys_harness import ReplCluster  # noqa: E402
from riffle_harness import ControllerCluster, Workdir, wait_until  # noqa: E402

TOPIC = "repl"
NPART = 3


def produce(bs, start, n, acked, failed):
    from confluent_kafka import Producer

    def on_delivery(err, msg):
        if err is None:
            acked[msg.value()] = (msg.partition(), msg.offset())
        else:
            failed.append(str(err))

    p = Producer({"bootstrap.servers": bs, "acks": "all", "linger.ms": 1,
                  "message.timeout.ms": 30000})
    for i in range(start, start + n):
        p.produce(TOPIC, value=b"m%07d" % i, partition=i % NPART,
                  on_delivery=on_delivery)
        p.poll(0)
    left = p.flush(45)
    assert left == 0, "%d messages never answered" % left


def read_all(bs):
    from confluent_kafka import Consumer, TopicPartition
    c = Consumer({"bootstrap.servers": bs, "group.id": "unused",
                  "enable.auto.commit": False})
    c.assign([TopicPartition(TOPIC, i, -2) for i in range(NPART)])
    got = {}
    idle = time.monotonic() + 10
    while time.monotonic() < idle:
        m = c.poll(0.5)
        if m is None or m.error():
            continue
        got.setdefault(m.value(), []).append((m.partition(), m.offset()))
        idle = time.monotonic() + 3
    c.close()
    return got


def check(acked, got):
    missing = [v for v in acked if v not in got]
    moved = [v for v in acked if v in got and acked[v] not in got[v]]
    assert not missing, "%d acknowledged messages missing" % len(missing)
    assert not moved, "%d messages at another offset" % len(moved)
    for part in range(NPART):
        offs = sorted(o for locs in got.values() for p, o in locs
                      if p == part)
        assert offs == list(range(len(offs))), "gap in partition %d" % part
    dups = sum(1 for locs in got.values() if len(locs) > 1)
    print("read %d messages, %d stored twice (producer retries)"
          % (len(got), dups))


def wait_identical(b, ids):
    def same():
        for part in range(NPART):
            segs = {i: b.segment_bytes(i, TOPIC, part) for i in ids}
            if len(set(segs.values())) != 1:
                return False
        return True
    wait_until(same, 30, "replicas byte-identical", interval=0.5)


def produce_acks1(bs, n):
    from confluent_kafka import Producer
    done = []
    p = Producer({"bootstrap.servers": bs, "acks": 1, "linger.ms": 0,
                  "message.timeout.ms": 10000})
    for i in range(n):
        p.produce(TOPIC, value=b"lost%d" % i, partition=0,
                  on_delivery=lambda err, msg: done.append(err))
        p.flush(10)
    return sum(1 for e in done if e is None)


def diverge(b, acked):
    leader = b.leaders(TOPIC)[0]
    followers = [i for i in b.ids if i != leader]
    for i in followers:
        os.kill(b.procs[i].pid, signal.SIGSTOP)
    try:
        n = produce_acks1(b.bootstrap([leader]), 20)
        assert n > 0, "no acks=1 write reached the lone leader"
        b.procs[leader].kill9()
    finally:
        for i in followers:
            os.kill(b.procs[i].pid, signal.SIGCONT)

    def moved():
        ls = b.leaders(TOPIC)
        return ls is not None and ls.get(0, -1) in followers
    wait_until(moved, 60, "partition 0 led by a follower", interval=0.5)
    failed = []
    base = len(acked)
    produce(b.bootstrap(followers), 10000, 300, acked, failed)
    assert len(acked) == base + 300, (len(acked), failed[:5])
    b.procs[leader].start()
    b.wait_ready(timeout=60)
    wait_identical(b, b.ids)
    assert "diverging epoch" in b.procs[leader].log_since_start(), \
        "the old leader did not truncate by epoch"
    check(acked, read_all(b.bootstrap()))


def main():
    with Workdir(prefix="riffle-repl-") as wd:
        ctl = ControllerCluster(wd, n=3).start()
        ctl.wait_active()
        b = ReplCluster(wd, ctl, n=3,
                        extra={"min.insync.replicas": "2",
                               "replica.lag.time.max.ms": "10000"}).start()
        ctl.ctl("create", TOPIC, NPART, 3)
        b.wait_topic(TOPIC, NPART)
        acked, failed = {}, []
        t0 = time.monotonic()
        produce(b.bootstrap(), 0, 3000, acked, failed)
        print("3000 acks=all in %.2fs" % (time.monotonic() - t0))
        assert len(acked) == 3000, (len(acked), failed[:5])
        check(acked, read_all(b.bootstrap()))
        wait_identical(b, b.ids)
        print("part 1 ok: replicated, byte-identical")

        old = b.leaders(TOPIC)[0]
        b.procs[old].kill9()

        def moved():
            ls = b.leaders(TOPIC)
            return ls is not None and ls.get(0, -1) not in (-1, old)
        wait_until(moved, 60, "partition 0 leadership moved", interval=0.5)
        rest = [i for i in b.ids if i != old]
        failed.clear()
        produce(b.bootstrap(rest), 3000, 1500, acked, failed)
        print("after kill: %d acked, %d failed" % (len(acked), len(failed)))
        assert len(acked) == 4500, (len(acked), failed[:5])
        b.procs[old].start()
        b.wait_ready(timeout=60)
        wait_identical(b, b.ids)
        check(acked, read_all(b.bootstrap()))
        print("part 2 ok: failover, rejoin, byte-identical")
        diverge(b, acked)
        print("part 3 ok: divergent tail truncated, byte-identical")
        b.stop()
        ctl.stop()
    print("1 passed, 0 failed")


if __name__ == "__main__":
    main()
