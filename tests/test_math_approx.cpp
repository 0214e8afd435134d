// Accuracy of the transcendental approximations of codegen/llvm/math.cpp.
//
// Each function is emitted into a small LLVM module twice: a scalar loop
// and a loop over <8 x T> chunks (so the vector types are exercised), both
// JIT-compiled with ORC LLJIT for the host. The results are compared with
// the C library's long double functions (64-bit significand: more than
// 10 bits beyond double) on (a) dense sweeps of each function's domain,
// both uniform in value and uniform in bit pattern (which covers every
// binade, subnormals included), (b) special values and (c) random bit
// patterns from a fixed seed. The maximal error in ulp of the result type
// must stay within the budget documented next to each function in
// math.cpp; the measured maxima are printed.
#include <gtest/gtest.h>

#include <llvm/ExecutionEngine/Orc/ExecutionUtils.h>
#include <llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h>
#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/ExecutionEngine/Orc/ThreadSafeModule.h>
#include <llvm/IR/DerivedTypes.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "codegen/llvm/math.h"
#include "passes/kernel_schedule.h"

namespace {

using kiln::ir::OpKind;
using LD = long double;

constexpr unsigned kLanes = 8;

// ------------------------------------------------------------ the JIT --

void build_loop(llvm::Module& mod, const std::string& name, OpKind op, llvm::Type* elt, unsigned lanes,
                bool binary) {
  llvm::LLVMContext& ctx = mod.getContext();
  llvm::Type* ptr = llvm::PointerType::get(ctx, 0);
  llvm::Type* i64 = llvm::Type::getInt64Ty(ctx);
  std::vector<llvm::Type*> params = binary ? std::vector<llvm::Type*>{ptr, ptr, ptr, i64}
                                           : std::vector<llvm::Type*>{ptr, ptr, i64};
  auto* fty = llvm::FunctionType::get(llvm::Type::getVoidTy(ctx), params, false);
  auto* fn = llvm::Function::Create(fty, llvm::Function::ExternalLinkage, name, mod);
  auto* entry = llvm::BasicBlock::Create(ctx, "entry", fn);
  auto* loop = llvm::BasicBlock::Create(ctx, "loop", fn);
  auto* done = llvm::BasicBlock::Create(ctx, "done", fn);
  llvm::IRBuilder<> b(entry);
  llvm::Value* n = fn->getArg(binary ? 3 : 2);
  llvm::Value* out = fn->getArg(binary ? 2 : 1);
  b.CreateCondBr(b.CreateICmpSGT(n, b.getInt64(0)), loop, done);
  b.SetInsertPoint(loop);
  llvm::PHINode* i = b.CreatePHI(i64, 2);
  i->addIncoming(b.getInt64(0), entry);
  llvm::Type* vty = lanes ? static_cast<llvm::Type*>(llvm::FixedVectorType::get(elt, lanes)) : elt;
  llvm::Align align(elt->getPrimitiveSizeInBits() / 8);  // std::vector data: element alignment only
  auto load = [&](llvm::Value* p) { return b.CreateAlignedLoad(vty, b.CreateGEP(elt, p, i), align); };
  llvm::Value* y = binary ? kiln::codegen::emit_binary_math(op, b, load(fn->getArg(0)), load(fn->getArg(1)))
                          : kiln::codegen::emit_unary_math(op, b, load(fn->getArg(0)));
  if (!y) {
    // No approximation: the test reports it; keep the module valid.
    y = llvm::Constant::getNullValue(vty);
  }
  b.CreateAlignedStore(y, b.CreateGEP(elt, out, i), align);
  llvm::Value* next = b.CreateAdd(i, b.getInt64(lanes ? lanes : 1));
  i->addIncoming(next, loop);
  b.CreateCondBr(b.CreateICmpSLT(next, n), loop, done);
  b.SetInsertPoint(done);
  b.CreateRetVoid();
}

struct OpSpec {
  OpKind op;
  const char* name;
  bool binary;
};

const std::vector<OpSpec>& all_ops() {
  static const std::vector<OpSpec> ops = {
      {OpKind::Exp, "exp", false},       {OpKind::Expm1, "expm1", false},     {OpKind::Log, "log", false},
      {OpKind::Log1p, "log1p", false},   {OpKind::Log2, "log2", false},       {OpKind::Log10, "log10", false},
      {OpKind::Tanh, "tanh", false},     {OpKind::Sigmoid, "sigmoid", false}, {OpKind::Erf, "erf", false},
      {OpKind::Erfinv, "erfinv", false}, {OpKind::Sin, "sin", false},         {OpKind::Cos, "cos", false},
      {OpKind::Tan, "tan", false},       {OpKind::Arctan, "arctan", false},   {OpKind::Power, "power", true},
      {OpKind::Arctan2, "arctan2", true}, {OpKind::LogAddExp, "logaddexp", true},
  };
  return ops;
}

using Unary = void (*)(const void*, void*, int64_t);
using Binary = void (*)(const void*, const void*, void*, int64_t);

// One JIT holding every op x {float, double} x {scalar, <8 x T>} loop.
class MathJit {
 public:
  explicit MathJit(bool no_fma) {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    auto jtmb = llvm::orc::JITTargetMachineBuilder::detectHost();
    if (!jtmb) fail(jtmb.takeError());
    if (no_fma) jtmb->getFeatures().AddFeature("fma", false);
    auto jit = llvm::orc::LLJITBuilder().setJITTargetMachineBuilder(std::move(*jtmb)).create();
    if (!jit) fail(jit.takeError());
    jit_ = std::move(*jit);
    auto gen = llvm::orc::DynamicLibrarySearchGenerator::GetForCurrentProcess(
        jit_->getDataLayout().getGlobalPrefix());
    if (!gen) fail(gen.takeError());
    jit_->getMainJITDylib().addGenerator(std::move(*gen));

    auto ctx = std::make_unique<llvm::LLVMContext>();
    auto mod = std::make_unique<llvm::Module>("math_approx", *ctx);
    mod->setDataLayout(jit_->getDataLayout());
    for (const OpSpec& s : all_ops()) {
      for (int dbl = 0; dbl < 2; ++dbl) {
        llvm::Type* elt = dbl ? llvm::Type::getDoubleTy(*ctx) : llvm::Type::getFloatTy(*ctx);
        for (unsigned lanes : {0u, kLanes}) {
          build_loop(*mod, fname(s.name, dbl, lanes), s.op, elt, lanes, s.binary);
        }
        // Whether the op has an approximation at all for this type.
        auto* f = mod->getFunction(fname(s.name, dbl, 0));
        bool has = false;
        for (auto& bb : *f)
          for (auto& inst : bb)
            if (llvm::isa<llvm::StoreInst>(inst) && !llvm::isa<llvm::Constant>(inst.getOperand(0))) has = true;
        supported_[fname(s.name, dbl, 0)] = has;
      }
    }
    std::string err;
    llvm::raw_string_ostream es(err);
    if (llvm::verifyModule(*mod, &es)) {
      ADD_FAILURE() << "invalid module: " << es.str();
      return;
    }
    if (auto e = jit_->addIRModule(llvm::orc::ThreadSafeModule(std::move(mod), std::move(ctx)))) fail(std::move(e));
  }

  static std::string fname(const std::string& op, bool dbl, unsigned lanes) {
    return op + (dbl ? "_f64" : "_f32") + (lanes ? "_v" : "_s");
  }
  bool supported(const std::string& op, bool dbl) { return supported_[fname(op, dbl, 0)]; }
  void* lookup(const std::string& name) {
    auto sym = jit_->lookup(name);
    if (!sym) fail(sym.takeError());
    return sym->toPtr<void*>();
  }

 private:
  [[noreturn]] static void fail(llvm::Error e) {
    std::string s = llvm::toString(std::move(e));
    fprintf(stderr, "JIT error: %s\n", s.c_str());
    std::abort();
  }
  std::unique_ptr<llvm::orc::LLJIT> jit_;
  std::map<std::string, bool> supported_;
};

// The JIT the checks run on: the host's, or (MathApprox.WithoutFma) the
// host's without FMA, where llvm.fmuladd is not fused.
MathJit* g_jit = nullptr;
MathJit& jit() {
  static MathJit host(false);
  return g_jit ? *g_jit : host;
}

// ------------------------------------------------------ measurement --

template <typename T>
constexpr int digits() {
  return std::numeric_limits<T>::digits;
}

// ulp of the exact value v in the format T (the spacing of T in v's binade;
// at least the smallest subnormal).
template <typename T>
LD ulp_of(LD v) {
  v = std::fabs(v);
  LD tiny = std::numeric_limits<T>::denorm_min();
  if (v == 0 || !std::isfinite(v)) return tiny;
  int e = 0;
  std::frexp(v, &e);  // v = f 2^e, f in [0.5, 1)
  LD u = std::ldexp(LD(1), e - digits<T>());
  return u < tiny ? tiny : u;
}

constexpr double kBad = 1e30;  // "wrong class of result" (nan/inf/sign mismatch)

// Error in ulp of `got` against the exact `ref`. Special classes must match
// exactly: nan, infinities (a reference beyond T's range must give inf), and
// the sign of zero results. `floor_ulp` > 0 measures in ulp of
// max(|ref|, floor_ulp) instead (absolute error near zeros of the function).
template <typename T>
double ulp_err(T got, LD ref, LD floor_ulp = 0) {
  if (std::isnan(ref)) return std::isnan(got) ? 0 : kBad;
  if (std::isnan(got)) return kBad;
  LD maxv = std::numeric_limits<T>::max();
  if (std::fabs(ref) > maxv) {
    // Rounds to inf when beyond max + half an ulp; either is fine in between.
    LD lim = maxv + ulp_of<T>(maxv) / 2;
    if (std::fabs(ref) >= lim) return (std::isinf(got) && std::signbit(got) == std::signbit(ref)) ? 0 : kBad;
    if (std::isinf(got)) return 0.5;
  }
  if (std::isinf(got)) return kBad;
  if (ref == 0 && got == 0 && std::signbit(got) != std::signbit(ref)) return kBad;
  LD scale = std::fabs(ref) < floor_ulp ? floor_ulp : ref;
  return static_cast<double>(std::fabs(LD(got) - ref) / ulp_of<T>(scale));
}

template <typename T>
struct Stats {
  double max_ulp = 0;
  T worst_x = 0, worst_y = 0;
  T worst_got = 0;
  LD worst_ref = 0;
  size_t n = 0;
  void add(double e, T x, T y, T got, LD ref) {
    ++n;
    if (e > max_ulp || std::isnan(e)) {
      max_ulp = e;
      worst_x = x;
      worst_y = y;
      worst_got = got;
      worst_ref = ref;
    }
  }
};

// Monotonic integer key of a float's bit pattern (negative floats below
// positive ones), and back.
template <typename T>
using Bits = std::conditional_t<sizeof(T) == 4, int32_t, int64_t>;

template <typename T>
Bits<T> key_of(T x) {
  Bits<T> i;
  std::memcpy(&i, &x, sizeof i);
  return i >= 0 ? i : std::numeric_limits<Bits<T>>::min() - i;
}
template <typename T>
T from_key(Bits<T> k) {
  Bits<T> i = k >= 0 ? k : std::numeric_limits<Bits<T>>::min() - k;
  T x;
  std::memcpy(&x, &i, sizeof x);
  return x;
}

// count values of [lo, hi] evenly spaced in bit pattern (every binade),
// plus count evenly spaced in value.
template <typename T>
void sweep(std::vector<T>& v, T lo, T hi, size_t count) {
  long double klo = key_of(lo), khi = key_of(hi);
  for (size_t i = 0; i <= count; ++i) {
    long double k = klo + (khi - klo) * static_cast<long double>(i) / static_cast<long double>(count);
    v.push_back(from_key<T>(static_cast<Bits<T>>(k)));
  }
  for (size_t i = 0; i <= count; ++i) {
    LD x = LD(lo) + (LD(hi) - LD(lo)) * static_cast<LD>(i) / static_cast<LD>(count);
    v.push_back(static_cast<T>(x));
  }
}

template <typename T>
std::vector<T> specials() {
  using L = std::numeric_limits<T>;
  std::vector<T> v = {T(0),        -T(0),         L::infinity(),     -L::infinity(), L::quiet_NaN(),
                      L::denorm_min(), -L::denorm_min(), L::min(),       -L::min(),      L::max(),
                      -L::max(),   T(1),          T(-1),             T(0.5),         T(-0.5),
                      T(2),        T(-2),         L::epsilon(),      -L::epsilon(),  T(1) - L::epsilon() / 2,
                      T(-1) + L::epsilon() / 2, T(1) + L::epsilon(), T(88.72283), T(-87.33655), T(-103.9),
                      T(709.78), T(-708.39), T(-745.1), T(9.0), T(-9.0), T(19.0), T(3.92), T(5.9)};
  T s = L::min() * 3;
  for (int i = 0; i < 6; ++i, s /= 7) v.push_back(s), v.push_back(-s);
  return v;
}

template <typename T>
std::vector<T> random_bits(size_t count, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<T> v(count);
  for (auto& x : v) {
    Bits<T> i = static_cast<Bits<T>>(rng());
    std::memcpy(&x, &i, sizeof x);
  }
  return v;
}

// Runs the scalar and the vector loop of op on xs (and ys) and checks that
// both agree bit for bit (nan: both nan).
template <typename T>
std::vector<T> run(const std::string& op, const std::vector<T>& xs, const std::vector<T>* ys = nullptr) {
  bool dbl = sizeof(T) == 8;
  size_t n = xs.size();
  size_t padded = (n + kLanes - 1) / kLanes * kLanes;
  std::vector<T> x(padded, T(1)), y(padded, T(1)), out_s(padded), out_v(padded);
  std::copy(xs.begin(), xs.end(), x.begin());
  if (ys) std::copy(ys->begin(), ys->end(), y.begin());
  void* fs = jit().lookup(MathJit::fname(op, dbl, 0));
  void* fv = jit().lookup(MathJit::fname(op, dbl, kLanes));
  auto len = static_cast<int64_t>(padded);
  if (ys) {
    reinterpret_cast<Binary>(fs)(x.data(), y.data(), out_s.data(), len);
    reinterpret_cast<Binary>(fv)(x.data(), y.data(), out_v.data(), len);
  } else {
    reinterpret_cast<Unary>(fs)(x.data(), out_s.data(), len);
    reinterpret_cast<Unary>(fv)(x.data(), out_v.data(), len);
  }
  size_t mismatches = 0;
  for (size_t i = 0; i < n; ++i) {
    bool same = std::memcmp(&out_s[i], &out_v[i], sizeof(T)) == 0 || (std::isnan(out_s[i]) && std::isnan(out_v[i]));
    if (!same && mismatches++ < 5)
      ADD_FAILURE() << op << ": scalar and vector loops differ at x=" << double(x[i]) << ": " << double(out_s[i])
                    << " vs " << double(out_v[i]);
  }
  out_s.resize(n);
  return out_s;
}

template <typename T>
void report(const std::string& what, const Stats<T>& s, double budget) {
  printf("  %-10s %-6s max %8.3f ulp (budget %g) over %zu points; worst at x=%.17g y=%.17g: got %.17g want %.21Lg\n",
         what.c_str(), sizeof(T) == 8 ? "double" : "float", s.max_ulp, budget, s.n, double(s.worst_x),
         double(s.worst_y), double(s.worst_got), s.worst_ref);
  EXPECT_LE(s.max_ulp, budget) << what << (sizeof(T) == 8 ? " double" : " float") << " worst x=" << double(s.worst_x)
                               << " y=" << double(s.worst_y) << " got " << double(s.worst_got) << " want "
                               << double(s.worst_ref);
}

using RefU = std::function<LD(LD)>;
using RefB = std::function<LD(LD, LD)>;

struct UnaryCase {
  const char* op;
  RefU ref;
  double budget_f, budget_d;
  // Sweep ranges (bit-pattern and value sweeps of each).
  std::vector<std::pair<double, double>> ranges;
  // Inputs outside [dom_lo, dom_hi] are only checked by `outside` (if set).
  double dom_lo = -std::numeric_limits<double>::infinity(), dom_hi = std::numeric_limits<double>::infinity();
  std::function<bool(LD x, LD got)> outside = nullptr;
};

template <typename T>
void check_unary(const UnaryCase& c, size_t sweep_count) {
  bool dbl = sizeof(T) == 8;
  if (!jit().supported(c.op, dbl)) {
    printf("  %-10s %-6s not approximated (nullptr)\n", c.op, dbl ? "double" : "float");
    return;
  }
  std::vector<T> xs = specials<T>();
  for (auto [lo, hi] : c.ranges) {
    T tlo = static_cast<T>(lo), thi = static_cast<T>(hi);
    if (tlo < 0 && thi > 0) {  // bit sweeps of each sign
      sweep<T>(xs, tlo, -std::numeric_limits<T>::denorm_min(), sweep_count / 2);
      sweep<T>(xs, T(0), thi, sweep_count / 2);
    } else {
      sweep<T>(xs, tlo, thi, sweep_count);
    }
  }
  std::vector<T> rnd = random_bits<T>(1 << 16, 0x6b696c6eULL + (dbl ? 1 : 0));
  xs.insert(xs.end(), rnd.begin(), rnd.end());
  std::vector<T> got = run<T>(c.op, xs);
  Stats<T> st;
  size_t outside_bad = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    LD x = xs[i];
    if (std::isfinite(x) && (x < c.dom_lo || x > c.dom_hi)) {
      if (c.outside && !c.outside(x, got[i]) && outside_bad++ < 5)
        ADD_FAILURE() << c.op << ": outside the accurate range, x=" << double(x) << " gave " << double(got[i]);
      continue;
    }
    st.add(ulp_err<T>(got[i], c.ref(x)), xs[i], 0, got[i], c.ref(x));
  }
  report<T>(c.op, st, dbl ? c.budget_d : c.budget_f);
}

LD sigmoid_ref(LD x) {
  if (x >= 0) return 1 / (1 + std::exp(-x));
  LD e = std::exp(x);
  return e / (1 + e);
}

LD erfinv_ref(LD y) {
  if (std::isnan(y) || y < -1 || y > 1) return std::numeric_limits<LD>::quiet_NaN();
  if (y == 1) return std::numeric_limits<LD>::infinity();
  if (y == -1) return -std::numeric_limits<LD>::infinity();
  if (y == 0) return y;
  LD a = std::fabs(y);
  // Newton on erf (or on erfc near 1, where 1 - a is exact).
  const LD sqrt_pi = std::sqrt(std::acos(LD(-1)));
  LD x = a < 0.5L ? a * sqrt_pi / 2 : std::sqrt(-std::log((1 - a) * (1 + a))) * 0.9L;  // rough start
  for (int it = 0; it < 60; ++it) {
    LD d = 2 / sqrt_pi * std::exp(-x * x);
    LD f = a < 0.5L ? std::erf(x) - a : (1 - a) - std::erfc(x);
    LD nx = x - f / d;
    bool done = std::fabs(nx - x) <= 1e-19L * std::fabs(x);
    x = nx;
    if (done) break;
  }
  return std::copysign(x, y);
}

const std::vector<UnaryCase>& unary_cases() {
  const double big = std::numeric_limits<double>::max();
  const std::vector<std::pair<double, double>> trig_ranges = {
      {-5e7, 5e7}, {-10, 10}, {-1e4, 1e4}, {0x1p25 * 0.99, 0x1p25 * 1.01}, {1e15, 1e16}, {-big, big}};
  static const std::vector<UnaryCase> cases = {
      {"exp", [](LD x) { return std::exp(x); }, 1.5, 1.5, {{-750, 750}, {-1, 1}}},
      {"expm1", [](LD x) { return std::expm1(x); }, 2, 2.5, {{-750, 750}, {-1, 1}}},
      {"log", [](LD x) { return std::log(x); }, 1, 1, {{0, big}, {0.5, 2}, {0.99, 1.01}}},
      {"log1p", [](LD x) { return std::log1p(x); }, 2, 2, {{-1, big}, {-0.5, 1}, {-0.01, 0.01}}},
      {"log2", [](LD x) { return std::log2(x); }, 2.5, 2.5, {{0, big}, {0.5, 2}, {0.99, 1.01}}},
      {"log10", [](LD x) { return std::log10(x); }, 2.5, 2.5, {{0, big}, {0.5, 2}, {0.99, 1.01}}},
      {"tanh", [](LD x) { return std::tanh(x); }, 3, 3, {{-30, 30}, {-2, 2}}},
      {"sigmoid", sigmoid_ref, 3, 3, {{-800, 800}, {-20, 20}}},
      {"erf", [](LD x) { return std::erf(x); }, 2.5, 2.5, {{-7, 7}, {-3, 3}}},
      {"erfinv", erfinv_ref, 1, 5, {{-1, 1}, {0.9, 1}}},
      // Every finite x: the fast path, its edge at 2^25, and huge
      // arguments up to the largest double (the Payne-Hanek path).
      {"sin", [](LD x) { return std::sin(x); }, 1, 1, trig_ranges},
      {"cos", [](LD x) { return std::cos(x); }, 1, 1, trig_ranges},
      {"tan", [](LD x) { return std::tan(x); }, 1, 2.5, trig_ranges},
      {"arctan", [](LD x) { return std::atan(x); }, 2.5, 2.5, {{-big, big}, {-3, 3}}},
  };
  return cases;
}

size_t sweep_count() {
  const char* e = std::getenv("KILN_MATH_SWEEP");
  return e ? static_cast<size_t>(std::atoll(e)) : 100000;
}

LD logaddexp_ref(LD x, LD y) {
  if (std::isnan(x) || std::isnan(y)) return std::numeric_limits<LD>::quiet_NaN();
  if (x == y) return x + std::log(LD(2));
  LD m = x > y ? x : y;
  return m + std::log1p(std::exp(-std::fabs(x - y)));
}

struct BinaryCase {
  const char* op;
  RefB ref;
  double budget_f, budget_d;
  double floor_f, floor_d;  // > 0: error in ulp of max(|result|, floor)
};

// Pairs for the binary functions: every special against every special,
// random pairs from several magnitude ranges, random bit patterns.
template <typename T>
void binary_inputs(const std::string& op, std::vector<T>& xs, std::vector<T>& ys, size_t count) {
  std::vector<T> sp = specials<T>();
  for (T v : {T(3), T(-3), T(0.25), T(1e10), T(-1e10), T(2.5), T(-2.5), T(1) / 3, T(1e-3), T(100),
              -T(0.69314718055994530942L)})
    sp.push_back(v);
  for (T a : sp)
    for (T b : sp) xs.push_back(a), ys.push_back(b);
  std::mt19937_64 rng(0x706f77ULL + sizeof(T));
  auto uni = [&](double lo, double hi) { return static_cast<T>(std::uniform_real_distribution<double>(lo, hi)(rng)); };
  auto anymag = [&](bool positive) {  // uniform in bit pattern over all finite magnitudes
    T v = from_key<T>(static_cast<Bits<T>>(std::uniform_int_distribution<int64_t>(
        1, key_of<T>(std::numeric_limits<T>::max()))(rng)));
    return positive || (rng() & 1) ? v : -v;
  };
  bool dbl = sizeof(T) == 8;
  for (size_t i = 0; i < count; ++i) {
    T x, y;
    if (op == "power") {
      switch (i % 6) {
        case 0: x = anymag(true), y = uni(-4, 4); break;
        case 1: x = uni(0, 4), y = uni(-60, 60); break;
        case 2: x = uni(0.9, 1.1), y = uni(-3000, 3000); break;
        case 3: {  // results near overflow and underflow
          x = uni(1.01, 20);
          double lim = dbl ? 709.7 : 88.7;
          y = static_cast<T>(lim / std::log(double(x)) * uni(-1.05, 1.02));
          break;
        }
        case 4: x = uni(-20, 20), y = static_cast<T>(std::round(double(uni(-30, 30)))); break;
        default: x = anymag(false), y = anymag(false); break;
      }
    } else if (op == "arctan2") {
      if (i % 2) x = anymag(false), y = anymag(false);
      else x = uni(-10, 10), y = uni(-10, 10);
    } else {  // logaddexp
      switch (i % 5) {
        case 0: x = uni(-10, 10), y = uni(-10, 10); break;
        case 1: x = uni(-1000, 1000), y = x + uni(-30, 30); break;
        case 2: {  // near the zero of the result: e^x + e^y = 1, give or take a few ulp
          x = uni(-0.75, -1e-6);
          T z = static_cast<T>(std::log(-std::expm1(double(x))));
          y = from_key<T>(key_of(z) + static_cast<Bits<T>>(int64_t(rng() % 9) - 4));
          break;
        }
        case 3: x = y = uni(-3, 3); break;  // equal arguments (the result x + ln2 cancels at -ln2)
        default: x = anymag(false), y = anymag(false); break;
      }
    }
    xs.push_back(x), ys.push_back(y);
  }
  std::vector<T> r1 = random_bits<T>(1 << 14, 11), r2 = random_bits<T>(1 << 14, 12);
  xs.insert(xs.end(), r1.begin(), r1.end());
  ys.insert(ys.end(), r2.begin(), r2.end());
}

template <typename T>
void check_binary(const BinaryCase& c, size_t count) {
  bool dbl = sizeof(T) == 8;
  if (!jit().supported(c.op, dbl)) {
    printf("  %-10s %-6s not approximated (nullptr)\n", c.op, dbl ? "double" : "float");
    return;
  }
  std::vector<T> xs, ys;
  binary_inputs<T>(c.op, xs, ys, count);
  std::vector<T> got = run<T>(c.op, xs, &ys);
  Stats<T> st;
  for (size_t i = 0; i < xs.size(); ++i) {
    LD ref = c.ref(xs[i], ys[i]);
    st.add(ulp_err<T>(got[i], ref, dbl ? c.floor_d : c.floor_f), xs[i], ys[i], got[i], ref);
  }
  report<T>(c.op, st, dbl ? c.budget_d : c.budget_f);
}

const std::vector<BinaryCase>& binary_cases() {
  static const std::vector<BinaryCase> cases = {
      {"power", [](LD x, LD y) { return std::pow(x, y); }, 1, 2, 0, 0},
      {"arctan2", [](LD y, LD x) { return std::atan2(y, x); }, 3, 3, 0, 0},
      // Relative error down to tiny results for float (computed in
      // double), absolute near the result's zero for double (math.cpp).
      {"logaddexp", logaddexp_ref, 2, 2, 0x1p-26, 0.5},
  };
  return cases;
}

void check_all(size_t count) {
  for (const UnaryCase& c : unary_cases()) {
    check_unary<float>(c, count);
    check_unary<double>(c, count);
  }
  for (const BinaryCase& c : binary_cases()) {
    check_binary<float>(c, count);
    check_binary<double>(c, count);
  }
}

TEST(MathApprox, WithinBudget) {
  printf("host CPU:\n");
  check_all(sweep_count());
}

// Without FMA the polynomial steps round twice and llvm.fma (double pow)
// becomes a call: the budgets still hold.
TEST(MathApprox, WithinBudgetWithoutFma) {
  static MathJit no_fma(true);
  g_jit = &no_fma;
  printf("host CPU without FMA:\n");
  check_all(sweep_count() / 5);
  g_jit = nullptr;
}

// The point of emitting plain IR: a scalar loop calling each function is
// widened by LLVM's O2 pipeline (loop vectorizer) for the host.
TEST(MathApprox, LoopVectorizerWidensThem) {
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  auto jtmb = llvm::orc::JITTargetMachineBuilder::detectHost();
  ASSERT_TRUE(static_cast<bool>(jtmb));
  auto tm = jtmb->createTargetMachine();
  ASSERT_TRUE(static_cast<bool>(tm));
  llvm::LLVMContext ctx;
  llvm::Module mod("vectorize", ctx);
  mod.setDataLayout((*tm)->createDataLayout());
  mod.setTargetTriple((*tm)->getTargetTriple().str());
  std::vector<std::string> names;
  for (const OpSpec& s : all_ops())
    for (int dbl = 0; dbl < 2; ++dbl) {
      std::string name = MathJit::fname(s.name, dbl, 0);
      build_loop(mod, name, s.op, dbl ? llvm::Type::getDoubleTy(ctx) : llvm::Type::getFloatTy(ctx), 0, s.binary);
      llvm::Function* f = mod.getFunction(name);
      for (unsigned a = 0; a + 1 < f->arg_size(); ++a) f->addParamAttr(a, llvm::Attribute::NoAlias);
      names.push_back(name);
    }
  llvm::PassBuilder pb(tm->get());
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);
  pb.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O2).run(mod, mam);
  for (const std::string& name : names) {
    llvm::Function* f = mod.getFunction(name);
    ASSERT_NE(f, nullptr) << name;
    bool stores_vector = false;
    for (auto& bb : *f)
      for (auto& inst : bb)
        if (auto* st = llvm::dyn_cast<llvm::StoreInst>(&inst))
          if (st->getValueOperand()->getType()->isVectorTy()) stores_vector = true;
    EXPECT_TRUE(stores_vector) << name << " was not vectorized";
  }
}

// has_approximation (which makes the kernel emitter interleave element
// loops) names exactly the ops emitted here.
TEST(MathApprox, HasApproximationListsThem) {
  llvm::LLVMContext ctx;
  llvm::Module mod("list", ctx);
  for (int k = 0; k < int(kiln::ir::kNumOpKinds); ++k) {
    auto op = OpKind(k);
    auto* fn = llvm::Function::Create(llvm::FunctionType::get(llvm::Type::getVoidTy(ctx), false),
                                      llvm::Function::ExternalLinkage, "f" + std::to_string(k), mod);
    llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx, "entry", fn));
    llvm::Value* x = llvm::ConstantFP::get(llvm::Type::getFloatTy(ctx), 0.5);
    bool emitted = kiln::codegen::emit_unary_math(op, b, x) || kiln::codegen::emit_binary_math(op, b, x, x);
    EXPECT_EQ(kiln::codegen::has_approximation(op), emitted) << kiln::ir::op_name(op);
  }
}

// The scheduler's default target interleaves the element loops of exactly
// these ops (kernel::ScheduleOptions::long_chain_ops), which it cannot ask
// codegen about.
TEST(MathApprox, ScheduleInterleavesTheApproximatedOps) {
  const auto& ops = kiln::kernel::ScheduleOptions{}.long_chain_ops;
  for (int k = 0; k < int(kiln::ir::kNumOpKinds); ++k) {
    auto op = OpKind(k);
    bool listed = std::find(ops.begin(), ops.end(), op) != ops.end();
    EXPECT_EQ(kiln::codegen::has_approximation(op), listed) << kiln::ir::op_name(op);
  }
}



}  // namespace
