#pragma once
// Appends ops to a Function with their result types computed by the type
// rules, so passes that generate IR (autodiff, vmap, lowering) read like the
// math they implement: b.mul(b.exp(x), dy).
#include <vector>

#include "ir/function.h"

namespace kiln::ir {

class Builder {
 public:
  explicit Builder(Function& f) : f_(f) {}
  Function& function() { return f_; }
  const Type& type(int v) const { return f_.value_type(v); }

  // Any op; `declared` gives the result type of cast/reshape/broadcast.
  // Throws std::invalid_argument (from the type rules) on a bad op.
  int op(OpKind k, std::vector<int> operands, Attrs attrs = {}, const Type& declared = {});
  // A constant of type t whose every element is `value`.
  int splat(const Type& t, double value);
  // A splat shaped and typed like value v.
  int splat_like(int v, double value) { return splat(type(v), value); }

  int unary(OpKind k, int x) { return op(k, {x}); }
  int binary(OpKind k, int x, int y) { return op(k, {x, y}); }
  int add(int x, int y) { return binary(OpKind::Add, x, y); }
  int sub(int x, int y) { return binary(OpKind::Subtract, x, y); }
  int mul(int x, int y) { return binary(OpKind::Multiply, x, y); }
  int div(int x, int y) { return binary(OpKind::Divide, x, y); }
  int neg(int x) { return unary(OpKind::Negative, x); }
  int select(int c, int x, int y) { return op(OpKind::Select, {c, x, y}); }

  int cast(int x, Dtype t);                     // no-op when already t
  int reshape(int x, const Shape& s);           // no-op when already s
  int broadcast(int x, const Shape& s);         // no-op when already s
  int transpose(int x, const std::vector<int64_t>& perm);
  int reduce(OpKind k, int x, const std::vector<int64_t>& axes);
  int sum(int x, const std::vector<int64_t>& axes) { return reduce(OpKind::Sum, x, axes); }
  // Sums x (of a broadcast result's shape) back down to `s`, the shape of
  // the value that was broadcast: the adjoint of broadcast.
  int sum_to_shape(int x, const Shape& s);

 private:
  Function& f_;
};

}  // namespace kiln::ir
