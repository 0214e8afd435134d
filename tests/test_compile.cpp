// compile(): results equal the uncompiled function's, traces are cached by
// signature (the most recently used, up to a limit), captured arrays are
// constants (whose values do not make new kernels), tracing errors are
// clear, and compiled functions may be called from several threads.
#include <atomic>
#include <cmath>
#include <thread>

#include "runtime/lru_cache.h"
#include "test_helpers.h"

using namespace kiln;
using kiln_test::array_is;

namespace {

std::vector<array> gelu_like(const std::vector<array>& xs) {
  const array& x = xs[0];
  return {0.5f * x * (1.0f + tanh(0.7978845608f * (x + 0.044715f * x * x * x)))};
}

}  // namespace

TEST(Compile, MatchesEagerResult) {
  auto f = compile(gelu_like);
  array x = array({-2.0f, -0.5f, 0.0f, 0.5f, 2.0f});
  array expected = gelu_like({x})[0];
  EXPECT_TRUE(allclose(f({x})[0], expected, 0, 0).item<bool>());
  // GELU(2) with the tanh approximation, computed by hand in double.
  EXPECT_NEAR(f({x})[0].data<float>()[4], 1.9545977, 1e-6);
}

TEST(Compile, CachesTracesBySignature) {
  reset_jit_stats();
  auto f = compile(gelu_like);
  f({zeros({4})});
  EXPECT_EQ(jit_stats().traces, 1u);
  f({ones({4})});  // same dtype and shape: reuses the trace
  EXPECT_EQ(jit_stats().traces, 1u);
  EXPECT_EQ(jit_stats().trace_cache_hits, 1u);
  f({ones({5})});  // new shape: new trace
  EXPECT_EQ(jit_stats().traces, 2u);
  f({ones({5}, float16)});  // new dtype: new trace
  EXPECT_EQ(jit_stats().traces, 3u);
}

TEST(Compile, UnaryAndBinaryForms) {
  auto sq = compile([](const array& x) { return x * x; });
  EXPECT_TRUE(array_is(sq(array({1, 2, 3})), int32, {3}, {1, 4, 9}));
  auto axpy = compile([](const array& x, const array& y) { return 2 * x + y; });
  EXPECT_TRUE(array_is(axpy(array({1.0f, 2.0f}), array({10.0f, 20.0f})), float32, {2}, {12, 24}));
}

TEST(Compile, CapturedArraysAreConstants) {
  array w = array({1.0f, 2.0f, 3.0f});
  auto f = compile([w](const array& x) { return sum(x * w); });
  EXPECT_TRUE(array_is(f(ones({3})), float32, {}, {6}));
  EXPECT_TRUE(array_is(f(array({1.0f, 0.0f, -1.0f})), float32, {}, {-2}));
}

TEST(Compile, CapturedPendingArraysAreComputedOnce) {
  array w = exp(zeros({2}));  // pending when captured
  auto f = compile([w](const array& x) { return x + w; });
  EXPECT_TRUE(array_is(f(array({1.0f, 2.0f})), float32, {2}, {2, 3}));
}

TEST(Compile, EvalOfTracedValueThrowsClearly) {
  auto f = compile([](const array& x) {
    array y = x + 1;
    if (y.item<float>() > 0) return y;  // data-dependent control flow: not traceable
    return x;
  });
  try {
    f(array(1.0f));
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("[eval]"), std::string::npos) << e.what();
  }
}

TEST(Compile, NestedCompileInlines) {
  auto inner = compile([](const array& x) { return exp(x); });
  auto outer = compile([inner](const array& x) { return inner(x) + inner(2 * x); });
  array r = outer(array({0.0f, 1.0f}));
  // exp(0) + exp(0) = 2; exp(1) + exp(2) = 10.1073379...
  EXPECT_TRUE(array_is(r, float32, {2}, {2, 10.107337927389695}, 0, 1e-6));
}

TEST(Compile, IdentityAndConstantOutputs) {
  auto f = compile(ArrayFunction([](const std::vector<array>& xs) {
    return std::vector<array>{xs[0], array(7)};
  }));
  auto out = f({array({1, 2})});
  EXPECT_TRUE(array_is(out[0], int32, {2}, {1, 2}));
  EXPECT_TRUE(array_is(out[1], int32, {}, {7}));
}

TEST(Compile, DisableCompileRunsEagerly) {
  reset_jit_stats();
  disable_compile();
  auto f = compile(gelu_like);
  array r = f({zeros({3})})[0];
  enable_compile();
  EXPECT_EQ(jit_stats().traces, 0u);
  EXPECT_TRUE(array_is(r, float32, {3}, {0, 0, 0}));
}

TEST(Compile, WrongArgumentCountThrows) {
  auto f = compile(ArrayFunction([](const std::vector<array>& xs) {
    return std::vector<array>{xs.at(0) + xs.at(1)};
  }));
  EXPECT_THROW(f({array(1)}), std::out_of_range);  // the function itself indexes past the end
}

TEST(Compile, ConcurrentCallsFromFourThreads) {
  auto f = compile([](const array& x) { return sum(square(x)); });
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        int n = 1 + (i + t) % 5;  // several signatures, traced concurrently
        float got = f(arange(float(n))).item<float>();
        float want = float((n - 1) * n * (2 * n - 1) / 6);  // sum of squares 0..n-1
        if (got != want) wrong++;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
}

// Threads evaluating arrays that share one pending input (issue 9, item 3):
// each materializes `base` or finds it materialized, never half of either.
// Also run under ThreadSanitizer (scripts/test.sh).
TEST(Concurrency, EvalOfGraphsSharingPendingNodes) {
  for (int round = 0; round < 50; ++round) {
    // A long pending chain widens the window in which threads overlap.
    array base = exp(arange(0.0, 64.0, 1.0) / 64.0f);
    for (int i = 0; i < 40; ++i) base = (base + float(i)) - float(i);
    array captured = base * 3.0f;                      // pending, read by a compiled function
    auto g = compile([captured](const array& x) { return sum(x * captured); });
    std::atomic<int> wrong{0}, ready{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        float k = float(t + 1);
        double want = 0;
        for (int i = 0; i < 64; ++i) want += std::exp(i / 64.0) * k;
        ready++;
        while (ready.load() < 4) std::this_thread::yield();  // start together
        float got = t % 2 ? sum(base * k).item<float>() : g(array(k)).item<float>() / 3.0f;
        if (std::fabs(got - want) > 1e-4 * want) wrong++;
      });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(wrong.load(), 0) << "round " << round;
  }
}

// --- bounded caches (issue 9, item 16) ---------------------------------------

TEST(LruCache, DropsTheLeastRecentlyUsed) {
  runtime::LruCache<int, std::string> c;
  c.insert(1, "one");
  c.insert(2, "two");
  c.insert(3, "three");
  ASSERT_NE(c.find(1), nullptr);                 // 1 is now the most recent
  EXPECT_EQ(c.insert(2, "other"), "two");         // a present key keeps its value
  EXPECT_EQ(c.trim(2), std::vector<std::string>{"three"});
  EXPECT_EQ(c.find(3), nullptr);
  EXPECT_EQ(c.trim(0), (std::vector<std::string>{"one", "two"}));  // least recent first
  EXPECT_EQ(c.size(), 0u);
}

namespace {
// Sets the trace cache's limit for one test.
struct TraceLimit {
  size_t saved = trace_cache_limit();
  explicit TraceLimit(size_t n) { set_trace_cache_limit(n); }
  ~TraceLimit() { set_trace_cache_limit(saved); }
};
}  // namespace

// A compiled function called with ever new shapes kept a trace and an
// executable per shape forever: 5,000 shapes grew the process by 388 MB.
// It keeps the most recently used ones, up to the limit.
TEST(CompileCache, ManyShapesKeepAtMostTheLimit) {
  EXPECT_EQ(trace_cache_limit(), 64u) << "the documented default";
  TraceLimit limit(16);
  auto f = compile([](const array& x) { return x * 2.0f + 1.0f; });
  reset_jit_stats();
  const int shapes = 1000;
  for (int n = 1; n <= shapes; ++n) {
    array y = f(full({n}, float(n)));
    ASSERT_EQ(y.shape(), Shape{n});
    ASSERT_EQ(y.data<float>()[n - 1], 2.0f * float(n) + 1.0f) << n;
  }
  JitStats s = jit_stats();
  EXPECT_EQ(s.traces, uint64_t(shapes));
  EXPECT_EQ(s.trace_cache_evictions, uint64_t(shapes - 16)) << "traces kept: " << s.traces - s.trace_cache_evictions;
  // The 16 most recent shapes are still there ...
  for (int n = shapes - 15; n <= shapes; ++n) f(full({n}, 1.0f)).eval();
  EXPECT_EQ(jit_stats().traces, uint64_t(shapes));
  EXPECT_EQ(jit_stats().trace_cache_hits, 16u);
  // ... an old one is traced again, and still right.
  EXPECT_TRUE(array_is(f(full({1}, 3.0f)), float32, {1}, {7}));
  EXPECT_EQ(jit_stats().traces, uint64_t(shapes + 1));
  EXPECT_EQ(jit_stats().trace_cache_evictions, uint64_t(shapes - 16 + 1));

  EXPECT_TRUE(kiln_test::throws_invalid([] { set_trace_cache_limit(0); }, "[set_trace_cache_limit]"));
}

// Threads calling one compiled function with more shapes than it keeps:
// a trace dropped while another thread runs it finishes that call.
// Also run under ThreadSanitizer (scripts/test.sh).
TEST(CompileCache, EvictionWhileOtherThreadsCall) {
  TraceLimit limit(2);
  auto f = compile([](const array& x) { return sum(x * x); });
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 40; ++i) {
        int n = 1 + (i * 7 + t) % 9;  // 9 shapes, 2 kept
        if (f(ones({n})).item<float>() != float(n)) wrong++;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
}

// Scalars a function captures are constants of its trace. Kernels took
// their values as part of their structure: 2,000 lambdas with distinct
// captured scalars compiled 2,000 kernels (87 s). The values are kernel
// parameters now: one kernel, and every result right.
TEST(CompileCache, DistinctCapturedScalarsShareOneKernel) {
  array x = arange(8.0f);
  x.eval();
  reset_jit_stats();
  for (int i = 0; i < 500; ++i) {
    float s = 1.0f + 0.001f * float(i);
    auto by_float = compile([s](const array& v) { return v * s + 0.5f; });
    array captured(s);
    auto by_array = compile([captured](const array& v) { return v * captured + 0.5f; });
    array a = by_float(x), b = by_array(x);
    ASSERT_FLOAT_EQ(a.data<float>()[7], 7.0f * s + 0.5f) << i;
    ASSERT_FLOAT_EQ(b.data<float>()[3], 3.0f * s + 0.5f) << i;
  }
  EXPECT_LE(jit_stats().kernels_compiled, 1u);
  EXPECT_EQ(jit_stats().traces, 1000u);
  // Every dtype's constants go through the parameter block exactly.
  auto check = [&](Dtype t, double c) {
    array v = astype(arange(4.0f), t);
    v.eval();
    array want = v + astype(array(float(c)), t);
    want.eval();
    array got = compile([c, t](const array& u) { return u + astype(array(float(c)), t); })(v);
    EXPECT_TRUE(array_equal(got, want).item<bool>()) << dtype_name(t) << " " << c;
  };
  for (Dtype t : {float16, bfloat16, float32, float64, int8, uint8, int16, uint16, int32, uint32, int64, uint64})
    for (double c : {0.0, 1.0, 3.0, -3.0, 100.0, 0.375, 1e6}) check(t, c);
  check(bool_, 1.0);
}

// A compiled function that draws from the global random sequence takes a
// fresh key on each call (an implicit input), as eager code would: before,
// the key drawn at trace time was baked in and every call returned the
// same numbers (the same dropout mask on every training step).
TEST(CompileRandom, EachCallDrawsAFreshKey) {
  auto noisy = compile([](const array& x) { return x + random::uniform({64}); });
  array x = zeros({64});
  random::seed(3);
  array a = noisy(x), b = noisy(x);
  EXPECT_FALSE(array_equal(a, b).item<bool>());
  // In [0, 1), so the key is no garbage.
  EXPECT_TRUE(all(logical_and(greater_equal(a, array(0.0f)), less(a, array(1.0f)))).item<bool>());
  // The draws follow the global sequence: reseeding repeats them, and
  // they are what eager code would draw with the key the call took.
  random::seed(3);
  EXPECT_TRUE(array_equal(noisy(x), a).item<bool>());
  random::seed(3);
  array key = random::KeySequence::default_().next();
  EXPECT_TRUE(array_equal(a, random::uniform({64}, random::split(key).second)).item<bool>());
}

TEST(CompileRandom, FunctionsWithoutRandomnessLeaveTheSequenceAlone) {
  auto f = compile([](const array& x) { return x * 2.0f; });
  array x = arange(4.0f);
  random::seed(9);
  f(x);
  array after = random::bits({4});
  random::seed(9);
  EXPECT_TRUE(array_equal(random::bits({4}), after).item<bool>());
  EXPECT_TRUE(array_is(f(x), float32, {4}, {0, 2, 4, 6}));
}

TEST(CompileRandom, ShapelessAndNestedDrawFreshKeys) {
  auto shapeless = compile([](const array& x) { return x + random::normal(x.shape()); }, /*shapeless=*/true);
  array x = zeros({3, 5});
  array a = shapeless(x), b = shapeless(x);
  EXPECT_FALSE(array_equal(a, b).item<bool>());
  // (Other shapes are not tried: random bits bake their shape into the
  // trace, which a shapeless trace cannot re-specialize; a known limit.)
  // A compiled function called inside another takes the outer call's keys.
  auto inner = compile([](const array& v) { return v + random::uniform({8}); });
  auto outer = compile(ArrayFunction([&](const std::vector<array>& v) {
    return std::vector<array>{inner(v[0]), inner(v[0])};
  }));
  array y = zeros({8});
  auto p = outer({y}), q = outer({y});
  // Each inner call draws its own numbers, and so does each outer call.
  EXPECT_FALSE(array_equal(p[0], p[1]).item<bool>());
  EXPECT_FALSE(array_equal(p[0], q[0]).item<bool>());
}
