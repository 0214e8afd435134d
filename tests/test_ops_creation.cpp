// Tests of the creation ops: arange, linspace, full/zeros/ones and their
// _like forms, eye, identity, tri, tril and triu. Expected values are
// hand-computed or come from NumPy 1.24 (noted "values from NumPy").
#include <cmath>

#include "test_helpers.h"

namespace {

using namespace kiln;
using kiln_test::array_is;
using kiln_test::throws_invalid;

// ---- arange ----------------------------------------------------------------------

TEST(Arange, IntOverloads) {
  EXPECT_TRUE(array_is(arange(5), int32, {5}, {0, 1, 2, 3, 4}));
  EXPECT_TRUE(array_is(arange(2, 6), int32, {4}, {2, 3, 4, 5}));
  EXPECT_TRUE(array_is(arange(1, 7, 2), int32, {3}, {1, 3, 5}));
  EXPECT_TRUE(array_is(arange(1, 8, 2), int32, {4}, {1, 3, 5, 7}));  // stop not a multiple
}

TEST(Arange, DoubleOverloadsAreFloat32) {
  EXPECT_TRUE(array_is(arange(4.0), float32, {4}, {0, 1, 2, 3}));
  EXPECT_TRUE(array_is(arange(2.0, 5.0), float32, {3}, {2, 3, 4}));
  EXPECT_TRUE(array_is(arange(0.0, 1.0, 0.25), float32, {4}, {0, 0.25, 0.5, 0.75}));
  // values from NumPy: np.arange(0.0, 1.0, 0.3, dtype=np.float32)
  EXPECT_TRUE(array_is(arange(0.0, 1.0, 0.3), float32, {4},
                       {0.0, 0.30000001192092896, 0.6000000238418579, 0.9000000357627869}, 0, 1e-7));
  EXPECT_TRUE(array_is(arange(0.5, 3.0), float32, {3}, {0.5, 1.5, 2.5}));
}

TEST(Arange, ExplicitDtype) {
  EXPECT_TRUE(array_is(arange(3.0, int32), int32, {3}, {0, 1, 2}));
  EXPECT_TRUE(array_is(arange(1.0, 4.0, float64), float64, {3}, {1, 2, 3}));
  // values from NumPy: np.arange(0, 10, 2.5, dtype=np.float16)
  EXPECT_TRUE(array_is(arange(0.0, 10.0, 2.5, float16), float16, {4}, {0, 2.5, 5, 7.5}));
  EXPECT_TRUE(array_is(arange(0.0, 6.0, 2.0, int64), int64, {3}, {0, 2, 4}));
  EXPECT_TRUE(array_is(arange(0.0, 3.0, 1.0, uint8), uint8, {3}, {0, 1, 2}));
}

TEST(Arange, NegativeStep) {
  // values from NumPy
  EXPECT_TRUE(array_is(arange(10, 0, -3), int32, {4}, {10, 7, 4, 1}));
  EXPECT_TRUE(array_is(arange(1.0, -1.0, -0.5), float32, {4}, {1.0, 0.5, 0.0, -0.5}));
  EXPECT_TRUE(array_is(arange(3, -1, -1), int32, {4}, {3, 2, 1, 0}));
}

TEST(Arange, EmptyResults) {
  EXPECT_TRUE(array_is(arange(5, 2), int32, {0}, {}));
  EXPECT_TRUE(array_is(arange(0, 5, -1), int32, {0}, {}));
  EXPECT_TRUE(array_is(arange(0), int32, {0}, {}));
  EXPECT_TRUE(array_is(arange(-3), int32, {0}, {}));
  EXPECT_TRUE(array_is(arange(2.0, 2.0), float32, {0}, {}));
}

TEST(Arange, Errors) {
  EXPECT_TRUE(throws_invalid([] { arange(0, 5, 0); }, "[arange]"));
  EXPECT_TRUE(throws_invalid([] { arange(0.0, 5.0, 0.0); }, "[arange]"));
  EXPECT_TRUE(throws_invalid([] { arange(0.0, 1e12, 1.0); }, "[arange]"));  // too many elements
  EXPECT_TRUE(throws_invalid([] { arange(0.0, NAN, 1.0); }, "[arange]"));
  EXPECT_TRUE(throws_invalid([] { arange(0.0, INFINITY, 1.0); }, "[arange]"));
  EXPECT_TRUE(throws_invalid([] { arange(0.0, 3.0, 1.0, bool_); }, "[arange]"));
}

// ---- linspace --------------------------------------------------------------------

TEST(Linspace, Values) {
  EXPECT_TRUE(array_is(linspace(0, 1, 5), float32, {5}, {0, 0.25, 0.5, 0.75, 1}));
  // values from NumPy: np.linspace(-1, 1, 4)
  EXPECT_TRUE(array_is(linspace(-1, 1, 4, float64), float64, {4},
                       {-1.0, -0.33333333333333337, 0.33333333333333326, 1.0}, 1e-15));
  // Default num is 50.
  array d = linspace(0, 49);
  EXPECT_EQ(d.shape(), Shape({50}));
  EXPECT_EQ(d.dtype(), float32);
  EXPECT_EQ(kiln_test::values(d)[17], 17.0);
  // Decreasing.
  EXPECT_TRUE(array_is(linspace(2, -2, 3), float32, {3}, {2, 0, -2}));
}

TEST(Linspace, EndpointsExact) {
  // values from NumPy: np.linspace(0.1, 0.7, 7, dtype=np.float32); both ends exact
  array x = linspace(0.1, 0.7, 7);
  EXPECT_TRUE(array_is(x, float32, {7},
                       {0.10000000149011612, 0.20000000298023224, 0.30000001192092896,
                        0.4000000059604645, 0.5, 0.6000000238418579, 0.699999988079071},
                       0, 1e-7));
  const float* p = x.data<float>();
  EXPECT_EQ(p[0], 0.1f);
  EXPECT_EQ(p[6], 0.7f);
  array y = linspace(0.0, 1.0 / 3.0, 11, float64);
  EXPECT_EQ(y.data<double>()[10], 1.0 / 3.0);
}

TEST(Linspace, OneZeroAndIntegerDtype) {
  EXPECT_TRUE(array_is(linspace(3, 9, 1), float32, {1}, {3}));
  EXPECT_TRUE(array_is(linspace(3, 9, 2), float32, {2}, {3, 9}));
  EXPECT_TRUE(array_is(linspace(3, 9, 0), float32, {0}, {}));
  // values from NumPy: np.linspace(0, 10, 4).astype(np.int32)
  EXPECT_TRUE(array_is(linspace(0, 10, 4, int32), int32, {4}, {0, 3, 6, 10}));
  EXPECT_TRUE(throws_invalid([] { linspace(0, 1, -1); }, "[linspace]"));
}

// ---- full / zeros / ones -------------------------------------------------------------

TEST(Full, ScalarValues) {
  EXPECT_TRUE(array_is(full({2, 2}, 7), int32, {2, 2}, {7, 7, 7, 7}));
  EXPECT_TRUE(array_is(full({3}, 2.5f), float32, {3}, {2.5, 2.5, 2.5}));
  EXPECT_TRUE(array_is(full({2}, 2.5f, int32), int32, {2}, {2, 2}));  // cast truncates
  EXPECT_TRUE(array_is(full({2, 1}, array(-1.5f)), float32, {2, 1}, {-1.5, -1.5}));
  EXPECT_TRUE(array_is(full({}, 4.0f), float32, {}, {4}));
  EXPECT_TRUE(array_is(full({0, 3}, 1.0f), float32, {0, 3}, {}));
}

TEST(Full, ArrayValuesBroadcast) {
  EXPECT_TRUE(array_is(full({2, 3}, array({1, 2, 3})), int32, {2, 3}, {1, 2, 3, 1, 2, 3}));
  EXPECT_TRUE(array_is(full({2, 3}, array({5.0f, 6.0f}, {2, 1})), float32, {2, 3}, {5, 5, 5, 6, 6, 6}));
  // values cast to the requested dtype (truncation, as NumPy's astype)
  EXPECT_TRUE(array_is(full({2, 2}, array({1.5f, -2.5f}), int32), int32, {2, 2}, {1, -2, 1, -2}));
  // from a transposed array
  array t = transpose(array({1, 2, 3, 4}, {2, 2}));
  EXPECT_TRUE(array_is(full({2, 2, 2}, t), int32, {2, 2, 2}, {1, 3, 2, 4, 1, 3, 2, 4}));
}

TEST(Full, ZerosOnes) {
  EXPECT_TRUE(array_is(zeros({2, 3}), float32, {2, 3}, {0, 0, 0, 0, 0, 0}));
  EXPECT_TRUE(array_is(zeros({2}, int32), int32, {2}, {0, 0}));
  EXPECT_TRUE(array_is(ones({3}), float32, {3}, {1, 1, 1}));
  EXPECT_TRUE(array_is(ones({2, 2}, bool_), bool_, {2, 2}, {1, 1, 1, 1}));
  EXPECT_TRUE(array_is(ones({2}, float64), float64, {2}, {1, 1}));
  EXPECT_TRUE(array_is(ones({2}, uint16), uint16, {2}, {1, 1}));
  EXPECT_TRUE(array_is(zeros({}), float32, {}, {0}));
  EXPECT_TRUE(array_is(zeros({4, 0}), float32, {4, 0}, {}));
}

TEST(Full, LikeForms) {
  array a = reshape(arange(6), {2, 3});  // int32
  EXPECT_TRUE(array_is(zeros_like(a), int32, {2, 3}, {0, 0, 0, 0, 0, 0}));
  EXPECT_TRUE(array_is(ones_like(array({1.5, 2.5}, float64)), float64, {2}, {1, 1}));
  EXPECT_TRUE(array_is(full_like(a, 3), int32, {2, 3}, {3, 3, 3, 3, 3, 3}));
  // the value takes a's dtype: np.full_like(int_array, 2.5) is all 2
  EXPECT_TRUE(array_is(full_like(a, 2.5), int32, {2, 3}, {2, 2, 2, 2, 2, 2}));
  EXPECT_TRUE(array_is(full_like(a, 2.5f, float32), float32, {2, 3}, {2.5, 2.5, 2.5, 2.5, 2.5, 2.5}));
  EXPECT_TRUE(array_is(full_like(a, array({7, 8, 9})), int32, {2, 3}, {7, 8, 9, 7, 8, 9}));
  EXPECT_TRUE(array_is(full_like(a, array(1.75f), float16), float16, {2, 3},
                       {1.75, 1.75, 1.75, 1.75, 1.75, 1.75}));
  // _like of a transposed array takes the transposed shape
  EXPECT_TRUE(array_is(zeros_like(transpose(a)), int32, {3, 2}, {0, 0, 0, 0, 0, 0}));
}

TEST(Full, NegativeDimensionsThrow) {
  EXPECT_TRUE(throws_invalid([] { full({2, -1}, 1.0f); }, "[full]"));
  EXPECT_TRUE(throws_invalid([] { full({-2}, array({1, 2})); }, "[full]"));
  EXPECT_TRUE(throws_invalid([] { eye(-1); }, "[eye]"));
  EXPECT_TRUE(throws_invalid([] { eye(2, -3); }, "[eye]"));
  EXPECT_TRUE(throws_invalid([] { tri(-1, 2, 0, float32); }, "[tri]"));
}

// zeros and ones report errors under their own name, not as "[full]".
TEST(Full, ZerosOnesNameThemselves) {
  EXPECT_TRUE(throws_invalid([] { zeros({-1, 2}); }, "[zeros]"));
  EXPECT_TRUE(throws_invalid([] { ones({3, -1}, int32); }, "[ones]"));
}

// ---- eye / identity / tri -------------------------------------------------------------

TEST(Eye, Square) {
  EXPECT_TRUE(array_is(eye(3), float32, {3, 3}, {1, 0, 0, 0, 1, 0, 0, 0, 1}));
  EXPECT_TRUE(array_is(eye(2, int32), int32, {2, 2}, {1, 0, 0, 1}));
  EXPECT_TRUE(array_is(identity(3, float64), float64, {3, 3}, {1, 0, 0, 0, 1, 0, 0, 0, 1}));
  EXPECT_TRUE(array_is(identity(2), float32, {2, 2}, {1, 0, 0, 1}));
  EXPECT_TRUE(array_is(eye(2, bool_), bool_, {2, 2}, {1, 0, 0, 1}));
  EXPECT_TRUE(array_is(eye(0), float32, {0, 0}, {}));
}

TEST(Eye, NonSquareAndOffsets) {
  // values from NumPy
  EXPECT_TRUE(array_is(eye(2, 3), float32, {2, 3}, {1, 0, 0, 0, 1, 0}));
  EXPECT_TRUE(array_is(eye(3, 4, 1), float32, {3, 4}, {0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1}));
  EXPECT_TRUE(array_is(eye(4, 3, -1), float32, {4, 3}, {0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1}));
  EXPECT_TRUE(array_is(eye(2, 3, 5), float32, {2, 3}, {0, 0, 0, 0, 0, 0}));  // off the matrix
  EXPECT_TRUE(array_is(eye(3, 2, -2, int32), int32, {3, 2}, {0, 0, 0, 0, 1, 0}));
}

TEST(Tri, Values) {
  // values from NumPy
  EXPECT_TRUE(array_is(tri(3, 4, 0, float32), float32, {3, 4}, {1, 0, 0, 0, 1, 1, 0, 0, 1, 1, 1, 0}));
  EXPECT_TRUE(array_is(tri(3, 3, -1, int32), int32, {3, 3}, {0, 0, 0, 1, 0, 0, 1, 1, 0}));
  EXPECT_TRUE(array_is(tri(2, 4, 2, float32), float32, {2, 4}, {1, 1, 1, 0, 1, 1, 1, 1}));
  EXPECT_TRUE(array_is(tri(2, bool_), bool_, {2, 2}, {1, 0, 1, 1}));
}

// ---- tril / triu ----------------------------------------------------------------------

array m34() { return reshape(arange(1, 13), {3, 4}); }  // [[1..4], [5..8], [9..12]]

TEST(Tril, Offsets) {
  // values from NumPy
  EXPECT_TRUE(array_is(tril(m34(), -1), int32, {3, 4}, {0, 0, 0, 0, 5, 0, 0, 0, 9, 10, 0, 0}));
  EXPECT_TRUE(array_is(tril(m34()), int32, {3, 4}, {1, 0, 0, 0, 5, 6, 0, 0, 9, 10, 11, 0}));
  EXPECT_TRUE(array_is(tril(m34(), 1), int32, {3, 4}, {1, 2, 0, 0, 5, 6, 7, 0, 9, 10, 11, 12}));
}

TEST(Triu, Offsets) {
  // values from NumPy
  EXPECT_TRUE(array_is(triu(m34(), -1), int32, {3, 4}, {1, 2, 3, 4, 5, 6, 7, 8, 0, 10, 11, 12}));
  EXPECT_TRUE(array_is(triu(m34()), int32, {3, 4}, {1, 2, 3, 4, 0, 6, 7, 8, 0, 0, 11, 12}));
  EXPECT_TRUE(array_is(triu(m34(), 1), int32, {3, 4}, {0, 2, 3, 4, 0, 0, 7, 8, 0, 0, 0, 12}));
}

TEST(TrilTriu, BatchedAndNonContiguous) {
  array b = reshape(arange(1, 19), {2, 3, 3});
  // values from NumPy
  EXPECT_TRUE(array_is(tril(b), int32, {2, 3, 3},
                       {1, 0, 0, 4, 5, 0, 7, 8, 9, 10, 0, 0, 13, 14, 0, 16, 17, 18}));
  EXPECT_TRUE(array_is(triu(b, 1), int32, {2, 3, 3},
                       {0, 2, 3, 0, 0, 6, 0, 0, 0, 0, 11, 12, 0, 0, 15, 0, 0, 0}));
  EXPECT_TRUE(array_is(tril(transpose(m34()), -1), int32, {4, 3}, {0, 0, 0, 2, 0, 0, 3, 7, 0, 4, 8, 12}));
  // float input keeps its dtype
  EXPECT_TRUE(array_is(triu(full({2, 2}, 1.5f)), float32, {2, 2}, {1.5, 1.5, 0, 1.5}));
  // tril + triu(k=1) partitions the matrix
  EXPECT_TRUE(array_is(tril(m34()) + triu(m34(), 1), int32, {3, 4},
                       {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}));
}

TEST(TrilTriu, NeedTwoDims) {
  EXPECT_TRUE(throws_invalid([] { tril(arange(3)); }, "[tril]"));
  EXPECT_TRUE(throws_invalid([] { triu(array(1.0f)); }, "[triu]"));
}

}  // namespace
