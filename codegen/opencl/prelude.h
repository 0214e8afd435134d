#pragma once
// The OpenCL C helper functions that kernels call (16-bit float
// conversions, the ops the interpreter defines specially: sign, NaN-
// propagating maximum, remainder with the divisor's sign, sigmoid,
// logaddexp, erfinv, ...). The emitter (emit.cpp) names the helpers it
// calls; prelude() returns their definitions, each once, dependencies
// first, so that a kernel's source holds only what it uses (a smaller
// program builds faster).
#include <set>
#include <string>

namespace kiln::codegen::opencl {

// Definitions of the helpers `names` (e.g. "kl_sign_f", "kl_round_half")
// and of those they call. Float helpers ("_f") go through their double
// versions ("_d") when `float64` is set (the device has cl_khr_fp64): the
// result is then the double value rounded once, within the interpreter's
// tolerance on any device (see emit.cpp, transcendental functions).
std::string prelude(const std::set<std::string>& names, bool float64);

}  // namespace kiln::codegen::opencl
