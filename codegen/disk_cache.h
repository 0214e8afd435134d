#pragma once
// The on-disk cache of compiled kernels (object code), shared by every kiln
// process of one user. It is a trust boundary (DESIGN.md): whatever is
// loaded from it runs as native code, so
//   - the directory is per-user: $KILN_CACHE_DIR, else $XDG_CACHE_HOME/kiln,
//     else ~/.cache/kiln, created with mode 0700; one that others can write
//     to, that another user owns or that is a symbolic link is refused (a
//     warning, memory only);
//   - it is opened once and held open: every entry is read, written and
//     removed relative to that descriptor, so replacing the directory's path
//     later (by a link elsewhere) does not redirect the cache;
//   - an entry is written to a temporary file of a fresh name and renamed
//     into place (runtime/atomic_file.h), so a reader never sees half an
//     entry, and several processes can share the directory;
//   - an entry starts with a header (magic, format version, the full key, the
//     object's size, a SHA-256 of key and object: disk_cache_entry.h);
//     anything that does not match exactly what was asked for is discarded,
//     never loaded;
//   - an entry is opened without blocking and read only if it is a regular
//     file of this user, header first: sizes over kMaxKeyBytes or
//     kMaxObjectBytes, or that do not add up to the file's size, are
//     rejected before anything is allocated for them.
// KILN_CACHE=off turns it off (=on, the default, leaves it on);
// KILN_CACHE_MAX_BYTES bounds its size (the least recently used entries are
// evicted first). Other values are ignored with a warning
// (runtime/env.h).
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "runtime/unique_fd.h"

namespace kiln::codegen {

struct DiskCacheStats {
  uint64_t hits = 0;      // entries loaded
  uint64_t misses = 0;    // keys not found
  uint64_t rejected = 0;  // entries found but discarded (corrupt, truncated, foreign)
  uint64_t writes = 0;    // entries stored
  uint64_t evicted = 0;   // entries removed to stay under the size bound
};

// One entry as `kiln-cache list` shows it.
struct DiskCacheEntry {
  std::string file;   // file name inside the directory
  uint64_t bytes = 0;  // file size
  int64_t last_use = 0;  // seconds since the epoch (loads refresh it)
  std::string key;     // the full key ("" when the header is unreadable)
  bool valid = false;  // header, size and checksum check out
  std::string problem;  // why not, when !valid
};

class DiskCache {
 public:
  static constexpr uint64_t kDefaultMaxBytes = uint64_t(1) << 30;  // 1 GiB
  static constexpr uint64_t kMaxMaxBytes = uint64_t(1) << 40;      // 1 TiB: a larger bound is a mistake
  // The largest key and object an entry may hold. A kernel's object is a few
  // KiB; the bounds let a reader refuse a huge file before allocating for
  // it. Larger objects are not stored.
  static constexpr uint64_t kMaxKeyBytes = uint64_t(1) << 20;      // 1 MiB
  static constexpr uint64_t kMaxObjectBytes = uint64_t(64) << 20;  // 64 MiB

  // The cache the environment asks for, or null when KILN_CACHE=off or the
  // directory is refused (a warning to stderr says why). `why_not` receives
  // the reason when null is returned.
  static std::unique_ptr<DiskCache> from_environment(std::string* why_not = nullptr);
  // The directory the environment names (whether or not it is usable).
  static std::string default_directory();
  // KILN_CACHE_MAX_BYTES, else kDefaultMaxBytes (a warning if it is not a
  // number of bytes from 0 to kMaxMaxBytes).
  static uint64_t max_bytes_from_environment();
  // Whether KILN_CACHE=off (else "on", the default; a warning for another
  // value).
  static bool off_in_environment();

  // Opens (creating it with mode 0700 if needed) and checks `dir`, and keeps
  // it open. Throws std::runtime_error with the reason if it is not safe to
  // use.
  DiskCache(std::string dir, uint64_t max_bytes);

  // The object stored under `key`, or nothing. An entry whose header, size,
  // key or checksum does not match is counted as rejected and ignored.
  std::optional<std::string> load(const std::string& key);
  // Stores `object` under `key` (atomically), then evicts least recently
  // used entries while the directory holds more than max_bytes. Failures to
  // write are silent: the cache is an optimization.
  void store(const std::string& key, const std::string& object);

  std::vector<DiskCacheEntry> list() const;
  // Removes every entry (and stray temporary files); returns how many.
  size_t clear();
  // Removes the entries that fail their checks; returns how many.
  size_t remove_invalid();

  const std::string& directory() const { return dir_; }
  uint64_t max_bytes() const { return max_bytes_; }
  DiskCacheStats stats() const;
  void reset_stats();

  // The file an entry for `key` lives in (a hash of the key).
  static std::string file_name(const std::string& key);

 private:
  void evict();

  std::string dir_;         // for messages only: entries are found through dir_fd_
  runtime::UniqueFd dir_fd_;
  uint64_t max_bytes_;
  std::atomic<uint64_t> hits_{0}, misses_{0}, rejected_{0}, writes_{0}, evicted_{0};
};

}  // namespace kiln::codegen
