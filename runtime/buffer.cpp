#include "runtime/buffer.h"

#include <cstdlib>
#include <cstring>
#include <new>

namespace kiln::runtime {

Buffer::Buffer(std::size_t nbytes) : data_(nullptr), size_(nbytes) {
  // aligned_alloc needs a size that is a multiple of the alignment; a size of
  // zero still gets a valid, unique pointer.
  std::size_t rounded = (nbytes + kAlignment - 1) / kAlignment * kAlignment;
  if (rounded == 0) rounded = kAlignment;
  data_ = std::aligned_alloc(kAlignment, rounded);
  if (!data_) throw std::bad_alloc();
}

Buffer::~Buffer() { std::free(data_); }

BufferPtr allocate(std::size_t nbytes, bool zero) {
  auto b = std::make_shared<Buffer>(nbytes);
  if (zero && nbytes) std::memset(b->data(), 0, nbytes);
  return b;
}

}  // namespace kiln::runtime
