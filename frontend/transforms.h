#pragma once
// Function transformations, as in mlx::core's transforms.h / compile.h.
#include <cstdint>
#include <functional>
#include <ostream>
#include <vector>

#include "frontend/array.h"
#include "frontend/trace.h"

namespace kiln {

// Returns a function that computes what `fun` computes, traced once per
// input signature (dtypes and shapes) and simplified as a whole. Arrays that
// `fun` captures are constants of the trace. Calling eval()/item() on a
// traced value inside `fun` throws std::invalid_argument. Outputs are lazy
// arrays, like any op's. `shapeless` is accepted for MLX compatibility; for
// now a new shape still makes a new trace.
ArrayFunction compile(ArrayFunction fun, bool shapeless = false);
std::function<array(const array&)> compile(std::function<array(const array&)> fun,
                                           bool shapeless = false);
std::function<array(const array&, const array&)> compile(
    std::function<array(const array&, const array&)> fun, bool shapeless = false);

// Globally turn compilation off (compiled functions then run `fun` eagerly)
// or back on. The environment variable KILN_DISABLE_COMPILE does the first.
void disable_compile();
void enable_compile();
bool compile_enabled();

// Counters that users and tests can read (process-wide, thread-safe), for
// compile() and for the kernels behind every evaluation.
struct JitStats {
  uint64_t traces = 0;             // functions traced by compile()
  uint64_t trace_cache_hits = 0;   // compiled calls that reused a trace
  uint64_t kernels_compiled = 0;   // native kernels built by LLVM
  uint64_t kernel_cache_hits = 0;  // kernels found in the cache instead
  double compile_ms = 0;           // total time spent compiling kernels
  uint64_t buffers_donated = 0;    // kernel outputs written into a dying intermediate's buffer
};
JitStats jit_stats();
void reset_jit_stats();

// Writes the graph that computes `outputs` (pending ops and the arrays they
// read) in Graphviz DOT, as mlx::core::export_to_dot.
void export_to_dot(std::ostream& os, const std::vector<array>& outputs);

}  // namespace kiln
