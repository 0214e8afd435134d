#pragma once
// The arguments of a generated op binding (tools/bindgen/gen_node.py): each
// JS function stands for a family of C++ overloads (sum(a), sum(a, axis),
// sum(a, axes), ...), each described by a Signature. pick() scores every
// overload against the JS arguments and takes the best match; the get_*
// functions convert argument i to the C++ type of its parameter. A
// trailing run of undefined arguments counts as left out, and undefined for
// an optional parameter means its C++ default.
#include <cstdint>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <napi.h>

#include <kiln/kiln.h>

namespace kiln_node {

// What a C++ parameter accepts from JS.
enum class Kind : uint8_t {
  Array,       // array: an mx.array, number, boolean, nested Array, TypedArray
  OptArray,    // std::optional<array>: also null
  Int,         // an integer number
  Bool,        // a boolean
  Number,      // a number (double, float)
  UInt64,      // a non-negative integer or a BigInt
  Size,        // a non-negative integer
  Dtype,       // mx.float32, ... or a dtype's name
  IntList,     // Shape, std::vector<int>: an Array of integers, or one integer
  OptIntList,  // also null
  ArrayList,   // std::vector<array>: an Array of arrays
  String,      // a string
  OptNumber,   // std::optional<float>: a number or null
  IntPair,     // std::pair<int, int>: [a, b], or one integer for both
  IntTriple,   // std::tuple<int, int, int>: [a, b, c], or one integer for all
  PairList,    // std::vector<std::pair<int, int>>: [[a, b], ...]
  Int64List,   // Strides: an Array of integers
};

struct Signature {
  std::vector<Kind> params;  // StreamOrDevice left out
  size_t required;           // the leading parameters without a C++ default
  const char* text;          // for error messages: "sum(a: ScalarOrArray, axis: number): array"
};

using Callback = Napi::Value (*)(const Napi::CallbackInfo&);
struct OpBinding {
  const char* ns;  // "" (mx itself), "random", "linalg" or "fft"
  const char* name;
  Callback fn;
};
struct MethodBinding {
  const char* name;
  Callback fn;
};
// The generated tables (node_ops.cpp).
extern const OpBinding kOps[];
extern const size_t kOpCount;
extern const MethodBinding kMethods[];
extern const size_t kMethodCount;

class Args {
 public:
  // method: `this` (an mx.array) is the first argument.
  Args(const Napi::CallbackInfo& info, bool method);

  Napi::Env env() const { return env_; }
  // The best-matching signature's index; throws TypeMismatch listing the
  // signatures when none matches.
  size_t pick(const Signature* sigs, size_t count, const char* name) const;
  // Whether argument i was given (not left out, not undefined).
  bool has(size_t i) const { return i < values_.size() && !values_[i].IsUndefined(); }

  kiln::array get_array(size_t i) const;
  std::optional<kiln::array> get_optarray(size_t i) const;
  int get_int(size_t i) const;
  bool get_bool(size_t i) const;
  double get_number(size_t i) const;
  uint64_t get_uint64(size_t i) const;
  size_t get_size(size_t i) const;
  kiln::Dtype get_dtype(size_t i) const;
  std::vector<int> get_intlist(size_t i) const;
  std::optional<std::vector<int>> get_optintlist(size_t i) const;
  std::vector<kiln::array> get_arraylist(size_t i) const;
  std::string get_string(size_t i) const;
  std::optional<float> get_optnumber(size_t i) const;
  std::pair<int, int> get_intpair(size_t i) const;
  std::tuple<int, int, int> get_inttriple(size_t i) const;
  std::vector<std::pair<int, int>> get_pairlist(size_t i) const;
  std::vector<int64_t> get_int64list(size_t i) const;

 private:
  Napi::Env env_;
  std::vector<Napi::Value> values_;
  // The dtype of the first mx.array argument: JS numbers next to it take
  // its dtype (array_from_js's partner).
  std::optional<kiln::Dtype> partner_;
};

}  // namespace kiln_node
