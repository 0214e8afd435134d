// libFuzzer target: the disk kernel cache's entry format
// (codegen/disk_cache_entry.h), a trust boundary (DESIGN.md), and the
// loader around it. Each input is (1) decoded: an entry that decodes must
// encode back to the same bytes; (2) written as the entry of a fixed key
// into a private temporary cache directory and loaded: the loader may
// return an object only for an intact entry of that key, and exactly its
// object. A finding is a crash, a sanitizer report or a broken property.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>

#include "codegen/disk_cache.h"
#include "codegen/disk_cache_entry.h"
#include "fuzz_common.h"

using namespace kiln;

namespace {

const std::string kKey = "kernel fuzz\nir-sha256 0\ntarget fuzz";

char g_dir[] = "/tmp/kiln-fuzz-cache-XXXXXX";

// The one entry file and the directory go when the process ends.
void remove_directory() {
  unlink((std::string(g_dir) + "/" + codegen::DiskCache::file_name(kKey)).c_str());
  rmdir(g_dir);
}

codegen::DiskCache& cache() {
  static codegen::DiskCache* c = [] {
    if (!mkdtemp(g_dir)) fuzz::report("set-up", "cannot create a temporary directory");
    std::atexit(remove_directory);
    return new codegen::DiskCache(g_dir, codegen::DiskCache::kDefaultMaxBytes);
  }();
  return *c;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::set_up_process();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  codegen::DecodedCacheEntry e = codegen::decode_cache_entry(bytes);
  if (e.problem.empty() && codegen::encode_cache_entry(e.key, e.object) != bytes)
    fuzz::report("decode", "an intact entry does not encode back to its bytes");

  std::string path = cache().directory() + "/" + codegen::DiskCache::file_name(kKey);
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << bytes;
  }
  std::optional<std::string> loaded = cache().load(kKey);
  bool should_load = e.problem.empty() && e.key == kKey;
  if (loaded.has_value() != should_load)
    fuzz::report("load", should_load ? "an intact entry was rejected" : "a bad or foreign entry was loaded");
  if (loaded && *loaded != e.object) fuzz::report("load", "the loaded object is not the entry's");
  return 0;
}
