#pragma once
// kiln's own f32 product kernel for a narrow C: many rows, at most
// kNarrowColumns columns, A not transposed. These are a convolution's
// products (patch matrix times weight: 25,088 x 32 over 144 for the
// Fashion-MNIST CNN's second layer), which OpenBLAS runs at a third to a
// half of what its kernels reach on square products: its blocking is made
// for wide C. Here a 6 x 16 tile of C stays in twelve AVX2 registers over
// the whole depth (each step: two loads of B, six broadcasts of A, twelve
// FMAs); B (a few KB) is read from cache, in place when stored k x n, else
// packed once; A streams. x86-64 only (elsewhere nothing applies).
#include <cstdint>
#include <functional>

namespace kiln::runtime {

inline constexpr int64_t kNarrowColumns = 64;

// Whether the CPU runs the kernel (AVX2 and FMA).
bool narrow_gemm_available();

// Whether matmul_f32 (blas.h) gives this product to narrow_gemm_f32: a
// narrow C with enough rows, A not transposed, on a CPU with AVX2 but not
// AVX-512.
bool narrow_gemm_applies(int64_t m, int64_t n, int64_t k, bool trans_a);

// C (m x n, row-major) = A (m x k) op(B), op(B) = B (k x n) or, with
// trans_b, B stored n x k; over the runtime's thread pool, rows split
// among the threads. Requires narrow_gemm_available().
void narrow_gemm_f32(int64_t m, int64_t n, int64_t k, const float* a, const float* b, bool trans_b, float* c);

// Computes rows [r0, r1) of A (each k floats), on the calling thread, into
// `scratch` (room for them) or wherever it keeps A; returns where they are.
using ProduceRows = std::function<const float*(int64_t r0, int64_t r1, float* scratch)>;

// narrow_gemm_f32 with A computed as it goes: each thread has produce_a
// compute a block of A's rows (about 96 KB, at least one tile of 6 rows: it
// stays in the core's cache) and multiplies it before producing the next.
// For an A that a kernel computes (a convolution's patch matrix,
// codegen/executor.cpp): the product reads it from the cache, and where
// nothing else needs it, it never goes to memory at all.
void narrow_gemm_f32_produced(int64_t m, int64_t n, int64_t k, const ProduceRows& produce_a, const float* b,
                              bool trans_b, float* c);

}  // namespace kiln::runtime
