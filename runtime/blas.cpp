#include "runtime/blas.h"

#include <cblas.h>

#include <cstring>

namespace kiln::runtime {

void matmul_f32(int64_t batch, int64_t m, int64_t n, int64_t k, const float* a, const float* b, float* c) {
  for (int64_t i = 0; i < batch; ++i) {
    if (k == 0) {
      std::memset(c + i * m * n, 0, size_t(m * n) * sizeof(float));
      continue;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(m), int(n), int(k), 1.0f, a + i * m * k,
                int(k), b + i * k * n, int(n), 0.0f, c + i * m * n, int(n));
  }
}

void matmul_f64(int64_t batch, int64_t m, int64_t n, int64_t k, const double* a, const double* b, double* c) {
  for (int64_t i = 0; i < batch; ++i) {
    if (k == 0) {
      std::memset(c + i * m * n, 0, size_t(m * n) * sizeof(double));
      continue;
    }
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(m), int(n), int(k), 1.0, a + i * m * k,
                int(k), b + i * k * n, int(n), 0.0, c + i * m * n, int(n));
  }
}

}  // namespace kiln::runtime
