#!/usr/bin/python3
"""bench_rebalance.py: rebalance time of a confluent-kafka (librdkafka)
group of 3 over 6 partitions on 3 controllers + 3 brokers, median over N
rounds: (a) one member SIGKILLed until the two others hold all partitions
(bounded below by the session timeout, 6 s here); (b) a fourth member
started until the four hold all partitions. A program that prints figures,
not a test. Usage: bench_rebalance.py [N]   (env as tests/integration)"""
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import test_groups as tg  # noqa: E402
from broker_harness import BrokerCluster  # noqa: E402
from riffle_harness import ControllerCluster, Workdir  # noqa: E402


def stable_since(members, t0, timeout=60):
    """Seconds from t0 until the members' assignments split all partitions."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sets = [m.assigned for m in members]
        if all(s is not None for s in sets):
            if set().union(*sets) == set(range(tg.PARTS)) and \
                    sum(len(s) for s in sets) == tg.PARTS:
                return time.monotonic() - t0
        time.sleep(0.01)
    raise AssertionError("not stable")


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    kill, join = [], []
    with Workdir(prefix="riffle-rbench-") as wd:
        ctl = ControllerCluster(wd, n=3).start()
        ctl.wait_active()
        brokers = BrokerCluster(wd, ctl, n=3, extra={
            "offsets.topic.num.partitions": "6",
            "offsets.topic.replication.factor": "1"}).start()
        bs = brokers.bootstrap()
        ctl.ctl("create", tg.TOPIC, tg.PARTS, 1)
        brokers.wait_topic(tg.TOPIC, tg.PARTS)
        live = [tg.Member("confluent", bs) for _ in range(3)]
        try:
            tg.wait_stable(live, "start")
            for _ in range(n):
                for m in live:
                    m.assigned = None
                victim = live.pop(0)
                t0 = time.monotonic()
                victim.kill9()
                kill.append(stable_since(live, t0))
                for m in live:
                    m.assigned = None
                t0 = time.monotonic()
                live.append(tg.Member("confluent", bs))
                join.append(stable_since(live, t0))
        finally:
            for m in live:
                if m.alive():
                    m.kill9()
        brokers.stop()
        ctl.stop()
    print("rebalance after SIGKILL of 1 of 3 (session.timeout.ms=6000): "
          "median %.2f s (min %.2f, max %.2f, n=%d)"
          % (statistics.median(kill), min(kill), max(kill), n))
    print("rebalance after a member joins a group of 2: "
          "median %.2f s (min %.2f, max %.2f, n=%d)"
          % (statistics.median(join), min(join), max(join), n))


if __name__ == "__main__":
    main()
