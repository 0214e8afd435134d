#pragma once
// Function transformations, as in mlx::core's transforms.h / compile.h.
#include <cstdint>
#include <functional>
#include <ostream>
#include <string>
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

// Compiles now, without running it, every kernel that calling compile(fun)
// with inputs of these dtypes and shapes needs (their values are not read).
// The kernels go to the in-memory cache and the disk cache, so a later call,
// or another process, finds them ready: applications can warm or ship their
// kernel cache (see also the kiln-aot tool). Throws std::invalid_argument
// inside a transformation.
void precompile(const ArrayFunction& fun, const std::vector<array>& example_inputs);

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
  uint64_t disk_cache_hits = 0;      // kernels loaded from the disk cache
  uint64_t disk_cache_rejected = 0;  // disk entries discarded (corrupt, foreign)
  uint64_t disk_cache_writes = 0;    // kernels stored in the disk cache
  uint64_t buffers_donated = 0;      // kernel outputs written into a dying intermediate's buffer
};
// (The disk cache's directory, or "" when it is off or refused.)
std::string kernel_cache_directory();
JitStats jit_stats();
void reset_jit_stats();

// Writes the graph that computes `outputs` (pending ops and the arrays they
// read) in Graphviz DOT, as mlx::core::export_to_dot.
void export_to_dot(std::ostream& os, const std::vector<array>& outputs);

}  // namespace kiln
