#include "codegen/opencl/device.h"

#include <algorithm>
#include <cctype>
#include <stdexcept>
#include <vector>

#include "runtime/env.h"

namespace kiln::codegen::opencl {

std::string error_name(cl_int code) {
  const char* n = "unknown error";
  switch (code) {
#define KILN_CL_ERROR(e) case e: n = #e; break;
    KILN_CL_ERROR(CL_DEVICE_NOT_FOUND) KILN_CL_ERROR(CL_DEVICE_NOT_AVAILABLE)
    KILN_CL_ERROR(CL_COMPILER_NOT_AVAILABLE) KILN_CL_ERROR(CL_MEM_OBJECT_ALLOCATION_FAILURE)
    KILN_CL_ERROR(CL_OUT_OF_RESOURCES) KILN_CL_ERROR(CL_OUT_OF_HOST_MEMORY)
    KILN_CL_ERROR(CL_BUILD_PROGRAM_FAILURE) KILN_CL_ERROR(CL_MAP_FAILURE)
    KILN_CL_ERROR(CL_INVALID_VALUE) KILN_CL_ERROR(CL_INVALID_DEVICE) KILN_CL_ERROR(CL_INVALID_PLATFORM)
    KILN_CL_ERROR(CL_INVALID_CONTEXT) KILN_CL_ERROR(CL_INVALID_COMMAND_QUEUE)
    KILN_CL_ERROR(CL_INVALID_HOST_PTR) KILN_CL_ERROR(CL_INVALID_MEM_OBJECT)
    KILN_CL_ERROR(CL_INVALID_BINARY) KILN_CL_ERROR(CL_INVALID_BUILD_OPTIONS)
    KILN_CL_ERROR(CL_INVALID_PROGRAM) KILN_CL_ERROR(CL_INVALID_PROGRAM_EXECUTABLE)
    KILN_CL_ERROR(CL_INVALID_KERNEL_NAME) KILN_CL_ERROR(CL_INVALID_KERNEL)
    KILN_CL_ERROR(CL_INVALID_ARG_INDEX) KILN_CL_ERROR(CL_INVALID_ARG_VALUE) KILN_CL_ERROR(CL_INVALID_ARG_SIZE)
    KILN_CL_ERROR(CL_INVALID_KERNEL_ARGS) KILN_CL_ERROR(CL_INVALID_WORK_DIMENSION)
    KILN_CL_ERROR(CL_INVALID_WORK_GROUP_SIZE) KILN_CL_ERROR(CL_INVALID_GLOBAL_WORK_SIZE)
    KILN_CL_ERROR(CL_INVALID_BUFFER_SIZE) KILN_CL_ERROR(CL_INVALID_OPERATION)
    case -1001: n = "CL_PLATFORM_NOT_FOUND_KHR"; break;  // (cl_ext.h)
#undef KILN_CL_ERROR
  }
  return std::string(n) + " (" + std::to_string(code) + ")";
}

void check(cl_int code, const std::string& what) {
  if (code != CL_SUCCESS) throw std::runtime_error("kiln opencl: " + what + ": " + error_name(code));
}

namespace {

std::string device_string(cl_device_id d, cl_device_info what) {
  size_t n = 0;
  if (clGetDeviceInfo(d, what, 0, nullptr, &n) != CL_SUCCESS || n == 0) return "";
  std::string s(n, '\0');
  clGetDeviceInfo(d, what, n, s.data(), nullptr);
  while (!s.empty() && s.back() == '\0') s.pop_back();
  return s;
}

std::string lower(std::string s) {
  for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

struct Found {
  int platform_index, device_index;
  DeviceInfo info;
};

std::vector<Found> all_devices() {
  std::vector<Found> out;
  cl_uint np = 0;
  if (clGetPlatformIDs(0, nullptr, &np) != CL_SUCCESS || np == 0) return out;
  std::vector<cl_platform_id> platforms(np);
  clGetPlatformIDs(np, platforms.data(), nullptr);
  for (cl_uint p = 0; p < np; ++p) {
    cl_uint nd = 0;
    if (clGetDeviceIDs(platforms[p], CL_DEVICE_TYPE_ALL, 0, nullptr, &nd) != CL_SUCCESS || nd == 0) continue;
    std::vector<cl_device_id> devices(nd);
    clGetDeviceIDs(platforms[p], CL_DEVICE_TYPE_ALL, nd, devices.data(), nullptr);
    for (cl_uint d = 0; d < nd; ++d) {
      DeviceInfo i;
      i.platform = platforms[p];
      i.id = devices[d];
      i.name = device_string(devices[d], CL_DEVICE_NAME);
      i.vendor = device_string(devices[d], CL_DEVICE_VENDOR);
      i.version = device_string(devices[d], CL_DEVICE_VERSION);
      i.driver_version = device_string(devices[d], CL_DRIVER_VERSION);
      cl_device_type type = 0;
      clGetDeviceInfo(devices[d], CL_DEVICE_TYPE, sizeof type, &type, nullptr);
      i.gpu = (type & CL_DEVICE_TYPE_GPU) != 0;
      std::string ext = " " + device_string(devices[d], CL_DEVICE_EXTENSIONS) + " ";
      i.float64 = ext.find(" cl_khr_fp64 ") != std::string::npos;
      cl_device_fp_config fp = 0;
      clGetDeviceInfo(devices[d], CL_DEVICE_SINGLE_FP_CONFIG, sizeof fp, &fp, nullptr);
      i.correctly_rounded_divide_sqrt = (fp & CL_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT) != 0;
      size_t param = 0;
      if (clGetDeviceInfo(devices[d], CL_DEVICE_MAX_PARAMETER_SIZE, sizeof param, &param, nullptr) == CL_SUCCESS)
        i.max_parameter_bytes = param;
      out.push_back({int(p), int(d), i});
    }
  }
  return out;
}

// The device KILN_OPENCL_DEVICE asks for, or the default.
DeviceInfo choose() {
  std::vector<Found> all = all_devices();
  if (all.empty()) throw std::runtime_error("no OpenCL platform or device found (is an ICD such as pocl-opencl-icd installed?)");
  std::string want = runtime::env_string("KILN_OPENCL_DEVICE");
  if (want.empty()) {
    for (const Found& f : all)
      if (f.info.gpu) return f.info;
    return all.front().info;
  }
  size_t colon = want.find(':');
  if (colon != std::string::npos && colon > 0 && colon + 1 < want.size() &&
      std::all_of(want.begin(), want.end(), [](char c) { return c == ':' || std::isdigit(static_cast<unsigned char>(c)); })) {
    int p = std::stoi(want.substr(0, colon)), d = std::stoi(want.substr(colon + 1));
    for (const Found& f : all)
      if (f.platform_index == p && f.device_index == d) return f.info;
  } else {
    for (const Found& f : all)
      if (lower(f.info.name).find(lower(want)) != std::string::npos) return f.info;
  }
  std::string names;
  for (const Found& f : all)
    names += (names.empty() ? "" : ", ") + std::to_string(f.platform_index) + ":" + std::to_string(f.device_index) +
             " " + f.info.name;
  throw std::runtime_error("KILN_OPENCL_DEVICE=" + want + " matches no OpenCL device (there are: " + names + ")");
}

}  // namespace

std::unique_ptr<Device> Device::open() { return std::unique_ptr<Device>(new Device(choose())); }

Device::Device(DeviceInfo info) : info_(std::move(info)) {
  cl_int err = CL_SUCCESS;
  cl_context_properties props[] = {CL_CONTEXT_PLATFORM, cl_context_properties(info_.platform), 0};
  context_ = clCreateContext(props, 1, &info_.id, nullptr, nullptr, &err);
  check(err, "cannot create a context on " + info_.name);
  queue_ = clCreateCommandQueue(context_, info_.id, 0, &err);
  if (err != CL_SUCCESS) {
    clReleaseContext(context_);
    check(err, "cannot create a command queue on " + info_.name);
  }
}

Device::~Device() {
  if (queue_) clReleaseCommandQueue(queue_);
  if (context_) clReleaseContext(context_);
}

std::string Device::build_options() const {
  return info_.correctly_rounded_divide_sqrt ? "-cl-fp32-correctly-rounded-divide-sqrt" : "";
}

}  // namespace kiln::codegen::opencl
