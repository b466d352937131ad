#!/usr/bin/python3
"""extract.py TRACE OUT: pull the record batch out of the first Produce
request found in an `strace -e write=all` dump (test data capture only)."""
import re
import struct
import sys


def syscalls(path):
    """Yield the bytes written by each traced sendmsg/write call."""
    cur = None
    for line in open(path, errors="replace"):
        m = re.match(r"^ \| [0-9a-f]{5}  ((?:[0-9a-f]{2} {1,2}){1,16})", line)
        if m:
            if cur is not None:
                cur += bytes.fromhex(m.group(1).replace(" ", ""))
            continue
        if line.startswith(" * "):
            continue
        if cur:
            yield cur
        cur = bytearray()
    if cur:
        yield cur


def produce_records(req):
    """Produce v3..v8 request (non-flexible) -> records bytes."""
    size, key, ver, corr = struct.unpack(">ihhi", req[:12])
    if key != 0 or not 3 <= ver <= 8:
        return None
    off = 12
    (clen,) = struct.unpack(">h", req[off:off + 2])
    if clen != 7 or req[14:21] != b"rdkafka":
        return None  # a response from the mock broker, not a request
    off += 2 + clen
    (tlen,) = struct.unpack(">h", req[off:off + 2])  # transactional_id
    off += 2 + max(tlen, 0)
    off += 2 + 4  # acks, timeout_ms
    (ntopics,) = struct.unpack(">i", req[off:off + 4])
    off += 4
    (nlen,) = struct.unpack(">h", req[off:off + 2])
    off += 2 + nlen
    (nparts,) = struct.unpack(">i", req[off:off + 4])
    off += 4 + 4  # partition count, index
    (rlen,) = struct.unpack(">i", req[off:off + 4])
    off += 4
    return bytes(req[off:off + rlen]), ver


def main():
    for data in syscalls(sys.argv[1]):
        if len(data) > 12:
            got = produce_records(data)
            if got:
                open(sys.argv[2], "wb").write(got[0])
                print("%s: %d bytes from Produce v%d" % (sys.argv[2], len(got[0]), got[1]))
                return 0
    print("no Produce request found", file=sys.stderr)
    return 1


sys.exit(main())
