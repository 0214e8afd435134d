#pragma once
// The reference interpreter: executes any verified ir::Function naively and
// exactly, one op at a time, computing every element in a wide domain
// (int64 / uint64 / double / complex<double>, see element.h) and rounding
// once to the result dtype. It is the oracle the JIT is tested against, and
// the executor behind KILN_EXECUTOR=interp; production paths never run it.
#include <vector>

#include "ir/function.h"
#include "ir/tensor.h"

namespace kiln::ir {

// Runs f on `inputs` (which must match f.inputs in type) and returns one
// tensor per output. Inputs are never written. Throws std::invalid_argument
// for mismatched inputs.
std::vector<Tensor> interpret(const Function& f, const std::vector<Tensor>& inputs);

// Runs a single op on operand tensors (used by constant folding).
Tensor interpret_op(const Op& op, const std::vector<Tensor>& operands);

}  // namespace kiln::ir
