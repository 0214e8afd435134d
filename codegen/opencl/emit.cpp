#include "codegen/opencl/emit.h"

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <set>
#include <sstream>
#include <stdexcept>
#include <unordered_map>

#include "codegen/opencl/prelude.h"

namespace kiln::codegen::opencl {

namespace {

using ir::OpKind;
using kernel::Kernel;
using kernel::Node;
using kernel::NodeKind;
using kernel::StrideKind;

// Per node: the loop variables its value depends on (a reduction's own
// variable excluded), as in codegen/llvm/emit.cpp.
std::vector<uint64_t> dependencies(const Kernel& k) {
  std::vector<uint64_t> deps(k.nodes.size(), 0);
  for (size_t i = 0; i < k.nodes.size(); ++i) {
    const Node& n = k.nodes[i];
    uint64_t d = 0;
    if (n.kind == NodeKind::Load || n.kind == NodeKind::Gather)
      for (size_t v = 0; v < n.strides.size(); ++v)
        if (n.strides[v].kind != StrideKind::Zero) d |= uint64_t(1) << v;
    for (int o : n.operands) d |= deps[size_t(o)];
    if (n.kind == NodeKind::Reduce) d &= ~(uint64_t(1) << n.var);
    deps[i] = d;
  }
  return deps;
}

// A rank-1 kernel with a reduction over everything (x - max(x) of a
// vector) is one work-item looping over the elements: one per element
// would each compute the reduction again.
bool one_item(const Kernel& k) {
  if (k.rank != 1) return false;
  std::vector<uint64_t> deps = dependencies(k);
  for (size_t i = 0; i < k.nodes.size(); ++i)
    if (k.nodes[i].kind == NodeKind::Reduce && deps[i] == 0) return true;
  return false;
}

bool is_float_compute(Dtype t) { return is_floating(t); }

// The type a value is computed in: 16-bit floats in float (rounded to their
// precision after each op), bool as bool.
const char* compute_type(Dtype t) {
  switch (t.val) {
    case Dtype::Val::bool_: return "bool";
    case Dtype::Val::uint8: return "uchar";
    case Dtype::Val::int8: return "char";
    case Dtype::Val::uint16: return "ushort";
    case Dtype::Val::int16: return "short";
    case Dtype::Val::uint32: return "uint";
    case Dtype::Val::int32: return "int";
    case Dtype::Val::uint64: return "ulong";
    case Dtype::Val::int64: return "long";
    case Dtype::Val::float64: return "double";
    case Dtype::Val::float16: case Dtype::Val::bfloat16: case Dtype::Val::float32: return "float";
    case Dtype::Val::complex64: break;
  }
  throw std::logic_error("kiln opencl: no kernel type for " + std::string(dtype_name(t)));
}

// The element type of a buffer of t.
const char* storage_type(Dtype t) {
  if (t == bool_) return "uchar";
  if (t == float16) return "half";
  if (t == bfloat16) return "ushort";
  return compute_type(t);
}

// Integer arithmetic is done in an unsigned type of at least int's width
// and converted back: it wraps (as the interpreter's), where signed
// overflow, and the int promotion of 16-bit products, would be undefined.
const char* wrap_type(Dtype t) { return t.size() == 8 ? "ulong" : "uint"; }

std::string hex_double(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%a", v);
  return buf;
}

class Emitter {
 public:
  Emitter(const Kernel& k, const EmitOptions& o) : k_(k), o_(o), deps_(dependencies(k)) {}

  std::string source(const std::string& name) {
    if (k_.num_vars > 64) throw std::runtime_error("kiln opencl: kernel has more than 64 loop variables");
    for (const Node& n : k_.nodes)
      if (n.dtype == float64 && !o_.float64) throw std::runtime_error("kiln opencl: the device has no float64");
    vars_.assign(size_t(k_.num_vars), "");
    memo_.emplace_back();
    indent_ = 1;
    body();
    std::ostringstream os;
    os << "// kiln kernel " << name << "\n";
    if (o_.float64) os << "#pragma OPENCL EXTENSION cl_khr_fp64 : enable\n";
    // No fused multiply-adds: the CPU and the interpreter round each op.
    os << "#pragma OPENCL FP_CONTRACT OFF\n";
    os << prelude(helpers_, o_.float64);
    os << "\n__kernel void " << name << "(";
    for (size_t i = 0; i < k_.inputs.size(); ++i)
      if (int(i) != k_.schedule.in_place)
        os << (k_.writes_arg(int(i)) ? "__global " : "__global const ") << storage_type(k_.inputs[i]) << "* in" << i
           << ", ";
    os << "__global " << storage_type(k_.output) << "* out, __global const long* p, long outer) {\n";
    os << "  const long gid = get_global_id(0);\n";
    os << "  if (gid >= outer) return;\n";
    for (int i = 0; i < k_.num_params; ++i) os << "  const long p" << i << " = p[" << i << "];\n";
    os << code_.str() << "}\n";
    return os.str();
  }

 private:
  // ---- the loop nest -------------------------------------------------------
  void body() {
    // Constants passed as parameters (float ones arrive as float bits:
    // float_constant_params).
    constant_names_.assign(k_.nodes.size(), "");
    for (size_t i = 0; i < k_.nodes.size(); ++i) {
      const Node& n = k_.nodes[i];
      if (n.kind != NodeKind::Constant || n.value_param < 0) continue;
      std::string p = "p" + std::to_string(n.value_param), v;
      if (n.dtype == float64) v = "as_double(" + p + ")";
      else if (is_floating(n.dtype)) v = "as_float((uint)" + p + ")";
      else if (n.dtype == bool_) v = "((" + p + " & 1) != 0)";
      else v = "(" + std::string(compute_type(n.dtype)) + ")" + p;
      constant_names_[i] = "c" + std::to_string(i);
      line(std::string("const ") + compute_type(n.dtype) + " " + constant_names_[i] + " = " + v + ";");
    }
    int last = k_.rank - 1;
    if (k_.rank == 0) {
      bound_ = 0;
      store_outputs("0");
    } else if (one_item(k_)) {
      hoist_reductions(k_.root, 0);
      open_loop("i0", "outer", 1);
      vars_[0] = "i0";
      bound_ = 1;
      store_outputs("i0");
      close_loop();
    } else if (!k_.range_is_rows()) {
      // One element per work-item: its indices from its row-major position.
      decompose_gid(k_.rank);
      bound_ = k_.rank >= 64 ? ~uint64_t(0) : (uint64_t(1) << k_.rank) - 1;
      store_outputs("gid");
    } else {
      // One row per work-item: its reductions once, then its elements.
      decompose_gid(last);
      uint64_t row_mask = (uint64_t(1) << last) - 1;
      bound_ = row_mask;
      hoist_reductions(k_.root, row_mask);
      std::string inner = "p" + std::to_string(k_.size_params[size_t(last)]);
      std::string col = "i" + std::to_string(last);
      open_loop(col, inner, uint64_t(1) << last);
      vars_[size_t(last)] = col;
      bound_ = row_mask | uint64_t(1) << last;
      store("gid * " + inner + " + " + col, emit(k_.root));
      close_loop();
    }
  }

  // Declares i0 .. i(dims-1), the leading indices of the row-major
  // position gid over the output's first `dims` dimensions.
  void decompose_gid(int dims) {
    if (dims == 1) {
      line("const long i0 = gid;");
    } else {
      line("long rest = gid;");
      for (int d = dims - 1; d >= 0; --d) {
        std::string size = "p" + std::to_string(k_.size_params[size_t(d)]);
        if (d == 0) {
          line("const long i0 = rest;");
        } else {
          line("const long i" + std::to_string(d) + " = rest % " + size + ";");
          line("rest /= " + size + ";");
        }
      }
    }
    for (int d = 0; d < dims; ++d) vars_[size_t(d)] = "i" + std::to_string(d);
  }

  void line(const std::string& s) { code_ << std::string(size_t(indent_) * 2, ' ') << s << "\n"; }

  // `for (long var = 0; var < end; ++var) {`, with a memo scope that
  // binds the variables `binds`.
  void open_loop(const std::string& var, const std::string& end, uint64_t binds) {
    line("for (long " + var + " = 0; " + var + " < " + end + "; ++" + var + ") {");
    ++indent_;
    memo_.emplace_back();
    memo_.back().binds = binds;
  }
  void close_loop() {
    memo_.pop_back();
    --indent_;
    line("}");
  }

  std::string fresh(const char* prefix) { return prefix + std::to_string(counter_++); }

  // Declares a value and returns its name.
  std::string let(Dtype t, const std::string& expr) {
    std::string name = fresh("t");
    line(std::string("const ") + compute_type(t) + " " + name + " = " + expr + ";");
    return name;
  }

  // ---- memoization (as codegen/llvm/emit.cpp) -------------------------------
  std::string lookup(int node) {
    uint64_t rebound = 0;
    for (auto it = memo_.rbegin(); it != memo_.rend(); ++it) {
      auto f = it->values.find(node);
      if (f != it->values.end()) return deps_[size_t(node)] & rebound ? "" : f->second;
      rebound |= it->binds;
    }
    return "";
  }

  // Emits every reduction under `node` that depends only on the variables
  // in `bound` and is not computed yet, in id (topological) order.
  void hoist_reductions(int node, uint64_t bound) {
    std::vector<char> seen(k_.nodes.size());
    std::vector<int> stack{node}, hoist;
    while (!stack.empty()) {
      int i = stack.back();
      stack.pop_back();
      if (seen[size_t(i)]) continue;
      seen[size_t(i)] = 1;
      const Node& n = k_.nodes[size_t(i)];
      if (n.kind == NodeKind::Reduce && (deps_[size_t(i)] & ~bound) == 0 && lookup(i).empty()) hoist.push_back(i);
      for (int o : n.operands) stack.push_back(o);
    }
    std::sort(hoist.begin(), hoist.end());
    for (int i : hoist) emit(i);
  }

  std::string emit(int node) {
    if (!constant_names_[size_t(node)].empty()) return constant_names_[size_t(node)];
    std::string v = lookup(node);
    if (!v.empty()) return v;
    v = emit_node(k_.nodes[size_t(node)]);
    memo_.back().values[node] = v;
    return v;
  }

  // ---- nodes -----------------------------------------------------------------
  std::string emit_node(const Node& n) {
    switch (n.kind) {
      case NodeKind::Load: return let(n.dtype, load(n));
      case NodeKind::Gather: {
        // The index as a position in [0, n) as the interpreter's take
        // reads it: a negative one wraps once, then it is clamped.
        std::string i = emit(n.operands[0]), len = "p" + std::to_string(n.extent_param);
        std::string pos = fresh("g");
        if (is_signed_int(k_.nodes[size_t(n.operands[0])].dtype)) {
          line("long " + pos + " = (long)" + i + ";");
          line("if (" + pos + " < 0) " + pos + " += " + len + ";");
          line(pos + " = clamp(" + pos + ", 0L, " + len + " - 1);");
        } else {
          line("const long " + pos + " = (ulong)" + i + " >= (ulong)" + len + " ? " + len + " - 1 : (long)" + i + ";");
        }
        return let(n.dtype, load(n, pos + " * p" + std::to_string(n.gather_stride_param)));
      }
      case NodeKind::Constant: return constant(n);
      case NodeKind::Reduce: return emit_reduce(n);
      case NodeKind::Select: {
        std::string c = emit(n.operands[0]), a = emit(n.operands[1]), b = emit(n.operands[2]);
        return let(n.dtype, c + " ? " + a + " : " + b);
      }
      case NodeKind::Unary: {
        Dtype in = k_.nodes[size_t(n.operands[0])].dtype;
        return let(n.dtype, round_to(n.dtype, unary(n.op, in, n.dtype, emit(n.operands[0]))));
      }
      case NodeKind::Binary: {
        Dtype in = k_.nodes[size_t(n.operands[0])].dtype;
        std::string a = emit(n.operands[0]), b = emit(n.operands[1]);
        return let(n.dtype, round_to(n.dtype, binary(n.op, in, a, b)));
      }
    }
    return "";
  }

  // The element of a Load (or, with `extra` added to its offset, a Gather).
  std::string load(const Node& n, const std::string& extra = "") {
    std::string off = "p" + std::to_string(n.offset_param);
    if (!extra.empty()) off += " + " + extra;
    for (size_t v = 0; v < n.strides.size(); ++v) {
      const auto& s = n.strides[v];
      if (s.kind == StrideKind::Zero) continue;
      off += " + " + vars_[v];
      if (s.kind == StrideKind::Param) off += " * p" + std::to_string(s.param);
    }
    std::string ptr = n.arg == k_.schedule.in_place ? "out" : "in" + std::to_string(n.arg);
    if (n.dtype == float16) return "vload_half(" + off + ", " + ptr + ")";
    if (n.dtype == bfloat16) return need("kl_bf16_to_float") + "(" + ptr + "[" + off + "])";
    if (n.dtype == bool_) return "(" + ptr + "[" + off + "] != 0)";
    return ptr + "[" + off + "]";
  }

  void store(const std::string& index, const std::string& v) { store_to("out", k_.output, index, v); }

  // The output and the extra outputs (kernel::ExtraOutput, only in kernels
  // without reductions) at output index `index`.
  void store_outputs(const std::string& index) {
    store(index, emit(k_.root));
    for (const kernel::ExtraOutput& e : k_.extra_outputs)
      store_to("in" + std::to_string(e.arg), k_.inputs[size_t(e.arg)], index, emit(e.node));
  }

  void store_to(const std::string& ptr, Dtype t, const std::string& index, const std::string& v) {
    if (t == float16) line("vstore_half_rte(" + v + ", " + index + ", " + ptr + ");");
    else if (t == bfloat16) line(ptr + "[" + index + "] = " + need("kl_float_to_bf16") + "(" + v + ");");
    else if (t == bool_) line(ptr + "[" + index + "] = (uchar)" + v + ";");
    else line(ptr + "[" + index + "] = " + v + ";");
  }

  std::string float_literal(Dtype t, double v) {
    bool dbl = t == float64;
    if (std::isnan(v)) return dbl ? "(double)NAN" : "NAN";
    if (std::isinf(v)) return std::string(v < 0 ? "-" : "") + (dbl ? "(double)INFINITY" : "INFINITY");
    // Hexadecimal: exact. A float constant is the double rounded to float,
    // as the CPU's ConstantFP.
    return "(" + (dbl ? hex_double(v) : hex_double(double(float(v))) + "f") + ")";
  }

  std::string int_literal(Dtype t, int64_t v) {
    if (t == bool_) return (v & 1) ? "true" : "false";
    char buf[64];
    std::snprintf(buf, sizeof buf, "0x%" PRIx64 "UL", uint64_t(v));
    return std::string("((") + compute_type(t) + ")" + buf + ")";
  }

  std::string constant(const Node& n) {
    if (is_floating(n.dtype)) return float_literal(n.dtype, n.fvalue);
    return int_literal(n.dtype, n.ivalue);
  }

  // The helper `base` for compute type t ("kl_sign" -> "kl_sign_f"), noted
  // for the prelude.
  std::string need(const std::string& name) {
    helpers_.insert(name);
    return name;
  }
  std::string typed(const char* base, Dtype t) { return need(std::string(base) + (t == float64 ? "_d" : "_f")); }

  std::string round_to(Dtype t, const std::string& v) {
    if (t == float16) return need("kl_round_half") + "(" + v + ")";
    if (t == bfloat16) return need("kl_round_bf16") + "(" + v + ")";
    return v;
  }

  // A transcendental built-in. OpenCL allows its float versions several
  // ulp (exp 3, tanh 5, erf 16, pow 16), more than kiln's budgets
  // (tests/test_math_approx.cpp): on a device with float64, float values
  // are computed in double and rounded once, within the budgets on any
  // conforming device. Double values use the built-ins (measured against
  // the budgets by tests/test_opencl.cpp on the device at hand).
  std::string math(Dtype t, const char* fn, const std::string& x, const std::string& y = "") {
    if (t != float64 && o_.float64) {
      std::string args = "(double)" + x + (y.empty() ? "" : ", (double)" + y);
      return std::string("(float)") + fn + "(" + args + ")";
    }
    return std::string(fn) + "(" + x + (y.empty() ? "" : ", " + y) + ")";
  }

  std::string one(Dtype t) { return t == float64 ? "1.0" : "1.0f"; }

  std::string cast(Dtype from, Dtype to, const std::string& x) {
    const char* ct = compute_type(to);
    if (to == bool_) return "(" + x + " != 0)";
    if (is_floating(from) && !is_floating(to))  // saturating, nan -> 0 (ir/element.h)
      return std::string("convert_") + ct + "_sat(" + x + ")";
    // Integer to float rounds to nearest; 16-bit floats go through float,
    // as on the CPU.
    return round_to(to, std::string("(") + ct + ")" + x);
  }

  std::string unary(OpKind k, Dtype in, Dtype out, const std::string& x) {
    bool f = is_float_compute(in);
    Dtype t = in;
    if (k == OpKind::Cast) return cast(in, out, x);
    if (k == OpKind::StopGradient) return x;
    std::string ct = compute_type(in);
    if (!f) {
      std::string w = wrap_type(in);
      switch (k) {
        case OpKind::Abs:
          if (in == bool_ || is_unsigned(in)) return x;
          return "(" + ct + ")abs(" + x + ")";  // abs(MIN) wraps to MIN
        case OpKind::Negative:
          if (in == bool_) return x;
          return "(" + ct + ")(0u - (" + w + ")" + x + ")";
        case OpKind::Sign:
          if (in == bool_) return x;
          if (is_unsigned(in)) return "(" + ct + ")(" + x + " != 0)";
          return "(" + ct + ")((" + x + " > 0) - (" + x + " < 0))";
        case OpKind::Square:
          if (in == bool_) return x;
          return "(" + ct + ")((" + w + ")" + x + " * (" + w + ")" + x + ")";
        case OpKind::Floor: case OpKind::Ceil: case OpKind::Round: return x;
        case OpKind::LogicalNot: return "!" + x;
        case OpKind::BitwiseInvert: return in == bool_ ? "!" + x : "(" + ct + ")~" + x;
        default: break;
      }
      throw std::logic_error(std::string("kiln opencl: no lowering for integer ") + ir::op_name(k));
    }
    switch (k) {
      case OpKind::Abs: return "fabs(" + x + ")";
      case OpKind::Negative: return "-" + x;
      case OpKind::Sign: return typed("kl_sign", t) + "(" + x + ")";
      case OpKind::Square: return x + " * " + x;
      // Correctly rounded (the program is built with
      // -cl-fp32-correctly-rounded-divide-sqrt where the device has it).
      case OpKind::Sqrt: return "sqrt(" + x + ")";
      case OpKind::Rsqrt: return one(t) + " / sqrt(" + x + ")";
      case OpKind::Exp: return math(t, "exp", x);
      case OpKind::Expm1: return math(t, "expm1", x);
      case OpKind::Log: return math(t, "log", x);
      case OpKind::Log2: return math(t, "log2", x);
      case OpKind::Log10: return math(t, "log10", x);
      case OpKind::Log1p: return math(t, "log1p", x);
      // Double sin, cos, tan: see prelude.cpp.
      case OpKind::Sin: return t == float64 ? need("kl_sin_d") + "(" + x + ")" : math(t, "sin", x);
      case OpKind::Cos: return t == float64 ? need("kl_cos_d") + "(" + x + ")" : math(t, "cos", x);
      case OpKind::Tan: return t == float64 ? need("kl_tan_d") + "(" + x + ")" : math(t, "tan", x);
      case OpKind::Arcsin: return math(t, "asin", x);
      case OpKind::Arccos: return math(t, "acos", x);
      case OpKind::Arctan: return math(t, "atan", x);
      case OpKind::Sinh: return math(t, "sinh", x);
      case OpKind::Cosh: return math(t, "cosh", x);
      case OpKind::Tanh: return math(t, "tanh", x);
      case OpKind::Arcsinh: return math(t, "asinh", x);
      case OpKind::Arccosh: return math(t, "acosh", x);
      case OpKind::Arctanh: return math(t, "atanh", x);
      case OpKind::Erf: return math(t, "erf", x);
      case OpKind::Sigmoid: return typed("kl_sigmoid", t) + "(" + x + ")";
      case OpKind::Erfinv: return typed("kl_erfinv", t) + "(" + x + ")";
      case OpKind::Floor: return "floor(" + x + ")";
      case OpKind::Ceil: return "ceil(" + x + ")";
      case OpKind::Round: return "rint(" + x + ")";  // half to even
      case OpKind::LogicalNot: return "!" + x;
      // Not float ops, or not unary ops.
      case OpKind::BitwiseInvert: case OpKind::Cast: case OpKind::StopGradient:
      case OpKind::Constant: case OpKind::Select: case OpKind::Argmax: case OpKind::Argmin: case OpKind::Bitcast:
      case OpKind::Matmul: case OpKind::Custom: case OpKind::Linalg:
      KILN_SCAN_SORT_OPS(KILN_OP_CASE)
      KILN_FFT_QUANT_OPS(KILN_OP_CASE)
      KILN_BINARY_OPS(KILN_OP_CASE)
      KILN_COMPARISON_OPS(KILN_OP_CASE)
      KILN_REDUCTION_OPS(KILN_OP_CASE)
      KILN_MOVEMENT_OPS(KILN_OP_CASE)
      KILN_SCATTER_OPS(KILN_OP_CASE)
        break;
    }
    throw std::logic_error(std::string("kiln opencl: no lowering for unary ") + ir::op_name(k));
  }

  std::string binary(OpKind k, Dtype t, const std::string& a, const std::string& b) {
    bool f = is_float_compute(t);
    std::string ct = compute_type(t);
    std::string w = wrap_type(t);
    bool u = is_unsigned(t), is_bool = t == bool_;
    auto wrap = [&](const char* op) { return "(" + ct + ")((" + w + ")" + a + " " + op + " (" + w + ")" + b + ")"; };
    switch (k) {
      case OpKind::Add: return f ? a + " + " + b : is_bool ? "(" + a + " | " + b + ")" : wrap("+");
      case OpKind::Subtract: return f ? a + " - " + b : is_bool ? "(" + a + " ^ " + b + ")" : wrap("-");
      case OpKind::Multiply: return f ? a + " * " + b : is_bool ? "(" + a + " & " + b + ")" : wrap("*");
      case OpKind::Divide: return a + " / " + b;
      case OpKind::FloorDivide: {
        if (f) return typed("kl_floordiv", t) + "(" + a + ", " + b + ")";
        if (u) return "(" + b + " == 0 ? (" + ct + ")0 : (" + ct + ")(" + a + " / " + b + "))";
        // Division by 0 gives 0 and MIN / -1 wraps (as the interpreter).
        std::string d = signed_division(t, a, b);
        return "(" + b + " == 0 ? (" + ct + ")0 : " + b + " == -1 ? (" + ct + ")(0u - (" + w + ")" + a + ") : (" +
               ct + ")((" + w + ")(" + a + " / " + d + "_s) - (" + w + ")" + d + "_x))";
      }
      case OpKind::Remainder: {
        if (f) return typed("kl_rem", t) + "(" + a + ", " + b + ")";
        if (u) return "(" + b + " == 0 ? (" + ct + ")0 : (" + ct + ")(" + a + " % " + b + "))";
        std::string d = signed_division(t, a, b);
        return "((" + b + " == 0 || " + b + " == -1) ? (" + ct + ")0 : " + d + "_x ? (" + ct + ")(" + d + "_r + " +
               d + "_s) : " + d + "_r)";
      }
      case OpKind::Power: return math(t, "pow", a, b);
      case OpKind::Maximum:
        if (f) return typed("kl_max", t) + "(" + a + ", " + b + ")";
        return "(" + a + " > " + b + " ? " + a + " : " + b + ")";
      case OpKind::Minimum:
        if (f) return typed("kl_min", t) + "(" + a + ", " + b + ")";
        return "(" + a + " < " + b + " ? " + a + " : " + b + ")";
      case OpKind::Arctan2: return math(t, "atan2", a, b);
      case OpKind::LogAddExp: return typed("kl_logaddexp", t) + "(" + a + ", " + b + ")";
      case OpKind::LogicalAnd: return "(" + a + " && " + b + ")";
      case OpKind::LogicalOr: return "(" + a + " || " + b + ")";
      case OpKind::BitwiseAnd: return "(" + ct + ")(" + a + " & " + b + ")";
      case OpKind::BitwiseOr: return "(" + ct + ")(" + a + " | " + b + ")";
      case OpKind::BitwiseXor: return "(" + ct + ")(" + a + " ^ " + b + ")";
      case OpKind::LeftShift: case OpKind::RightShift: {
        // Amounts outside [0, bits) give 0 (and -1 for a negative signed
        // value shifted right): OpenCL would take them modulo the width.
        std::string bits = std::to_string(8 * t.size());
        std::string ok = "((" + w + ")" + b + " < " + bits + "u)";
        if (k == OpKind::LeftShift)
          return "(" + ok + " ? (" + ct + ")((" + w + ")" + a + " << (" + w + ")" + b + ") : (" + ct + ")0)";
        if (u) return "(" + ok + " ? (" + ct + ")(" + a + " >> " + b + ") : (" + ct + ")0)";
        return "(" + ct + ")(" + a + " >> (" + ok + " ? " + b + " : (" + ct + ")" + std::to_string(8 * t.size() - 1) +
               "))";
      }
      case OpKind::Equal: return "(" + a + " == " + b + ")";
      case OpKind::NotEqual: return "(" + a + " != " + b + ")";
      case OpKind::Less: return "(" + a + " < " + b + ")";
      case OpKind::LessEqual: return "(" + a + " <= " + b + ")";
      case OpKind::Greater: return "(" + a + " > " + b + ")";
      case OpKind::GreaterEqual: return "(" + a + " >= " + b + ")";
      // Not binary ops.
      case OpKind::Constant: case OpKind::Select: case OpKind::Argmax: case OpKind::Argmin: case OpKind::Bitcast:
      case OpKind::Matmul: case OpKind::Custom: case OpKind::Linalg:
      KILN_SCAN_SORT_OPS(KILN_OP_CASE)
      KILN_FFT_QUANT_OPS(KILN_OP_CASE)
      KILN_UNARY_OPS(KILN_OP_CASE)
      KILN_REDUCTION_OPS(KILN_OP_CASE)
      KILN_MOVEMENT_OPS(KILN_OP_CASE)
      KILN_SCATTER_OPS(KILN_OP_CASE)
        break;
    }
    throw std::logic_error(std::string("kiln opencl: no lowering for binary ") + ir::op_name(k));
  }

  // Integer a / b made safe, as named values <d>_s (the divisor with 0 and
  // -1 replaced by 1), <d>_r (the truncated remainder) and <d>_x (whether a
  // floored result needs adjusting: a nonzero remainder whose sign differs
  // from the divisor's). Returns <d>.
  std::string signed_division(Dtype t, const std::string& a, const std::string& b) {
    std::string d = fresh("d"), ct = compute_type(t);
    line("const " + ct + " " + d + "_s = (" + b + " == 0 || " + b + " == -1) ? (" + ct + ")1 : " + b + ";");
    line("const " + ct + " " + d + "_r = (" + ct + ")(" + a + " % " + d + "_s);");
    line("const int " + d + "_x = " + d + "_r != 0 && ((" + d + "_r < 0) != (" + d + "_s < 0));");
    return d;
  }

  // ---- reductions ------------------------------------------------------------
  std::string identity(OpKind k, Dtype t, bool wide) {
    bool f = is_floating(t);
    if (wide) return k == OpKind::Sum ? "-0.0" : "1.0";
    switch (k) {
      case OpKind::Sum: return f ? float_literal(t, -0.0) : int_literal(t, 0);
      case OpKind::Prod: return f ? float_literal(t, 1.0) : int_literal(t, 1);
      case OpKind::All: return "true";
      case OpKind::Any: return "false";
      case OpKind::Max: case OpKind::Min: {
        bool max = k == OpKind::Max;
        if (f) return float_literal(t, max ? -INFINITY : INFINITY);
        if (t == bool_) return max ? "false" : "true";
        if (is_unsigned(t)) return max ? int_literal(t, 0) : int_literal(t, -1);
        int bits = 8 * t.size();
        uint64_t min = uint64_t(1) << (bits - 1);
        return int_literal(t, int64_t(max ? min : min - 1));
      }
      default: throw std::logic_error("kiln opencl: not a reduction");
    }
  }

  std::string emit_reduce(const Node& n) {
    // Inner reductions that do not depend on this one's variable run first.
    hoist_reductions(n.operands[0], bound_);
    Dtype t = n.dtype;
    bool f = is_floating(t);
    // The schedule's accumulator (float sums and products in double, as
    // the interpreter), where the device has float64; else float.
    auto sched = k_.schedule.reductions.find(int(&n - k_.nodes.data()));
    Dtype acc_dtype = sched != k_.schedule.reductions.end() ? sched->second.accumulator : t;
    bool wide = f && t != float64 && acc_dtype == float64 && o_.float64;
    std::string acc_t = wide ? "double" : compute_type(t);
    bool extremum = f && (n.op == OpKind::Max || n.op == OpKind::Min);
    std::string acc = fresh("a"), nan = acc + "_nan";
    line(acc_t + " " + acc + " = " + identity(n.op, t, wide) + ";");
    if (extremum) line("bool " + nan + " = false;");
    std::string var = fresh("j");
    std::string extent = "p" + std::to_string(n.extent_param);
    std::string saved = vars_[size_t(n.var)];
    uint64_t saved_bound = bound_;
    open_loop(var, extent, uint64_t(1) << n.var);
    vars_[size_t(n.var)] = var;
    bound_ |= uint64_t(1) << n.var;
    std::string x = emit(n.operands[0]);
    if (extremum) {
      // x > acc ? x : acc, NaNs kept apart: ties (-0 and +0) keep the
      // first, and any NaN makes the result NaN.
      line(nan + " |= isnan(" + x + ") != 0;");
      line("if (" + x + (n.op == OpKind::Max ? " > " : " < ") + acc + ") " + acc + " = " + x + ";");
    } else {
      std::string ct = compute_type(t), w = wrap_type(t);
      std::string xv = wide ? "(double)" + x : x;
      std::string next;
      switch (n.op) {
        case OpKind::Sum:
          next = f ? acc + " + " + xv : t == bool_ ? acc + " | " + x : "(" + ct + ")((" + w + ")" + acc + " + (" + w + ")" + x + ")";
          break;
        case OpKind::Prod:
          next = f ? acc + " * " + xv : t == bool_ ? acc + " & " + x : "(" + ct + ")((" + w + ")" + acc + " * (" + w + ")" + x + ")";
          break;
        case OpKind::All: next = acc + " && " + x; break;
        case OpKind::Any: next = acc + " || " + x; break;
        case OpKind::Max: next = t == bool_ ? acc + " | " + x : "(" + x + " > " + acc + " ? " + x + " : " + acc + ")"; break;
        case OpKind::Min: next = t == bool_ ? acc + " & " + x : "(" + x + " < " + acc + " ? " + x + " : " + acc + ")"; break;
        default: throw std::logic_error("kiln opencl: not a reduction");
      }
      line(acc + " = " + next + ";");
    }
    close_loop();
    vars_[size_t(n.var)] = saved;
    bound_ = saved_bound;
    std::string result = wide ? "(" + std::string(compute_type(t)) + ")" + acc : acc;
    if (extremum) result = nan + " ? " + float_literal(t, NAN) + " : " + result;
    // Float sums start from -0 (exact for a single -0 term); an empty one is +0.
    if (n.op == OpKind::Sum && f) result = "(" + extent + " == 0 ? " + float_literal(t, 0.0) + " : " + result + ")";
    return let(t, round_to(t, result));
  }

  const Kernel& k_;
  EmitOptions o_;
  std::vector<uint64_t> deps_;
  std::vector<std::string> vars_;             // per loop variable: its name where emitting
  std::vector<std::string> constant_names_;  // per node: a parameter constant's name, or ""
  struct Scope {
    std::unordered_map<int, std::string> values;
    uint64_t binds = 0;
  };
  std::vector<Scope> memo_;
  uint64_t bound_ = 0;
  std::ostringstream code_;
  int indent_ = 1;
  int counter_ = 0;
  std::set<std::string> helpers_;
};

}  // namespace

std::string opencl_source(const Kernel& k, const std::string& name, const EmitOptions& options) {
  return Emitter(k, options).source(name);
}

int64_t opencl_items(const Kernel& k, int64_t outer) { return one_item(k) ? std::min<int64_t>(outer, 1) : outer; }

std::vector<int64_t> float_constant_params(const Kernel& k, const int64_t* params) {
  std::vector<int64_t> p(params, params + k.num_params);
  for (const Node& n : k.nodes) {
    if (n.kind != NodeKind::Constant || n.value_param < 0 || !is_floating(n.dtype) || n.dtype == float64) continue;
    double d;
    std::memcpy(&d, &params[n.value_param], sizeof d);
    float f = float(d);
    uint32_t bits;
    std::memcpy(&bits, &f, sizeof bits);
    p[size_t(n.value_param)] = int64_t(bits);
  }
  return p;
}

}  // namespace kiln::codegen::opencl
