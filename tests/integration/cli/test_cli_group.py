#!/usr/bin/python3
"""test_cli_group.py: `riffle group list` and `riffle group describe` against
1 controller + 2 brokers, with a real group of two confluent-kafka consumers
(tests/integration/groups/group_consumer.py, committing every record).

- Stable group: list shows it (state, protocol type, 2 members, in text and
  --json); describe shows both members (client id, host, assignments that
  split the 4 partitions as the consumers themselves report) and per
  partition the committed offset, log end offset and lag 0.
- Members closed, 7 more records in partition 1: describe shows Empty, no
  members, lag 7 on partition 1 and 0 elsewhere.
- Errors: unknown group, no broker listening, missing --bootstrap-server,
  missing group name, --bootstrap-server on a controller command: one line
  on stderr each and exit 1 (failed operation) or 2 (usage).
"""
import json
import os
import signal
import subprocess
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "broker"))
sys.path.insert(0, os.path.join(HERE, "..", "..", "lib"))
from broker_harness import BrokerCluster  # noqa: E402
from riffle_harness import (ControllerCluster, Workdir, free_port,  # noqa
                            wait_until)

RIFFLE = os.path.join(os.environ["RIFFLE_BIN_DIR"], "controller", "cli",
                      "riffle")
CONSUMER = os.path.join(HERE, "..", "groups", "group_consumer.py")
TOPIC = "cli-t"
GROUP = "cli-g"
PARTS = 4
PER_PART = 10


def riffle(*args, timeout=60):
    p = subprocess.run([RIFFLE] + list(args), capture_output=True, text=True,
                       timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def riffle_ok(bs, *args):
    rc, out, err = riffle(*args, "--bootstrap-server", bs)
    assert rc == 0, "riffle %s: rc=%d\n%s%s" % (" ".join(args), rc, out, err)
    assert err == "", "riffle %s wrote to stderr: %s" % (args, err)
    return out


def riffle_fails(args, rc_want, msg):
    rc, out, err = riffle(*args)
    assert rc == rc_want, "riffle %s: rc=%d, want %d\n%s%s" % (
        args, rc, rc_want, out, err)
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("riffle: ") and \
        msg in lines[0], "riffle %s: stderr %r, want one line with %r" % (
            args, err, msg)
    assert out == "", out
    print("error ok: %s -> %s" % (" ".join(args[:3]), lines[0]))


class Member:
    """One group_consumer.py (confluent-kafka) and what it printed."""

    def __init__(self, bs):
        self.p = subprocess.Popen(["/usr/bin/python3", CONSUMER, "confluent",
                                   bs, GROUP, TOPIC], stdout=subprocess.PIPE,
                                  text=True)
        self.assigned = None
        self.keys = set()
        self.closed = False
        self.lock = threading.Lock()
        self.t = threading.Thread(target=self._read, daemon=True)
        self.t.start()

    def _read(self):
        for line in self.p.stdout:
            w = line.split()
            with self.lock:
                if w and w[0] == "ASSIGN":
                    self.assigned = frozenset(int(x) for x in w[1].split(",")) \
                        if len(w) > 1 else frozenset()
                elif w and w[0] == "MSG":
                    self.keys.add(w[3])
                elif w and w[0] == "CLOSED":
                    self.closed = True

    def term(self):
        self.p.send_signal(signal.SIGTERM)
        self.p.wait(30)
        self.t.join(5)
        assert self.closed, "consumer did not close cleanly"

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait(10)


def produce(bs, counts):
    """counts: {partition: n} records, keys unique per call."""
    from confluent_kafka import Producer
    p = Producer({"bootstrap.servers": bs, "acks": "all"})
    keys = set()
    for part, n in counts.items():
        for i in range(n):
            k = "p%d-%d-%d" % (part, i, os.getpid())
            p.produce(TOPIC, key=k.encode(), value=b"x", partition=part)
            keys.add(k)
    assert p.flush(30) == 0
    return keys


def check_stable(bs, members):
    out = json.loads(riffle_ok(bs, "group", "list", "--json"))
    rows = [g for g in out["groups"] if g["group"] == GROUP]
    assert rows == [{"group": GROUP, "state": "Stable",
                     "protocol_type": "consumer", "members": 2}], out
    text = riffle_ok(bs, "group", "list")
    assert text.splitlines()[0].split() == ["GROUP", "STATE", "PROTOCOL",
                                            "TYPE", "MEMBERS"], text
    assert [GROUP, "Stable", "consumer", "2"] in \
        [ln.split() for ln in text.splitlines()], text

    d = json.loads(riffle_ok(bs, "group", "describe", GROUP, "--json"))
    assert d["group"] == GROUP and d["state"] == "Stable", d
    assert d["protocol_type"] == "consumer" and d["protocol"] == "range", d
    assert d["coordinator"]["id"] in (1, 2), d["coordinator"]
    assert len(d["members"]) == 2, d["members"]
    owner = {}
    got = set()
    for m in d["members"]:
        assert m["client_id"] == "rdkafka", m
        assert "127.0.0.1" in m["host"], m
        ps = frozenset(a["partition"] for a in m["assignment"]
                       if a["topic"] == TOPIC)
        got.add(ps)
        for p in ps:
            owner[p] = m["member_id"]
    want = {m.assigned for m in members}
    assert got == want, "describe says %s, the consumers %s" % (got, want)
    parts = {(p["topic"], p["partition"]): p for p in d["partitions"]}
    assert sorted(parts) == [(TOPIC, i) for i in range(PARTS)], parts
    for i in range(PARTS):
        p = parts[(TOPIC, i)]
        assert p["committed_offset"] == PER_PART, p
        assert p["log_end_offset"] == PER_PART and p["lag"] == 0, p
        assert p["member_id"] == owner[i], (p, owner)

    text = riffle_ok(bs, "group", "describe", GROUP)
    assert "State:        Stable" in text and \
        "Protocol:     consumer/range" in text, text
    rows = [ln.split() for ln in text.splitlines()]
    for i in range(PARTS):
        assert [TOPIC, str(i), str(PER_PART), str(PER_PART), "0",
                owner[i]] in rows, text
    print(text)


def check_empty(bs):
    def empty():
        d = json.loads(riffle_ok(bs, "group", "describe", GROUP, "--json"))
        return d if d["state"] == "Empty" else None
    wait_until(lambda: empty() is not None, 30, "group Empty")
    d = empty()
    assert d["members"] == [], d
    for p in d["partitions"]:
        extra = 7 if p["partition"] == 1 else 0
        assert p["committed_offset"] == PER_PART, p
        assert p["log_end_offset"] == PER_PART + extra, p
        assert p["lag"] == extra and p["member_id"] is None, p
    out = json.loads(riffle_ok(bs, "group", "list", "--json"))
    assert {"group": GROUP, "state": "Empty", "protocol_type": "consumer",
            "members": 0} in out["groups"], out
    text = riffle_ok(bs, "group", "describe", GROUP)
    assert [TOPIC, "1", str(PER_PART), str(PER_PART + 7), "7", "-"] in \
        [ln.split() for ln in text.splitlines()], text
    print(text)


def check_errors(bs, ctl_eps):
    riffle_fails(["group", "describe", "no-such-group",
                  "--bootstrap-server", bs], 1,
                 "group 'no-such-group' not found")
    dead = "127.0.0.1:%d" % free_port()
    riffle_fails(["group", "list", "--bootstrap-server", dead,
                  "--timeout", "2000"], 1,
                 "no broker reachable at %s within 2000 ms" % dead)
    riffle_fails(["group", "describe", GROUP, "--bootstrap-server", dead,
                  "--timeout", "2000"], 1, "no broker reachable")
    riffle_fails(["group", "list"], 2, "needs --bootstrap-server")
    riffle_fails(["group", "describe", "--bootstrap-server", bs], 2,
                 "'group describe' needs a group name")
    riffle_fails(["group", "list", "--bootstrap-server", "nocolon"], 2,
                 "bad bootstrap server list")
    riffle_fails(["--controllers", ctl_eps, "topic", "list",
                  "--bootstrap-server", bs], 2,
                 "--bootstrap-server applies to 'group' commands only")


def main():
    with Workdir(prefix="riffle-cligrp-") as wd:
        ctl = ControllerCluster(wd, n=1).start()
        ctl.wait_active()
        brokers = BrokerCluster(wd, ctl, n=2, extra={
            "offsets.topic.num.partitions": "4",
            "offsets.topic.replication.factor": "1"}).start()
        bs = brokers.bootstrap()
        ctl.ctl("create", TOPIC, PARTS, 1)
        brokers.wait_topic(TOPIC, PARTS)
        want = produce(bs, {i: PER_PART for i in range(PARTS)})
        members = [Member(bs), Member(bs)]
        try:
            def stable():
                sets = [m.assigned for m in members]
                return None not in sets and \
                    sorted(p for s in sets for p in s) == list(range(PARTS))
            wait_until(stable, 90, "2 members share %d partitions" % PARTS,
                       interval=0.2)
            wait_until(lambda: want <= members[0].keys | members[1].keys, 60,
                       "every record consumed", interval=0.2)
            check_stable(bs, members)
            for m in members:
                m.term()
            produce(bs, {1: 7})
            check_empty(bs)
            check_errors(bs, ctl.endpoints())
        finally:
            for m in members:
                m.kill()
        brokers.stop()
        ctl.stop()
    print("1 passed, 0 failed")


if __name__ == "__main__":
    main()
