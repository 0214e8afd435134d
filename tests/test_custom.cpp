// Custom transformation rules: custom_vjp, custom_function, checkpoint
// (frontend/autodiff.h) and the `custom` op behind them (ir/custom.h,
// passes/custom.cpp, passes/inline.cpp).
//
//  * A custom vjp that differs from the true derivative on purpose (twice the
//    cotangent) proves the rule is used: by vjp, grad, grad of compile,
//    compile of grad, grad of vmap, and differentiated itself by grad(grad).
//  * fun_jvp through jvp (and argnums), the fallbacks without a rule checked
//    against finite differences.
//  * vmap with and without fun_vmap, against a loop over the batch.
//  * checkpoint: gradients equal the plain function's and finite
//    differences; the backward pass recomputes from the inputs.
//  * Errors for rules of the wrong arity or shapes.
//  * The IR: print/parse round trip of a traced call, the interpreter agrees
//    with the JIT.
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "frontend/trace.h"
#include "ir/custom.h"
#include "ir/interpreter.h"
#include "ir/parser.h"
#include "ir/printer.h"
#include "passes/pass_manager.h"
#include "test_helpers.h"

using namespace kiln;
using kiln_test::array_is;
using kiln_test::throws_invalid;
using kiln_test::values;

namespace {

using Arrays = std::vector<array>;

// sin, whose custom vjp claims the derivative is 2 (it is cos).
ArrayFunction sin_with_vjp_two() {
  return custom_vjp([](const Arrays& x) { return Arrays{sin(x[0])}; },
                    [](const Arrays&, const Arrays& ct, const Arrays&) { return Arrays{ct[0] * 2.0}; });
}

array first(const Arrays& a) { return a.at(0); }

// Central finite differences of a scalar function f of one float64 array,
// element by element.
std::vector<double> numeric_grad(const std::function<double(const array&)>& f, const array& x,
                                 double h = 1e-6) {
  std::vector<double> xv = values(x), g;
  for (size_t i = 0; i < xv.size(); ++i) {
    std::vector<double> up = xv, down = xv;
    up[i] += h;
    down[i] -= h;
    g.push_back((f(array(up.data(), x.shape(), float64)) - f(array(down.data(), x.shape(), float64))) /
                (2 * h));
  }
  return g;
}

}  // namespace

// ---- custom vjp ----------------------------------------------------------

TEST(CustomVjp, ForwardIsFunAndTheRuleIsUsed) {
  auto f = sin_with_vjp_two();
  array x = array({0.1, 0.5, -1.2}, float64);
  // Eager: fun itself.
  EXPECT_TRUE(array_is(first(f({x})), float64, {3}, {std::sin(0.1), std::sin(0.5), std::sin(-1.2)}, 1e-15));
  // vjp: twice the cotangent, not cos(x) times it.
  auto [outs, vjps] = vjp(f, {x}, {array({1.0, -3.0, 0.5}, float64)});
  EXPECT_TRUE(array_is(outs[0], float64, {3}, {std::sin(0.1), std::sin(0.5), std::sin(-1.2)}, 1e-15));
  EXPECT_TRUE(array_is(vjps[0], float64, {3}, {2, -6, 1}));
  // grad of a loss around it: the chain rule goes through the rule.
  auto g = grad([&](const array& a) { return sum(square(first(f({a * 3.0})))); })(x);
  std::vector<double> expect;
  for (double v : values(x)) expect.push_back(2 * std::sin(3 * v) * 2 * 3);
  EXPECT_TRUE(array_is(g, float64, {3}, expect, 1e-13));
}

TEST(CustomVjp, RuleSeesPrimalsCotangentsAndOutputs) {
  // f(x, y) = (x * y, exp(x)); the rule is the true vjp written with the
  // outputs (exp(x) from outputs[1]) and primals, except y's part times 3.
  auto f = custom_vjp(
      [](const Arrays& p) { return Arrays{p[0] * p[1], exp(p[0])}; },
      [](const Arrays& p, const Arrays& ct, const Arrays& out) {
        return Arrays{ct[0] * p[1] + ct[1] * out[1], ct[0] * p[0] * 3.0};
      });
  array x = array({0.2, -0.4}, float64), y = array({1.5, 2.0}, float64);
  array c0 = array({1.0, 2.0}, float64), c1 = array({-1.0, 0.5}, float64);
  auto [outs, vjps] = vjp(f, {x, y}, {c0, c1});
  ASSERT_EQ(vjps.size(), 2u);
  EXPECT_TRUE(array_is(vjps[0], float64, {2},
                       {1.0 * 1.5 - std::exp(0.2), 2.0 * 2.0 + 0.5 * std::exp(-0.4)}, 1e-14));
  EXPECT_TRUE(array_is(vjps[1], float64, {2}, {1.0 * 0.2 * 3, 2.0 * -0.4 * 3}, 1e-14));
  // An output that gets no cotangent: the rule sees zeros for it.
  auto only_first = grad([&](const Arrays& p) { return sum(f(p)[0]); }, {0, 1})({x, y});
  EXPECT_TRUE(array_is(only_first[0], float64, {2}, {1.5, 2.0}, 1e-15));
  EXPECT_TRUE(array_is(only_first[1], float64, {2}, {0.6, -1.2}, 1e-15));
}

TEST(CustomVjp, SecondDerivativeDifferentiatesTheRule) {
  // f(x) = x^3 with the rule ct * 3x^2 (the true one, written by hand):
  // grad(grad(f)) differentiates the rule: 6x.
  auto f = custom_vjp([](const Arrays& p) { return Arrays{p[0] * p[0] * p[0]}; },
                      [](const Arrays& p, const Arrays& ct, const Arrays&) {
                        return Arrays{ct[0] * 3.0 * square(p[0])};
                      });
  auto d1 = grad([&](const array& x) { return sum(first(f({x}))); });
  auto d2 = grad([&](const array& x) { return sum(d1(x)); });
  array x = array({0.5, -2.0}, float64);
  EXPECT_TRUE(array_is(d1(x), float64, {2}, {0.75, 12.0}, 1e-14));
  EXPECT_TRUE(array_is(d2(x), float64, {2}, {3.0, -12.0}, 1e-14));
}

TEST(CustomVjp, ComposesWithCompile) {
  auto f = sin_with_vjp_two();
  auto loss = [f](const array& a) { return sum(first(f({a})) * a); };
  array x = array({0.3, 1.1}, float64);
  // d/dx [f(x) x] = f'(x) x + f(x), with the claimed f' = 2.
  std::vector<double> expect;
  for (double v : values(x)) expect.push_back(2 * v + std::sin(v));
  auto compiled_grad = compile(grad(std::function<array(const array&)>(loss)));
  EXPECT_TRUE(array_is(compiled_grad(x), float64, {2}, expect, 1e-14));
  EXPECT_TRUE(array_is(compiled_grad(x), float64, {2}, expect, 1e-14));  // the cached trace
  auto compiled_f = compile([f](const Arrays& a) { return f(a); });
  auto grad_of_compiled = grad([&](const array& a) { return sum(first(compiled_f({a})) * a); });
  EXPECT_TRUE(array_is(grad_of_compiled(x), float64, {2}, expect, 1e-14));
  // compile of the custom function alone computes fun.
  EXPECT_TRUE(array_is(first(compiled_f({x})), float64, {2}, {std::sin(0.3), std::sin(1.1)}, 1e-15));
}

TEST(CustomVjp, ClosuresOverOuterValues) {
  // fun captures w, a value of the enclosing grad: the custom rule defines
  // the derivative with respect to the primal only; w is a constant for it,
  // and w's gradient flows only through the other use of w.
  array w0 = array({0.5, 2.0}, float64);
  array x = array({1.0, -1.0}, float64);
  auto dw = grad([&](const array& w) {
    auto f = custom_vjp([w](const Arrays& p) { return Arrays{p[0] * w}; },
                        [](const Arrays&, const Arrays& ct, const Arrays&) { return Arrays{ct[0] * 2.0}; });
    return sum(first(f({w * x})) + w);
  })(w0);
  // Through the primal w * x: 2 * x; through `+ w`: 1; through the capture: 0.
  EXPECT_TRUE(array_is(dw, float64, {2}, {3.0, -1.0}, 1e-15));
}

// ---- custom jvp ----------------------------------------------------------

TEST(CustomJvp, JvpUsesTheRuleAndGradFallsBackToFun) {
  std::vector<int> seen_argnums;
  auto f = custom_function(
      [](const Arrays& p) { return Arrays{sin(p[0]) * p[1]}; }, std::nullopt,
      [&seen_argnums](const Arrays& p, const Arrays& t, const std::vector<int>& argnums) {
        seen_argnums = argnums;
        // Ten times the true tangent: proves the rule is used.
        return Arrays{(t[0] * cos(p[0]) * p[1] + t[1] * sin(p[0])) * 10.0};
      });
  array x = array({0.2, 0.9}, float64), y = array({3.0, -1.0}, float64);
  array tx = array({1.0, 0.5}, float64), ty = array({0.0, 2.0}, float64);
  auto [outs, tangents] = jvp(f, {x, y}, {tx, ty});
  EXPECT_EQ(seen_argnums, (std::vector<int>{0, 1}));
  std::vector<double> expect;
  for (size_t i = 0; i < 2; ++i) {
    double xv = values(x)[i], yv = values(y)[i];
    expect.push_back(10 * (values(tx)[i] * std::cos(xv) * yv + values(ty)[i] * std::sin(xv)));
  }
  EXPECT_TRUE(array_is(tangents[0], float64, {2}, expect, 1e-13));
  EXPECT_TRUE(array_is(outs[0], float64, {2}, {std::sin(0.2) * 3, -std::sin(0.9)}, 1e-15));

  // No fun_vjp: grad differentiates fun, checked against finite differences.
  auto loss = [&](const array& a) { return sum(first(f({a, y})) * a); };
  auto g = grad(std::function<array(const array&)>(loss))(x);
  EXPECT_TRUE(array_is(g, float64, {2},
                       numeric_grad([&](const array& a) { return loss(a).item<double>(); }, x), 1e-8));
}

TEST(CustomJvp, PrimalsWithoutTangentGetZeros) {
  // Inside jvp of g(x) = f(x, c) with a constant c: the rule is given a zero
  // tangent for c.
  auto f = custom_function([](const Arrays& p) { return Arrays{p[0] * p[1]}; }, std::nullopt,
                           [](const Arrays& p, const Arrays& t, const std::vector<int>&) {
                             return Arrays{t[0] * p[1] + t[1] * p[0] + t[1] * 100.0};
                           });
  array c = array({2.0, 3.0}, float64);
  auto [outs, tangents] =
      jvp([&](const array& x) { return first(f({x, c})); }, array({1.0, 1.0}, float64),
          array({1.0, -1.0}, float64));
  EXPECT_TRUE(array_is(tangents, float64, {2}, {2.0, -3.0}, 1e-15));
}

TEST(CustomJvp, ForwardModeFallsBackToFunWithoutARule) {
  auto f = custom_vjp([](const Arrays& p) { return Arrays{exp(p[0]) * p[0]}; },
                      [](const Arrays&, const Arrays& ct, const Arrays&) { return Arrays{ct[0]}; });
  array x = array({0.3, -0.8}, float64);
  auto [outs, t] = jvp([&](const array& a) { return first(f({a})); }, x, array({1.0, 2.0}, float64));
  std::vector<double> expect;
  for (size_t i = 0; i < 2; ++i) {
    double v = values(x)[i];
    expect.push_back((std::exp(v) * v + std::exp(v)) * (i == 0 ? 1.0 : 2.0));
  }
  EXPECT_TRUE(array_is(t, float64, {2}, expect, 1e-14));
}

// ---- vmap ----------------------------------------------------------------

TEST(CustomVmap, WithoutARuleBatchesFun) {
  auto f = sin_with_vjp_two();
  auto g = [f](const Arrays& p) { return Arrays{sum(first(f({p[0]})) * p[1])}; };
  array x = array({0.1, 0.2, 0.3, 0.4, 0.5, 0.6}, {3, 2}, float64);
  array w = array({2.0, -1.0}, float64);
  array batched = first(vmap(g, {0, -1})({x, w}));
  ASSERT_EQ(batched.shape(), (Shape{3}));
  for (int b = 0; b < 3; ++b) {
    array row = slice(x, {b, 0}, {b + 1, 2});
    double expect = first(g({reshape(row, {2}), w})).item<double>();
    EXPECT_NEAR(values(batched)[size_t(b)], expect, 1e-15);
  }
  // The batched call keeps the custom vjp: the gradient is 2 * w per row.
  auto dx = grad([&](const array& a) { return sum(first(vmap(g, {0, -1})({a, w}))); })(x);
  EXPECT_TRUE(array_is(dx, float64, {3, 2}, {4, -2, 4, -2, 4, -2}));
}

TEST(CustomVmap, TheRuleIsUsedWithItsAxes) {
  std::vector<int> seen_axes;
  auto f = custom_function(
      [](const Arrays& p) { return Arrays{p[0] * 2.0}; }, std::nullopt, std::nullopt,
      [&seen_axes](const Arrays& in, const std::vector<int>& axes) {
        seen_axes = axes;
        // Returns the batch along axis 1 (a transposed result) plus 100, so
        // that a test can tell it ran.
        array y = transpose(moveaxis(in[0], axes[0], 0) * 2.0 + 100.0);
        return std::make_pair(Arrays{y}, std::vector<int>{1});
      });
  array x = array({1.0, 2.0, 3.0, 4.0, 5.0, 6.0}, {2, 3}, float64);  // batch 3 along axis 1
  array y = first(vmap([f](const Arrays& p) { return f(p); }, {1}, {0})({x}));
  EXPECT_EQ(seen_axes, std::vector<int>{1});
  EXPECT_TRUE(array_is(y, float64, {3, 2}, {102, 108, 104, 110, 106, 112}));
  // Outside every transformation f is fun.
  EXPECT_TRUE(array_is(first(f({x})), float64, {2, 3}, {2, 4, 6, 8, 10, 12}));
}

TEST(CustomVmap, AnUnbatchedRuleOutputIsBroadcast) {
  auto f = custom_function(
      [](const Arrays& p) { return Arrays{sum(p[0]) * 0.0 + 7.0}; }, std::nullopt, std::nullopt,
      [](const Arrays&, const std::vector<int>&) {
        return std::make_pair(Arrays{array(7.0, float64)}, std::vector<int>{-1});
      });
  array y = first(vmap([f](const Arrays& p) { return f(p); })({array({1.0, 2.0, 3.0}, float64)}));
  EXPECT_TRUE(array_is(y, float64, {3}, {7, 7, 7}));
}

TEST(CustomVmap, GradOfVmapKeepsTheCustomVjpAndVmapOfGradUsesIt) {
  int rule_calls = 0;
  auto f = custom_function(
      [](const Arrays& p) { return Arrays{sin(p[0])}; },
      [](const Arrays&, const Arrays& ct, const Arrays&) { return Arrays{ct[0] * 2.0}; },
      std::nullopt, [&rule_calls](const Arrays& in, const std::vector<int>& axes) {
        ++rule_calls;
        return std::make_pair(Arrays{sin(in[0])}, axes);
      });
  auto fv = vmap([f](const Arrays& p) { return f(p); });
  array x = array({0.1, 0.2, 0.3, 0.4, 0.5, 0.6}, {3, 2}, float64);
  auto dx = grad([&](const array& a) { return sum(first(fv({a}))); })(x);
  EXPECT_EQ(rule_calls, 1);
  EXPECT_TRUE(array_is(dx, float64, {3, 2}, {2, 2, 2, 2, 2, 2}));
  // Per-example gradients of sum(f(x)^2): 2 f(x) * 2.
  auto per_row = vmap([&](const Arrays& p) {
    return Arrays{grad([&](const array& a) { return sum(square(first(f({a})))); })(p[0])};
  });
  std::vector<double> expect;
  for (double v : values(x)) expect.push_back(4 * std::sin(v));
  EXPECT_TRUE(array_is(first(per_row({x})), float64, {3, 2}, expect, 1e-15));
}

TEST(CustomVmap, TheRuleIsNotUsedWhenACapturedValueIsBatched) {
  // f captures y, which vmap batches: fun_vmap cannot be given it, so fun is
  // batched instead (the rule would add 100).
  auto g = [](const Arrays& p) {
    array y = p[1];
    auto f = custom_function([y](const Arrays& q) { return Arrays{q[0] * y}; }, std::nullopt,
                             std::nullopt, [y](const Arrays& in, const std::vector<int>& axes) {
                               return std::make_pair(Arrays{in[0] * 0.0 + 100.0}, axes);
                             });
    return f({p[0]});
  };
  array x = array({1.0, 2.0, 3.0}, float64), y = array({4.0, 5.0, 6.0}, float64);
  EXPECT_TRUE(array_is(first(vmap(g)({x, y})), float64, {3}, {4, 10, 18}));
}

TEST(CustomVjp, IntegerPrimalsGetNoGradient) {
  // take(x, idx) with a rule; the rule's cotangent for the int32 indices is
  // converted to int32 and never used.
  auto f = custom_vjp([](const Arrays& p) { return Arrays{take(p[0], p[1], 0) * 2.0}; },
                      [](const Arrays& p, const Arrays& ct, const Arrays&) {
                        return Arrays{ones_like(p[0]) * sum(ct[0]), zeros(p[1].shape(), float32)};
                      });
  array x = array({1.0, 2.0, 3.0}, float64);
  array idx = array({2, 0}, int32);
  auto [outs, vjps] = vjp(f, {x, idx}, {array({1.0, 10.0}, float64)});
  EXPECT_TRUE(array_is(outs[0], float64, {2}, {6, 2}));
  EXPECT_TRUE(array_is(vjps[0], float64, {3}, {11, 11, 11}));
  EXPECT_TRUE(array_is(vjps[1], int32, {2}, {0, 0}));
}

// ---- checkpoint ------------------------------------------------------------

TEST(Checkpoint, GradientEqualsThePlainFunctionsAndFiniteDifferences) {
  array w = array({0.3, -0.2, 0.5, 0.1, 0.4, -0.6}, {3, 2}, float64);
  auto block = [](const Arrays& p) { return Arrays{tanh(matmul(p[0], p[1])) * p[0].shape(0)}; };
  auto loss_with = [&](const ArrayFunction& b) {
    return [&, b](const Arrays& p) { return sum(square(first(b({p[0], p[1]})) - 0.25)); };
  };
  auto plain = loss_with(block);
  auto checkpointed = loss_with(checkpoint(block));
  array x = array({1.0, 0.5, -0.5, 2.0, 0.1, 0.3}, {2, 3}, float64);
  auto gp = grad(plain, {0, 1})({x, w});
  auto gc = grad(checkpointed, {0, 1})({x, w});
  ASSERT_EQ(gc.size(), 2u);
  EXPECT_TRUE(array_is(gc[0], float64, {2, 3}, values(gp[0]), 1e-14, 1e-12));
  EXPECT_TRUE(array_is(gc[1], float64, {3, 2}, values(gp[1]), 1e-14, 1e-12));
  auto numeric = numeric_grad([&](const array& a) { return plain({x, a}).item<double>(); }, w);
  EXPECT_TRUE(array_is(gc[1], float64, {3, 2}, numeric, 1e-8));
  // The value is the plain function's.
  EXPECT_NEAR(checkpointed({x, w}).item<double>(), plain({x, w}).item<double>(), 1e-15);
}

TEST(Checkpoint, CapturedWeightsGetTheirGradient) {
  // A checkpointed block closing over the weights being differentiated.
  array x = array({0.4, -1.0, 0.7}, float64);
  auto loss = [&](const array& w, bool ckpt) {
    ArrayFunction block = [w](const Arrays& p) { return Arrays{sin(p[0] * w) * w}; };
    if (ckpt) block = checkpoint(block);
    return sum(first(block({x})));
  };
  array w0 = array({1.5, 0.2, -0.3}, float64);
  auto gc = grad([&](const array& w) { return loss(w, true); })(w0);
  auto gp = grad([&](const array& w) { return loss(w, false); })(w0);
  EXPECT_TRUE(array_is(gc, float64, {3}, values(gp), 1e-15, 1e-13));
  EXPECT_TRUE(array_is(gc, float64, {3},
                       numeric_grad([&](const array& w) { return loss(w, false).item<double>(); }, w0),
                       1e-8));
}

TEST(Checkpoint, TheBackwardPassRecomputesFromTheInputs) {
  auto block = checkpoint([](const Arrays& p) { return Arrays{exp(tanh(p[0]))}; });
  ArrayFunction g = [&](const Arrays& p) {
    return Arrays{grad([&](const array& a) { return sum(first(block({a}))); })(p[0])};
  };
  ir::Function traced = detail::trace(g, {ir::Type{float64, {4}}});
  passes::PassManager pm;
  pm.add_pipeline("canonicalize,cse,dce");
  traced = pm.run(traced);
  // After simplification the gradient is one call of the backward function,
  // whose operands are the input and the cotangent: no intermediate of the
  // forward pass reaches it.
  int calls = 0;
  for (const ir::Op& op : traced.ops) {
    if (op.kind != ir::OpKind::Custom) continue;
    ++calls;
    for (int o : op.operands) {
      bool ok = traced.is_input(o) || traced.def(o).kind == ir::OpKind::Constant ||
                traced.def(o).kind == ir::OpKind::Broadcast;
      EXPECT_TRUE(ok) << ir::print(traced);
    }
  }
  EXPECT_EQ(calls, 1) << ir::print(traced);
  // Inlined for execution, the backward pass computes tanh itself.
  ArrayFunction both = [&](const Arrays& p) {
    Arrays out = block(p);
    out.push_back(grad([&](const array& a) { return sum(first(block({a}))); })(p[0]));
    return out;
  };
  ir::Function f = pm.run(detail::trace(both, {ir::Type{float64, {4}}}));
  ir::Function inlined = passes::inline_custom(f);
  int tanhs = 0;
  for (const ir::Op& op : inlined.ops) tanhs += op.kind == ir::OpKind::Tanh;
  EXPECT_EQ(tanhs, 2) << ir::print(inlined);
  // Without checkpoint, one tanh serves both.
  ArrayFunction plain_both = [](const Arrays& p) {
    auto fn = [](const array& a) { return exp(tanh(a)); };
    return Arrays{fn(p[0]), grad([&](const array& a) { return sum(fn(a)); })(p[0])};
  };
  ir::Function plain = pm.run(detail::trace(plain_both, {ir::Type{float64, {4}}}));
  tanhs = 0;
  for (const ir::Op& op : plain.ops) tanhs += op.kind == ir::OpKind::Tanh;
  EXPECT_EQ(tanhs, 1) << ir::print(plain);
  // Both compute the same values.
  array x = array({0.1, -0.5, 1.0, 2.0}, float64);
  Arrays a = compile(both)({x}), b = plain_both({x});
  EXPECT_TRUE(array_is(a[1], float64, {4}, values(b[1]), 1e-15, 1e-14));
}

TEST(Checkpoint, ComposesWithVmapAndJvp) {
  auto block = checkpoint([](const Arrays& p) { return Arrays{sin(p[0]) * p[0]}; });
  array x = array({0.1, 0.2, 0.3, 0.4}, {2, 2}, float64);
  auto dx = grad([&](const array& a) { return sum(first(vmap(block)({a}))); })(x);
  std::vector<double> expect;
  for (double v : values(x)) expect.push_back(std::cos(v) * v + std::sin(v));
  EXPECT_TRUE(array_is(dx, float64, {2, 2}, expect, 1e-15));
  auto [outs, t] = jvp([&](const array& a) { return first(block({a})); }, x,
                       array({1.0, 1.0, 1.0, 1.0}, {2, 2}, float64));
  EXPECT_TRUE(array_is(t, float64, {2, 2}, expect, 1e-15));
}

// ---- errors ----------------------------------------------------------------

TEST(CustomErrors, RulesOfTheWrongArityOrShape) {
  array x = array({1.0, 2.0}, float64);
  auto too_many = custom_vjp([](const Arrays& p) { return Arrays{p[0] * 2.0}; },
                             [](const Arrays&, const Arrays& ct, const Arrays&) {
                               return Arrays{ct[0], ct[0]};
                             });
  EXPECT_TRUE(throws_invalid([&] { grad([&](const array& a) { return sum(first(too_many({a}))); })(x); },
                             "[custom_vjp] The vjp function returned 2 cotangents for 1 primals."));
  auto wrong_shape = custom_vjp([](const Arrays& p) { return Arrays{sum(p[0])}; },
                                [](const Arrays&, const Arrays& ct, const Arrays&) { return Arrays{ct[0]}; });
  EXPECT_TRUE(throws_invalid(
      [&] { grad([&](const array& a) { return first(wrong_shape({a})); })(x); },
      "[custom_vjp] The vjp function returned a cotangent of shape () for primal 0 of shape (2)."));
  auto bad_jvp = custom_function([](const Arrays& p) { return Arrays{p[0], p[0]}; }, std::nullopt,
                                 [](const Arrays&, const Arrays& t, const std::vector<int>&) {
                                   return Arrays{t[0]};
                                 });
  EXPECT_TRUE(throws_invalid([&] { jvp([&](const array& a) { return first(bad_jvp({a})); }, x, x); },
                             "[custom_function] The jvp function returned 1 tangents for 2 outputs."));
  auto bad_vmap = custom_function([](const Arrays& p) { return Arrays{p[0] * 2.0}; }, std::nullopt,
                                  std::nullopt, [](const Arrays& in, const std::vector<int>&) {
                                    return std::make_pair(Arrays{sum(in[0])}, std::vector<int>{0});
                                  });
  EXPECT_TRUE(throws_invalid(
      [&] { vmap([&](const Arrays& p) { return bad_vmap(p); })({array({1.0, 2.0, 3.0, 4.0}, {2, 2}, float64)}); },
      "[custom_function] The vmap function returned output 0 of shape () with batch axis 0, "
      "expected (2,2)."));
  EXPECT_TRUE(throws_invalid([] { custom_vjp(nullptr, nullptr); }, "[custom_vjp] The function is empty."));
}

// ---- the IR ----------------------------------------------------------------

TEST(CustomIr, TracedCallsPrintParseAndRunAlike) {
  auto f = sin_with_vjp_two();
  auto g = grad([f](const Arrays& p) { return sum(first(f({p[0] * p[1]}))); }, {0, 1});
  ArrayFunction traced_fn = [&](const Arrays& p) {
    Arrays out = f({p[0]});
    Arrays grads = g(p);
    out.insert(out.end(), grads.begin(), grads.end());
    return out;
  };
  const std::vector<ir::Type> types{ir::Type{float64, {3}}, ir::Type{float64, {3}}};
  ir::Function fn = detail::trace(traced_fn, types);
  std::string text = ir::print(fn);
  ASSERT_NE(text.find("custom("), std::string::npos) << text;
  ASSERT_NE(text.find("vjp = @"), std::string::npos) << text;
  ir::Function parsed = ir::parse(text);
  EXPECT_EQ(ir::print(parsed), text);

  // The parsed function runs like the traced one, on the interpreter and
  // through the JIT (inlined).
  array x = array({0.5, 1.0, -2.0}, float64), y = array({2.0, 0.5, 1.0}, float64);
  std::vector<ir::Tensor> in{{x.node()->type, (x.eval(), x.node()->buffer)},
                             {y.node()->type, (y.eval(), y.node()->buffer)}};
  auto on_interp = ir::interpret(parsed, in);
  Arrays on_jit = compile(traced_fn)({x, y});
  ASSERT_EQ(on_interp.size(), 3u);
  for (size_t k = 0; k < 3; ++k) {
    array a = detail::make_materialized(on_interp[k].type, on_interp[k].buffer);
    EXPECT_TRUE(array_is(on_jit[k], float64, {3}, values(a), 1e-15, 1e-14)) << k;
  }
  // grad: 2 * cotangent through x*y: d/dx = 2y, d/dy = 2x.
  EXPECT_TRUE(array_is(on_jit[1], float64, {3}, {4, 1, 2}));
  EXPECT_TRUE(array_is(on_jit[2], float64, {3}, {1, 2, -4}));
}
