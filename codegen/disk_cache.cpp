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
#include <random>
#include <stdexcept>

namespace kiln::codegen {

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

// Reads a whole file that this user owns; false if it cannot.
bool read_owned_file(const std::string& path, std::string* out, struct stat* st) {
  int fd = open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = fstat(fd, st) == 0 && S_ISREG(st->st_mode) && st->st_uid == geteuid();
  if (ok) {
    out->resize(size_t(st->st_size));
    size_t done = 0;
    while (done < out->size()) {
      ssize_t n = read(fd, out->data() + done, out->size() - done);
      if (n <= 0) break;
      done += size_t(n);
    }
    out->resize(done);
  }
  close(fd);
  return ok;
}

std::vector<std::string> directory_files(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = opendir(dir.c_str());
  if (!d) return names;
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
  const char* m = std::getenv("KILN_CACHE_MAX_BYTES");
  if (!m || !*m) return kDefaultMaxBytes;
  char* end = nullptr;
  unsigned long long v = std::strtoull(m, &end, 10);
  if (*end == 0) return v;
  std::cerr << "kiln: ignoring KILN_CACHE_MAX_BYTES=" << m << " (not a number of bytes)\n";
  return kDefaultMaxBytes;
}

std::unique_ptr<DiskCache> DiskCache::from_environment(std::string* why_not) {
  auto refuse = [&](const std::string& why) -> std::unique_ptr<DiskCache> {
    if (why_not) *why_not = why;
    return nullptr;
  };
  if (const char* c = std::getenv("KILN_CACHE"); c && std::string(c) == "off")
    return refuse("KILN_CACHE=off");
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
  struct stat st;
  if (stat(dir_.c_str(), &st) != 0) throw std::runtime_error("cannot stat " + dir_ + ": " + errno_text());
  if (!S_ISDIR(st.st_mode)) throw std::runtime_error(dir_ + " is not a directory");
  if (st.st_uid != geteuid())
    throw std::runtime_error(dir_ + " is owned by user id " + std::to_string(st.st_uid) +
                             ", not by this user (id " + std::to_string(geteuid()) + ")");
  if (st.st_mode & (S_IWGRP | S_IWOTH)) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", unsigned(st.st_mode & 07777));
    throw std::runtime_error(dir_ + " is writable by other users (mode " + mode + "); chmod 700 it");
  }
}

std::string DiskCache::file_name(const std::string& key) {
  Digest d = sha256(key);
  return hex(d.data(), 16) + kSuffix;
}

std::optional<std::string> DiskCache::load(const std::string& key) {
  std::string path = dir_ + "/" + file_name(key);
  std::string bytes;
  struct stat st;
  if (!read_owned_file(path, &bytes, &st)) {
    misses_++;
    return std::nullopt;
  }
  DecodedCacheEntry p = decode_cache_entry(bytes);
  if (!p.problem.empty() || p.key != key) {
    rejected_++;
    return std::nullopt;
  }
  utimensat(AT_FDCWD, path.c_str(), nullptr, 0);  // recently used: evicted last
  hits_++;
  return std::move(p.object);
}

void DiskCache::store(const std::string& key, const std::string& object) {
  static std::atomic<uint64_t> counter{0};
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::string entry = encode_cache_entry(key, object);

  std::string tmp = dir_ + "/" + kTempPrefix + std::to_string(getpid()) + "-" +
                    std::to_string(counter++) + "-" + std::to_string(rng() % 1000000007);
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return;
  bool ok = true;
  size_t done = 0;
  while (ok && done < entry.size()) {
    ssize_t n = write(fd, entry.data() + done, entry.size() - done);
    if (n <= 0) ok = false;
    else done += size_t(n);
  }
  ok = close(fd) == 0 && ok;
  // rename() replaces the entry atomically: readers see the old file or
  // the new one, never a mix.
  if (!ok || rename(tmp.c_str(), (dir_ + "/" + file_name(key)).c_str()) != 0) {
    unlink(tmp.c_str());
    return;
  }
  writes_++;
  evict();
}

void DiskCache::evict() {
  struct File {
    std::string path;
    uint64_t bytes;
    int64_t mtime_ns;
  };
  std::vector<File> files;
  uint64_t total = 0;
  int64_t now = int64_t(std::time(nullptr));
  for (const std::string& n : directory_files(dir_)) {
    struct stat st;
    std::string path = dir_ + "/" + n;
    if (lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    if (n.rfind(kTempPrefix, 0) == 0) {
      if (now - int64_t(st.st_mtime) > kStaleTempSeconds) unlink(path.c_str());
      continue;
    }
    if (!ends_with(n, kSuffix)) continue;
    files.push_back({path, uint64_t(st.st_size), int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec});
    total += uint64_t(st.st_size);
  }
  if (total <= max_bytes_) return;
  std::sort(files.begin(), files.end(), [](const File& a, const File& b) { return a.mtime_ns < b.mtime_ns; });
  for (const File& f : files) {
    if (total <= max_bytes_) break;
    // Another process may have evicted it already: either way it is gone.
    if (unlink(f.path.c_str()) == 0) evicted_++;
    total -= f.bytes;
  }
}

std::vector<DiskCacheEntry> DiskCache::list() const {
  std::vector<DiskCacheEntry> entries;
  for (const std::string& n : directory_files(dir_)) {
    if (!ends_with(n, kSuffix) && n.rfind(kTempPrefix, 0) != 0) continue;
    DiskCacheEntry e;
    e.file = n;
    std::string bytes;
    struct stat st;
    if (!read_owned_file(dir_ + "/" + n, &bytes, &st)) {
      e.problem = "not a regular file owned by this user";
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
    DecodedCacheEntry p = decode_cache_entry(bytes);
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
  for (const std::string& n : directory_files(dir_))
    if ((ends_with(n, kSuffix) || n.rfind(kTempPrefix, 0) == 0) && unlink((dir_ + "/" + n).c_str()) == 0)
      removed++;
  return removed;
}

size_t DiskCache::remove_invalid() {
  size_t removed = 0;
  for (const DiskCacheEntry& e : list())
    if (!e.valid && ends_with(e.file, kSuffix) && unlink((dir_ + "/" + e.file).c_str()) == 0) removed++;
  return removed;
}

DiskCacheStats DiskCache::stats() const {
  return {hits_.load(), misses_.load(), rejected_.load(), writes_.load(), evicted_.load()};
}

void DiskCache::reset_stats() { hits_ = misses_ = rejected_ = writes_ = evicted_ = 0; }

}  // namespace kiln::codegen
