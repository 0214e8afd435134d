#pragma once
// Building an OpenCL program from kernel source, with its binary kept in
// kiln's disk cache (codegen/disk_cache.h): a later process, or this one
// after its kernel cache dropped the kernel, creates the program from the
// binary (clCreateProgramWithBinary) instead of compiling the source.
//
// The entry's key is the whole source (not only a hash of it, so that two
// sources can never share an entry), the build options, the device's
// name, vendor and version and the driver's version, and kiln's version.
// The disk cache checks the entry's checksum and key before returning it;
// a binary that the driver then refuses (a corrupt or foreign one that
// checks out) is discarded and the source is built, never trusted.
#include <string>

#include "codegen/disk_cache.h"
#include "codegen/opencl/device.h"

namespace kiln::codegen::opencl {

struct Built {
  Program program;
  bool from_disk = false;  // created from a cached binary
};

// The key of source's binary for `device` in the disk cache.
std::string program_cache_key(const Device& device, const std::string& source);

// Builds `source` (whose kernel is `kernel_name`) for the device, through
// `disk` when it is not null. Throws std::runtime_error naming the kernel
// and the first error line of the build log when the compiler fails;
// KILN_DUMP=opencl then prints the whole log.
Built build_program(const Device& device, const std::string& source, const std::string& kernel_name,
                    DiskCache* disk);

}  // namespace kiln::codegen::opencl
