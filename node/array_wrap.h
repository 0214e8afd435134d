#pragma once
// mx.array: a JS object holding a kiln::array (node-mlx's class array), and
// the conversions between JS values and arrays.
//
//   JS -> array: an mx.array; a number (float32, as node-mlx) or boolean
//   (bool); a nested JS Array of numbers/booleans (its shape from the
//   nesting: float32, or bool if every leaf is a boolean); a TypedArray
//   (Float32Array -> float32, Int32Array -> int32, ..., BigInt64Array ->
//   int64; shape [length]). An explicit dtype converts.
//   array -> JS: a.item() (number or boolean), a.tolist() (nested Arrays),
//   a.toTypedArray() (the TypedArray of the dtype, a copy).
#include <optional>
#include <utility>
#include <vector>

#include <napi.h>

#include <kiln/kiln.h>

namespace kiln_node {

// Defines class array on `exports` (its op methods are added by
// module.cpp), and mx.tidy / mx.dispose, which release arrays before V8
// collects them.
Napi::Function init_array_class(Napi::Env env, Napi::Object exports);

// Whether v is an mx.array, and the array it holds.
bool is_array(const Napi::Value& v);
const kiln::array& unwrap(const Napi::Value& v);

// Any JS value above as an array, or throws TypeMismatch. A number or
// boolean takes `partner`'s dtype when given and the value fits its kind (a
// float array + 2 stays float; an int array + 2 stays int; an int array +
// 0.5 becomes float32), as MLX's scalars do.
kiln::array array_from_js(const Napi::Value& v, std::optional<kiln::Dtype> dtype = std::nullopt,
                          std::optional<kiln::Dtype> partner = std::nullopt);
// Whether array_from_js accepts v (without converting it).
bool convertible_to_array(const Napi::Value& v);

// The arrays in a JS value: an mx.array, or Arrays and plain objects of them.
void collect_arrays(const Napi::Value& tree, std::vector<kiln::array>& out);

// Results of ops as JS values.
Napi::Value to_js(Napi::Env env, kiln::array a);
Napi::Value to_js(Napi::Env env, const std::vector<kiln::array>& arrays);
Napi::Value to_js(Napi::Env env, const std::pair<kiln::array, kiln::array>& arrays);
Napi::Value to_js(Napi::Env env, const kiln::Shape& shape);

}  // namespace kiln_node
