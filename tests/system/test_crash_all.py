#!/usr/bin/python3
"""test_crash_all.py (system test e): SIGKILL all three brokers at once
during acks=all writes, restart them: every acknowledged message is there,
at the offset its acknowledgement gave, offsets contiguous (duplicates from
producer retries of unacknowledged sends are counted, not failed).

The harness keeps data on /dev/shm, so this proves recovery after a process
crash of every replica (what was written survives in the page cache and
the logs recover), not survival of a power cut; fdatasync itself is covered
by the storage tests."""
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sys_harness import ReplCluster  # noqa: E402
from riffle_harness import ControllerCluster, Workdir  # noqa: E402
from test_replication import NPART, TOPIC, check, read_all  # noqa: E402


class Writer(threading.Thread):
    """Produces numbered messages with acks=all until stopped."""

    def __init__(self, bs):
        super().__init__(daemon=True)
        self.bs = bs
        self.acked = {}
        self.errors = 0
        self.sent = 0
        self.stop = threading.Event()

    def run(self):
        from confluent_kafka import Producer

        def on_delivery(err, msg):
            if err is None:
                self.acked[msg.value()] = (msg.partition(), msg.offset())
            else:
                self.errors += 1
        p = Producer({"bootstrap.servers": self.bs, "acks": "all",
                      "linger.ms": 1, "message.timeout.ms": 60000,
                      "queue.buffering.max.messages": 20000})
        i = 0
        while not self.stop.is_set():
            try:
                p.produce(TOPIC, value=b"d%08d" % i, partition=i % NPART,
                          on_delivery=on_delivery)
                i += 1
            except BufferError:
                p.poll(0.05)
            p.poll(0)
            if i % 200 == 0:
                time.sleep(0.01)
        self.sent = i
        p.flush(90)


def main():
    with Workdir(prefix="riffle-crash-") as wd:
        ctl = ControllerCluster(wd, n=3).start()
        ctl.wait_active()
        b = ReplCluster(wd, ctl, n=3,
                        extra={"min.insync.replicas": "2"}).start()
        ctl.ctl("create", TOPIC, NPART, 3)
        b.wait_topic(TOPIC, NPART)
        w = Writer(b.bootstrap())
        w.start()
        deadline = time.monotonic() + 60
        while len(w.acked) < 3000 and time.monotonic() < deadline:
            time.sleep(0.1)
        before = len(w.acked)
        assert before >= 3000, "writes not acknowledged before the crash"
        for i in b.ids:
            b.procs[i].kill9()
        print("killed all brokers with %d acknowledged" % before)
        time.sleep(1)
        for i in b.ids:
            b.procs[i].start()
        b.wait_ready(timeout=90)
        b.wait_topic(TOPIC, NPART, timeout=90)
        deadline = time.monotonic() + 60
        while len(w.acked) < before + 1000 and time.monotonic() < deadline:
            time.sleep(0.1)
        w.stop.set()
        w.join(120)
        print("sent %d, acknowledged %d, failed %d"
              % (w.sent, len(w.acked), w.errors))
        assert len(w.acked) >= before + 1000, "writes did not resume"
        check(w.acked, read_all(b.bootstrap()))
        b.stop()
        ctl.stop()
    print("1 passed, 0 failed")


if __name__ == "__main__":
    main()
