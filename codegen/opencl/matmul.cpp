#include "codegen/opencl/matmul.h"

#include <clblast_c.h>

namespace kiln::codegen::opencl {

bool clblast_gemm(const Device& device, bool f64, int64_t batch, int64_t m, int64_t n, int64_t k, cl_mem a,
                  bool trans_a, cl_mem b, bool trans_b, cl_mem c) {
  // Leading dimensions of the row-major operands as stored: A is m x k (k
  // x m when transposed), B is k x n (n x k).
  size_t lda = size_t(trans_a ? m : k), ldb = size_t(trans_b ? k : n), ldc = size_t(n);
  size_t sa = size_t(m * k), sb = size_t(k * n), sc = size_t(m * n);
  CLBlastTranspose ta = trans_a ? CLBlastTransposeYes : CLBlastTransposeNo;
  CLBlastTranspose tb = trans_b ? CLBlastTransposeYes : CLBlastTransposeNo;
  cl_command_queue q = device.queue();
  CLBlastStatusCode s;
  if (f64)
    s = CLBlastDgemmStridedBatched(CLBlastLayoutRowMajor, ta, tb, size_t(m), size_t(n), size_t(k), 1.0, a, 0, lda, sa,
                                   b, 0, ldb, sb, 0.0, c, 0, ldc, sc, size_t(batch), &q, nullptr);
  else
    s = CLBlastSgemmStridedBatched(CLBlastLayoutRowMajor, ta, tb, size_t(m), size_t(n), size_t(k), 1.0f, a, 0, lda,
                                   sa, b, 0, ldb, sb, 0.0f, c, 0, ldc, sc, size_t(batch), &q, nullptr);
  if (s != CLBlastSuccess) return false;
  return clFinish(q) == CL_SUCCESS;
}

}  // namespace kiln::codegen::opencl
