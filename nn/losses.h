#pragma once
// Loss functions, as mlx.nn.losses: same names, arguments, defaults and
// reductions.
#include <optional>
#include "kiln/kiln.h"

namespace kiln::nn::losses {

enum class Reduction { none, mean, sum };

// Cross entropy of logits against class indices (integer targets, the
// shape of logits without `axis`) or probabilities (targets shaped as
// logits). label_smoothing in [0, 1) mixes the targets with the uniform
// distribution, as PyTorch. weights (shaped as the loss) scale each term.
array cross_entropy(const array& logits, const array& targets, const std::optional<array>& weights = std::nullopt,
                    int axis = -1, float label_smoothing = 0.0f, Reduction reduction = Reduction::none);
// Binary cross entropy of logits (with_logits) or probabilities.
array binary_cross_entropy(const array& inputs, const array& targets,
                           const std::optional<array>& weights = std::nullopt, bool with_logits = true,
                           Reduction reduction = Reduction::mean);
array mse_loss(const array& predictions, const array& targets, Reduction reduction = Reduction::mean);
array l1_loss(const array& predictions, const array& targets, Reduction reduction = Reduction::mean);
// Negative log likelihood of log probabilities `inputs` at class indices.
array nll_loss(const array& inputs, const array& targets, int axis = -1, Reduction reduction = Reduction::none);
// KL divergence sum(exp(targets) * (targets - inputs)), both log probabilities.
array kl_div_loss(const array& inputs, const array& targets, int axis = -1, Reduction reduction = Reduction::none);
// 0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta.
array smooth_l1_loss(const array& predictions, const array& targets, float beta = 1.0f,
                     Reduction reduction = Reduction::mean);

}  // namespace kiln::nn::losses
