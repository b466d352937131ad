#!/usr/bin/python3
"""test_versions.py: every (API, version) riffle-broker advertises answers
without error (kversions, our own codec), on 3 controllers + 1 broker."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "lib"))
from broker_harness import BrokerCluster  # noqa: E402
from riffle_harness import ControllerCluster, Workdir  # noqa: E402


def main():
    with Workdir(prefix="riffle-versions-") as wd:
        ctl = ControllerCluster(wd, n=3).start()
        ctl.wait_active()
        b = BrokerCluster(wd, ctl, n=1).start()
        ctl.ctl("create", "kv", 1, 1)
        ctl.ctl("create", "kv-cp", 1, 1)
        b.wait_topic("kv", 1)
        b.wait_topic("kv-cp", 1)
        r = subprocess.run([os.environ["RIFFLE_KVERSIONS"], "127.0.0.1",
                            str(b.kafka_port[1]), "kv"],
                           capture_output=True, text=True, timeout=240)
        sys.stdout.write(r.stdout[-3000:])
        sys.stderr.write(r.stderr[-3000:])
        assert r.returncode == 0, "kversions failed"
        b.stop()
        ctl.stop()
    print("1 passed, 0 failed")


if __name__ == "__main__":
    main()
