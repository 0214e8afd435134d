// Unit tests of the pass manager and the simplification passes
// (canonicalize, cse, dce): each pass keeps the function's meaning (the
// interpreter's results are bit-equal before and after), and each does the
// rewrites it promises.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "ir/clone.h"
#include "ir/element.h"
#include "ir/function.h"
#include "ir/interpreter.h"
#include "ir/printer.h"
#include "ir/verifier.h"
#include "passes/pass_manager.h"

namespace {

using namespace kiln;
using ir::Function;
using ir::Op;
using ir::OpKind;
using ir::Type;

Type T(Dtype d, ir::Shape s) { return Type{d, std::move(s)}; }

template <typename E>
int constant_of(Function& f, const Type& t, const std::vector<E>& v) {
  EXPECT_EQ(int64_t(v.size()), t.size());
  return f.add_op(ir::make_constant(t, v.data()));
}

int splat(Function& f, const Type& t, double v) { return f.add_op(ir::make_splat(t, v)); }

int op(Function& f, OpKind k, std::vector<int> operands, const Type& t, ir::Attrs attrs = {}) {
  return f.add_op(ir::make_op(k, std::move(operands), t, std::move(attrs)));
}

// A tensor of type t whose elements are `values`, cycled.
ir::Tensor tensor(const Type& t, const std::vector<double>& values) {
  ir::Tensor x{t, runtime::allocate(size_t(t.nbytes()))};
  for (int64_t i = 0; i < t.size(); ++i)
    store_f64(t.dtype, x.buffer->data(), i, values[size_t(i) % values.size()]);
  return x;
}

// Random inputs for f: values in [-4, 4], no zeros (so the sign-of-zero
// caveat of x+0 -> x never shows), bools random.
std::vector<ir::Tensor> random_inputs(const Function& f, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(0.25, 4.0);
  std::vector<ir::Tensor> ins;
  for (const Type& t : f.inputs) {
    std::vector<double> v(size_t(std::max<int64_t>(t.size(), 1)));
    for (auto& x : v) {
      double m = is_integral(t.dtype) ? std::floor(u(rng)) : u(rng);
      x = (t.dtype == bool_) ? double(rng() & 1) : (rng() & 1 ? m : -m);
    }
    ins.push_back(tensor(t, v));
  }
  return ins;
}

bool same_bytes(const ir::Tensor& a, const ir::Tensor& b) {
  if (a.type != b.type) return false;
  size_t n = size_t(a.type.nbytes());
  return n == 0 || std::memcmp(a.buffer->data(), b.buffer->data(), n) == 0;
}

// Bit-equal, except that +0 and -0 of a floating dtype count as equal: the
// documented caveat of x + 0 -> x.
bool same_up_to_zero_sign(const ir::Tensor& a, const ir::Tensor& b) {
  if (same_bytes(a, b)) return true;
  if (a.type != b.type || !is_floating(a.type.dtype)) return false;
  size_t es = a.type.dtype.size();
  const char* pa = static_cast<const char*>(a.buffer->data());
  const char* pb = static_cast<const char*>(b.buffer->data());
  for (int64_t i = 0; i < a.type.size(); ++i) {
    if (std::memcmp(pa + i * es, pb + i * es, es) == 0) continue;
    if (load_f64(a.type.dtype, pa, i) != 0 || load_f64(b.type.dtype, pb, i) != 0) return false;
  }
  return true;
}

// Runs `pass` on f and checks: the result verifies, keeps the signature, and
// gives bit-equal results on `trials` random inputs.
Function check_preserves(const Function& f, const passes::Pass& pass, int trials = 3,
                         bool allow_zero_sign = false) {
  Function g = pass(f);
  EXPECT_EQ(ir::verify_message(g), "") << ir::print(g);
  EXPECT_EQ(g.inputs, f.inputs);
  EXPECT_EQ(g.outputs.size(), f.outputs.size());
  for (int s = 0; s < trials; ++s) {
    auto ins = random_inputs(f, uint32_t(1234 + s));
    auto want = ir::interpret(f, ins);
    auto got = ir::interpret(g, ins);
    EXPECT_EQ(got.size(), want.size());
    for (size_t i = 0; i < want.size() && i < got.size(); ++i)
      EXPECT_TRUE(allow_zero_sign ? same_up_to_zero_sign(want[i], got[i])
                                  : same_bytes(want[i], got[i]))
          << "output " << i << " differs after the pass\nbefore:\n"
          << ir::print(f) << "after:\n"
          << ir::print(g);
  }
  return g;
}

int count_ops(const Function& f, OpKind k) {
  int n = 0;
  for (const Op& o : f.ops) n += o.kind == k;
  return n;
}

const std::vector<passes::Pass>& all_pipelines() {
  static const std::vector<passes::Pass> p = {
      passes::canonicalize, passes::cse, passes::dce,
      [](const Function& f) {
        passes::PassManager pm;
        pm.add_pipeline("canonicalize,cse,dce");
        return pm.run(f);
      }};
  return p;
}

// ---------------------------------------------------------------- registry

TEST(PassManager, RegistryNames) {
  auto names = passes::pass_names();
  for (const char* n : {"verify", "canonicalize", "cse", "dce"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), n), names.end()) << n;
    passes::Pass p;
    EXPECT_TRUE(passes::lookup_pass(n, &p)) << n;
    EXPECT_TRUE(bool(p));
  }
  passes::Pass p;
  EXPECT_FALSE(passes::lookup_pass("nope", &p));
  EXPECT_FALSE(passes::lookup_pass("", &p));
}

TEST(PassManager, RejectsUnknownNames) {
  passes::PassManager pm;
  EXPECT_THROW(pm.add("no-such-pass"), std::invalid_argument);
  EXPECT_THROW(pm.add_pipeline("canonicalize,no-such-pass"), std::invalid_argument);
  EXPECT_THROW(pm.add_pipeline("cse,,dce"), std::invalid_argument);
  try {
    pm.add("bogus");
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("bogus"), std::string::npos) << e.what();
  }
  // A failed add_pipeline adds nothing: the manager still runs no pass.
  std::ostringstream os;
  pm.print_after_each(&os);
  Function f;
  int x = f.add_input(T(float32, {2}));
  f.outputs = {x};
  pm.run(f);
  EXPECT_EQ(os.str(), "");
}

TEST(PassManager, EmptyPipelineAndWhitespace) {
  passes::PassManager pm;
  EXPECT_NO_THROW(pm.add_pipeline(""));
  EXPECT_NO_THROW(pm.add_pipeline(" canonicalize , cse "));
  std::ostringstream os;
  pm.print_after_each(&os);
  Function f;
  int x = f.add_input(T(float32, {2}));
  f.outputs = {x};
  pm.run(f);
  EXPECT_NE(os.str().find("// ----- IR after canonicalize -----\n"), std::string::npos);
  EXPECT_NE(os.str().find("// ----- IR after cse -----\n"), std::string::npos);
}

TEST(PassManager, PrintsAfterEachPassInOrder) {
  Function f;
  int x = f.add_input(T(float32, {3}));
  int one = splat(f, T(float32, {3}), 1.0);
  int m = op(f, OpKind::Multiply, {x, one}, T(float32, {3}));
  f.outputs = {m};
  passes::PassManager pm;
  pm.add_pipeline("verify,canonicalize,cse,dce");
  std::ostringstream os;
  pm.print_after_each(&os);
  Function g = pm.run(f);
  std::string s = os.str();
  size_t a = s.find("// ----- IR after verify -----\n");
  size_t b = s.find("// ----- IR after canonicalize -----\n");
  size_t c = s.find("// ----- IR after cse -----\n");
  size_t d = s.find("// ----- IR after dce -----\n");
  ASSERT_NE(a, std::string::npos);
  ASSERT_NE(b, std::string::npos);
  ASSERT_NE(c, std::string::npos);
  ASSERT_NE(d, std::string::npos);
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);
  EXPECT_LT(c, d);
  // The IR after the last pass is the result.
  EXPECT_EQ(s.substr(d + std::string("// ----- IR after dce -----\n").size()), ir::print(g));
  EXPECT_EQ(g.ops.size(), 0u);
}

TEST(PassManager, RejectsInvalidInput) {
  Function f;
  f.add_input(T(float32, {2}));
  f.outputs = {7};  // no such value
  passes::PassManager pm;
  pm.add("dce");
  EXPECT_THROW(pm.run(f), std::invalid_argument);
}

TEST(PassManager, VerifyPassThrowsOnBadIR) {
  Function f;
  int x = f.add_input(T(float32, {2}));
  // Declared type disagrees with the type rule.
  op(f, OpKind::Negative, {x}, T(float32, {3}));
  f.outputs = {1};
  EXPECT_THROW(passes::verify_pass(f), std::invalid_argument);
}

// ---------------------------------------------------------------- canonicalize

TEST(Canonicalize, FoldsArithmeticBitExact) {
  Function f;
  Type t = T(float32, {4});
  int a = constant_of(f, t, std::vector<float>{1.5f, -2.0f, 3.25f, 0.1f});
  int b = constant_of(f, t, std::vector<float>{0.5f, 4.0f, -1.0f, 0.2f});
  int s = op(f, OpKind::Add, {a, b}, t);
  int e = op(f, OpKind::Exp, {s}, t);
  int m = op(f, OpKind::Multiply, {e, b}, t);
  f.outputs = {m};
  Function g = check_preserves(f, passes::canonicalize);
  ASSERT_EQ(g.ops.size(), 1u);
  EXPECT_EQ(g.ops[0].kind, OpKind::Constant);
}

TEST(Canonicalize, FoldsCastAndReduction) {
  Function f;
  int c = constant_of(f, T(float32, {2, 3}),
                      std::vector<float>{1.9f, -1.9f, 2.5f, 100.0f, -0.5f, 7.0f});
  int i = op(f, OpKind::Cast, {c}, T(int32, {2, 3}));
  int s = op(f, OpKind::Sum, {i}, T(int32, {2}), {{"axes", std::vector<int64_t>{1}}});
  int mx = op(f, OpKind::Max, {c}, T(float32, {}), {{"axes", std::vector<int64_t>{0, 1}}});
  f.outputs = {s, mx};
  Function g = check_preserves(f, passes::canonicalize);
  ASSERT_EQ(g.ops.size(), 2u);
  for (const Op& o : g.ops) EXPECT_EQ(o.kind, OpKind::Constant);
  auto out = ir::interpret(g, {});
  EXPECT_EQ(load_i64(int32, out[0].buffer->data(), 0), 1 - 1 + 2);
  EXPECT_EQ(load_i64(int32, out[0].buffer->data(), 1), 100 + 0 + 7);
  EXPECT_EQ(load_f64(float32, out[1].buffer->data(), 0), 100.0);
}

TEST(Canonicalize, FoldingRespectsSizeCap) {
  const int32_t rows_ok = int32_t(passes::kMaxFoldElements / 2);
  for (int32_t rows : {rows_ok, rows_ok + 1}) {
    Function f;
    int c = constant_of(f, T(float32, {2}), std::vector<float>{1.0f, 2.0f});
    int b = op(f, OpKind::Broadcast, {c}, T(float32, {rows, 2}));
    f.outputs = {b};
    Function g = passes::canonicalize(f);
    EXPECT_EQ(ir::verify_message(g), "");
    if (int64_t(rows) * 2 <= passes::kMaxFoldElements) {
      ASSERT_EQ(g.ops.size(), 1u);
      EXPECT_EQ(g.ops[0].kind, OpKind::Constant);
    } else {
      EXPECT_EQ(count_ops(g, OpKind::Broadcast), 1) << ir::print(g);
      for (const Op& o : g.ops) {
        if (o.kind == OpKind::Constant) {
          EXPECT_LE(o.type.size(), 2);
        }
      }
    }
    auto want = ir::interpret(f, {});
    auto got = ir::interpret(g, {});
    EXPECT_TRUE(same_bytes(want[0], got[0]));
  }
}

TEST(Canonicalize, SplatBroadcastAboveCapStaysButIdentitySeesThrough) {
  Type big = T(float32, {512, 512});
  ASSERT_GT(big.size(), passes::kMaxFoldElements);
  Function f;
  int x = f.add_input(big);
  int one = splat(f, T(float32, {}), 1.0);
  int b = op(f, OpKind::Broadcast, {one}, big);
  int m = op(f, OpKind::Multiply, {x, b}, big);
  int zero = splat(f, T(float32, {}), 0.0);
  int bz = op(f, OpKind::Broadcast, {zero}, big);
  f.outputs = {m, bz};
  Function g = check_preserves(f, passes::canonicalize, 1);
  EXPECT_EQ(g.outputs[0], x);
  EXPECT_EQ(count_ops(g, OpKind::Multiply), 0);
  EXPECT_EQ(count_ops(g, OpKind::Broadcast), 1);  // the zeros are not materialized
  for (const Op& o : g.ops)
    if (o.kind == OpKind::Constant) {
      EXPECT_LE(o.type.size(), 1);
    }
}

TEST(Canonicalize, SplatBroadcastBecomesConstant) {
  Function f;
  int c = splat(f, T(int32, {}), 7);
  int b = op(f, OpKind::Broadcast, {c}, T(int32, {3, 4}));
  int c2 = constant_of(f, T(float32, {2}), std::vector<float>{-0.0f, -0.0f});
  int b2 = op(f, OpKind::Broadcast, {c2}, T(float32, {5, 2}));
  f.outputs = {b, b2};
  Function g = check_preserves(f, passes::canonicalize, 1);
  ASSERT_EQ(g.ops.size(), 2u);
  EXPECT_EQ(g.ops[0].kind, OpKind::Constant);
  EXPECT_EQ(g.ops[0].type, T(int32, {3, 4}));
  EXPECT_EQ(g.ops[1].kind, OpKind::Constant);
  EXPECT_TRUE(std::signbit(load_f64(float32, g.ops[1].data->data(), 9)));  // -0 kept
}

TEST(Canonicalize, ArithmeticIdentities) {
  Type t = T(float32, {2, 3});
  Function f;
  int x = f.add_input(t);
  int one = splat(f, t, 1.0);
  int zero = splat(f, t, 0.0);
  int negzero = splat(f, t, -0.0);
  int v = op(f, OpKind::Multiply, {x, one}, t);   // x*1
  v = op(f, OpKind::Multiply, {one, v}, t);       // 1*x
  v = op(f, OpKind::Add, {v, zero}, t);           // x+0
  v = op(f, OpKind::Add, {zero, v}, t);           // 0+x
  v = op(f, OpKind::Add, {v, negzero}, t);        // x+(-0)
  v = op(f, OpKind::Subtract, {v, zero}, t);      // x-0
  v = op(f, OpKind::Divide, {v, one}, t);         // x/1
  f.outputs = {v};
  Function g = check_preserves(f, passes::canonicalize);
  EXPECT_EQ(g.ops.size(), 0u) << ir::print(g);
  EXPECT_EQ(g.outputs, std::vector<int>{x});
}

TEST(Canonicalize, IntegerAndBoolIdentities) {
  Type ti = T(int32, {4});
  Type tu = T(uint8, {4});
  Type tb = T(bool_, {4});
  Function f;
  int xi = f.add_input(ti);
  int xu = f.add_input(tu);
  int xb = f.add_input(tb);
  int a = op(f, OpKind::Multiply, {xi, splat(f, ti, 1)}, ti);
  a = op(f, OpKind::Subtract, {a, splat(f, ti, 0)}, ti);
  int b = op(f, OpKind::Add, {splat(f, tu, 0), xu}, tu);
  int c = op(f, OpKind::Multiply, {xb, splat(f, tb, 1)}, tb);  // x and true
  f.outputs = {a, b, c};
  Function g = check_preserves(f, passes::canonicalize);
  EXPECT_EQ(g.ops.size(), 0u) << ir::print(g);
  EXPECT_EQ(g.outputs, (std::vector<int>{xi, xu, xb}));
}

TEST(Canonicalize, NonIdentitiesAreKept) {
  Type t = T(float32, {3});
  Function f;
  int x = f.add_input(t);
  int almost = constant_of(f, t, std::vector<float>{1.0f, 1.0f, 2.0f});
  int m = op(f, OpKind::Multiply, {x, almost}, t);
  int d = op(f, OpKind::Divide, {splat(f, t, 1.0), x}, t);  // 1/x is not x
  int s = op(f, OpKind::Subtract, {splat(f, t, 0.0), x}, t);  // 0-x is not x
  int a = op(f, OpKind::Add, {x, splat(f, t, 1.0)}, t);
  f.outputs = {m, d, s, a};
  Function g = check_preserves(f, passes::canonicalize);
  EXPECT_EQ(count_ops(g, OpKind::Multiply), 1);
  EXPECT_EQ(count_ops(g, OpKind::Divide), 1);
  EXPECT_EQ(count_ops(g, OpKind::Subtract), 1);
  EXPECT_EQ(count_ops(g, OpKind::Add), 1);
}

TEST(Canonicalize, AddZeroSignOfZeroCaveat) {
  // Documented: x + 0 -> x maps -0 + +0 (= +0) to -0, as XLA does.
  Type t = T(float32, {1});
  Function f;
  int x = f.add_input(t);
  int a = op(f, OpKind::Add, {x, splat(f, t, 0.0)}, t);
  f.outputs = {a};
  Function g = passes::canonicalize(f);
  ASSERT_EQ(g.outputs, std::vector<int>{x});
  auto in = tensor(t, {-0.0});
  auto before = ir::interpret(f, {in});
  auto after = ir::interpret(g, {in});
  EXPECT_FALSE(std::signbit(load_f64(float32, before[0].buffer->data(), 0)));
  EXPECT_TRUE(std::signbit(load_f64(float32, after[0].buffer->data(), 0)));
}

TEST(Canonicalize, DataMovementIdentities) {
  Type t = T(float32, {2, 3, 4});
  Function f;
  int x = f.add_input(t);
  using V = std::vector<int64_t>;
  // transpose o transpose = identity
  int t1 = op(f, OpKind::Transpose, {x}, T(float32, {3, 4, 2}), {{"perm", V{1, 2, 0}}});
  int t2 = op(f, OpKind::Transpose, {t1}, t, {{"perm", V{2, 0, 1}}});
  // transpose o transpose = one transpose
  int t3 = op(f, OpKind::Transpose, {x}, T(float32, {3, 2, 4}), {{"perm", V{1, 0, 2}}});
  int t4 = op(f, OpKind::Transpose, {t3}, T(float32, {3, 4, 2}), {{"perm", V{0, 2, 1}}});
  // identity transpose / reshape / broadcast / cast
  int i1 = op(f, OpKind::Transpose, {t2}, t, {{"perm", V{0, 1, 2}}});
  int i2 = op(f, OpKind::Reshape, {i1}, t);
  int i3 = op(f, OpKind::Broadcast, {i2}, t);
  int i4 = op(f, OpKind::Cast, {i3}, t);
  // reshape o reshape
  int r1 = op(f, OpKind::Reshape, {x}, T(float32, {6, 4}));
  int r2 = op(f, OpKind::Reshape, {r1}, T(float32, {24}));
  int r3 = op(f, OpKind::Reshape, {r2}, t);  // back to x
  // broadcast o broadcast
  int b1 = op(f, OpKind::Broadcast, {x}, T(float32, {5, 2, 3, 4}));
  int b2 = op(f, OpKind::Broadcast, {b1}, T(float32, {7, 5, 2, 3, 4}));
  f.outputs = {i4, t4, r2, r3, b2};
  Function g = check_preserves(f, passes::canonicalize);
  EXPECT_EQ(g.outputs[0], x);
  EXPECT_EQ(g.outputs[3], x);
  EXPECT_EQ(count_ops(g, OpKind::Transpose), 1) << ir::print(g);
  EXPECT_EQ(count_ops(g, OpKind::Reshape), 1) << ir::print(g);
  EXPECT_EQ(count_ops(g, OpKind::Broadcast), 1) << ir::print(g);
  EXPECT_EQ(count_ops(g, OpKind::Cast), 0) << ir::print(g);
  const Op& tr = g.def(g.outputs[1]);
  ASSERT_EQ(tr.kind, OpKind::Transpose);
  EXPECT_EQ(tr.operands, std::vector<int>{x});
  EXPECT_EQ(tr.ints_attr("perm"), (V{1, 2, 0}));
}

TEST(Canonicalize, CastsThatChangeTheTypeAreKept) {
  Function f;
  int x = f.add_input(T(float32, {3}));
  int c1 = op(f, OpKind::Cast, {x}, T(int32, {3}));
  int c2 = op(f, OpKind::Cast, {c1}, T(float32, {3}));  // not x: truncates
  f.outputs = {c2};
  Function g = check_preserves(f, passes::canonicalize);
  EXPECT_EQ(count_ops(g, OpKind::Cast), 2);
}

TEST(Canonicalize, SelectWithSplatCondition) {
  Type t = T(float32, {2, 2});
  Type tb = T(bool_, {2, 2});
  Function f;
  int a = f.add_input(t);
  int b = f.add_input(t);
  int c = f.add_input(tb);
  int s1 = op(f, OpKind::Select, {splat(f, tb, 1), a, b}, t);
  int s2 = op(f, OpKind::Select, {splat(f, tb, 0), a, b}, t);
  int s3 = op(f, OpKind::Select, {c, b, b}, t);
  int mixed = constant_of(f, tb, std::vector<uint8_t>{1, 0, 1, 1});
  int s4 = op(f, OpKind::Select, {mixed, a, b}, t);
  f.outputs = {s1, s2, s3, s4};
  Function g = check_preserves(f, passes::canonicalize);
  EXPECT_EQ(g.outputs[0], a);
  EXPECT_EQ(g.outputs[1], b);
  EXPECT_EQ(g.outputs[2], b);
  EXPECT_EQ(count_ops(g, OpKind::Select), 1);
}

TEST(Canonicalize, KeepsStopGradient) {
  Type t = T(float32, {3});
  Function f;
  int x = f.add_input(t);
  int c = splat(f, t, 2.0);
  int s1 = op(f, OpKind::StopGradient, {x}, t);
  int s2 = op(f, OpKind::StopGradient, {c}, t);  // not folded either
  int m = op(f, OpKind::Multiply, {s1, s2}, t);
  f.outputs = {m};
  Function g = check_preserves(f, passes::canonicalize);
  EXPECT_EQ(count_ops(g, OpKind::StopGradient), 2);
}

TEST(Canonicalize, IsIdempotent) {
  Type t = T(float32, {2, 3});
  Function f;
  int x = f.add_input(t);
  int y = op(f, OpKind::Exp, {x}, t);
  int one = splat(f, t, 1.0);
  int two = op(f, OpKind::Add, {one, one}, t);
  int m = op(f, OpKind::Multiply, {y, two}, t);
  int tr = op(f, OpKind::Transpose, {m}, T(float32, {3, 2}),
              {{"perm", std::vector<int64_t>{1, 0}}});
  f.outputs = {tr};
  Function g = passes::canonicalize(f);
  EXPECT_EQ(ir::print(passes::canonicalize(g)), ir::print(g));
}

TEST(Canonicalize, FoldsIntegerDivisionByZeroLikeTheInterpreter) {
  Type t = T(int32, {3});
  Function f;
  int a = constant_of(f, t, std::vector<int32_t>{7, -7, 5});
  int b = constant_of(f, t, std::vector<int32_t>{2, 2, 0});
  int d = op(f, OpKind::FloorDivide, {a, b}, t);
  int r = op(f, OpKind::Remainder, {a, b}, t);
  f.outputs = {d, r};
  check_preserves(f, passes::canonicalize, 1);
}

// ---------------------------------------------------------------- cse

TEST(Cse, MergesEqualOps) {
  Type t = T(float32, {3});
  Function f;
  int x = f.add_input(t);
  int y = f.add_input(t);
  int a1 = op(f, OpKind::Add, {x, y}, t);
  int a2 = op(f, OpKind::Add, {x, y}, t);
  int a3 = op(f, OpKind::Add, {y, x}, t);  // different operand order: kept
  int e1 = op(f, OpKind::Exp, {a1}, t);
  int e2 = op(f, OpKind::Exp, {a2}, t);  // equal once a2 is a1
  int m = op(f, OpKind::Multiply, {e1, e2}, t);
  f.outputs = {m, a3};
  Function g = check_preserves(f, passes::cse);
  EXPECT_EQ(count_ops(g, OpKind::Add), 2);
  EXPECT_EQ(count_ops(g, OpKind::Exp), 1);
  const Op& mul = g.def(g.outputs[0]);
  EXPECT_EQ(mul.operands[0], mul.operands[1]);
}

TEST(Cse, DistinguishesAttrsAndTypes) {
  Function f;
  int x = f.add_input(T(float32, {2, 3}));
  int s0 = op(f, OpKind::Sum, {x}, T(float32, {3}), {{"axes", std::vector<int64_t>{0}}});
  int s1 = op(f, OpKind::Sum, {x}, T(float32, {2}), {{"axes", std::vector<int64_t>{1}}});
  int c1 = op(f, OpKind::Cast, {x}, T(int32, {2, 3}));
  int c2 = op(f, OpKind::Cast, {x}, T(float64, {2, 3}));
  int r1 = op(f, OpKind::Reshape, {x}, T(float32, {6}));
  int r2 = op(f, OpKind::Reshape, {x}, T(float32, {3, 2}));
  f.outputs = {s0, s1, c1, c2, r1, r2};
  Function g = check_preserves(f, passes::cse);
  EXPECT_EQ(g.ops.size(), 6u);
}

TEST(Cse, MergesEqualConstantsByBytes) {
  Type t = T(float32, {2});
  Function f;
  int x = f.add_input(t);
  int a = constant_of(f, t, std::vector<float>{1.0f, 2.0f});
  int b = constant_of(f, t, std::vector<float>{1.0f, 2.0f});
  int pz = splat(f, t, 0.0);
  int nz = splat(f, t, -0.0);
  int pz2 = splat(f, t, 0.0);
  float qnan = std::numeric_limits<float>::quiet_NaN();
  uint32_t bits;
  std::memcpy(&bits, &qnan, 4);
  uint32_t bits2 = bits | 1u;  // another payload
  float nan1, nan2;
  std::memcpy(&nan1, &bits, 4);
  std::memcpy(&nan2, &bits2, 4);
  int n1 = constant_of(f, t, std::vector<float>{nan1, nan1});
  int n2 = constant_of(f, t, std::vector<float>{nan2, nan2});
  int n3 = constant_of(f, t, std::vector<float>{nan1, nan1});
  int i32 = constant_of(f, T(int32, {2}), std::vector<int32_t>{0, 0});  // same bytes, other type
  int v = x;
  for (int c : {a, b, pz, nz, pz2, n1, n2, n3}) v = op(f, OpKind::Add, {v, c}, t);
  f.outputs = {v, i32};
  Function g = check_preserves(f, passes::cse);
  // a=b, pz=pz2, n1=n3 merged; nz, n2 and the int32 zeros stay distinct.
  EXPECT_EQ(count_ops(g, OpKind::Constant), 6) << ir::print(g);
  // No two constants of g have the same type and bytes; -0.0 and the second
  // nan payload survive bit-exactly.
  bool saw_negzero = false, saw_nan2 = false;
  for (const Op& o : g.ops) {
    if (o.kind != OpKind::Constant || o.type != t) continue;
    uint32_t w;
    std::memcpy(&w, o.data->data(), 4);
    saw_negzero |= w == 0x80000000u;
    saw_nan2 |= w == bits2;
  }
  EXPECT_TRUE(saw_negzero);
  EXPECT_TRUE(saw_nan2);
}

TEST(Cse, KeepsSignatureAndDeadOps) {
  Type t = T(float32, {2});
  Function f;
  int x = f.add_input(t);
  f.add_input(t);  // unused
  int e1 = op(f, OpKind::Exp, {x}, t);
  op(f, OpKind::Log, {x}, t);  // dead: cse does not remove it
  int e2 = op(f, OpKind::Exp, {x}, t);
  f.outputs = {e1, e2, x};
  Function g = check_preserves(f, passes::cse);
  EXPECT_EQ(g.inputs.size(), 2u);
  EXPECT_EQ(g.ops.size(), 2u);
  EXPECT_EQ(g.outputs[0], g.outputs[1]);
  EXPECT_EQ(g.outputs[2], x);
}

// ---------------------------------------------------------------- dce

TEST(Dce, DropsDeadOpsKeepsInputs) {
  Type t = T(float32, {4});
  Function f;
  int x = f.add_input(t);
  int unused = f.add_input(t);
  int dead1 = op(f, OpKind::Exp, {x}, t);
  op(f, OpKind::Log, {dead1}, t);
  op(f, OpKind::Negative, {unused}, t);
  int live = op(f, OpKind::Sqrt, {x}, t);
  f.outputs = {live, x, live};
  Function g = check_preserves(f, passes::dce);
  EXPECT_EQ(g.inputs, f.inputs);
  ASSERT_EQ(g.ops.size(), 1u);
  EXPECT_EQ(g.ops[0].kind, OpKind::Sqrt);
  EXPECT_EQ(g.outputs, (std::vector<int>{2, x, 2}));
}

TEST(Dce, NoOutputsMeansNoOps) {
  Function f;
  int x = f.add_input(T(float32, {4}));
  op(f, OpKind::Exp, {x}, T(float32, {4}));
  Function g = passes::dce(f);
  EXPECT_EQ(g.ops.size(), 0u);
  EXPECT_EQ(g.inputs.size(), 1u);
}

// ---------------------------------------------------------------- random programs

// Builds a random function over int32 or float32 [2,3] values from ops the
// passes rewrite: arithmetic with 0/1 splats, duplicated subexpressions,
// transposes, reshapes, broadcasts, selects, casts and dead code.
Function random_function(uint32_t seed, Dtype dt) {
  std::mt19937 rng(seed);
  Type t = T(dt, {2, 3});
  Type tt = T(dt, {3, 2});
  Type tb = T(bool_, {2, 3});
  Function f;
  std::vector<int> pool = {f.add_input(t), f.add_input(t)};
  int cond = f.add_input(tb);
  auto pick = [&] { return pool[rng() % pool.size()]; };
  for (int i = 0; i < 24; ++i) {
    int a = pick(), b = pick(), r = -1;
    switch (rng() % 16) {
      case 0: r = op(f, OpKind::Add, {a, b}, t); break;
      case 1: r = op(f, OpKind::Multiply, {a, splat(f, t, double(rng() % 3))}, t); break;
      case 2: r = op(f, OpKind::Add, {splat(f, t, double(rng() % 2)), a}, t); break;
      case 3: r = op(f, OpKind::Subtract, {a, splat(f, t, double(rng() % 2))}, t); break;
      case 4: {
        int x = op(f, OpKind::Transpose, {a}, tt, {{"perm", std::vector<int64_t>{1, 0}}});
        r = op(f, OpKind::Transpose, {x}, t, {{"perm", std::vector<int64_t>{1, 0}}});
        break;
      }
      case 5: {
        int x = op(f, OpKind::Reshape, {a}, T(dt, {6}));
        r = op(f, OpKind::Reshape, {x}, t);
        break;
      }
      case 6: {
        int s = splat(f, T(dt, {}), double(rng() % 3));
        r = op(f, OpKind::Broadcast, {s}, t);
        r = op(f, OpKind::Multiply, {a, r}, t);
        break;
      }
      case 7: {
        int c = rng() % 3 == 0 ? cond : splat(f, tb, double(rng() % 2));
        r = op(f, OpKind::Select, {c, a, b}, t);
        break;
      }
      case 8: r = op(f, OpKind::Subtract, {a, b}, t); break;
      case 9: r = op(f, OpKind::Negative, {a}, t); break;
      case 10: {
        Dtype other = dt == int32 ? float32 : int32;
        int x = op(f, OpKind::Cast, {a}, T(other, {2, 3}));
        r = op(f, OpKind::Cast, {x}, t);
        break;
      }
      case 11: r = op(f, OpKind::Maximum, {a, b}, t); break;
      case 12: {  // a reduction broadcast back
        int x = op(f, OpKind::Sum, {a}, T(dt, {2}), {{"axes", std::vector<int64_t>{1}}});
        x = op(f, OpKind::Reshape, {x}, T(dt, {2, 1}));
        r = op(f, OpKind::Broadcast, {x}, t);
        break;
      }
      case 13: {  // a computed condition
        int c = op(f, OpKind::Less, {a, b}, tb);
        r = op(f, OpKind::Select, {c, a, b}, t);
        break;
      }
      case 14: {  // a non-splat constant
        std::vector<double> v(6);
        for (auto& e : v) e = double(int(rng() % 5) - 2);
        auto c = tensor(t, v);
        int k = f.add_op(ir::make_constant(t, c.buffer->data()));
        r = op(f, OpKind::Multiply, {a, k}, t);
        break;
      }
      case 15: {  // a constant subexpression
        int c1 = splat(f, T(dt, {3, 2}), double(rng() % 3));
        int c2 = op(f, OpKind::Transpose, {c1}, t, {{"perm", std::vector<int64_t>{1, 0}}});
        int c3 = op(f, OpKind::Add, {c2, splat(f, t, 1.0)}, t);
        r = op(f, OpKind::Subtract, {a, c3}, t);
        break;
      }
    }
    pool.push_back(r);
  }
  f.outputs = {pool.back(), pool[pool.size() / 2], pool[2]};
  return f;
}

TEST(RandomPrograms, PassesPreserveSemantics) {
  for (Dtype dt : {int32, float32, float64, int8, uint8}) {
    for (uint32_t seed = 0; seed < 40; ++seed) {
      Function f = random_function(seed, dt);
      ASSERT_EQ(ir::verify_message(f), "") << ir::print(f);
      for (const auto& pass : all_pipelines()) {
        SCOPED_TRACE("seed " + std::to_string(seed) + " dtype " + dtype_name(dt));
        check_preserves(f, pass, 2, /*allow_zero_sign=*/is_floating(dt));
      }
    }
  }
}

TEST(RandomPrograms, PipelineShrinksAndIsStable) {
  for (uint32_t seed = 0; seed < 20; ++seed) {
    Function f = random_function(seed, int32);
    passes::PassManager pm;
    pm.add_pipeline("canonicalize,cse,dce");
    Function g = pm.run(f);
    EXPECT_LE(g.ops.size(), f.ops.size());
    EXPECT_EQ(ir::print(pm.run(g)), ir::print(g)) << "seed " << seed;
  }
}

}  // namespace

// clone_ops copies a function's ops into another through a value map:
// (a - b) * a with a := g's input and b := a constant 3 computes (x - 3) * x.
TEST(CloneOps, CopiesOpsThroughTheValueMap) {
  Type t{float32, {4}};
  Function f;
  int a = f.add_input(t), b = f.add_input(t);
  f.outputs = {op(f, OpKind::Multiply, {op(f, OpKind::Subtract, {a, b}, t), a}, t), b};
  Function g;
  int x = g.add_input(t);
  int three = splat(g, t, 3.0);
  std::vector<int> val = ir::clone_ops(f, g, {x, three});
  ASSERT_EQ(val.size(), size_t(f.num_values()));
  g.outputs = ir::mapped(f.outputs, val);
  EXPECT_EQ(g.outputs[1], three);
  ir::Tensor out = ir::interpret(g, {tensor(t, {1, 2, 5, -1})})[0];
  const float* p = static_cast<const float*>(out.buffer->data());
  EXPECT_EQ(std::vector<float>(p, p + 4), (std::vector<float>{-2, -2, 10, 4}));
  EXPECT_THROW(ir::clone_ops(f, g, {x}), std::invalid_argument);
}
