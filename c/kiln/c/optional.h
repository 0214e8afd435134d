/* kiln's mlx-c compatible C API: optional scalars (mlx/c/optional.h). */
#ifndef KILN_C_OPTIONAL_H
#define KILN_C_OPTIONAL_H
#include <stdbool.h>

typedef struct mlx_optional_int_ {
  int value;
  bool has_value;
} mlx_optional_int;

typedef struct mlx_optional_float_ {
  float value;
  bool has_value;
} mlx_optional_float;

#endif
