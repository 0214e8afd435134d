#pragma once
// What the file-format fuzz targets (fuzz_npy, fuzz_npz, fuzz_safetensors,
// fuzz_gguf) share: each reads any bytes as its format; the only way to
// refuse them is std::runtime_error (frontend/io.h), anything else thrown
// is a finding, as are crashes, sanitizer reports, and allocations beyond
// libFuzzer's -rss_limit_mb (a declared size trusted). What loads must
// write and load back to the same arrays.
#include <cstring>
#include <string>

#include "frontend/io.h"
#include "fuzz_common.h"

namespace kiln::fuzz {

inline std::shared_ptr<io::Reader> reader_of(const uint8_t* data, size_t size, const char* label) {
  return std::make_shared<io::MemoryReader>(std::string(reinterpret_cast<const char*>(data), size), label);
}

// Runs load(); true when it loaded, false when it refused with
// std::runtime_error; reports any other exception.
template <typename F>
bool loads(F&& load) {
  try {
    load();
    return true;
  } catch (const std::runtime_error&) {
    return false;
  } catch (const std::exception& e) {
    report(typeid(e).name(), e.what());
  }
}

// Same dtype, shape and bytes.
inline bool same_array(array a, array b) {
  if (a.dtype() != b.dtype() || a.shape() != b.shape()) return false;
  a.eval();
  b.eval();
  return a.nbytes() == 0 || std::memcmp(a.node()->buffer->data(), b.node()->buffer->data(), a.nbytes()) == 0;
}

inline bool same_arrays(const std::unordered_map<std::string, array>& a,
                        const std::unordered_map<std::string, array>& b) {
  if (a.size() != b.size()) return false;
  for (const auto& [k, v] : a) {
    auto it = b.find(k);
    if (it == b.end() || !same_array(v, it->second)) return false;
  }
  return true;
}

}  // namespace kiln::fuzz
