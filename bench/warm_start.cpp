// kiln-warm-start: the first call of a compiled program in a fresh process,
// with an empty disk kernel cache (cold: every kernel is compiled) and with
// the cache another process filled (warm: every kernel is loaded). The
// program is a small MLP forward pass (matmul + bias + GELU, matmul + bias,
// softmax). Each measurement is a new process; medians are printed as
// "name value" lines for bench/compare.py.
//
//   kiln-warm-start [runs]        (default 7)
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <kiln/kiln.h>

namespace kx = kiln;

namespace {

std::vector<kx::array> mlp_forward(const std::vector<kx::array>& a) {
  const kx::array &x = a[0], &w1 = a[1], &b1 = a[2], &w2 = a[3], &b2 = a[4];
  kx::array h = kx::matmul(x, w1) + b1;
  h = 0.5f * h * (1.0f + kx::tanh(0.7978845608f * (h + 0.044715f * h * h * h)));
  return {kx::softmax(kx::matmul(h, w2) + b2, -1)};
}

// Deterministic values in [-1, 1], made on the host (evaluating an
// expression here would run kernels before the timed call).
kx::array values(const kx::Shape& shape, int seed) {
  size_t n = 1;
  for (int d : shape) n *= size_t(d);
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = float(std::sin(double(i) * 0.37 + seed));
  return kx::array(v.data(), shape, kx::float32);
}

// In the child: one first call, timed from before the call (so JIT start-up
// counts) to its result.
int child() {
  std::vector<kx::array> args = {values({64, 256}, 1), values({256, 256}, 2), values({256}, 3),
                                 values({256, 10}, 4), values({10}, 5)};
  auto f = kx::compile(kx::ArrayFunction(mlp_forward));
  auto t0 = std::chrono::steady_clock::now();
  kx::array y = f(args)[0];
  y.eval();
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  kx::JitStats s = kx::jit_stats();
  std::printf("%.3f %llu %llu\n", ms, (unsigned long long)s.kernels_compiled,
              (unsigned long long)s.disk_cache_hits);
  return 0;
}

struct Run {
  double ms = 0;
  unsigned long long compiled = 0, loaded = 0;
};

Run run_child(const std::string& self, const std::string& dir) {
  std::string cmd = "env -u KILN_CACHE KILN_CACHE_DIR='" + dir + "' '" + self + "' --child";
  FILE* p = popen(cmd.c_str(), "r");
  Run r;
  if (!p || std::fscanf(p, "%lf %llu %llu", &r.ms, &r.compiled, &r.loaded) != 3) {
    std::fprintf(stderr, "kiln-warm-start: the child failed\n");
    std::exit(1);
  }
  pclose(p);
  return r;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::string(argv[1]) == "--child") return child();
  int runs = argc > 1 ? std::max(1, std::atoi(argv[1])) : 7;
  std::string self = std::filesystem::read_symlink("/proc/self/exe");
  char tmpl[] = "/tmp/kiln-warm-start-XXXXXX";
  if (!mkdtemp(tmpl)) return 1;
  std::string base = tmpl;
  std::vector<double> cold, warm;
  Run last_cold, last_warm;
  for (int i = 0; i < runs; ++i) {
    last_cold = run_child(self, base + "/cold" + std::to_string(i));  // empty each time
    cold.push_back(last_cold.ms);
    last_warm = run_child(self, base + "/cold0");  // filled by the first cold run
    warm.push_back(last_warm.ms);
  }
  std::filesystem::remove_all(base);
  std::printf("cold_first_call_ms %.3f\nwarm_first_call_ms %.3f\ncold_kernels_compiled %llu\n"
              "warm_kernels_compiled %llu\nwarm_kernels_loaded %llu\n",
              median(cold), median(warm), last_cold.compiled, last_warm.compiled, last_warm.loaded);
  return 0;
}
