#!/usr/bin/python3
"""test_quickstart.py: README's quick start, as a newcomer runs it.

In a fresh empty directory: `deploy/riffle-cluster up` with no arguments
(3 controllers + 3 brokers under ./run, topic `orders` created), then kcat
produces to `orders` and consumes every message back, then the verbs an
operator uses (status, logs, pause/resume, kill/start) do what they say,
then `down` leaves no process and no listening port behind, and `clean`
removes ./run.

Environment: RIFFLE_BIN_DIR (the build dir whose binaries `up` uses, so the
test does not build a Release tree), RIFFLE_CLUSTER (deploy/riffle-cluster).
Run with /usr/bin/python3."""
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

CLUSTER = os.environ["RIFFLE_CLUSTER"]
N_MSGS = 200


def run(argv, cwd, timeout=120, check=True):
    r = subprocess.run(argv, cwd=cwd, capture_output=True, text=True,
                       timeout=timeout)
    if check and r.returncode != 0:
        raise AssertionError("%s exited %d\nstdout:\n%s\nstderr:\n%s"
                             % (" ".join(argv), r.returncode, r.stdout,
                                r.stderr))
    return r


def port_listening(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(0.5)
    try:
        return s.connect_ex(("127.0.0.1", port)) == 0
    finally:
        s.close()


def pids_under(path):
    r = subprocess.run(["pgrep", "-f", "--", path], capture_output=True,
                       text=True)
    return [int(p) for p in r.stdout.split()]


def cluster_ports(run_dir):
    ports = []
    with open(os.path.join(run_dir, "cluster.env")) as f:
        env = dict(line.strip().split("=", 1) for line in f if "=" in line)
    for key in ("BOOTSTRAP", "CONTROLLERS"):
        ports += [int(hp.rsplit(":", 1)[1]) for hp in env[key].split(",")]
    base = int(env["BASE_PORT"])
    n = 2 * int(env["N_CONTROLLERS"]) + 2 * int(env["N_BROKERS"])
    return sorted(set(ports + list(range(base, base + n))))


def kcat_roundtrip(bootstrap, cwd, first):
    msgs = ["order-%d" % i for i in range(first, first + N_MSGS)]
    r = subprocess.run(["kcat", "-b", bootstrap, "-P", "-t", "orders",
                        "-X", "acks=all", "-K", ":"],
                       input="".join("%s:%s\n" % (m, m) for m in msgs),
                       cwd=cwd, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    r = run(["kcat", "-b", bootstrap, "-C", "-t", "orders", "-e", "-q",
             "-f", "%s\n"], cwd, timeout=60)
    got = set(r.stdout.split())
    missing = [m for m in msgs if m not in got]
    assert not missing, "%d of %d produced messages not consumed: %s" % (
        len(missing), len(msgs), missing[:5])
    return msgs


def main():
    work = tempfile.mkdtemp(prefix="riffle-quickstart-")
    run_dir = os.path.join(work, "run")
    ok = False
    try:
        # 1. up, with no arguments, in an empty directory.
        r = run([CLUSTER, "up"], work, timeout=300)
        out = r.stdout
        print(out)
        assert "3 controller(s) and 3 broker(s) up" in out, out
        assert "created topic orders: 6 partitions, replication factor 3" \
            in out, out
        m = re.search(r"^BOOTSTRAP_SERVERS=(\S+)$", out, re.M)
        assert m, out
        bootstrap = m.group(1)
        with open(os.path.join(run_dir, "bootstrap")) as f:
            assert f.read().strip() == bootstrap
        assert out.count("Next steps") == 1 and "kcat" in out and \
            "examples/ecommerce" in out and "cluster status" in out, out

        # 2. the README's kcat line, on `orders`.
        kcat_roundtrip(bootstrap, work, 0)
        md = run(["kcat", "-b", bootstrap, "-L", "-t", "orders"], work).stdout
        assert "6 partitions" in md, md

        # 3. the operator verbs.
        st = run([CLUSTER, "status"], work).stdout
        assert len(re.findall(r"^(controller|broker)-\d +running", st,
                              re.M)) == 6, st
        logs = run([CLUSTER, "logs", "broker-1", "-n", "5"], work).stdout
        assert len(logs.splitlines()) == 5 and "proc=broker.1" in logs, logs
        run([CLUSTER, "pause", "broker-2"], work)
        st = run([CLUSTER, "status"], work, check=False).stdout
        assert re.search(r"^broker-2 +paused", st, re.M), st
        run([CLUSTER, "resume", "broker-2"], work)
        st = run([CLUSTER, "status"], work).stdout
        assert re.search(r"^broker-2 +running", st, re.M), st
        run([CLUSTER, "kill", "broker-3"], work)
        st = run([CLUSTER, "status"], work, check=False).stdout
        assert re.search(r"^broker-3 +stopped", st, re.M), st
        run([CLUSTER, "start", "broker-3"], work)
        # up again on the same directory waits for every broker, topic kept.
        out = run([CLUSTER, "up"], work, timeout=300).stdout
        assert "topic orders exists already" in out, out
        kcat_roundtrip(bootstrap, work, N_MSGS)
        bad = run([CLUSTER, "logs", "broker-7"], work, check=False)
        assert bad.returncode != 0 and "no node broker-7" in bad.stderr, \
            bad.stderr

        # 4. down: nothing left running or listening.
        ports = cluster_ports(run_dir)
        run([CLUSTER, "pause", "broker-1"], work)  # down copes with it
        run([CLUSTER, "down"], work, timeout=120)
        assert pids_under(run_dir) == [], pids_under(run_dir)
        busy = [p for p in ports if port_listening(p)]
        assert not busy, "ports still listening after down: %s" % busy

        # 5. clean removes ./run and refuses a directory it did not make.
        run([CLUSTER, "clean"], work)
        assert not os.path.exists(run_dir)
        os.makedirs(os.path.join(work, "other"))
        bad = run([CLUSTER, "clean", "--dir", "other"], work, check=False)
        assert bad.returncode != 0 and "not deleting" in bad.stderr, \
            bad.stderr
        assert os.path.isdir(os.path.join(work, "other"))
        ok = True
    finally:
        if os.path.exists(os.path.join(run_dir, "cluster.env")):
            if not ok:
                for name in sorted(os.listdir(os.path.join(run_dir, "logs"))):
                    path = os.path.join(run_dir, "logs", name)
                    with open(path, errors="replace") as f:
                        tail = f.readlines()[-40:]
                    print("----- %s -----\n%s" % (name, "".join(tail)))
            run([CLUSTER, "down"], work, check=False)
        for pid in pids_under(run_dir):
            os.kill(pid, 9)
        shutil.rmtree(work, ignore_errors=True)
    print("1 passed, 0 failed")


if __name__ == "__main__":
    sys.exit(main())
