#include "codegen/opencl/opencl_backend.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <unordered_map>

#include "codegen/disk_cache.h"
#include "codegen/opencl/device.h"
#include "codegen/opencl/emit.h"
#include "codegen/opencl/matmul.h"
#include "codegen/opencl/program.h"
#include "passes/kernel.h"
#include "runtime/dump.h"

namespace kiln::codegen {

namespace {

using namespace opencl;

// Work-items per work-group (or the kernel's maximum, if smaller).
constexpr size_t kLocalSize = 64;

struct OpenclKernel final : runtime::CompiledKernel {
  Program program;
  KernelObject kernel;
  size_t local_size = 1;
};

// A kernel's name: a hash of its structural key, so that the same kernel
// has the same source (and disk cache entry) in every process.
std::string kernel_name(const std::string& key) {
  uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a
  for (unsigned char c : key) h = (h ^ c) * 0x100000001b3ULL;
  char buf[32];
  std::snprintf(buf, sizeof buf, "kiln_%016llx", static_cast<unsigned long long>(h));
  return buf;
}

class OpenclBackend final : public runtime::Backend {
 public:
  explicit OpenclBackend(std::unique_ptr<Device> device) : device_(std::move(device)) {
    const DeviceInfo& i = device_->info();
    name_ = "opencl:" + i.name;
    caps_.float64 = i.float64;
    caps_.float16 = true;  // vload_half/vstore_half are core OpenCL
    caps_.gather_loads = true;  // emit.cpp renders NodeKind::Gather
    // The x86 specifics of the CPU's schedules (emit.cpp renders neither).
    caps_.prefetch = false;
    caps_.streaming_stores = false;
    // Buffer arguments: the parameter space holds them and four more.
    caps_.max_kernel_inputs = int(std::clamp<size_t>(i.max_parameter_bytes / 8, 8, 68) - 4);
    disk_ = DiskCache::from_environment();
    cl_int err = CL_SUCCESS;
    cl_long zero = 0;
    empty_ = Mem(clCreateBuffer(device_->context(), CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, sizeof zero, &zero,
                                &err));
    check(err, "cannot allocate a buffer");
  }

  std::string name() const override { return name_; }
  const runtime::Capabilities& capabilities() const override { return caps_; }

  runtime::KernelHandle compile(const kernel::Kernel& k) override {
    std::string key = k.key();
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = cache_.find(key);
    if (it != cache_.end()) {
      stats_.kernel_cache_hits++;
      return it->second;
    }
    std::string name = kernel_name(key);
    EmitOptions options;
    options.float64 = caps_.float64;
    std::string source = opencl_source(k, name, options);
    if (runtime::dump_enabled("opencl")) runtime::dump("opencl", name, source);
    Built built = build_program(*device_, source, name, disk_.get());
    (built.from_disk ? stats_.binaries_loaded : stats_.programs_built)++;
    auto compiled = std::make_shared<OpenclKernel>();
    cl_int err = CL_SUCCESS;
    compiled->kernel = KernelObject(clCreateKernel(built.program.get(), name.c_str(), &err));
    check(err, "cannot create kernel " + name);
    size_t max_local = 1;
    check(clGetKernelWorkGroupInfo(compiled->kernel.get(), device_->info().id, CL_KERNEL_WORK_GROUP_SIZE,
                                   sizeof max_local, &max_local, nullptr),
          "cannot query kernel " + name);
    compiled->local_size = std::clamp<size_t>(max_local, 1, kLocalSize);
    compiled->program = std::move(built.program);
    cache_[key] = compiled;
    return compiled;
  }

  // Memory is the host's (runtime/backend.h): each buffer is wrapped with
  // CL_MEM_USE_HOST_PTR for the launch, and the output is mapped once the
  // kernel is done, which makes the host copy current. On PoCL and on
  // integrated GPUs that is zero-copy. A discrete GPU copies every input
  // to the device and the output back at each launch (PCIe, ~10-25 GB/s):
  // device-resident buffers (Backend::allocate) would remove that.
  void launch(const runtime::Launch& l) override {
    if (l.outer == 0) return;
    const kernel::Kernel& k = *l.kernel;
    const auto* ck = static_cast<const OpenclKernel*>(l.compiled);
    std::lock_guard<std::mutex> lock(mutex_);  // kernel arguments are shared state
    cl_kernel kern = ck->kernel.get();
    std::vector<Mem> mems;
    std::map<const runtime::Buffer*, cl_mem> wrapped;
    cl_uint arg = 0;
    for (size_t i = 0; i < l.inputs.size(); ++i) {
      if (int(i) == k.schedule.in_place) continue;  // read through the output
      cl_mem m = wrap(l.inputs[i], k.writes_arg(int(i)) ? CL_MEM_READ_WRITE : CL_MEM_READ_ONLY, mems, wrapped);
      check(clSetKernelArg(kern, arg++, sizeof m, &m), "cannot set a kernel argument");
    }
    cl_mem out = wrap(l.output, CL_MEM_READ_WRITE, mems, wrapped);
    check(clSetKernelArg(kern, arg++, sizeof out, &out), "cannot set a kernel argument");
    std::vector<int64_t> params = float_constant_params(k, l.params);
    if (params.empty()) params.push_back(0);
    cl_int err = CL_SUCCESS;
    Mem p(clCreateBuffer(device_->context(), CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, params.size() * 8,
                         params.data(), &err));
    check(err, "cannot allocate the parameter block");
    cl_mem pm = p.get();
    check(clSetKernelArg(kern, arg++, sizeof pm, &pm), "cannot set a kernel argument");
    cl_long outer = l.outer;
    check(clSetKernelArg(kern, arg++, sizeof outer, &outer), "cannot set a kernel argument");
    // Work-groups of a fixed size (the kernel returns past `outer`): a
    // size left to the driver changes with the range, and PoCL compiles
    // the kernel again for each new one (~75 ms).
    size_t local = ck->local_size;
    size_t global = (size_t(opencl_items(k, l.outer)) + local - 1) / local * local;
    check(clEnqueueNDRangeKernel(device_->queue(), kern, 1, nullptr, &global, &local, 0, nullptr, nullptr),
          "cannot launch a kernel");
    read_back(out, l.output->size());
    for (const kernel::ExtraOutput& e : k.extra_outputs)
      read_back(wrap(l.inputs[size_t(e.arg)], CL_MEM_READ_WRITE, mems, wrapped), l.inputs[size_t(e.arg)]->size());
  }

  bool matmul(bool f64, int64_t batch, int64_t m, int64_t n, int64_t k, const runtime::Buffer& a, bool trans_a,
              const runtime::Buffer& b, bool trans_b, runtime::Buffer& c) override {
    if (f64 && !caps_.float64) return false;
    std::lock_guard<std::mutex> lock(mutex_);
    if (batch == 0 || m == 0 || n == 0) return true;
    if (k == 0) {  // sums of nothing
      std::memset(c.data(), 0, size_t(batch * m * n) * (f64 ? 8 : 4));
      return true;
    }
    std::vector<Mem> mems;
    std::map<const runtime::Buffer*, cl_mem> wrapped;
    cl_mem am = wrap(&a, CL_MEM_READ_ONLY, mems, wrapped), bm = wrap(&b, CL_MEM_READ_ONLY, mems, wrapped);
    cl_mem cm = wrap(&c, CL_MEM_READ_WRITE, mems, wrapped);
    if (!clblast_gemm(*device_, f64, batch, m, n, k, am, trans_a, bm, trans_b, cm)) return false;
    read_back(cm, c.size());
    stats_.matmuls++;
    return true;
  }

  void synchronize() override {
    std::lock_guard<std::mutex> lock(mutex_);
    clFinish(device_->queue());
  }

  OpenclStats stats() {
    std::lock_guard<std::mutex> lock(mutex_);
    return stats_;
  }
  void reset_stats() {
    std::lock_guard<std::mutex> lock(mutex_);
    stats_ = {};
  }
  void clear() {
    std::unordered_map<std::string, std::shared_ptr<const OpenclKernel>> dropped;
    std::lock_guard<std::mutex> lock(mutex_);
    dropped.swap(cache_);
  }

 private:
  // The buffer as a device memory object over its host memory (one per
  // buffer per launch; empty buffers share a placeholder).
  cl_mem wrap(const runtime::Buffer* b, cl_mem_flags flags, std::vector<Mem>& mems,
              std::map<const runtime::Buffer*, cl_mem>& wrapped) {
    if (b->size() == 0) return empty_.get();
    auto it = wrapped.find(b);
    if (it != wrapped.end()) return it->second;
    cl_int err = CL_SUCCESS;
    cl_mem m = clCreateBuffer(device_->context(), flags | CL_MEM_USE_HOST_PTR, b->size(),
                              const_cast<void*>(b->data()), &err);
    check(err, "cannot wrap a buffer of " + std::to_string(b->size()) + " bytes");
    mems.emplace_back(m);
    wrapped[b] = m;
    return m;
  }

  // Waits for the queue and makes the host memory of `out` current.
  void read_back(cl_mem out, size_t bytes) {
    if (bytes == 0) {
      check(clFinish(device_->queue()), "kernel failed");
      return;
    }
    cl_int err = CL_SUCCESS;
    void* p = clEnqueueMapBuffer(device_->queue(), out, CL_TRUE, CL_MAP_READ, 0, bytes, 0, nullptr, nullptr, &err);
    check(err, "cannot read a kernel's output");
    check(clEnqueueUnmapMemObject(device_->queue(), out, p, 0, nullptr, nullptr), "cannot unmap an output");
    check(clFinish(device_->queue()), "kernel failed");
  }

  std::unique_ptr<Device> device_;
  std::string name_;
  runtime::Capabilities caps_;
  std::unique_ptr<DiskCache> disk_;
  Mem empty_;
  // Guards the cache, the statistics, and launches (a cl_kernel's
  // arguments are set per launch).
  std::mutex mutex_;
  std::unordered_map<std::string, std::shared_ptr<const OpenclKernel>> cache_;  // by structural key
  OpenclStats stats_;
};

struct Opened {
  OpenclBackend* backend = nullptr;
  std::string why;
};

// Opened once; never destroyed (as the CPU's JIT: executables in static
// objects may release kernels during exit).
Opened& opened() {
  static Opened* o = [] {
    auto* r = new Opened();
    try {
      r->backend = new OpenclBackend(Device::open());
    } catch (const std::exception& e) {
      r->why = e.what();
    }
    return r;
  }();
  return *o;
}

}  // namespace

runtime::Backend* opencl_backend(std::string* why) {
  Opened& o = opened();
  if (!o.backend && why) *why = o.why;
  return o.backend;
}

OpenclStats opencl_stats() {
  Opened& o = opened();
  return o.backend ? o.backend->stats() : OpenclStats{};
}
void reset_opencl_stats() {
  if (Opened& o = opened(); o.backend) o.backend->reset_stats();
}
void clear_opencl_kernel_cache() {
  if (Opened& o = opened(); o.backend) o.backend->clear();
}

}  // namespace kiln::codegen
