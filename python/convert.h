#pragma once
// Conversions between Python values and kiln's C++ types, and Call: how the
// generated op functions (tools/bindgen/gen_python.py) read their
// arguments. Every op is `py::object f(py::args, py::kwargs)`; Call maps
// positional and keyword arguments to the op's Python parameter names and
// tells which C++ overload fits them.
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "frontend/array.h"
#include "frontend/stream.h"

namespace kiln::python {
namespace py = pybind11;

// --- Python values to kiln ---------------------------------------------------

// An mx.array from an mx.array, a Python scalar, a (nested) list or tuple,
// a NumPy array or anything with the buffer protocol. Python scalars are
// "weak" when `hint` is given (the dtype of the other operands): an int
// takes an integer or floating hint's dtype, a float a floating one, as in
// MLX (float16_array * 2.0 stays float16). The data is copied: kiln's
// buffers own their memory (runtime/buffer.h), so they cannot wrap NumPy's.
array to_array(py::handle h, std::optional<Dtype> hint = std::nullopt);
// As to_array, but with the given dtype (mx.array(x, dtype)).
array to_array_as(py::handle h, Dtype dtype);
bool is_array(py::handle h);        // an mx.array
bool is_array_like(py::handle h);   // what to_array accepts
// The promoted dtype of the mx.arrays and NumPy arrays among `values`, the
// weak-scalar hint for the Python numbers beside them.
std::optional<Dtype> array_dtype_hint(const std::vector<py::handle>& values);

// --- kiln to Python ----------------------------------------------------------
py::object wrap(array a);
py::object wrap(std::vector<array> a);                // list
py::object wrap(std::pair<array, array> a);           // tuple
py::object wrap(Dtype t);
py::object wrap(const Shape& s);                      // tuple
py::object py_dtype(Dtype t);                         // the mx.<dtype> object

// --- the generated ops' arguments -------------------------------------------

// The kinds of C++ parameters an op can have.
enum class Arg {
  array, opt_array, arrays, int_, bool_, double_, ints, opt_ints, dtype, string, opt_float, pair,
  triple, pairs
};
// One C++ parameter of an overload: the Python parameter (slot) it reads,
// its kind, and whether it may be left out (C++ default or optional).
struct Param {
  int slot;
  Arg kind;
  bool may_omit;
};
// The Python parameters of one op, in positional order. `stream` is
// keyword-only and always accepted.
struct Signature {
  const char* name;
  std::vector<const char*> params;
};

class Call {
 public:
  Call(const Signature& sig, const py::args& args, const py::kwargs& kwargs);
  // A default value for a parameter not given (Python defaults that MLX
  // has and C++ spells as another overload). An overload without this
  // parameter still fits.
  void soft_default(int slot, py::object value);
  // Python numbers given for arrays take the dtype argument at `slot`, or
  // `otherwise` (random.uniform(0, 1) draws float32, not int32).
  void scalar_dtype(int slot, Dtype otherwise);
  // Whether the arguments given fit this overload's parameters. `strict`
  // accepts only exact Python types (an mx.array or NumPy array for an
  // array, a float for a double, a sequence for a shape); the second pass
  // converts (numbers to arrays, ints to floats, an int to a shape).
  bool fits(bool strict, std::initializer_list<Param> params) const;
  [[noreturn]] void no_match() const;

  bool has(int slot) const { return slot < int(values_.size()) && values_[slot] && !values_[slot].is_none(); }
  array arr(int slot) const;
  std::optional<array> opt_arr(int slot) const;
  std::vector<array> arrs(int slot) const;
  int int_(int slot) const;
  uint64_t uint64(int slot) const;
  size_t size(int slot) const;
  bool bool_(int slot) const;
  double double_(int slot) const;
  float float_(int slot) const { return float(double_(slot)); }
  std::vector<int> ints(int slot) const;
  std::vector<int64_t> int64s(int slot) const;
  std::optional<std::vector<int>> opt_ints(int slot) const;
  Dtype dtype(int slot) const;
  std::string string(int slot) const;
  std::optional<float> opt_float(int slot) const;
  std::pair<int, int> pair(int slot) const;
  std::tuple<int, int, int> triple(int slot) const;
  std::vector<std::pair<int, int>> pairs(int slot) const;
  StreamOrDevice stream() const { return stream_; }

 private:
  const Signature& sig_;
  std::vector<py::object> values_;   // per slot; null when not given
  std::vector<bool> soft_;           // filled by soft_default
  std::optional<Dtype> hint_;        // for Python scalars given for arrays
  StreamOrDevice stream_;
};

// A StreamOrDevice from None, an mx.Device or an mx.Stream.
StreamOrDevice to_stream_or_device(py::handle h);

// The registration of each part of the module (python/*.cpp, generated).
void init_array(py::module_& m);
void init_array_methods(py::module_& m);  // after the ops
void init_transforms(py::module_& m);
void init_ops_0(py::module_& m);
void init_ops_1(py::module_& m);
void init_ops_2(py::module_& m);
void init_ops_3(py::module_& m);

}  // namespace kiln::python
