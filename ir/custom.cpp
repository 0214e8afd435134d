// The custom op's signature checks (custom.h); the verifier calls them.
#include "ir/custom.h"

#include <string>

namespace kiln::ir {

namespace {

std::string types_str(const std::vector<Type>& ts) {
  std::string s = "(";
  for (size_t i = 0; i < ts.size(); ++i) s += (i ? ", " : "") + type_to_string(ts[i]);
  return s + ")";
}

// "" when `callee`'s inputs and outputs are `in` and `out`, else the problem.
std::string signature_problem(const char* role, const Function& callee,
                              const std::vector<Type>& in, const std::vector<Type>& out) {
  std::vector<Type> outs;
  if (!output_types(callee, &outs))
    return std::string("the ") + role + " callee has an undefined output";
  if (callee.inputs != in || outs != out)
    return std::string("the ") + role + " callee has the signature " + types_str(callee.inputs) +
           " -> " + types_str(outs) + ", expected " + types_str(in) + " -> " + types_str(out);
  return "";
}

int64_t attr_or(const Op& op, const char* name, int64_t fallback) {
  auto it = op.attrs.find(name);
  if (it == op.attrs.end() || !std::holds_alternative<int64_t>(it->second)) return fallback;
  return std::get<int64_t>(it->second);
}

}  // namespace

bool output_types(const Function& f, std::vector<Type>* out) {
  out->clear();
  for (int v : f.outputs) {
    if (v < 0 || v >= f.num_values()) return false;
    out->push_back(f.value_type(v));
  }
  return true;
}

std::string custom_op_problem(const Op& op, const std::vector<Type>& in) {
  if (!op.custom || !op.custom->forward) return "has no forward callee";
  const Custom& c = *op.custom;
  const int64_t index = attr_or(op, "index", -1);
  const int64_t num_primals = attr_or(op, "num_primals", -1);
  if (num_primals < 0 || num_primals > int64_t(in.size()))
    return "needs an integer attribute 'num_primals' in [0, " + std::to_string(in.size()) + "]";

  std::vector<Type> outs;
  if (!output_types(*c.forward, &outs)) return "the forward callee has an undefined output";
  std::string problem = signature_problem("forward", *c.forward, in, outs);
  if (!problem.empty()) return problem;
  if (index < 0 || index >= int64_t(outs.size()))
    return "needs an integer attribute 'index' in [0, " + std::to_string(outs.size()) +
           "), the forward callee's outputs";
  if (op.type != outs[size_t(index)])
    return "declared type " + type_to_string(op.type) +
           " differs from the forward callee's output " + std::to_string(index) + ", " +
           type_to_string(outs[size_t(index)]);

  const std::vector<Type> primals(in.begin(), in.begin() + num_primals);
  if (c.vjp) {
    std::vector<Type> vin = in;
    vin.insert(vin.end(), outs.begin(), outs.end());  // cotangents
    vin.insert(vin.end(), outs.begin(), outs.end());  // outputs
    problem = signature_problem("vjp", *c.vjp, vin, primals);
    if (!problem.empty()) return problem;
  }
  if (c.jvp) {
    std::vector<Type> jin = in;
    for (const Type& t : primals)
      if (is_floating(t.dtype)) jin.push_back(t);  // tangents
    problem = signature_problem("jvp", *c.jvp, jin, outs);
    if (!problem.empty()) return problem;
  }
  return "";
}

}  // namespace kiln::ir
