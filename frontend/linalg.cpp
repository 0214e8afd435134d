// kiln::linalg (linalg.h). The factorizations are `linalg` ops
// (ir/linalg.h), one node per output; everything else composes ops, so it
// gets autodiff, vmap and fusion from its parts.
#include "frontend/linalg.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <sstream>

#include "frontend/ops_util.h"
#include "ir/linalg.h"

namespace kiln::linalg {

using detail::throw_invalid;
using ir::LinalgKind;
using ir::OpKind;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

std::string prefix(const std::string& fname) { return "linalg::" + fname; }

void check_float(const array& a, const std::string& fname) {
  if (a.dtype() != float32 && a.dtype() != float64)
    throw_invalid(prefix(fname), "Arrays must have type float32 or float64. Received array with type " +
                                     dtype_name(a.dtype()) + ".");
}

// MLX accepts complex64 here too; kiln's LAPACK kernels are real only.
void check_float_or_complex(const array& a, const std::string& fname) {
  if (a.dtype() == complex64)
    throw_invalid(prefix(fname), "Arrays of type complex64 are not supported yet; use float32 or float64.");
  if (a.dtype() != float32 && a.dtype() != float64)
    throw_invalid(prefix(fname), "Arrays must have type float32, float64 or complex64. Received array with type " +
                                     dtype_name(a.dtype()) + ".");
}

void check_matrix(const array& a, const std::string& fname, const std::string& what = "Arrays") {
  if (a.ndim() < 2)
    throw_invalid(prefix(fname), what + " must have >= 2 dimensions. Received array with " +
                                     std::to_string(a.ndim()) + " dimensions.");
}

void check_square(const array& a, const std::string& fname, const std::string& msg) {
  if (a.shape(-1) != a.shape(-2)) throw_invalid(prefix(fname), msg);
}

// Output `output` of factorization `kind` of a.
array factor(const array& a, LinalgKind kind, int output, bool upper = false) {
  return detail::make_node(OpKind::Linalg, {a}, ir::linalg_attrs(kind, output, upper));
}

array l2_norm(const array& a, const std::vector<int>& axes, bool keepdims) {
  if (is_complex(a.dtype())) {
    array m = abs(a);
    return sqrt(sum(multiply(m, m), axes, keepdims));
  }
  array x = astype(a, detail::at_least_float(a.dtype()));
  return sqrt(sum(square(x), axes, keepdims));
}

array vector_norm(const array& a, double ord, const std::vector<int>& axes, bool keepdims) {
  const Dtype t = detail::at_least_float(a.dtype());
  if (ord == 0) return astype(sum(not_equal(a, zeros({}, a.dtype())), axes, keepdims), t);
  if (ord == 1) return astype(sum(abs(a), axes, keepdims), t);
  if (ord == 2) return l2_norm(a, axes, keepdims);
  if (ord == kInf) return astype(max(abs(a), axes, keepdims), t);
  if (ord == -kInf) return astype(min(abs(a), axes, keepdims), t);
  array m = astype(abs(a), t);
  return power(sum(power(m, full({}, ord, t)), axes, keepdims), full({}, 1.0 / ord, t));
}

// The matrices of `a` over axes (row, col) moved last, in that order.
array matrices_last(const array& a, int row, int col) {
  return row > col ? moveaxis(moveaxis(a, row, -1), col, -1) : moveaxis(moveaxis(a, col, -1), row, -2);
}

// The singular values of the matrices over axes (row, col), reduced by
// `reduce`, with the two axes kept as size 1 when keepdims.
template <class Reduce>
array singular_value_norm(const array& a, std::vector<int> axes, bool keepdims, const Reduce& reduce) {
  const int nd = int(a.ndim());
  int row = detail::normalize_axis("linalg::norm", axes[0], nd);
  int col = detail::normalize_axis("linalg::norm", axes[1], nd);
  array x = astype(matrices_last(a, row, col), detail::at_least_float(a.dtype()));
  array r = reduce(svd(x, false, {})[0]);
  if (keepdims) r = expand_dims(r, {std::min(row, col), std::max(row, col)});
  return r;
}

array matrix_norm(const array& a, double ord, const std::vector<int>& axes, bool keepdims) {
  const Dtype t = detail::at_least_float(a.dtype());
  int row = axes[0], col = axes[1];
  if (ord == 1 || ord == -1) {  // max / min over columns of the column sums
    if (!keepdims && col > row && col > 0) col -= 1;
    array sums = sum(abs(a), row, keepdims);
    return astype(ord == 1 ? max(sums, col, keepdims) : min(sums, col, keepdims), t);
  }
  if (ord == kInf || ord == -kInf) {  // max / min over rows of the row sums
    if (!keepdims && row > col && row > 0) row -= 1;
    array sums = sum(abs(a), col, keepdims);
    return astype(ord == kInf ? max(sums, row, keepdims) : min(sums, row, keepdims), t);
  }
  if (ord == 2 || ord == -2)
    return singular_value_norm(a, axes, keepdims,
                               [&](const array& sv) { return ord == 2 ? max(sv, -1) : min(sv, -1); });
  std::ostringstream msg;
  msg << "Invalid ord " << ord << " for matrix norm.";
  throw_invalid("linalg::norm", msg.str());
}

std::vector<int> axes_or_all(const array& a, const std::optional<std::vector<int>>& axis) {
  if (axis) return *axis;
  std::vector<int> all(a.ndim());
  std::iota(all.begin(), all.end(), 0);
  return all;
}

void check_solve(const array& a, const array& b, const std::string& fname) {
  if (a.ndim() < 2)
    throw_invalid(prefix(fname), "First input must have >= 2 dimensions. Received array with " +
                                     std::to_string(a.ndim()) + " dimensions.");
  if (b.ndim() < 1)
    throw_invalid(prefix(fname), "Second input must have >= 1 dimensions. Received array with " +
                                     std::to_string(b.ndim()) + " dimensions.");
  if (a.shape(-1) != a.shape(-2))
    throw_invalid(prefix(fname), "First input must be a square matrix. Received array with shape " +
                                     detail::str(a.shape()) + ".");
  int last = b.ndim() > 1 ? -2 : -1;
  if (a.shape(-1) != b.shape(last))
    throw_invalid(prefix(fname), "Last dimension of first input with shape " + detail::str(a.shape()) +
                                     " must match second to last dimension of second input with shape " +
                                     detail::str(b.shape()) + ".");
  Dtype t = promote_types(a.dtype(), b.dtype());
  if (t != float32 && t != float64)
    throw_invalid(prefix(fname), "Input arrays must promote to float32 or float64.  Received arrays with type " +
                                     dtype_name(a.dtype()) + " and " + dtype_name(b.dtype()) + ".");
}

void check_eig(const array& a, const std::string& fname) {
  check_float_or_complex(a, fname);
  check_matrix(a, fname);
  check_square(a, fname, "Only defined for square matrices.");
}

bool upper_from(const std::string& UPLO, const std::string& fname) {
  if (UPLO != "L" && UPLO != "U") throw_invalid(prefix(fname), "UPLO must be 'L' or 'U', got '" + UPLO + "'.");
  return UPLO == "U";
}

void check_det(const array& a, const std::string& fname) {
  if (is_complex(a.dtype())) throw_invalid(prefix(fname), "Complex inputs are not supported.");
  check_matrix(a, fname);
  check_square(a, fname, "Only defined for square matrices.");
}

// a[..., i, j] as an array of the batch shape.
array element(const array& a, int i, int j) {
  Shape start(a.ndim(), 0), stop = a.shape();
  start[a.ndim() - 2] = i;
  stop[a.ndim() - 2] = i + 1;
  start[a.ndim() - 1] = j;
  stop[a.ndim() - 1] = j + 1;
  return squeeze(slice(a, start, stop), {-2, -1});
}

// The determinant of matrices up to 3 x 3 by cofactors (differentiable).
array small_det(const array& a) {
  const int n = a.shape(-1);
  Shape batch(a.shape().begin(), a.shape().end() - 2);
  if (n == 0) return ones(batch, a.dtype());
  auto e = [&](int i, int j) { return element(a, i, j); };
  if (n == 1) return e(0, 0);
  if (n == 2) return subtract(multiply(e(0, 0), e(1, 1)), multiply(e(0, 1), e(1, 0)));
  array c0 = subtract(multiply(e(1, 1), e(2, 2)), multiply(e(1, 2), e(2, 1)));
  array c1 = subtract(multiply(e(1, 0), e(2, 2)), multiply(e(1, 2), e(2, 0)));
  array c2 = subtract(multiply(e(1, 0), e(2, 1)), multiply(e(1, 1), e(2, 0)));
  return add(subtract(multiply(e(0, 0), c0), multiply(e(0, 1), c1)), multiply(e(0, 2), c2));
}

// (sign, log|det|) through the LU factorization: det = (-1)^swaps prod(diag(U)).
std::pair<array, array> lu_slogdet(const array& a) {
  auto [LU, pivots] = lu_factor(a);
  const Dtype t = a.dtype();
  array d = diagonal(LU, 0, -2, -1);
  array swaps = sum(astype(not_equal(pivots, arange(0, a.shape(-1), 1)), int32), -1);
  array negatives = sum(astype(less(d, zeros({}, t)), int32), -1);
  array odd = equal(remainder(add(swaps, negatives), full({}, 2, int32)), full({}, 1, int32));
  array sign = where(odd, full({}, -1.0, t), full({}, 1.0, t));
  array singular = any(equal(d, zeros({}, t)), -1);
  array logabs = sum(log(abs(d)), -1);
  sign = where(singular, zeros({}, t), sign);
  logabs = where(singular, full({}, -kInf, t), logabs);
  return {sign, logabs};
}

}  // namespace

array norm(const array& a, const std::optional<std::vector<int>>& axis, bool keepdims, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  if (!axis) return norm(flatten(a), std::vector<int>{0}, keepdims);
  if (axis->size() > 2) throw_invalid("linalg::norm", "Received too many axes for norm.");
  return l2_norm(a, *axis, keepdims);
}

array norm(const array& a, const double ord, const std::optional<std::vector<int>>& axis, bool keepdims,
           StreamOrDevice s) {
  detail::OpStream on_stream(s);
  std::vector<int> axes = axes_or_all(a, axis);
  if (axes.size() == 1) return vector_norm(a, ord, axes, keepdims);
  if (axes.size() == 2) return matrix_norm(a, ord, axes, keepdims);
  throw_invalid("linalg::norm", "Received too many axes for norm.");
}

array norm(const array& a, const std::string& ord, const std::optional<std::vector<int>>& axis, bool keepdims,
           StreamOrDevice s) {
  detail::OpStream on_stream(s);
  std::vector<int> axes = axes_or_all(a, axis);
  if (axes.size() != 2)
    throw_invalid("linalg::norm", "Norm '" + ord + "' only supported for matrices, but received " +
                                      std::to_string(axes.size()) + " axis/axes.");
  if (ord == "f" || ord == "fro") return l2_norm(a, axes, keepdims);
  if (ord == "nuc") return singular_value_norm(a, axes, keepdims, [](const array& sv) { return sum(sv, -1); });
  throw_invalid("linalg::norm", "Invalid ord value '" + ord + "' for matrix norm.");
}

std::pair<array, array> qr(const array& a, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  check_float(a, "qr");
  check_matrix(a, "qr");
  return {factor(a, LinalgKind::Qr, 0), factor(a, LinalgKind::Qr, 1)};
}

std::vector<array> svd(const array& a, bool compute_uv, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  check_float_or_complex(a, "svd");
  check_matrix(a, "svd", "Input array");
  if (!compute_uv) return {factor(a, LinalgKind::SvdValues, 0)};
  return {factor(a, LinalgKind::Svd, 0), factor(a, LinalgKind::Svd, 1), factor(a, LinalgKind::Svd, 2)};
}

namespace {
array inv_impl(const array& a, bool tri, bool upper) {
  check_float(a, "inv");
  check_matrix(a, "inv");
  check_square(a, "inv", "Inverses are only defined for square matrices.");
  return tri ? factor(a, LinalgKind::TriInv, 0, upper) : factor(a, LinalgKind::Inv, 0);
}
}  // namespace

array inv(const array& a, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  return inv_impl(a, false, false);
}

array tri_inv(const array& a, bool upper, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  return inv_impl(a, true, upper);
}

array cholesky(const array& a, bool upper, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  check_float(a, "cholesky");
  check_matrix(a, "cholesky");
  check_square(a, "cholesky", "Cholesky decomposition is only defined for square matrices.");
  return factor(a, LinalgKind::Cholesky, 0, upper);
}

array pinv(const array& a, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  check_float(a, "pinv");
  check_matrix(a, "pinv");
  const int m = a.shape(-2), n = a.shape(-1), k = std::min(m, n);
  std::vector<array> usv = svd(a, true, {});
  Shape start(a.ndim(), 0), stop = a.shape();
  stop[a.ndim() - 2] = m;
  stop[a.ndim() - 1] = k;
  array Ut = swapaxes(slice(usv[0], start, stop), -1, -2);  // [..., k, m]
  stop[a.ndim() - 2] = k;
  stop[a.ndim() - 1] = n;
  array V = swapaxes(slice(usv[2], start, stop), -1, -2);  // [..., n, k]
  array S = expand_dims(usv[1], -2);                         // [..., 1, k]
  const double eps = a.dtype() == float64 ? std::numeric_limits<double>::epsilon()
                                          : double(std::numeric_limits<float>::epsilon());
  // Singular values below rcond times the largest count as zero (NumPy's rule).
  array cutoff = multiply(full({}, 10.0 * std::max(m, n) * eps, a.dtype()), max(S, -1, true));
  array rS = where(greater(S, cutoff), reciprocal(S), zeros({}, a.dtype()));
  return matmul(multiply(V, rS), Ut);
}

array cholesky_inv(const array& L, bool upper, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  check_float(L, "cholesky_inv");
  check_matrix(L, "cholesky_inv");
  check_square(L, "cholesky_inv", "Cholesky inverse is only defined for square matrices.");
  array Linv = tri_inv(L, upper);
  return upper ? matmul(Linv, swapaxes(Linv, -1, -2)) : matmul(swapaxes(Linv, -1, -2), Linv);
}

std::vector<array> lu(const array& a, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  check_float(a, "lu");
  check_matrix(a, "lu");
  array LU = factor(a, LinalgKind::LuFactor, 0);
  array row_idx = factor(a, LinalgKind::LuFactor, 2);
  const int m = a.shape(-2), n = a.shape(-1), k = std::min(m, n);
  array L = tril(LU, -1), U = triu(LU, 0);
  Shape start(a.ndim(), 0), stop = a.shape();
  if (n != k) {
    stop.back() = k;
    L = slice(L, start, stop);
  } else if (m != k) {
    stop[a.ndim() - 2] = k;
    U = slice(U, start, stop);
  }
  L = add(L, eye(m, k, 0, a.dtype()));
  return {row_idx, L, U};
}

std::pair<array, array> lu_factor(const array& a, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  check_float(a, "lu_factor");
  check_matrix(a, "lu_factor");
  return {factor(a, LinalgKind::LuFactor, 0), factor(a, LinalgKind::LuFactor, 1)};
}

// LAPACK's gesv on [A | B] (one linalg op, LinalgKind::Solve, so that its
// derivative is solves too): the batch axes of a and b broadcast, and a
// vector b is one right-hand side.
array solve(const array& a, const array& b, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  check_solve(a, b, "solve");
  Dtype t = promote_types(a.dtype(), b.dtype());
  const bool vector = b.ndim() == 1;
  array A = astype(a, t), B = astype(vector ? expand_dims(b, -1) : b, t);
  Shape batch = broadcast_shapes(Shape(A.shape().begin(), A.shape().end() - 2),
                                 Shape(B.shape().begin(), B.shape().end() - 2));
  auto with_batch = [&](const array& x) {
    Shape full = batch;
    full.push_back(x.shape(-2));
    full.push_back(x.shape(-1));
    return broadcast_to(x, full);
  };
  array x = factor(concatenate({with_batch(A), with_batch(B)}, -1), LinalgKind::Solve, 0);
  return vector ? squeeze(x, -1) : x;
}

array solve_triangular(const array& a, const array& b, bool upper, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  check_solve(a, b, "solve_triangular");
  Dtype t = promote_types(a.dtype(), b.dtype());
  return matmul(tri_inv(astype(a, t), upper), astype(b, t));
}

array cross(const array& a, const array& b, int axis, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  for (const array* x : {&a, &b}) {
    if (axis >= int(x->ndim()) || axis + int(x->ndim()) < 0)
      throw_invalid("linalg::cross", "axis " + std::to_string(axis) + " invalid for array with " +
                                         std::to_string(x->ndim()) + " dimensions.");
    if (x->shape(axis) < 2 || x->shape(axis) > 3)
      throw_invalid("linalg::cross", "The specified axis must have size 2 or 3.");
  }
  const Dtype t = promote_types(a.dtype(), b.dtype());
  // The components along the axis, a missing third one being zero.
  auto components = [&](const array& x) {
    int ax = axis < 0 ? axis + int(x.ndim()) : axis;
    std::vector<array> c = split(astype(x, t), x.shape(axis), ax);
    if (c.size() == 2) c.push_back(zeros_like(c[0]));
    return c;
  };
  std::vector<array> u = components(a), v = components(b);
  const int out_nd = int(std::max(a.ndim(), b.ndim()));
  const int out_axis = axis < 0 ? axis + out_nd : axis;
  array c0 = subtract(multiply(u[1], v[2]), multiply(u[2], v[1]));
  array c1 = subtract(multiply(u[2], v[0]), multiply(u[0], v[2]));
  array c2 = subtract(multiply(u[0], v[1]), multiply(u[1], v[0]));
  return concatenate({c0, c1, c2}, out_axis);
}

std::pair<array, array> eig(const array& a, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  check_eig(a, "eig");
  return {factor(a, LinalgKind::Eig, 0), factor(a, LinalgKind::Eig, 1)};
}

array eigvals(const array& a, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  check_eig(a, "eigvals");
  return factor(a, LinalgKind::Eigvals, 0);
}

array eigvalsh(const array& a, std::string UPLO, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  check_eig(a, "eigvalsh");
  return factor(a, LinalgKind::Eigvalsh, 0, upper_from(UPLO, "eigvalsh"));
}

std::pair<array, array> eigh(const array& a, std::string UPLO, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  check_eig(a, "eigh");
  bool upper = upper_from(UPLO, "eigh");
  return {factor(a, LinalgKind::Eigh, 0, upper), factor(a, LinalgKind::Eigh, 1, upper)};
}

array det(const array& a, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  check_det(a, "det");
  array x = astype(a, detail::at_least_float(a.dtype()));
  if (x.shape(-1) <= 3) return small_det(x);
  auto [sign, logabs] = lu_slogdet(x);
  return multiply(sign, exp(logabs));
}

std::pair<array, array> slogdet(const array& a, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  check_det(a, "slogdet");
  array x = astype(a, detail::at_least_float(a.dtype()));
  if (x.shape(-1) <= 3) {
    array d = small_det(x);
    return {sign(d), log(abs(d))};
  }
  return lu_slogdet(x);
}

}  // namespace kiln::linalg
