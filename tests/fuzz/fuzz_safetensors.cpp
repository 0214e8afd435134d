// libFuzzer target: the .safetensors reader (kiln::load_safetensors: the
// header length, the JSON header, offsets). Any bytes either load or throw
// std::runtime_error; what loads saves and loads back the same.
#include "fuzz_io_common.h"

using namespace kiln;

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::set_up_process();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  SafetensorsLoad st;
  if (!fuzz::loads([&] { st = load_safetensors(fuzz::reader_of(data, size, "fuzz.safetensors")); })) return 0;
  if (st.first.count("__metadata__")) return 0;  // a name save_safetensors refuses
  auto w = std::make_shared<io::MemoryWriter>();
  save_safetensors(w, st.first, st.second);
  SafetensorsLoad back = load_safetensors(std::make_shared<io::MemoryReader>(w->bytes()));
  if (!fuzz::same_arrays(back.first, st.first) || back.second != st.second)
    fuzz::report("round trip", "loaded arrays or metadata do not save and load back the same");
  return 0;
}
