#pragma once
// Normalization layers, as mlx.nn's: features on the last axis.
#include "nn/module.h"

namespace kiln::nn {

// (x - mean) / sqrt(var + eps) over the last axis, then * weight + bias.
class LayerNorm : public Module {
 public:
  explicit LayerNorm(int dims, float eps = 1e-5f, bool affine = true, bool bias = true);
  array operator()(const array& x) override;

 private:
  float eps_;
};

// x / sqrt(mean(x^2) + eps) over the last axis, then * weight.
class RMSNorm : public Module {
 public:
  explicit RMSNorm(int dims, float eps = 1e-5f);
  array operator()(const array& x) override;

 private:
  float eps_;
};

// Normalizes groups of channels (the last axis) over the other non-batch
// axes. pytorch_compatible groups channels as PyTorch (contiguous runs of
// dims / num_groups); otherwise as MLX's default (channel c in group
// c mod num_groups... of the reshaped (..., dims / num_groups, num_groups)
// view, which is MLX's layout).
class GroupNorm : public Module {
 public:
  GroupNorm(int num_groups, int dims, float eps = 1e-5f, bool affine = true, bool pytorch_compatible = false);
  array operator()(const array& x) override;

 private:
  int groups_;
  float eps_;
  bool pytorch_compatible_;
};

// Batch normalization over every axis but the last. In training it uses the
// batch's statistics and updates running_mean and running_var (frozen
// parameters, so that compile_step carries them) with `momentum`; in
// evaluation it uses the running statistics.
class BatchNorm : public Module {
 public:
  explicit BatchNorm(int num_features, float eps = 1e-5f, float momentum = 0.1f, bool affine = true,
                     bool track_running_stats = true);
  array operator()(const array& x) override;

 private:
  float eps_, momentum_;
  bool track_;
};

}  // namespace kiln::nn
