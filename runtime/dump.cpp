#include "runtime/dump.h"

#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <iostream>
#include <mutex>
#include <sstream>
#include <stdexcept>

#include "runtime/atomic_file.h"
#include "runtime/env.h"

namespace kiln::runtime {

bool dump_enabled(const std::string& stage) {
  std::string env = env_string("KILN_DUMP");
  if (env.empty()) return false;
  // A list with a name that is not a stage (a typo) is ignored as a whole,
  // with a warning, as any malformed KILN_* value is.
  static const char* const kStages[] = {"ir", "passes", "fusion", "llvm", "asm", "opencl", "all"};
  bool on = false;
  std::istringstream items(env);
  for (std::string item; std::getline(items, item, ',');) {
    if (item.empty()) continue;
    if (std::find(std::begin(kStages), std::end(kStages), item) == std::end(kStages)) {
      env_warn_once("KILN_DUMP", env, "'" + item + "' is not a stage (ir, passes, fusion, llvm, asm, opencl, all); dumping nothing");
      return false;
    }
    on = on || item == stage || item == "all";
  }
  return on;
}

void dump(const std::string& stage, const std::string& name, const std::string& text) {
  if (!dump_enabled(stage)) return;
  static std::mutex mutex;
  static std::atomic<int> sequence{0};
  std::lock_guard<std::mutex> lock(mutex);
  std::string dir = env_string("KILN_DUMP_DIR");
  if (!dir.empty()) {
    struct stat st;
    if ((mkdir(dir.c_str(), 0755) == 0 || errno == EEXIST) && stat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
      char prefix[16];
      std::snprintf(prefix, sizeof prefix, "%05d", sequence++);
      std::string path = dir + "/" + prefix + "-" + stage + (name.empty() ? "" : "-" + name) + ".txt";
      // Through a fresh temporary file renamed into place: a link planted
      // under a dump's predictable name is replaced, never written through.
      try {
        write_file_atomically(path, {text}, 0644, /*sync=*/false);
        return;
      } catch (const std::runtime_error& e) {
        env_warn_once("KILN_DUMP_DIR", dir, std::string(e.what()) + "; dumping to stderr");
      }
    } else {
      env_warn_once("KILN_DUMP_DIR", dir, "not a directory that can be created; dumping to stderr");
    }
  }
  std::cerr << "// ----- " << stage << (name.empty() ? "" : " " + name) << " -----\n" << text;
  if (!text.empty() && text.back() != '\n') std::cerr << "\n";
}

}  // namespace kiln::runtime
