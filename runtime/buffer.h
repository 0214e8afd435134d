#pragma once
// A block of host memory holding one array's elements. Buffers are immutable
// once filled and shared by reference count: several arrays (e.g. x and
// reshape(x)) may hold the same buffer.
#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>

namespace kiln::runtime {

class Buffer {
 public:
  static constexpr std::size_t kAlignment = 64;  // one cache line, AVX-512 width

  // Allocates `nbytes` of uninitialised, kAlignment-aligned memory.
  // Throws std::runtime_error when the memory in use would exceed the memory
  // limit (set_memory_limit, KILN_MEMORY_LIMIT), std::bad_alloc when the
  // system has none left.
  explicit Buffer(std::size_t nbytes);
  // A deferred buffer (lazy loading, as MLX's load): no memory is taken until
  // data() is first asked for; then `fill` writes the nbytes bytes, once. If
  // fill throws, the memory is given back, the exception propagates and the
  // next data() tries again.
  Buffer(std::size_t nbytes, std::function<void(void*)> fill);
  ~Buffer();
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  std::size_t size() const { return size_; }
  void* data() {
    if (pending_.load(std::memory_order_acquire)) materialize();
    return data_;
  }
  const void* data() const { return const_cast<Buffer*>(this)->data(); }
  // False while a deferred buffer has not been filled yet.
  bool filled() const { return !pending_.load(std::memory_order_acquire); }

 private:
  void materialize();

  void* data_;
  std::size_t size_;
  std::atomic<bool> pending_{false};
  std::function<void(void*)> fill_;
};

using BufferPtr = std::shared_ptr<Buffer>;

// Convenience: a new buffer of `nbytes`, zero-filled when `zero` is set.
BufferPtr allocate(std::size_t nbytes, bool zero = false);
// A deferred buffer (see Buffer's second constructor).
BufferPtr allocate_deferred(std::size_t nbytes, std::function<void(void*)> fill);

// The caching allocator's counters and limits (frontend/memory.h has the
// public names). Sizes are of the blocks taken from the system, which round
// requests up: to a power of two from 64 bytes, to 2 MiB from 1 MiB.
std::size_t active_memory();       // held by live buffers
std::size_t peak_memory();         // the most active_memory() since the last reset
void reset_peak_memory();          // the peak becomes the current active memory
std::size_t cache_memory();        // freed blocks kept for reuse
std::size_t set_cache_limit(std::size_t limit);   // returns the previous limit; trims the cache
std::size_t memory_limit();
std::size_t set_memory_limit(std::size_t limit);  // returns the previous limit
void clear_cache();                // returns every cached block to the system

}  // namespace kiln::runtime
