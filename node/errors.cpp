#include "node/errors.h"

#include <cstring>

namespace kiln_node {

Napi::Error to_js_error(Napi::Env env, const std::exception& e) {
  const char* msg = e.what();
  if (dynamic_cast<const TypeMismatch*>(&e)) return Napi::TypeError::New(env, msg);
  // An index or axis outside its range ("[sum] Axis 3 is out of bounds for
  // array with 2 dimensions"): kiln throws std::invalid_argument as MLX
  // does; JS's RangeError says what went wrong.
  if (dynamic_cast<const std::out_of_range*>(&e) || dynamic_cast<const std::length_error*>(&e) ||
      std::strstr(msg, "out of bounds") || std::strstr(msg, "out of range"))
    return Napi::RangeError::New(env, msg);
  return Napi::Error::New(env, msg);
}

}  // namespace kiln_node
