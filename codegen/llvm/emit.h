#pragma once
// Lowers a scheduled kernel::Kernel to an LLVM function `name` with the
// KernelFn signature (jit.h): scalar loops with i64 induction variables that
// the loop vectorizer widens. It renders the kernel's schedule
// (passes/kernel_schedule.h) and decides nothing the schedule states: the
// range, where reductions are computed, loop orders, the row cache,
// prefetches, accumulators, hints and the output's stores. Throws
// std::logic_error for a kernel that is not scheduled.
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
