#pragma once
// The custom op (ir/custom.h) in the passes: which ops form one call, and
// the vjp, jvp and vmap rules of a call. The loops of the vjp, jvp and vmap
// passes hand a whole call to these rules at its first op; inline.cpp runs
// calls by inlining them.
//
// Every rule emits *calls* (new custom ops) rather than the callee's ops, so
// what a rule computes stays opaque to canonicalize and CSE until the
// executor inlines it. That is what makes a custom op without a vjp rule a
// checkpoint: its reverse rule is a call of vjp(forward), which recomputes
// the forward function from the call's operands; inlined into the gradient
// directly, CSE would merge that recomputation with the forward pass and
// keep the intermediates alive after all.
#include <memory>
#include <unordered_map>
#include <utility>
#include <vector>

#include "ir/builder.h"
#include "ir/custom.h"

namespace kiln::passes {

// The calls of a function: its custom ops grouped by (Custom, operands).
class CustomCalls {
 public:
  explicit CustomCalls(const ir::Function& f);
  // True for the custom op defining value v when it is the first op of its
  // call: all the call's operands are defined there and none of its
  // outputs is used yet, so a rule can emit the whole call at that point.
  bool is_first(int v) const;
  // For the first op v of a call: the call's ops, as (value, output index)
  // pairs in order. (Before CSE two ops may stand for the same output.)
  const std::vector<std::pair<int, int>>& members(int v) const;

 private:
  std::unordered_map<int, size_t> call_of_first_;
  std::vector<std::vector<std::pair<int, int>>> members_;
};

// Whether f has any custom op.
bool has_custom_ops(const ir::Function& f);

// Appends a custom op: output `index` of calling c on `operands`.
int emit_custom(ir::Builder& b, const std::shared_ptr<const ir::Custom>& c,
                const std::vector<int>& operands, int index, int num_primals);

// Reverse mode for one call, whose op `op` gives the Custom and num_primals.
// x: the call's operands in the new function; y: each output's value there
// (-1: none yet, an op computing it is added if the rule needs it); ct: each
// output's cotangent (-1: zero); need: the operands that want one. Returns
// each operand's cotangent contribution (-1: none).
std::vector<int> custom_vjp(ir::Builder& b, const ir::Op& op, const std::vector<int>& x,
                            const std::vector<int>& y, const std::vector<int>& ct,
                            const std::vector<bool>& need);

// Forward mode for one call: t is each operand's tangent (-1: zero, and at
// least one is not). Returns each output's value and tangent in the new
// function, for the output indices in `wanted`.
struct CustomJvp {
  std::vector<int> outputs, tangents;
};
CustomJvp custom_jvp(ir::Builder& b, const ir::Op& op, const std::vector<int>& x,
                     const std::vector<int>& t, const std::vector<bool>& wanted);

// Batching of one call: x are the operands in the new function and in_axes
// their batch axes (-1: not batched; at least one is). Returns each output
// (for the indices in `wanted`) and its batch axis. The batched call keeps
// the custom vjp and jvp rules, batched the same way; the vmap rule is used
// once and dropped (a second vmap batches the batched forward function).
struct CustomBatch {
  std::vector<int> outputs, axes;
};
CustomBatch custom_vmap(ir::Builder& b, const ir::Op& op, const std::vector<int>& x,
                        const std::vector<int>& in_axes, int batch,
                        const std::vector<bool>& wanted);

}  // namespace kiln::passes
