#include "nn/init.h"

#include <cmath>
#include <stdexcept>

namespace kiln::nn::init {

std::pair<int, int> fans(const Shape& shape) {
  if (shape.size() < 2)
    throw std::invalid_argument("[init] fans need a weight of rank 2 or more, got shape " +
                                ir::shape_to_string(shape));
  int receptive = 1;
  for (size_t i = 1; i + 1 < shape.size(); ++i) receptive *= shape[i];
  return {shape.back() * receptive, shape.front() * receptive};
}

array constant(const Shape& shape, float value, Dtype dtype) { return full(shape, value, dtype); }

array uniform(const Shape& shape, float low, float high, Dtype dtype, const std::optional<array>& key) {
  return random::uniform(array(low), array(high), shape, dtype, key);
}

array normal(const Shape& shape, float mean, float std, Dtype dtype, const std::optional<array>& key) {
  return random::normal(shape, dtype, mean, std, key);
}

array glorot_uniform(const Shape& shape, float gain, Dtype dtype, const std::optional<array>& key) {
  auto [fan_in, fan_out] = fans(shape);
  float limit = gain * std::sqrt(6.0f / float(fan_in + fan_out));
  return uniform(shape, -limit, limit, dtype, key);
}

array glorot_normal(const Shape& shape, float gain, Dtype dtype, const std::optional<array>& key) {
  auto [fan_in, fan_out] = fans(shape);
  return normal(shape, 0.0f, gain * std::sqrt(2.0f / float(fan_in + fan_out)), dtype, key);
}

array he_uniform(const Shape& shape, float gain, bool fan_out_mode, Dtype dtype, const std::optional<array>& key) {
  auto [fan_in, fan_out] = fans(shape);
  float limit = gain * std::sqrt(3.0f / float(fan_out_mode ? fan_out : fan_in));
  return uniform(shape, -limit, limit, dtype, key);
}

array he_normal(const Shape& shape, float gain, bool fan_out_mode, Dtype dtype, const std::optional<array>& key) {
  auto [fan_in, fan_out] = fans(shape);
  return normal(shape, 0.0f, gain / std::sqrt(float(fan_out_mode ? fan_out : fan_in)), dtype, key);
}

}  // namespace kiln::nn::init
