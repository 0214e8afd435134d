#pragma once
// A block of host memory holding one array's elements. Buffers are immutable
// once filled and shared by reference count: several arrays (e.g. x and
// reshape(x)) may hold the same buffer.
#include <cstddef>
#include <memory>

namespace kiln::runtime {

class Buffer {
 public:
  static constexpr std::size_t kAlignment = 64;  // one cache line, AVX-512 width

  // Allocates `nbytes` of uninitialised, kAlignment-aligned memory.
  // Throws std::bad_alloc when memory is exhausted.
  explicit Buffer(std::size_t nbytes);
  ~Buffer();
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  std::size_t size() const { return size_; }
  void* data() { return data_; }
  const void* data() const { return data_; }

 private:
  void* data_;
  std::size_t size_;
};

using BufferPtr = std::shared_ptr<Buffer>;

// Convenience: a new buffer of `nbytes`, zero-filled when `zero` is set.
BufferPtr allocate(std::size_t nbytes, bool zero = false);

}  // namespace kiln::runtime
