// Shape and data-movement operations.
#include <algorithm>
#include <numeric>

#include "frontend/ops_util.h"
#include "ir/type_rules.h"

namespace kiln {

using detail::cast_to;
using detail::str;
using detail::throw_invalid;
using ir::OpKind;

array reshape(const array& a, Shape shape, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  int infer = -1;
  int64_t known = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      if (infer >= 0) throw_invalid("reshape", "Can only infer one dimension, got shape " + str(shape) + ".");
      infer = int(i);
    } else if (shape[i] < 0) {
      throw_invalid("reshape", "Invalid dimension in shape " + str(shape) + ".");
    } else if (__builtin_mul_overflow(known, int64_t(shape[i]), &known)) {
      throw_invalid("reshape", "Shape " + str(shape) + " has too many elements (its size overflows int64).");
    }
  }
  int64_t size = int64_t(a.size());
  if (infer >= 0) {
    if (known == 0 || size % known != 0)
      throw_invalid("reshape", "Cannot infer the shape " + str(shape) + " for an array of shape " +
                                   str(a.shape()) + ".");
    shape[infer] = detail::checked_dimension("reshape", size / known, a.shape());
    known = size;
  }
  if (known != size)
    throw_invalid("reshape", "Cannot reshape array of shape " + str(a.shape()) + " (size " +
                                 std::to_string(size) + ") into shape " + str(shape) + ".");
  if (shape == a.shape()) return a;
  return detail::make_node(OpKind::Reshape, {a}, {}, ir::Type{a.dtype(), shape});
}

array flatten(const array& a, int start_axis, int end_axis, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  // As MLX: the axes are clamped to the array'first (flatten(x, 1, 3) of a 3-d
  // x flattens axes 1..2); only an empty or wholly outside range is an error.
  int nd = int(a.ndim());
  int first = std::max(0, start_axis < 0 ? start_axis + nd : start_axis);
  int e = std::min(nd - 1, end_axis < 0 ? end_axis + nd : end_axis);
  if (a.ndim() == 0) return detail::reshape_generic(a, {1});
  if (first > e)
    throw_invalid("flatten", "start_axis " + std::to_string(start_axis) + " must not be after end_axis " +
                                 std::to_string(end_axis) + " for an array with " + std::to_string(nd) +
                                 " dimensions.");
  if (first >= nd)
    throw_invalid("flatten", "Invalid start_axis " + std::to_string(start_axis) + " for an array with " +
                                 std::to_string(nd) + " dimensions.");
  if (e < 0)
    throw_invalid("flatten", "Invalid end_axis " + std::to_string(end_axis) + " for an array with " +
                                 std::to_string(nd) + " dimensions.");
  Shape out(a.shape().begin(), a.shape().begin() + first);
  int64_t n = 1;
  for (int i = first; i <= e; ++i) n *= a.shape()[i];
  out.push_back(int32_t(n));
  out.insert(out.end(), a.shape().begin() + e + 1, a.shape().end());
  return detail::reshape_generic(a, out);
}
array flatten(const array& a, StreamOrDevice s) { return flatten(a, 0, -1, s); }

array squeeze(const array& a, const std::vector<int>& axes, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  auto ax = detail::normalize_axes("squeeze", axes, int(a.ndim()));
  Shape out;
  for (size_t d = 0; d < a.ndim(); ++d) {
    bool drop = std::binary_search(ax.begin(), ax.end(), int64_t(d));
    if (drop && a.shape()[d] != 1)
      throw_invalid("squeeze", "Cannot squeeze axis " + std::to_string(d) + " of size " +
                                   std::to_string(a.shape()[d]) + " in shape " + str(a.shape()) + ".");
    if (!drop) out.push_back(a.shape()[d]);
  }
  return detail::reshape_generic(a, out);
}
array squeeze(const array& a, int axis, StreamOrDevice s) { return squeeze(a, std::vector<int>{axis}, s); }
array squeeze(const array& a, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  std::vector<int> ones;
  for (size_t d = 0; d < a.ndim(); ++d)
    if (a.shape()[d] == 1) ones.push_back(int(d));
  return squeeze(a, ones);
}

array expand_dims(const array& a, const std::vector<int>& axes, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  int out_nd = int(a.ndim() + axes.size());
  auto ax = detail::normalize_axes("expand_dims", axes, out_nd);
  Shape out;
  size_t src = 0;
  for (int d = 0; d < out_nd; ++d) {
    if (std::binary_search(ax.begin(), ax.end(), int64_t(d))) out.push_back(1);
    else out.push_back(a.shape()[src++]);
  }
  return detail::reshape_generic(a, out);
}
array expand_dims(const array& a, int axis, StreamOrDevice s) { return expand_dims(a, std::vector<int>{axis}, s); }

array transpose(const array& a, std::vector<int> axes, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  int nd = int(a.ndim());
  if (int(axes.size()) != nd)
    throw_invalid("transpose", "Received " + std::to_string(axes.size()) + " axes " + str(axes) +
                                   " for an array with " + std::to_string(nd) + " dimensions.");
  std::vector<int64_t> perm;
  std::vector<bool> seen(nd);
  bool identity = true;
  for (int i = 0; i < nd; ++i) {
    int ax = detail::normalize_axis("transpose", axes[i], nd);
    if (seen[ax]) throw_invalid("transpose", "Repeated axis in " + str(axes) + ".");
    seen[ax] = true;
    perm.push_back(ax);
    identity = identity && ax == i;
  }
  if (identity) return a;
  return detail::make_node(OpKind::Transpose, {a}, {{"perm", perm}});
}
array transpose(const array& a, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  std::vector<int> axes(a.ndim());
  std::iota(axes.rbegin(), axes.rend(), 0);
  return transpose(a, axes);
}
array swapaxes(const array& a, int axis1, int axis2, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  int nd = int(a.ndim());
  int x = detail::normalize_axis("swapaxes", axis1, nd);
  int y = detail::normalize_axis("swapaxes", axis2, nd);
  std::vector<int> axes(nd);
  std::iota(axes.begin(), axes.end(), 0);
  std::swap(axes[x], axes[y]);
  return transpose(a, axes);
}
array moveaxis(const array& a, int source, int destination, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  int nd = int(a.ndim());
  int src = detail::normalize_axis("moveaxis", source, nd);
  int d = detail::normalize_axis("moveaxis", destination, nd);
  std::vector<int> axes;
  for (int i = 0; i < nd; ++i)
    if (i != src) axes.push_back(i);
  axes.insert(axes.begin() + d, src);
  return transpose(a, axes);
}

array broadcast_to(const array& a, const Shape& shape, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  if (a.shape() == shape) return a;
  detail::check_shape("broadcast_to", shape, a.dtype());
  if (detail::broadcast_shapes("broadcast_to", a.shape(), shape) != shape)
    throw_invalid("broadcast_to", "Cannot broadcast array of shape " + str(a.shape()) + " into shape " +
                                      str(shape) + ".");
  return detail::make_node(OpKind::Broadcast, {a}, {}, ir::Type{a.dtype(), shape});
}

std::vector<array> broadcast_arrays(const std::vector<array>& inputs, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  if (inputs.empty()) return {};
  Shape shape = inputs[0].shape();
  for (auto& x : inputs) shape = detail::broadcast_shapes("broadcast_arrays", shape, x.shape());
  std::vector<array> out;
  for (auto& x : inputs) out.push_back(broadcast_to(x, shape));
  return out;
}

namespace {

// Python slice semantics: negative bounds count from the end, bounds beyond
// the axis are clamped.
ir::Attrs slice_attrs(const char* op, const array& a, const Shape& start, const Shape& stop,
                      const Shape& strides) {
  size_t nd = a.ndim();
  if (start.size() != nd || stop.size() != nd || strides.size() != nd)
    throw_invalid(op, "Start " + str(start) + ", stop " + str(stop) + " and strides " + str(strides) +
                          " must each have one entry per dimension of shape " + str(a.shape()) + ".");
  std::vector<int64_t> b(nd), e(nd), s(nd);
  for (size_t d = 0; d < nd; ++d) {
    int64_t n = a.shape()[d], step = strides[d];
    if (step == 0) throw_invalid(op, "Slice stride of axis " + std::to_string(d) + " is zero.");
    auto norm = [&](int64_t v) {
      if (v < 0) v += n;
      return step > 0 ? std::clamp<int64_t>(v, 0, n) : std::clamp<int64_t>(v, -1, n - 1);
    };
    b[d] = norm(start[d]);
    e[d] = norm(stop[d]);
    s[d] = step;
  }
  return {{"start", b}, {"stop", e}, {"strides", s}};
}

}  // namespace

array slice(const array& a, Shape start, Shape stop, Shape strides, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  return detail::make_node(OpKind::Slice, {a}, slice_attrs("slice", a, start, stop, strides));
}
array slice(const array& a, Shape start, Shape stop, StreamOrDevice s) { return slice(a, std::move(start), std::move(stop), Shape(a.ndim(), 1), s); }

array slice_update(const array& src, const array& update, Shape start, Shape stop, Shape strides, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  ir::Attrs attrs = slice_attrs("slice_update", src, start, stop, strides);
  Shape region = ir::infer_type(OpKind::Slice, {{src.dtype(), src.shape()}}, attrs, {}).shape;
  if (detail::broadcast_shapes("slice_update", update.shape(), region) != region)
    throw_invalid("slice_update", "Update of shape " + str(update.shape()) +
                                      " does not broadcast to the slice of shape " + str(region) + ".");
  array u = broadcast_to(cast_to(update, src.dtype()), region);
  return detail::make_node(OpKind::SliceUpdate, {src, u}, std::move(attrs));
}
array slice_update(const array& src, const array& update, Shape start, Shape stop, StreamOrDevice s) { return slice_update(src, update, std::move(start), std::move(stop), Shape(src.ndim(), 1), s); }

std::vector<array> split(const array& a, const Shape& indices, int axis, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  int ax = detail::normalize_axis("split", axis, int(a.ndim()));
  int32_t n = a.shape()[ax];
  std::vector<array> out;
  int32_t prev = 0;
  for (size_t i = 0; i <= indices.size(); ++i) {
    int32_t idx = i < indices.size() ? indices[i] : n;
    if (idx < 0) idx += n;
    idx = std::clamp(idx, prev, n);  // as NumPy: out-of-order indices give empty parts
    Shape start(a.ndim(), 0), stop = a.shape();
    start[ax] = prev;
    stop[ax] = idx;
    out.push_back(slice(a, start, stop));
    prev = idx;
  }
  return out;
}
std::vector<array> split(const array& a, const Shape& indices, StreamOrDevice s) { return split(a, indices, 0, s); }
std::vector<array> split(const array& a, int num_splits, int axis, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  int ax = detail::normalize_axis("split", axis, int(a.ndim()));
  int32_t n = a.shape()[ax];
  if (num_splits <= 0 || n % num_splits != 0)
    throw_invalid("split", "Array of size " + std::to_string(n) + " along axis " + std::to_string(axis) +
                               " cannot be split into " + std::to_string(num_splits) + " equal parts.");
  Shape indices;
  for (int i = 1; i < num_splits; ++i) indices.push_back(i * (n / num_splits));
  return split(a, indices, ax);
}
std::vector<array> split(const array& a, int num_splits, StreamOrDevice s) { return split(a, num_splits, 0, s); }

array concatenate(std::vector<array> arrays, int axis, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  if (arrays.empty()) throw_invalid("concatenate", "No arrays to concatenate.");
  size_t nd = arrays[0].ndim();
  if (nd == 0) throw_invalid("concatenate", "Zero-dimensional arrays cannot be concatenated.");
  int ax = detail::normalize_axis("concatenate", axis, int(nd));
  Dtype t = arrays[0].dtype();
  for (auto& x : arrays) {
    if (x.ndim() != nd)
      throw_invalid("concatenate", "All the input arrays must have the same number of dimensions, got " +
                                       str(arrays[0].shape()) + " and " + str(x.shape()) + ".");
    for (size_t d = 0; d < nd; ++d)
      if (int(d) != ax && x.shape()[d] != arrays[0].shape()[d])
        throw_invalid("concatenate", "Shapes " + str(arrays[0].shape()) + " and " + str(x.shape()) +
                                         " do not match outside axis " + std::to_string(ax) + ".");
    t = promote_types(t, x.dtype());
  }
  if (arrays.size() == 1) return cast_to(arrays[0], t);
  for (auto& x : arrays) x = cast_to(x, t);
  return detail::make_node(OpKind::Concatenate, std::move(arrays), {{"axis", int64_t(ax)}});
}
array concatenate(std::vector<array> arrays, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  for (auto& x : arrays) x = detail::reshape_generic(x, {-1});
  return concatenate(std::move(arrays), 0);
}

array stack(const std::vector<array>& arrays, int axis, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  if (arrays.empty()) throw_invalid("stack", "No arrays to stack.");
  for (auto& x : arrays)
    if (x.shape() != arrays[0].shape())
      throw_invalid("stack", "All arrays must have the same shape, got " + str(arrays[0].shape()) +
                                 " and " + str(x.shape()) + ".");
  int ax = detail::normalize_axis("stack", axis, int(arrays[0].ndim()) + 1);
  std::vector<array> expanded;
  for (auto& x : arrays) expanded.push_back(expand_dims(x, ax));
  return concatenate(expanded, ax);
}
array stack(const std::vector<array>& arrays, StreamOrDevice s) { return stack(arrays, 0, s); }

array repeat(const array& arr, int repeats, int axis, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  int ax = detail::normalize_axis("repeat", axis, int(arr.ndim()));
  if (repeats < 0) throw_invalid("repeat", "Number of repeats cannot be negative, got " +
                                               std::to_string(repeats) + ".");
  // [.., n, ..] -> [.., n, 1, ..] -> [.., n, r, ..] -> [.., n*r, ..]
  array x = expand_dims(arr, ax + 1);
  Shape b = x.shape();
  b[ax + 1] = repeats;
  Shape out = arr.shape();
  out[ax] = detail::checked_dimension("repeat", int64_t(out[ax]) * repeats, arr.shape());
  detail::check_shape("repeat", out, arr.dtype());
  return detail::reshape_generic(broadcast_to(x, b), out);
}
array repeat(const array& arr, int repeats, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  return repeat(detail::reshape_generic(arr, {-1}), repeats, 0);
}

array tile(const array& arr, std::vector<int> reps, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  for (int r : reps)
    if (r < 0) throw_invalid("tile", "Repetitions must be non-negative, got " + str(reps) + ".");
  size_t nd = std::max(arr.ndim(), reps.size());
  reps.insert(reps.begin(), nd - reps.size(), 1);
  Shape shape = arr.shape();
  shape.insert(shape.begin(), nd - shape.size(), 1);
  // [s0, s1] -> [1, s0, 1, s1] -> [r0, s0, r1, s1] -> [r0*s0, r1*s1]
  Shape interleaved, target, out;
  for (size_t d = 0; d < nd; ++d) {
    interleaved.insert(interleaved.end(), {1, shape[d]});
    target.insert(target.end(), {reps[d], shape[d]});
    out.push_back(detail::checked_dimension("tile", int64_t(reps[d]) * shape[d], arr.shape()));
  }
  detail::check_shape("tile", out, arr.dtype());
  return detail::reshape_generic(broadcast_to(detail::reshape_generic(arr, interleaved), target), out);
}

namespace {

// Pads mirror the array at its ends, axis by axis: out[j] = a[src(j)] for
// j in [-lo, n + hi). "reflect" mirrors about the end elements (1 2 3 ->
// 3 2 | 1 2 3 | 2 1), "symmetric" about the ends themselves (2 1 | 1 2 3
// | 3 2). Widths beyond the axis continue the mirroring periodically
// (period 2(n-1), resp. 2n); NumPy agrees up to a width of one period on
// each side (past that its chunked padding drifts). One take of constant
// indices per padded axis.
array pad_mirrored(const array& a, const std::vector<int64_t>& lo, const std::vector<int64_t>& hi, bool reflect) {
  array out = a;
  for (size_t d = 0; d < a.ndim(); ++d) {
    if (!lo[d] && !hi[d]) continue;
    int64_t n = a.shape()[d];
    if (n == 0)
      throw_invalid("pad", std::string("Cannot ") + (reflect ? "reflect" : "symmetric") +
                               "-pad an empty axis of shape " + str(a.shape()) + ".");
    int64_t period = reflect ? 2 * (n - 1) : 2 * n;
    std::vector<int32_t> src;
    for (int64_t j = -lo[d]; j < n + hi[d]; ++j) {
      if (period == 0) { src.push_back(0); continue; }  // reflect of a single element
      int64_t m = ((j % period) + period) % period;
      src.push_back(int32_t(m < n ? m : (reflect ? period - m : period - 1 - m)));
    }
    Shape idx_shape{int32_t(src.size())};
    out = take(out, array(src.begin(), idx_shape, int32), int(d));
  }
  return out;
}

}  // namespace

array pad(const array& a, const std::vector<int>& axes, const Shape& low, const Shape& high,
          const array& pad_value, const std::string& mode, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  if (axes.size() != low.size() || axes.size() != high.size())
    throw_invalid("pad", "Received " + std::to_string(axes.size()) + " axes but " +
                             std::to_string(low.size()) + " low and " + std::to_string(high.size()) +
                             " high pad widths.");
  if (mode != "constant" && mode != "edge" && mode != "reflect" && mode != "symmetric")
    throw_invalid("pad", "Unsupported pad mode '" + mode +
                             "' (expected 'constant', 'edge', 'reflect' or 'symmetric').");
  if (pad_value.ndim() != 0) throw_invalid("pad", "The pad value must be a scalar, got shape " +
                                                      str(pad_value.shape()) + ".");
  std::vector<int64_t> lo(a.ndim(), 0), hi(a.ndim(), 0);
  std::vector<bool> seen(a.ndim());
  for (size_t i = 0; i < axes.size(); ++i) {
    int ax = detail::normalize_axis("pad", axes[i], int(a.ndim()));
    if (seen[ax]) throw_invalid("pad", "Repeated axis " + std::to_string(axes[i]) + ".");
    seen[ax] = true;
    if (low[i] < 0 || high[i] < 0)
      throw_invalid("pad", "Pad widths must be non-negative, got " + str(low) + " and " + str(high) + ".");
    lo[ax] = low[i];
    hi[ax] = high[i];
  }
  if (mode == "constant") {
    return detail::make_node(OpKind::Pad, {a, cast_to(pad_value, a.dtype())},
                             {{"low", lo}, {"high", hi}});
  }
  if (mode == "reflect" || mode == "symmetric") return pad_mirrored(a, lo, hi, mode == "reflect");
  // "edge": concatenate copies of the first and last slices along each axis.
  array out = a;
  for (size_t d = 0; d < a.ndim(); ++d) {
    if (!lo[d] && !hi[d]) continue;
    int32_t n = out.shape()[d];
    if (n == 0) throw_invalid("pad", "Cannot edge-pad an empty axis of shape " + str(a.shape()) + ".");
    auto edge = [&](int32_t at, int64_t width) {
      Shape start(out.ndim(), 0), stop = out.shape(), target = out.shape();
      start[d] = at;
      stop[d] = at + 1;
      target[d] = int32_t(width);
      return broadcast_to(slice(out, start, stop), target);
    };
    std::vector<array> parts;
    if (lo[d]) parts.push_back(edge(0, lo[d]));
    parts.push_back(out);
    if (hi[d]) parts.push_back(edge(n - 1, hi[d]));
    out = concatenate(parts, int(d));
  }
  return out;
}

array pad(const array& a, const std::vector<std::pair<int, int>>& pad_width, const array& pad_value,
          const std::string& mode, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  if (pad_width.size() != 1 && pad_width.size() != a.ndim())
    throw_invalid("pad", "Expected 1 or " + std::to_string(a.ndim()) + " pad widths for shape " +
                             str(a.shape()) + ", got " + std::to_string(pad_width.size()) + ".");
  std::vector<int> axes;
  Shape lo, hi;
  for (size_t d = 0; d < a.ndim(); ++d) {
    auto w = pad_width.size() == 1 ? pad_width[0] : pad_width[d];
    axes.push_back(int(d));
    lo.push_back(w.first);
    hi.push_back(w.second);
  }
  return pad(a, axes, lo, hi, pad_value, mode);
}
array pad(const array& a, const std::pair<int, int>& pad_width, const array& pad_value,
          const std::string& mode, StreamOrDevice s) { return pad(a, std::vector<std::pair<int, int>>{pad_width}, pad_value, mode, s); }
array pad(const array& a, int pad_width, const array& pad_value, const std::string& mode, StreamOrDevice s) { return pad(a, std::vector<std::pair<int, int>>{{pad_width, pad_width}}, pad_value, mode, s); }

// ---- composites -----------------------------------------------------------------

// The last `shift` elements along `axis` (mod its size) first: two slices
// joined.
array roll(const array& a, int shift, int axis, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  if (a.ndim() == 0) throw_invalid("roll", "Cannot roll a 0-dimensional array along an axis.");
  int ax = detail::normalize_axis("roll", axis, int(a.ndim()));
  int n = a.shape(ax);
  if (n == 0) return a;
  int k = ((shift % n) + n) % n;
  if (k == 0) return a;
  Shape start(a.ndim(), 0), stop = a.shape();
  Shape mid = start;
  mid[ax] = n - k;
  Shape head_stop = stop;
  head_stop[ax] = n - k;
  return concatenate({slice(a, mid, stop), slice(a, start, head_stop)}, ax);
}
array roll(const array& a, const Shape& shift, const std::vector<int>& axes, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  if (shift.size() != axes.size())
    throw_invalid("roll", "shift and axes must have the same length, got " + std::to_string(shift.size()) +
                              " and " + std::to_string(axes.size()) + ".");
  array out = a;
  for (size_t i = 0; i < axes.size(); ++i) out = roll(out, shift[i], axes[i]);
  return out;
}
array roll(const array& a, int shift, const std::vector<int>& axes, StreamOrDevice s) {
  return roll(a, Shape(axes.size(), shift), axes, s);
}
array roll(const array& a, const Shape& shift, int axis, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  int total = 0;
  for (int k : shift) total += k;
  return roll(a, total, axis);
}
array roll(const array& a, int shift, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  return reshape(roll(reshape(a, {-1}), shift, 0), a.shape());
}
array roll(const array& a, const Shape& shift, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  int total = 0;
  for (int k : shift) total += k;
  return roll(a, total, s);
}

// NumPy's placement: a 1-D [n] becomes [1, n] and [1, n, 1]; a 2-D [m, n]
// becomes [m, n, 1].
array atleast_1d(const array& a, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  return a.ndim() >= 1 ? a : detail::reshape_generic(a, {1});
}
array atleast_2d(const array& a, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  if (a.ndim() >= 2) return a;
  return detail::reshape_generic(a, {1, a.ndim() == 1 ? a.shape(0) : 1});
}
array atleast_3d(const array& a, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  if (a.ndim() >= 3) return a;
  if (a.ndim() == 2) return detail::reshape_generic(a, {a.shape(0), a.shape(1), 1});
  return detail::reshape_generic(a, {1, a.ndim() == 1 ? a.shape(0) : 1, 1});
}
std::vector<array> atleast_1d(const std::vector<array>& a, StreamOrDevice s) {
  std::vector<array> out;
  for (const array& x : a) out.push_back(atleast_1d(x, s));
  return out;
}
std::vector<array> atleast_2d(const std::vector<array>& a, StreamOrDevice s) {
  std::vector<array> out;
  for (const array& x : a) out.push_back(atleast_2d(x, s));
  return out;
}
std::vector<array> atleast_3d(const std::vector<array>& a, StreamOrDevice s) {
  std::vector<array> out;
  for (const array& x : a) out.push_back(atleast_3d(x, s));
  return out;
}

std::vector<array> meshgrid(const std::vector<array>& arrays, bool sparse, const std::string& indexing,
                            StreamOrDevice s) {
  detail::OpStream on_stream(s);
  if (indexing != "xy" && indexing != "ij")
    throw_invalid("meshgrid", "indexing must be \"xy\" or \"ij\", got \"" + indexing + "\".");
  size_t n = arrays.size();
  for (const array& a : arrays)
    if (a.ndim() != 1) throw_invalid("meshgrid", "Inputs must be 1-dimensional, got shape " + str(a.shape()) + ".");
  // Array i varies along output axis i ("ij"); "xy" swaps the first two.
  auto axis_of = [&](size_t i) {
    if (indexing == "xy" && n >= 2 && i < 2) return 1 - i;
    return i;
  };
  Shape full(n);
  for (size_t i = 0; i < n; ++i) full[axis_of(i)] = arrays[i].shape(0);
  std::vector<array> out;
  for (size_t i = 0; i < n; ++i) {
    Shape one(n, 1);
    one[axis_of(i)] = arrays[i].shape(0);
    array g = detail::reshape_generic(arrays[i], one);
    out.push_back(sparse ? g : broadcast_to(g, full));
  }
  return out;
}

}  // namespace kiln
