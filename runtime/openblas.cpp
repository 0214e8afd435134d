// OpenBLAS as Debian ships it is built for every x86 CPU (DYNAMIC_ARCH) and
// picks its kernels at load time from the CPU's model number. A model newer
// than the library (OpenBLAS 0.3.21 does not know family 6 model 207, an
// Emerald Rapids Xeon) falls back to Prescott's SSE3 kernels: sgemm 1024 took
// 36.6 ms there against 7.4 ms with the AVX-512 kernels the CPU can run.
// configure_openblas asks OpenBLAS to choose again, by the instruction sets
// the CPU and OS report instead of the model number, when (and only when)
// its choice is older than those and the user has not named a core with
// OPENBLAS_CORETYPE. It goes through OpenBLAS's own selection
// (gotoblas_dynamic_init reads OPENBLAS_CORETYPE), found with dlsym so that
// an OpenBLAS built for one CPU, which has no such entry points, is left as
// it is.
#include "runtime/openblas.h"

#include <cblas.h>
#include <dlfcn.h>

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <optional>

namespace kiln::runtime {

namespace {

// 0: SSE only, 1: AVX, 2: AVX2 + FMA, 3: AVX-512 (F, CD, BW, DQ, VL).
int level_of_core(const std::string& core) {
  for (const char* name : {"skylakex", "cooperlake", "sapphirerapids"})
    if (strcasecmp(core.c_str(), name) == 0) return 3;
  for (const char* name : {"haswell", "zen", "excavator"})
    if (strcasecmp(core.c_str(), name) == 0) return 2;
  for (const char* name : {"sandybridge", "bulldozer", "piledriver", "steamroller"})
    if (strcasecmp(core.c_str(), name) == 0) return 1;
  return 0;
}

// The OpenBLAS core name for what this CPU and OS can run (nullopt: SSE).
std::optional<const char*> core_for_this_cpu() {
#if defined(__x86_64__)
  __builtin_cpu_init();
  bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512cd") &&
                __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
                __builtin_cpu_supports("avx512vl");
  // SkylakeX, not Cooperlake: 0.3.21 warns "Core not found" for the latter
  // (its float kernels are SkylakeX's anyway).
  if (avx512) return "SkylakeX";
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
  if (__builtin_cpu_supports("avx")) return "Sandybridge";
#endif
  return std::nullopt;
}

template <typename F>
F symbol(const char* name) {
  return reinterpret_cast<F>(dlsym(RTLD_DEFAULT, name));
}

void choose_core() {
  auto corename = symbol<char* (*)()>("openblas_get_corename");
  auto quit = symbol<void (*)()>("gotoblas_dynamic_quit");
  auto init = symbol<void (*)()>("gotoblas_dynamic_init");
  if (!corename || !quit || !init || std::getenv("OPENBLAS_CORETYPE")) return;
  std::optional<const char*> wanted = core_for_this_cpu();
  if (!wanted || level_of_core(corename()) >= level_of_core(*wanted)) return;
  // Before any BLAS call of this process (call_once in configure_openblas),
  // so no thread is inside OpenBLAS while its kernel table is swapped.
  setenv("OPENBLAS_CORETYPE", *wanted, 1);
  quit();
  init();
  unsetenv("OPENBLAS_CORETYPE");
}

}  // namespace

void configure_openblas() {
  static std::once_flag once;
  std::call_once(once, [] {
    choose_core();
    openblas_set_num_threads(1);
  });
}

std::string openblas_core() {
  auto corename = symbol<char* (*)()>("openblas_get_corename");
  return corename ? std::string(corename()) : std::string();
}

}  // namespace kiln::runtime
