#pragma once
// The IR's text form. Grammar and examples: ir/README.md.
#include <ostream>
#include <string>

#include "ir/function.h"

namespace kiln::ir {

// Prints f in the stable text form; values are renumbered %0, %1, ...
// (inputs first), attributes in name order, constants exactly (they parse
// back to the same bits).
std::string print(const Function& f);
void print(std::ostream& os, const Function& f);

}  // namespace kiln::ir
