#include "runtime/buffer.h"

#include <sys/mman.h>

#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <new>
#include <vector>

namespace kiln::runtime {

namespace {

// A caching allocator. On these machines the first touch of a fresh page
// costs more than the arithmetic on it, so freed blocks are kept by size and
// handed out again; large blocks are 2 MiB aligned and advised to use huge
// pages. The cache holds at most kMaxCachedBytes; beyond that blocks are
// returned to the system.
constexpr std::size_t kHugePage = std::size_t(2) << 20;
constexpr std::size_t kLarge = std::size_t(1) << 20;
constexpr std::size_t kMaxCachedBytes = std::size_t(2) << 30;

std::size_t size_class(std::size_t n) {
  if (n == 0) return Buffer::kAlignment;
  if (n >= kLarge) return (n + kHugePage - 1) / kHugePage * kHugePage;
  std::size_t c = Buffer::kAlignment;
  while (c < n) c *= 2;  // small blocks: powers of two, so reuse is likely
  return c;
}

class Pool {
 public:
  void* take(std::size_t cls) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = free_.find(cls);
      if (it != free_.end() && !it->second.empty()) {
        void* p = it->second.back();
        it->second.pop_back();
        cached_ -= cls;
        return p;
      }
    }
    // aligned_alloc wants a size that is a multiple of the alignment: the
    // 1 MiB class of the small blocks is not one of 2 MiB.
    bool huge = cls % kHugePage == 0;
    void* p = std::aligned_alloc(huge ? kHugePage : Buffer::kAlignment, cls);
    if (!p) throw std::bad_alloc();
    if (huge) madvise(p, cls, MADV_HUGEPAGE);
    return p;
  }

  void give(void* p, std::size_t cls) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (cached_ + cls <= kMaxCachedBytes) {
        free_[cls].push_back(p);
        cached_ += cls;
        return;
      }
    }
    std::free(p);
  }

  ~Pool() {
    for (auto& [cls, blocks] : free_)
      for (void* p : blocks) std::free(p);
  }

 private:
  std::mutex mutex_;
  std::map<std::size_t, std::vector<void*>> free_;
  std::size_t cached_ = 0;
};

Pool& pool() {
  static Pool* p = new Pool;  // never destroyed: buffers may outlive static destructors
  return *p;
}

}  // namespace

Buffer::Buffer(std::size_t nbytes) : data_(pool().take(size_class(nbytes))), size_(nbytes) {}

Buffer::~Buffer() { pool().give(data_, size_class(size_)); }

BufferPtr allocate(std::size_t nbytes, bool zero) {
  auto b = std::make_shared<Buffer>(nbytes);
  if (zero && nbytes) std::memset(b->data(), 0, nbytes);
  return b;
}

}  // namespace kiln::runtime
