// Tests of the shape helpers, dtype queries and small composites of
// frontend/ops_misc.h (broadcast_shapes, result_type, issubdtype with
// categories, finfo/iinfo, unflatten, unstack, contiguous, divmod), of pad's
// reflect and symmetric modes, of linspace and of iterating over an array.
// Expected values come from NumPy (the snippet is next to each).
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
array ramp_f(const Shape& s) { return astype(iota(s), float32) * 0.37f - 1.0f; }

// ---- broadcast_shapes / result_type ---------------------------------------------

TEST(BroadcastShapes, AsNumPy) {
  // np.broadcast_shapes((3,1,4), (5,1)) == (3, 5, 4)
  EXPECT_EQ(broadcast_shapes({3, 1, 4}, {5, 1}), (Shape{3, 5, 4}));
  EXPECT_EQ(broadcast_shapes({}, {2, 3}), (Shape{2, 3}));
  EXPECT_EQ(broadcast_shapes({0, 1}, {1, 4}), (Shape{0, 4}));
  EXPECT_TRUE(throws_invalid([] { broadcast_shapes({3, 4}, {5, 4}); }, "[broadcast_shapes]"));
}

TEST(ResultType, PromotesDtypesOnly) {
  array i8 = zeros({2}, int8), u8 = zeros({3, 3}, uint8), f16 = zeros({}, float16);
  EXPECT_EQ(result_type(i8, u8), int16);
  EXPECT_EQ(result_type(i8, u8, f16), float16);
  EXPECT_EQ(result_type(std::vector<array>{u8, zeros({1}, uint64), zeros({1}, int8)}), float32);
  EXPECT_EQ(result_type(std::vector<array>{u8}), uint8);
  EXPECT_TRUE(throws_invalid([] { result_type(std::vector<array>{}); }, "[result_type]"));
}

// ---- issubdtype with Dtype::Category ----------------------------------------------

TEST(Issubdtype, CategoryTreeAsMLX) {
  // numpy: issubdtype(np.floating, np.inexact), issubdtype(np.integer, np.number), ...
  using C = Dtype::Category;
  EXPECT_TRUE(issubdtype(C::floating, C::inexact));
  EXPECT_TRUE(issubdtype(C::complexfloating, C::inexact));
  EXPECT_TRUE(issubdtype(C::signedinteger, C::integer));
  EXPECT_TRUE(issubdtype(C::unsignedinteger, C::number));
  EXPECT_TRUE(issubdtype(C::inexact, C::generic));
  EXPECT_TRUE(issubdtype(C::integer, C::integer));
  EXPECT_FALSE(issubdtype(C::integer, C::signedinteger));
  EXPECT_FALSE(issubdtype(C::floating, C::integer));
  EXPECT_FALSE(issubdtype(C::generic, C::number));
  EXPECT_FALSE(issubdtype(C::number, C::inexact));
  // A category is never a subtype of a dtype; a dtype only of itself.
  EXPECT_FALSE(issubdtype(C::floating, float32));
  EXPECT_TRUE(issubdtype(float32, float32));
  EXPECT_FALSE(issubdtype(float32, float64));
  // Dtypes in categories, spelled both ways.
  EXPECT_TRUE(issubdtype(uint16, Dtype::Category::unsignedinteger));
  EXPECT_TRUE(issubdtype(int64, integer));
  EXPECT_FALSE(issubdtype(bool_, number));
  EXPECT_TRUE(issubdtype(bool_, generic));
  EXPECT_TRUE(issubdtype(bfloat16, inexact));
}

// ---- finfo / iinfo -----------------------------------------------------------------

TEST(Finfo, LimitsAsNumPy) {
  // np.finfo(np.float32): min -3.4028234663852886e+38, eps 1.1920928955078125e-07
  finfo f32(float32);
  EXPECT_EQ(f32.dtype, float32);
  EXPECT_EQ(f32.min, -3.4028234663852886e+38);
  EXPECT_EQ(f32.max, 3.4028234663852886e+38);
  EXPECT_EQ(f32.eps, 1.1920928955078125e-07);
  // np.finfo(np.float16): max 65504, eps 0.000977 (2**-10)
  finfo f16(float16);
  EXPECT_EQ(f16.max, 65504.0);
  EXPECT_EQ(f16.min, -65504.0);
  EXPECT_EQ(f16.eps, 0.0009765625);
  // torch.finfo(torch.bfloat16): max 3.38953e+38, eps 0.0078125
  finfo bf(bfloat16);
  EXPECT_NEAR(bf.max, 3.38953e+38, 1e33);
  EXPECT_EQ(bf.eps, 0.0078125);
  EXPECT_EQ(finfo(float64).eps, 2.220446049250313e-16);
  // As NumPy, complex64's limits are its float32 parts'.
  EXPECT_EQ(finfo(complex64).dtype, float32);
  EXPECT_EQ(finfo(complex64).max, f32.max);
  EXPECT_TRUE(throws_invalid([] { finfo f(int32); }, "[finfo]"));
  EXPECT_TRUE(throws_invalid([] { finfo f(bool_); }, "[finfo]"));
}

TEST(Iinfo, LimitsAsNumPy) {
  // np.iinfo(np.int8).min -128, np.iinfo(np.uint64).max 18446744073709551615
  EXPECT_EQ(iinfo(int8).min, -128);
  EXPECT_EQ(iinfo(int8).max, 127u);
  EXPECT_EQ(iinfo(uint64).min, 0);
  EXPECT_EQ(iinfo(uint64).max, 18446744073709551615ull);
  EXPECT_EQ(iinfo(int64).min, INT64_MIN);
  EXPECT_EQ(iinfo(uint16).dtype, uint16);
  EXPECT_TRUE(throws_invalid([] { iinfo i(float32); }, "[iinfo]"));
  EXPECT_TRUE(throws_invalid([] { iinfo i(bool_); }, "[iinfo]"));
}

TEST(Itemsize, BytesPerElement) {
  EXPECT_EQ(zeros({3}, float16).itemsize(), 2u);
  EXPECT_EQ(zeros({}, complex64).itemsize(), 8u);
  EXPECT_EQ(zeros({0}, bool_).itemsize(), 1u);
  EXPECT_EQ(zeros({2, 2}, float64).nbytes(), 32u);
}

// ---- unflatten / unstack / contiguous ----------------------------------------------------

TEST(Unflatten, SplitsOneAxis) {
  // np.arange(24).reshape(2, 12).reshape(2, 3, 4)
  array a = iota({2, 12});
  array u = unflatten(a, 1, {3, 4});
  EXPECT_EQ(u.shape(), (Shape{2, 3, 4}));
  EXPECT_TRUE(array_is(u, int32, {2, 3, 4}, kiln_test::values(iota({2, 3, 4}))));
  EXPECT_EQ(unflatten(a, -1, {-1, 6}).shape(), (Shape{2, 2, 6}));
  EXPECT_EQ(unflatten(a, 0, {1, 2, 1}).shape(), (Shape{1, 2, 1, 12}));
  EXPECT_EQ(unflatten(zeros({0, 4}), 0, {0, 5}).shape(), (Shape{0, 5, 4}));
  EXPECT_TRUE(throws_invalid([&] { unflatten(a, 1, {}); }, "[unflatten]"));
  EXPECT_TRUE(throws_invalid([&] { unflatten(a, 1, {5, -1}); }, "[unflatten]"));
  EXPECT_TRUE(throws_invalid([&] { unflatten(a, 1, {-1, -1}); }, "[unflatten]"));
  EXPECT_TRUE(throws_invalid([&] { unflatten(a, 1, {3, 5}); }, "[unflatten]"));
  EXPECT_TRUE(throws_invalid([&] { unflatten(a, 2, {12}); }, "[unflatten]"));
  EXPECT_TRUE(throws_invalid([] { unflatten(array(1.0f), 0, {1}); }, "[unflatten]"));
}

TEST(Unstack, SlicesAlongAxis) {
  // np.unstack(np.arange(6).reshape(2, 3), axis=1) -> [0,3], [1,4], [2,5]
  auto parts = unstack(iota({2, 3}), 1);
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_TRUE(array_is(parts[0], int32, {2}, {0, 3}));
  EXPECT_TRUE(array_is(parts[2], int32, {2}, {2, 5}));
  auto rows = unstack(iota({2, 3}), -2);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_TRUE(array_is(rows[1], int32, {3}, {3, 4, 5}));
  auto scalars = unstack(array({1.5f, -2.0f}));
  ASSERT_EQ(scalars.size(), 2u);
  EXPECT_TRUE(array_is(scalars[1], float32, {}, {-2.0}));
  EXPECT_TRUE(unstack(zeros({0, 3})).empty());
  EXPECT_EQ(unstack(zeros({2, 0}), 0)[1].shape(), (Shape{0}));
  EXPECT_TRUE(throws_invalid([] { unstack(array(1.0f)); }, "[unstack]"));
  EXPECT_TRUE(throws_invalid([] { unstack(zeros({2}), 1); }, "[unstack]"));
}

TEST(Contiguous, SameValuesRowMajor) {
  array t = transpose(iota({2, 3}));
  EXPECT_TRUE(array_is(contiguous(t), int32, {3, 2}, {0, 3, 1, 4, 2, 5}));
  EXPECT_TRUE(array_is(contiguous(array(2.0f), true), float32, {}, {2.0}));
}

// ---- divmod ---------------------------------------------------------------------------

TEST(Divmod, FloorQuotientAndRemainder) {
  // x = np.array([7,-7,5,-5,0], np.int32); y = np.array([2,2,-3,-3,3], np.int32)
  // np.divmod(x, y) -> [3,-4,-2,1,0], [1,1,-1,-2,0]
  auto qr = divmod(array({7, -7, 5, -5, 0}), array({2, 2, -3, -3, 3}));
  ASSERT_EQ(qr.size(), 2u);
  EXPECT_TRUE(array_is(qr[0], int32, {5}, {3, -4, -2, 1, 0}));
  EXPECT_TRUE(array_is(qr[1], int32, {5}, {1, 1, -1, -2, 0}));
  // np.divmod(np.float32([7.5,-7.5,1.0]), np.float32([2,2,-0.3])) -> [3,-4,-4], [1.5,0.5,-0.2]
  auto f = divmod(array({7.5f, -7.5f, 1.0f}), array({2.0f, 2.0f, -0.3f}));
  EXPECT_TRUE(array_is(f[0], float32, {3}, {3, -4, -4}));
  EXPECT_TRUE(array_is(f[1], float32, {3}, {1.5, 0.5, -0.20000004768371582}, 1e-6));
  // Broadcasting and promotion as the binary ops; rank 0 and empty.
  auto b = divmod(iota({2, 2}), array(3.0f));
  EXPECT_TRUE(array_is(b[0], float32, {2, 2}, {0, 0, 0, 1}));
  EXPECT_TRUE(array_is(b[1], float32, {2, 2}, {0, 1, 2, 0}));
  EXPECT_TRUE(array_is(divmod(array(-7), array(2))[1], int32, {}, {1}));
  EXPECT_EQ(divmod(zeros({0, 3}), ones({3}))[0].shape(), (Shape{0, 3}));
  EXPECT_TRUE(throws_invalid([] { divmod(zeros({2}), zeros({3})); }, ""));
  EXPECT_TRUE(throws_invalid([] { divmod(zeros({2}, complex64), ones({2})); }, "[divmod]"));
}

// ---- view (bit reinterpretation) ------------------------------------------------------

TEST(View, ReinterpretsBytesAsNumPy) {
  array f = array({1.0f, -2.0f});
  // np.float32([1,-2]).view(np.uint8) -> [0,0,128,63, 0,0,0,192]
  EXPECT_TRUE(array_is(view(f, uint8), uint8, {8}, {0, 0, 128, 63, 0, 0, 0, 192}));
  // np.float32([1,-2]).view(np.int32) -> [1065353216, -1073741824]
  EXPECT_TRUE(array_is(view(f, int32), int32, {2}, {1065353216, -1073741824}));
  // np.uint8([[1,2,3,4]]).view(np.uint16) -> [[513, 1027]]
  EXPECT_TRUE(array_is(view(array({1, 2, 3, 4}, {1, 4}, uint8), uint16), uint16, {1, 2}, {513, 1027}));
  // np.float16([1, 2.5]).view(np.int16) -> [15360, 16640]
  EXPECT_TRUE(array_is(view(array({1.0f, 2.5f}, float16), int16), int16, {2}, {15360, 16640}));
  // There and back again; the same dtype is the array itself.
  array x = ramp_f({3, 4});
  EXPECT_TRUE(array_equal(view(view(x, uint16), float32), x).item<bool>());
  EXPECT_EQ(view(x, float32).node(), x.node());
  // Rank 0 of the same size, empty arrays, a lazy (transposed) operand.
  EXPECT_TRUE(array_is(view(array(1.0f), uint32), uint32, {}, {1065353216}));
  EXPECT_EQ(view(zeros({2, 0}), uint8).shape(), (Shape{2, 0}));
  EXPECT_TRUE(array_is(view(transpose(array({1, 2, 3, 4}, {2, 2}, int16)), uint8), uint8, {2, 4},
                       {1, 0, 3, 0, 2, 0, 4, 0}));
}

TEST(View, ComposesWithCompileAndVmap) {
  // Inside a compiled function, between fused elementwise work.
  auto f = compile([](const array& x) { return view(x + 1.0f, int32) + 1; });
  EXPECT_TRUE(array_is(f(array({0.0f, -3.0f})), int32, {2}, {1065353217, -1073741823}));
  // vmap over the leading and the last axis equals a loop over examples.
  array m = array({1.0f, -2.0f, 0.5f, 4.0f}, {2, 2});
  auto g = vmap(std::function<array(const array&)>([](const array& r) { return view(r, uint16); }), 1);
  array batched = g(m);  // examples are the columns [1, .5] and [-2, 4]
  ASSERT_EQ(batched.shape(), (Shape{2, 4}));
  for (int i = 0; i < 2; ++i) {
    array col = squeeze(slice(m, {0, i}, {2, i + 1}), 1);
    EXPECT_TRUE(array_equal(squeeze(slice(batched, {i, 0}, {i + 1, 4}), 0), view(col, uint16)).item<bool>());
  }
}

TEST(View, HasNoGradient) {
  auto g = grad([](const array& x) { return sum(astype(view(x, int32), float32)) + sum(x); });
  EXPECT_TRUE(array_is(g(array({1.0f, 2.0f})), float32, {2}, {1, 1}));
}

TEST(View, Errors) {
  EXPECT_TRUE(throws_invalid([] { view(array(1.0f), uint8); }, "[view]"));
  EXPECT_TRUE(throws_invalid([] { view(zeros({2, 3}, uint8), int32); }, "[view]"));
  EXPECT_TRUE(throws_invalid([] { view(zeros({5}, int16), float64); }, "[view]"));
}

// ---- pad: reflect and symmetric --------------------------------------------------------

TEST(PadMirrored, ReflectAsNumPy) {
  // np.pad(np.arange(6).reshape(2,3), ((1,1),(2,1)), mode='reflect')
  array p = pad(iota({2, 3}), {{1, 1}, {2, 1}}, array(0), "reflect");
  EXPECT_TRUE(array_is(p, int32, {4, 6},
                       {5, 4, 3, 4, 5, 4, 2, 1, 0, 1, 2, 1, 5, 4, 3, 4, 5, 4, 2, 1, 0, 1, 2, 1}));
  // np.pad(np.arange(3), (4,4), mode='reflect'): wider than the axis
  EXPECT_TRUE(array_is(pad(arange(3), 4, array(0), "reflect"), int32, {11},
                       {0, 1, 2, 1, 0, 1, 2, 1, 0, 1, 2}));
  // np.pad(np.array([7]), (2,1), mode='reflect') -> [7, 7, 7, 7]
  EXPECT_TRUE(array_is(pad(array({7}), std::pair<int, int>{2, 1}, array(0), "reflect"), int32, {4}, {7, 7, 7, 7}));
}

TEST(PadMirrored, SymmetricAsNumPy) {
  // np.pad(np.arange(6).reshape(2,3), ((1,0),(2,3)), mode='symmetric')
  array p = pad(iota({2, 3}), {0, 1}, {1, 2}, {0, 3}, array(0), "symmetric");
  EXPECT_TRUE(array_is(p, int32, {3, 8},
                       {1, 0, 0, 1, 2, 2, 1, 0, 1, 0, 0, 1, 2, 2, 1, 0, 4, 3, 3, 4, 5, 5, 4, 3}));
  // np.pad(np.array([1.5,-2.0]), (3,2), mode='symmetric')
  EXPECT_TRUE(array_is(pad(array({1.5f, -2.0f}), std::pair<int, int>{3, 2}, array(0), "symmetric"), float32, {7},
                       {-2, -2, 1.5, 1.5, -2, -2, 1.5}));
  // Only the padded axes count (negative axis), rank 0 pads nothing.
  EXPECT_TRUE(array_is(pad(iota({2, 2}), {-1}, {1}, {0}, array(0), "symmetric"), int32, {2, 3}, {0, 0, 1, 2, 2, 3}));
  EXPECT_TRUE(array_is(pad(array(4.0f), std::vector<std::pair<int, int>>{}, array(0), "reflect"), float32, {}, {4}));
}

TEST(PadMirrored, GradientFoldsMirroredCopiesBack) {
  // d/dx sum(w * pad(x, 2, reflect)), x of 3, w = 1..7: each x[i] gets the
  // w of every position it lands on. NumPy: idx = np.pad(np.arange(3), 2,
  // mode='reflect') = [2,1,0,1,2,1,0]; g = zeros(3); np.add.at(g, idx, w)
  // -> [10, 12, 6]
  array w = arange(1.0, 8.0);
  auto g = grad([&](const array& x) { return sum(multiply(w, pad(x, 2, array(0.0f), "reflect"))); });
  EXPECT_TRUE(array_is(g(zeros({3})), float32, {3}, {10, 12, 6}));
}

TEST(PadMirrored, Errors) {
  EXPECT_TRUE(throws_invalid([] { pad(zeros({0, 2}), 1, array(0), "reflect"); }, "[pad]"));
  EXPECT_TRUE(throws_invalid([] { pad(zeros({0}), 1, array(0), "symmetric"); }, "[pad]"));
  EXPECT_TRUE(throws_invalid([] { pad(zeros({3}), 1, array(0), "wrap"); }, "[pad]"));
  EXPECT_TRUE(throws_invalid([] { pad(zeros({3}), -1, array(0), "reflect"); }, "[pad]"));
}

// ---- linspace ---------------------------------------------------------------------------

TEST(Linspace, MLXSignature) {
  // np.linspace(0, 1, 5) -> [0, .25, .5, .75, 1]; default num 50, float32
  EXPECT_TRUE(array_is(linspace(0, 1, 5), float32, {5}, {0, 0.25, 0.5, 0.75, 1}));
  array d = linspace(-1, 1);
  EXPECT_EQ(d.shape(), (Shape{50}));
  EXPECT_EQ(d.dtype(), float32);
  // np.linspace(0, 10, 4).astype(np.int32) -> [0, 3, 6, 10]
  EXPECT_TRUE(array_is(linspace(0, 10, 4, int32), int32, {4}, {0, 3, 6, 10}));
  EXPECT_TRUE(array_is(linspace(2, 3, 1), float32, {1}, {2}));
  EXPECT_TRUE(array_is(linspace(2, 3, 0), float32, {0}, {}));
  EXPECT_TRUE(throws_invalid([] { linspace(0, 1, -1); }, "[linspace]"));
}

// ---- iteration over the first axis -------------------------------------------------------

TEST(ArrayIteration, VisitsRows) {
  array a = iota({3, 2});
  std::vector<std::vector<double>> rows;
  for (auto row : a) {
    EXPECT_EQ(row.shape(), (Shape{2}));
    rows.push_back(kiln_test::values(row));
  }
  EXPECT_EQ(rows, (std::vector<std::vector<double>>{{0, 1}, {2, 3}, {4, 5}}));
  std::vector<double> elems;
  for (auto x : array({1.5f, 2.5f})) {
    EXPECT_EQ(x.ndim(), 0u);
    elems.push_back(x.item<float>());
  }
  EXPECT_EQ(elems, (std::vector<double>{1.5, 2.5}));
  int n = 0;
  for (auto r : zeros({0, 4})) (void)r, ++n;
  EXPECT_EQ(n, 0);
  EXPECT_TRUE(throws_invalid([] { for (auto x : array(1.0f)) (void)x; }, "[array]"));
}

}  // namespace
