#pragma once
// Streams, as mlx::core's stream.h and utils.h (StreamOrDevice, to_stream,
// StreamContext). Every op takes a trailing `StreamOrDevice s = {}`: no
// argument means the default stream of the default device, a Device its
// default stream, a Stream itself. The op records that stream when it is
// created (an unavailable device throws std::invalid_argument then, as in
// MLX), and eval() runs it on the stream's device.
//
// kiln's streams are ordered and synchronous. MLX users expect a stream to
// be an asynchronous queue; in kiln each eval() runs to completion before
// it returns, so a Stream is a name for (device, index): work on two
// streams of one device is not overlapped, and synchronize() only waits for
// the device's backend (runtime::Backend::synchronize), which has finished
// by then. Code written for MLX's streams runs unchanged and gives the same
// results.
//
// The default streams are process-wide, as in MLX, and safe to read while
// another thread sets them.
#include <ostream>
#include <variant>

#include "frontend/device.h"

namespace kiln {

struct Stream {
  int index;
  Device device;
  explicit Stream(int index, Device device) : index(index), device(device) {}
};

// Stream indices are unique across devices (as in MLX): the cpu's default
// stream is 0, the gpu's 1, and new_stream counts up from 2. Equal streams
// have the same index and device.
inline bool operator==(const Stream& a, const Stream& b) { return a.index == b.index && a.device == b.device; }
inline bool operator!=(const Stream& a, const Stream& b) { return !(a == b); }
// "Stream(Device(cpu, 0), 0)".
std::ostream& operator<<(std::ostream& os, const Stream& s);

// The default stream of d. Throws std::invalid_argument when d is not
// available.
Stream default_stream(Device d);
// Makes s the default stream of its device (not the default device).
// Throws std::invalid_argument when s's device is not available.
void set_default_stream(Stream s);
// A new stream on d, with a new index. Throws std::invalid_argument when d
// is not available.
Stream new_stream(Device d);

// Waits for the work of the default stream of the default device, or of s
// (see above: kiln's work has finished when eval() returns).
void synchronize();
void synchronize(Stream s);

using StreamOrDevice = std::variant<std::monostate, Stream, Device>;
// monostate: default_stream(default_) (default_device() for the first
// form); a Device: its default stream; a Stream: itself. Throws
// std::invalid_argument when the device is not available.
Stream to_stream(StreamOrDevice s);
Stream to_stream(StreamOrDevice s, Device default_);

// Makes a stream, or a device and its default stream, the default for the
// lifetime of the object, and then restores the previous default device and
// stream (also when the scope is left by an exception):
//   { StreamContext ctx(Device::gpu); y = exp(x); }  // exp runs on the gpu
// Throws std::invalid_argument for an unavailable device or for
// StreamOrDevice{} (it names nothing), without changing the defaults.
class StreamContext {
 public:
  StreamContext(StreamOrDevice s);
  ~StreamContext();
  StreamContext(const StreamContext&) = delete;
  StreamContext& operator=(const StreamContext&) = delete;

 private:
  Stream saved_;
};

namespace detail {

// The stream that the nodes an op creates record. Every public op opens an
// OpStream for its `s` first thing; ops that it calls in turn (a composite
// such as softmax calls exp, sum, ...) pass no stream and so inherit it, as
// MLX's composites pass theirs down. Outside any op (transformations
// building nodes directly) it is to_stream({}).
Stream current_stream();

class OpStream {
 public:
  explicit OpStream(const StreamOrDevice& s);
  ~OpStream();
  OpStream(const OpStream&) = delete;
  OpStream& operator=(const OpStream&) = delete;

 private:
  Stream stream_;
  const Stream* outer_;
};

}  // namespace detail

}  // namespace kiln
