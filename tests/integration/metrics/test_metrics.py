#!/usr/bin/python3
"""test_metrics.py: /metrics, /healthz and /readyz of riffle-broker and
riffle-controller (metrics.listener, docs/metrics.md), read with
prometheus_client's parser while a real client (confluent_kafka) produces
and consumes on a 3-controller, 3-broker cluster with an RF 3 topic.

  readiness  a controller alone (no quorum) and a broker started while no
             controller can register it answer /readyz 503 with a reason,
             then 200 once the quorum has a leader / the broker is unfenced;
             /healthz 200; an unknown path 404
  traffic    Produce request counters and latency histograms, bytes in and
             out per topic, high watermarks, partitions led, ISR, fsyncs,
             connections; controller raft and metadata gauges
  failure    SIGKILL of a follower: under-replicated partitions and an ISR
             shrink on a leader
  config     a metrics.listener port already in use stops the start
"""
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "system"))
sys.path.insert(0, os.path.join(HERE, "..", "..", "lib"))
from sys_harness import ReplCluster  # noqa: E402
from riffle_harness import (ControllerCluster, Workdir, free_port,  # noqa
                            wait_until)
from prometheus_client.parser import text_string_to_metric_families  # noqa

TOPIC = "metrics-t"
NPART = 3
NMSG = 300
LAG_MS = 1000


def http_get(port, path):
    """(status, body) of GET http://127.0.0.1:port/path, or None if nothing
    answers."""
    url = "http://127.0.0.1:%d%s" % (port, path)
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except (urllib.error.URLError, ConnectionError, socket.timeout):
        return None


def wait_http(port, what):
    return wait_until(lambda: http_get(port, "/healthz"), 60,
                      "%s metrics listener on port %d" % (what, port),
                      interval=0.1)


def scrape(port):
    """{(name, frozenset(labels.items())): value} of every sample."""
    r = http_get(port, "/metrics")
    assert r is not None and r[0] == 200, r
    out = {}
    for fam in text_string_to_metric_families(r[1]):
        for s in fam.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def samples(m, name, **labels):
    """[(labels dict, value)] of name whose labels include labels."""
    want = set((k, str(v)) for k, v in labels.items())
    return [(dict(k), v) for (n, k), v in m.items()
            if n == name and want <= set(k)]


def total(m, name, **labels):
    return sum(v for _, v in samples(m, name, **labels))


def one(m, name, **labels):
    s = samples(m, name, **labels)
    assert len(s) == 1, (name, labels, s)
    return s[0][1]


def add_metrics_listener(path, port):
    with open(path, "a") as f:
        f.write("metrics.listener=127.0.0.1:%d\n" % port)


def produce(bs):
    from confluent_kafka import Producer
    acked, failed = [], []

    def on_delivery(err, msg):
        (failed if err is not None else acked).append(err or msg)

    p = Producer({"bootstrap.servers": bs, "acks": "all", "linger.ms": 5,
                  "compression.type": "none",
                  "message.timeout.ms": 30000})
    payload = 0
    for i in range(NMSG):
        v = b"metrics-value-%06d" % i
        payload += len(v)
        p.produce(TOPIC, value=v, partition=i % NPART,
                  on_delivery=on_delivery)
        p.poll(0)
    assert p.flush(60) == 0, "messages never answered"
    assert len(acked) == NMSG and not failed, (len(acked), failed[:3])
    return payload


def consume(bs):
    from confluent_kafka import Consumer, TopicPartition
    c = Consumer({"bootstrap.servers": bs, "group.id": "metrics-test",
                  "enable.auto.commit": False})
    c.assign([TopicPartition(TOPIC, i, 0) for i in range(NPART)])
    got = 0
    deadline = time.monotonic() + 60
    while got < NMSG and time.monotonic() < deadline:
        m = c.poll(0.5)
        if m is not None and not m.error():
            got += 1
    c.close()
    assert got == NMSG, "consumed %d of %d" % (got, NMSG)


def check_endpoints(port, what):
    st = http_get(port, "/healthz")
    assert st == (200, "ok\n"), (what, st)
    st = http_get(port, "/nope")
    assert st is not None and st[0] == 404, (what, st)


def check_readiness_before_quorum(ctl, b, cport, bport):
    # One voter of three: no quorum, no leader, not ready.
    ctl.procs[1].start()
    wait_http(cport[1], "controller-1")
    st = http_get(cport[1], "/readyz")
    assert st[0] == 503 and "leader" in st[1], st
    check_endpoints(cport[1], "controller-1")
    # A broker that cannot register yet.
    b.procs[1].start()
    wait_http(bport[1], "broker-1")
    st = http_get(bport[1], "/readyz")
    assert st[0] == 503 and "not registered" in st[1], st
    m = scrape(bport[1])
    assert one(m, "riffle_broker_ready") == 0
    assert one(m, "riffle_broker_epoch") == 0
    check_endpoints(bport[1], "broker-1")
    print("readiness before the quorum: 503 (%s)" % st[1].strip())


def check_controllers(ctl, cport):
    ms = {i: scrape(cport[i]) for i in ctl.ids}
    active = [i for i in ctl.ids
              if one(ms[i], "riffle_controller_active") == 1]
    assert len(active) == 1, active
    a = ms[active[0]]
    assert one(a, "riffle_controller_raft_state", state="leader") == 1
    for i in ctl.ids:
        assert one(ms[i], "riffle_controller_raft_term") >= 1
        assert one(ms[i], "riffle_controller_ready") == 1
        assert http_get(cport[i], "/readyz")[0] == 200
    assert one(a, "riffle_controller_brokers", state="unfenced") == 3
    assert one(a, "riffle_controller_brokers_registered") == 3
    assert one(a, "riffle_controller_topics") >= 1
    assert one(a, "riffle_controller_partitions") >= NPART
    assert one(a, "riffle_controller_offline_partitions") == 0
    assert (one(a, "riffle_controller_raft_commit_index") >=
            one(a, "riffle_controller_metadata_offset") > 0)
    print("controllers: active=%d term=%d" %
          (active[0], one(a, "riffle_controller_raft_term")))
    return cport[active[0]]


def check_traffic(b, bport, payload, ctl_port):
    ms = {i: scrape(bport[i]) for i in b.ids}
    # Produce requests: counted per version, every one answered (acks=all).
    prod = [(lb, v) for i in b.ids
            for lb, v in samples(ms[i], "riffle_broker_requests_total",
                                 api="Produce")]
    used = sorted({lb["version"] for lb, v in prod if v > 0})
    assert used and all(0 <= int(v) <= 7 for v in used), used
    for i in b.ids:
        for lb, v in samples(ms[i], "riffle_broker_requests_total",
                             api="Produce"):
            n = one(ms[i], "riffle_broker_request_duration_seconds_count",
                    api="Produce", version=lb["version"])
            inf = one(ms[i], "riffle_broker_request_duration_seconds_bucket",
                      api="Produce", version=lb["version"], le="+Inf")
            assert n == v == inf, (i, lb, v, n, inf)
    assert sum(total(ms[i], "riffle_broker_requests_total", api="Fetch")
               for i in b.ids) > 0
    assert sum(total(ms[i], "riffle_broker_requests_total",
                     api="ApiVersions") for i in b.ids) > 0
    # Bytes per topic.
    bin_ = sum(total(ms[i], "riffle_broker_produce_bytes_total", topic=TOPIC)
               for i in b.ids)
    bout = sum(total(ms[i], "riffle_broker_fetch_bytes_total", topic=TOPIC)
               for i in b.ids)
    assert bin_ >= payload and bout >= payload, (bin_, bout, payload)
    # Leaders: one per partition; their high watermarks hold every message.
    led = [(i, lb["partition"]) for i in b.ids
           for lb, v in samples(ms[i], "riffle_partition_leader",
                                topic=TOPIC) if v == 1]
    assert sorted(p for _, p in led) == [str(p) for p in range(NPART)], led
    hwm = sum(one(ms[i], "riffle_partition_high_watermark", topic=TOPIC,
                  partition=p) for i, p in led)
    assert hwm == NMSG, hwm
    for i, p in led:
        assert (one(ms[i], "riffle_partition_log_end_offset", topic=TOPIC,
                    partition=p) >=
                one(ms[i], "riffle_partition_high_watermark", topic=TOPIC,
                    partition=p))
        assert one(ms[i], "riffle_partition_log_start_offset", topic=TOPIC,
                   partition=p) == 0
        assert one(ms[i], "riffle_partition_isr_size", topic=TOPIC,
                   partition=p) == 3
    # Every partition of the cluster (__consumer_offsets too, which the
    # consumer may have had created moments ago) is led by exactly one
    # broker: wait for the brokers' metadata to catch up with the
    # controller's.
    def led_everywhere():
        parts = one(scrape(ctl_port), "riffle_controller_partitions")
        led = sum(one(scrape(bport[i]), "riffle_broker_partitions_led")
                  for i in b.ids)
        return parts == led and (parts, led)
    wait_until(led_everywhere, 60, "partitions led == controller partitions",
               interval=0.2)
    for i in b.ids:
        assert one(ms[i], "riffle_broker_partitions") >= NPART
        assert one(ms[i], "riffle_broker_ready") == 1
        assert one(ms[i], "riffle_broker_fenced") == 0
        assert one(ms[i], "riffle_broker_connections_accepted_total") >= 1
        assert one(ms[i], "riffle_broker_metadata_offset") > 0
    assert sum(one(ms[i], "riffle_broker_fsync_seconds_count")
               for i in b.ids) > 0
    print("traffic: produce versions %s, bytes in %d out %d (payload %d), "
          "hwm %d" % (used, bin_, bout, payload, hwm))


def replicated(b, bport):
    """All brokers report no under-replicated partition and every
    follower of TOPIC 0 records behind."""
    for i in b.ids:
        m = scrape(bport[i])
        if one(m, "riffle_broker_under_replicated_partitions") != 0:
            return False
        lags = samples(m, "riffle_partition_replica_lag_records", topic=TOPIC)
        if any(v != 0 for _, v in lags):
            return False
    return True


def check_follower_kill(b, bport):
    leaders = b.leaders(TOPIC)
    f = next(i for i in b.ids if i != leaders[0])
    lead = leaders[0]
    before = one(scrape(bport[lead]), "riffle_broker_isr_shrinks_total")
    b.procs[f].kill9()

    def shrunk():
        m = scrape(bport[lead])
        return (one(m, "riffle_broker_under_replicated_partitions") > 0 and
                one(m, "riffle_broker_isr_shrinks_total") > before and m)
    m = wait_until(shrunk, 60, "an ISR shrink on leader broker %d" % lead,
                   interval=0.2)
    assert one(m, "riffle_partition_isr_size", topic=TOPIC,
               partition=0) == 2
    print("follower %d killed: leader %d under-replicated=%d shrinks=%d"
          % (f, lead, one(m, "riffle_broker_under_replicated_partitions"),
             one(m, "riffle_broker_isr_shrinks_total")))
    return f


def refuse_start(wd, name, binary, conf):
    """Start binary with conf plus a metrics.listener whose port is taken:
    it must exit non-zero with one line naming the key and the port."""
    busy = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    busy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    port = busy.getsockname()[1]
    path = os.path.join(wd.path, name + ".properties")
    with open(path, "w") as f:
        f.write(conf + "metrics.listener=127.0.0.1:%d\n" % port)
    try:
        r = subprocess.run([binary, "--config", path], capture_output=True,
                           text=True, timeout=60)
    finally:
        busy.close()
    err = r.stderr.strip().splitlines()
    assert r.returncode != 0, r
    bad = [x for x in err if "%s: metrics.listener" % os.path.basename(binary)
           in x and str(port) in x]
    assert len(bad) == 1, err[-3:]
    assert not any(m in r.stderr for m in ("AddressSanitizer",
                                           "LeakSanitizer", "runtime error"))
    print("%s: metrics.listener in use: exit %d: %s"
          % (name, r.returncode, bad[0][bad[0].find("riffle-"):]))


def check_bind_failure(wd, b, ctl):
    """A metrics.listener port in use: either daemon refuses to start."""
    refuse_start(wd, "broker-bad", b.binary,
                 "node.id=9\nprocess.roles=broker\n"
                 "controller.quorum.bootstrap.servers=%s\n"
                 "listeners=PLAINTEXT://127.0.0.1:%d\nlog.dirs=%s\n"
                 % (ctl.endpoints(), free_port(),
                    os.path.join(wd.path, "bad-broker")))
    refuse_start(wd, "controller-bad", ctl.binary,
                 "node.id=1\nprocess.roles=controller\n"
                 "controller.quorum.voters=1@127.0.0.1:%d\n"
                 "listeners=127.0.0.1:%d\nmetadata.log.dir=%s\n"
                 % (free_port(), free_port(),
                    os.path.join(wd.path, "bad-controller")))


def main():
    with Workdir(prefix="riffle-metrics-") as wd:
        ctl = ControllerCluster(wd, n=3)
        cport = {i: free_port() for i in ctl.ids}
        for i in ctl.ids:
            add_metrics_listener(
                os.path.join(wd.path, "controller-%d.properties" % i),
                cport[i])
        b = ReplCluster(wd, ctl, n=3, extra={
            "replica.lag.time.max.ms": str(LAG_MS)})
        bport = {i: free_port() for i in b.ids}
        for i in b.ids:
            add_metrics_listener(
                os.path.join(wd.path, "broker-%d.properties" % i), bport[i])

        check_readiness_before_quorum(ctl, b, cport, bport)
        ctl.procs[2].start()
        ctl.procs[3].start()
        for i in ctl.ids:
            ctl.wait_ready(i)
        ctl.wait_active()
        wait_until(lambda: all(http_get(cport[i], "/readyz")[0] == 200
                               for i in ctl.ids), 60,
                   "controllers ready")
        b.procs[2].start()
        b.procs[3].start()
        b.wait_ready()
        st = wait_until(lambda: (lambda r: r[0] == 200 and r)(
            http_get(bport[1], "/readyz")), 60, "broker-1 ready")
        print("broker-1 once unfenced: %d %s" % (st[0], st[1].strip()))

        ctl.ctl("create", TOPIC, NPART, 3)
        b.wait_topic(TOPIC, NPART)
        payload = produce(b.bootstrap())
        consume(b.bootstrap())
        wait_until(lambda: replicated(b, bport), 60,
                   "full ISR and zero follower lag")
        active_port = check_controllers(ctl, cport)
        check_traffic(b, bport, payload, active_port)

        check_follower_kill(b, bport)
        check_bind_failure(wd, b, ctl)
        b.stop([i for i in b.ids if b.procs[i].running()])
        ctl.stop()
    print("1 passed, 0 failed")


if __name__ == "__main__":
    main()
