'use strict';
// The cached compiled-call overhead from Node.js: kiln-bench's
// cached_call_3op (bench/kiln_bench.cpp: compile((v * 2 + 1) * v) on 4
// floats, called and evaluated in a loop after a warm-up call) through the
// Node addon: each call converts the argument, runs the compiled function
// and wraps the result. Prints the median over repetitions, in µs per call.
// Run (after building the addon; compare with the C++ figure of the same build):
//   NODE_PATH=build/node node bench/node_cached_call.js [iterations] [repetitions]
//   build/bench/kiln-bench --benchmark_filter=cached_call_3op
const mx = require('kiln').core;

const iterations = Number(process.argv[2] || 200000);
const repetitions = Number(process.argv[3] || 5);

const x = mx.array(new Float32Array([0.5, -1.25, 2, 3]));
const f = mx.compile((v) => v.multiply(2).add(1).multiply(v));
mx.eval(f(x));

const times = [];
for (let r = 0; r < repetitions; ++r) {
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; ++i) mx.eval(f(x));
  times.push(Number(process.hrtime.bigint() - start) / 1e3 / iterations);
}
times.sort((a, b) => a - b);
console.log(`cached_call_3op from Node.js: median ${times[Math.floor(times.length / 2)].toFixed(3)} us/call ` +
            `(${repetitions} x ${iterations} calls; all: ${times.map((t) => t.toFixed(3)).join(', ')})`);
