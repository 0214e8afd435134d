#pragma once
// Runs an ir::Function through the JIT: fusion plan -> kernels (compiled or
// from the cache) launched on the thread pool, and host ops (those that do
// not fuse) run one at a time by the reference interpreter.
#include <vector>

#include "ir/interpreter.h"

namespace kiln::codegen {

std::vector<ir::Tensor> execute(const ir::Function& f, const std::vector<ir::Tensor>& inputs);

}  // namespace kiln::codegen
