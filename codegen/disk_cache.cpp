#include "codegen/disk_cache.h"

#include "codegen/disk_cache_entry.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <llvm/ADT/ArrayRef.h>
#include <llvm/ADT/StringRef.h>
#include <llvm/Support/SHA256.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <iostream>
#include <stdexcept>

#include "runtime/atomic_file.h"
#include "runtime/env.h"
#include "runtime/unique_fd.h"

namespace kiln::codegen {

using runtime::UniqueFd;

namespace {

constexpr const char* kSuffix = ".kobj";
constexpr const char* kTempPrefix = ".tmp-";
// A temporary file this old was left by a process that died mid-write.
constexpr int64_t kStaleTempSeconds = 3600;

using Digest = std::array<uint8_t, 32>;

Digest sha256(const std::string& a, const std::string& b = "") {
  llvm::SHA256 h;
  h.update(llvm::StringRef(a));
  h.update(llvm::StringRef(b));
  return h.final();
}

std::string hex(const uint8_t* p, size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    s += digits[p[i] >> 4];
    s += digits[p[i] & 15];
  }
  return s;
}

std::string errno_text() { return std::strerror(errno); }

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Creates each missing directory of `path` with mode 0700.
void make_directories(const std::string& path) {
  for (size_t pos = 1; pos <= path.size(); ++pos) {
    if (pos != path.size() && path[pos] != '/') continue;
    std::string prefix = path.substr(0, pos);
    if (mkdir(prefix.c_str(), 0700) != 0 && errno != EEXIST)
      throw std::runtime_error("cannot create " + prefix + ": " + errno_text());
  }
}

// Opens the file `name` of the directory `dir_fd` for reading if it is a
// regular file that this user owns; otherwise returns no descriptor, with
// *problem saying why ("" when there is no such file). Anything may sit
// under an entry's name: O_NONBLOCK keeps open() from waiting for a writer
// when it is a FIFO (it changes nothing for a regular file), O_NOFOLLOW
// refuses a symbolic link, and the type and owner are checked on the open
// file before a byte is read.
UniqueFd open_entry(int dir_fd, const std::string& name, struct stat* st, std::string* problem) {
  problem->clear();
  UniqueFd fd(openat(dir_fd, name.c_str(), O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) {
    if (errno == ELOOP) *problem = "a symbolic link";
    else if (errno != ENOENT) *problem = "cannot open: " + errno_text();
    return fd;
  }
  if (fstat(fd.get(), st) != 0) *problem = "cannot stat: " + errno_text();
  else if (!S_ISREG(st->st_mode)) *problem = "not a regular file";
  else if (st->st_uid != geteuid()) *problem = "owned by user id " + std::to_string(st->st_uid) + ", not by this user";
  if (!problem->empty()) fd.reset();
  return fd;
}

// Reads the entry open as fd, of st.st_size bytes (disk_cache_entry.h). The
// header comes first: the sizes it claims are checked against the bounds
// and the file's size before anything is allocated for them, so a huge or
// lying file costs one 64-byte read.
DecodedCacheEntry read_entry(int fd, const struct stat& st) {
  DecodedCacheEntry p;
  std::string bytes = runtime::read_up_to(fd, kCacheEntryHeaderBytes);
  CacheEntryHeader h = decode_cache_entry_header(bytes);
  if (!h.problem.empty()) {
    p.problem = h.problem;
  } else if (h.key_bytes > DiskCache::kMaxKeyBytes || h.object_bytes > DiskCache::kMaxObjectBytes) {
    p.problem = "the header claims " + std::to_string(h.key_bytes) + " key and " + std::to_string(h.object_bytes) +
                " object bytes, over the bounds";
  } else if (uint64_t(st.st_size) != kCacheEntryHeaderBytes + h.key_bytes + h.object_bytes) {
    // (Bounded, so this sum does not overflow.)
    p.problem = "size mismatch (truncated or extended)";
  } else {
    bytes += runtime::read_up_to(fd, size_t(h.key_bytes + h.object_bytes));
    p = decode_cache_entry(bytes);  // checks the sizes read and the checksum
  }
  return p;
}

// The names in the directory `dir_fd`. It is read through a descriptor of
// its own (a dup would share the read position with other threads' reads).
std::vector<std::string> directory_files(int dir_fd) {
  std::vector<std::string> names;
  int fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return names;
  DIR* d = fdopendir(fd);
  if (!d) {
    close(fd);
    return names;
  }
  while (dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(n);
  }
  closedir(d);
  return names;
}

}  // namespace

std::string DiskCache::default_directory() {
  if (const char* d = std::getenv("KILN_CACHE_DIR"); d && *d) return d;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return std::string(x) + "/kiln";
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.cache/kiln";
  return "";
}

uint64_t DiskCache::max_bytes_from_environment() {
  return uint64_t(runtime::env_int("KILN_CACHE_MAX_BYTES", int64_t(kDefaultMaxBytes), 0, int64_t(kMaxMaxBytes)));
}

bool DiskCache::off_in_environment() { return runtime::env_choice("KILN_CACHE", "on", {"on", "off"}) == "off"; }

std::unique_ptr<DiskCache> DiskCache::from_environment(std::string* why_not) {
  auto refuse = [&](const std::string& why) -> std::unique_ptr<DiskCache> {
    if (why_not) *why_not = why;
    return nullptr;
  };
  if (off_in_environment()) return refuse("KILN_CACHE=off");
  std::string dir = default_directory();
  if (dir.empty()) return refuse("no cache directory: set KILN_CACHE_DIR or HOME");
  try {
    return std::make_unique<DiskCache>(dir, max_bytes_from_environment());
  } catch (const std::runtime_error& e) {
    std::cerr << "kiln: warning: not using the kernel cache directory: " << e.what()
              << "; compiled kernels are kept in memory only\n";
    return refuse(e.what());
  }
}

DiskCache::DiskCache(std::string dir, uint64_t max_bytes) : dir_(std::move(dir)), max_bytes_(max_bytes) {
  while (dir_.size() > 1 && dir_.back() == '/') dir_.pop_back();
  make_directories(dir_);
  // The directory is checked and used through this descriptor, never by its
  // path again: if its parent lets someone else replace it (by a link to a
  // directory of their choosing) after the checks, entries still go here.
  UniqueFd fd(open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) {
    if (errno == ELOOP || errno == ENOTDIR)
      throw std::runtime_error(dir_ + " is a symbolic link or not a directory; name the directory itself");
    throw std::runtime_error("cannot open " + dir_ + ": " + errno_text());
  }
  struct stat st;
  if (fstat(fd.get(), &st) != 0) throw std::runtime_error("cannot stat " + dir_ + ": " + errno_text());
  if (st.st_uid != geteuid())
    throw std::runtime_error(dir_ + " is owned by user id " + std::to_string(st.st_uid) +
                             ", not by this user (id " + std::to_string(geteuid()) + ")");
  if (st.st_mode & (S_IWGRP | S_IWOTH)) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", unsigned(st.st_mode & 07777));
    throw std::runtime_error(dir_ + " is writable by other users (mode " + mode + "); chmod 700 it");
  }
  dir_fd_ = std::move(fd);
}

std::string DiskCache::file_name(const std::string& key) {
  Digest d = sha256(key);
  return hex(d.data(), 16) + kSuffix;
}

std::optional<std::string> DiskCache::load(const std::string& key) {
  struct stat st;
  std::string problem;
  UniqueFd fd = open_entry(dir_fd_.get(), file_name(key), &st, &problem);
  if (!fd) {
    // A file that is there but unusable (a FIFO, a link, another user's) is
    // discarded like a corrupt one.
    (problem.empty() ? misses_ : rejected_)++;
    return std::nullopt;
  }
  DecodedCacheEntry p = read_entry(fd.get(), st);
  if (!p.problem.empty() || p.key != key) {
    rejected_++;
    return std::nullopt;
  }
  futimens(fd.get(), nullptr);  // recently used: evicted last
  hits_++;
  return std::move(p.object);
}

void DiskCache::store(const std::string& key, const std::string& object) {
  if (key.size() > kMaxKeyBytes || object.size() > kMaxObjectBytes) return;  // it would be rejected
  // Atomic (readers see the old entry or the new one), and unflushed: a
  // crash may leave a partial entry, which its checksum rejects, and a
  // flush per kernel would cost more than the cache saves on slow disks.
  try {
    runtime::write_file_atomically(dir_fd_.get(), file_name(key), {encode_cache_entry(key, object)}, kTempPrefix,
                                   0600, /*sync=*/false);
  } catch (const std::runtime_error&) {
    return;  // the cache is an optimization: the kernel stays in memory
  }
  writes_++;
  evict();
}

void DiskCache::evict() {
  struct File {
    std::string name;
    uint64_t bytes;
    int64_t mtime_ns;
  };
  std::vector<File> files;
  uint64_t total = 0;
  int64_t now = int64_t(std::time(nullptr));
  for (const std::string& n : directory_files(dir_fd_.get())) {
    struct stat st;
    if (fstatat(dir_fd_.get(), n.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode)) continue;
    if (n.rfind(kTempPrefix, 0) == 0) {
      if (now - int64_t(st.st_mtime) > kStaleTempSeconds) unlinkat(dir_fd_.get(), n.c_str(), 0);
      continue;
    }
    if (!ends_with(n, kSuffix)) continue;
    files.push_back({n, uint64_t(st.st_size), int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec});
    total += uint64_t(st.st_size);
  }
  if (total <= max_bytes_) return;
  std::sort(files.begin(), files.end(), [](const File& a, const File& b) { return a.mtime_ns < b.mtime_ns; });
  for (const File& f : files) {
    if (total <= max_bytes_) break;
    // Another process may have evicted it already: either way it is gone.
    if (unlinkat(dir_fd_.get(), f.name.c_str(), 0) == 0) evicted_++;
    total -= f.bytes;
  }
}

std::vector<DiskCacheEntry> DiskCache::list() const {
  std::vector<DiskCacheEntry> entries;
  for (const std::string& n : directory_files(dir_fd_.get())) {
    if (!ends_with(n, kSuffix) && n.rfind(kTempPrefix, 0) != 0) continue;
    DiskCacheEntry e;
    e.file = n;
    struct stat st;
    UniqueFd fd = open_entry(dir_fd_.get(), n, &st, &e.problem);
    if (!fd) {
      if (e.problem.empty()) continue;  // removed since the directory was read
      entries.push_back(e);
      continue;
    }
    e.bytes = uint64_t(st.st_size);
    e.last_use = int64_t(st.st_mtime);
    if (n.rfind(kTempPrefix, 0) == 0) {
      e.problem = "temporary file (a write in progress, or left by a crash)";
      entries.push_back(e);
      continue;
    }
    DecodedCacheEntry p = read_entry(fd.get(), st);
    e.key = p.key;
    e.problem = p.problem;
    if (p.problem.empty() && file_name(p.key) != n) e.problem = "file name does not match its key";
    e.valid = e.problem.empty();
    entries.push_back(e);
  }
  std::sort(entries.begin(), entries.end(),
            [](const DiskCacheEntry& a, const DiskCacheEntry& b) { return a.last_use > b.last_use; });
  return entries;
}

size_t DiskCache::clear() {
  size_t removed = 0;
  for (const std::string& n : directory_files(dir_fd_.get()))
    if ((ends_with(n, kSuffix) || n.rfind(kTempPrefix, 0) == 0) && unlinkat(dir_fd_.get(), n.c_str(), 0) == 0)
      removed++;
  return removed;
}

size_t DiskCache::remove_invalid() {
  size_t removed = 0;
  for (const DiskCacheEntry& e : list())
    if (!e.valid && ends_with(e.file, kSuffix) && unlinkat(dir_fd_.get(), e.file.c_str(), 0) == 0) removed++;
  return removed;
}

DiskCacheStats DiskCache::stats() const {
  return {hits_.load(), misses_.load(), rejected_.load(), writes_.load(), evicted_.load()};
}

void DiskCache::reset_stats() { hits_ = misses_ = rejected_ = writes_ = evicted_ = 0; }

}  // namespace kiln::codegen
