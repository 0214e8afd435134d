// mx.eval, grad, value_and_grad, vjp, jvp, vmap and compile on Python
// callables. Arguments and results are pytrees as in MLX: lists, tuples
// and dicts nest; their mx.arrays are the leaves that the transforms see,
// and any other value (a Python number, a string) is passed through as it
// is. Each transform flattens the tree into the std::vector<array> that
// kiln's C++ transforms take, and rebuilds it around the Python call.
#include <memory>
#include <unordered_map>

#include "frontend/autodiff.h"
#include "frontend/ops.h"
#include "frontend/transforms.h"
#include "frontend/vmap.h"
#include "python/convert.h"

namespace kiln::python {

namespace {

// A Python object held from C++ closures that kiln may keep until process
// exit: released with the GIL held, and leaked once the interpreter is
// gone (its objects are gone with it).
using PyRef = std::shared_ptr<py::object>;
PyRef hold(py::object o) {
  return PyRef(new py::object(std::move(o)), [](py::object* p) {
    if (Py_IsInitialized()) {
      py::gil_scoped_acquire gil;
      delete p;
    } else {
      p->release();
      delete p;
    }
  });
}

// ---- pytrees --------------------------------------------------------------

// Appends the tree's mx.arrays to `leaves`; `key`, when given, gets the
// tree's structure and its non-array leaves (compile's cache key).
void flatten(py::handle tree, std::vector<array>& leaves, std::string* key = nullptr) {
  if (is_array(tree)) {
    leaves.push_back(tree.cast<array>());
    if (key) *key += 'A';
  } else if (py::isinstance<py::list>(tree) || py::isinstance<py::tuple>(tree)) {
    if (key) *key += py::isinstance<py::list>(tree) ? '[' : '(';
    for (auto item : tree) flatten(item, leaves, key);
    if (key) *key += ']';
  } else if (py::isinstance<py::dict>(tree)) {
    if (key) *key += '{';
    for (auto [k, v] : py::reinterpret_borrow<py::dict>(tree)) {
      if (key) *key += std::string(py::repr(k)) + ':';
      flatten(v, leaves, key);
    }
    if (key) *key += '}';
  } else if (key) {
    *key += std::string(py::repr(tree.get_type())) + std::string(py::repr(tree)) + ',';
  }
}

// The tree with its mx.arrays replaced, in order, by leaves[next...].
py::object unflatten(py::handle tree, const std::vector<array>& leaves, size_t& next) {
  if (is_array(tree)) return py::cast(leaves.at(next++));
  if (py::isinstance<py::list>(tree) || py::isinstance<py::tuple>(tree)) {
    py::list out;
    for (auto item : tree) out.append(unflatten(item, leaves, next));
    if (py::isinstance<py::tuple>(tree)) return py::tuple(out);
    return out;
  }
  if (py::isinstance<py::dict>(tree)) {
    py::dict out;
    for (auto [k, v] : py::reinterpret_borrow<py::dict>(tree)) out[k] = unflatten(v, leaves, next);
    return out;
  }
  return py::reinterpret_borrow<py::object>(tree);
}

py::object unflatten(py::handle tree, const std::vector<array>& leaves) {
  size_t next = 0;
  return unflatten(tree, leaves, next);
}

// The arrays of a function's result, which must hold nothing else.
void collect_arrays(py::handle tree, std::vector<array>& out, const char* transform) {
  if (is_array(tree)) {
    out.push_back(tree.cast<array>());
  } else if (py::isinstance<py::list>(tree) || py::isinstance<py::tuple>(tree)) {
    for (auto item : tree) collect_arrays(item, out, transform);
  } else if (py::isinstance<py::dict>(tree)) {
    for (auto [k, v] : py::reinterpret_borrow<py::dict>(tree)) collect_arrays(v, out, transform);
  } else {
    throw std::invalid_argument(std::string("[") + transform +
                                "] The function must return arrays (or lists, tuples and dicts of arrays).");
  }
}

std::vector<array> result_leaves(py::handle result, const char* transform) {
  std::vector<array> out;
  collect_arrays(result, out, transform);
  return out;
}

std::vector<int> int_list(py::handle h) {
  if (PyLong_Check(h.ptr())) return {h.cast<int>()};
  return h.cast<std::vector<int>>();
}

// ---- grad -----------------------------------------------------------------

// value_and_grad(fun, argnums)(*args): the value of fun (its tree) and the
// gradients of its first leaf with respect to args[argnums] (trees).
py::object value_and_grad_call(const PyRef& fun, const std::vector<int>& argnums, bool single, bool values,
                               const py::args& args, const py::kwargs& kwargs) {
  size_t nargs = args.size();
  std::vector<array> primals;
  std::vector<size_t> counts;
  for (int a : argnums) {
    int i = a < 0 ? a + int(nargs) : a;
    if (i < 0 || i >= int(nargs))
      throw std::invalid_argument("[grad] argnum " + std::to_string(a) + " is out of range for " +
                                  std::to_string(nargs) + " arguments.");
    size_t before = primals.size();
    flatten(args[i], primals);
    counts.push_back(primals.size() - before);
  }
  auto out_tree = std::make_shared<py::object>();
  py::object args_obj = args, kwargs_obj = kwargs;
  auto f = [&](const std::vector<array>& xs) {
    py::list new_args(args_obj);
    size_t next = 0;
    for (int a : argnums) {
      int i = a < 0 ? a + int(nargs) : a;
      new_args[i] = unflatten(args_obj.cast<py::tuple>()[i], xs, next);
    }
    py::object r = fun->operator()(*py::tuple(new_args), **kwargs_obj.cast<py::dict>());
    *out_tree = r;
    return result_leaves(r, "grad");
  };
  std::vector<int> all(primals.size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = int(i);
  if (primals.empty()) throw std::invalid_argument("[grad] The arguments to differentiate hold no arrays.");
  auto [value, grads] = kiln::value_and_grad(f, all)(primals);
  py::tuple g(argnums.size());
  for (size_t k = 0, next = 0; k < argnums.size(); ++k) {
    int i = argnums[k] < 0 ? argnums[k] + int(nargs) : argnums[k];
    g[k] = unflatten(args[i], grads, next);
  }
  py::object grads_obj = single ? py::object(g[0]) : py::object(g);
  if (!values) return grads_obj;
  return py::make_tuple(unflatten(*out_tree, value), grads_obj);
}

py::object make_value_and_grad(py::object fun, py::object argnums, bool values) {
  bool single = argnums.is_none() || PyLong_Check(argnums.ptr());
  std::vector<int> nums = argnums.is_none() ? std::vector<int>{0} : int_list(argnums);
  PyRef f = hold(fun);
  return py::cpp_function([f, nums, single, values](py::args args, py::kwargs kwargs) {
    return value_and_grad_call(f, nums, single, values, args, kwargs);
  });
}

// ---- vjp / jvp ------------------------------------------------------------

std::function<std::vector<array>(const std::vector<array>&)> array_function(const py::object& fun,
                                                                              const char* name) {
  return [fun, name](const std::vector<array>& xs) {
    py::tuple args(xs.size());
    for (size_t i = 0; i < xs.size(); ++i) args[i] = py::cast(xs[i]);
    return result_leaves(fun(*args), name);
  };
}

py::object lists(const std::vector<array>& a, const std::vector<array>& b) { return py::make_tuple(wrap(a), wrap(b)); }

std::vector<array> arrays_of(py::handle seq) {
  std::vector<array> out;
  for (auto item : seq) out.push_back(to_array(item));
  return out;
}

// ---- vmap -----------------------------------------------------------------

py::object vmap_call(const PyRef& fun, const py::object& in_axes, const py::object& out_axes, const py::args& args) {
  std::vector<array> leaves;
  std::vector<int> axes;
  for (size_t i = 0; i < args.size(); ++i) {
    py::object spec = in_axes;
    if (py::isinstance<py::tuple>(in_axes) || py::isinstance<py::list>(in_axes)) {
      if (py::len(in_axes) != args.size())
        throw std::invalid_argument("[vmap] in_axes has " + std::to_string(py::len(in_axes)) + " entries for " +
                                    std::to_string(args.size()) + " arguments.");
      spec = in_axes[py::int_(i)];
    }
    size_t before = leaves.size();
    flatten(args[i], leaves);
    int axis = spec.is_none() ? -1 : spec.cast<int>();
    axes.insert(axes.end(), leaves.size() - before, axis);
  }
  std::vector<int> outs;
  int move_to = 0;
  if (py::isinstance<py::tuple>(out_axes) || py::isinstance<py::list>(out_axes)) {
    for (auto o : out_axes) outs.push_back(o.is_none() ? -1 : o.cast<int>());
  } else if (!out_axes.is_none()) {
    move_to = out_axes.cast<int>();  // 0 for every output, then moved
  }
  auto out_tree = std::make_shared<py::object>();
  py::object args_obj = args;
  auto f = [&](const std::vector<array>& xs) {
    py::object r = (*fun)(*unflatten(args_obj, xs));
    *out_tree = r;
    return result_leaves(r, "vmap");
  };
  std::vector<array> results = kiln::vmap(f, axes, outs)(leaves);
  if (move_to != 0)
    for (auto& r : results) r = moveaxis(r, 0, move_to);
  return unflatten(*out_tree, results);
}

// ---- compile --------------------------------------------------------------

// A compiled Python function: one kiln::compile per call structure (the
// argument tree and its non-array values, as MLX retraces on a new
// constant); kiln caches the traces per dtypes and shapes within each.
class Compiled {
 public:
  Compiled(py::object fun, bool shapeless) : fun_(hold(std::move(fun))), shapeless_(shapeless) {}

  py::object call(const py::args& args, const py::kwargs& kwargs) {
    py::tuple tree = py::make_tuple(args, kwargs);
    std::vector<array> leaves;
    std::string key;
    flatten(tree, leaves, &key);
    auto it = entries_.find(key);
    if (it == entries_.end()) it = entries_.emplace(key, make_entry(tree)).first;
    Entry& e = it->second;
    std::vector<array> outs = e.compiled(leaves);
    return unflatten(*e.out_tree, outs);
  }

 private:
  struct Entry {
    ArrayFunction compiled;
    PyRef out_tree;
  };

  Entry make_entry(const py::tuple& tree) {
    PyRef fun = fun_, shape = hold(tree);
    PyRef out_tree = hold(py::none());
    ArrayFunction traced = [fun, shape, out_tree](const std::vector<array>& xs) {
      py::object call = unflatten(*shape, xs);
      py::object r = (*fun)(*call.cast<py::tuple>()[0], **call.cast<py::tuple>()[1]);
      *out_tree = r;
      return result_leaves(r, "compile");
    };
    return {kiln::compile(std::move(traced), shapeless_), out_tree};
  }

  PyRef fun_;
  bool shapeless_;
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace

void init_transforms(py::module_& m) {
  m.def("eval", [](py::args args) {
    std::vector<array> leaves;
    flatten(args, leaves);
    kiln::eval(leaves);
  }, "eval(*args): evaluates the arrays in args (trees of lists, tuples, dicts).");
  m.def("grad", [](py::object fun, py::object argnums) { return make_value_and_grad(fun, argnums, false); },
        py::arg("fun"), py::arg("argnums") = py::none(),
        "grad(fun, argnums=None): a function computing the gradient of fun's scalar output.");
  m.def("value_and_grad", [](py::object fun, py::object argnums) { return make_value_and_grad(fun, argnums, true); },
        py::arg("fun"), py::arg("argnums") = py::none(),
        "value_and_grad(fun, argnums=None): a function returning (fun(*args), grad).");
  m.def("vjp", [](py::object fun, py::handle primals, py::handle cotangents) {
    auto [out, vjps] = kiln::vjp(array_function(fun, "vjp"), arrays_of(primals), arrays_of(cotangents));
    return lists(out, vjps);
  }, py::arg("fun"), py::arg("primals"), py::arg("cotangents"),
        "vjp(fun, primals, cotangents) -> (outputs, vjps)");
  m.def("jvp", [](py::object fun, py::handle primals, py::handle tangents) {
    auto [out, jvps] = kiln::jvp(array_function(fun, "jvp"), arrays_of(primals), arrays_of(tangents));
    return lists(out, jvps);
  }, py::arg("fun"), py::arg("primals"), py::arg("tangents"),
        "jvp(fun, primals, tangents) -> (outputs, jvps)");
  m.def("vmap", [](py::object fun, py::object in_axes, py::object out_axes) {
    PyRef f = hold(fun);
    return py::cpp_function([f, in_axes, out_axes](py::args args) { return vmap_call(f, in_axes, out_axes, args); });
  }, py::arg("fun"), py::arg("in_axes") = 0, py::arg("out_axes") = 0,
        "vmap(fun, in_axes=0, out_axes=0): fun vectorized over an axis of its inputs.");

  py::class_<Compiled>(m, "_Compiled").def("__call__", &Compiled::call);
  m.def("compile", [](py::object fun, bool shapeless) {
    return Compiled(std::move(fun), shapeless);
  }, py::arg("fun"), py::arg("shapeless") = false,
        "compile(fun, shapeless=False): fun traced once per input structure, dtypes and shapes, and JIT-compiled.");
  m.def("disable_compile", &kiln::disable_compile);
  m.def("enable_compile", &kiln::enable_compile);
}

}  // namespace kiln::python
