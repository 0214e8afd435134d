// Tests of the reductions: sum, prod, max, min, mean, var, std, all, any,
// argmax, argmin, logsumexp and softmax. Expected values are hand-computed or
// come from NumPy 1.24 (noted "values from NumPy"), never from kiln itself.
#include <cmath>
#include <limits>

#include "test_helpers.h"

namespace {

using namespace kiln;
using kiln_test::array_is;
using kiln_test::throws_invalid;
using kiln_test::values;

const double kInf = std::numeric_limits<double>::infinity();
const double kNan = std::numeric_limits<double>::quiet_NaN();

// A 3x4 float32 matrix with mixed signs and non-integer values.
array mat() {
  return array({1.5f, -2.0f, 3.0f, 0.5f,  //
                4.0f, 0.25f, -1.0f, 2.0f,  //
                -3.0f, 5.0f, 1.0f, 1.0f},
               {3, 4});
}

// A 2x3x4 int32 array: ((arange(24) * 7) % 11 - 5).reshape(2, 3, 4).
array cube() {
  return array({-5, 2, -2, 5, 1, -3, 4, 0, -4, 3, -1, -5,  //
                2, -2, 5, 1, -3, 4, 0, -4, 3, -1, -5, 2},
               {2, 3, 4});
}

// ---- sum ---------------------------------------------------------------------

TEST(Sum, OneAxisAndAll) {
  array a = mat();
  // values from NumPy
  EXPECT_TRUE(array_is(sum(a, 0), float32, {4}, {2.5, 3.25, 3.0, 3.5}));
  EXPECT_TRUE(array_is(sum(a, 1), float32, {3}, {3.0, 5.25, 4.0}));
  EXPECT_TRUE(array_is(sum(a), float32, {}, {12.25}));
}

TEST(Sum, KeepDims) {
  array a = mat();
  EXPECT_TRUE(array_is(sum(a, 1, true), float32, {3, 1}, {3.0, 5.25, 4.0}));
  EXPECT_TRUE(array_is(sum(a, 0, true), float32, {1, 4}, {2.5, 3.25, 3.0, 3.5}));
  EXPECT_TRUE(array_is(sum(a, true), float32, {1, 1}, {12.25}));
  EXPECT_TRUE(array_is(sum(cube(), {0, 2}, true), int32, {1, 3, 1}, {6, -1, -8}));
}

TEST(Sum, SeveralAndNegativeAxes) {
  array b = cube();
  // values from NumPy
  EXPECT_TRUE(array_is(sum(b, {0, 2}), int32, {3}, {6, -1, -8}));
  EXPECT_TRUE(array_is(sum(b, {2, 0}), int32, {3}, {6, -1, -8}));      // order does not matter
  EXPECT_TRUE(array_is(sum(b, {-1, -3}), int32, {3}, {6, -1, -8}));    // negative axes
  EXPECT_TRUE(array_is(sum(b, -1), int32, {2, 3}, {0, 2, -7, 6, -3, -1}));
  EXPECT_TRUE(array_is(sum(b), int32, {}, {-3}));
  EXPECT_TRUE(array_is(sum(b, {0, 1, 2}), int32, {}, {-3}));
}

TEST(Sum, ResultDtypes) {
  array m({true, false, true, true, true, true}, {2, 3});
  // bool sums count: int32, as MLX
  EXPECT_TRUE(array_is(sum(m, 1), int32, {2}, {2, 3}));
  EXPECT_TRUE(array_is(sum(m), int32, {}, {5}));
  EXPECT_TRUE(array_is(sum(array({1, 2, 3}, uint8)), uint8, {}, {6}));
  EXPECT_TRUE(array_is(sum(array({1.5, 2.25}, float64)), float64, {}, {3.75}));
  EXPECT_TRUE(array_is(sum(array({1.5f, 2.25f}, float16)), float16, {}, {3.75}));
}

TEST(Sum, EmptyAndUnitAxes) {
  array e = zeros({2, 0});
  EXPECT_TRUE(array_is(sum(e, 1), float32, {2}, {0, 0}));
  EXPECT_TRUE(array_is(sum(e, 0), float32, {0}, {}));
  EXPECT_TRUE(array_is(sum(e), float32, {}, {0}));
  EXPECT_TRUE(array_is(sum(zeros({0}, int32)), int32, {}, {0}));
  // Reducing a size-1 axis is the identity on the values.
  array u = array({1.0f, 2.0f, 3.0f}, {3, 1});
  EXPECT_TRUE(array_is(sum(u, 1), float32, {3}, {1, 2, 3}));
  EXPECT_TRUE(array_is(sum(u, 1, true), float32, {3, 1}, {1, 2, 3}));
}

TEST(Sum, NonContiguousInputs) {
  // cube transposed to (4, 2, 3); values from NumPy
  array bt = transpose(cube(), {2, 0, 1});
  EXPECT_TRUE(array_is(sum(bt, 0), int32, {2, 3}, {0, 2, -7, 6, -3, -1}));
  // arange(12).reshape(3, 4)[:, ::2]
  array c = slice(reshape(arange(12.0), {3, 4}), {0, 0}, {3, 4}, {1, 2});
  EXPECT_TRUE(array_is(sum(c, 0), float32, {2}, {12, 18}));
  EXPECT_TRUE(array_is(sum(c), float32, {}, {30}));
}

TEST(Sum, LazyInputChain) {
  // sum of (x * 2 + 1) over the rows: hand-computed 2 * (0+1+2) + 3 = 9, ...
  array x = reshape(arange(6), {2, 3});
  EXPECT_TRUE(array_is(sum(x * 2 + 1, 1), int32, {2}, {9, 27}));
}

TEST(Sum, LongFloat32SumIsAccurate) {
  // 2^20 copies of float32(0.1): the exact sum is float32(0.1) * 2^20 =
  // 104857.6015625 (hand-computed); NumPy's pairwise float32 sum gives
  // 104857.7. A naive float32 running sum is off by about 1%.
  EXPECT_TRUE(array_is(sum(full({1 << 20}, 0.1f)), float32, {}, {104857.6015625}, 0, 1e-5));
  EXPECT_TRUE(array_is(mean(full({1 << 20}, 0.1f)), float32, {}, {0.10000000149011612}, 0, 1e-5));
}

// ---- prod --------------------------------------------------------------------

TEST(Prod, Values) {
  array a = mat();
  // values from NumPy
  EXPECT_TRUE(array_is(prod(a, 0), float32, {4}, {-18.0, -2.5, -3.0, 1.0}));
  EXPECT_TRUE(array_is(prod(a, -1), float32, {3}, {-4.5, -2.0, -15.0}));
  EXPECT_TRUE(array_is(prod(a), float32, {}, {-135.0}));
  EXPECT_TRUE(array_is(prod(cube(), 2), int32, {2, 3}, {100, 0, -60, -20, 0, 30}));
  EXPECT_TRUE(array_is(prod(cube(), 2, true), int32, {2, 3, 1}, {100, 0, -60, -20, 0, 30}));
}

TEST(Prod, EmptyAxisIsOne) {
  EXPECT_TRUE(array_is(prod(zeros({2, 0}), 1), float32, {2}, {1, 1}));
  EXPECT_TRUE(array_is(prod(zeros({0}, int32)), int32, {}, {1}));
}

TEST(Prod, BoolCountsAsInt32) {
  array m({true, true, false, true}, {2, 2});
  EXPECT_TRUE(array_is(prod(m, 1), int32, {2}, {1, 0}));
}

// ---- max / min -----------------------------------------------------------------

TEST(MaxMin, Values) {
  array a = mat();
  // values from NumPy
  EXPECT_TRUE(array_is(max(a, 0), float32, {4}, {4.0, 5.0, 3.0, 2.0}));
  EXPECT_TRUE(array_is(max(a, 1), float32, {3}, {3.0, 4.0, 5.0}));
  EXPECT_TRUE(array_is(max(a), float32, {}, {5.0}));
  EXPECT_TRUE(array_is(min(a, 0), float32, {4}, {-3.0, -2.0, -1.0, 0.5}));
  EXPECT_TRUE(array_is(min(a, -1), float32, {3}, {-2.0, -1.0, -3.0}));
  EXPECT_TRUE(array_is(min(a), float32, {}, {-3.0}));
  EXPECT_TRUE(array_is(min(a, true), float32, {1, 1}, {-3.0}));
}

TEST(MaxMin, IntegerSeveralAxesAndKeepDims) {
  array b = cube();
  // values from NumPy
  EXPECT_TRUE(array_is(max(b, {0, 2}), int32, {3}, {5, 4, 3}));
  EXPECT_TRUE(array_is(max(b, {0, -1}, true), int32, {1, 3, 1}, {5, 4, 3}));
  EXPECT_TRUE(array_is(min(b, 1), int32, {2, 4}, {-5, -3, -2, -5, -3, -2, -5, -4}));
  // All negative: the identity of max must not leak in as 0.
  EXPECT_TRUE(array_is(max(array({-7, -3, -9})), int32, {}, {-3}));
  EXPECT_TRUE(array_is(min(array({7u, 3u, 9u})), uint32, {}, {3}));
  EXPECT_TRUE(array_is(max(array({-7.5f, -3.5f})), float32, {}, {-3.5}));
}

TEST(MaxMin, NonContiguous) {
  array bt = transpose(cube(), {2, 0, 1});  // (4, 2, 3); values from NumPy
  EXPECT_TRUE(array_is(max(bt, 2), int32, {4, 2}, {1, 3, 3, 4, 4, 5, 5, 2}));
  array c = slice(reshape(arange(12.0), {3, 4}), {0, 0}, {3, 4}, {1, 2});
  EXPECT_TRUE(array_is(max(c, 1), float32, {3}, {2, 6, 10}));
}

TEST(MaxMin, NanPropagates) {
  array x = array({1.0f, NAN, 3.0f, 4.0f, 5.0f, 6.0f}, {2, 3});
  EXPECT_TRUE(array_is(max(x, 1), float32, {2}, {kNan, 6}));
  EXPECT_TRUE(array_is(min(x, 1), float32, {2}, {kNan, 4}));
  EXPECT_TRUE(array_is(max(x), float32, {}, {kNan}));
  EXPECT_TRUE(array_is(max(array({NAN, 1.0f})), float32, {}, {kNan}));  // nan first
  EXPECT_TRUE(array_is(min(array({1.0f, NAN})), float32, {}, {kNan}));   // nan last
}

TEST(MaxMin, Infinities) {
  array x = array({-INFINITY, -INFINITY, INFINITY, 1.0f}, {2, 2});
  EXPECT_TRUE(array_is(max(x, 1), float32, {2}, {-kInf, kInf}));
  EXPECT_TRUE(array_is(min(x, 1), float32, {2}, {-kInf, 1}));
}

TEST(MaxMin, EmptyAxisThrows) {
  EXPECT_TRUE(throws_invalid([] { max(zeros({2, 0}), 1); }, "[max]"));
  EXPECT_TRUE(throws_invalid([] { min(zeros({0}, int32)); }, "[min]"));
  // Reducing a non-empty axis of an array that is empty elsewhere is fine.
  EXPECT_TRUE(array_is(max(zeros({0, 3}), 1), float32, {0}, {}));
}

// ---- mean / var / std -----------------------------------------------------------

TEST(Mean, Values) {
  array a = mat();
  // values from NumPy
  EXPECT_TRUE(array_is(mean(a, 0), float32, {4},
                       {0.8333333134651184, 1.0833333730697632, 1.0, 1.1666666269302368}, 0, 1e-6));
  EXPECT_TRUE(array_is(mean(a, 1), float32, {3}, {0.75, 1.3125, 1.0}, 0, 1e-6));
  EXPECT_TRUE(array_is(mean(a), float32, {}, {1.0208333730697632}, 0, 1e-6));
  EXPECT_TRUE(array_is(mean(a, 1, true), float32, {3, 1}, {0.75, 1.3125, 1.0}, 0, 1e-6));
}

TEST(Mean, IntegerInputGivesFloat32) {
  array b = cube();
  // values from NumPy
  EXPECT_TRUE(array_is(mean(b, {0, 1}), float32, {4},
                       {-1.0, 0.5, 0.16666666666666666, -0.16666666666666666}, 1e-6, 1e-6));
  EXPECT_TRUE(array_is(mean(b), float32, {}, {-0.125}, 0, 1e-6));
  EXPECT_TRUE(array_is(mean(transpose(b, {2, 0, 1})), float32, {}, {-0.125}, 0, 1e-6));
  EXPECT_TRUE(array_is(mean(array({true, false, true, true})), float32, {}, {0.75}));
  EXPECT_TRUE(array_is(mean(array({1.0, 2.0}, float64)), float64, {}, {1.5}));
}

TEST(Mean, EmptyIsNan) {
  // NumPy: np.mean(np.zeros(0)) is nan (0 / 0).
  EXPECT_TRUE(array_is(mean(zeros({0})), float32, {}, {kNan}));
}

TEST(Var, DdofZeroAndOne) {
  array a = mat();
  // values from NumPy
  EXPECT_TRUE(array_is(var(a, 1), float32, {3}, {3.3125, 3.54296875, 8.0}, 0, 1e-6));
  EXPECT_TRUE(array_is(var(a, 1, false, 1), float32, {3},
                       {4.416666666666667, 4.723958333333333, 10.666666666666666}, 0, 1e-6));
  EXPECT_TRUE(array_is(var(a), float32, {}, {5.004774305555556}, 0, 1e-6));
  EXPECT_TRUE(array_is(var(a, false, 1), float32, {}, {5.459753787878788}, 0, 1e-6));
  EXPECT_TRUE(array_is(var(a, 1, true), float32, {3, 1}, {3.3125, 3.54296875, 8.0}, 0, 1e-6));
}

TEST(Var, IntegerSeveralAxes) {
  array b = cube();
  // values from NumPy
  EXPECT_TRUE(array_is(var(b, {0, 2}), float32, {3}, {10.9375, 8.359375, 10.25}, 0, 1e-6));
  EXPECT_TRUE(array_is(var(b, {0, -1}, false, 1), float32, {3},
                       {12.5, 9.553571428571429, 11.714285714285714}, 0, 1e-6));
}

TEST(Var, ConstantInputIsZero) {
  EXPECT_TRUE(array_is(var(full({5}, 3.25f)), float32, {}, {0}));
}

TEST(Std, Values) {
  array a = mat();
  // values from NumPy
  EXPECT_TRUE(array_is(kiln::std(a, 0), float32, {4},
                       {2.8963578661637945, 2.917856900001933, 1.632993161855452, 0.6236095644623235},
                       0, 1e-6));
  EXPECT_TRUE(array_is(kiln::std(a, 0, false, 1), float32, {4},
                       {3.547299442298794, 3.573630273731928, 2.0, 0.7637626158259734}, 0, 1e-6));
  EXPECT_TRUE(array_is(kiln::std(a), float32, {}, {2.2371352899535504}, 0, 1e-6));
  EXPECT_TRUE(array_is(kiln::std(cube(), {0, 2}, true), float32, {1, 3, 1},
                       {3.307189138830738, 2.8912583765550943, 3.2015621187164243}, 0, 1e-6));
}

TEST(Var, DdofAtLeastCount) {
  // values from NumPy: var([1], ddof=1) is nan (0 / 0), var([1, 2], ddof=2) is inf
  EXPECT_TRUE(array_is(var(array({1.0f}), false, 1), float32, {}, {kNan}));
  EXPECT_TRUE(array_is(var(array({1.0f, 2.0f}), false, 2), float32, {}, {kInf}));
}

TEST(Mean, SeveralAxesKeepDims) {
  // values from NumPy: np.arange(24).reshape(2, 3, 4).mean(axis=(0, 2), keepdims=True)
  EXPECT_TRUE(array_is(mean(reshape(arange(24), {2, 3, 4}), {0, 2}, true), float32, {1, 3, 1},
                       {7.5, 11.5, 15.5}, 0, 1e-6));
}

// ---- all / any ------------------------------------------------------------------

TEST(AllAny, Values) {
  array m({true, false, true, true, true, true}, {2, 3});
  // values from NumPy
  EXPECT_TRUE(array_is(any(m, 0), bool_, {3}, {1, 1, 1}));
  EXPECT_TRUE(array_is(all(m, 0), bool_, {3}, {1, 0, 1}));
  EXPECT_TRUE(array_is(all(m, 1), bool_, {2}, {0, 1}));
  EXPECT_TRUE(array_is(all(m, -1, true), bool_, {2, 1}, {0, 1}));
  EXPECT_TRUE(array_is(all(m), bool_, {}, {0}));
  EXPECT_TRUE(array_is(any(m), bool_, {}, {1}));
  EXPECT_TRUE(array_is(any(logical_not(m)), bool_, {}, {1}));
  EXPECT_TRUE(array_is(all(transpose(m), 1), bool_, {3}, {1, 0, 1}));
}

TEST(AllAny, NonBoolInputsTestNonZero) {
  array x = array({0.5f, 0.0f, 2.0f, 0.0f, 0.0f, 0.0f}, {2, 3});
  // values from NumPy
  EXPECT_TRUE(array_is(any(x, 1), bool_, {2}, {1, 0}));
  EXPECT_TRUE(array_is(all(x, 0), bool_, {3}, {0, 0, 0}));
  EXPECT_TRUE(array_is(all(array({1, -2, 3})), bool_, {}, {1}));
  EXPECT_TRUE(array_is(any(array({0, 0, 0})), bool_, {}, {0}));
  // values from NumPy: nan is truthy, -0.0 is not
  EXPECT_TRUE(array_is(all(array({NAN, 1.0f})), bool_, {}, {1}));
  EXPECT_TRUE(array_is(any(array({0.0f, -0.0f})), bool_, {}, {0}));
}

TEST(AllAny, EmptyAxes) {
  array e = zeros({2, 0}, bool_);
  EXPECT_TRUE(array_is(any(e, 1), bool_, {2}, {0, 0}));
  EXPECT_TRUE(array_is(all(e, 1), bool_, {2}, {1, 1}));
  EXPECT_TRUE(array_is(any(e), bool_, {}, {0}));
  EXPECT_TRUE(array_is(all(e), bool_, {}, {1}));
}

// ---- argmax / argmin ------------------------------------------------------------

TEST(ArgReduce, Values) {
  array a = mat();
  // values from NumPy
  EXPECT_TRUE(array_is(argmax(a, 1), uint32, {3}, {2, 0, 1}));
  EXPECT_TRUE(array_is(argmin(a, 0), uint32, {4}, {2, 0, 1, 0}));
  EXPECT_TRUE(array_is(argmax(a), uint32, {}, {9}));  // index into the flattened array
  EXPECT_TRUE(array_is(argmin(a), uint32, {}, {8}));
  EXPECT_TRUE(array_is(argmax(a, -1, true), uint32, {3, 1}, {2, 0, 1}));
  EXPECT_TRUE(array_is(argmax(a, true), uint32, {1, 1}, {9}));
}

TEST(ArgReduce, ThreeDimsAndNonContiguous) {
  array b = cube();
  // values from NumPy
  EXPECT_TRUE(array_is(argmax(b, -1), uint32, {2, 3}, {3, 2, 1, 2, 1, 0}));
  EXPECT_TRUE(array_is(argmin(b, 1), uint32, {2, 4}, {0, 1, 0, 2, 1, 0, 2, 1}));
  EXPECT_TRUE(array_is(argmax(transpose(b, {2, 0, 1}), 1), uint32, {4, 3},
                       {1, 0, 1, 0, 1, 0, 1, 0, 0, 0, 0, 1}));
}

TEST(ArgReduce, TiesGiveFirstOccurrence) {
  EXPECT_TRUE(array_is(argmax(array({3, 1, 3, 2})), uint32, {}, {0}));
  EXPECT_TRUE(array_is(argmin(array({2, 1, 5, 1})), uint32, {}, {1}));
  array t = array({7.0f, 7.0f, 7.0f, 1.0f, 4.0f, 4.0f}, {2, 3});
  EXPECT_TRUE(array_is(argmax(t, 1), uint32, {2}, {0, 1}));
  EXPECT_TRUE(array_is(argmin(t, 0), uint32, {3}, {1, 1, 1}));
  EXPECT_TRUE(array_is(argmin(full({4}, 2.0f)), uint32, {}, {0}));
}

TEST(ArgReduce, EmptyAxisThrows) {
  EXPECT_TRUE(throws_invalid([] { argmax(zeros({2, 0}), 1); }, "[argmax]"));
  EXPECT_TRUE(throws_invalid([] { argmin(zeros({0})); }, "[argmin]"));
  EXPECT_TRUE(throws_invalid([] { argmax(zeros({0, 3})); }, "[argmax]"));
}

TEST(ArgReduce, AxisOutOfRangeThrows) {
  EXPECT_TRUE(throws_invalid([] { argmax(mat(), 2); }, "[argmax]"));
  EXPECT_TRUE(throws_invalid([] { argmin(mat(), -3); }, "[argmin]"));
}

// ---- logsumexp ------------------------------------------------------------------

TEST(LogSumExp, Values) {
  array a = mat();
  // values from NumPy (log(sum(exp(x - max))) + max in float64)
  EXPECT_TRUE(array_is(logsumexp(a, 1), float32, {3},
                       {3.271516947330841, 4.153228234012084, 5.03629985583562}, 0, 1e-6));
  EXPECT_TRUE(array_is(logsumexp(a, 0), float32, {4},
                       {4.079732087672557, 5.009518135657085, 3.1429316284998996, 2.4643687841079447},
                       0, 1e-6));
  EXPECT_TRUE(array_is(logsumexp(a), float32, {}, {5.496716907748607}, 0, 1e-6));
  EXPECT_TRUE(array_is(logsumexp(a, 1, true), float32, {3, 1},
                       {3.271516947330841, 4.153228234012084, 5.03629985583562}, 0, 1e-6));
  EXPECT_TRUE(array_is(logsumexp(a, true), float32, {1, 1}, {5.496716907748607}, 0, 1e-6));
}

TEST(LogSumExp, SeveralAxesIntegerInput) {
  // values from NumPy
  EXPECT_TRUE(array_is(logsumexp(cube(), {1, 2}), float32, {2},
                       {5.458687141843306, 5.489645308256841}, 0, 1e-6));
  EXPECT_TRUE(array_is(logsumexp(cube(), {-1, -2}), float32, {2},
                       {5.458687141843306, 5.489645308256841}, 0, 1e-6));
}

TEST(LogSumExp, LargeValuesDoNotOverflow) {
  // log(2 e^1000) = 1000 + log 2
  EXPECT_TRUE(array_is(logsumexp(array({1000.0f, 1000.0f})), float32, {}, {1000.6931471805599}, 0, 1e-6));
  EXPECT_TRUE(array_is(logsumexp(array({-1000.0f, -1000.0f})), float32, {}, {-999.3068528194401}, 0, 1e-6));
}

TEST(LogSumExp, InfiniteRows) {
  array x = array({-INFINITY, -INFINITY, -INFINITY, 0.0f, INFINITY, 1.0f, 1000.0f, -1000.0f}, {4, 2});
  // rows: all -inf -> -inf; [-inf, 0] -> 0; [inf, 1] -> inf; [1000, -1000] -> 1000
  EXPECT_TRUE(array_is(logsumexp(x, 1), float32, {4}, {-kInf, 0, kInf, 1000}, 0, 1e-6));
}

// ---- softmax --------------------------------------------------------------------

TEST(Softmax, RowsMatchNumPyAndSumToOne) {
  array a = mat();
  // values from NumPy: exp(x - max) / sum, in float64
  array s = softmax(a, 1);
  EXPECT_TRUE(array_is(s, float32, {3, 4},
                       {0.17007479853270496, 0.005135813901765664, 0.7622223657239723,
                        0.06256702184155716, 0.8579338897707126, 0.020176671180884953,
                        0.005780713077994295, 0.11610872597040824, 0.00032350374880044157,
                        0.9643510838246173, 0.017662706213291114, 0.017662706213291114},
                       1e-7, 1e-5));
  EXPECT_TRUE(array_is(sum(s, 1), float32, {3}, {1, 1, 1}, 1e-6));
  EXPECT_TRUE(array_is(softmax(a, -1), float32, {3, 4}, values(s), 0, 0));
}

TEST(Softmax, OtherAxes) {
  array a = mat();
  // values from NumPy
  EXPECT_TRUE(array_is(softmax(a, 0), float32, {3, 4},
                       {0.07579430753228172, 0.000903243724493204, 0.8668133321973349,
                        0.14024438316608848, 0.9233636937677238, 0.008569737853840118,
                        0.015876239976466765, 0.6285317192117624, 0.0008419986999945904,
                        0.9905270184216668, 0.11731042782619835, 0.2312238976221491},
                       1e-7, 1e-5));
  EXPECT_TRUE(array_is(softmax(a), float32, {3, 4},
                       {0.018375869638301963, 0.0005549031811863456, 0.08235493411593499,
                        0.006760104653577801, 0.22386392089128804, 0.0052647747978510386,
                        0.0015083832339729604, 0.030296687140281112, 0.00020413747219908838,
                        0.6085252282063813, 0.01114552833451264, 0.01114552833451264},
                       1e-7, 1e-5));
  // Over axes (1, 2) of the integer cube: float32 result; first batch from NumPy.
  array s = softmax(cube(), {1, 2});
  ASSERT_EQ(s.dtype(), float32);
  ASSERT_EQ(s.shape(), Shape({2, 3, 4}));
  EXPECT_TRUE(array_is(slice(s, {0, 0, 0}, {1, 3, 4}), float32, {1, 3, 4},
                       {2.8697884697256663e-05, 0.031471051935768296, 0.000576412422704131,
                        0.632112975667431, 0.01157755299920788, 0.0002120502799486729,
                        0.23254136824575206, 0.004259143727481351, 7.800893848776569e-05,
                        0.08554718859948983, 0.0015668514143346935, 2.8697884697256663e-05},
                       1e-7, 1e-5));
  EXPECT_TRUE(array_is(sum(s, {1, 2}), float32, {2}, {1, 1}, 1e-6));
}

TEST(Softmax, LargeValuesAndTransposedInput) {
  EXPECT_TRUE(array_is(softmax(array({1000.0f, 0.0f, -1.0f})), float32, {3}, {1, 0, 0}, 1e-7));
  // softmax over axis 0 of the transpose is softmax over axis 1 of the original
  array a = mat();
  EXPECT_TRUE(array_is(softmax(transpose(a), 0), float32, {4, 3}, values(transpose(softmax(a, 1))),
                       1e-7, 1e-6));
}

TEST(Softmax, NegativeInfinityEntries) {
  // values from NumPy: softmax([-inf, 0, -inf]) = [0, 1, 0]
  EXPECT_TRUE(array_is(softmax(array({-INFINITY, 0.0f, -INFINITY})), float32, {3}, {0, 1, 0}));
}

TEST(Softmax, HalfPrecisionKeepsDtype) {
  array h = array({1.0f, 2.0f, 3.0f}, float16);
  // values from NumPy: softmax([1, 2, 3]) = [0.09003057, 0.24472847, 0.66524096]
  EXPECT_TRUE(array_is(softmax(h), float16, {3}, {0.09003057, 0.24472847, 0.66524096}, 1e-3));
  EXPECT_TRUE(array_is(softmax(h, true), float16, {3}, {0.09003057, 0.24472847, 0.66524096}, 1e-3));
}

// ---- errors ---------------------------------------------------------------------

TEST(ReductionErrors, AxisOutOfRange) {
  array a = mat();
  EXPECT_TRUE(throws_invalid([&] { sum(a, 2); }, "[sum]"));
  EXPECT_TRUE(throws_invalid([&] { sum(a, -3); }, "[sum]"));
  EXPECT_TRUE(throws_invalid([&] { prod(a, {0, 5}); }, "[prod]"));
  EXPECT_TRUE(throws_invalid([&] { max(a, 2); }, "[max]"));
  EXPECT_TRUE(throws_invalid([&] { min(a, 2); }, "[min]"));
  EXPECT_TRUE(throws_invalid([&] { all(a, 2); }, "[all]"));
  EXPECT_TRUE(throws_invalid([&] { any(a, 2); }, "[any]"));
  EXPECT_TRUE(throws_invalid([&] { mean(a, 2); }, "[mean]"));
  EXPECT_TRUE(throws_invalid([&] { var(a, 2); }, "[var]"));
  EXPECT_TRUE(throws_invalid([&] { sum(array(1.0f), 0); }, "[sum]"));
}

// Composite reductions report errors under their own name, not that of the
// op they are built from (var, max).
TEST(ReductionErrors, CompositeOpsNameThemselves) {
  array a = mat();
  EXPECT_TRUE(throws_invalid([&] { kiln::std(a, 2); }, "[std]"));
  EXPECT_TRUE(throws_invalid([&] { logsumexp(a, 2); }, "[logsumexp]"));
  EXPECT_TRUE(throws_invalid([&] { softmax(a, 2); }, "[softmax]"));
}

TEST(ReductionErrors, DuplicateAxes) {
  array b = cube();
  EXPECT_TRUE(throws_invalid([&] { sum(b, {0, 0}); }, "[sum]"));
  EXPECT_TRUE(throws_invalid([&] { sum(b, {1, -2}); }, "[sum]"));  // same axis, two spellings
  EXPECT_TRUE(throws_invalid([&] { max(b, {2, -1}); }, "[max]"));
  EXPECT_TRUE(throws_invalid([&] { mean(b, {0, 0}); }, "[mean]"));
}

}  // namespace
