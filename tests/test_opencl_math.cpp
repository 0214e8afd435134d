// Accuracy of the OpenCL backend's transcendental functions on the device
// at hand, with the CPU's budgets (math_sweep.h, as test_math_approx): each
// function runs as a one-op kernel (codegen/opencl/emit.cpp: float through
// double where the device has float64, double through the OpenCL
// built-ins) over the sweeps, against long double references. The
// measured maxima are printed.
//
// Skips without an OpenCL device unless KILN_REQUIRE_OPENCL=1.
#include <gtest/gtest.h>

#include <cstring>

#include "codegen/backends.h"
#include "codegen/executor.h"
#include "ir/element.h"
#include "ir/ops.h"
#include "math_sweep.h"
#include "opencl_test.h"
#include "runtime/buffer.h"

using namespace kiln_test::math;
using kiln::Dtype;
using kiln::ir::OpKind;

namespace {

// op over xs (and ys) on the OpenCL device.
template <typename T>
std::vector<T> run_on_gpu(const std::string& op, const std::vector<T>& xs, const std::vector<T>* ys) {
  OpKind k;
  if (!kiln::ir::op_from_name(op, &k)) throw std::logic_error("no op " + op);
  Dtype d = sizeof(T) == 8 ? kiln::float64 : kiln::float32;
  kiln::ir::Type t{d, {int(xs.size())}};
  kiln::ir::Function f;
  std::vector<int> operands{f.add_input(t)};
  if (ys) operands.push_back(f.add_input(t));
  f.outputs = {f.add_op(kiln::ir::make_op(k, operands, t))};
  auto tensor = [&](const std::vector<T>& v) {
    kiln::ir::Tensor x{t, kiln::runtime::allocate(v.size() * sizeof(T))};
    std::memcpy(x.buffer->data(), v.data(), v.size() * sizeof(T));
    return x;
  };
  std::vector<kiln::ir::Tensor> in{tensor(xs)};
  if (ys) in.push_back(tensor(*ys));
  kiln::ir::Tensor out = kiln::codegen::execute(f, in, kiln::codegen::backend_for(kiln::Device::gpu)).at(0);
  std::vector<T> r(xs.size());
  std::memcpy(r.data(), out.buffer->data(), r.size() * sizeof(T));
  return r;
}

size_t sweep() {
  const char* e = std::getenv("KILN_MATH_SWEEP");
  return e ? static_cast<size_t>(std::atoll(e)) : 100000;
}

}  // namespace

TEST(OpenclMath, WithinBudget) {
  REQUIRE_OPENCL();
  printf("%s:\n", kiln::codegen::backend_for(kiln::Device::gpu).name().c_str());
  for (const UnaryCase& c : unary_cases()) {
    check_unary<float>(c, sweep(), run_on_gpu<float>);
    check_unary<double>(c, sweep(), run_on_gpu<double>);
  }
  for (const BinaryCase& c : binary_cases()) {
    check_binary<float>(c, sweep(), run_on_gpu<float>);
    check_binary<double>(c, sweep(), run_on_gpu<double>);
  }
}
