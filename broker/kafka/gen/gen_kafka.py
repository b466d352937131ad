#!/usr/bin/python3
"""gen_kafka.py: turns broker/kafka/schema/*.json into C structs and codec
descriptors (kafka_msgs.h / kafka_msgs.c). Run by CMake at build time.

Usage: gen_kafka.py OUT_DIR SCHEMA.json...
Schema format (ours, written from the facts of Apache Kafka's message specs):
  {"apiKey": N, "name": "Produce", "versions": "3-7", "flexible": "9+"|"none",
   "request": [field...], "response": [field...]}
  field: {"name", "type": "int8|int16|int32|int64|bool|string|bytes|records|
          []int32|[]int64|[]string|[]StructName", "versions": "0+"|"a-b"|"a",
          "nullable": versions, "default": number|true|false|"null"|"",
          "tag": N (tagged field), "fields": [...] (for []StructName)}
"""
import json
import os
import re
import sys

INT16_MAX = 32767
SCALARS = {"bool": ("bool", "RF_KT_BOOL"), "int8": ("int8_t", "RF_KT_INT8"),
           "int16": ("int16_t", "RF_KT_INT16"),
           "int32": ("int32_t", "RF_KT_INT32"),
           "int64": ("int64_t", "RF_KT_INT64"),
           "string": ("struct rf_kstr", "RF_KT_STRING"),
           "bytes": ("struct rf_kbytes", "RF_KT_BYTES"),
           "records": ("struct rf_kbytes", "RF_KT_RECORDS")}
ARRAY_ELEMS = ("int32", "int64", "string")


class SchemaError(Exception):
    pass


def parse_versions(text, what):
    if text == "none":
        return (INT16_MAX, -1)
    m = re.fullmatch(r"(\d+)(\+|-(\d+))?", text)
    if not m:
        raise SchemaError("%s: bad version range %r" % (what, text))
    lo = int(m.group(1))
    if m.group(2) == "+":
        return (lo, INT16_MAX)
    hi = int(m.group(3)) if m.group(3) else lo
    if hi < lo:
        raise SchemaError("%s: empty version range %r" % (what, text))
    return (lo, hi)


class Struct:
    def __init__(self, msg, name, fields, is_root):
        self.msg = msg
        self.name = name
        self.cname = "rf_" + msg if is_root else "rf_%s_%s" % (msg, name)
        self.fields = fields


def build_struct(msg, name, specs, structs, is_root):
    fields = []
    seen = set()
    last_tag = -1
    for spec in specs:
        fname = spec["name"]
        what = "%s.%s" % (name, fname)
        if fname in seen:
            raise SchemaError("%s: duplicate field" % what)
        seen.add(fname)
        ftype = spec["type"]
        f = {"name": fname, "spec": spec,
             "versions": parse_versions(spec.get("versions", "0+"), what),
             "nullable": parse_versions(spec.get("nullable", "none"), what),
             "tag": spec.get("tag", -1)}
        if f["tag"] >= 0:
            if f["tag"] <= last_tag:
                raise SchemaError("%s: tags must ascend" % what)
            last_tag = f["tag"]
        if ftype.startswith("[]"):
            elem = ftype[2:]
            if elem in ARRAY_ELEMS:
                f["kind"] = "array"
                f["elem"] = elem
            else:
                if "fields" not in spec:
                    raise SchemaError("%s: struct array needs fields" % what)
                f["kind"] = "structs"
                f["sub"] = build_struct(msg, elem, spec["fields"], structs,
                                        False)
        elif ftype in SCALARS:
            f["kind"] = "scalar"
            f["elem"] = ftype
        else:
            raise SchemaError("%s: unknown type %r" % (what, ftype))
        fields.append(f)
    st = Struct(msg, name, fields, is_root)
    if any(s.cname == st.cname for s in structs):
        raise SchemaError("%s: duplicate struct name %s" % (msg, name))
    structs.append(st)  # children were appended first
    return st


def c_type(f):
    if f["kind"] == "scalar":
        return SCALARS[f["elem"]][0]
    if f["kind"] == "array":
        return "RF_KARRAY(%s)" % SCALARS[f["elem"]][0]
    return "RF_KARRAY(struct %s)" % f["sub"].cname


def vers_comment(f):
    lo, hi = f["versions"]
    txt = "v%d+" % lo if hi == INT16_MAX else "v%d-%d" % (lo, hi)
    nlo, nhi = f["nullable"]
    if nlo <= nhi:
        txt += ", nullable"
    if f["tag"] >= 0:
        txt += ", tag %d" % f["tag"]
    return txt


def default_of(f):
    d = f["spec"].get("default")
    if f["kind"] == "scalar" and f["elem"] == "string":
        if d not in (None, "", "null"):
            raise SchemaError("%s: string default must be \"\" or null"
                              % f["name"])
        return "0", "true" if d == "null" else "false"
    if d is None or d is False:
        return "0", "false"
    if d is True:
        return "1", "false"
    if isinstance(d, int):
        return "INT64_C(%d)" % d, "false"
    raise SchemaError("%s: bad default %r" % (f["name"], d))


def emit_desc(st, out):
    rows = []
    for f in st.fields:
        lo, hi = f["versions"]
        nlo, nhi = f["nullable"]
        defv, defnull = default_of(f)
        if f["kind"] == "scalar":
            ktype, elem = SCALARS[f["elem"]][1], "0"
            off = "offsetof(struct %s, %s)" % (st.cname, f["name"])
            coff, sub = "0", "NULL"
        else:
            ktype = "RF_KT_ARRAY" if f["kind"] == "array" else "RF_KT_STRUCTS"
            elem = SCALARS[f["elem"]][1] if f["kind"] == "array" else "0"
            off = "offsetof(struct %s, %s.items)" % (st.cname, f["name"])
            coff = "offsetof(struct %s, %s.count)" % (st.cname, f["name"])
            sub = "&st_%s" % f["sub"].cname if f["kind"] == "structs" \
                else "NULL"
        rows.append('    {"%s", %s, %s, %d, %d, %d, %d, %d, %s, %s, %s, %s, '
                    '%s},' % (f["name"], ktype, elem, lo, hi, nlo, nhi,
                              f["tag"], off, coff, defv, defnull, sub))
    out.append("static const struct rf_kfield fields_%s[] = {" % st.cname)
    out.extend(rows)
    out.append("};")
    out.append('static const struct rf_kstruct st_%s = {"%s", sizeof(struct '
               '%s), fields_%s, %d};' % (st.cname, st.name, st.cname,
                                         st.cname, len(st.fields)))


def main():
    if len(sys.argv) < 3:
        sys.stderr.write("usage: gen_kafka.py OUT_DIR SCHEMA.json...\n")
        return 2
    outdir = sys.argv[1]
    h = ["/* kafka_msgs.h: generated by broker/kafka/gen/gen_kafka.py from",
         " * broker/kafka/schema/<Api>.json at build time; do not edit. */",
         "#ifndef RF_KAFKA_MSGS_H", "#define RF_KAFKA_MSGS_H", "",
         "#include \"codec.h\"", ""]
    c = ["/* kafka_msgs.c: generated codec descriptors; do not edit. */",
         "#include \"kafka_msgs.h\"", "", "#include <stddef.h>", ""]
    keys = []
    apis = []
    for path in sorted(sys.argv[2:]):
        with open(path) as fp:
            try:
                api = json.load(fp)
            except ValueError as e:
                raise SchemaError("%s: %s" % (path, e))
        apis.append(api)
    apis.sort(key=lambda a: a["apiKey"])
    for api in apis:
        name = api["name"]
        lo, hi = parse_versions(api["versions"], name)
        flex = parse_versions(api["flexible"], name)[0]
        up = re.sub(r"(?<!^)(?=[A-Z])", "_", name).upper()
        keys.append("    RF_API_%s = %d," % (up, api["apiKey"]))
        for kind, is_req in (("Request", True), ("Response", False)):
            msg = name + kind
            structs = []
            root = build_struct(msg, msg, api[kind.lower()], structs, True)
            for st in structs:
                h.append("struct %s {" % st.cname)
                for f in st.fields:
                    h.append("    %s %s; /* %s */" % (c_type(f), f["name"],
                                                     vers_comment(f)))
                if not st.fields:
                    h.append("    char unused_; /* no fields */")
                h.append("};")
                emit_desc(st, c)
            h.append("extern const struct rf_kmsg rf_%s_msg;" % msg)
            for fn, proto, call in (
                ("decode", "struct rf_%s *out, int16_t ver, const void *p, "
                 "size_t len, struct rf_arena *arena, "
                 "const struct rf_kafka_limits *lim",
                 "rf_kmsg_decode(&rf_%s_msg, ver, p, len, arena, lim, out)"),
                ("encode", "const struct rf_%s *in, int16_t ver, "
                 "struct rf_wr *wr",
                 "rf_kmsg_encode(&rf_%s_msg, ver, in, wr)"),
                ("init", "struct rf_%s *out, int16_t ver",
                 "rf_kmsg_init(&rf_%s_msg, ver, out)")):
                ret = {"decode": "ssize_t", "encode": "int",
                       "init": "void"}[fn]
                h.append("static inline %s rf_%s_%s(%s)" % (ret, msg, fn,
                                                           proto % msg))
                h.append("{")
                h.append("    %s%s;" % ("" if fn == "init" else "return ",
                                        call % msg))
                h.append("}")
            h.append("")
            c.append('const struct rf_kmsg rf_%s_msg = {"%s", %d, %d, %d, %d, '
                     '%s, &st_%s};' % (msg, msg, api["apiKey"], lo, hi, flex,
                                       "true" if is_req else "false",
                                       root.cname))
            c.append("")
    h.insert(6, "enum rf_api_key {\n%s\n};\n" % "\n".join(keys))
    h.append("#endif")
    for name, lines in (("kafka_msgs.h", h), ("kafka_msgs.c", c)):
        tmp = os.path.join(outdir, name + ".tmp")
        with open(tmp, "w") as fp:
            fp.write("\n".join(lines) + "\n")
        os.replace(tmp, os.path.join(outdir, name))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (SchemaError, KeyError) as e:
        sys.stderr.write("gen_kafka.py: %s\n" % e)
        sys.exit(1)
