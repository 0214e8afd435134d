#include "runtime/env.h"

#include <cerrno>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <optional>
#include <set>

namespace kiln::runtime {

namespace {

// Digits with an optional leading '-', nothing else (no spaces, no '+',
// no trailing text), within int64_t. strtoll alone would skip spaces, stop
// at junk and saturate; strtoull would read "-1" as 2^64 - 1.
std::optional<int64_t> parse_int(const std::string& s) {
  size_t start = !s.empty() && s[0] == '-' ? 1 : 0;
  if (start == s.size()) return std::nullopt;
  for (size_t i = start; i < s.size(); ++i)
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
  errno = 0;
  long long v = std::strtoll(s.c_str(), nullptr, 10);
  if (errno == ERANGE) return std::nullopt;
  return int64_t(v);
}

}  // namespace

std::string env_string(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

int64_t env_int(const char* name, int64_t fallback, int64_t min, int64_t max) {
  std::string s = env_string(name);
  if (s.empty()) return fallback;
  std::optional<int64_t> v = parse_int(s);
  if (v && *v >= min && *v <= max) return *v;
  env_warn_once(name, s,
                "expected an integer from " + std::to_string(min) + " to " + std::to_string(max) + "; using " +
                    std::to_string(fallback));
  return fallback;
}

std::string env_choice(const char* name, const std::string& fallback, const std::vector<std::string>& choices) {
  std::string s = env_string(name);
  if (s.empty()) return fallback;
  std::string expected;
  for (const std::string& c : choices) {
    if (s == c) return s;
    expected += (expected.empty() ? "" : " or ") + c;
  }
  env_warn_once(name, s, "expected " + expected + "; using " + fallback);
  return fallback;
}

void env_warn_once(const char* name, const std::string& value, const std::string& why) {
  static std::mutex mutex;
  static std::set<std::string> warned;
  std::lock_guard<std::mutex> lock(mutex);
  if (!warned.insert(std::string(name) + "=" + value).second) return;
  std::cerr << "kiln: warning: ignoring " << name << "=" << value << ": " << why << "\n";
}

}  // namespace kiln::runtime
