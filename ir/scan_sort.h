#pragma once
// Semantics of the scan and sort ops (KILN_SCAN_SORT_OPS) that the reference
// interpreter (interpreter_scan_sort.cpp) and the host kernels
// (codegen/host_scan_sort.cpp) share, so that both compute the same bits.
//
//  * Scans combine in order along the axis (from the end when `reverse`);
//    each partial result is rounded to the dtype. An exclusive scan's first
//    element is the identity: 0, 1, the lowest / highest value of the dtype
//    (-inf / +inf for floats), -inf for logcumsumexp. cummax/cummin
//    propagate nan (the first nan met stays); a tie keeps the earlier value,
//    so -0 and +0 keep whichever came first. Integers wrap.
//  * Sorts order by value with every nan last and -0 == +0, stably: equal
//    elements (and nans) keep their index order. argpartition gives, for
//    kth, the indices of the elements before rank kth in index order, then
//    the index of rank kth, then the rest in index order: one defined
//    answer (of the many valid partitions) so that every path agrees.
#include <cmath>
#include <numbers>

#include "ir/tensor.h"

namespace kiln::ir {

// log(e^a + e^b), exact at infinities: both -inf gives -inf, not nan.
inline double scan_logaddexp(double a, double b) {
  if (a == b) return a + std::numbers::ln2;
  if (std::isnan(a) || std::isnan(b)) return a + b;
  const double m = a > b ? a : b;
  return m + std::log1p(std::exp(-std::fabs(a - b)));
}

// The interpreter's forms (interpreter_scan_sort.cpp).
Tensor interpret_scan(const Op& op, const Tensor& x);
Tensor interpret_sort(const Op& op, const Tensor& x);

}  // namespace kiln::ir
