#pragma once
// Fusion: partitions a Function into steps. Elementwise ops, casts, selects
// and views (broadcast, transpose, slice, splitting reshapes) fuse into
// their consumers; a reduction fuses its elementwise prologue and epilogue
// (softmax and layernorm are one kernel). A value is materialized only for a
// stated reason, which the fusion dump prints:
//   output            - the function returns it
//   library/host op   - it feeds an op that is not fused (matmul, gather, ...)
//   shared reduction  - it contains a reduction and has several users
//   merging reshape   - a reshape that merges dimensions reads it
// Each materialized value is computed by one kernel (its lowering, see
// kernel.h, with its schedule) or, for ops that do not fuse, by one host
// step.
#include <string>
#include <vector>

#include "ir/function.h"
#include "passes/kernel.h"

namespace kiln::passes {

struct Step {
  enum Kind { Kernel, HostOp } kind = HostOp;
  int value = -1;  // the value this step materializes
  std::string reason;         // why it is materialized
  kernel::Kernel kernel;      // Kernel: the lowered group
  std::vector<int> args;      // the values read: Kernel: in kernel.inputs order;
                              // HostOp: the op's operands, except as below
  std::vector<int64_t> params;  // Kernel: runtime sizes, strides, offsets
  // HostOp matmul of float32/float64: operand i is read as the transpose of
  // args[i] (its last two axes swapped), which BLAS does without a copy.
  bool transposed[2] = {false, false};
};

struct Plan {
  std::vector<Step> steps;  // in execution order
};

// Each kernel of the plan comes scheduled (kernel_schedule.h) for `target`,
// not in place, with its output's size; the executor schedules again where
// it donates a buffer.
Plan plan_fusion(const ir::Function& f, const kernel::ScheduleOptions& target = {});
std::string plan_to_string(const ir::Function& f, const Plan& p);

}  // namespace kiln::passes
