// The function transformations on JS functions: mx.grad, valueAndGrad,
// vjp, jvp, vmap, compile (each returns or calls a JS function), and
// mx.eval. A JS function is wrapped as a kiln::ArrayFunction that calls it
// with mx.arrays and reads back an mx.array or an Array of them; kiln traces
// it like a C++ function (synchronously, on this thread), so a JS exception
// inside it propagates out of the transformation unchanged.
#include "node/transforms.h"

#include <memory>

#include "node/array_wrap.h"
#include "node/errors.h"

namespace kiln_node {
namespace {

// A JS function as a kiln function of arrays.
struct JsFunction {
  JsFunction(Napi::Env env, Napi::Function f) : env(env), fn(Napi::Persistent(f)) {}

  std::vector<kiln::array> operator()(const std::vector<kiln::array>& inputs) {
    Napi::HandleScope scope(env);
    std::vector<napi_value> args;
    for (const kiln::array& a : inputs) args.push_back(to_js(env, a));
    Napi::Value out = fn.Value().Call(args);  // throws Napi::Error if fn threw
    std::vector<kiln::array> outputs;
    if (out.IsArray()) {
      Napi::Array list = out.As<Napi::Array>();
      for (uint32_t i = 0; i < list.Length(); ++i) outputs.push_back(array_from_js(list.Get(i)));
      single = false;
    } else if (convertible_to_array(out)) {
      outputs.push_back(array_from_js(out));
      single = true;
    } else {
      throw TypeMismatch("The transformed function must return an mx.array or an Array of mx.arrays.");
    }
    n_outputs = outputs.size();
    return outputs;
  }

  Napi::Env env;
  Napi::FunctionReference fn;
  bool single = true;     // its last call returned one array, not an Array
  size_t n_outputs = 0;   // and this many (0: not called yet)
};

kiln::ArrayFunction as_array_function(const std::shared_ptr<JsFunction>& f) {
  return [f](const std::vector<kiln::array>& in) { return (*f)(in); };
}

std::shared_ptr<JsFunction> js_function(const Napi::CallbackInfo& info, const char* op) {
  if (info.Length() < 1 || !info[0].IsFunction())
    throw TypeMismatch(std::string("[") + op + "] The first argument must be a function.");
  return std::make_shared<JsFunction>(info.Env(), info[0].As<Napi::Function>());
}

// The arguments of a call of a transformed function, as arrays.
std::vector<kiln::array> inputs_of(const Napi::CallbackInfo& info) {
  std::vector<kiln::array> in;
  for (size_t i = 0; i < info.Length(); ++i) in.push_back(array_from_js(info[i]));
  return in;
}

std::vector<kiln::array> array_list(const Napi::Value& v, const char* op, const char* what) {
  if (is_array(v)) return {unwrap(v)};
  if (!v.IsArray()) throw TypeMismatch(std::string("[") + op + "] " + what + " must be an Array of mx.arrays.");
  std::vector<kiln::array> out;
  Napi::Array a = v.As<Napi::Array>();
  for (uint32_t i = 0; i < a.Length(); ++i) out.push_back(array_from_js(a.Get(i)));
  return out;
}

// An axis or argnum argument: undefined, one integer, or an Array of them.
struct IntsArg {
  bool given = false, single = false;
  std::vector<int> values;
};
IntsArg ints_arg(const Napi::Value& v, const char* op, const char* what) {
  IntsArg out;
  if (v.IsUndefined()) return out;
  out.given = true;
  if (v.IsNumber()) {
    out.single = true;
    out.values = {v.As<Napi::Number>().Int32Value()};
    return out;
  }
  if (!v.IsArray()) throw TypeMismatch(std::string("[") + op + "] " + what + " must be a number or an Array of numbers.");
  Napi::Array a = v.As<Napi::Array>();
  for (uint32_t i = 0; i < a.Length(); ++i) {
    if (!a.Get(i).IsNumber()) throw TypeMismatch(std::string("[") + op + "] " + what + " must hold numbers.");
    out.values.push_back(a.Get(i).As<Napi::Number>().Int32Value());
  }
  return out;
}

Napi::Value outputs_to_js(Napi::Env env, const JsFunction& f, const std::vector<kiln::array>& out) {
  return f.single && out.size() == 1 ? to_js(env, out[0]) : to_js(env, out);
}

// mx.grad(fn, argnums = 0) and mx.valueAndGrad(fn, argnums = 0): the
// gradient of fn's first output (a scalar) with respect to argument
// argnums: one array for a number, an Array for an Array of argnums.
Napi::Value grad_like(const Napi::CallbackInfo& info, bool with_value) {
  const char* op = with_value ? "valueAndGrad" : "grad";
  auto f = js_function(info, op);
  IntsArg argnums = ints_arg(info[1], op, "argnums");
  if (!argnums.given) argnums = {true, true, {0}};
  kiln::ValueAndGradFn vg = kiln::value_and_grad(as_array_function(f), argnums.values);
  bool single_grad = argnums.single;
  return Napi::Function::New(
      info.Env(),
      [vg, f, single_grad, with_value](const Napi::CallbackInfo& call) -> Napi::Value {
        return guarded(call.Env(), [&]() -> Napi::Value {
          Napi::Env env = call.Env();
          auto [values, grads] = vg(inputs_of(call));
          Napi::Value g = single_grad ? to_js(env, grads[0]) : to_js(env, grads);
          if (!with_value) return g;
          Napi::Array both = Napi::Array::New(env, 2);
          both.Set(uint32_t(0), outputs_to_js(env, *f, values));
          both.Set(uint32_t(1), g);
          return both;
        });
      },
      op);
}

Napi::Value grad(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&] { return grad_like(info, false); });
}
Napi::Value value_and_grad(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&] { return grad_like(info, true); });
}

// mx.vjp(fn, primals, cotangents) -> [outputs, vjps];
// mx.jvp(fn, primals, tangents) -> [outputs, jvps].
Napi::Value vjp_or_jvp(const Napi::CallbackInfo& info, bool reverse) {
  const char* op = reverse ? "vjp" : "jvp";
  auto f = js_function(info, op);
  std::vector<kiln::array> primals = array_list(info[1], op, "primals");
  std::vector<kiln::array> seeds = array_list(info[2], op, reverse ? "cotangents" : "tangents");
  auto [outs, products] = reverse ? kiln::vjp(as_array_function(f), primals, seeds)
                                  : kiln::jvp(as_array_function(f), primals, seeds);
  Napi::Array both = Napi::Array::New(info.Env(), 2);
  both.Set(uint32_t(0), to_js(info.Env(), outs));
  both.Set(uint32_t(1), to_js(info.Env(), products));
  return both;
}

Napi::Value vjp(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&] { return vjp_or_jvp(info, true); });
}
Napi::Value jvp(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&] { return vjp_or_jvp(info, false); });
}

// mx.vmap(fn, inAxes = 0, outAxes = 0): one number applies to every input
// (output), an Array gives each its own; -1 leaves it unmapped.
Napi::Value vmap(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&] {
    auto f = js_function(info, "vmap");
    IntsArg in_axes = ints_arg(info[1], "vmap", "inAxes");
    IntsArg out_axes = ints_arg(info[2], "vmap", "outAxes");
    return Napi::Function::New(
        info.Env(),
        [f, in_axes, out_axes](const Napi::CallbackInfo& call) -> Napi::Value {
          return guarded(call.Env(), [&] {
            std::vector<kiln::array> inputs = inputs_of(call);
            std::vector<int> in = in_axes.values, out = out_axes.values;
            if (in_axes.single) in.assign(inputs.size(), in_axes.values[0]);
            if (out_axes.single) {
              // One out axis for every output: their count is known once fn ran.
              if (f->n_outputs == 0) kiln::vmap(as_array_function(f), in, {})(inputs);
              out.assign(f->n_outputs, out_axes.values[0]);
            }
            std::vector<kiln::array> res = kiln::vmap(as_array_function(f), in, out)(inputs);
            return outputs_to_js(call.Env(), *f, res);
          });
        },
        "vmap");
  });
}

// mx.compile(fn, shapeless = false): fn traced once per input signature.
Napi::Value compile(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&] {
    auto f = js_function(info, "compile");
    bool shapeless = info.Length() > 1 && info[1].IsBoolean() && info[1].As<Napi::Boolean>().Value();
    kiln::ArrayFunction compiled = kiln::compile(as_array_function(f), shapeless);
    return Napi::Function::New(
        info.Env(),
        [compiled, f](const Napi::CallbackInfo& call) -> Napi::Value {
          return guarded(call.Env(), [&] { return outputs_to_js(call.Env(), *f, compiled(inputs_of(call))); });
        },
        "compiled");
  });
}

// mx.eval(...trees): evaluates every array in its arguments together.
Napi::Value eval(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&] {
    std::vector<kiln::array> arrays;
    for (size_t i = 0; i < info.Length(); ++i) collect_arrays(info[i], arrays);
    kiln::eval(arrays);
    return info.Env().Undefined();
  });
}

Napi::Value disable_compile(const Napi::CallbackInfo& info) {
  kiln::disable_compile();
  return info.Env().Undefined();
}
Napi::Value enable_compile(const Napi::CallbackInfo& info) {
  kiln::enable_compile();
  return info.Env().Undefined();
}

}  // namespace

void init_transforms(Napi::Env env, Napi::Object core) {
  const std::pair<const char*, Callback> fns[] = {
      {"grad", grad},       {"valueAndGrad", value_and_grad}, {"vjp", vjp},
      {"jvp", jvp},         {"vmap", vmap},                   {"compile", compile},
      {"eval", eval},       {"disableCompile", disable_compile}, {"enableCompile", enable_compile}};
  for (auto& [name, fn] : fns) core.Set(name, Napi::Function::New(env, fn, name));
}

}  // namespace kiln_node
