#include "runtime/narrow_gemm.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <stdexcept>
#include <vector>

#include "runtime/blas.h"
#include "runtime/thread_pool.h"

namespace kiln::runtime {

#if defined(__x86_64__)
namespace {

constexpr int kRows = 6, kCols = 16;
// The depth is cut into blocks of at most this many steps, so that a
// block of A's tile rows (6 x 512 floats) and of B's panels stays in the
// core's caches; C accumulates over the blocks.
constexpr int64_t kDepthBlock = 512;
// Fewer rows than this: OpenBLAS (few tiles, and A is small enough that
// its re-packing costs little).
constexpr int64_t kMinRows = 256;

// C[0..R) x [0..cols) (+)= A's R rows times a 16-column panel of B over
// depth kd: A's element (r, p) at a[r * a_row + p], B's row p at
// b + p * b_row (16 floats).
template <int R>
__attribute__((target("avx2,fma"))) void tile(int64_t kd, const float* a, int64_t a_row, const float* b,
                                              int64_t b_row, float* c, int64_t ldc, int cols, bool accumulate) {
  __m256 lo[R], hi[R];
#pragma GCC unroll 6
  for (int r = 0; r < R; ++r) lo[r] = hi[r] = _mm256_setzero_ps();
  for (int64_t p = 0; p < kd; ++p) {
    __m256 b0 = _mm256_loadu_ps(b + p * b_row), b1 = _mm256_loadu_ps(b + p * b_row + 8);
#pragma GCC unroll 6
    for (int r = 0; r < R; ++r) {
      __m256 ar = _mm256_broadcast_ss(a + r * a_row + p);
      lo[r] = _mm256_fmadd_ps(ar, b0, lo[r]);
      hi[r] = _mm256_fmadd_ps(ar, b1, hi[r]);
    }
  }
#pragma GCC unroll 6
  for (int r = 0; r < R; ++r) {
    float* row = c + r * ldc;
    if (cols == kCols) {
      if (accumulate) {
        lo[r] = _mm256_add_ps(lo[r], _mm256_loadu_ps(row));
        hi[r] = _mm256_add_ps(hi[r], _mm256_loadu_ps(row + 8));
      }
      _mm256_storeu_ps(row, lo[r]);
      _mm256_storeu_ps(row + 8, hi[r]);
    } else {  // the last panel of C's columns
      alignas(32) float part[kCols];
      _mm256_store_ps(part, lo[r]);
      _mm256_store_ps(part + 8, hi[r]);
      for (int j = 0; j < cols; ++j) row[j] = accumulate ? row[j] + part[j] : part[j];
    }
  }
}

using Tile = void (*)(int64_t, const float*, int64_t, const float*, int64_t, float*, int64_t, int, bool);
constexpr Tile kTiles[kRows + 1] = {nullptr, tile<1>, tile<2>, tile<3>, tile<4>, tile<5>, tile<6>};

// B as 16-column panels: panel q's row p is 16 floats at panel(q) + p *
// row_stride(q). Panels of a B stored k x n are read in place (rows n
// apart), but a last, partial one; a transposed B is packed whole.
class Panels {
 public:
  Panels(int64_t n, int64_t k, const float* b, bool trans_b)
      : n_(n), k_(k), b_(b), packed_from_(trans_b ? 0 : n / kCols), count_((n + kCols - 1) / kCols) {
    packed_.assign(size_t((count_ - packed_from_) * k * kCols), 0.0f);
    for (int64_t q = packed_from_; q < count_; ++q) {
      float* dst = packed_.data() + (q - packed_from_) * k * kCols;
      int64_t j0 = q * kCols, cols = std::min<int64_t>(kCols, n - j0);
      for (int64_t p = 0; p < k; ++p)
        for (int64_t j = 0; j < cols; ++j) dst[p * kCols + j] = trans_b ? b[(j0 + j) * k + p] : b[p * n + j0 + j];
    }
  }
  int64_t count() const { return count_; }
  const float* row(int64_t q, int64_t p) const {
    return q < packed_from_ ? b_ + p * n_ + q * kCols : packed_.data() + ((q - packed_from_) * k_ + p) * kCols;
  }
  int64_t row_stride(int64_t q) const { return q < packed_from_ ? n_ : kCols; }

 private:
  int64_t n_, k_;
  const float* b_;
  int64_t packed_from_, count_;
  std::vector<float> packed_;
};

// Rows [0, rows) of C (row i at c + i * n), every column; A's row i at
// a + i * k.
void rows_of_c(int64_t rows, int64_t n, int64_t k, const float* a, const Panels& panels, float* c) {
  int64_t blocks = (k + kDepthBlock - 1) / kDepthBlock, depth = (k + blocks - 1) / blocks;
  for (int64_t p0 = 0; p0 < k; p0 += depth) {
    int64_t kd = std::min(depth, k - p0);
    for (int64_t i = 0; i < rows; i += kRows) {
      int tile_rows = int(std::min<int64_t>(kRows, rows - i));
      for (int64_t q = 0; q < panels.count(); ++q) {
        int cols = int(std::min<int64_t>(kCols, n - q * kCols));
        kTiles[tile_rows](kd, a + i * k + p0, k, panels.row(q, p0), panels.row_stride(q), c + i * n + q * kCols, n,
                          cols, p0 > 0);
      }
    }
  }
}

// Calls fn(r0, r1) for the threads' shares of C's m rows: whole 6-row
// tiles, one share per thread when the product is large enough.
template <typename Fn>
void split_rows(int64_t m, int64_t n, int64_t k, Fn fn) {
  ThreadPool& pool = ThreadPool::global();
  int64_t tiles = (m + kRows - 1) / kRows;
  int64_t per_thread = m * n * k < kParallelMultiplyAdds ? tiles : (tiles + pool.size() - 1) / pool.size();
  pool.parallel_for(tiles, per_thread, [&](int64_t t0, int64_t t1) { fn(t0 * kRows, std::min(m, t1 * kRows)); });
}

}  // namespace

bool narrow_gemm_available() {
  static const bool available = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return available;
}

bool narrow_gemm_applies(int64_t m, int64_t n, int64_t k, bool trans_a) {
  // Not on AVX-512 CPUs: there OpenBLAS runs its SkylakeX kernels, twice
  // this one's vector width (this kernel was measured on AVX2 only: AMD
  // EPYC, against OpenBLAS's Haswell kernels).
  static const bool avx512 = __builtin_cpu_supports("avx512f");
  return !trans_a && n <= kNarrowColumns && m >= kMinRows && k > 0 && narrow_gemm_available() && !avx512;
}

void narrow_gemm_f32(int64_t m, int64_t n, int64_t k, const float* a, const float* b, bool trans_b, float* c) {
  Panels panels(n, k, b, trans_b);
  split_rows(m, n, k, [&](int64_t r0, int64_t r1) { rows_of_c(r1 - r0, n, k, a + r0 * k, panels, c + r0 * n); });
}

void narrow_gemm_f32_produced(int64_t m, int64_t n, int64_t k, const ProduceRows& produce_a, const float* b,
                              bool trans_b, float* c) {
  Panels panels(n, k, b, trans_b);
  // A block of A's rows stays in the core's L2 cache from its production
  // to its use: about 96 KB, whole tiles.
  const int64_t block = std::max<int64_t>(kRows, (96 * 1024 / int64_t(sizeof(float)) / k) / kRows * kRows);
  split_rows(m, n, k, [&](int64_t r0, int64_t r1) {
    std::vector<float> rows(size_t(std::min(block, r1 - r0) * k));
    for (int64_t i = r0; i < r1; i += block) {
      int64_t i1 = std::min(r1, i + block);
      rows_of_c(i1 - i, n, k, produce_a(i, i1, rows.data()), panels, c + i * n);
    }
  });
}

#else  // not x86-64: OpenBLAS runs every product

bool narrow_gemm_available() { return false; }
bool narrow_gemm_applies(int64_t, int64_t, int64_t, bool) { return false; }
void narrow_gemm_f32(int64_t, int64_t, int64_t, const float*, const float*, bool, float*) {
  throw std::logic_error("narrow_gemm_f32 needs an x86-64 CPU with AVX2 and FMA");
}
void narrow_gemm_f32_produced(int64_t, int64_t, int64_t, const ProduceRows&, const float*, bool, float*) {
  throw std::logic_error("narrow_gemm_f32_produced needs an x86-64 CPU with AVX2 and FMA");
}

#endif

}  // namespace kiln::runtime
