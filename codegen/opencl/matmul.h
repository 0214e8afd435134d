#pragma once
// Matrix products on the OpenCL device through CLBlast (Apache-2.0), as
// runtime/blas.h states them: row-major, `batch` products of op(A) (m x k)
// by op(B) (k x n).
#include <cstdint>

#include "codegen/opencl/device.h"

namespace kiln::codegen::opencl {

// C = op(A) op(B) on `device`, the operands being device buffers of
// float64 (`f64`) or float32. Returns false if CLBlast fails (the caller
// then uses the host's BLAS); waits for the result.
bool clblast_gemm(const Device& device, bool f64, int64_t batch, int64_t m, int64_t n, int64_t k, cl_mem a,
                  bool trans_a, cl_mem b, bool trans_b, cl_mem c);

}  // namespace kiln::codegen::opencl
