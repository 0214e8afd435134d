#pragma once
// A materialized value: contiguous, row-major elements of `type` in a
// (shared, immutable once filled) buffer. What the interpreter and the
// executables take and return.
#include "ir/function.h"
#include "runtime/buffer.h"

namespace kiln::ir {

struct Tensor {
  Type type;
  runtime::BufferPtr buffer;
};

}  // namespace kiln::ir
