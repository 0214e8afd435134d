#include "passes/kernel_schedule.h"

#include <algorithm>
#include <sstream>
#include <stdexcept>

#include "ir/ops.h"
#include "passes/kernel.h"

namespace kiln::kernel {

namespace {

using ir::OpKind;

// The block of a streamed output row computed before it is copied out.
constexpr int64_t kStreamBlock = 2048;
// Outputs from this size on are stored past the caches (stream_output).
constexpr int64_t kStreamBytes = int64_t(8) << 20;
// The columns of a row reduction between prefetches of the next row.
constexpr int64_t kPrefetchBlock = 256;
// The columns of a column reduction's block (its accumulators stay in a
// small stack array).
constexpr int64_t kColumnBlock = 256;
// The vectorize width asked for a float reduction accumulated in double:
// the lanes of float in a 64-byte (AVX-512) vector.
constexpr int kFloatLanes = 16;
// The interleave count of element loops with long dependency chains.
constexpr int kInterleave = 4;

uint64_t bit(int v) { return uint64_t(1) << v; }

class Scheduler {
 public:
  Scheduler(const Kernel& k, const ScheduleOptions& target, const KernelUse& use)
      : k_(k), target_(target), use_(use) {}

  Schedule run() {
    if (k_.num_vars > 64) throw std::runtime_error("kiln: kernel has more than 64 loop variables");
    s_.in_place = use_.in_place;
    s_.range = k_.rank == 0 ? RangeKind::Single
               : k_.rank >= 2 && k_.has_reduction() ? RangeKind::Rows
                                                    : RangeKind::Elements;
    compute_deps();
    for (size_t i = 0; i < k_.nodes.size(); ++i)
      if (k_.nodes[i].kind == NodeKind::Reduce) s_.reductions[int(i)] = accumulate(k_.nodes[i]);
    hoist();
    if (k_.rank >= 1) {
      int last = k_.rank - 1;
      s_.column.reduce = column_reduction(last);
      if (s_.column.reduce >= 0) s_.column.block = kColumnBlock;
    }
    if (k_.rank >= 2) {
      choose_row_cache();
      if (target_.prefetch) choose_prefetch();
    }
    s_.interleave = element_loop_interleave();
    choose_streaming();
    return std::move(s_);
  }

 private:
  // ---- dependencies -----------------------------------------------------
  void compute_deps() {
    s_.deps.assign(k_.nodes.size(), 0);
    for (size_t i = 0; i < k_.nodes.size(); ++i) {
      const Node& n = k_.nodes[i];
      uint64_t d = 0;
      if (n.kind == NodeKind::Load || n.kind == NodeKind::Gather)
        for (size_t v = 0; v < n.strides.size(); ++v)
          if (n.strides[v].kind != StrideKind::Zero) d |= bit(int(v));
      for (int o : n.operands) d |= s_.deps[o];
      if (n.kind == NodeKind::Reduce) d &= ~bit(n.var);
      s_.deps[i] = d;
    }
  }

  // ---- the accumulator ----------------------------------------------------
  ReduceSchedule accumulate(const Node& n) {
    ReduceSchedule r;
    // Float sums and products accumulate in double, like the interpreter
    // (a long float32 sum stays accurate); the rest in the compute type.
    bool wide = is_floating(n.dtype) && (n.op == OpKind::Sum || n.op == OpKind::Prod);
    r.accumulator = wide ? float64 : n.dtype;
    // A float sum accumulated in double would be vectorized at the width of
    // double (8 lanes on AVX-512), computing its float body at half width:
    // ask for the width of float instead (two double accumulators per vector).
    if (wide && n.dtype != float64) r.vector_width = kFloatLanes;
    return r;
  }

  // ---- hoisting -----------------------------------------------------------
  // Every reduction is computed once per iteration of the innermost loop
  // it depends on, not inside loops it does not depend on: before the
  // element loop (once per call for rank 1, at each row's start for rank
  // >= 2) when it depends only on the row, else right before the loop of
  // the reduction whose body holds it, when it depends only on variables
  // bound there, else where it is used. Node ids are topological, so
  // computing in id order computes a reduction another one reads
  // (softmax's max, read by its sum) first, once.
  //
  // The emitter computes, before each loop, the reductions listed there
  // that it has not computed yet, and the rest where they are used.
  void hoist() {
    // The scopes enclosing the root: where the element loop's reductions
    // may be hoisted to, then the element loop.
    std::vector<uint64_t> chain;
    if (k_.rank == 0) {
      chain = {0};
    } else {
      uint64_t row_mask = bit(k_.rank - 1) - 1;
      s_.hoisted = reductions_under(k_.root, row_mask);
      chain = {row_mask, row_mask | bit(k_.rank - 1)};
    }
    std::vector<char> seen(k_.nodes.size());
    place(k_.root, chain, seen);
  }

  // The reductions under `node` (through the bodies of reductions too) that
  // depend only on the variables in `bound`, in id order.
  std::vector<int> reductions_under(int node, uint64_t bound) const {
    std::vector<char> seen(k_.nodes.size());
    std::vector<int> stack{node}, found;
    while (!stack.empty()) {
      int i = stack.back();
      stack.pop_back();
      if (seen[i]) continue;
      seen[i] = 1;
      const Node& n = k_.nodes[i];
      if (n.kind == NodeKind::Reduce && (s_.deps[i] & ~bound) == 0) found.push_back(i);
      for (int o : n.operands) stack.push_back(o);
    }
    std::sort(found.begin(), found.end());
    return found;
  }

  // Sets the level and the hoisted list of each reduction under `node`,
  // evaluated inside the scopes `chain` (outermost first; each a set of
  // bound variables). A reduction is computed in the outermost of them
  // that binds all it depends on. (Along every path to a reduction the
  // scopes are the same sets: their variables are bound in the nesting
  // order of the reductions, which the DAG fixes.)
  void place(int node, const std::vector<uint64_t>& chain, std::vector<char>& seen) {
    if (seen[node]) return;
    seen[node] = 1;
    const Node& n = k_.nodes[node];
    if (n.kind != NodeKind::Reduce) {
      for (int o : n.operands) place(o, chain, seen);
      return;
    }
    size_t at = 0;
    while (at + 1 < chain.size() && (s_.deps[node] & ~chain[at]) != 0) ++at;
    ReduceSchedule& r = s_.reductions[node];
    r.level = chain[at];
    for (int i : reductions_under(n.operands[0], r.level))
      if (!std::binary_search(s_.hoisted.begin(), s_.hoisted.end(), i)) r.hoisted.push_back(i);
    std::vector<uint64_t> inside(chain.begin(), chain.begin() + at + 1);
    inside.push_back(r.level | bit(n.var));
    place(n.operands[0], inside, seen);
  }

  // ---- column reductions --------------------------------------------------
  // A reduction along a strided axis whose input is contiguous along the
  // output's innermost dimension (sum over the first axis of a matrix) would
  // walk memory column by column. Loop order for it: for a block of
  // outputs, run the reduction axis outside and the contiguous output axis
  // inside, keeping the block's accumulators in a small stack array.
  // Returns such a reduction's node when it is the only one inside the
  // innermost loop (and has none nested), else -1.
  int column_reduction(int inner_var) const {
    int found = -1;
    for (size_t i = 0; i < k_.nodes.size(); ++i) {
      const Node& n = k_.nodes[i];
      if (n.kind != NodeKind::Reduce || !(s_.deps[i] >> inner_var & 1)) continue;
      if (found >= 0) return -1;
      found = int(i);
    }
    if (found < 0) return -1;
    const Node& r = k_.nodes[found];
    bool contiguous_inner = false, strided_reduce = false;
    std::vector<int> stack{r.operands[0]};
    while (!stack.empty()) {
      const Node& n = k_.nodes[stack.back()];
      stack.pop_back();
      if (n.kind == NodeKind::Reduce) return -1;
      if (n.kind == NodeKind::Load) {
        auto kind = [&](int v) { return v < int(n.strides.size()) ? n.strides[v].kind : StrideKind::Zero; };
        contiguous_inner = contiguous_inner || kind(inner_var) == StrideKind::One;
        strided_reduce = strided_reduce || kind(r.var) == StrideKind::Param;
      }
      for (int o : n.operands) stack.push_back(o);
    }
    return contiguous_inner && strided_reduce ? found : -1;
  }

  // ---- the row cache ------------------------------------------------------
  // A reduction along the output's last dimension that rebinds the column
  // variable (kernel.h) may have a body that the per-element expression
  // computes again: softmax's exp(x - max) is summed, then divided by the
  // sum. Its loop then also stores the body's value into the output row,
  // and the element loop reads it back instead of computing it again (one
  // exp per element instead of two); it overwrites that value with the
  // result, element by element. Rows belong to one thread each, so the row
  // is private scratch space until the element loop finishes it. Only for
  // a float output of the body's own dtype (stored exactly), and one
  // reduction per kernel (the last one the row computes that qualifies).
  void choose_row_cache() {
    int last = k_.rank - 1;
    if (s_.in_place >= 0 || (k_.output != float32 && k_.output != float64)) return;
    std::vector<char> elementwise = element_loop_nodes();
    uint64_t row_mask = bit(last) - 1;
    for (int i = int(k_.nodes.size()) - 1; i >= 0; --i) {
      const Node& r = k_.nodes[i];
      if (r.kind != NodeKind::Reduce || r.var != last || r.extent_param != k_.size_params[last] ||
          (s_.deps[i] & ~row_mask) != 0 || !elementwise[i])
        continue;
      const Node& body = k_.nodes[r.operands[0]];
      if (!elementwise[r.operands[0]] || body.dtype != k_.output || body.kind == NodeKind::Load ||
          body.kind == NodeKind::Gather || body.kind == NodeKind::Constant)
        continue;
      s_.row_cache = {i, r.operands[0]};
      return;
    }
  }

  // ---- prefetching the next row -------------------------------------------
  // A kernel that reduces along its rows (softmax, layernorm) reads each
  // row from memory in its first pass and then computes on it from the
  // cache: while it computes, memory would idle, and the hardware
  // prefetcher, which follows misses, does not run ahead into the next row.
  // So the last reduction of the row (softmax's exp and sum, layernorm's
  // sum of squares) runs in blocks of columns, each first prefetching into
  // L2 the same columns of the next row of every input read along the
  // rows. (Prefetches in the block loop itself would keep it from being
  // vectorized.)
  void choose_prefetch() {
    int last = k_.rank - 1;
    uint64_t row_mask = bit(last) - 1;
    int reduce = -1;
    for (int i = int(k_.nodes.size()) - 1; i >= 0 && reduce < 0; --i) {
      const Node& r = k_.nodes[i];
      if (r.kind == NodeKind::Reduce && r.var == last && r.extent_param == k_.size_params[last] &&
          (s_.deps[i] & ~row_mask) == 0)
        reduce = i;
    }
    if (reduce < 0) return;
    std::vector<int> loads;
    std::vector<bool> taken(k_.inputs.size());
    for (size_t i = 0; i < k_.nodes.size(); ++i) {
      const Node& n = k_.nodes[i];
      if (n.kind != NodeKind::Load || taken[n.arg] || n.arg == s_.in_place) continue;
      bool along_row = int(n.strides.size()) > last && n.strides[last].kind == StrideKind::One;
      bool next_row_differs = false, other_vars = false;
      for (size_t v = 0; v < n.strides.size(); ++v) {
        if (int(v) < last) next_row_differs = next_row_differs || n.strides[v].kind != StrideKind::Zero;
        if (int(v) > last) other_vars = other_vars || n.strides[v].kind != StrideKind::Zero;
      }
      if (along_row && next_row_differs && !other_vars) {
        taken[n.arg] = true;
        loads.push_back(int(i));
      }
    }
    if (!loads.empty()) s_.prefetch = {reduce, std::move(loads), kPrefetchBlock};
  }

  // ---- element loops --------------------------------------------------------
  // An element computed through a polynomial approximation (the CPU
  // emitter's, codegen/llvm/math.cpp; ScheduleOptions::long_chain_ops) is
  // one long chain of dependent operations; one vector of it at a time
  // leaves the core waiting on latencies (GELU: 40 instructions in 25
  // cycles). Four independent vectors per iteration keep it busy. Cheap
  // bodies are left to the vectorizer's own choice (they are bound by
  // memory).
  int element_loop_interleave() const {
    std::vector<char> in_loop = element_loop_nodes();
    for (size_t i = 0; i < k_.nodes.size(); ++i) {
      const Node& n = k_.nodes[i];
      if (in_loop[i] && (n.kind == NodeKind::Unary || n.kind == NodeKind::Binary) && is_floating(n.dtype) &&
          std::find(target_.long_chain_ops.begin(), target_.long_chain_ops.end(), n.op) != target_.long_chain_ops.end())
        return kInterleave;
    }
    return 0;
  }

  // The nodes the element loop evaluates itself: those the root reaches
  // without entering a reduction's body (the reductions themselves are in
  // it; their bodies run in their own loops, hoisted out of this one).
  std::vector<char> element_loop_nodes() const {
    std::vector<char> in_loop(k_.nodes.size());
    std::vector<int> stack{k_.root};
    for (const auto& e : k_.extra_outputs) stack.push_back(e.node);
    while (!stack.empty()) {
      int i = stack.back();
      stack.pop_back();
      if (in_loop[i]) continue;
      in_loop[i] = 1;
      if (k_.nodes[i].kind != NodeKind::Reduce)
        for (int o : k_.nodes[i].operands) stack.push_back(o);
    }
    return in_loop;
  }

  // ---- the output -------------------------------------------------------------
  // Non-temporal output stores where the output is far larger than the
  // caches and each row is read several times: a line written that way goes
  // to memory without first being read into the cache, a third less memory
  // traffic. Elementwise kernels stream well as they are (measured: no
  // gain). A row cache already brings the output row into the cache:
  // streaming it out again measured no faster there.
  void choose_streaming() {
    s_.stream_output = target_.streaming_stores && s_.range == RangeKind::Rows &&
                       (k_.output == float32 || k_.output == float64) && use_.output_bytes >= kStreamBytes &&
                       s_.row_cache.reduce < 0;
    if (s_.stream_output) s_.stream_block = kStreamBlock;
  }

  const Kernel& k_;
  ScheduleOptions target_;
  KernelUse use_;
  Schedule s_;
};

std::string vars_to_string(uint64_t mask) {
  std::string s = "{";
  for (int v = 0; v < 64; ++v)
    if (mask >> v & 1) s += (s.size() > 1 ? "," : "") + std::string("v") + std::to_string(v);
  return s + "}";
}

std::string nodes_to_string(const std::vector<int>& nodes) {
  std::string s;
  for (int n : nodes) s += " n" + std::to_string(n);
  return s;
}

}  // namespace

Schedule schedule_kernel(const Kernel& k, const ScheduleOptions& target, const KernelUse& use) {
  return Scheduler(k, target, use).run();
}

std::string Schedule::to_string(const std::string& indent) const {
  std::ostringstream os;
  if (!scheduled()) {
    os << indent << "not scheduled\n";
    return os.str();
  }
  const char* ranges[] = {"single", "elements", "rows"};
  os << indent << "range " << ranges[int(range)] << "\n";
  os << indent << "deps";
  for (size_t i = 0; i < deps.size(); ++i) os << (i ? ", n" : " n") << i << " " << vars_to_string(deps[i]);
  os << "\n";
  if (!hoisted.empty())
    os << indent << "hoisted " << (range == RangeKind::Rows ? "per row:" : "per call:") << nodes_to_string(hoisted) << "\n";
  for (const auto& [node, r] : reductions) {
    os << indent << "reduce n" << node << " at " << vars_to_string(r.level) << ", accumulator "
       << dtype_short_name(r.accumulator);
    if (r.vector_width) os << ", vector width " << r.vector_width;
    if (!r.hoisted.empty()) os << ", hoisted before it" << nodes_to_string(r.hoisted);
    os << "\n";
  }
  if (column.reduce >= 0) os << indent << "column reduction n" << column.reduce << ", block " << column.block << "\n";
  if (row_cache.reduce >= 0)
    os << indent << "row cache n" << row_cache.node << " stored by n" << row_cache.reduce << "\n";
  if (prefetch.reduce >= 0)
    os << indent << "prefetch next row of" << nodes_to_string(prefetch.loads) << " in n" << prefetch.reduce
       << ", block " << prefetch.block << "\n";
  if (interleave) os << indent << "interleave " << interleave << "\n";
  if (in_place >= 0) os << indent << "output in place of arg" << in_place << "\n";
  if (stream_output) os << indent << "output streamed, block " << stream_block << "\n";
  return os.str();
}

}  // namespace kiln::kernel
