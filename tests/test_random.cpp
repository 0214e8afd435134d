// kiln::random: Threefry against published known answers, MLX's (= JAX's)
// bits for the same key and call, distributions by Kolmogorov-Smirnov and
// moment checks (fixed seeds, tolerances from the sample size), vmap over
// keys against a loop, grad through normal's loc/scale, fusion, errors.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <thread>
#include <vector>

#include "frontend/trace.h"
#include "passes/fusion.h"
#include "passes/pass_manager.h"
#include "runtime/thread_pool.h"
#include "opencl_test.h"
#include "test_helpers.h"

using namespace kiln;
using kiln_test::array_is;
using kiln_test::throws_invalid;
using kiln_test::values;

namespace {

std::vector<uint32_t> words(const array& a) {
  std::vector<uint32_t> out;
  for (double v : values(a)) out.push_back(uint32_t(v));
  return out;
}

// Kolmogorov-Smirnov statistic of the samples against a CDF.
double ks_statistic(std::vector<double> x, const std::function<double(double)>& cdf) {
  std::sort(x.begin(), x.end());
  double n = double(x.size()), d = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    double f = cdf(x[i]);
    d = std::max({d, std::abs(double(i + 1) / n - f), std::abs(f - double(i) / n)});
  }
  return d;
}

// The KS critical value at p = 1e-4: P(sqrt(n) D > x) ~ 2 exp(-2 x^2), so
// x = sqrt(log(2 / 1e-4) / 2) = 2.225. A correct sampler fails one fixed
// seed with probability 1e-4; a wrong transform fails by far.
double ks_limit(size_t n) { return 2.23 / std::sqrt(double(n)); }

double normal_cdf(double x) { return 0.5 * (1 + std::erf(x / std::sqrt(2.0))); }

double mean_of(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return s / double(v.size());
}
double var_of(const std::vector<double>& v) {
  double m = mean_of(v), s = 0;
  for (double x : v) s += (x - m) * (x - m);
  return s / double(v.size());
}

int kernels_of(const ArrayFunction& fn, const std::vector<ir::Type>& types) {
  passes::PassManager pm;
  pm.add_pipeline("canonicalize,cse,dce");
  ir::Function f = pm.run(detail::trace(fn, types));
  int n = 0;
  for (auto& s : passes::plan_fusion(f).steps) n += s.kind == passes::Step::Kernel;
  return n;
}

}  // namespace

// --- keys and bits -----------------------------------------------------------

TEST(RandomKey, SeedLayout) {
  EXPECT_TRUE(array_is(random::key(0), uint32, {2}, {0, 0}));
  EXPECT_TRUE(array_is(random::key(1), uint32, {2}, {0, 1}));
  EXPECT_TRUE(array_is(random::key(uint64_t(1) << 32), uint32, {2}, {1, 0}));
  EXPECT_TRUE(array_is(random::key((uint64_t(7) << 32) + 5), uint32, {2}, {7, 5}));
}

// Random123's kat_vectors for threefry2x32_20 ("ctr0 ctr1 key0 key1 ->
// out0 out1"), on the composite that bits() uses.
TEST(RandomBits, ThreefryKnownAnswers) {
  struct Vector { uint32_t ctr[2], key[2], out[2]; };
  const Vector vectors[] = {
      {{0x00000000, 0x00000000}, {0x00000000, 0x00000000}, {0x6b200159, 0x99ba4efe}},
      {{0xffffffff, 0xffffffff}, {0xffffffff, 0xffffffff}, {0x1cb996fc, 0xbb002be7}},
      {{0x243f6a88, 0x85a308d3}, {0x13198a2e, 0x03707344}, {0xc4923a9c, 0x483df7a0}},
  };
  for (const Vector& v : vectors) {
    auto [x0, x1] = random::detail::threefry2x32(array(v.key[0], uint32), array(v.key[1], uint32),
                                                 array({v.ctr[0]}, uint32), array({v.ctr[1]}, uint32));
    EXPECT_EQ(words(x0)[0], v.out[0]) << std::hex << v.ctr[0];
    EXPECT_EQ(words(x1)[0], v.out[1]) << std::hex << v.ctr[0];
  }
  // bits() of one word hashes counter (0, 0).
  EXPECT_EQ(random::bits({}, random::key(0)).item<uint32_t>(), 0x6b200159u);
}

TEST(RandomBits, MatchesMlxAndJax) {
  // MLX's random tests (values from JAX's threefry_random_bits, key(seed)).
  EXPECT_EQ(random::bits({}, random::key(0)).item<uint32_t>(), 1797259609u);
  EXPECT_EQ(random::bits({}, random::key(1)).item<uint32_t>(), 507451445u);
  EXPECT_TRUE(array_is(random::bits({3, 1}, random::key(0)), uint32, {3, 1}, {4146024105u, 1351547692u, 2718843009u}));
  // JAX: jax.random.bits(jax.random.key(0), (4,)) = [4146024105 967050713 2718843009 1272950319]
  EXPECT_EQ(words(random::bits({4}, random::key(0))),
            (std::vector<uint32_t>{4146024105u, 967050713u, 2718843009u, 1272950319u}));
  // Narrow widths: the bytes of the words (N = ceil(bytes / 4)), little-endian.
  EXPECT_EQ(random::bits({}, 2, random::key(0)).item<uint16_t>(), 345);
  EXPECT_EQ(random::bits({}, 1, random::key(0)).item<uint8_t>(), 89);
  EXPECT_EQ(random::bits({}, 2, random::key(1)).item<uint16_t>(), 6197);
  EXPECT_EQ(random::bits({}, 1, random::key(1)).item<uint8_t>(), 53);
  EXPECT_TRUE(array_is(random::bits({5}, 2, random::key(0)), uint16, {5}, {20137, 63263, 64300, 20622, 16513}));
  EXPECT_TRUE(array_is(random::bits({6}, 2, random::key(0)), uint16, {6}, {20137, 63263, 64300, 20622, 16513, 41486}));
  EXPECT_TRUE(array_is(random::bits({7}, 2, random::key(0)), uint16, {7},
                       {20137, 63263, 1497, 14756, 16513, 41486, 44591}));
  EXPECT_TRUE(array_is(random::bits({8}, 2, random::key(0)), uint16, {8},
                       {20137, 63263, 1497, 14756, 16513, 41486, 44591, 19423}));
  // uint8: the bytes of bits({2}) = 0xf71f4ea9 0xa20e4081 (4146024105, 2718843009
  // are words 0 and 1 of bits((2)) ... of N = 2 words: (h(0,1).x0, h(0,1).x1)).
  array b8 = random::bits({8}, 1, random::key(0));
  array b32 = random::bits({2}, 4, random::key(0));
  std::vector<uint32_t> w = words(b32), v = words(b8);
  for (int i = 0; i < 8; ++i) EXPECT_EQ(v[i], (w[i / 4] >> (8 * (i % 4))) & 0xFF) << i;
}

TEST(RandomSplit, MatchesMlxAndJax) {
  // jax.random.split(jax.random.PRNGKey(0)) = [[4146024105 967050713] [2718843009 1272950319]]
  auto [k, sub] = random::split(random::key(0));
  EXPECT_TRUE(array_is(k, uint32, {2}, {4146024105u, 967050713u}));
  EXPECT_TRUE(array_is(sub, uint32, {2}, {2718843009u, 1272950319u}));
  EXPECT_TRUE(array_is(random::split(random::key(0), 3), uint32, {3, 2},
                       {2467461003u, 428148500u, 3186719485u, 3840466878u, 2562233961u, 1946702221u}));
}

TEST(RandomGlobal, SeedReproducesAndIsThreadSafe) {
  random::seed(4);
  array x = random::bits({3}), y = random::bits({3});
  random::seed(4);
  array a = random::bits({3}), b = random::bits({3});
  EXPECT_EQ(words(x), words(a));
  EXPECT_EQ(words(y), words(b));
  EXPECT_NE(words(x), words(y));
  // The global sequence's host split is split(key) on the JIT: seed(0)'s
  // first key is split(key(0)).second.
  random::seed(0);
  EXPECT_EQ(words(random::bits({5})), words(random::bits({5}, random::split(random::key(0)).second)));
  // Many threads drawing keys: every key distinct (no torn or repeated state).
  random::seed(1);
  std::vector<std::vector<uint32_t>> keys(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&keys, t] {
      for (int i = 0; i < 200; ++i) keys[t].push_back(words(random::KeySequence::default_().next())[0]);
    });
  for (auto& t : threads) t.join();
  std::vector<uint32_t> all;
  for (auto& k : keys) all.insert(all.end(), k.begin(), k.end());
  std::sort(all.begin(), all.end());
  EXPECT_EQ(std::unique(all.begin(), all.end()), all.end());
  EXPECT_EQ(all.size(), 800u);
}

TEST(RandomBits, ReproducibleAndIndependent) {
  array key = random::key(42);
  EXPECT_EQ(words(random::bits({1000}, key)), words(random::bits({1000}, key)));
  // Split keys give different streams, and differ from the parent's.
  array keys = random::split(key, 3);
  std::vector<std::vector<uint32_t>> streams;
  for (int i = 0; i < 3; ++i) streams.push_back(words(random::bits({1000}, reshape(slice(keys, {i, 0}, {i + 1, 2}), {2}))));
  streams.push_back(words(random::bits({1000}, key)));
  for (size_t i = 0; i < streams.size(); ++i)
    for (size_t j = i + 1; j < streams.size(); ++j) {
      int same = 0;
      for (size_t e = 0; e < 1000; ++e) same += streams[i][e] == streams[j][e];
      EXPECT_LE(same, 1) << i << " vs " << j;
    }
}

// The same bits on 1 thread and on several, and for a shape whose index is
// cut (rows x cols), merged (a 1-D size with a divisor) or read whole.
TEST(RandomBits, IndependentOfThreadsAndShape) {
  array key = random::key(3);
  int saved = runtime::ThreadPool::global().size();
  runtime::ThreadPool::global().set_size(1);
  std::vector<uint32_t> one = words(random::bits({300000}, key));
  runtime::ThreadPool::global().set_size(4);
  std::vector<uint32_t> four = words(random::bits({300000}, key));
  runtime::ThreadPool::global().set_size(saved);
  EXPECT_EQ(one, four);
  EXPECT_EQ(one, words(random::bits({600, 500}, key)));
  EXPECT_EQ(one, words(random::bits({3, 100000}, key)));
  // A prime size (no divisor): its own arange.
  std::vector<uint32_t> prime = words(random::bits({100003}, key));
  std::vector<uint32_t> prime_2d = words(reshape(random::bits({1, 100003}, key), {100003}));
  EXPECT_EQ(prime, prime_2d);
}

// --- continuous distributions ------------------------------------------------

TEST(RandomUniform, MatchesMlxMapping) {
  // MLX: uniform = float32(bits) / float32(UINT32_MAX) (which is 2^32), clamped below 1.
  auto to_float = [](uint32_t b) { return double(float(b) / 4294967296.0f); };
  EXPECT_EQ(random::uniform({}, random::key(0)).item<float>(), to_float(1797259609u));
  EXPECT_EQ(random::uniform({}, random::key(1)).item<float>(), to_float(507451445u));
  EXPECT_TRUE(array_is(random::uniform({3, 1}, random::key(0)), float32, {3, 1},
                       {to_float(4146024105u), to_float(1351547692u), to_float(2718843009u)}));
  // low + (high - low) * u, broadcasting bounds.
  array u = random::uniform({4}, random::key(5));
  array scaled = random::uniform(array({-1.0f, 0.0f, 2.0f, 10.0f}), array(20.0f), {4}, float32, random::key(5));
  std::vector<double> uv = values(u), sv = values(scaled);
  double lows[4] = {-1, 0, 2, 10};
  for (int i = 0; i < 4; ++i) EXPECT_FLOAT_EQ(sv[i], float(lows[i] + (20 - lows[i]) * uv[i]));
}

TEST(RandomUniform, Distribution) {
  const size_t n = 200000;
  for (Dtype t : {float32, float16, bfloat16, float64}) {
    array u = random::uniform({int(n)}, t, random::key(11));
    EXPECT_EQ(u.dtype(), t);
    std::vector<double> v = values(u);
    EXPECT_GE(*std::min_element(v.begin(), v.end()), 0.0);
    EXPECT_LT(*std::max_element(v.begin(), v.end()), 1.0);
    if (t == float32 || t == float64) {  // half precision rounds: a coarse grid
      EXPECT_LT(ks_statistic(v, [](double x) { return x; }), ks_limit(n)) << dtype_name(t);
    }
    EXPECT_NEAR(mean_of(v), 0.5, 5 * std::sqrt(1.0 / 12 / n) + (t == bfloat16 ? 4e-3 : 1e-3)) << dtype_name(t);
  }
  // Bounds, with bounds of several shapes.
  array b = random::uniform(array(-3.0f), array(-1.0f), {1000, 10}, float32, random::key(2));
  std::vector<double> bv = values(b);
  EXPECT_GE(*std::min_element(bv.begin(), bv.end()), -3.0);
  EXPECT_LT(*std::max_element(bv.begin(), bv.end()), -1.0);
  EXPECT_EQ(random::uniform(zeros({3, 1}), ones({1, 3}), {3, 3}).shape(), Shape({3, 3}));
}

TEST(RandomNormal, Distribution) {
  const size_t n = 200000;
  std::vector<double> v = values(random::normal({int(n)}, random::key(7)));
  EXPECT_LT(ks_statistic(v, normal_cdf), ks_limit(n));
  EXPECT_NEAR(mean_of(v), 0.0, 5 / std::sqrt(double(n)));
  EXPECT_NEAR(var_of(v), 1.0, 5 * std::sqrt(2.0 / n));
  for (double x : v) ASSERT_TRUE(std::isfinite(x));
  // loc and scale (scalars and arrays).
  std::vector<double> w = values(random::normal({int(n)}, 3.0f, 2.0f, random::key(7)));
  for (size_t i = 0; i < 10; ++i) EXPECT_NEAR(w[i], 3.0 + 2.0 * v[i], 1e-5 * (1 + std::abs(w[i])));
  array loc = array({0.0f, 10.0f}), scale = array({1.0f, 0.5f});
  array two = random::normal({2}, float32, loc, scale, random::key(8));
  std::vector<double> z = values(random::normal({2}, random::key(8))), t = values(two);
  EXPECT_NEAR(t[0], z[0], 1e-6);
  EXPECT_NEAR(t[1], 10 + 0.5 * z[1], 1e-5);
  // Other dtypes.
  for (Dtype d : {float16, bfloat16, float64}) {
    array h = random::normal({1000}, d, random::key(9));
    EXPECT_EQ(h.dtype(), d);
    std::vector<double> hv = values(h);
    EXPECT_NEAR(mean_of(hv), 0.0, 5 / std::sqrt(1000.0));
  }
  array c = random::normal({4}, complex64, random::key(1));
  EXPECT_EQ(c.dtype(), complex64);
}

TEST(RandomNormal, GradThroughLocAndScale) {
  array key = random::key(4);
  array z = random::normal({6}, key);
  auto f = [&](const std::vector<array>& p) {
    return sum(random::normal({6}, float32, p[0], p[1], key) * arange(1.0, 7.0));
  };
  auto g = value_and_grad(f, {0, 1});
  auto [val, grads] = g({array(0.5f), array(2.0f)});
  // d/dloc sum(w * (loc + scale z)) = sum(w); d/dscale = sum(w z).
  std::vector<double> zv = values(z);
  double wz = 0;
  for (int i = 0; i < 6; ++i) wz += (i + 1) * zv[i];
  EXPECT_NEAR(grads[0].item<float>(), 21.0, 1e-4);
  EXPECT_NEAR(grads[1].item<float>(), wz, 1e-4 * (1 + std::abs(wz)));
}

TEST(RandomTruncatedNormal, BoundsAndDistribution) {
  const size_t n = 100000;
  double a = -0.5, b = 1.5;
  std::vector<double> v = values(random::truncated_normal(array(float(a)), array(float(b)), {int(n)}, float32,
                                                          random::key(21)));
  EXPECT_GE(*std::min_element(v.begin(), v.end()), a);
  EXPECT_LE(*std::max_element(v.begin(), v.end()), b);
  double fa = normal_cdf(a), fb = normal_cdf(b);
  EXPECT_LT(ks_statistic(v, [&](double x) { return (normal_cdf(x) - fa) / (fb - fa); }), ks_limit(n));
  // Shape from the bounds, per-element bounds.
  array t = random::truncated_normal(array({-1.0f, 0.0f, 2.0f}), array({1.0f, 0.1f, 3.0f}), float32, random::key(1));
  EXPECT_EQ(t.shape(), Shape({3}));
  std::vector<double> tv = values(t);
  EXPECT_TRUE(tv[0] >= -1 && tv[0] <= 1 && tv[1] >= 0 && tv[1] <= 0.1 && tv[2] >= 2 && tv[2] <= 3);
  EXPECT_EQ(random::truncated_normal(array(-2.0), array(2.0), {}, float16).dtype(), float16);
}

TEST(RandomGumbelLaplace, Moments) {
  const size_t n = 200000;
  // Gumbel(0, 1): mean = Euler's gamma, variance pi^2 / 6.
  std::vector<double> g = values(random::gumbel({int(n)}, float32, random::key(31)));
  double var_g = M_PI * M_PI / 6;
  EXPECT_NEAR(mean_of(g), 0.5772156649, 5 * std::sqrt(var_g / n));
  EXPECT_NEAR(var_of(g), var_g, 0.05);
  EXPECT_LT(ks_statistic(g, [](double x) { return std::exp(-std::exp(-x)); }), ks_limit(n));
  // Laplace(loc, scale): mean loc, variance 2 scale^2; CDF for the KS test.
  std::vector<double> l = values(random::laplace({int(n)}, 1.0f, 2.0f, random::key(32)));
  EXPECT_NEAR(mean_of(l), 1.0, 5 * std::sqrt(8.0 / n));
  EXPECT_NEAR(var_of(l), 8.0, 0.2);
  auto laplace_cdf = [](double x) {
    double z = (x - 1.0) / 2.0;
    return z < 0 ? 0.5 * std::exp(z) : 1 - 0.5 * std::exp(-z);
  };
  EXPECT_LT(ks_statistic(l, laplace_cdf), ks_limit(n));
  EXPECT_EQ(random::laplace({3}, float16).dtype(), float16);
}

TEST(RandomMultivariateNormal, Covariance) {
  const int n = 100000;
  array mean = array({1.0f, -2.0f, 0.5f});
  array cov = array({4.0f, 1.2f, -0.8f, 1.2f, 1.0f, 0.3f, -0.8f, 0.3f, 2.0f}, {3, 3});
  array x = random::multivariate_normal(mean, cov, {n}, float32, random::key(41));
  ASSERT_EQ(x.shape(), Shape({n, 3}));
  std::vector<double> v = values(x);
  double m[3] = {0, 0, 0};
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < 3; ++j) m[j] += v[i * 3 + j] / n;
  std::vector<double> c = values(cov);
  for (int j = 0; j < 3; ++j) EXPECT_NEAR(m[j], values(mean)[j], 5 * std::sqrt(c[j * 4] / n));
  for (int a = 0; a < 3; ++a)
    for (int b = 0; b < 3; ++b) {
      double s = 0;
      for (int i = 0; i < n; ++i) s += (v[i * 3 + a] - m[a]) * (v[i * 3 + b] - m[b]);
      // sd of a sample covariance: sqrt((c_aa c_bb + c_ab^2) / n).
      double sd = std::sqrt((c[a * 4] * c[b * 4] + c[a * 3 + b] * c[a * 3 + b]) / n);
      EXPECT_NEAR(s / n, c[a * 3 + b], 6 * sd) << a << "," << b;
    }
  // A singular (rank 1) covariance: both coordinates the same sample.
  array same = random::multivariate_normal(zeros({2}), ones({2, 2}), {100}, float32, random::key(42));
  std::vector<double> sv = values(same);
  for (int i = 0; i < 100; ++i) ASSERT_NEAR(sv[2 * i], sv[2 * i + 1], 1e-5) << i;
  EXPECT_GT(var_of(sv), 0.3);
  // Batches of mean and cov broadcast with shape.
  EXPECT_EQ(random::multivariate_normal(zeros({3}), zeros({1, 2, 3, 3}) + eye(3), {10, 2}, float32).shape(),
            Shape({10, 2, 3}));
  EXPECT_TRUE(throws_invalid([] { random::multivariate_normal(zeros({3, 1}), eye(3), {10}, float32); },
                             "[multivariate_normal] mean and cov must have compatible shapes."));
  EXPECT_TRUE(throws_invalid([] { random::multivariate_normal(zeros({3}), eye(3), {10}, float16); },
                             "[multivariate_normal] dtype must be float32."));
  EXPECT_TRUE(throws_invalid([] { random::multivariate_normal(zeros({3}), zeros({3, 2}), {10}, float32); },
                             "[multivariate_normal] last two dimensions of cov must be equal."));
  EXPECT_TRUE(throws_invalid([] { random::multivariate_normal(array(1.0f), eye(3), {10}, float32); },
                             "[multivariate_normal] mean must have at least one dimension."));
}

// --- discrete distributions --------------------------------------------------

TEST(RandomBernoulli, Mean) {
  const size_t n = 200000;
  for (double p : {0.1, 0.5, 0.93}) {
    array x = random::bernoulli(array(float(p)), {int(n)}, random::key(51));
    EXPECT_EQ(x.dtype(), bool_);
    EXPECT_NEAR(mean_of(values(x)), p, 5 * std::sqrt(p * (1 - p) / n)) << p;
  }
  EXPECT_TRUE(random::bernoulli(array(5.0f), random::key(1)).item<bool>());
  EXPECT_FALSE(random::bernoulli(array(-1.0f), random::key(1)).item<bool>());
  EXPECT_TRUE(all(random::bernoulli(array(1.0f), {1000}, random::key(2))).item<bool>());
  EXPECT_FALSE(any(random::bernoulli(array(0.0f), {1000}, random::key(2))).item<bool>());
  // p broadcast to shape, p float16, default p = 0.5.
  array p = reshape(array({0.0f, 1.0f, 0.0f}), {1, 3});
  EXPECT_TRUE(array_is(random::bernoulli(p, {2, 3}, random::key(3)), bool_, {2, 3}, {0, 1, 0, 0, 1, 0}));
  EXPECT_EQ(random::bernoulli(array(0.5, float16)).dtype(), bool_);
  EXPECT_EQ(random::bernoulli().shape(), Shape{});
  EXPECT_EQ(random::bernoulli(array({})).size(), 0u);
}

// A permutation holds each element once; keys give different orders; a
// matrix is shuffled along the axis as whole slices; every position sees
// every value about equally often.
TEST(RandomPermutation, IsAShuffle) {
  std::vector<double> p = values(random::permutation(50, random::key(4)));
  std::vector<double> sorted = p;
  std::sort(sorted.begin(), sorted.end());
  for (int i = 0; i < 50; ++i) EXPECT_EQ(sorted[size_t(i)], i);
  EXPECT_NE(p, sorted);
  EXPECT_EQ(random::permutation(50, random::key(4)).dtype(), int32);
  EXPECT_EQ(values(random::permutation(50, random::key(4))), p);
  EXPECT_NE(values(random::permutation(50, random::key(5))), p);

  array m = reshape(arange(12), {3, 4});  // rows 4r..4r+3; columns c, c+4, c+8
  std::vector<double> cols = values(random::permutation(m, 1, random::key(6)));
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 4; ++c) EXPECT_EQ(cols[size_t(r * 4 + c)], cols[size_t(c)] + 4 * r);

  const int n = 4, trials = 4000;
  std::vector<int> count(n * n, 0);
  array keys = random::split(random::key(7), trials);
  for (int t = 0; t < trials; ++t) {
    std::vector<double> q = values(random::permutation(n, take(keys, t, 0)));
    for (int i = 0; i < n; ++i) ++count[size_t(i * n + int(q[size_t(i)]))];
  }
  // Each (position, value) has probability 1/4: 1000 expected, sd ~27.
  for (int c : count) EXPECT_NEAR(c, trials / n, 150);
  EXPECT_TRUE(throws_invalid([] { random::permutation(array(1.0f)); }, "[permutation] Invalid axis 0"));
}

TEST(RandomRandint, RangeAndUniformity) {
  const int n = 100000;
  array x = random::randint(-3, 7, {n}, int32, random::key(61));
  EXPECT_EQ(x.dtype(), int32);
  std::vector<double> v = values(x);
  std::vector<int> counts(10, 0);
  for (double e : v) {
    ASSERT_GE(e, -3);
    ASSERT_LT(e, 7);
    counts[int(e) + 3]++;
  }
  // Chi-square with 9 degrees of freedom; 34 is its 1 - 1e-4 quantile
  // (Wilson-Hilferty: 9 (1 - 2/81 + 3.719 sqrt(2/81))^3 = 34.1).
  double chi2 = 0;
  for (int c : counts) chi2 += (c - n / 10.0) * (c - n / 10.0) / (n / 10.0);
  EXPECT_LT(chi2, 34.0);
  // Dtypes, empty and inverted ranges, large bounds, broadcast bounds.
  for (Dtype t : {uint8, int8, uint32, int64, uint64, int16}) {
    array y = random::randint(0, 100, {1000}, t, random::key(62));
    EXPECT_EQ(y.dtype(), t);
    std::vector<double> yv = values(y);
    EXPECT_GE(*std::min_element(yv.begin(), yv.end()), 0);
    EXPECT_LT(*std::max_element(yv.begin(), yv.end()), 100);
    EXPECT_GT(var_of(yv), 500) << dtype_name(t);  // uniform on 0..99: 833
  }
  EXPECT_TRUE(all(equal(random::randint(20, -10, {3, 3}), array(20))).item<bool>());
  array big = random::randint(array(int64_t(1) << 40), array((int64_t(1) << 40) + 3), {1000}, int64, random::key(1));
  std::vector<int64_t> bv(big.data<int64_t>(), big.data<int64_t>() + 1000);
  EXPECT_EQ(*std::min_element(bv.begin(), bv.end()), int64_t(1) << 40);
  EXPECT_EQ(*std::max_element(bv.begin(), bv.end()), (int64_t(1) << 40) + 2);
  EXPECT_EQ(random::randint(0, 2, {}, bool_).dtype(), bool_);
  array per_row = random::randint(array({0, 10}), array({1, 11}), {5, 2}, int32, random::key(2));
  EXPECT_TRUE(array_is(per_row, int32, {5, 2}, {0, 10, 0, 10, 0, 10, 0, 10, 0, 10}));
}

TEST(RandomCategorical, FrequenciesAndShapes) {
  const int n = 50000;
  // Probabilities 0.1, 0.2, 0.7 as log-weights.
  array logits = log(array({0.1f, 0.2f, 0.7f}));
  array s = random::categorical(logits, -1, n, random::key(71));
  EXPECT_EQ(s.shape(), Shape({n}));
  EXPECT_EQ(s.dtype(), uint32);
  std::vector<double> v = values(s);
  double p[3] = {0.1, 0.2, 0.7};
  for (int k = 0; k < 3; ++k) {
    double f = double(std::count(v.begin(), v.end(), double(k))) / n;
    EXPECT_NEAR(f, p[k], 5 * std::sqrt(p[k] * (1 - p[k]) / n)) << k;
  }
  array batch = zeros({4, 6});
  EXPECT_EQ(random::categorical(batch).shape(), Shape({4}));
  EXPECT_EQ(random::categorical(batch, 0).shape(), Shape({6}));
  EXPECT_EQ(random::categorical(batch, 1, Shape{2, 4}).shape(), Shape({2, 4}));
  EXPECT_EQ(random::categorical(batch, -1, 7).shape(), Shape({4, 7}));
  // A certain category (others at -inf) is always drawn.
  array sure = array({-INFINITY, 0.0f, -INFINITY});
  EXPECT_TRUE(all(equal(random::categorical(sure, 0, 100, random::key(1)), array(1u))).item<bool>());
  EXPECT_TRUE(throws_invalid([&] { random::categorical(batch, 2); }, "[categorical] Invalid axis 2"));
  EXPECT_TRUE(throws_invalid([&] { random::categorical(batch, 1, Shape{3}); }, "[categorical]"));
}

// --- transformations and fusion ----------------------------------------------

TEST(RandomVmap, OverKeysEqualsLoop) {
  array keys = random::split(random::key(5), 4);
  auto draw = [](const array& k) { return random::uniform({3, 5}, k); };
  array batched = vmap(draw)(keys);
  ASSERT_EQ(batched.shape(), Shape({4, 3, 5}));
  for (int i = 0; i < 4; ++i) {
    array one = draw(reshape(slice(keys, {i, 0}, {i + 1, 2}), {2}));
    EXPECT_TRUE(array_equal(reshape(slice(batched, {i, 0, 0}, {i + 1, 3, 5}), {3, 5}), one).item<bool>()) << i;
  }
  // Keys along axis 1, normal and bits: the same against a loop.
  array keys_t = transpose(keys);
  array bn = vmap([](const array& k) { return random::normal({7}, k); }, 1)(keys_t);
  array bb = vmap([](const array& k) { return random::bits({5}, 2, k); })(keys);
  for (int i = 0; i < 4; ++i) {
    array k = reshape(slice(keys, {i, 0}, {i + 1, 2}), {2});
    EXPECT_TRUE(array_equal(reshape(slice(bn, {i, 0}, {i + 1, 7}), {7}), random::normal({7}, k)).item<bool>());
    EXPECT_TRUE(array_equal(reshape(slice(bb, {i, 0}, {i + 1, 5}), {5}), random::bits({5}, 2, k)).item<bool>());
  }
  // MLX's vmapped bits (JAX's values): keys (0,0) and (1,1), 3 words each.
  array two = array({0u, 0u, 1u, 1u}, {2, 2});
  EXPECT_TRUE(array_is(vmap([](const array& k) { return random::bits({3}, k); })(two), uint32, {2, 3},
                       {4146024105u, 1351547692u, 2718843009u, 3725146706u, 1802982961u, 1349634643u}));
}

TEST(RandomFusion, GenerationFusesWithItsConsumer) {
  // uniform(...) * x and a dropout mask: one kernel each (the bits are not
  // materialized). KILN_DUMP=fusion shows the same.
  array key = random::key(1);
  ir::Type mat{float32, {512, 256}};
  EXPECT_EQ(kernels_of([&](const std::vector<array>& x) {
              return std::vector<array>{random::uniform({512, 256}, key) * x[0]};
            }, {mat}), 1);
  EXPECT_EQ(kernels_of([&](const std::vector<array>& x) {
              array keep = random::bernoulli(array(0.9f), {512, 256}, key);
              return std::vector<array>{where(keep, x[0] / 0.9f, array(0.0f))};
            }, {mat}), 1);
  // The key itself as an input (a traced key, as in a compiled training step).
  EXPECT_EQ(kernels_of([](const std::vector<array>& x) {
              return std::vector<array>{random::normal({512, 256}, x[1]) + x[0]};
            }, {mat, ir::Type{uint32, {2}}}), 1);
}

TEST(RandomCompile, KeyAsArgument) {
  auto f = compile([](const std::vector<array>& x) { return std::vector<array>{random::uniform({4}, x[0])}; });
  array k1 = random::key(1), k2 = random::key(2);
  EXPECT_TRUE(array_equal(f({k1})[0], random::uniform({4}, k1)).item<bool>());
  EXPECT_TRUE(array_equal(f({k2})[0], random::uniform({4}, k2)).item<bool>());
  EXPECT_FALSE(array_equal(f({k1})[0], f({k2})[0]).item<bool>());
}

// The same bits from the reference interpreter and from the OpenCL backend.
TEST(RandomDevices, InterpreterAndOpenClAgree) {
  array key = random::key(9);
  std::vector<uint32_t> jit = words(random::bits({40, 50}, key));
  std::vector<double> jit_u = values(random::uniform({40, 50}, float16, key));
  setenv("KILN_EXECUTOR", "interp", 1);
  std::vector<uint32_t> interp = words(random::bits({40, 50}, key));
  std::vector<double> interp_u = values(random::uniform({40, 50}, float16, key));
  unsetenv("KILN_EXECUTOR");
  EXPECT_EQ(jit, interp);
  EXPECT_EQ(jit_u, interp_u);
  REQUIRE_OPENCL();
  for (Shape s : {Shape{300, 500}, Shape{100003}}) {
    std::vector<uint32_t> cpu = words(random::bits(s, key));
    std::vector<double> cpu_n = values(random::bits(s, 1, key));
    StreamContext on(Device::gpu);
    EXPECT_EQ(words(random::bits(s, key)), cpu);
    EXPECT_EQ(values(random::bits(s, 1, key)), cpu_n);
  }
}

// --- edge cases and errors ---------------------------------------------------

TEST(RandomErrors, AsMlx) {
  array key = random::key(0);
  EXPECT_EQ(random::bits({0}, key).shape(), Shape({0}));
  EXPECT_EQ(random::uniform({0, 3}, key).shape(), Shape({0, 3}));
  EXPECT_EQ(random::normal({2, 0}, key).size(), 0u);
  EXPECT_TRUE(throws_invalid([] { random::bits({}, array({0, 0})); },
                             "[bits] Expected key type uint32 but received int32."));
  EXPECT_TRUE(throws_invalid([] { random::uniform({}, array({0u, 0u}, {1, 2})); },
                             "[bits] Expected key shape (2) but received (1,2)."));
  EXPECT_TRUE(throws_invalid([] { random::normal({}, array({0u, 0u, 0u}, {3, 1})); }, "[bits] Expected key shape"));
  for (int w : {0, 3, 5, -1})
    EXPECT_TRUE(throws_invalid([&] { random::bits({}, w, key); }, "[bits] Bit width must be in {1, 2, 4} but got "));
  EXPECT_TRUE(throws_invalid([&] { random::uniform({}, int32, key); },
                             "[uniform] Can only generate uniform numbers with real floating point type."));
  EXPECT_TRUE(throws_invalid([&] { random::uniform(zeros({3, 3}), array(1.0f), {1, 3}, float32, key); },
                             "[uniform] Cannot generate random values of shape (1,3) from broadcasted shape (3,3)."));
  EXPECT_TRUE(throws_invalid([&] { random::uniform(zeros({3, 3}), array(1.0f), {2, 3}, float32, key); }, "[uniform]"));
  EXPECT_TRUE(throws_invalid([&] { random::normal({}, int32, key); }, "[normal]"));
  EXPECT_TRUE(throws_invalid([&] { random::randint(array(3), array(5), {1}, float32, key); },
                             "[randint] randint only accepts integer dtypes and bool."));
  EXPECT_TRUE(throws_invalid([&] { random::bernoulli(array(1), key); },
                             "[bernoulli] bernoulli probability `p` must be a float type."));
  EXPECT_TRUE(throws_invalid([&] { random::bernoulli(array({0.1f, 0.2f, 0.3f}), {2}, key); },
                             "[bernoulli] shape of `p` is incompatible with argument `shape`."));
  EXPECT_TRUE(throws_invalid([&] { random::bernoulli(array({}), {3, 3}, key); }, "[bernoulli]"));
  EXPECT_TRUE(throws_invalid([&] { random::truncated_normal(array(-1.0f), array(1.0f), {2}, int32, key); },
                             "[trunc_normal] trunc_normal only accepts floating point dtypes."));
  EXPECT_TRUE(throws_invalid([&] { random::laplace({2}, int32, key); }, "[laplace]"));
  EXPECT_TRUE(throws_invalid([&] { random::gumbel({2}, int32, key); }, "[uniform]"));
  EXPECT_TRUE(throws_invalid([&] { random::bits({-1}, key); }, "[bits]"));
  EXPECT_TRUE(throws_invalid([&] { random::bits({65536, 32768}, 1, key); }, "[bits] Cannot generate 2147483648 elements"));
}
