// Products built from matmul and broadcasting: composites (written once
// here, they get autodiff, vmap and fusion from the ops they use).
#include <algorithm>

#include "frontend/ops_util.h"

namespace kiln {

using detail::str;
using detail::throw_invalid;

array addmm(array c, array a, array b, const float& alpha, const float& beta, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  array ab = matmul(a, b);
  if (alpha != 1.0f) ab = ab * alpha;
  if (beta == 0.0f) return ab;  // c is not read (its NaNs do not leak, as BLAS's beta = 0)
  if (beta != 1.0f) c = c * beta;
  return add(ab, c);
}

array tensordot(const array& a, const array& b, const std::vector<int>& axes_a, const std::vector<int>& axes_b,
                StreamOrDevice s) {
  detail::OpStream on_stream(s);
  if (axes_a.size() != axes_b.size())
    throw_invalid("tensordot", "axes_a and axes_b must have the same length, got " + std::to_string(axes_a.size()) +
                                   " and " + std::to_string(axes_b.size()) + ".");
  auto normalized = [](const std::vector<int>& axes, const array& x) {
    std::vector<int> out;
    for (int ax : axes) {
      int n = detail::normalize_axis("tensordot", ax, int(x.ndim()));
      if (std::find(out.begin(), out.end(), n) != out.end())
        throw_invalid("tensordot", "Repeated axis " + std::to_string(ax) + ".");
      out.push_back(n);
    }
    return out;
  };
  std::vector<int> ca = normalized(axes_a, a), cb = normalized(axes_b, b);
  int64_t k = 1;
  for (size_t i = 0; i < ca.size(); ++i) {
    if (a.shape(ca[i]) != b.shape(cb[i]))
      throw_invalid("tensordot", "Contracted axes of shapes " + str(a.shape()) + " and " + str(b.shape()) +
                                     " have different sizes.");
    k *= a.shape(ca[i]);
  }
  // a as [free, contracted], b as [contracted, free]: one matmul.
  auto free_axes = [](const std::vector<int>& contracted, const array& x) {
    std::vector<int> f;
    for (int d = 0; d < int(x.ndim()); ++d)
      if (std::find(contracted.begin(), contracted.end(), d) == contracted.end()) f.push_back(d);
    return f;
  };
  std::vector<int> fa = free_axes(ca, a), fb = free_axes(cb, b);
  Shape out;
  int64_t m = 1, n = 1;
  for (int d : fa) {
    out.push_back(a.shape(d));
    m *= a.shape(d);
  }
  for (int d : fb) {
    out.push_back(b.shape(d));
    n *= b.shape(d);
  }
  std::vector<int> pa = fa, pb = cb;
  pa.insert(pa.end(), ca.begin(), ca.end());
  pb.insert(pb.end(), fb.begin(), fb.end());
  array am = reshape(transpose(a, pa), {int(m), int(k)});
  array bm = reshape(transpose(b, pb), {int(k), int(n)});
  return reshape(matmul(am, bm), out);
}

array tensordot(const array& a, const array& b, const int axis, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  if (axis < 0) throw_invalid("tensordot", "axis must be non-negative, got " + std::to_string(axis) + ".");
  if (axis > int(a.ndim()) || axis > int(b.ndim()))
    throw_invalid("tensordot", "axis " + std::to_string(axis) + " exceeds the dimensions of shapes " +
                                   str(a.shape()) + " and " + str(b.shape()) + ".");
  std::vector<int> axes_a, axes_b;
  for (int i = 0; i < axis; ++i) {
    axes_a.push_back(int(a.ndim()) - axis + i);
    axes_b.push_back(i);
  }
  return tensordot(a, b, axes_a, axes_b);
}

array kron(const array& a, const array& b, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  // a [a1, a2, ...] -> [a1, 1, a2, 1, ...] times b -> [1, b1, 1, b2, ...]:
  // element (i1, j1, i2, j2, ...) is a[i] * b[j]; merging each pair gives
  // index i * b + j.
  size_t n = std::max(a.ndim(), b.ndim());
  Shape sa(n - a.ndim(), 1), sb(n - b.ndim(), 1);
  sa.insert(sa.end(), a.shape().begin(), a.shape().end());
  sb.insert(sb.end(), b.shape().begin(), b.shape().end());
  Shape ra, rb, out;
  for (size_t d = 0; d < n; ++d) {
    ra.insert(ra.end(), {sa[d], 1});
    rb.insert(rb.end(), {1, sb[d]});
    out.push_back(sa[d] * sb[d]);
  }
  return reshape(multiply(reshape(a, ra), reshape(b, rb)), out);
}

}  // namespace kiln
