#!/usr/bin/python3
"""test_bad_input.py: raw sockets against a real broker. Each bad input gets
the protocol's error or a closed connection, nothing is appended, and the
broker keeps serving a well-behaved client throughout:
unknown API key, unsupported version, ApiVersions v9 (answered with
UNSUPPORTED_VERSION), truncated frame, 2 GiB length, a record batch with a
wrong CRC (CORRUPT_MESSAGE, nothing appended), garbage after a valid header,
1 MiB of random bytes, and a slow client sending one byte a second.
"""
import os
import random
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "lib"))
from broker_harness import BrokerCluster  # noqa: E402
from riffle_harness import ControllerCluster, Workdir  # noqa: E402


def kstr(s):
    return struct.pack(">h", len(s)) + s


def request(key, ver, corr, body, client=b"rawtest", flexible=False):
    hdr = struct.pack(">hhi", key, ver, corr) + kstr(client)
    if flexible:
        hdr += b"\x00"  # request header v2: empty tag section
    msg = hdr + body
    return struct.pack(">i", len(msg)) + msg


def connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    return s


def recv_frame(s):
    """One response frame body, or None when the broker closed."""
    def full(n):
        b = b""
        while len(b) < n:
            chunk = s.recv(n - len(b))
            if not chunk:
                return None
            b += chunk
        return b
    h = full(4)
    if h is None:
        return None
    (n,) = struct.unpack(">i", h)
    return full(n)


def closed(s, timeout=10):
    s.settimeout(timeout)
    try:
        while True:
            d = s.recv(65536)
            if not d:
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def varint(v):
    v = (v << 1) ^ (v >> 63)
    out = b""
    while v >= 0x80:
        out += bytes([(v & 0x7F) | 0x80])
        v >>= 7
    return out + bytes([v])


def record_batch(value, good_crc=True):
    rec = b"\x00" + varint(0) + varint(0) + varint(-1) + varint(len(value)) \
        + value + varint(0)
    records = varint(len(rec)) + rec
    ts = int(time.time() * 1000)
    after_crc = struct.pack(">hiqqqhii", 0, 0, ts, ts, -1, -1, -1, 1) + records
    crc = crc32c(after_crc)
    if not good_crc:
        crc ^= 0xDEAD
    body = struct.pack(">iBI", 0, 2, crc) + after_crc  # epoch, magic, crc
    return struct.pack(">qi", 0, len(body)) + body


def legacy_message_set(value):
    """One magic-1 message (the pre-0.11 format): offset, size, crc, magic,
    attributes, timestamp, key (null), value."""
    body = struct.pack(">bbq", 1, 0, int(time.time() * 1000)) + \
        struct.pack(">i", -1) + struct.pack(">i", len(value)) + value
    msg = struct.pack(">I", 0) + body  # CRC-32 not checked before magic
    return struct.pack(">qi", 0, len(msg)) + msg


def produce_v2(topic, records, acks=1):
    """Produce v0-2 layout: no TransactionalId."""
    return (struct.pack(">hi", acks, 10000) +
            struct.pack(">i", 1) + kstr(topic) + struct.pack(">i", 1) +
            struct.pack(">i", 0) + struct.pack(">i", len(records)) + records)


def produce_v3(topic, batch, acks=1):
    return (struct.pack(">h", -1) + struct.pack(">hi", acks, 10000) +
            struct.pack(">i", 1) + kstr(topic) + struct.pack(">i", 1) +
            struct.pack(">i", 0) + struct.pack(">i", len(batch)) + batch)


def produce_error(resp):
    # corr, [topic: name, [partition: index, error, base, (v2+ time), ...]]
    off = 4 + 4
    (nlen,) = struct.unpack_from(">h", resp, off)
    off += 2 + nlen + 4
    _, err, base = struct.unpack_from(">ihq", resp, off)
    return err, base


def api_versions_ok(port):
    s = connect(port)
    s.sendall(request(18, 0, 7, b""))
    r = recv_frame(s)
    s.close()
    return r is not None and struct.unpack_from(">ih", r) == (7, 0)


def end_offset(bs, topic):
    r = subprocess.run(["kcat", "-b", bs, "-Q", "-t", "%s:0:-1" % topic],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    return int(r.stdout.split()[-1])


def main():
    with Workdir(prefix="riffle-bad-") as wd:
        ctl = ControllerCluster(wd, n=3).start()
        ctl.wait_active()
        brokers = BrokerCluster(wd, ctl, n=1).start()
        port = brokers.kafka_port[1]
        bs = brokers.bootstrap()
        ctl.ctl("create", "bad", 1, 1)
        brokers.wait_topic("bad", 1)
        checks = 0

        # a slow client: one byte a second, in the background of the rest
        slow = connect(port)
        slow_req = request(18, 0, 99, b"")
        slow.sendall(slow_req[:1])

        # unknown API key: connection closed
        s = connect(port)
        s.sendall(request(999, 0, 1, b""))
        assert closed(s), "unknown api key: not closed"
        checks += 1
        # unsupported version of a known API: closed
        s = connect(port)
        s.sendall(request(3, 99, 1, b"\x00\x00\x00\x00"))
        assert closed(s), "unsupported version: not closed"
        checks += 1
        # ApiVersions v9: UNSUPPORTED_VERSION (35) in a v0 answer
        s = connect(port)
        s.sendall(request(18, 9, 5, b"", flexible=True))
        r = recv_frame(s)
        assert r is not None and struct.unpack_from(">ih", r) == (5, 35), r
        s.close()
        checks += 1
        # truncated frame: the size announces more than ever arrives; the
        # broker must not answer, and must keep serving others meanwhile
        s = connect(port)
        s.sendall(request(18, 0, 1, b"")[:-3])
        s.shutdown(socket.SHUT_WR)
        assert closed(s), "truncated frame: not closed at EOF"
        checks += 1
        # 2 GiB length: closed before anything is read or allocated
        s = connect(port)
        s.sendall(struct.pack(">I", 0x80000000) + b"x" * 100)
        assert closed(s), "2 GiB frame: not closed"
        checks += 1
        # garbage after a valid header
        s = connect(port)
        s.sendall(request(3, 1, 1, random.Random(11).randbytes(200)))
        assert closed(s), "garbage body: not closed"
        checks += 1
        # 1 MiB of random bytes, seeded so that the run is repeatable: their
        # first four announce ~907 MB, over socket.request.max.bytes, so the
        # connection closes at once. (Bytes announcing a plausible size would
        # be a frame that never completes: closed after request.timeout.ms,
        # like the slow client below when it stalls.)
        s = connect(port)
        try:
            s.sendall(random.Random(7).randbytes(1 << 20))
        except (BrokenPipeError, ConnectionResetError):
            pass
        assert closed(s), "random bytes: not closed"
        checks += 1
        # wrong CRC: CORRUPT_MESSAGE (2), nothing appended
        before = end_offset(bs, "bad")
        s = connect(port)
        s.sendall(request(0, 3, 11, produce_v3(b"bad",
                                               record_batch(b"x", False))))
        r = recv_frame(s)
        assert r is not None, "bad crc: no answer"
        assert produce_error(r)[0] == 2, produce_error(r)
        # and the same batch with a good CRC is appended on that connection
        s.sendall(request(0, 3, 12, produce_v3(b"bad", record_batch(b"y"))))
        r = recv_frame(s)
        assert produce_error(r) == (0, before), produce_error(r)
        # Produce v2 (advertised so librdkafka keeps compression on) takes a
        # record batch v2; a legacy magic-1 message set is INVALID_RECORD.
        s.sendall(request(0, 2, 13, produce_v2(b"bad", record_batch(b"z"))))
        r = recv_frame(s)
        assert produce_error(r) == (0, before + 1), produce_error(r)
        s.sendall(request(0, 2, 14, produce_v2(b"bad",
                                               legacy_message_set(b"old"))))
        r = recv_frame(s)
        assert produce_error(r)[0] == 87, produce_error(r)
        s.close()
        assert end_offset(bs, "bad") == before + 2
        checks += 1

        # the slow client finishes its request one byte a second
        for i in range(1, len(slow_req)):
            slow.sendall(slow_req[i:i + 1])
            assert api_versions_ok(port), "broker stopped serving"
            time.sleep(1 if i < 4 else 0.05)
        r = recv_frame(slow)
        assert r is not None and struct.unpack_from(">ih", r) == (99, 0)
        slow.close()
        checks += 1
        assert brokers.procs[1].running(), "broker died"
        brokers.stop()
        ctl.stop()
        print("bad input: %d checks" % checks)
    print("1 passed, 0 failed")


if __name__ == "__main__":
    main()
