#include "codegen/donation.h"

#include <algorithm>

#include "ir/tensor.h"
#include "passes/multi_output.h"

namespace kiln::codegen {

bool runs_on_blas(const ir::Op& op) {
  return op.kind == ir::OpKind::Matmul && (op.type.dtype == float32 || op.type.dtype == float64);
}

std::vector<int> plan_donations(const ir::Function& f, const passes::Plan& plan, const std::vector<int>& last_use) {
  // The values whose buffers this executable's kernels write fresh on
  // every run.
  std::vector<bool> owned(f.num_values());
  for (const auto& st : plan.steps) owned[st.value] = st.kind == passes::Step::Kernel;

  std::vector<int> donor(plan.steps.size(), -1);
  for (size_t s = 0; s < plan.steps.size(); ++s) {
    const auto& st = plan.steps[s];
    if (st.kind != passes::Step::Kernel) continue;
    const auto& k = st.kernel;
    const ir::Type& out = f.value_type(st.value);
    if (k.has_reduction() || out.size() == 0) continue;
    for (size_t a = 0; a < st.args.size() && donor[s] < 0; ++a) {
      int v = st.args[a];
      const ir::Type& in = f.value_type(v);
      if (!owned[v] || last_use[v] != int(s) || in.size() != out.size() || in.dtype.size() != out.dtype.size())
        continue;
      if (passes::reads_at_output_index(st, int(a))) donor[s] = int(a);
    }
  }
  return donor;
}

}  // namespace kiln::codegen
