#pragma once
// Optimizers and learning rate schedules, as mlx.optimizers. An
// optimizer's state is a parameter tree (state()): "step",
// "learning_rate" and, per parameter, "<parameter name>.<slot>" (Adam's
// "layers.0.weight.m", ...), so that a training step — forward, backward
// and update — can be one compile()d function whose inputs and outputs
// include that state (compile_step below).
#include <functional>
#include <memory>
#include <optional>
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

// Adagrad: v += g^2, p -= lr g / (sqrt(v) + eps).
class Adagrad : public Optimizer {
 public:
  explicit Adagrad(float learning_rate, float eps = 1e-8f);
  explicit Adagrad(Schedule learning_rate, float eps = 1e-8f);

 protected:
  std::vector<std::string> slots() const override { return {"v"}; }
  array apply_single(const array& g, const array& p, Parameters& slots, const array& lr, const array& step) override;

 private:
  float eps_;
};

// RMSprop: v = alpha v + (1 - alpha) g^2, p -= lr g / (sqrt(v) + eps).
class RMSprop : public Optimizer {
 public:
  explicit RMSprop(float learning_rate, float alpha = 0.99f, float eps = 1e-8f);
  explicit RMSprop(Schedule learning_rate, float alpha = 0.99f, float eps = 1e-8f);

 protected:
  std::vector<std::string> slots() const override { return {"v"}; }
  array apply_single(const array& g, const array& p, Parameters& slots, const array& lr, const array& step) override;

 private:
  float alpha_, eps_;
};

// Lion: c = b1 m + (1 - b1) g, m = b2 m + (1 - b2) g,
// p = p (1 - lr weight_decay) - lr sign(c).
class Lion : public Optimizer {
 public:
  explicit Lion(float learning_rate, std::pair<float, float> betas = {0.9f, 0.99f}, float weight_decay = 0.0f);
  explicit Lion(Schedule learning_rate, std::pair<float, float> betas = {0.9f, 0.99f}, float weight_decay = 0.0f);

 protected:
  std::vector<std::string> slots() const override { return {"m"}; }
  array apply_single(const array& g, const array& p, Parameters& slots, const array& lr, const array& step) override;

 private:
  std::pair<float, float> betas_;
  float weight_decay_;
};

// Adafactor (Shazeer and Stern), as mlx.optimizers.Adafactor: second
// moments factored into row and column averages for parameters of rank >=
// 2; relative step sizes min(1e-2, 1/sqrt(step)) (or 1e-6 step with
// warmup_init) scaled by the parameter's RMS, unless a learning rate is
// given and relative_step is false; updates clipped to RMS clip_threshold;
// first moments only with beta_1.
class Adafactor : public Optimizer {
 public:
  explicit Adafactor(std::optional<float> learning_rate = std::nullopt, std::pair<float, float> eps = {1e-30f, 1e-3f},
                     float clip_threshold = 1.0f, float decay_rate = -0.8f, std::optional<float> beta_1 = std::nullopt,
                     float weight_decay = 0.0f, bool scale_parameter = true, bool relative_step = true,
                     bool warmup_init = false);

 protected:
  std::vector<std::string> slots() const override;
  array init_slot(const std::string& slot, const array& param) const override;
  array apply_single(const array& g, const array& p, Parameters& slots, const array& lr, const array& step) override;

 private:
  std::pair<float, float> eps_;
  float clip_threshold_, decay_rate_;
  std::optional<float> beta_1_;
  float weight_decay_;
  bool scale_parameter_, relative_step_, warmup_init_;
};

// ---- learning rate schedules (mlx.optimizers.schedulers) -------------------
// init decay_rate^step.
Schedule exponential_decay(float init, float decay_rate);
// init decay_rate^(step / step_size), the division floored.
Schedule step_decay(float init, float decay_rate, int step_size);
// From init to end along half a cosine over decay_steps, then end.
Schedule cosine_decay(float init, int decay_steps, float end = 0.0f);
// From init to end linearly over steps, then end (a warmup: init = 0).
Schedule linear_schedule(float init, float end, int steps);
// schedules[0] until boundaries[0], then schedules[1] (counting steps from
// that boundary), ...; boundaries.size() == schedules.size() - 1.
Schedule join_schedules(const std::vector<Schedule>& schedules, const std::vector<int>& boundaries);

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
