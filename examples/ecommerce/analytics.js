// analytics.js: consumer group `analytics`. Running totals in
// $RIFFLE_DATA_DIR/analytics.json: orders, revenue (in cents, so sums are
// exact), quantity sold per sku, and the order ids counted.
'use strict';
const path = require('path');
const { readJson, writeJson } = require('./lib/common');
const { main } = require('./lib/service');

function openStore(dir) {
  const file = path.join(dir, 'analytics.json');
  const state = readJson(file, { orders: 0, revenue_cents: 0, per_sku: {}, order_ids: [] });
  const seen = new Set(state.order_ids);
  return {
    has: (id) => seen.has(id),
    apply(order) {
      state.orders += 1;
      state.revenue_cents += Math.round(order.total * 100);
      for (const { sku, quantity } of order.items) {
        state.per_sku[sku] = (state.per_sku[sku] ?? 0) + quantity;
      }
      state.order_ids.push(order.order_id);
      writeJson(file, state);
      seen.add(order.order_id);
      return `${state.orders} orders, revenue ${(state.revenue_cents / 100).toFixed(2)}`;
    },
    summary: () => `${state.orders} order(s), revenue ${(state.revenue_cents / 100).toFixed(2)}`,
  };
}

main('analytics', openStore);
