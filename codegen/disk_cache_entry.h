#pragma once
// The bytes of one disk cache entry (disk_cache.h), apart from any file:
// what DiskCache writes and what it checks before loading anything. Kept
// as functions of bytes so that the format is tested and fuzzed directly
// (tests/fuzz/fuzz_cache_entry.cpp).
//
// Layout (little-endian, as written by this machine; a foreign byte order
// fails the magic):
//   0  magic "KILNOBJ\n"   8  format version (u32)   12  zero (u32)
//   16 key bytes (u64)     24 object bytes (u64)     32  SHA-256(key ++ object)
//   64 key, then object
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace kiln::codegen {

// The entry for `object` stored under `key`.
std::string encode_cache_entry(const std::string& key, const std::string& object);

inline constexpr size_t kCacheEntryHeaderBytes = 64;

struct CacheEntryHeader {
  uint64_t key_bytes = 0, object_bytes = 0;
  std::string problem;  // "" when the header is valid; else why not
};

// The sizes an entry's first kCacheEntryHeaderBytes bytes announce, after
// checking magic, version and the reserved field: a reader checks them
// against its bounds and the file's size before reading the rest.
CacheEntryHeader decode_cache_entry_header(std::string_view header);

struct DecodedCacheEntry {
  std::string key, object;
  std::string problem;  // "" when the entry is intact; else why not (then key and object may be partial)
};

// Splits an entry into key and object, checking magic, version, sizes and
// checksum. Never throws on malformed bytes: problem says what is wrong.
DecodedCacheEntry decode_cache_entry(std::string_view bytes);

}  // namespace kiln::codegen
