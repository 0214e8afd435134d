#include "codegen/backends.h"

#include <stdexcept>

#include "codegen/llvm/cpu_backend.h"
#include "codegen/opencl/opencl_backend.h"

namespace kiln::codegen {

bool backend_available(const Device& d, std::string* why) {
  if (d.type == Device::cpu) {
    if (d.index == 0) return true;
    if (why) *why = "there is one cpu device (index 0), not " + std::to_string(d.index);
    return false;
  }
  if (d.index != 0) {
    if (why) *why = "there is one gpu device (index 0, chosen by KILN_OPENCL_DEVICE), not " + std::to_string(d.index);
    return false;
  }
  return opencl_backend(why) != nullptr;
}

runtime::Backend& backend_for(const Device& d) {
  std::string why;
  if (!backend_available(d, &why))
    throw std::invalid_argument(std::string("[device] ") + (d.type == Device::cpu ? "cpu" : "gpu") +
                                " is not available: " + why);
  return d.type == Device::cpu ? cpu_backend() : *opencl_backend();
}

}  // namespace kiln::codegen
