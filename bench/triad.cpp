// The machine's memory bandwidth, STREAM-triad style: a[i] = b[i] + s * c[i]
// over arrays far larger than the caches, split across T threads (default
// 2, the cores this machine class has). Bandwidth counts 3 streams (two
// reads, one write) of 8-byte doubles per element, as STREAM does.
//
//   kiln-triad [threads] [elements per array] [passes]
//
// Prints one line per statistic ("triad_best_GBps 81.2", "triad_median_GBps
// 79.9") that bench/compare.py prints for reference. It is not the
// denominator of the table's "% of copy bandwidth": this process has its own
// footprint and plain pages, and its write-allocate traffic is not counted,
// so kiln's kernels could exceed it; kiln-bench's in-process copy is that
// denominator.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <thread>
#include <vector>

namespace {

struct Free {
  void operator()(double* p) const { std::free(p); }
};
using Buffer = std::unique_ptr<double[], Free>;

Buffer allocate(size_t n) {
  size_t bytes = (n * sizeof(double) + 63) / 64 * 64;
  return Buffer(static_cast<double*>(std::aligned_alloc(64, bytes)));
}

template <typename F>
void on_threads(int threads, size_t n, F body) {
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    size_t begin = n * t / threads, end = n * (t + 1) / threads;
    pool.emplace_back([=] { body(begin, end); });
  }
  for (auto& th : pool) th.join();
}

}  // namespace

int main(int argc, char** argv) {
  int threads = argc > 1 ? std::atoi(argv[1]) : 2;
  size_t n = argc > 2 ? size_t(std::atoll(argv[2])) : size_t(1) << 25;  // 256 MiB per array
  int passes = argc > 3 ? std::atoi(argv[3]) : 20;
  if (threads < 1 || n == 0 || passes < 1) {
    std::fprintf(stderr, "usage: kiln-triad [threads >= 1] [elements >= 1] [passes >= 1]\n");
    return 2;
  }
  Buffer a = allocate(n), b = allocate(n), c = allocate(n);
  double* pa = a.get();
  double* pb = b.get();
  double* pc = c.get();
  // First touch on the thread that later streams the range.
  on_threads(threads, n, [=](size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) {
      pa[i] = 0.0;
      pb[i] = 1.0 + double(i % 7);
      pc[i] = 2.0 - double(i % 5);
    }
  });
  const double s = 3.0;
  std::vector<double> gbps;
  for (int p = 0; p < passes; ++p) {
    auto t0 = std::chrono::steady_clock::now();
    on_threads(threads, n, [=](size_t begin, size_t end) {
      double* __restrict x = pa;
      const double* __restrict y = pb;
      const double* __restrict z = pc;
      for (size_t i = begin; i < end; ++i) x[i] = y[i] + s * z[i];
    });
    double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    gbps.push_back(3.0 * sizeof(double) * double(n) / sec * 1e-9);
  }
  // Keep the result observable so the loop is not optimized away.
  double check = 0;
  for (size_t i = 0; i < n; i += n / 16 + 1) check += pa[i];
  std::sort(gbps.begin(), gbps.end());
  std::printf("triad_threads %d\n", threads);
  std::printf("triad_bytes_per_pass %.0f\n", 3.0 * sizeof(double) * double(n));
  std::printf("triad_best_GBps %.2f\n", gbps.back());
  std::printf("triad_median_GBps %.2f\n", gbps[gbps.size() / 2]);
  std::printf("triad_check %.1f\n", check);
  return 0;
}
