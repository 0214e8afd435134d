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

array arange(double start, double stop, double step, Dtype dtype) {
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
array arange(double start, double stop, double step) { return arange(start, stop, step, float32); }
array arange(double start, double stop, Dtype dtype) { return arange(start, stop, 1.0, dtype); }
array arange(double start, double stop) { return arange(start, stop, 1.0, float32); }
array arange(double stop, Dtype dtype) { return arange(0.0, stop, 1.0, dtype); }
array arange(double stop) { return arange(0.0, stop, 1.0, float32); }
array arange(int start, int stop, int step) { return arange(double(start), double(stop), double(step), int32); }
array arange(int start, int stop) { return arange(double(start), double(stop), 1.0, int32); }
array arange(int stop) { return arange(0.0, double(stop), 1.0, int32); }

array linspace(double start, double stop, int num, Dtype dtype) {
  if (num < 0) throw_invalid("linspace", "Number of samples, " + std::to_string(num) + ", must be non-negative.");
  double step = num > 1 ? (stop - start) / (num - 1) : 0.0;
  return generate(dtype, {num}, [&](int64_t i) {
    return i == num - 1 && num > 1 ? stop : start + double(i) * step;  // exact endpoint
  });
}

array astype(array a, Dtype dtype) { return cast_to(a, dtype); }
array copy(array a) { return a; }  // arrays are immutable: a handle is a copy

array full(Shape shape, array vals, Dtype dtype) { return full(std::move(shape), cast_to(vals, dtype)); }
array full(Shape shape, array vals) {
  detail::check_shape("full", shape, vals.dtype());
  return broadcast_to(vals, shape);
}
array zeros(const Shape& shape, Dtype dtype) {
  detail::check_shape("zeros", shape, dtype);
  return full(shape, array(0, dtype));
}
array ones(const Shape& shape, Dtype dtype) {
  detail::check_shape("ones", shape, dtype);
  return full(shape, array(1, dtype));
}
array zeros_like(const array& a) { return zeros(a.shape(), a.dtype()); }
array ones_like(const array& a) { return ones(a.shape(), a.dtype()); }
array full_like(const array& a, array vals) { return full(a.shape(), vals, a.dtype()); }
array full_like(const array& a, array vals, Dtype dtype) { return full(a.shape(), vals, dtype); }

array eye(int n, int m, int k, Dtype dtype) {
  if (n < 0 || m < 0) throw_invalid("eye", "Dimensions must be non-negative, got " + std::to_string(n) +
                                               " and " + std::to_string(m) + ".");
  return generate(dtype, {n, m}, [&](int64_t i) { return i % m - i / m == k ? 1.0 : 0.0; });
}

array tri(int n, int m, int k, Dtype type) {
  if (n < 0 || m < 0) throw_invalid("tri", "Dimensions must be non-negative, got " + std::to_string(n) +
                                               " and " + std::to_string(m) + ".");
  return generate(type, {n, m}, [&](int64_t i) { return i % m - i / m <= k ? 1.0 : 0.0; });
}

array tril(array x, int k) {
  if (x.ndim() < 2) throw_invalid("tril", "Array must have at least 2 dimensions, got shape " + detail::str(x.shape()) + ".");
  array mask = tri(x.shape(-2), x.shape(-1), k, bool_);
  return where(mask, x, zeros({}, x.dtype()));
}

array triu(array x, int k) {
  if (x.ndim() < 2) throw_invalid("triu", "Array must have at least 2 dimensions, got shape " + detail::str(x.shape()) + ".");
  array mask = tri(x.shape(-2), x.shape(-1), k - 1, bool_);
  return where(mask, zeros({}, x.dtype()), x);
}

}  // namespace kiln
