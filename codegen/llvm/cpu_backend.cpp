#include "codegen/llvm/cpu_backend.h"

#include <algorithm>

#include "codegen/llvm/jit.h"
#include "runtime/thread_pool.h"

namespace kiln::codegen {

namespace {

// Work per chunk: enough elements that a thread's share outweighs waking it.
constexpr int64_t kGrainElements = 1 << 15;

class CpuBackend final : public runtime::Backend {
 public:
  std::string name() const override { return "cpu"; }
  const runtime::Capabilities& capabilities() const override { return caps_; }

  runtime::KernelHandle compile(const kernel::Kernel& k) override { return get_kernel(k); }

  void launch(const runtime::Launch& l) override {
    if (l.outer == 0) return;
    KernelFn fn = static_cast<const CompiledKernel*>(l.compiled)->fn;
    size_t n = l.inputs.size();
    void* small[64];
    std::vector<void*> many;
    void** args = small;
    if (n + 2 > 64) {
      many.resize(n + 2);
      args = many.data();
    }
    for (size_t i = 0; i < n; ++i) args[i] = const_cast<void*>(l.inputs[i]->data());
    args[n] = l.output->data();
    args[n + 1] = const_cast<int64_t*>(l.params);
    if (l.outer == 1) {
      fn(args, 0, 1);
      return;
    }
    // `work` estimates the elements the kernel touches (reductions read
    // more than they write), so a reduction's few outputs still split.
    int64_t per_unit = std::max<int64_t>(1, l.work / l.outer);
    int64_t grain = std::max<int64_t>(1, kGrainElements / per_unit);
    runtime::ThreadPool::global().parallel_for(l.outer, grain, [&](int64_t b, int64_t e) { fn(args, b, e); });
  }

 private:
  runtime::Capabilities caps_;
};

}  // namespace

runtime::Backend& cpu_backend() {
  static CpuBackend* backend = new CpuBackend();  // never destroyed, as the JIT (jit.cpp)
  return *backend;
}

void run_on_this_thread(const runtime::CompiledKernel& kernel, const std::vector<const void*>& inputs, void* output,
                        const int64_t* params, int64_t begin, int64_t end) {
  std::vector<void*> args;
  for (const void* in : inputs) args.push_back(const_cast<void*>(in));
  args.push_back(output);
  args.push_back(const_cast<int64_t*>(params));
  static_cast<const CompiledKernel&>(kernel).fn(args.data(), begin, end);
}

}  // namespace kiln::codegen
