#pragma once
// An executable: the ordered steps that compute a function's outputs from
// its inputs on one backend, over numbered buffer slots. codegen builds it
// from a fusion plan (codegen/executor.h: compiling each kernel once); the
// runtime only runs it, so a compiled function's repeated calls only
// allocate, launch and free.
//
// Each step writes one slot: a kernel launch (its output is a fresh buffer
// of the backend's, or the buffer of the input `donor` when no one else
// holds it: codegen/donation.h; a kernel may write more, extra_outputs),
// or a host call (BLAS, a native host kernel). After a step, the slots it
// was the last to read are freed.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "runtime/backend.h"

namespace kiln::runtime {

struct ExecStep {
  std::vector<int> args;  // slots read, in the kernel's input order
  int out = -1;           // slot written
  // A kernel launch when `kernel` is set (kernel_desc, params, outer and
  // work as in Launch), else a host call.
  KernelHandle kernel;
  Backend* backend = nullptr;  // the launch's, if not the executable's
  const kernel::Kernel* kernel_desc = nullptr;
  std::vector<int64_t> params;
  int64_t outer = 0, work = 0;
  size_t out_bytes = 0;
  int donor = -1;  // index into args whose buffer the output may take
  // Kernel outputs besides `out` (kernel::ExtraOutput): indices into args
  // whose slots get fresh buffers of these sizes before the launch.
  std::vector<std::pair<int, size_t>> extra_outputs;
  std::function<BufferPtr(const std::vector<BufferPtr>& args)> host;
  std::vector<int> frees;  // slots that die after this step
  std::string label;       // for KILN_PROFILE (runtime/profile.h)
};

struct Executable {
  Backend* backend = nullptr;
  int num_slots = 0;
  std::vector<int> input_slots;
  std::vector<std::pair<int, BufferPtr>> constants;  // slots filled before the steps
  std::vector<ExecStep> steps;
  std::vector<int> output_slots;

  // Runs the steps; inputs in input_slots order, outputs in output_slots
  // order. Thread-safe (an Executable is only read).
  std::vector<BufferPtr> run(const std::vector<BufferPtr>& inputs) const;
};

// Kernel outputs that took over a dying input's buffer (process-wide count).
uint64_t buffers_donated();
void reset_buffers_donated();
// Runs of products that computed their operand A inside, block by block
// (codegen/executor.cpp; process-wide count).
uint64_t operands_computed_in_blocks();
void count_operand_computed_in_blocks();
void reset_operands_computed_in_blocks();

}  // namespace kiln::runtime
