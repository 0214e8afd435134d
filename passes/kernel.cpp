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
