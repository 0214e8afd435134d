#pragma once
// mx.Dtype: one JS object per kiln dtype (mx.float32, ..., a.dtype), so that
// dtypes compare with ===, as node-mlx's. Each has .size (bytes) and
// .toString() ("float32").
#include <optional>

#include <napi.h>

#include <kiln/kiln.h>

namespace kiln_node {

// Defines class Dtype and the dtype constants on `exports`.
void init_dtypes(Napi::Env env, Napi::Object exports);

// The JS object of a dtype.
Napi::Value to_js(Napi::Env env, kiln::Dtype dtype);

// A Dtype object or a dtype's name ("float32", "bool"); nullopt otherwise.
std::optional<kiln::Dtype> dtype_from_js(const Napi::Value& v);

}  // namespace kiln_node
