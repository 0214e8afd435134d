// The C API's closures: C functions of vectors of arrays, callable by kiln's
// transformations as C++ functions.
#include <memory>

#include "c/private.h"
#include "kiln/c/closure.h"

using kiln_c::get;

namespace {
// Calls a C closure function: hands it a fresh input vector and result
// vector, frees both, and turns a non-zero status into an exception (which
// the transformation's entry point reports).
template <typename Call>
std::vector<kiln::array> call_c(const std::vector<kiln::array>& input, Call call) {
  mlx_vector_array in{new std::vector<kiln::array>(input)};
  mlx_vector_array out{new std::vector<kiln::array>()};
  int status = call(&out, in);
  mlx_vector_array_free(in);
  std::vector<kiln::array> result = out.ctx ? get(out) : std::vector<kiln::array>{};
  mlx_vector_array_free(out);
  if (status != 0) throw std::runtime_error("[mlx_closure] the closure's function returned " + std::to_string(status));
  return result;
}
mlx_closure new_closure(kiln_c::ArrayFn fn) { return mlx_closure{new kiln_c::ArrayFn(std::move(fn))}; }
using ValueAndGrad = kiln_c::ValueAndGradFn;
}  // namespace

extern "C" {
mlx_closure mlx_closure_new(void) { return mlx_closure{nullptr}; }
int mlx_closure_free(mlx_closure cls) {
  delete static_cast<kiln_c::ArrayFn*>(cls.ctx);
  return 0;
}
mlx_closure mlx_closure_new_func(int (*fun)(mlx_vector_array*, const mlx_vector_array)) {
  return new_closure([fun](const std::vector<kiln::array>& input) {
    return call_c(input, [fun](mlx_vector_array* out, mlx_vector_array in) { return fun(out, in); });
  });
}
mlx_closure mlx_closure_new_func_payload(int (*fun)(mlx_vector_array*, const mlx_vector_array, void*),
                                         void* payload, void (*dtor)(void*)) {
  // Shared: copies of the closure (compile, value_and_grad keep them) keep
  // the payload alive; the last one frees it.
  std::shared_ptr<void> owned(payload, [dtor](void* p) {
    if (dtor) dtor(p);
  });
  return new_closure([fun, owned](const std::vector<kiln::array>& input) {
    return call_c(input, [&](mlx_vector_array* out, mlx_vector_array in) { return fun(out, in, owned.get()); });
  });
}
mlx_closure mlx_closure_new_unary(int (*fun)(mlx_array*, const mlx_array)) {
  return new_closure([fun](const std::vector<kiln::array>& input) {
    if (input.size() != 1)
      throw std::invalid_argument("[mlx_closure] a unary closure got " + std::to_string(input.size()) + " inputs");
    mlx_array in{new kiln::array(input[0])};
    mlx_array out{nullptr};
    int status = fun(&out, in);
    mlx_array_free(in);
    std::vector<kiln::array> result;
    if (out.ctx) result.push_back(get(out));
    mlx_array_free(out);
    if (status != 0) throw std::runtime_error("[mlx_closure] the closure's function returned " + std::to_string(status));
    return result;
  });
}
int mlx_closure_set(mlx_closure* cls, const mlx_closure src) { KILN_C_TRY(kiln_c::set_as(cls, get(src))) }
int mlx_closure_apply(mlx_vector_array* res, mlx_closure cls, const mlx_vector_array input) {
  KILN_C_TRY(kiln_c::set(res, get(cls)(get(input))))
}

mlx_closure_value_and_grad mlx_closure_value_and_grad_new(void) { return mlx_closure_value_and_grad{nullptr}; }
int mlx_closure_value_and_grad_free(mlx_closure_value_and_grad cls) {
  delete static_cast<ValueAndGrad*>(cls.ctx);
  return 0;
}
int mlx_closure_value_and_grad_set(mlx_closure_value_and_grad* cls, const mlx_closure_value_and_grad src) {
  KILN_C_TRY(kiln_c::set_as(cls, kiln_c::get_as<ValueAndGrad>(src, "mlx_closure_value_and_grad")))
}
int mlx_closure_value_and_grad_apply(mlx_vector_array* res_0, mlx_vector_array* res_1,
                                     mlx_closure_value_and_grad cls, const mlx_vector_array input) {
  KILN_C_TRY({
    auto [values, grads] = kiln_c::get_as<ValueAndGrad>(cls, "mlx_closure_value_and_grad")(get(input));
    kiln_c::set(res_0, std::move(values));
    kiln_c::set(res_1, std::move(grads));
  })
}
}
