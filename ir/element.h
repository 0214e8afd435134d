#pragma once
// Reading and writing single elements of any dtype through a few wide C++
// types. The interpreter, constant folding, printing and the array
// constructors all exchange elements this way, so each dtype's encoding
// (float16 bits, bool bytes, complex pairs) is handled in one place.
//
// Conversions are defined for every pair: float -> int truncates toward zero
// and saturates at the type's range (nan gives 0); anything -> bool is
// "!= 0"; complex -> real takes the real part.
#include <complex>
#include <cstdint>

#include "ir/dtype.h"

namespace kiln {

// The wide domain an element of dtype t is computed in.
enum class Domain { Int, UInt, Float, Complex };  // Int covers bool and signed
Domain domain_of(Dtype t);

double load_f64(Dtype t, const void* base, int64_t i);
int64_t load_i64(Dtype t, const void* base, int64_t i);
uint64_t load_u64(Dtype t, const void* base, int64_t i);
std::complex<double> load_c128(Dtype t, const void* base, int64_t i);

void store_f64(Dtype t, void* base, int64_t i, double v);
void store_i64(Dtype t, void* base, int64_t i, int64_t v);
void store_u64(Dtype t, void* base, int64_t i, uint64_t v);
void store_c128(Dtype t, void* base, int64_t i, std::complex<double> v);

// Copies element si of (st, src) to element di of (dt, dst), converting.
void convert_element(Dtype st, const void* src, int64_t si, Dtype dt, void* dst, int64_t di);

}  // namespace kiln
