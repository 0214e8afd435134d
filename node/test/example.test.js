'use strict';
// examples/node/mlp.js runs against the same package and its loss falls
// (the example exits with 1 otherwise).
const { test } = require('node:test');
const { execFileSync } = require('node:child_process');
const path = require('node:path');
const { assert } = require('./helpers');

test('examples/node/mlp.js trains', () => {
  const script = path.join(__dirname, '..', '..', 'examples', 'node', 'mlp.js');
  const out = execFileSync(process.execPath, [script], { encoding: 'utf8', env: process.env });
  const losses = [...out.matchAll(/loss ([0-9.]+)/g)].map((m) => Number(m[1]));
  assert.equal(losses.length, 7);
  assert.ok(losses[6] < 0.25 * losses[0], `losses: ${losses}`);
});
