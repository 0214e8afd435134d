#include "frontend/ops_util.h"

#include <algorithm>
#include <limits>
#include <stdexcept>

namespace kiln::detail {

void throw_invalid(const std::string& op, const std::string& msg) {
  throw std::invalid_argument("[" + op + "] " + msg);
}

std::string str(const Shape& s) { return ir::shape_to_string(s); }

void check_shape(const std::string& op, const Shape& shape, Dtype dtype) {
  for (auto d : shape)
    if (d < 0) throw_invalid(op, "Negative dimensions are not allowed, got shape " + str(shape) + ".");
  if (!ir::type_problem(ir::Type{dtype, shape}).empty())
    throw_invalid(op, "Shape " + str(shape) + " has too many elements (its size overflows int64).");
}

int32_t checked_dimension(const std::string& op, int64_t d, const Shape& context) {
  if (d > std::numeric_limits<int32_t>::max())
    throw_invalid(op, "The result dimension " + std::to_string(d) + " (from shape " + str(context) +
                          ") does not fit in int32.");
  return int32_t(d);
}

int normalize_axis(const std::string& op, int axis, int ndim) {
  if (axis < -ndim || axis >= ndim)
    throw_invalid(op, "Axis " + std::to_string(axis) + " is out of bounds for array with " +
                          std::to_string(ndim) + " dimensions.");
  return axis < 0 ? axis + ndim : axis;
}

std::vector<int64_t> normalize_axes(const std::string& op, const std::vector<int>& axes, int ndim) {
  std::vector<int64_t> out;
  for (int a : axes) out.push_back(normalize_axis(op, a, ndim));
  std::sort(out.begin(), out.end());
  if (std::adjacent_find(out.begin(), out.end()) != out.end())
    throw_invalid(op, "Received duplicate axes " + str(axes) + ".");
  return out;
}

std::vector<int> all_axes(const array& a) {
  std::vector<int> v(a.ndim());
  for (size_t i = 0; i < v.size(); ++i) v[i] = int(i);
  return v;
}

Shape broadcast_shapes(const std::string& op, const Shape& a, const Shape& b) {
  size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (size_t i = 0; i < n; ++i) {
    int32_t da = i < a.size() ? a[a.size() - 1 - i] : 1;
    int32_t db = i < b.size() ? b[b.size() - 1 - i] : 1;
    if (da != db && da != 1 && db != 1)
      throw_invalid(op, "Shapes " + str(a) + " and " + str(b) + " cannot be broadcast.");
    out[n - 1 - i] = da == 1 ? db : da;
  }
  return out;
}

array cast_to(const array& a, Dtype t) {
  if (a.dtype() == t) return a;
  return make_node(ir::OpKind::Cast, {a}, {}, ir::Type{t, a.shape()});
}

std::vector<array> promote_and_broadcast(const std::string& op, std::vector<array> xs) {
  Dtype t = xs[0].dtype();
  Shape s = xs[0].shape();
  for (size_t i = 1; i < xs.size(); ++i) {
    t = promote_types(t, xs[i].dtype());
    s = broadcast_shapes(op, s, xs[i].shape());
  }
  for (auto& x : xs) x = broadcast_to(cast_to(x, t), s);
  return xs;
}

Dtype at_least_float(Dtype t) { return is_inexact(t) ? t : float32; }

array reshape_generic(const array& a, Shape shape) { return shape_generic(a, reshape(a, std::move(shape))); }

array unary(ir::OpKind k, const array& a) { return make_node(k, {a}); }

array binary(ir::OpKind k, const array& a, const array& b) {
  auto xs = promote_and_broadcast(ir::op_name(k), {a, b});
  return make_node(k, {xs[0], xs[1]});
}

array scalar(double v, Dtype t) { return array(v, t); }

}  // namespace kiln::detail
