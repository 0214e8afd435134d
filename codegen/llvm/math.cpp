// Transcendental functions as plain LLVM IR: range reduction, then a
// polynomial, then reconstruction; every special case (inf, nan, -0,
// subnormals, overflow) is a select, never a branch, so the loop vectorizer
// widens the whole thing. See math.h. The one exception, trigonometric
// functions of |x| >= 2^25, goes through cold_lanes.h, which keeps the
// loop vectorizable too.
//
// Where the coefficients come from: every polynomial below is a minimax fit
// that we computed ourselves with a Remez exchange (mpmath, 60 digits,
// weighted for relative error unless stated), then rounded to the working
// precision; the fit's error after rounding is noted next to each table.
// The reduction schemes are textbook ideas, written here from scratch:
// Cody & Waite (1980) for additive reductions by ln2 and pi/2 with the
// constant split into parts whose products with n are exact; the series
// log(m) = 2 atanh((m-1)/(m+1)) with the correction arrangement known from
// the BSD/fdlibm logarithm (the main term f kept exact, rounding errors
// confined to a small correction); error-free transformations (Fast2Sum,
// TwoSum, fma-based TwoProduct) from Dekker (1971) and Muller et al.,
// "Handbook of Floating-Point Arithmetic"; erfinv's regions from M. Giles
// (2011). Constants (pi/2, ln2 and their splits) were derived with mpmath.
//
// Accuracy budgets (max error in ulp of the result type, over the ranges
// stated at each function) are checked by tests/test_math_approx.cpp.
//
// Contraction: polynomial steps use llvm.fmuladd (fused or not, both are
// within budget). The few places that need an exact product (the
// double-double logarithm of double pow) use llvm.fma; on a CPU without
// FMA LLVM lowers that to a libm fma call, which is correct but slow.
// The exactness arguments hold whether or not a*b+c is contracted.
#include "codegen/llvm/math.h"

#include "codegen/llvm/cold_lanes.h"
#include "codegen/llvm/payne_hanek.h"

#include <llvm/IR/Constants.h>
#include <llvm/IR/DerivedTypes.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/Module.h>

#include <cstdint>
#include <initializer_list>
#include <limits>
#include <string>

namespace kiln::codegen {
namespace {

using llvm::Value;
using ir::OpKind;

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Emission helpers over one floating type: float or double, scalar or
// fixed/scalable vector. Integer views use the same-width integer type of
// the same shape.
class Em {
 public:
  Em(llvm::IRBuilderBase& builder, llvm::Type* type) : b(builder), ty(type) {
    llvm::Type* s = ty->getScalarType();
    dbl = s->isDoubleTy();
    mant = dbl ? 52 : 23;
    bias = dbl ? 1023 : 127;
    llvm::Type* is = llvm::IntegerType::get(ty->getContext(), dbl ? 64 : 32);
    if (auto* vt = llvm::dyn_cast<llvm::VectorType>(ty))
      ity = llvm::VectorType::get(is, vt->getElementCount());
    else
      ity = is;
  }

  // The same shape with double elements.
  llvm::Type* double_type() const {
    llvm::Type* d = llvm::Type::getDoubleTy(ty->getContext());
    if (auto* vt = llvm::dyn_cast<llvm::VectorType>(ty)) return llvm::VectorType::get(d, vt->getElementCount());
    return d;
  }

  llvm::IRBuilderBase& b;
  llvm::Type* ty;
  llvm::Type* ity = nullptr;
  bool dbl = false;
  int mant = 23;
  int bias = 127;

  Value* c(double v) const { return llvm::ConstantFP::get(ty, v); }
  Value* ci(int64_t v) const { return llvm::ConstantInt::get(ity, static_cast<uint64_t>(v), true); }

  Value* add(Value* x, Value* y) { return b.CreateFAdd(x, y); }
  Value* sub(Value* x, Value* y) { return b.CreateFSub(x, y); }
  Value* mul(Value* x, Value* y) { return b.CreateFMul(x, y); }
  Value* div(Value* x, Value* y) { return b.CreateFDiv(x, y); }
  Value* neg(Value* x) { return b.CreateFNeg(x); }
  // x*y + z, fused or not (the backend decides).
  Value* fma(Value* x, Value* y, Value* z) {
    return b.CreateIntrinsic(llvm::Intrinsic::fmuladd, {ty}, {x, y, z});
  }
  // x*y + z with one rounding.
  Value* fma_exact(Value* x, Value* y, Value* z) { return b.CreateIntrinsic(llvm::Intrinsic::fma, {ty}, {x, y, z}); }
  Value* abs(Value* x) { return b.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, x); }
  Value* sqrt(Value* x) { return b.CreateUnaryIntrinsic(llvm::Intrinsic::sqrt, x); }
  Value* copysign(Value* mag, Value* sgn) { return b.CreateBinaryIntrinsic(llvm::Intrinsic::copysign, mag, sgn); }
  Value* sel(Value* cond, Value* x, Value* y) { return b.CreateSelect(cond, x, y); }

  Value* olt(Value* x, Value* y) { return b.CreateFCmpOLT(x, y); }
  Value* ole(Value* x, Value* y) { return b.CreateFCmpOLE(x, y); }
  Value* ogt(Value* x, Value* y) { return b.CreateFCmpOGT(x, y); }
  Value* oge(Value* x, Value* y) { return b.CreateFCmpOGE(x, y); }
  Value* oeq(Value* x, Value* y) { return b.CreateFCmpOEQ(x, y); }
  Value* isnan(Value* x) { return b.CreateFCmpUNO(x, x); }
  Value* isinf(Value* x) { return oeq(abs(x), c(kInf)); }
  Value* lor(Value* p, Value* q) { return b.CreateOr(p, q); }
  Value* land(Value* p, Value* q) { return b.CreateAnd(p, q); }
  Value* lnot(Value* p) { return b.CreateNot(p); }

  // cs[0] + cs[1] x + cs[2] x^2 + ... by Horner's rule.
  Value* poly(Value* x, std::initializer_list<double> cs) {
    const double* it = cs.end();
    Value* acc = c(*--it);
    while (it != cs.begin()) acc = fma(acc, x, c(*--it));
    return acc;
  }

  Value* bits(Value* x) { return b.CreateBitCast(x, ity); }
  Value* from_bits(Value* i) { return b.CreateBitCast(i, ty); }
  Value* iadd(Value* x, Value* y) { return b.CreateAdd(x, y); }
  Value* isub(Value* x, Value* y) { return b.CreateSub(x, y); }
  Value* iand(Value* x, Value* y) { return b.CreateAnd(x, y); }
  Value* ishl(Value* x, int n) { return b.CreateShl(x, static_cast<uint64_t>(n)); }
  Value* iashr(Value* x, int n) { return b.CreateAShr(x, static_cast<uint64_t>(n)); }
  Value* ieq(Value* x, Value* y) { return b.CreateICmpEQ(x, y); }
  Value* ine(Value* x, Value* y) { return b.CreateICmpNE(x, y); }
  Value* to_int(Value* x) { return b.CreateFPToSI(x, ity); }  // x must be finite and in range
  Value* to_fp(Value* i) { return b.CreateSIToFP(i, ty); }
  Value* signbit(Value* x) { return b.CreateICmpSLT(bits(x), ci(0)); }

  // Nearest integer (ties to even) of x, |x| < 2^(mant-1), as a float:
  // adding and removing 1.5*2^mant rounds away the fraction bits.
  Value* round_int(Value* x) {
    Value* s = c(dbl ? 0x1.8p52 : 0x1.8p23);
    return sub(add(x, s), s);
  }
  // 2^k for an integer k in the normal exponent range.
  Value* pow2i(Value* k) { return from_bits(ishl(iadd(k, ci(bias)), mant)); }
  // y * 2^k for |k| up to about twice the exponent range: two exact
  // power-of-two factors, so that a subnormal result is rounded once.
  Value* scale(Value* y, Value* k) {
    Value* k1 = iashr(k, 1);
    Value* k2 = isub(k, k1);
    return mul(mul(y, pow2i(k1)), pow2i(k2));
  }
};

// ---------------------------------------------------------------- exp --

// Cody-Waite split of ln2: the head has few bits so n*head is exact for
// every n that occurs, the tail is ln2 - head rounded.
constexpr double kLn2HiF = 0x1.63p-1;                   // 9 bits
constexpr double kLn2LoF = -2.12194440054690583e-4;     // ln2 - kLn2HiF
constexpr double kLn2HiD = 0x1.62e42ffp-1;              // 29 bits
constexpr double kLn2LoD = -4.2009150726810846e-11;    // ln2 - kLn2HiD
constexpr double kLog2e = 1.4426950408889634;

// e^(x + xlo) for finite x already clamped to [-746, 710] (double) or
// [-104, 89] (float); xlo (may be null) is a small correction, as from a
// double-double argument. Reduction x = n ln2 + r, |r| <= ln2/2 (Cody-Waite,
// two-part ln2), e^r = 1 + r + r^2 Q(r), then 2^n by Em::scale.
// Q: Remez fit of (e^r - 1 - r)/r^2 on [-ln2/2, ln2/2] for relative error
// of e^r: float degree 4, 2^-28.0 after rounding the coefficients to float;
// double degree 9, 2^-56.4.
Value* exp_core(Em& m, Value* x, Value* xlo) {
  Value* n = m.round_int(m.mul(x, m.c(kLog2e)));
  Value* nn = m.neg(n);
  Value* r = m.fma(nn, m.c(m.dbl ? kLn2HiD : kLn2HiF), x);  // exact
  // xlo joins the tail first, so that r is rounded once.
  r = xlo ? m.add(r, m.fma(nn, m.c(m.dbl ? kLn2LoD : kLn2LoF), xlo)) : m.fma(nn, m.c(m.dbl ? kLn2LoD : kLn2LoF), r);
  Value* q = m.dbl ? m.poly(r, {0.5000000000000011, 0.16666666666666413, 0.041666666666530155, 0.008333333333494456,
                                0.0013888888943630155, 0.00019841269506592492, 2.480149309887448e-05,
                                2.7557586360576006e-06, 2.763024838746566e-07, 2.5000066021150347e-08})
                   : m.poly(r, {0x1.fffffcp-2, 0x1.555492p-3, 0x1.5558f2p-5, 0x1.1239e2p-7, 0x1.6a2434p-10});
  Value* p = m.add(m.c(1.0), m.fma(m.mul(r, r), q, r));
  return m.scale(p, m.to_int(n));
}

// exp. Budget: float 1.5 ulp, double 1.5 ulp (measured 0.99, 1.04), over
// the whole line (results that underflow into subnormals are rounded once;
// overflow gives inf, -inf gives 0, nan stays nan).
Value* emit_exp(Em& m, Value* x) {
  double hi = m.dbl ? 710.0 : 89.0, lo = m.dbl ? -746.0 : -104.0;
  Value* xc = m.sel(m.olt(x, m.c(hi)), x, m.c(hi));  // nan -> hi, fixed below
  xc = m.sel(m.ogt(xc, m.c(lo)), xc, m.c(lo));
  Value* r = exp_core(m, xc, nullptr);
  return m.sel(m.isnan(x), x, r);
}

// expm1 of an x with lo <= x <= hi (double: -40, 709.79; float: -18, 89):
// the same reduction as exp; expm1(r) = r + r^2/2 + r^3 Q(r) (Q: Remez
// fit of (e^r-1-r-r^2/2)/r^3 on [-ln2/2, ln2/2] for relative error of
// expm1(r): float degree 4, 2^-29.8; double degree 9, 2^-59.2), then
// expm1(x) = 2 (s expm1(r) + (s - 1/2)) with s = 2^(n-1), which is exact
// for n = 0 and loses no accuracy near -1. Nonzero |x| below 2^-30
// (float) or 2^-60 (double) may lose the last bits.
Value* expm1_core(Em& m, Value* xc) {
  Value* n = m.round_int(m.mul(xc, m.c(kLog2e)));
  Value* nn = m.neg(n);
  Value* r = m.fma(nn, m.c(m.dbl ? kLn2HiD : kLn2HiF), xc);
  r = m.fma(nn, m.c(m.dbl ? kLn2LoD : kLn2LoF), r);
  Value* q = m.dbl ? m.poly(r, {0.16666666666666677, 0.04166666666666658, 0.008333333333322158, 0.0013888888888942664,
                                0.00019841269884944738, 2.480158719822496e-05, 2.7557245291791014e-06,
                                2.7557387040726136e-07, 2.510868734665525e-08, 2.0878913392926387e-09})
                   : m.poly(r, {0x1.555554p-3, 0x1.5554f2p-5, 0x1.1111cap-7, 0x1.6d407ap-10, 0x1.9fbdf6p-13});
  Value* p = m.fma(m.mul(r, r), m.fma(r, q, m.c(0.5)), r);
  Value* s = m.pow2i(m.isub(m.to_int(n), m.ci(1)));
  return m.mul(m.c(2.0), m.fma(s, p, m.sub(s, m.c(0.5))));
}

// expm1. Budget: float 2 ulp, double 2.5 ulp (measured 1.4, 1.9), whole line.
Value* emit_expm1(Em& m, Value* x) {
  double hi = m.dbl ? 709.79 : 89.0, lo = m.dbl ? -40.0 : -18.0;  // below lo: -1 after rounding
  Value* xc = m.sel(m.olt(x, m.c(hi)), x, m.c(hi));
  xc = m.sel(m.ogt(xc, m.c(lo)), xc, m.c(lo));
  Value* res = expm1_core(m, xc);
  // Tiny |x| (zeros, subnormals): expm1(x) = x.
  res = m.sel(m.olt(m.abs(x), m.c(m.dbl ? 0x1p-60 : 0x1p-30)), x, res);
  return m.sel(m.isnan(x), x, res);
}

// ---------------------------------------------------------------- log --

// log(1+f) = f - (hfsq - sR) for f in [sqrt(1/2)-1, sqrt(2)-1], with
// s = f/(2+f), hfsq = f^2/2, sR = s (hfsq + R), R = s^2 P(s^2): from
// log(1+f) = 2 atanh(s) = 2s + s^3 P(s^2) and 2s = f - s f. Keeping f
// apart makes the rounding of s and of the polynomial count only in the
// small correction term. P: Remez fit of (2 atanh(s) - 2s)/s^3 in z = s^2
// on [0, 0.1716^2], weighted by z (its share of the result): float degree
// 2, 2^-29.1; double degree 6, 2^-57.9.
struct Log1pParts {
  Value* f;
  Value* hfsq;
  Value* sr;
};

Log1pParts log1p_parts(Em& m, Value* f) {
  Value* s = m.div(f, m.add(m.c(2.0), f));
  Value* z = m.mul(s, s);
  Value* p = m.dbl ? m.poly(z, {0.6666666666666734, 0.3999999999941438, 0.2857142874245998, 0.2222219856514002,
                                0.1818356477450328, 0.1531403834377092, 0.14796078902349954})
                   : m.poly(z, {0x1.55557ap-1, 0x1.995eb8p-2, 0x1.31e33cp-2});
  Value* hfsq = m.mul(m.c(0.5), m.mul(f, f));
  Value* sr = m.mul(s, m.fma(z, p, hfsq));
  return {f, hfsq, sr};
}

// x = 2^e * mm with mm in [sqrt(1/2), sqrt(2)): adding (1.0 - sqrt(1/2))
// in the bit pattern carries into the exponent exactly when the mantissa
// is >= sqrt(2). x must be positive normal (other inputs give garbage
// that the callers replace).
void split_exponent(Em& m, Value* x, Value** e, Value** mm) {
  int64_t one = m.dbl ? 0x3ff0000000000000LL : 0x3f800000LL;
  int64_t sqrthalf = m.dbl ? 0x3fe6a09e667f3bcdLL : 0x3f3504f3LL;
  int64_t mask = (int64_t{1} << m.mant) - 1;
  Value* i = m.iadd(m.bits(x), m.ci(one - sqrthalf));
  *e = m.isub(m.iashr(i, m.mant), m.ci(m.bias));
  *mm = m.from_bits(m.iadd(m.iand(i, m.ci(mask)), m.ci(sqrthalf)));
}

struct LogParts {
  Value* e;  // exponent, as a float
  Log1pParts l;
};

// log(x) = e ln2 + log1p(f); subnormal x are scaled up first.
LogParts log_parts(Em& m, Value* x) {
  Value* den = m.olt(x, m.c(m.dbl ? 0x1p-1022 : 0x1p-126));
  int k = m.dbl ? 54 : 24;
  Value* xs = m.sel(den, m.mul(x, m.c(m.dbl ? 0x1p54 : 0x1p24)), x);
  Value *e, *mm;
  split_exponent(m, xs, &e, &mm);
  e = m.isub(e, m.sel(den, m.ci(k), m.ci(0)));
  return {m.to_fp(e), log1p_parts(m, m.sub(mm, m.c(1.0)))};
}

Value* log_specials(Em& m, Value* x, Value* res) {
  res = m.sel(m.olt(x, m.c(0.0)), m.c(kNaN), res);
  res = m.sel(m.oeq(x, m.c(0.0)), m.c(-kInf), res);
  res = m.sel(m.oeq(x, m.c(kInf)), x, res);
  return m.sel(m.isnan(x), x, res);
}

// log. Budget: float 1 ulp, double 1 ulp (measured 0.82), all positive
// inputs including subnormals; log(±0) = -inf, log(<0) = nan, log(inf) = inf.
Value* log_value(Em& m, const LogParts& p, Value* extra_lo) {
  Value* lo = m.mul(p.e, m.c(m.dbl ? kLn2LoD : kLn2LoF));
  if (extra_lo) lo = m.add(lo, extra_lo);
  Value* corr = m.sub(p.l.hfsq, m.add(p.l.sr, lo));
  return m.fma(p.e, m.c(m.dbl ? kLn2HiD : kLn2HiF), m.sub(p.l.f, corr));
}

Value* emit_log(Em& m, Value* x) { return log_specials(m, x, log_value(m, log_parts(m, x), nullptr)); }

// log2 and log10: e log_b(2) + log1p(f) log_b(e), the constants split in
// head and tail. Budget: float 2.5 ulp, double 2.5 ulp (measured 1.8).
// Inputs and special values as for log.
Value* emit_log_base(Em& m, Value* x, bool base2) {
  LogParts p = log_parts(m, x);
  Value* l = m.sub(p.l.f, m.sub(p.l.hfsq, p.l.sr));
  double chi, clo, ehi, elo;
  if (base2) {
    chi = m.dbl ? 1.4426950408889634 : 1.4426950216293335;
    clo = m.dbl ? 2.0355273740931033e-17 : 1.925963033500011e-08;
    ehi = 1.0;
    elo = 0.0;
  } else {
    chi = m.dbl ? 0.4342944819032518 : 0.4342944920063019;
    clo = m.dbl ? 1.098319650216765e-17 : -1.0103049952192578e-08;
    ehi = m.dbl ? 0.3010299956639812 : 0.3010300099849701;
    elo = m.dbl ? -2.8037281277851704e-18 : -1.432098883924482e-08;
  }
  Value* small = m.fma(l, m.c(clo), m.mul(p.e, m.c(elo)));
  small = m.fma(l, m.c(chi), small);
  Value* res = m.fma(p.e, m.c(ehi), small);
  return log_specials(m, x, res);
}

// log1p. u = 1 + x rounded; log1p(x) = log(u) + (1 + x - u)/u, the
// rounding error of u recovered exactly by Fast2Sum. When u is already in
// [sqrt(1/2), sqrt(2)) the reduced argument is x itself.
// Budget: float 2 ulp, double 2 ulp (measured 0.82), on (-1, inf);
// log1p(-1) = -inf, below -1 nan.
Value* emit_log1p(Em& m, Value* x) {
  Value* u = m.add(m.c(1.0), x);
  Value *e, *mm;
  split_exponent(m, u, &e, &mm);
  Value* e0 = m.ieq(e, m.ci(0));
  Value* err = m.sel(m.ole(m.abs(x), m.c(1.0)), m.add(m.sub(m.c(1.0), u), x), m.add(m.sub(x, u), m.c(1.0)));
  Value* cu = m.sel(e0, m.c(0.0), m.div(err, u));
  Value* f = m.sel(e0, x, m.sub(mm, m.c(1.0)));
  LogParts p{m.to_fp(e), log1p_parts(m, f)};
  Value* res = log_value(m, p, cu);
  res = m.sel(m.olt(x, m.c(-1.0)), m.c(kNaN), res);
  res = m.sel(m.oeq(x, m.c(-1.0)), m.c(-kInf), res);
  res = m.sel(m.oeq(x, m.c(kInf)), x, res);
  res = m.sel(m.olt(m.abs(x), m.c(m.dbl ? 0x1p-60 : 0x1p-30)), x, res);
  return m.sel(m.isnan(x), x, res);
}

// ------------------------------------------------------- tanh, sigmoid --

// tanh(x) = sign(x) t/(t+2), t = expm1(2|x|); |x| is clamped where tanh
// rounds to 1 (float 10, double 20), so expm1's own clamps and special
// cases are not needed (tiny |x| keep their value: t/(t+2) = |x|
// exactly when t = 2|x|). Budget: float 3 ulp, double 3 ulp (measured
// 2.1, 2.4), whole line.
Value* emit_tanh(Em& m, Value* x) {
  Value* ax = m.abs(x);
  double cl = m.dbl ? 20.0 : 10.0;
  Value* axc = m.sel(m.olt(ax, m.c(cl)), ax, m.c(cl));
  Value* t = expm1_core(m, m.mul(m.c(2.0), axc));
  Value* res = m.copysign(m.div(t, m.add(t, m.c(2.0))), x);
  return m.sel(m.isnan(x), x, res);
}

// sigmoid(x) = 1/(1+e) for x >= 0 and e/(1+e) for x < 0, e = exp(-|x|):
// never overflows, and for very negative x the result is e^x down into
// the subnormals. Budget: float 3 ulp, double 3 ulp (measured 2.1), whole
// line.
Value* emit_sigmoid(Em& m, Value* x) {
  Value* e = emit_exp(m, m.neg(m.abs(x)));
  Value* num = m.sel(m.olt(x, m.c(0.0)), e, m.c(1.0));
  return m.div(num, m.add(m.c(1.0), e));
}

// ---------------------------------------------------------------- erf --

// erf (float). |x| < 1: x (c0 + z P(z)), z = x^2, with c0 = 2/sqrt(pi) in
// head and tail so that its rounding does not count; P: Remez fit of
// (erf(x)/x - c0)/z on [0, 1] for relative error of erf, degree 5,
// 2^-26.1. 1 <= |x| <= 4: 1 - exp(Q(|x| - 1)), Q: Remez fit of log erfc on
// [1, 4], degree 6, weighted by erfc/erf (its share of the relative error
// of erf), 2^-26.7; a polynomial in |x| - 1 keeps the evaluation exact-ish
// where erfc is largest. |x| > 4: ±1. Budget: float 2.5 ulp (measured
// 1.2, 1.8 without FMA), whole line.
Value* emit_erf_float(Em& m, Value* x) {
  Value* ax = m.abs(x);
  Value* z = m.mul(x, x);
  Value* pa = m.poly(z, {-0x1.81274p-2, 0x1.ce2d4ep-4, -0x1.b7fdaep-6, 0x1.54247ap-8, -0x1.a4bb4cp-11, 0x1.4b4b98p-14});
  Value* ra = m.fma(ax, m.c(0x1.20dd76p+0), m.mul(ax, m.fma(z, pa, m.c(-5.8635382771399236e-08))));
  Value* t = m.sub(m.sel(m.olt(ax, m.c(4.0)), ax, m.c(4.0)), m.c(1.0));  // nan -> 4
  Value* q = m.poly(t, {-0x1.d97fcp+0, -0x1.51c9aap+1, -0x1.afad1cp-1, -0x1.53ff24p-5, 0x1.444122p-7, -0x1.df8fcep-10,
                        0x1.86dd86p-13});
  Value* rb = m.sub(m.c(1.0), exp_core(m, q, nullptr));
  Value* res = m.copysign(m.sel(m.olt(ax, m.c(1.0)), ra, rb), x);
  return m.sel(m.isnan(x), x, res);
}

// erf (double): the same scheme. |x| < 1: P of degree 11 (2^-56.2);
// 1 <= |x| <= 6: Q of degree 18 on [1, 6] (2^-57.6); |x| > 6: ±1.
// Budget: double 2.5 ulp (measured 1.2, 1.7 without FMA), whole line.
struct ErfParts {
  Value* small;  // ax < 1
  Value* ra;     // erf(ax), valid when small
  Value* ec;     // erfc(ax), valid when !small (relative accuracy)
};

ErfParts erf_parts_double(Em& m, Value* ax) {
  Value* z = m.mul(ax, ax);
  Value* pa = m.poly(z, {-0.3761263890318375, 0.11283791670954908, -0.02686617064508015, 0.005223977624838854,
                         -0.0008548326981601742, 0.00012055331128941622, -1.4925595497462695e-05,
                         1.64610019707488e-06, -1.635031050159042e-07, 1.465966613931515e-08,
                         -1.137213784383491e-09, 5.955580927086912e-11});
  Value* ra = m.fma(ax, m.c(1.1283791670955126), m.mul(ax, m.fma(z, pa, m.c(1.533545961316588e-17))));
  Value* t = m.sub(m.sel(m.olt(ax, m.c(6.0)), ax, m.c(6.0)), m.c(1.0));
  Value* q = m.poly(t, {-1.8496055099332482, -2.6389675142347886, -0.843107256358659, -0.041561098042181444,
                        0.01003382537845256, -0.00197790259402148, 0.0002373225907448383, 2.627756189556944e-05,
                        -2.7158474870178834e-05, 9.607956501798264e-06, -2.0587389835581807e-06,
                        1.4203291846371102e-07, 9.80597226389635e-08, -5.22686552703968e-08, 1.4987180488388525e-08,
                        -2.881594500031946e-09, 3.7096621016160507e-10, -2.9067357197661414e-11,
                        1.0496349859237804e-12});
  return {m.olt(ax, m.c(1.0)), ra, exp_core(m, q, nullptr)};
}

Value* emit_erf_double(Em& m, Value* x) {
  ErfParts p = erf_parts_double(m, m.abs(x));
  Value* res = m.copysign(m.sel(p.small, p.ra, m.sub(m.c(1.0), p.ec)), x);
  return m.sel(m.isnan(x), x, res);
}

Value* emit_erf(Em& m, Value* x) { return m.dbl ? emit_erf_double(m, x) : emit_erf_float(m, x); }

// ------------------------------------------------------------- erfinv --

// erfinv in the variable w = -log((1-y)(1+y)) (the factor 1-y is exact
// near |y| = 1, so w keeps its relative accuracy there): erfinv(y) =
// y P(w) with three polynomials, the regions and variables as in M. Giles,
// "Approximating the erfinv function" (GPU Computing Gems, 2011):
// w < 5: P1(w - 2.5); 5 <= w < 16: P2(sqrt(w) - 3); w >= 16 (double only):
// P3(sqrt(w) - 5). Our own Remez fits for relative error, degree 10, 10,
// 8: 2^-28.7, 2^-29.5, 2^-32.6. Computed in double.
Value* erfinv_init(Em& d, Value* y) {
  Value* a = d.abs(y);
  Value* w = d.neg(log_value(d, log_parts(d, d.mul(d.sub(d.c(1.0), a), d.add(d.c(1.0), a))), nullptr));
  Value* sw = d.sqrt(w);
  Value* p1 = d.poly(d.sub(w, d.c(2.5)), {1.5014093535140463, 0.24664028763497153, -0.0041773394067070695,
                                           -0.001252744660524749, 0.00021828263345192463, -4.961911962223467e-06,
                                           -3.4346126058450344e-06, 4.6589210713083294e-07, 1.803735402590509e-08,
                                           -8.772823279182997e-09, 3.3553099638953213e-10});
  Value* p2 = d.poly(d.sub(sw, d.c(3.0)), {2.832976800201594, 1.001675234835795, 0.009445391314064812,
                                            -0.007642661183620314, 0.005686751276968876, -0.003567951790596688,
                                            0.0014786638301559074, -0.00011782994277121929,
                                            -0.00028305568316858653, 0.00015880719579790254,
                                            -2.6347741475314314e-05});
  Value* p3 = d.poly(d.sub(sw, d.c(5.0)), {4.849906401601143, 1.0103004708861116, -0.00013872532538528992,
                                            -0.0002151014193494349, 7.603191908401726e-05, -1.9458627928472005e-05,
                                            4.43427981783951e-06, -1.23765405243476e-06, 3.275422957736275e-07});
  Value* p = d.sel(d.olt(w, d.c(5.0)), p1, d.sel(d.olt(w, d.c(16.0)), p2, p3));
  return d.mul(p, y);
}

// erfinv. float: the initial approximation in double, rounded once.
// double: that, then one Halley step on erf(x) = y (f = erf x - y,
// f' = 2/sqrt(pi) exp(-x^2), f'' = -2x f': x -= f / (f' + x f)), with the
// residual written as (1-|y|) - erfc(|x|) for |y| >= 1/2 so that it does
// not cancel. Budget: float 1 ulp (measured 0.54), double 5 ulp (measured
// 3.0, 4.3 without FMA: erfinv doubles erf's own error near |y| = 0.83),
// on [-1, 1]; ±1 -> ±inf, |y| > 1 -> nan.
Value* emit_erfinv(Em& m, Value* y) {
  Value* res;
  if (!m.dbl) {
    Em d(m.b, m.double_type());
    res = m.b.CreateFPTrunc(erfinv_init(d, m.b.CreateFPExt(y, d.ty)), m.ty);
  } else {
    Value* a = m.abs(y);
    Value* x0 = m.abs(erfinv_init(m, y));
    ErfParts ep = erf_parts_double(m, x0);
    Value* erf0 = m.sel(ep.small, ep.ra, m.sub(m.c(1.0), ep.ec));
    // For x >= 2.5 erfc needs more relative accuracy than erf's own
    // polynomial gives: erfc(x) = exp(-x^2) R(1/x^2) / (x sqrt(pi)), with
    // x^2 exact as a double-double and R a Remez fit of
    // erfc(x) x sqrt(pi) exp(x^2) in u = 1/x^2 on [1/6.1^2, 1/2.5^2],
    // weighted by u (an error d in erfc moves x by d/(2x^2)), degree 14,
    // 2^-54.7.
    Value* x2h = m.mul(x0, x0);
    Value* x2l = m.fma_exact(x0, x0, m.neg(x2h));
    Value* xe = m.sel(m.olt(x2h, m.c(700.0)), x2h, m.c(700.0));  // nan/inf -> finite, fixed below
    Value* u = m.div(m.c(1.0), x2h);
    Value* ru = m.poly(u, {0.9999999998151445, -0.49999995684448656, 0.7499953962191599, -1.8747012143590485,
                           6.549237640800315, -29.101514992548427, 151.8021957214558, -848.4188695504622,
                           4607.640691533067, -22258.36808985382, 88790.96768743405, -273116.2921547389,
                           598093.7189037817, -822461.0866288184, 530854.4225194302});
    Value* asym = m.div(m.mul(exp_core(m, m.neg(xe), m.neg(x2l)), ru), m.mul(x0, m.c(1.7724538509055159)));
    Value* erfc0 = m.sel(ep.small, m.sub(m.c(1.0), ep.ra), m.sel(m.olt(x0, m.c(2.5)), ep.ec, asym));
    Value* f = m.sel(m.olt(a, m.c(0.5)), m.sub(erf0, a), m.sub(erfc0, m.sub(m.c(1.0), a)));
    f = m.sel(m.olt(a, m.c(0.5)), f, m.neg(f));  // erf x - y = (1-y) - erfc x
    Value* fp = m.mul(m.c(1.1283791670955126), emit_exp(m, m.neg(m.mul(x0, x0))));
    Value* x1 = m.sub(x0, m.div(f, m.fma(x0, f, fp)));
    res = m.copysign(x1, y);
  }
  Value* a = m.abs(y);
  res = m.sel(m.oeq(a, m.c(1.0)), m.copysign(m.c(kInf), y), res);
  res = m.sel(m.ogt(a, m.c(1.0)), m.c(kNaN), res);
  res = m.sel(m.oeq(y, m.c(0.0)), y, res);  // keeps -0
  return m.sel(m.isnan(y), y, res);
}

// ------------------------------------------------------ sin, cos, tan --

// pi/2 in 28-bit parts (the last one a full double): n*kPio2_k is exact
// for |n| < 2^25, and each subtraction x - n*(P1+P2+...) is exact while
// the remainder is small (Cody-Waite).
constexpr double kPio2_1 = 0x1.921fb54p+0;
constexpr double kPio2_2 = 0x1.10b4612p-30;
constexpr double kPio2_3 = -0x1.676733ap-60;
constexpr double kPio2_4 = -0x1.d1fc8f8cbb5bfp-89;

// Below this |x| the Cody-Waite reduction is exact enough for every
// result (|n| < 2^25: see the constants above); from it on, up to the
// largest double, lanes take the Payne-Hanek path (cold_lanes.h).
constexpr double kTrigColdThreshold = 0x1p25;

// x = q pi/2 + r + rl (modulo 2 pi).
struct Pio2 {
  Value* r;
  Value* rl;  // null where the caller needs no tail (float results)
  Value* q;   // quadrant n mod 4, an integer of the double shape
};

// Always in double (float inputs are widened: the reduction and the
// polynomials are then far below float's rounding). x = n pi/2 + r,
// |r| <= pi/4, four-part Cody-Waite, accurate for |x| < 2^25 pi/2 (about
// 5.2e7). Lanes with |x| >= kTrigColdThreshold are reduced as if x were 0
// here: emit_trig replaces their results.
Pio2 cody_waite_pio2(Em& d, Value* x, bool float_result) {
  Value* xr = d.sel(d.olt(d.abs(x), d.c(kTrigColdThreshold)), x, d.c(0.0));
  Value* n = d.round_int(d.mul(xr, d.c(0.6366197723675814)));
  Value* nn = d.neg(n);
  Value* r = d.fma(nn, d.c(kPio2_1), xr);  // exact
  Value* rl = nullptr;
  if (float_result) {
    r = d.fma(nn, d.c(kPio2_2), r);
    r = d.fma(nn, d.c(kPio2_3), r);
    r = d.fma(nn, d.c(kPio2_4), r);
  } else {
    // For double results the rounding errors of the last three steps are
    // kept (TwoSum) in rl: r + rl is the remainder to about 2^-100.
    for (double part : {kPio2_2, kPio2_3, kPio2_4}) {
      Value* w = d.mul(nn, d.c(part));  // exact for the first two parts
      Value* sum = d.add(r, w);
      Value* bb = d.sub(sum, r);
      Value* e = d.add(d.sub(r, d.sub(sum, bb)), d.sub(w, bb));
      rl = rl ? d.add(rl, e) : e;
      r = sum;
    }
    Value* h = d.add(r, rl);
    rl = d.sub(rl, d.sub(h, r));
    r = h;
  }
  return {r, rl, d.iand(d.to_int(n), d.ci(3))};
}

struct SinCos {
  Value* s;  // sin(r + rl)
  Value* c;  // cos(r + rl)
};

// sin r = r + r^3 S(r^2), cos r = 1 - r^2/2 + r^4 C(r^2) for |r| <= pi/4,
// in double: Remez fits on [0, (pi/4)^2] for relative error: for float
// results S degree 3 (2^-37.5), C degree 2 (2^-33.0); for double S degree
// 6 (2^-57.1), C degree 5 (2^-59.6).
SinCos sincos_poly(Em& d, const Pio2& p, bool float_result) {
  Value* r = p.r;
  Value* rl = p.rl;
  Value* z = d.mul(r, r);
  Value *sp, *cp;
  if (float_result) {
    sp = d.poly(z, {-0.16666666640776232, 0.008333329302416646, -0.000198393114852447, 2.7181141163994106e-06});
    cp = d.poly(z, {0.04166664567015525, -0.001388731561648829, 2.4433082686349116e-05});
  } else {
    sp = d.poly(z, {-0.16666666666666666, 0.008333333333333323, -0.00019841269841254784, 2.7557319214056964e-06,
                    -2.5052104879764827e-08, 1.6058362894851785e-10, -7.578526699260211e-13});
    cp = d.poly(z, {0.041666666666666595, -0.001388888888887304, 2.480158728884138e-05, -2.755731417623535e-07,
                    2.0875700415486565e-09, -1.1358513922166289e-11});
  }
  Value* hz = d.mul(d.c(0.5), z);
  Value* w = d.sub(d.c(1.0), hz);
  // sin(r + rl) = sin r + rl cos r, cos(r + rl) = cos r - rl sin r, to
  // first order in rl (|rl| <= 2^-53 |r|).
  Value* s_extra = rl ? d.mul(rl, w) : d.c(0.0);
  Value* c_extra = rl ? d.mul(rl, r) : d.c(0.0);
  Value* s = d.add(r, d.fma(d.mul(r, z), sp, s_extra));
  // 1 - hz rounded, plus its exact rounding error, plus the z^2 C term.
  Value* c = d.add(w, d.fma(d.mul(z, z), cp, d.sub(d.sub(d.sub(d.c(1.0), w), hz), c_extra)));
  return {s, c};
}

enum class Trig { Sin, Cos, Tan };

// sin, cos or tan of q pi/2 + r from sin r and cos r.
Value* trig_of_quadrant(Em& d, const SinCos& sc, Value* q, Trig which) {
  Value* odd = d.ine(d.iand(q, d.ci(1)), d.ci(0));
  if (which == Trig::Tan) {
    Value* t = d.div(d.sel(odd, sc.c, sc.s), d.sel(odd, sc.s, sc.c));
    return d.sel(odd, d.neg(t), t);
  }
  Value* qq = which == Trig::Sin ? q : d.iadd(q, d.ci(1));
  Value* negate = d.ine(d.iand(qq, d.ci(2)), d.ci(0));
  Value* v = which == Trig::Sin ? d.sel(odd, sc.c, sc.s) : d.sel(odd, sc.s, sc.c);
  return d.sel(negate, d.neg(v), v);
}

// The cold path of emit_trig: a scalar function of the module computing
// sin, cos or tan of x with |x| >= kTrigColdThreshold (float or double)
// through the Payne-Hanek reduction and the double polynomials; inf gives
// nan.
llvm::Function* trig_cold_function(llvm::Module& mod, llvm::Type* elt, Trig which) {
  const char* names[] = {"sin", "cos", "tan"};
  std::string name = std::string("kiln_") + names[int(which)] + (elt->isDoubleTy() ? "_f64" : "_f32") + "_huge";
  if (llvm::Function* f = mod.getFunction(name)) return f;
  auto* f = llvm::Function::Create(llvm::FunctionType::get(elt, {elt}, false), llvm::Function::InternalLinkage,
                                   name, mod);
  f->setDoesNotAccessMemory();
  f->setDoesNotThrow();
  f->addFnAttr(llvm::Attribute::WillReturn);
  llvm::IRBuilder<> b(llvm::BasicBlock::Create(mod.getContext(), "entry", f));
  Em d(b, b.getDoubleTy());
  llvm::Value* x = f->getArg(0);
  llvm::Value* xd = elt->isDoubleTy() ? x : b.CreateFPExt(x, d.ty);
  Pio2Reduction red = emit_payne_hanek(b, xd);
  Value* res = trig_of_quadrant(d, sincos_poly(d, {red.r, red.rl, red.q}, false), red.q, which);
  res = d.sel(d.isinf(xd), d.c(kNaN), res);
  b.CreateRet(elt->isDoubleTy() ? res : b.CreateFPTrunc(res, elt));
  return f;
}

// Budget: float 1 ulp, double 1 ulp (sin, cos; measured 0.50, 0.75), float
// 1 ulp, double 2.5 ulp (tan; measured 0.50, 1.94), for every finite x:
// Cody-Waite below kTrigColdThreshold, Payne-Hanek from there on (a
// cold path per lane, so the fast path stays vectorized). inf and nan
// give nan.
Value* emit_trig(Em& m, Value* x, Trig which) {
  Em d(m.b, m.double_type());
  Value* xd = m.dbl ? x : m.b.CreateFPExt(x, d.ty);
  Pio2 p = cody_waite_pio2(d, xd, !m.dbl);
  Value* res = trig_of_quadrant(d, sincos_poly(d, p, !m.dbl), p.q, which);
  if (!m.dbl) res = m.b.CreateFPTrunc(res, m.ty);
  res = m.sel(m.lor(m.isinf(x), m.isnan(x)), m.c(kNaN), res);
  if (which != Trig::Cos) res = m.sel(m.oeq(x, m.c(0.0)), x, res);  // keeps -0
  llvm::Module& mod = *m.b.GetInsertBlock()->getModule();
  return emit_cold_lanes(m.b, x, res, kTrigColdThreshold, trig_cold_function(mod, m.ty->getScalarType(), which));
}

// ------------------------------------------------------------- arctan --

// atan(t) for t >= 0 (or nan): t in [0, tan(pi/8)]: atan(t); in
// (tan(pi/8), tan(3pi/8)]: pi/4 + atan((t-1)/(t+1)); beyond: pi/2 +
// atan(-1/t); one division in all cases. atan(u) = u + u^3 A(u^2), A a
// Remez fit of (atan(u)-u)/u^3 on [0, tan(pi/8)^2] for relative error:
// float degree 4 (2^-28.2), double degree 11 (2^-58.5).
Value* atan_nonneg(Em& m, Value* t) {
  Value* r1 = m.ole(t, m.c(0.41421356237309503));
  Value* r2 = m.ole(t, m.c(2.414213562373095));
  Value* num = m.sel(r1, t, m.sel(r2, m.sub(t, m.c(1.0)), m.c(-1.0)));
  Value* den = m.sel(r1, m.c(1.0), m.sel(r2, m.add(t, m.c(1.0)), t));
  Value* u = m.div(num, den);
  double pio4_hi = m.dbl ? 0.7853981633974483 : 0.7853981852531433;
  double pio4_lo = m.dbl ? 3.061616997868383e-17 : -2.1855694143368964e-08;
  double pio2_hi = m.dbl ? 1.5707963267948966 : 1.5707963705062866;
  double pio2_lo = m.dbl ? 6.123233995736766e-17 : -4.371138828673793e-08;
  Value* base_hi = m.sel(r1, m.c(0.0), m.sel(r2, m.c(pio4_hi), m.c(pio2_hi)));
  Value* base_lo = m.sel(r1, m.c(0.0), m.sel(r2, m.c(pio4_lo), m.c(pio2_lo)));
  Value* z = m.mul(u, u);
  Value* a = m.dbl ? m.poly(z, {-0.33333333333333326, 0.19999999999997645, -0.142857142853854, 0.11111111088034478,
                                -0.09090908139973677, 0.07692282668107608, -0.06666225584859922,
                                0.05877011768757331, -0.0521834828360813, 0.045033525173187615,
                                -0.03347053572431878, 0.015191787559684977})
                   : m.poly(z, {-0x1.55554ap-2, 0x1.999194p-3, -0x1.23b506p-3, 0x1.b1ea6p-4, -0x1.f1e3e2p-5});
  Value* small = m.fma(m.mul(u, z), a, base_lo);
  return m.add(base_hi, m.add(u, small));
}

// arctan. Budget: float 2.5 ulp, double 2.5 ulp (measured 1.74), whole line.
Value* emit_atan(Em& m, Value* x) {
  Value* res = m.copysign(atan_nonneg(m, m.abs(x)), x);
  return m.sel(m.isnan(x), x, res);
}

// arctan2(y, x) = ±atan(|y|/|x|) or ±(pi - atan(|y|/|x|)), with the IEEE
// special cases (signed zeros, both infinite). Budget: float 3 ulp,
// double 3 ulp (measured 2.1), all inputs.
Value* emit_atan2(Em& m, Value* y, Value* x) {
  Value* ay = m.abs(y);
  Value* ax = m.abs(x);
  Value* a = atan_nonneg(m, m.div(ay, ax));
  double pi_hi = m.dbl ? 3.141592653589793 : 3.1415927410125732;
  double pi_lo = m.dbl ? 1.2246467991473532e-16 : -8.742277657347586e-08;
  Value* xneg = m.signbit(x);
  a = m.sel(xneg, m.add(m.sub(m.c(pi_hi), a), m.c(pi_lo)), a);
  Value* both0 = m.land(m.oeq(ay, m.c(0.0)), m.oeq(ax, m.c(0.0)));
  a = m.sel(both0, m.sel(xneg, m.c(pi_hi), m.c(0.0)), a);
  Value* bothinf = m.land(m.oeq(ay, m.c(kInf)), m.oeq(ax, m.c(kInf)));
  double p34 = m.dbl ? 2.356194490192345 : 2.356194496154785;
  double p14 = m.dbl ? 0.7853981633974483 : 0.7853981852531433;
  a = m.sel(bothinf, m.sel(xneg, m.c(p34), m.c(p14)), a);
  Value* res = m.copysign(a, y);
  return m.sel(m.lor(m.isnan(x), m.isnan(y)), m.add(x, y), res);
}

// ---------------------------------------------------------- logaddexp --

// log(e^x + e^y) = max + log1p(exp(-|x - y|)), in double also for float.
// The result has a zero where e^x + e^y = 1, and the two terms cancel
// there (max in [-ln2, 0)): the log1p term's rounding, an absolute 2^-53,
// becomes the error. For float that is far below float's ulp down to
// results of about 2^-27 (in float the cancellation cost 1e5 ulp at
// logaddexp(-0.0953317, -2.39769) = -9.05e-7). Equal arguments give
// (x + ln2_hi) + ln2_lo, exact where it cancels (logaddexp(-ln2, -ln2) is
// ln2 - fl(ln2), not 0) and right for equal infinities. Unequal
// infinities: d = inf, the log1p term 0. nan propagates.
// Budget: float 2 ulp of max(|result|, 2^-26), double 2 ulp of
// max(|result|, 1/2) (measured 0.55, 1.06); ir/interpreter.cpp computes
// the same formula. Below those floors the error is absolute, about
// 2^-53 (float: 400 ulp at a result of 1.5e-12); relative accuracy there
// would need exp and log1p in double-double.
Value* logaddexp_core(Em& d, Value* x, Value* y) {
  Value* mx = d.sel(d.ogt(x, y), x, y);
  Value* diff = d.abs(d.sub(x, y));  // nan for equal infinities: replaced below
  Value* res = d.add(mx, emit_log1p(d, emit_exp(d, d.neg(diff))));
  Value* same = d.add(d.add(x, d.c(0x1.62e42fefa39efp-1)), d.c(0x1.abc9e3b39803fp-56));  // ln2 head, tail
  res = d.sel(d.oeq(x, y), same, res);
  return d.sel(d.lor(d.isnan(x), d.isnan(y)), d.add(x, y), res);
}

Value* emit_logaddexp(Em& m, Value* x, Value* y) {
  if (m.dbl) return logaddexp_core(m, x, y);
  Em d(m.b, m.double_type());
  Value* r = logaddexp_core(d, m.b.CreateFPExt(x, d.ty), m.b.CreateFPExt(y, d.ty));
  return m.b.CreateFPTrunc(r, m.ty);
}

// -------------------------------------------------------------- power --

// log|x| as a double-double hi + lo with relative error about 2^-64:
// x = 2^e mm, s = (mm-1)/(mm+1) as s_hi + s_lo (the division's residual is
// exact with one fma), log mm = 2s + (2/3)s^3 + s^5 T(s^2) with the cubic
// term in double-double. T: Remez fit of (2 atanh(s) - 2s - 2s^3/3)/s^5
// on [0, 0.1716^2], relative error 2^-50.3 (it contributes below 2^-62).
void log_dd(Em& m, Value* a, Value** hi, Value** lo) {
  Value* den = m.olt(a, m.c(0x1p-1022));
  Value* as = m.sel(den, m.mul(a, m.c(0x1p54)), a);
  Value *ei, *mm;
  split_exponent(m, as, &ei, &mm);
  Value* e = m.to_fp(m.isub(ei, m.sel(den, m.ci(54), m.ci(0))));
  Value* f = m.sub(mm, m.c(1.0));                 // exact
  Value* dh = m.add(mm, m.c(1.0));
  Value* dl = m.sub(mm, m.sub(dh, m.c(1.0)));     // Fast2Sum(1, mm): exp(1) >= exp(mm)
  Value* sh = m.div(f, dh);
  Value* rho = m.fma_exact(m.neg(sh), dh, f);     // f - sh*dh, exact
  Value* sl = m.div(m.sub(rho, m.mul(sh, dl)), dh);
  // s^2 and s^3 of sh in double-double.
  Value* zh = m.mul(sh, sh);
  Value* zl = m.fma_exact(sh, sh, m.neg(zh));
  Value* ch = m.mul(zh, sh);
  Value* cl = m.fma(zl, sh, m.fma_exact(zh, sh, m.neg(ch)));
  // (2/3) s^3
  constexpr double k23hi = 0.6666666666666666, k23lo = 3.700743415417188e-17;
  Value* th = m.mul(ch, m.c(k23hi));
  Value* tl = m.fma(cl, m.c(k23hi), m.fma(ch, m.c(k23lo), m.fma_exact(ch, m.c(k23hi), m.neg(th))));
  Value* tail = m.poly(zh, {0.40000000000000024, 0.28571428571338325, 0.22222222271174005, 0.18181808237217792,
                            0.15385575468794133, 0.13285937266274253, 0.12913844506962163});
  tail = m.mul(m.mul(ch, zh), tail);
  // 2 sl (1 + s^2): the first-order effect of sl on 2s + (2/3)s^3.
  Value* slterm = m.mul(m.mul(m.c(2.0), sl), m.add(m.c(1.0), zh));
  Value* s2 = m.mul(m.c(2.0), sh);
  Value* lh = m.add(s2, th);
  Value* ll = m.add(m.sub(s2, lh), th);  // Fast2Sum: |2s| > |th|
  ll = m.add(ll, m.add(m.add(tl, tail), slterm));
  // + e ln2 (head exact: e has at most 11 bits).
  Value* eh = m.mul(e, m.c(kLn2HiD));
  Value* el = m.mul(e, m.c(kLn2LoD));
  Value* h = m.add(eh, lh);  // TwoSum
  Value* bb = m.sub(h, eh);
  Value* err = m.add(m.sub(eh, m.sub(h, bb)), m.sub(lh, bb));
  Value* l = m.add(err, m.add(ll, el));
  *hi = m.add(h, l);
  *lo = m.sub(l, m.sub(*hi, h));
}

// pow(x, y) with the C99/IEEE special cases:
//   pow(x, ±0) = 1 and pow(1, y) = 1 even for nan; pow(-1, ±inf) = 1;
//   |x| < 1: pow(x, -inf) = inf, pow(x, inf) = 0 (and the reverse for |x| > 1);
//   pow(±0, y) and pow(±inf, y) by the sign of y, with the sign of x for
//   odd integer y; x < 0 finite with finite non-integer y is nan.
// The magnitude is exp(y log|x|): for float in double (plain double log
// and exp, error of y log|x| far below float's ulp); for double with a
// double-double log and exp of a double-double argument.
// Budget: float 1 ulp, double 2 ulp (measured 0.50, 1.15), for all finite
// results, including |y log x| up to the overflow and underflow limits.
Value* emit_pow(Em& m, Value* x, Value* y) {
  Value* ax = m.abs(x);
  Value* ay = m.abs(y);
  Value* mag;
  if (m.dbl) {
    Value *lh, *ll;
    log_dd(m, ax, &lh, &ll);
    Value* th = m.mul(y, lh);
    Value* tl = m.fma(y, ll, m.fma_exact(y, lh, m.neg(th)));
    Value* ok = m.olt(m.abs(th), m.c(1000.0));  // else: inf, nan or certain over/underflow
    Value* thc = m.sel(ok, th, m.copysign(m.c(1000.0), th));
    Value* tlc = m.sel(ok, tl, m.c(0.0));
    thc = m.sel(m.olt(thc, m.c(710.0)), thc, m.c(710.0));
    thc = m.sel(m.ogt(thc, m.c(-746.0)), thc, m.c(-746.0));
    mag = exp_core(m, thc, tlc);
  } else {
    Em d(m.b, m.double_type());
    Value* axd = m.b.CreateFPExt(ax, d.ty);
    Value* yd = m.b.CreateFPExt(y, d.ty);
    Value* t = d.mul(yd, log_value(d, log_parts(d, axd), nullptr));
    t = d.sel(d.olt(t, d.c(710.0)), t, d.c(710.0));  // also nan -> 710, fixed below
    t = d.sel(d.ogt(t, d.c(-746.0)), t, d.c(-746.0));
    mag = m.b.CreateFPTrunc(exp_core(d, t, nullptr), m.ty);
  }
  // Integer-ness and parity of y (no rounding intrinsics: the integer
  // conversion is exact below 2^mant+1 and every larger float is even).
  double big = m.dbl ? 0x1p53 : 0x1p24;
  Value* ysmall = m.olt(ay, m.c(big));
  Value* yi = m.to_int(m.sel(ysmall, y, m.c(0.0)));
  Value* yint = m.lor(m.lnot(ysmall), m.oeq(m.to_fp(yi), y));
  yint = m.land(yint, m.lnot(m.isinf(y)));
  Value* yodd = m.land(m.land(ysmall, m.oeq(m.to_fp(yi), y)), m.ine(m.iand(yi, m.ci(1)), m.ci(0)));
  Value* ypos = m.ogt(y, m.c(0.0));
  Value* inf = m.c(kInf);
  Value* zero = m.c(0.0);
  // |x| = 0 or inf.
  mag = m.sel(m.oeq(ax, zero), m.sel(ypos, zero, inf), mag);
  mag = m.sel(m.oeq(ax, inf), m.sel(ypos, inf, zero), mag);
  // y = ±inf.
  Value* yinf = m.isinf(y);
  Value* ax_gt1 = m.ogt(ax, m.c(1.0));
  Value* ax_eq1 = m.oeq(ax, m.c(1.0));
  Value* inf_case = m.sel(ax_eq1, m.c(1.0), m.sel(m.lnot(m.lor(ax_gt1, ax_eq1)) /* |x| < 1 */,
                                                    m.sel(ypos, zero, inf), m.sel(ypos, inf, zero)));
  mag = m.sel(yinf, inf_case, mag);
  // Sign: negative x (also -0, -inf) with odd integer y.
  Value* res = m.sel(m.land(m.signbit(x), yodd), m.neg(mag), mag);
  // x < 0 finite, y finite non-integer: nan.
  Value* xnegfin = m.land(m.olt(x, zero), m.lnot(m.isinf(x)));
  res = m.sel(m.land(xnegfin, m.land(m.lnot(yint), m.lnot(yinf))), m.c(kNaN), res);
  res = m.sel(m.lor(m.isnan(x), m.isnan(y)), m.c(kNaN), res);
  Value* one = m.c(1.0);
  res = m.sel(m.lor(m.oeq(y, zero), m.oeq(x, one)), one, res);
  return res;
}

}  // namespace

llvm::Value* emit_unary_math(ir::OpKind op, llvm::IRBuilderBase& b, llvm::Value* x) {
  llvm::Type* ty = x->getType();
  llvm::Type* s = ty->getScalarType();
  if (!s->isFloatTy() && !s->isDoubleTy()) return nullptr;
  // The selects that handle inf and nan must not be folded away by
  // fast-math flags the caller may have set for its own arithmetic.
  llvm::IRBuilderBase::FastMathFlagGuard guard(b);
  b.clearFastMathFlags();
  Em m(b, ty);
  switch (op) {
    case OpKind::Exp: return emit_exp(m, x);
    case OpKind::Expm1: return emit_expm1(m, x);
    case OpKind::Log: return emit_log(m, x);
    case OpKind::Log2: return emit_log_base(m, x, true);
    case OpKind::Log10: return emit_log_base(m, x, false);
    case OpKind::Log1p: return emit_log1p(m, x);
    case OpKind::Tanh: return emit_tanh(m, x);
    case OpKind::Sigmoid: return emit_sigmoid(m, x);
    case OpKind::Erf: return emit_erf(m, x);
    case OpKind::Erfinv: return emit_erfinv(m, x);
    case OpKind::Sin: return emit_trig(m, x, Trig::Sin);
    case OpKind::Cos: return emit_trig(m, x, Trig::Cos);
    case OpKind::Tan: return emit_trig(m, x, Trig::Tan);
    case OpKind::Arctan: return emit_atan(m, x);
    default: return nullptr;
  }
}

bool has_approximation(ir::OpKind op) {
  switch (op) {
    case OpKind::Exp: case OpKind::Expm1: case OpKind::Log: case OpKind::Log2: case OpKind::Log10:
    case OpKind::Log1p: case OpKind::Tanh: case OpKind::Sigmoid: case OpKind::Erf: case OpKind::Erfinv:
    case OpKind::Sin: case OpKind::Cos: case OpKind::Tan: case OpKind::Arctan: case OpKind::Power:
    case OpKind::Arctan2: case OpKind::LogAddExp:
      return true;
    default:
      return false;
  }
}

llvm::Value* emit_binary_math(ir::OpKind op, llvm::IRBuilderBase& b, llvm::Value* x, llvm::Value* y) {
  llvm::Type* ty = x->getType();
  llvm::Type* s = ty->getScalarType();
  if ((!s->isFloatTy() && !s->isDoubleTy()) || y->getType() != ty) return nullptr;
  llvm::IRBuilderBase::FastMathFlagGuard guard(b);
  b.clearFastMathFlags();
  Em m(b, ty);
  switch (op) {
    case OpKind::Power: return emit_pow(m, x, y);
    case OpKind::Arctan2: return emit_atan2(m, x, y);  // arctan2(x, y) = atan(x / y)
    case OpKind::LogAddExp: return emit_logaddexp(m, x, y);
    default: return nullptr;
  }
}

}  // namespace kiln::codegen
