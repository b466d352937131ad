#!/usr/bin/python3
"""capture_server.py: a tiny Kafka stand-in that records every request frame
real clients send, and answers just enough for them to go on (ApiVersions,
Metadata with one broker = itself and the topics asked for, Produce acks,
empty Fetch, ListOffsets, FindCoordinator, a one-member consumer group,
InitProducerId, CreateTopics, DeleteTopics). Test tooling only; 127.0.0.1.

Usage: capture_server.py --out DIR --prefix NAME --port-file FILE
Each request frame body (after the int32 size) is written to
DIR/NAME-<ApiName>-v<version>-<n>.bin, at most --per-key per (api, version),
and the answer the client accepted to the same name with .resp.
"""
import argparse
import os
import socket
import socketserver
import struct
import sys
import threading
import time

# ApiKey: (name, min, max, first flexible) -- the same table as api_table.c
APIS = {0: ("Produce", 3, 7, 9), 1: ("Fetch", 4, 11, 12),
        2: ("ListOffsets", 1, 3, 6), 3: ("Metadata", 0, 8, 9),
        8: ("OffsetCommit", 2, 7, 8), 9: ("OffsetFetch", 1, 7, 6),
        10: ("FindCoordinator", 0, 2, 3), 11: ("JoinGroup", 0, 5, 6),
        12: ("Heartbeat", 0, 3, 4), 13: ("LeaveGroup", 0, 3, 4),
        14: ("SyncGroup", 0, 3, 4), 15: ("DescribeGroups", 0, 4, 5),
        16: ("ListGroups", 0, 4, 3), 18: ("ApiVersions", 0, 3, 3),
        19: ("CreateTopics", 0, 4, 5), 20: ("DeleteTopics", 0, 3, 4),
        21: ("DeleteRecords", 0, 1, 2), 22: ("InitProducerId", 0, 4, 2),
        32: ("DescribeConfigs", 0, 2, 4), 37: ("CreatePartitions", 0, 1, 2),
        42: ("DeleteGroups", 0, 1, 2), 47: ("OffsetDelete", 0, 0, 99)}


class R:
    """Reader over one request body (classic or flexible encoding)."""

    def __init__(self, b, off, flex):
        self.b, self.o, self.flex = b, off, flex

    def take(self, n):
        if n < 0 or self.o + n > len(self.b):
            raise ValueError("truncated")
        v = self.b[self.o:self.o + n]
        self.o += n
        return v

    def i8(self): return struct.unpack(">b", self.take(1))[0]
    def i16(self): return struct.unpack(">h", self.take(2))[0]
    def i32(self): return struct.unpack(">i", self.take(4))[0]
    def i64(self): return struct.unpack(">q", self.take(8))[0]

    def uvar(self):
        v = shift = 0
        while True:
            c = self.take(1)[0]
            v |= (c & 0x7f) << shift
            if not c & 0x80:
                return v
            shift += 7

    def str(self):
        n = self.uvar() - 1 if self.flex else self.i16()
        return None if n < 0 else self.take(n).decode("utf-8", "replace")

    def bytes(self):
        n = self.uvar() - 1 if self.flex else self.i32()
        return None if n < 0 else self.take(n)

    def arr(self, fn):
        n = self.uvar() - 1 if self.flex else self.i32()
        return None if n < 0 else [fn() for _ in range(n)]

    def tags(self):
        if self.flex:
            for _ in range(self.uvar()):
                self.uvar()
                self.take(self.uvar())


class W:
    """Writer for one response body."""

    def __init__(self, flex=False):
        self.p, self.flex = [], flex

    def i8(self, v): self.p.append(struct.pack(">b", v)); return self
    def i16(self, v): self.p.append(struct.pack(">h", v)); return self
    def i32(self, v): self.p.append(struct.pack(">i", v)); return self
    def i64(self, v): self.p.append(struct.pack(">q", v)); return self

    def uvar(self, v):
        out = bytearray()
        while v >= 0x80:
            out.append((v & 0x7f) | 0x80)
            v >>= 7
        out.append(v)
        self.p.append(bytes(out))
        return self

    def str(self, s):
        if s is None:
            return self.uvar(0) if self.flex else self.i16(-1)
        b = s.encode()
        (self.uvar(len(b) + 1) if self.flex else self.i16(len(b)))
        self.p.append(b)
        return self

    def bytes(self, b):
        if b is None:
            return self.uvar(0) if self.flex else self.i32(-1)
        (self.uvar(len(b) + 1) if self.flex else self.i32(len(b)))
        self.p.append(b)
        return self

    def arr(self, items, fn):
        if items is None:
            return self.uvar(0) if self.flex else self.i32(-1)
        (self.uvar(len(items) + 1) if self.flex else self.i32(len(items)))
        for it in items:
            fn(it)
            self.tags()
        return self

    def tags(self):
        if self.flex:
            self.uvar(0)
        return self

    def data(self):
        return b"".join(self.p)


class State:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.counts = {}
        self.offsets = {}
        self.port = 0
        self.assignment = b""


def parse_topics_partitions(r, part_fn):
    """[name, [partition...]] where part_fn reads one partition entry."""
    def topic():
        name = r.str()
        parts = r.arr(lambda: (part_fn(), r.tags())[0])
        r.tags()
        return (name, parts)
    return r.arr(topic)


def h_api_versions(st, ver, r, w):
    if ver > 3:
        w.flex = False
        w.i16(35).i32(1).i16(18).i16(0).i16(3)
        return w
    w.i16(0)
    keys = sorted(APIS.items())
    w.arr(keys, lambda kv: w.i16(kv[0]).i16(kv[1][1]).i16(kv[1][2]))
    if ver >= 1:
        w.i32(0)
    return w.tags()


def h_metadata(st, ver, r, w):
    topics = r.arr(lambda: r.str())
    if not topics:
        topics = [st.args.topic]
    w.i32(0) if ver >= 3 else None
    w.i32(1)
    w.i32(1).str("127.0.0.1").i32(st.port)
    if ver >= 1:
        w.str(None)
    if ver >= 2:
        w.str("capture-cluster")
    if ver >= 1:
        w.i32(1)
    w.i32(len(topics))
    for t in topics:
        w.i16(0).str(t)
        if ver >= 1:
            w.i8(0)
        w.i32(1).i16(0).i32(0).i32(1)
        if ver >= 7:
            w.i32(0)
        w.i32(1).i32(1).i32(1).i32(1)
        if ver >= 5:
            w.i32(0)
        if ver >= 8:
            w.i32(-2147483648)
    if ver >= 8:
        w.i32(-2147483648)
    return w


def h_produce(st, ver, r, w):
    r.str()
    acks = r.i16()
    r.i32()
    topics = parse_topics_partitions(r, lambda: (r.i32(), r.bytes())[0])
    if acks == 0:
        return None

    def part(t, p):
        with st.lock:
            base = st.offsets.get((t, p), 0)
            st.offsets[(t, p)] = base + 1
        w.i32(p).i16(0).i64(base).i64(-1)
        if ver >= 5:
            w.i64(0)
    w.i32(len(topics))
    for t, parts in topics:
        w.str(t).i32(len(parts))
        for p in parts:
            part(t, p)
    return w.i32(0)


def h_fetch(st, ver, r, w):
    r.i32()
    max_wait = r.i32()
    r.i32(), r.i32(), r.i8()
    if ver >= 7:
        r.i32(), r.i32()

    def part():
        p = r.i32()
        if ver >= 9:
            r.i32()
        r.i64()
        if ver >= 5:
            r.i64()
        r.i32()
        return p
    topics = parse_topics_partitions(r, part)
    time.sleep(min(max(max_wait, 0), 200) / 1000.0)
    w.i32(0)
    if ver >= 7:
        w.i16(0).i32(0)
    w.i32(len(topics))
    for t, parts in topics:
        w.str(t).i32(len(parts))
        for p in parts:
            w.i32(p).i16(0).i64(0).i64(0)
            if ver >= 5:
                w.i64(0)
            w.i32(0)
            if ver >= 11:
                w.i32(-1)
            w.bytes(b"")
    return w


def h_list_offsets(st, ver, r, w):
    r.i32()
    if ver >= 2:
        r.i8()
    topics = parse_topics_partitions(r, lambda: (r.i32(), r.i64())[0])
    if ver >= 2:
        w.i32(0)
    w.i32(len(topics))
    for t, parts in topics:
        w.str(t).i32(len(parts))
        for p in parts:
            w.i32(p).i16(0).i64(-1).i64(0)
    return w


def h_find_coordinator(st, ver, r, w):
    if ver >= 1:
        w.i32(0)
    w.i16(0)
    if ver >= 1:
        w.str(None)
    return w.i32(1).str("127.0.0.1").i32(st.port)


def h_join_group(st, ver, r, w):
    r.str(), r.i32()
    if ver >= 1:
        r.i32()
    member = r.str()
    if ver >= 5:
        r.str()
    r.str()
    protos = r.arr(lambda: (r.str(), r.bytes()))
    if ver >= 2:
        w.i32(0)
    if not member and ver >= 4:
        w.i16(79).i32(-1).str("").str("").str("capture-member").i32(0)
        return w
    member = member or "capture-member"
    name, meta = protos[0]
    w.i16(0).i32(1).str(name).str(member).str(member).i32(1).str(member)
    if ver >= 5:
        w.str(None)
    return w.bytes(meta)


def h_sync_group(st, ver, r, w):
    r.str(), r.i32()
    member = r.str()
    if ver >= 3:
        r.str()
    assigns = r.arr(lambda: (r.str(), r.bytes()))
    mine = b""
    for m, a in assigns or []:
        if m == member:
            mine = a
    with st.lock:
        if mine:
            st.assignment = mine
        mine = st.assignment
    if ver >= 1:
        w.i32(0)
    return w.i16(0).bytes(mine)


def h_heartbeat(st, ver, r, w):
    if ver >= 1:
        w.i32(0)
    return w.i16(0)


def h_leave_group(st, ver, r, w):
    if ver >= 1:
        w.i32(0)
    w.i16(0)
    if ver >= 3:
        w.i32(0)
    return w


def h_offset_commit(st, ver, r, w):
    r.str()
    r.i32(), r.str()
    if ver >= 7:
        r.str()
    if ver <= 4:
        r.i64()

    def part():
        p = r.i32()
        r.i64()
        if ver >= 6:
            r.i32()
        r.str()
        return p
    topics = parse_topics_partitions(r, part)
    if ver >= 3:
        w.i32(0)
    w.i32(len(topics))
    for t, parts in topics:
        w.str(t).i32(len(parts))
        for p in parts:
            w.i32(p).i16(0)
    return w


def h_offset_fetch(st, ver, r, w):
    r.str()
    topics = r.arr(lambda: (r.str(), r.arr(r.i32), r.tags())[:2])
    if ver >= 3:
        w.i32(0)

    def topic(tp):
        def part(p):
            w.i32(p).i64(-1)
            if ver >= 5:
                w.i32(-1)
            w.str("").i16(0)
        w.str(tp[0]).arr(tp[1], part)
    w.arr(topics or [], topic)
    if ver >= 2:
        w.i16(0)
    return w.tags()


def h_init_producer_id(st, ver, r, w):
    return w.i32(0).i16(0).i64(1000).i16(0).tags()


def h_create_topics(st, ver, r, w):
    def topic():
        name = r.str()
        r.i32(), r.i16()
        r.arr(lambda: (r.i32(), r.arr(r.i32)))
        r.arr(lambda: (r.str(), r.str()))
        return name
    names = r.arr(topic)
    if ver >= 2:
        w.i32(0)
    w.i32(len(names))
    for n in names:
        w.str(n).i16(0)
        if ver >= 1:
            w.str(None)
    return w


def h_delete_topics(st, ver, r, w):
    names = r.arr(r.str)
    if ver >= 1:
        w.i32(0)
    w.i32(len(names))
    for n in names:
        w.str(n).i16(0)
    return w


HANDLERS = {18: h_api_versions, 3: h_metadata, 0: h_produce, 1: h_fetch,
            2: h_list_offsets, 10: h_find_coordinator, 11: h_join_group,
            14: h_sync_group, 12: h_heartbeat, 13: h_leave_group,
            8: h_offset_commit, 9: h_offset_fetch, 22: h_init_producer_id,
            19: h_create_topics, 20: h_delete_topics}


def record(st, key, ver, frame, n=None, ext="bin"):
    """Write a request (or, given its n, the answer to it); returns n."""
    name = APIS.get(key, ("Api%d" % key,))[0]
    if n is None:
        with st.lock:
            n = st.counts.get((key, ver), 0)
            if n >= st.args.per_key:
                return None
            st.counts[(key, ver)] = n + 1
    path = os.path.join(st.args.out, "%s-%s-v%d-%d.%s" % (
        st.args.prefix, name, ver, n, ext))
    with open(path, "wb") as fp:
        fp.write(frame)
    return n


def serve_one(st, sock, frame):
    key, ver, corr = struct.unpack(">hhi", frame[:8])
    n = record(st, key, ver, frame)
    api = APIS.get(key)
    if api is None or key not in HANDLERS:
        return False
    flex = ver >= api[3]
    (cid_len,) = struct.unpack(">h", frame[8:10])
    off = 10 + max(cid_len, 0)
    r = R(frame, off, flex)
    if flex:
        r.tags()
    w = W(flex)
    body = HANDLERS[key](st, ver, r, w)
    if body is None:
        return True
    hdr = struct.pack(">i", corr)
    if flex and key != 18:
        hdr += b"\x00"
    out = hdr + body.data()
    if n is not None:
        record(st, key, ver, out, n, "resp")
    sock.sendall(struct.pack(">i", len(out)) + out)
    return True


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        st = self.server.state
        sock = self.request
        buf = b""
        while True:
            try:
                data = sock.recv(65536)
            except OSError:
                return
            if not data:
                return
            buf += data
            while len(buf) >= 4:
                (size,) = struct.unpack(">i", buf[:4])
                if size < 8 or size > 64 << 20:
                    return
                if len(buf) < 4 + size:
                    break
                frame, buf = buf[4:4 + size], buf[4 + size:]
                try:
                    if not serve_one(st, sock, frame):
                        return
                except (ValueError, struct.error, IndexError, TypeError):
                    return


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--prefix", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--topic", default="cap-topic")
    ap.add_argument("--per-key", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=120.0)
    ap.add_argument("--produce-min", type=int, default=3,
                    help="advertised Produce minimum (librdkafka 2.0.2 only "
                    "compresses with gzip/snappy/lz4 if Produce v0 is in)")
    args = ap.parse_args()
    APIS[0] = ("Produce", args.produce_min, 7, 9)
    os.makedirs(args.out, exist_ok=True)
    st = State(args)
    srv = Server(("127.0.0.1", 0), Handler)
    srv.state = st
    st.port = srv.server_address[1]
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as fp:
        fp.write("%d\n" % st.port)
    os.replace(tmp, args.port_file)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    deadline = time.time() + args.timeout
    try:
        while time.time() < deadline:
            time.sleep(0.2)
    except KeyboardInterrupt:
        pass
    srv.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
