#pragma once
// Transcendental functions emitted as plain LLVM IR (polynomial / rational
// approximations with range reduction), the XLA approach: the loop
// vectorizer can widen them, there is no call per element and no errno.
// Each works on float or double, scalar or vector (<N x float> ...), and has
// an accuracy budget in ulp that tests/test_math_approx.cpp checks.
#include "ir/ops.h"

namespace llvm {
class Value;
class IRBuilderBase;
}  // namespace llvm

namespace kiln::codegen {

// Emits op(x) for a unary op of ir/ops.h, or returns nullptr when this
// module has no approximation for that op (the caller then uses an LLVM
// intrinsic or libm).
llvm::Value* emit_unary_math(ir::OpKind op, llvm::IRBuilderBase& b, llvm::Value* x);

// The same for the binary ops power, arctan2 and logaddexp (x, y of one type).
llvm::Value* emit_binary_math(ir::OpKind op, llvm::IRBuilderBase& b, llvm::Value* x, llvm::Value* y);

// Whether op has an approximation here (for float and double).
bool has_approximation(ir::OpKind op);

}  // namespace kiln::codegen
