/* kiln's mlx-c compatible C API: closures (mlx/c/closure.h). A closure's
   function returns 0 on success; non-zero makes the transform fail. */
#ifndef KILN_C_CLOSURE_H
#define KILN_C_CLOSURE_H
#include "kiln/c/array.h"
#include "kiln/c/vector.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mlx_closure_ {
  void* ctx;
} mlx_closure;

mlx_closure mlx_closure_new(void);
int mlx_closure_free(mlx_closure cls);
mlx_closure mlx_closure_new_func(int (*fun)(mlx_vector_array*, const mlx_vector_array));
mlx_closure mlx_closure_new_func_payload(int (*fun)(mlx_vector_array*, const mlx_vector_array, void*),
                                         void* payload, void (*dtor)(void*));
mlx_closure mlx_closure_new_unary(int (*fun)(mlx_array*, const mlx_array));
int mlx_closure_set(mlx_closure* cls, const mlx_closure src);
int mlx_closure_apply(mlx_vector_array* res, mlx_closure cls, const mlx_vector_array input);

typedef struct mlx_closure_value_and_grad_ {
  void* ctx;
} mlx_closure_value_and_grad;

mlx_closure_value_and_grad mlx_closure_value_and_grad_new(void);
int mlx_closure_value_and_grad_free(mlx_closure_value_and_grad cls);
int mlx_closure_value_and_grad_set(mlx_closure_value_and_grad* cls, const mlx_closure_value_and_grad src);
int mlx_closure_value_and_grad_apply(mlx_vector_array* res_0, mlx_vector_array* res_1,
                                     mlx_closure_value_and_grad cls, const mlx_vector_array input);

#ifdef __cplusplus
}
#endif
#endif
