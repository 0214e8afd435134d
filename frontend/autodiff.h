#pragma once
// Automatic differentiation, as in mlx::core's transforms.h: vjp, jvp,
// value_and_grad, grad, checkpoint. (stop_gradient is an op: ops.h.)
//
// Each transform traces the C++ function into an ir::Function
// (detail::trace), differentiates it with the IR pass passes::vjp or
// passes::jvp, simplifies the result (canonicalize, cse, dce) and inlines it
// where it is called. Results are lazy arrays like any op's, so the
// transforms compose with each other and with compile(): grad(grad(f)),
// jvp of vjp (Hessian-vector products), compile(grad(f)), grad(compile(f)).
// A transform traces its function on every call (as MLX); wrap it in
// compile() to trace once per input signature.
//
// Semantics:
//  * Arrays a function captures are constants of its trace: their gradient
//    is zero. That includes values of an enclosing transform (a closure
//    over the outer function's inputs, as in
//    grad([](a){ return grad([&a](b){ return sum(a*b*b); })(a); })): they are
//    constants for the inner transform, and the outer one differentiates
//    through the inner result's dependence on them.
//  * Non-differentiable ops (comparisons, argmax, floor, integer casts,
//    stop_gradient, ...) give zero gradients. Ties of maximum/minimum and of
//    max/min reductions share the gradient evenly.
//  * Only floating point inputs are differentiated. grad/value_and_grad
//    throw std::invalid_argument for an argnum of an integer, bool or
//    complex input; vjp/jvp give zero vjps for integer and bool primals
//    (and ignore their tangents) and reject complex primals.
//  * Errors are std::invalid_argument: argnums out of range, repeated or
//    empty; a loss that is not a scalar ("[grad] The function must return a
//    scalar ..."); cotangent or tangent counts or shapes that do not match.
//    Cotangents and tangents of another dtype are converted to the output's
//    (primal's) dtype.
#include <functional>
#include <utility>
#include <vector>

#include "frontend/trace.h"

namespace kiln {

// The outputs of fun at primals and the vector-Jacobian products of the
// cotangents (one per output; outputs that are a stop_gradient may be left
// out, as MLX) with fun's Jacobian: one vjp per primal.
std::pair<std::vector<array>, std::vector<array>> vjp(
    const std::function<std::vector<array>(const std::vector<array>&)>& fun,
    const std::vector<array>& primals, const std::vector<array>& cotangents);
std::pair<array, array> vjp(const std::function<array(const array&)>& fun, const array& primal,
                            const array& cotangent);

// The outputs of fun at primals and the Jacobian-vector products of fun's
// Jacobian with the tangents (one per primal): one jvp per output.
std::pair<std::vector<array>, std::vector<array>> jvp(
    const std::function<std::vector<array>(const std::vector<array>&)>& fun,
    const std::vector<array>& primals, const std::vector<array>& tangents);
std::pair<array, array> jvp(const std::function<array(const array&)>& fun, const array& primal,
                            const array& tangent);

// A function computing fun's outputs and the gradient of its first output
// (a scalar, the loss) with respect to the arguments `argnums` (negative
// numbers count from the end), in the order given. Further outputs (aux
// values) are returned as they are and do not contribute to the gradient.
using ValueAndGradFn = std::function<std::pair<std::vector<array>, std::vector<array>>(
    const std::vector<array>&)>;
using SimpleValueAndGradFn =
    std::function<std::pair<array, std::vector<array>>(const std::vector<array>&)>;

ValueAndGradFn value_and_grad(
    const std::function<std::vector<array>(const std::vector<array>&)>& fun,
    const std::vector<int>& argnums);
ValueAndGradFn value_and_grad(
    const std::function<std::vector<array>(const std::vector<array>&)>& fun, int argnum = 0);
std::function<std::pair<array, array>(const array&)> value_and_grad(
    const std::function<array(const array&)>& fun);
SimpleValueAndGradFn value_and_grad(const std::function<array(const std::vector<array>&)>& fun,
                                    const std::vector<int>& argnums);
SimpleValueAndGradFn value_and_grad(const std::function<array(const std::vector<array>&)>& fun,
                                    int argnum = 0);

// The gradient alone.
std::function<std::vector<array>(const std::vector<array>&)> grad(
    const std::function<array(const std::vector<array>&)>& fun, const std::vector<int>& argnums);
std::function<std::vector<array>(const std::vector<array>&)> grad(
    const std::function<array(const std::vector<array>&)>& fun, int argnum = 0);
std::function<array(const array&)> grad(const std::function<array(const array&)>& fun);

// Gradient checkpointing: a function that computes what fun computes and
// whose intermediate values the gradient may recompute instead of keeping.
// kiln differentiates whole traced functions, and which values are kept is
// decided when the traced gradient is compiled, so this is fun itself: the
// results and gradients are those of fun.
std::function<std::vector<array>(const std::vector<array>&)> checkpoint(
    std::function<std::vector<array>(const std::vector<array>&)> fun);

}  // namespace kiln
