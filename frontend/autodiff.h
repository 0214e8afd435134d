#pragma once
// Automatic differentiation, as in mlx::core's transforms.h: vjp, jvp,
// value_and_grad, grad, and custom rules: custom_function, custom_vjp,
// checkpoint. (stop_gradient is an op: ops.h.)
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
//  * Floating point and complex inputs are differentiated. grad/value_and_grad
//    throw std::invalid_argument for an argnum of an integer or bool input,
//    and for a complex loss; vjp/jvp give zero vjps for integer and bool
//    primals (and refuse their tangents).
//  * Complex values (complex64, e.g. through kiln::fft) follow JAX's
//    convention: a tangent is a complex number like its primal, and the
//    cotangent (and grad) of a complex z = x + iy is dL/dx - i dL/dy, the
//    conjugate of PyTorch's. For real inputs and a real loss, as with
//    grad(sum(abs(fft(x)))), the gradient is the same in every convention.
//  * Errors are std::invalid_argument: argnums out of range, repeated or
//    empty; a loss that is not a scalar ("[grad] The function must return a
//    scalar ..."); cotangent or tangent counts or shapes that do not match.
//    Cotangents and tangents of another dtype are converted to the output's
//    (primal's) dtype.
#include <functional>
#include <optional>
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

// ---- Custom transformation rules ------------------------------------------
//
// custom_function(fun, fun_vjp, fun_jvp, fun_vmap) returns a function that
// computes what fun computes, but whose vjp, jvp and vmap use the given
// rules instead of transforming fun (MLX's signatures and semantics):
//  * fun_vjp(primals, cotangents, outputs) returns one cotangent per primal
//    (cotangents: one per output of fun, zeros for outputs that get none;
//    outputs: fun's outputs at the primals);
//  * fun_jvp(primals, tangents, argnums) returns one tangent per output;
//    argnums lists the primals that have a tangent: kiln passes every
//    floating primal (zeros for those the caller does not differentiate);
//  * fun_vmap(inputs, axes) returns the batched outputs and each one's batch
//    axis; inputs are batched along axes (-1: not batched). An output with
//    axis -1 is broadcast along a new axis 0.
// A rule that is not given comes from transforming fun. Rules compose with
// every transformation and with compile(): grad(custom), jvp(custom),
// vmap(custom) (the batched function keeps its custom vjp and jvp),
// compile(grad(custom)), grad(compile(custom)), grad(grad(custom)) (the
// rules themselves are differentiated as functions).
//
// How: inside a transformation, a call traces fun and the rules (on
// placeholders of the primals', cotangents' and outputs' types) into IR and
// records one `custom` op per output (ir/custom.h); the IR passes apply the
// rules; the executor runs fun by inlining it. Outside every transformation
// the call is simply fun(primals): no rule could apply there.
//
// Semantics and errors:
//  * The rules define the derivatives with respect to the primals. Values
//    that fun or a rule captures from an enclosing transformation (a closure
//    over an outer function's inputs) are constants for custom rules: they
//    get no cotangent from fun_vjp and no tangent through fun_jvp. Without
//    a rule they are differentiated through fun like the primals.
//  * fun_vjp must return as many cotangents as there are primals, each of
//    its primal's shape (the dtype is converted); fun_jvp one tangent per
//    output of its output's shape; fun_vmap one array and one axis per
//    output, the output's shape with the batch size at that axis. Anything
//    else throws std::invalid_argument ("[custom_vjp] The vjp function
//    returned 1 cotangents for 2 primals.") when the rules are traced: at a
//    call inside a transformation (fun_vmap's when vmap applies it).
//  * fun_vmap is not part of the IR's text form (it depends on the batch
//    size and axes, so it stays a C++ function, traced by the vmap pass).
//    It may not capture values of an enclosing transformation (that
//    throws), and it is not used when a value that fun captured from one is
//    batched: fun is batched instead.
//  * Without fun_vjp, reverse mode recomputes fun in the backward pass, as
//    checkpoint does.
using CustomVjpFunction = std::function<std::vector<array>(
    const std::vector<array>&, const std::vector<array>&, const std::vector<array>&)>;
using CustomJvpFunction = std::function<std::vector<array>(
    const std::vector<array>&, const std::vector<array>&, const std::vector<int>&)>;
using CustomVmapFunction = std::function<std::pair<std::vector<array>, std::vector<int>>(
    const std::vector<array>&, const std::vector<int>&)>;

std::function<std::vector<array>(const std::vector<array>&)> custom_function(
    std::function<std::vector<array>(const std::vector<array>&)> fun,
    std::optional<CustomVjpFunction> fun_vjp = std::nullopt,
    std::optional<CustomJvpFunction> fun_jvp = std::nullopt,
    std::optional<CustomVmapFunction> fun_vmap = std::nullopt);

// custom_function(fun, fun_vjp): the vjp of the result is fun_vjp.
std::function<std::vector<array>(const std::vector<array>&)> custom_vjp(
    std::function<std::vector<array>(const std::vector<array>&)> fun, CustomVjpFunction fun_vjp);

// Gradient checkpointing: a function computing what fun computes whose
// gradient recomputes fun's intermediate values from its inputs in the
// backward pass instead of keeping them from the forward pass: memory for
// time. The results and gradients are those of fun (values fun captures
// from an enclosing transformation included). The recomputation is a call
// that canonicalization and CSE do not look into, so it is not merged with
// the forward pass; the executor inlines it after them.
std::function<std::vector<array>(const std::vector<array>&)> checkpoint(
    std::function<std::vector<array>(const std::vector<array>&)> fun);

}  // namespace kiln
