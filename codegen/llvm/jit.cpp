#include "codegen/llvm/jit.h"

#include <llvm/Analysis/CGSCCPassManager.h>
#include <llvm/Analysis/LoopAnalysisManager.h>
#include <llvm/ExecutionEngine/Orc/ExecutionUtils.h>
#include <llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h>
#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/ExecutionEngine/Orc/ThreadSafeModule.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/PassManager.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <stdexcept>
#include <unordered_map>

#include "codegen/llvm/emit.h"

namespace kiln::codegen {

namespace {

bool dump_enabled(const std::string& stage) {
  const char* env = std::getenv("KILN_DUMP");
  if (!env) return false;
  std::string list = std::string(",") + env + ",";
  return list.find("," + stage + ",") != std::string::npos || list.find(",all,") != std::string::npos;
}

std::string to_string(llvm::Error e) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << e;
  return s;
}

class Jit {
 public:
  Jit() {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    auto jtmb = llvm::orc::JITTargetMachineBuilder::detectHost();
    if (!jtmb) throw std::runtime_error("kiln: cannot detect the host CPU: " + to_string(jtmb.takeError()));
    jtmb->setCodeGenOptLevel(llvm::CodeGenOptLevel::Aggressive);
    auto tm = jtmb->createTargetMachine();
    if (!tm) throw std::runtime_error("kiln: no target machine: " + to_string(tm.takeError()));
    tm_ = std::move(*tm);
    auto jit = llvm::orc::LLJITBuilder().setJITTargetMachineBuilder(*jtmb).create();
    if (!jit) throw std::runtime_error("kiln: cannot create the JIT: " + to_string(jit.takeError()));
    jit_ = std::move(*jit);
    // Generated code may call libm for functions without an inline form.
    auto gen = llvm::orc::DynamicLibrarySearchGenerator::GetForCurrentProcess(
        jit_->getDataLayout().getGlobalPrefix());
    if (!gen) throw std::runtime_error("kiln: " + to_string(gen.takeError()));
    jit_->getMainJITDylib().addGenerator(std::move(*gen));
    target_ = tm_->getTargetTriple().str() + "/" + tm_->getTargetCPU().str() + "/" +
              tm_->getTargetFeatureString().str() + "/llvm" LLVM_VERSION_STRING;
  }

  KernelFn get(const kernel::Kernel& k) {
    std::string key = k.key();
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = cache_.find(key);
    if (it != cache_.end()) {
      stats_.kernel_cache_hits++;
      return it->second;
    }
    auto t0 = std::chrono::steady_clock::now();
    KernelFn fn = compile(k, "kiln_k" + std::to_string(cache_.size()));
    stats_.compile_ms += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    stats_.kernels_compiled++;
    cache_.emplace(key, fn);
    return fn;
  }

  KernelCacheStats stats() {
    std::lock_guard<std::mutex> lock(mutex_);
    return stats_;
  }
  void reset_stats() {
    std::lock_guard<std::mutex> lock(mutex_);
    stats_ = {};
  }

 private:
  KernelFn compile(const kernel::Kernel& k, const std::string& name) {
    auto ctx = std::make_unique<llvm::LLVMContext>();
    auto m = emit_kernel(k, name, *ctx);
    m->setDataLayout(jit_->getDataLayout());
    m->setTargetTriple(tm_->getTargetTriple().str());
    for (auto& f : *m) {
      if (f.isDeclaration()) continue;
      f.addFnAttr("target-cpu", tm_->getTargetCPU());
      f.addFnAttr("target-features", tm_->getTargetFeatureString());
    }
    if (dump_enabled("llvm")) {
      std::cerr << "// ----- LLVM IR of " << name << " (before optimization) -----\n";
      m->print(llvm::errs(), nullptr);
    }
    optimize(*m);
    if (dump_enabled("llvm")) {
      std::cerr << "// ----- LLVM IR of " << name << " (after O2) -----\n";
      m->print(llvm::errs(), nullptr);
    }
    if (auto err = jit_->addIRModule(llvm::orc::ThreadSafeModule(std::move(m), std::move(ctx))))
      throw std::runtime_error("kiln: cannot add a kernel to the JIT: " + to_string(std::move(err)));
    auto sym = jit_->lookup(name);
    if (!sym) throw std::runtime_error("kiln: cannot find a compiled kernel: " + to_string(sym.takeError()));
    return sym->toPtr<KernelFn>();
  }

  void optimize(llvm::Module& m) {
    llvm::LoopAnalysisManager lam;
    llvm::FunctionAnalysisManager fam;
    llvm::CGSCCAnalysisManager cgam;
    llvm::ModuleAnalysisManager mam;
    llvm::PipelineTuningOptions pto;
    pto.LoopVectorization = true;
    pto.SLPVectorization = true;
    pto.LoopUnrolling = true;
    llvm::PassBuilder pb(tm_.get(), pto);
    pb.registerModuleAnalyses(mam);
    pb.registerCGSCCAnalyses(cgam);
    pb.registerFunctionAnalyses(fam);
    pb.registerLoopAnalyses(lam);
    pb.crossRegisterProxies(lam, fam, cgam, mam);
    pb.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O2).run(m, mam);
  }

  std::unique_ptr<llvm::TargetMachine> tm_;
  std::unique_ptr<llvm::orc::LLJIT> jit_;
  std::string target_;
  std::mutex mutex_;
  std::unordered_map<std::string, KernelFn> cache_;
  KernelCacheStats stats_;
};

Jit& jit() {
  static Jit instance;
  return instance;
}

}  // namespace

KernelFn get_kernel(const kernel::Kernel& k) { return jit().get(k); }
KernelCacheStats kernel_cache_stats() { return jit().stats(); }
void reset_kernel_cache_stats() { jit().reset_stats(); }

}  // namespace kiln::codegen
