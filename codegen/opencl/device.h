#pragma once
// The OpenCL device kiln runs Device::gpu on, with its context and command
// queue. KILN_OPENCL_DEVICE chooses it: "P:D" (platform index P, device
// index D within it, as `clinfo -l` numbers them) or a case-insensitive
// substring of the device's name; by default the first GPU of any
// platform, else the first device.
#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif
#include <CL/cl.h>

#include <memory>
#include <string>
#include <utility>

namespace kiln::codegen::opencl {

// "CL_OUT_OF_RESOURCES (-5)".
std::string error_name(cl_int code);
// Throws std::runtime_error("kiln opencl: <what>: <error_name>") unless
// code is CL_SUCCESS.
void check(cl_int code, const std::string& what);

// An owned OpenCL object, released by clRelease*.
template <typename T, cl_int (*Release)(T)>
class Handle {
 public:
  Handle() = default;
  explicit Handle(T h) : h_(h) {}
  ~Handle() { reset(); }
  Handle(Handle&& o) noexcept : h_(std::exchange(o.h_, nullptr)) {}
  Handle& operator=(Handle&& o) noexcept {
    if (this != &o) {
      reset();
      h_ = std::exchange(o.h_, nullptr);
    }
    return *this;
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  T get() const { return h_; }
  explicit operator bool() const { return h_ != nullptr; }
  void reset() {
    if (h_) Release(h_);
    h_ = nullptr;
  }

 private:
  T h_ = nullptr;
};
using Mem = Handle<cl_mem, clReleaseMemObject>;
using Program = Handle<cl_program, clReleaseProgram>;
using KernelObject = Handle<cl_kernel, clReleaseKernel>;

struct DeviceInfo {
  cl_platform_id platform = nullptr;
  cl_device_id id = nullptr;
  std::string name, vendor, version, driver_version;
  bool gpu = false;
  bool float64 = false;                  // cl_khr_fp64
  bool correctly_rounded_divide_sqrt = false;  // for float
  size_t max_parameter_bytes = 1024;
};

class Device {
 public:
  // Opens the device KILN_OPENCL_DEVICE names (or the default). Throws
  // std::runtime_error saying why when there is none.
  static std::unique_ptr<Device> open();
  ~Device();

  const DeviceInfo& info() const { return info_; }
  cl_context context() const { return context_; }
  cl_command_queue queue() const { return queue_; }
  // "-cl-fp32-correctly-rounded-divide-sqrt" where the device has it.
  std::string build_options() const;

 private:
  Device(DeviceInfo info);
  DeviceInfo info_;
  cl_context context_ = nullptr;
  cl_command_queue queue_ = nullptr;
};

}  // namespace kiln::codegen::opencl
