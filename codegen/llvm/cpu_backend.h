#pragma once
// The CPU backend (Device::cpu): kernels compiled by the LLVM JIT (jit.h)
// and launched on the runtime's thread pool, each thread taking chunks of
// the kernel's outer range.
#include <cstdint>
#include <vector>

#include "runtime/backend.h"

namespace kiln::codegen {

runtime::Backend& cpu_backend();

// Runs a kernel compiled by cpu_backend() over units [begin, end) of its
// range on the calling thread, reading `inputs` (in the kernel's input
// order) and writing through `output`, the address its output's element 0
// would have: only the range's elements are written, so `output` may point
// before a buffer that holds just those (codegen/executor.cpp produces a
// product's operand block by block so).
void run_on_this_thread(const runtime::CompiledKernel& kernel, const std::vector<const void*>& inputs, void* output,
                        const int64_t* params, int64_t begin, int64_t end);

}  // namespace kiln::codegen
