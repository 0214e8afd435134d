#pragma once
// The callees of a `custom` op: a function call whose transformations are
// given by other functions (custom_function, custom_vjp and checkpoint in
// the frontend build it).
//
// A call of a forward function F with n "primal" operands and e more
// operands (the environment: values of an enclosing transformation that the
// C++ functions captured) is one `custom` op per output of F that is used:
//
//   %y0 = custom(%x0, .., %env0, ..) {forward = @F, index = 0, num_primals = n} : <F's output 0>
//   %y1 = custom(%x0, .., %env0, ..) {forward = @F, index = 1, num_primals = n} : <F's output 1>
//
// Ops that share one Custom and the same operands are the outputs of one
// call (the IR has one value per op, so a call with m outputs is up to m
// ops); every pass treats them as one unit and computes F once.
//
// Why an op carrying functions rather than something the frontend expands:
// the transformations are IR -> IR passes (passes::vjp, jvp, vmap), so a
// custom rule has to survive tracing in a form those passes can see. The
// rules are traced into IR when the custom function is called (with
// placeholders of the primals', cotangents' and outputs' types), so a
// function with custom ops is self-contained: it prints, parses back and
// can be differentiated by kiln-opt. The one exception is the vmap rule,
// whose result depends on the batch size and the mapped axes that only the
// vmap pass knows: it stays a C++ callback (VmapRule) and is not part of the
// text form (without it, vmap batches the forward function instead).
//
// Until execution the op is opaque: canonicalize, CSE and fusion never look
// inside it, so the recomputation of a checkpoint is not merged with the
// forward pass. The executor and the interpreter run it by inlining F
// (passes/inline.cpp).
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "ir/function.h"

namespace kiln::ir {

// Given the types of the primal operands (batched ones with their batch
// axis) and each primal's batch axis (-1: not batched), returns the batched
// forward function (inputs: the primals only) and the batch axis of each
// of its outputs (all >= 0).
using VmapRule = std::function<std::pair<Function, std::vector<int>>(
    const std::vector<Type>& primals, const std::vector<int>& in_axes, int batch)>;

struct Custom {
  // (primals.., env..) -> (outputs..). Required.
  std::shared_ptr<const Function> forward;
  // The vjp rule, or null: (primals.., env.., cotangents.. (one per output),
  // outputs..) -> one cotangent per primal. The environment gets none.
  // Without a rule, reverse mode differentiates `forward` with respect to
  // every operand and recomputes it in the backward pass (a checkpoint).
  std::shared_ptr<const Function> vjp;
  // The jvp rule, or null: (primals.., env.., one tangent per floating
  // primal..) -> one tangent per output. Without one, forward mode
  // differentiates `forward`.
  std::shared_ptr<const Function> jvp;
  // The vmap rule, or empty (see VmapRule).
  VmapRule vmap;
};

// Callees nest (a rule may itself call custom functions) at most this deep;
// the verifier enforces it, so the recursive inliner and interpreter are
// bounded.
inline constexpr int kMaxCalleeDepth = 64;

// The types of f's outputs; false when an output is not a value of f.
bool output_types(const Function& f, std::vector<Type>* out);

// "" when the custom op `op` (with operands of the given types) matches its
// callees' signatures, else the problem. Callee bodies are not checked.
std::string custom_op_problem(const Op& op, const std::vector<Type>& operands);

}  // namespace kiln::ir
