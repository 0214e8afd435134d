// The JIT facet of the ops that run as native host kernels (scans, sorts,
// scatter, take, bitcast, argmax/argmin, fft, quantized_matmul), swept
// over every dtype their type rule accepts and over shapes the small
// NumPy cases of test_every_op_facets.cpp do not reach: size 0, length 1,
// and sizes large enough for the kernels' multithreaded paths; inputs with
// duplicates, NaN and -0. codegen::execute must give the interpreter's
// values (bit for bit for integers, sorts and data movement).
#include <gtest/gtest.h>

#include <cmath>
#include <complex>
#include <random>
#include <string>
#include <vector>

#include "codegen/executor.h"
#include "ir/element.h"
#include "ir/interpreter.h"
#include "ir/ops.h"
#include "ir/printer.h"
#include "ir/type_rules.h"
#include "runtime/buffer.h"
#include "ir_test_helpers.h"

using namespace kiln;
using namespace kiln::ir;
using kiln_test::all_dtypes;

namespace {

// Values in [-4, 4] with repeats (a small alphabet); floats also get NaN
// and -0 when `special`; unsigned and bool stay in range.
Tensor data(const Type& t, uint32_t seed, bool special = true) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> pick(-8, 8);
  Tensor x{t, runtime::allocate(size_t(t.nbytes()))};
  for (int64_t i = 0; i < t.size(); ++i) {
    const int v = pick(rng);
    if (is_complex(t.dtype)) store_c128(t.dtype, x.buffer->data(), i, {0.5 * v, 0.25 * pick(rng)});
    else if (is_floating(t.dtype)) {
      double f = 0.5 * v + (i % 7) * 0.01;
      if (special && i % 11 == 3) f = std::nan("");
      if (special && i % 13 == 5) f = -0.0;
      store_f64(t.dtype, x.buffer->data(), i, f);
    } else if (t.dtype == bool_) store_i64(t.dtype, x.buffer->data(), i, v & 1);
    else if (is_unsigned(t.dtype)) store_i64(t.dtype, x.buffer->data(), i, v + 8);
    else store_i64(t.dtype, x.buffer->data(), i, v);
  }
  return x;
}

// Integer indices in [-dim - 1, dim + 1]: negative ones wrap, the rest clamp.
Tensor indices(const Shape& s, int32_t dim, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> pick(-dim - 1, dim + 1);
  Tensor x{{int32, s}, runtime::allocate(size_t(shape_size(s) * 4))};
  for (int64_t i = 0; i < shape_size(s); ++i) store_i64(int32, x.buffer->data(), i, pick(rng));
  return x;
}

// |got - want| <= rtol * max|want| elementwise (a kernel may sum in another
// order than the interpreter); exact for integers and bools; NaN matches NaN.
::testing::AssertionResult matches(const Tensor& got, const Tensor& want) {
  if (got.type != want.type)
    return ::testing::AssertionFailure() << type_to_string(got.type) << " vs " << type_to_string(want.type);
  const Dtype d = want.type.dtype;
  if (!is_inexact(d)) return kiln_test::agree(got, want, false);
  const double rtol = d == float16 ? 4e-3 : d == bfloat16 ? 3e-2 : d == float64 ? 1e-12 : 2e-5;
  double scale = 1;
  for (int64_t i = 0; i < want.type.size(); ++i) {
    double m = std::abs(load_c128(d, want.buffer->data(), i));
    if (std::isfinite(m)) scale = std::max(scale, m);
  }
  for (int64_t i = 0; i < want.type.size(); ++i) {
    std::complex<double> g = load_c128(d, got.buffer->data(), i), w = load_c128(d, want.buffer->data(), i);
    for (auto [x, y] : {std::pair{g.real(), w.real()}, std::pair{g.imag(), w.imag()}}) {
      if ((std::isnan(x) && std::isnan(y)) || x == y) continue;
      if (!(std::fabs(x - y) <= rtol * scale))
        return ::testing::AssertionFailure() << "element " << i << ": " << x << " vs " << y;
    }
  }
  return ::testing::AssertionSuccess();
}

// One op of kind k over inputs of these types; false when the type rule
// refuses them.
bool one_op(OpKind k, const std::vector<Tensor>& in, const Attrs& attrs, Function* f, const Type& declared = {}) {
  std::vector<Type> types;
  std::vector<int> operands;
  for (const Tensor& t : in) {
    types.push_back(t.type);
    operands.push_back(f->add_input(t.type));
  }
  Type out;
  try {
    out = infer_type(k, types, attrs, declared);
  } catch (const std::invalid_argument&) {
    return false;
  }
  f->outputs = {f->add_op(make_op(k, operands, out, attrs))};
  return true;
}

// Runs f natively and in the interpreter; returns 1 if it ran.
int check(OpKind k, const std::vector<Tensor>& in, const Attrs& attrs, const Type& declared = {}) {
  Function f;
  if (!one_op(k, in, attrs, &f, declared)) return 0;
  SCOPED_TRACE(print(f));
  Tensor want = interpret(f, in).at(0);
  Tensor got = codegen::execute(f, in).at(0);
  EXPECT_TRUE(matches(got, want));
  return 1;
}

// Small and odd shapes for every dtype; large ones (multithreaded kernels)
// for a few.
std::vector<Shape> shapes_for(Dtype d) {
  std::vector<Shape> s = {{0}, {1}, {7}, {3, 0}, {2, 3, 5}};
  if (d == float32 || d == int32 || d == float16 || d == uint8 || d == float64)
    for (Shape big : {Shape{40, 700}, Shape{700, 40}, Shape{70001}}) s.push_back(big);
  return s;
}

}  // namespace

TEST(EveryOpNative, Scans) {
  int n = 0;
  #define KILN_SCAN_KIND(e, ...) OpKind::e,
  for (OpKind k : {KILN_SCAN_OPS(KILN_SCAN_KIND)})
    for (Dtype d : all_dtypes())
      for (const Shape& s : shapes_for(d)) {
        Tensor x = data({d, s}, 1);
        for (int64_t axis : {int64_t(0), int64_t(s.size() - 1)})
          for (int64_t reverse : {0, 1})
            for (int64_t inclusive : {0, 1})
              n += check(k, {x}, {{"axis", axis}, {"reverse", reverse}, {"inclusive", inclusive}});
      }
  EXPECT_GT(n, 500);
}

TEST(EveryOpNative, SortsAndArgmax) {
  int n = 0;
  for (Dtype d : all_dtypes())
    for (const Shape& s : shapes_for(d)) {
      Tensor x = data({d, s}, 2);
      for (int64_t axis : {int64_t(0), int64_t(s.size() - 1)}) {
        n += check(OpKind::Sort, {x}, {{"axis", axis}});
        n += check(OpKind::Argsort, {x}, {{"axis", axis}});
        const int64_t dim = s[size_t(axis)];
        for (int64_t kth : {int64_t(0), dim / 2, dim - 1})
          if (kth >= 0 && kth < dim) n += check(OpKind::Argpartition, {x}, {{"axis", axis}, {"kth", kth}});
        if (dim > 0) {
          n += check(OpKind::Argmax, {x}, {{"axis", axis}});
          n += check(OpKind::Argmin, {x}, {{"axis", axis}});
        }
      }
    }
  EXPECT_GT(n, 300);
}

// Scatter with colliding indices (every reduction), along axis 0 and 1.
TEST(EveryOpNative, ScatterWithCollisions) {
  int n = 0;
  for (Dtype d : all_dtypes())
    for (int32_t rows : {1, 5, 3000})
      for (int32_t m : {0, 1, 9, 20000}) {
        if (rows > 5 && !(d == float32 || d == int32 || d == float64)) continue;
        if (m > 9 && rows == 1) continue;
        Tensor a = data({d, {rows, 3}}, 3, false);
        Tensor idx = indices({m}, rows, 4);
        Tensor upd = data({d, {m, 3}}, 5, false);
        Tensor at = data({d, {3, rows}}, 6, false);
        Tensor updt = data({d, {3, m}}, 7, false);
        for (int64_t r = 0; r <= 4; ++r) {
          n += check(OpKind::Scatter, {a, idx, upd}, {{"axis", int64_t(0)}, {"reduce", r}});
          n += check(OpKind::Scatter, {at, idx, updt}, {{"axis", int64_t(1)}, {"reduce", r}});
        }
      }
  EXPECT_GT(n, 300);
}

// Gathers compile a JIT kernel per dtype: one dtype of each size and kind.
TEST(EveryOpNative, TakeAndTakeAlongAxis) {
  int n = 0;
  for (Dtype d : {bool_, int8, float16, float32, float64, complex64})
    for (int32_t rows : {1, 6, 5000}) {
      if (rows > 6 && d != float32) continue;
      Tensor x = data({d, {rows, 5}}, 8);
      for (Shape is : {Shape{0}, Shape{2, 3}, Shape{rows > 6 ? 30000 : 4}}) {
        n += check(OpKind::Take, {x, indices(is, rows, 9)}, {{"axis", int64_t(0)}});
        n += check(OpKind::Take, {x, indices(is, 5, 10)}, {{"axis", int64_t(1)}});
      }
      n += check(OpKind::TakeAlongAxis, {x, indices({rows, 7}, 5, 11)}, {{"axis", int64_t(1)}});
      n += check(OpKind::TakeAlongAxis, {x, indices({2 * rows, 5}, rows, 12)}, {{"axis", int64_t(0)}});
    }
  EXPECT_GT(n, 60);
}

// Every pair of dtypes whose sizes allow it, on a (3, 8) operand.
TEST(EveryOpNative, Bitcast) {
  int n = 0;
  for (Dtype from : all_dtypes())
    for (Dtype to : all_dtypes()) {
      if (from == bool_ || to == bool_) continue;
      const int64_t last = 8 * int64_t(from.size()) / int64_t(to.size());
      if (last == 0 || 8 * int64_t(from.size()) % int64_t(to.size())) continue;
      n += check(OpKind::Bitcast, {data({from, {3, 8}}, 13)}, {}, {to, {3, int32_t(last)}});
    }
  EXPECT_GT(n, 50);
}

// Transform lengths that are not powers of two, length 1 and long ones.
TEST(EveryOpNative, Fft) {
  int n = 0;
  for (int32_t len : {1, 2, 7, 12, 64, 999}) {
    Tensor c = data({complex64, {3, len}}, 14);
    for (int64_t inverse : {0, 1})
      n += check(OpKind::FFT, {c}, {{"axes", std::vector<int64_t>{1}}, {"inverse", inverse}, {"real", int64_t(0)},
                                    {"n", int64_t(0)}});
    n += check(OpKind::FFT, {c}, {{"axes", std::vector<int64_t>{0, 1}}, {"inverse", int64_t(0)},
                                  {"real", int64_t(0)}, {"n", int64_t(0)}});
    Tensor r = data({float32, {3, len}}, 15, false);
    n += check(OpKind::FFT, {r}, {{"axes", std::vector<int64_t>{1}}, {"inverse", int64_t(0)}, {"real", int64_t(1)},
                                  {"n", int64_t(len)}});
    Tensor half = data({complex64, {3, len / 2 + 1}}, 16);
    n += check(OpKind::FFT, {half}, {{"axes", std::vector<int64_t>{1}}, {"inverse", int64_t(1)},
                                     {"real", int64_t(1)}, {"n", int64_t(len)}});
  }
  EXPECT_EQ(n, 30);
}

// Every bit width and group size, both orientations, 1 to 70 rows of x.
TEST(EveryOpNative, QuantizedMatmul) {
  int n = 0;
  for (int64_t bits : {2, 3, 4, 5, 6, 8})
    for (int64_t group : {32, 64, 128})
      for (int64_t transpose : {0, 1})
        for (int32_t rows : {1, 70}) {
          const int32_t r = 5, c = 256;  // W is [r, c]
          Tensor w = data({uint32, {r, int32_t(c * bits / 32)}}, 17, false);
          std::mt19937 rng(18);
          for (int64_t i = 0; i < w.type.size(); ++i) store_i64(uint32, w.buffer->data(), i, rng());
          Tensor sc = data({float32, {r, int32_t(c / group)}}, 19, false);
          Tensor bi = data({float32, {r, int32_t(c / group)}}, 20, false);
          Tensor x = data({float32, {rows, transpose ? c : r}}, 21, false);
          n += check(OpKind::QuantizedMatmul, {x, w, sc, bi},
                     {{"transpose", transpose}, {"group_size", group}, {"bits", bits}});
        }
  EXPECT_EQ(n, 6 * 3 * 2 * 2);
}
