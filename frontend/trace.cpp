#include "frontend/trace.h"

#include <stdexcept>
#include <unordered_map>

#include "ir/verifier.h"

namespace kiln::detail {

std::vector<ir::Type> types_of(const std::vector<array>& arrays) {
  std::vector<ir::Type> types;
  for (const auto& a : arrays) types.push_back(a.node()->type);
  return types;
}

bool is_placeholder(const array& a) { return a.node()->placeholder; }

namespace {
thread_local int trace_depth = 0;  // traces under way on this thread
// The innermost trace's ShapeFacts::shape_baked, or null.
thread_local std::vector<std::string>* shape_baked_sink = nullptr;
}  // namespace

array shape_generic(const array& in, array out) {
  if (out.node() != in.node() && out.node()->kind == ir::OpKind::Reshape && !out.node()->buffer)
    out.node()->shape_generic = true;
  return out;
}

void note_shape_baked(const std::string& op, const array& a) {
  if (shape_baked_sink && depends_on_placeholder(a)) shape_baked_sink->push_back(op);
}

bool tracing() { return trace_depth > 0; }

bool depends_on_placeholder(const array& a) {
  std::lock_guard<std::mutex> lock(graph_mutex());
  std::vector<Node*> stack{a.node().get()};
  std::unordered_map<Node*, bool> seen;
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    if (n->placeholder) return true;
    if (n->buffer || seen[n]) continue;
    seen[n] = true;
    for (const auto& in : n->inputs) stack.push_back(in.node().get());
  }
  return false;
}

namespace {

// For every pending node reachable from `outputs`: bit 1 if it depends on one
// of `ours` placeholders, bit 2 if on any other placeholder. Iterative, as
// traced graphs can be long chains.
std::unordered_map<Node*, int> placeholder_deps(const std::vector<array>& outputs,
                                                const std::unordered_map<Node*, int>& ours) {
  std::unordered_map<Node*, int> deps;
  for (const auto& out : outputs) {
    std::vector<std::pair<Node*, size_t>> stack{{out.node().get(), 0}};
    while (!stack.empty()) {
      auto& [node, next] = stack.back();
      if (deps.count(node)) {
        stack.pop_back();
      } else if (ours.count(node) || node->placeholder || node->buffer) {
        deps[node] = ours.count(node) ? 1 : node->placeholder ? 2 : 0;
        stack.pop_back();
      } else if (next < node->inputs.size()) {
        stack.push_back({node->inputs[next++].node().get(), 0});
      } else {
        int d = 0;
        for (const auto& in : node->inputs) d |= deps.at(in.node().get());
        deps[node] = d;
        stack.pop_back();
      }
    }
  }
  return deps;
}

}  // namespace

ir::Function trace(const ArrayFunction& fn, const std::vector<ir::Type>& input_types,
                   std::vector<array>* captured, ShapeFacts* shapes) {
  std::vector<array> placeholders;
  for (const auto& t : input_types) placeholders.push_back(make_placeholder(t));
  std::vector<array> outputs;
  {
    ++trace_depth;
    std::vector<std::string>* outer_sink = shape_baked_sink;
    std::vector<std::string> baked;
    shape_baked_sink = &baked;
    struct Leave {
      std::vector<std::string>* outer;
      ~Leave() { --trace_depth; shape_baked_sink = outer; }
    } leave{outer_sink};
    outputs = fn(placeholders);
    // A nested trace is inlined into the enclosing one: its notes are the
    // enclosing trace's too.
    if (outer_sink) outer_sink->insert(outer_sink->end(), baked.begin(), baked.end());
    if (shapes) shapes->shape_baked = std::move(baked);
  }

  // From here on the walk reads pending nodes that another thread may be
  // evaluating.
  std::lock_guard<std::mutex> lock(graph_mutex());
  ir::Function f;
  std::unordered_map<Node*, int> value_of;
  for (size_t i = 0; i < placeholders.size(); ++i)
    value_of[placeholders[i].node().get()] = f.add_input(input_types[i]);

  // Values of an enclosing trace that fn captured (they depend on outer
  // placeholders but not on ours) become extra inputs, added before any op.
  if (captured) {
    auto deps = placeholder_deps(outputs, value_of);
    std::unordered_map<Node*, bool> seen;
    for (const auto& out : outputs) {
      std::vector<array> stack{out};
      while (!stack.empty()) {
        array a = stack.back();
        stack.pop_back();
        Node* n = a.node().get();
        if (seen[n] || value_of.count(n) || n->buffer) continue;
        seen[n] = true;
        if (deps.at(n) == 2) {
          value_of[n] = f.add_input(n->type);
          captured->push_back(a);
          continue;
        }
        for (const auto& in : n->inputs) stack.push_back(in);
      }
    }
  }

  // Post-order walk without recursion; leaves are placeholders (inputs) and
  // materialized arrays (constants sharing the array's buffer).
  for (const auto& out : outputs) {
    std::vector<std::pair<Node*, size_t>> stack{{out.node().get(), 0}};
    while (!stack.empty()) {
      auto& [node, next] = stack.back();
      if (value_of.count(node)) {
        stack.pop_back();
        continue;
      }
      if (node->placeholder)
        throw std::invalid_argument(
            "[trace] The function used an array that belongs to another trace (a placeholder "
            "input of an enclosing compile/grad/vmap) in a way that cannot be captured.");
      if (node->buffer) {
        ir::Op c = ir::make_op(ir::OpKind::Constant, {}, node->type);
        c.data = node->buffer;
        value_of[node] = f.add_op(std::move(c));
        stack.pop_back();
        continue;
      }
      if (next < node->inputs.size()) {
        Node* in = node->inputs[next++].node().get();
        if (!value_of.count(in)) stack.push_back({in, 0});
        continue;
      }
      std::vector<int> operands;
      for (const auto& in : node->inputs) operands.push_back(value_of.at(in.node().get()));
      ir::Op op = ir::make_op(node->kind, std::move(operands), node->type, node->attrs);
      op.custom = node->custom;
      value_of[node] = f.add_op(std::move(op));
      if (shapes && node->shape_generic) shapes->generic_reshapes.push_back(value_of[node]);
      stack.pop_back();
    }
    f.outputs.push_back(value_of.at(out.node().get()));
  }
  return f;
}

std::vector<array> inline_function(const ir::Function& f, const std::vector<array>& args) {
  if (args.size() != f.inputs.size())
    throw std::invalid_argument("[call] The function takes " + std::to_string(f.inputs.size()) +
                                " arrays, got " + std::to_string(args.size()) + ".");
  std::vector<array> values;
  values.reserve(f.num_values());
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i].node()->type != f.inputs[i])
      throw std::invalid_argument("[call] Argument " + std::to_string(i) + " has type " +
                                  ir::type_to_string(args[i].node()->type) + ", expected " +
                                  ir::type_to_string(f.inputs[i]) + ".");
    values.push_back(args[i]);
  }
  for (const auto& op : f.ops) {
    if (op.kind == ir::OpKind::Constant) {
      values.push_back(make_materialized(op.type, op.data));
      continue;
    }
    std::vector<array> operands;
    for (int v : op.operands) operands.push_back(values[v]);
    values.push_back(make_node(op.kind, std::move(operands), op.attrs, op.type, op.custom));
  }
  std::vector<array> outputs;
  for (int v : f.outputs) outputs.push_back(values[v]);
  return outputs;
}

}  // namespace kiln::detail
