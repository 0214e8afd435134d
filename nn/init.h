#pragma once
// Parameter initializers, as mlx.nn.init, drawing from kiln::random (the
// global key sequence unless a key is given). Fans follow MLX (and
// PyTorch): for a shape (out, ..., in), fan_in = in * receptive field and
// fan_out = out * receptive field, the receptive field being the product
// of the middle dimensions.
#include <optional>
#include "kiln/kiln.h"

namespace kiln::nn::init {

array constant(const Shape& shape, float value, Dtype dtype = float32);
array uniform(const Shape& shape, float low = 0.0f, float high = 1.0f, Dtype dtype = float32,
              const std::optional<array>& key = std::nullopt);
array normal(const Shape& shape, float mean = 0.0f, float std = 1.0f, Dtype dtype = float32,
             const std::optional<array>& key = std::nullopt);
// U(-a, a), a = gain * sqrt(6 / (fan_in + fan_out)).
array glorot_uniform(const Shape& shape, float gain = 1.0f, Dtype dtype = float32,
                     const std::optional<array>& key = std::nullopt);
// N(0, s^2), s = gain * sqrt(2 / (fan_in + fan_out)).
array glorot_normal(const Shape& shape, float gain = 1.0f, Dtype dtype = float32,
                    const std::optional<array>& key = std::nullopt);
// U(-a, a), a = gain * sqrt(3 / fan); fan is fan_in, or fan_out when fan_out_mode.
array he_uniform(const Shape& shape, float gain = 1.0f, bool fan_out_mode = false, Dtype dtype = float32,
                 const std::optional<array>& key = std::nullopt);
// N(0, s^2), s = gain / sqrt(fan).
array he_normal(const Shape& shape, float gain = 1.0f, bool fan_out_mode = false, Dtype dtype = float32,
                const std::optional<array>& key = std::nullopt);
// (fan_in, fan_out) of a weight of this shape (rank >= 2).
std::pair<int, int> fans(const Shape& shape);

}  // namespace kiln::nn::init
