// The "verify" pass: checks the IR and passes it through unchanged.
#include "ir/verifier.h"
#include "passes/pass_manager.h"

namespace kiln::passes {

ir::Function verify_pass(const ir::Function& f) {
  ir::verify(f);
  return f;
}

}  // namespace kiln::passes
