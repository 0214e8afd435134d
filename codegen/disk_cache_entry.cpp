#include "codegen/disk_cache_entry.h"

#include <llvm/ADT/StringRef.h>
#include <llvm/Support/SHA256.h>

#include <array>
#include <cstdint>
#include <cstring>

namespace kiln::codegen {

namespace {

constexpr char kMagic[8] = {'K', 'I', 'L', 'N', 'O', 'B', 'J', '\n'};
constexpr uint32_t kFormatVersion = 1;
constexpr size_t kHeaderBytes = kCacheEntryHeaderBytes;

std::array<uint8_t, 32> sha256(std::string_view a, std::string_view b) {
  llvm::SHA256 h;
  h.update(llvm::StringRef(a.data(), a.size()));
  h.update(llvm::StringRef(b.data(), b.size()));
  return h.final();
}

}  // namespace

std::string encode_cache_entry(const std::string& key, const std::string& object) {
  std::string bytes(kHeaderBytes, '\0');
  uint64_t key_bytes = key.size(), object_bytes = object.size();
  std::memcpy(bytes.data(), kMagic, 8);
  std::memcpy(bytes.data() + 8, &kFormatVersion, 4);
  std::memcpy(bytes.data() + 16, &key_bytes, 8);
  std::memcpy(bytes.data() + 24, &object_bytes, 8);
  std::array<uint8_t, 32> d = sha256(key, object);
  std::memcpy(bytes.data() + 32, d.data(), 32);
  return bytes + key + object;
}

CacheEntryHeader decode_cache_entry_header(std::string_view bytes) {
  CacheEntryHeader h;
  if (bytes.size() < kHeaderBytes) {
    h.problem = "truncated header";
    return h;
  }
  if (std::memcmp(bytes.data(), kMagic, 8) != 0) {
    h.problem = "not a kiln cache entry";
    return h;
  }
  uint32_t version, reserved;
  std::memcpy(&version, bytes.data() + 8, 4);
  std::memcpy(&reserved, bytes.data() + 12, 4);
  std::memcpy(&h.key_bytes, bytes.data() + 16, 8);
  std::memcpy(&h.object_bytes, bytes.data() + 24, 8);
  if (version != kFormatVersion)
    h.problem = "format version " + std::to_string(version) + ", expected " + std::to_string(kFormatVersion);
  // The checksum covers key and object only: every header field is checked.
  else if (reserved != 0)
    h.problem = "reserved header field not zero";
  return h;
}

DecodedCacheEntry decode_cache_entry(std::string_view bytes) {
  DecodedCacheEntry p;
  CacheEntryHeader h = decode_cache_entry_header(bytes);
  if (!h.problem.empty()) {
    p.problem = h.problem;
    return p;
  }
  const uint64_t key_bytes = h.key_bytes, object_bytes = h.object_bytes;
  uint64_t body = bytes.size() - kHeaderBytes;
  if (key_bytes > body || object_bytes != body - key_bytes) {
    p.problem = "size mismatch (truncated or extended)";
    return p;
  }
  p.key = std::string(bytes.substr(kHeaderBytes, key_bytes));
  p.object = std::string(bytes.substr(kHeaderBytes + key_bytes));
  std::array<uint8_t, 32> d = sha256(p.key, p.object);
  if (std::memcmp(d.data(), bytes.data() + 32, 32) != 0) p.problem = "checksum mismatch";
  return p;
}

}  // namespace kiln::codegen
