#include "node/array_wrap.h"

#include <cmath>
#include <cstring>
#include <sstream>
#include <string>
#include <unordered_set>

#include "node/dtype.h"
#include "node/errors.h"

namespace kiln_node {
namespace {

// Marks the JS objects that wrap a kiln::array (napi_type_tag_object):
// cheaper than instanceof, and not fooled by prototype games.
const napi_type_tag kArrayTag = {0x6b696c6e61727261ULL, 0x795f6e6f64655f31ULL};

class JsArray;
// The arrays made while each mx.tidy runs (the innermost last).
auto* tidy_scopes = new std::vector<std::unordered_set<JsArray*>>();

class JsArray : public Napi::ObjectWrap<JsArray> {
 public:
  // new mx.array(value, dtype?); from C++ with an External holding the array.
  explicit JsArray(const Napi::CallbackInfo& info) : Napi::ObjectWrap<JsArray>(info) {
    guarded(info.Env(), [&] {
      if (info[0].IsExternal()) {
        value.emplace(*info[0].As<Napi::External<kiln::array>>().Data());
      } else {
        std::optional<kiln::Dtype> dtype;
        if (info.Length() > 1 && !info[1].IsUndefined()) {
          dtype = dtype_from_js(info[1]);
          if (!dtype) throw TypeMismatch("[array] The dtype must be an mx dtype (mx.float32, ...).");
        }
        value.emplace(array_from_js(info[0], dtype));
      }
      NAPI_THROW_IF_FAILED(info.Env(), napi_type_tag_object(info.Env(), info.This(), &kArrayTag),
                           info.Env().Undefined());
      // V8 sees a small object; telling it the array's size makes it
      // collect dead arrays (and free their buffers) as memory fills.
      external_bytes = int64_t(value->nbytes());
      Napi::MemoryManagement::AdjustExternalMemory(info.Env(), external_bytes);
      if (!tidy_scopes->empty()) tidy_scopes->back().insert(this);
      return info.Env().Undefined();
    });
  }
  ~JsArray() override {
    if (external_bytes) Napi::MemoryManagement::AdjustExternalMemory(Env(), -external_bytes);
    for (auto& scope : *tidy_scopes) scope.erase(this);
  }

  Napi::Value shape(const Napi::CallbackInfo& info) { return to_js(info.Env(), get().shape()); }
  Napi::Value dtype(const Napi::CallbackInfo& info) { return to_js(info.Env(), get().dtype()); }
  Napi::Value ndim(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), double(get().ndim())); }
  Napi::Value size(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), double(get().size())); }
  Napi::Value itemsize(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), double(get().itemsize()));
  }
  Napi::Value nbytes(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), double(get().nbytes()));
  }
  Napi::Value length(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      if (get().ndim() == 0) throw TypeMismatch("[array] A 0-dimensional array has no length.");
      return Napi::Number::New(info.Env(), get().shape(0));
    });
  }
  Napi::Value transposed(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&] { return to_js(info.Env(), kiln::transpose(get())); });
  }
  Napi::Value item(const Napi::CallbackInfo& info);
  Napi::Value tolist(const Napi::CallbackInfo& info);
  Napi::Value to_typed_array(const Napi::CallbackInfo& info);
  Napi::Value to_string(const Napi::CallbackInfo& info);

  // The array; throws once mx.dispose or mx.tidy released it.
  kiln::array& get() {
    if (!value) throw Napi::Error::New(Env(), "[array] This array was disposed (mx.dispose or mx.tidy).");
    return *value;
  }
  // Releases the array now, not when V8 collects this object.
  void dispose() {
    value.reset();
    if (external_bytes) Napi::MemoryManagement::AdjustExternalMemory(Env(), -external_bytes);
    external_bytes = 0;
  }

  std::optional<kiln::array> value;  // empty while being constructed and once disposed
  int64_t external_bytes = 0;        // reported to V8
};

Napi::FunctionReference* constructor = nullptr;

// An evaluated array's buffer (array::data<T> wants T of the element's size).
const void* bytes_of(kiln::array& a) {
  switch (a.itemsize()) {
    case 1: return a.data<uint8_t>();
    case 2: return a.data<uint16_t>();
    case 4: return a.data<uint32_t>();
    default: return a.data<uint64_t>();
  }
}

// Element i of an evaluated array as a JS value (int64 and uint64 as
// numbers, exact up to 2^53, as node-mlx; complex as {re, im}).
Napi::Value element(Napi::Env env, const kiln::array& a, size_t i) {
  using namespace kiln;
  switch (a.dtype().val) {
    case Dtype::Val::bool_: return Napi::Boolean::New(env, a.data<bool>()[i]);
    case Dtype::Val::uint8: return Napi::Number::New(env, a.data<uint8_t>()[i]);
    case Dtype::Val::uint16: return Napi::Number::New(env, a.data<uint16_t>()[i]);
    case Dtype::Val::uint32: return Napi::Number::New(env, a.data<uint32_t>()[i]);
    case Dtype::Val::uint64: return Napi::Number::New(env, double(a.data<uint64_t>()[i]));
    case Dtype::Val::int8: return Napi::Number::New(env, a.data<int8_t>()[i]);
    case Dtype::Val::int16: return Napi::Number::New(env, a.data<int16_t>()[i]);
    case Dtype::Val::int32: return Napi::Number::New(env, a.data<int32_t>()[i]);
    case Dtype::Val::int64: return Napi::Number::New(env, double(a.data<int64_t>()[i]));
    case Dtype::Val::float16: return Napi::Number::New(env, float(a.data<float16_t>()[i]));
    case Dtype::Val::bfloat16: return Napi::Number::New(env, float(a.data<bfloat16_t>()[i]));
    case Dtype::Val::float32: return Napi::Number::New(env, a.data<float>()[i]);
    case Dtype::Val::float64: return Napi::Number::New(env, a.data<double>()[i]);
    case Dtype::Val::complex64: {
      complex64_t c = a.data<complex64_t>()[i];
      Napi::Object o = Napi::Object::New(env);
      o.Set("re", c.real());
      o.Set("im", c.imag());
      return o;
    }
  }
  return env.Undefined();
}

Napi::Value JsArray::item(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&] {
    kiln::array& a = get();
    if (a.size() != 1)
      throw std::invalid_argument("[item] Only an array of one element converts to a scalar; this one has " +
                                  std::to_string(a.size()) + ".");
    a.eval();
    return element(info.Env(), a, 0);
  });
}

Napi::Value nested(Napi::Env env, const kiln::array& a, size_t dim, size_t& next) {
  if (dim == a.ndim()) return element(env, a, next++);
  uint32_t n = uint32_t(a.shape(int(dim)));
  Napi::Array out = Napi::Array::New(env, n);
  for (uint32_t i = 0; i < n; ++i) out.Set(i, nested(env, a, dim + 1, next));
  return out;
}

Napi::Value JsArray::tolist(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&] {
    kiln::array& a = get();
    a.eval();
    size_t next = 0;
    return nested(info.Env(), a, 0, next);
  });
}

// The TypedArray of a dtype: float16/bfloat16 widen to Float32Array, bool
// is a Uint8Array of 0/1, complex64 a Float32Array of (re, im) pairs.
Napi::Value JsArray::to_typed_array(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    using namespace kiln;
    kiln::array a = get();
    napi_typedarray_type type;
    size_t per_element = 1;
    switch (a.dtype().val) {
      case Dtype::Val::bool_: a = astype(a, uint8); type = napi_uint8_array; break;
      case Dtype::Val::uint8: type = napi_uint8_array; break;
      case Dtype::Val::uint16: type = napi_uint16_array; break;
      case Dtype::Val::uint32: type = napi_uint32_array; break;
      case Dtype::Val::uint64: type = napi_biguint64_array; break;
      case Dtype::Val::int8: type = napi_int8_array; break;
      case Dtype::Val::int16: type = napi_int16_array; break;
      case Dtype::Val::int32: type = napi_int32_array; break;
      case Dtype::Val::int64: type = napi_bigint64_array; break;
      case Dtype::Val::float16:
      case Dtype::Val::bfloat16: a = astype(a, float32); type = napi_float32_array; break;
      case Dtype::Val::float32: type = napi_float32_array; break;
      case Dtype::Val::float64: type = napi_float64_array; break;
      case Dtype::Val::complex64: type = napi_float32_array; per_element = 2; break;
    }
    a.eval();
    Napi::ArrayBuffer buf = Napi::ArrayBuffer::New(info.Env(), a.nbytes());
    if (a.nbytes()) std::memcpy(buf.Data(), bytes_of(a), a.nbytes());
    napi_value out;
    NAPI_THROW_IF_FAILED(info.Env(), napi_create_typedarray(info.Env(), type, a.size() * per_element, buf, 0, &out),
                         Napi::Value());
    return Napi::Value(info.Env(), out);
  });
}

Napi::Value JsArray::to_string(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&] {
    std::ostringstream os;
    os << get();
    return Napi::String::New(info.Env(), os.str());
  });
}

// --- JS values to arrays ---------------------------------------------------

// The dtype of a JS number or boolean next to an array of dtype `partner`.
kiln::Dtype scalar_dtype(bool is_bool, double v, std::optional<kiln::Dtype> partner) {
  if (!partner) return is_bool ? kiln::bool_ : kiln::float32;
  if (is_bool || kiln::is_inexact(*partner)) return *partner;
  if (kiln::is_integral(*partner) && std::floor(v) == v && std::isfinite(v)) return *partner;
  return kiln::float32;
}

// Walks a nested JS Array: its shape from the first elements, then every
// leaf, checking that the nesting is regular.
struct NestedReader {
  kiln::Shape shape;
  std::vector<double> data;
  bool all_bool = true;

  void read_shape(Napi::Value v) {
    while (v.IsArray()) {
      Napi::Array a = v.As<Napi::Array>();
      shape.push_back(int32_t(a.Length()));
      if (a.Length() == 0) return;
      v = a.Get(uint32_t(0));
    }
  }
  void read(const Napi::Value& v, size_t dim) {
    if (dim == shape.size()) {
      if (v.IsNumber()) {
        all_bool = false;
        data.push_back(v.As<Napi::Number>().DoubleValue());
      } else if (v.IsBoolean()) {
        data.push_back(v.As<Napi::Boolean>().Value() ? 1.0 : 0.0);
      } else if (v.IsArray()) {
        throw TypeMismatch("[array] The nested lists have different depths.");
      } else {
        throw TypeMismatch("[array] The leaves of a nested list must be numbers or booleans (use mx.stack for "
                           "arrays).");
      }
      return;
    }
    if (!v.IsArray() || v.As<Napi::Array>().Length() != uint32_t(shape[dim]))
      throw TypeMismatch("[array] The nested lists are not regular (each level must have one length).");
    Napi::Array a = v.As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); ++i) read(a.Get(i), dim + 1);
  }
};

kiln::array from_typed_array(const Napi::TypedArray& t) {
  kiln::Dtype d;
  switch (t.TypedArrayType()) {
    case napi_int8_array: d = kiln::int8; break;
    case napi_uint8_array:
    case napi_uint8_clamped_array: d = kiln::uint8; break;
    case napi_int16_array: d = kiln::int16; break;
    case napi_uint16_array: d = kiln::uint16; break;
    case napi_int32_array: d = kiln::int32; break;
    case napi_uint32_array: d = kiln::uint32; break;
    case napi_float32_array: d = kiln::float32; break;
    case napi_float64_array: d = kiln::float64; break;
    case napi_bigint64_array: d = kiln::int64; break;
    case napi_biguint64_array: d = kiln::uint64; break;
    default: throw TypeMismatch("[array] Unsupported TypedArray type.");
  }
  const uint8_t* bytes = static_cast<const uint8_t*>(t.ArrayBuffer().Data()) + t.ByteOffset();
  return kiln::array(static_cast<const void*>(bytes), kiln::Shape{int32_t(t.ElementLength())}, d);
}

std::string type_name(const Napi::Value& v) {
  switch (v.Type()) {
    case napi_undefined: return "undefined";
    case napi_null: return "null";
    case napi_string: return "a string";
    case napi_function: return "a function";
    case napi_object: return "an object";
    default: return "this value";
  }
}

// The mx.arrays in a JS value: an mx.array, or Arrays and plain objects of them.
void collect_wrappers(const Napi::Value& v, std::vector<JsArray*>& out, int depth = 0) {
  if (depth > 64) return;  // a cycle, or deeper than any tree of arrays
  if (is_array(v)) {
    out.push_back(JsArray::Unwrap(v.As<Napi::Object>()));
  } else if (v.IsArray()) {
    Napi::Array a = v.As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); ++i) collect_wrappers(a.Get(i), out, depth + 1);
  } else if (v.IsObject() && !v.IsFunction() && !v.IsTypedArray() && !v.IsArrayBuffer()) {
    Napi::Object o = v.As<Napi::Object>();
    Napi::Array keys = o.GetPropertyNames();
    for (uint32_t i = 0; i < keys.Length(); ++i) collect_wrappers(o.Get(keys.Get(i)), out, depth + 1);
  }
}

// mx.tidy(fn) (or tidy(name, fn), as node-mlx): runs fn and then releases
// every array made meanwhile that fn's result (an array, or Arrays and
// objects of them) does not hold. V8 runs the finalizers of dead arrays
// only between turns of the event loop, so a synchronous loop (a training
// loop) would otherwise keep every intermediate array's memory.
Napi::Value tidy(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    Napi::Value fn = info[info.Length() > 1 && info[0].IsString() ? 1 : 0];
    if (!fn.IsFunction()) throw TypeMismatch("[tidy] The argument must be a function.");
    tidy_scopes->emplace_back();
    auto close = [](const std::vector<JsArray*>& kept) {
      std::unordered_set<JsArray*> made = std::move(tidy_scopes->back());
      tidy_scopes->pop_back();
      for (JsArray* a : kept)  // results belong to the enclosing tidy, if any
        if (made.erase(a) && !tidy_scopes->empty()) tidy_scopes->back().insert(a);
      for (JsArray* a : made) a->dispose();
    };
    Napi::Value result;
    try {
      result = fn.As<Napi::Function>().Call({});
    } catch (...) {
      close({});
      throw;
    }
    std::vector<JsArray*> kept;
    collect_wrappers(result, kept);
    close(kept);
    return result;
  });
}

// mx.dispose(...trees): releases the arrays now.
Napi::Value dispose(const Napi::CallbackInfo& info) {
  std::vector<JsArray*> arrays;
  for (size_t i = 0; i < info.Length(); ++i) collect_wrappers(info[i], arrays);
  for (JsArray* a : arrays) a->dispose();
  return info.Env().Undefined();
}

}  // namespace

void collect_arrays(const Napi::Value& tree, std::vector<kiln::array>& out) {
  std::vector<JsArray*> wrappers;
  collect_wrappers(tree, wrappers);
  for (JsArray* a : wrappers) out.push_back(a->get());
}

Napi::Function init_array_class(Napi::Env env, Napi::Object exports) {
  Napi::Function cls = JsArray::DefineClass(
      env, "array",
      {JsArray::InstanceAccessor<&JsArray::shape>("shape"), JsArray::InstanceAccessor<&JsArray::dtype>("dtype"),
       JsArray::InstanceAccessor<&JsArray::ndim>("ndim"), JsArray::InstanceAccessor<&JsArray::size>("size"),
       JsArray::InstanceAccessor<&JsArray::itemsize>("itemsize"),
       JsArray::InstanceAccessor<&JsArray::nbytes>("nbytes"),
       JsArray::InstanceAccessor<&JsArray::length>("length"),
       JsArray::InstanceAccessor<&JsArray::transposed>("T"), JsArray::InstanceMethod<&JsArray::item>("item"),
       JsArray::InstanceMethod<&JsArray::tolist>("tolist"),
       JsArray::InstanceMethod<&JsArray::to_typed_array>("toTypedArray"),
       JsArray::InstanceMethod<&JsArray::to_string>("toString")});
  constructor = new Napi::FunctionReference(Napi::Persistent(cls));
  exports.Set("array", cls);
  exports.Set("tidy", Napi::Function::New(env, tidy, "tidy"));
  exports.Set("dispose", Napi::Function::New(env, dispose, "dispose"));
  return cls;
}

bool is_array(const Napi::Value& v) {
  bool tagged = false;
  return v.IsObject() && napi_check_object_type_tag(v.Env(), v, &kArrayTag, &tagged) == napi_ok && tagged;
}

const kiln::array& unwrap(const Napi::Value& v) { return JsArray::Unwrap(v.As<Napi::Object>())->get(); }

bool convertible_to_array(const Napi::Value& v) {
  return is_array(v) || v.IsNumber() || v.IsBoolean() || v.IsBigInt() || v.IsArray() || v.IsTypedArray();
}

kiln::array array_from_js(const Napi::Value& v, std::optional<kiln::Dtype> dtype, std::optional<kiln::Dtype> partner) {
  auto convert = [&](kiln::array a) { return dtype && *dtype != a.dtype() ? kiln::astype(a, *dtype) : a; };
  if (is_array(v)) return convert(unwrap(v));
  if (v.IsNumber()) {
    double x = v.As<Napi::Number>().DoubleValue();
    return kiln::array(x, dtype.value_or(scalar_dtype(false, x, partner)));
  }
  if (v.IsBoolean()) {
    bool b = v.As<Napi::Boolean>().Value();
    return kiln::array(b, dtype.value_or(scalar_dtype(true, 0, partner)));
  }
  if (v.IsBigInt()) {
    bool lossless;
    int64_t x = v.As<Napi::BigInt>().Int64Value(&lossless);
    return kiln::array(x, dtype.value_or(kiln::int64));
  }
  if (v.IsTypedArray()) return convert(from_typed_array(v.As<Napi::TypedArray>()));
  if (v.IsArray()) {
    NestedReader r;
    r.read_shape(v);
    r.read(v, 0);
    kiln::Dtype d = dtype.value_or(r.all_bool && !r.data.empty() ? kiln::bool_ : kiln::float32);
    return kiln::array(r.data.begin(), r.shape, d);
  }
  throw TypeMismatch("[array] Cannot make an array from " + type_name(v) + ".");
}

Napi::Value to_js(Napi::Env env, kiln::array a) {
  return constructor->New({Napi::External<kiln::array>::New(env, &a)});
}

Napi::Value to_js(Napi::Env env, const std::vector<kiln::array>& arrays) {
  Napi::Array out = Napi::Array::New(env, arrays.size());
  for (uint32_t i = 0; i < arrays.size(); ++i) out.Set(i, to_js(env, arrays[i]));
  return out;
}

Napi::Value to_js(Napi::Env env, const std::pair<kiln::array, kiln::array>& arrays) {
  Napi::Array out = Napi::Array::New(env, 2);
  out.Set(uint32_t(0), to_js(env, arrays.first));
  out.Set(uint32_t(1), to_js(env, arrays.second));
  return out;
}

Napi::Value to_js(Napi::Env env, const kiln::Shape& shape) {
  Napi::Array out = Napi::Array::New(env, shape.size());
  for (uint32_t i = 0; i < shape.size(); ++i) out.Set(i, Napi::Number::New(env, shape[i]));
  return out;
}

}  // namespace kiln_node
