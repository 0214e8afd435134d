#pragma once
// Host kernels of the scans (cumsum, cumprod, cummax, cummin, logcumsumexp)
// and sorts (sort, argsort, argpartition): ir/scan_sort.h states their
// semantics. Split over the runtime's thread pool by independent lines; a
// scan of a few long lines runs in two parallel passes (block totals, then
// each block from its offset), which reassociates floating sums and
// products: such results may differ from the interpreter's in the last
// bits. Everything else is bit for bit the interpreter's.
#include "ir/tensor.h"

namespace kiln::codegen {

ir::Tensor run_host_scan(const ir::Op& op, const ir::Tensor& x);
ir::Tensor run_host_sort(const ir::Op& op, const ir::Tensor& x);

}  // namespace kiln::codegen
