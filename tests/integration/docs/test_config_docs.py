#!/usr/bin/python3
"""test_config_docs.py: every configuration key that riffle-controller and
riffle-broker accept (as their --help lists them) is documented in
docs/configuration.md, and no key documented in a table there is unknown
to the process it belongs to."""
import os
import re
import subprocess
import sys


def keys_of(binary):
    out = subprocess.run([binary, "--help"], capture_output=True, text=True,
                         timeout=30).stdout
    keys = set()
    for line in out.splitlines():
        m = re.match(r"  ([a-z][a-z0-9.]+[a-z0-9])\s", line)
        if m:
            keys.add(m.group(1))
    assert keys, "%s --help listed no keys" % binary
    return keys


def documented(doc, section):
    start = doc.index("## " + section + "\n")
    end = doc.find("\n## ", start + 1)
    text = doc[start:end if end > 0 else len(doc)]
    return set(re.findall(r"^\| `([a-z0-9.]+)` \|", text, re.M))


def main():
    doc = open(os.path.join(os.environ["RIFFLE_SOURCE_DIR"], "docs",
                            "configuration.md")).read()
    bad = []
    for section, env in (("riffle-controller", "RIFFLE_CONTROLLER"),
                         ("riffle-broker", "RIFFLE_BROKER")):
        have = keys_of(os.environ[env])
        doc_keys = documented(doc, section)
        for k in sorted(have - doc_keys):
            bad.append("%s: key %s is not documented" % (section, k))
        for k in sorted(doc_keys - have):
            bad.append("%s: documented key %s does not exist" % (section, k))
    if bad:
        print("\n".join(bad))
        print("0 passed, 1 failed")
        sys.exit(1)
    print("1 passed, 0 failed")


if __name__ == "__main__":
    main()
