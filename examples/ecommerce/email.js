// email.js: consumer group `email`. "Sends" an order confirmation (a line in
// the log of sent emails, $RIFFLE_DATA_DIR/emails.ndjson), once per order.
'use strict';
const path = require('path');
const { readNdjson, appendNdjson } = require('./lib/common');
const { main } = require('./lib/service');

function openStore(dir) {
  const file = path.join(dir, 'emails.ndjson');
  const seen = new Set(readNdjson(file).map((r) => r.order_id));
  return {
    has: (id) => seen.has(id),
    apply(order) {
      const to = `${order.customer}@example.com`;
      const n = order.items.reduce((a, it) => a + it.quantity, 0);
      appendNdjson(file, {
        order_id: order.order_id,
        to,
        subject: `Your order ${order.order_id} (${n} item(s), ${order.total.toFixed(2)})`,
        at: new Date().toISOString(),
      });
      seen.add(order.order_id);
      return `confirmation sent to ${to}`;
    },
    summary: () => `${seen.size} email(s) sent`,
  };
}

main('email', openStore);
