// Affine quantization (quantize.h). quantize and dequantize are composites
// (their packing is shifts and sums of uint64 codes, so they trace, fuse
// and vmap as any other ops); quantized_matmul is the quantized_matmul op
// (codegen/host_quantized_matmul.cpp).
#include "frontend/quantize.h"

#include <algorithm>

#include "frontend/ops_util.h"
#include "ir/quantized.h"

namespace kiln {

namespace {

using detail::str;
using detail::throw_invalid;

void check_mode(const char* op, const std::string& mode, const std::optional<array>& global_scale) {
  if (mode != "affine") throw_invalid(op, "Only mode \"affine\" is supported, got \"" + mode + "\".");
  if (global_scale) throw_invalid(op, "A global scale is only used by the nvfp4 mode, not \"affine\".");
}

void check_group_bits(const char* op, int group_size, int bits) {
  if (group_size != 32 && group_size != 64 && group_size != 128)
    throw_invalid(op, "The requested group size " + std::to_string(group_size) +
                          " is not supported. The supported group sizes are 32, 64, and 128.");
  if (bits != 2 && bits != 3 && bits != 4 && bits != 5 && bits != 6 && bits != 8)
    throw_invalid(op, "The requested number of bits " + std::to_string(bits) +
                          " is not supported. The supported bits are 2, 3, 4, 5, 6 and 8.");
}

// Code t of a 32-code block starts at bit t * bits of the block's `bits`
// words: in word t * bits / 32 at shift t * bits % 32, continuing into the
// next word when it straddles.
int first_word(int t, int bits) { return t * bits / 32; }
int shift_in_word(int t, int bits) { return t * bits % 32; }

array int_table(const std::vector<uint64_t>& v, Shape shape) {
  return array(v.data(), std::move(shape), uint64);
}

}  // namespace

std::vector<array> quantize(const array& w, std::optional<int> group_size_opt, std::optional<int> bits_opt,
                            const std::string& mode, const std::optional<array>& global_scale, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  const int group_size = group_size_opt.value_or(64), bits = bits_opt.value_or(4);
  check_mode("quantize", mode, global_scale);
  check_group_bits("quantize", group_size, bits);
  if (!is_floating(w.dtype()))
    throw_invalid("quantize", "Only real floating types can be quantized but " + dtype_name(w.dtype()) + " was passed.");
  if (w.ndim() < 2)
    throw_invalid("quantize", "The matrix to be quantized must have at least 2 dimensions but it has only " +
                                  std::to_string(w.ndim()) + ".");
  const int k = w.shape().back();
  if (k % group_size != 0)
    throw_invalid("quantize", "The last dimension of the matrix needs to be divisible by the quantization group size " +
                                  std::to_string(group_size) + ". However the provided matrix has shape " +
                                  str(w.shape()) + ".");
  const int groups = k / group_size;
  Shape grouped = w.shape();
  grouped.back() = groups;
  grouped.push_back(group_size);
  const array wg = reshape(astype(w, float32), grouped);
  const float n_bins = float((1 << bits) - 1);

  const array w_max = max(wg, -1, true), w_min = min(wg, -1, true);
  const array low_edge = greater(abs(w_min), abs(w_max));
  array scales = maximum(divide(subtract(w_max, w_min), array(n_bins)), array(1e-7f));
  scales = where(low_edge, scales, negative(scales));
  const array edge = where(low_edge, w_min, w_max);
  const array q0 = round(divide(edge, scales));
  const array at_zero = equal(q0, array(0.0f));
  scales = where(at_zero, scales, divide(edge, q0));
  const array biases = where(at_zero, array(0.0f), edge);
  const array codes =
      astype(clip(round(divide(subtract(wg, biases), scales)), array(0.0f), array(n_bins)), uint64);

  // Pack: blocks of 32 codes fill `bits` words. Code t sits at offset
  // off = t * bits - 32 i of word i of its block, and word i is the sum of
  // (code << off) (off >= 0) or (code >> -off) (-bits < off < 0), within 32
  // bits, over the codes that touch it (one or two words each).
  const int blocks = k / 32;
  Shape blocked = w.shape();
  blocked.back() = blocks;
  blocked.push_back(32);
  blocked.push_back(1);
  const array c = reshape(codes, blocked);  // [..., blocks, 32, 1]
  std::vector<uint64_t> up(size_t(32 * bits)), down(size_t(32 * bits)), touches(size_t(32 * bits));
  for (int t = 0; t < 32; ++t)
    for (int i = 0; i < bits; ++i) {
      const int off = t * bits - 32 * i;  // the code's offset within word i (may be negative)
      const bool hit = off > -bits && off < 32;
      touches[size_t(t * bits + i)] = hit;
      up[size_t(t * bits + i)] = hit ? uint64_t(32 + std::max(off, 0)) : 0;
      down[size_t(t * bits + i)] = hit && off < 0 ? uint64_t(-off) : 0;
    }
  // As ((code >> down) << up) >> 32: for off >= 0, down = 0 and up = 32 +
  // off (the bits past the word leave the uint64); for off < 0, down = -off
  // and up = 32.
  array parts = right_shift(left_shift(right_shift(c, int_table(down, {32, bits})), int_table(up, {32, bits})),
                            array(uint64_t(32)));
  parts = multiply(bitwise_and(parts, array(uint64_t(0xffffffffu))), int_table(touches, {32, bits}));
  Shape packed = w.shape();
  packed.back() = k * bits / 32;
  const array wq = astype(reshape(sum(parts, -2), packed), uint32);
  Shape sshape = w.shape();
  sshape.back() = groups;
  return {wq, astype(reshape(scales, sshape), w.dtype()), astype(reshape(biases, sshape), w.dtype())};
}

array dequantize(const array& w, const array& scales, const std::optional<array>& biases,
                 std::optional<int> group_size_opt, std::optional<int> bits_opt, const std::string& mode,
                 const std::optional<array>& global_scale, std::optional<Dtype> dtype, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  const int group_size = group_size_opt.value_or(64), bits = bits_opt.value_or(4);
  check_mode("dequantize", mode, global_scale);
  check_group_bits("dequantize", group_size, bits);
  if (!biases) throw_invalid("dequantize", "Biases must be provided for affine quantization.");
  if (w.dtype() != uint32) throw_invalid("dequantize", "The matrix should be given as a uint32, got " + dtype_name(w.dtype()) + ".");
  if (w.ndim() < 2)
    throw_invalid("dequantize", "The matrix to be dequantized must have at least 2 dimensions but it has only " +
                                    std::to_string(w.ndim()) + ".");
  if ((int64_t(w.shape().back()) * 32) % bits != 0)
    throw_invalid("dequantize", "The last dimension of the packed matrix " + str(w.shape()) + " does not hold whole " +
                                    std::to_string(bits) + "-bit codes.");
  const int k = int(int64_t(w.shape().back()) * 32 / bits);
  Shape sshape = w.shape();
  sshape.back() = k / group_size;
  if (k % group_size != 0 || scales.shape() != sshape || biases->shape() != sshape)
    throw_invalid("dequantize", "Shape of scales and biases does not match the matrix given the quantization "
                                "parameters. Provided matrix of shape " + str(w.shape()) + " and scales/biases of shape " +
                                    str(scales.shape()) + "/" + str(biases->shape()) + ".");
  const Dtype out = dtype.value_or(scales.dtype());
  if (!is_floating(out)) throw_invalid("dequantize", "The output dtype must be floating, got " + dtype_name(out) + ".");

  // Code t of each 32-code block: the 64 bits of its first word and the
  // next (the last word again where there is none), shifted and masked.
  Shape blocked = w.shape();
  blocked.back() = k / 32;
  blocked.push_back(bits);
  const array words = astype(reshape(w, blocked), uint64);  // [..., blocks, bits]
  std::vector<int32_t> lo(32), hi(32);
  std::vector<uint64_t> shift(32);
  for (int t = 0; t < 32; ++t) {
    lo[size_t(t)] = first_word(t, bits);
    hi[size_t(t)] = std::min(first_word(t, bits) + 1, bits - 1);
    shift[size_t(t)] = uint64_t(shift_in_word(t, bits));
  }
  const int nd = int(words.ndim());
  const array both = bitwise_or(take(words, array(lo.data(), {32}, int32), nd - 1),
                                left_shift(take(words, array(hi.data(), {32}, int32), nd - 1), array(uint64_t(32))));
  const array codes = bitwise_and(right_shift(both, int_table(shift, {32})), array(uint64_t((1u << bits) - 1)));
  Shape grouped = w.shape();
  grouped.back() = k / group_size;
  grouped.push_back(group_size);
  const array q = reshape(astype(codes, float32), grouped);
  const array deq = add(multiply(q, expand_dims(astype(scales, float32), -1)), expand_dims(astype(*biases, float32), -1));
  Shape full = w.shape();
  full.back() = k;
  return astype(reshape(deq, full), out);
}

array quantized_matmul(array x, array w, array scales, std::optional<array> biases, bool transpose,
                       std::optional<int> group_size_opt, std::optional<int> bits_opt, const std::string& mode,
                       StreamOrDevice s) {
  detail::OpStream on_stream(s);
  const int group_size = group_size_opt.value_or(64), bits = bits_opt.value_or(4);
  check_mode("quantized_matmul", mode, std::nullopt);
  check_group_bits("quantized_matmul", group_size, bits);
  if (!biases) throw_invalid("quantized_matmul", "Biases must be provided for affine quantization.");
  if (w.dtype() != uint32)
    throw_invalid("quantized_matmul", "The weight matrix should be uint32 but received " + dtype_name(w.dtype()) + ".");
  if (w.ndim() != 2)
    throw_invalid("quantized_matmul", "Only a 2-D weight matrix is supported, got shape " + str(w.shape()) + ".");
  if (x.ndim() < 1) throw_invalid("quantized_matmul", "The input must have at least one dimension.");
  const Dtype t = promote_types(x.dtype(), scales.dtype());
  if (!is_floating(t) || !is_floating(x.dtype()))
    throw_invalid("quantized_matmul", "Only real floating types are supported but " + dtype_name(x.dtype()) +
                                          " and " + dtype_name(scales.dtype()) + " were passed.");
  if ((int64_t(w.shape()[1]) * 32) % bits != 0)
    throw_invalid("quantized_matmul", "The packed matrix " + str(w.shape()) + " does not hold whole " +
                                          std::to_string(bits) + "-bit codes.");
  const int cols = int(int64_t(w.shape()[1]) * 32 / bits);
  const Shape sshape{w.shape()[0], cols / group_size};
  if (cols % group_size != 0 || scales.shape() != sshape || biases->shape() != sshape)
    throw_invalid("quantized_matmul", "Shape of scales and biases does not match the matrix given the quantization "
                                      "parameters. Provided matrix of shape " + str(w.shape()) +
                                          " and scales/biases of shape " + str(scales.shape()) + "/" +
                                          str(biases->shape()) + ".");
  const int k = transpose ? cols : w.shape()[0];
  if (x.shape().back() != k)
    throw_invalid("quantized_matmul", "The shapes of the weight and input are incompatible for matmul with transpose=" +
                                          std::string(transpose ? "true" : "false") + ": x " + str(x.shape()) +
                                          " and w " + str(w.shape()) + " (" + std::to_string(k) + " inputs).");
  array y = detail::make_node(ir::OpKind::QuantizedMatmul,
                              {astype(x, float32), w, astype(scales, float32), astype(*biases, float32)},
                              {{"transpose", int64_t(transpose)},
                               {"group_size", int64_t(group_size)},
                               {"bits", int64_t(bits)}});
  return astype(y, t);
}

array gather_qmm(const array& x, const array& w, const array& scales, const std::optional<array>& biases,
                 std::optional<array> lhs_indices, std::optional<array> rhs_indices, bool transpose,
                 std::optional<int> group_size, std::optional<int> bits, const std::string& mode,
                 bool sorted_indices, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  (void)sorted_indices;  // lets MLX's kernels skip regrouping; the composite has none
  if (x.ndim() < 2 || w.ndim() < 2)
    throw_invalid("gather_qmm", "x and w must have at least 2 dimensions, got shapes " + str(x.shape()) + " and " +
                                    str(w.shape()) + ".");
  if (!biases) throw_invalid("gather_qmm", "Biases must be provided for affine quantization.");
  // The batch of w, scales and biases: the same leading axes.
  const Shape xb(x.shape().begin(), x.shape().end() - 2), wb(w.shape().begin(), w.shape().end() - 2);
  for (const array* a : {&scales, &*biases})
    if (a->ndim() != w.ndim() || !std::equal(wb.begin(), wb.end(), a->shape().begin()))
      throw_invalid("gather_qmm", "Shape of scales and biases does not match the matrix given the quantization "
                                  "parameters. Provided matrix of shape " + str(w.shape()) + " and scales/biases of shape " +
                                      str(scales.shape()) + "/" + str(biases->shape()) + ".");
  auto count = [](const Shape& s) {
    int64_t n = 1;
    for (int d : s) n *= d;
    return int(n);
  };
  const int nx = count(xb), nw = count(wb);
  auto indices = [&](const std::optional<array>& idx, const char* name, int n, const Shape& batch) {
    if (!idx) return reshape(arange(0, n, uint32), batch);
    if (!is_integral(idx->dtype()))
      throw_invalid("gather_qmm", std::string("Got ") + name + " with invalid dtype " + dtype_name(idx->dtype()) +
                                      ". Indices must be integral.");
    return *idx;
  };
  array li = indices(lhs_indices, "lhs_indices", nx, xb), ri = indices(rhs_indices, "rhs_indices", nw, wb);
  const Shape out_batch = broadcast_shapes(li.shape(), ri.shape());
  const int picks = count(out_batch);
  li = reshape(broadcast_to(li, out_batch), {picks});
  ri = reshape(broadcast_to(ri, out_batch), {picks});

  // The selected matrices of x, each through every matrix of w.
  const int m = x.shape(-2);
  const array rows = take(reshape(x, {nx, m, x.shape(-1)}), li, 0);  // [picks, m, k]
  auto flat = [&](const array& a) { return reshape(a, {nw, a.shape(-2), a.shape(-1)}); };
  const array wf = flat(w), sf = flat(scales), bf = flat(*biases);
  std::vector<array> products;
  for (int e = 0; e < std::max(nw, 1); ++e) {
    // No matrices in w: an empty stand-in still checks the shapes and gives n.
    const array we = nw ? take(wf, e, 0) : zeros({w.shape(-2), w.shape(-1)}, uint32);
    const array se = nw ? take(sf, e, 0) : zeros({scales.shape(-2), scales.shape(-1)}, scales.dtype());
    const array be = nw ? take(bf, e, 0) : zeros({scales.shape(-2), scales.shape(-1)}, scales.dtype());
    products.push_back(quantized_matmul(rows, we, se, be, transpose, group_size, bits, mode));
  }
  const array all = stack(products, 0);  // [nw, picks, m, n]
  const int n = all.shape(-1);
  Shape out = out_batch;
  out.push_back(m);
  out.push_back(n);
  if (nw == 0 || picks == 0) return zeros(out, all.dtype());
  // Product i is all[ri[i], i].
  const array pick = broadcast_to(reshape(astype(ri, int32), {1, picks, 1, 1}), {1, picks, m, n});
  return reshape(take_along_axis(all, pick, 0), out);
}

}  // namespace kiln
