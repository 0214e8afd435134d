// The kiln demo: writes GELU as a user would, compiles it, shows the IR kiln
// traces, the IR after simplification, the fused kernel and its LLVM IR,
// checks the values, and times it against the reference interpreter.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <vector>

#include <kiln/kiln.h>

namespace kx = kiln;

// GELU with the tanh approximation.
static kx::array gelu(const kx::array& x) {
  const float c = 0.7978845608f;  // sqrt(2/pi)
  return 0.5f * x * (1.0f + kx::tanh(c * (x + 0.044715f * x * x * x)));
}

template <typename F>
static double median_ms(F f, int reps) {
  std::vector<double> ms;
  for (int i = 0; i < reps; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    f();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

int main() {
  kx::array x = kx::linspace(-3, 3, 7);
  std::cout << "x       = " << x << "\n";
  std::cout << "gelu(x) = " << gelu(x) << "\n\n";

  // KILN_DUMP=ir,passes,fusion,llvm prints each stage of every compilation
  // to stderr (KILN_DUMP_DIR=dir writes them to files instead).
  auto compiled = kx::compile([](const kx::array& a) { return gelu(a); });
  kx::array small = kx::reshape(kx::arange(6.0f), {2, 3});
  std::cout << "Compiling gelu for a 2x3 float32 input; its stages:\n" << std::flush;
  setenv("KILN_DUMP", "ir,passes,fusion,llvm", 1);
  compiled(small).eval();
  unsetenv("KILN_DUMP");
  std::cerr << std::flush;

  // Speed on 2^24 elements: the compiled call reuses the trace and the
  // kernel (sizes are runtime arguments, so the 2x3 kernel serves here too).
  const int n = 1 << 24;
  std::vector<float> host(n);
  for (int i = 0; i < n; ++i) host[i] = -4.0f + 8.0f * float(i) / float(n);
  kx::array big(host.data(), {n}, kx::float32);
  kx::array y = compiled(big);
  double jit_ms = median_ms([&] { y = compiled(big); }, 9);

  double max_err = 0;
  const float* out = y.data<float>();
  for (int i = 0; i < n; ++i) {
    double v = host[i];
    double ref = 0.5 * v * (1 + std::tanh(0.7978845608 * (v + 0.044715 * v * v * v)));
    max_err = std::max(max_err, std::abs(out[i] - ref));
  }
  setenv("KILN_EXECUTOR", "interp", 1);
  double interp_ms = median_ms([&] { gelu(big).eval(); }, 1);
  unsetenv("KILN_EXECUTOR");

  kx::JitStats s = kx::jit_stats();
  double gbps = 2.0 * 4 * n / (jit_ms * 1e6);
  std::cout << "\ngelu on " << n << " float32 elements (2^24):\n"
            << "  compiled (LLVM JIT, " << s.kernels_compiled << " kernel(s) built in " << s.compile_ms
            << " ms): median " << jit_ms << " ms, " << gbps << " GB/s\n"
            << "  reference interpreter: " << interp_ms << " ms (" << interp_ms / jit_ms << "x slower)\n"
            << "  max abs error vs double: " << max_err << "\n";
  return max_err < 1e-5 ? 0 : 1;
}
