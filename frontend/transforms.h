#pragma once
// Function transformations, as in mlx::core's transforms.h / compile.h.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <ostream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "frontend/array.h"
#include "frontend/trace.h"

namespace kiln {

// Returns a function that computes what `fun` computes, traced once per
// input signature (dtypes and shapes) and simplified as a whole. Arrays that
// `fun` captures are constants of the trace. Calling eval()/item() on a
// traced value inside `fun` throws std::invalid_argument. Outputs are lazy
// arrays, like any op's. Each compiled function keeps the traces of its
// trace_cache_limit() most recently used signatures; a signature dropped
// from it is traced again on its next call.
//
// shapeless = true: `fun` is traced once per input ranks and dtypes (and
// device and compile mode); a call with new shapes re-derives that trace's
// shapes (frontend/shapeless.h: no call of fun, counted in
// JitStats::shapeless_specializations) and plans it again, reusing the
// kernels, which take their sizes at run time. What the trace fixed to its
// shapes throws std::invalid_argument("[compile] ...") on a call that
// changes them: a reshape to a literal shape (flatten, squeeze,
// expand_dims, unflatten's inferred axis and keepdims follow the input),
// a partial slice of a resized axis. A function whose ops computed a
// constant from an input's shape (mean and var divide by the element
// count) is traced per shape instead, so that its results stay right.
//
// A compiled call runs on the device of the default stream at the time of
// the call (to_stream({}), e.g. inside a StreamContext): the device is part
// of the cache key, so switching the default device mid-program runs the
// next call on the new device's backend (with its own executable), and
// precompile() builds the kernels of the default device.
ArrayFunction compile(ArrayFunction fun, bool shapeless = false);
// A plain function, as MLX's overload (each compile() has its own cache).
ArrayFunction compile(std::vector<array> (*fun)(const std::vector<array>&), bool shapeless = false);

std::function<array(const array&)> compile(std::function<array(const array&)> fun,
                                           bool shapeless = false);
std::function<array(const array&, const array&)> compile(
    std::function<array(const array&, const array&)> fun, bool shapeless = false);
// As MLX: a capture-less lambda of arrays to arrays compiles as the
// function pointer it converts to (so that such a call is not ambiguous).
using ArrayFunctionPointer = std::vector<array> (*)(const std::vector<array>&);
template <typename F, typename = std::enable_if_t<std::is_convertible_v<F, ArrayFunctionPointer> &&
                                                  std::is_class_v<std::remove_reference_t<F>>>>
ArrayFunction compile(F&& fun, bool shapeless = false) {
  return compile(static_cast<ArrayFunctionPointer>(fun), shapeless);
}

// Compiles now, without running it, every kernel that calling compile(fun)
// with inputs of these dtypes and shapes needs (their values are not read).
// The kernels go to the in-memory cache and the disk cache, so a later call,
// or another process, finds them ready: applications can warm or ship their
// kernel cache (see also the kiln-aot tool). Throws std::invalid_argument
// inside a transformation.
void precompile(const ArrayFunction& fun, const std::vector<array>& example_inputs);

// How compiled functions run, as MLX's CompileMode: disabled runs `fun`
// eagerly (op by op, as without compile); no_simplify skips the
// simplification passes over the trace (CSE, constant folding, ...);
// no_fuse also plans each op as its own kernel; enabled (the default) does
// all. The mode is part of the trace cache key, so a change applies to the
// next call. KILN_DISABLE_COMPILE=1 starts the process disabled.
enum class CompileMode { disabled, no_simplify, no_fuse, enabled };
void set_compile_mode(CompileMode mode);
CompileMode compile_mode();
// set_compile_mode(disabled) and set_compile_mode(enabled).
void disable_compile();
void enable_compile();
bool compile_enabled();  // compile_mode() != disabled

// Bounds of the in-memory caches behind compile() and eval(). The trace
// cache keeps, per compiled function, the traces (simplified function and
// executable) of its most recently used input signatures: 64 by default,
// or KILN_TRACE_CACHE_LIMIT. The kernel cache keeps the most recently used
// native kernels, process-wide: 4096 by default, or KILN_KERNEL_CACHE_LIMIT.
// Both variables take 1 to 1048576. A kernel dropped from the cache is
// unloaded once no executable (a compiled function's trace) uses it any
// more; a later evaluation that needs it compiles it again, or loads it
// from the disk cache. The setters throw std::invalid_argument outside 1 to
// 1048576; a smaller kernel limit drops kernels at once, a smaller trace
// limit applies to each compiled function when it next adds a trace.
size_t trace_cache_limit();
void set_trace_cache_limit(size_t traces);
size_t kernel_cache_limit();
void set_kernel_cache_limit(size_t kernels);

// Counters that users and tests can read (process-wide, thread-safe), for
// compile() and for the kernels behind every evaluation.
struct JitStats {
  uint64_t traces = 0;             // functions traced by compile()
  uint64_t trace_cache_hits = 0;   // compiled calls that reused a trace
  uint64_t shapeless_specializations = 0;  // shapeless traces re-derived for new shapes
  uint64_t kernels_compiled = 0;   // native kernels built by LLVM
  uint64_t kernel_cache_hits = 0;  // kernels found in the cache instead
  double compile_ms = 0;           // total time spent compiling kernels
  uint64_t disk_cache_hits = 0;      // kernels loaded from the disk cache
  uint64_t disk_cache_rejected = 0;  // disk entries discarded (corrupt, foreign)
  uint64_t disk_cache_writes = 0;    // kernels stored in the disk cache
  uint64_t buffers_donated = 0;      // kernel outputs written into a dying intermediate's buffer
  uint64_t operands_computed_in_blocks = 0;  // products that computed their A inside, in cached blocks
  uint64_t trace_cache_evictions = 0;   // traces dropped by compiled functions over their limit
  uint64_t kernel_cache_evictions = 0;  // kernels dropped from the kernel cache over its limit
  uint64_t kernels_in_memory = 0;       // native kernels loaded now (cached or in use); not reset
};
// (The disk cache's directory, or "" when it is off or refused.)
std::string kernel_cache_directory();
JitStats jit_stats();
void reset_jit_stats();

// Writes the graph that computes `outputs` (pending ops and the arrays they
// read) in Graphviz DOT, as mlx::core::export_to_dot.
void export_to_dot(std::ostream& os, const std::vector<array>& outputs);

}  // namespace kiln
