// The IR's text form: printing. Grammar: ir/README.md. The parser
// (parser.cpp) reads back exactly what this file writes.
#include "ir/printer.h"

#include <charconv>
#include <cmath>
#include <complex>
#include <iterator>
#include <map>
#include <set>

#include "ir/custom.h"
#include "ir/element.h"

namespace kiln::ir {

namespace {

// Printing is used for debug dumps of functions that may be ill formed, so
// nothing here trusts the function: bad dtypes, op kinds and constant
// buffers print as markers instead of being read.
bool valid_dtype(Dtype t) { return int(t.val) < kNumDtypes; }

void print_type(std::string& os, const Type& t) {
  if (valid_dtype(t.dtype)) {
    os += dtype_short_name(t.dtype);
  } else {
    os += "<dtype " + std::to_string(int(t.dtype.val)) + ">";
  }
  os += "[";
  for (size_t i = 0; i < t.shape.size(); ++i) {
    if (i) os += ",";
    os += std::to_string(t.shape[i]);
  }
  os += "]";
}

// Shortest text that reads back as the same float (or double).
template <typename F>
void append_float(std::string& out, F v) {
  if (std::isnan(v)) {
    out += "nan";
    return;
  }
  if (std::isinf(v)) {
    out += v < 0 ? "-inf" : "inf";
    return;
  }
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, r.ptr);
}

// Element i of a constant of dtype t, as a literal of the text form.
void append_literal(std::string& out, Dtype t, const void* data, int64_t i) {
  switch (domain_of(t)) {
    case Domain::Int:
      if (t == bool_) {
        out += load_i64(t, data, i) ? "true" : "false";
      } else {
        out += std::to_string(load_i64(t, data, i));
      }
      return;
    case Domain::UInt: out += std::to_string(load_u64(t, data, i)); return;
    case Domain::Float:
      // f16 / bf16 / f32 values are exact in float; print float's shortest
      // form so the parser (which reads them as float) gets the same bits.
      if (t == float64) {
        append_float(out, load_f64(t, data, i));
      } else {
        append_float(out, float(load_f64(t, data, i)));
      }
      return;
    case Domain::Complex: {
      std::complex<double> c = load_c128(t, data, i);
      out += "(";
      append_float(out, float(c.real()));
      out += ", ";
      append_float(out, float(c.imag()));
      out += ")";
      return;
    }
  }
}

// The `value` pseudo-attribute of a constant: a bare literal for a splat
// (all elements print alike and the size is not 1), else a flat list.
std::string constant_value(const Op& op) {
  const Type& t = op.type;
  if (!valid_dtype(t.dtype)) return "<invalid dtype>";
  for (auto d : t.shape)
    if (d < 0) return "<negative dimension>";
  int64_t n = 1;
  for (auto d : t.shape)
    if (__builtin_mul_overflow(n, int64_t(d), &n)) return "<too many elements>";
  int64_t nbytes;
  if (__builtin_mul_overflow(n, int64_t(t.dtype.size()), &nbytes)) return "<too many elements>";
  if (!op.data) return "<no data>";
  if (op.data->size() != uint64_t(nbytes))
    return "<" + std::to_string(op.data->size()) + " bytes of data, expected " +
           std::to_string(nbytes) + ">";
  if (n == 0) return "[]";
  const void* data = op.data->data();
  std::string first;
  append_literal(first, t.dtype, data, 0);
  if (n != 1) {
    bool splat = true;
    std::string lit;
    for (int64_t i = 1; i < n && splat; ++i) {
      lit.clear();
      append_literal(lit, t.dtype, data, i);
      splat = lit == first;
    }
    if (splat) return first;
  }
  std::string out = "[";
  out += first;
  for (int64_t i = 1; i < n; ++i) {
    out += ", ";
    append_literal(out, t.dtype, data, i);
  }
  out += "]";
  return out;
}

void print_attr(std::string& os, const Attr& a) {
  if (const int64_t* v = std::get_if<int64_t>(&a)) {
    os += std::to_string(*v);
    return;
  }
  const auto& l = std::get<std::vector<int64_t>>(a);
  os += "[";
  for (size_t i = 0; i < l.size(); ++i) {
    if (i) os += ", ";
    os += std::to_string(l[i]);
  }
  os += "]";
}

// Function names are [A-Za-z0-9_.]+ in the text form; others are mapped
// onto that set so the output always parses.
std::string printable_name(const std::string& name) {
  if (name.empty()) return "main";
  std::string out = name;
  for (char& c : out) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.';
    if (!ok) c = '_';
  }
  return out;
}

// The callee roles, in the order they are visited and named.
struct Role {
  const char* name;
  std::shared_ptr<const Function> Custom::*member;
};
constexpr Role kRoles[] = {
    {"forward", &Custom::forward}, {"vjp", &Custom::vjp}, {"jvp", &Custom::jvp}};

// The functions f's custom ops call, directly or through other callees,
// each once, every function before the functions it calls (reverse
// post-order of an explicit-stack DFS: no recursion, and a malformed cyclic
// graph still terminates). Ops and roles are visited last to first, so
// that siblings come out in the order of the text (forward before vjp).
std::vector<const Function*> callees_in_order(const Function& f) {
  struct Frame {
    const Function* fn;
    size_t ops_left;    // ops not yet visited: fn->ops[0 .. ops_left)
    size_t roles_left;  // roles of fn->ops[ops_left - 1] not yet visited
  };
  const size_t n_roles = std::size(kRoles);
  std::vector<const Function*> post;
  std::set<const Function*> seen{&f};
  std::vector<Frame> stack{{&f, f.ops.size(), n_roles}};
  while (!stack.empty()) {
    Frame& top = stack.back();
    const Function* next = nullptr;
    while (!next && top.ops_left > 0) {
      const Custom* c = top.fn->ops[top.ops_left - 1].custom.get();
      if (!c || top.roles_left == 0) {
        --top.ops_left;
        top.roles_left = n_roles;
        continue;
      }
      const Function* g = (c->*kRoles[--top.roles_left].member).get();
      if (g && seen.insert(g).second) next = g;
    }
    if (next) {
      stack.push_back({next, next->ops.size(), n_roles});
    } else {
      post.push_back(top.fn);
      stack.pop_back();
    }
  }
  post.pop_back();  // f itself
  return {post.rbegin(), post.rend()};
}

void print_function(std::string& os, const Function& f, const std::string& name,
                    const std::map<const Function*, std::string>& names) {
  os += "func @" + name + "(";
  for (size_t i = 0; i < f.inputs.size(); ++i) {
    os += (i ? ", %" : "%") + std::to_string(i) + ": ";
    print_type(os, f.inputs[i]);
  }
  os += ") -> (";
  for (size_t i = 0; i < f.outputs.size(); ++i) {
    if (i) os += ", ";
    int v = f.outputs[i];
    if (v >= 0 && v < f.num_values()) {
      print_type(os, f.value_type(v));
    } else {
      os += "<undefined %" + std::to_string(v) + ">";
    }
  }
  os += ") {\n";
  int id = int(f.inputs.size());
  for (const Op& op : f.ops) {
    os += "  %" + std::to_string(id++) + " = ";
    if (int(op.kind) < kNumOpKinds) {
      os += op_name(op.kind);
    } else {
      os += "<op " + std::to_string(int(op.kind)) + ">";
    }
    os += "(";
    for (size_t i = 0; i < op.operands.size(); ++i)
      os += (i ? ", %" : "%") + std::to_string(op.operands[i]);
    os += ")";
    // Attributes in name order; a constant's `value` and a custom op's
    // callees (`forward = @name`, ...) sort among the real ones.
    std::map<std::string, std::string> attrs;
    for (const auto& [attr_name, attr] : op.attrs) {
      std::string text;
      print_attr(text, attr);
      attrs[attr_name] = std::move(text);
    }
    if (op.kind == OpKind::Constant) attrs["value"] = constant_value(op);
    if (op.custom)
      for (const Role& r : kRoles)
        if (const Function* g = (*op.custom.*r.member).get()) attrs[r.name] = "@" + names.at(g);
    if (!attrs.empty()) {
      os += " {";
      bool first = true;
      for (const auto& [attr_name, text] : attrs) {
        os += (first ? "" : ", ") + attr_name + " = " + text;
        first = false;
      }
      os += "}";
    }
    os += " : ";
    print_type(os, op.type);
    // Not part of the text form (custom.h); noted for whoever reads a dump.
    if (op.custom && op.custom->vmap) os += "  // and a C++ vmap rule";
    os += "\n";
  }
  os += "  return";
  for (size_t i = 0; i < f.outputs.size(); ++i)
    os += (i ? ", %" : " %") + std::to_string(f.outputs[i]);
  os += "\n}\n";
}

}  // namespace

std::string print(const Function& f) {
  // Built with std::to_string rather than a stream so that stream flags and
  // locales cannot change the text.
  //
  // The functions that custom ops call follow f, each named after its first
  // caller and role (@main.forward, @main.forward.vjp, ...), made unique.
  const std::string main_name = printable_name(f.name);
  const std::vector<const Function*> callees = callees_in_order(f);
  std::map<const Function*, std::string> names{{&f, main_name}};
  std::set<std::string> taken{main_name};
  auto unique = [&](const std::string& base) {
    std::string name = base;
    for (int n = 2; !taken.insert(name).second; ++n) name = base + "." + std::to_string(n);
    return name;
  };
  auto name_callees_of = [&](const Function& caller) {
    // Only a (malformed) cyclic graph reaches a caller without a name.
    if (!names.count(&caller)) names[&caller] = unique(main_name + ".callee");
    for (const Op& op : caller.ops) {
      if (!op.custom) continue;
      for (const Role& r : kRoles) {
        const Function* g = (*op.custom.*r.member).get();
        if (g && !names.count(g)) names[g] = unique(names.at(&caller) + "." + r.name);
      }
    }
  };
  // Callers come before callees, so each is named before it is printed.
  name_callees_of(f);
  for (const Function* g : callees) name_callees_of(*g);

  std::string os;
  print_function(os, f, main_name, names);
  for (const Function* g : callees) {
    os += "\n";
    print_function(os, *g, names.at(g), names);
  }
  return os;
}

void print(std::ostream& os, const Function& f) { os << print(f); }

}  // namespace kiln::ir
