#!/usr/bin/python3
"""bench_controller.py: controller figures (a program, not a test).

  1. leader failover: N kill -9s of the active controller with the default
     timeouts (election 1000 ms, heartbeat 100 ms, pre-vote on); time from
     the kill to a surviving node answering NodeStatus with active=1 (it has
     won the election and committed its barrier). The killed node is
     restarted and caught up before the next round.
  2. admin throughput through Raft: create+delete topic pairs (churn) at 1
     and 32 requests in flight, and topic creates at 64 in flight.

usage: RIFFLE_CONTROLLER=... RIFFLE_CTLTOOL=... bench_controller.py [kills]
"""
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "lib"))
from riffle_harness import ControllerCluster, Proc, Workdir  # noqa: E402


def failover(cl, kills):
    times = []
    for rnd in range(kills):
        old = cl.wait_active()
        rest = [i for i in cl.ids if i != old]
        t0 = cl.procs[old].kill9()
        new = None
        while new is None:
            for i in rest:
                st = cl.status(i)
                if st and st["active"] == "1":
                    new = i
                    break
            if time.monotonic() - t0 > 30:
                raise SystemExit("no new active controller in 30 s")
        dt = (time.monotonic() - t0) * 1000
        times.append(dt)
        print("failover %2d: killed %d -> active %d in %6.0f ms"
              % (rnd + 1, old, new, dt), flush=True)
        cl.procs[old].start()
        cl.wait_ready(old)
        cl.wait_converged(timeout=30)
    return times


def main():
    kills = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    with Workdir(prefix="riffle-bench-") as wd:
        cl = ControllerCluster(wd, 3).start()
        cl.wait_active()
        brokers = [Proc(wd, "broker-%d" % b, [cl.ctltool, cl.endpoints(),
                                              "broker", str(b), "500"]).start()
                   for b in (1, 2, 3)]
        time.sleep(2)
        times = failover(cl, kills)
        print("FAILOVER kills=%d median_ms=%.0f max_ms=%.0f min_ms=%.0f"
              % (len(times), statistics.median(times), max(times), min(times)))
        cl.wait_active()
        for name, args in (("churn w=1", ("churn", "c1-", 300, 1)),
                           ("churn w=32", ("churn", "c32-", 2000, 32)),
                           ("create w=64", ("create-many", "m-", 3000, 64, 1, 1))):
            out = cl.ctl(*args, timeout=300)
            print("ADMIN %-12s %s" % (name, out.strip()), flush=True)
        for p in brokers:
            p.term()
        cl.stop()


if __name__ == "__main__":
    main()
