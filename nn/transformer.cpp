#include "nn/transformer.h"

#include <cmath>
#include <limits>
#include <stdexcept>
#include "nn/activations.h"

namespace kiln::nn {

RoPE::RoPE(int dims, bool traditional, float base, float scale)
    : dims_(dims), traditional_(traditional), base_(base), scale_(scale) {
  if (dims <= 0 || dims % 2) throw std::invalid_argument("[RoPE] dims must be even and positive, got " + std::to_string(dims));
}

array RoPE::operator()(const array& x, int offset) {
  return fast::rope(x, dims_, traditional_, base_, scale_, offset);
}

MultiHeadAttention::MultiHeadAttention(int dims, int num_heads, std::optional<int> query_input_dims,
                                       std::optional<int> key_input_dims, std::optional<int> value_input_dims,
                                       std::optional<int> value_dims, std::optional<int> value_output_dims, bool bias)
    : num_heads_(num_heads) {
  if (num_heads <= 0 || dims % num_heads)
    throw std::invalid_argument("[MultiHeadAttention] The input feature dimensions should be divisible by the number of heads (" +
                                std::to_string(dims) + " % " + std::to_string(num_heads) + ") != 0");
  int vdims = value_dims.value_or(dims);
  if (vdims % num_heads)
    throw std::invalid_argument("[MultiHeadAttention] value_dims " + std::to_string(vdims) +
                                " is not divisible by the number of heads " + std::to_string(num_heads));
  query_proj_ = register_module("query_proj", std::make_shared<Linear>(query_input_dims.value_or(dims), dims, bias));
  key_proj_ = register_module("key_proj", std::make_shared<Linear>(key_input_dims.value_or(dims), dims, bias));
  value_proj_ = register_module("value_proj", std::make_shared<Linear>(value_input_dims.value_or(dims), vdims, bias));
  out_proj_ = register_module("out_proj", std::make_shared<Linear>(vdims, value_output_dims.value_or(dims), bias));
}

array MultiHeadAttention::operator()(const array& queries, const array& keys, const array& values,
                                     const AttentionMask& mask) {
  if (queries.ndim() != 3 || keys.ndim() != 3 || values.ndim() != 3)
    throw std::invalid_argument("[MultiHeadAttention] expects (batch, length, dims) inputs, got " +
                                ir::shape_to_string(queries.shape()) + ", " + ir::shape_to_string(keys.shape()) +
                                " and " + ir::shape_to_string(values.shape()));
  array q = (*query_proj_)(queries), k = (*key_proj_)(keys), v = (*value_proj_)(values);
  // (B, L, H * d) -> (B, H, L, d)
  auto heads = [&](const array& a) {
    return transpose(reshape(a, {a.shape(0), a.shape(1), num_heads_, -1}), {0, 2, 1, 3});
  };
  q = heads(q);
  k = heads(k);
  v = heads(v);
  float scale = 1.0f / std::sqrt(float(q.shape(-1)));
  array o = mask.mode_.empty()
                ? fast::scaled_dot_product_attention(q, k, v, scale, mask.array_ ? "array" : "", mask.array_)
                : fast::scaled_dot_product_attention(q, k, v, scale, mask.mode_);
  o = transpose(o, {0, 2, 1, 3});
  return (*out_proj_)(reshape(o, {o.shape(0), o.shape(1), -1}));
}

array MultiHeadAttention::create_additive_causal_mask(int N, Dtype dtype) {
  if (N < 0) throw std::invalid_argument("[create_additive_causal_mask] N must not be negative, got " + std::to_string(N));
  array idx = arange(N);
  array future = less(expand_dims(idx, 1), expand_dims(idx, 0));
  double lowest = dtype == float64   ? std::numeric_limits<double>::lowest()
                  : dtype == float16 ? -65504.0
                  : dtype == bfloat16 ? -3.3895313892515355e38
                                      : double(std::numeric_limits<float>::lowest());
  return astype(future, dtype) * array(lowest, dtype);
}

namespace {

// Holds layers under the names "0", "1", ... (the child "layers").
class LayerList : public Module {
 public:
  template <typename M>
  std::shared_ptr<M> push(std::shared_ptr<M> m) {
    return register_module(std::to_string(children().size()), std::move(m));
  }
};

Activation or_relu(Activation a) { return a ? std::move(a) : Activation([](const array& x) { return relu(x); }); }

}  // namespace

TransformerEncoderLayer::TransformerEncoderLayer(int dims, int num_heads, std::optional<int> mlp_dims, float dropout,
                                                 Activation activation, bool norm_first)
    : activation_(or_relu(std::move(activation))), norm_first_(norm_first) {
  int hidden = mlp_dims.value_or(4 * dims);
  attention_ = register_module("attention", std::make_shared<MultiHeadAttention>(dims, num_heads));
  ln1_ = register_module("ln1", std::make_shared<LayerNorm>(dims));
  ln2_ = register_module("ln2", std::make_shared<LayerNorm>(dims));
  linear1_ = register_module("linear1", std::make_shared<Linear>(dims, hidden));
  linear2_ = register_module("linear2", std::make_shared<Linear>(hidden, dims));
  dropout1_ = register_module("dropout1", std::make_shared<Dropout>(dropout));
  dropout2_ = register_module("dropout2", std::make_shared<Dropout>(dropout));
}

array TransformerEncoderLayer::operator()(const array& x, const AttentionMask& mask) {
  auto mlp = [&](const array& y) { return (*linear2_)((*dropout2_)(activation_((*linear1_)(y)))); };
  if (norm_first_) {
    array y = (*ln1_)(x);
    array h = x + (*dropout1_)((*attention_)(y, y, y, mask));
    return h + mlp((*ln2_)(h));
  }
  array h = (*ln1_)(x + (*dropout1_)((*attention_)(x, x, x, mask)));
  return (*ln2_)(h + mlp(h));
}

TransformerEncoder::TransformerEncoder(int num_layers, int dims, int num_heads, std::optional<int> mlp_dims,
                                       float dropout, Activation activation, bool norm_first) {
  auto list = register_module("layers", std::make_shared<LayerList>());
  for (int i = 0; i < num_layers; ++i)
    layers_.push_back(list->push(
        std::make_shared<TransformerEncoderLayer>(dims, num_heads, mlp_dims, dropout, activation, norm_first)));
  ln_ = register_module("ln", std::make_shared<LayerNorm>(dims));
}

array TransformerEncoder::operator()(const array& x, const AttentionMask& mask) {
  array y = x;
  for (auto& l : layers_) y = (*l)(y, mask);
  return (*ln_)(y);
}

TransformerDecoderLayer::TransformerDecoderLayer(int dims, int num_heads, std::optional<int> mlp_dims, float dropout,
                                                 Activation activation, bool norm_first)
    : activation_(or_relu(std::move(activation))), norm_first_(norm_first) {
  int hidden = mlp_dims.value_or(4 * dims);
  self_attention_ = register_module("self_attention", std::make_shared<MultiHeadAttention>(dims, num_heads));
  cross_attention_ = register_module("cross_attention", std::make_shared<MultiHeadAttention>(dims, num_heads));
  ln1_ = register_module("ln1", std::make_shared<LayerNorm>(dims));
  ln2_ = register_module("ln2", std::make_shared<LayerNorm>(dims));
  ln3_ = register_module("ln3", std::make_shared<LayerNorm>(dims));
  linear1_ = register_module("linear1", std::make_shared<Linear>(dims, hidden));
  linear2_ = register_module("linear2", std::make_shared<Linear>(hidden, dims));
  dropout1_ = register_module("dropout1", std::make_shared<Dropout>(dropout));
  dropout2_ = register_module("dropout2", std::make_shared<Dropout>(dropout));
  dropout3_ = register_module("dropout3", std::make_shared<Dropout>(dropout));
}

array TransformerDecoderLayer::operator()(const array& x, const array& memory, const AttentionMask& x_mask,
                                          const AttentionMask& memory_mask) {
  auto mlp = [&](const array& y) { return (*linear2_)((*dropout3_)(activation_((*linear1_)(y)))); };
  if (norm_first_) {
    array y = (*ln1_)(x);
    array h = x + (*dropout1_)((*self_attention_)(y, y, y, x_mask));
    y = (*ln2_)(h);
    h = h + (*dropout2_)((*cross_attention_)(y, memory, memory, memory_mask));
    return h + mlp((*ln3_)(h));
  }
  array h = (*ln1_)(x + (*dropout1_)((*self_attention_)(x, x, x, x_mask)));
  h = (*ln2_)(h + (*dropout2_)((*cross_attention_)(h, memory, memory, memory_mask)));
  return (*ln3_)(h + mlp(h));
}

TransformerDecoder::TransformerDecoder(int num_layers, int dims, int num_heads, std::optional<int> mlp_dims,
                                       float dropout, Activation activation, bool norm_first) {
  auto list = register_module("layers", std::make_shared<LayerList>());
  for (int i = 0; i < num_layers; ++i)
    layers_.push_back(list->push(
        std::make_shared<TransformerDecoderLayer>(dims, num_heads, mlp_dims, dropout, activation, norm_first)));
  ln_ = register_module("ln", std::make_shared<LayerNorm>(dims));
}

array TransformerDecoder::operator()(const array& x, const array& memory, const AttentionMask& x_mask,
                                     const AttentionMask& memory_mask) {
  array y = x;
  for (auto& l : layers_) y = (*l)(y, memory, x_mask, memory_mask);
  return (*ln_)(y);
}

Transformer::Transformer(int dims, int num_heads, int num_encoder_layers, int num_decoder_layers,
                         std::optional<int> mlp_dims, float dropout, Activation activation,
                         std::shared_ptr<TransformerEncoder> custom_encoder,
                         std::shared_ptr<TransformerDecoder> custom_decoder, bool norm_first) {
  encoder_ = register_module(
      "encoder", custom_encoder ? custom_encoder
                                : std::make_shared<TransformerEncoder>(num_encoder_layers, dims, num_heads, mlp_dims,
                                                                       dropout, activation, norm_first));
  decoder_ = register_module(
      "decoder", custom_decoder ? custom_decoder
                                : std::make_shared<TransformerDecoder>(num_decoder_layers, dims, num_heads, mlp_dims,
                                                                       dropout, activation, norm_first));
}

array Transformer::operator()(const array& src, const array& tgt, const AttentionMask& src_mask,
                              const AttentionMask& tgt_mask, const AttentionMask& memory_mask) {
  return (*decoder_)(tgt, (*encoder_)(src, src_mask), tgt_mask, memory_mask);
}

}  // namespace kiln::nn
