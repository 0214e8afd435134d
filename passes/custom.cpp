// The transformation rules of the custom op (custom.h, ir/custom.h).
#include "passes/custom.h"

#include <map>
#include <stdexcept>
#include <string>

#include "ir/clone.h"
#include "passes/pass_manager.h"
#include "passes/transforms.h"

namespace kiln::passes {

namespace {

using ir::Builder;
using ir::Custom;
using ir::Function;
using ir::Op;
using ir::Type;

constexpr int kNone = -1;

// Rules build their callees from whole functions; each is simplified once
// here, where it is made, since nothing looks inside a call later.
std::shared_ptr<const Function> simplified(Function f) {
  return std::make_shared<const Function>(dce(cse(canonicalize(f))));
}

// A call of f with no rules of its own: its derivatives and batching come
// from transforming f.
std::shared_ptr<const Custom> plain_call(std::shared_ptr<const Function> f) {
  auto c = std::make_shared<Custom>();
  c->forward = std::move(f);
  return c;
}

std::vector<Type> forward_outputs(const Custom& c) {
  std::vector<Type> outs;
  ir::output_types(*c.forward, &outs);
  return outs;
}

int zeros(Builder& b, const Type& t) { return b.broadcast(b.splat(Type{t.dtype, {}}, 0), t.shape); }

// f with inputs of `extra` types appended (unused by f).
Function with_extra_inputs(const Function& f, const std::vector<Type>& extra) {
  Function g;
  g.name = f.name;
  std::vector<int> args;
  for (const Type& t : f.inputs) args.push_back(g.add_input(t));
  for (const Type& t : extra) g.add_input(t);
  g.outputs = ir::mapped(f.outputs, ir::clone_ops(f, g, args));
  return g;
}

// f followed by a sum over axis 0 of each output k with sum_axis0[k].
Function with_summed_outputs(const Function& f, const std::vector<bool>& sum_axis0) {
  Function g = f;
  Builder b(g);
  for (size_t k = 0; k < g.outputs.size(); ++k)
    if (sum_axis0[k]) g.outputs[k] = b.sum(g.outputs[k], {0});
  return g;
}

}  // namespace

CustomCalls::CustomCalls(const Function& f) {
  std::map<std::pair<const Custom*, std::vector<int>>, size_t> call_of;
  for (size_t i = 0; i < f.ops.size(); ++i) {
    const Op& op = f.ops[i];
    if (op.kind != ir::OpKind::Custom) continue;
    const int v = int(f.inputs.size() + i);
    auto [it, fresh] = call_of.try_emplace({op.custom.get(), op.operands}, members_.size());
    if (fresh) {
      call_of_first_[v] = members_.size();
      members_.emplace_back();
    }
    members_[it->second].push_back({v, int(op.int_attr("index"))});
  }
}

bool CustomCalls::is_first(int v) const { return call_of_first_.count(v) != 0; }

const std::vector<std::pair<int, int>>& CustomCalls::members(int v) const {
  return members_[call_of_first_.at(v)];
}

bool has_custom_ops(const Function& f) {
  for (const Op& op : f.ops)
    if (op.kind == ir::OpKind::Custom) return true;
  return false;
}

int emit_custom(Builder& b, const std::shared_ptr<const Custom>& c,
                const std::vector<int>& operands, int index, int num_primals) {
  const Function& callee = *c->forward;
  const Type type = callee.value_type(callee.outputs[size_t(index)]);
  Op op = ir::make_op(ir::OpKind::Custom, operands, type,
                      {{"index", int64_t(index)}, {"num_primals", int64_t(num_primals)}});
  op.custom = c;
  return b.function().add_op(std::move(op));
}

std::vector<int> custom_vjp(Builder& b, const Op& op, const std::vector<int>& x,
                            const std::vector<int>& y, const std::vector<int>& ct,
                            const std::vector<bool>& need) {
  const Custom& c = *op.custom;
  const int n = int(op.int_attr("num_primals"));
  const std::vector<Type> outs = forward_outputs(c);
  const size_t m = outs.size();
  std::vector<int> args = x;
  for (size_t j = 0; j < m; ++j) args.push_back(ct[j] != kNone ? ct[j] : zeros(b, outs[j]));
  std::vector<int> result(x.size(), kNone);

  if (c.vjp) {
    // The custom rule: (primals, env, cotangents, outputs) -> a cotangent
    // per primal; the environment gets none.
    for (size_t j = 0; j < m; ++j)
      args.push_back(y[j] != kNone ? y[j] : emit_custom(b, op.custom, x, int(j), n));
    auto call = plain_call(c.vjp);
    for (int i = 0; i < n; ++i)
      if (need[size_t(i)]) result[size_t(i)] = emit_custom(b, call, args, i, int(args.size()));
    return result;
  }

  // No rule: a call of vjp(forward), which recomputes the forward function
  // from the operands (see custom.h: the checkpoint).
  std::vector<int> wrt;
  for (size_t i = 0; i < x.size(); ++i)
    if (need[i] && is_inexact(b.type(x[i]).dtype)) wrt.push_back(int(i));
  if (wrt.empty()) return result;
  auto call = plain_call(simplified(vjp(*c.forward, wrt)));  // (x, ct) -> (y, dx[wrt])
  for (size_t k = 0; k < wrt.size(); ++k)
    result[size_t(wrt[k])] = emit_custom(b, call, args, int(m + k), int(args.size()));
  return result;
}

CustomJvp custom_jvp(Builder& b, const Op& op, const std::vector<int>& x,
                     const std::vector<int>& t, const std::vector<bool>& wanted) {
  const Custom& c = *op.custom;
  const int n = int(op.int_attr("num_primals"));
  const size_t m = wanted.size();
  CustomJvp r{std::vector<int>(m, kNone), std::vector<int>(m, kNone)};

  if (c.jvp) {
    // The custom rule: (primals, env, a tangent per floating primal) ->
    // output tangents. Primals without a tangent get zeros; the outputs
    // themselves are the call.
    std::vector<int> args = x;
    for (int i = 0; i < n; ++i) {
      const Type pt = b.type(x[size_t(i)]);  // a copy: adding ops may move it
      if (is_complex(pt.dtype) && t[size_t(i)] != kNone)
        throw std::invalid_argument("[jvp] A custom jvp rule takes no tangent of the complex primal " +
                                    std::to_string(i) + ".");
      if (!is_floating(pt.dtype)) continue;
      args.push_back(t[size_t(i)] != kNone ? t[size_t(i)] : zeros(b, pt));
    }
    auto call = plain_call(c.jvp);
    for (size_t j = 0; j < m; ++j) {
      if (!wanted[j]) continue;
      r.outputs[j] = emit_custom(b, op.custom, x, int(j), n);
      r.tangents[j] = emit_custom(b, call, args, int(j), int(args.size()));
    }
    return r;
  }

  // No rule: one call of jvp(forward) gives both the outputs and their
  // tangents.
  std::vector<int> wrt, args = x;
  for (size_t i = 0; i < x.size(); ++i)
    if (t[i] != kNone && is_inexact(b.type(x[i]).dtype)) {
      wrt.push_back(int(i));
      args.push_back(t[i]);
    }
  auto call = plain_call(simplified(jvp(*c.forward, wrt)));  // (x, t[wrt]) -> (y, ty)
  for (size_t j = 0; j < m; ++j) {
    if (!wanted[j]) continue;
    r.outputs[j] = emit_custom(b, call, args, int(j), int(args.size()));
    r.tangents[j] = emit_custom(b, call, args, int(m + j), int(args.size()));
  }
  return r;
}

CustomBatch custom_vmap(Builder& b, const Op& op, const std::vector<int>& x,
                        const std::vector<int>& in_axes, int batch,
                        const std::vector<bool>& wanted) {
  const Custom& c = *op.custom;
  const size_t n = size_t(op.int_attr("num_primals"));
  const size_t m = wanted.size();
  std::vector<Type> types;
  for (int v : x) types.push_back(b.type(v));
  bool env_batched = false;
  for (size_t i = n; i < x.size(); ++i) env_batched = env_batched || in_axes[i] >= 0;

  auto batched = std::make_shared<Custom>();
  std::vector<int> out_axes;
  if (c.vmap && !env_batched) {
    // The custom rule sees the primals only (it cannot be given values of
    // the environment); the environment becomes unused inputs.
    std::vector<Type> primal_types(types.begin(), types.begin() + long(n));
    std::vector<int> primal_axes(in_axes.begin(), in_axes.begin() + long(n));
    auto [g, axes] = c.vmap(primal_types, primal_axes, batch);
    if (g.outputs.size() != m || axes.size() != m)
      throw std::invalid_argument("[vmap] The custom vmap rule returned " +
                                  std::to_string(g.outputs.size()) + " outputs and " +
                                  std::to_string(axes.size()) + " axes for a function of " +
                                  std::to_string(m) + " outputs.");
    std::vector<Type> env(types.begin() + long(n), types.end());
    batched->forward = simplified(with_extra_inputs(g, env));
    out_axes = axes;
  } else {
    out_axes.assign(m, 0);
    batched->forward = simplified(vmap(*c.forward, in_axes, out_axes, batch));
  }

  if (c.vjp) {
    // Cotangents and outputs come batched like the outputs; the cotangent
    // of an unbatched primal is the sum of its per-example cotangents.
    std::vector<int> vin = in_axes, vout;
    std::vector<bool> sum;
    vin.insert(vin.end(), out_axes.begin(), out_axes.end());
    vin.insert(vin.end(), out_axes.begin(), out_axes.end());
    for (size_t i = 0; i < n; ++i) {
      vout.push_back(in_axes[i] >= 0 ? in_axes[i] : 0);
      sum.push_back(in_axes[i] < 0);
    }
    batched->vjp = simplified(with_summed_outputs(vmap(*c.vjp, vin, vout, batch), sum));
  }
  if (c.jvp) {
    // Tangents come batched like their primals.
    std::vector<int> jin = in_axes;
    for (size_t i = 0; i < n; ++i)
      if (is_floating(types[i].dtype)) jin.push_back(in_axes[i]);
    batched->jvp = simplified(vmap(*c.jvp, jin, out_axes, batch));
  }

  CustomBatch r{std::vector<int>(m, kNone), out_axes};
  for (size_t j = 0; j < m; ++j)
    if (wanted[j]) r.outputs[j] = emit_custom(b, batched, x, int(j), int(n));
  return r;
}

}  // namespace kiln::passes
