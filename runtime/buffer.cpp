#include "runtime/buffer.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>
#include <mutex>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

#include "runtime/env.h"

namespace kiln::runtime {

namespace {

// A caching allocator. On these machines the first touch of a fresh page
// costs more than the arithmetic on it, so freed blocks are kept by size and
// handed out again; large blocks are 2 MiB aligned and advised to use huge
// pages. The cache holds at most cache_limit bytes (set_cache_limit); beyond
// that blocks are returned to the system.
constexpr std::size_t kHugePage = std::size_t(2) << 20;
constexpr std::size_t kLarge = std::size_t(1) << 20;
constexpr std::size_t kDefaultCacheLimit = std::size_t(2) << 30;

std::size_t size_class(std::size_t n) {
  if (n == 0) return Buffer::kAlignment;
  if (n >= kLarge) {
    if (n > std::numeric_limits<std::size_t>::max() - kHugePage) throw std::bad_alloc();
    return (n + kHugePage - 1) / kHugePage * kHugePage;
  }
  std::size_t c = Buffer::kAlignment;
  while (c < n) c *= 2;  // small blocks: powers of two, so reuse is likely
  return c;
}

std::string format_bytes(std::size_t n) { return std::to_string(n) + " bytes"; }

// "123", "64k", "512M", "2G", "1T" (binary multiples; K/M/G/T in either
// case, an optional trailing "B" or "iB"); false when `s` is none of these.
bool parse_byte_size(const std::string& s, std::size_t* out) {
  std::size_t i = 0;
  unsigned long long v = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
    unsigned d = unsigned(s[i] - '0');
    if (v > (std::numeric_limits<unsigned long long>::max() - d) / 10) return false;
    v = v * 10 + d;
    ++i;
  }
  if (i == 0) return false;
  std::string unit = s.substr(i);
  for (char& c : unit) c = char(std::tolower(static_cast<unsigned char>(c)));
  int shift = 0;
  if (unit.empty() || unit == "b") shift = 0;
  else if (unit == "k" || unit == "kb" || unit == "kib") shift = 10;
  else if (unit == "m" || unit == "mb" || unit == "mib") shift = 20;
  else if (unit == "g" || unit == "gb" || unit == "gib") shift = 30;
  else if (unit == "t" || unit == "tb" || unit == "tib") shift = 40;
  else return false;
  if (shift && v > (std::numeric_limits<unsigned long long>::max() >> shift)) return false;
  *out = std::size_t(v << shift);
  return true;
}

// The memory limit's default: KILN_MEMORY_LIMIT when set and valid, else
// the machine's physical memory (an allocation beyond it could only swap).
std::size_t initial_memory_limit() {
  long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  std::size_t physical = pages > 0 && page > 0 ? std::size_t(pages) * std::size_t(page)
                                               : std::numeric_limits<std::size_t>::max();
  std::string v = env_string("KILN_MEMORY_LIMIT");
  if (v.empty()) return physical;
  std::size_t limit = 0;
  if (!parse_byte_size(v, &limit) || limit == 0) {
    env_warn_once("KILN_MEMORY_LIMIT", v,
                  "expected a positive number of bytes, optionally with a K, M, G or T suffix; using "
                  "the physical memory size");
    return physical;
  }
  return limit;
}

class Pool {
 public:
  void* take(std::size_t cls, std::size_t requested) {
    std::unique_lock<std::mutex> lock(mutex_);
    if (active_ + cls > memory_limit_ || active_ + cls < active_)
      throw std::runtime_error("[kiln] Allocating " + format_bytes(requested) + " (a block of " +
                               format_bytes(cls) + ") with " + format_bytes(active_) +
                               " in use would exceed the memory limit of " +
                               format_bytes(memory_limit_) +
                               " (set_memory_limit or KILN_MEMORY_LIMIT).");
    auto it = free_.find(cls);
    if (it != free_.end() && !it->second.empty()) {
      void* p = it->second.back();
      it->second.pop_back();
      cached_ -= cls;
      note_taken(cls);
      return p;
    }
    // Make room: the active blocks plus the cache stay within the limit.
    if (active_ + cached_ + cls > memory_limit_) release_cached(0);
    // Counted before the system call, so that threads allocating at the
    // same time cannot together pass the limit.
    note_taken(cls);
    lock.unlock();
    // aligned_alloc wants a size that is a multiple of the alignment: the
    // 1 MiB class of the small blocks is not one of 2 MiB.
    bool huge = cls % kHugePage == 0;
    void* p = std::aligned_alloc(huge ? kHugePage : Buffer::kAlignment, cls);
    if (!p) {
      lock.lock();
      active_ -= cls;
      throw std::bad_alloc();
    }
    if (huge) madvise(p, cls, MADV_HUGEPAGE);
    return p;
  }

  void give(void* p, std::size_t cls) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      active_ -= cls;
      if (cached_ + cls <= cache_limit_) {
        free_[cls].push_back(p);
        cached_ += cls;
        return;
      }
    }
    std::free(p);
  }

  std::size_t active() {
    std::lock_guard<std::mutex> lock(mutex_);
    return active_;
  }
  std::size_t peak() {
    std::lock_guard<std::mutex> lock(mutex_);
    return peak_;
  }
  void reset_peak() {
    std::lock_guard<std::mutex> lock(mutex_);
    peak_ = active_;
  }
  std::size_t cached() {
    std::lock_guard<std::mutex> lock(mutex_);
    return cached_;
  }
  std::size_t set_cache_limit(std::size_t limit) {
    std::lock_guard<std::mutex> lock(mutex_);
    std::size_t old = cache_limit_;
    cache_limit_ = limit;
    release_cached(limit);
    return old;
  }
  std::size_t memory_limit() {
    std::lock_guard<std::mutex> lock(mutex_);
    return memory_limit_;
  }
  std::size_t set_memory_limit(std::size_t limit) {
    std::lock_guard<std::mutex> lock(mutex_);
    std::size_t old = memory_limit_;
    memory_limit_ = limit;
    return old;
  }
  void clear() {
    std::lock_guard<std::mutex> lock(mutex_);
    release_cached(0);
  }

  ~Pool() { release_cached(0); }

 private:
  void note_taken(std::size_t cls) {
    active_ += cls;
    if (active_ > peak_) peak_ = active_;
  }

  // Frees cached blocks, largest first, until at most `keep` bytes remain.
  // Called with mutex_ held.
  void release_cached(std::size_t keep) {
    for (auto it = free_.rbegin(); it != free_.rend() && cached_ > keep; ++it) {
      auto& blocks = it->second;
      while (!blocks.empty() && cached_ > keep) {
        std::free(blocks.back());
        blocks.pop_back();
        cached_ -= it->first;
      }
    }
  }

  std::mutex mutex_;
  std::map<std::size_t, std::vector<void*>> free_;
  std::size_t cached_ = 0;
  std::size_t active_ = 0;  // bytes of the blocks held by live buffers
  std::size_t peak_ = 0;
  std::size_t cache_limit_ = kDefaultCacheLimit;
  std::size_t memory_limit_ = initial_memory_limit();
};

Pool& pool() {
  static Pool* p = new Pool;  // never destroyed: buffers may outlive static destructors
  return *p;
}

}  // namespace

Buffer::Buffer(std::size_t nbytes) : data_(pool().take(size_class(nbytes), nbytes)), size_(nbytes) {}

Buffer::Buffer(std::size_t nbytes, std::function<void(void*)> fill)
    : data_(nullptr), size_(nbytes), pending_(true), fill_(std::move(fill)) {}

Buffer::~Buffer() {
  if (!pending_.load(std::memory_order_acquire)) pool().give(data_, size_class(size_));
}

void Buffer::materialize() {
  // One lock for every deferred buffer: fills are rare (a loaded tensor's
  // first use) and this also keeps two tensors of one file from reading
  // through the same reader at once.
  static std::mutex fill_mutex;
  std::lock_guard<std::mutex> lock(fill_mutex);
  if (!pending_.load(std::memory_order_relaxed)) return;
  void* p = pool().take(size_class(size_), size_);
  try {
    fill_(p);
  } catch (...) {
    pool().give(p, size_class(size_));
    throw;
  }
  data_ = p;
  fill_ = nullptr;  // releases what the fill held (the reader, a file handle)
  pending_.store(false, std::memory_order_release);
}

BufferPtr allocate_deferred(std::size_t nbytes, std::function<void(void*)> fill) {
  return std::make_shared<Buffer>(nbytes, std::move(fill));
}

BufferPtr allocate(std::size_t nbytes, bool zero) {
  auto b = std::make_shared<Buffer>(nbytes);
  if (zero && nbytes) std::memset(b->data(), 0, nbytes);
  return b;
}

std::size_t active_memory() { return pool().active(); }
std::size_t peak_memory() { return pool().peak(); }
void reset_peak_memory() { pool().reset_peak(); }
std::size_t cache_memory() { return pool().cached(); }
std::size_t set_cache_limit(std::size_t limit) { return pool().set_cache_limit(limit); }
std::size_t memory_limit() { return pool().memory_limit(); }
std::size_t set_memory_limit(std::size_t limit) { return pool().set_memory_limit(limit); }
void clear_cache() { pool().clear(); }

}  // namespace kiln::runtime
