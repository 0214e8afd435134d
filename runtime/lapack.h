#pragma once
// Matrix factorizations of one row-major matrix through LAPACK (LAPACKE,
// Debian's liblapacke-dev over OpenBLAS's LAPACK). The IR's `linalg` op
// (ir/linalg.h) names one of these in its `kind` attribute; its host kernel
// (codegen/host_kernels.cpp) runs them over a batch in parallel and the
// reference interpreter runs them one by one in double precision.
#include <cstdint>

namespace kiln::runtime {

// The factorizations, with their outputs in order. `a` is m x n; k = min(m, n).
enum class LinalgKind : int {
  Inv = 0,        // (inverse n x n); square
  TriInv = 1,     // (inverse of the `upper` or lower triangle, other triangle zero); square
  Cholesky = 2,   // (L lower, or U upper: a = L L^T = U^T U); square, reads one triangle
  Qr = 3,         // (Q m x k with orthonormal columns, R k x n upper): a = Q R
  Svd = 4,        // (U m x m, S k descending, Vt n x n): a = U diag(S) Vt
  SvdValues = 5,  // (S k)
  Eigh = 6,       // (w n ascending, V n x n columns): symmetric a = V diag(w) V^T; reads one triangle
  Eigvalsh = 7,   // (w n)
  Eig = 8,        // (w n complex64, V n x n complex64 columns): a V = V diag(w)
  Eigvals = 9,    // (w n complex64)
  LuFactor = 10,  // (LU m x n: unit L below the diagonal and U on and above it,
                  //  pivots k uint32: row i was swapped with row pivots[i] (0-based, in order),
                  //  row_idx m uint32: a = (L U)[row_idx])
  Solve = 11,     // (x m x (n - m)): `a` is [A | B], A m x m beside the right-hand
                  //  sides B, and x = A^-1 B (getrf + getrs: gesv); n >= m
};
inline constexpr int kNumLinalgKinds = 12;

// Number of outputs of a factorization.
int linalg_num_outputs(LinalgKind k);

// Computes factorization k of the m x n row-major matrix `a` (float, or
// double when f64) and writes every output to outs[i] (row-major, of the
// element types above: the input's, complex64 as two floats, uint32).
// Returns 0, LAPACK's negative info for a rejected argument (a bug), or its positive info where the factorization does not
// exist (a singular matrix for Inv/TriInv, not positive definite for
// Cholesky, no convergence for Svd/Eig*). LuFactor of a singular matrix
// succeeds (info is ignored, as NumPy/SciPy do). Thread-safe.
int linalg_factor(LinalgKind k, bool upper, bool f64, const void* a, int64_t m, int64_t n,
                  void* const* outs);

// How many matrices linalg_factor has factored in this process (tests
// count LAPACK runs with it).
int64_t linalg_factor_calls();

}  // namespace kiln::runtime
