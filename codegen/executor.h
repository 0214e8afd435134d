#pragma once
// Builds and runs the executable of an ir::Function on one backend
// (runtime/backend.h): the fusion plan for that backend's capabilities,
// each kernel compiled once (or taken from the backend's kernel cache),
// matmuls through the backend or the host's BLAS, and the ops that do not
// fuse as native host kernels (host_kernels.h; never the reference
// interpreter). An Executable does the planning and
// compiling once, so a compiled function's repeated calls only launch
// (runtime/executable.h runs the steps). Custom ops (calls of functions
// with custom rules) are inlined first (passes/inline.cpp); function() is
// the function after that.
#include <vector>

#include "codegen/llvm/cpu_backend.h"
#include "ir/tensor.h"
#include "passes/fusion.h"
#include "runtime/executable.h"

namespace kiln::codegen {

class Executable {
 public:
  explicit Executable(ir::Function f, runtime::Backend& backend = cpu_backend());
  // fuse = false: every op its own step (CompileMode::no_fuse).
  Executable(ir::Function f, runtime::Backend& backend, bool fuse);
  // The steps point into plan_ and f_.
  Executable(const Executable&) = delete;
  Executable& operator=(const Executable&) = delete;

  // Inputs must match the function's input types.
  std::vector<ir::Tensor> run(const std::vector<ir::Tensor>& inputs) const;
  const ir::Function& function() const { return f_; }

 private:
  ir::Function f_;
  passes::Plan plan_;
  runtime::Executable exe_;
};

// Kernel outputs that took over a dying input's buffer (process-wide count).
inline uint64_t buffers_donated() { return runtime::buffers_donated(); }
inline void reset_buffers_donated() { runtime::reset_buffers_donated(); }

// Executable(f, backend).run(inputs), for one-off evaluation.
std::vector<ir::Tensor> execute(const ir::Function& f, const std::vector<ir::Tensor>& inputs,
                                runtime::Backend& backend = cpu_backend());

}  // namespace kiln::codegen
