#include "nn/convolution.h"

#include <cmath>
#include <limits>
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

// The pooled array: the taps of the kernel as strided slices of the padded
// input, combined by `combine` (a composite: gradients and fusion come
// with the slices).
array pool(const char* name, const array& x, std::pair<int, int> k, std::pair<int, int> s, std::pair<int, int> p,
           float pad_value, bool is_max) {
  if (x.ndim() != 4)
    throw std::invalid_argument(std::string("[") + name + "] expects (N, H, W, C) inputs, got shape " +
                                ir::shape_to_string(x.shape()));
  array xp = (p.first || p.second)
                 ? pad(x, {1, 2}, {p.first, p.second}, {p.first, p.second}, array(pad_value, x.dtype()))
                 : x;
  int n = xp.shape()[0], h = xp.shape()[1], w = xp.shape()[2], c = xp.shape()[3];
  if (h < k.first || w < k.second)
    throw std::invalid_argument(std::string("[") + name + "] the kernel is larger than the input of shape " +
                                ir::shape_to_string(x.shape()));
  int ho = (h - k.first) / s.first + 1, wo = (w - k.second) / s.second + 1;
  std::optional<array> out;
  for (int i = 0; i < k.first; ++i)
    for (int j = 0; j < k.second; ++j) {
      array tap = slice(xp, {0, i, j, 0}, {n, i + (ho - 1) * s.first + 1, j + (wo - 1) * s.second + 1, c},
                        {1, s.first, s.second, 1});
      out = !out ? tap : is_max ? maximum(*out, tap) : *out + tap;
    }
  if (is_max) return *out;
  return *out / array(float(k.first * k.second), x.dtype());
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
