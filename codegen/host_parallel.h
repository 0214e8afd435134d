#pragma once
// What the host kernels (host_kernels.cpp, host_scan_sort.cpp) share: how
// they split work over the thread pool and how they allocate a result.
#include <algorithm>
#include <cstdint>

#include "ir/tensor.h"
#include "runtime/buffer.h"
#include "runtime/thread_pool.h"

namespace kiln::codegen::host {

// Below this many bytes of work an op stays on the calling thread: waking
// the pool costs more than it saves (a few microseconds).
inline constexpr int64_t kGrainBytes = int64_t(1) << 16;

// fn(begin, end) over chunks of [0, n) units of `unit_bytes` of work each.
template <class F>
void parallel(int64_t n, int64_t unit_bytes, const F& fn) {
  if (n <= 0) return;
  const int64_t grain = std::max<int64_t>(1, kGrainBytes / std::max<int64_t>(1, unit_bytes));
  if (n <= grain) return fn(int64_t(0), n);
  runtime::ThreadPool::global().parallel_for(n, grain, fn);
}

// An uninitialized tensor of type t from the runtime allocator.
inline ir::Tensor fresh(const ir::Type& t) { return {t, runtime::allocate(size_t(t.nbytes()))}; }

}  // namespace kiln::codegen::host
