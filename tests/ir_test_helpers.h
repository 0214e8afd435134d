#pragma once
// Helpers for tests that run ir::Functions on tensors and compare the
// results with the reference interpreter (test_every_op, test_opencl):
//
//   Tensor x = kiln_test::make_input({float32, {3, 4}}, /*salt=*/0);
//   EXPECT_TRUE(kiln_test::agree(got, want, /*approximate=*/true));
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <vector>

#include "ir/element.h"
#include "ir/function.h"
#include "ir/printer.h"
#include "ir/tensor.h"
#include "runtime/buffer.h"

namespace kiln_test {

using namespace kiln;
using namespace kiln::ir;

// Deterministic operand values of every sign and size class; `salt` gives
// the second operand of a binary op other values.
// Every op kind of a category, and every dtype: "every op" tests iterate
// over them, so a new op or dtype is tested without a new line.
inline std::vector<OpKind> kinds_of(std::initializer_list<OpKind> ks) { return ks; }
#define KILN_TEST_KIND(e, ...) OpKind::e,
inline const std::vector<OpKind> kUnary = kinds_of({KILN_UNARY_OPS(KILN_TEST_KIND)});
inline const std::vector<OpKind> kBinary =
    kinds_of({KILN_BINARY_OPS(KILN_TEST_KIND) KILN_COMPARISON_OPS(KILN_TEST_KIND)});
inline const std::vector<OpKind> kReductions = kinds_of({KILN_REDUCTION_OPS(KILN_TEST_KIND)});
#undef KILN_TEST_KIND

inline std::vector<Dtype> all_dtypes() {
  std::vector<Dtype> ds;
  for (int i = 0; i < kNumDtypes; ++i) ds.push_back(Dtype(Dtype::Val(i)));
  return ds;
}

inline Tensor make_input(const Type& t, int salt) {
  static const double floats[] = {-2.5, 0.5, 3.0, -0.0, 1.0, 0.25, -1.0, 7.5, 100.0, -0.75, 2.0, 0.0};
  static const int64_t ints[] = {-3, 1, 5, 0, 2, -1, 7, 3, -8, 4, 6, 1};
  Tensor x{t, runtime::allocate(size_t(t.nbytes()))};
  for (int64_t i = 0; i < t.size(); ++i) {
    size_t j = size_t(i * 5 + salt * 7) % 12;
    if (is_complex(t.dtype))
      store_c128(t.dtype, x.buffer->data(), i, {floats[j], floats[(j + 3) % 12]});
    else if (is_floating(t.dtype))
      store_f64(t.dtype, x.buffer->data(), i, floats[j]);
    else if (t.dtype == bool_ || is_unsigned(t.dtype))
      store_i64(t.dtype, x.buffer->data(), i, t.dtype == bool_ ? (ints[j] & 1) : std::llabs(ints[j]));
    else
      store_i64(t.dtype, x.buffer->data(), i, ints[j]);
  }
  return x;
}

// Whether two results agree: bit-exact, or (approximate) within a few ulp
// of the dtype, NaN matching NaN.
inline ::testing::AssertionResult agree(const Tensor& got, const Tensor& want, bool approximate) {
  if (got.type != want.type)
    return ::testing::AssertionFailure() << "type " << type_to_string(got.type) << " vs " << type_to_string(want.type);
  Dtype t = want.type.dtype;
  double eps = t == float16 ? 1e-3 : t == bfloat16 ? 8e-3 : t == float64 ? 1e-13 : 4e-6;
  for (int64_t i = 0; i < want.type.size(); ++i) {
    const void* g = got.buffer->data();
    const void* w = want.buffer->data();
    if (!approximate || !is_inexact(t)) {
      if (std::memcmp(static_cast<const char*>(g) + i * t.size(), static_cast<const char*>(w) + i * t.size(), t.size()) != 0) {
        bool both_nan = is_inexact(t) && std::isnan(std::abs(load_c128(t, g, i))) && std::isnan(std::abs(load_c128(t, w, i)));
        if (!both_nan)
          return ::testing::AssertionFailure() << "element " << i << ": " << std::abs(load_c128(t, g, i)) << " vs "
                                               << std::abs(load_c128(t, w, i)) << " (bits differ)";
      }
      continue;
    }
    std::complex<double> a = load_c128(t, g, i), b = load_c128(t, w, i);
    for (auto [x, y] : {std::pair{a.real(), b.real()}, std::pair{a.imag(), b.imag()}}) {
      if (std::isnan(x) && std::isnan(y)) continue;
      if (x == y) continue;
      if (std::isnan(x) || std::isnan(y) || std::isinf(x) || std::isinf(y) || std::fabs(x - y) > eps * std::max(1.0, std::fabs(y)))
        return ::testing::AssertionFailure() << "element " << i << ": " << x << " vs " << y;
    }
  }
  return ::testing::AssertionSuccess();
}

}  // namespace kiln_test
