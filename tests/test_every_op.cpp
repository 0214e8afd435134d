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

// ---- autodiff and vmap facets ---------------------------------------------

namespace {

// Ops whose derivative is zero almost everywhere (or undefined at the
// sample points): their vjp/jvp give zeros, checked apart.
bool piecewise_constant(OpKind k) {
  switch (k) {
    case OpKind::Sign: case OpKind::Floor: case OpKind::Ceil: case OpKind::Round:
    case OpKind::FloorDivide: case OpKind::StopGradient:
      return true;
    default:
      return false;
  }
}

// float64 inputs inside every op's domain (arccosh needs x > 1; the rest
// are smooth on (0.2, 0.8)), distinct between operands so that maximum and
// minimum have no ties.
Tensor smooth_input(OpKind k, const Shape& s, int salt) {
  Type t{float64, s};
  Tensor x{t, runtime::allocate(size_t(t.nbytes()))};
  for (int64_t i = 0; i < t.size(); ++i) {
    double v = 0.2 + 0.6 * std::fmod(0.137 * double(i + 1) + 0.311 * salt, 1.0);
    if (k == OpKind::Arccosh) v += 1.0;
    store_f64(float64, x.buffer->data(), i, v);
  }
  return x;
}

Tensor scaled_copy(const Tensor& x, const Tensor& dir, double h) {
  Tensor y{x.type, runtime::allocate(size_t(x.type.nbytes()))};
  for (int64_t i = 0; i < x.type.size(); ++i)
    store_f64(float64, y.buffer->data(), i,
              load_f64(float64, x.buffer->data(), i) + h * load_f64(float64, dir.buffer->data(), i));
  return y;
}

double dot(const Tensor& a, const Tensor& b) {
  double s = 0;
  for (int64_t i = 0; i < a.type.size(); ++i)
    s += load_f64(float64, a.buffer->data(), i) * load_f64(float64, b.buffer->data(), i);
  return s;
}

// One op over float64 inputs of shape s (reductions over `axes`).
Function one_op(OpKind k, const Shape& s, const std::vector<int64_t>& axes) {
  Function f;
  std::vector<int> operands;
  std::vector<Type> in(size_t(op_arity(k)), Type{float64, s});
  for (const Type& t : in) operands.push_back(f.add_input(t));
  Attrs attrs;
  if (is_reduction(k)) attrs["axes"] = axes;
  switch (k) {  // scans and sort: along axes[0]
    KILN_SCAN_OPS(KILN_OP_CASE)
      attrs = {{"axis", axes[0]}, {"reverse", int64_t(0)}, {"inclusive", int64_t(1)}};
      break;
    case OpKind::Sort: attrs = {{"axis", axes[0]}}; break;
    default: break;
  }
  f.outputs = {f.add_op(make_op(k, operands, infer_type(k, in, attrs, {}), attrs))};
  return f;
}

#define KILN_OP_KIND(e, ...) OpKind::e,
// The differentiable float ops of each category, with the axes to reduce
// (scans and sort: the axis).
std::vector<std::pair<OpKind, std::vector<int64_t>>> float_ops() {
  std::vector<std::pair<OpKind, std::vector<int64_t>>> out;
  for (OpKind k : kUnary)
    if (k != OpKind::Cast && k != OpKind::LogicalNot && k != OpKind::BitwiseInvert) out.push_back({k, {}});
  for (OpKind k : kBinary)
    if (!is_comparison(k) && k != OpKind::LogicalAnd && k != OpKind::LogicalOr && k != OpKind::BitwiseAnd &&
        k != OpKind::BitwiseOr && k != OpKind::BitwiseXor && k != OpKind::LeftShift && k != OpKind::RightShift)
      out.push_back({k, {}});
  for (OpKind k : kReductions)
    if (k != OpKind::All && k != OpKind::Any) {
      out.push_back({k, {1}});
      out.push_back({k, {}});
    }
  // Scans and sort along axis 1 and 0 (rank 2 only: they need an axis).
  for (OpKind k : {KILN_SCAN_OPS(KILN_OP_KIND) OpKind::Sort}) {
    out.push_back({k, {1}});
    out.push_back({k, {0}});
  }
  return out;
}

}  // namespace

// vjp: <ct, J v> = <J^T ct, v> for the Jacobian estimated by central
// differences; jvp: J v directly. For every differentiable op, at rank 0
// and rank 2.
TEST(EveryOp, VjpAndJvpMatchFiniteDifferences) {
  const double h = 1e-6;
  int checked = 0;
  for (const auto& [k, axes] : float_ops()) {
    for (const Shape& s : {Shape{}, Shape{3, 4}}) {
      if (s.empty() && !axes.empty()) continue;
      SCOPED_TRACE(std::string(op_name(k)) + " of shape " + shape_to_string(s));
      Function f = one_op(k, s, axes);
      std::vector<Tensor> x, v;
      for (size_t i = 0; i < f.inputs.size(); ++i) {
        x.push_back(smooth_input(k, s, int(i)));
        v.push_back(smooth_input(OpKind::Abs, s, int(i) + 5));  // a direction
      }
      std::vector<int> wrt;
      for (size_t i = 0; i < x.size(); ++i) wrt.push_back(int(i));
      // J v by central differences (all inputs moved along v at once).
      std::vector<Tensor> plus, minus;
      for (size_t i = 0; i < x.size(); ++i) {
        plus.push_back(scaled_copy(x[i], v[i], h));
        minus.push_back(scaled_copy(x[i], v[i], -h));
      }
      Tensor fp = interpret(f, plus).at(0), fm = interpret(f, minus).at(0);
      Tensor y = interpret(f, x).at(0);
      Tensor jv{y.type, runtime::allocate(size_t(y.type.nbytes()))};
      for (int64_t j = 0; j < y.type.size(); ++j)
        store_f64(float64, jv.buffer->data(), j,
                  (load_f64(float64, fp.buffer->data(), j) - load_f64(float64, fm.buffer->data(), j)) / (2 * h));
      if (piecewise_constant(k))
        for (int64_t j = 0; j < y.type.size(); ++j) store_f64(float64, jv.buffer->data(), j, 0.0);

      // jvp
      std::vector<Tensor> jvp_in = x;
      jvp_in.insert(jvp_in.end(), v.begin(), v.end());
      Tensor ty = interpret(passes::jvp(f, wrt), jvp_in).at(1);
      EXPECT_TRUE(agree(ty, jv, true) || [&] {
        for (int64_t j = 0; j < y.type.size(); ++j)
          if (std::fabs(load_f64(float64, ty.buffer->data(), j) - load_f64(float64, jv.buffer->data(), j)) >
              1e-5 * std::max(1.0, std::fabs(load_f64(float64, jv.buffer->data(), j))))
            return false;
        return true;
      }()) << "jvp";

      // vjp, with a cotangent ct: <ct, J v> == sum_i <dx_i, v_i>
      Tensor ct = smooth_input(OpKind::Abs, y.type.shape, 9);
      std::vector<Tensor> vjp_in = x;
      vjp_in.push_back(ct);
      std::vector<Tensor> g = interpret(passes::vjp(f, wrt), vjp_in);
      double lhs = dot(ct, jv), rhs = 0;
      for (size_t i = 0; i < x.size(); ++i) rhs += dot(g.at(1 + i), v[i]);
      EXPECT_NEAR(rhs, lhs, 1e-5 * std::max(1.0, std::fabs(lhs))) << "vjp";
      ++checked;
    }
  }
  EXPECT_GT(checked, 90);
}

// vmap over a new leading axis equals the op applied to each slice.
TEST(EveryOp, VmapMatchesALoopOverSlices) {
  const int batch = 3;
  for (const auto& [k, axes] : float_ops()) {
    for (const Shape& s : {Shape{}, Shape{3, 4}}) {
      if (s.empty() && !axes.empty()) continue;
      SCOPED_TRACE(std::string(op_name(k)) + " of shape " + shape_to_string(s));
      Function f = one_op(k, s, axes);
      Shape bs = s;
      bs.insert(bs.begin(), batch);
      std::vector<Tensor> xb;
      for (size_t i = 0; i < f.inputs.size(); ++i) xb.push_back(smooth_input(k, bs, int(i)));
      Function g = passes::vmap(f, std::vector<int>(f.inputs.size(), 0), {0}, batch);
      Tensor yb = interpret(g, xb).at(0);
      const int64_t in_slice = shape_size(s);
      for (int b = 0; b < batch; ++b) {
        std::vector<Tensor> xs;
        for (const Tensor& t : xb) {
          Tensor one{{float64, s}, runtime::allocate(size_t(in_slice * 8))};
          if (in_slice) std::memcpy(one.buffer->data(), static_cast<const char*>(t.buffer->data()) + b * in_slice * 8, size_t(in_slice * 8));
          xs.push_back(one);
        }
        Tensor y = interpret(f, xs).at(0);
        const int64_t out_slice = y.type.size();
        Tensor from_batch{y.type, runtime::allocate(size_t(y.type.nbytes()))};
        if (out_slice)
          std::memcpy(from_batch.buffer->data(), static_cast<const char*>(yb.buffer->data()) + b * out_slice * y.type.dtype.size(),
                      size_t(y.type.nbytes()));
        EXPECT_TRUE(agree(from_batch, y, false)) << "batch entry " << b;
      }
    }
  }
}
