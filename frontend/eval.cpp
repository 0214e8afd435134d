// Graph capture: eval() gathers the pending nodes behind its arguments into
// one ir::Function per device (see run_group), simplifies it and executes
// it on that device's backend.
#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <unordered_map>

#include "frontend/array.h"
#include "frontend/trace.h"
#include "codegen/backends.h"
#include "codegen/executor.h"
#include "ir/interpreter.h"
#include "ir/printer.h"
#include "passes/pass_manager.h"
#include "runtime/dump.h"
#include "runtime/env.h"

namespace kiln {

namespace {


using NodePtr = std::shared_ptr<detail::Node>;


[[noreturn]] void throw_traced_eval() {
  throw std::invalid_argument(
      "[eval] Cannot evaluate an array computed from the inputs of a function being "
      "transformed (compile, grad, vjp, jvp, vmap): its value is not known while tracing. "
      "Return it from the function instead of calling eval(), item() or data() on it.");
}

// Builds one function of `group` (pending nodes of one device, inputs
// before users; what they read outside the group is materialized), runs it
// on d's backend and materializes the nodes in `keep`.
void run_group(const std::vector<NodePtr>& group, const std::unordered_map<detail::Node*, bool>& keep,
               const Device& d) {
  ir::Function f;
  std::unordered_map<detail::Node*, int> value_of;
  std::vector<ir::Tensor> inputs;
  // Materialized arrays enter as inputs, scalars included: an eager loop
  // whose scalars change every step (a learning-rate schedule, Adam's bias
  // correction) then reuses one kernel instead of compiling one per value.
  // (compile() traces embed captured arrays as constants: they are part of
  // the trace.)
  // (The function's inputs come before its ops.)
  std::unordered_map<detail::Node*, bool> in_group;
  for (auto& n : group) in_group[n.get()] = true;
  for (auto& n : group)
    for (auto& in : n->inputs) {
      detail::Node* x = in.node().get();
      if (in_group.count(x) || value_of.count(x)) continue;
      value_of[x] = f.add_input(x->type);
      inputs.push_back({x->type, x->buffer});
    }
  std::vector<NodePtr> kept;
  for (auto& n : group) {
    std::vector<int> operands;
    for (auto& in : n->inputs) operands.push_back(value_of.at(in.node().get()));
    ir::Op op = ir::make_op(n->kind, std::move(operands), n->type, n->attrs);
    op.custom = n->custom;
    value_of[n.get()] = f.add_op(std::move(op));
    if (keep.count(n.get())) {
      f.outputs.push_back(value_of[n.get()]);
      kept.push_back(n);
    }
  }

  // Simplify and run.
  if (runtime::dump_enabled("ir")) runtime::dump("ir", "traced", ir::print(f));
  std::ostringstream after_each;
  ir::Function optimized = passes::simplify(std::move(f), runtime::dump_enabled("passes") ? &after_each : nullptr);
  if (runtime::dump_enabled("passes")) runtime::dump("passes", "", after_each.str());
  std::vector<ir::Tensor> results = detail::use_interpreter()
                                        ? ir::interpret(optimized, inputs)
                                        : codegen::execute(optimized, inputs, codegen::backend_for(d));

  // Materialize the kept nodes and cut them loose from the graph.
  for (size_t i = 0; i < kept.size(); ++i) {
    kept[i]->buffer = results[i].buffer;
    kept[i]->inputs.clear();
    kept[i]->attrs.clear();
    kept[i]->custom.reset();
  }
}

}  // namespace

bool detail::use_interpreter() {
  static const std::vector<std::string> kExecutors = {"jit", "interp"};
  return runtime::env_choice("KILN_EXECUTOR", "jit", kExecutors) == "interp";
}

void eval(std::vector<array> outputs) {
  // One evaluation at a time changes the graph (detail::graph_mutex); the
  // kernels themselves still run on every thread of the pool.
  std::lock_guard<std::mutex> lock(detail::graph_mutex());
  // 1. Pending nodes in post-order (inputs before users), without recursion.
  std::vector<NodePtr> order;
  std::unordered_map<detail::Node*, int> state;  // 1 = visiting, 2 = done
  std::unordered_map<detail::Node*, int> graph_refs;
  for (auto& out : outputs) {
    if (out.node()->buffer || state.count(out.node().get())) continue;
    if (out.node()->placeholder) throw_traced_eval();
    std::vector<std::pair<NodePtr, size_t>> stack{{out.node(), 0}};
    state[out.node().get()] = 1;
    while (!stack.empty()) {
      auto& [node, next] = stack.back();
      if (next < node->inputs.size()) {
        const NodePtr& in = node->inputs[next++].node();
        graph_refs[in.get()]++;
        if (state.count(in.get())) continue;
        if (in->placeholder) throw_traced_eval();
        state[in.get()] = 1;
        if (in->buffer) {
          state[in.get()] = 2;
        } else {
          stack.push_back({in, 0});
        }
      } else {
        state[node.get()] = 2;
        order.push_back(node);
        stack.pop_back();
      }
    }
  }
  if (order.empty()) return;

  // 2. Values to keep: the requested outputs, and every pending node that
  // something outside this graph still holds (so it is not recomputed).
  std::unordered_map<detail::Node*, bool> keep;
  for (auto& out : outputs) keep[out.node().get()] = true;
  for (auto& n : order) {
    // Handles: `order` holds one, the graph's edges hold graph_refs.
    long outside = n.use_count() - 1 - graph_refs[n.get()];
    if (outside > 0) keep[n.get()] = true;
  }

  // 3. Run the nodes of each device on its backend. A graph that mixes
  // devices is cut at the device boundaries: a node runs in the first round
  // after all of its inputs, counting a round more for an input made on
  // another device, so that each round and device is one function (one
  // codegen::execute on one backend) that reads only values computed
  // before. Values crossing a boundary are kept (materialized) for the
  // later rounds; memory is unified, so no copy is needed.
  std::unordered_map<detail::Node*, int> round_of;
  int rounds = 0;
  for (auto& n : order) {
    int r = 0;
    for (auto& in : n->inputs) {
      auto it = round_of.find(in.node().get());
      if (it == round_of.end()) continue;  // materialized
      bool crossing = in.node()->stream.device != n->stream.device;
      r = std::max(r, it->second + (crossing ? 1 : 0));
    }
    round_of[n.get()] = r;
    rounds = std::max(rounds, r + 1);
  }
  // What a later round (or another device's group) reads must be kept.
  for (auto& n : order)
    for (auto& in : n->inputs) {
      detail::Node* x = in.node().get();
      if (round_of.count(x) && (round_of[x] != round_of[n.get()] || x->stream.device != n->stream.device))
        keep[x] = true;
    }
  for (int r = 0; r < rounds; ++r) {
    // The devices of this round, in the order their nodes come.
    std::vector<Device> devices;
    for (auto& n : order)
      if (round_of[n.get()] == r && std::find(devices.begin(), devices.end(), n->stream.device) == devices.end())
        devices.push_back(n->stream.device);
    for (const Device& d : devices) {
      std::vector<NodePtr> group;
      for (auto& n : order)
        if (round_of[n.get()] == r && n->stream.device == d) group.push_back(n);
      run_group(group, keep, d);
    }
  }
}

}  // namespace kiln
