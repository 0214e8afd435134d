#pragma once
// Function transformations, as in mlx::core's transforms.h / compile.h.
#include <cstdint>
#include <functional>
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

// Counters that users and tests can read (process-wide, thread-safe).
struct JitStats {
  uint64_t traces = 0;             // functions traced by compile()
  uint64_t trace_cache_hits = 0;   // compiled calls that reused a trace
};
JitStats jit_stats();
void reset_jit_stats();

}  // namespace kiln
