// Tests of the elementwise ops and operators of frontend/ops.h: values,
// result dtypes, broadcasting, non-contiguous operands, special values and
// errors. Expected values are hand-computed unless a comment says "values
// from NumPy" (NumPy 1.24 on float32 inputs, computed once and written here
// as literals; erf/erfinv from Python's math.erf, erfinv by bisection on it).
#include <cmath>
#include <complex>
#include <cstdint>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <kiln/kiln.h>

#include "test_helpers.h"

using namespace kiln;
using kiln_test::array_is;
using kiln_test::bools;
using kiln_test::complex_array_is;
using kiln_test::throws_invalid;

namespace {

const double kNan = std::numeric_limits<double>::quiet_NaN();
const double kInf = std::numeric_limits<double>::infinity();
const float kNanF = std::numeric_limits<float>::quiet_NaN();
const float kInfF = std::numeric_limits<float>::infinity();

// Tolerances for float32 results of transcendental functions: a few ulp.
constexpr double kAtol = 1e-7;
constexpr double kRtol = 2e-6;

array F(std::initializer_list<float> v) { return array(v); }
array I(std::initializer_list<int> v) { return array(v); }

}  // namespace

// ===== one operand ===============================================================

TEST(Unary, AbsNegativeSignSquareFloat) {
  array x = F({-2.5f, -1, -0.5f, 0, 0.5f, 1, 2.5f});
  EXPECT_TRUE(array_is(abs(x), float32, {7}, {2.5, 1, 0.5, 0, 0.5, 1, 2.5}));
  EXPECT_TRUE(array_is(negative(x), float32, {7}, {2.5, 1, 0.5, 0, -0.5, -1, -2.5}));
  EXPECT_TRUE(array_is(-x, float32, {7}, {2.5, 1, 0.5, 0, -0.5, -1, -2.5}));
  EXPECT_TRUE(array_is(sign(x), float32, {7}, {-1, -1, -1, 0, 1, 1, 1}));
  EXPECT_TRUE(array_is(square(x), float32, {7}, {6.25, 1, 0.25, 0, 0.25, 1, 6.25}));
}

TEST(Unary, AbsNegativeSignSquareInt) {
  array x = I({-3, 0, 4});
  EXPECT_TRUE(array_is(abs(x), int32, {3}, {3, 0, 4}));
  EXPECT_TRUE(array_is(negative(x), int32, {3}, {3, 0, -4}));
  EXPECT_TRUE(array_is(sign(x), int32, {3}, {-1, 0, 1}));
  EXPECT_TRUE(array_is(square(x), int32, {3}, {9, 0, 16}));
  EXPECT_TRUE(array_is(abs(array({0, 7}, uint8)), uint8, {2}, {0, 7}));
  EXPECT_TRUE(array_is(square(array({-3, 11}, int8)), int8, {2}, {9, 121}));
}

TEST(Unary, NegativeAndSignOfUnsignedWrap) {
  // values from NumPy: -np.uint8([1, 0]), np.sign(np.uint8([0, 5]))
  EXPECT_TRUE(array_is(negative(array({1, 0}, uint8)), uint8, {2}, {255, 0}));
  EXPECT_TRUE(array_is(sign(array({0, 5}, uint8)), uint8, {2}, {0, 1}));
}

TEST(Unary, SignOfNanIsNan) {
  EXPECT_TRUE(array_is(sign(F({kNanF, -kInfF, kInfF})), float32, {3}, {kNan, -1, 1}));
}

TEST(Unary, SqrtRsqrtReciprocal) {
  array x = F({0.25f, 1, 2, 9});
  // values from NumPy
  EXPECT_TRUE(array_is(sqrt(x), float32, {4}, {0.5, 1.0, 1.4142135381698608, 3.0}, kAtol, kRtol));
  EXPECT_TRUE(array_is(rsqrt(x), float32, {4}, {2.0, 1.0, 0.7071067690849304, 0.3333333432674408},
                       kAtol, kRtol));
  EXPECT_TRUE(array_is(reciprocal(x), float32, {4}, {4.0, 1.0, 0.5, 0.1111111119389534}, kAtol,
                       kRtol));
}

TEST(Unary, SqrtSpecialValues) {
  EXPECT_TRUE(array_is(sqrt(F({-1, 0, kInfF, kNanF})), float32, {4}, {kNan, 0, kInf, kNan}));
  EXPECT_TRUE(array_is(rsqrt(F({0})), float32, {1}, {kInf}));
  EXPECT_TRUE(array_is(reciprocal(F({0, -kInfF})), float32, {2}, {kInf, 0}));
}

TEST(Unary, ExpAndExpm1) {
  // values from NumPy
  EXPECT_TRUE(array_is(exp(F({-1, 0, 0.5f, 2, 10})), float32, {5},
                       {0.3678794205188751, 1.0, 1.6487212181091309, 7.3890557289123535,
                        22026.466796875},
                       kAtol, kRtol));
  EXPECT_TRUE(array_is(exp(F({-kInfF, kInfF, 100})), float32, {3}, {0, kInf, kInf}));
  // expm1 keeps its accuracy near 0, where exp(x) - 1 would not.
  EXPECT_TRUE(array_is(expm1(F({-1, 0, 1e-6f, 1})), float32, {4},
                       {-0.6321205496788025, 0.0, 1.0000004522225936e-06, 1.718281865119934}, 0,
                       kRtol));
}

TEST(Unary, Logs) {
  // values from NumPy
  EXPECT_TRUE(array_is(log(F({0.5f, 1, 2, 10})), float32, {4},
                       {-0.6931471824645996, 0.0, 0.6931471824645996, 2.3025851249694824}, kAtol,
                       kRtol));
  EXPECT_TRUE(array_is(log2(F({0.125f, 1, 3, 1024})), float32, {4},
                       {-3.0, 0.0, 1.5849624872207642, 10.0}, kAtol, kRtol));
  EXPECT_TRUE(array_is(log10(F({0.001f, 1, 2, 1e5f})), float32, {4},
                       {-3.000000238418579, 0.0, 0.3010300099849701, 5.000000476837158}, kAtol,
                       kRtol));
  EXPECT_TRUE(array_is(log1p(F({-0.5f, 0, 1e-7f, 3})), float32, {4},
                       {-0.6931471824645996, 0.0, 9.999999406318238e-08, 1.3862943649291992}, 0,
                       kRtol));
}

TEST(Unary, LogSpecialValues) {
  EXPECT_TRUE(array_is(log(F({0, -1, kInfF})), float32, {3}, {-kInf, kNan, kInf}));
  EXPECT_TRUE(array_is(log2(F({0})), float32, {1}, {-kInf}));
  EXPECT_TRUE(array_is(log10(F({-2})), float32, {1}, {kNan}));
  EXPECT_TRUE(array_is(log1p(F({-1, -2})), float32, {2}, {-kInf, kNan}));
}

TEST(Unary, Trigonometric) {
  array t = F({-2, 0, 0.5f, 1, 3});
  // values from NumPy
  EXPECT_TRUE(array_is(sin(t), float32, {5},
                       {-0.9092974066734314, 0.0, 0.4794255495071411, 0.8414710164070129,
                        0.14112000167369843},
                       kAtol, kRtol));
  EXPECT_TRUE(array_is(cos(t), float32, {5},
                       {-0.41614681482315063, 1.0, 0.8775825500488281, 0.5403022766113281,
                        -0.9899924993515015},
                       kAtol, kRtol));
  EXPECT_TRUE(array_is(tan(t), float32, {5},
                       {2.18503999710083, 0.0, 0.5463024973869324, 1.5574077367782593,
                        -0.14254653453826904},
                       kAtol, kRtol));
}

TEST(Unary, InverseTrigonometric) {
  array a = F({-1, -0.5f, 0, 0.3f, 1});
  // values from NumPy
  EXPECT_TRUE(array_is(arcsin(a), float32, {5},
                       {-1.5707963705062866, -0.5235987901687622, 0.0, 0.30469265580177307,
                        1.5707963705062866},
                       kAtol, kRtol));
  EXPECT_TRUE(array_is(arccos(a), float32, {5},
                       {3.1415927410125732, 2.094395160675049, 1.5707963705062866,
                        1.266103744506836, 0.0},
                       kAtol, kRtol));
  EXPECT_TRUE(array_is(arctan(F({-10, -1, 0, 0.5f, 100})), float32, {5},
                       {-1.4711277484893799, -0.7853981852531433, 0.0, 0.46364760398864746,
                        1.5607967376708984},
                       kAtol, kRtol));
  EXPECT_TRUE(array_is(arcsin(F({2, -1.5f})), float32, {2}, {kNan, kNan}));
  EXPECT_TRUE(array_is(arccos(F({1.01f})), float32, {1}, {kNan}));
}

TEST(Unary, Hyperbolic) {
  array h = F({-3, -0.5f, 0, 1, 2});
  // values from NumPy
  EXPECT_TRUE(array_is(sinh(h), float32, {5},
                       {-10.017874717712402, -0.5210952758789062, 0.0, 1.175201177597046,
                        3.6268603801727295},
                       kAtol, kRtol));
  EXPECT_TRUE(array_is(cosh(h), float32, {5},
                       {10.06766128540039, 1.1276260614395142, 1.0, 1.5430806875228882,
                        3.762195587158203},
                       kAtol, kRtol));
  EXPECT_TRUE(array_is(tanh(h), float32, {5},
                       {-0.9950547814369202, -0.46211719512939453, 0.0, 0.7615941762924194,
                        0.9640275835990906},
                       kAtol, kRtol));
  // tanh saturates rather than overflowing to nan.
  EXPECT_TRUE(array_is(tanh(F({20, -100, kInfF})), float32, {3}, {1, -1, 1}));
}

TEST(Unary, InverseHyperbolic) {
  // values from NumPy
  EXPECT_TRUE(array_is(arcsinh(F({-2, 0, 0.5f, 10})), float32, {4},
                       {-1.4436354637145996, 0.0, 0.4812118113040924, 2.998223066329956}, kAtol,
                       kRtol));
  EXPECT_TRUE(array_is(arccosh(F({1, 1.5f, 10})), float32, {3},
                       {0.0, 0.9624236226081848, 2.993222951889038}, kAtol, kRtol));
  EXPECT_TRUE(array_is(arctanh(F({-0.5f, 0, 0.9f})), float32, {3},
                       {-0.5493061542510986, 0.0, 1.4722193479537964}, kAtol, kRtol));
  EXPECT_TRUE(array_is(arccosh(F({0.5f})), float32, {1}, {kNan}));
  EXPECT_TRUE(array_is(arctanh(F({1, -1, 2})), float32, {3}, {kInf, -kInf, kNan}));
}

TEST(Unary, Sigmoid) {
  // values from NumPy: 1 / (1 + np.exp(-x))
  EXPECT_TRUE(array_is(sigmoid(F({-10, -1, 0, 1, 10})), float32, {5},
                       {4.5397868702434395e-05, 0.2689414213699951, 0.5, 0.7310585786300049,
                        0.9999546021312976},
                       kAtol, kRtol));
  EXPECT_TRUE(array_is(sigmoid(F({-kInfF, kInfF})), float32, {2}, {0, 1}));
}

TEST(Unary, ErfAndErfinv) {
  // values from Python's math.erf, rounded to float32
  EXPECT_TRUE(array_is(erf(F({-2, -0.5f, 0, 0.3f, 1, 3})), float32, {6},
                       {-0.9953222870826721, -0.5204998850822449, 0.0, 0.3286267817020416,
                        0.8427007794380188, 0.9999778866767883},
                       kAtol, kRtol));
  // inverse of math.erf by bisection, rounded to float32
  EXPECT_TRUE(array_is(erfinv(F({-0.9f, -0.5f, 0, 0.3f, 0.99f})), float32, {5},
                       {-1.1630871295928955, -0.4769362807273865, 0.0, 0.27246272563934326,
                        1.8213865756988525},
                       kAtol, 1e-5));
  EXPECT_TRUE(array_is(erfinv(F({1, -1, 1.5f})), float32, {3}, {kInf, -kInf, kNan}));
}

TEST(Unary, FloorCeil) {
  array r = F({-2.5f, -1.5f, -0.5f, 0.5f, 1.5f, 2.5f, 2.6f, -2.7f});
  EXPECT_TRUE(array_is(floor(r), float32, {8}, {-3, -2, -1, 0, 1, 2, 2, -3}));
  EXPECT_TRUE(array_is(ceil(r), float32, {8}, {-2, -1, -0.0, 1, 2, 3, 3, -2}));
  // The identity on integers, keeping the dtype.
  EXPECT_TRUE(array_is(floor(I({-3, 4})), int32, {2}, {-3, 4}));
  EXPECT_TRUE(array_is(ceil(array({-3, 4}, int64)), int64, {2}, {-3, 4}));
}

TEST(Unary, RoundHalfToEven) {
  array r = F({-2.5f, -1.5f, -0.5f, 0.5f, 1.5f, 2.5f, 2.6f, -2.7f});
  EXPECT_TRUE(array_is(round(r), float32, {8}, {-2, -2, -0.0, 0, 2, 2, 3, -3}));
  EXPECT_TRUE(array_is(round(I({-3, 4})), int32, {2}, {-3, 4}));
}

TEST(Unary, RoundDecimals) {
  // values from NumPy: np.round(np.float32([...]), 1) and (..., -1)
  EXPECT_TRUE(array_is(round(F({1.25f, -0.25f, 3.14159f, 2.71828f}), 1), float32, {4},
                       {1.2000000476837158, -0.20000000298023224, 3.0999999046325684,
                        2.700000047683716},
                       kAtol, kRtol));
  EXPECT_TRUE(array_is(round(F({15, 25, 123, -35}), -1), float32, {4}, {20, 20, 120, -40}));
}

TEST(Unary, Classification) {
  array x = F({kNanF, kInfF, -kInfF, 0, 1.5f});
  EXPECT_TRUE(array_is(isnan(x), bool_, {5}, {1, 0, 0, 0, 0}));
  EXPECT_TRUE(array_is(isinf(x), bool_, {5}, {0, 1, 1, 0, 0}));
  EXPECT_TRUE(array_is(isfinite(x), bool_, {5}, {0, 0, 0, 1, 1}));
  EXPECT_TRUE(array_is(isposinf(x), bool_, {5}, {0, 1, 0, 0, 0}));
  EXPECT_TRUE(array_is(isneginf(x), bool_, {5}, {0, 0, 1, 0, 0}));
}

TEST(Unary, ClassificationOfIntegersIsConstant) {
  array x = array({1, 2, 3, 4, 5, 6}, {2, 3});
  EXPECT_TRUE(array_is(isnan(x), bool_, {2, 3}, {0, 0, 0, 0, 0, 0}));
  EXPECT_TRUE(array_is(isinf(x), bool_, {2, 3}, {0, 0, 0, 0, 0, 0}));
  EXPECT_TRUE(array_is(isfinite(x), bool_, {2, 3}, {1, 1, 1, 1, 1, 1}));
  EXPECT_TRUE(array_is(isposinf(x), bool_, {2, 3}, {0, 0, 0, 0, 0, 0}));
  EXPECT_TRUE(array_is(isneginf(x), bool_, {2, 3}, {0, 0, 0, 0, 0, 0}));
}

TEST(Unary, ClassificationOfHalfPrecision) {
  array x = astype(F({kNanF, kInfF, 70000.0f, 1}), float16);  // 70000 overflows to inf
  EXPECT_TRUE(array_is(isnan(x), bool_, {4}, {1, 0, 0, 0}));
  EXPECT_TRUE(array_is(isposinf(x), bool_, {4}, {0, 1, 1, 0}));
}

TEST(Unary, LogicalNot) {
  EXPECT_TRUE(array_is(logical_not(bools({true, false})), bool_, {2}, {0, 1}));
  EXPECT_TRUE(array_is(!bools({true, false}), bool_, {2}, {0, 1}));
  // Of numbers: x == 0. NumPy: np.logical_not(np.nan) is False.
  EXPECT_TRUE(array_is(logical_not(F({0, 2.5f, kNanF, -0.0f})), bool_, {4}, {1, 0, 0, 1}));
  EXPECT_TRUE(array_is(logical_not(I({0, -3})), bool_, {2}, {1, 0}));
}

TEST(Unary, BitwiseInvert) {
  // values from NumPy
  EXPECT_TRUE(array_is(bitwise_invert(I({0, 5, -1})), int32, {3}, {-1, -6, 0}));
  EXPECT_TRUE(array_is(~I({0, 5, -1}), int32, {3}, {-1, -6, 0}));
  EXPECT_TRUE(array_is(bitwise_invert(array({0, 5, 255}, uint8)), uint8, {3}, {255, 250, 0}));
  EXPECT_TRUE(array_is(bitwise_invert(bools({true, false})), bool_, {2}, {0, 1}));
}

TEST(Unary, StopGradientIsIdentity) {
  EXPECT_TRUE(array_is(stop_gradient(F({1.5f, -2})), float32, {2}, {1.5, -2}));
  EXPECT_TRUE(array_is(stop_gradient(I({7})), int32, {1}, {7}));
}

TEST(Unary, IntegerInputsComputeInFloat32) {
  // values from NumPy (float32 results)
  EXPECT_TRUE(array_is(exp(I({1, 2})), float32, {2}, {2.7182817459106445, 7.389056205749512},
                       kAtol, kRtol));
  EXPECT_TRUE(array_is(sqrt(I({4, 2})), float32, {2}, {2.0, 1.4142135381698608}, kAtol, kRtol));
  EXPECT_TRUE(array_is(sin(I({1})), float32, {1}, {0.8414710164070129}, kAtol, kRtol));
  EXPECT_TRUE(array_is(log(array({1}, uint8)), float32, {1}, {0}));
  EXPECT_TRUE(array_is(reciprocal(I({1, 2, 4})), float32, {3}, {1, 0.5, 0.25}));
  EXPECT_TRUE(array_is(rsqrt(array({4}, int64)), float32, {1}, {0.5}));
  EXPECT_TRUE(array_is(sigmoid(bools({false})), float32, {1}, {0.5}));
  EXPECT_TRUE(array_is(tanh(array({0}, int16)), float32, {1}, {0}));
}

TEST(Unary, FloatDtypesArePreserved) {
  // values from NumPy: np.exp(np.float16(1)), np.sqrt(np.float16(2))
  EXPECT_TRUE(array_is(exp(array({1.0f}, float16)), float16, {1}, {2.71875}));
  EXPECT_TRUE(array_is(sqrt(array({2.0f}, float16)), float16, {1}, {1.4140625}));
  EXPECT_TRUE(array_is(sqrt(array({2.0}, float64)), float64, {1}, {1.4142135623730951}, 0, 1e-15));
  EXPECT_TRUE(array_is(log(array({1.0f}, bfloat16)), bfloat16, {1}, {0}));
}

// ===== two operands ================================================================

TEST(Binary, Arithmetic) {
  array a = F({1.5f, -2, 0.25f});
  array b = F({0.5f, 4, -1});
  EXPECT_TRUE(array_is(add(a, b), float32, {3}, {2, 2, -0.75}));
  EXPECT_TRUE(array_is(subtract(a, b), float32, {3}, {1, -6, 1.25}));
  EXPECT_TRUE(array_is(multiply(a, b), float32, {3}, {0.75, -8, -0.25}));
  EXPECT_TRUE(array_is(divide(a, b), float32, {3}, {3, -0.5, -0.25}));
  array i = I({7, -3, 0});
  array j = I({2, 5, -4});
  EXPECT_TRUE(array_is(add(i, j), int32, {3}, {9, 2, -4}));
  EXPECT_TRUE(array_is(subtract(i, j), int32, {3}, {5, -8, 4}));
  EXPECT_TRUE(array_is(multiply(i, j), int32, {3}, {14, -15, 0}));
}

TEST(Binary, FloatRoundingIsFloat32) {
  // values from NumPy: np.float32(0.1) + np.float32(0.2)
  EXPECT_TRUE(array_is(add(F({0.1f}), F({0.2f})), float32, {1}, {0.30000001192092896}));
}

TEST(Binary, IntegerOverflowWraps) {
  // values from NumPy: np.int8(127) + np.int8(1), np.uint8(250) + np.uint8(10)
  EXPECT_TRUE(array_is(add(array({127}, int8), array({1}, int8)), int8, {1}, {-128}));
  EXPECT_TRUE(array_is(add(array({250}, uint8), array({10}, uint8)), uint8, {1}, {4}));
  EXPECT_TRUE(array_is(subtract(array({0}, uint8), array({1}, uint8)), uint8, {1}, {255}));
}

TEST(Binary, DivideIntegersGivesFloat32) {
  // values from NumPy
  EXPECT_TRUE(array_is(divide(I({1, 7, -7}), I({2, 2, 2})), float32, {3}, {0.5, 3.5, -3.5}));
  EXPECT_TRUE(array_is(divide(I({1}), I({0})), float32, {1}, {kInf}));
  EXPECT_TRUE(array_is(divide(F({0}), F({0})), float32, {1}, {kNan}));
  EXPECT_TRUE(array_is(divide(array({3}, int8), array({2}, uint8)), float32, {1}, {1.5}));
}

TEST(Binary, FloorDivideIntegersFloorsLikeNumPy) {
  // values from NumPy: np.int32([7, -7, 7, -7, 0]) // np.int32([2, 2, -2, -2, 3])
  EXPECT_TRUE(array_is(floor_divide(I({7, -7, 7, -7, 0}), I({2, 2, -2, -2, 3})), int32, {5},
                       {3, -4, -4, 3, 0}));
  EXPECT_TRUE(array_is(floor_divide(I({7, -7, 7, -7, 6}), I({3, 3, -3, -3, 3})), int32, {5},
                       {2, -3, -3, 2, 2}));
  EXPECT_TRUE(array_is(floor_divide(array({-7}, int8), array({2}, int8)), int8, {1}, {-4}));
}

TEST(Binary, FloorDivideFloats) {
  // values from NumPy
  EXPECT_TRUE(array_is(floor_divide(F({7.5f, -7.5f, 7.5f, -7.5f}), F({2, 2, -2, -2})), float32,
                       {4}, {3, -4, -4, 3}));
}

TEST(Binary, RemainderTakesTheSignOfTheDivisor) {
  // values from NumPy
  EXPECT_TRUE(array_is(remainder(I({7, -7, 7, -7, 0}), I({2, 2, -2, -2, 3})), int32, {5},
                       {1, 1, -1, -1, 0}));
  EXPECT_TRUE(array_is(remainder(I({7, -7, 7, -7, 6}), I({3, 3, -3, -3, 3})), int32, {5},
                       {1, 2, -2, -1, 0}));
  EXPECT_TRUE(array_is(remainder(F({5.5f, -5.5f, 5.5f, -5.5f}), F({2, 2, -2, -2})), float32, {4},
                       {1.5, 0.5, -0.5, -1.5}));
  EXPECT_TRUE(array_is(I({7, -7}) % 3, int32, {2}, {1, 2}));
}

TEST(Binary, FloatDivisionByZero) {
  // values from NumPy: f32([5, -5, 0]) // 0, f32([5, -5, 0]) % 0, f32([5, -5]) % inf
  array z = F({0, 0, 0});
  EXPECT_TRUE(array_is(floor_divide(F({5, -5, 0}), z), float32, {3}, {kInf, -kInf, kNan}));
  EXPECT_TRUE(array_is(remainder(F({5, -5, 0}), z), float32, {3}, {kNan, kNan, kNan}));
  EXPECT_TRUE(array_is(remainder(F({5, -5}), F({kInfF, kInfF})), float32, {2}, {5, kInf}));
}

TEST(Binary, Power) {
  // values from NumPy
  EXPECT_TRUE(array_is(power(F({2, 4, 9, 2, 0}), F({3, 0.5f, 0.5f, -1, 0})), float32, {5},
                       {8, 2, 3, 0.5, 1}, kAtol, kRtol));
  EXPECT_TRUE(array_is(power(I({2, 3, -2, 5}), I({10, 3, 3, 0})), int32, {4}, {1024, 27, -8, 1}));
  EXPECT_TRUE(array_is(power(F({-8}), F({1.0f / 3.0f})), float32, {1}, {kNan}));
  EXPECT_TRUE(array_is(power(I({2}), F({0.5f})), float32, {1}, {1.4142135381698608}, kAtol, kRtol));
}

TEST(Binary, MaximumMinimumPropagateNan) {
  // values from NumPy
  array a = F({1, kNanF, 3, -1});
  array b = F({2, 0, kNanF, -2});
  EXPECT_TRUE(array_is(maximum(a, b), float32, {4}, {2, kNan, kNan, -1}));
  EXPECT_TRUE(array_is(minimum(a, b), float32, {4}, {1, kNan, kNan, -2}));
  EXPECT_TRUE(array_is(maximum(I({1, -5}), I({0, 3})), int32, {2}, {1, 3}));
  EXPECT_TRUE(array_is(minimum(array({200}, uint8), array({-1}, int8)), int16, {1}, {-1}));
}

TEST(Binary, Arctan2) {
  // values from NumPy
  EXPECT_TRUE(array_is(arctan2(F({1, 1, -1, -1, 0, 2}), F({1, -1, 1, -1, -1, 0})), float32, {6},
                       {0.7853981256484985, 2.356194496154785, -0.7853981256484985,
                        -2.356194496154785, 3.1415927410125732, 1.5707963705062866},
                       kAtol, kRtol));
  EXPECT_TRUE(array_is(arctan2(I({1}), I({1})), float32, {1}, {0.7853981256484985}, kAtol, kRtol));
}

TEST(Binary, LogAddExpWithInfinities) {
  // values from NumPy
  EXPECT_TRUE(array_is(logaddexp(F({0, 1, -kInfF, kInfF, 100, -kInfF, kInfF}),
                                 F({0, 2, -kInfF, kInfF, 1, 3, -kInfF})),
                       float32, {7},
                       {0.6931471824645996, 2.3132617473602295, -kInf, kInf, 100.0, 3.0, kInf},
                       kAtol, kRtol));
  // No overflow for large arguments.
  EXPECT_TRUE(array_is(logaddexp(F({1000}), F({1000})), float32, {1}, {1000.6931471805599}, 0,
                       kRtol));
  EXPECT_TRUE(array_is(logaddexp(F({kNanF}), F({1})), float32, {1}, {kNan}));
}

// Near the zero of logaddexp its two terms cancel (issue 9, item 9: in
// float the first pair was 1e5 ulp off, the second gave 0). Reference
// values from mpmath (60 digits): -9.0455498939e-7, ln2 - fl32(ln2),
// ln2 - fl64(ln2).
TEST(Binary, LogAddExpNearZero) {
  const float ln2f = 0.6931471805599453f;
  EXPECT_TRUE(array_is(logaddexp(F({-0.0953317f, -ln2f}), F({-2.39769f, -ln2f})), float32, {2},
                       {-9.04554989394248e-07, -1.904654299957768e-09}, 0, 2.5e-7));
  const double ln2 = 0.6931471805599453;
  EXPECT_TRUE(array_is(logaddexp(array(-ln2, float64), array(-ln2, float64)), float64, {}, {2.3190468138462996e-17}, 0, 5e-16));
}

TEST(Binary, Comparisons) {
  array a = F({1, 2, 3, kNanF});
  array b = F({2, 2, 2, kNanF});
  EXPECT_TRUE(array_is(equal(a, b), bool_, {4}, {0, 1, 0, 0}));
  EXPECT_TRUE(array_is(not_equal(a, b), bool_, {4}, {1, 0, 1, 1}));
  EXPECT_TRUE(array_is(less(a, b), bool_, {4}, {1, 0, 0, 0}));
  EXPECT_TRUE(array_is(less_equal(a, b), bool_, {4}, {1, 1, 0, 0}));
  EXPECT_TRUE(array_is(greater(a, b), bool_, {4}, {0, 0, 1, 0}));
  EXPECT_TRUE(array_is(greater_equal(a, b), bool_, {4}, {0, 1, 1, 0}));
}

TEST(Binary, ComparisonsPromoteMixedDtypes) {
  // 2.5 is not an int32: the comparison is done in float32.
  EXPECT_TRUE(array_is(less(I({1, 2, 3}), F({2.5f})), bool_, {3}, {1, 1, 0}));
  // uint8 200 vs int8 -1 compares as int16.
  EXPECT_TRUE(array_is(greater(array({200}, uint8), array({-1}, int8)), bool_, {1}, {1}));
  EXPECT_TRUE(array_is(equal(I({16777217}), array({16777216.0}, float64)), bool_, {1}, {0}));
}

TEST(Binary, ComplexEqualityIsAllowed) {
  array c = array({complex64_t(1, 2), complex64_t(1, 0)});
  array d = array({complex64_t(1, 2), complex64_t(1, 1)});
  EXPECT_TRUE(array_is(equal(c, d), bool_, {2}, {1, 0}));
  EXPECT_TRUE(array_is(not_equal(c, d), bool_, {2}, {0, 1}));
}

TEST(Binary, Logical) {
  array p = bools({true, true, false, false});
  array q = bools({true, false, true, false});
  EXPECT_TRUE(array_is(logical_and(p, q), bool_, {4}, {1, 0, 0, 0}));
  EXPECT_TRUE(array_is(logical_or(p, q), bool_, {4}, {1, 1, 1, 0}));
  // Numbers are truth-tested (x != 0).
  EXPECT_TRUE(array_is(logical_and(I({0, 1, 2}), F({1, 0, 3})), bool_, {3}, {0, 0, 1}));
  EXPECT_TRUE(array_is(logical_or(I({0, 0, 2}), F({0, -0.5f, 0})), bool_, {3}, {0, 1, 1}));
}

TEST(Binary, Bitwise) {
  // values from NumPy
  array i = I({12, 10, -1});
  array j = I({10, 6, 5});
  EXPECT_TRUE(array_is(bitwise_and(i, j), int32, {3}, {8, 2, 5}));
  EXPECT_TRUE(array_is(bitwise_or(i, j), int32, {3}, {14, 14, -1}));
  EXPECT_TRUE(array_is(bitwise_xor(i, j), int32, {3}, {6, 12, -6}));
  array p = bools({true, true, false});
  array q = bools({true, false, false});
  EXPECT_TRUE(array_is(bitwise_and(p, q), bool_, {3}, {1, 0, 0}));
  EXPECT_TRUE(array_is(bitwise_or(p, q), bool_, {3}, {1, 1, 0}));
  EXPECT_TRUE(array_is(bitwise_xor(p, q), bool_, {3}, {0, 1, 0}));
  EXPECT_TRUE(array_is(bitwise_and(array({0xF0}, uint8), array({0x3C}, uint8)), uint8, {1},
                       {0x30}));
}

TEST(Binary, Shifts) {
  // values from NumPy
  EXPECT_TRUE(array_is(left_shift(I({1, 3, -4}), I({2, 4, 1})), int32, {3}, {4, 48, -8}));
  // Right shift of a signed integer is arithmetic.
  EXPECT_TRUE(array_is(right_shift(I({16, -16, 255}), I({2, 2, 4})), int32, {3}, {4, -4, 15}));
  // Bits shifted out of a uint8 are lost.
  EXPECT_TRUE(array_is(left_shift(array({255, 1}, uint8), array({1, 7}, uint8)), uint8, {2},
                       {254, 128}));
  EXPECT_TRUE(array_is(right_shift(array({255}, uint8), array({4}, uint8)), uint8, {1}, {15}));
}

// ===== where, clip and whole-array comparisons ======================================

TEST(Where, SelectsAndBroadcasts) {
  array cond = bools({true, false}, {2, 1});
  array x = F({1, 2, 3});
  array y = array(-1);
  // int32 -1 and float32 x promote to float32; shapes (2,1), (3), () -> (2,3).
  EXPECT_TRUE(array_is(where(cond, x, y), float32, {2, 3}, {1, 2, 3, -1, -1, -1}));
  // A numeric condition is truth-tested.
  EXPECT_TRUE(array_is(where(I({0, 2, -1}), I({10, 20, 30}), I({-10, -20, -30})), int32, {3},
                       {-10, 20, 30}));
  // nan is truthy.
  EXPECT_TRUE(array_is(where(F({kNanF, 0}), I({1, 1}), I({0, 0})), int32, {2}, {1, 0}));
}

TEST(Clip, BothBoundsAndOne) {
  array a = F({-3, 0, 5, 10});
  EXPECT_TRUE(array_is(clip(a, array(0.0f), array(6.0f)), float32, {4}, {0, 0, 5, 6}));
  EXPECT_TRUE(array_is(clip(a, array(1.0f), std::nullopt), float32, {4}, {1, 1, 5, 10}));
  EXPECT_TRUE(array_is(clip(a, std::nullopt, array(2.0f)), float32, {4}, {-3, 0, 2, 2}));
  // Array bounds broadcast.
  array m = array({1, 5, 7, -2}, {2, 2});
  EXPECT_TRUE(array_is(clip(m, I({0, 3}), array(4)), int32, {2, 2}, {1, 4, 4, 3}));
}

TEST(ArrayEqual, ShapesDtypesAndNan) {
  array t = array_equal(F({1, 2, 3}), F({1, 2, 3}));
  EXPECT_TRUE(array_is(t, bool_, {}, {1}));
  EXPECT_TRUE(array_is(array_equal(F({1, 2, 3}), F({1, 2, 4})), bool_, {}, {0}));
  // Different shapes are never equal, even when one broadcasts to the other.
  EXPECT_TRUE(array_is(array_equal(F({1, 1}), array({1.0f, 1.0f}, {2, 1})), bool_, {}, {0}));
  EXPECT_TRUE(array_is(array_equal(F({1}), F({1, 1})), bool_, {}, {0}));
  // Values are compared, not dtypes (as NumPy).
  EXPECT_TRUE(array_is(array_equal(I({1, 2}), F({1, 2})), bool_, {}, {1}));
  array n1 = F({1, kNanF});
  EXPECT_TRUE(array_is(array_equal(n1, n1), bool_, {}, {0}));
  EXPECT_TRUE(array_is(array_equal(n1, n1, true), bool_, {}, {1}));
}

TEST(IsClose, ToleranceInfinityAndNan) {
  // values from NumPy: np.isclose(a, b) and np.isclose(a, b, equal_nan=True)
  array a = F({1, 1 + 1e-6f, kNanF, kInfF, 1, 1e-9f, -kInfF, kInfF});
  array b = F({1, 1, kNanF, kInfF, 1.0001f, 0, -kInfF, 1e30f});
  EXPECT_TRUE(array_is(isclose(a, b), bool_, {8}, {1, 1, 0, 1, 0, 1, 1, 0}));
  EXPECT_TRUE(array_is(isclose(a, b, 1e-5, 1e-8, true), bool_, {8}, {1, 1, 1, 1, 0, 1, 1, 0}));
  // Looser tolerances.
  EXPECT_TRUE(array_is(isclose(F({1, 10}), F({1.05f, 10.5f}), 0.1, 0.0), bool_, {2}, {1, 1}));
  EXPECT_TRUE(array_is(isclose(F({0}), F({0.05f}), 0.0, 0.1), bool_, {1}, {1}));
  EXPECT_TRUE(array_is(isclose(F({0}), F({0.05f}), 0.0, 0.01), bool_, {1}, {0}));
  // Integers work and broadcast.
  EXPECT_TRUE(array_is(isclose(I({1, 2}), array(1)), bool_, {2}, {1, 0}));
}

// |a - b| = inf <= atol + rtol * |inf| = inf would call any value close to
// an infinity; NumPy compares infinities only for equality (np.isclose(-np.inf, np.inf)
// and np.isclose(1, np.inf) are False).
TEST(IsClose, OppositeInfinitiesAreNotClose) {
  // values from NumPy: np.isclose([-inf, inf, 1], [inf, -inf, inf])
  EXPECT_TRUE(array_is(isclose(F({-kInfF, kInfF, 1}), F({kInfF, -kInfF, kInfF})), bool_, {3},
                       {0, 0, 0}));
  EXPECT_TRUE(array_is(allclose(F({-kInfF}), F({kInfF})), bool_, {}, {0}));
}

TEST(AllClose, ReducesToScalar) {
  EXPECT_TRUE(array_is(allclose(F({1, 2}), F({1, 2 + 1e-6f})), bool_, {}, {1}));
  EXPECT_TRUE(array_is(allclose(F({1, 2}), F({1, 2.1f})), bool_, {}, {0}));
  EXPECT_TRUE(array_is(allclose(F({1, kNanF}), F({1, kNanF})), bool_, {}, {0}));
  EXPECT_TRUE(array_is(allclose(F({1, kNanF}), F({1, kNanF}), 1e-5, 1e-8, true), bool_, {}, {1}));
  // Broadcasting: each row of a (2,2) against a (2).
  EXPECT_TRUE(array_is(allclose(array({1.0f, 2.0f, 1.0f, 2.0f}, {2, 2}), F({1, 2})), bool_, {},
                       {1}));
}

// ===== operators ===================================================================

TEST(Operators, ArrayArray) {
  array a = I({6, -7, 12});
  array b = I({4, 2, 10});
  EXPECT_TRUE(array_is(a + b, int32, {3}, {10, -5, 22}));
  EXPECT_TRUE(array_is(a - b, int32, {3}, {2, -9, 2}));
  EXPECT_TRUE(array_is(a * b, int32, {3}, {24, -14, 120}));
  EXPECT_TRUE(array_is(a / b, float32, {3}, {1.5, -3.5, 1.2}, 0, kRtol));
  EXPECT_TRUE(array_is(a % b, int32, {3}, {2, 1, 2}));
  EXPECT_TRUE(array_is(a == b, bool_, {3}, {0, 0, 0}));
  EXPECT_TRUE(array_is(a != b, bool_, {3}, {1, 1, 1}));
  EXPECT_TRUE(array_is(a < b, bool_, {3}, {0, 1, 0}));
  EXPECT_TRUE(array_is(a <= b, bool_, {3}, {0, 1, 0}));
  EXPECT_TRUE(array_is(a > b, bool_, {3}, {1, 0, 1}));
  EXPECT_TRUE(array_is(a >= b, bool_, {3}, {1, 0, 1}));
  // values from NumPy
  EXPECT_TRUE(array_is(a & b, int32, {3}, {4, 0, 8}));
  EXPECT_TRUE(array_is(a | b, int32, {3}, {6, -5, 14}));
  EXPECT_TRUE(array_is(a ^ b, int32, {3}, {2, -5, 6}));
  EXPECT_TRUE(array_is(a << I({1, 2, 3}), int32, {3}, {12, -28, 96}));
  EXPECT_TRUE(array_is(a >> I({1, 1, 2}), int32, {3}, {3, -4, 3}));
  EXPECT_TRUE(array_is(~a, int32, {3}, {-7, 6, -13}));
  EXPECT_TRUE(array_is(-a, int32, {3}, {-6, 7, -12}));
  array p = bools({true, false, true});
  array q = bools({true, true, false});
  EXPECT_TRUE(array_is(p && q, bool_, {3}, {1, 0, 0}));
  EXPECT_TRUE(array_is(p || q, bool_, {3}, {1, 1, 1}));
  EXPECT_TRUE(array_is(!p, bool_, {3}, {0, 1, 0}));
}

TEST(Operators, ScalarOnEitherSide) {
  array a = F({1, 2, 4});
  EXPECT_TRUE(array_is(a + 1, float32, {3}, {2, 3, 5}));
  EXPECT_TRUE(array_is(1 - a, float32, {3}, {0, -1, -3}));
  EXPECT_TRUE(array_is(2.0 * a, float32, {3}, {2, 4, 8}));
  EXPECT_TRUE(array_is(a / 2, float32, {3}, {0.5, 1, 2}));
  EXPECT_TRUE(array_is(8.0f / a, float32, {3}, {8, 4, 2}));
  EXPECT_TRUE(array_is(a == 2, bool_, {3}, {0, 1, 0}));
  EXPECT_TRUE(array_is(a != 2.0, bool_, {3}, {1, 0, 1}));
  EXPECT_TRUE(array_is(a < 2, bool_, {3}, {1, 0, 0}));
  EXPECT_TRUE(array_is(3 <= a, bool_, {3}, {0, 0, 1}));
  EXPECT_TRUE(array_is(a > 1.5, bool_, {3}, {0, 1, 1}));
  EXPECT_TRUE(array_is(a >= 4, bool_, {3}, {0, 0, 1}));
  EXPECT_TRUE(array_is(a % 3, float32, {3}, {1, 2, 1}));
  array i = I({5, 12, -8});
  EXPECT_TRUE(array_is(i & 6, int32, {3}, {4, 4, 0}));
  EXPECT_TRUE(array_is(1 | i, int32, {3}, {5, 13, -7}));
  EXPECT_TRUE(array_is(i ^ 1, int32, {3}, {4, 13, -7}));
  EXPECT_TRUE(array_is(i << 2, int32, {3}, {20, 48, -32}));
  EXPECT_TRUE(array_is(i >> 1, int32, {3}, {2, 6, -4}));
  EXPECT_TRUE(array_is(1 << array({3}, uint8), uint8, {1}, {8}));
  EXPECT_TRUE(array_is(bools({true, false}) && true, bool_, {2}, {1, 0}));
  EXPECT_TRUE(array_is(false || bools({true, false}), bool_, {2}, {1, 0}));
}

// ===== broadcasting ================================================================

TEST(Broadcast, ColumnWithRow) {
  // values from NumPy: [[1],[2],[3]] * [[1, 10, 100, 1000]]
  array c = array({1.0f, 2.0f, 3.0f}, {3, 1});
  array r = array({1.0f, 10.0f, 100.0f, 1000.0f}, {1, 4});
  EXPECT_TRUE(array_is(multiply(c, r), float32, {3, 4},
                       {1, 10, 100, 1000, 2, 20, 200, 2000, 3, 30, 300, 3000}));
  EXPECT_TRUE(array_is(add(r, c), float32, {3, 4},
                       {2, 11, 101, 1001, 3, 12, 102, 1002, 4, 13, 103, 1003}));
}

TEST(Broadcast, ScalarWithMatrix) {
  array m = array({1, 2, 3, 4, 5, 6}, {2, 3});
  EXPECT_TRUE(array_is(subtract(array(10), m), int32, {2, 3}, {9, 8, 7, 6, 5, 4}));
  EXPECT_TRUE(array_is(multiply(m, array(2.0f)), float32, {2, 3}, {2, 4, 6, 8, 10, 12}));
}

TEST(Broadcast, RankExtension) {
  array m = array({1, 2, 3, 4, 5, 6}, {2, 3});
  EXPECT_TRUE(array_is(add(m, I({10, 20, 30})), int32, {2, 3}, {11, 22, 33, 14, 25, 36}));
}

TEST(Broadcast, EmptyDimension) {
  std::vector<float> none;
  array e(none.begin(), {0, 3});
  array r = array({1.0f, 2.0f, 3.0f}, {1, 3});
  EXPECT_TRUE(array_is(add(e, r), float32, {0, 3}, {}));
  EXPECT_TRUE(array_is(less(r, e), bool_, {0, 3}, {}));
}

TEST(Broadcast, SizeOneDimsOnBothSides) {
  array a = array({1, 2}, {2, 1, 1});
  array b = array({10, 20, 30, 40, 50, 60}, {1, 2, 3});
  EXPECT_TRUE(array_is(multiply(a, b), int32, {2, 2, 3},
                       {10, 20, 30, 40, 50, 60, 20, 40, 60, 80, 100, 120}));
  array c = array({1.0f}, {1, 1});
  EXPECT_TRUE(array_is(add(c, F({1, 2})), float32, {1, 2}, {2, 3}));
}

// ===== non-contiguous operands =======================================================

TEST(NonContiguous, TransposedOperand) {
  // values from NumPy: np.arange(6).reshape(2, 3).T + [[10, 20], [30, 40], [50, 60]]
  array a = array({0.0f, 1.0f, 2.0f, 3.0f, 4.0f, 5.0f}, {2, 3});
  array b = array({10.0f, 20.0f, 30.0f, 40.0f, 50.0f, 60.0f}, {3, 2});
  EXPECT_TRUE(array_is(add(transpose(a), b), float32, {3, 2}, {10, 23, 31, 44, 52, 65}));
  EXPECT_TRUE(array_is(exp(transpose(array({0.0f, 1.0f, 0.0f, 1.0f}, {2, 2}))), float32, {2, 2},
                       {1, 1, 2.7182817459106445, 2.7182817459106445}, kAtol, kRtol));
}

TEST(NonContiguous, StridedSliceOperand) {
  // values from NumPy: np.arange(10)[1:8:3] * [2, 3, 4]
  array r = array({0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
  array s = slice(r, {1}, {8}, {3});
  EXPECT_TRUE(array_is(multiply(s, I({2, 3, 4})), int32, {3}, {2, 12, 28}));
  // A column of a matrix, against a row.
  array m = array({1, 2, 3, 4, 5, 6}, {3, 2});
  array col = slice(m, {0, 1}, {3, 2});
  EXPECT_TRUE(array_is(add(col, I({100, 200})), int32, {3, 2}, {102, 202, 104, 204, 106, 206}));
}

TEST(NonContiguous, EvaluatedTransposeAsOperand) {
  array a = array({1, 2, 3, 4}, {2, 2});
  array t = transpose(a);
  t.eval();
  EXPECT_TRUE(array_is(t, int32, {2, 2}, {1, 3, 2, 4}));
  EXPECT_TRUE(array_is(subtract(t, a), int32, {2, 2}, {0, 1, -1, 0}));
}

// ===== complex =====================================================================

TEST(Complex, AddMultiplyAbs) {
  // values from NumPy
  array a = array({complex64_t(1, 2), complex64_t(3, -1)});
  array b = array({complex64_t(0.5f, 0.5f), complex64_t(-1, 2)});
  EXPECT_TRUE(complex_array_is(add(a, b), {2}, {{1.5, 2.5}, {2, 1}}));
  EXPECT_TRUE(complex_array_is(multiply(a, b), {2}, {{-0.5, 1.5}, {-1, 7}}, 1e-6));
  EXPECT_TRUE(complex_array_is(subtract(a, b), {2}, {{0.5, 1.5}, {4, -3}}));
  EXPECT_TRUE(array_is(abs(array({complex64_t(1, 2), complex64_t(3, -4)})), float32, {2},
                       {2.2360680103302, 5.0}, kAtol, kRtol));
  // A real operand promotes to complex.
  EXPECT_TRUE(complex_array_is(multiply(a, F({2, 0.5f})), {2}, {{2, 4}, {1.5, -0.5}}));
  EXPECT_TRUE(complex_array_is(-a, {2}, {{-1, -2}, {-3, 1}}));
}

TEST(Complex, Classification) {
  // values from NumPy: np.isnan / np.isinf of complex64([nan+0j, 0+inf j, 1])
  array c = array({complex64_t(kNanF, 0), complex64_t(0, kInfF), complex64_t(1, 0)});
  EXPECT_TRUE(array_is(isnan(c), bool_, {3}, {1, 0, 0}));
  EXPECT_TRUE(array_is(isinf(c), bool_, {3}, {0, 1, 0}));
  EXPECT_TRUE(array_is(isfinite(c), bool_, {3}, {0, 0, 1}));
}

TEST(Binary, HalfPrecisionDividedByIntegerStaysHalf) {
  // values from NumPy: np.float16([3, 1]) / np.int8(2)
  EXPECT_TRUE(array_is(divide(array({3.0f, 1.0f}, float16), array({2}, int8)), float16, {2},
                       {1.5, 0.5}));
}

// ===== errors ======================================================================

TEST(Errors, IncompatibleBroadcastShapes) {
  array a = array({1, 2, 3, 4, 5, 6}, {2, 3});
  array b = I({1, 2});
  EXPECT_TRUE(throws_invalid([&] { add(a, b); }, "[add]"));
  EXPECT_TRUE(throws_invalid([&] { add(a, b); }, "(2,3)"));  // names the shapes
  EXPECT_TRUE(throws_invalid([&] { multiply(a, b); }, "[multiply]"));
  EXPECT_TRUE(throws_invalid([&] { a - b; }, "[subtract]"));
  EXPECT_TRUE(throws_invalid([&] { equal(a, b); }, "[equal]"));
  EXPECT_TRUE(throws_invalid([&] { maximum(a, b); }, "[maximum]"));
  EXPECT_TRUE(throws_invalid([&] { divide(a, b); }, "[divide]"));
  EXPECT_TRUE(throws_invalid([&] { where(bools({true, false}), a, a); }, "[where]"));
}

TEST(Errors, BitwiseOnFloats) {
  array f = F({1, 2});
  EXPECT_TRUE(throws_invalid([&] { bitwise_and(f, f); }, "[bitwise_and]"));
  EXPECT_TRUE(throws_invalid([&] { bitwise_or(f, I({1, 2})); }, "[bitwise_or]"));
  EXPECT_TRUE(throws_invalid([&] { bitwise_xor(I({1, 2}), f); }, "[bitwise_xor]"));
  EXPECT_TRUE(throws_invalid([&] { left_shift(f, I({1, 2})); }, "[left_shift]"));
  EXPECT_TRUE(throws_invalid([&] { right_shift(f, f); }, "[right_shift]"));
  EXPECT_TRUE(throws_invalid([&] { bitwise_invert(f); }, "[bitwise_invert]"));
  EXPECT_TRUE(throws_invalid([&] { f & 1; }, "[bitwise_and]"));
  EXPECT_TRUE(throws_invalid([&] { ~f; }, "[bitwise_invert]"));
}

TEST(Errors, NegativeOfBool) {
  array p = bools({true, false});
  EXPECT_TRUE(throws_invalid([&] { negative(p); }, "[negative]"));
  EXPECT_TRUE(throws_invalid([&] { -p; }, "[negative]"));
}

TEST(Errors, OrderedComparisonOfComplex) {
  array c = array({complex64_t(1, 2)});
  EXPECT_TRUE(throws_invalid([&] { less(c, c); }, "[less]"));
  EXPECT_TRUE(throws_invalid([&] { less_equal(c, F({1})); }, "[less_equal]"));
  EXPECT_TRUE(throws_invalid([&] { greater(F({1}), c); }, "[greater]"));
  EXPECT_TRUE(throws_invalid([&] { greater_equal(c, c); }, "[greater_equal]"));
  EXPECT_TRUE(throws_invalid([&] { c < c; }, "[less]"));
  EXPECT_TRUE(throws_invalid([&] { maximum(c, c); }, "[maximum]"));
  EXPECT_TRUE(throws_invalid([&] { minimum(c, c); }, "[minimum]"));
}

TEST(Errors, ClipWithNeitherBound) {
  EXPECT_TRUE(throws_invalid([&] { clip(F({1, 2}), std::nullopt, std::nullopt); }, "[clip]"));
}

TEST(Errors, ErrorsLeaveNoPartialState) {
  // A failed op does not poison its operands.
  array a = F({1, 2});
  array b = F({1, 2, 3});
  EXPECT_THROW(add(a, b), std::invalid_argument);
  EXPECT_TRUE(array_is(add(a, a), float32, {2}, {2, 4}));
}
