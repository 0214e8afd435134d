#pragma once
// The floating-point mode that executables run in, and the process-wide
// choice of whether their results flush subnormal floats to zero.
//
// Why one would flush: arithmetic that produces or reads a subnormal float
// (|x| < 1.2e-38 in float32) takes a microcode assist on x86 CPUs, about a
// hundred times slower than on normal numbers. Training produces them:
// Adam's moments decay geometrically for weights whose gradient is zero
// (the border pixels of Fashion-MNIST), pass through the subnormal range
// and stay there for hundreds of steps; the MLP's epoch grew from 0.9 s to
// 1.3 s that way. With flushing on, a result that would be subnormal is 0
// (x86's FTZ; AArch64's FZ, which also reads subnormal operands as 0), so
// none arise.
//
// It is off by default: kiln computes as IEEE 754 and the reference
// interpreter do, and its math functions are exact on subnormals (a flushed
// intermediate can turn a finite log into -inf). set_flush_denormal(true)
// or KILN_FLUSH_DENORMAL=1 turn it on, as torch.set_flush_denormal does;
// XLA and JAX flush always. Operands are not flushed on x86 (no DAZ): a
// subnormal in the input data is still read as itself, and the conversion
// from float16 (which passes through float32 subnormals) stays exact.
//
// The mode is a per-thread control register (MXCSR on x86-64, FPCR on
// AArch64): Executable::run sets it on the calling thread for the run and
// restores it after, and the thread pool runs each parallel_for's chunks
// under the caller's mode. Code outside executables keeps the mode it had.
#include <cstdint>

namespace kiln::runtime {

// The calling thread's floating-point control register (0 where this
// build cannot read it).
uint64_t float_control();
void set_float_control(uint64_t control);
// `control` with the flush-to-zero bit (MXCSR.FTZ, FPCR.FZ) set or cleared.
uint64_t with_flush_denormal(uint64_t control, bool flush);

// The process-wide choice: false unless KILN_FLUSH_DENORMAL=1.
// set_flush_denormal returns whether this CPU can flush (x86-64, AArch64);
// elsewhere the call does nothing and returns false, as
// torch.set_flush_denormal does.
bool flush_denormal();
bool set_flush_denormal(bool flush);
// What KILN_FLUSH_DENORMAL asks for (read again on each call; a value
// other than 0 or 1 is ignored with one warning).
bool flush_denormal_from_environment();

// Sets the calling thread's control register for a scope and restores it.
class ScopedFloatControl {
 public:
  explicit ScopedFloatControl(uint64_t control);
  ~ScopedFloatControl();
  ScopedFloatControl(const ScopedFloatControl&) = delete;
  ScopedFloatControl& operator=(const ScopedFloatControl&) = delete;

 private:
  uint64_t saved_;
  bool changed_;
};

}  // namespace kiln::runtime
