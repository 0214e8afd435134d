// kiln::linalg: factorizations checked by their identities (A inv(A) = I,
// Q R = A, U S Vt = A, A V = V diag(w), L L^T = A, L[P] U = A), values
// computed by NumPy (np.linalg, the script below), derivatives against
// central finite differences, vmap against a loop, the interpreter (the
// oracle, in double precision) against the host kernel, the OpenCL device,
// and the errors.
//
// Expected values: /usr/bin/python3 with
//   import numpy as np
//   A = np.array([[4,1,2],[1,5,3],[2,3,6]], float)        # symmetric positive definite
//   B = np.array([[2,-1,0.5],[1,3,2],[0,1,4]], float)     # general
//   M = np.array([[1,2,3],[4,5,6],[7,8,10],[1,0,1]], float)  # 4 x 3
//   T = np.arange(24.).reshape(2,3,4) - 10
//   D4 = np.array([[2,1,0,3],[1,-3,2,1],[0,2,1,-1],[4,1,1,2]], float)
// and the np.linalg call named next to each number list.
#include <gtest/gtest.h>

#include <cmath>
#include <complex>
#include <functional>
#include <limits>
#include <random>
#include <vector>

#include "codegen/executor.h"
#include "frontend/kiln/kiln.h"
#include "ir/interpreter.h"
#include "ir/linalg.h"
#include "ir/type_rules.h"
#include "opencl_test.h"
#include "test_helpers.h"

using namespace kiln;
using kiln_test::array_is;
using kiln_test::throws_invalid;
using kiln_test::values;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

array A_spd(Dtype t = float64) { return array({4., 1., 2., 1., 5., 3., 2., 3., 6.}, {3, 3}, t); }
array B_gen(Dtype t = float64) { return array({2., -1., 0.5, 1., 3., 2., 0., 1., 4.}, {3, 3}, t); }
array M_rect(Dtype t = float64) {
  return array({1., 2., 3., 4., 5., 6., 7., 8., 10., 1., 0., 1.}, {4, 3}, t);
}
array mT(const array& a) { return swapaxes(a, -1, -2); }

// Deterministic values in [-1, 1).
array noise(const Shape& shape, unsigned seed, Dtype t = float64) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<double> u(-1, 1);
  std::vector<double> v(size_t(ir::shape_size(shape)));
  for (double& x : v) x = u(gen);
  return array(v.begin(), shape, t);
}

// max |a - b| <= tol (same shape).
::testing::AssertionResult close(const array& a, const array& b, double tol) {
  if (a.shape() != b.shape())
    return ::testing::AssertionFailure() << "shapes " << kiln_test::detail::shape_str(a.shape()) << " vs "
                                         << kiln_test::detail::shape_str(b.shape());
  std::vector<double> x = values(astype(a, float64)), y = values(astype(b, float64));
  for (size_t i = 0; i < x.size(); ++i)
    if (!(std::abs(x[i] - y[i]) <= tol))
      return ::testing::AssertionFailure() << "element " << i << ": " << x[i] << " vs " << y[i] << " (tol " << tol << ")";
  return ::testing::AssertionSuccess();
}

array identity_like(const array& a) { return eye(a.shape(-1), a.shape(-1), 0, a.dtype()); }

// The loss f (a float64 scalar) at A: its gradient (vjp) and its jvp along
// D both equal the central difference (f(A + hD) - f(A - hD)) / 2h.
void expect_derivatives(const std::function<array(const array&)>& f, const array& A, const array& D,
                        double tol = 1e-6) {
  const double h = 1e-6;
  double fd = (f(A + h * D).item<double>() - f(A - h * D).item<double>()) / (2 * h);
  auto [y, g] = vjp(f, A, array(1.0, float64));
  double via_vjp = sum(g * D).item<double>();
  auto [y2, t] = jvp(f, A, D);
  double via_jvp = t.item<double>();
  EXPECT_NEAR(via_vjp, fd, tol * (1 + std::abs(fd))) << "vjp";
  EXPECT_NEAR(via_jvp, fd, tol * (1 + std::abs(fd))) << "jvp";
}

}  // namespace

// ---- identities and NumPy values ------------------------------------------------

TEST(Linalg, InvTimesMatrixIsIdentity) {
  for (Dtype t : {float32, float64}) {
    array B = B_gen(t);
    array Y = linalg::inv(B);
    EXPECT_EQ(Y.dtype(), t);
    EXPECT_TRUE(close(matmul(B, Y), identity_like(B), t == float32 ? 1e-6 : 1e-14));
    // np.linalg.inv(B)
    EXPECT_TRUE(array_is(Y, t, {3, 3},
                         {0.40816326530612246, 0.18367346938775508, -0.14285714285714285, -0.16326530612244897,
                          0.32653061224489793, -0.14285714285714285, 0.04081632653061224, -0.08163265306122448,
                          0.2857142857142857},
                         t == float32 ? 1e-6 : 1e-14));
  }
  // A batch of 5 x 2 random matrices (made well conditioned).
  array X = noise({5, 2, 4, 4}, 1) + 4 * eye(4, 4, 0, float64);
  EXPECT_TRUE(close(matmul(X, linalg::inv(X)), broadcast_to(eye(4, 4, 0, float64), {5, 2, 4, 4}), 1e-13));
  // Empty batch and 0 x 0 matrices.
  EXPECT_EQ(linalg::inv(zeros({0, 3, 3}, float32)).shape(), (Shape{0, 3, 3}));
  EXPECT_EQ(values(linalg::inv(zeros({2, 0, 0}, float32))).size(), 0u);
}

TEST(Linalg, TriInvReadsOneTriangle) {
  array B = B_gen();
  // np.linalg.inv(np.tril(B)), np.linalg.inv(np.triu(B))
  EXPECT_TRUE(array_is(linalg::tri_inv(B), float64, {3, 3},
                       {0.5, 0.0, 0.0, -0.16666666666666666, 0.3333333333333333, 0.0, 0.041666666666666664,
                        -0.08333333333333333, 0.25},
                       1e-15));
  EXPECT_TRUE(array_is(linalg::tri_inv(B, true), float64, {3, 3},
                       {0.5, 0.16666666666666666, -0.14583333333333331, 0.0, 0.3333333333333333,
                        -0.16666666666666666, 0.0, 0.0, 0.25},
                       1e-15));
}

TEST(Linalg, CholeskyFactorsTheMatrix) {
  for (Dtype t : {float32, float64}) {
    array A = A_spd(t);
    array L = linalg::cholesky(A);
    double tol = t == float32 ? 2e-6 : 1e-14;
    EXPECT_TRUE(close(matmul(L, mT(L)), A, 4 * tol));
    // np.linalg.cholesky(A)
    EXPECT_TRUE(array_is(L, t, {3, 3},
                         {2.0, 0.0, 0.0, 0.5, 2.179449471770337, 0.0, 1.0, 1.1470786693528088, 1.9194297398747862},
                         tol));
    EXPECT_TRUE(close(linalg::cholesky(A, true), mT(L), tol));
    // Only the named triangle is read.
    array junk_upper = where(tri(3, 3, 0, bool_), A, full({3, 3}, 100.0, t));
    EXPECT_TRUE(close(linalg::cholesky(junk_upper), L, tol));
  }
  // cholesky_inv of the factor is the inverse of A.
  array L = linalg::cholesky(A_spd());
  EXPECT_TRUE(close(linalg::cholesky_inv(L), linalg::inv(A_spd()), 1e-14));
  EXPECT_TRUE(close(linalg::cholesky_inv(mT(L), true), linalg::inv(A_spd()), 1e-14));
}

TEST(Linalg, QrOfTallAndWideMatrices) {
  // np.linalg.qr(M)
  auto [Q, R] = linalg::qr(M_rect());
  EXPECT_TRUE(array_is(Q, float64, {4, 3},
                       {-0.12216944435630528, 0.5642764926868793, 0.8122914203647436, -0.48867777742522095,
                        0.23175641663925378, -0.15017152309264198, -0.8551861104941366, -0.10076365940837123,
                        -0.10921565315828474, -0.12216944435630524, -0.7859565433852946, 0.5529042441138181},
                       1e-13));
  EXPECT_TRUE(array_is(R, float64, {3, 3},
                       {-8.18535277187245, -9.529216659791809, -11.972605546917912, 0.0, 1.4812257933030573,
                        1.2897748404271518, 0.0, 0.0, 0.9965928350693491},
                       1e-13));
  // np.linalg.qr(M.T): Q 3 x 3, R 3 x 4.
  auto [Qw, Rw] = linalg::qr(mT(M_rect()));
  EXPECT_EQ(Qw.shape(), (Shape{3, 3}));
  EXPECT_TRUE(array_is(Rw, float64, {3, 4},
                       {-3.7416573867739413, -8.55235974119758, -14.16484582135849, -1.0690449676496976, 0.0,
                        1.963961012123933, 3.4914862437758787, 0.43643578047198495, 0.0, 0.0, 0.4082482904638618,
                        0.8164965809277258},
                       1e-13));
  // Identities on a float32 batch.
  array X = noise({3, 5, 4}, 2, float32);
  auto [Qb, Rb] = linalg::qr(X);
  EXPECT_TRUE(close(matmul(Qb, Rb), X, 1e-5));
  EXPECT_TRUE(close(matmul(mT(Qb), Qb), broadcast_to(eye(4, 4, 0, float32), {3, 4, 4}), 1e-5));
  EXPECT_TRUE(close(tril(Rb, -1), zeros_like(Rb), 0));
}

TEST(Linalg, SvdReconstructsTheMatrix) {
  std::vector<array> usv = linalg::svd(M_rect());
  ASSERT_EQ(usv.size(), 3u);
  EXPECT_EQ(usv[0].shape(), (Shape{4, 4}));
  EXPECT_EQ(usv[2].shape(), (Shape{3, 3}));
  // np.linalg.svd(M, compute_uv=False)
  const std::vector<double> s = {17.45089558463664, 0.9869391657365876, 0.7015656613921292};
  EXPECT_TRUE(array_is(usv[1], float64, {3}, s, 1e-13));
  std::vector<array> only = linalg::svd(M_rect(), false, {});
  ASSERT_EQ(only.size(), 1u);
  EXPECT_TRUE(array_is(only[0], float64, {3}, s, 1e-13));
  array Uk = slice(usv[0], {0, 0}, {4, 3});
  EXPECT_TRUE(close(matmul(Uk * usv[1], usv[2]), M_rect(), 1e-13));
  EXPECT_TRUE(close(matmul(usv[0], mT(usv[0])), eye(4, 4, 0, float64), 1e-14));
  // Wide, batched, float32.
  array X = noise({2, 3, 5}, 3, float32);
  std::vector<array> w = linalg::svd(X);
  array Vk = slice(w[2], {0, 0, 0}, {2, 3, 5});
  EXPECT_TRUE(close(matmul(w[0] * expand_dims(w[1], -2), Vk), X, 1e-5));
}

TEST(Linalg, EighAndEig) {
  for (Dtype t : {float32, float64}) {
    array A = A_spd(t);
    auto [w, V] = linalg::eigh(A);
    double tol = t == float32 ? 1e-5 : 1e-13;
    // np.linalg.eigh(A)[0]
    const std::vector<double> expected = {2.1943971674224096, 3.3867701566075494, 9.418832675970037};
    EXPECT_TRUE(array_is(w, t, {3}, expected, tol));
    EXPECT_TRUE(close(matmul(A, V), V * w, tol * 4));
    EXPECT_TRUE(close(matmul(mT(V), V), identity_like(A), tol));
    EXPECT_TRUE(array_is(linalg::eigvalsh(A, "U"), t, {3}, expected, tol));
  }
  // eig of a general matrix: B V = V diag(w), complex.
  auto [w, V] = linalg::eig(B_gen(float32));
  EXPECT_EQ(w.dtype(), complex64);
  EXPECT_EQ(V.shape(), (Shape{3, 3}));
  std::vector<std::complex<double>> wv = kiln_test::complex_values(w), vv = kiln_test::complex_values(V);
  std::vector<double> b = values(B_gen());
  for (int j = 0; j < 3; ++j)
    for (int i = 0; i < 3; ++i) {
      std::complex<double> bv = 0;
      for (int k = 0; k < 3; ++k) bv += b[size_t(i * 3 + k)] * vv[size_t(k * 3 + j)];
      EXPECT_LT(std::abs(bv - wv[size_t(j)] * vv[size_t(i * 3 + j)]), 1e-5) << i << "," << j;
    }
  // np.linalg.eigvals(B), sorted by (real, imag)
  std::vector<std::complex<double>> ev = kiln_test::complex_values(linalg::eigvals(B_gen()));
  std::sort(ev.begin(), ev.end(), [](auto x, auto y) { return x.real() != y.real() ? x.real() < y.real() : x.imag() < y.imag(); });
  std::vector<std::complex<double>> want = {{2.0257913712845204, -0.9204604047926712},
                                            {2.0257913712845204, 0.9204604047926712},
                                            {4.948417257430959, 0.0}};
  for (size_t i = 0; i < 3; ++i) EXPECT_LT(std::abs(ev[i] - want[i]), 1e-5) << i;
}

TEST(Linalg, LuFactorsWithRowPivoting) {
  array D4 = array({2., 1., 0., 3., 1., -3., 2., 1., 0., 2., 1., -1., 4., 1., 1., 2.}, {4, 4}, float64);
  auto [LU, piv] = linalg::lu_factor(D4);
  // Partial pivoting by hand in NumPy (first largest |a| in the column, as getrf).
  EXPECT_TRUE(array_is(LU, float64, {4, 4},
                       {4.0, 1.0, 1.0, 2.0, 0.25, -3.25, 1.75, 0.5, 0.0, -0.6153846153846154, 2.076923076923077,
                        -0.6923076923076923, 0.5, -0.15384615384615385, -0.11111111111111108, 2.0},
                       1e-14));
  EXPECT_TRUE(array_is(piv, uint32, {4}, {3, 1, 2, 3}));
  for (const array& a : {D4, M_rect(), mT(M_rect()), noise({2, 3, 5, 4}, 4)}) {
    std::vector<array> plu = linalg::lu(a);
    ASSERT_EQ(plu.size(), 3u);
    EXPECT_EQ(plu[0].dtype(), uint32);
    array L = take_along_axis(plu[1], broadcast_to(expand_dims(plu[0], -1), plu[1].shape()), -2);
    EXPECT_TRUE(close(matmul(L, plu[2]), a, 1e-13));
  }
}

TEST(Linalg, SolveAndSolveTriangular) {
  array B = B_gen();
  // np.linalg.solve(B, [1, 2, 3]) and with two right-hand sides
  EXPECT_TRUE(array_is(linalg::solve(B, array({1., 2., 3.})), float64, {3},
                       {0.3469387755102041, 0.06122448979591834, 0.7346938775510204}, 1e-14));
  EXPECT_TRUE(array_is(linalg::solve(B, array({1., 0., 2., 1., 3., -1.}, {3, 2})), float64, {3, 2},
                       {0.3469387755102041, 0.32653061224489793, 0.06122448979591834, 0.4693877551020408,
                        0.7346938775510204, -0.36734693877551017},
                       1e-14));
  // np.linalg.solve(np.tril(B), b), np.linalg.solve(np.triu(B), b)
  EXPECT_TRUE(array_is(linalg::solve_triangular(B, array({1., 2., 3.})), float64, {3}, {0.5, 0.5, 0.625}, 1e-15));
  EXPECT_TRUE(array_is(linalg::solve_triangular(B, array({1., 2., 3.}), true), float64, {3},
                       {0.3958333333333333, 0.16666666666666666, 0.75}, 1e-15));
  // Batched float32: A x = b.
  array X = noise({4, 3, 3}, 5, float32) + 3 * eye(3, 3, 0, float32);
  array b = noise({4, 3, 2}, 6, float32);
  EXPECT_TRUE(close(matmul(X, linalg::solve(X, b)), b, 1e-5));
  // The batch axes broadcast (as matmul's): one matrix against a batch of
  // right-hand sides, a batch of matrices against one vector.
  array many = noise({2, 4, 3, 2}, 7, float32);
  array x1 = linalg::solve(B, many);
  EXPECT_EQ(x1.shape(), (Shape{2, 4, 3, 2}));
  EXPECT_TRUE(close(matmul(astype(B, float32), x1), many, 1e-5));
  array v = array({1.f, -2.f, 0.5f});
  array x2 = linalg::solve(X, v);
  EXPECT_EQ(x2.shape(), (Shape{4, 3}));
  EXPECT_TRUE(close(squeeze(matmul(X, expand_dims(x2, -1)), -1), broadcast_to(v, {4, 3}), 1e-5));
  // Empty right-hand sides and an empty batch.
  EXPECT_EQ(linalg::solve(B, zeros({3, 0}, float64)).shape(), (Shape{3, 0}));
  EXPECT_EQ(linalg::solve(zeros({0, 3, 3}), zeros({0, 3, 1})).shape(), (Shape{0, 3, 1}));
}

// solve is one LAPACK gesv per matrix (not an inverse and a matmul), and
// several outputs of one factorization of one value share one LAPACK run.
TEST(Linalg, OneLapackRunPerFactorization) {
  array X = noise({4, 3, 3}, 8) + 3 * eye(3, 3, 0, float64);
  array b = noise({4, 3, 2}, 9);
  eval(X, b);
  int64_t before = runtime::linalg_factor_calls();
  eval(linalg::solve(X, b));
  EXPECT_EQ(runtime::linalg_factor_calls() - before, 4);
  before = runtime::linalg_factor_calls();
  std::vector<array> usv = linalg::svd(X);
  eval(usv);
  EXPECT_EQ(runtime::linalg_factor_calls() - before, 4);
  EXPECT_TRUE(close(matmul(usv[0] * expand_dims(usv[1], -2), usv[2]), X, 1e-12));
  before = runtime::linalg_factor_calls();
  auto [q, r] = linalg::qr(X);
  auto [w, V] = linalg::eigh(X + mT(X));
  eval(q, r, w, V);
  EXPECT_EQ(runtime::linalg_factor_calls() - before, 8);
  EXPECT_TRUE(close(matmul(q, r), X, 1e-12));
  // Separate evaluations are separate runs.
  before = runtime::linalg_factor_calls();
  eval(linalg::qr(X).first);
  eval(linalg::qr(X).second);
  EXPECT_EQ(runtime::linalg_factor_calls() - before, 8);
  // A sibling's derivative needs the others (qr's vjp needs R): still one run.
  array D = noise({4, 3, 3}, 10);
  before = runtime::linalg_factor_calls();
  eval(vjp([](const array& a) { return linalg::qr(a).first; }, X, D).second);
  int64_t with_grad = runtime::linalg_factor_calls() - before;
  EXPECT_LE(with_grad, 8);  // qr once, R's triangular inverse once
}

TEST(Linalg, VectorAndMatrixNorms) {
  array x = array({3., -4., 0., 1.});
  // np.linalg.norm(x, ord)
  std::vector<std::pair<double, double>> vec = {{0, 3.0}, {1, 8.0}, {2, 5.0990195135927845}, {kInf, 4.0},
                                                {-kInf, 0.0}, {3, 4.514357435474001}, {0.5, 22.392304845413257}};
  for (auto [ord, want] : vec) EXPECT_NEAR(linalg::norm(x, ord).item<float>(), want, 1e-5 * want) << ord;
  EXPECT_EQ(linalg::norm(x, 2.0).dtype(), float32);
  EXPECT_EQ(linalg::norm(array({3, 4}), 0.0).dtype(), float32);  // integers norm to float32
  EXPECT_NEAR(linalg::norm(array({3, 4})).item<float>(), 5.0f, 1e-6);
  // np.linalg.norm(M, ord)
  std::vector<std::pair<double, double>> mat = {{1, 20.0}, {-1, 13.0}, {2, 17.45089558463664},
                                                {-2, 0.7015656613921292}, {kInf, 25.0}, {-kInf, 2.0}};
  for (auto [ord, want] : mat) EXPECT_NEAR(linalg::norm(M_rect(), ord).item<double>(), want, 1e-12) << ord;
  EXPECT_NEAR(linalg::norm(M_rect(), "fro").item<double>(), 17.4928556845359, 1e-12);
  EXPECT_NEAR(linalg::norm(M_rect(), "nuc").item<double>(), 19.139400411765358, 1e-12);
  EXPECT_NEAR(linalg::norm(M_rect()).item<double>(), 17.4928556845359, 1e-12);
  // Axes of a 3-D array, negative and reversed, keepdims.
  array T = reshape(arange(24.0, float64), {2, 3, 4}) - 10;
  EXPECT_TRUE(array_is(linalg::norm(T, "fro", std::vector<int>{0, 2}), float64, {3},
                       {18.65475810617763, 17.776388834631177, 23.2379000772445}, 1e-12));
  EXPECT_TRUE(array_is(linalg::norm(T, kInf, std::vector<int>{2, 0}), float64, {3}, {12.0, 12.0, 14.0}));
  EXPECT_TRUE(array_is(linalg::norm(T, 1.0, std::vector<int>{0, -1}, true), float64, {1, 3, 1}, {12.0, 12.0, 14.0}));
  EXPECT_TRUE(array_is(linalg::norm(T, 3.0, 1), float64, {2, 4},
                       {10.696962482478725, 9.491219958029328, 8.320335292207615, 7.18551615065319,
                        10.696962482478725, 11.937171623689174, 13.207708995578505, 14.503764381334914},
                       1e-12));
  EXPECT_TRUE(array_is(linalg::norm(T, "nuc", std::vector<int>{1, 2}), float64, {2},
                       {21.76317093625896, 30.09378024112003}, 1e-12));
  EXPECT_TRUE(array_is(linalg::norm(T, 2.0, std::vector<int>{2, 1}, true), float64, {2, 1, 1},
                       {19.51819925478182, 28.559517463153057}, 1e-12));
  EXPECT_NEAR(linalg::norm(T).item<double>(), 34.698703145794944, 1e-12);
}

TEST(Linalg, CrossDetSlogdetPinv) {
  // np.cross
  EXPECT_TRUE(array_is(linalg::cross(array({1., 2., 3.}), array({4., 5., 6.})), float32, {3}, {-3, 6, -3}));
  EXPECT_TRUE(array_is(linalg::cross(array({1., 2., 3., 4.}, {2, 2}), array({4., 5., 6., 1., 0., -1.}, {2, 3})),
                       float32, {2, 3}, {12, -6, -3, -4, 3, -4}));
  // Along axis 0, with a 2-component operand broadcast against a 3-component one.
  EXPECT_TRUE(array_is(linalg::cross(array({1., 0., 0., 0., 1., 0.}, {3, 2}), array({0., 1., 0.}, {3, 1}), 0),
                       float32, {3, 2}, {-1, 0, 0, 0, 1, 0}));  // np.cross(a, b, axis=0)
  EXPECT_TRUE(array_is(linalg::cross(array({1, 2}), array({3, 4})), int32, {3}, {0, 0, -2}));
  // np.linalg.det / slogdet
  EXPECT_NEAR(linalg::det(B_gen()).item<double>(), 24.5, 1e-13);
  array D4 = array({2., 1., 0., 3., 1., -3., 2., 1., 0., 2., 1., -1., 4., 1., 1., 2.}, {4, 4}, float64);
  EXPECT_NEAR(linalg::det(D4).item<double>(), 54.0, 1e-12);
  auto [sgn, logabs] = linalg::slogdet(D4);
  EXPECT_EQ(sgn.item<double>(), 1.0);
  EXPECT_NEAR(logabs.item<double>(), 3.9889840465642745, 1e-13);
  auto [sn, ln] = linalg::slogdet(-B_gen());
  EXPECT_EQ(sn.item<double>(), -1.0);
  EXPECT_NEAR(ln.item<double>(), 3.1986731175506815, 1e-13);
  EXPECT_NEAR(linalg::det(-D4).item<double>(), 54.0, 1e-12);  // even order
  array singular = array({1., 2., 3., 4., 2., 4., 6., 8., 0., 1., 0., 1., 1., 1., 1., 1.}, {4, 4});
  auto [s0, l0] = linalg::slogdet(singular);
  EXPECT_EQ(s0.item<double>(), 0.0);
  EXPECT_EQ(l0.item<double>(), -kInf);
  array batch = stack({eye(3, 3, 0, float64) * 2, B_gen()});
  EXPECT_TRUE(array_is(linalg::det(batch), float64, {2}, {8.0, 24.5}, 1e-13));
  EXPECT_EQ(linalg::det(array({1, 2, 3, 4}, {2, 2})).dtype(), float32);
  // np.linalg.pinv(M)
  EXPECT_TRUE(array_is(linalg::pinv(M_rect()), float64, {3, 4},
                       {-0.7945205479452061, -0.054794520547944946, 0.23287671232876714, 0.3835616438356158,
                        -0.328767123287671, 0.2876712328767129, 0.027397260273972324, -1.0136986301369868,
                        0.8150684931506851, -0.15068493150685, -0.10958904109589016, 0.5547945205479463},
                       1e-12));
}

// ---- derivatives ----------------------------------------------------------------------

TEST(LinalgGrad, InvTriInvSolve) {
  array W = noise({3, 3}, 10);
  array D = noise({3, 3}, 11);
  expect_derivatives([&](const array& a) { return sum(W * linalg::inv(a)); }, B_gen(), D);
  expect_derivatives([&](const array& a) { return sum(W * linalg::tri_inv(a)); }, B_gen(), D);
  expect_derivatives([&](const array& a) { return sum(W * linalg::tri_inv(a, true)); }, B_gen(), D);
  array b = array({1., -2., 0.5});
  expect_derivatives([&](const array& a) { return sum(b * linalg::solve(a, b)); }, B_gen(), D);
  // With respect to the right-hand sides, and both at once in a batch.
  array A = B_gen();
  expect_derivatives([&](const array& r) { return sum(W * linalg::solve(A, r)); }, noise({3, 3}, 14), D);
  expect_derivatives([&](const array& r) { return sum(b * linalg::solve(A, r)); }, array({1., -2., 0.5}, float64),
                     array({0.3, -1., 2.}, float64));
  array Xs = noise({2, 3, 3}, 15) + 3 * eye(3, 3, 0, float64);
  array Ds = noise({2, 3, 3}, 16);
  expect_derivatives([&](const array& a) { return sum(square(linalg::solve(a, a * 2.0 + 1.0))); }, Xs, Ds);
  expect_derivatives([&](const array& a) { return sum(linalg::solve_triangular(a, b, true)); }, B_gen(), D);
  // Batched operand.
  array X = noise({2, 3, 3}, 12) + 3 * eye(3, 3, 0, float64);
  expect_derivatives([&](const array& a) { return sum(W * linalg::inv(a)); }, X, noise({2, 3, 3}, 13));
}

TEST(LinalgGrad, CholeskyAndEighTakeSymmetricPerturbations) {
  array W = noise({3, 3}, 20);
  array R = noise({3, 3}, 21);
  array D = R + mT(R);  // symmetric: the convention's derivative is exact along it
  for (bool upper : {false, true})
    expect_derivatives([&](const array& a) { return sum(W * linalg::cholesky(a, upper)); }, A_spd(), D);
  expect_derivatives([&](const array& a) { return sum(array({1., -2., 3.}) * linalg::eigvalsh(a)); }, A_spd(), D);
  expect_derivatives([&](const array& a) { return sum(W * linalg::eigh(a).first); }, A_spd(), D);
  // Eigenvectors up to sign: a loss in V * V does not see the sign.
  expect_derivatives([&](const array& a) { auto V = linalg::eigh(a).second; return sum(W * V * V); }, A_spd(), D);
  // The gradient itself is symmetric.
  auto [y, g] = vjp([&](const array& a) { return sum(W * linalg::cholesky(a)); }, A_spd(), array(1.0, float64));
  EXPECT_TRUE(close(g, mT(g), 1e-12));
}

TEST(LinalgGrad, QrSvdNormsDet) {
  array D = noise({4, 3}, 30);
  array Wq = noise({4, 3}, 31), Wr = noise({3, 3}, 32);
  expect_derivatives([&](const array& a) { return sum(Wq * linalg::qr(a).first); }, M_rect(), D);
  expect_derivatives([&](const array& a) { return sum(Wr * linalg::qr(a).second); }, M_rect(), D);
  expect_derivatives([&](const array& a) { return sum(Wr * linalg::qr(a).second); }, B_gen(), noise({3, 3}, 33));
  // Singular values of a rectangular matrix; U and Vt of a square one (up to sign).
  expect_derivatives([&](const array& a) { return sum(array({1., 2., -1.}) * linalg::svd(a, false, {})[0]); },
                     M_rect(), D);
  expect_derivatives([&](const array& a) { return sum(array({1., 2., -1.}) * linalg::svd(a)[1]); }, mT(M_rect()),
                     mT(D));
  array W = noise({3, 3}, 34), D3 = noise({3, 3}, 35);
  expect_derivatives([&](const array& a) { auto U = linalg::svd(a)[0]; return sum(W * U * U); }, B_gen(), D3);
  expect_derivatives([&](const array& a) { auto V = linalg::svd(a)[2]; return sum(W * V * V); }, B_gen(), D3);
  expect_derivatives([&](const array& a) { return linalg::norm(a, "nuc"); }, M_rect(), D);
  expect_derivatives([&](const array& a) { return linalg::norm(a, 2.0); }, M_rect(), D);
  expect_derivatives([&](const array& a) { return sum(W * linalg::pinv(a)); }, B_gen(), D3);
  expect_derivatives([&](const array& a) { return linalg::det(a); }, B_gen(), D3);
  expect_derivatives([&](const array& a) { return sum(linalg::cross(a, B_gen())); }, B_gen(), D3);
}

TEST(LinalgGrad, UnsupportedDerivativesSayWhy) {
  EXPECT_TRUE(throws_invalid([] { grad([](const array& a) { return sum(linalg::qr(a).first); })(mT(M_rect())); },
                             "[linalg::qr]"));
  EXPECT_TRUE(throws_invalid([] { grad([](const array& a) { return sum(linalg::svd(a)[0]); })(M_rect()); },
                             "[linalg::svd]"));
  EXPECT_TRUE(throws_invalid([] { grad([](const array& a) { return sum(linalg::lu_factor(a).first); })(B_gen()); },
                             "[linalg::lu_factor]"));
}

// ---- vmap, compile, devices ----------------------------------------------------------

TEST(LinalgVmap, MatchesALoop) {
  array X = noise({4, 3, 3}, 40) + 3 * eye(3, 3, 0, float64);
  auto loop = [&](const std::function<array(const array&)>& f, const array& xs, int axis) {
    std::vector<array> rows;
    for (int i = 0; i < xs.shape(axis); ++i) rows.push_back(f(take(xs, i, axis)));
    return stack(rows);
  };
  std::vector<std::function<array(const array&)>> fs = {
      [](const array& a) { return linalg::inv(a); },
      [](const array& a) { return linalg::qr(a).second; },
      [](const array& a) { return linalg::eigvalsh(a + mT(a)); },
      [](const array& a) { return linalg::svd(a, false, {})[0]; },
      [](const array& a) { return linalg::lu_factor(a).first; },
      [](const array& a) { return linalg::norm(a, "nuc"); },
      [](const array& a) { return linalg::solve(a, array({1., -2., 0.5})); },
      [](const array& a) { return linalg::solve(a, a * a); },
  };
  for (size_t i = 0; i < fs.size(); ++i) {
    EXPECT_TRUE(close(vmap(fs[i])(X), loop(fs[i], X, 0), 1e-12)) << i;
    array Xt = moveaxis(X, 0, 2);  // the batch between the matrix axes
    EXPECT_TRUE(close(vmap(fs[i], 2)(Xt), loop(fs[i], Xt, 2), 1e-12)) << i;
  }
  // A batched operand of an already batched op: the batch axis stays leading.
  array Y = noise({2, 4, 3, 3}, 41) + 3 * eye(3, 3, 0, float64);
  EXPECT_TRUE(close(vmap([](const array& a) { return linalg::inv(a); }, 1)(Y),
                    moveaxis(linalg::inv(Y), 1, 0), 1e-12));
}

TEST(Linalg, ComposesWithCompileAndGradOfVmap) {
  auto f = compile([](const array& a) { return linalg::inv(a) + linalg::cholesky(a); });
  EXPECT_TRUE(close(f(A_spd()), linalg::inv(A_spd()) + linalg::cholesky(A_spd()), 1e-14));
  auto g = grad([](const array& a) { return sum(vmap([](const array& m) { return linalg::inv(m); })(a)); });
  array X = noise({2, 3, 3}, 50) + 3 * eye(3, 3, 0, float64);
  auto h = grad([](const array& a) { return sum(linalg::inv(a)); });
  EXPECT_TRUE(close(g(X), h(X), 1e-12));
}

TEST(Linalg, RunsOnTheHostForAnOpenCLStream) {
  REQUIRE_OPENCL();
  array X = noise({3, 4, 4}, 60, float32) + 4 * eye(4, 4, 0, float32);
  array on_gpu = linalg::inv(X, Device::gpu) + 1;
  array on_cpu = linalg::inv(X, Device::cpu) + 1;
  EXPECT_TRUE(close(on_gpu, on_cpu, 1e-6));
  auto [Q, R] = linalg::qr(X, Device::gpu);
  EXPECT_TRUE(close(matmul(Q, R, Device::gpu), X, 1e-5));
}

// The host kernel (operand precision, parallel) against the interpreter
// (the oracle: LAPACK in double, one matrix at a time), every kind and output.
TEST(Linalg, HostKernelMatchesTheInterpreter) {
  using namespace kiln::ir;
  array spd = noise({5, 4, 4}, 70, float32);
  spd = matmul(spd, mT(spd)) + 4 * eye(4, 4, 0, float32);
  array rect = noise({5, 4, 3}, 71, float32);
  for (int kind = 0; kind < runtime::kNumLinalgKinds; ++kind) {
    LinalgKind k = LinalgKind(kind);
    const bool square = k != LinalgKind::Qr && k != LinalgKind::Svd && k != LinalgKind::SvdValues &&
                        k != LinalgKind::LuFactor;
    array in = k == LinalgKind::Solve ? concatenate({spd, rect}, -1) : square ? spd : rect;
    Tensor t{Type{float32, in.shape()}, runtime::allocate(in.nbytes())};
    std::memcpy(t.buffer->data(), in.data<float>(), in.nbytes());
    for (int out = 0; out < runtime::linalg_num_outputs(k); ++out) {
      Function f;
      int x = f.add_input(t.type);
      Attrs attrs = linalg_attrs(k, out, kind == int(LinalgKind::Cholesky));
      f.outputs = {f.add_op(make_op(OpKind::Linalg, {x}, infer_type(OpKind::Linalg, {t.type}, attrs, {}), attrs))};
      Tensor want = interpret(f, {t}).at(0);
      Tensor got = codegen::execute(f, {t}).at(0);
      ASSERT_EQ(got.type, want.type) << linalg_kind_name(k) << " " << out;
      // Eigenvectors and singular vectors are unique up to sign only, and
      // float32 and float64 LAPACK may pick different ones.
      const bool up_to_sign = (k == LinalgKind::Eig || k == LinalgKind::Eigh) && out == 1;
      for (int64_t i = 0; i < want.type.size(); ++i) {
        std::complex<double> a = load_c128(want.type.dtype, got.buffer->data(), i);
        std::complex<double> b = load_c128(want.type.dtype, want.buffer->data(), i);
        if (up_to_sign) a = std::abs(a), b = std::abs(b);
        ASSERT_LT(std::abs(a - b), 1e-4 * (1 + std::abs(b))) << linalg_kind_name(k) << " output " << out << " element " << i;
      }
    }
  }
}

// ---- errors ---------------------------------------------------------------------------

TEST(LinalgErrors, ShapesDtypesAndArguments) {
  array v = array({1.f, 2.f});
  array rect = zeros({2, 3}, float32);
  EXPECT_TRUE(throws_invalid([&] { linalg::inv(v); }, "[linalg::inv] Arrays must have >= 2 dimensions. Received array with 1 dimensions."));
  EXPECT_TRUE(throws_invalid([&] { linalg::inv(rect); }, "[linalg::inv] Inverses are only defined for square matrices."));
  EXPECT_TRUE(throws_invalid([&] { linalg::tri_inv(rect); }, "[linalg::inv] Inverses"));
  EXPECT_TRUE(throws_invalid([&] { linalg::inv(array({1, 2, 3, 4}, {2, 2})); },
                             "[linalg::inv] Arrays must have type float32 or float64. Received array with type int32."));
  EXPECT_TRUE(throws_invalid([&] { linalg::cholesky(rect); }, "[linalg::cholesky] Cholesky decomposition is only defined for square matrices."));
  EXPECT_TRUE(throws_invalid([&] { linalg::qr(array({1.f})); }, "[linalg::qr] Arrays must have >= 2 dimensions"));
  EXPECT_TRUE(throws_invalid([&] { linalg::svd(v); }, "[linalg::svd] Input array must have >= 2 dimensions"));
  EXPECT_TRUE(throws_invalid([&] { linalg::eigh(rect); }, "[linalg::eigh] Only defined for square matrices."));
  EXPECT_TRUE(throws_invalid([&] { linalg::eigh(A_spd(), "X"); }, "[linalg::eigh] UPLO"));
  EXPECT_TRUE(throws_invalid([&] { linalg::eig(zeros({2, 2}, float16)); }, "[linalg::eig] Arrays must have type float32, float64 or complex64."));
  EXPECT_TRUE(throws_invalid([&] { linalg::solve(rect, v); }, "[linalg::solve] First input must be a square matrix."));
  EXPECT_TRUE(throws_invalid([&] { linalg::solve(B_gen(), v); }, "[linalg::solve] Last dimension of first input"));
  EXPECT_TRUE(throws_invalid([&] { linalg::solve(array({1, 0, 0, 1}, {2, 2}), array({1, 2})); },
                             "[linalg::solve] Input arrays must promote to float32 or float64."));
  EXPECT_TRUE(throws_invalid([&] { linalg::cross(array({1., 2., 3., 4.}), array({1., 2., 3.})); },
                             "[linalg::cross] The specified axis must have size 2 or 3."));
  EXPECT_TRUE(throws_invalid([&] { linalg::cross(v, v, 1); }, "[linalg::cross] axis 1 invalid for array with 1 dimensions."));
  EXPECT_TRUE(throws_invalid([&] { linalg::det(rect); }, "[linalg::det] Only defined for square matrices."));
  EXPECT_TRUE(throws_invalid([&] { linalg::norm(zeros({2, 2, 2}), std::vector<int>{0, 1, 2}); },
                             "[linalg::norm] Received too many axes for norm."));
  EXPECT_TRUE(throws_invalid([&] { linalg::norm(v, "fro"); }, "[linalg::norm] Norm 'fro' only supported for matrices, but received 1 axis/axes."));
  EXPECT_TRUE(throws_invalid([&] { linalg::norm(rect, "max"); }, "[linalg::norm] Invalid ord value 'max' for matrix norm."));
  EXPECT_TRUE(throws_invalid([&] { linalg::norm(rect, 3.0); }, "[linalg::norm] Invalid ord 3 for matrix norm."));
}

TEST(LinalgErrors, SingularAndIndefiniteMatricesFailWhenEvaluated) {
  array singular = array({1.f, 2.f, 2.f, 4.f}, {2, 2});
  auto runtime_error_with = [](const std::function<void()>& f, const std::string& what) {
    try {
      f();
    } catch (const std::runtime_error& e) {
      return std::string(e.what()).find(what) != std::string::npos;
    }
    return false;
  };
  EXPECT_TRUE(runtime_error_with([&] { eval(linalg::inv(singular)); }, "[linalg::inv] The matrix is singular"));
  EXPECT_TRUE(runtime_error_with([&] { eval(linalg::solve(singular, array({1.f, 2.f}))); },
                                 "[linalg::solve] The matrix is singular"));
  EXPECT_TRUE(runtime_error_with([&] { eval(linalg::inv(stack({eye(2, 2, 0, float32), singular}))); }, "singular"));
  EXPECT_TRUE(runtime_error_with([&] { eval(linalg::tri_inv(array({0.f, 0.f, 1.f, 1.f}, {2, 2}))); },
                                 "[linalg::tri_inv] The matrix is singular"));
  EXPECT_TRUE(runtime_error_with([&] { eval(linalg::cholesky(array({1.f, 2.f, 2.f, 1.f}, {2, 2}))); },
                                 "[linalg::cholesky] The matrix is not positive definite"));
  // Iterative solvers are not run on inf/nan: every output is nan.
  array bad = array({1.f, NAN, 2.f, 3.f}, {2, 2});
  for (const array& r : {linalg::svd(bad)[1], linalg::eigvalsh(bad), linalg::eigh(bad).second})
    for (double x : values(r)) EXPECT_TRUE(std::isnan(x));
  for (auto z : kiln_test::complex_values(linalg::eigvals(bad))) EXPECT_TRUE(std::isnan(z.real()));
  // lu_factor of a singular matrix is a factorization, not an error.
  EXPECT_NO_THROW(eval(linalg::lu_factor(singular).first));
}
