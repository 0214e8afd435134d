// kiln::optimizers: updates against PyTorch's optimizers (the snippets are
// in the comments), clip_grad_norm, and a compiled training step against
// the same step run eagerly.
#include <kiln/optimizers.h>

#include "test_helpers.h"

using namespace kiln;
using kiln_test::array_is;
using kiln_test::throws_invalid;
namespace opt = kiln::optimizers;

namespace {

// Two updates of p = [1, -2, 3] with the gradients [0.1, -0.2, 0.3], then
// [0.5, 0.1, -0.4]:
//   def run(make):
//       p = torch.nn.Parameter(torch.tensor([1.0, -2.0, 3.0])); o = make([p])
//       for g in ([0.1, -0.2, 0.3], [0.5, 0.1, -0.4]):
//           p.grad = torch.tensor(g); o.step()
//       return p
array two_steps(opt::Optimizer& o) {
  nn::Parameters params = {{"w", array({1.0f, -2.0f, 3.0f})}};
  for (auto g : {array({0.1f, -0.2f, 0.3f}), array({0.5f, 0.1f, -0.4f})})
    params = o.apply_gradients({{"w", g}}, params);
  return params.at("w");
}

TEST(Optimizers, SgdMatchesPyTorch) {
  // run(lambda ps: torch.optim.SGD(ps, lr=0.1))
  opt::SGD plain(0.1f);
  EXPECT_TRUE(array_is(two_steps(plain), float32, {3}, {0.94, -1.99, 3.01}, 1e-6));
  // run(lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.01))
  opt::SGD momentum(0.1f, 0.9f, 0.01f);
  EXPECT_TRUE(array_is(two_steps(momentum), float32, {3}, {0.928111, -1.966222, 2.974333}, 1e-6));
  EXPECT_EQ(momentum.state().count("w.v"), 1u);
  EXPECT_EQ(momentum.step().item<int>(), 2);
  // run(lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True))
  opt::SGD nesterov(0.1f, 0.9f, 0.0f, 0.0f, true);
  EXPECT_TRUE(array_is(two_steps(nesterov), float32, {3}, {0.8779, -1.9648, 2.9947002}, 1e-6));
  EXPECT_TRUE(throws_invalid([] { opt::SGD(0.1f, 0.0f, 0.0f, 0.0f, true); }, "[SGD]"));
}

TEST(Optimizers, AdamAndAdamWMatchPyTorch) {
  // run(lambda ps: torch.optim.Adam(ps, lr=0.01, betas=(0.9, 0.999), eps=1e-8))
  opt::Adam adam(0.01f, {0.9f, 0.999f}, 1e-8f, /*bias_correction=*/true);
  EXPECT_TRUE(array_is(two_steps(adam), float32, {3}, {0.9813895, -1.9873366, 2.991935}, 1e-6));
  // run(lambda ps: torch.optim.AdamW(ps, lr=0.01, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.1))
  opt::AdamW adamw(0.01f, {0.9f, 0.999f}, 1e-8f, 0.1f, true);
  EXPECT_TRUE(array_is(two_steps(adamw), float32, {3}, {0.9794006, -1.9833487, 2.9859481}, 1e-6));
  // Without bias correction (MLX's default) the first step is
  // lr * m / (sqrt(v) + eps) with m = 0.1 g, v = 0.001 g^2.
  opt::Adam raw(0.01f);
  auto p = raw.apply_gradients({{"w", array({0.5f})}}, {{"w", array({1.0f})}});
  EXPECT_NEAR(p.at("w").item<float>(), 1.0 - 0.01 * 0.05 / (std::sqrt(0.001 * 0.25) + 1e-8), 1e-6);
  EXPECT_TRUE(throws_invalid([&] { raw.apply_gradients({{"x", array({0.5f})}}, {{"w", array({1.0f})}}); },
                             "[Optimizer]"));
  EXPECT_TRUE(throws_invalid([&] { raw.apply_gradients({{"w", array({0.5f, 1.0f})}}, {{"w", array({1.0f})}}); },
                             "[Optimizer]"));
}

TEST(Optimizers, ScheduledLearningRate) {
  // lr(step) = 0.1 * 0.5^step: the first update uses 0.1, the second 0.05.
  opt::SGD sgd([](const array& step) { return array(0.1f) * power(array(0.5f), astype(step, float32)); });
  auto p = sgd.apply_gradients({{"w", array({1.0f})}}, {{"w", array({0.0f})}});
  p = sgd.apply_gradients({{"w", array({1.0f})}}, p);
  EXPECT_NEAR(p.at("w").item<float>(), -0.15, 1e-7);
  EXPECT_NEAR(sgd.learning_rate().item<float>(), 0.05, 1e-7);
  EXPECT_THROW(sgd.set_learning_rate(0.1f), std::invalid_argument);
}

TEST(Optimizers, ClipGradNorm) {
  // Global norm of [3, 4] and [12] is 13: scaled by 1 / 13 to norm 1.
  auto [clipped, norm] = opt::clip_grad_norm({{"a", array({3.0f, 4.0f})}, {"b", array({12.0f})}}, 1.0f);
  EXPECT_NEAR(norm.item<float>(), 13.0, 1e-5);
  EXPECT_TRUE(array_is(clipped.at("a"), float32, {2}, {3 / 13.0, 4 / 13.0}, 1e-6));
  EXPECT_TRUE(array_is(clipped.at("b"), float32, {1}, {12 / 13.0}, 1e-6));
  // Below the bound nothing changes.
  auto [same, n2] = opt::clip_grad_norm({{"a", array({0.3f, 0.4f})}}, 1.0f);
  EXPECT_TRUE(array_is(same.at("a"), float32, {2}, {0.3, 0.4}, 1e-7));
}

std::shared_ptr<nn::Sequential> small_mlp() {
  random::seed(11);
  return std::make_shared<nn::Sequential>(std::vector<std::shared_ptr<nn::Module>>{
      std::make_shared<nn::Linear>(4, 8), std::make_shared<nn::ReLU>(), std::make_shared<nn::Linear>(8, 3)});
}

TEST(Optimizers, CompiledStepMatchesEagerStep) {
  auto eager_model = small_mlp();
  auto compiled_model = small_mlp();  // same seed: same initial parameters
  opt::Adam eager_opt(0.01f, {0.9f, 0.999f}, 1e-8f, true), compiled_opt(0.01f, {0.9f, 0.999f}, 1e-8f, true);
  auto loss_of = [](nn::Module& m) {
    return [&m](const std::vector<array>& a) {
      return nn::losses::cross_entropy(m(a[0]), a[1], std::nullopt, -1, 0.0f, nn::losses::Reduction::mean);
    };
  };
  auto eager_vg = nn::value_and_grad(*eager_model, loss_of(*eager_model));
  auto compiled_vg = nn::value_and_grad(*compiled_model, loss_of(*compiled_model));
  auto step = opt::compile_step(*compiled_model, compiled_opt, [&](const std::vector<array>& batch) {
    auto [loss, grads] = compiled_vg(batch);
    compiled_opt.update(*compiled_model, grads);
    return std::vector<array>{loss};
  });
  reset_jit_stats();
  for (int i = 0; i < 4; ++i) {
    array x = random::normal({5, 4});
    array y = random::randint(0, 3, {5});
    auto [eloss, grads] = eager_vg({x, y});
    eager_opt.update(*eager_model, grads);
    array closs = step({x, y})[0];
    EXPECT_NEAR(closs.item<float>(), eloss.item<float>(), 1e-5) << "step " << i;
  }
  EXPECT_EQ(jit_stats().traces, 1u);  // one trace serves every step
  EXPECT_EQ(compiled_opt.step().item<int>(), 4);
  auto e = eager_model->parameters(), c = compiled_model->parameters();
  for (auto& [name, a] : e) EXPECT_TRUE(allclose(a, c.at(name), 1e-4, 1e-6).item<bool>()) << name;
  // The loss went down on a fixed batch.
  array x = random::normal({5, 4});
  array y = random::randint(0, 3, {5});
  float before = loss_of(*compiled_model)({x, y}).item<float>();
  for (int i = 0; i < 20; ++i) step({x, y});
  EXPECT_LT(loss_of(*compiled_model)({x, y}).item<float>(), before);
}

TEST(Optimizers, AdagradRmspropLionMatchReferences) {
  // run(lambda ps: torch.optim.Adagrad(ps, lr=0.1, eps=1e-8))
  opt::Adagrad adagrad(0.1f);
  EXPECT_TRUE(array_is(two_steps(adagrad), float32, {3}, {0.8019419, -1.9447213, 2.98}, 1e-6));
  // run(lambda ps: torch.optim.RMSprop(ps, lr=0.01, alpha=0.9, eps=1e-8))
  opt::RMSprop rmsprop(0.01f, 0.9f);
  EXPECT_TRUE(array_is(two_steps(rmsprop), float32, {3}, {0.9373087, -1.9831214, 2.9941435}, 1e-6));
  // Lion (Chen et al. 2023; PyTorch has none), in NumPy:
  //   p = np.array([1.0, -2.0, 3.0]); m = np.zeros(3)
  //   for g in (...): c = 0.9 m + 0.1 g; m = 0.99 m + 0.01 g; p = p (1 - 0.1 * 0.1) - 0.1 sign(c)
  opt::Lion lion(0.1f, {0.9f, 0.99f}, 0.1f);
  EXPECT_TRUE(array_is(two_steps(lion), float32, {3}, {0.7811, -1.9612, 2.9413}, 1e-6));
}

TEST(Optimizers, AdafactorMatchesTheAlgorithm) {
  // One step of Adafactor (Shazeer and Stern 2018, with MLX's defaults:
  // relative step, parameter scaling, decay -0.8, clip 1), in NumPy:
  //   t = 1; rms = lambda a: np.sqrt(np.mean(a * a))
  //   lr = min(1e-2, 1 / np.sqrt(t)) * max(1e-3, rms(P)); b2 = 1 - t ** -0.8
  //   U = G * G + 1e-30; R = (1 - b2) * U.mean(1); C = (1 - b2) * U.mean(0)
  //   V = np.outer(R / R.mean(), C); upd = G / np.sqrt(V); upd = upd / max(1, rms(upd))
  //   P - lr * upd
  opt::Adafactor af;
  array P = array({0.5f, -1.0f, 2.0f, 1.5f, 0.3f, -0.7f}, {2, 3});
  array G = array({0.1f, -0.4f, 0.2f, 0.3f, 0.05f, -0.6f}, {2, 3});
  auto out = af.apply_gradients({{"w", G}, {"b", take(G, 0, 0)}}, {{"w", P}, {"b", take(P, 0, 0)}});
  EXPECT_TRUE(array_is(out.at("w"), float32, {2, 3},
                       {0.4936866, -0.9801893, 1.9936866, 1.4870971, 0.298313, -0.6870971}, 1e-6));
  EXPECT_EQ(af.state().at("w.exp_avg_sq_row").shape(), Shape{2});
  EXPECT_EQ(af.state().at("w.exp_avg_sq_col").shape(), Shape{3});
  // A vector is not factored: lr = 1e-2 max(1e-3, rms(q)); v = g^2 + 1e-30; u = g / sqrt(v) clipped to rms 1
  EXPECT_TRUE(array_is(out.at("b"), float32, {3}, {0.4867712, -0.9867712, 1.9867712}, 1e-6));
  EXPECT_TRUE(throws_invalid([] { opt::Adafactor(std::nullopt, {1e-30f, 1e-3f}, 1.0f, -0.8f, std::nullopt, 0.0f,
                                                 true, false); },
                             "[Adafactor]"));
}

TEST(Optimizers, Schedules) {
  auto at = [](const opt::Schedule& s, int step) { return s(array(step, int32)).item<float>(); };
  // 0.1 * 0.5 ** 3
  EXPECT_NEAR(at(opt::exponential_decay(0.1f, 0.5f), 3), 0.0125, 1e-8);
  // 0.1 * 0.5 ** (7 // 3)
  EXPECT_NEAR(at(opt::step_decay(0.1f, 0.5f, 3), 7), 0.025, 1e-8);
  // [0.1 * 0.5 * (1 + math.cos(math.pi * min(s, 10) / 10)) for s in (0, 5, 10, 20)]
  auto cosine = opt::cosine_decay(0.1f, 10);
  EXPECT_NEAR(at(cosine, 0), 0.1, 1e-7);
  EXPECT_NEAR(at(cosine, 5), 0.05, 1e-7);
  EXPECT_NEAR(at(cosine, 10), 0.0, 1e-7);
  EXPECT_NEAR(at(cosine, 20), 0.0, 1e-7);
  auto warmup = opt::linear_schedule(0.0f, 0.1f, 4);
  EXPECT_NEAR(at(warmup, 1), 0.025, 1e-8);
  EXPECT_NEAR(at(warmup, 9), 0.1, 1e-8);
  // Warm up for 4 steps, then decay by cosine over 10 from the boundary.
  auto joined = opt::join_schedules({warmup, cosine}, {4});
  EXPECT_NEAR(at(joined, 2), 0.05, 1e-8);
  EXPECT_NEAR(at(joined, 4), 0.1, 1e-7);
  EXPECT_NEAR(at(joined, 9), 0.05, 1e-7);
  EXPECT_TRUE(throws_invalid([&] { opt::join_schedules({warmup, cosine}, {}); }, "[join_schedules]"));
  EXPECT_TRUE(throws_invalid([] { opt::step_decay(0.1f, 0.5f, 0); }, "[step_decay]"));
  // An optimizer follows its schedule (the learning rate is state).
  opt::SGD sgd(joined);
  auto p = sgd.apply_gradients({{"w", array({1.0f})}}, {{"w", array({0.0f})}});
  EXPECT_NEAR(p.at("w").item<float>(), 0.0, 1e-8);  // step 0 of the warmup: lr 0
  EXPECT_NEAR(sgd.learning_rate().item<float>(), 0.0, 1e-8);
}

}  // namespace

// Dropout inside a compiled training step draws a new mask on every step
// (compile passes a fresh random key per call), and the same masks again
// after reseeding.
TEST(Optimizers, CompiledStepDrawsAFreshDropoutMask) {
  random::seed(21);
  auto model = std::make_shared<nn::Sequential>(std::vector<std::shared_ptr<nn::Module>>{
      std::make_shared<nn::Linear>(16, 64), std::make_shared<nn::Dropout>(0.5f)});
  opt::SGD sgd(0.0f);  // the parameters stay put: only the mask changes the output
  auto step = opt::compile_step(*model, sgd, [&](const std::vector<array>& batch) {
    array out = (*model)(batch[0]);
    auto [loss, grads] = nn::value_and_grad(*model, [&](const std::vector<array>& b) {
      return sum((*model)(b[0]));
    })(batch);
    sgd.update(*model, grads);
    return std::vector<array>{out, loss};
  });
  array x = ones({4, 16});
  random::seed(1);
  auto first = step({x}), second = step({x});
  auto dropped = [](const array& y) { return sum(equal(y, array(0.0f))).item<int>(); };
  // About half of the 256 outputs are dropped each time, not the same ones.
  EXPECT_NEAR(dropped(first[0]), 128, 40);
  EXPECT_NEAR(dropped(second[0]), 128, 40);
  EXPECT_FALSE(array_equal(equal(first[0], array(0.0f)), equal(second[0], array(0.0f))).item<bool>());
  random::seed(1);
  EXPECT_TRUE(array_equal(step({x})[0], first[0]).item<bool>());
}
