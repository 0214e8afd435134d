// The C API's devices and streams.
#include "c/private.h"
#include "kiln/c/stream.h"

using kiln_c::get;

namespace {
kiln::Device::DeviceType to_type(mlx_device_type t) { return t == MLX_GPU ? kiln::Device::gpu : kiln::Device::cpu; }
}  // namespace

extern "C" {
mlx_device mlx_device_new(void) { return mlx_device{nullptr}; }
mlx_device mlx_device_new_type(mlx_device_type type, int index) {
  return mlx_device{new kiln::Device(to_type(type), index)};
}
int mlx_device_free(mlx_device dev) {
  delete static_cast<kiln::Device*>(dev.ctx);
  return 0;
}
int mlx_device_set(mlx_device* dev, const mlx_device src) { KILN_C_TRY(kiln_c::set_as(dev, get(src))) }
int mlx_device_get_index(int* index, mlx_device dev) { KILN_C_TRY(*index = get(dev).index) }
int mlx_device_get_type(mlx_device_type* type, mlx_device dev) {
  KILN_C_TRY(*type = get(dev).type == kiln::Device::gpu ? MLX_GPU : MLX_CPU)
}
bool mlx_device_equal(mlx_device lhs, mlx_device rhs) {
  return lhs.ctx && rhs.ctx && get(lhs) == get(rhs);
}
int mlx_get_default_device(mlx_device* dev) { KILN_C_TRY(kiln_c::set_as(dev, kiln::default_device())) }
int mlx_set_default_device(mlx_device dev) { KILN_C_TRY(kiln::set_default_device(get(dev))) }

mlx_stream mlx_stream_new(void) { return mlx_stream{nullptr}; }
mlx_stream mlx_stream_new_device(mlx_device dev) {
  try {
    return mlx_stream{new kiln::Stream(kiln::new_stream(get(dev)))};
  } catch (const std::exception& e) {
    kiln_c::report(e);
    return mlx_stream{nullptr};
  }
}
int mlx_stream_free(mlx_stream stream) {
  delete static_cast<kiln::Stream*>(stream.ctx);
  return 0;
}
int mlx_stream_set(mlx_stream* stream, const mlx_stream src) { KILN_C_TRY(kiln_c::set_as(stream, get(src))) }
int mlx_stream_get_device(mlx_device* dev, mlx_stream stream) { KILN_C_TRY(kiln_c::set_as(dev, get(stream).device)) }
int mlx_stream_get_index(int* index, mlx_stream stream) { KILN_C_TRY(*index = get(stream).index) }
bool mlx_stream_equal(mlx_stream lhs, mlx_stream rhs) { return lhs.ctx && rhs.ctx && get(lhs) == get(rhs); }
int mlx_synchronize(mlx_stream stream) { KILN_C_TRY(kiln::synchronize(get(stream))) }
int mlx_get_default_stream(mlx_stream* stream, mlx_device dev) {
  KILN_C_TRY(kiln_c::set_as(stream, kiln::default_stream(get(dev))))
}
int mlx_set_default_stream(mlx_stream stream) { KILN_C_TRY(kiln::set_default_stream(get(stream))) }
mlx_stream mlx_default_cpu_stream_new(void) {
  return mlx_stream{new kiln::Stream(kiln::default_stream(kiln::Device(kiln::Device::cpu)))};
}
mlx_stream mlx_default_gpu_stream_new(void) {
  try {
    return mlx_stream{new kiln::Stream(kiln::default_stream(kiln::Device(kiln::Device::gpu)))};
  } catch (const std::exception& e) {
    kiln_c::report(e);
    return mlx_stream{nullptr};
  }
}
}
