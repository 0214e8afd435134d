/* kiln's mlx-c compatible C API: string-to-array maps (mlx/c/map.h). */
#ifndef KILN_C_MAP_H
#define KILN_C_MAP_H
#include "kiln/c/array.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mlx_map_string_to_array_ {
  void* ctx;
} mlx_map_string_to_array;

mlx_map_string_to_array mlx_map_string_to_array_new(void);
int mlx_map_string_to_array_set(mlx_map_string_to_array* map, const mlx_map_string_to_array src);
int mlx_map_string_to_array_free(mlx_map_string_to_array map);
int mlx_map_string_to_array_insert(mlx_map_string_to_array map, const char* key, const mlx_array value);
/* Non-zero (and the error handler called) when key is absent. */
int mlx_map_string_to_array_get(mlx_array* value, const mlx_map_string_to_array map, const char* key);

#ifdef __cplusplus
}
#endif
#endif
