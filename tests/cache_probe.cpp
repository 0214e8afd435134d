// A small program that test_disk_cache runs as separate processes (and
// bench/run.sh times): it makes one compiled call and prints the JIT's
// statistics, the time of that first call and its largest error against a
// plain C++ computation of the same function.
//
//   cache_probe chain            a 10-op elementwise function
//   cache_probe rows             a row reduction (other kernels than chain)
//   cache_probe scaled S         chain times the constant S (one kernel for every S)
//   cache_probe export FILE      exports chain's function to FILE
//   cache_probe import FILE      imports FILE and calls it like chain
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <kiln/kiln.h>

namespace {

constexpr int kRows = 8, kCols = 125;

kiln::array chain(const kiln::array& x) {
  kiln::array y = kiln::exp(x * 0.5f) + 1.0f;
  y = y * x - kiln::tanh(x);
  y = kiln::maximum(y, kiln::array(-1.0f)) / 2.0f;
  return kiln::sqrt(y * y + 1.0f) - 0.25f * x;
}
double chain_reference(double x) {
  double y = (std::exp(x * 0.5) + 1.0) * x - std::tanh(x);
  y = std::max(y, -1.0) / 2.0;
  return std::sqrt(y * y + 1.0) - 0.25 * x;
}

kiln::array rows(const kiln::array& x) { return kiln::sum(x * x - x, 1); }

std::vector<float> input() {
  std::vector<float> v(kRows * kCols);
  for (size_t i = 0; i < v.size(); ++i) v[i] = -2.0f + 4.0f * float(i) / float(v.size());
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "";
  std::string file = argc > 2 ? argv[2] : "";
  std::vector<float> host = input();
  kiln::array x(host.data(), {kRows, kCols}, kiln::float32);
  auto chain_fn = [](const std::vector<kiln::array>& a) { return std::vector<kiln::array>{chain(a[0])}; };
  if (mode == "export") {
    kiln::export_function(file, chain_fn, {x});
    return 0;
  }
  kiln::ArrayFunction fn;
  if (mode == "chain") fn = kiln::compile(kiln::ArrayFunction(chain_fn));
  else if (mode == "rows") fn = kiln::compile(kiln::ArrayFunction([](const std::vector<kiln::array>& a) {
    return std::vector<kiln::array>{rows(a[0])};
  }));
  else if (mode == "scaled") fn = kiln::compile(kiln::ArrayFunction([s = std::atof(file.c_str())](const std::vector<kiln::array>& a) {
    return std::vector<kiln::array>{chain(a[0]) * float(s)};
  }));
  else if (mode == "import") fn = kiln::import_function(file);
  else {
    std::fprintf(stderr, "usage: cache_probe chain|rows|scaled S|export FILE|import FILE\n");
    return 2;
  }

  auto t0 = std::chrono::steady_clock::now();
  kiln::array y = fn({x})[0];
  y.eval();
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();

  double max_error = 0;
  const float* out = y.data<float>();
  if (mode == "rows") {
    for (int r = 0; r < kRows; ++r) {
      double s = 0;
      for (int c = 0; c < kCols; ++c) s += double(host[r * kCols + c]) * host[r * kCols + c] - host[r * kCols + c];
      max_error = std::max(max_error, std::abs(out[r] - s) / (1 + std::abs(s)));
    }
  } else {
    double scale = mode == "scaled" ? double(float(std::atof(file.c_str()))) : 1.0;
    for (size_t i = 0; i < host.size(); ++i)
      max_error = std::max(max_error, std::abs(out[i] - chain_reference(host[i]) * scale) / std::max(1.0, scale));
  }
  kiln::JitStats s = kiln::jit_stats();
  std::printf("kernels_compiled %llu\ndisk_hits %llu\ndisk_rejected %llu\ndisk_writes %llu\n"
              "first_call_ms %.3f\nmax_error %.3g\n",
              (unsigned long long)s.kernels_compiled, (unsigned long long)s.disk_cache_hits,
              (unsigned long long)s.disk_cache_rejected, (unsigned long long)s.disk_cache_writes, ms, max_error);
  return 0;
}
