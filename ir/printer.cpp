// The IR's text form: printing. Grammar: ir/README.md. The parser
// (parser.cpp) reads back exactly what this file writes.
#include "ir/printer.h"

#include <charconv>
#include <cmath>
#include <complex>

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

}  // namespace

std::string print(const Function& f) {
  // Built with std::to_string rather than a stream so that stream flags and
  // locales cannot change the text.
  std::string os;
  os += "func @" + printable_name(f.name) + "(";
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
    bool has_value = op.kind == OpKind::Constant;
    if (has_value || !op.attrs.empty()) {
      // `value` sorts among the real attributes (a valid constant has none).
      os += " {";
      bool first = true;
      bool value_done = !has_value;
      auto print_value = [&] {
        os += first ? "value = " : ", value = ";
        os += constant_value(op);
        first = false;
        value_done = true;
      };
      for (const auto& [name, attr] : op.attrs) {
        if (!value_done && name > "value") print_value();
        os += (first ? "" : ", ") + name + " = ";
        print_attr(os, attr);
        first = false;
      }
      if (!value_done) print_value();
      os += "}";
    }
    os += " : ";
    print_type(os, op.type);
    os += "\n";
  }
  os += "  return";
  for (size_t i = 0; i < f.outputs.size(); ++i)
    os += (i ? ", %" : " %") + std::to_string(f.outputs[i]);
  os += "\n}\n";
  return os;
}

void print(std::ostream& os, const Function& f) { os << print(f); }

}  // namespace kiln::ir
