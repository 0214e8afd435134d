#pragma once
// Convolution and pooling layers, as mlx.nn's: channels-last (NHWC) inputs.
#include <utility>
#include "nn/module.h"

namespace kiln::nn {

// 2-D convolution: weight (out_channels, kh, kw, in_channels / groups),
// bias (out_channels); initialized U(-k, k), k = 1 / sqrt(in_channels kh kw).
class Conv2d : public Module {
 public:
  Conv2d(int in_channels, int out_channels, std::pair<int, int> kernel_size, std::pair<int, int> stride = {1, 1},
         std::pair<int, int> padding = {0, 0}, std::pair<int, int> dilation = {1, 1}, int groups = 1,
         bool bias = true);
  Conv2d(int in_channels, int out_channels, int kernel_size, int stride = 1, int padding = 0, int dilation = 1,
         int groups = 1, bool bias = true)
      : Conv2d(in_channels, out_channels, {kernel_size, kernel_size}, {stride, stride}, {padding, padding},
               {dilation, dilation}, groups, bias) {}
  array operator()(const array& x) override;

 private:
  std::pair<int, int> stride_, padding_, dilation_;
  int groups_;
};

// 1-D convolution of (N, L, C) inputs: weight (out_channels, kernel_size,
// in_channels / groups), bias (out_channels); initialized U(-k, k),
// k = 1 / sqrt(in_channels kernel_size).
class Conv1d : public Module {
 public:
  Conv1d(int in_channels, int out_channels, int kernel_size, int stride = 1, int padding = 0, int dilation = 1,
         int groups = 1, bool bias = true);
  array operator()(const array& x) override;

 private:
  int stride_, padding_, dilation_, groups_;
};

// 2-D transposed convolution of (N, H, W, C) inputs: weight (out_channels,
// kh, kw, in_channels), bias (out_channels); initialized U(-k, k),
// k = 1 / sqrt(in_channels kh kw).
class ConvTranspose2d : public Module {
 public:
  ConvTranspose2d(int in_channels, int out_channels, std::pair<int, int> kernel_size,
                  std::pair<int, int> stride = {1, 1}, std::pair<int, int> padding = {0, 0},
                  std::pair<int, int> dilation = {1, 1}, std::pair<int, int> output_padding = {0, 0},
                  bool bias = true);
  ConvTranspose2d(int in_channels, int out_channels, int kernel_size, int stride = 1, int padding = 0,
                  int dilation = 1, int output_padding = 0, bool bias = true)
      : ConvTranspose2d(in_channels, out_channels, {kernel_size, kernel_size}, {stride, stride}, {padding, padding},
                        {dilation, dilation}, {output_padding, output_padding}, bias) {}
  array operator()(const array& x) override;

 private:
  std::pair<int, int> stride_, padding_, dilation_, output_padding_;
};

// Max and average pooling over the two spatial axes of (N, H, W, C)
// inputs; stride defaults to the kernel size. Padding pads with -inf (max)
// or 0 (average, which divides by the kernel size, as MLX).
class MaxPool2d : public Module {
 public:
  MaxPool2d(std::pair<int, int> kernel_size, std::pair<int, int> stride = {0, 0}, std::pair<int, int> padding = {0, 0});
  explicit MaxPool2d(int kernel_size, int stride = 0, int padding = 0)
      : MaxPool2d({kernel_size, kernel_size}, {stride, stride}, {padding, padding}) {}
  array operator()(const array& x) override;

 private:
  std::pair<int, int> kernel_, stride_, padding_;
};

class AvgPool2d : public Module {
 public:
  AvgPool2d(std::pair<int, int> kernel_size, std::pair<int, int> stride = {0, 0}, std::pair<int, int> padding = {0, 0});
  explicit AvgPool2d(int kernel_size, int stride = 0, int padding = 0)
      : AvgPool2d({kernel_size, kernel_size}, {stride, stride}, {padding, padding}) {}
  array operator()(const array& x) override;

 private:
  std::pair<int, int> kernel_, stride_, padding_;
};

}  // namespace kiln::nn
