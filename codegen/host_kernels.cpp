// Host kernels (host_kernels.h). Data movement is dtype-agnostic: elements
// are moved as runs of bytes (memcpy of whole rows where both sides are
// contiguous, fixed-size copies of 1, 2, 4 or 8 bytes otherwise). Arithmetic
// follows the interpreter's recipe exactly: complex values are computed in
// complex<double> and rounded once per component, integer powers in 64-bit
// wrapping arithmetic, matmuls of 16-bit floats in double, casts through
// the element converters of ir/element.h. Work is split over the outer rows
// with a grain that keeps small ops on the calling thread.
#include "codegen/host_kernels.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <complex>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "codegen/host_scan_sort.h"
#include "codegen/host_fft_quant.h"
#include "ir/element.h"
#include "ir/linalg.h"
#include "codegen/host_parallel.h"
#include "runtime/thread_pool.h"

namespace kiln::codegen {

namespace {

using ir::Op;
using ir::OpKind;
using ir::Shape;
using ir::Tensor;
using cplx = std::complex<double>;
using Strides = std::vector<int64_t>;

using host::fresh;
using host::kGrainBytes;
using host::parallel;
const char* bytes(const Tensor& t) { return static_cast<const char*>(t.buffer->data()); }
char* bytes(Tensor& t) { return static_cast<char*>(t.buffer->data()); }

[[noreturn]] void not_on_host(const Op& op, Dtype t) {
  throw std::logic_error(std::string("[host] ") + ir::op_name(op.kind) + " of " + dtype_name(t) +
                         " has no host kernel: the JIT fuses it (passes/fusion.cpp, is_fusible)");
}

// --- moving bytes ------------------------------------------------------------

// One element of N bytes; memcpy of a constant size is a single move.
template <size_t N>
void copy_strided_n(char* dst, const char* src, int64_t count, int64_t ds, int64_t ss) {
  for (int64_t j = 0; j < count; ++j) std::memcpy(dst + j * ds * int64_t(N), src + j * ss * int64_t(N), N);
}

// `count` elements of `es` bytes, at element strides ds (dst) and ss (src).
void copy_strided(char* dst, const char* src, size_t es, int64_t count, int64_t ds, int64_t ss) {
  if (ds == 1 && ss == 1) {
    std::memcpy(dst, src, size_t(count) * es);
    return;
  }
  switch (es) {
    case 1: return copy_strided_n<1>(dst, src, count, ds, ss);
    case 2: return copy_strided_n<2>(dst, src, count, ds, ss);
    case 4: return copy_strided_n<4>(dst, src, count, ds, ss);
    case 8: return copy_strided_n<8>(dst, src, count, ds, ss);
    default:
      for (int64_t j = 0; j < count; ++j) std::memcpy(dst + j * ds * int64_t(es), src + j * ss * int64_t(es), es);
  }
}

// A strided copy: each index idx of `shape` copies the element at
// src_offset + idx . src_strides to dst_offset + idx . dst_strides (in
// elements; strides may be zero, as in a broadcast, or negative).
struct Box {
  Strides shape;  // 64-bit: merged dimensions may exceed an int32 Shape's range
  Strides src, dst;
  int64_t src_offset = 0, dst_offset = 0;
};

Strides dims(const Shape& s) { return Strides(s.begin(), s.end()); }

int64_t product(const Strides& s) {
  int64_t p = 1;
  for (int64_t d : s) p *= d;
  return p;
}

// The same copy with size-1 dimensions dropped and neighbours merged where
// both sides are contiguous across them, so that a row-major copy becomes
// one run and each operand of a concatenation a few long runs.
Box simplified(const Box& b) {
  Box r;
  r.src_offset = b.src_offset;
  r.dst_offset = b.dst_offset;
  for (size_t d = 0; d < b.shape.size(); ++d) {
    if (b.shape[d] == 1) continue;
    if (!r.shape.empty() && r.src.back() == b.src[d] * b.shape[d] && r.dst.back() == b.dst[d] * b.shape[d]) {
      r.shape.back() *= b.shape[d];
      r.src.back() = b.src[d];
      r.dst.back() = b.dst[d];
    } else {
      r.shape.push_back(b.shape[d]);
      r.src.push_back(b.src[d]);
      r.dst.push_back(b.dst[d]);
    }
  }
  return r;
}

void copy_box(char* dst, const char* src, size_t es, const Box& box) {
  if (product(box.shape) == 0) return;
  const Box b = simplified(box);
  const int r = int(b.shape.size());
  if (r == 0) {
    std::memcpy(dst + b.dst_offset * int64_t(es), src + b.src_offset * int64_t(es), es);
    return;
  }
  const int64_t inner = b.shape[r - 1], si = b.src[r - 1], di = b.dst[r - 1];
  if (r == 1) {  // one run: split the run itself
    parallel(inner, int64_t(es), [&](int64_t begin, int64_t end) {
      copy_strided(dst + (b.dst_offset + begin * di) * int64_t(es), src + (b.src_offset + begin * si) * int64_t(es),
                   es, end - begin, di, si);
    });
    return;
  }
  const int64_t rows = product(b.shape) / inner;
  parallel(rows, inner * int64_t(es), [&](int64_t begin, int64_t end) {
    // The multi-index of row `begin` over the outer dimensions, then an
    // odometer from there.
    Strides idx(size_t(r - 1));
    int64_t s = b.src_offset, d = b.dst_offset, rest = begin;
    for (int k = r - 2; k >= 0; --k) {
      idx[k] = rest % b.shape[k];
      rest /= b.shape[k];
      s += idx[k] * b.src[k];
      d += idx[k] * b.dst[k];
    }
    for (int64_t row = begin; row < end; ++row) {
      copy_strided(dst + d * int64_t(es), src + s * int64_t(es), es, inner, di, si);
      for (int k = r - 2; k >= 0; --k) {
        s += b.src[k];
        d += b.dst[k];
        if (++idx[k] < b.shape[k]) break;
        s -= b.src[k] * b.shape[k];
        d -= b.dst[k] * b.shape[k];
        idx[k] = 0;
      }
    }
  });
}

// A contiguous tensor's bytes into dst (in parallel for large ones).
void copy_all(char* dst, const Tensor& x) {
  copy_box(dst, bytes(x), x.type.dtype.size(), {{x.type.size()}, {1}, {1}, 0, 0});
}

template <size_t N>
void fill_n(char* dst, const char* value, int64_t count) {
  for (int64_t i = 0; i < count; ++i) std::memcpy(dst + i * int64_t(N), value, N);
}

// Every element of t set to the `es` bytes at value.
void fill(Tensor& t, const char* value) {
  const size_t es = t.type.dtype.size();
  parallel(t.type.size(), int64_t(es), [&](int64_t begin, int64_t end) {
    char* d = bytes(t) + begin * int64_t(es);
    switch (es) {
      case 1: return fill_n<1>(d, value, end - begin);
      case 2: return fill_n<2>(d, value, end - begin);
      case 4: return fill_n<4>(d, value, end - begin);
      case 8: return fill_n<8>(d, value, end - begin);
      default:
        for (int64_t i = 0; i < end - begin; ++i) std::memcpy(d + i * int64_t(es), value, es);
    }
  });
}

// --- views and data movement ---------------------------------------------------

// A strided view of x (element idx reads x at base + idx . strides), copied.
Tensor gather(const Op& op, const Tensor& x, int64_t base, const Strides& strides) {
  Tensor out = fresh(op.type);
  copy_box(bytes(out), bytes(x), op.type.dtype.size(),
           {dims(op.type.shape), strides, ir::row_major_strides(op.type.shape), base, 0});
  return out;
}

Tensor transpose(const Op& op, const Tensor& x) {
  const auto& perm = op.ints_attr("perm");
  const Strides xs = ir::row_major_strides(x.type.shape);
  Strides st(perm.size());
  for (size_t i = 0; i < perm.size(); ++i) st[i] = xs[size_t(perm[i])];
  return gather(op, x, 0, st);
}

Tensor broadcast(const Op& op, const Tensor& x) {
  const Shape& s = x.type.shape;
  const Shape& t = op.type.shape;
  const Strides xs = ir::row_major_strides(s);
  Strides st(t.size(), 0);
  const size_t lead = t.size() - s.size();
  for (size_t d = 0; d < s.size(); ++d)
    if (s[d] == t[lead + d] && s[d] != 1) st[lead + d] = xs[d];
  return gather(op, x, 0, st);
}

// The base offset and per-axis strides, in elements of a row-major tensor
// of `shape`, of the slice that op's start and strides describe.
void slice_view(const Op& op, const Shape& shape, int64_t* base, Strides* st) {
  const auto& start = op.ints_attr("start");
  const auto& step = op.ints_attr("strides");
  const Strides xs = ir::row_major_strides(shape);
  *base = 0;
  st->assign(shape.size(), 0);
  for (size_t d = 0; d < shape.size(); ++d) {
    *base += start[d] * xs[d];
    (*st)[d] = step[d] * xs[d];
  }
}

Tensor slice(const Op& op, const Tensor& x) {
  int64_t base;
  Strides st;
  slice_view(op, x.type.shape, &base, &st);
  return gather(op, x, base, st);
}

Tensor slice_update(const Op& op, const Tensor& src, const Tensor& upd) {
  Tensor out = fresh(op.type);
  copy_all(bytes(out), src);
  int64_t base;
  Strides st;
  slice_view(op, src.type.shape, &base, &st);
  copy_box(bytes(out), bytes(upd), op.type.dtype.size(),
           {dims(upd.type.shape), ir::row_major_strides(upd.type.shape), st, 0, base});
  return out;
}

Tensor concatenate(const Op& op, const std::vector<Tensor>& in) {
  const size_t axis = size_t(op.int_attr("axis"));
  Tensor out = fresh(op.type);
  const Strides os = ir::row_major_strides(op.type.shape);
  int64_t offset = 0;
  for (const Tensor& t : in) {
    copy_box(bytes(out), bytes(t), op.type.dtype.size(),
             {dims(t.type.shape), ir::row_major_strides(t.type.shape), os, 0, offset * os[axis]});
    offset += t.type.shape[axis];
  }
  return out;
}

Tensor pad(const Op& op, const Tensor& x, const Tensor& value) {
  const auto& low = op.ints_attr("low");
  Tensor out = fresh(op.type);
  fill(out, bytes(value));
  const Strides os = ir::row_major_strides(op.type.shape);
  int64_t base = 0;
  for (size_t d = 0; d < low.size(); ++d) base += low[d] * os[d];
  copy_box(bytes(out), bytes(x), op.type.dtype.size(), {dims(x.type.shape), ir::row_major_strides(x.type.shape), os, 0, base});
  return out;
}

// --- gathers -------------------------------------------------------------------

// Indices [begin, begin + count) of `idx` mapped into [0, n) as the
// interpreter maps them: a negative index wraps once, anything still
// outside is clamped (as JAX). n must be positive.
template <class I>
void positions_of(const void* data, int64_t begin, int64_t count, int64_t n, int64_t* out) {
  const I* v = static_cast<const I*>(data) + begin;
  for (int64_t i = 0; i < count; ++i) {
    if constexpr (std::is_unsigned_v<I>) {
      out[i] = uint64_t(v[i]) >= uint64_t(n) ? n - 1 : int64_t(v[i]);
    } else {
      int64_t p = v[i];
      if (p < 0) p += n;
      out[i] = std::clamp<int64_t>(p, 0, n - 1);
    }
  }
}

void positions(const Tensor& idx, int64_t begin, int64_t count, int64_t n, int64_t* out) {
  const void* d = idx.buffer->data();
  switch (idx.type.dtype.val) {
    case Dtype::Val::uint8: return positions_of<uint8_t>(d, begin, count, n, out);
    case Dtype::Val::uint16: return positions_of<uint16_t>(d, begin, count, n, out);
    case Dtype::Val::uint32: return positions_of<uint32_t>(d, begin, count, n, out);
    case Dtype::Val::uint64: return positions_of<uint64_t>(d, begin, count, n, out);
    case Dtype::Val::int8: return positions_of<int8_t>(d, begin, count, n, out);
    case Dtype::Val::int16: return positions_of<int16_t>(d, begin, count, n, out);
    case Dtype::Val::int32: return positions_of<int32_t>(d, begin, count, n, out);
    case Dtype::Val::int64: return positions_of<int64_t>(d, begin, count, n, out);
    case Dtype::Val::bool_: case Dtype::Val::float16: case Dtype::Val::float32: case Dtype::Val::float64:
    case Dtype::Val::bfloat16: case Dtype::Val::complex64:
      break;
  }
  throw std::logic_error("[host] indices of " + dtype_name(idx.type.dtype) + " (the type rule takes integers only)");
}

// `nbytes` bytes, with the common element sizes as fixed-size moves.
inline void copy_bytes(char* dst, const char* src, size_t nbytes) {
  switch (nbytes) {
    case 1: std::memcpy(dst, src, 1); return;
    case 2: std::memcpy(dst, src, 2); return;
    case 4: std::memcpy(dst, src, 4); return;
    case 8: std::memcpy(dst, src, 8); return;
    default: std::memcpy(dst, src, nbytes);
  }
}

// x viewed as [outer, n, inner] around `axis`.
void split_at_axis(const Shape& s, int64_t axis, int64_t* outer, int64_t* n, int64_t* inner) {
  *outer = *inner = 1;
  for (int64_t d = 0; d < axis; ++d) *outer *= s[size_t(d)];
  for (size_t d = size_t(axis) + 1; d < s.size(); ++d) *inner *= s[d];
  *n = s[size_t(axis)];
}

[[noreturn]] void empty_axis(const Op& op, const Tensor& x) {
  throw std::invalid_argument(std::string("[") + ir::op_name(op.kind) + "] cannot take from an empty axis of " +
                              ir::type_to_string(x.type));
}

// Output row (o, j) is x's row (o, pos[j]) of `inner` elements. Positions
// are decoded a block at a time on each thread: a whole-array position
// buffer would be fresh memory, and first-touching it can cost more than
// the gather (page faults).
Tensor take(const Op& op, const Tensor& x, const Tensor& idx) {
  Tensor out = fresh(op.type);
  if (op.type.size() == 0) return out;
  int64_t outer, n, inner;
  split_at_axis(x.type.shape, op.int_attr("axis"), &outer, &n, &inner);
  if (n == 0) empty_axis(op, x);
  const int64_t m = idx.type.size();
  int64_t probe;
  positions(idx, 0, 1, n, &probe);  // throws here for a bad dtype, not on a pool thread
  const size_t row = size_t(inner) * op.type.dtype.size();
  const char* src = bytes(x);
  char* dst = bytes(out);
  // The rows are read in index order, which the hardware prefetcher cannot
  // guess: fetch a row kAhead rows early.
  constexpr int64_t kAhead = 16, kBlock = 1024;
  parallel(outer * m, int64_t(row) + 8, [&](int64_t begin, int64_t end) {
    int64_t pos[kBlock];
    for (int64_t r0 = begin; r0 < end;) {
      const int64_t o = r0 / m, j0 = r0 - o * m;
      const int64_t count = std::min({end - r0, m - j0, kBlock});
      positions(idx, j0, count, n, pos);
      const char* base = src + o * n * int64_t(row);
      char* d = dst + r0 * int64_t(row);
      for (int64_t i = 0; i < count; ++i) {
        if (i + kAhead < count) __builtin_prefetch(base + pos[i + kAhead] * int64_t(row));
        copy_bytes(d + i * int64_t(row), base + pos[i] * int64_t(row), row);
      }
      r0 += count;
    }
  });
  return out;
}

// Output element (o, j, i) is x's element (o, pos(o, j, i), i).
Tensor take_along_axis(const Op& op, const Tensor& x, const Tensor& idx) {
  Tensor out = fresh(op.type);
  if (op.type.size() == 0) return out;
  const int64_t axis = op.int_attr("axis");
  int64_t outer, n, inner;
  split_at_axis(x.type.shape, axis, &outer, &n, &inner);
  const int64_t m = idx.type.shape[size_t(axis)];
  if (n == 0) empty_axis(op, x);
  const size_t es = op.type.dtype.size();
  const char* src = bytes(x);
  char* dst = bytes(out);
  int64_t probe;
  positions(idx, 0, 1, n, &probe);  // throws for a non-integer dtype here, not on a pool thread
  parallel(outer * m, inner * int64_t(es + 8), [&](int64_t begin, int64_t end) {
    std::vector<int64_t> pos(size_t((end - begin) * inner));
    positions(idx, begin * inner, (end - begin) * inner, n, pos.data());
    for (int64_t r = begin; r < end; ++r) {
      const int64_t o = r / m;
      const int64_t* p = &pos[size_t((r - begin) * inner)];
      for (int64_t i = 0; i < inner; ++i)
        copy_bytes(dst + (r * inner + i) * int64_t(es), src + ((o * n + p[i]) * inner + i) * int64_t(es), es);
    }
  });
  return out;
}

template <size_t N>
void select_n(const uint8_t* c, const char* a, const char* b, char* o, int64_t begin, int64_t end) {
  for (int64_t i = begin; i < end; ++i) std::memcpy(o + i * int64_t(N), (c[i] ? a : b) + i * int64_t(N), N);
}

Tensor select(const Op& op, const std::vector<Tensor>& in) {
  Tensor out = fresh(op.type);
  const size_t es = op.type.dtype.size();
  const auto* c = reinterpret_cast<const uint8_t*>(bytes(in[0]));
  const char* a = bytes(in[1]);
  const char* b = bytes(in[2]);
  char* o = bytes(out);
  parallel(op.type.size(), int64_t(es + 1), [&](int64_t begin, int64_t end) {
    switch (es) {
      case 1: return select_n<1>(c, a, b, o, begin, end);
      case 2: return select_n<2>(c, a, b, o, begin, end);
      case 4: return select_n<4>(c, a, b, o, begin, end);
      default: return select_n<8>(c, a, b, o, begin, end);  // every dtype is 1, 2, 4 or 8 bytes
    }
  });
  return out;
}

// --- argmax / argmin -------------------------------------------------------------

// The value an element is compared by: exact for every real dtype (16-bit
// floats widen to float exactly; bool is 0 or 1).
template <class T>
struct Key {
  using type = T;
  static T of(const T& v) { return v; }
};
struct Half { uint16_t bits; };
struct BHalf { uint16_t bits; };
struct Bool { uint8_t byte; };
template <> struct Key<Half> { using type = float; static float of(Half h) { return half_to_float(h.bits); } };
template <> struct Key<BHalf> { using type = float; static float of(BHalf h) { return bfloat_to_float(h.bits); } };
template <> struct Key<Bool> { using type = uint8_t; static uint8_t of(Bool b) { return b.byte != 0; } };

// Whether a beats b strictly (ties keep the first index): a nan is the
// extreme, and the first nan wins, as in the interpreter.
template <bool Max, class K>
inline bool beats(K a, K b) {
  if constexpr (std::is_floating_point_v<K>) {
    if (std::isnan(b)) return false;
    if (std::isnan(a)) return true;
  }
  return Max ? a > b : a < b;
}

// The first index of the extreme of n contiguous elements. Blocks of
// kBlock are first summarized by kLanes independent running extremes and
// nan flags (a loop the compiler vectorizes); a block is searched for the
// index only when it holds a nan (the first nan wins) or beats the best so
// far (the first element equal to its extreme).
template <class T, bool Max>
int64_t arg_extreme_contiguous(const T* x, int64_t n) {
  using K = typename Key<T>::type;
  constexpr int kLanes = 8;
  constexpr int64_t kBlock = 1024;
  auto nan = [](K v) {
    if constexpr (std::is_floating_point_v<K>) return v != v;
    else return false;
  };
  auto pick = [](K v, K acc) { return (Max ? v > acc : v < acc) ? v : acc; };
  K best = Key<T>::of(x[0]);
  int64_t best_i = 0;
  if (nan(best)) return 0;
  for (int64_t b0 = 0; b0 < n; b0 += kBlock) {
    const T* blk = x + b0;
    const int64_t w = std::min(kBlock, n - b0);
    K lane[kLanes];
    uint8_t lane_nan[kLanes] = {};
    for (int l = 0; l < kLanes; ++l) lane[l] = Key<T>::of(blk[0]);
    int64_t i = 0;
    for (; i + kLanes <= w; i += kLanes)
      for (int l = 0; l < kLanes; ++l) {
        const K v = Key<T>::of(blk[i + l]);
        lane_nan[l] |= uint8_t(nan(v));
        lane[l] = pick(v, lane[l]);
      }
    for (; i < w; ++i) {
      const K v = Key<T>::of(blk[i]);
      lane_nan[0] |= uint8_t(nan(v));
      lane[0] = pick(v, lane[0]);
    }
    K m = lane[0];
    uint8_t any_nan = lane_nan[0];
    for (int l = 1; l < kLanes; ++l) m = pick(lane[l], m), any_nan |= lane_nan[l];
    if (any_nan) {
      for (int64_t j = 0; j < w; ++j)
        if (nan(Key<T>::of(blk[j]))) return b0 + j;
    }
    if (beats<Max>(m, best)) {
      for (int64_t j = 0; j < w; ++j)
        if (Key<T>::of(blk[j]) == m) {
          best = m, best_i = b0 + j;
          break;
        }
    }
  }
  return best_i;
}

// Over [outer, n, inner]: units are (o, block of up to kBlock inner
// positions); a block keeps its running best values in a small array, so
// the n rows are read contiguously.
template <class T, bool Max>
void arg_reduce_typed(const void* data, uint32_t* out, int64_t outer, int64_t n, int64_t inner) {
  using K = typename Key<T>::type;
  const T* x = static_cast<const T*>(data);
  constexpr int64_t kBlock = 512;
  const int64_t blocks = (inner + kBlock - 1) / kBlock;
  parallel(outer * blocks, n * std::min(inner, kBlock) * int64_t(sizeof(T)), [&](int64_t begin, int64_t end) {
    K best[kBlock];
    for (int64_t u = begin; u < end; ++u) {
      const int64_t o = u / blocks, i0 = (u - o * blocks) * kBlock, w = std::min(kBlock, inner - i0);
      const T* base = x + o * n * inner + i0;
      uint32_t* res = out + o * inner + i0;
      if (inner == 1) {
        res[0] = uint32_t(arg_extreme_contiguous<T, Max>(base, n));
        continue;
      }
      for (int64_t i = 0; i < w; ++i) best[i] = Key<T>::of(base[i]), res[i] = 0;
      for (int64_t j = 1; j < n; ++j) {
        const T* row = base + j * inner;
        for (int64_t i = 0; i < w; ++i) {
          K v = Key<T>::of(row[i]);
          if (beats<Max>(v, best[i])) best[i] = v, res[i] = uint32_t(j);
        }
      }
    }
  });
}

template <bool Max>
void arg_reduce_dtype(Dtype t, const void* x, uint32_t* out, int64_t outer, int64_t n, int64_t inner) {
  switch (t.val) {
    case Dtype::Val::bool_: return arg_reduce_typed<Bool, Max>(x, out, outer, n, inner);
    case Dtype::Val::uint8: return arg_reduce_typed<uint8_t, Max>(x, out, outer, n, inner);
    case Dtype::Val::uint16: return arg_reduce_typed<uint16_t, Max>(x, out, outer, n, inner);
    case Dtype::Val::uint32: return arg_reduce_typed<uint32_t, Max>(x, out, outer, n, inner);
    case Dtype::Val::uint64: return arg_reduce_typed<uint64_t, Max>(x, out, outer, n, inner);
    case Dtype::Val::int8: return arg_reduce_typed<int8_t, Max>(x, out, outer, n, inner);
    case Dtype::Val::int16: return arg_reduce_typed<int16_t, Max>(x, out, outer, n, inner);
    case Dtype::Val::int32: return arg_reduce_typed<int32_t, Max>(x, out, outer, n, inner);
    case Dtype::Val::int64: return arg_reduce_typed<int64_t, Max>(x, out, outer, n, inner);
    case Dtype::Val::float16: return arg_reduce_typed<Half, Max>(x, out, outer, n, inner);
    case Dtype::Val::bfloat16: return arg_reduce_typed<BHalf, Max>(x, out, outer, n, inner);
    case Dtype::Val::float32: return arg_reduce_typed<float, Max>(x, out, outer, n, inner);
    case Dtype::Val::float64: return arg_reduce_typed<double, Max>(x, out, outer, n, inner);
    case Dtype::Val::complex64: break;
  }
  throw std::logic_error("[host] argmax/argmin of " + dtype_name(t) + " (the type rule takes real types only)");
}

Tensor arg_reduce(const Op& op, const Tensor& x) {
  int64_t outer, n, inner;
  split_at_axis(x.type.shape, op.int_attr("axis"), &outer, &n, &inner);
  Tensor out = fresh(op.type);
  auto* res = reinterpret_cast<uint32_t*>(bytes(out));
  if (n == 0) {  // an empty axis: index 0, as the interpreter
    std::fill(res, res + op.type.size(), 0u);
    return out;
  }
  if (op.kind == OpKind::Argmax) arg_reduce_dtype<true>(x.type.dtype, x.buffer->data(), res, outer, n, inner);
  else arg_reduce_dtype<false>(x.type.dtype, x.buffer->data(), res, outer, n, inner);
  return out;
}

// --- complex arithmetic -----------------------------------------------------------

using c64 = std::complex<float>;
inline cplx widen(c64 v) { return {v.real(), v.imag()}; }
inline c64 narrow(cplx v) { return {float(v.real()), float(v.imag())}; }

// out[i] = f(x[i]) in complex<double>, with Out the stored element type.
template <class Out, class F>
Tensor complex_map(const Op& op, const Tensor& x, F f) {
  Tensor out = fresh(op.type);
  const c64* a = reinterpret_cast<const c64*>(bytes(x));
  Out* o = reinterpret_cast<Out*>(bytes(out));
  parallel(op.type.size(), 64, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) o[i] = f(widen(a[i]));
  });
  return out;
}

template <class Out, class F>
Tensor complex_map2(const Op& op, const Tensor& x, const Tensor& y, F f) {
  Tensor out = fresh(op.type);
  const c64* a = reinterpret_cast<const c64*>(bytes(x));
  const c64* b = reinterpret_cast<const c64*>(bytes(y));
  Out* o = reinterpret_cast<Out*>(bytes(out));
  parallel(op.type.size(), 64, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) o[i] = f(widen(a[i]), widen(b[i]));
  });
  return out;
}

Tensor complex_unary(const Op& op, const Tensor& x) {
  switch (op.kind) {
    case OpKind::Abs: return complex_map<float>(op, x, [](cplx v) { return float(std::abs(v)); });
    case OpKind::Negative: return complex_map<c64>(op, x, [](cplx v) { return narrow(-v); });
    case OpKind::Sign:
      return complex_map<c64>(op, x, [](cplx v) { return narrow(v == cplx(0, 0) ? cplx(0, 0) : v / std::abs(v)); });
    case OpKind::Square: return complex_map<c64>(op, x, [](cplx v) { return narrow(v * v); });
    case OpKind::Sqrt: return complex_map<c64>(op, x, [](cplx v) { return narrow(std::sqrt(v)); });
    case OpKind::Rsqrt: return complex_map<c64>(op, x, [](cplx v) { return narrow(1.0 / std::sqrt(v)); });
    case OpKind::Exp: return complex_map<c64>(op, x, [](cplx v) { return narrow(std::exp(v)); });
    case OpKind::Log: return complex_map<c64>(op, x, [](cplx v) { return narrow(std::log(v)); });
    case OpKind::Sin: return complex_map<c64>(op, x, [](cplx v) { return narrow(std::sin(v)); });
    case OpKind::Cos: return complex_map<c64>(op, x, [](cplx v) { return narrow(std::cos(v)); });
    case OpKind::Tan: return complex_map<c64>(op, x, [](cplx v) { return narrow(std::tan(v)); });
    case OpKind::Sinh: return complex_map<c64>(op, x, [](cplx v) { return narrow(std::sinh(v)); });
    case OpKind::Cosh: return complex_map<c64>(op, x, [](cplx v) { return narrow(std::cosh(v)); });
    case OpKind::Tanh: return complex_map<c64>(op, x, [](cplx v) { return narrow(std::tanh(v)); });
    default: break;  // the type rule refuses complex operands for the rest
  }
  not_on_host(op, complex64);
}

// a ** b as the interpreter computes it: exact repeated squaring for small
// integral real exponents (as NumPy: (1+1j)**2 is exactly 2j), else
// std::pow; 0 ** b is 0 for a positive real b and nan otherwise.
cplx complex_power(cplx a, cplx b) {
  constexpr double nan = std::numeric_limits<double>::quiet_NaN();
  if (b == cplx(0, 0)) return {1, 0};
  if (a == cplx(0, 0)) return b.imag() == 0 && b.real() > 0 ? cplx(0, 0) : cplx(nan, nan);
  if (b.imag() == 0 && b.real() == std::trunc(b.real()) && std::fabs(b.real()) <= 100) {
    const int64_t e = int64_t(b.real());
    uint64_t bits = uint64_t(e < 0 ? -e : e);
    cplx r(1, 0), p = a;
    for (; bits; bits >>= 1) {
      if (bits & 1) r *= p;
      p *= p;
    }
    return e < 0 ? cplx(1, 0) / r : r;
  }
  return std::pow(a, b);
}

Tensor complex_binary(const Op& op, const Tensor& x, const Tensor& y) {
  switch (op.kind) {
    case OpKind::Add: return complex_map2<c64>(op, x, y, [](cplx a, cplx b) { return narrow(a + b); });
    case OpKind::Subtract: return complex_map2<c64>(op, x, y, [](cplx a, cplx b) { return narrow(a - b); });
    case OpKind::Multiply: return complex_map2<c64>(op, x, y, [](cplx a, cplx b) { return narrow(a * b); });
    case OpKind::Divide: return complex_map2<c64>(op, x, y, [](cplx a, cplx b) { return narrow(a / b); });
    case OpKind::Power:
      return complex_map2<c64>(op, x, y, [](cplx a, cplx b) { return narrow(complex_power(a, b)); });
    case OpKind::Equal: return complex_map2<uint8_t>(op, x, y, [](cplx a, cplx b) { return uint8_t(a == b); });
    case OpKind::NotEqual: return complex_map2<uint8_t>(op, x, y, [](cplx a, cplx b) { return uint8_t(a != b); });
    default: break;  // the type rule refuses complex operands for the rest
  }
  not_on_host(op, complex64);
}

// Sum or product over `axes`. Each output accumulates its inputs in
// increasing (row-major) order from the exact identity, as the
// interpreter's single pass over the input does.
Tensor complex_reduce(const Op& op, const Tensor& x) {
  const auto& axes = op.ints_attr("axes");
  const Shape& s = x.type.shape;
  const Strides xs = ir::row_major_strides(s);
  Shape kept_shape, red_shape;
  Strides kept_st, red_st;
  for (size_t d = 0; d < s.size(); ++d) {
    const bool reduced = std::find(axes.begin(), axes.end(), int64_t(d)) != axes.end();
    (reduced ? red_shape : kept_shape).push_back(s[d]);
    (reduced ? red_st : kept_st).push_back(xs[d]);
  }
  const bool sum = op.kind == OpKind::Sum, empty = x.type.size() == 0;
  const cplx identity = sum ? cplx(-0.0, -0.0) : cplx(1, 0);  // -0 + x == x exactly
  const int64_t count = ir::shape_size(red_shape);
  Tensor out = fresh(op.type);
  const c64* in = reinterpret_cast<const c64*>(bytes(x));
  c64* o = reinterpret_cast<c64*>(bytes(out));
  parallel(op.type.size(), count * 8, [&](int64_t begin, int64_t end) {
    Strides idx(red_shape.size());
    for (int64_t r = begin; r < end; ++r) {
      int64_t base = 0, rest = r;
      for (size_t k = kept_shape.size(); k-- > 0;) {
        base += (rest % kept_shape[k]) * kept_st[k];
        rest /= kept_shape[k];
      }
      cplx acc = identity;
      std::fill(idx.begin(), idx.end(), 0);
      int64_t off = base;
      for (int64_t c = 0; c < count; ++c) {
        acc = sum ? acc + widen(in[off]) : acc * widen(in[off]);
        for (size_t k = red_shape.size(); k-- > 0;) {
          off += red_st[k];
          if (++idx[k] < red_shape[k]) break;
          off -= red_st[k] * red_shape[k];
          idx[k] = 0;
        }
      }
      o[r] = empty && sum ? c64(0, 0) : narrow(acc);  // an empty sum is +0
    }
  });
  return out;
}

// --- integer power ------------------------------------------------------------------

uint64_t upow(uint64_t base, uint64_t e) {
  uint64_t r = 1;
  for (; e; e >>= 1) {
    if (e & 1) r *= base;
    base *= base;
  }
  return r;
}

// In 64-bit wrapping arithmetic, then wrapped to T. A negative exponent
// gives 1 / a truncated: 1 for a == 1, +-1 for a == -1, else 0.
template <class T>
void int_power_typed(const void* x, const void* y, void* out, int64_t n) {
  const T* a = static_cast<const T*>(x);
  const T* b = static_cast<const T*>(y);
  T* o = static_cast<T*>(out);
  parallel(n, 16 * int64_t(sizeof(T)), [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      if constexpr (std::is_signed_v<T>) {
        const int64_t v = a[i], e = b[i];
        if (e < 0) o[i] = T(v == 1 ? 1 : v == -1 ? ((e & 1) ? -1 : 1) : 0);
        else o[i] = T(upow(uint64_t(v), uint64_t(e)));
      } else {
        o[i] = T(upow(uint64_t(a[i]), uint64_t(b[i])));
      }
    }
  });
}

Tensor int_power(const Op& op, const Tensor& x, const Tensor& y) {
  Tensor out = fresh(op.type);
  const void *a = x.buffer->data(), *b = y.buffer->data();
  void* o = out.buffer->data();
  const int64_t n = op.type.size();
  switch (op.type.dtype.val) {
    case Dtype::Val::uint8: int_power_typed<uint8_t>(a, b, o, n); return out;
    case Dtype::Val::uint16: int_power_typed<uint16_t>(a, b, o, n); return out;
    case Dtype::Val::uint32: int_power_typed<uint32_t>(a, b, o, n); return out;
    case Dtype::Val::uint64: int_power_typed<uint64_t>(a, b, o, n); return out;
    case Dtype::Val::int8: int_power_typed<int8_t>(a, b, o, n); return out;
    case Dtype::Val::int16: int_power_typed<int16_t>(a, b, o, n); return out;
    case Dtype::Val::int32: int_power_typed<int32_t>(a, b, o, n); return out;
    case Dtype::Val::int64: int_power_typed<int64_t>(a, b, o, n); return out;
    case Dtype::Val::bool_: case Dtype::Val::float16: case Dtype::Val::float32: case Dtype::Val::float64:
    case Dtype::Val::bfloat16: case Dtype::Val::complex64:
      break;
  }
  not_on_host(op, op.type.dtype);
}

// --- casts ----------------------------------------------------------------------------

// Element by element through ir/element.h's converters, which define every
// pair (float64 -> float16/bfloat16 rounds once, through a float rounded to
// odd; complex -> real takes the real part; anything -> bool is != 0).
Tensor cast(const Op& op, const Tensor& x) {
  if (x.type.dtype == op.type.dtype) return {op.type, x.buffer};
  Tensor out = fresh(op.type);
  const Dtype from = x.type.dtype, to = op.type.dtype;
  const void* src = x.buffer->data();
  void* dst = out.buffer->data();
  if (from == float64 && (to == float16 || to == bfloat16)) {
    const double* s = static_cast<const double*>(src);
    parallel(op.type.size(), 32, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) store_f64(to, dst, i, s[i]);
    });
    return out;
  }
  parallel(op.type.size(), 32, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) convert_element(from, src, i, to, dst, i);
  });
  return out;
}

// --- matmul -----------------------------------------------------------------------------

// Two doubles in one SSE register; its + and * are the scalar IEEE
// operations lane by lane, so the rounding is the scalar loop's.
typedef double v2d __attribute__((vector_size(16)));

// C[R x 2V] = A[R x k] B[k x 2V] (leading dimensions lda, ldb, ldc), each
// element accumulated from +0 in order of k: the interpreter's order, so
// the sums are bit for bit its own. The R * V independent accumulators stay
// in registers and each loaded row of B serves R rows of A.
template <int R, int V>
void matmul_block(const double* A, int64_t lda, const double* B, int64_t ldb, int64_t k, double* C, int64_t ldc) {
  v2d acc[R][V] = {};
  for (int64_t q = 0; q < k; ++q) {
    v2d b[V];
    std::memcpy(b, B + q * ldb, sizeof b);
    for (int r = 0; r < R; ++r) {
      const double x = A[r * lda + q];
      const v2d xx = {x, x};
      for (int c = 0; c < V; ++c) acc[r][c] += xx * b[c];
    }
  }
  for (int r = 0; r < R; ++r) std::memcpy(C + r * ldc, acc[r], sizeof acc[r]);
}

// One output column, the same order.
template <int R>
void matmul_column(const double* A, int64_t lda, const double* B, int64_t ldb, int64_t k, double* C, int64_t ldc) {
  double acc[R] = {};
  for (int64_t q = 0; q < k; ++q)
    for (int r = 0; r < R; ++r) acc[r] += A[r * lda + q] * B[q * ldb];
  for (int r = 0; r < R; ++r) C[r * ldc] = acc[r];
}

// R rows of n outputs of one batch entry: blocks of 4 columns, then the edge.
template <int R>
void matmul_rows(const double* A, const double* B, int64_t k, int64_t n, double* C) {
  int64_t j = 0;
  for (; j + 4 <= n; j += 4) matmul_block<R, 2>(A, k, B + j, n, k, C + j, n);
  for (; j < n; ++j) matmul_column<R>(A, k, B + j, n, k, C + j, n);
}

// [..., m, k] x [..., k, n] in double, as the interpreter: each output
// element is the sum over k, in order, of products of a's and b's entries
// widened to double, rounded once to the result dtype. (float32 and
// float64 run on BLAS; the type rule leaves float16 and bfloat16 here.)
Tensor matmul(const Op& op, const Tensor& a, const Tensor& b) {
  const Shape& as = a.type.shape;
  const size_t r = as.size();
  const int64_t m = as[r - 2], k = as[r - 1], n = b.type.shape[r - 1];
  int64_t batch = 1;
  for (size_t d = 0; d + 2 < r; ++d) batch *= as[d];
  const Dtype t = op.type.dtype;
  auto widened = [&](const Tensor& x) {
    std::vector<double> v(static_cast<size_t>(x.type.size()));
    parallel(x.type.size(), 16, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) v[size_t(i)] = load_f64(t, x.buffer->data(), i);
    });
    return v;
  };
  const std::vector<double> av = widened(a), bv = widened(b);
  Tensor out = fresh(op.type);
  void* o = out.buffer->data();
  constexpr int64_t kRows = 4;
  const int64_t tiles = (m + kRows - 1) / kRows;  // per batch entry
  parallel(batch * tiles, kRows * k * n * 8, [&](int64_t begin, int64_t end) {
    std::vector<double> c(static_cast<size_t>(kRows * n));
    for (int64_t u = begin; u < end; ++u) {
      const int64_t p = u / tiles, i0 = (u - p * tiles) * kRows, rows = std::min(kRows, m - i0);
      const double* A = av.data() + (p * m + i0) * k;
      const double* B = bv.data() + p * k * n;
      if (rows == kRows) matmul_rows<kRows>(A, B, k, n, c.data());
      else
        for (int64_t i = 0; i < rows; ++i) matmul_rows<1>(A + i * k, B, k, n, c.data() + i * n);
      for (int64_t e = 0; e < rows * n; ++e) store_f64(t, o, (p * m + i0) * n + e, c[size_t(e)]);
    }
  });
  return out;
}

// --- by category --------------------------------------------------------------------------

// --- scatter -------------------------------------------------------------------

using ir::ScatterReduce;

// One combining step in the interpreter's arithmetic: integers wrap,
// float max/min keep the first operand on ties and propagate nan
// (fold_float), 16-bit floats compute in float and round once, complex
// values in complex<double>.
template <class T>
inline T combine(ScatterReduce r, T x, T v) {
  if constexpr (std::is_integral_v<T>) {
    switch (r) {
      case ScatterReduce::Add: return T(uint64_t(x) + uint64_t(v));
      case ScatterReduce::Prod: return T(uint64_t(x) * uint64_t(v));
      case ScatterReduce::Max: return std::max(x, v);
      case ScatterReduce::Min: return std::min(x, v);
      case ScatterReduce::Assign: break;
    }
  } else {
    switch (r) {
      case ScatterReduce::Add: return x + v;
      case ScatterReduce::Prod: return x * v;
      case ScatterReduce::Max: return std::isnan(x) || x >= v ? x : v;
      case ScatterReduce::Min: return std::isnan(x) || x <= v ? x : v;
      case ScatterReduce::Assign: break;
    }
  }
  return v;
}

// Combines n updates into n destination elements.
template <class T>
void combine_row(ScatterReduce r, char* dst, const char* src, int64_t n) {
  T* d = reinterpret_cast<T*>(dst);
  const T* s = reinterpret_cast<const T*>(src);
  for (int64_t i = 0; i < n; ++i) d[i] = combine(r, d[i], s[i]);
}
template <uint16_t (*Narrow)(float), float (*Widen)(uint16_t)>
void combine_row16(ScatterReduce r, char* dst, const char* src, int64_t n) {
  uint16_t* d = reinterpret_cast<uint16_t*>(dst);
  const uint16_t* s = reinterpret_cast<const uint16_t*>(src);
  for (int64_t i = 0; i < n; ++i) d[i] = Narrow(combine(r, Widen(d[i]), Widen(s[i])));
}
void combine_row_c64(ScatterReduce r, char* dst, const char* src, int64_t n) {
  c64* d = reinterpret_cast<c64*>(dst);
  const c64* s = reinterpret_cast<const c64*>(src);
  for (int64_t i = 0; i < n; ++i) {
    cplx x = widen(d[i]), v = widen(s[i]);
    d[i] = narrow(r == ScatterReduce::Add ? x + v : x * v);
  }
}
float widen_bfloat(uint16_t b) { return bfloat_to_float(b); }

using CombineRow = void (*)(ScatterReduce, char*, const char*, int64_t);
CombineRow combine_row_for(Dtype t) {
  switch (t.val) {
    case Dtype::Val::uint8: return combine_row<uint8_t>;
    case Dtype::Val::uint16: return combine_row<uint16_t>;
    case Dtype::Val::uint32: return combine_row<uint32_t>;
    case Dtype::Val::uint64: return combine_row<uint64_t>;
    case Dtype::Val::int8: return combine_row<int8_t>;
    case Dtype::Val::int16: return combine_row<int16_t>;
    case Dtype::Val::int32: return combine_row<int32_t>;
    case Dtype::Val::int64: return combine_row<int64_t>;
    case Dtype::Val::float16: return combine_row16<float_to_half, half_to_float>;
    case Dtype::Val::bfloat16: return combine_row16<float_to_bfloat, widen_bfloat>;
    case Dtype::Val::float32: return combine_row<float>;
    case Dtype::Val::float64: return combine_row<double>;
    case Dtype::Val::complex64: return combine_row_c64;
    case Dtype::Val::bool_: break;
  }
  throw std::logic_error("[host] scatter reducing " + dtype_name(t) + " (the type rule takes numeric types only)");
}

// Scalar rows (inner == 1) of a native type: a block of updates combined by
// one typed loop (no call and no switch per update). Updates that belong to
// another thread's rows [lo, hi) go to a throwaway slot instead of being
// skipped by a branch: with random indices that branch would mispredict on
// every other update. dest[i] + base is update i's row.
template <class T>
void combine_scalars(ScatterReduce r, char* dst, const int64_t* dest, int64_t base, const char* src, int64_t count,
                     int64_t lo, int64_t hi) {
  T* d = reinterpret_cast<T*>(dst);
  const T* s = reinterpret_cast<const T*>(src);
  T sink[16] = {};
  auto loop = [&](auto reduce) {
    constexpr ScatterReduce R = decltype(reduce)::value;
    for (int64_t i = 0; i < count; ++i) {
      const int64_t row = dest[i] + base;
      T* p = row >= lo && row < hi ? d + row : sink + (i & 15);
      if constexpr (R == ScatterReduce::Assign) *p = s[i];
      else *p = combine(R, *p, s[i]);
    }
  };
  using R = ScatterReduce;
  switch (r) {
    case R::Add: return loop(std::integral_constant<R, R::Add>());
    case R::Prod: return loop(std::integral_constant<R, R::Prod>());
    case R::Max: return loop(std::integral_constant<R, R::Max>());
    case R::Min: return loop(std::integral_constant<R, R::Min>());
    case R::Assign: return loop(std::integral_constant<R, R::Assign>());
  }
}

using CombineScalars = void (*)(ScatterReduce, char*, const int64_t*, int64_t, const char*, int64_t, int64_t, int64_t);
// nullptr for the dtypes that take the row-by-row path (16-bit floats,
// complex64, bool).
CombineScalars combine_scalars_for(Dtype t) {
  switch (t.val) {
    case Dtype::Val::uint8: return combine_scalars<uint8_t>;
    case Dtype::Val::uint16: return combine_scalars<uint16_t>;
    case Dtype::Val::uint32: return combine_scalars<uint32_t>;
    case Dtype::Val::uint64: return combine_scalars<uint64_t>;
    case Dtype::Val::int8: return combine_scalars<int8_t>;
    case Dtype::Val::int16: return combine_scalars<int16_t>;
    case Dtype::Val::int32: return combine_scalars<int32_t>;
    case Dtype::Val::int64: return combine_scalars<int64_t>;
    case Dtype::Val::float32: return combine_scalars<float>;
    case Dtype::Val::float64: return combine_scalars<double>;
    case Dtype::Val::float16: case Dtype::Val::bfloat16: case Dtype::Val::complex64: case Dtype::Val::bool_:
      break;
  }
  return nullptr;
}

// The transpose of take: update row (o, j) combines into row (o, pos[j]) of
// a copy of a. Each thread owns a range of destination rows and applies,
// in update order, the updates that land there, so colliding updates
// combine in the interpreter's order and the result is deterministic.
Tensor scatter(const Op& op, const Tensor& a, const Tensor& idx, const Tensor& upd) {
  Tensor out = fresh(op.type);
  const int64_t nbytes = a.type.nbytes();
  char* dst = bytes(out);
  parallel(nbytes, 1, [&](int64_t b, int64_t e) { std::memcpy(dst + b, bytes(a) + b, size_t(e - b)); });
  if (upd.type.size() == 0) return out;
  int64_t outer, n, inner;
  split_at_axis(a.type.shape, op.int_attr("axis"), &outer, &n, &inner);
  if (n == 0)
    throw std::invalid_argument("[scatter] cannot scatter into an empty axis of " + ir::type_to_string(a.type));
  const auto r = ScatterReduce(op.int_attr("reduce"));
  const CombineRow apply = r == ScatterReduce::Assign ? nullptr : combine_row_for(op.type.dtype);
  const int64_t m = idx.type.size();
  int64_t probe;
  positions(idx, 0, 1, n, &probe);  // throws here for a bad dtype, not on a pool thread
  const size_t row = size_t(inner) * op.type.dtype.size();
  const char* src = bytes(upd);
  const int64_t rows = outer * n;
  const int64_t work = outer * m * int64_t(row + 8);
  const int64_t chunks =
      std::min<int64_t>(rows, work < kGrainBytes ? 1 : runtime::ThreadPool::global().size());
  const CombineScalars scalars = inner == 1 ? combine_scalars_for(op.type.dtype) : nullptr;
  // Positions are decoded a block at a time (a whole-array buffer would be
  // fresh memory whose page faults can cost more than the scatter).
  constexpr int64_t kBlock = 1024;
  auto run = [&](int64_t c0, int64_t c1) {
    int64_t pos[kBlock];
    for (int64_t c = c0; c < c1; ++c) {
      const int64_t lo = rows * c / chunks, hi = rows * (c + 1) / chunks;
      for (int64_t o = lo / n; o <= (hi - 1) / n; ++o)
        for (int64_t j0 = 0; j0 < m; j0 += kBlock) {
          const int64_t count = std::min(kBlock, m - j0);
          positions(idx, j0, count, n, pos);
          if (scalars) {
            scalars(r, dst, pos, o * n, src + (o * m + j0) * int64_t(row), count, lo, hi);
            continue;
          }
          for (int64_t jj = 0; jj < count; ++jj) {
            const int64_t d = o * n + pos[jj];
            if (d < lo || d >= hi) continue;
            const char* u = src + (o * m + j0 + jj) * int64_t(row);
            if (apply) apply(r, dst + d * int64_t(row), u, inner);
            else copy_bytes(dst + d * int64_t(row), u, row);
          }
        }
    }
  };
  if (chunks <= 1) run(0, 1);
  else runtime::ThreadPool::global().parallel_for(chunks, 1, run);
  return out;
}

Tensor unary(const Op& op, const Tensor& x) {
  if (op.kind == OpKind::StopGradient) return {op.type, x.buffer};
  if (op.kind == OpKind::Cast) return cast(op, x);
  if (is_complex(x.type.dtype)) return complex_unary(op, x);
  not_on_host(op, x.type.dtype);
}

Tensor binary(const Op& op, const Tensor& x, const Tensor& y) {
  const Dtype t = x.type.dtype;
  if (is_complex(t)) return complex_binary(op, x, y);
  if (op.kind == OpKind::Power && is_integral(t)) return int_power(op, x, y);
  not_on_host(op, t);
}

Tensor reduce(const Op& op, const Tensor& x) {
  if (op.ints_attr("axes").empty()) return {op.type, x.buffer};
  if (is_complex(x.type.dtype) && (op.kind == OpKind::Sum || op.kind == OpKind::Prod)) return complex_reduce(op, x);
  not_on_host(op, x.type.dtype);
}

// A linalg op (ir/linalg.h): LAPACK on each matrix of the batch in the
// operand's precision, the batch split over the thread pool, giving every
// output of the factorization (LAPACK computes them together). A failed
// factorization (singular, not positive definite) throws after the batch,
// naming the first failure's info.
std::vector<Tensor> linalg_outputs(const Op& op, const Tensor& a) {
  const ir::LinalgKind kind = ir::linalg_kind(op);
  const bool upper = op.int_attr("upper") != 0;
  const Shape& s = a.type.shape;
  const int64_t m = s[s.size() - 2], n = s[s.size() - 1];
  const int64_t batch = ir::shape_size(Shape(s.begin(), s.end() - 2));
  const int nout = runtime::linalg_num_outputs(kind);
  std::vector<Tensor> outs;
  std::vector<int64_t> out_bytes;  // of one matrix's output i
  std::string problem;
  for (int i = 0; i < nout; ++i) {
    outs.push_back(fresh(ir::linalg_output_type(kind, i, a.type, &problem)));
    out_bytes.push_back(batch == 0 ? 0 : outs.back().type.nbytes() / batch);
  }
  if (batch == 0) return outs;
  const int64_t in_bytes = m * n * int64_t(a.type.dtype.size());
  const bool f64 = a.type.dtype == float64;
  std::atomic<int> failure{0};
  const char* src = bytes(a);
  parallel(batch, in_bytes * std::max<int64_t>(1, std::max(m, n)), [&](int64_t b0, int64_t b1) {
    std::vector<void*> ptrs(static_cast<size_t>(nout));
    for (int64_t b = b0; b < b1; ++b) {
      for (int i = 0; i < nout; ++i) ptrs[size_t(i)] = bytes(outs[size_t(i)]) + b * out_bytes[size_t(i)];
      int info = runtime::linalg_factor(kind, upper, f64, src + b * in_bytes, m, n, ptrs.data());
      int none = 0;
      if (info != 0) failure.compare_exchange_strong(none, info);
    }
  });
  if (failure.load() != 0) throw std::runtime_error(ir::linalg_failure(kind, failure.load()));
  return outs;
}

Tensor linalg(const Op& op, const Tensor& a) {
  return linalg_outputs(op, a)[size_t(op.int_attr("output"))];
}

}  // namespace

Tensor run_host_op(const Op& op, const std::vector<Tensor>& in) {
  switch (op.kind) {
    case OpKind::Constant:
      throw std::logic_error("[host] constant: constants are bound before the steps run, never a host step");
    case OpKind::Custom:
      throw std::logic_error("[host] custom: custom ops are inlined before planning, never a host step");
    KILN_UNARY_OPS(KILN_OP_CASE)
      return unary(op, in[0]);
    KILN_BINARY_OPS(KILN_OP_CASE)
    KILN_COMPARISON_OPS(KILN_OP_CASE)
      return binary(op, in[0], in[1]);
    KILN_REDUCTION_OPS(KILN_OP_CASE)
      return reduce(op, in[0]);
    case OpKind::Select: return select(op, in);
    case OpKind::Argmax: case OpKind::Argmin: return arg_reduce(op, in[0]);
    case OpKind::Reshape: return {op.type, in[0].buffer};  // row-major either way: no byte changes
    case OpKind::Bitcast: return {op.type, in[0].buffer};  // the same bytes, read as another dtype
    case OpKind::Transpose: return transpose(op, in[0]);
    case OpKind::Broadcast: return broadcast(op, in[0]);
    case OpKind::Slice: return slice(op, in[0]);
    case OpKind::SliceUpdate: return slice_update(op, in[0], in[1]);
    case OpKind::Concatenate: return concatenate(op, in);
    case OpKind::Pad: return pad(op, in[0], in[1]);
    case OpKind::Take: return take(op, in[0], in[1]);
    case OpKind::TakeAlongAxis: return take_along_axis(op, in[0], in[1]);
    case OpKind::Scatter: return scatter(op, in[0], in[1], in[2]);
    case OpKind::Matmul: return matmul(op, in[0], in[1]);
    KILN_SCAN_OPS(KILN_OP_CASE) return run_host_scan(op, in[0]);
    KILN_SORT_OPS(KILN_OP_CASE) return run_host_sort(op, in[0]);
    case OpKind::Linalg: return linalg(op, in[0]);
    case OpKind::FFT: return fft_host(op, in[0]);
    case OpKind::QuantizedMatmul: return quantized_matmul_host(op, in);
  }
  throw std::logic_error("[host] not a valid op kind");
}

std::vector<Tensor> run_linalg_outputs(const Op& op, const Tensor& a) { return linalg_outputs(op, a); }

}  // namespace kiln::codegen
