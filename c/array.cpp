// The C API's arrays: creation from C data, queries, items and data.
#include <sstream>

#include "c/private.h"
#include "kiln/c/array.h"

using kiln_c::get;

namespace {
// A fresh handle to v, or an empty one (after reporting) when making v throws.
template <typename F>
mlx_array new_array(F make) {
  try {
    return mlx_array{new kiln::array(make())};
  } catch (const std::exception& e) {
    kiln_c::report(e);
    return mlx_array{nullptr};
  }
}
kiln::Shape to_shape(const int* shape, int dim) {
  if (dim < 0 || (dim > 0 && !shape)) throw std::invalid_argument("[mlx_array_new_data] bad shape");
  return kiln::Shape(shape, shape + dim);
}
// Element pointer of arr, NULL (after reporting) on an error.
template <typename T>
const T* data_of(const mlx_array arr, kiln::Dtype dtype) {
  try {
    kiln::array& a = get(arr);
    if (a.dtype() != dtype) throw std::invalid_argument("[mlx_array_data] the array's dtype differs from the one asked");
    return a.data<T>();
  } catch (const std::exception& e) {
    kiln_c::report(e);
    return nullptr;
  }
}
template <typename T>
int item_of(T* res, const mlx_array arr) {
  KILN_C_TRY(*res = get(arr).item<T>())
}
}  // namespace

extern "C" {

size_t mlx_dtype_size(mlx_dtype dtype) {
  try {
    return kiln_c::to_dtype(dtype).size();
  } catch (const std::exception& e) {
    kiln_c::report(e);
    return 0;
  }
}

mlx_array mlx_array_new(void) { return mlx_array{nullptr}; }
int mlx_array_free(mlx_array arr) {
  delete static_cast<kiln::array*>(arr.ctx);
  return 0;
}
int mlx_array_tostring(mlx_string* str, const mlx_array arr) {
  KILN_C_TRY({
    std::ostringstream os;
    os << get(arr);
    kiln_c::set_as(str, os.str());
  })
}
mlx_array mlx_array_new_bool(bool val) { return new_array([&] { return kiln::array(val); }); }
mlx_array mlx_array_new_int(int val) { return new_array([&] { return kiln::array(val); }); }
mlx_array mlx_array_new_float32(float val) { return new_array([&] { return kiln::array(val); }); }
mlx_array mlx_array_new_float(float val) { return mlx_array_new_float32(val); }
mlx_array mlx_array_new_float64(double val) { return new_array([&] { return kiln::array(val, kiln::float64); }); }
mlx_array mlx_array_new_double(double val) { return mlx_array_new_float64(val); }
mlx_array mlx_array_new_data(const void* data, const int* shape, int dim, mlx_dtype dtype) {
  return new_array([&] { return kiln::array(data, to_shape(shape, dim), kiln_c::to_dtype(dtype)); });
}
int mlx_array_set(mlx_array* arr, const mlx_array src) { KILN_C_TRY(kiln_c::set(arr, get(src))) }
int mlx_array_set_bool(mlx_array* arr, bool val) { KILN_C_TRY(kiln_c::set(arr, kiln::array(val))) }
int mlx_array_set_int(mlx_array* arr, int val) { KILN_C_TRY(kiln_c::set(arr, kiln::array(val))) }
int mlx_array_set_float32(mlx_array* arr, float val) { KILN_C_TRY(kiln_c::set(arr, kiln::array(val))) }
int mlx_array_set_float(mlx_array* arr, float val) { return mlx_array_set_float32(arr, val); }
int mlx_array_set_data(mlx_array* arr, const void* data, const int* shape, int dim, mlx_dtype dtype) {
  KILN_C_TRY(kiln_c::set(arr, kiln::array(data, to_shape(shape, dim), kiln_c::to_dtype(dtype))))
}

// Queries of an empty handle report and answer 0 (mlx-c's are unchecked).
#define KILN_C_QUERY(expr)              \
  try {                                 \
    return expr;                        \
  } catch (const std::exception& e) {   \
    kiln_c::report(e);                  \
    return 0;                           \
  }
size_t mlx_array_itemsize(const mlx_array arr) { KILN_C_QUERY(get(arr).itemsize()) }
size_t mlx_array_size(const mlx_array arr) { KILN_C_QUERY(get(arr).size()) }
size_t mlx_array_nbytes(const mlx_array arr) { KILN_C_QUERY(get(arr).nbytes()) }
size_t mlx_array_ndim(const mlx_array arr) { KILN_C_QUERY(get(arr).ndim()) }
const int* mlx_array_shape(const mlx_array arr) { KILN_C_QUERY(get(arr).shape().data()) }
int mlx_array_dim(const mlx_array arr, int dim) { KILN_C_QUERY(get(arr).shape(dim)) }
mlx_dtype mlx_array_dtype(const mlx_array arr) {
  try {
    return kiln_c::to_c(get(arr).dtype());
  } catch (const std::exception& e) {
    kiln_c::report(e);
    return MLX_FLOAT32;
  }
}
#undef KILN_C_QUERY

int mlx_array_eval(mlx_array arr) { KILN_C_TRY(get(arr).eval()) }

int mlx_array_item_bool(bool* res, const mlx_array arr) { return item_of(res, arr); }
int mlx_array_item_uint8(uint8_t* res, const mlx_array arr) { return item_of(res, arr); }
int mlx_array_item_uint16(uint16_t* res, const mlx_array arr) { return item_of(res, arr); }
int mlx_array_item_uint32(uint32_t* res, const mlx_array arr) { return item_of(res, arr); }
int mlx_array_item_uint64(uint64_t* res, const mlx_array arr) { return item_of(res, arr); }
int mlx_array_item_int8(int8_t* res, const mlx_array arr) { return item_of(res, arr); }
int mlx_array_item_int16(int16_t* res, const mlx_array arr) { return item_of(res, arr); }
int mlx_array_item_int32(int32_t* res, const mlx_array arr) { return item_of(res, arr); }
int mlx_array_item_int64(int64_t* res, const mlx_array arr) { return item_of(res, arr); }
int mlx_array_item_float32(float* res, const mlx_array arr) { return item_of(res, arr); }
int mlx_array_item_float64(double* res, const mlx_array arr) { return item_of(res, arr); }

const bool* mlx_array_data_bool(const mlx_array arr) { return data_of<bool>(arr, kiln::bool_); }
const uint8_t* mlx_array_data_uint8(const mlx_array arr) { return data_of<uint8_t>(arr, kiln::uint8); }
const uint16_t* mlx_array_data_uint16(const mlx_array arr) { return data_of<uint16_t>(arr, kiln::uint16); }
const uint32_t* mlx_array_data_uint32(const mlx_array arr) { return data_of<uint32_t>(arr, kiln::uint32); }
const uint64_t* mlx_array_data_uint64(const mlx_array arr) { return data_of<uint64_t>(arr, kiln::uint64); }
const int8_t* mlx_array_data_int8(const mlx_array arr) { return data_of<int8_t>(arr, kiln::int8); }
const int16_t* mlx_array_data_int16(const mlx_array arr) { return data_of<int16_t>(arr, kiln::int16); }
const int32_t* mlx_array_data_int32(const mlx_array arr) { return data_of<int32_t>(arr, kiln::int32); }
const int64_t* mlx_array_data_int64(const mlx_array arr) { return data_of<int64_t>(arr, kiln::int64); }
const float* mlx_array_data_float32(const mlx_array arr) { return data_of<float>(arr, kiln::float32); }
const double* mlx_array_data_float64(const mlx_array arr) { return data_of<double>(arr, kiln::float64); }

}  // extern "C"
