#pragma once
// The array operations, mirroring mlx::core's ops.h: names, argument order,
// defaults, dtype promotion and error behaviour. Bad arguments throw
// std::invalid_argument("[op] ...") naming the offending shapes/axes/dtypes.
// Every op takes MLX's trailing `StreamOrDevice s = {}`: the stream (or the
// device's default stream) it runs on; see frontend/stream.h.
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "frontend/array.h"
#include "frontend/stream.h"

namespace kiln {

// ---- creation --------------------------------------------------------------
array arange(double start, double stop, double step, Dtype dtype, StreamOrDevice s = {});
array arange(double start, double stop, double step, StreamOrDevice s = {});  // float32
array arange(double start, double stop, Dtype dtype, StreamOrDevice s = {});
array arange(double start, double stop, StreamOrDevice s = {});
array arange(double stop, Dtype dtype, StreamOrDevice s = {});
array arange(double stop, StreamOrDevice s = {});
array arange(int start, int stop, int step, StreamOrDevice s = {});  // int32
array arange(int start, int stop, StreamOrDevice s = {});
array arange(int stop, StreamOrDevice s = {});
array linspace(double start, double stop, int num = 50, Dtype dtype = float32, StreamOrDevice s = {});

array astype(array a, Dtype dtype, StreamOrDevice s = {});
array copy(array a, StreamOrDevice s = {});

array full(Shape shape, array vals, Dtype dtype, StreamOrDevice s = {});
array full(Shape shape, array vals, StreamOrDevice s = {});
template <typename T>
array full(Shape shape, T val, Dtype dtype, StreamOrDevice s = {}) {
  return full(std::move(shape), array(val, dtype), std::move(s));
}
template <typename T>
array full(Shape shape, T val, StreamOrDevice s = {}) { return full(std::move(shape), array(val), std::move(s)); }
array zeros(const Shape& shape, Dtype dtype, StreamOrDevice s = {});
inline array zeros(const Shape& shape, StreamOrDevice s = {}) { return zeros(shape, float32, std::move(s)); }
array zeros_like(const array& a, StreamOrDevice s = {});
array ones(const Shape& shape, Dtype dtype, StreamOrDevice s = {});
inline array ones(const Shape& shape, StreamOrDevice s = {}) { return ones(shape, float32, std::move(s)); }
array ones_like(const array& a, StreamOrDevice s = {});
// full_like(a, v): a's shape and dtype, every element v.
array full_like(const array& a, array vals, StreamOrDevice s = {});
array full_like(const array& a, array vals, Dtype dtype, StreamOrDevice s = {});
template <typename T>
array full_like(const array& a, T val, StreamOrDevice s = {}) {
  return full_like(a, array(val, a.dtype()), std::move(s));
}
template <typename T>
array full_like(const array& a, T val, Dtype dtype, StreamOrDevice s = {}) {
  return full_like(a, array(val, dtype), dtype, std::move(s));
}

array eye(int n, int m, int k, Dtype dtype, StreamOrDevice s = {});
inline array eye(int n, Dtype dtype, StreamOrDevice s = {}) { return eye(n, n, 0, dtype, std::move(s)); }
inline array eye(int n, int m, StreamOrDevice s = {}) { return eye(n, m, 0, float32, std::move(s)); }
inline array eye(int n, int m, int k, StreamOrDevice s = {}) { return eye(n, m, k, float32, std::move(s)); }
inline array eye(int n, StreamOrDevice s = {}) { return eye(n, n, 0, float32, std::move(s)); }
inline array identity(int n, Dtype dtype, StreamOrDevice s = {}) { return eye(n, n, 0, dtype, std::move(s)); }
inline array identity(int n, StreamOrDevice s = {}) { return eye(n, n, 0, float32, std::move(s)); }
array tri(int n, int m, int k, Dtype type, StreamOrDevice s = {});
inline array tri(int n, Dtype type, StreamOrDevice s = {}) { return tri(n, n, 0, type, std::move(s)); }
array tril(array x, int k = 0, StreamOrDevice s = {});
array triu(array x, int k = 0, StreamOrDevice s = {});

// ---- shape and data movement ----------------------------------------------
array reshape(const array& a, Shape shape, StreamOrDevice s = {});  // one dimension may be -1
array flatten(const array& a, int start_axis, int end_axis = -1, StreamOrDevice s = {});
array flatten(const array& a, StreamOrDevice s = {});
array squeeze(const array& a, const std::vector<int>& axes, StreamOrDevice s = {});
array squeeze(const array& a, int axis, StreamOrDevice s = {});
array squeeze(const array& a, StreamOrDevice s = {});
array expand_dims(const array& a, const std::vector<int>& axes, StreamOrDevice s = {});
array expand_dims(const array& a, int axis, StreamOrDevice s = {});
array transpose(const array& a, std::vector<int> axes, StreamOrDevice s = {});
inline array transpose(const array& a, std::initializer_list<int> axes, StreamOrDevice s = {}) {
  return transpose(a, std::vector<int>(axes), std::move(s));
}
array transpose(const array& a, StreamOrDevice s = {});
array swapaxes(const array& a, int axis1, int axis2, StreamOrDevice s = {});
array moveaxis(const array& a, int source, int destination, StreamOrDevice s = {});
array broadcast_to(const array& a, const Shape& shape, StreamOrDevice s = {});
std::vector<array> broadcast_arrays(const std::vector<array>& inputs, StreamOrDevice s = {});
array slice(const array& a, Shape start, Shape stop, Shape strides, StreamOrDevice s = {});
array slice(const array& a, Shape start, Shape stop, StreamOrDevice s = {});
array slice_update(const array& src, const array& update, Shape start, Shape stop, Shape strides, StreamOrDevice s = {});
array slice_update(const array& src, const array& update, Shape start, Shape stop, StreamOrDevice s = {});
std::vector<array> split(const array& a, int num_splits, int axis, StreamOrDevice s = {});
std::vector<array> split(const array& a, int num_splits, StreamOrDevice s = {});
std::vector<array> split(const array& a, const Shape& indices, int axis, StreamOrDevice s = {});
std::vector<array> split(const array& a, const Shape& indices, StreamOrDevice s = {});
array concatenate(std::vector<array> arrays, int axis, StreamOrDevice s = {});
array concatenate(std::vector<array> arrays, StreamOrDevice s = {});  // flattens, then joins
// Elements shifted by `shift` along an axis (wrapping around); without
// axes, along the flattened array (then reshaped back). Shape shifts add up
// per axis, as NumPy's.
array roll(const array& a, int shift, StreamOrDevice s = {});
array roll(const array& a, const Shape& shift, StreamOrDevice s = {});
array roll(const array& a, int shift, int axis, StreamOrDevice s = {});
array roll(const array& a, int shift, const std::vector<int>& axes, StreamOrDevice s = {});
array roll(const array& a, const Shape& shift, int axis, StreamOrDevice s = {});
array roll(const array& a, const Shape& shift, const std::vector<int>& axes, StreamOrDevice s = {});
// At least 1, 2 or 3 dimensions (size-1 axes added as NumPy does).
array atleast_1d(const array& a, StreamOrDevice s = {});
array atleast_2d(const array& a, StreamOrDevice s = {});
array atleast_3d(const array& a, StreamOrDevice s = {});
std::vector<array> atleast_1d(const std::vector<array>& a, StreamOrDevice s = {});
std::vector<array> atleast_2d(const std::vector<array>& a, StreamOrDevice s = {});
std::vector<array> atleast_3d(const std::vector<array>& a, StreamOrDevice s = {});
// Coordinate grids of 1-D arrays; indexing "xy" (Cartesian) or "ij" (matrix).
std::vector<array> meshgrid(const std::vector<array>& arrays, bool sparse = false,
                            const std::string& indexing = "xy", StreamOrDevice s = {});
array stack(const std::vector<array>& arrays, int axis, StreamOrDevice s = {});
array stack(const std::vector<array>& arrays, StreamOrDevice s = {});
array repeat(const array& arr, int repeats, int axis, StreamOrDevice s = {});
array repeat(const array& arr, int repeats, StreamOrDevice s = {});  // flattened
array tile(const array& arr, std::vector<int> reps, StreamOrDevice s = {});
// mode: "constant" (pad with pad_value), "edge" (repeat the edge values),
// "reflect" (mirror about the edge values: 3 2 | 1 2 3 | 2 1) or
// "symmetric" (mirror about the ends: 2 1 | 1 2 3 | 3 2).
array pad(const array& a, const std::vector<int>& axes, const Shape& low_pad_size,
          const Shape& high_pad_size, const array& pad_value = array(0),
          const std::string& mode = "constant", StreamOrDevice s = {});
array pad(const array& a, const std::vector<std::pair<int, int>>& pad_width,
          const array& pad_value = array(0), const std::string& mode = "constant", StreamOrDevice s = {});
array pad(const array& a, const std::pair<int, int>& pad_width,
          const array& pad_value = array(0), const std::string& mode = "constant", StreamOrDevice s = {});
array pad(const array& a, int pad_width, const array& pad_value = array(0),
          const std::string& mode = "constant", StreamOrDevice s = {});

// ---- indexing and linear algebra ------------------------------------------
// Indices may be negative (counted from the end); indices still out of range
// are clamped to the nearest valid one, as in JAX.
array take(const array& a, const array& indices, int axis, StreamOrDevice s = {});
array take(const array& a, const array& indices, StreamOrDevice s = {});  // from the flattened array
array take(const array& a, int index, int axis, StreamOrDevice s = {});
array take(const array& a, int index, StreamOrDevice s = {});
array take_along_axis(const array& a, const array& indices, int axis, StreamOrDevice s = {});
array matmul(const array& a, const array& b, StreamOrDevice s = {});
// ---- gathers and scatters (frontend/ops_scatter.cpp) -------------------------
// Negative indices count from the end; indices still out of range are
// clamped so that the slice they start stays inside the array (as JAX).
using Strides = std::vector<int64_t>;
// Slices of slice_sizes starting at indices[i] on axes[i] (0 on other axes);
// the result has the broadcast index shape followed by slice_sizes.
array gather(const array& a, const std::vector<array>& indices, const std::vector<int>& axes,
             const Shape& slice_sizes, StreamOrDevice s = {});
inline array gather(const array& a, const array& indices, int axis, const Shape& slice_sizes, StreamOrDevice s = {}) {
  return gather(a, std::vector<array>{indices}, std::vector<int>{axis}, slice_sizes, s);
}
// a with the slices of `updates` (index shape + one dim per axis of a)
// written at the indices; the later of colliding updates wins.
array scatter(const array& a, const std::vector<array>& indices, const array& updates, const std::vector<int>& axes,
              StreamOrDevice s = {});
inline array scatter(const array& a, const array& indices, const array& updates, int axis, StreamOrDevice s = {}) {
  return scatter(a, std::vector<array>{indices}, updates, std::vector<int>{axis}, s);
}
// As scatter, adding the updates (colliding ones all add up).
array scatter_add(const array& a, const std::vector<array>& indices, const array& updates,
                  const std::vector<int>& axes, StreamOrDevice s = {});
inline array scatter_add(const array& a, const array& indices, const array& updates, int axis, StreamOrDevice s = {}) {
  return scatter_add(a, std::vector<array>{indices}, updates, std::vector<int>{axis}, s);
}
// As scatter, multiplying by the updates.
array scatter_prod(const array& a, const std::vector<array>& indices, const array& updates,
                   const std::vector<int>& axes, StreamOrDevice s = {});
inline array scatter_prod(const array& a, const array& indices, const array& updates, int axis, StreamOrDevice s = {}) {
  return scatter_prod(a, std::vector<array>{indices}, updates, std::vector<int>{axis}, s);
}
// As scatter, keeping the maximum (nan-propagating).
array scatter_max(const array& a, const std::vector<array>& indices, const array& updates,
                  const std::vector<int>& axes, StreamOrDevice s = {});
inline array scatter_max(const array& a, const array& indices, const array& updates, int axis, StreamOrDevice s = {}) {
  return scatter_max(a, std::vector<array>{indices}, updates, std::vector<int>{axis}, s);
}
// As scatter, keeping the minimum (nan-propagating).
array scatter_min(const array& a, const std::vector<array>& indices, const array& updates,
                  const std::vector<int>& axes, StreamOrDevice s = {});
inline array scatter_min(const array& a, const array& indices, const array& updates, int axis, StreamOrDevice s = {}) {
  return scatter_min(a, std::vector<array>{indices}, updates, std::vector<int>{axis}, s);
}
// The inverse of take_along_axis: values (broadcast) written at the indices along axis.
array put_along_axis(const array& a, const array& indices, const array& values, int axis, StreamOrDevice s = {});
// As put_along_axis, adding the values.
array scatter_add_axis(const array& a, const array& indices, const array& values, int axis, StreamOrDevice s = {});
// a with its elements where mask is true replaced, in order, by src's (flattened).
array masked_scatter(const array& a, const array& mask, const array& src, StreamOrDevice s = {});
// The slice of slice_size starting at `start` (one index per axis of `axes`, 0 elsewhere).
array slice(const array& a, const array& start, std::vector<int> axes, Shape slice_size, StreamOrDevice s = {});
// Braced start lists pick the static forms (not an array of start indices).
inline array slice(const array& a, std::initializer_list<int> start, Shape stop, Shape strides, StreamOrDevice s = {}) {
  return slice(a, Shape(start), std::move(stop), std::move(strides), s);
}
inline array slice(const array& a, std::initializer_list<int> start, Shape stop, StreamOrDevice s = {}) {
  return slice(a, Shape(start), std::move(stop), s);
}
// src with update written at `start` (one index per axis of `axes`, 0 elsewhere).
array slice_update(const array& src, const array& update, const array& start, std::vector<int> axes,
                   StreamOrDevice s = {});
inline array slice_update(const array& src, const array& update, std::initializer_list<int> start, Shape stop,
                          Shape strides, StreamOrDevice s = {}) {
  return slice_update(src, update, Shape(start), std::move(stop), std::move(strides), s);
}
inline array slice_update(const array& src, const array& update, std::initializer_list<int> start, Shape stop,
                          StreamOrDevice s = {}) {
  return slice_update(src, update, Shape(start), std::move(stop), s);
}
// src with update added into the slice [start, stop) by strides.
array slice_update_add(const array& src, const array& update, Shape start, Shape stop, Shape strides,
                       StreamOrDevice s = {});
array slice_update_add(const array& src, const array& update, Shape start, Shape stop, StreamOrDevice s = {});
// The view of a's row-major elements with the given shape, strides and offset (in elements).
array as_strided(array a, Shape shape, Strides strides, size_t offset, StreamOrDevice s = {});

array inner(const array& a, const array& b, StreamOrDevice s = {});
array outer(const array& a, const array& b, StreamOrDevice s = {});
// alpha * (a @ b) + beta * c (c broadcast).
array addmm(array c, array a, array b, const float& alpha = 1.f, const float& beta = 1.f, StreamOrDevice s = {});
// Contracts axes_a of a with axes_b of b (pairwise); the int form contracts
// the last `axis` axes of a with the first `axis` of b.
array tensordot(const array& a, const array& b, const int axis = 2, StreamOrDevice s = {});
array tensordot(const array& a, const array& b, const std::vector<int>& axes_a, const std::vector<int>& axes_b,
                StreamOrDevice s = {});
// The Kronecker product (shapes aligned at the right, as NumPy).
array kron(const array& a, const array& b, StreamOrDevice s = {});
// The diagonal `offset` of the planes (axis1, axis2), as a new last axis.
array diagonal(const array& a, int offset = 0, int axis1 = 0, int axis2 = 1, StreamOrDevice s = {});
// 1-D a: the square matrix with a on diagonal k; 2-D a: its diagonal k.
array diag(const array& a, int k = 0, StreamOrDevice s = {});
// The sum of diagonal(a, offset, axis1, axis2), in `dtype` when given.
array trace(const array& a, int offset, int axis1, int axis2, Dtype dtype, StreamOrDevice s = {});
array trace(const array& a, int offset, int axis1, int axis2, StreamOrDevice s = {});
array trace(const array& a, StreamOrDevice s = {});
// Einstein summation over the operands ("ij,jk->ik", "...", implicit
// output), contracted pairwise in the order of a greedy path.
array einsum(const std::string& subscripts, const std::vector<array>& operands, StreamOrDevice s = {});
// The pairwise contraction path einsum takes (operand positions, as NumPy's
// einsum_path without its leading "einsum_path") and a description of it.
std::pair<std::vector<std::vector<int>>, std::string> einsum_path(const std::string& subscripts,
                                                                  const std::vector<array>& operands);

// ---- convolutions (channels-last: input (N, spatial..., C_in), weight
// (C_out, spatial..., C_in / groups), output (N, spatial..., C_out)) -------
// The general form: per-axis strides, low/high padding, kernel and input
// dilation (a vector of one value applies it to every axis; empty: the
// default), groups, and flip (a true convolution instead of a correlation).
array conv_general(array input, array weight, std::vector<int> stride = {}, std::vector<int> padding_lo = {},
                   std::vector<int> padding_hi = {}, std::vector<int> kernel_dilation = {},
                   std::vector<int> input_dilation = {}, int groups = 1, bool flip = false, StreamOrDevice s = {});
// conv_general with the same padding on both sides.
inline array conv_general(const array& input, const array& weight, std::vector<int> stride = {},
                          std::vector<int> padding = {}, std::vector<int> kernel_dilation = {},
                          std::vector<int> input_dilation = {}, int groups = 1, bool flip = false,
                          StreamOrDevice s = {}) {
  return conv_general(input, weight, std::move(stride), padding, padding, std::move(kernel_dilation),
                      std::move(input_dilation), groups, flip, std::move(s));
}
// 1-, 2- and 3-D convolutions (cross-correlations, as MLX and PyTorch).
array conv1d(const array& input, const array& weight, int stride = 1, int padding = 0, int dilation = 1,
             int groups = 1, StreamOrDevice s = {});
array conv2d(const array& input, const array& weight, const std::pair<int, int>& stride = {1, 1},
             const std::pair<int, int>& padding = {0, 0}, const std::pair<int, int>& dilation = {1, 1},
             int groups = 1, StreamOrDevice s = {});
array conv3d(const array& input, const array& weight, const std::tuple<int, int, int>& stride = {1, 1, 1},
             const std::tuple<int, int, int>& padding = {0, 0, 0},
             const std::tuple<int, int, int>& dilation = {1, 1, 1}, int groups = 1, StreamOrDevice s = {});
// Transposed convolutions (the gradient of conv with respect to its input);
// output size (in - 1) * stride - 2 * padding + dilation * (k - 1) + 1 + output_padding.
array conv_transpose1d(const array& input, const array& weight, int stride = 1, int padding = 0, int dilation = 1,
                       int output_padding = 0, int groups = 1, StreamOrDevice s = {});
array conv_transpose2d(const array& input, const array& weight, const std::pair<int, int>& stride = {1, 1},
                       const std::pair<int, int>& padding = {0, 0}, const std::pair<int, int>& dilation = {1, 1},
                       const std::pair<int, int>& output_padding = {0, 0}, int groups = 1, StreamOrDevice s = {});
array conv_transpose3d(const array& input, const array& weight,
                       const std::tuple<int, int, int>& stride = {1, 1, 1},
                       const std::tuple<int, int, int>& padding = {0, 0, 0},
                       const std::tuple<int, int, int>& dilation = {1, 1, 1},
                       const std::tuple<int, int, int>& output_padding = {0, 0, 0}, int groups = 1,
                       StreamOrDevice s = {});

// ---- elementwise, one operand ---------------------------------------------
array abs(const array& a, StreamOrDevice s = {});
array negative(const array& a, StreamOrDevice s = {});
array sign(const array& a, StreamOrDevice s = {});
array square(const array& a, StreamOrDevice s = {});
array sqrt(const array& a, StreamOrDevice s = {});
array rsqrt(const array& a, StreamOrDevice s = {});
array reciprocal(const array& a, StreamOrDevice s = {});
array exp(const array& a, StreamOrDevice s = {});
array expm1(const array& a, StreamOrDevice s = {});
array log(const array& a, StreamOrDevice s = {});
array log2(const array& a, StreamOrDevice s = {});
array log10(const array& a, StreamOrDevice s = {});
array log1p(const array& a, StreamOrDevice s = {});
array sin(const array& a, StreamOrDevice s = {});
array cos(const array& a, StreamOrDevice s = {});
array tan(const array& a, StreamOrDevice s = {});
array arcsin(const array& a, StreamOrDevice s = {});
array arccos(const array& a, StreamOrDevice s = {});
array arctan(const array& a, StreamOrDevice s = {});
array sinh(const array& a, StreamOrDevice s = {});
array cosh(const array& a, StreamOrDevice s = {});
array tanh(const array& a, StreamOrDevice s = {});
array arcsinh(const array& a, StreamOrDevice s = {});
array arccosh(const array& a, StreamOrDevice s = {});
array arctanh(const array& a, StreamOrDevice s = {});
array sigmoid(const array& a, StreamOrDevice s = {});
array erf(const array& a, StreamOrDevice s = {});
array erfinv(const array& a, StreamOrDevice s = {});
array floor(const array& a, StreamOrDevice s = {});
array ceil(const array& a, StreamOrDevice s = {});
array round(const array& a, int decimals, StreamOrDevice s = {});  // halves to even
inline array round(const array& a, StreamOrDevice s = {}) { return round(a, 0, std::move(s)); }
array isnan(const array& a, StreamOrDevice s = {});
array isinf(const array& a, StreamOrDevice s = {});
array isfinite(const array& a, StreamOrDevice s = {});
array isposinf(const array& a, StreamOrDevice s = {});
array isneginf(const array& a, StreamOrDevice s = {});
array logical_not(const array& a, StreamOrDevice s = {});
array bitwise_invert(const array& a, StreamOrDevice s = {});
array stop_gradient(const array& a, StreamOrDevice s = {});
array degrees(const array& a, StreamOrDevice s = {});
array radians(const array& a, StreamOrDevice s = {});
// NaN -> nan, +inf -> posinf (default: the dtype's largest finite value),
// -inf -> neginf (default: its lowest); integer arrays are returned as they are.
array nan_to_num(const array& a, float nan = 0.0f, const std::optional<float> posinf = std::nullopt,
                 const std::optional<float> neginf = std::nullopt, StreamOrDevice s = {});

// ---- elementwise, two or three operands (broadcasting, promoting) ---------
array add(const array& a, const array& b, StreamOrDevice s = {});
array subtract(const array& a, const array& b, StreamOrDevice s = {});
array multiply(const array& a, const array& b, StreamOrDevice s = {});
array divide(const array& a, const array& b, StreamOrDevice s = {});
array floor_divide(const array& a, const array& b, StreamOrDevice s = {});
array remainder(const array& a, const array& b, StreamOrDevice s = {});
array power(const array& a, const array& b, StreamOrDevice s = {});
array maximum(const array& a, const array& b, StreamOrDevice s = {});
array minimum(const array& a, const array& b, StreamOrDevice s = {});
array arctan2(const array& a, const array& b, StreamOrDevice s = {});
array logaddexp(const array& a, const array& b, StreamOrDevice s = {});
array equal(const array& a, const array& b, StreamOrDevice s = {});
array not_equal(const array& a, const array& b, StreamOrDevice s = {});
array less(const array& a, const array& b, StreamOrDevice s = {});
array less_equal(const array& a, const array& b, StreamOrDevice s = {});
array greater(const array& a, const array& b, StreamOrDevice s = {});
array greater_equal(const array& a, const array& b, StreamOrDevice s = {});
array logical_and(const array& a, const array& b, StreamOrDevice s = {});
array logical_or(const array& a, const array& b, StreamOrDevice s = {});
array bitwise_and(const array& a, const array& b, StreamOrDevice s = {});
array bitwise_or(const array& a, const array& b, StreamOrDevice s = {});
array bitwise_xor(const array& a, const array& b, StreamOrDevice s = {});
array left_shift(const array& a, const array& b, StreamOrDevice s = {});
array right_shift(const array& a, const array& b, StreamOrDevice s = {});
array where(const array& condition, const array& x, const array& y, StreamOrDevice s = {});
array clip(const array& a, const std::optional<array>& a_min = std::nullopt,
           const std::optional<array>& a_max = std::nullopt, StreamOrDevice s = {});

// Comparisons of whole arrays.
array array_equal(const array& a, const array& b, bool equal_nan, StreamOrDevice s = {});
inline array array_equal(const array& a, const array& b, StreamOrDevice s = {}) {
  return array_equal(a, b, false, std::move(s));
}
array isclose(const array& a, const array& b, double rtol = 1e-5, double atol = 1e-8,
              bool equal_nan = false, StreamOrDevice s = {});
array allclose(const array& a, const array& b, double rtol = 1e-5, double atol = 1e-8,
               bool equal_nan = false, StreamOrDevice s = {});

// ---- reductions -------------------------------------------------------------
// As MLX: name(a, keepdims) has no default keepdims, so that name(a, s)
// (all axes, a stream or device) is its own overload.
#define KILN_REDUCTION(name)                                                                   \
  array name(const array& a, bool keepdims, StreamOrDevice s = {});                            \
  inline array name(const array& a, StreamOrDevice s = {}) { return name(a, false, std::move(s)); } \
  array name(const array& a, const std::vector<int>& axes, bool keepdims = false, StreamOrDevice s = {}); \
  array name(const array& a, int axis, bool keepdims = false, StreamOrDevice s = {});
KILN_REDUCTION(all)
KILN_REDUCTION(any)
KILN_REDUCTION(sum)
KILN_REDUCTION(prod)
KILN_REDUCTION(max)
KILN_REDUCTION(min)
KILN_REDUCTION(mean)
KILN_REDUCTION(logsumexp)
#undef KILN_REDUCTION
array var(const array& a, bool keepdims, int ddof = 0, StreamOrDevice s = {});
inline array var(const array& a, StreamOrDevice s = {}) { return var(a, false, 0, std::move(s)); }
array var(const array& a, const std::vector<int>& axes, bool keepdims = false, int ddof = 0, StreamOrDevice s = {});
array var(const array& a, int axis, bool keepdims = false, int ddof = 0, StreamOrDevice s = {});
array std(const array& a, bool keepdims, int ddof = 0, StreamOrDevice s = {});
inline array std(const array& a, StreamOrDevice s = {}) { return std(a, false, 0, std::move(s)); }
array std(const array& a, const std::vector<int>& axes, bool keepdims = false, int ddof = 0, StreamOrDevice s = {});
array std(const array& a, int axis, bool keepdims = false, int ddof = 0, StreamOrDevice s = {});
array argmax(const array& a, bool keepdims, StreamOrDevice s = {});
inline array argmax(const array& a, StreamOrDevice s = {}) { return argmax(a, false, std::move(s)); }
array argmax(const array& a, int axis, bool keepdims = false, StreamOrDevice s = {});
array argmin(const array& a, bool keepdims, StreamOrDevice s = {});
inline array argmin(const array& a, StreamOrDevice s = {}) { return argmin(a, false, std::move(s)); }
array argmin(const array& a, int axis, bool keepdims = false, StreamOrDevice s = {});
array softmax(const array& a, const std::vector<int>& axes, bool precise = false, StreamOrDevice s = {});
array softmax(const array& a, int axis, bool precise = false, StreamOrDevice s = {});
array softmax(const array& a, bool precise = false, StreamOrDevice s = {});

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
#include "frontend/ops_misc.h"  // broadcast_shapes, result_type, finfo, unflatten, divmod, ...

#include "frontend/ops_scan_sort.h"
