// Placeholder: the approximations are being written.
#include "codegen/llvm/math.h"

namespace kiln::codegen {
llvm::Value* emit_unary_math(ir::OpKind, llvm::IRBuilderBase&, llvm::Value*) { return nullptr; }
llvm::Value* emit_binary_math(ir::OpKind, llvm::IRBuilderBase&, llvm::Value*, llvm::Value*) { return nullptr; }
}  // namespace kiln::codegen
