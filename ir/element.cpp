#include "ir/element.h"

#include <cmath>
#include <cstring>
#include <limits>

namespace kiln {

Domain domain_of(Dtype t) {
  if (is_complex(t)) return Domain::Complex;
  if (is_floating(t)) return Domain::Float;
  if (is_unsigned(t)) return Domain::UInt;
  return Domain::Int;
}

namespace {

template <typename T>
T get(const void* base, int64_t i) {
  T v;
  std::memcpy(&v, static_cast<const char*>(base) + i * sizeof(T), sizeof(T));
  return v;
}
template <typename T>
void put(void* base, int64_t i, T v) {
  std::memcpy(static_cast<char*>(base) + i * sizeof(T), &v, sizeof(T));
}

// float -> integer with saturation; nan -> 0.
template <typename I>
I saturate(double v) {
  if (std::isnan(v)) return 0;
  constexpr double lo = double(std::numeric_limits<I>::lowest());
  constexpr double hi = double(std::numeric_limits<I>::max());
  if (v <= lo) return std::numeric_limits<I>::lowest();
  if (v >= hi) return std::numeric_limits<I>::max();
  return I(v);
}

// d rounded to float with "round to odd": truncate toward zero and set the
// last mantissa bit if anything was cut off. Rounding that again to a format
// with at least two fewer mantissa bits gives the correctly rounded result.
float round_to_odd_float(double d) {
  float f = float(d);
  if (std::isnan(d) || std::isinf(f) || double(f) == d) return f;
  if (std::fabs(double(f)) > std::fabs(d)) f = std::nextafter(f, 0.0f);
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  bits |= 1;
  std::memcpy(&f, &bits, 4);
  return f;
}

}  // namespace

double load_f64(Dtype t, const void* b, int64_t i) {
  switch (t.val) {
    case Dtype::Val::bool_: return get<uint8_t>(b, i) ? 1.0 : 0.0;
    case Dtype::Val::uint8: return get<uint8_t>(b, i);
    case Dtype::Val::uint16: return get<uint16_t>(b, i);
    case Dtype::Val::uint32: return get<uint32_t>(b, i);
    case Dtype::Val::uint64: return double(get<uint64_t>(b, i));
    case Dtype::Val::int8: return get<int8_t>(b, i);
    case Dtype::Val::int16: return get<int16_t>(b, i);
    case Dtype::Val::int32: return get<int32_t>(b, i);
    case Dtype::Val::int64: return double(get<int64_t>(b, i));
    case Dtype::Val::float16: return half_to_float(get<uint16_t>(b, i));
    case Dtype::Val::bfloat16: return bfloat_to_float(get<uint16_t>(b, i));
    case Dtype::Val::float32: return get<float>(b, i);
    case Dtype::Val::float64: return get<double>(b, i);
    case Dtype::Val::complex64: return get<std::complex<float>>(b, i).real();
  }
  return 0;
}

int64_t load_i64(Dtype t, const void* b, int64_t i) {
  switch (t.val) {
    case Dtype::Val::bool_: return get<uint8_t>(b, i) ? 1 : 0;
    case Dtype::Val::uint8: return get<uint8_t>(b, i);
    case Dtype::Val::uint16: return get<uint16_t>(b, i);
    case Dtype::Val::uint32: return get<uint32_t>(b, i);
    case Dtype::Val::uint64: return int64_t(get<uint64_t>(b, i));  // wraps
    case Dtype::Val::int8: return get<int8_t>(b, i);
    case Dtype::Val::int16: return get<int16_t>(b, i);
    case Dtype::Val::int32: return get<int32_t>(b, i);
    case Dtype::Val::int64: return get<int64_t>(b, i);
    default: return saturate<int64_t>(load_f64(t, b, i));
  }
}

uint64_t load_u64(Dtype t, const void* b, int64_t i) {
  switch (t.val) {
    case Dtype::Val::uint64: return get<uint64_t>(b, i);
    case Dtype::Val::bool_: case Dtype::Val::uint8: case Dtype::Val::uint16:
    case Dtype::Val::uint32: case Dtype::Val::int8: case Dtype::Val::int16:
    case Dtype::Val::int32: case Dtype::Val::int64:
      return uint64_t(load_i64(t, b, i));  // two's complement wrap, as C
    default: return saturate<uint64_t>(load_f64(t, b, i));
  }
}

std::complex<double> load_c128(Dtype t, const void* b, int64_t i) {
  if (t == complex64) {
    auto c = get<std::complex<float>>(b, i);
    return {c.real(), c.imag()};
  }
  return {load_f64(t, b, i), 0.0};
}

void store_i64(Dtype t, void* b, int64_t i, int64_t v) {
  switch (t.val) {
    case Dtype::Val::bool_: put<uint8_t>(b, i, v != 0); return;
    case Dtype::Val::uint8: put<uint8_t>(b, i, uint8_t(v)); return;
    case Dtype::Val::uint16: put<uint16_t>(b, i, uint16_t(v)); return;
    case Dtype::Val::uint32: put<uint32_t>(b, i, uint32_t(v)); return;
    case Dtype::Val::uint64: put<uint64_t>(b, i, uint64_t(v)); return;
    case Dtype::Val::int8: put<int8_t>(b, i, int8_t(v)); return;
    case Dtype::Val::int16: put<int16_t>(b, i, int16_t(v)); return;
    case Dtype::Val::int32: put<int32_t>(b, i, int32_t(v)); return;
    case Dtype::Val::int64: put<int64_t>(b, i, v); return;
    default: store_f64(t, b, i, double(v)); return;
  }
}

void store_u64(Dtype t, void* b, int64_t i, uint64_t v) {
  if (is_inexact(t)) {
    store_f64(t, b, i, double(v));
  } else {
    store_i64(t, b, i, int64_t(v));  // integer narrowing wraps either way
  }
}

void store_f64(Dtype t, void* b, int64_t i, double v) {
  switch (t.val) {
    case Dtype::Val::bool_: put<uint8_t>(b, i, v != 0); return;
    case Dtype::Val::uint8: put<uint8_t>(b, i, saturate<uint8_t>(v)); return;
    case Dtype::Val::uint16: put<uint16_t>(b, i, saturate<uint16_t>(v)); return;
    case Dtype::Val::uint32: put<uint32_t>(b, i, saturate<uint32_t>(v)); return;
    case Dtype::Val::uint64: put<uint64_t>(b, i, saturate<uint64_t>(v)); return;
    case Dtype::Val::int8: put<int8_t>(b, i, saturate<int8_t>(v)); return;
    case Dtype::Val::int16: put<int16_t>(b, i, saturate<int16_t>(v)); return;
    case Dtype::Val::int32: put<int32_t>(b, i, saturate<int32_t>(v)); return;
    case Dtype::Val::int64: put<int64_t>(b, i, saturate<int64_t>(v)); return;
    // Through a float rounded to odd, which the second rounding to 16 bits
    // cannot spoil: the result is the correctly rounded double -> half.
    case Dtype::Val::float16: put<uint16_t>(b, i, float_to_half(round_to_odd_float(v))); return;
    case Dtype::Val::bfloat16: put<uint16_t>(b, i, float_to_bfloat(round_to_odd_float(v))); return;
    case Dtype::Val::float32: put<float>(b, i, float(v)); return;
    case Dtype::Val::float64: put<double>(b, i, v); return;
    case Dtype::Val::complex64: put<std::complex<float>>(b, i, {float(v), 0.f}); return;
  }
}

void store_c128(Dtype t, void* b, int64_t i, std::complex<double> v) {
  if (t == complex64) {
    put<std::complex<float>>(b, i, {float(v.real()), float(v.imag())});
  } else if (t == bool_) {
    put<uint8_t>(b, i, v != 0.0);  // 1j is true: any nonzero part counts
  } else {
    store_f64(t, b, i, v.real());
  }
}

void convert_element(Dtype st, const void* src, int64_t si, Dtype dt, void* dst, int64_t di) {
  switch (domain_of(st)) {
    case Domain::Int: store_i64(dt, dst, di, load_i64(st, src, si)); return;
    case Domain::UInt: store_u64(dt, dst, di, load_u64(st, src, si)); return;
    case Domain::Float: store_f64(dt, dst, di, load_f64(st, src, si)); return;
    case Domain::Complex: store_c128(dt, dst, di, load_c128(st, src, si)); return;
  }
}

}  // namespace kiln
