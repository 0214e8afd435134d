// compile(): a per-signature cache of traced and simplified functions,
// bounded: each compiled function keeps its trace_cache_limit() most
// recently used signatures (a function called with ever new shapes would
// otherwise keep a trace and an executable for each one forever).
#include <atomic>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <tuple>

#include "codegen/backends.h"
#include "codegen/executor.h"
#include "codegen/llvm/jit.h"
#include "frontend/random.h"
#include "frontend/shapeless.h"
#include "frontend/stream.h"
#include "frontend/transforms.h"
#include "ir/printer.h"
#include "passes/pass_manager.h"
#include "runtime/dump.h"
#include "runtime/env.h"
#include "runtime/lru_cache.h"

namespace kiln {

namespace {

std::atomic<uint64_t> g_traces{0};
std::atomic<uint64_t> g_trace_hits{0};
std::atomic<uint64_t> g_trace_evictions{0};
std::atomic<uint64_t> g_specializations{0};
// A CompileMode, or -1: not read from the environment yet.
std::atomic<int> g_compile_mode{-1};
std::atomic<int64_t> g_trace_limit{-1};  // -1: not read from the environment yet

// Signatures kept per compiled function: a model called with a few dozen
// batch shapes keeps them all; one called with a new shape every time
// (variable-length inputs) stays within a few MB.
constexpr int64_t kDefaultTraceCacheLimit = 64;
constexpr int64_t kMaxTraceCacheLimit = int64_t(1) << 20;

// The trace cache key: each input's dtype and shape, the device that runs
// the call (the default device then), whose backend the executable was
// built for, and the compile mode the trace was simplified under.
struct Signature {
  std::vector<std::pair<int, Shape>> inputs;
  int device_type = 0;
  int device_index = 0;
  int mode = 0;
  bool operator<(const Signature& o) const {
    return std::tie(inputs, device_type, device_index, mode) <
           std::tie(o.inputs, o.device_type, o.device_index, o.mode);
  }
};

Signature signature_of(const std::vector<array>& args, const Device& d, CompileMode mode) {
  Signature s;
  for (const auto& a : args) s.inputs.push_back({int(a.dtype().val), a.shape()});
  s.device_type = int(d.type);
  s.device_index = d.index;
  s.mode = int(mode);
  return s;
}

// A shapeless function's key for its one trace: ranks instead of shapes.
Signature without_shapes(Signature s) {
  for (auto& in : s.inputs) in.second.assign(in.second.size(), -1);
  return s;
}

// What compile() (and precompile()) run over a trace before planning it;
// CompileMode::no_simplify skips the simplification passes.
ir::Function simplified_trace(ir::Function traced, CompileMode mode = CompileMode::enabled) {
  if (mode == CompileMode::no_simplify) {
    if (runtime::dump_enabled("ir")) runtime::dump("ir", "compiled", ir::print(traced));
    return traced;
  }
  if (runtime::dump_enabled("ir")) runtime::dump("ir", "compiled", ir::print(traced));
  std::ostringstream after_each;
  traced = passes::simplify(std::move(traced), runtime::dump_enabled("passes") ? &after_each : nullptr);
  if (runtime::dump_enabled("passes")) runtime::dump("passes", "compiled", after_each.str());
  return traced;
}

// The random key a trace takes as its extra input (random::detail::TracedKeys).
const ir::Type kKeyType{uint32, Shape{2}};

// f without its input `index`, which nothing reads: later values move down
// by one (and so do the value ids in `generic_reshapes`).
ir::Function without_input(ir::Function f, int index, std::vector<int>* generic_reshapes) {
  auto moved = [index](int v) {
    if (v == index) throw std::logic_error("[compile] dropping an input that is read");
    return v > index ? v - 1 : v;
  };
  f.inputs.erase(f.inputs.begin() + index);
  for (auto& op : f.ops)
    for (int& v : op.operands) v = moved(v);
  for (int& v : f.outputs) v = moved(v);
  if (generic_reshapes)
    for (int& v : *generic_reshapes) v = moved(v);
  return f;
}

// detail::trace of fun with one more input after the declared ones: the
// key that the global random sequence hands out keys from while fun runs
// (so a dropout mask is drawn afresh on each call, not baked in at trace
// time). The input is dropped again when fun drew no key; *random says
// whether it stayed. Values of an enclosing trace that fun captured come
// after it, as detail::trace appends them.
ir::Function trace_with_key(const ArrayFunction& fun, std::vector<ir::Type> types, bool* random,
                            std::vector<array>* captured = nullptr, detail::ShapeFacts* facts = nullptr) {
  int key_input = int(types.size());
  types.push_back(kKeyType);
  bool drew = false;
  ir::Function f = detail::trace(
      [&](const std::vector<array>& in) {
        random::detail::TracedKeys keys(in.back());
        std::vector<array> out = fun({in.begin(), in.end() - 1});
        drew = keys.used();
        return out;
      },
      types, captured, facts);
  *random = drew;
  return drew ? std::move(f) : without_input(std::move(f), key_input, facts ? &facts->generic_reshapes : nullptr);
}

// The arguments of a call with the trace's key input (a fresh key of the
// global sequence) after the declared ones, when the trace has it.
std::vector<array> with_key(const std::vector<array>& args, bool random) {
  if (!random) return args;
  std::vector<array> all = args;
  all.push_back(random::KeySequence::default_().next());
  return all;
}

// One traced signature: the simplified function and, built on first use,
// its executable (fusion plan and compiled kernels).
struct Trace {
  ir::Function f;
  bool random = false;  // f takes a random key after the declared inputs
  std::once_flag built;
  std::unique_ptr<codegen::Executable> exe;
};

// A shapeless function's one trace (per ranks, dtypes, device and mode):
// as traced, before simplification, which the shapes of later calls are
// specialized from (frontend/shapeless.h).
struct GenericTrace {
  ir::Function raw;
  detail::ShapeFacts facts;
  bool random = false;  // raw takes a random key after the declared inputs
  // The trace baked its shapes into constants (facts.shape_baked): each
  // shape is traced on its own instead.
  bool per_shape = false;
};

struct CompiledFunction {
  ArrayFunction fun;
  bool shapeless = false;
  std::mutex mutex;
  runtime::LruCache<Signature, std::shared_ptr<Trace>> traces;
  runtime::LruCache<Signature, std::shared_ptr<GenericTrace>> generic;  // shapeless only

  // The trace for `sig`, made from the shapeless function's generic trace
  // (traced now if there is none yet); null when the function must be
  // traced per shape after all (it baked a shape into a constant, or it
  // read values of an enclosing trace).
  std::shared_ptr<Trace> specialized(const std::vector<array>& args, const Signature& sig, CompileMode mode) {
    Signature key = without_shapes(sig);
    std::shared_ptr<GenericTrace> g;
    {
      std::lock_guard<std::mutex> lock(mutex);
      if (auto* found = generic.find(key)) g = *found;
    }
    if (g && g->per_shape) return nullptr;
    if (!g) {
      std::vector<array> captured;
      auto fresh = std::make_shared<GenericTrace>();
      fresh->raw = trace_with_key(fun, detail::types_of(args), &fresh->random, &captured, &fresh->facts);
      g_traces++;
      // (Captures happen only inside another trace, which calls take
      // elsewhere: see operator().)
      if (!captured.empty()) throw std::logic_error("[compile] a shapeless trace captured values");
      fresh->per_shape = !fresh->facts.shape_baked.empty();
      std::lock_guard<std::mutex> lock(mutex);
      g = generic.insert(key, fresh);
      g_trace_evictions += generic.trim(trace_cache_limit()).size();
    }
    // Specialized outside the lock; the shapes of the trace itself need
    // none.
    auto t = std::make_shared<Trace>();
    std::vector<ir::Type> types = detail::types_of(args);
    if (g->random) types.push_back(kKeyType);
    t->random = g->random;
    bool same = types == g->raw.inputs;
    t->f = simplified_trace(same ? g->raw : detail::specialize_shapes(g->raw, g->facts, types), mode);
    if (!same) g_specializations++;
    std::vector<std::shared_ptr<Trace>> dropped;
    std::lock_guard<std::mutex> lock(mutex);
    t = traces.insert(sig, t);
    dropped = traces.trim(trace_cache_limit());
    g_trace_evictions += dropped.size();
    return t;
  }

  std::vector<array> operator()(const std::vector<array>& args) {
    CompileMode mode = compile_mode();
    if (mode == CompileMode::disabled) return fun(args);
    Device device = to_stream({}).device;
    Signature sig = signature_of(args, device, mode);
    std::shared_ptr<Trace> t;
    // Inside another transformation, fun may capture that trace's values:
    // trace afresh (a cached trace would have baked them in as constants).
    if (detail::tracing()) {
      std::vector<array> captured;
      ir::Function traced = detail::trace(fun, detail::types_of(args), &captured);
      std::vector<array> all = args;
      all.insert(all.end(), captured.begin(), captured.end());
      return detail::inline_function(traced, all);
    }
    {
      std::lock_guard<std::mutex> lock(mutex);
      if (auto* found = traces.find(sig)) t = *found;
    }
    if (t) {
      g_trace_hits++;
    } else if (shapeless && (t = specialized(args, sig, mode))) {
      // One trace of fun serves this shape too.
    } else {
      // Traced outside the lock: fun may itself call compiled functions.
      std::vector<array> captured;
      bool random = false;
      ir::Function traced = trace_with_key(fun, detail::types_of(args), &random, &captured);
      g_traces++;
      traced = simplified_trace(std::move(traced), mode);
      if (!captured.empty()) {
        // It read values of an enclosing trace: valid for this call only.
        std::vector<array> all = with_key(args, random);
        all.insert(all.end(), captured.begin(), captured.end());
        return detail::inline_function(traced, all);
      }
      t = std::make_shared<Trace>();
      t->f = std::move(traced);
      t->random = random;
      // Dropped traces are destroyed after the lock is released; a call
      // running one still holds it (t), so it finishes unharmed.
      std::vector<std::shared_ptr<Trace>> dropped;
      std::lock_guard<std::mutex> lock(mutex);
      t = traces.insert(sig, t);
      dropped = traces.trim(trace_cache_limit());
      g_trace_evictions += dropped.size();
    }
    // Inside another transformation the call is recorded lazily, so that
    // transformation sees (and can differentiate or batch) its ops.
    // (KILN_EXECUTOR=interp also takes this path, to the interpreter.)
    std::vector<array> call_args = with_key(args, t->random);
    if (detail::use_interpreter()) return detail::inline_function(t->f, call_args);
    for (const auto& a : args)
      if (detail::depends_on_placeholder(a)) return detail::inline_function(t->f, call_args);
    // Otherwise it runs now on the cached executable: no re-planning, no
    // kernel lookups, just launches.
    std::call_once(t->built,
                   [&] {
                     t->exe = std::make_unique<codegen::Executable>(t->f, codegen::backend_for(device),
                                                                    mode != CompileMode::no_fuse);
                   });
    std::vector<ir::Tensor> inputs;
    for (auto a : call_args) {
      a.eval();
      inputs.push_back({a.node()->type, a.node()->buffer});
    }
    std::vector<ir::Tensor> results = t->exe->run(inputs);
    std::vector<array> outs;
    for (auto& r : results) outs.push_back(detail::make_materialized(r.type, r.buffer));
    return outs;
  }
};

}  // namespace

ArrayFunction compile(ArrayFunction fun, bool shapeless) {
  auto compiled = std::make_shared<CompiledFunction>();
  compiled->fun = std::move(fun);
  compiled->shapeless = shapeless;
  return [compiled](const std::vector<array>& args) { return (*compiled)(args); };
}

ArrayFunction compile(std::vector<array> (*fun)(const std::vector<array>&), bool shapeless) {
  if (!fun) throw std::invalid_argument("[compile] Cannot compile a null function pointer.");
  return compile(ArrayFunction(fun), shapeless);
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

void precompile(const ArrayFunction& fun, const std::vector<array>& example_inputs) {
  if (detail::tracing())
    throw std::invalid_argument("[precompile] cannot precompile inside a transformation (compile, grad, vmap)");
  // Planning an executable compiles (or loads) every kernel it launches.
  bool random = false;
  codegen::Executable exe(simplified_trace(trace_with_key(fun, detail::types_of(example_inputs), &random),
                                           compile_mode()),
                          codegen::backend_for(to_stream({}).device));
}

void set_compile_mode(CompileMode mode) { g_compile_mode = int(mode); }
CompileMode compile_mode() {
  int v = g_compile_mode.load();
  if (v < 0) {
    v = int(runtime::env_choice("KILN_DISABLE_COMPILE", "0", {"0", "1"}) == "1" ? CompileMode::disabled
                                                                                : CompileMode::enabled);
    g_compile_mode = v;
  }
  return CompileMode(v);
}
void disable_compile() { set_compile_mode(CompileMode::disabled); }
void enable_compile() { set_compile_mode(CompileMode::enabled); }
bool compile_enabled() { return compile_mode() != CompileMode::disabled; }

size_t trace_cache_limit() {
  int64_t v = g_trace_limit.load();
  if (v < 0) {
    v = runtime::env_int("KILN_TRACE_CACHE_LIMIT", kDefaultTraceCacheLimit, 1, kMaxTraceCacheLimit);
    g_trace_limit = v;
  }
  return size_t(v);
}
void set_trace_cache_limit(size_t traces) {
  if (traces < 1 || traces > size_t(kMaxTraceCacheLimit))
    throw std::invalid_argument("[set_trace_cache_limit] expected 1 to " + std::to_string(kMaxTraceCacheLimit) +
                                " traces, got " + std::to_string(traces));
  g_trace_limit = int64_t(traces);
}

size_t kernel_cache_limit() { return codegen::kernel_cache_limit(); }
void set_kernel_cache_limit(size_t kernels) { codegen::set_kernel_cache_limit(kernels); }

JitStats jit_stats() {
  auto k = codegen::kernel_cache_stats();
  JitStats s;
  s.traces = g_traces.load();
  s.trace_cache_hits = g_trace_hits.load();
  s.shapeless_specializations = g_specializations.load();
  s.kernels_compiled = k.kernels_compiled;
  s.kernel_cache_hits = k.kernel_cache_hits;
  s.compile_ms = k.compile_ms;
  s.disk_cache_hits = k.disk_hits;
  s.disk_cache_rejected = k.disk_rejected;
  s.disk_cache_writes = k.disk_writes;
  s.buffers_donated = codegen::buffers_donated();
  s.operands_computed_in_blocks = runtime::operands_computed_in_blocks();
  s.trace_cache_evictions = g_trace_evictions.load();
  s.kernel_cache_evictions = k.evictions;
  s.kernels_in_memory = k.kernels_in_memory;
  return s;
}
std::string kernel_cache_directory() { return codegen::disk_cache_directory(); }

void reset_jit_stats() {
  g_traces = 0;
  g_trace_hits = 0;
  g_specializations = 0;
  g_trace_evictions = 0;
  codegen::reset_kernel_cache_stats();
  codegen::reset_buffers_donated();
  runtime::reset_operands_computed_in_blocks();
}

}  // namespace kiln
