// Autodiff: vjp, jvp, grad, value_and_grad (frontend/autodiff.h) and the IR
// passes behind them (passes/autodiff.cpp).
//
//  * Every differentiable op: vjp against central finite differences
//    element by element, jvp against a directional finite difference, and
//    <v, J u> computed both ways, in float64 at random points (fixed seeds),
//    including broadcasting operands and several reduction axes.
//  * Non-differentiable ops give zero gradients; ties and prod's zeros.
//  * Compositions: grad of grad, jvp of grad (Hessian-vector products),
//    compile(grad(f)), grad(compile(f)); closures capturing arrays.
//  * Errors; the passes on IR directly.
//  * Training: linear regression and a 2-layer MLP reach stated targets.
#include <algorithm>
#include <cmath>
#include <functional>
#include <iostream>
#include <numbers>
#include <random>
#include <string>
#include <vector>

#include "ir/function.h"
#include "ir/verifier.h"
#include "passes/transforms.h"
#include "test_helpers.h"

using namespace kiln;
using kiln_test::array_is;
using kiln_test::throws_invalid;
using kiln_test::values;

namespace {

using Fn = std::function<array(const std::vector<array>&)>;
using VecFn = std::function<std::vector<array>(const std::vector<array>&)>;

// Uniform values in [lo, hi), float64; with `signed_` a random sign too
// (magnitudes in [lo, hi)), to stay away from zero.
array uniform(const Shape& shape, double lo, double hi, uint32_t seed, bool signed_ = false) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<double> dist(lo, hi);
  std::bernoulli_distribution coin(0.5);
  std::vector<double> v(size_t(ir::shape_size(shape)));
  for (auto& e : v) {
    e = dist(gen);
    if (signed_ && coin(gen)) e = -e;
  }
  return array(v.data(), shape, float64);
}

array from_values(const std::vector<double>& v, const Shape& shape) {
  return array(v.data(), shape, float64);
}

double dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

struct Case {
  std::string name;
  Fn f;
  std::vector<array> x;
  double h = 1e-6;    // finite-difference step
  double tol = 1e-6;  // relative to 1 + |expected|
};

// Checks f's vjp (every input element by central differences), its jvp
// (a random direction), and that both give the same <v, J u>.
void check_case(const Case& c, uint32_t seed) {
  SCOPED_TRACE(c.name);
  VecFn vf = [f = c.f](const std::vector<array>& xs) { return std::vector<array>{f(xs)}; };
  array y = c.f(c.x);
  const std::vector<double> yv = values(y);
  array v = uniform(y.shape(), -1, 1, seed);
  const std::vector<double> vv = values(v);

  auto [outs, vjps] = vjp(vf, c.x, {v});
  ASSERT_EQ(outs.size(), 1u);
  ASSERT_EQ(vjps.size(), c.x.size());
  EXPECT_TRUE(array_is(outs[0], y.dtype(), y.shape(), yv, 1e-12, 1e-12));

  auto f_dot_v = [&](const std::vector<array>& xs) { return dot(vv, values(c.f(xs))); };
  double vjp_dot_u = 0;
  std::vector<array> us;
  for (size_t i = 0; i < c.x.size(); ++i) {
    SCOPED_TRACE("input " + std::to_string(i));
    ASSERT_EQ(vjps[i].dtype(), c.x[i].dtype());
    ASSERT_EQ(vjps[i].shape(), c.x[i].shape());
    const std::vector<double> gv = values(vjps[i]);
    const std::vector<double> xv = values(c.x[i]);
    for (size_t k = 0; k < xv.size(); ++k) {
      std::vector<array> xs = c.x;
      std::vector<double> p = xv;
      p[k] = xv[k] + c.h;
      xs[i] = from_values(p, c.x[i].shape());
      double fp = f_dot_v(xs);
      p[k] = xv[k] - c.h;
      xs[i] = from_values(p, c.x[i].shape());
      double fm = f_dot_v(xs);
      double fd = (fp - fm) / (2 * c.h);
      EXPECT_NEAR(gv[k], fd, c.tol * (1 + std::fabs(fd))) << "element " << k;
    }
    us.push_back(uniform(c.x[i].shape(), -1, 1, seed + 1000 + uint32_t(i)));
    vjp_dot_u += dot(gv, values(us.back()));
  }

  auto [outs2, tangents] = jvp(vf, c.x, us);
  ASSERT_EQ(tangents.size(), 1u);
  ASSERT_EQ(tangents[0].shape(), y.shape());
  EXPECT_TRUE(array_is(outs2[0], y.dtype(), y.shape(), yv, 1e-12, 1e-12));
  std::vector<array> plus, minus;
  for (size_t i = 0; i < c.x.size(); ++i) {
    plus.push_back(c.x[i] + c.h * us[i]);
    minus.push_back(c.x[i] - c.h * us[i]);
  }
  const std::vector<double> yp = values(c.f(plus)), ym = values(c.f(minus));
  const std::vector<double> tv = values(tangents[0]);
  for (size_t k = 0; k < tv.size(); ++k) {
    double fd = (yp[k] - ym[k]) / (2 * c.h);
    EXPECT_NEAR(tv[k], fd, c.tol * (1 + std::fabs(fd))) << "tangent element " << k;
  }
  double v_dot_jvp = dot(vv, tv);
  // Exact up to rounding (float32 rounding where a case goes through float32).
  EXPECT_NEAR(vjp_dot_u, v_dot_jvp, std::max(1e-10, c.tol * 1e-4) * (1 + std::fabs(v_dot_jvp)));
}

void check_cases(const std::vector<Case>& cases, uint32_t seed) {
  for (size_t i = 0; i < cases.size(); ++i) check_case(cases[i], seed + 17 * uint32_t(i));
}

// Shorthands for the case tables.
struct Gen {
  uint32_t seed;
  array u(const Shape& s, double lo, double hi) { return uniform(s, lo, hi, seed++); }
  array s(const Shape& s, double lo, double hi) { return uniform(s, lo, hi, seed++, true); }
};

// The ops take MLX's trailing StreamOrDevice (default: the default stream).
Fn un(array (*op)(const array&, StreamOrDevice)) {
  return [op](const std::vector<array>& x) { return op(x[0], {}); };
}
Fn bin(array (*op)(const array&, const array&, StreamOrDevice)) {
  return [op](const std::vector<array>& x) { return op(x[0], x[1], {}); };
}

}  // namespace

// ---- every op against finite differences -------------------------------------

TEST(AutodiffOps, UnaryElementwise) {
  Gen g{1};
  const Shape s{2, 3};
  std::vector<Case> cases = {
      {"abs", un(abs), {g.s(s, 0.2, 2)}},
      {"negative", un(negative), {g.u(s, -2, 2)}},
      {"square", un(square), {g.u(s, -2, 2)}},
      {"sqrt", un(sqrt), {g.u(s, 0.5, 2)}},
      {"rsqrt", un(rsqrt), {g.u(s, 0.5, 2)}},
      {"reciprocal", un(reciprocal), {g.s(s, 0.5, 2)}},
      {"exp", un(exp), {g.u(s, -2, 2)}},
      {"expm1", un(expm1), {g.u(s, -2, 2)}},
      {"log", un(log), {g.u(s, 0.5, 2)}},
      {"log2", un(log2), {g.u(s, 0.5, 2)}},
      {"log10", un(log10), {g.u(s, 0.5, 2)}},
      {"log1p", un(log1p), {g.u(s, -0.5, 2)}},
      {"sin", un(sin), {g.u(s, -2, 2)}},
      {"cos", un(cos), {g.u(s, -2, 2)}},
      {"tan", un(tan), {g.u(s, -1, 1)}},
      {"arcsin", un(arcsin), {g.u(s, -0.8, 0.8)}},
      {"arccos", un(arccos), {g.u(s, -0.8, 0.8)}},
      {"arctan", un(arctan), {g.u(s, -2, 2)}},
      {"sinh", un(sinh), {g.u(s, -2, 2)}},
      {"cosh", un(cosh), {g.u(s, -2, 2)}},
      {"tanh", un(tanh), {g.u(s, -2, 2)}},
      {"arcsinh", un(arcsinh), {g.u(s, -2, 2)}},
      {"arccosh", un(arccosh), {g.u(s, 1.2, 3)}},
      {"arctanh", un(arctanh), {g.u(s, -0.8, 0.8)}},
      {"sigmoid", un(sigmoid), {g.u(s, -3, 3)}},
      {"erf", un(erf), {g.u(s, -2, 2)}},
      {"erfinv", un(erfinv), {g.u(s, -0.8, 0.8)}},
      {"copy", [](auto& x) { return copy(x[0]); }, {g.u(s, -2, 2)}},
      // float64 -> float32 -> float64: the derivative is 1, up to float32
      // rounding of the perturbed points (hence the larger step).
      {"cast", [](auto& x) { return astype(astype(x[0], float32), float64) * x[0]; },
       {g.u(s, -2, 2)}, 1e-3, 1e-3},
  };
  check_cases(cases, 100);
}

TEST(AutodiffOps, BinaryElementwiseWithBroadcasting) {
  Gen g{2};
  const Shape a{3, 1}, b{1, 4};
  std::vector<Case> cases = {
      {"add", bin(add), {g.u(a, -2, 2), g.u(b, -2, 2)}},
      {"subtract", bin(subtract), {g.u(a, -2, 2), g.u(b, -2, 2)}},
      {"multiply", bin(multiply), {g.u(a, -2, 2), g.u(b, -2, 2)}},
      {"divide", bin(divide), {g.u(a, -2, 2), g.s(b, 0.5, 2)}},
      {"power", bin(power), {g.u(a, 0.5, 2), g.u(b, -2, 2)}},
      {"power_int_exponent", [](auto& x) { return power(x[0], array(3.0, float64)); },
       {g.u({2, 3}, -2, 2)}},
      {"maximum", bin(maximum), {g.u(a, -2, 2), g.u(b, -2, 2)}},
      {"minimum", bin(minimum), {g.u(a, -2, 2), g.u(b, -2, 2)}},
      {"arctan2", bin(arctan2), {g.u(a, -2, 2), g.s(b, 0.5, 2)}},
      {"logaddexp", bin(logaddexp), {g.u(a, -2, 2), g.u(b, -2, 2)}},
      {"remainder", bin(remainder), {g.u(a, 0.1, 5), g.u(b, 0.7, 1.5)}},
      {"remainder_negative_divisor", bin(remainder), {g.u(a, -5, 5), g.u(b, -1.5, -0.7)}},
      {"where", [](auto& x) {
         array cond = kiln_test::bools({1, 0, 0, 1, 0, 1, 1, 0, 1, 1, 0, 0}, {3, 4});
         return where(cond, x[0], x[1]);
       }, {g.u(a, -2, 2), g.u(b, -2, 2)}},
      {"clip", [](auto& x) { return clip(x[0], array(-0.5, float64), array(0.5, float64)); },
       {g.u({3, 4}, -2, 2)}},
      {"scalar_operands", [](auto& x) { return 3.0 * x[0] - x[0] / 2.0 + 1.0; }, {g.u(a, -2, 2)}},
      {"same_operand_twice", [](auto& x) { return x[0] * x[0] + x[0]; }, {g.u(b, -2, 2)}},
  };
  check_cases(cases, 200);
}

TEST(AutodiffOps, Reductions) {
  Gen g{3};
  const Shape s{2, 3, 2};
  std::vector<Case> cases = {
      {"sum_all", [](auto& x) { return sum(x[0]); }, {g.u(s, -2, 2)}},
      {"sum_axis1", [](auto& x) { return sum(x[0], 1); }, {g.u(s, -2, 2)}},
      {"sum_axes02_keepdims", [](auto& x) { return sum(x[0], {0, 2}, true); }, {g.u(s, -2, 2)}},
      {"prod_axis1", [](auto& x) { return prod(x[0], 1); }, {g.s(s, 0.5, 1.5)}},
      {"prod_all", [](auto& x) { return prod(x[0]); }, {g.s({2, 3}, 0.5, 1.5)}},
      {"max_axis2", [](auto& x) { return max(x[0], 2); }, {g.u(s, -2, 2)}},
      {"min_axes01", [](auto& x) { return min(x[0], {0, 1}); }, {g.u(s, -2, 2)}},
      {"max_all", [](auto& x) { return max(x[0]); }, {g.u(s, -2, 2)}},
      {"mean_axis0", [](auto& x) { return mean(x[0], 0); }, {g.u(s, -2, 2)}},
      {"var_axis1", [](auto& x) { return var(x[0], 1); }, {g.u(s, -2, 2)}},
      {"std_all", [](auto& x) { return kiln::std(x[0]); }, {g.u(s, -2, 2)}},
      {"logsumexp_axis2", [](auto& x) { return logsumexp(x[0], 2); }, {g.u(s, -2, 2)}},
      {"softmax_last", [](auto& x) { return softmax(x[0], -1); }, {g.u(s, -2, 2)}},
  };
  check_cases(cases, 300);
}

TEST(AutodiffOps, ShapeOps) {
  Gen g{4};
  std::vector<Case> cases = {
      {"reshape", [](auto& x) { return reshape(x[0], {3, 4}); }, {g.u({2, 3, 2}, -2, 2)}},
      {"transpose", [](auto& x) { return transpose(x[0], {2, 0, 1}); }, {g.u({2, 3, 2}, -2, 2)}},
      {"broadcast_to", [](auto& x) { return broadcast_to(x[0], {2, 3, 4}); }, {g.u({3, 1}, -2, 2)}},
      {"broadcast_scalar", [](auto& x) { return broadcast_to(x[0], {2, 3}); }, {g.u({}, -2, 2)}},
      {"expand_squeeze", [](auto& x) { return squeeze(expand_dims(x[0], {0, 2}), 0); },
       {g.u({2, 3}, -2, 2)}},
      {"flatten", [](auto& x) { return flatten(x[0]); }, {g.u({2, 3}, -2, 2)}},
      {"moveaxis", [](auto& x) { return moveaxis(x[0], 0, 2); }, {g.u({2, 3, 2}, -2, 2)}},
      {"slice", [](auto& x) { return slice(x[0], {1, 0}, {3, 5}); }, {g.u({4, 5}, -2, 2)}},
      {"slice_strided", [](auto& x) { return slice(x[0], {0, 1}, {4, 5}, {2, 3}); },
       {g.u({4, 5}, -2, 2)}},
      {"slice_reversed", [](auto& x) { return slice(x[0], {3, 4}, {-5, 0}, {-1, -2}); },
       {g.u({4, 5}, -2, 2)}},
      {"slice_update", [](auto& x) { return slice_update(x[0], x[1], {1, 1}, {3, 4}); },
       {g.u({4, 5}, -2, 2), g.u({2, 3}, -2, 2)}},
      {"slice_update_strided",
       [](auto& x) { return slice_update(x[0], x[1], {0, 4}, {4, 0}, {2, -2}); },
       {g.u({4, 5}, -2, 2), g.u({2, 2}, -2, 2)}},
      {"concatenate_axis1", [](auto& x) { return concatenate({x[0], x[1], x[2]}, 1); },
       {g.u({2, 1}, -2, 2), g.u({2, 3}, -2, 2), g.u({2, 2}, -2, 2)}},
      {"concatenate_axis0", [](auto& x) { return concatenate({x[0], x[1]}, 0); },
       {g.u({1, 3}, -2, 2), g.u({2, 3}, -2, 2)}},
      {"pad_with_value", [](auto& x) { return pad(x[0], {{1, 2}, {0, 1}}, x[1]); },
       {g.u({2, 3}, -2, 2), g.u({}, -2, 2)}},
      {"pad_edge", [](auto& x) { return pad(x[0], 1, array(0.0, float64), "edge"); },
       {g.u({2, 3}, -2, 2)}},
      {"split", [](auto& x) {
         auto parts = split(x[0], 3, 1);
         return parts[0] * 2.0 + parts[1] * parts[2];
       }, {g.u({2, 6}, -2, 2)}},
      {"stack", [](auto& x) { return stack({x[0], x[1] * x[0]}, 1); },
       {g.u({2, 3}, -2, 2), g.u({2, 3}, -2, 2)}},
      {"repeat", [](auto& x) { return repeat(x[0], 2, 1); }, {g.u({2, 3}, -2, 2)}},
      {"tile", [](auto& x) { return tile(x[0], {2, 1}); }, {g.u({2, 3}, -2, 2)}},
      {"tril", [](auto& x) { return tril(x[0]); }, {g.u({3, 3}, -2, 2)}},
  };
  check_cases(cases, 400);
}

TEST(AutodiffOps, IndexingAndMatmul) {
  Gen g{5};
  std::vector<Case> cases = {
      // Repeated and negative indices: the cotangents of the repeats add up.
      {"take_axis0", [](auto& x) { return take(x[0], array({2, 0, 2, -1, 3}), 0); },
       {g.u({4, 3}, -2, 2)}},
      {"take_axis1_2d_indices",
       [](auto& x) { return take(x[0], array({3, 0, 0, 1}, {2, 2}), 1); },
       {g.u({2, 4, 3}, -2, 2)}},
      {"take_flat", [](auto& x) { return take(x[0], array({5, 1, 5})); }, {g.u({2, 3}, -2, 2)}},
      {"take_scalar_index", [](auto& x) { return take(x[0], 1, 1); }, {g.u({2, 3}, -2, 2)}},
      {"take_along_axis1",
       [](auto& x) { return take_along_axis(x[0], array({3, 0, 3, 1, 1, 2}, {3, 2}), 1); },
       {g.u({3, 4}, -2, 2)}},
      {"take_along_axis0",
       [](auto& x) { return take_along_axis(x[0], array({2, 0, 0, 1, 2, 2}, {2, 3}), 0); },
       {g.u({3, 3}, -2, 2)}},
      {"take_along_axis_broadcast_indices",
       [](auto& x) { return take_along_axis(x[0], array({1, 0}, {1, 2, 1}), 1); },
       {g.u({2, 3, 2}, -2, 2)}},
      {"matmul", bin(matmul), {g.u({3, 4}, -2, 2), g.u({4, 2}, -2, 2)}},
      {"matmul_batched", bin(matmul), {g.u({2, 3, 4}, -2, 2), g.u({2, 4, 2}, -2, 2)}},
      {"matmul_broadcast_batch", bin(matmul), {g.u({3, 2}, -2, 2), g.u({2, 2, 3}, -2, 2)}},
      {"matmul_vector", bin(matmul), {g.u({4}, -2, 2), g.u({4, 2}, -2, 2)}},
      {"inner", bin(inner), {g.u({2, 3}, -2, 2), g.u({3}, -2, 2)}},
      {"outer", bin(outer), {g.u({2}, -2, 2), g.u({3}, -2, 2)}},
      // argmax is not differentiable; the values it selects are.
      {"take_along_argmax",
       [](auto& x) { return take_along_axis(x[0], argmax(x[0], 1, true), 1); },
       {g.u({3, 4}, -2, 2)}},
  };
  check_cases(cases, 500);
}

// The scatter family and the composites built on it and on take. Duplicate
// indices make the cotangents of colliding reads add up (take, gather) and
// colliding updates combine (scatter_add, scatter_prod).
TEST(AutodiffOps, GatherAndScatter) {
  Gen g{8};
  const array dup = array({3, 0, 3, -1, 1});
  std::vector<Case> cases = {
      {"take_rows_duplicates", [dup](auto& x) { return take(x[0], dup, 0) * 1.5; }, {g.u({4, 3}, -2, 2)}},
      {"gather_one_axis", [](auto& x) { return gather(x[0], array({1, 1, 0}), 1, {2, 1, 2}); }, {g.u({2, 3, 2}, -2, 2)}},
      {"gather_two_axes_slices",
       [](auto& x) { return gather(x[0], std::vector<array>{array({0, 1, 0}), array({2, 0, 2})}, std::vector<int>{0, 2}, {1, 2, 2}); },
       {g.u({2, 3, 4}, -2, 2)}},
      {"scatter_add", [dup](auto& x) { return scatter_add(x[0], dup, reshape(x[1], {5, 1, 3}), 0); },
       {g.u({4, 3}, -2, 2), g.u({5, 3}, -2, 2)}},
      {"scatter_add_two_axes",
       [](auto& x) { return scatter_add(x[0], std::vector<array>{array({0, 1, 0}), array({1, 1, 1})}, x[1], std::vector<int>{0, 1}); },
       {g.u({2, 3}, -2, 2), g.u({3, 1, 2}, -2, 2)}},
      {"scatter_assign_distinct", [](auto& x) { return scatter(x[0], array({2, 0}), reshape(x[1], {2, 1, 3}), 0); },
       {g.u({4, 3}, -2, 2), g.u({2, 3}, -2, 2)}},
      {"scatter_prod", [dup](auto& x) { return scatter_prod(x[0], dup, reshape(x[1], {5, 1, 3}), 0); },
       {g.s({4, 3}, 0.5, 1.5), g.s({5, 3}, 0.5, 1.5)}},
      {"scatter_max", [](auto& x) { return scatter_max(x[0], array({1, 0, 1}), reshape(x[1], {3, 1}), 0); },
       {g.u({3}, -2, 2), g.u({3}, -2, 2)}},
      {"scatter_min", [](auto& x) { return scatter_min(x[0], array({1, 0, 1}), reshape(x[1], {3, 1}), 0); },
       {g.u({3}, -2, 2), g.u({3}, -2, 2)}},
      {"put_along_axis", [](auto& x) { return put_along_axis(x[0], array({2, 0}, {2, 1}), x[1], 1); },
       {g.u({2, 3}, -2, 2), g.u({2, 1}, -2, 2)}},
      {"scatter_add_axis",
       [](auto& x) { return scatter_add_axis(x[0], array({1, 1, 0, 1}, {2, 2}), x[1], 0); },
       {g.u({2, 2}, -2, 2), g.u({2, 2}, -2, 2)}},
      {"masked_scatter",
       [](auto& x) { return masked_scatter(x[0], kiln_test::bools({0, 1, 1, 0, 1}), x[1]); },
       {g.u({5}, -2, 2), g.u({3}, -2, 2)}},
      {"dynamic_slice_and_update",
       [](auto& x) {
         array s = slice(x[0], array({1}), {1}, {2, 2});
         return slice_update(x[0], s * s, array({0, 0}), {0, 1});
       },
       {g.u({2, 4}, -2, 2)}},
      {"as_strided", [](auto& x) { return as_strided(x[0], {3, 2}, {1, 1}, 1); }, {g.u({5}, -2, 2)}},
  };
  check_cases(cases, 700);
}

TEST(AutodiffOps, Compositions) {
  Gen g{6};
  std::vector<Case> cases = {
      {"gelu_like", [](auto& x) {
         const array& v = x[0];
         return 0.5 * v * (1.0 + tanh(0.7978845608 * (v + 0.044715 * v * v * v)));
       }, {g.u({2, 3}, -2, 2)}},
      {"layer_norm", [](auto& x) {
         array m = mean(x[0], -1, true);
         array c = x[0] - m;
         return c * rsqrt(mean(square(c), -1, true) + 1e-5) * x[1];
       }, {g.u({2, 4}, -2, 2), g.u({4}, -2, 2)}},
      {"cross_entropy", [](auto& x) {
         array labels = array({2, 0, 1});
         array logp = x[0] - logsumexp(x[0], -1, true);
         return -mean(take_along_axis(logp, expand_dims(labels, -1), -1));
       }, {g.u({3, 4}, -2, 2)}},
      {"mlp_layer", [](auto& x) { return tanh(matmul(x[0], x[1]) + x[2]); },
       {g.u({3, 2}, -2, 2), g.u({2, 4}, -1, 1), g.u({4}, -1, 1)}},
  };
  check_cases(cases, 600);
}

// ---- zero gradients, ties, zeros -----------------------------------------------

TEST(AutodiffZero, NonDifferentiableOpsGiveZero) {
  array x = uniform({2, 3}, -2, 2, 7);
  array zero = zeros({2, 3}, float64);
  std::vector<std::pair<std::string, Fn>> fns = {
      {"sign", [](auto& v) { return sum(sign(v[0])); }},
      {"floor", [](auto& v) { return sum(floor(v[0])); }},
      {"ceil", [](auto& v) { return sum(ceil(v[0])); }},
      {"round", [](auto& v) { return sum(round(v[0])); }},
      {"floor_divide", [](auto& v) { return sum(floor_divide(v[0], array(0.7, float64))); }},
      {"comparison", [](auto& v) { return sum(astype(v[0] > 0.0, float64)); }},
      {"where_condition", [](auto& v) {
         return sum(where(v[0] < 0.0, array(1.0, float64), array(2.0, float64)));
       }},
      {"argmax", [](auto& v) { return astype(argmax(v[0]), float64); }},
      {"integer_cast", [](auto& v) { return sum(astype(astype(v[0] * 10.0, int32), float64)); }},
      {"bool_cast", [](auto& v) { return sum(astype(astype(v[0], bool_), float64)); }},
      {"stop_gradient", [](auto& v) { return sum(stop_gradient(v[0]) * 3.0); }},
      {"isnan", [](auto& v) { return sum(astype(isnan(v[0]), float64)); }},
      {"constant_output", [](auto& v) { return array(5.0, float64); }},
  };
  for (auto& [name, f] : fns) {
    SCOPED_TRACE(name);
    auto dx = grad(f)({x});
    ASSERT_EQ(dx.size(), 1u);
    EXPECT_TRUE(array_is(dx[0], float64, {2, 3}, values(zero)));
  }
  // stop_gradient inside a product: only the other factor carries a gradient.
  auto dx = grad([](const array& v) { return sum(stop_gradient(v) * v); })(x);
  EXPECT_TRUE(array_is(dx, float64, {2, 3}, values(x)));
}

TEST(AutodiffZero, TakeIndicesAndIntegerPrimalsGetZero) {
  array x = uniform({4}, -2, 2, 8);
  array idx = array({3, 1, 1});
  auto [outs, vjps] = vjp([](const std::vector<array>& v) { return std::vector<array>{take(v[0], v[1])}; },
                          {x, idx}, {array({1.0, 2.0, 3.0}, float64)});
  EXPECT_TRUE(array_is(vjps[0], float64, {4}, {0, 5, 0, 1}));
  EXPECT_TRUE(array_is(vjps[1], int32, {3}, {0, 0, 0}));
  // jvp: an integer primal has no tangent (issue 9, item 12); captured, it works.
  EXPECT_TRUE(kiln_test::throws_invalid(
      [&] {
        jvp([](const std::vector<array>& v) { return std::vector<array>{take(v[0], v[1])}; },
            {x, idx}, {ones({4}, float64), array({7, 7, 7})});
      },
      "[jvp] Primal 1 has dtype int32"));
  auto [o2, t2] = jvp([idx](const std::vector<array>& v) { return std::vector<array>{take(v[0], idx)}; },
                      {x}, {ones({4}, float64)});
  EXPECT_TRUE(array_is(t2[0], float64, {3}, {1, 1, 1}));
}

TEST(AutodiffZero, MaxMinTiesShareEvenly) {
  auto dmax = grad([](const array& v) { return max(v); });
  EXPECT_TRUE(array_is(dmax(array({1.0, 3.0, 3.0, 2.0}, float64)), float64, {4}, {0, 0.5, 0.5, 0}));
  auto dmin = grad([](const array& v) { return sum(min(v, 1)); });
  EXPECT_TRUE(array_is(dmin(array({1.0, 1.0, 1.0, 0.0, 2.0, 3.0}, {2, 3}, float64)), float64,
                       {2, 3}, {1.0 / 3, 1.0 / 3, 1.0 / 3, 1, 0, 0}));
  // maximum: to the larger operand, shared at ties; max(x, x) has derivative 1.
  auto dboth = grad([](const std::vector<array>& v) { return sum(maximum(v[0], v[1])); }, {0, 1});
  auto g = dboth({array({1.0, 2.0, 3.0}, float64), array({2.0, 2.0, 1.0}, float64)});
  EXPECT_TRUE(array_is(g[0], float64, {3}, {0, 0.5, 1}));
  EXPECT_TRUE(array_is(g[1], float64, {3}, {1, 0.5, 0}));
  auto dself = grad([](const array& v) { return sum(minimum(v, v)); });
  EXPECT_TRUE(array_is(dself(array({1.0, -2.0}, float64)), float64, {2}, {1, 1}));
  // jvp at a tie: the mean of the tangents.
  auto [o, t] = jvp([](const std::vector<array>& v) { return std::vector<array>{maximum(v[0], v[1])}; },
                    {array({2.0}, float64), array({2.0}, float64)},
                    {array({1.0}, float64), array({3.0}, float64)});
  EXPECT_TRUE(array_is(t[0], float64, {1}, {2}));
}

TEST(AutodiffZero, ProdWithZeros) {
  auto dprod = grad([](const array& v) { return prod(v); });
  EXPECT_TRUE(array_is(dprod(array({2.0, 3.0, 4.0}, float64)), float64, {3}, {12, 8, 6}));
  EXPECT_TRUE(array_is(dprod(array({2.0, 0.0, 4.0}, float64)), float64, {3}, {0, 8, 0}));
  EXPECT_TRUE(array_is(dprod(array({0.0, 3.0, 0.0}, float64)), float64, {3}, {0, 0, 0}));
  // Per slice: row 0 has one zero, row 1 none, row 2 two.
  auto drows = grad([](const array& v) { return sum(prod(v, 1)); });
  EXPECT_TRUE(array_is(drows(array({0.0, 2.0, 5.0, 1.0, 2.0, 3.0, 0.0, 0.0, 7.0}, {3, 3}, float64)),
                       float64, {3, 3}, {10, 0, 0, 6, 3, 2, 0, 0, 0}));
  // jvp with a zero: d(prod) = sum_i t_i prod_{j != i} x_j.
  auto [o, t] = jvp([](const array& v) { return prod(v); }, array({2.0, 0.0, 4.0}, float64),
                    array({1.0, 1.0, 1.0}, float64));
  EXPECT_TRUE(array_is(t, float64, {}, {8}));
}

TEST(AutodiffZero, DerivativeDomains) {
  // sqrt'(0) = inf, abs'(0) = 0, power's partials at 0.
  EXPECT_TRUE(array_is(grad([](const array& v) { return sqrt(v); })(array(0.0, float64)), float64,
                       {}, {INFINITY}));
  EXPECT_TRUE(array_is(grad([](const array& v) { return abs(v); })(array(0.0, float64)), float64,
                       {}, {0}));
  auto dpow = grad([](const std::vector<array>& v) { return power(v[0], v[1]); }, {0, 1});
  auto g0 = dpow({array(0.0, float64), array(2.0, float64)});  // 0^b: d/da = 0, d/db = 0
  EXPECT_TRUE(array_is(g0[0], float64, {}, {0}));
  EXPECT_TRUE(array_is(g0[1], float64, {}, {0}));
  auto g1 = dpow({array(3.0, float64), array(0.0, float64)});  // a^0: d/da = 0, d/db = log a
  EXPECT_TRUE(array_is(g1[0], float64, {}, {0}));
  EXPECT_TRUE(array_is(g1[1], float64, {}, {std::log(3.0)}, 1e-15));
}

// ---- the frontend API ------------------------------------------------------------

TEST(AutodiffApi, GradForms) {
  array x = array({0.5, -1.0, 2.0}, float64);
  std::vector<double> xv = values(x), cosx;
  for (double v : xv) cosx.push_back(std::cos(v));
  // unary
  EXPECT_TRUE(array_is(grad([](const array& v) { return sum(sin(v)); })(x), float64, {3}, cosx, 1e-15));
  // vector, int argnum
  array y = array({1.0, 2.0, 3.0}, float64);
  auto g1 = grad([](const std::vector<array>& v) { return sum(v[0] * v[1]); }, 1)({x, y});
  ASSERT_EQ(g1.size(), 1u);
  EXPECT_TRUE(array_is(g1[0], float64, {3}, xv));
  // argnums in the order given, negative counting from the end
  auto g2 = grad([](const std::vector<array>& v) { return sum(v[0] * v[1] * v[1]); }, {-1, 0})({x, y});
  ASSERT_EQ(g2.size(), 2u);
  EXPECT_TRUE(array_is(g2[0], float64, {3}, {2 * 0.5 * 1, 2 * -1.0 * 2, 2 * 2.0 * 3}));
  EXPECT_TRUE(array_is(g2[1], float64, {3}, {1, 4, 9}));
  // float32 stays float32
  auto g3 = grad([](const array& v) { return sum(v * v); })(array({1.0f, 2.0f}));
  EXPECT_TRUE(array_is(g3, float32, {2}, {2, 4}));
  // float16 works too
  auto g4 = grad([](const array& v) { return sum(v * v); })(array({1.0f, 2.0f}, float16));
  EXPECT_TRUE(array_is(g4, float16, {2}, {2, 4}));
}

TEST(AutodiffApi, ValueAndGradForms) {
  array x = array({1.0, 2.0}, float64);
  auto [v0, g0] = value_and_grad([](const array& v) { return sum(v * v); })(x);
  EXPECT_TRUE(array_is(v0, float64, {}, {5}));
  EXPECT_TRUE(array_is(g0, float64, {2}, {2, 4}));

  SimpleValueAndGradFn simple =
      value_and_grad([](const std::vector<array>& v) { return sum(v[0] * v[1]); }, {0, 1});
  auto [v1, g1] = simple({x, array({3.0, 4.0}, float64)});
  EXPECT_TRUE(array_is(v1, float64, {}, {11}));
  EXPECT_TRUE(array_is(g1[0], float64, {2}, {3, 4}));
  EXPECT_TRUE(array_is(g1[1], float64, {2}, {1, 2}));

  // Aux outputs are returned and contribute nothing to the gradient.
  ValueAndGradFn with_aux = value_and_grad(
      [](const std::vector<array>& v) {
        array pred = v[0] * 3.0;
        return std::vector<array>{sum(pred), pred * pred, argmax(pred)};
      },
      0);
  auto [vals, grads] = with_aux({x});
  ASSERT_EQ(vals.size(), 3u);
  EXPECT_TRUE(array_is(vals[0], float64, {}, {9}));
  EXPECT_TRUE(array_is(vals[1], float64, {2}, {9, 36}));
  EXPECT_TRUE(array_is(vals[2], uint32, {}, {1}));
  ASSERT_EQ(grads.size(), 1u);
  EXPECT_TRUE(array_is(grads[0], float64, {2}, {3, 3}));

  // ... and an aux output can still be differentiated by an enclosing transform.
  auto outer = grad([&with_aux](const array& v) { return sum(with_aux({v}).first[1]); });
  EXPECT_TRUE(array_is(outer(x), float64, {2}, {18, 36}));  // d/dx sum(9x^2)
}

TEST(AutodiffApi, VjpAndJvpVectorForms) {
  VecFn f = [](const std::vector<array>& v) {
    return std::vector<array>{v[0] * v[1], sum(exp(v[0]))};
  };
  array a = array({0.5, 1.0}, float64), b = array({2.0, -1.0}, float64);
  auto [outs, vjps] = vjp(f, {a, b}, {array({1.0, 1.0}, float64), array(2.0, float64)});
  ASSERT_EQ(outs.size(), 2u);
  EXPECT_TRUE(array_is(outs[0], float64, {2}, {1, -1}));
  EXPECT_TRUE(array_is(vjps[0], float64, {2}, {2 + 2 * std::exp(0.5), -1 + 2 * std::exp(1.0)}, 1e-14));
  EXPECT_TRUE(array_is(vjps[1], float64, {2}, {0.5, 1}));

  auto [outs2, tans] = jvp(f, {a, b}, {array({1.0, 0.0}, float64), array({0.0, 1.0}, float64)});
  ASSERT_EQ(tans.size(), 2u);
  EXPECT_TRUE(array_is(tans[0], float64, {2}, {2, 1}));
  EXPECT_TRUE(array_is(tans[1], float64, {}, {std::exp(0.5)}, 1e-14));

  // Unary forms; a cotangent of another dtype is converted.
  auto [y, ct] = vjp([](const array& v) { return v * v; }, array({3.0f}), array({1}));
  EXPECT_TRUE(array_is(ct, float32, {1}, {6}));
  auto [y2, t2] = jvp([](const array& v) { return v * v; }, array({3.0f}), array({2.0f}));
  EXPECT_TRUE(array_is(t2, float32, {1}, {12}));

  // As MLX: outputs that are a stop_gradient need no cotangent.
  auto [o3, v3] = vjp(
      [](const std::vector<array>& v) {
        return std::vector<array>{stop_gradient(v[0]), v[0] * 2.0};
      },
      {a}, {array({1.0, 1.0}, float64)});
  EXPECT_TRUE(array_is(v3[0], float64, {2}, {2, 2}));
}

TEST(AutodiffApi, Errors) {
  array x = array({1.0, 2.0}, float64);
  auto f2 = [](const std::vector<array>& v) { return sum(v[0] * v[1]); };
  EXPECT_TRUE(throws_invalid([&] { grad(f2, 2)({x, x}); }, "[grad] Invalid argument number"));
  EXPECT_TRUE(throws_invalid([&] { grad(f2, -3)({x, x}); }, "[grad] Invalid argument number"));
  EXPECT_TRUE(throws_invalid([&] { grad(f2, {0, 0})({x, x}); }, "[grad] Repeat argument number"));
  EXPECT_TRUE(throws_invalid([&] { grad(f2, {1, -1})({x, x}); }, "[grad] Repeat argument number"));
  EXPECT_TRUE(throws_invalid([&] { grad(f2, std::vector<int>{}); }, "[grad] Must specify"));
  EXPECT_TRUE(throws_invalid([&] { grad(f2, 1)({x, array({1, 2})}); }, "integer"));
  EXPECT_TRUE(throws_invalid([&] { grad(f2, 1)({x, array({1, 2})}); }, "int32"));
  EXPECT_TRUE(throws_invalid([&] { grad([](const array& v) { return v * 2.0; })(x); },
                             "[grad] The function must return a scalar"));
  // Complex inputs are differentiable (test_fft_grad.cpp), complex losses not.
  EXPECT_TRUE(throws_invalid(
      [&] { grad([](const array& v) { return sum(v * v); })(astype(x, complex64)); },
      "[grad] The function must return a real scalar, but its output is complex64"));

  auto square_fn = [](const std::vector<array>& v) { return std::vector<array>{v[0] * v[0]}; };
  EXPECT_TRUE(throws_invalid([&] { vjp(square_fn, {x}, {}); }, "[vjp] Number of outputs"));
  EXPECT_TRUE(throws_invalid([&] { vjp(square_fn, {x}, {x, x}); }, "[vjp] Number of outputs"));
  EXPECT_TRUE(throws_invalid([&] { vjp(square_fn, {x}, {array({1.0, 2.0, 3.0})}); },
                             "[vjp] Output shape (2) does not match cotangent shape (3)"));
  EXPECT_TRUE(throws_invalid([&] { jvp(square_fn, {x}, {}); }, "[jvp] Number of inputs"));
  EXPECT_TRUE(throws_invalid([&] { jvp(square_fn, {x}, {array(1.0)}); }, "[jvp] Input 0 has shape"));
  // Errors inside the traced function surface unchanged.
  EXPECT_TRUE(throws_invalid([&] { grad([](const array& v) { return sum(v + ones({3})); })(x); },
                             "[add]"));
}

TEST(AutodiffApi, ClosuresCapturingArraysAreConstants) {
  array w = array({1.0, 2.0, 3.0}, float64);
  array pending = exp(zeros({3}, float64)) * 2.0;  // not evaluated when captured
  auto f = [w, pending](const array& x) { return sum(x * w + pending * x * x); };
  array x = array({1.0, -1.0, 0.5}, float64);
  // d/dx = w + 2 * pending * x
  EXPECT_TRUE(array_is(grad(f)(x), float64, {3}, {1 + 4, 2 - 4, 3 + 2}));
  // A function of its captures alone: zero gradient, and no crash.
  auto g = [w](const array& x) { return sum(w * w); };
  EXPECT_TRUE(array_is(grad(g)(x), float64, {3}, {0, 0, 0}));
  // The captured arrays are unchanged and still usable.
  EXPECT_TRUE(array_is(pending, float64, {3}, {2, 2, 2}));
  // A closure over a value of an enclosing transform: a constant for the
  // inner grad (d/db sum(a b^2) = 2ab, at b = a: 2a^2), while the outer grad
  // differentiates through it: d/da sum(2a^2) = 4a.
  auto inner = [](const array& a) {
    return grad([&a](const array& b) { return sum(a * b * b); })(a);
  };
  std::vector<double> xv = values(x), expect2, expect4;
  for (double v : xv) {
    expect2.push_back(2 * v * v);
    expect4.push_back(4 * v);
  }
  EXPECT_TRUE(array_is(inner(x), float64, {3}, expect2));
  EXPECT_TRUE(array_is(grad([&](const array& a) { return sum(inner(a)); })(x), float64, {3}, expect4));
  // The same through jvp and value_and_grad, and a captured value computed
  // from the outer input (not the input itself).
  auto inner_jvp = [](const array& a) {
    array c = exp(a);
    return jvp([&c](const array& b) { return c * b; }, a, ones_like(a)).second;  // = exp(a)
  };
  std::vector<double> expx;
  for (double v : xv) expx.push_back(std::exp(v));
  EXPECT_TRUE(array_is(grad([&](const array& a) { return sum(inner_jvp(a)); })(x), float64, {3},
                       expx, 1e-15, 1e-15));
}

TEST(AutodiffApi, CheckpointGradientIsFunsGradient) {
  auto block = checkpoint([](const std::vector<array>& v) { return std::vector<array>{tanh(v[0]) * v[0]}; });
  auto dx = grad([&](const array& x) { return sum(block({x})[0]); })(array({0.3, -0.7}, float64));
  std::vector<double> expect;
  for (double v : {0.3, -0.7}) expect.push_back(std::tanh(v) + v * (1 - std::tanh(v) * std::tanh(v)));
  EXPECT_TRUE(array_is(dx, float64, {2}, expect, 1e-14));
}

TEST(AutodiffApi, EdgeCases) {
  array x = array({1.0, 2.0}, float64);
  // An output that is an input, and one value returned twice: cotangents add.
  auto [o, g] = vjp([](const std::vector<array>& v) { return std::vector<array>{v[0], v[0], v[0] * 3.0}; },
                    {x}, {array({1.0, 1.0}, float64), array({2.0, 0.0}, float64),
                          array({1.0, -1.0}, float64)});
  EXPECT_TRUE(array_is(g[0], float64, {2}, {6, -2}));
  auto [o2, t] = jvp([](const std::vector<array>& v) { return std::vector<array>{v[0]}; }, {x},
                     {array({5.0, 6.0}, float64)});
  EXPECT_TRUE(array_is(t[0], float64, {2}, {5, 6}));
  // Empty arrays and empty slices.
  auto ge = grad([](const array& v) { return sum(v * v); })(zeros({0, 3}, float64));
  EXPECT_TRUE(array_is(ge, float64, {0, 3}, {}));
  auto gs = grad([](const array& v) { return sum(slice(v, {1}, {1})) + sum(v); })(x);
  EXPECT_TRUE(array_is(gs, float64, {2}, {1, 1}));
  auto gc = grad([](const array& v) {
    return sum(concatenate({v, zeros({0}, float64), v * 2.0}) * arange(4.0, float64));
  })(x);
  EXPECT_TRUE(array_is(gc, float64, {2}, {0 + 2 * 2, 1 + 2 * 3}));
  // A function that ignores an argument: zero gradient for it.
  auto gi = grad([](const std::vector<array>& v) { return sum(v[0]); }, {0, 1})({x, x});
  EXPECT_TRUE(array_is(gi[1], float64, {2}, {0, 0}));
}

// ---- compositions ------------------------------------------------------------------

TEST(AutodiffCompose, GradOfGrad) {
  auto d2 = grad(grad([](const array& x) { return sin(x); }));
  auto d3 = grad(grad(grad([](const array& x) { return sin(x); })));
  for (double v : {-1.3, 0.0, 0.4, 2.5}) {
    EXPECT_NEAR(d2(array(v, float64)).item<double>(), -std::sin(v), 1e-14);
    EXPECT_NEAR(d3(array(v, float64)).item<double>(), -std::cos(v), 1e-14);
  }
  // d^2/dx^2 of x^3 * exp(x) at x = 0.5
  auto h = grad(grad([](const array& x) { return x * x * x * exp(x); }));
  double x = 0.5;
  EXPECT_NEAR(h(array(x, float64)).item<double>(), (6 * x + 6 * x * x + x * x * x) * std::exp(x), 1e-13);
  // Second derivatives through reductions, take and matmul.
  auto fsum = [](const array& v) {
    array m = reshape(v, {2, 2});
    return sum(matmul(m, m)) * sum(take(v, array({0, 3, 3}))) + max(v * v);
  };
  auto hess_diag0 = grad([&](const array& v) { return take(grad(fsum)(v), 0); });
  array p = array({0.3, -0.2, 0.5, 1.1}, float64);
  double eps = 1e-5;
  auto g_at = [&](double d) {
    std::vector<double> q = values(p);
    q[0] += d;
    return values(grad(fsum)(from_values(q, {4})))[0];
  };
  double fd = (g_at(eps) - g_at(-eps)) / (2 * eps);
  EXPECT_NEAR(values(hess_diag0(p))[0], fd, 1e-6);
}

TEST(AutodiffCompose, HessianVectorProductByJvpOfGrad) {
  // f(x) = sum(exp(x) * x^2) + (sum x)^3 : H = diag(e^x (x^2 + 4x + 2)) + 6 sum(x) 11^T
  auto f = [](const array& x) { return sum(exp(x) * x * x) + power(sum(x), array(3.0, float64)); };
  auto df = grad(f);
  array x = array({0.2, -0.4, 0.7}, float64);
  array v = array({1.0, 0.5, -2.0}, float64);
  auto [g, hv] = jvp(df, x, v);
  std::vector<double> xv = values(x), vv = values(v);
  double s = xv[0] + xv[1] + xv[2], sv = vv[0] + vv[1] + vv[2];
  std::vector<double> expect;
  for (int i = 0; i < 3; ++i)
    expect.push_back(std::exp(xv[i]) * (xv[i] * xv[i] + 4 * xv[i] + 2) * vv[i] + 6 * s * sv);
  EXPECT_TRUE(array_is(hv, float64, {3}, expect, 1e-12, 1e-12));
  // ... and against finite differences of the gradient.
  double h = 1e-6;
  std::vector<double> gp = values(df(x + h * v)), gm = values(df(x - h * v));
  std::vector<double> hvv = values(hv);
  for (int i = 0; i < 3; ++i) EXPECT_NEAR(hvv[i], (gp[i] - gm[i]) / (2 * h), 1e-6);
  // Reverse over forward: the gradient of <grad f(x), v> = H v (vjp of jvp),
  // and reverse over reverse: v^T H = H v (vjp of grad), H being symmetric.
  auto [o2, hv2] = vjp([&](const array& y) { return jvp(f, y, v).second; }, x, array(1.0, float64));
  EXPECT_TRUE(array_is(o2, float64, {}, {dot(values(df(x)), vv)}, 1e-12, 1e-12));
  EXPECT_TRUE(array_is(hv2, float64, {3}, expect, 1e-12, 1e-12));
  auto [o3, hv3] = vjp(df, x, v);
  EXPECT_TRUE(array_is(hv3, float64, {3}, expect, 1e-12, 1e-12));
}

TEST(AutodiffCompose, CompileOfGradAndGradOfCompile) {
  auto f = [](const array& x) { return sum(tanh(x) * x); };
  array x = array({0.1, -0.5, 1.5}, float64);
  array expected = grad(f)(x);
  reset_jit_stats();
  auto cg = compile(grad(f));
  EXPECT_TRUE(allclose(cg(x), expected, 0, 1e-15).item<bool>());
  EXPECT_TRUE(allclose(cg(x * 2.0), grad(f)(x * 2.0), 0, 1e-15).item<bool>());
  EXPECT_EQ(jit_stats().traces, 1u);  // the gradient was traced once
  auto gc = grad(compile(std::function<array(const array&)>(f)));
  EXPECT_TRUE(allclose(gc(x), expected, 0, 1e-15).item<bool>());
  // compile(value_and_grad) in a loop reuses its trace.
  reset_jit_stats();
  auto vg = value_and_grad(std::function<array(const array&)>(f));
  auto step = compile([vg](const std::vector<array>& v) {
    auto [l, g] = vg(v[0]);
    return std::vector<array>{l, v[0] - 0.1 * g};
  });
  array p = x;
  for (int i = 0; i < 3; ++i) p = step({p})[1];
  EXPECT_EQ(jit_stats().traces, 1u);
  EXPECT_EQ(jit_stats().trace_cache_hits, 2u);
}

// ---- the passes on IR ----------------------------------------------------------------

TEST(AutodiffPasses, SignaturesAndErrors) {
  ir::Function f;
  int x = f.add_input({float32, {3}});
  int n = f.add_input({int32, {3}});
  int c = f.add_op(ir::make_op(ir::OpKind::Cast, {n}, {float32, {3}}));
  int m = f.add_op(ir::make_op(ir::OpKind::Multiply, {x, c}, {float32, {3}}));
  f.outputs = {m, n};
  ir::Function g = passes::vjp(f, {0});
  ASSERT_EQ(g.inputs.size(), 4u);  // x, n, ct_m, ct_n
  EXPECT_EQ(g.inputs[2], (ir::Type{float32, {3}}));
  EXPECT_EQ(g.inputs[3], (ir::Type{int32, {3}}));
  ASSERT_EQ(g.outputs.size(), 3u);
  EXPECT_EQ(ir::verify_message(g), "");
  ir::Function j = passes::jvp(f, {0});
  ASSERT_EQ(j.inputs.size(), 3u);
  ASSERT_EQ(j.outputs.size(), 4u);
  EXPECT_EQ(j.value_type(j.outputs[3]), (ir::Type{int32, {3}}));  // zero tangent of n
  EXPECT_EQ(ir::verify_message(j), "");
  EXPECT_TRUE(throws_invalid([&] { passes::vjp(f, {1}); }, "[vjp] cannot differentiate"));
  EXPECT_TRUE(throws_invalid([&] { passes::jvp(f, {2}); }, "[jvp] input 2 is out of range"));
  EXPECT_TRUE(throws_invalid([&] { passes::vjp(f, {0, 0}); }, "listed twice"));
  // The kiln-opt forms take every floating input.
  EXPECT_EQ(passes::vjp_pass(f).outputs.size(), 3u);
  EXPECT_EQ(passes::jvp_pass(f).inputs.size(), 3u);
}

// Complex intermediate values are differentiated (JAX's convention,
// passes/autodiff.cpp): abs(cast(x, complex64)) has derivative sign(x); a
// bitcast other than float32 <-> complex64 carries none.
TEST(AutodiffPasses, ComplexIntermediates) {
  ir::Function f;
  int x = f.add_input({float32, {3}});
  int c = f.add_op(ir::make_op(ir::OpKind::Cast, {x}, {complex64, {3}}));
  int a = f.add_op(ir::make_op(ir::OpKind::Abs, {c}, {float32, {3}}));
  f.outputs = {a};
  array xv = array({-2.0f, 0.5f, 3.0f});
  auto [y, g] = vjp([](const array& v) { return abs(astype(v, complex64)); }, xv, array({1.0f, 1.0f, 1.0f}));
  EXPECT_TRUE(array_is(g, float32, {3}, {-1, 1, 1}, 1e-6));
  EXPECT_EQ(passes::vjp(f, {0}).outputs.size(), 2u);
  EXPECT_EQ(passes::jvp(f, {0}).outputs.size(), 2u);
  auto [y2, t2] = jvp([](const array& v) { return view(v, int32); }, xv, xv);
  EXPECT_TRUE(array_is(t2, int32, {3}, {0, 0, 0}));
  auto [y3, g3] = vjp([](const array& v) { return astype(view(v, uint32), float32); }, xv, xv);
  EXPECT_TRUE(array_is(g3, float32, {3}, {0, 0, 0}));
}

// ---- training ----------------------------------------------------------------------

TEST(AutodiffTraining, LinearRegressionReachesKnownWeights) {
  // y = X [2, -3] + 0.5, no noise; full-batch gradient descent on the MSE.
  std::mt19937 gen(42);
  std::normal_distribution<float> normal(0, 1);
  const int n = 64;
  std::vector<float> xs(2 * n), ys(n);
  for (int i = 0; i < n; ++i) {
    xs[2 * i] = normal(gen);
    xs[2 * i + 1] = normal(gen);
    ys[i] = 2 * xs[2 * i] - 3 * xs[2 * i + 1] + 0.5f;
  }
  array X(xs.data(), {n, 2}), Y(ys.data(), {n});
  auto loss = [X, Y](const std::vector<array>& p) {
    return mean(square(matmul(X, p[0]) + p[1] - Y));
  };
  auto step = compile([vg = value_and_grad(loss, {0, 1})](const std::vector<array>& p) {
    auto [l, g] = vg(p);
    return std::vector<array>{p[0] - 0.2f * g[0], p[1] - 0.2f * g[1], l};
  });
  std::vector<array> p = {zeros({2}), array(0.0f)};
  float l = 0;
  for (int i = 0; i < 150; ++i) {
    auto r = step(p);
    eval(r);
    p = {r[0], r[1]};
    l = r[2].item<float>();
  }
  EXPECT_LT(l, 1e-6f);
  EXPECT_TRUE(array_is(p[0], float32, {2}, {2, -3}, 1e-3));
  EXPECT_TRUE(array_is(p[1], float32, {}, {0.5}, 1e-3));
}

TEST(AutodiffTraining, TwoLayerMlpClassifiesXorBlobs) {
  // Four Gaussian blobs at (+-1, +-1), labelled by XOR of the signs: not
  // linearly separable. A 2-16-2 tanh MLP with softmax cross-entropy,
  // trained by full-batch gradient descent (value_and_grad), reaches >= 95%
  // training accuracy within 300 steps.
  std::mt19937 gen(7);
  std::normal_distribution<float> noise(0, 0.25f);
  const int n = 128;
  std::vector<float> xs(2 * n);
  std::vector<int32_t> labels(n);
  for (int i = 0; i < n; ++i) {
    int qx = i % 2, qy = (i / 2) % 2;
    xs[2 * i] = (qx ? 1.0f : -1.0f) + noise(gen);
    xs[2 * i + 1] = (qy ? 1.0f : -1.0f) + noise(gen);
    labels[i] = qx ^ qy;
  }
  array X(xs.data(), {n, 2}), L(labels.data(), {n});
  std::normal_distribution<float> init(0, 1);
  auto randn = [&](Shape s, float scale) {
    std::vector<float> v(size_t(ir::shape_size(s)));
    for (auto& e : v) e = init(gen) * scale;
    return array(v.data(), s);
  };
  std::vector<array> params = {randn({2, 16}, 0.7f), zeros({16}), randn({16, 2}, 0.25f), zeros({2})};

  auto logits = [](const std::vector<array>& p, const array& x) {
    return matmul(tanh(matmul(x, p[0]) + p[1]), p[2]) + p[3];
  };
  auto loss = [&, X, L](const std::vector<array>& p) {
    array z = logits(p, X);
    array logp = z - logsumexp(z, -1, true);
    return -mean(take_along_axis(logp, expand_dims(L, -1), -1));
  };
  auto vg = value_and_grad(loss, {0, 1, 2, 3});
  auto step = compile([vg](const std::vector<array>& p) {
    auto [l, g] = vg(p);
    std::vector<array> out;
    for (size_t i = 0; i < p.size(); ++i) out.push_back(p[i] - 0.5f * g[i]);
    out.push_back(l);
    return out;
  });
  auto accuracy = [&](const std::vector<array>& p) {
    return mean(astype(equal(argmax(logits(p, X), -1), astype(L, uint32)), float32)).item<float>();
  };
  float first_loss = loss(params).item<float>();
  int steps = 0;
  float acc = accuracy(params);
  const float initial_acc = acc;
  EXPECT_LT(initial_acc, 0.8f);  // the untrained network does not solve it
  while (steps < 300 && acc < 0.95f) {
    for (int i = 0; i < 25; ++i, ++steps) {
      auto r = step(params);
      eval(r);
      params.assign(r.begin(), r.begin() + 4);
    }
    acc = accuracy(params);
  }
  EXPECT_GE(acc, 0.95f) << "after " << steps << " steps";
  EXPECT_LT(loss(params).item<float>(), first_loss);
  std::cout << "[ MLP      ] accuracy " << initial_acc << " -> " << acc << " after " << steps
            << " steps\n";
}
