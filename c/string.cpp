// The C API's strings.
#include "c/private.h"
#include "kiln/c/string.h"

extern "C" {
mlx_string mlx_string_new(void) { return mlx_string{nullptr}; }
mlx_string mlx_string_new_data(const char* str) { return mlx_string{new std::string(str ? str : "")}; }
int mlx_string_set(mlx_string* str, const mlx_string src) {
  KILN_C_TRY(kiln_c::set_as(str, kiln_c::get_as<std::string>(src, "mlx_string")))
}
const char* mlx_string_data(mlx_string str) { return str.ctx ? static_cast<std::string*>(str.ctx)->c_str() : nullptr; }
int mlx_string_free(mlx_string str) {
  delete static_cast<std::string*>(str.ctx);
  return 0;
}
}
