#pragma once
// The CPU backend (Device::cpu): kernels compiled by the LLVM JIT (jit.h)
// and launched on the runtime's thread pool, each thread taking chunks of
// the kernel's outer range.
#include "runtime/backend.h"

namespace kiln::codegen {

runtime::Backend& cpu_backend();

}  // namespace kiln::codegen
