#include "ir/dtype.h"

#include <cmath>
#include <stdexcept>

namespace kiln {

namespace {

struct DtypeNames { const char* name; const char* short_name; };
constexpr DtypeNames kNames[kNumDtypes] = {
    {"bool", "bool"}, {"uint8", "u8"},       {"uint16", "u16"},   {"uint32", "u32"},
    {"uint64", "u64"}, {"int8", "i8"},       {"int16", "i16"},    {"int32", "i32"},
    {"int64", "i64"},  {"float16", "f16"},   {"float32", "f32"},  {"float64", "f64"},
    {"bfloat16", "bf16"}, {"complex64", "c64"},
};

// The promotion lattice as JAX draws it. Node kStar is JAX's weak float f*,
// the join of unsigned 64-bit with signed ints; MLX resolves it to float32.
enum Node { B, U8, U16, U32, U64, I8, I16, I32, I64, F16, F32, F64, BF16, C64, FStar, kNodes };

uint32_t upper_set(int n) {
  // Direct successors of each node.
  static const std::initializer_list<int> succ[kNodes] = {
      /*B*/ {U8, I8},      /*U8*/ {U16, I16},  /*U16*/ {U32, I32}, /*U32*/ {U64, I64},
      /*U64*/ {FStar},     /*I8*/ {I16},       /*I16*/ {I32},      /*I32*/ {I64},
      /*I64*/ {FStar},     /*F16*/ {F32},      /*F32*/ {F64},      /*F64*/ {C64},
      /*BF16*/ {F32},      /*C64*/ {},         /*FStar*/ {F16, BF16},
  };
  uint32_t set = 1u << n;
  for (int s : succ[n]) set |= upper_set(s);
  return set;
}

}  // namespace

Dtype::Kind kindof(Dtype t) {
  if (t == bool_) return Dtype::Kind::b;
  if (is_unsigned(t)) return Dtype::Kind::u;
  if (is_signed_int(t)) return Dtype::Kind::i;
  if (t == bfloat16) return Dtype::Kind::V;
  if (is_floating(t)) return Dtype::Kind::f;
  return Dtype::Kind::c;
}

bool issubdtype(Dtype t, DtypeCategory c) {
  switch (c) {
    case DtypeCategory::complexfloating: return is_complex(t);
    case DtypeCategory::floating: return is_floating(t);
    case DtypeCategory::inexact: return is_inexact(t);
    case DtypeCategory::signedinteger: return is_signed_int(t);
    case DtypeCategory::unsignedinteger: return is_unsigned(t);
    case DtypeCategory::integer: return is_integral(t);
    case DtypeCategory::number: return t != bool_;
    case DtypeCategory::generic: return true;
  }
  return false;
}

bool issubdtype(Dtype a, Dtype b) { return a == b; }

bool issubdtype(DtypeCategory, Dtype) { return false; }

bool issubdtype(DtypeCategory a, DtypeCategory b) {
  using C = DtypeCategory;
  if (a == b || b == C::generic) return true;
  switch (b) {
    case C::number: return a != C::generic;
    case C::integer: return a == C::signedinteger || a == C::unsignedinteger;
    case C::inexact: return a == C::floating || a == C::complexfloating;
    case C::complexfloating: case C::floating: case C::signedinteger: case C::unsignedinteger:
    case C::generic:
      return false;
  }
  return false;
}

Dtype promote_types(Dtype a, Dtype b) {
  if (a == b) return a;
  static const auto table = [] {
    struct T { uint32_t up[kNodes]; } t{};
    for (int n = 0; n < kNodes; ++n) t.up[n] = upper_set(n);
    return t;
  }();
  uint32_t common = table.up[int(a.val)] & table.up[int(b.val)];
  // The join is the common upper bound below all the others.
  for (int n = 0; n < kNodes; ++n) {
    if (!(common >> n & 1)) continue;
    if ((table.up[n] & common) == common) {
      return n == FStar ? float32 : Dtype(Dtype::Val(n));
    }
  }
  return complex64;  // unreachable: complex64 bounds every type
}

std::string dtype_name(Dtype t) { return kNames[int(t.val)].name; }
std::string dtype_short_name(Dtype t) { return kNames[int(t.val)].short_name; }

bool dtype_from_short_name(const std::string& name, Dtype* out) {
  for (int i = 0; i < kNumDtypes; ++i) {
    if (name == kNames[i].short_name) {
      *out = Dtype(Dtype::Val(i));
      return true;
    }
  }
  return false;
}

std::ostream& operator<<(std::ostream& os, Dtype t) { return os << dtype_name(t); }

// IEEE half: 1 sign, 5 exponent (bias 15), 10 mantissa bits.
float half_to_float(uint16_t h) {
  uint32_t sign = uint32_t(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1f;
  uint32_t man = h & 0x3ff;
  uint32_t bits;
  if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (man << 13);  // inf / nan
  } else if (exp != 0) {
    bits = sign | ((exp + 112) << 23) | (man << 13);
  } else if (man == 0) {
    bits = sign;  // signed zero
  } else {
    // Subnormal half: value = man * 2^-24, exact in float.
    float f = std::ldexp(float(man), -24);
    return sign ? -f : f;
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

uint16_t float_to_half(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  uint16_t sign = uint16_t((x >> 16) & 0x8000);
  uint32_t ax = x & 0x7fffffffu;
  if (ax > 0x7f800000u) return sign | 0x7e00;        // nan (quiet)
  if (ax >= 0x477ff000u) return sign | 0x7c00;       // overflows to inf
  if (ax < 0x38800000u) {
    // Result is subnormal or zero: scale so the rounding happens in the
    // float adder, which rounds to nearest even.
    float r = std::fabs(f) + 0.5f;  // 0.5 = 2^-1 aligns half's 2^-24 ulp
    uint32_t rb;
    std::memcpy(&rb, &r, 4);
    return sign | uint16_t(rb - 0x3f000000u);
  }
  // Normal: rebias the exponent and round the 13 dropped bits to nearest even.
  uint32_t mant_odd = (ax >> 13) & 1;
  ax += 0xc8000fffu + mant_odd;  // (15 - 127) << 23, plus rounding bias
  return sign | uint16_t(ax >> 13);
}

uint16_t float_to_bfloat(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  if ((x & 0x7fffffffu) > 0x7f800000u) return uint16_t((x >> 16) | 0x40);  // quiet nan
  x += 0x7fffu + ((x >> 16) & 1);
  return uint16_t(x >> 16);
}

}  // namespace kiln
