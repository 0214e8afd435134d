// Gathers and matrix products.
#include <algorithm>
#include <cstdlib>

#include "frontend/ops_util.h"

namespace kiln {

using detail::cast_to;
using detail::str;
using detail::throw_invalid;
using ir::OpKind;

namespace {
void check_indices(const char* op, const array& indices) {
  if (!is_integral(indices.dtype()))
    throw_invalid(op, "Indices must be integers, got " + dtype_name(indices.dtype()) + ".");
}
}  // namespace

array take(const array& a, const array& indices, int axis, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  check_indices("take", indices);
  if (a.ndim() == 0) throw_invalid("take", "Cannot take from a 0-dimensional array.");
  int ax = detail::normalize_axis("take", axis, int(a.ndim()));
  if (a.shape()[ax] == 0 && indices.size() > 0)
    throw_invalid("take", "Cannot take from an empty axis of shape " + str(a.shape()) + ".");
  return detail::make_node(OpKind::Take, {a, indices}, {{"axis", int64_t(ax)}});
}
array take(const array& a, const array& indices, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  return take(detail::reshape_generic(a, {-1}), indices, 0);
}
array take(const array& a, int index, int axis, StreamOrDevice s) { return take(a, array(index), axis, s); }
array take(const array& a, int index, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  return take(detail::reshape_generic(a, {-1}), array(index), 0);
}

array take_along_axis(const array& a, const array& indices, int axis, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  check_indices("take_along_axis", indices);
  if (indices.ndim() != a.ndim())
    throw_invalid("take_along_axis", "Indices of shape " + str(indices.shape()) +
                                         " do not have the rank of the array of shape " + str(a.shape()) + ".");
  int ax = detail::normalize_axis("take_along_axis", axis, int(a.ndim()));
  // Broadcast the two against each other everywhere except along the axis.
  Shape sa = a.shape(), si = indices.shape();
  sa[ax] = si[ax] = 1;
  Shape common = detail::broadcast_shapes("take_along_axis", sa, si);
  Shape ta = common, ti = common;
  ta[ax] = a.shape()[ax];
  ti[ax] = indices.shape()[ax];
  if (ta[ax] == 0 && ir::shape_size(ti) > 0)
    throw_invalid("take_along_axis", "Cannot take from an empty axis of shape " + str(a.shape()) + ".");
  return detail::make_node(OpKind::TakeAlongAxis, {broadcast_to(a, ta), broadcast_to(indices, ti)},
                           {{"axis", int64_t(ax)}});
}

array matmul(const array& a_in, const array& b_in, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  if (a_in.ndim() == 0 || b_in.ndim() == 0)
    throw_invalid("matmul", "Got 0-dimensional input(s) of shapes " + str(a_in.shape()) + " and " +
                                str(b_in.shape()) + "; use multiply for scalars.");
  Dtype t = promote_types(a_in.dtype(), b_in.dtype());
  if (!is_floating(t))
    throw_invalid("matmul", "Only real floating point types are supported, got " + dtype_name(a_in.dtype()) +
                                " and " + dtype_name(b_in.dtype()) + ".");
  // A 1-d operand is a row (left) or a column (right) vector, removed again
  // from the result, as NumPy.
  array a = a_in.ndim() == 1 ? detail::reshape_generic(a_in, {1, a_in.shape(0)}) : a_in;
  array b = b_in.ndim() == 1 ? detail::reshape_generic(b_in, {b_in.shape(0), 1}) : b_in;
  if (a.shape(-1) != b.shape(-2))
    throw_invalid("matmul", "Last dimension of first input with shape " + str(a_in.shape()) +
                                " must match second to last dimension of second input with shape " +
                                str(b_in.shape()) + ".");
  Shape batch = detail::broadcast_shapes("matmul", Shape(a.shape().begin(), a.shape().end() - 2),
                                         Shape(b.shape().begin(), b.shape().end() - 2));
  Shape sa = batch, sb = batch;
  sa.insert(sa.end(), {a.shape(-2), a.shape(-1)});
  sb.insert(sb.end(), {b.shape(-2), b.shape(-1)});
  array out = detail::make_node(OpKind::Matmul, {broadcast_to(cast_to(a, t), sa), broadcast_to(cast_to(b, t), sb)});
  if (a_in.ndim() == 1) out = squeeze(out, -2);
  if (b_in.ndim() == 1) out = squeeze(out, -1);
  return out;
}

array inner(const array& a, const array& b, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  if (a.ndim() == 0 || b.ndim() == 0) return multiply(a, b);
  if (a.shape(-1) != b.shape(-1))
    throw_invalid("inner", "Last dimensions of shapes " + str(a.shape()) + " and " + str(b.shape()) +
                               " do not match.");
  Dtype t = promote_types(a.dtype(), b.dtype());
  if (!is_floating(t)) {
    // Integer inner products reduce a broadcast product instead of a BLAS
    // call: a [..a, k] -> [..a, 1 (per dim of ..b), k], times b [..b, k].
    Shape sx(a.shape().begin(), a.shape().end() - 1);
    sx.insert(sx.end(), b.ndim() - 1, 1);
    sx.push_back(a.shape(-1));
    return sum(multiply(reshape(a, sx), b), -1);
  }
  Shape out(a.shape().begin(), a.shape().end() - 1);
  out.insert(out.end(), b.shape().begin(), b.shape().end() - 1);
  int32_t k = a.shape(-1);
  array r = matmul(reshape(a, {-1, k}), transpose(reshape(b, {-1, k})));
  return reshape(r, out);
}

array outer(const array& a, const array& b, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  return multiply(detail::reshape_generic(a, {-1, 1}), detail::reshape_generic(b, {1, -1}));
}

// The diagonal as a strided slice of the two axes merged into one (a view,
// which kernels fold into their loads): element (i, i + offset) of an
// n1 x n2 block is element i * (n2 + 1) + offset (or - offset * n2 below
// the main diagonal).
array diagonal(const array& a, int offset, int axis1, int axis2, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  if (a.ndim() < 2)
    throw_invalid("diagonal", "Array must have at least two dimensions, got shape " + str(a.shape()) + ".");
  int ax1 = detail::normalize_axis("diagonal", axis1, int(a.ndim()));
  int ax2 = detail::normalize_axis("diagonal", axis2, int(a.ndim()));
  if (ax1 == ax2) throw_invalid("diagonal", "axis1 and axis2 cannot be the same axis.");
  std::vector<int> perm;
  Shape rest;
  for (int d = 0; d < int(a.ndim()); ++d)
    if (d != ax1 && d != ax2) {
      perm.push_back(d);
      rest.push_back(a.shape(d));
    }
  perm.push_back(ax1);
  perm.push_back(ax2);
  int64_t n1 = a.shape(ax1), n2 = a.shape(ax2);
  int64_t len = offset >= 0 ? std::min<int64_t>(n1, n2 - offset) : std::min<int64_t>(n1 + offset, n2);
  len = std::max<int64_t>(len, 0);
  Shape flat = rest;
  flat.push_back(int(n1 * n2));
  array m = reshape(transpose(a, perm), flat);
  int64_t first = offset >= 0 ? offset : -int64_t(offset) * n2;
  Shape start(rest.size(), 0), stop = rest, strides(rest.size(), 1);
  start.push_back(len ? int(first) : 0);
  stop.push_back(len ? int(first + (len - 1) * (n2 + 1) + 1) : 0);
  strides.push_back(int(n2 + 1));
  return slice(m, start, stop, strides);
}

array diag(const array& a, int k, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  if (a.ndim() == 2) return diagonal(a, k, 0, 1);
  if (a.ndim() != 1) throw_invalid("diag", "Input must be 1- or 2-dimensional, got shape " + str(a.shape()) + ".");
  // An n + |k| square matrix with a on diagonal k: row i holds a[i] above
  // the main diagonal (k >= 0), column j holds a[j] below it.
  int n = a.shape(0) + std::abs(k);
  array padded = pad(a, std::pair<int, int>{0, std::abs(k)});
  array values = k >= 0 ? reshape(padded, {n, 1}) : reshape(padded, {1, n});
  array on_diagonal = not_equal(eye(n, n, k, float32), array(0.0f));
  return where(on_diagonal, broadcast_to(values, {n, n}), zeros({n, n}, a.dtype()));
}

array trace(const array& a, int offset, int axis1, int axis2, Dtype dtype, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  return sum(astype(diagonal(a, offset, axis1, axis2), dtype), -1);
}
array trace(const array& a, int offset, int axis1, int axis2, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  return sum(diagonal(a, offset, axis1, axis2), -1);
}
array trace(const array& a, StreamOrDevice s) { return trace(a, 0, 0, 1, s); }

}  // namespace kiln
