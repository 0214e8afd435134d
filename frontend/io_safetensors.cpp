// The safetensors format: an 8-byte little-endian header length N, N bytes
// of JSON {"name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [b, e]},
// ..., "__metadata__": {"key": "value"}}, then the data, each tensor at
// [b, e) relative to the end of the header.
#include <algorithm>
#include <limits>
#include <map>

#include "frontend/io.h"
#include "frontend/io_json.h"
#include "frontend/io_util.h"

namespace kiln {

namespace {

// The format's own limit on the header (the reference implementation's).
constexpr uint64_t kMaxHeader = 100'000'000;

const std::pair<const char*, Dtype> kDtypes[] = {
    {"BOOL", bool_},    {"U8", uint8},      {"I8", int8},     {"U16", uint16}, {"I16", int16},
    {"U32", uint32},    {"I32", int32},     {"U64", uint64},  {"I64", int64},  {"F16", float16},
    {"BF16", bfloat16}, {"F32", float32},   {"F64", float64}, {"C64", complex64},
};

std::string name_of(Dtype t) {
  for (const auto& [name, d] : kDtypes)
    if (d == t) return name;
  return "";
}

// A JSON number that is a non-negative integer, or fail.
uint64_t as_uint(const io::detail::Cursor& cur, const io::detail::Json& j, const std::string& what) {
  if (j.kind != io::detail::Json::Kind::number || j.text.empty() || j.text[0] == '-' ||
      j.text.find_first_not_of("0123456789") != std::string::npos)
    cur.fail(what + " is not a non-negative integer");
  uint64_t v = 0;
  for (char c : j.text) {
    unsigned d = unsigned(c - '0');
    if (v > (std::numeric_limits<uint64_t>::max() - d) / 10) cur.fail(what + " is too large");
    v = v * 10 + d;
  }
  return v;
}

struct Entry {
  std::string name;
  Dtype dtype;
  Shape shape;
  uint64_t begin = 0, end = 0;
};

}  // namespace

SafetensorsLoad load_safetensors(std::shared_ptr<io::Reader> in_stream, StreamOrDevice s) {
  using io::detail::Json;
  detail::OpStream on_stream(s);
  if (!in_stream) throw std::invalid_argument("[load_safetensors] The reader is null.");
  io::detail::Cursor cur(*in_stream, "load_safetensors");
  uint64_t n = cur.u64("the header length");
  if (n > kMaxHeader) cur.fail("header length " + std::to_string(n) + " exceeds the format's limit");
  std::string text = cur.string(n, "the header");
  Json header;
  std::string error;
  if (!io::detail::parse_json(text, &header, &error)) cur.fail("bad JSON header: " + error);
  if (header.kind != Json::Kind::object) cur.fail("the header is not a JSON object");
  size_t data_start = cur.pos();
  uint64_t data_size = cur.size() - data_start;

  SafetensorsLoad out;
  std::vector<Entry> entries;
  for (const auto& [name, v] : header.members) {
    if (name == "__metadata__") {
      if (v.kind != Json::Kind::object) cur.fail("__metadata__ is not an object");
      for (const auto& [key, value] : v.members) {
        if (value.kind != Json::Kind::string) cur.fail("__metadata__['" + key + "'] is not a string");
        out.second[key] = value.text;
      }
      continue;
    }
    const std::string what = "tensor '" + name + "'";
    if (v.kind != Json::Kind::object) cur.fail(what + " is not an object");
    const Json *dtype = nullptr, *shape = nullptr, *offsets = nullptr;
    for (const auto& [key, field] : v.members) {
      if (key == "dtype") dtype = &field;
      else if (key == "shape") shape = &field;
      else if (key == "data_offsets") offsets = &field;
    }
    if (!dtype || !shape || !offsets) cur.fail(what + " lacks dtype, shape or data_offsets");
    Entry e;
    e.name = name;
    bool known = false;
    if (dtype->kind == Json::Kind::string)
      for (const auto& [dname, d] : kDtypes)
        if (dtype->text == dname) e.dtype = d, known = true;
    if (!known) cur.fail(what + " has an unsupported dtype" + (dtype->kind == Json::Kind::string ? " '" + dtype->text + "'" : ""));
    if (shape->kind != Json::Kind::array) cur.fail(what + ": shape is not an array");
    std::vector<uint64_t> dims;
    for (const Json& d : shape->items) dims.push_back(as_uint(cur, d, what + ": a dimension"));
    size_t nbytes = 0;
    e.shape = io::detail::checked_shape(cur, dims, e.dtype, &nbytes, what);
    if (offsets->kind != Json::Kind::array || offsets->items.size() != 2)
      cur.fail(what + ": data_offsets is not a pair");
    e.begin = as_uint(cur, offsets->items[0], what + ": data_offsets");
    e.end = as_uint(cur, offsets->items[1], what + ": data_offsets");
    if (e.begin > e.end || e.end > data_size)
      cur.fail(what + ": data_offsets [" + std::to_string(e.begin) + ", " + std::to_string(e.end) +
               ") lie outside the " + std::to_string(data_size) + " data bytes");
    if (e.end - e.begin != nbytes)
      cur.fail(what + ": data_offsets span " + std::to_string(e.end - e.begin) + " bytes, its shape and dtype need " +
               std::to_string(nbytes));
    if (out.first.count(name)) cur.fail(what + " appears twice");
    out.first.emplace(name, array(0));  // a place holder until the data is read
    entries.push_back(std::move(e));
  }
  // No two tensors may share bytes.
  std::vector<const Entry*> by_begin;
  for (const Entry& e : entries) by_begin.push_back(&e);
  std::sort(by_begin.begin(), by_begin.end(), [](const Entry* a, const Entry* b) {
    return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
  });
  for (size_t i = 1; i < by_begin.size(); ++i)
    if (by_begin[i]->begin < by_begin[i - 1]->end)
      cur.fail("tensors '" + by_begin[i - 1]->name + "' and '" + by_begin[i]->name + "' overlap");

  // Lazy, as MLX's: each tensor's bytes are read when it is first used.
  for (const Entry& e : entries)
    out.first.at(e.name) = io::detail::read_array_lazy(in_stream, "load_safetensors", e.dtype, e.shape,
                                                       data_start + size_t(e.begin), size_t(e.end - e.begin));
  return out;
}

SafetensorsLoad load_safetensors(const std::string& file, StreamOrDevice s) {
  return load_safetensors(io::detail::open_reader(file, "load_safetensors"), s);
}

void save_safetensors(std::shared_ptr<io::Writer> out_stream, std::unordered_map<std::string, array> arrays,
                      std::unordered_map<std::string, std::string> metadata) {
  if (!out_stream) throw std::invalid_argument("[save_safetensors] The writer is null.");
  // Sorted names and metadata keys: the same arrays give the same bytes.
  std::map<std::string, array> sorted(arrays.begin(), arrays.end());
  std::map<std::string, std::string> meta(metadata.begin(), metadata.end());
  if (sorted.count("__metadata__"))
    throw std::invalid_argument("[save_safetensors] '__metadata__' is reserved and cannot name an array.");
  std::string header = "{";
  if (!meta.empty()) {
    header += "\"__metadata__\":{";
    for (const auto& [k, v] : meta) header += io::detail::json_quote(k) + ":" + io::detail::json_quote(v) + ",";
    header.back() = '}';
    header += ",";
  }
  uint64_t offset = 0;
  for (auto& [name, a] : sorted) {
    header += io::detail::json_quote(name) + ":{\"dtype\":\"" + name_of(a.dtype()) + "\",\"shape\":[";
    for (size_t i = 0; i < a.ndim(); ++i) header += (i ? "," : "") + std::to_string(a.shape()[i]);
    header += "],\"data_offsets\":[" + std::to_string(offset) + "," + std::to_string(offset + a.nbytes()) + "]},";
    offset += a.nbytes();
  }
  if (header.size() > 1) header.pop_back();
  header += "}";
  // Pad with spaces so that the data starts 8-byte aligned.
  header.append((8 - header.size() % 8) % 8, ' ');
  uint64_t n = header.size();
  io::detail::write(*out_stream, "save_safetensors", &n, 8);
  io::detail::write(*out_stream, "save_safetensors", header.data(), header.size());
  for (auto& [name, a] : sorted)
    io::detail::write(*out_stream, "save_safetensors", io::detail::array_bytes(a), a.nbytes());
}

void save_safetensors(std::string file, std::unordered_map<std::string, array> arrays,
                      std::unordered_map<std::string, std::string> metadata) {
  if (!io::detail::ends_with(file, ".safetensors")) file += ".safetensors";
  save_safetensors(io::detail::open_writer(file, "save_safetensors"), std::move(arrays), std::move(metadata));
}

}  // namespace kiln
