// mx.array and mx.Dtype: construction from Python values, properties,
// NumPy interop (buffer protocol out, copy in), operators with Python
// scalars on either side, and NumPy-style indexing.
#include <algorithm>
#include <sstream>

#include "frontend/ops.h"
#include "python/convert.h"

namespace kiln::python {

namespace {

// ---- operators ---------------------------------------------------------------

py::object not_implemented() { return py::reinterpret_borrow<py::object>(Py_NotImplemented); }

using BinaryOp = array (*)(const array&, const array&, StreamOrDevice);

// a OP other (or other OP a when `reflected`); a Python scalar is weak.
py::object binary(const array& a, py::handle other, BinaryOp op, bool reflected) {
  if (!is_array_like(other)) return not_implemented();
  array b = to_array(other, a.dtype());
  return wrap(reflected ? op(b, a, {}) : op(a, b, {}));
}

template <BinaryOp op>
void def_binary(py::class_<array>& cls, const char* name, const char* rname) {
  cls.def(name, [](const array& a, py::handle o) { return binary(a, o, op, false); }, py::is_operator());
  if (rname) cls.def(rname, [](const array& a, py::handle o) { return binary(a, o, op, true); }, py::is_operator());
}

array matmul2(const array& a, const array& b, StreamOrDevice s) { return matmul(a, b, s); }

// ---- indexing -----------------------------------------------------------------

// An index tuple with its Ellipsis expanded: one entry per axis of the
// array, plus the None entries that insert axes.
std::vector<py::object> expand_index(const array& a, py::handle index) {
  std::vector<py::object> entries;
  if (py::isinstance<py::tuple>(index))
    for (auto e : index) entries.push_back(py::reinterpret_borrow<py::object>(e));
  else
    entries.push_back(py::reinterpret_borrow<py::object>(index));
  int consuming = 0, ellipses = 0;
  for (auto& e : entries) {
    if (e.is(py::ellipsis())) ++ellipses;
    else if (!e.is_none()) ++consuming;
  }
  if (ellipses > 1) throw std::out_of_range("An index can only have a single ellipsis ('...').");
  if (consuming > int(a.ndim()))
    throw std::out_of_range("Too many indices for array with " + std::to_string(a.ndim()) + " dimensions.");
  std::vector<py::object> out;
  auto full = [&] { out.push_back(py::reinterpret_steal<py::object>(PySlice_New(nullptr, nullptr, nullptr))); };
  for (auto& e : entries) {
    if (e.is(py::ellipsis()))
      for (int i = consuming; i < int(a.ndim()); ++i) full();
    else
      out.push_back(e);
  }
  if (!ellipses)
    for (int i = consuming; i < int(a.ndim()); ++i) full();
  return out;
}

// The basic part of an index (ints, slices, None): what to slice, and the
// shape of the result.
struct BasicIndex {
  Shape start, stop, strides;
  Shape region;                  // the slice's shape (1 on int axes)
  Shape result_shape;            // ints dropped, None inserted, array axes kept whole
  std::vector<int> int_axes;     // input axes indexed by an int
  std::vector<std::pair<int, array>> arrays;  // (input axis, index array)
  bool has_none = false;
  bool trivial = true;           // slices nothing
};

BasicIndex plan_index(const array& a, const std::vector<py::object>& entries) {
  BasicIndex p;
  int d = 0;
  for (const py::object& e : entries) {
    if (e.is_none()) {
      p.result_shape.push_back(1);
      p.has_none = true;
      continue;
    }
    int32_t n = a.shape()[d];
    if (PySlice_Check(e.ptr())) {
      Py_ssize_t start, stop, step;
      if (PySlice_Unpack(e.ptr(), &start, &stop, &step) < 0) throw py::error_already_set();
      Py_ssize_t len = PySlice_AdjustIndices(n, &start, &stop, step);
      if (step < 0 && stop < 0) stop = -Py_ssize_t(n) - 1;  // "before 0", not "from the end"
      p.start.push_back(int32_t(start));
      p.stop.push_back(int32_t(stop));
      p.strides.push_back(int32_t(step));
      p.result_shape.push_back(int32_t(len));
      p.region.push_back(int32_t(len));
      if (!(start == 0 && stop == n && step == 1)) p.trivial = false;
    } else if (PyLong_Check(e.ptr()) && !PyBool_Check(e.ptr())) {
      int64_t i = e.cast<int64_t>();
      if (i < -int64_t(n) || i >= n)
        throw std::out_of_range("Index " + std::to_string(i) + " is out of bounds for axis " +
                                std::to_string(d) + " with size " + std::to_string(n) + ".");
      if (i < 0) i += n;
      p.start.push_back(int32_t(i));
      p.stop.push_back(int32_t(i + 1));
      p.strides.push_back(1);
      p.int_axes.push_back(d);
      p.region.push_back(1);
      p.trivial = false;
    } else if (is_array_like(e) && !PyFloat_Check(e.ptr())) {
      p.arrays.emplace_back(d, to_array(e));
      p.start.push_back(0);
      p.stop.push_back(n);
      p.strides.push_back(1);
      p.result_shape.push_back(n);
      p.region.push_back(n);
    } else {
      throw std::invalid_argument("Cannot index an mx.array with " +
                                  std::string(py::str(e.get_type().attr("__name__"))) + ".");
    }
    ++d;
  }
  return p;
}

array get_item(const array& a, py::handle index) {
  std::vector<py::object> entries = expand_index(a, index);
  BasicIndex p = plan_index(a, entries);
  array b = p.trivial ? a : slice(a, p.start, p.stop, p.strides);
  if (p.arrays.empty()) return b.shape() == p.result_shape ? b : reshape(b, p.result_shape);
  if (p.has_none) throw std::invalid_argument("Indexing with None and arrays together is not supported.");
  // With index arrays, ints are index arrays too (NumPy): 0 on the axis
  // that the slice above narrowed to that int.
  for (int d : p.int_axes) p.arrays.emplace_back(d, array(int32_t(0)));
  std::sort(p.arrays.begin(), p.arrays.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
  std::vector<int> array_axes;
  for (auto& pr : p.arrays) array_axes.push_back(pr.first);
  if (p.arrays.size() == 1) return take(b, p.arrays[0].second, array_axes[0]);
  // Several arrays: gather puts their broadcast shape first, then the
  // slice of each axis (1 on the indexed ones, dropped after).
  std::vector<array> indices;
  for (auto& pr : p.arrays) indices.push_back(pr.second);
  Shape slice_sizes = b.shape();
  for (int ax : array_axes) slice_sizes[ax] = 1;
  array g = gather(b, indices, array_axes, slice_sizes);
  size_t nb = g.ndim() - b.ndim();
  Shape out(g.shape().begin(), g.shape().begin() + nb);
  for (int d = 0; d < int(b.ndim()); ++d)
    if (std::find(array_axes.begin(), array_axes.end(), d) == array_axes.end()) out.push_back(b.shape()[d]);
  g = reshape(g, out);
  // NumPy: adjacent index arrays keep their place; apart, they go first.
  bool adjacent = array_axes.back() - array_axes.front() + 1 == int(array_axes.size());
  if (adjacent && array_axes.front() > 0) {
    std::vector<int> perm;
    int first = array_axes.front();
    for (int i = 0; i < first; ++i) perm.push_back(int(nb) + i);
    for (int i = 0; i < int(nb); ++i) perm.push_back(i);
    for (int i = int(nb) + first; i < int(g.ndim()); ++i) perm.push_back(i);
    g = transpose(g, perm);
  }
  return g;
}

// a[index] = value: a slice_update for ints/slices/None, a scatter for one
// index array along an axis (the others whole).
void set_item(array& a, py::handle index, py::handle value) {
  std::vector<py::object> entries = expand_index(a, index);
  BasicIndex p = plan_index(a, entries);
  array v = to_array(value, a.dtype());
  if (p.arrays.empty()) {
    array u = reshape(broadcast_to(v, p.result_shape), p.region);
    a = slice_update(a, u, p.start, p.stop, p.strides);
    return;
  }
  if (p.arrays.size() != 1 || !p.int_axes.empty() || !p.trivial || p.has_none)
    throw std::invalid_argument("Assignment supports ints, slices and None, or one index array (other axes whole).");
  auto& [axis, idx] = p.arrays[0];
  Shape upd = idx.shape();
  for (size_t d = 0; d < a.ndim(); ++d)
    if (int(d) != axis) upd.push_back(a.shape()[d]);
  array u = expand_dims(broadcast_to(v, upd), int(idx.ndim()) + axis);
  a = scatter(a, {idx}, u, {axis});
}

// ---- NumPy interop ------------------------------------------------------------

std::string buffer_format(Dtype t) {
  switch (t.val) {
    case Dtype::Val::bool_: return "?";
    case Dtype::Val::uint8: return "B";
    case Dtype::Val::uint16: return "H";
    case Dtype::Val::uint32: return "I";
    case Dtype::Val::uint64: return "Q";
    case Dtype::Val::int8: return "b";
    case Dtype::Val::int16: return "h";
    case Dtype::Val::int32: return "i";
    case Dtype::Val::int64: return "q";
    case Dtype::Val::float16: return "e";
    case Dtype::Val::float32: return "f";
    case Dtype::Val::float64: return "d";
    case Dtype::Val::complex64: return "Zf";
    case Dtype::Val::bfloat16: break;
  }
  throw py::type_error("bfloat16 has no buffer format: convert with .astype(mx.float32) first.");
}

py::object item(const array& a) {
  Dtype t = a.dtype();
  if (t == bool_) return py::bool_(a.item<bool>());
  if (t == uint64) return py::int_(a.item<uint64_t>());
  if (is_integral(t)) return py::int_(a.item<int64_t>());
  if (t == complex64) {
    complex64_t c = a.item<complex64_t>();
    return py::reinterpret_steal<py::object>(PyComplex_FromDoubles(c.real(), c.imag()));
  }
  return py::float_(a.item<double>());
}

py::object tolist(const array& a) {
  array x = a.dtype() == bfloat16 ? astype(a, float32) : a;
  return py::module_::import("numpy").attr("asarray")(py::cast(x)).attr("tolist")();
}

// a.reshape(2, 3) and a.reshape((2, 3)); a.transpose(1, 0) and a.transpose((1, 0)).
std::vector<int> int_varargs(const py::args& args) {
  if (args.size() == 1 && !PyLong_Check(args[0].ptr())) return args[0].cast<std::vector<int>>();
  return args.cast<std::vector<int>>();
}

}  // namespace

void init_array(py::module_& m) {
  py::class_<Dtype>(m, "Dtype")
      .def_property_readonly("size", [](Dtype t) { return int(t.size()); })
      .def("__repr__", [](Dtype t) { return "kiln.core." + dtype_name(t); })
      .def("__eq__", [](Dtype a, py::handle b) { return py::isinstance<Dtype>(b) && a == b.cast<Dtype>(); })
      .def("__hash__", [](Dtype t) { return int(t.val); });
  for (Dtype t : {bool_, uint8, uint16, uint32, uint64, int8, int16, int32, int64, float16, float32, float64,
                  bfloat16, complex64})
    m.attr(t == bool_ ? "bool_" : dtype_name(t).c_str()) = t;

  py::class_<array> cls(m, "array", py::buffer_protocol(), "A lazy n-dimensional array, as mlx.core.array.");
  cls.def(py::init([](py::handle val, std::optional<Dtype> dtype) {
            return dtype ? to_array_as(val, *dtype) : to_array(val);
          }),
          py::arg("val"), py::arg("dtype") = py::none())
      .def_property_readonly("shape", [](const array& a) { return wrap(a.shape()); })
      .def_property_readonly("dtype", [](const array& a) { return a.dtype(); })
      .def_property_readonly("ndim", [](const array& a) { return a.ndim(); })
      .def_property_readonly("size", [](const array& a) { return a.size(); })
      .def_property_readonly("itemsize", [](const array& a) { return a.itemsize(); })
      .def_property_readonly("nbytes", [](const array& a) { return a.nbytes(); })
      .def_property_readonly("T", [](const array& a) { return transpose(a); })
      .def("item", &item)
      .def("tolist", &tolist)
      .def("reshape", [](const array& a, py::args shape, py::kwargs kw) {
        return reshape(a, int_varargs(shape), kw.contains("stream") ? to_stream_or_device(kw["stream"]) : StreamOrDevice{});
      })
      .def("transpose", [](const array& a, py::args axes, py::kwargs kw) {
        StreamOrDevice s = kw.contains("stream") ? to_stream_or_device(kw["stream"]) : StreamOrDevice{};
        return axes.size() == 0 ? transpose(a, s) : transpose(a, int_varargs(axes), s);
      })
      .def("__repr__", [](const array& a) {
        std::ostringstream os;
        os << a;
        return os.str();
      })
      .def("__len__", [](const array& a) {
        if (a.ndim() == 0) throw py::type_error("len() of unsized object");
        return a.shape()[0];
      })
      .def("__bool__", [](const array& a) { return a.item<bool>(); })
      .def("__int__", [](const array& a) { return a.item<int64_t>(); })
      .def("__float__", [](const array& a) { return a.item<double>(); })
      .def("__getitem__", &get_item)
      .def("__setitem__", &set_item)
      .def("__neg__", [](const array& a) { return negative(a); })
      .def("__abs__", [](const array& a) { return abs(a); })
      .def("__invert__", [](const array& a) { return bitwise_invert(a); })
      .def("__copy__", [](const array& a) { return a; })
      .def("__deepcopy__", [](const array& a, py::handle) { return a; });
  cls.attr("__hash__") = py::none();
  def_binary<add>(cls, "__add__", "__radd__");
  def_binary<subtract>(cls, "__sub__", "__rsub__");
  def_binary<multiply>(cls, "__mul__", "__rmul__");
  def_binary<divide>(cls, "__truediv__", "__rtruediv__");
  def_binary<floor_divide>(cls, "__floordiv__", "__rfloordiv__");
  def_binary<remainder>(cls, "__mod__", "__rmod__");
  def_binary<power>(cls, "__pow__", "__rpow__");
  def_binary<matmul2>(cls, "__matmul__", "__rmatmul__");
  def_binary<equal>(cls, "__eq__", nullptr);
  def_binary<not_equal>(cls, "__ne__", nullptr);
  def_binary<less>(cls, "__lt__", nullptr);
  def_binary<less_equal>(cls, "__le__", nullptr);
  def_binary<greater>(cls, "__gt__", nullptr);
  def_binary<greater_equal>(cls, "__ge__", nullptr);
  def_binary<bitwise_and>(cls, "__and__", "__rand__");
  def_binary<bitwise_or>(cls, "__or__", "__ror__");
  def_binary<bitwise_xor>(cls, "__xor__", "__rxor__");
  def_binary<left_shift>(cls, "__lshift__", "__rlshift__");
  def_binary<right_shift>(cls, "__rshift__", "__rrshift__");

  // np.array(a): the evaluated buffer, read-only, kept alive by the array.
  cls.def_buffer([](array& a) {
    std::string format = buffer_format(a.dtype());
    a.eval();
    std::vector<py::ssize_t> shape(a.shape().begin(), a.shape().end()), strides;
    for (int64_t s : a.strides()) strides.push_back(py::ssize_t(s * a.itemsize()));
    // Through data<T>() (public, evaluates), with T of the element's size.
    const void* data = nullptr;
    switch (a.itemsize()) {
      case 1: data = a.data<uint8_t>(); break;
      case 2: data = a.data<uint16_t>(); break;
      case 4: data = a.data<uint32_t>(); break;
      default: data = a.data<uint64_t>(); break;
    }
    return py::buffer_info(const_cast<void*>(data), py::ssize_t(a.itemsize()), format, py::ssize_t(a.ndim()), shape, strides, true);
  });
}

// The methods of mx.array that are mx ops with the array first (a.sum(1) is
// mx.sum(a, 1)): the generated op functions, bound as methods.
void init_array_methods(py::module_& m) {
  py::object cls = m.attr("array");
  for (const char* name :
       {"abs", "all", "any", "argmax", "argmin", "astype", "cummax", "cummin", "cumprod", "cumsum", "diag",
        "diagonal", "exp", "flatten", "log", "log10", "log1p", "log2", "logcumsumexp", "logsumexp", "max", "mean",
        "min", "moveaxis", "prod", "reciprocal", "round", "rsqrt", "sin", "cos", "split", "sqrt", "square",
        "squeeze", "std", "sum", "swapaxes", "var", "view"}) {
    if (!py::hasattr(m, name)) continue;
    cls.attr(name) = py::reinterpret_steal<py::object>(PyInstanceMethod_New(m.attr(name).ptr()));
  }
}

}  // namespace kiln::python
