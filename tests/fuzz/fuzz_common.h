#pragma once
// What the libFuzzer targets of this folder share: the process set-up, the
// size cap on the functions they run, deterministic inputs, and what
// counts as a finding besides a crash.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <new>
#include <stdexcept>
#include <typeinfo>
#include <vector>

#include "ir/custom.h"
#include "ir/element.h"
#include "ir/function.h"
#include "runtime/buffer.h"

namespace kiln::fuzz {

// Values (inputs, intermediates, outputs, callees' too) above this many
// elements are not run, so that the fuzzer tests logic, not memory.
constexpr int64_t kMaxElements = 100000;

// Once per process: no disk kernel cache (the fuzzer must not fill the
// user's), one thread (deterministic, and the fuzzer's time goes to inputs).
inline void set_up_process() {
  setenv("KILN_CACHE", "off", 1);
  setenv("KILN_NUM_THREADS", "1", 1);
}

inline bool small_type(const ir::Type& t) {
  int64_t n = 1;
  for (int32_t d : t.shape) {
    if (d < 0 || d > kMaxElements) return false;
    n *= d;  // no overflow: both factors are at most kMaxElements
    if (n > kMaxElements) return false;
  }
  return true;
}

inline bool small_function(const ir::Function& f, int depth = 0) {
  if (depth > ir::kMaxCalleeDepth) return false;
  for (const ir::Type& t : f.inputs)
    if (!small_type(t)) return false;
  for (const ir::Op& op : f.ops) {
    if (!small_type(op.type)) return false;
    if (op.custom)
      for (const auto* callee : {op.custom->forward.get(), op.custom->vjp.get(), op.custom->jvp.get()})
        if (callee && !small_function(*callee, depth + 1)) return false;
  }
  return true;
}

// An input of type t: small integers and halves, negative and positive,
// the same for every run (converted to t's dtype as the element rules say).
inline runtime::BufferPtr input_buffer(const ir::Type& t) {
  runtime::BufferPtr b = runtime::allocate(size_t(t.nbytes()) + 1, true);
  for (int64_t i = 0; i < t.size(); ++i) store_f64(t.dtype, b->data(), i, double(i % 11) * 0.5 - 2.5);
  return b;
}

// Errors are exceptions (DESIGN.md), so exceptions are the expected way for
// a bad input to fail, except those that only a bug throws: out-of-range
// access, impossible sizes, and std::logic_error itself (kiln's internal
// invariants; its subclass std::invalid_argument is the user error).
inline bool is_bug(const std::exception& e) {
  return dynamic_cast<const std::out_of_range*>(&e) || dynamic_cast<const std::length_error*>(&e) ||
         dynamic_cast<const std::bad_alloc*>(&e) || typeid(e) == typeid(std::logic_error);
}

// A finding: say what, and abort so that libFuzzer saves the input.
[[noreturn]] inline void report(const char* what, const char* detail) {
  std::fprintf(stderr, "\n== kiln fuzz finding: %s: %s\n", what, detail);
  std::abort();
}

inline void check_exception(const std::exception& e) {
  if (is_bug(e)) report(typeid(e).name(), e.what());
}

}  // namespace kiln::fuzz
