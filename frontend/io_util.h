#pragma once
// What the file-format readers and writers of frontend/io_*.cpp share:
// errors that name the file, a bounds-checked cursor over a reader of known
// size, and checked shapes and sizes. Internal to frontend/.
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>

#include "frontend/io.h"

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "kiln's file formats are read and written on little-endian hosts");

namespace kiln::io::detail {

// Throws std::runtime_error("[fn] <label>: <problem>").
[[noreturn]] void fail(const char* fn, const std::string& label, const std::string& problem);

// The number of bytes `r` holds (from its start); leaves the position at 0.
size_t stream_size(Reader& r, const char* fn);

// Reads a reader of known size front to back; every read is checked against
// the size first, so that a declared length is never trusted.
class Cursor {
 public:
  Cursor(Reader& r, const char* fn) : r_(r), fn_(fn), size_(stream_size(r, fn)) {}
  size_t pos() const { return pos_; }
  size_t size() const { return size_; }
  size_t left() const { return size_ - pos_; }
  // Throws unless n more bytes are there; `what` names what they would be.
  void need(uint64_t n, const std::string& what) const;
  void bytes(void* out, size_t n, const std::string& what);
  std::string string(uint64_t n, const std::string& what);
  void skip(uint64_t n, const std::string& what);
  void seek(size_t pos, const std::string& what);
  uint8_t u8(const std::string& what) { uint8_t v; bytes(&v, 1, what); return v; }
  uint16_t u16(const std::string& what) { uint16_t v; bytes(&v, 2, what); return v; }
  uint32_t u32(const std::string& what) { uint32_t v; bytes(&v, 4, what); return v; }
  uint64_t u64(const std::string& what) { uint64_t v; bytes(&v, 8, what); return v; }
  [[noreturn]] void fail(const std::string& problem) const { detail::fail(fn_, r_.label(), problem); }
  Reader& reader() { return r_; }

 private:
  Reader& r_;
  const char* fn_;
  size_t size_;
  size_t pos_ = 0;
};

// A shape from declared dimensions: each must fit int32 and the byte size
// must fit size_t; `nbytes` receives it. Throws through cur.fail().
Shape checked_shape(const Cursor& cur, const std::vector<uint64_t>& dims, Dtype dtype,
                    size_t* nbytes, const std::string& what);

// A materialized array of `dtype` and `shape` whose nbytes bytes are read
// from `offset`; the caller has checked that they lie in the file.
array read_array(Cursor& cur, Dtype dtype, const Shape& shape, size_t offset, size_t nbytes);

// The same, read lazily (as MLX's load): the array holds a deferred buffer
// (runtime/buffer.h) that reads its bytes from `r` on first use, then swaps
// each `swap_width`-byte word when that is not 0 (big-endian files). The
// reader stays open while such an array lives. A failed read then throws
// std::runtime_error naming the reader.
array read_array_lazy(std::shared_ptr<Reader> r, const char* fn, Dtype dtype, const Shape& shape, size_t offset,
                      size_t nbytes, size_t swap_width = 0);

// The row-major bytes of `a` (evaluated), nbytes() of them.
const char* array_bytes(array& a);

// Writes n bytes, throwing (naming the writer) on failure.
void write(Writer& w, const char* fn, const void* data, size_t n);

inline bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Opens `file` for reading/writing or throws std::runtime_error naming it.
std::shared_ptr<Reader> open_reader(const std::string& file, const char* fn);
std::shared_ptr<Writer> open_writer(const std::string& file, const char* fn);

}  // namespace kiln::io::detail
