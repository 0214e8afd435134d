#include "passes/fusion.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "ir/element.h"
#include "ir/printer.h"
#include "passes/loop_collapse.h"
#include "passes/lower.h"
#include "passes/multi_output.h"

namespace kiln::passes {

namespace {

using ir::Function;
using ir::Op;
using ir::OpKind;
using ir::Shape;

// The CPU backend's (codegen/llvm/cpu_backend.cpp): ops that a device
// cannot compute run as host kernels where these allow.
const runtime::Capabilities kHostCapabilities{};

constexpr int kMaxKernelDepth = 200;  // fused ops along one path
constexpr int64_t kMaxDuplicatedCost = 8;  // ops worth recomputing per extra user

// Ops computed by approximations in kernels (codegen/llvm/math.h).
bool is_approximated(OpKind k) {
  switch (k) {
    case OpKind::Exp: case OpKind::Expm1: case OpKind::Log: case OpKind::Log2: case OpKind::Log10:
    case OpKind::Log1p: case OpKind::Sin: case OpKind::Cos: case OpKind::Tan: case OpKind::Arcsin:
    case OpKind::Arccos: case OpKind::Arctan: case OpKind::Sinh: case OpKind::Cosh: case OpKind::Tanh:
    case OpKind::Arcsinh: case OpKind::Arccosh: case OpKind::Arctanh: case OpKind::Sigmoid: case OpKind::Erf:
    case OpKind::Erfinv: case OpKind::Power: case OpKind::Arctan2: case OpKind::LogAddExp:
      return true;
    // Exact in kernels (an instruction or a few).
    case OpKind::Abs: case OpKind::Negative: case OpKind::Sign: case OpKind::Square:
    case OpKind::Sqrt: case OpKind::Rsqrt: case OpKind::Floor: case OpKind::Ceil:
    case OpKind::Round: case OpKind::LogicalNot: case OpKind::BitwiseInvert:
    case OpKind::StopGradient: case OpKind::Cast:
    case OpKind::Add: case OpKind::Subtract: case OpKind::Multiply: case OpKind::Divide:
    case OpKind::FloorDivide: case OpKind::Remainder: case OpKind::Maximum: case OpKind::Minimum:
    case OpKind::LogicalAnd: case OpKind::LogicalOr: case OpKind::BitwiseAnd:
    case OpKind::BitwiseOr: case OpKind::BitwiseXor: case OpKind::LeftShift:
    case OpKind::RightShift:
    case OpKind::Constant: case OpKind::Select: case OpKind::Argmax: case OpKind::Argmin: case OpKind::Bitcast:
    case OpKind::Matmul: case OpKind::Custom: case OpKind::Linalg:
    KILN_FFT_QUANT_OPS(KILN_OP_CASE)
    KILN_COMPARISON_OPS(KILN_OP_CASE)
    KILN_REDUCTION_OPS(KILN_OP_CASE)
    KILN_MOVEMENT_OPS(KILN_OP_CASE)
    KILN_SCAN_SORT_OPS(KILN_OP_CASE)  // host kernels (codegen/host_scan_sort.cpp)
    KILN_SCATTER_OPS(KILN_OP_CASE)
      return false;
  }
  return false;
}

// Whether a backend with `caps` can compute the dtype in kernels.
bool kernels_hold(Dtype t, const runtime::Capabilities& caps) {
  if (is_complex(t)) return false;
  if (t == float64) return caps.float64;
  if (t == float16 || t == bfloat16) return caps.float16;
  return true;
}

bool is_take(OpKind k) { return k == OpKind::Take || k == OpKind::TakeAlongAxis; }

// The views a fused take reads its source through (lower.cpp, gather):
// transposes, slices and broadcasts, then reshapes of a buffer.
bool gathers_through(OpKind k, bool after_reshape) {
  return k == OpKind::Reshape ||
         (!after_reshape && (k == OpKind::Transpose || k == OpKind::Slice || k == OpKind::Broadcast));
}

// Whether a take can be a kernel's indirect load: the backend has them,
// the axis is not empty (the interpreter's error), and its source is not a
// splat constant (which kernels hold as a scalar, not a buffer).
bool is_fusible_take(const Function& f, const Op& op, const runtime::Capabilities& caps) {
  if (!caps.gather_loads) return false;
  int x = op.operands[0];
  if (f.value_type(x).shape[size_t(op.int_attr("axis"))] == 0) return false;
  bool after_reshape = false;
  while (!f.is_input(x) && gathers_through(f.def(x).kind, after_reshape)) {
    after_reshape = after_reshape || f.def(x).kind == OpKind::Reshape;
    x = f.def(x).operands[0];
  }
  return f.is_input(x) || f.def(x).kind != OpKind::Constant || !is_splat(f.def(x));
}

// Ops the kernel emitters implement, as far as the backend's capabilities
// allow. Complex values, integer power and narrowing casts from float64
// to 16-bit floats run as host ops.
bool is_fusible(const Function& f, const Op& op, const runtime::Capabilities& caps) {
  if (op.kind == OpKind::Constant) return false;
  if (!kernels_hold(op.type.dtype, caps)) return false;
  for (int o : op.operands)
    if (!kernels_hold(f.value_type(o).dtype, caps)) return false;
  if (!caps.approximations && is_approximated(op.kind)) return false;
  if (op.kind == OpKind::Power && !is_floating(op.type.dtype)) return false;
  if (op.kind == OpKind::Cast && f.value_type(op.operands[0]).dtype == float64 &&
      (op.type.dtype == float16 || op.type.dtype == bfloat16))
    return false;
  if (is_take(op.kind)) return is_fusible_take(f, op, caps);
  // A merging reshape needs its operand in memory, where it is only a new
  // name for the same bytes: a host op that costs nothing (a kernel would
  // copy them, and a consumer reading it through index arithmetic gains
  // nothing over reading the buffer).
  if (op.kind == OpKind::Reshape && !is_splitting_reshape(f.value_type(op.operands[0]).shape, op.type.shape))
    return false;
  return ir::is_elementwise(op.kind) || ir::is_view(op.kind) || ir::is_reduction(op.kind);
}

// For an operand of a float32/float64 matmul that is a transpose of its
// last two axes, the value transposed: BLAS reads it transposed in place.
// -1 otherwise.
int blas_transpose_source(const Function& f, const Op& op, int operand) {
  if (op.kind != OpKind::Matmul || (op.type.dtype != float32 && op.type.dtype != float64) ||
      f.is_input(operand))
    return -1;
  const Op& t = f.def(operand);
  if (t.kind != OpKind::Transpose) return -1;
  const auto& perm = t.ints_attr("perm");
  size_t n = perm.size();
  for (size_t i = 0; i + 2 < n; ++i)
    if (perm[i] != int64_t(i)) return -1;
  if (n < 2 || perm[n - 2] != int64_t(n - 1) || perm[n - 1] != int64_t(n - 2)) return -1;
  return t.operands[0];
}

}  // namespace

Plan partition(const Function& f, const runtime::Capabilities& caps) {
  int n_in = int(f.inputs.size());
  // A returned reshape of a host op's result (a convolution's output, the
  // product's rows split back into images) is that result's buffer under
  // a new shape, as a merging reshape is: a kernel would copy it.
  std::set<int> outputs(f.outputs.begin(), f.outputs.end());
  auto renames_host_result = [&](const Op& op) {
    if (op.kind != OpKind::Reshape || f.is_input(op.operands[0]) || !outputs.count(n_in + int(&op - f.ops.data())))
      return false;
    const Op& src = f.def(op.operands[0]);
    return src.kind != OpKind::Constant && !is_fusible(f, src, caps) && !is_fusible(f, src, kHostCapabilities);
  };
  auto fusible = [&](const Op& op) { return is_fusible(f, op, caps) && !renames_host_result(op); };
  std::vector<std::set<int>> users(f.num_values());
  for (size_t i = 0; i < f.ops.size(); ++i)
    for (int o : f.ops[i].operands) users[o].insert(n_in + int(i));

  std::map<int, std::string> reason;  // the materialized values
  for (int v : f.outputs) reason.emplace(v, "output");
  if (!caps.fuse)
    for (size_t i = 0; i < f.ops.size(); ++i)
      if (f.ops[i].kind != OpKind::Constant) reason.emplace(n_in + int(i), "fusion off (no_fuse)");
  for (size_t i = 0; i < f.ops.size(); ++i) {
    const Op& op = f.ops[i];
    if (op.kind != OpKind::Constant && !fusible(op))
      for (int o : op.operands) {
        int src = blas_transpose_source(f, op, o);
        reason.emplace(src >= 0 ? src : o, std::string("feeds host op ") + ir::op_name(op.kind));
      }
    // A reduction of a reduction: the inner one is computed on its own, so
    // that each runs with its own range split among threads (a sum over
    // the batch, then over the rows of that, is a bias's gradient; fused,
    // its few outputs would leave every row to one thread).
    if (ir::is_reduction(op.kind) && fusible(op) && !f.is_input(op.operands[0]) &&
        ir::is_reduction(f.def(op.operands[0]).kind) && fusible(f.def(op.operands[0])))
      reason.emplace(op.operands[0], "reduced again");
    // A fused take loads from a buffer at a data-dependent index: its
    // source is read in memory, through the views lowering folds into the
    // load's offset (gathers_through).
    if (is_take(op.kind) && fusible(op)) {
      int x = op.operands[0];
      bool after_reshape = false;
      while (!f.is_input(x) && !reason.count(x) && f.def(x).kind != OpKind::Constant && fusible(f.def(x))) {
        if (!gathers_through(f.def(x).kind, after_reshape)) {
          reason.emplace(x, std::string("gathered by ") + ir::op_name(op.kind));
          break;
        }
        after_reshape = after_reshape || f.def(x).kind == OpKind::Reshape;
        x = f.def(x).operands[0];
      }
    }
  }
  // A value read by several consumers is recomputed in each of them only
  // when that is cheap: no reduction in it and a small fused tree. Else it
  // is computed once (and long update chains, w = w - lr * g repeated, do
  // not grow into ever larger, ever new kernels). Consumers that all end up
  // in the same kernel share it for free (a row's max in softmax is computed
  // once per row), so only values feeding several kernels count.
  std::vector<bool> has_reduction(f.num_values());
  std::vector<int64_t> cost(f.num_values());
  std::vector<int> loop_vars(f.num_values());  // reduction loops in the fused tree
  std::vector<std::set<int>> buffers_read(f.num_values());
  for (size_t i = 0; i < f.ops.size(); ++i) {
    const Op& op = f.ops[i];
    int v = n_in + int(i);
    if (!fusible(op)) continue;
    // A reduction broadcast along any axis but the consumer's last would be
    // recomputed for every row of the consumer (x - mean(x, 0)): compute it
    // once instead. Broadcasting along the last axis (softmax) is free: the
    // row's value is hoisted out of the inner loop.
    if (op.kind == OpKind::Broadcast) {
      int o = op.operands[0];
      const Shape& s = f.value_type(o).shape;
      const Shape& t = op.type.shape;
      bool across_rows = false;
      for (size_t d = 0; d + 1 < t.size(); ++d) {
        size_t lead = t.size() - s.size();
        across_rows = across_rows || d < lead || (s[d - lead] == 1 && t[d] != 1);
      }
      if (across_rows && has_reduction[o] && !reason.count(o)) reason.emplace(o, "reduction broadcast across rows");
      // Likewise a costly elementwise value (a max pool's gradient divides
      // by each window's tie count, 25 ops over four taps, and broadcasts
      // it over the window's elements): computed once rather than once per
      // element it reaches. (A single element is computed once per kernel
      // anyway: its value is hoisted out of every loop.)
      if (across_rows && !has_reduction[o] && cost[o] > kMaxDuplicatedCost &&
          f.value_type(o).size() > 1 && !reason.count(o))
        reason.emplace(o, "costly value broadcast across rows");
    }
    // Each reduced axis is a loop variable of the kernel; keep well below
    // the emitter's 64 (an L2 penalty summing 70 parameters, say).
    int vars = ir::is_reduction(op.kind) ? int(op.ints_attr("axes").size()) : 0;
    for (int o : op.operands)
      if (!reason.count(o)) vars += loop_vars[o];
    if (vars > 32) {
      for (int o : op.operands)
        if (!reason.count(o) && loop_vars[o] > 0) reason.emplace(o, "kernel size limit");
      vars = ir::is_reduction(op.kind) ? int(op.ints_attr("axes").size()) : 0;
    }
    loop_vars[v] = vars;
    // The buffers the fused tree reads stay within the backend's argument
    // limit (kept exactly only up to the limit: past it, the operands are
    // materialized and the set starts afresh).
    auto read_by = [&](int o) {
      bool buffer = f.is_input(o) || reason.count(o) || !fusible(f.def(o));
      if (buffer && !f.is_input(o) && f.def(o).kind == OpKind::Constant) return std::set<int>{};
      return buffer ? std::set<int>{o} : buffers_read[o];
    };
    std::set<int> reads;
    for (int o : op.operands) reads.merge(read_by(o));
    if (int64_t(reads.size()) > caps.max_kernel_inputs) {
      reads.clear();
      for (int o : op.operands) {
        if (read_by(o).size() > 1) reason.emplace(o, "kernel argument limit");
        reads.merge(read_by(o));
      }
    }
    buffers_read[v] = std::move(reads);
    bool r = ir::is_reduction(op.kind);
    int64_t c = 1;
    for (int o : op.operands) {
      if (reason.count(o)) continue;
      r = r || has_reduction[o];
      c = std::min<int64_t>(c + cost[o], 1 << 20);
    }
    has_reduction[v] = r;
    cost[v] = c;
  }
  // The kernel each value is computed in (its root), from the last op back:
  // -1 none yet, -2 several.
  std::vector<int> root(f.num_values(), -1);
  for (int v = f.num_values() - 1; v >= n_in; --v) {
    const Op& op = f.def(v);
    if (op.kind == OpKind::Constant || !fusible(op) || reason.count(v)) {
      root[v] = v;
      continue;
    }
    int r = -1;
    for (int u : users[v]) {
      int ru = root[u];
      r = r == -1 ? ru : (r == ru ? r : -2);
    }
    root[v] = r;
    if (r != -2) continue;
    if (has_reduction[v]) {
      // Materialize below broadcasts and reshapes: the reduced value is
      // smaller than its broadcast (sum [3], not its [8,3] broadcast).
      int m = v;
      while (f.def(m).kind == OpKind::Broadcast || f.def(m).kind == OpKind::Reshape) {
        int src = f.def(m).operands[0];
        if (f.is_input(src) || reason.count(src) || users[src].size() != 1 || !has_reduction[src]) break;
        m = src;
      }
      reason.emplace(m, "shared reduction (" + std::to_string(users[v].size()) + " users)");
      root[v] = v;
    } else if (cost[v] > kMaxDuplicatedCost) {
      reason.emplace(v, "shared value (" + std::to_string(users[v].size()) + " users, " +
                            std::to_string(cost[v]) + " ops)");
      root[v] = v;
    }
  }

  // Bound the size of one kernel: very long chains (a loop building 10^5
  // ops) would make huge functions and deep recursion in the emitter.
  std::vector<int> depth(f.num_values());
  for (size_t i = 0; i < f.ops.size(); ++i) {
    const Op& op = f.ops[i];
    int v = n_in + int(i);
    if (!fusible(op)) continue;
    int d = 0;
    for (int o : op.operands) d = std::max(d, reason.count(o) ? 0 : depth[o]);
    depth[v] = d + 1;
    if (depth[v] >= kMaxKernelDepth) {
      reason.emplace(v, "kernel size limit");
      depth[v] = 0;
    }
  }

  Plan plan;
  for (size_t i = 0; i < f.ops.size(); ++i) {
    const Op& op = f.ops[i];
    int v = n_in + int(i);
    if (op.kind == OpKind::Constant) continue;
    if (!fusible(op) && is_fusible(f, op, kHostCapabilities) && !renames_host_result(op)) {
      Step s;
      s.kind = Step::Kernel;
      s.on_host = true;
      s.value = v;
      s.reason = "not computable on the device";
      plan.steps.push_back(std::move(s));
    } else if (!fusible(op)) {
      Step s;
      s.kind = Step::HostOp;
      for (size_t i = 0; i < op.operands.size(); ++i) {
        int src = blas_transpose_source(f, op, op.operands[i]);
        s.args.push_back(src >= 0 ? src : op.operands[i]);
        if (i < 2) s.transposed[i] = src >= 0;
      }
      s.value = v;
      s.reason = reason.count(v) ? reason[v] : "host op";
      plan.steps.push_back(std::move(s));
    } else if (reason.count(v)) {
      Step s;
      s.kind = Step::Kernel;
      s.value = v;
      s.reason = reason[v];
      plan.steps.push_back(std::move(s));
    }
  }
  return plan;
}

kernel::ScheduleOptions schedule_options(const runtime::Capabilities& caps) {
  kernel::ScheduleOptions o;
  o.prefetch = caps.prefetch;
  o.streaming_stores = caps.streaming_stores;
  return o;
}

Plan plan_fusion(const Function& f, const runtime::Capabilities& caps) {
  Plan plan = partition(f, caps);
  lower_kernels(f, plan);
  merge_output_kernels(f, plan, caps);
  collapse_loops(plan);
  for (Step& s : plan.steps)
    if (s.kind == Step::Kernel)
      s.kernel.schedule = kernel::schedule_kernel(s.kernel, schedule_options(s.on_host ? kHostCapabilities : caps),
                                                  {-1, f.value_type(s.value).nbytes()});
  return plan;
}

bool is_splitting_reshape(const Shape& in, const Shape& out) {
  Shape a, b;
  for (auto d : in) if (d != 1) a.push_back(d);
  for (auto d : out) if (d != 1) b.push_back(d);
  size_t j = 0;
  for (auto d : a) {
    if (d == 0) return false;
    int64_t prod = 1;
    while (j < b.size() && prod < d) prod *= b[j++];
    if (prod != d) return false;
  }
  return j == b.size();
}

int64_t stride_value(const Step& st, const kernel::Stride& s) {
  switch (s.kind) {
    case kernel::StrideKind::Zero: return 0;
    case kernel::StrideKind::One: return 1;
    case kernel::StrideKind::Param: return st.params[size_t(s.param)];
  }
  return 0;
}

std::vector<int> kernel_shape(const Step& st) {
  std::vector<int> shape;
  for (int p : st.kernel.size_params) shape.push_back(int(st.params[size_t(p)]));
  return shape;
}

bool is_splat(const Op& op) {
  if (op.kind != OpKind::Constant || op.type.size() == 0) return false;
  const char* p = static_cast<const char*>(op.data->data());
  size_t w = op.type.dtype.size();
  for (int64_t i = 1; i < op.type.size(); ++i)
    if (std::memcmp(p, p + i * w, w) != 0) return false;
  return true;
}


std::string plan_to_string(const Function& f, const Plan& p) {
  std::ostringstream os;
  int kernels = 0;
  for (auto& s : p.steps) kernels += s.kind == Step::Kernel;
  os << "// fusion: " << f.ops.size() << " ops -> " << kernels << " kernels, "
     << p.steps.size() - kernels << " host ops\n";
  for (auto& s : p.steps) {
    os << "%" << s.value << " : " << ir::type_to_string(f.value_type(s.value)) << "  ["
       << s.reason << "]  ";
    if (s.kind == Step::HostOp) {
      os << "host " << ir::op_name(f.def(s.value).kind) << "(";
      for (size_t i = 0; i < s.args.size(); ++i)
        os << (i ? ", " : "") << "%" << s.args[i] << (i < 2 && s.transposed[i] ? "^T" : "");
      os << ")\n";
    } else {
      os << (s.on_host ? "host kernel(" : "kernel(");
      for (size_t i = 0; i < s.args.size(); ++i)
        os << (i ? ", " : "") << (s.kernel.writes_arg(int(i)) ? "out %" : "%") << s.args[i];
      os << ")\n" << s.kernel.to_string();
    }
  }
  return os.str();
}

}  // namespace kiln::passes
