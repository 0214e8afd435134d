// Tests of the gathers (take, take_along_axis) and the matrix products
// (matmul, inner, outer). Expected values are hand-computed or come from
// NumPy 1.24 (noted "values from NumPy"); the broadcast batched matmul is
// checked against a naive triple loop written here.
#include <string>
#include <vector>

#include "test_helpers.h"

namespace {

using namespace kiln;
using kiln_test::array_is;
using kiln_test::throws_invalid;
using kiln_test::values;

array m34() { return reshape(arange(12), {3, 4}); }  // [[0..3], [4..7], [8..11]]

array mat() {
  return array({1.5f, -2.0f, 3.0f, 0.5f,  //
                4.0f, 0.25f, -1.0f, 2.0f,  //
                -3.0f, 5.0f, 1.0f, 1.0f},
               {3, 4});
}

// ---- take ----------------------------------------------------------------------------

TEST(Take, AlongAxis) {
  array m = m34();
  // values from NumPy
  EXPECT_TRUE(array_is(take(m, array({3, 0, 3}), 1), int32, {3, 3}, {3, 0, 3, 7, 4, 7, 11, 8, 11}));
  EXPECT_TRUE(array_is(take(m, array({2, 0}), 0), int32, {2, 4}, {8, 9, 10, 11, 0, 1, 2, 3}));
  EXPECT_TRUE(array_is(take(m, array({2, 0}), -2), int32, {2, 4}, {8, 9, 10, 11, 0, 1, 2, 3}));
  EXPECT_TRUE(array_is(take(mat(), array({1}), 1), float32, {3, 1}, {-2.0, 0.25, 5.0}));
  EXPECT_TRUE(array_is(take(m, array({0, 0}, int32), 0), int32, {2, 4}, {0, 1, 2, 3, 0, 1, 2, 3}));
  EXPECT_TRUE(array_is(take(m, zeros({0}, int32), 1), int32, {3, 0}, {}));
}

TEST(Take, IndexDtypes) {
  array m = m34();
  EXPECT_TRUE(array_is(take(m, array({2, 1}, uint8), 1), int32, {3, 2}, {2, 1, 6, 5, 10, 9}));
  EXPECT_TRUE(array_is(take(m, array({2, 1}, int64), 1), int32, {3, 2}, {2, 1, 6, 5, 10, 9}));
  EXPECT_TRUE(array_is(take(m, array({2u, 1u}), 1), int32, {3, 2}, {2, 1, 6, 5, 10, 9}));
}

TEST(Take, Flattened) {
  // values from NumPy
  EXPECT_TRUE(array_is(take(m34(), array({11, 5, 0})), int32, {3}, {11, 5, 0}));
  EXPECT_TRUE(array_is(take(m34(), array({1, 2, 3, 4}, {2, 2})), int32, {2, 2}, {1, 2, 3, 4}));
  // the flattened transpose is [0, 4, 8, 1, 5, 9, ...]
  EXPECT_TRUE(array_is(take(transpose(m34()), array({1, 3})), int32, {2}, {4, 1}));
}

TEST(Take, NegativeIndices) {
  // values from NumPy: np.take(m, [-1, -4], axis=1)
  EXPECT_TRUE(array_is(take(m34(), array({-1, -4}), 1), int32, {3, 2}, {3, 0, 7, 4, 11, 8}));
  EXPECT_TRUE(array_is(take(m34(), array({-1})), int32, {1}, {11}));
}

TEST(Take, IntIndex) {
  // values from NumPy: np.take(m, 2, axis=1) drops the axis
  EXPECT_TRUE(array_is(take(m34(), 2, 1), int32, {3}, {2, 6, 10}));
  EXPECT_TRUE(array_is(take(m34(), 1, 0), int32, {4}, {4, 5, 6, 7}));
  EXPECT_TRUE(array_is(take(m34(), -1, 0), int32, {4}, {8, 9, 10, 11}));
  EXPECT_TRUE(array_is(take(m34(), 7), int32, {}, {7}));
  EXPECT_TRUE(array_is(take(m34(), array(2), 1), int32, {3}, {2, 6, 10}));
}

TEST(Take, MultiDimIndices) {
  // values from NumPy
  EXPECT_TRUE(array_is(take(m34(), array({0, 1, 3, 2}, {2, 2}), 1), int32, {3, 2, 2},
                       {0, 1, 3, 2, 4, 5, 7, 6, 8, 9, 11, 10}));
  EXPECT_TRUE(array_is(take(m34(), array({2, 0}, {2, 1}), 0), int32, {2, 1, 4},
                       {8, 9, 10, 11, 0, 1, 2, 3}));
  // from a 3-d array along the middle axis: t[i, idx[j], k] = 12 i + 4 idx[j] + k
  array t = reshape(arange(24), {2, 3, 4});
  array r = take(t, array({2, 2, 0}, {1, 3}), 1);
  ASSERT_EQ(r.shape(), Shape({2, 1, 3, 4}));
  auto v = values(r);
  EXPECT_EQ(v[((1 * 1 + 0) * 3 + 2) * 4 + 3], 12 * 1 + 4 * 0 + 3);
  EXPECT_EQ(v[((0 * 1 + 0) * 3 + 1) * 4 + 1], 12 * 0 + 4 * 2 + 1);
}

TEST(Take, NonContiguousInput) {
  // values from NumPy: np.take(m.T, [2, 0], axis=1)
  EXPECT_TRUE(array_is(take(transpose(m34()), array({2, 0}), 1), int32, {4, 2}, {8, 0, 9, 1, 10, 2, 11, 3}));
  // m[:, ::2] = [[0, 2], [4, 6], [8, 10]]; take rows 2, 1
  array s = slice(m34(), {0, 0}, {3, 4}, {1, 2});
  EXPECT_TRUE(array_is(take(s, array({2, 1}), 0), int32, {2, 2}, {8, 10, 4, 6}));
}

TEST(Take, OutOfRangeIndicesClamp) {
  // kiln's documented rule (ops.h): negative indices wrap once, then indices
  // are clamped to [0, n - 1]. Along axis 1 (n = 4):
  //   -7 -> -3 -> 0,  9 -> 3,  -5 -> -1 -> 0,  4 -> 3   (hand-computed)
  EXPECT_TRUE(array_is(take(m34(), array({-7, 9, -5, 4}), 1), int32, {3, 4},
                       {0, 3, 0, 3, 4, 7, 4, 7, 8, 11, 8, 11}));
  // flattened (n = 12): 100 -> 11, -13 -> -1 -> 0
  EXPECT_TRUE(array_is(take(m34(), array({100, -13})), int32, {2}, {11, 0}));
  EXPECT_TRUE(array_is(take(m34(), 5, 0), int32, {4}, {8, 9, 10, 11}));
}

TEST(Take, Errors) {
  EXPECT_TRUE(throws_invalid([] { take(m34(), array({0.5f}), 0); }, "[take]"));
  EXPECT_TRUE(throws_invalid([] { take(m34(), array({true, false}), 0); }, "[take]"));
  EXPECT_TRUE(throws_invalid([] { take(m34(), array({0}), 2); }, "[take]"));
  EXPECT_TRUE(throws_invalid([] { take(m34(), array({0}), -3); }, "[take]"));
  EXPECT_TRUE(throws_invalid([] { take(array(1.0f), array({0}), 0); }, "[take]"));
  EXPECT_TRUE(throws_invalid([] { take(zeros({2, 0}), array({0}), 1); }, "[take]"));
}

// ---- take_along_axis ----------------------------------------------------------------------

TEST(TakeAlongAxis, ArgmaxIndices) {
  array a = mat();
  // the max of each row via its argmax (uint32 indices); values from NumPy
  EXPECT_TRUE(array_is(take_along_axis(a, argmax(a, 1, true), 1), float32, {3, 1}, {3.0, 4.0, 5.0}));
  EXPECT_TRUE(array_is(take_along_axis(a, argmin(a, 0, true), 0), float32, {1, 4}, {-3.0, -2.0, -1.0, 0.5}));
}

TEST(TakeAlongAxis, ArgsortLikeIndices) {
  array a = mat();
  // values from NumPy: idx = np.argsort(a, axis=1); np.take_along_axis(a, idx, 1)
  array idx = array({1, 3, 0, 2, 2, 1, 3, 0, 0, 2, 3, 1}, {3, 4});
  EXPECT_TRUE(array_is(take_along_axis(a, idx, 1), float32, {3, 4},
                       {-2.0, 0.5, 1.5, 3.0, -1.0, 0.25, 2.0, 4.0, -3.0, 1.0, 1.0, 5.0}));
  EXPECT_TRUE(array_is(take_along_axis(a, idx, -1), float32, {3, 4},
                       {-2.0, 0.5, 1.5, 3.0, -1.0, 0.25, 2.0, 4.0, -3.0, 1.0, 1.0, 5.0}));
  // values from NumPy: np.take_along_axis(a, [[2, 0, 1, 1]], 0)
  EXPECT_TRUE(array_is(take_along_axis(a, array({2, 0, 1, 1}, {1, 4}), 0), float32, {1, 4},
                       {-3.0, -2.0, -1.0, 2.0}));
}

TEST(TakeAlongAxis, Broadcasting) {
  array a = mat();
  // indices (1, 2) broadcast over the 3 rows; values from NumPy
  EXPECT_TRUE(array_is(take_along_axis(a, array({3, 0}, {1, 2}), 1), float32, {3, 2},
                       {0.5, 1.5, 2.0, 4.0, 1.0, -3.0}));
  // the array (1, 4) broadcast over 3 index rows (hand-computed)
  EXPECT_TRUE(array_is(take_along_axis(array({10, 20, 30, 40}, {1, 4}), array({0, 3, 1}, {3, 1}), 1), int32,
                       {3, 1}, {10, 40, 20}));
}

TEST(TakeAlongAxis, NonContiguousAndNegative) {
  // transpose(m34()) = [[0, 4, 8], [1, 5, 9], [2, 6, 10], [3, 7, 11]]
  EXPECT_TRUE(array_is(take_along_axis(transpose(m34()), array({2, 0, -1, 1}, {4, 1}), 1), int32, {4, 1},
                       {8, 1, 10, 7}));
}

TEST(TakeAlongAxis, Errors) {
  EXPECT_TRUE(throws_invalid([] { take_along_axis(m34(), array({0, 1}), 1); }, "[take_along_axis]"));
  EXPECT_TRUE(throws_invalid([] { take_along_axis(m34(), array({0.0f}, {1, 1}), 1); }, "[take_along_axis]"));
  EXPECT_TRUE(throws_invalid([] { take_along_axis(m34(), array({0}, {1, 1}), 2); }, "[take_along_axis]"));
  EXPECT_TRUE(throws_invalid([] { take_along_axis(m34(), array({0, 0}, {2, 1}), 1); }, "[take_along_axis]"));
}

// ---- matmul ----------------------------------------------------------------------------------

array A23() { return array({1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f}, {2, 3}); }
array B32() { return array({1.0f, -1.0f, 0.5f, 2.0f, -2.0f, 1.0f}, {3, 2}); }

TEST(Matmul, TwoD) {
  // values from NumPy
  EXPECT_TRUE(array_is(matmul(A23(), B32()), float32, {2, 2}, {-4.0, 6.0, -5.5, 12.0}));
  // (B^T A^T) = (A B)^T, with transposed (non-contiguous) operands
  EXPECT_TRUE(array_is(matmul(transpose(B32()), transpose(A23())), float32, {2, 2}, {-4.0, -5.5, 6.0, 12.0}));
  EXPECT_TRUE(array_is(matmul(A23(), eye(3)), float32, {2, 3}, {1, 2, 3, 4, 5, 6}));
  // float64 stays float64; float16 with float32 promotes to float32
  EXPECT_TRUE(array_is(matmul(astype(A23(), float64), astype(B32(), float64)), float64, {2, 2},
                       {-4.0, 6.0, -5.5, 12.0}));
  EXPECT_TRUE(array_is(matmul(astype(A23(), float16), B32()), float32, {2, 2}, {-4.0, 6.0, -5.5, 12.0}));
  // integer with float promotes to float32 (only all-integer inputs are refused)
  EXPECT_TRUE(array_is(matmul(array({1, 2, 3, 4, 5, 6}, {2, 3}), B32()), float32, {2, 2},
                       {-4.0, 6.0, -5.5, 12.0}));
  // an empty inner dimension gives zeros
  EXPECT_TRUE(array_is(matmul(zeros({2, 0}), zeros({0, 3})), float32, {2, 3}, {0, 0, 0, 0, 0, 0}));
}

TEST(Matmul, Batched) {
  array a = astype(reshape(arange(12), {2, 2, 3}), float32);
  array b = astype(reshape(arange(12), {2, 3, 2}), float32) - 5.0f;
  // values from NumPy
  EXPECT_TRUE(array_is(matmul(a, b), float32, {2, 2, 2}, {-5.0, -2.0, -32.0, -20.0, 67.0, 88.0, 94.0, 124.0}));
}

TEST(Matmul, BroadcastBatchDims) {
  // (2, 1, 3, 4) x (5, 4, 2) -> (2, 5, 3, 2); integer-valued floats, so exact
  std::vector<float> av(2 * 3 * 4), bv(5 * 4 * 2);
  for (size_t i = 0; i < av.size(); ++i) av[i] = float(int(i % 7) - 3);
  for (size_t i = 0; i < bv.size(); ++i) bv[i] = float(int(i % 5) - 2);
  array a(av.begin(), {2, 1, 3, 4});
  array b(bv.begin(), {5, 4, 2});
  std::vector<double> expected;
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 5; ++j)
      for (int r = 0; r < 3; ++r)
        for (int c = 0; c < 2; ++c) {
          double s = 0;
          for (int k = 0; k < 4; ++k) s += double(av[(i * 3 + r) * 4 + k]) * double(bv[(j * 4 + k) * 2 + c]);
          expected.push_back(s);
        }
  EXPECT_TRUE(array_is(matmul(a, b), float32, {2, 5, 3, 2}, expected));
  // the same with a transposed right operand: b2 = swapaxes(b', -1, -2), b' of shape (5, 2, 4)
  array bt = swapaxes(b, -1, -2);  // (5, 2, 4)
  EXPECT_TRUE(array_is(matmul(a, swapaxes(bt, -1, -2)), float32, {2, 5, 3, 2}, expected));
}

TEST(Matmul, Vectors) {
  array v = array({1.0f, -1.0f, 2.0f});
  // values from NumPy
  EXPECT_TRUE(array_is(matmul(v, B32()), float32, {2}, {-3.5, -1.0}));
  EXPECT_TRUE(array_is(matmul(A23(), v), float32, {2}, {5.0, 11.0}));
  EXPECT_TRUE(array_is(matmul(v, v), float32, {}, {6.0}));
  array a = astype(reshape(arange(12), {2, 2, 3}), float32);
  EXPECT_TRUE(array_is(matmul(a, v), float32, {2, 2}, {3.0, 9.0, 15.0, 21.0}));
}

TEST(Matmul, Errors) {
  EXPECT_TRUE(throws_invalid([] { matmul(reshape(arange(6), {2, 3}), reshape(arange(6), {3, 2})); },
                             "[matmul]"));
  EXPECT_TRUE(throws_invalid([] { matmul(array(1.0f), A23()); }, "[matmul]"));
  EXPECT_TRUE(throws_invalid([] { matmul(ones({2, 2}, bool_), ones({2, 2}, bool_)); }, "[matmul]"));
  EXPECT_TRUE(throws_invalid([] { matmul(zeros({2, 3, 4}), zeros({3, 4, 2})); }, "[matmul]"));  // batch
  EXPECT_TRUE(throws_invalid([] { matmul(array({1.0f, 2.0f, 3.0f}), A23()); }, "[matmul]"));  // (3) x (2,3)
  // The message names both shapes.
  try {
    matmul(zeros({2, 3}), zeros({4, 2}));
    ADD_FAILURE() << "matmul of (2,3) and (4,2) did not throw";
  } catch (const std::invalid_argument& e) {
    std::string msg = e.what();
    EXPECT_EQ(msg.rfind("[matmul]", 0), 0u) << msg;
    EXPECT_NE(msg.find("(2,3)"), std::string::npos) << msg;
    EXPECT_NE(msg.find("(4,2)"), std::string::npos) << msg;
  }
}

// ---- inner / outer ------------------------------------------------------------------------------

TEST(Inner, Values) {
  EXPECT_TRUE(array_is(inner(array({1.0f, 2.0f, 3.0f}), array({4.0f, 5.0f, 6.0f})), float32, {}, {32}));
  array c = array({1.0f, 0.0f, -1.0f, 2.0f, 2.0f, 2.0f, 0.5f, 1.0f, 1.5f, 3.0f, -3.0f, 0.0f}, {4, 3});
  // values from NumPy: np.inner(A, C)
  EXPECT_TRUE(array_is(inner(A23(), c), float32, {2, 4}, {-2.0, 12.0, 7.0, -3.0, -2.0, 30.0, 16.0, -3.0}));
  // integers; values from NumPy
  EXPECT_TRUE(array_is(inner(array({1, 2, 3, 4}, {2, 2}), array({1, 1, 2, -1, 0, 3}, {3, 2})), int32, {2, 3},
                       {3, 0, 6, 7, 2, 12}));
  // 3-d with 1-d; values from NumPy
  EXPECT_TRUE(array_is(inner(astype(reshape(arange(12), {2, 2, 3}), float32), array({1.0f, 0.0f, -1.0f})),
                       float32, {2, 2}, {-2, -2, -2, -2}));
  // a scalar operand multiplies
  EXPECT_TRUE(array_is(inner(array(2.0f), array({1.0f, 3.0f})), float32, {2}, {2, 6}));
  // transposed operand: inner(A^T^T, c) is the same as inner(A, c)
  EXPECT_TRUE(array_is(inner(transpose(transpose(A23())), transpose(transpose(c))), float32, {2, 4},
                       {-2.0, 12.0, 7.0, -3.0, -2.0, 30.0, 16.0, -3.0}));
  EXPECT_TRUE(throws_invalid([] { inner(array({1.0f, 2.0f}), array({1.0f, 2.0f, 3.0f})); }, "[inner]"));
}

TEST(Outer, Values) {
  // values from NumPy
  EXPECT_TRUE(array_is(outer(array({1.0f, 2.0f, 3.0f}), array({4.0f, 5.0f})), float32, {3, 2},
                       {4, 5, 8, 10, 12, 15}));
  // multi-dimensional inputs are flattened
  EXPECT_TRUE(array_is(outer(array({1, 2, 3, 4}, {2, 2}), array({1, -1})), int32, {4, 2},
                       {1, -1, 2, -2, 3, -3, 4, -4}));
  EXPECT_TRUE(array_is(outer(transpose(array({1, 2, 3, 4}, {2, 2})), array({1})), int32, {4, 1}, {1, 3, 2, 4}));
  EXPECT_TRUE(array_is(outer(array({1, 2}), array({0.5f})), float32, {2, 1}, {0.5, 1.0}));
}

}  // namespace

// ---- products and diagonals (composites; expected values from NumPy 1.24) -------

TEST(Products, TensordotAgainstNumpy) {
  array a = reshape(arange(24.0f), {2, 3, 4}), b = reshape(arange(12.0f), {4, 3});
  EXPECT_TRUE(array_is(tensordot(a, b, {2}, {0}), float32, {2, 3, 3},
                       {42, 48, 54, 114, 136, 158, 186, 224, 262, 258, 312, 366, 330, 400, 470, 402, 488, 574}));
  array c = reshape(arange(24.0f), {3, 4, 2}) * 0.5f;
  EXPECT_TRUE(array_is(tensordot(a, c), float32, {2, 2}, {506, 539, 1298, 1403}));
  EXPECT_TRUE(array_is(tensordot(a, c, {1, 0}, {0, 2}), float32, {4, 4},
                       {328, 388, 448, 508, 353.5, 419.5, 485.5, 551.5, 379, 451, 523, 595, 404.5, 482.5, 560.5,
                        638.5}));
  EXPECT_TRUE(array_is(tensordot(a, b, 0), float32, {2, 3, 4, 4, 3}, values(outer(a, b))));
  EXPECT_TRUE(throws_invalid([&] { tensordot(a, b, {2}, {1}); }, "[tensordot]"));
  EXPECT_TRUE(throws_invalid([&] { tensordot(a, b, {2, 1}, {0}); }, "[tensordot]"));
  EXPECT_TRUE(throws_invalid([&] { tensordot(a, b, 3); }, "[tensordot]"));
  EXPECT_TRUE(throws_invalid([&] { tensordot(a, b, -1); }, "[tensordot]"));
}

TEST(Products, TensordotAndKronRankZeroAndEmpty) {
  // np.tensordot(2.0, 3.0, axes=0) -> 6.0; np.tensordot(2.0, [1, 2], 0) -> [2, 4]
  EXPECT_TRUE(array_is(tensordot(array(2.0f), array(3.0f), 0), float32, {}, {6}));
  EXPECT_TRUE(array_is(tensordot(array(2.0f), array({1.0f, 2.0f}), 0), float32, {2}, {2, 4}));
  // np.tensordot(np.zeros((2,0)), np.zeros((0,3)), 1) -> zeros((2, 3)) (an
  // empty contraction sums nothing); np.tensordot(zeros((0,3)), ones((3,4)), 1).shape == (0, 4)
  EXPECT_TRUE(array_is(tensordot(zeros({2, 0}), zeros({0, 3}), 1), float32, {2, 3}, {0, 0, 0, 0, 0, 0}));
  EXPECT_TRUE(array_is(tensordot(zeros({0, 3}), ones({3, 4}), 1), float32, {0, 4}, {}));
  EXPECT_TRUE(array_is(tensordot(zeros({0, 3}), ones({3, 0}), {1}, {0}), float32, {0, 0}, {}));
  EXPECT_TRUE(throws_invalid([] { tensordot(array(2.0f), array(3.0f), 1); }, "[tensordot]"));
  // np.kron(2, 3) -> 6; np.kron(np.array(2), [1, 2]) -> [2, 4];
  // np.kron([[1, 2]], 3.0) -> [[3, 6]]; np.kron(zeros((0,2)), ones((3,1))).shape == (0, 2)
  EXPECT_TRUE(array_is(kron(array(2), array(3)), int32, {}, {6}));
  EXPECT_TRUE(array_is(kron(array(2), array({1, 2})), int32, {2}, {2, 4}));
  EXPECT_TRUE(array_is(kron(array({1.0f, 2.0f}, {1, 2}), array(3.0f)), float32, {1, 2}, {3, 6}));
  EXPECT_TRUE(array_is(kron(zeros({0, 2}), ones({3, 1})), float32, {0, 2}, {}));
}

TEST(Products, KronAndAddmm) {
  EXPECT_TRUE(array_is(kron(array({1, 2, 3, 4}, {2, 2}), array({0, 5, 6, 7}, {2, 2})), int32, {4, 4},
                       {0, 5, 0, 10, 6, 7, 12, 14, 0, 15, 0, 20, 18, 21, 24, 28}));
  EXPECT_TRUE(array_is(kron(array({1, 2, 3}), array({1, 10}, {1, 2})), int32, {1, 6}, {1, 10, 2, 20, 3, 30}));
  array a = reshape(arange(6.0f), {2, 3}), b = reshape(arange(6.0f), {3, 2}), c = array({1.0f, -1.0f});
  // a @ b = [[10, 13], [28, 40]]
  EXPECT_TRUE(array_is(addmm(c, a, b), float32, {2, 2}, {11, 12, 29, 39}));
  EXPECT_TRUE(array_is(addmm(c, a, b, 2.0f, -3.0f), float32, {2, 2}, {17, 29, 53, 83}));
  array nan_c = full({2, 2}, std::nanf(""));
  EXPECT_TRUE(array_is(addmm(nan_c, a, b, 1.0f, 0.0f), float32, {2, 2}, {10, 13, 28, 40})) << "beta 0 ignores c";
  EXPECT_EQ(addmm(astype(c, float16), astype(a, float16), astype(b, float16)).dtype(), float16);
}

TEST(Diagonals, DiagonalDiagTrace) {
  array m = reshape(arange(12.0f), {3, 4});
  EXPECT_TRUE(array_is(diagonal(m), float32, {3}, {0, 5, 10}));
  EXPECT_TRUE(array_is(diagonal(m, 1), float32, {3}, {1, 6, 11}));
  EXPECT_TRUE(array_is(diagonal(m, 2), float32, {2}, {2, 7}));
  EXPECT_TRUE(array_is(diagonal(m, -1), float32, {2}, {4, 9}));
  EXPECT_TRUE(array_is(diagonal(m, 5), float32, {0}, {}));
  EXPECT_TRUE(array_is(diagonal(m, -3), float32, {0}, {}));
  array x = reshape(arange(24.0f), {2, 3, 4});
  EXPECT_TRUE(array_is(diagonal(x, 1, 1, 2), float32, {2, 3}, {1, 6, 11, 13, 18, 23}));
  EXPECT_TRUE(array_is(diagonal(x, -1, 2, 1), float32, {2, 3}, {1, 6, 11, 13, 18, 23}));
  EXPECT_TRUE(array_is(trace(x, 0, 0, 2), float32, {3}, {13, 21, 29}));
  EXPECT_TRUE(array_is(trace(m), float32, {}, {15}));
  EXPECT_TRUE(array_is(trace(m, 1, 0, 1, int32), int32, {}, {18}));
  EXPECT_TRUE(array_is(diag(array({1.0f, std::nanf(""), 3.0f}), 1), float32, {4, 4},
                       {0, 1, 0, 0, 0, 0, NAN, 0, 0, 0, 0, 3, 0, 0, 0, 0}))
      << "off-diagonal zeros stay zero next to a nan";
  EXPECT_TRUE(array_is(diag(array({4, 5}), -1), int32, {3, 3}, {0, 0, 0, 4, 0, 0, 0, 5, 0}));
  EXPECT_TRUE(array_is(diag(m, 1), float32, {3}, {1, 6, 11}));
  EXPECT_TRUE(throws_invalid([&] { diagonal(array({1, 2})); }, "[diagonal]"));
  EXPECT_TRUE(throws_invalid([&] { diagonal(m, 0, 1, -1); }, "[diagonal]"));
  EXPECT_TRUE(throws_invalid([&] { diag(x); }, "[diag]"));
}

// They are composites, so autodiff comes from their parts: d tr(X X) / dX
// = 2 X^T, and the gradient of sum(diag(v)) is ones.
TEST(Diagonals, Gradients) {
  array x = reshape(arange(9.0f) * 0.5f - 1.0f, {3, 3});
  auto f = [](const array& a) { return trace(matmul(a, a)); };
  EXPECT_TRUE(array_is(grad(std::function<array(const array&)>(f))(x), float32, {3, 3},
                       values(transpose(x) * 2.0f), 1e-6));
  auto g = [](const array& v) { return sum(diag(v, -2) * 3.0f); };
  EXPECT_TRUE(array_is(grad(std::function<array(const array&)>(g))(array({1.0f, 2.0f})), float32, {2}, {3, 3}));
}

TEST(Diagonals, Vmap) {
  array batch = reshape(arange(18.0f), {2, 3, 3});
  auto tr = vmap(std::function<array(const array&)>([](const array& m) { return trace(m, 1, 0, 1); }));
  EXPECT_TRUE(array_is(tr(batch), float32, {2}, {1 + 5, 10 + 14}));
  auto kr = vmap(std::function<array(const array&)>([](const array& v) { return kron(v, array({1.0f, -1.0f})); }));
  EXPECT_TRUE(array_is(kr(array({1.0f, 2.0f, 3.0f, 4.0f}, {2, 2})), float32, {2, 4}, {1, -1, 2, -2, 3, -3, 4, -4}));
}
