#pragma once
// kiln::fft: MLX's discrete Fourier transforms (mlx/fft.h of MLX 0.32).
// Transforms are complex64 (float32 for the real side of rfft/irfft),
// unnormalized forward and divided by the transformed lengths inverse, as
// NumPy's default. `n` (per axis) crops or zero-pads each transformed axis
// of the input to that length first; for irfft it is the length of the
// real output (default 2 * (bins - 1)). Computed by the fft op's own host
// kernel (codegen/host_fft.cpp). Every transform is differentiable (vjp,
// jvp, grad of a real loss, vmap of those): the fft op's rules are in
// passes/autodiff.cpp, with JAX's convention for complex values.
#include <vector>

#include "frontend/ops.h"

namespace kiln::fft {

// As MLX, the one-dimensional forms take either an axis (default -1) or a
// length and an axis: fft(a, 8) transforms axis 8, fft(a, 8, -1) the last
// axis at length 8.
// n-dimensional transform over `axes` (default: all) with lengths `n`.
array fftn(const array& a, const Shape& n, const std::vector<int>& axes, StreamOrDevice s = {});
array fftn(const array& a, const std::vector<int>& axes, StreamOrDevice s = {});
array fftn(const array& a, StreamOrDevice s = {});
// Inverse n-dimensional transform.
array ifftn(const array& a, const Shape& n, const std::vector<int>& axes, StreamOrDevice s = {});
array ifftn(const array& a, const std::vector<int>& axes, StreamOrDevice s = {});
array ifftn(const array& a, StreamOrDevice s = {});
// One-dimensional transform along `axis`.
array fft(const array& a, int n, int axis, StreamOrDevice s = {});
array fft(const array& a, int axis = -1, StreamOrDevice s = {});
// One-dimensional inverse transform along `axis`.
array ifft(const array& a, int n, int axis, StreamOrDevice s = {});
array ifft(const array& a, int axis = -1, StreamOrDevice s = {});
// Two-dimensional transform (default: the last two axes).
array fft2(const array& a, const Shape& n, const std::vector<int>& axes, StreamOrDevice s = {});
array fft2(const array& a, const std::vector<int>& axes = {-2, -1}, StreamOrDevice s = {});
// Two-dimensional inverse transform.
array ifft2(const array& a, const Shape& n, const std::vector<int>& axes, StreamOrDevice s = {});
array ifft2(const array& a, const std::vector<int>& axes = {-2, -1}, StreamOrDevice s = {});
// Real-input n-dimensional transform: the last axis keeps n/2 + 1 bins.
array rfftn(const array& a, const Shape& n, const std::vector<int>& axes, StreamOrDevice s = {});
array rfftn(const array& a, const std::vector<int>& axes, StreamOrDevice s = {});
array rfftn(const array& a, StreamOrDevice s = {});
// Inverse of rfftn: real output, the last axis of length n (default 2 * (bins - 1)).
array irfftn(const array& a, const Shape& n, const std::vector<int>& axes, StreamOrDevice s = {});
array irfftn(const array& a, const std::vector<int>& axes, StreamOrDevice s = {});
array irfftn(const array& a, StreamOrDevice s = {});
// Real-input one-dimensional transform.
array rfft(const array& a, int n, int axis, StreamOrDevice s = {});
array rfft(const array& a, int axis = -1, StreamOrDevice s = {});
// Inverse of rfft.
array irfft(const array& a, int n, int axis, StreamOrDevice s = {});
array irfft(const array& a, int axis = -1, StreamOrDevice s = {});
// Real-input two-dimensional transform.
array rfft2(const array& a, const Shape& n, const std::vector<int>& axes, StreamOrDevice s = {});
array rfft2(const array& a, const std::vector<int>& axes = {-2, -1}, StreamOrDevice s = {});
// Inverse of rfft2.
array irfft2(const array& a, const Shape& n, const std::vector<int>& axes, StreamOrDevice s = {});
array irfft2(const array& a, const std::vector<int>& axes = {-2, -1}, StreamOrDevice s = {});
// The zero frequency moved to the middle of `axes` (default: all).
array fftshift(const array& a, const std::vector<int>& axes, StreamOrDevice s = {});
array fftshift(const array& a, StreamOrDevice s = {});
// The inverse of fftshift.
array ifftshift(const array& a, const std::vector<int>& axes, StreamOrDevice s = {});
array ifftshift(const array& a, StreamOrDevice s = {});

}  // namespace kiln::fft
