// Module::save_weights / load_weights: a model's parameters in .safetensors
// or .npz files, as mlx.nn.Module's.
#include <algorithm>
#include <stdexcept>
#include <unordered_map>
#include "nn/module.h"

namespace kiln::nn {

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

enum class Format { safetensors, npz };

Format format_of(const char* op, const std::string& file) {
  if (ends_with(file, ".safetensors")) return Format::safetensors;
  if (ends_with(file, ".npz")) return Format::npz;
  throw std::invalid_argument(std::string("[") + op + "] Unsupported file extension for '" + file +
                              "': use '.npz' or '.safetensors'");
}

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

}  // namespace

const Module& Module::save_weights(const std::string& file) const {
  Format f = format_of("Module::save_weights", file);
  std::unordered_map<std::string, array> arrays;
  for (const auto& [name, a] : parameters()) arrays.insert_or_assign(name, a);
  if (f == Format::safetensors)
    save_safetensors(file, std::move(arrays));
  else
    savez(file, std::move(arrays));
  return *this;
}

Module& Module::load_weights(const std::string& file, bool strict) {
  Format f = format_of("Module::load_weights", file);
  std::unordered_map<std::string, array> loaded = f == Format::safetensors ? load_safetensors(file).first : load_npz(file);
  std::vector<std::pair<std::string, array>> weights(loaded.begin(), loaded.end());
  return load_weights(weights, strict);
}

Module& Module::load_weights(const std::vector<std::pair<std::string, array>>& weights, bool strict) {
  Parameters current = parameters();
  Parameters given;
  std::vector<std::string> extra, missing, mis_shaped;
  for (const auto& [name, a] : weights) {
    auto it = current.find(name);
    if (it == current.end()) {
      extra.push_back(name);
      continue;
    }
    if (it->second.shape() != a.shape()) {
      mis_shaped.push_back(name + " (expected shape " + ir::shape_to_string(it->second.shape()) + ", received " +
                           ir::shape_to_string(a.shape()) + ")");
      continue;
    }
    given.insert_or_assign(name, a);
  }
  for (const auto& [name, a] : current)
    if (!given.count(name) && std::none_of(mis_shaped.begin(), mis_shaped.end(), [&](const std::string& m) {
          return m.compare(0, name.size() + 1, name + " ") == 0;
        }))
      missing.push_back(name);
  std::string problems;
  if (strict && !extra.empty())
    problems += "Received " + std::to_string(extra.size()) + " parameters not in model: " + join(extra) + ". ";
  if (strict && !missing.empty())
    problems += "Missing " + std::to_string(missing.size()) + " parameters: " + join(missing) + ". ";
  if (!mis_shaped.empty()) problems += "Wrong shapes: " + join(mis_shaped) + ".";
  if (!problems.empty()) throw std::invalid_argument("[Module::load_weights] " + problems);
  return update(given);
}

}  // namespace kiln::nn
