#include "nn/optimizers.h"

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
