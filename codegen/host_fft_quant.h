#pragma once
// The host kernels of KILN_FFT_QUANT_OPS (ir/ops.h), called by
// run_host_op (host_kernels.h): fft (host_fft.cpp) and quantized_matmul
// (host_quantized_matmul.cpp). Operands are contiguous tensors of the
// op's operand types.
#include "ir/tensor.h"

namespace kiln::codegen {

ir::Tensor fft_host(const ir::Op& op, const ir::Tensor& x);
ir::Tensor quantized_matmul_host(const ir::Op& op, const std::vector<ir::Tensor>& in);

}  // namespace kiln::codegen
