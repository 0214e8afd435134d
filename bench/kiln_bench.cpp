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
// the two files in step (sizes, formulas, names). Each memory-bound workload
// W is preceded by copy/W, a copy through kiln's allocator and thread pool
// whose bandwidth is the denominator of W's "% of copy bandwidth".
#include <benchmark/benchmark.h>
#include <cblas.h>
#include <sys/resource.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <kiln/kiln.h>

#include "codegen/llvm/jit.h"
#include "runtime/buffer.h"
#include "runtime/openblas.h"
#include "runtime/thread_pool.h"

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

// sin on 16M float32: the vectorized polynomial with its range reduction
// (codegen/llvm/math.cpp); kiln-only, not in compare.py's table.
void BM_sin(benchmark::State& state) {
  kx::array x = input("x16m", {int(kElementwiseN)});
  run_compiled(state, [](const std::vector<kx::array>& a) { return std::vector<kx::array>{kx::sin(a[0])}; },
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

// Uniform float32 random numbers, 4096^2 (16M), from a key passed as an
// argument: Threefry-2x32 and the float mapping in one kernel
// (frontend/random.cpp). Compared with NumPy's Generator.random and
// torch.rand (different generators, the same output).
void BM_uniform(benchmark::State& state) {
  kx::array key = kx::random::key(0);
  run_compiled(state,
               [](const std::vector<kx::array>& a) {
                 return std::vector<kx::array>{kx::random::uniform({kRows, kCols}, a[0])};
               },
               {key}, 4.0 * kRows * kCols);
}

void BM_sum_first(benchmark::State& state) {
  kx::array x = input("x4k", {kRows, kCols});
  run_compiled(state, [](const std::vector<kx::array>& a) { return std::vector<kx::array>{kx::sum(a[0], 0)}; },
               {x}, 4.0 * kRows * kCols);
}

// Scans, sorts and selection (issue 11): host kernels, not fused.
constexpr int kSortN = 1 << 22;  // 4M float32

void BM_cumsum_16M(benchmark::State& state) {
  kx::array x = input("x16m", {int(kElementwiseN)});
  run_compiled(state, [](const std::vector<kx::array>& a) { return std::vector<kx::array>{kx::cumsum(a[0])}; },
               {x}, 2.0 * 4 * kElementwiseN);
}

void BM_cumsum_rows(benchmark::State& state) {
  kx::array x = input("x4k", {kRows, kCols});
  run_compiled(state, [](const std::vector<kx::array>& a) { return std::vector<kx::array>{kx::cumsum(a[0], -1)}; },
               {x}, 2.0 * 4 * kRows * kCols);
}

void BM_sort_4M(benchmark::State& state) {
  kx::array x = input("x4m", {kSortN});
  run_compiled(state, [](const std::vector<kx::array>& a) { return std::vector<kx::array>{kx::sort(a[0])}; },
               {x}, 2.0 * 4 * kSortN);
}

void BM_argsort_4M(benchmark::State& state) {
  kx::array x = input("x4m", {kSortN});
  run_compiled(state, [](const std::vector<kx::array>& a) { return std::vector<kx::array>{kx::argsort(a[0])}; },
               {x}, 2.0 * 4 * kSortN);
}

void BM_topk_rows(benchmark::State& state) {
  kx::array x = input("x4k", {kRows, kCols});
  run_compiled(state, [](const std::vector<kx::array>& a) { return std::vector<kx::array>{kx::topk(a[0], 10, -1)}; },
               {x}, 4.0 * kRows * kCols);
}

// Random int32 indices in [0, range), cached by name (the same seed as
// compare.py's is not needed: the access pattern is what matters).
kx::array index_input(const std::string& name, int n, int range) {
  static std::map<std::string, kx::array> cache;
  auto it = cache.find(name);
  if (it != cache.end()) return it->second;
  std::mt19937 rng(uint32_t(std::hash<std::string>{}(name)));
  std::uniform_int_distribution<int32_t> dist(0, range - 1);
  std::vector<int32_t> data(static_cast<size_t>(n));
  for (auto& v : data) v = dist(rng);
  kx::array a(data.data(), {n}, kx::int32);
  a.eval();
  cache.emplace(name, a);
  return a;
}

constexpr int kGatherN = 4 << 20;      // indices
constexpr int kScatterOut = 1 << 20;   // scatter_add's destination

// x[idx]: 4M random reads from 16M float32.
void BM_gather(benchmark::State& state) {
  kx::array x = input("x16m", {int(kElementwiseN)});
  kx::array idx = index_input("idx4m_of_16m", kGatherN, int(kElementwiseN));
  run_compiled(state, [](const std::vector<kx::array>& a) { return std::vector<kx::array>{kx::take(a[0], a[1], 0)}; },
               {x, idx}, 3.0 * 4 * kGatherN);
}

// x[idx] * 0.5 + 1: the gather fused into its elementwise consumer (one
// kernel, no gathered intermediate in memory).
void BM_gather_elementwise(benchmark::State& state) {
  kx::array x = input("x16m", {int(kElementwiseN)});
  kx::array idx = index_input("idx4m_of_16m", kGatherN, int(kElementwiseN));
  run_compiled(state,
               [](const std::vector<kx::array>& a) {
                 return std::vector<kx::array>{kx::take(a[0], a[1], 0) * 0.5f + 1.0f};
               },
               {x, idx}, 3.0 * 4 * kGatherN);
}

// np.add.at(a, idx, u): 4M updates into 1M float32, about 4 per element.
void BM_scatter_add(benchmark::State& state) {
  static kx::array a = [] {
    kx::array z = kx::zeros({kScatterOut});
    z.eval();
    return z;
  }();
  kx::array idx = index_input("idx4m_of_1m", kGatherN, kScatterOut);
  kx::array u = input("u4m", {kGatherN});
  run_compiled(state,
               [](const std::vector<kx::array>& x) {
                 return std::vector<kx::array>{kx::scatter_add(x[0], x[1], kx::reshape(x[2], {-1, 1}), 0)};
               },
               {a, idx, u}, 2.0 * 4 * kScatterOut + 2.0 * 4 * kGatherN);
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

// ---- spectra and quantized weights (issue 12) -------------------------------
// The transforms NumPy's pocketfft is measured on (compare.py): one 2^20
// complex transform, a 1024² 2-D transform, and 4096 rows of 1024-point
// real transforms. kiln computes complex64; NumPy 1.x computes complex128.

kx::array complex_input(const std::string& name, const kx::Shape& shape) {
  static std::map<std::string, kx::array> cache;
  auto it = cache.find(name);
  if (it != cache.end()) return it->second;
  kx::array re = input(name + "_re", shape, -1.0f, 1.0f), im = input(name + "_im", shape, -1.0f, 1.0f);
  kx::array c = kx::astype(re, kx::complex64) + kx::astype(im, kx::complex64) * kx::array(kx::complex64_t(0, 1));
  c.eval();
  cache.emplace(name, c);
  return c;
}

void BM_fft_1d(benchmark::State& state) {
  kx::array x = complex_input("fft1m", {1 << 20});
  run_compiled(state, [](const std::vector<kx::array>& a) { return std::vector<kx::array>{kx::fft::fft(a[0])}; },
               {x}, 2.0 * 8 * (1 << 20));
}

void BM_fft2(benchmark::State& state) {
  kx::array x = complex_input("fft1024sq", {1024, 1024});
  run_compiled(state, [](const std::vector<kx::array>& a) { return std::vector<kx::array>{kx::fft::fft2(a[0])}; },
               {x}, 2.0 * 8 * 1024 * 1024);
}

void BM_rfft_batched(benchmark::State& state) {
  kx::array x = input("rfft4096x1024", {4096, 1024}, -1.0f, 1.0f);
  run_compiled(state, [](const std::vector<kx::array>& a) { return std::vector<kx::array>{kx::fft::rfft(a[0])}; },
               {x}, 4.0 * 4096 * 1024 + 8.0 * 4096 * 513);
}

// x [batch, 4096] times a 4096x4096 weight: 4-bit quantized_matmul (group
// 64, MLX's layout) and the float32 matmul it replaces (x w^T, BLAS).
constexpr int kQmmDim = 4096;

const std::vector<kx::array>& quantized_weight() {
  static std::vector<kx::array> q = [] {
    auto r = kx::quantize(input("qmm_w", {kQmmDim, kQmmDim}, -1.0f, 1.0f), 64, 4);
    kx::eval(r);
    return r;
  }();
  return q;
}

void BM_quantized_matmul_4bit(benchmark::State& state) {
  int batch = int(state.range(0));
  kx::array x = input("qmm_x" + std::to_string(batch), {batch, kQmmDim}, -1.0f, 1.0f);
  const auto& q = quantized_weight();
  run_compiled(state,
               [](const std::vector<kx::array>& a) {
                 return std::vector<kx::array>{kx::quantized_matmul(a[0], a[1], a[2], a[3], true, 64, 4)};
               },
               {x, q[0], q[1], q[2]}, double(kQmmDim) * kQmmDim / 2 + 2.0 * 4 * kQmmDim * (kQmmDim / 64),
               2.0 * batch * kQmmDim * kQmmDim);
}

void BM_matmul_f32_4096(benchmark::State& state) {
  int batch = int(state.range(0));
  kx::array x = input("qmm_x" + std::to_string(batch), {batch, kQmmDim}, -1.0f, 1.0f);
  kx::array w = input("qmm_w", {kQmmDim, kQmmDim}, -1.0f, 1.0f);
  run_compiled(state,
               [](const std::vector<kx::array>& a) {
                 return std::vector<kx::array>{kx::matmul(a[0], kx::transpose(a[1]))};
               },
               {x, w}, 4.0 * kQmmDim * kQmmDim, 2.0 * batch * kQmmDim * kQmmDim);
}

// The OpenBLAS-alone baselines run OpenBLAS on as many threads as kiln's
// pool has: kiln sets OpenBLAS to one thread at its first product (it splits
// products over its own pool, runtime/blas.cpp), which would otherwise make
// the baseline a one-thread figure. Restored after, for kiln's later rows.
// configure_openblas first, so that the baseline runs the same kernels as
// kiln (runtime/openblas.cpp may choose them again for this CPU).
struct BaselineBlasThreads {
  BaselineBlasThreads() {
    kiln::runtime::configure_openblas();
    openblas_set_num_threads(kiln::runtime::ThreadPool::global().size());
  }
  ~BaselineBlasThreads() { openblas_set_num_threads(1); }
};

// The same product by OpenBLAS's cblas_sgemm alone, into a preallocated
// output: the "OpenBLAS alone" baseline that matmul+bias+relu is held to.
void BM_sgemm_openblas(benchmark::State& state) {
  BaselineBlasThreads all_threads;
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

// ---- the copy bandwidth ----------------------------------------------------

// What the memory-bound workloads are held to ("% of copy bandwidth" in
// bench/compare.py): a copy of 64 MiB into 64 MiB, the working set of the
// 16M-element and 4096x4096 workloads, measured in this process right
// before each of them (registered as copy/<workload>), so that it sees the
// same pages, the same allocator and the same load on the machine.
// Source and destination come from runtime::allocate (2 MiB aligned, huge
// pages, cached), the copy runs on ThreadPool::global() (all its threads),
// and bytes_per_second counts what moves: 64 MiB read + 64 MiB written.
//
// The stores are non-temporal, as kiln's row kernels (softmax, layernorm)
// store their large outputs (Schedule::stream_output, passes/kernel_schedule.h): a line written that way goes to memory without
// being read first, so the bytes counted are the bytes that cross memory
// and the copy is the fastest one-read-one-write stream this process can
// run. Any workload that must move its counted bytes therefore stays at or
// under 100% of it, whatever its own stores do; a kernel with plain stores
// (kiln's elementwise kernels) also reads each output line before writing it
// (write-allocate) and shows that as a gap (neg_16M measures it).
constexpr int64_t kCopyBytes = int64_t(64) << 20;
constexpr int64_t kLine = 64;  // bytes; every runtime::Buffer starts on a line

// dst[l] = src[l] for the 64-byte lines l in [begin, end).
void copy_lines(float* dst, const float* src, int64_t begin, int64_t end) {
  constexpr int64_t per_line = kLine / int64_t(sizeof(float));
#if defined(__SSE2__)
  for (int64_t i = begin * per_line; i < end * per_line; i += 4) _mm_stream_ps(dst + i, _mm_load_ps(src + i));
  _mm_sfence();  // the streamed lines are in memory before parallel_for returns
#else
  // No portable non-temporal store: the C library's copy, whatever its stores.
  std::memcpy(dst + begin * per_line, src + begin * per_line, size_t((end - begin) * kLine));
#endif
}

void BM_copy(benchmark::State& state) {
  namespace rt = kiln::runtime;
  rt::BufferPtr src = rt::allocate(size_t(kCopyBytes)), dst = rt::allocate(size_t(kCopyBytes));
  float* d = static_cast<float*>(dst->data());
  const float* s = static_cast<const float*>(src->data());
  const int64_t lines = kCopyBytes / kLine;
  // The executor's chunking: a grain of 2^15 float32 elements per chunk.
  const int64_t grain = (int64_t(1) << 15) * int64_t(sizeof(float)) / kLine;
  rt::ThreadPool& pool = rt::ThreadPool::global();
  auto copy = [&] { pool.parallel_for(lines, grain, [&](int64_t b, int64_t e) { copy_lines(d, s, b, e); }); };
  // Untimed: fill the source and copy once, so that every page has been
  // touched by the threads that stream it (as the workloads' warm-up call).
  pool.parallel_for(int64_t(kCopyBytes / sizeof(float)), grain, [&](int64_t b, int64_t e) {
    float* w = static_cast<float*>(src->data());
    for (int64_t i = b; i < e; ++i) w[i] = float(i % 1000);
  });
  copy();
  if (std::memcmp(d, s, size_t(kCopyBytes)) != 0) {
    state.SkipWithError("the copy differs from its source");
    return;
  }
  int64_t faults = minor_faults();
  for (auto _ : state) {
    copy();
    benchmark::DoNotOptimize(d);
    benchmark::ClobberMemory();
  }
  faults = minor_faults() - faults;
  state.counters["faults/iter"] = double(faults) / double(std::max<int64_t>(1, state.iterations()));
  state.SetBytesProcessed(int64_t(double(state.iterations()) * 2.0 * double(kCopyBytes)));
}

// kiln's cheapest elementwise kernel, -x on 16M float32 (one read, one
// write, plain stores): how far the store strategy alone puts a kernel from
// the copy above. (x * 1 would be folded away; negation cannot be.)
void BM_neg(benchmark::State& state) {
  kx::array x = input("x16m", {int(kElementwiseN)});
  run_compiled(state, [](const std::vector<kx::array>& a) { return std::vector<kx::array>{-a[0]}; }, {x},
               2.0 * 4 * kElementwiseN);
}

// ---- training step ----------------------------------------------------------

// One SGD step of an MLP 784-512-512-10 (relu hidden layers), softmax
// cross-entropy on integer labels, mean over a batch of 256, float32 (the
// benchmark of issue 4). bench/compare.py times the same step in PyTorch.
constexpr int kMlpBatch = 256, kMlpIn = 784, kMlpHidden = 512, kMlpOut = 10;
constexpr float kMlpLr = 0.01f;
constexpr int kMlpParams = 6;  // w1, b1, w2, b2, w3, b3; weights are (in, out)

// The loss of params a[0..5] on a[6] (x, batch x 784) and a[7] (int32
// labels, batch). one_hot: the label's log-probability is picked by a
// one-hot mask (elementwise, fuses); otherwise by take_along_axis (a gather).
kx::array mlp_loss(const std::vector<kx::array>& a, bool one_hot) {
  const kx::array &x = a[6], &y = a[7];
  kx::array h = kx::maximum(kx::matmul(x, a[0]) + a[1], kx::array(0.0f));
  h = kx::maximum(kx::matmul(h, a[2]) + a[3], kx::array(0.0f));
  kx::array z = kx::matmul(h, a[4]) + a[5];
  kx::array logp = z - kx::logsumexp(z, -1, /*keepdims=*/true);
  kx::array picked = one_hot
      ? kx::sum(logp * kx::astype(kx::equal(kx::expand_dims(y, -1), kx::arange(0, kMlpOut, 1)), kx::float32), -1)
      : kx::take_along_axis(logp, kx::expand_dims(y, -1), -1);
  return -kx::mean(picked);
}

// (params..., x, y) -> (loss, gradients...), by value_and_grad.
kx::ArrayFunction mlp_loss_and_grads(bool one_hot) {
  auto vg = kx::value_and_grad(
      [one_hot](const std::vector<kx::array>& a) { return mlp_loss(a, one_hot); }, {0, 1, 2, 3, 4, 5});
  return [vg](const std::vector<kx::array>& a) {
    auto [loss, grads] = vg(a);
    std::vector<kx::array> out{loss};
    out.insert(out.end(), grads.begin(), grads.end());
    return out;
  };
}

// (params..., x, y) -> (loss, new params...): one plain SGD step.
kx::ArrayFunction mlp_step(bool one_hot) {
  auto lg = mlp_loss_and_grads(one_hot);
  return [lg](const std::vector<kx::array>& a) {
    auto r = lg(a);
    std::vector<kx::array> out{r[0]};
    for (int i = 0; i < kMlpParams; ++i) out.push_back(a[size_t(i)] - kMlpLr * r[size_t(i) + 1]);
    return out;
  };
}

// Parameters initialized as torch.nn.Linear does (uniform +-1/sqrt(fan_in)),
// x uniform in [-1, 1), labels uniform in 0..9.
std::vector<kx::array> mlp_inputs() {
  auto u = [](const char* name, const kx::Shape& s, int fan_in) {
    float b = 1.0f / std::sqrt(float(fan_in));
    return input(name, s, -b, b);
  };
  std::vector<kx::array> a{u("mlp_w1", {kMlpIn, kMlpHidden}, kMlpIn),         u("mlp_b1", {kMlpHidden}, kMlpIn),
                           u("mlp_w2", {kMlpHidden, kMlpHidden}, kMlpHidden), u("mlp_b2", {kMlpHidden}, kMlpHidden),
                           u("mlp_w3", {kMlpHidden, kMlpOut}, kMlpHidden),    u("mlp_b3", {kMlpOut}, kMlpHidden),
                           input("mlp_x", {kMlpBatch, kMlpIn}, -1.0f, 1.0f)};
  std::vector<int32_t> labels(kMlpBatch);
  std::mt19937 rng(1234);
  for (auto& l : labels) l = int32_t(rng() % kMlpOut);
  kx::array y(labels.data(), {kMlpBatch}, kx::int32);
  y.eval();
  a.push_back(y);
  return a;
}

// Forward + backward + update = 2*B*(784*512 + 512*512 + 512*10) forward
// multiply-adds, twice that for the weight and input gradients, less the
// input gradient of the first layer (not computed).
constexpr double kMlpFlops = 2.0 * kMlpBatch *
    (3.0 * (double(kMlpIn) * kMlpHidden + double(kMlpHidden) * kMlpHidden + double(kMlpHidden) * kMlpOut) -
     double(kMlpIn) * kMlpHidden);

// A timed training loop: each iteration runs one step on the current
// parameters, evaluates the loss and the new parameters, and feeds them back
// (a real training loop; inputs of a compiled function are never constants).
void run_mlp_steps(benchmark::State& state, const kx::ArrayFunction& step) {
  std::vector<kx::array> args = mlp_inputs();
  auto one = [&] {
    auto out = step(args);
    kx::eval(out);
    for (int i = 0; i < kMlpParams; ++i) args[size_t(i)] = out[size_t(i) + 1];
    return out[0];
  };
  float first = one().item<float>();  // warm-up: traces and compiles
  int64_t faults = minor_faults();
  kx::array loss = kx::array(0.0f);
  for (auto _ : state) {
    loss = one();
    benchmark::DoNotOptimize(loss.data<float>());
  }
  faults = minor_faults() - faults;
  state.counters["faults/iter"] = double(faults) / double(std::max<int64_t>(1, state.iterations()));
  state.counters["GFLOP/s"] = benchmark::Counter(kMlpFlops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["loss_first"] = first;
  state.counters["loss_last"] = loss.item<float>();
}

void BM_mlp_train_step(benchmark::State& state) { run_mlp_steps(state, kx::compile(mlp_step(true))); }

// The same step with the label picked by take_along_axis (a gather).
void BM_mlp_train_step_gather(benchmark::State& state) { run_mlp_steps(state, kx::compile(mlp_step(false))); }

// Uncompiled: value_and_grad traces and differentiates on every call, the
// update is built op by op, and eval() runs the whole lazy graph.
void BM_mlp_train_step_eager(benchmark::State& state) { run_mlp_steps(state, mlp_step(true)); }

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
    // Constants are kernel parameters: a new value alone would reuse the
    // kernel, so the in-memory cache is emptied first (untimed).
    state.PauseTiming();
    kiln::codegen::clear_kernel_cache();
    state.ResumeTiming();
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

// The step's eight matrix products by cblas_sgemm alone (transposed
// operands passed as CblasTrans, outputs preallocated): the BLAS floor of
// mlp_train_step. Forward x@w1, h1@w2, h2@w3; backward dz@w3^T, dh2@w2^T,
// and the weight gradients x^T@dh1, h1^T@dh2, h2^T@dz.
void BM_mlp_sgemm_openblas(benchmark::State& state) {
  BaselineBlasThreads all_threads;
  const int B = kMlpBatch, I = kMlpIn, H = kMlpHidden, O = kMlpOut;
  std::vector<kx::array> a = mlp_inputs();
  const float *x = a[6].data<float>(), *w1 = a[0].data<float>(), *w2 = a[2].data<float>(),
              *w3 = a[4].data<float>();
  std::vector<float> h1(size_t(B) * H), h2(size_t(B) * H), z(size_t(B) * O), dh2(size_t(B) * H),
      dh1(size_t(B) * H), gw1(size_t(I) * H), gw2(size_t(H) * H), gw3(size_t(H) * O);
  auto gemm = [](CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int m, int n, int k, const float* pa, int lda,
                 const float* pb, int ldb, float* pc) {
    cblas_sgemm(CblasRowMajor, ta, tb, m, n, k, 1.0f, pa, lda, pb, ldb, 0.0f, pc, n);
  };
  const auto N = CblasNoTrans, T = CblasTrans;
  for (auto _ : state) {
    gemm(N, N, B, H, I, x, I, w1, H, h1.data());
    gemm(N, N, B, H, H, h1.data(), H, w2, H, h2.data());
    gemm(N, N, B, O, H, h2.data(), H, w3, O, z.data());
    gemm(N, T, B, H, O, z.data(), O, w3, O, dh2.data());
    gemm(N, T, B, H, H, dh2.data(), H, w2, H, dh1.data());
    gemm(T, N, I, H, B, x, I, dh1.data(), H, gw1.data());
    gemm(T, N, H, H, B, h1.data(), H, dh2.data(), H, gw2.data());
    gemm(T, N, H, O, B, h2.data(), H, z.data(), O, gw3.data());
    benchmark::DoNotOptimize(gw1.data());
    benchmark::ClobberMemory();
  }
  state.counters["GFLOP/s"] = benchmark::Counter(kMlpFlops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

// ---- convolution and einsum (issue 11) ---------------------------------------

// A ResNet-like 3x3 convolution, channels-last: x (8, 56, 56, 64), w (64, 3,
// 3, 64), stride 1, padding 1 -> (8, 56, 56, 64). The GEMM it lowers to is
// (8 * 56 * 56) x (9 * 64) times (9 * 64) x 64.
constexpr int kConvN = 8, kConvHW = 56, kConvC = 64, kConvK = 3;
constexpr double kConvFlops = 2.0 * kConvN * kConvHW * kConvHW * kConvC * kConvK * kConvK * kConvC;

void BM_conv2d_fwd(benchmark::State& state) {
  kx::array x = input("conv_x", {kConvN, kConvHW, kConvHW, kConvC}, -1.0f, 1.0f);
  kx::array w = input("conv_w", {kConvC, kConvK, kConvK, kConvC}, -0.1f, 0.1f);
  run_compiled(state,
               [](const std::vector<kx::array>& v) {
                 return std::vector<kx::array>{kx::conv2d(v[0], v[1], {1, 1}, {1, 1})};
               },
               {x, w}, 4.0 * (2.0 * x.size() + w.size()), kConvFlops);
}

// The backward pass: the gradients of sum(conv2d(x, w) * r) with respect to
// x and w (two GEMMs of the forward's size).
void BM_conv2d_bwd(benchmark::State& state) {
  kx::array x = input("conv_x", {kConvN, kConvHW, kConvHW, kConvC}, -1.0f, 1.0f);
  kx::array w = input("conv_w", {kConvC, kConvK, kConvK, kConvC}, -0.1f, 0.1f);
  kx::array r = input("conv_r", {kConvN, kConvHW, kConvHW, kConvC}, -1.0f, 1.0f);
  auto loss = [](const std::vector<kx::array>& v) { return kx::sum(kx::conv2d(v[0], v[1], {1, 1}, {1, 1}) * v[2]); };
  auto grads = kx::grad(std::function<kx::array(const std::vector<kx::array>&)>(loss), {0, 1});
  run_compiled(state, grads, {x, w, r}, 4.0 * (3.0 * x.size() + 2.0 * w.size()), 2 * kConvFlops);
}

// The bare GEMM of the forward pass by cblas_sgemm, into a preallocated
// output: what conv2d_fwd is held to (and twice it, conv2d_bwd).
void BM_conv2d_sgemm(benchmark::State& state) {
  BaselineBlasThreads all_threads;
  const int m = kConvN * kConvHW * kConvHW, k = kConvK * kConvK * kConvC, n = kConvC;
  kx::array a = input("conv_gemm_a", {m, k}, -1.0f, 1.0f);
  kx::array b = input("conv_gemm_b", {k, n}, -0.1f, 0.1f);
  std::vector<float> c(size_t(m) * n);
  for (auto _ : state) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, a.data<float>(), k, b.data<float>(), n,
                0.0f, c.data(), n);
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  state.counters["GFLOP/s"] = benchmark::Counter(kConvFlops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

// Attention scores: einsum("bhqd,bhkd->bhqk"), b = h = 8, q = k = 512, d = 64.
void BM_einsum_attention(benchmark::State& state) {
  kx::array q = input("attn_q", {8, 8, 512, 64}, -1.0f, 1.0f);
  kx::array k = input("attn_k", {8, 8, 512, 64}, -1.0f, 1.0f);
  run_compiled(state,
               [](const std::vector<kx::array>& v) {
                 return std::vector<kx::array>{kx::einsum("bhqd,bhkd->bhqk", {v[0], v[1]})};
               },
               {q, k}, 4.0 * (2.0 * q.size() + 64.0 * 512 * 512), 2.0 * 64 * 512 * 512 * 64);
}

// ---- numerical check of the training step (outside any timing) -------------

// kiln-bench --mlp_check=DIR: reads the parameters and data that
// bench/compare.py wrote to DIR as raw row-major files (w1.f32 ... b3.f32,
// x.f32, y.i32), writes the loss and the gradient of w1 at those parameters
// (compiled one-hot, eager one-hot, compiled take_along_axis:
// gw1_{compiled,eager,gather}.f32) and the losses of 20 compiled SGD steps
// (kiln_check.txt), which compare.py checks against PyTorch.
template <typename T>
kx::array read_raw(const std::string& path, const kx::Shape& shape, kx::Dtype dtype) {
  size_t n = 1;
  for (auto d : shape) n *= size_t(d);
  std::vector<T> v(n);
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f || std::fread(v.data(), sizeof(T), n, f) != n) throw std::runtime_error("cannot read " + path);
  std::fclose(f);
  kx::array a(v.data(), shape, dtype);
  a.eval();
  return a;
}

void write_raw(const std::string& path, const kx::array& a) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f || std::fwrite(a.data<float>(), sizeof(float), a.size(), f) != a.size())
    throw std::runtime_error("cannot write " + path);
  std::fclose(f);
}

int mlp_check(const std::string& dir) {
  const std::vector<std::pair<const char*, kx::Shape>> files{
      {"w1", {kMlpIn, kMlpHidden}}, {"b1", {kMlpHidden}}, {"w2", {kMlpHidden, kMlpHidden}},
      {"b2", {kMlpHidden}},         {"w3", {kMlpHidden, kMlpOut}}, {"b3", {kMlpOut}},
      {"x", {kMlpBatch, kMlpIn}}};
  std::vector<kx::array> args;
  for (auto& [name, shape] : files) args.push_back(read_raw<float>(dir + "/" + name + ".f32", shape, kx::float32));
  args.push_back(read_raw<int32_t>(dir + "/y.i32", {kMlpBatch}, kx::int32));

  std::FILE* out = std::fopen((dir + "/kiln_check.txt").c_str(), "w");
  if (!out) throw std::runtime_error("cannot write " + dir + "/kiln_check.txt");
  const std::vector<std::pair<const char*, kx::ArrayFunction>> variants{
      {"compiled", kx::compile(mlp_loss_and_grads(true))},
      {"eager", mlp_loss_and_grads(true)},
      {"gather", kx::compile(mlp_loss_and_grads(false))}};
  for (auto& [name, fn] : variants) {
    auto r = fn(args);
    kx::eval(r);
    std::fprintf(out, "loss0_%s %.9g\n", name, double(r[0].item<float>()));
    write_raw(dir + "/gw1_" + name + ".f32", r[1]);
  }
  auto step = kx::compile(mlp_step(true));
  std::fprintf(out, "losses");
  for (int i = 0; i <= 20; ++i) {
    auto r = step(args);
    kx::eval(r);
    std::fprintf(out, " %.9g", double(r[0].item<float>()));
    for (int j = 0; j < kMlpParams; ++j) args[size_t(j)] = r[size_t(j) + 1];
  }
  std::fprintf(out, "\n");
  std::fclose(out);
  return 0;
}

}  // namespace

// Names are what bench/compare.py looks up. Google Benchmark runs them in
// this order, all repetitions of one before the next, so copy/W is measured
// right before W (and a --benchmark_filter that selects W selects copy/W).
#define KILN_COPY_BEFORE(workload) \
  BENCHMARK(BM_copy)->Name("copy/" workload)->Unit(benchmark::kMillisecond)->UseRealTime()
KILN_COPY_BEFORE("gelu_16M");
BENCHMARK(BM_gelu)->Name("gelu_16M")->Unit(benchmark::kMillisecond)->UseRealTime();
KILN_COPY_BEFORE("chain10_16M");
BENCHMARK(BM_chain10)->Name("chain10_16M")->Unit(benchmark::kMillisecond)->UseRealTime();
KILN_COPY_BEFORE("neg_16M");
BENCHMARK(BM_neg)->Name("neg_16M")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_sin)->Name("sin_16M")->Unit(benchmark::kMillisecond)->UseRealTime();
KILN_COPY_BEFORE("softmax_4096x4096");
BENCHMARK(BM_softmax)->Name("softmax_4096x4096")->Unit(benchmark::kMillisecond)->UseRealTime();
KILN_COPY_BEFORE("layernorm_4096x4096");
BENCHMARK(BM_layernorm)->Name("layernorm_4096x4096")->Unit(benchmark::kMillisecond)->UseRealTime();
KILN_COPY_BEFORE("sum_last_4096x4096");
BENCHMARK(BM_sum_last)->Name("sum_last_4096x4096")->Unit(benchmark::kMillisecond)->UseRealTime();
KILN_COPY_BEFORE("sum_first_4096x4096");
BENCHMARK(BM_sum_first)->Name("sum_first_4096x4096")->Unit(benchmark::kMillisecond)->UseRealTime();
KILN_COPY_BEFORE("uniform_16M");
BENCHMARK(BM_uniform)->Name("uniform_16M")->Unit(benchmark::kMillisecond)->UseRealTime();
KILN_COPY_BEFORE("cumsum_16M");
BENCHMARK(BM_cumsum_16M)->Name("cumsum_16M")->Unit(benchmark::kMillisecond)->UseRealTime();
KILN_COPY_BEFORE("cumsum_rows_4096x4096");
BENCHMARK(BM_cumsum_rows)->Name("cumsum_rows_4096x4096")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_sort_4M)->Name("sort_4M")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_argsort_4M)->Name("argsort_4M")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_topk_rows)->Name("topk10_rows_4096x4096")->Unit(benchmark::kMillisecond)->UseRealTime();
KILN_COPY_BEFORE("gather_4M_of_16M");
BENCHMARK(BM_gather)->Name("gather_4M_of_16M")->Unit(benchmark::kMillisecond)->UseRealTime();
KILN_COPY_BEFORE("gather_4M_of_16M_elementwise");
BENCHMARK(BM_gather_elementwise)->Name("gather_4M_of_16M_elementwise")->Unit(benchmark::kMillisecond)->UseRealTime();
KILN_COPY_BEFORE("scatter_add_4M_into_1M");
BENCHMARK(BM_scatter_add)->Name("scatter_add_4M_into_1M")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_matmul_bias_relu)->Name("matmul_bias_relu")->Arg(1024)->Arg(2048)
    ->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_sgemm_openblas)->Name("sgemm_openblas")->Arg(1024)->Arg(2048)
    ->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_fft_1d)->Name("fft_1d_1M")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_fft2)->Name("fft2_1024x1024")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_rfft_batched)->Name("rfft_4096x1024")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_quantized_matmul_4bit)->Name("quantized_matmul_4bit_4096")->Arg(1)->Arg(32)
    ->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_matmul_f32_4096)->Name("matmul_f32_4096")->Arg(1)->Arg(32)
    ->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_mlp_train_step)->Name("mlp_train_step")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_mlp_train_step_eager)->Name("mlp_train_step_eager")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_mlp_train_step_gather)->Name("mlp_train_step_gather")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_mlp_sgemm_openblas)->Name("mlp_sgemm_openblas")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_conv2d_fwd)->Name("conv2d_resnet_fwd")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_conv2d_bwd)->Name("conv2d_resnet_bwd")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_conv2d_sgemm)->Name("conv2d_resnet_sgemm")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_einsum_attention)->Name("einsum_attention")->Unit(benchmark::kMillisecond)->UseRealTime();
// Each iteration compiles new kernels (and keeps them: the JIT's cache only
// grows), so the count is bounded.
BENCHMARK(BM_first_call_10op)->Name("first_call_10op")->Iterations(10)
    ->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_cached_call_3op)->Name("cached_call_3op")->Unit(benchmark::kMicrosecond)->UseRealTime();

// Defaults (5 repetitions, aggregates only) that command-line flags, which
// come after them, override.
int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--mlp_check=", 12) == 0) return mlp_check(argv[i] + 12);
    // The OpenBLAS core kiln runs (bench/openblas_core.py gives NumPy and
    // PyTorch the same one).
    if (std::strcmp(argv[i], "--openblas_core") == 0) {
      kiln::runtime::configure_openblas();
      std::printf("%s\n", kiln::runtime::openblas_core().c_str());
      return 0;
    }
  }
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
