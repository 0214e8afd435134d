#pragma once
// A device, as MLX names it: Device::cpu runs kernels compiled by LLVM on
// the thread pool, Device::gpu runs them on an OpenCL device (a GPU, or
// PoCL on the CPU where there is none). codegen/backends.h maps a device to
// its backend; frontend/device.h has the user-facing functions
// (default_device, is_available, ...).
namespace kiln {

struct Device {
  enum class DeviceType { cpu, gpu };
  static constexpr DeviceType cpu = DeviceType::cpu;
  static constexpr DeviceType gpu = DeviceType::gpu;

  Device(DeviceType type, int index = 0) : type(type), index(index) {}

  DeviceType type;
  int index;
};

inline bool operator==(const Device& a, const Device& b) { return a.type == b.type && a.index == b.index; }
inline bool operator!=(const Device& a, const Device& b) { return !(a == b); }

}  // namespace kiln
