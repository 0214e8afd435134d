// The addon's entry point: require('kiln') gives { core } (index.js wraps
// this module), core holding class array, the dtypes, every op (generated,
// node_ops.cpp; random/linalg/fft ops under core.random, core.linalg,
// core.fft), the ops that take an array first as array methods, and the
// transformations.
#include <cstring>

#include <napi.h>

#include "node/args.h"
#include "node/array_wrap.h"
#include "node/dtype.h"
#include "node/transforms.h"

namespace kiln_node {

Napi::Object init(Napi::Env env, Napi::Object exports) {
  Napi::Object core = Napi::Object::New(env);
  init_dtypes(env, core);
  Napi::Function array_class = init_array_class(env, core);

  Napi::Object proto = array_class.Get("prototype").As<Napi::Object>();
  for (size_t i = 0; i < kMethodCount; ++i)
    proto.Set(kMethods[i].name, Napi::Function::New(env, kMethods[i].fn, kMethods[i].name));

  for (const char* ns : {"random", "linalg", "fft"}) core.Set(ns, Napi::Object::New(env));
  for (size_t i = 0; i < kOpCount; ++i) {
    const OpBinding& op = kOps[i];
    Napi::Object target = *op.ns ? core.Get(op.ns).As<Napi::Object>() : core;
    target.Set(op.name, Napi::Function::New(env, op.fn, op.name));
  }

  init_transforms(env, core);
  exports.Set("core", core);
  return exports;
}

}  // namespace kiln_node

// (The macro wants a plain identifier.)
static Napi::Object init_kiln(Napi::Env env, Napi::Object exports) { return kiln_node::init(env, exports); }
NODE_API_MODULE(kiln, init_kiln)
