// The C API's evaluation and transformations.
#include "c/private.h"
#include "kiln/c/transforms.h"

using kiln_c::get;

extern "C" {
int mlx_eval(const mlx_vector_array outputs) { KILN_C_TRY(kiln::eval(get(outputs))) }
// kiln evaluates synchronously: async_eval is eval.
int mlx_async_eval(const mlx_vector_array outputs) { return mlx_eval(outputs); }
int mlx_vjp(mlx_vector_array* res_0, mlx_vector_array* res_1, const mlx_closure fun,
            const mlx_vector_array primals, const mlx_vector_array cotangents) {
  KILN_C_TRY({
    auto [outputs, vjps] = kiln::vjp(get(fun), get(primals), get(cotangents));
    kiln_c::set(res_0, std::move(outputs));
    kiln_c::set(res_1, std::move(vjps));
  })
}
int mlx_jvp(mlx_vector_array* res_0, mlx_vector_array* res_1, const mlx_closure fun,
            const mlx_vector_array primals, const mlx_vector_array tangents) {
  KILN_C_TRY({
    auto [outputs, jvps] = kiln::jvp(get(fun), get(primals), get(tangents));
    kiln_c::set(res_0, std::move(outputs));
    kiln_c::set(res_1, std::move(jvps));
  })
}
int mlx_value_and_grad(mlx_closure_value_and_grad* res, const mlx_closure fun, const int* argnums,
                       size_t argnums_num) {
  KILN_C_TRY(kiln_c::set_as(res, kiln::value_and_grad(get(fun), std::vector<int>(argnums, argnums + argnums_num))))
}
int mlx_compile(mlx_closure* res, const mlx_closure fun, bool shapeless) {
  KILN_C_TRY(kiln_c::set_as(res, kiln_c::ArrayFn(kiln::compile(get(fun), shapeless))))
}
int mlx_disable_compile(void) { KILN_C_TRY(kiln::disable_compile()) }
int mlx_enable_compile(void) { KILN_C_TRY(kiln::enable_compile()) }
}
