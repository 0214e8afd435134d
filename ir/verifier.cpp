// The IR verifier. It checks a Function built by any means (the frontend,
// a pass, the parser) and never trusts it: out-of-range ids, op kinds or
// dtypes, overflowing shapes and attribute values that would overflow in
// the type rules are all reported as messages, never undefined behaviour.
#include "ir/verifier.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <unordered_set>

#include "ir/custom.h"
#include "ir/type_rules.h"

namespace kiln::ir {

namespace {

constexpr int64_t kInt32Max = std::numeric_limits<int32_t>::max();

// The attribute names each op reads; any other attribute is an error.
std::vector<const char*> accepted_attrs(OpKind k) {
  switch (k) {
    case OpKind::Argmax:
    case OpKind::Argmin:
    case OpKind::Concatenate:
    case OpKind::Take:
    case OpKind::TakeAlongAxis: return {"axis"};
    case OpKind::Transpose: return {"perm"};
    case OpKind::Slice:
    case OpKind::SliceUpdate: return {"start", "stop", "strides"};
    case OpKind::Pad: return {"low", "high"};
    case OpKind::Custom: return {"index", "num_primals"};
    case OpKind::Constant: case OpKind::Select: case OpKind::Reshape: case OpKind::Broadcast:
    case OpKind::Matmul: case OpKind::Bitcast:
    KILN_UNARY_OPS(KILN_OP_CASE)
    KILN_BINARY_OPS(KILN_OP_CASE)
    KILN_COMPARISON_OPS(KILN_OP_CASE)
      return {};
    KILN_REDUCTION_OPS(KILN_OP_CASE)
      return {"axes"};
  }
  return {};
}

const std::vector<int64_t>* list_attr(const Op& op, const char* name) {
  auto it = op.attrs.find(name);
  if (it == op.attrs.end()) return nullptr;
  return std::get_if<std::vector<int64_t>>(&it->second);
}

// Attribute values for which infer_type's arithmetic would overflow. The
// type rule assumes values of sane magnitude; these checks keep arbitrary
// (parsed, fuzzed) attributes from reaching it.
std::string overflow_problem(const Op& op, const std::vector<Type>& in) {
  switch (op.kind) {
    case OpKind::Slice:
    case OpKind::SliceUpdate: {
      const auto* start = list_attr(op, "start");
      const auto* stop = list_attr(op, "stop");
      const auto* strides = list_attr(op, "strides");
      if (!start || !stop || !strides) return "";
      size_t n = std::min({start->size(), stop->size(), strides->size()});
      for (size_t d = 0; d < n; ++d) {
        int64_t a = (*start)[d], b = (*stop)[d], s = (*strides)[d], t, u, len;
        if (s == 0) continue;  // reported by the type rule
        // Mirrors range_length() and the last-index computation of slice.
        bool bad = s == std::numeric_limits<int64_t>::min();
        if (!bad && s > 0 && b > a)
          bad = __builtin_sub_overflow(b, a, &t) || __builtin_add_overflow(t, s, &u) ||
                __builtin_sub_overflow(u, int64_t(1), &u);
        if (!bad && s < 0 && a > b)
          bad = __builtin_sub_overflow(a, b, &t) || __builtin_sub_overflow(t, s, &u) ||
                __builtin_sub_overflow(u, int64_t(1), &u);
        if (!bad) {
          len = range_length(a, b, s);
          bad = __builtin_mul_overflow(len - 1, s, &t) || __builtin_add_overflow(a, t, &u);
        }
        if (bad)
          return "slice bounds " + std::to_string(a) + ":" + std::to_string(b) + ":" +
                 std::to_string(s) + " of axis " + std::to_string(d) + " are out of range";
      }
      return "";
    }
    case OpKind::Pad: {
      const auto* low = list_attr(op, "low");
      const auto* high = list_attr(op, "high");
      if (!low || !high || in.empty()) return "";
      size_t n = std::min({low->size(), high->size(), in[0].shape.size()});
      for (size_t d = 0; d < n; ++d) {
        int64_t l = (*low)[d], h = (*high)[d];
        if (l < 0 || h < 0) continue;  // reported by the type rule
        if (l > kInt32Max || h > kInt32Max || in[0].shape[d] + l + h > kInt32Max)
          return "padded dimension " + std::to_string(d) + " overflows int32";
      }
      return "";
    }
    case OpKind::Concatenate: {
      auto it = op.attrs.find("axis");
      if (it == op.attrs.end() || !std::holds_alternative<int64_t>(it->second)) return "";
      int64_t axis = std::get<int64_t>(it->second);
      if (axis < 0) return "";
      int64_t total = 0;
      for (const Type& t : in) {
        if (axis >= int64_t(t.shape.size())) return "";
        total += t.shape[axis];
        if (total > kInt32Max) return "concatenated dimension overflows int32";
      }
      return "";
    }
    // No attribute arithmetic that could overflow.
    case OpKind::Constant: case OpKind::Select: case OpKind::Argmax: case OpKind::Argmin: case OpKind::Bitcast:
    case OpKind::Reshape: case OpKind::Transpose: case OpKind::Broadcast: case OpKind::Take:
    case OpKind::TakeAlongAxis: case OpKind::Matmul: case OpKind::Custom:
    KILN_UNARY_OPS(KILN_OP_CASE)
    KILN_BINARY_OPS(KILN_OP_CASE)
    KILN_COMPARISON_OPS(KILN_OP_CASE)
    KILN_REDUCTION_OPS(KILN_OP_CASE)
      return "";
  }
  return "";
}

std::string check_op(const Function& f, size_t index) {
  const Op& op = f.ops[index];
  const int id = int(f.inputs.size() + index);
  for (size_t i = 0; i < op.operands.size(); ++i) {
    int v = op.operands[i];
    if (v < 0 || v >= id)
      return "operand " + std::to_string(i) + " is %" + std::to_string(v) +
             (v == id  ? ", the op's own value"
              : v > id ? ", defined after the op"
                       : "") +
             ", not a value defined before it";
  }
  int arity = op_arity(op.kind);
  if (arity >= 0 ? int(op.operands.size()) != arity : op.operands.empty())
    return "expects " + (arity < 0 ? std::string("at least 1") : std::to_string(arity)) +
           " operands, got " + std::to_string(op.operands.size());
  std::string problem = type_problem(op.type);
  if (!problem.empty()) return problem;
  auto accepted = accepted_attrs(op.kind);
  for (const auto& [name, value] : op.attrs) {
    bool ok =
        std::any_of(accepted.begin(), accepted.end(), [&](const char* a) { return name == a; });
    if (!ok) return "has no attribute '" + name + "'";
  }
  if (op.kind == OpKind::Constant) {
    if (!op.data) return "has no data";
    if (op.data->size() != uint64_t(op.type.nbytes()))
      return "holds " + std::to_string(op.data->size()) + " bytes of data, type " +
             type_to_string(op.type) + " needs " + std::to_string(op.type.nbytes());
    return "";
  }
  if (op.data) return "is not a constant but holds data";
  if (op.custom && op.kind != OpKind::Custom) return "is not a custom op but has callees";
  std::vector<Type> in;
  in.reserve(op.operands.size());
  for (int v : op.operands) in.push_back(f.value_type(v));
  if (op.kind == OpKind::Custom) return custom_op_problem(op, in);
  problem = overflow_problem(op, in);
  if (!problem.empty()) return problem;
  Type inferred;
  try {
    inferred = infer_type(op.kind, in, op.attrs, op.type);
  } catch (const std::logic_error& e) {  // std::invalid_argument, or any other misuse
    return e.what();
  }
  if (inferred != op.type)
    return "declared type " + type_to_string(op.type) + " differs from the type rule's " +
           type_to_string(inferred);
  return "";
}

}  // namespace

namespace detail {

std::string verify_op(const Function& f, size_t index) {
  const Op& op = f.ops[index];
  if (int(op.kind) >= kNumOpKinds) return "invalid op kind " + std::to_string(int(op.kind));
  return check_op(f, index);
}

std::string verify_located(const Function& f, int* where, int* index, bool check_callees) {
  auto fail = [&](int w, size_t i, const std::string& prefix, const std::string& problem) {
    *where = w;
    *index = int(i);
    return prefix + problem;
  };
  for (size_t i = 0; i < f.inputs.size(); ++i) {
    std::string problem = type_problem(f.inputs[i]);
    if (!problem.empty()) return fail(0, i, "input %" + std::to_string(i) + ": ", problem);
  }
  if (f.inputs.size() + f.ops.size() > size_t(std::numeric_limits<int>::max()))
    return fail(3, 0, "", "too many values");
  for (size_t i = 0; i < f.ops.size(); ++i) {
    const Op& op = f.ops[i];
    const std::string id = "%" + std::to_string(f.inputs.size() + i);
    std::string problem = verify_op(f, i);
    if (problem.empty()) continue;
    if (int(op.kind) >= kNumOpKinds) return fail(1, i, "op " + id + ": ", problem);
    return fail(1, i, "op " + id + " (" + op_name(op.kind) + "): ", problem);
  }
  for (size_t i = 0; i < f.outputs.size(); ++i) {
    int v = f.outputs[i];
    if (v < 0 || v >= f.num_values())
      return fail(2, i, "output " + std::to_string(i) + ": ",
                  "value %" + std::to_string(v) + " is not defined");
  }
  if (!check_callees) return "";

  // The functions that f's custom ops call, directly or through other
  // callees: each body checked once (a DAG may share them), no cycle, at
  // most kMaxCalleeDepth levels. An explicit stack, not recursion: the
  // function may come from untrusted text.
  static constexpr const char* kRoles[] = {"forward", "vjp", "jvp"};
  struct Frame {
    const Function* fn;
    size_t op = 0;
    int role = 0;  // next role of fn->ops[op] to visit
  };
  std::unordered_set<const Function*> done, on_stack{&f};
  std::vector<Frame> stack{{&f}};
  while (!stack.empty()) {
    Frame& top = stack.back();
    const Function* next = nullptr;
    const char* role = nullptr;
    while (!next && top.op < top.fn->ops.size()) {
      const Custom* c = top.fn->ops[top.op].custom.get();
      if (!c || top.role == 3) {
        ++top.op;
        top.role = 0;
        continue;
      }
      role = kRoles[top.role];
      const int r = top.role++;
      next = (r == 0 ? c->forward : r == 1 ? c->vjp : c->jvp).get();
    }
    if (!next) {
      on_stack.erase(top.fn);
      done.insert(top.fn);
      stack.pop_back();
      continue;
    }
    // Reported at the op of f through which the problem is reached.
    const size_t at = stack.front().op;
    const std::string prefix = "op %" + std::to_string(f.inputs.size() + at) + " (" +
                               op_name(f.ops[at].kind) + "): in a " + role + " callee: ";
    if (on_stack.count(next)) return fail(1, at, prefix, "the callees form a cycle");
    if (done.count(next)) continue;
    if (stack.size() > size_t(kMaxCalleeDepth))
      return fail(1, at, prefix,
                  "custom ops nest more than " + std::to_string(kMaxCalleeDepth) + " calls deep");
    int w, i;
    std::string problem = verify_located(*next, &w, &i, /*check_callees=*/false);
    if (!problem.empty()) return fail(1, at, prefix, problem);
    on_stack.insert(next);
    stack.push_back({next});  // `top` is not used after this
  }
  return "";
}

}  // namespace detail

std::string verify_message(const Function& f) {
  int where, index;
  return detail::verify_located(f, &where, &index);
}

void verify(const Function& f) {
  std::string msg = verify_message(f);
  if (!msg.empty()) throw std::invalid_argument(msg);
}

}  // namespace kiln::ir
