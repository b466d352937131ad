// test_kafkajs.js: kafkajs 2.2.4 (pure JavaScript client) against a running
// Riffle cluster: admin create/list/delete topics, a producer with acks=-1
// and acks=1 (plain and gzip), and the produced records read back with
// ListOffsets/Fetch through kcat. Usage: node test_kafkajs.js BOOTSTRAP
'use strict';
const { Kafka, CompressionTypes, logLevel } = require('kafkajs');
const { execFileSync } = require('child_process');
const assert = require('assert');

async function main() {
  const brokers = process.argv[2].split(',');
  const kafka = new Kafka({ clientId: 'riffle-kafkajs-test', brokers,
                            logLevel: logLevel.NOTHING, retry: { retries: 8 } });
  const admin = kafka.admin();
  await admin.connect();
  const created = await admin.createTopics({
    waitForLeaders: true,
    topics: [{ topic: 'js-orders', numPartitions: 3, replicationFactor: 1 }],
  });
  assert.strictEqual(created, true, 'createTopics returned false');
  const again = await admin.createTopics({
    topics: [{ topic: 'js-orders', numPartitions: 3, replicationFactor: 1 }],
  });
  assert.strictEqual(again, false, 'duplicate createTopics should be false');
  const names = await admin.listTopics();
  assert.ok(names.includes('js-orders'), 'listTopics: ' + names);
  const meta = await admin.fetchTopicMetadata({ topics: ['js-orders'] });
  assert.strictEqual(meta.topics[0].partitions.length, 3);

  const producer = kafka.producer();
  await producer.connect();
  const sent = [];
  for (let i = 0; i < 300; i++) {
    sent.push({ key: 'order-' + i, value: JSON.stringify({ id: i }) });
  }
  const r1 = await producer.send({ topic: 'js-orders', acks: -1,
                                   messages: sent.slice(0, 100) });
  const r2 = await producer.send({ topic: 'js-orders', acks: 1,
                                   messages: sent.slice(100, 200) });
  const r3 = await producer.send({ topic: 'js-orders', acks: -1,
                                   compression: CompressionTypes.GZIP,
                                   messages: sent.slice(200) });
  for (const r of [...r1, ...r2, ...r3]) {
    assert.strictEqual(r.errorCode, 0, JSON.stringify(r));
  }
  const offsets = await admin.fetchTopicOffsets('js-orders');
  const total = offsets.reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
  assert.strictEqual(total, 300, 'high watermarks sum ' + total);
  await producer.disconnect();

  const out = execFileSync('kcat', ['-b', brokers.join(','), '-C', '-t',
                                     'js-orders', '-o', 'beginning', '-e', '-q',
                                     '-f', '%k %s\n']).toString();
  const got = out.trim().split('\n').sort();
  const want = sent.map((m) => m.key + ' ' + m.value).sort();
  assert.deepStrictEqual(got, want, 'records read back differ');

  await admin.deleteTopics({ topics: ['js-orders'] });
  const after = await admin.listTopics();
  assert.ok(!after.includes('js-orders'), 'still listed after delete');
  await admin.disconnect();
  console.log('kafkajs: admin create/list/delete, producer acks=-1/1/gzip ok');
}

main().catch((e) => { console.error(e); process.exit(1); });
