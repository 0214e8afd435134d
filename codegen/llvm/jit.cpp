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
#include "runtime/env.h"
#include "runtime/lru_cache.h"

namespace kiln::codegen {

namespace {

// How kernels are optimized and generated. It is part of the disk cache key:
// change it whenever the pipeline below changes.
constexpr const char* kCodegenOptions = "O2 loop-vectorize slp-vectorize unroll inline-cold-lanes codegen-O3 object-v1";

// Kernels kept in memory: far more than a model's working set (a training
// step has tens), while a program making ever new kernels stays within
// some tens of MB of code.
constexpr size_t kDefaultKernelCacheLimit = 4096;
constexpr size_t kMaxKernelCacheLimit = size_t(1) << 20;

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
    limit_ = size_t(runtime::env_int("KILN_KERNEL_CACHE_LIMIT", kDefaultKernelCacheLimit, 1, kMaxKernelCacheLimit));
  }

  KernelHandle get(const kernel::Kernel& k) {
    std::string key = k.key();
    // Kernels dropped from the cache are released after the lock is (the
    // last handle's release takes it, see unload()).
    std::vector<KernelHandle> dropped;
    std::lock_guard<std::mutex> lock(mutex_);
    if (KernelHandle* cached = cache_.find(key)) {
      stats_.kernel_cache_hits++;
      return *cached;
    }
    // Dropped from the cache but still held by an executable: share it.
    KernelHandle h = still_loaded(key);
    if (h) stats_.kernel_cache_hits++;
    else h = build(k, key);
    cache_.insert(key, h);
    dropped = cache_.trim(limit_);
    stats_.evictions += dropped.size();
    return h;
  }

  size_t limit() {
    std::lock_guard<std::mutex> lock(mutex_);
    return limit_;
  }
  void set_limit(size_t kernels) {
    std::vector<KernelHandle> dropped;
    std::lock_guard<std::mutex> lock(mutex_);
    limit_ = kernels;
    dropped = cache_.trim(limit_);
    stats_.evictions += dropped.size();
  }
  void clear() {
    std::vector<KernelHandle> dropped;
    std::lock_guard<std::mutex> lock(mutex_);
    dropped = cache_.trim(0);
  }

  KernelCacheStats stats() {
    std::lock_guard<std::mutex> lock(mutex_);
    KernelCacheStats s = stats_;
    {
      std::lock_guard<std::mutex> loaded_lock(loaded_mutex_);
      s.kernels_in_memory = names_in_use_.size();
    }
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
  KernelHandle build(const kernel::Kernel& k, const std::string& structural_key) {
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
    // process links here under the same name. That name may still be
    // loaded (a kernel of this key on its way out, see unload()): then
    // this one takes a name of its own.
    const std::string canonical = "kiln_" + sha256_hex(full_key).substr(0, 24);
    std::string name = name_in_use(canonical) ? fresh_name(canonical) : canonical;
    m->getFunction("kiln_kernel")->setName(name);
    if (llvm::Function* body = m->getFunction("kiln_kernel.body")) body->setName(name + ".body");  // for dumps

    bool dumping = runtime::dump_enabled("llvm") || runtime::dump_enabled("asm");
    if (disk_ && !dumping && name == canonical) {
      if (std::optional<std::string> obj = disk_->load(full_key)) {
        if (Linked l = link(*obj, name, nullptr); l.fn) return handle(l, structural_key);
        // A checksummed object that does not link: compile it afresh,
        // under a new name (in case anything of it stayed behind).
        name = fresh_name(canonical);
        m->getFunction(canonical)->setName(name);
      }
    }
    auto t0 = std::chrono::steady_clock::now();
    std::string obj = compile(*m, name);
    std::string error;
    Linked l = link(obj, name, &error);
    if (!l.fn) throw std::runtime_error("kiln: cannot link a compiled kernel: " + error);
    stats_.compile_ms += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    stats_.kernels_compiled++;
    // (Other processes look the kernel up by its canonical name.)
    if (disk_ && name == canonical) disk_->store(full_key, obj);
    return handle(l, structural_key);
  }

  // A kernel linked into the JIT: its entry point and the tracker of
  // everything the link added (code, data, symbols).
  struct Linked {
    KernelFn fn = nullptr;
    llvm::orc::ResourceTrackerSP tracker;
    std::string name;
  };

  // Adds an object to the JIT under a tracker of its own, so that it can be
  // unloaded alone. On failure, whatever it added is removed and fn is null
  // (with the reason in *error when given).
  Linked link(const std::string& obj, const std::string& name, std::string* error) {
    Linked l{nullptr, jit_->getMainJITDylib().createResourceTracker(), name};
    auto fail = [&](llvm::Error e) {
      std::string text = to_string(std::move(e));
      if (error) *error = text;
      llvm::consumeError(l.tracker->remove());
      return Linked{nullptr, nullptr, name};
    };
    if (auto err = jit_->addObjectFile(l.tracker, llvm::MemoryBuffer::getMemBufferCopy(obj, name)))
      return fail(std::move(err));
    auto sym = jit_->lookup(name);
    if (!sym) return fail(sym.takeError());
    l.fn = sym->toPtr<KernelFn>();
    return l;
  }

  // The handle of a linked kernel, which unloads it when the last copy of
  // it is gone. Made last in build(), so that nothing after it can throw
  // and release it while mutex_ is held.
  KernelHandle handle(const Linked& l, const std::string& key) {
    KernelHandle h(new CompiledKernel(l.fn), [this, tracker = l.tracker, name = l.name, key](const CompiledKernel* k) {
      delete k;
      unload(tracker, name, key);
    });
    std::lock_guard<std::mutex> lock(loaded_mutex_);
    names_in_use_.insert(l.name);
    loaded_[key] = h;
    return h;
  }

  // The last handle of a kernel is gone: ORC frees everything its tracker
  // added, and its name may be used again. It runs wherever that handle
  // went (an executable dying on any thread), so it takes only
  // loaded_mutex_, never mutex_.
  void unload(const llvm::orc::ResourceTrackerSP& tracker, const std::string& name, const std::string& key) {
    // Should removal fail, the code just stays loaded: nothing to report.
    llvm::consumeError(tracker->remove());
    std::lock_guard<std::mutex> lock(loaded_mutex_);
    names_in_use_.erase(name);
    auto it = loaded_.find(key);
    if (it != loaded_.end() && it->second.expired()) loaded_.erase(it);
  }

  KernelHandle still_loaded(const std::string& key) {
    std::lock_guard<std::mutex> lock(loaded_mutex_);
    auto it = loaded_.find(key);
    return it != loaded_.end() ? it->second.lock() : nullptr;
  }
  bool name_in_use(const std::string& name) {
    std::lock_guard<std::mutex> lock(loaded_mutex_);
    return names_in_use_.count(name) > 0;
  }
  // A symbol name never used before in this process.
  std::string fresh_name(const std::string& canonical) { return canonical + "_" + std::to_string(next_name_++); }

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
  // mutex_ guards the cache, the statistics and compilation (one kernel
  // is built at a time); loaded_mutex_ what unload() changes.
  std::mutex mutex_;
  runtime::LruCache<std::string, KernelHandle> cache_;  // by structural key
  size_t limit_ = kDefaultKernelCacheLimit;
  uint64_t next_name_ = 0;
  KernelCacheStats stats_;
  std::mutex loaded_mutex_;
  std::unordered_map<std::string, std::weak_ptr<const CompiledKernel>> loaded_;  // by structural key
  std::unordered_set<std::string> names_in_use_;  // symbols of loaded kernels
  std::unique_ptr<DiskCache> disk_;
};

// Never destroyed: executables in static objects may release their kernels
// during exit, after function-local statics are gone, and unloading needs
// the JIT. The operating system reclaims it.
Jit& jit() {
  static Jit* instance = new Jit();
  return *instance;
}

}  // namespace

KernelHandle get_kernel(const kernel::Kernel& k) { return jit().get(k); }
size_t kernel_cache_limit() { return jit().limit(); }
void set_kernel_cache_limit(size_t kernels) {
  if (kernels < 1 || kernels > kMaxKernelCacheLimit)
    throw std::invalid_argument("[set_kernel_cache_limit] expected 1 to " + std::to_string(kMaxKernelCacheLimit) +
                                " kernels, got " + std::to_string(kernels));
  jit().set_limit(kernels);
}
void clear_kernel_cache() { jit().clear(); }
KernelCacheStats kernel_cache_stats() { return jit().stats(); }
void reset_kernel_cache_stats() { jit().reset_stats(); }
std::string disk_cache_directory() {
  const DiskCache* d = jit().disk();
  return d ? d->directory() : "";
}

}  // namespace kiln::codegen
