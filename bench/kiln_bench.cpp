// kiln's benchmarks (Google Benchmark). Every workload is a function made
// with kiln::compile; its inputs are materialized once, outside the timed
// region, and each timed iteration calls the compiled function and forces
// the result with eval(). Times are wall-clock (UseRealTime) and, by
// default, the median of 5 repetitions is what bench/compare.py reads.
//
//   build/bench/kiln-bench                       # all workloads
//   build/bench/kiln-bench --benchmark_filter=gelu --benchmark_format=json
//
// bench/compare.py measures the same workloads in NumPy and PyTorch; keep
// the two files in step (sizes, formulas, names).
#include <benchmark/benchmark.h>
#include <cblas.h>
#include <sys/resource.h>

#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include <kiln/kiln.h>

#include "codegen/llvm/jit.h"

namespace kx = kiln;

namespace {

constexpr int64_t kElementwiseN = int64_t(1) << 24;  // 16M float32
constexpr int kRows = 4096, kCols = 4096;            // softmax, layernorm, sums

// Inputs are made once per process and shared by every benchmark that asks
// for the same (name, shape): uniform in [lo, hi), fixed seed.
kx::array input(const std::string& name, const kx::Shape& shape, float lo = -3.0f, float hi = 3.0f) {
  static std::mutex mutex;
  static std::map<std::string, kx::array> cache;
  std::lock_guard<std::mutex> lock(mutex);
  auto it = cache.find(name);
  if (it != cache.end()) return it->second;
  size_t n = 1;
  for (auto d : shape) n *= size_t(d);
  std::vector<float> data(n);
  std::mt19937 rng(uint32_t(std::hash<std::string>{}(name)));
  std::uniform_real_distribution<float> dist(lo, hi);
  for (auto& v : data) v = dist(rng);
  kx::array a(data.data(), shape, kx::float32);
  a.eval();
  cache.emplace(name, a);
  return a;
}

// Minor page faults of the whole process so far. First-touching freshly
// mapped memory can dominate a memory-bound kernel (on some VMs a 4 KiB
// fault costs ~20 us), so the benchmarks report faults per call.
int64_t minor_faults() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return int64_t(u.ru_minflt);
}

// The timed loop shared by the throughput workloads: one warm-up call
// (traces and compiles; not timed), then call + eval per iteration.
void run_compiled(benchmark::State& state, const kx::ArrayFunction& fn, const std::vector<kx::array>& args,
                  double bytes_per_call, double flops_per_call = 0) {
  kx::ArrayFunction f = kx::compile(fn);
  {
    auto warm = f(args);
    kx::eval(warm);
  }
  int64_t faults = minor_faults();
  for (auto _ : state) {
    auto out = f(args);
    kx::eval(out);
    benchmark::DoNotOptimize(out.data());
  }
  faults = minor_faults() - faults;
  state.counters["faults/iter"] = double(faults) / double(std::max<int64_t>(1, state.iterations()));
  state.SetBytesProcessed(int64_t(double(state.iterations()) * bytes_per_call));
  if (flops_per_call > 0)
    state.counters["GFLOP/s"] =
        benchmark::Counter(flops_per_call * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

// ---- the formulas (bench/compare.py writes the same ones) -----------------

kx::array gelu_tanh(const kx::array& x) {
  const float k = 0.7978845608028654f;  // sqrt(2 / pi)
  return 0.5f * x * (1.0f + kx::tanh(k * (x + 0.044715f * x * x * x)));
}

// Ten elementwise ops on one input.
kx::array chain10(const kx::array& x, float c = 1.0f) {
  kx::array y = x * (1.5f * c);       // 1
  y = y + 0.25f * c;                  // 2
  y = y * x;                          // 3
  y = y - 0.75f;                      // 4
  y = kx::abs(y);                     // 5
  y = y + 1.0f;                       // 6
  y = kx::sqrt(y);                    // 7
  y = y * 0.5f;                       // 8
  y = kx::maximum(y, x);              // 9
  y = y - 0.125f;                     // 10
  return y;
}

kx::array layernorm(const kx::array& x, const kx::array& w, const kx::array& b) {
  kx::array mu = kx::mean(x, -1, /*keepdims=*/true);
  kx::array xc = x - mu;
  kx::array var = kx::mean(xc * xc, -1, /*keepdims=*/true);
  return xc * kx::rsqrt(var + 1e-5f) * w + b;
}

// ---- throughput workloads ------------------------------------------------

void BM_gelu(benchmark::State& state) {
  kx::array x = input("x16m", {int(kElementwiseN)});
  run_compiled(state, [](const std::vector<kx::array>& a) { return std::vector<kx::array>{gelu_tanh(a[0])}; },
               {x}, 2.0 * 4 * kElementwiseN);
}

void BM_chain10(benchmark::State& state) {
  kx::array x = input("x16m", {int(kElementwiseN)});
  run_compiled(state, [](const std::vector<kx::array>& a) { return std::vector<kx::array>{chain10(a[0])}; },
               {x}, 2.0 * 4 * kElementwiseN);
}

void BM_softmax(benchmark::State& state) {
  kx::array x = input("x4k", {kRows, kCols});
  run_compiled(state, [](const std::vector<kx::array>& a) { return std::vector<kx::array>{kx::softmax(a[0], -1)}; },
               {x}, 2.0 * 4 * kRows * kCols);
}

void BM_layernorm(benchmark::State& state) {
  kx::array x = input("x4k", {kRows, kCols});
  kx::array w = input("w4k", {kCols}, 0.5f, 1.5f);
  kx::array b = input("b4k", {kCols}, -0.5f, 0.5f);
  run_compiled(state,
               [](const std::vector<kx::array>& a) { return std::vector<kx::array>{layernorm(a[0], a[1], a[2])}; },
               {x, w, b}, 2.0 * 4 * kRows * kCols);
}

void BM_sum_last(benchmark::State& state) {
  kx::array x = input("x4k", {kRows, kCols});
  run_compiled(state, [](const std::vector<kx::array>& a) { return std::vector<kx::array>{kx::sum(a[0], -1)}; },
               {x}, 4.0 * kRows * kCols);
}

void BM_sum_first(benchmark::State& state) {
  kx::array x = input("x4k", {kRows, kCols});
  run_compiled(state, [](const std::vector<kx::array>& a) { return std::vector<kx::array>{kx::sum(a[0], 0)}; },
               {x}, 4.0 * kRows * kCols);
}

// relu(a @ b + bias), n x n float32.
void BM_matmul_bias_relu(benchmark::State& state) {
  int n = int(state.range(0));
  std::string s = std::to_string(n);
  kx::array a = input("ma" + s, {n, n}, -1.0f, 1.0f);
  kx::array b = input("mb" + s, {n, n}, -1.0f, 1.0f);
  kx::array bias = input("bias" + s, {n}, -1.0f, 1.0f);
  run_compiled(state,
               [](const std::vector<kx::array>& v) {
                 return std::vector<kx::array>{kx::maximum(kx::matmul(v[0], v[1]) + v[2], kx::array(0.0f))};
               },
               {a, b, bias}, 3.0 * 4 * double(n) * n, 2.0 * double(n) * n * n);
}

// The same product by OpenBLAS's cblas_sgemm alone, into a preallocated
// output: the "OpenBLAS alone" baseline that matmul+bias+relu is held to.
void BM_sgemm_openblas(benchmark::State& state) {
  int n = int(state.range(0));
  std::string s = std::to_string(n);
  kx::array a = input("ma" + s, {n, n}, -1.0f, 1.0f);
  kx::array b = input("mb" + s, {n, n}, -1.0f, 1.0f);
  std::vector<float> c(size_t(n) * n);
  const float* pa = a.data<float>();
  const float* pb = b.data<float>();
  for (auto _ : state) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, pa, n, pb, n, 0.0f, c.data(), n);
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(int64_t(double(state.iterations()) * 3.0 * 4 * double(n) * n));
  state.counters["GFLOP/s"] =
      benchmark::Counter(2.0 * double(n) * n * n * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

// ---- latency -------------------------------------------------------------

// First call of a freshly compiled 10-op function on a tiny input: compile()
// + trace + passes + fusion + LLVM + run. Every iteration uses constants no
// earlier iteration used (rank-0 constants are part of a kernel's structure),
// so nothing comes from the kernel cache; kernels/iter shows that it did not.
void BM_first_call_10op(benchmark::State& state) {
  static std::atomic<int> serial{0};
  kx::array x = input("x16", {16});
  auto before = kiln::codegen::kernel_cache_stats();
  for (auto _ : state) {
    float c = 1.0f + 1e-4f * float(++serial);
    auto f = kx::compile(std::function<kx::array(const kx::array&)>(
        [c](const kx::array& v) { return chain10(v, c); }));
    kx::array y = f(x);
    y.eval();
    benchmark::DoNotOptimize(y.data<float>());
  }
  auto after = kiln::codegen::kernel_cache_stats();
  double iters = double(std::max<int64_t>(1, state.iterations()));
  state.counters["kernels/iter"] = double(after.kernels_compiled - before.kernels_compiled) / iters;
  state.counters["llvm_ms/iter"] = (after.compile_ms - before.compile_ms) / iters;
}

// A cached compiled call: a 3-op function on 4 floats, called and evaluated.
void BM_cached_call_3op(benchmark::State& state) {
  kx::array x = input("x4", {4});
  auto f = kx::compile(std::function<kx::array(const kx::array&)>(
      [](const kx::array& v) { return (v * 2.0f + 1.0f) * v; }));
  f(x).eval();
  auto before = kiln::codegen::kernel_cache_stats();
  for (auto _ : state) {
    kx::array y = f(x);
    y.eval();
    benchmark::DoNotOptimize(y.data<float>());
  }
  auto after = kiln::codegen::kernel_cache_stats();
  state.counters["kernels/iter"] =
      double(after.kernels_compiled - before.kernels_compiled) / double(std::max<int64_t>(1, state.iterations()));
}

}  // namespace

// Names are what bench/compare.py looks up.
BENCHMARK(BM_gelu)->Name("gelu_16M")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_chain10)->Name("chain10_16M")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_softmax)->Name("softmax_4096x4096")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_layernorm)->Name("layernorm_4096x4096")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_sum_last)->Name("sum_last_4096x4096")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_sum_first)->Name("sum_first_4096x4096")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_matmul_bias_relu)->Name("matmul_bias_relu")->Arg(1024)->Arg(2048)
    ->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_sgemm_openblas)->Name("sgemm_openblas")->Arg(1024)->Arg(2048)
    ->Unit(benchmark::kMillisecond)->UseRealTime();
// Each iteration compiles new kernels (and keeps them: the JIT's cache only
// grows), so the count is bounded.
BENCHMARK(BM_first_call_10op)->Name("first_call_10op")->Iterations(10)
    ->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_cached_call_3op)->Name("cached_call_3op")->Unit(benchmark::kMicrosecond)->UseRealTime();

// Defaults (5 repetitions, aggregates only) that command-line flags, which
// come after them, override.
int main(int argc, char** argv) {
  std::vector<char*> args{argv[0]};
  std::string reps = "--benchmark_repetitions=5";
  std::string aggregates = "--benchmark_report_aggregates_only=true";
  args.push_back(reps.data());
  args.push_back(aggregates.data());
  for (int i = 1; i < argc; ++i) args.push_back(argv[i]);
  int n = int(args.size());
  args.push_back(nullptr);
  benchmark::Initialize(&n, args.data());
  if (benchmark::ReportUnrecognizedArguments(n, args.data())) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
