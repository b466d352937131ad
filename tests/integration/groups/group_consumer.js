// group_consumer.js: one kafkajs 2.2.4 consumer-group member for
// test_groups.py, speaking group_consumer.py's stdout protocol: "ASSIGN
// p,p,..." after every join, "MSG part offset key" per record (its offset
// committed before the next one), "COMMITFAIL key error" when that commit
// fails, "CLOSED" after a clean SIGTERM exit.
// Usage: node group_consumer.js BOOTSTRAP GROUP TOPIC
'use strict';
const { Kafka, logLevel } = require('kafkajs');

const [bs, group, topic] = process.argv.slice(2);
const say = (line) => process.stdout.write(line + '\n');

async function main() {
  const kafka = new Kafka({ clientId: 'riffle-group-js',
                            brokers: bs.split(','),
                            logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: group, sessionTimeout: 10000,
                                    rebalanceTimeout: 20000,
                                    heartbeatInterval: 500,
                                    maxWaitTimeInMs: 500 });
  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    const parts = e.payload.memberAssignment[topic] || [];
    say('ASSIGN ' + parts.join(','));
  });
  let stopping = false;
  process.on('SIGTERM', async () => {
    if (stopping) return;
    stopping = true;
    await consumer.disconnect();
    say('CLOSED');
    process.exit(0);
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachMessage: async ({ partition, message }) => {
      say(`MSG ${partition} ${message.offset} ${message.key.toString()}`);
      try {
        await consumer.commitOffsets([{ topic, partition,
          offset: (BigInt(message.offset) + 1n).toString() }]);
      } catch (e) {
        say(`COMMITFAIL ${message.key.toString()} ${e.type}`);
      }
    },
  });
}

main().catch((e) => { console.error(e); process.exit(1); });
