#!/usr/bin/python3
"""check_schemas.py: compares our schema/*.json with Apache Kafka's message
specs (clients/src/main/resources/common/message/) for every version we
cover: field order, types, nullability, tags and flexible versions. A
developer tool (needs a Kafka git checkout); not run by the build.

Usage: check_schemas.py KAFKA_GIT_DIR [REF]   (REF default 3.8.0)
Prints one line per difference; exit status 1 if a layout differs
(name-only differences are reported but do not fail)."""
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
MINE = os.path.join(HERE, "..", "schema")


def load_kafka(repo, ref, name):
    txt = subprocess.run(
        ["git", "-C", repo, "show",
         "%s:clients/src/main/resources/common/message/%s.json" % (ref, name)],
        capture_output=True, text=True, check=True).stdout
    return json.loads(re.sub(r"^\s*//.*$", "", txt, flags=re.M))


def vrange(s):
    if s is None or s == "none":
        return (99, -1)
    m = re.fullmatch(r"(\d+)(\+|-(\d+))?", s)
    lo = int(m.group(1))
    if m.group(2) == "+":
        return (lo, 999)
    return (lo, int(m.group(3)) if m.group(3) else lo)


def within(v, r):
    return r[0] <= v <= r[1]


def layout(fields, v, kafka):
    """[(name, type, nullable, tag, sub-layout)] of the fields present in v."""
    out = []
    for f in fields:
        if not within(v, vrange(f.get("versions", "0+"))):
            continue
        tagged = "tag" in f and (not kafka or within(
            v, vrange(f.get("taggedVersions", "none"))))
        nkey = "nullableVersions" if kafka else "nullable"
        t = f["type"]
        nullable = within(v, vrange(f.get(nkey, "none")))
        if not (t in ("string", "bytes", "records") or t.startswith("[]")):
            nullable = False
        sub = None
        if t.startswith("[]") and "fields" in f:
            sub, t = layout(f["fields"], v, kafka), "[]struct"
        out.append((f["name"], t, nullable, f.get("tag") if tagged else None,
                    sub))
    return out


def compare(mine, theirs, path, v, out):
    if len(mine) != len(theirs):
        out.append((True, "v%d %s: fields %s vs kafka %s" % (
            v, path, [x[0] for x in mine], [x[0] for x in theirs])))
        return
    for a, b in zip(mine, theirs):
        if a[1:4] != b[1:4]:
            out.append((True, "v%d %s.%s: %s vs kafka %s %s" % (
                v, path, a[0], a[1:4], b[0], b[1:4])))
        elif a[0] != b[0]:
            out.append((False, "v%d %s.%s: named %s in kafka" % (
                v, path, a[0], b[0])))
        if a[4] is not None and b[4] is not None:
            compare(a[4], b[4], path + "." + a[0], v, out)


def main():
    repo = sys.argv[1]
    ref = sys.argv[2] if len(sys.argv) > 2 else "3.8.0"
    bad = False
    for fn in sorted(os.listdir(MINE)):
        with open(os.path.join(MINE, fn)) as fp:
            my = json.load(fp)
        lo, hi = vrange(my["versions"])
        for kind in ("Request", "Response"):
            k = load_kafka(repo, ref, my["name"] + kind)
            out = []
            if vrange(k.get("flexibleVersions"))[0] != vrange(my["flexible"])[0]:
                out.append((True, "flexible versions differ"))
            for v in range(lo, hi + 1):
                if not within(v, vrange(k["validVersions"])):
                    out.append((True, "v%d not valid in kafka" % v))
                    continue
                compare(layout(my[kind.lower()], v, False),
                        layout(k["fields"], v, True), kind, v, out)
            for fatal, msg in out:
                bad |= fatal
                print("%s %s%s" % (my["name"], "" if fatal else "(name) ", msg))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
