#pragma once
// The type rule of every op: what operand types it accepts and the type of
// the value it defines. Used by the verifier and by the frontend when it
// records a node.
#include <vector>

#include "ir/function.h"

namespace kiln::ir {

// Returns the result type of an op of `kind` with operands of `operands`
// types and attributes `attrs`. For ops whose result type is not implied by
// their operands (constant, cast, reshape, broadcast) `declared` supplies it
// and is checked. Throws std::invalid_argument("[op] problem ...") for
// operands or attributes the op does not accept.
Type infer_type(OpKind kind, const std::vector<Type>& operands, const Attrs& attrs,
                const Type& declared);

// Number of elements of Python's range(start, stop, step); step != 0.
int64_t range_length(int64_t start, int64_t stop, int64_t step);

}  // namespace kiln::ir
