// The readers and writers of frontend/io.h, and the helpers of io_util.h.
#include <algorithm>
#include <cerrno>
#include <limits>
#include <stdexcept>

#include "frontend/io.h"
#include "frontend/io_util.h"

namespace kiln::io {

namespace {

std::string errno_text() { return std::strerror(errno); }

// The absolute position that (off, way) names, given the current position
// and the size; false when it is negative.
bool resolve_seek(int64_t off, std::ios_base::seekdir way, size_t cur, size_t size, size_t* out) {
  int64_t base = way == std::ios_base::beg ? 0 : way == std::ios_base::cur ? int64_t(cur) : int64_t(size);
  if ((off < 0 && base < -off) || (off > 0 && base > std::numeric_limits<int64_t>::max() - off))
    return false;
  *out = size_t(base + off);
  return true;
}

}  // namespace

// --- files -----------------------------------------------------------------

FileReader::FileReader(std::string file_path)
    : path_(std::move(file_path)), file_(std::fopen(path_.c_str(), "rb")) {}
FileReader::~FileReader() {
  if (file_) std::fclose(file_);
}
bool FileReader::is_open() const { return file_ != nullptr; }
bool FileReader::good() const { return file_ && good_; }
size_t FileReader::tell() {
  if (!file_) return 0;
  long p = std::ftell(file_);
  return p < 0 ? 0 : size_t(p);
}
void FileReader::seek(int64_t off, std::ios_base::seekdir way) {
  if (!file_) return;
  int whence = way == std::ios_base::beg ? SEEK_SET : way == std::ios_base::cur ? SEEK_CUR : SEEK_END;
  if (fseeko(file_, off_t(off), whence) != 0) good_ = false;
}
void FileReader::read(char* data, size_t n) {
  if (!file_) detail::fail("read", path_, "the file is not open");
  if (n && std::fread(data, 1, n, file_) != n) {
    good_ = false;
    detail::fail("read", path_, std::ferror(file_) ? "cannot read: " + errno_text()
                                                   : "unexpected end of file");
  }
}
void FileReader::read(char* data, size_t n, size_t offset) {
  if (offset > size_t(std::numeric_limits<off_t>::max())) detail::fail("read", path_, "offset out of range");
  seek(int64_t(offset));
  read(data, n);
}
std::string FileReader::label() const { return path_; }

FileWriter::FileWriter(std::string file_path)
    : path_(std::move(file_path)), file_(std::fopen(path_.c_str(), "wb")) {}
FileWriter::~FileWriter() {
  if (file_) std::fclose(file_);
}
bool FileWriter::is_open() const { return file_ != nullptr; }
bool FileWriter::good() const { return file_ && good_; }
size_t FileWriter::tell() {
  if (!file_) return 0;
  long p = std::ftell(file_);
  return p < 0 ? 0 : size_t(p);
}
void FileWriter::seek(int64_t off, std::ios_base::seekdir way) {
  if (!file_) return;
  int whence = way == std::ios_base::beg ? SEEK_SET : way == std::ios_base::cur ? SEEK_CUR : SEEK_END;
  if (fseeko(file_, off_t(off), whence) != 0) good_ = false;
}
void FileWriter::write(const char* data, size_t n) {
  if (!file_) detail::fail("write", path_, "the file is not open");
  if (n && std::fwrite(data, 1, n, file_) != n) {
    good_ = false;
    detail::fail("write", path_, "cannot write: " + errno_text());
  }
  // Flush so that a full disk shows here, not silently at fclose.
  if (std::fflush(file_) != 0) {
    good_ = false;
    detail::fail("write", path_, "cannot write: " + errno_text());
  }
}
std::string FileWriter::label() const { return path_; }

// --- memory ----------------------------------------------------------------

MemoryReader::MemoryReader(std::string bytes, std::string label)
    : bytes_(std::move(bytes)), label_(std::move(label)) {}
void MemoryReader::seek(int64_t off, std::ios_base::seekdir way) {
  size_t p;
  if (!resolve_seek(off, way, pos_, bytes_.size(), &p) || p > bytes_.size()) good_ = false;
  else pos_ = p;
}
void MemoryReader::read(char* data, size_t n) {
  if (n > bytes_.size() - pos_) {
    good_ = false;
    detail::fail("read", label_, "unexpected end of data");
  }
  if (n) std::memcpy(data, bytes_.data() + pos_, n);
  pos_ += n;
}
void MemoryReader::read(char* data, size_t n, size_t offset) {
  if (offset > bytes_.size()) detail::fail("read", label_, "offset out of range");
  pos_ = offset;
  read(data, n);
}

void MemoryWriter::seek(int64_t off, std::ios_base::seekdir way) {
  size_t p;
  if (resolve_seek(off, way, pos_, bytes_.size(), &p) && p <= bytes_.size()) pos_ = p;
}
void MemoryWriter::write(const char* data, size_t n) {
  if (pos_ + n > bytes_.size()) bytes_.resize(pos_ + n);
  if (n) std::memcpy(&bytes_[pos_], data, n);
  pos_ += n;
}

// --- helpers ----------------------------------------------------------------

namespace detail {

void fail(const char* fn, const std::string& label, const std::string& problem) {
  throw std::runtime_error(std::string("[") + fn + "] " + label + ": " + problem);
}

size_t stream_size(Reader& r, const char* fn) {
  if (!r.is_open()) fail(fn, r.label(), "the file is not open");
  r.seek(0, std::ios_base::end);
  size_t n = r.tell();
  r.seek(0, std::ios_base::beg);
  if (!r.good()) fail(fn, r.label(), "cannot determine the file's size");
  return n;
}

void Cursor::need(uint64_t n, const std::string& what) const {
  if (n > left())
    fail("truncated: " + what + " needs " + std::to_string(n) + " bytes at offset " +
         std::to_string(pos_) + ", the file has " + std::to_string(left()) + " left");
}
void Cursor::bytes(void* out, size_t n, const std::string& what) {
  need(n, what);
  r_.read(static_cast<char*>(out), n, pos_);
  pos_ += n;
}
std::string Cursor::string(uint64_t n, const std::string& what) {
  need(n, what);
  std::string s(size_t(n), '\0');
  bytes(s.data(), size_t(n), what);
  return s;
}
void Cursor::skip(uint64_t n, const std::string& what) {
  need(n, what);
  pos_ += size_t(n);
}
void Cursor::seek(size_t pos, const std::string& what) {
  if (pos > size_) fail(what + " at offset " + std::to_string(pos) + " lies beyond the end of the file (" +
                        std::to_string(size_) + " bytes)");
  pos_ = pos;
}

Shape checked_shape(const Cursor& cur, const std::vector<uint64_t>& dims, Dtype dtype, size_t* nbytes,
                    const std::string& what) {
  Shape shape;
  uint64_t n = 1;
  bool overflow = false;
  for (uint64_t d : dims) {
    if (d > uint64_t(std::numeric_limits<int32_t>::max()))
      cur.fail(what + ": dimension " + std::to_string(d) + " is too large (at most 2^31 - 1)");
    shape.push_back(int32_t(d));
    if (d != 0 && n > std::numeric_limits<uint64_t>::max() / d) overflow = true;
    else n *= d;
  }
  bool empty = false;
  for (uint64_t d : dims) empty |= d == 0;
  if (empty) n = 0, overflow = false;
  if (overflow || n > std::numeric_limits<uint64_t>::max() / dtype.size())
    cur.fail(what + ": the declared shape's size overflows");
  *nbytes = size_t(n * dtype.size());
  return shape;
}

namespace {

// n bytes at `offset` of `r` into `out`, as the array's dtype wants them.
void read_elements(Reader& r, const char* fn, Dtype dtype, size_t offset, size_t nbytes, size_t swap_width,
                   char* out) {
  if (nbytes) r.read(out, nbytes, offset);
  if (!r.good()) fail(fn, r.label(), "cannot read " + std::to_string(nbytes) + " bytes at offset " + std::to_string(offset));
  if (swap_width > 1)
    for (size_t i = 0; i + swap_width <= nbytes; i += swap_width) std::reverse(out + i, out + i + swap_width);
  // A bool byte other than 0 or 1 is not a valid C++ bool: read it as true.
  if (dtype == bool_)
    for (size_t i = 0; i < nbytes; ++i) out[i] = out[i] != 0;
}

}  // namespace

array read_array(Cursor& cur, Dtype dtype, const Shape& shape, size_t offset, size_t nbytes) {
  runtime::BufferPtr buf = runtime::allocate(nbytes);
  read_elements(cur.reader(), "load", dtype, offset, nbytes, 0, static_cast<char*>(buf->data()));
  return kiln::detail::make_materialized(ir::Type{dtype, shape}, std::move(buf));
}

array read_array_lazy(std::shared_ptr<Reader> r, const char* fn, Dtype dtype, const Shape& shape, size_t offset,
                      size_t nbytes, size_t swap_width) {
  runtime::BufferPtr buf = runtime::allocate_deferred(nbytes, [r = std::move(r), fn, dtype, offset, nbytes,
                                                               swap_width](void* out) {
    read_elements(*r, fn, dtype, offset, nbytes, swap_width, static_cast<char*>(out));
  });
  return kiln::detail::make_materialized(ir::Type{dtype, shape}, std::move(buf));
}

const char* array_bytes(array& a) {
  a.eval();
  return static_cast<const char*>(a.node()->buffer->data());
}

void write(Writer& w, const char* fn, const void* data, size_t n) {
  if (!w.is_open()) fail(fn, w.label(), "the file is not open for writing");
  w.write(static_cast<const char*>(data), n);
  if (!w.good()) fail(fn, w.label(), "cannot write");
}

std::shared_ptr<Reader> open_reader(const std::string& file, const char* fn) {
  auto r = std::make_shared<FileReader>(file);
  if (!r->is_open()) fail(fn, file, "cannot open for reading: " + errno_text());
  return r;
}

std::shared_ptr<Writer> open_writer(const std::string& file, const char* fn) {
  auto w = std::make_shared<FileWriter>(file);
  if (!w->is_open()) fail(fn, file, "cannot open for writing: " + errno_text());
  return w;
}

}  // namespace detail

}  // namespace kiln::io
