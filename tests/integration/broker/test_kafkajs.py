#!/usr/bin/python3
"""test_kafkajs.py: runs test_kafkajs.js (kafkajs 2.2.4) against 3
controllers + 3 brokers. kafkajs is installed from the npm registry into
$RIFFLE_NODE_DIR (a directory of the build tree, never the repository) the
first time; an install failure fails the test."""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "lib"))
from broker_harness import BrokerCluster  # noqa: E402
from riffle_harness import ControllerCluster, Workdir  # noqa: E402


def ensure_kafkajs(node_dir):
    mod = os.path.join(node_dir, "node_modules", "kafkajs", "package.json")
    if os.path.exists(mod):
        return
    os.makedirs(node_dir, exist_ok=True)
    subprocess.run(["npm", "install", "--prefix", node_dir, "--no-audit",
                    "--no-fund", "--no-save", "kafkajs@2.2.4"], check=True,
                   timeout=300)


def main():
    node_dir = os.environ["RIFFLE_NODE_DIR"]
    ensure_kafkajs(node_dir)
    env = dict(os.environ, NODE_PATH=os.path.join(node_dir, "node_modules"),
               KAFKAJS_NO_PARTITIONER_WARNING="1")
    with Workdir(prefix="riffle-js-") as wd:
        ctl = ControllerCluster(wd, n=3).start()
        ctl.wait_active()
        brokers = BrokerCluster(wd, ctl, n=3).start()
        r = subprocess.run(["node", os.path.join(HERE, "test_kafkajs.js"),
                            brokers.bootstrap()], env=env, timeout=240,
                           capture_output=True, text=True)
        sys.stdout.write(r.stdout)
        sys.stderr.write(r.stderr)
        assert r.returncode == 0, "kafkajs test failed"
        brokers.stop()
        ctl.stop()
    print("1 passed, 0 failed")


if __name__ == "__main__":
    main()
