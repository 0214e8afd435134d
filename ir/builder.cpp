#include "ir/builder.h"

#include "ir/type_rules.h"

namespace kiln::ir {

int Builder::op(OpKind k, std::vector<int> operands, Attrs attrs, const Type& declared) {
  std::vector<Type> types;
  for (int v : operands) types.push_back(type(v));
  Type t = infer_type(k, types, attrs, declared);
  return f_.add_op(make_op(k, std::move(operands), std::move(t), std::move(attrs)));
}

int Builder::splat(const Type& t, double value) { return f_.add_op(make_splat(t, value)); }

int Builder::cast(int x, Dtype t) {
  if (type(x).dtype == t) return x;
  return op(OpKind::Cast, {x}, {}, Type{t, type(x).shape});
}

int Builder::reshape(int x, const Shape& s) {
  if (type(x).shape == s) return x;
  return op(OpKind::Reshape, {x}, {}, Type{type(x).dtype, s});
}

int Builder::broadcast(int x, const Shape& s) {
  if (type(x).shape == s) return x;
  return op(OpKind::Broadcast, {x}, {}, Type{type(x).dtype, s});
}

int Builder::transpose(int x, const std::vector<int64_t>& perm) {
  bool identity = true;
  for (size_t i = 0; i < perm.size(); ++i) identity = identity && perm[i] == int64_t(i);
  if (identity) return x;
  return op(OpKind::Transpose, {x}, {{"perm", perm}});
}

int Builder::reduce(OpKind k, int x, const std::vector<int64_t>& axes) {
  if (axes.empty()) return x;
  return op(k, {x}, {{"axes", axes}});
}

int Builder::sum_to_shape(int x, const Shape& s) {
  const Shape& from = type(x).shape;
  size_t lead = from.size() - s.size();
  std::vector<int64_t> axes;
  for (size_t d = 0; d < from.size(); ++d)
    if (d < lead || (s[d - lead] == 1 && from[d] != 1)) axes.push_back(int64_t(d));
  // The first axis on its own, then the others: a gradient of a bias
  // (N, H, W, C) -> (C) is then a column sum over N with H * W rows to
  // share among threads, not 16 long columns that one thread walks.
  if (axes.size() >= 2 && axes[0] == 0 && from[0] > 1) {
    std::vector<int64_t> rest;
    for (size_t i = 1; i < axes.size(); ++i) rest.push_back(axes[i] - 1);
    return reshape(sum(sum(x, {0}), rest), s);
  }
  return reshape(sum(x, axes), s);
}

}  // namespace kiln::ir
