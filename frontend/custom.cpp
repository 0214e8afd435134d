// custom_function, custom_vjp, checkpoint (autodiff.h): a call of a traced
// function that carries its transformation rules as functions of its own,
// recorded as `custom` ops (ir/custom.h) so the IR passes can use them.
#include <optional>
#include <stdexcept>
#include <string>
#include <unordered_map>

#include "frontend/autodiff.h"
#include "frontend/ops.h"
#include "ir/clone.h"
#include "ir/custom.h"
#include "passes/pass_manager.h"

namespace kiln {

namespace {

[[noreturn]] void fail(const std::string& fn, const std::string& msg) {
  throw std::invalid_argument("[" + fn + "] " + msg);
}

std::string shape_str(const Shape& s) { return ir::shape_to_string(s); }

std::shared_ptr<const ir::Function> simplified(ir::Function f) {
  return std::make_shared<const ir::Function>(passes::simplify(std::move(f)));
}

// A traced function rebuilt so that the values it captured from enclosing
// traces are the shared environment `env` of every callee of one call.
// f's inputs are `declared` traced inputs followed by one per captured
// array; the result's are f's first `before` inputs, then env, then f's
// other declared inputs (the order of the custom op's callees, ir/custom.h).
ir::Function with_env(const ir::Function& f, size_t before, size_t declared,
                      const std::vector<array>& captured, const std::vector<array>& env) {
  std::unordered_map<const detail::Node*, size_t> env_index;
  for (size_t e = 0; e < env.size(); ++e) env_index[env[e].node().get()] = e;
  ir::Function g;
  g.name = f.name;
  std::vector<int> args(f.inputs.size());
  for (size_t i = 0; i < before; ++i) args[i] = g.add_input(f.inputs[i]);
  std::vector<int> env_val;
  for (const array& e : env) env_val.push_back(g.add_input(e.node()->type));
  for (size_t i = before; i < declared; ++i) args[i] = g.add_input(f.inputs[i]);
  for (size_t k = 0; k < captured.size(); ++k)
    args[declared + k] = env_val[env_index.at(captured[k].node().get())];
  g.outputs = ir::mapped(f.outputs, ir::clone_ops(f, g, args));
  return g;
}

// Checks what a rule returned against the arrays it stands for (count and
// shapes) and converts dtypes to theirs.
std::vector<array> checked(const std::string& fn, const char* rule, const char* what,
                           const char* of, std::vector<array> got,
                           const std::vector<ir::Type>& want) {
  if (got.size() != want.size())
    fail(fn, std::string("The ") + rule + " function returned " + std::to_string(got.size()) + " " +
                 what + "s for " + std::to_string(want.size()) + " " + of + "s.");
  for (size_t i = 0; i < got.size(); ++i) {
    if (got[i].shape() != want[i].shape)
      fail(fn, std::string("The ") + rule + " function returned a " + what + " of shape " +
                   shape_str(got[i].shape()) + " for " + of + " " + std::to_string(i) +
                   " of shape " + shape_str(want[i].shape) + ".");
    if (got[i].dtype() != want[i].dtype) got[i] = astype(got[i], want[i].dtype);
  }
  return got;
}

// The vmap rule as the vmap pass calls it: fun_vmap traced on the batched
// primals. Its outputs are checked against fun's (with the batch axis where
// fun_vmap says it is); an unbatched output (axis -1) is broadcast to carry
// the batch at axis 0, as the pass expects every output batched.
ir::VmapRule vmap_rule(const std::string& fn, const CustomVmapFunction& fun_vmap,
                       const std::vector<ir::Type>& outs) {
  return [fn, fun_vmap, outs](const std::vector<ir::Type>& primals, const std::vector<int>& in_axes,
                              int batch) {
    std::vector<int> out_axes;
    auto traced = [&](const std::vector<array>& xs) {
      auto [ys, axes] = fun_vmap(xs, in_axes);
      if (ys.size() != outs.size() || axes.size() != outs.size())
        fail(fn, "The vmap function returned " + std::to_string(ys.size()) + " outputs and " +
                     std::to_string(axes.size()) + " axes for a function of " +
                     std::to_string(outs.size()) + " outputs.");
      out_axes.clear();
      for (size_t j = 0; j < ys.size(); ++j) {
        int ax = axes[j];
        const int rank = int(outs[j].shape.size());
        if (ax == -1 && ys[j].shape() == outs[j].shape) {
          Shape s = outs[j].shape;
          s.insert(s.begin(), batch);
          ys[j] = broadcast_to(expand_dims(ys[j], 0), s);
          ax = 0;
        }
        if (ax < 0 || ax > rank)
          fail(fn, "The vmap function returned the axis " + std::to_string(axes[j]) +
                       " for output " + std::to_string(j) + " of rank " + std::to_string(rank) +
                       " (batched rank " + std::to_string(rank + 1) + ").");
        Shape want = outs[j].shape;
        want.insert(want.begin() + ax, batch);
        if (ys[j].shape() != want)
          fail(fn, "The vmap function returned output " + std::to_string(j) + " of shape " +
                       shape_str(ys[j].shape()) + " with batch axis " + std::to_string(ax) +
                       ", expected " + shape_str(want) + ".");
        if (ys[j].dtype() != outs[j].dtype) ys[j] = astype(ys[j], outs[j].dtype);
        out_axes.push_back(ax);
      }
      return ys;
    };
    // Without `captured`: a rule that reads values of an enclosing trace
    // cannot be given them here, and tracing says so.
    ir::Function g = detail::trace(traced, primals);
    return std::make_pair(std::move(g), out_axes);
  };
}

// Appends the arrays of `more` that `env` does not hold yet.
void add_to_env(std::vector<array>& env, const std::vector<array>& more) {
  for (const array& a : more) {
    bool seen = false;
    for (const array& e : env) seen = seen || e.node() == a.node();
    if (!seen) env.push_back(a);
  }
}

// The calls of custom_function, custom_vjp and checkpoint (`fn` names it in
// errors).
std::vector<array> call_custom(const std::string& fn, const ArrayFunction& fun,
                               const std::optional<CustomVjpFunction>& fun_vjp,
                               const std::optional<CustomJvpFunction>& fun_jvp,
                               const std::optional<CustomVmapFunction>& fun_vmap,
                               const std::vector<array>& primals) {
  // Outside every transformation no rule can ever be used: the arrays made
  // here are not traced, so no transform can differentiate or batch them.
  if (!detail::tracing()) return fun(primals);

  const size_t n = primals.size();
  const std::vector<ir::Type> primal_types = detail::types_of(primals);
  std::vector<array> env, captured_f, captured_v, captured_j;
  ir::Function f = detail::trace(fun, primal_types, &captured_f);
  if (n == 0 && captured_f.empty())  // a constant function: nothing to transform
    return detail::inline_function(f, {});
  std::vector<ir::Type> outs;
  ir::output_types(f, &outs);
  const size_t m = outs.size();

  // The rules are traced now, on placeholders of the primals', cotangents'
  // and outputs' types, so the IR holds them as functions (ir/custom.h).
  ir::Function v, j;
  if (fun_vjp) {
    std::vector<ir::Type> types = primal_types;
    types.insert(types.end(), outs.begin(), outs.end());  // cotangents
    types.insert(types.end(), outs.begin(), outs.end());  // outputs
    auto traced = [&](const std::vector<array>& xs) {
      std::vector<array> p(xs.begin(), xs.begin() + long(n));
      std::vector<array> c(xs.begin() + long(n), xs.begin() + long(n + m));
      std::vector<array> o(xs.begin() + long(n + m), xs.end());
      return checked(fn, "vjp", "cotangent", "primal", (*fun_vjp)(p, c, o), primal_types);
    };
    v = detail::trace(traced, types, &captured_v);
  }
  std::vector<int> argnums;  // the floating primals: each gets a tangent
  if (fun_jvp) {
    std::vector<ir::Type> types = primal_types;
    for (size_t i = 0; i < n; ++i)
      if (is_floating(primal_types[i].dtype)) {
        argnums.push_back(int(i));
        types.push_back(primal_types[i]);
      }
    auto traced = [&](const std::vector<array>& xs) {
      std::vector<array> p(xs.begin(), xs.begin() + long(n));
      std::vector<array> t(xs.begin() + long(n), xs.end());
      return checked(fn, "jvp", "tangent", "output", (*fun_jvp)(p, t, argnums), outs);
    };
    j = detail::trace(traced, types, &captured_j);
  }

  // Values of enclosing traces that any of them read: extra operands, the
  // same for every callee.
  add_to_env(env, captured_f);
  add_to_env(env, captured_v);
  add_to_env(env, captured_j);
  auto custom = std::make_shared<ir::Custom>();
  custom->forward = simplified(with_env(f, n, n, captured_f, env));
  if (fun_vjp) custom->vjp = simplified(with_env(v, n, n + 2 * m, captured_v, env));
  if (fun_jvp) custom->jvp = simplified(with_env(j, n, n + argnums.size(), captured_j, env));
  if (fun_vmap) custom->vmap = vmap_rule(fn, *fun_vmap, outs);

  std::vector<array> operands = primals;
  operands.insert(operands.end(), env.begin(), env.end());
  std::shared_ptr<const ir::Custom> shared = std::move(custom);
  std::vector<array> results;
  for (size_t k = 0; k < m; ++k)
    results.push_back(detail::make_node(
        ir::OpKind::Custom, operands, {{"index", int64_t(k)}, {"num_primals", int64_t(n)}},
        outs[k], shared));
  return results;
}

ArrayFunction make_custom(std::string fn, ArrayFunction fun,
                          std::optional<CustomVjpFunction> fun_vjp,
                          std::optional<CustomJvpFunction> fun_jvp,
                          std::optional<CustomVmapFunction> fun_vmap) {
  if (!fun) fail(fn, "The function is empty.");
  return [fn = std::move(fn), fun = std::move(fun), fun_vjp = std::move(fun_vjp),
          fun_jvp = std::move(fun_jvp),
          fun_vmap = std::move(fun_vmap)](const std::vector<array>& xs) {
    return call_custom(fn, fun, fun_vjp, fun_jvp, fun_vmap, xs);
  };
}

}  // namespace

ArrayFunction custom_function(ArrayFunction fun, std::optional<CustomVjpFunction> fun_vjp,
                              std::optional<CustomJvpFunction> fun_jvp,
                              std::optional<CustomVmapFunction> fun_vmap) {
  return make_custom("custom_function", std::move(fun), std::move(fun_vjp), std::move(fun_jvp),
                     std::move(fun_vmap));
}

ArrayFunction custom_vjp(ArrayFunction fun, CustomVjpFunction fun_vjp) {
  return make_custom("custom_vjp", std::move(fun), std::move(fun_vjp), std::nullopt, std::nullopt);
}

ArrayFunction checkpoint(ArrayFunction fun) {
  // A call without a vjp rule: reverse mode differentiates the call by a
  // call of vjp(fun), which recomputes fun from the call's operands
  // (passes/custom.h). The values fun captures from an enclosing trace are
  // operands too, differentiated like the inputs.
  return make_custom("checkpoint", std::move(fun), std::nullopt, std::nullopt, std::nullopt);
}

}  // namespace kiln
