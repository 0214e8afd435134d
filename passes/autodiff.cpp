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
//  * take / take_along_axis: the reverse rule is a scatter-add of the
//    cotangent to where the elements were read (take: whole rows along the
//    axis; take_along_axis: each element at its flat position, the indices
//    normalized exactly as take does by taking them from an iota);
//  * scatter: the updates' cotangent is the result's cotangent taken at
//    their destinations. For plain scatter, an update overwritten by a later
//    duplicate still gets it (as JAX's and MLX's rules); for scatter_prod
//    the updates' cotangent divides by the update (undefined at 0); for
//    scatter_max/min every element equal to the result (a's or an update)
//    gets the whole cotangent;
//  * complex values (complex64) are differentiated as JAX does: a value's
//    tangent is of its own dtype, and the cotangent of a complex value z =
//    x + iy is dL/dx - i dL/dy, so that a loss L changes by Re(sum(ct * dz))
//    and the reverse rule of a complex-linear map t -> a t is g -> a g, with
//    no conjugation: the rules of the holomorphic ops (add, multiply, exp,
//    ...) are their real rules, evaluated in complex arithmetic. The rules
//    that are not holomorphic: abs (dL/dz = g |z| / z), the casts between
//    real and complex (the real part one way, + 0i the other), bitcasts
//    between float32 [..., 2n] and complex64 [..., n] (real(), imag() and
//    conjugate() are made of them), and the real transforms (fft op below);
//  * fft: the complex transforms are symmetric linear maps, so each is its
//    own transpose (fft's vjp is an fft, ifft's an ifft). rfft's transpose
//    zero-pads the cotangent's bins to n, transforms it and keeps the real
//    part; irfft's keeps the first n/2 + 1 bins of the inverse transform of
//    the cotangent, doubled where irfft counts a bin twice (all but the zero
//    and, for even n, the n/2 bins).
#include <cmath>
#include <cstdint>
#include <functional>
#include <numbers>
#include <stdexcept>
#include <string>
#include <vector>

#include "ir/builder.h"
#include "ir/clone.h"
#include "ir/linalg.h"
#include "passes/custom.h"
#include "passes/scan_sort_rules.h"
#include "passes/transforms.h"

namespace kiln::passes {

namespace {

using ir::Builder;
using ir::Function;
using ir::Op;
using ir::OpKind;
using ir::ScatterReduce;
using ir::Shape;
using ir::Type;
using ir::LinalgKind;

// "No value": a zero derivative that is not materialized.
constexpr int kNone = -1;

enum class Mode { Vjp, Jvp };

[[noreturn]] void fail(const char* pass, const std::string& msg) {
  throw std::invalid_argument(std::string("[") + pass + "] " + msg);
}

// Checks the differentiated inputs: in range, unique, floating or complex.
void check_wrt(const Function& f, const std::vector<int>& wrt, const char* pass) {
  std::vector<bool> seen(f.inputs.size(), false);
  for (int w : wrt) {
    if (w < 0 || w >= int(f.inputs.size()))
      fail(pass, "input " + std::to_string(w) + " is out of range for a function of " +
                     std::to_string(f.inputs.size()) + " inputs");
    if (seen[w]) fail(pass, "input " + std::to_string(w) + " is listed twice");
    seen[w] = true;
    const Type& t = f.inputs[w];
    if (!is_inexact(t.dtype))
      fail(pass, "cannot differentiate with respect to input " + std::to_string(w) + " of type " +
                     ir::type_to_string(t) + ": only floating point and complex inputs are differentiable");
  }
}

// A bitcast (not differentiable in ir/ops.h's table) carries a derivative
// between float32 [..., 2n] and complex64 [..., n], the parts of the
// complex numbers; any other reinterpretation of bits has none.
bool complex_bitcast(const Function& f, const Op& op) {
  const Dtype from = f.value_type(op.operands[0]).dtype, to = op.type.dtype;
  return (from == float32 && to == complex64) || (from == complex64 && to == float32);
}

// Active values: those that depend on a differentiated input through
// differentiable ops and have a floating or complex dtype.
std::vector<bool> activity(const Function& f, const std::vector<int>& wrt) {
  std::vector<bool> active(size_t(f.num_values()), false);
  for (int w : wrt) active[size_t(w)] = true;
  const int n_in = int(f.inputs.size());
  for (size_t i = 0; i < f.ops.size(); ++i) {
    const Op& op = f.ops[i];
    bool any = false;
    for (int o : op.operands) any = any || active[size_t(o)];
    const bool differentiable = op.kind == OpKind::Bitcast ? complex_bitcast(f, op) : ir::is_differentiable(op.kind);
    if (!any || !differentiable) continue;
    if (!is_inexact(op.type.dtype)) continue;  // e.g. a cast to an integer type
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

  // An iota of n elements of dtype t (int32 or int64).
  int ramp(int64_t n, Dtype t) {
    if (t == int32) return iota(int32_t(n));
    std::vector<int64_t> v(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) v[size_t(i)] = i;
    return b_.function().add_op(ir::make_constant(Type{int64, {int32_t(n)}}, v.data()));
  }
  int scatter(int a, int idx, int upd, int64_t axis, ScatterReduce r) {
    return b_.op(OpKind::Scatter, {a, idx, upd}, {{"axis", axis}, {"reduce", int64_t(r)}});
  }
  int take(int x, int idx, int64_t axis) { return b_.op(OpKind::Take, {x, idx}, {{"axis", axis}}); }

  // take's reverse rule: the cotangent's rows added back where they were
  // read (duplicate indices add up).
  int take_vjp() {
    return scatter(zeros(type(x_[0])), x_[1], g_, op_.int_attr("axis"), ScatterReduce::Add);
  }

  // take_along_axis's reverse rule: every cotangent element added back at
  // the flat position it was read from, (o * n + pos) * inner + i for x
  // viewed as [outer, n, inner] and the indices as [outer, m, inner].
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
    if (it.size() == 0 || xt.size() == 0) return zeros(xt);
    const Dtype t = xt.size() > INT32_MAX ? int64 : int32;
    const int32_t o = int32_t(outer), in = int32_t(inner);
    // The positions take_along_axis read: normalized exactly as it does.
    int pos = b_.cast(b_.reshape(take(iota(n), x_[1], 0), {o, m, in}), t);
    Shape s3{o, m, in};
    int row_base = mul(b_.reshape(ramp(outer, t), {o, 1, 1}), b_.splat(Type{t, {o, 1, 1}}, double(n) * inner));
    int base = add(b_.broadcast(row_base, s3), b_.broadcast(b_.reshape(ramp(inner, t), {1, 1, in}), s3));
    int flat = add(mul(pos, full(Type{t, s3}, double(inner))), base);
    const int32_t total = int32_t(it.size());
    int r = scatter(zeros(Type{xt.dtype, {int32_t(xt.size())}}), b_.reshape(flat, {total}),
                    b_.reshape(g_, {total}), 0, ScatterReduce::Add);
    return b_.reshape(r, xt.shape);
  }


  // ---- complex values (see the header) ----------------------------------------
  // v reinterpreted as dtype t: float32 [..., 2n] <-> complex64 [..., n].
  int bitcast(int v, Dtype t) {
    Shape s = type(v).shape;
    s.back() = int32_t(int64_t(s.back()) * type(v).dtype.size() / t.size());
    return b_.op(OpKind::Bitcast, {v}, {}, Type{t, s});
  }
  // v (float32 [..., 2n], the parts of n complex numbers) with every
  // imaginary part negated: the parts of the conjugates.
  int negate_imaginary_parts(int v) {
    const Shape s = type(v).shape;
    Shape pairs = s;
    pairs.back() /= 2;
    pairs.push_back(2);
    const float signs[2] = {1.0f, -1.0f};
    int c = b_.function().add_op(ir::make_constant(Type{float32, {2}}, signs));
    return b_.reshape(mul(b_.reshape(v, pairs), b_.broadcast(c, pairs)), s);
  }
  // The bitcast's rules: linear, but the reverse rule conjugates, since a
  // complex cotangent holds -dL/dy in its imaginary part.
  void bitcast_rule() {
    return vjp_jvp(
        [&](size_t) {
          if (op_.type.dtype == complex64) return negate_imaginary_parts(bitcast(g_, float32));
          return bitcast(negate_imaginary_parts(g_), complex64);
        },
        [&] { return bitcast(t_[0], op_.type.dtype); });
  }
  // abs of complex z: d|z| = Re(dz |z| / z) (|z| / z = conj(z) / |z|), 0 at z = 0.
  void complex_abs_rule() {
    const int z = x_[0];
    const Type zt = type(z);
    int phase = select(bin(OpKind::Equal, y_, like(y_, 0)), zeros(zt), div(b_.cast(y_, zt.dtype), z));
    return vjp_jvp([&](size_t) { return mul(b_.cast(g_, zt.dtype), phase); },
                   [&] { return b_.cast(mul(t_[0], phase), float32); });
  }

  // The fft op's rules (see the header). The forward rule is the op itself:
  // every transform is linear in its operand.
  int fft_of(int v, bool inverse) {
    return b_.op(OpKind::FFT, {v},
                 {{"axes", op_.ints_attr("axes")}, {"inverse", int64_t(inverse)}, {"real", int64_t(0)},
                  {"n", int64_t(0)}});
  }
  int fft_vjp() {
    const bool inverse = op_.int_attr("inverse") != 0;
    if (op_.int_attr("real") == 0) return b_.op(OpKind::FFT, {g_}, op_.attrs);
    const size_t last = size_t(op_.ints_attr("axes").back());
    const int64_t n = op_.int_attr("n"), bins = n / 2 + 1;
    if (!inverse) {  // rfft: the bins past n/2 were dropped, so they get zeros
      const Shape gs = type(g_).shape;
      std::vector<int64_t> low(gs.size(), 0), high(gs.size(), 0);
      high[last] = n - bins;
      int padded = n == bins ? g_ : b_.op(OpKind::Pad, {g_, scalar(complex64, 0)}, {{"low", low}, {"high", high}});
      return b_.cast(fft_of(padded, false), float32);
    }
    // irfft: bin k (0 < k < n/2, or k = n/2 for odd n) stands for itself
    // and its mirror image.
    int full = fft_of(b_.cast(g_, complex64), true);
    const Shape fs = type(full).shape;
    std::vector<int64_t> start(fs.size(), 0), stop(fs.begin(), fs.end()), step(fs.size(), 1);
    stop[last] = bins;
    int kept = slice(full, start, stop, step);
    std::vector<float> w(size_t(bins), 2.0f);
    w[0] = 1.0f;
    if (n % 2 == 0) w.back() = 1.0f;
    int weights = b_.function().add_op(ir::make_constant(Type{float32, {int32_t(bins)}}, w.data()));
    Shape along(fs.size(), 1);
    along[last] = int32_t(bins);
    const Shape ks = type(kept).shape;
    return mul(kept, b_.broadcast(b_.reshape(b_.cast(weights, complex64), along), ks));
  }

  // ---- quantized_matmul (ir/quantized.h) ---------------------------------------
  // The codes of w [rows, words] as float32 [rows, cols]: each block of 32
  // codes is `bits` words; code t sits at bit t * bits of the block,
  // perhaps straddling two words (read as one uint64).
  int quantized_codes(int w, int bits, int32_t cols) {
    const int32_t rows = type(w).shape[0], blocks = cols / 32;
    int words = b_.cast(b_.reshape(w, {rows, blocks, int32_t(bits)}), uint64);
    std::vector<int32_t> lo(32), hi(32);
    std::vector<uint64_t> shift(32);
    for (int t = 0; t < 32; ++t) {
      lo[size_t(t)] = t * bits / 32;
      hi[size_t(t)] = std::min(t * bits / 32 + 1, bits - 1);
      shift[size_t(t)] = uint64_t(t * bits % 32);
    }
    const Shape s3{rows, blocks, 32};
    auto word_at = [&](const std::vector<int32_t>& idx) {
      int c = b_.function().add_op(ir::make_constant(Type{int32, {32}}, idx.data()));
      return take(words, c, 2);
    };
    auto u64 = [&](uint64_t v) { return full(Type{uint64, s3}, double(v)); };
    int shifts = b_.broadcast(b_.function().add_op(ir::make_constant(Type{uint64, {32}}, shift.data())), s3);
    int both = bin(OpKind::BitwiseOr, word_at(lo), bin(OpKind::LeftShift, word_at(hi), u64(32)));
    int codes = bin(OpKind::BitwiseAnd, bin(OpKind::RightShift, both, shifts), u64((1u << bits) - 1));
    return b_.reshape(b_.cast(codes, float32), {rows, cols});
  }

  // y = x W^T (transpose) or x W, W = codes * scale + bias per group of
  // `group_size` along W's rows (w's last axis): linear in x, in the scales
  // and in the biases (the codes are integers: no derivative).
  void quantized_matmul_rules() {
    const bool transpose = op_.int_attr("transpose") != 0;
    const int bits = int(op_.int_attr("bits"));
    const int32_t group = int32_t(op_.int_attr("group_size"));
    const Shape ws = type(x_[1]).shape;
    const int32_t rows = ws[0], cols = int32_t(int64_t(ws[1]) * 32 / bits), groups = cols / group;
    auto qmm = [&](int v, bool t) {
      ir::Attrs a = op_.attrs;
      a["transpose"] = int64_t(t);
      return b_.op(OpKind::QuantizedMatmul, {v, x_[1], x_[2], x_[3]}, a);
    };
    // x and the output as matrices [m, k] and [m, n].
    const Shape xs = type(x_[0]).shape;
    const int32_t m = int32_t(type(x_[0]).size() / std::max<int64_t>(1, xs.back()));
    auto as_matrix = [&](int v) { return b_.reshape(v, {m, type(v).shape.back()}); };
    // The derivative of W [rows, cols] spread over the groups: [rows, groups, group].
    const Shape grouped{rows, groups, group};
    auto per_group = [&](int v) { return b_.reshape(v, {rows, groups, 1}); };
    const int codes = want_[2] ? quantized_codes(x_[1], bits, cols) : kNone;
    if (mode_ == Mode::Vjp) {
      // y = x W^T: dx = g W, dW = g^T x; y = x W: dx = g W^T, dW = x^T g.
      int dW = kNone;
      if (want_[2] || want_[3])
        dW = transpose ? mm(mT(as_matrix(g_)), as_matrix(x_[0])) : mm(mT(as_matrix(x_[0])), as_matrix(g_));
      if (want_[0]) out_[0] = qmm(g_, !transpose);
      if (want_[2]) out_[2] = b_.sum(b_.reshape(mul(dW, codes), grouped), {2});
      if (want_[3]) out_[3] = b_.sum(b_.reshape(dW, grouped), {2});
      return;
    }
    // The tangent of W, then dy = x dW^T (or x dW).
    int dW = kNone;
    auto spread = [&](int v) { return b_.reshape(b_.broadcast(per_group(v), grouped), {rows, cols}); };
    if (want_[2]) dW = mul(codes, spread(t_[2]));
    if (want_[3]) dW = dW == kNone ? spread(t_[3]) : add(dW, spread(t_[3]));
    int t = want_[0] ? qmm(t_[0], transpose) : kNone;
    if (dW != kNone) {
      int dy = b_.reshape(transpose ? mm(as_matrix(x_[0]), mT(dW)) : mm(as_matrix(x_[0]), dW), op_.type.shape);
      t = t == kNone ? dy : add(t, dy);
    }
    tangent_ = t;
  }

  // ---- linalg (ir/linalg.h) --------------------------------------------------
  // Derivatives of the factorizations, written with matmuls, masks and the
  // factorizations themselves. A rule that needs another output of the same
  // factorization emits that output's op (CSE merges it with the program's).
  // Each op is one output, so each rule is that output's part alone: the
  // cotangents of a factorization's several outputs add up (vjp is linear).
  // Symmetric inputs (cholesky, eigh) take the symmetric convention of
  // PyTorch and JAX: only the symmetric part of a perturbation counts, and
  // the gradient is symmetric.

  // v with its last two axes swapped.
  int mT(int v) {
    const size_t r = type(v).shape.size();
    std::vector<int64_t> perm(r);
    for (size_t d = 0; d < r; ++d) perm[d] = int64_t(d);
    std::swap(perm[r - 2], perm[r - 1]);
    return b_.transpose(v, perm);
  }
  // A bool mask of shape `s` ([..., n, n]) true where (row i, column j) is
  // below (j < i), on (j == i), or above (j > i) the diagonal, or where any
  // of the flagged relations hold.
  enum Band { kBelow = 1, kDiag = 2, kAbove = 4 };
  int band(const Shape& s, int which) {
    const int32_t n = s.back();
    const Shape sq{n, n};
    int rows = b_.broadcast(b_.reshape(iota(n), {n, 1}), sq);
    int cols = b_.broadcast(b_.reshape(iota(n), {1, n}), sq);
    int m = kNone;
    auto either = [&](int c) { m = m == kNone ? c : bin(OpKind::LogicalOr, m, c); };
    if (which & kBelow) either(bin(OpKind::Less, cols, rows));
    if (which & kDiag) either(bin(OpKind::Equal, cols, rows));
    if (which & kAbove) either(bin(OpKind::Greater, cols, rows));
    return b_.broadcast(m, s);
  }
  int keep(int v, int which) { return select(band(type(v).shape, which), v, like(v, 0)); }
  int sym(int v) { return mul(add(v, mT(v)), like(v, 0.5)); }
  int mm(int a, int c) { return matmul(a, c); }
  // [..., n] -> [..., n, n] with d on the diagonal.
  int diag_embed(int d) {
    Shape s = type(d).shape;
    Shape row = s;
    row.insert(row.end() - 1, 1);
    Shape sq = s;
    sq.push_back(s.back());
    return select(band(sq, kDiag), b_.broadcast(b_.reshape(d, row), sq), zeros(Type{type(d).dtype, sq}));
  }
  // [..., n, n] -> [..., n], the diagonal.
  int diag_part(int v) {
    const size_t r = type(v).shape.size();
    return b_.sum(keep(v, kDiag), {int64_t(r - 1)});
  }
  // d [..., n] as a row [..., 1, n] or a column [..., n, 1], broadcast to [..., n, n].
  int as_rows(int d) {
    Shape s = type(d).shape, row = s, sq = s;
    row.insert(row.end() - 1, 1);
    sq.push_back(s.back());
    return b_.broadcast(b_.reshape(d, row), sq);
  }
  int as_cols(int d) {
    Shape s = type(d).shape, col = s, sq = s;
    col.push_back(1);
    sq.push_back(s.back());
    return b_.broadcast(b_.reshape(d, col), sq);
  }
  // F[i, j] = 1 / (d_j - d_i) off the diagonal, 0 on it.
  int inverse_gaps(int d) {
    int gaps = sub(as_rows(d), as_cols(d));
    return select(band(type(gaps).shape, kBelow | kAbove), div(like(gaps, 1), gaps), like(gaps, 0));
  }
  int factor_output(LinalgKind k, int output, bool upper = false) {
    return b_.op(OpKind::Linalg, {x_[0]}, ir::linalg_attrs(k, output, upper));
  }
  // The first `cols` columns ([..., r, cols]) or rows ([..., rows, c]) of v.
  int leading(int v, int32_t rows, int32_t cols) {
    const Shape s = type(v).shape;
    if (s[s.size() - 2] == rows && s.back() == cols) return v;
    std::vector<int64_t> start(s.size(), 0), stop(s.begin(), s.end()), step(s.size(), 1);
    stop[s.size() - 2] = rows;
    stop[s.size() - 1] = cols;
    return slice(v, start, stop, step);
  }

  // The rule of a linalg op: its cotangent contribution (vjp) or its tangent (jvp).
  int linalg_rule() {
    const LinalgKind kind = ir::linalg_kind(op_);
    const int output = int(op_.int_attr("output"));
    const bool upper = op_.int_attr("upper") != 0;
    const bool rev = mode_ == Mode::Vjp;
    const int y = y_;
    const int d = rev ? g_ : t_[0];  // the cotangent or the operand's tangent
    const Shape xs = type(x_[0]).shape;
    const int32_t m = xs[xs.size() - 2], n = xs.back(), k = std::min(m, n);
    const std::string name = std::string("[linalg::") + ir::linalg_kind_name(kind) + "] ";
    switch (kind) {
      case LinalgKind::Inv:  // dY = -Y dA Y
        return rev ? neg(mm(mT(y), mm(d, mT(y)))) : neg(mm(y, mm(d, y)));
      case LinalgKind::TriInv: {  // the other triangle of A is not read
        int tri = upper ? (kDiag | kAbove) : (kDiag | kBelow);
        return rev ? keep(neg(mm(mT(y), mm(d, mT(y)))), tri) : neg(mm(y, mm(keep(d, tri), y)));
      }
      case LinalgKind::Cholesky: {
        // A = L L^T: dL = L phi(L^-1 dS L^-T), phi = the lower triangle with
        // half the diagonal; the upper factor is L^T.
        int L = upper ? mT(y) : y;
        int Linv = b_.op(OpKind::Linalg, {L}, ir::linalg_attrs(LinalgKind::TriInv, 0, false));
        auto phi = [&](int v) { return add(keep(v, kBelow), mul(keep(v, kDiag), like(v, 0.5))); };
        if (!rev) {
          int dL = mm(L, phi(mm(Linv, mm(sym(d), mT(Linv)))));
          return upper ? mT(dL) : dL;
        }
        int gL = upper ? mT(d) : d;
        return sym(mm(mT(Linv), mm(phi(mm(mT(L), gL)), Linv)));
      }
      case LinalgKind::Qr: {
        if (m < n)
          throw std::invalid_argument(name + "The derivative is implemented only for matrices with "
                                      "at least as many rows as columns, got shape " + ir::shape_to_string(xs) + ".");
        int Q = factor_output(kind, 0), R = factor_output(kind, 1);
        int Rinv = b_.op(OpKind::Linalg, {R}, ir::linalg_attrs(LinalgKind::TriInv, 0, true));
        if (!rev) {
          int dARinv = mm(d, Rinv);
          int C = mm(mT(Q), dARinv);
          int W = keep(C, kBelow);
          int dOmega = sub(W, mT(W));
          if (output == 0) return add(mm(Q, dOmega), sub(dARinv, mm(Q, C)));
          return mm(sub(C, dOmega), R);
        }
        // M = R gR^T - gQ^T Q; gA = (gQ + Q copyltu(M)) R^-T, copyltu
        // mirroring M's lower triangle into its upper one.
        int M = output == 0 ? neg(mm(mT(d), Q)) : mm(R, mT(d));
        int sym_lower = select(band(type(M).shape, kBelow | kDiag), M, mT(M));
        int inner = mm(Q, sym_lower);
        if (output == 0) inner = add(d, inner);
        return mm(inner, mT(Rinv));
      }
      case LinalgKind::Svd:
      case LinalgKind::SvdValues: {
        const bool values = kind == LinalgKind::SvdValues || output == 1;
        if (!values && m != n)
          throw std::invalid_argument(name + "The derivative of U and Vt is implemented only for square "
                                      "matrices, got shape " + ir::shape_to_string(xs) + ".");
        int U = leading(factor_output(LinalgKind::Svd, 0), m, k);
        int S = factor_output(LinalgKind::Svd, 1);
        int Vt = leading(factor_output(LinalgKind::Svd, 2), k, n);
        if (values)  // dS = diag(U^T dA V)
          return rev ? mm(U, mm(diag_embed(d), Vt)) : diag_part(mm(mT(U), mm(d, mT(Vt))));
        // F[i, j] = 1 / (s_j^2 - s_i^2).
        int F = inverse_gaps(square(S));
        int V = mT(Vt);
        if (!rev) {
          int dP = mm(mT(U), mm(d, V));
          if (output == 0)  // dU = U (F o (dP S + S dP^T))
            return mm(U, mul(F, add(mul(dP, as_rows(S)), mul(as_cols(S), mT(dP)))));
          // dV = V (F o (S dP + dP^T S)), dVt = dV^T
          return mT(mm(V, mul(F, add(mul(as_cols(S), dP), mul(mT(dP), as_rows(S))))));
        }
        if (output == 0) {  // gA = U ((J + J^T) S) Vt, J = F o (U^T gU)
          int J = mul(F, mm(mT(U), d));
          return mm(U, mm(mul(add(J, mT(J)), as_rows(S)), Vt));
        }
        // gA = U (S (K + K^T)) Vt, K = F o (V^T gV), gV = gVt^T
        int K = mul(F, mm(Vt, mT(d)));
        return mm(U, mm(mul(as_cols(S), add(K, mT(K))), Vt));
      }
      case LinalgKind::Eigh:
      case LinalgKind::Eigvalsh: {
        // dw = diag(V^T dS V), dV = V (F o (V^T dS V)), F[i, j] = 1 / (w_j - w_i).
        const bool values = kind == LinalgKind::Eigvalsh || output == 0;
        int V = factor_output(LinalgKind::Eigh, 1, upper);
        if (!rev) {
          int dP = mm(mT(V), mm(sym(d), V));
          if (values) return diag_part(dP);
          return mm(V, mul(inverse_gaps(factor_output(LinalgKind::Eigh, 0, upper)), dP));
        }
        int inner = values ? diag_embed(d)
                           : mul(inverse_gaps(factor_output(LinalgKind::Eigh, 0, upper)), mm(mT(V), d));
        return sym(mm(V, mm(inner, mT(V))));
      }
      case LinalgKind::Solve: {
        // The operand is [A | B] and y = X = A^-1 B: dX = A^-1 (dB - dA X);
        // gB = A^-T g, gA = -gB X^T.
        const size_t r = xs.size();
        auto columns = [&](int v, int64_t from, int64_t to) {
          const Shape s = type(v).shape;
          std::vector<int64_t> start(s.size(), 0), stop(s.begin(), s.end()), step(s.size(), 1);
          start[r - 1] = from;
          stop[r - 1] = to;
          return slice(v, start, stop, step);
        };
        auto solve = [&](int A, int B) {
          int aug = b_.op(OpKind::Concatenate, {A, B}, {{"axis", int64_t(r - 1)}});
          return b_.op(OpKind::Linalg, {aug}, ir::linalg_attrs(LinalgKind::Solve, 0));
        };
        int A = columns(x_[0], 0, m);
        if (!rev) return solve(A, sub(columns(d, m, n), mm(columns(d, 0, m), y)));
        int gB = solve(mT(A), d);
        return b_.op(OpKind::Concatenate, {neg(mm(gB, mT(y))), gB}, {{"axis", int64_t(r - 1)}});
      }
      case LinalgKind::Eig: case LinalgKind::Eigvals:  // complex results: no rule yet
      case LinalgKind::LuFactor:
        break;
    }
    throw std::invalid_argument(name + "The factorization is not differentiable.");
  }

  // scatter's rules (a, indices, updates). The indices get nothing.
  void scatter_rules() {
    const int a = x_[0], idx = x_[1], upd = x_[2], y = y_;
    const int64_t axis = op_.int_attr("axis");
    const auto r = ScatterReduce(op_.int_attr("reduce"));
    // The result's value at each update's destination, and whether the
    // update (or a's element) is what max/min kept there.
    auto at_updates = [&](int v) { return take(v, idx, axis); };
    auto kept_update = [&] { return bin(OpKind::Equal, upd, at_updates(y)); };
    auto kept_a = [&] { return bin(OpKind::Equal, a, y); };
    switch (r) {
      case ScatterReduce::Assign:  // a's overwritten elements get nothing
        return vjp_jvp(
            [&](size_t i) {
              return i == 0 ? scatter(g_, idx, zeros(type(upd)), axis, r) : at_updates(g_);
            },
            [&] { return scatter(tangent_or_zeros(0), idx, tangent_or_zeros(2), axis, r); });
      case ScatterReduce::Add:
        return vjp_jvp([&](size_t i) { return i == 0 ? g_ : at_updates(g_); },
                       [&] { return scatter(tangent_or_zeros(0), idx, tangent_or_zeros(2), axis, r); });
      case ScatterReduce::Prod: {  // y = a * P, P the product of the updates landing there
        auto products = [&] { return scatter(like(a, 1), idx, upd, axis, r); };
        return vjp_jvp(
            [&](size_t i) { return i == 0 ? mul(g_, products()) : div(at_updates(mul(g_, y)), upd); },
            [&] {
              int t = kNone;
              if (t_[0] != kNone) t = mul(t_[0], products());
              if (t_[2] != kNone) {
                int rel = scatter(zeros(type(a)), idx, div(t_[2], upd), axis, ScatterReduce::Add);
                int term = mul(y, rel);
                t = t == kNone ? term : add(t, term);
              }
              return t;
            });
      }
      case ScatterReduce::Max: case ScatterReduce::Min:
        // Every element equal to the result gets the whole cotangent (ties
        // are rare; the forward rule is this rule's transpose).
        return vjp_jvp(
            [&](size_t i) {
              return i == 0 ? select(kept_a(), g_, zeros(type(a)))
                            : select(kept_update(), at_updates(g_), zeros(type(upd)));
            },
            [&] {
              int ta = t_[0] != kNone ? select(kept_a(), t_[0], zeros(type(a))) : zeros(type(a));
              int tu = t_[2] != kNone ? select(kept_update(), t_[2], zeros(type(upd))) : zeros(type(upd));
              return scatter(ta, idx, tu, axis, ScatterReduce::Add);
            });
    }
  }

  // ---- the rules -------------------------------------------------------------
  void apply() {
    const int x = x_.empty() ? kNone : x_[0];
    const int x1 = x_.size() > 1 ? x_[1] : kNone;
    const int y = y_;
    switch (op_.kind) {
      // -- unary elementwise: the derivative dy/dx ------------------------------
      case OpKind::Abs:
        if (is_complex(type(x).dtype)) return complex_abs_rule();
        return unary([&] { return times(un(OpKind::Sign, x)); });
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
      case OpKind::Scatter: return scatter_rules();
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

      // -- scans and sort: passes/scan_sort_rules.cpp ----------------------------
      KILN_SCAN_OPS(KILN_OP_CASE)
      case OpKind::Sort:
        return vjp_jvp([&](size_t) { return scan_sort_vjp(b_, op_, x, y, g_); },
                       [&] { return scan_sort_jvp(b_, op_, x, y, t_[0]); });
      case OpKind::Linalg:
        return vjp_jvp([&](size_t) { return linalg_rule(); }, [&] { return linalg_rule(); });

      case OpKind::QuantizedMatmul: return quantized_matmul_rules();

      case OpKind::FFT:
        return vjp_jvp([&](size_t) { return fft_vjp(); }, [&] { return b_.op(OpKind::FFT, {t_[0]}, op_.attrs); });
      case OpKind::Bitcast: return bitcast_rule();  // only float32 <-> complex64 is active

      // Never active: constants, ops without a derivative
      // (ir::is_differentiable) and custom ops (their own rules, passes/custom.cpp).
      case OpKind::Constant: case OpKind::Custom: case OpKind::Sign: case OpKind::Floor:
      case OpKind::Ceil: case OpKind::Round: case OpKind::LogicalNot: case OpKind::BitwiseInvert:
      case OpKind::StopGradient: case OpKind::FloorDivide: case OpKind::LogicalAnd:
      case OpKind::LogicalOr: case OpKind::BitwiseAnd: case OpKind::BitwiseOr:
      case OpKind::BitwiseXor: case OpKind::LeftShift: case OpKind::RightShift:
      case OpKind::All: case OpKind::Any: case OpKind::Argmax: case OpKind::Argmin:
      case OpKind::Argsort: case OpKind::Argpartition:
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
  const std::vector<bool> active = activity(f, wrt);
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
  const std::vector<bool> active = activity(f, wrt);
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
