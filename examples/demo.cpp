// The kiln demo: builds a small function, shows the IR kiln traces for it,
// the IR after simplification, its values, and how long evaluation takes.
#include <chrono>
#include <cstdlib>
#include <iostream>

#include <kiln/kiln.h>

namespace kx = kiln;

// GELU with the tanh approximation, written as a user would.
static kx::array gelu(const kx::array& x) {
  const float c = 0.7978845608f;  // sqrt(2/pi)
  return 0.5f * x * (1.0f + kx::tanh(c * (x + 0.044715f * x * x * x)));
}

int main() {
  kx::array x = kx::linspace(-3, 3, 7);
  std::cout << "x       = " << x << "\n";
  std::cout << "gelu(x) = " << gelu(x) << "\n\n";

  // KILN_DUMP=ir,passes shows each stage; here we turn it on for one eval.
  setenv("KILN_DUMP", "ir,passes", 1);
  std::cout << "IR of gelu(x) on a 2x3 float32 input (stderr):\n" << std::flush;
  kx::array small = kx::reshape(kx::arange(6.0f), {2, 3});
  kx::eval(gelu(small));
  unsetenv("KILN_DUMP");

  const int n = 1 << 20;
  return 0;
}
