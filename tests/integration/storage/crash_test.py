#!/usr/bin/python3
"""crash_test.py: SIGKILL a storage-crash writer at random points, N rounds;
after every kill the recovered log must be a prefix of what was appended and
hold every offset reported durable. Usage: crash_test.py TOOL [ROUNDS]"""
import os
import random
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time


def run_round(tool, d, rng, durable):
    w = subprocess.Popen([tool, "writer", d], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + rng.uniform(0.02, 0.3)
        buf = b""
        while time.monotonic() < deadline:
            r, _, _ = select.select([w.stdout], [], [], 0.01)
            if r:
                chunk = os.read(w.stdout.fileno(), 65536)
                if not chunk:
                    break
                buf += chunk
        w.send_signal(signal.SIGKILL)
        # Lines written before the kill are still in the pipe.
        rest, err = w.communicate(timeout=30)
        buf += rest
    finally:
        if w.poll() is None:
            w.kill()
            w.wait()
    if w.returncode != -signal.SIGKILL:
        sys.exit("writer exited with %s before the kill: %s"
                 % (w.returncode, err.decode(errors="replace")[-2000:]))
    for line in buf.decode().splitlines():
        if line.startswith("durable "):
            durable = max(durable, int(line.split()[1]))
    v = subprocess.run([tool, "verify", d, str(durable)],
                       capture_output=True, timeout=60)
    if v.returncode != 0:
        sys.exit("verify failed after kill (durable %d):\n%s%s"
                 % (durable, v.stdout.decode(), v.stderr.decode()[-4000:]))
    return durable, v.stdout.decode().strip()


def main():
    tool = sys.argv[1]
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 50
    seed = int(os.environ.get("RF_CRASH_SEED", time.time_ns() % 100000))
    rng = random.Random(seed)
    d = tempfile.mkdtemp(prefix="rf-crash-")
    print("seed %d dir %s" % (seed, d))
    durable = 0
    try:
        for i in range(rounds):
            durable, info = run_round(tool, d, rng, durable)
            print("round %d: %s" % (i + 1, info))
            sys.stdout.flush()
    finally:
        shutil.rmtree(d, ignore_errors=True)
    if durable == 0:
        sys.exit("no flush was ever reported durable: the test proved nothing")
    print("ok: %d rounds, final durable offset %d" % (rounds, durable))


main()
