// order-service.js: publishes `order_created` events to the `orders` topic,
// keyed by order id (so every event of one order lands in one partition),
// and records each acknowledged order in $RIFFLE_DATA_DIR/published.ndjson.
// Order ids continue from the last run ($RIFFLE_DATA_DIR/order-service.json).
//
// Usage: node order-service.js [COUNT [RATE]] [--first ID]
//   COUNT  orders to publish (default 20)
//   RATE   orders per second (default 10; 0 = as fast as the cluster acks)
//   --first ID  first order id (default: one past the last published one)
// Creates `orders` (6 partitions, replication factor $RIFFLE_ORDERS_RF or 3)
// when it does not exist yet.
'use strict';
const path = require('path');
const { Partitioners } = require('kafkajs');
const { TOPIC, kafka, dataDir, fail, log, readJson, writeJson,
        appendNdjson, sleep } = require('./lib/common');
const { PRODUCTS } = require('./lib/catalog');

const NAME = 'order-service';

function parseArgs(argv) {
  const pos = [];
  let first = null;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--first') {
      first = argv[++i];
      if (!/^[1-9][0-9]{0,14}$/.test(first || '')) fail('--first needs a positive order id');
      first = Number(first);
    } else if (argv[i] === '-h' || argv[i] === '--help') {
      process.stdout.write('usage: node order-service.js [COUNT [RATE]] [--first ID]\n');
      process.exit(0);
    } else if (/^[0-9]+(\.[0-9]+)?$/.test(argv[i])) {
      pos.push(Number(argv[i]));
    } else {
      fail(`unexpected argument '${argv[i]}' (usage: node order-service.js [COUNT [RATE]] [--first ID])`);
    }
  }
  if (pos.length > 2) fail('at most two numbers: COUNT and RATE');
  const count = pos.length > 0 ? pos[0] : 20;
  const rate = pos.length > 1 ? pos[1] : 10;
  if (!Number.isSafeInteger(count) || count < 1) fail('COUNT must be a whole number >= 1');
  return { count, rate, first };
}

// A small deterministic generator, so that order N always has the same
// customer and items whoever publishes it.
function orderFor(id) {
  let x = (id * 2654435761) >>> 0;
  const next = (n) => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return (x >>> 8) % n;
  };
  const skus = Object.keys(PRODUCTS);
  const items = [];
  const nitems = 1 + next(3);
  let cents = 0;
  for (let i = 0; i < nitems; i++) {
    const sku = skus[next(skus.length)];
    if (items.some((it) => it.sku === sku)) continue;
    const quantity = 1 + next(3);
    items.push({ sku, quantity });
    cents += PRODUCTS[sku] * quantity;
  }
  return {
    type: 'order_created',
    order_id: id,
    customer: `customer-${1 + next(50)}`,
    items,
    total: cents / 100,
    created_at: new Date().toISOString(),
  };
}

async function ensureTopic(admin) {
  const topics = await admin.listTopics();
  if (topics.includes(TOPIC)) return;
  const rf = Number(process.env.RIFFLE_ORDERS_RF || 3);
  await admin.createTopics({
    topics: [{ topic: TOPIC, numPartitions: 6, replicationFactor: rf }],
    waitForLeaders: true,
  });
  log(NAME, `created topic ${TOPIC} (6 partitions, replication factor ${rf})`);
}

async function main() {
  const { count, rate, first } = parseArgs(process.argv.slice(2));
  const dir = dataDir();
  const stateFile = path.join(dir, 'order-service.json');
  const state = readJson(stateFile, { next_id: 1 });
  let id = first ?? state.next_id;
  const last = id + count - 1;

  const client = kafka(NAME);
  const admin = client.admin();
  await admin.connect();
  await ensureTopic(admin);
  await admin.disconnect();

  const producer = client.producer({
    createPartitioner: Partitioners.DefaultPartitioner, // Java-compatible murmur2 on the key
  });
  await producer.connect();
  let stopping = false;
  process.on('SIGTERM', () => { stopping = true; });
  process.on('SIGINT', () => { stopping = true; });

  // Send in ticks of 100 ms, rate/10 orders each (one batch per tick).
  const perTick = rate > 0 ? Math.max(1, Math.round(rate / 10)) : 100;
  let sent = 0;
  log(NAME, `publishing orders ${id}..${last} to ${TOPIC}` +
      (rate > 0 ? ` at ~${rate}/s` : ' as fast as acked'));
  while (id <= last && !stopping) {
    const started = Date.now();
    const batch = [];
    for (; id <= last && batch.length < perTick; id++) batch.push(orderFor(id));
    await producer.send({
      topic: TOPIC,
      acks: -1,
      messages: batch.map((o) => ({ key: String(o.order_id), value: JSON.stringify(o) })),
    });
    appendNdjson(path.join(dir, 'published.ndjson'), batch);
    for (const o of batch) {
      log(NAME, `order ${o.order_id}: ${o.customer}, ` +
          `${o.items.map((it) => `${it.quantity}x ${it.sku}`).join(' ')}, total ${o.total.toFixed(2)}`);
    }
    sent += batch.length;
    state.next_id = id;
    writeJson(stateFile, state);
    if (rate > 0) await sleep(Math.max(0, 100 - (Date.now() - started)));
  }
  await producer.disconnect();
  log(NAME, `published ${sent} order(s)${stopping ? ' (stopped early)' : ''}; next order id ${state.next_id}`);
}

main().catch((e) => {
  log(NAME, `fatal: ${e.message}`);
  process.exit(1);
});
