#include "passes/loop_collapse.h"

#include <algorithm>
#include <limits>

namespace kiln::passes {

namespace {

using kernel::Kernel;
using kernel::Node;
using kernel::NodeKind;
using kernel::Stride;

bool reads_memory(const Node& n) { return n.kind == NodeKind::Load || n.kind == NodeKind::Gather; }

int new_param(Step& st, int64_t value) {
  st.params.push_back(value);
  return st.kernel.num_params++;
}

// Whether every load in `nodes` steps over variable `outer` by the extent
// of variable `inner` times its step over `inner`: the two walk memory as
// one loop of outer x inner iterations.
bool contiguous(const Step& st, const std::vector<int>& nodes, int outer, int inner, int64_t inner_extent) {
  for (int i : nodes) {
    const Node& n = st.kernel.nodes[size_t(i)];
    if (!reads_memory(n)) continue;
    if (stride_value(st, n.strides[size_t(outer)]) != stride_value(st, n.strides[size_t(inner)]) * inner_extent)
      return false;
  }
  return true;
}

std::vector<int> all_nodes(const Kernel& k) {
  std::vector<int> v(k.nodes.size());
  for (size_t i = 0; i < v.size(); ++i) v[i] = int(i);
  return v;
}

// The nodes under `root` (itself included).
std::vector<int> subtree(const Kernel& k, int root) {
  std::vector<char> seen(k.nodes.size());
  std::vector<int> stack{root}, out;
  while (!stack.empty()) {
    int i = stack.back();
    stack.pop_back();
    if (seen[size_t(i)]) continue;
    seen[size_t(i)] = 1;
    out.push_back(i);
    for (int o : k.nodes[size_t(i)].operands) stack.push_back(o);
  }
  return out;
}

// Output dimensions d and d + 1 become one (the variables above shift down).
bool collapse_output_dimensions(Step& st) {
  Kernel& k = st.kernel;
  for (int d = k.rank - 2; d >= 0; --d) {
    int64_t outer = st.params[size_t(k.size_params[size_t(d)])];
    int64_t inner = st.params[size_t(k.size_params[size_t(d) + 1])];
    if (outer * inner > std::numeric_limits<int>::max() || !contiguous(st, all_nodes(k), d, d + 1, inner)) continue;
    k.size_params[size_t(d)] = new_param(st, outer * inner);
    k.size_params.erase(k.size_params.begin() + d + 1);
    for (Node& n : k.nodes) {
      if (reads_memory(n)) {
        n.strides[size_t(d)] = n.strides[size_t(d) + 1];
        n.strides.erase(n.strides.begin() + d + 1);
      }
      if (n.kind == NodeKind::Reduce) --n.var;  // every reduction variable is past the output's
    }
    --k.rank;
    --k.num_vars;
    return true;
  }
  return false;
}

// A reduction whose operand is a reduction of the same kind, used only by
// it, over memory contiguous across both variables: the inner one takes
// the outer's place with both extents, the outer variable goes unused.
bool merge_nested_reductions(Step& st) {
  Kernel& k = st.kernel;
  std::vector<int> uses(k.nodes.size());
  for (const Node& n : k.nodes)
    for (int o : n.operands) ++uses[size_t(o)];
  ++uses[size_t(k.root)];
  for (size_t a = 0; a < k.nodes.size(); ++a) {
    const Node& outer = k.nodes[a];
    if (outer.kind != NodeKind::Reduce) continue;
    int b = outer.operands[0];
    const Node& inner = k.nodes[size_t(b)];
    if (inner.kind != NodeKind::Reduce || inner.op != outer.op || uses[size_t(b)] != 1) continue;
    int64_t outer_extent = st.params[size_t(outer.extent_param)];
    int64_t inner_extent = st.params[size_t(inner.extent_param)];
    std::vector<int> body = subtree(k, inner.operands[0]);
    if (outer_extent * inner_extent > std::numeric_limits<int>::max() ||
        !contiguous(st, body, outer.var, inner.var, inner_extent))
      continue;
    for (int i : body)
      if (reads_memory(k.nodes[size_t(i)])) k.nodes[size_t(i)].strides[size_t(outer.var)] = Stride{};
    Node merged = inner;
    merged.dtype = outer.dtype;  // (16-bit floats: the inner partial sums were float32)
    merged.extent_param = new_param(st, outer_extent * inner_extent);
    k.nodes[a] = std::move(merged);  // in the outer's place: its users keep their operand
    k.drop_unreachable();
    return true;
  }
  return false;
}

}  // namespace

void collapse_loops(Plan& plan) {
  for (Step& st : plan.steps) {
    Kernel& k = st.kernel;
    if (st.kind != Step::Kernel || !k.extra_outputs.empty()) continue;
    bool rebinds = false;
    for (const Node& n : k.nodes) rebinds |= n.kind == NodeKind::Reduce && n.var < k.rank;
    if (rebinds) continue;
    while (collapse_output_dimensions(st)) {
    }
    while (merge_nested_reductions(st)) {
    }
  }
}

}  // namespace kiln::passes
