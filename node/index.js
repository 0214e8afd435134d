'use strict';
// require('kiln') -> { core }: kiln's arrays, ops and transformations with
// node-mlx's names (const mx = require('kiln').core). The ops and their
// overloads come from the native addon (kiln.node, generated from kiln's op
// headers); this file adds what plain JS does better.
const { core } = require('./kiln.node');

// mx.array(value, dtype) without `new`, as node-mlx's, and still the class
// of every array (a instanceof mx.array).
const NativeArray = core.array;
function array(value, dtype) {
  return new NativeArray(value, dtype);
}
array.prototype = NativeArray.prototype;
Object.defineProperty(array, Symbol.hasInstance, { value: (x) => x instanceof NativeArray });
core.array = array;

// for (const row of a): the slices along the first axis.
NativeArray.prototype[Symbol.iterator] = function* () {
  for (let i = 0; i < this.length; ++i) yield core.take(this, i, 0);
};

// Constants, as node-mlx's.
Object.assign(core, {
  pi: Math.PI, e: Math.E, inf: Infinity, Inf: Infinity, Infinity: Infinity, infty: Infinity,
  nan: NaN, NaN: NaN, NAN: NaN, PINF: Infinity, NINF: -Infinity, PZERO: 0, NZERO: -0,
  eulerGamma: 0.5772156649015329, newaxis: null,
});

module.exports = { core };
