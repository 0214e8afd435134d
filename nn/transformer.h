#pragma once
// Attention and transformer layers, as mlx.nn's: RoPE, MultiHeadAttention,
// TransformerEncoderLayer / TransformerEncoder and TransformerDecoderLayer /
// TransformerDecoder. Inputs are (batch, length, dims).
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>
#include "nn/layers.h"
#include "nn/normalization.h"

namespace kiln::nn {

// Rotary position embedding (kiln::fast::rope) of inputs (..., L, D).
class RoPE : public Module {
 public:
  explicit RoPE(int dims, bool traditional = false, float base = 10000.0f, float scale = 1.0f);
  array operator()(const array& x) override { return (*this)(x, 0); }
  // Positions start at `offset` (the length of a cached prefix).
  array operator()(const array& x, int offset);

 private:
  int dims_;
  bool traditional_;
  float base_, scale_;
};

// An attention mask: none, an array (bool: true = attend; float: added to
// the scores) or the string "causal" — the forms MLX's mask argument takes.
struct AttentionMask {
  AttentionMask() = default;
  AttentionMask(std::nullopt_t) {}
  AttentionMask(array a) : array_(std::move(a)) {}
  AttentionMask(std::optional<array> a) : array_(std::move(a)) {}
  AttentionMask(const char* mode) : mode_(mode) {}
  AttentionMask(std::string mode) : mode_(std::move(mode)) {}
  std::optional<array> array_;
  std::string mode_;  // "" or "causal"
};

// Multi-head attention with projections query_proj, key_proj, value_proj and
// out_proj (Linear, with bias when `bias`). Input dims default to `dims`,
// value_dims to dims and value_output_dims to dims, as MLX.
class MultiHeadAttention : public Module {
 public:
  MultiHeadAttention(int dims, int num_heads, std::optional<int> query_input_dims = std::nullopt,
                     std::optional<int> key_input_dims = std::nullopt,
                     std::optional<int> value_input_dims = std::nullopt, std::optional<int> value_dims = std::nullopt,
                     std::optional<int> value_output_dims = std::nullopt, bool bias = false);
  // queries (B, L, q_in), keys (B, S, k_in), values (B, S, v_in) ->
  // (B, L, value_output_dims).
  array operator()(const array& queries, const array& keys, const array& values, const AttentionMask& mask = {});
  // Self-attention without a mask.
  array operator()(const array& x) override { return (*this)(x, x, x); }
  // (N, N): 0 where key j <= query i, the dtype's lowest value elsewhere.
  static array create_additive_causal_mask(int N, Dtype dtype = float32);

 private:
  int num_heads_;
  std::shared_ptr<Linear> query_proj_, key_proj_, value_proj_, out_proj_;
};

using Activation = std::function<array(const array&)>;

// Self-attention and an MLP (dims -> mlp_dims -> dims, mlp_dims defaulting
// to 4 * dims), each with a residual connection and a LayerNorm: before
// the block when norm_first (MLX's default), after the sum otherwise.
class TransformerEncoderLayer : public Module {
 public:
  TransformerEncoderLayer(int dims, int num_heads, std::optional<int> mlp_dims = std::nullopt, float dropout = 0.0f,
                          Activation activation = nullptr, bool norm_first = true);
  array operator()(const array& x, const AttentionMask& mask);
  array operator()(const array& x) override { return (*this)(x, AttentionMask{}); }

 private:
  std::shared_ptr<MultiHeadAttention> attention_;
  std::shared_ptr<LayerNorm> ln1_, ln2_;
  std::shared_ptr<Linear> linear1_, linear2_;
  std::shared_ptr<Dropout> dropout1_, dropout2_;
  Activation activation_;
  bool norm_first_;
};

// num_layers encoder layers ("layers.0", ...) and a final LayerNorm "ln".
class TransformerEncoder : public Module {
 public:
  TransformerEncoder(int num_layers, int dims, int num_heads, std::optional<int> mlp_dims = std::nullopt,
                     float dropout = 0.0f, Activation activation = nullptr, bool norm_first = true);
  array operator()(const array& x, const AttentionMask& mask);
  array operator()(const array& x) override { return (*this)(x, AttentionMask{}); }

 private:
  std::vector<std::shared_ptr<TransformerEncoderLayer>> layers_;
  std::shared_ptr<LayerNorm> ln_;
};

// Self-attention over x, cross-attention to `memory`, and an MLP, each with
// a residual connection and a LayerNorm (before the block when norm_first).
class TransformerDecoderLayer : public Module {
 public:
  TransformerDecoderLayer(int dims, int num_heads, std::optional<int> mlp_dims = std::nullopt, float dropout = 0.0f,
                          Activation activation = nullptr, bool norm_first = true);
  array operator()(const array& x, const array& memory, const AttentionMask& x_mask = {},
                   const AttentionMask& memory_mask = {});

 private:
  std::shared_ptr<MultiHeadAttention> self_attention_, cross_attention_;
  std::shared_ptr<LayerNorm> ln1_, ln2_, ln3_;
  std::shared_ptr<Linear> linear1_, linear2_;
  std::shared_ptr<Dropout> dropout1_, dropout2_, dropout3_;
  Activation activation_;
  bool norm_first_;
};

// num_layers decoder layers ("layers.0", ...) and a final LayerNorm "ln".
class TransformerDecoder : public Module {
 public:
  TransformerDecoder(int num_layers, int dims, int num_heads, std::optional<int> mlp_dims = std::nullopt,
                     float dropout = 0.0f, Activation activation = nullptr, bool norm_first = true);
  array operator()(const array& x, const array& memory, const AttentionMask& x_mask = {},
                   const AttentionMask& memory_mask = {});

 private:
  std::vector<std::shared_ptr<TransformerDecoderLayer>> layers_;
  std::shared_ptr<LayerNorm> ln_;
};

// An encoder over `src` and a decoder over `tgt` that attends to the
// encoder's output, as mlx.nn.Transformer (its parameters are "encoder.*"
// and "decoder.*"). custom_encoder / custom_decoder replace the default
// stacks (then the layer counts and the other settings apply only to the
// one built here).
class Transformer : public Module {
 public:
  Transformer(int dims = 512, int num_heads = 8, int num_encoder_layers = 6, int num_decoder_layers = 6,
              std::optional<int> mlp_dims = std::nullopt, float dropout = 0.0f, Activation activation = nullptr,
              std::shared_ptr<TransformerEncoder> custom_encoder = nullptr,
              std::shared_ptr<TransformerDecoder> custom_decoder = nullptr, bool norm_first = true);
  array operator()(const array& src, const array& tgt, const AttentionMask& src_mask = {},
                   const AttentionMask& tgt_mask = {}, const AttentionMask& memory_mask = {});

  TransformerEncoder& encoder() { return *encoder_; }
  TransformerDecoder& decoder() { return *decoder_; }

 private:
  std::shared_ptr<TransformerEncoder> encoder_;
  std::shared_ptr<TransformerDecoder> decoder_;
};

}  // namespace kiln::nn
