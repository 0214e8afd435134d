#pragma once
// Fusion: partitions a Function into steps. Elementwise ops, casts, selects
// and views (broadcast, transpose, slice, splitting reshapes) fuse into
// their consumers; a reduction fuses its elementwise prologue and epilogue
// (softmax and layernorm are one kernel). take and take_along_axis fuse
// as indirect loads (kernel::NodeKind::Gather) where the backend has them
// (runtime::Capabilities::gather_loads): the indices are computed in the
// kernel, the source is read from memory. A value is materialized only for a
// stated reason, which the fusion dump prints:
//   output            - the function returns it
//   library/host op   - it feeds an op that is not fused (matmul, scatter, ...)
//   gathered          - a fused take (an indirect load) reads it from memory
//   shared reduction  - it contains a reduction and has several users
//   reduced again     - a reduction whose result another reduction reads
// Each materialized value is computed by one kernel (its lowering, see
// kernel.h, with its schedule) or, for ops that do not fuse, by one host
// step.
// A reshape that merges dimensions is a host op that renames its operand's
// buffer (so that operand is materialized, "feeds host op reshape").
#include <string>
#include <vector>

#include "ir/function.h"
#include "passes/kernel.h"
#include "passes/kernel_schedule.h"
#include "runtime/backend.h"

namespace kiln::passes {

struct Step {
  enum Kind { Kernel, HostOp } kind = HostOp;
  int value = -1;  // the value this step materializes
  std::string reason;         // why it is materialized
  kernel::Kernel kernel;      // Kernel: the lowered group
  // Kernel: an op the backend's kernels cannot compute (its capabilities)
  // but the host's can: a one-op kernel for the host CPU backend, over the
  // same (unified) memory.
  bool on_host = false;
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

// Fusion proper: which values are materialized, and by which kind of step
// (Kernel steps get their `value` and `reason`; the kernel is lowering's).
// Ops the backend's kernels cannot compute (`caps`) become host steps.
Plan partition(const ir::Function& f, const runtime::Capabilities& caps = {});
// partition, then lowering (passes/lower.h); each kernel comes scheduled
// (kernel_schedule.h) for the backend, not in place, with its output's
// size (the executor schedules again where it donates a buffer).
Plan plan_fusion(const ir::Function& f, const runtime::Capabilities& caps = {});

// The schedule's view of a backend's capabilities.
kernel::ScheduleOptions schedule_options(const runtime::Capabilities& caps);

std::string plan_to_string(const ir::Function& f, const Plan& p);

// Shared by fusion and lowering (views: ir::is_view).
// A constant whose elements are all equal (a scalar in kernels, not a buffer).
bool is_splat(const ir::Op& op);
// The value of a kernel load's stride in step `st` (its param, or 0 or 1).
int64_t stride_value(const Step& st, const kernel::Stride& s);
// The output shape the kernel of step `st` loops over: its own sizes,
// which after loop collapsing (loop_collapse.h) has fewer dimensions than
// the value it writes.
std::vector<int> kernel_shape(const Step& st);
// Whether a reshape from `in` to `out` only splits dimensions (and adds or
// drops ones of size 1): an affine re-indexing that kernels read through. A
// reshape that merges dimensions needs its operand in memory.
bool is_splitting_reshape(const ir::Shape& in, const ir::Shape& out);

}  // namespace kiln::passes
