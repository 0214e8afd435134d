#pragma once
// Small assertion helpers shared by the frontend tests. Stable interface:
//
//   EXPECT_TRUE(kiln_test::array_is(a, kiln::float32, {2, 2}, {1, 2, 3, 4}));
//   EXPECT_TRUE(kiln_test::array_is(a, kiln::float32, {3}, {0.1, 0.2, 0.3}, 1e-6));
//   EXPECT_TRUE(kiln_test::array_is(a, kiln::float32, {2}, {1e5, 2e5}, 0, 1e-6));
//   EXPECT_TRUE(kiln_test::complex_array_is(c, {2}, {{1, 2}, {3, -4}}, 1e-6));
//   EXPECT_TRUE(kiln_test::throws_invalid([&] { kiln::add(a, b); }, "[add]"));
//   std::vector<double> v = kiln_test::values(a);
//   kiln::array m = kiln_test::bools({true, false, true});       // bool, shape (3)
//   kiln::array m2 = kiln_test::bools({1, 0, 0, 1}, {2, 2});     // bool, shape (2,2)
//   std::string bytes = kiln_test::read_file(path);  kiln_test::write_file(path, bytes);
//
// array_is checks the dtype, the shape and every element (row-major). An
// element matches when |actual - expected| <= atol + rtol * |expected|; a NaN
// expected value matches only NaN; an infinite expected value matches only
// the same infinity. With atol = rtol = 0 the comparison is exact.
// Elements are read as double (bool: 0/1; 64-bit integers above 2^53 lose
// precision); complex64 arrays go through complex_array_is instead.
#include <gtest/gtest.h>

#include <cmath>
#include <complex>
#include <cstdint>
#include <exception>
#include <fstream>
#include <iterator>
#include <initializer_list>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <kiln/kiln.h>

namespace kiln_test {

namespace detail {

template <typename T>
std::vector<double> read_as_double(const kiln::array& a) {
  std::vector<double> out;
  const T* p = a.data<T>();
  out.reserve(a.size());
  for (size_t i = 0; i < a.size(); ++i) out.push_back(double(static_cast<float>(p[i])));
  return out;
}

template <typename T>
std::vector<double> read_exact(const kiln::array& a) {
  std::vector<double> out;
  const T* p = a.data<T>();
  out.reserve(a.size());
  for (size_t i = 0; i < a.size(); ++i) out.push_back(static_cast<double>(p[i]));
  return out;
}

inline std::string shape_str(const kiln::Shape& s) {
  std::ostringstream os;
  os << "(";
  for (size_t i = 0; i < s.size(); ++i) os << (i ? "," : "") << s[i];
  os << ")";
  return os.str();
}

template <typename T>
std::string list_str(const std::vector<T>& v) {
  std::ostringstream os;
  os.precision(17);
  os << "[";
  for (size_t i = 0; i < v.size(); ++i) os << (i ? ", " : "") << v[i];
  os << "]";
  return os.str();
}

inline bool element_matches(double actual, double expected, double atol, double rtol) {
  if (std::isnan(expected)) return std::isnan(actual);
  if (std::isinf(expected)) return actual == expected;
  if (std::isnan(actual) || std::isinf(actual)) return false;
  return std::fabs(actual - expected) <= atol + rtol * std::fabs(expected);
}

}  // namespace detail

// A bool array built from raw bytes. (array(std::initializer_list<bool>)
// does not compile at the time of writing: std::vector<bool> has no data().)
inline kiln::array bools(std::initializer_list<bool> v, kiln::Shape shape = {-1}) {
  std::vector<uint8_t> bytes(v.begin(), v.end());
  if (shape == kiln::Shape{-1}) shape = {int32_t(bytes.size())};
  int64_t n = 1;
  for (int32_t d : shape) n *= d;
  if (n != int64_t(bytes.size()))
    throw std::invalid_argument("kiln_test::bools: value count does not match the shape");
  return kiln::array(static_cast<const void*>(bytes.data()), shape, kiln::bool_);
}

// The elements of `a` in row-major order, read as double. Evaluates `a`.
// Throws std::invalid_argument for complex64 (use complex_values).
inline std::vector<double> values(const kiln::array& a) {
  using namespace kiln;
  Dtype t = a.dtype();
  if (t == bool_) return detail::read_exact<bool>(a);
  if (t == uint8) return detail::read_exact<uint8_t>(a);
  if (t == uint16) return detail::read_exact<uint16_t>(a);
  if (t == uint32) return detail::read_exact<uint32_t>(a);
  if (t == uint64) return detail::read_exact<uint64_t>(a);
  if (t == int8) return detail::read_exact<int8_t>(a);
  if (t == int16) return detail::read_exact<int16_t>(a);
  if (t == int32) return detail::read_exact<int32_t>(a);
  if (t == int64) return detail::read_exact<int64_t>(a);
  if (t == float16) return detail::read_as_double<float16_t>(a);
  if (t == bfloat16) return detail::read_as_double<bfloat16_t>(a);
  if (t == float32) return detail::read_exact<float>(a);
  if (t == float64) return detail::read_exact<double>(a);
  throw std::invalid_argument("kiln_test::values: complex64 array, use complex_values");
}

// The elements of a complex64 array in row-major order. Evaluates `a`.
inline std::vector<std::complex<double>> complex_values(const kiln::array& a) {
  if (a.dtype() != kiln::complex64)
    throw std::invalid_argument("kiln_test::complex_values: not a complex64 array");
  std::vector<std::complex<double>> out;
  const kiln::complex64_t* p = a.data<kiln::complex64_t>();
  for (size_t i = 0; i < a.size(); ++i) out.emplace_back(p[i].real(), p[i].imag());
  return out;
}

// Checks dtype, shape and values (see the header comment for the tolerance).
inline ::testing::AssertionResult array_is(const kiln::array& a, kiln::Dtype dtype,
                                           const kiln::Shape& shape,
                                           const std::vector<double>& expected,
                                           double atol = 0.0, double rtol = 0.0) {
  if (a.dtype() != dtype)
    return ::testing::AssertionFailure()
           << "dtype is " << kiln::dtype_name(a.dtype()) << ", expected " << kiln::dtype_name(dtype);
  if (a.shape() != shape)
    return ::testing::AssertionFailure() << "shape is " << detail::shape_str(a.shape())
                                         << ", expected " << detail::shape_str(shape);
  if (expected.size() != a.size())
    return ::testing::AssertionFailure() << "test bug: " << expected.size()
                                         << " expected values for an array of size " << a.size();
  std::vector<double> got;
  try {
    got = values(a);
  } catch (const std::exception& e) {
    return ::testing::AssertionFailure() << "reading the values threw: " << e.what();
  }
  for (size_t i = 0; i < got.size(); ++i) {
    if (!detail::element_matches(got[i], expected[i], atol, rtol))
      return ::testing::AssertionFailure()
             << "element " << i << " is " << got[i] << ", expected " << expected[i]
             << " (atol " << atol << ", rtol " << rtol << ")\n  actual:   " << detail::list_str(got)
             << "\n  expected: " << detail::list_str(expected);
  }
  return ::testing::AssertionSuccess();
}

// Checks that `a` is complex64 of `shape` with values within atol of
// `expected` (componentwise).
inline ::testing::AssertionResult complex_array_is(const kiln::array& a, const kiln::Shape& shape,
                                                   const std::vector<std::complex<double>>& expected,
                                                   double atol = 0.0) {
  if (a.dtype() != kiln::complex64)
    return ::testing::AssertionFailure()
           << "dtype is " << kiln::dtype_name(a.dtype()) << ", expected complex64";
  if (a.shape() != shape)
    return ::testing::AssertionFailure() << "shape is " << detail::shape_str(a.shape())
                                         << ", expected " << detail::shape_str(shape);
  if (expected.size() != a.size())
    return ::testing::AssertionFailure() << "test bug: " << expected.size()
                                         << " expected values for an array of size " << a.size();
  std::vector<std::complex<double>> got = complex_values(a);
  for (size_t i = 0; i < got.size(); ++i) {
    if (!detail::element_matches(got[i].real(), expected[i].real(), atol, 0.0) ||
        !detail::element_matches(got[i].imag(), expected[i].imag(), atol, 0.0))
      return ::testing::AssertionFailure()
             << "element " << i << " is " << got[i] << ", expected " << expected[i]
             << "\n  actual:   " << detail::list_str(got)
             << "\n  expected: " << detail::list_str(expected);
  }
  return ::testing::AssertionSuccess();
}

// Runs f and checks that it throws std::invalid_argument whose message
// contains `substring` (e.g. "[add]").
template <typename F>
::testing::AssertionResult throws_invalid(F&& f, const std::string& substring) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    if (std::string(e.what()).find(substring) == std::string::npos)
      return ::testing::AssertionFailure() << "threw std::invalid_argument \"" << e.what()
                                           << "\", which does not contain \"" << substring << "\"";
    return ::testing::AssertionSuccess();
  } catch (const std::exception& e) {
    return ::testing::AssertionFailure() << "threw another exception: " << e.what();
  } catch (...) {
    return ::testing::AssertionFailure() << "threw a non-std exception";
  }
  return ::testing::AssertionFailure() << "did not throw (expected std::invalid_argument with \""
                                       << substring << "\")";
}

// A whole file's bytes ("" if it cannot be read), and its replacement.
inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}
inline void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

// sin(i * a + b) over the row-major positions i of `shape`: smooth values
// whose NumPy counterpart is one line (np.sin(np.arange(n) * a + b)).
inline kiln::array sine_pattern(const kiln::Shape& shape, float a, float b, kiln::Dtype dtype = kiln::float32) {
  int n = 1;
  for (int d : shape) n *= d;
  return kiln::reshape(kiln::sin(kiln::arange(0.0, double(n), dtype) * kiln::array(a, dtype) + kiln::array(b, dtype)),
                       shape);
}

// n deterministic pseudo-random floats in [-1, 1) (an LCG; the same on every
// platform, so expected values computed from them stay valid).
inline std::vector<float> noise(int64_t n, uint32_t seed) {
  std::vector<float> v(n);
  uint32_t s = seed * 2654435761u + 12345u;
  for (auto& x : v) {
    s = s * 1664525u + 1013904223u;
    x = float(s >> 8) / float(1 << 23) - 1.0f;
  }
  return v;
}

}  // namespace kiln_test
