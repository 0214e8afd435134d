#pragma once
// Multi-output kernels: a function output that only one other elementwise
// kernel reads, at its own index, is computed by that kernel and stored as
// its second output (kernel::ExtraOutput) rather than by a kernel of its
// own. An optimizer's update is the case in point: Adam's new moments m
// and v are outputs (the next step's state) and the new parameter reads
// them, so three passes over four arrays (the gradient read three times,
// the moments written then read back) become one that reads gradient,
// moments and parameter once and writes the three results.
#include "ir/function.h"
#include "passes/fusion.h"
#include "runtime/backend.h"

namespace kiln::passes {

// Merges, in `plan` (lowered, not yet scheduled), each kernel step whose
// value is a function output read by exactly one other step, where both
// kernels are free of reductions, have the same output shape, and the
// reader loads the value only at its own output index; applied until none
// is left (a chain of them becomes one kernel). Respects the backend's
// limit on kernel inputs.
void merge_output_kernels(const ir::Function& f, Plan& plan, const runtime::Capabilities& caps);

// Whether every load of buffer argument `arg` of the kernel of `st` reads
// the element the kernel writes: offset 0 and, along each output
// dimension of the kernel (its own sizes: after loop collapsing, fewer
// than the value's), the output's row-major stride (any stride along a
// dimension of size 1, where the index is 0). A gather reads anywhere.
bool reads_at_output_index(const Step& st, int arg);

}  // namespace kiln::passes
