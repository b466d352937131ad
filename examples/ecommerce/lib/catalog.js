// lib/catalog.js: the shop's products (price in cents) and the stock the
// inventory service starts with.
'use strict';

const PRODUCTS = {
  'sku-mug': 1250,
  'sku-tshirt': 1999,
  'sku-hoodie': 4500,
  'sku-sticker': 199,
  'sku-poster': 899,
  'sku-cap': 1499,
};
const INITIAL_STOCK = 100000;

module.exports = { PRODUCTS, INITIAL_STOCK };
