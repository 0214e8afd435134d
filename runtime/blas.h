#pragma once
// Matrix products through the system BLAS (OpenBLAS, cblas): the runtime's
// "call BLAS" step. Row-major, contiguous; `batch` independent products
// C[i] = op(A[i]) (m x k) * op(B[i]) (k x n), where op transposes when the
// matching flag is set (A[i] is then stored k x m, B[i] n x k).
#include <cstdint>

namespace kiln::runtime {

// Products smaller than this many multiply-adds run on the calling thread:
// waking the pool (tens of microseconds on a busy machine) would cost more
// than the share another thread takes off it.
inline constexpr int64_t kParallelMultiplyAdds = int64_t(1) << 20;

void matmul_f32(int64_t batch, int64_t m, int64_t n, int64_t k, const float* a, bool trans_a, const float* b,
                bool trans_b, float* c);
void matmul_f64(int64_t batch, int64_t m, int64_t n, int64_t k, const double* a, bool trans_a, const double* b,
                bool trans_b, double* c);

}  // namespace kiln::runtime
