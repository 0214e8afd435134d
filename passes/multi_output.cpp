#include "passes/multi_output.h"

#include <algorithm>

#include "ir/tensor.h"

namespace kiln::passes {

namespace {

using kernel::Kernel;
using kernel::Node;
using kernel::NodeKind;

bool mergeable(const Step& s) { return s.kind == Step::Kernel && !s.on_host && !s.kernel.has_reduction(); }

// Moves the kernel of step `x` into the kernel of step `g`, which reads
// x's value as its argument `jx`: x's nodes come first (their arguments
// and parameters renumbered into g's), g's loads of that argument become
// x's root, and the argument becomes an extra output that stores it.
void merge_into(Step& g, const Step& x, int jx) {
  Kernel& kg = g.kernel;
  const Kernel& kx = x.kernel;
  std::vector<int> arg_of(kx.inputs.size());
  for (size_t i = 0; i < kx.inputs.size(); ++i) {
    auto it = std::find(g.args.begin(), g.args.end(), x.args[i]);
    arg_of[i] = int(it - g.args.begin());
    if (it == g.args.end()) {
      g.args.push_back(x.args[i]);
      kg.inputs.push_back(kx.inputs[i]);
    }
  }
  const int param0 = kg.num_params;
  g.params.insert(g.params.end(), x.params.begin(), x.params.end());
  kg.num_params += kx.num_params;
  auto moved_param = [&](int& p) {
    if (p >= 0) p += param0;
  };

  std::vector<Node> nodes;
  for (Node n : kx.nodes) {
    if (n.arg >= 0) n.arg = arg_of[size_t(n.arg)];
    moved_param(n.offset_param);
    moved_param(n.gather_stride_param);
    moved_param(n.value_param);
    moved_param(n.extent_param);
    for (auto& s : n.strides) moved_param(s.param);
    nodes.push_back(std::move(n));
  }
  const int shift = int(kx.nodes.size()), x_root = kx.root;
  auto moved_node = [&](int i) {
    const Node& n = kg.nodes[size_t(i)];
    return n.kind == NodeKind::Load && n.arg == jx ? x_root : i + shift;
  };
  for (Node n : kg.nodes) {
    for (int& o : n.operands) o = moved_node(o);
    nodes.push_back(std::move(n));
  }
  std::vector<kernel::ExtraOutput> extras;
  for (auto e : kx.extra_outputs) extras.push_back({e.node, arg_of[size_t(e.arg)]});
  for (auto e : kg.extra_outputs) extras.push_back({moved_node(e.node), e.arg});
  extras.push_back({x_root, jx});
  kg.root = moved_node(kg.root);
  kg.nodes = std::move(nodes);
  kg.extra_outputs = std::move(extras);
  kg.drop_unreachable();
}

}  // namespace

bool reads_at_output_index(const Step& st, int arg) {
  const Kernel& k = st.kernel;
  ir::Shape out = kernel_shape(st);
  auto rs = ir::row_major_strides(out);
  for (const auto& n : k.nodes) {
    if (n.arg != arg) continue;
    if (n.kind == NodeKind::Gather) return false;
    if (n.kind != NodeKind::Load) continue;
    if (st.params[size_t(n.offset_param)] != 0) return false;
    for (size_t v = 0; v < n.strides.size(); ++v) {
      int64_t c = stride_value(st, n.strides[v]);
      if (int(v) >= k.rank) {
        if (c != 0) return false;
      } else if (c != rs[v] && out[v] != 1) {
        return false;
      }
    }
  }
  return true;
}

void merge_output_kernels(const ir::Function& f, Plan& plan, const runtime::Capabilities& caps) {
  if (!caps.fuse) return;
  std::vector<char> is_output(size_t(f.num_values()));
  for (int v : f.outputs) is_output[size_t(v)] = 1;
  // The steps that read each value (kept current as steps merge).
  std::vector<std::vector<int>> readers(size_t(f.num_values()));
  for (size_t s = 0; s < plan.steps.size(); ++s)
    for (int v : plan.steps[s].args)
      if (readers[size_t(v)].empty() || readers[size_t(v)].back() != int(s)) readers[size_t(v)].push_back(int(s));
  // Last to first: a value's readers come after it, so by the time a step
  // is looked at, its readers have taken in the outputs they read (a chain
  // u -> w -> y of outputs folds into y's kernel).
  std::vector<char> merged(plan.steps.size());
  for (size_t s = plan.steps.size(); s-- > 0;) {
    const Step& x = plan.steps[s];
    const std::vector<int>& r = readers[size_t(x.value)];
    if (!is_output[size_t(x.value)] || !mergeable(x) || r.size() != 1) continue;
    Step& g = plan.steps[size_t(r[0])];
    const ir::Shape& shape = f.value_type(g.value).shape;
    if (!mergeable(g) || f.value_type(x.value).shape != shape) continue;
    int jx = int(std::find(g.args.begin(), g.args.end(), x.value) - g.args.begin());
    if (g.kernel.writes_arg(jx) || !reads_at_output_index(g, jx)) continue;
    size_t inputs = g.args.size();
    for (int v : x.args) inputs += std::find(g.args.begin(), g.args.end(), v) == g.args.end();
    if (int(inputs) > caps.max_kernel_inputs) continue;
    merge_into(g, x, jx);
    merged[s] = 1;
    for (int v : x.args) {
      auto& rv = readers[size_t(v)];
      rv.erase(std::remove(rv.begin(), rv.end(), int(s)), rv.end());
      if (std::find(rv.begin(), rv.end(), r[0]) == rv.end()) rv.push_back(r[0]);
    }
  }
  std::vector<Step> kept;
  for (size_t s = 0; s < plan.steps.size(); ++s)
    if (!merged[s]) kept.push_back(std::move(plan.steps[s]));
  plan.steps = std::move(kept);
}

}  // namespace kiln::passes
