// kiln-cache: looks after the on-disk kernel cache (codegen/disk_cache.h).
//
//   kiln-cache [--dir DIR] list | stats | verify | clear
//
// The directory is DIR, else what kiln itself uses: $KILN_CACHE_DIR, else
// $XDG_CACHE_HOME/kiln, else ~/.cache/kiln. Exit status: 0 on success, 1 on
// an error or (verify) when a bad entry was found, 2 for bad usage.
#include <ctime>
#include <iostream>
#include <string>

#include "codegen/disk_cache.h"

namespace {

int usage(std::ostream& os, int status) {
  os << "usage: kiln-cache [--dir DIR] <command>\n"
        "\n"
        "commands:\n"
        "  list    one line per entry: size, last use, first line of its key\n"
        "  stats   the directory, its entries, their total size and the bound\n"
        "  verify  checks every entry (header, size, checksum, name); removes\n"
        "          the bad ones and exits 1 if there were any\n"
        "  clear   removes every entry\n"
        "\n"
        "DIR defaults to $KILN_CACHE_DIR, else $XDG_CACHE_HOME/kiln, else\n"
        "~/.cache/kiln. KILN_CACHE_MAX_BYTES is the size bound kiln evicts to.\n";
  return status;
}

std::string when(int64_t t) {
  char buf[32];
  std::time_t tt = std::time_t(t);
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", std::localtime(&tt));
  return buf;
}

// The part of a key that tells a person what the kernel is.
std::string summary(const std::string& key) {
  std::string first = key.substr(0, key.find('\n'));
  return first.size() > 100 ? first.substr(0, 97) + "..." : first;
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir = kiln::codegen::DiskCache::default_directory();
  std::string command;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-h" || a == "--help") return usage(std::cout, 0);
    if (a == "--dir" && i + 1 < argc) dir = argv[++i];
    else if (a.rfind("--dir=", 0) == 0) dir = a.substr(6);
    else if (command.empty() && a[0] != '-') command = a;
    else return usage(std::cerr, 2);
  }
  if (command.empty()) return usage(std::cerr, 2);
  if (dir.empty()) {
    std::cerr << "kiln-cache: no cache directory: set KILN_CACHE_DIR or HOME, or pass --dir\n";
    return 1;
  }
  try {
    kiln::codegen::DiskCache cache(dir, kiln::codegen::DiskCache::max_bytes_from_environment());
    if (command == "list") {
      for (const auto& e : cache.list()) {
        std::cout << e.file << "  " << e.bytes << " B  " << when(e.last_use) << "  "
                  << (e.valid ? summary(e.key) : "INVALID: " + e.problem) << "\n";
      }
    } else if (command == "stats") {
      uint64_t total = 0, valid = 0, invalid = 0;
      for (const auto& e : cache.list()) {
        total += e.bytes;
        (e.valid ? valid : invalid)++;
      }
      std::cout << "directory  " << cache.directory() << "\n"
                << "entries    " << valid << " valid, " << invalid << " invalid\n"
                << "size       " << total << " bytes\n"
                << "bound      " << cache.max_bytes() << " bytes (KILN_CACHE_MAX_BYTES)\n";
    } else if (command == "verify") {
      size_t bad = 0, good = 0;
      for (const auto& e : cache.list()) {
        if (e.valid) {
          good++;
        } else {
          bad++;
          std::cout << e.file << ": " << e.problem << "\n";
        }
      }
      size_t removed = cache.remove_invalid();
      std::cout << good << " valid entries, " << bad << " bad (" << removed << " removed)\n";
      return bad ? 1 : 0;
    } else if (command == "clear") {
      std::cout << "removed " << cache.clear() << " files from " << cache.directory() << "\n";
    } else {
      return usage(std::cerr, 2);
    }
  } catch (const std::exception& e) {
    std::cerr << "kiln-cache: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
