'use strict';
// Shared by the tests: the package under test and a tolerant comparison.
const assert = require('node:assert/strict');
const mx = require('kiln').core;

// Asserts that nested lists of numbers match within atol + rtol * |expected|.
function assertClose(actual, expected, { rtol = 1e-5, atol = 1e-6 } = {}, path = '') {
  if (Array.isArray(expected)) {
    assert.ok(Array.isArray(actual), `${path}: expected a list, got ${actual}`);
    assert.equal(actual.length, expected.length, `${path}: length`);
    expected.forEach((e, i) => assertClose(actual[i], e, { rtol, atol }, `${path}[${i}]`));
    return;
  }
  assert.equal(typeof actual, 'number', `${path}: expected a number, got ${actual}`);
  assert.ok(Math.abs(actual - expected) <= atol + rtol * Math.abs(expected),
            `${path}: ${actual} != ${expected}`);
}

module.exports = { assert, assertClose, mx };
