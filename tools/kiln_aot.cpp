// kiln-aot: compiles exported functions (export_function) ahead of time
// into the disk kernel cache, so that an application's first call finds
// every kernel ready, e.g. run during the application's own build or
// install.
//
//   kiln-aot [--cache-dir DIR] FILE...
//
// The cache directory is DIR, else kiln's default ($KILN_CACHE_DIR, else
// $XDG_CACHE_HOME/kiln, else ~/.cache/kiln). Exit status: 0 on success, 1 on
// an error (an unreadable or malformed file, no usable cache directory).
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include <kiln/kiln.h>

#include "codegen/disk_cache.h"

int main(int argc, char** argv) {
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-h" || a == "--help") {
      std::cout << "usage: kiln-aot [--cache-dir DIR] FILE...\n"
                   "Compiles each exported function's kernels into the disk kernel cache.\n";
      return 0;
    }
    if (a == "--cache-dir" && i + 1 < argc) setenv("KILN_CACHE_DIR", argv[++i], 1);
    else if (a.rfind("--cache-dir=", 0) == 0) setenv("KILN_CACHE_DIR", a.c_str() + 12, 1);
    else if (a[0] == '-') {
      std::cerr << "kiln-aot: unknown option " << a << "\n";
      return 1;
    } else files.push_back(a);
  }
  if (files.empty()) {
    std::cerr << "usage: kiln-aot [--cache-dir DIR] FILE...\n";
    return 1;
  }
  if (kiln::codegen::DiskCache::off_in_environment()) {
    std::cerr << "kiln-aot: KILN_CACHE=off: there is no disk cache to compile into\n";
    return 1;
  }
  if (kiln::kernel_cache_directory().empty()) {
    std::cerr << "kiln-aot: the disk kernel cache is not usable (see the warning above)\n";
    return 1;
  }
  try {
    for (const std::string& file : files) {
      kiln::ImportedFunction fn = kiln::import_function(file);
      std::vector<kiln::array> examples;
      for (const auto& t : fn.input_types()) examples.push_back(kiln::zeros(t.shape, t.dtype));
      kiln::precompile(fn, examples);
    }
  } catch (const std::exception& e) {
    std::cerr << "kiln-aot: " << e.what() << "\n";
    return 1;
  }
  kiln::JitStats s = kiln::jit_stats();
  std::cout << "kiln-aot: " << files.size() << " functions: " << s.kernels_compiled << " kernels compiled, "
            << s.disk_cache_hits << " already cached, in " << kiln::kernel_cache_directory() << "\n";
  return 0;
}
