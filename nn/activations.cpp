#include "nn/activations.h"

#include <cmath>

namespace kiln::nn {

// Scalars are made in x's dtype so that float16 inputs stay float16.
static array scalar(double v, const array& x) { return array(v, x.dtype()); }

array relu(const array& x) { return maximum(x, scalar(0, x)); }

array gelu(const array& x) {
  return x * (scalar(1, x) + erf(x * scalar(M_SQRT1_2, x))) * scalar(0.5, x);
}

array gelu_approx(const array& x) {
  const double c = std::sqrt(2.0 / M_PI);
  array inner = scalar(c, x) * (x + scalar(0.044715, x) * x * x * x);
  return scalar(0.5, x) * x * (scalar(1, x) + kiln::tanh(inner));
}

array silu(const array& x) { return x * kiln::sigmoid(x); }
array sigmoid(const array& x) { return kiln::sigmoid(x); }
array tanh(const array& x) { return kiln::tanh(x); }
array softplus(const array& x) { return logaddexp(x, scalar(0, x)); }

array leaky_relu(const array& x, float negative_slope) {
  return maximum(x, scalar(negative_slope, x) * x);
}

array elu(const array& x, float alpha) {
  return where(greater(x, scalar(0, x)), x, scalar(alpha, x) * expm1(x));
}

array mish(const array& x) { return x * kiln::tanh(nn::softplus(x)); }
array softmax(const array& x, int axis) { return kiln::softmax(x, axis, /*precise=*/true); }
array log_softmax(const array& x, int axis) { return x - logsumexp(x, axis, /*keepdims=*/true); }

}  // namespace kiln::nn
