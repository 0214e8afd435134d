#pragma once
// Lowers a kernel::Kernel to an LLVM function `name` with the KernelFn
// signature (jit.h): scalar loops with i64 induction variables that the loop
// vectorizer widens. The innermost loop runs along the output's last
// dimension; reductions whose value does not depend on it are hoisted out
// and computed once per row.
#include <memory>
#include <string>

#include "passes/kernel.h"

namespace llvm {
class LLVMContext;
class Module;
}  // namespace llvm

namespace kiln::codegen {

std::unique_ptr<llvm::Module> emit_kernel(const kernel::Kernel& k, const std::string& name,
                                          llvm::LLVMContext& ctx);

}  // namespace kiln::codegen
