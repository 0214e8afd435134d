// Memory control (frontend/memory.h): the allocator's counters, the cache
// and its limit, the memory limit and KILN_MEMORY_LIMIT.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <vector>

#include "test_helpers.h"

using namespace kiln;

extern char** environ;

namespace {

constexpr size_t kMiB = size_t(1) << 20;

// A materialized float32 array of `bytes` bytes: exactly one allocation of
// that size (a multiple of 2 MiB is a block of its own size).
array block(size_t bytes) {
  std::vector<float> v(bytes / 4, 1.0f);
  return array(v.data(), Shape{int32_t(v.size())}, float32);
}

constexpr size_t kTestCacheLimit = size_t(2) << 30;

// Sets the cache limit for a test and restores the limits it changes.
struct LimitsGuard {
  size_t memory = get_memory_limit();
  size_t cache = set_cache_limit(kTestCacheLimit);
  ~LimitsGuard() {
    set_memory_limit(memory);
    set_cache_limit(cache);
  }
};

}  // namespace

TEST(Memory, ActiveAndPeakFollowAllocations) {
  LimitsGuard guard;
  size_t before = get_active_memory();
  reset_peak_memory();
  EXPECT_EQ(get_peak_memory(), before);
  {
    array a = block(8 * kMiB);
    EXPECT_EQ(get_active_memory(), before + 8 * kMiB);
    {
      array b = block(4 * kMiB);
      EXPECT_EQ(get_active_memory(), before + 12 * kMiB);
    }
    EXPECT_EQ(get_active_memory(), before + 8 * kMiB);
    // The peak remembers b.
    EXPECT_EQ(get_peak_memory(), before + 12 * kMiB);
    reset_peak_memory();
    EXPECT_EQ(get_peak_memory(), before + 8 * kMiB);
  }
  EXPECT_EQ(get_active_memory(), before);
  EXPECT_EQ(get_peak_memory(), before + 8 * kMiB);
}

TEST(Memory, FreedBuffersAreCachedAndReused) {
  LimitsGuard guard;
  clear_cache();
  EXPECT_EQ(get_cache_memory(), 0u);
  { array a = block(6 * kMiB); }
  EXPECT_EQ(get_cache_memory(), 6 * kMiB);
  // The next request of that size takes the cached block.
  {
    array b = block(6 * kMiB);
    EXPECT_EQ(get_cache_memory(), 0u);
  }
  EXPECT_EQ(get_cache_memory(), 6 * kMiB);
  clear_cache();
  EXPECT_EQ(get_cache_memory(), 0u);
}

TEST(Memory, CacheLimit) {
  LimitsGuard guard;
  clear_cache();
  size_t previous = set_cache_limit(4 * kMiB);
  EXPECT_EQ(previous, kTestCacheLimit);
  { array a = block(6 * kMiB); }  // over the cache limit: returned to the system
  EXPECT_EQ(get_cache_memory(), 0u);
  { array a = block(4 * kMiB); }
  EXPECT_EQ(get_cache_memory(), 4 * kMiB);
  // Lowering the limit trims the cache.
  EXPECT_EQ(set_cache_limit(0), 4 * kMiB);
  EXPECT_EQ(get_cache_memory(), 0u);
  { array a = block(2 * kMiB); }
  EXPECT_EQ(get_cache_memory(), 0u);
}

TEST(Memory, MemoryLimitThrowsWithTheSizes) {
  LimitsGuard guard;
  size_t before = get_active_memory();
  EXPECT_EQ(set_memory_limit(before + 16 * kMiB), guard.memory);
  EXPECT_EQ(get_memory_limit(), before + 16 * kMiB);
  array a = block(8 * kMiB);  // fits
  try {
    array b = block(10 * kMiB);
    FAIL() << "allocating over the limit did not throw";
  } catch (const std::runtime_error& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("10485760 bytes"), std::string::npos) << m;                        // the request
    EXPECT_NE(m.find(std::to_string(before + 16 * kMiB) + " bytes"), std::string::npos) << m;  // the limit
    EXPECT_NE(m.find("memory limit"), std::string::npos) << m;
  }
  EXPECT_EQ(get_active_memory(), before + 8 * kMiB);  // nothing leaked by the failure
  // A lazy computation whose result does not fit throws from eval.
  {
    array big = zeros({int32_t(4 * kMiB)}, float32);  // 16 MiB
    EXPECT_THROW(eval(big + 1), std::runtime_error);
  }
  // Raising the limit lets it through.
  set_memory_limit(guard.memory);
  array c = block(10 * kMiB);
  EXPECT_EQ(get_active_memory(), before + 18 * kMiB);
}

TEST(Memory, WiredLimitIsRecorded) {
  size_t old = set_wired_limit(123);
  EXPECT_EQ(set_wired_limit(old), 123u);
}

// KILN_MEMORY_LIMIT is read when the allocator starts, so the check runs in
// a fresh process: this binary, filtered to the test below, with the
// variable set.
TEST(MemoryLimitEnv, Child) {
  const char* expected = std::getenv("KILN_TEST_EXPECTED_LIMIT");
  if (!expected) GTEST_SKIP() << "run by MemoryLimitEnv.SetsTheLimit";
  size_t want = std::strtoull(expected, nullptr, 10);
  EXPECT_EQ(get_memory_limit(), want);
  if (want == 64 * kMiB) {
    EXPECT_THROW(block(100 * kMiB), std::runtime_error);
  }
}

namespace {

// Runs MemoryLimitEnv.Child with KILN_MEMORY_LIMIT=value; its exit status
// and output.
int run_child(const std::string& value, size_t expected_limit, std::string* output) {
  std::string out_path = ::testing::TempDir() + "kiln_memory_child_" + std::to_string(getpid());
  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e) {
    std::string s = *e;
    if (s.rfind("KILN_MEMORY_LIMIT=", 0) != 0 && s.rfind("KILN_TEST_EXPECTED_LIMIT=", 0) != 0) env_strings.push_back(s);
  }
  env_strings.push_back("KILN_MEMORY_LIMIT=" + value);
  env_strings.push_back("KILN_TEST_EXPECTED_LIMIT=" + std::to_string(expected_limit));
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::string exe = "/proc/self/exe", filter = "--gtest_filter=MemoryLimitEnv.Child";
  std::vector<char*> argv{exe.data(), filter.data(), nullptr};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid;
  int rc = posix_spawn(&pid, exe.c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return -1;
  int status = 0;
  waitpid(pid, &status, 0);
  *output = kiln_test::read_file(out_path);
  unlink(out_path.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

TEST(MemoryLimitEnv, SetsTheLimit) {
  std::string out;
  EXPECT_EQ(run_child("64M", 64 * kMiB, &out), 0) << out;
  EXPECT_NE(out.find("[  PASSED  ] 1 test"), std::string::npos) << out;
  EXPECT_EQ(run_child("1234567", 1234567, &out), 0) << out;
  EXPECT_EQ(run_child("2GiB", size_t(2) << 30, &out), 0) << out;
  // Not a size: ignored with a warning; the physical memory size applies.
  size_t physical = size_t(sysconf(_SC_PHYS_PAGES)) * size_t(sysconf(_SC_PAGE_SIZE));
  EXPECT_EQ(run_child("lots", physical, &out), 0) << out;
  EXPECT_NE(out.find("ignoring KILN_MEMORY_LIMIT=lots"), std::string::npos) << out;
}
