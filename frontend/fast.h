#pragma once
// kiln::fast — MLX's fast.h: normalization, rotary embeddings and attention
// as single calls. In kiln they are composites of the public ops (so they
// get vjp, jvp, vmap and compile from those ops), written so that the
// fusion pass makes each reduction with its prologue and epilogue into few
// kernels; half-precision inputs are computed in float32 and cast back.
#include <optional>
#include <string>

#include "frontend/array.h"
#include "frontend/stream.h"

namespace kiln::fast {

// x * rsqrt(mean(x^2, -1) + eps) * weight; weight (x.shape[-1]) or none.
array rms_norm(const array& x, const std::optional<array>& weight, float eps, StreamOrDevice s = {});

// (x - mean) * rsqrt(var + eps) over the last axis, then * weight + bias
// (either may be absent; each of shape (x.shape[-1])).
array layer_norm(const array& x, const std::optional<array>& weight, const std::optional<array>& bias, float eps,
                 StreamOrDevice s = {});

// Rotary position embedding of the first `dims` features of x (..., L, D):
// position p = (offset + l) * scale turns each feature pair by p * f_i,
// f_i = base^(-2i/dims) (or 1 / freqs[i] when base is absent and freqs,
// of shape (dims / 2), is given). traditional pairs features (2i, 2i+1);
// otherwise i and i + dims / 2. Features past dims pass through.
array rope(const array& x, int dims, bool traditional, std::optional<float> base, float scale, int offset,
           const std::optional<array>& freqs = std::nullopt, StreamOrDevice s = {});
// The same with the offset as a scalar integer array.
array rope(const array& x, int dims, bool traditional, std::optional<float> base, float scale, const array& offset,
           const std::optional<array>& freqs = std::nullopt, StreamOrDevice s = {});

// softmax(scale * q k^T + mask) v for queries (B, Hq, L, D), keys
// (B, Hkv, S, D) and values (B, Hkv, S, Dv), Hq a multiple of Hkv
// (grouped-query attention). mask_mode "" (no mask, or mask_arr when
// given), "causal" (query l sees keys up to l + S - L) or "array"
// (mask_arr: a bool mask, true = attend, or an additive float mask,
// broadcastable to (B, Hq, L, S)). sinks (Hq): one extra logit per head
// that takes part in the softmax but has no value.
array scaled_dot_product_attention(const array& queries, const array& keys, const array& values, const float scale,
                                   const std::string& mask_mode = "", std::optional<array> mask_arr = {},
                                   const std::optional<array>& sinks = {}, StreamOrDevice s = {});

}  // namespace kiln::fast
