// Scans (cumsum, cumprod, cummax, cummin, logcumsumexp) and sorting and
// selection (sort, argsort, partition, argpartition, topk): values from
// NumPy (the snippet is next to each), large inputs against a plain loop
// and against the reference interpreter (KILN_EXECUTOR=interp), partition
// by its defining property, derivatives against central finite
// differences, vmap against a loop over slices, and the error paths.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <limits>
#include <numeric>
#include <vector>

#include "runtime/thread_pool.h"
#include "test_helpers.h"

using namespace kiln;
using kiln_test::array_is;
using kiln_test::throws_invalid;
using kiln_test::values;

namespace {

constexpr double kNan = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

uint32_t next(uint32_t& s) {
  s = s * 1664525u + 1013904223u;
  return s >> 8;
}

// Pseudo-random values in [lo, hi), with few repeats.
std::vector<double> random_values(int64_t n, uint32_t seed, double lo = -1, double hi = 1) {
  std::vector<double> v(static_cast<size_t>(n));
  for (auto& x : v) x = lo + (hi - lo) * double(next(seed) % 1000003) / 1000003.0;
  return v;
}

array from(const std::vector<double>& v, const Shape& shape, Dtype t) {
  return astype(array(v.data(), shape, float64), t);
}

// The value of f(x) computed by the reference interpreter.
array by_interpreter(const std::function<array()>& f) {
  setenv("KILN_EXECUTOR", "interp", 1);
  array r = f();
  r.eval();
  unsetenv("KILN_EXECUTOR");
  return r;
}

::testing::AssertionResult same(const array& actual, const array& expected, double tol = 0) {
  return array_is(actual, expected.dtype(), expected.shape(), values(expected), tol, tol);
}

}  // namespace

// ---- scans: values ---------------------------------------------------------------

// x = np.array([[1,2,3],[4,5,6]], np.float32)
// np.cumsum(x, 1), np.cumsum(x, 0), np.cumsum(x); reverse: flip, cumsum, flip
TEST(Cumsum, AlongEachAxisFlattenedAndReversed) {
  array x = array({1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f}, {2, 3});
  EXPECT_TRUE(array_is(cumsum(x, 1), float32, {2, 3}, {1, 3, 6, 4, 9, 15}));
  EXPECT_TRUE(array_is(cumsum(x, -1), float32, {2, 3}, {1, 3, 6, 4, 9, 15}));
  EXPECT_TRUE(array_is(cumsum(x, 0), float32, {2, 3}, {1, 2, 3, 5, 7, 9}));
  EXPECT_TRUE(array_is(cumsum(x), float32, {6}, {1, 3, 6, 10, 15, 21}));
  EXPECT_TRUE(array_is(cumsum(x, 1, true), float32, {2, 3}, {6, 5, 3, 15, 11, 6}));
  // exclusive: the identity first, then the sums before each element
  EXPECT_TRUE(array_is(cumsum(x, 1, false, false), float32, {2, 3}, {0, 1, 3, 0, 4, 9}));
  EXPECT_TRUE(array_is(cumsum(x, 1, true, false), float32, {2, 3}, {5, 3, 0, 11, 6, 0}));
  EXPECT_TRUE(array_is(cumsum(x, 0, true, false), float32, {2, 3}, {4, 5, 6, 0, 0, 0}));
}

// np.cumsum(np.array([100,100,100], np.int8), dtype=np.int8) -> [100, -56, 44]
// np.cumsum([True, False, True, True]) -> [1, 1, 2, 3] (MLX: int32)
TEST(Cumsum, DtypesWrapAndBoolSumsAsInt32) {
  EXPECT_TRUE(array_is(cumsum(astype(array({100, 100, 100}), int8)), int8, {3}, {100, -56, 44}));
  EXPECT_TRUE(array_is(cumsum(astype(array({200, 100}), uint8)), uint8, {2}, {200, 44}));
  EXPECT_TRUE(array_is(cumsum(kiln_test::bools({true, false, true, true})), int32, {4}, {1, 1, 2, 3}));
  EXPECT_TRUE(array_is(cumsum(astype(array({1, 2, 3}), float16)), float16, {3}, {1, 3, 6}));
  EXPECT_TRUE(array_is(cumsum(astype(array({1, 2, 3}), bfloat16)), bfloat16, {3}, {1, 3, 6}));
  EXPECT_TRUE(array_is(cumsum(astype(array({-5, 7}), int64), 0, false, false), int64, {2}, {0, -5}));
  EXPECT_TRUE(array_is(cumsum(astype(array({1.5, 2.25}), float64)), float64, {2}, {1.5, 3.75}));
}

// np.cumprod(x, 1), np.cumprod(x, 0); np.cumprod([2, 0, 3, 0, 4.])
TEST(Cumprod, Values) {
  array x = array({1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f}, {2, 3});
  EXPECT_TRUE(array_is(cumprod(x, 1), float32, {2, 3}, {1, 2, 6, 4, 20, 120}));
  EXPECT_TRUE(array_is(cumprod(x, 0), float32, {2, 3}, {1, 2, 3, 4, 10, 18}));
  EXPECT_TRUE(array_is(cumprod(array({2.0f, 0.0f, 3.0f, 0.0f, 4.0f})), float32, {5}, {2, 0, 0, 0, 0}));
  EXPECT_TRUE(array_is(cumprod(x, 1, false, false), float32, {2, 3}, {1, 1, 2, 1, 4, 20}));
  EXPECT_TRUE(array_is(cumprod(x, 1, true), float32, {2, 3}, {6, 6, 3, 120, 30, 6}));
  // bool: a running "and"; int16 wraps: 300 * 300 = 90000 -> 90000 - 65536
  EXPECT_TRUE(array_is(cumprod(kiln_test::bools({true, true, false, true})), bool_, {4}, {1, 1, 0, 0}));
  EXPECT_TRUE(array_is(cumprod(astype(array({300, 300}), int16)), int16, {2}, {300, 24464}));
  EXPECT_TRUE(array_is(cumprod(astype(array({300, 300}), uint16)), uint16, {2}, {300, 24464}));
}

// np.maximum.accumulate([1, nan, 3.]) -> [1, nan, nan];
// np.minimum.accumulate([3, 1, 2, .5]) -> [3, 1, 1, .5];
// np.maximum.accumulate([[3,1,4,1,5],[9,2,6,5,3]], axis=1) (int16)
TEST(CummaxCummin, ValuesNansAndIdentities) {
  EXPECT_TRUE(array_is(cummax(array({1.0f, NAN, 3.0f})), float32, {3}, {1, kNan, kNan}));
  EXPECT_TRUE(array_is(cummin(array({3.0f, 1.0f, 2.0f, 0.5f})), float32, {4}, {3, 1, 1, 0.5}));
  array m = astype(array({3, 1, 4, 1, 5, 9, 2, 6, 5, 3}, {2, 5}), int16);
  EXPECT_TRUE(array_is(cummax(m, 1), int16, {2, 5}, {3, 3, 4, 4, 5, 9, 9, 9, 9, 9}));
  EXPECT_TRUE(array_is(cummin(m, 1, true), int16, {2, 5}, {1, 1, 1, 1, 5, 2, 2, 3, 3, 3}));
  // exclusive scans start from the dtype's lowest / highest value
  EXPECT_TRUE(array_is(cummax(m, 1, false, false), int16, {2, 5}, {-32768, 3, 3, 4, 4, -32768, 9, 9, 9, 9}));
  EXPECT_TRUE(array_is(cummin(astype(array({5, 2}), uint8), 0, false, false), uint8, {2}, {255, 5}));
  EXPECT_TRUE(array_is(cummax(array({1.0f, 2.0f}), 0, false, false), float32, {2}, {-kInf, 1}));
  EXPECT_TRUE(array_is(cummax(kiln_test::bools({false, true, false})), bool_, {3}, {0, 1, 1}));
}

// np.logaddexp.accumulate(np.array([0, 1, 2], np.float32))
TEST(Logcumsumexp, ValuesInfinitiesAndIntegers) {
  EXPECT_TRUE(array_is(logcumsumexp(array({0.0f, 1.0f, 2.0f})), float32, {3}, {0, 1.3132617473602295, 2.4076061248779297},
                       1e-6, 1e-6));
  EXPECT_TRUE(array_is(logcumsumexp(array({0.0f, 1.0f, 2.0f}), 0, false, false), float32, {3},
                       {-kInf, 0, 1.3132617473602295}, 1e-6, 1e-6));
  // -inf with -inf stays -inf (not nan); integers scan as float32
  EXPECT_TRUE(array_is(logcumsumexp(array({-INFINITY, -INFINITY, 0.0f})), float32, {3}, {-kInf, -kInf, 0}));
  EXPECT_TRUE(array_is(logcumsumexp(array({0, 0})), float32, {2}, {0, std::log(2.0)}, 1e-6, 1e-6));
  // large values do not overflow: log(e^1000 + e^1000) = 1000 + log 2
  EXPECT_TRUE(array_is(logcumsumexp(array({1000.0, 1000.0}, float64)), float64, {2}, {1000, 1000 + std::log(2.0)}));
}

TEST(Scans, RankZeroEmptyAndErrors) {
  EXPECT_TRUE(array_is(cumsum(array(3.0f)), float32, {1}, {3}));
  EXPECT_TRUE(throws_invalid([] { cumsum(array(3.0f), 0); }, "[cumsum] Axis 0 is out of bounds"));
  EXPECT_TRUE(throws_invalid([] { cummax(zeros({2, 3}), 2); }, "[cummax]"));
  EXPECT_TRUE(throws_invalid([] { cumprod(zeros({2, 3}), -3); }, "[cumprod]"));
  EXPECT_TRUE(throws_invalid([] { logcumsumexp(zeros({2}), 1); }, "[logcumsumexp]"));
  EXPECT_TRUE(array_is(cumsum(zeros({0})), float32, {0}, {}));
  EXPECT_TRUE(array_is(cumprod(zeros({2, 0}), 1), float32, {2, 0}, {}));
  EXPECT_TRUE(array_is(cummin(zeros({0, 3}), 0, true, false), float32, {0, 3}, {}));
}

// Long lines (the two-pass parallel path), columns (the blocked path) and
// every direction, against a loop in double; integer-valued float32 data
// keeps every partial sum exact.
TEST(Scans, LargeInputsMatchALoop) {
  const int64_t n = 200000;
  std::vector<double> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[size_t(i)] = double(i % 7) - 3;
  for (Dtype t : {float32, int32, float64}) {
    array x = from(v, {int32_t(n)}, t);
    for (bool reverse : {false, true})
      for (bool inclusive : {true, false}) {
        SCOPED_TRACE(dtype_name(t) + (reverse ? " reverse" : "") + (inclusive ? "" : " exclusive"));
        std::vector<double> want(v.size());
        double acc = 0;
        for (int64_t s = 0; s < n; ++s) {
          const size_t j = size_t(reverse ? n - 1 - s : s);
          if (!inclusive) want[j] = acc;
          acc += v[j];
          if (inclusive) want[j] = acc;
        }
        EXPECT_TRUE(array_is(cumsum(x, 0, reverse, inclusive), t, {int32_t(n)}, want));
        std::vector<double> mx(v.size());
        double m = -kInf;
        for (int64_t s = 0; s < n; ++s) {
          const size_t j = size_t(reverse ? n - 1 - s : s);
          m = std::max(m, v[j] + double(j % 1000) * 0.0);
          mx[j] = m;
        }
        if (inclusive) EXPECT_TRUE(array_is(cummax(x, 0, reverse), t, {int32_t(n)}, mx));
      }
  }
  // Columns of a [300, 700] matrix and rows of a [700, 300] one.
  std::vector<double> r = random_values(300 * 700, 5);
  array m = from(r, {300, 700}, float64);
  for (int axis : {0, 1})
    for (bool reverse : {false, true})
      for (bool inclusive : {true, false}) {
        SCOPED_TRACE("axis " + std::to_string(axis) + (reverse ? " reverse" : "") + (inclusive ? "" : " exclusive"));
        for (auto [name, fn] : std::vector<std::pair<const char*, std::function<array(const array&)>>>{
                 {"cumsum", [&](const array& a) { return cumsum(a, axis, reverse, inclusive); }},
                 {"cumprod", [&](const array& a) { return cumprod(a + 1.0, axis, reverse, inclusive); }},
                 {"cummin", [&](const array& a) { return cummin(a, axis, reverse, inclusive); }},
                 {"logcumsumexp", [&](const array& a) { return logcumsumexp(a, axis, reverse, inclusive); }}}) {
          SCOPED_TRACE(name);
          array got = fn(m);
          EXPECT_TRUE(same(got, by_interpreter([&] { return fn(m); }), 1e-9));
        }
      }
}

// Every dtype through the host kernel and the interpreter, bit for bit.
TEST(Scans, HostKernelsMatchTheInterpreterForEveryDtype) {
  std::vector<double> v = {3, -1, 0, 2, 7, -4, 5, 1, -2, 6, 0, 3};
  for (Dtype t : {bool_, uint8, uint16, uint32, uint64, int8, int16, int32, int64, float16, bfloat16, float32, float64}) {
    array x = from(v, {3, 4}, t);
    for (int axis : {0, 1})
      for (int flags = 0; flags < 4; ++flags) {
        const bool reverse = flags & 1, inclusive = flags & 2;
        SCOPED_TRACE(dtype_name(t) + " axis " + std::to_string(axis) + " flags " + std::to_string(flags));
        std::vector<std::function<array()>> fs = {
            [&] { return cumprod(x, axis, reverse, inclusive); }, [&] { return cummax(x, axis, reverse, inclusive); },
            [&] { return cummin(x, axis, reverse, inclusive); }};
        if (t != bool_) fs.push_back([&] { return cumsum(x, axis, reverse, inclusive); });
        if (is_floating(t)) fs.push_back([&] { return logcumsumexp(x, axis, reverse, inclusive); });
        for (auto& f : fs) EXPECT_TRUE(same(f(), by_interpreter(f)));
      }
  }
}

// ---- sorts: values -----------------------------------------------------------------

// a = np.array([3, nan, 1, -0., 0., nan, 2, -inf], np.float32)
// np.sort(a); np.argsort(a, kind='stable') -> [7, 3, 4, 2, 6, 0, 1, 5]
TEST(Sort, NansLastAndStable) {
  array a = array({3.0f, NAN, 1.0f, -0.0f, 0.0f, NAN, 2.0f, -INFINITY});
  EXPECT_TRUE(array_is(sort(a), float32, {8}, {-kInf, 0, 0, 1, 2, 3, kNan, kNan}));
  EXPECT_TRUE(array_is(argsort(a), uint32, {8}, {7, 3, 4, 2, 6, 0, 1, 5}));
  // -0 stays before +0 (stable): its sign bit is kept
  EXPECT_TRUE(std::signbit(values(sort(a))[1]));
  EXPECT_FALSE(std::signbit(values(sort(a))[2]));
  for (Dtype t : {float16, bfloat16, float64}) {
    EXPECT_TRUE(array_is(argsort(astype(a, t)), uint32, {8}, {7, 3, 4, 2, 6, 0, 1, 5})) << dtype_name(t);
    EXPECT_TRUE(array_is(sort(astype(a, t)), t, {8}, {-kInf, 0, 0, 1, 2, 3, kNan, kNan})) << dtype_name(t);
  }
}

// b = np.array([[3,1,2],[1,3,1],[2,2,0]], np.int32)
// np.sort(b, 0), np.argsort(b, 0, kind='stable'), np.sort(b, 1), np.argsort(b, 1, kind='stable')
TEST(Sort, AlongAxesAndIntegerDtypes) {
  array b = array({3, 1, 2, 1, 3, 1, 2, 2, 0}, {3, 3});
  EXPECT_TRUE(array_is(sort(b, 0), int32, {3, 3}, {1, 1, 0, 2, 2, 1, 3, 3, 2}));
  EXPECT_TRUE(array_is(argsort(b, 0), uint32, {3, 3}, {1, 0, 2, 2, 2, 1, 0, 1, 0}));
  EXPECT_TRUE(array_is(sort(b, 1), int32, {3, 3}, {1, 2, 3, 1, 1, 3, 0, 2, 2}));
  EXPECT_TRUE(array_is(argsort(b, -1), uint32, {3, 3}, {1, 2, 0, 0, 2, 1, 2, 0, 1}));
  EXPECT_TRUE(array_is(sort(b), int32, {9}, {0, 1, 1, 1, 2, 2, 2, 3, 3}));
  // np.argsort(np.array([5,-3,7,-3,0], np.int64), kind='stable') -> [1, 3, 4, 0, 2]
  EXPECT_TRUE(array_is(argsort(astype(array({5, -3, 7, -3, 0}), int64)), uint32, {5}, {1, 3, 4, 0, 2}));
  for (Dtype t : {int8, int16})
    EXPECT_TRUE(array_is(argsort(astype(array({5, -3, 7, -3, 0}), t)), uint32, {5}, {1, 3, 4, 0, 2})) << dtype_name(t);
  // np.sort(np.array([200, 3, 255, 0], np.uint8))
  EXPECT_TRUE(array_is(sort(astype(array({200, 3, 255, 0}), uint8)), uint8, {4}, {0, 3, 200, 255}));
  EXPECT_TRUE(array_is(sort(astype(array({7, 1}), uint64)), uint64, {2}, {1, 7}));
  EXPECT_TRUE(array_is(sort(kiln_test::bools({true, false, true})), bool_, {3}, {0, 1, 1}));
}

// Long lines (the radix path) and many short ones, against std::stable_sort.
TEST(Sort, LargeInputsMatchAStableSort) {
  const int64_t n = 50000;
  std::vector<double> v = random_values(n, 11, -50, 50);
  for (auto& x : v) x = std::round(x * 4) / 4;  // many ties
  v[7] = kNan;
  v[100] = -0.0;
  v[200] = 0.0;
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  auto less = [&](int64_t i, int64_t j) {
    if (std::isnan(v[size_t(i)])) return false;
    return std::isnan(v[size_t(j)]) || v[size_t(i)] < v[size_t(j)];
  };
  std::stable_sort(order.begin(), order.end(), less);
  std::vector<double> want_idx(order.begin(), order.end()), want_val;
  for (int64_t i : order) want_val.push_back(v[size_t(i)]);
  for (Dtype t : {float32, float64}) {
    array x = from(v, {int32_t(n)}, t);
    EXPECT_TRUE(array_is(argsort(x), uint32, {int32_t(n)}, want_idx)) << dtype_name(t);
    EXPECT_TRUE(array_is(sort(x), t, {int32_t(n)}, want_val)) << dtype_name(t);
  }
  // integers (radix over 32 and 64-bit keys, negatives included)
  std::vector<double> w(v.size());
  for (size_t i = 0; i < v.size(); ++i) w[i] = std::isnan(v[i]) ? 3 : std::round(v[i] * 1000);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t i, int64_t j) { return w[size_t(i)] < w[size_t(j)]; });
  std::vector<double> want_w(order.begin(), order.end());
  for (Dtype t : {int32, int64})
    EXPECT_TRUE(array_is(argsort(from(w, {int32_t(n)}, t)), uint32, {int32_t(n)}, want_w)) << dtype_name(t);
  // rows and columns of a matrix: the host kernel against the interpreter
  array m = from(random_values(64 * 300, 3), {64, 300}, float32);
  for (int axis : {0, 1}) {
    EXPECT_TRUE(same(sort(m, axis), by_interpreter([&] { return sort(m, axis); })));
    EXPECT_TRUE(same(argsort(m, axis), by_interpreter([&] { return argsort(m, axis); })));
    EXPECT_TRUE(same(argpartition(m, 17, axis), by_interpreter([&] { return argpartition(m, 17, axis); })));
  }
}

TEST(Sort, RankZeroEmptyAndErrors) {
  EXPECT_TRUE(array_is(sort(array(2.0f)), float32, {1}, {2}));
  EXPECT_TRUE(array_is(argsort(array(2.0f)), uint32, {1}, {0}));
  EXPECT_TRUE(array_is(sort(zeros({0})), float32, {0}, {}));
  EXPECT_TRUE(array_is(argsort(zeros({2, 0}), 1), uint32, {2, 0}, {}));
  EXPECT_TRUE(array_is(sort(zeros({0, 3}), 1), float32, {0, 3}, {}));
  EXPECT_TRUE(throws_invalid([] { sort(array(2.0f), 0); }, "[sort] Received invalid axis 0"));
  EXPECT_TRUE(throws_invalid([] { argsort(zeros({2, 3}), -3); }, "[argsort] Received invalid axis -3"));
  EXPECT_TRUE(throws_invalid([] { partition(zeros({2, 3}), 3, 1); }, "[partition] Received invalid kth 3"));
  EXPECT_TRUE(throws_invalid([] { argpartition(zeros({2, 3}), -4, 1); }, "[argpartition] Received invalid kth -4"));
  EXPECT_TRUE(throws_invalid([] { argpartition(zeros({0}), 0); }, "[argpartition]"));
  EXPECT_TRUE(throws_invalid([] { topk(zeros({2, 3}), 4, 1); }, "[topk] Received invalid k=4"));
  EXPECT_TRUE(throws_invalid([] { topk(zeros({2, 3}), -1); }, "[topk]"));
  EXPECT_TRUE(throws_invalid([] { topk(zeros({2, 3}), 1, 2); }, "[topk] Received invalid axis 2"));
}

// ---- partition and topk: the defining property -------------------------------------

namespace {

// p is a partition of x's line around kth: a permutation of it with p[kth]
// the element of rank kth, nothing larger before it and nothing smaller
// after it (nans counted as the largest).
::testing::AssertionResult is_partition(const std::vector<double>& x, const std::vector<double>& p, int kth) {
  auto key = [](double v) { return std::isnan(v) ? kInf : v; };
  std::vector<double> sx = x, sp = p;
  auto by_key = [&](double a, double b) { return key(a) < key(b); };
  std::stable_sort(sx.begin(), sx.end(), by_key);
  std::stable_sort(sp.begin(), sp.end(), by_key);
  for (size_t i = 0; i < sx.size(); ++i)
    if (!(sx[i] == sp[i] || (std::isnan(sx[i]) && std::isnan(sp[i]))))
      return ::testing::AssertionFailure() << "not a permutation of the input";
  if (key(p[size_t(kth)]) != key(sx[size_t(kth)]))
    return ::testing::AssertionFailure() << "element " << kth << " is " << p[size_t(kth)] << ", not " << sx[size_t(kth)];
  for (int i = 0; i < int(p.size()); ++i)
    if ((i < kth && key(p[size_t(i)]) > key(p[size_t(kth)])) || (i > kth && key(p[size_t(i)]) < key(p[size_t(kth)])))
      return ::testing::AssertionFailure() << "element " << i << " = " << p[size_t(i)] << " is on the wrong side";
  return ::testing::AssertionSuccess();
}

}  // namespace

TEST(Partition, PropertyAlongEachAxisWithNegativeKth) {
  std::vector<double> v = random_values(6 * 9, 21, -5, 5);
  for (auto& x : v) x = std::round(x);  // ties
  v[4] = kNan;
  for (Dtype t : {float32, int32, float64, uint8}) {
    std::vector<double> data = v;
    if (!is_floating(t))
      for (auto& x : data) x = std::isnan(x) ? 1 : std::fabs(x);
    array x = from(data, {6, 9}, t);
    for (int kth : {0, 3, 8, -1, -4}) {
      SCOPED_TRACE(dtype_name(t) + " kth " + std::to_string(kth));
      array p = partition(x, kth, 1);
      array idx = argpartition(x, kth, -1);
      ASSERT_EQ(p.dtype(), t);
      ASSERT_EQ(idx.dtype(), uint32);
      EXPECT_TRUE(same(take_along_axis(x, idx, 1), p));
      std::vector<double> pv = values(p);
      for (int r = 0; r < 6; ++r) {
        std::vector<double> line(data.begin() + r * 9, data.begin() + r * 9 + 9);
        std::vector<double> got(pv.begin() + r * 9, pv.begin() + r * 9 + 9);
        EXPECT_TRUE(is_partition(line, got, kth < 0 ? kth + 9 : kth)) << "row " << r;
      }
    }
    // along axis 0 and flattened
    array p0 = partition(x, 2, 0);
    std::vector<double> p0v = values(transpose(p0));
    for (int c = 0; c < 9; ++c) {
      std::vector<double> line, got(p0v.begin() + c * 6, p0v.begin() + c * 6 + 6);
      for (int r = 0; r < 6; ++r) line.push_back(data[size_t(r * 9 + c)]);
      EXPECT_TRUE(is_partition(line, got, 2)) << "column " << c;
    }
    EXPECT_TRUE(is_partition(data, values(partition(x, 30)), 30));
  }
}

// np.sort(x)[-k:] is the sorted topk
TEST(Topk, LargestElementsAlongAnAxis) {
  array x = array({5.0f, 1.0f, 9.0f, 3.0f, 7.0f, 2.0f, 8.0f, 6.0f}, {2, 4});
  EXPECT_TRUE(array_is(sort(topk(x, 2, 1), 1), float32, {2, 2}, {5, 9, 7, 8}));
  EXPECT_TRUE(array_is(topk(x, 1, 0), float32, {1, 4}, {7, 2, 9, 6}));
  EXPECT_TRUE(array_is(sort(topk(x, 3)), float32, {3}, {7, 8, 9}));
  EXPECT_TRUE(array_is(topk(x, 4, 1), float32, {2, 4}, {5, 1, 9, 3, 7, 2, 8, 6}));  // k == n: the input
  EXPECT_TRUE(array_is(topk(x, 0, 1), float32, {2, 0}, {}));
  // a nan counts as the largest (nans sort last)
  EXPECT_TRUE(array_is(sort(topk(array({1.0f, NAN, 3.0f}), 2)), float32, {2}, {3, kNan}));
  // rows of 4096 with k = 10 (the benchmark's shape, scaled down)
  std::vector<double> r = random_values(8 * 4096, 33);
  array big = from(r, {8, 4096}, float32);
  std::vector<double> got = values(sort(topk(big, 10, 1), 1));
  for (int row = 0; row < 8; ++row) {
    std::vector<double> line(r.begin() + row * 4096, r.begin() + (row + 1) * 4096);
    for (auto& e : line) e = double(float(e));
    std::sort(line.begin(), line.end());
    for (int j = 0; j < 10; ++j) EXPECT_EQ(got[size_t(row * 10 + j)], line[size_t(4096 - 10 + j)]);
  }
}

// ---- the host kernels' paths at their thresholds, on 1 to 4 threads -----------------

namespace {

// Runs f with the global pool at each of these sizes (several threads even
// on a one-core machine), then restores it.
void on_pool_sizes(const std::function<void(int)>& f) {
  runtime::ThreadPool& pool = runtime::ThreadPool::global();
  const int threads = pool.size();
  for (int size : {1, 2, 4}) {
    pool.set_size(size);
    SCOPED_TRACE("pool of " + std::to_string(size));
    f(size);
  }
  pool.set_size(threads);
}

// The stable order of v with nans last and -0 == +0 (MLX's sort order).
std::vector<int64_t> stable_order(const std::vector<double>& v) {
  std::vector<int64_t> order(v.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t i, int64_t j) {
    if (std::isnan(v[size_t(i)])) return false;
    return std::isnan(v[size_t(j)]) || v[size_t(i)] < v[size_t(j)];
  });
  return order;
}

}  // namespace

// Lengths around the radix sort's threshold (2048) and the parallel
// single-line sort's (65536), with ties, both zeros, infinities and nans;
// a line whose keys all share their top bits (one bucket of the parallel
// sort), and a constant one. Against std::stable_sort, zeros' signs too.
TEST(Sort, RadixAndParallelPathsMatchAStableSort) {
  on_pool_sizes([](int) {
    for (int64_t n : {2047, 2048, 2049, 65535, 65536, 65537, 200001}) {
      std::vector<std::vector<double>> cases;
      std::vector<double> mixed = random_values(n, uint32_t(n), -40, 40);
      for (auto& x : mixed) x = std::round(x * 8) / 8;  // many ties, many zeros of both signs
      for (int64_t i = 0; i < n; i += 97) mixed[size_t(i)] = -0.0;
      mixed[3] = kNan, mixed[size_t(n / 2)] = kInf, mixed[size_t(n - 1)] = -kInf, mixed[size_t(n - 2)] = kNan;
      cases.push_back(mixed);
      std::vector<double> narrow(static_cast<size_t>(n));
      for (int64_t i = 0; i < n; ++i) narrow[size_t(i)] = 1.0 + double((i * 7919) % 1000) / 1048576.0;  // [1, 1.001)
      cases.push_back(narrow);
      cases.push_back(std::vector<double>(static_cast<size_t>(n), 2.5));
      for (size_t c = 0; c < cases.size(); ++c) {
        const std::vector<double>& v = cases[c];
        SCOPED_TRACE("n " + std::to_string(n) + " case " + std::to_string(c));
        std::vector<int64_t> order = stable_order(v);
        std::vector<double> want_idx(order.begin(), order.end()), want_val, want_sign;
        for (int64_t i : order) want_val.push_back(v[size_t(i)]), want_sign.push_back(std::signbit(v[size_t(i)]));
        for (Dtype t : {float32, float64}) {
          array x = from(v, {int32_t(n)}, t);
          EXPECT_TRUE(array_is(argsort(x), uint32, {int32_t(n)}, want_idx)) << dtype_name(t);
          std::vector<double> got = values(sort(x));
          EXPECT_TRUE(array_is(sort(x), t, {int32_t(n)}, want_val)) << dtype_name(t);
          std::vector<double> sign(got.size());
          for (size_t i = 0; i < got.size(); ++i) sign[i] = std::signbit(got[i]);
          EXPECT_EQ(sign, want_sign) << dtype_name(t) << ": the zeros' signs are not in input order";
        }
        std::vector<double> w(v.size());  // integers with ties and negatives
        for (size_t i = 0; i < v.size(); ++i) w[i] = std::isnan(v[i]) ? 7 : std::isinf(v[i]) ? -9 : std::round(v[i] * 3);
        std::vector<int64_t> iorder = stable_order(w);
        std::vector<double> want_w(iorder.begin(), iorder.end()), sorted_w;
        for (int64_t i : iorder) sorted_w.push_back(w[size_t(i)]);
        for (Dtype t : {int32, int64, int16}) {
          EXPECT_TRUE(array_is(argsort(from(w, {int32_t(n)}, t)), uint32, {int32_t(n)}, want_w)) << dtype_name(t);
          EXPECT_TRUE(array_is(sort(from(w, {int32_t(n)}, t)), t, {int32_t(n)}, sorted_w)) << dtype_name(t);
        }
      }
    }
  });
}

// argpartition with kth near either end (the small-buffer selection: within
// 32 of an end) and in the middle (nth_element), along rows and columns,
// with ties and nans: bit for bit the interpreter's, as is topk.
TEST(Partition, NearTheEndsAndInTheMiddleMatchTheInterpreter) {
  std::vector<double> v = random_values(12 * 3000, 77, -20, 20);
  for (auto& x : v) x = std::round(x * 2) / 2;
  for (size_t i = 5; i < v.size(); i += 301) v[i] = kNan;
  on_pool_sizes([&](int) {
    for (Dtype t : {float32, float64, int32}) {
      array m = from(v, {12, 3000}, t);
      SCOPED_TRACE(dtype_name(t));
      for (int kth : {0, 1, 31, 32, 1500, 2967, 2968, 2990, 2999}) {
        SCOPED_TRACE("kth " + std::to_string(kth));
        EXPECT_TRUE(same(argpartition(m, kth, 1), by_interpreter([&] { return argpartition(m, kth, 1); })));
      }
      for (int kth : {0, 5, 11}) EXPECT_TRUE(same(argpartition(m, kth, 0), by_interpreter([&] { return argpartition(m, kth, 0); })));
      EXPECT_TRUE(same(topk(m, 10, -1), by_interpreter([&] { return topk(m, 10, -1); })));
      EXPECT_TRUE(same(topk(m, 1, -1), by_interpreter([&] { return topk(m, 1, -1); })));
    }
  });
}

// Rows (each scanned alone) match the interpreter bit for bit; so do
// cummax/cummin and integer-valued sums of one long line scanned in
// parallel blocks, eight blocks per thread at once (whose float sums may
// round differently from one sequential pass), with 100003 elements: blocks
// of unequal length.
TEST(Scans, RowsAndParallelBlocksMatchTheInterpreter) {
  array rows = from(random_values(13 * 1000, 9), {13, 1000}, float32);
  std::vector<double> line_values(100003);
  for (size_t i = 0; i < line_values.size(); ++i) line_values[i] = double(int64_t(i * 7919 % 13) - 6);
  array line = from(line_values, {100003}, float32);
  array iline = from(line_values, {100003}, int32);
  on_pool_sizes([&](int) {
    for (int flags = 0; flags < 4; ++flags) {
      const bool reverse = flags & 1, inclusive = flags & 2;
      SCOPED_TRACE(std::string(reverse ? "reverse" : "forward") + (inclusive ? "" : " exclusive"));
      std::vector<std::function<array()>> fs = {
          [&] { return cumsum(rows, -1, reverse, inclusive); },
          [&] { return cumprod(rows + 1.0f, -1, reverse, inclusive); },
          [&] { return cummax(rows, -1, reverse, inclusive); },
          [&] { return logcumsumexp(rows, -1, reverse, inclusive); },
          [&] { return cumsum(line, 0, reverse, inclusive); },  // small integers: exact in any grouping
          [&] { return cumsum(iline, 0, reverse, inclusive); },
          [&] { return cummax(line, 0, reverse, inclusive); },
          [&] { return cummin(iline, 0, reverse, inclusive); }};
      for (size_t i = 0; i < fs.size(); ++i) EXPECT_TRUE(same(fs[i](), by_interpreter(fs[i]))) << "function " << i;
    }
  });
}

// ---- derivatives -----------------------------------------------------------------

namespace {

// jvp against central differences and vjp against the jvp (<ct, J v> =
// <J^T ct, v>), at x in float64. Outputs that are infinite (an exclusive
// scan's identity, -inf) have no differences: their tangent must be 0.
::testing::AssertionResult derivatives_match(const std::function<array(const array&)>& f, const array& x,
                                             uint32_t seed = 1) {
  const double h = 1e-6;
  array v = from(random_values(int64_t(x.size()), seed), x.shape(), float64);
  std::vector<double> fp = values(f(x + h * v)), fm = values(f(x - h * v));
  std::vector<double> fd(fp.size());
  for (size_t i = 0; i < fp.size(); ++i) fd[i] = (fp[i] - fm[i]) / (2 * h);
  auto [y, ty] = jvp(f, x, v);
  std::vector<double> t = values(ty);
  for (size_t i = 0; i < fd.size(); ++i)
    if (std::isfinite(fp[i]) ? !(std::fabs(t[i] - fd[i]) <= 1e-5 * std::max(1.0, std::fabs(fd[i]))) : t[i] != 0)
      return ::testing::AssertionFailure() << "jvp element " << i << " is " << t[i] << ", differences give " << fd[i];
  array ct = from(random_values(int64_t(y.size()), seed + 7), y.shape(), float64);
  auto [y2, g] = vjp(f, x, ct);
  const double lhs = sum(ct * ty).item<double>(), rhs = sum(g * v).item<double>();
  if (!(std::fabs(lhs - rhs) <= 1e-8 * std::max(1.0, std::fabs(lhs))))
    return ::testing::AssertionFailure() << "<ct, J v> = " << lhs << " but <J^T ct, v> = " << rhs;
  return ::testing::AssertionSuccess();
}

}  // namespace

TEST(ScanGrad, EveryScanInEveryDirectionMatchesFiniteDifferences) {
  array x = from(random_values(2 * 5, 42, 0.5, 2.0), {2, 5}, float64);
  for (int axis : {0, 1, -1})
    for (int flags = 0; flags < 4; ++flags) {
      const bool reverse = flags & 1, inclusive = flags & 2;
      SCOPED_TRACE("axis " + std::to_string(axis) + (reverse ? " reverse" : "") + (inclusive ? "" : " exclusive"));
      EXPECT_TRUE(derivatives_match([&](const array& a) { return cumsum(a, axis, reverse, inclusive); }, x)) << "cumsum";
      EXPECT_TRUE(derivatives_match([&](const array& a) { return cumprod(a, axis, reverse, inclusive); }, x)) << "cumprod";
      EXPECT_TRUE(derivatives_match([&](const array& a) { return cummax(a, axis, reverse, inclusive); }, x)) << "cummax";
      EXPECT_TRUE(derivatives_match([&](const array& a) { return cummin(a, axis, reverse, inclusive); }, x)) << "cummin";
      EXPECT_TRUE(derivatives_match([&](const array& a) { return logcumsumexp(a, axis, reverse, inclusive); }, x))
          << "logcumsumexp";
    }
  EXPECT_TRUE(derivatives_match([](const array& a) { return cumsum(a); }, x));
}

// cumprod's derivative is exact with one and with several zeros (no 0/0).
TEST(ScanGrad, CumprodWithZeros) {
  for (std::vector<double> v : {std::vector<double>{1.5, 0, 2, 3, 0.5}, {0, 2, 0, 3, 1.5}, {2, 3, 0, 0, 4},
                                {0, 0, 0, 1, 2}}) {
    array x = array(v.data(), {5}, float64);
    for (int flags = 0; flags < 4; ++flags) {
      const bool reverse = flags & 1, inclusive = flags & 2;
      EXPECT_TRUE(derivatives_match([&](const array& a) { return cumprod(a, 0, reverse, inclusive); }, x))
          << kiln_test::values(x)[0] << " flags " << flags;
    }
    // and the gradient itself is finite
    std::vector<double> g = values(grad([](const array& a) { return sum(cumprod(a)); })(x));
    for (double e : g) EXPECT_TRUE(std::isfinite(e));
  }
  // sum(cumprod([a, b, c])) = a + ab + abc: at [2, 0, 3] the gradient is
  // [1 + b + bc, a + ac, ab] = [1, 8, 0]
  EXPECT_TRUE(array_is(grad([](const array& a) { return sum(cumprod(a)); })(array({2.0, 0.0, 3.0}, float64)),
                       float64, {3}, {1, 8, 0}));
}

// cummax routes the derivative to where the running maximum was attained.
TEST(ScanGrad, CummaxRoutesToTheMaximum) {
  // y = [1, 3, 3, 5]: x0 gets y0's, x1 gets y1 and y2's, x3 gets y3's
  EXPECT_TRUE(array_is(grad([](const array& a) { return sum(cummax(a) * array({1.0, 2.0, 4.0, 8.0}, float64)); })(
                           array({1.0, 3.0, 2.0, 5.0}, float64)),
                       float64, {4}, {1, 6, 0, 8}));
}

TEST(SortGrad, SortTopkAndPartitionMatchFiniteDifferences) {
  array x = from(random_values(3 * 6, 9), {3, 6}, float64);
  EXPECT_TRUE(derivatives_match([](const array& a) { return sort(a, 1); }, x));
  EXPECT_TRUE(derivatives_match([](const array& a) { return sort(a, 0); }, x));
  EXPECT_TRUE(derivatives_match([](const array& a) { return sort(a); }, x));
  EXPECT_TRUE(derivatives_match([](const array& a) { return topk(a, 2, 1); }, x));
  EXPECT_TRUE(derivatives_match([](const array& a) { return partition(a, 2, 0); }, x));
  // the gradient of the max via topk(., 1) is one-hot at the argmax
  EXPECT_TRUE(array_is(grad([](const array& a) { return sum(topk(a, 1)); })(array({0.5, 3.0, 1.0}, float64)), float64,
                       {3}, {0, 1, 0}));
}

// ---- vmap ----------------------------------------------------------------------------

namespace {

::testing::AssertionResult vmap_matches_loop(const std::function<array(const array&)>& f, const array& x, int in_axis) {
  array got = vmap(f, in_axis)(x);
  std::vector<array> outs;
  for (int b = 0; b < x.shape(in_axis); ++b) outs.push_back(f(take(x, b, in_axis)));
  return same(got, stack(outs), 1e-6);
}

}  // namespace

TEST(ScanSortVmap, MatchesALoopOverSlices) {
  array x = from(random_values(4 * 5 * 6, 77, -3, 3), {4, 5, 6}, float32);
  for (int in_axis : {0, 1, 2}) {
    SCOPED_TRACE("in_axis " + std::to_string(in_axis));
    EXPECT_TRUE(vmap_matches_loop([](const array& a) { return cumsum(a, 1, true); }, x, in_axis));
    EXPECT_TRUE(vmap_matches_loop([](const array& a) { return cumprod(a, 0, false, false); }, x, in_axis));
    EXPECT_TRUE(vmap_matches_loop([](const array& a) { return cummax(a, -1); }, x, in_axis));
    EXPECT_TRUE(vmap_matches_loop([](const array& a) { return cummin(a); }, x, in_axis));
    EXPECT_TRUE(vmap_matches_loop([](const array& a) { return logcumsumexp(a, 0); }, x, in_axis));
    EXPECT_TRUE(vmap_matches_loop([](const array& a) { return sort(a, 0); }, x, in_axis));
    EXPECT_TRUE(vmap_matches_loop([](const array& a) { return argsort(a, 1); }, x, in_axis));
    EXPECT_TRUE(vmap_matches_loop([](const array& a) { return argpartition(a, 2, 1); }, x, in_axis));
    EXPECT_TRUE(vmap_matches_loop([](const array& a) { return topk(a, 2); }, x, in_axis));
  }
}

// grad of a batched scan: vmap(grad(f)) equals the loop too.
TEST(ScanSortVmap, OfGrad) {
  array x = from(random_values(3 * 5, 8, 0.5, 2), {3, 5}, float64);
  auto g = grad([](const array& a) { return sum(cumprod(a) * cummax(a)) + sum(sort(a) * arange(5.0)); });
  EXPECT_TRUE(vmap_matches_loop(g, x, 0));
}
