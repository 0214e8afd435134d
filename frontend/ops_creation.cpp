// Array creation. Small arrays whose values are known now (arange,
// linspace, eye, tri) are materialized directly; full/zeros/ones are lazy
// broadcasts of a scalar, so they cost nothing until used.
#include <cmath>

#include "frontend/ops_util.h"
#include "ir/element.h"

namespace kiln {

using detail::cast_to;
using detail::throw_invalid;

namespace {

// A materialized array of `shape` whose element i is f(i), stored as t.
template <typename F>
array generate(Dtype t, const Shape& shape, F f) {
  ir::Type type{t, shape};
  auto buf = runtime::allocate(size_t(type.nbytes()));
  for (int64_t i = 0; i < type.size(); ++i) store_f64(t, buf->data(), i, f(i));
  return detail::make_materialized(type, std::move(buf));
}

}  // namespace

array arange(double start, double stop, double step, Dtype dtype, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  if (step == 0) throw_invalid("arange", "Cannot compute length with step 0.");
  if (std::isnan(start) || std::isnan(stop) || std::isnan(step))
    throw_invalid("arange", "Cannot compute length with a nan argument.");
  if (std::isinf(start) || std::isinf(stop))
    throw_invalid("arange", "Cannot compute length with an infinite bound.");
  if (dtype == bool_) throw_invalid("arange", "Cannot create a bool range.");
  double len = std::ceil((stop - start) / step);
  if (len > double(INT32_MAX)) throw_invalid("arange", "Maximum size exceeded.");
  int32_t n = len > 0 ? int32_t(len) : 0;
  return generate(dtype, {n}, [&](int64_t i) { return start + double(i) * step; });
}
array arange(double start, double stop, double step, StreamOrDevice s) { return arange(start, stop, step, float32, s); }
array arange(double start, double stop, Dtype dtype, StreamOrDevice s) { return arange(start, stop, 1.0, dtype, s); }
array arange(double start, double stop, StreamOrDevice s) { return arange(start, stop, 1.0, float32, s); }
array arange(double stop, Dtype dtype, StreamOrDevice s) { return arange(0.0, stop, 1.0, dtype, s); }
array arange(double stop, StreamOrDevice s) { return arange(0.0, stop, 1.0, float32, s); }
array arange(int start, int stop, int step, StreamOrDevice s) { return arange(double(start), double(stop), double(step), int32, s); }
array arange(int start, int stop, StreamOrDevice s) { return arange(double(start), double(stop), 1.0, int32, s); }
array arange(int stop, StreamOrDevice s) { return arange(0.0, double(stop), 1.0, int32, s); }

array linspace(double start, double stop, int num, Dtype dtype, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  if (num < 0) throw_invalid("linspace", "Number of samples, " + std::to_string(num) + ", must be non-negative.");
  double step = num > 1 ? (stop - start) / (num - 1) : 0.0;
  return generate(dtype, {num}, [&](int64_t i) {
    return i == num - 1 && num > 1 ? stop : start + double(i) * step;  // exact endpoint
  });
}

array astype(array a, Dtype dtype, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  return cast_to(a, dtype);
}
// Arrays are immutable: a handle is a copy.
array copy(array a, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  return a;
}

array full(Shape shape, array vals, Dtype dtype, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  return full(std::move(shape), cast_to(vals, dtype));
}
array full(Shape shape, array vals, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  detail::check_shape("full", shape, vals.dtype());
  return broadcast_to(vals, shape);
}
array zeros(const Shape& shape, Dtype dtype, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  detail::check_shape("zeros", shape, dtype);
  return full(shape, array(0, dtype));
}
array ones(const Shape& shape, Dtype dtype, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  detail::check_shape("ones", shape, dtype);
  return full(shape, array(1, dtype));
}
array zeros_like(const array& a, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  return zeros(a.shape(), a.dtype());
}
array ones_like(const array& a, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  return ones(a.shape(), a.dtype());
}
array full_like(const array& a, array vals, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  return full(a.shape(), vals, a.dtype());
}
array full_like(const array& a, array vals, Dtype dtype, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  return full(a.shape(), vals, dtype);
}

array eye(int n, int m, int k, Dtype dtype, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  if (n < 0 || m < 0) throw_invalid("eye", "Dimensions must be non-negative, got " + std::to_string(n) +
                                               " and " + std::to_string(m) + ".");
  return generate(dtype, {n, m}, [&](int64_t i) { return i % m - i / m == k ? 1.0 : 0.0; });
}

array tri(int n, int m, int k, Dtype type, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  if (n < 0 || m < 0) throw_invalid("tri", "Dimensions must be non-negative, got " + std::to_string(n) +
                                               " and " + std::to_string(m) + ".");
  return generate(type, {n, m}, [&](int64_t i) { return i % m - i / m <= k ? 1.0 : 0.0; });
}

array tril(array x, int k, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  if (x.ndim() < 2) throw_invalid("tril", "Array must have at least 2 dimensions, got shape " + detail::str(x.shape()) + ".");
  array mask = tri(x.shape(-2), x.shape(-1), k, bool_);
  return where(mask, x, zeros({}, x.dtype()));
}

array triu(array x, int k, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  if (x.ndim() < 2) throw_invalid("triu", "Array must have at least 2 dimensions, got shape " + detail::str(x.shape()) + ".");
  array mask = tri(x.shape(-2), x.shape(-1), k - 1, bool_);
  return where(mask, zeros({}, x.dtype()), x);
}

}  // namespace kiln
