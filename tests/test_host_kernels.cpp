// The host kernels (codegen/host_kernels.h) against the reference
// interpreter, bit for bit (a nan matching any nan): every op kind and dtype that the fusion plan
// leaves on the host (found by asking passes::plan_fusion, so a new host op
// is tested without a new line), the data movement ops over element sizes
// of 1, 2, 4 and 8 bytes with negative and out-of-range indices, empty and
// 0-d shapes, argmax/argmin with NaNs and ties, and sizes large enough to
// run on several threads. Also: codegen never includes the interpreter.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <tuple>

#include "codegen/executor.h"
#include "codegen/host_kernels.h"
#include "ir/element.h"
#include "ir/interpreter.h"
#include "ir/printer.h"
#include "ir/type_rules.h"
#include "passes/fusion.h"
#include "runtime/blas.h"
#include "runtime/buffer.h"
#include "runtime/narrow_gemm.h"
#include "runtime/openblas.h"
#include "runtime/thread_pool.h"

using namespace kiln;
using namespace kiln::ir;

namespace {

constexpr double kNan = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

std::vector<Dtype> all_dtypes() {
  std::vector<Dtype> ds;
  for (int i = 0; i < kNumDtypes; ++i) ds.push_back(Dtype(Dtype::Val(i)));
  return ds;
}

// Values of every sign and size class (nan, infinities, -0, huge, tiny;
// integer bases and exponents around 0, +-1 and past the dtype's width),
// picked by a hash of (i, salt) so that operands differ.
Tensor make_input(const Type& t, int salt) {
  static const double floats[] = {-2.5, 0.5, 3.0, -0.0, 1.0, 0.25, -1.0, 7.5,  100.0, -0.75, 2.0,
                                  0.0,  kNan, kInf, -kInf, 1e30, 1e-30, 0.1, -3.0, 1e-6, 65519.0, 0.3};
  static const int64_t ints[] = {-3, 1, 5, 0, 2, -1, 7, 3, -8, 4, 6, 1, 63, -64, 127, 100, 40, -2, 9, 65};
  constexpr size_t nf = std::size(floats), ni = std::size(ints);
  Tensor x{t, runtime::allocate(size_t(t.nbytes()))};
  for (int64_t i = 0; i < t.size(); ++i) {
    uint64_t h = uint64_t(i) * 0x9E3779B97F4A7C15ull + uint64_t(salt) * 0xBF58476D1CE4E5B9ull;
    h ^= h >> 29;
    if (is_complex(t.dtype))
      store_c128(t.dtype, x.buffer->data(), i, {floats[h % nf], floats[(h >> 8) % nf]});
    else if (is_floating(t.dtype))
      store_f64(t.dtype, x.buffer->data(), i, floats[h % nf]);
    else if (t.dtype == bool_)
      store_i64(t.dtype, x.buffer->data(), i, int64_t(h & 1));
    else
      store_i64(t.dtype, x.buffer->data(), i, ints[h % ni]);
  }
  return x;
}

// Indices of `dtype` in [-2n, 2n) (negative ones wrap or clamp; so do
// those past the end), or [0, 2n) for unsigned dtypes.
Tensor make_indices(Dtype d, const Shape& s, int64_t n, int salt) {
  Type t{d, s};
  Tensor x{t, runtime::allocate(size_t(t.nbytes()))};
  for (int64_t i = 0; i < t.size(); ++i) {
    uint64_t h = (uint64_t(i) + 1) * 0x9E3779B97F4A7C15ull + uint64_t(salt);
    h ^= h >> 31;
    int64_t span = std::max<int64_t>(1, 2 * n);
    int64_t v = int64_t(h % uint64_t(2 * span)) - span;
    if (is_unsigned(d)) v = std::llabs(v);
    if (d == int8) v = std::clamp<int64_t>(v, -128, 127);
    if (d == uint8) v = std::min<int64_t>(v, 255);
    store_i64(d, x.buffer->data(), i, v);
  }
  return x;
}

::testing::AssertionResult same_bits(const Tensor& got, const Tensor& want) {
  if (got.type != want.type)
    return ::testing::AssertionFailure() << "type " << type_to_string(got.type) << " vs " << type_to_string(want.type);
  const size_t es = want.type.dtype.size();
  for (int64_t i = 0; i < want.type.size(); ++i) {
    const char* g = static_cast<const char*>(got.buffer->data()) + i * int64_t(es);
    const char* w = static_cast<const char*>(want.buffer->data()) + i * int64_t(es);
    if (std::memcmp(g, w, es) != 0) {
      std::complex<double> a = load_c128(want.type.dtype, got.buffer->data(), i);
      std::complex<double> b = load_c128(want.type.dtype, want.buffer->data(), i);
      // A nan's sign and payload depend on the order of an instruction's
      // operands, which the C++ compiler picks: any nan matches a nan.
      auto same = [](double x, double y) { return (std::isnan(x) && std::isnan(y)) || std::memcmp(&x, &y, 8) == 0; };
      if (is_inexact(want.type.dtype) && same(a.real(), b.real()) && same(a.imag(), b.imag())) continue;
      return ::testing::AssertionFailure() << "element " << i << " of " << type_to_string(want.type) << ": " << a
                                           << " vs " << b << " (bits differ)";
    }
  }
  return ::testing::AssertionSuccess();
}

int host_steps(const Function& f) {
  int n = 0;
  for (const auto& st : passes::plan_fusion(f).steps) n += st.kind == passes::Step::HostOp;
  return n;
}

// f's single op run by the executor and by run_host_op directly: both bit
// for bit the interpreter's result.
void check(const Function& f, const std::vector<Tensor>& inputs) {
  SCOPED_TRACE(print(f));
  Tensor want = interpret(f, inputs).at(0);
  EXPECT_TRUE(same_bits(codegen::execute(f, inputs).at(0), want)) << "executor vs interpreter";
  const Op& op = f.ops.back();
  std::vector<Tensor> operands;
  for (int v : op.operands) operands.push_back(inputs.at(size_t(v)));
  EXPECT_TRUE(same_bits(codegen::run_host_op(op, operands), want)) << "run_host_op vs interpreter";
}

// A function of one op over fresh inputs of the given types.
Function one_op(OpKind k, const std::vector<Type>& in, const Attrs& attrs = {}, const Type& declared = {}) {
  Function f;
  std::vector<int> operands;
  for (const Type& t : in) operands.push_back(f.add_input(t));
  f.outputs = {f.add_op(make_op(k, operands, infer_type(k, in, attrs, declared), attrs))};
  return f;
}

std::vector<Tensor> inputs_for(const Function& f) {
  std::vector<Tensor> in;
  for (size_t i = 0; i < f.inputs.size(); ++i) in.push_back(make_input(f.inputs[i], int(i)));
  return in;
}

const std::vector<Shape> kShapes = {{}, {0}, {3, 5}, {2, 3, 7}};

}  // namespace

// Every elementwise op and cast, for every dtype its type rule accepts,
// that the plan leaves on the host: complex arithmetic, integer power, the
// casts from float64 to 16-bit floats and to and from complex.
TEST(HostKernels, EveryElementwiseHostOpMatchesTheInterpreter) {
  std::vector<OpKind> kinds;
#define KILN_TEST_KIND(e, ...) kinds.push_back(OpKind::e);
  KILN_UNARY_OPS(KILN_TEST_KIND)
  KILN_BINARY_OPS(KILN_TEST_KIND)
  KILN_COMPARISON_OPS(KILN_TEST_KIND)
#undef KILN_TEST_KIND
  int checked = 0, complex_ops = 0, int_powers = 0;
  for (OpKind k : kinds) {
    for (Dtype d : all_dtypes()) {
      for (Dtype to : k == OpKind::Cast ? all_dtypes() : std::vector<Dtype>{d}) {
        for (const Shape& s : kShapes) {
          Type t{d, s};
          std::vector<Type> in(size_t(op_arity(k)), t);
          Function f;
          try {
            f = one_op(k, in, {}, Type{to, s});
          } catch (const std::invalid_argument&) {
            continue;  // the type rule refuses this dtype
          }
          if (host_steps(f) == 0) continue;  // fused
          check(f, inputs_for(f));
          ++checked;
          complex_ops += is_complex(d);
          int_powers += k == OpKind::Power && is_integral(d);
        }
      }
    }
  }
  EXPECT_GT(complex_ops, 4 * 22);  // 21 ops plus casts from complex, each at 4 shapes
  EXPECT_EQ(int_powers, 8 * 4);
  EXPECT_GT(checked, 150);
}

TEST(HostKernels, ErfinvIsFusedNotAHostOp) {
  for (Dtype d : {float16, bfloat16, float32, float64})
    EXPECT_EQ(host_steps(one_op(OpKind::Erfinv, {{d, {4}}})), 0) << dtype_name(d);
}

TEST(HostKernels, ComplexReductionsAndSelect) {
  for (OpKind k : {OpKind::Sum, OpKind::Prod})
    for (const Shape& s : std::vector<Shape>{{}, {0}, {3, 0}, {4, 5}, {2, 3, 4}}) {
      std::vector<std::vector<int64_t>> axes_list = {{}};
      for (size_t a = 0; a < s.size(); ++a) axes_list.push_back({int64_t(a)});
      if (s.size() == 2) axes_list.push_back({0, 1});
      if (s.size() == 3) axes_list.insert(axes_list.end(), {{0, 2}, {1, 2}, {0, 1, 2}});
      for (const auto& axes : axes_list) {
        Function f = one_op(k, {{complex64, s}}, {{"axes", axes}});
        check(f, inputs_for(f));
      }
    }
  for (Dtype d : {complex64, bool_, int8, float16, float32, int64}) {
    Shape s{6, 7};
    Function f = one_op(OpKind::Select, {{bool_, s}, {d, s}, {d, s}});
    check(f, inputs_for(f));
  }
}

TEST(HostKernels, ArgmaxAndArgminOfEveryRealDtypeWithNansAndTies) {
  for (Dtype d : all_dtypes()) {
    if (is_complex(d)) continue;
    for (const Shape& s : std::vector<Shape>{{1}, {7}, {0, 3}, {3, 0}, {4, 5, 6}, {2, 600, 3}, {3, 1100}}) {
      for (int64_t axis = 0; axis < int64_t(s.size()); ++axis)
        for (OpKind k : {OpKind::Argmax, OpKind::Argmin}) {
          Function f = one_op(k, {{d, s}}, {{"axis", axis}});
          EXPECT_GT(host_steps(f), 0);
          check(f, inputs_for(f));
        }
    }
  }
  // Long rows (several blocks of the contiguous scan) without nans, with
  // ties, signed zeros, rising and falling runs, and a late nan in one row.
  for (Dtype d : {float16, float32, float64, int32, uint8}) {
    Shape s{6, 3000};
    Tensor x{{d, s}, runtime::allocate(size_t(shape_size(s) * d.size()))};
    for (int64_t r = 0; r < 6; ++r)
      for (int64_t j = 0; j < 3000; ++j) {
        double v = r == 0 ? double(j % 1500) : r == 1 ? -double(j % 1700) : r == 2 ? (j % 2 ? 0.0 : -0.0)
                 : double((j * 7919) % 113);
        if (r == 3 && j == 2500 && is_floating(d)) v = kNan;
        if (r == 4 && j == 1025) v = 500;
        store_f64(d, x.buffer->data(), r * 3000 + j, v);
      }
    for (OpKind k : {OpKind::Argmax, OpKind::Argmin})
      check(one_op(k, {{d, s}}, {{"axis", int64_t(1)}}), {x});
  }
  // A nan is the extreme and the first one wins; equal values keep the first.
  Function f = one_op(OpKind::Argmax, {{float32, {6}}}, {{"axis", int64_t(0)}});
  Tensor x{{float32, {6}}, runtime::allocate(24)};
  const float v[] = {1.f, 5.f, float(kNan), 5.f, float(kNan), 2.f};
  std::memcpy(x.buffer->data(), v, sizeof v);
  Tensor r = codegen::execute(f, {x}).at(0);
  EXPECT_EQ(*static_cast<const uint32_t*>(r.buffer->data()), 2u);
}

// Data movement over every dtype (element sizes 1, 2, 4, 8): these ops
// move bytes, so each size class and the odd encodings (bool, float16,
// complex64) pass through the same code.
TEST(HostKernels, TakeWithEveryIndexDtypeNegativeAndOutOfRangeIndices) {
  for (Dtype d : {bool_, int8, float16, bfloat16, int32, float32, int64, complex64}) {
    for (Dtype id : {uint8, uint16, uint32, uint64, int8, int16, int32, int64}) {
      for (const auto& [xs, axis, is] : std::vector<std::tuple<Shape, int64_t, Shape>>{
               {{7}, 0, {}}, {{7}, 0, {12}}, {{5, 6}, 0, {4}}, {{5, 6}, 1, {2, 3}}, {{3, 4, 5}, 1, {9}},
               {{3, 4, 5}, 2, {0}}, {{0, 4}, 1, {3}}, {{4}, 0, {0}}}) {
        int64_t n = xs[size_t(axis)];
        Function f = one_op(OpKind::Take, {{d, xs}, {id, is}}, {{"axis", axis}});
        // Kernels gather as indirect loads (so the executor checks the
        // JIT's gather here); complex values stay on the host kernel.
        EXPECT_EQ(host_steps(f) > 0, d == complex64);
        check(f, {make_input({d, xs}, 1), make_indices(id, is, n, 3)});
      }
      Shape xs{4, 5, 3};
      for (int64_t axis = 0; axis < 3; ++axis) {
        Shape is = xs;
        is[size_t(axis)] = 6;
        Function f = one_op(OpKind::TakeAlongAxis, {{d, xs}, {id, is}}, {{"axis", axis}});
        EXPECT_EQ(host_steps(f) > 0, d == complex64);
        check(f, {make_input({d, xs}, 1), make_indices(id, is, xs[size_t(axis)], 5)});
      }
    }
  }
}

// scatter, every reduce over every dtype it takes, with duplicate, negative
// and out-of-range indices (colliding updates must combine in the
// interpreter's order, bit for bit), on one thread and on several.
TEST(HostKernels, ScatterOfEveryReduceAndDtypeWithCollisions) {
  runtime::ThreadPool& pool = runtime::ThreadPool::global();
  const int threads = pool.size();
  for (int pool_size : {1, 4}) {
    pool.set_size(pool_size);
    for (int64_t reduce = 0; reduce <= 4; ++reduce) {
      for (Dtype d : all_dtypes()) {
        if (reduce > 0 && d == bool_) continue;
        if (reduce > 2 && d == complex64) continue;
        SCOPED_TRACE(dtype_name(d) + " reduce " + std::to_string(reduce));
        for (const auto& [as, axis, is] : std::vector<std::tuple<Shape, int64_t, Shape>>{
                 {{7}, 0, {12}}, {{5, 6}, 1, {2, 3}}, {{3, 4, 5}, 1, {9}}, {{4}, 0, {0}}, {{300, 3}, 0, {40000}},
                 // rows of one element (the typed scalar path), split over threads
                 {{5000}, 0, {40000}}, {{3, 2000}, 1, {30000}}}) {
          Shape us(as.begin(), as.begin() + axis);
          us.insert(us.end(), is.begin(), is.end());
          us.insert(us.end(), as.begin() + axis + 1, as.end());
          Function f = one_op(OpKind::Scatter, {{d, as}, {int32, is}, {d, us}}, {{"axis", axis}, {"reduce", reduce}});
          EXPECT_GT(host_steps(f), 0);
          check(f, {make_input({d, as}, 1), make_indices(int32, is, as[size_t(axis)], 4), make_input({d, us}, 2)});
        }
      }
    }
  }
  pool.set_size(threads);
  Function e = one_op(OpKind::Scatter, {{float32, {0, 3}}, {int32, {2}}, {float32, {2, 3}}},
                      {{"axis", int64_t(0)}, {"reduce", int64_t(1)}});
  std::vector<Tensor> in = {make_input(e.inputs[0], 0), make_indices(int32, {2}, 1, 0), make_input(e.inputs[2], 1)};
  EXPECT_THROW(interpret(e, in), std::invalid_argument);
  EXPECT_THROW(codegen::execute(e, in), std::invalid_argument);
}

TEST(HostKernels, TakeFromAnEmptyAxisThrowsAsTheInterpreter) {
  Function f = one_op(OpKind::Take, {{float32, {0, 3}}, {int32, {2}}}, {{"axis", int64_t(0)}});
  std::vector<Tensor> in = {make_input(f.inputs[0], 0), make_indices(int32, {2}, 1, 0)};
  EXPECT_THROW(interpret(f, in), std::invalid_argument);
  EXPECT_THROW(codegen::execute(f, in), std::invalid_argument);
}

TEST(HostKernels, ConcatenatePadSliceUpdateOfEachElementSize) {
  for (Dtype d : {bool_, uint8, float16, int16, float32, uint32, float64, complex64}) {
    for (int64_t axis = 0; axis < 3; ++axis) {
      Shape a{2, 3, 4}, b = a, c = a;
      b[size_t(axis)] = 5;
      c[size_t(axis)] = 0;
      Function f = one_op(OpKind::Concatenate, {{d, a}, {d, b}, {d, c}, {d, a}}, {{"axis", axis}});
      EXPECT_GT(host_steps(f), 0);
      check(f, inputs_for(f));
    }
    Function one = one_op(OpKind::Concatenate, {{d, {0}}, {d, {3}}}, {{"axis", int64_t(0)}});
    check(one, inputs_for(one));

    for (const Shape& s : std::vector<Shape>{{}, {0}, {5}, {3, 4}, {0, 2}, {2, 3, 4}}) {
      std::vector<int64_t> low(s.size()), high(s.size());
      for (size_t i = 0; i < s.size(); ++i) low[i] = int64_t(i % 3), high[i] = int64_t((i + 2) % 3);
      Function f = one_op(OpKind::Pad, {{d, s}, {d, {}}}, {{"low", low}, {"high", high}});
      EXPECT_GT(host_steps(f), 0);
      check(f, inputs_for(f));
    }

    // Slices with steps, negative steps and an empty range.
    struct Sl { Shape s; std::vector<int64_t> start, stop, strides; };
    for (const Sl& sl : std::vector<Sl>{{{8}, {1}, {7}, {2}},
                                        {{8}, {7}, {-1}, {-3}},
                                        {{4, 6}, {0, 1}, {4, 5}, {1, 1}},
                                        {{4, 6}, {3, 5}, {-1, -1}, {-2, -2}},
                                        {{4, 6}, {2, 0}, {2, 6}, {1, 1}},
                                        {{}, {}, {}, {}},
                                        {{3, 4, 5}, {0, 1, 4}, {3, 4, 0}, {1, 2, -2}}}) {
      Attrs at{{"start", sl.start}, {"stop", sl.stop}, {"strides", sl.strides}};
      Type upd = infer_type(OpKind::Slice, {{d, sl.s}}, at, {});
      Function f = one_op(OpKind::SliceUpdate, {{d, sl.s}, upd}, at);
      EXPECT_GT(host_steps(f), 0);
      check(f, inputs_for(f));
      if (is_complex(d)) {  // views of complex values are host ops too
        Function g = one_op(OpKind::Slice, {{d, sl.s}}, at);
        EXPECT_GT(host_steps(g), 0);
        check(g, inputs_for(g));
      }
    }
  }
}

TEST(HostKernels, ViewsOfComplexValues) {
  Function t = one_op(OpKind::Transpose, {{complex64, {3, 4, 5}}}, {{"perm", std::vector<int64_t>{2, 0, 1}}});
  check(t, inputs_for(t));
  Function b = one_op(OpKind::Broadcast, {{complex64, {4, 1}}}, {}, {complex64, {2, 4, 3}});
  check(b, inputs_for(b));
  Function b0 = one_op(OpKind::Broadcast, {{complex64, {}}}, {}, {complex64, {0, 3}});
  check(b0, inputs_for(b0));
  Function r = one_op(OpKind::Reshape, {{complex64, {3, 4}}}, {}, {complex64, {2, 6}});
  check(r, inputs_for(r));
}

TEST(HostKernels, MatmulOf16BitFloats) {
  for (Dtype d : {float16, bfloat16}) {
    for (const auto& [as, bs] : std::vector<std::pair<Shape, Shape>>{
             {{2, 3}, {3, 4}}, {{1, 1}, {1, 1}}, {{2, 0}, {0, 3}}, {{0, 3}, {3, 2}}, {{3, 5, 7}, {3, 7, 2}}, {{33, 70}, {70, 65}}}) {
      Function f = one_op(OpKind::Matmul, {{d, as}, {d, bs}});
      EXPECT_GT(host_steps(f), 0);
      check(f, inputs_for(f));
    }
  }
}

// OpenBLAS runs kernels for what the CPU can execute, not Prescott's SSE3
// ones it falls back to on a CPU model newer than the library
// (runtime/openblas.cpp), unless the user named a core.
TEST(HostKernels, OpenBlasRunsTheWidestKernelsTheCpuHas) {
  if (std::getenv("OPENBLAS_CORETYPE")) GTEST_SKIP() << "OPENBLAS_CORETYPE chooses the core";
  runtime::configure_openblas();
  std::string core = runtime::openblas_core();
  if (core.empty()) GTEST_SKIP() << "this OpenBLAS does not name its core";
  std::vector<std::string> acceptable;
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512cd"))
    acceptable = {"SkylakeX", "Cooperlake", "SapphireRapids"};
  else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    acceptable = {"Haswell", "Zen", "Excavator", "SkylakeX", "Cooperlake", "SapphireRapids"};
  else
    GTEST_SKIP() << "no AVX2 on this CPU";
  EXPECT_NE(std::find(acceptable.begin(), acceptable.end(), core), acceptable.end()) << "OpenBLAS core " << core;
}

// Operands of an m x n product over depth k with values in [-1, 1] that
// repeat with no period a tile size divides, and op(A) op(B) at (i, j) in
// double precision, A stored m x k (k x m when ta) and B k x n (n x k when
// tb).
struct Product {
  int64_t m, n, k;
  std::vector<float> a, b;
  Product(int64_t m_, int64_t n_, int64_t k_) : m(m_), n(n_), k(k_), a(size_t(m * k)), b(size_t(k * n)) {
    for (size_t i = 0; i < a.size(); ++i) a[i] = float(int64_t(i * 7919 % 1999) - 999) / 1000.0f;
    for (size_t i = 0; i < b.size(); ++i) b[i] = float(int64_t(i * 104729 % 2003) - 1001) / 1000.0f;
  }
  double at(bool ta, bool tb, int64_t i, int64_t j) const {
    double sum = 0;
    for (int64_t p = 0; p < k; ++p)
      sum += double(a[size_t(ta ? p * m + i : i * k + p)]) * double(b[size_t(tb ? j * k + p : p * n + j)]);
    return sum;
  }
};

// A product whose result is too small to cut (16 x 9) but deep (a
// weight's gradient over 70,001 positions) is cut along its depth, each
// thread summing its share: against a double-precision sum, every
// transposition, on a pool of 3 threads (uneven shares).
TEST(HostKernels, DeepMatmulSplitsItsDepth) {
  runtime::ThreadPool& pool = runtime::ThreadPool::global();
  const int threads = pool.size();
  pool.set_size(3);
  // Narrow (16 x 9) and wide but deep (40 x 48 over 3000): both cut k.
  for (auto [m, n, k] : std::vector<std::tuple<int64_t, int64_t, int64_t>>{{16, 9, 70001}, {40, 48, 3001}}) {
  Product x(m, n, k);
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      std::vector<float> c(size_t(m * n), -1.0f);
      runtime::matmul_f32(1, m, n, k, x.a.data(), ta, x.b.data(), tb, c.data());
      for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j) {
          double expected = x.at(ta, tb, i, j);
          EXPECT_NEAR(c[size_t(i * n + j)], expected, 1e-3 + 1e-5 * std::fabs(expected))
              << "trans " << ta << tb << " at " << i << "," << j;
        }
    }
  }
  pool.set_size(threads);
}

// Products with a narrow C (a convolution's patches times its weight):
// kiln's own kernel (runtime/narrow_gemm.h), called directly and through
// matmul_f32 (which takes it where narrow_gemm_applies), against a
// double-precision sum, with rows and columns that do not fill its 6 x 16
// tiles, depths cut into blocks (over 512), both layouts of B, on a pool
// of 3 threads.
TEST(HostKernels, NarrowMatmulMatchesADoubleSum) {
  if (!runtime::narrow_gemm_available()) GTEST_SKIP() << "no AVX2 and FMA on this CPU";
  runtime::ThreadPool& pool = runtime::ThreadPool::global();
  const int threads = pool.size();
  pool.set_size(3);
  for (auto [m, n, k] : std::vector<std::tuple<int64_t, int64_t, int64_t>>{
           {256, 16, 9}, {257, 1, 1}, {263, 17, 288}, {1001, 33, 515}, {300, 64, 1100}, {2000, 48, 40}}) {
    Product x(m, n, k);
    for (bool tb : {false, true})
      for (bool direct : {true, false}) {
        std::vector<float> c(size_t(m * n), std::numeric_limits<float>::quiet_NaN());
        if (direct)
          runtime::narrow_gemm_f32(m, n, k, x.a.data(), x.b.data(), tb, c.data());
        else
          runtime::matmul_f32(1, m, n, k, x.a.data(), false, x.b.data(), tb, c.data());
        for (int64_t i = 0; i < m; ++i)
          for (int64_t j = 0; j < n; ++j) {
            double expected = x.at(false, tb, i, j);
            ASSERT_NEAR(c[size_t(i * n + j)], expected, 1e-4 + 1e-5 * std::fabs(expected))
                << m << "x" << n << "x" << k << " trans_b " << tb << (direct ? " direct" : " matmul_f32") << " at "
                << i << "," << j;
          }
      }
  }
  // Not taken: A transposed, C wider than narrow or too short.
  EXPECT_FALSE(runtime::narrow_gemm_applies(1000, 16, 100, true));
  EXPECT_FALSE(runtime::narrow_gemm_applies(1000, runtime::kNarrowColumns + 1, 100, false));
  EXPECT_FALSE(runtime::narrow_gemm_applies(100, 16, 100, false));
  pool.set_size(threads);
}

// Large enough that each kernel splits its rows over the pool (and the
// pool has several threads even on a one-core machine).
TEST(HostKernels, LargeOpsOnSeveralThreadsMatchTheInterpreter) {
  runtime::ThreadPool& pool = runtime::ThreadPool::global();
  const int threads = pool.size();
  pool.set_size(4);
  auto run = [](const Function& f, std::vector<Tensor> in) { check(f, in); };
  run(one_op(OpKind::Take, {{float32, {200000, 3}}, {int32, {150000}}}, {{"axis", int64_t(0)}}),
      {make_input({float32, {200000, 3}}, 0), make_indices(int32, {150000}, 200000, 1)});
  run(one_op(OpKind::Take, {{int8, {300000}}, {int64, {300000}}}, {{"axis", int64_t(0)}}),
      {make_input({int8, {300000}}, 0), make_indices(int64, {300000}, 300000, 1)});
  run(one_op(OpKind::TakeAlongAxis, {{float64, {400, 500}}, {int16, {400, 300}}}, {{"axis", int64_t(1)}}),
      {make_input({float64, {400, 500}}, 0), make_indices(int16, {400, 300}, 500, 2)});
  {
    Function f = one_op(OpKind::Concatenate, {{float32, {300, 700}}, {float32, {300, 500}}}, {{"axis", int64_t(1)}});
    run(f, inputs_for(f));
  }
  for (int64_t axis : {0, 1}) {
    Function f = one_op(OpKind::Argmax, {{float32, {700, 900}}}, {{"axis", axis}});
    run(f, inputs_for(f));
    Function g = one_op(OpKind::Argmin, {{uint16, {700, 900}}}, {{"axis", axis}});
    run(g, inputs_for(g));
  }
  {
    Function f = one_op(OpKind::Pad, {{int16, {500, 600}}, {int16, {}}},
                        {{"low", std::vector<int64_t>{3, 1}}, {"high", std::vector<int64_t>{2, 7}}});
    run(f, inputs_for(f));
    Attrs at{{"start", std::vector<int64_t>{10, 5}}, {"stop", std::vector<int64_t>{490, 600}},
             {"strides", std::vector<int64_t>{1, 3}}};
    Function g = one_op(OpKind::SliceUpdate, {{uint8, {500, 600}}, infer_type(OpKind::Slice, {{uint8, {500, 600}}}, at, {})}, at);
    run(g, inputs_for(g));
  }
  for (OpKind k : {OpKind::Multiply, OpKind::Divide, OpKind::Power, OpKind::Equal}) {
    Function f = one_op(k, {{complex64, {100000}}, {complex64, {100000}}});
    run(f, inputs_for(f));
  }
  for (OpKind k : {OpKind::Exp, OpKind::Abs, OpKind::Sqrt}) {
    Function f = one_op(k, {{complex64, {100000}}});
    run(f, inputs_for(f));
  }
  {
    Function f = one_op(OpKind::Sum, {{complex64, {300, 400}}}, {{"axes", std::vector<int64_t>{0}}});
    run(f, inputs_for(f));
    Function t = one_op(OpKind::Transpose, {{complex64, {300, 400}}}, {{"perm", std::vector<int64_t>{1, 0}}});
    run(t, inputs_for(t));
  }
  for (Dtype d : {int8, uint32, int64}) {
    Function f = one_op(OpKind::Power, {{d, {200000}}, {d, {200000}}});
    run(f, inputs_for(f));
  }
  for (Dtype to : {float16, bfloat16}) {
    Function f = one_op(OpKind::Cast, {{float64, {300000}}}, {}, {to, {300000}});
    run(f, inputs_for(f));
  }
  {
    Function f = one_op(OpKind::Matmul, {{bfloat16, {2, 90, 130}}, {bfloat16, {2, 130, 70}}});
    run(f, inputs_for(f));
  }
  pool.set_size(threads);
}

TEST(HostKernels, OpsThatNeverRunOnTheHostThrowLogicError) {
  Op c = make_op(OpKind::Constant, {}, {float32, {}});
  c.data = runtime::allocate(4);
  EXPECT_THROW(codegen::run_host_op(c, {}), std::logic_error);
  Function f = one_op(OpKind::Add, {{float32, {3}}, {float32, {3}}});
  EXPECT_EQ(host_steps(f), 0);
  EXPECT_THROW(codegen::run_host_op(f.ops.back(), inputs_for(f)), std::logic_error);
}

// The executor runs no op on the reference interpreter: nothing in codegen/
// includes it (the interpreter stays the tests' oracle and KILN_EXECUTOR=
// interp's engine).
TEST(HostKernels, CodegenDoesNotIncludeTheInterpreter) {
  namespace fs = std::filesystem;
  const fs::path root = fs::path(KILN_SOURCE_DIR) / "codegen";
  ASSERT_TRUE(fs::is_directory(root)) << root;
  int files = 0;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (!e.is_regular_file()) continue;
    const auto ext = e.path().extension();
    if (ext != ".cpp" && ext != ".h") continue;
    std::ifstream in(e.path());
    std::stringstream ss;
    ss << in.rdbuf();
    EXPECT_EQ(ss.str().find("#include \"ir/interpreter.h\""), std::string::npos) << e.path();
    ++files;
  }
  EXPECT_GT(files, 10);
}
