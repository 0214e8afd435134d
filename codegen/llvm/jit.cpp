#include "codegen/llvm/jit.h"

#include <llvm/Analysis/CGSCCPassManager.h>
#include <llvm/Analysis/LoopAnalysisManager.h>
#include <llvm/ExecutionEngine/Orc/ExecutionUtils.h>
#include <llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h>
#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/ExecutionEngine/Orc/ThreadSafeModule.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/LegacyPassManager.h>
#include <llvm/Transforms/Utils/Cloning.h>
#include <llvm/ADT/SmallString.h>
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
#include "runtime/dump.h"

namespace kiln::codegen {

namespace {


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
    KernelFn fn = compile(k, "kiln_k" + std::to_string(next_name_++));  // never reused, even after a failure
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
    if (runtime::dump_enabled("llvm")) runtime::dump("llvm", name + "-before-opt", module_text(*m));
    optimize(*m);
    if (runtime::dump_enabled("llvm")) runtime::dump("llvm", name, module_text(*m));
    if (runtime::dump_enabled("asm")) runtime::dump("asm", name, assembly(*m));
    if (auto err = jit_->addIRModule(llvm::orc::ThreadSafeModule(std::move(m), std::move(ctx))))
      throw std::runtime_error("kiln: cannot add a kernel to the JIT: " + to_string(std::move(err)));
    auto sym = jit_->lookup(name);
    if (!sym) throw std::runtime_error("kiln: cannot find a compiled kernel: " + to_string(sym.takeError()));
    return sym->toPtr<KernelFn>();
  }

  static std::string module_text(const llvm::Module& m) {
    std::string s;
    llvm::raw_string_ostream os(s);
    m.print(os, nullptr);
    return s;
  }

  // The machine code of an (optimized) module, from a copy of it: emitting
  // assembly runs codegen passes that would alter the module itself.
  std::string assembly(const llvm::Module& m) {
    std::unique_ptr<llvm::Module> copy = llvm::CloneModule(m);
    llvm::SmallString<4096> buf;
    llvm::raw_svector_ostream os(buf);
    llvm::legacy::PassManager pm;
    if (tm_->addPassesToEmitFile(pm, os, nullptr, llvm::CodeGenFileType::AssemblyFile))
      return "(this target cannot print assembly)";
    pm.run(*copy);
    return std::string(buf.str());
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
  uint64_t next_name_ = 0;
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
