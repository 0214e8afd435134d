#include "runtime/dump.h"

#include <sys/stat.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <mutex>

namespace kiln::runtime {

bool dump_enabled(const std::string& stage) {
  const char* env = std::getenv("KILN_DUMP");
  if (!env) return false;
  std::string list = std::string(",") + env + ",";
  return list.find("," + stage + ",") != std::string::npos || list.find(",all,") != std::string::npos;
}

void dump(const std::string& stage, const std::string& name, const std::string& text) {
  if (!dump_enabled(stage)) return;
  static std::mutex mutex;
  static std::atomic<int> sequence{0};
  std::lock_guard<std::mutex> lock(mutex);
  const char* dir = std::getenv("KILN_DUMP_DIR");
  if (dir && *dir) {
    mkdir(dir, 0755);
    char prefix[16];
    std::snprintf(prefix, sizeof prefix, "%05d", sequence++);
    std::string path = std::string(dir) + "/" + prefix + "-" + stage + (name.empty() ? "" : "-" + name) + ".txt";
    std::ofstream(path) << text;
    return;
  }
  std::cerr << "// ----- " << stage << (name.empty() ? "" : " " + name) << " -----\n" << text;
  if (!text.empty() && text.back() != '\n') std::cerr << "\n";
}

}  // namespace kiln::runtime
