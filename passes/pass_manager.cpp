// The pass registry and the PassManager that runs a named pipeline.
#include "passes/pass_manager.h"

#include <stdexcept>
#include <utility>

#include "ir/printer.h"
#include "ir/verifier.h"
#include "passes/transforms.h"

namespace kiln::passes {

namespace {

struct Entry {
  const char* name;
  ir::Function (*fn)(const ir::Function&);
};

// The registered passes, in the order `pass_names()` lists them.
constexpr Entry kPasses[] = {
    {"verify", &verify_pass},
    {"canonicalize", &canonicalize},
    {"cse", &cse},
    {"dce", &dce},
    {"inline", &inline_custom},
    {"vjp", &vjp_pass},
    {"jvp", &jvp_pass},
    {"vmap", &vmap_pass},
};

std::string trim(const std::string& s) {
  const char* ws = " \t\r\n";
  size_t b = s.find_first_not_of(ws);
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(ws);
  return s.substr(b, e - b + 1);
}

std::string known_names() {
  std::string s;
  for (const auto& e : kPasses) s += (s.empty() ? "" : ", ") + std::string(e.name);
  return s;
}

}  // namespace

bool lookup_pass(const std::string& name, Pass* out) {
  for (const auto& e : kPasses) {
    if (name == e.name) {
      if (out) *out = e.fn;
      return true;
    }
  }
  return false;
}

std::vector<std::string> pass_names() {
  std::vector<std::string> names;
  for (const auto& e : kPasses) names.emplace_back(e.name);
  return names;
}

void PassManager::add(const std::string& name) {
  Pass p;
  if (!lookup_pass(name, &p))
    throw std::invalid_argument("unknown pass '" + name + "' (known passes: " + known_names() +
                                ")");
  passes_.emplace_back(name, std::move(p));
}

void PassManager::add_pipeline(const std::string& comma_separated) {
  // An empty (or all-blank) pipeline adds nothing; an empty entry inside a
  // non-empty list ("cse,,dce") is an error, as it is most likely a typo.
  if (trim(comma_separated).empty()) return;
  std::vector<std::string> names;
  size_t start = 0;
  while (true) {
    size_t comma = comma_separated.find(',', start);
    std::string name = trim(comma_separated.substr(
        start, comma == std::string::npos ? std::string::npos : comma - start));
    if (name.empty())
      throw std::invalid_argument("empty pass name in pipeline '" + comma_separated + "'");
    names.push_back(name);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  // Validate every name before adding any, so a bad pipeline leaves the
  // manager unchanged.
  for (const auto& n : names)
    if (!lookup_pass(n, nullptr))
      throw std::invalid_argument("unknown pass '" + n + "' (known passes: " + known_names() +
                                  ")");
  for (const auto& n : names) add(n);
}

ir::Function PassManager::run(ir::Function f) const {
  // Passes assume well-formed input (operands defined before use, ...);
  // reject anything else before a pass walks it.
  std::string msg = ir::verify_message(f);
  if (!msg.empty()) throw std::invalid_argument("invalid IR given to the pass manager: " + msg);
  for (const auto& [name, pass] : passes_) {
    f = pass(f);
    // A pass that produces invalid IR is a bug in kiln, not in the input.
    msg = ir::verify_message(f);
    if (!msg.empty())
      throw std::logic_error("pass '" + name + "' produced invalid IR: " + msg);
    if (print_os_) {
      *print_os_ << "// ----- IR after " << name << " -----\n";
      std::string text = ir::print(f);
      *print_os_ << text;
      if (text.empty() || text.back() != '\n') *print_os_ << '\n';
      print_os_->flush();
    }
  }
  return f;
}

ir::Function simplify(ir::Function f, std::ostream* after_each) {
  PassManager pm;
  pm.add_pipeline("canonicalize,cse,dce");
  pm.print_after_each(after_each);
  return pm.run(std::move(f));
}

}  // namespace kiln::passes
