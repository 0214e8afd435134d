#pragma once
// kiln::random — MLX's random namespace (mlx/random.h): counter-based,
// splittable keys (JAX's design). A key is a uint32 array of shape (2);
// every sampler takes an optional key and, without one, draws the next key
// from a global sequence (seed() resets it). Same key, same call: same
// numbers, on any number of threads.
//
// Generation is Threefry-2x32 (20 rounds) written as uint32 elementwise ops
// over the elements' indices, so it is no special op: it fuses with what
// consumes it (a dropout mask is never materialized), batches under vmap
// over keys, and runs in the ordinary multithreaded JIT kernels. The bits
// for a key are MLX's (and JAX's) for the same call; see random.cpp.
#include <cstdint>
#include <mutex>
#include <optional>
#include <utility>

#include "frontend/array.h"
#include "frontend/stream.h"

namespace kiln::random {

// The global key sequence: next() splits the current key, keeps one half
// and returns the other. Thread-safe. Seeded from the clock, as MLX's.
class KeySequence {
 public:
  explicit KeySequence(uint64_t seed);
  void seed(uint64_t seed);
  array next();
  static KeySequence& default_();

 private:
  std::mutex mutex_;
  uint32_t key_[2];
};

// The key (seed >> 32, seed & 0xffffffff), uint32 shape (2).
array key(uint64_t seed);
// Reseeds the global key sequence.
void seed(uint64_t seed);

// Random bits of `width` bytes (4: uint32, 2: uint16, 1: uint8).
array bits(const Shape& shape, int width, const std::optional<array>& key = std::nullopt, StreamOrDevice s = {});
inline array bits(const Shape& shape, const std::optional<array>& key = std::nullopt, StreamOrDevice s = {}) {
  return bits(shape, 4, key, std::move(s));
}

// Two new keys from `key`; `num` new keys as a (num, 2) array.
std::pair<array, array> split(const array& key, StreamOrDevice s = {});
array split(const array& key, int num, StreamOrDevice s = {});

// Uniform in [low, high) (low/high broadcast to `shape`); a real floating dtype.
array uniform(const array& low, const array& high, const Shape& shape, Dtype dtype = float32,
              const std::optional<array>& key = std::nullopt, StreamOrDevice s = {});
template <typename T, typename U>
array uniform(T low, U high, const Shape& shape, Dtype dtype = float32,
              const std::optional<array>& key = std::nullopt, StreamOrDevice s = {}) {
  return uniform(array(low), array(high), shape, dtype, key, std::move(s));
}
// Uniform in [0, 1).
array uniform(const Shape& shape, Dtype dtype, const std::optional<array>& key = std::nullopt,
              StreamOrDevice s = {});
inline array uniform(const Shape& shape, const std::optional<array>& key = std::nullopt, StreamOrDevice s = {}) {
  return uniform(shape, float32, key, std::move(s));
}

// Normal samples, loc + scale * N(0, 1) (loc/scale differentiable).
array normal(const Shape& shape, Dtype dtype, const std::optional<array>& loc, const std::optional<array>& scale,
             const std::optional<array>& key, StreamOrDevice s = {});
inline array normal(const Shape& shape, Dtype dtype, const float loc, const float scale,
                    const std::optional<array>& key = std::nullopt, StreamOrDevice s = {}) {
  auto loc_ = loc == 0 ? std::nullopt : std::make_optional(array(loc, dtype));
  auto scale_ = scale == 1 ? std::nullopt : std::make_optional(array(scale, dtype));
  return normal(shape, dtype, loc_, scale_, key, std::move(s));
}
inline array normal(const Shape& shape, const float loc, const float scale,
                    const std::optional<array>& key = std::nullopt, StreamOrDevice s = {}) {
  return normal(shape, float32, loc, scale, key, std::move(s));
}
inline array normal(const Shape& shape, const Dtype dtype, const std::optional<array>& key = std::nullopt,
                    StreamOrDevice s = {}) {
  return normal(shape, dtype, std::nullopt, std::nullopt, key, std::move(s));
}
inline array normal(const Shape& shape, const std::optional<array>& key = std::nullopt, StreamOrDevice s = {}) {
  return normal(shape, float32, std::nullopt, std::nullopt, key, std::move(s));
}

// Samples of N(mean, cov), shape broadcast(shape, batch of mean/cov) + (n);
// float32 only. cov's square root is its Cholesky factor (see random.cpp).
array multivariate_normal(const array& mean, const array& cov, const Shape& shape, Dtype dtype,
                          const std::optional<array>& key = std::nullopt, StreamOrDevice s = {});

// Integers uniform in [low, high); low when high <= low.
array randint(const array& low, const array& high, const Shape& shape, Dtype dtype = int32,
              const std::optional<array>& key = std::nullopt, StreamOrDevice s = {});
template <typename T, typename U>
array randint(T low, U high, const Shape& shape, Dtype dtype = int32,
              const std::optional<array>& key = std::nullopt, StreamOrDevice s = {}) {
  return randint(array(low), array(high), shape, dtype, key, std::move(s));
}

// bool samples, true with probability p (a floating array, broadcast to shape).
array bernoulli(const array& p, const Shape& shape, const std::optional<array>& key = std::nullopt,
                StreamOrDevice s = {});
array bernoulli(const array& p, const std::optional<array>& key = std::nullopt, StreamOrDevice s = {});
template <typename T>
array bernoulli(T p, const std::optional<array>& key = std::nullopt, StreamOrDevice s = {}) {
  return bernoulli(array(p), key, std::move(s));
}
template <typename T>
array bernoulli(T p, const Shape& shape, const std::optional<array>& key = std::nullopt, StreamOrDevice s = {}) {
  return bernoulli(array(p), shape, key, std::move(s));
}
array bernoulli(const std::optional<array>& key = std::nullopt, StreamOrDevice s = {});  // p = 0.5

// Standard normal samples truncated to [lower, upper].
array truncated_normal(const array& lower, const array& upper, const Shape& shape, Dtype dtype = float32,
                       const std::optional<array>& key = std::nullopt, StreamOrDevice s = {});
array truncated_normal(const array& lower, const array& upper, Dtype dtype = float32,
                       const std::optional<array>& key = std::nullopt, StreamOrDevice s = {});

// Standard Gumbel samples, -log(-log(u)).
array gumbel(const Shape& shape, Dtype dtype = float32, const std::optional<array>& key = std::nullopt,
             StreamOrDevice s = {});

// Indices along `axis` sampled from softmax(logits) (the Gumbel-max trick):
// of the given shape, `num_samples` per distribution, or one per distribution.
array categorical(const array& logits, int axis, const Shape& shape, const std::optional<array>& key = std::nullopt,
                  StreamOrDevice s = {});
array categorical(const array& logits, int axis, int num_samples, const std::optional<array>& key = std::nullopt,
                  StreamOrDevice s = {});
array categorical(const array& logits, int axis = -1, const std::optional<array>& key = std::nullopt,
                  StreamOrDevice s = {});

// Laplace samples with location loc and scale.
array laplace(const Shape& shape, Dtype dtype, const float loc, const float scale,
              const std::optional<array>& key = std::nullopt, StreamOrDevice s = {});
inline array laplace(const Shape& shape, const float loc, const float scale,
                     const std::optional<array>& key = std::nullopt, StreamOrDevice s = {}) {
  return laplace(shape, float32, loc, scale, key, std::move(s));
}
inline array laplace(const Shape& shape, const Dtype dtype, const std::optional<array>& key = std::nullopt,
                     StreamOrDevice s = {}) {
  return laplace(shape, dtype, 0.0f, 1.0f, key, std::move(s));
}
inline array laplace(const Shape& shape, const std::optional<array>& key = std::nullopt, StreamOrDevice s = {}) {
  return laplace(shape, float32, 0.0f, 1.0f, key, std::move(s));
}

// x shuffled along `axis` (a random permutation of its slices), and a random
// permutation of 0..x-1 (int32): argsort of random bits, as MLX.
array permutation(const array& x, int axis = 0, const std::optional<array>& key = std::nullopt,
                  StreamOrDevice s = {});
array permutation(int x, const std::optional<array>& key = std::nullopt, StreamOrDevice s = {});

namespace detail {
// Threefry-2x32, 20 rounds, of counters (x0, x1) under key (k0, k1), as the
// uint32 ops that bits() is made of (all broadcast together). Exposed for
// the known-answer tests.
std::pair<array, array> threefry2x32(const array& k0, const array& k1, const array& x0, const array& x1);

// While compile() traces a function, the global key sequence hands out
// keys split from `base`, a placeholder input of the trace, instead of
// drawing them on the host (which would bake one key, and so one dropout
// mask, into the trace as a constant). The compiled function then takes a
// fresh key from the global sequence on each call and passes it as that
// input: random state as an implicit input, as MLX's compile takes
// mx.random.state. Scoped to this thread; nests.
class TracedKeys {
 public:
  explicit TracedKeys(array base);
  ~TracedKeys();
  TracedKeys(const TracedKeys&) = delete;
  TracedKeys& operator=(const TracedKeys&) = delete;
  // Whether the traced function drew any key from the global sequence.
  bool used() const { return draws_ > 0; }
  // The next key, as KeySequence::next() splits its key on the host.
  array next();
  // The innermost TracedKeys of this thread, or null.
  static TracedKeys* active();

 private:
  array key_;
  int draws_ = 0;
  TracedKeys* outer_;
};
}  // namespace detail

}  // namespace kiln::random
