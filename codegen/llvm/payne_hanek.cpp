// Payne–Hanek reduction modulo pi/2; see payne_hanek.h.
//
// x = M 2^e with M the 53-bit integer significand. Bits of 2/pi = sum b_i
// 2^-i with e - i >= 2 add multiples of 4 to x 2/pi, which do not change
// sin or cos, so only the bits from b_(e-1) on matter: a window W of 192
// bits starting there gives x 2/pi mod 4 = M W 2^-190 up to M 2^-190 <
// 2^-137. The product's bits 191..190 are the quadrant, bits 189..0 the
// fraction f (rounded to the nearest quadrant: f in [-1/2, 1/2)), from
// which r = f pi/2 follows in double-double. The smallest |r| of any
// double is about 2^-61 (Kahan, McDonald), so the 128 fraction bits kept
// give r to about 2^-66 relative or better.
#include "codegen/llvm/payne_hanek.h"
#include "codegen/two_over_pi.h"

#include <llvm/IR/Constants.h>
#include <llvm/IR/DerivedTypes.h>
#include <llvm/IR/GlobalVariable.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/Module.h>

#include <cstdint>
#include <vector>

namespace kiln::codegen {
namespace {

// pi/2 as a double-double.
constexpr double kPio2Hi = 0x1.921fb54442d18p+0;
constexpr double kPio2Lo = 0x1.1a62633145c07p-54;

llvm::GlobalVariable* table(llvm::Module& m) {
  const char* name = "kiln_two_over_pi_bits";
  if (llvm::GlobalVariable* g = m.getNamedGlobal(name)) return g;
  std::vector<uint64_t> words(std::begin(kTwoOverPi), std::end(kTwoOverPi));
  llvm::Constant* init = llvm::ConstantDataArray::get(m.getContext(), words);
  auto* g = new llvm::GlobalVariable(m, init->getType(), true, llvm::GlobalValue::PrivateLinkage, init, name);
  g->setUnnamedAddr(llvm::GlobalValue::UnnamedAddr::Global);
  return g;
}

}  // namespace

Pio2Reduction emit_payne_hanek(llvm::IRBuilderBase& b, llvm::Value* x) {
  llvm::Module& m = *b.GetInsertBlock()->getModule();
  llvm::Type* i64 = b.getInt64Ty();
  llvm::Type* i128 = b.getIntNTy(128);
  llvm::Type* f64 = b.getDoubleTy();
  auto c64 = [&](uint64_t v) { return llvm::ConstantInt::get(i64, v); };
  auto c128 = [&](uint64_t v) { return llvm::ConstantInt::get(i128, v); };
  auto wide = [&](llvm::Value* v) { return b.CreateZExt(v, i128); };
  auto low = [&](llvm::Value* v) { return b.CreateTrunc(v, i64); };

  llvm::Value* bits = b.CreateBitCast(x, i64);
  llvm::Value* ex = b.CreateAnd(b.CreateLShr(bits, 52), c64(0x7ff));
  llvm::Value* sig = b.CreateOr(b.CreateAnd(bits, c64((uint64_t(1) << 52) - 1)), c64(uint64_t(1) << 52));

  // The window starts at bit b_(e-1), e = ex - 1075: offset ex - 1013 in
  // the table (its leading zero word included), clamped for tiny x.
  llvm::Value* off = b.CreateSub(ex, c64(1013));
  off = b.CreateSelect(b.CreateICmpSLT(off, c64(0)), c64(0), off);
  llvm::Value* word = b.CreateLShr(off, 6);
  llvm::Value* shift = b.CreateAnd(off, c64(63));
  llvm::GlobalVariable* tab = table(m);
  llvm::Value* t[4];
  for (int k = 0; k < 4; ++k) {
    llvm::Value* p = b.CreateInBoundsGEP(i64, tab, b.CreateAdd(word, c64(k)));
    t[k] = b.CreateLoad(i64, p);
  }
  // w[k] = 64 bits of the window: (t[k] << shift) | (t[k+1] >> (64 - shift)).
  llvm::Value* w[3];
  for (int k = 0; k < 3; ++k) w[k] = b.CreateIntrinsic(llvm::Intrinsic::fshl, {i64}, {t[k], t[k + 1], shift});

  // sig * W mod 2^192 in three 64-bit limbs (lo0 least significant).
  llvm::Value* p = b.CreateMul(wide(sig), wide(w[2]));
  llvm::Value* lo0 = low(p);
  p = b.CreateAdd(b.CreateMul(wide(sig), wide(w[1])), b.CreateLShr(p, 64));
  llvm::Value* lo1 = low(p);
  p = b.CreateAdd(b.CreateMul(wide(sig), wide(w[0])), b.CreateLShr(p, 64));
  llvm::Value* lo2 = low(p);

  // Quadrant and the 128 fraction bits below it, rounded to the nearest
  // quadrant: a fraction >= 1/2 is negative as a signed number.
  llvm::Value* q = b.CreateLShr(lo2, 62);
  llvm::Value* frac = b.CreateOr(b.CreateOr(b.CreateShl(wide(lo2), 66), b.CreateShl(wide(lo1), 2)),
                                 wide(b.CreateLShr(lo0, 62)));
  llvm::Value* neg = b.CreateICmpSLT(frac, c128(0));
  q = b.CreateAnd(b.CreateAdd(q, b.CreateZExt(neg, i64)), c64(3));
  llvm::Value* mag = b.CreateSelect(neg, b.CreateNeg(frac), frac);  // |f| 2^128, unsigned

  // |f| as a double-double: normalize, then the top 53 bits (exact) and
  // the next 63 (rounded once).
  llvm::Value* lz = b.CreateIntrinsic(llvm::Intrinsic::ctlz, {i128}, {mag, b.getFalse()});
  lz = b.CreateSelect(b.CreateICmpUGT(lz, c128(127)), c128(127), lz);  // mag = 0: f = 0 below
  llvm::Value* norm = b.CreateShl(mag, lz);
  llvm::Value* lz64 = low(lz);
  auto pow2 = [&](llvm::Value* k) {  // 2^k for a normal exponent k (i64)
    return b.CreateBitCast(b.CreateShl(b.CreateAdd(k, c64(1023)), 52), f64);
  };
  llvm::Value* head = b.CreateSIToFP(low(b.CreateLShr(norm, 75)), f64);
  llvm::Value* tail = b.CreateSIToFP(b.CreateAnd(low(b.CreateLShr(norm, 12)), c64((uint64_t(1) << 63) - 1)), f64);
  llvm::Value* fh = b.CreateFMul(head, pow2(b.CreateSub(c64(-53), lz64)));
  llvm::Value* fl = b.CreateFMul(tail, pow2(b.CreateSub(c64(-116), lz64)));

  // r = f pi/2 in double-double (the product's error exactly by fma).
  auto fma = [&](llvm::Value* a, llvm::Value* c, llvm::Value* d) {
    return b.CreateIntrinsic(llvm::Intrinsic::fma, {f64}, {a, c, d});
  };
  llvm::Value* pio2_hi = llvm::ConstantFP::get(f64, kPio2Hi);
  llvm::Value* pio2_lo = llvm::ConstantFP::get(f64, kPio2Lo);
  llvm::Value* rh = b.CreateFMul(fh, pio2_hi);
  llvm::Value* rl = b.CreateFAdd(fma(fh, pio2_hi, b.CreateFNeg(rh)),
                                 b.CreateFAdd(b.CreateFMul(fh, pio2_lo), b.CreateFMul(fl, pio2_hi)));
  llvm::Value* r = b.CreateFAdd(rh, rl);  // Fast2Sum: |rh| >= |rl|
  rl = b.CreateFSub(rl, b.CreateFSub(r, rh));

  // f < 0 when rounded up to the next quadrant; and the reduction was of
  // |x|: x < 0 mirrors it.
  llvm::Value* xneg = b.CreateICmpSLT(bits, c64(0));
  llvm::Value* sign_neg = b.CreateXor(xneg, neg);
  r = b.CreateSelect(sign_neg, b.CreateFNeg(r), r);
  rl = b.CreateSelect(sign_neg, b.CreateFNeg(rl), rl);
  q = b.CreateSelect(xneg, b.CreateAnd(b.CreateNeg(q), c64(3)), q);
  return {r, rl, q};
}

}  // namespace kiln::codegen
