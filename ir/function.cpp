#include "ir/function.h"

#include <cstring>
#include <sstream>
#include <stdexcept>

#include "ir/element.h"

namespace kiln::ir {

int64_t shape_size(const Shape& s) {
  int64_t n = 1;
  for (auto d : s) n *= d;
  return n;
}

std::string type_problem(const Type& t) {
  if (int(t.dtype.val) >= kNumDtypes) return "invalid dtype " + std::to_string(int(t.dtype.val));
  int64_t n = 1;
  for (auto d : t.shape) {
    if (d < 0) return "negative dimension in type " + type_to_string(t);
    if (__builtin_mul_overflow(n, int64_t(d), &n))
      return "type " + type_to_string(t) + " has too many elements";
  }
  int64_t nbytes;
  if (__builtin_mul_overflow(n, int64_t(t.dtype.size()), &nbytes))
    return "type " + type_to_string(t) + " has too many elements";
  return "";
}

std::vector<int64_t> row_major_strides(const Shape& s) {
  std::vector<int64_t> st(s.size());
  int64_t acc = 1;
  for (int i = int(s.size()) - 1; i >= 0; --i) {
    st[i] = acc;
    acc *= s[i];
  }
  return st;
}

std::string shape_to_string(const Shape& s) {
  std::ostringstream os;
  os << "(";
  for (size_t i = 0; i < s.size(); ++i) os << (i ? "," : "") << s[i];
  os << ")";
  return os.str();
}

std::string type_to_string(const Type& t) {
  std::ostringstream os;
  os << dtype_short_name(t.dtype) << "[";
  for (size_t i = 0; i < t.shape.size(); ++i) os << (i ? "," : "") << t.shape[i];
  os << "]";
  return os.str();
}

int64_t Op::int_attr(const char* name) const {
  auto it = attrs.find(name);
  if (it == attrs.end() || !std::holds_alternative<int64_t>(it->second))
    throw std::invalid_argument(std::string("[") + op_name(kind) + "] missing integer attribute '" +
                                name + "'");
  return std::get<int64_t>(it->second);
}

const std::vector<int64_t>& Op::ints_attr(const char* name) const {
  auto it = attrs.find(name);
  if (it == attrs.end() || !std::holds_alternative<std::vector<int64_t>>(it->second))
    throw std::invalid_argument(std::string("[") + op_name(kind) + "] missing list attribute '" +
                                name + "'");
  return std::get<std::vector<int64_t>>(it->second);
}

const Type& Function::value_type(int v) const {
  if (v < 0 || v >= num_values()) throw std::out_of_range("value id out of range");
  return is_input(v) ? inputs[v] : ops[v - inputs.size()].type;
}

int Function::add_input(const Type& t) {
  if (!ops.empty()) throw std::logic_error("Function::add_input after ops were added");
  inputs.push_back(t);
  return int(inputs.size()) - 1;
}

int Function::add_op(Op op) {
  ops.push_back(std::move(op));
  return num_values() - 1;
}

Op make_op(OpKind kind, std::vector<int> operands, Type type, Attrs attrs) {
  Op op;
  op.kind = kind;
  op.operands = std::move(operands);
  op.type = std::move(type);
  op.attrs = std::move(attrs);
  return op;
}

Op make_constant(const Type& t, const void* data) {
  Op op = make_op(OpKind::Constant, {}, t);
  op.data = runtime::allocate(size_t(t.nbytes()));
  if (t.nbytes()) std::memcpy(op.data->data(), data, size_t(t.nbytes()));
  return op;
}

Op make_splat(const Type& t, double value) {
  Op op = make_op(OpKind::Constant, {}, t);
  op.data = runtime::allocate(size_t(t.nbytes()));
  for (int64_t i = 0; i < t.size(); ++i) store_f64(t.dtype, op.data->data(), i, value);
  return op;
}

}  // namespace kiln::ir
