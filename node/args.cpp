#include "node/args.h"

#include <cmath>
#include <limits>

#include "node/array_wrap.h"
#include "node/dtype.h"
#include "node/errors.h"

namespace kiln_node {
namespace {

bool is_integer(const Napi::Value& v) {
  if (!v.IsNumber()) return false;
  double d = v.As<Napi::Number>().DoubleValue();
  return std::isfinite(d) && std::floor(d) == d;
}

bool is_int_list(const Napi::Value& v, int64_t length = -1) {
  if (!v.IsArray()) return false;
  Napi::Array a = v.As<Napi::Array>();
  if (length >= 0 && a.Length() != uint64_t(length)) return false;
  for (uint32_t i = 0; i < a.Length(); ++i)
    if (!is_integer(a.Get(i))) return false;
  return true;
}

// How well JS value v fits a parameter: 3 exactly, 2 or 1 after a
// conversion (a number as an array, an integer as a shape), -1 not at all.
int score(Kind k, const Napi::Value& v) {
  switch (k) {
    case Kind::OptArray:
      if (v.IsNull()) return 3;
      [[fallthrough]];
    case Kind::Array:
      if (is_array(v)) return 3;
      if (v.IsTypedArray()) return 2;
      if (v.IsArray()) {  // a nested list of numbers, not of arrays
        Napi::Value first = v;
        while (first.IsArray() && first.As<Napi::Array>().Length() > 0) first = first.As<Napi::Array>().Get(uint32_t(0));
        return is_array(first) ? -1 : 1;
      }
      return v.IsNumber() || v.IsBoolean() || v.IsBigInt() ? 1 : -1;
    case Kind::Int: return is_integer(v) ? 3 : -1;
    case Kind::Bool: return v.IsBoolean() ? 3 : -1;
    // An integer fits an int parameter better than a double one, so that
    // arange(5) is arange(int) (int32), as in MLX.
    case Kind::Number: return v.IsNumber() ? (is_integer(v) ? 2 : 3) : -1;
    case Kind::UInt64: return v.IsBigInt() || (is_integer(v) && v.As<Napi::Number>().DoubleValue() >= 0) ? 3 : -1;
    case Kind::Size: return is_integer(v) && v.As<Napi::Number>().DoubleValue() >= 0 ? 3 : -1;
    case Kind::Dtype:
      if (!dtype_from_js(v)) return -1;
      return v.IsString() ? 2 : 3;
    case Kind::OptIntList:
      if (v.IsNull()) return 3;
      [[fallthrough]];
    case Kind::IntList:
      if (is_int_list(v)) return 3;
      return is_integer(v) ? 1 : -1;
    case Kind::ArrayList: {
      if (!v.IsArray()) return -1;
      Napi::Array a = v.As<Napi::Array>();
      bool all_arrays = true;
      for (uint32_t i = 0; i < a.Length(); ++i) {
        Napi::Value e = a.Get(i);
        if (!convertible_to_array(e)) return -1;
        all_arrays = all_arrays && is_array(e);
      }
      return all_arrays ? 3 : 1;
    }
    case Kind::String: return v.IsString() ? 3 : -1;
    case Kind::OptNumber: return v.IsNull() || v.IsNumber() ? 3 : -1;
    case Kind::IntPair: return is_int_list(v, 2) ? 3 : is_integer(v) ? 1 : -1;
    case Kind::IntTriple: return is_int_list(v, 3) ? 3 : is_integer(v) ? 1 : -1;
    case Kind::PairList: {
      if (!v.IsArray()) return -1;
      Napi::Array a = v.As<Napi::Array>();
      for (uint32_t i = 0; i < a.Length(); ++i)
        if (!is_int_list(a.Get(i), 2)) return -1;
      return 3;
    }
    case Kind::Int64List: return is_int_list(v) ? 3 : -1;
  }
  return -1;
}

std::string describe(const Napi::Value& v) {
  if (is_array(v)) return "array";
  switch (v.Type()) {
    case napi_undefined: return "undefined";
    case napi_null: return "null";
    case napi_boolean: return "boolean";
    case napi_number: return "number";
    case napi_string: return "string";
    case napi_bigint: return "bigint";
    case napi_function: return "function";
    default: break;
  }
  if (v.IsArray()) return "Array";
  if (v.IsTypedArray()) return "TypedArray";
  if (dtype_from_js(v)) return "Dtype";
  return "object";
}

int to_int(const Napi::Value& v) {
  double d = v.As<Napi::Number>().DoubleValue();
  if (d < double(std::numeric_limits<int>::min()) || d > double(std::numeric_limits<int>::max()))
    throw std::out_of_range("The integer " + std::to_string(int64_t(d)) + " is out of range for a 32-bit int.");
  return int(d);
}

std::vector<int> to_int_list(const Napi::Value& v) {
  if (!v.IsArray()) return {to_int(v)};
  Napi::Array a = v.As<Napi::Array>();
  std::vector<int> out(a.Length());
  for (uint32_t i = 0; i < a.Length(); ++i) out[i] = to_int(a.Get(i));
  return out;
}

}  // namespace

Args::Args(const Napi::CallbackInfo& info, bool method) : env_(info.Env()) {
  if (method) values_.push_back(info.This());
  size_t n = info.Length();
  while (n > 0 && info[n - 1].IsUndefined()) --n;  // trailing undefined: left out
  for (size_t i = 0; i < n; ++i) values_.push_back(info[i]);
  for (const Napi::Value& v : values_)
    if (is_array(v)) {
      partner_ = unwrap(v).dtype();
      break;
    }
}

size_t Args::pick(const Signature* sigs, size_t count, const char* name) const {
  int best = -1;
  size_t best_index = 0;
  for (size_t s = 0; s < count; ++s) {
    const Signature& sig = sigs[s];
    if (values_.size() > sig.params.size() || values_.size() < sig.required) continue;
    int total = 0;
    for (size_t i = 0; i < values_.size() && total >= 0; ++i) {
      if (values_[i].IsUndefined()) {
        total = i < sig.required ? -1 : total;
        continue;
      }
      int sc = score(sig.params[i], values_[i]);
      total = sc < 0 ? -1 : total + sc;
    }
    if (total > best) {
      best = total;
      best_index = s;
    }
  }
  if (best >= 0) return best_index;
  std::string got;
  for (size_t i = 0; i < values_.size(); ++i) got += (i ? ", " : "") + describe(values_[i]);
  std::string msg = std::string("[") + name + "] No overload takes (" + got + "). It takes:";
  for (size_t s = 0; s < count; ++s) msg += std::string("\n  ") + sigs[s].text;
  throw TypeMismatch(msg);
}

kiln::array Args::get_array(size_t i) const { return array_from_js(values_[i], std::nullopt, partner_); }
std::optional<kiln::array> Args::get_optarray(size_t i) const {
  if (values_[i].IsNull()) return std::nullopt;
  return get_array(i);
}
int Args::get_int(size_t i) const { return to_int(values_[i]); }
bool Args::get_bool(size_t i) const { return values_[i].As<Napi::Boolean>().Value(); }
double Args::get_number(size_t i) const { return values_[i].As<Napi::Number>().DoubleValue(); }
uint64_t Args::get_uint64(size_t i) const {
  if (values_[i].IsBigInt()) {
    bool lossless;
    return values_[i].As<Napi::BigInt>().Uint64Value(&lossless);
  }
  return uint64_t(values_[i].As<Napi::Number>().DoubleValue());
}
size_t Args::get_size(size_t i) const { return size_t(values_[i].As<Napi::Number>().DoubleValue()); }
kiln::Dtype Args::get_dtype(size_t i) const { return *dtype_from_js(values_[i]); }
std::vector<int> Args::get_intlist(size_t i) const { return to_int_list(values_[i]); }
std::optional<std::vector<int>> Args::get_optintlist(size_t i) const {
  if (values_[i].IsNull()) return std::nullopt;
  return to_int_list(values_[i]);
}
std::vector<kiln::array> Args::get_arraylist(size_t i) const {
  Napi::Array a = values_[i].As<Napi::Array>();
  std::optional<kiln::Dtype> partner;  // the first array of the list, as for separate arguments
  for (uint32_t k = 0; k < a.Length() && !partner; ++k)
    if (is_array(a.Get(k))) partner = unwrap(a.Get(k)).dtype();
  std::vector<kiln::array> out;
  for (uint32_t k = 0; k < a.Length(); ++k) out.push_back(array_from_js(a.Get(k), std::nullopt, partner));
  return out;
}
std::string Args::get_string(size_t i) const { return values_[i].As<Napi::String>().Utf8Value(); }
std::optional<float> Args::get_optnumber(size_t i) const {
  if (values_[i].IsNull()) return std::nullopt;
  return float(get_number(i));
}
std::pair<int, int> Args::get_intpair(size_t i) const {
  std::vector<int> v = to_int_list(values_[i]);
  return v.size() == 1 ? std::pair{v[0], v[0]} : std::pair{v[0], v[1]};
}
std::tuple<int, int, int> Args::get_inttriple(size_t i) const {
  std::vector<int> v = to_int_list(values_[i]);
  return v.size() == 1 ? std::tuple{v[0], v[0], v[0]} : std::tuple{v[0], v[1], v[2]};
}
std::vector<std::pair<int, int>> Args::get_pairlist(size_t i) const {
  Napi::Array a = values_[i].As<Napi::Array>();
  std::vector<std::pair<int, int>> out;
  for (uint32_t k = 0; k < a.Length(); ++k) {
    std::vector<int> v = to_int_list(a.Get(k));
    out.push_back({v[0], v[1]});
  }
  return out;
}
std::vector<int64_t> Args::get_int64list(size_t i) const {
  Napi::Array a = values_[i].As<Napi::Array>();
  std::vector<int64_t> out(a.Length());
  for (uint32_t k = 0; k < a.Length(); ++k) out[k] = int64_t(a.Get(k).As<Napi::Number>().DoubleValue());
  return out;
}

}  // namespace kiln_node
