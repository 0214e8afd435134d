#include "nn/normalization.h"

#include <stdexcept>
#include <vector>

namespace kiln::nn {

static void check_last_axis(const char* name, const array& x, int dims) {
  if (x.ndim() == 0 || x.shape().back() != dims)
    throw std::invalid_argument(std::string("[") + name + "] input of shape " + ir::shape_to_string(x.shape()) +
                                " does not end in " + std::to_string(dims) + " features");
}

static array affine(const Module& m, const array& y, const array* weight, const array* bias) {
  array out = y;
  if (weight) out = out * *weight;
  if (bias) out = out + *bias;
  return out;
}

LayerNorm::LayerNorm(int dims, float eps, bool affine, bool bias) : eps_(eps) {
  if (affine) {
    register_parameter("weight", ones({dims}));
    if (bias) register_parameter("bias", zeros({dims}));
  }
}

array LayerNorm::operator()(const array& x) {
  if (has_param("weight")) check_last_axis("LayerNorm", x, param("weight").shape()[0]);
  array mu = mean(x, -1, true);
  array y = (x - mu) * rsqrt(var(x, -1, true) + array(eps_, x.dtype()));
  return affine(*this, y, has_param("weight") ? &param("weight") : nullptr, has_param("bias") ? &param("bias") : nullptr);
}

RMSNorm::RMSNorm(int dims, float eps) : eps_(eps) { register_parameter("weight", ones({dims})); }

array RMSNorm::operator()(const array& x) {
  check_last_axis("RMSNorm", x, param("weight").shape()[0]);
  return x * rsqrt(mean(square(x), -1, true) + array(eps_, x.dtype())) * param("weight");
}

GroupNorm::GroupNorm(int num_groups, int dims, float eps, bool affine, bool pytorch_compatible)
    : groups_(num_groups), eps_(eps), pytorch_compatible_(pytorch_compatible) {
  if (num_groups <= 0 || dims % num_groups)
    throw std::invalid_argument("[GroupNorm] dims " + std::to_string(dims) + " is not divisible by num_groups " +
                                std::to_string(num_groups));
  if (affine) {
    register_parameter("weight", ones({dims}));
    register_parameter("bias", zeros({dims}));
  }
}

array GroupNorm::operator()(const array& x) {
  if (x.ndim() < 2)
    throw std::invalid_argument("[GroupNorm] expects (batch, ..., dims) inputs, got shape " +
                                ir::shape_to_string(x.shape()));
  int batch = x.shape()[0], dims = x.shape().back(), per_group = dims / groups_;
  if (dims % groups_) throw std::invalid_argument("[GroupNorm] input features not divisible by num_groups");
  array y = x;
  if (pytorch_compatible_) {
    // (B, rest, G, C/G) -> (B, G, rest * C/G): each group contiguous channels.
    y = reshape(x, {batch, -1, groups_, per_group});
    y = transpose(y, {0, 2, 1, 3});
    y = reshape(y, {batch, groups_, -1});
    array n = (y - mean(y, -1, true)) * rsqrt(var(y, -1, true) + array(eps_, x.dtype()));
    n = reshape(n, {batch, groups_, -1, per_group});
    y = reshape(transpose(n, {0, 2, 1, 3}), x.shape());
  } else {
    // MLX's default: (B, rest * C/G, G), normalized over axis 1.
    y = reshape(x, {batch, -1, groups_});
    array n = (y - mean(y, 1, true)) * rsqrt(var(y, 1, true) + array(eps_, x.dtype()));
    y = reshape(n, x.shape());
  }
  return affine(*this, y, has_param("weight") ? &param("weight") : nullptr, has_param("bias") ? &param("bias") : nullptr);
}

BatchNorm::BatchNorm(int num_features, float eps, float momentum, bool affine, bool track_running_stats)
    : eps_(eps), momentum_(momentum), track_(track_running_stats) {
  if (affine) {
    register_parameter("weight", ones({num_features}));
    register_parameter("bias", zeros({num_features}));
  }
  if (track_) {
    register_parameter("running_mean", zeros({num_features}));
    register_parameter("running_var", ones({num_features}));
    freeze(false, {"running_mean", "running_var"});
  }
}

array BatchNorm::operator()(const array& x) {
  if (x.ndim() < 2)
    throw std::invalid_argument("[BatchNorm] expects (batch, ..., features) inputs, got shape " +
                                ir::shape_to_string(x.shape()));
  std::vector<int> axes;
  for (int i = 0; i + 1 < int(x.ndim()); ++i) axes.push_back(i);
  array mu = array(0.0f), v = array(0.0f);
  if (training() || !track_) {
    mu = mean(x, axes);
    v = var(x, axes);
    if (training() && track_) {
      // PyTorch's running variance is unbiased; MLX keeps the biased one.
      // As MLX.
      array m = array(momentum_, x.dtype());
      array one_minus = array(1.0f - momentum_, x.dtype());
      update({{"running_mean", one_minus * param("running_mean") + m * stop_gradient(mu)},
              {"running_var", one_minus * param("running_var") + m * stop_gradient(v)}});
    }
  } else {
    mu = param("running_mean");
    v = param("running_var");
  }
  array y = (x - mu) * rsqrt(v + array(eps_, x.dtype()));
  return affine(*this, y, has_param("weight") ? &param("weight") : nullptr, has_param("bias") ? &param("bias") : nullptr);
}

}  // namespace kiln::nn
