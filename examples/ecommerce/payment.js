// payment.js: consumer group `payment`. Charges each order's total once;
// state: one payment record per order in $RIFFLE_DATA_DIR/payments.ndjson.
'use strict';
const path = require('path');
const { readNdjson, appendNdjson } = require('./lib/common');
const { main } = require('./lib/service');

function openStore(dir) {
  const file = path.join(dir, 'payments.ndjson');
  const seen = new Set(readNdjson(file).map((r) => r.order_id));
  return {
    has: (id) => seen.has(id),
    apply(order) {
      const record = {
        payment_id: `pay-${order.order_id}`,
        order_id: order.order_id,
        customer: order.customer,
        amount: order.total,
        status: 'captured',
        at: new Date().toISOString(),
      };
      appendNdjson(file, record);
      seen.add(order.order_id);
      return `charged ${order.customer} ${order.total.toFixed(2)}`;
    },
    summary: () => `${seen.size} payment(s) recorded`,
  };
}

main('payment', openStore);
