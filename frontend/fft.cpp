// kiln::fft (fft.h): argument checks, cropping and padding as MLX, then one
// fft op (ir/ops.h, KILN_FFT_QUANT_OPS) for all the axes.
#include "frontend/fft.h"

#include <set>
#include <sstream>

#include "frontend/ops_util.h"

namespace kiln::fft {

namespace {

using detail::str;
using detail::throw_invalid;

std::string list(const std::vector<int>& v) {
  std::ostringstream o;
  o << "(";
  for (size_t i = 0; i < v.size(); ++i) o << (i ? "," : "") << v[i];
  o << ")";
  return o.str();
}

// The transform of `a` over `axes` with lengths `n` (for an inverse real
// transform, n is the output's length along the last axis).
array transform(const array& a, const Shape& n, const std::vector<int>& axes, bool inverse, bool real,
                const char* name) {
  if (a.ndim() < 1) throw_invalid(name, "Requires array with at least one dimension.");
  if (n.size() != axes.size()) throw_invalid(name, "Shape and axes have different sizes.");
  if (axes.empty()) return a;
  const int nd = int(a.ndim());
  std::vector<int> valid;
  for (int ax : axes) valid.push_back(ax < 0 ? ax + nd : ax);
  if (std::set<int>(valid.begin(), valid.end()).size() != valid.size())
    throw_invalid(name, "Duplicated axis received " + list(axes));
  for (int ax : valid)
    if (ax < 0 || ax >= nd)
      throw_invalid(name, "Invalid axis received for array with " + std::to_string(nd) + " dimensions.");
  for (int v : n)
    if (v <= 0) throw_invalid(name, "Invalid FFT output size requested " + str(n));
  if (real && !inverse && is_complex(a.dtype()))
    throw_invalid(name, "Input must be real, got " + dtype_name(a.dtype()) + ".");

  // The input's lengths along the axes: n, but n/2 + 1 bins for the last
  // axis of an inverse real transform.
  Shape in_shape = a.shape();
  for (size_t i = 0; i < valid.size(); ++i) in_shape[valid[i]] = n[i];
  if (real && inverse) in_shape[valid.back()] = n.back() / 2 + 1;
  array in = detail::cast_to(a, real && !inverse ? float32 : complex64);
  Shape stop = in.shape();
  bool crop = false;
  std::vector<int> pad_axes;
  Shape low, high;
  for (int d = 0; d < nd; ++d) {
    if (in_shape[d] < stop[d]) stop[d] = in_shape[d], crop = true;
    if (in_shape[d] > a.shape()[d]) {
      pad_axes.push_back(d);
      low.push_back(0);
      high.push_back(in_shape[d] - a.shape()[d]);
    }
  }
  if (crop) in = slice(in, Shape(size_t(nd), 0), stop);
  if (!pad_axes.empty()) in = pad(in, pad_axes, low, high, array(0.0f));
  std::vector<int64_t> ax64(valid.begin(), valid.end());
  return detail::make_node(ir::OpKind::FFT, {in},
                           {{"axes", ax64},
                            {"inverse", int64_t(inverse)},
                            {"real", int64_t(real)},
                            {"n", int64_t(real ? n.back() : 0)}});
}

// n defaults to the input's lengths along the axes (irfft: 2 * (bins - 1)).
Shape default_n(const array& a, const std::vector<int>& axes, bool inverse_real, const char* name) {
  Shape n;
  const int nd = int(a.ndim());
  for (int ax : axes) {
    int d = ax < 0 ? ax + nd : ax;
    n.push_back(d >= 0 && d < nd ? a.shape()[d] : 1);  // a bad axis: transform() reports it
  }
  if (inverse_real && !n.empty()) n.back() = 2 * (n.back() - 1);
  return n;
}

std::vector<int> every_axis(const array& a) { return detail::all_axes(a); }

}  // namespace

array fftn(const array& a, const Shape& n, const std::vector<int>& axes, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  return transform(a, n, axes, false, false, "fftn");
}
array fftn(const array& a, const std::vector<int>& axes, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  return transform(a, default_n(a, axes, false, "fftn"), axes, false, false, "fftn");
}
array fftn(const array& a, StreamOrDevice s) { return fftn(a, every_axis(a), s); }

array ifftn(const array& a, const Shape& n, const std::vector<int>& axes, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  return transform(a, n, axes, true, false, "ifftn");
}
array ifftn(const array& a, const std::vector<int>& axes, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  return transform(a, default_n(a, axes, false, "ifftn"), axes, true, false, "ifftn");
}
array ifftn(const array& a, StreamOrDevice s) { return ifftn(a, every_axis(a), s); }

array rfftn(const array& a, const Shape& n, const std::vector<int>& axes, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  return transform(a, n, axes, false, true, "rfftn");
}
array rfftn(const array& a, const std::vector<int>& axes, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  return transform(a, default_n(a, axes, false, "rfftn"), axes, false, true, "rfftn");
}
array rfftn(const array& a, StreamOrDevice s) { return rfftn(a, every_axis(a), s); }

array irfftn(const array& a, const Shape& n, const std::vector<int>& axes, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  return transform(a, n, axes, true, true, "irfftn");
}
array irfftn(const array& a, const std::vector<int>& axes, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  return transform(a, default_n(a, axes, true, "irfftn"), axes, true, true, "irfftn");
}
array irfftn(const array& a, StreamOrDevice s) { return irfftn(a, every_axis(a), s); }

array fft(const array& a, int n, int axis, StreamOrDevice s) { return fftn(a, {n}, {axis}, s); }
array fft(const array& a, int axis, StreamOrDevice s) { return fftn(a, std::vector<int>{axis}, s); }
array ifft(const array& a, int n, int axis, StreamOrDevice s) { return ifftn(a, {n}, {axis}, s); }
array ifft(const array& a, int axis, StreamOrDevice s) { return ifftn(a, std::vector<int>{axis}, s); }
array rfft(const array& a, int n, int axis, StreamOrDevice s) { return rfftn(a, {n}, {axis}, s); }
array rfft(const array& a, int axis, StreamOrDevice s) { return rfftn(a, std::vector<int>{axis}, s); }
array irfft(const array& a, int n, int axis, StreamOrDevice s) { return irfftn(a, {n}, {axis}, s); }
array irfft(const array& a, int axis, StreamOrDevice s) { return irfftn(a, std::vector<int>{axis}, s); }

array fft2(const array& a, const Shape& n, const std::vector<int>& axes, StreamOrDevice s) { return fftn(a, n, axes, s); }
array fft2(const array& a, const std::vector<int>& axes, StreamOrDevice s) { return fftn(a, axes, s); }
array ifft2(const array& a, const Shape& n, const std::vector<int>& axes, StreamOrDevice s) {
  return ifftn(a, n, axes, s);
}
array ifft2(const array& a, const std::vector<int>& axes, StreamOrDevice s) { return ifftn(a, axes, s); }
array rfft2(const array& a, const Shape& n, const std::vector<int>& axes, StreamOrDevice s) {
  return rfftn(a, n, axes, s);
}
array rfft2(const array& a, const std::vector<int>& axes, StreamOrDevice s) { return rfftn(a, axes, s); }
array irfft2(const array& a, const Shape& n, const std::vector<int>& axes, StreamOrDevice s) {
  return irfftn(a, n, axes, s);
}
array irfft2(const array& a, const std::vector<int>& axes, StreamOrDevice s) { return irfftn(a, axes, s); }

// fftshift rolls each axis by n / 2, ifftshift by -(n / 2) (NumPy's).
namespace {
array shift(const array& a, const std::vector<int>& axes, bool inverse, const char* name) {
  if (axes.empty()) return a;
  Shape shifts;
  for (int ax : axes) {
    int d = detail::normalize_axis(name, ax, int(a.ndim()));
    shifts.push_back(inverse ? -(a.shape()[d] / 2) : a.shape()[d] / 2);
  }
  return roll(a, shifts, axes);
}
}  // namespace

array fftshift(const array& a, const std::vector<int>& axes, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  return shift(a, axes, false, "fftshift");
}
array fftshift(const array& a, StreamOrDevice s) { return fftshift(a, every_axis(a), s); }
array ifftshift(const array& a, const std::vector<int>& axes, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  return shift(a, axes, true, "ifftshift");
}
array ifftshift(const array& a, StreamOrDevice s) { return ifftshift(a, every_axis(a), s); }

}  // namespace kiln::fft
