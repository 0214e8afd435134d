// The Python module kiln.core (`import kiln.core as mx`): mlx.core's API
// for what kiln implements. The ops are generated from the op headers
// (tools/bindgen/gen_python.py -> py_ops_*.cpp); this file adds devices and
// streams, arange, and puts the parts together.
//
// C++ exceptions reach Python through pybind11's standard translation:
// std::invalid_argument -> ValueError, std::out_of_range -> IndexError,
// any other std::exception (std::runtime_error) -> RuntimeError.
#include <sstream>

#include "frontend/device.h"
#include "frontend/ops.h"
#include "python/convert.h"

namespace kiln::python {
namespace {

StreamOrDevice stream_arg(const py::kwargs& kw) {
  return kw.contains("stream") ? to_stream_or_device(kw["stream"]) : StreamOrDevice{};
}

// arange(stop), arange(start, stop[, step]), with dtype and stream keywords:
// integer arguments give int32, any float float32 (as MLX).
py::object arange_py(py::args args, py::kwargs kw) {
  std::vector<py::object> v;
  for (auto a : args) v.push_back(py::reinterpret_borrow<py::object>(a));
  for (const char* name : {"start", "stop", "step"})
    if (kw.contains(name)) v.push_back(kw[name]);
  if (v.empty() || v.size() > 3) throw py::type_error("arange() takes 1 to 3 numbers (start, stop, step).");
  if (v.size() == 1 && kw.contains("start")) throw py::type_error("arange(): stop is required.");
  bool ints = true;
  for (auto& x : v) ints = ints && PyLong_Check(x.ptr());
  std::optional<Dtype> dtype;
  if (kw.contains("dtype") && !kw["dtype"].is_none()) dtype = kw["dtype"].cast<Dtype>();
  double start = v.size() > 1 ? v[0].cast<double>() : 0.0;
  double stop = v.size() > 1 ? v[1].cast<double>() : v[0].cast<double>();
  double step = v.size() > 2 ? v[2].cast<double>() : 1.0;
  return wrap(arange(start, stop, step, dtype.value_or(ints ? int32 : float32), stream_arg(kw)));
}

// einsum(subscripts, *operands, stream=None), as mlx.core (the generated
// binding takes the operands as one list, the C++ form).
py::object einsum_py(const std::string& subscripts, py::args operands, py::kwargs kw) {
  std::vector<array> xs;
  for (auto o : operands) xs.push_back(to_array(o));
  return wrap(einsum(subscripts, xs, stream_arg(kw)));
}

void init_devices(py::module_& m) {
  py::enum_<Device::DeviceType>(m, "DeviceType")
      .value("cpu", Device::cpu)
      .value("gpu", Device::gpu);
  py::class_<Device>(m, "Device")
      .def(py::init<Device::DeviceType, int>(), py::arg("type"), py::arg("index") = 0)
      .def_readonly("type", &Device::type)
      .def_readonly("index", &Device::index)
      .def("__eq__", [](const Device& a, py::handle b) { return py::isinstance<Device>(b) && a == b.cast<Device>(); })
      .def("__repr__", [](const Device& d) {
        std::ostringstream os;
        os << d;
        return os.str();
      });
  py::implicitly_convertible<Device::DeviceType, Device>();
  m.attr("cpu") = Device::cpu;
  m.attr("gpu") = Device::gpu;
  py::class_<Stream>(m, "Stream")
      .def_readonly("device", &Stream::device)
      .def_readonly("index", &Stream::index)
      .def("__eq__", [](const Stream& a, py::handle b) { return py::isinstance<Stream>(b) && a == b.cast<Stream>(); })
      .def("__repr__", [](const Stream& s) {
        std::ostringstream os;
        os << s;
        return os.str();
      });
  m.def("default_device", &default_device);
  m.def("set_default_device", [](const Device& d) { set_default_device(d); });
  m.def("is_available", [](const Device& d) { return is_available(d); });
  m.def("default_stream", [](const Device& d) { return default_stream(d); });
  m.def("new_stream", [](const Device& d) { return new_stream(d); });
  m.def("synchronize", [](std::optional<Stream> s) { s ? synchronize(*s) : synchronize(); },
        py::arg("stream") = py::none());
}

}  // namespace

}  // namespace kiln::python

PYBIND11_MODULE(core, m) {
  using namespace kiln::python;
  m.doc() = "kiln.core: kiln's arrays, ops and transforms with mlx.core's Python API.";
  m.def_submodule("random", "Random number generation (mx.random).");
  m.def_submodule("linalg", "Linear algebra (mx.linalg).");
  m.def_submodule("fft", "Fast Fourier transforms (mx.fft).");
  init_devices(m);
  init_array(m);
  init_ops_0(m);
  init_ops_1(m);
  init_ops_2(m);
  init_ops_3(m);
  m.def("arange", &arange_py, "arange(start, stop, step, dtype=None, *, stream=None)");
  py::delattr(m, "einsum");  // replaces the generated one (not an overload of it)
  m.def("einsum", &einsum_py, "einsum(subscripts, *operands, *, stream=None)");
  init_array_methods(m);
  init_transforms(m);
}
