// real, imag, conjugate (ops_misc.h): composites of view (the bitcast op),
// which reads complex64 (..., n) as its float32 parts (..., 2n) in the
// order (re, im). The bits pass through unchanged (a NaN or an infinite
// part stays itself, which arithmetic such as z * -i would not keep), and
// autodiff differentiates the bitcast (passes/autodiff.cpp), so these are
// differentiable and batch like any composite.
#include "frontend/ops.h"
#include "frontend/ops_util.h"

namespace kiln {

namespace {

// z's parts as float32 (..., n, 2); a scalar is viewed as one element.
array parts(const array& z) {
  array flat = z.ndim() == 0 ? reshape(z, {1}) : z;
  Shape pairs = flat.shape();
  pairs.push_back(2);
  return reshape(view(flat, float32), pairs);
}

// Part k (0: real, 1: imaginary) of complex z, in z's shape.
array part(const array& z, int k) {
  array p = parts(z);
  Shape start(p.ndim(), 0), stop = p.shape();
  start.back() = k;
  stop.back() = k + 1;
  return reshape(slice(p, start, stop), z.shape());
}

}  // namespace

array real(const array& a, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  return is_complex(a.dtype()) ? part(a, 0) : a;
}

array imag(const array& a, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  return is_complex(a.dtype()) ? part(a, 1) : zeros_like(a);
}

array conjugate(const array& a, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  if (!is_complex(a.dtype())) return a;
  array p = multiply(parts(a), array({1.0f, -1.0f}));
  Shape flat = p.shape();
  flat.pop_back();
  flat.back() *= 2;
  return reshape(view(reshape(p, flat), complex64), a.shape());
}

}  // namespace kiln
