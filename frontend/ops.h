#pragma once
// The array operations, mirroring mlx::core's ops.h: names, argument order,
// defaults, dtype promotion and error behaviour. Bad arguments throw
// std::invalid_argument("[op] ...") naming the offending shapes/axes/dtypes.
// (MLX's trailing StreamOrDevice argument is not taken: kiln picks the
// device itself.)
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "frontend/array.h"

namespace kiln {

// ---- creation --------------------------------------------------------------
array arange(double start, double stop, double step, Dtype dtype);
array arange(double start, double stop, double step);  // float32
array arange(double start, double stop, Dtype dtype);
array arange(double start, double stop);
array arange(double stop, Dtype dtype);
array arange(double stop);
array arange(int start, int stop, int step);  // int32
array arange(int start, int stop);
array arange(int stop);
array linspace(double start, double stop, int num = 50, Dtype dtype = float32);

array astype(array a, Dtype dtype);
array copy(array a);

array full(Shape shape, array vals, Dtype dtype);
array full(Shape shape, array vals);
template <typename T>
array full(Shape shape, T val, Dtype dtype) { return full(std::move(shape), array(val, dtype)); }
template <typename T>
array full(Shape shape, T val) { return full(std::move(shape), array(val)); }
array zeros(const Shape& shape, Dtype dtype);
inline array zeros(const Shape& shape) { return zeros(shape, float32); }
array zeros_like(const array& a);
array ones(const Shape& shape, Dtype dtype);
inline array ones(const Shape& shape) { return ones(shape, float32); }
array ones_like(const array& a);
// full_like(a, v): a's shape and dtype, every element v.
array full_like(const array& a, array vals);
array full_like(const array& a, array vals, Dtype dtype);
template <typename T>
array full_like(const array& a, T val) { return full_like(a, array(val, a.dtype())); }
template <typename T>
array full_like(const array& a, T val, Dtype dtype) { return full_like(a, array(val, dtype), dtype); }

array eye(int n, int m, int k, Dtype dtype);
inline array eye(int n, Dtype dtype) { return eye(n, n, 0, dtype); }
inline array eye(int n, int m) { return eye(n, m, 0, float32); }
inline array eye(int n, int m, int k) { return eye(n, m, k, float32); }
inline array eye(int n) { return eye(n, n, 0, float32); }
inline array identity(int n, Dtype dtype) { return eye(n, n, 0, dtype); }
inline array identity(int n) { return eye(n, n, 0, float32); }
array tri(int n, int m, int k, Dtype type);
inline array tri(int n, Dtype type) { return tri(n, n, 0, type); }
array tril(array x, int k = 0);
array triu(array x, int k = 0);

// ---- shape and data movement ----------------------------------------------
array reshape(const array& a, Shape shape);  // one dimension may be -1
array flatten(const array& a, int start_axis, int end_axis = -1);
array flatten(const array& a);
array squeeze(const array& a, const std::vector<int>& axes);
array squeeze(const array& a, int axis);
array squeeze(const array& a);
array expand_dims(const array& a, const std::vector<int>& axes);
array expand_dims(const array& a, int axis);
array transpose(const array& a, std::vector<int> axes);
array transpose(const array& a);
array swapaxes(const array& a, int axis1, int axis2);
array moveaxis(const array& a, int source, int destination);
array broadcast_to(const array& a, const Shape& shape);
std::vector<array> broadcast_arrays(const std::vector<array>& inputs);
array slice(const array& a, Shape start, Shape stop, Shape strides);
array slice(const array& a, Shape start, Shape stop);
array slice_update(const array& src, const array& update, Shape start, Shape stop, Shape strides);
array slice_update(const array& src, const array& update, Shape start, Shape stop);
std::vector<array> split(const array& a, int num_splits, int axis);
std::vector<array> split(const array& a, int num_splits);
std::vector<array> split(const array& a, const Shape& indices, int axis);
std::vector<array> split(const array& a, const Shape& indices);
array concatenate(std::vector<array> arrays, int axis);
array concatenate(std::vector<array> arrays);  // flattens, then joins
array stack(const std::vector<array>& arrays, int axis);
array stack(const std::vector<array>& arrays);
array repeat(const array& arr, int repeats, int axis);
array repeat(const array& arr, int repeats);  // flattened
array tile(const array& arr, std::vector<int> reps);
// mode: "constant" (pad with pad_value) or "edge" (repeat the edge values).
array pad(const array& a, const std::vector<int>& axes, const Shape& low_pad_size,
          const Shape& high_pad_size, const array& pad_value = array(0),
          const std::string& mode = "constant");
array pad(const array& a, const std::vector<std::pair<int, int>>& pad_width,
          const array& pad_value = array(0), const std::string& mode = "constant");
array pad(const array& a, const std::pair<int, int>& pad_width,
          const array& pad_value = array(0), const std::string& mode = "constant");
array pad(const array& a, int pad_width, const array& pad_value = array(0),
          const std::string& mode = "constant");

// ---- indexing and linear algebra ------------------------------------------
// Indices may be negative (counted from the end); indices still out of range
// are clamped to the nearest valid one, as in JAX.
array take(const array& a, const array& indices, int axis);
array take(const array& a, const array& indices);  // from the flattened array
array take(const array& a, int index, int axis);
array take(const array& a, int index);
array take_along_axis(const array& a, const array& indices, int axis);
array matmul(const array& a, const array& b);
array inner(const array& a, const array& b);
array outer(const array& a, const array& b);

// ---- elementwise, one operand ---------------------------------------------
array abs(const array& a);
array negative(const array& a);
array sign(const array& a);
array square(const array& a);
array sqrt(const array& a);
array rsqrt(const array& a);
array reciprocal(const array& a);
array exp(const array& a);
array expm1(const array& a);
array log(const array& a);
array log2(const array& a);
array log10(const array& a);
array log1p(const array& a);
array sin(const array& a);
array cos(const array& a);
array tan(const array& a);
array arcsin(const array& a);
array arccos(const array& a);
array arctan(const array& a);
array sinh(const array& a);
array cosh(const array& a);
array tanh(const array& a);
array arcsinh(const array& a);
array arccosh(const array& a);
array arctanh(const array& a);
array sigmoid(const array& a);
array erf(const array& a);
array erfinv(const array& a);
array floor(const array& a);
array ceil(const array& a);
array round(const array& a, int decimals = 0);  // halves to even
array isnan(const array& a);
array isinf(const array& a);
array isfinite(const array& a);
array isposinf(const array& a);
array isneginf(const array& a);
array logical_not(const array& a);
array bitwise_invert(const array& a);
array stop_gradient(const array& a);

// ---- elementwise, two or three operands (broadcasting, promoting) ---------
array add(const array& a, const array& b);
array subtract(const array& a, const array& b);
array multiply(const array& a, const array& b);
array divide(const array& a, const array& b);
array floor_divide(const array& a, const array& b);
array remainder(const array& a, const array& b);
array power(const array& a, const array& b);
array maximum(const array& a, const array& b);
array minimum(const array& a, const array& b);
array arctan2(const array& a, const array& b);
array logaddexp(const array& a, const array& b);
array equal(const array& a, const array& b);
array not_equal(const array& a, const array& b);
array less(const array& a, const array& b);
array less_equal(const array& a, const array& b);
array greater(const array& a, const array& b);
array greater_equal(const array& a, const array& b);
array logical_and(const array& a, const array& b);
array logical_or(const array& a, const array& b);
array bitwise_and(const array& a, const array& b);
array bitwise_or(const array& a, const array& b);
array bitwise_xor(const array& a, const array& b);
array left_shift(const array& a, const array& b);
array right_shift(const array& a, const array& b);
array where(const array& condition, const array& x, const array& y);
array clip(const array& a, const std::optional<array>& a_min, const std::optional<array>& a_max);

// Comparisons of whole arrays.
array array_equal(const array& a, const array& b, bool equal_nan = false);
array isclose(const array& a, const array& b, double rtol = 1e-5, double atol = 1e-8,
              bool equal_nan = false);
array allclose(const array& a, const array& b, double rtol = 1e-5, double atol = 1e-8,
               bool equal_nan = false);

// ---- reductions -------------------------------------------------------------
#define KILN_REDUCTION(name)                                                      \
  array name(const array& a, bool keepdims = false);                              \
  array name(const array& a, const std::vector<int>& axes, bool keepdims = false); \
  array name(const array& a, int axis, bool keepdims = false);
KILN_REDUCTION(all)
KILN_REDUCTION(any)
KILN_REDUCTION(sum)
KILN_REDUCTION(prod)
KILN_REDUCTION(max)
KILN_REDUCTION(min)
KILN_REDUCTION(mean)
KILN_REDUCTION(logsumexp)
#undef KILN_REDUCTION
array var(const array& a, bool keepdims = false, int ddof = 0);
array var(const array& a, const std::vector<int>& axes, bool keepdims = false, int ddof = 0);
array var(const array& a, int axis, bool keepdims = false, int ddof = 0);
array std(const array& a, bool keepdims = false, int ddof = 0);
array std(const array& a, const std::vector<int>& axes, bool keepdims = false, int ddof = 0);
array std(const array& a, int axis, bool keepdims = false, int ddof = 0);
array argmax(const array& a, bool keepdims = false);
array argmax(const array& a, int axis, bool keepdims = false);
array argmin(const array& a, bool keepdims = false);
array argmin(const array& a, int axis, bool keepdims = false);
array softmax(const array& a, const std::vector<int>& axes, bool precise = false);
array softmax(const array& a, int axis, bool precise = false);
array softmax(const array& a, bool precise = false);

// ---- operators ---------------------------------------------------------------
// A C++ scalar operand is "weak", as a Python scalar in MLX: it takes the
// array's dtype unless its kind is higher (a float with an integer array
// gives float32). So float16_array * 2.0 stays float16.
namespace detail {
array weak_scalar(double v, Dtype other);
array weak_scalar(int64_t v, Dtype other);
array weak_scalar(bool v, Dtype other);
array weak_scalar(complex64_t v, Dtype other);
template <typename T>
array to_weak(T v, Dtype other) {
  if constexpr (std::is_same_v<T, bool>) return weak_scalar(v, other);
  else if constexpr (std::is_integral_v<T>) return weak_scalar(int64_t(v), other);
  else if constexpr (std::is_same_v<T, complex64_t>) return weak_scalar(v, other);
  else return weak_scalar(double(v), other);
}
template <typename T>
inline constexpr bool is_scalar_v = std::is_arithmetic_v<T> || std::is_same_v<T, complex64_t> ||
                                    std::is_same_v<T, float16_t> || std::is_same_v<T, bfloat16_t>;
}  // namespace detail

#define KILN_BINARY_OPERATOR(op, fn)                                                    \
  inline array operator op(const array& a, const array& b) { return fn(a, b); }        \
  template <typename T, typename = std::enable_if_t<detail::is_scalar_v<T>>>           \
  array operator op(const array& a, T b) { return fn(a, detail::to_weak(b, a.dtype())); } \
  template <typename T, typename = std::enable_if_t<detail::is_scalar_v<T>>>           \
  array operator op(T a, const array& b) { return fn(detail::to_weak(a, b.dtype()), b); }
KILN_BINARY_OPERATOR(+, add)
KILN_BINARY_OPERATOR(-, subtract)
KILN_BINARY_OPERATOR(*, multiply)
KILN_BINARY_OPERATOR(/, divide)
KILN_BINARY_OPERATOR(%, remainder)
KILN_BINARY_OPERATOR(==, equal)
KILN_BINARY_OPERATOR(!=, not_equal)
KILN_BINARY_OPERATOR(<, less)
KILN_BINARY_OPERATOR(<=, less_equal)
KILN_BINARY_OPERATOR(>, greater)
KILN_BINARY_OPERATOR(>=, greater_equal)
KILN_BINARY_OPERATOR(&&, logical_and)
KILN_BINARY_OPERATOR(||, logical_or)
KILN_BINARY_OPERATOR(&, bitwise_and)
KILN_BINARY_OPERATOR(|, bitwise_or)
KILN_BINARY_OPERATOR(^, bitwise_xor)
KILN_BINARY_OPERATOR(<<, left_shift)
KILN_BINARY_OPERATOR(>>, right_shift)
#undef KILN_BINARY_OPERATOR
inline array operator-(const array& a) { return negative(a); }
inline array operator!(const array& a) { return logical_not(a); }
inline array operator~(const array& a) { return bitwise_invert(a); }

}  // namespace kiln
