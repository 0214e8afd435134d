'use strict';
// mx.array: construction from JS values, properties, conversions back to JS
// (item, tolist, TypedArrays), dtypes.
const { test } = require('node:test');
const { assert, assertClose, mx } = require('./helpers');

test('mx.array from nested lists: shape, dtype, tolist', () => {
  const a = mx.array([[1, 2, 3], [4, 5, 6]]);
  assert.deepEqual(a.shape, [2, 3]);
  assert.equal(a.dtype, mx.float32);  // numbers are float32, as node-mlx's
  assert.equal(a.ndim, 2);
  assert.equal(a.size, 6);
  assert.equal(a.itemsize, 4);
  assert.equal(a.nbytes, 24);
  assert.equal(a.length, 2);
  assert.deepEqual(a.tolist(), [[1, 2, 3], [4, 5, 6]]);
  assert.deepEqual(a.T.shape, [3, 2]);
  assert.ok(a instanceof mx.array);
  assert.ok(new mx.array([1]) instanceof mx.array);
});

test('mx.array with a dtype, booleans, scalars, rank 0 and empty', () => {
  const i = mx.array([1.7, -2.2, 3], mx.int32);
  assert.equal(i.dtype, mx.int32);
  assert.deepEqual(i.tolist(), [1, -2, 3]);  // C++ conversion truncates, as MLX
  assert.equal(mx.array([1, 2], 'int64').dtype, mx.int64);
  const b = mx.array([true, false]);
  assert.equal(b.dtype, mx.bool);
  assert.deepEqual(b.tolist(), [true, false]);
  const s = mx.array(2.5);
  assert.deepEqual(s.shape, []);
  assert.equal(s.item(), 2.5);
  assert.equal(s.tolist(), 2.5);
  assert.equal(mx.array(true).item(), true);
  const e = mx.array([]);
  assert.deepEqual(e.shape, [0]);
  assert.deepEqual(e.tolist(), []);
  assert.deepEqual(mx.zeros([2, 0]).tolist(), [[], []]);
});

test('dtype objects compare with === and know their size', () => {
  assert.equal(mx.ones([2], mx.float16).dtype, mx.float16);
  assert.equal(mx.float16.size, 2);
  assert.equal(mx.int64.size, 8);
  assert.equal(String(mx.bfloat16), 'bfloat16');
  assert.equal(mx.bool_, mx.bool);
  assert.notEqual(mx.float32, mx.float64);
});

test('TypedArray round trip', () => {
  const f = new Float32Array([0.5, -1.25, 3e-3, 7]);
  const a = mx.array(f);
  assert.equal(a.dtype, mx.float32);
  assert.deepEqual(a.shape, [4]);
  const back = a.toTypedArray();
  assert.ok(back instanceof Float32Array);
  assert.deepEqual(Array.from(back), Array.from(f));
  // Through an op: doubling a float32 is exact.
  assert.deepEqual(Array.from(mx.multiply(a, 2).toTypedArray()), Array.from(f).map((x) => 2 * x));

  const i = mx.array(new Int32Array([1, -2, 2147483647]));
  assert.equal(i.dtype, mx.int32);
  assert.deepEqual(Array.from(i.toTypedArray()), [1, -2, 2147483647]);
  const big = mx.array(new BigInt64Array([1n, -(2n ** 40n)]));
  assert.equal(big.dtype, mx.int64);
  assert.deepEqual(Array.from(big.toTypedArray()), [1n, -(2n ** 40n)]);
  assert.deepEqual(Array.from(mx.array(new Uint8Array([0, 255])).toTypedArray()), [0, 255]);
  // A view into a larger buffer: only its own elements.
  const view = new Float64Array(new Float64Array([9, 1.5, 2.5, 9]).buffer, 8, 2);
  assert.deepEqual(mx.array(view).tolist(), [1.5, 2.5]);
  // float16 widens to Float32Array; bool gives 0/1 bytes.
  const h = mx.array([0.5, 2], mx.float16).toTypedArray();
  assert.ok(h instanceof Float32Array);
  assert.deepEqual(Array.from(h), [0.5, 2]);
  assert.deepEqual(Array.from(mx.array([true, false]).toTypedArray()), [1, 0]);
  // With a dtype: converted.
  assert.equal(mx.array(new Float32Array([1.5]), mx.float64).dtype, mx.float64);
});

test('numbers next to an array take its dtype (weak scalars)', () => {
  const i = mx.array([1, 2], mx.int32);
  assert.equal(mx.add(i, 1).dtype, mx.int32);
  assert.equal(mx.add(i, 0.5).dtype, mx.float32);
  const h = mx.array([1, 2], mx.float16);
  assert.equal(mx.multiply(h, 3).dtype, mx.float16);
  assert.equal(h.multiply(3).dtype, mx.float16);
});

test('item and iteration', () => {
  const a = mx.array([[1, 2], [3, 4]]);
  const rows = [...a].map((r) => r.tolist());
  assert.deepEqual(rows, [[1, 2], [3, 4]]);
  assert.equal(mx.sum(a).item(), 10);
  assert.throws(() => a.item(), /one element/);
  assert.throws(() => mx.array(1).length, TypeError);
});

test('irregular or unsupported input is a TypeError', () => {
  assert.throws(() => mx.array([[1, 2], [3]]), TypeError);
  assert.throws(() => mx.array([[1, 2], 3]), TypeError);
  assert.throws(() => mx.array('abc'), TypeError);
  assert.throws(() => mx.array({}), TypeError);
  assert.throws(() => mx.array([1], 'float128'), TypeError);
});

test('toString prints the values', () => {
  assert.match(String(mx.array([1.5, 2])), /1\.5/);
});

test('complex values as {re, im}', () => {
  const c = mx.astype(mx.array([1, 2]), mx.complex64);
  assert.deepEqual(c.tolist(), [{ re: 1, im: 0 }, { re: 2, im: 0 }]);
  assertClose(Array.from(c.toTypedArray()), [1, 0, 2, 0]);
});

test('tidy releases the arrays made inside except its result; dispose releases now', () => {
  let inner;
  const kept = mx.tidy(() => {
    inner = mx.ones([3]);
    const b = inner.add(1);
    return { b, list: [inner.multiply(3)] };
  });
  assert.deepEqual(kept.b.tolist(), [2, 2, 2]);
  assert.deepEqual(kept.list[0].tolist(), [3, 3, 3]);
  assert.throws(() => inner.tolist(), /disposed/);
  assert.throws(() => mx.add(inner, 1), /disposed/);
  // Nested: the inner result belongs to the outer tidy.
  const outer = mx.tidy(() => mx.tidy(() => mx.ones([2]).add(1)).add(1));
  assert.deepEqual(outer.tolist(), [3, 3]);
  // An exception inside still closes the scope, and propagates.
  assert.throws(() => mx.tidy(() => { inner = mx.ones([1]); throw new RangeError('x'); }), RangeError);
  assert.throws(() => inner.item(), /disposed/);
  const d = mx.ones([2]);
  mx.dispose([d], { other: 1 });
  assert.throws(() => d.shape, /disposed/);
  assert.throws(() => mx.tidy(42), TypeError);
});
