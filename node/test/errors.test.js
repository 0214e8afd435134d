'use strict';
// C++ errors as JS exceptions: kiln's std::invalid_argument as Error with
// its message, axes out of bounds as RangeError, arguments of the wrong
// type as TypeError (naming the overloads).
const { test } = require('node:test');
const { assert, mx } = require('./helpers');

test('invalid arguments become Error with kiln\'s message', () => {
  assert.throws(() => mx.add(mx.zeros([2, 3]), mx.zeros([4])), (e) => {
    assert.equal(e.constructor, Error);
    assert.match(e.message, /^\[add\]/);
    return true;
  });
  assert.throws(() => mx.matmul(mx.zeros([2, 3]), mx.zeros([2, 3])), /\[matmul\]/);
  assert.throws(() => mx.reshape(mx.zeros([2, 3]), [4]), /\[reshape\]/);
});

test('an axis out of bounds is a RangeError', () => {
  assert.throws(() => mx.sum(mx.zeros([2, 3]), 2), RangeError);
  assert.throws(() => mx.zeros([2]).sum(-2), RangeError);
  assert.throws(() => mx.zeros([2, 3]).squeeze(5), RangeError);
});

test('arguments of the wrong type are a TypeError listing the overloads', () => {
  assert.throws(() => mx.sum(mx.zeros([2]), 'x'), (e) => {
    assert.ok(e instanceof TypeError);
    assert.match(e.message, /\[sum\] No overload takes \(array, string\)/);
    assert.match(e.message, /sum\(a: ScalarOrArray, axis: number/);
    return true;
  });
  assert.throws(() => mx.sum(), TypeError);
  assert.throws(() => mx.sum(mx.zeros([2]), 0, true, 'extra'), TypeError);
  assert.throws(() => mx.sum(mx.zeros([2]), 0.5), TypeError);  // an axis must be an integer
  assert.throws(() => mx.zeros([2], 'no-such-dtype'), TypeError);
  assert.throws(() => mx.concatenate([mx.zeros([1]), {}]), TypeError);
});

test('an integer beyond 32 bits is a RangeError', () => {
  assert.throws(() => mx.zeros([2 ** 40]), RangeError);
});

test('errors leave the module usable', () => {
  assert.throws(() => mx.add(mx.zeros([2]), mx.zeros([3])));
  assert.deepEqual(mx.add(mx.ones([2]), 1).tolist(), [2, 2]);
});
