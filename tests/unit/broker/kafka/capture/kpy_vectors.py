#!/usr/bin/python3
"""kpy_vectors.py: encodes every request AND response class of kafka-python
2.0.2's own protocol module (an independent implementation of Kafka's
message layouts) whose (ApiKey, version) our codec covers, with generic
field values, into OUT_DIR/<req|resp>-<ApiKey>-v<ver>.bin. test_vectors.c
decodes each with our codec and re-encodes it byte for byte.
Usage: kpy_vectors.py OUT_DIR"""
import importlib
import os
import pkgutil
import sys

import kafka.protocol as kp
from kafka.protocol.api import Request, Response
from kafka.protocol import types as t

# ApiKey -> (codec min, max); Produce's codec covers 0-7.
RANGES = {0: (0, 7), 1: (4, 11), 2: (1, 3), 3: (0, 8), 8: (2, 7),
          9: (1, 7), 10: (0, 2), 11: (0, 5), 12: (0, 3), 13: (0, 3),
          14: (0, 3), 15: (0, 4), 16: (0, 4), 18: (0, 3), 19: (0, 4),
          20: (0, 3), 21: (0, 1), 22: (0, 4), 32: (0, 2), 37: (0, 1),
          42: (0, 1), 47: (0, 0)}


def value(typ, name, depth):
    if isinstance(typ, t.Schema):
        return tuple(value(f, n, depth + 1)
                     for n, f in zip(typ.names, typ.fields))
    if isinstance(typ, t.Array):
        inner = typ.array_of
        return [value(inner, name, depth + 1) for _ in range(2)]
    if isinstance(typ, t.String) or typ is t.String:
        return "%s-%d" % (name, depth)
    if typ is t.Bytes or isinstance(typ, t.Bytes):
        return b"\x00\x01bytes-" + name.encode()
    if typ is t.Boolean:
        return True
    if typ is t.Int8:
        return 3
    if typ is t.Int16:
        return 0x1234 if name != "error_code" else 7
    if typ is t.Int32:
        return 0x12345678
    if typ is t.Int64:
        return 0x123456789abcdef
    raise TypeError("unhandled type %r for %s" % (typ, name))


def classes():
    for m in pkgutil.iter_modules(kp.__path__):
        mod = importlib.import_module("kafka.protocol." + m.name)
        for name in dir(mod):
            o = getattr(mod, name)
            if (isinstance(o, type) and issubclass(o, (Request, Response))
                    and o not in (Request, Response)
                    and isinstance(getattr(o, "API_VERSION", None), int)):
                yield o


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    n = 0
    for cls in sorted(set(classes()), key=lambda c: c.__name__):
        key, ver = cls.API_KEY, cls.API_VERSION
        if key not in RANGES or not RANGES[key][0] <= ver <= RANGES[key][1]:
            continue
        kind = "req" if issubclass(cls, Request) else "resp"
        vals = value(cls.SCHEMA, cls.__name__, 0)
        obj = cls(*vals)  # encode() holds only a weak reference
        try:
            data = obj.encode()
        except TypeError as e:  # a kafka-python schema that cannot encode
            print("kpy_vectors: skip %s: %s" % (cls.__name__, e))
            continue
        path = os.path.join(out, "%s-%d-v%d.bin" % (kind, key, ver))
        with open(path, "wb") as fp:
            fp.write(data)
        n += 1
    print("kpy_vectors: wrote %d vectors" % n)


if __name__ == "__main__":
    main()
