#pragma once
// MLX's affine quantization layout, shared by the interpreter, the host
// kernel and the frontend (frontend/quantize.h), so that weights quantized
// by MLX load unchanged:
//  * a row of w (float, length c) is cut into groups of `group_size`
//    consecutive elements; each group has a scale s and a bias b, and an
//    element is s * q + b with the code q in [0, 2^bits - 1];
//  * the codes of a row are one little-endian bit stream: code j occupies
//    bits [j * bits, (j + 1) * bits) of the row, the lowest first, and the
//    stream is stored as uint32 words (c * bits / 32 per row). For 2, 4 and
//    8 bits, word i holds codes 32/bits * i .. with code 32/bits * i in its
//    lowest bits; 3-, 5- and 6-bit codes (MLX packs 8, 8 and 4 of them into
//    3, 5 and 3 bytes) may straddle two words.
#include <cstdint>

namespace kiln::ir {

// Code j of a row of packed words.
[[gnu::always_inline]] inline uint32_t quantized_code(const uint32_t* row, int64_t j, int bits) {
  const int64_t bit = j * bits;
  const int64_t word = bit / 32;
  const int shift = int(bit % 32);
  uint64_t v = row[word] >> shift;
  if (shift + bits > 32) v |= uint64_t(row[word + 1]) << (32 - shift);
  return uint32_t(v) & ((1u << bits) - 1);
}

}  // namespace kiln::ir
