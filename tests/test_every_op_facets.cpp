// Every op kind of ir/ops.h, five facets: the interpreter against NumPy's
// values, the JIT (codegen::execute) against the interpreter, vjp and jvp
// against central differences, vmap against a loop over slices.
//
// The cases (one op on fixed inputs, with NumPy's result) are made by
// tests/every_op_cases.py into tests/data/every_op_cases.inc. An op kind
// without a case fails EveryOpFacets.EveryOpKindHasACase, so a new op is
// not silently untested. An op that is not differentiable is still run
// through vjp and jvp: its gradient is zero (floating inputs) or the
// transform refuses the inputs with a clear error (no floating input); a
// case may name the error kiln gives for a derivative it does not define.
// The facets an op kind skips are listed in kExclusions, each with why.
#include <gtest/gtest.h>

#include <cmath>
#include <complex>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "codegen/executor.h"
#include "ir/custom.h"
#include "ir/element.h"
#include "ir/interpreter.h"
#include "ir/linalg.h"
#include "ir/ops.h"
#include "ir/printer.h"
#include "ir/type_rules.h"
#include "ir/verifier.h"
#include "passes/transforms.h"
#include "runtime/buffer.h"
#include "ir_test_helpers.h"

using namespace kiln;
using namespace kiln::ir;

namespace {

enum class Facet { Reference, Jit, Vjp, Jvp, Vmap };

// The only list of skipped facets: op kind, facet, reason.
struct Exclusion {
  OpKind kind;
  Facet facet;
  const char* why;
};
const std::vector<Exclusion> kExclusions = {
    // This harness's finite differences and dot products read real parts
    // only; FFT's vjp/jvp (complex cotangents, JAX's convention) are checked
    // against finite differences and PyTorch in tests/test_fft_grad.cpp.
    {OpKind::FFT, Facet::Vjp, "complex values: tested in test_fft_grad.cpp"},
    {OpKind::FFT, Facet::Jvp, "complex values: tested in test_fft_grad.cpp"},
};

bool excluded(OpKind k, Facet f) {
  for (const Exclusion& e : kExclusions)
    if (e.kind == k && e.facet == f) return true;
  return false;
}

// ---- the cases -----------------------------------------------------------

constexpr double kInf = INFINITY;
constexpr double kNaN = NAN;
const std::vector<int> kFloatingInputs = {-1};  // differentiate every floating input

// A tensor as the generator writes it: short dtype name, shape, row-major
// values (complex: real and imaginary parts interleaved).
struct Values {
  const char* dtype;
  Shape shape;
  std::vector<double> values;
};

struct Case {
  const char* label;
  const char* op;  // text name
  Attrs attrs;
  std::vector<Values> inputs;
  Values out;  // NumPy's result
  std::vector<int> wrt;
  const char* grad_error;  // a part of the error vjp and jvp must give, or null
  std::vector<int> unbatchable;  // inputs vmap refuses to batch
  const char* vmap_error;        // a part of its error then
};

const std::vector<Case>& cases() {
  static const std::vector<Case> all = {
#include "data/every_op_cases.inc"
  };
  return all;
}

Tensor to_tensor(const Values& v) {
  Dtype d;
  if (!dtype_from_short_name(v.dtype, &d)) throw std::logic_error(std::string("unknown dtype ") + v.dtype);
  Type t{d, v.shape};
  const size_t per = is_complex(d) ? 2 : 1;
  if (v.values.size() != size_t(t.size()) * per) throw std::logic_error("value count does not match the shape");
  Tensor x{t, runtime::allocate(size_t(t.nbytes()))};
  for (int64_t i = 0; i < t.size(); ++i) {
    if (is_complex(d)) store_c128(d, x.buffer->data(), i, {v.values[2 * i], v.values[2 * i + 1]});
    else if (is_floating(d)) store_f64(d, x.buffer->data(), i, v.values[i]);
    else store_i64(d, x.buffer->data(), i, int64_t(v.values[i]));
  }
  return x;
}

// The custom case: a call of F(x, y) = sin(x) * y without rules of its own
// (vjp differentiates F and recomputes it, jvp differentiates F).
Op custom_call(const std::vector<Type>& in) {
  auto fwd = std::make_shared<Function>();
  int x = fwd->add_input(in.at(0)), y = fwd->add_input(in.at(1));
  int s = fwd->add_op(make_op(OpKind::Sin, {x}, in[0]));
  fwd->outputs = {fwd->add_op(make_op(OpKind::Multiply, {s, y}, in[0]))};
  auto c = std::make_shared<Custom>();
  c->forward = fwd;
  Op op = make_op(OpKind::Custom, {0, 1}, in[0], {{"index", int64_t(0)}, {"num_primals", int64_t(2)}});
  op.custom = std::move(c);
  return op;
}

struct Built {
  OpKind kind;
  Function f;  // the op on f's inputs
  std::vector<Tensor> inputs;
  Tensor reference;
  std::vector<int> wrt;
};

Built build(const Case& c) {
  Built b;
  if (!op_from_name(c.op, &b.kind)) throw std::logic_error(std::string("no op named ") + c.op);
  b.reference = to_tensor(c.out);
  std::vector<int> operands;
  std::vector<Type> types;
  for (const Values& v : c.inputs) {
    b.inputs.push_back(to_tensor(v));
    types.push_back(b.inputs.back().type);
    operands.push_back(b.f.add_input(types.back()));
  }
  Op op;
  if (b.kind == OpKind::Constant) op = make_constant(b.reference.type, b.reference.buffer->data());
  else if (b.kind == OpKind::Custom) op = custom_call(types);
  else op = make_op(b.kind, operands, infer_type(b.kind, types, c.attrs, b.reference.type), c.attrs);
  b.f.outputs = {b.f.add_op(std::move(op))};
  verify(b.f);  // the attributes too
  if (c.wrt == kFloatingInputs) {
    for (size_t i = 0; i < types.size(); ++i)
      if (is_floating(types[i].dtype)) b.wrt.push_back(int(i));
  } else {
    b.wrt = c.wrt;
  }
  return b;
}

// Runs check(case, built) for every case not excluded from the facet,
// with the case and its function in the failure messages.
int for_each_case(Facet facet, const std::function<void(const Case&, const Built&)>& check) {
  int checked = 0;
  for (const Case& c : cases()) {
    Built b;
    try {
      b = build(c);
    } catch (const std::exception& e) {
      ADD_FAILURE() << c.label << ": " << e.what();
      continue;
    }
    if (excluded(b.kind, facet)) continue;
    SCOPED_TRACE(std::string(c.label) + "\n" + print(b.f));
    try {
      check(c, b);
    } catch (const std::exception& e) {
      ADD_FAILURE() << "threw: " << e.what();
    }
    ++checked;
  }
  return checked;
}

// |got - want| <= tol * scale elementwise (NaN matches NaN); integers and
// bools exactly.
::testing::AssertionResult close(const Tensor& got, const Tensor& want, double tol) {
  if (got.type != want.type)
    return ::testing::AssertionFailure() << "type " << type_to_string(got.type) << " vs " << type_to_string(want.type);
  const Dtype d = want.type.dtype;
  double scale = 1;
  for (int64_t i = 0; i < want.type.size(); ++i) {
    double m = std::abs(load_c128(d, want.buffer->data(), i));
    if (std::isfinite(m)) scale = std::max(scale, m);
  }
  for (int64_t i = 0; i < want.type.size(); ++i) {
    if (!is_inexact(d)) {
      if (load_i64(d, got.buffer->data(), i) != load_i64(d, want.buffer->data(), i))
        return ::testing::AssertionFailure() << "element " << i << ": " << load_i64(d, got.buffer->data(), i)
                                             << " vs " << load_i64(d, want.buffer->data(), i);
      continue;
    }
    std::complex<double> g = load_c128(d, got.buffer->data(), i), w = load_c128(d, want.buffer->data(), i);
    for (auto [x, y] : {std::pair{g.real(), w.real()}, std::pair{g.imag(), w.imag()}}) {
      if ((std::isnan(x) && std::isnan(y)) || x == y) continue;
      if (!(std::fabs(x - y) <= tol * scale))
        return ::testing::AssertionFailure() << "element " << i << ": " << x << " vs " << y << " (tolerance "
                                             << tol * scale << ")";
    }
  }
  return ::testing::AssertionSuccess();
}

bool single_precision(Dtype d) { return d == float32 || d == complex64 || d == float16 || d == bfloat16; }

}  // namespace

TEST(EveryOpFacets, EveryOpKindHasACase) {
  std::map<OpKind, int> cases_of;
  std::map<OpKind, int> derivative_cases_of;  // checked against finite differences
  std::set<std::string> labels;
  for (const Case& c : cases()) {
    EXPECT_TRUE(labels.insert(c.label).second) << "two cases named " << c.label;
    Built b;
    try {
      b = build(c);
    } catch (const std::exception& e) {
      ADD_FAILURE() << c.label << ": " << e.what();
      continue;
    }
    ++cases_of[b.kind];
    if (!b.wrt.empty() && !c.grad_error && is_floating(b.reference.type.dtype)) ++derivative_cases_of[b.kind];
  }
  for (int i = 0; i < kNumOpKinds; ++i) {
    const OpKind k = OpKind(i);
    EXPECT_GT(cases_of[k], 0) << op_name(k) << " has no case: add one to tests/every_op_cases.py";
    if (is_differentiable(k) && !(excluded(k, Facet::Vjp) && excluded(k, Facet::Jvp))) {
      EXPECT_GT(derivative_cases_of[k], 0) << op_name(k) << " is differentiable but no case checks its derivative";
    }
  }
  for (const Exclusion& e : kExclusions) EXPECT_GT(std::strlen(e.why), 10u) << op_name(e.kind);
}

// The interpreter (the oracle) against NumPy's values, the result type
// against NumPy's.
TEST(EveryOpFacets, InterpreterMatchesNumpy) {
  int n = for_each_case(Facet::Reference, [](const Case&, const Built& b) {
    Tensor got = interpret(b.f, b.inputs).at(0);
    const Dtype d = b.reference.type.dtype;
    // NumPy computed in double; single-precision ops round each step.
    double tol = single_precision(d) ? 1e-4 : 1e-11;
    for (const Tensor& x : b.inputs) tol = single_precision(x.type.dtype) ? std::max(tol, 1e-4) : tol;
    EXPECT_TRUE(close(got, b.reference, tol));
  });
  EXPECT_GT(n, 150);
}

// The native path (JIT kernels, host kernels) against the interpreter.
TEST(EveryOpFacets, JitMatchesTheInterpreter) {
  int n = for_each_case(Facet::Jit, [](const Case&, const Built& b) {
    Tensor want = interpret(b.f, b.inputs).at(0);
    Tensor got = codegen::execute(b.f, b.inputs).at(0);
    EXPECT_TRUE(kiln_test::agree(got, want, true));
  });
  EXPECT_GT(n, 150);
}

namespace {

// Directions and cotangents: values in (0.2, 0.8) of type t.
Tensor direction(const Type& t, int salt) {
  Tensor x{t, runtime::allocate(size_t(t.nbytes()))};
  for (int64_t i = 0; i < t.size(); ++i) {
    double v = 0.2 + 0.6 * std::fmod(0.137 * double(i + 1) + 0.311 * salt, 1.0);
    if (is_complex(t.dtype)) store_c128(t.dtype, x.buffer->data(), i, {v, 0.0});
    else if (is_floating(t.dtype)) store_f64(t.dtype, x.buffer->data(), i, v);
    else store_i64(t.dtype, x.buffer->data(), i, 0);
  }
  return x;
}

Tensor moved(const Tensor& x, const Tensor& dir, double h) {
  Tensor y{x.type, runtime::allocate(size_t(x.type.nbytes()))};
  const Dtype d = x.type.dtype;
  for (int64_t i = 0; i < x.type.size(); ++i)
    store_f64(d, y.buffer->data(), i, load_f64(d, x.buffer->data(), i) + h * load_f64(d, dir.buffer->data(), i));
  return y;
}

double dot(const Tensor& a, const Tensor& b) {
  double s = 0;
  for (int64_t i = 0; i < a.type.size(); ++i)
    s += load_f64(a.type.dtype, a.buffer->data(), i) * load_f64(b.type.dtype, b.buffer->data(), i);
  return s;
}

bool all_zero(const Tensor& t) {
  for (int64_t i = 0; i < t.type.size(); ++i)
    if (std::abs(load_c128(t.type.dtype, t.buffer->data(), i)) != 0) return false;
  return true;
}

// What vjp or jvp of the case must do: match finite differences, give a
// zero derivative, or throw.
enum class Expect { FiniteDifferences, Zero, NoFloatingInput, Error };
Expect expectation(const Case& c, const Built& b) {
  if (b.wrt.empty()) return b.f.inputs.empty() ? Expect::Zero : Expect::NoFloatingInput;
  if (c.grad_error) return Expect::Error;
  if (!is_differentiable(b.kind) || !is_floating(b.reference.type.dtype)) return Expect::Zero;
  return Expect::FiniteDifferences;
}

// J v by central differences, all wrt inputs moved along their directions
// at once; 0 where both sides agree (an infinite result stays infinite).
Tensor jacobian_times(const Built& b, const std::vector<Tensor>& dirs, double h) {
  std::vector<Tensor> plus = b.inputs, minus = b.inputs;
  for (size_t j = 0; j < b.wrt.size(); ++j) {
    plus[size_t(b.wrt[j])] = moved(b.inputs[size_t(b.wrt[j])], dirs[j], h);
    minus[size_t(b.wrt[j])] = moved(b.inputs[size_t(b.wrt[j])], dirs[j], -h);
  }
  Tensor fp = interpret(b.f, plus).at(0), fm = interpret(b.f, minus).at(0);
  const Type& t = fp.type;
  Tensor jv{t, runtime::allocate(size_t(t.nbytes()))};
  for (int64_t i = 0; i < t.size(); ++i) {
    double p = load_f64(t.dtype, fp.buffer->data(), i), m = load_f64(t.dtype, fm.buffer->data(), i);
    store_f64(t.dtype, jv.buffer->data(), i, p == m ? 0.0 : (p - m) / (2 * h));
  }
  return jv;
}

bool single_precision_case(const Built& b) {
  bool single = single_precision(b.reference.type.dtype);
  for (int w : b.wrt) single = single || single_precision(b.inputs[size_t(w)].type.dtype);
  return single;
}

// cholesky, eigh and eigvalsh are functions of a symmetric matrix (they
// read one triangle): their derivative is along symmetric directions, as
// MLX's and JAX's.
bool symmetric_directions(const Built& b) {
  if (b.kind != OpKind::Linalg) return false;
  const auto k = LinalgKind(b.f.ops[0].int_attr("kind"));
  return k == LinalgKind::Cholesky || k == LinalgKind::Eigh || k == LinalgKind::Eigvalsh;
}

// (v + v^T) / 2 over the last two axes of a square matrix (batch).
Tensor symmetrized(const Tensor& v) {
  const Shape& s = v.type.shape;
  const int64_t n = s.back(), mats = v.type.size() / (n * n);
  Tensor w{v.type, runtime::allocate(size_t(v.type.nbytes()))};
  const Dtype d = v.type.dtype;
  for (int64_t m = 0; m < mats; ++m)
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < n; ++j)
        store_f64(d, w.buffer->data(), m * n * n + i * n + j,
                  0.5 * (load_f64(d, v.buffer->data(), m * n * n + i * n + j) +
                         load_f64(d, v.buffer->data(), m * n * n + j * n + i)));
  return w;
}

void check_derivative(const Case& c, const Built& b, Facet facet) {
  const bool vjp = facet == Facet::Vjp;
  auto transform = [&](const std::vector<int>& wrt) {
    return vjp ? passes::vjp(b.f, wrt) : passes::jvp(b.f, wrt);
  };
  const Expect expect = expectation(c, b);
  if (expect == Expect::NoFloatingInput || expect == Expect::Error) {
    const std::vector<int> wrt = expect == Expect::Error ? b.wrt : std::vector<int>{0};
    const std::string want = expect == Expect::Error ? c.grad_error : "only floating point and complex inputs are differentiable";
    try {
      transform(wrt);
      ADD_FAILURE() << "no error; expected one containing \"" << want << "\"";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(want), std::string::npos) << e.what();
    }
    return;
  }
  std::vector<Tensor> dirs;
  for (size_t j = 0; j < b.wrt.size(); ++j) {
    dirs.push_back(direction(b.inputs[size_t(b.wrt[j])].type, int(j) + 5));
    if (symmetric_directions(b)) dirs.back() = symmetrized(dirs.back());
  }
  const Type& yt = b.reference.type;
  Function g = transform(b.wrt);
  if (vjp) {
    Tensor ct = direction(yt, 9);
    std::vector<Tensor> in = b.inputs;
    in.push_back(ct);
    std::vector<Tensor> grads = interpret(g, in);
    ASSERT_EQ(grads.size(), 1 + b.wrt.size());
    if (expect == Expect::Zero) {
      for (size_t j = 0; j < b.wrt.size(); ++j) EXPECT_TRUE(all_zero(grads[1 + j])) << "gradient " << j;
      return;
    }
    const double h = single_precision_case(b) ? 1e-3 : 1e-6, tol = single_precision_case(b) ? 2e-3 : 1e-5;
    double lhs = dot(ct, jacobian_times(b, dirs, h)), rhs = 0;
    for (size_t j = 0; j < b.wrt.size(); ++j) rhs += dot(grads[1 + j], dirs[j]);
    EXPECT_NEAR(rhs, lhs, tol * std::max(1.0, std::fabs(lhs))) << "<vjp(ct), v> vs <ct, J v>";
  } else {
    std::vector<Tensor> in = b.inputs;
    in.insert(in.end(), dirs.begin(), dirs.end());
    std::vector<Tensor> out = interpret(g, in);
    ASSERT_EQ(out.size(), 2u);
    if (expect == Expect::Zero) {
      EXPECT_TRUE(all_zero(out[1])) << "tangent";
      return;
    }
    const double h = single_precision_case(b) ? 1e-3 : 1e-6, tol = single_precision_case(b) ? 2e-3 : 1e-5;
    EXPECT_TRUE(close(out[1], jacobian_times(b, dirs, h), tol)) << "jvp vs J v";
  }
}

}  // namespace

// vjp: <ct, J v> = <J^T ct, v> for J v by central differences.
TEST(EveryOpFacets, VjpMatchesFiniteDifferences) {
  int n = for_each_case(Facet::Vjp, [](const Case& c, const Built& b) { check_derivative(c, b, Facet::Vjp); });
  EXPECT_GT(n, 150);
}

// jvp: the tangent equals J v by central differences.
TEST(EveryOpFacets, JvpMatchesFiniteDifferences) {
  int n = for_each_case(Facet::Jvp, [](const Case& c, const Built& b) { check_derivative(c, b, Facet::Jvp); });
  EXPECT_GT(n, 150);
}

namespace {

// Entry b of a batch: floating (and complex) inputs scaled by 1 - b/10 (which
// keeps every case's domain: positive definite, distinct, inside (-1, 1));
// integer and bool inputs (indices, codes) unchanged.
Tensor batch_entry(const Tensor& x, int b) {
  if (!is_inexact(x.type.dtype) || b == 0) return x;
  Tensor y{x.type, runtime::allocate(size_t(x.type.nbytes()))};
  for (int64_t i = 0; i < x.type.size(); ++i)
    store_c128(x.type.dtype, y.buffer->data(), i, load_c128(x.type.dtype, x.buffer->data(), i) * (1 - 0.1 * b));
  return y;
}

// The entries stacked along a new axis `axis`.
Tensor stack(const std::vector<Tensor>& entries, int axis) {
  Type t = entries.at(0).type;
  const size_t es = size_t(t.dtype.size());
  int64_t outer = 1, inner = 1;
  for (size_t d = 0; d < t.shape.size(); ++d) (int(d) < axis ? outer : inner) *= t.shape[d];
  t.shape.insert(t.shape.begin() + axis, int32_t(entries.size()));
  Tensor s{t, runtime::allocate(size_t(t.nbytes()))};
  for (int64_t o = 0; o < outer; ++o)
    for (size_t b = 0; b < entries.size(); ++b)
      if (inner)
        std::memcpy(static_cast<char*>(s.buffer->data()) + ((o * int64_t(entries.size()) + int64_t(b)) * inner) * es,
                    static_cast<const char*>(entries[b].buffer->data()) + o * inner * es, size_t(inner) * es);
  return s;
}

}  // namespace

// vmap over a batch of 3: every input batched along axis 0; only the first
// batched (the others shared); the first batched along its last axis.
// Each entry of the result equals the op applied to that entry's inputs.
TEST(EveryOpFacets, VmapMatchesALoopOverSlices) {
  const int batch = 3;
  int n = for_each_case(Facet::Vmap, [&](const Case& c, const Built& b) {
    const size_t n_in = b.inputs.size();
    std::vector<std::vector<int>> modes = {std::vector<int>(n_in, 0)};
    if (n_in > 1) {
      std::vector<int> first(n_in, -1);
      first[0] = 0;
      modes.push_back(first);
    }
    if (n_in > 0 && !b.inputs[0].type.shape.empty()) {
      std::vector<int> last(n_in, -1);
      last[0] = int(b.inputs[0].type.shape.size());
      modes.push_back(last);
    }
    for (const std::vector<int>& in_axes : modes) {
      std::string axes_text;
      for (int a : in_axes) axes_text += std::to_string(a) + " ";
      SCOPED_TRACE("in_axes " + axes_text);
      bool refused = false;
      for (int i : c.unbatchable) refused = refused || in_axes[size_t(i)] >= 0;
      if (refused) {
        try {
          passes::vmap(b.f, in_axes, {0}, batch);
          ADD_FAILURE() << "no error; expected one containing \"" << c.vmap_error << "\"";
        } catch (const std::invalid_argument& e) {
          EXPECT_NE(std::string(e.what()).find(c.vmap_error), std::string::npos) << e.what();
        }
        continue;
      }
      std::vector<Tensor> batched;
      for (size_t i = 0; i < n_in; ++i) {
        if (in_axes[i] < 0) {
          batched.push_back(b.inputs[i]);
          continue;
        }
        std::vector<Tensor> entries;
        for (int e = 0; e < batch; ++e) entries.push_back(batch_entry(b.inputs[i], e));
        batched.push_back(stack(entries, in_axes[i]));
      }
      Function g = passes::vmap(b.f, in_axes, {0}, batch);
      Tensor yb = interpret(g, batched).at(0);
      for (int e = 0; e < batch; ++e) {
        std::vector<Tensor> xs;
        for (size_t i = 0; i < n_in; ++i) xs.push_back(in_axes[i] < 0 ? b.inputs[i] : batch_entry(b.inputs[i], e));
        Tensor y = interpret(b.f, xs).at(0);
        ASSERT_EQ(yb.type.shape.size(), y.type.shape.size() + 1);
        Tensor entry{y.type, runtime::allocate(size_t(y.type.nbytes()))};
        if (y.type.nbytes())
          std::memcpy(entry.buffer->data(), static_cast<const char*>(yb.buffer->data()) + e * y.type.nbytes(),
                      size_t(y.type.nbytes()));
        EXPECT_TRUE(kiln_test::agree(entry, y, true)) << "batch entry " << e;
      }
    }
  });
  EXPECT_GT(n, 150);
}
