// Derivatives of scans and sorts (scan_sort_rules.h).
//
//  * cumsum is linear: its vjp is the cumsum of the cotangent in the other
//    direction (an exclusive scan stays exclusive), its jvp the same cumsum
//    of the tangent.
//  * The other scans are reduced to a forward inclusive scan: a reverse
//    scan is the flip of a forward scan of the flipped operand, and an
//    exclusive scan is the inclusive one shifted by one (its cotangent
//    shifted back, its tangent shifted forward).
//  * cumprod, without dividing by zero: where no zero came before, the
//    derivative w.r.t. x_k is (reverse cumsum of g*y)_k / x_k; at the first
//    zero it is the reverse cumsum of g times the product of the non-zero
//    elements, up to the second zero; at later zeros it is 0.
//  * cummax/cummin route each output's derivative to the last position at
//    or before it where the running extreme was attained (x_k == y_k), so
//    ties give the later element the whole derivative; a nan in the line
//    stops the derivative after it.
//  * logcumsumexp: d y_i / d x_k = exp(x_k - y_i) for k <= i, summed in the
//    log domain with logcumsumexp itself, separately for the positive and
//    negative parts of the cotangent (or tangent), so that nothing
//    overflows.
//  * sort: with p = argsort(x), sort(x) = take_along_axis(x, p): the jvp
//    takes the tangent along p, the vjp takes the cotangent along the
//    inverse permutation argsort(p).
#include "passes/scan_sort_rules.h"

#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

namespace kiln::passes {

namespace {

using ir::Builder;
using ir::Op;
using ir::OpKind;
using ir::Shape;
using ir::Type;

// Building blocks along one axis of values shaped like the operand.
class Along {
 public:
  Along(Builder& b, const Op& op, int x) : b_(b), axis_(op.int_attr("axis")), shape_(b.type(x).shape) {
    n_ = shape_[size_t(axis_)];
  }

  int scan(OpKind k, int v, bool reverse = false, bool inclusive = true) {
    return b_.op(k, {v}, {{"axis", axis_}, {"reverse", int64_t(reverse)}, {"inclusive", int64_t(inclusive)}});
  }
  int rev_cumsum(int v) { return scan(OpKind::Cumsum, v, true, true); }
  int take(int v, int idx) { return b_.op(OpKind::TakeAlongAxis, {v, idx}, {{"axis", axis_}}); }
  int argsort(int v) { return b_.op(OpKind::Argsort, {v}, {{"axis", axis_}}); }

  // Every element v, of dtype t and the operand's shape.
  int full(Dtype t, double v) { return b_.broadcast(b_.splat(Type{t, {}}, v), shape_); }
  int full_like(int x, double v) { return full(b_.type(x).dtype, v); }
  // The position along the axis, int32.
  int iota() {
    std::vector<int32_t> v(static_cast<size_t>(n_));
    std::iota(v.begin(), v.end(), 0);
    int c = b_.function().add_op(ir::make_constant(Type{int32, {n_}}, v.data()));
    Shape s(shape_.size(), 1);
    s[size_t(axis_)] = n_;
    return b_.broadcast(b_.reshape(c, s), shape_);
  }

  // v reversed along the axis.
  int flip(int v) {
    if (n_ == 0) return v;
    auto [start, stop, strides] = whole();
    start[size_t(axis_)] = n_ - 1;
    stop[size_t(axis_)] = -1;
    strides[size_t(axis_)] = -1;
    return slice(v, start, stop, strides);
  }
  // out_i = v_{i+1}, out_{n-1} = 0.
  int shift_back(int v) { return shift(v, false); }
  // out_0 = 0, out_i = v_{i-1}.
  int shift_forward(int v) { return shift(v, true); }

  Builder& b() { return b_; }
  int32_t n() const { return n_; }

 private:
  struct Box {
    std::vector<int64_t> start, stop, strides;
  };
  Box whole() {
    Box r{std::vector<int64_t>(shape_.size(), 0), std::vector<int64_t>(shape_.begin(), shape_.end()),
          std::vector<int64_t>(shape_.size(), 1)};
    return r;
  }
  int slice(int v, const std::vector<int64_t>& start, const std::vector<int64_t>& stop,
            const std::vector<int64_t>& strides) {
    return b_.op(OpKind::Slice, {v}, {{"start", start}, {"stop", stop}, {"strides", strides}});
  }
  int shift(int v, bool forward) {
    if (n_ == 0) return v;
    auto [start, stop, strides] = whole();
    std::vector<int64_t> low(shape_.size(), 0), high(shape_.size(), 0);
    if (forward) {
      stop[size_t(axis_)] = n_ - 1;
      low[size_t(axis_)] = 1;
    } else {
      start[size_t(axis_)] = 1;
      high[size_t(axis_)] = 1;
    }
    int part = slice(v, start, stop, strides);
    return b_.op(OpKind::Pad, {part, b_.splat(Type{b_.type(v).dtype, {}}, 0)}, {{"low", low}, {"high", high}});
  }

  Builder& b_;
  int64_t axis_;
  Shape shape_;
  int32_t n_;
};

// The pieces of cumprod's rules: where x is zero, x with zeros replaced by
// one, the running count of zeros, and the running product of x1.
struct ZeroSafe {
  int z, x1, count, y1;
  ZeroSafe(Along& a, int x) {
    Builder& b = a.b();
    z = b.binary(OpKind::Equal, x, a.full_like(x, 0));
    x1 = b.select(z, a.full_like(x, 1), x);
    count = a.scan(OpKind::Cumsum, b.cast(z, int32));
    y1 = a.scan(OpKind::Cumprod, x1);
  }
};

// The vjp of a forward inclusive scan of kind k with result y.
int forward_vjp(Along& a, OpKind k, int x, int y, int g) {
  Builder& b = a.b();
  const int zero = a.full_like(x, 0);
  switch (k) {
    case OpKind::Cumprod: {
      ZeroSafe s(a, x);
      int before_zero = b.div(a.rev_cumsum(b.mul(g, y)), s.x1);
      int upto_second = b.binary(OpKind::LessEqual, s.count, a.full(int32, 1));
      int at_first = a.rev_cumsum(b.select(upto_second, b.mul(g, s.y1), zero));
      int first_zero = b.binary(OpKind::Equal, s.count, a.full(int32, 1));
      return b.select(s.z, b.select(first_zero, at_first, zero), before_zero);
    }
    case OpKind::Cummax:
    case OpKind::Cummin: {
      // Attainer k (x_k == y_k) gets the cotangents of outputs k up to the
      // next attainer: the running sum of g there minus the one before k.
      int attained = b.binary(OpKind::Equal, x, y);
      int n = a.full(int32, a.n());
      int next = a.scan(OpKind::Cummin, b.select(attained, a.iota(), n), true, false);
      next = b.binary(OpKind::Minimum, next, n);  // the last position has none after it
      int sums = a.scan(OpKind::Cumsum, g);
      int upto = a.take(sums, b.sub(next, a.full(int32, 1)));
      return b.select(attained, b.sub(upto, b.sub(sums, g)), zero);
    }
    case OpKind::Logcumsumexp: {
      int pos = b.unary(OpKind::Log, b.binary(OpKind::Maximum, g, zero));
      int neg = b.unary(OpKind::Log, b.binary(OpKind::Maximum, b.neg(g), zero));
      int rp = a.scan(OpKind::Logcumsumexp, b.sub(pos, y), true, true);
      int rn = a.scan(OpKind::Logcumsumexp, b.sub(neg, y), true, true);
      return b.sub(b.unary(OpKind::Exp, b.add(x, rp)), b.unary(OpKind::Exp, b.add(x, rn)));
    }
    default: break;
  }
  throw std::logic_error(std::string("autodiff: no scan rule for ") + ir::op_name(k));
}

// The jvp of a forward inclusive scan of kind k with result y.
int forward_jvp(Along& a, OpKind k, int x, int y, int t) {
  Builder& b = a.b();
  const int zero = a.full_like(x, 0);
  switch (k) {
    case OpKind::Cumprod: {
      // Before any zero: y_i * sum_k t_k / x_k; with exactly one zero so
      // far: t at the zero times the product of the others.
      ZeroSafe s(a, x);
      int before_zero = b.mul(y, a.scan(OpKind::Cumsum, b.select(s.z, zero, b.div(t, s.x1))));
      int at_zero = b.mul(s.y1, a.scan(OpKind::Cumsum, b.select(s.z, t, zero)));
      int one_zero = b.binary(OpKind::Equal, s.count, a.full(int32, 1));
      return b.add(before_zero, b.select(one_zero, at_zero, zero));
    }
    case OpKind::Cummax:
    case OpKind::Cummin: {
      // The tangent at the last attainer at or before each position.
      int attained = b.binary(OpKind::Equal, x, y);
      int source = a.scan(OpKind::Cummax, b.select(attained, a.iota(), a.full(int32, 0)));
      return a.take(t, source);
    }
    case OpKind::Logcumsumexp: {
      int pos = b.unary(OpKind::Log, b.binary(OpKind::Maximum, t, zero));
      int neg = b.unary(OpKind::Log, b.binary(OpKind::Maximum, b.neg(t), zero));
      int sp = a.scan(OpKind::Logcumsumexp, b.add(x, pos));
      int sn = a.scan(OpKind::Logcumsumexp, b.add(x, neg));
      return b.sub(b.unary(OpKind::Exp, b.sub(sp, y)), b.unary(OpKind::Exp, b.sub(sn, y)));
    }
    default: break;
  }
  throw std::logic_error(std::string("autodiff: no scan rule for ") + ir::op_name(k));
}

}  // namespace

int scan_sort_vjp(Builder& b, const Op& op, int x, int y, int g) {
  Along a(b, op, x);
  if (op.kind == OpKind::Sort) return a.take(g, a.argsort(a.argsort(x)));
  const bool reverse = op.int_attr("reverse") != 0, inclusive = op.int_attr("inclusive") != 0;
  if (op.kind == OpKind::Cumsum) return a.scan(OpKind::Cumsum, g, !reverse, inclusive);
  int xf = reverse ? a.flip(x) : x;
  int gf = reverse ? a.flip(g) : g;
  if (!inclusive) gf = a.shift_back(gf);
  int yf = !reverse && inclusive ? y : a.scan(op.kind, xf);
  int d = forward_vjp(a, op.kind, xf, yf, gf);
  return reverse ? a.flip(d) : d;
}

int scan_sort_jvp(Builder& b, const Op& op, int x, int y, int t) {
  Along a(b, op, x);
  if (op.kind == OpKind::Sort) return a.take(t, a.argsort(x));
  const bool reverse = op.int_attr("reverse") != 0, inclusive = op.int_attr("inclusive") != 0;
  if (op.kind == OpKind::Cumsum) return a.scan(OpKind::Cumsum, t, reverse, inclusive);
  int xf = reverse ? a.flip(x) : x;
  int tf = reverse ? a.flip(t) : t;
  int yf = !reverse && inclusive ? y : a.scan(op.kind, xf);
  int d = forward_jvp(a, op.kind, xf, yf, tf);
  if (!inclusive) d = a.shift_forward(d);
  return reverse ? a.flip(d) : d;
}

}  // namespace kiln::passes
