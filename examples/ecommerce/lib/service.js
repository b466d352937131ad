// lib/service.js: the loop every consumer service runs. One kafkajs consumer
// in the service's own consumer group reads `orders` from the beginning (or
// from the group's committed offsets); each order_created event is applied
// to the service's state file unless its order id is already there; offsets
// are committed by kafkajs after each batch, i.e. after the state was saved.
//
// Kafka delivers at least once: after a crash or a rebalance the events
// since the last commit arrive again. Deduplicating by order id turns that
// into "every order applied exactly once" in the state.
//
// SIGTERM / SIGINT: stop fetching, let the current event finish, commit,
// leave the group, print a summary, exit 0. SIGKILL (or RIFFLE_CRASH_AFTER)
// loses at most the events since the last commit, which come again.
'use strict';
const { TOPIC, kafka, dataDir, log } = require('./common');

function parseOrder(message) {
  let ev;
  try {
    ev = JSON.parse(message.value.toString('utf8'));
  } catch (e) {
    return null;
  }
  if (!ev || ev.type !== 'order_created' || !Number.isSafeInteger(ev.order_id) ||
      !Array.isArray(ev.items) || typeof ev.total !== 'number') {
    return null;
  }
  return ev;
}

// store: { has(orderId), apply(order) -> one-line description (persists
// before returning), summary() -> one line }
async function runService(name, openStore) {
  const store = openStore(dataDir());
  const consumer = kafka(`${name}-service`).consumer({
    groupId: name,
    sessionTimeout: 10000,
    rebalanceTimeout: 30000,
    heartbeatInterval: 1000,
    maxWaitTimeInMs: 500,
  });
  // RIFFLE_CRASH_AFTER=N: die (SIGKILL) right after saving the Nth new
  // order, to watch a redelivery being skipped.
  const crashAfter = Number(process.env.RIFFLE_CRASH_AFTER || 0);
  let applied = 0;
  let duplicates = 0;
  let stopping = false;
  const stop = async (signal) => {
    if (stopping) return;
    stopping = true;
    log(name, `${signal}: committing and leaving the group`);
    try {
      await consumer.disconnect();
    } catch (e) {
      log(name, `disconnect failed: ${e.message}`);
    }
    log(name, `stopped; ${store.summary()}; ${duplicates} redelivered event(s) skipped`);
    process.exit(0);
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    const parts = e.payload.memberAssignment[TOPIC] || [];
    log(name, `joined group '${name}' as ${e.payload.memberId}; ` +
        `partitions of ${TOPIC}: [${parts.join(',')}]`);
  });
  consumer.on(consumer.events.CRASH, (e) => {
    log(name, `consumer crashed: ${e.payload.error.message}` +
        (e.payload.restart ? ' (restarting)' : ''));
  });

  await consumer.connect();
  await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
  log(name, `started; ${store.summary()}`);
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      const order = parseOrder(message);
      const where = `p${partition}@${message.offset}`;
      if (order === null) {
        log(name, `${where}: not an order_created event, skipped`);
        return;
      }
      if (store.has(order.order_id)) {
        duplicates++;
        log(name, `${where}: order ${order.order_id} already processed, skipped`);
        return;
      }
      log(name, `${where}: order ${order.order_id}: ${store.apply(order)}`);
      if (++applied === crashAfter) {
        // The order is in the state file, its offset not yet committed:
        // the restarted service gets it again and must skip it.
        log(name, `RIFFLE_CRASH_AFTER=${crashAfter}: crashing before the offset is committed`);
        process.kill(process.pid, 'SIGKILL');
      }
    },
  });
}

function main(name, openStore) {
  runService(name, openStore).catch((e) => {
    log(name, `fatal: ${e.message}`);
    process.exit(1);
  });
}

module.exports = { main };
