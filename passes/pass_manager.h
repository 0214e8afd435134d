#pragma once
// Runs a pipeline of named IR -> IR passes, optionally printing the IR after
// each one (kiln-opt --print-after-all, KILN_DUMP=passes).
#include <cstdint>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "ir/function.h"

namespace kiln::passes {

using Pass = std::function<ir::Function(const ir::Function&)>;

// The registered passes by name: "verify", "canonicalize", "cse", "dce",
// "inline", "vjp", "jvp", "vmap".
// Returns false if there is no pass of that name.
bool lookup_pass(const std::string& name, Pass* out);
std::vector<std::string> pass_names();

class PassManager {
 public:
  // Adds a registered pass; throws std::invalid_argument for an unknown name.
  void add(const std::string& name);
  // Parses a comma-separated list such as "canonicalize,cse,dce".
  void add_pipeline(const std::string& comma_separated);
  // When set, the IR after each pass is written to `os` under a header line
  // "// ----- IR after <pass> -----".
  void print_after_each(std::ostream* os) { print_os_ = os; }
  ir::Function run(ir::Function f) const;

 private:
  std::vector<std::pair<std::string, Pass>> passes_;
  std::ostream* print_os_ = nullptr;
};

// The clean-up every traced or transformed function gets before it is run
// or transformed further: canonicalize, cse, dce. With `after_each`, the IR
// after each pass is written there (as PassManager::print_after_each).
ir::Function simplify(ir::Function f, std::ostream* after_each = nullptr);

// Constant folding in canonicalize materializes results of at most this many
// elements (and broadcasts of splat constants to at most this many); larger
// results stay as ops, so a huge constant is never built at compile time.
inline constexpr int64_t kMaxFoldElements = int64_t(1) << 16;

// The passes, each a pure function of its input.
ir::Function verify_pass(const ir::Function& f);  // verifies, returns f
ir::Function canonicalize(const ir::Function& f);
ir::Function cse(const ir::Function& f);
ir::Function dce(const ir::Function& f);
// Replaces every custom op by its forward callee's ops (inline.cpp).
ir::Function inline_custom(const ir::Function& f);

}  // namespace kiln::passes
