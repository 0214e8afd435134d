// Tests of gather, the scatter family, put_along_axis / scatter_add_axis,
// masked_scatter, dynamic slices, slice_update_add and as_strided (frontend/
// ops_scatter.cpp) and of the scatter primitive's host kernel. Expected
// values come from NumPy (the snippet is quoted above each), from MLX's
// documented examples (hand-checkable), or from a plain loop written here.
// Gradients are in test_autodiff.cpp, batching in test_vmap.cpp.
#include <cmath>
#include <cstdlib>
#include <vector>

#include "test_helpers.h"

namespace {

using namespace kiln;
using kiln_test::array_is;
using kiln_test::throws_invalid;
using kiln_test::values;

// Deterministic pseudo-random integers in [0, n).
std::vector<int32_t> lcg_ints(size_t count, uint32_t n, uint32_t seed) {
  std::vector<int32_t> v(count);
  for (auto& x : v) {
    seed = seed * 1664525u + 1013904223u;
    x = int32_t((seed >> 8) % n);
  }
  return v;
}

// ---- scatter family ---------------------------------------------------------------------

TEST(Scatter, AddWithDuplicatesAndNegativeIndices) {
  // a = np.array([1.,2,3,4,5]); np.add.at(a, [0,2,0,4,-1], [10,20,30,40,50])
  array a = array({1.0f, 2.0f, 3.0f, 4.0f, 5.0f});
  array idx = array({0, 2, 0, 4, -1});
  array upd = reshape(array({10.0f, 20.0f, 30.0f, 40.0f, 50.0f}), {5, 1});
  EXPECT_TRUE(array_is(scatter_add(a, idx, upd, 0), float32, {5}, {41, 2, 23, 4, 95}));
  EXPECT_TRUE(array_is(scatter_add(a, std::vector<array>{idx}, upd, std::vector<int>{-1}), float32, {5},
                       {41, 2, 23, 4, 95}));
}

TEST(Scatter, ProdMaxMinWithDuplicates) {
  // a = np.array([1,2,3,4]); np.multiply.at / np.maximum.at / np.minimum.at
  //   (a, [1,1,3,0], [5,-2,7,0])
  array a = array({1, 2, 3, 4});
  array idx = array({1, 1, 3, 0});
  array upd = reshape(array({5, -2, 7, 0}), {4, 1});
  EXPECT_TRUE(array_is(scatter_prod(a, idx, upd, 0), int32, {4}, {0, -20, 3, 28}));
  EXPECT_TRUE(array_is(scatter_max(a, idx, upd, 0), int32, {4}, {1, 5, 3, 7}));
  EXPECT_TRUE(array_is(scatter_min(a, idx, upd, 0), int32, {4}, {0, -2, 3, 4}));
  // Floats: max keeps a nan that lands.
  array f = scatter_max(array({1.0f, 2.0f}), array({1, 1}), reshape(array({NAN, 5.0f}), {2, 1}), 0);
  auto v = values(f);
  EXPECT_EQ(v[0], 1.0);
  EXPECT_TRUE(std::isnan(v[1]));
}

TEST(Scatter, AssignRowsLastWins) {
  // Whole rows along axis 0; index 2 is written twice, the later one wins.
  array a = zeros({4, 3});
  array upd = reshape(arange(9.0), {3, 1, 3});
  array r = scatter(a, array({2, 0, 2}), upd, 0);
  EXPECT_TRUE(array_is(r, float32, {4, 3}, {3, 4, 5, 0, 0, 0, 6, 7, 8, 0, 0, 0}));
}

TEST(Scatter, SeveralAxesAndSlices) {
  // MLX's documented example: slices of width 2 along axis 1 at (2, 1) and (0, 2).
  array in = zeros({4, 4});
  std::vector<array> idx{array({2, 0}), array({1, 2})};
  array upd = reshape(arange(1.0, 5.0), {2, 1, 2});
  EXPECT_TRUE(array_is(scatter(in, idx, upd, std::vector<int>{0, 1}), float32, {4, 4},
                       {0, 0, 3, 4, 0, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 0}));
  // One index array, a slice narrower than the array on another axis.
  EXPECT_TRUE(array_is(scatter(in, array({2}), reshape(array({1.0f, 2.0f}), {1, 1, 2}), 0), float32, {4, 4},
                       {0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 0, 0}));
  // The indices broadcast against each other; adding on the axes given in reverse order.
  std::vector<array> bidx{array({3, 0}), array({1})};
  array r = scatter_add(ones({4, 4}, int32), bidx, reshape(array({5, 7}), {2, 1, 1}), std::vector<int>{1, 0});
  // out[1, 3] += 5, out[1, 0] += 7
  EXPECT_TRUE(array_is(r, int32, {4, 4}, {1, 1, 1, 1, 8, 1, 1, 6, 1, 1, 1, 1, 1, 1, 1, 1}));
}

TEST(Scatter, RankZeroEmptyAndDtypes) {
  // No index arrays: the update is the slice at the origin.
  EXPECT_TRUE(array_is(scatter(array(1.0f), std::vector<array>{}, array(5.0f), std::vector<int>{}), float32, {},
                       {5}));
  EXPECT_TRUE(array_is(scatter_add(arange(4), std::vector<array>{}, array({10, 20}), std::vector<int>{}), int32,
                       {4}, {10, 21, 2, 3}));
  // Empty indices leave a as it is.
  array e = scatter_add(arange(3.0), zeros({0}, int32), zeros({0, 1}), 0);
  EXPECT_TRUE(array_is(e, float32, {3}, {0, 1, 2}));
  // Updates are cast to a's dtype; index dtypes of every width.
  for (Dtype it : {int8, uint8, int16, uint32, int64}) {
    array r = scatter_add(zeros({3}, float64), astype(array({2, 2}), it), reshape(array({1.5f, 2.0f}), {2, 1}), 0);
    EXPECT_TRUE(array_is(r, float64, {3}, {0, 0, 3.5})) << dtype_name(it);
  }
  array h = scatter_add(zeros({2}, float16), array({1, 1, 1}), full({3, 1}, 0.5f, float16), 0);
  EXPECT_TRUE(array_is(h, float16, {2}, {0, 1.5}));
  array b = scatter(zeros({3}, bool_), array({1}), reshape(array(true), {1, 1}), 0);
  EXPECT_TRUE(array_is(b, bool_, {3}, {0, 1, 0}));
}

TEST(Scatter, Errors) {
  array a = zeros({4, 3});
  EXPECT_TRUE(throws_invalid([&] { scatter(a, array({0}), zeros({1, 3}), 0); }, "[scatter]"));       // rank
  EXPECT_TRUE(throws_invalid([&] { scatter_add(a, array({0.0f}), zeros({1, 1, 3}), 0); }, "[scatter_add]"));
  EXPECT_TRUE(throws_invalid([&] { scatter(a, array({0}), zeros({1, 1, 4}), 0); }, "[scatter]"));    // too wide
  EXPECT_TRUE(throws_invalid([&] { scatter(a, array({0}), zeros({1, 1, 3}), 2); }, "[scatter]"));    // axis
  EXPECT_TRUE(throws_invalid([&] { scatter(a, std::vector<array>{array({0}), array({0})}, zeros({1, 1, 1}), std::vector<int>{0}); }, "[scatter]"));
  EXPECT_TRUE(throws_invalid([&] { scatter(a, std::vector<array>{array({0}), array({0})}, zeros({1, 1, 1}), std::vector<int>{0, -2}); }, "[scatter]"));
  EXPECT_TRUE(throws_invalid([&] { scatter(a, std::vector<array>{array({0, 1}), array({0, 1, 2})}, zeros({3, 1, 1}), std::vector<int>{0, 1}); },
                             "[scatter]"));  // indices do not broadcast
  EXPECT_TRUE(throws_invalid([&] { scatter_max(zeros({2}, bool_), array({0}), zeros({1, 1}, bool_), 0); },
                             "[scatter_max]"));
  EXPECT_TRUE(throws_invalid([&] { scatter(array(1.0f), array({0}), zeros({1}), 0); }, "[scatter]"));
}

// Many colliding updates over the thread pool: the host kernel applies each
// destination's updates in update order, so float sums equal a sequential
// loop bit for bit, run after run.
TEST(Scatter, ManyCollisionsMatchASequentialLoop) {
  const size_t m = 300000;
  const int n = 1000;
  std::vector<int32_t> idx = lcg_ints(m, n, 7);
  std::vector<float> upd(m);
  for (size_t i = 0; i < m; ++i) upd[i] = 0.001f * float(int(i % 977) - 400);
  std::vector<float> want(size_t(n), 0.25f);
  for (size_t i = 0; i < m; ++i) want[size_t(idx[i])] += upd[i];
  array ia(idx.data(), {int(m)}, int32);
  array ua(upd.data(), {int(m), 1}, float32);
  array r1 = scatter_add(full({n}, 0.25f), ia, ua, 0);
  array r2 = scatter_add(full({n}, 0.25f), ia, ua, 0);
  std::vector<double> w(want.begin(), want.end());
  EXPECT_TRUE(array_is(r1, float32, {n}, w));
  EXPECT_TRUE(array_is(r2, float32, {n}, w));
  // Rows of 8 with collisions, and the last write winning for plain scatter.
  std::vector<float> rows(m * 8);
  for (size_t i = 0; i < rows.size(); ++i) rows[i] = float(i % 1013);
  std::vector<double> last(size_t(n) * 8, -1.0);
  for (size_t i = 0; i < m; ++i)
    for (int c = 0; c < 8; ++c) last[size_t(idx[i]) * 8 + size_t(c)] = rows[i * 8 + size_t(c)];
  array ra(rows.data(), {int(m), 1, 8}, float32);
  EXPECT_TRUE(array_is(scatter(full({n, 8}, -1.0f), ia, ra, 0), float32, {n, 8}, last));
}

// ---- gather -----------------------------------------------------------------------------

TEST(Gather, OneAxisAndSeveralAxes) {
  array a = reshape(arange(24), {2, 3, 4});
  // np.stack([a[:, i:i+1, :] for i in [1, 0]])
  EXPECT_TRUE(array_is(gather(a, array({1, 0}), 1, {2, 1, 4}), int32, {2, 2, 1, 4},
                       {4, 5, 6, 7, 16, 17, 18, 19, 0, 1, 2, 3, 12, 13, 14, 15}));
  // np.stack([a[0:1, 1:3, 2:4], a[0:1, 0:2, 2:4]]): start -1 wraps to 3, then
  // clamps to 2 so that the slice of 2 fits.
  std::vector<array> idx{array({1, 0}), array({2, -1})};
  EXPECT_TRUE(array_is(gather(a, idx, std::vector<int>{1, 2}, {1, 2, 2}), int32, {2, 1, 2, 2}, {6, 7, 10, 11, 2, 3, 6, 7}));
  // The same with the axes listed in the other order.
  std::vector<array> rev{array({2, -1}), array({1, 0})};
  EXPECT_TRUE(array_is(gather(a, rev, std::vector<int>{2, 1}, {1, 2, 2}), int32, {2, 1, 2, 2}, {6, 7, 10, 11, 2, 3, 6, 7}));
  // 2-d indices: the result starts with the index shape.
  array g = gather(a, array({0, 1, 1, 0}, {2, 2}), 0, {1, 1, 1});
  EXPECT_TRUE(array_is(g, int32, {2, 2, 1, 1, 1}, {0, 12, 12, 0}));
  // Empty indices and rank-0 slices.
  EXPECT_TRUE(array_is(gather(a, zeros({0}, int32), 0, {1, 3, 4}), int32, {0, 1, 3, 4}, {}));
  EXPECT_TRUE(array_is(gather(array(7.0f), std::vector<array>{}, std::vector<int>{}, {}), float32, {}, {7}));
}

TEST(Gather, Errors) {
  array a = zeros({3, 4});
  EXPECT_TRUE(throws_invalid([&] { gather(a, array({0}), 0, {1}); }, "[gather]"));        // slice rank
  EXPECT_TRUE(throws_invalid([&] { gather(a, array({0}), 0, {1, 5}); }, "[gather]"));     // too big
  EXPECT_TRUE(throws_invalid([&] { gather(a, array({0.5f}), 0, {1, 4}); }, "[gather]"));  // dtype
  EXPECT_TRUE(throws_invalid([&] { gather(a, array({0}), 3, {1, 4}); }, "[gather]"));     // axis
  EXPECT_TRUE(throws_invalid([&] { gather(a, std::vector<array>{array({0})}, std::vector<int>{0, 1}, {1, 1}); }, "[gather]"));
}

// ---- along an axis ----------------------------------------------------------------------

TEST(PutAlongAxis, ValuesFromNumPy) {
  // a = np.arange(12.).reshape(3, 4); np.put_along_axis(a, [[1], [0], [3]], 100., 1)
  array a = reshape(arange(12.0), {3, 4});
  EXPECT_TRUE(array_is(put_along_axis(a, array({1, 0, 3}, {3, 1}), array(100.0f), 1), float32, {3, 4},
                       {0, 100, 2, 3, 100, 5, 6, 7, 8, 9, 10, 100}));
  EXPECT_TRUE(array_is(put_along_axis(a, array({1, 0, -1}, {3, 1}), array(100.0f), -1), float32, {3, 4},
                       {0, 100, 2, 3, 100, 5, 6, 7, 8, 9, 10, 100}));
  // x = np.zeros((3, 2)); np.add.at(x, ([[0,1],[0,1],[2,1]], [[0,1]]*3), np.arange(6.).reshape(3, 2))
  array r = scatter_add_axis(zeros({3, 2}), array({0, 1, 0, 1, 2, 1}, {3, 2}), reshape(arange(6.0), {3, 2}), 0);
  EXPECT_TRUE(array_is(r, float32, {3, 2}, {2, 0, 0, 9, 4, 0}));
  // Indices broadcast along the other axes.
  EXPECT_TRUE(array_is(put_along_axis(zeros({2, 3}, int32), array({2}, {1, 1}), array(1), 1), int32, {2, 3},
                       {0, 0, 1, 0, 0, 1}));
  EXPECT_TRUE(throws_invalid([&] { put_along_axis(a, array({1}), array(1.0f), 1); }, "[put_along_axis]"));
  EXPECT_TRUE(throws_invalid([&] { put_along_axis(a, array({1.0f}, {1, 1}), array(1.0f), 1); }, "[put_along_axis]"));
  EXPECT_TRUE(throws_invalid([&] { put_along_axis(a, zeros({2, 1}, int32), array(1.0f), 1); }, "[put_along_axis]"));
}

TEST(MaskedScatter, FillsTrueElementsInOrder) {
  array a = arange(6.0);
  array r = masked_scatter(a, kiln_test::bools({1, 0, 1, 1, 0, 0}), array({10.0f, 20.0f, 30.0f, 40.0f}));
  EXPECT_TRUE(array_is(r, float32, {6}, {10, 1, 20, 30, 4, 5}));
  // A mask broadcast over rows.
  array m = masked_scatter(reshape(arange(6.0), {2, 3}), kiln_test::bools({0, 1, 1}),
                           reshape(array({7.0f, 8.0f, 9.0f, 10.0f}), {2, 2}));
  EXPECT_TRUE(array_is(m, float32, {2, 3}, {0, 7, 8, 3, 9, 10}));
  // Long masks exercise every step of the running count.
  const int n = 1000;
  std::vector<int32_t> bits = lcg_ints(n, 2, 3);
  std::vector<double> want(n);
  int k = 0;
  for (int i = 0; i < n; ++i) want[size_t(i)] = bits[size_t(i)] ? 1000 + k++ : i;
  array mask = astype(array(bits.data(), {n}, int32), bool_);
  EXPECT_TRUE(array_is(masked_scatter(arange(double(n)), mask, arange(1000.0, 2000.0)), float32, {n}, want));
  EXPECT_TRUE(throws_invalid([&] { masked_scatter(a, zeros({6}), a); }, "[masked_scatter]"));
  EXPECT_TRUE(throws_invalid([&] { masked_scatter(a, zeros({4}, bool_), a); }, "[masked_scatter]"));
}

// ---- dynamic slices, slice_update_add, as_strided ------------------------------------------

TEST(DynamicSlice, SliceAndUpdate) {
  array a = reshape(arange(12), {3, 4});
  EXPECT_TRUE(array_is(slice(a, array({1, 2}), {0, 1}, {2, 2}), int32, {2, 2}, {6, 7, 10, 11}));
  // Starts are clamped so that the slice fits (as JAX's dynamic_slice).
  EXPECT_TRUE(array_is(slice(a, array({2, 3}), {0, 1}, {2, 2}), int32, {2, 2}, {6, 7, 10, 11}));
  EXPECT_TRUE(array_is(slice(a, array({1}), {1}, {3, 2}), int32, {3, 2}, {1, 2, 5, 6, 9, 10}));
  array u = slice_update(zeros({3, 4}, int32), array({1, 2, 3, 4}, {2, 2}), array({0, 1}), {0, 1});
  EXPECT_TRUE(array_is(u, int32, {3, 4}, {0, 1, 2, 0, 0, 3, 4, 0, 0, 0, 0, 0}));
  EXPECT_TRUE(throws_invalid([&] { slice(a, array({1.0f}), {0}, {1, 4}); }, "[slice]"));
  EXPECT_TRUE(throws_invalid([&] { slice(a, array({1, 2}), {0}, {1, 4}); }, "[slice]"));
  EXPECT_TRUE(throws_invalid([&] { slice(a, array({1}), {0}, {1}); }, "[slice]"));
  EXPECT_TRUE(throws_invalid([&] { slice_update(a, zeros({1, 1, 1}, int32), array({0}), {0}); }, "[slice_update]"));
  // The static forms still take braced lists.
  EXPECT_TRUE(array_is(slice(a, {0, 1}, {1, 3}), int32, {1, 2}, {1, 2}));
}

TEST(SliceUpdateAdd, AddsIntoTheSlice) {
  // a = np.arange(6).reshape(2, 3); a[:, 1:3] += [10, 20]
  array r = slice_update_add(reshape(arange(6), {2, 3}), array({10, 20}), {0, 1}, {2, 3});
  EXPECT_TRUE(array_is(r, int32, {2, 3}, {0, 11, 22, 3, 14, 25}));
  array s = slice_update_add(arange(6.0), array({1.0f, 1.0f, 1.0f}), {0}, {6}, {2});
  EXPECT_TRUE(array_is(s, float32, {6}, {1, 1, 3, 3, 5, 5}));
}

TEST(AsStrided, ViewsFromNumPy) {
  // np.lib.stride_tricks.as_strided(np.arange(10), (3, 3), (8, 8))
  EXPECT_TRUE(array_is(as_strided(arange(10), {3, 3}, {1, 1}, 0), int32, {3, 3}, {0, 1, 2, 1, 2, 3, 2, 3, 4}));
  // as_strided(np.arange(10)[2:], (2, 2), (24, 8))
  EXPECT_TRUE(array_is(as_strided(arange(10), {2, 2}, {3, 1}, 2), int32, {2, 2}, {2, 3, 5, 6}));
  // It views the row-major elements of any array: a transposed one is
  // [[0, 3], [1, 4], [2, 5]], read as 0, 3, 1, 4, 2, 5.
  EXPECT_TRUE(array_is(as_strided(transpose(reshape(arange(6), {2, 3})), {3}, {1}, 1), int32, {3}, {3, 1, 4}));
  EXPECT_TRUE(array_is(as_strided(arange(4), {0, 2}, {1, 1}, 0), int32, {0, 2}, {}));
  EXPECT_TRUE(throws_invalid([&] { as_strided(arange(4), {2}, {1, 1}, 0); }, "[as_strided]"));
}

// ---- compile ----------------------------------------------------------------------------

TEST(ScatterCompile, CompiledMatchesEager) {
  auto f = [](const std::vector<array>& x) {
    array s = scatter_add(x[0], x[1], reshape(x[2], {-1, 1}), 0);
    array g = gather(s, x[1], 0, {1});
    return std::vector<array>{s, g, put_along_axis(x[0], reshape(x[1], {-1}), x[2], 0)};
  };
  array a = arange(5.0), idx = array({4, 0, 4}), u = array({1.0f, 2.0f, 3.0f});
  auto eager = f({a, idx, u});
  auto compiled = compile(f)({a, idx, u});
  ASSERT_EQ(compiled.size(), 3u);
  for (size_t i = 0; i < 3; ++i)
    EXPECT_TRUE(array_is(compiled[i], eager[i].dtype(), eager[i].shape(), values(eager[i])));
  EXPECT_TRUE(array_is(eager[0], float32, {5}, {2, 1, 2, 3, 8}));
}

}  // namespace
