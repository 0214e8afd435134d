#pragma once
#include <string>

#include "ir/function.h"

namespace kiln::ir {

// Checks that f is well formed: operands refer to values defined earlier,
// each op has its arity and attributes and its declared type equals its
// type rule's (type_rules.h), constants hold exactly their type's bytes,
// outputs exist; custom ops match their callees' signatures, and the
// callees (custom.h) are themselves valid, acyclic and nest at most
// kMaxCalleeDepth deep. Returns "" when f is valid, else a message naming
// the op (by value id and name) and the problem.
std::string verify_message(const Function& f);

// As verify_message, but throws std::invalid_argument on a problem.
void verify(const Function& f);

namespace detail {
// For the parser, which reports a problem at its source position. Returns ""
// if f is valid; else the message, and sets *where to 0 (an input), 1 (an
// op), 2 (an output) or 3 (the function as a whole) and *index to its
// position in f.inputs, f.ops or f.outputs. A problem inside a function
// that a custom op calls is reported at that op. With check_callees false,
// only f's own ops are checked (the parser checks each function it reads).
std::string verify_located(const Function& f, int* where, int* index,
                           bool check_callees = true);
// The problem of op `index` alone (the ops before it assumed valid), or "".
std::string verify_op(const Function& f, size_t index);
}  // namespace detail

}  // namespace kiln::ir
