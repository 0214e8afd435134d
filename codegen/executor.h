#pragma once
// Runs an ir::Function through the JIT: the fusion plan's kernels (compiled
// or taken from the kernel cache) launched on the thread pool, matmuls
// through BLAS, and the other ops that do not fuse run by native host
// kernels (host_kernels.h), never by the reference interpreter. An Executable does the planning and compiling once, so a
// compiled function's repeated calls only launch. Custom ops (calls of
// functions with custom rules) are inlined first (passes/inline.cpp);
// function() is the function after that.
#include <vector>

#include "codegen/llvm/cpu_backend.h"
#include "ir/tensor.h"
#include "passes/fusion.h"

namespace kiln::codegen {

class Executable {
 public:
  explicit Executable(ir::Function f, runtime::Backend& backend = cpu_backend());
  // Inputs must match the function's input types.
  std::vector<ir::Tensor> run(const std::vector<ir::Tensor>& inputs) const;
  const ir::Function& function() const { return f_; }

 private:
  ir::Function f_;
  passes::Plan plan_;
  runtime::Backend* backend_;
  std::vector<runtime::KernelHandle> kernels_;  // per step (null for host ops); held, so never unloaded under us
  std::vector<int> last_use_;      // step after which a value can be freed
  std::vector<int> donor_;         // per step: the arg whose buffer the output takes, or -1 (donation.h)
};

// Kernel outputs that took over a dying input's buffer (process-wide count).
uint64_t buffers_donated();
void reset_buffers_donated();

// Executable(f).run(inputs), for one-off evaluation.
std::vector<ir::Tensor> execute(const ir::Function& f, const std::vector<ir::Tensor>& inputs,
                                runtime::Backend& backend = cpu_backend());

}  // namespace kiln::codegen
