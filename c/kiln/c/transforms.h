/* kiln's mlx-c compatible C API: evaluation and transformations
   (mlx/c/transforms.h, compile.h). */
#ifndef KILN_C_TRANSFORMS_H
#define KILN_C_TRANSFORMS_H
#include <stdbool.h>
#include <stddef.h>

#include "kiln/c/closure.h"
#include "kiln/c/vector.h"

#ifdef __cplusplus
extern "C" {
#endif

int mlx_eval(const mlx_vector_array outputs);
int mlx_async_eval(const mlx_vector_array outputs);
int mlx_vjp(mlx_vector_array* res_0, mlx_vector_array* res_1, const mlx_closure fun,
            const mlx_vector_array primals, const mlx_vector_array cotangents);
int mlx_jvp(mlx_vector_array* res_0, mlx_vector_array* res_1, const mlx_closure fun,
            const mlx_vector_array primals, const mlx_vector_array tangents);
int mlx_value_and_grad(mlx_closure_value_and_grad* res, const mlx_closure fun, const int* argnums,
                       size_t argnums_num);
int mlx_compile(mlx_closure* res, const mlx_closure fun, bool shapeless);
int mlx_disable_compile(void);
int mlx_enable_compile(void);

#ifdef __cplusplus
}
#endif
#endif
