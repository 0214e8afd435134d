#include "ir/ops.h"

#include <algorithm>
#include <initializer_list>
#include <sstream>
#include <stdexcept>

#include "ir/type_rules.h"

namespace kiln::ir {

namespace {

// The traits field of KILN_OPS entries (ops.h describes them).
enum : uint8_t { kNone = 0, kDiff = 1, kView = 2, kComm = 4 };

struct OpEntry {
  const char* name;
  int arity;
  OpCategory category;
  uint8_t traits;
};
constexpr OpEntry kOps[] = {
#define KILN_OP_ENTRY(e, name, arity, category, traits) \
  {name, arity, OpCategory::category, uint8_t(traits)},
    KILN_OPS(KILN_OP_ENTRY)
#undef KILN_OP_ENTRY
};

// The category lists (which switches name) and the category field agree:
// each op of a list has the list's category, and no other op has it.
#define KILN_OP_KIND(e, ...) OpKind::e,
constexpr bool is_category(OpCategory c, std::initializer_list<OpKind> ks) {
  int n = 0;
  for (const OpEntry& o : kOps) n += o.category == c;
  for (OpKind k : ks)
    if (kOps[int(k)].category != c) return false;
  return n == int(ks.size());
}
static_assert(is_category(OpCategory::Unary, {KILN_UNARY_OPS(KILN_OP_KIND)}));
static_assert(is_category(OpCategory::Binary, {KILN_BINARY_OPS(KILN_OP_KIND)}));
static_assert(is_category(OpCategory::Comparison, {KILN_COMPARISON_OPS(KILN_OP_KIND)}));
static_assert(is_category(OpCategory::Select, {OpKind::Select}));
static_assert(is_category(OpCategory::Reduction, {KILN_REDUCTION_OPS(KILN_OP_KIND)}));
static_assert(is_category(OpCategory::Movement, {KILN_MOVEMENT_OPS(KILN_OP_KIND)}));
#undef KILN_OP_KIND

// Views re-index one operand; commutative ops have two operands.
constexpr bool traits_fit_arity() {
  for (const OpEntry& o : kOps) {
    if ((o.traits & kView) && (o.arity != 1 || o.category != OpCategory::Movement)) return false;
    if ((o.traits & kComm) && o.arity != 2) return false;
  }
  return true;
}
static_assert(traits_fit_arity());

}  // namespace

const char* op_name(OpKind k) { return kOps[int(k)].name; }
int op_arity(OpKind k) { return kOps[int(k)].arity; }
OpCategory op_category(OpKind k) { return kOps[int(k)].category; }

bool op_from_name(const std::string& name, OpKind* out) {
  for (size_t i = 0; i < sizeof(kOps) / sizeof(kOps[0]); ++i) {
    if (name == kOps[i].name) {
      *out = OpKind(i);
      return true;
    }
  }
  return false;
}

bool is_unary_elementwise(OpKind k) { return op_category(k) == OpCategory::Unary; }
bool is_binary_elementwise(OpKind k) { return op_category(k) == OpCategory::Binary; }
bool is_comparison(OpKind k) { return op_category(k) == OpCategory::Comparison; }
bool is_elementwise(OpKind k) {
  return is_unary_elementwise(k) || is_binary_elementwise(k) || is_comparison(k) ||
         k == OpKind::Select;
}
bool is_reduction(OpKind k) { return op_category(k) == OpCategory::Reduction; }
bool is_differentiable(OpKind k) { return kOps[int(k)].traits & kDiff; }
bool is_view(OpKind k) { return kOps[int(k)].traits & kView; }
bool is_commutative(OpKind k) { return kOps[int(k)].traits & kComm; }

int64_t range_length(int64_t start, int64_t stop, int64_t step) {
  // 128-bit: extreme attribute values must not overflow.
  __int128 b = start, e = stop, s = step;
  __int128 n = s > 0 ? (e > b ? (e - b + s - 1) / s : 0) : (b > e ? (b - e - s - 1) / -s : 0);
  return n > INT64_MAX ? INT64_MAX : int64_t(n);
}

namespace {

[[noreturn]] void fail(OpKind k, const std::string& msg) {
  throw std::invalid_argument(std::string("[") + op_name(k) + "] " + msg);
}

std::string types_str(const std::vector<Type>& ts) {
  std::string s;
  for (size_t i = 0; i < ts.size(); ++i) s += (i ? ", " : "") + type_to_string(ts[i]);
  return s;
}

const Attr* find_attr(const Attrs& attrs, const char* name) {
  auto it = attrs.find(name);
  return it == attrs.end() ? nullptr : &it->second;
}

int64_t int_attr(OpKind k, const Attrs& attrs, const char* name) {
  const Attr* a = find_attr(attrs, name);
  if (!a || !std::holds_alternative<int64_t>(*a))
    fail(k, std::string("needs an integer attribute '") + name + "'");
  return std::get<int64_t>(*a);
}

const std::vector<int64_t>& ints_attr(OpKind k, const Attrs& attrs, const char* name,
                                      size_t expected_len) {
  const Attr* a = find_attr(attrs, name);
  if (!a || !std::holds_alternative<std::vector<int64_t>>(*a))
    fail(k, std::string("needs a list attribute '") + name + "'");
  const auto& v = std::get<std::vector<int64_t>>(*a);
  if (v.size() != expected_len)
    fail(k, std::string("attribute '") + name + "' has " + std::to_string(v.size()) +
                " entries, expected " + std::to_string(expected_len));
  return v;
}

void check_axis(OpKind k, int64_t axis, size_t ndim) {
  if (axis < 0 || axis >= int64_t(ndim))
    fail(k, "axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(ndim));
}

void require_dtype(OpKind k, Dtype t, bool ok, const char* what) {
  if (!ok) fail(k, std::string("expects ") + what + ", got " + dtype_name(t));
}

// The allowed operand dtypes of each elementwise op.
void check_elementwise_dtype(OpKind k, Dtype t) {
  switch (k) {
    case OpKind::Negative: case OpKind::Sign: case OpKind::Square: case OpKind::Power:
      return require_dtype(k, t, t != bool_, "a numeric type");
    case OpKind::Sqrt: case OpKind::Rsqrt: case OpKind::Exp: case OpKind::Log:
    case OpKind::Sin: case OpKind::Cos: case OpKind::Tan: case OpKind::Sinh:
    case OpKind::Cosh: case OpKind::Tanh:
      return require_dtype(k, t, is_inexact(t), "a floating or complex type");
    case OpKind::Expm1: case OpKind::Log2: case OpKind::Log10: case OpKind::Log1p:
    case OpKind::Arcsin: case OpKind::Arccos: case OpKind::Arctan: case OpKind::Arcsinh:
    case OpKind::Arccosh: case OpKind::Arctanh: case OpKind::Sigmoid: case OpKind::Erf:
    case OpKind::Erfinv: case OpKind::Arctan2: case OpKind::LogAddExp:
      return require_dtype(k, t, is_floating(t), "a floating type");
    case OpKind::Floor: case OpKind::Ceil: case OpKind::Round: case OpKind::Maximum:
    case OpKind::Minimum: case OpKind::Less: case OpKind::LessEqual: case OpKind::Greater:
    case OpKind::GreaterEqual:
      return require_dtype(k, t, !is_complex(t), "a real type");
    case OpKind::FloorDivide: case OpKind::Remainder:
      return require_dtype(k, t, !is_complex(t) && t != bool_, "a real numeric type");
    case OpKind::Divide:
      return require_dtype(k, t, is_inexact(t), "a floating or complex type");
    case OpKind::LogicalNot: case OpKind::LogicalAnd: case OpKind::LogicalOr:
      return require_dtype(k, t, t == bool_, "bool");
    case OpKind::BitwiseInvert: case OpKind::BitwiseAnd: case OpKind::BitwiseOr:
    case OpKind::BitwiseXor:
      return require_dtype(k, t, is_integral(t) || t == bool_, "an integer or bool type");
    case OpKind::LeftShift: case OpKind::RightShift:
      return require_dtype(k, t, is_integral(t), "an integer type");
    case OpKind::Abs: case OpKind::Add: case OpKind::Subtract: case OpKind::Multiply:
    case OpKind::Equal: case OpKind::NotEqual: case OpKind::StopGradient: case OpKind::Cast:
      return;  // any dtype
    // Not elementwise: their rules are in infer_type().
    case OpKind::Constant: case OpKind::Select: case OpKind::Argmax: case OpKind::Argmin:
    case OpKind::Matmul: case OpKind::Custom:
    KILN_REDUCTION_OPS(KILN_OP_CASE)
    KILN_MOVEMENT_OPS(KILN_OP_CASE)
    KILN_BITCAST_OPS(KILN_OP_CASE)
      return;
  }
}

// Dimensions are int32 (as MLX's Shape): a larger one is an error.
int32_t checked_dim(OpKind k, int64_t d) {
  if (d > INT32_MAX) fail(k, "result dimension " + std::to_string(d) + " exceeds the int32 range");
  return int32_t(d);
}

Shape shape_without(const Shape& s, const std::vector<int64_t>& axes) {
  Shape out;
  for (size_t d = 0; d < s.size(); ++d)
    if (std::find(axes.begin(), axes.end(), int64_t(d)) == axes.end()) out.push_back(s[d]);
  return out;
}

Shape slice_shape(OpKind k, const Shape& in, const Attrs& attrs) {
  const auto& start = ints_attr(k, attrs, "start", in.size());
  const auto& stop = ints_attr(k, attrs, "stop", in.size());
  const auto& strides = ints_attr(k, attrs, "strides", in.size());
  Shape out(in.size());
  for (size_t d = 0; d < in.size(); ++d) {
    if (strides[d] == 0) fail(k, "stride of axis " + std::to_string(d) + " is zero");
    int64_t n = range_length(start[d], stop[d], strides[d]);
    __int128 last = __int128(start[d]) + __int128(n - 1) * strides[d];
    if (n > 0 && (start[d] < 0 || start[d] >= in[d] || last < 0 || last >= in[d]))
      fail(k, "range " + std::to_string(start[d]) + ":" + std::to_string(stop[d]) + ":" +
                  std::to_string(strides[d]) + " of axis " + std::to_string(d) +
                  " is outside the operand's shape " + shape_to_string(in));
    out[d] = checked_dim(k, n);
  }
  return out;
}

}  // namespace

Type infer_type(OpKind k, const std::vector<Type>& in, const Attrs& attrs, const Type& declared) {
  int arity = op_arity(k);
  if ((arity >= 0 && int(in.size()) != arity) || (arity < 0 && in.empty()))
    fail(k, "expects " + (arity < 0 ? std::string("at least 1") : std::to_string(arity)) +
                " operands, got " + std::to_string(in.size()));
  for (const Type& t : in)
    for (auto d : t.shape)
      if (d < 0) fail(k, "negative dimension in operand type " + type_to_string(t));
  for (auto d : declared.shape)
    if (d < 0) fail(k, "negative dimension in result type " + type_to_string(declared));

  if (k == OpKind::Constant) return declared;
  // A custom op's type is its forward callee's output, which the verifier
  // checks (custom_op_problem): the rule sees no callee.
  if (k == OpKind::Custom) return declared;

  if (k == OpKind::Cast) {
    if (declared.shape != in[0].shape)
      fail(k, "cannot change the shape: " + types_str(in) + " to " + type_to_string(declared));
    return declared;
  }

  if (is_unary_elementwise(k)) {
    check_elementwise_dtype(k, in[0].dtype);
    if (k == OpKind::Abs && is_complex(in[0].dtype)) return {float32, in[0].shape};
    return in[0];
  }

  if (is_binary_elementwise(k) || is_comparison(k)) {
    if (in[0] != in[1]) fail(k, "operand types differ: " + types_str(in));
    check_elementwise_dtype(k, in[0].dtype);
    return is_comparison(k) ? Type{bool_, in[0].shape} : in[0];
  }

  switch (k) {
    case OpKind::Select:
      if (in[0].dtype != bool_) fail(k, "condition must be bool, got " + types_str(in));
      if (in[1] != in[2] || in[0].shape != in[1].shape)
        fail(k, "operand shapes or types differ: " + types_str(in));
      return in[1];

    case OpKind::Sum: case OpKind::Prod: case OpKind::Max: case OpKind::Min:
    case OpKind::All: case OpKind::Any: {
      const Attr* a = find_attr(attrs, "axes");
      if (!a || !std::holds_alternative<std::vector<int64_t>>(*a))
        fail(k, "needs a list attribute 'axes'");
      const auto& axes = std::get<std::vector<int64_t>>(*a);
      for (size_t i = 0; i < axes.size(); ++i) {
        check_axis(k, axes[i], in[0].shape.size());
        if (i && axes[i] <= axes[i - 1]) fail(k, "axes must be sorted and unique");
      }
      if (k == OpKind::All || k == OpKind::Any)
        require_dtype(k, in[0].dtype, in[0].dtype == bool_, "bool");
      if (k == OpKind::Max || k == OpKind::Min)
        require_dtype(k, in[0].dtype, !is_complex(in[0].dtype), "a real type");
      return {in[0].dtype, shape_without(in[0].shape, axes)};
    }

    case OpKind::Argmax: case OpKind::Argmin: {
      int64_t axis = int_attr(k, attrs, "axis");
      check_axis(k, axis, in[0].shape.size());
      require_dtype(k, in[0].dtype, !is_complex(in[0].dtype), "a real type");
      return {uint32, shape_without(in[0].shape, {axis})};
    }

    case OpKind::Reshape:
      if (declared.dtype != in[0].dtype || declared.size() != in[0].size())
        fail(k, "cannot reshape " + types_str(in) + " to " + type_to_string(declared));
      return declared;

    case OpKind::Transpose: {
      const auto& perm = ints_attr(k, attrs, "perm", in[0].shape.size());
      Shape out(perm.size());
      std::vector<bool> seen(perm.size());
      for (size_t i = 0; i < perm.size(); ++i) {
        check_axis(k, perm[i], perm.size());
        if (seen[perm[i]]) fail(k, "perm repeats axis " + std::to_string(perm[i]));
        seen[perm[i]] = true;
        out[i] = in[0].shape[perm[i]];
      }
      return {in[0].dtype, out};
    }

    case OpKind::Broadcast: {
      const Shape& s = in[0].shape;
      const Shape& t = declared.shape;
      bool ok = declared.dtype == in[0].dtype && s.size() <= t.size();
      for (size_t i = 0; ok && i < s.size(); ++i) {
        auto a = s[s.size() - 1 - i], b = t[t.size() - 1 - i];
        ok = a == b || a == 1;
      }
      if (!ok) fail(k, "cannot broadcast " + types_str(in) + " to " + type_to_string(declared));
      return declared;
    }

    case OpKind::Slice:
      return {in[0].dtype, slice_shape(k, in[0].shape, attrs)};

    case OpKind::SliceUpdate: {
      Shape s = slice_shape(k, in[0].shape, attrs);
      if (in[1].dtype != in[0].dtype || in[1].shape != s)
        fail(k, "update " + type_to_string(in[1]) + " does not match the slice " +
                    type_to_string({in[0].dtype, s}));
      return in[0];
    }

    case OpKind::Concatenate: {
      int64_t axis = int_attr(k, attrs, "axis");
      check_axis(k, axis, in[0].shape.size());
      Shape out = in[0].shape;
      for (size_t i = 1; i < in.size(); ++i) {
        bool ok = in[i].dtype == in[0].dtype && in[i].shape.size() == out.size();
        for (size_t d = 0; ok && d < out.size(); ++d)
          ok = int64_t(d) == axis || in[i].shape[d] == out[d];
        if (!ok) fail(k, "operands do not match outside axis " + std::to_string(axis) + ": " +
                             types_str(in));
        out[axis] = checked_dim(k, int64_t(out[axis]) + in[i].shape[axis]);
      }
      return {in[0].dtype, out};
    }

    case OpKind::Pad: {
      if (in[1].dtype != in[0].dtype || !in[1].shape.empty())
        fail(k, "the pad value must be a scalar of the operand's type: " + types_str(in));
      const auto& low = ints_attr(k, attrs, "low", in[0].shape.size());
      const auto& high = ints_attr(k, attrs, "high", in[0].shape.size());
      Shape out = in[0].shape;
      for (size_t d = 0; d < out.size(); ++d) {
        if (low[d] < 0 || high[d] < 0) fail(k, "pad widths must be non-negative");
        if (low[d] > INT32_MAX || high[d] > INT32_MAX) fail(k, "pad widths are too large");
        out[d] = checked_dim(k, out[d] + low[d] + high[d]);
      }
      return {in[0].dtype, out};
    }

    case OpKind::Take: {
      int64_t axis = int_attr(k, attrs, "axis");
      check_axis(k, axis, in[0].shape.size());
      require_dtype(k, in[1].dtype, is_integral(in[1].dtype), "integer indices");
      Shape out(in[0].shape.begin(), in[0].shape.begin() + axis);
      out.insert(out.end(), in[1].shape.begin(), in[1].shape.end());
      out.insert(out.end(), in[0].shape.begin() + axis + 1, in[0].shape.end());
      return {in[0].dtype, out};
    }

    case OpKind::TakeAlongAxis: {
      int64_t axis = int_attr(k, attrs, "axis");
      check_axis(k, axis, in[0].shape.size());
      require_dtype(k, in[1].dtype, is_integral(in[1].dtype), "integer indices");
      bool ok = in[1].shape.size() == in[0].shape.size();
      for (size_t d = 0; ok && d < in[0].shape.size(); ++d)
        ok = int64_t(d) == axis || in[1].shape[d] == in[0].shape[d];
      if (!ok) fail(k, "indices shape must match the operand's outside the axis: " + types_str(in));
      return {in[0].dtype, in[1].shape};
    }

    case OpKind::Matmul: {
      const Shape& a = in[0].shape;
      const Shape& b = in[1].shape;
      require_dtype(k, in[0].dtype, is_floating(in[0].dtype), "a floating type");
      bool ok = in[0].dtype == in[1].dtype && a.size() >= 2 && a.size() == b.size() &&
                std::equal(a.begin(), a.end() - 2, b.begin()) && a[a.size() - 1] == b[b.size() - 2];
      if (!ok) fail(k, "operands do not multiply: " + types_str(in));
      Shape out = a;
      out.back() = b.back();
      return {in[0].dtype, out};
    }

    case OpKind::Bitcast: {
      // Same bytes: leading dimensions equal, the last one (if the sizes
      // differ) scaled by the size ratio.
      const Shape& s = in[0].shape;
      const Shape& t = declared.shape;
      int a = in[0].dtype.size(), b = declared.dtype.size();
      bool ok = s.size() == t.size() && std::equal(s.begin(), s.begin() + (s.empty() ? 0 : s.size() - 1), t.begin());
      if (ok && a == b) ok = s == t;
      else if (ok) ok = !s.empty() && int64_t(s.back()) * a == int64_t(t.back()) * b;
      if (!ok) fail(k, "cannot reinterpret " + types_str(in) + " as " + type_to_string(declared));
      return declared;
    }

    case OpKind::Constant: case OpKind::Custom:
    KILN_UNARY_OPS(KILN_OP_CASE)
    KILN_BINARY_OPS(KILN_OP_CASE)
    KILN_COMPARISON_OPS(KILN_OP_CASE)
      break;  // handled above
  }
  fail(k, "has no type rule");
}

}  // namespace kiln::ir
