#!/usr/bin/env bash
# run_captures.sh: records the request frames real Kafka clients send (kcat /
# librdkafka 2.0.2, confluent-kafka, kafka-python 2.0.2, kafkajs 2.2.4) into
# tests/unit/broker/kafka/vectors/ through capture_server.py on 127.0.0.1.
# Usage: run_captures.sh [OUT_DIR]   (not run by ctest: its output is checked in)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/../vectors}
topic=cap-topic
work=$(mktemp -d)
srv_pid=""
cleanup() {
    if [ -n "$srv_pid" ]; then kill "$srv_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$out"

start_server() { # prefix [extra server args]
    rm -f "$work/port"
    /usr/bin/python3 "$here/capture_server.py" --out "$out" --prefix "$1" \
        --port-file "$work/port" --topic "$topic" --timeout 120 "${@:2}" &
    srv_pid=$!
    for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
    bs=127.0.0.1:$(cat "$work/port")
}
stop_server() {
    kill "$srv_pid" 2>/dev/null || true
    wait "$srv_pid" 2>/dev/null || true
    srv_pid=""
}

rm -f "$out"/*.bin "$out"/*.resp

start_server kcat
kcat -b "$bs" -L -X client.id=cap-kcat >/dev/null
long=$(printf 'x%.0s' $(seq 200))
printf 'k1:v1-%s\nk2:v2-%s\n' "$long" "$long" | timeout 20 kcat -b "$bs" -P -t "$topic" -K: \
    -X client.id=cap-kcat -X acks=all
timeout 20 kcat -b "$bs" -C -t "$topic" -p 0 -o beginning -e -q \
    -X client.id=cap-kcat >/dev/null || true
stop_server

# Compressed batches: librdkafka 2.0.2 compresses gzip/snappy/lz4 only when
# the broker's Produce range contains v0, so these runs advertise Produce 0-7.
for codec in gzip snappy lz4 zstd; do
    start_server "kcat$codec" --produce-min 0
    printf 'k1:v1-%s\nk2:v2-%s\n' "$long" "$long" | timeout 20 kcat -b "$bs" \
        -P -t "$topic" -K: -X client.id="cap-kcat$codec" \
        -X compression.codec=$codec
    stop_server
done

start_server confluent
timeout 60 /usr/bin/python3 "$here/clients_python.py" confluent "$bs" "$topic" \
    2>/dev/null || echo "confluent client exited $?" >&2
stop_server

start_server kafkapython
timeout 60 /usr/bin/python3 "$here/clients_python.py" kafkapython "$bs" "$topic" \
    2>/dev/null || echo "kafka-python client exited $?" >&2
stop_server

# kafkajs from npm into a temp dir, never into the repo; skipped if npm fails.
if (cd "$work" && npm install --silent --no-audit --no-fund kafkajs@2.2.4 \
        >/dev/null 2>&1); then
    start_server kafkajs
    KAFKAJS_NO_PARTITIONER_WARNING=1 NODE_PATH="$work/node_modules" \
        timeout 60 node "$here/clients_kafkajs.js" "$bs" "$topic" \
        || echo "kafkajs client exited $?" >&2
    stop_server
else
    echo "run_captures: npm install kafkajs@2.2.4 failed; kafkajs skipped" >&2
fi
# Layouts from kafka-python's own protocol classes (requests and responses).
rm -rf "$out/kpy"
/usr/bin/python3 "$here/kpy_vectors.py" "$out/kpy"
ls "$out" | grep '\.bin$' | sed 's/-[0-9]*\.bin$//' | sort | uniq -c
