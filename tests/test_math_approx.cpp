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
#include "math_sweep.h"
#include "passes/kernel_schedule.h"

namespace {

using kiln::ir::OpKind;
using namespace kiln_test::math;

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

// The JIT's function for op, when math.cpp approximates it.
template <typename T>
bool approximated(const char* op) {
  bool dbl = sizeof(T) == 8;
  if (jit().supported(op, dbl)) return true;
  printf("  %-10s %-6s not approximated (nullptr)\n", op, dbl ? "double" : "float");
  return false;
}

void check_all(size_t count) {
  auto run_f = [](const std::string& op, const std::vector<float>& xs, const std::vector<float>* ys) {
    return run<float>(op, xs, ys);
  };
  auto run_d = [](const std::string& op, const std::vector<double>& xs, const std::vector<double>* ys) {
    return run<double>(op, xs, ys);
  };
  for (const UnaryCase& c : unary_cases()) {
    if (approximated<float>(c.op)) check_unary<float>(c, count, run_f);
    if (approximated<double>(c.op)) check_unary<double>(c, count, run_d);
  }
  for (const BinaryCase& c : binary_cases()) {
    if (approximated<float>(c.op)) check_binary<float>(c, count, run_f);
    if (approximated<double>(c.op)) check_binary<double>(c, count, run_d);
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
