// Host kernels of scans and sorts (host_scan_sort.h).
//
// Scans: a line is the n elements along the axis, `inner` apart. With
// inner == 1 each line is contiguous and runs as one loop. A single long
// line is split into blocks scanned in two parallel passes (totals, then
// each block from the totals before it), kLanes neighbouring blocks per
// thread advancing together, one element of each per step, so that their
// dependency chains overlap (each block still combines in its own order);
// its float sums may round differently from one sequential pass. Otherwise (inner > 1) a block of up to kBlock
// neighbouring lines advances together, one whole contiguous row of the
// block per step, so the inner loop is a vectorizable elementwise combine.
// 16-bit floats are scanned in double, each partial result rounded to the
// dtype as the interpreter does.
//
// Sorts: each element becomes an unsigned key whose integer order is the
// sort order (ir/scan_sort.h: nans last, -0 == +0), paired with its index.
// Short lines sort the pairs with std::sort by (key, index), which is a
// stable sort by key; long lines use a least-significant-digit radix sort,
// stable by construction (values of 4 or 8 bytes sort as bare keys and are
// rebuilt from them). A single long line sorts on all threads: one stable
// pass distributes it by the key's top bits, then the buckets radix-sort at
// once. argpartition works on the line's bare keys: near an end (topk) it
// selects the few items on that side of rank kth in a small sorted buffer
// and writes the other indices as runs between theirs; elsewhere it finds
// the element of rank kth with std::nth_element on (key, index) and splits
// the line around it in one ordered pass.
#include "codegen/host_scan_sort.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <type_traits>
#include <vector>

#include "ir/element.h"
#include "ir/scan_sort.h"
#include "codegen/host_parallel.h"
#include "runtime/thread_pool.h"

namespace kiln::codegen {

namespace {

using ir::Op;
using ir::OpKind;
using ir::Tensor;

using host::fresh;
using host::parallel;

void split_at(const ir::Shape& s, int64_t axis, int64_t* outer, int64_t* n, int64_t* inner) {
  *outer = *inner = 1;
  for (int64_t d = 0; d < axis; ++d) *outer *= s[size_t(d)];
  for (size_t d = size_t(axis) + 1; d < s.size(); ++d) *inner *= s[d];
  *n = s[size_t(axis)];
}

// ============================== scans ==========================================

// Unsigned arithmetic of at least 32 bits: products of two uint16 would
// overflow int after the usual promotions.
template <class T>
using Wrap = std::conditional_t<(sizeof(T) < 4), uint32_t, std::make_unsigned_t<T>>;

// The combining functions, on the type T the elements are computed in.
// Integers wrap (through the unsigned type); max/min propagate nan and keep
// the earlier value on ties.
template <class T>
struct Sum {
  static T f(T a, T v) {
    if constexpr (std::is_integral_v<T>) return T(Wrap<T>(a) + Wrap<T>(v));
    else return a + v;
  }
};
template <class T>
struct Prod {
  static T f(T a, T v) {
    if constexpr (std::is_integral_v<T>) return T(Wrap<T>(a) * Wrap<T>(v));
    else return a * v;
  }
};
template <class T>
struct Max {
  static T f(T a, T v) {
    if constexpr (std::is_floating_point_v<T>) return a != a ? a : (v != v || v > a) ? v : a;
    else return v > a ? v : a;
  }
};
template <class T>
struct Min {
  static T f(T a, T v) {
    if constexpr (std::is_floating_point_v<T>) return a != a ? a : (v != v || v < a) ? v : a;
    else return v < a ? v : a;
  }
};
template <class T>
struct LogAddExp {
  static T f(T a, T v) { return T(ir::scan_logaddexp(double(a), double(v))); }
};

// Rounding of partial results: none for native types, to a 16-bit float
// dtype for those scanned in double.
struct Exact {
  template <class T>
  T operator()(T v) const { return v; }
};
struct RoundTo {
  Dtype t;
  double operator()(double v) const {
    uint16_t b;
    store_f64(t, &b, 0, v);
    return load_f64(t, &b, 0);
  }
};

struct ScanShape {
  int64_t outer, n, inner;
  bool reverse, inclusive;
};

constexpr int64_t kBlock = 256;           // lines advanced together
constexpr int64_t kTwoPassMin = 1 << 15;  // shortest line worth splitting

// Contiguous line x[0..n) scanned into y, starting from `acc` (has_acc) or
// from its first element. Returns the final accumulator.
template <class T, class Op, class Round>
T scan_run(const T* x, T* y, int64_t n, int64_t step, bool inclusive, T acc, bool has_acc, T identity,
           const Round& round) {
  int64_t j = 0;
  if (!has_acc && n > 0) {
    if (inclusive) y[0] = x[0];
    else y[0] = identity;
    acc = x[0];
    j = 1;
  }
  if (inclusive) {
    for (; j < n; ++j) y[j * step] = acc = round(Op::f(acc, x[j * step]));
  } else {
    for (; j < n; ++j) {
      y[j * step] = acc;
      acc = round(Op::f(acc, x[j * step]));
    }
  }
  return acc;
}

// kLanes contiguous runs scanned together, one element of each per step,
// each continuing from its accumulator acc[r]: the arithmetic and order of
// scanning them one after another (scan_run), but the runs' dependency
// chains overlap instead of each waiting on its own latency. Runs may
// differ in length; past the shortest each finishes alone.
constexpr int kLanes = 8;
template <class T, class Op, class Round>
void scan_lanes(const T* const* x, T* const* y, const int64_t* len, int64_t step, bool inclusive, T* acc,
                T identity, const Round& round) {
  int64_t common = len[0];
  for (int r = 1; r < kLanes; ++r) common = std::min(common, len[r]);
  // Local copies: nothing the loop stores can alias them, so the
  // accumulators and pointers stay in registers.
  T a[kLanes];
  const T* xl[kLanes];
  T* yl[kLanes];
  for (int r = 0; r < kLanes; ++r) a[r] = acc[r], xl[r] = x[r], yl[r] = y[r];
  if (inclusive) {
    for (int64_t j = 0; j < common; ++j)
#pragma GCC unroll 8
      for (int r = 0; r < kLanes; ++r) yl[r][j * step] = a[r] = round(Op::f(a[r], xl[r][j * step]));
  } else {
    for (int64_t j = 0; j < common; ++j)
#pragma GCC unroll 8
      for (int r = 0; r < kLanes; ++r) {
        yl[r][j * step] = a[r];
        a[r] = round(Op::f(a[r], xl[r][j * step]));
      }
  }
  for (int r = 0; r < kLanes; ++r)
    acc[r] = scan_run<T, Op>(xl[r] + common * step, yl[r] + common * step, len[r] - common, step, inclusive, a[r],
                             true, identity, round);
}

// The totals of kLanes runs (no outputs), as scan_lanes would leave them in
// acc.
template <class T, class Op, class Round>
void total_lanes(const T* const* x, const int64_t* len, int64_t step, T* acc, const Round& round) {
  int64_t common = len[0];
  for (int r = 1; r < kLanes; ++r) common = std::min(common, len[r]);
  T a[kLanes];
  const T* xl[kLanes];
  for (int r = 0; r < kLanes; ++r) a[r] = acc[r], xl[r] = x[r];
  for (int64_t j = 0; j < common; ++j)
#pragma GCC unroll 8
    for (int r = 0; r < kLanes; ++r) a[r] = round(Op::f(a[r], xl[r][j * step]));
  for (int r = 0; r < kLanes; ++r) {
    for (int64_t j = common; j < len[r]; ++j) a[r] = round(Op::f(a[r], xl[r][j * step]));
    acc[r] = a[r];
  }
}

// One long contiguous line in two parallel passes: the total of each of
// `parts` blocks, then each block scanned from the combination of the
// totals before it. Each thread takes kLanes neighbouring blocks at once
// (scan_lanes), in both passes.
template <class T, class Op, class Round>
void scan_two_pass(const T* x, T* y, int64_t n, const ScanShape& s, T identity, const Round& round) {
  const int64_t groups = std::max<int64_t>(1, std::min<int64_t>(runtime::ThreadPool::global().size(), n / (4096 * kLanes)));
  const int64_t parts = groups * kLanes;
  const int64_t len = (n + parts - 1) / parts;
  // Reverse lines are walked from the end: block b covers positions
  // [b * len, ...) counted from the walk's start.
  const int64_t step = s.reverse ? -1 : 1;
  const T* xs = s.reverse ? x + n - 1 : x;
  T* ys = s.reverse ? y + n - 1 : y;
  auto lo_of = [&](int64_t b) { return std::min(n, b * len); };
  std::vector<T> total(static_cast<size_t>(parts));
  runtime::ThreadPool::global().parallel_for(groups, 1, [&](int64_t begin, int64_t end) {
    for (int64_t g = begin; g < end; ++g) {
      const T* bx[kLanes];
      int64_t blen[kLanes];
      T acc[kLanes];
      for (int r = 0; r < kLanes; ++r) {
        const int64_t b = g * kLanes + r, lo = lo_of(b), hi = lo_of(b + 1);
        // An empty block (the line's end) keeps the identity as its total.
        acc[r] = hi > lo ? xs[lo * step] : identity;
        bx[r] = hi > lo ? xs + (lo + 1) * step : xs;
        blen[r] = std::max<int64_t>(0, hi - lo - 1);
      }
      total_lanes<T, Op>(bx, blen, step, acc, round);
      for (int r = 0; r < kLanes; ++r) total[size_t(g * kLanes + r)] = acc[r];
    }
  });
  std::vector<T> offset(static_cast<size_t>(parts));
  for (int64_t b = 1; b < parts; ++b)
    offset[size_t(b)] = b == 1 ? total[0] : round(Op::f(offset[size_t(b - 1)], total[size_t(b - 1)]));
  runtime::ThreadPool::global().parallel_for(groups, 1, [&](int64_t begin, int64_t end) {
    for (int64_t g = begin; g < end; ++g) {
      const T* bx[kLanes];
      T* by[kLanes];
      int64_t blen[kLanes];
      T acc[kLanes];
      for (int r = 0; r < kLanes; ++r) {
        const int64_t b = g * kLanes + r, lo = lo_of(b), hi = lo_of(b + 1);
        bx[r] = xs + lo * step;
        by[r] = ys + lo * step;
        blen[r] = hi - lo;
        acc[r] = offset[size_t(b)];
        if (b == 0 && hi > lo) {  // the line's first element starts the scan
          by[r][0] = s.inclusive ? bx[r][0] : identity;
          acc[r] = bx[r][0];
          bx[r] += step, by[r] += step, --blen[r];
        }
      }
      scan_lanes<T, Op>(bx, by, blen, step, s.inclusive, acc, identity, round);
    }
  });
}

template <class T, class Op, class Round>
void scan_typed(const T* x, T* y, const ScanShape& s, T identity, const Round& round) {
  const int64_t outer = s.outer, n = s.n, inner = s.inner;
  if (outer * n * inner == 0) return;
  if (inner == 1) {
    if (outer < runtime::ThreadPool::global().size() && n >= kTwoPassMin && runtime::ThreadPool::global().size() > 1) {
      for (int64_t o = 0; o < outer; ++o) scan_two_pass<T, Op>(x + o * n, y + o * n, n, s, identity, round);
      return;
    }
    parallel(outer, n * int64_t(sizeof(T)), [&](int64_t begin, int64_t end) {
      for (int64_t o = begin; o < end; ++o) {
        const T* xl = x + o * n;
        T* yl = y + o * n;
        if (s.reverse) scan_run<T, Op>(xl + n - 1, yl + n - 1, n, -1, s.inclusive, identity, false, identity, round);
        else scan_run<T, Op>(xl, yl, n, 1, s.inclusive, identity, false, identity, round);
      }
    });
    return;
  }
  // Blocks of up to kBlock neighbouring lines, a whole row of the block per
  // step: acc[i] combines with row[i], contiguous in i.
  const int64_t blocks = (inner + kBlock - 1) / kBlock;
  parallel(outer * blocks, n * std::min(inner, kBlock) * int64_t(sizeof(T)), [&](int64_t begin, int64_t end) {
    T acc[kBlock];
    for (int64_t u = begin; u < end; ++u) {
      const int64_t o = u / blocks, i0 = (u - o * blocks) * kBlock, w = std::min(kBlock, inner - i0);
      for (int64_t step = 0; step < n; ++step) {
        const int64_t j = s.reverse ? n - 1 - step : step;
        const T* row = x + (o * n + j) * inner + i0;
        T* out = y + (o * n + j) * inner + i0;
        if (step == 0) {
          for (int64_t i = 0; i < w; ++i) out[i] = s.inclusive ? row[i] : identity;
          for (int64_t i = 0; i < w; ++i) acc[i] = row[i];
        } else if (s.inclusive) {
          for (int64_t i = 0; i < w; ++i) out[i] = acc[i] = round(Op::f(acc[i], row[i]));
        } else {
          for (int64_t i = 0; i < w; ++i) out[i] = acc[i];
          for (int64_t i = 0; i < w; ++i) acc[i] = round(Op::f(acc[i], row[i]));
        }
      }
    }
  });
}

template <class T>
T lowest() {
  if constexpr (std::is_floating_point_v<T>) return -std::numeric_limits<T>::infinity();
  else return std::numeric_limits<T>::lowest();
}
template <class T>
T highest() {
  if constexpr (std::is_floating_point_v<T>) return std::numeric_limits<T>::infinity();
  else return std::numeric_limits<T>::max();
}

template <class T, class Round = Exact>
void scan_dispatch(OpKind k, const void* x, void* y, const ScanShape& s, bool is_bool, const Round& round = {}) {
  const T* a = static_cast<const T*>(x);
  T* b = static_cast<T*>(y);
  switch (k) {
    case OpKind::Cumsum: return scan_typed<T, Sum<T>>(a, b, s, T(0), round);
    case OpKind::Cumprod: return scan_typed<T, Prod<T>>(a, b, s, T(1), round);
    case OpKind::Cummax: return scan_typed<T, Max<T>>(a, b, s, is_bool ? T(0) : lowest<T>(), round);
    case OpKind::Cummin: return scan_typed<T, Min<T>>(a, b, s, is_bool ? T(1) : highest<T>(), round);
    case OpKind::Logcumsumexp:
      if constexpr (std::is_floating_point_v<T>) return scan_typed<T, LogAddExp<T>>(a, b, s, lowest<T>(), round);
      break;
    default: break;
  }
  throw std::logic_error(std::string("[host] ") + ir::op_name(k) + " is not a scan of this dtype");
}

}  // namespace

Tensor run_host_scan(const Op& op, const Tensor& x) {
  ScanShape s;
  split_at(x.type.shape, op.int_attr("axis"), &s.outer, &s.n, &s.inner);
  s.reverse = op.int_attr("reverse") != 0;
  s.inclusive = op.int_attr("inclusive") != 0;
  Tensor out = fresh(op.type);
  const void* a = x.buffer->data();
  void* b = out.buffer->data();
  const OpKind k = op.kind;
  const Dtype t = x.type.dtype;
  switch (t.val) {
    case Dtype::Val::bool_: scan_dispatch<uint8_t>(k, a, b, s, true); return out;
    case Dtype::Val::uint8: scan_dispatch<uint8_t>(k, a, b, s, false); return out;
    case Dtype::Val::uint16: scan_dispatch<uint16_t>(k, a, b, s, false); return out;
    case Dtype::Val::uint32: scan_dispatch<uint32_t>(k, a, b, s, false); return out;
    case Dtype::Val::uint64: scan_dispatch<uint64_t>(k, a, b, s, false); return out;
    case Dtype::Val::int8: scan_dispatch<int8_t>(k, a, b, s, false); return out;
    case Dtype::Val::int16: scan_dispatch<int16_t>(k, a, b, s, false); return out;
    case Dtype::Val::int32: scan_dispatch<int32_t>(k, a, b, s, false); return out;
    case Dtype::Val::int64: scan_dispatch<int64_t>(k, a, b, s, false); return out;
    case Dtype::Val::float32: scan_dispatch<float>(k, a, b, s, false); return out;
    case Dtype::Val::float64: scan_dispatch<double>(k, a, b, s, false); return out;
    case Dtype::Val::float16:
    case Dtype::Val::bfloat16: {
      // In double, each partial result rounded to the dtype.
      const int64_t n = x.type.size();
      std::vector<double> wide(static_cast<size_t>(n)), res(static_cast<size_t>(n));
      parallel(n, 8, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) wide[size_t(i)] = load_f64(t, a, i);
      });
      scan_dispatch<double>(k, wide.data(), res.data(), s, false, RoundTo{t});
      parallel(n, 8, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) store_f64(t, b, i, res[size_t(i)]);
      });
      return out;
    }
    case Dtype::Val::complex64: break;
  }
  throw std::logic_error("[host] " + std::string(ir::op_name(k)) + " of " + dtype_name(t) +
                         " (the type rule takes real types only)");
}

// ============================== sorts ==========================================

namespace {

// Order-preserving unsigned keys: nan above +inf, -0 as +0.
inline uint32_t key_of_float(float f) {
  if (f != f) return ~uint32_t(0);
  if (f == 0) f = 0;
  uint32_t b;
  std::memcpy(&b, &f, 4);
  return (b >> 31) ? ~b : b | 0x80000000u;
}
inline uint64_t key_of_double(double f) {
  if (f != f) return ~uint64_t(0);
  if (f == 0) f = 0;
  uint64_t b;
  std::memcpy(&b, &f, 8);
  return (b >> 63) ? ~b : b | (uint64_t(1) << 63);
}

// The inverse of the float keys, for keys of numbers (not of nan, and
// +0 for both zeros).
inline float float_of_key(uint32_t k) {
  const uint32_t b = (k >> 31) ? k & 0x7fffffffu : ~k;
  float f;
  std::memcpy(&f, &b, 4);
  return f;
}
inline double double_of_key(uint64_t k) {
  const uint64_t b = (k >> 63) ? k & ~(uint64_t(1) << 63) : ~k;
  double f;
  std::memcpy(&f, &b, 8);
  return f;
}

// Calls fn(key_of) with key_of(i) the key (of width K) of element i of x:
// one switch per line, typed loops inside.
template <class K, class F>
void with_keys(Dtype t, const void* x, const F& fn) {
  switch (t.val) {
    case Dtype::Val::bool_: case Dtype::Val::uint8:
      return fn([p = static_cast<const uint8_t*>(x)](int64_t i) { return K(p[i]); });
    case Dtype::Val::uint16: return fn([p = static_cast<const uint16_t*>(x)](int64_t i) { return K(p[i]); });
    case Dtype::Val::uint32: return fn([p = static_cast<const uint32_t*>(x)](int64_t i) { return K(p[i]); });
    case Dtype::Val::uint64: return fn([p = static_cast<const uint64_t*>(x)](int64_t i) { return K(p[i]); });
    case Dtype::Val::int8:
      return fn([p = static_cast<const int8_t*>(x)](int64_t i) { return K(uint32_t(int32_t(p[i])) ^ 0x80000000u); });
    case Dtype::Val::int16:
      return fn([p = static_cast<const int16_t*>(x)](int64_t i) { return K(uint32_t(int32_t(p[i])) ^ 0x80000000u); });
    case Dtype::Val::int32:
      return fn([p = static_cast<const int32_t*>(x)](int64_t i) { return K(uint32_t(p[i]) ^ 0x80000000u); });
    case Dtype::Val::int64:
      return fn([p = static_cast<const int64_t*>(x)](int64_t i) { return K(uint64_t(p[i]) ^ (uint64_t(1) << 63)); });
    case Dtype::Val::float16:
      return fn([p = static_cast<const uint16_t*>(x)](int64_t i) { return K(key_of_float(half_to_float(p[i]))); });
    case Dtype::Val::bfloat16:
      return fn([p = static_cast<const uint16_t*>(x)](int64_t i) { return K(key_of_float(bfloat_to_float(p[i]))); });
    case Dtype::Val::float32: return fn([p = static_cast<const float*>(x)](int64_t i) { return K(key_of_float(p[i])); });
    case Dtype::Val::float64:
      return fn([p = static_cast<const double*>(x)](int64_t i) { return K(key_of_double(p[i])); });
    case Dtype::Val::complex64: break;
  }
  throw std::logic_error("[host] sort of " + dtype_name(t) + " (the type rule takes real types only)");
}

bool wide_keys(Dtype t) { return t == uint64 || t == int64 || t == float64; }

template <class K>
struct Item {
  K key;
  uint32_t index;
};
template <class K>
inline bool item_less(const Item<K>& a, const Item<K>& b) {
  return a.key < b.key || (a.key == b.key && a.index < b.index);
}
template <class K>
inline K key_of(const Item<K>& it) { return it.key; }
inline uint32_t key_of(uint32_t k) { return k; }
inline uint64_t key_of(uint64_t k) { return k; }

constexpr int64_t kRadixMin = 2048;              // shorter lines use std::sort
constexpr int64_t kSplitMin = int64_t(1) << 16;  // longer single lines sort in parallel parts
constexpr int64_t kSelectMax = 32;               // argpartition near an end: a small sorted buffer
constexpr int64_t kSelectBlock = 16;             // keys it tests together against the buffer's edge

// Scratch space from the runtime's allocator, which recycles big buffers:
// fresh pages would cost a fault each on every call.
template <class T>
struct Scratch {
  runtime::BufferPtr buffer;
  T* data = nullptr;
  explicit Scratch(int64_t n) : buffer(runtime::allocate(size_t(std::max<int64_t>(n, 1)) * sizeof(T))) {
    data = static_cast<T*>(buffer->data());
  }
};

// Stable LSD radix sort of v[0..n) (items or bare keys) by key, 11 bits a
// pass (3 passes for 32-bit keys, 6 for 64-bit ones), through tmp (of n);
// passes where every key has the same digit are skipped. Returns the array
// holding the result (v or tmp).
template <class T>
T* radix_sort(T* v, T* tmp, int64_t n) {
  constexpr int kBits = 11, kRadix = 1 << kBits;
  constexpr int kPasses = (8 * int(sizeof(key_of(*v))) + kBits - 1) / kBits;
  std::vector<uint32_t> counts(size_t(kPasses) * kRadix, 0);
  auto digit = [](auto k, int p) { return uint32_t(k >> (kBits * p)) & (kRadix - 1); };
  for (int64_t i = 0; i < n; ++i) {
    const auto k = key_of(v[i]);
    for (int p = 0; p < kPasses; ++p) ++counts[size_t(p) * kRadix + digit(k, p)];
  }
  for (int p = 0; p < kPasses; ++p) {
    uint32_t* c = &counts[size_t(p) * kRadix];
    if (c[digit(key_of(v[0]), p)] == uint32_t(n)) continue;  // one digit for all
    uint32_t sum = 0;
    for (int d = 0; d < kRadix; ++d) {
      const uint32_t k = c[d];
      c[d] = sum;
      sum += k;
    }
    for (int64_t i = 0; i < n; ++i) tmp[c[digit(key_of(v[i]), p)]++] = v[i];
    std::swap(v, tmp);
  }
  return v;
}

// v[0..n) sorted by key (items: by key then index), through tmp; returns
// where they are.
template <class T>
T* sort_run(T* v, T* tmp, int64_t n) {
  if (n >= kRadixMin) return radix_sort(v, tmp, n);
  if constexpr (std::is_integral_v<T>) std::sort(v, v + n);
  else std::sort(v, v + n, [](const T& a, const T& b) { return item_less(a, b); });
  return v;
}

// fn(begin, end) over [0, n): on the pool when parts > 1 (a single long
// line sorting in parallel), else on the calling thread (one of many lines
// already spread over the pool).
template <class F>
void over_line(int64_t n, int64_t parts, const F& fn) {
  if (parts <= 1) return fn(int64_t(0), n);
  runtime::ThreadPool::global().parallel_for(n, std::max<int64_t>(4096, n / (4 * parts)), fn);
}

// A long line in parallel: one stable pass scatters v into tmp by the key's
// top kTopBits bits (each of `parts` pieces counts its own digits, and piece
// p's elements of a digit land after those of the pieces before it), then
// the buckets, in groups of similar total size, sort at once on the lower
// digits (radix_sort skips the top digit, which a bucket shares; a bucket
// of a few thousand elements fits the cache). Returns where the result is
// (always tmp).
template <class T>
T* sort_run_parallel(T* v, T* tmp, int64_t n, int64_t parts) {
  constexpr int kTopBits = 11, kBuckets = 1 << kTopBits;
  constexpr int kShift = 8 * int(sizeof(key_of(*v))) - kTopBits;
  auto top = [](const T& e) { return uint32_t(key_of(e) >> kShift); };
  std::vector<int64_t> bounds;
  for (int64_t p = 0; p <= parts; ++p) bounds.push_back(n * p / parts);
  std::vector<int64_t> at(size_t(parts) * kBuckets, 0);  // piece p's count, then its next slot, of bucket b
  runtime::ThreadPool::global().parallel_for(parts, 1, [&](int64_t begin, int64_t end) {
    for (int64_t p = begin; p < end; ++p) {
      int64_t* c = &at[size_t(p) * kBuckets];
      for (int64_t i = bounds[size_t(p)]; i < bounds[size_t(p) + 1]; ++i) ++c[top(v[i])];
    }
  });
  std::vector<int64_t> bucket_start(kBuckets + 1, 0);
  int64_t sum = 0;
  for (int b = 0; b < kBuckets; ++b) {
    bucket_start[size_t(b)] = sum;
    for (int64_t p = 0; p < parts; ++p) {
      const int64_t c = at[size_t(p) * kBuckets + size_t(b)];
      at[size_t(p) * kBuckets + size_t(b)] = sum;
      sum += c;
    }
  }
  bucket_start[kBuckets] = n;
  runtime::ThreadPool::global().parallel_for(parts, 1, [&](int64_t begin, int64_t end) {
    for (int64_t p = begin; p < end; ++p) {
      int64_t* next = &at[size_t(p) * kBuckets];
      for (int64_t i = bounds[size_t(p)]; i < bounds[size_t(p) + 1]; ++i) tmp[next[top(v[i])]++] = v[i];
    }
  });
  // Groups of whole buckets of about n / (4 * parts) elements each, handed
  // out one at a time (a few large buckets must not all land on one thread).
  std::vector<int> group_start{0};
  const int64_t target = std::max<int64_t>(1, n / (4 * parts));
  for (int b = 0; b < kBuckets; ++b)
    if (bucket_start[size_t(b) + 1] - bucket_start[size_t(group_start.back())] >= target) group_start.push_back(b + 1);
  if (group_start.back() != kBuckets) group_start.push_back(kBuckets);
  const int64_t groups = int64_t(group_start.size()) - 1;
  runtime::ThreadPool::global().parallel_for(groups, 1, [&](int64_t begin, int64_t end) {
    for (int64_t g = begin; g < end; ++g)
      for (int b = group_start[size_t(g)]; b < group_start[size_t(g) + 1]; ++b) {
        const int64_t lo = bucket_start[size_t(b)], len = bucket_start[size_t(b) + 1] - lo;
        if (len < 2) continue;
        T* r = sort_run(tmp + lo, v + lo, len);
        if (r != tmp + lo) std::copy(r, r + len, tmp + lo);
      }
  });
  return tmp;
}

// One line of n elements of x, at base + j * inner (the result alike).
struct Line {
  int64_t base, n, inner;
  int64_t at(int64_t j) const { return base + j * inner; }
};

// The m largest items (top) or the m smallest of the line whose keys are
// keys[0..n) (item j is {keys[j], j}), in buf: top ascending, else
// descending, so buf[0] is the one of rank n - m, or m - 1.
template <bool top, class K>
void select_extremes(const K* keys, int64_t n, int64_t m, Item<K>* buf) {
  auto before = [](const Item<K>& a, const Item<K>& b) { return top ? item_less(a, b) : item_less(b, a); };
  // Once the buffer is full, most items fail on the key alone, compared
  // with a copy of buf[0]'s key that stays in a register (the array's is
  // reloaded for every item); then the exact test, with the index.
  int64_t size = 0;
  K edge = 0;
  for (int64_t j = 0; j < n; ++j) {
    if (size == m) {
      // Whole blocks without a candidate, one branch per block (the loop
      // over a block vectorizes), then item by item.
      for (; j + kSelectBlock <= n; j += kSelectBlock) {
        bool any = false;
        for (int64_t u = 0; u < kSelectBlock; ++u) any |= top ? keys[j + u] >= edge : keys[j + u] <= edge;
        if (any) break;
      }
      if (j == n) break;
      if (top ? keys[j] < edge : keys[j] > edge) continue;
    }
    const Item<K> it{keys[j], uint32_t(j)};
    if (size == m && !before(buf[0], it)) continue;
    int64_t pos;
    if (size < m) {
      pos = size++;
      while (pos > 0 && before(it, buf[pos - 1])) buf[pos] = buf[pos - 1], --pos;
    } else {
      pos = 0;
      while (pos + 1 < m && before(buf[pos + 1], it)) buf[pos] = buf[pos + 1], ++pos;
    }
    buf[pos] = it;
    edge = buf[0].key;
  }
}

// argpartition of a line through its bare keys (in `keys`, n of them): in
// index order, the items before the one of rank kth, that one, the rest.
template <class K>
void argpartition_line(const Op& op, const Tensor& x, Tensor& out, const Line& l, K* keys, Item<K>* tmp) {
  with_keys<K>(x.type.dtype, x.buffer->data(), [&](const auto& key) {
    for (int64_t j = 0; j < l.n; ++j) keys[j] = key(l.at(j));
  });
  const int64_t n = l.n, kth = op.int_attr("kth");
  uint32_t* o = static_cast<uint32_t*>(out.buffer->data());
  // Indices [from, to) at positions pos, pos + 1, ... of the line.
  auto write_run = [&](int64_t pos, int64_t from, int64_t to) {
    if (l.inner == 1) {
      uint32_t* d = o + l.base + pos;
      const uint32_t first = uint32_t(from);
      for (uint32_t i = 0; i < uint32_t(to - from); ++i) d[i] = first + i;
    } else {
      for (int64_t j = from; j < to; ++j) o[l.at(pos + j - from)] = uint32_t(j);
    }
  };
  const bool top = n - kth <= kSelectMax;
  if (top || kth + 1 <= kSelectMax) {
    // Near an end (topk): the few items on the near side of rank kth, the
    // pivot among them, are selected; the rest are runs of indices between
    // theirs, written without comparing keys again.
    const int64_t m = top ? n - kth : kth + 1;
    Item<K> buf[kSelectMax];
    if (top) select_extremes<true>(keys, n, m, buf);
    else select_extremes<false>(keys, n, m, buf);
    const uint32_t pivot = buf[0].index;
    uint32_t few[kSelectMax];
    for (int64_t i = 0; i < m; ++i) few[i] = buf[i].index;
    std::sort(few, few + m);
    int64_t others = top ? 0 : kth + 1, near = top ? kth + 1 : 0, from = 0;
    for (int64_t i = 0; i < m; ++i) {
      write_run(others, from, few[i]);
      others += few[i] - from;
      from = few[i] + 1;
      if (few[i] != pivot) o[l.at(near++)] = few[i];
    }
    write_run(others, from, n);
    o[l.at(kth)] = pivot;
    return;
  }
  for (int64_t j = 0; j < n; ++j) tmp[j] = {keys[j], uint32_t(j)};
  std::nth_element(tmp, tmp + kth, tmp + n, item_less<K>);
  const Item<K> pivot = tmp[kth];
  int64_t left = 0, right = kth + 1;
  for (int64_t j = 0; j < n; ++j) {
    if (item_less(Item<K>{keys[j], uint32_t(j)}, pivot)) o[l.at(left++)] = uint32_t(j);
    else if (uint32_t(j) != pivot.index) o[l.at(right++)] = uint32_t(j);
  }
  o[l.at(kth)] = pivot.index;
}

// sort/argsort of a line through (key, index) items.
template <class K>
void sort_line_items(const Op& op, const Tensor& x, Tensor& out, const Line& l, Item<K>* items, Item<K>* tmp,
                     int64_t parts) {
  const Dtype t = x.type.dtype;
  with_keys<K>(t, x.buffer->data(), [&](const auto& key) {
    over_line(l.n, parts, [&](int64_t lo, int64_t hi) {
      for (int64_t j = lo; j < hi; ++j) items[j] = {key(l.at(j)), uint32_t(j)};
    });
  });
  const Item<K>* sorted = parts > 1 ? sort_run_parallel(items, tmp, l.n, parts) : sort_run(items, tmp, l.n);
  if (op.kind == OpKind::Argsort) {
    uint32_t* o = static_cast<uint32_t*>(out.buffer->data());
    over_line(l.n, parts, [&](int64_t lo, int64_t hi) {
      for (int64_t j = lo; j < hi; ++j) o[l.at(j)] = sorted[j].index;
    });
    return;
  }
  auto move = [&](auto word) {
    using W = decltype(word);
    const W* s = static_cast<const W*>(x.buffer->data());
    W* d = static_cast<W*>(out.buffer->data());
    over_line(l.n, parts, [&](int64_t lo, int64_t hi) {
      for (int64_t j = lo; j < hi; ++j) d[l.at(j)] = s[l.at(int64_t(sorted[j].index))];
    });
  };
  switch (t.size()) {
    case 1: return move(uint8_t());
    case 2: return move(uint16_t());
    case 4: return move(uint32_t());
    default: return move(uint64_t());  // every real dtype is 1, 2, 4 or 8 bytes
  }
}

// sort of a line of a 4- or 8-byte dtype through bare keys: the keys sort
// alone (half the bytes of items) and turn back into values. Keys lose
// only the sign of zeros and nan payloads; the zeros and the nans form one
// run each in the result, filled with the line's own zeros and nans in
// index order, as a stable sort places them.
template <class K, class V>
void sort_line_keys(const Tensor& x, Tensor& out, const Line& l, K* keys, K* tmp, int64_t parts) {
  const V* s = static_cast<const V*>(x.buffer->data());
  V* d = static_cast<V*>(out.buffer->data());
  with_keys<K>(x.type.dtype, s, [&](const auto& key) {
    over_line(l.n, parts, [&](int64_t lo, int64_t hi) {
      for (int64_t j = lo; j < hi; ++j) keys[j] = key(l.at(j));
    });
  });
  const K* sorted = parts > 1 ? sort_run_parallel(keys, tmp, l.n, parts) : sort_run(keys, tmp, l.n);
  if constexpr (std::is_floating_point_v<V>) {
    over_line(l.n, parts, [&](int64_t lo, int64_t hi) {
      for (int64_t j = lo; j < hi; ++j) {
        const K k = sorted[j];
        if constexpr (sizeof(V) == 4) d[l.at(j)] = k == ~K(0) ? V(0) : float_of_key(uint32_t(k));
        else d[l.at(j)] = k == ~K(0) ? V(0) : double_of_key(uint64_t(k));
      }
    });
    const K zero_key = sizeof(V) == 4 ? K(key_of_float(0.0f)) : K(key_of_double(0.0));
    const int64_t zeros_at = std::lower_bound(sorted, sorted + l.n, zero_key) - sorted;
    const int64_t nans_at = std::lower_bound(sorted, sorted + l.n, ~K(0)) - sorted;
    const bool any_zero = zeros_at < l.n && sorted[zeros_at] == zero_key;
    if (any_zero || nans_at < l.n) {
      // Pieces of the line in order: each counts its zeros and nans, then
      // writes them after those of the pieces before it.
      const int64_t pieces = parts > 1 ? 4 * parts : 1;
      std::vector<int64_t> zeros(size_t(pieces) + 1, 0), nans(size_t(pieces) + 1, 0);
      auto piece = [&](int64_t p, bool write) {
        int64_t z = write ? zeros[size_t(p)] : 0, q = write ? nans[size_t(p)] : 0;
        for (int64_t j = l.n * p / pieces; j < l.n * (p + 1) / pieces; ++j) {
          const V v = s[l.at(j)];
          if (v == 0) {
            if (write) d[l.at(zeros_at + z)] = v;
            ++z;
          } else if (v != v) {
            if (write) d[l.at(nans_at + q)] = v;
            ++q;
          }
        }
        if (!write) zeros[size_t(p) + 1] = z, nans[size_t(p) + 1] = q;
      };
      auto each_piece = [&](bool write) {
        runtime::ThreadPool::global().parallel_for(pieces, 1, [&](int64_t lo, int64_t hi) {
          for (int64_t p = lo; p < hi; ++p) piece(p, write);
        });
      };
      each_piece(false);
      for (int64_t p = 1; p <= pieces; ++p) zeros[size_t(p)] += zeros[size_t(p) - 1], nans[size_t(p)] += nans[size_t(p) - 1];
      each_piece(true);
    }
  } else {
    // Integers: the key is the value with the sign bit flipped.
    constexpr K flip = std::is_signed_v<V> ? K(1) << (8 * sizeof(K) - 1) : K(0);
    over_line(l.n, parts, [&](int64_t lo, int64_t hi) {
      for (int64_t j = lo; j < hi; ++j) d[l.at(j)] = V(sorted[j] ^ flip);
    });
  }
}

template <class K>
void sort_all(const Op& op, const Tensor& x, Tensor& out) {
  int64_t outer, n, inner;
  split_at(x.type.shape, op.int_attr("axis"), &outer, &n, &inner);
  const int64_t lines = outer * inner;
  if (lines * n == 0) return;
  const Dtype t = x.type.dtype;
  // Values of 4 or 8 bytes sort as bare keys of their own width.
  const bool bare = op.kind == OpKind::Sort && int64_t(t.size()) == int64_t(sizeof(K));
  auto line_at = [&](int64_t line) {
    const int64_t o = line / inner, i = line - o * inner;
    return Line{o * n * inner + i, n, inner};
  };
  auto run = [&](const Line& l, void* a, void* b, int64_t parts) {
    if (op.kind == OpKind::Argpartition)
      return argpartition_line<K>(op, x, out, l, static_cast<K*>(a), static_cast<Item<K>*>(b));
    if (!bare) return sort_line_items<K>(op, x, out, l, static_cast<Item<K>*>(a), static_cast<Item<K>*>(b), parts);
    K* ka = static_cast<K*>(a);
    K* kb = static_cast<K*>(b);
    if (t == float32) return sort_line_keys<K, float>(x, out, l, ka, kb, parts);
    if (t == float64) return sort_line_keys<K, double>(x, out, l, ka, kb, parts);
    if (t == int32) return sort_line_keys<K, int32_t>(x, out, l, ka, kb, parts);
    if (t == int64) return sort_line_keys<K, int64_t>(x, out, l, ka, kb, parts);
    if (t == uint32) return sort_line_keys<K, uint32_t>(x, out, l, ka, kb, parts);
    return sort_line_keys<K, uint64_t>(x, out, l, ka, kb, parts);
  };
  const int64_t threads = runtime::ThreadPool::global().size();
  if (lines < threads && n >= kSplitMin && op.kind != OpKind::Argpartition) {
    Scratch<Item<K>> a(n), b(n);
    for (int64_t line = 0; line < lines; ++line) run(line_at(line), a.data, b.data, threads);
    return;
  }
  parallel(lines, n * int64_t(sizeof(Item<K>)) * 4, [&](int64_t begin, int64_t end) {
    Scratch<Item<K>> a(n), b(n);
    for (int64_t line = begin; line < end; ++line) run(line_at(line), a.data, b.data, 1);
  });
}

}  // namespace

Tensor run_host_sort(const Op& op, const Tensor& x) {
  const Dtype t = x.type.dtype;
  if (is_complex(t))
    throw std::logic_error("[host] " + std::string(ir::op_name(op.kind)) + " of complex64 (the type rule takes real types only)");
  Tensor out = fresh(op.type);
  if (wide_keys(t)) sort_all<uint64_t>(op, x, out);
  else sort_all<uint32_t>(op, x, out);
  return out;
}

}  // namespace kiln::codegen
