/* kiln's mlx-c compatible C API: vectors of arrays (mlx/c/vector.h). */
#ifndef KILN_C_VECTOR_H
#define KILN_C_VECTOR_H
#include <stddef.h>

#include "kiln/c/array.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mlx_vector_array_ {
  void* ctx;
} mlx_vector_array;

mlx_vector_array mlx_vector_array_new(void);
int mlx_vector_array_set(mlx_vector_array* vec, const mlx_vector_array src);
int mlx_vector_array_free(mlx_vector_array vec);
mlx_vector_array mlx_vector_array_new_data(const mlx_array* data, size_t size);
mlx_vector_array mlx_vector_array_new_value(const mlx_array val);
int mlx_vector_array_set_data(mlx_vector_array* vec, const mlx_array* data, size_t size);
int mlx_vector_array_set_value(mlx_vector_array* vec, const mlx_array val);
int mlx_vector_array_append_data(mlx_vector_array vec, const mlx_array* data, size_t size);
int mlx_vector_array_append_value(mlx_vector_array vec, const mlx_array val);
size_t mlx_vector_array_size(mlx_vector_array vec);
/* *res becomes a new reference to element idx (free it). */
int mlx_vector_array_get(mlx_array* res, const mlx_vector_array vec, size_t idx);

#ifdef __cplusplus
}
#endif
#endif
