#include <iostream>

#include <kiln/kiln.h>
#include <kiln/optimizers.h>  // kiln::nn comes with kiln::kiln

int main() {
  kiln::array a = kiln::reshape(kiln::arange(6), {2, 3});
  kiln::array s = kiln::sum(a * 2, 1);  // [0+2+4, 6+8+10]
  std::cout << s << "\n";
  kiln::nn::Linear layer(3, 2);
  kiln::optimizers::SGD sgd(0.1f);
  auto grads = layer.parameters();  // any tree of the right shapes
  sgd.update(layer, grads);
  bool nn_ok = layer(kiln::ones({4, 3})).shape() == kiln::Shape{4, 2};
  return kiln::array_equal(s, kiln::array({6, 24})).item<bool>() && nn_ok ? 0 : 1;
}
