#pragma once
// Copying a function's ops into another function through a value map: what
// inlining, binding inputs to constants, adding inputs and differentiating
// all start from.
#include <vector>

#include "ir/function.h"

namespace kiln::ir {

// Appends f's ops to g, with g's value inputs[i] standing for f's input i
// (inputs.size() == f.inputs.size()). Returns, for each value of f (inputs
// first), the value of g that stands for it; f's outputs map through it.
std::vector<int> clone_ops(const Function& f, Function& g, const std::vector<int>& inputs);

// The values of g standing for vs (f's values), through a map from clone_ops.
std::vector<int> mapped(const std::vector<int>& vs, const std::vector<int>& value_map);

}  // namespace kiln::ir
