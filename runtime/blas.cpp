#include "runtime/blas.h"

#include <cblas.h>

#include <cstring>

namespace kiln::runtime {

namespace {

// Calls gemm (cblas_sgemm or cblas_dgemm) once per batch element.
template <typename T, typename Gemm>
void batched(Gemm gemm, int64_t batch, int64_t m, int64_t n, int64_t k, const T* a, bool ta, const T* b,
             bool tb, T* c) {
  for (int64_t i = 0; i < batch; ++i) {
    if (k == 0) {  // BLAS may leave C untouched when there is nothing to sum
      std::memset(c + i * m * n, 0, size_t(m * n) * sizeof(T));
      continue;
    }
    gemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, int(m), int(n), int(k),
         T(1), a + i * m * k, int(ta ? m : k), b + i * k * n, int(tb ? k : n), T(0), c + i * m * n, int(n));
  }
}

}  // namespace

void matmul_f32(int64_t batch, int64_t m, int64_t n, int64_t k, const float* a, bool trans_a, const float* b,
                bool trans_b, float* c) {
  batched(cblas_sgemm, batch, m, n, k, a, trans_a, b, trans_b, c);
}

void matmul_f64(int64_t batch, int64_t m, int64_t n, int64_t k, const double* a, bool trans_a, const double* b,
                bool trans_b, double* c) {
  batched(cblas_dgemm, batch, m, n, k, a, trans_a, b, trans_b, c);
}

}  // namespace kiln::runtime
