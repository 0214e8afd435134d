#pragma once
// Shape helpers, dtype queries and small composites of mlx::core's ops.h
// and utils.h (broadcast_shapes, result_type, finfo/iinfo, unflatten,
// divmod, view, ...). Included by frontend/ops.h; see it for conventions.
#include <cstdint>
#include <vector>

#include "frontend/array.h"
#include "frontend/stream.h"

namespace kiln {

// ---- shapes and dtypes (MLX's utils.h) --------------------------------------
// NumPy broadcasting of two shapes; throws "[broadcast_shapes] ..." when
// they do not broadcast.
Shape broadcast_shapes(const Shape& s1, const Shape& s2);
// The dtype the arrays promote to together (their shapes do not matter).
Dtype result_type(const array& a, const array& b);
Dtype result_type(const array& a, const array& b, const array& c);
Dtype result_type(const std::vector<array>& arrays);  // throws on an empty list

// Limits of a floating (or complex: its real part's) dtype: lowest, largest
// and machine epsilon. Throws for other dtypes.
struct finfo {
  explicit finfo(Dtype dtype);
  Dtype dtype;
  double min;
  double max;
  double eps;
};
// Limits of an integer dtype. Throws for other dtypes.
struct iinfo {
  explicit iinfo(Dtype dtype);
  Dtype dtype;
  int64_t min;
  uint64_t max;
};

// ---- shape ops ---------------------------------------------------------------
// Splits `axis` into the dimensions of `shape` (one of them may be -1).
array unflatten(const array& a, int axis, Shape shape, StreamOrDevice s = {});
// The slices of `a` along `axis`, each without that axis (NumPy's unstack;
// not in MLX's C++ API).
std::vector<array> unstack(const array& a, int axis = 0, StreamOrDevice s = {});
// The array with row-major memory. kiln materializes every array row-major,
// so this is `a` itself (allow_col_major is accepted for MLX compatibility).
array contiguous(const array& a, bool allow_col_major = false, StreamOrDevice s = {});

// The same bytes read as `dtype` (no conversion, as NumPy's view): the
// shape is kept for a dtype of the same size; otherwise the last axis
// scales by the ratio of the sizes (float32 (2, 3) as uint8 is (2, 12)).
// Differentiable only between float32 (..., 2n) and complex64 (..., n),
// the parts of complex numbers; elsewhere its gradient is zero, as
// stop_gradient's.
array view(const array& a, const Dtype& dtype, StreamOrDevice s = {});

// ---- complex numbers (ops_complex.cpp) ------------------------------------------
// The real part of a complex array (float32); a real array itself.
array real(const array& a, StreamOrDevice s = {});
// The imaginary part of a complex array (float32); zeros for a real array.
array imag(const array& a, StreamOrDevice s = {});
// The complex conjugate; a real array itself.
array conjugate(const array& a, StreamOrDevice s = {});

// ---- arithmetic --------------------------------------------------------------
// {floor_divide(a, b), remainder(a, b)}: Python's divmod, broadcast and
// promoted as the binary ops.
std::vector<array> divmod(const array& a, const array& b, StreamOrDevice s = {});

}  // namespace kiln
