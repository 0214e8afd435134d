#pragma once
// The loop-level description of one fused kernel, independent of LLVM: the
// CPU emitter (codegen/llvm) and, later, the OpenCL emitter consume it.
//
// A kernel computes one contiguous row-major output of rank R. Loop
// variables 0..R-1 are the output's indices; each reduction binds one more
// variable (R, R+1, ...), except that a reduction along the output's last
// dimension that does not otherwise depend on variable R-1 rebinds R-1
// itself, with the output's last size as its extent: its body then shares
// nodes with the per-element expression (see fusion.cpp, reuses_column). The body is a DAG of scalar nodes. A Load reads an
// input buffer at offset + sum(var * stride); a Gather adds an index that
// another node computes (a take fused as a kernel load); offsets, strides, output sizes
// and reduction extents are runtime parameters (params[i]), so one kernel
// serves every shape with the same structure. Only whether a stride is 0, 1
// or something else is part of the structure: that is what vectorization
// depends on.
#include <cstdint>
#include <string>
#include <vector>

#include "ir/dtype.h"
#include "ir/ops.h"
#include "passes/kernel_schedule.h"

namespace kiln::kernel {

enum class NodeKind : uint8_t { Load, Constant, Unary, Binary, Select, Reduce, Gather };

enum class StrideKind : uint8_t { Zero, One, Param };
struct Stride {
  StrideKind kind = StrideKind::Zero;
  int param = -1;  // for Param
};

struct Node {
  NodeKind kind = NodeKind::Constant;
  ir::OpKind op = ir::OpKind::Constant;  // Unary/Binary/Select (Cast is Unary), Reduce kind
  Dtype dtype;                            // the value's dtype
  std::vector<int> operands;              // node ids (Reduce: its body)
  // Load and Gather
  int arg = -1;
  int offset_param = -1;
  std::vector<Stride> strides;  // one per loop variable in scope (index = variable)
  // Gather: an indirect load (take, take_along_axis). Its one operand is an
  // integer index node; the index is mapped into [0, params[extent_param])
  // as the interpreter's take does (a negative one wraps once, then it is
  // clamped), and the load reads the buffer at the affine offset above plus
  // that position times params[gather_stride_param] (the stride of the
  // gathered axis in the buffer).
  int gather_stride_param = -1;
  // Constant (a scalar). Its value is params[value_param] (a double's bits
  // for floating dtypes, else the integer, truncated to the dtype), so
  // kernels that differ only in the values of their constants are one
  // kernel (x * s for every captured scalar s); fvalue and ivalue then only
  // show it in dumps. With value_param = -1 the value is fvalue (floating
  // dtypes) or ivalue, built into the code: fusion keeps that for operands
  // whose value LLVM turns into cheaper code (fusion.cpp, bakes_operand).
  int value_param = -1;
  double fvalue = 0;
  int64_t ivalue = 0;
  // Reduce
  int var = -1;           // the loop variable it binds (it may rebind the
                          // output's last one, see below)
  int extent_param = -1;  // Reduce: its trip count; Gather: the gathered axis's length
};

// A second output of a kernel without reductions: node `node` stored at
// the output's own index into buffer argument `arg` (of dtype
// inputs[arg], the same shape as the output), which the kernel writes and
// never reads. Fusion makes one where a function output is read only by
// another elementwise kernel at that index (passes/multi_output.h: an
// optimizer's new moments and the parameter that reads them are one pass).
struct ExtraOutput {
  int node = -1;
  int arg = -1;
};

struct Kernel {
  std::vector<Dtype> inputs;  // buffer arguments, in order
  Dtype output;
  std::vector<ExtraOutput> extra_outputs;
  int rank = 0;               // of the output
  int num_vars = 0;           // rank + reduction variables
  std::vector<int> size_params;  // per output dimension
  std::vector<Node> nodes;
  int root = -1;
  int num_params = 0;
  // How its loops run (kernel_schedule.h): set by schedule_kernel, which
  // plan_fusion runs for the default target and the executor again for its
  // backend and its buffers.
  Schedule schedule;

  // Whether any node is a reduction. A kernel without one computes each
  // output element on its own, so its range may be split anywhere (jit.h).
  bool has_reduction() const;
  // Whether buffer argument `arg` is one of extra_outputs (written, not read).
  bool writes_arg(int arg) const;
  // Removes the nodes that neither the root nor an extra output reaches;
  // the others keep their order (ids stay topological) and are renumbered.
  void drop_unreachable();
  // The range rule: how many independent units of work a launch over an
  // output of `shape` has, by the schedule's range kind. Elements
  // (row-major) for rank 1 and for kernels without reductions, so that a
  // few long rows (4 x 4M) spread over every thread; rows (all but the last
  // dimension) for the other kernels of rank >= 2, since a row with
  // reductions is computed by one thread, which computes each of them once;
  // 1 for rank 0; 0 for an empty output. Throws std::logic_error for a
  // kernel not scheduled.
  int64_t outer_extent(const std::vector<int>& shape) const;
  // Whether the units of outer_extent are rows.
  bool range_is_rows() const { return schedule.range == RangeKind::Rows; }

  // The structural identity used as the kernel cache key (sizes, strides
  // and offsets, being parameters, are not in it), with the schedule.
  std::string key() const;
  // A readable listing, its nodes then its schedule (KILN_DUMP=fusion).
  std::string to_string() const;
};

}  // namespace kiln::kernel
