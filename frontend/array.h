#pragma once
// kiln::array — a lazy, reference-counted n-dimensional array, as
// mlx::core::array. An array is either materialized (it holds a buffer) or
// pending (it records the op that will compute it from its inputs). Nothing
// is computed until eval(), item(), data() or printing asks for values.
#include <complex>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <mutex>
#include <ostream>
#include <stdexcept>
#include <type_traits>
#include <vector>

#include "frontend/stream.h"
#include "ir/dtype.h"
#include "ir/function.h"
#include "runtime/buffer.h"

namespace kiln {

class array;

namespace detail {

// The dtype of the C++ storage of T: like TypeToDtype, except that double
// is read as float64 (TypeToDtype<double> is float32, as in MLX).
template <typename T>
constexpr Dtype storage_dtype() {
  if constexpr (std::is_same_v<std::remove_cv_t<T>, double>) return float64;
  else return TypeToDtype<T>();
}

struct Node;
struct NodeDeleter { void operator()(Node* n) const; };  // iterative: no deep recursion
array make_node(ir::OpKind kind, std::vector<array> inputs, ir::Attrs attrs,
                const ir::Type& declared, std::shared_ptr<const ir::Custom> custom);
array make_materialized(ir::Type type, runtime::BufferPtr buffer);
array make_placeholder(ir::Type type);

}  // namespace detail

class array {
 public:
  // A 0-d array holding `val`. Explicit, as in MLX: write array(2.0f).
  template <typename T, typename = std::enable_if_t<std::is_arithmetic_v<T> ||
                                                    std::is_same_v<T, float16_t> ||
                                                    std::is_same_v<T, bfloat16_t> ||
                                                    std::is_same_v<T, complex64_t>>>
  explicit array(T val, Dtype dtype = TypeToDtype<T>())
      : array(&val, detail::storage_dtype<T>(), 1, Shape{}, dtype) {}

  // A 1-d array of the listed values.
  template <typename T>
  array(std::initializer_list<T> data, Dtype dtype = TypeToDtype<T>())
      : array(data.begin(), detail::storage_dtype<T>(), data.size(), Shape{int32_t(data.size())},
              dtype) {}
  // As MLX: a list of mixed literals (array({3, 2.73})) and the empty list
  // (array({}), shape (0)) make float32 arrays...
  array(std::initializer_list<float> data)
      : array(data.begin(), float32, data.size(), Shape{int32_t(data.size())}, float32) {}
  // ...and array({}, dtype) an empty array of that dtype.
  array(std::initializer_list<int> data, Dtype dtype)
      : array(data.begin(), int32, data.size(), Shape{int32_t(data.size())}, dtype) {}

  // An array of the given shape filled row-major from the listed values.
  template <typename T>
  array(std::initializer_list<T> data, const Shape& shape, Dtype dtype = TypeToDtype<T>())
      : array(data.begin(), detail::storage_dtype<T>(), data.size(), shape, dtype) {}

  // An array of `shape` copied from the elements starting at `it` (a pointer
  // or iterator), converted to `dtype`.
  template <typename It, typename V = typename std::iterator_traits<It>::value_type,
            typename = std::enable_if_t<!std::is_void_v<V>>>
  array(It it, const Shape& shape, Dtype dtype = TypeToDtype<V>())
      : array(Elements<V>(it, shape).data, detail::storage_dtype<V>(), size_t(ir::shape_size(shape)), shape,
              dtype) {}

  // An array of `shape` and `dtype` copied from raw bytes at `data`.
  array(const void* data, const Shape& shape, Dtype dtype);

  array(const array&) = default;
  array(array&&) noexcept = default;
  array& operator=(const array&) = default;
  array& operator=(array&&) noexcept = default;

  const Shape& shape() const;
  int32_t shape(int dim) const;  // negative dims count from the end
  std::vector<int64_t> strides() const;  // row-major, in elements
  size_t ndim() const { return shape().size(); }
  size_t size() const;
  size_t nbytes() const { return size() * itemsize(); }
  size_t itemsize() const { return dtype().size(); }
  Dtype dtype() const;

  // Materializes this array (no-op when it already is).
  void eval();
  bool is_evaluated() const;

  // The single element, converted to T. Evaluates. Throws
  // std::invalid_argument when size() != 1.
  template <typename T>
  T item() {
    T out{};
    item_to(detail::storage_dtype<T>(), &out);
    return out;
  }
  template <typename T>
  T item() const { return const_cast<array*>(this)->item<T>(); }

  // Pointer to the row-major elements. Evaluates. Throws
  // std::invalid_argument when sizeof(T) differs from the element size.
  template <typename T>
  T* data() { return static_cast<T*>(raw_data(sizeof(T))); }
  template <typename T>
  const T* data() const { return static_cast<const T*>(const_cast<array*>(this)->raw_data(sizeof(T))); }

  // Iteration over the first axis, as MLX: `for (auto row : a)` visits
  // a[0], a[1], ... (lazy arrays without that axis). Throws
  // std::invalid_argument for a 0-d array.
  class ArrayIterator {
   public:
    using iterator_category = std::random_access_iterator_tag;
    using difference_type = size_t;
    using value_type = const array;
    using reference = value_type;
    explicit ArrayIterator(const array& arr, int idx = 0);
    reference operator*() const;
    ArrayIterator& operator+(difference_type diff) { idx_ += int(diff); return *this; }
    ArrayIterator& operator++() { ++idx_; return *this; }
    friend bool operator==(const ArrayIterator& a, const ArrayIterator& b) {
      return a.node_ == b.node_ && a.idx_ == b.idx_;
    }
    friend bool operator!=(const ArrayIterator& a, const ArrayIterator& b) { return !(a == b); }

   private:
    std::shared_ptr<detail::Node> node_;  // the array iterated over
    int idx_;
  };
  ArrayIterator begin() const { return ArrayIterator(*this); }
  ArrayIterator end() const { return ArrayIterator(*this, ndim() ? shape(0) : 0); }

  // Internal: the graph node. Used by eval and the ops.
  const std::shared_ptr<detail::Node>& node() const { return node_; }

 private:
  // Only the detail:: factories below wrap a node, which is never null: no
  // public overload can make an array without one.
  explicit array(std::shared_ptr<detail::Node> node) : node_(std::move(node)) {}
  friend array detail::make_node(ir::OpKind, std::vector<array>, ir::Attrs, const ir::Type&,
                                 std::shared_ptr<const ir::Custom>);
  friend array detail::make_materialized(ir::Type, runtime::BufferPtr);
  friend array detail::make_placeholder(ir::Type);

  array(const void* src, Dtype src_dtype, size_t count, const Shape& shape, Dtype dtype);
  void item_to(Dtype as, void* out);
  void* raw_data(size_t elem_size);

  // The elements at `it`, contiguous: read in place from a pointer (a batch
  // of a dataset is copied once, not three times), else copied out first
  // (into an array, not std::vector, which packs bools into bits).
  template <typename V>
  struct Elements {
    std::unique_ptr<V[]> copy;
    const V* data;
    template <typename It>
    Elements(It it, const Shape& shape) {
      if constexpr (std::is_pointer_v<It>) {
        data = it;
      } else {
        int64_t n = ir::shape_size(shape);
        if (n < 0) throw std::invalid_argument("[array] Negative dimensions are not allowed.");
        copy.reset(new V[size_t(n)]);
        for (int64_t i = 0; i < n; ++i, ++it) copy[i] = *it;
        data = copy.get();
      }
    }
  };

  std::shared_ptr<detail::Node> node_;
};

namespace detail {

// A node of the lazy graph. Materialized: `buffer` is set and `inputs` is
// empty. Pending: `kind`, `attrs` and `inputs` describe the op.
struct Node {
  ir::Type type;
  runtime::BufferPtr buffer;
  ir::OpKind kind = ir::OpKind::Constant;
  ir::Attrs attrs;
  std::vector<array> inputs;
  // Custom ops only: the functions the op calls (ir/custom.h).
  std::shared_ptr<const ir::Custom> custom;
  // Pending: the stream the op runs on (eval runs it on stream.device),
  // the one in force when the op was created (frontend/stream.h).
  Stream stream{0, Device::cpu};
  // A stand-in for an input of a function being traced (compile, grad,
  // vmap): it has no value and cannot be evaluated.
  bool placeholder = false;
  // A reshape that follows its operand's shape (flatten, squeeze,
  // expand_dims, a keepdims reduction...) rather than a literal shape the
  // user wrote: a shapeless compile() re-derives its shape for new inputs.
  bool shape_generic = false;
};

// Records a pending op. The result type comes from the op's type rule
// (ir/type_rules.h); `declared` gives it for cast/reshape/broadcast and
// custom ops, whose callees are `custom`.
array make_node(ir::OpKind kind, std::vector<array> inputs, ir::Attrs attrs = {},
                const ir::Type& declared = {}, std::shared_ptr<const ir::Custom> custom = nullptr);
// A materialized array owning `buffer`.
array make_materialized(ir::Type type, runtime::BufferPtr buffer);
// A placeholder of `type` (see Node::placeholder).
array make_placeholder(ir::Type type);

// Guards what eval() changes in nodes (`buffer`, `inputs`, `attrs`,
// `custom`): held by eval() from its graph walk until the results are
// stored, and by every other walk of pending nodes (tracing, export_to_dot),
// so that threads evaluating graphs that share pending nodes never see a
// node half materialized. A node's `type` and `kind` never change and need
// no lock. Never held while user code runs.
std::mutex& graph_mutex();

}  // namespace detail

// Materializes all the arrays together (one graph, shared work computed once).
void eval(std::vector<array> outputs);
template <typename... Arrays>
void eval(Arrays&&... outputs) {
  eval(std::vector<array>{std::forward<Arrays>(outputs)...});
}

// Prints like MLX/NumPy: array([[1, 2], [3, 4]], dtype=int32). Evaluates.
std::ostream& operator<<(std::ostream& os, const array& a);

}  // namespace kiln
