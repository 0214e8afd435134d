#pragma once
// The derivative rules of the scans and the sort (autodiff.cpp calls them
// from its rule switch): each returns the operand's cotangent (vjp) or the
// result's tangent (jvp), built from existing ops. argsort and
// argpartition are not differentiable.
#include "ir/builder.h"

namespace kiln::passes {

// op: the original scan or sort; x its operand and y its result in the
// function being built; g the result's cotangent, t the operand's tangent.
int scan_sort_vjp(ir::Builder& b, const ir::Op& op, int x, int y, int g);
int scan_sort_jvp(ir::Builder& b, const ir::Op& op, int x, int y, int t);

}  // namespace kiln::passes
