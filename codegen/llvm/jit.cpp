#include "codegen/llvm/jit.h"

#include <llvm/Analysis/CGSCCPassManager.h>
#include <llvm/Analysis/LoopAnalysisManager.h>
#include <llvm/ExecutionEngine/Orc/ExecutionUtils.h>
#include <llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h>
#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/LegacyPassManager.h>
#include <llvm/Transforms/Utils/Cloning.h>
#include <llvm/ADT/SmallString.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/PassManager.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/SHA256.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>

#include "codegen/disk_cache.h"
#include "codegen/llvm/cold_lanes.h"
#include "codegen/llvm/emit.h"
#include "runtime/dump.h"

namespace kiln::codegen {

namespace {

// How kernels are optimized and generated. It is part of the disk cache key:
// change it whenever the pipeline below changes.
constexpr const char* kCodegenOptions = "O2 loop-vectorize slp-vectorize unroll inline-cold-lanes codegen-O3 object-v1";

std::string sha256_hex(const std::string& s) {
  auto d = llvm::SHA256::hash(llvm::ArrayRef<uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
  static const char* digits = "0123456789abcdef";
  std::string h;
  for (uint8_t b : d) {
    h += digits[b >> 4];
    h += digits[b & 15];
  }
  return h;
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
    // Kernels have no static initializers: no platform support to set up.
    auto jit = llvm::orc::LLJITBuilder()
                   .setJITTargetMachineBuilder(*jtmb)
                   .setPlatformSetUp(llvm::orc::setUpInactivePlatform)
                   .create();
    if (!jit) throw std::runtime_error("kiln: cannot create the JIT: " + to_string(jit.takeError()));
    jit_ = std::move(*jit);
    // Generated code may call libm for functions without an inline form.
    auto gen = llvm::orc::DynamicLibrarySearchGenerator::GetForCurrentProcess(
        jit_->getDataLayout().getGlobalPrefix());
    if (!gen) throw std::runtime_error("kiln: " + to_string(gen.takeError()));
    jit_->getMainJITDylib().addGenerator(std::move(*gen));
    target_ = "target " + tm_->getTargetTriple().str() + "\ncpu " + tm_->getTargetCPU().str() +
              "\nfeatures " + tm_->getTargetFeatureString().str() + "\nllvm " LLVM_VERSION_STRING;
    disk_ = DiskCache::from_environment();
  }

  KernelFn get(const kernel::Kernel& k) {
    std::string key = k.key();
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = cache_.find(key);
    if (it != cache_.end()) {
      stats_.kernel_cache_hits++;
      return it->second;
    }
    KernelFn fn = build(k, key);
    cache_.emplace(key, fn);
    return fn;
  }

  KernelCacheStats stats() {
    std::lock_guard<std::mutex> lock(mutex_);
    KernelCacheStats s = stats_;
    if (disk_) {
      DiskCacheStats d = disk_->stats();
      s.disk_hits = d.hits;
      s.disk_rejected = d.rejected;
      s.disk_writes = d.writes;
    }
    return s;
  }
  void reset_stats() {
    std::lock_guard<std::mutex> lock(mutex_);
    stats_ = {};
    if (disk_) disk_->reset_stats();
  }

  const DiskCache* disk() const { return disk_.get(); }

 private:
  // Emits k's LLVM IR, then takes its object code from the disk cache or
  // compiles it (and stores it there), and links it into the JIT.
  KernelFn build(const kernel::Kernel& k, const std::string& structural_key) {
    auto ctx = std::make_unique<llvm::LLVMContext>();
    auto m = emit_kernel(k, "kiln_kernel", *ctx);
    m->setDataLayout(jit_->getDataLayout());
    m->setTargetTriple(tm_->getTargetTriple().str());
    for (auto& f : *m) {
      if (f.isDeclaration()) continue;
      f.addFnAttr("target-cpu", tm_->getTargetCPU());
      f.addFnAttr("target-features", tm_->getTargetFeatureString());
    }
    // The full key: what the kernel is, the exact IR emitted for it (so a
    // change to the emitter or the math approximations never loads a stale
    // object), the target, and how it is compiled.
    std::string full_key = "kernel " + structural_key + "\nir-sha256 " + sha256_hex(module_text(*m)) +
                           "\n" + target_ + "\nkiln " KILN_VERSION "\ncodegen " + kCodegenOptions;
    // The symbol is named after the key, so an object stored by another
    // process links here under the same name. A name is never reused in
    // this process (a failed link may leave a definition behind).
    const std::string canonical = "kiln_" + sha256_hex(full_key).substr(0, 24);
    std::string name = canonical;
    if (!used_names_.insert(name).second) name += "_" + std::to_string(next_name_++);
    used_names_.insert(name);
    m->getFunction("kiln_kernel")->setName(name);
    if (llvm::Function* body = m->getFunction("kiln_kernel.body")) body->setName(name + ".body");  // for dumps

    bool dumping = runtime::dump_enabled("llvm") || runtime::dump_enabled("asm");
    if (disk_ && !dumping) {
      if (std::optional<std::string> obj = disk_->load(full_key)) {
        if (KernelFn fn = link(*obj, name, nullptr)) return fn;
        // A checksummed object that does not link: compile it afresh,
        // under a new name.
        std::string fresh = name + "_" + std::to_string(next_name_++);
        used_names_.insert(fresh);
        m->getFunction(name)->setName(fresh);
        name = fresh;
      }
    }
    auto t0 = std::chrono::steady_clock::now();
    std::string obj = compile(*m, name);
    std::string error;
    KernelFn fn = link(obj, name, &error);
    if (!fn) throw std::runtime_error("kiln: cannot link a compiled kernel: " + error);
    stats_.compile_ms += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    stats_.kernels_compiled++;
    // (Other processes look the kernel up by its canonical name.)
    if (disk_ && name == canonical) disk_->store(full_key, obj);
    return fn;
  }

  // Optimizes m and returns its object code.
  std::string compile(llvm::Module& m, const std::string& name) {
    if (runtime::dump_enabled("llvm")) runtime::dump("llvm", name + "-before-opt", module_text(m));
    optimize(m);
    if (runtime::dump_enabled("llvm")) runtime::dump("llvm", name, module_text(m));
    if (runtime::dump_enabled("asm")) runtime::dump("asm", name, assembly(m));
    llvm::SmallVector<char, 0> buf;
    llvm::raw_svector_ostream os(buf);
    llvm::legacy::PassManager pm;
    if (tm_->addPassesToEmitFile(pm, os, nullptr, llvm::CodeGenFileType::ObjectFile))
      throw std::runtime_error("kiln: this target cannot emit object code");
    pm.run(m);
    return std::string(buf.begin(), buf.end());
  }

  // Adds an object to the JIT and returns its kernel, or null (with the
  // reason in *error when given).
  KernelFn link(const std::string& obj, const std::string& name, std::string* error) {
    auto fail = [&](llvm::Error e) -> KernelFn {
      std::string text = to_string(std::move(e));
      if (error) *error = text;
      return nullptr;
    };
    if (auto err = jit_->addObjectFile(llvm::MemoryBuffer::getMemBufferCopy(obj, name))) return fail(std::move(err));
    auto sym = jit_->lookup(name);
    if (!sym) return fail(sym.takeError());
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
    // After vectorization: the slow paths of rare inputs (math.cpp) become
    // branches inside the vector loop.
    inline_cold_lanes(m);
  }

  std::unique_ptr<llvm::TargetMachine> tm_;
  std::unique_ptr<llvm::orc::LLJIT> jit_;
  std::string target_;
  std::mutex mutex_;
  std::unordered_map<std::string, KernelFn> cache_;
  std::unordered_set<std::string> used_names_;
  uint64_t next_name_ = 0;
  KernelCacheStats stats_;
  std::unique_ptr<DiskCache> disk_;
};

Jit& jit() {
  static Jit instance;
  return instance;
}

}  // namespace

KernelFn get_kernel(const kernel::Kernel& k) { return jit().get(k); }
KernelCacheStats kernel_cache_stats() { return jit().stats(); }
void reset_kernel_cache_stats() { jit().reset_stats(); }
std::string disk_cache_directory() {
  const DiskCache* d = jit().disk();
  return d ? d->directory() : "";
}

}  // namespace kiln::codegen
