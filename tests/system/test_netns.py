#!/usr/bin/python3
"""test_netns.py: a cluster of separate hosts (deploy/netns-cluster): 3
controllers and 3 brokers, each in its own network namespace with its own
address on a bridge, and a client namespace running confluent_kafka.

A topic of 3 partitions, replication factor 3, min.insync.replicas 2:
1. acks=all writes from the client namespace are acknowledged.
2. While a paced acks=all producer runs, the leader of partition 0 is cut
   off the network (bridge port disabled: every frame dropped). Metadata
   from the client namespace shows another leader; writes continue, and a
   second producer started after the move gets every write acknowledged.
3. The controllers (riffle topic describe, over controller RPC) show the
   cut broker out of every ISR; after 'restore' it is back in every ISR.
4. A follower is cut with link down: it leaves the ISR, acks=all writes
   continue; restored, it rejoins.
5. Every acknowledged message is read back at its offset, with no gap.
Finally 'down' removes every namespace and interface of the run, and no
node log holds a sanitizer report.

When network namespaces cannot be created (not root, no CAP_NET_ADMIN or
CAP_SYS_ADMIN, 'ip netns add' fails) the test prints "SKIPPED: <reason>"
and exits with SKIP_CODE, which ctest maps to a skip (SKIP_RETURN_CODE). $NETNS_CLUSTER overrides the script's path.

The same file is the client: 'test_netns.py client VERB ...' runs inside
the client namespace (through 'netns-cluster exec client') and prints one
JSON document on its last stdout line."""
import json
import os
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from riffle_harness import (HarnessError, Workdir,  # noqa: E402
                            sanitizer_report, wait_until)

SKIP_CODE = 77
NETNS_CLUSTER = os.environ.get("NETNS_CLUSTER") or \
    os.path.join(HERE, "..", "..", "deploy", "netns-cluster")
TOPIC = "netns"
NPART = 3
SUBNET = "10.79.0"

# ---- the client side (runs in the client namespace) ----


def client_producer(bs):
    from confluent_kafka import Producer
    return Producer({"bootstrap.servers": bs, "acks": "all",
                     "linger.ms": 1,
                     # A request stuck on a cut leader is retried soon, on
                     # the new leader once Metadata names it.
                     "request.timeout.ms": 5000,
                     "message.timeout.ms": 120000,
                     "topic.metadata.refresh.interval.ms": 1000})


def client_produce(bs, start, n, pace_ms):
    """Produce n acks=all messages; print 'started' once the first tenth is
    acknowledged (for a concurrent cut), then the outcome as JSON."""
    acked, failed = [], []

    def on_delivery(err, msg):
        if err is None:
            acked.append([msg.value().decode(), msg.partition(),
                          msg.offset()])
        else:
            failed.append(str(err))

    p = client_producer(bs)
    told = False
    for i in range(start, start + n):
        p.produce(TOPIC, value=b"m%07d" % i, partition=i % NPART,
                  on_delivery=on_delivery)
        p.poll(pace_ms / 1000.0 if pace_ms else 0)
        if not told and len(acked) >= max(1, n // 10):
            print("started", flush=True)
            told = True
    left = p.flush(180)
    if not told:
        print("started", flush=True)
    print(json.dumps({"acked": acked, "failed": failed[:10],
                      "nfailed": len(failed), "unanswered": left}),
          flush=True)


def client_metadata(bs):
    from confluent_kafka.admin import AdminClient
    a = AdminClient({"bootstrap.servers": bs})
    md = a.list_topics(TOPIC, timeout=10)
    t = md.topics.get(TOPIC)
    out = {"brokers": {str(b.id): [b.host, b.port]
                       for b in md.brokers.values()},
           "partitions": {}}
    if t is not None and t.error is None:
        for p in t.partitions.values():
            out["partitions"][str(p.id)] = {"leader": p.leader,
                                            "isr": sorted(p.isrs),
                                            "error": str(p.error)
                                            if p.error else None}
    print(json.dumps(out), flush=True)


def client_consume(bs):
    """Every message of every partition up to its high watermark."""
    from confluent_kafka import Consumer, TopicPartition
    c = Consumer({"bootstrap.servers": bs, "group.id": "netns-unused",
                  "enable.auto.commit": False})
    hw = {}
    for part in range(NPART):
        lo, hi = c.get_watermark_offsets(TopicPartition(TOPIC, part),
                                         timeout=10)
        hw[part] = hi
    c.assign([TopicPartition(TOPIC, part, 0) for part in range(NPART)])
    got, pos = [], {part: 0 for part in range(NPART)}
    deadline = time.monotonic() + 120
    while (any(pos[p] < hw[p] for p in hw) and
           time.monotonic() < deadline):
        m = c.poll(0.5)
        if m is None or m.error():
            continue
        got.append([m.value().decode(), m.partition(), m.offset()])
        pos[m.partition()] = max(pos[m.partition()], m.offset() + 1)
    c.close()
    print(json.dumps({"hw": hw, "pos": pos, "got": got}), flush=True)


def client_main(argv):
    verb, bs = argv[0], argv[1]
    if verb == "produce":
        client_produce(bs, int(argv[2]), int(argv[3]), int(argv[4]))
    elif verb == "metadata":
        client_metadata(bs)
    elif verb == "consume":
        client_consume(bs)
    else:
        sys.exit("unknown client verb %s" % verb)


# ---- the test side (root namespace) ----


def skip(reason):
    print("SKIPPED: %s" % reason, flush=True)
    sys.exit(SKIP_CODE)


def check_namespaces(prefix):
    """Skip unless we may create a network namespace and a veth pair."""
    if shutil.which("ip") is None:
        skip("the 'ip' command (iproute2) is not installed")
    if os.geteuid() != 0:
        skip("network namespaces need root (running as uid %d)"
             % os.geteuid())
    probe = "%s-probe" % prefix
    r = subprocess.run(["ip", "netns", "add", probe], capture_output=True,
                       text=True)
    if r.returncode != 0:
        skip("'ip netns add' failed: %s" % (r.stderr.strip() or r.returncode))
    try:
        r = subprocess.run(["ip", "-n", probe, "link", "add", "pv0", "type",
                            "veth", "peer", "name", "pv1"],
                           capture_output=True, text=True)
        if r.returncode != 0:
            skip("cannot create a veth pair: %s" % r.stderr.strip())
    finally:
        subprocess.run(["ip", "netns", "del", probe], capture_output=True)


class Net:
    """deploy/netns-cluster on one directory."""

    def __init__(self, d, prefix):
        self.dir = d
        self.prefix = prefix

    def run(self, *args, timeout=120, check=True):
        cmd = [NETNS_CLUSTER, args[0], "--dir", self.dir] + \
            [str(a) for a in args[1:]]
        r = subprocess.run(cmd, capture_output=True, text=True,
                           timeout=timeout)
        if check and r.returncode != 0:
            raise HarnessError("%s failed (exit %d):\n%s%s"
                               % (" ".join(cmd), r.returncode, r.stdout,
                                  r.stderr))
        return r

    def client_cmd(self, *args):
        return [NETNS_CLUSTER, "exec", "client", "--dir", self.dir, "--",
                "/usr/bin/python3", os.path.abspath(__file__), "client"] + \
            [str(a) for a in args]

    def client(self, *args, timeout=240):
        r = subprocess.run(self.client_cmd(*args), capture_output=True,
                           text=True, timeout=timeout)
        if r.returncode != 0 or not r.stdout.strip():
            raise HarnessError("client %s failed (exit %d):\n%s"
                               % (args[0], r.returncode, r.stderr[-3000:]))
        return json.loads(r.stdout.strip().splitlines()[-1])

    def riffle(self, *args):
        r = self.run("exec", "client", "--", "riffle", "--timeout", "5000",
                     "--json", *args, check=False, timeout=60)
        if r.returncode != 0:
            return None
        return json.loads(r.stdout)


def bootstrap(ids):
    return ",".join("%s.%d:9092" % (SUBNET, 20 + i) for i in ids)


def leaders(net, bs):
    md = net.client("metadata", bs)
    return {int(k): v["leader"] for k, v in md["partitions"].items()}


def controller_isrs(net):
    """{partition: sorted ISR} from the controllers (riffle topic describe)."""
    d = net.riffle("topic", "describe", TOPIC)
    if d is None:
        return None
    for t in d.get("topics", []):
        if t["name"] == TOPIC:
            return {p["partition"]: sorted(p["isr"]) for p in t["partitions"]}
    return None


def wait_isr(net, pred, what, timeout=120):
    t0 = time.monotonic()

    def ok():
        s = controller_isrs(net)
        return s is not None and len(s) == NPART and \
            all(pred(v) for v in s.values()) and s
    s = wait_until(ok, timeout, what, interval=1.0)
    print("%s after %.1fs: %s" % (what, time.monotonic() - t0, s), flush=True)


def record(acked, out, what):
    for value, part, off in out["acked"]:
        acked[value] = (part, off)
    print("%s: %d acknowledged, %d failed %s, %d unanswered"
          % (what, len(out["acked"]), out["nfailed"], out["failed"][:3],
             out["unanswered"]), flush=True)


def check_all(net, acked):
    out = net.client("consume", bootstrap([1, 2, 3]))
    got = {}
    for value, part, off in out["got"]:
        got.setdefault(value, []).append((part, off))
    missing = [v for v in acked if v not in got]
    moved = [v for v in acked if v in got and acked[v] not in got[v]]
    assert not missing, "%d acknowledged messages missing, e.g. %s" % (
        len(missing), missing[:5])
    assert not moved, "%d messages at another offset" % len(moved)
    for part in range(NPART):
        offs = sorted(o for locs in got.values() for p, o in locs
                      if p == part)
        assert offs == list(range(len(offs))), "gap in partition %d" % part
        assert len(offs) == out["hw"][str(part)], \
            "partition %d: read %d of %s" % (part, len(offs),
                                             out["hw"][str(part)])
    print("read %d messages (%d acknowledged), none missing"
          % (len(got), len(acked)), flush=True)


def leftovers(prefix):
    ns = subprocess.run(["ip", "netns", "list"], capture_output=True,
                        text=True).stdout.split("\n")
    links = subprocess.run(["ip", "-o", "link", "show"], capture_output=True,
                           text=True).stdout.split("\n")
    left = [n.split()[0] for n in ns if n.startswith(prefix + "-")]
    for line in links:
        parts = line.split(":")
        if len(parts) > 1 and parts[1].strip().split("@")[0].startswith(
                prefix + "-"):
            left.append(parts[1].strip())
    return left


def scenario(net):
    r = net.run("up", "--prefix", net.prefix, "--subnet", SUBNET + ".0/24",
                "--session-timeout-ms", "3000",
                "--broker-conf", "replica.lag.time.max.ms=4000",
                timeout=300)
    print(r.stdout.splitlines()[0], flush=True)
    for name in os.listdir(os.path.join(net.dir, "config")):
        with open(os.path.join(net.dir, "config", name)) as f:
            text = f.read()
        assert "127.0.0.1" not in text and "localhost" not in text, name
    c = net.run("exec", "client", "--", "riffle", "topic", "create", TOPIC,
                "--partitions", NPART, "--replication-factor", "3",
                "--config", "min.insync.replicas=2")
    print(c.stdout.strip(), flush=True)
    wait_isr(net, lambda v: v == [1, 2, 3], "full ISR")
    md = net.client("metadata", bootstrap([1, 2, 3]))
    hosts = sorted(h for h, _ in md["brokers"].values())
    assert hosts == ["%s.%d" % (SUBNET, 20 + i) for i in (1, 2, 3)], hosts

    # 1. acks=all from the client namespace.
    acked = {}
    out = net.client("produce", bootstrap([1, 2, 3]), 0, 600, 0)
    record(acked, out, "before the cut")
    assert len(out["acked"]) == 600 and out["nfailed"] == 0, out["failed"]

    # 2. Cut the leader of partition 0 while a producer runs.
    old = leaders(net, bootstrap([1, 2, 3]))[0]
    live = [i for i in (1, 2, 3) if i != old]
    bg_err = open(os.path.join(net.dir, "logs", "bg-producer.err"), "w+")
    bg = subprocess.Popen(net.client_cmd("produce", bootstrap([1, 2, 3]),
                                         1000, 1500, 10),
                          stdout=subprocess.PIPE, stderr=bg_err, text=True)
    try:
        line = bg.stdout.readline()
        assert line.strip() == "started", "background producer: %r" % line
        print(net.run("cut", "broker-%d" % old, "--mode", "drop")
              .stdout.strip(), flush=True)

        def moved():
            try:
                ls = leaders(net, bootstrap(live))
            except HarnessError:
                return False
            return ls.get(0, -1) in live and ls
        t0 = time.monotonic()
        ls = wait_until(moved, 120, "partition 0 led by broker %s" % live,
                        interval=1.0)
        print("Metadata from the client: leaders %s after %.1fs"
              % (ls, time.monotonic() - t0), flush=True)
        assert old not in ls.values(), ls
        out = net.client("produce", bootstrap(live), 3000, 600, 0)
        record(acked, out, "after the leader moved")
        assert len(out["acked"]) == 600 and out["nfailed"] == 0, out["failed"]
        wait_isr(net, lambda v: old not in v and len(v) == 2,
                 "broker %d out of every ISR" % old)
        rest, _ = bg.communicate(timeout=300)
        bg_err.seek(0)
        assert bg.returncode == 0, bg_err.read()[-3000:]
        out = json.loads(rest.strip().splitlines()[-1])
        record(acked, out, "across the cut")
        assert out["acked"], "nothing acknowledged across the cut"
    finally:
        if bg.poll() is None:
            bg.kill()
            bg.wait()
        bg_err.close()

    # 3. Restore: the old leader rejoins every ISR.
    print(net.run("restore", "broker-%d" % old).stdout.strip(), flush=True)
    wait_isr(net, lambda v: v == [1, 2, 3],
             "broker %d back in every ISR" % old)

    # 4. A follower of partition 0 cut with link down.
    lead = leaders(net, bootstrap([1, 2, 3]))[0]
    f = next((i for i in (1, 2, 3) if i not in (lead, old)),
             next(i for i in (1, 2, 3) if i != lead))
    print(net.run("cut", "broker-%d" % f, "--mode", "down").stdout.strip(),
          flush=True)
    wait_isr(net, lambda v: f not in v, "broker %d out of every ISR" % f)
    out = net.client("produce", bootstrap([i for i in (1, 2, 3) if i != f]),
                     5000, 300, 0)
    record(acked, out, "follower cut")
    assert len(out["acked"]) == 300 and out["nfailed"] == 0, out["failed"]
    print(net.run("restore", "broker-%d" % f).stdout.strip(), flush=True)
    wait_isr(net, lambda v: v == [1, 2, 3], "broker %d back in every ISR" % f)
    out = net.client("produce", bootstrap([1, 2, 3]), 6000, 300, 0)
    record(acked, out, "after the restores")
    assert len(out["acked"]) == 300 and out["nfailed"] == 0, out["failed"]

    # 5. Nothing acknowledged lost.
    check_all(net, acked)
    st = net.run("status")
    print(st.stdout, flush=True)


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "client":
        client_main(sys.argv[2:])
        return
    prefix = "nt%d" % (os.getpid() % 1000000)
    check_namespaces(prefix)
    # A SIGTERM (an interrupted run) still goes through 'down' below.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    failed = None
    with Workdir(prefix="riffle-netns-") as wd:
        net = Net(os.path.join(wd.path, "cluster"), prefix)
        try:
            scenario(net)
        except BaseException as e:
            failed = e
            for name in sorted(os.listdir(os.path.join(net.dir, "logs"))
                               if os.path.isdir(os.path.join(net.dir, "logs"))
                               else []):
                with open(os.path.join(net.dir, "logs", name)) as f:
                    tail = f.read().splitlines()[-40:]
                sys.stderr.write("----- %s (last 40 lines) -----\n%s\n"
                                 % (name, "\n".join(tail)))
        finally:
            down = net.run("down", check=False, timeout=120)
            print(down.stdout.strip(), down.stderr.strip(), flush=True)
        if failed is not None:
            raise failed
        assert down.returncode == 0, "down failed: %s" % down.stderr
        left = leftovers(prefix)
        assert not left, "left behind after down: %s" % left
        for name in sorted(os.listdir(os.path.join(net.dir, "logs"))):
            with open(os.path.join(net.dir, "logs", name)) as f:
                m = sanitizer_report(f.read())
            assert m is None, "%s holds a sanitizer report (%s)" % (name, m)
    print("1 passed, 0 failed")


if __name__ == "__main__":
    main()
