// NumPy's .npy format: the magic "\x93NUMPY", a version, a little-endian
// header length (2 bytes in version 1, 4 in 2 and 3), and a Python dict
// literal {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
// padded with spaces to a multiple of 64 bytes and ended by '\n'; then the
// elements.
#include <algorithm>
#include <cctype>
#include <limits>
#include <numeric>

#include "frontend/io.h"
#include "frontend/io_util.h"
#include "frontend/ops.h"

namespace kiln {

namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicSize = 6;
// Headers longer than this are not NumPy's (it limits them to 10^4 bytes
// when reading unless told otherwise); refusing them bounds the parse.
constexpr uint32_t kMaxHeader = 1 << 20;

// The NumPy type string of a kiln dtype: byte order, kind, item size.
std::string descr_of(Dtype t) {
  switch (t.val) {
    case Dtype::Val::bool_: return "|b1";
    case Dtype::Val::uint8: return "|u1";
    case Dtype::Val::int8: return "|i1";
    case Dtype::Val::uint16: return "<u2";
    case Dtype::Val::uint32: return "<u4";
    case Dtype::Val::uint64: return "<u8";
    case Dtype::Val::int16: return "<i2";
    case Dtype::Val::int32: return "<i4";
    case Dtype::Val::int64: return "<i8";
    case Dtype::Val::float16: return "<f2";
    case Dtype::Val::float32: return "<f4";
    case Dtype::Val::float64: return "<f8";
    case Dtype::Val::bfloat16: return "<V2";  // NumPy has no bfloat16; MLX writes this
    case Dtype::Val::complex64: return "<c8";
  }
  return "";
}

// The dtype of a NumPy type string, and whether its bytes are big-endian.
bool dtype_of_descr(const std::string& d, Dtype* out, bool* big_endian) {
  if (d.size() < 3) return false;
  char order = d[0];
  if (order != '<' && order != '>' && order != '|' && order != '=') return false;
  *big_endian = order == '>';
  std::string code = d.substr(1);
  static const std::pair<const char*, Dtype> table[] = {
      {"b1", bool_},   {"u1", uint8},   {"i1", int8},    {"u2", uint16},  {"u4", uint32},
      {"u8", uint64},  {"i2", int16},   {"i4", int32},   {"i8", int64},   {"f2", float16},
      {"f4", float32}, {"f8", float64}, {"V2", bfloat16}, {"c8", complex64},
  };
  for (const auto& [name, t] : table)
    if (code == name) {
      *out = t;
      return true;
    }
  return false;
}

// A parser of the header's dict literal: string keys; values that are
// strings, True/False, or tuples of non-negative integers.
class HeaderParser {
 public:
  HeaderParser(const std::string& text, const io::detail::Cursor& cur) : s_(text), cur_(cur) {}

  void parse(std::string* descr, bool* fortran, std::vector<uint64_t>* shape) {
    bool have_descr = false, have_fortran = false, have_shape = false;
    expect('{');
    while (true) {
      space();
      if (peek() == '}') break;
      std::string key = quoted();
      expect(':');
      space();
      if (key == "descr") {
        if (peek() != '\'' && peek() != '"')
          bad("'descr' is not a type string (structured dtypes are not supported)");
        *descr = quoted();
        have_descr = true;
      } else if (key == "fortran_order") {
        *fortran = boolean();
        have_fortran = true;
      } else if (key == "shape") {
        *shape = tuple();
        have_shape = true;
      } else {
        bad("unexpected key '" + key + "'");
      }
      space();
      if (peek() == ',') ++i_;
      else if (peek() != '}') bad("expected ',' or '}'");
    }
    ++i_;
    if (!have_descr || !have_fortran || !have_shape)
      bad("the header lacks one of 'descr', 'fortran_order', 'shape'");
  }

 private:
  [[noreturn]] void bad(const std::string& why) const {
    cur_.fail("bad header at character " + std::to_string(i_) + ": " + why);
  }
  char peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
  void space() {
    while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
  }
  void expect(char c) {
    space();
    if (peek() != c) bad(std::string("expected '") + c + "'");
    ++i_;
  }
  std::string quoted() {
    space();
    char q = peek();
    if (q != '\'' && q != '"') bad("expected a quoted string");
    size_t end = s_.find(q, i_ + 1);
    if (end == std::string::npos) bad("unterminated string");
    std::string v = s_.substr(i_ + 1, end - i_ - 1);
    i_ = end + 1;
    return v;
  }
  bool boolean() {
    if (s_.compare(i_, 4, "True") == 0) return i_ += 4, true;
    if (s_.compare(i_, 5, "False") == 0) return i_ += 5, false;
    bad("expected True or False");
  }
  std::vector<uint64_t> tuple() {
    expect('(');
    std::vector<uint64_t> dims;
    while (true) {
      space();
      if (peek() == ')') break;
      if (!std::isdigit(static_cast<unsigned char>(peek()))) bad("expected a dimension");
      uint64_t v = 0;
      while (std::isdigit(static_cast<unsigned char>(peek()))) {
        unsigned d = unsigned(peek() - '0');
        if (v > (std::numeric_limits<uint64_t>::max() - d) / 10) bad("dimension too large");
        v = v * 10 + d;
        ++i_;
      }
      // A trailing 'L' is what Python 2 wrote for long integers.
      if (peek() == 'L') ++i_;
      dims.push_back(v);
      if (dims.size() > 64) bad("too many dimensions");
      space();
      if (peek() == ',') ++i_;
      else if (peek() != ')') bad("expected ',' or ')'");
    }
    ++i_;
    return dims;
  }

  const std::string& s_;
  const io::detail::Cursor& cur_;
  size_t i_ = 0;
};

}  // namespace

void save(std::shared_ptr<io::Writer> out_stream, array a) {
  if (!out_stream) throw std::invalid_argument("[save] The writer is null.");
  std::string shape = "(";
  for (size_t i = 0; i < a.ndim(); ++i) shape += std::to_string(a.shape()[i]) + ", ";
  if (a.ndim() == 1) shape.pop_back();  // "(3,)"
  else if (a.ndim() > 1) shape.resize(shape.size() - 2);
  shape += ")";
  std::string header =
      "{'descr': '" + descr_of(a.dtype()) + "', 'fortran_order': False, 'shape': " + shape + ", }";
  // Pad with spaces so that the data starts at a multiple of 64 bytes, as
  // NumPy does; version 2 when the header does not fit 16 bits.
  size_t prefix = kMagicSize + 2 + 2;
  size_t total = (prefix + header.size() + 1 + 63) / 64 * 64;
  bool v2 = total - prefix > 0xffff;
  if (v2) {
    prefix += 2;
    total = (prefix + header.size() + 1 + 63) / 64 * 64;
  }
  header.append(total - prefix - header.size() - 1, ' ');
  header += '\n';

  std::string head(kMagic, kMagicSize);
  head += char(v2 ? 2 : 1);
  head += char(0);
  uint32_t len = uint32_t(header.size());
  head.append(reinterpret_cast<const char*>(&len), v2 ? 4 : 2);
  head += header;
  io::detail::write(*out_stream, "save", head.data(), head.size());
  const char* data = io::detail::array_bytes(a);
  io::detail::write(*out_stream, "save", data, a.nbytes());
}

void save(std::string file, array a) {
  if (!io::detail::ends_with(file, ".npy")) file += ".npy";
  save(io::detail::open_writer(file, "save"), std::move(a));
}

array load(std::shared_ptr<io::Reader> in_stream, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  if (!in_stream) throw std::invalid_argument("[load] The reader is null.");
  io::detail::Cursor cur(*in_stream, "load");
  std::string magic = cur.string(kMagicSize + 2, "the magic string and version");
  if (magic.compare(0, kMagicSize, kMagic, kMagicSize) != 0) cur.fail("not a .npy file (bad magic string)");
  int major = magic[kMagicSize];
  if (major < 1 || major > 3)
    cur.fail("unsupported .npy version " + std::to_string(major) + "." +
             std::to_string(int(magic[kMagicSize + 1])));
  uint32_t header_len = major == 1 ? cur.u16("the header length") : cur.u32("the header length");
  if (header_len > kMaxHeader) cur.fail("header length " + std::to_string(header_len) + " is too large");
  std::string header = cur.string(header_len, "the header");

  std::string descr;
  bool fortran = false;
  std::vector<uint64_t> dims;
  HeaderParser(header, cur).parse(&descr, &fortran, &dims);
  Dtype dtype;
  bool big_endian = false;
  if (!dtype_of_descr(descr, &dtype, &big_endian))
    cur.fail("unsupported dtype '" + descr + "' (kiln reads b1, u1-u8, i1-i8, f2, f4, f8, c8, V2)");

  size_t nbytes = 0;
  // Fortran order: the data is the transpose's, in C order.
  if (fortran) std::reverse(dims.begin(), dims.end());
  Shape shape = io::detail::checked_shape(cur, dims, dtype, &nbytes, "the shape");
  cur.need(nbytes, "the data of shape " + ir::shape_to_string(shape));
  // Lazy, as MLX's load: the data is read when the array is first used.
  size_t swap_width = big_endian && dtype.size() > 1 ? (dtype == complex64 ? 4 : dtype.size()) : 0;
  array a = io::detail::read_array_lazy(in_stream, "load", dtype, shape, cur.pos(), nbytes, swap_width);
  if (fortran && a.ndim() > 1) a = transpose(a);
  return a;
}

array load(std::string file, StreamOrDevice s) {
  return load(io::detail::open_reader(file, "load"), s);
}

}  // namespace kiln
