#pragma once
// Helpers shared by the op implementations (not part of the public API).
#include <string>
#include <vector>

#include "frontend/ops.h"
#include "frontend/trace.h"

namespace kiln::detail {

[[noreturn]] void throw_invalid(const std::string& op, const std::string& msg);
// Throws under `op`'s name unless `shape` has non-negative dimensions and
// an element count and byte size (of `dtype`) that fit in int64.
void check_shape(const std::string& op, const Shape& shape, Dtype dtype);
// A dimension computed by an op (tile's reps * size): must fit int32.
int32_t checked_dimension(const std::string& op, int64_t d, const Shape& context);

std::string str(const Shape& s);            // "(2,3)"

// Normalizes a possibly negative axis against ndim; throws "[op] Axis ..."
int normalize_axis(const std::string& op, int axis, int ndim);
// Normalizes, sorts and de-duplicates-checks a list of axes.
std::vector<int64_t> normalize_axes(const std::string& op, const std::vector<int>& axes, int ndim);
std::vector<int> all_axes(const array& a);

// NumPy broadcasting of two shapes; throws "[op] Shapes ... cannot be broadcast."
Shape broadcast_shapes(const std::string& op, const Shape& a, const Shape& b);

// Casts to `t` (no-op when already t).
array cast_to(const array& a, Dtype t);
// Promotes to a common dtype and broadcasts to a common shape.
std::vector<array> promote_and_broadcast(const std::string& op, std::vector<array> xs);
// float32 for bool/integer dtypes, the dtype itself otherwise (MLX's
// "at least float").
Dtype at_least_float(Dtype t);

// reshape(a, shape) for a shape that follows a's (flatten, squeeze,
// expand_dims...): marked so that a shapeless compile re-derives it.
array reshape_generic(const array& a, Shape shape);

array unary(ir::OpKind k, const array& a);
array binary(ir::OpKind k, const array& a, const array& b);
// A rank-0 constant of dtype t.
array scalar(double v, Dtype t);

}  // namespace kiln::detail
