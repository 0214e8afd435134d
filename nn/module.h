#pragma once
// kiln::nn::Module — a tree of named parameters and submodules, as
// mlx.nn.Module. Parameter trees are flat, ordered maps from dotted names
// ("layers.0.weight") to arrays: they flatten to a std::vector<array> (in
// name order) for value_and_grad and compile, and back.
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>
#include "kiln/kiln.h"

namespace kiln::nn {

// A parameter tree: dotted names to arrays, in name order.
using Parameters = std::map<std::string, array>;

// The tree's names and arrays, both in name order.
std::pair<std::vector<std::string>, std::vector<array>> tree_flatten(const Parameters& tree);
// The tree of names[i] -> arrays[i]; throws std::invalid_argument when the
// counts differ.
Parameters tree_unflatten(const std::vector<std::string>& names, const std::vector<array>& arrays);
// The entries of `tree` whose names start with prefix + "." (prefix removed).
Parameters tree_subtree(const Parameters& tree, const std::string& prefix);

class Module {
 public:
  Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;
  virtual ~Module() = default;

  // The module applied to x. Modules that are not functions of one array
  // (containers of parameters only) throw std::logic_error.
  virtual array operator()(const array& x);

  // Every parameter of this module and its submodules, by dotted name.
  Parameters parameters() const;
  // The parameters that are not frozen.
  Parameters trainable_parameters() const;
  // The submodules, by name (direct children only).
  const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& children() const { return children_; }
  // Replaces the parameters named in `tree` (a subset of parameters());
  // throws std::invalid_argument for a name that is not a parameter or an
  // array of another shape.
  Module& update(const Parameters& tree);
  // Freezes (unfreezes) every parameter, recursively, or only the local
  // parameters with the given names when `keys` is not empty.
  Module& freeze(bool recurse = true, const std::vector<std::string>& keys = {});
  Module& unfreeze(bool recurse = true, const std::vector<std::string>& keys = {});
  // Training mode (the default) or evaluation mode, recursively: layers such
  // as Dropout and BatchNorm act differently in each.
  Module& train(bool mode = true);
  Module& eval() { return train(false); }
  bool training() const { return training_; }
  // How many scalars parameters() holds.
  size_t num_parameters() const;

  // Writes parameters() to `file`, as .safetensors or .npz by its extension
  // (nn/module_io.cpp). Other extensions throw std::invalid_argument.
  const Module& save_weights(const std::string& file) const;
  // Loads parameters from a .safetensors or .npz file (or from name/array
  // pairs). strict: every parameter must be given, no other name, each
  // with its parameter's shape; otherwise std::invalid_argument lists the
  // offenders. Not strict: names the model lacks are skipped and missing
  // ones keep their values (shapes are still checked).
  Module& load_weights(const std::string& file, bool strict = true);
  Module& load_weights(const std::vector<std::pair<std::string, array>>& weights, bool strict = true);

 protected:
  // Adds (or replaces) a local parameter.
  void register_parameter(const std::string& name, array value);
  // A local parameter; throws std::invalid_argument for an unknown name.
  const array& param(const std::string& name) const;
  bool has_param(const std::string& name) const { return params_.count(name) != 0; }
  // Adds a submodule and returns it.
  template <typename M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> m) {
    add_child(name, m);
    return m;
  }
  // Called by train(): layers with state to reset can override it.
  virtual void on_train(bool mode) {}

 private:
  void add_child(const std::string& name, std::shared_ptr<Module> m);
  void collect(const std::string& prefix, bool trainable_only, Parameters& out) const;

  std::map<std::string, array> params_;
  std::set<std::string> frozen_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  bool training_ = true;
};

// A function of the model's trainable parameters: fn(args) is computed
// with the model's parameters, and the gradient is taken with respect to
// model.trainable_parameters(), as mlx.nn.value_and_grad. Returns the loss
// and the gradient tree. The model keeps its parameters.
using LossFunction = std::function<array(const std::vector<array>&)>;
std::function<std::pair<array, Parameters>(const std::vector<array>&)> value_and_grad(
    Module& model, LossFunction loss_fn);

// Runs fn with the model's parameters replaced by `tree` and puts the old
// ones back afterwards (also when fn throws): the way to trace a model
// whose parameters are inputs of a transformation.
void with_parameters(Module& model, const Parameters& tree, const std::function<void()>& fn);

}  // namespace kiln::nn
