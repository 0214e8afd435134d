#include "codegen/opencl/prelude.h"

#include "codegen/two_over_pi.h"

#include <cstdio>
#include <stdexcept>
#include <iterator>
#include <vector>

namespace kiln::codegen::opencl {

namespace {

// A helper's OpenCL C text. In typed helpers, $T stands for the compute
// type (float or double), $S for its suffix (f or d) and $F for the suffix
// of its literals (f or nothing).
struct Helper {
  const char* name;  // without the _f/_d suffix for typed helpers
  bool typed;
  // A float helper computed by the double one (when the device has fp64):
  // those whose float evaluation would round more than once.
  bool via_double;
  std::vector<const char*> calls;  // helpers it uses (typed ones: same type)
  const char* text;
};

const std::vector<Helper>& helpers() {
  static const std::vector<Helper> list = {
      // float16 values are computed in float and rounded to half after each
      // op (as the CPU does), through vstore_half_rte / vload_half on a
      // private word (a half variable needs cl_khr_fp16; a half pointer
      // does not).
      {"kl_round_half", false, false, {}, R"(
float kl_round_half(float x) {
  ushort h;
  vstore_half_rte(x, 0, (half*)&h);
  return vload_half(0, (const half*)&h);
})"},
      // bfloat16 by bit manipulation: the upper half of a float, rounded to
      // nearest even; NaNs stay quiet NaNs (ir/dtype.cpp).
      {"kl_bf16_to_float", false, false, {}, R"(
float kl_bf16_to_float(ushort b) { return as_float((uint)b << 16); })"},
      {"kl_float_to_bf16", false, false, {}, R"(
ushort kl_float_to_bf16(float f) {
  uint x = as_uint(f);
  if ((x & 0x7fffffffu) > 0x7f800000u) return (ushort)((x >> 16) | 0x40u);
  x += 0x7fffu + ((x >> 16) & 1u);
  return (ushort)(x >> 16);
})"},
      {"kl_round_bf16", false, false, {"kl_bf16_to_float", "kl_float_to_bf16"}, R"(
float kl_round_bf16(float x) { return kl_bf16_to_float(kl_float_to_bf16(x)); })"},
      // sign(nan) = nan.
      {"kl_sign", true, false, {}, R"(
$T kl_sign_$S($T x) { return isnan(x) ? x : x > 0 ? ($T)1 : x < 0 ? ($T)-1 : ($T)0; })"},
      // The interpreter's maximum/minimum: NaN in either operand gives NaN,
      // and of equal operands (-0 and +0) the first.
      {"kl_max", true, false, {}, R"(
$T kl_max_$S($T a, $T b) { return (isnan(a) || a >= b) ? a : b; })"},
      {"kl_min", true, false, {}, R"(
$T kl_min_$S($T a, $T b) { return (isnan(a) || a <= b) ? a : b; })"},
      // NumPy's remainder: the sign of the divisor, a zero remainder too.
      // (fmod is exact in OpenCL.)
      {"kl_rem", true, false, {}, R"(
$T kl_rem_$S($T a, $T b) {
  $T r = fmod(a, b);
  if (r != 0 && ((r < 0) != (b < 0))) r += b;
  return r == 0 ? copysign(($T)0, b) : r;
})"},
      // floor(a / b) with the quotient in double, as the interpreter: in
      // float, 1 / 0.1f would round up to 10.
      {"kl_floordiv", true, true, {}, R"(
$T kl_floordiv_$S($T a, $T b) { return floor(a / b); })"},
      // 1 / (1 + e^-x) without overflow of e^-x for large negative x.
      {"kl_sigmoid", true, true, {}, R"(
$T kl_sigmoid_$S($T x) {
  if (x >= 0) return 1 / (1 + exp(-x));
  $T e = exp(x);
  return e / (1 + e);
})"},
      // The interpreter's logaddexp: max + log1p(exp(-|a - b|)); equal
      // arguments give a + ln2, with ln2 as head + tail.
      {"kl_logaddexp", true, true, {}, R"(
$T kl_logaddexp_$S($T a, $T b) {
  if (isnan(a) || isnan(b)) return NAN;
  if (a == b) return (a + 0x1.62e42fefa39efp-1$F) + 0x1.abc9e3b39803fp-56$F;
  $T m = a > b ? a : b;
  return m + log1p(exp(-fabs(a - b)));
})"},
      // The interpreter's erfinv: Winitzki's closed form refined by three
      // Halley steps, through erfc with the exact 1 - |x| near |x| = 1.
      {"kl_erfinv", true, true, {}, R"(
$T kl_erfinv_$S($T x) {
  if (isnan(x) || x < -1 || x > 1) return NAN;
  if (x == 1) return INFINITY;
  if (x == -1) return -INFINITY;
  if (x == 0) return x;
  $T ax = fabs(x);
  $T a = 0.147$F;
  $T pi = 3.14159265358979323846$F;
  $T l = log((1 - ax) * (1 + ax));
  $T t = 2 / (pi * a) + l / 2;
  $T y = sqrt(sqrt(t * t - l / a) - t);
  $T c = 2 / sqrt(pi);
  for (int it = 0; it < 3; ++it) {
    $T f = ax <= 0.5$F ? erf(y) - ax : (1 - ax) - erfc(y);
    $T dfdy = c * exp(-y * y);
    if (f == 0 || dfdy == 0) break;
    $T step = f / dfdy;
    y -= step / (1 + y * step);
  }
  return copysign(y, x);
})"},

      // Double sin, cos and tan within the CPU's budgets (1, 1 and 2.5
      // ulp; OpenCL allows 4, and PoCL's measure 1.4 and 2.9): the
      // algorithm of codegen/llvm/math.cpp. x = q pi/2 + r + rl by a
      // four-part Cody-Waite reduction below 2^25, by Payne-Hanek above
      // (kl_two_over_pi: codegen/two_over_pi.h); sin and cos of r + rl by
      // Remez polynomials on [-pi/4, pi/4].
      {"kl_payne_hanek", false, false, {"kl_two_over_pi"}, R"(
void kl_payne_hanek(double x, double* r_out, double* rl_out, int* q_out) {
  ulong bits = as_ulong(x);
  long ex = (long)((bits >> 52) & 0x7ffUL);
  ulong sig = (bits & 0xfffffffffffffUL) | 0x10000000000000UL;
  long off = ex - 1013;
  if (off < 0) off = 0;
  int word = (int)(off >> 6);
  uint shift = (uint)(off & 63);
  ulong w[3];
  for (int k = 0; k < 3; ++k) {
    ulong a = kl_two_over_pi[word + k], b = kl_two_over_pi[word + k + 1];
    w[k] = shift ? (a << shift) | (b >> (64 - shift)) : a;
  }
  /* sig * W mod 2^192 in three limbs, least significant first. */
  ulong lo0 = sig * w[2];
  ulong c = mul_hi(sig, w[2]);
  ulong a1 = sig * w[1];
  ulong lo1 = a1 + c;
  ulong c2 = mul_hi(sig, w[1]) + (lo1 < a1 ? 1UL : 0UL);
  ulong lo2 = sig * w[0] + c2;
  /* The quadrant and the 128 fraction bits below it, rounded to the
     nearest quadrant: a fraction >= 1/2 is negative as a signed number. */
  int q = (int)(lo2 >> 62);
  ulong fh = (lo2 << 2) | (lo1 >> 62), fl = (lo1 << 2) | (lo0 >> 62);
  int neg = (long)fh < 0;
  q = (q + neg) & 3;
  if (neg) {
    fl = ~fl + 1UL;
    fh = ~fh + (fl == 0 ? 1UL : 0UL);
  }
  /* |f| as a double-double: normalized, its top 53 bits and the next 63. */
  int lz = fh != 0 ? (int)clz(fh) : 64 + (int)clz(fl);
  if (lz > 127) lz = 127;
  if (lz >= 64) {
    fh = fl << (lz - 64);
    fl = 0;
  } else if (lz > 0) {
    fh = (fh << lz) | (fl >> (64 - lz));
    fl <<= lz;
  }
  double head = (double)(long)(fh >> 11);
  double tail = (double)(long)(((fl >> 12) | (fh << 52)) & 0x7fffffffffffffffUL);
  double h = head * as_double((ulong)(-53 - lz + 1023) << 52);
  double l = tail * as_double((ulong)(-116 - lz + 1023) << 52);
  const double pio2_hi = 0x1.921fb54442d18p+0, pio2_lo = 0x1.1a62633145c07p-54;
  double rh = h * pio2_hi;
  double rl = fma(h, pio2_hi, -rh) + (h * pio2_lo + l * pio2_hi);
  double r = rh + rl;
  rl = rl - (r - rh);
  int xneg = (long)bits < 0;
  if (xneg != neg) {
    r = -r;
    rl = -rl;
  }
  *r_out = r;
  *rl_out = rl;
  *q_out = xneg ? (-q) & 3 : q;
})"},
      {"kl_trig_d", false, false, {"kl_payne_hanek"}, R"(
/* which: 0 sin, 1 cos, 2 tan. */
double kl_trig_d(double x, int which) {
  if (isinf(x) || isnan(x)) return NAN;
  if (x == 0 && which != 1) return x;
  double r, rl;
  int q;
  if (fabs(x) < 0x1p25) {
    double nn = -rint(x * 0.6366197723675814);
    r = fma(nn, 0x1.921fb54p+0, x);
    rl = 0;
    const double parts[3] = {0x1.10b4612p-30, -0x1.676733ap-60, -0x1.d1fc8f8cbb5bfp-89};
    for (int i = 0; i < 3; ++i) {
      double w = nn * parts[i];
      double sum = r + w;
      double bb = sum - r;
      rl += (r - (sum - bb)) + (w - bb);
      r = sum;
    }
    double hh = r + rl;
    rl = rl - (hh - r);
    r = hh;
    q = (int)((long)(-nn) & 3);
  } else {
    kl_payne_hanek(x, &r, &rl, &q);
  }
  double z = r * r;
  double sp = fma(fma(fma(fma(fma(fma(-7.578526699260211e-13, z, 1.6058362894851785e-10), z,
      -2.5052104879764827e-08), z, 2.7557319214056964e-06), z, -0.00019841269841254784), z,
      0.008333333333333323), z, -0.16666666666666666);
  double cp = fma(fma(fma(fma(fma(-1.1358513922166289e-11, z, 2.0875700415486565e-09), z,
      -2.755731417623535e-07), z, 2.480158728884138e-05), z, -0.001388888888887304), z,
      0.041666666666666595);
  double hz = 0.5 * z;
  double w = 1.0 - hz;
  double s = r + fma(r * z, sp, rl * w);
  double c = w + fma(z * z, cp, ((1.0 - w) - hz) - rl * r);
  int odd = q & 1;
  if (which == 2) {
    double t = (odd ? c : s) / (odd ? s : c);
    return odd ? -t : t;
  }
  int negate = ((which == 0 ? q : q + 1) & 2) != 0;
  double v = which == 0 ? (odd ? c : s) : (odd ? s : c);
  return negate ? -v : v;
})"},
      {"kl_sin_d", false, false, {"kl_trig_d"}, R"(
double kl_sin_d(double x) { return kl_trig_d(x, 0); })"},
      {"kl_cos_d", false, false, {"kl_trig_d"}, R"(
double kl_cos_d(double x) { return kl_trig_d(x, 1); })"},
      {"kl_tan_d", false, false, {"kl_trig_d"}, R"(
double kl_tan_d(double x) { return kl_trig_d(x, 2); })"},
  };
  return list;
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) s.replace(p, from.size(), to);
  return s;
}

class Writer {
 public:
  explicit Writer(bool float64) : float64_(float64) {}

  void add(const std::string& full) {
    if (done_.count(full)) return;
    done_.insert(full);
    if (full == "kl_two_over_pi") {
      out_ += "\n__constant ulong kl_two_over_pi[] = {";
      for (size_t i = 0; i < std::size(kTwoOverPi); ++i) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%s0x%016llxUL", i ? ", " : "", static_cast<unsigned long long>(kTwoOverPi[i]));
        out_ += buf;
      }
      out_ += "};\n";
      return;
    }
    std::string base = full;
    char suffix = 0;
    if (full.size() > 2 && full[full.size() - 2] == '_' && (full.back() == 'f' || full.back() == 'd')) {
      const Helper* h = find(full.substr(0, full.size() - 2));
      if (h && h->typed) {
        base = full.substr(0, full.size() - 2);
        suffix = full.back();
      }
    }
    const Helper* h = find(base);
    if (!h) throw std::logic_error("kiln opencl: no helper " + full);
    if (!h->typed) {
      for (const char* c : h->calls) add(c);
      out_ += h->text;
      out_ += "\n";
      return;
    }
    if (suffix == 'd' && !float64_) throw std::logic_error("kiln opencl: " + full + " needs cl_khr_fp64");
    if (suffix == 'f' && float64_ && h->via_double) {
      // Through the double version: one rounding of an accurate value.
      add(base + "_d");
      std::string params = base == "kl_max" || base == "kl_min" || base == "kl_rem" || base == "kl_floordiv" ||
                                   base == "kl_logaddexp"
                               ? "float a, float b"
                               : "float x";
      std::string args = params == "float x" ? "(double)x" : "(double)a, (double)b";
      out_ += "\nfloat " + full + "(" + params + ") { return (float)" + base + "_d(" + args + "); }\n";
      return;
    }
    for (const char* c : h->calls) add(std::string(c) + "_" + suffix);
    std::string t = h->text;
    t = replace_all(t, "$T", suffix == 'f' ? "float" : "double");
    t = replace_all(t, "$S", std::string(1, suffix));
    t = replace_all(t, "$F", suffix == 'f' ? "f" : "");
    out_ += t;
    out_ += "\n";
  }

  std::string text() const { return out_; }

 private:
  static const Helper* find(const std::string& name) {
    for (const Helper& h : helpers())
      if (name == h.name) return &h;
    return nullptr;
  }

  bool float64_;
  std::set<std::string> done_;
  std::string out_;
};

}  // namespace

std::string prelude(const std::set<std::string>& names, bool float64) {
  Writer w(float64);
  for (const std::string& n : names) w.add(n);
  return w.text();
}

}  // namespace kiln::codegen::opencl
