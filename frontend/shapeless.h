#pragma once
// Re-specializing a trace for new input shapes: what makes compile(fun,
// /*shapeless=*/true) trace `fun` once for every input shape of the same
// ranks and dtypes. Internal to compile().
#include <vector>

#include "frontend/trace.h"
#include "ir/function.h"

namespace kiln::detail {

// f with its inputs retyped to `inputs` (same count, dtypes and ranks) and
// every op's type, and the shape attributes that follow the inputs'
// shapes, derived again:
// - elementwise ops, reductions, transposes, pads, concatenations, takes,
//   matmuls: from their operands, by their type rules;
// - a broadcast keeps the dimensions its operand has and takes the others
//   from the operands it is combined with elementwise (x + 1.0 broadcasts
//   the scalar to x's new shape); a dimension nothing determines keeps its
//   traced size;
// - a reshape in `facts.generic_reshapes` (flatten, squeeze, expand_dims,
//   keepdims...) regroups the operand's new dimensions as it grouped the
//   traced ones; a full slice of a dimension stays full.
// Throws std::invalid_argument("[compile] ...") where the trace fixed a
// size that the new shapes change: a reshape to a literal shape, a partial
// slice of a resized dimension, a custom op, or operands that no longer
// match elementwise.
ir::Function specialize_shapes(const ir::Function& f, const ShapeFacts& facts,
                               const std::vector<ir::Type>& inputs);

}  // namespace kiln::detail
