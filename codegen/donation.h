#pragma once
// Buffer donation: a kernel's output may take over the buffer of an input
// that dies in the same step, instead of a fresh allocation. That keeps the
// working set small and recently touched (the donated buffer is warm in
// the caches) and lowers peak memory.
//
// Only results of the executable's kernels are donated, where no later
// step and no output reads them. Never the caller's inputs, constants of
// the function, or results of host kernels (host_kernels.h: a no-op such
// as a reshape returns its operand's buffer, so such a result may be
// shared). Nor results of BLAS calls: runtime/blas.cpp cuts a product into
// pieces (often columns) on other threads than those that run the kernel's
// elements, and writing over cache lines another core holds modified
// costs a second transfer per line. Writing the ReLU gradient over its
// product's result took 31-38 us for 128 x 256 floats, 12-15 us into a
// fresh buffer; Adam's update over a 256 x 784 weight gradient, 240-263
// against 116-121 us (Fashion-MNIST MLP; KILN_PROFILE=1). And only
// where the kernel is a plain elementwise map of that input: no reduction
// in the kernel, every load of the input at exactly the index the kernel
// writes (no broadcast, transposed, sliced or shifted reads), and the same
// element count and element size. Then each output element is written
// after the only read of the input element it replaces, by the same thread.
#include <vector>

#include "ir/function.h"
#include "passes/fusion.h"

namespace kiln::codegen {

// For each step of `plan`: the index in step.args of the input whose
// buffer becomes the output, or -1. last_use[v] is the last step that
// reads value v (plan.steps.size() for outputs).
std::vector<int> plan_donations(const ir::Function& f, const passes::Plan& plan, const std::vector<int>& last_use);

// Whether a host op runs as a BLAS call (which writes a fresh buffer).
bool runs_on_blas(const ir::Op& op);

}  // namespace kiln::codegen
