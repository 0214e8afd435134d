// LAPACK drivers of runtime/lapack.h. Each works on a private copy of the
// input (LAPACK overwrites its operand) in row-major layout, LAPACKE's
// LAPACK_ROW_MAJOR, and is written once for float and double through the
// overloads below.
#include "runtime/lapack.h"

#include <lapacke.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <complex>
#include <cstring>
#include <numeric>
#include <vector>

#include "runtime/openblas.h"

namespace kiln::runtime {

namespace {

constexpr int kRow = LAPACK_ROW_MAJOR;
using li = lapack_int;

// float / double overloads of the LAPACKE routines used.
li getrf(li m, li n, float* a, li lda, li* ipiv) { return LAPACKE_sgetrf(kRow, m, n, a, lda, ipiv); }
li getrf(li m, li n, double* a, li lda, li* ipiv) { return LAPACKE_dgetrf(kRow, m, n, a, lda, ipiv); }
li gesv(li n, li r, float* a, li* ipiv, float* b) { return LAPACKE_sgesv(kRow, n, r, a, n, ipiv, b, r); }
li gesv(li n, li r, double* a, li* ipiv, double* b) { return LAPACKE_dgesv(kRow, n, r, a, n, ipiv, b, r); }
li getri(li n, float* a, li lda, const li* ipiv) { return LAPACKE_sgetri(kRow, n, a, lda, ipiv); }
li getri(li n, double* a, li lda, const li* ipiv) { return LAPACKE_dgetri(kRow, n, a, lda, ipiv); }
li trtri(char uplo, li n, float* a, li lda) { return LAPACKE_strtri(kRow, uplo, 'N', n, a, lda); }
li trtri(char uplo, li n, double* a, li lda) { return LAPACKE_dtrtri(kRow, uplo, 'N', n, a, lda); }
li potrf(char uplo, li n, float* a, li lda) { return LAPACKE_spotrf(kRow, uplo, n, a, lda); }
li potrf(char uplo, li n, double* a, li lda) { return LAPACKE_dpotrf(kRow, uplo, n, a, lda); }
li geqrf(li m, li n, float* a, li lda, float* tau) { return LAPACKE_sgeqrf(kRow, m, n, a, lda, tau); }
li geqrf(li m, li n, double* a, li lda, double* tau) { return LAPACKE_dgeqrf(kRow, m, n, a, lda, tau); }
li orgqr(li m, li n, li k, float* a, li lda, const float* tau) { return LAPACKE_sorgqr(kRow, m, n, k, a, lda, tau); }
li orgqr(li m, li n, li k, double* a, li lda, const double* tau) { return LAPACKE_dorgqr(kRow, m, n, k, a, lda, tau); }
li gesdd(char jobz, li m, li n, float* a, li lda, float* s, float* u, li ldu, float* vt, li ldvt) {
  return LAPACKE_sgesdd(kRow, jobz, m, n, a, lda, s, u, ldu, vt, ldvt);
}
li gesdd(char jobz, li m, li n, double* a, li lda, double* s, double* u, li ldu, double* vt, li ldvt) {
  return LAPACKE_dgesdd(kRow, jobz, m, n, a, lda, s, u, ldu, vt, ldvt);
}
li syevd(char jobz, char uplo, li n, float* a, li lda, float* w) { return LAPACKE_ssyevd(kRow, jobz, uplo, n, a, lda, w); }
li syevd(char jobz, char uplo, li n, double* a, li lda, double* w) { return LAPACKE_dsyevd(kRow, jobz, uplo, n, a, lda, w); }
li geev(char jobvr, li n, float* a, float* wr, float* wi, float* vl, float* vr) {
  return LAPACKE_sgeev(kRow, 'N', jobvr, n, a, n, wr, wi, vl, n, vr, n);
}
li geev(char jobvr, li n, double* a, double* wr, double* wi, double* vl, double* vr) {
  return LAPACKE_dgeev(kRow, 'N', jobvr, n, a, n, wr, wi, vl, n, vr, n);
}

// Zeroes the strict upper (keep_lower) or strict lower triangle of an n x n matrix.
template <class T>
void zero_triangle(T* a, li n, bool keep_lower) {
  for (li i = 0; i < n; ++i)
    for (li j = 0; j < n; ++j)
      if (keep_lower ? j > i : j < i) a[i * n + j] = T(0);
}

template <class T>
void identity(T* a, li n) {
  std::fill(a, a + size_t(n) * size_t(n), T(0));
  for (li i = 0; i < n; ++i) a[i * n + i] = T(1);
}

// The iterative eigen/singular value solvers may not terminate on inf or
// nan input: such a matrix gets nan in every output instead (NumPy raises
// "did not converge" there).
template <class T>
bool all_nan_outputs(LinalgKind kind, const T* a, li m, li n, void* const* outs) {
  const size_t mn = size_t(m) * size_t(n);
  if (std::all_of(a, a + mn, [](T x) { return std::isfinite(x); })) return false;
  const size_t k = size_t(std::min(m, n)), um = size_t(m), vn = size_t(n);
  auto fill = [](void* p, size_t count) {
    T* q = static_cast<T*>(p);
    std::fill(q, q + count, std::numeric_limits<T>::quiet_NaN());
  };
  auto fill_c = [](void* p, size_t count) {
    auto* q = static_cast<std::complex<float>*>(p);
    std::fill(q, q + count, std::complex<float>(NAN, NAN));
  };
  switch (kind) {
    case LinalgKind::Svd: fill(outs[0], um * um); fill(outs[1], k); fill(outs[2], vn * vn); return true;
    case LinalgKind::SvdValues: fill(outs[0], k); return true;
    case LinalgKind::Eigh: fill(outs[0], vn); fill(outs[1], vn * vn); return true;
    case LinalgKind::Eigvalsh: fill(outs[0], vn); return true;
    case LinalgKind::Eig: fill_c(outs[0], vn); fill_c(outs[1], vn * vn); return true;
    case LinalgKind::Eigvals: fill_c(outs[0], vn); return true;
    case LinalgKind::Inv: case LinalgKind::TriInv: case LinalgKind::Cholesky: case LinalgKind::Qr:
    case LinalgKind::LuFactor: case LinalgKind::Solve:
      return false;  // direct methods: nan propagates
  }
  return false;
}

template <class T>
int factor(LinalgKind kind, bool upper, const T* a, li m, li n, void* const* outs) {
  if (all_nan_outputs(kind, a, m, n, outs)) return 0;
  const li k = std::min(m, n);
  const char uplo = upper ? 'U' : 'L';
  const size_t mn = size_t(m) * size_t(n);
  auto out = [&](int i) { return static_cast<T*>(outs[i]); };
  auto copy_in = [&](T* dst) { std::copy(a, a + mn, dst); };

  switch (kind) {
    case LinalgKind::Inv: {
      if (n == 0) return 0;
      T* y = out(0);
      copy_in(y);
      std::vector<li> ipiv(static_cast<size_t>(n));
      li info = getrf(n, n, y, n, ipiv.data());
      if (info > 0) return int(info);
      return int(getri(n, y, n, ipiv.data()));
    }
    case LinalgKind::TriInv: {
      if (n == 0) return 0;
      T* y = out(0);
      copy_in(y);
      zero_triangle(y, n, !upper);
      return int(trtri(uplo, n, y, n));
    }
    case LinalgKind::Cholesky: {
      if (n == 0) return 0;
      T* y = out(0);
      copy_in(y);
      li info = potrf(uplo, n, y, n);
      zero_triangle(y, n, !upper);
      return int(info);
    }
    case LinalgKind::Qr: {
      T* q = out(0);  // m x k
      T* r = out(1);  // k x n
      if (k == 0) return 0;
      std::vector<T> work(a, a + mn), tau(static_cast<size_t>(k));
      geqrf(m, n, work.data(), n, tau.data());
      for (li i = 0; i < k; ++i)
        for (li j = 0; j < n; ++j) r[i * n + j] = j >= i ? work[size_t(i * n + j)] : T(0);
      for (li i = 0; i < m; ++i)
        for (li j = 0; j < k; ++j) q[i * k + j] = work[size_t(i * n + j)];
      return int(orgqr(m, k, k, q, k, tau.data()));
    }
    case LinalgKind::Svd:
    case LinalgKind::SvdValues: {
      const bool uv = kind == LinalgKind::Svd;
      T* s = out(uv ? 1 : 0);
      if (k == 0) {
        if (uv) {
          identity(out(0), m);
          identity(out(2), n);
        }
        return 0;
      }
      std::vector<T> work(a, a + mn);
      T dummy[1];
      return int(uv ? gesdd('A', m, n, work.data(), n, s, out(0), m, out(2), n)
                    : gesdd('N', m, n, work.data(), n, s, dummy, m, dummy, n));  // u, vt not referenced
    }
    case LinalgKind::Eigh:
    case LinalgKind::Eigvalsh: {
      if (n == 0) return 0;
      if (kind == LinalgKind::Eigh) {
        copy_in(out(1));
        return int(syevd('V', uplo, n, out(1), n, out(0)));
      }
      std::vector<T> work(a, a + mn);
      return int(syevd('N', uplo, n, work.data(), n, out(0)));
    }
    case LinalgKind::Eig:
    case LinalgKind::Eigvals: {
      if (n == 0) return 0;
      const bool vectors = kind == LinalgKind::Eig;
      std::vector<T> work(a, a + mn), wr(static_cast<size_t>(n)), wi(static_cast<size_t>(n)), vr(vectors ? mn : 1), vl(1);
      li info = geev(vectors ? 'V' : 'N', n, work.data(), wr.data(), wi.data(), vl.data(), vr.data());
      if (info != 0) return int(info);
      auto* w = static_cast<std::complex<float>*>(outs[0]);
      for (li j = 0; j < n; ++j) w[j] = {float(wr[size_t(j)]), float(wi[size_t(j)])};
      if (!vectors) return 0;
      // A complex pair j, j+1 (wi[j] > 0) stores its vector's real part in
      // column j and its imaginary part in column j+1; the second is the conjugate.
      auto* v = static_cast<std::complex<float>*>(outs[1]);
      for (li j = 0; j < n; ++j) {
        const bool pair = wi[size_t(j)] != T(0) && j + 1 < n;
        for (li i = 0; i < n; ++i) {
          if (!pair) {
            v[i * n + j] = {float(vr[size_t(i * n + j)]), 0.f};
          } else {
            float re = float(vr[size_t(i * n + j)]), im = float(vr[size_t(i * n + j + 1)]);
            v[i * n + j] = {re, im};
            v[i * n + j + 1] = {re, -im};
          }
        }
        if (pair) ++j;
      }
      return 0;
    }
    case LinalgKind::Solve: {
      // A (the first m columns) and B (the other r) apart; gesv overwrites
      // A with its LU factors and B with x.
      const li r = n - m;
      if (m == 0 || r == 0) return 0;
      std::vector<T> lu(size_t(m) * size_t(m));
      std::vector<li> ipiv(static_cast<size_t>(m));
      T* x = out(0);
      for (li i = 0; i < m; ++i) {
        std::copy(a + size_t(i) * size_t(n), a + size_t(i) * size_t(n) + size_t(m), lu.data() + size_t(i) * size_t(m));
        std::copy(a + size_t(i) * size_t(n) + size_t(m), a + size_t(i + 1) * size_t(n), x + size_t(i) * size_t(r));
      }
      return int(gesv(m, r, lu.data(), ipiv.data(), x));
    }
    case LinalgKind::LuFactor: {
      auto* pivots = static_cast<uint32_t*>(outs[1]);
      auto* row_idx = static_cast<uint32_t*>(outs[2]);
      std::vector<li> ipiv(static_cast<size_t>(std::max<li>(k, 1)));
      if (k > 0) {
        copy_in(out(0));
        getrf(m, n, out(0), n, ipiv.data());  // info > 0: exactly singular U, still a factorization
      }
      // perm: the rows of a in the order of L U (a[perm] = L U), from the
      // swaps in order; row_idx is its inverse.
      std::vector<uint32_t> perm(static_cast<size_t>(m));
      std::iota(perm.begin(), perm.end(), 0u);
      for (li i = 0; i < k; ++i) {
        pivots[i] = uint32_t(ipiv[size_t(i)] - 1);
        std::swap(perm[size_t(i)], perm[size_t(ipiv[size_t(i)] - 1)]);
      }
      for (li i = 0; i < m; ++i) row_idx[perm[size_t(i)]] = uint32_t(i);
      return 0;
    }
  }
  return 0;
}

}  // namespace

int linalg_num_outputs(LinalgKind k) {
  switch (k) {
    case LinalgKind::Inv: case LinalgKind::TriInv: case LinalgKind::Cholesky:
    case LinalgKind::SvdValues: case LinalgKind::Eigvalsh: case LinalgKind::Eigvals:
    case LinalgKind::Solve:
      return 1;
    case LinalgKind::Qr: case LinalgKind::Eigh: case LinalgKind::Eig:
      return 2;
    case LinalgKind::Svd: case LinalgKind::LuFactor:
      return 3;
  }
  return 0;
}

namespace {
std::atomic<int64_t> factor_calls{0};  // linalg_factor_calls()
}  // namespace

int linalg_factor(LinalgKind k, bool upper, bool f64, const void* a, int64_t m, int64_t n,
                  void* const* outs) {
  factor_calls.fetch_add(1, std::memory_order_relaxed);
  configure_openblas();
  if (f64) return factor(k, upper, static_cast<const double*>(a), li(m), li(n), outs);
  return factor(k, upper, static_cast<const float*>(a), li(m), li(n), outs);
}

int64_t linalg_factor_calls() { return factor_calls.load(std::memory_order_relaxed); }

}  // namespace kiln::runtime
