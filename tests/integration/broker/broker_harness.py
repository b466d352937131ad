"""broker_harness.py: riffle-broker processes on top of tests/lib's
ControllerCluster, for integration tests with real Kafka clients.

  BrokerCluster(workdir, controllers, n=1, extra={})   brokers 1..n
    .start() / .wait_ready()   ready = every broker unfenced and listed in
                               Metadata (checked with kcat -L)
    .bootstrap()               "127.0.0.1:p1,127.0.0.1:p2,..."
    .procs[id]                 harness Proc (kill9, term, restart)
"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "lib"))
from riffle_harness import (HarnessError, Proc, free_port,  # noqa: E402
                            wait_until, write_properties)

KCAT = "kcat"


class BrokerCluster:
    def __init__(self, workdir, controllers, n=1, extra=None, binary=None):
        self.wd = workdir
        self.binary = binary or os.environ["RIFFLE_BROKER"]
        self.ids = list(range(1, n + 1))
        self.kafka_port = {i: free_port() for i in self.ids}
        self.dirs = {i: os.path.join(workdir.path, "b%d" % i) for i in self.ids}
        self.procs = {}
        for i in self.ids:
            conf = {
                "node.id": str(i),
                "process.roles": "broker",
                "controller.quorum.bootstrap.servers": controllers.endpoints(),
                "listeners": "PLAINTEXT://127.0.0.1:%d" % self.kafka_port[i],
                "log.dirs": self.dirs[i],
                "broker.heartbeat.interval.ms": "500",
                "broker.session.timeout.ms": "6000",
            }
            conf.update(extra or {})
            path = os.path.join(workdir.path, "broker-%d.properties" % i)
            write_properties(path, conf)
            self.procs[i] = Proc(workdir, "broker-%d" % i,
                                 [self.binary, "--config", path])

    def bootstrap(self, ids=None):
        return ",".join("127.0.0.1:%d" % self.kafka_port[i]
                        for i in (ids or self.ids))

    def start(self, ids=None):
        for i in ids or self.ids:
            self.procs[i].start()
        self.wait_ready(ids)
        return self

    def metadata(self, timeout=10):
        """kcat -L -J as a dict, or None."""
        try:
            r = subprocess.run([KCAT, "-b", self.bootstrap(), "-L", "-J",
                                "-m", "5"], capture_output=True, text=True,
                               timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        if r.returncode != 0:
            return None
        try:
            return json.loads(r.stdout)
        except ValueError:
            return None

    def wait_ready(self, ids=None, timeout=60):
        want = set(ids or self.ids)

        def ready():
            # A restarted broker must say so itself: Metadata from a peer
            # can still list the incarnation that was killed.
            for i in want:
                p = self.procs[i]
                if p.running() and "broker unfenced" not in p.log_since_start():
                    return False
            md = self.metadata()
            if md is None:
                return False
            listed = {b["id"] for b in md.get("brokers", [])}
            return want <= listed
        wait_until(ready, timeout, "brokers %s listed in Metadata"
                   % sorted(want), interval=0.2)

    def wait_topic(self, name, partitions, timeout=30):
        """Wait until Metadata shows name with every partition led."""
        def ok():
            md = self.metadata()
            if md is None:
                return False
            for t in md.get("topics", []):
                if t["topic"] == name and "error" not in t:
                    ps = t.get("partitions", [])
                    return (len(ps) == partitions and
                            all(p.get("leader", -1) >= 0 and "error" not in p
                                for p in ps))
            return False
        wait_until(ok, timeout, "topic %s with %d led partitions"
                   % (name, partitions), interval=0.2)

    def stop(self, ids=None, timeout=20):
        for i in ids or self.ids:
            p = self.procs[i]
            if p.running():
                rc = p.term(timeout=timeout)
                if rc != 0:
                    raise HarnessError("broker-%d exited %d on SIGTERM"
                                       % (i, rc))
