// Batching (vmap) as an IR -> IR pass.
//
// Every value of the input function maps to one value of the result and a
// batch axis: -1 when the value does not depend on a mapped input (it keeps
// its original type and its op is copied unchanged), else the position of the
// batch dimension in the new value's shape. The batch axis of a batched value
// may sit anywhere; each rule moves it only where the op needs it somewhere
// in particular, so e.g. a chain of elementwise ops on an input mapped along
// axis 1 needs no transpose at all. An unbatched operand meets a batched one
// by being broadcast (a free, fusible op) to the batched shape.
//
// The rule of each op, with B the batch size and d the operand's batch axis:
//   constant            never batched
//   unary elementwise,  same op on the batched operand, batch axis kept
//     cast
//   binary, comparison, operands brought to one batch axis (the first batched
//     select              operand's); unbatched ones broadcast to it
//   reductions, argmax, axes shifted past d; the batch axis moves down by the
//     argmin              number of reduced axes before it
//   reshape             batch axis moved to 0, reshaped to [B] + shape
//   transpose           perm extended to keep the batch axis first
//   broadcast           batch axis moved to 0 and the operand reshaped to
//                       [B, 1.., shape] so that right-aligned broadcasting
//                       lines it up with the result's leading B
//   slice               start/stop/strides gain 0/B/1 at d
//   slice_update        src and update brought to one batch axis (the
//                       unbatched one broadcast), then as slice
//   concatenate         operands brought to one batch axis, axis shifted
//   pad                 x padded with 0/0 at d; a batched pad value (pad
//                       takes a scalar) becomes select(mask, padded x, value)
//                       where mask is the padding of an all-true array
//   take                x batched: axis shifted; indices batched: the batch
//                       axis lands inside the indices' dims; both: written as
//                       take_along_axis of x viewed as [B, S, A, T] with the
//                       indices viewed as [B, 1, N, 1] broadcast to [B, S, N, T]
//   take_along_axis     x and indices brought to one batch axis
//   custom              a whole call at once (passes/custom.cpp): its
//                       forward function batched by its vmap rule or by this
//                       pass, its vjp and jvp rules batched alike
//   matmul              both batched: to one leading axis; only a batched:
//                       the batch folds into a's rows ([.., B*m, k]); only b
//                       batched: into b's columns ([.., k, B*n]) — the other
//                       operand (often a weight matrix) is never broadcast
// Outputs: the batch axis is moved to out_axes[j]; an unbatched output is
// broadcast to include it (out_axes[j] = -1 instead asks for an output that
// is not mapped, which must then be unbatched).
#include <stdexcept>
#include <string>
#include <unordered_map>

#include "ir/builder.h"
#include "passes/custom.h"
#include "passes/transforms.h"

namespace kiln::passes {

namespace {

using ir::Attrs;
using ir::Builder;
using ir::Function;
using ir::Op;
using ir::OpKind;
using ir::Type;

[[noreturn]] void fail(const std::string& msg) { throw std::invalid_argument("[vmap] " + msg); }

Shape insert_dim(Shape s, int at, int32_t d) {
  s.insert(s.begin() + at, d);
  return s;
}

std::vector<int64_t> insert_at(std::vector<int64_t> v, int at, int64_t x) {
  v.insert(v.begin() + at, x);
  return v;
}

int32_t product(const Shape& s, size_t begin, size_t end) {
  int64_t n = 1;
  for (size_t i = begin; i < end; ++i) n *= s[i];
  return int32_t(n);
}

class Batcher {
 public:
  Batcher(const Function& f, int batch) : f_(f), b_(g_), batch_(batch), calls_(f) {
    g_.name = f.name;
  }

  Function run(const std::vector<int>& in_axes, const std::vector<int>& out_axes) {
    val_.assign(size_t(f_.num_values()), -1);
    bd_.assign(size_t(f_.num_values()), -1);
    for (size_t i = 0; i < f_.inputs.size(); ++i) {
      const Type& t = f_.inputs[i];
      int ax = in_axes[i];
      if (ax == -1) {
        val_[i] = g_.add_input(t);
        continue;
      }
      val_[i] = g_.add_input(Type{t.dtype, insert_dim(t.shape, ax, batch_)});
      bd_[i] = ax;
    }
    for (size_t k = 0; k < f_.ops.size(); ++k) {
      int id = int(f_.inputs.size() + k);
      auto [v, d] = f_.ops[k].kind == OpKind::Custom ? batch_call(f_.ops[k], id) : batch_op(f_.ops[k]);
      val_[size_t(id)] = v;
      bd_[size_t(id)] = d;
    }
    for (size_t j = 0; j < f_.outputs.size(); ++j) {
      int old = f_.outputs[j];
      int oa = out_axes[j];
      if (oa == -1) {
        if (bd_[size_t(old)] >= 0)
          fail("out_axes[" + std::to_string(j) + "] is -1 (not mapped), but output " +
               std::to_string(j) + " depends on a mapped input.");
        g_.outputs.push_back(val_[size_t(old)]);
        continue;
      }
      int rank = int(f_.value_type(old).shape.size());
      if (oa < 0 || oa > rank)
        fail("out_axes[" + std::to_string(j) + "] = " + std::to_string(oa) +
             " is out of range for output " + std::to_string(j) + " of type " +
             ir::type_to_string(f_.value_type(old)) + " (batched rank " +
             std::to_string(rank + 1) + ").");
      g_.outputs.push_back(batched_at(old, oa));
    }
    return std::move(g_);
  }

 private:
  struct Result {
    int value;
    int bdim;  // -1: unbatched
  };

  const Type& type(int new_value) const { return g_.value_type(new_value); }
  int rank(int new_value) const { return int(type(new_value).shape.size()); }
  int val(int old) const { return val_[size_t(old)]; }
  int bd(int old) const { return bd_[size_t(old)]; }
  bool batched(int old) const { return bd_[size_t(old)] >= 0; }

  // New value v with its axis `from` moved to position `to`.
  int moveaxis(int v, int from, int to) {
    if (from == to) return v;
    std::vector<int64_t> perm;
    for (int i = 0; i < rank(v); ++i)
      if (i != from) perm.push_back(i);
    perm.insert(perm.begin() + to, from);
    return b_.transpose(v, perm);
  }

  // Unbatched new value v broadcast to carry a batch axis at `at`.
  int broadcast_batched(int v, int at) {
    const Shape& s = type(v).shape;
    Shape target = insert_dim(s, at, batch_);
    // Right-aligned broadcasting puts a new leading axis first for free; an
    // axis elsewhere needs a unit dimension in its place first.
    int r = at == 0 ? v : b_.reshape(v, insert_dim(s, at, 1));
    return b_.broadcast(r, target);
  }

  // The new value of `old` with its batch axis at `at` (broadcast when it
  // has none).
  int batched_at(int old, int at) {
    if (batched(old)) return moveaxis(val(old), bd(old), at);
    return broadcast_batched(val(old), at);
  }

  // The batch axis of the first batched operand.
  int first_bdim(const Op& op) const {
    for (int o : op.operands)
      if (batched(o)) return bd(o);
    return -1;
  }

  Result copy(const Op& op) {
    Op c = op;
    for (int& o : c.operands) o = val(o);
    return {g_.add_op(std::move(c)), -1};
  }

  Result batch_op(const Op& op) {
    if (op.kind == OpKind::Constant) return copy(op);
    bool any = false;
    for (int o : op.operands) any = any || batched(o);
    if (!any) return copy(op);

    OpKind k = op.kind;
    const auto& ops = op.operands;

    switch (k) {
      KILN_UNARY_OPS(KILN_OP_CASE) {
        int x = val(ops[0]);
        if (k == OpKind::Cast) return {b_.op(k, {x}, {}, Type{op.type.dtype, type(x).shape}), bd(ops[0])};
        return {b_.op(k, {x}), bd(ops[0])};
      }
      KILN_BINARY_OPS(KILN_OP_CASE)
      KILN_COMPARISON_OPS(KILN_OP_CASE)
      case OpKind::Select: {
        int d = first_bdim(op);
        std::vector<int> args;
        for (int o : ops) args.push_back(batched_at(o, d));
        return {b_.op(k, args), d};
      }
      // A constant has no batched operand, and a custom op is batched as a
      // whole call (batch_call): neither reaches here.
      case OpKind::Constant: case OpKind::Custom: break;

      case OpKind::Sum: case OpKind::Prod: case OpKind::Max: case OpKind::Min:
      case OpKind::All: case OpKind::Any: {
        int d = bd(ops[0]);
        std::vector<int64_t> axes;
        int below = 0;
        for (int64_t a : op.ints_attr("axes")) {
          if (a < d) ++below;
          axes.push_back(a < d ? a : a + 1);
        }
        return {b_.op(k, {val(ops[0])}, {{"axes", axes}}), d - below};
      }

      case OpKind::Argmax: case OpKind::Argmin: {
        int d = bd(ops[0]);
        int64_t a = op.int_attr("axis");
        return {b_.op(k, {val(ops[0])}, {{"axis", a < d ? a : a + 1}}), a < d ? d - 1 : d};
      }

      case OpKind::Reshape: {
        int x = moveaxis(val(ops[0]), bd(ops[0]), 0);
        return {b_.reshape(x, insert_dim(op.type.shape, 0, batch_)), 0};
      }

      case OpKind::Bitcast: {
        // Per example the last axis scales: with the batch axis first, the
        // batched last axis is the example's.
        int x = moveaxis(val(ops[0]), bd(ops[0]), 0);
        return {b_.op(k, {x}, {}, Type{op.type.dtype, insert_dim(op.type.shape, 0, batch_)}), 0};
      }

      case OpKind::Transpose: {
        int d = bd(ops[0]);
        std::vector<int64_t> perm{d};
        for (int64_t p : op.ints_attr("perm")) perm.push_back(p < d ? p : p + 1);
        return {b_.transpose(val(ops[0]), perm), 0};
      }

      case OpKind::Broadcast: {
        int x = moveaxis(val(ops[0]), bd(ops[0]), 0);
        const Shape& s = f_.value_type(ops[0]).shape;
        const Shape& t = op.type.shape;
        Shape aligned(t.size() - s.size() + 1, 1);  // [B, 1, .., 1] + s
        aligned[0] = batch_;
        aligned.insert(aligned.end(), s.begin(), s.end());
        return {b_.broadcast(b_.reshape(x, aligned), insert_dim(t, 0, batch_)), 0};
      }

      case OpKind::Slice: {
        int d = bd(ops[0]);
        return {b_.op(k, {val(ops[0])}, slice_attrs(op, d)), d};
      }

      case OpKind::SliceUpdate: {
        int d = first_bdim(op);
        return {b_.op(k, {batched_at(ops[0], d), batched_at(ops[1], d)}, slice_attrs(op, d)), d};
      }

      case OpKind::Concatenate: {
        int d = first_bdim(op);
        std::vector<int> args;
        for (int o : ops) args.push_back(batched_at(o, d));
        int64_t a = op.int_attr("axis");
        return {b_.op(k, args, {{"axis", a < d ? a : a + 1}}), d};
      }

      case OpKind::Pad: return pad(op);
      case OpKind::Take: return take(op);

      case OpKind::TakeAlongAxis: {
        int d = first_bdim(op);
        int64_t a = op.int_attr("axis");
        return {b_.op(k, {batched_at(ops[0], d), batched_at(ops[1], d)},
                      {{"axis", a < d ? a : a + 1}}),
                d};
      }

      case OpKind::Matmul: return matmul(op);

    }
    fail(std::string("no batching rule for op '") + ir::op_name(k) + "'");
  }

  // The custom op defining `id`: its whole call is batched at its first op
  // (custom.h), and the results of its other ops are kept for them.
  Result batch_call(const Op& op, int id) {
    auto it = call_results_.find(id);
    if (it != call_results_.end()) return it->second;
    bool any = false;
    for (int o : op.operands) any = any || batched(o);
    if (!any) return copy(op);
    std::vector<int> x, axes;
    for (int o : op.operands) {
      x.push_back(val(o));
      axes.push_back(bd(o));
    }
    const auto& members = calls_.members(id);
    std::vector<bool> wanted(op.custom->forward->outputs.size(), false);
    for (auto [u, j] : members) wanted[size_t(j)] = true;
    CustomBatch r = custom_vmap(b_, op, x, axes, batch_, wanted);
    for (auto [u, j] : members) call_results_[u] = {r.outputs[size_t(j)], r.axes[size_t(j)]};
    return call_results_.at(id);
  }

  Attrs slice_attrs(const Op& op, int d) const {
    return {{"start", insert_at(op.ints_attr("start"), d, 0)},
            {"stop", insert_at(op.ints_attr("stop"), d, batch_)},
            {"strides", insert_at(op.ints_attr("strides"), d, 1)}};
  }

  Result pad(const Op& op) {
    int x = op.operands[0], value = op.operands[1];
    const auto& low = op.ints_attr("low");
    const auto& high = op.ints_attr("high");
    Dtype dt = op.type.dtype;
    if (!batched(value)) {
      int d = bd(x);
      return {b_.op(OpKind::Pad, {val(x), val(value)},
                    {{"low", insert_at(low, d, 0)}, {"high", insert_at(high, d, 0)}}),
              d};
    }
    // pad takes one scalar: pad with zeros, then select the (batched) value
    // wherever the padding is.
    int d = batched(x) ? bd(x) : 0;
    int zero = b_.splat(Type{dt, {}}, 0);
    int padded = b_.op(OpKind::Pad, {batched_at(x, d), zero},
                       {{"low", insert_at(low, d, 0)}, {"high", insert_at(high, d, 0)}});
    const Shape& xs = f_.value_type(x).shape;
    int all_true = b_.broadcast(b_.splat(Type{bool_, {}}, 1), xs);
    int inside = b_.op(OpKind::Pad, {all_true, b_.splat(Type{bool_, {}}, 0)},
                       {{"low", low}, {"high", high}});
    int inside_b = broadcast_batched(inside, d);
    const Shape& ps = op.type.shape;  // the unbatched padded shape
    Shape unit(ps.size() + 1, 1);
    unit[size_t(d)] = batch_;
    int value_b = b_.broadcast(b_.reshape(val(value), unit), insert_dim(ps, d, batch_));
    return {b_.select(inside_b, padded, value_b), d};
  }

  Result take(const Op& op) {
    int x = op.operands[0], idx = op.operands[1];
    int64_t axis = op.int_attr("axis");
    int idx_rank = int(f_.value_type(idx).shape.size());
    if (!batched(idx)) {
      // out = x'.shape[:axis'] + indices.shape + x'.shape[axis'+1:]
      int d = bd(x);
      int64_t a = axis < d ? axis : axis + 1;
      int out_d = d < a ? d : d - 1 + idx_rank;
      return {b_.op(OpKind::Take, {val(x), val(idx)}, {{"axis", a}}), out_d};
    }
    if (!batched(x))  // out = x.shape[:axis] + indices'.shape + x.shape[axis+1:]
      return {b_.op(OpKind::Take, {val(x), val(idx)}, {{"axis", axis}}), int(axis) + bd(idx)};

    // Both batched: out[b, pre, i, post] = x[b, pre, idx[b, i], post], a
    // take_along_axis of x viewed as [B, S, A, T] with indices [B, S, N, T].
    const Shape& xs = f_.value_type(x).shape;
    const Shape& is = f_.value_type(idx).shape;
    int32_t S = product(xs, 0, size_t(axis));
    int32_t A = xs[size_t(axis)];
    int32_t T = product(xs, size_t(axis) + 1, xs.size());
    int32_t N = product(is, 0, is.size());
    int xv = b_.reshape(moveaxis(val(x), bd(x), 0), {batch_, S, A, T});
    int iv = b_.reshape(moveaxis(val(idx), bd(idx), 0), {batch_, 1, N, 1});
    iv = b_.broadcast(iv, {batch_, S, N, T});
    int g = b_.op(OpKind::TakeAlongAxis, {xv, iv}, {{"axis", int64_t(2)}});
    return {b_.reshape(g, insert_dim(op.type.shape, 0, batch_)), 0};
  }

  Result matmul(const Op& op) {
    int a = op.operands[0], bb = op.operands[1];
    int r = int(op.type.shape.size());  // unbatched rank, >= 2
    if (batched(a) && batched(bb)) {
      // One leading batch axis for both: keep a shared leading position,
      // else move both to 0.
      int d = bd(a) == bd(bb) && bd(a) <= r - 2 ? bd(a) : 0;
      return {b_.op(OpKind::Matmul, {batched_at(a, d), batched_at(bb, d)}), d};
    }
    const Shape& out = op.type.shape;
    if (batched(a)) {
      // a: [lead, B, m, k] -> [lead, B*m, k]; result [lead, B*m, n] -> [lead, B, m, n].
      int av = moveaxis(val(a), bd(a), r - 2);
      Shape s = type(av).shape;
      Shape folded(s.begin(), s.begin() + (r - 2));
      folded.push_back(s[size_t(r - 2)] * s[size_t(r - 1)]);
      folded.push_back(s[size_t(r)]);
      int m = b_.op(OpKind::Matmul, {b_.reshape(av, folded), val(bb)});
      return {b_.reshape(m, insert_dim(out, r - 2, batch_)), r - 2};
    }
    // b: [lead, k, B, n] -> [lead, k, B*n]; result [lead, m, B*n] -> [lead, m, B, n].
    int bv = moveaxis(val(bb), bd(bb), r - 1);
    Shape s = type(bv).shape;
    Shape folded(s.begin(), s.begin() + (r - 1));
    folded.push_back(s[size_t(r - 1)] * s[size_t(r)]);
    int m = b_.op(OpKind::Matmul, {val(a), b_.reshape(bv, folded)});
    return {b_.reshape(m, insert_dim(out, r - 1, batch_)), r - 1};
  }

  const Function& f_;
  Function g_;
  Builder b_;
  int32_t batch_;
  std::vector<int> val_;
  std::vector<int> bd_;
  CustomCalls calls_;
  std::unordered_map<int, Result> call_results_;  // ops of calls batched already
};

}  // namespace

ir::Function vmap(const ir::Function& f, const std::vector<int>& in_axes_arg,
                  const std::vector<int>& out_axes_arg, int batch) {
  if (batch < 0) fail("the batch size must be non-negative, got " + std::to_string(batch) + ".");
  std::vector<int> in_axes = in_axes_arg, out_axes = out_axes_arg;
  if (in_axes.empty()) in_axes.assign(f.inputs.size(), 0);
  if (out_axes.empty()) out_axes.assign(f.outputs.size(), 0);
  if (in_axes.size() != f.inputs.size())
    fail("in_axes has " + std::to_string(in_axes.size()) + " entries for a function of " +
         std::to_string(f.inputs.size()) + " inputs.");
  if (out_axes.size() != f.outputs.size())
    fail("out_axes has " + std::to_string(out_axes.size()) + " entries for a function of " +
         std::to_string(f.outputs.size()) + " outputs.");
  for (size_t i = 0; i < in_axes.size(); ++i) {
    int rank = int(f.inputs[i].shape.size());
    if (in_axes[i] != -1 && (in_axes[i] < 0 || in_axes[i] > rank))
      fail("in_axes[" + std::to_string(i) + "] = " + std::to_string(in_axes[i]) +
           " is out of range for input " + std::to_string(i) + " of type " +
           ir::type_to_string(f.inputs[i]) + " (batched rank " + std::to_string(rank + 1) +
           "; -1 means not mapped).");
  }
  return Batcher(f, batch).run(in_axes, out_axes);
}

ir::Function vmap_pass(const ir::Function& f) { return vmap(f, {}, {}, 4); }

}  // namespace kiln::passes
