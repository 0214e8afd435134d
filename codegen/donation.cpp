#include "codegen/donation.h"

#include <algorithm>

#include "ir/tensor.h"

namespace kiln::codegen {

namespace {

using kernel::NodeKind;
using kernel::StrideKind;

// Whether every load of input `arg` reads the element the kernel writes:
// offset 0 and, along each output dimension, the output's own row-major
// stride (any stride along a dimension of size 1, where the index is 0).
bool reads_at_output_index(const passes::Step& st, const ir::Shape& out, int arg) {
  const kernel::Kernel& k = st.kernel;
  auto rs = ir::row_major_strides(out);
  for (const auto& n : k.nodes) {
    if (n.arg != arg) continue;
    // A gather reads anywhere in its buffer, which the output overwrites.
    if (n.kind == NodeKind::Gather) return false;
    if (n.kind != NodeKind::Load) continue;
    if (st.params[n.offset_param] != 0) return false;
    for (size_t v = 0; v < n.strides.size(); ++v) {
      const auto& s = n.strides[v];
      int64_t c = s.kind == StrideKind::Zero ? 0 : s.kind == StrideKind::One ? 1 : st.params[s.param];
      if (int(v) >= k.rank) {
        if (c != 0) return false;
      } else if (c != rs[v] && out[v] != 1) {
        return false;
      }
    }
  }
  return true;
}

}  // namespace

bool runs_on_blas(const ir::Op& op) {
  return op.kind == ir::OpKind::Matmul && (op.type.dtype == float32 || op.type.dtype == float64);
}

std::vector<int> plan_donations(const ir::Function& f, const passes::Plan& plan, const std::vector<int>& last_use) {
  // The values whose buffers this executable allocates fresh on every run.
  std::vector<bool> owned(f.num_values());
  for (const auto& st : plan.steps)
    owned[st.value] = st.kind == passes::Step::Kernel || runs_on_blas(f.def(st.value));

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
      if (reads_at_output_index(st, out.shape, int(a))) donor[s] = int(a);
    }
  }
  return donor;
}

}  // namespace kiln::codegen
