// The IR text form: printer, parser and verifier.
#include <gtest/gtest.h>

#include <cmath>
#include <complex>
#include <cstring>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "ir/custom.h"
#include "ir/element.h"
#include "ir/function.h"
#include "ir/parser.h"
#include "ir/printer.h"
#include "ir/type_rules.h"
#include "ir/verifier.h"

namespace kiln::ir {
namespace {

constexpr int kNumOpKinds = 0
#define KILN_OP_COUNT(e, ...) +1
    KILN_OPS(KILN_OP_COUNT)
#undef KILN_OP_COUNT
    ;

Type T(Dtype d, Shape s) { return Type{d, std::move(s)}; }

// Appends an op whose type comes from the type rule (declared: for the ops
// whose result type is not implied by their operands).
int add(Function& f, OpKind k, std::vector<int> operands, Attrs attrs = {},
        const Type& declared = {}) {
  std::vector<Type> in;
  for (int v : operands) in.push_back(f.value_type(v));
  Type t = infer_type(k, in, attrs, declared);
  return f.add_op(make_op(k, std::move(operands), t, std::move(attrs)));
}

// The first dtype among candidates whose operands (all of that dtype, with
// the given shapes) the op accepts.
Dtype accepted_dtype(OpKind k, const std::vector<Shape>& shapes, const Attrs& attrs) {
  for (Dtype d : {float32, int32, bool_, complex64}) {
    std::vector<Type> in;
    for (const auto& s : shapes) in.push_back(T(d, s));
    try {
      infer_type(k, in, attrs, k == OpKind::Cast ? T(int32, shapes[0]) : Type{});
      return d;
    } catch (const std::invalid_argument&) {
    }
  }
  ADD_FAILURE() << "no dtype accepted by " << op_name(k);
  return float32;
}

// A call of F(x, y) = (x * y, exp(x)) with a vjp rule (which itself calls
// F: callees share functions and nest) and a jvp rule, on f's new inputs
// x, y: f32[3]. Returns both outputs.
std::vector<int> custom_case(Function& f) {
  const Type t = T(float32, {3});
  auto fwd = std::make_shared<Function>();
  {
    int x = fwd->add_input(t), y = fwd->add_input(t);
    fwd->outputs = {add(*fwd, OpKind::Multiply, {x, y}), add(*fwd, OpKind::Exp, {x})};
  }
  auto call = [](Function& g, std::shared_ptr<const Custom> c, std::vector<int> operands,
                 int index, const Type& type) {
    Op op = make_op(OpKind::Custom, std::move(operands), type,
                    {{"index", int64_t(index)}, {"num_primals", int64_t(2)}});
    op.custom = std::move(c);
    return g.add_op(std::move(op));
  };
  auto plain = std::make_shared<Custom>();
  plain->forward = fwd;
  auto vjp = std::make_shared<Function>();  // (x, y, ct0, ct1, out0, out1) -> (dx, dy)
  {
    std::vector<int> in;
    for (int i = 0; i < 6; ++i) in.push_back(vjp->add_input(t));
    int e = call(*vjp, plain, {in[0], in[1]}, 1, t);  // exp(x) again, through F
    int dx = add(*vjp, OpKind::Add, {add(*vjp, OpKind::Multiply, {in[2], in[1]}),
                                     add(*vjp, OpKind::Multiply, {in[3], e})});
    vjp->outputs = {dx, add(*vjp, OpKind::Multiply, {in[2], in[0]})};
  }
  auto jvp = std::make_shared<Function>();  // (x, y, tx, ty) -> (t0, t1)
  {
    std::vector<int> in;
    for (int i = 0; i < 4; ++i) in.push_back(jvp->add_input(t));
    int t0 = add(*jvp, OpKind::Add, {add(*jvp, OpKind::Multiply, {in[2], in[1]}),
                                     add(*jvp, OpKind::Multiply, {in[0], in[3]})});
    jvp->outputs = {t0, add(*jvp, OpKind::Multiply, {in[2], add(*jvp, OpKind::Exp, {in[0]})})};
  }
  auto c = std::make_shared<Custom>();
  c->forward = fwd;
  c->vjp = vjp;
  c->jvp = jvp;
  int x = f.add_input(t), y = f.add_input(t);
  return {call(f, c, {x, y}, 0, t), call(f, c, {x, y}, 1, t)};
}

// A small valid function exercising op k; returns false if there is no case
// for k (a newly added op needs one here).
bool make_case(OpKind k, Function* out) {
  Function f;
  f.name = std::string("case_") + op_name(k);
  const Shape s23 = {2, 3};
  if (is_unary_elementwise(k) || is_binary_elementwise(k) || is_comparison(k) || is_reduction(k) ||
      k == OpKind::Argmax || k == OpKind::Argmin) {
    int n = is_unary_elementwise(k) || is_reduction(k) || k == OpKind::Argmax || k == OpKind::Argmin
                ? 1
                : 2;
    Attrs attrs;
    if (is_reduction(k)) attrs["axes"] = std::vector<int64_t>{1};
    if (k == OpKind::Argmax || k == OpKind::Argmin) attrs["axis"] = int64_t(1);
    Dtype d = accepted_dtype(k, std::vector<Shape>(n, s23), attrs);
    std::vector<int> operands;
    for (int i = 0; i < n; ++i) operands.push_back(f.add_input(T(d, s23)));
    int r = add(f, k, operands, attrs, k == OpKind::Cast ? T(int32, s23) : Type{});
    f.outputs = {r};
    *out = std::move(f);
    return true;
  }
  switch (k) {
    case OpKind::Constant: {
      float v[6] = {1, 2.5f, -INFINITY, 0.1f, -0.f, 3};
      int c = f.add_op(make_constant(T(float32, s23), v));
      int z = f.add_op(make_splat(T(int32, {4}), 7));
      f.outputs = {c, z};
      break;
    }
    case OpKind::Select: {
      int c = f.add_input(T(bool_, s23));
      int a = f.add_input(T(float32, s23));
      int b = f.add_input(T(float32, s23));
      f.outputs = {add(f, k, {c, a, b})};
      break;
    }
    case OpKind::Reshape: {
      int x = f.add_input(T(float32, s23));
      f.outputs = {add(f, k, {x}, {}, T(float32, {3, 1, 2}))};
      break;
    }
    case OpKind::Bitcast: {  // float32 [2,3] as uint8 [2,12], and back as int32 [2,3]
      int x = f.add_input(T(float32, s23));
      int b = add(f, k, {x}, {}, T(uint8, {2, 12}));
      f.outputs = {b, add(f, k, {b}, {}, T(int32, s23))};
      break;
    }
    case OpKind::Transpose: {
      int x = f.add_input(T(float32, {2, 3, 4}));
      f.outputs = {add(f, k, {x}, {{"perm", std::vector<int64_t>{2, 0, 1}}})};
      break;
    }
    case OpKind::Broadcast: {
      int x = f.add_input(T(float32, {3}));
      f.outputs = {add(f, k, {x}, {}, T(float32, {4, 2, 3}))};
      break;
    }
    case OpKind::Slice: {
      int x = f.add_input(T(float32, s23));
      Attrs a = {{"start", std::vector<int64_t>{0, 2}},
                 {"stop", std::vector<int64_t>{2, -1}},
                 {"strides", std::vector<int64_t>{1, -1}}};
      f.outputs = {add(f, k, {x}, a)};
      break;
    }
    case OpKind::SliceUpdate: {
      int x = f.add_input(T(int64, {5, 3}));
      int u = f.add_input(T(int64, {2, 3}));
      Attrs a = {{"start", std::vector<int64_t>{1, 0}},
                 {"stop", std::vector<int64_t>{5, 3}},
                 {"strides", std::vector<int64_t>{2, 1}}};
      f.outputs = {add(f, k, {x, u}, a)};
      break;
    }
    case OpKind::Concatenate: {
      int a = f.add_input(T(float16, {2, 3}));
      int b = f.add_input(T(float16, {2, 1}));
      int c = f.add_input(T(float16, {2, 2}));
      f.outputs = {add(f, k, {a, b, c}, {{"axis", int64_t(1)}})};
      break;
    }
    case OpKind::Pad: {
      int x = f.add_input(T(float32, s23));
      float zero = 0;
      int v = f.add_op(make_constant(T(float32, {}), &zero));
      Attrs a = {{"low", std::vector<int64_t>{1, 0}}, {"high", std::vector<int64_t>{0, 2}}};
      f.outputs = {add(f, k, {x, v}, a)};
      break;
    }
    case OpKind::Take: {
      int x = f.add_input(T(float32, {4, 3}));
      int32_t idx[2] = {3, 0};
      int i = f.add_op(make_constant(T(int32, {2}), idx));
      f.outputs = {add(f, k, {x, i}, {{"axis", int64_t(0)}})};
      break;
    }
    case OpKind::TakeAlongAxis: {
      int x = f.add_input(T(float32, s23));
      int i = f.add_input(T(uint32, {2, 1}));
      f.outputs = {add(f, k, {x, i}, {{"axis", int64_t(1)}})};
      break;
    }
    case OpKind::Matmul: {
      int a = f.add_input(T(float32, {5, 2, 3}));
      int b = f.add_input(T(float32, {5, 3, 4}));
      f.outputs = {add(f, k, {a, b})};
      break;
    }
    case OpKind::Custom: {
      f.outputs = custom_case(f);
      break;
    }
    default: return false;
  }
  *out = std::move(f);
  return true;
}

// Structural equality, constant data compared bytewise.
void expect_same(const Function& a, const Function& b) {
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.inputs, b.inputs);
  EXPECT_EQ(a.outputs, b.outputs);
  ASSERT_EQ(a.ops.size(), b.ops.size());
  for (size_t i = 0; i < a.ops.size(); ++i) {
    const Op& x = a.ops[i];
    const Op& y = b.ops[i];
    EXPECT_EQ(x.kind, y.kind) << "op " << i;
    EXPECT_EQ(x.operands, y.operands) << "op " << i;
    EXPECT_EQ(x.attrs, y.attrs) << "op " << i;
    EXPECT_EQ(x.type, y.type) << "op " << i;
    ASSERT_EQ(bool(x.data), bool(y.data)) << "op " << i;
    if (x.data) {
      ASSERT_EQ(x.data->size(), y.data->size()) << "op " << i;
      EXPECT_EQ(0, std::memcmp(x.data->data(), y.data->data(), x.data->size())) << "op " << i;
    }
  }
}

std::vector<Function> all_cases() {
  std::vector<Function> cases;
  for (int k = 0; k < kNumOpKinds; ++k) {
    Function f;
    if (make_case(OpKind(k), &f)) cases.push_back(std::move(f));
  }
  return cases;
}

TEST(IrText, RoundTripEveryOp) {
  int covered = 0;
  for (int k = 0; k < kNumOpKinds; ++k) {
    Function f;
    if (!make_case(OpKind(k), &f)) {
      ADD_FAILURE() << "no round-trip case for op " << op_name(OpKind(k));
      continue;
    }
    ++covered;
    SCOPED_TRACE(op_name(OpKind(k)));
    ASSERT_EQ(verify_message(f), "");
    std::string text = print(f);
    Function g;
    try {
      g = parse(text);
    } catch (const ParseError& e) {
      FAIL() << e.what() << "\n" << text;
    }
    EXPECT_EQ(print(g), text);
    expect_same(f, g);
  }
  EXPECT_EQ(covered, kNumOpKinds);
}

TEST(IrText, PrintsTheDocumentedForm) {
  Function f;
  int x = f.add_input(T(float32, {2, 3}));
  f.add_input(T(int32, {}));
  float v[3] = {1, 2.5f, -INFINITY};
  int c = f.add_op(make_constant(T(float32, {3}), v));
  f.add_op(make_splat(T(float32, {2, 3}), 0));
  int b = add(f, OpKind::Broadcast, {c}, {}, T(float32, {2, 3}));
  add(f, OpKind::Sum, {b}, {{"axes", std::vector<int64_t>{0, 1}}});
  int s = add(f, OpKind::Slice, {x},
              {{"strides", std::vector<int64_t>{1, -1}},
               {"start", std::vector<int64_t>{0, 2}},
               {"stop", std::vector<int64_t>{2, -1}}});
  int e = add(f, OpKind::Equal, {b, s});
  f.outputs = {b, s, e};
  EXPECT_EQ(print(f),
            "func @main(%0: f32[2,3], %1: i32[]) -> (f32[2,3], f32[2,3], bool[2,3]) {\n"
            "  %2 = constant() {value = [1, 2.5, -inf]} : f32[3]\n"
            "  %3 = constant() {value = 0} : f32[2,3]\n"
            "  %4 = broadcast(%2) : f32[2,3]\n"
            "  %5 = sum(%4) {axes = [0, 1]} : f32[]\n"
            "  %6 = slice(%0) {start = [0, 2], stop = [2, -1], strides = [1, -1]} : f32[2,3]\n"
            "  %7 = equal(%4, %6) : bool[2,3]\n"
            "  return %4, %6, %7\n"
            "}\n");
  Function empty;
  EXPECT_EQ(print(empty), "func @main() -> () {\n  return\n}\n");
  EXPECT_EQ(print(parse(print(empty))), print(empty));
}

// --- constants ---------------------------------------------------------

template <typename T>
std::vector<uint8_t> bytes_of(const std::vector<T>& v) {
  std::vector<uint8_t> b(v.size() * sizeof(T));
  if (!b.empty()) std::memcpy(b.data(), v.data(), b.size());
  return b;
}
template <typename T, typename U>
T bits(U u) {
  static_assert(sizeof(T) == sizeof(U));
  T t;
  std::memcpy(&t, &u, sizeof(T));
  return t;
}

struct ConstCase {
  Dtype dtype;
  std::vector<uint8_t> elements;  // n elements of dtype
};

std::vector<ConstCase> constant_cases() {
  std::vector<ConstCase> c;
  c.push_back({bool_, {0, 1, 1, 0}});
  c.push_back({uint8, bytes_of<uint8_t>({0, 1, 127, 128, 255})});
  c.push_back({uint16, bytes_of<uint16_t>({0, 65535, 12345})});
  c.push_back({uint32, bytes_of<uint32_t>({0, 4294967295u, 2147483648u})});
  c.push_back({uint64, bytes_of<uint64_t>({0, std::numeric_limits<uint64_t>::max(),
                                           uint64_t(1) << 63, 12345678901234567890ull})});
  c.push_back({int8, bytes_of<int8_t>({-128, 127, 0, -1})});
  c.push_back({int16, bytes_of<int16_t>({-32768, 32767, -2})});
  c.push_back({int32, bytes_of<int32_t>({std::numeric_limits<int32_t>::min(),
                                         std::numeric_limits<int32_t>::max(), 0})});
  c.push_back({int64, bytes_of<int64_t>({std::numeric_limits<int64_t>::min(),
                                         std::numeric_limits<int64_t>::max(), -1, 0})});
  // float16: 0, -0, min subnormal, max subnormal, min normal, max, inf,
  // -inf, quiet nan, ~1/3, -2.
  c.push_back({float16, bytes_of<uint16_t>({0x0000, 0x8000, 0x0001, 0x03ff, 0x0400, 0x7bff, 0x7c00,
                                            0xfc00, 0x7e00, 0x3555, 0xc000, 0x8001})});
  c.push_back({bfloat16, bytes_of<uint16_t>({0x0000, 0x8000, 0x0001, 0x007f, 0x0080, 0x7f7f, 0x7f80,
                                             0xff80, 0x7fc0, 0x3eab, 0xc000})});
  c.push_back(
      {float32, bytes_of<uint32_t>({0x00000000u, 0x80000000u, 0x00000001u, 0x007fffffu, 0x00800000u,
                                    0x7f7fffffu, 0x7f800000u, 0xff800000u, 0x7fc00000u,
                                    bits<uint32_t>(0.1f), bits<uint32_t>(1.f / 3),
                                    bits<uint32_t>(-1e30f), bits<uint32_t>(16777217.f)})});
  c.push_back({float64, bytes_of<uint64_t>(
                            {0, uint64_t(1) << 63, 1, 0x000fffffffffffffull, 0x0010000000000000ull,
                             0x7fefffffffffffffull, 0x7ff0000000000000ull, 0xfff0000000000000ull,
                             0x7ff8000000000000ull, bits<uint64_t>(0.1), bits<uint64_t>(1.0 / 3),
                             bits<uint64_t>(-1e300), bits<uint64_t>(9007199254740993.0)})});
  c.push_back({complex64, bytes_of<uint32_t>({0x3f800000u, 0x80000000u,  // (1, -0)
                                              0x7fc00000u, 0x7f800000u,  // (nan, inf)
                                              0x00000001u, 0xff800000u,  // (denormal, -inf)
                                              bits<uint32_t>(0.1f), bits<uint32_t>(-2.5f)})});
  return c;
}

// Prints f, parses it back and checks the text and every byte survive.
void check_round_trip(const Function& f) {
  ASSERT_EQ(verify_message(f), "");
  std::string text = print(f);
  Function g;
  try {
    g = parse(text);
  } catch (const ParseError& e) {
    FAIL() << e.what() << "\n" << text;
  }
  EXPECT_EQ(print(g), text);
  expect_same(f, g);
}

TEST(IrText, ConstantsOfEveryDtypeKeepTheirBits) {
  auto cases = constant_cases();
  EXPECT_EQ(int(cases.size()), kNumDtypes);
  for (const auto& c : cases) {
    SCOPED_TRACE(dtype_name(c.dtype));
    int64_t n = int64_t(c.elements.size()) / c.dtype.size();
    // The elements as one list constant, as a 2-d list, one by one as
    // scalars and as splats of each element.
    Function f;
    f.add_op(make_constant(T(c.dtype, {int32_t(n)}), c.elements.data()));
    if (n % 2 == 0) f.add_op(make_constant(T(c.dtype, {2, int32_t(n / 2)}), c.elements.data()));
    for (int64_t i = 0; i < n; ++i) {
      const uint8_t* e = c.elements.data() + i * c.dtype.size();
      f.add_op(make_constant(T(c.dtype, {}), e));
      std::vector<uint8_t> splat;
      for (int j = 0; j < 3; ++j) splat.insert(splat.end(), e, e + c.dtype.size());
      f.add_op(make_constant(T(c.dtype, {3, 1}), splat.data()));
    }
    f.add_op(make_constant(T(c.dtype, {0}), nullptr));
    f.add_op(make_constant(T(c.dtype, {2, 0, 3}), nullptr));
    for (int v = 0; v < f.num_values(); ++v) f.outputs.push_back(v);
    check_round_trip(f);
  }
}

TEST(IrText, ConstantLiteralForms) {
  Function f = parse(
      "func @c() -> (f32[2,2], f16[3], c64[2], u64[], i64[2], bool[3], f64[0], bf16[2], "
      "c64[2], i8[]) {\n"
      "  %a = constant() {value = [1, -0, 1e-45, 3.4028235e+38]} : f32[2,2]\n"
      "  %b = constant() {value = -inf} : f16[3]\n"
      "  %c = constant() {value = [(1, -2), 3]} : c64[2]\n"
      "  %d = constant() {value = [18446744073709551615]} : u64[]\n"
      "  %e = constant() {value = [-9223372036854775808, 9223372036854775807]} : i64[2]\n"
      "  %f = constant() {value = [true, false, 1]} : bool[3]\n"
      "  %g = constant() {value = []} : f64[0]\n"
      "  %h = constant() {value = nan} : bf16[2]\n"
      "  %i = constant() {value = (0, inf)} : c64[2]\n"
      "  %j = constant() {value = -128} : i8[]\n"
      "  return %a, %b, %c, %d, %e, %f, %g, %h, %i, %j\n"
      "}\n");
  auto data = [&](int op) { return f.ops[op].data->data(); };
  float a[4];
  std::memcpy(a, data(0), 16);
  EXPECT_EQ(bits<uint32_t>(a[1]), 0x80000000u);
  EXPECT_EQ(bits<uint32_t>(a[2]), 1u);
  EXPECT_EQ(a[3], std::numeric_limits<float>::max());
  uint16_t h[3];
  std::memcpy(h, data(1), 6);
  EXPECT_EQ(h[0], 0xfc00);
  EXPECT_EQ(h[2], 0xfc00);
  EXPECT_EQ(load_c128(complex64, data(2), 0), std::complex<double>(1, -2));
  EXPECT_EQ(load_c128(complex64, data(2), 1), std::complex<double>(3, 0));
  EXPECT_EQ(load_u64(uint64, data(3), 0), std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(load_i64(int64, data(4), 0), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(load_i64(int64, data(4), 1), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(load_i64(bool_, data(5), 0), 1);
  EXPECT_EQ(load_i64(bool_, data(5), 1), 0);
  EXPECT_EQ(load_i64(bool_, data(5), 2), 1);
  EXPECT_EQ(f.ops[6].data->size(), 0u);
  EXPECT_TRUE(std::isnan(load_f64(bfloat16, data(7), 1)));
  EXPECT_TRUE(std::isinf(load_c128(complex64, data(8), 1).imag()));
  EXPECT_EQ(load_i64(int8, data(9), 0), -128);
  // Printing: splats bare, size 1 as a list, size 0 as [].
  std::string text = print(f);
  EXPECT_NE(text.find("{value = -inf} : f16[3]"), std::string::npos) << text;
  EXPECT_NE(text.find("{value = [18446744073709551615]} : u64[]"), std::string::npos) << text;
  EXPECT_NE(text.find("{value = []} : f64[0]"), std::string::npos) << text;
  EXPECT_NE(text.find("{value = [(1, -2), (3, 0)]} : c64[2]"), std::string::npos) << text;
  EXPECT_NE(text.find("{value = (0, inf)} : c64[2]"), std::string::npos) << text;
  EXPECT_NE(text.find("{value = [1, -0, 1e-45, 3.4028235e+38]} : f32[2,2]"), std::string::npos)
      << text;
  EXPECT_EQ(print(parse(text)), text);
}

TEST(IrText, SplatsOfNansWithDifferentPayloadsPrintStably) {
  // All nans print as `nan`, so a constant of differing nans is a splat.
  uint32_t v[2] = {0x7fc00000u, 0xffc00001u};
  Function f;
  f.outputs = {f.add_op(make_constant(T(float32, {2}), v))};
  std::string text = print(f);
  EXPECT_NE(text.find("{value = nan}"), std::string::npos) << text;
  EXPECT_EQ(print(parse(text)), text);
}

// --- hand-written text -------------------------------------------------

TEST(IrText, HandWrittenTextWithCommentsAndOddNames) {
  const char* text = R"(// a leading comment
func @my.func_2 (  %arg.x : f32 [ 2 , 3 ] ,%7:i32[]) // inputs
   -> ( f32[3], bool[2,3] )   {
  %c.1=constant(){value=[1,2,3]}:f32[3]// trailing comment
  %_tmp = broadcast( %c.1 ) : f32[2,3]
  // comment line between statements
  %0a = sum(%_tmp) {
      axes = [ 0 ]   // attributes may span lines
  } : f32[3]
  %99 = slice(%arg.x) {strides = [1, 1], stop = [2, 3], start = [0, 0]} : f32[2,3]
  %cmp = less(%99, %_tmp) {} : bool[2,3]
  return %0a ,%cmp   // two results
}
// trailing comment without newline)";
  Function f = parse(text);
  EXPECT_EQ(f.name, "my.func_2");
  ASSERT_EQ(f.inputs.size(), 2u);
  EXPECT_EQ(f.inputs[0], T(float32, {2, 3}));
  EXPECT_EQ(f.inputs[1], T(int32, {}));
  ASSERT_EQ(f.ops.size(), 5u);
  EXPECT_EQ(f.ops[0].kind, OpKind::Constant);
  float v[3];
  std::memcpy(v, f.ops[0].data->data(), 12);
  EXPECT_EQ(v[0], 1.f);
  EXPECT_EQ(v[2], 3.f);
  EXPECT_EQ(f.ops[1].kind, OpKind::Broadcast);
  EXPECT_EQ(f.ops[1].operands, std::vector<int>{2});
  EXPECT_EQ(f.ops[2].kind, OpKind::Sum);
  EXPECT_EQ(f.ops[2].ints_attr("axes"), std::vector<int64_t>{0});
  EXPECT_EQ(f.ops[3].kind, OpKind::Slice);
  EXPECT_EQ(f.ops[3].operands, std::vector<int>{0});
  EXPECT_EQ(f.ops[3].ints_attr("stop"), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(f.ops[4].kind, OpKind::Less);
  EXPECT_EQ(f.ops[4].operands, (std::vector<int>{5, 3}));
  EXPECT_EQ(f.outputs, (std::vector<int>{4, 6}));
  EXPECT_EQ(print(f),
            "func @my.func_2(%0: f32[2,3], %1: i32[]) -> (f32[3], bool[2,3]) {\n"
            "  %2 = constant() {value = [1, 2, 3]} : f32[3]\n"
            "  %3 = broadcast(%2) : f32[2,3]\n"
            "  %4 = sum(%3) {axes = [0]} : f32[3]\n"
            "  %5 = slice(%0) {start = [0, 0], stop = [2, 3], strides = [1, 1]} : f32[2,3]\n"
            "  %6 = less(%5, %3) : bool[2,3]\n"
            "  return %4, %6\n"
            "}\n");
}

// --- the verifier ------------------------------------------------------

struct BadFunction {
  const char* what;
  Function f;
  std::vector<std::string> expected;  // substrings of the message
};

std::vector<BadFunction> bad_functions() {
  std::vector<BadFunction> cases;
  auto base = [] {
    Function f;
    f.add_input(T(float32, {3}));
    f.add_input(T(float32, {3}));
    return f;
  };
  auto data_of = [](size_t n) { return runtime::allocate(n, true); };
  {
    Function f = base();
    f.add_op(make_op(OpKind::Add, {0, 3}, T(float32, {3})));
    f.add_op(make_op(OpKind::Negative, {0}, T(float32, {3})));
    cases.push_back({"forward reference", std::move(f), {"op %2 (add)", "operand 1 is %3"}});
  }
  {
    Function f = base();
    f.add_op(make_op(OpKind::Add, {0, 2}, T(float32, {3})));
    cases.push_back({"self reference", std::move(f), {"op %2 (add)", "own value"}});
  }
  {
    Function f = base();
    f.add_op(make_op(OpKind::Exp, {-1}, T(float32, {3})));
    cases.push_back({"negative operand", std::move(f), {"op %2 (exp)", "operand 0 is %-1"}});
  }
  {
    Function f = base();
    f.add_op(make_op(OpKind::Add, {0}, T(float32, {3})));
    cases.push_back({"arity", std::move(f), {"op %2 (add)", "expects 2 operands, got 1"}});
  }
  {
    Function f = base();
    f.add_op(make_op(OpKind::Concatenate, {}, T(float32, {3}), {{"axis", int64_t(0)}}));
    cases.push_back({"variadic arity", std::move(f), {"op %2 (concatenate)", "at least 1"}});
  }
  {
    Function f = base();
    f.add_op(make_op(OpKind::Add, {0, 1}, T(float32, {4})));
    cases.push_back(
        {"declared type", std::move(f), {"op %2 (add)", "declared type f32[4]", "f32[3]"}});
  }
  {
    Function f;
    f.add_input(T(float32, {3}));
    f.add_input(T(int32, {3}));
    f.add_op(make_op(OpKind::Add, {0, 1}, T(float32, {3})));
    cases.push_back({"type rule", std::move(f), {"op %2 (add)", "[add] operand types differ"}});
  }
  {
    Function f = base();
    f.add_op(make_op(OpKind::Sum, {0}, T(float32, {}), {{"axes", std::vector<int64_t>{1}}}));
    cases.push_back({"axis out of range", std::move(f), {"op %2 (sum)", "axis 1"}});
  }
  {
    Function f = base();
    f.add_op(make_op(OpKind::Sum, {0}, T(float32, {}), {{"axis", int64_t(0)}}));
    cases.push_back({"wrong attribute", std::move(f), {"op %2 (sum)", "no attribute 'axis'"}});
  }
  {
    Function f = base();
    f.add_op(make_op(OpKind::Add, {0, 1}, T(float32, {3}), {{"axes", std::vector<int64_t>{}}}));
    cases.push_back({"attribute on add", std::move(f), {"op %2 (add)", "no attribute 'axes'"}});
  }
  {
    Function f = base();
    f.add_op(make_op(OpKind::Constant, {}, T(float32, {3})));
    cases.push_back({"constant without data", std::move(f), {"op %2 (constant)", "no data"}});
  }
  {
    Function f = base();
    Op c = make_op(OpKind::Constant, {}, T(float32, {3}));
    c.data = data_of(8);
    f.add_op(std::move(c));
    cases.push_back(
        {"constant data size", std::move(f), {"op %2 (constant)", "holds 8 bytes", "needs 12"}});
  }
  {
    Function f = base();
    Op c = make_splat(T(float32, {3}), 1);
    c.operands = {0};
    f.add_op(std::move(c));
    cases.push_back({"constant with operands",
                     std::move(f),
                     {"op %2 (constant)", "expects 0 operands, got 1"}});
  }
  {
    Function f = base();
    Op c = make_splat(T(float32, {3}), 1);
    c.attrs["value"] = int64_t(1);
    f.add_op(std::move(c));
    cases.push_back(
        {"constant with attribute", std::move(f), {"op %2 (constant)", "no attribute 'value'"}});
  }
  {
    Function f = base();
    Op n = make_op(OpKind::Negative, {0}, T(float32, {3}));
    n.data = data_of(12);
    f.add_op(std::move(n));
    cases.push_back({"data on a non-constant",
                     std::move(f),
                     {"op %2 (negative)", "not a constant but holds data"}});
  }
  {
    Function f = base();
    f.add_op(make_op(OpKind::Negative, {0}, T(float32, {3})));
    f.outputs = {2, 3};
    cases.push_back({"output", std::move(f), {"output 1", "%3 is not defined"}});
  }
  {
    Function f = base();
    f.outputs = {-1};
    cases.push_back({"negative output", std::move(f), {"output 0", "%-1 is not defined"}});
  }
  {
    Function f = base();
    f.add_op(make_op(OpKind(200), {0}, T(float32, {3})));
    cases.push_back({"op kind", std::move(f), {"op %2", "invalid op kind 200"}});
  }
  {
    Function f;
    f.add_input(T(float32, {2, -1}));
    cases.push_back({"negative dimension", std::move(f), {"input %0", "negative dimension"}});
  }
  {
    Function f;
    f.add_input(T(Dtype(Dtype::Val(77)), {2}));
    cases.push_back({"dtype", std::move(f), {"input %0", "invalid dtype 77"}});
  }
  {
    Function f = base();
    f.add_op(make_op(OpKind::Broadcast, {0}, T(float32, {1 << 30, 1 << 30, 1 << 30, 3})));
    cases.push_back({"element count", std::move(f), {"op %2 (broadcast)", "too many elements"}});
  }
  {
    Function f = base();
    f.add_op(make_op(OpKind::Slice, {0}, T(float32, {0}),
                     {{"start", std::vector<int64_t>{0}},
                      {"stop", std::vector<int64_t>{1}},
                      {"strides", std::vector<int64_t>{std::numeric_limits<int64_t>::min()}}}));
    cases.push_back({"slice overflow", std::move(f), {"op %2 (slice)", "out of range"}});
  }
  {
    Function f = base();
    f.add_op(make_op(OpKind::Slice, {0}, T(float32, {0}),
                     {{"start", std::vector<int64_t>{std::numeric_limits<int64_t>::min()}},
                      {"stop", std::vector<int64_t>{std::numeric_limits<int64_t>::max()}},
                      {"strides", std::vector<int64_t>{1}}}));
    cases.push_back({"slice range overflow", std::move(f), {"op %2 (slice)", "out of range"}});
  }
  {
    Function f = base();
    float zero = 0;
    f.add_op(make_constant(T(float32, {}), &zero));
    int64_t big = std::numeric_limits<int64_t>::max();
    f.add_op(make_op(OpKind::Pad, {0, 2}, T(float32, {3}),
                     {{"low", std::vector<int64_t>{big}}, {"high", std::vector<int64_t>{big}}}));
    cases.push_back({"pad overflow", std::move(f), {"op %3 (pad)", "overflows"}});
  }
  {
    Function f;
    f.add_input(T(float32, {2000000000}));
    f.add_input(T(float32, {2000000000}));
    f.add_op(make_op(OpKind::Concatenate, {0, 1}, T(float32, {3}), {{"axis", int64_t(0)}}));
    cases.push_back({"concatenate overflow", std::move(f), {"op %2 (concatenate)", "overflows"}});
  }
  // Custom ops: F(x, y) = (x * y, exp(x)), as in custom_case.
  auto forward = [] {
    auto g = std::make_shared<Function>();
    int x = g->add_input(T(float32, {3})), y = g->add_input(T(float32, {3}));
    g->outputs = {g->add_op(make_op(OpKind::Multiply, {x, y}, T(float32, {3}))),
                  g->add_op(make_op(OpKind::Exp, {x}, T(float32, {3})))};
    return g;
  };
  auto custom_op = [](std::shared_ptr<Custom> c, int64_t index, Type t) {
    Op op = make_op(OpKind::Custom, {0, 1}, std::move(t),
                    {{"index", index}, {"num_primals", int64_t(2)}});
    op.custom = std::move(c);
    return op;
  };
  {
    Function f = base();
    f.add_op(custom_op(nullptr, 0, T(float32, {3})));
    cases.push_back({"custom without callee", std::move(f), {"op %2 (custom)", "no forward callee"}});
  }
  {
    Function f = base();
    auto c = std::make_shared<Custom>();
    c->forward = forward();
    f.add_op(custom_op(c, 0, T(float32, {2})));
    cases.push_back({"custom type", std::move(f),
                     {"op %2 (custom)", "declared type f32[2] differs from the forward callee's output 0"}});
    Function g = base();
    g.add_op(custom_op(c, 2, T(float32, {3})));
    cases.push_back({"custom index", std::move(g), {"op %2 (custom)", "'index' in [0, 2)"}});
    Function h = base();
    Op op = custom_op(c, 0, T(float32, {3}));
    op.operands = {0};
    op.attrs["num_primals"] = int64_t(1);
    h.add_op(std::move(op));
    cases.push_back({"custom operands", std::move(h),
                     {"op %2 (custom)", "the forward callee has the signature (f32[3], f32[3])"}});
  }
  {
    Function f = base();
    auto c = std::make_shared<Custom>();
    c->forward = forward();
    c->vjp = forward();  // not (x, y, ct0, ct1, out0, out1) -> (dx, dy)
    f.add_op(custom_op(c, 0, T(float32, {3})));
    cases.push_back({"custom vjp signature", std::move(f), {"op %2 (custom)", "the vjp callee has the signature"}});
  }
  {
    Function f = base();
    auto c = std::make_shared<Custom>();
    c->forward = forward();
    Op n = make_op(OpKind::Negative, {0}, T(float32, {3}));
    n.custom = c;
    f.add_op(std::move(n));
    cases.push_back({"callees on a non-custom op", std::move(f),
                     {"op %2 (negative)", "not a custom op but has callees"}});
  }
  {
    // A problem inside a callee is reported at the op that calls it.
    auto bad = forward();
    bad->ops[1].operands = {7};
    auto c = std::make_shared<Custom>();
    c->forward = bad;
    Function f = base();
    f.add_op(custom_op(c, 0, T(float32, {3})));
    cases.push_back({"invalid callee", std::move(f),
                     {"op %2 (custom): in a forward callee: op %3 (exp)", "operand 0 is %7"}});
  }
  {
    // Callees nested deeper than kMaxCalleeDepth.
    std::shared_ptr<const Function> callee;
    for (int depth = 0; depth <= kMaxCalleeDepth + 1; ++depth) {
      auto g = std::make_shared<Function>();
      int x = g->add_input(T(float32, {3}));
      if (callee) {
        auto c = std::make_shared<Custom>();
        c->forward = callee;
        Op op = make_op(OpKind::Custom, {x}, T(float32, {3}), {{"index", int64_t(0)}, {"num_primals", int64_t(1)}});
        op.custom = c;
        g->outputs = {g->add_op(std::move(op))};
      } else {
        g->outputs = {g->add_op(make_op(OpKind::Exp, {x}, T(float32, {3})))};
      }
      callee = g;
    }
    Function f;
    f.add_input(T(float32, {3}));
    auto c = std::make_shared<Custom>();
    c->forward = callee;
    Op op = make_op(OpKind::Custom, {0}, T(float32, {3}), {{"index", int64_t(0)}, {"num_primals", int64_t(1)}});
    op.custom = c;
    f.add_op(std::move(op));
    cases.push_back({"callee depth", std::move(f), {"op %1 (custom)", "nest more than 64 calls deep"}});
  }
  return cases;
}

TEST(IrText, VerifierRejectsCyclicCallees) {
  // Only a program can build a cycle (the parser links callees bottom-up):
  // g calls itself. The verifier reports it and the printer terminates.
  auto g = std::make_shared<Function>();
  int x = g->add_input(T(float32, {3}));
  auto c = std::make_shared<Custom>();
  c->forward = g;
  Op op = make_op(OpKind::Custom, {x}, T(float32, {3}), {{"index", int64_t(0)}, {"num_primals", int64_t(1)}});
  op.custom = c;
  g->outputs = {g->add_op(op)};
  Function f;
  f.add_input(T(float32, {3}));
  op.operands = {0};
  f.outputs = {f.add_op(op)};
  std::string msg = verify_message(f);
  EXPECT_NE(msg.find("op %1 (custom): in a forward callee: the callees form a cycle"), std::string::npos) << msg;
  EXPECT_NE(print(f).find("custom(%0)"), std::string::npos);
  g->ops.clear();  // breaks the reference cycle
}

TEST(IrText, VerifierRejectsMalformedFunctions) {
  auto cases = bad_functions();
  EXPECT_GE(cases.size(), 12u);
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    std::string msg = verify_message(c.f);
    ASSERT_NE(msg, "");
    for (const auto& s : c.expected) EXPECT_NE(msg.find(s), std::string::npos) << msg;
    try {
      verify(c.f);
      ADD_FAILURE() << "verify() did not throw";
    } catch (const std::invalid_argument& e) {
      EXPECT_EQ(std::string(e.what()), msg);
    }
    // The printer copes with malformed functions (for debug dumps).
    EXPECT_FALSE(print(c.f).empty());
  }
}

TEST(IrText, VerifierAcceptsValidFunctions) {
  for (const auto& f : all_cases()) {
    EXPECT_EQ(verify_message(f), "");
    EXPECT_NO_THROW(verify(f));
  }
}

// --- parse errors ------------------------------------------------------

struct BadText {
  std::string text;
  int line, col;
  std::string expected;  // substring of the message
};

const char* kHeader = "func @f(%x: f32[3]) -> (f32[3]) {\n";

std::vector<BadText> bad_texts() {
  std::string h = kHeader;
  return {
      {"", 1, 1, "expected 'func'"},
      {"fun @f() -> () { return }", 1, 1, "expected 'func'"},
      {"func f() -> () { return }", 1, 6, "function's name"},
      {"func @f() -> () { return }  x", 1, 29, "after the end"},
      {"func @f() -> () { return }\n}", 2, 1, "after the end"},
      {"func @f(%x f32[3]) -> () { return }", 1, 12, "expected ':'"},
      {"func @f(%x: f33[3]) -> () { return }", 1, 13, "unknown dtype 'f33'"},
      {"func @f(%x: f32[3,]) -> () { return }", 1, 19, "expected a dimension"},
      {"func @f(%x: f32[-3]) -> () { return }", 1, 17, "expected a dimension"},
      {"func @f(%x: f32[2147483648]) -> () { return }", 1, 17, "too large"},
      {"func @f(%x: f32[2147483647,2147483647,2147483647]) -> () { return }", 1, 13,
       "too many elements"},
      {"func @f(%x: f32[3], %x: f32[3]) -> () { return }", 1, 21, "defined twice"},
      {"func @f(%: f32[3]) -> () { return }", 1, 9, "expected a name after '%'"},
      {"func @f() -> () {\n  return %y\n}", 2, 10, "%y is not defined"},
      {"func @f() -> (f32[3]) {\n  return\n}", 2, 3, "declares 1 results but returns 0"},
      {h + "  return %x, %x\n}", 2, 3, "declares 1 results but returns 2"},
      {"func @f(%x: f32[3]) -> (f32[2]) {\n  return %x\n}", 2, 10, "declares result 0 as f32[2]"},
      {h + "  %y = frobnicate(%x) : f32[3]\n  return %y\n}", 2, 8, "unknown op 'frobnicate'"},
      {h + "  %y = negative(%z) : f32[3]\n  return %y\n}", 2, 17, "%z is not defined"},
      {h + "  %y = negative(%y) : f32[3]\n  return %y\n}", 2, 17, "%y is not defined"},
      {h + "  %x = negative(%x) : f32[3]\n  return %x\n}", 2, 3, "%x is defined twice"},
      {h + "  %y = negative(%x) f32[3]\n  return %y\n}", 2, 21, "expected ':'"},
      {h + "  %y = negative(%x) : f32[2]\n  return %y\n}", 2, 3,
       "op %y (negative): declared type f32[2]"},
      {h + "  %y = add(%x) : f32[3]\n  return %y\n}", 2, 3,
       "op %y (add): expects 2 operands, got 1"},
      {h + "  %y = sum(%x) {axes = [0], axes = [0]} : f32[]\n  return %y\n}", 2, 29,
       "'axes' is given twice"},
      {h + "  %y = sum(%x) {axis = 0} : f32[]\n  return %y\n}", 2, 3, "no attribute 'axis'"},
      {h + "  %y = sum(%x) {axes = [0.5]} : f32[]\n  return %y\n}", 2, 25, "expected an integer"},
      {h + "  %y = sum(%x) {axes = [99999999999999999999]} : f32[]\n  return %y\n}", 2, 25,
       "out of the range of int64"},
      {h + "  %y = sum(%x) {axes = [[0]]} : f32[]\n  return %y\n}", 2, 25, "expected an integer"},
      {h + "  %y = sum(%x) {axes = [0} : f32[]\n  return %y\n}", 2, 26, "expected ']'"},
      {h + "  %y = constant() : f32[3]\n  return %y\n}", 2, 8, "needs a 'value'"},
      {h + "  %y = constant() {value = [1, 2]} : f32[3]\n  return %y\n}", 2, 28,
       "has 2 values but its type f32[3] has 3"},
      {h + "  %y = constant() {value = [1, 2, x]} : f32[3]\n  return %y\n}", 2, 35,
       "expected a literal of type f32"},
      {h + "  %y = constant() {value = [1, 2, 1e39]} : f32[3]\n  return %y\n}", 2, 35,
       "out of the range of f32"},
      {h + "  %y = constant() {value = 70000} : f16[3]\n  return %x\n}", 2, 28,
       "out of the range of f16"},
      {h + "  %y = constant() {value = 1.5.2} : f32[3]\n  return %x\n}", 2, 28, "malformed number"},
      {h + "  %y = constant() {value = 256} : u8[3]\n  return %x\n}", 2, 28,
       "out of the range of u8"},
      {h + "  %y = constant() {value = -1} : u32[3]\n  return %x\n}", 2, 28,
       "out of the range of u32"},
      {h + "  %y = constant() {value = -129} : i8[3]\n  return %x\n}", 2, 28,
       "out of the range of i8"},
      {h + "  %y = constant() {value = 18446744073709551616} : u64[]\n  return %x\n}", 2, 28,
       "out of the range of u64"},
      {h + "  %y = constant() {value = 2.5} : i32[3]\n  return %x\n}", 2, 28,
       "expected an integer literal for i32"},
      {h + "  %y = constant() {value = 2} : bool[3]\n  return %x\n}", 2, 28,
       "expected true or false"},
      {h + "  %y = constant() {value = (1, 2)} : f32[3]\n  return %x\n}", 2, 29, "complex literal"},
      {h + "  %y = constant() {value = (1 2)} : c64[3]\n  return %x\n}", 2, 31, "expected ','"},
      {h + "  %y = constant() {value = 0} : f32[32768,32768]\n  return %x\n}", 2, 28,
       "more than 2^28"},
      {h + "  %y = constant() {value = [0]} : f32[65536,65536]\n  return %x\n}", 2, 28,
       "has 1 values but its type f32[65536,65536] has 4294967296 elements"},
      {h + "  %y = constant() {value = [0, 1 2]} : f32[3]\n  return %x\n}", 2, 34,
       "expected ']', found '2'"},
      {h + "  %y = constant() {value = [0, 1, 2] : f32[3]\n  return %x\n}", 2, 38,
       "expected '}', found ':'"},
      {h + "  %y = constant() {value = [1], value = [2]} : f32[1]\n  return %x\n}", 2, 33,
       "'value' is given twice"},
      {h + "  %y = constant(%x) {value = [1, 2, 3]} : f32[3]\n  return %x\n}", 2, 3,
       "op %y (constant): expects 0 operands"},
      {h + "  %y = negative(%x) {value = 1} : f32[3]\n  return %x\n}", 2, 3,
       "no attribute 'value'"},
      {h + "  %y = negative(%x) : f32[3] # \n  return %x\n}", 2, 30, "unexpected character '#'"},
      {h + "  %y = negative(%x) : f32[3] / \n  return %x\n}", 2, 30, "unexpected character '/'"},
      {h + "  %y = negative(%x) : f32[3]\n  \x01 return %x\n}", 3, 3, "unexpected character 0x01"},
      {h + "  %y = negative(%x) : f32[3]\n", 3, 1, "found end of input"},
      {h + "  %y = negative(%x) : f32[3]\n  return %x", 3, 12, "expected '}', found end of input"},
      {h + "  foo\n}", 2, 3, "expected a statement or 'return'"},
      // Custom ops and the functions they call.
      {h + "  return %x\n}\n" + h + "  return %x\n}", 4, 6, "function '@f' is defined twice"},
      {h + "  return %x\n}\nfunc @g() -> () {\n  return\n}", 4, 6,
       "function '@g' is never called"},
      {h + "  %y = custom(%x) {index = 0, num_primals = 1} : f32[3]\n  return %y\n}", 2, 3,
       "op %1 (custom): needs a 'forward' callee"},
      {h + "  %y = custom(%x) {forward = @f, index = 0, num_primals = 1} : f32[3]\n  return %y\n}",
       2, 30, "function '@f' must be defined after its caller '@f'"},
      {h + "  %y = negative(%x) {forward = @g} : f32[3]\n  return %y\n}", 2, 32,
       "attribute 'forward' cannot name a function"},
      {h + "  %y = custom(%x) {foo = @g, index = 0, num_primals = 1} : f32[3]\n  return %y\n}", 2,
       26, "attribute 'foo' cannot name a function"},
      {h + "  %y = custom(%x) {forward = @g, forward = @g, index = 0} : f32[3]\n  return %y\n}", 2,
       34, "attribute 'forward' is given twice"},
      {h + "  %y = custom(%x) {forward = @g, index = 0, num_primals = 1} : f32[2]\n  return %x\n}\n" +
           "func @g(%x: f32[3]) -> (f32[3]) {\n  return %x\n}",
       2, 3, "op %1 (custom): declared type f32[2] differs from the forward callee's output 0"},
  };
}

TEST(IrText, ParseErrorsHaveLineAndColumn) {
  for (const auto& c : bad_texts()) {
    SCOPED_TRACE(c.text);
    try {
      parse(c.text);
      ADD_FAILURE() << "parsed";
    } catch (const ParseError& e) {
      EXPECT_EQ(e.line(), c.line) << e.what();
      EXPECT_EQ(e.column(), c.col) << e.what();
      std::string what = e.what();
      std::string prefix = std::to_string(c.line) + ":" + std::to_string(c.col) + ": ";
      EXPECT_EQ(what.substr(0, prefix.size()), prefix);
      EXPECT_NE(what.find(c.expected), std::string::npos) << what;
    }
  }
}

TEST(IrText, ParseErrorIsAnInvalidArgument) {
  try {
    parse("func");
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()),
              "1:5: expected the function's name (@name), found end of input");
  }
}

TEST(IrText, LargeShapesAreFineWithoutConstants) {
  // Types may be large as long as nothing is allocated for them.
  Function f = parse(
      "func @big(%x: f32[65536,65536]) -> (f32[4,65536,65536]) {\n"
      "  %y = broadcast(%x) : f32[4,65536,65536]\n"
      "  return %y\n"
      "}\n");
  EXPECT_EQ(f.ops[0].type.size(), int64_t(4) << 32);
}

TEST(IrText, PathologicalInputs) {
  std::string h = kHeader;
  auto expect_error = [](const std::string& text, const std::string& expected) {
    try {
      parse(text);
      ADD_FAILURE() << "parsed";
    } catch (const ParseError& e) {
      EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << e.what();
    }
  };
  // Deep nesting: there is no recursion to exhaust.
  expect_error(h + "  %y = sum(%x) {axes = " + std::string(200000, '[') + "\n",
               "expected an integer");
  expect_error(h + "  %y = constant() {value = " + std::string(200000, '(') + "\n",
               "expected a literal");
  // A long unterminated list.
  std::string list;
  for (int i = 0; i < 200000; ++i) list += "1, ";
  expect_error(h + "  %y = constant() {value = [" + list, "found end of input");
  // A long name.
  expect_error("func @f(%" + std::string(100000, 'a') + ": f32[]) -> () {\n  return %b\n}",
               "%b is not defined");
  // Many ops, and a large listed constant.
  Function f;
  f.add_input(T(float32, {}));
  int v = 0;
  for (int i = 0; i < 20000; ++i) v = add(f, OpKind::Negative, {v});
  std::vector<float> big(100000);
  for (size_t i = 0; i < big.size(); ++i) big[i] = float(i) * 0.1f;
  f.add_op(make_constant(T(float32, {100, 1000}), big.data()));
  f.outputs = {v, f.num_values() - 1};
  check_round_trip(f);
}

// --- fuzzing: truncated and corrupted texts -----------------------------

// Parses text; the only acceptable failure is ParseError.
void parse_must_not_misbehave(const std::string& text) {
  try {
    Function f = parse(text);
    EXPECT_EQ(verify_message(f), "") << text;
    // Whatever parses prints and parses back to the same text.
    std::string printed = print(f);
    EXPECT_EQ(print(parse(printed)), printed) << text;
  } catch (const ParseError&) {
  } catch (const std::exception& e) {
    ADD_FAILURE() << "unexpected exception " << typeid(e).name() << ": " << e.what() << "\n"
                  << text;
  } catch (...) {
    ADD_FAILURE() << "unexpected non-standard exception\n" << text;
  }
}

std::vector<std::string> corpus() {
  std::vector<std::string> texts;
  for (const auto& f : all_cases()) texts.push_back(print(f));
  for (const auto& c : constant_cases()) {
    Function f;
    int64_t n = int64_t(c.elements.size()) / c.dtype.size();
    f.outputs = {f.add_op(make_constant(T(c.dtype, {int32_t(n)}), c.elements.data()))};
    texts.push_back(print(f));
  }
  texts.push_back(
      "// comment\nfunc @f(%a.b: f32[2,3]) -> (f32[3]) {\n  %s = sum(%a.b) {axes = [0]} : "
      "f32[3] // c\n  return %s\n}\n");
  return texts;
}

TEST(IrText, FuzzTruncatedTexts) {
  for (const auto& text : corpus()) {
    for (size_t n = 0; n <= text.size(); ++n) parse_must_not_misbehave(text.substr(0, n));
  }
}

TEST(IrText, FuzzCorruptedTexts) {
  auto texts = corpus();
  // Bytes worth inserting: structure, digits, signs, letters, and junk.
  const std::string interesting = "()[]{},:=-%@/ \n0123456789eE.+-_xinfatrue";
  std::mt19937 rng(12345);
  for (int iter = 0; iter < 6000; ++iter) {
    std::string t = texts[rng() % texts.size()];
    int edits = 1 + int(rng() % 4);
    for (int e = 0; e < edits && !t.empty(); ++e) {
      size_t pos = rng() % t.size();
      char c = rng() % 2 ? interesting[rng() % interesting.size()] : char(rng() % 256);
      switch (rng() % 4) {
        case 0: t[pos] = c; break;
        case 1: t.insert(t.begin() + pos, c); break;
        case 2: t.erase(pos, 1 + rng() % 8); break;
        default: t[pos] = char(t[pos] ^ (1 << (rng() % 8))); break;
      }
    }
    parse_must_not_misbehave(t);
  }
}

TEST(IrText, FuzzNumbersInPlace) {
  // Replace every number of a text by extreme values.
  const std::vector<std::string> numbers = {"0",
                                            "-0",
                                            "2147483647",
                                            "2147483648",
                                            "-2147483649",
                                            "9223372036854775807",
                                            "9223372036854775808",
                                            "-9223372036854775808",
                                            "-9223372036854775809",
                                            "18446744073709551615",
                                            "18446744073709551616",
                                            "1e308",
                                            "1e400",
                                            "-1e-400",
                                            "65536",
                                            "268435457",
                                            "nan",
                                            "-inf",
                                            "1.5",
                                            "(1, 2)"};
  for (const auto& text : corpus()) {
    for (size_t i = 0; i < text.size(); ++i) {
      if (!(text[i] >= '0' && text[i] <= '9') || (i && std::isalnum(uint8_t(text[i - 1]))))
        continue;
      if (i && (text[i - 1] == '%' || text[i - 1] == '-')) continue;
      size_t j = i;
      while (j < text.size() && (std::isalnum(uint8_t(text[j])) || text[j] == '.')) ++j;
      for (const auto& n : numbers)
        parse_must_not_misbehave(text.substr(0, i) + n + text.substr(j));
    }
  }
}

}  // namespace
}  // namespace kiln::ir
