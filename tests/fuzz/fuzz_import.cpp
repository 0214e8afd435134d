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
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <kiln/kiln.h>

#include "frontend/export.h"
#include "fuzz_common.h"
#include "ir_mutator.h"

using namespace kiln;

namespace {

// The header export_function writes (frontend/export.cpp), with its
// FNV-1a checksum of the IR.
std::string exported_file(const std::string& ir) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : ir) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  char sum[17];
  std::snprintf(sum, sizeof sum, "%016llx", static_cast<unsigned long long>(h));
  return "kiln-function 1\nkiln-version 0.1.0\nir-bytes " + std::to_string(ir.size()) + "\nir-fnv1a64 " + sum +
         "\n\n" + ir;
}

}  // namespace

extern "C" size_t LLVMFuzzerMutate(uint8_t* data, size_t size, size_t max_size);

// IR inputs get fuzz_ir's structure-aware mutations half of the time.
extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size, unsigned seed) {
  std::string text(reinterpret_cast<const char*>(data), size);
  if (seed % 2 == 0 && text.rfind("kiln-function", 0) != 0 && fuzz::IrMutator(seed).mutate(text) &&
      text.size() <= max_size) {
    std::memcpy(data, text.data(), text.size());
    return text.size();
  }
  return LLVMFuzzerMutate(data, size, max_size);
}

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::set_up_process();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string input(reinterpret_cast<const char*>(data), size);
  std::string bytes = input.rfind("kiln-function", 0) == 0 ? input : exported_file(input);
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
