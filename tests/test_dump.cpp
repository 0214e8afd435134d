// KILN_DUMP / KILN_DUMP_DIR write every stage of a compilation, and
// export_to_dot writes the lazy graph.
#include <dirent.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include <fstream>
#include <sstream>

#include "test_helpers.h"

using namespace kiln;

namespace {
std::string read_all(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}
}  // namespace

TEST(Dump, EveryStageToFiles) {
  std::string dir = ::testing::TempDir() + "kiln_dump_test_" + std::to_string(getpid());
  setenv("KILN_DUMP", "ir,passes,fusion,llvm,asm", 1);
  setenv("KILN_DUMP_DIR", dir.c_str(), 1);
  array x = array({1.0f, 2.0f, 3.0f});
  // A structure no other test compiles, so the kernel is built here.
  array y = sum(exp(x * 3.25f) - 0.125f) * 1.0625f;
  y.eval();
  unsetenv("KILN_DUMP");
  unsetenv("KILN_DUMP_DIR");
  std::map<std::string, std::string> by_stage;
  DIR* d = opendir(dir.c_str());
  ASSERT_NE(d, nullptr) << "KILN_DUMP_DIR was not created";
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    for (const char* stage : {"-ir-", "-passes", "-fusion", "-llvm-", "-asm-"})
      if (name.find(stage) != std::string::npos) by_stage[stage] += read_all(dir + "/" + name);
  }
  closedir(d);
  EXPECT_NE(by_stage["-ir-"].find("exp("), std::string::npos);
  EXPECT_NE(by_stage["-passes"].find("IR after canonicalize"), std::string::npos);
  EXPECT_NE(by_stage["-fusion"].find("1 kernels"), std::string::npos) << by_stage["-fusion"];
  EXPECT_NE(by_stage["-llvm-"].find("define void @kiln_"), std::string::npos);
  EXPECT_NE(by_stage["-asm-"].find("ret"), std::string::npos);
  std::filesystem::remove_all(dir);
}

// Dump files have predictable names: a link planted under one was written
// through (std::ofstream follows links).
TEST(Dump, APlantedLinkIsReplacedNotWrittenThrough) {
  std::string dir = ::testing::TempDir() + "kiln_dump_link_test_" + std::to_string(getpid());
  std::string victim = dir + "-victim.txt";
  std::filesystem::create_directories(dir);
  kiln_test::write_file(victim, "precious");
  // Whatever the sequence number has reached in this process, the next
  // 'ir' dump is named <number>-ir-traced.txt with a number below 1000.
  for (int i = 0; i < 1000; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "/%05d-ir-traced.txt", i);
    ASSERT_EQ(symlink(victim.c_str(), (dir + name).c_str()), 0);
  }
  setenv("KILN_DUMP", "ir", 1);
  setenv("KILN_DUMP_DIR", dir.c_str(), 1);
  array y = exp(array({1.0f, 2.0f})) * 2.5f;
  y.eval();
  unsetenv("KILN_DUMP");
  unsetenv("KILN_DUMP_DIR");
  EXPECT_EQ(kiln_test::read_file(victim), "precious");
  int dumps = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (!e.is_symlink() && kiln_test::read_file(e.path()).find("exp(") != std::string::npos) ++dumps;
  EXPECT_EQ(dumps, 1);
  std::filesystem::remove_all(dir);
  std::filesystem::remove(victim);
}

TEST(Dump, ExportToDot) {
  array a = array({1.0f, 2.0f});
  array b = exp(a) + a;
  std::ostringstream os;
  export_to_dot(os, {b});
  std::string dot = os.str();
  EXPECT_EQ(dot.rfind("digraph", 0), 0u);
  EXPECT_NE(dot.find("exp"), std::string::npos);
  EXPECT_NE(dot.find("add"), std::string::npos);
  EXPECT_NE(dot.find("->"), std::string::npos);
}
