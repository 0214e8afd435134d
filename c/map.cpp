// The C API's string-to-array maps.
#include <unordered_map>

#include "c/private.h"
#include "kiln/c/map.h"

namespace {
using Map = std::unordered_map<std::string, kiln::array>;
Map& get(const mlx_map_string_to_array& m) { return kiln_c::get_as<Map>(m, "mlx_map_string_to_array"); }
}  // namespace

extern "C" {
mlx_map_string_to_array mlx_map_string_to_array_new(void) { return mlx_map_string_to_array{new Map()}; }
int mlx_map_string_to_array_set(mlx_map_string_to_array* map, const mlx_map_string_to_array src) {
  KILN_C_TRY(kiln_c::set_as(map, get(src)))
}
int mlx_map_string_to_array_free(mlx_map_string_to_array map) {
  delete static_cast<Map*>(map.ctx);
  return 0;
}
int mlx_map_string_to_array_insert(mlx_map_string_to_array map, const char* key, const mlx_array value) {
  KILN_C_TRY(get(map).insert_or_assign(std::string(key), kiln_c::get(value)))
}
int mlx_map_string_to_array_get(mlx_array* value, const mlx_map_string_to_array map, const char* key) {
  KILN_C_TRY({
    auto& m = get(map);
    auto it = m.find(key);
    if (it == m.end()) throw std::invalid_argument(std::string("[mlx_map_string_to_array_get] no key ") + key);
    kiln_c::set(value, it->second);
  })
}
}
