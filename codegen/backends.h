#pragma once
// Which backend runs a device's work: the LLVM CPU backend for Device::cpu,
// the OpenCL backend (codegen/opencl) for Device::gpu.
#include <string>

#include "runtime/backend.h"
#include "runtime/device.h"

namespace kiln::codegen {

// Whether d's backend can be used (for Device::gpu: an OpenCL device can be
// opened, see KILN_OPENCL_DEVICE). If not and `why` is given, the reason.
bool backend_available(const Device& d, std::string* why = nullptr);

// d's backend. Throws std::invalid_argument naming the reason when it
// cannot be used.
runtime::Backend& backend_for(const Device& d);

}  // namespace kiln::codegen
