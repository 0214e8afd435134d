/* kiln's mlx-c compatible C API: devices and streams (mlx/c/device.h, stream.h). */
#ifndef KILN_C_STREAM_H
#define KILN_C_STREAM_H
#include <stdbool.h>

#include "kiln/c/string.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum mlx_device_type_ { MLX_CPU, MLX_GPU } mlx_device_type;

typedef struct mlx_device_ {
  void* ctx;
} mlx_device;

mlx_device mlx_device_new(void);
mlx_device mlx_device_new_type(mlx_device_type type, int index);
int mlx_device_free(mlx_device dev);
int mlx_device_set(mlx_device* dev, const mlx_device src);
int mlx_device_get_index(int* index, mlx_device dev);
int mlx_device_get_type(mlx_device_type* type, mlx_device dev);
bool mlx_device_equal(mlx_device lhs, mlx_device rhs);
int mlx_get_default_device(mlx_device* dev);
int mlx_set_default_device(mlx_device dev);

typedef struct mlx_stream_ {
  void* ctx;
} mlx_stream;

mlx_stream mlx_stream_new(void);
mlx_stream mlx_stream_new_device(mlx_device dev);
int mlx_stream_free(mlx_stream stream);
int mlx_stream_set(mlx_stream* stream, const mlx_stream src);
int mlx_stream_get_device(mlx_device* dev, mlx_stream stream);
int mlx_stream_get_index(int* index, mlx_stream stream);
bool mlx_stream_equal(mlx_stream lhs, mlx_stream rhs);
int mlx_synchronize(mlx_stream stream);
int mlx_get_default_stream(mlx_stream* stream, mlx_device dev);
int mlx_set_default_stream(mlx_stream stream);
mlx_stream mlx_default_cpu_stream_new(void);
mlx_stream mlx_default_gpu_stream_new(void);

#ifdef __cplusplus
}
#endif
#endif
