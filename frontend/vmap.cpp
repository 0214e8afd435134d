// vmap(): trace on the unbatched types, batch with passes::vmap, simplify,
// inline with the actual arguments.
#include "frontend/vmap.h"

#include <stdexcept>
#include <string>

#include "passes/pass_manager.h"
#include "passes/transforms.h"

namespace kiln {

namespace {

[[noreturn]] void fail(const std::string& msg) { throw std::invalid_argument("[vmap] " + msg); }

std::vector<array> call_vmapped(const ArrayFunction& fun, const std::vector<int>& in_axes_arg,
                                const std::vector<int>& out_axes_arg,
                                const std::vector<array>& args) {
  std::vector<int> in_axes = in_axes_arg;
  if (in_axes.empty()) in_axes.assign(args.size(), 0);
  if (in_axes.size() != args.size())
    fail("The function was called with " + std::to_string(args.size()) +
         " inputs but in_axes has " + std::to_string(in_axes.size()) + " entries.");

  // The batch size, and each input's type without its mapped axis.
  int batch = -1;
  int first_mapped = -1;
  std::vector<ir::Type> types;
  for (size_t i = 0; i < args.size(); ++i) {
    ir::Type t = args[i].node()->type;
    int ax = in_axes[i];
    if (ax != -1) {
      std::string which = "input " + std::to_string(i) + " of shape " +
                          ir::shape_to_string(t.shape);
      if (ax < -1)
        fail("in_axes[" + std::to_string(i) + "] = " + std::to_string(ax) + " is invalid for " +
             which + ": a mapped axis must be in [0, ndim), and -1 means not mapped.");
      if (t.shape.empty())
        fail("Cannot map " + which + ": it has no dimensions (use in_axes -1 for it).");
      if (ax >= int(t.shape.size()))
        fail("in_axes[" + std::to_string(i) + "] = " + std::to_string(ax) + " is out of range for " +
             which + " (" + std::to_string(t.shape.size()) + " dimensions).");
      int size = t.shape[size_t(ax)];
      if (batch < 0) {
        batch = size;
        first_mapped = int(i);
      } else if (size != batch) {
        fail("Mapped inputs have different sizes: input " + std::to_string(first_mapped) +
             " has size " + std::to_string(batch) + " along axis " +
             std::to_string(in_axes[size_t(first_mapped)]) + ", input " + std::to_string(i) +
             " has size " + std::to_string(size) + " along axis " + std::to_string(ax) + ".");
      }
      t.shape.erase(t.shape.begin() + ax);
    }
    types.push_back(std::move(t));
  }

  if (batch < 0) {
    // Nothing is mapped: only meaningful when no output is mapped either.
    bool all_unmapped = !out_axes_arg.empty();
    for (int a : out_axes_arg) all_unmapped = all_unmapped && a == -1;
    if (!all_unmapped)
      fail("At least one input must be mapped: every in_axes entry is -1, so there is no "
           "batch size for the outputs.");
    std::vector<array> outs = fun(args);
    if (outs.size() != out_axes_arg.size())
      fail("The function returned " + std::to_string(outs.size()) + " outputs but out_axes has " +
           std::to_string(out_axes_arg.size()) + " entries.");
    return outs;
  }

  // Values captured from an enclosing trace are extra, unmapped inputs.
  std::vector<array> captured;
  ir::Function f = detail::trace(fun, types, &captured);
  std::vector<int> all_in_axes = in_axes;
  all_in_axes.resize(args.size(), -1);
  all_in_axes.insert(all_in_axes.end(), captured.size(), -1);
  std::vector<array> all_args = args;
  all_args.insert(all_args.end(), captured.begin(), captured.end());
  std::vector<int> out_axes = out_axes_arg;
  if (out_axes.empty()) out_axes.assign(f.outputs.size(), 0);
  if (out_axes.size() != f.outputs.size())
    fail("The function returned " + std::to_string(f.outputs.size()) +
         " outputs but out_axes has " + std::to_string(out_axes.size()) + " entries.");

  ir::Function g = passes::vmap(f, all_in_axes, out_axes, batch);
  return detail::inline_function(passes::simplify(std::move(g)), all_args);
}

}  // namespace

std::function<std::vector<array>(const std::vector<array>&)> vmap(
    const std::function<std::vector<array>(const std::vector<array>&)>& fun,
    const std::vector<int>& in_axes, const std::vector<int>& out_axes) {
  for (size_t i = 0; i < out_axes.size(); ++i)
    if (out_axes[i] < -1)
      fail("out_axes[" + std::to_string(i) + "] = " + std::to_string(out_axes[i]) +
           " is invalid: an output axis must be non-negative, or -1 for an unmapped output.");
  for (size_t i = 0; i < in_axes.size(); ++i)
    if (in_axes[i] < -1)
      fail("in_axes[" + std::to_string(i) + "] = " + std::to_string(in_axes[i]) +
           " is invalid: a mapped axis must be non-negative, and -1 means not mapped.");
  // As MLX: with no input mapped there is no batch, so no output may be
  // mapped either (an empty out_axes maps every output along 0).
  auto none_mapped = [](const std::vector<int>& axes) {
    bool none = !axes.empty();
    for (int a : axes) none = none && a == -1;
    return none;
  };
  if (none_mapped(in_axes) && !none_mapped(out_axes))
    fail("Every in_axes entry is -1 (no input is mapped), so every out_axes entry must be -1 too.");
  return [fun, in_axes, out_axes](const std::vector<array>& args) {
    return call_vmapped(fun, in_axes, out_axes, args);
  };
}

std::function<array(const array&)> vmap(const std::function<array(const array&)>& fun,
                                        int in_axis, int out_axis) {
  auto vf = vmap(
      ArrayFunction([fun](const std::vector<array>& xs) { return std::vector<array>{fun(xs[0])}; }),
      std::vector<int>{in_axis}, std::vector<int>{out_axis});
  return [vf](const array& x) { return vf({x})[0]; };
}

std::function<array(const array&, const array&)> vmap(
    const std::function<array(const array&, const array&)>& fun, int in_axis_a, int in_axis_b,
    int out_axis) {
  auto vf = vmap(ArrayFunction([fun](const std::vector<array>& xs) {
                   return std::vector<array>{fun(xs[0], xs[1])};
                 }),
                 std::vector<int>{in_axis_a, in_axis_b}, std::vector<int>{out_axis});
  return [vf](const array& a, const array& b) { return vf({a, b})[0]; };
}

}  // namespace kiln
