// The JIT executor against the reference interpreter (the oracle), fusion
// kernel counts, and the kernel cache (its keys, its bound, unloading).
#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <fstream>
#include <filesystem>
#include <functional>
#include <limits>
#include <map>
#include <mutex>
#include <numeric>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "codegen/executor.h"
#include "codegen/llvm/jit.h"
#include "frontend/trace.h"
#include "ir/interpreter.h"
#include "passes/fusion.h"
#include "passes/pass_manager.h"
#include "runtime/narrow_gemm.h"
#include "runtime/thread_pool.h"
#include "opencl_test.h"
#include "test_helpers.h"

using namespace kiln;

namespace {

// The device whose backend `both` checks (the differential tests run on
// the CPU backend and again on the OpenCL one).
Device g_jit_device = Device::cpu;

// Evaluates `make()` twice, on the JIT of g_jit_device and on the interpreter.
std::pair<array, array> both(const std::function<array()>& make) {
  unsetenv("KILN_EXECUTOR");
  array jit = [&] {
    StreamContext on(g_jit_device);
    return make();
  }();
  jit.eval();
  setenv("KILN_EXECUTOR", "interp", 1);
  array ref = make();
  ref.eval();
  unsetenv("KILN_EXECUTOR");
  return {jit, ref};
}

::testing::AssertionResult same(const array& jit, const array& ref, double tol) {
  if (jit.dtype() != ref.dtype() || jit.shape() != ref.shape())
    return ::testing::AssertionFailure() << "type differs: " << jit << " vs " << ref;
  std::vector<double> a = kiln_test::values(jit), b = kiln_test::values(ref);
  for (size_t i = 0; i < a.size(); ++i) {
    bool both_nan = std::isnan(a[i]) && std::isnan(b[i]);
    if (both_nan || a[i] == b[i]) continue;
    if (std::abs(a[i] - b[i]) <= tol * (1 + std::abs(b[i]))) continue;
    return ::testing::AssertionFailure() << "element " << i << ": jit " << a[i] << " vs interpreter " << b[i];
  }
  return ::testing::AssertionSuccess();
}

int kernels_of(const ArrayFunction& fn, const std::vector<ir::Type>& types) {
  passes::PassManager pm;
  pm.add_pipeline("canonicalize,cse,dce");
  ir::Function f = pm.run(detail::trace(fn, types));
  int n = 0;
  for (auto& s : passes::plan_fusion(f).steps) n += s.kind == passes::Step::Kernel;
  return n;
}

array gelu(const array& x) { return 0.5f * x * (1.0f + tanh(0.7978845608f * (x + 0.044715f * x * x * x))); }

array layernorm(const array& x, const array& w, const array& b) {
  array mu = mean(x, -1, true);
  array xc = x - mu;
  array var_ = mean(xc * xc, -1, true);
  return xc * rsqrt(var_ + 1e-5f) * w + b;
}

// The optimized LLVM IR of the kernels that `run` compiles (KILN_DUMP=llvm
// into a fresh directory), concatenated.
std::string optimized_llvm(const std::function<void()>& run) {
  static int calls = 0;
  std::string dir = ::testing::TempDir() + "kiln_jit_llvm_" + std::to_string(getpid()) + "_" + std::to_string(calls++);
  setenv("KILN_DUMP", "llvm", 1);
  setenv("KILN_DUMP_DIR", dir.c_str(), 1);
  run();
  unsetenv("KILN_DUMP");
  unsetenv("KILN_DUMP_DIR");
  std::string text;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      std::string name = e->d_name;
      if (name.find("-llvm-") == std::string::npos || name.find("before-opt") != std::string::npos) continue;
      std::ifstream f(dir + "/" + name);
      std::stringstream ss;
      ss << f.rdbuf();
      text += ss.str();
    }
    closedir(d);
  }
  std::filesystem::remove_all(dir);
  return text;
}

}  // namespace

TEST(JitFusion, KernelCounts) {
  ir::Type vec{float32, {1000}};
  ir::Type mat{float32, {64, 128}};
  ir::Type row{float32, {128}};
  EXPECT_EQ(kernels_of([](const std::vector<array>& x) { return std::vector<array>{gelu(x[0])}; }, {vec}), 1);
  EXPECT_EQ(kernels_of([](const std::vector<array>& x) {
              array y = x[0];
              for (int i = 0; i < 20; ++i) y = (i % 2 ? exp(y) : y * 0.5f) + 1.0f;
              return std::vector<array>{y};
            }, {vec}), 1);
  EXPECT_LE(kernels_of([](const std::vector<array>& x) { return std::vector<array>{softmax(x[0], -1)}; }, {mat}), 2);
  EXPECT_LE(kernels_of([](const std::vector<array>& x) { return std::vector<array>{layernorm(x[0], x[1], x[2])}; },
                       {mat, row, row}), 2);
}

namespace {
void named_workloads() {
  std::vector<float> data(64 * 33);
  std::mt19937 rng(1);
  std::normal_distribution<float> nd(0, 2);
  for (auto& v : data) v = nd(rng);
  array x(data.data(), {64, 33}, float32);
  array w = linspace(0.5, 1.5, 33), b = linspace(-1, 1, 33);
  auto check = [&](const char* what, std::function<array()> make, double tol) {
    auto [j, r] = both(make);
    EXPECT_TRUE(same(j, r, tol)) << what;
  };
  check("gelu", [&] { return gelu(x); }, 1e-6);
  check("softmax", [&] { return softmax(x, -1); }, 1e-6);
  check("softmax axis 0", [&] { return softmax(x, 0); }, 1e-6);
  check("layernorm", [&] { return layernorm(x, w, b); }, 1e-5);
  // Float32 sums accumulate in float32 on the JIT (vectorized, reassociated)
  // and in double on the interpreter: allow n * eps relative to the terms.
  check("sum last", [&] { return sum(x, -1); }, 1e-5);
  check("sum first", [&] { return sum(x, 0); }, 1e-5);
  check("max all", [&] { return max(x); }, 0);
  check("transpose + add", [&] { return transpose(x) * 2.0f + 1.0f; }, 0);
  check("strided slice", [&] { return exp(slice(x, {1, 30}, {60, 2}, {3, -4})); }, 1e-6);
  check("broadcast outer", [&] { return reshape(sum(x, 1), {64, 1}) - x; }, 1e-5);
  check("logsumexp", [&] { return logsumexp(x, 1); }, 1e-6);
  check("var", [&] { return var(x, 0); }, 1e-5);
  check("flatten then op", [&] { return sum(reshape(transpose(x), {-1}) * 3.0f); }, 1e-5);
  // Matmuls read transposed operands in place (BLAS transpose flags).
  array y = slice(x, {0, 0}, {33, 33});
  check("matmul a^T b", [&] { return matmul(transpose(x), x); }, 1e-5);
  check("matmul a b^T", [&] { return matmul(x, transpose(x)); }, 1e-5);
  check("matmul a^T b^T + relu", [&] { return maximum(matmul(transpose(y), transpose(y)) + 1.0f, array(0.0f)); }, 1e-5);
  check("batched swapaxes", [&] {
    array b = reshape(slice(x, {0, 0}, {64, 32}), {4, 16, 32});
    return matmul(swapaxes(b, 1, 2), b);
  }, 1e-5);
}

// Random programs over random dtypes and shapes (with broadcasting, size-0
// and size-1 dims, transposed and sliced inputs), JIT vs interpreter.
void random_programs() {
  const Dtype dtypes[] = {float32, float64, int32, int64, uint8, float16, bfloat16, bool_, int8};
  for (int seed = 0; seed < 150; ++seed) {
    std::mt19937 rng(seed);
    auto pick = [&](int n) { return int(rng() % n); };
    Dtype t = dtypes[pick(9)];
    Shape shapes[] = {{5, 7}, {1, 7}, {5, 1}, {7}, {}, {0, 7}, {3, 5, 7}, {5, 7}};
    Shape base = shapes[pick(8)];
    auto make_input = [&](Shape s) {
      std::vector<float> v(ir::shape_size(s));
      std::uniform_real_distribution<float> ud(-4, 4);
      for (auto& e : v) e = ud(rng);
      return astype(array(v.data(), s, float32), t);
    };
    array a = make_input(base), b = make_input(shapes[pick(8)]);
    if (base.size() == 2 && pick(2)) a = transpose(make_input({base[1], base[0]}));
    std::vector<int> ops;
    for (int i = 0; i < 6; ++i) ops.push_back(pick(12));
    auto program = [&]() -> array {
      array x = a;
      for (int op : ops) {
        try {
          switch (op) {
            case 0: x = x + b; break;
            case 1: x = x * a; break;
            case 2: x = maximum(x, b); break;
            case 3: x = is_floating(x.dtype()) ? exp(x * 0.1f) : x - 1; break;
            case 4: x = where(x > a, x, b); break;
            case 5: x = x.ndim() ? sum(x, -1, true) : x; break;
            case 6: x = x.ndim() ? max(x, 0, true) + x : x; break;
            case 7: x = astype(x, float32) * 0.5f; break;
            case 8: x = abs(x) + 1; break;
            case 9: x = x.ndim() ? slice(x, Shape(x.ndim(), 0), x.shape(), Shape(x.ndim(), 2)) : x; break;
            case 10: x = is_floating(x.dtype()) ? tanh(x) : x * 2; break;
            case 11: x = x.ndim() ? mean(x, -1) : x; break;
          }
        } catch (const std::invalid_argument&) {
          // e.g. max over an empty axis or a shape that does not broadcast
        }
      }
      return x;
    };
    auto [j, r] = both(program);
    // The tolerance of the least precise float the program went through.
    bool through_f32 = std::find(ops.begin(), ops.end(), 7) != ops.end();
    double tol = (t == float16 || t == bfloat16) ? 1e-2 : (t == float64 && !through_f32 ? 1e-12 : 1e-5);
    EXPECT_TRUE(same(j, r, tol)) << "seed " << seed << " dtype " << t;
  }
}

// The same on the OpenCL backend (PoCL in CI: KILN_REQUIRE_OPENCL=1 makes
// a missing device a failure).
void on_gpu(void (*body)()) {
  REQUIRE_OPENCL();
  g_jit_device = Device::gpu;
  body();
  g_jit_device = Device::cpu;
}
}  // namespace

TEST(JitDifferential, NamedWorkloads) { named_workloads(); }
TEST(JitDifferential, RandomPrograms) { random_programs(); }
TEST(JitDifferentialGpu, NamedWorkloads) { on_gpu(named_workloads); }
TEST(JitDifferentialGpu, RandomPrograms) { on_gpu(random_programs); }

TEST(JitCache, ReusesKernelsAcrossShapes) {
  auto f = [](const array& x) { return sum(exp(x) * 2.0f, -1); };
  // Materialized inputs (a lazy ones() would be constant-folded away).
  auto input = [](Shape s, Dtype t) {
    array x = astype(reshape(arange(float(ir::shape_size(s))), s), t);
    x.eval();
    return x;
  };
  array a = input({3, 4}, float32), a2 = input({3, 4}, float32), b = input({17, 9}, float32);
  array c = input({3, 4}, float64);
  f(a).eval();  // warm
  codegen::reset_kernel_cache_stats();
  f(a2).eval();
  EXPECT_EQ(codegen::kernel_cache_stats().kernels_compiled, 0u) << "same signature";
  f(b).eval();
  EXPECT_EQ(codegen::kernel_cache_stats().kernels_compiled, 0u) << "new shape reuses the kernel";
  EXPECT_GE(codegen::kernel_cache_stats().kernel_cache_hits, 2u);
  f(c).eval();
  EXPECT_EQ(codegen::kernel_cache_stats().kernels_compiled, 1u) << "new dtype compiles a kernel";
}

// Cases a review found, each against the interpreter or a known value.
TEST(JitRegressions, ReviewedEdgeCases) {
  array x = reshape(astype(arange(12), float32), {4, 3});
  auto [j, r] = both([&] { return x - mean(x, 0, true); });
  EXPECT_TRUE(same(j, r, 1e-6)) << "a column mean broadcast back over rows";
  auto [j2, r2] = both([&] { return sum(x, 0) / sum(x); });
  EXPECT_TRUE(same(j2, r2, 1e-6)) << "a scalar reduction beside a column reduction";

  // 70 scalar sums in one expression (more loop variables than one kernel takes).
  std::vector<array> params;
  for (int i = 0; i < 70; ++i) params.push_back(full({3}, float(i)));
  array penalty = sum(params[0] * params[0]);
  for (int i = 1; i < 70; ++i) penalty = penalty + sum(params[i] * params[i]);
  // 3 * sum of i^2 for i < 70 = 3 * 69*70*139/6
  EXPECT_EQ(penalty.item<float>(), 3.0f * 69 * 70 * 139 / 6);

  // A float16 sum over two axes keeps its partial sums wide: 60000 + 60000
  // overflows float16, the whole sum is 0.
  array h = astype(array({60000.0f, 60000.0f, -60000.0f, -60000.0f}, {2, 2}), float16);
  EXPECT_EQ(sum(h).item<float>(), 0.0f);

  // floor_divide of float32 in double: 1 / 0.1f is just below 10.
  EXPECT_EQ(floor_divide(array(1.0f), array(0.1f)).item<float>(), 9.0f);

  // The sum over an empty axis is +0 (1 / +0 = +inf).
  array e = sum(zeros({0, 3}), 0);
  EXPECT_TRUE(kiln_test::array_is(divide(array(1.0f), e), float32, {3},
                                  {INFINITY, INFINITY, INFINITY}));
}

TEST(JitCache, ChangingScalarsReuseTheKernel) {
  array w = astype(arange(8.0f), float32);
  w.eval();
  auto step = [&](float lr) { return w - array(lr) * (w * w); };
  step(0.1f).eval();  // warm
  codegen::reset_kernel_cache_stats();
  for (int i = 1; i <= 5; ++i) step(0.1f / float(i)).eval();  // a learning-rate schedule
  EXPECT_EQ(codegen::kernel_cache_stats().kernels_compiled, 0u);
  // And the values are right: w - lr * w^2 at w = 3, lr = 0.02.
  EXPECT_FLOAT_EQ(step(0.02f).data<float>()[3], 3.0f - 0.02f * 9.0f);
}

// Kernel pointers are noalias (jit.h, emit.cpp): the vectorized loops carry
// no runtime checks for an output overlapping an input.
TEST(JitCodegen, NoRuntimeAliasChecks) {
  array a = astype(reshape(arange(48.0f), {6, 8}), float32), b = astype(arange(8.0f), float32);
  eval(a, b);
  array y = a, z = a;
  // Structures no other test compiles (new constants), so the kernels are built here.
  std::string ir = optimized_llvm([&] {
    y = a * 1.375f + b * 2.625f - a * b;          // rank 2: a row loop and a column loop
    z = reshape(a, {-1}) * 0.4375f + 3.0625f;      // rank 1
    eval(y, z);
  });
  EXPECT_NE(ir.find("vector.body"), std::string::npos) << ir;
  EXPECT_EQ(ir.find("vector.memcheck"), std::string::npos) << ir;
  EXPECT_FLOAT_EQ(y.data<float>()[13], 13 * 1.375f + 5 * 2.625f - 13.0f * 5);
  EXPECT_FLOAT_EQ(z.data<float>()[47], 47 * 0.4375f + 3.0625f);
}

// Buffer donation (codegen/donation.h): a kernel writes its output into the
// buffer of an intermediate that dies in that step, where it reads that
// intermediate elementwise; results stay those of the interpreter.
TEST(JitDonation, ReusesDyingIntermediates) {
  std::vector<float> av(8 * 8), bv(8 * 8);
  for (size_t i = 0; i < av.size(); ++i) {
    av[i] = float(int(i * 7 % 13) - 6) * 0.25f;
    bv[i] = float(int(i * 5 % 11) - 5) * 0.5f;
  }
  array a(av.data(), {8, 8}, float32), b(bv.data(), {8, 8}, float32);
  auto donated_by = [&](const std::function<array()>& make, const char* what) {
    reset_jit_stats();
    auto [j, r] = both(make);
    EXPECT_TRUE(same(j, r, 1e-5)) << what;
    return jit_stats().buffers_donated;
  };
  // A kernel's result (a shared reduction) dies in the second of its two readers.
  EXPECT_EQ(donated_by([&] {
              array h = a - max(a, -1, true);
              array s = sum(h);
              return exp(h) * s;
            }, "kernel to kernel"), 1u);
  // Chained: each step's output takes its input's buffer.
  auto compiled = compile([](const std::vector<array>& x) {
    array m = exp(x[0] - max(x[1], -1, true));
    array s = sum(m);  // m is shared: materialized
    return std::vector<array>{tanh(m * s)};
  });
  EXPECT_EQ(donated_by([&] { return compiled({a, b})[0]; }, "compiled"), 1u);

  // Not donated: a BLAS call's result (its pieces were written by other
  // threads than the kernel's, codegen/donation.h), read transposed, read
  // twice at different indices, read broadcast, still needed as an output,
  // or a caller's input.
  EXPECT_EQ(donated_by([&] { return maximum(matmul(a, b) + 1.0f, array(0.0f)); }, "relu(a b + 1)"), 0u);
  // (transpose(matmul(a, b)) itself is now rewritten into matmul(bT, aT):
  // the transposed read is of an elementwise result of the product.)
  EXPECT_EQ(donated_by([&] { return transpose(matmul(a, b) * 2.0f) + 1.0f; }, "transposed"), 0u);
  EXPECT_EQ(donated_by([&] {
              array m = matmul(a, b);
              return m + transpose(m);
            }, "two indices"), 0u);
  EXPECT_EQ(donated_by([&] { return matmul(a, slice(b, {0, 0}, {8, 1})) * b; }, "broadcast"), 0u);
  EXPECT_EQ(donated_by([&] { return a * 2.0f + b; }, "inputs"), 0u);
  unsetenv("KILN_EXECUTOR");
  array m = matmul(a, b), y = exp(m * 0.25f);
  eval(m, y);
  auto [mj, mr] = both([&] { return matmul(a, b); });
  EXPECT_TRUE(same(m, mr, 1e-5)) << "an output that a later kernel reads keeps its values";
  auto [yj, yr] = both([&] { return exp(matmul(a, b) * 0.25f); });
  EXPECT_TRUE(same(y, yr, 1e-5));
}

// Reductions along the output's last axis rebind its column variable
// (kernel.h), and the softmax-like ones keep their body in the output row
// (emit.cpp, the row cache). Variants where that must and must not apply.
TEST(JitDifferential, ReductionsAlongTheRow) {
  auto input = [](Shape s, float scale, int seed) {
    std::vector<float> v(ir::shape_size(s));
    std::mt19937 rng(seed);
    std::normal_distribution<float> nd(0, scale);
    for (auto& e : v) e = nd(rng);
    array a(v.data(), s, float32);
    a.eval();
    return a;
  };
  array x = input({6, 37}, 2, 1), y = input({6, 5}, 1, 2), x3 = input({2, 3, 37}, 2, 3);
  auto check = [&](const char* what, std::function<array()> make, double tol) {
    auto [j, r] = both(make);
    EXPECT_TRUE(same(j, r, tol)) << what;
  };
  check("softmax", [&] { return softmax(x, -1); }, 1e-6);
  check("softmax rank 3", [&] { return softmax(x3, -1); }, 1e-6);
  array wide = input({5, 1100}, 2, 7);  // rows of several prefetch blocks
  check("softmax wide rows", [&] { return softmax(wide, -1); }, 1e-6);
  check("softmax of wide columns", [&] { return softmax(transpose(wide), -1); }, 1e-6);
  check("rank 3 wide", [&] { return softmax(reshape(wide, {5, 2, 550}), -1); }, 1e-6);
  check("softmax float64", [&] { return softmax(astype(x, float64), -1); }, 1e-12);
  check("softmax float16", [&] { return softmax(astype(x, float16), -1); }, 1e-2);
  check("softmax of a transpose", [&] { return softmax(transpose(x3, {0, 2, 1}), -1); }, 1e-6);
  check("x times softmax", [&] {
    array e = exp(x - max(x, -1, true));
    return x * e / sum(e, -1, true);
  }, 1e-6);
  check("two cacheable sums", [&] {
    array e = exp(x), t = tanh(x);
    return e / sum(e, -1, true) + t * sum(t, -1, true);
  }, 1e-5);
  check("body not in the output", [&] { return x / sum(exp(x), -1, true); }, 1e-6);
  check("different extent", [&] { return x * sum(exp(y), -1, true); }, 1e-5);
  check("logsumexp broadcast", [&] { return x - logsumexp(x, -1, true); }, 1e-5);
  check("integer output", [&] {
    array i = astype(x * 4.0f, int32);
    return i * sum(i * 3, -1, true);
  }, 0);
  // A reduction that rebinds the column variable nested inside one that
  // depends on it, the shared load emitted at the column first: the inner
  // reduction must not reuse the column's value of it.
  array q = input({3, 4}, 1, 4), u = input({3, 5, 4}, 1, 5), w = input({3, 5, 4}, 1, 6);
  check("nested rebinding", [&] {
    array qe = exp(q);
    array inner = sum(expand_dims(qe, 1) * u, -1);  // [3, 5]
    return qe * (sum(w * expand_dims(inner, -1), 1) + qe);  // qe first in either evaluation order
  }, 1e-5);
}

// A kernel without reductions takes element ranges that may start and end
// inside rows (jit.h), so few long rows still spread over all threads.
TEST(JitKernels, ElementRangesCutRows) {
  ir::Type a_t{float32, {5, 7}}, b_t{float32, {7, 5}};
  ir::Function f = detail::trace(
      [](const std::vector<array>& x) { return std::vector<array>{x[0] * 2.0f + transpose(x[1])}; }, {a_t, b_t});
  passes::Plan plan = passes::plan_fusion(f);
  ASSERT_EQ(plan.steps.size(), 1u);
  const passes::Step& st = plan.steps[0];
  ASSERT_EQ(st.kind, passes::Step::Kernel);
  ASSERT_FALSE(st.kernel.has_reduction());
  codegen::KernelHandle kernel = codegen::get_kernel(st.kernel);
  codegen::KernelFn fn = kernel->fn;
  std::vector<float> a(35), b(35), out(35, -1.0f);
  for (int i = 0; i < 35; ++i) {
    a[i] = float(i);
    b[i] = float(100 * i);
  }
  void* args[] = {a.data(), b.data(), out.data(), const_cast<int64_t*>(st.params.data())};
  ASSERT_EQ(st.args.size(), 2u);
  if (st.args[0] != 0) std::swap(args[0], args[1]);
  // Ranges that begin and end mid-row, one inside a single row, an empty one.
  for (auto [lo, hi] : std::vector<std::pair<int64_t, int64_t>>{{0, 3}, {3, 4}, {4, 19}, {19, 19}, {19, 35}})
    fn(args, lo, hi);
  for (int r = 0; r < 5; ++r)
    for (int c = 0; c < 7; ++c) EXPECT_EQ(out[r * 7 + c], 2.0f * float(r * 7 + c) + float(100 * (c * 5 + r))) << r << "," << c;
}

// Each call finds its first row's leading indices by division, then
// advances them row by row, carrying across dimensions (emit.cpp): ranges
// that start at any row of a rank-4 output, rows of 2 (element ranges) and
// of one reduction each (row ranges), with a transposed operand.
TEST(JitKernels, RowIndicesCarryAcrossDimensions) {
  const int n = 3 * 4 * 5 * 2;
  std::vector<float> a(n), b(n);
  for (int i = 0; i < n; ++i) {
    a[size_t(i)] = float(i);
    b[size_t(i)] = float(1000 * i);
  }
  auto run = [&](const std::function<array(const array&, const array&)>& fun, Shape out_shape, int64_t units,
                 const std::vector<std::pair<int64_t, int64_t>>& ranges) {
    ir::Function f = detail::trace(
        [&](const std::vector<array>& x) { return std::vector<array>{fun(x[0], x[1])}; },
        {ir::Type{float32, {3, 4, 5, 2}}, ir::Type{float32, {2, 5, 4, 3}}});
    passes::Plan plan = passes::plan_fusion(f);
    EXPECT_EQ(plan.steps.size(), 1u);
    const passes::Step& st = plan.steps[0];
    EXPECT_EQ(st.kernel.outer_extent(std::vector<int>(out_shape.begin(), out_shape.end())), units);
    codegen::KernelHandle kernel = codegen::get_kernel(st.kernel);
    int64_t size = 1;
    for (auto d : out_shape) size *= d;
    std::vector<float> out(size_t(size), -1.0f);
    void* args[] = {a.data(), b.data(), out.data(), const_cast<int64_t*>(st.params.data())};
    if (st.args[0] != 0) std::swap(args[0], args[1]);
    for (auto [lo, hi] : ranges) kernel->fn(args, lo, hi);
    return out;
  };
  // out[i,j,k,l] = 2 a[i,j,k,l] + b[l,k,j,i]: element ranges over 120.
  std::vector<float> e = run([](const array& x, const array& y) { return x * 2.0f + transpose(y); },
                             {3, 4, 5, 2}, n, {{0, 7}, {7, 8}, {8, 61}, {61, 61}, {61, 99}, {99, 120}});
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 4; ++j)
      for (int k = 0; k < 5; ++k)
        for (int l = 0; l < 2; ++l)
          EXPECT_EQ(e[size_t(((i * 4 + j) * 5 + k) * 2 + l)],
                    2.0f * a[size_t(((i * 4 + j) * 5 + k) * 2 + l)] + b[size_t(((l * 5 + k) * 4 + j) * 3 + i)])
              << i << j << k << l;
  // out[i,j,k] = sum_l a[i,j,k,l] * b[l,k,j,i]: row ranges over 60 rows.
  std::vector<float> r = run([](const array& x, const array& y) { return sum(x * transpose(y), -1); }, {3, 4, 5},
                             12, {{0, 1}, {1, 5}, {5, 12}});
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 4; ++j)
      for (int k = 0; k < 5; ++k) {
        float want = 0;
        for (int l = 0; l < 2; ++l)
          want += a[size_t(((i * 4 + j) * 5 + k) * 2 + l)] * b[size_t(((l * 5 + k) * 4 + j) * 3 + i)];
        EXPECT_EQ(r[size_t((i * 4 + j) * 5 + k)], want) << i << j << k;
      }
}

// More threads than rows: a 3 x 40000 kernel, elementwise and with rows.
TEST(JitKernels, FewLongRowsOnManyThreads) {
  int threads = runtime::ThreadPool::global().size();
  runtime::ThreadPool::global().set_size(5);
  std::vector<float> v(3 * 40000);
  for (size_t i = 0; i < v.size(); ++i) v[i] = float(i % 1000) * 0.001f - 0.5f;
  array x(v.data(), {3, 40000}, float32), y = astype(arange(40000.0f), float32);
  eval(x, y);
  auto [j, r] = both([&] { return tanh(x) * y + 1.0f; });
  EXPECT_TRUE(same(j, r, 1e-6));
  auto [j2, r2] = both([&] { return transpose(reshape(x, {3, 200, 200}), {0, 2, 1}) * 3.0f; });
  EXPECT_TRUE(same(j2, r2, 0));
  auto [j3, r3] = both([&] { return softmax(x, -1); });
  EXPECT_TRUE(same(j3, r3, 1e-6));
  runtime::ThreadPool::global().set_size(threads);
}

// Float max/min reductions run as plain compares with nan kept apart
// (emit.cpp, float_extremum): nan anywhere (in the vector body or the
// remainder) still gives nan, infinities and signed zeros are handled.
TEST(JitDifferential, MaxMinWithNanAndInfinities) {
  const int rows = 6, cols = 301;
  std::vector<float> v(rows * cols);
  for (int i = 0; i < rows * cols; ++i) v[i] = float((i * 37) % 201) - 100.0f;
  v[0 * cols + 5] = NAN;            // early in a row
  v[1 * cols + 299] = NAN;          // in the remainder
  v[2 * cols + 7] = -NAN;           // negative nan
  for (int c = 0; c < cols; ++c) v[3 * cols + c] = -INFINITY;
  v[4 * cols + 150] = INFINITY;
  for (int c = 0; c < cols; ++c) v[5 * cols + c] = c % 2 ? -0.0f : 0.0f;
  array x(v.data(), {rows, cols}, float32);
  x.eval();
  auto check = [&](const char* what, std::function<array()> make) {
    auto [j, r] = both(make);
    EXPECT_TRUE(same(j, r, 1e-6)) << what;
  };
  check("max rows", [&] { return max(x, -1); });
  check("min rows", [&] { return min(x, -1); });
  check("max all", [&] { return max(x); });
  check("min columns", [&] { return min(x, 0); });
  check("max float64", [&] { return max(astype(x, float64), -1); });
  check("max float16", [&] { return max(astype(x, float16), -1); });
  check("softmax", [&] { return softmax(x, -1); });
  // The row's max as its last reduction: run in blocks (with prefetches of
  // the next row), nan carried from block to block.
  check("x minus its row max", [&] { return x - max(x, -1, true); });
  check("x minus its row min, transposed", [&] {
    array t = transpose(x);
    return t - min(t, -1, true);
  });
  EXPECT_TRUE(std::isnan(max(x, -1).data<float>()[2])) << "a negative nan";
}

// Large outputs of kernels that reduce along rows are stored past the
// caches (Schedule::stream_output, passes/kernel_schedule.h): computed in blocks, copied out in aligned
// lines with the unaligned columns at each end on their own. Rows of odd
// lengths, shorter and longer than a block, float32 and float64.
TEST(JitDifferential, StreamedOutputs) {
  auto input = [](Shape s, Dtype t) {
    std::vector<float> v(ir::shape_size(s));
    std::mt19937 rng(7);
    std::normal_distribution<float> nd(0, 1);
    for (auto& e : v) e = nd(rng);
    array a = astype(array(v.data(), s, float32), t);
    a.eval();
    return a;
  };
  auto norm = [](const array& x) {
    array xc = x - mean(x, -1, true);
    return xc * rsqrt(mean(xc * xc, -1, true) + 1e-5f);
  };
  for (auto [shape, t] : std::vector<std::pair<Shape, Dtype>>{
           {{2100, 1003}, float32}, {{450, 5003}, float32}, {{1050, 1001}, float64}}) {
    array x = input(shape, t);
    ASSERT_GE(x.nbytes(), size_t(8) << 20);
    auto [j, r] = both([&] { return norm(x); });
    EXPECT_TRUE(same(j, r, t == float64 ? 1e-12 : 1e-5)) << shape[0] << "x" << shape[1] << " " << t;
    auto [j2, r2] = both([&] { return softmax(x, -1); });
    EXPECT_TRUE(same(j2, r2, t == float64 ? 1e-12 : 1e-6)) << "softmax " << shape[0] << "x" << shape[1];
  }
}

// --- the bounded kernel cache and constants as parameters (issue 9, item 16)

namespace {
// Sets the kernel cache's limit for one test.
struct KernelLimit {
  size_t saved = codegen::kernel_cache_limit();
  explicit KernelLimit(size_t n) { codegen::set_kernel_cache_limit(n); }
  ~KernelLimit() { codegen::set_kernel_cache_limit(saved); }
};

// A materialized float32 input in (0, 1).
array unit_input(int n) {
  array x = (astype(arange(n), float32) + 0.5f) / float(n);
  x.eval();
  return x;
}

const passes::Step& only_kernel(const passes::Plan& p) {
  if (p.steps.size() != 1 || p.steps[0].kind != passes::Step::Kernel) throw std::runtime_error("not one kernel");
  return p.steps[0];
}

passes::Plan plan_of(const ArrayFunction& fn, const std::vector<ir::Type>& types) {
  return passes::plan_fusion(passes::simplify(detail::trace(fn, types)));
}
}  // namespace

// The key holds the schedule: one softmax kernel, streamed at a large
// size and not at a small one, or scheduled for a target without
// non-temporal stores or prefetches, is several kernels in the cache.
TEST(JitCache, KeyHoldsTheSchedule) {
  auto norm = [](const std::vector<array>& x) {
    array xc = x[0] - mean(x[0], -1, true);
    return std::vector<array>{xc * rsqrt(mean(xc * xc, -1, true) + 1e-5f)};
  };
  ir::Type small{float32, {8, 16}}, large{float32, {2048, 1024}};
  passes::Plan small_plan = plan_of(norm, {small}), large_plan = plan_of(norm, {large});
  const passes::Step& a = only_kernel(small_plan);
  const passes::Step& b = only_kernel(large_plan);
  EXPECT_FALSE(a.kernel.schedule.stream_output);
  EXPECT_TRUE(b.kernel.schedule.stream_output);
  EXPECT_NE(a.kernel.key(), b.kernel.key());
  kernel::Kernel k = b.kernel;
  k.schedule.stream_output = false;
  k.schedule.stream_block = 0;
  EXPECT_EQ(a.kernel.key(), k.key()) << "the same nodes, the same schedule";

  // A target without prefetches or streaming stores: neither in the schedule.
  kernel::ScheduleOptions plain;
  plain.prefetch = false;
  plain.streaming_stores = false;
  kernel::Schedule s = kernel::schedule_kernel(b.kernel, plain, {-1, large.nbytes()});
  EXPECT_FALSE(s.stream_output);
  EXPECT_LT(s.prefetch.reduce, 0);
  EXPECT_GE(b.kernel.schedule.prefetch.reduce, 0);
  k.schedule = s;
  EXPECT_NE(k.key(), b.kernel.key());
}

// Kernels differing only in a constant's value have one key; the value is
// a parameter. Integer divisors and shift amounts stay in the code, where
// LLVM makes them multiplies and fixed shifts.
TEST(JitCache, ConstantValuesAreParameters) {
  ir::Type f32{float32, {16}}, i32{int32, {16}};
  auto scaled = [](float s) {
    return [s](const std::vector<array>& x) { return std::vector<array>{exp(x[0] * s) + (s - 1.0f)}; };
  };
  passes::Plan a = plan_of(scaled(2.0f), {f32}), b = plan_of(scaled(3.5f), {f32});
  EXPECT_EQ(only_kernel(a).kernel.key(), only_kernel(b).kernel.key());
  EXPECT_NE(only_kernel(a).params, only_kernel(b).params);
  EXPECT_EQ(only_kernel(b).kernel.key().find("3.5"), std::string::npos) << only_kernel(b).kernel.key();

  auto divided = [](int d) {
    return [d](const std::vector<array>& x) { return std::vector<array>{floor_divide(x[0], array(d)) + (x[0] << array(d % 5))}; };
  };
  EXPECT_NE(only_kernel(plan_of(divided(7), {i32})).kernel.key(), only_kernel(plan_of(divided(9), {i32})).kernel.key());

  // Divisions by powers of two are multiplies, by a parameter; maximum and
  // minimum keep their constants in the code.
  auto op_by = [](std::function<array(const array&, float)> op, float c) {
    return [op, c](const std::vector<array>& x) { return std::vector<array>{op(x[0], c)}; };
  };
  auto times = [](const array& v, float c) { return v * c; };
  auto over = [](const array& v, float c) { return v / c; };
  auto at_least = [](const array& v, float c) { return maximum(v, array(c)); };
  EXPECT_EQ(only_kernel(plan_of(op_by(over, 4.0f), {f32})).kernel.key(),
            only_kernel(plan_of(op_by(times, 3.0f), {f32})).kernel.key());
  EXPECT_NE(only_kernel(plan_of(op_by(over, 3.0f), {f32})).kernel.key(),
            only_kernel(plan_of(op_by(times, 3.0f), {f32})).kernel.key());
  EXPECT_NE(only_kernel(plan_of(op_by(at_least, 0.0f), {f32})).kernel.key(),
            only_kernel(plan_of(op_by(at_least, 1.0f), {f32})).kernel.key());

  // The canonicalizer's identities still see the constants: x * 1 + 0 is x.
  EXPECT_TRUE(plan_of([](const std::vector<array>& x) { return std::vector<array>{x[0] * 1.0f + 0.0f}; }, {f32})
                  .steps.empty());
}

// Baked and parameter constants give the interpreter's results, for the
// integer divisions and shifts whose constants stay in the code too. (In
// compiled functions: eval() passes scalars as buffers.)
TEST(JitDifferential, ConstantsAsParametersAndBaked) {
  array i = arange(-20, 20);
  array u = astype(arange(0, 40), uint8);
  array x = unit_input(40) * 8.0f - 4.0f;
  eval(i, u, x);
  auto compiled = [](const array& in, std::function<array(const array&)> fn) {
    return both([&] { return compile(fn)(in); });
  };
  for (int d : {-7, -1, 0, 1, 3, 8}) {
    auto [j, r] = compiled(i, [d](const array& v) { return floor_divide(v, array(d)) * 3 + remainder(v, array(d)); });
    EXPECT_TRUE(same(j, r, 0)) << d;
  }
  for (int s : {0, 1, 3, 7, 9}) {
    auto [j, r] = compiled(u, [s](const array& v) {
      return (v << astype(array(s), uint8)) + (v >> astype(array(s), uint8));
    });
    EXPECT_TRUE(same(j, r, 0)) << s;
    auto [j2, r2] = compiled(i, [s](const array& v) { return right_shift(v, array(s)) + left_shift(v, array(s)); });
    EXPECT_TRUE(same(j2, r2, 0)) << s;
  }
  for (float c : {-2.5f, 0.0f, 0.5f, 3.0f}) {
    auto [j, r] = compiled(x, [c](const array& v) {
      return maximum(v, array(c)) * c + power(abs(v), array(c)) - minimum(array(c), v / c);
    });
    EXPECT_TRUE(same(j, r, 1e-5)) << c;
  }
  // Division by a power of two is a multiply by its reciprocal where that
  // is exact (bit for bit), a division elsewhere.
  array tiny = x * 1e-38f;
  array h = astype(x, float16);
  eval(tiny, h);
  for (float c : {2.0f, 0.5f, -4.0f, 0x1p127f, 0x1p-126f, 0x1p-149f, 3.0f, 0.0f}) {
    for (const array& in : {x, tiny, h}) {
      if (in.dtype() == float16 && std::abs(c) > 1e4f) continue;
      auto [j, r] = compiled(in, [c](const array& v) { return v / astype(array(c), v.dtype()); });
      EXPECT_TRUE(same(j, r, 0)) << c << " " << in.dtype();
    }
  }
}

// Over the limit, the least recently used kernels leave the cache; one an
// executable holds stays loaded and runs; once nothing holds them, dropped
// kernels are unloaded (their JIT memory freed), and a later use compiles
// them again. Also run under ThreadSanitizer (scripts/test.sh).
TEST(JitCache, EvictionKeepsKernelsInUse) {
  array x = unit_input(1000);
  codegen::clear_kernel_cache();
  uint64_t held_elsewhere = codegen::kernel_cache_stats().kernels_in_memory;
  std::vector<double> want;
  for (float v : kiln_test::values(x)) want.push_back(std::log1p(double(v)) * 2.0 - std::sqrt(double(v)));
  {
    KernelLimit limit(2);
    auto expected = [&](const array& y) {
      std::vector<double> got = kiln_test::values(y);
      for (size_t k = 0; k < got.size(); ++k)
        if (std::abs(got[k] - want[k]) > 1e-5) return false;
      return got.size() == want.size();
    };
    // Made before the evictions: a compiled function (its trace holds an
    // executable) and an executable of the same function.
    auto fn = [](const std::vector<array>& v) { return std::vector<array>{log1p(v[0]) * 2.0f - sqrt(v[0])}; };
    ArrayFunction compiled = compile(ArrayFunction(fn));
    EXPECT_TRUE(expected(compiled({x})[0]));
    auto exe = std::make_unique<codegen::Executable>(passes::simplify(detail::trace(fn, {x.node()->type})));

    codegen::reset_kernel_cache_stats();
    std::vector<std::function<array(const array&)>> others = {
        [](const array& v) { return exp(v); },     [](const array& v) { return sin(v); },
        [](const array& v) { return cos(v); },     [](const array& v) { return tanh(v); },
        [](const array& v) { return sigmoid(v); }, [](const array& v) { return erf(v); },
        [](const array& v) { return expm1(v); },   [](const array& v) { return square(v) - v; }};
    for (auto& op : others) {
      auto [j, r] = both([&] { return op(x); });
      EXPECT_TRUE(same(j, r, 1e-5));
    }
    codegen::KernelCacheStats s = codegen::kernel_cache_stats();
    EXPECT_EQ(s.kernels_compiled, others.size());
    EXPECT_EQ(s.evictions, others.size() - 1) << "the first pushed out the compiled function's";
    EXPECT_LE(s.kernels_in_memory, held_elsewhere + 2 + 1) << "the cache's two, and the one in use";

    // The evicted kernel still runs, from both holders.
    EXPECT_TRUE(expected(compiled({x})[0]));
    std::vector<ir::Tensor> out = exe->run({{x.node()->type, x.node()->buffer}});
    EXPECT_TRUE(expected(detail::make_materialized(out[0].type, out[0].buffer)));
    // A new function needing it shares it instead of compiling it again.
    EXPECT_TRUE(expected(compile(ArrayFunction(fn))({x})[0]));
    EXPECT_EQ(codegen::kernel_cache_stats().kernels_compiled, others.size());

    // Nothing holds it any more: unloaded, then compiled again when needed.
    compiled = nullptr;
    exe.reset();
    codegen::clear_kernel_cache();
    EXPECT_EQ(codegen::kernel_cache_stats().kernels_in_memory, held_elsewhere);
    EXPECT_TRUE(expected(compile(ArrayFunction(fn))({x})[0]));
    EXPECT_EQ(codegen::kernel_cache_stats().kernels_compiled, others.size() + 1);
  }
  EXPECT_TRUE(kiln_test::throws_invalid([] { codegen::set_kernel_cache_limit(0); }, "[set_kernel_cache_limit]"));
}

// Threads compiling and running more kernels than the cache keeps.
TEST(JitCache, EvictionUnderConcurrentUse) {
  KernelLimit limit(1);
  array x = unit_input(256);
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 12; ++i) {
        // Three structures, so kernels keep leaving the cache of one.
        array y = (i + t) % 3 == 0 ? exp(x) : (i + t) % 3 == 1 ? sqrt(x) : x * x;
        double v = double(x.data<float>()[17]);
        double want = (i + t) % 3 == 0 ? std::exp(v) : (i + t) % 3 == 1 ? std::sqrt(v) : v * v;
        if (std::abs(y.data<float>()[17] - want) > 1e-5 * want) wrong++;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
}

// sin, cos and tan of huge arguments (issue 9, item 8: sin(2e15f) gave 0)
// through the whole pipeline: the Payne-Hanek lanes are inlined into the
// vector loop after vectorization (codegen/llvm/cold_lanes.h), the loop
// stays vectorized, and each lane, huge or not, is within the budgets of
// math.cpp against the long double functions.
namespace {

template <typename T>
double ulp_error(T got, long double want) {
  if (std::isnan(got) || std::isnan(want)) return std::isnan(got) && std::isnan(want) ? 0 : 1e30;
  int e = 0;
  std::frexp(want, &e);
  long double ulp = std::ldexp(1.0L, std::max(e, std::numeric_limits<T>::min_exponent) - std::numeric_limits<T>::digits);
  return double(std::fabs(got - want) / ulp);
}

template <typename T>
void check_trig_of_huge(Dtype dtype, const std::vector<T>& huge, double tan_budget) {
  // Huge values on every fifth lane among ordinary ones, so that vectors
  // mix both paths.
  std::vector<T> xs;
  for (int i = 0; i < 200; ++i) xs.push_back(i % 5 == 2 ? huge[size_t(i / 5) % huge.size()] : T(i) * T(0.37) - T(30));
  array x(xs.data(), {int(xs.size())}, dtype);
  x.eval();
  array s = x, c = x, t = x;
  std::string ir = optimized_llvm([&] {
    // (No other test here computes these on vectors, so they are compiled now.)
    s = sin(x);
    c = cos(x);
    t = tan(x);
    eval(s, c, t);
  });
  EXPECT_NE(ir.find("vector.body"), std::string::npos) << ir;
  EXPECT_NE(ir.find("_huge("), std::string::npos) << "no Payne-Hanek path: " << ir;
  EXPECT_FALSE(std::regex_search(ir, std::regex("@kiln_\\w+_lanes(_v[0-9]+)?\\("))) << "wrappers left uninlined: " << ir;
  for (size_t i = 0; i < xs.size(); ++i) {
    long double v = xs[i];
    EXPECT_LE(ulp_error<T>(s.data<T>()[i], std::sin(v)), 1.0) << "sin " << double(xs[i]);
    EXPECT_LE(ulp_error<T>(c.data<T>()[i], std::cos(v)), 1.0) << "cos " << double(xs[i]);
    EXPECT_LE(ulp_error<T>(t.data<T>()[i], std::tan(v)), tan_budget) << "tan " << double(xs[i]);
  }
}

}  // namespace

TEST(JitMath, TrigOfHugeArguments) {
  // The issue's sin(2e15f) = 0.2095...
  EXPECT_NEAR(sin(array(2e15f)).item<float>(), 0.20952f, 1e-4f);
  check_trig_of_huge<float>(float32, {2e15f, -2e15f, 33554432.0f, 1e20f, 1e30f, 3.4028235e38f, -1.7e38f, 123456792.0f},
                            1.0);
  // 6381956970095103 2^797 is the double closest to a multiple of pi/2
  // (Kahan, McDonald): its remainder is about 2^-61.
  check_trig_of_huge<double>(float64,
                             {1e300, -1e300, 2e15, 1e22, std::ldexp(6381956970095103.0, 797),
                              std::numeric_limits<double>::max(), 33554432.5, -5.2e7},
                             2.5);
}

// Fusion asks the backend what its kernels can do (runtime::Capabilities):
// what they cannot compute becomes host steps (one-op kernels of the CPU
// backend, over the same memory), and kernels read at most
// max_kernel_inputs buffers. Results stay those of the interpreter.
TEST(FusionCapabilities, HostStepsForWhatKernelsCannotDo) {
  ir::Type t32{float32, {4, 5}}, t64{float64, {4, 5}};
  ArrayFunction fn = [](const std::vector<array>& x) {
    return std::vector<array>{exp(x[0]) + astype(x[1] * 2.0, float32)};
  };
  ir::Function f = passes::simplify(detail::trace(fn, {t32, t64}));
  auto host_ops = [](const passes::Plan& p) {
    int n = 0;
    for (const auto& s : p.steps) n += s.kind == passes::Step::HostOp || s.on_host;
    return n;
  };
  EXPECT_EQ(host_ops(passes::plan_fusion(f)), 0);
  runtime::Capabilities no_f64;
  no_f64.float64 = false;
  EXPECT_EQ(host_ops(passes::plan_fusion(f, no_f64)), 2);  // x[1] * 2.0 and its cast
  runtime::Capabilities no_approx;
  no_approx.approximations = false;
  EXPECT_EQ(host_ops(passes::plan_fusion(f, no_approx)), 1);  // exp
}

TEST(FusionCapabilities, KernelInputLimit) {
  std::vector<ir::Type> types(6, ir::Type{float32, {3, 4}});
  ArrayFunction fn = [](const std::vector<array>& x) {
    array s = x[0];
    for (size_t i = 1; i < x.size(); ++i) s = s * 0.5f + x[i];
    return std::vector<array>{s};
  };
  ir::Function f = passes::simplify(detail::trace(fn, types));
  runtime::Capabilities caps;
  caps.max_kernel_inputs = 3;
  passes::Plan plan = passes::plan_fusion(f, caps);
  EXPECT_GT(plan.steps.size(), 1u);
  for (const auto& s : plan.steps) EXPECT_LE(s.kernel.inputs.size(), 3u) << passes::plan_to_string(f, plan);
  EXPECT_EQ(passes::plan_fusion(f).steps.size(), 1u);
}

namespace {
// The CPU backend with fewer capabilities: a second backend behind the seam.
class RestrictedCpu final : public runtime::Backend {
 public:
  explicit RestrictedCpu(runtime::Capabilities caps) : caps_(caps) {}
  std::string name() const override { return "restricted-cpu"; }
  const runtime::Capabilities& capabilities() const override { return caps_; }
  runtime::KernelHandle compile(const kernel::Kernel& k) override { return codegen::cpu_backend().compile(k); }
  void launch(const runtime::Launch& l) override {
    EXPECT_LE(int(l.inputs.size()), caps_.max_kernel_inputs);
    codegen::cpu_backend().launch(l);
  }

 private:
  runtime::Capabilities caps_;
};
}  // namespace

TEST(FusionCapabilities, ExecutesOnABackendWithFewerCapabilities) {
  std::vector<ir::Type> types{{float32, {64, 33}}, {float64, {64, 33}}, {float32, {33}}, {float32, {64, 33}}};
  ArrayFunction fn = [](const std::vector<array>& x) {
    array a = softmax(x[0] * x[2], -1) + astype(sin(x[1]), float32);
    return std::vector<array>{a - sum(x[3] * x[0], 0) + tanh(x[3])};
  };
  ir::Function f = passes::simplify(detail::trace(fn, types));
  std::vector<ir::Tensor> inputs;
  for (size_t i = 0; i < types.size(); ++i) {
    int64_t n = 1;
    for (int d : types[i].shape) n *= d;
    array x = reshape(astype(sin(astype(arange(int(n)), float64) * (0.7 + double(i))), types[i].dtype),
                      types[i].shape);
    x.eval();
    inputs.push_back({x.node()->type, x.node()->buffer});
  }
  ir::Tensor want = ir::interpret(f, inputs).at(0);
  runtime::Capabilities caps;
  caps.float64 = false;
  caps.approximations = false;
  caps.max_kernel_inputs = 2;
  RestrictedCpu backend(caps);
  ir::Tensor got = codegen::Executable(f, backend).run(inputs).at(0);
  const float* g = static_cast<const float*>(got.buffer->data());
  const float* w = static_cast<const float*>(want.buffer->data());
  for (int64_t i = 0; i < want.type.size(); ++i) ASSERT_NEAR(g[i], w[i], 1e-5 * (1 + std::fabs(w[i]))) << i;
}

// Multi-output kernels (passes/multi_output.h): a function output read by
// one other elementwise kernel at its own index is stored by that kernel.
namespace {

// Adam's update: the new moments are outputs that the parameter's update reads.
std::vector<array> adam_update(const std::vector<array>& x) {
  const array &p = x[0], &m = x[1], &v = x[2], &g = x[3];
  array m2 = 0.9f * m + 0.1f * g;
  array v2 = 0.999f * v + 0.001f * square(g);
  return {p - 0.01f * m2 / (sqrt(v2) + 1e-8f), m2, v2};
}

// Every output of `fn` on the JIT of g_jit_device against the interpreter.
void outputs_match(const ArrayFunction& fn, const std::vector<array>& inputs, double tol, const std::string& what) {
  unsetenv("KILN_EXECUTOR");
  std::vector<array> jit = [&] {
    StreamContext on(g_jit_device);
    return compile(fn)(inputs);
  }();
  eval(jit);
  setenv("KILN_EXECUTOR", "interp", 1);
  std::vector<array> ref = fn(inputs);
  eval(ref);
  unsetenv("KILN_EXECUTOR");
  ASSERT_EQ(jit.size(), ref.size()) << what;
  for (size_t i = 0; i < jit.size(); ++i) EXPECT_TRUE(same(jit[i], ref[i], tol)) << what << ", output " << i;
}

void multi_output_workloads() {
  std::mt19937 rng(7);
  auto input = [&](const Shape& s, Dtype t) {
    std::vector<float> v(size_t(ir::shape_size(s)));
    std::uniform_real_distribution<float> ud(-2, 2);
    for (auto& e : v) e = ud(rng);
    return astype(array(v.data(), s, float32), t);
  };
  for (Dtype t : {float32, float64, float16, bfloat16}) {
    for (const Shape& s : {Shape{37, 29}, Shape{1000}, Shape{}, Shape{3, 5, 7}}) {
      std::vector<array> in;
      for (int i = 0; i < 4; ++i) in.push_back(input(s, t));
      in[2] = abs(in[2]);  // a second moment is not negative
      double tol = t == float16 || t == bfloat16 ? 1e-2 : 1e-5;
      outputs_match(adam_update, in, tol, "adam " + dtype_name(t) + " " + ir::shape_to_string(s));
    }
  }
  array a = input({16, 9}, float32), b = input({16, 9}, float32);
  // A bool mask output that the other output reads; its consumer's inputs
  // read transposed (only the merged value must be read at the output's index).
  outputs_match([](const std::vector<array>& x) {
    array mask = x[0] > 0.0f;
    return std::vector<array>{mask, where(mask, x[0], x[1] * 2.0f) + transpose(transpose(x[1]))};
  }, {a, b}, 0, "bool mask");
  // A chain: each output read by the next.
  outputs_match([](const std::vector<array>& x) {
    array u = exp(x[0] * 0.5f), w = u * x[1] + 1.0f;
    return std::vector<array>{u, w, tanh(w) - u};
  }, {a, b}, 1e-6, "chain");
}
}  // namespace

TEST(JitMultiOutput, OutputsReadByOneKernelAreItsOutputs) {
  ir::Type mat{float32, {64, 128}};
  EXPECT_EQ(kernels_of(adam_update, {mat, mat, mat, mat}), 1);
  EXPECT_EQ(kernels_of([](const std::vector<array>& x) {
              array u = exp(x[0]), w = u * x[1];
              return std::vector<array>{u, w, w + u};
            }, {mat, mat}), 1);
  // Not merged: read transposed, read by two kernels, reduced, another shape.
  ir::Type sq{float32, {64, 64}};
  EXPECT_EQ(kernels_of([](const std::vector<array>& x) {
              array u = exp(x[0]);
              return std::vector<array>{u, transpose(u) + x[0]};
            }, {sq}), 2);
  EXPECT_EQ(kernels_of([](const std::vector<array>& x) {
              array u = exp(x[0]);
              return std::vector<array>{u, u * x[1], u - x[1]};
            }, {mat, mat}), 3);
  EXPECT_EQ(kernels_of([](const std::vector<array>& x) {
              array u = exp(x[0]);
              return std::vector<array>{u, sum(u * x[1], -1)};
            }, {mat, mat}), 2);
  EXPECT_EQ(kernels_of([](const std::vector<array>& x) {
              array u = exp(x[0]);
              return std::vector<array>{u, broadcast_to(u, {4, 64, 128}) * 2.0f};
            }, {mat}), 2);
  multi_output_workloads();
}

TEST(JitMultiOutputGpu, OutputsReadByOneKernelAreItsOutputs) { on_gpu(multi_output_workloads); }

// The merged kernel's extra stores keep its vector loop free of runtime
// overlap checks (they are noalias like every kernel pointer).
TEST(JitMultiOutput, NoRuntimeAliasChecks) {
  std::vector<array> in;
  for (int i = 0; i < 4; ++i) in.push_back(astype(reshape(arange(48.0f), {6, 8}), float32) * float(i + 1) * 0.125f);
  eval(in);
  std::vector<array> out;
  // Constants no other test uses, so the kernel is built here.
  std::string ir = optimized_llvm([&] {
    out = compile([](const std::vector<array>& x) {
      array m2 = 0.8125f * x[1] + 0.1875f * x[3];
      return std::vector<array>{x[0] - 0.0625f * m2 * x[2], m2};
    })(in);
    eval(out);
  });
  EXPECT_NE(ir.find("vector.body"), std::string::npos) << ir;
  EXPECT_EQ(ir.find("vector.memcheck"), std::string::npos) << ir;
  float m2 = 0.8125f * in[1].data<float>()[13] + 0.1875f * in[3].data<float>()[13];
  EXPECT_FLOAT_EQ(out[1].data<float>()[13], m2);
  EXPECT_FLOAT_EQ(out[0].data<float>()[13], in[0].data<float>()[13] - 0.0625f * m2 * in[2].data<float>()[13]);
}

// The runtime's pool: every index once, and each thread starting with its
// own part of the range (runtime/thread_pool.h).
TEST(ThreadPool, CoversTheRangeOnce) {
  for (int threads : {1, 2, 3, 5}) {
    runtime::ThreadPool pool(threads);
    for (int64_t n : {1, 7, 100, 1001})
      for (int64_t grain : {1, 3, 64}) {
        std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
        pool.parallel_for(n, grain, [&](int64_t b, int64_t e) {
          EXPECT_TRUE(e - b >= grain || e == n) << b << ".." << e;
          for (int64_t i = b; i < e; ++i) hits[size_t(i)]++;
        });
        for (int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[size_t(i)].load(), 1) << threads << " threads, n " << n;
      }
  }
}

TEST(ThreadPool, EachThreadStartsWithItsOwnPart) {
  runtime::ThreadPool pool(3);
  for (int rep = 0; rep < 20; ++rep) {
    // Six chunks, parts {0, 1}, {2, 3}, {4, 5}. A thread's first chunk
    // waits until three threads have started one (unless one is 5 s late),
    // so no thread runs through the chunks before the others arrive.
    std::mutex mu;
    std::condition_variable cv;
    std::map<std::thread::id, int64_t> first;
    bool all_started = true;
    pool.parallel_for(6, 1, [&](int64_t b, int64_t) {
      std::unique_lock<std::mutex> lock(mu);
      if (first.count(std::this_thread::get_id())) return;
      first[std::this_thread::get_id()] = b;
      cv.notify_all();
      if (!cv.wait_for(lock, std::chrono::seconds(5), [&] { return first.size() == 3; })) all_started = false;
    });
    if (!all_started) continue;
    std::set<int64_t> firsts;
    for (auto [thread, chunk] : first) firsts.insert(chunk);
    EXPECT_EQ(first[std::this_thread::get_id()], 0) << "the caller starts with the first part";
    EXPECT_EQ(firsts, (std::set<int64_t>{0, 2, 4}));
  }
}

// Loop collapsing (passes/loop_collapse.h): output dimensions and nested
// reductions that walk memory as one loop become one, with the values of
// the interpreter.
TEST(JitLoopCollapse, ContiguousLoopsBecomeOne) {
  ir::Type t{float32, {6, 5, 4, 3}};
  auto kernel_of = [&](const ArrayFunction& fn) { return only_kernel(plan_of(fn, {t})).kernel; };
  auto reductions = [](const kernel::Kernel& k) {
    int n = 0;
    for (const auto& node : k.nodes) n += node.kind == kernel::NodeKind::Reduce;
    return n;
  };
  // A sum over the batch: (5, 4, 3) outputs are one dimension of 60.
  kernel::Kernel batch = kernel_of([](const std::vector<array>& x) { return std::vector<array>{sum(x[0], 0)}; });
  EXPECT_EQ(batch.rank, 1);
  // A sum over (0, 1, 2): one reduction of 120 rows.
  kernel::Kernel rows = kernel_of([](const std::vector<array>& x) { return std::vector<array>{sum(x[0], {0, 1, 2})}; });
  EXPECT_EQ(reductions(rows), 1);
  // Not collapsed: a transposed read, axes that are not adjacent.
  kernel::Kernel transposed = kernel_of([](const std::vector<array>& x) {
    return std::vector<array>{sum(transpose(x[0], {0, 2, 1, 3}), 0)};
  });
  EXPECT_EQ(transposed.rank, 3);
  kernel::Kernel apart = kernel_of([](const std::vector<array>& x) { return std::vector<array>{sum(x[0], {0, 2})}; });
  EXPECT_EQ(reductions(apart), 2);

  std::vector<float> v(6 * 5 * 4 * 3);
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> ud(-1, 1);
  for (auto& e : v) e = ud(rng);
  array x(v.data(), {6, 5, 4, 3}, float32);
  auto check = [&](const char* what, std::function<array()> make, double tol) {
    auto [j, r] = both(make);
    EXPECT_TRUE(same(j, r, tol)) << what;
  };
  check("sum over the batch", [&] { return sum(x, 0); }, 1e-5);
  check("sum over three axes", [&] { return sum(x, {0, 1, 2}); }, 1e-5);
  check("sum over the middle axes", [&] { return sum(x * 2.0f + 1.0f, {1, 2}); }, 1e-5);
  check("max over three axes", [&] { return max(x, {0, 1, 2}); }, 0);
  check("min over the batch", [&] { return min(x, 0); }, 0);
  check("prod over two axes", [&] { return prod(x + 1.5f, {0, 1}); }, 1e-5);
  check("any over three axes", [&] { return any(x > 0.9f, {0, 1, 2}); }, 0);
  check("all over the batch", [&] { return all(x > -0.9f, 0); }, 0);
  check("float16 sum over three axes", [&] { return sum(astype(x, float16), {0, 1, 2}); }, 1e-2);
  check("transposed", [&] { return sum(transpose(x, {0, 2, 1, 3}), 0); }, 1e-5);
  // After "sum over three axes": the same kernel structure with its output
  // dimensions collapsed too, so with other parameter numbers (the kernel
  // cache key tells them apart; with one key this read the other's).
  check("size-1 axes", [&] { return sum(reshape(x, {6, 1, 20, 1, 3}), {0, 1, 2}); }, 1e-5);
  check("broadcast input", [&] { return sum(broadcast_to(slice(x, {0, 0, 0, 0}, {1, 5, 4, 3}), {6, 5, 4, 3}), 0); }, 1e-5);

  // Elementwise kernels too: the emitter vectorizes the innermost loop, so
  // a short one (a one-channel convolution's patch gather, 9 taps per row)
  // left a vector and a scalar remainder per row.
  EXPECT_EQ(kernel_of([](const std::vector<array>& x) { return std::vector<array>{x[0] * 2.0f + 1.0f}; }).rank, 1);
  auto plus_column = [](const array& in) { return in + slice(in, {0, 0, 0, 0}, {1, 1, 4, 1}); };
  kernel::Kernel rows_apart =
      kernel_of([&](const std::vector<array>& x) { return std::vector<array>{plus_column(x[0])}; });
  EXPECT_EQ(rows_apart.rank, 3);  // (6 * 5, 4, 3): the column's value changes along 4, not along 3
  std::vector<int32_t> taps(7 * 9);
  for (size_t i = 0; i < taps.size(); ++i) taps[i] = int32_t(i * 7 % 3);
  array at(taps.data(), {7, 9}, int32);
  auto gather = [&](const array& in) { return take(in, at, 3); };
  kernel::Kernel gathered = kernel_of([&](const std::vector<array>& x) { return std::vector<array>{gather(x[0])}; });
  EXPECT_EQ(gathered.rank, 2);  // (6 * 5 * 4, 7 * 9)
  check("elementwise", [&] { return x * 2.0f + 1.0f; }, 1e-6);
  check("elementwise with a broadcast column", [&] { return plus_column(x); }, 1e-6);
  check("gather of taps", [&] { return gather(x); }, 0);
  check("masked gather of taps", [&] { return where(at > 0, gather(x), array(0.0f)); }, 0);
}

// A kernel whose value is a narrow product's A runs inside that product,
// block of rows by block (codegen/executor.cpp, runtime/narrow_gemm.h),
// unless something reads A before it: on CPUs where that product kernel
// runs, each such product counts in operands_computed_in_blocks, and its
// values (and those of A's later readers) stay the interpreter's.
// Elsewhere nothing is counted.
TEST(JitBlockedOperand, KernelRunsInsideTheProduct) {
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> ud(-1, 1);
  auto random = [&](Shape shape) {
    std::vector<float> v(size_t(std::accumulate(shape.begin(), shape.end(), 1, std::multiplies<int>())));
    for (auto& e : v) e = ud(rng);
    return array(v.data(), shape, float32);
  };
  const bool applies = runtime::narrow_gemm_applies(1000, 20, 300, false);
  auto blocked = [&](const char* what, const std::function<array()>& make, uint64_t expected) {
    reset_jit_stats();
    auto [j, r] = both(make);
    EXPECT_TRUE(same(j, r, 2e-4)) << what;
    EXPECT_EQ(jit_stats().operands_computed_in_blocks, applies ? expected : 0u) << what;
  };
  // Rows not a multiple of the tile or the block (300 deep: 78-row
  // blocks), a partial panel of columns, B transposed and not.
  array x = random({1000, 300}), w = random({20, 300}), wt = random({300, 20});
  blocked("elementwise A, B transposed", [&] { return matmul(exp(x) * 0.5f - x, transpose(w)); }, 1);
  blocked("elementwise A, B in place", [&] { return matmul(tanh(x), wt); }, 1);
  // A kernel over rows (a reduction): 150 of its rows per row of A.
  array y = random({2000, 150});
  blocked("rows of a softmax", [&] { return matmul(reshape(softmax(y, -1), {1000, 300}), wt); }, 1);
  // Kernels whose rows are reductions with other schedules: a layer norm
  // (the row written first, then read back), a sum over a leading axis
  // (computed in blocks of columns).
  blocked("rows of a layer norm", [&] {
    array c = x - mean(x, -1, true);
    return matmul(c * rsqrt(mean(c * c, -1, true) + 1e-5f), wt);
  }, 1);
  array z = random({3, 1000, 300});
  blocked("sum over a leading axis", [&] { return matmul(sum(z, 0), wt); }, 1);
  // A convolution's patch gather (the input gradient's has no other reader).
  array image = random({4, 12, 12, 8}), kernel = random({16, 3, 3, 8});
  blocked("conv2d", [&] { return conv2d(image, kernel, {1, 1}, {1, 1}); }, 1);
  // Read again after the product (a weight gradient reading the forward
  // patches): A is written into its own buffer inside the product, block
  // by block, and the later readers find it there.
  blocked("A summed after the product", [&] {
    array a = exp(x);
    array p = matmul(a, wt);
    return p + sum(a, -1, true);
  }, 1);
  blocked("A read by a second product", [&] {
    array a = exp(x);
    return matmul(a, wt) + matmul(a, wt * 2.0f);
  }, 1);
  // Not inside: A is read before the product (by the kernel of its B).
  blocked("A summed before the product", [&] {
    array a = exp(x);
    return matmul(a, wt * mean(a));
  }, 0);
}
