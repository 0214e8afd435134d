// compile(fun, shapeless = true): one trace of fun serves every input shape
// of the same ranks and dtypes (counted by a side effect in fun), with the
// values an element loop computes; what the trace fixed to its shapes
// (literal reshapes, partial slices of resized axes) throws; functions that
// baked a shape into a constant (mean) are traced per shape. Also
// CompileMode and compile() of a plain function pointer.
#include <atomic>
#include <cmath>

#include "test_helpers.h"

using namespace kiln;
using kiln_test::array_is;
using kiln_test::throws_invalid;

namespace {

// arange(size).reshape(s) as float32, scaled so values stay small.
array ramp(const Shape& s, float scale = 0.25f) {
  int n = 1;
  for (auto d : s) n *= d;
  return reshape(arange(0.0, double(n), float32), s) * scale;
}

std::vector<double> loop(const array& x, double (*fn)(double)) {
  std::vector<double> out;
  for (double v : kiln_test::values(x)) out.push_back(fn(v));
  return out;
}

std::atomic<int> g_calls{0};

std::vector<array> affine(const std::vector<array>& xs) {
  ++g_calls;
  return {exp(xs[0]) * 2.0f - 1.0f};
}

}  // namespace

TEST(Shapeless, OneTraceServesEveryShape) {
  g_calls = 0;
  reset_jit_stats();
  auto f = compile(affine, /*shapeless=*/true);
  for (Shape s : {Shape{2, 3}, Shape{4, 5}, Shape{1, 7}, Shape{0, 3}, Shape{2, 3}}) {
    array x = ramp(s);
    EXPECT_TRUE(array_is(f({x})[0], float32, s, loop(x, [](double v) { return 2 * std::exp(v) - 1; }), 1e-6, 1e-6))
        << kiln_test::detail::shape_str(s);
  }
  EXPECT_EQ(g_calls.load(), 1);
  EXPECT_EQ(jit_stats().traces, 1u);
  EXPECT_EQ(jit_stats().shapeless_specializations, 3u);  // (4,5), (1,7), (0,3)
  EXPECT_EQ(jit_stats().trace_cache_hits, 1u);           // (2,3) again
  // A new rank or dtype is a new trace.
  f({ramp({6})});
  f({astype(ramp({2, 3}), float16)});
  EXPECT_EQ(g_calls.load(), 3);
}

TEST(Shapeless, ReductionsKeepdimsAndBroadcasts) {
  int calls = 0;
  // x - max(x, -1, keepdims) + sum(x, 0) / 4: keepdims reshapes, a scalar
  // and two broadcasts along different axes.
  auto f = compile(
      [&](const array& x) {
        ++calls;
        return x - max(x, -1, true) + sum(x, 0) / 4.0f;
      },
      true);
  for (Shape s : {Shape{2, 3}, Shape{5, 4}, Shape{3, 1}}) {
    array x = ramp(s);
    auto v = kiln_test::values(x);
    std::vector<double> want(v.size());
    for (int i = 0; i < s[0]; ++i)
      for (int j = 0; j < s[1]; ++j) {
        double m = -1e30, c = 0;
        for (int k = 0; k < s[1]; ++k) m = std::max(m, v[i * s[1] + k]);
        for (int k = 0; k < s[0]; ++k) c += v[k * s[1] + j];
        want[i * s[1] + j] = v[i * s[1] + j] - m + c / 4;
      }
    EXPECT_TRUE(array_is(f(x), float32, s, want, 1e-6, 1e-6)) << kiln_test::detail::shape_str(s);
  }
  EXPECT_EQ(calls, 1);
}

TEST(Shapeless, SoftmaxMatmulFlattenAndBroadcastingInputs) {
  int calls = 0;
  auto f = compile(
      ArrayFunction([&](const std::vector<array>& xs) {
        ++calls;
        array p = softmax(matmul(xs[0], xs[1]), -1);   // [m, n]
        return std::vector<array>{p, flatten(p), xs[2] + xs[3]};
      }),
      true);
  for (auto [m, k, n] : {std::tuple{2, 3, 4}, std::tuple{5, 2, 3}, std::tuple{1, 4, 1}}) {
    array a = ramp({m, k}, 0.1f), b = ramp({k, n}, -0.2f);
    array col = ramp({m, 1}), row = ramp({1, n}, 10.0f);
    auto out = f({a, b, col, row});
    // The softmax by a loop over a @ b.
    auto va = kiln_test::values(a), vb = kiln_test::values(b);
    std::vector<double> want(m * n);
    for (int i = 0; i < m; ++i) {
      double total = 0;
      for (int j = 0; j < n; ++j) {
        double dot = 0;
        for (int t = 0; t < k; ++t) dot += va[i * k + t] * vb[t * n + j];
        total += want[i * n + j] = std::exp(dot);
      }
      for (int j = 0; j < n; ++j) want[i * n + j] /= total;
    }
    EXPECT_TRUE(array_is(out[0], float32, {m, n}, want, 1e-6, 1e-5));
    EXPECT_TRUE(array_is(out[1], float32, {m * n}, want, 1e-6, 1e-5));
    std::vector<double> sum_want;
    for (int i = 0; i < m; ++i)
      for (int j = 0; j < n; ++j) sum_want.push_back(0.25 * i + 10.0 * j);
    EXPECT_TRUE(array_is(out[2], float32, {m, n}, sum_want));
  }
  EXPECT_EQ(calls, 1);
}

TEST(Shapeless, FullSlicesAndPadsFollowTheInput) {
  int calls = 0;
  // x[:, ::-1] padded by one zero on each side of axis 1, then x[:, 1:]
  // would be a partial slice: only the full reversal is used here.
  auto f = compile(
      [&](const array& x) {
        ++calls;
        Shape start{0, x.shape(1) - 1}, stop{x.shape(0), -x.shape(1) - 1}, step{1, -1};
        return pad(slice(x, start, stop, step), std::vector<int>{1}, Shape{1}, Shape{1}, array(0.0f));
      },
      true);
  EXPECT_TRUE(array_is(f(ramp({2, 2}, 1)), float32, {2, 4}, {0, 1, 0, 0, 0, 3, 2, 0}));
  EXPECT_TRUE(array_is(f(ramp({1, 3}, 1)), float32, {1, 5}, {0, 2, 1, 0, 0}));
  EXPECT_EQ(calls, 1);
}

TEST(Shapeless, LiteralShapesThrowClearly) {
  // A reshape to literal sizes cannot follow a new input shape (as MLX).
  auto r = compile([](const array& x) { return reshape(x, {2, -1}); }, true);
  EXPECT_TRUE(array_is(r(ramp({6}, 1)), float32, {2, 3}, {0, 1, 2, 3, 4, 5}));
  EXPECT_TRUE(throws_invalid([&] { r(ramp({8}, 1)); }, "[compile] a shapeless function cannot reshape to a literal shape"));
  // flatten is not literal: it follows the input.
  auto fl = compile([](const array& x) { return flatten(x) + 1.0f; }, true);
  EXPECT_TRUE(array_is(fl(ramp({2, 2}, 1)), float32, {4}, {1, 2, 3, 4}));
  EXPECT_TRUE(array_is(fl(ramp({3, 1}, 1)), float32, {3}, {1, 2, 3}));
  // unflatten splits an axis into literal sizes: only that axis is fixed.
  auto u = compile([](const array& x) { return unflatten(x, 1, {2, 2}); }, true);
  EXPECT_EQ(u(ramp({3, 4})).shape(), (Shape{3, 2, 2}));
  EXPECT_EQ(u(ramp({5, 4})).shape(), (Shape{5, 2, 2}));
  EXPECT_TRUE(throws_invalid([&] { u(ramp({5, 6})); }, "[compile] a shapeless function cannot split"));
  // A partial slice of a resized axis.
  auto s = compile([](const array& x) { return slice(x, {1}, {3}); }, true);
  EXPECT_TRUE(array_is(s(ramp({4}, 1)), float32, {2}, {1, 2}));
  EXPECT_TRUE(throws_invalid([&] { s(ramp({5}, 1)); }, "[compile] a shapeless function's slice of axis 0"));
  // Inputs that no longer combine as the traced ones did.
  auto add = compile([](const array& x, const array& y) { return x + y; }, true);
  add(ramp({2, 3}), ramp({2, 3}));
  EXPECT_TRUE(throws_invalid([&] { add(ramp({2, 3}), ramp({2, 4})); }, "[compile]"));
}

TEST(Shapeless, ShapeBakedConstantsAreTracedPerShape) {
  int calls = 0;
  auto f = compile(
      [&](const array& x) {
        ++calls;
        return mean(x, 0);
      },
      true);
  EXPECT_TRUE(array_is(f(ramp({2, 2}, 1)), float32, {2}, {1, 2}));
  EXPECT_TRUE(array_is(f(ramp({4, 1}, 1)), float32, {1}, {1.5}));  // (0+1+2+3)/4, not /2
  EXPECT_EQ(calls, 2);
}

TEST(Shapeless, GradOfShapelessFunction) {
  auto f = compile([](const array& x) { return sum(square(x)); }, true);
  auto g = grad([&](const array& x) { return f(x); });
  EXPECT_TRUE(array_is(g(ramp({3}, 1)), float32, {3}, {0, 2, 4}));
  EXPECT_TRUE(array_is(g(ramp({2, 2}, 1)), float32, {2, 2}, {0, 2, 4, 6}));
}

// ---- CompileMode ---------------------------------------------------------------------

TEST(CompileModes, DisabledRunsEagerly) {
  int calls = 0;
  bool saw_placeholder = false;
  auto f = compile([&](const array& x) {
    ++calls;
    // Eager: the argument is the caller's array, whose value can be read.
    try { (void)sum(x).item<float>(); } catch (const std::invalid_argument&) { saw_placeholder = true; }
    return x * 3.0f;
  });
  set_compile_mode(CompileMode::disabled);
  EXPECT_EQ(compile_mode(), CompileMode::disabled);
  EXPECT_FALSE(compile_enabled());
  EXPECT_TRUE(array_is(f(ramp({2}, 1)), float32, {2}, {0, 3}));
  EXPECT_TRUE(array_is(f(ramp({2}, 1)), float32, {2}, {0, 3}));
  EXPECT_EQ(calls, 2);
  EXPECT_FALSE(saw_placeholder);
  set_compile_mode(CompileMode::enabled);
  EXPECT_TRUE(compile_enabled());
  f(ramp({2}, 1));
  f(ramp({2}, 1));
  EXPECT_EQ(calls, 3);  // traced once, then cached
  EXPECT_TRUE(saw_placeholder);
}

TEST(CompileModes, NoSimplifyAndNoFuseGiveTheSameValues) {
  int calls = 0;
  auto f = compile([&](const array& x) {
    ++calls;
    return arctan(x) * 3.0f - arctan(x) + 0.5f;
  });
  array x = ramp({3, 4});
  std::vector<double> want = loop(x, [](double v) { return 2 * std::atan(v) + 0.5; });
  for (CompileMode m : {CompileMode::no_simplify, CompileMode::no_fuse, CompileMode::enabled}) {
    set_compile_mode(m);
    EXPECT_TRUE(array_is(f(x), float32, {3, 4}, want, 1e-6, 1e-6)) << int(m);
  }
  set_compile_mode(CompileMode::enabled);
  EXPECT_EQ(calls, 3);  // the mode is part of the trace cache key
}

TEST(CompileModes, NoFusePlansEachOpAlone) {
  // A chain of elementwise ops is one kernel when fused, one per op when not
  // (float64 and these ops: kernels no other test compiled).
  auto chain = [](const array& x) { return cosh(sinh(x) * 1.25) - 0.75; };
  array x = astype(ramp({7}), float64);
  set_compile_mode(CompileMode::no_fuse);
  reset_jit_stats();
  array a = compile(chain)(x);
  auto kernels = [] { return jit_stats().kernels_compiled + jit_stats().kernel_cache_hits + jit_stats().disk_cache_hits; };
  auto unfused = kernels();
  set_compile_mode(CompileMode::enabled);
  reset_jit_stats();
  array b = compile(chain)(x);
  auto fused = kernels();
  EXPECT_EQ(fused, 1u);
  EXPECT_GE(unfused, 4u);
  EXPECT_TRUE(allclose(a, b).item<bool>());
}

// ---- compile of a plain function pointer -------------------------------------------------

TEST(CompileFunctionPointer, PlainFunction) {
  std::vector<array> (*fp)(const std::vector<array>&) = affine;
  g_calls = 0;
  auto f = compile(fp);
  array x = ramp({3});
  EXPECT_TRUE(array_is(f({x})[0], float32, {3}, loop(x, [](double v) { return 2 * std::exp(v) - 1; }), 1e-6, 1e-6));
  f({x});
  EXPECT_EQ(g_calls.load(), 1);
  auto g = compile(affine, true);  // the function itself converts too
  g({ramp({2})});
  g({ramp({5})});
  EXPECT_EQ(g_calls.load(), 2);
  EXPECT_TRUE(throws_invalid([] { compile(static_cast<std::vector<array> (*)(const std::vector<array>&)>(nullptr)); },
                             "[compile]"));
}
