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

namespace kiln::passes {

namespace {

using ir::Function;
using ir::Op;
using ir::OpKind;
using ir::Shape;

constexpr int kMaxKernelDepth = 200;  // fused ops along one path
constexpr int64_t kMaxDuplicatedCost = 8;  // ops worth recomputing per extra user

bool is_view(OpKind k) {
  return k == OpKind::Broadcast || k == OpKind::Transpose || k == OpKind::Slice || k == OpKind::Reshape;
}

// True for a constant whose elements are all equal (it becomes a scalar in
// the kernel instead of a buffer).
bool is_splat(const Op& op) {
  if (op.kind != OpKind::Constant || op.type.size() == 0) return false;
  const char* p = static_cast<const char*>(op.data->data());
  size_t w = op.type.dtype.size();
  for (int64_t i = 1; i < op.type.size(); ++i)
    if (std::memcmp(p, p + i * w, w) != 0) return false;
  return true;
}

// Ops the kernel emitter implements. Complex values, integer power and
// narrowing casts from float64 to 16-bit floats run as host ops.
bool is_fusible(const Function& f, const Op& op) {
  if (op.kind == OpKind::Constant) return false;
  if (is_complex(op.type.dtype)) return false;
  for (int o : op.operands)
    if (is_complex(f.value_type(o).dtype)) return false;
  if (op.kind == OpKind::Power && !is_floating(op.type.dtype)) return false;
  if (op.kind == OpKind::Erfinv) return false;  // no inline form yet
  if (op.kind == OpKind::Cast && f.value_type(op.operands[0]).dtype == float64 &&
      (op.type.dtype == float16 || op.type.dtype == bfloat16))
    return false;
  return ir::is_elementwise(op.kind) || is_view(op.kind) || ir::is_reduction(op.kind);
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

// A reshape that only splits dimensions (and adds/drops size-1 ones) is an
// affine re-indexing; one that merges dimensions needs its operand in memory.
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

// An affine function of the kernel's loop variables.
struct Affine {
  int64_t c = 0;
  std::map<int, int64_t> coef;  // variable -> coefficient
  static Affine var(int v) { Affine a; a.coef[v] = 1; return a; }
  static Affine constant(int64_t c) { Affine a; a.c = c; return a; }
  Affine scaled(int64_t s) const {
    Affine a;
    a.c = c * s;
    for (auto [v, k] : coef) if (k * s != 0) a.coef[v] = k * s;
    return a;
  }
  Affine plus(const Affine& o) const {
    Affine a = *this;
    a.c += o.c;
    for (auto [v, k] : o.coef) {
      a.coef[v] += k;
      if (!a.coef[v]) a.coef.erase(v);
    }
    return a;
  }
  std::string str() const {
    std::string s = std::to_string(c);
    for (auto [v, k] : coef) s += "+" + std::to_string(k) + "v" + std::to_string(v);
    return s;
  }
};
using Index = std::vector<Affine>;  // one per dimension of a value

class KernelBuilder {
 public:
  KernelBuilder(const Function& f, const std::set<int>& materialized, Step& step)
      : f_(f), m_(materialized), step_(step), k_(step.kernel) {}

  void build(int root) {
    root_ = root;
    const ir::Type& t = f_.value_type(root);
    k_.output = t.dtype;
    k_.rank = int(t.shape.size());
    k_.num_vars = k_.rank;
    for (auto d : t.shape) k_.size_params.push_back(param(d));
    Index idx;
    for (int d = 0; d < k_.rank; ++d) idx.push_back(Affine::var(d));
    k_.root = emit(root, idx);
    for (auto& n : k_.nodes)
      if (n.kind == kernel::NodeKind::Load) n.strides.resize(k_.num_vars);
  }

 private:
  int param(int64_t v) {
    step_.params.push_back(v);
    return k_.num_params++;
  }

  int add(kernel::Node n) {
    k_.nodes.push_back(std::move(n));
    return int(k_.nodes.size()) - 1;
  }

  bool is_buffer(int v) const {
    if (f_.is_input(v) || (m_.count(v) && v != root_)) return true;
    const Op& op = f_.def(v);
    if (op.kind == OpKind::Constant) return !is_splat(op);
    return !is_fusible(f_, op);  // host ops write their result to memory
  }

  // A load of buffer value v (row-major) at idx.
  int load(int v, const Index& idx) {
    auto rs = ir::row_major_strides(f_.value_type(v).shape);
    Affine off;
    for (size_t d = 0; d < idx.size(); ++d) off = off.plus(idx[d].scaled(rs[d]));
    return load_flat(v, off);
  }

  // A load of buffer value v at element offset `off`.
  int load_flat(int v, const Affine& off) {
    const ir::Type& t = f_.value_type(v);
    kernel::Node n;
    n.kind = kernel::NodeKind::Load;
    n.dtype = t.dtype;
    auto it = arg_of_.find(v);
    if (it == arg_of_.end()) {
      it = arg_of_.emplace(v, int(k_.inputs.size())).first;
      k_.inputs.push_back(t.dtype);
      step_.args.push_back(v);
    }
    n.arg = it->second;
    n.offset_param = param(off.c);
    for (auto [var, c] : off.coef) {
      if (int(n.strides.size()) <= var) n.strides.resize(var + 1);
      // A unit stride matters (it vectorizes) along the innermost output
      // dimension and along reductions; elsewhere it stays a parameter.
      bool unit_matters = var == k_.rank - 1 || var >= k_.rank;
      if (c == 1 && unit_matters) n.strides[var] = {kernel::StrideKind::One, -1};
      else n.strides[var] = {kernel::StrideKind::Param, param(c)};
    }
    return add(std::move(n));
  }

  int emit(int v, const Index& idx) {
    std::string key = std::to_string(v) + "@";
    for (auto& a : idx) key += a.str() + ",";
    auto memo = memo_.find(key);
    if (memo != memo_.end()) return memo->second;
    int id = emit_uncached(v, idx);
    memo_[key] = id;
    return id;
  }

  int emit_uncached(int v, const Index& idx) {
    if (is_buffer(v)) return load(v, idx);
    const Op& op = f_.def(v);
    kernel::Node n;
    n.kind = kernel::NodeKind::Unary;
    n.op = op.kind;
    n.dtype = op.type.dtype;
    switch (op.kind) {
      case OpKind::Constant:
        return constant(op, /*baked=*/false);
      case OpKind::Broadcast: {
        const Shape& s = f_.value_type(op.operands[0]).shape;
        size_t lead = op.type.shape.size() - s.size();
        Index in;
        for (size_t d = 0; d < s.size(); ++d)
          in.push_back(s[d] == 1 ? Affine::constant(0) : idx[d + lead]);
        return emit(op.operands[0], in);
      }
      case OpKind::Transpose: {
        const auto& perm = op.ints_attr("perm");
        Index in(idx.size());
        for (size_t i = 0; i < perm.size(); ++i) in[perm[i]] = idx[i];
        return emit(op.operands[0], in);
      }
      case OpKind::Slice: {
        const auto& start = op.ints_attr("start");
        const auto& strides = op.ints_attr("strides");
        Index in;
        for (size_t d = 0; d < idx.size(); ++d)
          in.push_back(Affine::constant(start[d]).plus(idx[d].scaled(strides[d])));
        return emit(op.operands[0], in);
      }
      case OpKind::Reshape: {
        int src = op.operands[0];
        // A reshape of a row-major buffer reads it with the new shape's strides.
        if (is_buffer(src)) {
          Affine flat;
          auto rs = ir::row_major_strides(op.type.shape);
          for (size_t d = 0; d < idx.size(); ++d) flat = flat.plus(idx[d].scaled(rs[d]));
          return load_flat(src, flat);
        }
        return emit(src, split_index(idx, op.type.shape, f_.value_type(src).shape));
      }
      default:
        break;
    }
    if (ir::is_reduction(op.kind) && op.ints_attr("axes").empty()) {
      // Reducing no axis (a 0-d operand, or an empty axes list) is the
      // identity, up to the result's dtype (sum of bool is int32).
      n.op = OpKind::Cast;
      n.operands = {emit(op.operands[0], idx)};
      return add(std::move(n));
    }
    if (ir::is_reduction(op.kind)) {
      const auto& axes = op.ints_attr("axes");
      const Shape& s = f_.value_type(op.operands[0]).shape;
      Index in(s.size());
      size_t kept = 0;
      std::vector<int> vars;
      int column = reuses_column(idx, s[axes.back()]) ? k_.rank - 1 : -1;
      for (size_t d = 0; d < s.size(); ++d) {
        if (std::find(axes.begin(), axes.end(), int64_t(d)) != axes.end()) {
          int var = int64_t(d) == axes.back() && column >= 0 ? column : k_.num_vars++;
          vars.push_back(var);
          in[d] = Affine::var(var);
        } else {
          in[d] = idx[kept++];
        }
      }
      // Nested reductions, the last axis innermost.
      int body = emit(op.operands[0], in);
      for (int i = int(vars.size()) - 1; i >= 0; --i) {
        kernel::Node r;
    r.kind = kernel::NodeKind::Reduce;
        r.op = op.kind;
        // Partial results of a multi-axis reduction of 16-bit floats stay in
        // float32; only the outermost rounds to the result type.
        bool half = op.type.dtype == float16 || op.type.dtype == bfloat16;
        r.dtype = half && i > 0 ? float32 : op.type.dtype;
        r.operands = {body};
        r.var = vars[i];
        r.extent_param = r.var == column ? k_.size_params[column] : param(s[axes[i]]);
        body = add(std::move(r));
      }
      return body;
    }
    if (op.kind == OpKind::Select) n.kind = kernel::NodeKind::Select;
    else if (op.operands.size() == 2) n.kind = kernel::NodeKind::Binary;
    // x / 2^k is x * 2^-k, exactly (both are the correctly rounded x·2^-k):
    // a multiply instead of a division, which LLVM did itself while the
    // constant was in the code.
    if (op.kind == OpKind::Divide && is_floating(op.type.dtype)) {
      if (std::optional<double> r = exact_reciprocal(scalar_constant(op.operands[1]))) {
        n.op = OpKind::Multiply;
        n.operands = {emit(op.operands[0], idx), constant(op.type.dtype, *r, 0, /*baked=*/false)};
        return add(std::move(n));
      }
    }
    for (size_t i = 0; i < op.operands.size(); ++i) {
      const Op* c = bakes_operand(op, i) ? scalar_constant(op.operands[i]) : nullptr;
      n.operands.push_back(c ? constant(*c, /*baked=*/true) : emit(op.operands[i], idx));
    }
    return add(std::move(n));
  }

  // The node of a scalar constant: its value is a kernel parameter, unless
  // `baked` (kernel.h).
  int constant(Dtype t, double fvalue, int64_t ivalue, bool baked) {
    kernel::Node n;
    n.kind = kernel::NodeKind::Constant;
    n.dtype = t;
    n.fvalue = fvalue;
    n.ivalue = ivalue;
    if (!baked) {
      int64_t bits = ivalue;
      if (is_floating(t)) std::memcpy(&bits, &fvalue, sizeof bits);
      n.value_param = param(bits);
    }
    return add(std::move(n));
  }
  int constant(const Op& op, bool baked) {
    Dtype t = op.type.dtype;
    const void* p = op.data->data();
    return constant(t, load_f64(t, p, 0), is_unsigned(t) ? int64_t(load_u64(t, p, 0)) : load_i64(t, p, 0), baked);
  }

  // Whether operand i of op, when it is a constant, is built into the
  // kernel rather than passed as a parameter: where LLVM turns a known
  // value into much cheaper code (measured, README "Caching"):
  // - the divisor of an integer division or remainder: a multiply and
  //   shifts, vectorized, instead of a division instruction per element;
  // - the amount of an integer shift;
  // - a float power's exponent: its integer and parity tests fold away
  //   (7-10% on pow);
  // - a float maximum's or minimum's operand: against a value known not
  //   to be nan or zero, one vmaxps instead of nan and signed-zero
  //   handling for both operands (relu 12%, clip 2.2x in cache).
  // Everywhere else a constant as a parameter costs nothing: it is
  // loop-invariant, loaded once per call.
  static bool bakes_operand(const Op& op, size_t i) {
    bool fp = is_floating(op.type.dtype);
    switch (op.kind) {
      case OpKind::FloorDivide: case OpKind::Remainder: case OpKind::LeftShift: case OpKind::RightShift:
        return !fp && i == 1;
      case OpKind::Power:
        return fp && i == 1;
      case OpKind::Maximum: case OpKind::Minimum:
        return fp;
      default:
        return false;
    }
  }

  // 1 / c for a constant c (of op's dtype) that is a power of two whose
  // reciprocal that dtype holds exactly; else nothing.
  static std::optional<double> exact_reciprocal(const Op* c) {
    if (!c) return std::nullopt;
    Dtype t = c->type.dtype;
    double v = load_f64(t, c->data->data(), 0);
    int e = 0;
    if (!std::isfinite(v) || std::fabs(std::frexp(v, &e)) != 0.5) return std::nullopt;
    double r = 1.0 / v;
    alignas(8) char held[8];
    store_f64(t, held, 0, r);
    if (load_f64(t, held, 0) != r) return std::nullopt;
    return r;
  }

  // The splat constant that value v is, directly or through views, when it
  // is not read from a buffer; else null.
  const Op* scalar_constant(int v) const {
    while (!is_buffer(v)) {
      const Op& op = f_.def(v);
      if (op.kind == OpKind::Constant) return &op;
      if (!is_view(op.kind)) return nullptr;
      v = op.operands[0];
    }
    return nullptr;
  }

  // Whether a reduction read at `idx`, whose innermost reduced axis has
  // `extent` elements, binds the output's column variable (the last one)
  // as its own loop variable, instead of a new one. It may when it does not
  // depend on that variable otherwise, and it is worth it when the extents
  // agree: then the reduction's body at column c is literally the same
  // expression as the one the kernel's epilogue computes at column c
  // (softmax's exp(x - max) in its sum and in its output), the two share
  // nodes, and the emitter can keep that value in the output row instead
  // of computing it twice. The extent is then the output's own size
  // parameter, which makes the agreement part of the kernel's structure.
  bool reuses_column(const Index& idx, int64_t extent) const {
    if (k_.rank < 2 || extent != f_.value_type(root_).shape.back()) return false;
    for (const Affine& a : idx)
      if (a.coef.count(k_.rank - 1)) return false;
    return true;
  }

  // in-shape index from out-shape index for a reshape that splits dims.
  Index split_index(const Index& idx, const Shape& out, const Shape& in) {
    Index res(in.size(), Affine::constant(0));
    size_t j = 0;
    for (size_t d = 0; d < in.size(); ++d) {
      if (in[d] == 1) {
        continue;
      }
      // Skip size-1 output dims, then gather the run whose product is in[d].
      std::vector<size_t> run;
      int64_t prod = 1;
      while (j < out.size() && prod < in[d]) {
        if (out[j] != 1) {
          run.push_back(j);
          prod *= out[j];
        }
        ++j;
      }
      Affine a;
      int64_t scale = 1;
      for (int r = int(run.size()) - 1; r >= 0; --r) {
        a = a.plus(idx[run[r]].scaled(scale));
        scale *= out[run[r]];
      }
      res[d] = a;
    }
    return res;
  }

  const Function& f_;
  const std::set<int>& m_;
  Step& step_;
  kernel::Kernel& k_;
  std::map<int, int> arg_of_;
  int root_ = -1;
  std::map<std::string, int> memo_;
};

}  // namespace

Plan plan_fusion(const Function& f, const kernel::ScheduleOptions& target) {
  int n_in = int(f.inputs.size());
  std::vector<std::set<int>> users(f.num_values());
  for (size_t i = 0; i < f.ops.size(); ++i)
    for (int o : f.ops[i].operands) users[o].insert(n_in + int(i));

  std::map<int, std::string> reason;  // the materialized values
  for (int v : f.outputs) reason.emplace(v, "output");
  for (size_t i = 0; i < f.ops.size(); ++i) {
    const Op& op = f.ops[i];
    if (op.kind != OpKind::Constant && !is_fusible(f, op))
      for (int o : op.operands) {
        int src = blas_transpose_source(f, op, o);
        reason.emplace(src >= 0 ? src : o, std::string("feeds host op ") + ir::op_name(op.kind));
      }
    if (op.kind == OpKind::Reshape && !is_splitting_reshape(f.value_type(op.operands[0]).shape, op.type.shape))
      reason.emplace(op.operands[0], "read by a merging reshape");
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
  for (size_t i = 0; i < f.ops.size(); ++i) {
    const Op& op = f.ops[i];
    int v = n_in + int(i);
    if (!is_fusible(f, op)) continue;
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
    if (op.kind == OpKind::Constant || !is_fusible(f, op) || reason.count(v)) {
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
    if (!is_fusible(f, op)) continue;
    int d = 0;
    for (int o : op.operands) d = std::max(d, reason.count(o) ? 0 : depth[o]);
    depth[v] = d + 1;
    if (depth[v] >= kMaxKernelDepth) {
      reason.emplace(v, "kernel size limit");
      depth[v] = 0;
    }
  }

  std::set<int> materialized;
  for (auto& [v, why] : reason) materialized.insert(v);

  Plan plan;
  for (size_t i = 0; i < f.ops.size(); ++i) {
    const Op& op = f.ops[i];
    int v = n_in + int(i);
    if (op.kind == OpKind::Constant) continue;
    if (!is_fusible(f, op)) {
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
    } else if (materialized.count(v)) {
      Step s;
      s.kind = Step::Kernel;
      s.value = v;
      s.reason = reason[v];
      KernelBuilder(f, materialized, s).build(v);
      s.kernel.schedule = kernel::schedule_kernel(s.kernel, target, {-1, op.type.nbytes()});
      plan.steps.push_back(std::move(s));
    }
  }
  return plan;
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
      os << "kernel(";
      for (size_t i = 0; i < s.args.size(); ++i) os << (i ? ", " : "") << "%" << s.args[i];
      os << ")\n" << s.kernel.to_string();
    }
  }
  return os.str();
}

}  // namespace kiln::passes
