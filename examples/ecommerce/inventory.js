// inventory.js: consumer group `inventory`. Takes each order's items out of
// stock; state in $RIFFLE_DATA_DIR/inventory.json (stock per sku, the order
// ids applied, and the total quantity taken per sku).
'use strict';
const path = require('path');
const { readJson, writeJson } = require('./lib/common');
const { PRODUCTS, INITIAL_STOCK } = require('./lib/catalog');
const { main } = require('./lib/service');

function openStore(dir) {
  const file = path.join(dir, 'inventory.json');
  const stock = {};
  for (const sku of Object.keys(PRODUCTS)) stock[sku] = INITIAL_STOCK;
  const state = readJson(file, { stock, taken: {}, orders: [] });
  const seen = new Set(state.orders);
  return {
    has: (id) => seen.has(id),
    apply(order) {
      const parts = [];
      for (const { sku, quantity } of order.items) {
        state.stock[sku] = (state.stock[sku] ?? INITIAL_STOCK) - quantity;
        state.taken[sku] = (state.taken[sku] ?? 0) + quantity;
        parts.push(`${sku} -${quantity} -> ${state.stock[sku]}`);
      }
      state.orders.push(order.order_id);
      writeJson(file, state);
      seen.add(order.order_id);
      return parts.join(', ');
    },
    summary: () => `${seen.size} order(s) applied to stock`,
  };
}

main('inventory', openStore);
