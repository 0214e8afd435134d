#pragma once
// mx.grad, valueAndGrad, vjp, jvp, vmap, compile on JS functions, and mx.eval.
#include <napi.h>

#include "node/args.h"

namespace kiln_node {

void init_transforms(Napi::Env env, Napi::Object core);

}  // namespace kiln_node
