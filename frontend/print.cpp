// Printing arrays the way MLX and NumPy do:
//   array([[1, 2],
//          [3, 4]], dtype=int32)
#include <cstdio>
#include <sstream>
#include <string>

#include "frontend/array.h"
#include "ir/element.h"

namespace kiln {

namespace {

constexpr int64_t kSummarizeAbove = 1000;  // elements; NumPy's threshold
constexpr int64_t kEdgeItems = 3;

std::string format_element(Dtype t, const void* data, int64_t i) {
  char buf[64];
  switch (domain_of(t)) {
    case Domain::Int:
      if (t == bool_) return load_i64(t, data, i) ? "true" : "false";
      return std::to_string(load_i64(t, data, i));
    case Domain::UInt:
      return std::to_string(load_u64(t, data, i));
    case Domain::Float:
      std::snprintf(buf, sizeof buf, "%g", load_f64(t, data, i));
      return buf;
    case Domain::Complex: {
      auto c = load_c128(t, data, i);
      std::snprintf(buf, sizeof buf, "%g%+gj", c.real(), c.imag());
      return buf;
    }
  }
  return "";
}

void print_dims(std::ostream& os, const array& a, const void* data, size_t dim, int64_t offset,
                const std::vector<int64_t>& strides, int indent, bool summarize) {
  int64_t n = a.shape()[dim];
  os << "[";
  for (int64_t i = 0; i < n; ++i) {
    if (summarize && n > 2 * kEdgeItems && i == kEdgeItems) {
      os << "...";
      i = n - kEdgeItems - 1;
      os << (dim + 1 == a.ndim() ? ", " : ",\n" + std::string(indent + 1, ' '));
      continue;
    }
    if (dim + 1 == a.ndim()) {
      os << format_element(a.dtype(), data, offset + i);
    } else {
      print_dims(os, a, data, dim + 1, offset + i * strides[dim], strides, indent + 1, summarize);
    }
    if (i + 1 < n) {
      os << ",";
      if (dim + 1 == a.ndim()) os << " ";
      else os << std::string(a.ndim() - dim - 1, '\n') << std::string(indent + 1, ' ');
    }
  }
  os << "]";
}

}  // namespace

std::ostream& operator<<(std::ostream& os, const array& a_in) {
  array a = a_in;
  a.eval();
  const void* data = a.node()->buffer->data();
  os << "array(";
  if (a.ndim() == 0) {
    os << format_element(a.dtype(), data, 0);
  } else {
    print_dims(os, a, data, 0, 0, a.strides(), 6, int64_t(a.size()) > kSummarizeAbove);
  }
  return os << ", dtype=" << dtype_name(a.dtype()) << ")";
}

}  // namespace kiln
