#pragma once
// Helpers of the OpenCL backend's tests (test_opencl*.cpp):
//
//   REQUIRE_OPENCL();  // first in a test: skips without an OpenCL device,
//                      // fails instead when KILN_REQUIRE_OPENCL=1 (CI)
//   EXPECT_TRUE(kiln_test::on_gpu_matches(f, inputs));  // vs the interpreter
#include <gtest/gtest.h>

#include <cstdlib>
#include <random>
#include <string>

#include "codegen/backends.h"
#include "codegen/executor.h"
#include "ir/interpreter.h"
#include "ir_test_helpers.h"

#define REQUIRE_OPENCL()                                                            \
  do {                                                                              \
    std::string why_;                                                               \
    if (!kiln::codegen::backend_available(kiln::Device::gpu, &why_)) {              \
      const char* req_ = std::getenv("KILN_REQUIRE_OPENCL");                        \
      if (req_ && std::string(req_) == "1") FAIL() << "no OpenCL device: " << why_; \
      GTEST_SKIP() << "no OpenCL device: " << why_;                                 \
    }                                                                               \
  } while (0)

namespace kiln_test {

inline runtime::Backend& gpu() { return codegen::backend_for(Device::gpu); }

// f on the OpenCL device and on the interpreter.
inline ::testing::AssertionResult on_gpu_matches(const Function& f, const std::vector<Tensor>& inputs,
                                          bool approximate = true) {
  std::vector<Tensor> want = interpret(f, inputs);
  std::vector<Tensor> got = codegen::Executable(f, gpu()).run(inputs);
  for (size_t i = 0; i < want.size(); ++i) {
    auto r = agree(got[i], want[i], approximate);
    if (!r) return r << " (output " << i << ")\n" << print(f);
  }
  return ::testing::AssertionSuccess();
}

inline Tensor random_tensor(const Type& t, uint32_t seed, double lo = -3, double hi = 3) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> ud(lo, hi);
  Tensor x{t, runtime::allocate(size_t(t.nbytes()))};
  for (int64_t i = 0; i < t.size(); ++i) {
    if (is_floating(t.dtype)) store_f64(t.dtype, x.buffer->data(), i, ud(rng));
    else store_i64(t.dtype, x.buffer->data(), i, int64_t(std::floor(ud(rng))));
  }
  return x;
}

}  // namespace kiln_test
