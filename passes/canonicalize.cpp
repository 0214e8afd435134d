// Canonicalization: local simplifications applied until nothing changes (at
// most kMaxRounds rounds), each round rebuilding the function through a value
// remap and then dropping the ops left dead (as MLIR's canonicalizer does).
//
// The rewrites:
//  * constant folding: an op whose operands are all constants becomes a
//    constant, computed by the reference interpreter (interpret_op), when its
//    result has at most kMaxFoldElements elements and the work is bounded
//    (never a custom op: nothing looks inside a call before execution);
//  * algebraic identities, applied only when the surviving value's type
//    equals the replaced value's type exactly:
//      x*1 -> x, 1*x -> x, x+0 -> x, 0+x -> x, x-0 -> x, x/1 -> x
//    where "1" ("0") is a constant, or a broadcast of a constant, whose every
//    element equals 1 (0) by value. As in XLA, x+0 -> x is applied to floats
//    too, although it is exact only up to the sign of zero: -0 + +0 is +0,
//    the rewrite gives -0 (likewise x - -0). x*1 and x/1 are exact;
//  * data movement:
//      transpose(transpose(x, p), q) -> transpose(x, p∘q), or x when the
//        composed permutation is the identity;
//      reshape(reshape(x)) -> reshape(x); broadcast(broadcast(x)) -> broadcast(x);
//      an identity transpose, reshape, broadcast or cast (same type) -> its
//        operand;
//      broadcast / reshape / transpose of a splat constant (every element has
//        the same bytes) -> a splat constant of the result type (capped at
//        kMaxFoldElements; above that the broadcast stays, and the identities
//        still see through it);
//      a slice of the whole operand with stride 1, a pad by nothing and a
//        concatenate of one operand -> the operand;
//  * select(c, a, b) with c all true -> a, all false -> b; select(c, a, a) -> a;
//  * an elementwise op of a reshape that merges dimensions of x is computed
//    in x's shape and reshaped after (elementwise_before_merge);
//  * sum(broadcast(x)) over broadcast-created axes -> x * (number of copies);
//  * transpose(matmul(a, b)) over the last two axes -> matmul(bᵀ, aᵀ) when
//    the float matmul has no other user: BLAS reads the transposed operands
//    in place (transpose(transpose(x)) then folds to x), so the product is
//    written in the layout its readers want. A weight's gradient, x^T g
//    transposed back to the weight's (out, in) layout, is one product
//    instead of a product and a strided pass of every kernel that reads it.
//
// stop_gradient is never removed or folded: autodiff needs it. Casts of casts
// are left alone (whether the pair is lossless depends on the types).
#include <algorithm>
#include <complex>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <unordered_map>
#include <variant>
#include <vector>

#include "ir/element.h"
#include "ir/interpreter.h"
#include "passes/fusion.h"
#include "passes/pass_manager.h"

namespace kiln::passes {

namespace {

using ir::Function;
using ir::Op;
using ir::OpKind;
using ir::Type;

constexpr int kMaxRounds = 16;
// A rough bound on the element visits of one folded op, so that folding a
// large reduction or matmul never stalls compilation.
constexpr int64_t kMaxFoldWork = int64_t(1) << 24;

const void* data_of(const Op& c) { return c.data ? c.data->data() : nullptr; }

bool has_data(const Op& c) {
  return c.type.nbytes() == 0 || (c.data && c.data->size() >= size_t(c.type.nbytes()));
}

// True when every element of constant c has the same bytes (and there is one).
bool uniform_bytes(const Op& c) {
  int64_t n = c.type.size();
  if (n < 1 || !has_data(c)) return false;
  size_t es = c.type.dtype.size();
  const char* p = static_cast<const char*>(data_of(c));
  for (int64_t i = 1; i < n; ++i)
    if (std::memcmp(p, p + i * es, es) != 0) return false;
  return true;
}

// True when every element of constant c equals k by value in its dtype's
// domain (so -0.0 counts as 0, and true as 1).
bool all_equal(const Op& c, int k) {
  if (!has_data(c)) return false;
  Dtype t = c.type.dtype;
  const void* p = data_of(c);
  int64_t n = c.type.size();
  Domain d = domain_of(t);
  for (int64_t i = 0; i < n; ++i) {
    bool eq;
    switch (d) {
      case Domain::Float: eq = load_f64(t, p, i) == double(k); break;
      case Domain::Complex: eq = load_c128(t, p, i) == std::complex<double>(k, 0); break;
      case Domain::UInt: eq = load_u64(t, p, i) == uint64_t(k); break;
      default: eq = load_i64(t, p, i) == int64_t(k); break;
    }
    if (!eq) return false;
  }
  return true;
}

// True when op has a list attribute `name` whose every entry is k.
bool all_attr_equal(const Op& op, const char* name, int64_t k) {
  auto it = op.attrs.find(name);
  if (it == op.attrs.end()) return false;
  const auto* v = std::get_if<std::vector<int64_t>>(&it->second);
  if (!v) return false;
  for (auto x : *v)
    if (x != k) return false;
  return true;
}

bool is_identity_perm(const std::vector<int64_t>& p) {
  for (size_t i = 0; i < p.size(); ++i)
    if (p[i] != int64_t(i)) return false;
  return true;
}

// One round of rewrites over a function.
class Rewriter {
 public:
  explicit Rewriter(const Function& f) : f_(f) {}

  Function run(bool* changed) {
    out_.name = f_.name;
    out_.inputs = f_.inputs;
    const int n_in = int(f_.inputs.size());
    std::vector<int> remap(size_t(f_.num_values()), -1);
    users_.assign(size_t(f_.num_values()), 0);
    for (const Op& op : f_.ops)
      for (int o : op.operands) users_[size_t(o)]++;
    for (int v : f_.outputs) users_[size_t(v)]++;
    for (int v = 0; v < n_in; ++v) remap[size_t(v)] = v;
    for (int v = n_in; v < f_.num_values(); ++v) {
      if (auto t = transposed_product(f_.def(v), remap)) {
        remap[size_t(v)] = *t;
        continue;
      }
      Op op = f_.def(v);
      for (int& o : op.operands) o = remap[size_t(o)];
      remap[size_t(v)] = value_for(std::move(op));
    }
    for (int v : f_.outputs) out_.outputs.push_back(remap[size_t(v)]);
    *changed = changed_;
    return std::move(out_);
  }

 private:
  const Type& type(int v) const { return out_.value_type(v); }

  const Op* def(int v) const { return out_.is_input(v) ? nullptr : &out_.def(v); }

  const Op* constant(int v) const {
    const Op* op = def(v);
    return op && op->kind == OpKind::Constant ? op : nullptr;
  }

  // The constant whose elements are exactly those of v, possibly repeated: v
  // itself, or the operand of a broadcast of a constant.
  const Op* element_source(int v) const {
    const Op* op = def(v);
    if (!op) return nullptr;
    if (op->kind == OpKind::Constant) return op;
    if (op->kind == OpKind::Broadcast) return constant(op->operands[0]);
    return nullptr;
  }

  // Every element of v is known to equal k (0 or 1). Cached per value: a big
  // splat constant used many times is scanned once.
  bool is_all(int v, int k) {
    int64_t key = int64_t(v) * 2 + k;
    auto it = is_all_cache_.find(key);
    if (it != is_all_cache_.end()) return it->second;
    const Op* c = element_source(v);
    bool r = c && all_equal(*c, k);
    is_all_cache_.emplace(key, r);
    return r;
  }

  // Replaces the op being rewritten by the existing value v, provided the
  // types match exactly.
  std::optional<int> forward(int v, const Type& t) {
    if (type(v) != t) return std::nullopt;
    changed_ = true;
    return v;
  }

  // The value standing for `op` (whose operands are already remapped):
  // an existing value, a rewritten op, or op itself appended to out_.
  int value_for(Op op) {
    if (op.kind == OpKind::Constant || op.kind == OpKind::StopGradient)
      return out_.add_op(std::move(op));
    if (auto v = identity(op)) return *v;
    if (auto c = splat_data_movement(op)) {
      changed_ = true;
      return out_.add_op(std::move(*c));
    }
    if (auto c = fold(op)) {
      changed_ = true;
      return out_.add_op(std::move(*c));
    }
    if (auto r = combine(op)) {
      changed_ = true;
      return value_for(std::move(*r));  // the combined op may simplify further
    }
    if (auto v = sum_of_broadcast(op)) {
      changed_ = true;
      return *v;
    }
    if (auto v = elementwise_before_merge(op)) {
      changed_ = true;
      return *v;
    }
    return out_.add_op(std::move(op));
  }

  // An elementwise op reading a reshape that merges dimensions of x (and
  // only merges them) is computed in x's shape, and the reshape moved after
  // it: its other operands are reshaped to that shape, which only splits
  // dimensions, and kernels read through such a reshape. So x fuses into
  // the op instead of being materialized for the merge (max pooling's
  // gradient, [n, h/2, 2, w/2, 2, c] merged to [n, h, w, c], and the ReLU's
  // gradient after it are one kernel, not two passes over the image).
  std::optional<int> elementwise_before_merge(const Op& op) {
    if (!ir::is_elementwise(op.kind)) return std::nullopt;
    const ir::Shape& shape = op.type.shape;
    const ir::Shape* finer = nullptr;
    for (int o : op.operands) {
      if (type(o).shape != shape) return std::nullopt;
      const Op* r = def(o);
      if (!finer && r && r->kind == OpKind::Reshape) {
        const ir::Shape& s = type(r->operands[0]).shape;
        if (!is_splitting_reshape(s, shape) && is_splitting_reshape(shape, s)) finer = &s;
      }
    }
    if (!finer) return std::nullopt;
    const ir::Shape fine = *finer;  // (out_ grows below)
    std::vector<int> operands;
    for (int o : op.operands) {
      const Op* r = def(o);
      if (r && r->kind == OpKind::Reshape && type(r->operands[0]).shape == fine)
        operands.push_back(r->operands[0]);
      else
        operands.push_back(value_for(ir::make_op(OpKind::Reshape, {o}, Type{type(o).dtype, fine})));
    }
    int v = value_for(ir::make_op(op.kind, operands, Type{op.type.dtype, fine}, op.attrs));
    return value_for(ir::make_op(OpKind::Reshape, {v}, op.type));
  }

  // transpose(matmul(a, b)) swapping the last two axes, where the matmul
  // (of f_, not yet remapped) is float, unbatched or batched alike on both
  // sides, and read by nothing else: matmul(bᵀ, aᵀ) (see the header).
  std::optional<int> transposed_product(const Op& t, const std::vector<int>& remap) {
    if (t.kind != OpKind::Transpose || f_.is_input(t.operands[0])) return std::nullopt;
    int m = t.operands[0];
    const Op& mm = f_.def(m);
    if (mm.kind != OpKind::Matmul || users_[size_t(m)] != 1) return std::nullopt;
    if (mm.type.dtype != float32 && mm.type.dtype != float64) return std::nullopt;
    const Shape& s = mm.type.shape;
    size_t r = s.size();
    if (r < 2 || f_.value_type(mm.operands[0]).shape.size() != r || f_.value_type(mm.operands[1]).shape.size() != r)
      return std::nullopt;
    std::vector<int64_t> swap(r);
    for (size_t d = 0; d < r; ++d) swap[d] = int64_t(d);
    std::swap(swap[r - 2], swap[r - 1]);
    auto it = t.attrs.find("perm");
    if (it == t.attrs.end() || it->second != ir::Attr(swap)) return std::nullopt;
    for (int o : mm.operands)
      for (size_t d = 0; d + 2 < r; ++d)
        if (f_.value_type(o).shape[d] != s[d]) return std::nullopt;  // batch axes broadcast
    auto transposed = [&](int v) {
      Type ty = type(v);
      std::swap(ty.shape[r - 2], ty.shape[r - 1]);
      return value_for(ir::make_op(OpKind::Transpose, {v}, ty, {{"perm", swap}}));
    };
    int bt = transposed(remap[size_t(mm.operands[1])]);
    int at = transposed(remap[size_t(mm.operands[0])]);
    changed_ = true;
    return value_for(ir::make_op(OpKind::Matmul, {bt, at}, t.type, mm.attrs));
  }

  // sum(broadcast(x)) over axes that the broadcast created (or stretched
  // from size 1) is x, reshaped and broadcast to the result, times the
  // number of summed copies. Gradients of broadcasts produce this shape.
  std::optional<int> sum_of_broadcast(const Op& op) {
    if (op.kind != OpKind::Sum) return std::nullopt;
    const Op* b = def(op.operands[0]);
    if (!b || b->kind != OpKind::Broadcast) return std::nullopt;
    int x = b->operands[0];
    const Shape& s = type(x).shape;
    const Shape& t = b->type.shape;
    size_t lead = t.size() - s.size();
    const auto& axes = op.ints_attr("axes");
    int64_t count = 1;
    for (int64_t a : axes) {
      bool created = size_t(a) < lead || s[size_t(a) - lead] == 1;
      if (!created) return std::nullopt;
      count *= t[size_t(a)];
    }
    if (count == 0 || is_complex(op.type.dtype)) return std::nullopt;
    // x without the summed axes: drop them from x's shape (they are size 1).
    Shape kept;
    for (size_t d = lead; d < t.size(); ++d)
      if (std::find(axes.begin(), axes.end(), int64_t(d)) == axes.end()) kept.push_back(s[d - lead]);
    Dtype dt = op.type.dtype;
    int v = value_for(ir::make_op(OpKind::Reshape, {x}, Type{dt, kept}));
    v = value_for(ir::make_op(OpKind::Broadcast, {v}, op.type));
    if (count == 1) return v;
    // A scalar count, broadcast: never a full-size constant.
    Op c = ir::make_splat(Type{dt, {}}, double(count));
    // Integer sums wrap at run time (200 int8 ones sum to -56): so must the
    // count, which a splat of a double would saturate.
    if (!is_inexact(dt)) store_i64(dt, c.data->data(), 0, count);
    int n = value_for(std::move(c));
    n = value_for(ir::make_op(OpKind::Broadcast, {n}, op.type));
    return value_for(ir::make_op(OpKind::Multiply, {v, n}, op.type));
  }

  std::optional<int> identity(const Op& op) {
    const auto& a = op.operands;
    switch (op.kind) {
      case OpKind::Multiply:
        if (is_all(a[1], 1)) return forward(a[0], op.type);
        if (is_all(a[0], 1)) return forward(a[1], op.type);
        break;
      case OpKind::Add:
        if (is_all(a[1], 0)) return forward(a[0], op.type);
        if (is_all(a[0], 0)) return forward(a[1], op.type);
        break;
      case OpKind::Subtract:
        if (is_all(a[1], 0)) return forward(a[0], op.type);
        break;
      case OpKind::Divide:
        if (is_all(a[1], 1)) return forward(a[0], op.type);
        break;
      case OpKind::Transpose: {
        auto it = op.attrs.find("perm");
        if (it != op.attrs.end() && std::holds_alternative<std::vector<int64_t>>(it->second) &&
            is_identity_perm(std::get<std::vector<int64_t>>(it->second)))
          return forward(a[0], op.type);
        break;
      }
      case OpKind::Reshape:
      case OpKind::Broadcast:
      case OpKind::Cast:
        if (type(a[0]) == op.type) return forward(a[0], op.type);
        break;
      case OpKind::Slice:  // the whole operand, stride 1
        if (type(a[0]) == op.type && all_attr_equal(op, "start", 0) &&
            all_attr_equal(op, "strides", 1))
          return forward(a[0], op.type);
        break;
      case OpKind::Pad:  // no padding
        if (all_attr_equal(op, "low", 0) && all_attr_equal(op, "high", 0))
          return forward(a[0], op.type);
        break;
      case OpKind::Concatenate:  // of one operand
        if (a.size() == 1) return forward(a[0], op.type);
        break;
      case OpKind::Select:
        if (a[1] == a[2]) return forward(a[1], op.type);
        if (is_all(a[0], 1)) return forward(a[1], op.type);
        if (is_all(a[0], 0)) return forward(a[2], op.type);
        break;
      // No identity rule.
      case OpKind::Constant: case OpKind::FloorDivide: case OpKind::Remainder:
      case OpKind::Power: case OpKind::Maximum: case OpKind::Minimum: case OpKind::Arctan2:
      case OpKind::LogAddExp: case OpKind::LogicalAnd: case OpKind::LogicalOr:
      case OpKind::BitwiseAnd: case OpKind::BitwiseOr: case OpKind::BitwiseXor:
      case OpKind::LeftShift: case OpKind::RightShift: case OpKind::Argmax: case OpKind::Argmin: case OpKind::Bitcast:
      case OpKind::SliceUpdate: case OpKind::Take: case OpKind::TakeAlongAxis:
      case OpKind::Matmul: case OpKind::Custom: case OpKind::Scatter: case OpKind::Linalg:
      KILN_SCAN_SORT_OPS(KILN_OP_CASE)
      KILN_FFT_QUANT_OPS(KILN_OP_CASE)
      case OpKind::Abs: case OpKind::Negative: case OpKind::Sign: case OpKind::Square:
      case OpKind::Sqrt: case OpKind::Rsqrt: case OpKind::Exp: case OpKind::Expm1:
      case OpKind::Log: case OpKind::Log2: case OpKind::Log10: case OpKind::Log1p:
      case OpKind::Sin: case OpKind::Cos: case OpKind::Tan: case OpKind::Arcsin:
      case OpKind::Arccos: case OpKind::Arctan: case OpKind::Sinh: case OpKind::Cosh:
      case OpKind::Tanh: case OpKind::Arcsinh: case OpKind::Arccosh: case OpKind::Arctanh:
      case OpKind::Sigmoid: case OpKind::Erf: case OpKind::Erfinv: case OpKind::Floor:
      case OpKind::Ceil: case OpKind::Round: case OpKind::LogicalNot: case OpKind::BitwiseInvert:
      case OpKind::StopGradient:  // an identity in value, but it blocks autodiff
      KILN_COMPARISON_OPS(KILN_OP_CASE)
      KILN_REDUCTION_OPS(KILN_OP_CASE)
        break;
    }
    return std::nullopt;
  }

  // broadcast / reshape / transpose of a splat constant: the same element,
  // repeated to the result's size.
  std::optional<Op> splat_data_movement(const Op& op) {
    if (op.kind != OpKind::Broadcast && op.kind != OpKind::Reshape &&
        op.kind != OpKind::Transpose)
      return std::nullopt;
    const Op* c = constant(op.operands[0]);
    if (!c || op.type.size() > kMaxFoldElements || c->type.dtype != op.type.dtype ||
        !uniform_bytes(*c))
      return std::nullopt;
    Op r = ir::make_op(OpKind::Constant, {}, op.type);
    size_t es = op.type.dtype.size();
    r.data = runtime::allocate(size_t(op.type.nbytes()));
    char* dst = static_cast<char*>(r.data->data());
    for (int64_t i = 0; i < op.type.size(); ++i) std::memcpy(dst + i * es, data_of(*c), es);
    return r;
  }

  std::optional<Op> fold(const Op& op) {
    if (op.operands.empty() || op.type.size() > kMaxFoldElements) return std::nullopt;
    // A call's work is its callee's, which the bound below cannot see.
    // Not folded: a call (inlined later), and factorizations (cubic work, and
    // a singular constant must fail when the program runs, not vanish).
    if (op.kind == OpKind::Custom || op.kind == OpKind::Linalg) return std::nullopt;
    std::vector<ir::Tensor> args;
    int64_t work = op.type.size();
    for (int o : op.operands) {
      const Op* c = constant(o);
      if (!c || !has_data(*c)) return std::nullopt;
      args.push_back(ir::Tensor{c->type, c->data});
      work += c->type.size();
    }
    if (op.kind == OpKind::Matmul && !args[0].type.shape.empty())
      work += op.type.size() * int64_t(args[0].type.shape.back());
    // The interpreter's fft is a DFT by definition: each transformed axis
    // costs a visit per element and per element of its line.
    if (op.kind == OpKind::FFT)
      for (int64_t ax : op.ints_attr("axes"))
        work += std::max(op.type.size(), args[0].type.size()) *
                std::max<int64_t>(op.type.shape[size_t(ax)], args[0].type.shape[size_t(ax)]);
    if (op.kind == OpKind::QuantizedMatmul && !args[0].type.shape.empty())
      work += op.type.size() * int64_t(args[0].type.shape.back()) + args[1].type.size() * 32;
    if (work > kMaxFoldWork) return std::nullopt;
    try {
      ir::Tensor r = ir::interpret_op(op, args);
      if (r.type != op.type || (op.type.nbytes() > 0 && !r.buffer) ||
          (r.buffer && r.buffer->size() < size_t(op.type.nbytes())))
        return std::nullopt;
      // Constants hold exactly their type's bytes; share the interpreter's
      // buffer when it is that size (buffers are immutable), else copy.
      if (r.buffer && r.buffer->size() == size_t(op.type.nbytes())) {
        Op c = ir::make_op(OpKind::Constant, {}, op.type);
        c.data = r.buffer;
        return c;
      }
      return ir::make_constant(op.type, r.buffer ? r.buffer->data() : nullptr);
    } catch (const std::exception&) {
      return std::nullopt;  // not foldable (e.g. the interpreter rejects it)
    }
  }

  std::optional<Op> combine(const Op& op) {
    const Op* inner = def(op.operands[0]);
    if (!inner || inner->kind != op.kind) return std::nullopt;
    int x = inner->operands[0];
    switch (op.kind) {
      case OpKind::Transpose: {
        auto pi = inner->attrs.find("perm"), po = op.attrs.find("perm");
        if (pi == inner->attrs.end() || po == op.attrs.end()) return std::nullopt;
        const auto* p = std::get_if<std::vector<int64_t>>(&pi->second);
        const auto* q = std::get_if<std::vector<int64_t>>(&po->second);
        if (!p || !q || p->size() != q->size()) return std::nullopt;
        // result dim i = inner dim q[i] = x dim p[q[i]].
        std::vector<int64_t> perm(q->size());
        for (size_t i = 0; i < q->size(); ++i) {
          if ((*q)[i] < 0 || size_t((*q)[i]) >= p->size()) return std::nullopt;
          perm[i] = (*p)[size_t((*q)[i])];
        }
        return ir::make_op(OpKind::Transpose, {x}, op.type, {{"perm", perm}});
      }
      case OpKind::Reshape:
        return ir::make_op(OpKind::Reshape, {x}, op.type);
      case OpKind::Broadcast:
        return ir::make_op(OpKind::Broadcast, {x}, op.type);
      // A chain of these does not collapse into one op (or is not worth it).
      case OpKind::Constant: case OpKind::Select: case OpKind::Argmax: case OpKind::Argmin: case OpKind::Bitcast:
      case OpKind::Slice: case OpKind::SliceUpdate: case OpKind::Concatenate: case OpKind::Pad:
      case OpKind::Take: case OpKind::TakeAlongAxis: case OpKind::Matmul: case OpKind::Custom:
      KILN_SCAN_SORT_OPS(KILN_OP_CASE)
      case OpKind::Linalg:
      case OpKind::Scatter:
      KILN_FFT_QUANT_OPS(KILN_OP_CASE)
      KILN_UNARY_OPS(KILN_OP_CASE)
      KILN_BINARY_OPS(KILN_OP_CASE)
      KILN_COMPARISON_OPS(KILN_OP_CASE)
      KILN_REDUCTION_OPS(KILN_OP_CASE)
        return std::nullopt;
    }
    return std::nullopt;
  }

  const Function& f_;
  Function out_;
  bool changed_ = false;
  std::unordered_map<int64_t, bool> is_all_cache_;
  std::vector<int> users_;  // of each value of f_ (an output counts as one)
};

}  // namespace

ir::Function canonicalize(const ir::Function& f) {
  Function cur = dce(f);
  for (int round = 0; round < kMaxRounds; ++round) {
    bool changed = false;
    Function next = Rewriter(cur).run(&changed);
    size_t before = next.ops.size();
    next = dce(next);
    changed = changed || next.ops.size() != before;
    cur = std::move(next);
    if (!changed) break;
  }
  return cur;
}

}  // namespace kiln::passes
