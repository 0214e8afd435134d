#include "passes/kernel.h"

#include <cstdio>
#include <sstream>
#include <stdexcept>

namespace kiln::kernel {

namespace {
const char* kind_name(NodeKind k) {
  switch (k) {
    case NodeKind::Load: return "load";
    case NodeKind::Constant: return "const";
    case NodeKind::Unary: return "unary";
    case NodeKind::Binary: return "binary";
    case NodeKind::Select: return "select";
    case NodeKind::Reduce: return "reduce";
    case NodeKind::Gather: return "gather";
  }
  return "?";
}

void print_node(std::ostream& os, const Node& n, bool with_values) {
  os << kind_name(n.kind);
  if (n.kind != NodeKind::Load && n.kind != NodeKind::Constant && n.kind != NodeKind::Gather)
    os << "." << ir::op_name(n.op);
  os << ":" << dtype_short_name(n.dtype);
  for (int o : n.operands) os << " n" << o;
  if (n.kind == NodeKind::Load || n.kind == NodeKind::Gather) {
    os << " arg" << n.arg << " [";
    for (size_t v = 0; v < n.strides.size(); ++v) {
      const Stride& s = n.strides[v];
      os << (v ? "," : "") << (s.kind == StrideKind::Zero ? "0" : s.kind == StrideKind::One ? "1" : "s");
      if (with_values && s.kind == StrideKind::Param) os << "p" << s.param;
    }
    os << "]";
    if (with_values) os << " off p" << n.offset_param;
    if (n.kind == NodeKind::Gather && with_values)
      os << " + index * p" << n.gather_stride_param << " in [0, p" << n.extent_param << ")";
  }
  if (n.kind == NodeKind::Constant) {
    // A parameter's value is not part of the kernel's structure.
    char buf[64];
    std::snprintf(buf, sizeof buf, " %.17g/%lld", n.fvalue, (long long)n.ivalue);
    if (n.value_param < 0) os << buf;
    else if (with_values) os << " p" << n.value_param << " =" << buf;
    else os << " param";
  }
  if (n.kind == NodeKind::Reduce) {
    os << " v" << n.var;
    if (with_values) os << " extent p" << n.extent_param;
  }
}
}  // namespace

bool Kernel::has_reduction() const {
  for (const Node& n : nodes)
    if (n.kind == NodeKind::Reduce) return true;
  return false;
}

bool Kernel::writes_arg(int arg) const {
  for (const ExtraOutput& e : extra_outputs)
    if (e.arg == arg) return true;
  return false;
}

void Kernel::drop_unreachable() {
  std::vector<char> live(nodes.size());
  std::vector<int> stack{root};
  for (const auto& e : extra_outputs) stack.push_back(e.node);
  while (!stack.empty()) {
    int i = stack.back();
    stack.pop_back();
    if (live[size_t(i)]) continue;
    live[size_t(i)] = 1;
    for (int o : nodes[size_t(i)].operands) stack.push_back(o);
  }
  std::vector<int> id(nodes.size(), -1);
  std::vector<Node> kept;
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (!live[i]) continue;
    id[i] = int(kept.size());
    kept.push_back(std::move(nodes[i]));
    for (int& o : kept.back().operands) o = id[size_t(o)];
  }
  nodes = std::move(kept);
  root = id[size_t(root)];
  for (auto& e : extra_outputs) e.node = id[size_t(e.node)];
}

int64_t Kernel::outer_extent(const std::vector<int>& shape) const {
  int64_t size = 1;
  for (int d : shape) size *= d;
  if (!schedule.scheduled()) throw std::logic_error("kiln: the range of a kernel that is not scheduled");
  if (size == 0) return 0;
  switch (schedule.range) {
    case RangeKind::Single: return 1;
    case RangeKind::Elements: return size;
    case RangeKind::Rows: return size / shape.back();
  }
  return size;
}

std::string Kernel::key() const {
  std::ostringstream os;
  os << "in";
  for (Dtype t : inputs) os << "," << dtype_short_name(t);
  os << ";out," << dtype_short_name(output) << ";rank" << rank << ";vars" << num_vars << ";";
  for (const Node& n : nodes) {
    print_node(os, n, false);
    os << ";";
  }
  os << "root" << root << ";";
  for (const ExtraOutput& e : extra_outputs) os << "extra" << e.node << ">" << e.arg << ";";
  // Which parameter each node and each output size reads: lowering numbers
  // them the same way for the same structure, but passes that rewrite a
  // lowered kernel (loop_collapse.h, multi_output.h) append new ones, so
  // kernels printed alike can read their parameter blocks differently.
  os << "params";
  for (int p : size_params) os << "," << p;
  for (const Node& n : nodes) {
    os << "|" << n.offset_param << "," << n.value_param << "," << n.extent_param << "," << n.gather_stride_param;
    for (const Stride& st : n.strides)
      if (st.kind == StrideKind::Param) os << "," << st.param;
  }
  os << ";";
  os << "schedule";
  // One line: the disk cache's header holds the key.
  std::string sched = schedule.to_string();
  for (char c : sched) os << (c == '\n' ? ';' : c);
  return os.str();
}

std::string Kernel::to_string() const {
  std::ostringstream os;
  os << "  kernel rank " << rank << " -> " << dtype_short_name(output) << ", " << num_params << " params\n";
  for (size_t i = 0; i < nodes.size(); ++i) {
    os << "    n" << i << " = ";
    print_node(os, nodes[i], true);
    os << (int(i) == root ? "   <- root" : "");
    for (const ExtraOutput& e : extra_outputs)
      if (e.node == int(i)) os << "   -> arg" << e.arg;
    os << "\n";
  }
  os << "    schedule:\n" << schedule.to_string("      ");
  return os.str();
}

}  // namespace kiln::kernel
