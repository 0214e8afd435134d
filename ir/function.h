#pragma once
// The SSA IR: a Function is a list of inputs, a list of ops in definition
// order and a list of outputs. Every input and every op defines exactly one
// value; values are numbered inputs first (0 .. n_inputs-1), then ops in
// order. An op may use only values defined before it.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "ir/dtype.h"
#include "ir/ops.h"
#include "runtime/buffer.h"

namespace kiln {
using Shape = std::vector<int32_t>;  // as mlx::core::Shape
}

namespace kiln::ir {

using Shape = kiln::Shape;

struct Custom;  // custom.h

// Number of elements of a shape (1 for a scalar shape []).
int64_t shape_size(const Shape& s);
// Row-major element strides of a shape.
std::vector<int64_t> row_major_strides(const Shape& s);
std::string shape_to_string(const Shape& s);  // "(2,3)"

struct Type {
  Dtype dtype;
  Shape shape;
  int64_t size() const { return shape_size(shape); }
  int64_t nbytes() const { return size() * dtype.size(); }
  bool operator==(const Type& o) const { return dtype == o.dtype && shape == o.shape; }
  bool operator!=(const Type& o) const { return !(*this == o); }
};

// "" if t has a valid dtype, non-negative dimensions and an element count
// and byte size that fit in int64; else the problem. Every Type a function
// or an array carries passes this, so size() and nbytes() never overflow.
std::string type_problem(const Type& t);
std::string type_to_string(const Type& t);  // "f32[2,3]"

// Attribute values: one integer or a list of integers.
using Attr = std::variant<int64_t, std::vector<int64_t>>;
using Attrs = std::map<std::string, Attr>;  // ordered: stable printing

struct Op {
  OpKind kind = OpKind::Constant;
  std::vector<int> operands;  // value ids
  Attrs attrs;
  Type type;                  // the type of the value this op defines
  // Constants only: `type.size()` elements of `type.dtype`, row-major.
  runtime::BufferPtr data;
  // Custom ops only: the functions it calls (custom.h). Shared, immutable:
  // copying an op (as every pass does) keeps its callees.
  std::shared_ptr<const Custom> custom;

  int64_t int_attr(const char* name) const;              // throws if absent
  const std::vector<int64_t>& ints_attr(const char* name) const;
};

struct Function {
  std::string name = "main";
  std::vector<Type> inputs;
  std::vector<Op> ops;
  std::vector<int> outputs;

  int num_values() const { return int(inputs.size() + ops.size()); }
  bool is_input(int v) const { return v >= 0 && v < int(inputs.size()); }
  const Type& value_type(int v) const;
  // The op defining value v; v must not be an input.
  const Op& def(int v) const { return ops[v - inputs.size()]; }
  // Adds an input; only allowed before any op is added. Returns its id.
  int add_input(const Type& t);
  // Appends an op and returns the id of the value it defines.
  int add_op(Op op);
};

// Convenience builders.
Op make_op(OpKind kind, std::vector<int> operands, Type type, Attrs attrs = {});
// A constant op holding a copy of `t.size()` elements at `data`.
Op make_constant(const Type& t, const void* data);
// A constant op of `t` whose every element is `value` (converted to t.dtype).
Op make_splat(const Type& t, double value);

}  // namespace kiln::ir
