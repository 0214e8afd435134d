// Every elementwise op and reduction, for every dtype its type rule accepts,
// at rank 0, with a size-0 dimension, at rank 2 and (reductions) over an
// empty axes list: the JIT (codegen::execute) and constant folding
// (passes::simplify on constant operands) agree with the reference
// interpreter, the oracle. Folding must agree bit for bit: it is the
// interpreter's semantics applied early, so a rewrite that changes a value
// (a saturating count in sum(broadcast(x)), issue 9 item 10) shows up here.
// The op lists come from ir/ops.h, so a new op is tested without a new line.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <sstream>

#include "codegen/executor.h"
#include "ir/element.h"
#include "ir/interpreter.h"
#include "ir/ops.h"
#include "ir/printer.h"
#include "ir/type_rules.h"
#include "passes/pass_manager.h"
#include "passes/transforms.h"
#include "runtime/buffer.h"
#include "ir_test_helpers.h"
#include "test_helpers.h"

using namespace kiln;
using namespace kiln::ir;

using kiln_test::agree;
using kiln_test::all_dtypes;
using kiln_test::kBinary;
using kiln_test::kReductions;
using kiln_test::kUnary;
using kiln_test::make_input;

namespace {


// f's single op over inputs, run three ways and compared with the interpreter.
void check_three_ways(const Function& f, const std::vector<Tensor>& inputs) {
  SCOPED_TRACE(print(f));
  Tensor want = interpret(f, inputs).at(0);
  Tensor jit = codegen::execute(f, inputs).at(0);
  EXPECT_TRUE(agree(jit, want, true)) << "JIT vs interpreter";

  // The same function with its inputs as constants: simplify folds it.
  Function c;
  std::vector<int> val;
  for (const Tensor& in : inputs) {
    Op k = make_op(OpKind::Constant, {}, in.type);
    k.data = in.buffer;
    val.push_back(c.add_op(std::move(k)));
  }
  for (const Op& op : f.ops) {
    Op o = op;
    for (int& v : o.operands) v = val[size_t(v)];
    val.push_back(c.add_op(std::move(o)));
  }
  c.outputs = {val[size_t(f.outputs[0])]};
  Tensor folded = interpret(passes::simplify(std::move(c)), {}).at(0);
  EXPECT_TRUE(agree(folded, want, false)) << "folded vs interpreter";
}

const std::vector<Shape> kShapes = {{}, {0}, {3, 4}};

}  // namespace

TEST(EveryOp, ElementwiseJitAndFoldingMatchTheInterpreter) {
  int checked = 0;
  for (const std::vector<OpKind>* list : {&kUnary, &kBinary}) {
    for (OpKind k : *list) {
      if (k == OpKind::Cast) continue;  // CastsBetweenEveryPairOfDtypes
      for (Dtype d : all_dtypes()) {
        for (const Shape& s : kShapes) {
          Type t{d, s};
          std::vector<Type> in(size_t(op_arity(k)), t);
          Type out;
          try {
            out = infer_type(k, in, {}, {});
          } catch (const std::invalid_argument&) {
            continue;  // the type rule refuses this dtype
          }
          Function f;
          std::vector<int> operands;
          std::vector<Tensor> inputs;
          for (size_t i = 0; i < in.size(); ++i) {
            operands.push_back(f.add_input(t));
            inputs.push_back(make_input(t, int(i)));
          }
          f.outputs = {f.add_op(make_op(k, operands, out))};
          check_three_ways(f, inputs);
          ++checked;
        }
      }
    }
  }
  EXPECT_GT(checked, 500);
}

TEST(EveryOp, CastsBetweenEveryPairOfDtypes) {
  for (Dtype from : all_dtypes())
    for (Dtype to : all_dtypes())
      for (const Shape& s : kShapes) {
        Function f;
        int x = f.add_input({from, s});
        f.outputs = {f.add_op(make_op(OpKind::Cast, {x}, {to, s}))};
        check_three_ways(f, {make_input({from, s}, 0)});
      }
}

// Reductions over no axis, one axis, all axes, of data and of a broadcast
// scalar (which the canonicalizer rewrites into a multiplication by a count).
TEST(EveryOp, ReductionsJitAndFoldingMatchTheInterpreter) {
  const std::vector<std::vector<int64_t>> axes_of_rank2 = {{}, {1}, {0, 1}};
  for (OpKind k : kReductions) {
    for (Dtype d : all_dtypes()) {
      for (const Shape& s : kShapes) {
        std::vector<std::vector<int64_t>> axes_list = {{}};
        if (s.size() == 1) axes_list.push_back({0});
        if (s.size() == 2) axes_list = axes_of_rank2;
        for (const auto& axes : axes_list) {
          for (bool broadcast_scalar : {false, true}) {
            Type t{d, s};
            Shape rs;
            for (size_t i = 0; i < s.size(); ++i)
              if (std::find(axes.begin(), axes.end(), int64_t(i)) == axes.end()) rs.push_back(s[i]);
            Type out;
            try {
              out = infer_type(k, {t}, {{"axes", axes}}, {});
            } catch (const std::invalid_argument&) {
              continue;
            }
            bool empty_reduced = false;
            for (auto a : axes) empty_reduced = empty_reduced || s[size_t(a)] == 0;
            if (empty_reduced && (k == OpKind::Max || k == OpKind::Min)) continue;  // no identity
            Function f;
            std::vector<Tensor> inputs;
            int x;
            if (broadcast_scalar) {
              x = f.add_input({d, {}});
              inputs.push_back(make_input({d, {}}, 1));
              x = f.add_op(make_op(OpKind::Broadcast, {x}, t));
            } else {
              x = f.add_input(t);
              inputs.push_back(make_input(t, 0));
            }
            f.outputs = {f.add_op(make_op(k, {x}, out, {{"axes", axes}}))};
            check_three_ways(f, inputs);
          }
        }
      }
    }
  }
}

// Counts that overflow the dtype: the sum of many broadcast ones wraps for
// integers (MLX's answer) on every path.
TEST(EveryOp, SumsOfBroadcastScalarsWrapLikeTheKernels) {
  for (Dtype d : {int8, uint8, int16, uint16, int32}) {
    Function f;
    int x = f.add_input({d, {}});
    int b = f.add_op(make_op(OpKind::Broadcast, {x}, {d, {70000}}));
    f.outputs = {f.add_op(make_op(OpKind::Sum, {b}, {d, {}}, {{"axes", std::vector<int64_t>{0}}}))};
    Tensor one{{d, {}}, runtime::allocate(d.size())};
    store_i64(d, one.buffer->data(), 0, 1);
    check_three_ways(f, {one});
    Tensor want = interpret(f, {one}).at(0);
    int64_t bits = 8 * d.size();
    int64_t expected = bits >= 32 ? 70000 : 70000 % (int64_t(1) << bits);
    if (!is_unsigned(d) && expected >= (int64_t(1) << (bits - 1))) expected -= int64_t(1) << bits;
    EXPECT_EQ(load_i64(d, want.buffer->data(), 0), expected) << dtype_name(d);
  }
}

// The public ops, composites included, at rank 0, with size-0 dimensions
// and over empty axis lists: the JIT gives the interpreter's values, or both
// throw the same std::invalid_argument (naming the user's op).
TEST(EveryOp, PublicOpsAtRankZeroAndSizeZero) {
  using Fn = std::function<kiln::array(const kiln::array&)>;
  const std::vector<int> none;
  const std::vector<std::pair<const char*, Fn>> ops = {
      {"sum", [](const kiln::array& x) { return kiln::sum(x); }},
      {"sum_none", [&](const kiln::array& x) { return kiln::sum(x, none); }},
      {"prod", [](const kiln::array& x) { return kiln::prod(x); }},
      {"max", [](const kiln::array& x) { return kiln::max(x); }},
      {"min_none", [&](const kiln::array& x) { return kiln::min(x, none); }},
      {"mean", [](const kiln::array& x) { return kiln::mean(x); }},
      {"mean_keepdims", [](const kiln::array& x) { return kiln::mean(x, true); }},
      {"var", [](const kiln::array& x) { return kiln::var(x); }},
      {"var_ddof1", [](const kiln::array& x) { return kiln::var(x, false, 1); }},
      {"std_none", [&](const kiln::array& x) { return kiln::std(x, none); }},
      {"logsumexp", [](const kiln::array& x) { return kiln::logsumexp(x); }},
      {"logsumexp_none", [&](const kiln::array& x) { return kiln::logsumexp(x, none); }},
      {"softmax", [](const kiln::array& x) { return kiln::softmax(x); }},
      {"softmax_none", [&](const kiln::array& x) { return kiln::softmax(x, none); }},
      {"all", [](const kiln::array& x) { return kiln::all(x); }},
      {"any_none", [&](const kiln::array& x) { return kiln::any(x, none); }},
      {"argmax", [](const kiln::array& x) { return kiln::argmax(x); }},
      {"argmin_keepdims", [](const kiln::array& x) { return kiln::argmin(x, true); }},
      {"array_equal", [](const kiln::array& x) { return kiln::array_equal(x, x); }},
      {"allclose", [](const kiln::array& x) { return kiln::allclose(x, x + 1e-9f); }},
      {"isclose", [](const kiln::array& x) { return kiln::isclose(x, x * 2.0f); }},
      {"round2", [](const kiln::array& x) { return kiln::round(x, 2); }},
      {"clip", [](const kiln::array& x) { return kiln::clip(x, kiln::array(-1.0f), kiln::array(1.0f)); }},
      {"flatten", [](const kiln::array& x) { return kiln::flatten(x); }},
      {"reshape", [](const kiln::array& x) { return kiln::reshape(x, {-1}); }},
      {"transpose", [](const kiln::array& x) { return kiln::transpose(x); }},
      {"expand_dims", [](const kiln::array& x) { return kiln::expand_dims(x, 0); }},
      {"squeeze", [](const kiln::array& x) { return kiln::squeeze(x); }},
      {"tile", [](const kiln::array& x) { return kiln::tile(x, {2}); }},
      {"repeat", [](const kiln::array& x) { return kiln::repeat(x, 2); }},
      {"concatenate", [](const kiln::array& x) { return kiln::concatenate({x, x}); }},
      {"stack", [](const kiln::array& x) { return kiln::stack({x, x}); }},
      {"pad", [](const kiln::array& x) { return x.ndim() ? kiln::pad(x, 1) : x; }},
      {"take", [](const kiln::array& x) { return kiln::take(x, kiln::array({0, 0})); }},
      {"matmul_outer", [](const kiln::array& x) { return kiln::outer(x, x); }},
      {"inner", [](const kiln::array& x) { return kiln::inner(x, x); }},
      {"exp_tanh", [](const kiln::array& x) { return kiln::tanh(kiln::exp(x)); }},
      {"where", [](const kiln::array& x) { return kiln::where(x > 0.0f, x, -x); }},
      {"cumsum", [](const kiln::array& x) { return kiln::cumsum(x); }},
      {"cumprod_reverse", [](const kiln::array& x) { return kiln::cumprod(x, true); }},
      {"cummax_exclusive", [](const kiln::array& x) { return kiln::cummax(x, false, false); }},
      {"cummin_axis0", [](const kiln::array& x) { return kiln::cummin(x, 0); }},
      {"logcumsumexp", [](const kiln::array& x) { return kiln::logcumsumexp(x, -1, true, false); }},
      {"sort", [](const kiln::array& x) { return kiln::sort(x); }},
      {"argsort_axis", [](const kiln::array& x) { return kiln::argsort(x, -1); }},
      {"partition", [](const kiln::array& x) { return kiln::partition(x, 1); }},
      {"argpartition_axis", [](const kiln::array& x) { return kiln::argpartition(x, 0, -1); }},
      {"topk", [](const kiln::array& x) { return kiln::topk(x, 1); }},
  };
  const std::vector<kiln::Shape> shapes = {{}, {0}, {2, 0}, {3, 4}};
  for (const auto& [name, fn] : ops) {
    for (const kiln::Shape& s : shapes) {
      SCOPED_TRACE(std::string(name) + " of shape " + shape_to_string(s));
      auto run = [&](bool interp) -> std::pair<kiln::array, std::string> {
        if (interp) setenv("KILN_EXECUTOR", "interp", 1);
        else unsetenv("KILN_EXECUTOR");
        kiln::array x = kiln::reshape(kiln::arange(0.0, double(shape_size(s)), 1.0), s) * 0.37f - 1.0f;
        std::pair<kiln::array, std::string> r{x, ""};
        try {
          r.first = fn(x);
          r.first.eval();
        } catch (const std::invalid_argument& e) {
          r.second = e.what();
        }
        unsetenv("KILN_EXECUTOR");
        return r;
      };
      auto [jit, jit_error] = run(false);
      auto [ref, ref_error] = run(true);
      EXPECT_EQ(jit_error, ref_error);
      if (!jit_error.empty() || !ref_error.empty()) continue;
      ASSERT_EQ(jit.dtype(), ref.dtype());
      ASSERT_EQ(jit.shape(), ref.shape());
      std::vector<double> want = kiln_test::values(ref);
      EXPECT_TRUE(kiln_test::array_is(jit, ref.dtype(), ref.shape(), want, 1e-6, 1e-5));
    }
  }
}

// The vjp, jvp and vmap facets of every op kind, and the interpreter against
// NumPy: test_every_op_facets.cpp.
