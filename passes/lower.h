#pragma once
// Lowering: each Kernel step of a fusion plan becomes a loop-level kernel
// description (kernel.h) of the fused ops that compute its value: views
// fold into affine loads of the materialized values it reads, reductions
// bind loop variables, scalar constants become parameters (or are built in
// where that pays, see bakes_operand), and sizes, strides and offsets are
// the step's runtime params.
#include "ir/function.h"
#include "passes/fusion.h"

namespace kiln::passes {

// Fills kernel, args and params of every Kernel step of `plan`; values of
// other steps, inputs and non-splat constants are read from memory.
void lower_kernels(const ir::Function& f, Plan& plan);

}  // namespace kiln::passes
