"""riffle_harness.py: start real Riffle processes on 127.0.0.1 for tests.

Reusable by every integration test (controllers now; brokers and the CLI
later). Run with /usr/bin/python3. Pieces:

  free_port()            a currently free TCP port on 127.0.0.1
  Proc                   one child process: start, wait_ready, kill9, term,
                         restart, log capture and sanitizer-report checks
  ControllerCluster      N riffle-controller voters with temp dirs, configs,
                         a ctl() helper (ctltool) and status/leader queries
  Workdir                a temp dir that dumps every log on failure

Every process started here is stopped by close() (SIGTERM, then SIGKILL after
a timeout). A process that exited by itself (not by a signal we sent) fails
the test if its log holds an ASan/LSan/UBSan report.

Environment: RIFFLE_CONTROLLER, RIFFLE_CTLTOOL (binaries), RIFFLE_KEEP=1
keeps the temp dir.
"""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

SANITIZER_MARKERS = (
    "ERROR: AddressSanitizer",
    "ERROR: LeakSanitizer",
    "runtime error:",
    "SUMMARY: UndefinedBehaviorSanitizer",
    "SUMMARY: AddressSanitizer",
)

_used_ports = set()


class HarnessError(AssertionError):
    pass


def free_port():
    """A port that is free now (bind to port 0); never the same one twice
    in this process, so several ports picked in a row are distinct."""
    for _ in range(100):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        if port not in _used_ports:
            _used_ports.add(port)
            return port
    raise HarnessError("no free port")


def wait_until(pred, timeout, what, interval=0.05):
    """Poll pred() until it returns a true value; raise after timeout."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = pred()
        if last:
            return last
        time.sleep(interval)
    raise HarnessError("timed out after %.1fs waiting for %s (last=%r)"
                       % (timeout, what, last))


def sanitizer_report(text):
    for m in SANITIZER_MARKERS:
        if m in text:
            return m
    return None


class Proc:
    """A child process whose stdout+stderr go to <dir>/<name>.log (appended
    across restarts, with a marker line per start)."""

    def __init__(self, workdir, name, argv, env=None):
        self.workdir = workdir
        self.name = name
        self.argv = list(argv)
        self.env = dict(os.environ)
        if env:
            self.env.update(env)
        self.env.setdefault("ASAN_OPTIONS", "detect_leaks=1")
        self.log_path = os.path.join(workdir.path, name + ".log")
        self.p = None
        self.reaped = True
        self.expected_kill = False
        # set by tests that provoke a crash on purpose
        self.allow_sanitizer_report = False
        workdir.procs.append(self)

    def start(self):
        if self.running():
            raise HarnessError("%s already running" % self.name)
        if not self.reaped:
            self.wait(0)  # exited on its own: check its log first
        with open(self.log_path, "a") as f:
            f.write("=== harness: start %s\n" % " ".join(self.argv))
        self._log = open(self.log_path, "a")
        self.p = subprocess.Popen(self.argv, stdout=self._log,
                                  stderr=subprocess.STDOUT, env=self.env,
                                  stdin=subprocess.DEVNULL)
        self.expected_kill = False
        self.reaped = False
        return self

    def running(self):
        return self.p is not None and self.p.poll() is None

    @property
    def pid(self):
        return self.p.pid

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def log_since_start(self):
        text = self.log()
        i = text.rfind("=== harness: start")
        return text[i:] if i >= 0 else text

    def _reaped(self):
        self._log.close()
        self.reaped = True
        rc = self.p.returncode
        if rc is not None and rc >= 0 and not self.allow_sanitizer_report:
            rep = sanitizer_report(self.log_since_start())
            if rep:
                raise HarnessError("%s exited %d with a sanitizer report (%s)"
                                   % (self.name, rc, rep))
        return rc

    def kill9(self):
        """SIGKILL and reap; returns the time the signal was sent."""
        self.expected_kill = True
        t = time.monotonic()
        self.p.send_signal(signal.SIGKILL)
        self.p.wait(timeout=10)
        self._reaped()
        return t

    def term(self, timeout=15):
        """SIGTERM, wait for the exit and return the exit code (SIGKILL and
        an error if it does not exit in time)."""
        if not self.running():
            return self.wait(0)
        self.p.send_signal(signal.SIGTERM)
        try:
            self.p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.expected_kill = True
            self.p.kill()
            self.p.wait()
            self._reaped()
            raise HarnessError("%s did not exit %ds after SIGTERM"
                               % (self.name, timeout))
        return self._reaped()

    def wait(self, timeout):
        """Wait for a process expected to exit on its own; its exit code."""
        try:
            self.p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise HarnessError("%s still running after %ss" % (self.name,
                                                               timeout))
        return self._reaped()

    def restart(self):
        if self.running():
            self.kill9()
        elif not self.reaped:
            self.wait(0)
        return self.start()


class Workdir:
    """Temp dir owning processes; use as a context manager. On an exception
    it prints the tail of every log; it always stops every process."""

    def __init__(self, prefix="riffle-test-"):
        base = "/dev/shm" if os.path.isdir("/dev/shm") else None
        self.path = tempfile.mkdtemp(prefix=prefix, dir=base)
        self.procs = []

    def __enter__(self):
        return self

    def dump_logs(self, lines=60):
        for p in self.procs:
            text = p.log().splitlines()
            sys.stderr.write("----- %s (%s, last %d lines) -----\n"
                             % (p.name, p.log_path, lines))
            sys.stderr.write("\n".join(text[-lines:]) + "\n")

    def close(self):
        errors = []
        for p in self.procs:
            try:
                if p.running():
                    p.term(timeout=10)
                elif not p.reaped:
                    p.wait(0)  # exited on its own: check for reports
            except HarnessError as e:
                errors.append(str(e))
        return errors

    def __exit__(self, etype, exc, tb):
        errors = self.close()
        if etype is not None or errors:
            self.dump_logs()
        if not os.environ.get("RIFFLE_KEEP"):
            shutil.rmtree(self.path, ignore_errors=True)
        if errors and etype is None:
            raise HarnessError("; ".join(errors))
        return False


class ControllerCluster:
    """n riffle-controller voters on free ports, one dir each."""

    def __init__(self, workdir, n=3, extra=None, binary=None, ctltool=None):
        self.wd = workdir
        self.binary = binary or os.environ["RIFFLE_CONTROLLER"]
        self.ctltool = ctltool or os.environ.get("RIFFLE_CTLTOOL")
        self.ids = list(range(1, n + 1))
        self.raft_port = {i: free_port() for i in self.ids}
        self.rpc_port = {i: free_port() for i in self.ids}
        self.dirs = {i: os.path.join(workdir.path, "c%d" % i) for i in self.ids}
        voters = ",".join("%d@127.0.0.1:%d" % (i, self.raft_port[i])
                          for i in self.ids)
        self.procs = {}
        for i in self.ids:
            conf = {
                "node.id": str(i),
                "process.roles": "controller",
                "controller.quorum.voters": voters,
                "listeners": "CONTROLLER://127.0.0.1:%d" % self.rpc_port[i],
                "metadata.log.dir": self.dirs[i],
            }
            conf.update(extra or {})
            path = os.path.join(workdir.path, "controller-%d.properties" % i)
            write_properties(path, conf)
            self.procs[i] = Proc(workdir, "controller-%d" % i,
                                 [self.binary, "--config", path])

    def endpoint(self, i):
        return "127.0.0.1:%d" % self.rpc_port[i]

    def endpoints(self, ids=None):
        return ",".join(self.endpoint(i) for i in (ids or self.ids))

    def start(self, ids=None):
        for i in ids or self.ids:
            self.procs[i].start()
        for i in ids or self.ids:
            self.wait_ready(i)
        return self

    def wait_ready(self, i, timeout=30):
        """Ready = answers NodeStatus on its RPC port."""
        wait_until(lambda: self.status(i) is not None, timeout,
                   "controller-%d to answer NodeStatus" % i, interval=0.1)

    def ctl(self, *args, endpoints=None, timeout=30, check=True):
        """Run ctltool; returns stdout. check: raise on non-zero exit."""
        argv = [self.ctltool, "-t", str(int(timeout * 1000) - 1000),
                endpoints or self.endpoints()] + [str(a) for a in args]
        r = subprocess.run(argv, capture_output=True, text=True,
                           timeout=timeout + 10)
        if rep := sanitizer_report(r.stderr):
            raise HarnessError("ctltool sanitizer report %s: %s"
                               % (rep, r.stderr[-2000:]))
        if check and r.returncode != 0:
            raise HarnessError("ctltool %s failed (%d): %s %s"
                               % (args, r.returncode, r.stdout, r.stderr))
        return r.stdout

    def status(self, i):
        """NodeStatus of node i as a dict, or None if it does not answer."""
        if not self.procs[i].running():
            return None
        try:
            out = self.ctl("status", endpoints=self.endpoint(i), timeout=3,
                           check=False)
        except subprocess.TimeoutExpired:
            return None
        for line in out.splitlines():
            if line.startswith("node_id="):
                return dict(kv.split("=", 1) for kv in line.split())
        return None

    def active(self, ids=None):
        """Id of the node reporting itself active, or None."""
        for i in ids or self.ids:
            st = self.status(i)
            if st and st["active"] == "1":
                return i
        return None

    def wait_active(self, ids=None, timeout=30):
        return wait_until(lambda: self.active(ids), timeout,
                          "an active controller")

    def converged(self, ids=None):
        """True when all nodes report the same applied index and hash."""
        sts = [self.status(i) for i in ids or self.ids]
        if any(s is None for s in sts):
            return False
        keys = {(s["offset"], s["hash"]) for s in sts}
        return len(keys) == 1 and sts[0]

    def wait_converged(self, ids=None, timeout=30):
        return wait_until(lambda: self.converged(ids), timeout,
                          "controllers to converge", interval=0.2)

    def stop(self, ids=None, timeout=15):
        """SIGTERM every node; each must exit 0 and sanitizer-clean."""
        for i in ids or self.ids:
            p = self.procs[i]
            if p.running():
                rc = p.term(timeout=timeout)
                if rc != 0:
                    raise HarnessError("controller-%d exited %d on SIGTERM"
                                       % (i, rc))


def write_properties(path, conf):
    with open(path, "w") as f:
        for k, v in conf.items():
            f.write("%s=%s\n" % (k, v))
