// libFuzzer target: the .gguf reader (kiln::load_gguf: counts, metadata
// values and arrays, tensor descriptions, alignment, offsets). Any bytes
// either load or throw std::runtime_error.
#include "fuzz_io_common.h"

using namespace kiln;

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::set_up_process();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  GGUFLoad g;
  if (!fuzz::loads([&] { g = load_gguf(fuzz::reader_of(data, size, "fuzz.gguf")); })) return 0;
  // What loaded is whole: every array can be read.
  for (auto& [name, a] : g.first) a.eval();
  return 0;
}
