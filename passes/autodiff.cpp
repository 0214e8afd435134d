// Autodiff as IR -> IR passes (DESIGN.md: "Autodiff and vmap are IR -> IR
// passes"): reverse mode (vjp) and forward mode (jvp) over a traced
// ir::Function, documented in passes/transforms.h.
//
// Both passes first copy the function's ops unchanged, then
//  * find the *active* values: those that depend on a differentiated input
//    through differentiable ops and have a floating dtype. Everything else
//    (constants, integer and bool values, comparisons, stop_gradient, ...)
//    has a zero derivative, and no IR is emitted for it;
//  * vjp walks the ops backwards, asking each active op with a cotangent for
//    its operands' cotangent contributions and adding the contributions of a
//    value's several uses; jvp walks forwards, computing each active op's
//    tangent from its operands' tangents, interleaved with the copied ops.
// A zero derivative is "no value" (kNone) and is not materialized, except
// where an output must be returned or an op needs a full operand.
//
// The rules of every op live in one switch, Rule::apply, with the reverse
// and forward forms of each op next to each other. The exception is the
// custom op, a call of functions with rules of their own: its rules are in
// passes/custom.cpp, and each call is handled whole, at its first op. Elementwise ops state
// their partial derivatives once (Factor) and both modes use them.
//
// Decisions:
//  * non-differentiable ops give zero: sign, floor, ceil, round,
//    floor_divide, comparisons, logical and bitwise ops, argmax/argmin,
//    all/any, casts to non-floating types, stop_gradient, the indices of
//    take/take_along_axis and the condition of select;
//  * ties of maximum/minimum and of the max/min reductions share the
//    gradient evenly between the tied elements (as JAX), so max(x, x) and
//    max over [x, x] both have derivative 1;
//  * abs'(0) = sign(0) = 0; sqrt'(0) = inf; power's partials are zero where
//    they are 0 * inf (d/da at b == 0, d/db at a == 0), as JAX;
//  * prod: the derivative w.r.t. x_i is the product of the other elements,
//    computed without dividing by zero: with no zero in the reduced slice it
//    is prod / x_i; with exactly one zero it is the product of the non-zero
//    elements at the zero and 0 elsewhere; with two or more zeros it is 0.
//    First derivatives are exact with zeros; second derivatives are exact
//    away from zeros (at an exact zero the mixed partials are not rebuilt);
//  * take / take_along_axis: the IR has no scatter op, so the reverse rule
//    is a one-hot product: the indices are normalized exactly as take does
//    (negative ones wrap once, then clamp) by taking them from an iota, then
//    compared with an iota to make a one-hot matrix, and the cotangent is
//    multiplied by it (take: a matmul [n, m] x [m, rest]; take_along_axis: a
//    select and a sum over the indexed axis). The one-hot matrix costs
//    n * m elements; a scatter-add op would replace it;
//  * complex values are not differentiated: an active op producing a
//    complex value throws std::invalid_argument.
#include <cmath>
#include <cstdint>
#include <functional>
#include <numbers>
#include <stdexcept>
#include <string>
#include <vector>

#include "ir/builder.h"
#include "ir/clone.h"
#include "passes/custom.h"
#include "passes/transforms.h"

namespace kiln::passes {

namespace {

using ir::Builder;
using ir::Function;
using ir::Op;
using ir::OpKind;
using ir::Shape;
using ir::Type;

// "No value": a zero derivative that is not materialized.
constexpr int kNone = -1;

enum class Mode { Vjp, Jvp };

[[noreturn]] void fail(const char* pass, const std::string& msg) {
  throw std::invalid_argument(std::string("[") + pass + "] " + msg);
}

// Checks the differentiated inputs: in range, unique, floating.
void check_wrt(const Function& f, const std::vector<int>& wrt, const char* pass) {
  std::vector<bool> seen(f.inputs.size(), false);
  for (int w : wrt) {
    if (w < 0 || w >= int(f.inputs.size()))
      fail(pass, "input " + std::to_string(w) + " is out of range for a function of " +
                     std::to_string(f.inputs.size()) + " inputs");
    if (seen[w]) fail(pass, "input " + std::to_string(w) + " is listed twice");
    seen[w] = true;
    const Type& t = f.inputs[w];
    if (is_complex(t.dtype))
      fail(pass, "cannot differentiate with respect to input " + std::to_string(w) + " of type " +
                     ir::type_to_string(t) + ": complex differentiation is not supported");
    if (!is_floating(t.dtype))
      fail(pass, "cannot differentiate with respect to input " + std::to_string(w) + " of type " +
                     ir::type_to_string(t) + ": only floating point inputs are differentiable");
  }
}

// Active values: those that depend on a differentiated input through
// differentiable ops and have a floating dtype.
std::vector<bool> activity(const Function& f, const std::vector<int>& wrt, const char* pass) {
  std::vector<bool> active(size_t(f.num_values()), false);
  for (int w : wrt) active[size_t(w)] = true;
  const int n_in = int(f.inputs.size());
  for (size_t i = 0; i < f.ops.size(); ++i) {
    const Op& op = f.ops[i];
    bool any = false;
    for (int o : op.operands) any = any || active[size_t(o)];
    if (!any || !ir::is_differentiable(op.kind)) continue;
    if (is_complex(op.type.dtype))
      fail(pass, std::string("cannot differentiate through ") + ir::op_name(op.kind) +
                     " producing " + ir::type_to_string(op.type) +
                     ": complex differentiation is not supported");
    if (!is_floating(op.type.dtype)) continue;  // e.g. a cast to an integer type
    active[size_t(n_in) + i] = true;
  }
  return active;
}

// The factor of an elementwise op's partial derivative: the derivative
// (or tangent) is multiplied by it.
struct Factor {
  enum Kind { One, MinusOne, Times, Over } kind;
  int v = kNone;  // Times: multiply by v; Over: divide by v
};
Factor one() { return {Factor::One}; }
Factor minus_one() { return {Factor::MinusOne}; }
Factor times(int v) { return {Factor::Times, v}; }
Factor over(int v) { return {Factor::Over, v}; }

// The derivative rules of one op, at one site of the new function.
class Rule {
 public:
  // op: the original op (kind, attributes, types); x: its operands and y its
  // result, as values of the function being built.
  Rule(Builder& b, const Op& op, std::vector<int> x, int y) : b_(b), op_(op), x_(std::move(x)), y_(y) {}

  // Reverse mode: each operand's cotangent contribution from the result's
  // cotangent g (kNone where the operand is not active or gets nothing).
  std::vector<int> vjp(int g, const std::vector<bool>& active) {
    mode_ = Mode::Vjp;
    g_ = g;
    want_ = active;
    out_.assign(x_.size(), kNone);
    apply();
    return out_;
  }

  // Forward mode: the result's tangent from the operands' tangents t (kNone
  // for a zero tangent); kNone when it is zero.
  int jvp(const std::vector<int>& t) {
    mode_ = Mode::Jvp;
    t_ = t;
    want_.assign(t.size(), false);
    for (size_t i = 0; i < t.size(); ++i) want_[i] = t[i] != kNone;
    tangent_ = kNone;
    apply();
    return tangent_;
  }

 private:
  // ---- small IR helpers ------------------------------------------------------
  // By value: adding ops may move the types of earlier ops.
  Type type(int v) const { return b_.type(v); }
  int scalar(Dtype t, double v) { return b_.splat(Type{t, {}}, v); }
  // A value of type t whose every element is v: a scalar constant broadcast
  // (canonicalize turns small ones into splat constants).
  int full(const Type& t, double v) { return b_.broadcast(scalar(t.dtype, v), t.shape); }
  int like(int x, double v) { return full(type(x), v); }
  int zeros(const Type& t) { return full(t, 0); }
  int add(int a, int c) { return b_.add(a, c); }
  int sub(int a, int c) { return b_.sub(a, c); }
  int mul(int a, int c) { return b_.mul(a, c); }
  int div(int a, int c) { return b_.div(a, c); }
  int neg(int a) { return b_.neg(a); }
  int un(OpKind k, int a) { return b_.unary(k, a); }
  int bin(OpKind k, int a, int c) { return b_.binary(k, a, c); }
  int square(int a) { return un(OpKind::Square, a); }
  int select(int c, int a, int e) { return b_.select(c, a, e); }
  int iota(int32_t n) {
    std::vector<int32_t> v(static_cast<size_t>(n));
    for (int32_t i = 0; i < n; ++i) v[size_t(i)] = i;
    return b_.function().add_op(ir::make_constant(Type{int32, {n}}, v.data()));
  }
  int slice(int v, std::vector<int64_t> start, std::vector<int64_t> stop,
            std::vector<int64_t> strides) {
    return b_.op(OpKind::Slice, {v},
                 {{"start", std::move(start)}, {"stop", std::move(stop)}, {"strides", std::move(strides)}});
  }
  int matmul(int a, int c) { return b_.op(OpKind::Matmul, {a, c}); }
  // The value v of a reduction's result shape, broadcast back to the shape
  // `in` of the reduced operand.
  int expand(int v, const std::vector<int64_t>& axes, const Shape& in) {
    bool leading = true;  // axes 0..k-1: broadcasting alone puts them back
    for (size_t i = 0; i < axes.size(); ++i) leading = leading && axes[i] == int64_t(i);
    if (leading) return b_.broadcast(v, in);
    Shape kept = in;
    for (auto a : axes) kept[size_t(a)] = 1;
    return b_.broadcast(b_.reshape(v, kept), in);
  }
  // x's tangent, or zeros of x's type where it has none.
  int tangent_or_zeros(size_t i) { return t_[i] != kNone ? t_[i] : zeros(type(x_[i])); }

  int apply_factor(const Factor& f, int v) {
    switch (f.kind) {
      case Factor::One: return v;
      case Factor::MinusOne: return neg(v);
      case Factor::Times: return mul(v, f.v);
      case Factor::Over: return div(v, f.v);
    }
    return kNone;
  }

  // An elementwise op with partial derivatives partial(i), computed only for
  // the operands that need them: vjp: g * d_i; jvp: sum_i t_i * d_i.
  void linear(const std::function<Factor(size_t)>& partial) {
    for (size_t i = 0; i < x_.size(); ++i) {
      if (!want_[i]) continue;
      Factor f = partial(i);
      if (mode_ == Mode::Vjp) {
        out_[i] = apply_factor(f, g_);
      } else {
        int term = apply_factor(f, t_[i]);
        tangent_ = tangent_ == kNone ? term : add(tangent_, term);
      }
    }
  }
  // A unary elementwise op with derivative d().
  void unary(const std::function<Factor()>& d) {
    linear([&](size_t) { return d(); });
  }
  // Any other op: its reverse form, per operand that needs a cotangent, and
  // its forward form (called when some operand has a tangent).
  void vjp_jvp(const std::function<int(size_t)>& reverse, const std::function<int()>& forward) {
    if (mode_ == Mode::Vjp) {
      for (size_t i = 0; i < x_.size(); ++i)
        if (want_[i]) out_[i] = reverse(i);
    } else {
      tangent_ = forward();
    }
  }

  // The product of the other elements of each reduced slice (prod's
  // derivative), without dividing by zero; see the header comment.
  int prod_others(const std::vector<int64_t>& axes) {
    int x = x_[0];
    const Type xt = type(x);
    Type counts{int32, xt.shape};
    int is_zero = bin(OpKind::Equal, x, zeros(xt));
    int n_zero = expand(b_.sum(b_.cast(is_zero, int32), axes), axes, xt.shape);
    int nonzero = select(is_zero, like(x, 1), x);
    int p = expand(b_.reduce(OpKind::Prod, nonzero, axes), axes, xt.shape);
    int zero = zeros(xt);
    int at_zero = select(bin(OpKind::Equal, n_zero, full(counts, 1)), p, zero);
    int elsewhere = select(bin(OpKind::Equal, n_zero, full(counts, 0)), div(p, nonzero), zero);
    return select(is_zero, at_zero, elsewhere);
  }

  // take's reverse rule: a one-hot [n, m] matrix times the cotangent.
  int take_vjp() {
    const Type xt = type(x_[0]);
    const Type it = type(x_[1]);
    const size_t axis = size_t(op_.int_attr("axis"));
    int64_t outer = 1, inner = 1;
    for (size_t d = 0; d < xt.shape.size(); ++d) {
      if (d < axis) outer *= xt.shape[d];
      if (d > axis) inner *= xt.shape[d];
    }
    const int32_t n = xt.shape[axis];
    const int64_t m = it.size();
    if (m == 0 || xt.size() == 0) return kNone;
    const int32_t m32 = int32_t(m);
    int ramp = iota(n);
    // The positions take read: the indices normalized exactly as take does.
    int pos = b_.op(OpKind::Take, {ramp, x_[1]}, {{"axis", int64_t(0)}});
    Shape nm{n, m32};
    int onehot = bin(OpKind::Equal, b_.broadcast(b_.reshape(ramp, {n, 1}), nm),
                     b_.broadcast(b_.reshape(pos, {1, m32}), nm));
    onehot = b_.cast(onehot, xt.dtype);  // [n, m]: 1 where index j reads row p
    int r;
    if (outer == 1) {
      r = matmul(onehot, b_.reshape(g_, {m32, int32_t(inner)}));
    } else {
      int c = b_.transpose(b_.reshape(g_, {int32_t(outer), m32, int32_t(inner)}), {1, 0, 2});
      c = b_.reshape(c, {m32, int32_t(outer * inner)});
      r = matmul(onehot, c);  // [n, outer * inner]
      r = b_.transpose(b_.reshape(r, {n, int32_t(outer), int32_t(inner)}), {1, 0, 2});
    }
    return b_.reshape(r, xt.shape);
  }

  // take_along_axis's reverse rule: compare each index with every position
  // of the axis and sum the selected cotangents over the indices.
  int take_along_axis_vjp() {
    const Type xt = type(x_[0]);
    const Type it = type(x_[1]);
    const size_t axis = size_t(op_.int_attr("axis"));
    int64_t outer = 1, inner = 1;
    for (size_t d = 0; d < xt.shape.size(); ++d) {
      if (d < axis) outer *= xt.shape[d];
      if (d > axis) inner *= xt.shape[d];
    }
    const int32_t n = xt.shape[axis], m = it.shape[axis];
    if (it.size() == 0 || xt.size() == 0) return kNone;
    const int32_t o = int32_t(outer), in = int32_t(inner);
    int ramp = iota(n);
    int pos = b_.op(OpKind::Take, {ramp, x_[1]}, {{"axis", int64_t(0)}});
    Shape s4{o, m, n, in};
    int hit = bin(OpKind::Equal, b_.broadcast(b_.reshape(pos, {o, m, 1, in}), s4),
                  b_.broadcast(b_.reshape(ramp, {1, 1, n, 1}), s4));
    int gb = b_.broadcast(b_.reshape(g_, {o, m, 1, in}), s4);
    int r = b_.sum(select(hit, gb, zeros(Type{xt.dtype, s4})), {1});  // [outer, n, inner]
    return b_.reshape(r, xt.shape);
  }

  // ---- the rules -------------------------------------------------------------
  void apply() {
    const int x = x_.empty() ? kNone : x_[0];
    const int x1 = x_.size() > 1 ? x_[1] : kNone;
    const int y = y_;
    switch (op_.kind) {
      // -- unary elementwise: the derivative dy/dx ------------------------------
      case OpKind::Abs: return unary([&] { return times(un(OpKind::Sign, x)); });
      case OpKind::Negative: return unary([&] { return minus_one(); });
      case OpKind::Square: return unary([&] { return times(mul(x, like(x, 2))); });
      case OpKind::Sqrt: return unary([&] { return times(div(like(y, 0.5), y)); });
      case OpKind::Rsqrt:  // -x^(-3/2) / 2 = -y / (2x)
        return unary([&] { return times(div(mul(y, like(y, -0.5)), x)); });
      case OpKind::Exp: return unary([&] { return times(y); });
      case OpKind::Expm1: return unary([&] { return times(add(y, like(y, 1))); });
      case OpKind::Log: return unary([&] { return over(x); });
      case OpKind::Log2: return unary([&] { return over(mul(x, like(x, std::numbers::ln2))); });
      case OpKind::Log10: return unary([&] { return over(mul(x, like(x, std::numbers::ln10))); });
      case OpKind::Log1p: return unary([&] { return over(add(x, like(x, 1))); });
      case OpKind::Sin: return unary([&] { return times(un(OpKind::Cos, x)); });
      case OpKind::Cos: return unary([&] { return times(neg(un(OpKind::Sin, x))); });
      case OpKind::Tan: return unary([&] { return times(add(like(y, 1), square(y))); });
      case OpKind::Arcsin:
        return unary([&] { return times(un(OpKind::Rsqrt, sub(like(x, 1), square(x)))); });
      case OpKind::Arccos:
        return unary([&] { return times(neg(un(OpKind::Rsqrt, sub(like(x, 1), square(x))))); });
      case OpKind::Arctan: return unary([&] { return over(add(like(x, 1), square(x))); });
      case OpKind::Sinh: return unary([&] { return times(un(OpKind::Cosh, x)); });
      case OpKind::Cosh: return unary([&] { return times(un(OpKind::Sinh, x)); });
      case OpKind::Tanh: return unary([&] { return times(sub(like(y, 1), square(y))); });
      case OpKind::Arcsinh:
        return unary([&] { return times(un(OpKind::Rsqrt, add(square(x), like(x, 1)))); });
      case OpKind::Arccosh:  // domain x > 1
        return unary([&] { return times(un(OpKind::Rsqrt, sub(square(x), like(x, 1)))); });
      case OpKind::Arctanh: return unary([&] { return over(sub(like(x, 1), square(x))); });
      case OpKind::Sigmoid: return unary([&] { return times(mul(y, sub(like(y, 1), y))); });
      case OpKind::Erf:  // 2/sqrt(pi) exp(-x^2)
        return unary([&] {
          return times(mul(like(x, 2 * std::numbers::inv_sqrtpi), un(OpKind::Exp, neg(square(x)))));
        });
      case OpKind::Erfinv:  // sqrt(pi)/2 exp(y^2)
        return unary([&] {
          return times(mul(like(y, 0.5 / std::numbers::inv_sqrtpi), un(OpKind::Exp, square(y))));
        });
      case OpKind::Cast:  // between floating types: convert the derivative back
        return vjp_jvp([&](size_t) { return b_.cast(g_, type(x).dtype); },
                       [&] { return b_.cast(t_[0], op_.type.dtype); });

      // -- binary elementwise: the partials d/da, d/db ---------------------------
      case OpKind::Add: return linear([&](size_t) { return one(); });
      case OpKind::Subtract: return linear([&](size_t i) { return i == 0 ? one() : minus_one(); });
      case OpKind::Multiply: return linear([&](size_t i) { return times(i == 0 ? x1 : x); });
      case OpKind::Divide:  // 1/b, -a/b^2 = -y/b
        return linear([&](size_t i) { return i == 0 ? over(x1) : times(neg(div(y, x1))); });
      case OpKind::Power:
        return linear([&](size_t i) {
          if (i == 0)  // b a^(b-1), 0 where b == 0
            return times(select(bin(OpKind::Equal, x1, like(x1, 0)), like(x1, 0),
                                mul(x1, bin(OpKind::Power, x, sub(x1, like(x1, 1))))));
          // y log(a), 0 where a == 0
          return times(select(bin(OpKind::Equal, x, like(x, 0)), like(x, 0),
                              mul(y, un(OpKind::Log, x))));
        });
      case OpKind::Arctan2:  // atan(a/b): b/(a^2+b^2), -a/(a^2+b^2)
        return linear([&](size_t i) {
          int r2 = add(square(x), square(x1));
          return i == 0 ? times(div(x1, r2)) : times(neg(div(x, r2)));
        });
      case OpKind::LogAddExp:  // sigmoid(a-b), sigmoid(b-a)
        return linear([&](size_t i) {
          return times(un(OpKind::Sigmoid, i == 0 ? sub(x, x1) : sub(x1, x)));
        });
      case OpKind::Remainder:  // a - b floor(a/b): 1, -floor(a/b)
        return linear([&](size_t i) {
          return i == 0 ? one() : times(neg(un(OpKind::Floor, div(x, x1))));
        });
      case OpKind::Maximum:
      case OpKind::Minimum: {
        // To the selected operand; ties share evenly (as JAX).
        OpKind first_wins = op_.kind == OpKind::Maximum ? OpKind::Greater : OpKind::Less;
        OpKind second_wins = op_.kind == OpKind::Maximum ? OpKind::Less : OpKind::Greater;
        int a_wins = bin(first_wins, x, x1);
        int b_wins = bin(second_wins, x, x1);
        int tie = bin(OpKind::Equal, x, x1);
        if (mode_ == Mode::Vjp) {
          int zero = like(y, 0);
          int half = mul(g_, like(y, 0.5));
          if (want_[0]) out_[0] = select(a_wins, g_, select(tie, half, zero));
          if (want_[1]) out_[1] = select(b_wins, g_, select(tie, half, zero));
        } else {
          int ta = tangent_or_zeros(0), tb = tangent_or_zeros(1);
          tangent_ = select(a_wins, ta, select(b_wins, tb, mul(add(ta, tb), like(y, 0.5))));
        }
        return;
      }
      case OpKind::Select:  // to the chosen branch; the condition gets nothing
        return vjp_jvp(
            [&](size_t i) {
              int zero = like(y, 0);
              return i == 1 ? select(x, g_, zero) : select(x, zero, g_);
            },
            [&] {
              int zero = like(y, 0);
              return select(x, t_[1] != kNone ? t_[1] : zero, t_[2] != kNone ? t_[2] : zero);
            });

      // -- reductions ----------------------------------------------------------
      case OpKind::Sum: {
        const auto& axes = op_.ints_attr("axes");
        return vjp_jvp([&](size_t) { return expand(g_, axes, type(x).shape); },
                       [&] { return b_.sum(t_[0], axes); });
      }
      case OpKind::Prod: {
        const auto& axes = op_.ints_attr("axes");
        int others = prod_others(axes);
        return vjp_jvp([&](size_t) { return mul(expand(g_, axes, type(x).shape), others); },
                       [&] { return b_.sum(mul(t_[0], others), axes); });
      }
      case OpKind::Max:
      case OpKind::Min: {
        // To the extreme elements; ties share evenly (as JAX and MLX).
        const auto& axes = op_.ints_attr("axes");
        const Type xt = type(x);
        int hit = bin(OpKind::Equal, x, expand(y, axes, xt.shape));
        int count = b_.sum(b_.cast(hit, xt.dtype), axes);
        return vjp_jvp(
            [&](size_t) { return select(hit, expand(div(g_, count), axes, xt.shape), zeros(xt)); },
            [&] { return div(b_.sum(select(hit, t_[0], zeros(xt)), axes), count); });
      }

      // -- data movement -------------------------------------------------------
      case OpKind::Reshape:
        return vjp_jvp([&](size_t) { return b_.reshape(g_, type(x).shape); },
                       [&] { return b_.reshape(t_[0], op_.type.shape); });
      case OpKind::Transpose: {
        const auto& perm = op_.ints_attr("perm");
        std::vector<int64_t> inverse(perm.size());
        for (size_t i = 0; i < perm.size(); ++i) inverse[size_t(perm[i])] = int64_t(i);
        return vjp_jvp([&](size_t) { return b_.transpose(g_, inverse); },
                       [&] { return b_.transpose(t_[0], perm); });
      }
      case OpKind::Broadcast:
        return vjp_jvp([&](size_t) { return b_.sum_to_shape(g_, type(x).shape); },
                       [&] { return b_.broadcast(t_[0], op_.type.shape); });
      case OpKind::Slice: {
        const Shape in = type(x).shape;
        const Shape& out = op_.type.shape;
        return vjp_jvp(
            [&](size_t) {
              if (op_.type.size() == 0) return kNone;
              const auto& start = op_.ints_attr("start");
              const auto& strides = op_.ints_attr("strides");
              bool unit = true;
              for (auto s : strides) unit = unit && s == 1;
              if (!unit)  // scatter into zeros
                return b_.op(OpKind::SliceUpdate, {zeros(type(x)), g_}, op_.attrs);
              std::vector<int64_t> low(in.size()), high(in.size());
              for (size_t d = 0; d < in.size(); ++d) {
                low[d] = start[d];
                high[d] = int64_t(in[d]) - start[d] - out[d];
              }
              return b_.op(OpKind::Pad, {g_, scalar(op_.type.dtype, 0)},
                           {{"low", low}, {"high", high}});
            },
            [&] { return b_.op(OpKind::Slice, {t_[0]}, op_.attrs); });
      }
      case OpKind::SliceUpdate:  // (src, update): src outside the region, update inside
        return vjp_jvp(
            [&](size_t i) {
              if (i == 1) return b_.op(OpKind::Slice, {g_}, op_.attrs);
              if (type(x1).size() == 0) return g_;
              return b_.op(OpKind::SliceUpdate, {g_, zeros(type(x1))}, op_.attrs);
            },
            [&] {
              return b_.op(OpKind::SliceUpdate, {tangent_or_zeros(0), tangent_or_zeros(1)},
                           op_.attrs);
            });
      case OpKind::Concatenate: {
        const size_t axis = size_t(op_.int_attr("axis"));
        return vjp_jvp(
            [&](size_t i) {
              int64_t offset = 0;
              for (size_t j = 0; j < i; ++j) offset += type(x_[j]).shape[axis];
              const Shape& out = op_.type.shape;
              std::vector<int64_t> start(out.size(), 0), stop(out.begin(), out.end());
              start[axis] = offset;
              stop[axis] = offset + type(x_[i]).shape[axis];
              return slice(g_, start, stop, std::vector<int64_t>(out.size(), 1));
            },
            [&] {
              std::vector<int> ts;
              for (size_t i = 0; i < x_.size(); ++i) ts.push_back(tangent_or_zeros(i));
              return b_.op(OpKind::Concatenate, ts, op_.attrs);
            });
      }
      case OpKind::Pad: {  // (x, value): x inside, value in the padding
        const auto& low = op_.ints_attr("low");
        const Shape in = type(x).shape;
        return vjp_jvp(
            [&](size_t i) {
              if (i == 0) {
                std::vector<int64_t> stop(in.size());
                for (size_t d = 0; d < in.size(); ++d) stop[d] = low[d] + in[d];
                return slice(g_, low, stop, std::vector<int64_t>(in.size(), 1));
              }
              int inside = b_.op(OpKind::Pad, {full(Type{bool_, in}, 1), scalar(bool_, 0)},
                                 op_.attrs);
              std::vector<int64_t> all(op_.type.shape.size());
              for (size_t d = 0; d < all.size(); ++d) all[d] = int64_t(d);
              return b_.sum(select(inside, like(y, 0), g_), all);
            },
            [&] { return b_.op(OpKind::Pad, {tangent_or_zeros(0), tangent_or_zeros(1)}, op_.attrs); });
      }
      case OpKind::Take:  // the indices get nothing
        return vjp_jvp([&](size_t) { return take_vjp(); },
                       [&] { return b_.op(OpKind::Take, {t_[0], x1}, op_.attrs); });
      case OpKind::TakeAlongAxis:
        return vjp_jvp([&](size_t) { return take_along_axis_vjp(); },
                       [&] { return b_.op(OpKind::TakeAlongAxis, {t_[0], x1}, op_.attrs); });
      case OpKind::Matmul: {  // [..., m, k] x [..., k, n]
        const size_t r = type(x).shape.size();
        std::vector<int64_t> swap(r);
        for (size_t d = 0; d < r; ++d) swap[d] = int64_t(d);
        std::swap(swap[r - 2], swap[r - 1]);
        return vjp_jvp(
            [&](size_t i) {
              return i == 0 ? matmul(g_, b_.transpose(x1, swap)) : matmul(b_.transpose(x, swap), g_);
            },
            [&] {
              int ta = want_[0] ? matmul(t_[0], x1) : kNone;
              int tb = want_[1] ? matmul(x, t_[1]) : kNone;
              return ta == kNone ? tb : tb == kNone ? ta : add(ta, tb);
            });
      }

      // Never active: constants, ops without a derivative
      // (ir::is_differentiable) and custom ops (their own rules, passes/custom.cpp).
      case OpKind::Constant: case OpKind::Custom: case OpKind::Sign: case OpKind::Floor:
      case OpKind::Ceil: case OpKind::Round: case OpKind::LogicalNot: case OpKind::BitwiseInvert:
      case OpKind::StopGradient: case OpKind::FloorDivide: case OpKind::LogicalAnd:
      case OpKind::LogicalOr: case OpKind::BitwiseAnd: case OpKind::BitwiseOr:
      case OpKind::BitwiseXor: case OpKind::LeftShift: case OpKind::RightShift:
      case OpKind::All: case OpKind::Any: case OpKind::Argmax: case OpKind::Argmin: case OpKind::Bitcast:
      KILN_COMPARISON_OPS(KILN_OP_CASE)
        break;
    }
    throw std::logic_error(std::string("autodiff: no rule for ") + ir::op_name(op_.kind));
  }

  Builder& b_;
  const Op& op_;
  std::vector<int> x_;
  int y_;
  Mode mode_ = Mode::Vjp;
  int g_ = kNone;           // vjp: the result's cotangent
  std::vector<int> t_;      // jvp: the operands' tangents
  std::vector<bool> want_;  // operands whose derivative is needed / present
  std::vector<int> out_;    // vjp: the operands' contributions
  int tangent_ = kNone;     // jvp: the result's tangent
};

// Copies f's ops into g (whose inputs are already added; f's input v is g's
// value v) and returns the value of g standing for each value of f.
std::vector<int> copy_ops(const Function& f, Function& g) {
  std::vector<int> inputs(f.inputs.size());
  for (size_t v = 0; v < inputs.size(); ++v) inputs[v] = int(v);
  return ir::clone_ops(f, g, inputs);
}

std::vector<int> floating_inputs(const Function& f) {
  std::vector<int> wrt;
  for (size_t i = 0; i < f.inputs.size(); ++i)
    if (is_floating(f.inputs[i].dtype)) wrt.push_back(int(i));
  return wrt;
}

int zeros_of(Builder& b, const Type& t) { return b.broadcast(b.splat(Type{t.dtype, {}}, 0), t.shape); }

// Reverse mode of the call whose first op defines f's value v (custom.h):
// the cotangents of its outputs (summed over ops standing for the same
// output) go through the call's rule, and its operands get theirs.
template <typename Accumulate>
void vjp_call(const Function& f, const CustomCalls& calls, int v, const std::vector<bool>& active,
              const std::vector<int>& val, std::vector<int>& ct, Builder& b,
              const Accumulate& accumulate) {
  const Op& op = f.def(v);
  const size_t m = op.custom->forward->outputs.size();
  std::vector<int> cts(m, kNone), ys(m, kNone);
  bool any = false;
  for (auto [u, j] : calls.members(v)) {
    if (ys[size_t(j)] == kNone) ys[size_t(j)] = val[size_t(u)];
    if (!active[size_t(u)] || ct[size_t(u)] == kNone) continue;
    int& c = cts[size_t(j)];
    c = c == kNone ? ct[size_t(u)] : b.add(c, ct[size_t(u)]);
    ct[size_t(u)] = kNone;
    any = true;
  }
  if (!any) return;
  std::vector<int> x;
  std::vector<bool> need;
  for (int o : op.operands) {
    x.push_back(val[size_t(o)]);
    need.push_back(active[size_t(o)]);
  }
  std::vector<int> contributions = custom_vjp(b, op, x, ys, cts, need);
  for (size_t k = 0; k < op.operands.size(); ++k)
    if (need[k]) accumulate(op.operands[k], contributions[k]);
}

// Forward mode of the call whose first op defines f's value v, with operands
// x in the new function: when some operand has a tangent, emits the call's
// rule, sets the value and tangent of each of its ops, marks them done and
// returns true; else returns false (the ops are copied as they are).
bool jvp_call(const Function& f, const CustomCalls& calls, int v, const std::vector<int>& x,
              const std::vector<bool>& active, Builder& b, std::vector<int>& val,
              std::vector<int>& tan, std::vector<bool>& done) {
  const Op& op = f.def(v);
  std::vector<int> t;
  bool any = false;
  for (int o : op.operands) {
    t.push_back(tan[size_t(o)]);
    any = any || tan[size_t(o)] != kNone;
  }
  if (!any) return false;
  std::vector<bool> wanted(op.custom->forward->outputs.size(), false);
  for (auto [u, j] : calls.members(v)) wanted[size_t(j)] = true;
  CustomJvp r = custom_jvp(b, op, x, t, wanted);
  for (auto [u, j] : calls.members(v)) {
    val[size_t(u)] = r.outputs[size_t(j)];
    if (active[size_t(u)]) tan[size_t(u)] = r.tangents[size_t(j)];
    done[size_t(u)] = true;
  }
  return true;
}

}  // namespace

ir::Function vjp(const ir::Function& f, const std::vector<int>& wrt) {
  check_wrt(f, wrt, "vjp");
  const std::vector<bool> active = activity(f, wrt, "vjp");
  const int n_in = int(f.inputs.size());

  Function g;
  g.name = f.name;
  for (const Type& t : f.inputs) g.add_input(t);
  std::vector<int> ct_input;
  for (int o : f.outputs) ct_input.push_back(g.add_input(f.value_type(o)));
  const std::vector<int> val = copy_ops(f, g);
  Builder b(g);

  // The cotangent of each value of f, accumulated over its uses.
  std::vector<int> ct(size_t(f.num_values()), kNone);
  auto accumulate = [&](int v, int c) {
    if (c == kNone) return;
    ct[size_t(v)] = ct[size_t(v)] == kNone ? c : b.add(ct[size_t(v)], c);
  };
  for (size_t j = 0; j < f.outputs.size(); ++j)
    if (active[size_t(f.outputs[j])]) accumulate(f.outputs[j], ct_input[j]);

  const CustomCalls calls(f);
  for (int i = int(f.ops.size()) - 1; i >= 0; --i) {
    const int v = n_in + i;
    if (f.ops[size_t(i)].kind == OpKind::Custom) {
      // A call is differentiated as a whole at its first op: every use of
      // its outputs comes later, so their cotangents are complete there.
      if (calls.is_first(v)) vjp_call(f, calls, v, active, val, ct, b, accumulate);
      continue;
    }
    if (!active[size_t(v)] || ct[size_t(v)] == kNone) continue;
    const Op& op = f.ops[size_t(i)];
    std::vector<int> x;
    std::vector<bool> need;
    for (int o : op.operands) {
      x.push_back(val[size_t(o)]);
      need.push_back(active[size_t(o)]);
    }
    std::vector<int> contributions = Rule(b, op, x, val[size_t(v)]).vjp(ct[size_t(v)], need);
    for (size_t k = 0; k < op.operands.size(); ++k)
      if (need[k]) accumulate(op.operands[k], contributions[k]);
    ct[size_t(v)] = kNone;  // no longer needed
  }

  for (int o : f.outputs) g.outputs.push_back(val[size_t(o)]);
  for (int w : wrt)
    g.outputs.push_back(ct[size_t(w)] != kNone ? ct[size_t(w)] : zeros_of(b, f.inputs[size_t(w)]));
  return g;
}

ir::Function jvp(const ir::Function& f, const std::vector<int>& wrt) {
  check_wrt(f, wrt, "jvp");
  const std::vector<bool> active = activity(f, wrt, "jvp");
  const int n_in = int(f.inputs.size());

  Function g;
  g.name = f.name;
  for (const Type& t : f.inputs) g.add_input(t);
  std::vector<int> tan(size_t(f.num_values()), kNone);
  for (int w : wrt) tan[size_t(w)] = g.add_input(f.inputs[size_t(w)]);
  Builder b(g);

  // The copied ops and the tangent ops, interleaved: each tangent only uses
  // values defined before it.
  std::vector<int> val(size_t(f.num_values()));
  for (int v = 0; v < n_in; ++v) val[size_t(v)] = v;
  const CustomCalls calls(f);
  std::vector<bool> done(size_t(f.num_values()), false);  // ops of calls already emitted
  for (size_t i = 0; i < f.ops.size(); ++i) {
    const int v = n_in + int(i);
    if (done[size_t(v)]) continue;
    Op op = f.ops[i];
    for (int& o : op.operands) o = val[size_t(o)];
    if (op.kind == OpKind::Custom && calls.is_first(v) &&
        jvp_call(f, calls, v, op.operands, active, b, val, tan, done))
      continue;
    val[size_t(v)] = g.add_op(op);
    if (!active[size_t(v)]) continue;
    std::vector<int> t;
    bool any = false;
    for (int o : f.ops[i].operands) {
      t.push_back(tan[size_t(o)]);
      any = any || tan[size_t(o)] != kNone;
    }
    if (!any) continue;
    tan[size_t(v)] = Rule(b, f.ops[i], op.operands, val[size_t(v)]).jvp(t);
  }

  for (int o : f.outputs) g.outputs.push_back(val[size_t(o)]);
  for (int o : f.outputs)
    g.outputs.push_back(tan[size_t(o)] != kNone ? tan[size_t(o)] : zeros_of(b, f.value_type(o)));
  return g;
}

ir::Function vjp_pass(const ir::Function& f) { return vjp(f, floating_inputs(f)); }
ir::Function jvp_pass(const ir::Function& f) { return jvp(f, floating_inputs(f)); }

}  // namespace kiln::passes
