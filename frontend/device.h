#pragma once
// The default device, as mlx::core's device.h: ops given no stream or
// device run on the default device's default stream (frontend/stream.h).
//
// The default device is process-wide, as in MLX, and safe to read while
// another thread sets it. It starts as Device::cpu, or as KILN_DEVICE says
// (`cpu` or `gpu`); a KILN_DEVICE that is not one of those, or names a
// device that is not available, is ignored with one warning and cpu is
// used. (MLX starts on the GPU when there is one; kiln's gpu may be OpenCL
// on the CPU (PoCL), slower than the LLVM backend, so it is asked for.)
#include <ostream>

#include "runtime/device.h"

namespace kiln {

// The current default device. (MLX returns a const reference; a copy here,
// since another thread may set the default meanwhile.)
Device default_device();

// Makes d the default device. Throws std::invalid_argument when d is not
// available (is_available(d) is false), as MLX does for the gpu without a
// gpu backend.
void set_default_device(const Device& d);

// Whether d's backend can run work here: Device::cpu always; Device::gpu
// when an OpenCL device can be opened (codegen/backends.h).
bool is_available(const Device& d);

// Whether the CPU backend's kernels and host steps flush subnormal float
// results (|x| < 1.2e-38 in float32) to zero. Off by default (IEEE 754, as
// NumPy and the reference interpreter); set_flush_denormal(true) or
// KILN_FLUSH_DENORMAL=1 turn it on for speed: arithmetic on subnormals is
// about a hundred times slower on x86, and training makes them (optimizer
// state decaying towards zero). Applies to compiled and eager evaluation;
// the caller's own floating-point mode is left as it was (details in
// runtime/float_control.h). As torch.set_flush_denormal, it returns whether
// this CPU supports flushing (x86-64 and AArch64; elsewhere the call does
// nothing and returns false). Process-wide; applies to evaluations that
// start after the call.
bool set_flush_denormal(bool flush);
bool flush_denormal();

// "Device(cpu, 0)".
std::ostream& operator<<(std::ostream& os, const Device& d);

namespace detail {
// The device that KILN_DEVICE asks for, checked (see above); what the
// default device starts as.
Device initial_device();
// "cpu" or "gpu".
const char* device_name(const Device& d);
}  // namespace detail

}  // namespace kiln
