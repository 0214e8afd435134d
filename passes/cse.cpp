// Common subexpression elimination. Every op of the IR is pure, so two ops
// with the same kind, operands, attributes, type and callees compute the
// same value; the later one is dropped and its uses read the earlier one.
// Constants are equal when their types and bytes are: 0.0 and -0.0, or nans
// with different payloads, stay distinct.
#include <cstring>
#include <functional>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include "passes/pass_manager.h"

namespace kiln::passes {

namespace {

inline void mix(size_t& h, size_t v) { h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2); }

size_t hash_type(const ir::Type& t) {
  size_t h = std::hash<int>()(int(t.dtype.val));
  for (auto d : t.shape) mix(h, std::hash<int32_t>()(d));
  mix(h, t.shape.size());
  return h;
}

std::string_view bytes_of(const ir::Op& c) {
  size_t n = size_t(c.type.nbytes());
  if (n == 0 || !c.data) return {};
  return {static_cast<const char*>(c.data->data()), n};
}

size_t hash_op(const ir::Op& op) {
  size_t h = std::hash<int>()(int(op.kind));
  mix(h, hash_type(op.type));
  if (op.kind == ir::OpKind::Constant) {
    mix(h, std::hash<std::string_view>()(bytes_of(op)));
    return h;
  }
  for (int o : op.operands) mix(h, std::hash<int>()(o));
  for (const auto& [name, value] : op.attrs) {
    mix(h, std::hash<std::string>()(name));
    if (const auto* i = std::get_if<int64_t>(&value)) {
      mix(h, std::hash<int64_t>()(*i));
    } else {
      const auto& list = std::get<std::vector<int64_t>>(value);
      mix(h, list.size() + 1);
      for (auto x : list) mix(h, std::hash<int64_t>()(x));
    }
  }
  return h;
}

bool same_op(const ir::Op& a, const ir::Op& b) {
  if (a.kind != b.kind || a.type != b.type) return false;
  // Custom ops are equal only when they call the very same functions:
  // outputs of one call merge, two calls of equal-looking functions (a
  // checkpoint's recomputation and the forward pass) do not.
  if (a.custom != b.custom) return false;
  if (a.kind == ir::OpKind::Constant) return bytes_of(a) == bytes_of(b);
  return a.operands == b.operands && a.attrs == b.attrs;
}

}  // namespace

ir::Function cse(const ir::Function& f) {
  ir::Function out;
  out.name = f.name;
  out.inputs = f.inputs;
  const int n_in = int(f.inputs.size());
  std::vector<int> remap(size_t(f.num_values()), -1);
  for (int v = 0; v < n_in; ++v) remap[size_t(v)] = v;

  // hash -> the values of `out` whose ops have that hash.
  std::unordered_map<size_t, std::vector<int>> seen;
  for (int v = n_in; v < f.num_values(); ++v) {
    ir::Op op = f.def(v);
    for (int& o : op.operands) o = remap[size_t(o)];
    size_t h = hash_op(op);
    auto& bucket = seen[h];
    int found = -1;
    for (int w : bucket) {
      if (same_op(out.def(w), op)) {
        found = w;
        break;
      }
    }
    if (found < 0) {
      found = out.add_op(std::move(op));
      bucket.push_back(found);
    }
    remap[size_t(v)] = found;
  }
  for (int v : f.outputs) out.outputs.push_back(remap[size_t(v)]);
  return out;
}

}  // namespace kiln::passes
