#!/usr/bin/python3
"""bench_failover.py [KILLS] [SESSION_MS]: time from SIGKILL of a partition
leader to the first successful acks=all produce on its new leader, over
KILLS kills (default 20), with 3 controllers and 3 brokers, replication
factor 3, min.insync.replicas 2, controllers' broker.session.timeout.ms =
SESSION_MS (default 9000, riffle-cluster's). A benchmark, not a test:
prints median and max. Needs RIFFLE_BROKER, RIFFLE_CONTROLLER,
RIFFLE_CTLTOOL (a Release build for figures)."""
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sys_harness import ReplCluster  # noqa: E402
from riffle_harness import ControllerCluster, Workdir, wait_until  # noqa: E402

TOPIC = "failover"


def produce_one(bs, timeout):
    from confluent_kafka import Producer
    ok = []
    p = Producer({"bootstrap.servers": bs, "acks": "all",
                  "message.timeout.ms": int(timeout * 1000),
                  "topic.metadata.refresh.interval.ms": 100,
                  "retry.backoff.ms": 20, "reconnect.backoff.ms": 20,
                  "reconnect.backoff.max.ms": 100})
    p.produce(TOPIC, value=b"f", partition=0,
              on_delivery=lambda err, msg: ok.append(err is None))
    p.flush(timeout + 5)
    return bool(ok and ok[0])


def main():
    kills = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    session = sys.argv[2] if len(sys.argv) > 2 else "9000"
    with Workdir(prefix="riffle-failover-") as wd:
        ctl = ControllerCluster(wd, n=3, extra={
            "broker.session.timeout.ms": session,
            "broker.heartbeat.interval.ms": "500"}).start()
        ctl.wait_active()
        b = ReplCluster(wd, ctl, n=3, extra={
            "min.insync.replicas": "2"}).start()
        ctl.ctl("create", TOPIC, 1, 3)
        b.wait_topic(TOPIC, 1)
        times = []
        for k in range(kills):
            wait_until(lambda: (lambda i: i is not None and
                                all(sorted(x["id"] if isinstance(x, dict)
                                           else x for x in p["isrs"]) ==
                                    [1, 2, 3] for t in i["topics"]
                                    if t["topic"] == TOPIC
                                    for p in t["partitions"]))(b.metadata()),
                       120, "full ISR", interval=0.2)
            assert produce_one(b.bootstrap(), 10)
            leader = b.leaders(TOPIC)[0]
            rest = [i for i in b.ids if i != leader]
            t0 = time.monotonic()
            b.procs[leader].kill9()
            while not produce_one(b.bootstrap(rest), 30):
                pass
            dt = (time.monotonic() - t0) * 1000
            times.append(dt)
            print("kill %d: broker %d, first acks=all on the new leader "
                  "after %.0f ms" % (k + 1, leader, dt), flush=True)
            b.procs[leader].start()
            b.wait_ready(timeout=60)
        print("failover over %d kills (session %s ms): median %.0f ms, "
              "max %.0f ms, min %.0f ms"
              % (kills, session, statistics.median(times), max(times),
                 min(times)))
        b.stop()
        ctl.stop()


if __name__ == "__main__":
    main()
