#include "codegen/executor.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <tuple>

#include "codegen/donation.h"
#include "codegen/host_kernels.h"
#include "codegen/llvm/cpu_backend.h"
#include "ir/printer.h"
#include "passes/custom.h"
#include "passes/fusion.h"
#include "passes/pass_manager.h"
#include "runtime/blas.h"
#include "runtime/dump.h"
#include "runtime/narrow_gemm.h"
#include "runtime/profile.h"

namespace kiln::codegen {

namespace {

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

// The linalg host steps that take outputs of one factorization of one
// value (siblings: svd's U, S and Vt; qr's Q and R; ...) share one LAPACK
// run (ir/linalg.h): the first of them to run computes every output and
// leaves them here for the others. Runs are told apart by the operand's
// buffer, which stays alive and unchanged until the last sibling has read
// it (it is an argument of that step), so concurrent runs of one
// executable never mix; a run that finds no outputs computes its own.
struct LinalgSiblings {
  int members = 0;  // the steps of the group
  struct Run {
    runtime::BufferPtr operand;  // keeps the key's buffer from being reused
    std::vector<ir::Tensor> outputs;
    int taken = 0;
  };
  std::mutex mu;
  std::map<const runtime::Buffer*, Run> runs;

  runtime::BufferPtr output(const ir::Op& op, const ir::Tensor& a) {
    const size_t index = size_t(op.int_attr("output"));
    {
      std::lock_guard<std::mutex> lock(mu);
      auto it = runs.find(a.buffer.get());
      if (it != runs.end()) {
        runtime::BufferPtr out = it->second.outputs[index].buffer;
        if (++it->second.taken == members) runs.erase(it);
        return out;
      }
    }
    std::vector<ir::Tensor> all = run_linalg_outputs(op, a);
    std::lock_guard<std::mutex> lock(mu);
    runs[a.buffer.get()] = Run{a.buffer, all, 1};
    return all[index].buffer;
  }
};

// Custom ops (calls of functions with custom rules) run as their forward
// functions' ops, inlined here so fusion and the kernel emitter never see
// one. Canonicalization runs again, since the inlined ops meet their
// callers' (a pooling gradient's merging reshape, the ReLU gradient reading
// it); CSE does not: a checkpoint's recomputation stays separate from the
// forward pass (passes/custom.h).
ir::Function without_calls(ir::Function f) {
  return passes::has_custom_ops(f) ? passes::canonicalize(passes::inline_custom(f)) : std::move(f);
}
}  // namespace


namespace {

// A float32 product that runtime/narrow_gemm.h runs (a narrow C: a
// convolution's patch matrix times its weight) and whose A is a kernel's
// value takes that kernel inside: each thread has the kernel compute a
// block of A's rows, then multiplies it while it is in its cache
// (narrow_gemm_f32_produced). Where nothing else reads A (an input
// gradient's patches: 29 MB for the Fashion-MNIST CNN), the block goes to
// a buffer of the thread's and A never reaches memory; where later steps
// read it too (the forward patches, which the weight's gradient reads),
// A keeps its buffer, written block by block inside the product. Per step:
// the kernel step whose value the product computes so, or -1. The
// kernel's own step then does not run (its output's buffer is only
// allocated, when kept), nor do the reshapes between that only rename
// A's buffer, unless A is kept. CPU backend only.
struct BlockedOperand {
  int kernel_step = -1;
  bool keep = false;          // A has other readers, after the product
  std::vector<int> taken_in;  // the steps that do not run on their own
  int64_t m = 0, n = 0, k = 0;
  int64_t unit = 1;  // A's elements per unit of the kernel's range
};

std::vector<BlockedOperand> blocked_operands(const ir::Function& f, const passes::Plan& plan,
                                              const runtime::Backend& backend) {
  std::vector<BlockedOperand> fed(plan.steps.size());
  if (&backend != &cpu_backend()) return fed;
  // Per value: its step, and the steps that read it (an output is read
  // after the last step).
  std::vector<int> step_of(f.num_values(), -1);
  std::vector<std::vector<int>> readers(f.num_values());
  for (size_t s = 0; s < plan.steps.size(); ++s) {
    step_of[plan.steps[s].value] = int(s);
    for (int v : plan.steps[s].args) readers[v].push_back(int(s));
  }
  for (int v : f.outputs) readers[v].push_back(int(plan.steps.size()));
  for (size_t s = 0; s < plan.steps.size(); ++s) {
    const passes::Step& st = plan.steps[s];
    const ir::Op& op = f.def(st.value);
    if (st.kind != passes::Step::HostOp || !runs_on_blas(op) || op.type.dtype != float32 ||
        op.type.shape.size() != 2 || st.transposed[0] || st.args[0] == st.args[1])
      continue;
    const ir::Shape& as = f.value_type(st.args[0]).shape;
    int64_t m = op.type.shape[0], n = op.type.shape[1], k = as.back();
    if (n == 0 || !runtime::narrow_gemm_applies(m, n, k, false)) continue;
    // Back through the renaming reshapes to the kernel. A value read by
    // another step must be read only after this one (it is written here).
    int v = st.args[0];
    bool keep = false, read_before = false;
    std::vector<int> chain;
    auto other_readers = [&](int x, int own_reader) {
      for (int t : readers[x])
        if (t != own_reader) {
          keep = true;
          read_before = read_before || t <= int(s);
        }
    };
    other_readers(v, int(s));
    while (step_of[v] >= 0 && plan.steps[size_t(step_of[v])].kind == passes::Step::HostOp &&
           f.def(v).kind == ir::OpKind::Reshape) {
      chain.push_back(step_of[v]);
      int from = plan.steps[size_t(step_of[v])].args[0];
      other_readers(from, step_of[v]);
      v = from;
    }
    if (step_of[v] < 0 || read_before) continue;
    const passes::Step& producer = plan.steps[size_t(step_of[v])];
    if (producer.kind != passes::Step::Kernel || !producer.kernel.extra_outputs.empty()) continue;
    int64_t outer = producer.kernel.outer_extent(passes::kernel_shape(producer));
    int64_t size = f.value_type(v).size();
    if (outer <= 0 || size % outer != 0 || k % (size / outer) != 0) continue;
    std::vector<int> taken_in{step_of[v]};
    if (!keep) taken_in.insert(taken_in.end(), chain.begin(), chain.end());
    fed[s] = {step_of[v], keep, std::move(taken_in), m, n, k, size / outer};
  }
  return fed;
}

// The host call of such a product: the kernel's inputs, then A's buffer
// when kept, then B.
std::function<runtime::BufferPtr(const std::vector<runtime::BufferPtr>&)> blocked_product(
    const BlockedOperand& fed, runtime::KernelHandle kernel, std::vector<int64_t> params, bool trans_b) {
  return [fed, kernel, params, trans_b](const std::vector<runtime::BufferPtr>& args) {
    size_t n_in = args.size() - (fed.keep ? 2 : 1);
    std::vector<const void*> inputs;
    for (size_t i = 0; i < n_in; ++i) inputs.push_back(args[i]->data());
    float* kept = fed.keep ? static_cast<float*>(args[n_in]->data()) : nullptr;
    runtime::count_operand_computed_in_blocks();
    runtime::BufferPtr out = cpu_backend().allocate(size_t(fed.m * fed.n) * sizeof(float));
    const int64_t k = fed.k, unit = fed.unit;
    runtime::narrow_gemm_f32_produced(
        fed.m, fed.n, k,
        [&](int64_t r0, int64_t r1, float* scratch) -> const float* {
          // The kernel writes A's elements [r0 k, r1 k) at their own
          // indices from `base`: into A's buffer, or into `scratch`.
          float* rows = kept ? kept + r0 * k : scratch;
          void* base = reinterpret_cast<void*>(reinterpret_cast<uintptr_t>(rows) - uintptr_t(r0 * k) * sizeof(float));
          run_on_this_thread(*kernel, inputs, base, params.data(), r0 * k / unit, r1 * k / unit);
          return rows;
        },
        static_cast<const float*>(args.back()->data()), trans_b, static_cast<float*>(out->data()));
    return out;
  };
}

}  // namespace

namespace {
runtime::Capabilities fusing(runtime::Capabilities caps, bool fuse) {
  caps.fuse = fuse;
  return caps;
}
}  // namespace

Executable::Executable(ir::Function f, runtime::Backend& backend) : Executable(std::move(f), backend, true) {}

Executable::Executable(ir::Function f, runtime::Backend& backend, bool fuse)
    : f_(without_calls(std::move(f))), plan_(passes::plan_fusion(f_, fusing(backend.capabilities(), fuse))) {
  auto backend_of = [&](const passes::Step& st) -> runtime::Backend& { return st.on_host ? cpu_backend() : backend; };
  const ir::Function& fn = f_;
  int n_in = int(fn.inputs.size());
  // Products that compute their A inside (blocked_operands); the steps
  // they take in do not run on their own (a kept A's kernel only
  // allocates its buffer).
  std::vector<BlockedOperand> fed = blocked_operands(fn, plan_, backend);
  std::vector<char> taken_in(plan_.steps.size(), 0);
  for (const BlockedOperand& b : fed)
    for (int t : b.taken_in) taken_in[size_t(t)] = 1;
  // Free intermediates after their last reader.
  std::vector<int> last_use(fn.num_values(), -1);
  for (size_t s = 0; s < plan_.steps.size(); ++s) {
    if (taken_in[s]) continue;
    for (int v : plan_.steps[s].args) last_use[v] = int(s);
    if (fed[s].kernel_step >= 0)
      for (int v : plan_.steps[size_t(fed[s].kernel_step)].args) last_use[v] = int(s);
  }
  for (int v : fn.outputs) last_use[v] = int(plan_.steps.size());
  // Outputs that reuse the buffer of an input dying in the same step.
  std::vector<int> donor = plan_donations(fn, plan_, last_use);
  // Those kernels are scheduled again, to read that input through the
  // output pointer.
  for (size_t s = 0; s < plan_.steps.size(); ++s) {
    passes::Step& st = plan_.steps[s];
    if (donor[s] >= 0)
      st.kernel.schedule = kernel::schedule_kernel(st.kernel, passes::schedule_options(backend_of(st).capabilities()),
                                                   {donor[s], fn.value_type(st.value).nbytes()});
  }
  // A kernel that runs inside a product writes only blocks of its output,
  // into the cache: scheduled for no particular output size (no streaming
  // stores).
  for (const BlockedOperand& b : fed)
    if (b.kernel_step >= 0) {
      passes::Step& st = plan_.steps[size_t(b.kernel_step)];
      st.kernel.schedule = kernel::schedule_kernel(st.kernel, passes::schedule_options(backend.capabilities()));
    }
  if (runtime::dump_enabled("fusion")) {
    std::string text = passes::plan_to_string(fn, plan_);
    for (size_t s = 0; s < plan_.steps.size(); ++s)
      if (fed[s].kernel_step >= 0)
        text += "// %" + std::to_string(plan_.steps[s].value) + " computes %" +
                std::to_string(plan_.steps[size_t(fed[s].kernel_step)].value) + " inside, in blocks of rows\n";
    runtime::dump("fusion", "", text);
  }

  // The executable's slots are the function's values.
  exe_.backend = &backend;
  exe_.num_slots = fn.num_values();
  for (int i = 0; i < n_in; ++i) exe_.input_slots.push_back(i);
  for (size_t i = 0; i < fn.ops.size(); ++i)
    if (fn.ops[i].kind == ir::OpKind::Constant) exe_.constants.emplace_back(n_in + int(i), fn.ops[i].data);
  exe_.output_slots = fn.outputs;
  // Sibling linalg steps: the same operand, kind and triangle.
  std::map<std::tuple<int, int64_t, int64_t>, std::shared_ptr<LinalgSiblings>> siblings;
  auto linalg_key = [&](const passes::Step& st) {
    const ir::Op& op = fn.def(st.value);
    return std::make_tuple(st.args[0], op.int_attr("kind"), op.int_attr("upper"));
  };
  auto is_linalg_step = [&](const passes::Step& st) {
    return st.kind == passes::Step::HostOp && fn.def(st.value).kind == ir::OpKind::Linalg;
  };
  for (const passes::Step& st : plan_.steps)
    if (is_linalg_step(st)) {
      auto& g = siblings[linalg_key(st)];
      if (!g) g = std::make_shared<LinalgSiblings>();
      ++g->members;
    }
  // Profile labels name the function by a hash of its text, so that the
  // steps of eager evaluations of one graph (a new executable each time)
  // add up under one label.
  std::string profile_id;
  if (runtime::profiling()) {
    char id[16];
    std::snprintf(id, sizeof id, "f%04zx", std::hash<std::string>{}(ir::print(fn)) & 0xffff);
    profile_id = id;
  }
  std::vector<char> kept(plan_.steps.size(), 0);
  for (const BlockedOperand& b : fed)
    if (b.keep) kept[size_t(b.kernel_step)] = 1;
  for (size_t s = 0; s < plan_.steps.size(); ++s) {
    if (kept[s]) {
      // The buffer of a kept A, which its product writes.
      runtime::ExecStep e;
      e.out = plan_.steps[s].value;
      e.out_bytes = size_t(fn.value_type(e.out).nbytes());
      if (!profile_id.empty())
        e.label = profile_id + " %" + std::to_string(e.out) + " " + ir::type_to_string(fn.value_type(e.out)) +
                  " buffer [computed inside a product]";
      e.host = [bytes = e.out_bytes](const std::vector<runtime::BufferPtr>&) { return cpu_backend().allocate(bytes); };
      exe_.steps.push_back(std::move(e));
      continue;
    }
    if (taken_in[s]) continue;
    const passes::Step& st = plan_.steps[s];
    const ir::Op& op = fn.def(st.value);
    runtime::ExecStep e;
    const passes::Step* inside = fed[s].kernel_step >= 0 ? &plan_.steps[size_t(fed[s].kernel_step)] : nullptr;
    if (!profile_id.empty())
      e.label = profile_id + " %" + std::to_string(st.value) + " " + ir::type_to_string(op.type) + " " +
                (st.kind == passes::Step::Kernel ? "kernel " : "host ") + ir::op_name(op.kind) + " [" + st.reason +
                (inside ? ", computing %" + std::to_string(inside->value) + " inside" : "") + "]";
    e.args = st.args;
    e.out = st.value;
    e.out_bytes = size_t(op.type.nbytes());
    if (inside) {
      e.args = inside->args;
      if (fed[s].keep) e.args.push_back(st.args[0]);
      e.args.push_back(st.args[1]);
      e.host = blocked_product(fed[s], cpu_backend().compile(inside->kernel), inside->params, st.transposed[1]);
    } else if (st.kind == passes::Step::Kernel) {
      e.backend = &backend_of(st);
      e.kernel = e.backend->compile(st.kernel);
      e.kernel_desc = &st.kernel;
      e.params = st.params;
      e.outer = st.kernel.outer_extent(passes::kernel_shape(st));
      e.work = op.type.size();
      for (int v : st.args) e.work = std::max(e.work, fn.value_type(v).size());
      e.donor = donor[s];
      for (const auto& extra : st.kernel.extra_outputs)
        e.extra_outputs.emplace_back(extra.arg, size_t(fn.value_type(st.args[size_t(extra.arg)]).nbytes()));
    } else if (is_linalg_step(st) && siblings.at(linalg_key(st))->members > 1) {
      std::shared_ptr<LinalgSiblings> group = siblings.at(linalg_key(st));
      ir::Type type = fn.value_type(st.args[0]);
      e.host = [&op, group, type](const std::vector<runtime::BufferPtr>& args) {
        return group->output(op, ir::Tensor{type, args[0]});
      };
    } else {
      std::vector<ir::Type> types;
      for (int v : st.args) types.push_back(fn.value_type(v));
      e.host = [&backend, &op, &st, types](const std::vector<runtime::BufferPtr>& args) {
        std::vector<ir::Tensor> operands;
        for (size_t i = 0; i < args.size(); ++i) operands.push_back({types[i], args[i]});
        ir::Tensor out;
        if (runs_on_blas(op)) run_blas(backend, op, st, operands, &out);
        else out = run_host_op(op, operands);
        return out.buffer;
      };
    }
    for (int v : e.args)
      if (last_use[v] == int(s) && v >= n_in && std::find(e.frees.begin(), e.frees.end(), v) == e.frees.end())
        e.frees.push_back(v);
    exe_.steps.push_back(std::move(e));
  }
}

std::vector<ir::Tensor> Executable::run(const std::vector<ir::Tensor>& inputs) const {
  const ir::Function& f = f_;
  if (inputs.size() != f.inputs.size())
    throw std::invalid_argument("[execute] expected " + std::to_string(f.inputs.size()) + " inputs, got " +
                                std::to_string(inputs.size()));
  std::vector<runtime::BufferPtr> buffers;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (inputs[i].type != f.inputs[i])
      throw std::invalid_argument("[execute] input " + std::to_string(i) + " has type " +
                                  ir::type_to_string(inputs[i].type) + ", expected " +
                                  ir::type_to_string(f.inputs[i]));
    buffers.push_back(inputs[i].buffer);
  }
  std::vector<runtime::BufferPtr> results = exe_.run(buffers);
  std::vector<ir::Tensor> outputs;
  for (size_t i = 0; i < results.size(); ++i) outputs.push_back({f.value_type(f.outputs[i]), results[i]});
  return outputs;
}

std::vector<ir::Tensor> execute(const ir::Function& f, const std::vector<ir::Tensor>& inputs,
                                runtime::Backend& backend) {
  return Executable(f, backend).run(inputs);
}

}  // namespace kiln::codegen
