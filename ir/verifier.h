#pragma once
#include <string>

#include "ir/function.h"

namespace kiln::ir {

// Checks that f is well formed: operands refer to values defined earlier,
// each op has its arity and attributes and its declared type equals its
// type rule's (type_rules.h), constants hold exactly their type's bytes,
// outputs exist. Returns "" when f is valid, else a message naming the op
// (by value id and name) and the problem.
std::string verify_message(const Function& f);

// As verify_message, but throws std::invalid_argument on a problem.
void verify(const Function& f);

}  // namespace kiln::ir
