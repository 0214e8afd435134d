#include "nn/convolution.h"

#include <cmath>
#include <limits>
#include <optional>
#include <stdexcept>

#include "nn/init.h"

namespace kiln::nn {

Conv2d::Conv2d(int in_channels, int out_channels, std::pair<int, int> kernel_size, std::pair<int, int> stride,
               std::pair<int, int> padding, std::pair<int, int> dilation, int groups, bool bias)
    : stride_(stride), padding_(padding), dilation_(dilation), groups_(groups) {
  if (in_channels <= 0 || out_channels <= 0 || kernel_size.first <= 0 || kernel_size.second <= 0 || groups <= 0 ||
      in_channels % groups || out_channels % groups)
    throw std::invalid_argument("[Conv2d] channels (" + std::to_string(in_channels) + ", " +
                                std::to_string(out_channels) + "), kernel size and groups (" + std::to_string(groups) +
                                ") must be positive, and the channels divisible by groups");
  auto [kh, kw] = kernel_size;
  float k = 1.0f / std::sqrt(float(in_channels * kh * kw));
  register_parameter("weight", init::uniform({out_channels, kh, kw, in_channels / groups}, -k, k));
  if (bias) register_parameter("bias", init::uniform({out_channels}, -k, k));
}

array Conv2d::operator()(const array& x) {
  array y = conv2d(x, param("weight"), stride_, padding_, dilation_, groups_);
  return has_param("bias") ? y + param("bias") : y;
}

Conv1d::Conv1d(int in_channels, int out_channels, int kernel_size, int stride, int padding, int dilation, int groups,
               bool bias)
    : stride_(stride), padding_(padding), dilation_(dilation), groups_(groups) {
  if (in_channels <= 0 || out_channels <= 0 || kernel_size <= 0 || groups <= 0 || in_channels % groups ||
      out_channels % groups)
    throw std::invalid_argument("[Conv1d] channels (" + std::to_string(in_channels) + ", " +
                                std::to_string(out_channels) + "), kernel size and groups (" + std::to_string(groups) +
                                ") must be positive, and the channels divisible by groups");
  float k = 1.0f / std::sqrt(float(in_channels * kernel_size));
  register_parameter("weight", init::uniform({out_channels, kernel_size, in_channels / groups}, -k, k));
  if (bias) register_parameter("bias", init::uniform({out_channels}, -k, k));
}

array Conv1d::operator()(const array& x) {
  array y = conv1d(x, param("weight"), stride_, padding_, dilation_, groups_);
  return has_param("bias") ? y + param("bias") : y;
}

ConvTranspose2d::ConvTranspose2d(int in_channels, int out_channels, std::pair<int, int> kernel_size,
                                 std::pair<int, int> stride, std::pair<int, int> padding, std::pair<int, int> dilation,
                                 std::pair<int, int> output_padding, bool bias)
    : stride_(stride), padding_(padding), dilation_(dilation), output_padding_(output_padding) {
  if (in_channels <= 0 || out_channels <= 0 || kernel_size.first <= 0 || kernel_size.second <= 0)
    throw std::invalid_argument("[ConvTranspose2d] channels (" + std::to_string(in_channels) + ", " +
                                std::to_string(out_channels) + ") and kernel size must be positive");
  auto [kh, kw] = kernel_size;
  float k = 1.0f / std::sqrt(float(in_channels * kh * kw));
  register_parameter("weight", init::uniform({out_channels, kh, kw, in_channels}, -k, k));
  if (bias) register_parameter("bias", init::uniform({out_channels}, -k, k));
}

array ConvTranspose2d::operator()(const array& x) {
  array y = conv_transpose2d(x, param("weight"), stride_, padding_, dilation_, output_padding_);
  return has_param("bias") ? y + param("bias") : y;
}

namespace {

std::pair<int, int> default_stride(std::pair<int, int> stride, std::pair<int, int> kernel) {
  return stride.first > 0 && stride.second > 0 ? stride : kernel;
}

void check_pool(const char* name, std::pair<int, int> k, std::pair<int, int> s, std::pair<int, int> p) {
  if (k.first <= 0 || k.second <= 0 || s.first <= 0 || s.second <= 0 || p.first < 0 || p.second < 0 ||
      2 * p.first > k.first || 2 * p.second > k.second)
    throw std::invalid_argument(std::string("[") + name +
                                "] kernel size and stride must be positive, padding at most half the kernel");
}

// Kernel tap (i, j) of every window: a strided slice of the padded input
// `xp`, of the pooled shape (N, ho, wo, C).
array window_tap(const array& xp, int i, int j, std::pair<int, int> s, int ho, int wo) {
  int n = xp.shape()[0], c = xp.shape()[3];
  return slice(xp, {0, i, j, 0}, {n, i + (ho - 1) * s.first + 1, j + (wo - 1) * s.second + 1, c},
               {1, s.first, s.second, 1});
}

// The taps combined by maximum or sum: one elementwise kernel.
array combine_taps(const array& xp, std::pair<int, int> k, std::pair<int, int> s, int ho, int wo, bool is_max) {
  std::optional<array> out;
  for (int i = 0; i < k.first; ++i)
    for (int j = 0; j < k.second; ++j) {
      array tap = window_tap(xp, i, j, s, ho, wo);
      out = !out ? tap : is_max ? maximum(*out, tap) : *out + tap;
    }
  return *out;
}

// The gradient of pooling windows that tile the input (stride = kernel):
// each window's cotangent goes to its maximal elements (shared evenly
// among ties, as the gradient of max) or evenly to all of them (average).
// Written out because the derived one scatters one strided slice per tap
// back into a full-size array; this is one elementwise kernel over the
// input (each window's tie count computed from its taps).
array tiled_pool_vjp(const array& xp, const array& y, const array& dy, std::pair<int, int> k, bool is_max) {
  int n = xp.shape()[0], h = xp.shape()[1], w = xp.shape()[2], c = xp.shape()[3];
  int ho = y.shape()[1], wo = y.shape()[2];
  Shape tiled{n, ho, k.first, wo, k.second, c}, per_window{n, ho, 1, wo, 1, c};
  array dx = [&] {
    if (!is_max) return broadcast_to(reshape(dy / array(float(k.first * k.second), y.dtype()), per_window), tiled);
    array hits = zeros_like(y);
    for (int i = 0; i < k.first; ++i)
      for (int j = 0; j < k.second; ++j) hits = hits + astype(equal(window_tap(xp, i, j, k, ho, wo), y), y.dtype());
    array windows = reshape(slice(xp, {0, 0, 0, 0}, {n, ho * k.first, wo * k.second, c}), tiled);
    return where(equal(windows, reshape(y, per_window)), reshape(dy / hits, per_window), array(0, y.dtype()));
  }();
  dx = reshape(dx, {n, ho * k.first, wo * k.second, c});
  // Rows and columns past the last whole window get no gradient.
  if (h != ho * k.first || w != wo * k.second)
    dx = pad(dx, {1, 2}, {0, 0}, {h - ho * k.first, w - wo * k.second}, array(0, y.dtype()));
  return dx;
}

array pool(const char* name, const array& x, std::pair<int, int> k, std::pair<int, int> s, std::pair<int, int> p,
           float pad_value, bool is_max) {
  if (x.ndim() != 4)
    throw std::invalid_argument(std::string("[") + name + "] expects (N, H, W, C) inputs, got shape " +
                                ir::shape_to_string(x.shape()));
  array xp = (p.first || p.second)
                 ? pad(x, {1, 2}, {p.first, p.second}, {p.first, p.second}, array(pad_value, x.dtype()))
                 : x;
  int h = xp.shape()[1], w = xp.shape()[2];
  if (h < k.first || w < k.second)
    throw std::invalid_argument(std::string("[") + name + "] the kernel is larger than the input of shape " +
                                ir::shape_to_string(x.shape()));
  int ho = (h - k.first) / s.first + 1, wo = (w - k.second) / s.second + 1;
  float scale = is_max ? 1.0f : 1.0f / float(k.first * k.second);
  auto forward = [=](const array& in) {
    array out = combine_taps(in, k, s, ho, wo, is_max);
    return is_max ? out : out * array(scale, in.dtype());
  };
  // Windows that do not tile the input: the derived gradient (a scatter
  // per tap).
  if (s != k) return forward(xp);
  auto pooled = custom_vjp([=](const std::vector<array>& in) { return std::vector<array>{forward(in[0])}; },
                           [=](const std::vector<array>& in, const std::vector<array>& cotangents,
                               const std::vector<array>& outputs) {
                             return std::vector<array>{tiled_pool_vjp(in[0], outputs[0], cotangents[0], k, is_max)};
                           });
  return pooled({xp})[0];
}

}  // namespace

MaxPool2d::MaxPool2d(std::pair<int, int> kernel_size, std::pair<int, int> stride, std::pair<int, int> padding)
    : kernel_(kernel_size), stride_(default_stride(stride, kernel_size)), padding_(padding) {
  check_pool("MaxPool2d", kernel_, stride_, padding_);
}

array MaxPool2d::operator()(const array& x) {
  return pool("MaxPool2d", x, kernel_, stride_, padding_, -std::numeric_limits<float>::infinity(), true);
}

AvgPool2d::AvgPool2d(std::pair<int, int> kernel_size, std::pair<int, int> stride, std::pair<int, int> padding)
    : kernel_(kernel_size), stride_(default_stride(stride, kernel_size)), padding_(padding) {
  check_pool("AvgPool2d", kernel_, stride_, padding_);
}

array AvgPool2d::operator()(const array& x) {
  return pool("AvgPool2d", x, kernel_, stride_, padding_, 0.0f, false);
}

}  // namespace kiln::nn
