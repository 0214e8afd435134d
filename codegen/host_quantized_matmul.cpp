// The quantized_matmul op's host kernel (codegen/host_fft_quant.h): x times
// MLX's affine dequantization of w (ir/quantized.h), without materializing
// the dequantized matrix.
//  * transpose (y = x w^T, w [n, k]): y[i, j] = sum_g s[j, g] (x_g . q_g) +
//    b[j, g] sum(x_g) over the groups g of row j. Each group's codes are
//    unpacked once into a small float buffer and dotted with the group of
//    every row of x (of a tile of rows), so that one pass over w serves a
//    whole batch; the group sums of x are computed once. Output columns
//    are split over the thread pool.
//  * no transpose (y = x w, w [k, n]): each thread owns a range of whole
//    groups of output columns and, row k of w at a time, dequantizes its
//    part of the row into a buffer and adds x[i, k] times it to its tile of y.
//  * transpose with 2, 4 or 8 bits (the common case, and the one where
//    batch 1 must be memory-bound): no float buffer at all. Eight codes are
//    decoded straight into a vector register (broadcast the word, shift
//    each lane by its own amount, mask, convert) and multiplied into up to
//    four rows of x at once; a block of columns stays in cache while every
//    row tile of x passes over it.
// Inner loops are unit-stride with independent accumulators, so the
// compiler vectorizes them; on x86-64 the hot functions are also compiled
// for AVX2 + FMA and picked at load time (target_clones).
#include <algorithm>
#include <cstring>
#include <vector>

#include "codegen/host_fft_quant.h"
#include "ir/quantized.h"
#include "runtime/thread_pool.h"

// Not under sanitizers or fuzzing instrumentation: target_clones picks the
// clone in an ifunc resolver that the dynamic loader runs while relocating,
// before the sanitizer runtime is initialized, and the instrumented resolver
// crashes the program at load (seen with ThreadSanitizer).
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
#define KILN_INSTRUMENTED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__) || defined(FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION)
#define KILN_INSTRUMENTED 1
#endif

#if defined(__x86_64__) && defined(__GNUC__) && !defined(KILN_INSTRUMENTED)
#define KILN_VECTOR_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define KILN_VECTOR_CLONES
#endif

namespace kiln::codegen {

namespace {

using ir::Op;
using ir::Tensor;

// The `count` codes (a multiple of 32) that start at word `words` as floats.
// Codes of a 32-code block fill exactly `bits` words, so each block is
// unpacked from its own words with shifts that are constants once unrolled.
template <int Bits>
[[gnu::always_inline]] inline void unpack(const uint32_t* words, int64_t count, float* q) {
  for (int64_t blk = 0; blk < count / 32; ++blk) {
    const uint32_t* w = words + blk * Bits;
    float* out = q + blk * 32;
    if constexpr (32 % Bits == 0) {
      constexpr int per = 32 / Bits;
      for (int i = 0; i < Bits; ++i)
        for (int t = 0; t < per; ++t) out[i * per + t] = float((w[i] >> (t * Bits)) & ((1u << Bits) - 1));
    } else {
      for (int t = 0; t < 32; ++t) out[t] = float(ir::quantized_code(w, t, Bits));
    }
  }
}

struct Shapes {
  int64_t m, k, n, groups, words, group;  // groups and words per row of w
  int bits;
};

// y[i, j] for rows i in [0, m) and output columns j in [j0, j1), w^T form.
// Rows come in tiles of kRowTile and columns in blocks of kColBlock: a
// group of x (kRowTile x group floats) stays in L1 while the block's
// unpacked codes are dotted with it, and each (row, column) keeps 8 partial
// sums across groups, reduced once at the end.
template <int Bits>
[[gnu::always_inline]] inline void transposed_body(const Shapes& s, const float* x, const float* xsum,
                                                   const uint32_t* w, const float* scales, const float* biases,
                                                   float* y, int64_t j0, int64_t j1) {
  constexpr int64_t kRowTile = 32, kColBlock = 8;
  std::vector<float> q(static_cast<size_t>(kColBlock * s.group));
  std::vector<float> acc(static_cast<size_t>(kRowTile * kColBlock * 8)), bacc(static_cast<size_t>(kRowTile * kColBlock));
  for (int64_t i0 = 0; i0 < s.m; i0 += kRowTile) {
    const int64_t rows = std::min(kRowTile, s.m - i0);
    for (int64_t jb = j0; jb < j1; jb += kColBlock) {
      const int64_t cols = std::min(kColBlock, j1 - jb);
      std::fill(acc.begin(), acc.begin() + rows * kColBlock * 8, 0.0f);
      std::fill(bacc.begin(), bacc.begin() + rows * kColBlock, 0.0f);
      for (int64_t g = 0; g < s.groups; ++g) {
        float sc[kColBlock], bi[kColBlock];
        for (int64_t c = 0; c < cols; ++c) {
          unpack<Bits>(w + (jb + c) * s.words + g * s.group * Bits / 32, s.group, q.data() + c * s.group);
          sc[c] = scales[(jb + c) * s.groups + g];
          bi[c] = biases[(jb + c) * s.groups + g];
        }
        for (int64_t i = 0; i < rows; ++i) {
          const float* xr = x + (i0 + i) * s.k + g * s.group;
          const float xs = xsum[(i0 + i) * s.groups + g];
          for (int64_t c = 0; c < cols; ++c) {
            const float* qc = q.data() + c * s.group;
            float part[8] = {0, 0, 0, 0, 0, 0, 0, 0};
            for (int64_t jj = 0; jj < s.group; jj += 8)
              for (int t = 0; t < 8; ++t) part[t] += xr[jj + t] * qc[jj + t];
            float* a = acc.data() + (i * kColBlock + c) * 8;
            for (int t = 0; t < 8; ++t) a[t] += sc[c] * part[t];
            bacc[size_t(i * kColBlock + c)] += bi[c] * xs;
          }
        }
      }
      for (int64_t i = 0; i < rows; ++i)
        for (int64_t c = 0; c < cols; ++c) {
          const float* a = acc.data() + (i * kColBlock + c) * 8;
          y[(i0 + i) * s.n + jb + c] =
              ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7])) + bacc[size_t(i * kColBlock + c)];
        }
    }
  }
}

// Eight floats in registers: GCC/Clang vector extensions, so the same code
// is SSE in the default clone and AVX2 in the x86-64-v3 one. (The helpers
// that return vectors are always inlined, so GCC's note that such returns
// change the ABI without AVX does not concern them.)
#pragma GCC diagnostic ignored "-Wpsabi"
typedef float f32x8 __attribute__((vector_size(32)));
typedef float f32x8_unaligned __attribute__((vector_size(32), aligned(4)));
typedef uint32_t u32x8 __attribute__((vector_size(32)));
typedef int32_t i32x8 __attribute__((vector_size(32)));

// Codes 8v .. 8v+7 of a 32-code block (Bits words) as floats, lane l holding
// code 8v + l: code c sits in word c / (32 / Bits) at bit (c % (32 / Bits)) * Bits.
template <int Bits>
[[gnu::always_inline]] inline f32x8 decode8(const uint32_t* block, int v) {
  u32x8 words, shifts;
  if constexpr (Bits == 4) {
    words = u32x8{} + block[v];
    shifts = u32x8{0, 4, 8, 12, 16, 20, 24, 28};
  } else if constexpr (Bits == 2) {
    words = u32x8{} + block[v / 2];
    shifts = u32x8{0, 2, 4, 6, 8, 10, 12, 14} + uint32_t((v % 2) * 16);
  } else {
    static_assert(Bits == 8);
    const uint32_t a = block[2 * v], b = block[2 * v + 1];
    words = u32x8{a, a, a, a, b, b, b, b};
    shifts = u32x8{0, 8, 16, 24, 0, 8, 16, 24};
  }
  // Through signed integers (the codes are small): unsigned-to-float has no
  // single instruction before AVX-512 and costs two conversions and an FMA.
  return __builtin_convertvector(reinterpret_cast<i32x8>((words >> shifts) & ((1u << Bits) - 1)), f32x8);
}

[[gnu::always_inline]] inline f32x8 load8(const float* p) { return *reinterpret_cast<const f32x8_unaligned*>(p); }

[[gnu::always_inline]] inline float lane_sum(f32x8 v) {
  return ((v[0] + v[1]) + (v[2] + v[3])) + ((v[4] + v[5]) + (v[6] + v[7]));
}

// y[i0 .. i0+Rows, j] = sum over groups g of s[j, g] (x_g . q_g) + b[j, g] sum(x_g).
template <int Bits, int Rows>
[[gnu::always_inline]] inline void decode_dot_column(const Shapes& s, const float* x, const float* xsum,
                                                     const uint32_t* wrow, const float* srow, const float* brow,
                                                     float* y, int64_t i0, int64_t j) {
  f32x8 acc[Rows] = {};
  float bias_acc[Rows] = {};
  for (int64_t g = 0; g < s.groups; ++g) {
    // Several partial dots per row so that consecutive FMAs do not wait on
    // each other (a single row is otherwise bound by the FMA latency).
    constexpr int kChains = Rows == 1 ? 4 : 2;
    f32x8 dot[Rows][kChains] = {};
    const uint32_t* wg = wrow + g * s.group * Bits / 32;
    for (int64_t blk = 0; blk < s.group / 32; ++blk) {
      const uint32_t* block = wg + blk * Bits;
      const int64_t col = g * s.group + blk * 32;
      for (int v = 0; v < 4; ++v) {
        const f32x8 q = decode8<Bits>(block, v);
        for (int r = 0; r < Rows; ++r) dot[r][v % kChains] += load8(x + (i0 + r) * s.k + col + 8 * v) * q;
      }
    }
    for (int r = 0; r < Rows; ++r) {
      f32x8 d = dot[r][0];
      for (int c = 1; c < kChains; ++c) d += dot[r][c];
      acc[r] += srow[g] * d;
      bias_acc[r] += brow[g] * xsum[(i0 + r) * s.groups + g];
    }
  }
  for (int r = 0; r < Rows; ++r) y[(i0 + r) * s.n + j] = lane_sum(acc[r]) + bias_acc[r];
}

// The w^T form for 2, 4 and 8 bits over output columns [j0, j1): a block of
// columns (a few KiB of codes) is reused by every tile of rows of x.
template <int Bits>
[[gnu::always_inline]] inline void decode_dot_body(const Shapes& s, const float* x, const float* xsum,
                                                   const uint32_t* w, const float* scales, const float* biases,
                                                   float* y, int64_t j0, int64_t j1) {
  constexpr int64_t kColBlock = 16;
  for (int64_t jb = j0; jb < j1; jb += kColBlock) {
    const int64_t je = std::min(j1, jb + kColBlock);
    int64_t i0 = 0;
    for (; i0 + 4 <= s.m; i0 += 4)
      for (int64_t j = jb; j < je; ++j)
        decode_dot_column<Bits, 4>(s, x, xsum, w + j * s.words, scales + j * s.groups, biases + j * s.groups, y, i0, j);
    for (; i0 < s.m; ++i0)
      for (int64_t j = jb; j < je; ++j)
        decode_dot_column<Bits, 1>(s, x, xsum, w + j * s.words, scales + j * s.groups, biases + j * s.groups, y, i0, j);
  }
}

// y[:, j0:j1] for the plain form (w is [k, n]); j0 and j1 are on group
// boundaries.
template <int Bits>
[[gnu::always_inline]] inline void plain_body(const Shapes& s, const float* x, const uint32_t* w,
                                              const float* scales, const float* biases, float* y, int64_t j0,
                                              int64_t j1) {
  const int64_t width = j1 - j0;
  std::vector<float> q(static_cast<size_t>(width)), tile(static_cast<size_t>(s.m * width), 0.0f);
  for (int64_t r = 0; r < s.k; ++r) {
    unpack<Bits>(w + r * s.words + j0 * Bits / 32, width, q.data());
    for (int64_t c = 0; c < width; c += s.group) {
      const float sc = scales[r * s.groups + (j0 + c) / s.group], bi = biases[r * s.groups + (j0 + c) / s.group];
      for (int64_t t = 0; t < s.group; ++t) q[size_t(c + t)] = sc * q[size_t(c + t)] + bi;
    }
    for (int64_t i = 0; i < s.m; ++i) {
      const float xv = x[i * s.k + r];
      float* out = tile.data() + i * width;
      for (int64_t t = 0; t < width; ++t) out[t] += xv * q[size_t(t)];
    }
  }
  for (int64_t i = 0; i < s.m; ++i) std::memcpy(y + i * s.n + j0, tile.data() + i * width, size_t(width) * sizeof(float));
}

// The bodies with the width a constant (shifts and masks fold), compiled
// once per target clone.
KILN_VECTOR_CLONES
void transposed_columns(const Shapes& s, const float* x, const float* xsum, const uint32_t* w, const float* scales,
                        const float* biases, float* y, int64_t j0, int64_t j1) {
  switch (s.bits) {
    case 2: return decode_dot_body<2>(s, x, xsum, w, scales, biases, y, j0, j1);
    case 3: return transposed_body<3>(s, x, xsum, w, scales, biases, y, j0, j1);
    case 4: return decode_dot_body<4>(s, x, xsum, w, scales, biases, y, j0, j1);
    case 5: return transposed_body<5>(s, x, xsum, w, scales, biases, y, j0, j1);
    case 6: return transposed_body<6>(s, x, xsum, w, scales, biases, y, j0, j1);
    default: return decode_dot_body<8>(s, x, xsum, w, scales, biases, y, j0, j1);
  }
}

KILN_VECTOR_CLONES
void plain_columns(const Shapes& s, const float* x, const uint32_t* w, const float* scales, const float* biases,
                   float* y, int64_t j0, int64_t j1) {
  switch (s.bits) {
    case 2: return plain_body<2>(s, x, w, scales, biases, y, j0, j1);
    case 3: return plain_body<3>(s, x, w, scales, biases, y, j0, j1);
    case 4: return plain_body<4>(s, x, w, scales, biases, y, j0, j1);
    case 5: return plain_body<5>(s, x, w, scales, biases, y, j0, j1);
    case 6: return plain_body<6>(s, x, w, scales, biases, y, j0, j1);
    default: return plain_body<8>(s, x, w, scales, biases, y, j0, j1);
  }
}

}  // namespace

Tensor quantized_matmul_host(const Op& op, const std::vector<Tensor>& in) {
  Shapes s;
  s.bits = int(op.int_attr("bits"));
  s.group = op.int_attr("group_size");
  const bool transpose = op.int_attr("transpose") != 0;
  const ir::Shape& ws = in[1].type.shape;
  const int64_t rows = ws[0];
  s.words = ws[1];
  const int64_t cols = s.words * 32 / s.bits;
  s.groups = cols / s.group;
  s.k = transpose ? cols : rows;
  s.n = transpose ? rows : cols;
  s.m = s.k ? in[0].type.size() / s.k : op.type.size() / std::max<int64_t>(1, s.n);
  Tensor out{op.type, runtime::allocate(size_t(op.type.nbytes()))};
  float* y = static_cast<float*>(out.buffer->data());
  if (op.type.size() == 0) return out;
  if (s.k == 0) {
    std::fill(y, y + op.type.size(), 0.0f);
    return out;
  }
  const float* x = static_cast<const float*>(in[0].buffer->data());
  const auto* w = static_cast<const uint32_t*>(in[1].buffer->data());
  const float* scales = static_cast<const float*>(in[2].buffer->data());
  const float* biases = static_cast<const float*>(in[3].buffer->data());
  auto& pool = runtime::ThreadPool::global();
  if (transpose) {
    std::vector<float> xsum(static_cast<size_t>(s.m * s.groups));
    for (int64_t i = 0; i < s.m; ++i)
      for (int64_t g = 0; g < s.groups; ++g) {
        float acc = 0;
        for (int64_t t = 0; t < s.group; ++t) acc += x[i * s.k + g * s.group + t];
        xsum[size_t(i * s.groups + g)] = acc;
      }
    // About 64 KiB of packed weights per chunk at least.
    const int64_t grain = std::max<int64_t>(1, 65536 / std::max<int64_t>(1, s.words * 4));
    pool.parallel_for(s.n, grain, [&](int64_t b, int64_t e) {
      transposed_columns(s, x, xsum.data(), w, scales, biases, y, b, e);
    });
  } else {
    const int64_t grain = std::max<int64_t>(1, 65536 / std::max<int64_t>(1, s.k * s.group * s.bits / 8));
    pool.parallel_for(s.groups, grain, [&](int64_t b, int64_t e) {
      plain_columns(s, x, w, scales, biases, y, b * s.group, e * s.group);
    });
  }
  return out;
}

}  // namespace kiln::codegen
