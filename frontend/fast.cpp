// kiln::fast: composites (see fast.h). Each computes in at least float32
// and returns the input's dtype.
#include "frontend/fast.h"

#include <cmath>
#include <limits>

#include "frontend/ops_util.h"

namespace kiln::fast {

using detail::cast_to;
using detail::str;
using detail::throw_invalid;

namespace {

// float32 for half-precision and integer inputs (accumulation precision).
Dtype compute_dtype(Dtype t) { return t == float64 ? float64 : float32; }

void check_features(const char* op, const array& x, const std::optional<array>& p, const char* name) {
  if (!p) return;
  if (p->ndim() != 1 || p->shape(0) != x.shape(-1))
    throw_invalid(op, std::string(name) + " of shape " + str(p->shape()) + " does not match the last axis of x " +
                          str(x.shape()) + ".");
}

}  // namespace

array rms_norm(const array& x, const std::optional<array>& weight, float eps, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  if (x.ndim() == 0) throw_invalid("rms_norm", "x must have at least one axis.");
  check_features("rms_norm", x, weight, "weight");
  Dtype out_t = weight ? promote_types(x.dtype(), weight->dtype()) : x.dtype();
  out_t = detail::at_least_float(out_t);
  Dtype t = compute_dtype(out_t);
  array xf = cast_to(x, t);
  array y = xf * rsqrt(mean(square(xf), -1, true) + detail::scalar(eps, t));
  if (weight) y = y * cast_to(*weight, t);
  return cast_to(y, out_t);
}

array layer_norm(const array& x, const std::optional<array>& weight, const std::optional<array>& bias, float eps,
                 StreamOrDevice s) {
  detail::OpStream on_stream(s);
  if (x.ndim() == 0) throw_invalid("layer_norm", "x must have at least one axis.");
  check_features("layer_norm", x, weight, "weight");
  check_features("layer_norm", x, bias, "bias");
  Dtype out_t = x.dtype();
  if (weight) out_t = promote_types(out_t, weight->dtype());
  if (bias) out_t = promote_types(out_t, bias->dtype());
  out_t = detail::at_least_float(out_t);
  Dtype t = compute_dtype(out_t);
  array xf = cast_to(x, t);
  array centered = xf - mean(xf, -1, true);
  array y = centered * rsqrt(mean(square(centered), -1, true) + detail::scalar(eps, t));
  if (weight) y = y * cast_to(*weight, t);
  if (bias) y = y + cast_to(*bias, t);
  return cast_to(y, out_t);
}

namespace {

// The rotation of x's first `dims` features by angles (L, dims / 2).
array rope_impl(const array& x, int dims, bool traditional, std::optional<float> base, float scale,
                const array& positions, const std::optional<array>& freqs) {
  if (x.ndim() < 2) throw_invalid("rope", "x must have at least 2 axes (..., L, D), got shape " + str(x.shape()) + ".");
  int d = x.shape(-1);
  if (dims <= 0 || dims % 2 || dims > d)
    throw_invalid("rope", "dims must be even, positive and at most the last axis " + std::to_string(d) + ", got " +
                              std::to_string(dims) + ".");
  int half = dims / 2;
  Dtype out_t = detail::at_least_float(x.dtype());
  Dtype t = compute_dtype(out_t);
  array inv_freq = array(0.0f);
  if (freqs) {
    if (base) throw_invalid("rope", "give either base or freqs, not both.");
    if (freqs->ndim() != 1 || freqs->shape(0) != half)
      throw_invalid("rope", "freqs must have shape (" + std::to_string(half) + "), got " + str(freqs->shape()) + ".");
    inv_freq = reciprocal(cast_to(*freqs, t));
  } else {
    if (!base) throw_invalid("rope", "base must be given when freqs is not.");
    // base^(-i / half) = exp(-i * log(base) / half)
    inv_freq = exp(arange(0.0, double(half), t) * detail::scalar(-std::log(double(*base)) / half, t));
  }
  array theta = expand_dims(cast_to(positions, t) * detail::scalar(scale, t), 1) * expand_dims(inv_freq, 0);
  // Each output pair is a sum over the input pair, out_a = sum_b x_b R_ab,
  // with R = [[cos, -sin], [sin, cos]] written as cos(theta - phase_ab):
  // one elementwise product and a reduction of extent 2, which the fusion
  // pass makes one kernel (no split, stack or concatenate of x).
  const double quarter = 1.5707963267948966;
  array phase = astype(array({0.0f, float(-quarter), float(quarter), 0.0f}, {2, 2}), t);  // [a][b]
  int length = theta.shape(0);
  array xf = cast_to(x, t);
  Shape lead = x.shape();
  lead.pop_back();
  Shape start(x.ndim(), 0), stop = x.shape();
  stop.back() = dims;
  array rot_in = (dims == d) ? xf : slice(xf, start, stop);
  Shape pair_shape = lead;
  array rotated = array(0.0f);
  if (traditional) {
    // Features (2i, 2i+1): x as (..., L, half, 1, b), R as (L, half, a, b).
    for (int e : {half, 1, 2}) pair_shape.push_back(e);
    array r = cos(reshape(theta, {length, half, 1, 1}) - phase);
    rotated = sum(reshape(rot_in, pair_shape) * r, -1);
  } else {
    // Features (i, i + half): x as (..., L, 1, b, half), R as (L, a, b, half).
    for (int e : {1, 2, half}) pair_shape.push_back(e);
    array r = cos(reshape(theta, {length, 1, 1, half}) - reshape(phase, {2, 2, 1}));
    rotated = sum(reshape(rot_in, pair_shape) * r, -2);
  }
  rotated = reshape(rotated, stop);
  if (dims < d) {
    Shape from(x.ndim(), 0);
    from.back() = dims;
    rotated = concatenate({rotated, slice(xf, from, x.shape())}, -1);
  }
  return cast_to(rotated, out_t);
}

}  // namespace

array rope(const array& x, int dims, bool traditional, std::optional<float> base, float scale, int offset,
           const std::optional<array>& freqs, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  if (x.ndim() < 2) throw_invalid("rope", "x must have at least 2 axes (..., L, D), got shape " + str(x.shape()) + ".");
  int length = x.shape(-2);
  return rope_impl(x, dims, traditional, base, scale, arange(double(offset), double(offset) + length, float32), freqs);
}

array rope(const array& x, int dims, bool traditional, std::optional<float> base, float scale, const array& offset,
           const std::optional<array>& freqs, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  if (x.ndim() < 2) throw_invalid("rope", "x must have at least 2 axes (..., L, D), got shape " + str(x.shape()) + ".");
  if (offset.ndim() != 0 || !issubdtype(offset.dtype(), integer))
    throw_invalid("rope", "offset must be a scalar integer array, got shape " + str(offset.shape()) + ".");
  int length = x.shape(-2);
  return rope_impl(x, dims, traditional, base, scale, arange(0.0, double(length), float32) + astype(offset, float32),
                   freqs);
}

array scaled_dot_product_attention(const array& queries, const array& keys, const array& values, const float scale,
                                   const std::string& mask_mode, std::optional<array> mask_arr,
                                   const std::optional<array>& sinks, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  const char* op = "scaled_dot_product_attention";
  if (queries.ndim() != 4 || keys.ndim() != 4 || values.ndim() != 4)
    throw_invalid(op, "queries, keys and values must be 4-D (B, heads, length, dims), got " + str(queries.shape()) +
                          ", " + str(keys.shape()) + " and " + str(values.shape()) + ".");
  int batch = queries.shape(0), hq = queries.shape(1), L = queries.shape(2), dk = queries.shape(3);
  int hkv = keys.shape(1), S = keys.shape(2);
  if (keys.shape(0) != batch || values.shape(0) != batch || keys.shape(3) != dk || values.shape(1) != hkv ||
      values.shape(2) != S)
    throw_invalid(op, "shapes of queries " + str(queries.shape()) + ", keys " + str(keys.shape()) + " and values " +
                          str(values.shape()) + " do not match.");
  if (hkv == 0 || hq % hkv)
    throw_invalid(op, "the number of query heads " + std::to_string(hq) +
                          " must be a multiple of the number of key/value heads " + std::to_string(hkv) + ".");
  if (mask_mode != "" && mask_mode != "causal" && mask_mode != "array")
    throw_invalid(op, "mask_mode must be '', 'causal' or 'array', got '" + mask_mode + "'.");
  if (mask_mode == "array" && !mask_arr) throw_invalid(op, "mask_mode 'array' needs mask_arr.");
  if (mask_mode == "causal" && mask_arr) throw_invalid(op, "mask_mode 'causal' takes no mask_arr.");
  if (sinks && (sinks->ndim() != 1 || sinks->shape(0) != hq))
    throw_invalid(op, "sinks must have shape (" + std::to_string(hq) + "), got " + str(sinks->shape()) + ".");

  Dtype out_t = detail::at_least_float(promote_types(promote_types(queries.dtype(), keys.dtype()), values.dtype()));
  Dtype t = compute_dtype(out_t);
  array q = cast_to(queries, t), k = cast_to(keys, t), v = cast_to(values, t);
  if (hkv != hq) {
    // Grouped-query attention: query head h reads key/value head h / (hq / hkv).
    k = repeat(k, hq / hkv, 1);
    v = repeat(v, hq / hkv, 1);
  }
  // The scale multiplies the scores, not q: then it fuses into the
  // softmax's kernel instead of costing one of its own before the matmul.
  array scores = matmul(q, swapaxes(k, -1, -2)) * detail::scalar(scale, t);  // (B, Hq, L, S)
  const float neg_inf = -std::numeric_limits<float>::infinity();
  if (mask_mode == "causal") {
    // Query l is the (S - L + l)-th position: it sees keys 0 .. S - L + l.
    array allowed = greater_equal(expand_dims(arange(S - L, S), 1), expand_dims(arange(0, S), 0));
    scores = where(allowed, scores, detail::scalar(neg_inf, t));
  } else if (mask_arr) {
    detail::broadcast_shapes(op, mask_arr->shape(), scores.shape());
    if (mask_arr->dtype() == bool_)
      scores = where(*mask_arr, scores, detail::scalar(neg_inf, t));
    else
      scores = scores + cast_to(*mask_arr, t);
  }
  array weights = array(0.0f);
  if (sinks) {
    array sink = reshape(cast_to(*sinks, t), {1, hq, 1, 1});
    array m = stop_gradient(maximum(max(scores, -1, true), sink));
    array e = exp(scores - m);
    weights = e / (sum(e, -1, true) + exp(sink - m));
  } else {
    weights = softmax(scores, -1);
  }
  return cast_to(matmul(weights, v), out_t);
}

}  // namespace kiln::fast
