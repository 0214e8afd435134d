// Scans, sorting and selection (ops_scan_sort.h). The scans, sort, argsort
// and argpartition are IR primitives (ir/ops.h, KILN_SCAN_SORT_OPS);
// partition is take_along_axis of argpartition and topk takes the last k of
// argpartition's indices, so their derivatives and batching come from those
// ops.
#include "frontend/ops_util.h"

namespace kiln {

using detail::str;
using detail::throw_invalid;
using ir::OpKind;

namespace {

array flat(const array& a) { return reshape(a, {-1}); }

array scan(OpKind k, const char* name, const array& a, int axis, bool reverse, bool inclusive) {
  const int ax = detail::normalize_axis(name, axis, int(a.ndim()));
  if (is_complex(a.dtype())) throw_invalid(name, "Not supported for complex64.");
  array x = a;
  if (k == OpKind::Cumsum && a.dtype() == bool_) x = detail::cast_to(a, int32);  // as MLX
  if (k == OpKind::Logcumsumexp) x = detail::cast_to(a, detail::at_least_float(a.dtype()));
  return detail::make_node(k, {x},
                           {{"axis", int64_t(ax)}, {"reverse", int64_t(reverse)}, {"inclusive", int64_t(inclusive)}});
}

// MLX's sort-family axis check and message.
int sort_axis(const char* name, const array& a, int axis) {
  const int nd = int(a.ndim());
  if (axis < -nd || axis >= nd)
    throw_invalid(name, "Received invalid axis " + std::to_string(axis) + " for array with " + std::to_string(nd) +
                            " dimensions.");
  if (is_complex(a.dtype())) throw_invalid(name, "Not supported for complex64.");
  return axis < 0 ? axis + nd : axis;
}

}  // namespace

#define KILN_SCAN(name, kind)                                                                  \
  array name(const array& a, int axis, bool reverse, bool inclusive, StreamOrDevice s) {        \
    detail::OpStream on_stream(s);                                                             \
    return scan(OpKind::kind, #name, a, axis, reverse, inclusive);                             \
  }                                                                                            \
  array name(const array& a, bool reverse, bool inclusive, StreamOrDevice s) {                 \
    detail::OpStream on_stream(s);                                                             \
    return scan(OpKind::kind, #name, flat(a), 0, reverse, inclusive);                          \
  }
KILN_SCAN(cumsum, Cumsum)
KILN_SCAN(cumprod, Cumprod)
KILN_SCAN(cummax, Cummax)
KILN_SCAN(cummin, Cummin)
KILN_SCAN(logcumsumexp, Logcumsumexp)
#undef KILN_SCAN

array sort(const array& a, int axis, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  const int ax = sort_axis("sort", a, axis);
  return detail::make_node(OpKind::Sort, {a}, {{"axis", int64_t(ax)}});
}
array sort(const array& a, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  return sort(flat(a), 0);
}

array argsort(const array& a, int axis, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  const int ax = sort_axis("argsort", a, axis);
  return detail::make_node(OpKind::Argsort, {a}, {{"axis", int64_t(ax)}});
}
array argsort(const array& a, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  return argsort(flat(a), 0);
}

namespace {

array argpartition_checked(const char* name, const array& a, int kth, int axis) {
  const int ax = sort_axis(name, a, axis);
  const int n = a.shape(ax);
  const int k = kth < 0 ? kth + n : kth;
  if (k < 0 || k >= n)
    throw_invalid(name, "Received invalid kth " + std::to_string(kth) + " along axis " + std::to_string(axis) +
                            " for array with shape: " + str(a.shape()) + ".");
  return detail::make_node(OpKind::Argpartition, {a}, {{"axis", int64_t(ax)}, {"kth", int64_t(k)}});
}

}  // namespace

array argpartition(const array& a, int kth, int axis, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  return argpartition_checked("argpartition", a, kth, axis);
}
array argpartition(const array& a, int kth, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  return argpartition(flat(a), kth, 0);
}

array partition(const array& a, int kth, int axis, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  array idx = argpartition_checked("partition", a, kth, axis);
  return take_along_axis(a, idx, sort_axis("partition", a, axis));
}
array partition(const array& a, int kth, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  return partition(flat(a), kth, 0);
}

array topk(const array& a, int k, int axis, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  const int ax = sort_axis("topk", a, axis);
  const int n = a.shape(ax);
  if (k < 0 || k > n)
    throw_invalid("topk", "Received invalid k=" + std::to_string(k) + " along axis " + std::to_string(axis) +
                              " for array with shape: " + str(a.shape()) + ".");
  if (k == n) return a;
  Shape start(a.ndim(), 0), stop = a.shape();
  start[size_t(ax)] = n - k;
  if (k == 0) return slice(a, start, stop);
  // Only the k indices of the top are gathered.
  return take_along_axis(a, slice(argpartition(a, n - k, ax), start, stop), ax);
}
array topk(const array& a, int k, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  return topk(flat(a), k, 0);
}

}  // namespace kiln
