#include "nn/losses.h"

#include <stdexcept>

namespace kiln::nn::losses {

static array reduce(const array& loss, Reduction r) {
  switch (r) {
    case Reduction::none: return loss;
    case Reduction::mean: return mean(loss);
    case Reduction::sum: return sum(loss);
  }
  return loss;
}

// Whether class targets have the shape of the logits without `axis`.
static bool class_targets_fit(const array& logits, const array& targets, int ax) {
  Shape expected = logits.shape();
  expected.erase(expected.begin() + ax);
  return targets.shape() == expected;
}

static void same_shape(const char* name, const array& a, const array& b) {
  if (a.shape() != b.shape())
    throw std::invalid_argument(std::string("[") + name + "] predictions of shape " +
                                ir::shape_to_string(a.shape()) + " and targets of shape " +
                                ir::shape_to_string(b.shape()) + " differ");
}


array cross_entropy(const array& logits, const array& targets, const std::optional<array>& weights, int axis,
                    float label_smoothing, Reduction reduction) {
  if (label_smoothing < 0.0f || label_smoothing >= 1.0f)
    throw std::invalid_argument("[cross_entropy] label_smoothing must be in [0, 1), got " +
                                std::to_string(label_smoothing));
  int nd = int(logits.ndim());
  int ax = axis < 0 ? axis + nd : axis;
  if (ax < 0 || ax >= nd)
    throw std::invalid_argument("[cross_entropy] axis " + std::to_string(axis) + " is out of range for logits of shape " +
                                ir::shape_to_string(logits.shape()));
  array score = array(0.0f);
  if (is_integral(targets.dtype())) {
    if (!class_targets_fit(logits, targets, ax))
      throw std::invalid_argument("[cross_entropy] class targets of shape " + ir::shape_to_string(targets.shape()) +
                                  " do not match logits of shape " + ir::shape_to_string(logits.shape()));
    score = squeeze(take_along_axis(logits, expand_dims(targets, ax), ax), ax);
  } else {
    same_shape("cross_entropy", logits, targets);
    score = sum(logits * targets, ax);
  }
  array lse = logsumexp(logits, ax);
  array loss = lse - score;
  if (label_smoothing > 0.0f) {
    array eps = array(label_smoothing, logits.dtype());
    loss = lse - (array(1.0f, logits.dtype()) - eps) * score - eps * mean(logits, ax);
  }
  if (weights) {
    if (weights->shape() != loss.shape())
      throw std::invalid_argument("[cross_entropy] weights of shape " + ir::shape_to_string(weights->shape()) +
                                  " do not match the loss of shape " + ir::shape_to_string(loss.shape()));
    loss = loss * *weights;
  }
  return reduce(loss, reduction);
}

array binary_cross_entropy(const array& inputs, const array& targets, const std::optional<array>& weights,
                           bool with_logits, Reduction reduction) {
  same_shape("binary_cross_entropy", inputs, targets);
  array loss = array(0.0f);
  if (with_logits) {
    loss = logaddexp(array(0.0f, inputs.dtype()), inputs) - inputs * targets;
  } else {
    // As PyTorch and MLX: the logs are clamped at -100 so that 0 * log(0) is 0.
    array lo = array(-100.0f, inputs.dtype());
    array log_p = maximum(log(inputs), lo);
    array log_q = maximum(log(array(1.0f, inputs.dtype()) - inputs), lo);
    loss = -(targets * log_p + (array(1.0f, inputs.dtype()) - targets) * log_q);
  }
  if (weights) {
    if (weights->shape() != loss.shape())
      throw std::invalid_argument("[binary_cross_entropy] weights of shape " +
                                  ir::shape_to_string(weights->shape()) + " do not match the loss of shape " +
                                  ir::shape_to_string(loss.shape()));
    loss = loss * *weights;
  }
  return reduce(loss, reduction);
}

array mse_loss(const array& predictions, const array& targets, Reduction reduction) {
  same_shape("mse_loss", predictions, targets);
  return reduce(square(predictions - targets), reduction);
}

array l1_loss(const array& predictions, const array& targets, Reduction reduction) {
  same_shape("l1_loss", predictions, targets);
  return reduce(abs(predictions - targets), reduction);
}

array nll_loss(const array& inputs, const array& targets, int axis, Reduction reduction) {
  int nd = int(inputs.ndim());
  int ax = axis < 0 ? axis + nd : axis;
  if (ax < 0 || ax >= nd || !class_targets_fit(inputs, targets, ax))
    throw std::invalid_argument("[nll_loss] targets of shape " + ir::shape_to_string(targets.shape()) +
                                " do not match inputs of shape " + ir::shape_to_string(inputs.shape()) +
                                " along axis " + std::to_string(axis));
  return reduce(-squeeze(take_along_axis(inputs, expand_dims(targets, ax), ax), ax), reduction);
}

array kl_div_loss(const array& inputs, const array& targets, int axis, Reduction reduction) {
  same_shape("kl_div_loss", inputs, targets);
  return reduce(sum(exp(targets) * (targets - inputs), axis), reduction);
}

array smooth_l1_loss(const array& predictions, const array& targets, float beta, Reduction reduction) {
  same_shape("smooth_l1_loss", predictions, targets);
  array d = abs(predictions - targets);
  array b = array(beta, d.dtype());
  array loss = where(less(d, b), array(0.5f, d.dtype()) * square(d) / b, d - array(0.5f, d.dtype()) * b);
  return reduce(loss, reduction);
}

}  // namespace kiln::nn::losses
