"""sys_harness.py: the integration BrokerCluster with a REPLICATION listener
on every broker (a free port each), for the replication system tests."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration", "broker"))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from broker_harness import BrokerCluster  # noqa: E402
from riffle_harness import free_port, write_properties  # noqa: E402


class ReplCluster(BrokerCluster):
    def __init__(self, workdir, controllers, n=3, extra=None, binary=None):
        super().__init__(workdir, controllers, n=n, extra=extra, binary=binary)
        self.repl_port = {}
        for i in self.ids:
            path = os.path.join(workdir.path, "broker-%d.properties" % i)
            conf = {}
            with open(path) as f:
                for line in f:
                    line = line.strip()
                    if line and not line.startswith("#") and "=" in line:
                        k, v = line.split("=", 1)
                        conf[k.strip()] = v.strip()
            self.repl_port[i] = free_port()
            conf["listeners"] = ("PLAINTEXT://127.0.0.1:%d,"
                                 "REPLICATION://127.0.0.1:%d"
                                 % (self.kafka_port[i], self.repl_port[i]))
            write_properties(path, conf)

    def leaders(self, topic):
        """{partition: leader} from Metadata (None if unavailable)."""
        md = self.metadata()
        if md is None:
            return None
        for t in md.get("topics", []):
            if t["topic"] == topic:
                return {p["partition"]: p.get("leader", -1)
                        for p in t.get("partitions", [])}
        return None

    def segment_bytes(self, i, topic, part):
        """Concatenated .log segment bytes of one replica, in file order."""
        d = os.path.join(self.dirs[i], "%s-%d" % (topic, part))
        out = b""
        for name in sorted(os.listdir(d)):
            if name.endswith(".log"):
                with open(os.path.join(d, name), "rb") as f:
                    out += f.read()
        return out
