#!/usr/bin/python3
"""test_groups.py: consumer groups with real clients against 3 controllers +
3 brokers. A group of 3 consumers over 6 partitions gets every record
exactly once between them; a member joining, leaving and being SIGKILLed
each triggers a rebalance after which nothing is lost or read twice (each
record's offset is committed before the next poll); committed offsets
survive a restart of the whole group.

Usage: test_groups.py c|confluent|kafka-python|kafkajs|mixed|coordinator|
                      admin|failover
  c: librdkafka from C (group_consumer.c, $RIFFLE_GROUP_CONSUMER_C).
  kafkajs: kafkajs 2.2.4 (installed from npm into $RIFFLE_NODE_DIR on
  first use, as tests/integration/broker/test_kafkajs.py does).
  mixed: kafka-python (JoinGroup v2) and librdkafka (v5) in one group with
  the range assignor.
  admin: ListGroups, DescribeGroups, OffsetFetch (all partitions) and
  DeleteGroups through kafka-python's KafkaAdminClient, confluent-kafka's
  list_groups and librdkafka's admin API in C (admin_calls.c); a deleted
  group stays deleted across a coordinator restart.
  coordinator: the broker leading the group's __consumer_offsets partition
  is SIGKILLed and restarted; it reloads the commits from its log and the
  group resumes from them (replication factor 1 until the harness starts
  brokers with a REPLICATION listener).
"""
import os
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "broker"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "lib"))
from broker_harness import BrokerCluster  # noqa: E402
from riffle_harness import (ControllerCluster, Workdir,  # noqa: E402
                            free_port, wait_until)

TOPIC = "orders"
GROUP = "g-test"
PARTS = 6
BATCH = 300
CONSUMER = os.path.join(os.path.dirname(__file__), "group_consumer.py")
JS_CONSUMER = os.path.join(os.path.dirname(__file__), "group_consumer.js")


def ensure_kafkajs():
    node_dir = os.environ["RIFFLE_NODE_DIR"]
    mod = os.path.join(node_dir, "node_modules", "kafkajs", "package.json")
    if not os.path.exists(mod):
        os.makedirs(node_dir, exist_ok=True)
        subprocess.run(["npm", "install", "--prefix", node_dir, "--no-audit",
                        "--no-fund", "--no-save", "kafkajs@2.2.4"],
                       check=True, timeout=300)
    return dict(os.environ, NODE_PATH=os.path.join(node_dir, "node_modules"))


class Member:
    """One group_consumer.py process and what it printed."""

    def __init__(self, client, bs, assignor=None):
        argv = ["/usr/bin/python3", CONSUMER, client, bs, GROUP, TOPIC]
        env = None
        if client == "c":
            argv = [os.environ["RIFFLE_GROUP_CONSUMER_C"], bs, GROUP, TOPIC]
        if client == "kafkajs":
            argv = ["node", JS_CONSUMER, bs, GROUP, TOPIC]
            env = ensure_kafkajs()
        if assignor:
            argv.append(assignor)
        self.client = client
        self.p = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True,
                                  env=env)
        self.assigned = None   # latest assignment (set of partitions)
        self.msgs = []         # (partition, offset, key)
        self.uncommitted = set()  # keys whose offset commit failed
        self.closed = False
        self.lock = threading.Lock()
        self.t = threading.Thread(target=self._read, daemon=True)
        self.t.start()

    def _read(self):
        for line in self.p.stdout:
            w = line.split()
            with self.lock:
                if w and w[0] == "ASSIGN":
                    self.assigned = {int(x) for x in w[1].split(",")} \
                        if len(w) > 1 else set()
                elif w and w[0] == "MSG":
                    self.msgs.append((int(w[1]), int(w[2]), w[3]))
                elif w and w[0] == "COMMITFAIL" and len(w) > 1:
                    self.uncommitted.add(w[1])
                elif w and w[0] == "CLOSED":
                    self.closed = True

    def alive(self):
        return self.p.poll() is None

    def term(self):
        self.p.send_signal(signal.SIGTERM)
        self.p.wait(30)
        self.t.join(5)
        assert self.closed, "%s consumer did not close cleanly" % self.client

    def kill9(self):
        self.p.kill()
        self.p.wait(10)
        self.t.join(5)


def produce(bs, start, n):
    from confluent_kafka import Producer
    p = Producer({"bootstrap.servers": bs, "acks": "all", "linger.ms": 5})
    for i in range(start, start + n):
        p.produce(TOPIC, key=b"k%d" % i, value=b"v%d" % i)
        p.poll(0)
    assert p.flush(30) == 0
    return {"k%d" % i for i in range(start, start + n)}


def wait_stable(members, what, timeout=60):
    """Until the live members' latest assignments split all partitions."""
    def ok():
        sets = [m.assigned for m in members]
        if any(s is None for s in sets):
            return False
        union = set().union(*sets)
        return union == set(range(PARTS)) and \
            sum(len(s) for s in sets) == PARTS
    wait_until(ok, timeout, "group stable after " + what, interval=0.2)


def all_msgs(members):
    out = []
    for m in members:
        with m.lock:
            out.extend(m.msgs)
    return out


def wait_consumed(everyone, want, what, timeout=60):
    """Every key of want seen; then no key seen twice, except records whose
    offset commit failed (a coordinator moving or a rebalance: Kafka
    delivers those again, at least once)."""
    def ok():
        return want <= {k for _, _, k in all_msgs(everyone)}
    wait_until(ok, timeout, "every record consumed after " + what,
               interval=0.2)
    time.sleep(1.0)  # let any duplicate show up
    uncommitted = set()
    for m in everyone:
        with m.lock:
            uncommitted |= m.uncommitted
    keys = [k for _, _, k in all_msgs(everyone) if k in want]
    seen = {}
    for k in keys:
        seen[k] = seen.get(k, 0) + 1
    again = {k for k, n in seen.items() if n > 1}
    bad = sorted(again - uncommitted)
    assert not bad, "%d records read twice after %s although their offsets " \
        "were committed: %s" % (len(bad), what, bad[:10])
    print("%s: %d records, %d read again after a failed commit, the rest "
          "exactly once" % (what, len(want), len(again)))


def scenario(bs, clients, assignor=None):
    everyone = []

    def member(client):
        m = Member(client, bs, assignor)
        everyone.append(m)
        return m

    live = [member(c) for c in clients]
    try:
        wait_stable(live, "3 members joined")
        want = produce(bs, 0, BATCH)
        wait_consumed(everyone, want, "3 members")
        # SIGKILL: the member disappears after its session timeout.
        victim = live.pop(0)
        victim.kill9()
        wait_stable(live, "a member was SIGKILLed")
        want = produce(bs, BATCH, BATCH)
        wait_consumed(everyone, want, "SIGKILL of a member")
        # Join.
        live.append(member(clients[0]))
        wait_stable(live, "a member joined")
        want = produce(bs, 2 * BATCH, BATCH)
        wait_consumed(everyone, want, "a member joined")
        # Leave (LeaveGroup on close).
        live.pop(0).term()
        wait_stable(live, "a member left")
        want = produce(bs, 3 * BATCH, BATCH)
        wait_consumed(everyone, want, "a member left")
        # Committed offsets survive a restart of the whole group.
        for m in live:
            m.term()
        want = produce(bs, 4 * BATCH, BATCH)
        live = [member(clients[1])]
        wait_stable(live, "the group restarted")
        wait_consumed(everyone, want, "the group restarted")
        old = {"k%d" % i for i in range(4 * BATCH)}
        again = [k for _, _, k in live[0].msgs if k in old]
        assert not again, "restart re-read %d committed records" % len(again)
        live[0].term()
    finally:
        for m in everyone:
            if m.alive():
                m.kill9()


def java_hash(s):
    h = 0
    for ch in s.encode():
        h = (31 * h + ch) & 0xffffffff
    return h & 0x7fffffff


def coordinator_of(brokers, group, nparts):
    """Leader of the group's __consumer_offsets partition, from Metadata."""
    want = java_hash(group) % nparts
    md = brokers.metadata()
    for t in (md or {}).get("topics", []):
        if t["topic"] == "__consumer_offsets":
            for p in t.get("partitions", []):
                if p["partition"] == want:
                    return p.get("leader", -1)
    return -1


def coordinator_restart(bs, brokers):
    live = [Member("confluent", bs), Member("kafka-python", bs)]
    everyone = list(live)
    try:
        wait_stable(live, "2 members joined")
        want = produce(bs, 0, BATCH)
        wait_consumed(everyone, want, "2 members")
        for m in live:
            m.term()
        coord = coordinator_of(brokers, GROUP, PARTS)
        assert coord in brokers.ids, coord
        brokers.procs[coord].kill9()
        brokers.procs[coord].restart()
        brokers.wait_ready()
        wait_until(lambda: coordinator_of(brokers, GROUP, PARTS) >= 0, 60,
                   "a leader for the group's offsets partition")
        want = produce(bs, BATCH, BATCH)
        live = [Member("confluent", bs)]
        everyone += live
        wait_stable(live, "the coordinator restarted")
        wait_consumed(everyone, want, "the coordinator restarted")
        again = [k for _, _, k in live[0].msgs
                 if int(k[1:]) < BATCH]
        assert not again, "%d committed records read again" % len(again)
        live[0].term()
    finally:
        for m in everyone:
            if m.alive():
                m.kill9()


def group_admin(bs, brokers):
    from confluent_kafka.admin import AdminClient
    from kafka import KafkaAdminClient
    live = [Member("confluent", bs), Member("kafka-python", bs)]
    k = KafkaAdminClient(bootstrap_servers=bs)
    try:
        wait_stable(live, "2 members joined")
        want = produce(bs, 0, BATCH)
        wait_consumed(live, want, "2 members")
        assert (GROUP, "consumer") in k.list_consumer_groups()
        d = k.describe_consumer_groups([GROUP])[0]
        assert d.state == "Stable", d
        assert d.protocol_type == "consumer" and d.protocol == "range", d
        assert len(d.members) == 2, d.members
        parts = sorted(p for m in d.members
                       for _, ps in m.member_assignment.assignment
                       for p in ps)
        assert parts == list(range(PARTS)), parts
        c = AdminClient({"bootstrap.servers": bs})
        gs = c.list_groups(GROUP, timeout=10)
        assert len(gs) == 1 and gs[0].state == "Stable", gs
        assert len(gs[0].members) == 2, gs[0].members
        offs = k.list_consumer_group_offsets(GROUP)
        assert len(offs) == PARTS, offs
        assert sum(o.offset for o in offs.values()) == BATCH, offs
        # librdkafka's admin API (C): its ListGroups v4 and all-topics
        # OffsetFetch carry bytes after the body, which must be ignored.
        r = subprocess.run([os.environ["RIFFLE_ADMIN_CALLS"], bs, GROUP],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        assert "group %s Stable" % GROUP in r.stdout.splitlines(), r.stdout
        offl = [ln.split() for ln in r.stdout.splitlines()
                if ln.startswith("offset ")]
        assert len(offl) == PARTS and \
            sum(int(f[3]) for f in offl) == BATCH, r.stdout
        r = k.delete_consumer_groups([GROUP])
        assert r[0][0] == GROUP and r[0][1].errno == 68, r  # NON_EMPTY_GROUP
        for m in live:
            m.term()
        wait_until(lambda: k.describe_consumer_groups([GROUP])[0].state
                   == "Empty", 30, "group Empty")
        r = k.delete_consumer_groups([GROUP])
        assert r[0][1].errno == 0, r
        assert GROUP not in [g for g, _ in k.list_consumer_groups()]
        assert k.list_consumer_group_offsets(GROUP) == {}
        assert k.describe_consumer_groups([GROUP])[0].state == "Dead"
        r = k.delete_consumer_groups([GROUP])
        assert r[0][1].errno == 69, r  # GROUP_ID_NOT_FOUND
        # The tombstones were made durable: a restarted coordinator
        # reloads no offsets for the group.
        coord = coordinator_of(brokers, GROUP, PARTS)
        brokers.procs[coord].kill9()
        brokers.procs[coord].restart()
        brokers.wait_ready()
        wait_until(lambda: coordinator_of(brokers, GROUP, PARTS) >= 0, 60,
                   "a leader for the group's offsets partition")
        k.close()
        k = KafkaAdminClient(bootstrap_servers=bs)
        wait_until(lambda: _offsets_or_none(k) == {}, 60,
                   "deleted group still empty after a coordinator restart")
        print("admin: list, describe, offsets, delete ok")
    finally:
        k.close()
        for m in live:
            if m.alive():
                m.kill9()


def _offsets_or_none(k):
    try:
        return k.list_consumer_group_offsets(GROUP)
    except Exception:  # coordinator still moving
        return None


def with_replication(brokers):
    """Give every broker a REPLICATION listener (rewrites its properties
    before the first start)."""
    for i in brokers.ids:
        path = os.path.join(brokers.wd.path, "broker-%d.properties" % i)
        with open(path) as f:
            text = f.read()
        text = text.replace(
            "listeners=PLAINTEXT://127.0.0.1:%d" % brokers.kafka_port[i],
            "listeners=PLAINTEXT://127.0.0.1:%d,REPLICATION://127.0.0.1:%d"
            % (brokers.kafka_port[i], free_port()))
        with open(path, "w") as f:
            f.write(text)


def coordinator_failover(bs, brokers):
    """SIGKILL the coordinator while the group consumes and commits; the
    group moves to the new leader of its offsets partition (replication
    factor 3) and resumes from the committed offsets."""
    live = [Member("confluent", bs) for _ in range(3)]
    everyone = list(live)
    try:
        wait_stable(live, "3 members joined")
        want = produce(bs, 0, BATCH)
        wait_consumed(everyone, want, "3 members")
        coord = coordinator_of(brokers, GROUP, PARTS)
        assert coord in brokers.ids, coord
        brokers.procs[coord].kill9()
        wait_until(lambda: coordinator_of(brokers, GROUP, PARTS)
                   not in (-1, coord), 60, "the offsets partition moved")
        want = produce(bs, BATCH, BATCH)
        wait_consumed(everyone, want, "the coordinator was SIGKILLed",
                      timeout=120)
        again = [k for m in everyone for _, _, k in m.msgs
                 if int(k[1:]) < BATCH]
        assert len(again) == BATCH, \
            "%d committed records read again" % (len(again) - BATCH)
        for m in live:
            m.term()
        brokers.procs[coord].restart()
        brokers.wait_ready()
    finally:
        for m in everyone:
            if m.alive():
                m.kill9()


def main():
    which = sys.argv[1]
    if which in ("coordinator", "admin", "failover"):
        clients = None
    else:
        clients = {"c": ["c"] * 3,
                   "confluent": ["confluent"] * 3,
                   "kafka-python": ["kafka-python"] * 3,
                   "kafkajs": ["kafkajs"] * 3,
                   "mixed": ["kafka-python", "confluent",
                             "kafka-python"]}[which]
    with Workdir(prefix="riffle-grp-") as wd:
        ctl = ControllerCluster(wd, n=3).start()
        ctl.wait_active()
        rf = 3 if which == "failover" else 1
        brokers = BrokerCluster(wd, ctl, n=3, extra={
            "offsets.topic.num.partitions": "6",
            "offsets.topic.replication.factor": str(rf)})
        if which == "failover":
            with_replication(brokers)
        brokers.start()
        bs = brokers.bootstrap()
        ctl.ctl("create", TOPIC, PARTS, rf)
        brokers.wait_topic(TOPIC, PARTS)
        if which == "coordinator":
            coordinator_restart(bs, brokers)
        elif which == "admin":
            group_admin(bs, brokers)
        elif which == "failover":
            coordinator_failover(bs, brokers)
        else:
            scenario(bs, clients, "range" if which == "mixed" else None)
        brokers.stop()
        ctl.stop()
    print("1 passed, 0 failed")


if __name__ == "__main__":
    main()
