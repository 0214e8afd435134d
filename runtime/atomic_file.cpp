#include "runtime/atomic_file.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <random>
#include <stdexcept>

#include "runtime/unique_fd.h"

namespace kiln::runtime {

namespace {

// A name nobody can predict, so nobody can plant something under it first
// (O_EXCL would refuse it anyway; this keeps retries rare).
std::string random_suffix() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(rng()));
  return buf;
}

[[noreturn]] void fail(const std::string& what, int error) {
  throw std::runtime_error(what + ": " + std::strerror(error));
}

// Under RLIMIT_FSIZE (`ulimit -f`), a write past the limit raises SIGXFSZ,
// whose default action ends the process: a cache write would kill the
// program. The file written here is new and written from offset 0, so if
// its whole size is within the limit no write can cross it; checking that
// first is enough. (The other way, ignoring SIGXFSZ process-wide, would
// change what the signal does to the host program's own writes. A program
// that ignores SIGXFSZ itself gets EFBIG from write(), handled like any
// write error. Only a limit lowered from outside while the file is written
// is not covered.)
void check_file_size_limit(uint64_t bytes) {
  rlimit limit;
  if (getrlimit(RLIMIT_FSIZE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY || bytes <= limit.rlim_cur) return;
  throw std::runtime_error("the file would be " + std::to_string(bytes) +
                           " bytes, over this process's file size limit (ulimit -f) of " +
                           std::to_string(limit.rlim_cur) + " bytes");
}

}  // namespace

void write_file_atomically(int dir_fd, const std::string& name, std::initializer_list<std::string_view> parts,
                           const std::string& temp_prefix, mode_t mode, bool sync) {
  uint64_t bytes = 0;
  for (std::string_view part : parts) bytes += part.size();
  check_file_size_limit(bytes);
  std::string tmp;
  UniqueFd fd;
  for (int attempt = 0; !fd; ++attempt) {
    tmp = temp_prefix + random_suffix();
    fd = UniqueFd(openat(dir_fd, tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode));
    if (!fd && (errno != EEXIST || attempt == 100)) fail("cannot create a temporary file", errno);
  }
  // From here on, a failure removes the temporary file.
  auto abandon = [&](const std::string& what) {
    int error = errno;
    fd.reset();
    unlinkat(dir_fd, tmp.c_str(), 0);
    fail(what, error);
  };
  for (std::string_view part : parts) {
    size_t done = 0;
    while (done < part.size()) {
      ssize_t n = write(fd.get(), part.data() + done, part.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        if (n == 0) errno = EIO;
        abandon("cannot write");
      }
      done += size_t(n);
    }
  }
  if (sync && fsync(fd.get()) != 0) abandon("cannot flush");
  // close() can report a write that failed late (NFS, quotas).
  if (fd.reset() != 0) abandon("cannot write");
  if (renameat(dir_fd, tmp.c_str(), dir_fd, name.c_str()) != 0) abandon("cannot rename the temporary file into place");
  if (sync) fsync(dir_fd);  // best effort: the rename itself reaches the disk
}

void write_file_atomically(const std::string& path, std::initializer_list<std::string_view> parts, mode_t mode,
                           bool sync) {
  size_t slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  if (name.empty() || name == "." || name == "..") throw std::runtime_error("not a file name");
  UniqueFd dir_fd(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir_fd) fail("cannot open the directory " + dir, errno);
  write_file_atomically(dir_fd.get(), name, parts, "." + name + ".tmp-", mode, sync);
}

}  // namespace kiln::runtime
