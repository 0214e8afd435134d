#pragma once
// MLX's affine quantization (mlx/ops.h of MLX 0.32): quantize, dequantize
// and quantized_matmul, with MLX's bit layout (ir/quantized.h states it), so
// that weights quantized by MLX load unchanged. Only mode "affine" exists.
//
// quantize(w) cuts each row (the last axis) into groups of group_size; per
// group, with n = 2^bits - 1, the edge e (whichever of min and max is larger
// in magnitude) is kept exact: scale = (max - min) / n (at least 1e-7),
// negated when e is the max; q0 = round(e / scale); then scale = e / q0 and
// bias = e, or bias = 0 if q0 is 0. Codes are round((w - bias) / scale)
// clipped to [0, n], rounded half to even; w ~ scale * code + bias.
#include <optional>
#include <string>
#include <vector>

#include "frontend/ops.h"

namespace kiln {

// {codes (uint32, the last axis packed bits/32 per word), scales, biases};
// w has at least 2 dimensions, scales and biases w's dtype.
std::vector<array> quantize(const array& w, std::optional<int> group_size = std::nullopt,
                            std::optional<int> bits = std::nullopt, const std::string& mode = "affine",
                            const std::optional<array>& global_scale = std::nullopt, StreamOrDevice s = {});
// scales * codes + biases, of `dtype` (default: the scales' dtype).
array dequantize(const array& w, const array& scales, const std::optional<array>& biases = std::nullopt,
                 std::optional<int> group_size = std::nullopt, std::optional<int> bits = std::nullopt,
                 const std::string& mode = "affine", const std::optional<array>& global_scale = std::nullopt,
                 std::optional<Dtype> dtype = std::nullopt, StreamOrDevice s = {});
// x times dequantize(w, ...) transposed (or not), without materializing it;
// w is 2-D, x [..., k]. Differentiable with respect to x, the scales and
// the biases (the codes are integers).
array quantized_matmul(array x, array w, array scales, std::optional<array> biases = std::nullopt,
                       bool transpose = true, std::optional<int> group_size = std::nullopt,
                       std::optional<int> bits = std::nullopt, const std::string& mode = "affine",
                       StreamOrDevice s = {});
// quantized_matmul with matrix-level gather (MLX's gather_qmm): x [..., m, k]
// and quantized w [..., n, k'] are batches of matrices; output i (the
// indices broadcast together) is x's matrix lhs_indices[i] times w's matrix
// rhs_indices[i] (defaults: each batch in order). A composite: every
// matrix of w multiplies every selected matrix of x and the wanted products
// are picked, so it costs (matrices of w) times a native gather.
// Differentiable with respect to x; sorted_indices is a hint it needs not.
array gather_qmm(const array& x, const array& w, const array& scales, const std::optional<array>& biases = std::nullopt,
                 std::optional<array> lhs_indices = std::nullopt, std::optional<array> rhs_indices = std::nullopt,
                 bool transpose = true, std::optional<int> group_size = std::nullopt,
                 std::optional<int> bits = std::nullopt, const std::string& mode = "affine",
                 bool sorted_indices = false, StreamOrDevice s = {});

}  // namespace kiln
