#include "runtime/executable.h"

#include "runtime/float_control.h"
#include "runtime/profile.h"

#include <atomic>
#include <chrono>
#include <cstring>
#include <stdexcept>

namespace kiln::runtime {

namespace {
std::atomic<uint64_t> g_buffers_donated{0};
std::atomic<uint64_t> g_operands_computed_in_blocks{0};
}  // namespace

std::vector<BufferPtr> Executable::run(const std::vector<BufferPtr>& inputs) const {
  if (inputs.size() != input_slots.size())
    throw std::invalid_argument("[execute] expected " + std::to_string(input_slots.size()) + " inputs, got " +
                                std::to_string(inputs.size()));
  ScopedFloatControl mode(with_flush_denormal(float_control(), flush_denormal()));
  std::vector<BufferPtr> slots(static_cast<size_t>(num_slots));
  for (size_t i = 0; i < inputs.size(); ++i) slots[size_t(input_slots[i])] = inputs[i];
  for (const auto& [slot, buffer] : constants) slots[size_t(slot)] = buffer;

  std::vector<BufferPtr> args;
  Launch l;  // reused: its input list keeps its capacity
  const bool timed = profiling();
  for (const ExecStep& st : steps) {
    auto start = timed ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point();
    if (!st.kernel) {
      args.clear();
      for (int a : st.args) args.push_back(slots[size_t(a)]);
      slots[size_t(st.out)] = st.host(args);
    } else {
      Backend* b = st.backend ? st.backend : backend;
      BufferPtr out;
      if (st.donor >= 0) {
        // The kernel reads that input through the output pointer: hand it
        // the buffer, or (should anything else still hold it) a copy.
        BufferPtr& src = slots[size_t(st.args[size_t(st.donor)])];
        if (src.use_count() == 1) {
          out = src;
          g_buffers_donated.fetch_add(1, std::memory_order_relaxed);
        } else {
          out = b->allocate(st.out_bytes);
          std::memcpy(out->data(), src->data(), st.out_bytes);
        }
      } else {
        out = b->allocate(st.out_bytes);
      }
      for (const auto& [arg, bytes] : st.extra_outputs) slots[size_t(st.args[size_t(arg)])] = b->allocate(bytes);
      l.kernel = st.kernel_desc;
      l.compiled = st.kernel.get();
      l.inputs.clear();
      for (int a : st.args) l.inputs.push_back(slots[size_t(a)].get());
      l.output = out.get();
      l.params = st.params.data();
      l.outer = st.outer;
      l.work = st.work;
      b->launch(l);
      slots[size_t(st.out)] = std::move(out);
    }
    for (int s : st.frees) slots[size_t(s)].reset();
    if (timed) profile_record(st.label, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  std::vector<BufferPtr> outputs;
  for (int s : output_slots) outputs.push_back(slots[size_t(s)]);
  return outputs;
}

uint64_t buffers_donated() { return g_buffers_donated.load(std::memory_order_relaxed); }
void reset_buffers_donated() { g_buffers_donated.store(0, std::memory_order_relaxed); }
uint64_t operands_computed_in_blocks() { return g_operands_computed_in_blocks.load(std::memory_order_relaxed); }
void count_operand_computed_in_blocks() { g_operands_computed_in_blocks.fetch_add(1, std::memory_order_relaxed); }
void reset_operands_computed_in_blocks() { g_operands_computed_in_blocks.store(0, std::memory_order_relaxed); }

}  // namespace kiln::runtime
