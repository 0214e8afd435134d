// The disk kernel cache: the DiskCache class in this process, and the whole
// JIT across processes (tests/cache_probe.cpp run with a directory of our
// choosing): cold then warm, every kind of corruption, processes sharing a
// directory at once, refused directories, eviction, export/import, kiln-aot;
// and what others may do to the directory or the process: FIFOs and huge
// files under entry names, a file size limit, the directory swapped for a
// link.
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "child_process.h"
#include "codegen/disk_cache.h"
#include "codegen/disk_cache_entry.h"
#include "test_helpers.h"

namespace fs = std::filesystem;
using kiln::codegen::DiskCache;

namespace {

// A fresh directory for one test, removed afterwards.
struct TempDir {
  std::string path;
  explicit TempDir(const std::string& name) {
    path = ::testing::TempDir() + "kiln_disk_cache_" + name + "_" + std::to_string(getpid());
    fs::remove_all(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::permissions(path, fs::perms::owner_all, ec);
    fs::remove_all(path, ec);
  }
};


std::vector<std::string> entries(const std::string& dir) {
  std::vector<std::string> v;
  for (const auto& e : fs::directory_iterator(dir)) v.push_back(e.path().string());
  std::sort(v.begin(), v.end());
  return v;
}

// One run of cache_probe: its exit status and the "name value" lines it printed.
struct Probe {
  int status = -1;
  std::map<std::string, double> values;
  std::string stderr_text;
  double operator[](const std::string& k) const {
    auto it = values.find(k);
    return it == values.end() ? -1 : it->second;
  }
};

Probe parse_probe_output(int status, const std::string& out, const std::string& err) {
  Probe p;
  p.status = status;
  p.stderr_text = err;
  std::istringstream is(out);
  std::string name;
  double value;
  while (is >> name >> value) p.values[name] = value;
  return p;
}

// Runs `cache_probe args` with the disk cache in `dir` (env: extra
// variables, e.g. "KILN_CACHE_MAX_BYTES=100"; shell: commands run first in
// the shell that starts it, e.g. "ulimit -f 2"). A probe that hangs is
// killed after two minutes (exit status 124).
Probe run_probe(const std::string& dir, const std::string& args, const std::string& env = "",
                const std::string& shell = "") {
  static int n = 0;
  std::string base = ::testing::TempDir() + "kiln_probe_" + std::to_string(getpid()) + "_" + std::to_string(n++);
  std::string cmd = (shell.empty() ? "" : shell + "; ") + "timeout 120 env -u KILN_CACHE KILN_CACHE_DIR='" + dir +
                    "' " + env + " '" KILN_CACHE_PROBE "' " + args + " >" + base + ".out 2>" + base + ".err";
  int status = std::system(cmd.c_str());
  Probe p = parse_probe_output(status, kiln_test::read_file(base + ".out"), kiln_test::read_file(base + ".err"));
  std::remove((base + ".out").c_str());
  std::remove((base + ".err").c_str());
  return p;
}

// Runs `kiln-cache --dir dir args`; its exit status (124: it hung and was
// killed after a minute) and its output.
int run_tool(const std::string& dir, const std::string& args, std::string* out) {
  std::string o = ::testing::TempDir() + "kiln_tool_" + std::to_string(getpid());
  int status =
      std::system(("timeout 60 '" KILN_CACHE_TOOL "' --dir '" + dir + "' " + args + " >" + o + " 2>&1").c_str());
  *out = kiln_test::read_file(o);
  std::remove(o.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Temporary files (".tmp-...") left in a cache directory.
std::vector<std::string> temp_files(const std::string& dir) {
  std::vector<std::string> v;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename().string().rfind(".tmp-", 0) == 0) v.push_back(e.path().string());
  return v;
}

void expect_correct(const Probe& p) {
  EXPECT_EQ(p.status, 0) << p.stderr_text;
  EXPECT_GE(p["max_error"], 0);
  EXPECT_LT(p["max_error"], 1e-5);
}

}  // namespace

// --- the DiskCache class ---------------------------------------------------

TEST(DiskCache, StoresAndLoadsByKey) {
  TempDir d("roundtrip");
  DiskCache c(d.path, DiskCache::kDefaultMaxBytes);
  EXPECT_FALSE(c.load("key one").has_value());
  c.store("key one", std::string("object\0bytes", 12));
  c.store("key two", "other object");
  ASSERT_TRUE(c.load("key one").has_value());
  EXPECT_EQ(*c.load("key one"), std::string("object\0bytes", 12));
  EXPECT_EQ(*c.load("key two"), "other object");
  EXPECT_EQ(c.stats().writes, 2u);
  EXPECT_EQ(c.stats().hits, 3u);
  EXPECT_EQ(c.stats().misses, 1u);
  // Created private to this user.
  struct stat st;
  ASSERT_EQ(stat(d.path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  for (const auto& e : c.list()) EXPECT_TRUE(e.valid) << e.file << ": " << e.problem;
}

TEST(DiskCache, RejectsEveryCorruption) {
  TempDir d("corrupt");
  DiskCache c(d.path, DiskCache::kDefaultMaxBytes);
  const std::string key = "the key", object(300, 'x');
  c.store(key, object);
  c.store("another key", "another object");
  const std::string path = d.path + "/" + DiskCache::file_name(key);
  const std::string good = kiln_test::read_file(path);
  ASSERT_EQ(*c.load(key), object);

  std::vector<std::pair<std::string, std::string>> bad;
  // (12: the reserved field, which the checksum does not cover; found by
  // tests/fuzz/fuzz_cache_entry.cpp.)
  for (size_t at : {size_t(0), size_t(9), size_t(12), size_t(14), size_t(20), size_t(40), size_t(64),
                    good.size() - 1}) {
    std::string flipped = good;
    flipped[at] ^= 0x10;
    bad.push_back({"flipped byte " + std::to_string(at), flipped});
  }
  for (size_t len : {size_t(0), size_t(10), size_t(64), good.size() - 1})
    bad.push_back({"truncated to " + std::to_string(len), good.substr(0, len)});
  bad.push_back({"extended", good + "junk"});
  std::string other_version = good;
  other_version[8] = 2;  // the format version field
  bad.push_back({"other format version", other_version});
  bad.push_back({"other key", kiln_test::read_file(d.path + "/" + DiskCache::file_name("another key"))});
  bad.push_back({"not an entry", "#!/bin/sh\necho this is not a kernel\n"});

  for (const auto& [what, bytes] : bad) {
    kiln_test::write_file(path, bytes);
    uint64_t rejected = c.stats().rejected;
    EXPECT_FALSE(c.load(key).has_value()) << what;
    EXPECT_EQ(c.stats().rejected, rejected + 1) << what;
    bool listed_invalid = false;
    for (const auto& e : c.list())
      if (e.file == DiskCache::file_name(key)) listed_invalid = !e.valid;
    EXPECT_TRUE(listed_invalid) << what;
  }
  EXPECT_EQ(c.remove_invalid(), 1u);
  EXPECT_FALSE(fs::exists(path));
  c.store(key, object);  // recompiled and stored again
  EXPECT_EQ(*c.load(key), object);
}

// The entry format alone (disk_cache_entry.h): what DiskCache writes
// decodes to its key and object; every shorter prefix is rejected.
TEST(DiskCache, EntryFormatRoundTrips) {
  const std::string key = "kernel k\nir-sha256 00", object("\x7f" "ELF\0\1", 6);
  const std::string bytes = kiln::codegen::encode_cache_entry(key, object);
  kiln::codegen::DecodedCacheEntry e = kiln::codegen::decode_cache_entry(bytes);
  EXPECT_EQ(e.problem, "");
  EXPECT_EQ(e.key, key);
  EXPECT_EQ(e.object, object);
  for (size_t len = 0; len < bytes.size(); ++len)
    EXPECT_NE(kiln::codegen::decode_cache_entry(std::string_view(bytes).substr(0, len)).problem, "") << len;
}

TEST(DiskCache, EvictsLeastRecentlyUsedUnderTheBound) {
  TempDir d("evict");
  const std::string object(1000, 'o');
  DiskCache c(d.path, 4500);  // room for four entries (1000 B + header + key each)
  for (int i = 0; i < 4; ++i) {
    c.store("key " + std::to_string(i), object);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_TRUE(c.load("key 0").has_value());  // now the most recently used
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  c.store("key 4", object);
  c.store("key 5", object);
  uint64_t total = 0;
  for (const auto& e : c.list()) total += e.bytes;
  EXPECT_LE(total, 4500u);
  EXPECT_EQ(c.stats().evicted, 2u);
  EXPECT_TRUE(c.load("key 0").has_value());
  EXPECT_FALSE(c.load("key 1").has_value());
  EXPECT_FALSE(c.load("key 2").has_value());
  EXPECT_TRUE(c.load("key 5").has_value());
}

TEST(DiskCache, RefusesADirectoryOthersCanWrite) {
  TempDir d("shared");
  fs::create_directories(d.path);
  chmod(d.path.c_str(), 0777);
  try {
    DiskCache c(d.path, DiskCache::kDefaultMaxBytes);
    FAIL() << "a world-writable directory was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("writable by other users"), std::string::npos) << e.what();
  }
  chmod(d.path.c_str(), 0770);
  EXPECT_THROW(DiskCache(d.path, DiskCache::kDefaultMaxBytes), std::runtime_error);
}

TEST(DiskCache, RefusesADirectoryOfAnotherUser) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to give a directory to another user";
  TempDir d("foreign");
  fs::create_directories(d.path);
  chmod(d.path.c_str(), 0700);
  ASSERT_EQ(chown(d.path.c_str(), 65534, 65534), 0);
  try {
    DiskCache c(d.path, DiskCache::kDefaultMaxBytes);
    FAIL() << "another user's directory was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("owned by user id 65534"), std::string::npos) << e.what();
  }
}

TEST(DiskCache, EnvironmentChoosesTheDirectory) {
  auto with_env = [](std::map<std::string, const char*> vars, auto fn) {
    std::map<std::string, std::string> saved;
    for (auto& [k, v] : vars) {
      if (const char* old = std::getenv(k.c_str())) saved[k] = old;
      if (v) setenv(k.c_str(), v, 1);
      else unsetenv(k.c_str());
    }
    fn();
    for (auto& [k, v] : vars) {
      if (saved.count(k)) setenv(k.c_str(), saved[k].c_str(), 1);
      else unsetenv(k.c_str());
    }
  };
  with_env({{"KILN_CACHE_DIR", "/x/kc"}, {"XDG_CACHE_HOME", "/x/xdg"}, {"HOME", "/x/home"}},
           [] { EXPECT_EQ(DiskCache::default_directory(), "/x/kc"); });
  with_env({{"KILN_CACHE_DIR", nullptr}, {"XDG_CACHE_HOME", "/x/xdg"}, {"HOME", "/x/home"}},
           [] { EXPECT_EQ(DiskCache::default_directory(), "/x/xdg/kiln"); });
  with_env({{"KILN_CACHE_DIR", nullptr}, {"XDG_CACHE_HOME", nullptr}, {"HOME", "/x/home"}},
           [] { EXPECT_EQ(DiskCache::default_directory(), "/x/home/.cache/kiln"); });
  with_env({{"KILN_CACHE", "off"}}, [] {
    std::string why;
    EXPECT_EQ(DiskCache::from_environment(&why), nullptr);
    EXPECT_EQ(why, "KILN_CACHE=off");
  });
}

// Another user or a stray program may leave anything under an entry's
// name; a FIFO blocked open() until a writer came, hanging every load.
TEST(DiskCache, AFifoUnderAnEntryNameDoesNotHang) {
  TempDir d("fifo");
  DiskCache c(d.path, DiskCache::kDefaultMaxBytes);
  const std::string key = "fifo key";
  const std::string name = DiskCache::file_name(key);
  ASSERT_EQ(mkfifo((d.path + "/" + name).c_str(), 0600), 0);
  auto body = [&]() -> std::string {
    if (c.load(key)) return "a FIFO was loaded as an entry";
    if (c.stats().rejected != 1) return "the FIFO was not counted as rejected";
    bool listed_invalid = false;
    for (const auto& e : c.list())
      if (e.file == name) listed_invalid = !e.valid;
    if (!listed_invalid) return "list() did not show the FIFO as invalid";
    if (c.remove_invalid() != 1) return "remove_invalid() did not remove the FIFO";
    c.store(key, "object");
    if (c.load(key) != std::optional<std::string>("object")) return "no entry stored in the FIFO's place";
    return "";
  };
  EXPECT_EQ(kiln_test::in_child(body, 20), "");
}

namespace {

// Sets RLIMIT_AS to this process's current size plus `slack` bytes, so
// that a large allocation fails with std::bad_alloc (in a child process).
void limit_address_space(uint64_t slack) {
  std::ifstream statm("/proc/self/statm");
  uint64_t pages = 0;
  statm >> pages;
  rlimit r;
  r.rlim_cur = r.rlim_max = pages * uint64_t(sysconf(_SC_PAGESIZE)) + slack;
  setrlimit(RLIMIT_AS, &r);
}

}  // namespace

// An entry's claimed and actual sizes are checked before anything is
// allocated: a huge (sparse) file threw std::bad_alloc out of eval(), a few
// GiB cost seconds and as much memory.
TEST(DiskCache, HugeEntriesAreRejectedBeforeTheyAreRead) {
  TempDir d("huge");
  DiskCache c(d.path, DiskCache::kDefaultMaxBytes);
  const std::string key = "huge key";
  c.store(key, "small object");
  const std::string path = d.path + "/" + DiskCache::file_name(key);
  const std::string good = kiln_test::read_file(path);
  const uint64_t GiB = uint64_t(1) << 30;

  struct Case {
    std::string what;
    uint64_t claimed_object_bytes;  // written into the header
    uint64_t file_bytes;            // the (sparse) file's size
  };
  const uint64_t small = good.size() - 64 - key.size();
  std::vector<Case> cases = {
      {"a valid header in a 64 GiB file", small, 64 * GiB},
      {"a header and file of 64 GiB", 64 * GiB - 64 - key.size(), 64 * GiB},
      {"a header and file of 3 GiB", 3 * GiB - 64 - key.size(), 3 * GiB},
      {"a header claiming 64 GiB in a small file", 64 * GiB, good.size()},
      {"a header claiming 2^64 - 1 bytes", ~uint64_t(0), good.size()},
  };
  for (const Case& k : cases) {
    std::string bytes = good;
    std::memcpy(bytes.data() + 24, &k.claimed_object_bytes, 8);
    kiln_test::write_file(path, bytes);
    ASSERT_EQ(truncate(path.c_str(), off_t(k.file_bytes)), 0) << k.what;
    auto body = [&]() -> std::string {
      limit_address_space(256 << 20);
      if (c.load(key)) return "loaded";
      if (c.stats().rejected != 1) return "not counted as rejected";
      for (const auto& e : c.list())
        if (e.file == DiskCache::file_name(key) && e.valid) return "listed as valid";
      return "";
    };
    EXPECT_EQ(kiln_test::in_child(body, 20), "") << k.what;
  }
  EXPECT_EQ(c.remove_invalid(), 1u);
  // Objects above the bound are not stored either (they would be rejected).
  c.store("too big", std::string(DiskCache::kMaxObjectBytes + 1, 'x'));
  EXPECT_FALSE(fs::exists(d.path + "/" + DiskCache::file_name("too big")));
  EXPECT_TRUE(temp_files(d.path).empty());
}

// RLIMIT_FSIZE (`ulimit -f`) below an entry's size: writing it raised
// SIGXFSZ, whose default action ends the process, and left the temporary
// file behind. The store must fail quietly instead.
TEST(DiskCache, AFileSizeLimitFailsTheWriteNotTheProcess) {
  TempDir d("fsize");
  DiskCache c(d.path, DiskCache::kDefaultMaxBytes);
  auto body = [&]() -> std::string {
    rlimit r;
    r.rlim_cur = r.rlim_max = 4096;
    if (setrlimit(RLIMIT_FSIZE, &r) != 0) return "setrlimit failed";
    c.store("big", std::string(100000, 'x'));
    if (c.load("big")) return "an entry over the limit was stored";
    c.store("small", "object");
    if (!c.load("small")) return "an entry under the limit was not stored";
    struct sigaction sa;
    sigaction(SIGXFSZ, nullptr, &sa);
    if (sa.sa_handler != SIG_DFL) return "the process's SIGXFSZ disposition was changed";
    return "";
  };
  EXPECT_EQ(kiln_test::in_child(body, 20), "");
  EXPECT_TRUE(temp_files(d.path).empty());
  EXPECT_FALSE(fs::exists(d.path + "/" + DiskCache::file_name("big")));
}

// The directory is opened once and held: entries are read and written
// relative to it, so replacing its path by a symbolic link (possible when
// the parent is writable by others) does not redirect them.
TEST(DiskCache, ReplacingTheDirectoryByASymlinkDoesNotRedirectIt) {
  TempDir d("swap");
  fs::create_directories(d.path);
  const std::string dir = d.path + "/cache", moved = d.path + "/moved", other = d.path + "/other";
  DiskCache c(dir, DiskCache::kDefaultMaxBytes);
  c.store("before", "object before");
  fs::create_directory(other);
  ASSERT_EQ(rename(dir.c_str(), moved.c_str()), 0);
  fs::create_directory_symlink(other, dir);

  c.store("after", "object after");
  EXPECT_TRUE(fs::is_empty(other));
  EXPECT_TRUE(fs::exists(moved + "/" + DiskCache::file_name("after")));
  // Reads come from the directory opened, not from the link's target.
  kiln_test::write_file(other + "/" + DiskCache::file_name("before"), "planted");
  EXPECT_EQ(c.load("before"), std::optional<std::string>("object before"));
  EXPECT_EQ(c.list().size(), 2u);
  EXPECT_EQ(c.clear(), 2u);
  EXPECT_TRUE(fs::is_empty(moved));
  EXPECT_TRUE(fs::exists(other + "/" + DiskCache::file_name("before")));

  // A path that is a symbolic link is refused when the cache is opened.
  EXPECT_THROW(DiskCache(dir, DiskCache::kDefaultMaxBytes), std::runtime_error);
}

// --- the JIT across processes ----------------------------------------------

TEST(DiskCacheProcesses, ColdThenWarm) {
  TempDir d("warm");
  Probe cold = run_probe(d.path, "chain");
  expect_correct(cold);
  EXPECT_GE(cold["kernels_compiled"], 1);
  EXPECT_EQ(cold["disk_hits"], 0);
  EXPECT_EQ(cold["disk_writes"], cold["kernels_compiled"]);

  Probe warm = run_probe(d.path, "chain");
  expect_correct(warm);
  EXPECT_EQ(warm["kernels_compiled"], 0);
  EXPECT_EQ(warm["disk_hits"], cold["kernels_compiled"]);
  EXPECT_EQ(warm["disk_writes"], 0);

  // Other kernels are compiled, not mistaken for chain's.
  Probe rows = run_probe(d.path, "rows");
  expect_correct(rows);
  EXPECT_GE(rows["kernels_compiled"], 1);
}

// Constants are kernel parameters, not part of the key: a process using
// another value of a constant loads the kernel another one stored.
TEST(DiskCacheProcesses, OtherConstantValuesLoadTheStoredKernel) {
  TempDir d("scaled");
  Probe cold = run_probe(d.path, "scaled 2.5");
  expect_correct(cold);
  EXPECT_GE(cold["kernels_compiled"], 1);
  EXPECT_EQ(cold["disk_writes"], cold["kernels_compiled"]);
  for (const char* other : {"scaled 2.5", "scaled -7.25", "scaled 1000"}) {
    Probe warm = run_probe(d.path, other);
    expect_correct(warm);
    EXPECT_EQ(warm["kernels_compiled"], 0) << other;
    EXPECT_EQ(warm["disk_hits"], cold["kernels_compiled"]) << other;
  }
}

TEST(DiskCacheProcesses, CorruptEntriesAreRecompiled) {
  TempDir d("recompile");
  expect_correct(run_probe(d.path, "chain"));
  std::vector<std::string> files = entries(d.path);
  ASSERT_FALSE(files.empty());
  std::map<std::string, std::string> good;
  for (const auto& f : files) good[f] = kiln_test::read_file(f);

  const std::map<std::string, std::function<std::string(const std::string&)>> corruptions = {
      {"flipped byte", [](std::string s) { s[s.size() / 2] ^= 1; return s; }},
      {"truncated", [](std::string s) { return s.substr(0, s.size() / 2); }},
      {"other version", [](std::string s) { s[8] = 7; return s; }},
      {"not an entry", [](std::string) { return std::string("garbage"); }},
  };
  for (const auto& [what, corrupt] : corruptions) {
    for (const auto& [f, bytes] : good) kiln_test::write_file(f, corrupt(bytes));
    Probe p = run_probe(d.path, "chain");
    expect_correct(p);
    EXPECT_GE(p["kernels_compiled"], 1) << what;
    EXPECT_EQ(p["disk_rejected"], double(good.size())) << what;
    EXPECT_EQ(p["disk_hits"], 0) << what;
    // ... and stored again, valid.
    for (const auto& e : DiskCache(d.path, DiskCache::kDefaultMaxBytes).list()) EXPECT_TRUE(e.valid) << what;
  }

  // An entry of another key under chain's file names: rejected too.
  TempDir other("otherkey");
  expect_correct(run_probe(other.path, "rows"));
  std::string foreign = kiln_test::read_file(entries(other.path).at(0));
  for (const auto& [f, bytes] : good) kiln_test::write_file(f, foreign);
  Probe p = run_probe(d.path, "chain");
  expect_correct(p);
  EXPECT_GE(p["kernels_compiled"], 1);
  EXPECT_EQ(p["disk_rejected"], double(good.size()));
}

TEST(DiskCacheProcesses, ManyProcessesShareOneDirectory) {
  TempDir d("concurrent");
  const int n = 8;
  std::string base = ::testing::TempDir() + "kiln_concurrent_" + std::to_string(getpid());
  std::string cmd;
  for (int i = 0; i < n; ++i)
    cmd += "env -u KILN_CACHE KILN_CACHE_DIR='" + d.path + "' '" KILN_CACHE_PROBE "' " +
           (i % 2 ? "rows" : "chain") + " >" + base + std::to_string(i) + ".out 2>&1 & ";
  cmd += "wait";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  for (int i = 0; i < n; ++i) {
    std::string out = kiln_test::read_file(base + std::to_string(i) + ".out");
    std::remove((base + std::to_string(i) + ".out").c_str());
    Probe p = parse_probe_output(0, out, out);
    EXPECT_LT(p["max_error"], 1e-5) << out;
    EXPECT_GE(p["max_error"], 0) << out;
  }
  // Every entry intact, no temporary file left behind, and warm for both.
  for (const auto& e : DiskCache(d.path, DiskCache::kDefaultMaxBytes).list())
    EXPECT_TRUE(e.valid) << e.file << ": " << e.problem;
  for (const char* mode : {"chain", "rows"}) {
    Probe p = run_probe(d.path, mode);
    expect_correct(p);
    EXPECT_EQ(p["kernels_compiled"], 0) << mode;
  }
}

TEST(DiskCacheProcesses, RefusedDirectoryFallsBackToMemory) {
  TempDir d("refused");
  fs::create_directories(d.path);
  chmod(d.path.c_str(), 0777);
  Probe p = run_probe(d.path, "chain");
  expect_correct(p);
  EXPECT_GE(p["kernels_compiled"], 1);
  EXPECT_EQ(p["disk_writes"], 0);
  EXPECT_NE(p.stderr_text.find("writable by other users"), std::string::npos) << p.stderr_text;
  EXPECT_TRUE(entries(d.path).empty());
}

TEST(DiskCacheProcesses, OffMeansOff) {
  TempDir d("off");
  Probe p = run_probe(d.path, "chain", "KILN_CACHE=off");
  expect_correct(p);
  EXPECT_EQ(p["disk_writes"], 0);
  EXPECT_FALSE(fs::exists(d.path));
}

TEST(DiskCacheProcesses, TheBoundHolds) {
  TempDir d("bound");
  expect_correct(run_probe(d.path, "chain", "KILN_CACHE_MAX_BYTES=1"));
  expect_correct(run_probe(d.path, "rows", "KILN_CACHE_MAX_BYTES=1"));
  EXPECT_TRUE(entries(d.path).empty());  // each entry evicted as soon as written
}

TEST(DiskCacheProcesses, ExportImportAndAheadOfTimeCompilation) {
  TempDir d("aot");
  std::string file = ::testing::TempDir() + "kiln_chain_" + std::to_string(getpid()) + ".kfn";
  ASSERT_EQ(run_probe(d.path, "export " + file).status, 0);
  std::string aot = "env -u KILN_CACHE '" KILN_AOT "' --cache-dir '" + d.path + "' '" + file + "' >/dev/null";
  ASSERT_EQ(std::system(aot.c_str()), 0);
  // The importing process calls the function without compiling anything.
  Probe p = run_probe(d.path, "import " + file);
  expect_correct(p);
  EXPECT_EQ(p["kernels_compiled"], 0);
  EXPECT_GE(p["disk_hits"], 1);
  std::remove(file.c_str());
}

TEST(DiskCacheTool, ListVerifyClear) {
  TempDir d("tool");
  expect_correct(run_probe(d.path, "chain"));
  auto tool = [&](const std::string& args, std::string* out) { return run_tool(d.path, args, out); };
  std::string out;
  EXPECT_EQ(tool("list", &out), 0);
  EXPECT_NE(out.find("kernel in,f32"), std::string::npos) << out;
  EXPECT_EQ(tool("verify", &out), 0) << out;
  std::string victim = entries(d.path).at(0);
  kiln_test::write_file(victim, kiln_test::read_file(victim).substr(0, 70));
  EXPECT_EQ(tool("verify", &out), 1) << out;
  EXPECT_NE(out.find("size mismatch"), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(victim));  // verify removed it
  EXPECT_EQ(tool("stats", &out), 0);
  EXPECT_NE(out.find("invalid"), std::string::npos) << out;
  EXPECT_EQ(tool("clear", &out), 0);
  EXPECT_TRUE(entries(d.path).empty());
  EXPECT_EQ(tool("frobnicate", &out), 2);
}

TEST(DiskCacheProcesses, FifosUnderEntryNamesDoNotHangEvalOrTheTool) {
  TempDir d("fifos");
  expect_correct(run_probe(d.path, "chain"));
  std::vector<std::string> files = entries(d.path);
  ASSERT_FALSE(files.empty());
  auto plant_fifos = [&] {
    for (const auto& f : files) {
      fs::remove(f);
      ASSERT_EQ(mkfifo(f.c_str(), 0600), 0) << f;
    }
  };
  plant_fifos();
  Probe p = run_probe(d.path, "chain");
  expect_correct(p);
  EXPECT_GE(p["kernels_compiled"], 1);
  EXPECT_EQ(p["disk_rejected"], double(files.size()));

  plant_fifos();
  std::string out;
  EXPECT_EQ(run_tool(d.path, "list", &out), 0) << out;
  EXPECT_NE(out.find("INVALID"), std::string::npos) << out;
  EXPECT_EQ(run_tool(d.path, "verify", &out), 1) << out;
  for (const auto& f : files) EXPECT_FALSE(fs::exists(f)) << f;
}

TEST(DiskCacheProcesses, AFileSizeLimitOnlyKeepsKernelsInMemory) {
  TempDir d("ulimit");
  // 2 blocks (1 or 2 KiB, depending on the shell) is below any kernel
  // object and above what the probe prints.
  Probe p = run_probe(d.path, "chain", "", "ulimit -f 2");
  expect_correct(p);
  EXPECT_GE(p["kernels_compiled"], 1);
  EXPECT_EQ(p["disk_writes"], 0);
  EXPECT_TRUE(temp_files(d.path).empty());
}
