// vjp, jvp, value_and_grad, grad: trace, differentiate with the IR passes
// (passes/autodiff.cpp), simplify, inline (see autodiff.h). custom_function,
// custom_vjp and checkpoint are in custom.cpp.
#include "frontend/autodiff.h"

#include <stdexcept>
#include <string>

#include "frontend/ops.h"
#include "ir/builder.h"
#include "ir/clone.h"
#include "passes/pass_manager.h"
#include "passes/transforms.h"

namespace kiln {

namespace {

[[noreturn]] void fail(const char* fn, const std::string& msg) {
  throw std::invalid_argument(std::string("[") + fn + "] " + msg);
}

std::string shape_str(const Shape& s) { return ir::shape_to_string(s); }

// A copy of f whose last inputs are replaced by the given constants (each a
// scalar broadcast to its input's shape), so the simplifier sees them.
ir::Function bind_last_inputs(const ir::Function& f, const std::vector<double>& values) {
  const size_t keep = f.inputs.size() - values.size();
  ir::Function g;
  g.name = f.name;
  std::vector<int> args;
  for (size_t i = 0; i < keep; ++i) args.push_back(g.add_input(f.inputs[i]));
  ir::Builder b(g);
  for (size_t k = 0; k < values.size(); ++k) {
    const ir::Type& t = f.inputs[keep + k];
    args.push_back(b.broadcast(b.splat(ir::Type{t.dtype, {}}, values[k]), t.shape));
  }
  g.outputs = ir::mapped(f.outputs, ir::clone_ops(f, g, args));
  return g;
}

// The primals that are differentiated: the floating and complex ones
// (complex ones with JAX's convention, passes/autodiff.cpp).
std::vector<int> differentiable_primals(const std::vector<array>& primals) {
  std::vector<int> wrt;
  for (size_t i = 0; i < primals.size(); ++i)
    if (is_inexact(primals[i].dtype())) wrt.push_back(int(i));
  return wrt;
}

std::vector<array> unary_to_vector(const array& a) { return {a}; }

}  // namespace

std::pair<std::vector<array>, std::vector<array>> vjp(
    const std::function<std::vector<array>(const std::vector<array>&)>& fun,
    const std::vector<array>& primals, const std::vector<array>& cotangents) {
  const std::vector<int> wrt = differentiable_primals(primals);
  std::vector<array> captured;
  ir::Function f = detail::trace(fun, detail::types_of(primals), &captured);
  const size_t m = f.outputs.size();

  // One cotangent per output, or (as MLX) one per output that is not a
  // stop_gradient.
  std::vector<bool> takes(m, true);
  if (cotangents.size() != m) {
    for (size_t j = 0; j < m; ++j) {
      int v = f.outputs[j];
      takes[j] = f.is_input(v) || f.def(v).kind != ir::OpKind::StopGradient;
    }
  }
  size_t wanted = 0;
  for (bool t : takes) wanted += t;
  if (cotangents.size() != wanted)
    fail("vjp", "Number of outputs to compute gradients for (" + std::to_string(wanted) +
                    ") does not match number of cotangents (" + std::to_string(cotangents.size()) +
                    ").");
  // Inputs: the primals, the values of enclosing traces that fun captured
  // (constants of this transform), then the cotangents.
  std::vector<array> args = primals;
  args.insert(args.end(), captured.begin(), captured.end());
  for (size_t j = 0, k = 0; j < m; ++j) {
    const ir::Type& t = f.value_type(f.outputs[j]);
    if (!takes[j]) {
      args.push_back(zeros(t.shape, t.dtype));  // the cotangent of a stop_gradient: unused
      continue;
    }
    const array& c = cotangents[k++];
    if (c.shape() != t.shape)
      fail("vjp", "Output shape " + shape_str(t.shape) + " does not match cotangent shape " +
                      shape_str(c.shape()) + ".");
    args.push_back(astype(c, t.dtype));
  }

  ir::Function g = passes::simplify(passes::vjp(f, wrt));
  std::vector<array> outs = detail::inline_function(g, args);
  std::vector<array> outputs(outs.begin(), outs.begin() + long(m));
  std::vector<array> vjps;
  for (size_t i = 0, k = 0; i < primals.size(); ++i) {
    if (k < wrt.size() && wrt[k] == int(i)) vjps.push_back(outs[m + k++]);
    else vjps.push_back(zeros_like(primals[i]));
  }
  return {outputs, vjps};
}

std::pair<array, array> vjp(const std::function<array(const array&)>& fun, const array& primal,
                            const array& cotangent) {
  auto [outs, vjps] = vjp(
      [&fun](const std::vector<array>& xs) { return unary_to_vector(fun(xs.at(0))); }, {primal},
      {cotangent});
  return {outs[0], vjps[0]};
}

std::pair<std::vector<array>, std::vector<array>> jvp(
    const std::function<std::vector<array>(const std::vector<array>&)>& fun,
    const std::vector<array>& primals, const std::vector<array>& tangents) {
  if (primals.size() != tangents.size())
    fail("jvp", "Number of inputs (" + std::to_string(primals.size()) +
                    ") does not match number of tangents (" + std::to_string(tangents.size()) + ").");
  for (size_t i = 0; i < primals.size(); ++i)
    if (primals[i].shape() != tangents[i].shape())
      fail("jvp", "Input " + std::to_string(i) + " has shape " + shape_str(primals[i].shape()) +
                      " but its tangent has shape " + shape_str(tangents[i].shape()) + ".");
  const std::vector<int> wrt = differentiable_primals(primals);
  // A tangent of an integer or bool primal would be silently dropped (JAX
  // requires float0 tangents there, which kiln has not).
  if (wrt.size() != primals.size())
    for (size_t i = 0; i < primals.size(); ++i)
      if (!is_inexact(primals[i].dtype()))
        fail("jvp", "Primal " + std::to_string(i) + " has dtype " + dtype_name(primals[i].dtype()) +
                        ": only floating-point and complex primals have tangents. Capture integer "
                        "inputs in the function instead of passing them as primals.");
  std::vector<array> captured;
  ir::Function f = detail::trace(fun, detail::types_of(primals), &captured);
  std::vector<array> args = primals;
  args.insert(args.end(), captured.begin(), captured.end());
  for (int w : wrt) args.push_back(astype(tangents[size_t(w)], primals[size_t(w)].dtype()));

  ir::Function g = passes::simplify(passes::jvp(f, wrt));
  std::vector<array> outs = detail::inline_function(g, args);
  const size_t m = f.outputs.size();
  return {std::vector<array>(outs.begin(), outs.begin() + long(m)),
          std::vector<array>(outs.begin() + long(m), outs.end())};
}

std::pair<array, array> jvp(const std::function<array(const array&)>& fun, const array& primal,
                            const array& tangent) {
  auto [outs, jvps] = jvp(
      [&fun](const std::vector<array>& xs) { return unary_to_vector(fun(xs.at(0))); }, {primal},
      {tangent});
  return {outs[0], jvps[0]};
}

ValueAndGradFn value_and_grad(
    const std::function<std::vector<array>(const std::vector<array>&)>& fun,
    const std::vector<int>& argnums) {
  if (argnums.empty()) fail("grad", "Must specify at least one argument.");
  return [fun, argnums](const std::vector<array>& inputs) {
    const int n = int(inputs.size());
    std::vector<int> wrt;
    for (int a : argnums) {
      int i = a < 0 ? a + n : a;
      if (i < 0 || i >= n)
        fail("grad", "Invalid argument number " + std::to_string(a) + " for function with " +
                         std::to_string(n) + " inputs.");
      for (int w : wrt)
        if (w == i) fail("grad", "Repeat argument number not allowed in grad.");
      Dtype t = inputs[size_t(i)].dtype();
      if (!is_inexact(t))
        fail("grad", "Cannot compute the gradient with respect to argument " + std::to_string(i) + ", of " +
                         (t == bool_ ? "bool" : "integer") + " type " + dtype_name(t) +
                         ": only floating point and complex inputs are differentiable.");
      wrt.push_back(i);
    }

    std::vector<array> captured;
    ir::Function f = detail::trace(fun, detail::types_of(inputs), &captured);
    if (f.outputs.empty()) fail("grad", "The function must return at least one array.");
    const ir::Type loss = f.value_type(f.outputs[0]);
    if (!loss.shape.empty())
      fail("grad", "The function must return a scalar, but its output has shape " +
                       shape_str(loss.shape) + ".");
    // The gradient of a complex loss is not one array (as JAX): take the
    // real part, abs, ... of it first.
    if (is_complex(loss.dtype))
      fail("grad", "The function must return a real scalar, but its output is " +
                       dtype_name(loss.dtype) + ".");
    // Aux outputs contribute nothing: differentiate a copy of f in which
    // they pass through stop_gradient, then return them without it.
    const size_t m = f.outputs.size();
    for (size_t j = 1; j < m; ++j) {
      int v = f.outputs[j];
      f.outputs[j] = f.add_op(ir::make_op(ir::OpKind::StopGradient, {v}, f.value_type(v)));
    }
    ir::Function g = passes::vjp(f, wrt);
    for (size_t j = 1; j < m; ++j) {
      int v = g.outputs[j];
      if (!g.is_input(v) && g.def(v).kind == ir::OpKind::StopGradient) g.outputs[j] = g.def(v).operands[0];
    }
    std::vector<double> cotangents(m, 0.0);
    cotangents[0] = 1.0;
    g = passes::simplify(bind_last_inputs(g, cotangents));

    std::vector<array> args = inputs;
    args.insert(args.end(), captured.begin(), captured.end());
    std::vector<array> outs = detail::inline_function(g, args);
    return std::make_pair(std::vector<array>(outs.begin(), outs.begin() + long(m)),
                          std::vector<array>(outs.begin() + long(m), outs.end()));
  };
}

ValueAndGradFn value_and_grad(
    const std::function<std::vector<array>(const std::vector<array>&)>& fun, int argnum) {
  return value_and_grad(fun, std::vector<int>{argnum});
}

std::function<std::pair<array, array>(const array&)> value_and_grad(
    const std::function<array(const array&)>& fun) {
  auto vg = value_and_grad(
      [fun](const std::vector<array>& xs) { return unary_to_vector(fun(xs.at(0))); }, 0);
  return [vg](const array& x) {
    auto [values, grads] = vg({x});
    return std::make_pair(values[0], grads[0]);
  };
}

SimpleValueAndGradFn value_and_grad(const std::function<array(const std::vector<array>&)>& fun,
                                    const std::vector<int>& argnums) {
  auto vg = value_and_grad(
      [fun](const std::vector<array>& xs) { return unary_to_vector(fun(xs)); }, argnums);
  return [vg](const std::vector<array>& xs) {
    auto [values, grads] = vg(xs);
    return std::make_pair(values[0], grads);
  };
}

SimpleValueAndGradFn value_and_grad(const std::function<array(const std::vector<array>&)>& fun,
                                    int argnum) {
  return value_and_grad(fun, std::vector<int>{argnum});
}

std::function<std::vector<array>(const std::vector<array>&)> grad(
    const std::function<array(const std::vector<array>&)>& fun, const std::vector<int>& argnums) {
  auto vg = value_and_grad(fun, argnums);
  return [vg](const std::vector<array>& xs) { return vg(xs).second; };
}

std::function<std::vector<array>(const std::vector<array>&)> grad(
    const std::function<array(const std::vector<array>&)>& fun, int argnum) {
  return grad(fun, std::vector<int>{argnum});
}

std::function<array(const array&)> grad(const std::function<array(const array&)>& fun) {
  auto vg = value_and_grad(fun);
  return [vg](const array& x) { return vg(x).second; };
}

}  // namespace kiln
