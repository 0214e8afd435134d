#include "node/dtype.h"

#include <array>
#include <string>

namespace kiln_node {
namespace {

constexpr kiln::Dtype kAll[kiln::kNumDtypes] = {
    kiln::bool_,   kiln::uint8,   kiln::uint16,  kiln::uint32,   kiln::uint64,
    kiln::int8,    kiln::int16,   kiln::int32,   kiln::int64,    kiln::float16,
    kiln::float32, kiln::float64, kiln::bfloat16, kiln::complex64};

class JsDtype : public Napi::ObjectWrap<JsDtype> {
 public:
  // Constructed only by init_dtypes, with the dtype's index.
  explicit JsDtype(const Napi::CallbackInfo& info) : Napi::ObjectWrap<JsDtype>(info) {
    if (!info[0].IsNumber()) throw Napi::TypeError::New(info.Env(), "Dtype objects are mx.float32, mx.int32, ...");
    uint32_t i = info[0].As<Napi::Number>().Uint32Value();
    if (i >= uint32_t(kiln::kNumDtypes)) throw Napi::RangeError::New(info.Env(), "no such dtype");
    dtype = kAll[i];
  }
  Napi::Value size(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), dtype.size()); }
  Napi::Value name(const Napi::CallbackInfo& info) {
    return Napi::String::New(info.Env(), kiln::dtype_name(dtype));
  }
  kiln::Dtype dtype;
};

// The constructor and the one object per dtype (the addon lives in one
// environment: the main thread's).
Napi::FunctionReference* constructor = nullptr;
std::array<Napi::ObjectReference, kiln::kNumDtypes>* objects = nullptr;

int index_of(kiln::Dtype d) {
  for (int i = 0; i < kiln::kNumDtypes; ++i)
    if (kAll[i] == d) return i;
  return 0;
}

}  // namespace

void init_dtypes(Napi::Env env, Napi::Object exports) {
  Napi::Function cls = JsDtype::DefineClass(
      env, "Dtype",
      {JsDtype::InstanceAccessor<&JsDtype::size>("size"), JsDtype::InstanceMethod<&JsDtype::name>("toString"),
       JsDtype::InstanceAccessor<&JsDtype::name>("name")});
  constructor = new Napi::FunctionReference(Napi::Persistent(cls));
  objects = new std::array<Napi::ObjectReference, kiln::kNumDtypes>();
  exports.Set("Dtype", cls);
  for (int i = 0; i < kiln::kNumDtypes; ++i) {
    Napi::Object o = cls.New({Napi::Number::New(env, i)});
    (*objects)[i] = Napi::Persistent(o);
    std::string name = kiln::dtype_name(kAll[i]);
    exports.Set(name, o);
    if (name == "bool") exports.Set("bool_", o);
  }
  // The categories, for mx.issubdtype.
  const std::pair<const char*, kiln::DtypeCategory> categories[] = {
      {"complexfloating", kiln::complexfloating}, {"floating", kiln::floating},
      {"inexact", kiln::inexact},                 {"signedinteger", kiln::signedinteger},
      {"unsignedinteger", kiln::unsignedinteger}, {"integer", kiln::integer},
      {"number", kiln::number},                   {"generic", kiln::generic}};
  for (auto& [name, c] : categories) exports.Set(name, Napi::Number::New(env, int(c)));
}

Napi::Value to_js(Napi::Env env, kiln::Dtype dtype) { return (*objects)[index_of(dtype)].Value(); }

std::optional<kiln::Dtype> dtype_from_js(const Napi::Value& v) {
  if (v.IsString()) {
    std::string s = v.As<Napi::String>().Utf8Value();
    if (s == "bool_") s = "bool";
    for (kiln::Dtype d : kAll)
      if (kiln::dtype_name(d) == s) return d;
    return std::nullopt;
  }
  if (v.IsObject() && v.As<Napi::Object>().InstanceOf(constructor->Value()))
    return JsDtype::Unwrap(v.As<Napi::Object>())->dtype;
  return std::nullopt;
}

}  // namespace kiln_node
