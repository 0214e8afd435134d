// Devices and streams (frontend/device.h, frontend/stream.h): the defaults
// and their setters, to_stream's rules, StreamContext, KILN_DEVICE, errors
// for an unavailable device, every op's trailing StreamOrDevice, and eval()
// cutting a graph that mixes devices. The gpu tests run where
// is_available(Device::gpu) (the OpenCL backend, PoCL on a CPU) and are
// skipped elsewhere.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "child_process.h"
#include "codegen/opencl/opencl_backend.h"
#include "opencl_test.h"
#include "runtime/float_control.h"
#include "test_helpers.h"

using namespace kiln;

namespace {

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// Every pending node behind a (a included) has stream s.
::testing::AssertionResult all_nodes_on(const array& a, const Stream& s) {
  std::vector<const detail::Node*> todo{a.node().get()};
  std::unordered_set<const detail::Node*> seen;
  int pending = 0;
  while (!todo.empty()) {
    const detail::Node* n = todo.back();
    todo.pop_back();
    if (!seen.insert(n).second || n->buffer) continue;
    ++pending;
    if (n->stream != s)
      return ::testing::AssertionFailure() << ir::op_name(n->kind) << " is on stream " << n->stream << ", not " << s;
    for (const array& in : n->inputs) todo.push_back(in.node().get());
  }
  if (pending == 0) return ::testing::AssertionFailure() << "no pending node";
  return ::testing::AssertionSuccess();
}

bool same_values(array a, array b) { return array_equal(a, b, true).item<bool>(); }

}  // namespace

// ---- defaults ------------------------------------------------------------------

TEST(Device, DefaultsAreTheCpuAndItsStreamZero) {
  EXPECT_EQ(default_device(), Device(Device::cpu));
  EXPECT_TRUE(is_available(Device::cpu));
  EXPECT_FALSE(is_available(Device(Device::cpu, 1)));
  Stream s = default_stream(Device::cpu);
  EXPECT_EQ(s.index, 0);
  EXPECT_EQ(s.device, Device(Device::cpu));
  EXPECT_EQ(to_stream({}), s);
}

TEST(Device, SetDefaultDevice) {
  set_default_device(Device::cpu);
  EXPECT_EQ(default_device(), Device(Device::cpu));
  // Index 1 of the cpu does not exist: refused, the default unchanged.
  EXPECT_TRUE(kiln_test::throws_invalid([] { set_default_device(Device(Device::cpu, 1)); }, "[set_default_device]"));
  EXPECT_EQ(default_device(), Device(Device::cpu));
  std::ostringstream os;
  os << Device(Device::gpu, 0) << " " << Stream(3, Device::cpu);
  EXPECT_EQ(os.str(), "Device(gpu, 0) Stream(Device(cpu, 0), 3)");
}

TEST(Device, NewStreamsHaveNewIndices) {
  Stream a = new_stream(Device::cpu);
  Stream b = new_stream(Device::cpu);
  EXPECT_GE(a.index, 2);  // 0 and 1 are the cpu's and the gpu's default streams
  EXPECT_GT(b.index, a.index);
  EXPECT_EQ(a.device, Device(Device::cpu));
  EXPECT_NE(a, b);
  EXPECT_NE(a, default_stream(Device::cpu));
  EXPECT_EQ(a, Stream(a.index, Device::cpu));
  EXPECT_NE(Stream(a.index, Device::cpu), Stream(a.index, Device::gpu));
}

TEST(Device, SetDefaultStream) {
  Stream old = default_stream(Device::cpu);
  Stream s = new_stream(Device::cpu);
  set_default_stream(s);
  EXPECT_EQ(default_stream(Device::cpu), s);
  EXPECT_EQ(to_stream({}), s);
  EXPECT_EQ(to_stream(Device::cpu), s);
  array y = exp(array({1.0f, 2.0f}));
  EXPECT_EQ(y.node()->stream, s);
  set_default_stream(old);
  EXPECT_EQ(to_stream({}), old);
}

TEST(Device, ToStreamRules) {
  Stream cpu0 = default_stream(Device::cpu);
  EXPECT_EQ(to_stream(std::monostate{}), default_stream(default_device()));
  EXPECT_EQ(to_stream(Device::cpu), cpu0);
  EXPECT_EQ(to_stream(Device(Device::cpu, 0)), cpu0);
  Stream s = new_stream(Device::cpu);
  EXPECT_EQ(to_stream(s), s);
  EXPECT_EQ(to_stream({}, Device::cpu), cpu0);
  EXPECT_EQ(to_stream(s, Device::cpu), s);
}

TEST(Device, StreamContextSetsAndRestores) {
  Stream before = to_stream({});
  Stream s = new_stream(Device::cpu);
  {
    StreamContext ctx(s);
    EXPECT_EQ(to_stream({}), s);
    EXPECT_EQ(default_device(), Device(Device::cpu));
    array y = add(array(1.0f), array(2.0f));
    EXPECT_EQ(y.node()->stream, s);
    EXPECT_EQ(y.item<float>(), 3.0f);
  }
  EXPECT_EQ(to_stream({}), before);
  {
    StreamContext ctx(Device::cpu);  // a device: its default stream
    EXPECT_EQ(to_stream({}), default_stream(Device::cpu));
  }
  // Restored when the scope is left by an exception.
  try {
    StreamContext ctx(s);
    throw std::runtime_error("leaving");
  } catch (const std::runtime_error&) {
  }
  EXPECT_EQ(to_stream({}), before);
  // An empty StreamOrDevice names nothing.
  EXPECT_TRUE(kiln_test::throws_invalid([] { StreamContext ctx{StreamOrDevice{}}; }, "[StreamContext]"));
  EXPECT_EQ(to_stream({}), before);
}

TEST(Device, DefaultsAreSafeToReadWhileSet) {
  Stream a = new_stream(Device::cpu), b = new_stream(Device::cpu);
  Stream old = default_stream(Device::cpu);
  std::atomic<bool> stop{false};
  std::thread setter([&] {
    for (int i = 0; !stop; ++i) set_default_stream(i % 2 ? a : b);
  });
  int bad = 0;
  for (int i = 0; i < 20000; ++i) {
    Stream s = to_stream({});
    if (s != a && s != b && s != old) ++bad;
    if (default_device() != Device(Device::cpu)) ++bad;
  }
  stop = true;
  setter.join();
  set_default_stream(old);
  EXPECT_EQ(bad, 0);
}

// ---- KILN_DEVICE ---------------------------------------------------------------

TEST(Device, KilnDeviceVariable) {
  auto initial_with = [](const char* value) {
    return kiln_test::in_child([&]() -> std::string {
      setenv("KILN_DEVICE", value, 1);
      ::testing::internal::CaptureStderr();
      Device d = detail::initial_device();
      std::string err = ::testing::internal::GetCapturedStderr();
      std::string v = value;
      bool want_gpu = v == "gpu" && is_available(Device::gpu);
      if (d != Device(want_gpu ? Device::gpu : Device::cpu))
        return "KILN_DEVICE=" + v + " gave " + detail::device_name(d);
      bool should_warn = !(v == "cpu" || v == "" || want_gpu);
      if (should_warn != contains(err, "kiln: warning: ignoring KILN_DEVICE=" + v))
        return "KILN_DEVICE=" + v + ": unexpected stderr '" + err + "'";
      return "";
    });
  };
  EXPECT_EQ(initial_with("cpu"), "");
  EXPECT_EQ(initial_with(""), "");
  EXPECT_EQ(initial_with("gpu"), "");  // the gpu if there is one, else cpu and a warning
  EXPECT_EQ(initial_with("tpu"), "");
  EXPECT_EQ(initial_with("CPU"), "");
}

// ---- an unavailable gpu ----------------------------------------------------------

TEST(Device, UnavailableGpuThrowsAtOpCreation) {
  if (is_available(Device::gpu)) GTEST_SKIP() << "the gpu is available";
  Device before = default_device();
  EXPECT_TRUE(kiln_test::throws_invalid([] { set_default_device(Device::gpu); }, "[set_default_device]"));
  EXPECT_EQ(default_device(), before);
  EXPECT_TRUE(kiln_test::throws_invalid([] { default_stream(Device::gpu); }, "gpu"));
  EXPECT_TRUE(kiln_test::throws_invalid([] { new_stream(Device::gpu); }, "[new_stream]"));
  EXPECT_TRUE(kiln_test::throws_invalid([] { set_default_stream(Stream(1, Device::gpu)); }, "[set_default_stream]"));
  EXPECT_TRUE(kiln_test::throws_invalid([] { StreamContext ctx(Device::gpu); }, "gpu"));
  EXPECT_EQ(to_stream({}), default_stream(Device::cpu));
  array x({1.0f, 2.0f});
  EXPECT_TRUE(kiln_test::throws_invalid([&] { exp(x, Device::gpu); }, "not available"));
  EXPECT_TRUE(kiln_test::throws_invalid([&] { add(x, x, Stream(1, Device::gpu)); }, "not available"));
  EXPECT_TRUE(kiln_test::throws_invalid([&] { zeros({2}, float32, Device::gpu); }, "not available"));
  EXPECT_TRUE(kiln_test::throws_invalid([&] { sum(x, Device::gpu); }, "not available"));
}

// ---- every op takes a stream or device ---------------------------------------------

// Runs each op with no stream, with Device::cpu, with the default stream and
// with a new cpu stream: the values agree, and the op's result records the
// stream (when it is pending: some ops return their input unchanged).
TEST(Device, EveryHeaderOpTakesAStreamOrDevice) {
  array x = reshape(arange(1.0, 7.0), {2, 3});
  array y = reshape(arange(6.0, 0.0, -1.0), {2, 3});
  array i = array({1, 0, 2});
  eval(x, y);
  std::vector<std::pair<std::string, std::function<array(StreamOrDevice)>>> ops = {
      // creation
      {"arange", [](StreamOrDevice s) { return arange(0, 5, 2, s); }},
      {"linspace", [](StreamOrDevice s) { return linspace(0.0, 1.0, 5, float32, s); }},
      {"zeros", [](StreamOrDevice s) { return zeros({2, 2}, s); }},
      {"ones", [](StreamOrDevice s) { return ones({2}, int32, s); }},
      {"full", [](StreamOrDevice s) { return full({2, 2}, 3.5f, s); }},
      {"eye", [](StreamOrDevice s) { return eye(3, s); }},
      {"identity", [](StreamOrDevice s) { return identity(2, s); }},
      {"tri", [](StreamOrDevice s) { return tri(3, float32, s); }},
      {"tril", [&](StreamOrDevice s) { return tril(ones({3, 3}), 0, s); }},
      {"astype", [&](StreamOrDevice s) { return astype(x, int32, s); }},
      {"zeros_like", [&](StreamOrDevice s) { return zeros_like(x, s); }},
      {"full_like", [&](StreamOrDevice s) { return full_like(x, 2, s); }},
      // shape
      {"reshape", [&](StreamOrDevice s) { return reshape(x, {3, 2}, s); }},
      {"flatten", [&](StreamOrDevice s) { return flatten(x, s); }},
      {"transpose", [&](StreamOrDevice s) { return transpose(x, {1, 0}, s); }},
      {"expand_dims", [&](StreamOrDevice s) { return expand_dims(x, 0, s); }},
      {"broadcast_to", [&](StreamOrDevice s) { return broadcast_to(x, {2, 2, 3}, s); }},
      {"slice", [&](StreamOrDevice s) { return slice(x, {0, 1}, {2, 3}, s); }},
      {"concatenate", [&](StreamOrDevice s) { return concatenate({x, y}, 1, s); }},
      {"stack", [&](StreamOrDevice s) { return stack({x, y}, s); }},
      {"tile", [&](StreamOrDevice s) { return tile(x, {2, 1}, s); }},
      {"pad", [&](StreamOrDevice s) { return pad(x, 1, array(0.0f), "constant", s); }},
      {"split", [&](StreamOrDevice s) { return split(x, 3, 1, s).at(1); }},
      // indexing and matmul
      {"take", [&](StreamOrDevice s) { return take(x, i, 1, s); }},
      {"take_along_axis", [&](StreamOrDevice s) { return take_along_axis(x, reshape(i, {1, 3}), 0, s); }},
      {"matmul", [&](StreamOrDevice s) { return matmul(x, transpose(y), s); }},
      {"outer", [&](StreamOrDevice s) { return outer(flatten(x), i, s); }},
      // elementwise
      {"exp", [&](StreamOrDevice s) { return exp(x, s); }},
      {"sqrt", [&](StreamOrDevice s) { return sqrt(x, s); }},
      {"erf", [&](StreamOrDevice s) { return erf(x, s); }},
      {"round", [&](StreamOrDevice s) { return round(divide(x, array(3.0f)), 2, s); }},
      {"add", [&](StreamOrDevice s) { return add(x, y, s); }},
      {"power", [&](StreamOrDevice s) { return power(x, y, s); }},
      {"less", [&](StreamOrDevice s) { return less(x, y, s); }},
      {"where", [&](StreamOrDevice s) { return where(less(x, y), x, y, s); }},
      {"clip", [&](StreamOrDevice s) { return clip(x, array(2.0f), array(4.0f), s); }},
      {"isclose", [&](StreamOrDevice s) { return isclose(x, y, 1e-5, 1e-8, false, s); }},
      {"array_equal", [&](StreamOrDevice s) { return array_equal(x, y, s); }},
      // reductions and softmax
      {"sum", [&](StreamOrDevice s) { return sum(x, s); }},
      {"sum_axis", [&](StreamOrDevice s) { return sum(x, 1, true, s); }},
      {"max_axes", [&](StreamOrDevice s) { return max(x, {0, 1}, false, s); }},
      {"mean", [&](StreamOrDevice s) { return mean(x, 0, false, s); }},
      {"var", [&](StreamOrDevice s) { return var(x, s); }},
      {"std", [&](StreamOrDevice s) { return kiln::std(x, 1, false, 1, s); }},
      {"argmax", [&](StreamOrDevice s) { return argmax(x, 1, false, s); }},
      {"argmin", [&](StreamOrDevice s) { return argmin(x, s); }},
      {"logsumexp", [&](StreamOrDevice s) { return logsumexp(x, true, s); }},
      {"softmax", [&](StreamOrDevice s) { return softmax(x, -1, false, s); }},
  };
  Stream fresh = new_stream(Device::cpu);
  for (auto& [name, op] : ops) {
    SCOPED_TRACE(name);
    array plain = op({});
    array on_cpu = op(Device::cpu);
    array on_default = op(default_stream(default_device()));
    array on_fresh = op(fresh);
    if (!on_cpu.is_evaluated()) {
      EXPECT_EQ(on_cpu.node()->stream, default_stream(Device::cpu));
    }
    if (!on_fresh.is_evaluated()) {
      EXPECT_EQ(on_fresh.node()->stream, fresh);
    }
    EXPECT_TRUE(same_values(on_cpu, plain));
    EXPECT_TRUE(same_values(on_default, plain));
    EXPECT_TRUE(same_values(on_fresh, plain));
  }
}

// A composite op's inner ops run on the stream it was given.
TEST(Device, CompositeOpsPassTheirStreamDown) {
  Stream s = new_stream(Device::cpu);
  array x = reshape(arange(6.0), {2, 3});
  eval(x);  // materialized: every pending node below is the op's own
  EXPECT_TRUE(all_nodes_on(softmax(x, -1, false, s), s));
  EXPECT_TRUE(all_nodes_on(var(x, 0, false, 0, s), s));
  EXPECT_TRUE(all_nodes_on(logsumexp(x, s), s));
  EXPECT_TRUE(all_nodes_on(tril(x, 0, s), s));
  EXPECT_TRUE(all_nodes_on(take(x, 4, s), s));
  // An explicit stream inside an op's stream wins; none means the default.
  EXPECT_EQ(exp(x).node()->stream, to_stream({}));
}

TEST(Device, SynchronizeReturns) {
  synchronize();
  synchronize(new_stream(Device::cpu));
  SUCCEED();
}

// ---- eval of a graph that mixes devices ----------------------------------------------

// eval() cuts a graph at device boundaries. Without a gpu this is checked on
// the reference interpreter (KILN_EXECUTOR=interp), which needs no backend,
// with nodes marked as the gpu's by hand; the gpu tests below run it for
// real.
TEST(Device, MixedDeviceGraphIsCutAtTheBoundaries) {
  EXPECT_EQ(kiln_test::in_child([]() -> std::string {
    setenv("KILN_EXECUTOR", "interp", 1);
    setenv("KILN_DUMP", "ir", 1);  // one "traced" dump per function run
    array x({1.0f, 2.0f, 3.0f});
    array a = exp(x);                   // cpu
    array b = multiply(a, array(2.0f));  // "gpu", reads a cpu value
    b.node()->stream = Stream(1, Device::gpu);
    array c = add(b, a);                // cpu, reads the gpu value and an earlier cpu one
    array d = sqrt(c);                  // cpu
    array e = subtract(d, b);           // cpu
    ::testing::internal::CaptureStderr();
    eval(e);
    std::string dumps = ::testing::internal::GetCapturedStderr();
    // cpu {a}, then gpu {b}, then cpu {c, d, e}: three functions.
    size_t functions = 0;
    for (size_t at = 0; (at = dumps.find("----- ir traced -----", at)) != std::string::npos; ++at) ++functions;
    if (functions != 3) return "expected 3 functions, got " + std::to_string(functions) + ":\n" + dumps;
    std::vector<double> got = kiln_test::values(e);
    for (int k = 0; k < 3; ++k) {
      double av = std::exp(double(k + 1)), bv = 2 * av, want = std::sqrt(bv + av) - bv;
      if (std::abs(got[k] - want) > 1e-4 * std::abs(want)) return "element " + std::to_string(k) + " is wrong";
    }
    return "";
  }), "");
}

// ---- compile -----------------------------------------------------------------------

TEST(Device, CompiledFunctionsRunOnTheDefaultDevice) {
  auto f = compile([](const array& a) { return exp(a) + 1.0f; });
  array x({0.0f, 1.0f});
  reset_jit_stats();
  array r1 = f(x);
  {
    StreamContext ctx(new_stream(Device::cpu));  // same device: same trace
    array r2 = f(x);
    EXPECT_TRUE(same_values(r1, r2));
  }
  EXPECT_EQ(jit_stats().traces, 1u);
  EXPECT_EQ(jit_stats().trace_cache_hits, 1u);
}

// ---- the gpu (OpenCL; PoCL on a CPU) -------------------------------------------------

TEST(DeviceGpu, OpsOnTheGpuMatchTheCpu) {
  REQUIRE_OPENCL();
  array x = reshape(arange(1.0, 13.0), {3, 4});
  array y = reshape(arange(12.0, 0.0, -1.0), {4, 3});
  auto work = [&](StreamOrDevice s) {
    return std::vector<array>{exp(x, s), add(x, transpose(y), s), sum(x, 1, false, s), softmax(x, -1, false, s),
                              matmul(x, y, s), arange(0, 10, 3, s), where(less(x, array(5.0f)), x, -x, s)};
  };
  auto cpu = work(Device::cpu);
  auto gpu = work(Device::gpu);
  for (size_t k = 0; k < cpu.size(); ++k) {
    SCOPED_TRACE(k);
    if (!gpu[k].is_evaluated()) {
      EXPECT_EQ(gpu[k].node()->stream.device, Device(Device::gpu));
    }
    EXPECT_TRUE(allclose(gpu[k], cpu[k], 1e-5, 1e-5).item<bool>());
  }
}

TEST(DeviceGpu, MixedDeviceGraph) {
  REQUIRE_OPENCL();
  array x({1.0f, 2.0f, 3.0f});
  array a = exp(x, Device::cpu);
  array b = multiply(a, array(2.0f), Device::gpu);  // a cpu value read on the gpu
  array c = add(b, a, Device::cpu);                 // and back
  array d = sqrt(c, Device::gpu);
  std::vector<double> got = kiln_test::values(d);
  for (int k = 0; k < 3; ++k) EXPECT_NEAR(got[k], std::sqrt(3 * std::exp(double(k + 1))), 1e-4);
}

TEST(DeviceGpu, DefaultDeviceAndCompile) {
  REQUIRE_OPENCL();
  auto f = compile([](const array& a) { return tanh(a) * 2.0f; });
  array x({0.5f, -1.0f, 2.0f});
  array on_cpu = f(x);
  {
    StreamContext ctx(Device::gpu);
    EXPECT_EQ(default_device(), Device(Device::gpu));
    array on_gpu = f(x);  // the gpu's own trace and executable
    EXPECT_TRUE(allclose(on_gpu, on_cpu, 1e-5, 1e-5).item<bool>());
    EXPECT_EQ(exp(x).node()->stream.device, Device(Device::gpu));
  }
  EXPECT_EQ(default_device(), Device(Device::cpu));
  set_default_device(Device::gpu);
  EXPECT_TRUE(allclose(exp(x), exp(x, Device::cpu), 1e-5, 1e-5).item<bool>());
  set_default_device(Device::cpu);
}

// With the gpu as the default device, GELU, softmax, sums, matmul,
// compile, grad and vmap run on the OpenCL backend and match the cpu.
TEST(DeviceGpu, TransformsRunOnTheGpu) {
  REQUIRE_OPENCL();
  array x = reshape(sin(arange(0.0, 96.0) * 0.37), {8, 12});
  array w = reshape(cos(arange(0.0, 60.0) * 0.11), {12, 5});
  eval(x, w);
  auto gelu = [](const array& a) { return 0.5f * a * (1.0f + tanh(0.7978845608f * (a + 0.044715f * a * a * a))); };
  auto loss = [&](const array& v) { return sum(softmax(matmul(x, v), -1) * gelu(matmul(x, v))); };
  auto row_stat = [](const array& r) { return logsumexp(r, 0) - mean(r); };
  auto all = [&] {
    return std::vector<array>{gelu(x), softmax(x, -1), sum(x, 0), matmul(x, w), compile(gelu)(x),
                              grad(std::function<array(const array&)>(loss))(w), vmap(row_stat)(x)};
  };
  std::vector<array> cpu = all();
  eval(cpu);
  codegen::reset_opencl_stats();
  std::vector<array> gpu;
  {
    StreamContext on(Device::gpu);
    gpu = all();
    eval(gpu);
  }
  codegen::OpenclStats st = codegen::opencl_stats();
  EXPECT_GT(st.programs_built + st.binaries_loaded + st.kernel_cache_hits, 0u) << "kernels ran on OpenCL";
  EXPECT_GT(st.matmuls, 0u) << "matmul ran on CLBlast";
  for (size_t k = 0; k < cpu.size(); ++k) {
    SCOPED_TRACE(k);
    EXPECT_EQ(gpu[k].shape(), cpu[k].shape());
    EXPECT_TRUE(allclose(gpu[k], cpu[k], 1e-5, 1e-5).item<bool>());
  }
}

// ---- flushing subnormal results ----------------------------------------------------

namespace {

// x * x for x = 1e-20 in float32: 1e-40, a subnormal (IEEE), or 0 (flushed).
// A million elements, so that the pool's worker threads compute chunks too.
std::vector<float> square_of_tiny(const std::function<array(const array&)>& f) {
  std::vector<float> data(1 << 20, 1e-20f);
  array x(data.data(), Shape{int(data.size())});
  array y = f(x);
  eval(y);
  const float* p = y.data<float>();
  return std::vector<float>(p, p + y.size());
}

int count_nonzero(const std::vector<float>& v) {
  int n = 0;
  for (float e : v) n += e != 0.0f;
  return n;
}

struct RestoreFlush {
  bool saved = flush_denormal();
  ~RestoreFlush() { set_flush_denormal(saved); }
};

}  // namespace

TEST(FlushDenormal, OffByDefaultSubnormalResultsAreKept) {
  ASSERT_FALSE(flush_denormal());
  std::vector<float> y = square_of_tiny([](const array& x) { return x * x; });
  float expected = 1e-20f * 1e-20f;  // this thread's mode: IEEE
  ASSERT_NE(expected, 0.0f);
  for (float e : y) ASSERT_EQ(e, expected);
}

TEST(FlushDenormal, OnEveryThreadFlushesAndTheCallersModeIsRestored) {
  RestoreFlush restore;
  if (!set_flush_denormal(true)) GTEST_SKIP() << "this CPU cannot flush";
  EXPECT_TRUE(flush_denormal());
  uint64_t before = runtime::float_control();
  auto square = [](const array& x) { return x * x; };
  auto compiled = compile([&](const std::vector<array>& a) { return std::vector<array>{square(a[0])}; });
  EXPECT_EQ(count_nonzero(square_of_tiny(square)), 0);  // eager
  EXPECT_EQ(count_nonzero(square_of_tiny([&](const array& x) { return compiled({x})[0]; })), 0);
  EXPECT_EQ(runtime::float_control(), before);
  volatile float tiny = 1e-20f;
  EXPECT_NE(tiny * tiny, 0.0f) << "the caller's own arithmetic is not flushed";

  // Off again: the pool's workers follow (they keep no mode of their own).
  set_flush_denormal(false);
  EXPECT_EQ(count_nonzero(square_of_tiny(square)), 1 << 20);
  EXPECT_EQ(count_nonzero(square_of_tiny([&](const array& x) { return compiled({x})[0]; })), 1 << 20);
}

TEST(FlushDenormal, KilnFlushDenormalVariable) {
  auto initial_with = [](const char* value) {
    return kiln_test::in_child([&]() -> std::string {
      setenv("KILN_FLUSH_DENORMAL", value, 1);
      return runtime::flush_denormal_from_environment() ? "on" : "off";
    });
  };
  EXPECT_EQ(initial_with("1"), "on");
  EXPECT_EQ(initial_with("0"), "off");
  EXPECT_EQ(initial_with("yes"), "off");  // with a warning
}
