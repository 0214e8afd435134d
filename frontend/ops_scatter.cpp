// Gathers and scatters with several index arrays (gather, scatter and its
// reducing forms), the along-axis and masked scatters, dynamic slices and
// as_strided. All are composites of take and the scatter primitive (the
// transpose of take, ir/README.md) plus views and index arithmetic, so
// autodiff, vmap and compile come from those ops' rules.
//
// Index semantics everywhere: a negative index counts from the end once; an
// index still outside is clamped so that the whole slice it starts stays
// inside the axis (as JAX; MLX leaves out-of-range indices undefined).
#include <algorithm>
#include <numeric>

#include "frontend/ops_util.h"

namespace kiln {

using detail::str;
using detail::throw_invalid;
using ir::OpKind;
using ir::ScatterReduce;

namespace {

std::string str_ints(const std::vector<int>& v) { return str(Shape(v.begin(), v.end())); }

// Index i of every index array mapped into [0, hi], as int64: a negative
// index wraps once by `dim`, then it is clamped.
array clamped_index(const array& idx, int32_t dim, int32_t hi) {
  array i = astype(idx, int64);
  if (is_signed_int(idx.dtype())) i = where(less(i, array(int64_t(0))), add(i, array(int64_t(dim))), i);
  return minimum(maximum(i, array(int64_t(0))), array(int64_t(std::max(hi, 0))));
}

// The index arrays of gather/scatter, checked and broadcast to one shape;
// the axes normalized.
struct Indexing {
  std::vector<array> indices;
  std::vector<int> axes;
  Shape shape;  // the broadcast index shape
};

Indexing check_indexing(const char* op, const array& a, const std::vector<array>& indices,
                        const std::vector<int>& axes) {
  if (indices.size() != axes.size())
    throw_invalid(op, "Number of index arrays (" + std::to_string(indices.size()) +
                          ") does not match number of axes (" + std::to_string(axes.size()) + ").");
  if (a.ndim() == 0 && !indices.empty()) throw_invalid(op, "Cannot index a 0-dimensional array.");
  Indexing r;
  for (size_t i = 0; i < indices.size(); ++i) {
    if (!is_integral(indices[i].dtype()))
      throw_invalid(op, "Got indices with invalid dtype " + dtype_name(indices[i].dtype()) +
                            ". Indices must be integral.");
    int ax = detail::normalize_axis(op, axes[i], int(a.ndim()));
    if (std::find(r.axes.begin(), r.axes.end(), ax) != r.axes.end())
      throw_invalid(op, "Repeated axis " + std::to_string(axes[i]) + " in axes " + str_ints(axes) + ".");
    r.axes.push_back(ax);
    r.shape = i == 0 ? indices[i].shape() : detail::broadcast_shapes(op, r.shape, indices[i].shape());
  }
  for (const array& i : indices) r.indices.push_back(broadcast_to(i, r.shape));
  return r;
}

// The layout both gather and scatter index: a's region [0, sizes) on the
// axes that are not indexed, transposed to [indexed axes (ascending)...,
// other axes...] and flattened over the indexed ones, and the flat index
// into that first axis of each element of the slices the indices start.
struct Flat {
  std::vector<int> indexed, others;  // a's axes, ascending
  Shape region;                      // a's shape, sizes on the other axes
  array index;                       // int64, shape I + [sizes of the indexed axes]
};

Flat flatten_indexing(const array& a, const Indexing& ix, const Shape& sizes) {
  Flat f{{}, {}, a.shape(), array(int64_t(0))};
  for (int d = 0; d < int(a.ndim()); ++d) {
    bool is_indexed = std::find(ix.axes.begin(), ix.axes.end(), d) != ix.axes.end();
    (is_indexed ? f.indexed : f.others).push_back(d);
    if (!is_indexed) f.region[size_t(d)] = sizes[size_t(d)];
  }
  const size_t ni = ix.shape.size(), k = f.indexed.size();
  // Each indexed axis d contributes (start_d + offset within the slice) *
  // stride_d, with its own trailing dimension for the offsets.
  Shape out = ix.shape;
  for (int d : f.indexed) out.push_back(sizes[size_t(d)]);
  int64_t stride = 1;
  array index = zeros(Shape(ni + k, 1), int64);
  for (size_t j = k; j-- > 0;) {
    const int d = f.indexed[j];
    const size_t which = size_t(std::find(ix.axes.begin(), ix.axes.end(), d) - ix.axes.begin());
    const int32_t dim = a.shape(d), size = sizes[size_t(d)];
    Shape at(ni + k, 1);
    std::copy(ix.shape.begin(), ix.shape.end(), at.begin());
    array start = reshape(clamped_index(ix.indices[which], dim, dim - size), at);
    Shape along(ni + k, 1);
    along[ni + j] = size;
    array offset = reshape(arange(0, size, int64), along);
    index = add(index, multiply(add(start, offset), array(stride)));
    stride *= dim;
  }
  f.index = broadcast_to(index, out);
  return f;
}

// a's region transposed and flattened as Flat describes, and back.
array to_rows(const array& region, const Flat& f) {
  std::vector<int> perm = f.indexed;
  perm.insert(perm.end(), f.others.begin(), f.others.end());
  array t = transpose(region, perm);
  Shape rows{-1};
  for (int d : f.others) rows.push_back(region.shape(d));
  int64_t n = 1;
  for (int d : f.indexed) n *= region.shape(d);
  rows[0] = detail::checked_dimension("gather", n, region.shape());
  return reshape(t, rows);
}
array from_rows(const array& rows, const Flat& f, const Shape& region) {
  std::vector<int> perm = f.indexed;
  perm.insert(perm.end(), f.others.begin(), f.others.end());
  Shape t;
  for (int d : perm) t.push_back(region[size_t(d)]);
  std::vector<int> inverse(perm.size());
  for (size_t i = 0; i < perm.size(); ++i) inverse[size_t(perm[i])] = int(i);
  return transpose(reshape(rows, t), inverse);
}

// The region [0, sizes) of a (a itself when sizes is a's shape).
array region_of(const array& a, const Shape& sizes) {
  if (sizes == a.shape()) return a;
  return slice(a, Shape(a.ndim(), 0), sizes);
}

array scatter_node(const array& a, const array& idx, const array& upd, int axis, ScatterReduce r) {
  return detail::make_node(OpKind::Scatter, {a, idx, upd}, {{"axis", int64_t(axis)}, {"reduce", int64_t(r)}});
}

array scatter_impl(ScatterReduce r, const array& a, const std::vector<array>& indices, const array& updates_in,
                   const std::vector<int>& axes) {
  const char* op = ir::scatter_reduce_name(r);
  Indexing ix = check_indexing(op, a, indices, axes);
  const size_t ni = ix.shape.size();
  if (updates_in.ndim() != ni + a.ndim())
    throw_invalid(op, "Updates of shape " + str(updates_in.shape()) + " must have rank " +
                          std::to_string(ni + a.ndim()) + ": the index shape " + str(ix.shape) +
                          " followed by one dimension per axis of the array of shape " + str(a.shape()) + ".");
  if (a.dtype() == bool_ && r != ScatterReduce::Assign)
    throw_invalid(op, "Cannot reduce into an array of type bool.");
  if (is_complex(a.dtype()) && (r == ScatterReduce::Max || r == ScatterReduce::Min))
    throw_invalid(op, "Cannot take the maximum or minimum of complex values.");
  Shape sizes(updates_in.shape().begin() + ni, updates_in.shape().end());
  for (size_t d = 0; d < sizes.size(); ++d)
    if (sizes[d] > a.shape(int(d)))
      throw_invalid(op, "Updates of shape " + str(updates_in.shape()) + " have slices larger than the array of shape " +
                            str(a.shape()) + " on axis " + std::to_string(d) + ".");
  Shape full_upd = ix.shape;
  full_upd.insert(full_upd.end(), sizes.begin(), sizes.end());
  array updates = broadcast_to(astype(updates_in, a.dtype()), full_upd);

  Shape region = a.shape();
  for (int d = 0; d < int(a.ndim()); ++d)
    if (std::find(ix.axes.begin(), ix.axes.end(), d) == ix.axes.end()) region[size_t(d)] = sizes[size_t(d)];
  array sub = region_of(a, region);
  array result = sub;
  if (ix.axes.size() == 1 && sizes[size_t(ix.axes[0])] == 1) {
    // One index array of unit slices: scatter whole rows at that axis, the
    // index shape moved into the axis' place in the updates.
    const int ax = ix.axes[0];
    Shape no_axis(full_upd.begin(), full_upd.end());
    no_axis.erase(no_axis.begin() + ni + ax);
    std::vector<int> perm;
    for (int d = 0; d < ax; ++d) perm.push_back(int(ni) + d);
    for (size_t d = 0; d < ni; ++d) perm.push_back(int(d));
    for (int d = ax; d < int(a.ndim()) - 1; ++d) perm.push_back(int(ni) + d);
    array upd = transpose(reshape(updates, no_axis), perm);
    result = scatter_node(sub, ix.indices[0], upd, ax, r);
  } else {
    Flat f = flatten_indexing(a, ix, sizes);
    // The updates as I + [slice sizes of the indexed axes] + [the others'].
    std::vector<int> perm(ni);
    std::iota(perm.begin(), perm.end(), 0);
    for (int d : f.indexed) perm.push_back(int(ni) + d);
    for (int d : f.others) perm.push_back(int(ni) + d);
    array upd = transpose(updates, perm);
    Shape flat_upd{int32_t(f.index.size())};
    for (int d : f.others) flat_upd.push_back(sizes[size_t(d)]);
    array rows = scatter_node(to_rows(sub, f), reshape(f.index, {-1}), reshape(upd, flat_upd), 0, r);
    result = from_rows(rows, f, region);
  }
  if (region == a.shape()) return result;
  return slice_update(a, result, Shape(a.ndim(), 0), region);
}

// The flat position in a of each element of `indices` along `axis` (a and
// the indices both viewed as [outer, n or m, inner]), for the along-axis
// scatters. Checks and broadcasts as take_along_axis does.
struct AlongAxis {
  array flat;    // int64, the indices' broadcast shape
  Shape shape;   // that shape
};
AlongAxis along_axis(const char* op, const array& a, const array& indices, int axis) {
  if (!is_integral(indices.dtype()))
    throw_invalid(op, "Indices must be integers, got " + dtype_name(indices.dtype()) + ".");
  if (indices.ndim() != a.ndim())
    throw_invalid(op, "Indices of shape " + str(indices.shape()) + " do not have the rank of the array of shape " +
                          str(a.shape()) + ".");
  int ax = detail::normalize_axis(op, axis, int(a.ndim()));
  Shape si = indices.shape();
  for (int d = 0; d < int(a.ndim()); ++d)
    if (d != ax && si[size_t(d)] != a.shape(d)) {
      if (si[size_t(d)] != 1)
        throw_invalid(op, "Indices of shape " + str(indices.shape()) + " do not broadcast to the array of shape " +
                              str(a.shape()) + " outside axis " + std::to_string(axis) + ".");
      si[size_t(d)] = a.shape(d);
    }
  if (a.shape(ax) == 0 && ir::shape_size(si) > 0)
    throw_invalid(op, "Cannot scatter into an empty axis of shape " + str(a.shape()) + ".");
  int64_t outer = 1, inner = 1;
  for (int d = 0; d < ax; ++d) outer *= a.shape(d);
  for (int d = ax + 1; d < int(a.ndim()); ++d) inner *= a.shape(d);
  const int32_t n = a.shape(ax), m = si[size_t(ax)];
  Shape s3{int32_t(outer), m, int32_t(inner)};
  array pos = reshape(clamped_index(broadcast_to(indices, si), n, n - 1), s3);
  array rows = reshape(multiply(arange(0, int(outer), int64), array(int64_t(n) * inner)), {int32_t(outer), 1, 1});
  array cols = reshape(arange(0, int(inner), int64), {1, 1, int32_t(inner)});
  array flat = add(add(multiply(pos, array(inner)), rows), cols);
  return {reshape(flat, si), si};
}

array scatter_along_axis(ScatterReduce r, const char* op, const array& a, const array& indices,
                         const array& values, int axis) {
  AlongAxis p = along_axis(op, a, indices, axis);
  array v = broadcast_to(astype(values, a.dtype()), p.shape);
  array out = scatter_node(reshape(a, {-1}), reshape(p.flat, {-1}), reshape(v, {-1}), 0, r);
  return reshape(out, a.shape());
}

// Inclusive running count of the true elements of a flat bool array, as
// int32 (cumsum of bool is int32).
array running_count(const array& mask) { return cumsum(mask, 0); }

}  // namespace

array gather(const array& a, const std::vector<array>& indices, const std::vector<int>& axes,
             const Shape& slice_sizes, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  Indexing ix = check_indexing("gather", a, indices, axes);
  if (slice_sizes.size() != a.ndim())
    throw_invalid("gather", "Got slice_sizes " + str(slice_sizes) + " for an array with " +
                                std::to_string(a.ndim()) + " dimensions.");
  for (size_t d = 0; d < slice_sizes.size(); ++d)
    if (slice_sizes[d] < 0 || slice_sizes[d] > a.shape(int(d)))
      throw_invalid("gather", "Slice sizes " + str(slice_sizes) + " must be in [0, dim] for the array of shape " +
                                  str(a.shape()) + ".");
  Shape out = ix.shape;
  out.insert(out.end(), slice_sizes.begin(), slice_sizes.end());
  const size_t ni = ix.shape.size();
  if (ix.axes.size() == 1 && slice_sizes[size_t(ix.axes[0])] == 1) {
    // One index array of unit slices: a take along its axis.
    const int ax = ix.axes[0];
    Shape region = slice_sizes;
    region[size_t(ax)] = a.shape(ax);
    array t = take(region_of(a, region), ix.indices[0], ax);  // a[:ax] + I + a[ax+1:]
    std::vector<int> perm;
    for (size_t d = 0; d < ni; ++d) perm.push_back(ax + int(d));
    for (int d = 0; d < int(t.ndim()); ++d)
      if (d < ax || d >= ax + int(ni)) perm.push_back(d);
    return reshape(transpose(t, perm), out);
  }
  Flat f = flatten_indexing(a, ix, slice_sizes);
  Shape region = a.shape();
  for (int d : f.others) region[size_t(d)] = slice_sizes[size_t(d)];
  array rows = to_rows(region_of(a, region), f);
  array t = take(rows, f.index, 0);  // I + [indexed sizes] + [other sizes]
  std::vector<int> perm(ni);
  std::iota(perm.begin(), perm.end(), 0);
  for (int d = 0; d < int(a.ndim()); ++d) {
    auto in_indexed = std::find(f.indexed.begin(), f.indexed.end(), d);
    if (in_indexed != f.indexed.end()) {
      perm.push_back(int(ni) + int(in_indexed - f.indexed.begin()));
    } else {
      perm.push_back(int(ni + f.indexed.size()) +
                     int(std::find(f.others.begin(), f.others.end(), d) - f.others.begin()));
    }
  }
  return transpose(t, perm);
}

array scatter(const array& a, const std::vector<array>& indices, const array& updates, const std::vector<int>& axes,
              StreamOrDevice s) {
  detail::OpStream on_stream(s);
  return scatter_impl(ScatterReduce::Assign, a, indices, updates, axes);
}
array scatter_add(const array& a, const std::vector<array>& indices, const array& updates,
                  const std::vector<int>& axes, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  return scatter_impl(ScatterReduce::Add, a, indices, updates, axes);
}
array scatter_prod(const array& a, const std::vector<array>& indices, const array& updates,
                   const std::vector<int>& axes, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  return scatter_impl(ScatterReduce::Prod, a, indices, updates, axes);
}
array scatter_max(const array& a, const std::vector<array>& indices, const array& updates,
                  const std::vector<int>& axes, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  return scatter_impl(ScatterReduce::Max, a, indices, updates, axes);
}
array scatter_min(const array& a, const std::vector<array>& indices, const array& updates,
                  const std::vector<int>& axes, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  return scatter_impl(ScatterReduce::Min, a, indices, updates, axes);
}

array put_along_axis(const array& a, const array& indices, const array& values, int axis, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  return scatter_along_axis(ScatterReduce::Assign, "put_along_axis", a, indices, values, axis);
}
array scatter_add_axis(const array& a, const array& indices, const array& values, int axis, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  if (a.dtype() == bool_) throw_invalid("scatter_add_axis", "Cannot add into an array of type bool.");
  return scatter_along_axis(ScatterReduce::Add, "scatter_add_axis", a, indices, values, axis);
}

array masked_scatter(const array& a, const array& mask, const array& src, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  if (mask.dtype() != bool_)
    throw_invalid("masked_scatter", "The mask must be boolean, got " + dtype_name(mask.dtype()) + ".");
  Shape common = detail::broadcast_shapes("masked_scatter", mask.shape(), a.shape());
  if (common != a.shape())
    throw_invalid("masked_scatter", "The mask of shape " + str(mask.shape()) +
                                        " does not broadcast to the array of shape " + str(a.shape()) + ".");
  if (a.size() == 0) return a;
  if (src.size() == 0)
    throw_invalid("masked_scatter", "The source array is empty; it must hold a value for every true mask element.");
  array m = reshape(broadcast_to(mask, a.shape()), {-1});
  // The k-th true element of the mask takes the k-th element of src.
  array which = subtract(running_count(m), array(1));
  array values = take(reshape(astype(src, a.dtype()), {-1}), maximum(which, array(0)), 0);
  return reshape(where(m, values, reshape(a, {-1})), a.shape());
}

array slice(const array& a, const array& start, std::vector<int> axes, Shape slice_size, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  if (!is_integral(start.dtype()))
    throw_invalid("slice", "Start indices must be integers, got " + dtype_name(start.dtype()) + ".");
  if (start.ndim() > 1 || start.size() != axes.size())
    throw_invalid("slice", "Start indices of shape " + str(start.shape()) + " must hold one index per axis of " +
                               str_ints(axes) + ".");
  if (slice_size.size() != a.ndim())
    throw_invalid("slice", "Slice size " + str(slice_size) + " must have one entry per dimension of the array of shape " +
                               str(a.shape()) + ".");
  std::vector<array> starts;
  for (size_t i = 0; i < axes.size(); ++i) starts.push_back(take(reshape(start, {-1}), int(i)));
  return gather(a, starts, axes, slice_size);
}

array slice_update(const array& src, const array& update, const array& start, std::vector<int> axes,
                   StreamOrDevice s) {
  detail::OpStream on_stream(s);
  if (!is_integral(start.dtype()))
    throw_invalid("slice_update", "Start indices must be integers, got " + dtype_name(start.dtype()) + ".");
  if (start.ndim() > 1 || start.size() != axes.size())
    throw_invalid("slice_update", "Start indices of shape " + str(start.shape()) +
                                      " must hold one index per axis of " + str_ints(axes) + ".");
  if (update.ndim() > src.ndim())
    throw_invalid("slice_update", "Update of shape " + str(update.shape()) + " has a higher rank than the source of shape " +
                                      str(src.shape()) + ".");
  Shape us(src.ndim() - update.ndim(), 1);
  us.insert(us.end(), update.shape().begin(), update.shape().end());
  std::vector<array> starts;
  for (size_t i = 0; i < axes.size(); ++i) starts.push_back(take(reshape(start, {-1}), int(i)));
  return scatter(src, starts, reshape(update, us), axes);
}

array slice_update_add(const array& src, const array& update, Shape start, Shape stop, Shape strides,
                       StreamOrDevice s) {
  detail::OpStream on_stream(s);
  if (src.dtype() == bool_) throw_invalid("slice_update_add", "Cannot add into an array of type bool.");
  array region = slice(src, start, stop, strides);
  array sum = add(region, broadcast_to(astype(update, src.dtype()), region.shape()));
  return slice_update(src, astype(sum, src.dtype()), start, stop, strides);
}
array slice_update_add(const array& src, const array& update, Shape start, Shape stop, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  return slice_update_add(src, update, start, stop, Shape(src.ndim(), 1));
}

array as_strided(array a, Shape shape, Strides strides, size_t offset, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  if (shape.size() != strides.size())
    throw_invalid("as_strided", "Shape " + str(shape) + " and " + std::to_string(strides.size()) +
                                    " strides do not have the same length.");
  detail::check_shape("as_strided", shape, a.dtype());
  if (ir::shape_size(shape) == 0) return zeros(shape, a.dtype());
  if (a.size() == 0) throw_invalid("as_strided", "Cannot view an empty array with a non-empty shape.");
  // The flat position of each element: offset + sum_d i_d * strides[d]
  // (clamped into the array, as take clamps).
  const size_t r = shape.size();
  array pos = array(int64_t(offset));
  for (size_t d = 0; d < r; ++d) {
    Shape at(r, 1);
    at[d] = shape[d];
    pos = add(pos, reshape(multiply(arange(0, shape[d], int64), array(int64_t(strides[d]))), at));
  }
  return take(reshape(a, {-1}), broadcast_to(pos, shape), 0);
}

}  // namespace kiln
