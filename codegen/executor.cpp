#include "codegen/executor.h"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <stdexcept>

#include "codegen/donation.h"
#include "ir/interpreter.h"
#include "codegen/llvm/cpu_backend.h"
#include "passes/custom.h"
#include "passes/fusion.h"
#include "passes/pass_manager.h"
#include "runtime/blas.h"
#include "runtime/dump.h"

namespace kiln::codegen {

namespace {

std::atomic<uint64_t> g_buffers_donated{0};

// Matmul of float32/float64 through BLAS, reading operands transposed in
// place where the plan says so.
void run_blas(runtime::Backend& backend, const ir::Op& op, const passes::Step& st, const std::vector<ir::Tensor>& in,
              ir::Tensor* out) {
  Dtype t = op.type.dtype;
  const ir::Shape& s = op.type.shape;
  const ir::Shape& as = in[0].type.shape;
  int64_t m = s[s.size() - 2], n = s.back(), k = st.transposed[0] ? as[as.size() - 2] : as.back();
  int64_t batch = op.type.size() / std::max<int64_t>(1, m * n);
  if (m * n == 0) batch = 0;
  *out = {op.type, backend.allocate(size_t(op.type.nbytes()))};
  if (backend.matmul(t == float64, batch, m, n, k, *in[0].buffer, st.transposed[0], *in[1].buffer, st.transposed[1],
                     *out->buffer))
    return;
  if (t == float32)
    runtime::matmul_f32(batch, m, n, k, static_cast<const float*>(in[0].buffer->data()), st.transposed[0],
                        static_cast<const float*>(in[1].buffer->data()), st.transposed[1],
                        static_cast<float*>(out->buffer->data()));
  else
    runtime::matmul_f64(batch, m, n, k, static_cast<const double*>(in[0].buffer->data()), st.transposed[0],
                        static_cast<const double*>(in[1].buffer->data()), st.transposed[1],
                        static_cast<double*>(out->buffer->data()));
}

}  // namespace

namespace {
// Custom ops (calls of functions with custom rules) run as their forward
// functions' ops, inlined here so fusion and the kernel emitter never see
// one. No CSE runs afterwards: a checkpoint's recomputation stays separate
// from the forward pass (passes/custom.h).
ir::Function without_calls(ir::Function f) {
  return passes::has_custom_ops(f) ? passes::inline_custom(f) : std::move(f);
}
}  // namespace

namespace {
// What the backend's kernels can do that their schedules depend on.
kernel::ScheduleOptions schedule_options(const runtime::Backend& backend) {
  kernel::ScheduleOptions o;
  o.prefetch = backend.capabilities().prefetch;
  o.streaming_stores = backend.capabilities().streaming_stores;
  return o;
}
}  // namespace

Executable::Executable(ir::Function f, runtime::Backend& backend)
    : f_(without_calls(std::move(f))), plan_(passes::plan_fusion(f_, schedule_options(backend))), backend_(&backend) {
  // Free intermediates after their last reader.
  last_use_.assign(f_.num_values(), -1);
  for (size_t s = 0; s < plan_.steps.size(); ++s) {
    const auto& st = plan_.steps[s];
    for (int v : st.args) last_use_[v] = int(s);
  }
  for (int v : f_.outputs) last_use_[v] = int(plan_.steps.size());
  // Outputs that reuse the buffer of an input dying in the same step.
  // Those kernels are scheduled again, to read that input through the
  // output pointer.
  donor_ = plan_donations(f_, plan_, last_use_);
  for (size_t s = 0; s < plan_.steps.size(); ++s) {
    passes::Step& st = plan_.steps[s];
    if (donor_[s] >= 0)
      st.kernel.schedule = kernel::schedule_kernel(st.kernel, schedule_options(backend),
                                                   {donor_[s], f_.value_type(st.value).nbytes()});
  }
  if (runtime::dump_enabled("fusion")) runtime::dump("fusion", "", passes::plan_to_string(f_, plan_));
  for (const auto& st : plan_.steps)
    kernels_.push_back(st.kind == passes::Step::Kernel ? backend_->compile(st.kernel) : nullptr);
}

std::vector<ir::Tensor> Executable::run(const std::vector<ir::Tensor>& inputs) const {
  const ir::Function& f = f_;
  if (inputs.size() != f.inputs.size())
    throw std::invalid_argument("[execute] expected " + std::to_string(f.inputs.size()) + " inputs, got " +
                                std::to_string(inputs.size()));
  int n_in = int(f.inputs.size());
  std::vector<ir::Tensor> values(f.num_values());
  for (int i = 0; i < n_in; ++i) {
    if (inputs[i].type != f.inputs[i])
      throw std::invalid_argument("[execute] input " + std::to_string(i) + " has type " +
                                  ir::type_to_string(inputs[i].type) + ", expected " +
                                  ir::type_to_string(f.inputs[i]));
    values[i] = inputs[i];
  }
  for (size_t i = 0; i < f.ops.size(); ++i)
    if (f.ops[i].kind == ir::OpKind::Constant) values[n_in + i] = {f.ops[i].type, f.ops[i].data};

  for (size_t s = 0; s < plan_.steps.size(); ++s) {
    const auto& st = plan_.steps[s];
    const ir::Op& op = f.def(st.value);
    if (st.kind == passes::Step::HostOp) {
      std::vector<ir::Tensor> operands;
      for (int o : st.args) operands.push_back(values[o]);
      if (runs_on_blas(op)) run_blas(*backend_, op, st, operands, &values[st.value]);
      else values[st.value] = ir::interpret_op(op, operands);
    } else {
      ir::Tensor out{op.type, nullptr};
      if (donor_[s] >= 0) {
        // The kernel reads that input through the output pointer: hand it
        // the buffer, or (should anything else still hold the buffer) a copy.
        runtime::BufferPtr& src = values[st.args[donor_[s]]].buffer;
        if (src.use_count() == 1) {
          out.buffer = src;
          g_buffers_donated.fetch_add(1, std::memory_order_relaxed);
        } else {
          out.buffer = backend_->allocate(size_t(op.type.nbytes()));
          std::memcpy(out.buffer->data(), src->data(), size_t(op.type.nbytes()));
        }
      } else {
        out.buffer = backend_->allocate(size_t(op.type.nbytes()));
      }
      runtime::Launch l;
      l.kernel = &st.kernel;
      l.compiled = kernels_[s].get();
      l.work = op.type.size();
      for (int v : st.args) {
        l.inputs.push_back(values[v].buffer.get());
        l.work = std::max(l.work, values[v].type.size());
      }
      l.output = out.buffer.get();
      l.params = st.params.data();
      l.outer = st.kernel.outer_extent(op.type.shape);
      backend_->launch(l);
      values[st.value] = std::move(out);
    }
    for (int v : st.args)
      if (last_use_[v] == int(s) && v >= n_in) values[v].buffer.reset();
  }
  std::vector<ir::Tensor> outputs;
  for (int v : f.outputs) outputs.push_back(values[v]);
  return outputs;
}

uint64_t buffers_donated() { return g_buffers_donated.load(std::memory_order_relaxed); }
void reset_buffers_donated() { g_buffers_donated.store(0, std::memory_order_relaxed); }

std::vector<ir::Tensor> execute(const ir::Function& f, const std::vector<ir::Tensor>& inputs,
                                runtime::Backend& backend) {
  return Executable(f, backend).run(inputs);
}

}  // namespace kiln::codegen
