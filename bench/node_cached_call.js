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

const iterations = Math.max(1000, Number(process.argv[2] || 200000));
const repetitions = Number(process.argv[3] || 5);

const x = mx.array(new Float32Array([0.5, -1.25, 2, 3]));
const f = mx.compile((v) => v.multiply(2).add(1).multiply(v));
mx.eval(f(x));

// Wall time and the process's CPU time (user + system, all threads), per
// call; kiln-bench reports real time and the main thread's CPU time. Every
// 1000 calls run in one mx.tidy, which releases their results (else V8
// would keep them all until the loop ends).
const real = [], cpu = [];
for (let r = 0; r < repetitions; ++r) {
  const start = process.hrtime.bigint(), cpu0 = process.cpuUsage();
  for (let done = 0; done < iterations; done += 1000)
    mx.tidy(() => {
      for (let i = 0; i < 1000; ++i) mx.eval(f(x));
    });
  const c = process.cpuUsage(cpu0);
  real.push(Number(process.hrtime.bigint() - start) / 1e3 / iterations);
  cpu.push((c.user + c.system) / iterations);
}
const median = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)].toFixed(3);
console.log(`cached_call_3op from Node.js: median ${median(real)} us/call real, ${median(cpu)} us/call CPU ` +
            `(${repetitions} x ${iterations} calls; real: ${real.map((t) => t.toFixed(3)).join(', ')})`);
