#include <iostream>

#include <kiln/kiln.h>

int main() {
  kiln::array a = kiln::reshape(kiln::arange(6), {2, 3});
  kiln::array s = kiln::sum(a * 2, 1);  // [0+2+4, 6+8+10]
  std::cout << s << "\n";
  return kiln::array_equal(s, kiln::array({6, 24})).item<bool>() ? 0 : 1;
}
