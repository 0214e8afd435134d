// compile(): a per-signature cache of traced and simplified functions.
#include <atomic>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>

#include "frontend/transforms.h"
#include "passes/pass_manager.h"

namespace kiln {

namespace {

std::atomic<uint64_t> g_traces{0};
std::atomic<uint64_t> g_trace_hits{0};
std::atomic<int> g_compile_enabled{-1};  // -1: not read from the environment yet

// The trace cache key: each input's dtype and shape.
using Signature = std::vector<std::pair<int, Shape>>;

Signature signature_of(const std::vector<array>& args) {
  Signature s;
  for (const auto& a : args) s.push_back({int(a.dtype().val), a.shape()});
  return s;
}

struct CompiledFunction {
  ArrayFunction fun;
  std::mutex mutex;
  std::map<Signature, std::shared_ptr<const ir::Function>> traces;

  std::vector<array> operator()(const std::vector<array>& args) {
    if (!compile_enabled()) return fun(args);
    Signature sig = signature_of(args);
    std::shared_ptr<const ir::Function> f;
    {
      std::lock_guard<std::mutex> lock(mutex);
      auto it = traces.find(sig);
      if (it != traces.end()) f = it->second;
    }
    if (f) {
      g_trace_hits++;
    } else {
      // Traced outside the lock: fun may itself call compiled functions.
      passes::PassManager pm;
      pm.add_pipeline("canonicalize,cse,dce");
      f = std::make_shared<const ir::Function>(pm.run(detail::trace(fun, detail::types_of(args))));
      g_traces++;
      std::lock_guard<std::mutex> lock(mutex);
      traces.emplace(sig, f);
    }
    return detail::inline_function(*f, args);
  }
};

}  // namespace

ArrayFunction compile(ArrayFunction fun, bool /*shapeless*/) {
  auto compiled = std::make_shared<CompiledFunction>();
  compiled->fun = std::move(fun);
  return [compiled](const std::vector<array>& args) { return (*compiled)(args); };
}

std::function<array(const array&)> compile(std::function<array(const array&)> fun, bool shapeless) {
  auto f = compile(ArrayFunction([fun](const std::vector<array>& xs) {
                     return std::vector<array>{fun(xs.at(0))};
                   }),
                   shapeless);
  return [f](const array& x) { return f({x})[0]; };
}

std::function<array(const array&, const array&)> compile(
    std::function<array(const array&, const array&)> fun, bool shapeless) {
  auto f = compile(ArrayFunction([fun](const std::vector<array>& xs) {
                     return std::vector<array>{fun(xs.at(0), xs.at(1))};
                   }),
                   shapeless);
  return [f](const array& x, const array& y) { return f({x, y})[0]; };
}

void disable_compile() { g_compile_enabled = 0; }
void enable_compile() { g_compile_enabled = 1; }
bool compile_enabled() {
  int v = g_compile_enabled.load();
  if (v < 0) {
    const char* env = std::getenv("KILN_DISABLE_COMPILE");
    v = env && *env && std::string(env) != "0" ? 0 : 1;
    g_compile_enabled = v;
  }
  return v == 1;
}

JitStats jit_stats() { return {g_traces.load(), g_trace_hits.load()}; }
void reset_jit_stats() {
  g_traces = 0;
  g_trace_hits = 0;
}

}  // namespace kiln
