// libFuzzer target: the .npz reader (kiln::load_npz: zip directory, zip64
// fields, deflate, CRC-32, then .npy members). Any bytes either load or
// throw std::runtime_error; what loads saves and loads back the same.
#include "fuzz_io_common.h"

using namespace kiln;

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::set_up_process();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::unordered_map<std::string, array> m;
  if (!fuzz::loads([&] { m = load_npz(fuzz::reader_of(data, size, "fuzz.npz")); })) return 0;
  auto w = std::make_shared<io::MemoryWriter>();
  savez(w, m, size % 2 == 0);
  if (!fuzz::same_arrays(load_npz(std::make_shared<io::MemoryReader>(w->bytes())), m))
    fuzz::report("round trip", "loaded arrays do not save and load back the same");
  return 0;
}
