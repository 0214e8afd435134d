// Python values <-> kiln values, and the argument matching of the generated
// op functions (see convert.h).
#include "python/convert.h"

#include <complex>
#include <cstring>


#include "frontend/ops.h"

namespace kiln::python {

namespace {

py::module_ numpy() {
  static py::module_* np = new py::module_(py::module_::import("numpy"));  // never freed: outlives the interpreter's teardown order
  return *np;
}

// numpy.ndarray and numpy.generic (NumPy's scalars), looked up once.
bool is_ndarray(py::handle h) {
  static PyObject* ndarray = py::object(numpy().attr("ndarray")).release().ptr();
  static PyObject* generic = py::object(numpy().attr("generic")).release().ptr();
  return PyObject_IsInstance(h.ptr(), ndarray) == 1 || PyObject_IsInstance(h.ptr(), generic) == 1;
}

bool is_numpy_scalar(py::handle h) {
  static PyObject* generic = py::object(numpy().attr("generic")).release().ptr();
  return PyObject_IsInstance(h.ptr(), generic) == 1;
}

bool is_number(py::handle h) {
  return PyBool_Check(h.ptr()) || PyLong_Check(h.ptr()) || PyFloat_Check(h.ptr()) || PyComplex_Check(h.ptr());
}

// kiln's dtype of a NumPy dtype; float64 stays float64 only when `keep64`.
Dtype from_numpy_dtype(py::handle np_dtype) {
  std::string kind = py::str(np_dtype.attr("kind"));
  int size = np_dtype.attr("itemsize").cast<int>();
  switch (kind[0]) {
    case 'b': return bool_;
    case 'u': return size == 1 ? uint8 : size == 2 ? uint16 : size == 4 ? uint32 : uint64;
    case 'i': return size == 1 ? int8 : size == 2 ? int16 : size == 4 ? int32 : int64;
    case 'f': return size == 2 ? float16 : size == 4 ? float32 : float64;
    case 'c': return complex64;
  }
  throw py::type_error("[array] Unsupported NumPy dtype " + std::string(py::str(np_dtype)) + ".");
}

// A NumPy array's data copied into a kiln array.
array from_numpy(py::handle arr) {
  py::object c = numpy().attr("ascontiguousarray")(arr);
  Dtype t = from_numpy_dtype(c.attr("dtype"));
  if (std::string(py::str(c.attr("dtype").attr("kind"))) == "c" && t == complex64 &&
      c.attr("dtype").attr("itemsize").cast<int>() == 16)
    c = c.attr("astype")("complex64");
  Shape shape;
  for (auto d : c.attr("shape")) shape.push_back(d.cast<int32_t>());
  py::buffer_info info = py::reinterpret_borrow<py::buffer>(c).request();
  return array(info.ptr, shape, t);
}

// A Python list (nested) as NumPy parses it, with MLX's default dtypes:
// Python ints become int32, floats float32.
array from_sequence(py::handle seq) {
  py::sequence s = py::reinterpret_borrow<py::sequence>(seq);
  if (py::len(s) > 0 && is_array(s[0])) {  // a list of mx.arrays stacks them
    std::vector<array> parts;
    for (auto item : s) parts.push_back(to_array(item));
    return stack(parts);
  }
  py::object a = numpy().attr("asarray")(seq);
  std::string kind = py::str(a.attr("dtype").attr("kind"));
  if (kind == "f") a = a.attr("astype")("float32");
  else if (kind == "i" || kind == "u") a = a.attr("astype")("int32");
  else if (kind == "c") a = a.attr("astype")("complex64");
  else if (kind != "b") throw py::type_error("[array] Cannot make an array from this list.");
  return from_numpy(a);
}

}  // namespace

bool is_array(py::handle h) { return py::isinstance<array>(h); }

bool is_array_like(py::handle h) {
  return is_array(h) || is_number(h) || py::isinstance<py::list>(h) || py::isinstance<py::tuple>(h) ||
         is_ndarray(h);
}

array to_array(py::handle h, std::optional<Dtype> hint) {
  if (is_array(h)) return h.cast<array>();
  if (PyBool_Check(h.ptr())) return array(h.cast<bool>());
  if (PyLong_Check(h.ptr())) {
    int64_t v = h.cast<int64_t>();
    if (hint && *hint != bool_) return detail::weak_scalar(v, *hint);
    return array(int32_t(v));
  }
  if (PyFloat_Check(h.ptr())) {
    double v = h.cast<double>();
    if (hint) return detail::weak_scalar(v, *hint);
    return array(float(v));
  }
  if (PyComplex_Check(h.ptr()))
    return array(complex64_t(float(PyComplex_RealAsDouble(h.ptr())), float(PyComplex_ImagAsDouble(h.ptr()))));
  if (py::isinstance<py::list>(h) || py::isinstance<py::tuple>(h)) return from_sequence(h);
  if (is_ndarray(h)) {
    array a = from_numpy(h);
    return a.dtype() == float64 ? astype(a, float32) : a;  // as MLX: NumPy's float64 becomes float32
  }
  if (PyObject_CheckBuffer(h.ptr())) return from_numpy(numpy().attr("asarray")(h));
  throw py::type_error("Cannot make an mx.array from a " +
                       std::string(py::str(h.get_type().attr("__name__"))) + ".");
}

array to_array_as(py::handle h, Dtype dtype) {
  if (is_ndarray(h)) return astype(from_numpy(h), dtype);
  return astype(to_array(h), dtype);
}

std::optional<Dtype> array_dtype_hint(const std::vector<py::handle>& values) {
  std::optional<Dtype> hint;
  for (py::handle h : values) {
    std::optional<Dtype> t;
    if (is_array(h)) t = h.cast<const array&>().dtype();
    else if (is_ndarray(h) && !is_numpy_scalar(h))
      t = from_numpy_dtype(h.attr("dtype"));
    if (t) hint = hint ? promote_types(*hint, *t) : *t;
  }
  return hint;
}

py::object wrap(array a) { return py::cast(std::move(a)); }
py::object wrap(std::vector<array> a) {
  py::list out;
  for (auto& x : a) out.append(py::cast(std::move(x)));
  return out;
}
py::object wrap(std::pair<array, array> a) {
  return py::make_tuple(py::cast(std::move(a.first)), py::cast(std::move(a.second)));
}
py::object wrap(Dtype t) { return py_dtype(t); }
py::object wrap(const Shape& s) {
  py::tuple out(s.size());
  for (size_t i = 0; i < s.size(); ++i) out[i] = py::int_(s[i]);
  return out;
}
py::object py_dtype(Dtype t) { return py::cast(t); }

StreamOrDevice to_stream_or_device(py::handle h) {
  if (!h || h.is_none()) return {};
  if (py::isinstance<Stream>(h)) return h.cast<Stream>();
  if (py::isinstance<Device>(h)) return h.cast<Device>();
  if (py::isinstance<Device::DeviceType>(h)) return Device(h.cast<Device::DeviceType>());
  throw py::type_error("stream must be None, an mx.Device or an mx.Stream.");
}

// --- Call ---------------------------------------------------------------------

Call::Call(const Signature& sig, const py::args& args, const py::kwargs& kwargs)
    : sig_(sig), values_(sig.params.size()), soft_(sig.params.size(), false) {
  if (args.size() > sig.params.size())
    throw py::type_error(std::string(sig.name) + "() takes at most " + std::to_string(sig.params.size()) +
                         " positional arguments (" + std::to_string(args.size()) + " given).");
  for (size_t i = 0; i < args.size(); ++i) values_[i] = py::reinterpret_borrow<py::object>(args[i]);
  for (auto [key, value] : kwargs) {
    std::string k = py::str(key);
    if (k == "stream") {
      stream_ = to_stream_or_device(value);
      continue;
    }
    size_t i = 0;
    while (i < sig.params.size() && k != sig.params[i]) ++i;
    if (i == sig.params.size())
      throw py::type_error(std::string(sig.name) + "() got an unexpected keyword argument '" + k + "'.");
    if (values_[i]) throw py::type_error(std::string(sig.name) + "() got multiple values for argument '" + k + "'.");
    values_[i] = py::reinterpret_borrow<py::object>(value);
  }
  std::vector<py::handle> given;
  for (auto& v : values_)
    if (v) given.push_back(v);
  hint_ = array_dtype_hint(given);
}

void Call::soft_default(int slot, py::object value) {
  if (values_[slot]) return;
  values_[slot] = std::move(value);
  soft_[slot] = true;
}

void Call::scalar_dtype(int slot, Dtype otherwise) {
  hint_ = has(slot) && py::isinstance<Dtype>(values_[slot]) ? values_[slot].cast<Dtype>() : otherwise;
}

namespace {

bool is_int(py::handle h, bool strict) {
  if (PyBool_Check(h.ptr())) return !strict;
  return PyLong_Check(h.ptr()) || (!strict && !PyFloat_Check(h.ptr()) && !is_array(h) && PyIndex_Check(h.ptr()));
}

bool is_int_sequence(py::handle h, size_t length = 0) {
  if (!py::isinstance<py::list>(h) && !py::isinstance<py::tuple>(h)) return false;
  py::sequence s = py::reinterpret_borrow<py::sequence>(h);
  if (length && py::len(s) != length) return false;
  for (auto item : s)
    if (!is_int(item, false)) return false;
  return true;
}

bool accepts(Arg kind, py::handle h, bool strict) {
  switch (kind) {
    case Arg::array:
    case Arg::opt_array:
      return strict ? is_array(h) || is_ndarray(h) : is_array_like(h);
    case Arg::arrays:
      if (!py::isinstance<py::list>(h) && !py::isinstance<py::tuple>(h)) return false;
      for (auto item : h)
        if (strict ? !(is_array(item) || is_ndarray(item)) : !is_array_like(item)) return false;
      return true;
    case Arg::int_: return is_int(h, strict);
    case Arg::bool_: return PyBool_Check(h.ptr()) || (!strict && is_int(h, false));
    case Arg::double_:
    case Arg::opt_float:
      return PyFloat_Check(h.ptr()) || (!strict && is_int(h, false));
    case Arg::ints:
    case Arg::opt_ints:
      return is_int_sequence(h) || (!strict && is_int(h, false));
    case Arg::dtype: return py::isinstance<Dtype>(h);
    case Arg::string: return PyUnicode_Check(h.ptr());
    case Arg::pair: return is_int_sequence(h, 2) || (!strict && is_int(h, false));
    case Arg::triple: return is_int_sequence(h, 3) || (!strict && is_int(h, false));
    case Arg::pairs:
      if (!py::isinstance<py::list>(h) && !py::isinstance<py::tuple>(h)) return false;
      for (auto item : h)
        if (!is_int_sequence(item, 2)) return false;
      return true;
  }
  return false;
}

}  // namespace

bool Call::fits(bool strict, std::initializer_list<Param> params) const {
  std::vector<bool> used(values_.size(), false);
  for (const Param& p : params) {
    used[p.slot] = true;
    if (has(p.slot)) {
      if (!accepts(p.kind, values_[p.slot], strict)) return false;
    } else if (!p.may_omit) {
      return false;
    }
  }
  for (size_t i = 0; i < values_.size(); ++i)
    if (!used[i] && has(int(i)) && !soft_[i]) return false;
  return true;
}

void Call::no_match() const {
  std::string given;
  for (size_t i = 0; i < values_.size(); ++i) {
    if (!has(int(i)) || soft_[i]) continue;
    if (!given.empty()) given += ", ";
    given += std::string(sig_.params[i]) + ": " + std::string(py::str(values_[i].get_type().attr("__name__")));
  }
  throw py::type_error(std::string(sig_.name) + "(): no overload takes these arguments (" + given + ").");
}

array Call::arr(int slot) const { return to_array(values_[slot], hint_); }
std::optional<array> Call::opt_arr(int slot) const {
  if (!has(slot)) return std::nullopt;
  return arr(slot);
}
std::vector<array> Call::arrs(int slot) const {
  std::vector<array> out;
  for (auto item : values_[slot]) out.push_back(to_array(item));
  return out;
}
int Call::int_(int slot) const { return values_[slot].cast<int>(); }
uint64_t Call::uint64(int slot) const { return values_[slot].cast<uint64_t>(); }
size_t Call::size(int slot) const { return values_[slot].cast<size_t>(); }
bool Call::bool_(int slot) const { return PyObject_IsTrue(values_[slot].ptr()) == 1; }
double Call::double_(int slot) const { return values_[slot].cast<double>(); }
std::vector<int> Call::ints(int slot) const {
  py::handle h = values_[slot];
  if (is_int(h, false)) return {h.cast<int>()};
  std::vector<int> out;
  for (auto item : h) out.push_back(item.cast<int>());
  return out;
}
std::vector<int64_t> Call::int64s(int slot) const {
  std::vector<int64_t> out;
  for (int v : ints(slot)) out.push_back(v);
  return out;
}
std::optional<std::vector<int>> Call::opt_ints(int slot) const {
  if (!has(slot)) return std::nullopt;
  return ints(slot);
}
Dtype Call::dtype(int slot) const { return values_[slot].cast<Dtype>(); }
std::string Call::string(int slot) const { return values_[slot].cast<std::string>(); }
std::optional<float> Call::opt_float(int slot) const {
  if (!has(slot)) return std::nullopt;
  return float_(slot);
}
std::pair<int, int> Call::pair(int slot) const {
  std::vector<int> v = ints(slot);
  return v.size() == 1 ? std::pair<int, int>{v[0], v[0]} : std::pair<int, int>{v[0], v[1]};
}
std::tuple<int, int, int> Call::triple(int slot) const {
  std::vector<int> v = ints(slot);
  return v.size() == 1 ? std::tuple<int, int, int>{v[0], v[0], v[0]} : std::tuple<int, int, int>{v[0], v[1], v[2]};
}
std::vector<std::pair<int, int>> Call::pairs(int slot) const {
  std::vector<std::pair<int, int>> out;
  for (auto item : values_[slot]) {
    py::sequence s = py::reinterpret_borrow<py::sequence>(item);
    out.emplace_back(s[0].cast<int>(), s[1].cast<int>());
  }
  return out;
}

}  // namespace kiln::python
