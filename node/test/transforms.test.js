'use strict';
// grad / valueAndGrad / vjp / jvp / vmap / compile on JS functions, and
// mx.eval. Gradients against closed forms; vmap against a loop.
const { test } = require('node:test');
const { assert, assertClose, mx } = require('./helpers');

test('grad of sum(x^3) is 3x^2', () => {
  const f = (x) => mx.sum(mx.power(x, 3));
  const g = mx.grad(f)(mx.array([1, -2, 0.5]));
  assertClose(g.tolist(), [3, 12, 0.75]);
});

test('grad with argnums: one array for a number, an Array for an Array', () => {
  // f(x, y) = sum(x * y^2): df/dx = y^2, df/dy = 2xy.
  const f = (x, y) => mx.sum(mx.multiply(x, mx.square(y)));
  const x = mx.array([1, 2]), y = mx.array([3, -1]);
  assertClose(mx.grad(f, 1)(x, y).tolist(), [6, -4]);
  const [gx, gy] = mx.grad(f, [0, 1])(x, y);
  assertClose(gx.tolist(), [9, 1]);
  assertClose(gy.tolist(), [6, -4]);
});

test('valueAndGrad, with aux outputs', () => {
  // loss = mean((w * x - t)^2), dloss/dw = mean(2 (w x - t) x).
  const x = mx.array([1, 2, 3]), t = mx.array([2, 4, 6]);
  const loss = (w) => mx.mean(mx.square(mx.subtract(mx.multiply(w, x), t)));
  const [v, g] = mx.valueAndGrad(loss)(mx.array(1.5));
  // w = 1.5: residuals -0.5, -1, -1.5 -> loss = (0.25 + 1 + 2.25) / 3; grad = 2 (-0.5 - 2 - 4.5) / 3
  assertClose(v.item(), 3.5 / 3);
  assertClose(g.item(), -14 / 3);
  const [[l, aux], g2] = mx.valueAndGrad((w) => [loss(w), mx.multiply(w, 10)])(mx.array(1.5));
  assertClose(l.item(), 3.5 / 3);
  assertClose(aux.item(), 15);
  assertClose(g2.item(), -14 / 3);
});

test('second derivative: grad of grad', () => {
  // d2/dx2 sin(x) = -sin(x)
  const d2 = mx.grad(mx.grad((x) => mx.sin(x)));
  assertClose(d2(mx.array(0.7)).item(), -Math.sin(0.7), { rtol: 1e-5, atol: 1e-6 });
});

test('vjp and jvp', () => {
  // f(x) = x^2 elementwise: vjp(v) = 2 x v, jvp(t) = 2 x t.
  const f = (x) => mx.square(x);
  const [outs, vjps] = mx.vjp(f, [mx.array([1, 2, 3])], [mx.array([1, 0.5, -1])]);
  assertClose(outs[0].tolist(), [1, 4, 9]);
  assertClose(vjps[0].tolist(), [2, 2, -6]);
  const [outs2, jvps] = mx.jvp(f, [mx.array([1, 2, 3])], [mx.array([1, 1, 2])]);
  assertClose(outs2[0].tolist(), [1, 4, 9]);
  assertClose(jvps[0].tolist(), [2, 4, 12]);
});

test('vmap matches a loop', () => {
  const f = (x, y) => mx.sum(mx.multiply(x, y));  // a dot product
  const xs = mx.array([[1, 2], [3, 4], [5, 6]]);
  const y = mx.array([10, 1]);
  const batched = mx.vmap(f, [0, -1])(xs, y);
  const loop = [...xs].map((row) => f(row, y).item());
  assertClose(batched.tolist(), loop);
  // in/out axes as single numbers.
  const cols = mx.vmap((c) => mx.multiply(c, 2), 1, 1)(xs);
  assertClose(cols.tolist(), [[2, 4], [6, 8], [10, 12]]);
});

test('compile: same values, traced once per signature', () => {
  let traces = 0;
  const f = (x, y) => {
    traces += 1;
    return mx.add(mx.multiply(mx.exp(x), y), 1);
  };
  const cf = mx.compile(f);
  const x = mx.array([0, 1]), y = mx.array([2, 3]);
  const eager = f(x, y).tolist();
  traces = 0;
  assertClose(cf(x, y).tolist(), eager);
  assertClose(cf(mx.array([1, 0]), y).tolist(), [2 * Math.E + 1, 3 + 1]);
  assert.equal(traces, 1, 'the second call with the same shapes reuses the trace');
  cf(mx.array([1, 2, 3]), mx.array([1, 1, 1]));
  assert.equal(traces, 2, 'new shapes trace again');
  // Several outputs come back as an Array.
  const two = mx.compile((a) => [mx.negative(a), mx.square(a)])(mx.array([3]));
  assert.deepEqual(two.map((t) => t.tolist()), [[-3], [9]]);
});

test('grad of a compiled function and compile of grad', () => {
  const f = (x) => mx.sum(mx.square(mx.sin(x)));
  const x = mx.array([0.3, -1.2]);
  // d/dx sin(x)^2 = sin(2x)
  const expected = [Math.sin(0.6), Math.sin(-2.4)];
  assertClose(mx.grad(mx.compile(f))(x).tolist(), expected, { rtol: 1e-5, atol: 1e-6 });
  assertClose(mx.compile(mx.grad(f))(x).tolist(), expected, { rtol: 1e-5, atol: 1e-6 });
});

test('a JS exception inside a transformed function propagates', () => {
  const boom = () => {
    throw new SyntaxError('from JS');
  };
  assert.throws(() => mx.grad(boom)(mx.array(1)), { name: 'SyntaxError', message: 'from JS' });
  assert.throws(() => mx.compile(boom)(mx.array(1)), { name: 'SyntaxError', message: 'from JS' });
  // And the transformations still work afterwards.
  assertClose(mx.grad((x) => mx.sum(x))(mx.array([1, 2])).tolist(), [1, 1]);
});

test('transformations reject what they cannot use', () => {
  assert.throws(() => mx.grad(42), TypeError);
  assert.throws(() => mx.grad((x) => 'no array')(mx.array(1)), TypeError);
  // The loss must be a scalar.
  assert.throws(() => mx.grad((x) => x)(mx.array([1, 2])), /\[grad\]/);
  // eval()/item() on a traced value inside compile.
  assert.throws(() => mx.compile((x) => mx.array(x.item()))(mx.array(1)), Error);
});

test('mx.eval evaluates arrays in nested Arrays and objects', () => {
  const a = mx.add(mx.array([1]), 1), b = mx.multiply(mx.array([2]), 2);
  mx.eval([a, { b }], 3);
  assert.deepEqual([a.tolist(), b.tolist()], [[2], [4]]);
});
