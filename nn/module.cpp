#include "nn/module.h"

#include <algorithm>
#include <stdexcept>

namespace kiln::nn {

std::pair<std::vector<std::string>, std::vector<array>> tree_flatten(const Parameters& tree) {
  std::vector<std::string> names;
  std::vector<array> arrays;
  for (const auto& [name, a] : tree) {
    names.push_back(name);
    arrays.push_back(a);
  }
  return {names, arrays};
}

Parameters tree_unflatten(const std::vector<std::string>& names, const std::vector<array>& arrays) {
  if (names.size() != arrays.size())
    throw std::invalid_argument("[tree_unflatten] " + std::to_string(names.size()) + " names but " +
                                std::to_string(arrays.size()) + " arrays");
  Parameters out;
  for (size_t i = 0; i < names.size(); ++i) out.insert_or_assign(names[i], arrays[i]);
  return out;
}

Parameters tree_subtree(const Parameters& tree, const std::string& prefix) {
  Parameters out;
  std::string p = prefix + ".";
  for (const auto& [name, a] : tree)
    if (name.compare(0, p.size(), p) == 0) out.insert_or_assign(name.substr(p.size()), a);
  return out;
}

array Module::operator()(const array&) {
  throw std::logic_error("[Module] this module is not a function of one array");
}

void Module::register_parameter(const std::string& name, array value) {
  if (name.empty() || name.find('.') != std::string::npos)
    throw std::invalid_argument("[Module] parameter names are not empty and have no '.': '" + name + "'");
  params_.insert_or_assign(name, std::move(value));
}

const array& Module::param(const std::string& name) const {
  auto it = params_.find(name);
  if (it == params_.end()) throw std::invalid_argument("[Module] no parameter '" + name + "'");
  return it->second;
}

void Module::add_child(const std::string& name, std::shared_ptr<Module> m) {
  if (!m) throw std::invalid_argument("[Module] submodule '" + name + "' is null");
  if (name.empty() || name.find('.') != std::string::npos)
    throw std::invalid_argument("[Module] submodule names are not empty and have no '.': '" + name + "'");
  for (auto& [n, c] : children_)
    if (n == name) {
      c = std::move(m);
      return;
    }
  children_.emplace_back(name, std::move(m));
}

void Module::collect(const std::string& prefix, bool trainable_only, Parameters& out) const {
  for (const auto& [name, a] : params_)
    if (!trainable_only || !frozen_.count(name)) out.insert_or_assign(prefix + name, a);
  for (const auto& [name, child] : children_) child->collect(prefix + name + ".", trainable_only, out);
}

Parameters Module::parameters() const {
  Parameters out;
  collect("", false, out);
  return out;
}

Parameters Module::trainable_parameters() const {
  Parameters out;
  collect("", true, out);
  return out;
}

Module& Module::update(const Parameters& tree) {
  for (const auto& [name, a] : tree) {
    Module* m = this;
    std::string rest = name;
    // Walk down the submodules named by the dotted prefix.
    for (size_t dot; (dot = rest.find('.')) != std::string::npos;) {
      std::string head = rest.substr(0, dot);
      Module* next = nullptr;
      for (auto& [n, c] : m->children_)
        if (n == head) next = c.get();
      if (!next) throw std::invalid_argument("[Module::update] no parameter '" + name + "'");
      m = next;
      rest = rest.substr(dot + 1);
    }
    auto it = m->params_.find(rest);
    if (it == m->params_.end()) throw std::invalid_argument("[Module::update] no parameter '" + name + "'");
    if (it->second.shape() != a.shape())
      throw std::invalid_argument("[Module::update] parameter '" + name + "' has shape " +
                                  ir::shape_to_string(it->second.shape()) + ", not " +
                                  ir::shape_to_string(a.shape()));
    it->second = a;
  }
  return *this;
}

static void set_frozen(Module& m, std::set<std::string>& frozen, const std::map<std::string, array>& params,
                       bool freeze, const std::vector<std::string>& keys) {
  if (keys.empty()) {
    for (const auto& [name, a] : params) freeze ? (void)frozen.insert(name) : (void)frozen.erase(name);
    return;
  }
  for (const auto& k : keys) {
    if (!params.count(k)) continue;  // as MLX: keys name local parameters where they exist
    freeze ? (void)frozen.insert(k) : (void)frozen.erase(k);
  }
}

Module& Module::freeze(bool recurse, const std::vector<std::string>& keys) {
  set_frozen(*this, frozen_, params_, true, keys);
  if (recurse)
    for (auto& [n, c] : children_) c->freeze(true, keys);
  return *this;
}

Module& Module::unfreeze(bool recurse, const std::vector<std::string>& keys) {
  set_frozen(*this, frozen_, params_, false, keys);
  if (recurse)
    for (auto& [n, c] : children_) c->unfreeze(true, keys);
  return *this;
}

Module& Module::train(bool mode) {
  training_ = mode;
  on_train(mode);
  for (auto& [n, c] : children_) c->train(mode);
  return *this;
}

size_t Module::num_parameters() const {
  size_t n = 0;
  for (const auto& [name, a] : parameters()) n += a.size();
  return n;
}

void with_parameters(Module& model, const Parameters& tree, const std::function<void()>& fn) {
  Parameters saved;
  Parameters all = model.parameters();
  for (const auto& [name, a] : tree) {
    auto it = all.find(name);
    if (it != all.end()) saved.insert_or_assign(name, it->second);
  }
  model.update(tree);
  try {
    fn();
  } catch (...) {
    model.update(saved);
    throw;
  }
  model.update(saved);
}

std::function<std::pair<array, Parameters>(const std::vector<array>&)> value_and_grad(
    Module& model, LossFunction loss_fn) {
  return [&model, loss_fn = std::move(loss_fn)](const std::vector<array>& args) {
    auto [names, params] = tree_flatten(model.trainable_parameters());
    // Frozen parameters that the loss function changes (BatchNorm's running
    // statistics) come out of the transformation as aux outputs, so that
    // the model gets their values and not the trace's placeholders.
    Parameters all = model.parameters();
    std::vector<std::string> frozen_names;
    for (const auto& [name, a] : all)
      if (!std::binary_search(names.begin(), names.end(), name)) frozen_names.push_back(name);
    size_t n = params.size();
    std::vector<int> argnums;
    for (size_t i = 0; i < n; ++i) argnums.push_back(int(i));
    std::function<std::vector<array>(const std::vector<array>&)> inner = [&](const std::vector<array>& in) {
      std::vector<array> out;
      std::vector<array> p(in.begin(), in.begin() + n), rest(in.begin() + n, in.end());
      Parameters frozen_before;
      for (const auto& f : frozen_names) frozen_before.insert_or_assign(f, all.at(f));
      with_parameters(model, tree_unflatten(names, p), [&] {
        out.push_back(loss_fn(rest));
        Parameters now = model.parameters();
        for (const auto& f : frozen_names) out.push_back(now.at(f));
        model.update(frozen_before);
      });
      return out;
    };
    std::vector<array> inputs = params;
    inputs.insert(inputs.end(), args.begin(), args.end());
    auto [values, grads] = n ? kiln::value_and_grad(inner, argnums)(inputs)
                             : std::pair<std::vector<array>, std::vector<array>>(inner(inputs), {});
    model.update(tree_unflatten(frozen_names, {values.begin() + 1, values.end()}));
    return std::pair<array, Parameters>(values[0], tree_unflatten(names, grads));
  };
}

}  // namespace kiln::nn
