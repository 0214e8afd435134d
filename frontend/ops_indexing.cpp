// Gathers and matrix products.
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
  return take(reshape(a, {-1}), indices, 0);
}
array take(const array& a, int index, int axis, StreamOrDevice s) { return take(a, array(index), axis, s); }
array take(const array& a, int index, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  return take(reshape(a, {-1}), array(index), 0);
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
  array a = a_in.ndim() == 1 ? reshape(a_in, {1, a_in.shape(0)}) : a_in;
  array b = b_in.ndim() == 1 ? reshape(b_in, {b_in.shape(0), 1}) : b_in;
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
  return multiply(reshape(a, {-1, 1}), reshape(b, {1, -1}));
}

}  // namespace kiln
