#pragma once
// Matrix products through the system BLAS (OpenBLAS, cblas): the runtime's
// "call BLAS" step. Row-major, contiguous; `batch` independent products
// C[i] = A[i] (m x k) * B[i] (k x n).
#include <cstdint>

namespace kiln::runtime {

void matmul_f32(int64_t batch, int64_t m, int64_t n, int64_t k, const float* a, const float* b, float* c);
void matmul_f64(int64_t batch, int64_t m, int64_t n, int64_t k, const double* a, const double* b, double* c);

}  // namespace kiln::runtime
