// kiln::nn layers beyond Linear: Conv2d, pooling, normalization, Dropout,
// Embedding. Expected values come from PyTorch (snippets in the comments;
// PyTorch is channels-first, so inputs and outputs are permuted there).
#include <kiln/nn.h>

#include "test_helpers.h"

using namespace kiln;
using kiln_test::array_is;
using kiln_test::throws_invalid;

namespace {

// x = (torch.arange(32.).reshape(1, 4, 4, 2) * 0.1) * torch.tensor([1.0, -1.0]); xn = x.permute(0, 3, 1, 2)
array nhwc_input() { return reshape(arange(32.0) * array(0.1f), {1, 4, 4, 2}) * array({1.0f, -1.0f}); }

TEST(NnPooling, MatchesPyTorch) {
  array x = nhwc_input();
  // F.max_pool2d(xn, 2).permute(0, 2, 3, 1)
  EXPECT_TRUE(array_is(nn::MaxPool2d(2)(x), float32, {1, 2, 2, 2}, {1.0, -0.1, 1.4, -0.5, 2.6, -1.7, 3.0, -2.1}, 1e-6));
  // F.max_pool2d(xn, 3, stride=1, padding=1).permute(0, 2, 3, 1)
  EXPECT_TRUE(array_is(nn::MaxPool2d(3, 1, 1)(x), float32, {1, 4, 4, 2},
                       {1.0, -0.1, 1.2, -0.1, 1.4, -0.3, 1.4, -0.5, 1.8, -0.1, 2.0, -0.1, 2.2, -0.3, 2.2, -0.5,
                        2.6, -0.9, 2.8, -0.9, 3.0, -1.1, 3.0, -1.3, 2.6, -1.7, 2.8, -1.7, 3.0, -1.9, 3.0, -2.1},
                       1e-6));
  // F.avg_pool2d(xn, 2, stride=1).permute(0, 2, 3, 1)
  EXPECT_TRUE(array_is(nn::AvgPool2d(2, 1)(x), float32, {1, 3, 3, 2},
                       {0.5, -0.6, 0.7, -0.8, 0.9, -1.0, 1.3, -1.4, 1.5, -1.6, 1.7, -1.8, 2.1, -2.2, 2.3, -2.4, 2.5, -2.6},
                       1e-6));
  // The gradient of a max pool goes to the maxima only.
  array g = grad([](const array& a) { return sum(nn::MaxPool2d(2)(a)); })(x);
  EXPECT_EQ(sum(g).item<float>(), 8.0f);
  // Tiling windows (stride = kernel) have a written-out gradient: against
  // that of the window reductions, ties shared evenly, on an input whose
  // last row and column no window covers.
  array t = floor(reshape(arange(50.0), {1, 5, 5, 2}) * array(0.37f)) * array({1.0f, -0.5f});
  array r = reshape(arange(8.0), {1, 2, 2, 2}) + array(1.0f);
  auto windows = [](const array& a) { return reshape(slice(a, {0, 0, 0, 0}, {1, 4, 4, 2}), {1, 2, 2, 2, 2, 2}); };
  for (bool is_max : {true, false}) {
    auto pooled = [&](const array& a) { return sum((is_max ? nn::MaxPool2d(2)(a) : nn::AvgPool2d(2)(a)) * r); };
    auto reference = [&](const array& a) {
      return sum((is_max ? max(windows(a), {2, 4}) : mean(windows(a), {2, 4})) * r);
    };
    array got = grad(std::function<array(const array&)>(pooled))(t);
    array expected = grad(std::function<array(const array&)>(reference))(t);
    EXPECT_TRUE(array_is(got, float32, {1, 5, 5, 2}, kiln_test::values(expected), 1e-6)) << "max: " << is_max;
  }
  EXPECT_TRUE(throws_invalid([&] { nn::MaxPool2d(2)(zeros({4, 4})); }, "[MaxPool2d]"));
  EXPECT_TRUE(throws_invalid([] { nn::AvgPool2d(0); }, "[AvgPool2d]"));
  EXPECT_TRUE(throws_invalid([&] { nn::MaxPool2d(5)(x); }, "[MaxPool2d]"));
}

TEST(NnConv2d, MatchesPyTorch) {
  nn::Conv2d conv(2, 3, 2, 1, 1);
  auto p = conv.parameters();
  EXPECT_EQ(p.at("weight").shape(), (Shape{3, 2, 2, 2}));
  EXPECT_EQ(p.at("bias").shape(), Shape{3});
  // w = torch.arange(24.).reshape(3, 2, 2, 2) * 0.05 - 0.5   (kiln's (O, KH, KW, I))
  // F.conv2d(xn, w.permute(0, 3, 1, 2), b, stride=1, padding=1).permute(0, 2, 3, 1), b = [0.1, -0.2, 0.3]
  conv.update({{"weight", reshape(arange(24.0) * array(0.05f) - array(0.5f), {3, 2, 2, 2})},
               {"bias", array({0.1f, -0.2f, 0.3f})}});
  array y = conv(nhwc_input());
  EXPECT_TRUE(array_is(
      y, float32, {1, 5, 5, 3},
      {0.115, -0.225, 0.235, 0.13, -0.25, 0.17, 0.11, -0.27, 0.15, 0.09, -0.29, 0.13, 0.095, -0.245, 0.215,
       0.11, -0.27, 0.15, 0.12, -0.34, -0.0, 0.08, -0.38, -0.04, 0.04, -0.42, -0.08, 0.07, -0.31, 0.11,
       0.03, -0.35, 0.07, -0.04, -0.5, -0.16, -0.08, -0.54, -0.2, -0.12, -0.58, -0.24, -0.01, -0.39, 0.03,
       -0.05, -0.43, -0.01, -0.2, -0.66, -0.32, -0.24, -0.7, -0.36, -0.28, -0.74, -0.4, -0.09, -0.47, -0.05,
       0.015, -0.325, 0.135, -0.07, -0.45, -0.03, -0.09, -0.47, -0.05, -0.11, -0.49, -0.07, -0.005, -0.345, 0.115},
      1e-5));
  EXPECT_TRUE(throws_invalid([] { nn::Conv2d(3, 4, 3, 1, 0, 1, 2); }, "[Conv2d]"));
}

// y = torch.tensor([[0.5, -1.0, 2.0, 0.0], [1.5, 0.3, -0.7, 2.2], [0.1, 0.2, 0.3, 0.4],
//                   [-2.0, 1.0, 0.0, 3.0], [0.9, -0.9, 0.4, -0.4], [1.0, 1.0, 1.0, 2.0]]).reshape(2, 3, 4)
array norm_input() {
  return array({0.5f, -1.0f, 2.0f, 0.0f, 1.5f, 0.3f, -0.7f, 2.2f, 0.1f, 0.2f, 0.3f, 0.4f,
                -2.0f, 1.0f, 0.0f, 3.0f, 0.9f, -0.9f, 0.4f, -0.4f, 1.0f, 1.0f, 1.0f, 2.0f},
               {2, 3, 4});
}

TEST(NnNormalization, MatchesPyTorch) {
  array y = norm_input();
  // F.layer_norm(y, (4,), eps=1e-5)
  EXPECT_TRUE(array_is(nn::LayerNorm(4)(y), float32, {2, 3, 4},
                       {0.11547, -1.270165, 1.501104, -0.346409, 0.606931, -0.472057, -1.371214, 1.23634,
                        -1.341104, -0.447035, 0.447035, 1.341104, -1.386748, 0.27735, -0.27735, 1.386748,
                        1.292311, -1.292311, 0.574361, -0.574361, -0.577335, -0.577335, -0.577335, 1.732005},
                       2e-5));
  // y * torch.rsqrt((y * y).mean(-1, keepdim=True) + 1e-5)
  EXPECT_TRUE(array_is(nn::RMSNorm(4)(y), float32, {2, 3, 4},
                       {0.436434, -0.872868, 1.745737, 0.0, 1.083234, 0.216647, -0.505509, 1.588744,
                        0.365124, 0.730248, 1.095372, 1.460496, -1.069043, 0.534522, 0.0, 1.603565,
                        1.292311, -1.292311, 0.574361, -0.574361, 0.755927, 0.755927, 0.755927, 1.511854},
                       2e-5));
  // F.group_norm(y.permute(0, 2, 1), 2, eps=1e-5).permute(0, 2, 1)
  EXPECT_TRUE(array_is(nn::GroupNorm(2, 4, 1e-5f, true, true)(y), float32, {2, 3, 4},
                       {0.318838, -1.730836, 1.235757, -0.665407, 1.685288, 0.045548, -1.330815, 1.425873,
                        -0.227742, -0.091097, -0.380233, -0.285175, -1.825375, 0.702067, -0.849205, 1.698409,
                        0.617819, -0.898646, -0.509523, -1.188887, 0.702067, 0.702067, 0.0, 0.849205},
                       2e-5));
  // MLX's grouping: channel c in group c mod 2 here; groups of a
  // channel-permuted input match PyTorch's on the permuted channels.
  array perm = take(y, array({0, 2, 1, 3}, int32), 2);
  array mlx_style = take(nn::GroupNorm(2, 4)(perm), array({0, 2, 1, 3}, int32), 2);
  EXPECT_TRUE(allclose(mlx_style, nn::GroupNorm(2, 4, 1e-5f, true, true)(y), 1e-5, 1e-5).item<bool>());
  EXPECT_TRUE(throws_invalid([] { nn::GroupNorm(3, 4); }, "[GroupNorm]"));
  EXPECT_TRUE(throws_invalid([&] { nn::LayerNorm(5)(y); }, "[LayerNorm]"));
}

TEST(NnNormalization, BatchNormTrainsAndEvaluates) {
  // z = y.reshape(6, 4); rm = torch.zeros(4); rv = torch.ones(4)
  // F.batch_norm(z, rm, rv, training=True, momentum=0.1, eps=1e-5); rm
  nn::BatchNorm bn(4);
  EXPECT_EQ(bn.trainable_parameters().size(), 2u);  // running statistics are frozen
  array z = reshape(norm_input(), {6, 4});
  EXPECT_TRUE(array_is(bn(z), float32, {6, 4},
                       {0.14757, -1.367883, 1.784353, -0.952658, 1.032988, 0.248706, -1.427483, 0.793882,
                        -0.206598, 0.124353, -0.237914, -0.635105, -2.065977, 1.119177, -0.594784, 1.428987,
                        0.501737, -1.24353, -0.118957, -1.270211, 0.590279, 1.119177, 0.594784, 0.635105},
                       2e-5));
  EXPECT_TRUE(array_is(bn.parameters().at("running_mean"), float32, {4}, {0.033333, 0.01, 0.05, 0.12}, 1e-6));
  // Through nn::value_and_grad the running statistics update too (aux outputs).
  nn::BatchNorm bn2(4);
  auto vg = nn::value_and_grad(bn2, [&](const std::vector<array>& a) { return sum(square(bn2(a[0]))); });
  auto [loss, grads] = vg({z});
  EXPECT_EQ(grads.size(), 2u);
  EXPECT_TRUE(array_is(bn2.parameters().at("running_mean"), float32, {4}, {0.033333, 0.01, 0.05, 0.12}, 1e-6));
  // Evaluation uses the running statistics.
  bn.eval();
  array e = bn(z);
  array rm = bn.parameters().at("running_mean"), rv = bn.parameters().at("running_var");
  EXPECT_TRUE(allclose(e, (z - rm) * rsqrt(rv + array(1e-5f)), 1e-5, 1e-6).item<bool>());
}

TEST(NnDropoutEmbedding, Behave) {
  random::seed(5);
  nn::Dropout drop(0.25f);
  array x = ones({10000});
  array y = drop(x);
  // Kept elements are scaled by 1 / (1 - p); about a quarter are dropped.
  float kept = sum(not_equal(y, array(0.0f))).item<float>() / 10000;
  EXPECT_NEAR(kept, 0.75, 0.02);
  EXPECT_NEAR(max(y).item<float>(), 1 / 0.75, 1e-6);
  drop.eval();
  EXPECT_TRUE(array_equal(drop(x), x).item<bool>());
  EXPECT_TRUE(throws_invalid([] { nn::Dropout(1.0f); }, "[Dropout]"));

  nn::Embedding emb(10, 4);
  array table = emb.parameters().at("weight");
  array idx = array({3, 0, 3, 9}, {2, 2}, int32);
  array out = emb(idx);
  EXPECT_EQ(out.shape(), (Shape{2, 2, 4}));
  EXPECT_TRUE(array_equal(take(out, 0, 0), take(table, array({3, 0}, int32), 0)).item<bool>());
  EXPECT_EQ(emb.as_linear(ones({5, 4})).shape(), (Shape{5, 10}));
  EXPECT_TRUE(throws_invalid([&] { emb(array({1.0f})); }, "[Embedding]"));
}

}  // namespace
