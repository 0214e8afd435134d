// The OpenCL backend against the CPU backend on two workloads: GELU over
// 16M float32 and a row softmax of 4096 x 4096 float32. Prints the median
// of 5 timed runs of each (after one warm-up run that compiles and faults
// the memory in), and checks that both backends agree.
//
//   build/bench/kiln-opencl-bench            (KILN_OPENCL_DEVICE picks the device)
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>

#include <kiln/kiln.h>

#include "codegen/backends.h"
#include "codegen/executor.h"
#include "frontend/trace.h"
#include "passes/pass_manager.h"

using namespace kiln;

namespace {

ir::Function traced(const ArrayFunction& fn, const std::vector<ir::Type>& types) {
  passes::PassManager pm;
  pm.add_pipeline("canonicalize,cse,dce");
  return pm.run(detail::trace(fn, types));
}

double median_ms(const codegen::Executable& e, const std::vector<ir::Tensor>& in, ir::Tensor* out) {
  *out = e.run(in).at(0);  // warm-up
  std::vector<double> ms;
  for (int i = 0; i < 5; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    *out = e.run(in).at(0);
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  return ms[2];
}

void compare(const char* name, const ArrayFunction& fn, const ir::Type& t) {
  ir::Function f = traced(fn, {t});
  ir::Tensor x{t, runtime::allocate(size_t(t.nbytes()))};
  std::mt19937 rng(1);
  std::normal_distribution<float> nd(0, 2);
  float* p = static_cast<float*>(x.buffer->data());
  for (int64_t i = 0; i < t.size(); ++i) p[i] = nd(rng);
  ir::Tensor cpu_out, gpu_out;
  double cpu = median_ms(codegen::Executable(f, codegen::backend_for(Device::cpu)), {x}, &cpu_out);
  runtime::Backend& gpu = codegen::backend_for(Device::gpu);
  double ocl = median_ms(codegen::Executable(f, gpu), {x}, &gpu_out);
  double worst = 0;
  const float* a = static_cast<const float*>(cpu_out.buffer->data());
  const float* b = static_cast<const float*>(gpu_out.buffer->data());
  for (int64_t i = 0; i < cpu_out.type.size(); ++i)
    worst = std::max(worst, double(std::fabs(a[i] - b[i])));
  std::printf("%-28s cpu %8.2f ms   %s %8.2f ms   (max absolute difference %.2g)\n", name, cpu, gpu.name().c_str(),
              ocl, worst);
}

}  // namespace

int main() {
  std::string why;
  if (!codegen::backend_available(Device::gpu, &why)) {
    std::fprintf(stderr, "no OpenCL device: %s\n", why.c_str());
    return 1;
  }
  compare("gelu 16M float32", [](const std::vector<array>& a) {
    const array& x = a[0];
    return std::vector<array>{0.5f * x * (1.0f + tanh(0.7978845608f * (x + 0.044715f * x * x * x)))};
  }, {float32, {1 << 24}});
  compare("softmax 4096x4096 float32", [](const std::vector<array>& a) {
    return std::vector<array>{softmax(a[0], -1)};
  }, {float32, {4096, 4096}});
  return 0;
}
