#!/usr/bin/python3
"""test_reassign.py: partition reassignment and broker drain with real
processes (docs/reassign.md): 3 controllers, 4 brokers, a topic of 3
partitions with replication factor 3 created while only brokers 1-3 run,
messages produced with acks=all by confluent_kafka.

1. Broker 4 starts but is SIGSTOPped, so no move can complete yet; then
   `riffle partition reassign`: partition 0 -> 2,3,4, partition 1 -> a list
   without its current leader, partition 2 -> 4 plus two others. `topic
   describe` shows the three targets, still pending.
2. The active controller is SIGKILLed mid-reassignment: the next one still
   lists the targets (they live in the metadata log); broker 4 resumes,
   catches up, and every move completes (replicas = target, ISR = target,
   no target left). The killed controller returns and converges.
3. Bad input: unknown topic / partition, an unregistered broker, a missing
   --replicas (usage error, exit 2).
4. `riffle broker drain 1` moves every replica off broker 1; once the moves
   complete no partition lists broker 1.
5. More acks=all messages; then brokers 1, 2 and 3 are SIGKILLed one at a
   time (each time waiting until the others lead everything): broker 4
   alone serves every partition and every acknowledged message is read
   back from it at its offset."""
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sys_harness import ReplCluster  # noqa: E402
from riffle_harness import (ControllerCluster, Workdir,  # noqa: E402
                            sanitizer_report, wait_until)
from test_replication import NPART, TOPIC, check, produce, read_all  # noqa
from broker_harness import KCAT  # noqa: E402

RIFFLE = os.environ["RIFFLE_CLI"]


def riffle(ctl, *args, check_rc=0):
    """Run the riffle CLI against every controller; returns (rc, out, err)."""
    argv = [RIFFLE, "--controllers", ctl.endpoints(), "--timeout", "20000"]
    r = subprocess.run(argv + [str(a) for a in args], capture_output=True,
                       text=True, timeout=40)
    if rep := sanitizer_report(r.stderr):
        raise AssertionError("riffle sanitizer report %s: %s"
                             % (rep, r.stderr[-2000:]))
    if check_rc is not None:
        assert r.returncode == check_rc, (args, r.returncode, r.stdout,
                                          r.stderr)
    return r.returncode, r.stdout, r.stderr


def describe(ctl):
    """{partition: description dict} of TOPIC from `riffle topic describe`."""
    _, out, _ = riffle(ctl, "--json", "topic", "describe", TOPIC)
    doc = json.loads(out)
    return {p["partition"]: p for p in doc["topics"][0]["partitions"]}


def reassign(ctl, part, replicas):
    _, out, _ = riffle(ctl, "partition", "reassign", TOPIC, part,
                       "--replicas", ",".join(map(str, replicas)))
    assert "accepted" in out, out


def wait_done(ctl, want, timeout):
    """Until every partition p in want has replicas == want[p], the same
    ISR members and no target."""
    def done():
        d = describe(ctl)
        return all(d[p]["target_replicas"] is None and
                   d[p]["replicas"] == w and sorted(d[p]["isr"]) == sorted(w)
                   for p, w in want.items())
    t0 = time.monotonic()
    wait_until(done, timeout, "reassignments %s to complete" % want,
               interval=0.5)
    print("moves %s done after %.1fs" % (want, time.monotonic() - t0))


def wait_leaders(b, live, timeout):
    """Until Metadata asked of the live brokers has every partition led by
    one of them."""
    def ok():
        try:
            r = subprocess.run([KCAT, "-b", b.bootstrap(live), "-L", "-J",
                                "-m", "5"], capture_output=True, text=True,
                               timeout=10)
            md = json.loads(r.stdout) if r.returncode == 0 else {}
        except (subprocess.TimeoutExpired, ValueError):
            return False
        for t in md.get("topics", []):
            if t["topic"] == TOPIC:
                ps = t.get("partitions", [])
                return len(ps) == NPART and all(
                    p.get("leader", -1) in live for p in ps)
        return False
    wait_until(ok, timeout, "brokers %s to lead every partition" % live,
               interval=0.5)


def bad_input(ctl):
    rc, _, err = riffle(ctl, "partition", "reassign", "nosuch", "0",
                        "--replicas", "1,2", check_rc=1)
    assert "UNKNOWN_TOPIC" in err, err
    rc, _, err = riffle(ctl, "partition", "reassign", TOPIC, "7",
                        "--replicas", "1,2", check_rc=1)
    assert "UNKNOWN_PARTITION" in err, err
    rc, _, err = riffle(ctl, "partition", "reassign", TOPIC, "0",
                        "--replicas", "2,9", check_rc=1)
    assert "INVALID_REPLICA_ASSIGNMENT" in err and "9" in err, err
    rc, _, err = riffle(ctl, "partition", "reassign", TOPIC, "0", check_rc=2)
    assert "--replicas" in err, err
    rc, _, err = riffle(ctl, "broker", "drain", "9", check_rc=1)
    assert "not registered" in err, err


def main():
    with Workdir(prefix="riffle-reassign-") as wd:
        ctl = ControllerCluster(wd, n=3).start()
        ctl.wait_active()
        b = ReplCluster(wd, ctl, n=4).start(ids=[1, 2, 3])
        riffle(ctl, "topic", "create", TOPIC, "--partitions", NPART,
               "--replication-factor", 3)
        b.wait_topic(TOPIC, NPART)
        acked, failed = {}, []
        produce(b.bootstrap([1, 2, 3]), 0, 900, acked, failed)
        assert len(acked) == 900, failed[:3]

        # 1. Start moves that cannot complete while broker 4 is stopped.
        b.start(ids=[4])
        os.kill(b.procs[4].pid, signal.SIGSTOP)
        try:
            d = describe(ctl)
            lead1 = d[1]["leader"]
            want = {0: [2, 3, 4],
                    1: [4] + [x for x in (1, 2, 3) if x != lead1][:2],
                    2: [4, 1, 3]}
            assert lead1 not in want[1]
            for p, w in want.items():
                reassign(ctl, p, w)
            d = describe(ctl)
            for p, w in want.items():
                assert d[p]["target_replicas"] == w, d[p]
                assert 4 in d[p]["replicas"] and 4 not in d[p]["isr"], d[p]
            _, text, _ = riffle(ctl, "topic", "describe", TOPIC)
            assert "TARGET" in text.splitlines()[1], text
            assert text.splitlines()[2].endswith("  2,3,4"), text

            # 2. Controller failover before completion.
            old = ctl.active()
            ctl.procs[old].kill9()
            rest = [i for i in ctl.ids if i != old]
            new = ctl.wait_active(ids=rest)
            print("controller %d killed, %d active" % (old, new))
            d = describe(ctl)
            for p, w in want.items():
                assert d[p]["target_replicas"] == w, d[p]
        finally:
            os.kill(b.procs[4].pid, signal.SIGCONT)
        wait_done(ctl, want, 120)
        ctl.procs[old].start()
        ctl.wait_ready(old)
        ctl.wait_converged(timeout=60)

        # 3. Errors.
        bad_input(ctl)

        # 4. Drain broker 1.
        _, out, _ = riffle(ctl, "--json", "broker", "drain", 1)
        moves = json.loads(out)["reassignments"]
        assert moves, out
        for m in moves:
            assert 1 in m["replicas"] and 1 not in m["target_replicas"], m
        wait_done(ctl, {m["partition"]: m["target_replicas"] for m in moves},
                  120)
        d = describe(ctl)
        for p in d.values():
            assert 1 not in p["replicas"] and 1 not in p["isr"], p
            assert sorted(p["replicas"]) == [2, 3, 4], p
        _, out, _ = riffle(ctl, "broker", "drain", 1)
        assert "holds no replicas" in out, out

        # 5. Broker 4 alone holds everything acknowledged.
        produce(b.bootstrap([2, 3, 4]), 900, 600, acked, failed)
        assert len(acked) == 1500, (len(acked), failed[:3])
        live = [1, 2, 3, 4]
        for victim in (1, 2, 3):
            b.procs[victim].kill9()
            live.remove(victim)
            wait_leaders(b, live, 90)
            print("broker %d killed; brokers %s lead" % (victim, live))
        check(acked, read_all(b.bootstrap([4])))
        b.stop(ids=[4])
        ctl.stop()
    print("1 passed, 0 failed")


if __name__ == "__main__":
    main()
