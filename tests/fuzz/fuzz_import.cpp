// libFuzzer target: the importer of exported functions
// (frontend/export.h) on arbitrary bytes, and a call of what it accepts.
// An input that starts like an exported file ("kiln-function") is taken as
// the file's bytes; any other as IR text, put under a header with the right
// length and checksum, so that mutations also reach the IR's parsing and
// the imported function's compilation, not only the checksum test (and the
// IR tests, tests/ir, seed it; such inputs also get fuzz_ir's structural
// mutations). A finding is a crash, a sanitizer report or an exception
// only a bug throws (fuzz_common.h).
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include <kiln/kiln.h>

#include "frontend/export.h"
#include "fuzz_common.h"
#include "ir_mutator.h"

using namespace kiln;

// IR inputs get fuzz_ir's structure-aware mutations half of the time;
// whole exported files only libFuzzer's.
extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size, unsigned seed) {
  bool is_file = std::string_view(reinterpret_cast<const char*>(data), size).rfind("kiln-function", 0) == 0;
  return fuzz::mutate_ir_or_bytes(data, size, max_size, is_file ? 1 : seed);
}

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::set_up_process();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string input(reinterpret_cast<const char*>(data), size);
  std::string bytes = input.rfind("kiln-function", 0) == 0 ? input : detail::exported_file_bytes(input);
  try {
    ImportedFunction fn = detail::import_function_bytes(bytes, "fuzz.kfn");
    if (!fuzz::small_function(fn.function())) return 0;
    std::vector<array> args;
    for (const ir::Type& t : fn.input_types()) args.emplace_back(fuzz::input_buffer(t)->data(), t.shape, t.dtype);
    std::vector<array> outs = fn(args);
    eval(outs);
  } catch (const std::exception& e) {
    fuzz::check_exception(e);
  }
  return 0;
}
