// kiln::fast: rms_norm, layer_norm, rope and scaled_dot_product_attention
// against NumPy, their gradients against finite differences, and their
// errors. Inputs are X(shape, a, b) = sin(arange(n) * a + b).reshape(shape).
//
// The expected values come from this NumPy script (/usr/bin/python3):
//
//   def X(shape, a, b): return np.sin(np.arange(np.prod(shape), dtype=np.float64) * a + b).reshape(shape)
//   x = X((2, 3, 4), 0.37, 0.1); w = X((4,), 0.5, 1.0); b = X((4,), 0.9, -0.3)
//   rms = x / np.sqrt((x * x).mean(-1, keepdims=True) + 1e-5) * w
//   mu = x.mean(-1, keepdims=True); va = x.var(-1, keepdims=True)
//   ln = (x - mu) / np.sqrt(va + 1e-5) * w + b;  ln_noaffine = (x - mu) / np.sqrt(va + 1e-5)
//   def rope(x, dims, trad, base, scale, offset):
//       L = x.shape[-2]; half = dims // 2
//       inv = base ** (-np.arange(half) / half)
//       th = ((np.arange(L) + offset) * scale)[:, None] * inv[None]
//       c, s = np.cos(th), np.sin(th)
//       r = x[..., :dims]
//       if trad:
//           x1, x2 = r[..., 0::2], r[..., 1::2]
//           out = np.stack([x1 * c - x2 * s, x1 * s + x2 * c], -1).reshape(r.shape)
//       else:
//           x1, x2 = r[..., :half], r[..., half:]
//           out = np.concatenate([x1 * c - x2 * s, x1 * s + x2 * c], -1)
//       return np.concatenate([out, x[..., dims:]], -1)
//   xr = X((1, 2, 3, 6), 0.23, 0.4)
//   rope(xr, 6, False, 10000.0, 1.0, 0); rope(xr, 6, True, 10000.0, 1.0, 0)
//   rope(xr, 4, False, 100.0, 0.5, 3); rope(xr, 4, True, 100.0, 0.5, 3)
//   def sdpa(q, k, v, scale, mask=None, sinks=None):
//       rep = q.shape[1] // k.shape[1]
//       k = np.repeat(k, rep, 1); v = np.repeat(v, rep, 1)
//       s = scale * q @ np.swapaxes(k, -1, -2)
//       if mask is not None:
//           s = np.where(mask, s, -np.inf) if mask.dtype == bool else s + mask
//       if sinks is not None:
//           sk = np.broadcast_to(sinks.reshape(1, -1, 1, 1), s.shape[:-1] + (1,))
//           s = np.concatenate([s, sk], -1)
//       m = s.max(-1, keepdims=True); e = np.exp(s - m); p = e / e.sum(-1, keepdims=True)
//       if sinks is not None: p = p[..., :-1]
//       return p @ v
//   q = X((1, 2, 3, 4), 0.31, 0.2); k = X((1, 2, 5, 4), 0.17, -0.5); v = X((1, 2, 5, 3), 0.29, 0.7)
//   sdpa(q, k, v, 0.5)
//   sdpa(q, k, v, 0.5, np.arange(2, 5)[:, None] >= np.arange(5)[None])            # causal, L < S
//   sdpa(q, k, v, 0.5, np.array([[1,0,1,1,0],[0,1,1,0,1],[1,1,0,0,1]], bool))
//   sdpa(q, k, v, 0.5, X((3, 5), 0.7, 0.0))
//   sdpa(X((1, 4, 3, 4), 0.31, 0.2), k, v, 0.5)                                   # grouped-query
//   sdpa(q, k, v, 0.5, None, np.array([0.3, -1.0]))                               # sinks
#include <kiln/kiln.h>

#include <functional>

#include "test_helpers.h"

using namespace kiln;
using kiln_test::array_is;
using kiln_test::throws_invalid;

namespace {

// X(shape, a, b) = sin(i * a + b): the X of the NumPy script above.
const auto X = [](const Shape& shape, float a, float b, Dtype dtype = float32) {
  return kiln_test::sine_pattern(shape, a, b, dtype);
};

// Checks the gradient of sum(f(x) * r), r a fixed pseudo-random array,
// against central differences at every element of x (float64).
void expect_gradient_matches(const std::function<array(const array&)>& f, const array& x0, double tol = 1e-6) {
  array x = astype(x0, float64);
  array r = X(f(x).shape(), 0.77f, 0.3f, float64);
  auto loss = [&](const array& a) { return sum(f(a) * r); };
  std::vector<double> g = kiln_test::values(grad(loss)(x));
  std::vector<double> v = kiln_test::values(x);
  const double h = 1e-6;
  for (size_t i = 0; i < v.size(); ++i) {
    auto at = [&](double d) {
      std::vector<double> w = v;
      w[i] += d;
      return loss(array(w.data(), x.shape(), float64)).item<double>();
    };
    EXPECT_NEAR(g[i], (at(h) - at(-h)) / (2 * h), tol) << "element " << i;
  }
}

}  // namespace

TEST(FastNorms, MatchNumPy) {
  array x = X({2, 3, 4}, 0.37f, 0.1f), w = X({4}, 0.5f, 1.0f), b = X({4}, 0.9f, -0.3f);
  EXPECT_TRUE(array_is(fast::rms_norm(x, w, 1e-5f), float32, {2, 3, 4},
                       {0.1309979, 0.7044483, 1.055853, 0.8731539, 1.04578, 1.151668, 0.8275114, 0.3245992,
                        0.1254476, -0.5189599, -1.017679, -0.9375931, -0.9583376, -1.130681, -0.8863291, -0.4093754,
                        -0.4746179, 0.2305601, 0.9047766, 0.9720654, 0.8733367, 1.103557, 0.9320764, 0.4817929},
                       1e-5));
  EXPECT_TRUE(array_is(fast::layer_norm(x, w, b, 1e-5f), float32, {2, 3, 4},
                       {-1.51773, 0.2316523, 1.534526, 1.391053, 0.5735022, 1.270558, 0.821998, -0.2506292,
                        0.8961817, 0.9420263, 0.4970502, -0.06914396, -1.006638, -0.2493649, 1.037146, 1.643512,
                        -1.460122, 0.1507634, 1.466733, 1.443232, 0.03375054, 1.55819, 1.250349, -0.3212459},
                       2e-5));
  EXPECT_TRUE(array_is(fast::layer_norm(x, std::nullopt, std::nullopt, 1e-5f), float32, {2, 3, 4},
                       {-1.452468, -0.3338264, 0.5906002, 1.195695, 1.032742, 0.7076885, -0.1930029, -1.547428,
                        1.416213, 0.3783316, -0.5503642, -1.24418, -0.8450888, -0.8160515, 0.04360628, 1.617534,
                        -1.384008, -0.4149184, 0.516045, 1.282881, 0.3913037, 0.9960427, 0.2780761, -1.665423},
                       2e-5));
  // Without a weight rms_norm is the plain normalization: rows of unit RMS.
  array unit = fast::rms_norm(x, std::nullopt, 0.0f);
  EXPECT_TRUE(array_is(mean(square(unit), -1), float32, {2, 3}, {1, 1, 1, 1, 1, 1}, 1e-5));
  // Half precision in, half precision out (computed in float32).
  array h = fast::layer_norm(astype(x, float16), astype(w, float16), astype(b, float16), 1e-5f);
  EXPECT_EQ(h.dtype(), float16);
  EXPECT_NEAR(kiln_test::values(h)[0], -1.51773, 2e-3);
  EXPECT_EQ(fast::rms_norm(astype(x, bfloat16), std::nullopt, 1e-5f).dtype(), bfloat16);
  // Empty rows and a rank-1 input.
  EXPECT_EQ(fast::rms_norm(zeros({0, 4}), w, 1e-5f).shape(), (Shape{0, 4}));
  EXPECT_TRUE(array_is(fast::layer_norm(array({1.0f, 3.0f}), std::nullopt, std::nullopt, 0.0f), float32, {2}, {-1, 1},
                       1e-6));

  EXPECT_TRUE(throws_invalid([&] { fast::rms_norm(x, X({3}, 1, 0), 1e-5f); }, "[rms_norm]"));
  EXPECT_TRUE(throws_invalid([&] { fast::layer_norm(x, std::nullopt, X({5}, 1, 0), 1e-5f); }, "[layer_norm]"));
  EXPECT_TRUE(throws_invalid([&] { fast::rms_norm(array(1.0f), std::nullopt, 1e-5f); }, "[rms_norm]"));
}

TEST(FastNorms, GradientsMatchFiniteDifferences) {
  array x = X({2, 5}, 0.37f, 0.1f, float64), w = X({5}, 0.5f, 1.0f, float64), b = X({5}, 0.9f, -0.3f, float64);
  expect_gradient_matches([&](const array& a) { return fast::rms_norm(a, w, 1e-5f); }, x);
  expect_gradient_matches([&](const array& a) { return fast::layer_norm(a, w, b, 1e-5f); }, x);
  expect_gradient_matches([&](const array& a) { return fast::layer_norm(x, a, b, 1e-5f); }, w);
}

TEST(FastRope, MatchesNumPy) {
  array x = X({1, 2, 3, 6}, 0.23f, 0.4f);
  EXPECT_TRUE(array_is(fast::rope(x, 6, false, 10000.0f, 1.0f, 0), float32, {1, 2, 3, 6},
                       {0.3894183, 0.5891448, 0.7578426, 0.8866269, 0.9687151, 0.9997838, 0.0049304, 0.8842857,
                        0.7838616, 1.159318, 0.4689151, 0.2117066, 0.5992715, -0.1700296, -0.4563969, 0.2540188,
                        -0.8259355, -0.9221032, -0.9851778, -0.9983409, -0.9589243, -0.8690037, -0.7333152, -0.559005,
                        -0.46208, -0.1571702, 0.09513773, -0.1254834, 0.5217541, 0.7083143, -1.254805, 0.8573355,
                        0.9920118, 0.3609966, 1.017615, 0.8318594},
                       1e-5));
  EXPECT_TRUE(array_is(fast::rope(x, 6, true, 10000.0f, 1.0f, 0), float32, {1, 2, 3, 6},
                       {0.3894183, 0.5891448, 0.7578426, 0.8866269, 0.9687151, 0.9997838, -0.2330856, 1.312147,
                        0.7546, 0.657955, 0.4269264, 0.2109376, 0.2312201, 0.08557726, -0.3980717, -0.6904989,
                        -0.8026456, -0.9235951, -0.9851778, -0.9983409, -0.9589243, -0.8690037, -0.7333152, -0.559005,
                        -0.08020378, -0.3706833, 0.08166396, 0.3251673, 0.5269579, 0.7092447, -1.215898, 0.3788029,
                        0.8994579, 1.078787, 0.9301852, 0.831593},
                       1e-5));
  std::vector<double> part = {-0.7283978, 0.4500334, 0.4420505, 0.9647117, 0.9687151, 0.9997838, -1.12025,
                              0.7634303,  0.5630811, 0.789644,  0.4273799, 0.2100173, 0.2902623, -0.07725006,
                              0.3578036,  -0.6912256, -0.8066177, -0.9201281, 0.8868334, -0.8572684, -1.050542,
                              -1.008436,  -0.7333152, -0.559005, 0.05994175, -0.1939233, -0.3632574, 0.2882471,
                              0.5284847,  0.7081077, -1.277153, 0.6733863, -0.2886455, 1.194496, 0.9337598, 0.8275773};
  EXPECT_TRUE(array_is(fast::rope(x, 4, false, 100.0f, 0.5f, 3), float32, {1, 2, 3, 6}, part, 1e-5));
  // The offset as an array gives the same.
  EXPECT_TRUE(array_is(fast::rope(x, 4, false, 100.0f, 0.5f, array(3)), float32, {1, 2, 3, 6}, part, 1e-5));
  EXPECT_TRUE(array_is(fast::rope(x, 4, true, 100.0f, 0.5f, 3), float32, {1, 2, 3, 6},
                       {-0.5601226, 0.4301173, 0.6168369, 0.9899216, 0.9687151, 0.9997838, -1.23007, 0.5128211,
                        0.6450631, 0.7656498, 0.4273799, 0.2100173, 0.1618868, 0.1859539, -0.285087, -0.7442951,
                        -0.8066177, -0.9201281, 0.9261514, -1.05333, -0.8182943, -1.002546, -0.7333152, -0.559005,
                        0.268585, -0.2677702, 0.03095828, 0.3338328, 0.5284847, 0.7081077, -1.248659, -0.2505018,
                        0.7195177, 1.206275, 0.9337598, 0.8275773},
                       1e-5));
  // freqs instead of base: freqs_i = base^(i / half) gives the same rotation.
  EXPECT_TRUE(array_is(fast::rope(x, 4, false, std::nullopt, 0.5f, 3, array({1.0f, 10.0f})), float32, {1, 2, 3, 6},
                       part, 1e-5));
  EXPECT_EQ(fast::rope(astype(x, float16), 6, false, 10000.0f, 1.0f, 0).dtype(), float16);

  EXPECT_TRUE(throws_invalid([&] { fast::rope(x, 5, false, 10000.0f, 1.0f, 0); }, "[rope]"));
  EXPECT_TRUE(throws_invalid([&] { fast::rope(x, 8, false, 10000.0f, 1.0f, 0); }, "[rope]"));
  EXPECT_TRUE(throws_invalid([&] { fast::rope(X({6}, 1, 0), 6, false, 10000.0f, 1.0f, 0); }, "[rope]"));
  EXPECT_TRUE(throws_invalid([&] { fast::rope(x, 4, false, std::nullopt, 1.0f, 0); }, "[rope]"));
  EXPECT_TRUE(throws_invalid([&] { fast::rope(x, 4, false, 1.0f, 1.0f, 0, array({1.0f, 2.0f})); }, "[rope]"));
  EXPECT_TRUE(throws_invalid([&] { fast::rope(x, 4, false, 10.0f, 1.0f, array({1, 2})); }, "[rope]"));
}

TEST(FastRope, GradientMatchesFiniteDifferences) {
  array x = X({2, 3, 6}, 0.23f, 0.4f, float64);
  expect_gradient_matches([](const array& a) { return fast::rope(a, 4, false, 100.0f, 0.5f, 2); }, x);
  expect_gradient_matches([](const array& a) { return fast::rope(a, 6, true, 10000.0f, 1.0f, 0); }, x);
}

TEST(FastAttention, MatchesNumPy) {
  array q = X({1, 2, 3, 4}, 0.31f, 0.2f), k = X({1, 2, 5, 4}, 0.17f, -0.5f), v = X({1, 2, 5, 3}, 0.29f, 0.7f);
  auto sdpa = [&](const std::string& mode, std::optional<array> mask) {
    return fast::scaled_dot_product_attention(q, k, v, 0.5f, mode, mask);
  };
  std::vector<double> plain = {0.2001041,  0.04089572, -0.1217279, 0.1196965, -0.06697794, -0.2480589,
                               0.1960077,  0.09290271, -0.01796083, 0.4051684, 0.5259831,   0.6028717,
                               0.3893038,  0.4878438,  0.5456428,  0.05519914, 0.1203062,   0.1753662};
  EXPECT_TRUE(array_is(sdpa("", std::nullopt), float32, {1, 2, 3, 3}, plain, 1e-5));
  EXPECT_TRUE(array_is(sdpa("causal", std::nullopt), float32, {1, 2, 3, 3},
                       {0.7590333, 0.6452566, 0.4775931, 0.3512182, 0.1462578, -0.0709169, 0.1960077, 0.09290271,
                        -0.01796083, 0.0605834, 0.2967863, 0.508204, 0.3117607, 0.4718227, 0.5924818, 0.05519914,
                        0.1203062, 0.1753662},
                       1e-5));
  array bool_mask = kiln_test::bools({1, 0, 1, 1, 0, 0, 1, 1, 0, 1, 1, 1, 0, 0, 1}, {3, 5});
  std::vector<double> with_bool = {0.2853163, 0.08117495, -0.1297455, 0.2489729, 0.08800376, -0.08031477,
                                   0.1782507, 0.1827495,  0.1719866,  0.5536387, 0.6861126,  0.7612877,
                                   0.3189649, 0.4490372,  0.5416095,  -0.2064563, -0.1592934, -0.09882747};
  EXPECT_TRUE(array_is(sdpa("array", bool_mask), float32, {1, 2, 3, 3}, with_bool, 1e-5));
  // MLX also takes a mask array with mask_mode "".
  EXPECT_TRUE(array_is(sdpa("", bool_mask), float32, {1, 2, 3, 3}, with_bool, 1e-5));
  EXPECT_TRUE(array_is(sdpa("array", X({3, 5}, 0.7f, 0.0f)), float32, {1, 2, 3, 3},
                       {0.2538803, 0.06388715, -0.1314414, -0.09841662, -0.266856, -0.4130097, 0.4747173, 0.3822812,
                        0.25792, 0.4757404, 0.6120744, 0.6972928, 0.42898, 0.4667437, 0.4655286, -0.1390114,
                        0.0003524786, 0.1396869},
                       1e-5));
  // Grouped-query attention: heads 0, 1 read key/value head 0, heads 2, 3 head 1.
  array q4 = X({1, 4, 3, 4}, 0.31f, 0.2f);
  EXPECT_TRUE(array_is(fast::scaled_dot_product_attention(q4, k, v, 0.5f), float32, {1, 4, 3, 3},
                       {0.2001041,  0.04089572, -0.1217279, 0.1196965,  -0.06697794, -0.2480589, 0.1960077,
                        0.09290271, -0.01796083, 0.4527049, 0.4993213,  0.5042383,   0.4276152,  0.4329545,
                        0.4021368,  0.2103547,  0.05742033, -0.1003093, -0.1884472,  -0.1111711, -0.02461078,
                        0.1011363,  0.2018784,  0.2857612,  0.3968183,  0.5176474,   0.5952466,  0.3993664,
                        0.5005906,  0.5600092,  0.08430396, 0.150023,   0.2032134,   -0.1890176, -0.1129474,
                        -0.02744473},
                       1e-5));
  EXPECT_TRUE(array_is(fast::scaled_dot_product_attention(q, k, v, 0.5f, "", std::nullopt, array({0.3f, -1.0f})),
                       float32, {1, 2, 3, 3},
                       {0.1770456, 0.03618321, -0.107701, 0.1103511, -0.06174857, -0.2286915, 0.1532518, 0.07263749,
                        -0.01404297, 0.3962783, 0.5144421, 0.5896436, 0.375967, 0.4711312, 0.5269502, 0.04897315,
                        0.1067367, 0.1555864},
                       1e-5));
  EXPECT_EQ(fast::scaled_dot_product_attention(astype(q, float16), astype(k, float16), astype(v, float16), 0.5f)
                .dtype(),
            float16);

  EXPECT_TRUE(throws_invalid([&] { sdpa("upper", std::nullopt); }, "[scaled_dot_product_attention]"));
  EXPECT_TRUE(throws_invalid([&] { sdpa("array", std::nullopt); }, "[scaled_dot_product_attention]"));
  EXPECT_TRUE(throws_invalid([&] { sdpa("causal", bool_mask); }, "[scaled_dot_product_attention]"));
  EXPECT_TRUE(throws_invalid([&] { sdpa("array", zeros({3, 4})); }, "[scaled_dot_product_attention]"));
  EXPECT_TRUE(throws_invalid([&] { fast::scaled_dot_product_attention(reshape(q, {2, 3, 4}), k, v, 1.0f); },
                             "[scaled_dot_product_attention]"));
  EXPECT_TRUE(throws_invalid([&] { fast::scaled_dot_product_attention(X({1, 3, 3, 4}, 1, 0), k, v, 1.0f); },
                             "[scaled_dot_product_attention]"));
  EXPECT_TRUE(throws_invalid([&] { fast::scaled_dot_product_attention(q, k, X({1, 2, 4, 3}, 1, 0), 1.0f); },
                             "[scaled_dot_product_attention]"));
}

TEST(FastAttention, GradientsMatchFiniteDifferences) {
  array q = X({1, 2, 3, 4}, 0.31f, 0.2f, float64), k = X({1, 2, 3, 4}, 0.17f, -0.5f, float64),
        v = X({1, 2, 3, 2}, 0.29f, 0.7f, float64);
  expect_gradient_matches([&](const array& a) { return fast::scaled_dot_product_attention(a, k, v, 0.7f, "causal"); },
                          q);
  expect_gradient_matches([&](const array& a) { return fast::scaled_dot_product_attention(q, a, v, 0.7f, "causal"); },
                          k);
  expect_gradient_matches([&](const array& a) { return fast::scaled_dot_product_attention(q, k, a, 0.7f); }, v);
}

// How many kernels each op becomes (matmuls are BLAS calls, not kernels):
// each is counted as the kernels compiled or found in the cache by one
// evaluation of the op on materialized inputs. KILN_DUMP=fusion shows the
// groups.
size_t kernels_of(const array& out) {
  reset_jit_stats();
  eval(out);
  JitStats s = jit_stats();
  return s.kernels_compiled + s.kernel_cache_hits + s.disk_cache_hits;
}

TEST(FastFusion, FewKernelsPerOp) {
  array x = X({4, 16, 64}, 0.37f, 0.1f), w = X({64}, 0.5f, 1.0f), b = X({64}, 0.9f, -0.3f);
  array q = X({2, 4, 16, 8}, 0.31f, 0.2f), k = X({2, 4, 16, 8}, 0.17f, -0.5f), v = X({2, 4, 16, 8}, 0.29f, 0.7f);
  eval({x, w, b, q, k, v});
  size_t rms = kernels_of(fast::rms_norm(x, w, 1e-5f));
  size_t ln = kernels_of(fast::layer_norm(x, w, b, 1e-5f));
  size_t rope = kernels_of(fast::rope(x, 64, false, 10000.0f, 1.0f, 0));
  size_t rope_trad = kernels_of(fast::rope(x, 32, true, 10000.0f, 1.0f, 0));
  size_t sdpa = kernels_of(fast::scaled_dot_product_attention(q, k, v, 0.35f));
  size_t sdpa_causal = kernels_of(fast::scaled_dot_product_attention(q, k, v, 0.35f, "causal"));
  std::printf("kernels: rms_norm %zu, layer_norm %zu, rope %zu, rope traditional (half the features) %zu, "
              "sdpa %zu, sdpa causal %zu\n",
              rms, ln, rope, rope_trad, sdpa, sdpa_causal);
  EXPECT_LE(rms, 1u);
  EXPECT_LE(ln, 1u);
  // The rotation with its reduction over each pair, and a copy for the
  // reshape that merges the pair axes of the reduction's result.
  EXPECT_LE(rope, 2u);
  // Scale, mask and softmax in one kernel between the two matmuls.
  EXPECT_LE(sdpa, 1u);
  EXPECT_LE(sdpa_causal, 1u);
}
