#include "ir/clone.h"

#include <stdexcept>

namespace kiln::ir {

std::vector<int> clone_ops(const Function& f, Function& g, const std::vector<int>& inputs) {
  if (inputs.size() != f.inputs.size())
    throw std::invalid_argument("[clone_ops] " + std::to_string(inputs.size()) + " values for " +
                                std::to_string(f.inputs.size()) + " inputs");
  std::vector<int> val(inputs);
  val.resize(size_t(f.num_values()));
  for (size_t i = 0; i < f.ops.size(); ++i) {
    Op op = f.ops[i];
    for (int& o : op.operands) o = val[size_t(o)];
    val[f.inputs.size() + i] = g.add_op(std::move(op));
  }
  return val;
}

std::vector<int> mapped(const std::vector<int>& vs, const std::vector<int>& value_map) {
  std::vector<int> out;
  out.reserve(vs.size());
  for (int v : vs) out.push_back(value_map[size_t(v)]);
  return out;
}

}  // namespace kiln::ir
