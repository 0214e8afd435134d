#pragma once
// The schedule of a kernel (kernel.h): how its loops run, as plain data.
// The pass schedule_kernel decides it; the emitters (codegen/llvm, later
// codegen/opencl) only render it. KILN_DUMP=fusion and kiln-opt --fusion
// print it after the kernel's nodes, and Kernel::key() includes it, so the
// kernel cache never mixes two schedules of one kernel.
//
// The loops it describes: an outer loop over the range (rows or elements,
// see RangeKind), then, for kernels of rank >= 1, the loop over the
// output's last dimension (the element loop), each reduction a loop of its
// own where its value is computed. Loop variables are numbered as in
// kernel.h; a set of them is a bit mask (bit v: variable v).
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "ir/dtype.h"
#include "ir/ops.h"

namespace kiln::kernel {

struct Kernel;

// What the target can do that scheduling depends on; a backend states them
// (runtime::Capabilities). An OpenCL device schedules without the x86
// specifics.
struct ScheduleOptions {
  bool prefetch = true;          // software prefetches into a cache (the next-row prefetch)
  bool streaming_stores = true;  // non-temporal stores past the caches (streamed outputs)
  // The ops whose float lowering is one long chain of dependent
  // instructions: element loops computing one are interleaved. By default
  // those the CPU emitter approximates by polynomials (codegen/llvm/math.h,
  // has_approximation; a test keeps the two lists equal).
  std::vector<ir::OpKind> long_chain_ops = {
      ir::OpKind::Exp,   ir::OpKind::Expm1,   ir::OpKind::Log,     ir::OpKind::Log2,    ir::OpKind::Log10,
      ir::OpKind::Log1p, ir::OpKind::Tanh,    ir::OpKind::Sigmoid, ir::OpKind::Erf,     ir::OpKind::Erfinv,
      ir::OpKind::Sin,   ir::OpKind::Cos,     ir::OpKind::Tan,     ir::OpKind::Arctan,  ir::OpKind::Power,
      ir::OpKind::Arctan2, ir::OpKind::LogAddExp};
};

// What one use of a kernel adds: the executor decides these per executable
// (codegen/executor.cpp), where buffers and sizes are known.
struct KernelUse {
  // An input whose buffer the executor reuses for the output (it dies in
  // this step and every load of it is at the output's own index,
  // codegen/donation.h), or -1.
  int in_place = -1;
  // The output's size in bytes, where known (0: not known).
  int64_t output_bytes = 0;
};

// The units of a launch's range (runtime/backend.h states the rule once).
enum class RangeKind : uint8_t {
  Single,    // rank 0: one unit
  Elements,  // rank 1, and kernels without reductions: output elements, row-major
  Rows,      // rank >= 2 with reductions: rows (all but the last dimension)
};

// The schedule of one Reduce node.
struct ReduceSchedule {
  // The variables bound where it is computed (its hoisting level): the
  // innermost enclosing loop outside which it would depend on an unbound
  // variable.
  uint64_t level = 0;
  // Reductions under its body computed right before its loop, in this
  // order (those depending only on variables bound there, not already in
  // Schedule::hoisted).
  std::vector<int> hoisted;
  Dtype accumulator;     // the dtype it accumulates in
  int vector_width = 0;  // the vectorize width hint for its loop, 0: none
};

struct Schedule {
  RangeKind range = RangeKind::Single;
  // Per node: the loop variables its value depends on. Empty while the
  // kernel is not scheduled.
  std::vector<uint64_t> deps;
  // Reductions computed before the element loop, in this order: once per
  // call (rank 1) or at the start of each row (rank >= 2).
  std::vector<int> hoisted;
  std::map<int, ReduceSchedule> reductions;  // by node id, one per Reduce node

  // A column reduction (sum over the first axis of a matrix): the loop
  // over the output's last dimension runs in blocks of `block` columns,
  // each with the reduction's loop outside and the columns inside.
  struct Column {
    int reduce = -1;  // the Reduce node, or -1: none
    int64_t block = 0;
  } column;

  // The row cache: the loop of `reduce` also stores the value of its body
  // `node` into the output row, and the element loop reads it back.
  struct RowCache {
    int reduce = -1, node = -1;  // -1: none
  } row_cache;

  // The next-row prefetch: `reduce` runs in blocks of `block` columns, each
  // first prefetching the same columns of the next row of each of `loads`.
  struct Prefetch {
    int reduce = -1;  // -1: none
    std::vector<int> loads;
    int64_t block = 0;
  } prefetch;

  // The interleave count of element loops with long chains, 0: none (the
  // emitter asks for no interleaving then, codegen/llvm/emit.cpp).
  int interleave = 0;

  // The input whose buffer is the output (KernelUse::in_place), or -1.
  // The kernel reads it through the output pointer, so that the two stay
  // one pointer to the compiler (the kernel's pointers are otherwise
  // noalias).
  int in_place = -1;
  // Store the output with non-temporal hints, past the caches, computing
  // each row in blocks of `stream_block` elements first: for large
  // outputs of kernels that make several passes over each row, where the
  // cache lines a store would first read from memory cost the most.
  bool stream_output = false;
  int64_t stream_block = 0;

  bool scheduled() const { return !deps.empty(); }
  // The stable readable form (KILN_DUMP=fusion, kiln-opt --fusion), one
  // item a line, each indented by `indent`.
  std::string to_string(const std::string& indent = "") const;
};

// Decides the schedule of `k` for a target and one use. Throws
// std::runtime_error for a kernel of more than 64 loop variables.
Schedule schedule_kernel(const Kernel& k, const ScheduleOptions& target = {}, const KernelUse& use = {});

}  // namespace kiln::kernel
