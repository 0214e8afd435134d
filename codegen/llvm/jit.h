#pragma once
// Kernels compiled to native code with LLVM 19 ORC LLJIT for the host CPU
// (detectHost: AVX-512 where present), through the O2 pipeline with loop and
// SLP vectorization. Compiled kernels are cached in memory by their
// structural key (kernel::Kernel::key plus the target), so a new shape with
// the same structure reuses the kernel, and their object code is kept in the
// disk cache (disk_cache.h), so other processes link them instead of
// compiling. The in-memory cache is bounded (kernel_cache_limit()): the
// least recently used kernels leave it, and their code is unloaded once no
// executable holds them.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "passes/kernel.h"
#include "runtime/backend.h"

namespace kiln::codegen {

// args: the input buffers, then the output buffer, then a pointer to the
// int64 parameters. The kernel computes outputs [begin, end) of its outer
// range (kernel::Kernel::outer_extent, runtime/backend.h).
using KernelFn = void (*)(void** args, int64_t begin, int64_t end);

// A compiled kernel. Its code stays loaded while any handle to it exists:
// the kernel cache holds one, each executable that launches it another, so
// dropping it from the cache never unloads code that is still in use.
struct CompiledKernel : runtime::CompiledKernel {
  explicit CompiledKernel(KernelFn f) : fn(f) {}
  KernelFn fn = nullptr;
};
using KernelHandle = std::shared_ptr<const CompiledKernel>;

struct KernelCacheStats {
  uint64_t kernels_compiled = 0;   // built by LLVM
  uint64_t kernel_cache_hits = 0;  // found in memory
  double compile_ms = 0;
  uint64_t disk_hits = 0;      // object code loaded from the disk cache
  uint64_t disk_rejected = 0;  // disk entries discarded (corrupt, foreign)
  uint64_t disk_writes = 0;    // objects stored in the disk cache
  uint64_t evictions = 0;      // kernels dropped from the cache over its limit
  uint64_t kernels_in_memory = 0;  // loaded now, cached or held (not reset)
};

// Compiles k, or returns the kernel of the same structure if one is
// loaded (cached, or held by an executable). Thread-safe. Throws
// std::runtime_error if LLVM fails.
KernelHandle get_kernel(const kernel::Kernel& k);

// How many kernels the cache keeps: KILN_KERNEL_CACHE_LIMIT, else 4096.
// Setting a smaller limit drops the least recently used kernels at once.
// Throws std::invalid_argument outside 1 to 1048576.
size_t kernel_cache_limit();
void set_kernel_cache_limit(size_t kernels);
// Drops every kernel from the cache (those executables hold stay loaded):
// the next request of each compiles it, or loads it from the disk cache.
void clear_kernel_cache();

KernelCacheStats kernel_cache_stats();
void reset_kernel_cache_stats();
// The disk cache directory in use, or "" when kernels stay in memory only.
std::string disk_cache_directory();

}  // namespace kiln::codegen
