#include "runtime/float_control.h"

#include <atomic>

#include "runtime/env.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <xmmintrin.h>
#endif

namespace kiln::runtime {

namespace {

#if defined(__x86_64__) || defined(_M_X64)
constexpr bool kCanFlush = true;
constexpr uint64_t kFlushBits = 0x8000;  // MXCSR.FTZ (bit 15), not DAZ (see the header)
#elif defined(__aarch64__)
constexpr bool kCanFlush = true;
constexpr uint64_t kFlushBits = uint64_t(1) << 24;  // FPCR.FZ
#else
constexpr bool kCanFlush = false;
constexpr uint64_t kFlushBits = 0;
#endif

std::atomic<bool>& flush_setting() {
  static std::atomic<bool> flush{flush_denormal_from_environment()};
  return flush;
}

}  // namespace

uint64_t float_control() {
#if defined(__x86_64__) || defined(_M_X64)
  return _mm_getcsr();
#elif defined(__aarch64__)
  uint64_t fpcr;
  asm volatile("mrs %0, fpcr" : "=r"(fpcr));
  return fpcr;
#else
  return 0;
#endif
}

void set_float_control(uint64_t control) {
#if defined(__x86_64__) || defined(_M_X64)
  _mm_setcsr(unsigned(control));
#elif defined(__aarch64__)
  asm volatile("msr fpcr, %0" : : "r"(control));
#else
  (void)control;
#endif
}

uint64_t with_flush_denormal(uint64_t control, bool flush) {
  return flush ? control | kFlushBits : control & ~kFlushBits;
}

bool flush_denormal_from_environment() {
  return kCanFlush && env_choice("KILN_FLUSH_DENORMAL", "0", {"0", "1"}) == "1";
}

bool flush_denormal() { return flush_setting().load(std::memory_order_relaxed); }

bool set_flush_denormal(bool flush) {
  if (!kCanFlush) return false;
  flush_setting().store(flush, std::memory_order_relaxed);
  return true;
}

ScopedFloatControl::ScopedFloatControl(uint64_t control) : saved_(float_control()), changed_(control != saved_) {
  if (changed_) set_float_control(control);
}

ScopedFloatControl::~ScopedFloatControl() {
  if (changed_) set_float_control(saved_);
}

}  // namespace kiln::runtime
