// The C API's vectors of arrays.
#include "c/private.h"
#include "kiln/c/vector.h"

using kiln_c::get;

namespace {
std::vector<kiln::array> to_vector(const mlx_array* data, size_t size) {
  std::vector<kiln::array> v;
  v.reserve(size);
  for (size_t i = 0; i < size; ++i) v.push_back(get(data[i]));
  return v;
}
}  // namespace

extern "C" {
mlx_vector_array mlx_vector_array_new(void) { return mlx_vector_array{new std::vector<kiln::array>()}; }
int mlx_vector_array_set(mlx_vector_array* vec, const mlx_vector_array src) { KILN_C_TRY(kiln_c::set(vec, get(src))) }
int mlx_vector_array_free(mlx_vector_array vec) {
  delete static_cast<std::vector<kiln::array>*>(vec.ctx);
  return 0;
}
mlx_vector_array mlx_vector_array_new_data(const mlx_array* data, size_t size) {
  try {
    return mlx_vector_array{new std::vector<kiln::array>(to_vector(data, size))};
  } catch (const std::exception& e) {
    kiln_c::report(e);
    return mlx_vector_array{nullptr};
  }
}
mlx_vector_array mlx_vector_array_new_value(const mlx_array val) { return mlx_vector_array_new_data(&val, 1); }
int mlx_vector_array_set_data(mlx_vector_array* vec, const mlx_array* data, size_t size) {
  KILN_C_TRY(kiln_c::set(vec, to_vector(data, size)))
}
int mlx_vector_array_set_value(mlx_vector_array* vec, const mlx_array val) {
  return mlx_vector_array_set_data(vec, &val, 1);
}
int mlx_vector_array_append_data(mlx_vector_array vec, const mlx_array* data, size_t size) {
  KILN_C_TRY({
    auto more = to_vector(data, size);
    auto& v = get(vec);
    v.insert(v.end(), more.begin(), more.end());
  })
}
int mlx_vector_array_append_value(mlx_vector_array vec, const mlx_array val) {
  return mlx_vector_array_append_data(vec, &val, 1);
}
size_t mlx_vector_array_size(mlx_vector_array vec) { return vec.ctx ? get(vec).size() : 0; }
int mlx_vector_array_get(mlx_array* res, const mlx_vector_array vec, size_t idx) {
  KILN_C_TRY({
    auto& v = get(vec);
    if (idx >= v.size())
      throw std::invalid_argument("[mlx_vector_array_get] index " + std::to_string(idx) + " out of range for size " +
                                  std::to_string(v.size()));
    kiln_c::set(res, v[idx]);
  })
}
}
