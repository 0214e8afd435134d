#include "frontend/array.h"

#include <cstring>
#include <string>

#include "ir/custom.h"
#include "ir/element.h"
#include "ir/type_rules.h"

namespace kiln {

namespace detail {

// Destroying the last handle of a long pending chain would otherwise recurse
// once per node; nodes freed while a deletion is under way are queued.
thread_local std::vector<Node*>* deletion_queue = nullptr;

void NodeDeleter::operator()(Node* n) const {
  if (deletion_queue) {
    deletion_queue->push_back(n);
    return;
  }
  std::vector<Node*> queue{n};
  deletion_queue = &queue;
  while (!queue.empty()) {
    Node* x = queue.back();
    queue.pop_back();
    delete x;  // may queue x's inputs
  }
  deletion_queue = nullptr;
}

static std::shared_ptr<Node> new_node() { return std::shared_ptr<Node>(new Node, NodeDeleter{}); }

array make_node(ir::OpKind kind, std::vector<array> inputs, ir::Attrs attrs,
                const ir::Type& declared, std::shared_ptr<const ir::Custom> custom) {
  std::vector<ir::Type> types;
  types.reserve(inputs.size());
  for (const auto& in : inputs) types.push_back(in.node()->type);
  auto n = new_node();
  n->type = ir::infer_type(kind, types, attrs, declared);
  // The public ops check shapes under their own names; this is the last
  // line, so that no array's size() can overflow.
  if (std::string problem = ir::type_problem(n->type); !problem.empty())
    throw std::invalid_argument(std::string("[") + ir::op_name(kind) + "] " + problem);
  if (kind == ir::OpKind::Custom) {
    ir::Op op = ir::make_op(kind, {}, n->type, attrs);
    op.custom = custom;
    std::string problem = ir::custom_op_problem(op, types);
    if (!problem.empty()) throw std::invalid_argument("[custom] " + problem);
  }
  n->stream = current_stream();
  n->kind = kind;
  n->attrs = std::move(attrs);
  n->inputs = std::move(inputs);
  n->custom = std::move(custom);
  return array(std::move(n));
}

array make_materialized(ir::Type type, runtime::BufferPtr buffer) {
  auto n = new_node();
  n->type = std::move(type);
  n->buffer = std::move(buffer);
  return array(std::move(n));
}

std::mutex& graph_mutex() {
  static std::mutex m;
  return m;
}

array make_placeholder(ir::Type type) {
  auto n = new_node();
  n->type = std::move(type);
  n->placeholder = true;
  return array(std::move(n));
}

}  // namespace detail

static void check_shape(const Shape& shape) {
  for (auto d : shape)
    if (d < 0)
      throw std::invalid_argument("[array] Negative dimensions are not allowed, got shape " +
                                  ir::shape_to_string(shape) + ".");
}

array::array(const void* src, Dtype src_dtype, size_t count, const Shape& shape, Dtype dtype) {
  check_shape(shape);
  int64_t n = ir::shape_size(shape);
  if (int64_t(count) != n)
    throw std::invalid_argument("[array] Data size " + std::to_string(count) +
                                " does not match the shape " + ir::shape_to_string(shape) +
                                " of size " + std::to_string(n) + ".");
  ir::Type t{dtype, shape};
  auto buf = runtime::allocate(size_t(t.nbytes()));
  if (src_dtype == dtype) {
    if (n) std::memcpy(buf->data(), src, size_t(t.nbytes()));
  } else {
    for (int64_t i = 0; i < n; ++i) convert_element(src_dtype, src, i, dtype, buf->data(), i);
  }
  *this = detail::make_materialized(t, std::move(buf));
}

array::array(const void* data, const Shape& shape, Dtype dtype) {
  check_shape(shape);
  ir::Type t{dtype, shape};
  auto buf = runtime::allocate(size_t(t.nbytes()));
  if (t.nbytes()) std::memcpy(buf->data(), data, size_t(t.nbytes()));
  *this = detail::make_materialized(t, std::move(buf));
}

const Shape& array::shape() const { return node_->type.shape; }

int32_t array::shape(int dim) const {
  int nd = int(ndim());
  if (dim < -nd || dim >= nd)
    throw std::invalid_argument("[array::shape] Axis " + std::to_string(dim) +
                                " is out of range for an array with " + std::to_string(nd) +
                                " dimensions.");
  return shape()[dim < 0 ? dim + nd : dim];
}

std::vector<int64_t> array::strides() const { return ir::row_major_strides(shape()); }
size_t array::size() const { return size_t(node_->type.size()); }
Dtype array::dtype() const { return node_->type.dtype; }
bool array::is_evaluated() const {
  std::lock_guard<std::mutex> lock(detail::graph_mutex());
  return node_->buffer != nullptr;
}

void array::eval() {
  if (!is_evaluated()) kiln::eval(std::vector<array>{*this});
}

void array::item_to(Dtype as, void* out) {
  if (size() != 1)
    throw std::invalid_argument("[item] Only size-1 arrays can be converted to scalars, got shape " +
                                ir::shape_to_string(shape()) + ".");
  eval();
  convert_element(dtype(), node_->buffer->data(), 0, as, out, 0);
}

void* array::raw_data(size_t elem_size) {
  if (elem_size != itemsize())
    throw std::invalid_argument("[data] Requested an element of " + std::to_string(elem_size) +
                                " bytes from an array of " + dtype_name(dtype()) + ".");
  eval();
  return node_->buffer->data();
}

}  // namespace kiln
