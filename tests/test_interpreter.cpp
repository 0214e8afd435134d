// Tests of the reference interpreter against hand-computed values. Expected
// numbers are written out literally; transcendental ones were computed with
// mpmath at 40 digits (for the double nearest each input) and rounded.
#include "ir/interpreter.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <complex>
#include <cstdint>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <vector>

#include "ir/element.h"
#include "ir/function.h"
#include "ir/type_rules.h"

namespace {

using namespace kiln;
using namespace kiln::ir;
using cplx = std::complex<double>;

const double kNan = std::numeric_limits<double>::quiet_NaN();
const double kInf = std::numeric_limits<double>::infinity();

Tensor alloc(Dtype dt, const Shape& shape) {
  Type t{dt, shape};
  return {t, runtime::allocate(size_t(t.nbytes()))};
}
Tensor tf(Dtype dt, const Shape& shape, const std::vector<double>& v) {
  Tensor x = alloc(dt, shape);
  EXPECT_EQ(int64_t(v.size()), x.type.size());
  for (size_t i = 0; i < v.size(); ++i) store_f64(dt, x.buffer->data(), int64_t(i), v[i]);
  return x;
}
Tensor ti(Dtype dt, const Shape& shape, const std::vector<int64_t>& v) {
  Tensor x = alloc(dt, shape);
  EXPECT_EQ(int64_t(v.size()), x.type.size());
  for (size_t i = 0; i < v.size(); ++i) store_i64(dt, x.buffer->data(), int64_t(i), v[i]);
  return x;
}
Tensor tu(Dtype dt, const Shape& shape, const std::vector<uint64_t>& v) {
  Tensor x = alloc(dt, shape);
  EXPECT_EQ(int64_t(v.size()), x.type.size());
  for (size_t i = 0; i < v.size(); ++i) store_u64(dt, x.buffer->data(), int64_t(i), v[i]);
  return x;
}
Tensor tc(const Shape& shape, const std::vector<cplx>& v) {
  Tensor x = alloc(complex64, shape);
  EXPECT_EQ(int64_t(v.size()), x.type.size());
  for (size_t i = 0; i < v.size(); ++i) store_c128(complex64, x.buffer->data(), int64_t(i), v[i]);
  return x;
}

std::vector<double> f64s(const Tensor& t) {
  std::vector<double> v(static_cast<size_t>(t.type.size()));
  for (size_t i = 0; i < v.size(); ++i) v[i] = load_f64(t.type.dtype, t.buffer->data(), int64_t(i));
  return v;
}
std::vector<int64_t> i64s(const Tensor& t) {
  std::vector<int64_t> v(static_cast<size_t>(t.type.size()));
  for (size_t i = 0; i < v.size(); ++i) v[i] = load_i64(t.type.dtype, t.buffer->data(), int64_t(i));
  return v;
}
std::vector<uint64_t> u64s(const Tensor& t) {
  std::vector<uint64_t> v(static_cast<size_t>(t.type.size()));
  for (size_t i = 0; i < v.size(); ++i) v[i] = load_u64(t.type.dtype, t.buffer->data(), int64_t(i));
  return v;
}
std::vector<cplx> c128s(const Tensor& t) {
  std::vector<cplx> v(static_cast<size_t>(t.type.size()));
  for (size_t i = 0; i < v.size(); ++i) v[i] = load_c128(t.type.dtype, t.buffer->data(), int64_t(i));
  return v;
}

// Builds a function of one op over `ins` (as inputs) and interprets it.
Tensor run(OpKind k, const std::vector<Tensor>& ins, Attrs attrs = {}, Type declared = {}) {
  Function f;
  std::vector<int> ids;
  std::vector<Type> types;
  for (const Tensor& t : ins) {
    ids.push_back(f.add_input(t.type));
    types.push_back(t.type);
  }
  Type rt = infer_type(k, types, attrs, declared);
  f.outputs = {f.add_op(make_op(k, ids, rt, attrs))};
  auto outs = interpret(f, ins);
  EXPECT_EQ(outs.size(), 1u);
  EXPECT_EQ(outs[0].type, rt);
  return outs[0];
}

Attrs axes(std::vector<int64_t> a) { return {{"axes", std::move(a)}}; }
Attrs axis(int64_t a) { return {{"axis", a}}; }

// One float64 unary op on one value.
double un64(OpKind k, double x) { return f64s(run(k, {tf(float64, {}, {x})}))[0]; }
double bin64(OpKind k, double a, double b) {
  return f64s(run(k, {tf(float64, {}, {a}), tf(float64, {}, {b})}))[0];
}

void expect_same(const std::vector<double>& got, const std::vector<double>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    if (std::isnan(want[i])) {
      EXPECT_TRUE(std::isnan(got[i])) << "at " << i << ": " << got[i];
    } else {
      EXPECT_EQ(got[i], want[i]) << "at " << i;
    }
  }
}

// --- unary ------------------------------------------------------------------

TEST(InterpreterUnary, TranscendentalsFloat64) {
  struct Case { OpKind k; double x, want; };
  const Case cases[] = {
      {OpKind::Sqrt, 2, 1.4142135623730950488},
      {OpKind::Rsqrt, 2, 0.7071067811865475244},
      {OpKind::Exp, 0.5, 1.6487212707001281468},
      {OpKind::Expm1, 1e-10, 1.00000000005e-10},
      {OpKind::Log, 2, 0.69314718055994530942},
      {OpKind::Log2, 10, 3.3219280948873623479},
      {OpKind::Log10, 2, 0.30102999566398119521},
      {OpKind::Log1p, 1e-10, 9.9999999995e-11},
      {OpKind::Sin, 0.5, 0.47942553860420300027},
      {OpKind::Cos, 0.5, 0.87758256189037271612},
      {OpKind::Tan, 0.5, 0.54630248984379051326},
      {OpKind::Arcsin, 0.5, 0.52359877559829887308},
      {OpKind::Arccos, 0.5, 1.0471975511965977462},
      {OpKind::Arctan, 0.5, 0.46364760900080611621},
      {OpKind::Sinh, 0.5, 0.52109530549374736162},
      {OpKind::Cosh, 0.5, 1.1276259652063807852},
      {OpKind::Tanh, 0.5, 0.4621171572600097585},
      {OpKind::Arcsinh, 0.5, 0.4812118250596034475},
      {OpKind::Arccosh, 2, 1.3169578969248167086},
      {OpKind::Arctanh, 0.5, 0.5493061443340548457},
      {OpKind::Sigmoid, 0.5, 0.62245933120185456464},
      {OpKind::Sigmoid, -2, 0.11920292202211755594},
      {OpKind::Erf, 0.5, 0.52049987781304653768},
  };
  for (const Case& c : cases)
    EXPECT_DOUBLE_EQ(un64(c.k, c.x), c.want) << op_name(c.k) << "(" << c.x << ")";
  EXPECT_EQ(un64(OpKind::Sigmoid, -1000), 0.0);
  EXPECT_EQ(un64(OpKind::Sigmoid, 1000), 1.0);
  EXPECT_TRUE(std::isnan(un64(OpKind::Sqrt, -1)));
  EXPECT_EQ(un64(OpKind::Log, 0), -kInf);
}

TEST(InterpreterUnary, Erfinv) {
  struct Case { double x, want; };
  const Case cases[] = {
      {0.5, 0.47693627620446987338},       {-0.9, -1.1630871536766741628},
      {0.999999, 3.4589107372754987775},   {1e-8, 8.8622692545275805539e-9},
      {0.3, 0.27246271472675434502},       {0.99999999999, 4.8129240589448325449},
      {-0.75, -0.81341984759761854169},
  };
  for (const Case& c : cases)
    EXPECT_NEAR(un64(OpKind::Erfinv, c.x), c.want, 4e-16 * std::fabs(c.want)) << c.x;
  EXPECT_EQ(un64(OpKind::Erfinv, 1), kInf);
  EXPECT_EQ(un64(OpKind::Erfinv, -1), -kInf);
  EXPECT_EQ(un64(OpKind::Erfinv, 0), 0.0);
  EXPECT_TRUE(std::isnan(un64(OpKind::Erfinv, 1.5)));
  EXPECT_TRUE(std::isnan(un64(OpKind::Erfinv, -1.0000001)));
  EXPECT_TRUE(std::isnan(un64(OpKind::Erfinv, kNan)));
  // float32 result rounded once: erfinv(0.5f) -> nearest float of 0.476936...
  EXPECT_EQ(f64s(run(OpKind::Erfinv, {tf(float32, {1}, {0.5})}))[0],
            double(0.47693627620446987338f));
}

TEST(InterpreterUnary, SimpleFloat) {
  auto x = tf(float32, {6}, {-2.5, -0.5, 0, 0.5, 1.5, kNan});
  expect_same(f64s(run(OpKind::Abs, {x})), {2.5, 0.5, 0, 0.5, 1.5, kNan});
  expect_same(f64s(run(OpKind::Negative, {x})), {2.5, 0.5, -0.0, -0.5, -1.5, kNan});
  expect_same(f64s(run(OpKind::Sign, {x})), {-1, -1, 0, 1, 1, kNan});
  expect_same(f64s(run(OpKind::Square, {x})), {6.25, 0.25, 0, 0.25, 2.25, kNan});
  expect_same(f64s(run(OpKind::Floor, {x})), {-3, -1, 0, 0, 1, kNan});
  expect_same(f64s(run(OpKind::Ceil, {x})), {-2, -0.0, 0, 1, 2, kNan});
  expect_same(f64s(run(OpKind::StopGradient, {x})), {-2.5, -0.5, 0, 0.5, 1.5, kNan});
  auto r = tf(float64, {8}, {0.5, 1.5, 2.5, -0.5, -2.5, 2.4999, 3.5, -3.5});
  auto rounded = f64s(run(OpKind::Round, {r}));
  expect_same(rounded, {0, 2, 2, -0.0, -2, 2, 4, -4});  // half to even
  EXPECT_TRUE(std::signbit(rounded[3]));
}

TEST(InterpreterUnary, Integers) {
  auto x = ti(int8, {5}, {-128, -5, 0, 3, 127});
  EXPECT_EQ(i64s(run(OpKind::Abs, {x})), (std::vector<int64_t>{-128, 5, 0, 3, 127}));
  EXPECT_EQ(i64s(run(OpKind::Negative, {x})), (std::vector<int64_t>{-128, 5, 0, -3, -127}));
  EXPECT_EQ(i64s(run(OpKind::Sign, {x})), (std::vector<int64_t>{-1, -1, 0, 1, 1}));
  EXPECT_EQ(i64s(run(OpKind::Square, {x})), (std::vector<int64_t>{0, 25, 0, 9, 1}));  // wraps
  EXPECT_EQ(i64s(run(OpKind::BitwiseInvert, {x})), (std::vector<int64_t>{127, 4, -1, -4, -128}));
  EXPECT_EQ(i64s(run(OpKind::Floor, {x})), (std::vector<int64_t>{-128, -5, 0, 3, 127}));
  EXPECT_EQ(i64s(run(OpKind::Round, {x})), (std::vector<int64_t>{-128, -5, 0, 3, 127}));

  auto u = tu(uint8, {3}, {0, 1, 200});
  EXPECT_EQ(u64s(run(OpKind::Negative, {u})), (std::vector<uint64_t>{0, 255, 56}));
  EXPECT_EQ(u64s(run(OpKind::Sign, {u})), (std::vector<uint64_t>{0, 1, 1}));
  EXPECT_EQ(u64s(run(OpKind::BitwiseInvert, {u})), (std::vector<uint64_t>{255, 254, 55}));
  EXPECT_EQ(u64s(run(OpKind::Square, {u})), (std::vector<uint64_t>{0, 1, 64}));  // 40000 % 256
  EXPECT_EQ(u64s(run(OpKind::Abs, {u})), (std::vector<uint64_t>{0, 1, 200}));

  auto i64 = ti(int64, {1}, {std::numeric_limits<int64_t>::min()});
  EXPECT_EQ(i64s(run(OpKind::Negative, {i64}))[0], std::numeric_limits<int64_t>::min());

  auto b = ti(bool_, {2}, {0, 1});
  EXPECT_EQ(i64s(run(OpKind::LogicalNot, {b})), (std::vector<int64_t>{1, 0}));
  EXPECT_EQ(i64s(run(OpKind::BitwiseInvert, {b})), (std::vector<int64_t>{1, 0}));
  // bools are stored as 0/1 bytes
  auto nb = run(OpKind::BitwiseInvert, {b});
  EXPECT_EQ(static_cast<const uint8_t*>(nb.buffer->data())[0], 1);
}

TEST(InterpreterUnary, HalfPrecisionRoundsResultOnce) {
  // e = 2.71828...; float16 spacing in [2, 4) is 2^-9, nearest is 2.71875.
  EXPECT_EQ(f64s(run(OpKind::Exp, {tf(float16, {1}, {1})}))[0], 2.71875);
  // bfloat16 spacing in [2, 4) is 2^-6: nearest to e is 2.71875 as well
  // (174 * 2^-6 = 2.71875).
  EXPECT_EQ(f64s(run(OpKind::Exp, {tf(bfloat16, {1}, {1})}))[0], 2.71875);
  // sqrt(2) = 1.41421...; float16 spacing 2^-10: 1448 * 2^-10 = 1.4140625.
  EXPECT_EQ(f64s(run(OpKind::Sqrt, {tf(float16, {1}, {2})}))[0], 1.4140625);
}

// --- cast -------------------------------------------------------------------

TEST(InterpreterCast, Conversions) {
  auto f = tf(float32, {5}, {-2.7, 2.7, 1e10, -1e10, kNan});
  EXPECT_EQ(i64s(run(OpKind::Cast, {f}, {}, {int32, {5}})),
            (std::vector<int64_t>{-2, 2, 2147483647, -2147483648LL, 0}));
  auto i = ti(int32, {3}, {0, 5, -1});
  EXPECT_EQ(i64s(run(OpKind::Cast, {i}, {}, {bool_, {3}})), (std::vector<int64_t>{0, 1, 1}));
  auto w = ti(int64, {2}, {300, -1});
  EXPECT_EQ(u64s(run(OpKind::Cast, {w}, {}, {uint8, {2}})), (std::vector<uint64_t>{44, 255}));
  auto u = tu(uint64, {1}, {uint64_t(1) << 63});
  EXPECT_EQ(f64s(run(OpKind::Cast, {u}, {}, {float64, {1}}))[0], 9223372036854775808.0);
  // float64 -> float16, ties to even: 1 + 2^-11 -> 1, 1 + 3*2^-11 -> 1 + 2^-9;
  // 65520 is halfway between 65504 and 65536 (out of range) -> inf.
  auto d = tf(float64, {3}, {1 + std::ldexp(1, -11), 1 + 3 * std::ldexp(1, -11), 65520});
  expect_same(f64s(run(OpKind::Cast, {d}, {}, {float16, {3}})), {1, 1 + std::ldexp(1, -9), kInf});
  expect_same(f64s(run(OpKind::Cast, {d}, {}, {bfloat16, {3}})), {1, 1, 65536});
  auto c = tc({1}, {{1.5, -2}});
  EXPECT_EQ(f64s(run(OpKind::Cast, {c}, {}, {float32, {1}}))[0], 1.5);
  EXPECT_EQ(c128s(run(OpKind::Cast, {tf(float32, {1}, {3})}, {}, {complex64, {1}}))[0], cplx(3, 0));
  // same dtype: a copy
  expect_same(f64s(run(OpKind::Cast, {f}, {}, {float32, {5}})),
              {double(-2.7f), double(2.7f), 1e10, -1e10, kNan});
}

// --- binary -----------------------------------------------------------------

TEST(InterpreterBinary, IntegerArithmeticWraps) {
  auto a = ti(int8, {3}, {127, -128, 100});
  auto b = ti(int8, {3}, {1, -1, 100});
  EXPECT_EQ(i64s(run(OpKind::Add, {a, b})), (std::vector<int64_t>{-128, 127, -56}));
  EXPECT_EQ(i64s(run(OpKind::Subtract, {a, b})), (std::vector<int64_t>{126, -127, 0}));
  EXPECT_EQ(i64s(run(OpKind::Multiply, {a, b})), (std::vector<int64_t>{127, -128, 16}));
  auto u = tu(uint8, {2}, {250, 0});
  auto v = tu(uint8, {2}, {10, 1});
  EXPECT_EQ(u64s(run(OpKind::Add, {u, v})), (std::vector<uint64_t>{4, 1}));
  EXPECT_EQ(u64s(run(OpKind::Subtract, {u, v})), (std::vector<uint64_t>{240, 255}));
  auto i32 = ti(int32, {2}, {65536, 65537});
  EXPECT_EQ(i64s(run(OpKind::Multiply, {i32, i32})), (std::vector<int64_t>{0, 131073}));
  auto big = ti(int64, {1}, {int64_t(1) << 62});
  EXPECT_EQ(i64s(run(OpKind::Multiply, {big, ti(int64, {1}, {4})}))[0], 0);
  EXPECT_EQ(i64s(run(OpKind::Add, {big, big}))[0], std::numeric_limits<int64_t>::min());
  auto ub = tu(uint64, {1}, {~uint64_t(0)});
  EXPECT_EQ(u64s(run(OpKind::Add, {ub, tu(uint64, {1}, {2})}))[0], 1u);
}

TEST(InterpreterBinary, IntegerDivisionAndRemainder) {
  auto a = ti(int32, {6}, {7, -7, 7, -7, 5, 0});
  auto b = ti(int32, {6}, {2, 2, -2, -2, 0, 0});
  EXPECT_EQ(i64s(run(OpKind::FloorDivide, {a, b})), (std::vector<int64_t>{3, -4, -4, 3, 0, 0}));
  auto c = ti(int32, {6}, {3, 3, -3, -3, 0, 0});
  EXPECT_EQ(i64s(run(OpKind::Remainder, {a, c})), (std::vector<int64_t>{1, 2, -2, -1, 0, 0}));
  // The one overflowing quotient wraps instead of trapping.
  auto m8 = ti(int8, {1}, {-128});
  auto n1 = ti(int8, {1}, {-1});
  EXPECT_EQ(i64s(run(OpKind::FloorDivide, {m8, n1}))[0], -128);
  EXPECT_EQ(i64s(run(OpKind::Remainder, {m8, n1}))[0], 0);
  auto m64 = ti(int64, {1}, {std::numeric_limits<int64_t>::min()});
  auto n64 = ti(int64, {1}, {-1});
  EXPECT_EQ(i64s(run(OpKind::FloorDivide, {m64, n64}))[0], std::numeric_limits<int64_t>::min());
  EXPECT_EQ(i64s(run(OpKind::Remainder, {m64, n64}))[0], 0);
  auto u = tu(uint16, {3}, {7, 7, 65535});
  auto w = tu(uint16, {3}, {2, 0, 256});
  EXPECT_EQ(u64s(run(OpKind::FloorDivide, {u, w})), (std::vector<uint64_t>{3, 0, 255}));
  EXPECT_EQ(u64s(run(OpKind::Remainder, {u, w})), (std::vector<uint64_t>{1, 0, 255}));
}

TEST(InterpreterBinary, FloatDivisionAndRemainder) {
  auto a = tf(float64, {6}, {7.5, -7.5, 7.5, -4, 4, 1});
  auto b = tf(float64, {6}, {2, 2, -2, 2, -2, 0});
  expect_same(f64s(run(OpKind::Divide, {a, b})), {3.75, -3.75, -3.75, -2, -2, kInf});
  expect_same(f64s(run(OpKind::FloorDivide, {a, b})), {3, -4, -4, -2, -2, kInf});
  auto r = f64s(run(OpKind::Remainder, {a, b}));
  expect_same(r, {1.5, 0.5, -0.5, 0, -0.0, kNan});
  EXPECT_FALSE(std::signbit(r[3]));  // zero takes the divisor's sign
  EXPECT_TRUE(std::signbit(r[4]));
}

TEST(InterpreterBinary, Power) {
  auto a = ti(int32, {7}, {2, 3, -1, 1, -1, 5, 0});
  auto b = ti(int32, {7}, {10, -1, -3, -5, -2, 0, 0});
  EXPECT_EQ(i64s(run(OpKind::Power, {a, b})), (std::vector<int64_t>{1024, 0, -1, 1, 1, 1, 1}));
  EXPECT_EQ(i64s(run(OpKind::Power, {ti(int8, {1}, {2}), ti(int8, {1}, {7})}))[0], -128);
  EXPECT_EQ(i64s(run(OpKind::Power, {ti(int64, {2}, {3, 3}), ti(int64, {2}, {40, 41})})),
            (std::vector<int64_t>{-6289078614652622815LL, -420491770248316829LL}));
  EXPECT_EQ(u64s(run(OpKind::Power, {tu(uint8, {1}, {3}), tu(uint8, {1}, {5})}))[0], 243u);
  EXPECT_DOUBLE_EQ(bin64(OpKind::Power, 2, 0.5), 1.4142135623730950488);
  EXPECT_EQ(bin64(OpKind::Power, -2, 3), -8);
  EXPECT_TRUE(std::isnan(bin64(OpKind::Power, -2, 0.5)));
}

TEST(InterpreterBinary, MaximumMinimumPropagateNan) {
  auto a = tf(float32, {4}, {1, kNan, 3, kNan});
  auto b = tf(float32, {4}, {2, 1, kNan, kNan});
  expect_same(f64s(run(OpKind::Maximum, {a, b})), {2, kNan, kNan, kNan});
  expect_same(f64s(run(OpKind::Minimum, {a, b})), {1, kNan, kNan, kNan});
  auto i = ti(int16, {2}, {-5, 7});
  auto j = ti(int16, {2}, {3, -9});
  EXPECT_EQ(i64s(run(OpKind::Maximum, {i, j})), (std::vector<int64_t>{3, 7}));
  EXPECT_EQ(i64s(run(OpKind::Minimum, {i, j})), (std::vector<int64_t>{-5, -9}));
  // unsigned compare: 2^63 is larger than 1 (as int64 it would be negative)
  auto u = tu(uint64, {1}, {uint64_t(1) << 63});
  auto v = tu(uint64, {1}, {1});
  EXPECT_EQ(u64s(run(OpKind::Maximum, {u, v}))[0], uint64_t(1) << 63);
  EXPECT_EQ(u64s(run(OpKind::Minimum, {u, v}))[0], 1u);
}

TEST(InterpreterBinary, Arctan2AndLogAddExp) {
  EXPECT_DOUBLE_EQ(bin64(OpKind::Arctan2, 1, -1), 2.3561944901923449288);
  EXPECT_EQ(bin64(OpKind::Arctan2, 0, 1), 0.0);
  EXPECT_DOUBLE_EQ(bin64(OpKind::LogAddExp, 1, 2), 2.313261687518222834);
  EXPECT_DOUBLE_EQ(bin64(OpKind::LogAddExp, -1000, -1001), -999.68673831248177717);
  EXPECT_DOUBLE_EQ(bin64(OpKind::LogAddExp, 0, 0), 0.69314718055994530942);
  EXPECT_DOUBLE_EQ(bin64(OpKind::LogAddExp, 1000, 1000), 1000.69314718055994530942);
  EXPECT_EQ(bin64(OpKind::LogAddExp, -kInf, -kInf), -kInf);
  EXPECT_EQ(bin64(OpKind::LogAddExp, kInf, kInf), kInf);
  EXPECT_EQ(bin64(OpKind::LogAddExp, kInf, -kInf), kInf);
  EXPECT_EQ(bin64(OpKind::LogAddExp, -kInf, 3), 3.0);
  EXPECT_TRUE(std::isnan(bin64(OpKind::LogAddExp, kNan, 1)));
}

// Near its zero logaddexp cancels (issue 9, item 9); the interpreter, and
// with it constant folding, uses the JIT's formula. Reference values from
// mpmath (60 digits).
TEST(InterpreterBinary, LogAddExpNearZero) {
  // ln2 - fl(ln2), not 0.
  EXPECT_EQ(bin64(OpKind::LogAddExp, -0.69314718055994530942, -0.69314718055994530942), 2.3190468138462996e-17);
  // float inputs are computed in double, so the cancellation costs float nothing.
  auto x = tf(float32, {2}, {-0.0953317f, -0.6931471805599453f});
  auto y = tf(float32, {2}, {-2.39769f, -0.6931471805599453f});
  std::vector<double> got = f64s(run(OpKind::LogAddExp, {x, y}));
  EXPECT_EQ(float(got[0]), -9.04554989394248e-07f);
  EXPECT_EQ(float(got[1]), -1.904654299957768e-09f);
}

TEST(InterpreterBinary, LogicalAndBitwise) {
  auto p = ti(bool_, {4}, {0, 0, 1, 1});
  auto q = ti(bool_, {4}, {0, 1, 0, 1});
  EXPECT_EQ(i64s(run(OpKind::LogicalAnd, {p, q})), (std::vector<int64_t>{0, 0, 0, 1}));
  EXPECT_EQ(i64s(run(OpKind::LogicalOr, {p, q})), (std::vector<int64_t>{0, 1, 1, 1}));
  EXPECT_EQ(i64s(run(OpKind::BitwiseAnd, {p, q})), (std::vector<int64_t>{0, 0, 0, 1}));
  EXPECT_EQ(i64s(run(OpKind::BitwiseOr, {p, q})), (std::vector<int64_t>{0, 1, 1, 1}));
  EXPECT_EQ(i64s(run(OpKind::BitwiseXor, {p, q})), (std::vector<int64_t>{0, 1, 1, 0}));
  auto a = ti(int16, {2}, {0x0ff0, -1});
  auto b = ti(int16, {2}, {0x00ff, 0x1234});
  EXPECT_EQ(i64s(run(OpKind::BitwiseAnd, {a, b})), (std::vector<int64_t>{0x00f0, 0x1234}));
  EXPECT_EQ(i64s(run(OpKind::BitwiseOr, {a, b})), (std::vector<int64_t>{0x0fff, -1}));
  EXPECT_EQ(i64s(run(OpKind::BitwiseXor, {a, b})), (std::vector<int64_t>{0x0f0f, ~0x1234}));
  auto u = tu(uint8, {1}, {0xf0});
  EXPECT_EQ(u64s(run(OpKind::BitwiseXor, {u, tu(uint8, {1}, {0xff})}))[0], 0x0fu);
}

TEST(InterpreterBinary, Shifts) {
  auto a = ti(int8, {5}, {1, 1, 1, -8, -8});
  auto s = ti(int8, {5}, {7, 8, 100, 1, 9});
  EXPECT_EQ(i64s(run(OpKind::LeftShift, {a, s})), (std::vector<int64_t>{-128, 0, 0, -16, 0}));
  EXPECT_EQ(i64s(run(OpKind::RightShift, {a, s})), (std::vector<int64_t>{0, 0, 0, -4, -1}));
  auto b = ti(int32, {3}, {8, -8, 1});
  auto t = ti(int32, {3}, {40, 40, 31});
  EXPECT_EQ(i64s(run(OpKind::RightShift, {b, t})), (std::vector<int64_t>{0, -1, 0}));
  EXPECT_EQ(i64s(run(OpKind::LeftShift, {b, t})),
            (std::vector<int64_t>{0, 0, std::numeric_limits<int32_t>::min()}));
  auto u = tu(uint8, {3}, {200, 200, 1});
  auto v = tu(uint8, {3}, {1, 8, 7});
  EXPECT_EQ(u64s(run(OpKind::RightShift, {u, v})), (std::vector<uint64_t>{100, 0, 0}));  // logical
  EXPECT_EQ(u64s(run(OpKind::LeftShift, {u, v})), (std::vector<uint64_t>{144, 0, 128}));
  auto w = tu(uint64, {2}, {1, 1});
  auto x = tu(uint64, {2}, {63, 64});
  EXPECT_EQ(u64s(run(OpKind::LeftShift, {w, x})), (std::vector<uint64_t>{uint64_t(1) << 63, 0}));
}

TEST(InterpreterBinary, Comparisons) {
  auto a = tf(float64, {3}, {1, kNan, 2});
  auto b = tf(float64, {3}, {1, kNan, 3});
  EXPECT_EQ(i64s(run(OpKind::Equal, {a, b})), (std::vector<int64_t>{1, 0, 0}));
  EXPECT_EQ(i64s(run(OpKind::NotEqual, {a, b})), (std::vector<int64_t>{0, 1, 1}));
  EXPECT_EQ(i64s(run(OpKind::Less, {a, b})), (std::vector<int64_t>{0, 0, 1}));
  EXPECT_EQ(i64s(run(OpKind::LessEqual, {a, b})), (std::vector<int64_t>{1, 0, 1}));
  EXPECT_EQ(i64s(run(OpKind::Greater, {a, b})), (std::vector<int64_t>{0, 0, 0}));
  EXPECT_EQ(i64s(run(OpKind::GreaterEqual, {a, b})), (std::vector<int64_t>{1, 0, 0}));
  auto r = run(OpKind::Less, {a, b});
  EXPECT_EQ(r.type.dtype, bool_);
  auto u = tu(uint32, {2}, {4000000000u, 1});
  auto v = tu(uint32, {2}, {1, 4000000000u});
  EXPECT_EQ(i64s(run(OpKind::Greater, {u, v})), (std::vector<int64_t>{1, 0}));
  auto i = ti(int64, {2}, {-1, 5});
  auto j = ti(int64, {2}, {1, 5});
  EXPECT_EQ(i64s(run(OpKind::Less, {i, j})), (std::vector<int64_t>{1, 0}));
  EXPECT_EQ(i64s(run(OpKind::GreaterEqual, {i, j})), (std::vector<int64_t>{0, 1}));
}

TEST(InterpreterBinary, HalfPrecisionResultRoundsToEven) {
  const double e11 = std::ldexp(1, -11), e10 = std::ldexp(1, -10), e9 = std::ldexp(1, -9);
  auto a = tf(float16, {2}, {1, 1 + e10});
  auto b = tf(float16, {2}, {e11, e11});
  // 1 + 2^-11 ties between 1 and 1 + 2^-10 -> 1 (even); 1 + 3*2^-11 ties
  // between 1 + 2^-10 and 1 + 2^-9 -> 1 + 2^-9 (even).
  expect_same(f64s(run(OpKind::Add, {a, b})), {1, 1 + e9});
  const double e8 = std::ldexp(1, -8), e7 = std::ldexp(1, -7), e6 = std::ldexp(1, -6);
  auto c = tf(bfloat16, {2}, {1, 1 + e7});
  auto d = tf(bfloat16, {2}, {e8, e8});
  expect_same(f64s(run(OpKind::Add, {c, d})), {1, 1 + e6});
}

// --- complex ----------------------------------------------------------------

TEST(InterpreterComplex, Arithmetic) {
  auto a = tc({2}, {{1, 2}, {0, 1}});
  auto b = tc({2}, {{3, 4}, {0, 1}});
  EXPECT_EQ(c128s(run(OpKind::Multiply, {a, b})), (std::vector<cplx>{{-5, 10}, {-1, 0}}));
  EXPECT_EQ(c128s(run(OpKind::Add, {a, b})), (std::vector<cplx>{{4, 6}, {0, 2}}));
  EXPECT_EQ(c128s(run(OpKind::Subtract, {a, b})), (std::vector<cplx>{{-2, -2}, {0, 0}}));
  auto q = c128s(run(OpKind::Divide, {a, b}));  // (1+2i)/(3+4i) = (11+2i)/25
  EXPECT_FLOAT_EQ(float(q[0].real()), 0.44f);
  EXPECT_FLOAT_EQ(float(q[0].imag()), 0.08f);
  EXPECT_EQ(q[1], cplx(1, 0));
  EXPECT_EQ(i64s(run(OpKind::Equal, {a, b})), (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(i64s(run(OpKind::NotEqual, {a, b})), (std::vector<int64_t>{1, 0}));
  auto p = c128s(run(OpKind::Power, {tc({2}, {{1, 1}, {0, 2}}), tc({2}, {{2, 0}, {0, 0}})}));
  EXPECT_EQ(p[0], cplx(0, 2));  // exact for small integral exponents
  EXPECT_EQ(p[1], cplx(1, 0));
  auto n = c128s(run(OpKind::Negative, {a}));
  EXPECT_EQ(n[0], cplx(-1, -2));
  EXPECT_EQ(c128s(run(OpKind::Square, {a}))[0], cplx(-3, 4));
}

TEST(InterpreterComplex, Unary) {
  auto z = tc({1}, {{3, 4}});
  auto m = run(OpKind::Abs, {z});
  EXPECT_EQ(m.type.dtype, float32);
  EXPECT_EQ(f64s(m)[0], 5.0);
  auto s = c128s(run(OpKind::Sign, {tc({2}, {{3, 4}, {0, 0}})}));
  EXPECT_FLOAT_EQ(float(s[0].real()), 0.6f);
  EXPECT_FLOAT_EQ(float(s[0].imag()), 0.8f);
  EXPECT_EQ(s[1], cplx(0, 0));
  auto r = c128s(run(OpKind::Sqrt, {tc({1}, {{-4, 0}})}))[0];
  EXPECT_EQ(r, cplx(0, 2));
  auto rs = c128s(run(OpKind::Rsqrt, {tc({1}, {{-4, 0}})}))[0];  // 1/(2i) = -0.5i
  EXPECT_FLOAT_EQ(float(rs.imag()), -0.5f);
  EXPECT_NEAR(rs.real(), 0, 1e-7);
  auto e = c128s(run(OpKind::Exp, {tc({1}, {{0, 3.14159265358979323846}})}))[0];  // e^(i pi) = -1
  EXPECT_FLOAT_EQ(float(e.real()), -1.0f);
  EXPECT_NEAR(e.imag(), 0, 1e-6);
  auto l = c128s(run(OpKind::Log, {tc({1}, {{-1, 0}})}))[0];
  EXPECT_EQ(l.real(), 0.0);
  EXPECT_FLOAT_EQ(float(l.imag()), 3.14159265f);
  // sin(i) = i sinh(1), cos(i) = cosh(1), tanh(i) = i tan(1)
  auto zi = tc({1}, {{0, 1}});
  EXPECT_FLOAT_EQ(float(c128s(run(OpKind::Sin, {zi}))[0].imag()), 1.17520119f);
  EXPECT_FLOAT_EQ(float(c128s(run(OpKind::Cos, {zi}))[0].real()), 1.54308063f);
  EXPECT_FLOAT_EQ(float(c128s(run(OpKind::Tan, {zi}))[0].imag()), 0.761594156f);
  EXPECT_FLOAT_EQ(float(c128s(run(OpKind::Sinh, {zi}))[0].imag()), 0.841470985f);
  EXPECT_FLOAT_EQ(float(c128s(run(OpKind::Cosh, {zi}))[0].real()), 0.540302306f);
  EXPECT_FLOAT_EQ(float(c128s(run(OpKind::Tanh, {zi}))[0].imag()), 1.55740772f);
}

// --- select -----------------------------------------------------------------

TEST(InterpreterSelect, PicksPerElement) {
  auto c = ti(bool_, {4}, {1, 0, 0, 1});
  auto a = tf(float32, {4}, {1, 2, 3, 4});
  auto b = tf(float32, {4}, {-1, -2, -3, -4});
  expect_same(f64s(run(OpKind::Select, {c, a, b})), {1, -2, -3, 4});
  auto x = tc({2}, {{1, 1}, {2, 2}});
  auto y = tc({2}, {{3, 3}, {4, 4}});
  EXPECT_EQ(c128s(run(OpKind::Select, {ti(bool_, {2}, {0, 1}), x, y})),
            (std::vector<cplx>{{3, 3}, {2, 2}}));
}

// --- reductions -------------------------------------------------------------

TEST(InterpreterReduce, SumProdMaxMinOverAxes) {
  // [[1, 2, 3], [4, 5, 6]]
  auto x = ti(int32, {2, 3}, {1, 2, 3, 4, 5, 6});
  EXPECT_EQ(i64s(run(OpKind::Sum, {x}, axes({0}))), (std::vector<int64_t>{5, 7, 9}));
  EXPECT_EQ(i64s(run(OpKind::Sum, {x}, axes({1}))), (std::vector<int64_t>{6, 15}));
  auto all = run(OpKind::Sum, {x}, axes({0, 1}));
  EXPECT_TRUE(all.type.shape.empty());
  EXPECT_EQ(i64s(all)[0], 21);
  EXPECT_EQ(i64s(run(OpKind::Prod, {x}, axes({1}))), (std::vector<int64_t>{6, 120}));
  EXPECT_EQ(i64s(run(OpKind::Max, {x}, axes({0}))), (std::vector<int64_t>{4, 5, 6}));
  EXPECT_EQ(i64s(run(OpKind::Min, {x}, axes({1}))), (std::vector<int64_t>{1, 4}));
  EXPECT_EQ(i64s(run(OpKind::Sum, {x}, axes({}))), (std::vector<int64_t>{1, 2, 3, 4, 5, 6}));

  // [2, 3, 2] reduced over the outer two axes
  auto y = tf(float64, {2, 3, 2}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
  expect_same(f64s(run(OpKind::Sum, {y}, axes({0, 1}))), {36, 42});
  expect_same(f64s(run(OpKind::Sum, {y}, axes({0, 2}))), {18, 26, 34});
  expect_same(f64s(run(OpKind::Max, {y}, axes({1}))), {5, 6, 11, 12});

  auto b = ti(bool_, {2, 2}, {1, 0, 1, 1});
  EXPECT_EQ(i64s(run(OpKind::All, {b}, axes({1}))), (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(i64s(run(OpKind::Any, {b}, axes({0}))), (std::vector<int64_t>{1, 1}));
  EXPECT_EQ(i64s(run(OpKind::Any, {ti(bool_, {2}, {0, 0})}, axes({0})))[0], 0);

  auto u = tu(uint32, {3}, {4000000000u, 5, 3000000000u});
  EXPECT_EQ(u64s(run(OpKind::Max, {u}, axes({0})))[0], 4000000000u);
  EXPECT_EQ(u64s(run(OpKind::Min, {u}, axes({0})))[0], 5u);
}

TEST(InterpreterReduce, IntegerWrapsOnceStored) {
  EXPECT_EQ(i64s(run(OpKind::Sum, {ti(int8, {3}, {100, 100, 100})}, axes({0})))[0], 44);
  // Wide accumulation: -100 + 100 + 100 + -100 is 0 even though a partial sum
  // leaves int8's range.
  EXPECT_EQ(i64s(run(OpKind::Sum, {ti(int8, {4}, {100, 100, -100, -100})}, axes({0})))[0], 0);
  EXPECT_EQ(u64s(run(OpKind::Sum, {tu(uint8, {2}, {200, 100})}, axes({0})))[0], 44u);
  EXPECT_EQ(i64s(run(OpKind::Prod, {ti(int16, {2}, {300, 300})}, axes({0})))[0], 24464);
  EXPECT_EQ(i64s(run(OpKind::Sum, {ti(bool_, {3}, {1, 1, 0})}, axes({0})))[0], 1);
}

TEST(InterpreterReduce, NanPropagates) {
  auto x = tf(float32, {2, 3}, {1, kNan, 3, 4, 5, 6});
  expect_same(f64s(run(OpKind::Max, {x}, axes({1}))), {kNan, 6});
  expect_same(f64s(run(OpKind::Min, {x}, axes({1}))), {kNan, 4});
  expect_same(f64s(run(OpKind::Sum, {x}, axes({1}))), {kNan, 15});
  auto y = tf(float32, {3}, {kNan, -kInf, 2});
  EXPECT_TRUE(std::isnan(f64s(run(OpKind::Min, {y}, axes({0})))[0]));
}

TEST(InterpreterReduce, EmptyReductionsGiveIdentities) {
  auto f = tf(float32, {0, 3}, {});
  auto s = f64s(run(OpKind::Sum, {f}, axes({0})));
  expect_same(s, {0, 0, 0});
  EXPECT_FALSE(std::signbit(s[0]));
  expect_same(f64s(run(OpKind::Prod, {f}, axes({0}))), {1, 1, 1});
  expect_same(f64s(run(OpKind::Max, {f}, axes({0}))), {-kInf, -kInf, -kInf});
  expect_same(f64s(run(OpKind::Min, {f}, axes({0}))), {kInf, kInf, kInf});
  // reducing the non-empty axis leaves an empty result
  EXPECT_EQ(run(OpKind::Sum, {f}, axes({1})).type.shape, (Shape{0}));
  EXPECT_EQ(i64s(run(OpKind::Max, {ti(int8, {0}, {})}, axes({0})))[0], -128);
  EXPECT_EQ(i64s(run(OpKind::Min, {ti(int8, {0}, {})}, axes({0})))[0], 127);
  EXPECT_EQ(i64s(run(OpKind::Max, {ti(int64, {0}, {})}, axes({0})))[0],
            std::numeric_limits<int64_t>::min());
  EXPECT_EQ(u64s(run(OpKind::Max, {tu(uint8, {0}, {})}, axes({0})))[0], 0u);
  EXPECT_EQ(u64s(run(OpKind::Min, {tu(uint8, {0}, {})}, axes({0})))[0], 255u);
  EXPECT_EQ(u64s(run(OpKind::Min, {tu(uint64, {0}, {})}, axes({0})))[0], ~uint64_t(0));
  EXPECT_EQ(i64s(run(OpKind::Sum, {ti(int32, {2, 0}, {})}, axes({1}))),
            (std::vector<int64_t>{0, 0}));
  EXPECT_EQ(i64s(run(OpKind::Prod, {ti(int32, {0}, {})}, axes({0})))[0], 1);
  EXPECT_EQ(i64s(run(OpKind::Max, {ti(bool_, {0}, {})}, axes({0})))[0], 0);
  EXPECT_EQ(i64s(run(OpKind::Min, {ti(bool_, {0}, {})}, axes({0})))[0], 1);
  EXPECT_EQ(i64s(run(OpKind::All, {ti(bool_, {0}, {})}, axes({0})))[0], 1);
  EXPECT_EQ(i64s(run(OpKind::Any, {ti(bool_, {0}, {})}, axes({0})))[0], 0);
  EXPECT_EQ(c128s(run(OpKind::Prod, {tc({0}, {})}, axes({0})))[0], cplx(1, 0));
}

TEST(InterpreterReduce, SignedZeroSum) {
  auto s = f64s(run(OpKind::Sum, {tf(float32, {1}, {-0.0})}, axes({0})));
  EXPECT_TRUE(std::signbit(s[0]));  // -0 stays -0, as NumPy
}

TEST(InterpreterReduce, FloatSumsAccumulateWide) {
  // 1e7 copies of 0.1f: the double sum is 1000000.0149..., which rounds to
  // exactly 1e6 in float32 (a float32 accumulator drifts to about 1.09e6).
  const int64_t n = 10000000;
  Tensor x = alloc(float32, {int32_t(n)});
  float* p = static_cast<float*>(x.buffer->data());
  for (int64_t i = 0; i < n; ++i) p[i] = 0.1f;
  EXPECT_EQ(f64s(run(OpKind::Sum, {x}, axes({0})))[0], 1000000.0);
  // float16: 4096 ones sum to 4096 (a float16 accumulator stalls at 2048).
  Tensor h = tf(float16, {4096}, std::vector<double>(4096, 1.0));
  EXPECT_EQ(f64s(run(OpKind::Sum, {h}, axes({0})))[0], 4096.0);
  // complex sums
  EXPECT_EQ(c128s(run(OpKind::Sum, {tc({3}, {{1, 2}, {3, 4}, {-1, 0.5}})}, axes({0})))[0],
            cplx(3, 6.5));
  EXPECT_EQ(c128s(run(OpKind::Prod, {tc({2}, {{1, 2}, {3, 4}})}, axes({0})))[0], cplx(-5, 10));
}

TEST(InterpreterReduce, ArgmaxArgmin) {
  auto x = tf(float32, {2, 4}, {3, 5, 5, 1, 2, 1, 1, 7});
  auto am = run(OpKind::Argmax, {x}, axis(1));
  EXPECT_EQ(am.type.dtype, uint32);
  EXPECT_EQ(u64s(am), (std::vector<uint64_t>{1, 3}));  // first of the tied 5s
  EXPECT_EQ(u64s(run(OpKind::Argmin, {x}, axis(1))), (std::vector<uint64_t>{3, 1}));
  EXPECT_EQ(u64s(run(OpKind::Argmax, {x}, axis(0))), (std::vector<uint64_t>{0, 0, 0, 1}));
  EXPECT_EQ(u64s(run(OpKind::Argmin, {x}, axis(0))), (std::vector<uint64_t>{1, 1, 1, 0}));
  // nan is the extreme both ways; the first nan wins
  auto n = tf(float64, {5}, {1, 9, kNan, 0, kNan});
  EXPECT_EQ(u64s(run(OpKind::Argmax, {n}, axis(0)))[0], 2u);
  EXPECT_EQ(u64s(run(OpKind::Argmin, {n}, axis(0)))[0], 2u);
  auto i = ti(int8, {4}, {-3, 7, -9, 7});
  EXPECT_EQ(u64s(run(OpKind::Argmax, {i}, axis(0)))[0], 1u);
  EXPECT_EQ(u64s(run(OpKind::Argmin, {i}, axis(0)))[0], 2u);
  auto u = tu(uint64, {3}, {1, uint64_t(1) << 63, 2});
  EXPECT_EQ(u64s(run(OpKind::Argmax, {u}, axis(0)))[0], 1u);
  EXPECT_EQ(u64s(run(OpKind::Argmin, {u}, axis(0)))[0], 0u);
  // empty axis -> 0
  EXPECT_EQ(u64s(run(OpKind::Argmax, {tf(float32, {2, 0}, {})}, axis(1))),
            (std::vector<uint64_t>{0, 0}));
}

// --- data movement ----------------------------------------------------------

TEST(InterpreterMovement, ReshapeTranspose) {
  auto x = ti(int32, {2, 3}, {1, 2, 3, 4, 5, 6});
  auto r = run(OpKind::Reshape, {x}, {}, {int32, {3, 2}});
  EXPECT_EQ(r.type.shape, (Shape{3, 2}));
  EXPECT_EQ(i64s(r), (std::vector<int64_t>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(i64s(run(OpKind::Transpose, {x}, {{"perm", std::vector<int64_t>{1, 0}}})),
            (std::vector<int64_t>{1, 4, 2, 5, 3, 6}));
  // [2,3,4] with perm [2,0,1]: result [4,2,3], out[i,j,k] = x[j,k,i]
  std::vector<int64_t> v(24);
  for (int i = 0; i < 24; ++i) v[i] = i;
  auto y = run(OpKind::Transpose, {ti(int16, {2, 3, 4}, v)},
               {{"perm", std::vector<int64_t>{2, 0, 1}}});
  EXPECT_EQ(y.type.shape, (Shape{4, 2, 3}));
  EXPECT_EQ(i64s(y), (std::vector<int64_t>{0, 4, 8, 12, 16, 20, 1, 5, 9, 13, 17, 21,
                                           2, 6, 10, 14, 18, 22, 3, 7, 11, 15, 19, 23}));
}

TEST(InterpreterMovement, Broadcast) {
  auto row = ti(int32, {3}, {1, 2, 3});
  EXPECT_EQ(i64s(run(OpKind::Broadcast, {row}, {}, {int32, {2, 3}})),
            (std::vector<int64_t>{1, 2, 3, 1, 2, 3}));
  auto col = ti(int32, {2, 1}, {7, 8});
  EXPECT_EQ(i64s(run(OpKind::Broadcast, {col}, {}, {int32, {2, 3}})),
            (std::vector<int64_t>{7, 7, 7, 8, 8, 8}));
  EXPECT_EQ(i64s(run(OpKind::Broadcast, {col}, {}, {int32, {2, 2, 2}})),
            (std::vector<int64_t>{7, 7, 8, 8, 7, 7, 8, 8}));
  auto s = ti(int32, {}, {5});
  EXPECT_EQ(i64s(run(OpKind::Broadcast, {s}, {}, {int32, {2, 2}})),
            (std::vector<int64_t>{5, 5, 5, 5}));
  // size-0 and size-1 dims
  EXPECT_EQ(run(OpKind::Broadcast, {ti(int32, {1, 3}, {1, 2, 3})}, {}, {int32, {0, 3}}).type.size(),
            0);
  EXPECT_EQ(run(OpKind::Broadcast, {col}, {}, {int32, {2, 0}}).type.shape, (Shape{2, 0}));
  EXPECT_EQ(run(OpKind::Broadcast, {ti(int32, {0}, {})}, {}, {int32, {3, 0}}).type.shape,
            (Shape{3, 0}));
  EXPECT_EQ(i64s(run(OpKind::Broadcast, {ti(int32, {1, 1}, {4})}, {}, {int32, {1, 1}})),
            (std::vector<int64_t>{4}));
  auto c = tc({1}, {{1, -1}});
  EXPECT_EQ(c128s(run(OpKind::Broadcast, {c}, {}, {complex64, {2}})),
            (std::vector<cplx>{{1, -1}, {1, -1}}));
}

Attrs slice_attrs(std::vector<int64_t> start, std::vector<int64_t> stop,
                  std::vector<int64_t> strides) {
  return {{"start", std::move(start)}, {"stop", std::move(stop)}, {"strides", std::move(strides)}};
}

TEST(InterpreterMovement, Slice) {
  std::vector<int64_t> v(10);
  for (int i = 0; i < 10; ++i) v[i] = i;
  auto x = ti(int32, {10}, v);
  EXPECT_EQ(i64s(run(OpKind::Slice, {x}, slice_attrs({2}, {7}, {2}))),
            (std::vector<int64_t>{2, 4, 6}));
  EXPECT_EQ(i64s(run(OpKind::Slice, {x}, slice_attrs({8}, {1}, {-3}))),
            (std::vector<int64_t>{8, 5, 2}));
  EXPECT_EQ(i64s(run(OpKind::Slice, {x}, slice_attrs({9}, {-1}, {-1}))),
            (std::vector<int64_t>{9, 8, 7, 6, 5, 4, 3, 2, 1, 0}));
  EXPECT_EQ(run(OpKind::Slice, {x}, slice_attrs({3}, {3}, {1})).type.shape, (Shape{0}));
  // 3x4: rows 2,1,0 and columns 3,1
  std::vector<int64_t> m(12);
  for (int i = 0; i < 12; ++i) m[i] = i;
  auto y = run(OpKind::Slice, {ti(int64, {3, 4}, m)}, slice_attrs({2, 3}, {-1, -1}, {-1, -2}));
  EXPECT_EQ(y.type.shape, (Shape{3, 2}));
  EXPECT_EQ(i64s(y), (std::vector<int64_t>{11, 9, 7, 5, 3, 1}));
}

TEST(InterpreterMovement, SliceUpdate) {
  auto src = ti(int32, {6}, {0, 1, 2, 3, 4, 5});
  auto upd = ti(int32, {3}, {100, 200, 300});
  auto r = run(OpKind::SliceUpdate, {src, upd}, slice_attrs({5}, {-1}, {-2}));
  EXPECT_EQ(i64s(r), (std::vector<int64_t>{0, 300, 2, 200, 4, 100}));
  EXPECT_EQ(i64s(src), (std::vector<int64_t>{0, 1, 2, 3, 4, 5}));  // input untouched
  auto m = tf(float32, {2, 3}, {1, 2, 3, 4, 5, 6});
  auto u = tf(float32, {2, 1}, {-1, -2});
  expect_same(f64s(run(OpKind::SliceUpdate, {m, u}, slice_attrs({0, 1}, {2, 2}, {1, 1}))),
              {1, -1, 3, 4, -2, 6});
}

TEST(InterpreterMovement, Concatenate) {
  auto a = ti(int32, {2, 1}, {1, 2});
  auto b = ti(int32, {2, 0}, {});
  auto c = ti(int32, {2, 2}, {3, 4, 5, 6});
  auto r = run(OpKind::Concatenate, {a, b, c}, axis(1));
  EXPECT_EQ(r.type.shape, (Shape{2, 3}));
  EXPECT_EQ(i64s(r), (std::vector<int64_t>{1, 3, 4, 2, 5, 6}));
  auto s = run(OpKind::Concatenate, {c, c}, axis(0));
  EXPECT_EQ(i64s(s), (std::vector<int64_t>{3, 4, 5, 6, 3, 4, 5, 6}));
  EXPECT_EQ(i64s(run(OpKind::Concatenate, {a}, axis(0))), (std::vector<int64_t>{1, 2}));
}

TEST(InterpreterMovement, Pad) {
  auto x = tf(float32, {2, 2}, {1, 2, 3, 4});
  auto v = tf(float32, {}, {9});
  auto r = run(OpKind::Pad, {x, v},
               {{"low", std::vector<int64_t>{1, 0}}, {"high", std::vector<int64_t>{0, 2}}});
  EXPECT_EQ(r.type.shape, (Shape{3, 4}));
  expect_same(f64s(r), {9, 9, 9, 9, 1, 2, 9, 9, 3, 4, 9, 9});
  auto e = run(OpKind::Pad, {tf(float32, {0}, {}), v},
               {{"low", std::vector<int64_t>{1}}, {"high", std::vector<int64_t>{1}}});
  expect_same(f64s(e), {9, 9});
}

TEST(InterpreterMovement, TakeWrapsAndClamps) {
  auto x = ti(int32, {4}, {10, 20, 30, 40});
  auto idx = ti(int32, {5}, {-1, 0, 5, -7, 2});
  EXPECT_EQ(i64s(run(OpKind::Take, {x, idx}, axis(0))),
            (std::vector<int64_t>{40, 10, 40, 10, 30}));
  EXPECT_EQ(i64s(run(OpKind::Take, {x, tu(uint8, {2}, {255, 1})}, axis(0))),
            (std::vector<int64_t>{40, 20}));
  EXPECT_EQ(i64s(run(OpKind::Take, {x, tu(uint64, {1}, {~uint64_t(0)})}, axis(0))),
            (std::vector<int64_t>{40}));
  // axis 1 with 2-d indices: result [2, 2, 2]
  auto m = ti(int32, {2, 3}, {1, 2, 3, 4, 5, 6});
  auto r = run(OpKind::Take, {m, ti(int64, {2, 2}, {2, 0, 1, 1})}, axis(1));
  EXPECT_EQ(r.type.shape, (Shape{2, 2, 2}));
  EXPECT_EQ(i64s(r), (std::vector<int64_t>{3, 1, 2, 2, 6, 4, 5, 5}));
  auto r0 = run(OpKind::Take, {m, ti(int8, {}, {-1})}, axis(0));
  EXPECT_EQ(r0.type.shape, (Shape{3}));
  EXPECT_EQ(i64s(r0), (std::vector<int64_t>{4, 5, 6}));
  // empty axis: fine while nothing is read, an error otherwise
  auto empty = tf(float32, {0}, {});
  EXPECT_EQ(run(OpKind::Take, {empty, ti(int32, {0}, {})}, axis(0)).type.size(), 0);
  EXPECT_THROW(run(OpKind::Take, {empty, ti(int32, {1}, {0})}, axis(0)), std::invalid_argument);
}

TEST(InterpreterMovement, TakeAlongAxis) {
  auto m = ti(int32, {2, 3}, {1, 2, 3, 4, 5, 6});
  auto r = run(OpKind::TakeAlongAxis, {m, ti(int32, {2, 2}, {2, -1, 0, 9})}, axis(1));
  EXPECT_EQ(i64s(r), (std::vector<int64_t>{3, 3, 4, 6}));
  auto s = run(OpKind::TakeAlongAxis, {m, ti(int64, {1, 3}, {1, 0, 1})}, axis(0));
  EXPECT_EQ(s.type.shape, (Shape{1, 3}));
  EXPECT_EQ(i64s(s), (std::vector<int64_t>{4, 2, 6}));
  EXPECT_THROW(run(OpKind::TakeAlongAxis, {tf(float32, {2, 0}, {}), ti(int32, {2, 1}, {0, 0})},
                   axis(1)),
               std::invalid_argument);
}

TEST(InterpreterMatmul, Basic) {
  auto a = tf(float32, {2, 3}, {1, 2, 3, 4, 5, 6});
  auto b = tf(float32, {3, 2}, {7, 8, 9, 10, 11, 12});
  expect_same(f64s(run(OpKind::Matmul, {a, b})), {58, 64, 139, 154});
  auto c = tf(float64, {2, 1, 2}, {1, 2, -1, 0.5});
  auto d = tf(float64, {2, 2, 1}, {3, 4, 2, 4});
  expect_same(f64s(run(OpKind::Matmul, {c, d})), {11, 0});
  // k == 0: zeros
  expect_same(f64s(run(OpKind::Matmul, {tf(float32, {2, 0}, {}), tf(float32, {0, 3}, {})})),
              {0, 0, 0, 0, 0, 0});
  // float16 accumulates wide and rounds once: 2048 + 1 + 1 = 2050 (a float16
  // accumulator would give 2048, as 2049 ties to even).
  auto h = tf(float16, {1, 3}, {2048, 1, 1});
  auto o = tf(float16, {3, 1}, {1, 1, 1});
  EXPECT_EQ(f64s(run(OpKind::Matmul, {h, o}))[0], 2050.0);
}

// --- whole functions --------------------------------------------------------

TEST(InterpreterFunction, ConstantsChainsAndOutputs) {
  Function f;
  int x = f.add_input({float32, {2}});
  const float cdata[] = {1.5f, -2.0f};
  int c = f.add_op(make_constant({float32, {2}}, cdata));
  int s = f.add_op(make_op(OpKind::Add, {x, c}, {float32, {2}}));
  int dead = f.add_op(make_op(OpKind::Exp, {s}, {float32, {2}}));
  (void)dead;
  int m = f.add_op(make_op(OpKind::Multiply, {s, s}, {float32, {2}}));
  int r = f.add_op(make_op(OpKind::Sum, {m}, {float32, {}}, axes({0})));
  f.outputs = {r, x, m, x, c};
  auto in = tf(float32, {2}, {0.5, 4});
  auto outs = interpret(f, {in});
  ASSERT_EQ(outs.size(), 5u);
  // s = [2, 2]; m = [4, 4]; r = 8
  expect_same(f64s(outs[0]), {8});
  expect_same(f64s(outs[1]), {0.5, 4});
  expect_same(f64s(outs[2]), {4, 4});
  expect_same(f64s(outs[3]), {0.5, 4});
  expect_same(f64s(outs[4]), {1.5, -2});
  EXPECT_EQ(outs[1].buffer, in.buffer);  // an output that is an input is the input
}

TEST(InterpreterFunction, LongChainRuns) {
  // 1000 chained adds: intermediate tensors are released as they die.
  Function f;
  int v = f.add_input({int32, {1000}});
  int x = v;
  for (int i = 0; i < 1000; ++i) v = f.add_op(make_op(OpKind::Add, {v, x}, {int32, {1000}}));
  f.outputs = {v};
  auto out = interpret(f, {ti(int32, {1000}, std::vector<int64_t>(1000, 3))});
  EXPECT_EQ(i64s(out[0]), std::vector<int64_t>(1000, 3003));
}

TEST(InterpreterFunction, NoInputs) {
  Function f;
  const int32_t d[] = {7};
  int c = f.add_op(make_constant({int32, {}}, d));
  f.outputs = {f.add_op(make_op(OpKind::Negative, {c}, {int32, {}}))};
  EXPECT_EQ(i64s(interpret(f, {})[0]), (std::vector<int64_t>{-7}));
}

TEST(InterpreterFunction, RejectsMismatchedInputs) {
  Function f;
  int x = f.add_input({float32, {2}});
  f.outputs = {f.add_op(make_op(OpKind::Exp, {x}, {float32, {2}}))};
  EXPECT_THROW(interpret(f, {}), std::invalid_argument);
  EXPECT_THROW(interpret(f, {tf(float64, {2}, {1, 2})}), std::invalid_argument);
  EXPECT_THROW(interpret(f, {tf(float32, {3}, {1, 2, 3})}), std::invalid_argument);
  Tensor nobuf{{float32, {2}}, nullptr};
  EXPECT_THROW(interpret(f, {nobuf}), std::invalid_argument);
  try {
    interpret(f, {tf(float32, {1, 2}, {1, 2})});
    FAIL() << "expected an exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("f32[2]"), std::string::npos) << e.what();
  }
}

TEST(InterpreterOp, SingleOpsAndMalformedOps) {
  Op add = make_op(OpKind::Add, {0, 1}, {int32, {2}});
  auto r = interpret_op(add, {ti(int32, {2}, {1, 2}), ti(int32, {2}, {10, 20})});
  EXPECT_EQ(i64s(r), (std::vector<int64_t>{11, 22}));
  Op bad = make_op(OpKind::Add, {0, 1}, {int32, {3}});  // declared type is wrong
  EXPECT_THROW(interpret_op(bad, {ti(int32, {2}, {1, 2}), ti(int32, {2}, {1, 2})}),
               std::invalid_argument);
  EXPECT_THROW(interpret_op(add, {ti(int32, {2}, {1, 2})}), std::invalid_argument);
  Op sq = make_op(OpKind::Sqrt, {0}, {int32, {2}});  // sqrt of ints is not defined
  EXPECT_THROW(interpret_op(sq, {ti(int32, {2}, {1, 2})}), std::invalid_argument);
}

TEST(InterpreterPerf, MillionElementAdd) {
  const int32_t n = 1 << 20;
  Tensor a = alloc(float32, {n}), b = alloc(float32, {n});
  for (int32_t i = 0; i < n; ++i) {
    static_cast<float*>(a.buffer->data())[i] = float(i);
    static_cast<float*>(b.buffer->data())[i] = 0.5f;
  }
  auto t0 = std::chrono::steady_clock::now();
  auto r = run(OpKind::Add, {a, b});
  auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(static_cast<const float*>(r.buffer->data())[n - 1], float(n - 1) + 0.5f);
  // Generous: also holds for unoptimized and sanitizer builds.
  EXPECT_LT(ms, 2000.0);
  std::printf("1M-element float32 add: %.1f ms\n", ms);
}

}  // namespace
