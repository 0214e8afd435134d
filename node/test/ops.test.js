'use strict';
// The generated op bindings: values against NumPy, overloads picked from the
// JS arguments, optional trailing arguments, array methods, namespaces.
//
// Expected values from NumPy:
//   a = np.array([[1,2,3],[4,5,6]], np.float32); b = np.array([[0.5],[2]], np.float32)
//   (a + b).tolist()            -> [[1.5, 2.5, 3.5], [6, 7, 8]]
//   (a @ a.T).tolist()          -> [[14, 32], [32, 77]]
//   a.sum(0), a.sum(1, keepdims=True), a.sum() -> [5, 7, 9], [[6], [15]], 21
//   x = np.array([1,2,3], np.float32); e = np.exp(x - x.max()); e / e.sum()
//                               -> [0.09003057, 0.24472847, 0.66524096]
//   a.mean(), a.var(), np.cumsum(x) -> 3.5, 2.9166667, [1, 3, 6]
//   np.linalg.inv([[4,7],[2,6]]) -> [[0.6, -0.7], [-0.2, 0.4]]
//   np.argmax(a, 1)             -> [2, 2]
//   np.log(np.exp(x).sum())     -> 3.407606
const { test } = require('node:test');
const { assert, assertClose, mx } = require('./helpers');

const a = () => mx.array([[1, 2, 3], [4, 5, 6]]);

test('elementwise ops broadcast and take JS numbers', () => {
  assertClose(mx.add(a(), mx.array([[0.5], [2]])).tolist(), [[1.5, 2.5, 3.5], [6, 7, 8]]);
  assertClose(mx.subtract(10, mx.array([1, 2])).tolist(), [9, 8]);
  assertClose(mx.tanh(0.5).item(), 0.4621172);
  assert.deepEqual(mx.notEqual(mx.array([1, 2, 3]), mx.array([1, 0, 3])).tolist(), [false, true, false]);
  assert.deepEqual(mx.greaterEqual(a(), 3).tolist(), [[false, false, true], [true, true, true]]);
});

test('matmul and reductions with their overloads', () => {
  assertClose(mx.matmul(a(), a().T).tolist(), [[14, 32], [32, 77]]);
  assertClose(mx.sum(a()).item(), 21);
  assertClose(mx.sum(a(), 0).tolist(), [5, 7, 9]);              // sum(a, axis)
  assertClose(mx.sum(a(), [0, 1]).item(), 21);                  // sum(a, axes)
  assertClose(mx.sum(a(), 1, true).tolist(), [[6], [15]]);      // sum(a, axis, keepdims)
  assert.deepEqual(mx.sum(a(), true).shape, [1, 1]);           // sum(a, keepdims)
  assertClose(mx.sum(a(), -1).tolist(), [6, 15]);               // negative axis
  assertClose(mx.mean(a()).item(), 3.5);
  assertClose(mx.variance(a()).item(), 2.9166667);
  assertClose(mx.var(a()).item(), 2.9166667);
  assert.deepEqual(mx.argmax(a(), 1).tolist(), [2, 2]);
  assertClose(mx.logsumexp(mx.array([1, 2, 3])).item(), 3.407606);
  assertClose(mx.cumsum(mx.array([1, 2, 3]), 0).tolist(), [1, 3, 6]);
});

test('creation ops: defaults, dtypes and integer overloads', () => {
  const r = mx.arange(5);
  assert.equal(r.dtype, mx.int32);  // arange(int), as MLX
  assert.deepEqual(r.tolist(), [0, 1, 2, 3, 4]);
  assertClose(mx.arange(0, 1, 0.25).tolist(), [0, 0.25, 0.5, 0.75]);
  assert.equal(mx.zeros([2, 3]).dtype, mx.float32);
  assert.equal(mx.zeros([2], mx.int8).dtype, mx.int8);
  assert.deepEqual(mx.ones(3).shape, [3]);  // one integer as a shape
  assert.deepEqual(mx.full([2], 7).tolist(), [7, 7]);
  assert.deepEqual(mx.eye(2).tolist(), [[1, 0], [0, 1]]);
  assertClose(mx.linspace(0, 1, 3).tolist(), [0, 0.5, 1]);
});

test('shape ops', () => {
  assert.deepEqual(mx.reshape(a(), [3, 2]).tolist(), [[1, 2], [3, 4], [5, 6]]);
  assert.deepEqual(mx.transpose(a()).shape, [3, 2]);
  assert.deepEqual(mx.concatenate([a(), a()], 0).shape, [4, 3]);
  assert.deepEqual(mx.stack([mx.array([1, 2]), mx.array([3, 4])]).tolist(), [[1, 2], [3, 4]]);
  const parts = mx.split(mx.arange(6), 3);
  assert.equal(parts.length, 3);
  assert.deepEqual(parts[2].tolist(), [4, 5]);
  assert.deepEqual(mx.expandDims(mx.array([1, 2]), 0).shape, [1, 2]);
  assert.deepEqual(mx.pad(mx.array([1, 2]), 1).tolist(), [0, 1, 2, 0]);
  assert.deepEqual(mx.take(mx.array([10, 20, 30]), mx.array([2, 0], mx.int32)).tolist(), [30, 10]);
  assert.deepEqual(mx.where(mx.array([true, false]), 1, 2).tolist(), [1, 2]);
  assertClose(mx.clip(mx.array([-1, 0.5, 3]), 0, 1).tolist(), [0, 0.5, 1]);
});

test('ops that return several arrays', () => {
  const [q, r] = mx.divmod(mx.array([7, -7]), mx.array([2, 2]));
  assert.deepEqual(q.tolist(), [3, -4]);
  assert.deepEqual(r.tolist(), [1, 1]);
});

test('array methods are the ops with the array first', () => {
  assertClose(a().sum(0).tolist(), [5, 7, 9]);
  assertClose(a().add(1).multiply(2).tolist(), [[4, 6, 8], [10, 12, 14]]);
  assert.deepEqual(a().reshape([6]).shape, [6]);
  assert.equal(a().astype(mx.int32).dtype, mx.int32);
  assertClose(mx.array([1, 2, 3]).softmax().tolist(), [0.09003057, 0.24472847, 0.66524096]);
  assertClose(a().variance().item(), 2.9166667);
  assert.deepEqual(a().notEqual(2).tolist(), [[true, false, true], [true, true, true]]);
});

test('namespaces: linalg, random, fft', () => {
  assertClose(mx.linalg.inv(mx.array([[4, 7], [2, 6]])).tolist(), [[0.6, -0.7], [-0.2, 0.4]], { rtol: 1e-5, atol: 1e-6 });
  const k = mx.random.key(42);
  const u1 = mx.random.uniform([1000], mx.float32, k);
  const u2 = mx.random.uniform([1000], mx.float32, k);
  assert.deepEqual(u1.tolist(), u2.tolist());  // the same key, the same numbers
  const m = mx.mean(u1).item();
  assert.ok(m > 0.45 && m < 0.55, `mean of uniform(0, 1) samples: ${m}`);
  const n = mx.random.normal([2, 3]);
  assert.deepEqual(n.shape, [2, 3]);
  const f = mx.fft.fft(mx.array([1, 0, 0, 0]));
  assert.equal(f.dtype, mx.complex64);
  // The transform of a unit impulse is all ones (im may be -0).
  assertClose(f.tolist().map((c) => [c.re, c.im]), [[1, 0], [1, 0], [1, 0], [1, 0]]);
});

test('optional arguments given as undefined take their defaults', () => {
  assertClose(mx.sum(a(), 0, undefined).tolist(), [5, 7, 9]);
  assertClose(mx.softmax(mx.array([1, 2, 3]), undefined).tolist(), [0.09003057, 0.24472847, 0.66524096]);
  // In the middle: cumsum(x, axis 0, reverse = default false, inclusive = false).
  assertClose(mx.cumsum(mx.array([1, 2, 3]), 0, undefined, false).tolist(), [0, 1, 3]);
});
