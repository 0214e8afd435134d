#include "runtime/profile.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <vector>

#include "runtime/env.h"

namespace kiln::runtime {

namespace {

struct StepTotal {
  long runs = 0;
  double seconds = 0;
};

// Leaked on purpose: it is printed by an atexit handler, after which static
// destructors may run in any order.
struct Profile {
  std::mutex mutex;
  std::map<std::string, StepTotal> steps;
};

Profile& profile() {
  static Profile* p = new Profile;
  return *p;
}

constexpr int kRowsPrinted = 40;

void print_profile() {
  Profile& p = profile();
  std::lock_guard<std::mutex> lock(p.mutex);
  std::vector<std::pair<std::string, StepTotal>> rows(p.steps.begin(), p.steps.end());
  std::sort(rows.begin(), rows.end(), [](auto& a, auto& b) { return a.second.seconds > b.second.seconds; });
  double total = 0;
  for (auto& r : rows) total += r.second.seconds;
  std::fprintf(stderr, "\nkiln profile (KILN_PROFILE=1): %zu steps, %.3f s in all\n", rows.size(), total);
  std::fprintf(stderr, "%10s %6s %10s %12s  %s\n", "total ms", "%", "runs", "mean us", "step");
  int printed = 0;
  for (auto& [label, t] : rows) {
    if (printed++ == kRowsPrinted) {
      std::fprintf(stderr, "... %zu more steps\n", rows.size() - kRowsPrinted);
      break;
    }
    std::fprintf(stderr, "%10.2f %6.1f %10ld %12.1f  %s\n", t.seconds * 1e3, total > 0 ? 100 * t.seconds / total : 0.0,
                 t.runs, t.seconds * 1e6 / double(t.runs), label.c_str());
  }
  // The same time by kind of step ("kernel select", "host matmul"): the
  // label's words after the type.
  std::map<std::string, StepTotal> kinds;
  for (auto& [label, t] : rows) {
    size_t type_end = label.find(' ', label.find(' ', label.find(' ') + 1) + 1);
    size_t kind_end = label.find(" [", type_end);
    StepTotal& k = kinds[label.substr(type_end + 1, kind_end - type_end - 1)];
    k.runs += t.runs;
    k.seconds += t.seconds;
  }
  std::vector<std::pair<std::string, StepTotal>> by_kind(kinds.begin(), kinds.end());
  std::sort(by_kind.begin(), by_kind.end(), [](auto& a, auto& b) { return a.second.seconds > b.second.seconds; });
  std::fprintf(stderr, "by kind of step:\n%10s %6s %10s  %s\n", "total ms", "%", "runs", "kind");
  for (auto& [kind, t] : by_kind)
    std::fprintf(stderr, "%10.2f %6.1f %10ld  %s\n", t.seconds * 1e3, total > 0 ? 100 * t.seconds / total : 0.0, t.runs,
                 kind.c_str());
}

}  // namespace

bool profiling() {
  static const bool on = [] {
    bool enabled = env_choice("KILN_PROFILE", "0", {"0", "1"}) == "1";
    if (enabled) std::atexit(print_profile);
    return enabled;
  }();
  return on;
}

void profile_record(const std::string& label, double seconds) {
  Profile& p = profile();
  std::lock_guard<std::mutex> lock(p.mutex);
  StepTotal& t = p.steps[label];
  t.runs++;
  t.seconds += seconds;
}

}  // namespace kiln::runtime
