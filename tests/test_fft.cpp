// kiln::fft (frontend/fft.h) and the fft op's host kernel: values against
// NumPy (fixtures below, with the snippet that made them), the fast kernel
// against the reference interpreter's O(n^2) DFT for many lengths (powers
// of two, smooth, prime: Bluestein; 1), round trips, long single rows (the
// stage-parallel path) against directly summed bins, strided axes,
// padding and cropping, shifts, vmap, compile, and MLX's errors. Their
// derivatives: test_fft_grad.cpp.
#include <gtest/gtest.h>

#include <cmath>
#include <complex>
#include <cstring>
#include <numbers>

#include "ir/interpreter.h"
#include "ir/type_rules.h"
#include "test_helpers.h"

using namespace kiln;
using kiln_test::complex_array_is;
using kiln_test::complex_values;
using kiln_test::throws_invalid;
using kiln_test::values;
using cd = std::complex<double>;

namespace {

// Deterministic pseudo-random values in [-1, 1).
std::vector<float> noise(size_t n, uint64_t salt) {
  std::vector<float> v(n);
  uint64_t h = 0x9E3779B97F4A7C15ull * (salt + 1);
  for (auto& x : v) {
    h ^= h << 13, h ^= h >> 7, h ^= h << 17;
    x = float(double(h >> 11) / double(1ull << 53) * 2 - 1);
  }
  return v;
}

array real_noise(const Shape& s, uint64_t salt) {
  size_t n = 1;
  for (int d : s) n *= size_t(d);
  auto v = noise(n, salt);
  return array(v.begin(), s, float32);
}

array complex_noise(const Shape& s, uint64_t salt) {
  size_t n = 1;
  for (int d : s) n *= size_t(d);
  auto re = noise(n, salt), im = noise(n, salt + 1000);
  std::vector<complex64_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = {re[i], im[i]};
  return array(v.begin(), s, complex64);
}

// The reference interpreter's fft op (a DFT by its definition, in double)
// on x, as doubles (complex or real).
std::vector<cd> reference(const array& x, const std::vector<int64_t>& axes, bool inverse, bool real, int64_t n) {
  ir::Attrs attrs{{"axes", axes}, {"inverse", int64_t(inverse)}, {"real", int64_t(real)}, {"n", n}};
  ir::Type in{x.dtype(), x.shape()};
  ir::Type out = ir::infer_type(ir::OpKind::FFT, {in}, attrs, {});
  ir::Tensor t{in, runtime::allocate(size_t(in.nbytes()))};
  const void* src = x.dtype() == complex64 ? static_cast<const void*>(x.data<complex64_t>())
                                          : static_cast<const void*>(x.data<float>());
  std::memcpy(t.buffer->data(), src, size_t(in.nbytes()));
  ir::Tensor r = ir::interpret_op(ir::make_op(ir::OpKind::FFT, {0}, out, attrs), {t});
  std::vector<cd> v(size_t(out.size()));
  for (size_t i = 0; i < v.size(); ++i)
    v[i] = out.dtype == complex64 ? cd(static_cast<const complex64_t*>(r.buffer->data())[i])
                                  : cd(static_cast<const float*>(r.buffer->data())[i]);
  return v;
}

std::vector<cd> as_complex(const array& a) {
  if (a.dtype() == complex64) return complex_values(a);
  std::vector<cd> v;
  for (double x : values(a)) v.push_back(x);
  return v;
}

// max |got - want| <= tol * (1 + max |want|): float32 transforms are
// accurate relative to the size of the values.
::testing::AssertionResult close(const std::vector<cd>& got, const std::vector<cd>& want, double tol) {
  if (got.size() != want.size()) return ::testing::AssertionFailure() << got.size() << " values, want " << want.size();
  double scale = 0, err = 0;
  size_t worst = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    scale = std::max(scale, std::abs(want[i]));
    if (std::abs(got[i] - want[i]) > err) err = std::abs(got[i] - want[i]), worst = i;
  }
  if (err <= tol * (1 + scale)) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "error " << err << " at " << worst << ": " << got[worst] << " vs "
                                       << want[worst] << " (scale " << scale << ")";
}

}  // namespace

// x = cos(0.7 j) + i sin(0.3 j^2), j < 6:
//   np.fft.fft(x), np.fft.fft(x, 4), np.fft.ifft(x, 8)
TEST(Fft, ComplexMatchesNumPy) {
  std::vector<complex64_t> xv;
  for (int j = 0; j < 6; ++j) xv.push_back({float(std::cos(0.7 * j)), float(std::sin(0.3 * j * j))});
  array x(xv.begin(), {6}, complex64);
  EXPECT_TRUE(complex_array_is(fft::fft(x), {6},
                               {{-0.44871580237458175, 1.5967745408012943}, {2.918636034515594, -2.215109418486118},
                                {-1.2591884414187566, -0.667501148269412}, {0.9042054068377474, -1.7250255865385227},
                                {3.1933659299937673, 0.35286624816960815}, {0.6916968724462291, 2.6579953643231504}},
                               1e-5));
  EXPECT_TRUE(complex_array_is(fft::fft(x, 4, -1), {4},
                               {{1.4299632255848724, 1.6549391728623961}, {0.6981731835272684, -2.201727377851572},
                                {0.9099710602156094, 0.20913899907205646}, {0.9618925306722494, 0.3376492059171192}},
                               1e-5));
  EXPECT_TRUE(complex_array_is(
      fft::ifft(x, 8, -1), {8},
      {{-0.05608947529682272, 0.1995968176001618}, {0.34028274006539405, 0.1569558256345926},
       {-0.11479122334639343, -0.1993715112761897}, {0.18329749279335122, 0.303590293329131},
       {0.11302567585471847, -0.2156281983173154}, {-0.08773692639003611, 0.13457711229942781},
       {0.08674385245416864, -0.28267941242457706}, {0.5352678638656199, -0.09704092684523109}},
      1e-6));
}

// r7 = cos(0.7 j) + 0.1 j, j < 7 (r8 likewise, j < 8):
//   np.fft.rfft(r7), np.fft.rfft(r8), np.fft.irfft(np.fft.rfft(r8)),
//   np.fft.irfft(np.fft.rfft(r8), 7)
TEST(Fft, RealMatchesNumPy) {
  std::vector<float> r7, r8;
  for (int j = 0; j < 8; ++j) {
    r8.push_back(float(std::cos(0.7 * j) + 0.1 * j));
    if (j < 7) r7.push_back(r8.back());
  }
  array a7(r7.begin(), {7}, float32), a8(r8.begin(), {8}, float32);
  EXPECT_TRUE(complex_array_is(fft::rfft(a7), {4},
                               {{1.1610233762847182, 0}, {2.295522269642817, -1.5229504685462576},
                                {0.37725069685529533, -0.12250545012922393}, {0.2467153453595285, -0.026056887595727274}},
                               1e-5));
  array X = fft::rfft(a8);
  EXPECT_TRUE(complex_array_is(X, {5},
                               {{2.047535745707293, 0}, {3.234086576917929, -0.4086782451168835},
                                {-0.021928662228198947, 0.25328076482902573}, {-0.14964189558061314, 0.11177768336499877},
                                {-0.1725677839255273, 0}},
                               1e-5));
  EXPECT_TRUE(kiln_test::array_is(fft::irfft(X), float32, {8},
                                  {1.0, 0.8648421872844888, 0.369967142900241, -0.2048461045998572, -0.5422223406686579,
                                   -0.43645668729079656, 0.10973917865929991, 0.886512369422575},
                                  1e-6));
  EXPECT_TRUE(kiln_test::array_is(fft::irfft(X, 7, -1), float32, {7},
                                  {1.1675096834179322, 0.9154224740899852, 0.2360829425336939, -0.4583002155691245,
                                   -0.6105096655477928, -0.10432708343693826, 0.9016576102195369},
                                  1e-6));
}

// m = arange(12).reshape(3, 4) * 0.5 - cos(arange(12).reshape(3, 4)):
//   np.fft.fft2(m), np.fft.rfft2(m), np.fft.irfft2(np.fft.rfft2(m), s=(3, 4))
TEST(Fft, TwoDimensionalMatchesNumPy) {
  std::vector<float> mv;
  for (int i = 0; i < 12; ++i) mv.push_back(float(i * 0.5 - std::cos(double(i))));
  array m(mv.begin(), {3, 4}, float32);
  std::vector<cd> full = {{33.41302204846785, 0},
                          {-3.4959044243010027, 3.144498773715779},
                          {-3.2246385811769462, 0},
                          {-3.4959044243010027, -3.144498773715779},
                          {-12.407755483314755, 9.730113444083988},
                          {-1.4906131683616761, 0.2249384417145457},
                          {-1.4379957406892712, -0.565662484186707},
                          {-2.261922916978748, -4.221447191975431},
                          {-12.407755483314755, -9.730113444083988},
                          {-2.261922916978748, 4.221447191975431},
                          {-1.4379957406892712, 0.565662484186707},
                          {-1.4906131683616761, -0.2249384417145457}};
  EXPECT_TRUE(complex_array_is(fft::fft2(m), {3, 4}, full, 1e-4));
  std::vector<cd> half;
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 3; ++c) half.push_back(full[size_t(r * 4 + c)]);
  EXPECT_TRUE(complex_array_is(fft::rfft2(m), {3, 3}, half, 1e-4));
  EXPECT_TRUE(kiln_test::array_is(fft::irfft2(fft::rfft2(m), {3, 4}, {-2, -1}), float32, {3, 4}, values(m), 1e-5));
  EXPECT_EQ(fft::fftn(m).shape(), (Shape{3, 4}));
}

// The fast transforms against the interpreter's DFT for every length up to
// 40 and a few larger smooth, prime (Bluestein) and mixed ones, forward
// and inverse, complex and real, along the last and a strided axis.
TEST(Fft, EveryLengthMatchesTheDefinition) {
  std::vector<int> lengths;
  for (int n = 1; n <= 40; ++n) lengths.push_back(n);
  for (int n : {64, 97, 100, 128, 243, 256, 343, 360, 509, 1000, 1024, 1031}) lengths.push_back(n);
  for (int n : lengths) {
    SCOPED_TRACE("n = " + std::to_string(n));
    array c = complex_noise({3, n}, uint64_t(n));
    EXPECT_TRUE(close(complex_values(fft::fft(c)), reference(c, {1}, false, false, 0), 2e-6));
    EXPECT_TRUE(close(complex_values(fft::ifft(c)), reference(c, {1}, true, false, 0), 2e-6));
    array r = real_noise({2, n}, uint64_t(n) + 7);
    EXPECT_TRUE(close(complex_values(fft::rfft(r)), reference(r, {1}, false, true, n), 2e-6));
    array bins = complex_noise({2, n / 2 + 1}, uint64_t(n) + 9);
    EXPECT_TRUE(close(as_complex(fft::irfft(bins, n, -1)), reference(bins, {1}, true, true, n), 2e-6));
    // Along axis 0: lines with a stride.
    array cs = complex_noise({n, 11}, uint64_t(n) + 3);
    EXPECT_TRUE(close(complex_values(fft::fft(cs, 0)), reference(cs, {0}, false, false, 0), 2e-6));
    array rs = real_noise({n, 10}, uint64_t(n) + 5);
    EXPECT_TRUE(close(complex_values(fft::rfft(rs, 0)), reference(rs, {0}, false, true, n), 2e-6));
  }
}

TEST(Fft, MultiAxisMatchesTheDefinition) {
  array c = complex_noise({4, 6, 5}, 1);
  EXPECT_TRUE(close(complex_values(fft::fftn(c)), reference(c, {0, 1, 2}, false, false, 0), 2e-6));
  EXPECT_TRUE(close(complex_values(fft::ifftn(c, {2, 0})), reference(c, {2, 0}, true, false, 0), 2e-6));
  array r = real_noise({4, 6, 5}, 2);
  EXPECT_TRUE(close(complex_values(fft::rfftn(r, {0, 2})), reference(r, {0, 2}, false, true, 5), 2e-6));
  array bins = complex_noise({4, 6, 4}, 3);
  EXPECT_TRUE(close(as_complex(fft::irfftn(bins, {6, 7}, {1, 2})), reference(bins, {1, 2}, true, true, 7), 2e-6));
  // A real transform whose real axis is not the array's last.
  EXPECT_TRUE(close(complex_values(fft::rfftn(r, {2, 1})), reference(r, {2, 1}, false, true, 6), 2e-6));
}

// Long single rows run each stage in parallel (n >= 2^14); Bluestein for a
// prime length. Checked at a few bins summed directly, and by round trips.
TEST(Fft, LongRowsAgainstDirectSums) {
  for (int n : {1 << 16, 3 * 5 * 7 * 11 * 13, 65537}) {
    SCOPED_TRACE("n = " + std::to_string(n));
    array x = complex_noise({n}, uint64_t(n));
    std::vector<cd> xv = complex_values(x), got = complex_values(fft::fft(x));
    double scale = 0;
    for (const cd& v : xv) scale += std::abs(v);
    for (int k : {0, 1, 7, n / 3, n - 1}) {
      cd want = 0;
      for (int j = 0; j < n; ++j)
        want += xv[size_t(j)] * std::polar(1.0, -2 * std::numbers::pi * double((int64_t(j) * k) % n) / n);
      EXPECT_LT(std::abs(got[size_t(k)] - want), 1e-6 * scale) << "bin " << k;
    }
    EXPECT_TRUE(close(complex_values(fft::ifft(fft::fft(x))), xv, 1e-5));
    array r = real_noise({n}, uint64_t(n) + 1);
    EXPECT_TRUE(close(as_complex(fft::irfft(fft::rfft(r), n, -1)), as_complex(r), 1e-5));
  }
}

TEST(Fft, PaddingAndCropping) {
  array x = complex_noise({2, 5}, 4);
  // n > length pads with zeros, n < length crops, as NumPy.
  array padded = concatenate({x, zeros({2, 3}, complex64)}, 1);
  EXPECT_TRUE(close(complex_values(fft::fft(x, 8, -1)), complex_values(fft::fft(padded)), 1e-6));
  EXPECT_TRUE(close(complex_values(fft::fft(x, 3, -1)), complex_values(fft::fft(slice(x, {0, 0}, {2, 3}))), 1e-6));
  EXPECT_TRUE(close(complex_values(fft::fft2(x, {3, 7}, {-2, -1})),
                    complex_values(fft::fft2(concatenate({concatenate({x, zeros({2, 2}, complex64)}, 1),
                                                          zeros({1, 7}, complex64)},
                                                         0))),
                    1e-6));
  // irfft's n: the bins are cropped or padded to n / 2 + 1.
  array bins = complex_noise({6}, 5);
  EXPECT_EQ(fft::irfft(bins).shape(), (Shape{10}));
  EXPECT_EQ(fft::irfft(bins, 5, -1).shape(), (Shape{5}));
  EXPECT_TRUE(close(as_complex(fft::irfft(bins, 5, -1)), as_complex(fft::irfft(slice(bins, {0}, {3}), 5, -1)), 1e-6));
  // Real and integer inputs of fft become complex64; rfft keeps float32.
  array ints = arange(6);
  EXPECT_EQ(fft::fft(ints).dtype(), complex64);
  EXPECT_TRUE(complex_array_is(fft::fft(ints), {6}, {{15, 0}, {-3, 5.196152422706632}, {-3, 1.7320508075688772},
                                                     {-3, 0}, {-3, -1.7320508075688772}, {-3, -5.196152422706632}},
                               1e-5));
  EXPECT_EQ(fft::rfft(ints).dtype(), complex64);
  EXPECT_EQ(fft::irfft(fft::rfft(ints)).dtype(), float32);
  // A zero-length axis padded to n > 0 transforms zeros; other empty axes
  // give empty results.
  EXPECT_TRUE(complex_array_is(fft::fft(zeros({0}, complex64), 2, -1), {2}, {{0, 0}, {0, 0}}));
  EXPECT_EQ(fft::fft(zeros({0, 4}, complex64)).shape(), (Shape{0, 4}));
}

// np.fft.fftshift(np.arange(5)), np.fft.ifftshift(np.arange(5)),
// np.fft.fftshift(np.arange(6))
TEST(Fft, Shifts) {
  EXPECT_TRUE(kiln_test::array_is(fft::fftshift(arange(5)), int32, {5}, {3, 4, 0, 1, 2}));
  EXPECT_TRUE(kiln_test::array_is(fft::ifftshift(arange(5)), int32, {5}, {2, 3, 4, 0, 1}));
  EXPECT_TRUE(kiln_test::array_is(fft::fftshift(arange(6)), int32, {6}, {3, 4, 5, 0, 1, 2}));
  array m = reshape(arange(6), {2, 3});
  EXPECT_TRUE(kiln_test::array_is(fft::fftshift(m), int32, {2, 3}, {5, 3, 4, 2, 0, 1}));
  EXPECT_TRUE(kiln_test::array_is(fft::ifftshift(fft::fftshift(m, {-1}), {1}), int32, {2, 3}, {0, 1, 2, 3, 4, 5}));
}

TEST(Fft, VmapMatchesALoop) {
  array xs = complex_noise({3, 4, 6}, 8);
  auto f = [](const array& x) { return fft::fft(x, 0); };
  array got = vmap(f, 1, 1)(xs);  // maps axis 1; transforms each slice's axis 0
  ASSERT_EQ(got.shape(), (Shape{3, 4, 6}));
  for (int i = 0; i < 4; ++i) {
    array want = f(squeeze(slice(xs, {0, i, 0}, {3, i + 1, 6}), 1));
    EXPECT_TRUE(close(complex_values(squeeze(slice(got, {0, i, 0}, {3, i + 1, 6}), 1)), complex_values(want), 1e-6));
  }
  array rs = real_noise({5, 8}, 9);
  array r = vmap([](const array& x) { return fft::irfft(fft::rfft(x)); }, 0, 0)(rs);
  EXPECT_TRUE(close(as_complex(r), as_complex(rs), 1e-6));
}

TEST(Fft, CompileAndGrad) {
  auto f = [](const array& x) { return fft::irfft(multiply(fft::rfft(x), fft::rfft(x)), 8, -1); };
  array x = real_noise({8}, 10);
  EXPECT_TRUE(close(as_complex(compile(f)(x)), as_complex(f(x)), 1e-6));
  // Differentiable through the complex values (tests/test_fft_grad.cpp has
  // the rules' tests); a complex loss is refused.
  EXPECT_EQ(grad([](const array& x) { return sum(abs(fft::rfft(x))); })(x).shape(), (Shape{8}));
  EXPECT_TRUE(throws_invalid([&] { grad([](const array& x) { return sum(fft::rfft(x)); })(x).eval(); },
                             "real scalar"));
}

TEST(Fft, ErrorsAsMlx) {
  array x = complex_noise({4, 4}, 11);
  EXPECT_TRUE(throws_invalid([&] { fft::fftn(array(1.0f), std::vector<int>{0}); }, "[fftn]"));
  EXPECT_TRUE(throws_invalid([&] { fft::fftn(x, {4}, {0, 1}); }, "Shape and axes have different sizes"));
  EXPECT_TRUE(throws_invalid([&] { fft::fftn(x, {4, 4}, {0, -2}); }, "[fftn] Duplicated axis"));
  EXPECT_TRUE(throws_invalid([&] { fft::fftn(x, {4}, {2}); }, "[fftn] Invalid axis"));
  EXPECT_TRUE(throws_invalid([&] { fft::fft(x, 0, -1); }, "[fftn] Invalid FFT output size"));
  EXPECT_TRUE(throws_invalid([&] { fft::irfft(x, -2, -1); }, "[irfftn] Invalid FFT output size"));
  EXPECT_TRUE(throws_invalid([&] { fft::rfft(x); }, "[rfftn] Input must be real"));
  EXPECT_TRUE(throws_invalid([&] { fft::fft(x, 5); }, "[fftn] Invalid axis"));
  EXPECT_TRUE(throws_invalid([&] { fft::fftshift(x, {3}); }, "[fftshift]"));
  // No axes: the input itself (MLX).
  EXPECT_EQ(fft::fftn(x, Shape{}, std::vector<int>{}).shape(), (Shape{4, 4}));
}
