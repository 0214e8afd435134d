// Derivatives through complex values: the fft op's vjp and jvp rules (every
// transform, with n padding/cropping and axes), the complex elementwise
// rules, real/imag/conjugate, against central finite differences element
// by element, known closed forms (Parseval), PyTorch's autograd, JAX's
// convention for complex inputs, and vmap of the gradients against a loop.
#include <gtest/gtest.h>

#include <cmath>
#include <complex>
#include <functional>

#include "test_helpers.h"

using namespace kiln;
using kiln_test::array_is;
using kiln_test::complex_values;
using kiln_test::throws_invalid;
using kiln_test::values;

namespace {

using Loss = std::function<array(const array&)>;

array real_noise(const Shape& s, uint32_t seed) {
  int64_t n = 1;
  for (int d : s) n *= d;
  auto v = kiln_test::noise(n, seed);
  return array(v.begin(), s, float32);
}

// x + i y from two real arrays (differentiable in both).
array make_complex(const array& x, const array& y) {
  return add(astype(x, complex64), multiply(astype(y, complex64), array(complex64_t(0.0f, 1.0f))));
}

// The loss f (a float32 scalar) at x, element by element: its gradient and
// its jvp along each unit vector against central differences with step h.
// The losses are smooth at x, and float32 rounding of the loss limits the
// difference quotients to about 1e-7 |f| / h.
void expect_matches_differences(const Loss& f, const array& x, double h = 1e-2, double tol = 5e-3) {
  ASSERT_EQ(x.dtype(), float32);
  std::vector<double> g = values(grad(f)(x));
  std::vector<double> xv = values(x);
  ASSERT_EQ(g.size(), xv.size());
  for (size_t i = 0; i < xv.size(); ++i) {
    std::vector<float> e(xv.size(), 0.0f);
    e[i] = 1.0f;
    array unit(e.begin(), x.shape(), float32);
    double up = f(x + float(h) * unit).item<float>(), down = f(x - float(h) * unit).item<float>();
    double fd = (up - down) / (2 * h);
    EXPECT_NEAR(g[i], fd, tol * (1 + std::abs(fd))) << "grad, element " << i;
    double t = jvp(f, x, unit).second.item<float>();
    EXPECT_NEAR(t, fd, tol * (1 + std::abs(fd))) << "jvp, element " << i;
  }
}

::testing::AssertionResult near(const std::vector<double>& got, const std::vector<double>& want, double tol) {
  if (got.size() != want.size()) return ::testing::AssertionFailure() << got.size() << " values, want " << want.size();
  for (size_t i = 0; i < got.size(); ++i)
    if (std::abs(got[i] - want[i]) > tol * (1 + std::abs(want[i])))
      return ::testing::AssertionFailure() << "element " << i << ": " << got[i] << " vs " << want[i];
  return ::testing::AssertionSuccess();
}

array sum_abs2(const array& z) { return sum(square(abs(z))); }

}  // namespace

// Parseval: sum |fft(x)|^2 = n sum x^2, so the gradient is 2 n x, for any
// transform length n after padding or cropping (of the kept part).
TEST(FftGrad, ParsevalClosedForm) {
  array x = real_noise({8}, 1);
  std::vector<double> xv = values(x);
  auto g = grad([](const array& v) { return sum_abs2(fft::fft(v)); })(x);
  std::vector<double> want;
  for (double v : xv) want.push_back(2 * 8 * v);
  EXPECT_TRUE(near(values(g), want, 1e-5));
  // ifft divides by n: sum |ifft(x)|^2 = sum x^2 / n.
  g = grad([](const array& v) { return sum_abs2(fft::ifft(v)); })(x);
  want.clear();
  for (double v : xv) want.push_back(2 * v / 8);
  EXPECT_TRUE(near(values(g), want, 1e-5));
  // Cropped to 5: only the first 5 elements count, at 2 * 5 * x.
  g = grad([](const array& v) { return sum_abs2(fft::fft(v, 5, 0)); })(x);
  want.clear();
  for (size_t i = 0; i < xv.size(); ++i) want.push_back(i < 5 ? 2 * 5 * xv[i] : 0.0);
  EXPECT_TRUE(near(values(g), want, 1e-5));
}

TEST(FftGrad, ComplexTransformsMatchDifferences) {
  array x = real_noise({2, 6}, 2);
  array h = make_complex(real_noise({6}, 3), real_noise({6}, 4));
  // A filter in the frequency domain, then back.
  expect_matches_differences([h](const array& v) { return sum(real(fft::ifft(multiply(fft::fft(v), h)))); }, x);
  expect_matches_differences(
      [h](const array& v) { return sum(imag(fft::ifft(multiply(fft::fft(v), h))) * real(fft::fft(v))); }, x);
  // Padding and cropping, another axis, a nonlinear loss.
  expect_matches_differences([](const array& v) { return sum(abs(fft::fft(v, 9, -1))); }, x);
  expect_matches_differences([](const array& v) { return sum(abs(fft::ifft(v, 4, 1))); }, x);
  expect_matches_differences([](const array& v) { return sum(abs(fft::fft(v, 3, 0))); }, x);
}

TEST(FftGrad, RealTransformsMatchDifferences) {
  array x = real_noise({7}, 5), y = real_noise({8}, 6);
  array w = real_noise({11}, 7);
  for (const array& v : {x, y}) {
    // rfft of odd and even lengths, padded (to 11, 12) and cropped (to 5, 6).
    expect_matches_differences([](const array& a) { return sum(abs(fft::rfft(a))); }, v);
    expect_matches_differences([](const array& a) { return sum(abs(fft::rfft(a, 11, 0))); }, v);
    expect_matches_differences([](const array& a) { return sum(abs(fft::rfft(a, 6, 0))); }, v);
    expect_matches_differences([](const array& a) { return sum(abs(fft::rfft(a, 5, 0))); }, v);
  }
  // irfft of complex bins built from real numbers: odd and even n, fewer
  // and more bins than n needs. The imaginary parts of the zero (and, for
  // even n, n/2) bins do not matter, so their gradient must be 0.
  array parts = real_noise({2, 5}, 8);
  for (int n : {8, 9, 6, 11}) {
    Loss f = [n, w](const array& p) {
      array z = make_complex(take(p, array(0), 0), take(p, array(1), 0));
      array r = fft::irfft(z, n, -1);
      return sum(r * slice(w, {0}, {n}));
    };
    expect_matches_differences(f, parts);
    std::vector<double> g = values(grad(f)(parts));
    EXPECT_NEAR(g[5], 0.0, 1e-6) << n;  // imag of bin 0
    if (n == 8) {
      EXPECT_NEAR(g[9], 0.0, 1e-6);  // imag of bin 4 = n/2
    }
  }
}

TEST(FftGrad, MultiAxisTransformsMatchDifferences) {
  array x = real_noise({3, 2, 4}, 9);
  array w = real_noise({4, 2, 6}, 10);
  expect_matches_differences([](const array& v) { return sum(abs(fft::fft2(v, {4, 6}, {0, 2}))); }, x);
  expect_matches_differences([](const array& v) { return sum(abs(fft::ifftn(v, {2, 3, 5}, {1, 0, 2}))); }, x);
  expect_matches_differences([](const array& v) { return sum(abs(fft::rfft2(v, {2, 5}, {0, 2}))); }, x);
  expect_matches_differences([](const array& v) { return sum(abs(fft::rfftn(v))); }, x);
  // irfftn over two axes, with n cropping one and padding the other.
  expect_matches_differences(
      [w](const array& v) {
        array z = make_complex(v, square(v));
        return sum(fft::irfft2(z, {4, 6}, {0, 2}) * w);
      },
      x);
  expect_matches_differences(
      [](const array& v) { return sum(square(fft::irfftn(fft::rfftn(v) * fft::rfftn(square(v))))); }, x);
}

// The same losses through torch.fft and autograd, in float64:
//   import torch
//   x = torch.tensor([0.5, -1.2, 0.3, 2.0, -0.7, 1.1, 0.9, -0.4], dtype=torch.float64, requires_grad=True)
//   H = torch.tensor([1+0.5j, -0.3+1j, 0.7-0.2j, 0.1+0.4j, -0.6-0.8j], dtype=torch.complex128)
//   w = torch.tensor([1., -2., 0.5, 3., -1., 0.25, 2., -0.5], dtype=torch.float64)
//   g1, = torch.autograd.grad(torch.fft.rfft(x, n=10).abs().sum(), x)
//   g2, = torch.autograd.grad((torch.fft.irfft(torch.fft.rfft(x) * H, n=8) * w).sum(), x)
//   g3, = torch.autograd.grad(torch.fft.fft2(x.reshape(2, 4).to(torch.complex128), s=(3, 6)).abs().sum(), x)
TEST(FftGrad, MatchesTorchAutograd) {
  array x = array({0.5f, -1.2f, 0.3f, 2.0f, -0.7f, 1.1f, 0.9f, -0.4f});
  array H = array({complex64_t(1, 0.5f), complex64_t(-0.3f, 1), complex64_t(0.7f, -0.2f), complex64_t(0.1f, 0.4f),
                   complex64_t(-0.6f, -0.8f)});
  array w = array({1.f, -2.f, 0.5f, 3.f, -1.f, 0.25f, 2.f, -0.5f});
  auto g1 = grad([](const array& v) { return sum(abs(fft::rfft(v, 10, -1))); })(x);
  EXPECT_TRUE(near(values(g1),
                   {-0.189363720186112, -0.8006398300519333, -0.15699086327818582, 5.006012295386487,
                    -0.06404867013038877, 3.239196645064048, 0.2066327203827924, 0.8347245607772393},
                   1e-5));
  auto g2 = grad([&](const array& v) { return sum(fft::irfft(fft::rfft(v) * H, 8, -1) * w); })(x);
  EXPECT_TRUE(near(values(g2),
                   {-0.1527728175868495, 0.3371004678941935, -0.2114407447862452, 1.0149810601229374,
                    -0.5972271824131505, -0.4996004678941934, 2.0614407447862453, 1.2975189398770626},
                   1e-5));
  auto g3 = grad([](const array& v) { return sum(abs(fft::fft2(reshape(v, {2, 4}), {3, 6}, {-2, -1}))); })(x);
  EXPECT_TRUE(near(values(g3),
                   {2.925184661853796, -5.980975615733473, 3.1021079018440547, 11.84903716012489,
                    -3.454966758139511, 7.154052513867585, 2.065535527815034, 2.0511435747555704},
                   1e-5));
}

// The jvp of a transform is the transform of the tangent (all are linear),
// complex outputs included.
TEST(FftGrad, JvpOfComplexOutputs) {
  array x = real_noise({6}, 11), t = real_noise({6}, 12);
  auto [y, ty] = jvp([](const array& v) { return fft::rfft(v, 8, -1); }, x, t);
  EXPECT_TRUE(kiln_test::complex_array_is(ty, {5}, complex_values(fft::rfft(t, 8, -1)), 1e-5));
  array z = make_complex(x, t);
  auto [y2, tz] = jvp([](const array& v) { return fft::fft2(reshape(v, {2, 3})); }, z, z);
  EXPECT_TRUE(kiln_test::complex_array_is(tz, {2, 3}, complex_values(fft::fft2(reshape(z, {2, 3}))), 1e-5));
}

// Complex inputs follow JAX: the gradient of a real loss L at z = x + iy is
// dL/dx - i dL/dy, e.g. 2 conj(z) for |z|^2 (PyTorch gives 2 z).
TEST(FftGrad, ComplexInputsFollowJax) {
  array z = make_complex(real_noise({5}, 13), real_noise({5}, 14));
  auto g = grad([](const array& v) { return sum_abs2(v); })(z);
  EXPECT_EQ(g.dtype(), complex64);
  auto zv = complex_values(z);
  std::vector<std::complex<double>> want;
  for (auto c : zv) want.push_back(2.0 * std::conj(c));
  EXPECT_TRUE(kiln_test::complex_array_is(g, {5}, want, 1e-5));
  // Through a transform: sum |fft(z)|^2 = 5 sum |z|^2.
  g = grad([](const array& v) { return sum_abs2(fft::fft(v)); })(z);
  for (auto& c : want) c *= 5.0;
  EXPECT_TRUE(kiln_test::complex_array_is(g, {5}, want, 1e-4));
  // vjp of a holomorphic map is multiplication by its derivative (no conjugate).
  auto [out, ct] = vjp([](const array& v) { return multiply(v, v); }, z, ones({5}, complex64));
  want.clear();
  for (auto c : zv) want.push_back(2.0 * c);
  EXPECT_TRUE(kiln_test::complex_array_is(ct, {5}, want, 1e-5));
  // A complex loss has no gradient (take a real part first).
  EXPECT_TRUE(throws_invalid([&] { grad([](const array& v) { return sum(v); })(z); },
                             "[grad] The function must return a real scalar"));
}

// Each complex elementwise op against differences, on z = x + iy built from
// real inputs (abs of a result makes the loss real).
TEST(FftGrad, ComplexElementwiseRules) {
  array p = real_noise({2, 4}, 15) * 0.5f + 1.5f;  // real parts away from 0: log, sqrt, division
  auto z_of = [](const array& v) { return make_complex(take(v, array(0), 0), take(v, array(1), 0)); };
  std::vector<std::function<array(const array&)>> maps = {
      [](const array& z) { return multiply(z, z + 1.0f); },
      [](const array& z) { return divide(z, square(z) + 2.0f); },
      [](const array& z) { return exp(z) - z; },
      [](const array& z) { return log(z); },
      [](const array& z) { return sqrt(z); },
      [](const array& z) { return rsqrt(z); },
      [](const array& z) { return sin(z) + cos(z); },
      [](const array& z) { return tanh(z) * sinh(z) + cosh(z); },
      [](const array& z) { return tan(z * 0.3f); },
      [](const array& z) { return -conjugate(z) * z; },
      [](const array& z) { return power(z, z * 0.5f); },
      [](const array& z) { return make_complex(imag(z), real(z)) * z; },
      [](const array& z) { return astype(abs(z), complex64) * z; },
  };
  for (size_t k = 0; k < maps.size(); ++k) {
    SCOPED_TRACE("map " + std::to_string(k));
    auto m = maps[k];
    expect_matches_differences([&](const array& v) { return sum(abs(m(z_of(v)))); }, p);
  }
  // Reductions, movement and select of complex values.
  expect_matches_differences(
      [&](const array& v) {
        array z = z_of(v);
        array s = concatenate({sum(z, 0, true), z * 2.0f});
        return sum(abs(where(array({true, false, true, true, false}), s, slice(concatenate({z, z}), {1}, {6}))));
      },
      p);
}

TEST(FftGrad, RealImagConjugate) {
  array z = make_complex(array({1.5f, -2.0f, 0.0f}), array({0.25f, 3.0f, -1.0f}));
  EXPECT_TRUE(array_is(real(z), float32, {3}, {1.5, -2.0, 0.0}));
  EXPECT_TRUE(array_is(imag(z), float32, {3}, {0.25, 3.0, -1.0}));
  EXPECT_TRUE(kiln_test::complex_array_is(conjugate(z), {3}, {{1.5, -0.25}, {-2.0, -3.0}, {0, 1}}, 0));
  // Rank 0, empty, infinities and NaN kept bit for bit.
  array s = array(complex64_t(INFINITY, NAN));
  EXPECT_EQ(real(s).shape(), Shape{});
  EXPECT_TRUE(std::isinf(real(s).item<float>()));
  EXPECT_TRUE(std::isnan(imag(s).item<float>()));
  EXPECT_EQ(conjugate(zeros({0, 3}, complex64)).shape(), (Shape{0, 3}));
  EXPECT_EQ(real(zeros({2, 0}, complex64)).shape(), (Shape{2, 0}));
  // Real arrays: themselves, zeros, themselves (MLX).
  array r = array({1, 2});
  EXPECT_TRUE(array_is(real(r), int32, {2}, {1, 2}));
  EXPECT_TRUE(array_is(imag(r), int32, {2}, {0, 0}));
  EXPECT_TRUE(array_is(conjugate(r), int32, {2}, {1, 2}));
  // Their derivatives: d real(x + iy)/dx = 1, d imag/dy = 1, conj flips y.
  array x = real_noise({3}, 16);
  expect_matches_differences([](const array& v) { return sum(real(make_complex(v, square(v))) * v); }, x);
  expect_matches_differences([](const array& v) { return sum(imag(make_complex(v, square(v))) * v); }, x);
  expect_matches_differences([](const array& v) { return sum(imag(conjugate(make_complex(exp(v), v))) * v); }, x);
}

TEST(FftGrad, VmapOfGradMatchesALoop) {
  array xs = real_noise({4, 6}, 17);
  Loss f = [](const array& v) { return sum(abs(fft::rfft(v, 8, -1))) + sum(real(fft::ifft(fft::fft(v) * v))); };
  array got = vmap(grad(f), 0, 0)(xs);
  ASSERT_EQ(got.shape(), (Shape{4, 6}));
  for (int i = 0; i < 4; ++i) {
    array want = grad(f)(reshape(slice(xs, {i, 0}, {i + 1, 6}), {6}));
    EXPECT_TRUE(near(values(reshape(slice(got, {i, 0}, {i + 1, 6}), {6})), values(want), 1e-5)) << i;
  }
  // Mapped along axis 1, with a 2-D transform inside.
  array x3 = real_noise({3, 5, 4}, 18);
  Loss f2 = [](const array& v) { return sum(fft::irfft2(fft::rfft2(v) * fft::rfft2(square(v)), {3, 4}, {0, 1})); };
  array got2 = vmap(grad(f2), 1, 1)(x3);
  for (int i = 0; i < 5; ++i) {
    array want = grad(f2)(reshape(slice(x3, {0, i, 0}, {3, i + 1, 4}), {3, 4}));
    EXPECT_TRUE(near(values(reshape(slice(got2, {0, i, 0}, {3, i + 1, 4}), {3, 4})), values(want), 1e-5)) << i;
  }
}

TEST(FftGrad, CompiledGradMatches) {
  array x = real_noise({8}, 19);
  Loss f = [](const array& v) { return sum(abs(fft::rfft(v))); };
  auto g = compile(grad(f));
  EXPECT_TRUE(near(values(g(x)), values(grad(f)(x)), 1e-6));
}
