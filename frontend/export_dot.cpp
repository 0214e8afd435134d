// export_to_dot: the lazy graph behind some arrays, for Graphviz.
#include <unordered_map>

#include "frontend/transforms.h"

namespace kiln {

void export_to_dot(std::ostream& os, const std::vector<array>& outputs) {
  std::lock_guard<std::mutex> lock(detail::graph_mutex());
  std::unordered_map<detail::Node*, int> id;
  std::vector<detail::Node*> order;
  std::vector<detail::Node*> stack;
  for (const auto& o : outputs) stack.push_back(o.node().get());
  while (!stack.empty()) {
    detail::Node* n = stack.back();
    stack.pop_back();
    if (id.count(n)) continue;
    id[n] = int(id.size());
    order.push_back(n);
    for (const auto& in : n->inputs) stack.push_back(in.node().get());
  }
  os << "digraph kiln {\n  rankdir=LR;\n";
  for (detail::Node* n : order) {
    std::string label = n->buffer ? "array" : n->placeholder ? "input" : ir::op_name(n->kind);
    os << "  n" << id[n] << " [label=\"" << label << "\\n" << ir::type_to_string(n->type) << "\""
       << (n->buffer || n->placeholder ? ", shape=box" : "") << "];\n";
  }
  for (detail::Node* n : order)
    for (const auto& in : n->inputs) os << "  n" << id[in.node().get()] << " -> n" << id[n] << ";\n";
  for (size_t i = 0; i < outputs.size(); ++i)
    os << "  out" << i << " [label=\"output " << i << "\", shape=plaintext];\n  n" << id[outputs[i].node().get()]
       << " -> out" << i << ";\n";
  os << "}\n";
}

}  // namespace kiln
