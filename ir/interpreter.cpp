// The reference interpreter. Every op is computed element by element in the
// wide domain of its operand dtype (element.h) and rounded once when stored.
// Elementwise ops are flat loops (all tensors are contiguous); data movement
// and reductions walk index spaces with for_each2(), which tracks two linear
// offsets with arbitrary (possibly zero or negative) strides.
#include "ir/interpreter.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <complex>
#include <cstring>
#include <limits>
#include <map>
#include <numbers>
#include <stdexcept>
#include <string>

#include "ir/custom.h"
#include "ir/element.h"
#include "ir/type_rules.h"

namespace kiln::ir {

namespace {

using cplx = std::complex<double>;
constexpr double kNan = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

[[noreturn]] void fail(OpKind k, const std::string& msg) {
  throw std::invalid_argument(std::string("[") + op_name(k) + "] " + msg);
}
[[noreturn]] void unsupported(OpKind k, Dtype t) {
  fail(k, "is not defined for " + dtype_name(t));
}

Tensor make_tensor(const Type& t) { return {t, runtime::allocate(size_t(t.nbytes()))}; }

const char* cdata(const Tensor& t) { return static_cast<const char*>(t.buffer->data()); }
char* mdata(Tensor& t) { return static_cast<char*>(t.buffer->data()); }

// Visits every index of `shape` in row-major order, calling f(a, b) with
// a = a0 + sum(idx * sa) and b = b0 + sum(idx * sb).
template <class F>
void for_each2(const Shape& shape, const std::vector<int64_t>& sa, const std::vector<int64_t>& sb,
               int64_t a0, int64_t b0, F&& f) {
  if (shape_size(shape) == 0) return;
  const int r = int(shape.size());
  if (r == 0) return f(a0, b0);
  std::vector<int64_t> idx(r, 0);
  const int64_t inner = shape[r - 1], ia = sa[r - 1], ib = sb[r - 1];
  int64_t a = a0, b = b0;
  for (;;) {
    for (int64_t j = 0; j < inner; ++j) f(a + j * ia, b + j * ib);
    int d = r - 2;
    for (; d >= 0; --d) {
      a += sa[d];
      b += sb[d];
      if (++idx[d] < shape[d]) break;
      a -= sa[d] * shape[d];
      b -= sb[d] * shape[d];
      idx[d] = 0;
    }
    if (d < 0) return;
  }
}

// Copies every element of `shape` from src (offsets sa) to dst (offsets sb).
void copy_strided(const char* src, char* dst, size_t esize, const Shape& shape,
                  const std::vector<int64_t>& ss, const std::vector<int64_t>& ds, int64_t s0,
                  int64_t d0) {
  for_each2(shape, ss, ds, s0, d0, [&](int64_t s, int64_t d) {
    std::memcpy(dst + d * int64_t(esize), src + s * int64_t(esize), esize);
  });
}

// --- integer helpers --------------------------------------------------------

int bits_of(Dtype t) { return t == bool_ ? 1 : 8 * t.size(); }

int64_t int_highest(Dtype t) {
  return t == bool_ ? 1 : int64_t((uint64_t(1) << (bits_of(t) - 1)) - 1);
}
int64_t int_lowest(Dtype t) { return t == bool_ ? 0 : -int_highest(t) - 1; }
uint64_t uint_highest(Dtype t) {
  return bits_of(t) == 64 ? ~uint64_t(0) : (uint64_t(1) << bits_of(t)) - 1;
}

// Wrapping signed arithmetic, done in uint64 to avoid undefined behaviour.
int64_t wadd(int64_t a, int64_t b) { return int64_t(uint64_t(a) + uint64_t(b)); }
int64_t wsub(int64_t a, int64_t b) { return int64_t(uint64_t(a) - uint64_t(b)); }
int64_t wmul(int64_t a, int64_t b) { return int64_t(uint64_t(a) * uint64_t(b)); }

uint64_t upow(uint64_t base, uint64_t e) {
  uint64_t r = 1;
  while (e) {
    if (e & 1) r *= base;
    base *= base;
    e >>= 1;
  }
  return r;
}

// --- floating helpers -------------------------------------------------------

// erfinv in double: Winitzki's closed-form approximation (relative error
// about 2e-3), refined by Halley steps. Near |x| = 1 the residual is taken
// through erfc with the exact 1 - |x|, so the tail keeps full accuracy.
double erfinv(double x) {
  if (std::isnan(x) || x < -1 || x > 1) return kNan;
  if (x == 1) return kInf;
  if (x == -1) return -kInf;
  if (x == 0) return x;
  const double ax = std::fabs(x);
  const double a = 0.147;
  const double l = std::log((1 - ax) * (1 + ax));
  const double t = 2 / (std::numbers::pi * a) + l / 2;
  double y = std::sqrt(std::sqrt(t * t - l / a) - t);
  const double c = 2 / std::sqrt(std::numbers::pi);
  for (int it = 0; it < 3; ++it) {
    double f = ax <= 0.5 ? std::erf(y) - ax : (1 - ax) - std::erfc(y);
    double dfdy = c * std::exp(-y * y);
    if (f == 0 || dfdy == 0) break;
    double step = f / dfdy;
    y -= step / (1 + y * step);  // Halley: f'' = -2y f'
  }
  return std::copysign(y, x);
}

// The formula of the JIT (codegen/llvm/math.cpp), float inputs in double
// as there: max + log1p(exp(-|a - b|)); equal arguments (also equal
// infinities) give a + ln2 with ln2 as head + tail, so that
// logaddexp(-ln2, -ln2) is ln2 - fl(ln2) = 2.3e-17, not 0.
double logaddexp(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return kNan;
  if (a == b) return (a + 0x1.62e42fefa39efp-1) + 0x1.abc9e3b39803fp-56;
  double m = std::max(a, b);
  return m + std::log1p(std::exp(-std::fabs(a - b)));
}

// Complex power; exact repeated squaring for small integral real exponents
// (as NumPy), so (1+1j)**2 is exactly 2j.
cplx cpow(cplx a, cplx b) {
  if (b == cplx(0, 0)) return {1, 0};
  if (a == cplx(0, 0)) {
    if (b.imag() == 0 && b.real() > 0) return {0, 0};
    return {kNan, kNan};
  }
  if (b.imag() == 0 && b.real() == std::trunc(b.real()) && std::fabs(b.real()) <= 100) {
    int64_t n = int64_t(b.real());
    uint64_t e = uint64_t(n < 0 ? -n : n);
    cplx r(1, 0), p = a;
    while (e) {
      if (e & 1) r *= p;
      p *= p;
      e >>= 1;
    }
    return n < 0 ? cplx(1, 0) / r : r;
  }
  return std::pow(a, b);
}

// --- unary elementwise, one function per domain -----------------------------

int64_t unary_int(OpKind k, Dtype t, int64_t v) {
  switch (k) {
    case OpKind::Abs: return v < 0 ? wsub(0, v) : v;
    case OpKind::Negative: return wsub(0, v);
    case OpKind::Sign: return (v > 0) - (v < 0);
    case OpKind::Square: return wmul(v, v);
    case OpKind::Floor: case OpKind::Ceil: case OpKind::Round: return v;
    case OpKind::LogicalNot: return !v;
    case OpKind::BitwiseInvert: return t == bool_ ? !v : ~v;
    default: unsupported(k, t);
  }
}

uint64_t unary_uint(OpKind k, Dtype t, uint64_t v) {
  switch (k) {
    case OpKind::Abs: case OpKind::Floor: case OpKind::Ceil: case OpKind::Round: return v;
    case OpKind::Negative: return 0 - v;
    case OpKind::Sign: return v != 0;
    case OpKind::Square: return v * v;
    case OpKind::BitwiseInvert: return ~v;
    default: unsupported(k, t);
  }
}

double unary_float(OpKind k, Dtype t, double v) {
  switch (k) {
    case OpKind::Abs: return std::fabs(v);
    case OpKind::Negative: return -v;
    case OpKind::Sign: return std::isnan(v) ? v : double((v > 0) - (v < 0));
    case OpKind::Square: return v * v;
    case OpKind::Sqrt: return std::sqrt(v);
    case OpKind::Rsqrt: return 1 / std::sqrt(v);
    case OpKind::Exp: return std::exp(v);
    case OpKind::Expm1: return std::expm1(v);
    case OpKind::Log: return std::log(v);
    case OpKind::Log2: return std::log2(v);
    case OpKind::Log10: return std::log10(v);
    case OpKind::Log1p: return std::log1p(v);
    case OpKind::Sin: return std::sin(v);
    case OpKind::Cos: return std::cos(v);
    case OpKind::Tan: return std::tan(v);
    case OpKind::Arcsin: return std::asin(v);
    case OpKind::Arccos: return std::acos(v);
    case OpKind::Arctan: return std::atan(v);
    case OpKind::Sinh: return std::sinh(v);
    case OpKind::Cosh: return std::cosh(v);
    case OpKind::Tanh: return std::tanh(v);
    case OpKind::Arcsinh: return std::asinh(v);
    case OpKind::Arccosh: return std::acosh(v);
    case OpKind::Arctanh: return std::atanh(v);
    case OpKind::Sigmoid: return 1 / (1 + std::exp(-v));
    case OpKind::Erf: return std::erf(v);
    case OpKind::Erfinv: return erfinv(v);
    case OpKind::Floor: return std::floor(v);
    case OpKind::Ceil: return std::ceil(v);
    case OpKind::Round: return std::nearbyint(v);  // half to even
    default: unsupported(k, t);
  }
}

cplx unary_complex(OpKind k, Dtype t, cplx v) {
  switch (k) {
    case OpKind::Abs: return std::abs(v);
    case OpKind::Negative: return -v;
    case OpKind::Sign: return v == cplx(0, 0) ? cplx(0, 0) : v / std::abs(v);
    case OpKind::Square: return v * v;
    case OpKind::Sqrt: return std::sqrt(v);
    case OpKind::Rsqrt: return 1.0 / std::sqrt(v);
    case OpKind::Exp: return std::exp(v);
    case OpKind::Log: return std::log(v);
    case OpKind::Sin: return std::sin(v);
    case OpKind::Cos: return std::cos(v);
    case OpKind::Tan: return std::tan(v);
    case OpKind::Sinh: return std::sinh(v);
    case OpKind::Cosh: return std::cosh(v);
    case OpKind::Tanh: return std::tanh(v);
    default: unsupported(k, t);
  }
}

// --- binary elementwise and comparisons -------------------------------------

int64_t binary_int(OpKind k, Dtype t, int64_t a, int64_t b) {
  switch (k) {
    case OpKind::Add: return wadd(a, b);
    case OpKind::Subtract: return wsub(a, b);
    case OpKind::Multiply: return wmul(a, b);
    case OpKind::FloorDivide: {
      if (b == 0) return 0;
      if (b == -1) return wsub(0, a);  // INT64_MIN / -1 wraps
      int64_t q = a / b;
      return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
    }
    case OpKind::Remainder: {
      if (b == 0 || b == -1) return 0;
      int64_t r = a % b;
      return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r;
    }
    case OpKind::Power:
      if (b < 0) return a == 1 ? 1 : a == -1 ? ((b & 1) ? -1 : 1) : 0;
      return int64_t(upow(uint64_t(a), uint64_t(b)));
    case OpKind::Maximum: return std::max(a, b);
    case OpKind::Minimum: return std::min(a, b);
    case OpKind::LogicalAnd: return a && b;
    case OpKind::LogicalOr: return a || b;
    case OpKind::BitwiseAnd: return a & b;
    case OpKind::BitwiseOr: return a | b;
    case OpKind::BitwiseXor: return a ^ b;
    case OpKind::LeftShift:
      return (b < 0 || b >= bits_of(t)) ? 0 : int64_t(uint64_t(a) << b);
    case OpKind::RightShift:
      return (b < 0 || b >= bits_of(t)) ? (a < 0 ? -1 : 0) : a >> b;
    case OpKind::Equal: return a == b;
    case OpKind::NotEqual: return a != b;
    case OpKind::Less: return a < b;
    case OpKind::LessEqual: return a <= b;
    case OpKind::Greater: return a > b;
    case OpKind::GreaterEqual: return a >= b;
    default: unsupported(k, t);
  }
}

uint64_t binary_uint(OpKind k, Dtype t, uint64_t a, uint64_t b) {
  switch (k) {
    case OpKind::Add: return a + b;
    case OpKind::Subtract: return a - b;
    case OpKind::Multiply: return a * b;
    case OpKind::FloorDivide: return b == 0 ? 0 : a / b;
    case OpKind::Remainder: return b == 0 ? 0 : a % b;
    case OpKind::Power: return upow(a, b);
    case OpKind::Maximum: return std::max(a, b);
    case OpKind::Minimum: return std::min(a, b);
    case OpKind::BitwiseAnd: return a & b;
    case OpKind::BitwiseOr: return a | b;
    case OpKind::BitwiseXor: return a ^ b;
    case OpKind::LeftShift: return b >= uint64_t(bits_of(t)) ? 0 : a << b;
    case OpKind::RightShift: return b >= uint64_t(bits_of(t)) ? 0 : a >> b;
    case OpKind::Equal: return a == b;
    case OpKind::NotEqual: return a != b;
    case OpKind::Less: return a < b;
    case OpKind::LessEqual: return a <= b;
    case OpKind::Greater: return a > b;
    case OpKind::GreaterEqual: return a >= b;
    default: unsupported(k, t);
  }
}

double binary_float(OpKind k, Dtype t, double a, double b) {
  switch (k) {
    case OpKind::Add: return a + b;
    case OpKind::Subtract: return a - b;
    case OpKind::Multiply: return a * b;
    case OpKind::Divide: return a / b;
    case OpKind::FloorDivide: return std::floor(a / b);
    case OpKind::Remainder: {
      double r = std::fmod(a, b);
      if (r != 0 && ((r < 0) != (b < 0))) r += b;
      return r == 0 ? std::copysign(0.0, b) : r;
    }
    case OpKind::Power: return std::pow(a, b);
    case OpKind::Maximum: return std::isnan(a) || a >= b ? a : b;  // b may be nan
    case OpKind::Minimum: return std::isnan(a) || a <= b ? a : b;
    case OpKind::Arctan2: return std::atan2(a, b);
    case OpKind::LogAddExp: return logaddexp(a, b);
    case OpKind::Equal: return a == b;
    case OpKind::NotEqual: return a != b;
    case OpKind::Less: return a < b;
    case OpKind::LessEqual: return a <= b;
    case OpKind::Greater: return a > b;
    case OpKind::GreaterEqual: return a >= b;
    default: unsupported(k, t);
  }
}

cplx binary_complex(OpKind k, Dtype t, cplx a, cplx b) {
  switch (k) {
    case OpKind::Add: return a + b;
    case OpKind::Subtract: return a - b;
    case OpKind::Multiply: return a * b;
    case OpKind::Divide: return a / b;
    case OpKind::Power: return cpow(a, b);
    case OpKind::Equal: return a == b;
    case OpKind::NotEqual: return a != b;
    default: unsupported(k, t);
  }
}

// Result dtype of an elementwise op is op.type.dtype (bool for comparisons,
// float32 for abs of complex); operands share one dtype.
Tensor elementwise(const Op& op, const std::vector<Tensor>& in) {
  Tensor out = make_tensor(op.type);
  const OpKind k = op.kind;
  const Dtype it = in[0].type.dtype, ot = op.type.dtype;
  const int64_t n = op.type.size();
  const void* x = in[0].buffer->data();
  const void* y = in.size() > 1 ? in[1].buffer->data() : nullptr;
  void* o = out.buffer->data();
  const bool unary = in.size() == 1;
  switch (domain_of(it)) {
    case Domain::Int:
      for (int64_t i = 0; i < n; ++i) {
        int64_t a = load_i64(it, x, i);
        store_i64(ot, o, i, unary ? unary_int(k, it, a) : binary_int(k, it, a, load_i64(it, y, i)));
      }
      break;
    case Domain::UInt:
      for (int64_t i = 0; i < n; ++i) {
        uint64_t a = load_u64(it, x, i);
        store_u64(ot, o, i,
                  unary ? unary_uint(k, it, a) : binary_uint(k, it, a, load_u64(it, y, i)));
      }
      break;
    case Domain::Float:
      for (int64_t i = 0; i < n; ++i) {
        double a = load_f64(it, x, i);
        store_f64(ot, o, i,
                  unary ? unary_float(k, it, a) : binary_float(k, it, a, load_f64(it, y, i)));
      }
      break;
    case Domain::Complex:
      for (int64_t i = 0; i < n; ++i) {
        cplx a = load_c128(it, x, i);
        store_c128(ot, o, i,
                   unary ? unary_complex(k, it, a) : binary_complex(k, it, a, load_c128(it, y, i)));
      }
      break;
  }
  return out;
}

Tensor cast(const Op& op, const Tensor& x) {
  if (x.type.dtype == op.type.dtype) return {op.type, x.buffer};
  Tensor out = make_tensor(op.type);
  const int64_t n = op.type.size();
  for (int64_t i = 0; i < n; ++i)
    convert_element(x.type.dtype, x.buffer->data(), i, op.type.dtype, out.buffer->data(), i);
  return out;
}

Tensor select(const Op& op, const std::vector<Tensor>& in) {
  Tensor out = make_tensor(op.type);
  const size_t es = op.type.dtype.size();
  const int64_t n = op.type.size();
  const char* c = cdata(in[0]);
  for (int64_t i = 0; i < n; ++i)
    std::memcpy(mdata(out) + i * es, cdata(in[c[i] ? 1 : 2]) + i * es, es);
  return out;
}

// --- reductions -------------------------------------------------------------

int64_t int_identity(OpKind k, Dtype t) {
  switch (k) {
    case OpKind::Sum: case OpKind::Any: return 0;
    case OpKind::Prod: case OpKind::All: return 1;
    case OpKind::Max: return int_lowest(t);
    default: return int_highest(t);  // Min
  }
}
uint64_t uint_identity(OpKind k, Dtype t) {
  switch (k) {
    case OpKind::Sum: case OpKind::Max: return 0;
    case OpKind::Prod: return 1;
    default: return uint_highest(t);  // Min
  }
}
double float_identity(OpKind k) {
  switch (k) {
    case OpKind::Sum: return -0.0;  // the exact additive identity: -0 + x == x
    case OpKind::Prod: return 1;
    case OpKind::Max: return -kInf;
    default: return kInf;  // Min
  }
}

int64_t fold_int(OpKind k, int64_t acc, int64_t v) {
  switch (k) {
    case OpKind::Sum: return wadd(acc, v);
    case OpKind::Prod: return wmul(acc, v);
    case OpKind::Max: return std::max(acc, v);
    case OpKind::Min: return std::min(acc, v);
    case OpKind::All: return acc && v;
    default: return acc || v;  // Any
  }
}
uint64_t fold_uint(OpKind k, uint64_t acc, uint64_t v) {
  switch (k) {
    case OpKind::Sum: return acc + v;
    case OpKind::Prod: return acc * v;
    case OpKind::Max: return std::max(acc, v);
    default: return std::min(acc, v);  // Min
  }
}
double fold_float(OpKind k, double acc, double v) {
  switch (k) {
    case OpKind::Sum: return acc + v;
    case OpKind::Prod: return acc * v;
    case OpKind::Max: return std::isnan(acc) || acc >= v ? acc : v;  // v may be nan
    default: return std::isnan(acc) || acc <= v ? acc : v;           // Min
  }
}

// Accumulates `x` into `acc` (one slot per output element, preset to the
// identity) and stores the result.
template <class T, class Load, class Fold, class Store>
void reduce_into(const Tensor& x, const std::vector<int64_t>& out_strides, T identity,
                 int64_t out_n, Load load, Fold fold, Store store) {
  std::vector<T> acc(static_cast<size_t>(out_n), identity);
  for_each2(x.type.shape, row_major_strides(x.type.shape), out_strides, 0, 0,
            [&](int64_t i, int64_t o) { acc[o] = fold(acc[o], load(i)); });
  for (int64_t o = 0; o < out_n; ++o) store(o, acc[o]);
}

Tensor reduce(const Op& op, const Tensor& x) {
  const auto& axes = op.ints_attr("axes");
  if (axes.empty()) return {op.type, x.buffer};
  const OpKind k = op.kind;
  const Dtype t = x.type.dtype;
  const Shape& s = x.type.shape;
  // Output offset of each input dim: row-major over the kept dims, 0 on the
  // reduced ones.
  std::vector<int64_t> ostr(s.size(), 0);
  std::vector<int64_t> kept = row_major_strides(op.type.shape);
  for (size_t d = 0, j = 0; d < s.size(); ++d)
    if (std::find(axes.begin(), axes.end(), int64_t(d)) == axes.end()) ostr[d] = kept[j++];
  Tensor out = make_tensor(op.type);
  const void* src = x.buffer->data();
  void* dst = out.buffer->data();
  const int64_t m = op.type.size();
  switch (domain_of(t)) {
    case Domain::Int:
      reduce_into<int64_t>(
          x, ostr, int_identity(k, t), m, [&](int64_t i) { return load_i64(t, src, i); },
          [&](int64_t a, int64_t v) { return fold_int(k, a, v); },
          [&](int64_t o, int64_t v) { store_i64(t, dst, o, v); });
      break;
    case Domain::UInt:
      reduce_into<uint64_t>(
          x, ostr, uint_identity(k, t), m, [&](int64_t i) { return load_u64(t, src, i); },
          [&](uint64_t a, uint64_t v) { return fold_uint(k, a, v); },
          [&](int64_t o, uint64_t v) { store_u64(t, dst, o, v); });
      break;
    case Domain::Float: {
      // An empty sum is +0, not the -0 the accumulator starts from.
      const bool empty = x.type.size() == 0;
      reduce_into<double>(
          x, ostr, float_identity(k), m, [&](int64_t i) { return load_f64(t, src, i); },
          [&](double a, double v) { return fold_float(k, a, v); },
          [&](int64_t o, double v) { store_f64(t, dst, o, empty && v == 0 ? 0.0 : v); });
      break;
    }
    case Domain::Complex: {
      if (k != OpKind::Sum && k != OpKind::Prod) unsupported(k, t);
      const bool sum = k == OpKind::Sum, empty = x.type.size() == 0;
      reduce_into<cplx>(
          x, ostr, sum ? cplx(-0.0, -0.0) : cplx(1, 0), m,
          [&](int64_t i) { return load_c128(t, src, i); },
          [&](cplx a, cplx v) { return sum ? a + v : a * v; },
          [&](int64_t o, cplx v) { store_c128(t, dst, o, empty && sum ? cplx(0, 0) : v); });
      break;
    }
  }
  return out;
}

// Index of the first extreme along `axis`; a nan is the extreme, and the
// first nan wins.
Tensor arg_reduce(const Op& op, const Tensor& x) {
  const int64_t axis = op.int_attr("axis");
  const Shape& s = x.type.shape;
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= s[d];
  for (size_t d = size_t(axis) + 1; d < s.size(); ++d) inner *= s[d];
  const int64_t n = s[axis];
  const bool is_max = op.kind == OpKind::Argmax;
  const Dtype t = x.type.dtype;
  const void* src = x.buffer->data();
  Tensor out = make_tensor(op.type);
  const Domain dom = domain_of(t);
  // true when element i beats element j (strictly), so ties keep the first.
  auto better = [&](int64_t i, int64_t j) -> bool {
    switch (dom) {
      case Domain::Int: {
        int64_t a = load_i64(t, src, i), b = load_i64(t, src, j);
        return is_max ? a > b : a < b;
      }
      case Domain::UInt: {
        uint64_t a = load_u64(t, src, i), b = load_u64(t, src, j);
        return is_max ? a > b : a < b;
      }
      default: {
        double a = load_f64(t, src, i), b = load_f64(t, src, j);
        if (std::isnan(b)) return false;
        if (std::isnan(a)) return true;
        return is_max ? a > b : a < b;
      }
    }
  };
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t in = 0; in < inner; ++in) {
      const int64_t base = o * n * inner + in;
      int64_t best = 0;
      for (int64_t j = 1; j < n; ++j)
        if (better(base + j * inner, base + best * inner)) best = j;
      store_u64(uint32, out.buffer->data(), o * inner + in, uint64_t(best));
    }
  return out;
}

// --- data movement ----------------------------------------------------------

// A strided view of x: output element idx reads x at base + sum(idx * strides).
Tensor gather(const Op& op, const Tensor& x, int64_t base, const std::vector<int64_t>& strides) {
  Tensor out = make_tensor(op.type);
  copy_strided(cdata(x), mdata(out), op.type.dtype.size(), op.type.shape, strides,
               row_major_strides(op.type.shape), base, 0);
  return out;
}

Tensor transpose(const Op& op, const Tensor& x) {
  const auto& perm = op.ints_attr("perm");
  const auto xs = row_major_strides(x.type.shape);
  std::vector<int64_t> st(perm.size());
  for (size_t i = 0; i < perm.size(); ++i) st[i] = xs[perm[i]];
  return gather(op, x, 0, st);
}

Tensor broadcast(const Op& op, const Tensor& x) {
  const Shape& s = x.type.shape;
  const Shape& t = op.type.shape;
  const auto xs = row_major_strides(s);
  std::vector<int64_t> st(t.size(), 0);
  const size_t lead = t.size() - s.size();
  for (size_t d = 0; d < s.size(); ++d)
    if (s[d] == t[lead + d] && s[d] != 1) st[lead + d] = xs[d];
  return gather(op, x, 0, st);
}

// The base offset and per-axis strides (in elements of a row-major tensor of
// `shape`) of the slice described by op's start and strides.
void slice_view(const Op& op, const Shape& shape, int64_t* base, std::vector<int64_t>* st) {
  const auto& start = op.ints_attr("start");
  const auto& step = op.ints_attr("strides");
  const auto xs = row_major_strides(shape);
  *base = 0;
  st->assign(shape.size(), 0);
  for (size_t d = 0; d < shape.size(); ++d) {
    *base += start[d] * xs[d];
    (*st)[d] = step[d] * xs[d];
  }
}

Tensor slice(const Op& op, const Tensor& x) {
  int64_t base;
  std::vector<int64_t> st;
  slice_view(op, x.type.shape, &base, &st);
  return gather(op, x, base, st);
}

Tensor slice_update(const Op& op, const Tensor& src, const Tensor& upd) {
  Tensor out = make_tensor(op.type);
  if (op.type.nbytes()) std::memcpy(mdata(out), cdata(src), size_t(op.type.nbytes()));
  int64_t base;
  std::vector<int64_t> st;
  slice_view(op, src.type.shape, &base, &st);
  copy_strided(cdata(upd), mdata(out), op.type.dtype.size(), upd.type.shape,
               row_major_strides(upd.type.shape), st, 0, base);
  return out;
}

Tensor concatenate(const Op& op, const std::vector<Tensor>& in) {
  const int64_t axis = op.int_attr("axis");
  Tensor out = make_tensor(op.type);
  const auto os = row_major_strides(op.type.shape);
  int64_t offset = 0;
  for (const Tensor& t : in) {
    copy_strided(cdata(t), mdata(out), op.type.dtype.size(), t.type.shape,
                 row_major_strides(t.type.shape), os, 0, offset * os[axis]);
    offset += t.type.shape[axis];
  }
  return out;
}

Tensor pad(const Op& op, const Tensor& x, const Tensor& value) {
  const auto& low = op.ints_attr("low");
  Tensor out = make_tensor(op.type);
  const size_t es = op.type.dtype.size();
  for (int64_t i = 0; i < op.type.size(); ++i) std::memcpy(mdata(out) + i * es, cdata(value), es);
  const auto os = row_major_strides(op.type.shape);
  int64_t base = 0;
  for (size_t d = 0; d < low.size(); ++d) base += low[d] * os[d];
  copy_strided(cdata(x), mdata(out), es, x.type.shape, row_major_strides(x.type.shape), os, 0,
               base);
  return out;
}

// Reads index i of `idx` and maps it into [0, n): negative indices wrap once,
// anything still outside is clamped (as JAX). n must be positive.
int64_t load_index(const Tensor& idx, int64_t i, int64_t n) {
  const Dtype t = idx.type.dtype;
  if (is_unsigned(t)) {
    uint64_t u = load_u64(t, idx.buffer->data(), i);
    return u >= uint64_t(n) ? n - 1 : int64_t(u);
  }
  int64_t v = load_i64(t, idx.buffer->data(), i);
  if (v < 0) v += n;
  return std::clamp<int64_t>(v, 0, n - 1);
}

// x viewed as [outer, n, inner] around `axis`.
void split_at_axis(const Shape& s, int64_t axis, int64_t* outer, int64_t* n, int64_t* inner) {
  *outer = *inner = 1;
  for (int64_t d = 0; d < axis; ++d) *outer *= s[d];
  for (size_t d = size_t(axis) + 1; d < s.size(); ++d) *inner *= s[d];
  *n = s[axis];
}

Tensor take(const Op& op, const Tensor& x, const Tensor& idx) {
  Tensor out = make_tensor(op.type);
  if (op.type.size() == 0) return out;
  int64_t outer, n, inner;
  split_at_axis(x.type.shape, op.int_attr("axis"), &outer, &n, &inner);
  if (n == 0) fail(op.kind, "cannot take from an empty axis of " + type_to_string(x.type));
  const int64_t m = idx.type.size();
  std::vector<int64_t> pos(static_cast<size_t>(m));
  for (int64_t j = 0; j < m; ++j) pos[j] = load_index(idx, j, n);
  const size_t row = size_t(inner) * op.type.dtype.size();
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t j = 0; j < m; ++j)
      std::memcpy(mdata(out) + (o * m + j) * row, cdata(x) + (o * n + pos[j]) * row, row);
  return out;
}

Tensor take_along_axis(const Op& op, const Tensor& x, const Tensor& idx) {
  Tensor out = make_tensor(op.type);
  if (op.type.size() == 0) return out;
  const int64_t axis = op.int_attr("axis");
  int64_t outer, n, inner, m;
  split_at_axis(x.type.shape, axis, &outer, &n, &inner);
  m = idx.type.shape[axis];
  if (n == 0) fail(op.kind, "cannot take from an empty axis of " + type_to_string(x.type));
  const size_t es = op.type.dtype.size();
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t j = 0; j < m; ++j)
      for (int64_t in = 0; in < inner; ++in) {
        const int64_t i = (o * m + j) * inner + in;
        const int64_t p = load_index(idx, i, n);
        std::memcpy(mdata(out) + i * es, cdata(x) + ((o * n + p) * inner + in) * es, es);
      }
  return out;
}

Tensor matmul(const Op& op, const Tensor& a, const Tensor& b) {
  const Shape& as = a.type.shape;
  const Shape& bs = b.type.shape;
  const size_t r = as.size();
  const int64_t m = as[r - 2], k = as[r - 1], n = bs[r - 1];
  int64_t batch = 1;
  for (size_t d = 0; d + 2 < r; ++d) batch *= as[d];
  const Dtype t = op.type.dtype;
  std::vector<double> av(static_cast<size_t>(a.type.size()));
  std::vector<double> bv(static_cast<size_t>(b.type.size()));
  std::vector<double> row(static_cast<size_t>(n));
  for (size_t i = 0; i < av.size(); ++i) av[i] = load_f64(t, a.buffer->data(), int64_t(i));
  for (size_t i = 0; i < bv.size(); ++i) bv[i] = load_f64(t, b.buffer->data(), int64_t(i));
  Tensor out = make_tensor(op.type);
  for (int64_t p = 0; p < batch; ++p)
    for (int64_t i = 0; i < m; ++i) {
      std::fill(row.begin(), row.end(), 0.0);
      for (int64_t q = 0; q < k; ++q) {
        const double x = av[size_t((p * m + i) * k + q)];
        const double* brow = &bv[size_t((p * k + q) * n)];
        for (int64_t j = 0; j < n; ++j) row[j] += x * brow[j];
      }
      for (int64_t j = 0; j < n; ++j) store_f64(t, out.buffer->data(), (p * m + i) * n + j, row[j]);
    }
  return out;
}

// A custom op runs its forward callee. The depth guard keeps a malformed
// (cyclic) callee graph from overflowing the stack; verified functions nest
// at most kMaxCalleeDepth deep.
thread_local int call_depth = 0;

std::vector<Tensor> call(const Function& callee, const std::vector<Tensor>& args) {
  if (call_depth >= kMaxCalleeDepth)
    fail(OpKind::Custom, "calls nest more than " + std::to_string(kMaxCalleeDepth) + " deep");
  ++call_depth;
  struct Leave { ~Leave() { --call_depth; } } leave;
  return interpret(callee, args);
}

// Checks that the operands fit the op and the op's declared type matches its
// type rule, so a malformed op throws instead of reading out of bounds.
void check_op(const Op& op, const std::vector<Tensor>& operands) {
  std::vector<Type> types;
  types.reserve(operands.size());
  for (size_t i = 0; i < operands.size(); ++i) {
    const Tensor& t = operands[i];
    if (!t.buffer || t.buffer->size() < size_t(t.type.nbytes()))
      fail(op.kind, "operand " + std::to_string(i) + " of type " + type_to_string(t.type) +
                        " has no buffer or a too small one");
    types.push_back(t.type);
  }
  Type rule = infer_type(op.kind, types, op.attrs, op.type);
  if (rule != op.type)
    fail(op.kind, "declared type " + type_to_string(op.type) + " differs from the type rule's " +
                      type_to_string(rule));
  if (op.kind == OpKind::Custom) {
    std::string problem = custom_op_problem(op, types);
    if (!problem.empty()) fail(op.kind, problem);
  }
  if (op.kind == OpKind::Constant && (!op.data || op.data->size() < size_t(op.type.nbytes())))
    fail(op.kind, "holds fewer bytes than its type " + type_to_string(op.type) + " needs");
}

}  // namespace

Tensor interpret_op(const Op& op, const std::vector<Tensor>& in) {
  check_op(op, in);
  const OpKind k = op.kind;
  switch (k) {
    KILN_UNARY_OPS(KILN_OP_CASE)
    KILN_BINARY_OPS(KILN_OP_CASE)
    KILN_COMPARISON_OPS(KILN_OP_CASE)
      if (k == OpKind::Cast) return cast(op, in[0]);
      if (k == OpKind::StopGradient) return {op.type, in[0].buffer};
      return elementwise(op, in);
    KILN_REDUCTION_OPS(KILN_OP_CASE) return reduce(op, in[0]);
    case OpKind::Constant: return {op.type, op.data};
    case OpKind::Select: return select(op, in);
    case OpKind::Argmax: case OpKind::Argmin: return arg_reduce(op, in[0]);
    case OpKind::Reshape: return {op.type, in[0].buffer};
    case OpKind::Bitcast: return {op.type, in[0].buffer};  // the same bytes, retyped
    case OpKind::Transpose: return transpose(op, in[0]);
    case OpKind::Broadcast: return broadcast(op, in[0]);
    case OpKind::Slice: return slice(op, in[0]);
    case OpKind::SliceUpdate: return slice_update(op, in[0], in[1]);
    case OpKind::Concatenate: return concatenate(op, in);
    case OpKind::Pad: return pad(op, in[0], in[1]);
    case OpKind::Take: return take(op, in[0], in[1]);
    case OpKind::TakeAlongAxis: return take_along_axis(op, in[0], in[1]);
    case OpKind::Matmul: return matmul(op, in[0], in[1]);
    case OpKind::Custom: return call(*op.custom->forward, in)[size_t(op.int_attr("index"))];
  }
  fail(k, "is not a valid op kind");
}

std::vector<Tensor> interpret(const Function& f, const std::vector<Tensor>& inputs) {
  const int n_in = int(f.inputs.size());
  if (int(inputs.size()) != n_in)
    throw std::invalid_argument("[interpret] " + f.name + " expects " + std::to_string(n_in) +
                                " inputs, got " + std::to_string(inputs.size()));
  for (int i = 0; i < n_in; ++i) {
    const Tensor& t = inputs[i];
    if (t.type != f.inputs[i])
      throw std::invalid_argument("[interpret] input " + std::to_string(i) + " of " + f.name +
                                  " must be " + type_to_string(f.inputs[i]) + ", got " +
                                  type_to_string(t.type));
    if (!t.buffer || t.buffer->size() < size_t(t.type.nbytes()))
      throw std::invalid_argument("[interpret] input " + std::to_string(i) + " of " + f.name +
                                  " has no buffer or one smaller than " +
                                  std::to_string(t.type.nbytes()) + " bytes");
  }
  const int nv = f.num_values();
  for (int v : f.outputs)
    if (v < 0 || v >= nv)
      throw std::invalid_argument("[interpret] output value %" + std::to_string(v) +
                                  " does not exist");

  // last_use[v]: the index of the last op reading v; outputs are kept.
  std::vector<int> last_use(static_cast<size_t>(nv), -1);
  for (size_t i = 0; i < f.ops.size(); ++i)
    for (int v : f.ops[i].operands) {
      if (v < 0 || v >= n_in + int(i))
        throw std::invalid_argument("[interpret] op %" + std::to_string(n_in + i) + " (" +
                                    op_name(f.ops[i].kind) + ") uses undefined value %" +
                                    std::to_string(v));
      last_use[v] = int(i);
    }
  for (int v : f.outputs) last_use[v] = INT_MAX;

  std::vector<Tensor> values(static_cast<size_t>(nv));
  for (int i = 0; i < n_in; ++i) values[i] = inputs[i];
  std::vector<Tensor> operands;
  // The custom ops of one call (one Custom, the same operands) share one
  // run of the callee: its outputs, kept until the function returns.
  std::map<std::pair<const Custom*, std::vector<int>>, std::vector<Tensor>> calls;
  for (size_t i = 0; i < f.ops.size(); ++i) {
    const Op& op = f.ops[i];
    const int id = n_in + int(i);
    operands.clear();
    for (int v : op.operands) operands.push_back(values[v]);
    if (op.kind == OpKind::Custom && op.custom && op.custom->forward) {
      check_op(op, operands);
      auto [it, fresh] = calls.try_emplace({op.custom.get(), op.operands});
      if (fresh) it->second = call(*op.custom->forward, operands);
      values[id] = it->second[size_t(op.int_attr("index"))];
    } else {
      values[id] = interpret_op(op, operands);
    }
    operands.clear();
    for (int v : op.operands)
      if (last_use[v] == int(i)) values[v].buffer.reset();
    if (last_use[id] < 0) values[id].buffer.reset();  // dead value
  }
  std::vector<Tensor> outs;
  outs.reserve(f.outputs.size());
  for (int v : f.outputs) outs.push_back(values[v]);
  return outs;
}

}  // namespace kiln::ir
