#include "passes/lower.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>

#include "ir/element.h"

namespace kiln::passes {

namespace {

using ir::Function;
using ir::Op;
using ir::OpKind;
using ir::Shape;

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
      if (n.kind == kernel::NodeKind::Load || n.kind == kernel::NodeKind::Gather) n.strides.resize(k_.num_vars);
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

  // Values that live in memory: inputs, constants other than splats, and
  // the values of other steps (kernels and host ops).
  bool is_buffer(int v) const {
    if (f_.is_input(v) || (m_.count(v) && v != root_)) return true;
    const Op& op = f_.def(v);
    return op.kind == OpKind::Constant && !is_splat(op);
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
      case OpKind::Take: case OpKind::TakeAlongAxis:
        return gather(op, idx);
      // Elementwise ops and reductions: below. The others never reach a
      // kernel (fusion's is_fusible keeps them out).
      case OpKind::Select: case OpKind::Argmax: case OpKind::Argmin: case OpKind::Bitcast: case OpKind::SliceUpdate:
      case OpKind::Concatenate: case OpKind::Pad:
      case OpKind::Matmul: case OpKind::Custom: case OpKind::Scatter: case OpKind::Linalg:
      KILN_SCAN_SORT_OPS(KILN_OP_CASE)
      KILN_FFT_QUANT_OPS(KILN_OP_CASE)
      KILN_UNARY_OPS(KILN_OP_CASE)
      KILN_BINARY_OPS(KILN_OP_CASE)
      KILN_COMPARISON_OPS(KILN_OP_CASE)
      KILN_REDUCTION_OPS(KILN_OP_CASE)
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

  // take / take_along_axis at output index idx: an indirect load (a
  // Gather node) of its source at the position its index node gives along
  // `axis`. The source is read through views (fusion.cpp, gathers_through:
  // transposes, slices and broadcasts, then reshapes) from a buffer; the
  // position enters the offset as pos * scale along source dimension
  // `dim`, or not at all where a broadcast made the axis size 1.
  int gather(const Op& op, const Index& idx) {
    int x = op.operands[0], indices = op.operands[1];
    const size_t axis = size_t(op.int_attr("axis"));
    const Shape& xs = f_.value_type(x).shape;
    const size_t index_rank = f_.value_type(indices).shape.size();
    Index at_indices, src;
    if (op.kind == OpKind::TakeAlongAxis) {
      at_indices = src = idx;
    } else {  // out = x.shape[:axis] + indices.shape + x.shape[axis+1:]
      at_indices.assign(idx.begin() + long(axis), idx.begin() + long(axis + index_rank));
      for (size_t d = 0; d < xs.size(); ++d)
        src.push_back(d < axis ? idx[d] : d == axis ? Affine{} : idx[d + index_rank - 1]);
    }
    src[axis] = Affine{};
    int index_node = emit(indices, at_indices);

    int v = x, dim = int(axis);
    int64_t scale = 1;
    bool flat = false;  // after a reshape: src[0] is the row-major offset, scale its stride
    while (!is_buffer(v)) {
      const Op& view = f_.def(v);
      if (flat && view.kind != OpKind::Reshape)
        throw std::logic_error("kiln lowering: a take reads a view of a reshape (fusion.cpp, gathers_through)");
      switch (view.kind) {
        case OpKind::Reshape:
          if (!flat) {
            auto rs = ir::row_major_strides(view.type.shape);
            Affine off;
            for (size_t d = 0; d < src.size(); ++d) off = off.plus(src[d].scaled(rs[d]));
            scale = dim < 0 ? 0 : scale * rs[size_t(dim)];
            src = {off};
            dim = 0;
            flat = true;
          }
          break;
        case OpKind::Transpose: {
          const auto& perm = view.ints_attr("perm");
          Index moved(src.size());
          for (size_t i = 0; i < perm.size(); ++i) moved[size_t(perm[i])] = src[i];
          if (dim >= 0) dim = int(perm[size_t(dim)]);
          src = std::move(moved);
          break;
        }
        case OpKind::Slice: {
          const auto& start = view.ints_attr("start");
          const auto& strides = view.ints_attr("strides");
          for (size_t d = 0; d < src.size(); ++d) src[d] = Affine::constant(start[d]).plus(src[d].scaled(strides[d]));
          if (dim >= 0) scale *= strides[size_t(dim)];
          break;
        }
        case OpKind::Broadcast: {
          const Shape& in = f_.value_type(view.operands[0]).shape;
          size_t lead = src.size() - in.size();
          Index narrowed;
          for (size_t d = 0; d < in.size(); ++d) narrowed.push_back(in[d] == 1 ? Affine{} : src[d + lead]);
          dim = dim < int(lead) || in[size_t(dim) - lead] == 1 ? -1 : dim - int(lead);
          src = std::move(narrowed);
          break;
        }
        case OpKind::Constant: case OpKind::Select: case OpKind::Argmax: case OpKind::Argmin: case OpKind::Bitcast:
        case OpKind::SliceUpdate: case OpKind::Concatenate: case OpKind::Pad: case OpKind::Take:
        case OpKind::TakeAlongAxis: case OpKind::Matmul: case OpKind::Custom: case OpKind::Scatter:
        case OpKind::Linalg:
        KILN_SCAN_SORT_OPS(KILN_OP_CASE)
        KILN_FFT_QUANT_OPS(KILN_OP_CASE)
        KILN_UNARY_OPS(KILN_OP_CASE)
        KILN_BINARY_OPS(KILN_OP_CASE)
        KILN_COMPARISON_OPS(KILN_OP_CASE)
        KILN_REDUCTION_OPS(KILN_OP_CASE)
          throw std::logic_error(std::string("kiln lowering: a take reads ") + ir::op_name(view.kind) +
                                 " through no buffer (fusion.cpp, gathers_through)");
      }
      v = view.operands[0];
    }
    Affine off = src.empty() ? Affine{} : src[0];
    if (!flat) {
      auto rs = ir::row_major_strides(f_.value_type(v).shape);
      off = Affine{};
      for (size_t d = 0; d < src.size(); ++d) off = off.plus(src[d].scaled(rs[d]));
      scale = dim < 0 ? 0 : scale * rs[size_t(dim)];
    }
    int node = load_flat(v, off);
    kernel::Node& n = k_.nodes[size_t(node)];
    n.kind = kernel::NodeKind::Gather;
    n.operands = {index_node};
    n.gather_stride_param = param(scale);
    n.extent_param = param(xs[axis]);
    return node;
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
      case OpKind::Add: case OpKind::Subtract: case OpKind::Multiply: case OpKind::Divide:
      case OpKind::Arctan2: case OpKind::LogAddExp: case OpKind::LogicalAnd:
      case OpKind::LogicalOr: case OpKind::BitwiseAnd: case OpKind::BitwiseOr:
      case OpKind::BitwiseXor:
      case OpKind::Constant: case OpKind::Select: case OpKind::Argmax: case OpKind::Argmin: case OpKind::Bitcast:
      case OpKind::Matmul: case OpKind::Custom: case OpKind::Linalg:
      KILN_SCAN_SORT_OPS(KILN_OP_CASE)
      KILN_FFT_QUANT_OPS(KILN_OP_CASE)
      KILN_UNARY_OPS(KILN_OP_CASE)
      KILN_COMPARISON_OPS(KILN_OP_CASE)
      KILN_REDUCTION_OPS(KILN_OP_CASE)
      KILN_MOVEMENT_OPS(KILN_OP_CASE)
      KILN_SCATTER_OPS(KILN_OP_CASE)
        return false;
    }
    return false;
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
      if (!ir::is_view(op.kind)) return nullptr;
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

void lower_kernels(const Function& f, Plan& plan) {
  std::set<int> materialized;
  for (const Step& s : plan.steps) materialized.insert(s.value);
  for (Step& s : plan.steps)
    if (s.kind == Step::Kernel) KernelBuilder(f, materialized, s).build(s.value);
}

}  // namespace kiln::passes
