#include "runtime/blas.h"

#include <cblas.h>

#include <algorithm>
#include <cstring>
#include <type_traits>
#include <vector>

#include "runtime/narrow_gemm.h"
#include "runtime/openblas.h"
#include "runtime/thread_pool.h"

namespace kiln::runtime {

namespace {

// One product C = op(A) op(B) (m x n, k deep) as gemm calls over the
// runtime's threads: one piece of C per thread, cut along the longer of
// its two sides (each piece re-packs the whole operand that it shares with
// the others, so cutting the longer side re-packs the smaller operand).
//
// When both sides of C are too short to cut (a weight's gradient, 16 x 9
// summed over 100,352 positions), or the depth is much longer than them
// (a convolution's weight gradient, 32 x 144 over 25,088: 13% faster cut
// along k), the depth is cut instead: each thread sums its share of k into
// its own C, and the pieces are added.
template <typename T, typename Gemm>
void one_product(Gemm gemm, int64_t m, int64_t n, int64_t k, const T* a, bool ta, const T* b, bool tb, T* c) {
  auto call_deep = [&](int64_t rows, int64_t cols, int64_t depth, const T* a0, const T* b0, T* c0) {
    gemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, int(rows), int(cols),
         int(depth), T(1), a0, int(ta ? m : k), b0, int(tb ? k : n), T(0), c0, int(n));
  };
  auto call = [&](int64_t rows, int64_t cols, const T* a0, const T* b0, T* c0) { call_deep(rows, cols, k, a0, b0, c0); };
  if constexpr (std::is_same_v<T, float>) {
    if (narrow_gemm_applies(m, n, k, ta)) {
      narrow_gemm_f32(m, n, k, a, b, tb, c);
      return;
    }
  }
  ThreadPool& pool = ThreadPool::global();
  int threads = pool.size();
  if (threads == 1 || m * n * k < kParallelMultiplyAdds) {
    call(m, n, a, b, c);
    return;
  }
  if (std::max(m, n) < 2 * 16 || k >= 8 * std::max(m, n)) {
    int64_t piece = (k + threads - 1) / threads;
    std::vector<T> partial(size_t((threads - 1) * m * n));
    pool.parallel_for(k, piece, [&](int64_t k0, int64_t k1) {
      // Depth [k0, k1): columns of A (rows when stored transposed), rows of B.
      T* dst = k0 == 0 ? c : partial.data() + (k0 / piece - 1) * m * n;
      call_deep(m, n, k1 - k0, ta ? a + k0 * m : a + k0, tb ? b + k0 : b + k0 * n, dst);
    });
    for (int64_t p = 1; p * piece < k; ++p)
      for (int64_t i = 0; i < m * n; ++i) c[i] += partial[size_t((p - 1) * m * n + i)];
    return;
  }
  // Whole pieces of at least 16 rows or columns, one per thread.
  int64_t side = std::max(m, n);
  int64_t piece = std::max<int64_t>(16, (side + threads - 1) / threads);
  if (m >= n) {
    // Rows [r0, r1) of C: rows of op(A), which start at column r0 of a
    // stored transposed.
    pool.parallel_for(m, piece, [&](int64_t r0, int64_t r1) {
      call(r1 - r0, n, ta ? a + r0 : a + r0 * k, b, c + r0 * n);
    });
  } else {
    // Columns [c0, c1) of C: columns of op(B), rows of b stored transposed.
    pool.parallel_for(n, piece, [&](int64_t c0, int64_t c1) {
      call(m, c1 - c0, a, tb ? b + c0 * k : b + c0, c + c0);
    });
  }
}

// `batch` products, over the runtime's threads: whole products per thread
// when there are enough of them, else each product split (one_product).
template <typename T, typename Gemm>
void batched(Gemm gemm, int64_t batch, int64_t m, int64_t n, int64_t k, const T* a, bool ta, const T* b,
             bool tb, T* c) {
  if (batch <= 0 || m * n == 0) return;
  if (k == 0) {  // BLAS may leave C untouched when there is nothing to sum
    std::memset(c, 0, size_t(batch * m * n) * sizeof(T));
    return;
  }
  // kiln splits products over its own pool, so OpenBLAS runs each piece on
  // the calling thread (runtime/openblas.h).
  configure_openblas();
  auto product = [&](int64_t i) { one_product(gemm, m, n, k, a + i * m * k, ta, b + i * k * n, tb, c + i * m * n); };
  ThreadPool& pool = ThreadPool::global();
  if (batch >= 2 * pool.size() && batch * m * n * k >= kParallelMultiplyAdds) {
    // Inside the pool, one_product runs each product on its thread.
    int64_t per_thread = (batch + pool.size() - 1) / pool.size();
    pool.parallel_for(batch, per_thread, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i) product(i);
    });
    return;
  }
  for (int64_t i = 0; i < batch; ++i) product(i);
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
