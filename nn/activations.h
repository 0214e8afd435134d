#pragma once
// Activation functions, as mlx.nn's (functions and the modules that wrap
// them). All are compositions of kiln ops: they differentiate, vmap and
// fuse like any op.
#include "kiln/kiln.h"
#include "nn/module.h"

namespace kiln::nn {

array relu(const array& x);                                   // max(x, 0)
array gelu(const array& x);                                   // x * Phi(x), exact (erf)
array gelu_approx(const array& x);                            // the tanh approximation of gelu
array silu(const array& x);                                   // x * sigmoid(x)
array sigmoid(const array& x);                                // 1 / (1 + exp(-x))
array tanh(const array& x);
array softplus(const array& x);                               // log(1 + exp(x)), stable
array leaky_relu(const array& x, float negative_slope = 0.01f);
array elu(const array& x, float alpha = 1.0f);                // x > 0 ? x : alpha * (exp(x) - 1)
array mish(const array& x);                                   // x * tanh(softplus(x))
array softmax(const array& x, int axis = -1);
array log_softmax(const array& x, int axis = -1);             // x - logsumexp(x, axis)

// The activations as modules, for Sequential.
#define KILN_NN_ACTIVATION_MODULE(Name, fn)                        \
  class Name : public Module {                                     \
   public:                                                         \
    array operator()(const array& x) override { return nn::fn(x); }\
  };
KILN_NN_ACTIVATION_MODULE(ReLU, relu)
KILN_NN_ACTIVATION_MODULE(GELU, gelu)
KILN_NN_ACTIVATION_MODULE(SiLU, silu)
KILN_NN_ACTIVATION_MODULE(Sigmoid, sigmoid)
KILN_NN_ACTIVATION_MODULE(Tanh, tanh)
KILN_NN_ACTIVATION_MODULE(Softplus, softplus)
KILN_NN_ACTIVATION_MODULE(Mish, mish)
#undef KILN_NN_ACTIVATION_MODULE

class LeakyReLU : public Module {
 public:
  explicit LeakyReLU(float negative_slope = 0.01f) : slope_(negative_slope) {}
  array operator()(const array& x) override { return nn::leaky_relu(x, slope_); }

 private:
  float slope_;
};

class ELU : public Module {
 public:
  explicit ELU(float alpha = 1.0f) : alpha_(alpha) {}
  array operator()(const array& x) override { return nn::elu(x, alpha_); }

 private:
  float alpha_;
};

}  // namespace kiln::nn
