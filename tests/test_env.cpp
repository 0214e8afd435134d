// kiln's environment variables: the shared reader (runtime/env.h) and each
// KILN_* variable through it. A bad value is ignored with one warning on
// stderr and the default applies; it is never used as it is.
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <thread>

#include "child_process.h"
#include "codegen/disk_cache.h"
#include "frontend/trace.h"
#include "frontend/transforms.h"
#include "runtime/dump.h"
#include "runtime/env.h"
#include "runtime/thread_pool.h"

using kiln::codegen::DiskCache;

namespace {

// Runs fn with `name` set to `value` (nullptr: unset), restoring it after;
// returns what fn printed to stderr.
template <typename Fn>
std::string with_env(const char* name, const char* value, Fn fn) {
  const char* old = std::getenv(name);
  std::string saved = old ? old : "";
  if (value) setenv(name, value, 1);
  else unsetenv(name);
  ::testing::internal::CaptureStderr();
  fn();
  std::string err = ::testing::internal::GetCapturedStderr();
  if (old) setenv(name, saved.c_str(), 1);
  else unsetenv(name);
  return err;
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace

TEST(Env, IntegersInRangeAreRead) {
  using kiln::runtime::env_int;
  for (auto [text, value] : {std::pair<const char*, int64_t>{"7", 7}, {"1", 1}, {"100", 100}, {"0042", 42}}) {
    std::string err = with_env("KILN_TEST_INT", text, [&, value = value] {
      EXPECT_EQ(env_int("KILN_TEST_INT", 5, 1, 100), value) << text;
    });
    EXPECT_EQ(err, "") << text;
  }
  EXPECT_EQ(with_env("KILN_TEST_INT", "-3", [] { EXPECT_EQ(env_int("KILN_TEST_INT", 0, -10, 10), -3); }), "");
}

TEST(Env, UnsetOrEmptyMeansTheDefaultSilently) {
  using kiln::runtime::env_int;
  EXPECT_EQ(with_env("KILN_TEST_INT", nullptr, [] { EXPECT_EQ(env_int("KILN_TEST_INT", 5, 1, 100), 5); }), "");
  EXPECT_EQ(with_env("KILN_TEST_INT", "", [] { EXPECT_EQ(env_int("KILN_TEST_INT", 5, 1, 100), 5); }), "");
}

TEST(Env, BadIntegersWarnOnceAndGiveTheDefault) {
  using kiln::runtime::env_int;
  for (const char* bad : {"0", "101", "-1", "99999999999", "99999999999999999999999", "-99999999999999999999999",
                          "abc", "12abc", " 12", "12 ", "+12", "1e3", "0x10", "-", "1.5"}) {
    std::string err = with_env("KILN_TEST_INT", bad, [] { EXPECT_EQ(env_int("KILN_TEST_INT", 5, 1, 100), 5); });
    EXPECT_TRUE(contains(err, std::string("ignoring KILN_TEST_INT=") + bad + ": expected an integer from 1 to 100; using 5"))
        << bad << ": " << err;
    // Once per variable and value.
    err = with_env("KILN_TEST_INT", bad, [] { EXPECT_EQ(env_int("KILN_TEST_INT", 5, 1, 100), 5); });
    EXPECT_EQ(err, "") << bad;
  }
}

TEST(Env, ChoicesAreExact) {
  using kiln::runtime::env_choice;
  auto read = [] { return env_choice("KILN_TEST_CHOICE", "on", {"on", "off"}); };
  EXPECT_EQ(with_env("KILN_TEST_CHOICE", "off", [&] { EXPECT_EQ(read(), "off"); }), "");
  EXPECT_EQ(with_env("KILN_TEST_CHOICE", nullptr, [&] { EXPECT_EQ(read(), "on"); }), "");
  for (const char* bad : {"Off", "0", "off ", "yes"}) {
    std::string err = with_env("KILN_TEST_CHOICE", bad, [&] { EXPECT_EQ(read(), "on"); });
    EXPECT_TRUE(contains(err, std::string("ignoring KILN_TEST_CHOICE=") + bad + ": expected on or off; using on"))
        << err;
  }
}

// KILN_NUM_THREADS=99999999999 created threads until the machine stalled.
TEST(Env, NumThreadsIsBounded) {
  using kiln::runtime::ThreadPool;
  const int cores = int(std::max(1u, std::thread::hardware_concurrency()));
  EXPECT_EQ(with_env("KILN_NUM_THREADS", "1", [] { EXPECT_EQ(ThreadPool::threads_from_environment(), 1); }), "");
  std::string max = std::to_string(ThreadPool::kMaxThreadsPerCore * cores);
  with_env("KILN_NUM_THREADS", max.c_str(), [&] {
    EXPECT_EQ(ThreadPool::threads_from_environment(), ThreadPool::kMaxThreadsPerCore * cores);
  });
  std::string above = std::to_string(ThreadPool::kMaxThreadsPerCore * cores + 1);
  for (const char* bad : {"99999999999", "0", "-4", "many", above.c_str()}) {
    std::string err = with_env("KILN_NUM_THREADS", bad, [&] { EXPECT_EQ(ThreadPool::threads_from_environment(), cores); });
    EXPECT_TRUE(contains(err, std::string("ignoring KILN_NUM_THREADS=") + bad)) << err;
  }
}

// KILN_CACHE_MAX_BYTES=-1 was read as 2^64 - 1 (no bound at all).
TEST(Env, CacheMaxBytesIsBounded) {
  EXPECT_EQ(with_env("KILN_CACHE_MAX_BYTES", "4096", [] { EXPECT_EQ(DiskCache::max_bytes_from_environment(), 4096u); }),
            "");
  with_env("KILN_CACHE_MAX_BYTES", "0", [] { EXPECT_EQ(DiskCache::max_bytes_from_environment(), 0u); });
  for (const char* bad : {"-1", "18446744073709551615", "2000000000000000", "1GiB", "lots"}) {
    std::string err = with_env("KILN_CACHE_MAX_BYTES", bad, [] {
      EXPECT_EQ(DiskCache::max_bytes_from_environment(), DiskCache::kDefaultMaxBytes);
    });
    EXPECT_TRUE(contains(err, std::string("ignoring KILN_CACHE_MAX_BYTES=") + bad)) << err;
  }
}

TEST(Env, CacheIsOnOrOff) {
  std::string dir = ::testing::TempDir() + "kiln_env_cache_" + std::to_string(getpid());
  setenv("KILN_CACHE_DIR", dir.c_str(), 1);
  with_env("KILN_CACHE", "off", [] { EXPECT_EQ(DiskCache::from_environment(), nullptr); });
  with_env("KILN_CACHE", "on", [] { EXPECT_NE(DiskCache::from_environment(), nullptr); });
  std::string err = with_env("KILN_CACHE", "disabled", [] { EXPECT_NE(DiskCache::from_environment(), nullptr); });
  EXPECT_TRUE(contains(err, "ignoring KILN_CACHE=disabled: expected on or off; using on")) << err;
  unsetenv("KILN_CACHE_DIR");
  rmdir(dir.c_str());
}

TEST(Env, ExecutorIsJitOrInterp) {
  using kiln::detail::use_interpreter;
  with_env("KILN_EXECUTOR", "interp", [] { EXPECT_TRUE(use_interpreter()); });
  with_env("KILN_EXECUTOR", "jit", [] { EXPECT_FALSE(use_interpreter()); });
  std::string err = with_env("KILN_EXECUTOR", "interpreter", [] { EXPECT_FALSE(use_interpreter()); });
  EXPECT_TRUE(contains(err, "ignoring KILN_EXECUTOR=interpreter: expected jit or interp; using jit")) << err;
}

// KILN_DISABLE_COMPILE is read once per process, so each value is tried in
// a child process of its own.
TEST(Env, DisableCompileIsZeroOrOne) {
  auto enabled_with = [](const char* value, bool expected, const std::string& warning) {
    return kiln_test::in_child([&]() -> std::string {
      setenv("KILN_DISABLE_COMPILE", value, 1);
      ::testing::internal::CaptureStderr();
      bool enabled = kiln::compile_enabled();
      std::string err = ::testing::internal::GetCapturedStderr();
      if (enabled != expected) return std::string("compile_enabled() is ") + (enabled ? "true" : "false");
      if (warning.empty() ? !err.empty() : !contains(err, warning))
        return "expected the warning '" + warning + "', got '" + err + "'";
      return "";
    });
  };
  EXPECT_EQ(enabled_with("1", false, ""), "");
  EXPECT_EQ(enabled_with("0", true, ""), "");
  EXPECT_EQ(enabled_with("yes", true, "ignoring KILN_DISABLE_COMPILE=yes: expected 0 or 1; using 0"), "");
}

TEST(Env, DumpNamesKnownStages) {
  using kiln::runtime::dump_enabled;
  with_env("KILN_DUMP", "ir,fusion", [] {
    EXPECT_TRUE(dump_enabled("ir"));
    EXPECT_TRUE(dump_enabled("fusion"));
    EXPECT_FALSE(dump_enabled("llvm"));
  });
  with_env("KILN_DUMP", "all", [] { EXPECT_TRUE(dump_enabled("asm")); });
  std::string err = with_env("KILN_DUMP", "ir,fusoin", [] {
    EXPECT_FALSE(dump_enabled("ir"));
    EXPECT_FALSE(dump_enabled("fusion"));
  });
  EXPECT_TRUE(contains(err, "ignoring KILN_DUMP=ir,fusoin: 'fusoin' is not a stage")) << err;
}

TEST(Env, DumpDirThatCannotBeMadeFallsBackToStderr) {
  std::string file = ::testing::TempDir() + "kiln_env_file_" + std::to_string(getpid());
  FILE* f = std::fopen(file.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fclose(f);
  std::string dir = file + "/dumps";  // under a regular file: cannot exist
  setenv("KILN_DUMP", "ir", 1);
  std::string err = with_env("KILN_DUMP_DIR", dir.c_str(), [] { kiln::runtime::dump("ir", "", "the dumped text\n"); });
  unsetenv("KILN_DUMP");
  std::remove(file.c_str());
  EXPECT_TRUE(contains(err, "ignoring KILN_DUMP_DIR=" + dir + ": not a directory that can be created")) << err;
  EXPECT_TRUE(contains(err, "the dumped text")) << err;
}
