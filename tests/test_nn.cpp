// kiln::nn: modules, layers, activations, initializers and losses.
// Expected values come from PyTorch (the snippets are in the comments) and
// gradients from finite differences.
#include <kiln/nn.h>

#include <cmath>
#include "test_helpers.h"

using namespace kiln;
using kiln_test::array_is;
using kiln_test::throws_invalid;
namespace L = kiln::nn::losses;

namespace {

// import torch, torch.nn.functional as F
// x = torch.tensor([-2.0, -0.5, 0.0, 0.3, 1.5, 3.0])
array act_input() { return array({-2.0f, -0.5f, 0.0f, 0.3f, 1.5f, 3.0f}); }

TEST(NnActivations, MatchPyTorch) {
  array x = act_input();
  const double tol = 2e-6;
  // F.relu(x), F.gelu(x), F.gelu(x, approximate="tanh"), F.silu(x), ...
  EXPECT_TRUE(array_is(nn::relu(x), float32, {6}, {0, 0, 0, 0.3, 1.5, 3.0}, 1e-7));
  EXPECT_TRUE(array_is(nn::gelu(x), float32, {6}, {-0.0455001, -0.1542688, 0.0, 0.1853734, 1.3997891, 2.9959502}, tol));
  EXPECT_TRUE(array_is(nn::gelu_approx(x), float32, {6},
                       {-0.0454023, -0.154286, 0.0, 0.1853709, 1.3995715, 2.9963627}, tol));
  EXPECT_TRUE(array_is(nn::silu(x), float32, {6}, {-0.2384058, -0.1887703, 0.0, 0.1723328, 1.2263616, 2.8577225}, tol));
  EXPECT_TRUE(array_is(nn::sigmoid(x), float32, {6}, {0.1192029, 0.3775407, 0.5, 0.5744425, 0.8175744, 0.9525741}, tol));
  EXPECT_TRUE(array_is(nn::tanh(x), float32, {6}, {-0.9640276, -0.4621172, 0.0, 0.2913126, 0.9051483, 0.9950548}, tol));
  EXPECT_TRUE(array_is(nn::softplus(x), float32, {6}, {0.126928, 0.474077, 0.6931472, 0.8543553, 1.7014133, 3.0485873}, tol));
  // F.leaky_relu(x, 0.1), F.elu(x, 0.5), F.mish(x)
  EXPECT_TRUE(array_is(nn::leaky_relu(x, 0.1f), float32, {6}, {-0.2, -0.05, 0.0, 0.3, 1.5, 3.0}, tol));
  EXPECT_TRUE(array_is(nn::elu(x, 0.5f), float32, {6}, {-0.4323324, -0.1967347, 0.0, 0.3, 1.5, 3.0}, tol));
  EXPECT_TRUE(array_is(nn::mish(x), float32, {6}, {-0.2525015, -0.2207438, 0.0, 0.2080014, 1.4033782, 2.9865351}, tol));
  // m = x.reshape(2, 3); F.softmax(m, -1); F.log_softmax(m, -1)
  array m = reshape(x, {2, 3});
  EXPECT_TRUE(array_is(nn::softmax(m), float32, {2, 3},
                       {0.0776956, 0.3482074, 0.574097, 0.0520837, 0.1729241, 0.7749922}, tol));
  EXPECT_TRUE(array_is(nn::log_softmax(m), float32, {2, 3},
                       {-2.5549569, -1.0549569, -0.5549569, -2.9549024, -1.7549024, -0.2549024}, tol));
  // The modules apply the same functions; float16 stays float16.
  EXPECT_TRUE(array_is(nn::ReLU()(x), float32, {6}, {0, 0, 0, 0.3, 1.5, 3.0}, 1e-7));
  EXPECT_EQ(nn::gelu(astype(x, float16)).dtype(), float16);
  EXPECT_EQ(nn::relu(array({}, float32)).shape(), Shape{0});
}

TEST(NnLinear, MatchesPyTorchAndHasMlxParameters) {
  nn::Linear lin(3, 2);
  auto params = lin.parameters();
  ASSERT_EQ(params.size(), 2u);
  EXPECT_EQ(params.at("weight").shape(), (Shape{2, 3}));
  EXPECT_EQ(params.at("bias").shape(), Shape{2});
  // MLX's init: U(-1/sqrt(3), 1/sqrt(3)).
  EXPECT_LE(max(abs(params.at("weight"))).item<float>(), 1.0f / std::sqrt(3.0f));
  // W = [[0.1, -0.2, 0.3], [0.4, 0.5, -0.6]]; b = [0.01, -0.02]
  // X = [[1, 2, 3], [-1, 0.5, 2]]; F.linear(X, W, b)
  lin.update({{"weight", array({0.1f, -0.2f, 0.3f, 0.4f, 0.5f, -0.6f}, {2, 3})}, {"bias", array({0.01f, -0.02f})}});
  array X = array({1.0f, 2.0f, 3.0f, -1.0f, 0.5f, 2.0f}, {2, 3});
  EXPECT_TRUE(array_is(lin(X), float32, {2, 2}, {0.61, -0.42, 0.41, -1.37}, 1e-6));
  // Rank 1 and rank 3 inputs, and no bias.
  EXPECT_TRUE(array_is(lin(array({1.0f, 2.0f, 3.0f})), float32, {2}, {0.61, -0.42}, 1e-6));
  EXPECT_EQ(lin(reshape(concatenate({X, X}), {2, 2, 3})).shape(), (Shape{2, 2, 2}));
  nn::Linear nobias(3, 2, false);
  EXPECT_EQ(nobias.parameters().size(), 1u);
  EXPECT_TRUE(throws_invalid([&] { lin(array({1.0f, 2.0f})); }, "[Linear]"));
  EXPECT_TRUE(throws_invalid([&] { lin.update({{"weight", zeros({3, 3})}}); }, "[Module::update]"));
  EXPECT_TRUE(throws_invalid([&] { lin.update({{"nope", zeros({3})}}); }, "[Module::update]"));
}

std::shared_ptr<nn::Sequential> mlp() {
  return std::make_shared<nn::Sequential>(std::vector<std::shared_ptr<nn::Module>>{
      std::make_shared<nn::Linear>(4, 5), std::make_shared<nn::Tanh>(), std::make_shared<nn::Linear>(5, 3)});
}

TEST(NnModule, TreeNamesFreezeAndModes) {
  auto model = mlp();
  auto params = model->parameters();
  std::vector<std::string> names;
  for (auto& [n, a] : params) names.push_back(n);
  EXPECT_EQ(names, (std::vector<std::string>{"layers.0.bias", "layers.0.weight", "layers.2.bias", "layers.2.weight"}));
  EXPECT_EQ(model->num_parameters(), size_t(4 * 5 + 5 + 5 * 3 + 3));
  // Flatten and unflatten round trip.
  auto [n, v] = nn::tree_flatten(params);
  auto back = nn::tree_unflatten(n, v);
  EXPECT_EQ(back.size(), params.size());
  EXPECT_TRUE(throws_invalid([&] { nn::tree_unflatten(n, {}); }, "[tree_unflatten]"));
  EXPECT_EQ(nn::tree_subtree(params, "layers.2").size(), 2u);
  // Freezing removes parameters from the trainable set, recursively or by key.
  (*model)[0].freeze();
  EXPECT_EQ(model->trainable_parameters().size(), 2u);
  model->unfreeze();
  model->freeze(true, {"bias"});
  auto trainable = model->trainable_parameters();
  EXPECT_EQ(trainable.size(), 2u);
  EXPECT_TRUE(trainable.count("layers.0.weight"));
  model->unfreeze();
  EXPECT_EQ(model->trainable_parameters().size(), 4u);
  // train()/eval() reach every submodule.
  EXPECT_TRUE((*model)[1].training());
  model->eval();
  EXPECT_FALSE((*model)[1].training());
  model->train();
  EXPECT_TRUE((*model)[2].training());
  // A module of parameters only is not callable.
  nn::Module plain;
  EXPECT_THROW(plain(array(1.0f)), std::logic_error);
}

// The gradient of a scalar function of the model's parameters, by central
// differences of one parameter element.
double finite_difference(nn::Module& model, const std::string& name, int flat_index,
                         const std::function<array()>& loss) {
  array p = model.parameters().at(name);
  std::vector<double> vals = kiln_test::values(p);
  const double h = 1e-5;
  auto at = [&](double delta) {
    std::vector<double> w = vals;
    w[flat_index] += delta;
    model.update({{name, array(w.data(), p.shape(), float64)}});
    double r = loss().item<double>();
    return r;
  };
  double g = (at(h) - at(-h)) / (2 * h);
  model.update({{name, p}});
  return g;
}

TEST(NnValueAndGrad, MatchesFiniteDifferences) {
  random::seed(3);
  auto model = mlp();
  // float64 parameters, so that finite differences are accurate.
  nn::Parameters p64;
  for (auto& [n, a] : model->parameters()) p64.insert_or_assign(n, astype(a, float64));
  model->update(p64);
  array x = astype(random::normal({6, 4}), float64);
  array y = array({0, 2, 1, 1, 0, 2}, int32);
  auto loss_fn = [&](const std::vector<array>& a) {
    return L::cross_entropy((*model)(a[0]), a[1], std::nullopt, -1, 0.1f, L::Reduction::mean);
  };
  auto vg = nn::value_and_grad(*model, loss_fn);
  auto [loss, grads] = vg({x, y});
  EXPECT_EQ(grads.size(), 4u);
  // The model keeps its parameters (not the transformation's tracers).
  EXPECT_NEAR(loss.item<double>(), loss_fn({x, y}).item<double>(), 1e-12);
  for (auto& [name, idx] : std::vector<std::pair<std::string, int>>{
           {"layers.0.weight", 0}, {"layers.0.weight", 7}, {"layers.0.bias", 3}, {"layers.2.weight", 11},
           {"layers.2.bias", 1}}) {
    double fd = finite_difference(*model, name, idx, [&] { return loss_fn({x, y}); });
    EXPECT_NEAR(kiln_test::values(grads.at(name))[idx], fd, 1e-6) << name << "[" << idx << "]";
  }
  // Frozen parameters get no gradient.
  (*model)[0].freeze();
  auto [loss2, grads2] = vg({x, y});
  EXPECT_EQ(grads2.size(), 2u);
  EXPECT_NEAR(loss2.item<double>(), loss.item<double>(), 1e-12);
}

TEST(NnInit, FansAndSpreads) {
  EXPECT_EQ(nn::init::fans({8, 3, 3, 4}), (std::pair<int, int>{36, 72}));
  EXPECT_TRUE(throws_invalid([] { nn::init::fans({5}); }, "[init]"));
  random::seed(0);
  // Glorot uniform on (200, 300): bound sqrt(6/500); variance bound^2/3.
  array w = nn::init::glorot_uniform({200, 300});
  double bound = std::sqrt(6.0 / 500);
  EXPECT_LE(max(abs(w)).item<float>(), bound);
  EXPECT_NEAR(var(w).item<float>(), bound * bound / 3, 0.03 * bound * bound / 3);
  EXPECT_NEAR(kiln::std(nn::init::glorot_normal({200, 300})).item<float>(), std::sqrt(2.0 / 500), 0.02 * std::sqrt(2.0 / 500));
  EXPECT_NEAR(kiln::std(nn::init::he_normal({200, 300})).item<float>(), 1 / std::sqrt(300.0), 0.02 / std::sqrt(300.0));
  EXPECT_NEAR(kiln::std(nn::init::he_normal({200, 300}, 1.0f, true)).item<float>(), 1 / std::sqrt(200.0),
              0.02 / std::sqrt(200.0));
  array hu = nn::init::he_uniform({200, 300}, 2.0f);
  EXPECT_LE(max(abs(hu)).item<float>(), 2 * std::sqrt(3.0 / 300));
  EXPECT_GT(max(abs(hu)).item<float>(), 1.9 * std::sqrt(3.0 / 300));
  EXPECT_TRUE(array_is(nn::init::constant({2}, 0.5f), float32, {2}, {0.5, 0.5}));
  EXPECT_EQ(nn::init::normal({3}, 0, 1, float16).dtype(), float16);
}

// logits = torch.tensor([[1.0, 2.0, 0.5], [0.1, -1.0, 2.0]]); tgt = torch.tensor([1, 2])
array logits() { return array({1.0f, 2.0f, 0.5f, 0.1f, -1.0f, 2.0f}, {2, 3}); }
array classes() { return array({1, 2}, int32); }

TEST(NnLosses, CrossEntropyMatchesPyTorch) {
  // F.cross_entropy(logits, tgt, reduction="none")
  EXPECT_TRUE(array_is(L::cross_entropy(logits(), classes()), float32, {2}, {0.4643688, 0.1817845}, 1e-6));
  // ... label_smoothing=0.1
  EXPECT_TRUE(array_is(L::cross_entropy(logits(), classes(), std::nullopt, -1, 0.1f), float32, {2},
                       {0.5477021, 0.3451179}, 1e-6));
  // probs = [[0.2, 0.7, 0.1], [0.0, 0.5, 0.5]]; F.cross_entropy(logits, probs, reduction="none")
  array probs = array({0.2f, 0.7f, 0.1f, 0.0f, 0.5f, 0.5f}, {2, 3});
  EXPECT_TRUE(array_is(L::cross_entropy(logits(), probs), float32, {2}, {0.8143688, 1.6817846}, 1e-6));
  // Reductions, weights, and the class axis first.
  EXPECT_NEAR(L::cross_entropy(logits(), classes(), std::nullopt, -1, 0, L::Reduction::mean).item<float>(),
              (0.4643688 + 0.1817845) / 2, 1e-6);
  EXPECT_NEAR(L::cross_entropy(logits(), classes(), array({2.0f, 0.0f}), -1, 0, L::Reduction::sum).item<float>(),
              2 * 0.4643688, 1e-6);
  EXPECT_TRUE(array_is(L::cross_entropy(transpose(logits()), classes(), std::nullopt, 0), float32, {2},
                       {0.4643688, 0.1817845}, 1e-6));
  EXPECT_TRUE(throws_invalid([&] { L::cross_entropy(logits(), array({1, 2, 0}, int32)); }, "[cross_entropy]"));
  EXPECT_TRUE(throws_invalid([&] { L::cross_entropy(logits(), classes(), std::nullopt, -1, 1.0f); },
                             "[cross_entropy]"));
  EXPECT_TRUE(throws_invalid([&] { L::cross_entropy(logits(), classes(), std::nullopt, 2); }, "[cross_entropy]"));
}

TEST(NnLosses, OthersMatchPyTorch) {
  // bl = [0.5, -1.0, 2.0]; bt = [1.0, 0.0, 1.0]; F.binary_cross_entropy_with_logits(bl, bt)
  array bt = array({1.0f, 0.0f, 1.0f});
  EXPECT_NEAR(L::binary_cross_entropy(array({0.5f, -1.0f, 2.0f}), bt).item<float>(), 0.3047555, 1e-6);
  // F.binary_cross_entropy(torch.tensor([0.9, 0.2, 0.6]), bt, reduction="sum")
  EXPECT_NEAR(L::binary_cross_entropy(array({0.9f, 0.2f, 0.6f}), bt, std::nullopt, false, L::Reduction::sum)
                  .item<float>(),
              0.8393297, 1e-6);
  // Probabilities of exactly 0 and 1 give finite losses (logs clamped at -100).
  EXPECT_NEAR(L::binary_cross_entropy(array({1.0f, 0.0f}), array({1.0f, 0.0f}), std::nullopt, false).item<float>(),
              0.0, 1e-6);
  // a = [1.0, 2.0, -3.0, 0.5]; t = [1.5, 0.0, -3.2, 2.0]
  // F.mse_loss(a, t); F.l1_loss(a, t, reduction="sum"); F.smooth_l1_loss(a, t, reduction="none", beta=1.0)
  array a = array({1.0f, 2.0f, -3.0f, 0.5f}), t = array({1.5f, 0.0f, -3.2f, 2.0f});
  EXPECT_NEAR(L::mse_loss(a, t).item<float>(), 1.635, 1e-6);
  EXPECT_NEAR(L::l1_loss(a, t, L::Reduction::sum).item<float>(), 4.2, 1e-6);
  EXPECT_TRUE(array_is(L::smooth_l1_loss(a, t, 1.0f, L::Reduction::none), float32, {4}, {0.125, 1.5, 0.02, 1.0}, 1e-6));
  // lp = F.log_softmax(logits, -1); F.nll_loss(lp, tgt, reduction="none")
  array lp = nn::log_softmax(logits());
  EXPECT_TRUE(array_is(L::nll_loss(lp, classes()), float32, {2}, {0.4643688, 0.1817845}, 1e-6));
  // lq = F.log_softmax(torch.tensor([[0.3, 0.3, 1.0], [2.0, 0.0, -1.0]]), -1)
  // F.kl_div(lp, lq, reduction="none", log_target=True).sum(-1)
  array lq = nn::log_softmax(array({0.3f, 0.3f, 1.0f, 2.0f, 0.0f, -1.0f}, {2, 3}));
  EXPECT_TRUE(array_is(L::kl_div_loss(lp, lq), float32, {2}, {0.4275547, 1.6033133}, 1e-6));
  EXPECT_TRUE(throws_invalid([&] { L::mse_loss(a, array({1.0f})); }, "[mse_loss]"));
  EXPECT_TRUE(throws_invalid([&] { L::nll_loss(lp, array({1}, int32)); }, "[nll_loss]"));
}

TEST(NnLosses, GradientsMatchFiniteDifferences) {
  // d/dlogits of each loss, against central differences in float64.
  array x = astype(array({0.3f, -1.2f, 0.8f, 2.0f, 0.1f, -0.4f}, {2, 3}), float64);
  array t = astype(array({0.5f, -1.0f, 0.0f, 1.5f, 0.2f, -0.9f}, {2, 3}), float64);
  std::vector<std::pair<std::string, std::function<array(const array&)>>> losses = {
      {"cross_entropy", [&](const array& z) { return L::cross_entropy(z, classes(), std::nullopt, -1, 0.2f, L::Reduction::mean); }},
      {"binary_cross_entropy", [&](const array& z) { return L::binary_cross_entropy(z, sigmoid(t)); }},
      {"mse", [&](const array& z) { return L::mse_loss(z, t); }},
      {"smooth_l1", [&](const array& z) { return L::smooth_l1_loss(z, t, 1.0f); }},
      {"kl_div", [&](const array& z) { return L::kl_div_loss(nn::log_softmax(z), nn::log_softmax(t), -1, L::Reduction::sum); }},
  };
  for (auto& [name, f] : losses) {
    array g = grad(f)(x);
    std::vector<double> xv = kiln_test::values(x), gv = kiln_test::values(g);
    for (int i = 0; i < 6; ++i) {
      const double h = 1e-6;
      std::vector<double> up = xv, down = xv;
      up[i] += h;
      down[i] -= h;
      double fd = (f(array(up.data(), {2, 3}, float64)).item<double>() -
                   f(array(down.data(), {2, 3}, float64)).item<double>()) / (2 * h);
      EXPECT_NEAR(gv[i], fd, 1e-6) << name << "[" << i << "]";
    }
  }
}

}  // namespace
