#include "codegen/opencl/program.h"

#include <sstream>
#include <stdexcept>
#include <vector>

#include "runtime/dump.h"

namespace kiln::codegen::opencl {

namespace {

std::string build_log(cl_program p, cl_device_id d) {
  size_t n = 0;
  if (clGetProgramBuildInfo(p, d, CL_PROGRAM_BUILD_LOG, 0, nullptr, &n) != CL_SUCCESS || n == 0) return "";
  std::string log(n, '\0');
  clGetProgramBuildInfo(p, d, CL_PROGRAM_BUILD_LOG, n, log.data(), nullptr);
  while (!log.empty() && (log.back() == '\0' || log.back() == '\n')) log.pop_back();
  return log;
}

// The first line of a build log that reports an error (else its first
// non-empty line).
std::string first_error(const std::string& log) {
  std::istringstream is(log);
  std::string line, first;
  while (std::getline(is, line)) {
    if (first.empty() && line.find_first_not_of(" \t\r") != std::string::npos) first = line;
    if (line.find("error") != std::string::npos) return line;
  }
  return first.empty() ? "(empty build log)" : first;
}

// The program's binary for its one device, or "" when the driver has none.
std::string binary_of(cl_program p) {
  size_t size = 0;
  if (clGetProgramInfo(p, CL_PROGRAM_BINARY_SIZES, sizeof size, &size, nullptr) != CL_SUCCESS || size == 0) return "";
  std::string bin(size, '\0');
  unsigned char* ptr = reinterpret_cast<unsigned char*>(bin.data());
  if (clGetProgramInfo(p, CL_PROGRAM_BINARIES, sizeof ptr, &ptr, nullptr) != CL_SUCCESS) return "";
  return bin;
}

// The program from a cached binary, or null if the driver refuses it.
Program from_binary(const Device& device, const std::string& bin) {
  const unsigned char* ptr = reinterpret_cast<const unsigned char*>(bin.data());
  size_t size = bin.size();
  cl_int status = CL_SUCCESS, err = CL_SUCCESS;
  cl_device_id id = device.info().id;
  Program p(clCreateProgramWithBinary(device.context(), 1, &id, &size, &ptr, &status, &err));
  if (err != CL_SUCCESS || status != CL_SUCCESS || !p) return Program();
  std::string options = device.build_options();
  if (clBuildProgram(p.get(), 1, &id, options.c_str(), nullptr, nullptr) != CL_SUCCESS) return Program();
  return p;
}

}  // namespace

std::string program_cache_key(const Device& device, const std::string& source) {
  const DeviceInfo& i = device.info();
  return "opencl-program\ndevice " + i.name + "\nvendor " + i.vendor + "\nversion " + i.version + "\ndriver " +
         i.driver_version + "\noptions " + device.build_options() + "\nkiln " KILN_VERSION "\nsource\n" + source;
}

Built build_program(const Device& device, const std::string& source, const std::string& kernel_name,
                    DiskCache* disk) {
  std::string key;
  if (disk) {
    key = program_cache_key(device, source);
    if (std::optional<std::string> bin = disk->load(key)) {
      if (Program p = from_binary(device, *bin)) return {std::move(p), true};
      // Checked out, but the driver refuses it: build the source, and
      // replace the entry below.
    }
  }
  cl_int err = CL_SUCCESS;
  const char* text = source.c_str();
  size_t len = source.size();
  Program p(clCreateProgramWithSource(device.context(), 1, &text, &len, &err));
  check(err, "cannot create the program of kernel " + kernel_name);
  cl_device_id id = device.info().id;
  std::string options = device.build_options();
  err = clBuildProgram(p.get(), 1, &id, options.c_str(), nullptr, nullptr);
  if (err != CL_SUCCESS) {
    std::string log = build_log(p.get(), id);
    if (runtime::dump_enabled("opencl")) runtime::dump("opencl", kernel_name + "-build-log", log);
    throw std::runtime_error("kiln opencl: cannot build kernel " + kernel_name + " on " + device.info().name + " (" +
                             error_name(err) + "): " + first_error(log));
  }
  if (disk) {
    std::string bin = binary_of(p.get());
    if (!bin.empty()) disk->store(key, bin);
  }
  return {std::move(p), false};
}

}  // namespace kiln::codegen::opencl
