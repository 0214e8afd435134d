// libFuzzer target: the .npy reader (kiln::load). Any bytes either load or
// throw std::runtime_error; what loads saves and loads back the same.
#include "fuzz_io_common.h"

using namespace kiln;

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::set_up_process();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  array a(0);
  if (!fuzz::loads([&] { a = load(fuzz::reader_of(data, size, "fuzz.npy")); })) return 0;
  auto w = std::make_shared<io::MemoryWriter>();
  save(w, a);
  if (!fuzz::same_array(load(std::make_shared<io::MemoryReader>(w->bytes())), a))
    fuzz::report("round trip", "a loaded array does not save and load back the same");
  return 0;
}
