// Elementwise operations: dtype rules of MLX on top of the IR's primitives.
#include <cmath>
#include <limits>

#include "frontend/ops_util.h"

namespace kiln {

using detail::binary;
using detail::cast_to;
using detail::throw_invalid;
using detail::unary;
using ir::OpKind;

namespace {

// Ops defined on floats: integer and bool inputs compute in float32.
array float_unary(OpKind k, const array& a) {
  return unary(k, cast_to(a, detail::at_least_float(a.dtype())));
}

array float_binary(OpKind k, const array& a, const array& b) {
  auto xs = detail::promote_and_broadcast(ir::op_name(k), {a, b});
  Dtype t = detail::at_least_float(xs[0].dtype());
  return detail::make_node(k, {cast_to(xs[0], t), cast_to(xs[1], t)});
}

void require_not_complex(const char* op, const array& a) {
  if (is_complex(a.dtype())) throw_invalid(op, "Not supported for complex64.");
}

array bitwise(OpKind k, const array& a, const array& b) {
  Dtype t = promote_types(a.dtype(), b.dtype());
  bool shift = k == OpKind::LeftShift || k == OpKind::RightShift;
  // As MLX: shifting bools shifts them as uint8 (true << true is 2).
  if (shift && t == bool_) return binary(k, cast_to(a, uint8), cast_to(b, uint8));
  if (!is_integral(t) && t != bool_)
    throw_invalid(ir::op_name(k), std::string("Bitwise operations are only allowed on integer") +
                                      " and boolean types, got " +
                                      dtype_name(a.dtype()) + " and " + dtype_name(b.dtype()) + ".");
  return binary(k, a, b);
}

}  // namespace

array abs(const array& a, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  if (is_unsigned(a.dtype()) || a.dtype() == bool_) return a;
  return unary(OpKind::Abs, a);
}
array negative(const array& a, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  if (a.dtype() == bool_) throw_invalid("negative", "Not supported for bool, use logical_not instead.");
  return unary(OpKind::Negative, a);
}
array sign(const array& a, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  return a.dtype() == bool_ ? a : unary(OpKind::Sign, a);
}
array square(const array& a, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  return a.dtype() == bool_ ? a : unary(OpKind::Square, a);
}
array sqrt(const array& a, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  return float_unary(OpKind::Sqrt, a);
}
array rsqrt(const array& a, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  return float_unary(OpKind::Rsqrt, a);
}
array reciprocal(const array& a, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  Dtype t = detail::at_least_float(a.dtype());
  return divide(detail::scalar(1.0, t), a);
}
array exp(const array& a, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  return float_unary(OpKind::Exp, a);
}
array log(const array& a, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  return float_unary(OpKind::Log, a);
}
array sin(const array& a, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  return float_unary(OpKind::Sin, a);
}
array cos(const array& a, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  return float_unary(OpKind::Cos, a);
}
array tan(const array& a, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  return float_unary(OpKind::Tan, a);
}
array sinh(const array& a, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  return float_unary(OpKind::Sinh, a);
}
array cosh(const array& a, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  return float_unary(OpKind::Cosh, a);
}
array tanh(const array& a, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  return float_unary(OpKind::Tanh, a);
}

#define KILN_REAL_FLOAT_UNARY(fn, kind)             \
  array fn(const array& a, StreamOrDevice s) {      \
    detail::OpStream on_stream(s);                  \
    require_not_complex(#fn, a);                    \
    return float_unary(OpKind::kind, a);            \
  }
KILN_REAL_FLOAT_UNARY(expm1, Expm1)
KILN_REAL_FLOAT_UNARY(log2, Log2)
KILN_REAL_FLOAT_UNARY(log10, Log10)
KILN_REAL_FLOAT_UNARY(log1p, Log1p)
KILN_REAL_FLOAT_UNARY(arcsin, Arcsin)
KILN_REAL_FLOAT_UNARY(arccos, Arccos)
KILN_REAL_FLOAT_UNARY(arctan, Arctan)
KILN_REAL_FLOAT_UNARY(arcsinh, Arcsinh)
KILN_REAL_FLOAT_UNARY(arccosh, Arccosh)
KILN_REAL_FLOAT_UNARY(arctanh, Arctanh)
KILN_REAL_FLOAT_UNARY(sigmoid, Sigmoid)
KILN_REAL_FLOAT_UNARY(erf, Erf)
KILN_REAL_FLOAT_UNARY(erfinv, Erfinv)
#undef KILN_REAL_FLOAT_UNARY

// Rounding is the identity on integers.
array floor(const array& a, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  require_not_complex("floor", a);
  return is_floating(a.dtype()) ? unary(OpKind::Floor, a) : a;
}
array ceil(const array& a, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  require_not_complex("ceil", a);
  return is_floating(a.dtype()) ? unary(OpKind::Ceil, a) : a;
}
array round(const array& a, int decimals, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  require_not_complex("round", a);
  if (!is_floating(a.dtype())) return a;
  if (decimals == 0) return unary(OpKind::Round, a);
  Dtype t = a.dtype();
  array scale = detail::scalar(std::pow(10.0, decimals), t);
  const double scale_in_t = scale.item<double>();  // 10^decimals rounded to t
  // Rounding to more digits than the dtype holds changes nothing;
  // round(x, 400) would otherwise be inf / inf = nan.
  if (std::isinf(scale_in_t)) return a;
  // Far enough to the left, everything finite rounds to zero (and 0 / 0
  // would be nan).
  if (scale_in_t == 0) return multiply(a, detail::scalar(0.0, t));
  array scaled = multiply(a, scale);
  // Past 2^(mantissa bits) a float is an integer already: keep x, not the
  // inexact (x * scale) / scale, and never overflow to inf / inf.
  int mantissa = t == float16 ? 11 : t == bfloat16 ? 8 : t == float32 ? 24 : 53;
  array integral = greater_equal(abs(scaled), detail::scalar(std::ldexp(1.0, mantissa - 1), t));
  return where(integral, a, divide(unary(OpKind::Round, scaled), scale));
}

array isnan(const array& a, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  if (!is_inexact(a.dtype())) return full(a.shape(), array(false));
  return not_equal(a, a);
}
array isposinf(const array& a, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  if (!is_floating(a.dtype())) return full(a.shape(), array(false));
  return equal(a, detail::scalar(std::numeric_limits<double>::infinity(), a.dtype()));
}
array isneginf(const array& a, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  if (!is_floating(a.dtype())) return full(a.shape(), array(false));
  return equal(a, detail::scalar(-std::numeric_limits<double>::infinity(), a.dtype()));
}
array isinf(const array& a, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  if (is_complex(a.dtype())) return isinf(abs(a));
  if (!is_floating(a.dtype())) return full(a.shape(), array(false));
  return equal(abs(a), detail::scalar(std::numeric_limits<double>::infinity(), a.dtype()));
}
array isfinite(const array& a, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  return logical_not(logical_or(isnan(a), isinf(a)));
}

array logical_not(const array& a, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  return unary(OpKind::LogicalNot, cast_to(a, bool_));
}
array bitwise_invert(const array& a, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  if (!is_integral(a.dtype()) && a.dtype() != bool_)
    throw_invalid("bitwise_invert", "Bitwise inversion is only allowed on integer and boolean types, got " +
                                        dtype_name(a.dtype()) + ".");
  return unary(OpKind::BitwiseInvert, a);
}
array stop_gradient(const array& a, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  return unary(OpKind::StopGradient, a);
}

array add(const array& a, const array& b, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  return binary(OpKind::Add, a, b);
}
array subtract(const array& a, const array& b, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  if (a.dtype() == bool_ && b.dtype() == bool_)
    throw_invalid("subtract", "Not supported for bool operands, use not_equal or bitwise_xor instead.");
  return binary(OpKind::Subtract, a, b);
}
array multiply(const array& a, const array& b, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  return binary(OpKind::Multiply, a, b);
}
array divide(const array& a, const array& b, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  return float_binary(OpKind::Divide, a, b);
}

array floor_divide(const array& a, const array& b, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  Dtype t = promote_types(a.dtype(), b.dtype());
  if (is_complex(t)) throw_invalid("floor_divide", "Not supported for complex64.");
  // Floats too use the primitive: floor(a / b) with the quotient rounded to
  // float32 first would give 1 // 0.1f = 10 instead of NumPy's 9.
  // bool // bool is computed as integers, as NumPy does.
  if (t == bool_) return floor_divide(cast_to(a, int32), cast_to(b, int32));
  return binary(OpKind::FloorDivide, a, b);
}
array remainder(const array& a, const array& b, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  Dtype t = promote_types(a.dtype(), b.dtype());
  if (is_complex(t)) throw_invalid("remainder", "Not supported for complex64.");
  if (t == bool_) return remainder(cast_to(a, int32), cast_to(b, int32));
  return binary(OpKind::Remainder, a, b);
}
array power(const array& a, const array& b, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  Dtype t = promote_types(a.dtype(), b.dtype());
  if (t == bool_) return power(cast_to(a, int32), cast_to(b, int32));
  return binary(OpKind::Power, a, b);
}
array maximum(const array& a, const array& b, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  if (is_complex(promote_types(a.dtype(), b.dtype())))
    throw_invalid("maximum", "Not supported for complex64.");
  return binary(OpKind::Maximum, a, b);
}
array minimum(const array& a, const array& b, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  if (is_complex(promote_types(a.dtype(), b.dtype())))
    throw_invalid("minimum", "Not supported for complex64.");
  return binary(OpKind::Minimum, a, b);
}
array arctan2(const array& a, const array& b, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  if (is_complex(promote_types(a.dtype(), b.dtype())))
    throw_invalid("arctan2", "Not supported for complex64.");
  return float_binary(OpKind::Arctan2, a, b);
}
array logaddexp(const array& a, const array& b, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  if (is_complex(promote_types(a.dtype(), b.dtype())))
    throw_invalid("logaddexp", "Not supported for complex64.");
  return float_binary(OpKind::LogAddExp, a, b);
}

array equal(const array& a, const array& b, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  return binary(OpKind::Equal, a, b);
}
array not_equal(const array& a, const array& b, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  return binary(OpKind::NotEqual, a, b);
}

#define KILN_ORDERED_COMPARISON(fn, kind)                                 \
  array fn(const array& a, const array& b, StreamOrDevice s) {            \
    detail::OpStream on_stream(s);                                        \
    if (is_complex(promote_types(a.dtype(), b.dtype())))                  \
      throw_invalid(#fn, "Complex numbers are not ordered.");             \
    return binary(OpKind::kind, a, b);                                    \
  }
KILN_ORDERED_COMPARISON(less, Less)
KILN_ORDERED_COMPARISON(less_equal, LessEqual)
KILN_ORDERED_COMPARISON(greater, Greater)
KILN_ORDERED_COMPARISON(greater_equal, GreaterEqual)
#undef KILN_ORDERED_COMPARISON

array logical_and(const array& a, const array& b, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  return binary(OpKind::LogicalAnd, cast_to(a, bool_), cast_to(b, bool_));
}
array logical_or(const array& a, const array& b, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  return binary(OpKind::LogicalOr, cast_to(a, bool_), cast_to(b, bool_));
}
array bitwise_and(const array& a, const array& b, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  return bitwise(OpKind::BitwiseAnd, a, b);
}
array bitwise_or(const array& a, const array& b, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  return bitwise(OpKind::BitwiseOr, a, b);
}
array bitwise_xor(const array& a, const array& b, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  return bitwise(OpKind::BitwiseXor, a, b);
}
array left_shift(const array& a, const array& b, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  return bitwise(OpKind::LeftShift, a, b);
}
array right_shift(const array& a, const array& b, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  return bitwise(OpKind::RightShift, a, b);
}

array where(const array& condition, const array& x, const array& y, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  Dtype t = promote_types(x.dtype(), y.dtype());
  Shape shape = detail::broadcast_shapes("where", condition.shape(), x.shape());
  shape = detail::broadcast_shapes("where", shape, y.shape());
  return detail::make_node(OpKind::Select, {broadcast_to(cast_to(condition, bool_), shape),
                                            broadcast_to(cast_to(x, t), shape),
                                            broadcast_to(cast_to(y, t), shape)});
}

array clip(const array& a, const std::optional<array>& a_min, const std::optional<array>& a_max,
           StreamOrDevice s) {
  detail::OpStream on_stream(s);
  if (!a_min && !a_max) throw_invalid("clip", "At most one of a_min and a_max may be None.");
  require_not_complex("clip", a);  // complex numbers are not ordered
  array out = a;
  if (a_min) out = maximum(out, *a_min);
  if (a_max) out = minimum(out, *a_max);
  return out;
}

array array_equal(const array& a, const array& b, bool equal_nan, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  if (a.shape() != b.shape()) return array(false);
  array eq = equal(a, b);
  if (equal_nan) eq = logical_or(eq, logical_and(isnan(a), isnan(b)));
  return all(eq);
}

array isclose(const array& a, const array& b, double rtol, double atol, bool equal_nan, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  // |a - b| <= atol + rtol * |b|, with equal infinities close and nans
  // close to each other only when equal_nan is set.
  Dtype t = detail::at_least_float(promote_types(a.dtype(), b.dtype()));
  array fa = cast_to(a, t), fb = cast_to(b, t);
  array lhs = abs(subtract(fa, fb));  // real, also for complex inputs (as NumPy)
  Dtype real = lhs.dtype();
  array rhs = add(detail::scalar(atol, real), multiply(detail::scalar(rtol, real), abs(fb)));
  // An infinite b is close only to itself (inf <= inf would say otherwise).
  array close = logical_and(less_equal(lhs, rhs), isfinite(fb));
  close = logical_or(close, equal(fa, fb));
  if (equal_nan) close = logical_or(close, logical_and(isnan(fa), isnan(fb)));
  return close;
}

array allclose(const array& a, const array& b, double rtol, double atol, bool equal_nan, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  return all(isclose(a, b, rtol, atol, equal_nan));
}

namespace detail {

array weak_scalar(double v, Dtype other) {
  return array(v, is_inexact(other) ? other : float32);
}
array weak_scalar(int64_t v, Dtype other) {
  return array(v, other == bool_ ? int32 : other);
}
array weak_scalar(bool v, Dtype other) { return array(v, other); }
array weak_scalar(complex64_t v, Dtype other) { return array(v, complex64); }

}  // namespace detail

// ---- composites -----------------------------------------------------------------

array degrees(const array& a, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  array x = astype(a, detail::at_least_float(a.dtype()));
  return x * (180.0 / 3.14159265358979323846);
}
array radians(const array& a, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  array x = astype(a, detail::at_least_float(a.dtype()));
  return x * (3.14159265358979323846 / 180.0);
}

array nan_to_num(const array& a, float nan, const std::optional<float> posinf, const std::optional<float> neginf,
                 StreamOrDevice s) {
  detail::OpStream on_stream(s);
  Dtype t = a.dtype();
  if (is_complex(t)) throw_invalid("nan_to_num", "complex64 is not supported.");
  if (!is_floating(t)) return a;
  double largest = t == float16    ? 65504.0
                   : t == bfloat16 ? 3.3895313892515355e38
                   : t == float32  ? double(std::numeric_limits<float>::max())
                                   : std::numeric_limits<double>::max();
  array out = where(isnan(a), detail::scalar(nan, t), a);
  out = where(isposinf(a), detail::scalar(posinf ? double(*posinf) : largest, t), out);
  return where(isneginf(a), detail::scalar(neginf ? double(*neginf) : -largest, t), out);
}

}  // namespace kiln
