#!/usr/bin/python3
"""test_cli.py: the riffle CLI and deploy/riffle-cluster against real riffle-controller processes.

usage: test_cli.py cluster|cluster_errors
Environment: RIFFLE_BIN_DIR (CMake build dir with riffle-controller and riffle), FAKEBROKER
(tests/integration/cli/fakebroker), RIFFLE_CLUSTER (deploy/riffle-cluster).
Every process started here is stopped in `finally`, and `down` is checked with pgrep.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

BIN_DIR = os.environ["RIFFLE_BIN_DIR"]
RIFFLE = os.path.join(BIN_DIR, "controller", "cli", "riffle")
FAKEBROKER = os.environ["FAKEBROKER"]
CLUSTER = os.environ["RIFFLE_CLUSTER"]
CMD_TIMEOUT = 60  # seconds, a bound on any single command


def log(msg):
    print("test_cli: " + msg, flush=True)


def run(args, timeout=CMD_TIMEOUT, env=None):
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=timeout, env=env)
    return p.returncode, p.stdout, p.stderr


class Cluster:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="riffle-cli-")
        self.controllers = None
        self.brokers = []

    def sh(self, *args, timeout=CMD_TIMEOUT):
        return run([CLUSTER] + list(args) + ["--dir", self.dir], timeout=timeout)

    def up(self, n):
        rc, out, err = run([CLUSTER, "up", "--controllers", str(n), "--brokers", "0",
                            "--dir", self.dir], timeout=90)
        assert rc == 0, "up failed rc=%d\n%s\n%s" % (rc, out, err)
        lines = [l for l in out.splitlines() if l.startswith("RIFFLE_CONTROLLERS=")]
        assert len(lines) == 1, out
        self.controllers = lines[0].split("=", 1)[1]
        with open(os.path.join(self.dir, "controllers")) as f:
            assert f.read().strip() == self.controllers
        log("up: " + self.controllers)

    def riffle(self, *args, timeout_ms=20000):
        return run([RIFFLE, "--controllers", self.controllers, "--timeout", str(timeout_ms)]
                   + list(args))

    def riffle_json(self, *args, timeout_ms=20000):
        rc, out, err = self.riffle("--json", *args, timeout_ms=timeout_ms)
        assert rc == 0, "riffle %s: rc=%d %s" % (" ".join(args), rc, err)
        assert err == "", "stderr not empty: %r" % err
        return json.loads(out)

    def start_broker(self, bid):
        p = subprocess.Popen([FAKEBROKER, self.controllers, str(bid), "100"],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.brokers.append(p)

    def stop_brokers(self):
        for p in self.brokers:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.brokers:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=10)
        self.brokers = []

    def dir_pids(self):
        rc, out, _ = run(["pgrep", "-f", self.dir])
        return out.split()

    def dump_logs(self):
        logs = os.path.join(self.dir, "logs")
        if not os.path.isdir(logs):
            return
        for name in sorted(os.listdir(logs)):
            with open(os.path.join(logs, name), errors="replace") as f:
                tail = f.readlines()[-40:]
            print("---- %s (last %d lines)" % (name, len(tail)))
            sys.stdout.write("".join(tail))

    def cleanup(self):
        self.stop_brokers()
        if os.path.exists(os.path.join(self.dir, "cluster.env")):
            self.sh("down")
        for pid in self.dir_pids():  # never leave anything behind
            try:
                os.kill(int(pid), signal.SIGKILL)
            except ProcessLookupError:
                pass
        shutil.rmtree(self.dir, ignore_errors=True)


def wait_for(what, fn, timeout_s=30.0):
    """Poll fn until it returns a true value (bounded; no timing assertions)."""
    end = time.monotonic() + timeout_s
    last = None
    while time.monotonic() < end:
        try:
            last = fn()
            if last:
                return last
        except (AssertionError, ValueError) as e:
            last = e
        time.sleep(0.2)
    raise AssertionError("timed out waiting for %s (last: %r)" % (what, last))


def assert_one_line_error(rc, out, err, want_rc, needle):
    assert rc == want_rc, "rc=%d want %d (stderr %r)" % (rc, want_rc, err)
    assert out == "", "stdout on error: %r" % out
    assert err.endswith("\n") and err.count("\n") == 1, "not one line: %r" % err
    assert err.startswith("riffle: "), err
    assert needle in err, "%r lacks %r" % (err, needle)


def leaders(status):
    return [c["id"] for c in status["controllers"] if c["role"] == "leader"]


def one_leader(c, exclude=None):
    st = c.riffle_json("cluster", "status", timeout_ms=5000)
    ls = leaders(st)
    if len(ls) == 1 and ls[0] != exclude and st["active_controller"] == ls[0]:
        return st
    return None


def topic_checks(c):
    # Three fake brokers so that topics can be placed.
    for bid in (1, 2, 3):
        c.start_broker(bid)

    def unfenced():
        bl = c.riffle_json("broker", "list")["brokers"]
        return len([b for b in bl if b["state"] == "unfenced"]) == 3
    wait_for("3 unfenced brokers", unfenced)
    st = c.riffle_json("cluster", "status")
    assert st["brokers"] == {"total": 3, "unfenced": 3, "fenced": 0,
                             "controlled_shutdown": 0}, st["brokers"]

    rc, out, err = c.riffle("topic", "create", "orders", "--partitions", "3",
                            "--replication-factor", "2", "--config", "retention.ms=60000")
    assert rc == 0 and err == "", (rc, err)
    assert out.startswith("Created topic orders"), out
    rc, out, err = c.riffle("topic", "create", "orders", "--partitions", "3",
                            "--replication-factor", "2")
    assert_one_line_error(rc, out, err, 1, "topic orders: TOPIC_ALREADY_EXISTS")
    rc, out, err = c.riffle("topic", "create", "big", "--partitions", "1",
                            "--replication-factor", "5")
    assert_one_line_error(rc, out, err, 1, "topic big: INVALID_REPLICATION_FACTOR")

    names = [t["name"] for t in c.riffle_json("topic", "list")["topics"]]
    assert names == ["orders"], names
    d = c.riffle_json("topic", "describe", "orders")["topics"]
    assert len(d) == 1 and d[0]["name"] == "orders", d
    parts = d[0]["partitions"]
    assert sorted(p["partition"] for p in parts) == [0, 1, 2], parts
    for p in parts:
        assert len(p["replicas"]) == 2 and set(p["replicas"]) <= {1, 2, 3}, p
        assert p["leader"] in p["replicas"] and set(p["isr"]) <= set(p["replicas"]), p
    assert d[0]["configs"].get("retention.ms") == "60000", d[0]["configs"]
    rc, out, err = c.riffle("topic", "describe", "orders")
    assert rc == 0 and "PARTITION  LEADER" in out and "Topic: orders" in out, out
    rc, out, err = c.riffle("topic", "list")
    assert rc == 0 and out.splitlines()[0].split()[0] == "NAME" and "orders" in out, out
    rc, out, err = c.riffle("topic", "describe", "nope")
    assert_one_line_error(rc, out, err, 1, "topic nope: UNKNOWN_TOPIC")


def failover_checks(c):
    st = wait_for("exactly one leader", lambda: one_leader(c))
    old = leaders(st)[0]
    log("leader is controller-%d; killing it" % old)
    rc, out, err = c.sh("kill", "controller-%d" % old)
    assert rc == 0, err
    st = wait_for("a new leader", lambda: one_leader(c, exclude=old))
    new = leaders(st)[0]
    assert new != old
    roles = {x["id"]: x["role"] for x in st["controllers"]}
    assert roles[old] == "unreachable", roles
    log("new leader controller-%d" % new)

    # Metadata survived; delete goes through the new active controller.
    names = [t["name"] for t in c.riffle_json("topic", "list")["topics"]]
    assert names == ["orders"], names
    rc, out, err = c.riffle("topic", "delete", "orders")
    assert rc == 0 and out == "Deleted topic orders\n", (rc, out, err)
    rc, out, err = c.riffle("topic", "delete", "orders")
    assert_one_line_error(rc, out, err, 1, "topic orders: UNKNOWN_TOPIC")
    assert c.riffle_json("topic", "list")["topics"] == []

    # The killed node comes back as a follower.
    rc, out, err = c.sh("start", "controller-%d" % old)
    assert rc == 0, err

    def rejoined():
        s = c.riffle_json("cluster", "status", timeout_ms=5000)
        roles = sorted(x["role"] for x in s["controllers"])
        return roles == ["follower", "follower", "leader"]
    wait_for("controller-%d to rejoin" % old, rejoined)
    rc, out, err = c.sh("status")
    assert rc == 0 and "controller-%d   running" % old in out, out


def cli_error_checks(c):
    rc, out, err = run([RIFFLE, "--controllers", c.controllers, "frobnicate"])
    assert_one_line_error(rc, out, err, 2, "unknown command 'frobnicate'")
    rc, out, err = run([RIFFLE, "--controllers", c.controllers, "topic", "list", "--bogus"])
    assert_one_line_error(rc, out, err, 2, "unknown flag '--bogus'")
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    dead = "127.0.0.1:%d" % s.getsockname()[1]
    s.close()
    t0 = time.monotonic()
    rc, out, err = run([RIFFLE, "--controllers", dead, "--timeout", "1000", "cluster", "status"])
    assert_one_line_error(rc, out, err, 1, "no answer from an active controller")
    log("unreachable controller: gave up after %.2fs" % (time.monotonic() - t0))
    env = dict(os.environ, RIFFLE_CONTROLLERS=c.controllers)
    rc, out, err = run([RIFFLE, "--json", "cluster", "status"], env=env)
    assert rc == 0 and json.loads(out)["active_controller"] > 0, (rc, err)
    rc, out, err = run([RIFFLE, "topic", "create", "--help"])
    assert rc == 0 and out.startswith("Usage: riffle topic create") and err == ""


def test_cluster():
    c = Cluster()
    try:
        c.up(3)
        # Followers register their RPC endpoints with the leader shortly
        # after it is elected: wait until every controller is listed.
        st = wait_for("3 controllers with RPC endpoints", lambda: (
            lambda s: s if len(s["controllers"]) == 3 and all(
                x["rpc"] != "-" for x in s["controllers"]) else None)(
                    c.riffle_json("cluster", "status")))
        assert len(leaders(st)) == 1, st
        assert st["active_controller"] == leaders(st)[0], st
        assert st["metadata_offset"] > 0 and len(st["cluster_id"]) == 22, st
        for x in st["controllers"]:
            assert x["term"] >= 1 and x["rpc"].startswith("127.0.0.1:"), x
        cli_error_checks(c)
        topic_checks(c)
        failover_checks(c)
        c.stop_brokers()
        rc, out, err = c.sh("down")
        assert rc == 0, err
        assert c.dir_pids() == [], "left behind: %s" % c.dir_pids()
        rc, out, err = c.sh("status")
        assert "controller-1   stopped" in out, out
        log("cluster: ok")
    except BaseException:
        c.dump_logs()
        raise
    finally:
        c.cleanup()


def test_cluster_errors():
    c = Cluster()
    try:
        rc, out, err = run([CLUSTER, "up", "--controllers", "1", "--brokers", "10",
                            "--dir", c.dir])
        assert rc != 0 and "--brokers must be 0..9" in err, err
        rc, out, err = run([CLUSTER, "up", "--controllers", "0", "--dir", c.dir])
        assert rc != 0 and "--controllers must be 1..9" in err, err
        rc, out, err = run([CLUSTER, "frob"])
        assert rc != 0 and "unknown command 'frob'" in err, err
        rc, out, err = c.sh("kill", "controller-1")
        assert rc != 0 and "no cluster in" in err, err
        # An explicit base port that is busy is refused, naming the port.
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        busy = s.getsockname()[1]
        try:
            rc, out, err = run([CLUSTER, "up", "--controllers", "1", "--brokers", "0",
                                "--dir", c.dir, "--base-port", str(busy)])
            assert rc != 0 and ("port %d" % busy) in err, err
        finally:
            s.close()
        # A one-node cluster: up, kill, start, down.
        c.up(1)
        rc, out, err = c.sh("kill", "controller-2")
        assert rc != 0 and "no node controller-2" in err, err
        rc, out, err = c.sh("start", "controller-1")
        assert rc != 0 and "already runs" in err, err
        rc, out, err = c.sh("kill", "controller-1")
        assert rc == 0, err
        rc, out, err = c.sh("kill", "controller-1")
        assert rc != 0 and "not running" in err, err
        rc, out, err = c.sh("start", "controller-1")
        assert rc == 0, err
        wait_for("one leader", lambda: one_leader(c))
        rc, out, err = c.sh("down")
        assert rc == 0 and c.dir_pids() == [], (err, c.dir_pids())
        log("cluster_errors: ok")
    except BaseException:
        c.dump_logs()
        raise
    finally:
        c.cleanup()


if __name__ == "__main__":
    {"cluster": test_cluster, "cluster_errors": test_cluster_errors}[sys.argv[1]]()
