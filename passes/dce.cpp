// Dead code elimination: drops every op whose value does not reach an
// output. Inputs are kept even when unused, so the signature never changes.
#include <vector>

#include "passes/pass_manager.h"

namespace kiln::passes {

ir::Function dce(const ir::Function& f) {
  const int n_in = int(f.inputs.size());
  const int n = f.num_values();
  std::vector<char> live(size_t(n), 0);
  for (int v : f.outputs) live[size_t(v)] = 1;
  // Ops use only earlier values, so one backward sweep finds every live op.
  for (int v = n - 1; v >= n_in; --v) {
    if (!live[size_t(v)]) continue;
    for (int o : f.def(v).operands) live[size_t(o)] = 1;
  }

  ir::Function out;
  out.name = f.name;
  out.inputs = f.inputs;
  std::vector<int> remap(size_t(n), -1);
  for (int v = 0; v < n_in; ++v) remap[size_t(v)] = v;
  for (int v = n_in; v < n; ++v) {
    if (!live[size_t(v)]) continue;
    ir::Op op = f.def(v);
    for (int& o : op.operands) o = remap[size_t(o)];
    remap[size_t(v)] = out.add_op(std::move(op));
  }
  for (int v : f.outputs) out.outputs.push_back(remap[size_t(v)]);
  return out;
}

}  // namespace kiln::passes
