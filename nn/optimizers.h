#pragma once
// Optimizers and learning rate schedules, as mlx.optimizers. An
// optimizer's state is a parameter tree (state()): "step",
// "learning_rate" and, per parameter, "<parameter name>.<slot>" (Adam's
// "layers.0.weight.m", ...), so that a training step — forward, backward
// and update — can be one compile()d function whose inputs and outputs
// include that state (compile_step below).
#include <functional>
#include <memory>
#include <string>
#include <vector>
#include "kiln/kiln.h"
#include "nn/module.h"

namespace kiln::optimizers {

using nn::Parameters;
// A learning rate as a function of the step count (an int32 scalar array,
// 0 on the first update).
using Schedule = std::function<array(const array& step)>;

class Optimizer {
 public:
  explicit Optimizer(float learning_rate);
  explicit Optimizer(Schedule learning_rate);
  virtual ~Optimizer() = default;

  // Creates the zero state of every parameter that has none yet;
  // apply_gradients calls it, but a compiled step needs it done before.
  void init(const Parameters& params);
  // The parameters moved along the gradients (a subset of the parameters:
  // entries without a gradient are left out of the result). Advances step.
  Parameters apply_gradients(const Parameters& gradients, const Parameters& parameters);
  // model.update(apply_gradients(gradients, model.trainable_parameters())).
  void update(nn::Module& model, const Parameters& gradients);

  const Parameters& state() const { return state_; }
  void set_state(const Parameters& state) { state_ = state; }
  array step() const { return state_.at("step"); }
  array learning_rate() const { return state_.at("learning_rate"); }
  void set_learning_rate(float lr);

 protected:
  // The names of the per-parameter state ("m", "v", ...), created as zeros
  // shaped as the parameter unless init_slot says otherwise.
  virtual std::vector<std::string> slots() const = 0;
  virtual array init_slot(const std::string& slot, const array& param) const { return zeros_like(param); }
  // The new value of one parameter; reads and replaces its slots. `step`
  // counts this update (1 on the first), as a float32 scalar.
  virtual array apply_single(const array& gradient, const array& parameter, Parameters& slots, const array& lr,
                             const array& step) = 0;

 private:
  Parameters state_;
  Schedule schedule_;  // empty for a constant learning rate
};

// Stochastic gradient descent: v = momentum v + (1 - dampening) g (g plus
// weight_decay p), p -= lr (nesterov ? g + momentum v : v).
class SGD : public Optimizer {
 public:
  explicit SGD(float learning_rate, float momentum = 0.0f, float weight_decay = 0.0f, float dampening = 0.0f,
               bool nesterov = false);
  explicit SGD(Schedule learning_rate, float momentum = 0.0f, float weight_decay = 0.0f, float dampening = 0.0f,
               bool nesterov = false);

 protected:
  std::vector<std::string> slots() const override;
  array apply_single(const array& g, const array& p, Parameters& slots, const array& lr, const array& step) override;

 private:
  void check() const;
  float momentum_, weight_decay_, dampening_;
  bool nesterov_;
};

// Adam: m = b1 m + (1 - b1) g, v = b2 v + (1 - b2) g^2,
// p -= lr m / (sqrt(v) + eps), with bias correction when asked (as MLX,
// off by default; PyTorch's Adam is bias_correction = true).
class Adam : public Optimizer {
 public:
  explicit Adam(float learning_rate, std::pair<float, float> betas = {0.9f, 0.999f}, float eps = 1e-8f,
                bool bias_correction = false);
  explicit Adam(Schedule learning_rate, std::pair<float, float> betas = {0.9f, 0.999f}, float eps = 1e-8f,
                bool bias_correction = false);

 protected:
  std::vector<std::string> slots() const override;
  array apply_single(const array& g, const array& p, Parameters& slots, const array& lr, const array& step) override;
  std::pair<float, float> betas_;
  float eps_;
  bool bias_correction_;
};

// AdamW: p = p (1 - lr weight_decay), then Adam's update.
class AdamW : public Adam {
 public:
  explicit AdamW(float learning_rate, std::pair<float, float> betas = {0.9f, 0.999f}, float eps = 1e-8f,
                 float weight_decay = 0.01f, bool bias_correction = false);
  explicit AdamW(Schedule learning_rate, std::pair<float, float> betas = {0.9f, 0.999f}, float eps = 1e-8f,
                 float weight_decay = 0.01f, bool bias_correction = false);

 protected:
  array apply_single(const array& g, const array& p, Parameters& slots, const array& lr, const array& step) override;

 private:
  float weight_decay_;
};

// The gradients scaled so that their global L2 norm is at most max_norm,
// and that norm (before scaling).
std::pair<Parameters, array> clip_grad_norm(const Parameters& grads, float max_norm);

// Makes one compiled function of `step`, a training step that reads the
// model's parameters and the optimizer's state and updates them (say with
// nn::value_and_grad and optimizer.update) and returns some arrays (the
// loss): the parameters and the state become inputs and outputs of the
// compiled trace, as mx.compile(inputs=state, outputs=state). Each call
// runs the compiled step on `args`, writes the new parameters and state
// back into model and optimizer, and returns step's outputs. The
// optimizer's state is initialized for the model's trainable parameters
// first. The model and the optimizer must outlive the function.
std::function<std::vector<array>(const std::vector<array>&)> compile_step(
    nn::Module& model, Optimizer& optimizer,
    std::function<std::vector<array>(const std::vector<array>&)> step);

}  // namespace kiln::optimizers
