// kiln::random: Threefry-2x32 as a composite of uint32 elementwise ops.
//
// What matches MLX (mlx/random.cpp and its CPU RandomBits kernel, which
// follow JAX's threefry_random_bits; read as a description, not copied):
//  * key(seed) is (seed >> 32, seed & 0xffffffff);
//  * bits(shape, width, key): the output's bytes are those of N uint32 words
//    (N = ceil(size * width / 4)), little-endian, truncated to the output;
//    word j < ceil(N/2) is the first output of Threefry(key, (j, j + ceil(N/2))),
//    word j >= ceil(N/2) the second output of Threefry(key, (j - ceil(N/2), j));
//    for odd N the middle word's counter is (N/2, 0) instead of (N/2, N);
//  * split(key, num) = bits((num, 2), 4, key); the global sequence's next()
//    splits its key, keeps the first half, returns the second;
//  * uniform maps bits b to min(float32(b) / 2^32, nextafter(1, 0)), cast to
//    the dtype, times (high - low) plus low; normal, truncated_normal,
//    bernoulli, randint, gumbel, laplace, categorical apply MLX's transforms
//    to those (so a key gives MLX's numbers up to kiln's erfinv/log rounding).
// What differs: multivariate_normal takes cov's Cholesky factor where MLX
// takes an SVD square root (same distribution, other samples; kiln has no
// SVD yet); uniform also accepts float64 (MLX throws "Unsupported type").
// permutation is MLX's argsort of bits({n}, key), then a take along the axis.
//
// Why a composite: each element's bits depend only on its index and the
// key, so generation is ~120 uint32 adds/xors/shifts per element that the
// fusion pass puts into the consumer's kernel (uniform(...) * x is one
// kernel), vmap batches over keys for free, and the result cannot depend on
// how the thread pool splits the range.
#include "frontend/random.h"

#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <vector>

#include "frontend/ops.h"
#include "frontend/ops_util.h"

namespace kiln::random {

using kiln::detail::str;
using kiln::detail::throw_invalid;

namespace {

constexpr uint32_t kParity = 0x1BD11BDA;  // Threefry's key-schedule constant
constexpr int kRotations[2][4] = {{13, 15, 26, 6}, {17, 29, 16, 24}};

// Threefry-2x32, 20 rounds, on the host: for the global key sequence only.
std::pair<uint32_t, uint32_t> threefry_host(uint32_t k0, uint32_t k1, uint32_t x0, uint32_t x1) {
  uint32_t ks[3] = {k0, k1, k0 ^ k1 ^ kParity};
  x0 += ks[0];
  x1 += ks[1];
  for (int i = 0; i < 5; ++i) {
    for (int r : kRotations[i % 2]) {
      x0 += x1;
      x1 = (x1 << r) | (x1 >> (32 - r));
      x1 ^= x0;
    }
    x0 += ks[(i + 1) % 3];
    x1 += ks[(i + 2) % 3] + uint32_t(i + 1);
  }
  return {x0, x1};
}

array u32(uint64_t v) { return array(uint32_t(v), uint32); }

// One array per shift amount: each distinct materialized scalar is a
// kernel argument in eager evaluation, so the 40 shifts read 11 of them.
struct ShiftAmounts {
  std::map<int, array> by_value;
  const array& operator()(int r) {
    auto it = by_value.find(r);
    if (it == by_value.end()) it = by_value.emplace(r, u32(uint64_t(r))).first;
    return it->second;
  }
};

array rotate_left(const array& x, int r, ShiftAmounts& amount) {
  return bitwise_or(left_shift(x, amount(r)), right_shift(x, amount(32 - r)));
}

}  // namespace

namespace detail {
// The same Threefry-2x32 as array ops: k0, k1 broadcast against x0, x1.
std::pair<array, array> threefry2x32(const array& k0, const array& k1, const array& c0, const array& c1) {
  ShiftAmounts amount;
  array x0 = c0, x1 = c1;
  array ks[3] = {k0, k1, bitwise_xor(bitwise_xor(k0, k1), u32(kParity))};
  x0 = add(x0, ks[0]);
  x1 = add(x1, ks[1]);
  for (int i = 0; i < 5; ++i) {
    for (int r : kRotations[i % 2]) {
      x0 = add(x0, x1);
      x1 = bitwise_xor(rotate_left(x1, r, amount), x0);
    }
    x0 = add(x0, ks[(i + 1) % 3]);
    x1 = add(x1, add(ks[(i + 2) % 3], u32(i + 1)));
  }
  return {x0, x1};
}
}  // namespace detail

namespace {

// 0, 1, ..., n-1 as uint32, shape (n).
array iota_u32(int64_t n) {
  std::vector<uint32_t> v(static_cast<size_t>(n));
  std::iota(v.begin(), v.end(), 0u);
  return array(v.data(), Shape{int32_t(n)}, uint32);
}

// Each element's row-major index in `shape` (n > 0 elements) as uint32 on
// a 2-D grid, made from two small aranges rather than one of the output's
// size (kiln has no iota op): index = r * cols + c. The grid is `shape` cut
// at the axis k where rows = prod(shape[:k]) plus cols = prod(shape[k:]) is
// least, so that grid -> shape only splits axes, which kernels fold into
// their indexing: the bits fuse into their consumers. A shape with one huge
// axis (a 1-D shape) cannot be cut well; it gets a (ceil(n / 4096), 4096)
// grid whose first n elements are the bits (then the bits are materialized
// before their consumers, as bits of that size would be anyway).
struct Grid {
  array index;
  int64_t rows, cols;
  bool padded;  // cols does not cut `shape`: flatten and take the first n
};
Grid element_grid(const Shape& shape, int64_t n) {
  int64_t rows = 1, best = -1, left = 1;
  for (size_t k = 0; k <= shape.size(); ++k) {
    int64_t cost = left + n / left;
    if (best < 0 || cost < best) best = cost, rows = left;
    if (k < shape.size()) left *= shape[k];
  }
  int64_t cols = n / rows;
  bool padded = best > (int64_t(1) << 16);
  if (padded) cols = 4096, rows = (n + cols - 1) / cols;
  array index = add(reshape(multiply(iota_u32(rows), u32(uint64_t(cols))), {int32_t(rows), 1}),
                    reshape(iota_u32(cols), {1, int32_t(cols)}));
  return {index, rows, cols, padded};
}

// The grid's values in `shape`.
array to_shape(const array& on_grid, const Grid& g, const Shape& shape, int64_t n) {
  if (!g.padded) return reshape(on_grid, shape);
  return reshape(slice(reshape(on_grid, {int32_t(g.rows * g.cols)}), {0}, {int32_t(n)}), shape);
}

// The key's two words as rank-0 arrays (batched under vmap).
std::pair<array, array> key_words(const array& key) {
  return {reshape(slice(key, {0}, {1}), {}), reshape(slice(key, {1}, {2}), {})};
}

array check_key(const std::optional<array>& key_) {
  array key = key_ ? *key_ : KeySequence::default_().next();
  if (key.dtype() != uint32)
    throw_invalid("bits", "Expected key type uint32 but received " + dtype_name(key.dtype()) + ".");
  if (key.shape() != Shape{2}) throw_invalid("bits", "Expected key shape (2) but received " + str(key.shape()) + ".");
  return key;
}

// The largest value of `dtype` below 1, as float32 (uniform's upper clamp).
double below_one(Dtype dtype) {
  if (dtype == float16) return 1.0 - 0x1p-11;
  if (dtype == bfloat16) return 1.0 - 0x1p-8;
  if (dtype == float64) return std::nextafter(1.0, 0.0);
  return double(std::nextafter(1.0f, 0.0f));
}

// Whether NumPy broadcasting takes `from` to exactly `to`.
bool broadcasts_to(const Shape& from, const Shape& to) {
  if (from.size() > to.size()) return false;
  size_t lead = to.size() - from.size();
  for (size_t i = 0; i < from.size(); ++i)
    if (from[i] != 1 && from[i] != to[lead + i]) return false;
  return true;
}

int valid_axis(int axis, int ndim, const char* op = "categorical", const char* what = "logits") {
  int ax = axis < 0 ? axis + ndim : axis;
  if (ax < 0 || ax >= ndim)
    throw_invalid(op, "Invalid axis " + std::to_string(axis) + " for " + what + " with " + std::to_string(ndim) +
                          " dimensions.");
  return ax;
}

}  // namespace

// ---- keys -------------------------------------------------------------------

KeySequence::KeySequence(uint64_t seed) { this->seed(seed); }

void KeySequence::seed(uint64_t seed) {
  std::lock_guard<std::mutex> lock(mutex_);
  key_[0] = uint32_t(seed >> 32);
  key_[1] = uint32_t(seed);
}

// split(key) on the host: bits((2, 2)) are the words (a.x0, b.x0, a.x1, b.x1)
// of a = Threefry(key, (0, 2)) and b = Threefry(key, (1, 3)).
array KeySequence::next() {
  if (this == &default_())
    if (auto* traced = detail::TracedKeys::active()) return traced->next();
  std::lock_guard<std::mutex> lock(mutex_);
  auto a = threefry_host(key_[0], key_[1], 0, 2);
  auto b = threefry_host(key_[0], key_[1], 1, 3);
  key_[0] = a.first;
  key_[1] = b.first;
  return array({a.second, b.second}, uint32);
}

KeySequence& KeySequence::default_() {
  static KeySequence sequence(uint64_t(std::chrono::duration_cast<std::chrono::milliseconds>(
                                           std::chrono::system_clock::now().time_since_epoch())
                                           .count()));
  return sequence;
}

namespace detail {
namespace {
thread_local TracedKeys* active_traced_keys = nullptr;
}  // namespace

TracedKeys::TracedKeys(array base) : key_(std::move(base)), outer_(active_traced_keys) { active_traced_keys = this; }
TracedKeys::~TracedKeys() { active_traced_keys = outer_; }
TracedKeys* TracedKeys::active() { return active_traced_keys; }

array TracedKeys::next() {
  ++draws_;
  auto [keep, drawn] = split(key_);
  key_ = keep;
  return drawn;
}
}  // namespace detail

array key(uint64_t seed) { return array({uint32_t(seed >> 32), uint32_t(seed)}, uint32); }

void seed(uint64_t seed) { KeySequence::default_().seed(seed); }

array bits(const Shape& shape, int width, const std::optional<array>& key_, StreamOrDevice s) {
  kiln::detail::OpStream on_stream(s);
  array key = check_key(key_);
  Dtype out_type = width == 4 ? uint32 : width == 2 ? uint16 : uint8;
  if (width != 4 && width != 2 && width != 1)
    throw_invalid("bits", "Bit width must be in {1, 2, 4} but got " + std::to_string(width) + ".");
  kiln::detail::check_shape("bits", shape, out_type);
  int64_t n = ir::shape_size(shape);
  if (n == 0) return zeros(shape, out_type);
  int64_t words = (n * width + 3) / 4;
  if (words > int64_t(UINT32_MAX) || n > int64_t(INT32_MAX) - 4096)
    throw_invalid("bits", "Cannot generate " + std::to_string(n) + " elements from one key (at most 2^31 - 4097).");

  Grid grid = element_grid(shape, n);
  const array& element = grid.index;
  int per_word = 4 / width;  // elements per uint32 word
  array word_index = per_word == 1 ? element : right_shift(element, u32(per_word == 2 ? 1 : 2));
  uint64_t half = uint64_t(words + 1) / 2;
  array first = less(word_index, u32(half));
  array partner = add(word_index, u32(half));
  array c0 = where(first, word_index, subtract(word_index, u32(half)));
  array c1 = where(first, where(equal(partner, u32(uint64_t(words))), u32(0), partner), word_index);
  auto [k0, k1] = key_words(key);
  auto [x0, x1] = detail::threefry2x32(k0, k1, c0, c1);
  array word = where(first, x0, x1);
  if (per_word == 1) return to_shape(word, grid, shape, n);
  array shift = left_shift(bitwise_and(element, u32(per_word - 1)), u32(width == 2 ? 4 : 3));
  array narrow = astype(bitwise_and(right_shift(word, shift), u32(width == 2 ? 0xFFFF : 0xFF)), out_type);
  return to_shape(narrow, grid, shape, n);
}

std::pair<array, array> split(const array& key, StreamOrDevice s) {
  kiln::detail::OpStream on_stream(s);
  array keys = random::split(key, 2);
  return {reshape(slice(keys, {0, 0}, {1, 2}), {2}), reshape(slice(keys, {1, 0}, {2, 2}), {2})};
}

array split(const array& key, int num, StreamOrDevice s) { return bits({num, 2}, 4, key, s); }

// ---- continuous distributions --------------------------------------------------

array uniform(const array& low, const array& high, const Shape& shape, Dtype dtype,
              const std::optional<array>& key, StreamOrDevice s) {
  kiln::detail::OpStream on_stream(s);
  if (!is_floating(dtype))
    throw_invalid("uniform", "Can only generate uniform numbers with real floating point type.");
  array lo = astype(low, dtype), hi = astype(high, dtype);
  array range = subtract(hi, lo);
  Shape out_shape = kiln::detail::broadcast_shapes("uniform", shape, range.shape());
  if (out_shape != shape)
    throw_invalid("uniform", "Cannot generate random values of shape " + str(shape) + " from broadcasted shape " +
                                 str(out_shape) + ".");
  // [0, 1): bits / 2^32 (exact in float32 up to the rounding of the bits),
  // clamped below 1 in the target dtype.
  Dtype work = dtype == float64 ? float64 : float32;
  array u = divide(astype(bits(shape, 4, key), work), array(4294967296.0, work));
  u = astype(minimum(u, array(below_one(dtype), work)), dtype);
  return add(multiply(range, u), lo);
}

array uniform(const Shape& shape, Dtype dtype, const std::optional<array>& key, StreamOrDevice s) {
  kiln::detail::OpStream on_stream(s);
  if (!is_floating(dtype))
    throw_invalid("uniform", "Can only generate uniform numbers with real floating point type.");
  return uniform(array(0.0, dtype), array(1.0, dtype), shape, dtype, key);
}

// Uniform on (-1, 1) in float32, the input of the inverse-CDF samplers.
static array symmetric_uniform(const Shape& shape, const std::optional<array>& key) {
  return uniform(array(std::nextafter(-1.0f, 0.0f)), array(1.0f), shape, float32, key);
}

array normal(const Shape& shape, Dtype dtype, const std::optional<array>& loc, const std::optional<array>& scale,
             const std::optional<array>& key, StreamOrDevice s) {
  kiln::detail::OpStream on_stream(s);
  if (dtype == complex64) {
    // Real and imaginary parts N(0, 1/2) each (as MLX: erfinv without sqrt 2).
    Shape pair_shape = shape;
    pair_shape.push_back(2);
    array parts = erfinv(symmetric_uniform(pair_shape, key));
    int last = int(shape.size());
    Shape start(pair_shape.size(), 0), stop = pair_shape;
    stop[last] = 1;
    array re = squeeze(slice(parts, start, stop), last);
    start[last] = 1, stop[last] = 2;
    array im = squeeze(slice(parts, start, stop), last);
    array out = add(astype(re, complex64), multiply(astype(im, complex64), array(complex64_t(0.0f, 1.0f))));
    if (scale) out = multiply(*scale, out);
    if (loc) out = add(*loc, out);
    return out;
  }
  if (!is_floating(dtype)) throw_invalid("normal", "Can only generate uniform numbers with floating point type.");
  array samples = astype(erfinv(symmetric_uniform(shape, key)), dtype);
  array applied_scale = array(std::sqrt(2.0), dtype);
  if (scale) applied_scale = multiply(applied_scale, astype(*scale, dtype));
  samples = multiply(applied_scale, samples);
  if (loc) samples = add(astype(*loc, dtype), samples);
  return samples;
}

// The lower Cholesky factor of the symmetric positive (semi)definite matrices in
// the last two axes of a (read from its lower triangle), column by column
// from ops: n steps of O(n^2) work each, fine for the small covariances that
// multivariate_normal takes until kiln has a LAPACK-backed linalg.
static array cholesky_lower(const array& a) {
  int n = a.shape(-1);
  int nd = int(a.ndim());
  array rows = reshape(arange(0, n, int32), {n, 1});
  array cols = reshape(arange(0, n, int32), {1, n});
  array l = zeros_like(a);
  for (int j = 0; j < n; ++j) {
    Shape start(nd, 0), stop = a.shape();
    start[nd - 1] = j, stop[nd - 1] = j + 1;
    array col = slice(a, start, stop);  // (..., n, 1)
    if (j > 0) {
      Shape row_start(nd, 0), row_stop = l.shape();
      row_start[nd - 2] = j, row_stop[nd - 2] = j + 1;
      array row_j = slice(l, row_start, row_stop);  // (..., 1, n)
      col = subtract(col, matmul(l, swapaxes(row_j, -1, -2)));
    }
    Shape d_start(nd, 0), d_stop = col.shape();
    d_start[nd - 2] = j, d_stop[nd - 2] = j + 1;
    // A zero pivot (a positive semidefinite cov, rank-deficient) leaves
    // the column zero, which is its exact value there; rounding below zero
    // counts as zero.
    array diag = sqrt(maximum(slice(col, d_start, d_stop), array(0.0f)));  // (..., 1, 1)
    array below = logical_and(greater_equal(rows, array(j)), greater(diag, array(0.0f)));
    array new_col = where(below, divide(col, diag), array(0.0f));
    l = add(l, multiply(new_col, equal(cols, array(j))));
  }
  return l;
}

array multivariate_normal(const array& mean, const array& cov, const Shape& shape, Dtype dtype,
                          const std::optional<array>& key, StreamOrDevice s) {
  kiln::detail::OpStream on_stream(s);
  if (dtype != float32) throw_invalid("multivariate_normal", "dtype must be float32.");
  if (mean.ndim() < 1) throw_invalid("multivariate_normal", "mean must have at least one dimension.");
  if (cov.ndim() < 2) throw_invalid("multivariate_normal", "cov must have at least two dimensions.");
  int n = mean.shape(-1);
  if (cov.shape(-1) != cov.shape(-2)) throw_invalid("multivariate_normal", "last two dimensions of cov must be equal.");
  if (n != cov.shape(-1)) throw_invalid("multivariate_normal", "mean and cov must have compatible shapes.");
  Shape mean_batch(mean.shape().begin(), mean.shape().end() - 1);
  Shape cov_batch(cov.shape().begin(), cov.shape().end() - 2);
  Shape out_shape = kiln::detail::broadcast_shapes("multivariate_normal", cov_batch, mean_batch);
  out_shape = kiln::detail::broadcast_shapes("multivariate_normal", out_shape, shape);
  out_shape.push_back(n);
  // x = mean + L z with L L^T = cov: as a row vector, z^T L^T.
  array l = cholesky_lower(astype(cov, float32));
  array z = normal(out_shape, dtype, 0.0f, 1.0f, key);
  array scaled = squeeze(matmul(expand_dims(z, -2), swapaxes(l, -1, -2)), -2);
  return add(mean, scaled);
}

array truncated_normal(const array& lower, const array& upper, const Shape& shape, Dtype dtype,
                       const std::optional<array>& key, StreamOrDevice s) {
  kiln::detail::OpStream on_stream(s);
  if (!is_floating(dtype)) throw_invalid("trunc_normal", "trunc_normal only accepts floating point dtypes.");
  // The inverse CDF of N(0, 1) on a uniform between the bounds' CDFs (as JAX).
  array sqrt2 = array(std::sqrt(2.0), dtype);
  array lo = astype(lower, dtype), hi = astype(upper, dtype);
  array a = erf(divide(lo, sqrt2)), b = erf(divide(hi, sqrt2));
  array out = multiply(sqrt2, erfinv(uniform(a, b, shape, dtype, key)));
  return maximum(minimum(hi, out), lo);  // rounding may step past a bound
}

array truncated_normal(const array& lower, const array& upper, Dtype dtype, const std::optional<array>& key,
                       StreamOrDevice s) {
  kiln::detail::OpStream on_stream(s);
  Shape shape = kiln::detail::broadcast_shapes("trunc_normal", lower.shape(), upper.shape());
  return truncated_normal(lower, upper, shape, dtype, key);
}

array gumbel(const Shape& shape, Dtype dtype, const std::optional<array>& key, StreamOrDevice s) {
  kiln::detail::OpStream on_stream(s);
  return negative(log(negative(log(uniform(shape, dtype, key)))));
}

array laplace(const Shape& shape, Dtype dtype, const float loc, const float scale, const std::optional<array>& key,
              StreamOrDevice s) {
  kiln::detail::OpStream on_stream(s);
  if (!is_floating(dtype)) throw_invalid("laplace", "Can only generate uniform numbers with real floating point type.");
  // Inverse CDF on u in (-1, 1): sign(u) * log(1 - |u|) (symmetric, so the
  // sign convention does not matter).
  array u = symmetric_uniform(shape, key);
  array samples = astype(multiply(sign(u), log1p(negative(abs(u)))), dtype);
  if (scale != 1.0f) samples = multiply(array(scale, dtype), samples);
  if (loc != 0.0f) samples = add(array(loc, dtype), samples);
  return samples;
}

// ---- discrete distributions -------------------------------------------------

array randint(const array& low, const array& high, const Shape& shape, Dtype dtype,
              const std::optional<array>& key, StreamOrDevice s) {
  kiln::detail::OpStream on_stream(s);
  if (is_inexact(dtype)) throw_invalid("randint", "randint only accepts integer dtypes and bool.");
  // In integer space (as MLX): random bits modulo the width of [low, high),
  // exact for any bounds (a float draw would round above 2^24). The width
  // is computed in int64 and read as uint64 (a width above 2^63 wraps to
  // the right unsigned value); an empty interval gives low.
  array lo = astype(low, int64), hi = astype(high, int64);
  array range = subtract(hi, lo);
  Shape out_shape = kiln::detail::broadcast_shapes("randint", shape, range.shape());
  if (out_shape != shape)
    throw_invalid("randint", "Cannot generate random values of shape " + str(shape) + " from broadcasted shape " +
                                 str(out_shape) + ".");
  Dtype cmp = issubdtype(dtype, unsignedinteger) ? uint64 : int64;
  array empty = less_equal(astype(high, cmp), astype(low, cmp));
  array width = where(empty, array(uint64_t(1), uint64), astype(range, uint64));
  array raw(0);
  if (dtype == int64 || dtype == uint64) {
    // 64 bits from two draws (with a given key, from its two halves).
    array lo_bits(0), hi_bits(0);
    if (key) {
      auto [k1, k2] = random::split(*key);
      lo_bits = bits(shape, 4, k1), hi_bits = bits(shape, 4, k2);
    } else {
      lo_bits = bits(shape, 4), hi_bits = bits(shape, 4);
    }
    raw = bitwise_or(left_shift(astype(hi_bits, uint64), array(uint64_t(32), uint64)), astype(lo_bits, uint64));
  } else {
    raw = astype(bits(shape, 4, key), uint64);
  }
  return astype(add(astype(lo, uint64), remainder(raw, width)), dtype);
}

array bernoulli(const array& p, const Shape& shape, const std::optional<array>& key, StreamOrDevice s) {
  kiln::detail::OpStream on_stream(s);
  if (!is_floating(p.dtype())) throw_invalid("bernoulli", "bernoulli probability `p` must be a float type.");
  if (!broadcasts_to(p.shape(), shape)) throw_invalid("bernoulli", "shape of `p` is incompatible with argument `shape`.");
  // bits < p * (the float above 2^32 - 1): p >= 1 is always true, p <= 0 never.
  array upper(std::nextafter(float(UINT32_MAX), std::numeric_limits<float>::max()));
  return less(bits(shape, key), multiply(p, upper));
}

array bernoulli(const array& p, const std::optional<array>& key, StreamOrDevice s) {
  return bernoulli(p, p.shape(), key, s);
}

array bernoulli(const std::optional<array>& key, StreamOrDevice s) { return bernoulli(array(0.5f), key, s); }

// The Gumbel-max trick: argmax of logits + Gumbel noise along the axis, the
// noise having `shape` with the axis's length inserted where it lands once
// logits broadcast against it (right-aligned).
static array categorical_impl(const array& logits, int axis, const Shape& shape, const std::optional<array>& key) {
  Shape noise_shape = shape;
  int offset = axis + int(shape.size()) - int(logits.ndim()) + 1;
  noise_shape.insert(noise_shape.begin() + offset, logits.shape(axis));
  return argmax(add(gumbel(noise_shape, float32, key), logits), offset, false);
}

array categorical(const array& logits, int axis, const Shape& shape, const std::optional<array>& key,
                  StreamOrDevice s) {
  kiln::detail::OpStream on_stream(s);
  axis = valid_axis(axis, int(logits.ndim()));
  Shape reduced = logits.shape();
  reduced.erase(reduced.begin() + axis);
  if (kiln::detail::broadcast_shapes("categorical", shape, reduced) != shape)
    throw_invalid("categorical", "Requested shape " + str(shape) +
                                     " is not broadcast compatible with reduced logits shape" + str(reduced) + ".");
  return categorical_impl(logits, axis, shape, key);
}

array categorical(const array& logits_, int axis, int num_samples, const std::optional<array>& key,
                  StreamOrDevice s) {
  kiln::detail::OpStream on_stream(s);
  axis = valid_axis(axis, int(logits_.ndim()));
  array logits = expand_dims(logits_, -1);
  Shape shape = logits.shape();
  shape.erase(shape.begin() + axis);
  shape.back() = num_samples;
  return categorical_impl(logits, axis, shape, key);
}

array categorical(const array& logits, int axis, const std::optional<array>& key, StreamOrDevice s) {
  kiln::detail::OpStream on_stream(s);
  axis = valid_axis(axis, int(logits.ndim()));
  Shape shape = logits.shape();
  shape.erase(shape.begin() + axis);
  return categorical_impl(logits, axis, shape, key);
}

// ---- permutations -----------------------------------------------------------

array permutation(const array& x, int axis, const std::optional<array>& key, StreamOrDevice s) {
  kiln::detail::OpStream on_stream(s);
  axis = valid_axis(axis, int(x.ndim()), "permutation", "an array");
  // Sorting random 32-bit keys: ties (probability ~n²/2^33) keep index order.
  array order = argsort(bits({x.shape(axis)}, key));
  return take(x, order, axis);
}

array permutation(int x, const std::optional<array>& key, StreamOrDevice s) {
  kiln::detail::OpStream on_stream(s);
  return permutation(arange(x), 0, key);
}

}  // namespace kiln::random
