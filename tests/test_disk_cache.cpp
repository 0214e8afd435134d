// The disk kernel cache: the DiskCache class in this process, and the whole
// JIT across processes (tests/cache_probe.cpp run with a directory of our
// choosing): cold then warm, every kind of corruption, processes sharing a
// directory at once, refused directories, eviction, export/import, kiln-aot.
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>

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
// variables, e.g. "KILN_CACHE_MAX_BYTES=100").
Probe run_probe(const std::string& dir, const std::string& args, const std::string& env = "") {
  static int n = 0;
  std::string base = ::testing::TempDir() + "kiln_probe_" + std::to_string(getpid()) + "_" + std::to_string(n++);
  std::string cmd = "env -u KILN_CACHE KILN_CACHE_DIR='" + dir + "' " + env + " '" KILN_CACHE_PROBE "' " + args +
                    " >" + base + ".out 2>" + base + ".err";
  int status = std::system(cmd.c_str());
  Probe p = parse_probe_output(status, kiln_test::read_file(base + ".out"), kiln_test::read_file(base + ".err"));
  std::remove((base + ".out").c_str());
  std::remove((base + ".err").c_str());
  return p;
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
  auto tool = [&](const std::string& args, std::string* out) {
    std::string o = ::testing::TempDir() + "kiln_tool_" + std::to_string(getpid());
    int status = std::system(("'" KILN_CACHE_TOOL "' --dir '" + d.path + "' " + args + " >" + o + " 2>&1").c_str());
    *out = kiln_test::read_file(o);
    std::remove(o.c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  };
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
