#include "frontend/stream.h"

#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "codegen/backends.h"

namespace kiln {

namespace {

// The default stream of each device used so far, and the next free index.
struct Streams {
  std::mutex mutex;
  std::vector<Stream> defaults;
  int next_index = 2;  // 0 and 1: the cpu's and the gpu's default streams
};

Streams& streams() {
  static Streams s;
  return s;
}

void require_available(const char* op, const Device& d) {
  std::string why;
  if (!codegen::backend_available(d, &why))
    throw std::invalid_argument(std::string("[") + op + "] The " + detail::device_name(d) +
                                " device is not available: " + why + ".");
}

// Sets the default stream of s.device without checking (s is known good).
void store_default(Streams& st, const Stream& s) {
  for (Stream& d : st.defaults)
    if (d.device == s.device) {
      d = s;
      return;
    }
  st.defaults.push_back(s);
}

thread_local const Stream* t_op_stream = nullptr;

}  // namespace

std::ostream& operator<<(std::ostream& os, const Stream& s) {
  return os << "Stream(" << s.device << ", " << s.index << ")";
}

Stream default_stream(Device d) {
  Streams& st = streams();
  {
    std::lock_guard<std::mutex> lock(st.mutex);
    for (const Stream& s : st.defaults)
      if (s.device == d) return s;
  }
  // A device seen for the first time (availability is checked outside the
  // lock: opening an OpenCL device takes a while).
  require_available("default_stream", d);
  std::lock_guard<std::mutex> lock(st.mutex);
  for (const Stream& s : st.defaults)
    if (s.device == d) return s;
  bool first_of_type = d.index == 0;
  int index = !first_of_type ? st.next_index++ : d.type == Device::cpu ? 0 : 1;
  st.defaults.push_back(Stream(index, d));
  return st.defaults.back();
}

void set_default_stream(Stream s) {
  require_available("set_default_stream", s.device);
  Streams& st = streams();
  std::lock_guard<std::mutex> lock(st.mutex);
  store_default(st, s);
}

Stream new_stream(Device d) {
  require_available("new_stream", d);
  Streams& st = streams();
  std::lock_guard<std::mutex> lock(st.mutex);
  return Stream(st.next_index++, d);
}

void synchronize() { synchronize(to_stream({})); }
void synchronize(Stream s) { codegen::backend_for(s.device).synchronize(); }

Stream to_stream(StreamOrDevice s) { return to_stream(std::move(s), default_device()); }

Stream to_stream(StreamOrDevice s, Device default_) {
  if (auto* stream = std::get_if<Stream>(&s)) {
    // A Stream made by hand (Stream(3, Device::gpu)) has not been checked.
    if (!(stream->device == Device(Device::cpu))) require_available("to_stream", stream->device);
    return *stream;
  }
  if (auto* device = std::get_if<Device>(&s)) return default_stream(*device);
  return default_stream(default_);
}

StreamContext::StreamContext(StreamOrDevice s) : saved_(to_stream({})) {
  if (std::holds_alternative<std::monostate>(s))
    throw std::invalid_argument("[StreamContext] Invalid argument, please specify a stream or device.");
  Stream target = to_stream(s);  // throws before anything changes
  set_default_device(target.device);
  set_default_stream(target);
}

StreamContext::~StreamContext() {
  // Both were available when saved; devices do not go away.
  try {
    set_default_device(saved_.device);
    set_default_stream(saved_);
  } catch (...) {
  }
}

namespace detail {

Stream current_stream() { return t_op_stream ? *t_op_stream : to_stream({}); }

OpStream::OpStream(const StreamOrDevice& s)
    : stream_(t_op_stream && std::holds_alternative<std::monostate>(s) ? *t_op_stream : to_stream(s)),
      outer_(t_op_stream) {
  t_op_stream = &stream_;
}

OpStream::~OpStream() { t_op_stream = outer_; }

}  // namespace detail

}  // namespace kiln
