#include "runtime/blas.h"

#include <cblas.h>

#include <cstring>

namespace kiln::runtime {

namespace {

// Calls gemm (cblas_sgemm or cblas_dgemm) once per batch element.
template <typename T, typename Gemm>
void batched(Gemm gemm, int64_t batch, int64_t m, int64_t n, int64_t k, const T* a, const T* b, T* c) {
  for (int64_t i = 0; i < batch; ++i) {
    if (k == 0) {  // BLAS may leave C untouched when there is nothing to sum
      std::memset(c + i * m * n, 0, size_t(m * n) * sizeof(T));
      continue;
    }
    gemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(m), int(n), int(k), T(1), a + i * m * k, int(k),
         b + i * k * n, int(n), T(0), c + i * m * n, int(n));
  }
}

}  // namespace

void matmul_f32(int64_t batch, int64_t m, int64_t n, int64_t k, const float* a, const float* b, float* c) {
  batched(cblas_sgemm, batch, m, n, k, a, b, c);
}

void matmul_f64(int64_t batch, int64_t m, int64_t n, int64_t k, const double* a, const double* b, double* c) {
  batched(cblas_dgemm, batch, m, n, k, a, b, c);
}

}  // namespace kiln::runtime
