#!/bin/sh
# capture.sh: regenerate the librdkafka-produced batches in this directory.
# Needs librdkafka-dev, gcc and strace. Usage: ./capture.sh
set -eu
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
gcc -O1 -o "$tmp/capture" capture.c -lrdkafka
run() { # name codec nmsgs idempotent
    strace -f -qq -e trace=sendmsg,write -e write=all -o "$tmp/trace" \
        "$tmp/capture" "$2" "$3" "$4" 2>/dev/null
    /usr/bin/python3 extract.py "$tmp/trace" "$1.bin"
}
run rdkafka_none none 5 false
run rdkafka_one none 1 false
run rdkafka_idempotent none 3 true
run rdkafka_gzip gzip 20 false
run rdkafka_snappy snappy 20 false
run rdkafka_lz4 lz4 20 false
run rdkafka_zstd zstd 20 false
