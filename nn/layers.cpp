#include "nn/layers.h"

#include <cmath>
#include <stdexcept>
#include "nn/init.h"

namespace kiln::nn {

Linear::Linear(int input_dims, int output_dims, bool bias) {
  if (input_dims < 0 || output_dims < 0)
    throw std::invalid_argument("[Linear] dimensions must not be negative, got " + std::to_string(input_dims) +
                                " and " + std::to_string(output_dims));
  float k = input_dims > 0 ? 1.0f / std::sqrt(float(input_dims)) : 0.0f;
  register_parameter("weight", init::uniform({output_dims, input_dims}, -k, k));
  if (bias) register_parameter("bias", init::uniform({output_dims}, -k, k));
}

array Linear::operator()(const array& x) {
  const array& w = param("weight");
  if (x.ndim() == 0 || x.shape().back() != w.shape()[1])
    throw std::invalid_argument("[Linear] input of shape " + ir::shape_to_string(x.shape()) +
                                " does not end in input_dims " + std::to_string(w.shape()[1]));
  if (has_param("bias")) {
    if (x.ndim() == 2) return addmm(param("bias"), x, transpose(w));
    return matmul(x, transpose(w)) + param("bias");
  }
  return matmul(x, transpose(w));
}

Dropout::Dropout(float p) : p_(p) {
  if (p < 0.0f || p >= 1.0f) throw std::invalid_argument("[Dropout] p must be in [0, 1), got " + std::to_string(p));
}

array Dropout::operator()(const array& x) {
  if (!training() || p_ == 0.0f) return x;
  array keep = random::bernoulli(array(1.0f - p_), x.shape());
  return where(keep, x, zeros_like(x)) * array(1.0f / (1.0f - p_), x.dtype());
}

Embedding::Embedding(int num_embeddings, int dims) {
  if (num_embeddings <= 0 || dims <= 0)
    throw std::invalid_argument("[Embedding] sizes must be positive, got " + std::to_string(num_embeddings) + " and " +
                                std::to_string(dims));
  register_parameter("weight", init::normal({num_embeddings, dims}, 0.0f, 1.0f / std::sqrt(float(dims))));
}

array Embedding::operator()(const array& indices) {
  if (issubdtype(indices.dtype(), floating) || indices.dtype() == bool_)
    throw std::invalid_argument("[Embedding] indices must be integers");
  return take(param("weight"), indices, 0);
}

array Embedding::as_linear(const array& x) const { return matmul(x, transpose(param("weight"))); }

namespace {
// A module holding the layers of a Sequential under the names "0", "1", ...
class LayerList : public Module {
 public:
  void push(const std::string& name, std::shared_ptr<Module> m) { register_module(name, std::move(m)); }
};
}  // namespace

Sequential::Sequential(std::vector<std::shared_ptr<Module>> layers) {
  for (auto& l : layers) add(std::move(l));
}

Sequential& Sequential::add(std::shared_ptr<Module> layer) {
  if (!layer) throw std::invalid_argument("[Sequential] layer is null");
  if (!list_) list_ = register_module("layers", std::make_shared<LayerList>());
  static_cast<LayerList&>(*list_).push(std::to_string(layers_.size()), layer);
  layers_.push_back(std::move(layer));
  return *this;
}

array Sequential::operator()(const array& x) {
  array y = x;
  for (auto& l : layers_) y = (*l)(y);
  return y;
}

}  // namespace kiln::nn
