// Affine quantization (frontend/quantize.h): MLX's bit layout on hand-built
// examples whose packed words are derived by hand, quantize against a
// NumPy reference for every bits/group size, dequantize round trips,
// quantized_matmul (both layouts, batched x) against matmul with the
// dequantized matrix, its vjp/jvp against finite differences, vmap, and
// MLX's errors.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>

#include "test_helpers.h"

using namespace kiln;
using kiln_test::throws_invalid;
using kiln_test::values;

namespace {

std::vector<uint64_t> words_of(const array& a) {
  std::vector<uint64_t> v;
  const uint32_t* p = a.data<uint32_t>();
  for (size_t i = 0; i < a.size(); ++i) v.push_back(p[i]);
  return v;
}

array noise(const Shape& s, int salt) {
  size_t n = 1;
  for (int d : s) n *= size_t(d);
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = float(std::sin(0.731 * double(i) + 1.7 * salt) * std::cos(0.013 * double(i * i)));
  return array(v.begin(), s, float32);
}

double max_abs_diff(const array& a, const array& b) {
  auto x = values(a), y = values(b);
  double m = 0;
  for (size_t i = 0; i < x.size(); ++i) m = std::max(m, std::fabs(x[i] - y[i]));
  return m;
}

}  // namespace

// 4 bits, one group of 32: w_j = j mod 16. The edge is the max (|0| is not
// > |15|), so scale = -(15 - 0) / 15 = -1, q0 = round(15 / -1) = -15,
// scale = 15 / -15 = -1, bias = 15 and code_j = 15 - w_j. Codes are packed
// lowest first: codes 0..7 = F, E, ..., 8 give 0x89ABCDEF, codes 8..15 =
// 7, ..., 0 give 0x01234567, and the second 16 repeat them.
TEST(Quantize, HandBuiltFourBitWords) {
  std::vector<float> w;
  for (int j = 0; j < 32; ++j) w.push_back(float(j % 16));
  auto q = quantize(array(w.begin(), {1, 32}, float32), 32, 4);
  ASSERT_EQ(q.size(), 3u);
  EXPECT_EQ(q[0].dtype(), uint32);
  EXPECT_EQ(q[0].shape(), (Shape{1, 4}));
  EXPECT_EQ(words_of(q[0]), (std::vector<uint64_t>{0x89ABCDEF, 0x01234567, 0x89ABCDEF, 0x01234567}));
  EXPECT_TRUE(kiln_test::array_is(q[1], float32, {1, 1}, {-1}));
  EXPECT_TRUE(kiln_test::array_is(q[2], float32, {1, 1}, {15}));
  EXPECT_TRUE(kiln_test::array_is(dequantize(q[0], q[1], q[2], 32, 4), float32, {1, 32}, values(array(w.begin(), {1, 32}, float32))));
}

// 3 bits straddle words: w_j = 7 - (j mod 8) gives scale -1, bias 7 and
// code_j = j mod 8. Eight codes 0..7 at 3 bits each, lowest first, are the
// 24-bit chunk sum_t t << 3t = 0xFAC688; the 96-bit row is that chunk four
// times: word 0 = 0xFAC688 | 0x88 << 24 = 0x88FAC688, word 1 = 0xFAC6 |
// 0xC688 << 16 = 0xC688FAC6, word 2 = 0xFA | 0xFAC688 << 8 = 0xFAC688FA.
TEST(Quantize, HandBuiltThreeBitWordsStraddle) {
  std::vector<float> w;
  for (int j = 0; j < 32; ++j) w.push_back(float(7 - j % 8));
  array wa(w.begin(), {1, 32}, float32);
  auto q = quantize(wa, 32, 3);
  EXPECT_EQ(words_of(q[0]), (std::vector<uint64_t>{0x88FAC688, 0xC688FAC6, 0xFAC688FA}));
  EXPECT_TRUE(kiln_test::array_is(q[1], float32, {1, 1}, {-1}));
  EXPECT_TRUE(kiln_test::array_is(q[2], float32, {1, 1}, {7}));
  // MLX-made words load unchanged: dequantize and the matmul read them back.
  array words(std::initializer_list<uint32_t>{0x88FAC688u, 0xC688FAC6u, 0xFAC688FAu}, {1, 3}, uint32);
  EXPECT_TRUE(kiln_test::array_is(dequantize(words, q[1], q[2], 32, 3), float32, {1, 32}, values(wa)));
  array x = reshape(astype(arange(32), float32), {1, 32});
  double want = 0;
  for (int j = 0; j < 32; ++j) want += j * w[size_t(j)];
  EXPECT_TRUE(kiln_test::array_is(quantized_matmul(x, words, q[1], q[2], true, 32, 3), float32, {1, 1}, {want}));
}

// The NumPy reference of MLX's affine quantization (float32, rounding half
// to even) on w[i, j] = sin(0.37 j + 1.3 i) (1 + i) + 0.25 cos(0.05 j^2),
// 3 x 128: for each (bits, group size), sum over the packed words of
// (index + 1) * word, the sums of the scales and of the biases, and the sum
// of |codes * scales + biases| (codes unpacked from the words by
// codes_of, the same stream read back).
//   def quantize(w, gs, bits):
//       w = w.astype(np.float32); rows, k = w.shape
//       g = w.reshape(rows, k // gs, gs); n_bins = np.float32(2**bits - 1)
//       wmax = g.max(-1, keepdims=True); wmin = g.min(-1, keepdims=True)
//       mask = np.abs(wmin) > np.abs(wmax)
//       scales = np.maximum((wmax - wmin) / n_bins, np.float32(1e-7)).astype(np.float32)
//       scales = np.where(mask, scales, -scales); edge = np.where(mask, wmin, wmax)
//       q0 = np.round(edge / scales)
//       scales = np.where(q0 != 0, edge / np.where(q0 != 0, q0, 1), scales).astype(np.float32)
//       biases = np.where(q0 == 0, np.float32(0), edge).astype(np.float32)
//       codes = np.clip(np.round((g - biases) / scales), 0, n_bins).astype(np.uint64).reshape(rows, k)
//       words = np.zeros((rows, k * bits // 32), np.uint64)
//       for j in range(k):
//           bit = j * bits
//           words[:, bit // 32] |= (codes[:, j] << np.uint64(bit % 32)) & np.uint64(0xffffffff)
//           if bit % 32 + bits > 32: words[:, bit // 32 + 1] |= codes[:, j] >> np.uint64(32 - bit % 32)
//       return words.astype(np.uint32), scales.reshape(rows, -1), biases.reshape(rows, -1)
//   def codes_of(q, bits, k):  # unpacks the stream
//       q = q.astype(np.uint64); out = np.zeros((q.shape[0], k), np.uint64)
//       for j in range(k):
//           bit = j * bits; v = q[:, bit // 32] >> np.uint64(bit % 32)
//           if bit % 32 + bits > 32: v |= q[:, bit // 32 + 1] << np.uint64(32 - bit % 32)
//           out[:, j] = v & np.uint64(2**bits - 1)
//       return out.astype(np.float32)
//   q, s, b = quantize(w, gs, bits)
//   h = sum((idx + 1) * int(v) for idx, v in enumerate(q.ravel().tolist()))
//   deq = (codes_of(q, bits, 128).reshape(3, 128 // gs, gs) * s[:, :, None] + b[:, :, None]).astype(np.float32)
//   print(bits, gs, h, s.astype(np.float64).sum(), b.astype(np.float64).sum(), np.abs(deq.astype(np.float64)).sum())
TEST(Quantize, MatchesNumPyForEveryBitsAndGroupSize) {
  struct Case {
    int bits, group;
    uint64_t hash;
    double scale_sum, bias_sum, dequantized_abs_sum;
  };
  const Case cases[] = {
      {2, 32, 958562902455u, -3.38400716, 6.76801431, 423.359665},
      {2, 64, 838035702843u, -6.58963698, 13.179274, 421.564427},
      {2, 128, 838035682379u, -3.36510766, 6.73021531, 428.382662},
      {3, 32, 1721648487865u, -1.69200358, 6.76801431, 470.800828},
      {3, 64, 1895719491149u, -3.29481849, 13.179274, 465.852387},
      {3, 128, 1839595879997u, -1.68255383, 6.73021531, 468.83134},
      {4, 32, 2725254851420u, -0.846001789, 6.76801431, 495.01729},
      {4, 64, 2802812849428u, -1.64740925, 13.179274, 493.336477},
      {4, 128, 2814109396373u, -0.841276914, 6.73021531, 492.461143},
      {5, 32, 4341281177147u, -0.423000894, 6.76801431, 491.547072},
      {5, 64, 4144098068147u, -0.823704623, 13.179274, 491.645345},
      {5, 128, 4142246651633u, -0.420638457, 6.73021531, 492.523448},
      {6, 32, 5649391486456u, -0.21655738, 6.76801431, 493.445069},
      {6, 64, 5973535076394u, -0.411852311, 13.179274, 493.423691},
      {6, 128, 5813003224878u, -0.210319228, 6.73021531, 494.23047},
      {8, 32, 10200903990165u, -0.053650531, 6.76801431, 493.51517},
      {8, 64, 10256333777025u, -0.102423853, 13.179274, 493.37145},
      {8, 128, 10272679399894u, -0.0521722101, 6.73021531, 493.549628},
  };
  std::vector<double> wv;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 128; ++j) wv.push_back(std::sin(0.37 * j + 1.3 * i) * (1 + i) + 0.25 * std::cos(0.05 * j * j));
  array w = astype(array(wv.begin(), {3, 128}, float64), float32);
  for (const Case& c : cases) {
    SCOPED_TRACE("bits " + std::to_string(c.bits) + ", group " + std::to_string(c.group));
    auto q = quantize(w, c.group, c.bits);
    ASSERT_EQ(q[0].shape(), (Shape{3, 128 * c.bits / 32}));
    ASSERT_EQ(q[1].shape(), (Shape{3, 128 / c.group}));
    uint64_t h = 0;
    auto ws = words_of(q[0]);
    for (size_t i = 0; i < ws.size(); ++i) h += (i + 1) * ws[i];
    EXPECT_EQ(h, c.hash);
    double ss = 0, bs = 0;
    for (double v : values(q[1])) ss += v;
    for (double v : values(q[2])) bs += v;
    EXPECT_NEAR(ss, c.scale_sum, 1e-6 * std::fabs(c.scale_sum));
    EXPECT_NEAR(bs, c.bias_sum, 1e-6 * std::fabs(c.bias_sum));
    // NumPy's dequantization: codes * scales + biases (float32), summed.
    double ds = 0;
    for (double v : values(dequantize(q[0], q[1], q[2], c.group, c.bits))) ds += std::fabs(v);
    EXPECT_NEAR(ds, c.dequantized_abs_sum, 1e-6 * c.dequantized_abs_sum);
  }
}

TEST(Quantize, DtypesAndLeadingAxes) {
  array w = noise({2, 3, 64}, 1);
  auto q = quantize(astype(w, bfloat16), 64, 4);
  EXPECT_EQ(q[0].shape(), (Shape{2, 3, 8}));
  EXPECT_EQ(q[1].dtype(), bfloat16);
  EXPECT_EQ(q[2].shape(), (Shape{2, 3, 1}));
  EXPECT_EQ(dequantize(q[0], q[1], q[2], 64, 4).dtype(), bfloat16);
  EXPECT_EQ(dequantize(q[0], q[1], q[2], 64, 4, "affine", std::nullopt, float32).dtype(), float32);
  // Defaults: group 64, 4 bits.
  auto d = quantize(noise({4, 128}, 2));
  EXPECT_EQ(d[0].shape(), (Shape{4, 16}));
  EXPECT_EQ(d[1].shape(), (Shape{4, 2}));
}

// quantized_matmul against matmul with the dequantized matrix, for every
// bits and group size, both layouts, batched x and odd row counts (the
// kernel tiles rows by 32 and splits columns over threads).
TEST(QuantizedMatmul, MatchesTheDequantizedMatmul) {
  for (int bits : {2, 3, 4, 5, 6, 8})
    for (int group : {32, 64, 128}) {
      SCOPED_TRACE("bits " + std::to_string(bits) + ", group " + std::to_string(group));
      array w = noise({48, 256}, bits + group);
      auto q = quantize(w, group, bits);
      array wd = dequantize(q[0], q[1], q[2], group, bits);
      array x = noise({2, 37, 256}, 3);
      array got = quantized_matmul(x, q[0], q[1], q[2], true, group, bits);
      array want = matmul(x, transpose(wd));
      ASSERT_EQ(got.shape(), (Shape{2, 37, 48}));
      EXPECT_LT(max_abs_diff(got, want), 1e-4);
      // Not transposed: w is [k, n] = [48, 256], x [.., 48].
      array x2 = noise({5, 48}, 4);
      array got2 = quantized_matmul(x2, q[0], q[1], q[2], false, group, bits);
      ASSERT_EQ(got2.shape(), (Shape{5, 256}));
      EXPECT_LT(max_abs_diff(got2, matmul(x2, wd)), 1e-4);
    }
  // A vector x, and a float16 x (computed in float32, returned as float16).
  auto q = quantize(noise({16, 64}, 5), 64, 4);
  array v = noise({64}, 6);
  EXPECT_EQ(quantized_matmul(v, q[0], q[1], q[2]).shape(), (Shape{16}));
  EXPECT_EQ(quantized_matmul(astype(v, float16), q[0], astype(q[1], float16), astype(q[2], float16)).dtype(), float16);
}

// d/dx sum(c * qmm(x)) against central differences, both layouts; jvp
// likewise; vmap over x against a loop.
TEST(QuantizedMatmul, GradientsAndVmap) {
  auto q = quantize(noise({8, 64}, 7), 32, 4);
  for (bool transpose : {true, false}) {
    SCOPED_TRACE(transpose ? "transpose" : "plain");
    const int k = transpose ? 64 : 8, n = transpose ? 8 : 64;
    array c = noise({3, n}, 8);
    auto f = [&](const array& x) { return sum(multiply(c, quantized_matmul(x, q[0], q[1], q[2], transpose, 32, 4))); };
    array x = noise({3, k}, 9);
    auto g = values(grad(f)(x));
    auto xv = values(x);
    const double h = 1e-2;
    for (size_t i = 0; i < xv.size(); i += 5) {
      auto xp = xv, xm = xv;
      xp[i] += h, xm[i] -= h;
      double fd = (f(array(xp.begin(), {3, k}, float32)).item<float>() - f(array(xm.begin(), {3, k}, float32)).item<float>()) / (2 * h);
      EXPECT_NEAR(g[i], fd, 2e-3 * (1 + std::fabs(fd))) << "element " << i;
    }
    // jvp: the directional derivative along t.
    array t = noise({3, k}, 10);
    auto [outs, tangents] = jvp([&](const std::vector<array>& a) { return std::vector<array>{f(a[0])}; }, {x}, {t});
    double dir = 0;
    auto tv = values(t);
    for (size_t i = 0; i < g.size(); ++i) dir += g[i] * tv[i];
    EXPECT_NEAR(tangents[0].item<float>(), dir, 1e-3 * (1 + std::fabs(dir)));
  }
  // The scales and biases (as MLX): d/ds and d/db against central
  // differences, both layouts, and jvp along a direction.
  for (bool transpose : {true, false})
    for (int which : {1, 2}) {
      SCOPED_TRACE(std::string(transpose ? "transpose" : "plain") + (which == 1 ? " scales" : " biases"));
      const int k = transpose ? 64 : 8, n = transpose ? 8 : 64;
      array x = noise({2, 3, k}, 14), c = noise({2, 3, n}, 15);
      auto f = [&](const array& p) {
        array s = which == 1 ? p : q[1], b = which == 2 ? p : q[2];
        return sum(multiply(c, quantized_matmul(x, q[0], s, b, transpose, 32, 4)));
      };
      array p0 = q[size_t(which)];
      auto g = values(grad(f)(p0));
      auto pv = values(p0);
      ASSERT_EQ(g.size(), pv.size());
      const double h = 1e-2;
      for (size_t i = 0; i < pv.size(); ++i) {
        auto pp = pv, pm = pv;
        pp[i] += h, pm[i] -= h;
        double fd = (f(array(pp.begin(), p0.shape(), float32)).item<float>() -
                     f(array(pm.begin(), p0.shape(), float32)).item<float>()) / (2 * h);
        EXPECT_NEAR(g[i], fd, 5e-3 * (1 + std::fabs(fd))) << "element " << i;
      }
      array t = noise(p0.shape(), 16);
      double dir = 0;
      auto tv = values(t);
      for (size_t i = 0; i < g.size(); ++i) dir += g[i] * tv[i];
      EXPECT_NEAR(jvp(f, p0, t).second.item<float>(), dir, 1e-3 * (1 + std::fabs(dir)));
    }
  // vmap over x's axis 1.
  array xs = noise({4, 5, 64}, 11);
  array got = vmap([&](const array& x) { return quantized_matmul(x, q[0], q[1], q[2], true, 32, 4); }, 1, 0)(xs);
  ASSERT_EQ(got.shape(), (Shape{5, 4, 8}));
  for (int i = 0; i < 5; ++i) {
    array want = quantized_matmul(squeeze(slice(xs, {0, i, 0}, {4, i + 1, 64}), 1), q[0], q[1], q[2], true, 32, 4);
    EXPECT_LT(max_abs_diff(squeeze(slice(got, {i, 0, 0}, {i + 1, 4, 8}), 0), want), 1e-6);
  }
  EXPECT_TRUE(throws_invalid(
      [&] { vmap([&](const array& s) { return quantized_matmul(xs, q[0], s, q[2], true, 32, 4); }, 0, 0)(stack({q[1], q[1]})); },
      "[vmap]"));
}

// gather_qmm (MLX's matrix-level gather) against quantized_matmul of the
// selected matrices, one by one: explicit and default indices, broadcast
// indices, both layouts; its gradient with respect to x against the same
// loop's; MLX's errors.
TEST(GatherQmm, MatchesQuantizedMatmulOfTheSelectedMatrices) {
  const int E = 3;
  array wf = noise({E, 16, 64}, 20);
  auto q = quantize(wf, 32, 4);  // [E, 16, 8] words, [E, 16, 2] scales and biases
  ASSERT_EQ(q[0].shape(), (Shape{E, 16, 8}));
  array x = noise({4, 2, 64}, 21);  // 4 matrices of 2 rows
  auto one = [&](const array& xs, int l, int r, bool transpose) {
    return quantized_matmul(take(xs, l, 0), take(q[0], r, 0), take(q[1], r, 0), take(q[2], r, 0), transpose, 32, 4);
  };
  array lhs = array({3, 0, 0, 2, 1}, uint32), rhs = array({2, 2, 0, 1, 0}, uint32);
  array got = gather_qmm(x, q[0], q[1], q[2], lhs, rhs, true, 32, 4);
  ASSERT_EQ(got.shape(), (Shape{5, 2, 16}));
  std::vector<int> lv{3, 0, 0, 2, 1}, rv{2, 2, 0, 1, 0};
  for (int i = 0; i < 5; ++i)
    EXPECT_LT(max_abs_diff(take(got, i, 0), one(x, lv[size_t(i)], rv[size_t(i)], true)), 1e-5) << i;
  // Default indices pair the batches in order; indices broadcast ([2, 1] with [3]).
  array xe = noise({E, 2, 64}, 22);
  array pairs = gather_qmm(xe, q[0], q[1], q[2], std::nullopt, std::nullopt, true, 32, 4);
  ASSERT_EQ(pairs.shape(), (Shape{E, 2, 16}));
  for (int e = 0; e < E; ++e) EXPECT_LT(max_abs_diff(take(pairs, e, 0), one(xe, e, e, true)), 1e-5) << e;
  array grid = gather_qmm(x, q[0], q[1], q[2], array({1, 3}, {2, 1}, int32), array({0, 1, 2}, int32), true, 32, 4);
  ASSERT_EQ(grid.shape(), (Shape{2, 3, 2, 16}));
  EXPECT_LT(max_abs_diff(take(take(grid, 1, 0), 2, 0), one(x, 3, 2, true)), 1e-5);
  // Not transposed: w is [k, n] = [16, 64] per matrix, x [.., 16].
  array x2 = noise({2, 3, 16}, 23);
  array got2 = gather_qmm(x2, q[0], q[1], q[2], array({1, 0}, uint32), array({0, 2}, uint32), false, 32, 4);
  ASSERT_EQ(got2.shape(), (Shape{2, 3, 64}));
  EXPECT_LT(max_abs_diff(take(got2, 0, 0), one(x2, 1, 0, false)), 1e-5);
  EXPECT_LT(max_abs_diff(take(got2, 1, 0), one(x2, 0, 2, false)), 1e-5);
  // The gradient with respect to x: as the loop's (x's matrix 0 is used twice).
  array c = noise({5, 2, 16}, 24);
  auto g = grad([&](const array& v) { return sum(c * gather_qmm(v, q[0], q[1], q[2], lhs, rhs, true, 32, 4)); })(x);
  auto loop = grad([&](const array& v) {
    array total = array(0.0f);
    for (int i = 0; i < 5; ++i) total = total + sum(take(c, i, 0) * one(v, lv[size_t(i)], rv[size_t(i)], true));
    return total;
  })(x);
  EXPECT_LT(max_abs_diff(g, loop), 1e-5);
  // Errors.
  EXPECT_TRUE(throws_invalid([&] { gather_qmm(noise({64}, 1), q[0], q[1], q[2]); }, "[gather_qmm]"));
  EXPECT_TRUE(throws_invalid([&] { gather_qmm(x, q[0], q[1], q[2], array({0.5f})); }, "Indices must be integral"));
  EXPECT_TRUE(throws_invalid([&] { gather_qmm(x, q[0], take(q[1], 0, 0), q[2]); }, "[gather_qmm] Shape of scales"));
  EXPECT_TRUE(throws_invalid([&] { gather_qmm(x, q[0], q[1], std::nullopt); }, "[gather_qmm] Biases"));
  EXPECT_TRUE(throws_invalid([&] { gather_qmm(noise({3, 2, 32}, 1), q[0], q[1], q[2]); }, "[quantized_matmul]"));
}

TEST(QuantizedMatmul, Compiles) {
  auto q = quantize(noise({8, 64}, 12), 64, 8);
  auto f = [&](const array& x) { return exp(quantized_matmul(x, q[0], q[1], q[2], true, 64, 8)); };
  array x = noise({2, 64}, 13);
  EXPECT_LT(max_abs_diff(compile(f)(x), f(x)), 1e-6);
}

TEST(Quantize, ErrorsAsMlx) {
  array w = noise({4, 64}, 14);
  EXPECT_TRUE(throws_invalid([&] { quantize(w, 48, 4); }, "[quantize] The requested group size 48 is not supported"));
  EXPECT_TRUE(throws_invalid([&] { quantize(w, 64, 7); }, "[quantize] The requested number of bits 7 is not supported"));
  EXPECT_TRUE(throws_invalid([&] { quantize(noise({64}, 1), 64, 4); }, "at least 2 dimensions"));
  EXPECT_TRUE(throws_invalid([&] { quantize(noise({2, 96}, 1), 64, 4); }, "divisible by the quantization group size"));
  EXPECT_TRUE(throws_invalid([&] { quantize(astype(w, int32), 64, 4); }, "[quantize] Only real floating types"));
  EXPECT_TRUE(throws_invalid([&] { quantize(w, 64, 4, "mxfp4"); }, "[quantize]"));
  auto q = quantize(w, 64, 4);
  EXPECT_TRUE(throws_invalid([&] { dequantize(q[0], q[1], std::nullopt, 64, 4); }, "[dequantize] Biases must be provided"));
  EXPECT_TRUE(throws_invalid([&] { dequantize(q[0], q[1], q[2], 32, 4); }, "[dequantize] Shape of scales and biases"));
  EXPECT_TRUE(throws_invalid([&] { dequantize(astype(q[0], int32), q[1], q[2], 64, 4); }, "[dequantize]"));
  EXPECT_TRUE(throws_invalid([&] { quantized_matmul(noise({2, 32}, 1), q[0], q[1], q[2]); },
                             "[quantized_matmul] The shapes of the weight and input are incompatible"));
  EXPECT_TRUE(throws_invalid([&] { quantized_matmul(noise({2, 64}, 1), q[0], q[1], std::nullopt); }, "[quantized_matmul]"));
  EXPECT_TRUE(throws_invalid([&] { quantized_matmul(noise({2, 64}, 1), q[0], q[1], q[2], true, 64, 5); },
                             "[quantized_matmul]"));
  EXPECT_TRUE(throws_invalid([&] { quantized_matmul(astype(noise({2, 64}, 1), int32), q[0], q[1], q[2]); },
                             "[quantized_matmul] Only real floating types"));
}
