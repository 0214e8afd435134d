// libFuzzer target: IR text -> parser (which verifies) -> passes::simplify
// -> fusion plan -> JIT execution on small deterministic inputs, with
// structure-aware mutations (ir_mutator.h) beside libFuzzer's. A finding
// is a crash or sanitizer report, a simplified function that no longer
// verifies, or an exception only a bug throws (fuzz_common.h).
//
//   build-fuzz/tests/fuzz/fuzz_ir -max_len=4096 tests/ir   # see README.md, Testing
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "codegen/executor.h"
#include "fuzz_common.h"
#include "ir_mutator.h"
#include "ir/parser.h"
#include "ir/verifier.h"
#include "passes/fusion.h"
#include "passes/pass_manager.h"

using namespace kiln;

// Half of the mutations are structural (ir_mutator.h), half libFuzzer's
// own on the bytes (which also exercise the parser's error paths).
extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size, unsigned seed) {
  return fuzz::mutate_ir_or_bytes(data, size, max_size, seed);
}

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::set_up_process();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  ir::Function f;
  try {
    f = ir::parse(text);
  } catch (const ir::ParseError&) {
    return 0;  // malformed text, reported as it should be
  } catch (const std::exception& e) {
    fuzz::report("the parser threw something other than ParseError", e.what());
  }
  if (!fuzz::small_function(f)) return 0;
  try {
    ir::Function g = passes::simplify(f);
    std::string problem = ir::verify_message(g);
    if (!problem.empty()) fuzz::report("simplify made an invalid function", problem.c_str());
    passes::plan_fusion(g);
    std::vector<ir::Tensor> inputs;
    for (const ir::Type& t : g.inputs) inputs.push_back({t, fuzz::input_buffer(t)});
    codegen::execute(g, inputs);
  } catch (const std::exception& e) {
    fuzz::check_exception(e);
  }
  return 0;
}
