// Convolutions, channels-last as MLX: input (N, spatial..., C_in), weight
// (C_out, kernel spatial..., C_in / groups), output (N, spatial..., C_out).
//
// Without groups, the patch matrix (im2col: one row per output position,
// one column per kernel tap and input channel) is one gather through an
// index table (GatherConv), multiplied by the reshaped weight in one
// matmul, with a written-out vjp. Grouped convolutions are composites: the
// input is dilated (input_dilation), padded, cut into one strided slice per
// kernel tap, and the taps are joined along the channel axis for a batched
// matmul over the groups; a depthwise convolution is an elementwise sum
// over taps (one fused kernel). Written from existing ops, they get vjp,
// jvp, vmap and compile from them.
#include <algorithm>
#include <tuple>

#include "frontend/autodiff.h"
#include "frontend/ops_util.h"

namespace kiln {

using detail::str;
using detail::throw_invalid;

namespace {

std::string ints(const std::vector<int>& v) {
  std::string s = "(";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
  return s + ")";
}

// A per-spatial-axis parameter: empty means `fallback` everywhere, a single
// value applies to every axis (as MLX's conv_general).
std::vector<int> per_axis(const std::string& op, const char* what, std::vector<int> v, int spatial, int fallback) {
  if (v.empty()) return std::vector<int>(spatial, fallback);
  if (v.size() == 1) return std::vector<int>(spatial, v[0]);
  if (int(v.size()) != spatial)
    throw_invalid(op, std::string("Invalid ") + what + " " + ints(v) + " for " + std::to_string(spatial) +
                          " spatial dimensions: expected one value per spatial dimension.");
  return v;
}

// Reverses the kernel's spatial axes (flip = true: a true convolution
// rather than a cross-correlation).
array flip_spatial(const array& w) {
  Shape start(w.ndim(), 0), stop = w.shape(), strides(w.ndim(), 1);
  for (size_t d = 1; d + 1 < w.ndim(); ++d) {
    start[d] = w.shape(int(d)) - 1;
    stop[d] = -w.shape(int(d)) - 1;  // one before index 0, in Python slice terms
    strides[d] = -1;
  }
  return slice(w, start, stop, strides);
}

// Inserts r - 1 zeros between neighbours along spatial axis `ax`: each
// element gets r - 1 zeros after it (expand, pad the new axis, merge), and
// the trailing zeros are cut off.
array dilate_axis(const array& x, int ax, int r) {
  int n = x.shape(ax);
  if (r == 1 || n == 0) return x;
  array e = pad(expand_dims(x, ax + 1), std::vector<int>{ax + 1}, Shape{0}, Shape{r - 1}, array(0, x.dtype()));
  Shape merged = x.shape();
  merged[ax] = n * r;
  Shape start(x.ndim(), 0), stop = merged;
  stop[ax] = (n - 1) * r + 1;
  return slice(reshape(e, merged), start, stop);
}

// Pads (positive widths) or crops (negative widths) the spatial axes.
array pad_or_crop(const array& x, const std::vector<int>& lo, const std::vector<int>& hi) {
  std::vector<int> axes;
  Shape plo, phi;
  for (size_t i = 0; i < lo.size(); ++i) {
    axes.push_back(int(i) + 1);
    plo.push_back(std::max(lo[i], 0));
    phi.push_back(std::max(hi[i], 0));
  }
  array p = pad(x, axes, plo, phi, array(0, x.dtype()));
  Shape start(p.ndim(), 0), stop = p.shape();
  bool crop = false;
  for (size_t i = 0; i < lo.size(); ++i) {
    if (lo[i] < 0) start[i + 1] = -lo[i], crop = true;
    if (hi[i] < 0) stop[i + 1] = p.shape(int(i) + 1) + hi[i], crop = true;
  }
  return crop ? slice(p, start, stop) : p;
}

// Which element of a grid `from` each tap of a kernel reads for each
// position of a grid `to` (both row-major over the spatial axes): for
// position q and tap t, from-coordinate q * stride + t * dilation - lo per
// axis. Entries (positions x taps) that fall outside `from` are marked not
// inside and read element 0 (the caller masks them).
struct TapTable {
  std::vector<int32_t> at;
  std::vector<uint8_t> inside;
};

TapTable tap_table(const Shape& to, const Shape& from, const Shape& kernel, const std::vector<int>& stride,
                   const std::vector<int>& dilation, const std::vector<int>& lo) {
  size_t spatial = to.size();
  int64_t positions = 1, taps = 1;
  for (size_t d = 0; d < spatial; ++d) {
    positions *= to[d];
    taps *= kernel[d];
  }
  TapTable table{std::vector<int32_t>(size_t(positions * taps)), std::vector<uint8_t>(size_t(positions * taps))};
  std::vector<int> q(spatial, 0);
  for (int64_t p = 0; p < positions; ++p) {
    std::vector<int> tap(spatial, 0);
    for (int64_t t = 0; t < taps; ++t) {
      int64_t at = 0;
      bool inside = true;
      for (size_t d = 0; d < spatial; ++d) {
        int64_t i = int64_t(q[d]) * stride[d] + int64_t(tap[d]) * dilation[d] - lo[d];
        inside = inside && i >= 0 && i < from[d];
        at = at * from[d] + i;
      }
      table.at[size_t(p * taps + t)] = inside ? int32_t(at) : 0;
      table.inside[size_t(p * taps + t)] = inside;
      for (int d = int(spatial) - 1; d >= 0 && ++tap[size_t(d)] == kernel[size_t(d)]; --d) tap[size_t(d)] = 0;
    }
    for (int d = int(spatial) - 1; d >= 0 && ++q[size_t(d)] == to[size_t(d)]; --d) q[size_t(d)] = 0;
  }
  return table;
}

// The spatial part of an (N, spatial..., C) shape.
Shape spatial_of(const Shape& s) { return Shape(s.begin() + 1, s.end() - 1); }

// Reads src (N, positions, C) at table (to-positions x taps): (N,
// to-positions, taps, C), zero where the table is not inside. With C = 1 the
// channel axis is dropped (src (N, positions), result (N, to-positions,
// taps)): gathering along the last axis keeps the kernel's inner loop over
// the taps rather than over a single channel, 2x faster.
array gather_taps(const array& src, const TapTable& table, int64_t taps, const std::string& op) {
  int rows = int(detail::checked_dimension(op, int64_t(table.at.size()) / taps, src.shape()));
  Shape shape{rows, int(taps)};
  array at(table.at.data(), shape, int32), inside(table.inside.data(), shape, bool_);
  bool one_channel = src.ndim() == 2;
  array gathered = take(src, at, 1);
  return where(one_channel ? inside : expand_dims(inside, 2), gathered, array(0, src.dtype()));
}

// The patch matrix as one gather: patches[n, o, tap, c] = x[n, o * stride +
// tap * dilation - lo, c] over the flattened spatial positions o of the
// output, through an index table (positions x taps) computed here, with
// the taps that fall into the padding masked to zero. One fused kernel
// writes it (no padded copy of the input, no tap slices to join), and it
// multiplies the weight as one matmul.
//
// Its vjp is written out rather than derived (vjp below): the derived one
// would scatter the patches' cotangent back into the input, where the
// input's gradient is itself a convolution (of the output's gradient,
// dilated by the stride) and the weight's one matmul.
struct GatherConv {
  std::vector<int> stride, lo, kernel_dilation;  // lo: padding before each spatial axis (negative: cropped)
  Shape out_shape;
  std::string op;

  // {output, patch matrix (N * output positions, taps * C_in)}.
  std::vector<array> forward(const array& x, const array& w) const {
    int spatial = int(lo.size());
    int n = x.shape(0), c_in = x.shape(-1), c_out = w.shape(0);
    int64_t positions = 1, in_positions = 1, taps = 1;
    for (int d = 0; d < spatial; ++d) {
      positions *= out_shape[size_t(d) + 1];
      in_positions *= x.shape(d + 1);
      taps *= w.shape(d + 1);
    }
    TapTable table =
        tap_table(spatial_of(out_shape), spatial_of(x.shape()), spatial_of(w.shape()), stride, kernel_dilation, lo);
    int in32 = int(detail::checked_dimension(op, in_positions, x.shape()));
    int depth = int(detail::checked_dimension(op, taps * c_in, w.shape()));
    int m = int(detail::checked_dimension(op, n * positions, x.shape()));
    array src = c_in == 1 ? reshape(x, {n, in32}) : reshape(x, {n, in32, c_in});
    array patches = reshape(gather_taps(src, table, taps, op), {m, depth});
    array out = matmul(patches, transpose(reshape(w, {c_out, depth})));
    return {reshape(out, out_shape), patches};
  }

  // The cotangents of input and weight from the output's, `dy`.
  std::vector<array> vjp(const array& input, const array& w, const array& dy, const array& patches) const {
    int spatial = int(lo.size());
    // The input's gradient: dy, dilated by the stride, convolved with the
    // kernel flipped and its channel axes swapped, padded so that each
    // output spreads back over the taps that read it (the padding of a
    // "full" correlation); its output positions are the input's.
    std::vector<int> perm{int(w.ndim()) - 1};
    for (int d = 1; d <= spatial; ++d) perm.push_back(d);
    perm.push_back(0);
    // (Its forward directly: through conv_impl, tracing this rule would
    // trace the rule of that convolution, and so on.)
    GatherConv back{std::vector<int>(size_t(spatial), 1), {}, kernel_dilation, input.shape(), op};
    array dy_dilated = dy;
    for (int d = 0; d < spatial; ++d) {
      back.lo.push_back((w.shape(d + 1) - 1) * kernel_dilation[d] - lo[d]);
      dy_dilated = dilate_axis(dy_dilated, d + 1, stride[d]);
    }
    array dx = back.forward(dy_dilated, flip_spatial(transpose(w, perm)))[0];
    // (col2im, the patches' cotangent dy * W gathered back per input
    // position and summed over taps, reads less with fewer input than
    // output channels, but its gather-and-sum kernel ran at half the speed
    // of the plain gather: 6.9 ms against 5.4 for the CNN's second layer.)
    // The weight's gradient: dy times the patch matrix.
    array dw = matmul(transpose(reshape(dy, {patches.shape(0), w.shape(0)})), patches);
    return {dx, reshape(dw, w.shape())};
  }
};

array conv_by_gather(const array& x, const array& w, const GatherConv& conv) {
  auto fun = custom_vjp(
      [conv](const std::vector<array>& p) { return conv.forward(p[0], p[1]); },
      [conv](const std::vector<array>& p, const std::vector<array>& cotangents, const std::vector<array>& outputs) {
        return conv.vjp(p[0], p[1], cotangents[0], outputs[1]);
      });
  return fun({x, w})[0];
}

// The convolution behind every public form; `op` names the caller in errors.
array conv_impl(const std::string& op, array input, array weight, std::vector<int> stride,
                std::vector<int> padding_lo, std::vector<int> padding_hi, std::vector<int> kernel_dilation,
                std::vector<int> input_dilation, int groups, bool flip, int expected_spatial) {
  if (input.ndim() < 3)
    throw_invalid(op, "Invalid input array of shape " + str(input.shape()) +
                          ": expected at least 3 dimensions (N, spatial..., C_in).");
  int spatial = int(input.ndim()) - 2;
  if (expected_spatial > 0 && spatial != expected_spatial)
    throw_invalid(op, "Invalid input array of shape " + str(input.shape()) + " for a " +
                          std::to_string(expected_spatial) + "D convolution: expected " +
                          std::to_string(expected_spatial + 2) + " dimensions (N, spatial..., C_in).");
  if (weight.ndim() != input.ndim())
    throw_invalid(op, "Invalid weight array of shape " + str(weight.shape()) + " for input of shape " +
                          str(input.shape()) + ": expected " + std::to_string(input.ndim()) +
                          " dimensions (C_out, spatial..., C_in / groups).");
  Dtype t = promote_types(input.dtype(), weight.dtype());
  if (!is_floating(t) || t == complex64)
    throw_invalid(op, "Convolution supports real floating point types only, got " + dtype_name(input.dtype()) +
                          " and " + dtype_name(weight.dtype()) + ".");
  if (groups < 1) throw_invalid(op, "groups must be positive, got " + std::to_string(groups) + ".");
  int c_in = input.shape(-1), c_out = weight.shape(0);
  if (c_in % groups != 0)
    throw_invalid(op, "The input channels (" + std::to_string(c_in) + " in shape " + str(input.shape()) +
                          ") must be divisible by groups (" + std::to_string(groups) + ").");
  if (c_out % groups != 0)
    throw_invalid(op, "The output channels (" + std::to_string(c_out) + " in weight shape " +
                          str(weight.shape()) + ") must be divisible by groups (" + std::to_string(groups) + ").");
  if (weight.shape(-1) * groups != c_in)
    throw_invalid(op, "Expected the input channels of input and weight to match (weight channels times groups " +
                          std::to_string(groups) + "), got input shape " + str(input.shape()) +
                          " and weight shape " + str(weight.shape()) + ".");
  stride = per_axis(op, "stride", stride, spatial, 1);
  padding_lo = per_axis(op, "padding", padding_lo, spatial, 0);
  padding_hi = per_axis(op, "padding", padding_hi, spatial, 0);
  kernel_dilation = per_axis(op, "kernel dilation", kernel_dilation, spatial, 1);
  input_dilation = per_axis(op, "input dilation", input_dilation, spatial, 1);
  for (int d = 0; d < spatial; ++d) {
    if (stride[d] < 1) throw_invalid(op, "Strides must be positive, got " + ints(stride) + ".");
    if (kernel_dilation[d] < 1)
      throw_invalid(op, "Kernel dilation must be positive, got " + ints(kernel_dilation) + ".");
    if (input_dilation[d] < 1)
      throw_invalid(op, "Input dilation must be positive, got " + ints(input_dilation) + ".");
  }

  // Output size per spatial axis, from the dilated, padded input and the
  // dilated kernel.
  Shape out_shape{input.shape(0)};
  int64_t taps = 1;
  for (int d = 0; d < spatial; ++d) {
    int64_t n = input.shape(d + 1), k = weight.shape(d + 1);
    int64_t in_extent = (n > 0 ? (n - 1) * input_dilation[d] + 1 : 0) + padding_lo[d] + padding_hi[d];
    int64_t k_extent = (k - 1) * kernel_dilation[d] + 1;
    if (k < 1 || in_extent < k_extent)
      throw_invalid(op, "The spatial dimensions of the input " + str(input.shape()) +
                            " after dilation and padding must not be smaller than those of the dilated kernel " +
                            str(weight.shape()) + ".");
    out_shape.push_back(int(detail::checked_dimension(op, (in_extent - k_extent) / stride[d] + 1, input.shape())));
    taps *= k;
  }
  out_shape.push_back(c_out);

  array x = detail::cast_to(input, t), w = detail::cast_to(weight, t);
  if (flip) w = flip_spatial(w);
  for (int d = 0; d < spatial; ++d) x = dilate_axis(x, d + 1, input_dilation[d]);
  // (The gather needs an element to read: an empty input, all padding,
  // takes the general path.)
  if (groups == 1 && taps > 1 && x.size() > 0 && c_out > 0)
    return conv_by_gather(x, w, GatherConv{stride, padding_lo, kernel_dilation, out_shape, op});
  x = pad_or_crop(x, padding_lo, padding_hi);

  // One strided slice per kernel tap (row-major over the kernel's spatial
  // axes), joined along channels: patches[n, o..., (tap, c)].
  std::vector<array> tap_slices;
  std::vector<int> tap(spatial, 0);
  for (int64_t i = 0; i < taps; ++i) {
    Shape start(x.ndim(), 0), stop = x.shape(), steps(x.ndim(), 1);
    for (int d = 0; d < spatial; ++d) {
      start[d + 1] = tap[d] * kernel_dilation[d];
      stop[d + 1] = start[d + 1] + (out_shape[d + 1] - 1) * stride[d] + 1;
      steps[d + 1] = stride[d];
    }
    tap_slices.push_back(slice(x, start, stop, steps));
    for (int d = spatial - 1; d >= 0 && ++tap[d] == weight.shape(d + 1); --d) tap[d] = 0;
  }
  if (groups == c_in && c_out == c_in && taps > 1) {
    // Depthwise: each channel is its own group, so the convolution is a sum
    // over taps of (tap slice) * (that tap's weight per channel), all
    // elementwise: one fused kernel, no patch matrix.
    array per_tap = reshape(w, {c_out, int(taps)});
    array acc = tap_slices[0] * reshape(slice(per_tap, {0, 0}, {c_out, 1}), {c_out});
    for (int i = 1; i < int(taps); ++i)
      acc = acc + tap_slices[i] * reshape(slice(per_tap, {0, i}, {c_out, i + 1}), {c_out});
    return acc;
  }
  array patches = tap_slices.size() == 1 ? tap_slices[0] : concatenate(tap_slices, -1);

  int64_t rows = 1;
  for (int d = 0; d <= spatial; ++d) rows *= out_shape[d];
  int m = int(detail::checked_dimension(op, rows, input.shape()));
  int depth = int(detail::checked_dimension(op, taps * c_in, weight.shape()));
  array out = [&] {
    if (groups == 1)
      return matmul(reshape(patches, {m, depth}), transpose(reshape(w, {c_out, depth})));
    // Per group g: patches' channels g*cg..(g+1)*cg of every tap, times the
    // weight rows g*og..(g+1)*og; output channel g*og + j.
    int cg = c_in / groups, og = c_out / groups, gdepth = depth / groups;
    array p = reshape(transpose(reshape(patches, {m, int(taps), groups, cg}), {2, 0, 1, 3}), {groups, m, gdepth});
    array wg = transpose(reshape(w, {groups, og, gdepth}), {0, 2, 1});
    return reshape(transpose(matmul(p, wg), {1, 0, 2}), {m, c_out});
  }();
  return reshape(out, out_shape);
}

// conv_transpose: the convolution of the stride-dilated input with the
// flipped kernel, padded so that each input element spreads over the
// kernel's extent (the vjp of conv with respect to its input).
array conv_transpose_impl(const std::string& op, const array& input, const array& weight, std::vector<int> stride,
                          std::vector<int> padding, std::vector<int> dilation, std::vector<int> output_padding,
                          int groups, int spatial) {
  if (weight.ndim() != size_t(spatial + 2))
    throw_invalid(op, "Invalid weight array of shape " + str(weight.shape()) + " for a " + std::to_string(spatial) +
                          "D transposed convolution: expected " + std::to_string(spatial + 2) +
                          " dimensions (C_out, spatial..., C_in / groups).");
  std::vector<int> lo(spatial), hi(spatial);
  for (int d = 0; d < spatial; ++d) {
    if (stride[d] < 1) throw_invalid(op, "Strides must be positive, got " + ints(stride) + ".");
    if (dilation[d] < 1) throw_invalid(op, "Dilation must be positive, got " + ints(dilation) + ".");
    if (padding[d] < 0) throw_invalid(op, "Padding must be non-negative, got " + ints(padding) + ".");
    if (output_padding[d] < 0 || output_padding[d] >= std::max(stride[d], dilation[d]))
      throw_invalid(op, "Output padding " + ints(output_padding) +
                            " must be non-negative and smaller than the stride or the dilation.");
    int k_extent = dilation[d] * (weight.shape(d + 1) - 1);
    lo[d] = k_extent - padding[d];
    hi[d] = k_extent - padding[d] + output_padding[d];
  }
  return conv_impl(op, input, weight, {}, lo, hi, dilation, stride, groups, /*flip=*/true, spatial);
}

}  // namespace

array conv_general(array input, array weight, std::vector<int> stride, std::vector<int> padding_lo,
                   std::vector<int> padding_hi, std::vector<int> kernel_dilation, std::vector<int> input_dilation,
                   int groups, bool flip, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  return conv_impl("conv_general", std::move(input), std::move(weight), std::move(stride), std::move(padding_lo),
                   std::move(padding_hi), std::move(kernel_dilation), std::move(input_dilation), groups, flip, 0);
}

array conv1d(const array& input, const array& weight, int stride, int padding, int dilation, int groups,
             StreamOrDevice s) {
  detail::OpStream on_stream(s);
  return conv_impl("conv1d", input, weight, {stride}, {padding}, {padding}, {dilation}, {1}, groups, false, 1);
}

array conv2d(const array& input, const array& weight, const std::pair<int, int>& stride,
             const std::pair<int, int>& padding, const std::pair<int, int>& dilation, int groups, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  std::vector<int> pad{padding.first, padding.second};
  return conv_impl("conv2d", input, weight, {stride.first, stride.second}, pad, pad,
                   {dilation.first, dilation.second}, {1, 1}, groups, false, 2);
}

array conv3d(const array& input, const array& weight, const std::tuple<int, int, int>& stride,
             const std::tuple<int, int, int>& padding, const std::tuple<int, int, int>& dilation, int groups,
             StreamOrDevice s) {
  detail::OpStream on_stream(s);
  auto v = [](const std::tuple<int, int, int>& t) {
    return std::vector<int>{std::get<0>(t), std::get<1>(t), std::get<2>(t)};
  };
  return conv_impl("conv3d", input, weight, v(stride), v(padding), v(padding), v(dilation), {1, 1, 1}, groups,
                   false, 3);
}

array conv_transpose1d(const array& input, const array& weight, int stride, int padding, int dilation,
                       int output_padding, int groups, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  return conv_transpose_impl("conv_transpose1d", input, weight, {stride}, {padding}, {dilation}, {output_padding},
                             groups, 1);
}

array conv_transpose2d(const array& input, const array& weight, const std::pair<int, int>& stride,
                       const std::pair<int, int>& padding, const std::pair<int, int>& dilation,
                       const std::pair<int, int>& output_padding, int groups, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  auto v = [](const std::pair<int, int>& p) { return std::vector<int>{p.first, p.second}; };
  return conv_transpose_impl("conv_transpose2d", input, weight, v(stride), v(padding), v(dilation),
                             v(output_padding), groups, 2);
}

array conv_transpose3d(const array& input, const array& weight, const std::tuple<int, int, int>& stride,
                       const std::tuple<int, int, int>& padding, const std::tuple<int, int, int>& dilation,
                       const std::tuple<int, int, int>& output_padding, int groups, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  auto v = [](const std::tuple<int, int, int>& t) {
    return std::vector<int>{std::get<0>(t), std::get<1>(t), std::get<2>(t)};
  };
  return conv_transpose_impl("conv_transpose3d", input, weight, v(stride), v(padding), v(dilation),
                             v(output_padding), groups, 3);
}

}  // namespace kiln
