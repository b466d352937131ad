#!/usr/bin/python3
"""bench_memory.py: resident memory of one riffle-broker leading 1,000 idle
partitions, and its peak during a riffle-bench run. A program, not a test.

usage: bench_memory.py BUILD_DIR [PARTITIONS]
  BUILD_DIR holds controller/node/riffle-controller, broker/server/riffle-broker,
  tests/integration/controller/ctltool and tests/bench/broker/riffle-bench
  (use a Release build: sanitizers multiply memory).
"""
import os
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "..", "integration", "broker"))
from broker_harness import BrokerCluster  # noqa: E402
from riffle_harness import ControllerCluster, Workdir  # noqa: E402


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main():
    build = os.path.abspath(sys.argv[1])
    parts = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    os.environ["RIFFLE_CONTROLLER"] = build + "/controller/node/riffle-controller"
    os.environ["RIFFLE_CTLTOOL"] = build + "/tests/integration/controller/ctltool"
    os.environ["RIFFLE_BROKER"] = build + "/broker/server/riffle-broker"
    with Workdir(prefix="riffle-mem-") as wd:
        ctl = ControllerCluster(wd, n=3).start()
        ctl.wait_active()
        b = BrokerCluster(wd, ctl, n=1).start()
        pid = b.procs[1].pid
        print("broker, no partitions: %.1f MiB RSS" % (rss_kib(pid) / 1024))
        ctl.ctl("create", "idle", parts, 1, timeout=120)
        b.wait_topic("idle", parts, timeout=120)
        time.sleep(2)
        print("broker leading %d idle partitions: %.1f MiB RSS"
              % (parts, rss_kib(pid) / 1024))
        ctl.ctl("create", "bench", 1, 1)
        b.wait_topic("bench", 1)
        peak = [0]
        done = threading.Event()

        def sample():
            while not done.is_set():
                peak[0] = max(peak[0], rss_kib(pid))
                time.sleep(0.05)
        t = threading.Thread(target=sample)
        t.start()
        r = subprocess.run([build + "/tests/bench/broker/riffle-bench",
                            "--bootstrap", b.bootstrap(), "--topic", "bench",
                            "--count", "1000000", "--no-mock"],
                           capture_output=True, text=True, timeout=600)
        done.set()
        t.join()
        print(r.stdout.strip())
        print("broker peak during riffle-bench: %.1f MiB RSS" % (peak[0] / 1024))
        b.stop()
        ctl.stop()


if __name__ == "__main__":
    main()
