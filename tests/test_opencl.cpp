// The OpenCL backend (Device::gpu) against the reference interpreter: named
// workloads (softmax, layernorm, GELU, slices, transposes, broadcasts,
// nested reductions, matmul through CLBlast) in float32/float64/float16/
// bfloat16, NaN and infinities in max/min, large shapes; the build error
// path (KILN_DUMP=opencl) and the binary cache. Every op, cast and
// reduction: test_opencl_every_op; transcendental budgets: test_opencl_math.
//
// Without an OpenCL device the tests skip, unless KILN_REQUIRE_OPENCL=1
// (CI sets it, with PoCL installed): then they fail.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <random>

#include "codegen/backends.h"
#include "codegen/disk_cache.h"
#include "codegen/opencl/emit.h"
#include "codegen/opencl/opencl_backend.h"
#include "codegen/opencl/program.h"
#include "frontend/trace.h"
#include "ir/type_rules.h"
#include "opencl_test.h"
#include "passes/fusion.h"
#include "passes/pass_manager.h"
#include "test_helpers.h"

using namespace kiln;
using namespace kiln::ir;
using kiln_test::gpu;
using kiln_test::on_gpu_matches;
using kiln_test::random_tensor;

namespace {

// The backend's disk cache lives in a directory of this process (ctest
// turns the cache off for the other tests): set before the backend opens.
struct CacheDir {
  std::string path;
  CacheDir() {
    path = std::filesystem::temp_directory_path() / ("kiln_test_opencl_" + std::to_string(getpid()));
    std::filesystem::remove_all(path);
    setenv("KILN_CACHE_DIR", path.c_str(), 1);
    setenv("KILN_CACHE", "on", 1);
  }
  ~CacheDir() { std::filesystem::remove_all(path); }
} g_cache_dir;

// The traced, simplified function of array code.
Function traced(const ArrayFunction& fn, const std::vector<Type>& types) {
  passes::PassManager pm;
  pm.add_pipeline("canonicalize,cse,dce");
  return pm.run(detail::trace(fn, types));
}

array gelu(const array& x) { return 0.5f * x * (1.0f + tanh(0.7978845608f * (x + 0.044715f * x * x * x))); }

array layernorm(const array& x, const array& w, const array& b) {
  array mu = mean(x, -1, true);
  array xc = x - mu;
  array var_ = mean(xc * xc, -1, true);
  return xc * rsqrt(var_ + 1e-5f) * w + b;
}

}  // namespace

TEST(OpenclDevice, Opens) {
  REQUIRE_OPENCL();
  EXPECT_EQ(gpu().name().rfind("opencl:", 0), 0u) << gpu().name();
  std::string why;
  EXPECT_FALSE(codegen::backend_available(Device(Device::gpu, 1), &why));
  EXPECT_NE(why.find("index"), std::string::npos) << why;
}

// Named workloads, traced from array code, in each float dtype.
TEST(OpenclWorkloads, MatchTheInterpreter) {
  REQUIRE_OPENCL();
  using Fn = std::function<array(const array&, const array&)>;
  const std::vector<std::pair<const char*, Fn>> work = {
      {"gelu", [](const array& x, const array&) { return gelu(x); }},
      {"softmax", [](const array& x, const array&) { return softmax(x, -1); }},
      {"softmax axis 0", [](const array& x, const array&) { return softmax(x, 0); }},
      {"layernorm", [](const array& x, const array& w) { return layernorm(x, w, w * 0.5f); }},
      {"sum rows", [](const array& x, const array&) { return sum(x, -1); }},
      {"sum columns", [](const array& x, const array&) { return sum(x, 0); }},
      {"max all", [](const array& x, const array&) { return max(x); }},
      {"transpose + add", [](const array& x, const array&) { return transpose(x) * 2.0f + 1.0f; }},
      {"strided slice", [](const array& x, const array&) { return exp(slice(x, {1, 30}, {60, 2}, {3, -4})); }},
      {"broadcast outer", [](const array& x, const array&) { return reshape(sum(x, 1), {64, 1}) - x; }},
      {"broadcast row", [](const array& x, const array& w) { return x * w + w; }},
      {"logsumexp", [](const array& x, const array&) { return logsumexp(x, 1); }},
      {"var", [](const array& x, const array&) { return var(x, 0); }},
      {"nested", [](const array& x, const array&) {
         array r = reshape(x, {8, 8, 33});
         return sum(r, std::vector<int>{0, 2}) + max(sum(r * r, 2), 1);
       }},
      {"row minus column mean", [](const array& x, const array&) { return x - mean(x, 0, true) - mean(x, 1, true); }},
      {"flatten", [](const array& x, const array&) { return sum(reshape(transpose(x), {-1}) * 3.0f); }},
      {"matmul a^T b", [](const array& x, const array&) { return matmul(transpose(x), x); }},
      {"matmul a b^T", [](const array& x, const array&) { return matmul(x, transpose(x)); }},
      {"batched matmul", [](const array& x, const array&) {
         array b = reshape(slice(x, {0, 0}, {64, 32}), {4, 16, 32});
         return matmul(swapaxes(b, 1, 2), b) + 1.0f;
       }},
  };
  for (Dtype d : {float32, float64, float16, bfloat16}) {
    Type xt{d, {64, 33}}, wt{d, {33}};
    Tensor x = random_tensor(xt, 1), w = random_tensor(wt, 2, 0.5, 1.5);
    for (const auto& [name, fn] : work) {
      SCOPED_TRACE(std::string(name) + " " + dtype_name(d));
      Function f = traced([&](const std::vector<array>& a) { return std::vector<array>{fn(a[0], a[1])}; }, {xt, wt});
      EXPECT_TRUE(on_gpu_matches(f, {x, w}));
    }
  }
}

// A million and more elements: elementwise, reductions over everything
// (one work-item) and along rows.
TEST(OpenclWorkloads, LargeSizes) {
  REQUIRE_OPENCL();
  Type big{float32, {(1 << 20) + 3}};
  Tensor x = random_tensor(big, 5);
  for (auto fn : std::vector<std::function<array(const array&)>>{
           [](const array& v) { return gelu(v); },
           [](const array& v) { return softmax(v, -1); },
           [](const array& v) { return sum(v); },
           [](const array& v) { return reshape(v, {1, -1}) * 2.0f; }}) {
    Function f = traced([&](const std::vector<array>& a) { return std::vector<array>{fn(a[0])}; }, {big});
    EXPECT_TRUE(on_gpu_matches(f, {x}));
  }
  Type mat{float32, {1024, 1027}};
  Tensor m = random_tensor(mat, 6);
  Function f = traced([](const std::vector<array>& a) { return std::vector<array>{softmax(a[0], -1)}; }, {mat});
  EXPECT_TRUE(on_gpu_matches(f, {m}));
}

// Matmuls run on CLBlast (counted), with the results of the host's BLAS.
TEST(OpenclWorkloads, MatmulRunsOnClblast) {
  REQUIRE_OPENCL();
  for (Dtype d : {float32, float64}) {
    Type at{d, {3, 37, 19}}, bt{d, {3, 19, 23}};
    Function f = traced([](const std::vector<array>& a) { return std::vector<array>{matmul(a[0], a[1])}; }, {at, bt});
    codegen::reset_opencl_stats();
    EXPECT_TRUE(on_gpu_matches(f, {random_tensor(at, 1), random_tensor(bt, 2)}));
    EXPECT_EQ(codegen::opencl_stats().matmuls, 1u) << dtype_name(d);
  }
}

// A program the device's compiler refuses: a runtime_error naming the
// kernel and the compiler's first error, the build log under
// KILN_DUMP=opencl; never an abort.
TEST(OpenclBuild, ErrorsNameTheKernelAndTheCompilerError) {
  REQUIRE_OPENCL();
  auto device = codegen::opencl::Device::open();
  const std::string bad = "__kernel void kiln_bad(__global float* out) { out[0] = undeclared_thing; }\n";
  setenv("KILN_DUMP", "opencl", 1);
  ::testing::internal::CaptureStderr();
  std::string message;
  try {
    codegen::opencl::build_program(*device, bad, "kiln_bad", nullptr);
  } catch (const std::runtime_error& e) {
    message = e.what();
  }
  std::string dumped = ::testing::internal::GetCapturedStderr();
  unsetenv("KILN_DUMP");
  EXPECT_NE(message.find("kiln_bad"), std::string::npos) << message;
  EXPECT_NE(message.find("undeclared_thing"), std::string::npos) << message;
  EXPECT_NE(dumped.find("undeclared_thing"), std::string::npos) << dumped;
}

// KILN_DUMP=opencl prints each new kernel's source.
TEST(OpenclBuild, DumpPrintsTheSource) {
  REQUIRE_OPENCL();
  Type t{float32, {5}};
  Function f = traced([](const std::vector<array>& a) { return std::vector<array>{a[0] * 3.0f + 0.125f}; }, {t});
  setenv("KILN_DUMP", "opencl", 1);
  ::testing::internal::CaptureStderr();
  codegen::clear_opencl_kernel_cache();
  codegen::Executable e(f, gpu());
  std::string dumped = ::testing::internal::GetCapturedStderr();
  unsetenv("KILN_DUMP");
  EXPECT_NE(dumped.find("__kernel void kiln_"), std::string::npos) << dumped;
}

// Program binaries are kept in the disk cache: a second build of the same
// source loads the binary; an entry the driver refuses is rebuilt.
TEST(OpenclCache, BinariesComeFromTheDiskCache) {
  REQUIRE_OPENCL();
  auto device = codegen::opencl::Device::open();
  std::string dir = std::filesystem::temp_directory_path() / ("kiln_test_opencl_bin_" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  {
    codegen::DiskCache disk(dir, codegen::DiskCache::kDefaultMaxBytes);
    const std::string src = "__kernel void kiln_twice(__global float* out) { out[get_global_id(0)] *= 2.0f; }\n";
    EXPECT_FALSE(codegen::opencl::build_program(*device, src, "kiln_twice", &disk).from_disk);
    EXPECT_EQ(disk.stats().writes, 1u);
    EXPECT_TRUE(codegen::opencl::build_program(*device, src, "kiln_twice", &disk).from_disk);
    // A checksummed entry that is no binary: discarded, built again.
    disk.store(codegen::opencl::program_cache_key(*device, src), "not a program binary");
    EXPECT_FALSE(codegen::opencl::build_program(*device, src, "kiln_twice", &disk).from_disk);
    EXPECT_TRUE(codegen::opencl::build_program(*device, src, "kiln_twice", &disk).from_disk);
  }
  std::filesystem::remove_all(dir);
}

// The backend's kernels: from memory, else from the disk cache.
TEST(OpenclCache, KernelsReloadFromTheDiskCache) {
  REQUIRE_OPENCL();
  Type t{int16, {7, 3}};
  Function f = traced([](const std::vector<array>& a) { return std::vector<array>{(a[0] ^ 0x55) * a[0]}; }, {t});
  Tensor x = random_tensor(t, 9, -100, 100);
  codegen::clear_opencl_kernel_cache();
  codegen::reset_opencl_stats();
  EXPECT_TRUE(on_gpu_matches(f, {x}));
  codegen::OpenclStats first = codegen::opencl_stats();
  EXPECT_EQ(first.programs_built + first.binaries_loaded, 1u);
  EXPECT_TRUE(on_gpu_matches(f, {x}));
  EXPECT_EQ(codegen::opencl_stats().kernel_cache_hits, 1u);
  codegen::clear_opencl_kernel_cache();
  codegen::reset_opencl_stats();
  EXPECT_TRUE(on_gpu_matches(f, {x}));
  codegen::OpenclStats again = codegen::opencl_stats();
  EXPECT_EQ(again.programs_built, 0u);
  EXPECT_EQ(again.binaries_loaded, 1u);
}

// A kernel that writes its output into a dying input's buffer (the
// executor's donation) reads that input through the output pointer.
TEST(OpenclWorkloads, OutputsInDonatedBuffers) {
  REQUIRE_OPENCL();
  for (Dtype d : {float32, float16, bfloat16, float64}) {
    SCOPED_TRACE(dtype_name(d));
    Type t{d, {8, 8}};
    Tensor a = random_tensor(t, 1), b = random_tensor(t, 2);
    auto donations = [&](const ArrayFunction& fn) {
      Function f = traced(fn, {t, t});
      codegen::reset_buffers_donated();
      EXPECT_TRUE(on_gpu_matches(f, {a, b}));
      return codegen::buffers_donated();
    };
    // A matmul's result (on CLBlast) is not donated to its epilogue
    // (codegen/donation.h); the values are checked.
    EXPECT_EQ(donations([](const std::vector<array>& x) {
                return std::vector<array>{maximum(matmul(x[0], x[1]) + 1.0f, array(0.0f))};
              }), 0u);
    EXPECT_EQ(donations([](const std::vector<array>& x) {
                array h = x[0] - max(x[0], -1, true);
                return std::vector<array>{exp(h) * sum(h)};
              }), 1u);
  }
}

// For devices without float64: float kernels rendered without it use no
// double anywhere (transcendentals, sums, helpers), and build.
TEST(OpenclBuild, FloatKernelsWithoutFloat64) {
  REQUIRE_OPENCL();
  auto device = codegen::opencl::Device::open();
  std::vector<OpKind> ops;
#define KILN_TEST_KIND(e, ...) ops.push_back(OpKind::e);
  KILN_UNARY_OPS(KILN_TEST_KIND)
  KILN_BINARY_OPS(KILN_TEST_KIND)
#undef KILN_TEST_KIND
  Type t{float32, {4, 5}};
  Function f;
  int x = f.add_input(t), y = f.add_input(t);
  for (OpKind k : ops) {
    if (k == OpKind::Cast || is_comparison(k) || k == OpKind::LogicalNot || k == OpKind::LogicalAnd ||
        k == OpKind::LogicalOr || k == OpKind::BitwiseInvert || k == OpKind::BitwiseAnd || k == OpKind::BitwiseOr ||
        k == OpKind::BitwiseXor || k == OpKind::LeftShift || k == OpKind::RightShift || k == OpKind::Erfinv)
      continue;
    std::vector<int> operands{x};
    if (op_arity(k) == 2) operands.push_back(y);
    int v = f.add_op(make_op(k, operands, t));
    f.outputs.push_back(f.add_op(make_op(OpKind::Sum, {v}, {float32, {4}}, {{"axes", std::vector<int64_t>{1}}})));
  }
  codegen::opencl::EmitOptions no_f64;
  no_f64.float64 = false;
  std::string all;
  for (const passes::Step& st : passes::plan_fusion(f).steps) {
    if (st.kind != passes::Step::Kernel) continue;
    all += codegen::opencl::opencl_source(st.kernel, "kiln_no_f64", no_f64);
  }
  EXPECT_EQ(all.find("double"), std::string::npos) << all;
  EXPECT_EQ(all.find("fp64"), std::string::npos);
  int n = 0;
  for (const passes::Step& st : passes::plan_fusion(f).steps)
    if (st.kind == passes::Step::Kernel) {
      std::string name = "kiln_no_f64_" + std::to_string(n++);
      EXPECT_NO_THROW(codegen::opencl::build_program(*device, codegen::opencl::opencl_source(st.kernel, name, no_f64),
                                                     name, nullptr));
    }
  EXPECT_GT(n, 20);
}
