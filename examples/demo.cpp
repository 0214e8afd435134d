// The kiln demo: writes GELU as a user would, shows the IR kiln traces for
// it and the IR after simplification, checks its values, and times it.
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

int main() {
  kx::array x = kx::linspace(-3, 3, 7);
  std::cout << "x       = " << x << "\n";
  std::cout << "gelu(x) = " << gelu(x) << "\n\n";

  // KILN_DUMP=ir,passes prints each stage of every evaluation to stderr.
  std::cout << "The IR of gelu on a 2x3 input, as traced and after each pass:\n" << std::flush;
  kx::array small = kx::reshape(kx::arange(6.0f), {2, 3});
  small.eval();  // materialized: it enters the traced function as an input
  setenv("KILN_DUMP", "ir,passes", 1);
  kx::eval(gelu(small));
  unsetenv("KILN_DUMP");
  std::cerr << std::flush;

  // Speed: the whole graph is traced, simplified and executed per eval.
  const int n = 1 << 20;
  std::vector<float> host(n);
  for (int i = 0; i < n; ++i) host[i] = -4.0f + 8.0f * float(i) / float(n);
  kx::array big(host.data(), {n}, kx::float32);
  std::vector<double> ms;
  kx::array y = big;
  for (int rep = 0; rep < 5; ++rep) {
    auto t0 = std::chrono::steady_clock::now();
    y = gelu(big);
    y.eval();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());

  // Check against a scalar C++ loop.
  double max_err = 0;
  const float* out = y.data<float>();
  for (int i = 0; i < n; ++i) {
    double v = host[i];
    double ref = 0.5 * v * (1 + std::tanh(0.7978845608 * (v + 0.044715 * v * v * v)));
    max_err = std::max(max_err, std::abs(out[i] - ref));
  }
  std::cout << "\ngelu on " << n << " float32 elements: median " << ms[ms.size() / 2]
            << " ms over " << ms.size() << " runs (" << double(n) / ms[ms.size() / 2] / 1e3
            << " M elements/s), max abs error vs double " << max_err << "\n";
  std::cout << "executor: reference interpreter (the LLVM JIT replaces it behind eval())\n";
  return max_err < 1e-5 ? 0 : 1;
}
