#include "nn/optimizers.h"

#include <cmath>
#include <stdexcept>

namespace kiln::optimizers {

Optimizer::Optimizer(float learning_rate) {
  state_.insert_or_assign("step", array(0, int32));
  state_.insert_or_assign("learning_rate", array(learning_rate));
}

Optimizer::Optimizer(Schedule learning_rate) : schedule_(std::move(learning_rate)) {
  if (!schedule_) throw std::invalid_argument("[Optimizer] the learning rate schedule is empty");
  state_.insert_or_assign("step", array(0, int32));
  state_.insert_or_assign("learning_rate", astype(schedule_(array(0, int32)), float32));
}

void Optimizer::set_learning_rate(float lr) {
  if (schedule_) throw std::invalid_argument("[Optimizer] the learning rate follows a schedule");
  state_.insert_or_assign("learning_rate", array(lr));
}

void Optimizer::init(const Parameters& params) {
  for (const auto& [name, p] : params)
    for (const auto& slot : slots()) {
      std::string key = name + "." + slot;
      if (!state_.count(key)) state_.insert_or_assign(key, init_slot(slot, p));
    }
}

Parameters Optimizer::apply_gradients(const Parameters& gradients, const Parameters& parameters) {
  init(parameters);
  array step = state_.at("step");
  if (schedule_) state_.insert_or_assign("learning_rate", astype(schedule_(step), float32));
  array lr = state_.at("learning_rate");
  step = step + array(1, int32);
  state_.insert_or_assign("step", step);
  array stepf = astype(step, float32);
  Parameters out;
  auto names = slots();
  for (const auto& [name, g] : gradients) {
    auto it = parameters.find(name);
    if (it == parameters.end())
      throw std::invalid_argument("[Optimizer] gradient '" + name + "' names no parameter");
    if (g.shape() != it->second.shape())
      throw std::invalid_argument("[Optimizer] gradient '" + name + "' of shape " + ir::shape_to_string(g.shape()) +
                                  " does not match its parameter's " + ir::shape_to_string(it->second.shape()));
    Parameters slot_state;
    for (const auto& s : names) slot_state.insert_or_assign(s, state_.at(name + "." + s));
    array p = it->second;
    array lr_p = astype(lr, p.dtype());
    array np = apply_single(astype(g, p.dtype()), p, slot_state, lr_p, stepf);
    for (const auto& s : names) state_.insert_or_assign(name + "." + s, slot_state.at(s));
    out.insert_or_assign(name, np);
  }
  return out;
}

void Optimizer::update(nn::Module& model, const Parameters& gradients) {
  model.update(apply_gradients(gradients, model.trainable_parameters()));
}

// Scalars in the parameter's dtype.
static array sc(double v, const array& like) { return array(v, like.dtype()); }

// ---- SGD --------------------------------------------------------------------

SGD::SGD(float lr, float momentum, float weight_decay, float dampening, bool nesterov)
    : Optimizer(lr), momentum_(momentum), weight_decay_(weight_decay), dampening_(dampening), nesterov_(nesterov) {
  check();
}
SGD::SGD(Schedule lr, float momentum, float weight_decay, float dampening, bool nesterov)
    : Optimizer(std::move(lr)), momentum_(momentum), weight_decay_(weight_decay), dampening_(dampening),
      nesterov_(nesterov) {
  check();
}

void SGD::check() const {
  if (nesterov_ && (momentum_ <= 0.0f || dampening_ != 0.0f))
    throw std::invalid_argument("[SGD] nesterov momentum needs momentum > 0 and dampening = 0");
}

std::vector<std::string> SGD::slots() const {
  if (momentum_ <= 0.0f) return {};
  return {"v"};
}

array SGD::apply_single(const array& g0, const array& p, Parameters& slots, const array& lr, const array&) {
  array g = g0;
  if (weight_decay_ != 0.0f) g = g + sc(weight_decay_, p) * p;
  if (momentum_ <= 0.0f) return p - lr * g;
  array v = sc(momentum_, p) * slots.at("v");
  v = dampening_ > 0.0f ? v + sc(1.0 - dampening_, p) * g : v + g;
  slots.insert_or_assign("v", v);
  array update = nesterov_ ? g + sc(momentum_, p) * v : v;
  return p - lr * update;
}

// ---- Adam, AdamW ------------------------------------------------------------

Adam::Adam(float lr, std::pair<float, float> betas, float eps, bool bias_correction)
    : Optimizer(lr), betas_(betas), eps_(eps), bias_correction_(bias_correction) {}
Adam::Adam(Schedule lr, std::pair<float, float> betas, float eps, bool bias_correction)
    : Optimizer(std::move(lr)), betas_(betas), eps_(eps), bias_correction_(bias_correction) {}

std::vector<std::string> Adam::slots() const { return {"m", "v"}; }

array Adam::apply_single(const array& g, const array& p, Parameters& slots, const array& lr, const array& step) {
  auto [b1, b2] = betas_;
  array m = sc(b1, p) * slots.at("m") + sc(1.0 - b1, p) * g;
  array v = sc(b2, p) * slots.at("v") + sc(1.0 - b2, p) * square(g);
  slots.insert_or_assign("m", m);
  slots.insert_or_assign("v", v);
  if (!bias_correction_) return p - lr * m / (sqrt(v) + sc(eps_, p));
  array c1 = astype(array(1.0f) - power(array(b1), step), p.dtype());
  array c2 = astype(sqrt(array(1.0f) - power(array(b2), step)), p.dtype());
  return p - (lr / c1) * m / (sqrt(v) / c2 + sc(eps_, p));
}

AdamW::AdamW(float lr, std::pair<float, float> betas, float eps, float weight_decay, bool bias_correction)
    : Adam(lr, betas, eps, bias_correction), weight_decay_(weight_decay) {}
AdamW::AdamW(Schedule lr, std::pair<float, float> betas, float eps, float weight_decay, bool bias_correction)
    : Adam(std::move(lr), betas, eps, bias_correction), weight_decay_(weight_decay) {}

array AdamW::apply_single(const array& g, const array& p, Parameters& slots, const array& lr, const array& step) {
  return Adam::apply_single(g, p * (sc(1.0, p) - lr * sc(weight_decay_, p)), slots, lr, step);
}

// ---- Adagrad, RMSprop, Lion, Adafactor ---------------------------------------

Adagrad::Adagrad(float lr, float eps) : Optimizer(lr), eps_(eps) {}
Adagrad::Adagrad(Schedule lr, float eps) : Optimizer(std::move(lr)), eps_(eps) {}

array Adagrad::apply_single(const array& g, const array& p, Parameters& slots, const array& lr, const array&) {
  array v = slots.at("v") + square(g);
  slots.insert_or_assign("v", v);
  return p - lr * g / (sqrt(v) + sc(eps_, p));
}

RMSprop::RMSprop(float lr, float alpha, float eps) : Optimizer(lr), alpha_(alpha), eps_(eps) {
  if (alpha < 0.0f) throw std::invalid_argument("[RMSprop] alpha must be >= 0");
}
RMSprop::RMSprop(Schedule lr, float alpha, float eps) : Optimizer(std::move(lr)), alpha_(alpha), eps_(eps) {
  if (alpha < 0.0f) throw std::invalid_argument("[RMSprop] alpha must be >= 0");
}

array RMSprop::apply_single(const array& g, const array& p, Parameters& slots, const array& lr, const array&) {
  array v = sc(alpha_, p) * slots.at("v") + sc(1.0 - alpha_, p) * square(g);
  slots.insert_or_assign("v", v);
  return p - lr * g / (sqrt(v) + sc(eps_, p));
}

Lion::Lion(float lr, std::pair<float, float> betas, float weight_decay)
    : Optimizer(lr), betas_(betas), weight_decay_(weight_decay) {}
Lion::Lion(Schedule lr, std::pair<float, float> betas, float weight_decay)
    : Optimizer(std::move(lr)), betas_(betas), weight_decay_(weight_decay) {}

array Lion::apply_single(const array& g, const array& p0, Parameters& slots, const array& lr, const array&) {
  auto [b1, b2] = betas_;
  array m = slots.at("m");
  array c = sc(b1, p0) * m + sc(1.0 - b1, p0) * g;
  slots.insert_or_assign("m", sc(b2, p0) * m + sc(1.0 - b2, p0) * g);
  array p = weight_decay_ > 0.0f ? p0 * (sc(1.0, p0) - lr * sc(weight_decay_, p0)) : p0;
  return p - lr * sign(c);
}

Adafactor::Adafactor(std::optional<float> lr, std::pair<float, float> eps, float clip_threshold, float decay_rate,
                     std::optional<float> beta_1, float weight_decay, bool scale_parameter, bool relative_step,
                     bool warmup_init)
    : Optimizer(lr.value_or(0.0f)), eps_(eps), clip_threshold_(clip_threshold), decay_rate_(decay_rate),
      beta_1_(beta_1), weight_decay_(weight_decay), scale_parameter_(scale_parameter), relative_step_(relative_step),
      warmup_init_(warmup_init) {
  if (!lr && !relative_step)
    throw std::invalid_argument("[Adafactor] without relative_step a learning_rate is needed");
}

std::vector<std::string> Adafactor::slots() const {
  // Every parameter gets all three second-moment slots (the unused ones
  // are scalars): slots() cannot depend on the parameter's rank.
  std::vector<std::string> s = {"exp_avg_sq_row", "exp_avg_sq_col", "exp_avg_sq"};
  if (beta_1_) s.push_back("exp_avg");
  return s;
}

array Adafactor::init_slot(const std::string& slot, const array& p) const {
  bool factored = p.ndim() >= 2;
  Shape shape = p.shape();
  if (slot == "exp_avg_sq_row") {
    if (!factored) return zeros({}, p.dtype());
    shape.pop_back();
    return zeros(shape, p.dtype());
  }
  if (slot == "exp_avg_sq_col") {
    if (!factored) return zeros({}, p.dtype());
    shape.erase(shape.end() - 2);
    return zeros(shape, p.dtype());
  }
  if (slot == "exp_avg_sq") return factored ? zeros({}, p.dtype()) : zeros_like(p);
  return zeros_like(p);  // exp_avg
}

static array rms(const array& a) { return sqrt(mean(square(a))); }

array Adafactor::apply_single(const array& g, const array& p0, Parameters& slots, const array& lr_in,
                              const array& step) {
  array stepp = astype(step, p0.dtype());
  // The step size: relative (1e-2, or 1e-6 step with warmup, capped at
  // 1/sqrt(step)) or the given learning rate, times max(eps2, rms(p)).
  array lr = lr_in;
  if (relative_step_) {
    array min_step = warmup_init_ ? sc(1e-6, p0) * stepp : sc(1e-2, p0);
    lr = minimum(min_step, rsqrt(stepp));
  }
  if (scale_parameter_) lr = lr * maximum(sc(eps_.second, p0), rms(p0));
  array beta_2 = sc(1.0, p0) - power(stepp, sc(decay_rate_, p0));
  array one_minus_beta_2 = sc(1.0, p0) - beta_2;
  array update = square(g) + sc(eps_.first, p0);
  if (p0.ndim() >= 2) {
    array row = beta_2 * slots.at("exp_avg_sq_row") + one_minus_beta_2 * mean(update, -1);
    array col = beta_2 * slots.at("exp_avg_sq_col") + one_minus_beta_2 * mean(update, -2);
    slots.insert_or_assign("exp_avg_sq_row", row);
    slots.insert_or_assign("exp_avg_sq_col", col);
    array r_factor = rsqrt(row / mean(row, -1, true));
    array c_factor = rsqrt(col);
    update = expand_dims(r_factor, -1) * expand_dims(c_factor, -2) * g;
  } else {
    array v = beta_2 * slots.at("exp_avg_sq") + one_minus_beta_2 * update;
    slots.insert_or_assign("exp_avg_sq", v);
    update = rsqrt(v) * g;
  }
  update = update / maximum(sc(1.0, p0), rms(update) / sc(clip_threshold_, p0));
  update = lr * update;
  if (beta_1_) {
    update = sc(*beta_1_, p0) * slots.at("exp_avg") + sc(1.0 - *beta_1_, p0) * update;
    slots.insert_or_assign("exp_avg", update);
  }
  array p = weight_decay_ != 0.0f ? p0 - p0 * sc(weight_decay_, p0) * lr : p0;
  return p - update;
}

// ---- schedules --------------------------------------------------------------

Schedule exponential_decay(float init, float decay_rate) {
  return [=](const array& step) { return array(init) * power(array(decay_rate), astype(step, float32)); };
}

Schedule step_decay(float init, float decay_rate, int step_size) {
  if (step_size <= 0) throw std::invalid_argument("[step_decay] step_size must be positive");
  return [=](const array& step) {
    return array(init) * power(array(decay_rate), astype(floor_divide(step, array(step_size, step.dtype())), float32));
  };
}

Schedule cosine_decay(float init, int decay_steps, float end) {
  if (decay_steps <= 0) throw std::invalid_argument("[cosine_decay] decay_steps must be positive");
  return [=](const array& step) {
    array s = minimum(astype(step, float32), array(float(decay_steps)));
    array decay = array(0.5f) * (array(1.0f) + cos(array(float(M_PI / decay_steps)) * s));
    return array(end) + decay * array(init - end);
  };
}

Schedule linear_schedule(float init, float end, int steps) {
  if (steps < 1) throw std::invalid_argument("[linear_schedule] steps must be at least 1");
  return [=](const array& step) {
    array s = minimum(astype(step, float32), array(float(steps)));
    return s * array((end - init) / float(steps)) + array(init);
  };
}

Schedule join_schedules(const std::vector<Schedule>& schedules, const std::vector<int>& boundaries) {
  if (schedules.empty() || boundaries.size() + 1 != schedules.size())
    throw std::invalid_argument("[join_schedules] needs one boundary fewer than schedules, got " +
                                std::to_string(schedules.size()) + " schedules and " +
                                std::to_string(boundaries.size()) + " boundaries");
  return [=](const array& step) {
    array out = astype(schedules[0](step), float32);
    for (size_t i = 0; i < boundaries.size(); ++i) {
      array b = array(boundaries[i], step.dtype());
      out = where(less(step, b), out, astype(schedules[i + 1](step - b), float32));
    }
    return out;
  };
}

// ---- utilities --------------------------------------------------------------

std::pair<Parameters, array> clip_grad_norm(const Parameters& grads, float max_norm) {
  array total = array(0.0f);
  for (const auto& [name, g] : grads) total = total + sum(square(astype(g, float32)));
  array norm = sqrt(total);
  array scale = minimum(array(max_norm) / (norm + array(1e-6f)), array(1.0f));
  Parameters out;
  for (const auto& [name, g] : grads) out.insert_or_assign(name, g * astype(scale, g.dtype()));
  return {out, norm};
}

std::function<std::vector<array>(const std::vector<array>&)> compile_step(
    nn::Module& model, Optimizer& optimizer, std::function<std::vector<array>(const std::vector<array>&)> step) {
  struct Cache {
    std::vector<std::string> param_names, state_names;
    ArrayFunction compiled;
  };
  auto cache = std::make_shared<Cache>();
  return [&model, &optimizer, step = std::move(step), cache](const std::vector<array>& args) {
    optimizer.init(model.trainable_parameters());
    auto [pn, pv] = nn::tree_flatten(model.parameters());
    auto [sn, sv] = nn::tree_flatten(optimizer.state());
    if (!cache->compiled || pn != cache->param_names || sn != cache->state_names) {
      cache->param_names = pn;
      cache->state_names = sn;
      size_t np = pn.size(), ns = sn.size();
      cache->compiled = compile([&model, &optimizer, step, pn, sn, np, ns](const std::vector<array>& in) {
        nn::Parameters saved_params = model.parameters(), saved_state = optimizer.state();
        std::vector<array> out;
        try {
          model.update(nn::tree_unflatten(pn, {in.begin(), in.begin() + np}));
          optimizer.set_state(nn::tree_unflatten(sn, {in.begin() + np, in.begin() + np + ns}));
          std::vector<array> results = step({in.begin() + np + ns, in.end()});
          out = nn::tree_flatten(model.parameters()).second;
          auto state = nn::tree_flatten(optimizer.state());
          if (state.first != sn) throw std::invalid_argument("[compile_step] the step changed the optimizer's state names");
          out.insert(out.end(), state.second.begin(), state.second.end());
          out.insert(out.end(), results.begin(), results.end());
        } catch (...) {
          model.update(saved_params);
          optimizer.set_state(saved_state);
          throw;
        }
        model.update(saved_params);
        optimizer.set_state(saved_state);
        return out;
      });
    }
    std::vector<array> inputs = pv;
    inputs.insert(inputs.end(), sv.begin(), sv.end());
    inputs.insert(inputs.end(), args.begin(), args.end());
    std::vector<array> out = cache->compiled(inputs);
    size_t np = pn.size(), ns = sn.size();
    model.update(nn::tree_unflatten(pn, {out.begin(), out.begin() + np}));
    optimizer.set_state(nn::tree_unflatten(sn, {out.begin() + np, out.begin() + np + ns}));
    return std::vector<array>(out.begin() + np + ns, out.end());
  };
}

}  // namespace kiln::optimizers
