// specialize_shapes: a trace re-derived for new input shapes (shapeless.h).
#include "frontend/shapeless.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "ir/type_rules.h"
#include "ir/verifier.h"

namespace kiln::detail {

namespace {

[[noreturn]] void fail(const std::string& msg) { throw std::invalid_argument("[compile] " + msg); }

// Dimensions during the walk: a size (>= 0) or a symbol (-1 - id), the
// not yet known size of a dimension that a broadcast introduced. Symbols
// that meet in an elementwise op are unified; each keeps a fallback, the
// size it had in the trace, used if nothing determines it.
class Dims {
 public:
  int64_t fresh(int64_t fallback) {
    parent_.push_back(int(parent_.size()));
    bound_.push_back(-1);
    fallback_.push_back(fallback);
    return -1 - int64_t(parent_.size() - 1);
  }
  // A size, or the representative symbol of d's class.
  int64_t resolve(int64_t d) {
    if (d >= 0) return d;
    int s = find(int(-1 - d));
    return bound_[s] >= 0 ? bound_[s] : -1 - int64_t(s);
  }
  // False when a and b are two different sizes.
  bool unify(int64_t a, int64_t b) {
    a = resolve(a), b = resolve(b);
    if (a >= 0 && b >= 0) return a == b;
    if (a < 0 && b < 0) {
      parent_[find(int(-1 - a))] = find(int(-1 - b));
    } else if (a < 0) {
      bound_[find(int(-1 - a))] = b;
    } else {
      bound_[find(int(-1 - b))] = a;
    }
    return true;
  }
  // d's size, fixing an undetermined symbol to its fallback.
  int64_t concrete(int64_t d) {
    d = resolve(d);
    if (d >= 0) return d;
    int s = find(int(-1 - d));
    bound_[s] = fallback_[s];
    return bound_[s];
  }

 private:
  int find(int s) {
    while (parent_[s] != s) s = parent_[s] = parent_[parent_[s]];
    return s;
  }
  std::vector<int> parent_;
  std::vector<int64_t> bound_, fallback_;
};

using SymShape = std::vector<int64_t>;

// A reshape as segments: operand dimensions [in_begin, in_end) become
// result dimensions [out_begin, out_end), with equal products. Segments are
// minimal: one operand dimension kept, several merged into one, one split
// into several, a 1 inserted (empty operand range) or dropped (empty
// result range). False where a zero size makes products meaningless.
struct Segment { size_t in_begin, in_end, out_begin, out_end; };

bool reshape_segments(const Shape& in, const Shape& out, std::vector<Segment>* segs) {
  for (auto d : in) if (d == 0) return false;
  size_t i = 0, j = 0;
  while (i < in.size() || j < out.size()) {
    if (j < out.size() && out[j] == 1 && (i == in.size() || in[i] != 1)) {
      segs->push_back({i, i, j, j + 1});
      ++j;
      continue;
    }
    if (i < in.size() && in[i] == 1 && (j == out.size() || out[j] != 1)) {
      segs->push_back({i, i + 1, j, j});
      ++i;
      continue;
    }
    if (i == in.size() || j == out.size()) return false;
    size_t bi = i, bj = j;
    int64_t pi = in[i++], pj = out[j++];
    while (pi != pj) {
      if (pi < pj) {
        if (i == in.size()) return false;
        pi *= in[i++];
      } else {
        if (j == out.size()) return false;
        pj *= out[j++];
      }
    }
    segs->push_back({bi, i, bj, j});
  }
  return true;
}

std::string shape_str(const Shape& s) { return ir::shape_to_string(s); }

}  // namespace

ir::Function specialize_shapes(const ir::Function& f, const ShapeFacts& facts,
                               const std::vector<ir::Type>& inputs) {
  if (inputs.size() != f.inputs.size()) fail("expected " + std::to_string(f.inputs.size()) + " inputs");
  std::vector<bool> generic(f.num_values());
  for (int v : facts.generic_reshapes) generic[v] = true;

  Dims dims;
  std::vector<SymShape> shape(f.num_values());
  std::vector<ir::Attrs> attrs(f.ops.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (inputs[i].dtype != f.inputs[i].dtype || inputs[i].shape.size() != f.inputs[i].shape.size())
      fail("a shapeless function traced for " + ir::type_to_string(f.inputs[i]) + " cannot take " +
           ir::type_to_string(inputs[i]) + " (a new dtype or rank needs a new trace)");
    shape[i].assign(inputs[i].shape.begin(), inputs[i].shape.end());
  }
  auto concrete = [&](int v) {
    Shape s;
    for (auto d : shape[v]) s.push_back(int32_t(dims.concrete(d)));
    return s;
  };

  for (size_t k = 0; k < f.ops.size(); ++k) {
    const ir::Op& op = f.ops[k];
    int v = int(f.inputs.size() + k);
    attrs[k] = op.attrs;
    const Shape& old_out = op.type.shape;
    std::string where = std::string(ir::op_name(op.kind)) + " " + ir::type_to_string(op.type);
    auto old_in = [&](size_t i) { return f.value_type(op.operands[i]).shape; };
    bool elementwise = ir::is_elementwise(op.kind) || op.kind == ir::OpKind::Cast;

    if (op.kind == ir::OpKind::Constant) {
      shape[v].assign(old_out.begin(), old_out.end());
    } else if (elementwise) {
      // All operands have one shape: unify them dimension by dimension.
      SymShape out = shape[op.operands[0]];
      for (size_t i = 1; i < op.operands.size(); ++i)
        for (size_t d = 0; d < out.size(); ++d)
          if (!dims.unify(out[d], shape[op.operands[i]][d])) {
            Shape a = concrete(op.operands[0]), b = concrete(op.operands[i]);
            fail("the operands of " + where + " have shapes " + shape_str(a) + " and " + shape_str(b) +
                 " for these inputs: a shapeless function must be called with shapes that combine as "
                 "the traced ones did");
          }
      for (auto& d : out) d = dims.resolve(d);
      shape[v] = out;
    } else if (op.kind == ir::OpKind::Broadcast) {
      Shape in = concrete(op.operands[0]);
      const Shape& was = old_in(0);
      size_t lead = old_out.size() - was.size();
      SymShape out(old_out.size());
      for (size_t d = 0; d < out.size(); ++d) {
        if (d < lead) { out[d] = dims.fresh(old_out[d]); continue; }
        int64_t now = in[d - lead];
        out[d] = (was[d - lead] == 1 && now == 1) ? dims.fresh(old_out[d]) : now;
      }
      shape[v] = out;
    } else if (op.kind == ir::OpKind::Reshape) {
      Shape in = concrete(op.operands[0]);
      if (in == old_in(0)) {
        shape[v].assign(old_out.begin(), old_out.end());
      } else {
        if (!generic[v])
          fail("a shapeless function cannot reshape to a literal shape: the trace reshapes " +
               shape_str(old_in(0)) + " to " + shape_str(old_out) + ", and these inputs make the operand " +
               shape_str(in) + ". Use flatten/squeeze/expand_dims, or compile without shapeless");
        // Merged, kept and inserted dimensions follow the operand's new
        // sizes; a split one keeps its literal parts, so its size must not
        // change.
        std::vector<Segment> segs;
        const Shape& was = old_in(0);
        bool ok = reshape_segments(was, old_out, &segs);
        SymShape out;
        for (size_t g = 0; ok && g < segs.size(); ++g) {
          const Segment& sg = segs[g];
          int64_t n = 1;
          bool same = true;
          for (size_t d = sg.in_begin; d < sg.in_end; ++d) n *= in[d], same = same && in[d] == was[d];
          if (sg.out_end - sg.out_begin == 1) out.push_back(n);
          else if (same) out.insert(out.end(), old_out.begin() + sg.out_begin, old_out.begin() + sg.out_end);
          else ok = false;
        }
        if (!ok)
          fail("a shapeless function cannot split a dimension whose size changes: the trace reshapes " +
               shape_str(was) + " to " + shape_str(old_out) + ", and these inputs make the operand " +
               shape_str(in));
        shape[v] = out;
      }
    } else if (op.kind == ir::OpKind::Custom) {
      for (size_t i = 0; i < op.operands.size(); ++i)
        if (concrete(op.operands[i]) != old_in(i))
          fail("a shapeless function's custom op (" + where + ") cannot take new operand shapes");
      shape[v].assign(old_out.begin(), old_out.end());
    } else {
      std::vector<ir::Type> in_types;
      for (size_t i = 0; i < op.operands.size(); ++i)
        in_types.push_back({f.value_type(op.operands[i]).dtype, concrete(op.operands[i])});
      if (op.kind == ir::OpKind::Slice || op.kind == ir::OpKind::SliceUpdate) {
        // A full slice of a resized dimension stays full; any other slice
        // of one has bounds the new size may not fit.
        auto start = op.ints_attr("start"), stop = op.ints_attr("stop"), strides = op.ints_attr("strides");
        const Shape& was = old_in(0);
        const Shape& now = in_types[0].shape;
        for (size_t d = 0; d < was.size(); ++d) {
          if (was[d] == now[d]) continue;
          if (strides[d] == 1 && start[d] == 0 && stop[d] == was[d]) {
            stop[d] = now[d];
          } else if (strides[d] == -1 && start[d] == was[d] - 1 && stop[d] == -1) {
            start[d] = now[d] - 1;
          } else {
            fail("a shapeless function's slice of axis " + std::to_string(d) + " (start " +
                 std::to_string(start[d]) + ", stop " + std::to_string(stop[d]) + ", stride " +
                 std::to_string(strides[d]) + ") was traced for size " + std::to_string(was[d]) +
                 ", and these inputs make it " + std::to_string(now[d]));
          }
        }
        attrs[k]["start"] = start;
        attrs[k]["stop"] = stop;
      }
      ir::Type t;
      try {
        t = ir::infer_type(op.kind, in_types, attrs[k], {});
      } catch (const std::invalid_argument& e) {
        fail("cannot re-derive " + where + " for these input shapes: " + e.what());
      }
      shape[v].assign(t.shape.begin(), t.shape.end());
    }
  }

  ir::Function g;
  g.name = f.name;
  for (const auto& t : inputs) g.add_input(t);
  for (size_t k = 0; k < f.ops.size(); ++k) {
    ir::Op op = f.ops[k];
    op.attrs = std::move(attrs[k]);
    op.type.shape = concrete(int(f.inputs.size() + k));
    g.add_op(std::move(op));
  }
  g.outputs = f.outputs;
  ir::verify(g);
  return g;
}

}  // namespace kiln::detail
