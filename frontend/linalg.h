#pragma once
// kiln::linalg: MLX's linear algebra (mlx/linalg.h) with its names,
// overloads, defaults and errors. The factorizations run LAPACK (LAPACKE
// over OpenBLAS) on the host, batched over leading dimensions and in
// parallel across the batch, on every device (an OpenCL stream runs them on
// the host too); the rest are compositions of ops. Inputs are float32 or
// float64. Derivatives: inv, tri_inv, cholesky, qr (rows >= columns), svd
// (singular values of any matrix; U and Vt of square ones), eigh/eigvalsh,
// solve, and through them pinv, cholesky_inv, solve_triangular, norm; det
// and slogdet of matrices up to 3 x 3. Symmetric inputs (cholesky, eigh)
// take the symmetric convention: gradients are symmetric.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "frontend/ops.h"

namespace kiln::linalg {

// Vector (one axis) or matrix (two axes) norm of order `ord`: vector 0
// (non-zeros), 1, 2, inf, -inf or any p; matrix 1, -1, 2, -2, inf, -inf.
// Without axes: all axes of a 1-D or 2-D array.
array norm(const array& a, const double ord, const std::optional<std::vector<int>>& axis = std::nullopt,
           bool keepdims = false, StreamOrDevice s = {});
inline array norm(const array& a, const double ord, int axis, bool keepdims = false, StreamOrDevice s = {}) {
  return norm(a, ord, std::vector<int>{axis}, keepdims, std::move(s));
}
// Matrix norm "fro" (or "f") or "nuc" (the sum of the singular values).
array norm(const array& a, const std::string& ord, const std::optional<std::vector<int>>& axis = std::nullopt,
           bool keepdims = false, StreamOrDevice s = {});
inline array norm(const array& a, const std::string& ord, int axis, bool keepdims = false, StreamOrDevice s = {}) {
  return norm(a, ord, std::vector<int>{axis}, keepdims, std::move(s));
}
// The 2-norm over `axis` (at most two axes), of the flattened array without.
array norm(const array& a, const std::optional<std::vector<int>>& axis = std::nullopt, bool keepdims = false,
           StreamOrDevice s = {});
inline array norm(const array& a, int axis, bool keepdims = false, StreamOrDevice s = {}) {
  return norm(a, std::vector<int>{axis}, keepdims, std::move(s));
}

// Reduced QR of [..., m, n]: Q [..., m, k] with orthonormal columns and R
// [..., k, n] upper triangular, k = min(m, n).
std::pair<array, array> qr(const array& a, StreamOrDevice s = {});
// {U [..., m, m], S [..., k] descending, Vt [..., n, n]} with a = U diag(S) Vt,
// or {S} without compute_uv.
std::vector<array> svd(const array& a, bool compute_uv, StreamOrDevice s /* = {} */);
inline std::vector<array> svd(const array& a, StreamOrDevice s = {}) { return svd(a, true, std::move(s)); }
// Inverse of square matrices; throws std::runtime_error on evaluation when one is singular.
array inv(const array& a, StreamOrDevice s = {});
// Inverse of the lower (or upper) triangle of square matrices; the other triangle is ignored.
array tri_inv(const array& a, bool upper = false, StreamOrDevice s = {});
// Cholesky factor L (a = L L^T), or U (a = U^T U) when upper, of symmetric
// positive definite matrices, read from that triangle.
array cholesky(const array& a, bool upper = false, StreamOrDevice s = {});
// Moore-Penrose pseudo-inverse through the SVD.
array pinv(const array& a, StreamOrDevice s = {});
// The inverse of a = L L^T (or U^T U) from its Cholesky factor.
array cholesky_inv(const array& L, bool upper = false, StreamOrDevice s = {});
// {row_idx, L, U} with a = L[row_idx] @ U: L [..., m, k] unit lower, U [..., k, n] upper.
std::vector<array> lu(const array& a, StreamOrDevice s = {});
// (LU, pivots): L below the diagonal (unit diagonal implied) and U on and
// above it; pivots [..., k] uint32: row i was swapped with row pivots[i].
std::pair<array, array> lu_factor(const array& a, StreamOrDevice s = {});
// x with a x = b, a square [..., n, n], b [..., n] or [..., n, k] (batch
// axes broadcast); LAPACK's gesv, not an inverse.
array solve(const array& a, const array& b, StreamOrDevice s = {});
// x with a x = b for a triangular a (its lower, or upper, triangle).
array solve_triangular(const array& a, const array& b, bool upper = false, StreamOrDevice s = {});
// The cross product along `axis` of size 2 or 3 (size 2 as if its third component were 0).
array cross(const array& a, const array& b, int axis = -1, StreamOrDevice s = {});
// Eigenvalues and eigenvectors (columns) of general square matrices, complex64.
std::pair<array, array> eig(const array& a, StreamOrDevice s = {});
// Eigenvalues of general square matrices, complex64.
array eigvals(const array& a, StreamOrDevice s = {});
// Eigenvalues (ascending) of symmetric matrices, read from the UPLO ("L" or "U") triangle.
array eigvalsh(const array& a, std::string UPLO = "L", StreamOrDevice s = {});
// Eigenvalues (ascending) and orthonormal eigenvectors (columns) of symmetric matrices.
std::pair<array, array> eigh(const array& a, std::string UPLO = "L", StreamOrDevice s = {});
// Determinant of square matrices.
array det(const array& a, StreamOrDevice s = {});
// (sign, log|det|) of square matrices; (0, -inf) for singular ones.
std::pair<array, array> slogdet(const array& a, StreamOrDevice s = {});

}  // namespace kiln::linalg
