#pragma once
// Function transformations as IR -> IR passes (DESIGN.md: "Autodiff and vmap
// are IR -> IR passes"). The frontend's vjp/jvp/grad/vmap trace a C++
// function, apply one of these, and inline the result.
#include <vector>

#include "ir/function.h"

namespace kiln::passes {

// Reverse mode. F(x_0..x_{n-1}) -> (y_0..y_{m-1}) becomes
// G(x_0..x_{n-1}, ct_0..ct_{m-1}) -> (y_0..y_{m-1}, dx_{wrt[0]}, dx_{wrt[1]}, ...)
// where ct_j has y_j's type and dx_i = sum_j ct_j . dy_j/dx_i has x_i's type.
ir::Function vjp(const ir::Function& f, const std::vector<int>& wrt);

// Forward mode. F becomes G(x_0..x_{n-1}, t_{wrt[0]}, ...) -> (y_0..y_{m-1},
// ty_0..ty_{m-1}), the tangents of the outputs.
ir::Function jvp(const ir::Function& f, const std::vector<int>& wrt);

// Batching. Each input i with in_axes[i] >= 0 gains a batch dimension of
// size `batch` at that axis (-1: not batched); each output j gets the batch
// dimension at out_axes[j].
ir::Function vmap(const ir::Function& f, const std::vector<int>& in_axes,
                  const std::vector<int>& out_axes, int batch);

// The forms registered for kiln-opt: with respect to / batched along axis 0
// over every floating input (vmap: every input, batch size 4).
ir::Function vjp_pass(const ir::Function& f);
ir::Function jvp_pass(const ir::Function& f);
ir::Function vmap_pass(const ir::Function& f);

}  // namespace kiln::passes
