#pragma once
// Element types, their sizes and names, and the type-promotion lattice.
// Mirrors mlx::core::Dtype (plus float64), with MLX's (= JAX's) promotion.
#include <complex>
#include <cstdint>
#include <cstring>
#include <ostream>
#include <string>
#include <type_traits>

namespace kiln {

// Category tags for issubdtype, as in MLX (spelled Dtype::Category there,
// which names this enum too). Each category contains the ones listed after
// it in NumPy's tree: generic > number > {integer > {signed, unsigned},
// inexact > {floating, complexfloating}}; bool is only generic.
enum class DtypeCategory {
  complexfloating, floating, inexact, signedinteger, unsignedinteger,
  integer, number, generic,
};

struct Dtype {
  using Category = DtypeCategory;
  enum class Val : uint8_t {
    bool_, uint8, uint16, uint32, uint64, int8, int16, int32, int64,
    float16, float32, float64, bfloat16, complex64,
  };
  // Kind letters follow NumPy's (b, u, i, f, c); bfloat16 is 'V' as in MLX.
  enum class Kind : uint8_t { b, u, i, f, c, V };

  Val val;
  constexpr Dtype() : val(Val::float32) {}
  constexpr Dtype(Val v) : val(v) {}
  constexpr uint8_t size() const {
    switch (val) {
      case Val::bool_: case Val::uint8: case Val::int8: return 1;
      case Val::uint16: case Val::int16: case Val::float16: case Val::bfloat16: return 2;
      case Val::uint32: case Val::int32: case Val::float32: return 4;
      default: return 8;  // uint64, int64, float64, complex64
    }
  }
  constexpr bool operator==(const Dtype& o) const { return val == o.val; }
  constexpr bool operator!=(const Dtype& o) const { return val != o.val; }
};

inline constexpr Dtype bool_{Dtype::Val::bool_};
inline constexpr Dtype uint8{Dtype::Val::uint8};
inline constexpr Dtype uint16{Dtype::Val::uint16};
inline constexpr Dtype uint32{Dtype::Val::uint32};
inline constexpr Dtype uint64{Dtype::Val::uint64};
inline constexpr Dtype int8{Dtype::Val::int8};
inline constexpr Dtype int16{Dtype::Val::int16};
inline constexpr Dtype int32{Dtype::Val::int32};
inline constexpr Dtype int64{Dtype::Val::int64};
inline constexpr Dtype float16{Dtype::Val::float16};
inline constexpr Dtype float32{Dtype::Val::float32};
inline constexpr Dtype float64{Dtype::Val::float64};
inline constexpr Dtype bfloat16{Dtype::Val::bfloat16};
inline constexpr Dtype complex64{Dtype::Val::complex64};

inline constexpr int kNumDtypes = 14;

inline constexpr DtypeCategory complexfloating = DtypeCategory::complexfloating;
inline constexpr DtypeCategory floating = DtypeCategory::floating;
inline constexpr DtypeCategory inexact = DtypeCategory::inexact;
inline constexpr DtypeCategory signedinteger = DtypeCategory::signedinteger;
inline constexpr DtypeCategory unsignedinteger = DtypeCategory::unsignedinteger;
inline constexpr DtypeCategory integer = DtypeCategory::integer;
inline constexpr DtypeCategory number = DtypeCategory::number;
inline constexpr DtypeCategory generic = DtypeCategory::generic;

Dtype::Kind kindof(Dtype t);
// As MLX's four overloads: a dtype is in the categories above it; a dtype
// is a subtype only of itself; a category is never a subtype of a dtype; a
// category is a subtype of itself and of the categories that contain it.
bool issubdtype(Dtype t, DtypeCategory c);
bool issubdtype(Dtype a, Dtype b);           // true iff a == b
bool issubdtype(DtypeCategory a, Dtype b);   // always false
bool issubdtype(DtypeCategory a, DtypeCategory b);
inline uint8_t size_of(Dtype t) { return t.size(); }

inline bool is_floating(Dtype t) { return t == float16 || t == float32 || t == float64 || t == bfloat16; }
inline bool is_complex(Dtype t) { return t == complex64; }
inline bool is_inexact(Dtype t) { return is_floating(t) || is_complex(t); }
inline bool is_unsigned(Dtype t) { return t == uint8 || t == uint16 || t == uint32 || t == uint64; }
inline bool is_signed_int(Dtype t) { return t == int8 || t == int16 || t == int32 || t == int64; }
inline bool is_integral(Dtype t) { return is_unsigned(t) || is_signed_int(t); }

// The smallest type both a and b convert to without loss (MLX/JAX lattice):
// bool < u8 < u16 < u32 < u64 and i8 < i16 < i32 < i64, u(n) < i(2n),
// any int < float16, bfloat16; float16, bfloat16 < float32 < float64 <
// complex64; u64 with a signed int gives float32.
Dtype promote_types(Dtype a, Dtype b);

// "float32", "int64", "bool" — the names used by MLX and NumPy.
std::string dtype_name(Dtype t);
// "f32", "i64", "bool" — the short names of the IR text form.
std::string dtype_short_name(Dtype t);
// Inverse of dtype_short_name; returns false for an unknown name.
bool dtype_from_short_name(const std::string& name, Dtype* out);

std::ostream& operator<<(std::ostream& os, Dtype t);

// --- 16-bit floating formats: storage types with conversions -------------

float half_to_float(uint16_t bits);
uint16_t float_to_half(float f);  // round to nearest even, keeps inf/nan
inline float bfloat_to_float(uint16_t bits) {
  uint32_t u = uint32_t(bits) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
uint16_t float_to_bfloat(float f);  // round to nearest even, keeps nan

struct float16_t {
  uint16_t bits = 0;
  float16_t() = default;
  float16_t(float f) : bits(float_to_half(f)) {}
  operator float() const { return half_to_float(bits); }
};
struct bfloat16_t {
  uint16_t bits = 0;
  bfloat16_t() = default;
  bfloat16_t(float f) : bits(float_to_bfloat(f)) {}
  operator float() const { return bfloat_to_float(bits); }
};
using complex64_t = std::complex<float>;

// The dtype a C++ scalar type maps to. As in MLX, double maps to float32 and
// `long`/`long long` to int64.
template <typename T> struct TypeToDtypeImpl;
template <> struct TypeToDtypeImpl<bool> { static constexpr Dtype value = bool_; };
template <> struct TypeToDtypeImpl<uint8_t> { static constexpr Dtype value = uint8; };
template <> struct TypeToDtypeImpl<uint16_t> { static constexpr Dtype value = uint16; };
template <> struct TypeToDtypeImpl<uint32_t> { static constexpr Dtype value = uint32; };
template <> struct TypeToDtypeImpl<unsigned long> { static constexpr Dtype value = uint64; };
template <> struct TypeToDtypeImpl<unsigned long long> { static constexpr Dtype value = uint64; };
template <> struct TypeToDtypeImpl<int8_t> { static constexpr Dtype value = int8; };
template <> struct TypeToDtypeImpl<char> { static constexpr Dtype value = int8; };
template <> struct TypeToDtypeImpl<int16_t> { static constexpr Dtype value = int16; };
template <> struct TypeToDtypeImpl<int32_t> { static constexpr Dtype value = int32; };
template <> struct TypeToDtypeImpl<long> { static constexpr Dtype value = int64; };
template <> struct TypeToDtypeImpl<long long> { static constexpr Dtype value = int64; };
template <> struct TypeToDtypeImpl<float16_t> { static constexpr Dtype value = float16; };
template <> struct TypeToDtypeImpl<bfloat16_t> { static constexpr Dtype value = bfloat16; };
template <> struct TypeToDtypeImpl<float> { static constexpr Dtype value = float32; };
template <> struct TypeToDtypeImpl<double> { static constexpr Dtype value = float32; };
template <> struct TypeToDtypeImpl<complex64_t> { static constexpr Dtype value = complex64; };
template <typename T>
inline constexpr Dtype TypeToDtype() { return TypeToDtypeImpl<std::remove_cv_t<T>>::value; }

}  // namespace kiln
