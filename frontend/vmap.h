#pragma once
// vmap, as in mlx::core's transforms.h: vectorize a function over an axis
// of its inputs.
//
// vmap(fun, in_axes, out_axes) returns a function that computes, for each
// index i along the mapped axes, fun on the i-th slices of the mapped inputs
// (and on the whole of the unmapped ones), and stacks the results along
// out_axes. It works by tracing fun once per call on the unbatched input
// types, rewriting the traced ir::Function with the batching pass
// (passes::vmap) and inlining the result: no loop runs, and the outputs are
// lazy arrays like any op's. vmap composes with itself (vmap of vmap), with
// compile() both ways and with the autodiff transforms.
//
// Axes:
//  * in_axes[i] is the axis of input i that is mapped, in [0, ndim); -1
//    means input i is not mapped (passed whole to every call). Other
//    negative values are rejected. Every mapped input must have the same
//    size along its mapped axis, and at least one input must be mapped
//    (unless every out axis is -1 too, when fun is simply called).
//  * out_axes[j] is where output j gets the batch axis, in [0, ndim of the
//    unbatched output]. An output that does not depend on any mapped input is
//    broadcast to include the batch axis; out_axes[j] = -1 instead returns it
//    unmapped (an error if it does depend on a mapped input).
//  * Empty in_axes / out_axes mean 0 for every input / output.
// Bad axes, mismatched batch sizes and a wrong number of axes throw
// std::invalid_argument with a message starting "[vmap]".
#include <functional>
#include <vector>

#include "frontend/trace.h"

namespace kiln {

std::function<array(const array&)> vmap(const std::function<array(const array&)>& fun,
                                        int in_axis = 0, int out_axis = 0);

std::function<array(const array&, const array&)> vmap(
    const std::function<array(const array&, const array&)>& fun, int in_axis_a = 0,
    int in_axis_b = 0, int out_axis = 0);

std::function<std::vector<array>(const std::vector<array>&)> vmap(
    const std::function<std::vector<array>(const std::vector<array>&)>& fun,
    const std::vector<int>& in_axes = {}, const std::vector<int>& out_axes = {});

}  // namespace kiln
