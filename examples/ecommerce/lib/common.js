// lib/common.js: what the order service and the four consumer services share:
// the Kafka client (bootstrap servers from $RIFFLE_BOOTSTRAP), the data
// directory ($RIFFLE_DATA_DIR) and small crash-safe state files.
'use strict';
const fs = require('fs');
const path = require('path');
const { Kafka, logLevel } = require('kafkajs');

// deploy/riffle-cluster up (default --base-port 19090, 3 controllers) puts
// broker 1's Kafka listener on 19096; it prints the real list, which
// `export RIFFLE_BOOTSTRAP=$(cat run/bootstrap)` picks up.
const DEFAULT_BOOTSTRAP = '127.0.0.1:19096';
const TOPIC = process.env.RIFFLE_TOPIC || 'orders';

function bootstrap() {
  const list = (process.env.RIFFLE_BOOTSTRAP || DEFAULT_BOOTSTRAP)
    .split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (list.length === 0) {
    fail('RIFFLE_BOOTSTRAP is empty (expected HOST:PORT[,HOST:PORT...])');
  }
  return list;
}

// kafkajs logs every retried error answer (a coordinator still being
// elected, a leader moving) at ERROR; the client retries those, so they are
// shown only with RIFFLE_KAFKAJS_DEBUG=1. Other warnings and errors are one
// line each on stderr.
function logCreator() {
  return ({ namespace, level, log: entry }) => {
    if (!process.env.RIFFLE_KAFKAJS_DEBUG && namespace === 'Connection') return;
    const { message, error } = entry;
    process.stderr.write(`${entry.timestamp} kafkajs ${namespace} ` +
      `${level === logLevel.ERROR ? 'error' : level === logLevel.WARN ? 'warn' : 'info'}: ` +
      `${message}${error ? ` (${error})` : ''}\n`);
  };
}

function kafka(clientId) {
  return new Kafka({
    clientId,
    brokers: bootstrap(),
    logLevel: process.env.RIFFLE_KAFKAJS_DEBUG ? logLevel.DEBUG : logLevel.WARN,
    logCreator,
    retry: { initialRetryTime: 300, retries: 10 },
  });
}

function dataDir() {
  const dir = process.env.RIFFLE_DATA_DIR || path.join(__dirname, '..', 'data');
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

function fail(msg) {
  process.stderr.write(`${path.basename(process.argv[1])}: ${msg}\n`);
  process.exit(2);
}

function log(name, msg) {
  process.stdout.write(`${new Date().toISOString()} ${name}: ${msg}\n`);
}

// A JSON state file replaced atomically (write a temporary file, fsync,
// rename): after a crash it holds either the old or the new state.
function readJson(file, fallback) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    if (e.code === 'ENOENT') return fallback;
    throw new Error(`${file}: ${e.message}`);
  }
}

function writeJson(file, value) {
  const tmp = `${file}.tmp`;
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, JSON.stringify(value, null, 1) + '\n');
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}

// An append-only ndjson file: one record per line, each appended with a
// single write. A line cut short by a crash can only be the last one; it is
// dropped on load (its order was not committed, so it is delivered again).
function readNdjson(file) {
  let text;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if (e.code === 'ENOENT') return [];
    throw new Error(`${file}: ${e.message}`);
  }
  const lines = text.split('\n');
  const out = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] === '') continue;
    try {
      out.push(JSON.parse(lines[i]));
    } catch (e) {
      if (i < lines.length - 2) throw new Error(`${file}:${i + 1}: ${e.message}`);
      // The torn last line: cut it off so the next append starts cleanly.
      fs.truncateSync(file, Buffer.byteLength(lines.slice(0, i).join('\n') + (i > 0 ? '\n' : '')));
    }
  }
  return out;
}

// record: one object, or an array of them written together.
function appendNdjson(file, record) {
  const records = Array.isArray(record) ? record : [record];
  const fd = fs.openSync(file, 'a');
  try {
    fs.writeSync(fd, records.map((r) => JSON.stringify(r) + '\n').join(''));
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

module.exports = {
  TOPIC, bootstrap, kafka, dataDir, fail, log, readJson, writeJson,
  readNdjson, appendNdjson, sleep,
};
