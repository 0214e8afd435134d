// Shape helpers, dtype queries and small composites (frontend/ops_misc.h).
#include <cmath>
#include <limits>

#include "frontend/ops_util.h"

namespace kiln {

using detail::str;
using detail::throw_invalid;

array::ArrayIterator::ArrayIterator(const array& arr, int idx) : node_(arr.node()), idx_(idx) {
  if (arr.ndim() == 0) throw_invalid("array", "Cannot iterate over a 0-d array.");
}

array::ArrayIterator::reference array::ArrayIterator::operator*() const {
  array a(node_);
  if (idx_ < 0 || idx_ >= a.shape(0))
    throw_invalid("array", "Iterator index " + std::to_string(idx_) + " is out of bounds for shape " +
                               str(a.shape()) + ".");
  Shape start(a.ndim(), 0), stop = a.shape();
  start[0] = idx_;
  stop[0] = idx_ + 1;
  return squeeze(slice(a, start, stop), 0);
}

Shape broadcast_shapes(const Shape& s1, const Shape& s2) {
  return detail::broadcast_shapes("broadcast_shapes", s1, s2);
}

Dtype result_type(const array& a, const array& b) { return promote_types(a.dtype(), b.dtype()); }
Dtype result_type(const array& a, const array& b, const array& c) {
  return promote_types(result_type(a, b), c.dtype());
}
Dtype result_type(const std::vector<array>& arrays) {
  if (arrays.empty()) throw_invalid("result_type", "Needs at least one array.");
  Dtype t = arrays[0].dtype();
  for (const array& x : arrays) t = promote_types(t, x.dtype());
  return t;
}

namespace {
template <typename T>
void float_limits(finfo* f) {
  f->min = double(std::numeric_limits<T>::lowest());
  f->max = double(std::numeric_limits<T>::max());
  f->eps = double(std::numeric_limits<T>::epsilon());
}
template <typename T>
void int_limits(iinfo* i) {
  i->min = int64_t(std::numeric_limits<T>::min());
  i->max = uint64_t(std::numeric_limits<T>::max());
}
}  // namespace

finfo::finfo(Dtype t) : dtype(t) {
  // The 16-bit formats have no std::numeric_limits: their values are exact
  // powers of two (float16: max (2-2^-10)*2^15, eps 2^-10; bfloat16: max
  // (2-2^-7)*2^127, eps 2^-7).
  if (t == float16) {
    max = 65504.0, eps = std::ldexp(1.0, -10);
  } else if (t == bfloat16) {
    max = (2.0 - std::ldexp(1.0, -7)) * std::ldexp(1.0, 127), eps = std::ldexp(1.0, -7);
  } else if (t == float32 || t == complex64) {
    float_limits<float>(this);
  } else if (t == float64) {
    float_limits<double>(this);
  } else {
    throw_invalid("finfo", "dtype " + dtype_name(t) + " is not inexact.");
  }
  if (t == float16 || t == bfloat16) min = -max;
  // complex64's parts are float32: NumPy reports finfo(complex64) as float32.
  if (t == complex64) dtype = float32;
}

iinfo::iinfo(Dtype t) : dtype(t) {
  switch (t.val) {
    case Dtype::Val::uint8: int_limits<uint8_t>(this); break;
    case Dtype::Val::uint16: int_limits<uint16_t>(this); break;
    case Dtype::Val::uint32: int_limits<uint32_t>(this); break;
    case Dtype::Val::uint64: int_limits<uint64_t>(this); break;
    case Dtype::Val::int8: int_limits<int8_t>(this); break;
    case Dtype::Val::int16: int_limits<int16_t>(this); break;
    case Dtype::Val::int32: int_limits<int32_t>(this); break;
    case Dtype::Val::int64: int_limits<int64_t>(this); break;
    case Dtype::Val::bool_: case Dtype::Val::float16: case Dtype::Val::float32:
    case Dtype::Val::float64: case Dtype::Val::bfloat16: case Dtype::Val::complex64:
      throw_invalid("iinfo", "dtype " + dtype_name(t) + " is not an integer type.");
  }
}

array unflatten(const array& a, int axis, Shape shape, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  if (shape.empty()) throw_invalid("unflatten", "The shape to unflatten to cannot be empty.");
  int ax = detail::normalize_axis("unflatten", axis, int(a.ndim()));
  int infer = -1;
  int64_t known = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      if (infer >= 0) throw_invalid("unflatten", "Can only infer one dimension, got shape " + str(shape) + ".");
      infer = int(i);
    } else if (shape[i] < 0) {
      throw_invalid("unflatten", "Invalid dimension in shape " + str(shape) + ".");
    } else {
      known *= shape[i];
    }
  }
  int64_t n = a.shape(ax);
  if (infer >= 0) {
    if (known == 0 || n % known != 0)
      throw_invalid("unflatten", "Cannot infer the shape " + str(shape) + " for axis " + std::to_string(axis) +
                                     " of size " + std::to_string(n) + ".");
    shape[infer] = int32_t(n / known);
  } else if (known != n) {
    throw_invalid("unflatten", "Cannot unflatten axis " + std::to_string(axis) + " of size " + std::to_string(n) +
                                   " (shape " + str(a.shape()) + ") into shape " + str(shape) + ".");
  }
  Shape out(a.shape().begin(), a.shape().begin() + ax);
  out.insert(out.end(), shape.begin(), shape.end());
  out.insert(out.end(), a.shape().begin() + ax + 1, a.shape().end());
  return detail::reshape_generic(a, out);
}

std::vector<array> unstack(const array& a, int axis, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  if (a.ndim() == 0) throw_invalid("unstack", "Cannot unstack a 0-dimensional array.");
  int ax = detail::normalize_axis("unstack", axis, int(a.ndim()));
  std::vector<array> out;
  // Slices, not takes: views that fuse into their consumers.
  for (int i = 0; i < a.shape(ax); ++i) {
    Shape start(a.ndim(), 0), stop = a.shape();
    start[ax] = i;
    stop[ax] = i + 1;
    out.push_back(squeeze(slice(a, start, stop), ax));
  }
  return out;
}

array contiguous(const array& a, bool /*allow_col_major*/, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  return a;
}

array view(const array& a, const Dtype& dtype, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  if (a.dtype() == dtype) return a;
  int64_t from = a.itemsize(), to = dtype.size();
  Shape out = a.shape();
  if (from != to) {
    if (a.ndim() == 0)
      throw_invalid("view", "A 0-d array can only be viewed as a dtype of its element size: " +
                                dtype_name(a.dtype()) + " has " + std::to_string(from) + " bytes, " +
                                dtype_name(dtype) + " " + std::to_string(to) + ".");
    int64_t bytes = int64_t(out.back()) * from;
    if (bytes % to != 0)
      throw_invalid("view", "The last axis of shape " + str(a.shape()) + " (" + dtype_name(a.dtype()) + ") holds " +
                                std::to_string(bytes) + " bytes, not a multiple of the " + std::to_string(to) +
                                " bytes of " + dtype_name(dtype) + ".");
    out.back() = int32_t(bytes / to);
  }
  return detail::make_node(ir::OpKind::Bitcast, {a}, {}, ir::Type{dtype, out});
}

std::vector<array> divmod(const array& a, const array& b, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  if (is_complex(a.dtype()) || is_complex(b.dtype()))
    throw_invalid("divmod", "Complex dtypes are not supported, got " + dtype_name(a.dtype()) + " and " +
                                dtype_name(b.dtype()) + ".");
  return {floor_divide(a, b), remainder(a, b)};
}

}  // namespace kiln
