// Every elementwise op, cast and reduction of ir/ops.h, for every dtype
// its type rule accepts, on the OpenCL backend against the reference
// interpreter (as test_every_op does for the CPU): at shape (3, 4), and at
// rank 0 and size 0 for a few dtypes (each case is one kernel to build, and
// PoCL takes a quarter of a second per kernel).
#include "ir/ops.h"
#include "ir/type_rules.h"
#include "opencl_test.h"

using namespace kiln;
using namespace kiln::ir;
using kiln_test::all_dtypes;
using kiln_test::kBinary;
using kiln_test::kReductions;
using kiln_test::kUnary;
using kiln_test::make_input;
using kiln_test::on_gpu_matches;
using kiln_test::random_tensor;

namespace {


// The shapes to try for dtype d: every dtype at (3, 4); rank 0 and size 0
// for one dtype of each kind.
std::vector<Shape> shapes_for(Dtype d) {
  if (d == float32 || d == int32 || d == bool_ || d == float16) return {{}, {0}, {3, 4}};
  return {{3, 4}};
}

}  // namespace

TEST(OpenclEveryOp, ElementwiseMatchesTheInterpreter) {
  REQUIRE_OPENCL();
  int checked = 0;
  for (const std::vector<OpKind>* list : {&kUnary, &kBinary}) {
    for (OpKind k : *list) {
      if (k == OpKind::Cast) continue;  // CastsBetweenEveryPairOfDtypes
      for (Dtype d : all_dtypes()) {
        for (const Shape& s : shapes_for(d)) {
          Type t{d, s};
          std::vector<Type> in(size_t(op_arity(k)), t);
          Type out;
          try {
            out = infer_type(k, in, {}, {});
          } catch (const std::invalid_argument&) {
            continue;
          }
          Function f;
          std::vector<int> operands;
          std::vector<Tensor> inputs;
          for (size_t i = 0; i < in.size(); ++i) {
            operands.push_back(f.add_input(t));
            inputs.push_back(make_input(t, int(i)));
          }
          f.outputs = {f.add_op(make_op(k, operands, out))};
          EXPECT_TRUE(on_gpu_matches(f, inputs));
          ++checked;
        }
      }
    }
  }
  EXPECT_GT(checked, 500);
}

TEST(OpenclEveryOp, CastsBetweenEveryPairOfDtypes) {
  REQUIRE_OPENCL();
  for (Dtype from : all_dtypes())
    for (Dtype to : all_dtypes())
      for (const Shape& s : {Shape{3, 4}}) {
        Function f;
        int x = f.add_input({from, s});
        f.outputs = {f.add_op(make_op(OpKind::Cast, {x}, {to, s}))};
        EXPECT_TRUE(on_gpu_matches(f, {make_input({from, s}, 0)}, false));
        // Values beyond the integer ranges saturate; NaN gives 0.
        if (is_floating(from)) {
          Tensor big = random_tensor({from, s}, 7, -1e5, 1e5);
          store_f64(from, big.buffer->data(), 0, std::nan(""));
          EXPECT_TRUE(on_gpu_matches(f, {big}, false));
        }
      }
}

TEST(OpenclEveryOp, ReductionsMatchTheInterpreter) {
  REQUIRE_OPENCL();
  for (OpKind k : kReductions) {
    for (Dtype d : all_dtypes()) {
      for (Shape s : shapes_for(d)) {
        if (s == Shape{0} && d != float32) s = {2, 0};
        std::vector<std::vector<int64_t>> axes_list = {{}};
        if (s.size() == 1) axes_list.push_back({0});
        if (s.size() == 2) axes_list = {{}, {0}, {1}, {0, 1}};
        for (const auto& axes : axes_list) {
          Type t{d, s};
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
          int x = f.add_input(t);
          f.outputs = {f.add_op(make_op(k, {x}, out, {{"axes", axes}}))};
          EXPECT_TRUE(on_gpu_matches(f, {make_input(t, 0)}));
        }
      }
    }
  }
}

// Float max/min propagate NaN; infinities and signed zeros.
TEST(OpenclEveryOp, MaxMinWithNanAndInfinities) {
  REQUIRE_OPENCL();
  for (Dtype d : {float32, float64, float16, bfloat16}) {
    Type t{d, {4, 5}};
    Tensor x = random_tensor(t, 3);
    store_f64(d, x.buffer->data(), 2, std::nan(""));
    store_f64(d, x.buffer->data(), 7, INFINITY);
    store_f64(d, x.buffer->data(), 13, -INFINITY);
    store_f64(d, x.buffer->data(), 16, -0.0);
    for (OpKind k : {OpKind::Max, OpKind::Min})
      for (std::vector<int64_t> axes : {std::vector<int64_t>{1}, {0}, {0, 1}}) {
        Function f;
        int v = f.add_input(t);
        f.outputs = {f.add_op(make_op(k, {v}, infer_type(k, {t}, {{"axes", axes}}, {}), {{"axes", axes}}))};
        EXPECT_TRUE(on_gpu_matches(f, {x}));
      }
  }
}

