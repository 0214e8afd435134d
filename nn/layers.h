#pragma once
// Layers, as mlx.nn's: Linear, Sequential (activation modules are in
// activations.h).
#include <memory>
#include <vector>
#include "nn/module.h"

namespace kiln::nn {

// y = x W^T + b, W of shape (output_dims, input_dims), b of (output_dims).
// Initialized as MLX: U(-k, k), k = 1 / sqrt(input_dims).
class Linear : public Module {
 public:
  Linear(int input_dims, int output_dims, bool bias = true);
  array operator()(const array& x) override;
  const array& weight() const { return param("weight"); }
};

// Zeroes each element with probability p in training and scales the others
// by 1 / (1 - p); the identity in evaluation. Draws from the global random
// sequence: inside compile() the mask is fixed at trace time (pass
// training masks as inputs there, or leave dropout out of compiled steps).
class Dropout : public Module {
 public:
  explicit Dropout(float p = 0.5f);
  array operator()(const array& x) override;

 private:
  float p_;
};

// A lookup table: integer indices of any shape -> rows of weight
// (num_embeddings, dims), initialized N(0, 1 / dims) as MLX.
class Embedding : public Module {
 public:
  Embedding(int num_embeddings, int dims);
  array operator()(const array& indices) override;
  // x @ weight^T: the embedding used as the output layer (tied weights).
  array as_linear(const array& x) const;
};

// Applies its layers in order; they are named "layers.0", "layers.1", ...
class Sequential : public Module {
 public:
  Sequential() = default;
  explicit Sequential(std::vector<std::shared_ptr<Module>> layers);
  // Appends a layer; returns *this, so that calls chain.
  Sequential& add(std::shared_ptr<Module> layer);
  array operator()(const array& x) override;
  size_t size() const { return layers_.size(); }
  Module& operator[](size_t i) { return *layers_.at(i); }

 private:
  std::vector<std::shared_ptr<Module>> layers_;
  std::shared_ptr<Module> list_;  // the child "layers", whose children are "0", "1", ...
};

}  // namespace kiln::nn
