// Inlining of custom ops: each call (the custom ops sharing one Custom and
// one list of operands) is replaced by one copy of its forward callee's ops,
// callees of callees included. The executor runs it before fusion, so the
// kernel emitter never sees a custom op.
//
// Nothing is merged afterwards: no CSE runs after this pass in the
// executor, which is what keeps a checkpoint's recomputation in the
// backward pass separate from the forward pass (both are copies of the same
// ops). Dead ops (outputs of a callee nobody reads) are dropped.
#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "ir/custom.h"
#include "passes/custom.h"
#include "passes/pass_manager.h"

namespace kiln::passes {

namespace {

using ir::Function;
using ir::Op;

// Appends `callee`'s ops to g, applied to g's values `args`; returns the
// values of its outputs. Recursive over nested calls: the verifier bounds
// the depth by kMaxCalleeDepth, the guard catches unverified input.
std::vector<int> emit(Function& g, const Function& callee, const std::vector<int>& args,
                      int depth) {
  if (depth > ir::kMaxCalleeDepth)
    throw std::invalid_argument("[inline] custom ops nest more than " +
                                std::to_string(ir::kMaxCalleeDepth) + " calls deep");
  std::vector<int> val(size_t(callee.num_values()));
  for (size_t i = 0; i < args.size(); ++i) val[i] = args[i];
  std::map<std::pair<const ir::Custom*, std::vector<int>>, std::vector<int>> calls;
  for (size_t i = 0; i < callee.ops.size(); ++i) {
    Op op = callee.ops[i];
    for (int& o : op.operands) o = val[size_t(o)];
    const size_t v = callee.inputs.size() + i;
    if (op.kind != ir::OpKind::Custom) {
      val[v] = g.add_op(std::move(op));
      continue;
    }
    auto [it, fresh] = calls.try_emplace({op.custom.get(), op.operands});
    if (fresh) it->second = emit(g, *op.custom->forward, op.operands, depth + 1);
    val[v] = it->second[size_t(op.int_attr("index"))];
  }
  std::vector<int> outs;
  for (int o : callee.outputs) outs.push_back(val[size_t(o)]);
  return outs;
}

}  // namespace

ir::Function inline_custom(const ir::Function& f) {
  Function g;
  g.name = f.name;
  std::vector<int> args;
  for (const ir::Type& t : f.inputs) args.push_back(g.add_input(t));
  g.outputs = emit(g, f, args, 0);
  return dce(g);
}

}  // namespace kiln::passes
