// Gathers fused as kernel loads (kernel::NodeKind::Gather): take and
// take_along_axis feeding elementwise work are one kernel with their
// consumers, on the CPU JIT and on OpenCL, with the interpreter's index
// rules (a negative index wraps once, anything outside is clamped). Every
// result is checked against the reference interpreter (the oracle); plans
// are checked through passes::plan_fusion.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <numeric>
#include <string>

#include "codegen/executor.h"
#include "frontend/trace.h"
#include "ir/interpreter.h"
#include "ir/parser.h"
#include "passes/fusion.h"
#include "passes/pass_manager.h"
#include "ir_test_helpers.h"
#include "opencl_test.h"
#include "test_helpers.h"

using namespace kiln;

namespace {

using kiln_test::agree;

// Indices of dtype d in [-2n, 2n) (unsigned: [0, 2n)), so that negative
// ones wrap, and those past either end clamp.
ir::Tensor indices(Dtype d, const Shape& s, int64_t n, int salt) {
  ir::Type t{d, s};
  ir::Tensor x{t, runtime::allocate(size_t(t.nbytes()))};
  for (int64_t i = 0; i < t.size(); ++i) {
    uint64_t h = (uint64_t(i) + 1) * 0x9E3779B97F4A7C15ull + uint64_t(salt) * 0xBF58476D1CE4E5B9ull;
    h ^= h >> 31;
    int64_t v = int64_t(h % uint64_t(4 * n)) - 2 * n;
    if (is_unsigned(d)) v = std::llabs(v);
    store_i64(d, x.buffer->data(), i, v);
  }
  return x;
}

// Host steps that copy or compute (a merging reshape is a host step that
// renames its operand's buffer: not counted).
struct PlanSummary {
  int kernels = 0, host_ops = 0, on_host = 0, gathers = 0;
};
PlanSummary summarize(const ir::Function& f, const passes::Plan& p) {
  PlanSummary s;
  for (const auto& st : p.steps) {
    if (st.kind == passes::Step::HostOp) {
      s.host_ops += f.def(st.value).kind != ir::OpKind::Reshape;
      continue;
    }
    ++s.kernels;
    s.on_host += st.on_host;
    for (const auto& n : st.kernel.nodes) s.gathers += n.kind == kernel::NodeKind::Gather;
  }
  return s;
}

// f's results on the CPU JIT against the interpreter.
::testing::AssertionResult jit_matches(const ir::Function& f, const std::vector<ir::Tensor>& in) {
  std::vector<ir::Tensor> want = ir::interpret(f, in), got = codegen::execute(f, in);
  for (size_t i = 0; i < want.size(); ++i) {
    auto r = agree(got[i], want[i], true);
    if (!r) return r << " (output " << i << ")\n" << ir::print(f);
  }
  return ::testing::AssertionSuccess();
}

std::string shape_text(const Shape& s) {
  std::string t = "[";
  for (size_t i = 0; i < s.size(); ++i) t += (i ? "," : "") + std::to_string(s[i]);
  return t + "]";
}

// take(x, i) along `axis`, cast to float32 and squared (one elementwise
// consumer that every dtype has).
ir::Function take_then_square(Dtype xd, const Shape& xs, Dtype id, const Shape& is, int axis, bool along) {
  Shape out;
  if (along) {
    out = is;
  } else {
    out.assign(xs.begin(), xs.begin() + axis);
    out.insert(out.end(), is.begin(), is.end());
    out.insert(out.end(), xs.begin() + axis + 1, xs.end());
  }
  std::string x = std::string(dtype_short_name(xd)), o = shape_text(out);
  std::string text = "func @f(%x: " + x + shape_text(xs) + ", %i: " + dtype_short_name(id) + shape_text(is) +
                     ") -> (f32" + o + ") {\n  %t = " + (along ? "take_along_axis" : "take") +
                     "(%x, %i) {axis = " + std::to_string(axis) + "} : " + x + o + "\n  %c = cast(%t) : f32" + o +
                     "\n  %s = multiply(%c, %c) : f32" + o + "\n  return %s\n}\n";
  return ir::parse(text);
}

}  // namespace

// Every value dtype kernels hold, every index dtype, each axis, negative and
// out-of-range indices: one kernel (the gather and its consumers), the
// interpreter's values.
TEST(GatherFusion, TakeOnEveryAxisAndDtypeIsOneKernel) {
  Shape xs{3, 4, 5};
  for (Dtype xd : {float32, float64, float16, bfloat16, int8, uint16, int64, bool_}) {
    for (Dtype id : {int8, uint8, int16, uint16, int32, uint32, int64, uint64}) {
      for (int axis = 0; axis < 3; ++axis) {
        for (bool along : {false, true}) {
          Shape is = along ? Shape{3, 4, 5} : Shape{2, 3};
          if (along) is[size_t(axis)] = 6;
          ir::Function f = take_then_square(xd, xs, id, is, axis, along);
          SCOPED_TRACE(ir::print(f));
          PlanSummary p = summarize(f, passes::plan_fusion(f));
          EXPECT_EQ(p.kernels, 1);
          EXPECT_EQ(p.host_ops, 0);
          EXPECT_EQ(p.gathers, 1);
          EXPECT_TRUE(jit_matches(f, {kiln_test::make_input({xd, xs}, 1), indices(id, is, xs[size_t(axis)], axis)}));
        }
      }
    }
  }
}

// Known values (NumPy's np.take with mode="clip" after adding n to the
// negative indices once):
//   x = np.arange(5.) * 10; i = np.array([-1, -5, -6, 4, 5, 100, 2])
//   j = np.where(i < 0, i + 5, i); np.exp(np.take(x, j, mode="clip") * 0.01)
//   -> exp([40, 0, 0, 40, 40, 40, 20] * 0.01)
TEST(GatherFusion, WrapsOnceThenClampsAsTheInterpreter) {
  ir::Function f = ir::parse(R"(
func @f(%x: f32[5], %i: i32[7]) -> (f32[7]) {
  %t = take(%x, %i) {axis = 0} : f32[7]
  %c = constant() {value = 0.01} : f32[7]
  %m = multiply(%t, %c) : f32[7]
  %e = exp(%m) : f32[7]
  return %e
}
)");
  ir::Tensor x{{float32, {5}}, runtime::allocate(20)}, i{{int32, {7}}, runtime::allocate(28)};
  const float xv[] = {0, 10, 20, 30, 40};
  const int32_t iv[] = {-1, -5, -6, 4, 5, 100, 2};
  std::memcpy(x.buffer->data(), xv, sizeof xv);
  std::memcpy(i.buffer->data(), iv, sizeof iv);
  EXPECT_EQ(summarize(f, passes::plan_fusion(f)).kernels, 1);
  ir::Tensor got = codegen::execute(f, {x, i}).at(0);
  const double want[] = {40, 0, 0, 40, 40, 40, 20};
  for (int k = 0; k < 7; ++k)
    EXPECT_NEAR(load_f64(float32, got.buffer->data(), k), std::exp(want[k] * 0.01), 1e-6) << k;
}

// The source seen through views folds into the gather's offset: a
// transpose, a reversed slice, a broadcast (along the gathered axis too), a
// reshape (take of a flattened array). Indices computed in the kernel fuse too.
TEST(GatherFusion, ThroughViewsAndComputedIndices) {
  const char* programs[] = {
      R"(func @transposed(%m: f32[4,6], %i: i64[5]) -> (f32[5,4]) {
  %tr = transpose(%m) {perm = [1, 0]} : f32[6,4]
  %t = take(%tr, %i) {axis = 0} : f32[5,4]
  %s = add(%t, %t) : f32[5,4]
  return %s
})",
      R"(func @reversed(%m: f32[4,6], %i: i32[3]) -> (f32[2,3]) {
  %sl = slice(%m) {start = [3, 5], stop = [-1, -1], strides = [-2, -2]} : f32[2,3]
  %t = take(%sl, %i) {axis = 1} : f32[2,3]
  %s = negative(%t) : f32[2,3]
  return %s
})",
      R"(func @broadcast(%r: f32[6], %c: f32[4,1], %i: i32[4,3], %j: i8[2,6]) -> (f32[4,3], f32[2,6]) {
  %b = broadcast(%r) : f32[4,6]
  %t = take_along_axis(%b, %i) {axis = 1} : f32[4,3]
  %bc = broadcast(%c) : f32[4,6]
  %u = take_along_axis(%bc, %j) {axis = 0} : f32[2,6]
  %v = multiply(%u, %u) : f32[2,6]
  %w = sqrt(%t) : f32[4,3]
  return %w, %v
})",
      R"(func @flattened(%m: f32[4,6], %i: u32[7]) -> (f32[7]) {
  %fl = reshape(%m) : f32[24]
  %t = take(%fl, %i) {axis = 0} : f32[7]
  %s = abs(%t) : f32[7]
  return %s
})",
      R"(func @reduced(%m: f32[4,6], %j: i16[4,5]) -> (f32[4]) {
  %u = take_along_axis(%m, %j) {axis = 1} : f32[4,5]
  %e = exp(%u) : f32[4,5]
  %r = sum(%e) {axes = [1]} : f32[4]
  return %r
})",
      R"(func @computed(%x: f64[9], %i: i32[6]) -> (f64[6]) {
  %one = constant() {value = 3} : i32[6]
  %k = multiply(%i, %one) : i32[6]
  %t = take(%x, %k) {axis = 0} : f64[6]
  %s = add(%t, %t) : f64[6]
  return %s
})",
  };
  for (const char* text : programs) {
    ir::Function f = ir::parse(text);
    SCOPED_TRACE(text);
    PlanSummary p = summarize(f, passes::plan_fusion(f));
    EXPECT_EQ(p.host_ops, 0);
    EXPECT_EQ(p.kernels, int(f.outputs.size()));
    std::vector<ir::Tensor> in;
    for (size_t k = 0; k < f.inputs.size(); ++k)
      in.push_back(is_integral(f.inputs[k].dtype) ? indices(f.inputs[k].dtype, f.inputs[k].shape, 6, int(k))
                                                 : kiln_test::make_input(f.inputs[k], int(k)));
    EXPECT_TRUE(jit_matches(f, in));
  }
}

// A source that is not a view of a buffer (a reduction here) is computed
// first, for the reason "gathered by take"; the gather still fuses with
// its consumer.
TEST(GatherFusion, ComputedSourcesAreMaterializedFirst) {
  ir::Function f = ir::parse(R"(
func @f(%m: f32[5,8], %i: i32[4]) -> (f32[4]) {
  %s = sum(%m) {axes = [1]} : f32[5]
  %t = take(%s, %i) {axis = 0} : f32[4]
  %e = exp(%t) : f32[4]
  return %e
}
)");
  passes::Plan plan = passes::plan_fusion(f);
  PlanSummary p = summarize(f, plan);
  EXPECT_EQ(p.kernels, 2);
  EXPECT_EQ(p.gathers, 1);
  EXPECT_NE(passes::plan_to_string(f, plan).find("[gathered by take]"), std::string::npos);
  EXPECT_TRUE(jit_matches(f, {kiln_test::make_input({float32, {5, 8}}, 0), indices(int32, {4}, 5, 1)}));
}

// A gather reads its buffer anywhere, so the output never takes that
// buffer's place (donation), even when it dies in the step: a reversing
// permutation would read elements already overwritten.
TEST(GatherFusion, GatheredBuffersAreNotDonated) {
  ir::Function f = ir::parse(R"(
func @f(%x: f32[64], %i: i32[64]) -> (f32[64]) {
  %y = exp(%x) : f32[64]
  %t = take(%y, %i) {axis = 0} : f32[64]
  %one = constant() {value = 1} : f32[64]
  %s = add(%t, %one) : f32[64]
  return %s
}
)");
  ir::Tensor i{{int32, {64}}, runtime::allocate(256)};
  for (int k = 0; k < 64; ++k) static_cast<int32_t*>(i.buffer->data())[k] = 63 - k;
  EXPECT_TRUE(jit_matches(f, {kiln_test::make_input({float32, {64}}, 0), i}));
}

// Fusion asks the backend: without gather loads, takes are not in the
// device's kernels (they run on the host, as before).
TEST(GatherFusion, BackendWithoutGatherLoads) {
  ir::Function f = take_then_square(float32, {3, 4, 5}, int32, {2, 3}, 1, false);
  runtime::Capabilities caps;
  caps.gather_loads = false;
  passes::Plan plan = passes::plan_fusion(f, caps);
  for (const auto& st : plan.steps) {
    if (st.kind != passes::Step::Kernel || st.on_host) continue;
    for (const auto& n : st.kernel.nodes) EXPECT_NE(n.kind, kernel::NodeKind::Gather);
  }
  EXPECT_EQ(summarize(f, passes::plan_fusion(f)).kernels, 1);
  EXPECT_GT(summarize(f, plan).kernels + summarize(f, plan).host_ops, 1);
}

// The OpenCL emitter renders the same gathers (PoCL in CI).
TEST(GatherFusion, OnOpenCl) {
  REQUIRE_OPENCL();
  ASSERT_TRUE(kiln_test::gpu().capabilities().gather_loads);
  Shape xs{3, 4, 5};
  for (Dtype xd : {float32, float16, int8, bool_})
    for (Dtype id : {int8, uint8, int32, uint64, int64})
      for (int axis = 0; axis < 3; ++axis)
        for (bool along : {false, true}) {
          Shape is = along ? Shape{3, 4, 5} : Shape{2, 3};
          if (along) is[size_t(axis)] = 6;
          ir::Function f = take_then_square(xd, xs, id, is, axis, along);
          EXPECT_EQ(summarize(f, passes::plan_fusion(f, kiln_test::gpu().capabilities())).gathers, 1);
          EXPECT_TRUE(kiln_test::on_gpu_matches(
              f, {kiln_test::make_input({xd, xs}, 1), indices(id, is, xs[size_t(axis)], axis)}));
        }
}

namespace {
// make() on the JIT and on the interpreter (KILN_EXECUTOR=interp).
std::pair<array, array> both(const std::function<array()>& make) {
  unsetenv("KILN_EXECUTOR");
  array jit = make();
  jit.eval();
  setenv("KILN_EXECUTOR", "interp", 1);
  array ref = make();
  ref.eval();
  unsetenv("KILN_EXECUTOR");
  return {jit, ref};
}

void expect_close(const array& a, const array& b) {
  ASSERT_EQ(a.shape(), b.shape());
  std::vector<double> x = kiln_test::values(a), y = kiln_test::values(b);
  for (size_t k = 0; k < x.size(); ++k) EXPECT_NEAR(x[k], y[k], 1e-5 * (1 + std::abs(y[k]))) << k;
}
}  // namespace

// grad and vmap of fused gathers: the transformed programs (a scatter-add
// for the vjp, take_along_axis for batched indices) against the interpreter.
TEST(GatherFusion, GradAndVmap) {
  std::vector<float> xv = kiln_test::noise(40, 3);
  array x(xv.data(), {8, 5}, float32);
  array idx({2, -1, 9, 0, 2, -9}, {6});
  std::function<array(const std::vector<array>&)> loss = [&](const std::vector<array>& a) {
    return sum(exp(take(a[0], idx, 0) * 0.5f) * 2.0f);
  };
  auto [g, g_ref] = both([&] { return grad(loss)({x})[0]; });
  expect_close(g, g_ref);
  // Analytic: row r gets exp(x[r] / 2) times the number of indices mapping
  // to it (2 -> twice, -1 and 9 -> row 7, 0 and -9 -> row 0).
  std::vector<double> gv = kiln_test::values(g);
  const int count[8] = {2, 0, 2, 0, 0, 0, 0, 2};
  for (int r = 0; r < 8; ++r)
    for (int c = 0; c < 5; ++c)
      EXPECT_NEAR(gv[size_t(r * 5 + c)], count[r] * std::exp(xv[size_t(r * 5 + c)] * 0.5), 1e-4);

  // Batched source and batched indices: each row of x gathered at its own
  // row of indices, against the loop.
  array rows({1, -2, 7, 0, 3, 3, -1, 2, 4, 4, 0, 1, 6, 5, 2, 2}, {8, 2});
  auto per_row = [](const array& xr, const array& ir) { return take(xr, ir, 0) * 3.0f + 1.0f; };
  auto [v, v_ref] = both([&] { return vmap(per_row, 0, 0)(x, rows); });
  expect_close(v, v_ref);
  for (int r = 0; r < 8; ++r)
    expect_close(take(v, r, 0), per_row(take(x, r, 0), take(rows, r, 0)));
}
