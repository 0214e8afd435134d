#pragma once
// The seam between the engine and a device: what the executable
// (runtime/executable.h) needs from the code generator of one device.
// codegen/llvm implements it for the CPU (LLVM ORC JIT on the thread pool),
// codegen/opencl for OpenCL devices; codegen/backends.h finds them.
//
// A backend compiles scheduled kernel descriptions (passes/kernel.h; the
// runtime only passes them through, so it names the type without knowing
// it) and launches them over their range:
//
// The kernel ABI. A kernel reads its input buffers, writes one contiguous
// row-major output buffer, and takes its sizes, strides, offsets and
// constants as an int64 parameter block. It computes the outputs
// [begin, end) of its outer range (kernel::Kernel::outer_extent states the
// range rule once: elements for kernels without reductions and for rank 1,
// rows for the other kernels, one unit for rank 0). A backend may split the
// range among threads or work-items as it likes: every unit is independent.
//
// Memory is unified: every buffer is host memory (runtime::Buffer), readable
// by the host at any time after the launch that writes it returns. A device
// with memory of its own maps or copies at launch (codegen/opencl).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "runtime/buffer.h"

namespace kiln::kernel {
struct Kernel;
}

namespace kiln::runtime {

// What a backend's kernels can do; fusion (passes/fusion.h) asks, and ops
// a backend cannot fuse become host steps.
struct Capabilities {
  int max_kernel_inputs = 64;  // buffer arguments of one kernel
  bool float64 = true;         // double arithmetic in kernels
  bool float16 = true;         // float16/bfloat16 loads, stores and casts
  bool approximations = true;  // erf, erfinv, trig, ... (else host steps)
  // Indirect loads (kernel::NodeKind::Gather): take and take_along_axis
  // fuse into kernels as loads at an index read from memory (else host steps).
  bool gather_loads = true;
  // What kernel schedules (passes/kernel_schedule.h) may use:
  bool prefetch = true;          // software prefetches into a cache
  bool streaming_stores = true;  // non-temporal stores past the caches
  // Fusion at all: false materializes every op (CompileMode::no_fuse).
  bool fuse = true;
};

// A compiled kernel. Its code stays loaded while a handle to it exists.
class CompiledKernel {
 public:
  virtual ~CompiledKernel() = default;
};
using KernelHandle = std::shared_ptr<const CompiledKernel>;

// One launch: `inputs` in the kernel's input order, `output` (which may be
// the buffer of input kernel.schedule.in_place, see kernel_schedule.h), the parameter block,
// and `work`, the elements the kernel reads (reductions read more than they
// write), which a backend may use to size its chunks of the range.
struct Launch {
  const kernel::Kernel* kernel = nullptr;
  const CompiledKernel* compiled = nullptr;
  std::vector<const Buffer*> inputs;
  Buffer* output = nullptr;
  const int64_t* params = nullptr;
  int64_t outer = 0;  // the range: kernel.outer_extent(output shape)
  int64_t work = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;
  // "cpu", "opencl:<device name>": for dumps and error messages.
  virtual std::string name() const = 0;
  virtual const Capabilities& capabilities() const = 0;
  // Compiles k (scheduled: passes/kernel_schedule.h), or returns the loaded
  // kernel of the same structure. Thread-safe. Throws std::runtime_error
  // naming the kernel when the device's compiler fails.
  virtual KernelHandle compile(const kernel::Kernel& k) = 0;
  // Runs a launch to completion (outputs readable by the host on return).
  virtual void launch(const Launch& l) = 0;
  // Matrix products as runtime/blas.h states them (float64 when `f64`,
  // else float32), or false to leave them to the host's BLAS.
  virtual bool matmul(bool f64, int64_t batch, int64_t m, int64_t n, int64_t k, const Buffer& a, bool trans_a,
                      const Buffer& b, bool trans_b, Buffer& c) {
    (void)f64, (void)batch, (void)m, (void)n, (void)k, (void)a, (void)trans_a, (void)b, (void)trans_b, (void)c;
    return false;
  }
  // Memory for `nbytes`, usable by this backend's kernels and by the host.
  virtual BufferPtr allocate(size_t nbytes) { return runtime::allocate(nbytes); }
  // Waits for all work submitted to this backend.
  virtual void synchronize() {}
};

}  // namespace kiln::runtime
