#pragma once
// Shared by the C API's sources: each C handle's ctx points to a heap copy of
// the C++ object (kiln::array, kiln::Stream, std::vector<array>, ...). C++
// arrays are reference-counted, so a handle costs one small allocation.
#include <exception>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <kiln/kiln.h>

#include "kiln/c/array.h"
#include "kiln/c/closure.h"
#include "kiln/c/optional.h"
#include "kiln/c/stream.h"
#include "kiln/c/vector.h"

namespace kiln_c {

using ArrayFn = std::function<std::vector<kiln::array>(const std::vector<kiln::array>&)>;
using ValueAndGradFn = kiln::ValueAndGradFn;

// Passes the message to the error handler (error.cpp); returns 1.
int report(const std::exception& e);
int report(const char* msg);

template <typename T, typename Handle>
T& get_as(const Handle& h, const char* what) {
  if (!h.ctx) throw std::invalid_argument(std::string("[kiln c] empty ") + what + " handle");
  return *static_cast<T*>(h.ctx);
}
// Stores v in *h: replaces the object of a non-empty handle, allocates one
// for an empty handle (as mlx-c's *_set_).
template <typename T, typename Handle>
void set_as(Handle* h, T v) {
  if (!h) throw std::invalid_argument("[kiln c] null result pointer");
  if (h->ctx) *static_cast<T*>(h->ctx) = std::move(v);
  else h->ctx = new T(std::move(v));
}

inline kiln::array& get(const mlx_array& a) { return get_as<kiln::array>(a, "mlx_array"); }
inline std::vector<kiln::array>& get(const mlx_vector_array& v) {
  return get_as<std::vector<kiln::array>>(v, "mlx_vector_array");
}
inline kiln::Stream& get(const mlx_stream& s) { return get_as<kiln::Stream>(s, "mlx_stream"); }
inline kiln::Device& get(const mlx_device& d) { return get_as<kiln::Device>(d, "mlx_device"); }
inline ArrayFn& get(const mlx_closure& c) { return get_as<ArrayFn>(c, "mlx_closure"); }

inline void set(mlx_array* h, kiln::array v) { set_as(h, std::move(v)); }
inline void set(mlx_vector_array* h, std::vector<kiln::array> v) { set_as(h, std::move(v)); }

inline std::optional<kiln::array> optional(const mlx_array& a) {
  if (!a.ctx) return std::nullopt;
  return get(a);
}
inline std::optional<float> optional(const mlx_optional_float& f) {
  if (!f.has_value) return std::nullopt;
  return f.value;
}

// mlx-c's dtype enum has kiln's order (MLX's, with float64 after float32).
inline kiln::Dtype to_dtype(mlx_dtype d) {
  if (int(d) < 0 || int(d) >= kiln::kNumDtypes) throw std::invalid_argument("[kiln c] unknown mlx_dtype");
  return kiln::Dtype(static_cast<kiln::Dtype::Val>(d));
}
inline mlx_dtype to_c(kiln::Dtype d) { return static_cast<mlx_dtype>(d.val); }

}  // namespace kiln_c

// Runs body; on an exception reports it and returns 1, else returns 0.
#define KILN_C_TRY(...)                         \
  try {                                         \
    __VA_ARGS__;                                \
  } catch (const std::exception& e) {           \
    return kiln_c::report(e);                   \
  }                                             \
  return 0;
