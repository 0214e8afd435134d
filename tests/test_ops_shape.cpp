// Tests of the shape and data-movement ops: reshape, flatten, squeeze,
// expand_dims, transpose, swapaxes, moveaxis, broadcast_to,
// broadcast_arrays, slice, slice_update, split, concatenate, stack, repeat,
// tile and pad. Expected values are hand-computed (most inputs are aranges)
// or come from NumPy 1.24 (noted "values from NumPy").
#include "test_helpers.h"

namespace {

using namespace kiln;
using kiln_test::array_is;
using kiln_test::throws_invalid;

array iota(const Shape& s) {  // arange(size).reshape(s), int32
  int n = 1;
  for (auto d : s) n *= d;
  return reshape(arange(n), s);
}

// ---- reshape / flatten -----------------------------------------------------------------

TEST(Reshape, Basic) {
  array a = arange(6);
  EXPECT_TRUE(array_is(reshape(a, {2, 3}), int32, {2, 3}, {0, 1, 2, 3, 4, 5}));
  EXPECT_TRUE(array_is(reshape(a, {3, 1, 2}), int32, {3, 1, 2}, {0, 1, 2, 3, 4, 5}));
  EXPECT_TRUE(array_is(reshape(array(5.0f), {1, 1}), float32, {1, 1}, {5}));
  EXPECT_TRUE(array_is(reshape(array({7.0f}), {}), float32, {}, {7}));
  EXPECT_TRUE(array_is(reshape(zeros({0, 3}), {3, 0, 2}), float32, {3, 0, 2}, {}));
}

TEST(Reshape, InferredDimension) {
  array a = arange(12);
  EXPECT_TRUE(array_is(reshape(a, {-1}), int32, {12}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}));
  EXPECT_TRUE(array_is(reshape(a, {2, -1}), int32, {2, 6}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}));
  EXPECT_TRUE(array_is(reshape(a, {-1, 2, 3}), int32, {2, 2, 3}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}));
  EXPECT_TRUE(array_is(reshape(zeros({0, 4}), {-1, 2}), float32, {0, 2}, {}));
}

TEST(Reshape, NonContiguousInputIsReadRowMajor) {
  // transpose of [[0, 1, 2], [3, 4, 5]] is [[0, 3], [1, 4], [2, 5]]
  array t = transpose(iota({2, 3}));
  EXPECT_TRUE(array_is(reshape(t, {-1}), int32, {6}, {0, 3, 1, 4, 2, 5}));
  EXPECT_TRUE(array_is(reshape(t, {2, 3}), int32, {2, 3}, {0, 3, 1, 4, 2, 5}));
  // arange(10)[::3] = [0, 3, 6, 9]
  array s = slice(arange(10), {0}, {10}, {3});
  EXPECT_TRUE(array_is(reshape(s, {2, 2}), int32, {2, 2}, {0, 3, 6, 9}));
}

TEST(Reshape, Errors) {
  array a = arange(6);
  EXPECT_TRUE(throws_invalid([&] { reshape(a, {4}); }, "[reshape]"));
  EXPECT_TRUE(throws_invalid([&] { reshape(a, {4, -1}); }, "[reshape]"));  // 6 % 4 != 0
  EXPECT_TRUE(throws_invalid([&] { reshape(a, {-1, -1}); }, "[reshape]"));
  EXPECT_TRUE(throws_invalid([&] { reshape(a, {-2, -3}); }, "[reshape]"));
  EXPECT_TRUE(throws_invalid([&] { reshape(a, {0, -1}); }, "[reshape]"));
}

TEST(Flatten, Ranges) {
  array a = iota({2, 3, 4});
  array f = flatten(a);
  EXPECT_EQ(f.shape(), Shape({24}));
  EXPECT_EQ(kiln_test::values(f)[23], 23.0);
  EXPECT_EQ(flatten(a, 1).shape(), Shape({2, 12}));
  EXPECT_EQ(flatten(a, 0, 1).shape(), Shape({6, 4}));
  EXPECT_EQ(flatten(a, -2, -1).shape(), Shape({2, 12}));
  EXPECT_EQ(flatten(a, 1, 1).shape(), Shape({2, 3, 4}));
  EXPECT_TRUE(array_is(flatten(array(3)), int32, {1}, {3}));
  // flattening a transposed array reads it row-major
  EXPECT_TRUE(array_is(flatten(transpose(iota({2, 3}))), int32, {6}, {0, 3, 1, 4, 2, 5}));
}

TEST(Flatten, Errors) {
  array a = iota({2, 3, 4});
  EXPECT_TRUE(throws_invalid([&] { flatten(a, 2, 1); }, "[flatten]"));
  EXPECT_TRUE(throws_invalid([&] { flatten(a, 3, 5); }, "[flatten]"));
  EXPECT_TRUE(throws_invalid([&] { flatten(a, 0, -4); }, "[flatten]"));
}

// As MLX, axes past either end are clamped (issue 9, item 12).
TEST(Flatten, ClampsAxesLikeMlx) {
  array a = iota({2, 3, 4});
  EXPECT_EQ(flatten(a, 1, 3).shape(), Shape({2, 12}));
  EXPECT_EQ(flatten(a, 0, 3).shape(), Shape({24}));
  EXPECT_EQ(flatten(a, -4).shape(), Shape({24}));
  EXPECT_EQ(flatten(a, -5, 1).shape(), Shape({6, 4}));
}

// ---- squeeze / expand_dims ------------------------------------------------------------

TEST(Squeeze, AllOneAndSeveral) {
  array a = reshape(arange(6), {1, 3, 1, 2});
  EXPECT_TRUE(array_is(squeeze(a), int32, {3, 2}, {0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(squeeze(a, 0).shape(), Shape({3, 1, 2}));
  EXPECT_EQ(squeeze(a, -2).shape(), Shape({1, 3, 2}));
  EXPECT_EQ(squeeze(a, {0, 2}).shape(), Shape({3, 2}));
  EXPECT_EQ(squeeze(array({1.0f}, {1, 1})).shape(), Shape({}));
  EXPECT_EQ(squeeze(arange(3)).shape(), Shape({3}));  // nothing to squeeze
}

TEST(Squeeze, Errors) {
  array a = reshape(arange(6), {1, 3, 1, 2});
  EXPECT_TRUE(throws_invalid([&] { squeeze(a, 1); }, "[squeeze]"));
  EXPECT_TRUE(throws_invalid([&] { squeeze(a, 4); }, "[squeeze]"));
  EXPECT_TRUE(throws_invalid([&] { squeeze(a, {0, 0}); }, "[squeeze]"));
}

TEST(ExpandDims, Axes) {
  array a = iota({2, 3});
  EXPECT_TRUE(array_is(expand_dims(a, 0), int32, {1, 2, 3}, {0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(expand_dims(a, -1).shape(), Shape({2, 3, 1}));
  EXPECT_EQ(expand_dims(a, 1).shape(), Shape({2, 1, 3}));
  EXPECT_EQ(expand_dims(a, {0, 3}).shape(), Shape({1, 2, 3, 1}));
  EXPECT_EQ(expand_dims(a, {0, -1}).shape(), Shape({1, 2, 3, 1}));  // axes index the output
  EXPECT_EQ(expand_dims(a, {1, 2}).shape(), Shape({2, 1, 1, 3}));
  EXPECT_EQ(expand_dims(array(1.0f), 0).shape(), Shape({1}));
  EXPECT_TRUE(array_is(expand_dims(transpose(a), 1), int32, {3, 1, 2}, {0, 3, 1, 4, 2, 5}));
}

TEST(ExpandDims, Errors) {
  array a = iota({2, 3});
  EXPECT_TRUE(throws_invalid([&] { expand_dims(a, 3); }, "[expand_dims]"));
  EXPECT_TRUE(throws_invalid([&] { expand_dims(a, -4); }, "[expand_dims]"));
  EXPECT_TRUE(throws_invalid([&] { expand_dims(a, {1, 1}); }, "[expand_dims]"));
}

// ---- transpose / swapaxes / moveaxis ----------------------------------------------------

TEST(Transpose, DefaultAndAxes) {
  EXPECT_TRUE(array_is(transpose(iota({2, 3})), int32, {3, 2}, {0, 3, 1, 4, 2, 5}));
  array t = iota({2, 3, 4});
  // values from NumPy: np.arange(24).reshape(2, 3, 4).transpose(1, 0, 2)
  EXPECT_TRUE(array_is(transpose(t, {1, 0, 2}), int32, {3, 2, 4},
                       {0, 1, 2, 3, 12, 13, 14, 15, 4, 5, 6, 7, 16, 17, 18, 19, 8, 9, 10, 11, 20, 21, 22, 23}));
  EXPECT_TRUE(array_is(transpose(t, {-2, 0, -1}), int32, {3, 2, 4},
                       {0, 1, 2, 3, 12, 13, 14, 15, 4, 5, 6, 7, 16, 17, 18, 19, 8, 9, 10, 11, 20, 21, 22, 23}));
  // default reverses all axes: element [k][j][i] = t[i][j][k] = 12 i + 4 j + k
  array r = transpose(t);
  EXPECT_EQ(r.shape(), Shape({4, 3, 2}));
  auto v = kiln_test::values(r);
  EXPECT_EQ(v[(3 * 3 + 2) * 2 + 1], 12 * 1 + 4 * 2 + 3);
  EXPECT_EQ(v[(1 * 3 + 0) * 2 + 1], 12 * 1 + 4 * 0 + 1);
  // transposing twice is the identity
  EXPECT_TRUE(array_is(transpose(transpose(iota({2, 3}))), int32, {2, 3}, {0, 1, 2, 3, 4, 5}));
  EXPECT_TRUE(array_is(transpose(array({1.5f, 2.5f})), float32, {2}, {1.5, 2.5}));
}

TEST(Transpose, Errors) {
  array t = iota({2, 3, 4});
  EXPECT_TRUE(throws_invalid([&] { transpose(t, {0, 0, 1}); }, "[transpose]"));
  EXPECT_TRUE(throws_invalid([&] { transpose(t, {0, -3, 1}); }, "[transpose]"));  // -3 is 0
  EXPECT_TRUE(throws_invalid([&] { transpose(t, {1, 0}); }, "[transpose]"));
  EXPECT_TRUE(throws_invalid([&] { transpose(t, {0, 1, 2, 3}); }, "[transpose]"));
  EXPECT_TRUE(throws_invalid([&] { transpose(t, {0, 1, 3}); }, "[transpose]"));
}

TEST(SwapMoveAxis, Values) {
  array t = iota({2, 3, 4});
  // values from NumPy
  EXPECT_TRUE(array_is(swapaxes(t, 0, 2), int32, {4, 3, 2},
                       {0, 12, 4, 16, 8, 20, 1, 13, 5, 17, 9, 21, 2, 14, 6, 18, 10, 22, 3, 15, 7, 19, 11, 23}));
  EXPECT_TRUE(array_is(swapaxes(t, -1, 0), int32, {4, 3, 2},
                       {0, 12, 4, 16, 8, 20, 1, 13, 5, 17, 9, 21, 2, 14, 6, 18, 10, 22, 3, 15, 7, 19, 11, 23}));
  EXPECT_TRUE(array_is(moveaxis(t, 0, -1), int32, {3, 4, 2},
                       {0, 12, 1, 13, 2, 14, 3, 15, 4, 16, 5, 17, 6, 18, 7, 19, 8, 20, 9, 21, 10, 22, 11, 23}));
  EXPECT_TRUE(array_is(moveaxis(t, 2, 0), int32, {4, 2, 3},
                       {0, 4, 8, 12, 16, 20, 1, 5, 9, 13, 17, 21, 2, 6, 10, 14, 18, 22, 3, 7, 11, 15, 19, 23}));
  EXPECT_EQ(moveaxis(t, 1, 1).shape(), Shape({2, 3, 4}));
  EXPECT_EQ(swapaxes(t, 1, 1).shape(), Shape({2, 3, 4}));
  EXPECT_TRUE(throws_invalid([&] { swapaxes(t, 0, 3); }, "[swapaxes]"));
  EXPECT_TRUE(throws_invalid([&] { moveaxis(t, -4, 0); }, "[moveaxis]"));
  EXPECT_TRUE(throws_invalid([&] { moveaxis(t, 0, 3); }, "[moveaxis]"));
}

// ---- broadcasting ----------------------------------------------------------------------

TEST(BroadcastTo, Values) {
  EXPECT_TRUE(array_is(broadcast_to(array({1, 2, 3}), {2, 3}), int32, {2, 3}, {1, 2, 3, 1, 2, 3}));
  EXPECT_TRUE(array_is(broadcast_to(array({1.0f, 2.0f}, {2, 1}), {2, 3}), float32, {2, 3},
                       {1, 1, 1, 2, 2, 2}));
  EXPECT_TRUE(array_is(broadcast_to(array(4), {2, 2}), int32, {2, 2}, {4, 4, 4, 4}));
  EXPECT_TRUE(array_is(broadcast_to(array({1, 2}, {2, 1}), {2, 2, 0}), int32, {2, 2, 0}, {}));
  // from a transposed array: transpose(iota(2, 1)) is [[0, 1]]
  EXPECT_TRUE(array_is(broadcast_to(transpose(iota({2, 1})), {3, 2}), int32, {3, 2}, {0, 1, 0, 1, 0, 1}));
}

TEST(BroadcastTo, Errors) {
  EXPECT_TRUE(throws_invalid([] { broadcast_to(array({1, 2, 3}), {4}); }, "[broadcast_to]"));
  EXPECT_TRUE(throws_invalid([] { broadcast_to(array({1, 2, 3}), {3, 2}); }, "[broadcast_to]"));
  EXPECT_TRUE(throws_invalid([] { broadcast_to(iota({2, 3}), {3}); }, "[broadcast_to]"));  // rank down
  EXPECT_TRUE(throws_invalid([] { broadcast_to(array(1), {2, -1}); }, "[broadcast_to]"));
}

TEST(BroadcastArrays, Values) {
  auto out = broadcast_arrays({array({1, 2, 3}, {3, 1}), array({10.0f, 20.0f}), array(7)});
  ASSERT_EQ(out.size(), 3u);
  EXPECT_TRUE(array_is(out[0], int32, {3, 2}, {1, 1, 2, 2, 3, 3}));
  EXPECT_TRUE(array_is(out[1], float32, {3, 2}, {10, 20, 10, 20, 10, 20}));  // dtypes kept
  EXPECT_TRUE(array_is(out[2], int32, {3, 2}, {7, 7, 7, 7, 7, 7}));
  EXPECT_TRUE(broadcast_arrays({}).empty());
  EXPECT_TRUE(throws_invalid([] { broadcast_arrays({arange(3), arange(4)}); }, "[broadcast_arrays]"));
}

// ---- slice -------------------------------------------------------------------------------

TEST(Slice, StartStopStrides) {
  array a = arange(10);
  // values from NumPy
  EXPECT_TRUE(array_is(slice(a, {2}, {5}), int32, {3}, {2, 3, 4}));
  EXPECT_TRUE(array_is(slice(a, {1}, {9}, {3}), int32, {3}, {1, 4, 7}));
  EXPECT_TRUE(array_is(slice(a, {-3}, {10}), int32, {3}, {7, 8, 9}));
  array m = iota({3, 4});
  EXPECT_TRUE(array_is(slice(m, {1, 0}, {3, 4}, {1, 2}), int32, {2, 2}, {4, 6, 8, 10}));
  EXPECT_TRUE(array_is(slice(m, {0, 1}, {2, 3}), int32, {2, 2}, {1, 2, 5, 6}));
}

TEST(Slice, NegativeStrides) {
  array a = arange(10);
  // a[::-1], a[5:1:-2], a[-1:-100:-4]; values from NumPy
  EXPECT_TRUE(array_is(slice(a, {-1}, {-11}, {-1}), int32, {10}, {9, 8, 7, 6, 5, 4, 3, 2, 1, 0}));
  EXPECT_TRUE(array_is(slice(a, {9}, {-100}, {-1}), int32, {10}, {9, 8, 7, 6, 5, 4, 3, 2, 1, 0}));
  EXPECT_TRUE(array_is(slice(a, {5}, {1}, {-2}), int32, {2}, {5, 3}));
  EXPECT_TRUE(array_is(slice(a, {-1}, {-100}, {-4}), int32, {3}, {9, 5, 1}));
  // m[::-1, 3:0:-2]; values from NumPy
  EXPECT_TRUE(array_is(slice(iota({3, 4}), {2, 3}, {-4, 0}, {-1, -2}), int32, {3, 2},
                       {11, 9, 7, 5, 3, 1}));
}

TEST(Slice, OutOfRangeBoundsClamp) {
  array a = arange(10);
  // a[2:100], a[-100:3], a[100:0:-3]; values from NumPy
  EXPECT_TRUE(array_is(slice(a, {2}, {100}), int32, {8}, {2, 3, 4, 5, 6, 7, 8, 9}));
  EXPECT_TRUE(array_is(slice(a, {-100}, {3}), int32, {3}, {0, 1, 2}));
  EXPECT_TRUE(array_is(slice(a, {100}, {0}, {-3}), int32, {3}, {9, 6, 3}));
}

TEST(Slice, EmptyResults) {
  array a = arange(10);
  EXPECT_TRUE(array_is(slice(a, {7}, {2}), int32, {0}, {}));
  EXPECT_TRUE(array_is(slice(a, {2}, {7}, {-1}), int32, {0}, {}));
  EXPECT_TRUE(array_is(slice(a, {10}, {20}), int32, {0}, {}));
  EXPECT_TRUE(array_is(slice(iota({3, 4}), {0, 2}, {3, 2}), int32, {3, 0}, {}));
}

TEST(Slice, OfNonContiguousInputs) {
  // np.arange(12).reshape(3, 4).T[1:3, ::-2]; values from NumPy
  EXPECT_TRUE(array_is(slice(transpose(iota({3, 4})), {1, -1}, {3, -4}, {1, -2}), int32, {2, 2},
                       {9, 1, 10, 2}));
  // slice of a slice: arange(10)[1::2][::-1] = [9, 7, 5, 3, 1]
  array s = slice(slice(arange(10), {1}, {10}, {2}), {-1}, {-6}, {-1});
  EXPECT_TRUE(array_is(s, int32, {5}, {9, 7, 5, 3, 1}));
}

TEST(Slice, Errors) {
  array m = iota({3, 4});
  EXPECT_TRUE(throws_invalid([&] { slice(m, {0}, {2}); }, "[slice]"));
  EXPECT_TRUE(throws_invalid([&] { slice(m, {0, 0}, {2, 2}, {1}); }, "[slice]"));
  EXPECT_TRUE(throws_invalid([&] { slice(m, {0, 0}, {2, 2}, {1, 0}); }, "[slice]"));
}

// ---- slice_update -------------------------------------------------------------------------

TEST(SliceUpdate, Values) {
  array z = zeros({3, 4}, int32);
  // values from NumPy: s[1:3, 1:3] = [[1, 2], [3, 4]]
  EXPECT_TRUE(array_is(slice_update(z, array({1, 2, 3, 4}, {2, 2}), {1, 1}, {3, 3}), int32, {3, 4},
                       {0, 0, 0, 0, 0, 1, 2, 0, 0, 3, 4, 0}));
  // the source is unchanged (arrays are values)
  EXPECT_TRUE(array_is(z, int32, {3, 4}, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
}

TEST(SliceUpdate, StridedBroadcastAndCast) {
  // values from NumPy: s = arange(12).reshape(3, 4); s[:, ::2] = [[-1], [-2], [-3]]
  EXPECT_TRUE(array_is(slice_update(iota({3, 4}), array({-1, -2, -3}, {3, 1}), {0, 0}, {3, 4}, {1, 2}),
                       int32, {3, 4}, {-1, 1, -1, 3, -2, 5, -2, 7, -3, 9, -3, 11}));
  // values from NumPy: s = arange(10); s[8:2:-3] = [100, 200]
  EXPECT_TRUE(array_is(slice_update(arange(10), array({100, 200}), {8}, {2}, {-3}), int32, {10},
                       {0, 1, 2, 3, 4, 200, 6, 7, 100, 9}));
  // a scalar update broadcasts; a float update is cast to the source dtype
  EXPECT_TRUE(array_is(slice_update(zeros({4}), array(2.5f), {1}, {3}), float32, {4}, {0, 2.5, 2.5, 0}));
  EXPECT_TRUE(array_is(slice_update(arange(4), array(7.9f), {0}, {1}), int32, {4}, {7, 1, 2, 3}));
  // the source may be non-contiguous: transpose(iota(2, 3)) = [[0, 3], [1, 4], [2, 5]]
  EXPECT_TRUE(array_is(slice_update(transpose(iota({2, 3})), array({-1, -2}), {1, 0}, {2, 2}), int32,
                       {3, 2}, {0, 3, -1, -2, 2, 5}));
}

TEST(SliceUpdate, Errors) {
  EXPECT_TRUE(throws_invalid([] { slice_update(zeros({4}), array({1.0f, 2.0f, 3.0f}), {0}, {2}); },
                             "[slice_update]"));
  EXPECT_TRUE(throws_invalid([] { slice_update(zeros({4}), array(1.0f), {0, 0}, {2, 2}); },
                             "[slice_update]"));
}

// ---- split ----------------------------------------------------------------------------------

TEST(Split, NumSplits) {
  auto parts = split(iota({2, 4}), 2, 1);
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_TRUE(array_is(parts[0], int32, {2, 2}, {0, 1, 4, 5}));
  EXPECT_TRUE(array_is(parts[1], int32, {2, 2}, {2, 3, 6, 7}));
  auto rows = split(iota({3, 2}), 3);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_TRUE(array_is(rows[2], int32, {1, 2}, {4, 5}));
  auto neg = split(iota({2, 4}), 4, -1);
  ASSERT_EQ(neg.size(), 4u);
  EXPECT_TRUE(array_is(neg[3], int32, {2, 1}, {3, 7}));
}

TEST(Split, Indices) {
  auto p = split(arange(10), Shape{3, 7});
  ASSERT_EQ(p.size(), 3u);
  EXPECT_TRUE(array_is(p[0], int32, {3}, {0, 1, 2}));
  EXPECT_TRUE(array_is(p[1], int32, {4}, {3, 4, 5, 6}));
  EXPECT_TRUE(array_is(p[2], int32, {3}, {7, 8, 9}));
  auto q = split(arange(6), Shape{-2});  // negative index counts from the end
  ASSERT_EQ(q.size(), 2u);
  EXPECT_TRUE(array_is(q[0], int32, {4}, {0, 1, 2, 3}));
  EXPECT_TRUE(array_is(q[1], int32, {2}, {4, 5}));
  // split of a transposed array along axis 1: transpose(iota(3, 2)) = [[0, 2, 4], [1, 3, 5]]
  auto r = split(transpose(iota({3, 2})), Shape{1}, 1);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_TRUE(array_is(r[0], int32, {2, 1}, {0, 1}));
  EXPECT_TRUE(array_is(r[1], int32, {2, 2}, {2, 4, 3, 5}));
}

TEST(Split, Errors) {
  EXPECT_TRUE(throws_invalid([] { split(arange(10), 3); }, "[split]"));
  EXPECT_TRUE(throws_invalid([] { split(arange(10), 0); }, "[split]"));
  EXPECT_TRUE(throws_invalid([] { split(arange(10), 2, 1); }, "[split]"));
}

// ---- concatenate / stack -------------------------------------------------------------------------

TEST(Concatenate, Axes) {
  array x = array({1, 2, 3, 4}, {2, 2});
  EXPECT_TRUE(array_is(concatenate({x, array({5, 6}, {1, 2})}, 0), int32, {3, 2}, {1, 2, 3, 4, 5, 6}));
  EXPECT_TRUE(array_is(concatenate({x, array({7, 8}, {2, 1})}, 1), int32, {2, 3}, {1, 2, 7, 3, 4, 8}));
  EXPECT_TRUE(array_is(concatenate({x, array({7, 8}, {2, 1})}, -1), int32, {2, 3}, {1, 2, 7, 3, 4, 8}));
  EXPECT_TRUE(array_is(concatenate({x, transpose(x), x}, 1), int32, {2, 6},
                       {1, 2, 1, 3, 1, 2, 3, 4, 2, 4, 3, 4}));
  EXPECT_TRUE(array_is(concatenate({x}, 0), int32, {2, 2}, {1, 2, 3, 4}));
  EXPECT_TRUE(array_is(concatenate({zeros({0, 2}, int32), x}, 0), int32, {2, 2}, {1, 2, 3, 4}));
}

TEST(Concatenate, DtypePromotion) {
  EXPECT_TRUE(array_is(concatenate({array({1, 2}), array({0.5f})}, 0), float32, {3}, {1, 2, 0.5}));
  // the MLX/JAX lattice: uint8 with int8 gives int16
  EXPECT_TRUE(array_is(concatenate({array({200}, uint8), array({-1}, int8)}, 0), int16, {2}, {200, -1}));
  EXPECT_TRUE(array_is(concatenate({array({true}), array({5})}, 0), int32, {2}, {1, 5}));
}

TEST(Concatenate, FlatteningOverload) {
  EXPECT_TRUE(array_is(concatenate({iota({2, 2}), arange(3), array(9)}), int32, {8},
                       {0, 1, 2, 3, 0, 1, 2, 9}));
  EXPECT_TRUE(array_is(concatenate({transpose(iota({2, 2})), array({1.5f})}), float32, {5},
                       {0, 2, 1, 3, 1.5}));
}

TEST(Concatenate, Errors) {
  EXPECT_TRUE(throws_invalid([] { concatenate({iota({2, 2}), arange(2)}, 0); }, "[concatenate]"));
  EXPECT_TRUE(throws_invalid([] { concatenate({iota({2, 2}), iota({2, 3})}, 0); }, "[concatenate]"));
  EXPECT_TRUE(throws_invalid([] { concatenate({}, 0); }, "[concatenate]"));
  EXPECT_TRUE(throws_invalid([] { concatenate(std::vector<array>{}); }, "[concatenate]"));
  EXPECT_TRUE(throws_invalid([] { concatenate({iota({2, 2}), iota({2, 2})}, 2); }, "[concatenate]"));
  EXPECT_TRUE(throws_invalid([] { concatenate({array(1), array(2)}, 0); }, "[concatenate]"));
}

TEST(Stack, Axes) {
  array a = array({1, 2, 3}), b = array({4, 5, 6});
  EXPECT_TRUE(array_is(stack({a, b}), int32, {2, 3}, {1, 2, 3, 4, 5, 6}));
  EXPECT_TRUE(array_is(stack({a, b}, 1), int32, {3, 2}, {1, 4, 2, 5, 3, 6}));
  EXPECT_TRUE(array_is(stack({a, b}, -1), int32, {3, 2}, {1, 4, 2, 5, 3, 6}));
  array x = array({1, 2, 3, 4}, {2, 2});
  // values from NumPy: np.stack([x, x * 10], -1)
  EXPECT_TRUE(array_is(stack({x, x * 10}, -1), int32, {2, 2, 2}, {1, 10, 2, 20, 3, 30, 4, 40}));
  EXPECT_TRUE(array_is(stack({array(1.0f), array(2.0f)}), float32, {2}, {1, 2}));
  EXPECT_TRUE(array_is(stack({a, array({0.5f, 1.5f, 2.5f})}), float32, {2, 3}, {1, 2, 3, 0.5, 1.5, 2.5}));
}

TEST(Stack, Errors) {
  EXPECT_TRUE(throws_invalid([] { stack({arange(3), arange(4)}); }, "[stack]"));
  EXPECT_TRUE(throws_invalid([] { stack({}); }, "[stack]"));
  EXPECT_TRUE(throws_invalid([] { stack({arange(3), arange(3)}, 2); }, "[stack]"));
}

// ---- repeat / tile ------------------------------------------------------------------------------

TEST(Repeat, Values) {
  // values from NumPy
  EXPECT_TRUE(array_is(repeat(iota({3, 4}), 2, 1), int32, {3, 8},
                       {0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11}));
  EXPECT_TRUE(array_is(repeat(iota({2, 4}), 3, 0), int32, {6, 4},
                       {0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 4, 5, 6, 7, 4, 5, 6, 7, 4, 5, 6, 7}));
  EXPECT_TRUE(array_is(repeat(array({1, 2, 3, 4}, {2, 2}), 2), int32, {8}, {1, 1, 2, 2, 3, 3, 4, 4}));
  EXPECT_TRUE(array_is(repeat(array({1, 2, 3, 4}, {2, 2}), 2, -1), int32, {2, 4}, {1, 1, 2, 2, 3, 3, 4, 4}));
  EXPECT_TRUE(array_is(repeat(arange(3), 0), int32, {0}, {}));
  // repeat of a transposed array: transpose(iota(2, 2)) = [[0, 2], [1, 3]]
  EXPECT_TRUE(array_is(repeat(transpose(iota({2, 2})), 2, 1), int32, {2, 4}, {0, 0, 2, 2, 1, 1, 3, 3}));
  EXPECT_TRUE(throws_invalid([] { repeat(arange(3), -1); }, "[repeat]"));
  EXPECT_TRUE(throws_invalid([] { repeat(arange(3), 2, 1); }, "[repeat]"));
}

TEST(Tile, Reps) {
  array x = array({1, 2, 3, 4}, {2, 2});
  // values from NumPy
  EXPECT_TRUE(array_is(tile(x, {2, 3}), int32, {4, 6},
                       {1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4, 1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4}));
  // reps shorter than ndim: applies to the last axes
  EXPECT_TRUE(array_is(tile(x, {2}), int32, {2, 4}, {1, 2, 1, 2, 3, 4, 3, 4}));
  // reps longer than ndim: the array gains leading axes
  EXPECT_TRUE(array_is(tile(x, {2, 1, 2}), int32, {2, 2, 4},
                       {1, 2, 1, 2, 3, 4, 3, 4, 1, 2, 1, 2, 3, 4, 3, 4}));
  EXPECT_TRUE(array_is(tile(array({1, 2, 3}), {2}), int32, {6}, {1, 2, 3, 1, 2, 3}));
  EXPECT_TRUE(array_is(tile(x, {1, 0}), int32, {2, 0}, {}));
  EXPECT_TRUE(array_is(tile(transpose(x), {1, 2}), int32, {2, 4}, {1, 3, 1, 3, 2, 4, 2, 4}));
  EXPECT_TRUE(throws_invalid([&] { tile(x, {-1}); }, "[tile]"));
}

// ---- pad --------------------------------------------------------------------------------------------

TEST(Pad, Constant) {
  array x = array({1, 2, 3, 4}, {2, 2});
  // values from NumPy
  EXPECT_TRUE(array_is(pad(x, 1, array(9)), int32, {4, 4}, {9, 9, 9, 9, 9, 1, 2, 9, 9, 3, 4, 9, 9, 9, 9, 9}));
  EXPECT_TRUE(array_is(pad(x, std::pair<int, int>{1, 2}), int32, {5, 5},
                       {0, 0, 0, 0, 0, 0, 1, 2, 0, 0, 0, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
  EXPECT_TRUE(array_is(pad(x, std::vector<std::pair<int, int>>{{0, 1}, {2, 0}}, array(-1)), int32, {3, 4},
                       {-1, -1, 1, 2, -1, -1, 3, 4, -1, -1, -1, -1}));
  // the axes form pads only the named axes
  EXPECT_TRUE(array_is(pad(x, std::vector<int>{1}, Shape{1}, Shape{0}, array(7)), int32, {2, 3}, {7, 1, 2, 7, 3, 4}));
  EXPECT_TRUE(array_is(pad(x, std::vector<int>{-2}, Shape{0}, Shape{1}), int32, {3, 2}, {1, 2, 3, 4, 0, 0}));
  // pad value cast to the array's dtype; zero widths leave the array as is
  EXPECT_TRUE(array_is(pad(array({1.0f, 2.0f}), 1, array(-1.5)), float32, {4}, {-1.5, 1, 2, -1.5}));
  EXPECT_TRUE(array_is(pad(x, 0), int32, {2, 2}, {1, 2, 3, 4}));
  // a transposed input; values from NumPy: np.pad(x.T, ((1, 0), (0, 1)), constant_values=5)
  EXPECT_TRUE(array_is(pad(transpose(x), std::vector<std::pair<int, int>>{{1, 0}, {0, 1}}, array(5)), int32,
                       {3, 3}, {5, 5, 5, 1, 3, 5, 2, 4, 5}));
}

TEST(Pad, Edge) {
  array x = array({1, 2, 3, 4}, {2, 2});
  // values from NumPy
  EXPECT_TRUE(array_is(pad(x, std::vector<std::pair<int, int>>{{1, 0}, {0, 2}}, array(0), "edge"), int32,
                       {3, 4}, {1, 2, 2, 2, 1, 2, 2, 2, 3, 4, 4, 4}));
  EXPECT_TRUE(array_is(pad(array({1, 2, 3}), 2, array(0), "edge"), int32, {7}, {1, 1, 1, 2, 3, 3, 3}));
}

TEST(Pad, Errors) {
  array x = array({1, 2, 3, 4}, {2, 2});
  EXPECT_TRUE(throws_invalid([&] { pad(x, -1); }, "[pad]"));
  EXPECT_TRUE(throws_invalid([&] { pad(x, 1, array(0), "reflect"); }, "[pad]"));
  EXPECT_TRUE(throws_invalid([&] { pad(x, 1, array({1, 2})); }, "[pad]"));
  EXPECT_TRUE(throws_invalid([&] { pad(x, std::vector<std::pair<int, int>>{{1, 1}, {1, 1}, {1, 1}}); },
                             "[pad]"));
  EXPECT_TRUE(throws_invalid([&] { pad(x, std::vector<int>{0, 0}, Shape{1, 1}, Shape{1, 1}); }, "[pad]"));  // repeated axis
  EXPECT_TRUE(throws_invalid([&] { pad(x, std::vector<int>{2}, Shape{1}, Shape{1}); }, "[pad]"));
  EXPECT_TRUE(throws_invalid([&] { pad(x, std::vector<int>{0}, Shape{1, 1}, Shape{1}); }, "[pad]"));
  EXPECT_TRUE(throws_invalid([] { pad(zeros({0, 2}), 1, array(0), "edge"); }, "[pad]"));
}

// ---- chains of data movement (the simplifier must keep their meaning) -------------------------

TEST(Chains, ComposedDataMovement) {
  array t = iota({2, 3, 4});
  // values from NumPy: t.transpose(2, 0, 1).reshape(4, 6)
  EXPECT_TRUE(array_is(reshape(transpose(t, {2, 0, 1}), {4, 6}), int32, {4, 6},
                       {0, 4, 8, 12, 16, 20, 1, 5, 9, 13, 17, 21, 2, 6, 10, 14, 18, 22, 3, 7, 11, 15, 19, 23}));
  // values from NumPy: np.broadcast_to(np.arange(3)[:, None], (3, 4)).T[::2, 1:]
  array b = broadcast_to(reshape(arange(3), {3, 1}), {3, 4});
  EXPECT_TRUE(array_is(slice(transpose(b), {0, 1}, {4, 3}, {2, 1}), int32, {2, 2}, {1, 2, 1, 2}));
  // values from NumPy: np.broadcast_to(np.arange(4)[::-1], (2, 4)).reshape(8)[1::3]
  array r = broadcast_to(slice(arange(4), {-1}, {-5}, {-1}), {2, 4});
  EXPECT_TRUE(array_is(slice(reshape(r, {8}), {1}, {8}, {3}), int32, {3}, {2, 3, 0}));
  // values from NumPy: np.pad(t[:, 1, ::3], ((0, 1), (1, 0)), constant_values=-1).T
  array sl = reshape(slice(t, {0, 1, 0}, {2, 2, 4}, {1, 1, 3}), {2, 2});
  EXPECT_TRUE(array_is(transpose(pad(sl, std::vector<std::pair<int, int>>{{0, 1}, {1, 0}}, array(-1))), int32,
                       {3, 3}, {-1, -1, -1, 4, 16, -1, 7, 19, -1}));
  // values from NumPy: np.concatenate([t[0].T, t[1][::-1].T], 1)
  array t0 = reshape(slice(t, {0, 0, 0}, {1, 3, 4}), {3, 4});
  array t1 = reshape(slice(t, {1, 0, 0}, {2, 3, 4}), {3, 4});
  EXPECT_TRUE(array_is(concatenate({transpose(t0), transpose(slice(t1, {-1, 0}, {-4, 4}, {-1, 1}))}, 1), int32,
                       {4, 6}, {0, 4, 8, 20, 16, 12, 1, 5, 9, 21, 17, 13, 2, 6, 10, 22, 18, 14, 3, 7, 11, 23, 19, 15}));
}

TEST(Chains, SliceUpdateTwiceAndEvaluatedIntermediates) {
  // values from NumPy: s = zeros(6); s[1:5] = 1; s[2:4] = 7
  array s1 = slice_update(zeros({6}, int32), array(1), {1}, {5});
  array s2 = slice_update(s1, array(7), {2}, {4});
  EXPECT_TRUE(array_is(s2, int32, {6}, {0, 1, 7, 7, 1, 0}));
  EXPECT_TRUE(array_is(s1, int32, {6}, {0, 1, 1, 1, 1, 0}));  // s1 is unchanged
  // an evaluated transpose used again: transpose(iota(2, 3)) = [[0, 3], [1, 4], [2, 5]]
  array t = transpose(iota({2, 3}));
  t.eval();
  EXPECT_TRUE(array_is(reshape(t, {6}), int32, {6}, {0, 3, 1, 4, 2, 5}));
  EXPECT_TRUE(array_is(slice(t, {2, 0}, {3, 2}), int32, {1, 2}, {2, 5}));
}

}  // namespace

// ---- composites (expected values from NumPy 1.24) ---------------------------------

TEST(Composites, Roll) {
  array a = reshape(arange(10), {2, 5});
  EXPECT_TRUE(kiln_test::array_is(roll(a, 2), int32, {2, 5}, {8, 9, 0, 1, 2, 3, 4, 5, 6, 7}));
  EXPECT_TRUE(kiln_test::array_is(roll(a, -1, 1), int32, {2, 5}, {1, 2, 3, 4, 0, 6, 7, 8, 9, 5}));
  EXPECT_TRUE(kiln_test::array_is(roll(a, Shape{1, 2}, std::vector<int>{0, 1}), int32, {2, 5},
                                  {8, 9, 5, 6, 7, 3, 4, 0, 1, 2}));
  EXPECT_TRUE(kiln_test::array_is(roll(a, 7, 1), int32, {2, 5}, {3, 4, 0, 1, 2, 8, 9, 5, 6, 7}));
  EXPECT_TRUE(kiln_test::array_is(roll(a, 0, 1), int32, {2, 5}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  EXPECT_TRUE(kiln_test::throws_invalid([&] { roll(a, Shape{1}, std::vector<int>{0, 1}); }, "[roll]"));
  EXPECT_TRUE(kiln_test::throws_invalid([&] { roll(a, 1, 2); }, "[roll]"));
}

TEST(Composites, RollRankZeroAndEmpty) {
  // np.roll(np.array(5), 2) -> 5; np.roll(np.arange(6).reshape(2,3), -4) ->
  // [[4,5,0],[1,2,3]]; np.roll(np.zeros((0,3)), 1, axis=1).shape == (0, 3);
  // np.roll(np.zeros((2,0)), 3).shape == (2, 0)
  EXPECT_TRUE(kiln_test::array_is(roll(array(5), 2), int32, {}, {5}));
  EXPECT_TRUE(kiln_test::array_is(roll(array(5.0f), Shape{1, 2}), float32, {}, {5}));
  EXPECT_TRUE(kiln_test::array_is(roll(reshape(arange(6), {2, 3}), -4), int32, {2, 3}, {4, 5, 0, 1, 2, 3}));
  EXPECT_TRUE(kiln_test::array_is(roll(zeros({0, 3}), 1, 1), float32, {0, 3}, {}));
  EXPECT_TRUE(kiln_test::array_is(roll(zeros({0, 3}), 2, -2), float32, {0, 3}, {}));
  EXPECT_TRUE(kiln_test::array_is(roll(zeros({2, 0}), 3), float32, {2, 0}, {}));
  EXPECT_TRUE(kiln_test::array_is(roll(zeros({2, 0}), Shape{1, 1}, std::vector<int>{0, 1}), float32, {2, 0}, {}));
  EXPECT_TRUE(kiln_test::throws_invalid([] { roll(array(5), 1, 0); }, "[roll]"));
  EXPECT_TRUE(kiln_test::throws_invalid([] { roll(array(5), Shape{1}, std::vector<int>{0}); }, "[roll]"));
}

TEST(Composites, MeshgridEmptyAndErrors) {
  // np.meshgrid(np.zeros(0), np.arange(3)) -> shapes (3, 0); with
  // indexing='ij' (0, 3); np.meshgrid(np.arange(2)) -> [[0, 1]]; np.meshgrid() -> []
  auto xy = meshgrid({zeros({0}), arange(3)});
  EXPECT_EQ(xy[0].shape(), (Shape{3, 0}));
  EXPECT_EQ(xy[1].shape(), (Shape{3, 0}));
  auto ij = meshgrid({zeros({0}), arange(3)}, false, "ij");
  EXPECT_TRUE(kiln_test::array_is(ij[1], int32, {0, 3}, {}));
  EXPECT_TRUE(kiln_test::array_is(meshgrid({arange(2)})[0], int32, {2}, {0, 1}));
  EXPECT_TRUE(meshgrid({}).empty());
  // MLX takes 1-D arrays only: a scalar or a matrix is an error.
  EXPECT_TRUE(kiln_test::throws_invalid([] { meshgrid({array(1), arange(2)}); }, "[meshgrid]"));
  EXPECT_TRUE(kiln_test::throws_invalid([] { meshgrid({ones({2, 2})}); }, "[meshgrid]"));
}

TEST(Composites, MeshgridAndAtleast) {
  auto xy = meshgrid({array({1, 2, 3}), array({4, 5})});
  EXPECT_TRUE(kiln_test::array_is(xy[0], int32, {2, 3}, {1, 2, 3, 1, 2, 3}));
  EXPECT_TRUE(kiln_test::array_is(xy[1], int32, {2, 3}, {4, 4, 4, 5, 5, 5}));
  auto ij = meshgrid({array({1, 2, 3}), array({4, 5})}, false, "ij");
  EXPECT_TRUE(kiln_test::array_is(ij[0], int32, {3, 2}, {1, 1, 2, 2, 3, 3}));
  EXPECT_TRUE(kiln_test::array_is(ij[1], int32, {3, 2}, {4, 5, 4, 5, 4, 5}));
  auto sp = meshgrid({array({1, 2, 3}), array({4, 5})}, true);
  EXPECT_EQ(sp[0].shape(), (Shape{1, 3}));
  EXPECT_EQ(sp[1].shape(), (Shape{2, 1}));
  EXPECT_TRUE(kiln_test::throws_invalid([] { meshgrid({array({1})}, false, "yx"); }, "[meshgrid]"));
  EXPECT_EQ(atleast_3d(array({1, 2})).shape(), (Shape{1, 2, 1}));
  EXPECT_EQ(atleast_2d(array(3)).shape(), (Shape{1, 1}));
  EXPECT_EQ(atleast_3d(ones({2, 3})).shape(), (Shape{2, 3, 1}));
  EXPECT_EQ(atleast_1d(std::vector<array>{array(1), ones({2, 2})})[0].shape(), (Shape{1}));
}

TEST(Composites, DegreesRadiansNanToNum) {
  EXPECT_TRUE(kiln_test::array_is(degrees(array({3.14159265f, 1.0f})), float32, {2}, {180.0, 57.2957763671875}, 1e-4));
  EXPECT_TRUE(kiln_test::array_is(radians(array({180, 90})), float32, {2}, {3.141592653589793, 1.5707963267948966},
                                  1e-6));
  float inf = std::numeric_limits<float>::infinity();
  EXPECT_TRUE(kiln_test::array_is(nan_to_num(array({std::nanf(""), inf, -inf, 1.5f})), float32, {4},
                                  {0, 3.4028234663852886e38, -3.4028234663852886e38, 1.5}));
  EXPECT_TRUE(kiln_test::array_is(nan_to_num(array({std::nanf(""), inf, -inf}), 1.0f, 2.0f, -3.0f), float32, {3},
                                  {1, 2, -3}));
  EXPECT_TRUE(kiln_test::array_is(nan_to_num(astype(array({inf}), float16)), float16, {1}, {65504}));
  EXPECT_TRUE(kiln_test::array_is(nan_to_num(array({1, 2})), int32, {2}, {1, 2}));
}
