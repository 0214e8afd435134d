// The GGUF format (versions 2 and 3): "GGUF", a version, the numbers of
// tensors and of metadata pairs (u64), the pairs (key string, value type,
// value), the tensor descriptions (name, rank, dimensions innermost first,
// ggml type, offset), and, aligned to general.alignment (default 32), the
// data. Strings are a u64 length and bytes. Only the ggml types that are
// kiln dtypes are read; quantized ones are refused by name.
#include <algorithm>
#include <limits>
#include <map>

#include "frontend/io.h"
#include "frontend/io_util.h"

namespace kiln {

namespace {

constexpr uint32_t kMagic = 0x46554747;  // "GGUF"
constexpr uint32_t kDefaultAlignment = 32;
constexpr uint32_t kMaxDims = 4;         // GGML_MAX_DIMS
constexpr int kMaxNesting = 8;           // arrays of arrays of ...

// Metadata value types.
enum ValueType : uint32_t {
  kU8 = 0, kI8 = 1, kU16 = 2, kI16 = 3, kU32 = 4, kI32 = 5, kF32 = 6, kBool = 7,
  kString = 8, kArray = 9, kU64 = 10, kI64 = 11, kF64 = 12,
};

bool dtype_of_value(uint32_t t, Dtype* out) {
  switch (t) {
    case kU8: *out = uint8; return true;
    case kI8: *out = int8; return true;
    case kU16: *out = uint16; return true;
    case kI16: *out = int16; return true;
    case kU32: *out = uint32; return true;
    case kI32: *out = int32; return true;
    case kF32: *out = float32; return true;
    case kBool: *out = bool_; return true;
    case kU64: *out = uint64; return true;
    case kI64: *out = int64; return true;
    case kF64: *out = float64; return true;
    default: return false;
  }
}

bool value_of_dtype(Dtype d, uint32_t* out) {
  for (uint32_t t : {kU8, kI8, kU16, kI16, kU32, kI32, kF32, kBool, kU64, kI64, kF64}) {
    Dtype x;
    if (dtype_of_value(t, &x) && x == d) return *out = t, true;
  }
  return false;
}

// ggml tensor types that are kiln dtypes.
bool dtype_of_tensor_type(uint32_t t, Dtype* out) {
  switch (t) {
    case 0: *out = float32; return true;
    case 1: *out = float16; return true;
    case 24: *out = int8; return true;
    case 25: *out = int16; return true;
    case 26: *out = int32; return true;
    case 27: *out = int64; return true;
    case 28: *out = float64; return true;
    case 30: *out = bfloat16; return true;
    default: return false;
  }
}

bool tensor_type_of_dtype(Dtype d, uint32_t* out) {
  for (uint32_t t : {0u, 1u, 24u, 25u, 26u, 27u, 28u, 30u}) {
    Dtype x;
    if (dtype_of_tensor_type(t, &x) && x == d) return *out = t, true;
  }
  return false;
}

std::string tensor_type_name(uint32_t t) {
  static const char* names[] = {
      "F32",     "F16",    "Q4_0",   "Q4_1",    "Q4_2",  "Q4_3",   "Q5_0",  "Q5_1",
      "Q8_0",    "Q8_1",   "Q2_K",   "Q3_K",    "Q4_K",  "Q5_K",   "Q6_K",  "Q8_K",
      "IQ2_XXS", "IQ2_XS", "IQ3_XXS", "IQ1_S",  "IQ4_NL", "IQ3_S", "IQ2_S", "IQ4_XS",
      "I8",      "I16",    "I32",    "I64",     "F64",   "IQ1_M",  "BF16",
  };
  if (t < sizeof names / sizeof names[0]) return names[t];
  if (t == 34) return "TQ1_0";
  if (t == 35) return "TQ2_0";
  if (t == 39) return "MXFP4";
  return "type " + std::to_string(t);
}

std::string read_string(io::detail::Cursor& cur, const std::string& what) {
  uint64_t n = cur.u64(what + "'s length");
  return cur.string(n, what);
}

// Skips a value of type t (for arrays nested in arrays, which have no
// GGUFMetaData form).
void skip_value(io::detail::Cursor& cur, uint32_t t, int depth, const std::string& what) {
  Dtype d;
  if (dtype_of_value(t, &d)) return cur.skip(d.size(), what);
  if (t == kString) return cur.skip(cur.u64(what + "'s length"), what);
  if (t != kArray) cur.fail(what + " has unknown value type " + std::to_string(t));
  if (depth >= kMaxNesting) cur.fail(what + ": arrays nested too deep");
  uint32_t et = cur.u32(what + "'s element type");
  uint64_t n = cur.u64(what + "'s length");
  // Every element takes at least one byte.
  if (n > cur.left()) cur.fail(what + " declares " + std::to_string(n) + " elements, more than the file holds");
  for (uint64_t i = 0; i < n; ++i) skip_value(cur, et, depth + 1, what);
}

GGUFMetaData read_value(io::detail::Cursor& cur, uint32_t t, const std::string& what) {
  Dtype d;
  if (dtype_of_value(t, &d)) {
    cur.need(d.size(), what);
    array a = io::detail::read_array(cur, d, {}, cur.pos(), d.size());
    cur.skip(d.size(), what);
    return a;
  }
  if (t == kString) return read_string(cur, what);
  if (t != kArray) cur.fail(what + " has unknown value type " + std::to_string(t));
  uint32_t et = cur.u32(what + "'s element type");
  uint64_t n = cur.u64(what + "'s length");
  if (dtype_of_value(et, &d)) {
    size_t nbytes = 0;
    Shape shape = io::detail::checked_shape(cur, {n}, d, &nbytes, what);
    cur.need(nbytes, what);
    array a = io::detail::read_array(cur, d, shape, cur.pos(), nbytes);
    cur.skip(nbytes, what);
    return a;
  }
  if (et == kString) {
    if (n > cur.left() / 8) cur.fail(what + " declares " + std::to_string(n) + " strings, more than the file holds");
    std::vector<std::string> v;
    v.reserve(size_t(n));
    for (uint64_t i = 0; i < n; ++i) v.push_back(read_string(cur, what));
    return v;
  }
  if (et != kArray) cur.fail(what + " has unknown element type " + std::to_string(et));
  if (n > cur.left()) cur.fail(what + " declares " + std::to_string(n) + " elements, more than the file holds");
  for (uint64_t i = 0; i < n; ++i) skip_value(cur, et, 1, what);
  return std::monostate{};
}

struct TensorInfo {
  std::string name;
  Dtype dtype;
  Shape shape;
  size_t nbytes = 0;
  uint64_t offset = 0;
};

// --- writing ---------------------------------------------------------------

void put(std::string& s, const void* p, size_t n) { s.append(static_cast<const char*>(p), n); }
void put32(std::string& s, uint32_t v) { put(s, &v, 4); }
void put64(std::string& s, uint64_t v) { put(s, &v, 8); }
void put_string(std::string& s, const std::string& v) {
  put64(s, v.size());
  s += v;
}

}  // namespace

GGUFLoad load_gguf(std::shared_ptr<io::Reader> in_stream, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  if (!in_stream) throw std::invalid_argument("[load_gguf] The reader is null.");
  io::detail::Cursor cur(*in_stream, "load_gguf");
  if (cur.size() < 4 || cur.u32("the magic number") != kMagic) cur.fail("not a GGUF file (bad magic number)");
  uint32_t version = cur.u32("the version");
  if (version != 2 && version != 3) cur.fail("unsupported GGUF version " + std::to_string(version));
  uint64_t n_tensors = cur.u64("the tensor count");
  uint64_t n_kv = cur.u64("the metadata count");
  // A pair takes at least 13 bytes, a tensor description 24.
  if (n_kv > cur.left() / 13) cur.fail("declares " + std::to_string(n_kv) + " metadata pairs, more than the file holds");

  GGUFLoad out;
  uint64_t alignment = kDefaultAlignment;
  for (uint64_t i = 0; i < n_kv; ++i) {
    std::string key = read_string(cur, "a metadata key");
    uint32_t type = cur.u32("the type of '" + key + "'");
    GGUFMetaData v = read_value(cur, type, "metadata '" + key + "'");
    if (key == "general.alignment") {
      if (type != kU32) cur.fail("general.alignment is not a u32");
      uint32_t a = std::get<array>(v).item<uint32_t>();
      if (a == 0 || (a & (a - 1)) != 0) cur.fail("general.alignment " + std::to_string(a) + " is not a power of two");
      alignment = a;
    }
    if (!out.second.emplace(key, std::move(v)).second) cur.fail("metadata key '" + key + "' appears twice");
  }

  if (n_tensors > cur.left() / 24) cur.fail("declares " + std::to_string(n_tensors) + " tensors, more than the file holds");
  std::vector<TensorInfo> infos;
  for (uint64_t i = 0; i < n_tensors; ++i) {
    TensorInfo t;
    t.name = read_string(cur, "a tensor name");
    const std::string what = "tensor '" + t.name + "'";
    uint32_t rank = cur.u32(what + "'s rank");
    if (rank > kMaxDims) cur.fail(what + " has rank " + std::to_string(rank) + " (at most 4)");
    std::vector<uint64_t> dims(rank);
    for (uint32_t k = 0; k < rank; ++k) dims[k] = cur.u64(what + "'s dimensions");
    std::reverse(dims.begin(), dims.end());  // GGUF lists the innermost first
    uint32_t type = cur.u32(what + "'s type");
    if (!dtype_of_tensor_type(type, &t.dtype))
      cur.fail(what + " has ggml type " + tensor_type_name(type) +
               ", which kiln does not load (quantized and other types are not supported; "
               "F32, F16, BF16, F64, I8, I16, I32, I64 are)");
    t.shape = io::detail::checked_shape(cur, dims, t.dtype, &t.nbytes, what);
    t.offset = cur.u64(what + "'s offset");
    if (t.offset % alignment != 0) cur.fail(what + "'s offset " + std::to_string(t.offset) + " is not aligned");
    if (out.first.count(t.name)) cur.fail(what + " appears twice");
    out.first.emplace(t.name, array(0));  // a place holder until the data is read
    infos.push_back(std::move(t));
  }
  size_t data_start = size_t((uint64_t(cur.pos()) + alignment - 1) / alignment * alignment);
  if (data_start > cur.size() && !infos.empty()) cur.fail("the data section lies beyond the end of the file");
  uint64_t data_size = data_start <= cur.size() ? cur.size() - data_start : 0;
  for (const TensorInfo& t : infos)
    if (t.offset > data_size || t.nbytes > data_size - t.offset)
      cur.fail("tensor '" + t.name + "' (" + std::to_string(t.nbytes) + " bytes at offset " +
               std::to_string(t.offset) + ") lies beyond the " + std::to_string(data_size) + " data bytes");
  std::vector<const TensorInfo*> by_offset;
  for (const TensorInfo& t : infos) by_offset.push_back(&t);
  std::sort(by_offset.begin(), by_offset.end(), [](const TensorInfo* a, const TensorInfo* b) {
    return a->offset != b->offset ? a->offset < b->offset : a->nbytes < b->nbytes;
  });
  for (size_t i = 1; i < by_offset.size(); ++i)
    if (by_offset[i]->offset < by_offset[i - 1]->offset + by_offset[i - 1]->nbytes)
      cur.fail("tensors '" + by_offset[i - 1]->name + "' and '" + by_offset[i]->name + "' overlap");
  for (const TensorInfo& t : infos)
    out.first.at(t.name) = io::detail::read_array(cur, t.dtype, t.shape, data_start + size_t(t.offset), t.nbytes);
  return out;
}

GGUFLoad load_gguf(const std::string& file, StreamOrDevice s) {
  return load_gguf(io::detail::open_reader(file, "load_gguf"), s);
}

void save_gguf(std::string file, std::unordered_map<std::string, array> array_map,
               std::unordered_map<std::string, GGUFMetaData> meta_data) {
  if (!io::detail::ends_with(file, ".gguf")) file += ".gguf";
  // Check everything before the file is created.
  std::map<std::string, array> tensors(array_map.begin(), array_map.end());
  std::map<std::string, GGUFMetaData> meta(meta_data.begin(), meta_data.end());
  std::string head;
  put32(head, kMagic);
  put32(head, 3);
  put64(head, tensors.size());
  put64(head, meta.size());
  for (auto& [key, value] : meta) {
    put_string(head, key);
    if (auto* str = std::get_if<std::string>(&value)) {
      put32(head, kString);
      put_string(head, *str);
    } else if (auto* strs = std::get_if<std::vector<std::string>>(&value)) {
      put32(head, kArray);
      put32(head, kString);
      put64(head, strs->size());
      for (const std::string& x : *strs) put_string(head, x);
    } else if (auto* a = std::get_if<array>(&value)) {
      uint32_t t;
      if (!value_of_dtype(a->dtype(), &t))
        throw std::invalid_argument("[save_gguf] Metadata '" + key + "' has dtype " + dtype_name(a->dtype()) +
                                    ", which GGUF metadata cannot hold.");
      if (a->ndim() > 1)
        throw std::invalid_argument("[save_gguf] Metadata '" + key + "' must be a scalar or a 1-d array.");
      if (key == "general.alignment")
        throw std::invalid_argument("[save_gguf] 'general.alignment' is written by save_gguf itself.");
      array v = *a;
      if (a->ndim() == 1) {
        put32(head, kArray);
        put32(head, t);
        put64(head, v.size());
      } else {
        put32(head, t);
      }
      put(head, io::detail::array_bytes(v), v.nbytes());
    } else {
      throw std::invalid_argument("[save_gguf] Metadata '" + key + "' has no value.");
    }
  }
  uint64_t offset = 0;
  for (auto& [name, a] : tensors) {
    uint32_t type;
    if (!tensor_type_of_dtype(a.dtype(), &type))
      throw std::invalid_argument("[save_gguf] Array '" + name + "' has dtype " + dtype_name(a.dtype()) +
                                  "; GGUF holds float32, float16, bfloat16, float64, int8, int16, int32, int64.");
    if (a.ndim() > kMaxDims)
      throw std::invalid_argument("[save_gguf] Array '" + name + "' has rank " + std::to_string(a.ndim()) +
                                  "; GGUF holds at most 4 dimensions.");
    put_string(head, name);
    put32(head, uint32_t(a.ndim()));
    for (size_t k = a.ndim(); k-- > 0;) put64(head, uint64_t(a.shape()[k]));
    put32(head, type);
    put64(head, offset);
    offset += (a.nbytes() + kDefaultAlignment - 1) / kDefaultAlignment * kDefaultAlignment;
  }
  head.append((kDefaultAlignment - head.size() % kDefaultAlignment) % kDefaultAlignment, '\0');
  auto w = io::detail::open_writer(file, "save_gguf");
  io::detail::write(*w, "save_gguf", head.data(), head.size());
  static const char zeros[kDefaultAlignment] = {};
  for (auto& [name, a] : tensors) {
    io::detail::write(*w, "save_gguf", io::detail::array_bytes(a), a.nbytes());
    io::detail::write(*w, "save_gguf", zeros, (kDefaultAlignment - a.nbytes() % kDefaultAlignment) % kDefaultAlignment);
  }
}

}  // namespace kiln
