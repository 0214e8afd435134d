// kiln::nn attention and transformer layers, Conv1d and ConvTranspose2d
// against PyTorch (the same weights copied into torch modules), gradients
// against finite differences, and Module::save_weights / load_weights.
// Inputs are X(shape, a, b) = sin(arange(n) * a + b).reshape(shape); the
// i-th parameter in name order is set to X(shape, 0.1 (i + 1) + 0.03, 0.5 i) * 0.4
// (set_params). The expected values come from this script (/usr/bin/python3,
// torch 1.13; MLX's projections have no bias, so torch's are zeroed):
//
//   import numpy as np, torch, torch.nn as tnn, torch.nn.functional as F
//   torch.set_default_dtype(torch.float64)
//   def X(shape, a, b): return np.sin(np.arange(int(np.prod(shape)), dtype=np.float64) * a + b).reshape(shape)
//   def fmt(a): return ", ".join("%.7g" % v for v in np.asarray(a, dtype=np.float64).ravel())
//   def params(shapes):  # kiln's set_params: the i-th name in sorted order
//       return {n: torch.tensor(X(shapes[n], 0.1 * (i + 1) + 0.03, 0.5 * i) * 0.4) for i, n in enumerate(sorted(shapes))}
//   D, H, F_ = 8, 2, 16
//   def mha_shapes(p): return {p + n + "_proj.weight": (D, D) for n in ("query", "key", "value", "out")}
//   def load_mha(m, P, p):
//       m.in_proj_weight.data = torch.cat([P[p + "query_proj.weight"], P[p + "key_proj.weight"], P[p + "value_proj.weight"]])
//       m.in_proj_bias.data.zero_(); m.out_proj.weight.data = P[p + "out_proj.weight"]; m.out_proj.bias.data.zero_()
//   def lin_shapes(p): return {p + "linear1.weight": (F_, D), p + "linear1.bias": (F_,), p + "linear2.weight": (D, F_), p + "linear2.bias": (D,)}
//   def ln_shapes(p, names): return {p + n + "." + w: (D,) for n in names for w in ("weight", "bias")}
//   def load_common(t, P, p, lns):
//       t.linear1.weight.data = P[p + "linear1.weight"]; t.linear1.bias.data = P[p + "linear1.bias"]
//       t.linear2.weight.data = P[p + "linear2.weight"]; t.linear2.bias.data = P[p + "linear2.bias"]
//       for i, n in enumerate(lns):
//           getattr(t, "norm%d" % (i + 1)).weight.data = P[p + n + ".weight"]; getattr(t, "norm%d" % (i + 1)).bias.data = P[p + n + ".bias"]
//   x = torch.tensor(X((1, 3, D), 0.37, 0.1)); mem = torch.tensor(X((1, 4, D), 0.21, -0.4))
//   causal = torch.triu(torch.full((3, 3), float("-inf")), 1)
//   # MultiHeadAttention(8, 2): queries x, keys/values mem
//   P = params(mha_shapes(""))
//   m = tnn.MultiheadAttention(D, H, batch_first=True); load_mha(m, P, "")
//   print("mha", fmt(m(x, mem, mem, need_weights=False)[0].detach()))
//   print("mha_causal_self", fmt(m(x, x, x, attn_mask=causal, need_weights=False)[0].detach()))
//   # TransformerEncoderLayer(8, 2, 16, norm_first=False), no mask
//   S = {**{"attention." + k: v for k, v in mha_shapes("").items()}, **lin_shapes(""), **ln_shapes("", ["ln1", "ln2"])}
//   P = params(S)
//   t = tnn.TransformerEncoderLayer(D, H, F_, dropout=0.0, batch_first=True, norm_first=False).eval()
//   load_mha(t.self_attn, P, "attention."); load_common(t, P, "", ["ln1", "ln2"])
//   with torch.no_grad(): print("enc_layer_post", fmt(t(x)))
//   # TransformerEncoder(2, 8, 2, 16) (norm_first), causal mask
//   S = {}
//   for l in range(2):
//       p = "layers.%d." % l
//       S.update({p + "attention." + k: v for k, v in mha_shapes("").items()}); S.update(lin_shapes(p)); S.update(ln_shapes(p, ["ln1", "ln2"]))
//   S.update(ln_shapes("", ["ln"])); P = params(S)
//   y = x
//   with torch.no_grad():
//       for l in range(2):
//           p = "layers.%d." % l
//           t = tnn.TransformerEncoderLayer(D, H, F_, dropout=0.0, batch_first=True, norm_first=True).eval()
//           load_mha(t.self_attn, P, p + "attention."); load_common(t, P, p, ["ln1", "ln2"])
//           y = t(y, src_mask=causal)
//       y = F.layer_norm(y, (D,), P["ln.weight"], P["ln.bias"])
//   print("encoder", fmt(y))
//   # Transformer(8, 2, 1, 1, 16): src = mem, tgt = x with a causal tgt mask; the
//   # parameters "encoder.layers.0.*", "encoder.ln.*", "decoder.layers.0.*" (self_attention,
//   # cross_attention, ln1-3), "decoder.ln.*", set by params() over all of them
//   e = tnn.TransformerEncoderLayer(D, H, F_, dropout=0.0, batch_first=True, norm_first=True).eval()
//   (loaded from "encoder.layers.0."); m = F.layer_norm(e(mem), (D,), P["encoder.ln.weight"], P["encoder.ln.bias"])
//   d = tnn.TransformerDecoderLayer(D, H, F_, dropout=0.0, batch_first=True, norm_first=True).eval()
//   (loaded from "decoder.layers.0."); print("transformer", fmt(F.layer_norm(d(x, m, tgt_mask=causal), (D,),
//   P["decoder.ln.weight"], P["decoder.ln.bias"])))
//   # TransformerDecoderLayer(8, 2, 16) with norm_first True / False, causal x_mask
//   def dec_shapes(p):
//       s = {p + "self_attention." + k: v for k, v in mha_shapes("").items()}
//       s.update({p + "cross_attention." + k: v for k, v in mha_shapes("").items()})
//       s.update(lin_shapes(p)); s.update(ln_shapes(p, ["ln1", "ln2", "ln3"])); return s
//   def dec_torch(P, p, nf):
//       t = tnn.TransformerDecoderLayer(D, H, F_, dropout=0.0, batch_first=True, norm_first=nf).eval()
//       load_mha(t.self_attn, P, p + "self_attention."); load_mha(t.multihead_attn, P, p + "cross_attention.")
//       load_common(t, P, p, ["ln1", "ln2", "ln3"]); return t
//   P = params(dec_shapes(""))
//   with torch.no_grad():
//       print("dec_layer_pre", fmt(dec_torch(P, "", True)(x, mem, tgt_mask=causal)))
//   S = dec_shapes("layers.0."); S.update(ln_shapes("", ["ln"])); P = params(S)
//   with torch.no_grad():
//       y = dec_torch(P, "layers.0.", False)(x, mem)
//       print("decoder_post", fmt(F.layer_norm(y, (D,), P["ln.weight"], P["ln.bias"])))
//   # Conv1d(2, 3, 3, stride=2, padding=1): kiln weight (3, 3, 2)
//   P = params({"weight": (3, 3, 2), "bias": (3,)})
//   xc = torch.tensor(X((1, 5, 2), 0.37, 0.1))
//   print("conv1d", fmt(F.conv1d(xc.permute(0, 2, 1), P["weight"].permute(0, 2, 1), P["bias"], stride=2, padding=1).permute(0, 2, 1)))
//   # ConvTranspose2d(2, 3, 2, stride=2, padding=0): kiln weight (3, 2, 2, 2) = (out, kh, kw, in)
//   P = params({"weight": (3, 2, 2, 2), "bias": (3,)})
//   xt = torch.tensor(X((1, 2, 2, 2), 0.37, 0.1))
//   print("convT2d", fmt(F.conv_transpose2d(xt.permute(0, 3, 1, 2), P["weight"].permute(3, 0, 1, 2), P["bias"], stride=2).permute(0, 2, 3, 1)))
//   print("convT2d_p1_op1", fmt(F.conv_transpose2d(xt.permute(0, 3, 1, 2), P["weight"].permute(3, 0, 1, 2), P["bias"], stride=2, padding=1, output_padding=1).permute(0, 2, 3, 1)))
#include <kiln/nn.h>

#include <unistd.h>

#include <cstdio>
#include <functional>
#include <limits>

#include "test_helpers.h"

using namespace kiln;
using kiln_test::array_is;
using kiln_test::throws_invalid;

namespace {

// X(shape, a, b) = sin(i * a + b): the X of the NumPy script above.
const auto X = [](const Shape& shape, float a, float b, Dtype dtype = float32) {
  return kiln_test::sine_pattern(shape, a, b, dtype);
};

void set_params(nn::Module& m, Dtype dtype = float32) {
  nn::Parameters p;
  int i = 0;
  for (const auto& [name, a] : m.parameters()) {
    p.insert_or_assign(name, X(a.shape(), 0.1f * (i + 1) + 0.03f, 0.5f * i, dtype) * array(0.4f, dtype));
    ++i;
  }
  m.update(p);
}

array x_input() { return X({1, 3, 8}, 0.37f, 0.1f); }
array memory_input() { return X({1, 4, 8}, 0.21f, -0.4f); }

}  // namespace

TEST(NnMultiHeadAttention, MatchesPyTorch) {
  nn::MultiHeadAttention mha(8, 2);
  auto names = mha.parameters();
  ASSERT_EQ(names.size(), 4u);  // no biases by default, as MLX
  EXPECT_EQ(names.at("query_proj.weight").shape(), (Shape{8, 8}));
  set_params(mha);
  array x = x_input(), mem = memory_input();
  EXPECT_TRUE(array_is(mha(x, mem, mem), float32, {1, 3, 8},
                       {0.0649821, -0.07867463, -0.02313288, 0.09097965, -0.02526172, -0.07754224, 0.06650859,
                        0.04216447, -0.1129713, 0.04912522, 0.08684026, -0.09531796, -0.03613799, 0.1145408,
                        -0.02478942, -0.1013546, 0.09452828, -0.02550449, -0.08096173, 0.06857028, 0.04448729,
                        -0.09223431, 0.004574695, 0.0898009},
                       1e-5));
  std::vector<double> causal = {0.2054567,   -0.1708213, -0.1145921,  0.231776,   -0.008695983, -0.2271503,
                                0.1295236,   0.1582532,  -0.07618541, 0.05795845, 0.0453557,    -0.08208441,
                                -0.00169273, 0.08298482, -0.0424492,  -0.06040491, 0.1472885,   -0.08862281,
                                -0.1001475,  0.1418941,  0.02467014,  -0.1550168, 0.0577876,    0.124278};
  // The mask's forms: "causal", the additive mask, a bool mask.
  EXPECT_TRUE(array_is(mha(x, x, x, "causal"), float32, {1, 3, 8}, causal, 1e-5));
  EXPECT_TRUE(array_is(mha(x, x, x, nn::MultiHeadAttention::create_additive_causal_mask(3)), float32, {1, 3, 8},
                       causal, 1e-5));
  EXPECT_TRUE(array_is(mha(x, x, x, kiln_test::bools({1, 0, 0, 1, 1, 0, 1, 1, 1}, {3, 3})), float32, {1, 3, 8}, causal,
                       1e-5));
  // Input and output dims of their own.
  nn::MultiHeadAttention wide(8, 2, 5, 6, 7, 4, 3, true);
  EXPECT_EQ(wide(zeros({2, 3, 5}), zeros({2, 4, 6}), zeros({2, 4, 7})).shape(), (Shape{2, 3, 3}));
  EXPECT_EQ(wide.parameters().size(), 8u);
  EXPECT_TRUE(throws_invalid([] { nn::MultiHeadAttention(8, 3); }, "[MultiHeadAttention]"));
  EXPECT_TRUE(throws_invalid([&] { mha(zeros({3, 8}), x, x); }, "[MultiHeadAttention]"));
}

TEST(NnMultiHeadAttention, AdditiveCausalMask) {
  array m = nn::MultiHeadAttention::create_additive_causal_mask(3);
  float lo = std::numeric_limits<float>::lowest();
  EXPECT_TRUE(array_is(m, float32, {3, 3}, {0, lo, lo, 0, 0, lo, 0, 0, 0}));
  EXPECT_EQ(nn::MultiHeadAttention::create_additive_causal_mask(2, float16).dtype(), float16);
  EXPECT_EQ(nn::MultiHeadAttention::create_additive_causal_mask(0).shape(), (Shape{0, 0}));
}

TEST(NnMultiHeadAttention, GradientsMatchFiniteDifferences) {
  nn::MultiHeadAttention mha(4, 2, std::nullopt, std::nullopt, std::nullopt, std::nullopt, std::nullopt, true);
  set_params(mha, float64);
  array x = X({2, 3, 4}, 0.37f, 0.1f, float64), r = X({2, 3, 4}, 0.77f, 0.3f, float64);
  auto loss_fn = [&](const std::vector<array>& a) { return sum(mha(a[0], a[0], a[0], "causal") * r); };
  auto [loss, grads] = nn::value_and_grad(mha, loss_fn)({x});
  ASSERT_EQ(grads.size(), 8u);
  for (const auto& [name, g] : grads) {
    array p = mha.parameters().at(name);
    std::vector<double> v = kiln_test::values(p), gv = kiln_test::values(g);
    for (size_t i = 0; i < v.size(); i += 3) {
      auto at = [&](double d) {
        std::vector<double> w = v;
        w[i] += d;
        mha.update({{name, array(w.data(), p.shape(), float64)}});
        return loss_fn({x}).item<double>();
      };
      double fd = (at(1e-6) - at(-1e-6)) / 2e-6;
      mha.update({{name, p}});
      EXPECT_NEAR(gv[i], fd, 1e-6) << name << "[" << i << "]";
    }
  }
}

TEST(NnTransformer, EncoderMatchesPyTorch) {
  nn::TransformerEncoderLayer post(8, 2, 16, 0.0f, nullptr, /*norm_first=*/false);
  EXPECT_EQ(post.parameters().size(), 12u);
  set_params(post);
  EXPECT_TRUE(array_is(post(x_input()), float32, {1, 3, 8},
                       {-0.7535091, -0.1764584, -0.2986747, 0.4424669, -0.3968862, -0.4033929, -0.4045651,
                        0.01939601, -0.02933649, -0.2707884, 0.06494538, 0.2976279, -0.1096708, -0.7923586,
                        -0.1081985, 0.4124155, -0.7623384, -0.0916221, -0.1562624, 0.4006067, -0.4653547, -0.5067976,
                        -0.4130486, -0.3370469},
                       2e-5));
  nn::TransformerEncoder encoder(2, 8, 2, 16);  // norm_first by default, as MLX
  EXPECT_EQ(encoder.parameters().count("layers.1.attention.query_proj.weight"), 1u);
  EXPECT_EQ(encoder.parameters().count("ln.weight"), 1u);
  set_params(encoder);
  std::vector<double> expected = {-0.2114964, 0.03781655, -0.0565895, 0.4025881,  -0.2340905, 0.06644778,
                                  0.3523294,  -0.2144045, -0.2334706, 0.4913966,  -0.7393044, 0.3133796,
                                  0.5541909,  -0.4903759, 0.3551939,  -0.5580934, -0.2002296, 0.01951066,
                                  -0.05368317, 0.3448518, -0.2507318, 0.08031163, 0.3523269,  -0.3193385};
  EXPECT_TRUE(array_is(encoder(x_input(), "causal"), float32, {1, 3, 8}, expected, 2e-5));
  EXPECT_TRUE(array_is(encoder(x_input(), nn::MultiHeadAttention::create_additive_causal_mask(3)), float32, {1, 3, 8},
                       expected, 2e-5));
  // mlp_dims defaults to 4 * dims.
  nn::TransformerEncoderLayer wide(8, 2);
  EXPECT_EQ(wide.parameters().at("linear1.weight").shape(), (Shape{32, 8}));
}

TEST(NnTransformer, DecoderMatchesPyTorch) {
  nn::TransformerDecoderLayer pre(8, 2, 16);
  EXPECT_EQ(pre.parameters().size(), 18u);
  set_params(pre);
  EXPECT_TRUE(array_is(pre(x_input(), memory_input(), "causal"), float32, {1, 3, 8},
                       {-0.4875253, -0.3570229, 0.05643386, 0.5786119, 1.197264, 1.711114, 1.713136, 1.183845,
                        -0.0671233, -0.4686716, -0.7320871, -0.8327802, -0.8276698, -0.7934359, -0.7411744,
                        -0.6461682, -0.526931, -0.4630309, -0.1403785, 0.3334527, 0.9443581, 1.484165, 1.589882,
                        1.228245},
                       2e-5));
  nn::TransformerDecoder decoder(1, 8, 2, 16, 0.0f, nullptr, /*norm_first=*/false);
  set_params(decoder);
  EXPECT_TRUE(array_is(decoder(x_input(), memory_input()), float32, {1, 3, 8},
                       {0.174851, -0.5969073, 0.4152877, 0.2104768, -0.2052713, -0.04668288, 0.5390745, -0.2805587,
                        0.1614999, -0.3783677, 0.4946225, 0.2327038, -0.1543339, -0.3357317, 0.5717418, -0.4218716,
                        0.1774215, -0.7300205, 0.3668266, 0.215886, -0.1342643, -0.1376664, 0.5030551, -0.4894188},
                       2e-5));
}

TEST(NnTransformer, TransformerMatchesPyTorch) {
  nn::Transformer model(8, 2, 1, 1, 16);
  EXPECT_EQ(model.parameters().size(), 34u);
  EXPECT_EQ(model.parameters().count("encoder.layers.0.attention.query_proj.weight"), 1u);
  EXPECT_EQ(model.parameters().count("decoder.layers.0.cross_attention.out_proj.weight"), 1u);
  EXPECT_EQ(model.parameters().count("decoder.ln.bias"), 1u);
  set_params(model);
  EXPECT_TRUE(array_is(model(memory_input(), x_input(), {}, "causal"), float32, {1, 3, 8},
                       {0.2060554, 0.06388529, -0.1650734, 0.3146535, -0.5697318, 0.245428, 0.5476103, -0.4474912,
                        0.09215664, -0.5376087, -0.02570556, 0.28795, 0.0105072, -0.2881472, 0.3776911, -0.2103961,
                        0.2033807, 0.05742053, -0.1847878, 0.3091197, -0.5203406, 0.2239445, 0.5539359, -0.535644},
                       2e-5));
  // A custom encoder replaces the default stack (its own layer count).
  nn::Transformer custom(8, 2, 1, 1, 16, 0.0f, nullptr, std::make_shared<nn::TransformerEncoder>(3, 8, 2, 16));
  EXPECT_EQ(custom.parameters().count("encoder.layers.2.linear1.weight"), 1u);
  EXPECT_EQ(custom.parameters().count("decoder.layers.1.linear1.weight"), 0u);
}

TEST(NnTransformer, GeluActivationAndDropoutInEval) {
  nn::TransformerEncoderLayer layer(8, 2, 16, 0.5f, [](const array& a) { return nn::gelu(a); });
  set_params(layer);
  layer.eval();
  array a = layer(x_input()), b = layer(x_input());
  EXPECT_TRUE(array_equal(a, b).item<bool>());  // no dropout in evaluation
  nn::TransformerEncoderLayer relu_layer(8, 2, 16);
  set_params(relu_layer);
  EXPECT_FALSE(allclose(a, relu_layer(x_input())).item<bool>());
}

TEST(NnRoPE, IsFastRope) {
  array x = X({2, 5, 8}, 0.23f, 0.4f);
  nn::RoPE rope(6, true, 500.0f, 2.0f);
  EXPECT_TRUE(array_equal(rope(x, 3), fast::rope(x, 6, true, 500.0f, 2.0f, 3)).item<bool>());
  EXPECT_TRUE(array_equal(rope(x), fast::rope(x, 6, true, 500.0f, 2.0f, 0)).item<bool>());
  EXPECT_TRUE(rope.parameters().empty());
  EXPECT_TRUE(throws_invalid([] { nn::RoPE(5); }, "[RoPE]"));
}

TEST(NnConvolution, Conv1dAndConvTranspose2dMatchPyTorch) {
  nn::Conv1d conv(2, 3, 3, 2, 1);
  EXPECT_EQ(conv.parameters().at("weight").shape(), (Shape{3, 3, 2}));
  set_params(conv);
  EXPECT_TRUE(array_is(conv(X({1, 5, 2}, 0.37f, 0.1f)), float32, {1, 3, 3},
                       {0.8684415, 0.3199991, -0.6639067, 1.528585, 1.262678, -0.9665091, 0.1779142, 0.4425249,
                        0.07309241},
                       1e-5));
  nn::ConvTranspose2d up(2, 3, 2, 2);
  EXPECT_EQ(up.parameters().at("weight").shape(), (Shape{3, 2, 2, 2}));
  set_params(up);
  array xt = X({1, 2, 2, 2}, 0.37f, 0.1f);
  EXPECT_TRUE(array_is(
      up(xt), float32, {1, 4, 4, 3},
      {0.1399515, 0.1785439, -0.1045094, 0.2008913, 0.08540444, -0.1159057, 0.3923739, 0.4683105, -0.5110667,
       0.5914409, 0.1933088, -0.5638526, 0.2200668, -0.01471009, -0.08182747, 0.1934915, -0.1009864, -0.009359431,
       0.6675502, -0.1111007, -0.4780381, 0.6048792, -0.3816328, -0.2714635, 0.4395601, 0.540244, -0.5965162,
       0.6726297, 0.2272233, -0.6630814, 0.2568287, 0.3567186, -0.3161626, 0.4019909, 0.1694084, -0.3616893,
       0.7658629, -0.1222559, -0.570417, 0.6998771, -0.4355386, -0.3377874, 0.4635812, -0.04234088, -0.3106442,
       0.4287952, -0.2345075, -0.1736395},
      1e-5));
  nn::ConvTranspose2d up_padded(2, 3, 2, 2, 1, 1, 1);
  set_params(up_padded);
  EXPECT_TRUE(array_is(up_padded(xt), float32, {1, 3, 3, 3},
                       {0.1934915, -0.1009864, -0.009359431, 0.6675502, -0.1111007, -0.4780381, 0.6048792,
                        -0.3816328, -0.2714635, 0.6726297, 0.2272233, -0.6630814, 0.2568287, 0.3567186, -0.3161626,
                        0.4019909, 0.1694084, -0.3616893, 0.6998771, -0.4355386, -0.3377874, 0.4635812, -0.04234088,
                        -0.3106442, 0.4287952, -0.2345075, -0.1736395},
                       1e-5));
  EXPECT_TRUE(throws_invalid([] { nn::Conv1d(3, 4, 3, 1, 0, 1, 2); }, "[Conv1d]"));
  EXPECT_TRUE(throws_invalid([] { nn::ConvTranspose2d(0, 4, 3); }, "[ConvTranspose2d]"));
}

namespace {

std::string temp_path(const std::string& name) {
  return ::testing::TempDir() + "kiln_weights_" + std::to_string(::getpid()) + "_" + name;
}

}  // namespace

TEST(NnWeights, SaveAndLoadRoundTrip) {
  for (std::string ext : {".safetensors", ".npz"}) {
    std::string path = temp_path("roundtrip" + ext);
    random::seed(1);
    nn::TransformerEncoder a(1, 8, 2, 16);
    a.save_weights(path);
    random::seed(2);
    nn::TransformerEncoder b(1, 8, 2, 16);
    EXPECT_FALSE(array_equal(a.parameters().at("layers.0.linear1.weight"),
                             b.parameters().at("layers.0.linear1.weight")).item<bool>());
    b.load_weights(path);
    for (const auto& [name, p] : a.parameters())
      EXPECT_TRUE(array_equal(p, b.parameters().at(name)).item<bool>()) << ext << " " << name;
    std::remove(path.c_str());
  }
}

TEST(NnWeights, StrictLoadingNamesTheOffenders) {
  nn::Linear lin(3, 2);
  std::vector<std::pair<std::string, array>> good = {{"weight", ones({2, 3})}, {"bias", zeros({2})}};
  lin.load_weights(good);
  EXPECT_TRUE(array_is(lin.parameters().at("weight"), float32, {2, 3}, {1, 1, 1, 1, 1, 1}));
  // Missing, extra and mis-shaped names, each named in the message.
  EXPECT_TRUE(throws_invalid([&] { lin.load_weights({{"weight", ones({2, 3})}}); }, "Missing 1 parameters: bias"));
  EXPECT_TRUE(throws_invalid([&] { lin.load_weights({{"weight", ones({2, 3})}, {"bias", zeros({2})}, {"extra", zeros({1})}}); },
                             "parameters not in model: extra"));
  EXPECT_TRUE(throws_invalid([&] { lin.load_weights({{"weight", ones({3, 2})}, {"bias", zeros({2})}}); },
                             "weight (expected shape"));
  // A failed load changes nothing.
  EXPECT_TRUE(array_is(lin.parameters().at("bias"), float32, {2}, {0, 0}));
  // Not strict: extra names are skipped, missing ones keep their values;
  // shapes are still checked.
  lin.load_weights({{"bias", array({5.0f, 6.0f})}, {"extra", zeros({1})}}, false);
  EXPECT_TRUE(array_is(lin.parameters().at("bias"), float32, {2}, {5, 6}));
  EXPECT_TRUE(array_is(lin.parameters().at("weight"), float32, {2, 3}, {1, 1, 1, 1, 1, 1}));
  EXPECT_TRUE(throws_invalid([&] { lin.load_weights({{"bias", zeros({3})}}, false); }, "[Module::load_weights]"));
  // From a file with a missing parameter.
  std::string path = temp_path("partial.safetensors");
  save_safetensors(path, {{"weight", zeros({2, 3})}});
  EXPECT_TRUE(throws_invalid([&] { lin.load_weights(path); }, "Missing 1 parameters: bias"));
  lin.load_weights(path, false);
  EXPECT_TRUE(array_is(lin.parameters().at("weight"), float32, {2, 3}, {0, 0, 0, 0, 0, 0}));
  std::remove(path.c_str());
  // File names: an unknown extension, a file that is not there, a corrupt file.
  EXPECT_TRUE(throws_invalid([&] { lin.save_weights(temp_path("w.bin")); }, "Unsupported file extension"));
  EXPECT_TRUE(throws_invalid([&] { lin.load_weights(temp_path("w.pt")); }, "Unsupported file extension"));
  EXPECT_THROW(lin.load_weights(temp_path("absent.npz")), std::runtime_error);
  std::string bad = temp_path("bad.safetensors");
  kiln_test::write_file(bad, "not a safetensors file");
  EXPECT_THROW(lin.load_weights(bad), std::runtime_error);
  std::remove(bad.c_str());
}
