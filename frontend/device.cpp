#include "frontend/device.h"

#include <mutex>
#include <stdexcept>
#include <string>

#include "codegen/backends.h"
#include "runtime/env.h"
#include "runtime/float_control.h"

namespace kiln {

namespace {

// The default device, read once from KILN_DEVICE on first use. A mutex, not
// an atomic: a Device is two fields that must change together.
struct DefaultDevice {
  std::mutex mutex;
  Device device = detail::initial_device();
};

DefaultDevice& state() {
  static DefaultDevice s;
  return s;
}

}  // namespace

const char* detail::device_name(const Device& d) { return d.type == Device::cpu ? "cpu" : "gpu"; }

Device detail::initial_device() {
  std::string name = runtime::env_choice("KILN_DEVICE", "cpu", {"cpu", "gpu"});
  if (name == "cpu") return Device::cpu;
  std::string why;
  if (codegen::backend_available(Device::gpu, &why)) return Device::gpu;
  runtime::env_warn_once("KILN_DEVICE", name, "the gpu is not available (" + why + "); using cpu");
  return Device::cpu;
}

bool is_available(const Device& d) { return codegen::backend_available(d); }

bool set_flush_denormal(bool flush) { return runtime::set_flush_denormal(flush); }
bool flush_denormal() { return runtime::flush_denormal(); }

Device default_device() {
  DefaultDevice& s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  return s.device;
}

void set_default_device(const Device& d) {
  std::string why;
  if (!codegen::backend_available(d, &why))
    throw std::invalid_argument(std::string("[set_default_device] Cannot set the default device to ") +
                                detail::device_name(d) + ": " + why + ".");
  DefaultDevice& s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  s.device = d;
}

std::ostream& operator<<(std::ostream& os, const Device& d) {
  return os << "Device(" << detail::device_name(d) << ", " << d.index << ")";
}

}  // namespace kiln
