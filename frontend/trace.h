#pragma once
// Tracing turns a C++ function of arrays into an ir::Function, and inlining
// turns an ir::Function back into (lazy) arrays. Together they are how
// compile(), the autodiff transforms and vmap work: trace, transform the IR
// with a pass, inline the result where it is called.
#include <functional>
#include <string>
#include <vector>

#include "frontend/array.h"
#include "ir/function.h"

namespace kiln {

using ArrayFunction = std::function<std::vector<array>(const std::vector<array>&)>;

namespace detail {

// Calls fn on placeholder arrays of the given types and records what it
// computes. Arrays the function captured (already materialized) become
// constants of the trace; evaluating a placeholder-dependent array inside fn
// throws std::invalid_argument.
//
// A nested transform may capture a value of an enclosing trace (a
// placeholder of the outer function, or something computed from one). With
// `captured` given, each such value becomes an extra input after the
// declared ones and is appended to *captured, so the caller passes it when
// inlining; without it, such a capture throws std::invalid_argument.
//
// With `shapes` given, it also records what a shapeless compile() needs
// to re-specialize the trace for other input shapes (see ShapeFacts).
struct ShapeFacts;
ir::Function trace(const ArrayFunction& fn, const std::vector<ir::Type>& input_types,
                   std::vector<array>* captured = nullptr, ShapeFacts* shapes = nullptr);

// What a trace knows of its shapes beyond its types.
struct ShapeFacts {
  // Value ids of the reshapes that follow their operand's shape
  // (Node::shape_generic); every other reshape has a literal shape.
  std::vector<int> generic_reshapes;
  // Ops that computed a constant from an input's shape (mean's element
  // count...): their results are right only for the traced shapes.
  std::vector<std::string> shape_baked;
};

// Marks a pending reshape `out` made from `in` as Node::shape_generic.
array shape_generic(const array& in, array out);
// Notes, while tracing, that `op` baked the shape of `a` into a constant.
void note_shape_baked(const std::string& op, const array& a);

// Records f's ops as pending nodes applied to args (whose types must match
// f's inputs) and returns its outputs. Nothing is computed.
std::vector<array> inline_function(const ir::Function& f, const std::vector<array>& args);

std::vector<ir::Type> types_of(const std::vector<array>& arrays);

// True for the stand-in arrays that trace() passes to the traced function.
bool is_placeholder(const array& a);
// True while this thread is inside trace() (some transformation is tracing).
bool tracing();

// True when a's value depends on a placeholder (a is being traced).
bool depends_on_placeholder(const array& a);

// KILN_EXECUTOR=interp: every evaluation runs on the reference interpreter.
bool use_interpreter();

}  // namespace detail
}  // namespace kiln
