// Reductions. The IR reduces over sorted axes and drops them; keepdims is a
// reshape on top.
#include <cmath>
#include <limits>

#include "frontend/ops_util.h"

namespace kiln {

using detail::cast_to;
using detail::throw_invalid;
using ir::OpKind;

namespace {

Shape kept_shape(const Shape& s, const std::vector<int64_t>& axes) {
  Shape out = s;
  for (auto ax : axes) out[ax] = 1;
  return out;
}

array reduce(OpKind k, const array& a, const std::vector<int>& axes, bool keepdims) {
  const char* name = ir::op_name(k);
  auto ax = detail::normalize_axes(name, axes, int(a.ndim()));
  if (k == OpKind::Max || k == OpKind::Min) {
    if (is_complex(a.dtype())) throw_invalid(name, "Not supported for complex64.");
    for (auto d : ax)
      if (a.shape()[d] == 0)
        throw_invalid(name, "Cannot reduce an empty axis of an array of shape " + detail::str(a.shape()) +
                                " (the reduction has no identity).");
  }
  array in = a;
  if (k == OpKind::All || k == OpKind::Any) in = cast_to(a, bool_);
  if ((k == OpKind::Sum || k == OpKind::Prod) && a.dtype() == bool_) in = cast_to(a, int32);
  array out = detail::make_node(k, {in}, {{"axes", ax}});
  return keepdims ? detail::reshape_generic(out, kept_shape(a.shape(), ax)) : out;
}

int64_t reduced_count(const array& a, const std::vector<int64_t>& axes) {
  int64_t n = 1;
  for (auto d : axes) n *= a.shape()[d];
  return n;
}

array arg_reduce(OpKind k, const array& a, int axis, bool keepdims) {
  const char* name = ir::op_name(k);
  int ax = detail::normalize_axis(name, axis, int(a.ndim()));
  if (is_complex(a.dtype())) throw_invalid(name, "Not supported for complex64.");
  if (a.shape()[ax] == 0)
    throw_invalid(name, "Cannot " + std::string(name) + " along an empty axis of shape " +
                            detail::str(a.shape()) + ".");
  array out = detail::make_node(k, {a}, {{"axis", int64_t(ax)}});
  return keepdims ? detail::reshape_generic(out, kept_shape(a.shape(), {ax})) : out;
}

array arg_reduce_all(OpKind k, const array& a, bool keepdims) {
  array out = arg_reduce(k, detail::reshape_generic(a, {-1}), 0, false);
  return keepdims ? detail::reshape_generic(out, Shape(a.ndim(), 1)) : out;
}

}  // namespace

// The all-axes and one-axis forms of a reduction over a list of axes.
#define KILN_AXES_OVERLOADS(fn)                                                       \
  array fn(const array& a, bool keepdims, StreamOrDevice s) {                         \
    return fn(a, detail::all_axes(a), keepdims, std::move(s));                        \
  }                                                                                   \
  array fn(const array& a, int axis, bool keepdims, StreamOrDevice s) {               \
    return fn(a, std::vector<int>{axis}, keepdims, std::move(s));                     \
  }

#define KILN_SIMPLE_REDUCTION(fn, kind)                                                  \
  array fn(const array& a, const std::vector<int>& axes, bool keepdims, StreamOrDevice s) { \
    detail::OpStream on_stream(s);                                                       \
    return reduce(OpKind::kind, a, axes, keepdims);                                      \
  }                                                                                      \
  KILN_AXES_OVERLOADS(fn)
KILN_SIMPLE_REDUCTION(all, All)
KILN_SIMPLE_REDUCTION(any, Any)
KILN_SIMPLE_REDUCTION(sum, Sum)
KILN_SIMPLE_REDUCTION(prod, Prod)
KILN_SIMPLE_REDUCTION(max, Max)
KILN_SIMPLE_REDUCTION(min, Min)
#undef KILN_SIMPLE_REDUCTION


// The dtype in which mean and var accumulate: float32 for 16-bit floats,
// as MLX and NumPy (100 float16 values of 60000 sum past float16's range).
Dtype accumulation_dtype(Dtype t) { return t == float16 || t == bfloat16 ? float32 : t; }

array mean(const array& a, const std::vector<int>& axes, bool keepdims, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  auto ax = detail::normalize_axes("mean", axes, int(a.ndim()));
  Dtype t = detail::at_least_float(a.dtype());
  Dtype acc = accumulation_dtype(t);
  int64_t n = reduced_count(a, ax);
  detail::note_shape_baked("mean", a);  // n is a constant of the trace
  // An empty reduction divides by zero and gives nan, as NumPy.
  return cast_to(divide(sum(cast_to(a, acc), axes, keepdims), detail::scalar(double(n), acc)), t);
}
KILN_AXES_OVERLOADS(mean)

array logsumexp(const array& a, const std::vector<int>& axes, bool keepdims, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  auto ax = detail::normalize_axes("logsumexp", axes, int(a.ndim()));  // errors under this op's name
  array x = cast_to(a, detail::at_least_float(a.dtype()));
  // The log of an empty sum is -inf; there is no maximum to shift by.
  if (reduced_count(a, ax) == 0) return log(sum(exp(x), axes, keepdims));
  array m = stop_gradient(max(x, axes, true));
  // An infinite maximum (all -inf, or a +inf) would give inf - inf = nan
  // below; shifting by zero instead gives the right -inf / +inf.
  m = where(isinf(m), detail::scalar(0, x.dtype()), m);
  array out = add(log(sum(exp(subtract(x, m)), axes, true)), m);
  if (keepdims) return out;
  return squeeze(out, axes.empty() ? std::vector<int>{} : axes);
}
KILN_AXES_OVERLOADS(logsumexp)

array var(const array& a, const std::vector<int>& axes, bool keepdims, int ddof, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  auto ax = detail::normalize_axes("var", axes, int(a.ndim()));
  Dtype t = detail::at_least_float(a.dtype());
  array x = cast_to(a, accumulation_dtype(t));
  array centered = subtract(x, mean(x, axes, true));
  // The variance of complex values is real, as NumPy: the mean of |x - mean|^2.
  array squared = is_complex(t) ? square(abs(centered)) : square(centered);
  double n = double(reduced_count(a, ax)) - ddof;
  detail::note_shape_baked("var", a);
  // n <= 0 divides by a non-positive count and gives inf/nan, as NumPy.
  array v = divide(sum(squared, axes, keepdims), detail::scalar(std::max(n, 0.0), squared.dtype()));
  return is_complex(t) ? v : cast_to(v, t);
}
array var(const array& a, bool keepdims, int ddof, StreamOrDevice s) { return var(a, detail::all_axes(a), keepdims, ddof, s); }
array var(const array& a, int axis, bool keepdims, int ddof, StreamOrDevice s) { return var(a, std::vector<int>{axis}, keepdims, ddof, s); }
array std(const array& a, const std::vector<int>& axes, bool keepdims, int ddof, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  detail::normalize_axes("std", axes, int(a.ndim()));
  return sqrt(var(a, axes, keepdims, ddof));
}
array std(const array& a, bool keepdims, int ddof, StreamOrDevice s) { return std(a, detail::all_axes(a), keepdims, ddof, s); }
array std(const array& a, int axis, bool keepdims, int ddof, StreamOrDevice s) { return std(a, std::vector<int>{axis}, keepdims, ddof, s); }

array argmax(const array& a, int axis, bool keepdims, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  return arg_reduce(OpKind::Argmax, a, axis, keepdims);
}
array argmax(const array& a, bool keepdims, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  return arg_reduce_all(OpKind::Argmax, a, keepdims);
}
array argmin(const array& a, int axis, bool keepdims, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  return arg_reduce(OpKind::Argmin, a, axis, keepdims);
}
array argmin(const array& a, bool keepdims, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  return arg_reduce_all(OpKind::Argmin, a, keepdims);
}

array softmax(const array& a, const std::vector<int>& axes, bool precise, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  detail::normalize_axes("softmax", axes, int(a.ndim()));
  Dtype out_t = detail::at_least_float(a.dtype());
  // precise: accumulate half-precision inputs in float32.
  Dtype t = precise && (out_t == float16 || out_t == bfloat16) ? float32 : out_t;
  array x = cast_to(a, t);
  array m = stop_gradient(max(x, axes, true));
  array e = exp(subtract(x, m));
  return cast_to(divide(e, sum(e, axes, true)), out_t);
}
array softmax(const array& a, int axis, bool precise, StreamOrDevice s) { return softmax(a, std::vector<int>{axis}, precise, s); }
array softmax(const array& a, bool precise, StreamOrDevice s) { return softmax(a, detail::all_axes(a), precise, s); }

}  // namespace kiln
