// Tests of kiln::array: construction, metadata, element access, laziness,
// printing, dtype promotion, weak scalars, casts and the MLX compat header.
// Expected values are hand-computed unless a comment says "values from
// NumPy" (NumPy 1.24, computed once and written here as literals).
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <kiln/compat/mlx.h>
#include <kiln/kiln.h>

#include "test_helpers.h"

using namespace kiln;
using kiln_test::array_is;
using kiln_test::throws_invalid;

namespace {

std::string to_string(const array& a) {
  std::ostringstream os;
  os << a;
  return os.str();
}

const double kNan = std::numeric_limits<double>::quiet_NaN();
const double kInf = std::numeric_limits<double>::infinity();

}  // namespace

// ---- construction ------------------------------------------------------------

TEST(ArrayConstruct, ScalarFloat) {
  array a(2.0f);
  EXPECT_EQ(a.dtype(), float32);
  EXPECT_EQ(a.shape(), Shape{});
  EXPECT_EQ(a.ndim(), 0u);
  EXPECT_EQ(a.size(), 1u);
  EXPECT_EQ(a.item<float>(), 2.0f);
}

TEST(ArrayConstruct, ScalarIntAndBool) {
  array i(3);
  EXPECT_TRUE(array_is(i, int32, {}, {3}));
  array b(true);
  EXPECT_TRUE(array_is(b, bool_, {}, {1}));
  array f(false);
  EXPECT_TRUE(array_is(f, bool_, {}, {0}));
}

TEST(ArrayConstruct, ScalarDoubleIsFloat32AsInMlx) {
  array a(2.5);
  EXPECT_TRUE(array_is(a, float32, {}, {2.5}));
}

TEST(ArrayConstruct, ScalarWithDtypeConverts) {
  EXPECT_TRUE(array_is(array(3, float32), float32, {}, {3}));
  EXPECT_TRUE(array_is(array(2.75f, int32), int32, {}, {2}));  // truncation toward zero
  EXPECT_TRUE(array_is(array(-2.75f, int64), int64, {}, {-2}));
  EXPECT_TRUE(array_is(array(7, float64), float64, {}, {7}));
  EXPECT_TRUE(array_is(array(0.5f, bool_), bool_, {}, {1}));
  EXPECT_TRUE(array_is(array(1.0 / 3.0, float64), float64, {}, {1.0 / 3.0}));
  // 1/3 rounded to float16 is 0x3555 = 0.333251953125 (values from NumPy).
  EXPECT_TRUE(array_is(array(1.0f / 3.0f, float16), float16, {}, {0.333251953125}));
}

TEST(ArrayConstruct, InitializerList) {
  array a({1, 2, 3});
  EXPECT_TRUE(array_is(a, int32, {3}, {1, 2, 3}));
  array f({1.5f, -2.0f});
  EXPECT_TRUE(array_is(f, float32, {2}, {1.5, -2.0}));
  array d({1.0, 2.0}, float64);
  EXPECT_TRUE(array_is(d, float64, {2}, {1, 2}));
  array c({1, 2}, float32);
  EXPECT_TRUE(array_is(c, float32, {2}, {1, 2}));
}

// MLX accepts bool lists and pointers (std::vector<bool> cannot hold them).
TEST(ArrayConstruct, BoolInitializerListAndPointer) {
  array b({true, false, true});
  EXPECT_TRUE(array_is(b, bool_, {3}, {1, 0, 1}));
  array m({true, false, false, true}, {2, 2});
  EXPECT_TRUE(array_is(m, bool_, {2, 2}, {1, 0, 0, 1}));
  bool raw[2] = {false, true};
  array p(raw, {2});
  EXPECT_TRUE(array_is(p, bool_, {2}, {0, 1}));
}

TEST(ArrayConstruct, InitializerListWithShape) {
  array a({1, 2, 3, 4, 5, 6}, {2, 3});
  EXPECT_TRUE(array_is(a, int32, {2, 3}, {1, 2, 3, 4, 5, 6}));
  array b({1.0f, 2.0f, 3.0f, 4.0f}, {2, 1, 2});
  EXPECT_TRUE(array_is(b, float32, {2, 1, 2}, {1, 2, 3, 4}));
  array c({1, 2, 3, 4}, {4, 1}, int8);
  EXPECT_TRUE(array_is(c, int8, {4, 1}, {1, 2, 3, 4}));
  array scalar({42}, Shape{});
  EXPECT_TRUE(array_is(scalar, int32, {}, {42}));
}

TEST(ArrayConstruct, InitializerListShapeMismatchThrows) {
  EXPECT_THROW(array({1, 2, 3}, {2, 2}), std::invalid_argument);
  EXPECT_THROW(array({1, 2, 3, 4}, {3}), std::invalid_argument);
  EXPECT_THROW(array({1, 2}, {-1, -2}), std::invalid_argument);
}

TEST(ArrayConstruct, FromPointerAndShape) {
  float buf[6] = {0.5f, 1.5f, 2.5f, 3.5f, 4.5f, 5.5f};
  array a(buf, {3, 2});
  EXPECT_TRUE(array_is(a, float32, {3, 2}, {0.5, 1.5, 2.5, 3.5, 4.5, 5.5}));
  // The array copies: changing the source afterwards does not change it.
  buf[0] = 100.0f;
  EXPECT_TRUE(array_is(a, float32, {3, 2}, {0.5, 1.5, 2.5, 3.5, 4.5, 5.5}));
  // Only as many elements as the shape holds are read.
  array b(buf + 2, {2});
  EXPECT_TRUE(array_is(b, float32, {2}, {2.5, 3.5}));
  // With a dtype, the elements are converted.
  array c(buf + 1, {2}, int32);
  EXPECT_TRUE(array_is(c, int32, {2}, {1, 2}));
}

TEST(ArrayConstruct, FromVectorIterator) {
  std::vector<int> v = {4, 5, 6, 7};
  array a(v.begin(), {2, 2});
  EXPECT_TRUE(array_is(a, int32, {2, 2}, {4, 5, 6, 7}));
  array f(v.begin() + 1, {3}, float32);
  EXPECT_TRUE(array_is(f, float32, {3}, {5, 6, 7}));
  std::vector<int64_t> w = {int64_t(1) << 40, -3};
  array l(w.begin(), {2});
  EXPECT_TRUE(array_is(l, int64, {2}, {1099511627776.0, -3}));
}

TEST(ArrayConstruct, FromRawBytes) {
  int16_t raw[3] = {-7, 0, 300};
  array a(static_cast<const void*>(raw), {3}, int16);
  EXPECT_TRUE(array_is(a, int16, {3}, {-7, 0, 300}));
  // The bytes are reinterpreted, not converted: float 1.0f is 0x3F800000.
  uint32_t bits = 0x3F800000u;
  array f(static_cast<const void*>(&bits), {}, float32);
  EXPECT_TRUE(array_is(f, float32, {}, {1.0}));
  // float16 0x3C00 is 1.0, 0xC000 is -2.0.
  uint16_t halfs[2] = {0x3C00, 0xC000};
  array h(static_cast<const void*>(halfs), {2}, float16);
  EXPECT_TRUE(array_is(h, float16, {2}, {1.0, -2.0}));
}

TEST(ArrayConstruct, EmptyArray) {
  std::vector<float> none;
  array a(none.begin(), {0, 3});
  EXPECT_EQ(a.size(), 0u);
  EXPECT_EQ(a.shape(), (Shape{0, 3}));
  EXPECT_EQ(a.nbytes(), 0u);
  EXPECT_TRUE(array_is(a, float32, {0, 3}, {}));
}

// ---- metadata ----------------------------------------------------------------

TEST(ArrayMeta, ShapeNdimSizeBytes) {
  array a({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24},
          {2, 3, 4}, float16);
  EXPECT_EQ(a.shape(), (Shape{2, 3, 4}));
  EXPECT_EQ(a.shape(0), 2);
  EXPECT_EQ(a.shape(1), 3);
  EXPECT_EQ(a.shape(2), 4);
  EXPECT_EQ(a.shape(-1), 4);
  EXPECT_EQ(a.shape(-3), 2);
  EXPECT_EQ(a.ndim(), 3u);
  EXPECT_EQ(a.size(), 24u);
  EXPECT_EQ(a.itemsize(), 2u);
  EXPECT_EQ(a.nbytes(), 48u);
  EXPECT_EQ(a.dtype(), float16);
  EXPECT_EQ(a.strides(), (std::vector<int64_t>{12, 4, 1}));
}

TEST(ArrayMeta, ShapeAxisOutOfRangeThrows) {
  array a({1, 2, 3, 4}, {2, 2});
  EXPECT_THROW(a.shape(2), std::invalid_argument);
  EXPECT_THROW(a.shape(-3), std::invalid_argument);
}

TEST(ArrayMeta, ItemsizePerDtype) {
  EXPECT_EQ(array(true).itemsize(), 1u);
  EXPECT_EQ(array(1, uint8).itemsize(), 1u);
  EXPECT_EQ(array(1, int16).itemsize(), 2u);
  EXPECT_EQ(array(1, bfloat16).itemsize(), 2u);
  EXPECT_EQ(array(1).itemsize(), 4u);
  EXPECT_EQ(array(1, uint64).itemsize(), 8u);
  EXPECT_EQ(array(1, float64).itemsize(), 8u);
  EXPECT_EQ(array(1, complex64).itemsize(), 8u);
  EXPECT_EQ(array({1, 2, 3}, int64).nbytes(), 24u);
}

TEST(ArrayMeta, MetadataOfPendingResultWithoutEval) {
  array a({1.0f, 2.0f, 3.0f}, {3, 1});
  array b({1.0f, 2.0f}, {1, 2});
  array c = add(a, b);
  EXPECT_EQ(c.shape(), (Shape{3, 2}));
  EXPECT_EQ(c.dtype(), float32);
  EXPECT_EQ(c.size(), 6u);
  EXPECT_EQ(c.nbytes(), 24u);
  EXPECT_FALSE(c.is_evaluated());  // asking for metadata computes nothing
}

// ---- element access ------------------------------------------------------------

TEST(ArrayItem, Conversions) {
  EXPECT_EQ(array(2.5f).item<float>(), 2.5f);
  EXPECT_EQ(array(2.5f).item<double>(), 2.5);
  EXPECT_EQ(array(2.7f).item<int>(), 2);     // truncates toward zero
  EXPECT_EQ(array(-2.7f).item<int>(), -2);
  EXPECT_EQ(array(7).item<float>(), 7.0f);
  EXPECT_EQ(array(-5).item<int64_t>(), -5);
  EXPECT_EQ(array(200, uint8).item<int>(), 200);
  EXPECT_TRUE(array(true).item<bool>());
  EXPECT_FALSE(array(false).item<bool>());
  EXPECT_TRUE(array(3).item<bool>());
  EXPECT_FALSE(array(0).item<bool>());
  EXPECT_FALSE(array(0.0f).item<bool>());
  EXPECT_TRUE(array(-0.5f).item<bool>());
  EXPECT_EQ(array(true).item<int>(), 1);
  EXPECT_EQ(array(true).item<float>(), 1.0f);
}

TEST(ArrayItem, OfSizeOneMultiDim) {
  array a({9}, {1, 1, 1});
  EXPECT_EQ(a.item<int>(), 9);
}

TEST(ArrayItem, OfPendingResultEvaluates) {
  array a = add(array(2), array(3));
  EXPECT_EQ(a.item<int>(), 5);
  EXPECT_TRUE(a.is_evaluated());
}

TEST(ArrayItem, SizeNotOneThrows) {
  array a({1, 2});
  EXPECT_THROW(a.item<int>(), std::invalid_argument);
  std::vector<float> none;
  array e(none.begin(), {0});
  EXPECT_THROW(e.item<float>(), std::invalid_argument);
}

TEST(ArrayData, ReadsRowMajor) {
  array a({1, 2, 3, 4, 5, 6}, {2, 3});
  const int32_t* p = a.data<int32_t>();
  for (int i = 0; i < 6; ++i) EXPECT_EQ(p[i], i + 1);
  array f({0.25f, -1.0f});
  EXPECT_EQ(f.data<float>()[0], 0.25f);
  EXPECT_EQ(f.data<float>()[1], -1.0f);
  array b = kiln_test::bools({true, false});
  EXPECT_TRUE(b.data<bool>()[0]);
  EXPECT_FALSE(b.data<bool>()[1]);
}

TEST(ArrayData, OfPendingResultEvaluates) {
  array a({1.0f, 2.0f, 3.0f});
  array b = multiply(a, a);
  const float* p = b.data<float>();
  EXPECT_TRUE(b.is_evaluated());
  EXPECT_EQ(p[0], 1.0f);
  EXPECT_EQ(p[1], 4.0f);
  EXPECT_EQ(p[2], 9.0f);
}

TEST(ArrayData, WrongElementSizeThrows) {
  array a({1.0f, 2.0f});
  EXPECT_THROW(a.data<double>(), std::invalid_argument);
  EXPECT_THROW(a.data<int16_t>(), std::invalid_argument);
  EXPECT_THROW(a.data<uint8_t>(), std::invalid_argument);
  array h({1.0f}, float16);
  EXPECT_THROW(h.data<float>(), std::invalid_argument);
  EXPECT_NO_THROW(h.data<float16_t>());
  // An element of the right size is accepted whatever its type.
  EXPECT_NO_THROW(a.data<int32_t>());
}

// ---- laziness ----------------------------------------------------------------

TEST(ArrayLazy, ConstructedArraysAreEvaluated) {
  EXPECT_TRUE(array({1, 2, 3}).is_evaluated());
  EXPECT_TRUE(array(1.0f).is_evaluated());
}

TEST(ArrayLazy, OpResultIsPendingUntilEval) {
  array a({1.0f, 2.0f});
  array b({10.0f, 20.0f});
  array c = add(a, b);
  array d = multiply(c, c);
  EXPECT_FALSE(c.is_evaluated());
  EXPECT_FALSE(d.is_evaluated());
  d.eval();
  EXPECT_TRUE(d.is_evaluated());
  EXPECT_TRUE(array_is(d, float32, {2}, {121, 484}));
  // Evaluating again is a no-op and keeps the values.
  d.eval();
  EXPECT_TRUE(array_is(d, float32, {2}, {121, 484}));
}

TEST(ArrayLazy, CopiesShareTheNode) {
  array a = add(array({1, 2}), array({3, 4}));
  array b = a;
  b.eval();
  EXPECT_TRUE(a.is_evaluated());
  EXPECT_TRUE(array_is(a, int32, {2}, {4, 6}));
}

TEST(ArrayLazy, EvalSeveralAtOnce) {
  array x({1.0f, 2.0f, 3.0f});
  array shared = multiply(x, array(2.0f));
  array y = add(shared, array(1.0f));
  array z = subtract(shared, array(1.0f));
  array w = multiply(y, z);
  eval(y, z, w);
  EXPECT_TRUE(y.is_evaluated());
  EXPECT_TRUE(z.is_evaluated());
  EXPECT_TRUE(w.is_evaluated());
  EXPECT_TRUE(array_is(y, float32, {3}, {3, 5, 7}));
  EXPECT_TRUE(array_is(z, float32, {3}, {1, 3, 5}));
  EXPECT_TRUE(array_is(w, float32, {3}, {3, 15, 35}));
  // The vector form.
  array p = add(x, x), q = subtract(x, x);
  eval(std::vector<array>{p, q});
  EXPECT_TRUE(p.is_evaluated());
  EXPECT_TRUE(q.is_evaluated());
  EXPECT_TRUE(array_is(p, float32, {3}, {2, 4, 6}));
  EXPECT_TRUE(array_is(q, float32, {3}, {0, 0, 0}));
}

TEST(ArrayLazy, EvalOfNothingAndOfEvaluatedArraysIsFine) {
  EXPECT_NO_THROW(eval(std::vector<array>{}));
  array a({1, 2});
  EXPECT_NO_THROW(eval(a));
  EXPECT_TRUE(array_is(a, int32, {2}, {1, 2}));
}

TEST(ArrayLazy, HeldIntermediateIsMaterializedByLaterEval) {
  array a({1.0f, 2.0f, 3.0f});
  array c = add(a, a);            // held by the user
  array d = multiply(c, c);
  d.eval();
  // c was computed as part of d; it is kept rather than recomputed later.
  EXPECT_TRUE(c.is_evaluated());
  EXPECT_TRUE(array_is(c, float32, {3}, {2, 4, 6}));
  EXPECT_TRUE(array_is(d, float32, {3}, {4, 16, 36}));
  // Using it again in a new graph gives correct values and leaves it intact.
  array e = subtract(c, array(1.0f));
  EXPECT_TRUE(array_is(e, float32, {3}, {1, 3, 5}));
  EXPECT_TRUE(array_is(c, float32, {3}, {2, 4, 6}));
}

TEST(ArrayLazy, InputsMayBeDroppedBeforeEval) {
  array c = [] {
    array a({1, 2, 3});
    array b({10, 20, 30});
    return add(multiply(a, b), b);
  }();
  EXPECT_TRUE(array_is(c, int32, {3}, {20, 60, 120}));
}

TEST(ArrayLazy, LongChainEvaluatesAndDestroysWithoutStackOverflow) {
  // A long chain of pending ops behind one handle: building, evaluating and
  // freeing it must not recurse once per node. 50000 rather than 100000:
  // with the reference interpreter in a Debug build, 100000 took 4-5 s on
  // this 2-core machine (LongPendingChainDestroyedWithoutEval keeps 100000).
  constexpr int kChain = 50000;
  auto start = std::chrono::steady_clock::now();
  array x({0, 0}, {2});
  array ones_({1, 2}, {2});
  for (int i = 0; i < kChain; ++i) x = add(x, ones_);
  EXPECT_FALSE(x.is_evaluated());
  x.eval();
  EXPECT_TRUE(array_is(x, int32, {2}, {double(kChain), 2.0 * kChain}));
  x = array(0);  // frees the evaluated result
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  RecordProperty("chain_seconds", std::to_string(seconds));
}

TEST(ArrayLazy, LongPendingChainDestroyedWithoutEval) {
  constexpr int kChain = 100000;
  array x({1.0f}, {1});
  for (int i = 0; i < kChain; ++i) x = multiply(x, x);
  EXPECT_FALSE(x.is_evaluated());
  x = array(0.0f);  // the last handle of the chain dies here
  EXPECT_TRUE(array_is(x, float32, {}, {0}));
}

// ---- printing ------------------------------------------------------------------

TEST(ArrayPrint, ScalarInt) { EXPECT_EQ(to_string(array(1)), "array(1, dtype=int32)"); }

TEST(ArrayPrint, ScalarFloat) {
  EXPECT_EQ(to_string(array(2.5f)), "array(2.5, dtype=float32)");
}

TEST(ArrayPrint, Vector) {
  EXPECT_EQ(to_string(array({1, 2, 3})), "array([1, 2, 3], dtype=int32)");
}

// Rows after the first are indented by 7 spaces, the width of "array([", as
// NumPy and MLX print them.
TEST(ArrayPrint, MatrixFloat) {
  EXPECT_EQ(to_string(array({1.0f, 2.0f, 3.0f, 4.0f}, {2, 2})),
            "array([[1, 2],\n       [3, 4]], dtype=float32)");
}

TEST(ArrayPrint, Bool) {
  EXPECT_EQ(to_string(kiln_test::bools({true, false})), "array([true, false], dtype=bool)");
}

TEST(ArrayPrint, PendingResultIsEvaluated) {
  array a = add(array({1, 2}), array({10, 20}));
  EXPECT_EQ(to_string(a), "array([11, 22], dtype=int32)");
}

// ---- dtype promotion -------------------------------------------------------------

TEST(DtypePromotion, PromoteTypesTable) {
  // MLX's (= JAX's) promotion lattice.
  EXPECT_EQ(promote_types(uint8, int8), int16);
  EXPECT_EQ(promote_types(int8, uint8), int16);
  EXPECT_EQ(promote_types(uint16, int16), int32);
  EXPECT_EQ(promote_types(uint32, int32), int64);
  EXPECT_EQ(promote_types(uint64, int64), float32);
  EXPECT_EQ(promote_types(uint64, int8), float32);
  EXPECT_EQ(promote_types(uint8, uint16), uint16);
  EXPECT_EQ(promote_types(int8, int64), int64);
  EXPECT_EQ(promote_types(bool_, bool_), bool_);
  EXPECT_EQ(promote_types(bool_, int8), int8);
  EXPECT_EQ(promote_types(bool_, uint32), uint32);
  EXPECT_EQ(promote_types(bool_, float16), float16);
  EXPECT_EQ(promote_types(int32, float16), float16);
  EXPECT_EQ(promote_types(int64, float16), float16);
  EXPECT_EQ(promote_types(int64, bfloat16), bfloat16);
  EXPECT_EQ(promote_types(float16, bfloat16), float32);
  EXPECT_EQ(promote_types(bfloat16, float16), float32);
  EXPECT_EQ(promote_types(int32, float32), float32);
  EXPECT_EQ(promote_types(int64, float32), float32);
  EXPECT_EQ(promote_types(float16, float32), float32);
  EXPECT_EQ(promote_types(float32, float64), float64);
  EXPECT_EQ(promote_types(uint64, float64), float64);
  EXPECT_EQ(promote_types(float32, complex64), complex64);
  EXPECT_EQ(promote_types(int32, complex64), complex64);
  EXPECT_EQ(promote_types(bool_, complex64), complex64);
}

TEST(DtypePromotion, PromoteTypesIsSymmetricAndIdempotent) {
  const Dtype all[] = {bool_, uint8, uint16, uint32, uint64, int8, int16,
                       int32, int64, float16, float32, float64, bfloat16, complex64};
  for (Dtype a : all) {
    EXPECT_EQ(promote_types(a, a), a) << dtype_name(a);
    for (Dtype b : all) {
      EXPECT_EQ(promote_types(a, b), promote_types(b, a)) << dtype_name(a) << " " << dtype_name(b);
      // Promotion never loses the ability to hold both kinds.
      Dtype p = promote_types(a, b);
      if (is_inexact(a) || is_inexact(b)) {
        EXPECT_TRUE(is_inexact(p)) << dtype_name(p);
      }
      if (is_complex(a) || is_complex(b)) {
        EXPECT_EQ(p, complex64);
      }
    }
  }
}

TEST(DtypePromotion, AddResultDtypes) {
  EXPECT_TRUE(array_is(add(array({1, 2}, uint8), array({-1, 3}, int8)), int16, {2}, {0, 5}));
  EXPECT_TRUE(array_is(add(array({1, 2}, uint64), array({-3, 4}, int64)), float32, {2}, {-2, 6}));
  EXPECT_TRUE(array_is(add(array({1, 2}, int32), array({0.5f, 0.25f}, float16)), float16, {2},
                       {1.5, 2.25}));
  EXPECT_TRUE(array_is(add(array({1.5f}, float16), array({2.0f}, bfloat16)), float32, {1}, {3.5}));
  EXPECT_TRUE(array_is(add(array({3}), array({0.5f})), float32, {1}, {3.5}));
  EXPECT_TRUE(array_is(add(array({0.5f}), array({0.25}, float64)), float64, {1}, {0.75}));
  EXPECT_TRUE(array_is(add(array({1, 2}, uint16), array({-5, 5}, int16)), int32, {2}, {-4, 7}));
  // bool + bool stays bool (a logical or, as in NumPy).
  EXPECT_TRUE(array_is(add(kiln_test::bools({true, true, false}), kiln_test::bools({true, false, false})), bool_, {3},
                       {1, 1, 0}));
  array c = add(array({1.0f, 2.0f}), array({complex64_t(0.5f, 1.0f), complex64_t(0.0f, -2.0f)}));
  EXPECT_TRUE(kiln_test::complex_array_is(c, {2}, {{1.5, 1.0}, {2.0, -2.0}}));
}

TEST(DtypePromotion, PromotedValuesAreExact) {
  // int32 + float64 must not go through float32: 16777217 is not a float32.
  array a = add(array({16777216}), array({1.0}, float64));
  EXPECT_TRUE(array_is(a, float64, {1}, {16777217.0}));
}

// ---- weak scalars ------------------------------------------------------------------

TEST(WeakScalar, FloatScalarKeepsHalfPrecision) {
  array h({1.5f, -2.0f}, float16);
  EXPECT_TRUE(array_is(h * 2.0, float16, {2}, {3.0, -4.0}));
  EXPECT_TRUE(array_is(2.0 * h, float16, {2}, {3.0, -4.0}));
  EXPECT_TRUE(array_is(h + 1.0f, float16, {2}, {2.5, -1.0}));
  array b({1.5f}, bfloat16);
  EXPECT_TRUE(array_is(b * 2.0, bfloat16, {1}, {3.0}));
  array d({1.5}, float64);
  EXPECT_TRUE(array_is(d * 2.0f, float64, {1}, {3.0}));
}

TEST(WeakScalar, FloatScalarWithIntegerArrayGivesFloat32) {
  // values from NumPy: np.array([1, 2, 3], np.int32) + 1.5
  EXPECT_TRUE(array_is(array({1, 2, 3}) + 1.5, float32, {3}, {2.5, 3.5, 4.5}));
  EXPECT_TRUE(array_is(array({1, 2}, int64) * 0.5, float32, {2}, {0.5, 1.0}));
  EXPECT_TRUE(array_is(kiln_test::bools({true, false}) + 0.5, float32, {2}, {1.5, 0.5}));
}

TEST(WeakScalar, IntScalarKeepsIntegerWidth) {
  EXPECT_TRUE(array_is(array({1, 2, 3}, int8) + 1, int8, {3}, {2, 3, 4}));
  EXPECT_TRUE(array_is(array({1, 2}, uint8) * 3, uint8, {2}, {3, 6}));
  EXPECT_TRUE(array_is(10 - array({1, 2}, int16), int16, {2}, {9, 8}));
  EXPECT_TRUE(array_is(array({1.5f}, float16) + 1, float16, {1}, {2.5}));
  // An int scalar with a bool array gives int32.
  EXPECT_TRUE(array_is(kiln_test::bools({true, false}) + 1, int32, {2}, {2, 1}));
}

// ---- astype ------------------------------------------------------------------------

TEST(Astype, FloatToIntTruncatesTowardZero) {
  array f({-2.7f, -1.5f, -0.5f, 0.0f, 0.5f, 1.5f, 2.7f});
  EXPECT_TRUE(array_is(astype(f, int32), int32, {7}, {-2, -1, 0, 0, 0, 1, 2}));
  EXPECT_TRUE(array_is(astype(f, int64), int64, {7}, {-2, -1, 0, 0, 0, 1, 2}));
  EXPECT_TRUE(array_is(astype(array({0.9f, 254.9f}), uint8), uint8, {2}, {0, 254}));
}

TEST(Astype, FloatToIntNanGivesZeroAndOutOfRangeSaturates) {
  array f({float(kNan), 1e10f, -1e10f, float(kInf), -float(kInf)});
  EXPECT_TRUE(array_is(astype(f, int32), int32, {5},
                       {0, 2147483647.0, -2147483648.0, 2147483647.0, -2147483648.0}));
  EXPECT_TRUE(array_is(astype(f, int8), int8, {5}, {0, 127, -128, 127, -128}));
  EXPECT_TRUE(array_is(astype(array({300.0f, -5.0f}), uint8), uint8, {2}, {255, 0}));
}

TEST(Astype, ToAndFromBool) {
  array f({0.0f, -0.0f, 0.5f, -3.0f, float(kNan)});
  EXPECT_TRUE(array_is(astype(f, bool_), bool_, {5}, {0, 0, 1, 1, 1}));
  EXPECT_TRUE(array_is(astype(array({0, 7, -1}), bool_), bool_, {3}, {0, 1, 1}));
  EXPECT_TRUE(array_is(astype(kiln_test::bools({true, false}), float32), float32, {2}, {1, 0}));
  EXPECT_TRUE(array_is(astype(kiln_test::bools({true, false}), int64), int64, {2}, {1, 0}));
}

TEST(Astype, IntToFloatAndWidening) {
  EXPECT_TRUE(array_is(astype(array({-3, 0, 16777217}), float64), float64, {3},
                       {-3, 0, 16777217}));
  EXPECT_TRUE(array_is(astype(array({-3, 100}, int8), int32), int32, {2}, {-3, 100}));
  EXPECT_TRUE(array_is(astype(array({200, 5}, uint8), int16), int16, {2}, {200, 5}));
}

TEST(Astype, SameDtypeKeepsValues) {
  array a({1.25f, 2.5f});
  EXPECT_TRUE(array_is(astype(a, float32), float32, {2}, {1.25, 2.5}));
}

TEST(Astype, Float16Rounding) {
  // values from NumPy: np.float16(x) for each x.
  array f({1.0f / 3.0f, 0.1f, 65519.0f, 70000.0f, 2049.0f, 2051.0f, -1.0f / 3.0f});
  EXPECT_TRUE(array_is(astype(f, float16), float16, {7},
                       {0.333251953125, 0.0999755859375, 65504.0, kInf, 2048.0, 2052.0,
                        -0.333251953125}));
  // nan survives the narrowing.
  EXPECT_TRUE(array_is(astype(array({float(kNan)}), float16), float16, {1}, {kNan}));
}

TEST(Astype, Bfloat16Rounding) {
  // Hand-computed: float32 1/3 is 0x3EAAAAAB; round to nearest even at 16 bits
  // gives 0x3EAB = 0.333984375. 1 + 2^-8 is a tie between 1 and 1 + 2^-7 and
  // goes to the even 1.0; 1 + 3 * 2^-8 ties to 1 + 2^-6 = 1.015625.
  array f({1.0f / 3.0f, 1.0f + 1.0f / 256.0f, 1.0f + 3.0f / 256.0f, 256.0f});
  EXPECT_TRUE(array_is(astype(f, bfloat16), bfloat16, {4},
                       {0.333984375, 1.0, 1.015625, 256.0}));
}

TEST(Astype, ComplexFromAndToReal) {
  array c = astype(array({1.5f, -2.0f}), complex64);
  EXPECT_TRUE(kiln_test::complex_array_is(c, {2}, {{1.5, 0}, {-2.0, 0}}));
  // complex -> real keeps the real part (NumPy, with a ComplexWarning).
  array r = astype(array({complex64_t(3.0f, 4.0f)}), float32);
  EXPECT_TRUE(array_is(r, float32, {1}, {3.0}));
}

TEST(Astype, IsLazy) {
  array a = astype(array({1, 2}), float32);
  EXPECT_FALSE(a.is_evaluated());
  EXPECT_TRUE(array_is(a, float32, {2}, {1, 2}));
}

// ---- issubdtype ----------------------------------------------------------------------

TEST(Issubdtype, Categories) {
  EXPECT_TRUE(issubdtype(float32, floating));
  EXPECT_TRUE(issubdtype(float16, floating));
  EXPECT_TRUE(issubdtype(bfloat16, floating));
  EXPECT_TRUE(issubdtype(float64, inexact));
  EXPECT_FALSE(issubdtype(int32, floating));
  EXPECT_FALSE(issubdtype(complex64, floating));
  EXPECT_TRUE(issubdtype(complex64, complexfloating));
  EXPECT_TRUE(issubdtype(complex64, inexact));
  EXPECT_FALSE(issubdtype(float32, complexfloating));
  EXPECT_TRUE(issubdtype(int8, signedinteger));
  EXPECT_FALSE(issubdtype(uint8, signedinteger));
  EXPECT_TRUE(issubdtype(uint64, unsignedinteger));
  EXPECT_FALSE(issubdtype(int64, unsignedinteger));
  EXPECT_TRUE(issubdtype(uint16, integer));
  EXPECT_TRUE(issubdtype(int64, integer));
  EXPECT_FALSE(issubdtype(float32, integer));
  // As NumPy: bool is neither an integer nor a number, but is generic.
  EXPECT_FALSE(issubdtype(bool_, integer));
  EXPECT_FALSE(issubdtype(bool_, number));
  EXPECT_TRUE(issubdtype(bool_, generic));
  EXPECT_TRUE(issubdtype(int32, number));
  EXPECT_TRUE(issubdtype(complex64, number));
  EXPECT_TRUE(issubdtype(float16, generic));
}

TEST(Issubdtype, DtypeAgainstDtype) {
  EXPECT_TRUE(issubdtype(float32, float32));
  EXPECT_FALSE(issubdtype(float32, float16));
  EXPECT_FALSE(issubdtype(int32, int64));
}

// ---- MLX compatibility header ----------------------------------------------------------

TEST(MlxCompat, NamespaceAlias) {
  namespace mx = mlx::core;
  mx::array a({1.0f, 2.0f, 3.0f});
  mx::array b = mx::add(a, mx::array(1.0f));
  EXPECT_EQ(b.dtype(), mx::float32);
  EXPECT_TRUE(array_is(b, kiln::float32, {3}, {2, 3, 4}));
  // It is the same type, not a copy of the API.
  static_assert(std::is_same_v<mx::array, kiln::array>);
  EXPECT_EQ(mx::promote_types(mx::uint8, mx::int8), mx::int16);
}
