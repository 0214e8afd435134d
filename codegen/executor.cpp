#include "codegen/executor.h"

#include <cstdlib>
#include <iostream>
#include <stdexcept>

#include "codegen/llvm/jit.h"
#include "passes/fusion.h"
#include "runtime/thread_pool.h"

namespace kiln::codegen {

namespace {

bool dump_enabled(const std::string& stage) {
  const char* env = std::getenv("KILN_DUMP");
  if (!env) return false;
  std::string list = std::string(",") + env + ",";
  return list.find("," + stage + ",") != std::string::npos || list.find(",all,") != std::string::npos;
}

// Work per chunk: enough elements that a thread's share outweighs waking it.
constexpr int64_t kGrainElements = 1 << 15;

void launch(KernelFn fn, const kernel::Kernel& k, const ir::Type& out, void** args) {
  if (k.rank == 0 || out.size() == 0) {
    if (out.size()) fn(args, 0, 1);
    return;
  }
  int64_t inner = k.rank == 1 ? 1 : out.shape.back();
  int64_t outer = k.rank == 1 ? out.size() : out.size() / inner;
  int64_t grain = std::max<int64_t>(1, kGrainElements / std::max<int64_t>(1, inner));
  runtime::ThreadPool::global().parallel_for(outer, grain, [&](int64_t b, int64_t e) { fn(args, b, e); });
}

}  // namespace

std::vector<ir::Tensor> execute(const ir::Function& f, const std::vector<ir::Tensor>& inputs) {
  if (inputs.size() != f.inputs.size())
    throw std::invalid_argument("[execute] expected " + std::to_string(f.inputs.size()) + " inputs, got " +
                                std::to_string(inputs.size()));
  passes::Plan plan = passes::plan_fusion(f);
  if (dump_enabled("fusion")) std::cerr << passes::plan_to_string(f, plan);

  int n_in = int(f.inputs.size());
  std::vector<ir::Tensor> values(f.num_values());
  for (int i = 0; i < n_in; ++i) {
    if (inputs[i].type != f.inputs[i])
      throw std::invalid_argument("[execute] input " + std::to_string(i) + " has the wrong type");
    values[i] = inputs[i];
  }
  for (size_t i = 0; i < f.ops.size(); ++i)
    if (f.ops[i].kind == ir::OpKind::Constant) values[n_in + i] = {f.ops[i].type, f.ops[i].data};

  // Free intermediates after their last reader.
  std::vector<int> last_use(f.num_values(), -1);
  for (size_t s = 0; s < plan.steps.size(); ++s) {
    const auto& st = plan.steps[s];
    const auto& reads = st.kind == passes::Step::Kernel ? st.args : f.def(st.value).operands;
    for (int v : reads) last_use[v] = int(s);
  }
  for (int v : f.outputs) last_use[v] = int(plan.steps.size());

  for (size_t s = 0; s < plan.steps.size(); ++s) {
    const auto& st = plan.steps[s];
    const ir::Op& op = f.def(st.value);
    if (st.kind == passes::Step::HostOp) {
      std::vector<ir::Tensor> operands;
      for (int o : op.operands) operands.push_back(values[o]);
      values[st.value] = ir::interpret_op(op, operands);
    } else {
      KernelFn fn = get_kernel(st.kernel);
      ir::Tensor out{op.type, runtime::allocate(size_t(op.type.nbytes()))};
      std::vector<void*> args;
      for (int v : st.args) args.push_back(const_cast<void*>(values[v].buffer->data()));
      args.push_back(out.buffer->data());
      args.push_back(const_cast<int64_t*>(st.params.data()));
      launch(fn, st.kernel, op.type, args.data());
      values[st.value] = std::move(out);
    }
    const auto& reads = st.kind == passes::Step::Kernel ? st.args : op.operands;
    for (int v : reads)
      if (last_use[v] == int(s) && v >= n_in) values[v].buffer.reset();
  }
  std::vector<ir::Tensor> outputs;
  for (int v : f.outputs) outputs.push_back(values[v]);
  return outputs;
}

}  // namespace kiln::codegen
