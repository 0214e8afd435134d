#pragma once
// The OpenCL backend (Device::gpu): kernels rendered as OpenCL C (emit.h),
// built for the device of device.h (binaries in the disk cache,
// program.h), cached in memory by structure, and launched with one
// work-item per unit of their range; matmuls through CLBlast (matmul.h).
#include <cstdint>
#include <string>

#include "runtime/backend.h"

namespace kiln::codegen {

// The backend, or null when no OpenCL device can be opened (then `why`,
// if given, says why). The device is opened on the first call.
runtime::Backend* opencl_backend(std::string* why = nullptr);

struct OpenclStats {
  uint64_t programs_built = 0;     // compiled from source
  uint64_t binaries_loaded = 0;    // created from a binary of the disk cache
  uint64_t kernel_cache_hits = 0;  // found in memory
  uint64_t matmuls = 0;            // run by CLBlast
};
OpenclStats opencl_stats();
void reset_opencl_stats();
// Drops every kernel from the in-memory cache (kernels held by
// executables stay): the next request loads it from the disk cache or
// builds it.
void clear_opencl_kernel_cache();

}  // namespace kiln::codegen
