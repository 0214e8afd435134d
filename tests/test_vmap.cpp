// vmap: every op's batching rule against a loop over unbatched calls stacked
// together, for several in_axes (0, inner, last, -1 on some inputs) and
// out_axes; nested vmap; composition with compile; error cases; and the
// batched IR itself (unbatched values stay unbatched).
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "ir/builder.h"
#include "ir/verifier.h"
#include "passes/transforms.h"
#include "test_helpers.h"

using namespace kiln;
using kiln_test::array_is;
using kiln_test::throws_invalid;

namespace {

// Deterministic pseudo-random data.
uint32_t next(uint32_t& s) {
  s = s * 1664525u + 1013904223u;
  return s >> 8;
}

array rnd(const Shape& shape, uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
  std::vector<float> v(size_t(ir::shape_size(shape)));
  for (auto& x : v) x = lo + (hi - lo) * float(next(seed) % 10007) / 10007.0f;
  return array(v.data(), shape, float32);
}

array rndi(const Shape& shape, uint32_t seed, int lo, int hi, Dtype dtype = int32) {
  std::vector<int32_t> v(size_t(ir::shape_size(shape)));
  for (auto& x : v) x = lo + int32_t(next(seed) % uint32_t(hi - lo + 1));
  return astype(array(v.data(), shape, int32), dtype);
}

array rndb(const Shape& shape, uint32_t seed) { return rndi(shape, seed, 0, 1, bool_); }

// The loop that vmap replaces: call f on the i-th slices of the mapped
// inputs and stack each output along its out axis.
std::vector<array> loop_reference(const ArrayFunction& f, const std::vector<array>& xs,
                                  std::vector<int> in_axes, std::vector<int> out_axes) {
  if (in_axes.empty()) in_axes.assign(xs.size(), 0);
  int batch = -1;
  for (size_t i = 0; i < xs.size(); ++i)
    if (in_axes[i] >= 0) batch = xs[i].shape(in_axes[i]);
  std::vector<std::vector<array>> per_output;
  for (int b = 0; b < batch; ++b) {
    std::vector<array> args;
    for (size_t i = 0; i < xs.size(); ++i)
      args.push_back(in_axes[i] >= 0 ? take(xs[i], b, in_axes[i]) : xs[i]);
    std::vector<array> outs = f(args);
    per_output.resize(outs.size());
    for (size_t j = 0; j < outs.size(); ++j) per_output[j].push_back(outs[j]);
  }
  if (out_axes.empty()) out_axes.assign(per_output.size(), 0);
  std::vector<array> stacked;
  for (size_t j = 0; j < per_output.size(); ++j) stacked.push_back(stack(per_output[j], out_axes[j]));
  return stacked;
}

::testing::AssertionResult same(const array& actual, const array& expected, double tol) {
  return array_is(actual, expected.dtype(), expected.shape(), kiln_test::values(expected), tol, tol);
}

// vmap(f, in_axes, out_axes)(xs) equals the loop.
::testing::AssertionResult matches_loop(const ArrayFunction& f, const std::vector<array>& xs,
                                        const std::vector<int>& in_axes,
                                        const std::vector<int>& out_axes = {}, double tol = 1e-5) {
  std::vector<array> got, want;
  try {
    got = vmap(f, in_axes, out_axes)(xs);
  } catch (const std::exception& e) {
    return ::testing::AssertionFailure() << "vmap threw: " << e.what();
  }
  want = loop_reference(f, xs, in_axes, out_axes);
  if (got.size() != want.size())
    return ::testing::AssertionFailure() << got.size() << " outputs, expected " << want.size();
  for (size_t j = 0; j < got.size(); ++j) {
    auto r = same(got[j], want[j], tol);
    if (!r) return r << " (output " << j << ")";
  }
  return ::testing::AssertionSuccess();
}

// Unary/binary conveniences.
ArrayFunction fn1(std::function<array(const array&)> f) {
  return [f](const std::vector<array>& xs) { return std::vector<array>{f(xs[0])}; };
}
ArrayFunction fn2(std::function<array(const array&, const array&)> f) {
  return [f](const std::vector<array>& xs) { return std::vector<array>{f(xs[0], xs[1])}; };
}
ArrayFunction fn3(std::function<array(const array&, const array&, const array&)> f) {
  return [f](const std::vector<array>& xs) { return std::vector<array>{f(xs[0], xs[1], xs[2])}; };
}

// A batched operand of unbatched shape s with batch size b at axis `at`.
Shape with_batch(Shape s, int at, int b) {
  s.insert(s.begin() + at, b);
  return s;
}

}  // namespace

// ---- elementwise: every unary, binary and comparison op of the IR ---------

TEST(VmapElementwise, EveryUnaryOp) {
  for (int k = int(ir::OpKind::Abs); k <= int(ir::OpKind::Cast); ++k) {
    auto kind = ir::OpKind(k);
    SCOPED_TRACE(ir::op_name(kind));
    Dtype dt = kind == ir::OpKind::LogicalNot      ? bool_
               : kind == ir::OpKind::BitwiseInvert ? int32
                                                   : float32;
    float lo = kind == ir::OpKind::Arccosh ? 1.1f : 0.1f;
    float hi = kind == ir::OpKind::Arccosh ? 3.0f : 0.9f;
    auto f = fn1([kind](const array& x) {
      if (kind == ir::OpKind::Cast)
        return detail::make_node(kind, {x}, {}, ir::Type{int32, x.shape()});
      return detail::make_node(kind, {x});
    });
    for (int axis : {0, 2}) {
      Shape s = with_batch({2, 3}, axis, 4);
      array x = dt == float32 ? rnd(s, uint32_t(k), lo, hi) * 3.0f
                              : (dt == bool_ ? rndb(s, uint32_t(k)) : rndi(s, uint32_t(k), -9, 9));
      if (kind == ir::OpKind::Arcsin || kind == ir::OpKind::Arccos || kind == ir::OpKind::Arctanh ||
          kind == ir::OpKind::Erfinv)
        x = x / 3.0f;
      EXPECT_TRUE(matches_loop(f, {x}, {axis}));
    }
  }
}

TEST(VmapElementwise, EveryBinaryOpAndComparison) {
  for (int k = int(ir::OpKind::Add); k <= int(ir::OpKind::GreaterEqual); ++k) {
    auto kind = ir::OpKind(k);
    SCOPED_TRACE(ir::op_name(kind));
    bool logical = kind == ir::OpKind::LogicalAnd || kind == ir::OpKind::LogicalOr;
    bool bitwise = kind >= ir::OpKind::BitwiseAnd && kind <= ir::OpKind::RightShift;
    auto make = [&](const Shape& s, uint32_t seed) {
      if (logical) return rndb(s, seed);
      if (bitwise) return rndi(s, seed, 0, 5);
      // Few distinct positive values, so that comparisons see equal pairs
      // and divisors are never zero.
      return floor(rnd(s, seed, 1.0f, 4.0f));
    };
    auto f = fn2([kind](const array& a, const array& b) { return detail::make_node(kind, {a, b}); });
    Shape u{2, 3};
    // (x axis, y axis): both at 0, at different axes, one unmapped each way.
    for (auto [ax, ay] : std::vector<std::pair<int, int>>{{0, 0}, {1, 2}, {0, -1}, {-1, 2}}) {
      SCOPED_TRACE("in_axes " + std::to_string(ax) + ", " + std::to_string(ay));
      array x = make(ax < 0 ? u : with_batch(u, ax, 4), uint32_t(k));
      array y = make(ay < 0 ? u : with_batch(u, ay, 4), uint32_t(k + 100));
      EXPECT_TRUE(matches_loop(f, {x, y}, {ax, ay}));
    }
  }
}

TEST(VmapElementwise, BroadcastingWithUnmappedOperand) {
  // Frontend broadcasting inside the traced function: unbatched (3) meets
  // batched (2,3) and the other way round.
  auto f = fn2([](const array& a, const array& b) { return a * b + 1.0f; });
  EXPECT_TRUE(matches_loop(f, {rnd({4, 2, 3}, 1), rnd({3}, 2)}, {0, -1}));
  EXPECT_TRUE(matches_loop(f, {rnd({2, 4, 3}, 1), rnd({3}, 2)}, {1, -1}));
  EXPECT_TRUE(matches_loop(f, {rnd({2, 3}, 1), rnd({3, 4}, 2)}, {-1, 1}));
  EXPECT_TRUE(matches_loop(f, {rnd({1, 3, 4}, 1), rnd({2, 1, 4}, 2)}, {2, 2}));
  // Scalars per example against vectors.
  EXPECT_TRUE(matches_loop(f, {rnd({4}, 1), rnd({4, 3}, 2)}, {0, 0}));
  // Type promotion: int mapped, float unmapped.
  EXPECT_TRUE(matches_loop(f, {rndi({4, 3}, 3, -5, 5), rnd({3}, 4)}, {0, -1}));
}

TEST(VmapElementwise, SelectEveryBatchingCombination) {
  auto f = fn3([](const array& c, const array& a, const array& b) { return where(c, a, b); });
  Shape u{2, 3};
  for (int mask = 1; mask < 8; ++mask) {
    std::vector<int> axes;
    for (int i = 0; i < 3; ++i) axes.push_back(mask & (1 << i) ? i % 3 : -1);
    SCOPED_TRACE("mask " + std::to_string(mask));
    array c = rndb(axes[0] < 0 ? u : with_batch(u, axes[0], 4), 7);
    array a = rnd(axes[1] < 0 ? u : with_batch(u, axes[1], 4), 8);
    array b = rnd(axes[2] < 0 ? u : with_batch(u, axes[2], 4), 9);
    EXPECT_TRUE(matches_loop(f, {c, a, b}, axes));
  }
  // clip: maximum/minimum against unmapped bounds.
  auto g = fn3([](const array& x, const array& lo, const array& hi) { return clip(x, lo, hi); });
  EXPECT_TRUE(matches_loop(g, {rnd({4, 3}, 1), rnd({3}, 2, -1, 0), rnd({4}, 3, 0, 1)}, {0, -1, 0}));
}

TEST(VmapElementwise, CastAndIntegerDtypes) {
  auto f = fn1([](const array& x) { return astype(x * 2.5f, int16) + astype(x, int16); });
  EXPECT_TRUE(matches_loop(f, {rnd({3, 4}, 5, -3, 3)}, {1}));
  auto g = fn1([](const array& x) { return astype(x, float16) * 2.0f; });
  EXPECT_TRUE(matches_loop(g, {rnd({3, 4}, 6)}, {0}, {}, 1e-3));
}

// ---- reductions --------------------------------------------------------------

TEST(VmapReduction, EveryReductionOverVariousAxes) {
  using R = std::function<array(const array&, const std::vector<int>&)>;
  std::vector<std::pair<const char*, R>> reductions = {
      {"sum", [](const array& x, const std::vector<int>& a) { return sum(x, a); }},
      {"prod", [](const array& x, const std::vector<int>& a) { return prod(x, a); }},
      {"max", [](const array& x, const std::vector<int>& a) { return max(x, a); }},
      {"min", [](const array& x, const std::vector<int>& a) { return min(x, a, true); }},
      {"mean", [](const array& x, const std::vector<int>& a) { return mean(x, a); }},
      {"logsumexp", [](const array& x, const std::vector<int>& a) { return logsumexp(x, a); }},
      {"var", [](const array& x, const std::vector<int>& a) { return var(x, a); }},
      {"all", [](const array& x, const std::vector<int>& a) { return all(x > 0.0f, a); }},
      {"any", [](const array& x, const std::vector<int>& a) { return any(x > 0.5f, a, true); }},
  };
  std::vector<std::vector<int>> axes_list = {{0}, {1}, {2}, {0, 2}, {-1}, {0, 1, 2}};
  Shape u{2, 3, 2};
  for (auto& [name, r] : reductions) {
    for (const auto& axes : axes_list) {
      for (int in_axis : {0, 1, 3}) {
        SCOPED_TRACE(std::string(name) + " axes[0] " + std::to_string(axes[0]) + " size " +
                     std::to_string(axes.size()) + " in_axis " + std::to_string(in_axis));
        auto f = fn1([r = r, axes = axes](const array& x) { return r(x, axes); });
        EXPECT_TRUE(matches_loop(f, {rnd(with_batch(u, in_axis, 3), 11)}, {in_axis}));
      }
    }
  }
  // Whole-array reductions.
  EXPECT_TRUE(matches_loop(fn1([](const array& x) { return sum(x); }), {rnd({3, 2, 2}, 12)}, {1}));
}

TEST(VmapReduction, ArgmaxArgmin) {
  Shape u{3, 4};
  for (int axis : {0, 1, -1}) {
    for (int in_axis : {0, 1, 2}) {
      SCOPED_TRACE("axis " + std::to_string(axis) + " in_axis " + std::to_string(in_axis));
      auto f = fn1([axis](const array& x) { return argmax(x, axis); });
      auto g = fn1([axis](const array& x) { return argmin(x, axis, true); });
      array x = rnd(with_batch(u, in_axis, 3), 13);
      EXPECT_TRUE(matches_loop(f, {x}, {in_axis}));
      EXPECT_TRUE(matches_loop(g, {x}, {in_axis}));
    }
  }
  EXPECT_TRUE(matches_loop(fn1([](const array& x) { return argmax(x); }), {rnd({3, 4, 2}, 14)}, {2}));
}

TEST(VmapReduction, SoftmaxAndComposites) {
  auto f = fn1([](const array& x) { return softmax(x, -1); });
  EXPECT_TRUE(matches_loop(f, {rnd({3, 2, 4}, 15)}, {1}));
  auto g = fn2([](const array& x, const array& w) {
    array h = tanh(matmul(x, w));
    return mean(square(h - mean(h, 0, true)));
  });
  EXPECT_TRUE(matches_loop(g, {rnd({3, 2, 4}, 16), rnd({4, 5}, 17)}, {0, -1}));
}

// ---- shape ops -------------------------------------------------------------------

TEST(VmapShape, Reshape) {
  auto f = fn1([](const array& x) { return reshape(x, {6, 4}); });
  for (int ax : {0, 1, 3}) EXPECT_TRUE(matches_loop(f, {rnd(with_batch({2, 3, 4}, ax, 3), 20)}, {ax}));
  auto g = fn1([](const array& x) { return flatten(x); });
  EXPECT_TRUE(matches_loop(g, {rnd({2, 3, 3}, 21)}, {2}));
  auto h = fn1([](const array& x) { return squeeze(expand_dims(x, {0, 2}), 0); });
  EXPECT_TRUE(matches_loop(h, {rnd({2, 3, 3}, 22)}, {1}));
}

TEST(VmapShape, Transpose) {
  auto f = fn1([](const array& x) { return transpose(x, {2, 0, 1}); });
  auto g = fn1([](const array& x) { return swapaxes(x, 0, 2); });
  auto h = fn1([](const array& x) { return moveaxis(x, 0, -1) * 2.0f; });
  for (int ax : {0, 1, 2, 3}) {
    array x = rnd(with_batch({2, 3, 4}, ax, 3), 23);
    EXPECT_TRUE(matches_loop(f, {x}, {ax}));
    EXPECT_TRUE(matches_loop(g, {x}, {ax}));
    EXPECT_TRUE(matches_loop(h, {x}, {ax}));
  }
}

TEST(VmapShape, BroadcastToHigherRank) {
  // The operand's batch axis must line up with the result's once the rank
  // grows: (3) -> (2,3), (1,3) -> (4,2,3), (2,1) -> (2,3).
  auto f = fn1([](const array& x) { return broadcast_to(x, {2, 3}); });
  EXPECT_TRUE(matches_loop(f, {rnd({4, 3}, 24)}, {0}));
  EXPECT_TRUE(matches_loop(f, {rnd({3, 4}, 24)}, {1}));
  auto g = fn1([](const array& x) { return broadcast_to(x, {4, 2, 3}); });
  for (int ax : {0, 1, 2}) EXPECT_TRUE(matches_loop(g, {rnd(with_batch({1, 3}, ax, 5), 25)}, {ax}));
  auto h = fn1([](const array& x) { return broadcast_to(x, {2, 3}); });
  EXPECT_TRUE(matches_loop(h, {rnd({2, 1, 5}, 26)}, {2}));
  // A broadcast of an unbatched value inside a batched computation.
  auto k = fn2([](const array& x, const array& y) { return broadcast_to(y, {2, 3}) + x; });
  EXPECT_TRUE(matches_loop(k, {rnd({4, 2, 3}, 27), rnd({3}, 28)}, {0, -1}));
}

TEST(VmapShape, Slice) {
  auto f = fn1([](const array& x) { return slice(x, {0, 1, 0}, {2, 3, 4}, {1, 1, 2}); });
  for (int ax : {0, 2, 3}) EXPECT_TRUE(matches_loop(f, {rnd(with_batch({2, 3, 4}, ax, 3), 30)}, {ax}));
  auto g = fn1([](const array& x) { return split(x, 2, 1)[1]; });
  EXPECT_TRUE(matches_loop(g, {rnd({3, 2, 4}, 31)}, {0}));
  // Several outputs: every piece of a split.
  ArrayFunction h = [](const std::vector<array>& xs) { return split(xs[0], Shape{1, 3}, 1); };
  EXPECT_TRUE(matches_loop(h, {rnd({2, 5, 3}, 32)}, {2}));
}

TEST(VmapShape, SliceUpdateEveryBatchingCombination) {
  auto f = fn2([](const array& src, const array& upd) {
    return slice_update(src, upd, {1, 0}, {3, 4}, {1, 2});
  });
  Shape us{4, 4}, uu{2, 2};
  for (auto [as, au] : std::vector<std::pair<int, int>>{{0, 0}, {1, 2}, {0, -1}, {-1, 0}, {-1, 2}, {2, -1}}) {
    SCOPED_TRACE("in_axes " + std::to_string(as) + ", " + std::to_string(au));
    array src = rnd(as < 0 ? us : with_batch(us, as, 3), 33);
    array upd = rnd(au < 0 ? uu : with_batch(uu, au, 3), 34);
    EXPECT_TRUE(matches_loop(f, {src, upd}, {as, au}));
  }
}

TEST(VmapShape, ConcatenateAndStack) {
  auto f = fn3([](const array& a, const array& b, const array& c) {
    return concatenate({a, b, c}, 1);
  });
  Shape ua{2, 1}, ub{2, 2}, uc{2, 3};
  for (auto axes : std::vector<std::vector<int>>{{0, 0, 0}, {0, -1, 2}, {-1, 1, -1}, {2, 0, 1}}) {
    array a = rnd(axes[0] < 0 ? ua : with_batch(ua, axes[0], 3), 35);
    array b = rnd(axes[1] < 0 ? ub : with_batch(ub, axes[1], 3), 36);
    array c = rnd(axes[2] < 0 ? uc : with_batch(uc, axes[2], 3), 37);
    EXPECT_TRUE(matches_loop(f, {a, b, c}, axes));
  }
  auto g = fn2([](const array& a, const array& b) { return concatenate({a, b}, 0); });
  EXPECT_TRUE(matches_loop(g, {rnd({3, 2}, 38), rnd({1}, 39)}, {0, -1}));
  auto h = fn2([](const array& a, const array& b) { return stack({a, b}, 1); });
  EXPECT_TRUE(matches_loop(h, {rnd({2, 3}, 40), rnd({3, 2}, 41)}, {1, 0}));
  auto k = fn1([](const array& x) { return repeat(x, 2, 1) + tile(x, {1, 2}); });
  EXPECT_TRUE(matches_loop(k, {rnd({2, 3, 2}, 42)}, {1}));
}

TEST(VmapShape, Pad) {
  // Unbatched pad value.
  auto f = fn1([](const array& x) { return pad(x, {{1, 0}, {2, 1}}, array(0.5f)); });
  for (int ax : {0, 1, 2}) EXPECT_TRUE(matches_loop(f, {rnd(with_batch({2, 3}, ax, 3), 43)}, {ax}));
  // Batched pad value, with x batched or not.
  auto g = fn2([](const array& x, const array& v) { return pad(x, {{1, 0}, {2, 1}}, v); });
  EXPECT_TRUE(matches_loop(g, {rnd({3, 2, 3}, 44), rnd({3}, 45)}, {0, 0}));
  EXPECT_TRUE(matches_loop(g, {rnd({2, 3, 3}, 44), rnd({3}, 45)}, {2, 0}));
  EXPECT_TRUE(matches_loop(g, {rnd({2, 3}, 44), rnd({3}, 45)}, {-1, 0}));
  // Edge mode.
  auto h = fn1([](const array& x) { return pad(x, {{1, 1}, {0, 2}}, array(0.0f), "edge"); });
  EXPECT_TRUE(matches_loop(h, {rnd({2, 3, 3}, 46)}, {1}));
}

// ---- indexing and matmul -------------------------------------------------------

TEST(VmapIndexing, TakeOperandBatched) {
  array idx = array({2, 0, -1, 7, 1}, {5});  // wraps and clamps
  for (int axis : {0, 1}) {
    auto f = fn2([axis](const array& x, const array& i) { return take(x, i, axis); });
    for (int ax : {0, 1, 2}) {
      SCOPED_TRACE("axis " + std::to_string(axis) + " in_axis " + std::to_string(ax));
      EXPECT_TRUE(matches_loop(f, {rnd(with_batch({3, 4}, ax, 2), 50), idx}, {ax, -1}));
      // 2-D indices.
      EXPECT_TRUE(matches_loop(f, {rnd(with_batch({3, 4}, ax, 2), 50), reshape(idx, {5, 1})},
                               {ax, -1}));
    }
  }
  auto g = fn1([](const array& x) { return take(x, 1, 1); });  // scalar index
  EXPECT_TRUE(matches_loop(g, {rnd({3, 4, 2}, 51)}, {2}));
  auto h = fn1([](const array& x) { return take(x, array({5, 0})); });  // flattened
  EXPECT_TRUE(matches_loop(h, {rnd({3, 4, 2}, 52)}, {0}));
}

TEST(VmapIndexing, TakeIndicesBatched) {
  for (int axis : {0, 1, 2}) {
    auto f = fn2([axis](const array& x, const array& i) { return take(x, i, axis); });
    array x = rnd({3, 4, 2}, 53);
    SCOPED_TRACE("axis " + std::to_string(axis));
    EXPECT_TRUE(matches_loop(f, {x, rndi({5, 2}, 54, -3, 4)}, {-1, 0}));
    EXPECT_TRUE(matches_loop(f, {x, rndi({2, 3, 5}, 55, -3, 4)}, {-1, 2}));
    EXPECT_TRUE(matches_loop(f, {x, rndi({5}, 56, 0, 1)}, {-1, 0}));  // scalar per example
  }
}

TEST(VmapIndexing, TakeBothBatched) {
  for (int axis : {0, 1, 2}) {
    auto f = fn2([axis](const array& x, const array& i) { return take(x, i, axis); });
    SCOPED_TRACE("axis " + std::to_string(axis));
    // Indices include negatives (wrap once) and out-of-range ones (clamp).
    EXPECT_TRUE(matches_loop(f, {rnd({3, 3, 4, 2}, 57), rndi({3, 5}, 58, -6, 6)}, {0, 0}));
    EXPECT_TRUE(matches_loop(f, {rnd({3, 4, 2, 3}, 59), rndi({2, 3, 2}, 60, -2, 3, int64)}, {3, 1}));
    EXPECT_TRUE(matches_loop(f, {rnd({3, 4, 3, 2}, 61), rndi({3}, 62, 0, 1)}, {2, 0}));
  }
}

TEST(VmapIndexing, TakeAlongAxis) {
  for (int axis : {0, 1}) {
    auto f = fn2([axis](const array& x, const array& i) { return take_along_axis(x, i, axis); });
    Shape ux{3, 4}, ui = axis == 0 ? Shape{2, 4} : Shape{3, 5};
    for (auto [ax, ai] : std::vector<std::pair<int, int>>{{0, 0}, {1, 2}, {2, -1}, {-1, 1}, {-1, 0}}) {
      SCOPED_TRACE("axis " + std::to_string(axis) + " in_axes " + std::to_string(ax) + ", " +
                   std::to_string(ai));
      array x = rnd(ax < 0 ? ux : with_batch(ux, ax, 2), 63);
      array i = rndi(ai < 0 ? ui : with_batch(ui, ai, 2), 64, -4, 4);
      EXPECT_TRUE(matches_loop(f, {x, i}, {ax, ai}));
    }
  }
  // Index broadcasting in the frontend (indices (1,k) against x (n,m)).
  auto g = fn2([](const array& x, const array& i) { return take_along_axis(x, i, 1); });
  EXPECT_TRUE(matches_loop(g, {rnd({2, 3, 4}, 65), rndi({2, 1, 2}, 66, 0, 3)}, {0, 0}));
}

// The scatter primitive under every mix of batched operands: a, indices
// (with duplicates and negative / out-of-range ones) and updates.
TEST(VmapIndexing, ScatterEveryReduceAndBatching) {
  using Op3 = array (*)(const array&, const array&, const array&, int, StreamOrDevice);
  std::vector<std::pair<const char*, Op3>> ops = {
      {"scatter", scatter}, {"scatter_add", scatter_add}, {"scatter_prod", scatter_prod},
      {"scatter_max", scatter_max}, {"scatter_min", scatter_min}};
  for (auto [name, op] : ops) {
    for (int axis : {0, 1}) {
      // a: (3, 4); indices: (5,); updates: MLX's index shape + one slice
      // dim per axis of a, 1 at `axis`.
      auto f = fn3([op, axis](const array& a, const array& i, const array& u) {
        return op(a, i, expand_dims(u, axis + 1), axis, {});
      });
      Shape ua{3, 4}, ui{5}, uu = axis == 0 ? Shape{5, 4} : Shape{5, 3};
      for (auto axes : std::vector<std::vector<int>>{{0, -1, -1}, {-1, 0, -1}, {-1, -1, 1}, {1, 0, 0}, {-1, 0, 1}}) {
        SCOPED_TRACE(std::string(name) + " axis " + std::to_string(axis) + " in_axes " + std::to_string(axes[0]) +
                     "," + std::to_string(axes[1]) + "," + std::to_string(axes[2]));
        array a = rnd(axes[0] < 0 ? ua : with_batch(ua, axes[0], 2), 71);
        array i = rndi(axes[1] < 0 ? ui : with_batch(ui, axes[1], 2), 72, -5, 5);
        array u = rnd(axes[2] < 0 ? uu : with_batch(uu, axes[2], 2), 73);
        EXPECT_TRUE(matches_loop(f, {a, i, u}, axes));
      }
    }
  }
}

TEST(VmapIndexing, GatherPutAlongAxisMaskedScatter) {
  auto g = fn2([](const array& x, const array& i) {
    return gather(x, std::vector<array>{i, i}, std::vector<int>{0, 1}, {1, 2});  // general path (slices of 2)
  });
  EXPECT_TRUE(matches_loop(g, {rnd({2, 3, 4}, 81), rndi({2, 3}, 82, -3, 3)}, {0, 0}));
  EXPECT_TRUE(matches_loop(g, {rnd({3, 4}, 83), rndi({3, 2}, 84, -3, 3)}, {-1, 1}));
  auto p = fn3([](const array& x, const array& i, const array& v) { return put_along_axis(x, i, v, 1); });
  EXPECT_TRUE(matches_loop(p, {rnd({2, 3, 4}, 85), rndi({3, 2}, 86, 0, 3), rnd({2, 3, 2}, 87)}, {0, -1, 0}));
  auto m = fn3([](const array& x, const array& mask, const array& src) { return masked_scatter(x, mask, src); });
  EXPECT_TRUE(matches_loop(m, {rnd({3, 6}, 88), rndb({3, 6}, 89), rnd({6}, 90)}, {0, 0, -1}));
}

TEST(VmapIndexing, ArgmaxThenTakeAlongAxis) {
  // A typical gather chain: pick the max per row, per example.
  auto f = fn1([](const array& x) {
    array i = expand_dims(argmax(x, 1), 1);
    return take_along_axis(x, astype(i, int32), 1);
  });
  EXPECT_TRUE(matches_loop(f, {rnd({3, 2, 5}, 67)}, {0}));
}

TEST(VmapMatmul, EitherOrBothBatched) {
  auto f = fn2([](const array& a, const array& b) { return matmul(a, b); });
  Shape ua{2, 3}, ub{3, 4};
  for (auto [aa, ab] : std::vector<std::pair<int, int>>{
           {0, 0}, {1, 1}, {2, 2}, {0, -1}, {1, -1}, {2, -1}, {-1, 0}, {-1, 1}, {-1, 2}, {2, 1}, {1, 0}}) {
    SCOPED_TRACE("in_axes " + std::to_string(aa) + ", " + std::to_string(ab));
    array a = rnd(aa < 0 ? ua : with_batch(ua, aa, 5), 70);
    array b = rnd(ab < 0 ? ub : with_batch(ub, ab, 5), 71);
    EXPECT_TRUE(matches_loop(f, {a, b}, {aa, ab}));
  }
}

TEST(VmapMatmul, LeadingDimsAndVectors) {
  auto f = fn2([](const array& a, const array& b) { return matmul(a, b); });
  Shape ua{2, 2, 3}, ub{2, 3, 4};
  for (auto [aa, ab] : std::vector<std::pair<int, int>>{{1, 1}, {2, 2}, {3, 3}, {0, 1}, {3, -1}, {-1, 2}, {1, 0}}) {
    SCOPED_TRACE("in_axes " + std::to_string(aa) + ", " + std::to_string(ab));
    array a = rnd(aa < 0 ? ua : with_batch(ua, aa, 3), 72);
    array b = rnd(ab < 0 ? ub : with_batch(ub, ab, 3), 73);
    EXPECT_TRUE(matches_loop(f, {a, b}, {aa, ab}));
  }
  // Matrix-vector and vector-vector per example.
  EXPECT_TRUE(matches_loop(f, {rnd({4, 3}, 74), rnd({5, 3}, 75)}, {-1, 0}));
  EXPECT_TRUE(matches_loop(f, {rnd({5, 3}, 76), rnd({5, 3}, 77)}, {0, 0}));
  auto g = fn2([](const array& a, const array& b) { return outer(a, b) + inner(a, a); });
  EXPECT_TRUE(matches_loop(g, {rnd({4, 3}, 78), rnd({3, 4}, 79)}, {0, 1}));
}

// ---- out_axes, unmapped outputs, several outputs ----------------------------------

TEST(VmapAxes, OutAxes) {
  auto f = fn1([](const array& x) { return exp(x) * 2.0f; });
  for (int oa : {0, 1, 2}) EXPECT_TRUE(matches_loop(f, {rnd({4, 2, 3}, 80)}, {0}, {oa}));
  EXPECT_TRUE(matches_loop(f, {rnd({2, 3, 4}, 80)}, {2}, {1}));
  // Several outputs, each with its own out axis; one does not depend on x.
  array w = rnd({2, 3}, 81);
  ArrayFunction g = [w](const std::vector<array>& xs) {
    return std::vector<array>{sum(xs[0], 1), xs[0] + w, w * 2.0f, xs[0]};
  };
  EXPECT_TRUE(matches_loop(g, {rnd({2, 4, 3}, 82)}, {1}, {0, 2, 1, 0}));
}

TEST(VmapAxes, UnbatchedOutputsAreBroadcast) {
  // Output independent of the mapped input: broadcast to include the batch.
  auto f = vmap(fn2([](const array&, const array& y) { return y * 2.0f; }), {0, -1});
  auto out = f({rnd({3, 2}, 83), array({1.0f, 2.0f})})[0];
  EXPECT_TRUE(array_is(out, float32, {3, 2}, {2, 4, 2, 4, 2, 4}));
  auto g = vmap(fn1([](const array&) { return array({7, 8}); }), {0}, {1});
  EXPECT_TRUE(array_is(g({zeros({3})})[0], int32, {2, 3}, {7, 7, 7, 8, 8, 8}));
  // out_axes -1: the output is returned unmapped.
  auto h = vmap(ArrayFunction([](const std::vector<array>& xs) {
                  return std::vector<array>{xs[0] + 1.0f, xs[1] * 3.0f};
                }),
                {0, -1}, {0, -1});
  auto outs = h({rnd({3, 2}, 84), array({1.0f, 2.0f})});
  EXPECT_EQ(outs[0].shape(), (Shape{3, 2}));
  EXPECT_TRUE(array_is(outs[1], float32, {2}, {3, 6}));
  // The identity, mapped from one axis to another.
  auto id = vmap([](const array& x) { return x; }, 1, 0);
  array x = reshape(arange(6.0f), {2, 3});
  EXPECT_TRUE(array_is(id(x), float32, {3, 2}, {0, 3, 1, 4, 2, 5}));
}

TEST(VmapAxes, UnaryAndBinaryForms) {
  auto f = vmap([](const array& x) { return sum(x * x); });
  EXPECT_TRUE(array_is(f(reshape(arange(6.0f), {2, 3})), float32, {2}, {5, 50}));
  auto g = vmap([](const array& x) { return sum(x); }, 1);
  EXPECT_TRUE(array_is(g(reshape(arange(6.0f), {2, 3})), float32, {3}, {3, 5, 7}));
  auto dot = vmap([](const array& a, const array& b) { return sum(a * b); }, 0, -1);
  EXPECT_TRUE(array_is(dot(reshape(arange(6.0f), {2, 3}), array({1.0f, 0.0f, 2.0f})), float32, {2},
                       {4, 13}));
  auto h = vmap([](const array& a, const array& b) { return a - b; }, 1, 0, 1);
  EXPECT_TRUE(array_is(h(reshape(arange(6.0f), {2, 3}), array({1.0f, 2.0f, 3.0f})), float32, {2, 3},
                       {-1, -1, -1, 2, 2, 2}));
}

// ---- composition ----------------------------------------------------------------------

TEST(VmapCompose, NestedVmap) {
  // dot -> matrix-vector -> matrix-matrix.
  auto dot = [](const array& a, const array& b) { return sum(a * b); };
  auto mv = vmap(dot, 0, -1);
  auto mm = vmap(mv, -1, 1, 1);
  array a = rnd({3, 4}, 90), b = rnd({4, 2}, 91);
  EXPECT_TRUE(same(mm(a, b), matmul(a, b), 1e-5));
  // vmap of vmap over two axes of one input, both with non-zero axes.
  auto inner = vmap([](const array& x) { return softmax(x, 0) * 2.0f; }, 1, 0);
  auto outer = vmap(inner, 2, 1);
  array x = rnd({4, 3, 2}, 92);
  // outer maps axis 2 (size 2) and puts it at 1; inner maps the original
  // axis 1 (size 3) and puts it at 0: result [3, 2, 4] with softmax over 4.
  array expected = transpose(softmax(x, 0) * 2.0f, {1, 2, 0});
  EXPECT_TRUE(same(outer(x), expected, 1e-5));
  // Nested through the vector form with an unmapped input.
  ArrayFunction f = [](const std::vector<array>& xs) {
    return std::vector<array>{matmul(xs[0], xs[1]) + xs[2]};
  };
  auto vv = vmap(vmap(f, {0, -1, -1}), {0, -1, 0});
  array p = rnd({2, 3, 1, 4}, 93), q = rnd({4, 2}, 94), r = rnd({2, 2}, 95);
  array want = stack({matmul(take(p, 0, 0), q) + take(r, 0, 0), matmul(take(p, 1, 0), q) + take(r, 1, 0)});
  EXPECT_TRUE(same(vv({p, q, r})[0], want, 1e-5));
}

TEST(VmapCompose, WithCompile) {
  auto f = [](const array& x, const array& w) { return tanh(matmul(x, w)) + 1.0f; };
  array x = rnd({5, 2, 3}, 96), w = rnd({3, 4}, 97);
  array want = loop_reference(fn2(f), {x, w}, {0, -1}, {})[0];
  // vmap(compile(f))
  auto vc = vmap(compile(std::function<array(const array&, const array&)>(f)), 0, -1);
  EXPECT_TRUE(same(vc(x, w), want, 1e-5));
  // compile(vmap(f)): traced once per signature, then reused.
  reset_jit_stats();
  auto cv = compile(vmap(f, 0, -1));
  EXPECT_TRUE(same(cv(x, w), want, 1e-5));
  EXPECT_TRUE(same(cv(x * 1.0f, w), want, 1e-5));
  EXPECT_EQ(jit_stats().traces, 1u);
  EXPECT_EQ(jit_stats().trace_cache_hits, 1u);
  // compile(vmap(compile(f))) with a new batch size.
  auto cvc = compile(vmap(compile(std::function<array(const array&, const array&)>(f)), 0, -1));
  array x2 = rnd({2, 2, 3}, 98);
  EXPECT_TRUE(same(cvc(x2, w), loop_reference(fn2(f), {x2, w}, {0, -1}, {})[0], 1e-5));
}

TEST(VmapCompose, CapturedArraysAreUnbatchedConstants) {
  array w = rnd({3}, 99);
  array pending = exp(w);  // captured while pending
  auto f = vmap([w, pending](const array& x) { return x * w + pending; });
  array x = rnd({4, 3}, 100);
  EXPECT_TRUE(same(f(x), x * w + exp(w), 1e-6));
}

TEST(VmapCompose, ResultsAreLazy) {
  auto f = vmap([](const array& x) { return exp(x) + 1.0f; });
  array out = f(rnd({3, 2}, 101));
  EXPECT_FALSE(out.is_evaluated());
  EXPECT_TRUE(same(out, exp(rnd({3, 2}, 101)) + 1.0f, 1e-6));
}

TEST(VmapCompose, BatchSizesOneAndZero) {
  ArrayFunction f = [](const std::vector<array>& xs) {
    return std::vector<array>{matmul(xs[0], xs[1]), sum(xs[0], 0), take(xs[0], xs[2], 1)};
  };
  // Batch size 1.
  EXPECT_TRUE(matches_loop(f, {rnd({1, 2, 3}, 102), rnd({3, 3, 1}, 103), rndi({2, 1}, 104, 0, 2)},
                           {0, -1, 1}, {0, 1, 0}));
  // Batch size 0: empty results of the right shapes.
  auto outs = vmap(f, {0, -1, 1})({zeros({0, 2, 3}), zeros({3, 3}), zeros({2, 0}, int32)});
  EXPECT_TRUE(array_is(outs[0], float32, {0, 2, 3}, {}));
  EXPECT_TRUE(array_is(outs[1], float32, {0, 3}, {}));
  EXPECT_TRUE(array_is(outs[2], float32, {0, 2, 2}, {}));
}

TEST(VmapCompose, PerExampleLossOfASmallNetwork) {
  // Per-example cross-entropy of a 2-layer MLP: weights unmapped, inputs
  // and integer labels mapped.
  array w1 = rnd({4, 6}, 105), b1 = rnd({6}, 106), w2 = rnd({6, 3}, 107);
  ArrayFunction loss = [](const std::vector<array>& a) {
    const array &x = a[0], &y = a[1], &w1 = a[2], &b1 = a[3], &w2 = a[4];
    array h = maximum(matmul(x, w1) + b1, array(0.0f));
    array logits = matmul(h, w2);
    array picked = take_along_axis(logits, reshape(y, {1}), 0);
    return std::vector<array>{logsumexp(logits) - sum(picked)};
  };
  array x = rnd({5, 4}, 108);
  array y = rndi({5}, 109, 0, 2);
  EXPECT_TRUE(matches_loop(loss, {x, y, w1, b1, w2}, {0, 0, -1, -1, -1}));
}

TEST(VmapCompose, PerExampleGradients) {
  // Linear regression: loss(w; x, y) = (x . w - y)^2, gradient 2 (x . w - y) x.
  std::function<array(const std::vector<array>&)> loss = [](const std::vector<array>& a) {
    array r = sum(a[1] * a[0]) - a[2];
    return r * r;
  };
  array w = rnd({3}, 110), x = rnd({5, 3}, 111), y = rnd({5}, 112);
  auto per_example = vmap(grad(loss, 0), {-1, 0, 0});
  array g = per_example({w, x, y})[0];
  array expected = 2.0f * expand_dims(matmul(x, w) - y, 1) * x;
  EXPECT_TRUE(same(g, expected, 1e-5));
  EXPECT_TRUE(matches_loop(grad(loss, 0), {w, x, y}, {-1, 0, 0}));
  // The same, with the batch on another axis of x and the result moved.
  EXPECT_TRUE(matches_loop(grad(loss, 0), {w, transpose(x), y}, {-1, 1, 0}, {1}));
  // Unary form: per-row gradient of sum(sin(x) * x).
  auto gf = grad(std::function<array(const array&)>([](const array& v) { return sum(sin(v) * v); }));
  array m = rnd({4, 3}, 113);
  EXPECT_TRUE(same(vmap(gf)(m), cos(m) * m + sin(m), 1e-5));
}

TEST(VmapCompose, GradientThroughVmap) {
  // grad of a sum of vmapped losses = the sum of per-example gradients; the
  // batched IR (matmul folded into rows, take as take_along_axis, pad with
  // a batched value as select) is differentiated like any other.
  std::function<array(const std::vector<array>&)> total = [](const std::vector<array>& a) {
    ArrayFunction per = [](const std::vector<array>& b) {
      const array &w = b[0], &x = b[1], &i = b[2], &v = b[3];
      array h = tanh(matmul(reshape(x, {1, 3}), w));
      array p = pad(reshape(h, {4}), {{1, 1}}, v);
      return std::vector<array>{sum(take(p, i, 0)) + sum(square(p))};
    };
    return sum(vmap(per, {-1, 0, 0, 0})(a)[0]);
  };
  array w = rnd({3, 4}, 114), x = rnd({5, 3}, 115), i = rndi({5, 2}, 116, 0, 5), v = rnd({5}, 117);
  std::function<array(const std::vector<array>&)> one = [](const std::vector<array>& b) {
    const array &w = b[0], &x = b[1], &i = b[2], &v = b[3];
    array h = tanh(matmul(reshape(x, {1, 3}), w));
    array p = pad(reshape(h, {4}), {{1, 1}}, v);
    return sum(take(p, i, 0)) + sum(square(p));
  };
  auto gw = grad(total, std::vector<int>{0, 3})({w, x, i, v});
  // Reference: per-example gradients in a loop, summed for w.
  array sum_w = zeros({3, 4});
  std::vector<array> gv;
  for (int b = 0; b < 5; ++b) {
    auto g = grad(one, std::vector<int>{0, 3})({w, take(x, b, 0), take(i, b, 0), take(v, b, 0)});
    sum_w = sum_w + g[0];
    gv.push_back(g[1]);
  }
  EXPECT_TRUE(same(gw[0], sum_w, 1e-5));
  EXPECT_TRUE(same(gw[1], stack(gv), 1e-5));
}

// ---- errors ------------------------------------------------------------------------------

TEST(VmapErrors, BadAxesAndSizes) {
  auto add2 = [](const array& a, const array& b) { return a + b; };
  // Mismatched batch sizes.
  EXPECT_TRUE(throws_invalid([&] { vmap(add2)(zeros({3, 2}), zeros({4, 2})); },
                             "[vmap] Mapped inputs have different sizes"));
  EXPECT_TRUE(throws_invalid([&] { vmap(add2, 0, 1)(zeros({3, 2}), zeros({3, 2})); },
                             "input 1 has size 2 along axis 1"));
  // An in_axis the input does not have.
  EXPECT_TRUE(throws_invalid([&] { vmap([](const array& x) { return x; }, 2)(zeros({3, 2})); },
                             "[vmap] in_axes[0] = 2 is out of range for input 0 of shape (3,2)"));
  EXPECT_TRUE(throws_invalid([&] { vmap([](const array& x) { return x; })(array(1.0f)); },
                             "it has no dimensions"));
  EXPECT_TRUE(throws_invalid([&] { vmap([](const array& x) { return x; }, -2); }, "in_axes[0] = -2"));
  // in_axes / out_axes of the wrong length.
  ArrayFunction two = [](const std::vector<array>& xs) { return std::vector<array>{xs[0], xs[1]}; };
  EXPECT_TRUE(throws_invalid([&] { vmap(two, {0})({zeros({2}), zeros({2})}); },
                             "called with 2 inputs but in_axes has 1 entries"));
  EXPECT_TRUE(throws_invalid([&] { vmap(two, {0, 0}, {0, 0, 0})({zeros({2}), zeros({2})}); },
                             "returned 2 outputs but out_axes has 3 entries"));
  // An out axis beyond the batched output's rank.
  EXPECT_TRUE(throws_invalid([&] { vmap([](const array& x) { return x; }, 0, 2)(zeros({3, 2})); },
                             "out_axes[0] = 2 is out of range"));
  EXPECT_TRUE(throws_invalid([&] { vmap([](const array& x) { return x; }, 0, -3); }, "out_axes[0] = -3"));
  // A mapped output declared unmapped.
  EXPECT_TRUE(throws_invalid([&] { vmap([](const array& x) { return x; }, 0, -1)(zeros({3, 2})); },
                             "depends on a mapped input"));
  // Nothing mapped in, but mapped out: an error when vmap is built.
  EXPECT_TRUE(throws_invalid([&] { vmap([](const array& x) { return x; }, -1, 0); },
                             "Every in_axes entry is -1"));
  // No inputs at all: nothing gives the batch size.
  EXPECT_TRUE(throws_invalid([&] { vmap(ArrayFunction([](const std::vector<array>&) {
                                          return std::vector<array>{zeros({2})};
                                        }))({}); },
                             "At least one input must be mapped"));
  // ...unless nothing is mapped out either: then it is a plain call.
  EXPECT_TRUE(array_is(vmap([](const array& x) { return x + 1; }, -1, -1)(array({1, 2})), int32, {2},
                       {2, 3}));
  // Evaluating a traced value inside the function is refused.
  EXPECT_TRUE(throws_invalid([&] { vmap([](const array& x) { return array(x.item<float>()); })(zeros({2})); },
                             "[eval]"));
  // Errors of the traced function itself propagate.
  EXPECT_TRUE(throws_invalid([&] { vmap([](const array& x) { return matmul(x, x); })(zeros({2, 3, 4})); },
                             "[matmul]"));
}

// ---- the pass itself ------------------------------------------------------------------------

TEST(VmapPass, UnbatchedValuesStayUnbatched) {
  // f(x, w) = x * exp(w) + c, x mapped, w not: exp(w) and the constant keep
  // their original types; only the multiply and add are batched.
  ir::Function f;
  int x = f.add_input({float32, {3}});
  int w = f.add_input({float32, {3}});
  ir::Builder b(f);
  int e = b.unary(ir::OpKind::Exp, w);
  int m = b.mul(x, e);
  int c = b.splat({float32, {3}}, 2.0);
  f.outputs = {b.add(m, c), e};
  ir::Function g = passes::vmap(f, {0, -1}, {1, -1}, 5);
  EXPECT_NO_THROW(ir::verify(g));
  ASSERT_EQ(g.inputs.size(), 2u);
  EXPECT_EQ(g.inputs[0], (ir::Type{float32, {5, 3}}));
  EXPECT_EQ(g.inputs[1], (ir::Type{float32, {3}}));
  for (const auto& op : g.ops) {
    if (op.kind == ir::OpKind::Exp || op.kind == ir::OpKind::Constant) {
      EXPECT_EQ(op.type.shape, (Shape{3}));
    }
    if (op.kind == ir::OpKind::Multiply || op.kind == ir::OpKind::Add) {
      EXPECT_EQ(op.type.shape, (Shape{5, 3}));
    }
  }
  EXPECT_EQ(g.value_type(g.outputs[0]), (ir::Type{float32, {3, 5}}));
  EXPECT_EQ(g.value_type(g.outputs[1]), (ir::Type{float32, {3}}));
}

TEST(VmapPass, InnerAxisNeedsNoTransposeForElementwiseChains) {
  ir::Function f;
  int x = f.add_input({float32, {2, 3}});
  ir::Builder b(f);
  f.outputs = {b.unary(ir::OpKind::Tanh, b.mul(b.unary(ir::OpKind::Exp, x), x))};
  ir::Function g = passes::vmap(f, {1}, {1}, 4);
  for (const auto& op : g.ops) EXPECT_NE(op.kind, ir::OpKind::Transpose);
  EXPECT_EQ(g.value_type(g.outputs[0]), (ir::Type{float32, {2, 4, 3}}));
}

TEST(VmapPass, MatmulWithOneBatchedOperandDoesNotBroadcastTheOther) {
  ir::Function f;
  int x = f.add_input({float32, {2, 3}});
  int w = f.add_input({float32, {3, 4}});
  ir::Builder b(f);
  f.outputs = {b.op(ir::OpKind::Matmul, {x, w})};
  for (auto axes : std::vector<std::vector<int>>{{0, -1}, {-1, 0}}) {
    ir::Function g = passes::vmap(f, axes, {0}, 8);
    EXPECT_NO_THROW(ir::verify(g));
    for (const auto& op : g.ops) {
      EXPECT_NE(op.kind, ir::OpKind::Broadcast);
      if (op.kind == ir::OpKind::Matmul) {
        EXPECT_EQ(op.type.shape.size(), 2u);
      }
    }
  }
}

TEST(VmapPass, Errors) {
  ir::Function f;
  int x = f.add_input({float32, {2}});
  ir::Builder b(f);
  f.outputs = {b.neg(x)};
  EXPECT_TRUE(throws_invalid([&] { passes::vmap(f, {0, 0}, {}, 2); }, "in_axes has 2 entries"));
  EXPECT_TRUE(throws_invalid([&] { passes::vmap(f, {2}, {}, 2); }, "in_axes[0] = 2 is out of range"));
  EXPECT_TRUE(throws_invalid([&] { passes::vmap(f, {}, {0, 1}, 2); }, "out_axes has 2 entries"));
  EXPECT_TRUE(throws_invalid([&] { passes::vmap(f, {}, {-1}, 2); }, "depends on a mapped input"));
  EXPECT_TRUE(throws_invalid([&] { passes::vmap(f, {}, {}, -1); }, "batch size"));
  // The registered pass: every input on axis 0, batch 4.
  ir::Function g = passes::vmap_pass(f);
  EXPECT_EQ(g.inputs[0], (ir::Type{float32, {4, 2}}));
}
